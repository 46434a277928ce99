/*
 * strategy_layers.c - the seeds' "custom client": the image goes through
 * a registry (pushed there by the source engine, or already there with
 * --no-push), and the plugin itself fetches from it, with single blob GETs,
 * only the layers the destination engine lacks.
 *
 * What reaches the destination is a minimal "docker save" archive, built
 * as the blobs arrive: the image config, each missing layer's blob as its
 * layer.tar (compressed as the registry holds it: load decompresses), and
 * manifest.json last.  Layers the destination has are left out; load finds
 * them by chain id (see strategy_delta.c).  Nothing touches a disk: the
 * archive streams from the registry's replies into /images/load.
 *
 * Why the archive cannot be loaded half: load extracts the whole archive
 * before it registers anything, and a blob whose digest does not match is
 * never finished (registry_fetch holds its last bytes back), so the
 * archive breaks off inside a member and load fails with nothing left.
 */
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "json.h"
#include "ocilayout.h"
#include "registry.h"
#include "tar.h"
#include "transfer.h"

#define PARALLEL 3		/* blobs at once, as engines pull */
#define WINDOW (8u << 20)	/* bytes buffered per blob ahead of the sink:
				 * 16 MB at most with 3 at once */

/* The archive being written into the pipe to /images/load. */
struct archive {
	int fd;
	const struct reg_manifest *m;
	size_t first;		/* m->layers[first..] are sent */
	uint64_t member;	/* bytes of the current member written */
	const char *oci_manifest;	/* OCI layout with this manifest (for
					 * the containerd store); NULL: legacy */
	const char *ref;	/* the name index.json gives the image */
};

static int put_member(int fd, const char *name, const void *data, size_t n)
{
	unsigned char blk[512];
	static const unsigned char zero[512];

	tar_header(blk, name, n, 0644, '0');
	if (fd_write_all(fd, blk, sizeof(blk)) < 0 ||
	    fd_write_all(fd, data, n) < 0)
		return -1;
	return n % 512 ? fd_write_all(fd, zero, 512 - n % 512) : 0;
}

static char *layer_name(const struct archive *a, const struct reg_desc *d)
{
	return a->oci_manifest ? xasprintf("blobs/sha256/%s", d->digest + 7)
			       : xasprintf("%s/layer.tar", d->digest + 7);
}

static int blob_begin(void *ctx, size_t i)
{
	struct archive *a = ctx;
	const struct reg_desc *d = &a->m->layers[a->first + i];
	char *name = layer_name(a, d);
	unsigned char blk[512];

	tar_header(blk, name, (uint64_t)d->size, 0644, '0');
	free(name);
	a->member = 0;
	return fd_write_all(a->fd, blk, sizeof(blk));
}

static int blob_data(void *ctx, size_t i, const void *buf, size_t n)
{
	struct archive *a = ctx;

	(void)i;
	a->member += n;
	return fd_write_all(a->fd, buf, n);
}

static int blob_end(void *ctx, size_t i)
{
	static const unsigned char zero[512];
	struct archive *a = ctx;

	(void)i;
	return a->member % 512
	       ? fd_write_all(a->fd, zero, 512 - a->member % 512) : 0;
}

/* manifest.json: every layer in order, present ones included (load looks
 * them up by chain id and reads no file for them). */
static char *manifest_json(const struct archive *a)
{
	const struct reg_manifest *m = a->m;
	yajl_gen g = yajl_gen_alloc(NULL);
	char *cfg = xasprintf("%s.json", m->config.digest + 7), *out;

	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	json_gen_str(g, "Config");
	json_gen_str(g, cfg);
	json_gen_str(g, "RepoTags");
	yajl_gen_array_open(g);
	yajl_gen_array_close(g);
	json_gen_str(g, "Layers");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < m->n; i++) {
		char *name = layer_name(a, &m->layers[i]);

		json_gen_str(g, name);
		free(name);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
	out = json_gen_take(g);
	yajl_gen_free(g);
	free(cfg);
	return out;
}

struct writer {
	struct archive a;
	struct registry *reg;
	const char *repo;
	const struct strbuf *config;
	long stall_s;
};

static int put_legacy_end(const struct archive *a)
{
	char *man = manifest_json(a);
	int ret = put_member(a->fd, "manifest.json", man, strlen(man));

	free(man);
	return ret;
}

/* The image manifest for the containerd store: the registry's own
 * descriptors (the store holds a pulled layer under its compressed
 * digest), of the Docker or OCI family as the config is. */
