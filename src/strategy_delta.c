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
 * in manifest.json, its last member.  The v1 ids of the layers below the
 * top are predicted from the chain ids and the first lower layer's "json"
 * member, which comes before its layer.tar (see v1id.h), so one pass over
 * the stream is enough: the source's save, which writes the whole image to
 * a temporary directory before its first byte, runs once.  manifest.json
 * confirms at the end what was left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "dm.h"
#include "gzout.h"
#include "json.h"
#include "ocilayout.h"
#include "registry.h"
#include "tar.h"
#include "transfer.h"
#include "v1id.h"

void delta_plan_release(struct delta_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->diff_ids[i]);
		free(p->chain_ids[i]);
	}
	for (size_t i = 0; p->blob_digests && i < p->n; i++)
		free(p->blob_digests[i]);
	free(p->blob_digests);
	free(p->diff_ids);
	free(p->chain_ids);
	free(p->sizes);
	free(p->image_id);
	free(p->config_digest);
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

/* The images are inspected in parallel: one by one, each cost a round
 * trip or two (200 ms for ten images at 40 ms RTT). */
int engine_layer_chains(struct engine *e, struct strlist *out)
{
	yajl_val list = NULL, *imgs;
	char **paths;
	size_t n = 0;
	int ret;

	if (engine_get_json(e, "/images/json?all=1", &list) < 0)
		return -1;
	paths = xcalloc(json_alen(list) + 1, sizeof(*paths));
	imgs = xcalloc(json_alen(list) + 1, sizeof(*imgs));
	for (size_t i = 0; i < json_alen(list); i++) {
		const char *id = json_str(list->u.array.values[i], "Id", NULL);

		if (id)
			paths[n++] = xasprintf("/images/%s/json", id);
	}
	ret = engine_get_json_many(e, (const char *const *)paths, n, imgs);
	for (size_t i = 0; i < n; i++) {
		yajl_val layers = json_get(imgs[i], "RootFS", "Layers", NULL);
		char chain[72] = "";

		for (size_t k = 0; k < json_alen(layers); k++) {
			yajl_val d = layers->u.array.values[k];

			if (!YAJL_IS_STRING(d))
				break;
			chain_id_next(k ? chain : NULL, d->u.string, chain);
			strlist_add(out, chain);
		}
		yajl_tree_free(imgs[i]);
		free(paths[i]);
	}
	free(imgs);
	free(paths);
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

size_t chains_present(const struct strlist *have, char *const *chain_ids,
		      size_t n)
{
	size_t k = 0;

	/* present layers form a prefix: a layer is there with all below it */
	while (k < n && have->n &&
	       bsearch(&chain_ids[k], have->v, have->n, sizeof(*have->v),
		       cmp_str))
		k++;
	return k;
}

/* ------------------------------------------------------------------ */
/* the blobs of a containerd store's save                              */

/* The containerd store's save names a layer's blob by the digest it
 * holds it under: compressed after a pull or a build, so that only the
 * image's own manifest tells which blob is which layer.  It is read from
 * the head of the source's export (see manifest_finder in ocilayout.h),
 * then the export is closed: what this costs is a read of the source's
 * export up to that blob, on the source's side of the link. */
struct peek {
	struct manifest_finder *mf;
	int found;
};

static int peek_sink(void *ctx, const void *buf, size_t n)
{
	struct peek *pk = ctx;
	int r = manifest_finder_feed(pk->mf, buf, n);

	if (r == 1) {
		pk->found = 1;
		return dm_error("found");	/* stops the export */
	}
	return r;
}

/* Config digests read from exports, as "ID OS/ARCH CONFIG": the record
 * asks for an image's after the transfer that read it already, and each
 * read of a 200 MB export up to its manifest took 2-3.5 s (measured: a
 * containerd store's export runs at 60-80 MB/s here).  An id there is
 * the digest of the manifest, or of the index whose entry for the
 * platform is taken: what it maps to cannot change. */
static struct strlist configs_seen;

static const char *config_seen(const char *id, const char *platform)
{
	size_t il = strlen(id), pl = strlen(platform);

	for (size_t i = 0; i < configs_seen.n; i++) {
		const char *e = configs_seen.v[i];

		if (strncmp(e, id, il) == 0 && e[il] == ' ' &&
		    strncmp(e + il + 1, platform, pl) == 0 &&
		    e[il + 1 + pl] == ' ')
			return e + il + pl + 2;
	}
	return NULL;
}

static void config_note(const char *id, const char *platform,
			const char *config)
{
	char *e;

	if (!config || config_seen(id, platform))
		return;
	e = xasprintf("%s %s %s", id, platform, config);
	strlist_add(&configs_seen, e);
	free(e);
}

/* The layers' blob digests read from exports, as "ID OS/ARCH D1 D2 ...":
 * a container move plans (its estimate) before it transfers, and the
 * second plan need not read the export again. */
static struct strlist blobs_seen;

static const char *blobs_of(const char *id, const char *platform)
{
	size_t il = strlen(id), pl = strlen(platform);

	for (size_t i = 0; i < blobs_seen.n; i++) {
		const char *e = blobs_seen.v[i];

		if (strncmp(e, id, il) == 0 && e[il] == ' ' &&
		    strncmp(e + il + 1, platform, pl) == 0 &&
		    e[il + 1 + pl] == ' ')
			return e + il + pl + 2;
	}
	return NULL;
}

static void blobs_note(const char *id, const char *platform,
		       const struct reg_manifest *m)
{
	struct strbuf sb = STRBUF_INIT;

	if (blobs_of(id, platform))
		return;
	sb_addf(&sb, "%s %s", id, platform);
	for (size_t i = 0; i < m->n; i++)
		sb_addf(&sb, " %s", m->layers[i].digest);
	strlist_add(&blobs_seen, sb.buf);
	sb_release(&sb);
}

/* p's blob digests from a list of blobs_of: 0, or -1 when they are not
 * p->n digests. */
static int blobs_take(struct delta_plan *p, const char *list)
{
	char **d = xcalloc(p->n + 1, sizeof(char *));
	size_t k = 0;

	while (*list && k <= p->n) {
		size_t len = strcspn(list, " ");

		if (k < p->n)
			d[k] = xstrndup(list, len);
		k++;
		list += len;
		list += *list == ' ';
	}
	if (k != p->n) {
		for (size_t i = 0; i < p->n; i++)
			free(d[i]);
		free(d);
		return -1;
	}
	p->blob_digests = d;
	return 0;
}

/* The image manifest of ref (whose id on src is id) from src's export:
 * 1 found, 0 not (the reason in dm_errmsg). */
static int peek_manifest(struct engine *src, const char *ref, const char *id,
			 struct reg_manifest *out)
{
	const char *platform = engine_os_arch(src);
	struct peek pk = { manifest_finder_new(id, platform), 0 };
	char *path = images_get_path(&ref, 1);

	if (engine_get_stream(src, path, peek_sink, &pk, NULL) == 0)
		dm_error("the export has no manifest %.19s", id);
	if (pk.found) {
		manifest_finder_take(pk.mf, out);
		config_note(id, platform, out->config.digest);
		blobs_note(id, platform, out);
	}
	manifest_finder_free(pk.mf);
	free(path);
	return pk.found;
}

/* p's blob digests and config digest from src's export of ref; nothing
 * learnt (and no error) when the export is not what is expected. */
static void peek_blobs(struct engine *src, const char *ref,
		       struct delta_plan *p)
{
	const char *platform = engine_os_arch(src);
	struct reg_manifest m;
	int found;

	p->lazy = 0;
	if (blobs_of(p->image_id, platform) && config_seen(p->image_id, platform)
	    && blobs_take(p, blobs_of(p->image_id, platform)) == 0) {
		free(p->config_digest);
		p->config_digest = xstrdup(config_seen(p->image_id, platform));
		return;
	}
	found = peek_manifest(src, ref, p->image_id, &m);

	if (found && m.n == p->n) {
		p->blob_digests = xcalloc(p->n + 1, sizeof(char *));
		for (size_t i = 0; i < p->n; i++)
			p->blob_digests[i] = xstrdup(m.layers[i].digest);
		free(p->config_digest);
		p->config_digest = xstrdup(m.config.digest);
	} else {
		dm_debug("%s: which blob is which layer is not known (%s): "
			 "layers held compressed at the source are sent", ref,
			 found ? "a manifest of other layers" : dm_errmsg());
	}
	dm_clear_error();
	if (found)
		reg_manifest_release(&m);
}

char *image_config_digest(struct engine *e, const char *ref, const char *id)
{
	struct reg_manifest m;
	char *out;

	if (engine_image_store(e) != STORE_CONTAINERD) {
		dm_clear_error();
		return xstrdup(id);
	}
	if (config_seen(id, engine_os_arch(e)))
		return xstrdup(config_seen(id, engine_os_arch(e)));
	if (!peek_manifest(e, ref, id, &m)) {
		dm_clear_error();
		return NULL;
	}
	out = xstrdup(m.config.digest);
	reg_manifest_release(&m);
	return out;
}

/* exact: read the containerd store's export up to the manifest now;
 * otherwise only when an earlier read is kept, the stream placing the
 * blobs (delta_plan_stream). */
static int plan(struct engine *src, struct engine *dst, const char *ref,
		struct delta_plan *p, int exact)
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
	/* a graph driver's image id is its config's digest; the containerd
	 * store's is its manifest's (or index's), read from the export */
	p->config_digest = xstrdup(p->image_id ? p->image_id : "");
	if (p->n && engine_image_store(src) == STORE_CONTAINERD) {
		const char *platform = engine_os_arch(src);

		if (exact || (blobs_of(p->image_id, platform) &&
			      config_seen(p->image_id, platform)))
			peek_blobs(src, ref, p);
		else
			p->lazy = 1;
	}
	dm_clear_error();
	layer_sizes(src, p);
	if (engine_layer_chains(dst, &have) < 0)
		goto out;
	p->present = chains_present(&have, p->chain_ids, p->n);
	ret = 0;
out:
	strlist_clear(&have);
	yajl_tree_free(img);
	free(path);
	return ret;
}

