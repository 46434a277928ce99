/*
 * swarm.c - what a swarm manager's Engine API says of nodes, services
 * and tasks, and the one change a service move makes to a spec: where its
 * task may run, and how many.
 */
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "json.h"
#include "opt.h"
#include "sshlink.h"
#include "swarm.h"

void swarm_node_release(struct swarm_node *n)
{
	free(n->id);
	free(n->hostname);
	free(n->addr);
	memset(n, 0, sizeof(*n));
}

void swarm_task_release(struct swarm_task *t)
{
	free(t->id);
	free(t->node);
	free(t->container);
	free(t->state);
	free(t->err);
	memset(t, 0, sizeof(*t));
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int swarm_manager(struct engine *mgr, char **self)
{
	yajl_val info = NULL;
	const char *state, *node;

	if (engine_get_json(mgr, "/info", &info) < 0)
		return -1;
	state = json_str(info, "Swarm", "LocalNodeState", NULL);
	node = json_str(info, "Swarm", "NodeID", NULL);
	if (!dm_streq(state, "active") || !node || !*node) {
		yajl_tree_free(info);
		return dm_error_kind(DM_ERR_SOURCE,
				     "%s is not part of a swarm: services are "
				     "moved from a manager's context "
				     "(docker --context MANAGER migrate service)",
				     engine_name(mgr));
	}
	if (!json_true(info, "Swarm", "ControlAvailable", NULL)) {
		yajl_tree_free(info);
		return dm_error_kind(DM_ERR_SOURCE,
				     "%s is a swarm worker: services are moved "
				     "from a manager's context (docker node ls "
				     "there lists the managers)",
				     engine_name(mgr));
	}
	*self = xstrdup(node);
	yajl_tree_free(info);
	return 0;
}

int swarm_node_find(struct engine *mgr, const char *name, struct swarm_node *n)
{
	char *e = engine_escape(name);
	char *path = xasprintf("/nodes/%s", e);
	yajl_val v = NULL;
	long st = engine_get_json_opt(mgr, path, &v);

	free(path);
	free(e);
	memset(n, 0, sizeof(*n));
	if (st < 0)
		return -1;
	if (st == 404 || !v) {
		yajl_tree_free(v);
		return dm_error_kind(DM_ERR_DEST,
				     "no swarm node %s: 'docker node ls' on %s "
				     "lists them", name, engine_name(mgr));
	}
	n->id = dup_or_null(json_str(v, "ID", NULL));
	n->hostname = dup_or_null(json_str(v, "Description", "Hostname", NULL));
	n->addr = dup_or_null(json_str(v, "Status", "Addr", NULL));
	n->ready = dm_streq(json_str(v, "Status", "State", NULL), "ready");
	n->active = dm_streq(json_str(v, "Spec", "Availability", NULL),
			     "active");
	yajl_tree_free(v);
	if (!n->id || !n->hostname)
		return dm_error("swarm node %s: the manager's inspect has no "
				"ID or hostname", name);
	return 0;
}

/* Does ssh config give this host a HostName, or does it resolve? */
static int host_reachable_by_name(const char *host, const char *cfg)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	int ok;

	if (ssh_config_names_host(cfg, host))
		return 1;
	ok = getaddrinfo(host, NULL, &hints, &res) == 0;
	if (res)
		freeaddrinfo(res);
	return ok;
}

char *swarm_node_target(const struct swarm_node *n, const char *cfg)
{
	if (host_reachable_by_name(n->hostname, cfg) || !n->addr ||
	    !*n->addr || dm_streq(n->addr, "0.0.0.0"))
		return xstrdup(n->hostname);
	return xstrdup(n->addr);
}

char *swarm_dest_target(struct engine *e, const char *name, const char *cfg)
{
	struct swarm_node n;
	char *self = NULL, *target = NULL;

	if (host_reachable_by_name(name, cfg))
		return NULL;
	if (swarm_manager(e, &self) == 0 && swarm_node_find(e, name, &n) == 0)
		target = swarm_node_target(&n, cfg);
	dm_clear_error();
	swarm_node_release(&n);
	free(self);
	return target;
}

int swarm_service_get(struct engine *mgr, const char *name, yajl_val *out)
{
	char *e = engine_escape(name);
	char *path = xasprintf("/services/%s?insertDefaults=false", e);
	long st = engine_get_json_opt(mgr, path, out);

	free(path);
	free(e);
	if (st < 0)
		return -1;
	if (st == 404 || !*out)
		return dm_error_kind(DM_ERR_SOURCE,
				     "no such service: %s (on %s)", name,
				     engine_name(mgr));
	return 0;
}

int swarm_service_update(struct engine *mgr, const char *id, uint64_t version,
			 const char *spec)
{
	char *e = engine_escape(id);
	char *path = xasprintf("/services/%s/update?version=%llu", e,
			       (unsigned long long)version);
	long st = engine_post_json(mgr, path, spec, NULL);

	free(path);
	free(e);
	return st < 0 ? -1 : 0;
}

/* Of the tasks that should run, the newest (by Version.Index). */
int swarm_task_current(struct engine *mgr, const char *service,
		       struct swarm_task *t)
{
	char *q = xasprintf("{\"service\":{\"%s\":true},"
			    "\"desired-state\":{\"running\":true}}", service);
	char *eq = engine_escape(q);
	char *path = xasprintf("/tasks?filters=%s", eq);
	yajl_val v = NULL, best = NULL;
	long long best_ix = -1;