static char *registry_image_manifest(const struct reg_manifest *m,
				     const char **type)
{
	struct oci_desc cfg = { m->config.media_type, m->config.digest,
				(uint64_t)m->config.size };
	struct oci_desc *l = xcalloc(m->n + 1, sizeof(*l));
	char *out;

	*type = dm_starts_with(m->config.media_type, "application/vnd.docker.")
		? DOCKER_MANIFEST : OCI_MANIFEST;
	for (size_t i = 0; i < m->n; i++)
		l[i] = (struct oci_desc){ m->layers[i].media_type,
					  m->layers[i].digest,
					  (uint64_t)m->layers[i].size };
	out = oci_manifest_of(*type, &cfg, l, m->n);
	free(l);
	return out;
}

static int put_oci_end(const struct archive *a)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	const char *type, *tags[] = { a->ref };
	char *man = registry_image_manifest(a->m, &type), hex[65], *name, *idx;
	char digest[72];
	int ret;

	sha256_hex(man, strlen(man), hex);
	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	name = xasprintf("blobs/sha256/%s", hex);
	idx = oci_index_json(type, digest, strlen(man), (char *const *)tags,
			     1);
	ret = put_member(a->fd, name, man, strlen(man));
	if (ret == 0)
		ret = put_member(a->fd, "index.json", idx, strlen(idx));
	if (ret == 0)
		ret = put_member(a->fd, "oci-layout", layout, strlen(layout));
	free(man);
	free(name);
	free(idx);
	return ret;
}

/* The archive, start to end, into fd; stopping early (on any error)
 * leaves the archive cut inside a member. */
static int write_archive(void *ctx, int fd)
{
	struct writer *w = ctx;
	struct archive *a = &w->a;
	const struct reg_manifest *m = a->m;
	struct blob_sink sink = { blob_begin, blob_data, blob_end, a };
	char *cfg = a->oci_manifest
		    ? xasprintf("blobs/sha256/%s", m->config.digest + 7)
		    : xasprintf("%s.json", m->config.digest + 7);
	static const unsigned char zero[1024];
	int ret;

	a->fd = fd;
	ret = put_member(fd, cfg, w->config->buf, w->config->len);
	if (ret == 0)
		ret = registry_fetch(w->reg, w->repo, m->layers + a->first,
				     m->n - a->first, PARALLEL, WINDOW,
				     w->stall_s, &sink);
	if (ret == 0)
		ret = a->oci_manifest ? put_oci_end(a) : put_legacy_end(a);
	if (ret == 0)
		ret = fd_write_all(fd, zero, sizeof(zero));
	free(cfg);
	return ret;
}

static int load_archive(const struct transfer *t, struct writer *w)
{
	/* registry.c's messages name the registry already */
	return image_load_produced(t, write_archive, w);
}

/* From a containerd store's failed load, the first of the layers below
 * `first` whose blob it lacked; 0 if unsure. */
static size_t first_lacked(const char *err, const struct reg_manifest *m,
			   size_t first)
{
	const char *at = strstr(err ? err : "", "content digest sha256:");

	for (size_t i = 0; at && i < first; i++)
		if (strncmp(at + strlen("content digest "), m->layers[i].digest,
			    71) == 0)
			return i;
	return 0;
}

/* "REG/app" -> "app": the repository part of a registry name. */
static const char *repo_of(const char *name)
{
	return strchr(name, '/') + 1;
}

/* Every layer of m is one load can take; the config's diff ids match. */
static int check_image(const struct reg_manifest *m, const struct strlist *ids,
		       const char *ref)
{
	if (ids->n != m->n)
		return dm_error("%s: the registry's manifest has %zu layers, its "
				"config %zu", ref, m->n, ids->n);
	for (size_t i = 0; i < m->n; i++) {
		int k = reg_layer_type(m->layers[i].media_type);

		if (k == 0)
			return dm_error("%s: layer %zu is a foreign layer (not "
					"distributable): it cannot be fetched",
					ref, i + 1);
		if (k < 0)
			return dm_error("%s: layer %zu has an unknown media type "
					"\"%.80s\"", ref, i + 1,
					m->layers[i].media_type);
	}
	return 0;
}

/* Fetch name:tag from the registry into the destination; only the layers
 * it lacks travel.  *id gets the image's id (its config's digest). */
