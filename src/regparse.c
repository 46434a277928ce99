/*
 * regparse.c - the parsers of what a registry sends (manifests, lists,
 * image configs, WWW-Authenticate challenges) and of --registry.  Pure
 * functions of their bytes: registry.c does the talking.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "registry.h"

#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_V1 "application/vnd.docker.distribution.manifest.v1"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"

int reg_digest_ok(const char *d)
{
	if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
		return 0;
	for (const char *p = d + 7; *p; p++)
		if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
			return 0;
	return 1;
}

int reg_layer_type(const char *mt)
{
	static const char *const ok[] = {
		"application/vnd.docker.image.rootfs.diff.tar.gzip",
		"application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd",
	};
	static const char *const foreign[] = {
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	};

	for (size_t i = 0; mt && i < sizeof(ok) / sizeof(*ok); i++)
		if (strcmp(mt, ok[i]) == 0)
			return 1;
	for (size_t i = 0; mt && i < sizeof(foreign) / sizeof(*foreign); i++)
		if (strcmp(mt, foreign[i]) == 0)
			return 0;
	return -1;
}

static void desc_release(struct reg_desc *d)
{
	free(d->media_type);
	free(d->digest);
	memset(d, 0, sizeof(*d));
}

void reg_manifest_release(struct reg_manifest *m)
{
	desc_release(&m->config);
	for (size_t i = 0; i < m->n; i++)
		desc_release(&m->layers[i]);
	free(m->layers);
	free(m->pick);
	memset(m, 0, sizeof(*m));
}

static int desc_parse(yajl_val v, const char *what, struct reg_desc *d)
{
	const char *digest = json_str(v, "digest", NULL);
	yajl_val size = json_get(v, "size", NULL);

	if (!reg_digest_ok(digest))
		return dm_error("manifest: %s has no sha256 digest", what);
	if (!size || !YAJL_IS_INTEGER(size) || YAJL_GET_INTEGER(size) < 0)
		return dm_error("manifest: %s has no valid size", what);
	d->digest = xstrdup(digest);
	d->size = YAJL_GET_INTEGER(size);
	d->media_type = xstrdup(json_str(v, "mediaType", NULL) ?: "");
	return 0;
}

/* "os/arch[/variant]" of a list entry's platform matches want. */
static int platform_match(yajl_val entry, const char *want)
{
	const char *os = json_str(entry, "platform", "os", NULL);
	const char *arch = json_str(entry, "platform", "architecture", NULL);
	const char *var = json_str(entry, "platform", "variant", NULL);
	const char *s1 = strchr(want, '/'), *s2;
	size_t los, larch;

	if (!os || !arch || !s1)
		return 0;
	s2 = strchr(s1 + 1, '/');
	los = (size_t)(s1 - want);
	larch = s2 ? (size_t)(s2 - s1 - 1) : strlen(s1 + 1);
	if (strlen(os) != los || strncmp(os, want, los) != 0 ||
	    strlen(arch) != larch || strncmp(arch, s1 + 1, larch) != 0)
		return 0;
	return !s2 || !var || strcmp(var, s2 + 1) == 0;
}

static int parse_index(yajl_val doc, const char *platform,
		       struct reg_manifest *m)
{
	yajl_val list = json_get(doc, "manifests", NULL);

	m->kind = REG_INDEX;
	if (!list || !YAJL_IS_ARRAY(list))
		return dm_error("manifest list without \"manifests\"");
	for (size_t i = 0; i < json_alen(list); i++) {
		yajl_val e = list->u.array.values[i];
		const char *d = json_str(e, "digest", NULL);

		if (platform_match(e, platform) && reg_digest_ok(d)) {
			m->pick = xstrdup(d);
			return 0;
		}
	}
	return dm_error("the manifest list has no image for %s", platform);
}

static int parse_image(yajl_val doc, struct reg_manifest *m)
{
	yajl_val layers = json_get(doc, "layers", NULL);

	m->kind = REG_IMAGE;
	if (desc_parse(json_get(doc, "config", NULL), "config", &m->config) < 0)
		return -1;
	if (!layers || !YAJL_IS_ARRAY(layers))
		return dm_error("manifest without \"layers\"");
	m->layers = xcalloc(json_alen(layers) + 1, sizeof(*m->layers));
	for (size_t i = 0; i < json_alen(layers); i++) {
		if (desc_parse(layers->u.array.values[i], "a layer",
			       &m->layers[m->n]) < 0)
			return -1;
		m->n++;
	}
	return 0;
}