int delta_plan(struct engine *src, struct engine *dst, const char *ref,
	       struct delta_plan *p)
{
	return plan(src, dst, ref, p, 1);
}

int delta_plan_stream(struct engine *src, struct engine *dst, const char *ref,
		      struct delta_plan *p)
{
	return plan(src, dst, ref, p, 0);
}

/* ------------------------------------------------------------------ */
/* one pass: the filtered, compressed stream                           */

struct delta_stream {
	struct tar_filter tf;
	const struct transfer *t;
	const struct delta_plan *p;
	int skip_all;		/* the destination has every layer */
	int predicted;		/* drop[] holds the present layers' dirs */
	char (*drop)[65];	/* v1 ids of layers 0..n-2 (see v1id.h) */
	size_t dropped;		/* layer members left out */
	struct strlist left_out;	/* their names */
	int oci_out;		/* the destination takes OCI layout only */
	int oci_in;		/* the source wrote OCI layout (index.json) */
	char *manifest, *index;
	struct strlist sized;	/* "SIZE NAME" of layers and configs */
	char expect[72];	/* the id the destination gives the image */
	const char *platform;	/* the source's, for the config's record */
	int unknown;		/* lazy plan: blobs named by no diff id seen */
	int need_manifest;	/* lazy plan: a blob it cannot place came */
	char *seen;		/* lazy plan: present layers whose blob came */
	char *held_name;	/* lazy plan: the first of them, kept until */
	struct strbuf held;	/* it is known to be the config */
	/* every layer present, lazy plan: the image's manifest from the
	 * stream, the blobs that passed, and whether the stream stopped
	 * once the manifest and config had (the rest is layers left out) */
	const char *ref;
	char *own;
	size_t own_len;
	struct reg_manifest om;
	int om_ok;
	struct strlist passed;
	int stop;
	struct gzout gz;
	int64_t t0, t_first, t_last;	/* for the debug report of phases */
};

