/*
 * test_plan.c - the planner over inspect documents recorded from the lab's
 * engine (fixtures/plan_*.json: the containers the system tests move):
 * which steps, in which order, on which objects, with what bytes, for
 * each kind of move.  The volumes come from recreate_plan, as in a run;
 * the facts at the destination are set by each test.
 */
#include "unit.h"

#include "json.h"
#include "plan.h"
#include "recreate.h"

struct fx {
	yajl_val ins;
	struct strlist missing;
	struct recreate_out rec;
	struct plan_vol vols[8];
	struct plan_facts facts;
	struct plan_opts opts;
	struct plan plan;
	char *order;
};

static int setup(void **state)
{
	*state = xcalloc(1, sizeof(struct fx));
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	yajl_tree_free(f->ins);
	strlist_clear(&f->missing);
	recreate_out_release(&f->rec);
	plan_release(&f->plan);
	free(f->order);
	free(f);
	return 0;
}

/* Load the fixture; its volumes (and copied binds) as recreate finds
 * them, 1000 bytes each, absent at the destination; the image absent,
 * 5000 bytes to send; options at their defaults. */
static void load(struct fx *f, const char *name, int bind_mode)
{
	char *file = xasprintf("plan_%s.json", name), *text = unit_fixture(file);
	struct recreate_in in;
	size_t n = 0;

	/* a test may load a second fixture */
	yajl_tree_free(f->ins);
	strlist_clear(&f->missing);
	recreate_out_release(&f->rec);
	f->ins = json_parse(text, strlen(text), file);
	assert_non_null(f->ins);
	free(text);
	free(file);
	if (bind_mode == BIND_COPY)
		recreate_bind_sources(f->ins, &f->missing);
	in = (struct recreate_in){ f->ins, "dmlab/busybox:1", &f->missing, 0,
				   1, bind_mode, NULL, NULL, NULL };
	assert_int_equal(recreate_plan(&in, &f->rec), 0);
	for (size_t i = 0; i < f->rec.volumes.n; i++)
		f->vols[n++] = (struct plan_vol){ f->rec.volumes.v[i], 0, 0, 0,
						  1000 };
	for (size_t i = 0; i < f->rec.bind_copies.n; i++)
		f->vols[n++] = (struct plan_vol){ f->rec.bind_copies.v[i], 1, 0,
						  0, -1 };
	f->facts = (struct plan_facts){ .dest = "node2",
					.image_ref = "dmlab/busybox:1",
					.image_bytes = 5000, .vols = f->vols,
					.nvols = n, .rootfs_bytes = -1 };
	f->opts = (struct plan_opts){ .rootfs = -1 };
}

/* The steps as "kind object" joined by ", " (for messages) and the kinds
 * alone joined by "," (what the record's phases show). */
static const char *kinds(struct fx *f)
{
	struct strbuf sb = STRBUF_INIT;

	plan_release(&f->plan);
	assert_int_equal(plan_make(f->ins, &f->opts, &f->facts, &f->plan), 0);
	for (size_t i = 0; i < f->plan.n; i++)
		sb_addf(&sb, "%s%s", i ? "," : "",
			step_name(f->plan.steps[i].kind));
	free(f->order);
	f->order = sb_detach(&sb);
	return f->order;
}

static const struct step *find(const struct plan *p, enum step_kind k)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->steps[i].kind == k)
			return &p->steps[i];
	fail_msg("no %s step", step_name(k));
	return NULL;
}

static void running_stateless_copy_runs_before_the_source_stops(void **state)
{
	struct fx *f = *state;

	load(f, "web", BIND_REFUSE);
	assert_string_equal(kinds(f), "check,transfer,create,start,stop-source");
	assert_string_equal(f->plan.name, "web");
	assert_true(f->plan.running);
	assert_string_equal(find(&f->plan, STEP_TRANSFER)->object,
			    "image dmlab/busybox:1");
	assert_int_equal(find(&f->plan, STEP_TRANSFER)->bytes, 5000);
	assert_string_equal(find(&f->plan, STEP_CREATE)->creates,
			    "container web at node2");
	assert_string_equal(find(&f->plan, STEP_STOP_SOURCE)->stops,
			    "container web at the source");
	assert_int_equal(f->plan.bytes, 5000);
}

static void keep_never_stops_the_source(void **state)
{
	struct fx *f = *state;

	load(f, "web", BIND_REFUSE);
	f->opts.keep = 1;
	assert_string_equal(kinds(f), "check,transfer,create,start");
	load(f, "db", BIND_REFUSE);
	f->opts.keep = 1;
	assert_string_equal(kinds(f), "check,transfer,copy-volumes,verify,"
			    "create,start");
}

