/*
 * cmd_history.c - "docker migrate history [ID]": past migrations, newest
 * first as docker lists, with their status, phases' times and bytes
 * (--format, -q, --filter, --last as docker's list commands; see
 * histfmt.c); one of them with its steps and what its undo journal left;
 * "history prune" removes the records of finished moves.  A record left
 * at running by a process that is gone shows as interrupted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "dm.h"
#include "histfmt.h"
#include "record.h"

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

/* The records to list, newest first, filtered, at most last of them (0:
 * all): indices into m. */
static size_t select_records(const struct migration *m, size_t n,
			     const struct strlist *filters, long last,
			     size_t *order)
{
	size_t k = 0;

	for (size_t i = n; i-- > 0;) {
		if (last > 0 && k == (size_t)last)
			break;
		if (histfmt_filter_match(&m[i], (const char *const *)filters->v,
					 filters->n))
			order[k++] = i;
	}
	return k;
}

/* A record "history prune" may remove: a move that is over and left
 * nothing for "docker migrate rollback ID" to finish. */
static int prunable(const struct migration *m)
{
	static const char *const over[] = { "completed", "rolled-back",
					     "failed" };

	for (size_t i = 0; i < sizeof(over) / sizeof(over[0]); i++)
		if (strcmp(m->status, over[i]) == 0)
			return record_undo_left(m) == 0 ||
			       strcmp(m->status, "completed") == 0;
	return 0;
}

/* docker's prune: a question on a terminal unless --force; no answer (not
 * a terminal, end of input) is no. */
static int confirmed(void)
{
	char line[16];

	printf("WARNING! This will remove the records of all finished "
	       "migrations (kept: those running, and those whose rollback "
	       "is not finished).\nAre you sure you want to continue? [y/N] ");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

static int cmd_history_prune(int argc, char **argv, struct cli *cli)
{
	static const struct cmd_help help = {
		"migrate history prune", "[OPTIONS]",
		"Remove the records of finished migrations",
		"Running migrations, and those whose rollback did not finish "
		"(see 'docker\nmigrate rollback'), keep their records.",
		"  docker migrate history prune --force\n"
		"  docker migrate history prune --filter status=failed\n",
		NULL,
	};
	struct strlist filters = { 0 };
	int force = 0;
	struct opt opts[] = {
		OPT_BOOL('f', "force", &force, "Do not prompt for confirmation"),
		OPT_LIST(0, "filter", &filters, "FILTER",
			 "Only the records that match KEY=VALUE (status, "
			 "kind, object, source, dest, id)", COMPL_NONE),
		OPT_END(),
	};
	struct migration *m;
	size_t n, removed = 0;
	char *dir;
	int nargs, r = cmd_parse(cli, argc, argv, opts, &help, &nargs);

	if (r >= 0 || (r = cmd_check_args(&help, nargs, 0, 0)) >= 0)
		goto out;
	for (size_t i = 0; i < filters.n; i++)
		if (histfmt_filter_check(filters.v[i]) < 0) {
			r = cmd_flag_error(&help);
			goto out;
		}
	if (!force && !confirmed()) {
		r = DM_EXIT_OK;
		goto out;
	}
	dir = cli_config_dir(cli);
	record_load_all(dir, &m, &n);
	for (size_t i = 0; i < n; i++) {
		char *path;
		int gone;

		show_status(&m[i]);
		if (!prunable(&m[i]) ||
		    !histfmt_filter_match(&m[i], (const char *const *)filters.v,
					  filters.n))
			continue;
		path = xasprintf("%s/migrate/history/%s.json", dir, m[i].id);
		gone = unlink(path) == 0;
		if (!gone)
			dm_warn("cannot remove %s: %s", path, strerror(errno));
		free(path);
		if (!gone)
			continue;
		printf("%s%s\n", removed++ ? "" : "Deleted Migrations:\n",
		       m[i].id);
	}
	free(dir);
	printf("%sTotal: %zu record%s removed\n", removed ? "\n" : "", removed,
	       removed == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		record_release(&m[i]);
	free(m);
	r = DM_EXIT_OK;
out:
	strlist_clear(&filters);
	return r;
}

int cmd_history(int argc, char **argv, struct cli *cli)
{
	static const struct cmd_help help = {
		"migrate history", "[OPTIONS] [ID]",
		"List past migrations, newest first, or show one",
		"Commands:\n  prune       Remove the records of finished "
		"migrations",
		"  docker migrate history --last 5\n"
		"  docker migrate history --filter status=failed --filter "
		"dest=node2\n"
		"  docker migrate history --format '{{.ID}}\\t{{.Status}}\\t"
		"{{.Object}}'\n"
		"  docker migrate history -q --filter status=rolled-back\n"
		"  docker migrate history 9c9781b6\n",
		NULL,
	};
	const char *format = NULL;
	struct strlist filters = { 0 };
	int quiet = 0;
	long last = 0;
	struct opt opts[] = {
		OPT_STRING(0, "format", &format, "FORMAT",
			   "Format the list: table, json (the full records, "
			   "oldest first), or a template: \"table "
			   "{{.ID}}\\t{{.Status}}\", \"{{json .}}\" (see "
			   "docker-migrate-history(1))", COMPL_NONE),
		OPT_LIST('f', "filter", &filters, "FILTER",
			 "Only the records that match KEY=VALUE: status, "
			 "kind, object, source, dest, id (repeat a key: "
			 "either value)", COMPL_NONE),
		OPT_INT('n', "last", &last, "N", "Only the N newest", 1,
			1000000),
		OPT_BOOL('q', "quiet", &quiet, "Only the IDs"),
		OPT_END(),
	};
	struct migration *m;
	struct histfmt f;
	size_t n, k, *order;
	char *dir;
	int nargs, r;

	if (argc > 0 && strcmp(argv[0], "prune") == 0)
		return cmd_history_prune(argc - 1, argv + 1, cli);
	r = cmd_parse(cli, argc, argv, opts, &help, &nargs);
	if (r >= 0 || (r = cmd_check_args(&help, nargs, 0, 1)) >= 0)
		goto out;
	for (size_t i = 0; i < filters.n; i++)
		if (histfmt_filter_check(filters.v[i]) < 0) {
			r = cmd_flag_error(&help);
			goto out;
		}
	if (histfmt_parse(quiet ? "{{.ID}}" : format, &f) < 0) {
		r = cmd_flag_error(&help);
		goto out;
	}
	dir = cli_config_dir(cli);
	if (nargs) {
		r = show_one(dir, argv[0], f.kind == HISTFMT_JSON);
		free(dir);
		histfmt_release(&f);
		goto out;
	}
	record_load_all(dir, &m, &n);
	free(dir);
	for (size_t i = 0; i < n; i++)
		show_status(&m[i]);
	order = xcalloc(n + 1, sizeof(*order));
	k = select_records(m, n, &filters, last, order);
	/* json: the records in the order they happened, for scripts */
	for (size_t i = 0; f.kind == HISTFMT_JSON && i < k / 2; i++) {
		size_t t = order[i];

		order[i] = order[k - 1 - i];
		order[k - 1 - i] = t;
	}
	histfmt_print(&f, m, order, k, stdout);
	histfmt_release(&f);
	free(order);
	for (size_t i = 0; i < n; i++)
		record_release(&m[i]);
	free(m);
	r = 0;
out:
	strlist_clear(&filters);
	return r;
}
