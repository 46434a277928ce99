/*
 * migrate_container.c - move a container to another engine.  The checks
 * gather facts at both ends; the planner (plan.c) turns them and the
 * options into the ordered steps; one runner executes the steps from a
 * table, recording each one.  Every step that changes something at
 * either host journals its inverse in the record before the next begins
 * (undo.c); any failure (or Ctrl-C) applies the journal in reverse, and
 * "docker migrate rollback ID" does it for a run killed outright.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "dm.h"
#include "interrupt.h"
#include "json.h"
#include "progress.h"
#include "image_send.h"
#include "lock.h"
#include "handover.h"
#include "migrate.h"
#include "migrate_checkpoint.h"
#include "netorder.h"
#include "plan.h"
#include "precheck.h"
#include "recreate.h"
#include "runner.h"
#include "record.h"
#include "transfer.h"
#include "undo.h"
#include "volsync.h"
#include "volmove.h"
#include "volume.h"

struct handover {
	struct cli *cli;
	const char *cfgdir;
	const struct container_opts *o;
	const struct strategy *strategy;
	struct engine *src, *dst;
	struct sshlink *link;
	/* facts: what the checks found */
	yajl_val ins;		/* the source container's inspect */
	const char *name;	/* without the leading "/" */
	const char *src_id;
	int running;
	char *image_ref;	/* what the copy is created from */
	struct image_info img;	/* on the source */
	int image_present;	/* at the destination before we began */
	int64_t image_bytes;	/* its missing layers' size */
	struct recreate_out plan;
	struct dest_facts facts;	/* the destination, as precheck.c
					 * judges it */
	struct strlist nets_missing;
	/* image_ref at the destination, by its ids there (on the
	 * containerd store not the source's): before the load */
	struct hvol *vols;
	size_t nvols;
	struct volmove vm;	/* how they move (the helper image, ...) */
	char *owner;		/* "container NAME", for messages */
	size_t rootfs_changes;	/* in the container layer, ours excluded */
	int64_t rootfs_bytes;
	/* the plan: the steps, from the facts and the options */
	struct plan steps;
	/* what the steps did (the journal has how to undo it) */
	char *dst_id;
	int src_paused;		/* --pause: frozen for the final pass */
	int nets_after_start;	/* the extra networks joined once it runs,
				 * in the source's order (netorder.h) */
	int anon_named;		/* the engine's anonymous volumes made again
				 * by us: the copy mounts them by name */
	int anon_fallback;	/* ... or the source's names, as before */
	char *body_named;	/* the create's body then */
	int copy_journaled;	/* ... and the copy's */
	int64_t stopped_at;	/* ms: the source stopped serving */
	char *commit_id;	/* the source's layer, committed as an image:
				 * a name, since image ids differ between
				 * stores (the containerd store's is the
				 * manifest's digest) */
	char *ref_dst_id;	/* image_ref's image at the destination
				 * while the commit borrows the name */
	int64_t check_started;	/* ms since the epoch */
	struct ckpt_move ckpt;	/* --checkpoint: the memory's move */
	struct migration rec;
	/* a group move's: its journal (else rec's), its engines */
	struct migration *jr;
	int borrowed;
};

/* Where the undo entries and the bytes go: the group's one record, or
 * our own. */
static struct migration *jrec(struct handover *h)
{
	return h->jr ? h->jr : &h->rec;
}

/* Journal an inverse (written to the record on disk before returning). */
static int journal(struct handover *h, const char *op, const char *host,
		   const char *arg, const char *data)
{
	return record_undo_push(jrec(h), op, host, arg, data);
}

static char *esc(const char *s)
{
	return engine_escape(s);
}

/* ------------------------------------------------------------------ */
/* check                                                               */

static int inspect_source(struct handover *h)
{
	char *e = esc(h->o->container);
	char *path = xasprintf("/containers/%s/json", e);
	long st = engine_get_json_opt(h->src, path, &h->ins);

	free(e);
	free(path);
	if (st < 0)
		return -1;
	if (st == 404 || !h->ins)
		return dm_error("no such container: %s (on %s)",
				h->o->container, engine_name(h->src));
	h->name = json_str(h->ins, "Name", NULL);
	if (h->name && h->name[0] == '/')
		h->name++;
	h->src_id = json_str(h->ins, "Id", NULL);
	if (!h->name || !h->src_id)
		return dm_error("%s: the engine's inspect has no Name or Id",
				h->o->container);
	if (json_true(h->ins, "State", "Paused", NULL))
		return dm_error("container %s is paused: unpause it first",
				h->name);
	h->running = json_true(h->ins, "State", "Running", NULL);
	return 0;
}

/* The reference the copy is created from: the user's tag when it still
 * names the container's image, else the image id. */
static int choose_image(struct handover *h)
{
	const char *cfg = json_str(h->ins, "Config", "Image", NULL);
	const char *id = json_str(h->ins, "Image", NULL);
	int r;

	if (!id)
		return dm_error("container %s has no image id", h->name);
	r = cfg ? image_inspect(h->src, cfg, &h->img) : 0;
	if (r < 0)
		return -1;
	if (r == 1 && dm_streq(h->img.id, id)) {
		h->image_ref = xstrdup(cfg);
		return 0;
	}
	image_info_release(&h->img);
	if (r == 1)
		dm_warn("%s now names another image than the one %s runs: "
			"moving the image by id", cfg, h->name);
	if (image_inspect(h->src, id, &h->img) != 1)
		return dm_error("the image of %s (%s) is gone from the source",
				h->name, id);
	h->image_ref = xstrdup(id);
	return 0;
}

static int check_name_free(struct handover *h)
{
	char *e = esc(h->name);
	char *path = xasprintf("/containers/%s/json", e);
	yajl_val v = NULL;
	long st = engine_get_json_opt(h->dst, path, &v);

	free(e);
	free(path);
	yajl_tree_free(v);
	if (st < 0)
		return -1;
	if (st != 404)
		return dm_error_kind(DM_ERR_CONFLICT, "a container named \"%s\" "
				     "already exists at %s: remove it there "
				     "first", h->name, h->o->to);
	return 0;
}

/* Which bind-mount sources are missing at the destination host. */
static int check_binds(struct handover *h, struct strlist *missing)
{
	struct strlist binds = { 0 };
	int ret;

	recreate_bind_sources(h->ins, &binds);
	ret = precheck_missing_paths(h->link, &binds, missing);
	strlist_clear(&binds);
	return ret;
}

static int check_networks(struct handover *h)
{
	for (size_t i = 0; i < h->plan.networks.n; i++) {
		char *e = esc(h->plan.networks.v[i]);
		char *path = xasprintf("/networks/%s", e);
		yajl_val v = NULL;
		long st = engine_get_json_opt(h->dst, path, &v);

		yajl_tree_free(v);
		free(e);
		free(path);
		if (st < 0)
			return -1;
		if (st == 404)
			strlist_add(&h->nets_missing, h->plan.networks.v[i]);
	}
	return 0;
}

/* Free space where the destination engine keeps its images and its
 * volumes, for what the plan sends there: the image when absent, the
 * volumes' content, and the container layer, which arrives after the
 * source stopped: a full disk found then would be downtime. */
