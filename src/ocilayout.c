/*
 * ocilayout.c - reading and writing the small JSON members of image
 * archives, in both formats (see ocilayout.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "json.h"
#include "ocilayout.h"
#include "registry.h"
#include "tar.h"

static int is_hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int oci_blob_digest(const char *member, char out[72])
{
	if (strncmp(member, "blobs/sha256/", 13) || strlen(member) != 13 + 64 ||
	    !is_hex64(member + 13))
		return 0;
	snprintf(out, 72, "sha256:%s", member + 13);
	return 1;
}

int legacy_config_digest(const char *member, char out[72])
{
	if (strlen(member) != 64 + 5 || !is_hex64(member) ||
	    strcmp(member + 64, ".json"))
		return 0;
	snprintf(out, 72, "sha256:%.64s", member);
	return 1;
}

void save_manifest_release(struct save_manifest *m)
{
	free(m->config);
	strlist_clear(&m->layers);
	strlist_clear(&m->tags);
	memset(m, 0, sizeof(*m));
}

static int add_strings(yajl_val a, struct strlist *out)
{
	for (size_t i = 0; i < json_alen(a); i++) {
		if (!YAJL_IS_STRING(a->u.array.values[i]))
			return -1;
		strlist_add(out, a->u.array.values[i]->u.string);
	}
	return 0;
}

int save_manifest_parse(const char *json, size_t len, struct save_manifest *m)
{
	yajl_val doc = json_parse(json, len, "manifest.json"), e;
	const char *cfg;
	int ret = -1;

	memset(m, 0, sizeof(*m));
	if (!doc)
		return -1;
	if (!YAJL_IS_ARRAY(doc) || json_alen(doc) != 1) {
		dm_error("manifest.json: not one image");
		goto out;
	}
	e = doc->u.array.values[0];
	cfg = json_str(e, "Config", NULL);
	if (!cfg || add_strings(json_get(e, "Layers", NULL), &m->layers) < 0 ||
	    add_strings(json_get(e, "RepoTags", NULL), &m->tags) < 0) {
		dm_error("manifest.json: malformed image entry");
		goto out;
	}
	m->config = xstrdup(cfg);
	ret = 0;
out:
	if (ret < 0)
		save_manifest_release(m);
	yajl_tree_free(doc);
	return ret;
}

static void gen_blob_name(yajl_gen g, const char *digest)
{
	char *name = xasprintf("blobs/sha256/%s", digest + strlen("sha256:"));

	json_gen_str(g, name);
	free(name);
}

char *save_manifest_json(const char *config_digest, char *const *layers,
			 size_t n, char *const *tags, size_t ntags)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	char *out;

	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	json_gen_str(g, "Config");
	gen_blob_name(g, config_digest);
	json_gen_str(g, "RepoTags");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < ntags; i++)
		json_gen_str(g, tags[i]);
	yajl_gen_array_close(g);
	json_gen_str(g, "Layers");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++)
		gen_blob_name(g, layers[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
	out = json_gen_take(g);
	yajl_gen_free(g);
	return out;
}

int oci_index_first(const char *json, size_t len, char out[72])
{
	yajl_val doc = json_parse(json, len, "index.json"), ms;
	const char *d = NULL;
	int ret = -1;

	ms = json_get(doc, "manifests", NULL);
	if (json_alen(ms))
		d = json_str(ms->u.array.values[0], "digest", NULL);
	if (d && strlen(d) == 7 + 64 && strncmp(d, "sha256:", 7) == 0 &&
	    is_hex64(d + 7)) {
		snprintf(out, 72, "%s", d);
		ret = 0;
	} else if (doc) {
		dm_error("index.json names no manifest");
	}
	yajl_tree_free(doc);
	return ret;
}

char *oci_full_name(const char *ref)
{
	const char *slash = strchr(ref, '/'), *last = strrchr(ref, '/');
	const char *colon = strrchr(last ? last : ref, ':');
	size_t dl = slash ? (size_t)(slash - ref) : 0;
	int domain = slash && (memchr(ref, '.', dl) || memchr(ref, ':', dl) ||
			       (dl == 9 && strncmp(ref, "localhost", 9) == 0));

	if (!*ref || strchr(ref, '@') || dm_starts_with(ref, "sha256:"))
		return NULL;
	return xasprintf("%s%s%s", domain ? "" : slash ? "docker.io/"
				: "docker.io/library/", ref,
			 colon ? "" : ":latest");
}

static void gen_desc(yajl_gen g, const char *type, const char *digest,
		     uint64_t size)
{
	yajl_gen_map_open(g);
	json_gen_str(g, "mediaType");
	json_gen_str(g, type);
	json_gen_str(g, "digest");
	json_gen_str(g, digest);
	json_gen_str(g, "size");
	yajl_gen_integer(g, (long long)size);
}

char *oci_manifest_of(const char *type, const struct oci_desc *config,
		      const struct oci_desc *layers, size_t n)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	char *out;

	yajl_gen_map_open(g);
	json_gen_str(g, "schemaVersion");
	yajl_gen_integer(g, 2);
	json_gen_str(g, "mediaType");
	json_gen_str(g, type);
	json_gen_str(g, "config");
	gen_desc(g, config->media_type, config->digest, config->size);
	yajl_gen_map_close(g);
	json_gen_str(g, "layers");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		gen_desc(g, layers[i].media_type, layers[i].digest,
			 layers[i].size);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	out = json_gen_take(g);
	yajl_gen_free(g);
	return out;
}

char *oci_manifest_json(const char *config_digest, uint64_t config_size,
			char *const *diff_ids, const uint64_t *sizes, size_t n)
{
	struct oci_desc cfg = { "application/vnd.oci.image.config.v1+json",
				config_digest, config_size };
	struct oci_desc *l = xcalloc(n + 1, sizeof(*l));
	char *out;

	for (size_t i = 0; i < n; i++)
		l[i] = (struct oci_desc){ "application/vnd.oci.image.layer.v1.tar",
					  diff_ids[i], sizes[i] };
	out = oci_manifest_of(OCI_MANIFEST, &cfg, l, n);
	free(l);
	return out;
}

char *oci_index_json(const char *type, const char *manifest_digest,
		     uint64_t size, char *const *tags, size_t ntags)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	size_t k = 0;
	char *out;

	yajl_gen_map_open(g);
	json_gen_str(g, "schemaVersion");
	yajl_gen_integer(g, 2);
	json_gen_str(g, "mediaType");
	json_gen_str(g, "application/vnd.oci.image.index.v1+json");
	json_gen_str(g, "manifests");
	yajl_gen_array_open(g);
	do {
		char *full = k < ntags ? oci_full_name(tags[k]) : NULL;

		gen_desc(g, type, manifest_digest, size);
		if (full) {
			json_gen_str(g, "annotations");
			yajl_gen_map_open(g);
			json_gen_str(g, "io.containerd.image.name");
			json_gen_str(g, full);
			json_gen_str(g, "org.opencontainers.image.ref.name");
			json_gen_str(g, strrchr(full, ':') + 1);
			yajl_gen_map_close(g);
		}
		yajl_gen_map_close(g);
		free(full);
	} while (++k < ntags);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	out = json_gen_take(g);
	yajl_gen_free(g);
	return out;
}

#define FIND_BLOB_MAX (256u << 10)	/* manifests, indexes, configs */
#define FIND_KEEP_MAX (16u << 20)	/* all of them kept, at most */