/* "<64 hex>/<rest>": the rest, or NULL. */
static const char *in_layer_dir(const char *name)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		      (name[i] >= 'a' && name[i] <= 'f')))
			return NULL;
	return name[64] == '/' ? name + 65 : NULL;
}

/* A layer also found higher up, among the missing ones: save writes its
 * content once, in the lowest directory, and links the others to it, so
 * that file must travel. */
static int needed_above(const struct delta_plan *p, size_t i)
{
	for (size_t j = p->present; j < p->n; j++)
		if (strcmp(p->diff_ids[i], p->diff_ids[j]) == 0)
			return 1;
	return 0;
}

static int dir_is_present(const struct delta_stream *d, const char *name)
{
	if (!d->predicted)
		return 0;
	for (size_t i = 0; i < d->p->present; i++)
		if (strncmp(d->drop[i], name, 64) == 0)
			return !needed_above(d->p, i);
	return 0;
}

static const char *blob_of(const struct delta_plan *p, size_t i)
{
	return p->blob_digests ? p->blob_digests[i] : p->diff_ids[i];
}

int blob_is_present(const struct delta_plan *p, const char *digest)
{
	for (size_t i = 0; i < p->present; i++)
		if (strcmp(blob_of(p, i), digest) == 0)
			return !needed_above(p, i);
	return 0;
}

