/*
 * undo.c - apply an undo journal (see undo.h).  One function per inverse,
 * found by the op's name: the record on disk names only operations, so a
 * later process can finish what a killed one left.  Every inverse may run
 * twice (a rollback killed in turn is taken up again): removing what is
 * gone already, starting what runs, are no errors.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "dm.h"
#include "json.h"
#include "swarm.h"
#include "transfer.h"
#include "undo.h"
#include "volume.h"

struct target {
	struct engine *e;
	struct sshlink *link;
	const struct rec_undo *u;
};

static int delete_path(const struct target *t, const char *fmt, int esc)
{
	char *e = esc ? engine_escape(t->u->arg) : xstrdup(t->u->arg);
	char *path = xasprintf(fmt, e);
	long st = engine_delete(t->e, path);

	free(path);
	free(e);
	return st < 0 ? -1 : 0;
}

static int u_start(const struct target *t)
{
	char *path = xasprintf("/containers/%s/start", t->u->arg);
	long st = engine_post_json(t->e, path, NULL, NULL);

	free(path);
	return st < 0 ? -1 : 0;
}

/* Only a container still paused: one stopped meanwhile is started by its
 * own entry, and an unpause would be refused. */
static int u_unpause(const struct target *t)
{
	char *path = xasprintf("/containers/%s/json", t->u->arg);
	yajl_val v = NULL;
	long st = engine_get_json_opt(t->e, path, &v);
	int paused = json_true(v, "State", "Paused", NULL);

	yajl_tree_free(v);
	free(path);
	if (st < 0)
		return -1;
	if (!paused)
		return 0;
	path = xasprintf("/containers/%s/unpause", t->u->arg);
	st = engine_post_json(t->e, path, NULL, NULL);
	free(path);
	return st < 0 ? -1 : 0;
}

long container_set_restart_policy(struct engine *e, const char *id,
				  yajl_val policy)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	char *path = xasprintf("/containers/%s/update", id), *body;
	long st;

	yajl_gen_map_open(g);
	json_gen_str(g, "RestartPolicy");
	json_gen_value(g, policy);
	yajl_gen_map_close(g);
	body = json_gen_take(g);
	st = engine_post_json(e, path, body, NULL);
	yajl_gen_free(g);
	free(body);
	free(path);
	return st;
}

static int u_policy(const struct target *t)
{
	const char *d = t->u->data ? t->u->data : "{}";
	yajl_val p = json_parse(d, strlen(d), "restart policy");
	long st;

	if (!p)
		return -1;
	st = container_set_restart_policy(t->e, t->u->arg, p);
	yajl_tree_free(p);
	return st < 0 ? -1 : 0;
}

static int u_container(const struct target *t)
{
	return delete_path(t, "/containers/%s?force=1&v=1", 1);
}

static int u_helper(const struct target *t)
{
	return helper_remove(t->e, t->u->arg);
}

static int u_network(const struct target *t)
{
	return delete_path(t, "/networks/%s", 1);
}

static int u_volume(const struct target *t)
{
	return volume_remove(t->e, t->u->arg);
}

static int u_empty(const struct target *t)
{
	const char *d = t->u->data ? t->u->data : "{}";
	yajl_val before = json_parse(d, strlen(d), "volume inspect");
	int r;

	if (!before)
		return -1;
	r = volume_empty_again(t->e, before, t->u->arg);
	yajl_tree_free(before);
	return r;
}

static int u_dir(const struct target *t)
{
	char *q, *cmd;
	struct strbuf out = STRBUF_INIT;
	int r;

	if (!t->link)
		return dm_error("no SSH link to %s", engine_name(t->e));
	q = sh_quote(t->u->arg);
	cmd = xasprintf("rm -rf -- %s", q);
	r = sshlink_run(t->link, cmd, &out, 4096);
	free(cmd);
	free(q);
	sb_release(&out);
	return r;
}

/* A tool of ours loaded for this move: gone with it, but an image some
 * other run uses now stays (no force), and that is no failure. */
static int u_helper_image(const struct target *t)
{
	if (delete_path(t, "/images/%s", 1) < 0)
		dm_clear_error();
	return 0;
}

static int u_retag(const struct target *t)
{
	return image_tag(t->e, t->u->data ? t->u->data : "", t->u->arg);
}

static int u_image(const struct target *t)
{
	return delete_path(t, "/images/%s?force=1", 1);
}

static int u_untag(const struct target *t)
{
	return delete_path(t, "/images/%s?noprune=1", 1);
}

/* A source stopped by its checkpoint runs again from it, where it was;
 * when that fails it is started afresh: never left stopped. */
static int u_ckpt_start(const struct target *t)
{
	char *path = xasprintf("/containers/%s/json", t->u->arg);
	yajl_val v = NULL;
	long st = engine_get_json_opt(t->e, path, &v);
	int running = json_true(v, "State", "Running", NULL);

	yajl_tree_free(v);
	free(path);
	if (st < 0)
		return -1;
	if (running || st == 404)
		return 0;
	if (t->u->data && checkpoint_start(t->e, t->u->arg, t->u->data) == 0)
		return 0;
	dm_warn("cannot restore %.12s from its checkpoint (%s): starting it "
		"afresh", t->u->arg, dm_errmsg());
	return u_start(t);
}