	free(q);
	free(eq);
	memset(t, 0, sizeof(*t));
	if (engine_get_json(mgr, path, &v) < 0) {
		free(path);
		return -1;
	}
	free(path);
	for (size_t i = 0; i < json_alen(v); i++) {
		yajl_val task = v->u.array.values[i];
		long long ix = json_int(task, -1, "Version", "Index", NULL);

		if (ix > best_ix) {
			best_ix = ix;
			best = task;
		}
	}
	if (best) {
		t->id = dup_or_null(json_str(best, "ID", NULL));
		t->node = dup_or_null(json_str(best, "NodeID", NULL));
		t->container = dup_or_null(json_str(best, "Status",
						     "ContainerStatus",
						     "ContainerID", NULL));
		t->state = dup_or_null(json_str(best, "Status", "State", NULL));
		t->err = dup_or_null(json_str(best, "Status", "Err", NULL));
	}
	yajl_tree_free(v);
	return best ? 0 : 1;
}

/* ------------------------------------------------------------------ */
/* the spec                                                            */

long long service_replicas(yajl_val spec)
{
	yajl_val r = json_get(spec, "Mode", "Replicated", NULL);

	if (!r || !YAJL_IS_OBJECT(r))
		return -1;
	return json_int(r, 1, "Replicas", NULL);
}

/* A constraint that names a node: it would keep the task where it was. */
static int names_node(const char *c)
{
	while (*c == ' ')
		c++;
	return dm_starts_with(c, "node.id") ||
	       dm_starts_with(c, "node.hostname");
}

static void gen_constraints(yajl_gen g, yajl_val old, const char *node_id)
{
	char *pin = xasprintf("node.id==%s", node_id);

	yajl_gen_array_open(g);
	for (size_t i = 0; i < json_alen(old); i++) {
		yajl_val c = old->u.array.values[i];

		if (YAJL_IS_STRING(c) && names_node(c->u.string))
			continue;
		json_gen_value(g, c);
	}
	json_gen_str(g, pin);
	yajl_gen_array_close(g);
	free(pin);
}

/* Copy object v into g; at the keys of path (NULL-ended), go down and
 * let leaf() write the value of the last key (present or not). */
static void gen_edit(yajl_gen g, yajl_val v, const char *const *path,
		     void (*leaf)(yajl_gen, yajl_val, const void *),
		     const void *arg)
{
	int seen = 0;

	yajl_gen_map_open(g);
	for (size_t i = 0; v && YAJL_IS_OBJECT(v) && i < v->u.object.len; i++) {
		const char *k = v->u.object.keys[i];
		yajl_val c = v->u.object.values[i];

		json_gen_str(g, k);
		if (!dm_streq(k, path[0])) {
			json_gen_value(g, c);
			continue;
		}
		seen = 1;
		if (path[1])
			gen_edit(g, c, path + 1, leaf, arg);
		else
			leaf(g, c, arg);
	}
	if (!seen) {
		json_gen_str(g, path[0]);
		if (path[1])
			gen_edit(g, NULL, path + 1, leaf, arg);
		else
			leaf(g, NULL, arg);
	}
	yajl_gen_map_close(g);
}

static void leaf_replicas(yajl_gen g, yajl_val old, const void *arg)
{
	(void)old;
	yajl_gen_integer(g, *(const long long *)arg);
}

static void leaf_constraints(yajl_gen g, yajl_val old, const void *arg)
{
	gen_constraints(g, old, arg);
}

static char *edit(const char *text, const char *const *path,
		  void (*leaf)(yajl_gen, yajl_val, const void *),
		  const void *arg)
{
	yajl_val v = json_parse(text, strlen(text), "service spec");
	yajl_gen g;
	char *out;

	if (!v)
		return NULL;
	g = yajl_gen_alloc(NULL);
	gen_edit(g, v, path, leaf, arg);
	out = json_gen_take(g);
	yajl_gen_free(g);
	yajl_tree_free(v);
	return out;
}

char *service_spec_placed(yajl_val spec, long long replicas,
			  const char *node_id)
{
	static const char *const rep[] = { "Mode", "Replicated", "Replicas",
					   NULL };
	static const char *const pl[] = { "TaskTemplate", "Placement",
					  "Constraints", NULL };
	char *text = json_text(spec), *next;

	if (replicas >= 0) {
		next = edit(text, rep, leaf_replicas, &replicas);
		free(text);
		text = next;
	}
	if (text && node_id) {
		next = edit(text, pl, leaf_constraints, node_id);
		free(text);
		text = next;
	}
	return text;
}

void service_volumes(yajl_val spec, struct strlist *names,
		     struct strlist *refused)
{
	yajl_val m = json_get(spec, "TaskTemplate", "ContainerSpec", "Mounts",
			      NULL);

	for (size_t i = 0; i < json_alen(m); i++) {
		yajl_val mt = m->u.array.values[i];
		const char *type = json_str(mt, "Type", NULL);
		const char *src = json_str(mt, "Source", NULL);
		const char *dst = json_str(mt, "Target", NULL);
		const char *drv = json_str(mt, "VolumeOptions", "DriverConfig",
					   "Name", NULL);
		char *why = NULL;

		if (dm_streq(type, "volume") && (!src || !*src))
			why = xasprintf("anonymous volume at %s (each task "
					"gets a new one)", dst ? dst : "?");
		else if (dm_streq(type, "volume") && drv && *drv &&
			 !dm_streq(drv, "local"))
			why = xasprintf("volume %s of driver %s", src, drv);
		else if (dm_streq(type, "bind"))
			why = xasprintf("bind mount %s (a path of the node)",
					src ? src : "?");
		else if (dm_streq(type, "volume"))
			strlist_add(names, src);
		if (why) {
			strlist_add(refused, why);
			free(why);
		}
	}
}