static int check_space(struct handover *h, const struct plan_vol *pv)
{
	struct strbuf out = STRBUF_INIT;
	yajl_val info = NULL;
	const char *root;
	char *q, *cmd;
	unsigned long long avail_kb = 0;
	/* an image takes about its size once unpacked, more with the tar
	 * being read: ask for 1.2 times; so for the committed layer */
	double need = h->image_present ? 0 : (double)h->img.size * 1.2;
	int ret = 0;

	for (size_t i = 0; i < h->nvols; i++)
		if (!pv[i].bind && !pv[i].ephemeral && pv[i].size > 0)
			need += (double)pv[i].size;
	if (h->steps.rootfs && h->rootfs_bytes > 0)
		need += (double)h->rootfs_bytes * 1.2;
	if (need <= 0)
		return 0;
	if (engine_get_json(h->dst, "/info", &info) < 0)
		return -1;
	root = json_str(info, "DockerRootDir", NULL) ?: "/var/lib/docker";
	q = sh_quote(root);
	cmd = xasprintf("df -Pk %s | awk 'NR==2 {print $4}'", q);
	if (sshlink_run(h->link, cmd, &out, 256) == 0 &&
	    sscanf(sb_str(&out), "%llu", &avail_kb) == 1) {
		if ((double)avail_kb * 1024.0 < need) {
			char a[32], b[32];

			ret = dm_error_kind(DM_ERR_CONFLICT, "not enough space "
				       "at %s for the image, volumes and "
				       "container layer of %s (%s free in %s, "
				       "%s needed): free some there first",
				       h->o->to, h->name,
				       dm_human_bytes(avail_kb * 1024ULL, a, sizeof(a)),
				       root, dm_human_bytes((uint64_t)need,
							    b, sizeof(b)));
		}
	} else {
		dm_warn("cannot tell the free space in %s at %s; going on",
			root, h->o->to);
	}
	free(q);
	free(cmd);
	sb_release(&out);
	yajl_tree_free(info);
	return ret;
}

/* The size of each carried volume at the source (the engine's disk
 * usage report): the plan's estimate of its pre-copy.  Unknown (-1)
 * when the engine does not say. */
static void volume_sizes(struct handover *h, struct plan_vol *pv)
{
	yajl_val df = NULL, vols;

	for (size_t i = 0; i < h->nvols; i++)
		pv[i].size = -1;
	if (!h->plan.volumes.n)
		return;
	if (engine_get_json(h->src, "/system/df", &df) < 0) {
		dm_debug("no volume sizes: %s", dm_errmsg());
		dm_clear_error();
		return;
	}
	vols = json_get(df, "Volumes", NULL);
	for (size_t k = 0; k < json_alen(vols); k++) {
		yajl_val v = vols->u.array.values[k];
		const char *name = json_str(v, "Name", NULL);

		for (size_t i = 0; name && i < h->nvols; i++)
			if (!h->vols[i].bind && dm_streq(h->vols[i].name, name))
				pv[i].size = json_int(v, -1, "UsageData",
						      "Size", NULL);
	}
	yajl_tree_free(df);
}

/* The volumes as the planner sees them. */
static struct plan_vol *plan_vols(struct handover *h)
{
	struct plan_vol *pv = xcalloc(h->nvols + 1, sizeof(*pv));

	for (size_t i = 0; i < h->nvols; i++) {
		struct hvol *v = &h->vols[i];

		pv[i] = (struct plan_vol){ v->name, v->bind != NULL,
					   !v->bind && volume_is_ephemeral(v->info),
					   v->seeded ? 2 : v->was_empty != NULL,
					   -1, v->anonymous };
	}
	volume_sizes(h, pv);
	return pv;
}

static int release_copy(void *ctx);
static int create_container(void *ctx);

/* The copy is made again, its anonymous volumes kept (one of them made
 * again by us): it mounts them by their names there, which makes them
 * ours to remove (a copy removed with its volumes takes only anonymous
 * ones). */
static int name_anonymous(void *ctx)
{
	struct handover *h = ctx;

	if (h->anon_named)
		return 0;
	h->anon_named = 1;
	for (size_t i = 0; i < h->nvols; i++)
		if (h->vols[i].dst_name &&
		    journal(h, UNDO_VOLUME, UNDO_DEST, h->vols[i].dst_name,
			    NULL) < 0)
			return -1;
	return 0;
}

/* The volumes it mounts: each must be absent or empty at the destination
 * (a non-empty one would be mixed with the copy). */
static int check_volumes_free(struct handover *h)
{
	size_t nv = h->plan.volumes.n;

	h->nvols = nv + h->plan.bind_copies.n;
	h->vols = xcalloc(h->nvols + 1, sizeof(*h->vols));
	h->vm = (struct volmove){
		.src = h->src, .dst = h->dst, .link = h->link, .rec = jrec(h),
		.cfgdir = h->cfgdir,
		.dest = h->o->to, .progress = h->cli->progress,
		.running = h->running, .keep = h->o->keep,
		.verify_precopy_only = h->o->verify_precopy_only,
		.verify_full = h->o->verify_full,
		.verify_stat = h->o->verify_stat,
		.release = release_copy, .hold = create_container,
		.named = name_anonymous, .ctx = h,
	};
	h->vm.owner = h->owner = xasprintf("container %s", h->name);
	if (h->nvols && volmove_helper_check(&h->vm) < 0)
		return -1;
	for (size_t i = nv; i < h->nvols; i++)
		h->vols[i].name = h->vols[i].bind = h->plan.bind_copies.v[i - nv];
	for (size_t i = 0; i < nv; i++) {
		h->vols[i].name = h->plan.volumes.v[i];
		for (size_t a = 0; a < h->plan.anon.n; a++)
			h->vols[i].anonymous |= strcmp(h->plan.anon.v[a],
						       h->vols[i].name) == 0;
		if (volmove_check_dest(&h->vm, &h->vols[i]) < 0)
			return -1;
	}
	return 0;
}

/* Is p the path d, or a directory that leads to it? */
static int leads_to(const char *p, size_t n, const char *d)
{
	return d && strncmp(d, p, n) == 0 && (d[n] == '\0' || d[n] == '/');
}

/* Does p exist in the layer only because the engine put a mount point
 * there (volumes, binds, --tmpfs, the --init binary), or lead to one? */
static int engine_made(yajl_val ins, const char *p)
{
	yajl_val mounts = json_get(ins, "Mounts", NULL);
	yajl_val tmpfs = json_get(ins, "HostConfig", "Tmpfs", NULL);
	size_t n = p ? strlen(p) : 0;

	if (!p)
		return 1;
	if (leads_to(p, n, "/sbin/docker-init"))
		return 1;
	/* --tmpfs mounts are not in Mounts: HostConfig.Tmpfs's keys */
	for (size_t i = 0; i < json_olen(tmpfs); i++)
		if (leads_to(p, n, tmpfs->u.object.keys[i]))
			return 1;
	for (size_t i = 0; i < json_alen(mounts); i++) {
		if (leads_to(p, n, json_str(mounts->u.array.values[i],
					    "Destination", NULL)))
			return 1;
	}
	return 0;
}

/* The size of the container's writable layer (the engine computes it
 * only when asked): the plan's estimate of the rootfs step. */
