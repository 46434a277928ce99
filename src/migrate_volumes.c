/*
 * migrate_volumes.c - copy volumes to another engine: same names (or
 * --rename), same driver, options and labels, content streamed engine to
 * engine, and the tree's digest at the destination compared with what was
 * sent before the copy counts as done.  What each copy changes at either
 * host is journaled in the record (undo.h) before the next change; any
 * failure applies the journal, and "docker migrate rollback ID" does it
 * for a run killed outright.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "json.h"
#include "migrate.h"
#include "progress.h"
#include "record.h"
#include "runner.h"
#include "transfer.h"
#include "undo.h"
#include "volsync.h"
#include "volume.h"

struct vol {
	const char *src_name;
	char *dst_name;
	yajl_val info;		/* the source's inspect */
	int replace;		/* --force over an existing one */
	yajl_val was_empty;	/* there before, empty: its inspect */
	char *sh, *dh;		/* helper containers, until removed */
	char digest[65];
	size_t entries;
};

struct vol_run {
	struct cli *cli;
	const struct volumes_opts *o;
	struct engine *src, *dst;
	struct sshlink *link;
	struct vol *v;
	size_t n;
	int helper_absent;	/* the helper image, at the destination */
	int helper_absent_src;	/* ... and at the source */
	int helper_journaled;	/* ... its removal is in the journal */
	struct migration rec;
};

static const char *renamed(const struct volumes_opts *o, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < o->renames.n; i++)
		if (strncmp(o->renames.v[i], name, len) == 0 &&
		    o->renames.v[i][len] == '=')
			return o->renames.v[i] + len + 1;
	return name;
}

/* The volumes of --container, in mount order. */
static int container_volumes(struct vol_run *r, struct strlist *names)
{
	char *esc = engine_escape(r->o->container);
	char *path = xasprintf("/containers/%s/json", esc);
	yajl_val c = NULL, mounts;
	long st = engine_get_json_opt(r->src, path, &c);

	free(esc);
	free(path);
	if (st < 0)
		return -1;
	if (st == 404)
		return dm_error("no such container: %s (on %s)", r->o->container,
				engine_name(r->src));
	mounts = json_get(c, "Mounts", NULL);
	for (size_t i = 0; i < json_alen(mounts); i++) {
		yajl_val m = mounts->u.array.values[i];

		if (dm_streq(json_str(m, "Type", NULL), "volume") &&
		    json_str(m, "Name", NULL))
			strlist_add(names, json_str(m, "Name", NULL));
	}
	if (json_true(c, "State", "Running", NULL))
		dm_warn("%s is running: its volumes may change while they are "
			"copied (docker migrate container moves it with them)",
			r->o->container);
	yajl_tree_free(c);
	if (!names->n)
		return dm_error("container %s has no volume", r->o->container);
	return 0;
}

/* A volume named on the command line that a running container writes
 * to: warned about, as --container warns (its copy may be torn). */
static void warn_in_use(struct vol_run *r, const char *name)
{
	char *filter = xasprintf("{\"volume\":[\"%s\"],\"status\":[\"running\"]}",
				 name);
	char *esc = engine_escape(filter);
	char *path = xasprintf("/containers/json?filters=%s", esc);
	yajl_val list = NULL;

	if (engine_get_json(r->src, path, &list) == 0 && json_alen(list)) {
		yajl_val c = list->u.array.values[0];
		yajl_val names = json_get(c, "Names", NULL);
		const char *who = json_alen(names)
				  ? json_str(names->u.array.values[0], NULL)
				  : json_str(c, "Id", NULL);

		if (who && *who == '/')
			who++;
		dm_warn("volume %s is in use by the running container %s: it "
			"may change while it is copied (docker migrate "
			"container %s moves it with them)", name, who ? who : "?",
			who ? who : "...");
	}
	dm_clear_error();	/* a warning only: the copy's checks follow */
	yajl_tree_free(list);
	free(path);
	free(esc);
	free(filter);
}

/* Every --rename names a volume being copied: one that does not is a
 * typo, and would be copied under its own name without a word. */
static int check_renames(const struct volumes_opts *o,
			 const struct strlist *names)
{
	for (size_t i = 0; i < o->renames.n; i++) {
		const char *kv = o->renames.v[i];
		size_t len = strcspn(kv, "=");
		size_t k;

		for (k = 0; k < names->n; k++)
			if (strlen(names->v[k]) == len &&
			    strncmp(names->v[k], kv, len) == 0)
				break;
		if (k == names->n)
			return dm_error("--rename %s: %.*s is not among the "
					"volumes copied", kv, (int)len, kv);
	}
	return 0;
}

static int dest_volume_empty(struct vol_run *r, const char *name, int *empty)
{
	char *h = helper_create(r->dst, name, 1);
	char digest[65];
	size_t entries = 0;
	int ret;

	if (!h)
		return -1;
	ret = volume_digest(r->dst, h, digest, &entries);
	helper_remove(r->dst, h);
	free(h);
	*empty = entries <= 1;	/* the root directory alone */
	return ret;
}

