/*
 * precheck_gather.c - the facts precheck.c judges, asked of the
 * destination (its engine, and its host over the SSH link the move
 * already holds) and of the source: nothing is installed or started on
 * either host.  The host's sockets and addresses are read from /proc/net
 * in the login's shell, which sees the network namespace dockerd
 * publishes ports in.
 */
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "engine.h"
#include "json.h"
#include "precheck.h"
#include "recreate.h"
#include "sshlink.h"

/* The listing is a few kB on a plain host; this bounds a host with
 * thousands of sockets */
#define PROC_MAX (8u << 20)

int precheck_gather(struct engine *dst, struct sshlink *link,
		    const char *dest, struct dest_facts *f)
{
	struct strbuf out = STRBUF_INIT;

	memset(f, 0, sizeof(*f));
	f->dest = dest;
	if (engine_get_json(dst, "/containers/json", &f->containers) < 0 ||
	    engine_get_json(dst, "/networks", &f->networks) < 0)
		return -1;
	if (sshlink_run(link, PRECHECK_PROC_CMD, &out, PROC_MAX) < 0) {
		/* the ports are then judged by the engine's containers
		 * alone: say so rather than refuse the move */
		dm_warn("cannot read the sockets of %s (%s): ports in use by "
			"other programs there are not checked", dest,
			dm_errmsg());
		dm_clear_error();
		sb_release(&out);
		return 0;
	}
	f->proc = sb_detach(&out);
	return 0;
}

void dest_facts_release(struct dest_facts *f)
{
	yajl_tree_free(f->containers);
	yajl_tree_free(f->networks);
	free(f->proc);
	memset(f, 0, sizeof(*f));
}

static long net_inspect(struct engine *e, const char *name, yajl_val *out)
{
	char *q = engine_escape(name);
	char *path = xasprintf("/networks/%s", q);
	long st = engine_get_json_opt(e, path, out);

	free(q);
	free(path);
	if (st == 404) {
		yajl_tree_free(*out);
		*out = NULL;
	}
	return st;
}

int precheck_gather_nets(struct engine *src, struct engine *dst,
			 yajl_val ins, struct net_pair **out, size_t *n)
{
	yajl_val nets = json_get(ins, "NetworkSettings", "Networks", NULL);
	size_t k = 0;

	*out = xcalloc(json_olen(nets) + 1, sizeof(**out));
	*n = 0;
	for (size_t i = 0; i < json_olen(nets); i++) {
		const char *name = nets->u.object.keys[i];
		struct net_pair *p = &(*out)[k];

		if (dm_streq(name, "host") || dm_streq(name, "none"))
			continue;
		p->name = name;
		k++;
		*n = k;
		if (!network_is_builtin(name) &&
		    (net_inspect(src, name, &p->src) < 0 || !p->src))
			return dm_error("network %s of the container is gone "
					"from the source", name);
		if (net_inspect(dst, name, &p->dst) < 0)
			return -1;
	}
	return 0;
}

void net_pairs_release(struct net_pair *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++) {
		yajl_tree_free(p[i].src);
		yajl_tree_free(p[i].dst);
	}
	free(p);
}

int precheck_missing_paths(struct sshlink *link, const struct strlist *paths,
			   struct strlist *missing)
{
	struct strbuf cmd = STRBUF_INIT, out = STRBUF_INIT;
	int ret = 0;

	if (!paths->n)
		return 0;
	/* every path quoted: nothing from the container reaches a shell raw */
	sb_adds(&cmd, "for p in");
	for (size_t i = 0; i < paths->n; i++) {
		char *q = sh_quote(paths->v[i]);

		sb_addf(&cmd, " %s", q);
		free(q);
	}
	sb_adds(&cmd, "; do [ -e \"$p\" ] && printf 'y' || printf 'n'; done");
	if (sshlink_run(link, sb_str(&cmd), &out, 1 << 16) < 0)
		ret = -1;
	else if (out.len != paths->n)
		ret = dm_error("cannot check paths on the destination host "
			       "(got \"%s\")", sb_str(&out));
	for (size_t i = 0; ret == 0 && i < paths->n; i++)
		if (out.buf[i] == 'n')
			strlist_add(missing, paths->v[i]);
	sb_release(&cmd);
	sb_release(&out);
	return ret;
}