static int fetch_image(const struct transfer *t, struct registry *reg,
		       const char *name, const char *tag, const char *ref,
		       char **id)
{
	struct reg_manifest m;
	struct strbuf config = STRBUF_INIT;
	struct strlist ids = { 0 }, have = { 0 };
	char **chains = NULL, chain[72] = "";
	struct image_info got;
	enum image_store store;
	int ret = -1, f;

	if (registry_manifest(reg, repo_of(name), tag, engine_os_arch(t->dst),
			      &m) < 0)
		return -1;
	if (registry_blob(reg, repo_of(name), &m.config, &config) < 0 ||
	    reg_config_diff_ids(config.buf, config.len, &ids) < 0 ||
	    check_image(&m, &ids, ref) < 0)
		goto out;
	store = engine_image_store(t->dst);
	if (store == STORE_UNKNOWN)
		goto out;
	if (store == STORE_CONTAINERD) {
		/* there an image's id is its manifest's digest */
		const char *type;
		char *man = registry_image_manifest(&m, &type), hex[65];

		sha256_hex(man, strlen(man), hex);
		*id = xasprintf("sha256:%s", hex);
		free(man);
	} else {
		*id = xstrdup(m.config.digest);
	}
	f = image_inspect(t->dst, *id, &got);
	image_info_release(&got);
	if (f < 0)
		goto out;
	if (f == 1) {
		dm_debug("%s: the destination has %s already", ref, *id);
		ret = 0;
		goto out;
	}
	chains = xcalloc(ids.n + 1, sizeof(*chains));
	for (size_t i = 0; i < ids.n; i++) {
		chain_id_next(i ? chain : NULL, ids.v[i], chain);
		chains[i] = xstrdup(chain);
	}
	if (engine_layer_chains(t->dst, &have) < 0)
		goto out;
	{
		struct writer w = { .a = { .m = &m, .ref = ref }, .reg = reg,
				    .repo = repo_of(name), .config = &config,
				    .stall_s = t->stall_s };
		char *oci_manifest = NULL;
		const char *type;

		if (store == STORE_CONTAINERD)
			w.a.oci_manifest = oci_manifest =
				registry_image_manifest(&m, &type);
		w.a.first = chains_present(&have, chains, ids.n);
		for (int attempt = 0; attempt < 2; attempt++) {
			size_t made0 = t->made ? t->made->n : 0;

			dm_debug("%s: %zu layers, %zu at the destination, "
				 "fetching %zu", ref, m.n, w.a.first,
				 m.n - w.a.first);
			ret = load_archive(t, &w);
			/* load checked each layer's diff id; check the
			 * result too */
			if (ret == 0)
				ret = image_check_arrived(t->dst, *id, ids.v,
							  ids.n, ref);
			if (ret == 0 || !oci_manifest || !w.a.first ||
			    attempt == 1 || dm_cancelled())
				break;
			/* The containerd store holds a layer it loaded
			 * under its diff id, not the registry's digest:
			 * sent again from the first one it lacked. */
			dm_debug("%s; fetching again from the layer it lacked",
				 dm_errmsg());
			image_remove_made(t, made0);
			w.a.first = first_lacked(dm_errmsg(), &m, w.a.first);
			dm_clear_error();
		}
		free(oci_manifest);
		if (ret < 0)
			goto out;
	}
	ret = 0;
out:
	for (size_t i = 0; chains && i < ids.n; i++)
		free(chains[i]);
	free(chains);
	strlist_clear(&ids);
	strlist_clear(&have);
	sb_release(&config);
	reg_manifest_release(&m);
	return ret;
}

static int layers_one(const struct transfer *t, struct registry *reg,
		      const char *ref, const char *auth)
{
	const char *host = registry_host(reg);
	char *name, *tag, *id = NULL;
	struct made_tags made = { 0, 0, 0 };
	int ret = -1;

	registry_ref(host, ref, &name, &tag);
	if (!t->no_push) {
		made.reg = registry_lacks(reg, name + strlen(host) + 1, tag);
		if (registry_push(t, ref, name, tag, auth, &made.src) < 0)
			goto out;
	}
	if (fetch_image(t, reg, name, tag, ref, &id) < 0)
		goto out;
	/* the destination gets the user's name for it, and only that */
	if (image_tag_if_missing(t->dst, id, ref) < 0)
		goto out;
	ret = 0;
out:
	registry_remove_made(t, reg, name, tag, ret < 0, &made);
	free(id);
	free(name);
	free(tag);
	return ret;
}

int transfer_layers(const struct transfer *t, const char *const *refs,
		    size_t n)
{
	struct registry *reg = registry_open(t->registry, t->cfgdir, 0);
	char *auth = NULL;
	int ret = -1;

	if (!reg)
		return -1;
	if (t->no_push || registry_auth_header(t->cfgdir, registry_host(reg),
					       &auth) == 0) {
		ret = 0;
		for (size_t i = 0; i < n && ret == 0; i++)
			ret = layers_one(t, reg, refs[i], auth);
	}
	if (auth)
		memset(auth, 0, strlen(auth));
	free(auth);
	registry_free(reg);
	return ret;
}
