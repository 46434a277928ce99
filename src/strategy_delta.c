/*
 * strategy_delta.c - send only the layers the destination lacks, with no
 * registry: the source's "docker save" stream is filtered on the fly (the
 * layer.tar of every layer the destination has is left out) and gzip'ed,
 * and the destination's /images/load takes the rest.
 *
 * Why this works (measured on dockerd 20.10, classic graphdriver store):
 * load looks each layer up by chain id before reading its file, so an
 * archive without the layers the engine has loads, with the same image id.
 * Presence is a property of the chain (the layer and all below it), so the
 * destination "has" the chain ids of every prefix of every local image.
 *
 * The archive names layer directories by v1 ids and lists their order only
 * in manifest.json, its last member.  When the destination has some layers
 * but not all, a first pass reads the stream for manifest.json alone (the
 * bytes stay between the plugin and the source engine), so the second pass
 * knows which directories to leave out.
 */
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "dm.h"
#include "gzout.h"
#include "json.h"
#include "tar.h"
#include "transfer.h"

void delta_plan_release(struct delta_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->diff_ids[i]);
		free(p->chain_ids[i]);
	}
	free(p->diff_ids);
	free(p->chain_ids);
	free(p->sizes);
	free(p->image_id);
	memset(p, 0, sizeof(*p));
}

