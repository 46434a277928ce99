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
#include "lock.h"
#include "migrate.h"
#include "plan.h"
#include "recreate.h"
#include "space.h"
#include "record.h"
#include "transfer.h"
#include "undo.h"
#include "volsync.h"
#include "volume.h"

/* A volume that travels with the container, or the content of a bind
 * mount copied to the same path (--bind-mounts copy): what the checks
 * found (the first four), then what the steps made of it. */
struct hvol {
	const char *name;
	const char *bind;	/* the host path, for a bind mount */
	yajl_val info;		/* the source's inspect */
	yajl_val was_empty;	/* there before, empty: its inspect */
	char *made;		/* the top directory we made for it there */
	int emptied_journaled;	/* its "empty again" is in the journal */
	char *sh, *dh;		/* helper containers, source and destination */
	struct volsnap *snap;	/* what the pre-copy sent */
	const struct volsync_ops *sync;	/* how the final pass is made */
	char digest[65];
	size_t entries;
};

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
	struct strlist nets_missing;
	/* image_ref at the destination, by its ids there (on the
	 * containerd store not the source's): before the load */
	char *ref_prev_id;
	struct hvol *vols;
	size_t nvols;
	int helper_absent;	/* the volumes' helper image, at the destination */
	int helper_absent_src;	/* ... and at the source */
	size_t rootfs_changes;	/* in the container layer, ours excluded */
	int64_t rootfs_bytes;
	/* the plan: the steps, from the facts and the options */
	struct plan steps;
	size_t step0;		/* its first step's index in the record */
	/* what the steps did (the journal has how to undo it) */
	char *dst_id;
	int src_paused;		/* --pause: frozen for the final pass */
	int helper_journaled;	/* the helper image's removal is journaled */
	int copy_journaled;	/* ... and the copy's */
	int64_t stopped_at;	/* ms: the source stopped serving */
	char *commit_id;	/* the source's layer, committed as an image:
				 * a name, since image ids differ between
				 * stores (the containerd store's is the
				 * manifest's digest) */
	char *ref_dst_id;	/* image_ref's image at the destination
				 * while the commit borrows the name */
	int64_t check_started;	/* ms since the epoch */
	struct migration rec;
};

/* Journal an inverse (written to the record on disk before returning). */
static int journal(struct handover *h, const char *op, const char *host,
		   const char *arg, const char *data)
{
	return record_undo_push(&h->rec, op, host, arg, data);
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
	struct strbuf cmd = STRBUF_INIT, out = STRBUF_INIT;
	int ret = 0;

	recreate_bind_sources(h->ins, &binds);
	if (!binds.n)
		return 0;
	/* every path quoted: nothing from the container reaches a shell raw */
	sb_adds(&cmd, "for p in");
	for (size_t i = 0; i < binds.n; i++) {
		char *q = sh_quote(binds.v[i]);

		sb_addf(&cmd, " %s", q);
		free(q);
	}
	sb_adds(&cmd, "; do [ -e \"$p\" ] && printf 'y' || printf 'n'; done");
	if (sshlink_run(h->link, sb_str(&cmd), &out, 1 << 16) < 0) {
		ret = -1;
		goto out;
	}
	if (out.len != binds.n) {
		ret = dm_error("cannot check bind-mount paths on %s (got \"%s\")",
			       h->o->to, sb_str(&out));
		goto out;
	}
	for (size_t i = 0; i < binds.n; i++)
		if (out.buf[i] == 'n')
			strlist_add(missing, binds.v[i]);
out:
	strlist_clear(&binds);
	sb_release(&cmd);
	sb_release(&out);
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

/* Free space where the destination engine keeps its images. */
static int check_space(struct handover *h)
{
	if (h->image_present)
		return 0;
	return space_for_images(h->dst, h->link, h->o->to,
				(uint64_t)h->img.size);
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
					   v->was_empty != NULL, -1 };
	}
	volume_sizes(h, pv);
	return pv;
}

/* Has the engine the volumes' helper image (1), not (0)? */
static int helper_present(struct engine *e)
{
	struct image_info ii;
	int r = image_inspect(e, helper_image(), &ii);

	image_info_release(&ii);
	return r;
}