static void note_size(struct delta_stream *d, const struct tar_member *m)
{
	char *e = xasprintf("%llu %s", (unsigned long long)m->size, m->name);

	strlist_add(&d->sized, e);
	free(e);
}

static int size_of(const struct delta_stream *d, const char *name,
		   uint64_t *out)
{
	for (size_t i = 0; i < d->sized.n; i++) {
		char *sp = strchr(d->sized.v[i], ' ');

		if (sp && strcmp(sp + 1, name) == 0) {
			*out = strtoull(d->sized.v[i], NULL, 10);
			return 0;
		}
	}
	return -1;
}

static enum tar_action leave_out(struct delta_stream *d, const char *name)
{
	d->dropped++;
	strlist_add(&d->left_out, name);
	return TAR_DROP;
}

#define LAZY_HOLD_MAX (256u << 10)	/* what an image's config may be */

/* A lazy plan (delta_plan_stream) names each layer's blob by its diff
 * id: blobs named so and the image's own manifest are placed.  The
 * config is the one blob named by no diff id: the first such small blob
 * is held (1) until the export's end tells that no other came.  Any
 * other is a layer held compressed or an index's entry, which only the
 * manifest places: -1, and the stream stops before sending it (what was
 * sent so far is only layers named by a diff id that the destination
 * lacks).  Once every present layer's blob came, what comes is missing:
 * placed, as sent.  0: placed. */
static int lazy_place(struct delta_stream *d, const char *digest,
		      uint64_t size)
{
	const struct delta_plan *p = d->p;
	int named = 0, all = 1;

	if (!p->lazy || !p->present || dm_streq(digest, p->image_id))
		return 0;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->diff_ids[i], digest) == 0)
			named = d->seen[i] = 1;
	for (size_t i = 0; i < p->present; i++)
		all &= d->seen[i];
	if (named || all)
		return 0;
	if (d->unknown++ == 0 && size <= LAZY_HOLD_MAX)
		return 1;
	d->need_manifest = 1;
	return -1;
}

static enum tar_action keep_member(void *ctx, const struct tar_member *m)
{
	struct delta_stream *d = ctx;
	const char *rest = in_layer_dir(m->name);
	char digest[72];

	if (d->stop)
		return TAR_DROP;
	if (strcmp(m->name, "manifest.json") == 0 ||
	    strcmp(m->name, "index.json") == 0)
		return TAR_CAPTURE;	/* checked, then forwarded */
	if (oci_blob_digest(m->name, digest)) {
		/* OCI layout: a layer's blob is named by its diff id when the
		 * source holds it uncompressed (graph drivers always) */
		note_size(d, m);
		if (d->p->lazy && d->skip_all) {
			strlist_add(&d->passed, digest);
			if (dm_streq(digest, d->p->image_id))
				return TAR_CAPTURE;	/* read, forwarded */
		}
		switch (lazy_place(d, digest, m->size)) {
		case -1:
			return TAR_DROP;	/* and the stream stops */
		case 1:
			free(d->held_name);
			d->held_name = xstrdup(m->name);
			return TAR_CAPTURE;
		}
		return blob_is_present(d->p, digest) ? leave_out(d, m->name)
						      : TAR_FORWARD;
	}
	if (legacy_config_digest(m->name, digest))
		note_size(d, m);
	if (!rest)
		return TAR_FORWARD;
	if (strcmp(rest, "layer.tar") == 0) {
		note_size(d, m);
		if (!d->skip_all && !dir_is_present(d, m->name))
			return TAR_FORWARD;
		return leave_out(d, m->name);
	}
	/* a layer's v1 config: it names the present layers' directories */
	if (strcmp(rest, "json") == 0 && !d->skip_all && d->p->present &&
	    !d->predicted)
		return TAR_CAPTURE;
	return TAR_FORWARD;
}

static int tar_out(void *ctx, const void *buf, size_t n)
{
	return gzout_write(&((struct delta_stream *)ctx)->gz, buf, n);
}

/* A captured member goes on as a plain ustar member of the same name. */
static int forward_captured(struct delta_stream *d, const char *name,
			    const char *data, size_t len)
{
	static const char zeros[512];
	unsigned char blk[512];

	tar_header(blk, name, len, 0644, '0');
	if (tar_out(d, blk, sizeof(blk)) < 0 || tar_out(d, data, len) < 0)
		return -1;
	return tar_out(d, zeros, (512 - len % 512) % 512);
}