static void running_with_a_volume_syncs_after_the_stop(void **state)
{
	struct fx *f = *state;
	const struct step *pre;

	load(f, "db", BIND_REFUSE);
	assert_string_equal(kinds(f), "check,transfer,precopy,create,"
			    "stop-source,sync,start");
	pre = find(&f->plan, STEP_PRECOPY);
	assert_string_equal(pre->object, "volume dbvol");
	assert_int_equal(pre->bytes, 1000);
	assert_string_equal(pre->creates, "volume dbvol at node2");
	/* what the final pass sends is not known before */
	assert_int_equal(find(&f->plan, STEP_SYNC)->bytes, -1);
	assert_int_equal(f->plan.bytes, 6000);
	/* the first copy loads the helper image where it is missing */
	f->facts.helper_absent = 1;
	kinds(f);
	assert_string_equal(find(&f->plan, STEP_PRECOPY)->creates,
			    "volume dbvol, the volumes' helper image at node2");
}

static void a_kept_empty_volume_is_filled_not_created(void **state)
{
	struct fx *f = *state;

	load(f, "db", BIND_REFUSE);
	f->vols[0].dest_exists = 1;
	kinds(f);
	assert_null(find(&f->plan, STEP_PRECOPY)->creates);
}

static void pause_freezes_and_stops_the_source_last(void **state)
{
	struct fx *f = *state;

	load(f, "db", BIND_REFUSE);
	f->opts.pause = 1;
	assert_string_equal(kinds(f), "check,transfer,precopy,create,"
			    "pause-source,sync,start,stop-source");
	assert_string_equal(find(&f->plan, STEP_PAUSE_SOURCE)->stops,
			    "container db at the source (frozen)");
}

static void stopped_container_is_copied_once_and_not_started(void **state)
{
	struct fx *f = *state;

	load(f, "stopped", BIND_REFUSE);
	assert_string_equal(kinds(f), "check,transfer,copy-volumes,verify,"
			    "create");
	assert_false(f->plan.running);
}

static void changed_layer_is_committed_after_the_stop(void **state)
{
	struct fx *f = *state;

	load(f, "layered", BIND_REFUSE);
	f->facts.rootfs_changes = 1;
	f->facts.rootfs_bytes = 42;
	assert_string_equal(kinds(f), "check,transfer,stop-source,rootfs,"
			    "create,start");
	assert_true(f->plan.rootfs);
	assert_int_equal(find(&f->plan, STEP_ROOTFS)->bytes, 42);
	assert_string_equal(find(&f->plan, STEP_ROOTFS)->object,
			    "container layer of layered");
	f->opts.pause = 1;
	assert_string_equal(kinds(f), "check,transfer,pause-source,rootfs,"
			    "create,start,stop-source");
	f->opts.keep = 1;
	assert_string_equal(kinds(f), "check,transfer,rootfs,create,start");
}

static void rootfs_false_leaves_the_layer_behind(void **state)
{
	struct fx *f = *state;

	load(f, "layered", BIND_REFUSE);
	f->facts.rootfs_changes = 3;
	f->opts.rootfs = 0;
	assert_string_equal(kinds(f), "check,transfer,create,start,stop-source");
	assert_false(f->plan.rootfs);
	/* --rootfs: an unchanged layer travels too */
	f->facts.rootfs_changes = 0;
	f->opts.rootfs = 1;
	assert_string_equal(kinds(f), "check,transfer,stop-source,rootfs,"
			    "create,start");
}

static void copied_bind_mount_is_a_volume_step(void **state)
{
	struct fx *f = *state;
	const struct step *pre;

	load(f, "binder", BIND_COPY);
	assert_string_equal(kinds(f), "check,transfer,precopy,create,"
			    "stop-source,sync,start");
	pre = find(&f->plan, STEP_PRECOPY);
	assert_string_equal(pre->object, "bind mount /tmp/dmt-bind3");
	assert_string_equal(pre->creates, "directory /tmp/dmt-bind3 at node2");
	/* its size is not known before: not in the total */
	assert_int_equal(pre->bytes, -1);
	assert_int_equal(f->plan.bytes, 5000);
}

