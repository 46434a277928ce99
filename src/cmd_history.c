/*
 * cmd_history.c - "docker migrate history [ID]": past migrations, newest
 * last, with their status, phases' times and bytes; one of them with its
 * steps and what its undo journal left.  A record left at running by a
 * process that is gone shows as interrupted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "dm.h"
#include "record.h"

static void print_table(const struct migration *m, size_t n)
{
	printf("%-16s  %-19s  %-11s  %-9s  %-20s  %-20s  %-8s  %9s  %10s  %s\n",
	       "ID", "STARTED", "STATUS", "KIND", "OBJECT", "DESTINATION",
	       "STRATEGY", "TIME", "SENT", "ERROR");
	for (size_t i = 0; i < n; i++) {
		char when[32], hb[32];
		time_t t = (time_t)m[i].started;
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		/* a failure says where and why in the last column: the step,
		 * then the reason */
		printf("%-16s  %-19s  %-11s  %-9s  %-20.20s  %-20.20s  %-8s  "
		       "%8.2fs  %10s  %s%s%s\n", m[i].id, when, m[i].status,
		       m[i].kind, m[i].object, m[i].dest, m[i].strategy,
		       (double)record_total_ms(&m[i]) / 1000.0,
		       dm_human_bytes(m[i].bytes, hb, sizeof(hb)),
		       m[i].failed_step ? m[i].failed_step : "",
		       m[i].failed_step ? ": " : "",
		       m[i].failed_step && m[i].error ? m[i].error : "");
	}
}

static void print_json(const struct migration *m, size_t n)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;

	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++)
		record_gen(&m[i], g);
	yajl_gen_array_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	fwrite(buf, 1, len, stdout);
	yajl_gen_free(g);
}

/* What a run that did not finish left at either host: the journal's
 * entries not undone, last first (the order a rollback takes). */
static void print_left(const struct migration *m)
{
	size_t n = record_undo_left(m);

	if (!n || strcmp(m->status, "completed") == 0 ||
	    strcmp(m->status, "running") == 0)
		return;
	printf("  %-13s %zu change(s) not undone (docker migrate rollback "
	       "%s):\n", "left", n, m->id);
	for (size_t i = m->njournal; i-- > 0;) {
		const struct rec_undo *u = &m->journal[i];

		if (!u->done)
			printf("    %s at the %s: %s\n", u->op, u->host, u->arg);
	}
}

/* The status as it is to be read (see record_shown_status), in place:
 * only for printing, the file is left as it is. */
static void show_status(struct migration *m)
{
	const char *shown = record_shown_status(m);

	if (shown != m->status)
		snprintf(m->status, sizeof(m->status), "%s", shown);
}

/* The step a dead run was in: the one it began last; for a container
 * move with none, the check (its plan is made after it); NULL when the
 * record cannot tell (the kinds without steps). */
static const char *open_step(const struct migration *m)
{
	for (size_t i = m->nsteps; i-- > 0;)
		if (strcmp(m->steps[i].outcome, "running") == 0)
			return m->steps[i].name;
	return !m->nsteps && strcmp(m->kind, "container") == 0 ? "check"
							      : NULL;
}

static int show_one(const char *dir, const char *id, int json)
{
	struct migration m;

	if (record_load_id(dir, id, &m) < 0)
		return DM_EXIT_FAILED;
	show_status(&m);
	if (json) {
		record_print(&m, 1, stdout);
	} else {
		record_report(&m, stdout);
		if (strcmp(m.status, "interrupted") == 0 && open_step(&m))
			printf("  %-13s in %s\n", "interrupted", open_step(&m));
		print_left(&m);
	}
	record_release(&m);
	return 0;
}

int cmd_history(int argc, char **argv, struct cli *cli)
{
	static const struct cmd_help help = {
		"migrate history", "[OPTIONS] [ID]",
		"List past migrations with their status, timings and bytes, or "
		"show one",
		NULL, NULL,
		NULL,
	};
	int format = FORMAT_TEXT;
	struct opt opts[] = {
		OPT_ENUM(0, "format", &format, "FORMAT",
			 "Print as JSON, the full records: json",
			 format_choices),
		OPT_END(),
	};
	struct migration *m;
	size_t n;
	char *dir;
	int nargs, r = cmd_parse(cli, argc, argv, opts, &help, &nargs);

	if (r >= 0 || (r = cmd_check_args(&help, nargs, 0, 1)) >= 0)
		return r;
	dir = cli_config_dir(cli);
	if (nargs) {
		r = show_one(dir, argv[0], format == FORMAT_JSON);
		free(dir);
		return r;
	}
	record_load_all(dir, &m, &n);
	free(dir);
	for (size_t i = 0; i < n; i++)
		show_status(&m[i]);
	if (format == FORMAT_JSON)
		print_json(m, n);
	else
		print_table(m, n);
	for (size_t i = 0; i < n; i++)
		record_release(&m[i]);
	free(m);
	return 0;
}