int reg_manifest_parse(const char *body, size_t len, const char *ctype,
		       const char *platform, struct reg_manifest *m)
{
	yajl_val doc;
	const char *mt;
	int ret;

	memset(m, 0, sizeof(*m));
	if (ctype && strncmp(ctype, MT_DOCKER_V1, strlen(MT_DOCKER_V1)) == 0)
		return dm_error("the registry serves a schema 1 manifest (a "
				"pre-2016 format): push the image again with a "
				"current engine");
	doc = json_parse(body, len, "manifest");
	if (!doc)
		return -1;
	if (!YAJL_IS_OBJECT(doc)) {
		yajl_tree_free(doc);
		return dm_error("manifest: not a JSON object");
	}
	/* the body's mediaType, else the header, else its shape (OCI
	 * documents may leave mediaType out) */
	mt = json_str(doc, "mediaType", NULL);
	if (!mt && ctype && (strstr(ctype, "manifest") || strstr(ctype, "index")))
		mt = ctype;
	if (!mt)
		mt = json_get(doc, "manifests", NULL) ? MT_OCI_INDEX
						       : MT_OCI_MANIFEST;
	if (json_int(doc, 0, "schemaVersion", NULL) != 2)
		ret = dm_error("manifest: schemaVersion is not 2");
	else if (strcmp(mt, MT_DOCKER_LIST) == 0 || strcmp(mt, MT_OCI_INDEX) == 0)
		ret = parse_index(doc, platform ? platform : "linux/amd64", m);
	else if (strcmp(mt, MT_DOCKER_MANIFEST) == 0 ||
		 strcmp(mt, MT_OCI_MANIFEST) == 0)
		ret = parse_image(doc, m);
	else
		ret = dm_error("manifest of unknown type \"%.80s\"", mt);
	yajl_tree_free(doc);
	if (ret < 0)
		reg_manifest_release(m);
	return ret;
}

int reg_config_diff_ids(const char *body, size_t len, struct strlist *ids)
{
	yajl_val doc = json_parse(body, len, "image config");
	yajl_val d = json_get(doc, "rootfs", "diff_ids", NULL);
	int ret = 0;

	if (!doc)
		return -1;
	if (!d || !YAJL_IS_ARRAY(d))
		ret = dm_error("image config without rootfs.diff_ids");
	for (size_t i = 0; ret == 0 && i < json_alen(d); i++) {
		yajl_val v = d->u.array.values[i];

		if (!YAJL_IS_STRING(v) || !reg_digest_ok(v->u.string))
			ret = dm_error("image config: malformed diff id");
		else
			strlist_add(ids, v->u.string);
	}
	yajl_tree_free(doc);
	return ret;
}

/* ------------------------------------------------------------------ */

void reg_challenge_release(struct reg_challenge *c)
{
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

/* One parameter value: a token, or a quoted string with \ escapes. */
static char *param_value(const char **pp)
{
	const char *p = *pp;
	struct strbuf sb = STRBUF_INIT;

	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			sb_add(&sb, p, 1);
		}
		if (*p != '"') {
			sb_release(&sb);
			return NULL;
		}
		p++;
	} else {
		while (*p && *p != ',' && *p != ' ' && *p != '\t')
			sb_add(&sb, p++, 1);
	}
	*pp = p;
	sb_adds(&sb, "");
	return sb_detach(&sb);
}

int reg_challenge_parse(const char *h, struct reg_challenge *c)
{
	const char *p = h;
	size_t n;

	memset(c, 0, sizeof(*c));
	while (*p == ' ' || *p == '\t')
		p++;
	for (n = 0; p[n] && p[n] != ' ' && p[n] != '\t'; n++)
		;
	if (n == 0)
		return dm_error("empty WWW-Authenticate challenge");
	c->scheme = xstrndup(p, n);
	p += n;
	while (*p) {
		const char *k;
		char *v, **slot;
		size_t kl;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		k = p;
		while (*p && *p != '=' && *p != ',' && *p != ' ')
			p++;
		kl = (size_t)(p - k);
		if (*p != '=') {
			reg_challenge_release(c);
			return dm_error("malformed WWW-Authenticate challenge");
		}
		p++;
		v = param_value(&p);
		if (!v) {
			reg_challenge_release(c);
			return dm_error("malformed WWW-Authenticate challenge");
		}
		slot = kl == 5 && strncasecmp(k, "realm", 5) == 0 ? &c->realm
		     : kl == 7 && strncasecmp(k, "service", 7) == 0 ? &c->service
		     : kl == 5 && strncasecmp(k, "scope", 5) == 0 ? &c->scope
		     : NULL;
		if (slot) {
			free(*slot);
			*slot = v;
		} else {
			free(v);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static int host_ok(const char *h, size_t n)
{
	if (n == 0)
		return 0;
	if (h[0] == '[')	/* [IPv6] */
		return n > 2 && h[n - 1] == ']' &&
		       strspn(h + 1, "0123456789abcdefABCDEF:.") == n - 2;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '.' && h[i] != '-')
			return 0;
	return h[0] != '-' && h[0] != '.';
}

int reg_spec_parse(const char *spec, char **scheme, char **host)
{
	const char *p = spec, *colon;
	size_t hl;

	*scheme = *host = NULL;
	if (dm_starts_with(p, "http://"))
		p += 7;
	else if (dm_starts_with(p, "https://"))
		p += 8;
	colon = p[0] == '[' ? strstr(p, "]:") : strchr(p, ':');
	if (colon && p[0] == '[')
		colon++;
	hl = colon ? (size_t)(colon - p) : strlen(p);
	if (!host_ok(p, hl))
		return dm_error("--registry \"%s\": expected [http[s]://]HOST"
				"[:PORT]", spec);
	if (colon) {
		char *end;
		long port = strtol(colon + 1, &end, 10);

		if (!isdigit((unsigned char)colon[1]) || *end || port < 1 ||
		    port > 65535)
			return dm_error("--registry \"%s\": bad port", spec);
	}
	*scheme = xstrndup(spec, (size_t)(p - spec) ? (size_t)(p - spec) - 3 : 0);
	*host = xstrdup(p);
	return 0;
}