static void tmpfs_volume_has_no_final_pass(void **state)
{
	struct fx *f = *state;

	load(f, "tmpv", BIND_REFUSE);
	assert_int_equal(f->facts.nvols, 1);
	f->vols[0].ephemeral = 1;
	assert_string_equal(kinds(f), "check,transfer,precopy,create,"
			    "stop-source,start");
	assert_int_equal(find(&f->plan, STEP_PRECOPY)->bytes, 0);
}

static void present_image_sends_nothing(void **state)
{
	struct fx *f = *state;

	load(f, "web", BIND_REFUSE);
	f->facts.image_present = 1;
	kinds(f);
	assert_int_equal(find(&f->plan, STEP_TRANSFER)->bytes, 0);
	assert_null(find(&f->plan, STEP_TRANSFER)->creates);
	assert_int_equal(f->plan.bytes, 0);
}

static void missing_networks_are_created_with_the_copy(void **state)
{
	struct fx *f = *state;
	static const char *const nets[] = { "appnet", "backnet" };

	load(f, "web", BIND_REFUSE);
	f->facts.nets_missing = nets;
	f->facts.nnets = 2;
	kinds(f);
	assert_string_equal(find(&f->plan, STEP_CREATE)->creates,
			    "container web, network appnet, network backnet "
			    "at node2");
}

static void checkpoint_is_said_in_the_check(void **state)
{
	struct fx *f = *state;

	load(f, "db", BIND_REFUSE);
	f->opts.checkpoint = 1;
	kinds(f);
	assert_non_null(strstr(find(&f->plan, STEP_CHECK)->why, "checkpoint"));
}

/* The checkpoint takes the stop's place (it stops the source), the final
 * pass follows it, and the copy is restored, not started. */
static void checkpoint_replaces_the_stop_and_the_start(void **state)
{
	struct fx *f = *state;

	load(f, "db", BIND_REFUSE);
	f->opts.checkpoint = 1;
	assert_string_equal(kinds(f), "check,transfer,precopy,create,"
			    "checkpoint,sync,carry,restore");
	assert_true(f->plan.memory);
	assert_string_equal(find(&f->plan, STEP_CHECKPOINT)->stops,
			    "container db at the source (its memory dumped "
			    "by CRIU)");
	assert_string_equal(find(&f->plan, STEP_CARRY_CHECKPOINT)->creates,
			    "the checkpoint's files in the copy's directory "
			    "at node2");
	assert_non_null(find(&f->plan, STEP_CARRY_CHECKPOINT)->removes);
	/* its size is known only once dumped */
	assert_int_equal(find(&f->plan, STEP_CARRY_CHECKPOINT)->bytes, -1);
}

/* No volume, no layer: still dumped before its files are carried, and
 * the copy exists (created before the downtime) to receive them. */
static void checkpoint_of_a_stateless_container(void **state)
{
	struct fx *f = *state;

	load(f, "web", BIND_REFUSE);
	f->opts.checkpoint = 1;
	assert_string_equal(kinds(f), "check,transfer,create,checkpoint,"
			    "carry,restore");
}

/* The committed layer makes the copy after the dump: the files are
 * carried into it only once it exists. */
static void checkpoint_with_a_layer_carries_after_the_create(void **state)
{
	struct fx *f = *state;

	load(f, "db", BIND_REFUSE);
	f->opts.checkpoint = 1;
	f->facts.rootfs_changes = 2;
	assert_string_equal(kinds(f), "check,transfer,precopy,checkpoint,"
			    "sync,rootfs,create,carry,restore");
}

/* Nothing runs, or the source keeps running: no memory moves. */
static void checkpoint_of_a_stopped_or_kept_source_moves_no_memory(void **state)
{
	struct fx *f = *state;

	load(f, "stopped", BIND_REFUSE);
	f->opts.checkpoint = 1;
	kinds(f);
	assert_false(f->plan.memory);
	assert_null(strstr(f->order, "checkpoint"));
	assert_null(strstr(f->order, "restore"));
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&buf, &len);

		plan_print(&f->plan, "node1", "node2", "delta", out);
		fclose(out);
		assert_non_null(strstr(buf, "  memory: none: the container is "
				       "not running\n"));
		free(buf);
	}
	load(f, "web", BIND_REFUSE);
	f->opts.checkpoint = 1;
	f->opts.keep = 1;
	assert_string_equal(kinds(f), "check,transfer,create,start");
	assert_false(f->plan.memory);
}