/* Before the member that completes the archive: the id the load will
 * make, told to t->will_load when the destination lacks it. */
static int announce(struct delta_stream *d, const char *id)
{
	struct image_info ii;
	int r;

	if (!d->t->will_load || !*id)
		return 0;
	r = image_inspect(d->t->dst, id, &ii);
	image_info_release(&ii);
	if (r < 0)
		return -1;
	return r == 1 ? 0 : d->t->will_load(d->t->will_load_ctx, id);
}

static int config_digest(const char *member, char out[72]);

/* The id a graph driver gives the image of this manifest.json. */
static int announce_legacy(struct delta_stream *d, const char *data,
			   size_t len)
{
	struct save_manifest m;
	char cfg[72];
	int ret;

	if (save_manifest_parse(data, len, &m) < 0)
		return -1;
	ret = config_digest(m.config, cfg) < 0 ? -1 : announce(d, cfg);
	save_manifest_release(&m);
	return ret;
}

/* The v1 ids of the lower layers, if this lower layer's config gives its
 * own directory's name back. */
static void learn_dirs(struct delta_stream *d, const char *name,
		       const char *json, size_t len)
{
	size_t lower = d->p->n - 1;

	if (v1_ids_from_json(json, len, d->p->chain_ids, lower, d->drop) < 0)
		return;
	for (size_t i = 0; i < lower; i++)
		if (strncmp(d->drop[i], name, 64) == 0) {
			d->predicted = 1;
			return;
		}
}

/* The image's own manifest, read as it passed: with every layer present
 * and each named by its diff id, the stream needs nothing after it and
 * the config. */
static void own_manifest(struct delta_stream *d, const char *data, size_t len)
{
	const struct delta_plan *p = d->p;

	free(d->own);
	d->own = xstrndup(data, len);
	d->own_len = len;
	if (reg_manifest_parse(data, len, NULL, d->platform, &d->om) < 0) {
		dm_clear_error();
		return;
	}
	d->om_ok = d->om.kind == REG_IMAGE && d->om.n == p->n;
	for (size_t i = 0; d->om_ok && i < p->n; i++)
		d->om_ok = dm_streq(d->om.layers[i].digest, p->diff_ids[i]);
}

/* After each member: has what the destination lacks passed? */
static int early_check(void *ctx)
{
	struct delta_stream *d = ctx;

	if (!d->om_ok || d->stop)
		return 0;
	for (size_t i = 0; i < d->passed.n; i++)
		if (dm_streq(d->passed.v[i], d->om.config.digest)) {
			d->stop = 1;
			break;
		}
	return 0;
}

static int captured(void *ctx, const char *name, const char *data, size_t len)
{
	struct delta_stream *d = ctx;
	char digest[72], id[72];

	/* (members after a stop are dropped, never captured) */
	if (oci_blob_digest(name, digest) && dm_streq(digest, d->p->image_id)) {
		own_manifest(d, data, len);
		if (forward_captured(d, name, data, len) < 0)
			return -1;
		return early_check(d);
	}
	if (d->held_name && strcmp(name, d->held_name) == 0) {
		sb_add(&d->held, data, len);
		return early_check(d);
	}
	/* the export's end: the blob held was its only unplaced one */
	if (d->held_name && (strcmp(name, "index.json") == 0 ||
			     strcmp(name, "manifest.json") == 0)) {
		int r = forward_captured(d, d->held_name, d->held.buf ?
					 d->held.buf : "", d->held.len);

		free(d->held_name);
		d->held_name = NULL;
		if (r < 0)
			return -1;
	}
	if (strcmp(name, "index.json") == 0) {
		free(d->index);
		d->index = xstrndup(data, len);
		d->oci_in = 1;
		if (d->oci_out && (oci_index_first(data, len, id) < 0 ||
				   announce(d, id) < 0))
			return -1;
	} else if (strcmp(name, "manifest.json") == 0) {
		free(d->manifest);
		d->manifest = xstrndup(data, len);
		/* a legacy manifest.json that lists layers left out is what
		 * the containerd store refuses; its index replaces it */
		if (d->oci_out && !d->oci_in)
			return 0;
		if (!d->oci_out && announce_legacy(d, data, len) < 0)
			return -1;
	} else if (!d->predicted) {
		learn_dirs(d, name, data, len);
	}
	return forward_captured(d, name, data, len);
}