static void rootfs_size(struct handover *h)
{
	char *path = xasprintf("/containers/%s/json?size=1", h->src_id);
	yajl_val v = NULL;

	h->rootfs_bytes = -1;
	if (engine_get_json(h->src, path, &v) == 0)
		h->rootfs_bytes = json_int(v, -1, "SizeRw", NULL);
	else
		dm_clear_error();
	yajl_tree_free(v);
	free(path);
}

/* Files added, changed or deleted in the container's writable layer:
 * they travel (as a committed layer) unless --rootfs=false. */
static int check_rootfs(struct handover *h)
{
	char *path = xasprintf("/containers/%s/changes", h->src_id);
	yajl_val v = NULL;
	size_t n;

	if (engine_get_json_opt(h->src, path, &v) < 0) {
		free(path);
		return -1;
	}
	free(path);
	n = 0;
	for (size_t i = 0; YAJL_IS_ARRAY(v) && i < json_alen(v); i++)
		if (!engine_made(h->ins, json_str(v->u.array.values[i], "Path",
						   NULL)))
			n++;
	yajl_tree_free(v);
	h->rootfs_changes = n;
	if (h->o->rootfs > 0 || (h->o->rootfs && n))
		rootfs_size(h);
	return 0;
}

static struct transfer transfer_of(struct handover *h, struct xfer_stats *st)
{
	return (struct transfer){ h->src, h->dst, st, h->o->reg.registry,
				  h->o->reg.no_push, h->o->reg.keep_tag,
				  h->cfgdir, cli_ssh_opts(h->cli).stall_timeout_s,
				  NULL, NULL, NULL };
}

/* The image's step, as the checks found it. */
static struct image_send image_step(struct handover *h)
{
	struct transfer t = transfer_of(h, NULL);

	return (struct image_send){ h->strategy, t, jrec(h), h->image_ref,
				    &h->img, h->image_present, h->o->to,
				    h->cli->progress, NULL };
}

static void image_estimate(struct handover *h)
{
	struct image_send s = image_step(h);

	h->image_bytes = image_send_estimate(&s);
}

/* The source engine's host name: a --network host container's
 * Config.Hostname is that name when the engine chose it (recreate.c). */
static char *source_hostname(struct handover *h)
{
	yajl_val info = NULL;
	char *name = NULL;

	if (dm_streq(json_str(h->ins, "HostConfig", "NetworkMode", NULL), "host")) {
		if (engine_get_json(h->src, "/info", &info) == 0 &&
		    json_str(info, "Name", NULL))
			name = xstrdup(json_str(info, "Name", NULL));
		dm_clear_error();
		yajl_tree_free(info);
	}
	return name;
}

static int join_problems(const struct strlist *l, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	int ret;

	for (size_t i = 0; i < l->n; i++)
		sb_addf(&sb, "%s%s", i ? "; " : "", l->v[i]);
	ret = dm_error("%s cannot move as it is: %s (pass --drop-unmovable "
		       "to leave these behind)", name, sb_str(&sb));
	sb_release(&sb);
	return ret;
}

/* What would make the copy's create or start fail there (precheck.c):
 * found now, before anything changes, not when the source is down. */
static int check_dest(struct handover *h)
{
	struct strlist problems = { 0 };
	struct net_pair *nets = NULL;
	size_t nn = 0;
	int ret = precheck_gather_nets(h->src, h->dst, h->ins, &nets, &nn);

	if (ret == 0) {
		precheck_ports(h->ins, &h->facts, &problems);
		precheck_networks(h->ins, &h->facts, nets, nn, &problems);
	}
	if (ret == 0 && problems.n) {
		struct strbuf sb = STRBUF_INIT;

		for (size_t i = 0; i < problems.n; i++)
			sb_addf(&sb, "%s%s", i ? "; " : "", problems.v[i]);
		ret = dm_error_kind(DM_ERR_CONFLICT, "%s cannot run at %s as "
				    "it is: %s", h->name, h->o->to, sb_str(&sb));
		sb_release(&sb);
	}
	strlist_clear(&problems);
	net_pairs_release(nets, nn);
	return ret;
}

/* The destination's facts, and which of the container's devices it
 * lacks: what decides which devices and links the copy keeps. */
static int gather_dest(struct handover *h, struct strlist *devs_missing,
		       struct strlist *running)
{
	struct strlist devs = { 0 };
	int r;

	if (precheck_gather(h->dst, h->link, h->o->to, &h->facts) < 0)
		return -1;
	precheck_running_names(&h->facts, running);
	precheck_device_paths(h->ins, &devs);
	r = precheck_missing_paths(h->link, &devs, devs_missing);
	strlist_clear(&devs);
	return r;
}