struct manifest_finder {
	struct tar_filter tf;
	char *platform;
	char want[72];
	struct strlist names;	/* kept blobs: "sha256:..." */
	struct strbuf *data;	/* their content, same order */
	size_t kept;
	struct reg_manifest m;
	int found;
};

static enum tar_action find_member(void *ctx, const struct tar_member *m)
{
	struct manifest_finder *f = ctx;
	char digest[72];

	if (!oci_blob_digest(m->name, digest) || m->size > FIND_BLOB_MAX ||
	    f->kept + m->size > FIND_KEEP_MAX)
		return TAR_DROP;
	f->kept += m->size;
	return TAR_CAPTURE;
}

static const struct strbuf *find_kept(const struct manifest_finder *f,
				      const char *digest)
{
	for (size_t i = 0; i < f->names.n; i++)
		if (strcmp(f->names.v[i], digest) == 0)
			return &f->data[i];
	return NULL;
}

/* Is the wanted blob kept: the manifest, or an index that leads to it? */
static int find_resolve(struct manifest_finder *f)
{
	const struct strbuf *b;
	int hops = 0;

	while ((b = find_kept(f, f->want))) {
		if (reg_manifest_parse(b->buf ? b->buf : "", b->len, NULL,
				       f->platform, &f->m) < 0)
			return -1;
		if (f->m.kind == REG_IMAGE)
			return 1;
		snprintf(f->want, sizeof(f->want), "%s", f->m.pick);
		reg_manifest_release(&f->m);
		if (++hops > 4)		/* an index of indexes of ... */
			return dm_error("image index nested too deep");
	}
	return 0;
}

static int find_captured(void *ctx, const char *name, const char *data,
			 size_t len)
{
	struct manifest_finder *f = ctx;
	char digest[72];
	int r;

	if (f->found || !oci_blob_digest(name, digest))
		return 0;
	strlist_add(&f->names, digest);
	f->data = xrealloc(f->data, f->names.n * sizeof(*f->data));
	f->data[f->names.n - 1] = (struct strbuf)STRBUF_INIT;
	sb_add(&f->data[f->names.n - 1], data, len);
	r = find_resolve(f);
	if (r == 1) {
		f->found = 1;
		return -1;	/* nothing after it is read */
	}
	return r < 0 ? -1 : 0;
}

struct manifest_finder *manifest_finder_new(const char *want,
					    const char *platform)
{
	struct manifest_finder *f = xcalloc(1, sizeof(*f));

	tar_filter_init(&f->tf);
	f->tf.member = find_member;
	f->tf.captured = find_captured;
	f->tf.capture_max = FIND_BLOB_MAX;
	f->tf.ctx = f;
	f->platform = xstrdup(platform ? platform : "linux/amd64");
	snprintf(f->want, sizeof(f->want), "%s", want ? want : "");
	return f;
}

int manifest_finder_feed(struct manifest_finder *f, const void *buf, size_t n)
{
	if (f->found)
		return 1;
	if (tar_filter_feed(&f->tf, buf, n) < 0 && !f->found)
		return -1;
	if (f->found)
		dm_clear_error();
	return f->found;
}

void manifest_finder_take(struct manifest_finder *f, struct reg_manifest *out)
{
	*out = f->m;
	memset(&f->m, 0, sizeof(f->m));
	f->found = 0;
}

void manifest_finder_free(struct manifest_finder *f)
{
	if (!f)
		return;
	reg_manifest_release(&f->m);
	for (size_t i = 0; i < f->names.n; i++)
		sb_release(&f->data[i]);
	free(f->data);
	strlist_clear(&f->names);
	tar_filter_release(&f->tf);
	free(f->platform);
	free(f);
}
