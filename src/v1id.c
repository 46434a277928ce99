/*
 * v1id.c - the v1 ids that name the layer directories of "docker save"
 * (see v1id.h).  The JSON is read as raw text, not parsed into values:
 * the id is a hash of the text, so each value must be kept byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "dm.h"
#include "v1id.h"

#define MAX_MEMBERS 32

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at the opening quote: the character after the closing one, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* The end of the value starting at p (objects and arrays nested), or NULL. */
static const char *skip_value(const char *p, const char *end)
{
	int depth = 0;

	while (p < end) {
		char c = *p;

		if (c == '"') {
			p = skip_string(p, end);
			if (!p)
				return NULL;
			if (!depth)
				return p;
			continue;
		}
		if (c == '{' || c == '[') {
			if (++depth > 64)
				return NULL;
		} else if (c == '}' || c == ']') {
			if (!depth)
				return p;	/* ends a scalar at top level */
			if (--depth == 0)
				return p + 1;
		} else if (!depth && (c == ',' || c == ' ' || c == '\n' ||
				      c == '\t' || c == '\r')) {
			return p;
		}
		p++;
	}
	return depth ? NULL : p;
}

int json_raw_members(const char *doc, size_t len, struct json_raw_member *m,
		     size_t max)
{
	const char *p = doc, *end = doc + len;
	size_t n = 0;

	p = skip_ws(p, end);
	if (p == end || *p++ != '{')
		return -1;
	p = skip_ws(p, end);
	if (p < end && *p == '}')
		return 0;
	while (p < end) {
		const char *k = p, *v;

		if (*p != '"' || n == max || !(p = skip_string(p, end)))
			return -1;
		m[n].key = k + 1;
		m[n].klen = (size_t)(p - k - 2);
		p = skip_ws(p, end);
		if (p == end || *p++ != ':')
			return -1;
		v = skip_ws(p, end);
		p = skip_value(v, end);
		if (!p || p == v)
			return -1;
		m[n].val = v;
		m[n].vlen = (size_t)(p - v);
		n++;
		p = skip_ws(p, end);
		if (p < end && *p == '}')
			return (int)n;
		if (p == end || *p++ != ',')
			return -1;
		p = skip_ws(p, end);
	}
	return -1;
}

static int key_is(const struct json_raw_member *m, const char *key)
{
	return m->klen == strlen(key) && memcmp(m->key, key, m->klen) == 0;
}

static int key_cmp(const struct json_raw_member *a,
		   const struct json_raw_member *b)
{
	size_t n = a->klen < b->klen ? a->klen : b->klen;
	int c = memcmp(a->key, b->key, n);

	return c ? c : (a->klen > b->klen) - (a->klen < b->klen);
}

/* Go's encoding of a map: keys sorted bytewise, values as they are. */
static void sorted_object(struct json_raw_member *m, size_t n, struct strbuf *out)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && key_cmp(&m[j - 1], &m[j]) > 0; j--) {
			struct json_raw_member t = m[j];

			m[j] = m[j - 1];
			m[j - 1] = t;
		}
	sb_adds(out, "{");
	for (size_t i = 0; i < n; i++) {
		sb_addf(out, "%s\"%.*s\":", i ? "," : "", (int)m[i].klen, m[i].key);
		sb_add(out, m[i].val, m[i].vlen);
	}
	sb_adds(out, "}");
}

int v1_ids_from_json(const char *json, size_t len, char *const *chain_ids,
		     size_t n, char (*out)[65])
{
	struct json_raw_member all[MAX_MEMBERS], keep[MAX_MEMBERS + 2];
	size_t nk = 0;
	int na = json_raw_members(json, len, all, MAX_MEMBERS);

	if (na < 0)
		return -1;
	for (int i = 0; i < na; i++) {
		if (memchr(all[i].key, '\\', all[i].klen))
			return -1;	/* escaped keys would not sort as Go's */
		/* save sets these after computing the id */
		if (key_is(&all[i], "id") || key_is(&all[i], "parent") ||
		    key_is(&all[i], "os") || key_is(&all[i], "layer_id"))
			continue;
		keep[nk++] = all[i];
	}
	for (size_t i = 0; i < n; i++) {
		struct json_raw_member m[MAX_MEMBERS + 2];
		struct strbuf doc = STRBUF_INIT;
		char *layer = xasprintf("\"%s\"", chain_ids[i]);
		char *parent = i ? xasprintf("\"sha256:%s\"", out[i - 1]) : NULL;
		size_t k = nk;

		memcpy(m, keep, nk * sizeof(*m));
		m[k++] = (struct json_raw_member){ "layer_id", 8, layer,
						   strlen(layer) };
		if (parent)
			m[k++] = (struct json_raw_member){ "parent", 6, parent,
							   strlen(parent) };
		sorted_object(m, k, &doc);
		sha256_hex(doc.buf, doc.len, out[i]);
		sb_release(&doc);
		free(layer);
		free(parent);
	}
	return 0;
}
