/*
 * test_record.c - migration records on disk: where and how they are
 * written, the phases in the order they ran, failures, and reading them
 * back (oldest first, corrupt files skipped with a warning).
 */
#include "unit.h"

#include <dirent.h>
#include <sys/wait.h>

#include "json.h"
#include "record.h"

struct fx {
	char *cfg;
	struct migration m;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	f->cfg = unit_mkdtemp();
	dm_clear_error();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	record_release(&f->m);
	unit_rmtree(f->cfg);
	free(f);
	return 0;
}

static void begin(struct fx *f, struct migration *m, const char *object)
{
	if (record_begin(m, f->cfg, "container", object, "unix:///src.sock",
			 "root@node2", "save") < 0)
		fail_msg("record_begin: %s", dm_errmsg());
}

/* The record's file, parsed. */
static yajl_val on_disk(const struct migration *m)
{
	char *text = unit_slurp(m->path);
	yajl_val v;

	assert_non_null(text);
	v = json_parse(text, strlen(text), m->path);
	if (!v)
		fail_msg("%s", dm_errmsg());
	free(text);
	return v;
}

static void assert_mode(const char *path, mode_t want)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	if ((st.st_mode & 07777) != want)
		fail_msg("%s has mode %04o, want %04o", path,
			 (unsigned)(st.st_mode & 07777), (unsigned)want);
}

/* Run fn with stderr going to a string; returns what was written. */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	char *text;
	long len;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	fn(arg);
	fflush(stderr);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
	len = (long)lseek(fileno(tmp), 0, SEEK_END);
	assert_true(len >= 0);
	text = xcalloc(1, (size_t)len + 1);
	assert_int_equal(pread(fileno(tmp), text, (size_t)len, 0), len);
	fclose(tmp);
	return text;
}

/* ------------------------------------------------------------------ */

static void begin_writes_a_private_file_in_a_private_directory(void **state)
{
	struct fx *f = *state;
	char *dir = xasprintf("%s/migrate/history", f->cfg);
	char *want;

	begin(f, &f->m, "web");
	assert_int_equal(strlen(f->m.id), 16);
	assert_int_equal(strspn(f->m.id, "0123456789abcdef"), 16);
	want = xasprintf("%s/%s.json", dir, f->m.id);
	assert_string_equal(f->m.path, want);
	assert_mode(f->m.path, 0600);
	assert_mode(dir, 0700);
	free(want);
	free(dir);
}

static void begin_leaves_no_temporary_file(void **state)
{
	struct fx *f = *state;
	char *dir = xasprintf("%s/migrate/history", f->cfg);
	DIR *d;
	struct dirent *de;
	int files = 0;

	begin(f, &f->m, "web");
	record_set_status(&f->m, "running");
	assert_int_equal(f->m.finished, 0);	/* still going */
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		assert_not_contains(de->d_name, ".tmp");
		files++;
	}
	closedir(d);
	assert_int_equal(files, 1);
	free(dir);
}

static void begin_file_says_pending_with_all_fields(void **state)
{
	struct fx *f = *state;
	yajl_val v;

	begin(f, &f->m, "web");
	v = on_disk(&f->m);
	assert_string_equal(json_str(v, "id", NULL), f->m.id);
	assert_string_equal(json_str(v, "status", NULL), "pending");
	assert_string_equal(json_str(v, "kind", NULL), "container");
	assert_string_equal(json_str(v, "object", NULL), "web");
	assert_string_equal(json_str(v, "source", NULL), "unix:///src.sock");
	assert_string_equal(json_str(v, "destination", NULL), "root@node2");
	assert_string_equal(json_str(v, "strategy", NULL), "save");
	assert_true(json_int(v, 0, "started", NULL) > 1600000000);
	assert_int_equal(json_int(v, 0, "downtime_ms", NULL), -1);
	assert_int_equal(json_alen(json_get(v, "phases", NULL)), 0);
	assert_true(YAJL_IS_NULL(json_get(v, "error", NULL)));
	yajl_tree_free(v);
}

static void begin_fails_when_the_directory_cannot_be_made(void **state)
{
	struct fx *f = *state;

	/* "migrate" is a file: no directory can be made under it */
	free(unit_write(f->cfg, "migrate", "not a directory"));
	assert_int_equal(record_begin(&f->m, f->cfg, "image", "x", "a", "b",
				      "save"), -1);
	assert_contains(dm_errmsg(), "migrate/history");
	assert_null(f->m.path);
}

