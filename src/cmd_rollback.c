/*
 * cmd_rollback.c - "docker migrate rollback ID": finish the rollback of a
 * move whose process is gone (killed outright) or whose own rollback
 * could not finish, from the undo journal in its record.  The source is
 * put back first, then the destination, each inverse marked done in the
 * record as it takes effect, so that this can itself be run again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "dm.h"
#include "lock.h"
#include "record.h"
#include "undo.h"

static size_t left_at(const struct migration *m, const char *host)
{
	size_t n = 0;

	for (size_t i = 0; i < m->njournal; i++)
		n += !m->journal[i].done && strcmp(m->journal[i].host, host) == 0;
	return n;
}

/* Why this record cannot be rolled back now, or NULL. */
static const char *refusal(const struct migration *m, const char *shown)
{
	if (strcmp(shown, "running") == 0 || strcmp(shown, "pending") == 0)
		return "is still running: interrupt it (Ctrl-C), it then "
		       "rolls back by itself";
	if (strcmp(shown, "completed") == 0)
		return "completed: there is nothing to roll back (move it back "
		       "with another docker migrate)";
	if (strcmp(m->kind, "image") == 0)
		return "copied images: it keeps no undo journal (remove "
		       "them at the destination with docker image rm)";
	return NULL;
}

/* The source: the engine the CLI talks to, which must be the record's. */
static int undo_source(struct cli *cli, struct migration *m)
{
	struct engine *src;
	int r;

	if (!left_at(m, UNDO_SOURCE) && !left_at(m, UNDO_MANAGER))
		return 0;
	src = cli_source_engine(cli);
	if (!src)
		return -1;
	if (strcmp(engine_name(src), m->source) != 0) {
		dm_error("the migration's source is %s, not %s: run this with "
			 "--host or --context naming it", m->source,
			 engine_name(src));
		engine_free(src);
		return -1;
	}
	/* a service's spec first: its task back at its node */
	r = undo_journal(m, UNDO_MANAGER, src, NULL);
	if (undo_journal(m, UNDO_SOURCE, src, NULL) < 0)
		r = -1;
	engine_free(src);
	return r;
}

static int undo_dest(struct cli *cli, struct migration *m)
{
	struct sshlink *link = NULL;
	struct engine *dst;
	int r;

	if (!left_at(m, UNDO_DEST))
		return 0;
	dst = cli_dest_engine(cli, m->dest, &link);
	if (!dst) {
		sshlink_close(link);
		return -1;
	}
	r = undo_journal(m, UNDO_DEST, dst, link);
	engine_free(dst);
	sshlink_close(link);
	return r;
}

/* A killed run never said where it stopped: the step it was in. */
static void name_the_failure(struct migration *m)
{
	for (size_t i = 0; i < m->nsteps; i++)
		if (strcmp(m->steps[i].outcome, "running") == 0) {
			snprintf(m->steps[i].outcome,
				 sizeof(m->steps[i].outcome), "interrupted");
			if (!m->failed_step)
				m->failed_step = xstrdup(m->steps[i].name);
		}
	/* a container move with no step recorded was in its check (the
	 * plan is made once it is over); other kinds do not say */
	if (!m->failed_step)
		m->failed_step = xstrdup(!m->nsteps &&
					 strcmp(m->kind, "container") == 0
					 ? "check" : "?");
	if (!m->error) {
		m->error = xstrdup("interrupted: the process was killed");
		free(m->error_kind);
		m->error_kind = xstrdup(dm_errkind_name(DM_ERR_INTERRUPTED));
	}
}

/* The exit status: DM_EXIT_LEFT when changes are still left. */
static int rollback(struct cli *cli, const char *id)
{
	char *dir = cli_config_dir(cli), *key = xasprintf("rollback/%s", id);
	struct migration m;
	struct dm_err err;
	const char *why;
	int lock = -1, ret = DM_EXIT_FAILED, s, d;

	if (record_load_id(dir, id, &m) < 0)
		goto out;
	why = refusal(&m, record_shown_status(&m));
	if (why) {
		dm_error("migration %s %s", m.id, why);
		goto out;
	}
	lock = migration_lock(dir, key, m.id);
	if (lock < 0)
		goto out;
	name_the_failure(&m);
	if (!record_undo_left(&m)) {
		/* killed before it changed anything, or undone already: as
		 * an interrupted run says, failed in the check, else rolled
		 * back */
		record_set_status(&m, m.nsteps ? "rolled-back" : "failed");
		printf("migration %s: nothing left to undo\n", m.id);
		ret = DM_EXIT_OK;
		goto out;
	}
	s = undo_source(cli, &m);
	if (s < 0)
		dm_warn("%s", dm_errmsg());
	d = undo_dest(cli, &m);
	if (d < 0)
		dm_warn("%s", dm_errmsg());
	record_set_status(&m, record_undo_left(&m) ? "failed" : "rolled-back");
	record_report(&m, stdout);
	if (record_undo_left(&m)) {
		dm_error("%zu change(s) are left: see docker migrate history %s",
			 record_undo_left(&m), m.id);
		ret = DM_EXIT_LEFT;
	} else {
		ret = DM_EXIT_OK;
	}
out:
	dm_error_save(&err);
	migration_unlock(lock);
	record_release(&m);
	free(key);
	free(dir);
	dm_error_restore(&err);
	return ret;
}

int cmd_rollback(int argc, char **argv, struct cli *cli)
{
	static const struct cmd_help help = {
		"migrate rollback", "ID",
		"Finish the rollback of a migration that was interrupted",
		"Undoes, from the journal in the migration's record, what a "
		"run killed outright\n(or whose own rollback could not finish) "
		"left at either host: the source first,\nthen the destination.  "
		"The source engine is the one the CLI talks to.",
		"  docker migrate history\n"
		"  docker migrate rollback 3f9c2a7d\n",
		NULL,
	};
	struct opt opts[] = {
		OPT_SSH_CONFIG(cli),
		OPT_END(),
	};
	int nargs, r = cmd_parse(cli, argc, argv, opts, &help, &nargs);

	if (r >= 0 || (r = cmd_check_args(&help, nargs, 1, 1)) >= 0)
		return r;
	return rollback(cli, argv[0]);
}