/* --dry-run says whether the memory moves, in text and JSON. */
static void dry_run_says_whether_memory_moves(void **state)
{
	struct fx *f = *state;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *jb;
	size_t jlen;
	yajl_val v;

	load(f, "web", BIND_REFUSE);
	kinds(f);
	plan_print(&f->plan, "node1", "node2", "delta", out);
	f->opts.checkpoint = 1;
	kinds(f);
	plan_print(&f->plan, "node1", "node2", "delta", out);
	fclose(out);
	assert_non_null(strstr(buf, "  memory: does not move: the copy "
			       "starts afresh\n"));
	assert_non_null(strstr(buf, "  memory: moves (checkpoint and "
			       "restore)\n"));
	plan_gen(&f->plan, "node1", "node2", "delta", g);
	yajl_gen_get_buf(g, &jb, &jlen);
	v = json_parse((const char *)jb, jlen, "plan");
	assert_true(json_true(v, "memory", NULL));
	yajl_tree_free(v);
	yajl_gen_free(g);
	free(buf);
}

static void json_lists_the_steps_in_order(void **state)
{
	struct fx *f = *state;
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;
	yajl_val v, steps;

	load(f, "db", BIND_REFUSE);
	f->opts.pause = 1;
	kinds(f);
	plan_gen(&f->plan, "node1", "node2", "delta", g);
	yajl_gen_get_buf(g, &buf, &len);
	v = json_parse((const char *)buf, len, "plan");
	yajl_gen_free(g);
	assert_non_null(v);
	steps = json_get(v, "steps", NULL);
	assert_int_equal(json_alen(steps), f->plan.n);
	assert_string_equal(json_str(steps->u.array.values[4], "step", NULL),
			    "pause-source");
	assert_string_equal(json_str(steps->u.array.values[2], "object", NULL),
			    "volume dbvol");
	assert_int_equal(json_int(steps->u.array.values[2], 0, "bytes", NULL),
			 1000);
	assert_int_equal(json_int(v, 0, "bytes", NULL), 6000);
	assert_string_equal(json_str(v, "destination", NULL), "node2");
	yajl_tree_free(v);
}

static void text_numbers_the_steps_with_sizes_and_effects(void **state)
{
	struct fx *f = *state;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	load(f, "db", BIND_REFUSE);
	kinds(f);
	plan_print(&f->plan, "node1", "node2", "delta", out);
	fclose(out);
	assert_non_null(strstr(buf, "Plan: move container db (running) from "
			       "node1 to node2, strategy delta\n"));
	assert_non_null(strstr(buf, "   3  precopy       volume dbvol"));
	assert_non_null(strstr(buf, "creates volume dbvol at node2\n"));
	assert_non_null(strstr(buf, "stops container db at the source\n"));
	/* the final pass: not known before, and said so in the total */
	assert_non_null(strstr(buf, "   6  sync          volume dbvol"));
	assert_non_null(strstr(buf, "  to send: 6 kB, and what the steps "
			       "marked ? send"));
	free(buf);
}

static void inspect_without_a_name_is_refused(void **state)
{
	struct fx *f = *state;
	struct plan_opts o = { .rootfs = -1 };
	struct plan_facts facts = { .dest = "node2", .image_ref = "x" };

	f->ins = json_parse("{\"Id\":\"abc\"}", 12, "ins");
	assert_int_equal(plan_make(f->ins, &o, &facts, &f->plan), -1);
	assert_int_equal(f->plan.n, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(running_stateless_copy_runs_before_the_source_stops),
		T(keep_never_stops_the_source),
		T(running_with_a_volume_syncs_after_the_stop),
		T(a_kept_empty_volume_is_filled_not_created),
		T(pause_freezes_and_stops_the_source_last),
		T(stopped_container_is_copied_once_and_not_started),
		T(changed_layer_is_committed_after_the_stop),
		T(rootfs_false_leaves_the_layer_behind),
		T(copied_bind_mount_is_a_volume_step),
		T(tmpfs_volume_has_no_final_pass),
		T(present_image_sends_nothing),
		T(missing_networks_are_created_with_the_copy),
		T(checkpoint_is_said_in_the_check),
		T(json_lists_the_steps_in_order),
		T(text_numbers_the_steps_with_sizes_and_effects),
		T(inspect_without_a_name_is_refused),
		T(checkpoint_replaces_the_stop_and_the_start),
		T(checkpoint_of_a_stateless_container),
		T(checkpoint_with_a_layer_carries_after_the_create),
		T(checkpoint_of_a_stopped_or_kept_source_moves_no_memory),
		T(dry_run_says_whether_memory_moves),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