/* The config's digest, from manifest.json's Config ("<hex>.json" in the
 * legacy format, "blobs/sha256/<hex>" in OCI layout). */
static int config_digest(const char *member, char out[72])
{
	if (legacy_config_digest(member, out) || oci_blob_digest(member, out))
		return 0;
	return dm_error("the source's manifest.json names its config \"%.80s\"",
			member);
}

/* The end of a legacy archive turned into OCI layout for the containerd
 * store: a manifest of the layers uncompressed (their blobs named by
 * diff id, as that store holds what was loaded), index.json naming it
 * with the image's tags, and oci-layout.  The layer files keep their
 * names: that store keeps every member under its computed digest. */
static int append_oci(struct delta_stream *d, const struct save_manifest *m)
{
	const struct delta_plan *p = d->p;
	uint64_t *sizes = xcalloc(p->n + 1, sizeof(*sizes)), cfg_size;
	char cfg[72], hex[65], *man = NULL, *idx = NULL, *name = NULL;
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	int ret = -1;

	if (config_digest(m->config, cfg) < 0)
		goto out;
	if (size_of(d, m->config, &cfg_size) < 0) {
		dm_error("the source's archive has no %s", m->config);
		goto out;
	}
	for (size_t i = 0; i < p->n; i++)
		if (size_of(d, m->layers.v[i], &sizes[i]) < 0) {
			dm_error("the source's archive has no %s",
				 m->layers.v[i]);
			goto out;
		}
	man = oci_manifest_json(cfg, cfg_size, p->diff_ids, sizes, p->n);
	sha256_hex(man, strlen(man), hex);
	snprintf(d->expect, sizeof(d->expect), "sha256:%s", hex);
	idx = oci_index_json(OCI_MANIFEST, d->expect, strlen(man), m->tags.v, m->tags.n);
	name = xasprintf("blobs/sha256/%s", hex);
	if (announce(d, d->expect) < 0 ||
	    forward_captured(d, name, man, strlen(man)) < 0 ||
	    forward_captured(d, "index.json", idx, strlen(idx)) < 0 ||
	    forward_captured(d, "oci-layout", layout, strlen(layout)) < 0)
		goto out;
	ret = 0;
out:
	free(sizes);
	free(man);
	free(idx);
	free(name);
	return ret;
}

static int in_list(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

/* What was left out must be what the destination has: the first
 * `present` layers of manifest.json.  Then what the destination will
 * call the image, and for the containerd store the OCI end of a legacy
 * archive. */
static int check_dropped(struct delta_stream *d)
{
	const struct delta_plan *p = d->p;
	struct save_manifest m;
	size_t kept = 0;
	char cfg[72];
	int ret = 0;

	if (!d->manifest)
		return dm_error("the source's image archive has no manifest.json");
	if (save_manifest_parse(d->manifest, strlen(d->manifest), &m) < 0)
		return dm_error_wrap("the source's image archive");
	if (m.layers.n != p->n) {
		ret = dm_error("the source's manifest.json lists %zu layers, "
			       "the image has %zu", m.layers.n, p->n);
		goto out;
	}
	for (size_t i = 0; i < p->n; i++) {
		int present = in_list(&d->left_out, m.layers.v[i]);

		if (present && i >= p->present) {
			ret = dm_error("layer %zu of %s was left out but the "
				       "destination lacks it", i + 1,
				       p->image_id);
			goto out;
		}
		kept += i < p->present && !present;
	}
	/* what the record asks next: the config's digest, read here rather
	 * than from another export */
	if (p->lazy && d->oci_in && config_digest(m.config, cfg) == 0)
		config_note(p->image_id, d->platform, cfg);
	dm_clear_error();
	if (kept)	/* only bytes lost: the load takes them as well */
		dm_debug("%zu layer(s) the destination has were sent (names not "
			 "recognised, content that a missing layer repeats, or "
			 "blobs the source holds compressed)", kept);
	if (d->oci_out && d->oci_in)
		ret = oci_index_first(d->index, strlen(d->index), d->expect);
	else if (d->oci_out)
		ret = append_oci(d, &m);
	else
		ret = config_digest(m.config, d->expect);
out:
	save_manifest_release(&m);
	return ret;
}

/* The archive's end when the stream stopped after the manifest and the
 * config: the config if it was held, then what the destination's load
 * reads first (index.json and oci-layout for the containerd store,
 * manifest.json for a graph driver), made from the manifest. */
static int finish_early(struct delta_stream *d)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	static const char zeros[1024];
	const struct reg_manifest *om = &d->om;
	char *tag = dm_starts_with(d->ref, "sha256:") ? NULL : (char *)d->ref;
	char **layers = xcalloc(om->n + 1, sizeof(char *)), *doc;
	int ret;

	if (d->held_name &&
	    forward_captured(d, d->held_name, d->held.buf ? d->held.buf : "",
			     d->held.len) < 0) {
		free(layers);
		return -1;
	}
	for (size_t i = 0; i < om->n; i++)
		layers[i] = om->layers[i].digest;
	if (d->oci_out) {
		yajl_val v = json_parse_quiet(d->own, d->own_len);
		const char *type = json_str(v, "mediaType", NULL);

		doc = oci_index_json(type ? type : OCI_MANIFEST, d->p->image_id,
				     d->own_len, tag ? &tag : NULL, !!tag);
		yajl_tree_free(v);
		ret = announce(d, d->p->image_id);
		if (ret == 0)
			ret = forward_captured(d, "index.json", doc,
					       strlen(doc));
		if (ret == 0)
			ret = forward_captured(d, "oci-layout", layout,
					       strlen(layout));
		snprintf(d->expect, sizeof(d->expect), "%s", d->p->image_id);
	} else {
		doc = save_manifest_json(om->config.digest, layers, om->n,
					 tag ? &tag : NULL, !!tag);
		ret = announce(d, om->config.digest);
		if (ret == 0)
			ret = forward_captured(d, "manifest.json", doc,
					       strlen(doc));
		snprintf(d->expect, sizeof(d->expect), "%s", om->config.digest);
	}
	config_note(d->p->image_id, d->platform, om->config.digest);
	d->oci_in = 1;		/* for the report: what the source wrote */
	free(doc);
	free(layers);
	dm_debug("%s: every layer present; the export was read until its "
		 "manifest and config had passed", d->p->image_id);
	return ret < 0 ? -1 : tar_out(d, zeros, sizeof(zeros));
}