void chain_id_next(const char *parent, const char *diff_id, char out[72])
{
	char hex[65], *buf;

	if (!parent) {
		snprintf(out, 72, "%s", diff_id);
		return;
	}
	buf = xasprintf("%s %s", parent, diff_id);
	sha256_hex(buf, strlen(buf), hex);
	free(buf);
	snprintf(out, 72, "sha256:%s", hex);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The chain ids of every prefix of every image of e, sorted. */
static int engine_chains(struct engine *e, struct strlist *out)
{
	yajl_val list = NULL;
	int ret = 0;

	if (engine_get_json(e, "/images/json?all=1", &list) < 0)
		return -1;
	for (size_t i = 0; i < json_alen(list) && ret == 0; i++) {
		const char *id = json_str(list->u.array.values[i], "Id", NULL);
		char *path, chain[72] = "";
		yajl_val img = NULL, layers;

		if (!id)
			continue;
		path = xasprintf("/images/%s/json", id);
		ret = engine_get_json(e, path, &img);
		free(path);
		layers = json_get(img, "RootFS", "Layers", NULL);
		for (size_t k = 0; k < json_alen(layers); k++) {
			yajl_val d = layers->u.array.values[k];

			if (!YAJL_IS_STRING(d))
				break;
			chain_id_next(k ? chain : NULL, d->u.string, chain);
			strlist_add(out, chain);
		}
		yajl_tree_free(img);
	}
	yajl_tree_free(list);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	return ret;
}

/* Layer sizes from the image's history: its entries with a size, oldest
 * first, are its layers when they are as many (an empty layer would make
 * the mapping unsure: then sizes stay unknown). */
static void layer_sizes(struct engine *e, struct delta_plan *p)
{
	char *path = xasprintf("/images/%s/history", p->image_id);
	yajl_val h = NULL;
	size_t k = 0;

	if (engine_get_json(e, path, &h) == 0) {
		p->sizes = xcalloc(p->n + 1, sizeof(*p->sizes));
		for (size_t i = json_alen(h); i-- > 0;) {
			long long sz = json_int(h->u.array.values[i], 0, "Size", NULL);

			if (sz <= 0)
				continue;
			if (k == p->n) {
				k++;
				break;
			}
			p->sizes[k++] = sz;
		}
		if (k != p->n) {
			free(p->sizes);
			p->sizes = NULL;
		}
	}
	dm_clear_error();
	yajl_tree_free(h);
	free(path);
}

int delta_plan(struct engine *src, struct engine *dst, const char *ref,
	       struct delta_plan *p)
{
	struct strlist have = { 0 };
	char *esc = engine_escape(ref), *path;
	yajl_val img = NULL, layers;
	char chain[72] = "";
	int ret = -1;

	memset(p, 0, sizeof(*p));
	path = xasprintf("/images/%s/json", esc);
	free(esc);
	if (engine_get_json(src, path, &img) < 0)
		goto out;
	layers = json_get(img, "RootFS", "Layers", NULL);
	p->image_id = xstrdup(json_str(img, "Id", NULL));
	p->size = json_int(img, 0, "Size", NULL);
	p->diff_ids = xcalloc(json_alen(layers) + 1, sizeof(char *));
	p->chain_ids = xcalloc(json_alen(layers) + 1, sizeof(char *));
	for (size_t k = 0; k < json_alen(layers); k++) {
		yajl_val d = layers->u.array.values[k];

		if (!YAJL_IS_STRING(d)) {
			dm_error("%s: malformed RootFS.Layers", ref);
			goto out;
		}
		chain_id_next(k ? chain : NULL, d->u.string, chain);
		p->diff_ids[p->n] = xstrdup(d->u.string);
		p->chain_ids[p->n] = xstrdup(chain);
		p->n++;
	}
	layer_sizes(src, p);
	if (engine_chains(dst, &have) < 0)
		goto out;
	/* present layers form a prefix: a layer is there with all below it */
	while (p->present < p->n &&
	       bsearch(&p->chain_ids[p->present], have.v, have.n,
		       sizeof(*have.v), cmp_str))
		p->present++;
	ret = 0;
out:
	strlist_clear(&have);
	yajl_tree_free(img);
	free(path);
	return ret;
}

/* ------------------------------------------------------------------ */
/* pass 1: which directory holds which layer                           */

struct manifest_pass {
	struct tar_filter tf;
	char *manifest;
};

static enum tar_action want_manifest(void *ctx, const struct tar_member *m)
{
	(void)ctx;
	return strcmp(m->name, "manifest.json") == 0 ? TAR_CAPTURE : TAR_DROP;
}

static int got_manifest(void *ctx, const char *name, const char *data,
			size_t len)
{
	struct manifest_pass *mp = ctx;

	(void)name;
	free(mp->manifest);
	mp->manifest = xstrndup(data, len);
	return 0;
}

static int manifest_sink(void *ctx, const void *buf, size_t n)
{
	return tar_filter_feed(&((struct manifest_pass *)ctx)->tf, buf, n);
}

/* The directories ("<v1id>") of the first `present` layers. */
static int present_dirs(struct engine *src, const char *get_path,
			const struct delta_plan *p, struct strlist *dirs)
{
	struct manifest_pass mp = { .manifest = NULL };
	yajl_val doc = NULL, layers;
	int ret = -1;

	tar_filter_init(&mp.tf);
	mp.tf.member = want_manifest;
	mp.tf.captured = got_manifest;
	mp.tf.ctx = &mp;
	if (engine_get_stream(src, get_path, manifest_sink, &mp, NULL) < 0 ||
	    tar_filter_finish(&mp.tf) < 0)
		goto out;
	if (!mp.manifest) {
		dm_error("the source's image archive has no manifest.json");
		goto out;
	}
	doc = json_parse(mp.manifest, strlen(mp.manifest), "manifest.json");
	layers = doc && YAJL_IS_ARRAY(doc) && json_alen(doc) == 1
		 ? json_get(doc->u.array.values[0], "Layers", NULL) : NULL;
	if (json_alen(layers) != p->n) {
		dm_error("the source's manifest.json lists %zu layers, the "
			 "image has %zu", json_alen(layers), p->n);
		goto out;
	}
	for (size_t i = 0; i < p->present; i++) {
		yajl_val l = layers->u.array.values[i];
		const char *slash = YAJL_IS_STRING(l) ? strchr(l->u.string, '/') : NULL;

		if (!slash || strcmp(slash, "/layer.tar") != 0) {
			dm_error("unexpected layer path in manifest.json");
			goto out;
		}
		{
			char *dir = xstrndup(l->u.string,
					     (size_t)(slash - l->u.string));

			strlist_add(dirs, dir);
			free(dir);
		}
	}
	ret = 0;
out:
	yajl_tree_free(doc);
	free(mp.manifest);
	tar_filter_release(&mp.tf);
	return ret;
}

/* ------------------------------------------------------------------ */
/* pass 2: the filtered, compressed stream                             */

struct delta_stream {
	struct tar_filter tf;
	const struct strlist *skip_dirs;
	int skip_all;		/* the destination has every layer */
	struct gzout gz;
};

static enum tar_action keep_member(void *ctx, const struct tar_member *m)
{
	struct delta_stream *d = ctx;
	const char *slash = strchr(m->name, '/');

	if (!slash || strcmp(slash, "/layer.tar") != 0)
		return TAR_FORWARD;
	if (d->skip_all)
		return TAR_DROP;
	for (size_t i = 0; i < d->skip_dirs->n; i++)
		if (strlen(d->skip_dirs->v[i]) == (size_t)(slash - m->name) &&
		    strncmp(d->skip_dirs->v[i], m->name,
			    (size_t)(slash - m->name)) == 0)
			return TAR_DROP;
	return TAR_FORWARD;
}

static int tar_out(void *ctx, const void *buf, size_t n)
{
	return gzout_write(&((struct delta_stream *)ctx)->gz, buf, n);
}

static int delta_feed(void *ctx, const void *buf, size_t n, int fd)
{
	struct delta_stream *d = ctx;

	d->gz.fd = fd;
	return tar_filter_feed(&d->tf, buf, n);
}

static int delta_finish(void *ctx, int fd)
{
	struct delta_stream *d = ctx;

	d->gz.fd = fd;
	if (tar_filter_finish(&d->tf) < 0)
		return -1;
	return gzout_finish(&d->gz);
}

static int send_delta(struct engine *src, struct engine *dst,
		      const char *get_path, const struct delta_plan *p,
		      const struct strlist *skip, struct xfer_stats *st)
{
	struct delta_stream *d = xcalloc(1, sizeof(*d));
	struct pipe_filter f = { delta_feed, delta_finish, d };
	int ret;

	tar_filter_init(&d->tf);
	d->tf.member = keep_member;
	d->tf.out = tar_out;
	d->tf.ctx = d;
	d->skip_dirs = skip;
	d->skip_all = p->present == p->n;
	if (gzout_init(&d->gz) < 0) {
		free(d);
		return -1;
	}
	ret = engine_pipe(src, get_path, dst, "/images/load?quiet=1",
			  "application/x-tar", &f, st);
	gzout_end(&d->gz);
	tar_filter_release(&d->tf);
	free(d);
	return ret;
}

static int transfer_one(struct engine *src, struct engine *dst,
			const char *ref, struct xfer_stats *st)
{
	struct strlist skip = { 0 };
	struct delta_plan p;
	struct image_info got;
	char *esc = engine_escape(ref);
	char *get_path = xasprintf("/images/get?names=%s", esc);
	int ret = -1;

	free(esc);
	if (delta_plan(src, dst, ref, &p) < 0)
		goto out;
	dm_debug("%s: %zu layers, %zu at the destination", ref, p.n, p.present);
	if (p.present > 0 && p.present < p.n &&
	    present_dirs(src, get_path, &p, &skip) < 0)
		goto out;
	if (send_delta(src, dst, get_path, &p, &skip, st) < 0)
		goto out;
	/* the engine checks each layer's digest; check the result too (a
	 * failed inspect, e.g. interrupted, says why itself) */
	switch (image_inspect(dst, p.image_id, &got)) {
	case -1:
		goto out;
	case 0:
		dm_error("%s did not arrive at the destination", ref);
		goto out;
	}
	image_info_release(&got);
	ret = 0;
out:
	strlist_clear(&skip);
	delta_plan_release(&p);
	free(get_path);
	return ret;
}

int transfer_delta(const struct transfer *t, const char *const *refs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (transfer_one(t->src, t->dst, refs[i], t->st) < 0)
			return -1;
	return 0;
}