static void phases_are_recorded_in_order(void **state)
{
	struct fx *f = *state;
	yajl_val v, ph;

	begin(f, &f->m, "web");
	record_phase_begin(&f->m, "check");
	record_phase_begin(&f->m, "transfer");	/* ends "check" */
	record_phase_begin(&f->m, "create");
	record_phase_end(&f->m);
	record_phase_end(&f->m);		/* nothing open: no-op */
	assert_int_equal(f->m.nphases, 3);
	assert_string_equal(f->m.phases[0].name, "check");
	assert_string_equal(f->m.phases[1].name, "transfer");
	assert_string_equal(f->m.phases[2].name, "create");
	for (int i = 0; i < 3; i++)
		assert_true(f->m.phases[i].ms >= 0);
	record_set_status(&f->m, "completed");
	v = on_disk(&f->m);
	ph = json_get(v, "phases", NULL);
	assert_int_equal(json_alen(ph), 3);
	assert_string_equal(json_str(ph->u.array.values[0], "name", NULL),
			    "check");
	assert_string_equal(json_str(ph->u.array.values[1], "name", NULL),
			    "transfer");
	assert_string_equal(json_str(ph->u.array.values[2], "name", NULL),
			    "create");
	assert_string_equal(json_str(v, "status", NULL), "completed");
	assert_true(json_int(v, 0, "finished", NULL) >=
		    json_int(v, 0, "started", NULL));
	yajl_tree_free(v);
}

static void total_is_the_sum_of_the_phases(void **state)
{
	struct fx *f = *state;

	begin(f, &f->m, "web");
	f->m.phases[0] = (struct phase){ "check", 250 };
	f->m.phases[1] = (struct phase){ "transfer", 12000 };
	f->m.nphases = 2;
	assert_int_equal(record_total_ms(&f->m), 12250);
}

static void fail_names_the_open_phase(void **state)
{
	struct fx *f = *state;
	yajl_val v;

	begin(f, &f->m, "web");
	record_phase_begin(&f->m, "check");
	record_phase_begin(&f->m, "transfer");
	record_fail(&f->m, "rolled-back", DM_ERR_LINK, "connection reset");
	assert_string_equal(f->m.failed_step, "transfer");
	assert_string_equal(f->m.error, "connection reset");
	assert_string_equal(f->m.status, "rolled-back");
	assert_int_equal(f->m.nphases, 2);	/* the failed one is timed */
	assert_int_equal(f->m.cur_phase[0], '\0');
	v = on_disk(&f->m);
	assert_string_equal(json_str(v, "failed_step", NULL), "transfer");
	assert_string_equal(json_str(v, "error", NULL), "connection reset");
	assert_string_equal(json_str(v, "error_kind", NULL), "link lost");
	assert_string_equal(json_str(v, "status", NULL), "rolled-back");
	assert_true(json_int(v, 0, "finished", NULL) > 0);
	yajl_tree_free(v);
}

static void fail_outside_a_phase_names_no_step(void **state)
{
	struct fx *f = *state;

	begin(f, &f->m, "web");
	record_phase_begin(&f->m, "check");
	record_phase_end(&f->m);
	record_fail(&f->m, "failed", DM_ERR_INTERRUPTED, "cancelled");
	assert_string_equal(f->m.failed_step, "?");
	assert_int_equal(f->m.nphases, 1);
}

static void set_started(struct migration *m, int64_t t)
{
	m->started = t;
	assert_int_equal(record_save(m), 0);
}