static int phase_check(struct handover *h)
{
	struct strlist missing = { 0 }, devs_missing = { 0 }, running = { 0 };
	struct image_info di;
	struct recreate_in in;
	char *src_host;
	int r;

	if (precheck_map_publish(h->ins, &h->o->publish_ip, h->name) < 0)
		return -1;
	if ((!h->image_ref && choose_image(h) < 0) || check_name_free(h) < 0)
		return -1;
	r = image_inspect(h->dst, h->img.id, &di);
	if (r < 0)
		return -1;
	h->image_present = r == 1;
	image_info_release(&di);
	if (h->image_present)	/* the export begun early is not needed */
		engine_prefetch_drop(h->src);
	r = check_binds(h, &missing);
	if (r == 0)
		r = gather_dest(h, &devs_missing, &running);
	src_host = source_hostname(h);
	in = (struct recreate_in){ h->ins, h->image_ref, &missing,
				   h->o->drop_unmovable, h->o->volumes,
				   h->o->bind_mode, engine_create_api(h->dst),
				   &devs_missing, &running, src_host, 0 };
	if (r == 0)
		r = recreate_plan(&in, &h->plan) < 0 ? -2 : 0;
	strlist_clear(&missing);
	strlist_clear(&devs_missing);
	strlist_clear(&running);
	free(src_host);
	if (r == -2)
		return join_problems(&h->plan.problems, h->name);
	if (r < 0)
		return -1;
	if (h->running)
		h->nets_after_start = netorder_keep(h->src, h->src_id, h->ins,
						    &h->plan);
	/* named in the report and the record, not only on stderr */
	for (size_t i = 0; i < h->plan.dropped.n; i++) {
		dm_warn("dropping %s", h->plan.dropped.v[i]);
		record_add_dropped(&h->rec, h->plan.dropped.v[i]);
	}
	for (size_t i = 0; i < h->plan.bind_skipped.n; i++) {
		char *what = xasprintf("bind mount %s: its path is missing at "
				       "%s (--bind-mounts skip)",
				       h->plan.bind_skipped.v[i], h->o->to);

		dm_warn("leaving out %s", what);
		record_add_dropped(&h->rec, what);
		free(what);
	}
	if (h->rec.path && record_save(&h->rec) < 0)
		return -1;
	if (check_networks(h) < 0 || check_dest(h) < 0 ||
	    check_volumes_free(h) < 0)
		return -1;
	if (check_rootfs(h) < 0)
		return -1;
	image_estimate(h);
	/* last: the probe is the only check that touches the source */
	if (h->o->checkpoint) {
		struct ckpt_opts co = { h->o->keep, h->o->pause,
					h->o->checkpoint_timeout_s };

		return checkpoint_probe(h->src, h->dst, h->ins, &co, &h->ckpt);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* transfer, create, start, stop                                       */

static int step_transfer(struct handover *h, const struct step *s)
{
	struct image_send is = image_step(h);
	int r;

	(void)s;
	r = image_send(&is);
	image_send_release(&is);
	return r;
}

static int create_networks(struct handover *h)
{
	for (size_t i = 0; i < h->nets_missing.n; i++) {
		const char *name = h->nets_missing.v[i];
		char *e = esc(name), *path = xasprintf("/networks/%s", e);
		yajl_val net = NULL;
		char *body;
		long st;

		st = engine_get_json(h->src, path, &net);
		free(e);
		free(path);
		if (st < 0)
			return dm_error_wrap("network %s", name);
		body = network_create_body(net);
		yajl_tree_free(net);
		/* absent at the check: the name is ours to remove */
		st = journal(h, UNDO_NETWORK, UNDO_DEST, name, NULL);
		if (st == 0)
			st = engine_post_json(h->dst, "/networks/create", body,
					      NULL);
		free(body);
		if (st < 0)
			return dm_error_wrap("creating network %s at %s", name,
					     h->o->to);
	}
	return 0;
}

static int connect_extra_networks(struct handover *h)
{
	for (size_t i = 0; i < h->plan.extra_nets.n; i++) {
		yajl_val ep = json_parse(h->plan.extra_bodies.v[i],
					 strlen(h->plan.extra_bodies.v[i]),
					 "endpoint");
		yajl_gen g = yajl_gen_alloc(NULL);
		char *e = esc(h->plan.extra_nets.v[i]);
		char *path = xasprintf("/networks/%s/connect", e), *body;
		long st;

		yajl_gen_map_open(g);
		json_gen_str(g, "Container");
		json_gen_str(g, h->dst_id);
		json_gen_str(g, "EndpointConfig");
		json_gen_value(g, json_get(ep, "EndpointConfig", NULL));
		yajl_gen_map_close(g);
		body = json_gen_take(g);
		st = engine_post_json(h->dst, path, body, NULL);
		yajl_gen_free(g);
		yajl_tree_free(ep);
		free(body);
		free(path);
		free(e);
		if (st < 0)
			return dm_error_wrap("connecting to network %s",
					     h->plan.extra_nets.v[i]);
	}
	return 0;
}

/* The copy at the destination must be the source's tree, exactly. */
/* Copy one volume: while the container still runs (precopy: the bulk
 * of the data moves before any downtime), or whole (copy-volumes). */
static int step_copy(struct handover *h, const struct step *s)
{
	return volmove_copy(&h->vm, &h->vols[s->vol]);
}

/* After the source stopped: send what changed in one volume since the
 * pre-copy. */
static int step_sync(struct handover *h, const struct step *s)
{
	return volmove_sync(&h->vm, &h->vols[s->vol]);
}

/* A stopped or kept container: the copy was whole; check it. */
static int step_verify(struct handover *h, const struct step *s)
{
	return volmove_verify(&h->vm, &h->vols[s->vol]);
}

/* The container layer, committed (after the stop, or paused with
 * --keep) and sent like any image: only that new layer crosses. */
static int step_rootfs(struct handover *h, const struct step *s)
{
	struct xfer_stats st = { 0 };
	char *path = xasprintf("/commit?container=%s&pause=1&comment=%s"
			       "&repo=docker-migrate-rootfs&tag=%.12s",
			       h->src_id, "docker-migrate%20container%20layer",
			       h->src_id);
	const char *refs[1];
	yajl_val v = NULL;
	long r = engine_post_json(h->src, path, "{}", &v);

	free(path);
	if (r < 0)
		return dm_error_wrap("committing the container layer of %s",
				     h->name);
	(void)s;
	yajl_tree_free(v);
	h->commit_id = xasprintf("docker-migrate-rootfs:%.12s", h->src_id);
	refs[0] = h->commit_id;
	/* a means of transport, at both ends (the source's goes once the
	 * move is over, see handover_release) */
	if (journal(h, UNDO_IMAGE, UNDO_SOURCE, h->commit_id, NULL) < 0 ||
	    journal(h, UNDO_IMAGE, UNDO_DEST, h->commit_id, NULL) < 0)
		return -1;
	{
		struct transfer t = transfer_of(h, &st);

		r = h->strategy->transfer(&t, refs, 1);
	}
	jrec(h)->bytes += st.bytes;
	return r < 0 ? -1 : 0;
}

/* Point image_ref at the committed layer for the create, so that the copy
 * keeps the original image name in its configuration, then back. */
static int move_tag(struct handover *h, const char *id)
{
	return image_tag(h->dst, id, h->image_ref);
}

/* The create's body: its anonymous volumes left to the engine when the
 * copy is created before they are copied (plan.h: anon_first), mounted
 * by the names they have there once we had to make them again, or by
 * the source's names (as when the copy comes last). */
static const char *create_body(struct handover *h)
{
	struct strlist names = { 0 };

	if (!h->steps.anon_first || h->anon_fallback || !h->plan.body_anon)
		return h->plan.body;
	if (!h->anon_named)
		return h->plan.body_anon;
	if (!h->body_named) {
		for (size_t a = 0; a < h->plan.anon.n; a++)
			for (size_t i = 0; i < h->nvols; i++)
				if (dm_streq(h->vols[i].name, h->plan.anon.v[a]))
					strlist_add(&names, hvol_dest_name(&h->vols[i]));
		h->body_named = recreate_name_anonymous(h->plan.body_anon,
							&h->plan.anon_targets,
							&names);
		strlist_clear(&names);
	}
	return h->body_named ? h->body_named : h->plan.body;
}

/* The create, with image_ref pointing at the committed layer while it
 * runs when the layer travels: journaled, so that a run killed meanwhile
 * leaves the tag where it was. */
static long create_from(struct handover *h, const char *path, yajl_val *v)
{
	size_t undo;
	long st;

	if (!h->commit_id || dm_starts_with(h->image_ref, "sha256:"))
		return engine_create_container(h->dst, path, create_body(h), v);
	if (!h->ref_dst_id && image_id_at(h->dst, h->image_ref, &h->ref_dst_id) < 0)
		return -1;
	if (!h->ref_dst_id)
		return dm_error("%s is not at %s: the copy's image is gone",
				h->image_ref, h->o->to);
	if (journal(h, UNDO_RETAG, UNDO_DEST, h->image_ref, h->ref_dst_id) < 0)
		return -1;
	undo = jrec(h)->njournal - 1;
	if (move_tag(h, h->commit_id) < 0)
		return -1;
	st = engine_create_container(h->dst, path, create_body(h), v);
	if (move_tag(h, h->ref_dst_id) == 0)
		record_undo_done(jrec(h), undo);
	return st;
}

static int create_container(void *ctx)
{
	struct handover *h = ctx;
	char *e = esc(h->name);
	char *path = xasprintf("/containers/create?name=%s", e);
	yajl_val v = NULL;
	long st = 0;

	free(e);
	/* by name, before it exists: the check found the name free there,
	 * and a run killed during the create still names it */
	if (!h->copy_journaled) {
		st = journal(h, UNDO_CONTAINER, UNDO_DEST, h->name, NULL);
		h->copy_journaled = st == 0;
	}
	if (st == 0)
		st = create_from(h, path, &v);
	free(path);
	if (st < 0)
		return -1;
	h->dst_id = xstrdup(json_str(v, "Id", NULL));
	yajl_tree_free(v);
	if (!h->dst_id[0])
		return dm_error("the destination created no container id");
	return h->nets_after_start ? 0 : connect_extra_networks(h);
}

/* Has the engine put files into the copy's anonymous volume (1)? */
static int anon_not_empty(struct handover *h, struct hvol *v)
{
	char digest[65], *helper;
	size_t entries = 0;
	int r;

	if (undo_journal_helper_image(jrec(h), h->vm.helper_absent_src,
				      h->vm.helper_absent,
				      &h->vm.helper_journaled) < 0)
		return -1;
	helper = helper_create(h->dst, v->dst_name, 1);
	if (!helper)
		return -1;
	r = volume_digest(h->dst, helper, digest, &entries);
	helper_remove(h->dst, helper);
	free(helper);
	return r < 0 ? -1 : entries > 1;
}

/* The copy made again, its anonymous volumes (and the files the engine
 * put there) gone with the first, mounted by the source's names. */
static int anon_by_source_names(struct handover *h)
{
	char *path = xasprintf("/containers/%s?force=1&v=1", h->dst_id);
	long st = engine_delete(h->dst, path);

	free(path);
	if (st < 0)
		return dm_error_wrap("removing the copy at %s to mount its "
				     "volumes by name", h->o->to);
	free(h->dst_id);
	h->dst_id = NULL;
	h->anon_fallback = 1;
	dm_debug("the image's files are in the copy's anonymous volumes: "
		 "mounted by the source's names");
	for (size_t i = 0; i < h->nvols; i++) {
		struct hvol *v = &h->vols[i];

		if (!v->anonymous)
			continue;
		free(v->dst_name);
		v->dst_name = NULL;
		v->dest_ready = 0;
		if (volmove_make_dest(&h->vm, v) < 0)
			return -1;
	}
	return create_container(h);
}

/* The copy's anonymous volumes, made by its create: their names there.
 * An image's VOLUME with files has them copied in by the engine; the
 * copy of the source's tree cannot go over them (what the source deleted
 * would stay), so such a copy is made again with the volumes mounted by
 * the source's names, as when it comes last. */
static int adopt_anonymous(struct handover *h)
{
	char *path = xasprintf("/containers/%s/json", h->dst_id);
	yajl_val ins = NULL, mounts;
	int full = 0, ret = 0;

	if (engine_get_json(h->dst, path, &ins) < 0) {
		free(path);
		return -1;
	}
	free(path);
	mounts = json_get(ins, "Mounts", NULL);
	for (size_t a = 0; a < h->plan.anon.n; a++) {
		struct hvol *v = NULL;

		for (size_t i = 0; i < h->nvols; i++)
			if (dm_streq(h->vols[i].name, h->plan.anon.v[a]))
				v = &h->vols[i];
		for (size_t m = 0; v && m < json_alen(mounts); m++) {
			yajl_val mt = mounts->u.array.values[m];

			if (dm_streq(json_str(mt, "Destination", NULL),
				     h->plan.anon_targets.v[a]) &&
			    json_str(mt, "Name", NULL)) {
				free(v->dst_name);
				v->dst_name = xstrdup(json_str(mt, "Name", NULL));
				v->dest_ready = 1;
			}
		}
		if (!v || !v->dst_name) {
			ret = dm_error("the copy at %s has no volume at %s",
				       h->o->to, h->plan.anon_targets.v[a]);
			break;
		}
		if (!full && (full = anon_not_empty(h, v)) < 0)
			ret = -1;
	}
	yajl_tree_free(ins);
	return ret < 0 ? -1 : full ? anon_by_source_names(h) : 0;
}

static int step_create(struct handover *h, const struct step *s)
{
	(void)s;
	if (create_networks(h) < 0)
		return -1;
	/* before the copy that mounts them: volumes by name, bind mounts
	 * copied (the engine would make either, empty, by itself) */
	for (size_t i = 0; h->steps.anon_first && i < h->nvols; i++)
		if (!h->vols[i].anonymous && volmove_make_dest(&h->vm, &h->vols[i]) < 0)
			return -1;
	if (create_container(h) < 0)
		return -1;
	return h->steps.anon_first && !h->anon_fallback && h->plan.body_anon
	       ? adopt_anonymous(h) : 0;
}

/* The created copy holds its volumes: one to be emptied and made again
 * (reset_copy) must be let go first; the copy is then created again. */
static int release_copy(void *ctx)
{
	struct handover *h = ctx;
	char *path;
	long st;

	if (!h->dst_id)
		return 0;
	path = xasprintf("/containers/%s?force=1", h->dst_id);
	st = engine_delete(h->dst, path);
	free(path);
	if (st < 0)
		return dm_error_wrap("removing the created copy at %s to empty "
				     "its volume", h->o->to);
	free(h->dst_id);
	h->dst_id = NULL;
	return 1;
}

/* Wait until the copy runs, and is healthy when it has a healthcheck. */
static int wait_ready(struct handover *h)
{
	int64_t deadline = dm_now_ms() + h->o->start_timeout_s * 1000;
	char *path = xasprintf("/containers/%s/json", h->dst_id);
	int ret = -1;

	for (int tries = 0; tries < 100000; tries++) {
		yajl_val v = NULL;
		const char *health;
		int ready, sick;

		if (dm_cancelled()) {
			dm_error_kind(DM_ERR_INTERRUPTED, "interrupted");
			break;
		}
		if (engine_get_json(h->dst, path, &v) < 0)
			break;
		health = json_str(v, "State", "Health", "Status", NULL);
		if (!json_true(v, "State", "Running", NULL)) {
			dm_error("the new container stopped at %s (exit code "
				 "%lld): see 'docker logs' there", h->o->to,
				 json_int(v, -1, "State", "ExitCode", NULL));
			yajl_tree_free(v);
			break;
		}
		ready = !health || strcmp(health, "healthy") == 0;
		sick = health && strcmp(health, "unhealthy") == 0;
		yajl_tree_free(v);	/* health pointed into it */
		if (ready) {
			ret = 0;
			break;
		}
		if (sick) {
			dm_error("the new container is unhealthy at %s",
				 h->o->to);
			break;
		}
		if (dm_now_ms() > deadline) {
			dm_error("the new container was not healthy after %ld s"
				 " (see --start-timeout)", h->o->start_timeout_s);
			break;
		}
		/* the first second polled finely: it is downtime */
		usleep(tries < 20 ? 50 * 1000 : 200 * 1000);
	}
	free(path);
	return ret;
}

static int step_start(struct handover *h, const struct step *s)
{
	char *path;
	long st;

	(void)s;
	path = xasprintf("/containers/%s/start", h->dst_id);
	st = engine_post_json(h->dst, path, NULL, NULL);
	free(path);
	if (st < 0)
		return -1;
	/* one by one, as the source joined them: eth1, eth2, ... */
	if (h->nets_after_start && connect_extra_networks(h) < 0)
		return -1;
	if (json_get(h->ins, "Config", "Healthcheck", "Test", NULL))
		progress_phase(h->cli->progress, "Waiting for %s to be healthy "
			       "at %s (up to %ld s)...", h->name, h->o->to,
			       h->o->start_timeout_s);
	return wait_ready(h);
}

/* "always" would bring the source back when its engine restarts, and
 * the service would then run twice: "no" until the move is over. */
static int restart_policy_off(struct handover *h)
{
	yajl_val was = json_get(h->ins, "HostConfig", "RestartPolicy", NULL);
	yajl_val no;
	char *text;
	long st;

	if (!dm_streq(json_str(was, "Name", NULL), "always"))
		return 0;
	text = json_text(was);
	st = journal(h, UNDO_POLICY, UNDO_SOURCE, h->src_id, text);
	free(text);
	if (st < 0)
		return -1;
	no = json_parse("{\"Name\":\"no\"}", 13, "policy");
	st = container_set_restart_policy(h->src, h->src_id, no);
	yajl_tree_free(no);
	return st < 0 ? -1 : 0;
}

/* An --rm source's stop removes its anonymous volumes too, unless a
 * helper still mounts them: the final pass is over, the helpers go
 * first, so that nothing of the moved container stays at the source. */
static void release_source_helpers(struct handover *h)
{
	for (size_t i = 0; h->steps.autoremove && i < h->nvols; i++) {
		if (helper_remove(h->src, h->vols[i].sh) < 0)
			dm_clear_error();
		free(h->vols[i].sh);
		h->vols[i].sh = NULL;
	}
}

/* The seconds the engine gives the source to stop: --stop-timeout, else
 * the container's own StopTimeout, else the engine's 10 (as docker stop). */
static long stop_timeout(const struct handover *h)
{
	long own = json_int(h->ins, -1, "Config", "StopTimeout", NULL);

	if (h->o->stop_timeout_s >= 0)
		return h->o->stop_timeout_s;
	return own >= 0 ? own : 10;
}

static int step_stop_source(struct handover *h, const struct step *s)
{
	char *path;
	long st;

	(void)s;
	if (restart_policy_off(h) < 0)
		return -1;
	if (h->src_paused)
		release_source_helpers(h);
	if (dm_cancelled())
		return dm_error_kind(DM_ERR_INTERRUPTED, "interrupted");
	/* before the stop: a run killed while the engine stops it leaves a
	 * record that says to start it again */
	if (journal(h, UNDO_START, UNDO_SOURCE, h->src_id, NULL) < 0)
		return -1;
	/* paused, it has not served since the freeze, and a SIGTERM would
	 * wait for the thaw: the stop kills it at once */
	if (h->src_paused)
		path = xasprintf("/containers/%s/stop?t=0", h->src_id);
	else if (h->o->stop_timeout_s >= 0)
		path = xasprintf("/containers/%s/stop?t=%ld", h->src_id,
				 h->o->stop_timeout_s);
	else
		path = xasprintf("/containers/%s/stop", h->src_id);
	if (!h->src_paused)
		progress_phase(h->cli->progress, "Stopping %s at the source "
			       "(up to %ld s)...", h->name, stop_timeout(h));
	if (!h->src_paused)
		h->stopped_at = dm_now_ms();
	/* the engine finishes a stop it began even when we hang up: a
	 * rollback's start would come first, and the stop would then leave
	 * the source down.  Ctrl-C waits for the stop, then rolls back. */
	dm_cancel_defer(1);
	st = engine_post_json(h->src, path, NULL, NULL);
	dm_cancel_defer(0);
	free(path);
	if (st < 0)
		return -1;
	if (dm_cancelled())
		return dm_error_kind(DM_ERR_INTERRUPTED, "interrupted");
	return 0;
}

/* --pause: the source is frozen for the final pass instead of stopped,
 * and stopped once the copy runs, so that its stop is no longer part of
 * the downtime and a rollback only thaws it.  What the process had not
 * written when frozen stays behind (the copy is crash-consistent). */
static int step_pause_source(struct handover *h, const struct step *s)
{
	char *path;
	long st;

	(void)s;
	if (dm_cancelled())
		return dm_error_kind(DM_ERR_INTERRUPTED, "interrupted");
	if (journal(h, UNDO_UNPAUSE, UNDO_SOURCE, h->src_id, NULL) < 0)
		return -1;
	path = xasprintf("/containers/%s/pause", h->src_id);
	h->src_paused = 1;
	h->stopped_at = dm_now_ms();
	st = engine_post_json(h->src, path, NULL, NULL);
	free(path);
	return st < 0 ? -1 : 0;
}

/* --checkpoint: the dump stops the source; its files go into the
 * copy's directory; the copy starts from them (migrate_checkpoint.c). */
static int step_checkpoint(struct handover *h, const struct step *s)
{
	int r;

	(void)s;
	if (restart_policy_off(h) < 0 ||
	    ckpt_prepare(&h->rec, h->src, h->dst, &h->ckpt,
			 &h->vm.helper_journaled) < 0)
		return -1;
	if (dm_cancelled())
		return dm_error_kind(DM_ERR_INTERRUPTED, "interrupted");
	ckpt_name(&h->ckpt, h->rec.id);
	h->stopped_at = dm_now_ms();
	/* as a stop: the engine finishes a dump it began */
	dm_cancel_defer(1);
	r = ckpt_step_dump(&h->rec, h->src, h->src_id, &h->ckpt,
			   h->o->checkpoint_timeout_s);
	dm_cancel_defer(0);
	if (r == 0 && dm_cancelled())
		return dm_error_kind(DM_ERR_INTERRUPTED, "interrupted");
	return r;
}

static int step_carry_checkpoint(struct handover *h, const struct step *s)
{
	struct xfer_stats st = { 0 };
	int r;

	(void)s;
	r = ckpt_step_carry(&h->rec, h->src, h->src_id, h->dst, h->dst_id,
			    &h->ckpt, &st);
	h->rec.bytes += st.bytes;
	/* its size is known only now: the checkpoint step's record says it */
	for (size_t i = h->rec.nsteps; r == 0 && i-- > 0;)
		if (strcmp(h->rec.steps[i].name,
			   step_name(STEP_CHECKPOINT)) == 0) {
			struct rec_step *rs = &h->rec.steps[i];
			char hb[32];

			free(rs->object);
			rs->object = xasprintf("memory of %s (%s)", h->name,
					       dm_human_bytes(h->ckpt.size, hb,
							      sizeof(hb)));
			break;
		}
	return r;
}

static int step_restore(struct handover *h, const struct step *s)
{
	(void)s;
	if (ckpt_step_restore(h->dst, h->dst_id, &h->ckpt) < 0 ||
	    wait_ready(h) < 0)
		return -1;
	ckpt_done(&h->rec, h->src, h->src_id, h->dst, h->dst_id, &h->ckpt);
	return 0;
}

/* ------------------------------------------------------------------ */
/* rollback                                                            */

/* Apply the journal: the source first (its service must not wait for
 * the destination to be reached again), then the destination. */
static int rollback(void *ctx)
{
	struct handover *h = ctx;
	int ok, r;

	dm_rollback_begin();
	interrupt_note("rolling back: starting the source again first, then "
		       "removing what the move made at %s", h->o->to);
	dm_test_pause("rollback");
	ok = undo_journal(&h->rec, UNDO_SOURCE, h->src, NULL) == 0;
	interrupt_note("rolling back: removing what the move made at %s%s",
		       h->o->to, ok ? " (the source runs again)" : "");
	r = cli_dest_revive(h->cli, h->o->to, &h->dst, &h->link);
	/* the volumes' helpers are removed through the new link, if any */
	h->vm.dst = h->dst;
	h->vm.link = h->link;
	if (r < 0) {
		dm_warn("%s; what this migration made there is left: "
			"docker migrate rollback %s removes it", dm_errmsg(),
			h->rec.id);
		return -1;
	}
	if (undo_journal(&h->rec, UNDO_DEST, h->dst, h->link) < 0)
		ok = 0;
	return ok ? 0 : -1;
}

/* ------------------------------------------------------------------ */

/* The plan from the facts the checks found and the user's options. */
static int make_plan(struct handover *h)
{
	struct plan_vol *pv = plan_vols(h);
	struct plan_opts po = { h->o->keep, h->o->pause, h->o->checkpoint,
				h->o->rootfs };
	struct plan_facts f = {
		.dest = h->o->to, .image_ref = h->image_ref,
		.image_present = h->image_present,
		.image_bytes = h->image_bytes, .vols = pv, .nvols = h->nvols,
		.nets_missing = (const char *const *)h->nets_missing.v,
		.nnets = h->nets_missing.n,
		.rootfs_changes = h->rootfs_changes,
		.rootfs_bytes = h->rootfs_bytes,
		.helper_absent = h->vm.helper_absent,
	};

	for (size_t i = 0; i < h->nvols; i++)
		f.anon_volumes += h->vols[i].anonymous;
	int r = plan_make(h->ins, &po, &f, &h->steps);

	if (r == 0)
		r = check_space(h, pv);
	for (size_t i = 0; r == 0 && i < h->nvols; i++)
		if (pv[i].ephemeral)
			dm_warn("volume %s is a tmpfs: its content is memory "
				"and is not carried (it starts empty at %s)",
				pv[i].name, h->o->to);
	free(pv);
	if (r == 0 && h->rootfs_changes && !h->steps.rootfs)
		dm_warn("%zu change(s) in the container layer of %s are left "
			"behind (--rootfs=false)", h->rootfs_changes, h->name);
	return r;
}

/* What the checks left out or dropped, and the image's layers (unless
 * another member of a group move brings the image). */
static int print_extra(const struct handover *h, int image)
{
	for (size_t i = 0; i < h->plan.bind_skipped.n; i++)
		printf("  left out: bind mount %s (--bind-mounts skip)\n",
		       h->plan.bind_skipped.v[i]);
	for (size_t i = 0; i < h->plan.dropped.n; i++)
		printf("  dropped: %s\n", h->plan.dropped.v[i]);
	if (!image) {
		printf("  image %s: brought by another container's transfer\n",
		       h->image_ref);
		return 0;
	}
	if (!h->image_present)
		printf("  transfer by %s: %s\n", h->strategy->name,
		       h->strategy->summary);
	return print_image_plan(h->src, h->dst, h->image_ref, &h->img,
				h->image_present);
}

/* --dry-run: the plan, then what the checks left out or dropped and the
 * image's layers; or the plan alone as one JSON document. */
static int print_plan(const struct handover *h)
{
	if (h->o->json) {
		yajl_gen g = yajl_gen_alloc(NULL);
		const unsigned char *buf;
		size_t len;

		yajl_gen_config(g, yajl_gen_beautify, 1);
		plan_gen(&h->steps, engine_name(h->src), h->o->to,
			 h->strategy->name, g);
		yajl_gen_get_buf(g, &buf, &len);
		fwrite(buf, 1, len, stdout);
		yajl_gen_free(g);
		return 0;
	}
	plan_print(&h->steps, engine_name(h->src), h->o->to, h->strategy->name,
		   stdout);
	return print_extra(h, 1);
}

static void print_report(void *ctx)
{
	struct handover *h = ctx;

	record_print(&h->rec, h->o->json, stdout);
}

static void handover_release(struct handover *h)
{
	if (h->commit_id && h->src) {
		/* a means of transport: never left at the source */
		char *path = xasprintf("/images/%s?force=1", h->commit_id);

		if (engine_delete(h->src, path) < 0)
			dm_warn("cannot remove the committed layer %.19s at the "
				"source: %s", h->commit_id, dm_errmsg());
		free(path);
	}
	ckpt_release(h->src, h->dst, &h->ckpt);
	free(h->commit_id);
	free(h->body_named);
	free(h->ref_dst_id);
	yajl_tree_free(h->ins);
	free(h->image_ref);
	image_info_release(&h->img);
	recreate_out_release(&h->plan);
	dest_facts_release(&h->facts);
	strlist_clear(&h->nets_missing);
	plan_release(&h->steps);
	for (size_t i = 0; i < h->nvols; i++)
		volmove_release(&h->vm, &h->vols[i]);
	free(h->vols);
	free(h->owner);
	free(h->dst_id);
	if (!h->borrowed) {
		engine_free(h->dst);
		sshlink_close(h->link);
		engine_free(h->src);
	}
	record_release(&h->rec);
}

typedef int (*step_fn)(struct handover *, const struct step *);

/* The runner's table: what executes each kind of step.  The check ran
 * before the plan could be made (the plan is made of its facts). */
static const step_fn step_fns[STEP_KINDS] = {
	[STEP_TRANSFER] = step_transfer,
	[STEP_COPY_VOLUME] = step_copy,
	[STEP_VERIFY] = step_verify,
	[STEP_PRECOPY] = step_copy,
	[STEP_CREATE] = step_create,
	[STEP_PAUSE_SOURCE] = step_pause_source,
	[STEP_STOP_SOURCE] = step_stop_source,
	[STEP_SYNC] = step_sync,
	[STEP_ROOTFS] = step_rootfs,
	[STEP_START] = step_start,
	[STEP_CHECKPOINT] = step_checkpoint,
	[STEP_CARRY_CHECKPOINT] = step_carry_checkpoint,
	[STEP_RESTORE] = step_restore,
};

/* Before a step (and before the test hook holds it): what Ctrl-C would
 * now wait for. */
static void before_step(void *ctx, const struct step *s)
{
	struct handover *h = ctx;

	interrupt_note_step(step_name(s->kind), h->o->to, stop_timeout(h));
}

static int dispatch(void *ctx, const struct step *s)
{
	return step_fns[s->kind](ctx, s);
}

static int run_plan(struct handover *h)
{
	struct runner r = { &h->rec, &h->steps, dispatch, h, 0, 0,
			    before_step };

	runner_record(&r, h->check_started);
	if (runner_run(&r) < 0)
		return -1;
	if (h->running && !h->o->keep && r.ready_at)
		/* from the source's stop to the copy running (and healthy);
		 * 0 when the copy answered before the source stopped */
		h->rec.downtime_ms = h->stopped_at && h->stopped_at < r.ready_at
				     ? r.ready_at - h->stopped_at : 0;
	return 0;
}

/* After a move, the stopped source stays (its name would refuse a move
 * back): --remove-source removes it, as a step of the record; else the
 * report says what stays.  Its volumes stay either way, as docker rm's. */
static void finish_source(struct handover *h)
{
	size_t i;
	char *path;
	int ok;

	if (h->o->keep)
		return;
	if (!h->o->remove_source) {
		if (!h->o->json)
			printf("  at source     container %s, stopped: remove it "
			       "there (docker rm %s) before a move back, or "
			       "move with --remove-source\n", h->name, h->name);
		return;
	}
	path = xasprintf("container %s", h->name);
	i = record_step_add(&h->rec, "remove-source", path, 0);
	free(path);
	record_step_begin(&h->rec, i);
	path = xasprintf("/containers/%s", h->src_id);
	ok = engine_delete(h->src, path) >= 0;
	free(path);
	if (!ok)
		dm_warn("the move is done, but the source %s was not removed: "
			"%s", h->name, dm_errmsg());
	record_step_end(&h->rec, i, 0, ok ? "done" : "failed");
}

/* The commit's name was a means of transport: the copy keeps its image,
 * unnamed, as a container started from a committed layer would. */
static void untag_commit(struct handover *h)
{
	char *e, *path;

	if (!h->commit_id)
		return;
	e = esc(h->commit_id);
	path = xasprintf("/images/%s?force=1&noprune=1", e);
	if (engine_delete(h->dst, path) < 0)
		dm_warn("cannot remove the name %s at %s: %s", h->commit_id,
			h->o->to, dm_errmsg());
	free(path);
	free(e);
}

int migrate_container(struct cli *cli, const struct container_opts *o)
{
	struct handover h = { .cli = cli, .o = o };
	char *cfgdir = cli_config_dir(cli);
	int ret = 1, began = 0, lock = -1;

	h.cfgdir = cfgdir;
	h.strategy = strategy_find(o->strategy);
	if (!h.strategy || strategy_check(h.strategy, &o->reg) < 0)
		goto fail_early;
	h.src = cli_source_engine(cli);
	if (!h.src || inspect_source(&h) < 0)
		goto fail_early;
	if (!o->dry_run) {
		char *key = xasprintf("%s/%s", engine_name(h.src), h.src_id);

		lock = migration_lock(cfgdir, key, h.name);
		free(key);
		if (lock < 0)
			goto fail_early;
	}
	if (!o->dry_run) {
		if (record_begin(&h.rec, cfgdir, "container", h.name,
				 engine_name(h.src), o->to, h.strategy->name) < 0)
			goto fail_early;
		began = 1;
		record_set_status(&h.rec, "running");
		record_phase_begin(&h.rec, "check");
		interrupt_note_step("check", o->to, 0);
		h.check_started = record_wall_ms();
		dm_test_pause("check");
	}
	/* the image's export begins while the destination is reached and
	 * checked (see strategy_prefetch); a failure here is met again in
	 * the check */
	if (!o->dry_run) {
		if (choose_image(&h) == 0)
			strategy_prefetch(h.strategy, h.src,
					  (const char *[]){ h.image_ref }, 1);
		else
			dm_clear_error();
	}
	h.dst = cli_dest_engine(cli, o->to, &h.link);
	if (!h.dst || phase_check(&h) < 0 || make_plan(&h) < 0)
		goto fail;
	if (o->dry_run) {
		if (print_plan(&h) < 0)
			goto fail;
		ret = 0;
		goto out;
	}
	if (run_plan(&h) < 0) {
		ret = runner_failed(&h.rec, rollback, print_report, &h, "");
		goto out;
	}
	interrupt_note("finishing: the move is done, its report follows");
	untag_commit(&h);
	if (o->remove_source)
		finish_source(&h);
	record_set_status(&h.rec, "completed");
	print_report(&h);
	if (!o->remove_source)
		finish_source(&h);
	ret = 0;
	goto out;
fail:
	if (began) {
		struct dm_err why;

		dm_error_save(&why);
		record_fail(&h.rec, "failed", why.kind, why.msg);
		/* a script reading --format json gets the failed record */
		if (o->json)
			print_report(&h);
		dm_error_restore(&why);
	}
fail_early:
	ret = cmd_failed_status(0);
out:
	{
		/* what the cleanup says is not the move's error */
		struct dm_err why;

		dm_error_save(&why);
		handover_release(&h);
		migration_unlock(lock);
		dm_error_restore(&why);
	}
	free(cfgdir);
	return ret;
}

/* ------------------------------------------------------------------ */
/* one member of a group move (handover.h)                             */

struct handover *handover_new(struct cli *cli, const struct container_opts *o,
			      const char *cfgdir, struct migration *jr,
			      struct engine *src, struct engine *dst,
			      struct sshlink *link)
{
	struct handover *h = xcalloc(1, sizeof(*h));

	h->cli = cli;
	h->o = o;
	h->jr = jr;
	h->borrowed = 1;
	h->src = src;
	h->dst = dst;
	h->link = link;
	h->cfgdir = cfgdir;
	h->strategy = strategy_find(o->strategy);
	return h;
}

int handover_check(struct handover *h)
{
	if (!h->strategy)
		return dm_error("no strategy %s", h->o->strategy);
	if (inspect_source(h) < 0 || phase_check(h) < 0)
		return -1;
	return make_plan(h);
}

const struct plan *handover_plan(const struct handover *h)
{
	return &h->steps;
}

yajl_val handover_inspect(const struct handover *h)
{
	return h->ins;
}

const char *handover_image_id(const struct handover *h)
{
	return h->img.id;
}

const char *handover_image_ref(const struct handover *h)
{
	return h->image_ref;
}

void handover_image_sent(struct handover *h)
{
	h->image_present = 1;
}

int handover_step(struct handover *h, size_t i)
{
	enum step_kind k = h->steps.steps[i].kind;

	if (!step_fns[k])
		return 0;
	return step_fns[k](h, &h->steps.steps[i]);
}

int handover_print_extra(const struct handover *h, int image)
{
	return print_extra(h, image);
}

void handover_share_networks(struct handover *h, const struct handover *first)
{
	size_t k = 0;

	for (size_t i = 0; i < h->nets_missing.n; i++) {
		int theirs = 0;

		for (size_t j = 0; j < first->nets_missing.n; j++)
			theirs |= dm_streq(h->nets_missing.v[i],
					   first->nets_missing.v[j]);
		if (theirs)
			free(h->nets_missing.v[i]);
		else
			h->nets_missing.v[k++] = h->nets_missing.v[i];
	}
	h->nets_missing.n = k;
	if (h->nets_missing.v)
		h->nets_missing.v[k] = NULL;
}

void handover_rebind(struct handover *h, struct engine *dst,
		     struct sshlink *link)
{
	h->dst = h->vm.dst = dst;
	h->link = h->vm.link = link;
}

void handover_finish(struct handover *h)
{
	untag_commit(h);
}

void handover_free(struct handover *h)
{
	if (!h)
		return;
	handover_release(h);
	free(h);
}