static int delta_feed(void *ctx, const void *buf, size_t n, int fd)
{
	struct delta_stream *d = ctx;

	if (!d->t_first)
		d->t_first = dm_now_ms();
	d->gz.fd = fd;
	if (tar_filter_feed(&d->tf, buf, n) < 0)
		return -1;
	if (d->need_manifest)
		return dm_error("%s: a blob of the source's export is named by "
				"none of its layers' diff ids: reading its "
				"manifest first", d->p->image_id);
	return d->stop;		/* 1: no more of the export */
}

static int delta_finish(void *ctx, int fd)
{
	struct delta_stream *d = ctx;

	d->t_last = dm_now_ms();
	d->gz.fd = fd;
	if (d->stop) {
		if (finish_early(d) < 0)
			return -1;
	} else if (check_dropped(d) < 0 || tar_filter_finish(&d->tf) < 0) {
		return -1;
	}
	return gzout_finish(&d->gz);
}

/* One load of the filtered stream; *expect gets the id the destination
 * gives the image. */
static int send_delta(const struct transfer *t, const char *ref,
		      const char *get_path, const struct delta_plan *p,
		      int oci_out, char expect[72], int *need_manifest)
{
	struct delta_stream *d = xcalloc(1, sizeof(*d));
	struct pipe_filter f = { delta_feed, delta_finish, d };
	int ret;

	tar_filter_init(&d->tf);
	d->tf.member = keep_member;
	d->tf.captured = captured;
	d->tf.out = tar_out;
	d->tf.ctx = d;
	d->tf.member_end = early_check;
	d->t = t;
	d->p = p;
	d->oci_out = oci_out;
	d->platform = engine_os_arch(t->src);
	d->ref = ref;
	d->skip_all = p->present == p->n;
	d->drop = xcalloc(p->n + 1, sizeof(*d->drop));
	d->seen = xcalloc(p->n + 1, 1);
	if (gzout_init(&d->gz) < 0) {
		free(d->drop);
		free(d->seen);
		free(d);
		return -1;
	}
	d->t0 = dm_now_ms();
	ret = image_load(t, get_path, &f);
	/* where the time goes: the source's export before its first byte,
	 * the stream (link or compressor bound), the destination's load
	 * after the last byte */
	dm_debug("%s: %zu layer(s) left out (%s archive%s); %d gzip members, "
		 "%llu bytes stored, %lld ms compressing (level %d to %d), "
		 "%lld ms waiting for the link; "
		 "first byte from the source after %lld ms, last after "
		 "%lld ms, loaded at the destination after %lld ms", p->image_id,
		 d->dropped, d->oci_in ? "OCI" : "legacy",
		 oci_out && !d->oci_in ? " sent as OCI" : "", d->gz.members,
		 (unsigned long long)d->gz.stored,
		 (long long)(d->gz.us_deflate / 1000), GZOUT_LEVEL,
		 d->gz.max_level,
		 (long long)(d->gz.us_write / 1000),
		 (long long)(d->t_first ? d->t_first - d->t0 : -1),
		 (long long)(d->t_last ? d->t_last - d->t0 : -1),
		 (long long)(dm_now_ms() - d->t0));
	snprintf(expect, 72, "%s", d->expect);
	*need_manifest = d->need_manifest;
	gzout_end(&d->gz);
	tar_filter_release(&d->tf);
	strlist_clear(&d->left_out);
	strlist_clear(&d->sized);
	free(d->manifest);
	free(d->index);
	free(d->held_name);
	free(d->own);
	reg_manifest_release(&d->om);
	strlist_clear(&d->passed);
	free(d->seen);
	sb_release(&d->held);
	free(d->drop);
	free(d);
	return ret;
}