static int u_ckpt_remove(const struct target *t)
{
	return checkpoint_remove(t->e, t->u->arg, t->u->data ? t->u->data
				 : "");
}

/* The service's spec as it was before the move: its task goes back to
 * the node it ran on, where its volumes were never written to. */
static int u_service(const struct target *t)
{
	yajl_val svc = NULL;
	char *e = engine_escape(t->u->arg);
	char *path = xasprintf("/services/%s", e);
	long st = engine_get_json_opt(t->e, path, &svc);
	int r = st < 0 ? -1 : 0;

	free(path);
	free(e);
	if (st != 404 && svc)	/* a service removed meanwhile: nothing */
		r = swarm_service_update(t->e, t->u->arg,
					 (uint64_t)json_int(svc, 0, "Version",
							    "Index", NULL),
					 t->u->data ? t->u->data : "{}");
	yajl_tree_free(svc);
	return r;
}

/* The containers a service's tasks left at this node, which hold the
 * volumes a rollback removes.  The swarm may be making one as its spec
 * changes back: asked again until none is seen twice (10 s at most). */
static int u_tasks(const struct target *t)
{
	char *q = xasprintf("{\"label\":{\"com.docker.swarm.service.id=%s\""
			    ":true}}", t->u->arg);
	char *eq = engine_escape(q), *path;
	int64_t deadline = dm_now_ms() + 10000;
	int quiet = 0, r = 0;

	path = xasprintf("/containers/json?all=1&filters=%s", eq);
	free(q);
	free(eq);
	while (quiet < 2 && r == 0) {
		yajl_val list = NULL;

		if (engine_get_json(t->e, path, &list) < 0) {
			r = -1;
			break;
		}
		quiet = json_alen(list) ? 0 : quiet + 1;
		for (size_t i = 0; i < json_alen(list); i++) {
			const char *id = json_str(list->u.array.values[i],
						  "Id", NULL);
			char *del = xasprintf("/containers/%s?force=1", id);

			if (id && engine_delete(t->e, del) < 0)
				r = -1;
			free(del);
		}
		yajl_tree_free(list);
		if (dm_now_ms() > deadline)
			break;
		if (quiet < 2)
			usleep(500 * 1000);
	}
	free(path);
	return r;
}

static const struct inverse {
	const char *op;
	int (*fn)(const struct target *);
} inverses[] = {
	{ UNDO_START, u_start },
	{ UNDO_UNPAUSE, u_unpause },
	{ UNDO_POLICY, u_policy },
	{ UNDO_CONTAINER, u_container },
	{ UNDO_HELPER, u_helper },
	{ UNDO_NETWORK, u_network },
	{ UNDO_VOLUME, u_volume },
	{ UNDO_EMPTY, u_empty },
	{ UNDO_DIR, u_dir },
	{ UNDO_HELPER_IMAGE, u_helper_image },
	{ UNDO_RETAG, u_retag },
	{ UNDO_IMAGE, u_image },
	{ UNDO_UNTAG, u_untag },
	{ UNDO_CKPT_START, u_ckpt_start },
	{ UNDO_CKPT_REMOVE, u_ckpt_remove },
	{ UNDO_SERVICE, u_service },
	{ UNDO_TASKS, u_tasks },
	{ NULL, NULL },
};

static const struct inverse *inverse_of(const char *op)
{
	for (const struct inverse *i = inverses; i->op; i++)
		if (strcmp(i->op, op) == 0)
			return i;
	return NULL;
}

int undo_journal(struct migration *m, const char *host, struct engine *e,
		 struct sshlink *link)
{
	int ok = 1;

	for (size_t i = m->njournal; i-- > 0;) {
		const struct rec_undo *u = &m->journal[i];
		const struct inverse *inv;
		struct target t = { e, link, u };

		if (u->done || strcmp(u->host, host) != 0)
			continue;
		inv = inverse_of(u->op);
		if (!inv) {
			dm_warn("the record asks to %s %s: unknown here, left",
				u->op, u->arg);
			ok = 0;
			continue;
		}
		if (!e || inv->fn(&t) < 0) {
			dm_warn("cannot %s %s at the %s: %s", u->op, u->arg, host,
				e ? dm_errmsg() : "not reachable");
			ok = 0;
			continue;
		}
		record_undo_done(m, i);
	}
	return ok ? 0 : -1;
}

int undo_journal_helper_image(struct migration *m, int absent_src,
			      int absent_dst, int *done)
{
	if (*done)
		return 0;
	if ((absent_src && record_undo_push(m, UNDO_HELPER_IMAGE, UNDO_SOURCE,
					    helper_image(), NULL) < 0) ||
	    (absent_dst && record_undo_push(m, UNDO_HELPER_IMAGE, UNDO_DEST,
					    helper_image(), NULL) < 0))
		return -1;
	*done = 1;
	return 0;
}