static void load_all_reads_records_back_oldest_first(void **state)
{
	struct fx *f = *state;
	struct migration a, b, c, *all;
	size_t n;

	begin(f, &a, "third");
	begin(f, &b, "first");
	begin(f, &c, "second");
	set_started(&a, 1700000300);
	set_started(&b, 1700000100);
	set_started(&c, 1700000200);
	assert_int_equal(record_load_all(f->cfg, &all, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(all[0].object, "first");
	assert_string_equal(all[1].object, "second");
	assert_string_equal(all[2].object, "third");
	assert_string_equal(all[0].id, b.id);
	assert_int_equal(all[0].started, 1700000100);
	for (size_t i = 0; i < n; i++)
		record_release(&all[i]);
	free(all);
	record_release(&a);
	record_release(&b);
	record_release(&c);
}

static void load_all_round_trips_every_field(void **state)
{
	struct fx *f = *state;
	struct migration *all;
	size_t n;

	begin(f, &f->m, "web");
	record_phase_begin(&f->m, "check");
	record_phase_begin(&f->m, "transfer");
	f->m.bytes = 5000000000ULL;	/* more than 32 bits */
	f->m.downtime_ms = 1234;
	record_add_config(&f->m, "sha256:aa");
	record_add_config(&f->m, "not one digest");
	record_add_config(&f->m, "sha256:bb");
	record_fail(&f->m, "failed", DM_ERR_CONFLICT,
		    "it's \"quoted\"\nand two lines");
	assert_int_equal(record_load_all(f->cfg, &all, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(all[0].id, f->m.id);
	assert_string_equal(all[0].status, "failed");
	assert_string_equal(all[0].kind, "container");
	assert_string_equal(all[0].source, "unix:///src.sock");
	assert_string_equal(all[0].dest, "root@node2");
	assert_string_equal(all[0].strategy, "save");
	assert_int_equal(all[0].started, f->m.started);
	assert_int_equal(all[0].finished, f->m.finished);
	assert_true(all[0].bytes == 5000000000ULL);
	assert_int_equal(all[0].downtime_ms, 1234);
	assert_string_equal(all[0].failed_step, "transfer");
	assert_string_equal(all[0].error, "it's \"quoted\"\nand two lines");
	assert_string_equal(all[0].error_kind, "conflict at the destination");
	assert_int_equal(all[0].nphases, 2);
	assert_string_equal(all[0].phases[0].name, "check");
	assert_string_equal(all[0].phases[1].name, "transfer");
	assert_int_equal(all[0].phases[1].ms, f->m.phases[1].ms);
	assert_string_equal(all[0].configs, "sha256:aa sha256:bb");
	record_release(&all[0]);
	free(all);
}

static void load_all_grows_past_its_first_allocation(void **state)
{
	struct fx *f = *state;
	struct migration m, *all;
	size_t n;

	for (int i = 0; i < 40; i++) {
		char obj[16];

		snprintf(obj, sizeof(obj), "c%02d", i);
		begin(f, &m, obj);
		set_started(&m, 1700000000 + 40 - i);
		record_release(&m);
	}
	assert_int_equal(record_load_all(f->cfg, &all, &n), 0);
	assert_int_equal(n, 40);
	for (size_t i = 0; i < n; i++) {
		char obj[16];

		snprintf(obj, sizeof(obj), "c%02zu", 39 - i);
		assert_string_equal(all[i].object, obj);
		record_release(&all[i]);
	}
	free(all);
}

struct load_args {
	const char *cfg;
	struct migration *all;
	size_t n;
	int ret;
};

static void load_all_call(void *arg)
{
	struct load_args *a = arg;

	a->ret = record_load_all(a->cfg, &a->all, &a->n);
}

static void corrupt_record_is_skipped_with_a_warning(void **state)
{
	struct fx *f = *state;
	struct load_args a = { f->cfg, NULL, 0, -1 };
	char *err;

	begin(f, &f->m, "web");
	free(unit_write(f->cfg, "migrate/history/0000000000000bad.json",
			"{\"id\":\"0000000000000bad\",\"kind\":"));
	free(unit_write(f->cfg, "migrate/history/notes.txt", "not a record"));
	free(unit_write(f->cfg, "migrate/history/x.json.tmp", "{"));
	err = capture_stderr(load_all_call, &a);
	assert_int_equal(a.ret, 0);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.all[0].id, f->m.id);
	assert_contains(err, "warning");
	assert_contains(err, "0000000000000bad.json");
	assert_not_contains(err, "notes.txt");
	assert_not_contains(err, "x.json.tmp");
	record_release(&a.all[0]);
	free(a.all);
	free(err);
}

static void load_all_without_history_is_empty(void **state)
{
	struct fx *f = *state;
	struct migration dummy, *all = &dummy;
	size_t n = 99;

	assert_int_equal(record_load_all(f->cfg, &all, &n), 0);
	assert_int_equal(n, 0);
	assert_null(all);
}

static void report_shows_phases_error_and_id(void **state)
{
	struct fx *f = *state;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	begin(f, &f->m, "web");
	record_phase_begin(&f->m, "transfer");
	record_fail(&f->m, "failed", DM_ERR_DEST, "disk full");
	f->m.bytes = 2048;
	record_report(&f->m, out);
	fclose(out);
	assert_contains(buf, "failed container web");
	assert_contains(buf, "transfer");
	assert_contains(buf, "(2048 bytes)");
	assert_contains(buf, "transfer: disk full");
	assert_contains(buf, f->m.id);
	assert_not_contains(buf, "downtime");
	free(buf);
}

/* Steps and the undo journal are on disk as soon as they are recorded,
 * and read back whole by id (or a prefix of it). */
static void steps_and_journal_are_saved_at_once_and_read_back(void **state)
{
	struct fx *f = *state;
	struct migration back;
	yajl_val v;
	size_t i;

	begin(f, &f->m, "db");
	i = record_step_add(&f->m, "precopy", "volume data", 1000);
	record_step_add(&f->m, "sync", "volume data", -1);
	record_step_begin(&f->m, i);
	assert_int_equal(record_undo_push(&f->m, "remove-volume",
					  "destination", "data", NULL), 0);
	v = on_disk(&f->m);
	assert_int_equal(json_alen(json_get(v, "steps", NULL)), 2);
	assert_int_equal(json_alen(json_get(v, "journal", NULL)), 1);
	yajl_tree_free(v);
	assert_int_equal(record_undo_push(&f->m, "start-container", "source",
					  "abc", "{\"x\":1}"), 0);
	record_step_end(&f->m, i, 777, "done");
	record_undo_done(&f->m, 0);
	assert_int_equal(record_load_id(f->cfg, f->m.id, &back), 0);
	assert_int_equal(back.nsteps, 2);
	assert_string_equal(back.steps[0].name, "precopy");
	assert_string_equal(back.steps[0].object, "volume data");
	assert_int_equal(back.steps[0].planned, 1000);
	assert_int_equal(back.steps[0].bytes, 777);
	assert_string_equal(back.steps[0].outcome, "done");
	assert_true(back.steps[0].started > 0);
	assert_int_equal(back.steps[1].planned, -1);
	assert_string_equal(back.steps[1].outcome, "planned");
	assert_int_equal(back.njournal, 2);
	assert_true(back.journal[0].done);
	assert_string_equal(back.journal[1].op, "start-container");
	assert_string_equal(back.journal[1].host, "source");
	assert_string_equal(back.journal[1].arg, "abc");
	assert_string_equal(back.journal[1].data, "{\"x\":1}");
	assert_false(back.journal[1].done);
	assert_int_equal(record_undo_left(&back), 1);
	assert_string_equal(back.path, f->m.path);
	record_release(&back);
	/* a prefix names it too */
	assert_int_equal(record_load_id(f->cfg, (char[]){ f->m.id[0],
				f->m.id[1], f->m.id[2], f->m.id[3], 0 }, &back), 0);
	record_release(&back);
	assert_int_equal(record_load_id(f->cfg, "zz", &back), -1);
	assert_contains(dm_errmsg(), "no migration zz");
}

/* A record left at running shows as interrupted once its process is
 * gone, and as running while it lives. */
static void running_record_of_a_dead_process_is_interrupted(void **state)
{
	struct fx *f = *state;
	pid_t child;

	begin(f, &f->m, "db");
	record_set_status(&f->m, "running");
	assert_string_equal(record_shown_status(&f->m), "running");
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	f->m.pid = (int)child;	/* reaped: no such process now */
	assert_string_equal(record_shown_status(&f->m), "interrupted");
	/* a live process that is not the one that began it: its pid reused */
	f->m.pid = (int)getpid();
	f->m.pid_start += 1;
	assert_string_equal(record_shown_status(&f->m), "interrupted");
	record_set_status(&f->m, "rolled-back");
	assert_string_equal(record_shown_status(&f->m), "rolled-back");
}

/* What the copy was made without: in the file, read back, and in the
 * report (history shows the same report). */
static void dropped_items_are_saved_read_back_and_reported(void **state)
{
	struct fx *f = *state;
	struct migration *all = NULL;
	size_t n = 0;
	yajl_val v, d;
	FILE *out = tmpfile();
	char buf[4096];
	size_t len;

	begin(f, &f->m, "dev1");
	record_add_dropped(&f->m, "device /run/x: it does not exist at the "
			   "destination");
	record_add_dropped(&f->m, "Links \"/db:/dev1/dbal\": ...");
	record_set_status(&f->m, "completed");
	v = on_disk(&f->m);
	d = json_get(v, "dropped", NULL);
	assert_int_equal(json_alen(d), 2);
	assert_string_equal(d->u.array.values[1]->u.string,
			    "Links \"/db:/dev1/dbal\": ...");
	yajl_tree_free(v);
	assert_int_equal(record_load_all(f->cfg, &all, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(all[0].ndropped, 2);
	assert_string_equal(all[0].dropped[0], "device /run/x: it does not "
			    "exist at the destination");
	record_report(&all[0], out);
	len = fread(buf, 1, sizeof(buf) - 1, (rewind(out), out));
	buf[len] = '\0';
	assert_contains(buf, "  dropped       device /run/x: it does not exist "
			"at the destination\n  dropped       Links ");
	fclose(out);
	record_release(&all[0]);
	free(all);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(begin_writes_a_private_file_in_a_private_directory),
		T(begin_leaves_no_temporary_file),
		T(begin_file_says_pending_with_all_fields),
		T(begin_fails_when_the_directory_cannot_be_made),
		T(phases_are_recorded_in_order),
		T(total_is_the_sum_of_the_phases),
		T(fail_names_the_open_phase),
		T(fail_outside_a_phase_names_no_step),
		T(load_all_reads_records_back_oldest_first),
		T(load_all_round_trips_every_field),
		T(load_all_grows_past_its_first_allocation),
		T(corrupt_record_is_skipped_with_a_warning),
		T(load_all_without_history_is_empty),
		T(report_shows_phases_error_and_id),
		T(steps_and_journal_are_saved_at_once_and_read_back),
		T(running_record_of_a_dead_process_is_interrupted),
		T(dropped_items_are_saved_read_back_and_reported),
	};

	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