/* The volumes it mounts: each must be absent or empty at the destination
 * (a non-empty one would be mixed with the copy). */
static int check_volumes_free(struct handover *h)
{
	size_t nv = h->plan.volumes.n;

	h->nvols = nv + h->plan.bind_copies.n;
	h->vols = xcalloc(h->nvols + 1, sizeof(*h->vols));
	if (h->nvols) {
		int d = helper_present(h->dst), s = helper_present(h->src);

		if (d < 0 || s < 0)
			return -1;
		h->helper_absent = !d;
		h->helper_absent_src = !s;
	}
	for (size_t i = nv; i < h->nvols; i++)
		h->vols[i].name = h->vols[i].bind = h->plan.bind_copies.v[i - nv];
	for (size_t i = 0; i < nv; i++) {
		struct hvol *v = &h->vols[i];
		yajl_val d = NULL;
		char *helper, digest[65];
		size_t entries = 0;
		int f;

		v->name = h->plan.volumes.v[i];
		if (volume_inspect(h->src, v->name, &v->info) != 1)
			return dm_error("volume %s of %s is gone from the source",
					v->name, h->name);
		f = volume_inspect(h->dst, v->name, &d);
		if (f <= 0) {
			yajl_tree_free(d);
			if (f < 0)
				return -1;
			continue;
		}
		/* kept: a rollback leaves it empty again, as it was */
		v->was_empty = d;
		helper = helper_create(h->dst, v->name, 1);
		if (!helper)
			return -1;
		f = volume_digest(h->dst, helper, digest, &entries);
		helper_remove(h->dst, helper);
		free(helper);
		if (f < 0)
			return -1;
		if (entries > 1)
			return dm_error_kind(DM_ERR_CONFLICT, "volume %s "
					     "already exists at %s and is not "
					     "empty: remove it there, or copy "
					     "it under another name with docker "
					     "migrate volumes --rename", v->name,
					     h->o->to);
	}
	return 0;
}

/* Does p exist in the layer only because the engine put a mount point
 * there (volumes, binds, the --init binary), or lead to one? */