static int helper_present(struct engine *e)
{
	struct image_info ii;
	int r = image_inspect(e, helper_image(), &ii);

	image_info_release(&ii);
	return r;
}

static int check(struct vol_run *r)
{
	int d = helper_present(r->dst), s = helper_present(r->src);

	if (d < 0 || s < 0)
		return -1;
	r->helper_absent = !d;
	r->helper_absent_src = !s;
	for (size_t i = 0; i < r->n; i++) {
		struct vol *v = &r->v[i];
		yajl_val d = NULL;
		int f, empty = 0;

		f = volume_inspect(r->src, v->src_name, &v->info);
		if (f < 0)
			return -1;
		if (f == 0)
			return dm_error("no such volume: %s (on %s)", v->src_name,
					engine_name(r->src));
		f = volume_inspect(r->dst, v->dst_name, &d);
		if (f <= 0) {
			yajl_tree_free(d);
			if (f < 0)
				return -1;
			continue;
		}
		if (dest_volume_empty(r, v->dst_name, &empty) < 0) {
			yajl_tree_free(d);
			return -1;
		}
		if (!empty && !r->o->force) {
			yajl_tree_free(d);
			return dm_error_kind(DM_ERR_CONFLICT, "volume %s "
					     "already exists at %s and is not "
					     "empty: pass --rename %s=NEWNAME, "
					     "or --force to replace it",
					     v->dst_name, r->o->to, v->src_name);
		}
		v->replace = !empty;
		if (empty)
			v->was_empty = d;	/* a failed copy leaves it so */
		else
			yajl_tree_free(d);
	}
	return 0;
}

/* Remove a helper; on failure keep its id for the rollback to retry. */
static void drop_helper(struct engine *e, char **id)
{
	if (e && helper_remove(e, *id) == 0) {
		free(*id);
		*id = NULL;
	}
}

static int journal(struct vol_run *r, const char *op, const char *host,
		   const char *arg, const char *data)
{
	return record_undo_push(&r->rec, op, host, arg, data);
}

/* Before the first write into the destination volume: how to put back
 * what was there (an empty volume emptied again; the helper image, loaded
 * by the first helper, removed). */
static int journal_first_write(struct vol_run *r, struct vol *v)
{
	if (undo_journal_helper_image(&r->rec, r->helper_absent_src,
				      r->helper_absent, &r->helper_journaled) < 0)
		return -1;
	if (v->was_empty) {
		char *before = json_text(v->was_empty);
		int ret;

		ret = journal(r, UNDO_EMPTY, UNDO_DEST, v->dst_name, before);
		free(before);
		return ret;
	}
	return 0;
}

static int make_helpers(struct vol_run *r, struct vol *v)
{
	if (journal_first_write(r, v) < 0)
		return -1;
	v->sh = helper_create(r->src, v->src_name, 1);
	if (!v->sh || journal(r, UNDO_HELPER, UNDO_SOURCE, v->sh, NULL) < 0)
		return -1;
	v->dh = helper_create(r->dst, v->dst_name, 0);
	if (!v->dh)
		return -1;
	return journal(r, UNDO_HELPER, UNDO_DEST, v->dh, NULL);
}

static int copy_one(struct vol_run *r, struct vol *v, struct xfer_stats *st)
{
	char back[65];
	yajl_val d = NULL;
	int ret = -1, f;

	if (v->replace && volume_remove(r->dst, v->dst_name) < 0)
		return dm_error_wrap("replacing volume %s at %s", v->dst_name,
				     r->o->to);
	f = volume_inspect(r->dst, v->dst_name, &d);
	yajl_tree_free(d);
	if (f < 0)
		return -1;
	/* absent now: the name is ours to remove, journaled before it
	 * exists so that a run killed meanwhile still names it */
	if (f == 0 &&
	    (journal(r, UNDO_VOLUME, UNDO_DEST, v->dst_name, NULL) < 0 ||
	     volume_create_like(r->dst, v->info, v->dst_name) < 0))
		return -1;
	record_phase_begin(&r->rec, "transfer");
	dm_test_pause("transfer");
	if (volume_is_ephemeral(v->info)) {
		fprintf(stderr, "Volume %s is a tmpfs: its settings are "
			"copied, it holds no content\n", v->src_name);
		return 0;
	}
	if (make_helpers(r, v) < 0)
		goto out;
	{
		struct progress p;
		char *label = xasprintf("volume %s", v->src_name);
		int rc;

		progress_start(&p, r->cli->progress, label, st, 0);
		rc = volume_copy(r->src, v->sh, r->dst, v->dh, v->digest, st);
		progress_stop(&p);
		free(label);
		if (rc < 0)
			goto out;
	}
	record_phase_begin(&r->rec, "verify");
	if (volume_digest(r->dst, v->dh, back, &v->entries) < 0)
		goto out;
	if (strcmp(back, v->digest) != 0) {
		dm_error("volume %s differs at %s after the copy (tree digest "
			 "%.12s, sent %.12s)", v->dst_name, r->o->to, back,
			 v->digest);
		goto out;
	}
	ret = 0;
out:
	{
		struct dm_err why;

		dm_error_save(&why);
		drop_helper(r->src, &v->sh);
		drop_helper(r->dst, &v->dh);
		dm_error_restore(&why);	/* the copy's error, not the cleanup's */
	}
	return ret;
}