size_t first_missing_layer(const char *err, const struct delta_plan *p)
{
	const char *at = strstr(err ? err : "", "content digest sha256:");

	if (!at)
		return 0;
	at += strlen("content digest ");
	for (size_t i = 0; i < p->present; i++)
		if (strncmp(at, blob_of(p, i), 71) == 0)
			return i;
	return 0;
}

static int transfer_one(const struct transfer *t, const char *ref,
			enum image_store store)
{
	struct delta_plan p;
	char *get_path = images_get_path(&ref, 1), expect[72] = "";
	int ret = -1, oci_out = store == STORE_CONTAINERD, reread = 0;

	if (delta_plan_stream(t->src, t->dst, ref, &p) < 0)
		goto out;
	dm_debug("%s: %zu layers, %zu at the destination%s", ref, p.n,
		 p.present, p.lazy ? " (the export's blobs placed as they "
		 "come)" : "");
	for (int attempt = 0; attempt < 2; attempt++) {
		size_t made0 = t->made ? t->made->n : 0;

		/* test hook: a load that fails for want of a layer, the
		 * destination lacking what the plan said it had */
		if (dm_streq(getenv("DOCKER_MIGRATE_TEST_FAULT"),
			     "load-lacks-layer")) {
			fprintf(stderr, "docker migrate: test hook: every layer "
				"left out\n");
			p.present = p.n;
		}
		ret = send_delta(t, ref, get_path, &p, oci_out, expect,
				 &reread);
		if (ret < 0 && reread && p.lazy && !dm_cancelled()) {
			/* stopped before the blob it could not place: what
			 * the load made of the rest goes, and the manifest is
			 * read before the export is sent again (once) */
			dm_debug("%s", dm_errmsg());
			dm_clear_error();
			image_remove_made(t, made0);
			peek_blobs(t->src, ref, &p);
			p.lazy = 0;
			attempt--;
			continue;
		}
		/* the engine checks each layer's digest; check the result too
		 * (the containerd store says nothing of content it lacked
		 * when the layer's snapshot was there) */
		if (ret == 0)
			ret = image_check_arrived(t->dst, expect, p.diff_ids,
						  p.n, ref);
		if (ret == 0 || !oci_out || !p.present || attempt == 1 ||
		    dm_cancelled())
			break;
		/* The containerd store holds a layer it did not load from
		 * an uncompressed archive (a pull, a build) under another
		 * digest than its diff id, and nothing in the Engine API
		 * tells which: left-out layers are tried once, and on a
		 * failure sent from the first one it lacked. */
		dm_debug("%s; sending again from the layer it lacked",
			 dm_errmsg());
		image_remove_made(t, made0);
		p.present = first_missing_layer(dm_errmsg(), &p);
		dm_clear_error();
	}
	/* test hook: the image loaded, the load's reply not yet seen by the
	 * caller (a kill here must find it journaled) */
	if (ret == 0)
		dm_test_pause("loaded");
out:
	delta_plan_release(&p);
	free(get_path);
	return ret;
}

int transfer_delta(const struct transfer *t, const char *const *refs, size_t n)
{
	enum image_store store = engine_image_store(t->dst);

	if (store == STORE_UNKNOWN)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (transfer_one(t, refs[i], store) < 0)
			return -1;
	return 0;
}
