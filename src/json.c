/*
 * json.c - yajl helpers: parsing with a message that says what was being
 * read, path lookups with type checks, and tree-to-generator output.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "json.h"

yajl_val json_parse(const char *text, size_t len, const char *what)
{
	char err[256];
	char *copy;
	yajl_val v;

	/* deep nesting: yajl frees trees recursively and its generator stops
	 * at 128 levels; no engine reply nests like that */
	if (!json_depth_ok(text, len, JSON_MAX_DEPTH)) {
		dm_error("%s: JSON nested more than %d levels deep", what,
			 JSON_MAX_DEPTH);
		return NULL;
	}
	/* yajl_tree_parse wants a NUL-terminated string. */
	copy = xstrndup(text ? text : "", len);
	err[0] = '\0';
	v = yajl_tree_parse(copy, err, sizeof(err));
	free(copy);
	if (!v) {
		char *nl = strchr(err, '\n');

		if (nl)
			*nl = '\0';
		dm_error("%s: malformed JSON (%s)", what,
			 err[0] ? err : "parse error");
	}
	return v;
}

yajl_val json_parse_quiet(const char *text, size_t len)
{
	yajl_val v = json_parse(text, len, "");

	dm_clear_error();
	return v;
}

static yajl_val walk(yajl_val v, va_list ap)
{
	const char *key;

	while ((key = va_arg(ap, const char *)) != NULL) {
		size_t i, n;

		if (!YAJL_IS_OBJECT(v))
			return NULL;
		n = v->u.object.len;
		for (i = 0; i < n; i++)
			if (strcmp(v->u.object.keys[i], key) == 0)
				break;
		if (i == n)
			return NULL;
		v = v->u.object.values[i];
	}
	return v;
}

yajl_val json_get(yajl_val v, ...)
{
	va_list ap;

	va_start(ap, v);
	v = walk(v, ap);
	va_end(ap);
	return v;
}

const char *json_str(yajl_val v, ...)
{
	va_list ap;

	va_start(ap, v);
	v = walk(v, ap);
	va_end(ap);
	return YAJL_IS_STRING(v) ? v->u.string : NULL;
}

long long json_int(yajl_val v, long long def, ...)
{
	va_list ap;

	va_start(ap, def);
	v = walk(v, ap);
	va_end(ap);
	return YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : def;
}

int json_true(yajl_val v, ...)
{
	va_list ap;

	va_start(ap, v);
	v = walk(v, ap);
	va_end(ap);
	return YAJL_IS_TRUE(v);
}

size_t json_alen(yajl_val v)
{
	return YAJL_IS_ARRAY(v) ? v->u.array.len : 0;
}

size_t json_olen(yajl_val v)
{
	return YAJL_IS_OBJECT(v) ? v->u.object.len : 0;
}

int json_depth_ok(const char *text, size_t len, int max)
{
	int depth = 0, in_str = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				return 0;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return 1;
}

int json_is_empty(yajl_val v)
{
	if (!v || YAJL_IS_NULL(v) || YAJL_IS_FALSE(v))
		return 1;
	if (YAJL_IS_STRING(v))
		return v->u.string[0] == '\0';
	if (YAJL_IS_ARRAY(v) || YAJL_IS_OBJECT(v))
		return json_alen(v) + json_olen(v) == 0;
	if (YAJL_IS_INTEGER(v))
		return YAJL_GET_INTEGER(v) == 0;
	return 0;
}

void json_gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

void json_gen_value(yajl_gen g, yajl_val v)
{
	size_t i;

	if (!v || YAJL_IS_NULL(v)) {
		yajl_gen_null(g);
	} else if (YAJL_IS_STRING(v)) {
		json_gen_str(g, v->u.string);
	} else if (YAJL_IS_NUMBER(v)) {
		/* keep the source's spelling: 1e9 stays 1e9, big ints exact */
		yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
	} else if (YAJL_IS_TRUE(v)) {
		yajl_gen_bool(g, 1);
	} else if (YAJL_IS_FALSE(v)) {
		yajl_gen_bool(g, 0);
	} else if (YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (i = 0; i < v->u.array.len; i++)
			json_gen_value(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
	} else if (YAJL_IS_OBJECT(v)) {
		yajl_gen_map_open(g);
		for (i = 0; i < v->u.object.len; i++) {
			json_gen_str(g, v->u.object.keys[i]);
			json_gen_value(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
	}
}

char *json_gen_take(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;

	yajl_gen_get_buf(g, &buf, &len);
	return xstrndup((const char *)buf, len);
}

char *json_text(yajl_val v)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	char *s;

	json_gen_value(g, v);
	s = json_gen_take(g);
	yajl_gen_free(g);
	return s;
}