/* Apply the journal: the source's helpers first, then the destination,
 * reached again if its link died. */
static int undo(void *ctx)
{
	struct vol_run *r = ctx;
	int ok;

	dm_rollback_begin();
	ok = undo_journal(&r->rec, UNDO_SOURCE, r->src, NULL) == 0;
	if (cli_dest_revive(r->cli, r->o->to, &r->dst, &r->link) < 0) {
		dm_warn("%s; volumes this run made there are left: docker "
			"migrate rollback %s removes them", dm_errmsg(),
			r->rec.id);
		return -1;
	}
	if (undo_journal(&r->rec, UNDO_DEST, r->dst, r->link) < 0)
		ok = 0;
	return ok ? 0 : -1;
}

static void report(void *ctx)
{
	struct vol_run *r = ctx;
	record_print(&r->rec, r->o->json, stdout);
	if (r->o->json)
		return;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].entries)
			printf("  volume %s -> %s: %zu entries, tree digest %.16s "
			       "on both sides\n", r->v[i].src_name,
			       r->v[i].dst_name, r->v[i].entries, r->v[i].digest);
}

/* Copy every volume, undoing the journal on a failure: the exit status. */
static int run(struct vol_run *r, const char *cfgdir)
{
	struct xfer_stats st = { 0 };
	struct strbuf what = STRBUF_INIT;
	int ret = 0;

	for (size_t i = 0; i < r->n; i++)
		sb_addf(&what, "%s%s", i ? "," : "", r->v[i].src_name);
	if (record_begin(&r->rec, cfgdir, "volumes", sb_str(&what),
			 engine_name(r->src), r->o->to, "archive") < 0) {
		sb_release(&what);
		return cmd_failed_status(0);
	}
	sb_release(&what);
	record_set_status(&r->rec, "running");
	for (size_t i = 0; i < r->n && ret == 0; i++) {
		if (dm_cancelled())
			ret = dm_error_kind(DM_ERR_INTERRUPTED, "interrupted");
		else
			ret = copy_one(r, &r->v[i], &st);
	}
	r->rec.bytes = st.bytes;
	if (ret < 0)
		return runner_failed(&r->rec, undo, report, r, "");
	record_phase_end(&r->rec);
	record_set_status(&r->rec, "completed");
	report(r);
	return DM_EXIT_OK;
}

int migrate_volumes(struct cli *cli, const struct volumes_opts *o)
{
	struct vol_run r = { .cli = cli, .o = o };
	struct strlist names = { 0 };
	char *cfgdir = cli_config_dir(cli);
	struct dm_err err;
	int ret = 1;

	r.src = cli_source_engine(cli);
	if (!r.src)
		goto fail;
	if (o->container && container_volumes(&r, &names) < 0)
		goto fail;
	for (size_t i = 0; !o->container && i < o->n; i++) {
		strlist_add(&names, o->names[i]);
		warn_in_use(&r, o->names[i]);
	}
	if (check_renames(o, &names) < 0)
		goto fail;
	r.n = names.n;
	r.v = xcalloc(r.n, sizeof(*r.v));
	for (size_t i = 0; i < r.n; i++) {
		r.v[i].src_name = names.v[i];
		r.v[i].dst_name = xstrdup(renamed(o, names.v[i]));
	}
	r.dst = cli_dest_engine(cli, o->to, &r.link);
	if (!r.dst || check(&r) < 0)
		goto fail;
	if (o->dry_run) {
		printf("Plan: copy %zu volume(s) from %s to %s\n", r.n,
		       engine_name(r.src), o->to);
		for (size_t i = 0; i < r.n; i++)
			printf("  %s -> %s (%s, driver %s)\n", r.v[i].src_name,
			       r.v[i].dst_name, r.v[i].replace ? "replace" : "new",
			       json_str(r.v[i].info, "Driver", NULL) ?: "?");
		ret = 0;
		goto out;
	}
	ret = run(&r, cfgdir);
	goto out;
fail:
	ret = cmd_failed_status(0);
out:
	dm_error_save(&err);	/* the cleanup's errors are not the run's */
	for (size_t i = 0; i < r.n; i++) {
		yajl_tree_free(r.v[i].info);
		yajl_tree_free(r.v[i].was_empty);
		free(r.v[i].dst_name);
		free(r.v[i].sh);
		free(r.v[i].dh);
	}
	free(r.v);
	strlist_clear(&names);
	engine_free(r.dst);
	sshlink_close(r.link);
	engine_free(r.src);
	record_release(&r.rec);
	free(cfgdir);
	dm_error_restore(&err);
	return ret;
}