static int engine_made(yajl_val ins, const char *p)
{
	yajl_val mounts = json_get(ins, "Mounts", NULL);
	size_t n = p ? strlen(p) : 0;
	const char *init = "/sbin/docker-init";

	if (!p)
		return 1;
	if (strncmp(init, p, n) == 0 && (init[n] == '\0' || init[n] == '/'))
		return 1;
	for (size_t i = 0; i < json_alen(mounts); i++) {
		const char *d = json_str(mounts->u.array.values[i],
					 "Destination", NULL);

		if (d && strncmp(d, p, n) == 0 && (d[n] == '\0' || d[n] == '/'))
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

/* What the image's transfer is expected to send: its layers missing at
 * the destination (save sends it whole). */
static void image_estimate(struct handover *h)
{
	struct delta_plan p;

	h->image_bytes = h->image_present ? 0 : h->img.size;
	if (h->image_present || strcmp(h->strategy->name, "save") == 0)
		return;
	if (delta_plan(h->src, h->dst, h->image_ref, &p) < 0) {
		dm_clear_error();
		return;
	}
	if (p.sizes) {
		h->image_bytes = 0;
		for (size_t k = p.present; k < p.n; k++)
			h->image_bytes += p.sizes[k];
	}
	delta_plan_release(&p);
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

static int phase_check(struct handover *h)
{
	struct strlist missing = { 0 };
	struct image_info di;
	struct recreate_in in;
	int r;

	if ((!h->image_ref && choose_image(h) < 0) || check_name_free(h) < 0)
		return -1;
	r = image_inspect(h->dst, h->img.id, &di);
	if (r < 0)
		return -1;
	h->image_present = r == 1;
	image_info_release(&di);
	if (h->image_present)	/* the export begun early is not needed */
		engine_prefetch_drop(h->src);
	if (check_binds(h, &missing) < 0)
		return -1;
	in = (struct recreate_in){ h->ins, h->image_ref, &missing,
				   h->o->drop_unmovable, h->o->volumes,
				   h->o->bind_mode, engine_create_api(h->dst) };
	r = recreate_plan(&in, &h->plan);
	strlist_clear(&missing);
	if (r < 0)
		return join_problems(&h->plan.problems, h->name);
	for (size_t i = 0; i < h->plan.dropped.n; i++)
		dm_warn("dropping %s", h->plan.dropped.v[i]);
	for (size_t i = 0; i < h->plan.bind_skipped.n; i++)
		dm_warn("leaving out bind mount %s: its path is missing at %s "
			"(--bind-mounts skip)", h->plan.bind_skipped.v[i],
			h->o->to);
	if (check_networks(h) < 0 || check_volumes_free(h) < 0 ||
	    check_space(h) < 0)
		return -1;
	if (check_rootfs(h) < 0)
		return -1;
	image_estimate(h);
	/* last: the probe is the only check that touches the source */
	if (h->o->checkpoint)
		return checkpoint_probe(h->src, h->dst, h->ins,
					h->o->checkpoint_timeout_s);
	return 0;
}

/* ------------------------------------------------------------------ */
/* transfer, create, start, stop                                       */

static int tag_at_dest(struct handover *h)
{
	int r = image_tag_if_missing(h->dst, h->img.id, h->image_ref);

	if (r == 1)
		return journal(h, UNDO_UNTAG, UNDO_DEST, h->image_ref, NULL);
	return r < 0 ? -1 : 0;
}

static struct transfer transfer_of(struct handover *h, struct xfer_stats *st)
{
	return (struct transfer){ h->src, h->dst, st, h->o->reg.registry,
				  h->o->reg.no_push, h->o->reg.keep_tag,
				  h->cfgdir, cli_ssh_opts(h->cli).stall_timeout_s,
				  NULL };
}

/* *id: image_ref's id at the destination, or NULL where it is absent. */
static int dst_ref_id(struct handover *h, char **id)
{
	struct image_info di;
	int r;

	if (dm_starts_with(h->image_ref, "sha256:"))
		return 0;
	r = image_inspect(h->dst, h->image_ref, &di);
	if (r == 1)
		*id = xstrdup(di.id);
	image_info_release(&di);
	return r < 0 ? -1 : 0;
}

static int step_transfer(struct handover *h, const struct step *s)
{
	struct xfer_stats st = { 0 };
	const char *refs[1] = { h->image_ref };
	struct strlist made = { 0 };
	int ret;

	if (h->image_present) {
		if (h->cli->progress != PROGRESS_NONE)	/* -q: quiet */
			fprintf(stderr, "Image %s is already at %s: nothing "
				"to send\n", h->image_ref, h->o->to);
		return tag_at_dest(h);
	}
	(void)s;
	if (dst_ref_id(h, &h->ref_prev_id) < 0)
		return -1;
	/* absent before we began (by the source's id, which a graph
	 * driver store keeps): every tag it gets there is ours, and a
	 * load cut short leaves nothing a forced removal misses */
	if (!dm_streq(h->ref_prev_id, h->img.id) &&
	    journal(h, UNDO_IMAGE, UNDO_DEST, h->img.id, NULL) < 0)
		return -1;
	/* the name was another image's there (an older one, or the
	 * same content under another id on the containerd store):
	 * it goes back to it, after what the load made is removed */
	if (h->ref_prev_id &&
	    journal(h, UNDO_RETAG, UNDO_DEST, h->image_ref, h->ref_prev_id) < 0)
		return -1;
	{
		struct progress p;
		char *label = xasprintf("image %s", h->image_ref);

		/* the save stream is about the image's size, and so is the
		 * export a delta reads (the bar counts what it reads) */
		progress_start(&p, h->cli->progress, label, &st,
			       progress_total_of(h->strategy->name,
						 h->img.size));
		struct transfer t = transfer_of(h, &st);

		t.made = &made;
		ret = h->strategy->transfer(&t, refs, 1);
		/* a failure may come before the export is read */
		engine_prefetch_drop(h->src);
		progress_stop(&p);
		free(label);
	}
	h->rec.bytes += st.bytes;
	/* what the loads made, by the destination's ids (on the containerd
	 * store not the source's), failed or not: removed first */
	for (size_t i = 0; i < made.n; i++)
		if (!dm_streq(made.v[i], h->img.id) &&
		    !dm_streq(made.v[i], h->ref_prev_id) &&
		    journal(h, UNDO_IMAGE, UNDO_DEST, made.v[i], NULL) < 0)
			ret = -1;
	strlist_clear(&made);
	return ret;
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
static int verify_volume(struct handover *h, struct hvol *v)
{
	char back[65];

	if (!v->dh)
		return 0;	/* a tmpfs: nothing was copied */
	/* kept: the final pass is then checked against it */
	if (volume_read_back(h->dst, v->dh, back, &v->entries, v->snap) < 0)
		return -1;
	if (strcmp(back, v->digest) != 0)
		return dm_error("volume %s differs at %s after the copy (tree "
				"digest %.12s, source %.12s)", v->name, h->o->to,
				back, v->digest);
	return 0;
}

/* The destination directory of a copied bind mount, made with its
 * missing parents; the top one made is kept for the rollback. */
static int bind_make(struct handover *h, struct hvol *v)
{
	char *q = sh_quote(v->bind), *cmd;
	struct strbuf out = STRBUF_INIT;
	int ret;

	cmd = xasprintf("p=%s; t=$p; while [ ! -e \"$(dirname -- \"$t\")\" ]; "
			"do t=$(dirname -- \"$t\"); done; if [ -e \"$p\" ]; "
			"then printf E; else mkdir -p -- \"$p\" && "
			"printf 'M%%s' \"$t\"; fi", q);
	ret = sshlink_run(h->link, cmd, &out, 1 << 16);
	if (ret == 0 && out.len > 1 && out.buf[0] == 'M') {
		v->made = xstrdup(sb_str(&out) + 1);
		ret = journal(h, UNDO_DIR, UNDO_DEST, v->made, NULL);
	} else if (ret == 0)
		ret = dm_error("cannot make %s at %s for the bind mount's "
			       "copy (%s)", v->bind, h->o->to,
			       out.len && out.buf[0] == 'E' ? "it appeared "
			       "meanwhile" : "mkdir failed");
	free(cmd);
	free(q);
	sb_release(&out);
	return ret;
}

static int bind_unmake(struct handover *h, struct hvol *v)
{
	char *q = sh_quote(v->made), *cmd = xasprintf("rm -rf -- %s", q);
	struct strbuf out = STRBUF_INIT;
	int ret = sshlink_run(h->link, cmd, &out, 4096);

	free(cmd);
	free(q);
	sb_release(&out);
	if (ret == 0) {
		free(v->made);
		v->made = NULL;
	}
	return ret;
}

static int create_container(struct handover *h);
static int release_copy(struct handover *h);

/* An empty destination for a copy made again whole. */
static int reset_copy(struct handover *h, struct hvol *v)
{
	helper_remove(h->dst, v->dh);
	free(v->dh);
	v->dh = NULL;
	if (v->bind) {
		if (bind_unmake(h, v) < 0 || bind_make(h, v) < 0)
			return -1;
		v->dh = helper_create_bind(h->dst, v->bind, 0);
	} else {
		if (volume_remove(h->dst, v->name) < 0 ||
		    volume_create_like(h->dst, v->was_empty ? v->was_empty
				       : v->info, v->name) < 0)
			return -1;
		v->dh = helper_create(h->dst, v->name, 0);
	}
	if (!v->dh)
		return -1;
	return journal(h, UNDO_HELPER, UNDO_DEST, v->dh, NULL);
}

/* Make the volume (or the bind mount's directory) at the destination. */
static int make_dest(struct handover *h, struct hvol *v)
{
	yajl_val d = NULL;
	int f;

	if (v->bind)
		return bind_make(h, v);
	f = volume_inspect(h->dst, v->name, &d);
	yajl_tree_free(d);
	if (f < 0)
		return -1;
	if (f == 0 && (journal(h, UNDO_VOLUME, UNDO_DEST, v->name, NULL) < 0 ||
		       volume_create_like(h->dst, v->info, v->name) < 0))
		return -1;
	return 0;
}

/* The helper containers that read the source's copy and write the
 * destination's, each journaled once made; an empty volume that was
 * there is journaled to be emptied again before anything is written. */
static int make_helpers(struct handover *h, struct hvol *v)
{
	if (undo_journal_helper_image(&h->rec, h->helper_absent_src,
				      h->helper_absent, &h->helper_journaled) < 0)
		return -1;
	if (v->was_empty && !v->emptied_journaled) {
		char *before = json_text(v->was_empty);
		int r = journal(h, UNDO_EMPTY, UNDO_DEST, v->name, before);

		free(before);
		if (r < 0)
			return -1;
		v->emptied_journaled = 1;
	}
	v->sh = v->bind ? helper_create_bind(h->src, v->bind, 1)
			: helper_create(h->src, v->name, 1);
	if (!v->sh || journal(h, UNDO_HELPER, UNDO_SOURCE, v->sh, NULL) < 0)
		return -1;
	v->dh = v->bind ? helper_create_bind(h->dst, v->bind, 0)
			: helper_create(h->dst, v->name, 0);
	if (!v->dh)
		return -1;
	return journal(h, UNDO_HELPER, UNDO_DEST, v->dh, NULL);
}

/* Copy one volume: while the container still runs (precopy: the bulk
 * of the data moves before any downtime), or whole (copy-volumes). */
static int step_copy(struct handover *h, const struct step *s)
{
	struct xfer_stats st = { 0 };
	struct hvol *v = &h->vols[s->vol];
	struct progress p;
	char *label;
	int ret;

	if (make_dest(h, v) < 0)
		return -1;
	if (!v->bind && volume_is_ephemeral(v->info))
		return 0;	/* settings only: a tmpfs holds nothing */
	if (make_helpers(h, v) < 0)
		return -1;
	v->sync = &volsync_by_archive;
	label = xasprintf("volume %s", v->name);
	/* the tar read at the source is about the volume's size */
	progress_start(&p, h->cli->progress, label, &st,
		       s->bytes > 0 ? (uint64_t)s->bytes : 0);
	ret = volume_copy_snap(h->src, v->sh, h->dst, v->dh, v->digest, &st,
			       h->running ? &v->snap : NULL);
	progress_stop(&p);
	free(label);
	h->rec.bytes += st.bytes;
	/* checked now, outside the downtime: what the final pass does not
	 * touch is known to be right */
	if (ret == 0 && h->running)
		ret = verify_volume(h, v);
	/* chosen now, outside the downtime: dm-helper's final pass needs
	 * both helpers running, the archive's nothing (another
	 * architecture, an engine that refuses) */
	if (ret == 0 && v->snap && !h->o->keep)
		v->sync = volsync_choose(h->src, v->sh, h->dst, v->dh, v->name);
	return ret;
}

/* The archive endpoint cannot delete: a volume where files were deleted
 * since the pre-copy is copied again whole, into an empty one (which the
 * created copy, holding it, must let go of first). */
static int copy_again(struct handover *h, struct hvol *v,
		      struct xfer_stats *st, int *released)
{
	dm_debug("files were deleted in %s: copying it whole", v->name);
	if (!v->bind) {
		*released = release_copy(h);
		if (*released < 0)
			return -1;
	}
	if (reset_copy(h, v) < 0)
		return -1;
	return volume_copy(h->src, v->sh, h->dst, v->dh, v->digest, st);
}

/* After the source stopped: send what changed in one volume since the
 * pre-copy. */
static int step_sync(struct handover *h, const struct step *s)
{
	struct xfer_stats st = { 0 };
	struct hvol *v = &h->vols[s->vol];
	int ret, released = 0, deleted = 0;

	if (!v->dh)
		return 0;
	ret = v->snap ? v->sync->final_pass(h->src, v->sh, h->dst, v->dh,
					    v->snap, v->digest, &st, &deleted)
		      : 0;
	if (ret == 0 && deleted)
		ret = copy_again(h, v, &st, &released);
	/* reading the whole tree back costs downtime: what the pass sent is
	 * checked, the rest was by the pre-copy's read-back (--verify full
	 * reads it all, precopy trusts the pass) */
	if (ret == 0 && !deleted && !h->o->verify_precopy_only &&
	    !h->o->verify_full) {
		ret = v->sync->check(h->dst, v->dh, v->snap,
				     h->o->verify_stat, &v->entries);
		if (ret < 0)
			dm_error_wrap("volume %s", v->name);
	} else if (ret == 0) {
		ret = deleted || !h->o->verify_precopy_only;
	}
	if (ret == 1)
		ret = verify_volume(h, v);
	h->rec.bytes += st.bytes;
	if (ret == 0 && released == 1)
		ret = create_container(h);
	return ret;
}

/* A stopped or kept container: the copy was whole; check it. */
static int step_verify(struct handover *h, const struct step *s)
{
	return verify_volume(h, &h->vols[s->vol]);
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
	h->rec.bytes += st.bytes;
	return r < 0 ? -1 : 0;
}

/* Point image_ref at the committed layer for the create, so that the copy
 * keeps the original image name in its configuration, then back. */
static int move_tag(struct handover *h, const char *id)
{
	return image_tag(h->dst, id, h->image_ref);
}

/* The create, with image_ref pointing at the committed layer while it
 * runs when the layer travels: journaled, so that a run killed meanwhile
 * leaves the tag where it was. */
static long create_from(struct handover *h, const char *path, yajl_val *v)
{
	size_t undo;
	long st;

	if (!h->commit_id || dm_starts_with(h->image_ref, "sha256:"))
		return engine_create_container(h->dst, path, h->plan.body, v);
	if (!h->ref_dst_id && dst_ref_id(h, &h->ref_dst_id) < 0)
		return -1;
	if (!h->ref_dst_id)
		return dm_error("%s is not at %s: the copy's image is gone",
				h->image_ref, h->o->to);
	if (journal(h, UNDO_RETAG, UNDO_DEST, h->image_ref, h->ref_dst_id) < 0)
		return -1;
	undo = h->rec.njournal - 1;
	if (move_tag(h, h->commit_id) < 0)
		return -1;
	st = engine_create_container(h->dst, path, h->plan.body, v);
	if (move_tag(h, h->ref_dst_id) == 0)
		record_undo_done(&h->rec, undo);
	return st;
}

static int create_container(struct handover *h)
{
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
	return connect_extra_networks(h);
}

static int step_create(struct handover *h, const struct step *s)
{
	(void)s;
	if (create_networks(h) < 0)
		return -1;
	return create_container(h);
}

/* The created copy holds its volumes: one to be emptied and made again
 * (reset_copy) must be let go first; the copy is then created again. */
static int release_copy(struct handover *h)
{
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

/* ------------------------------------------------------------------ */
/* rollback                                                            */

/* Apply the journal: the source first (its service must not wait for
 * the destination to be reached again), then the destination. */
static int rollback(struct handover *h)
{
	int ok;

	dm_rollback_begin();
	interrupt_note("rolling back: starting the source again first, then "
		       "removing what the move made at %s", h->o->to);
	dm_test_pause("rollback");
	ok = undo_journal(&h->rec, UNDO_SOURCE, h->src, NULL) == 0;
	interrupt_note("rolling back: removing what the move made at %s%s",
		       h->o->to, ok ? " (the source runs again)" : "");
	if (cli_dest_revive(h->cli, h->o->to, &h->dst, &h->link) < 0) {
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
		.helper_absent = h->helper_absent,
	};
	int r = plan_make(h->ins, &po, &f, &h->steps);

	free(pv);
	if (r == 0 && h->rootfs_changes && !h->steps.rootfs)
		dm_warn("%zu change(s) in the container layer of %s are left "
			"behind (--rootfs=false)", h->rootfs_changes, h->name);
	return r;
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
	for (size_t i = 0; i < h->plan.bind_skipped.n; i++)
		printf("  left out: bind mount %s (--bind-mounts skip)\n",
		       h->plan.bind_skipped.v[i]);
	for (size_t i = 0; i < h->plan.dropped.n; i++)
		printf("  dropped: %s\n", h->plan.dropped.v[i]);
	if (!h->image_present)
		printf("  transfer by %s: %s\n", h->strategy->name,
		       h->strategy->summary);
	return print_image_plan(h->src, h->dst, h->image_ref, &h->img,
				h->image_present);
}

static void print_report(struct handover *h)
{
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
	free(h->commit_id);
	free(h->ref_dst_id);
	free(h->ref_prev_id);
	yajl_tree_free(h->ins);
	free(h->image_ref);
	image_info_release(&h->img);
	recreate_out_release(&h->plan);
	strlist_clear(&h->nets_missing);
	plan_release(&h->steps);
	for (size_t i = 0; i < h->nvols; i++) {
		if (h->src)
			helper_remove(h->src, h->vols[i].sh);
		if (h->dst)
			helper_remove(h->dst, h->vols[i].dh);
		free(h->vols[i].sh);
		free(h->vols[i].dh);
		free(h->vols[i].made);
		volsnap_free(h->vols[i].snap);
		yajl_tree_free(h->vols[i].info);
		yajl_tree_free(h->vols[i].was_empty);
	}
	free(h->vols);
	free(h->dst_id);
	engine_free(h->dst);
	sshlink_close(h->link);
	engine_free(h->src);
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
};

/* The plan's steps into the record, the check (already run) ended. */
static void record_plan(struct handover *h)
{
	h->step0 = h->rec.nsteps;
	for (size_t i = 0; i < h->steps.n; i++)
		record_step_add(&h->rec, step_name(h->steps.steps[i].kind),
				h->steps.steps[i].object,
				h->steps.steps[i].bytes);
	h->rec.steps[h->step0].started = h->check_started;
	record_step_end(&h->rec, h->step0, 0, "done");
}

/* One step: recorded when it begins and ends, with its bytes and how it
 * ended.  An interruption is seen here, between steps, and inside the
 * steps that wait. */
static int run_step(struct handover *h, size_t i, int first_of_phase)
{
	const struct step *st = &h->steps.steps[i];
	uint64_t before = h->rec.bytes;
	int r;

	if (first_of_phase)
		record_phase_begin(&h->rec, step_name(st->kind));
	record_step_begin(&h->rec, h->step0 + i);
	interrupt_note_step(step_name(st->kind), h->o->to, stop_timeout(h));
	if (dm_cancelled()) {
		r = dm_error_kind(DM_ERR_INTERRUPTED, "interrupted");
	} else {
		if (first_of_phase)
			dm_test_pause(step_name(st->kind));
		r = step_fns[st->kind](h, st);
	}
	record_step_end(&h->rec, h->step0 + i, h->rec.bytes - before,
			r == 0 ? "done" : dm_cancelled() ? "interrupted"
			: "failed");
	return r;
}

static int run_plan(struct handover *h)
{
	int64_t ready_at = 0;

	for (size_t i = 1; i < h->steps.n; i++) {
		enum step_kind k = h->steps.steps[i].kind;

		if (run_step(h, i, k != h->steps.steps[i - 1].kind) < 0)
			return -1;
		if (k == STEP_START)
			ready_at = dm_now_ms();
	}
	record_phase_end(&h->rec);
	if (h->running && !h->o->keep && ready_at)
		/* from the source's stop to the copy running (and healthy);
		 * 0 when the copy answered before the source stopped */
		h->rec.downtime_ms = h->stopped_at && h->stopped_at < ready_at
				     ? ready_at - h->stopped_at : 0;
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
	record_plan(&h);
	if (run_plan(&h) < 0) {
		char *phase = xstrdup(h.rec.cur_phase);
		struct dm_err why;
		int left;

		/* the rollback's own failures are warnings: the move's error
		 * is the one the user reads last, and its kind the status */
		dm_error_save(&why);
		/* a step cut short by Ctrl-C may say only how it broke (a
		 * pipe, a stream): the user interrupted, and 130 says so */
		if (why.kind == DM_ERR_FAILED && dm_cancelled())
			why.kind = DM_ERR_INTERRUPTED;
		/* a notice while it runs; the error is main's to print */
		fprintf(stderr, "%s failed; rolling back\n", phase);
		left = rollback(&h) < 0;
		record_fail(&h.rec, left ? "failed" : "rolled-back", why.kind,
			    why.msg);
		print_report(&h);
		dm_error_restore(&why);
		dm_error_wrap("%s failed", phase);
		free(phase);
		ret = cmd_failed_status(left);
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
