/*
 * json.h - small, type-checked accessors over yajl trees, and output of
 * yajl trees through yajl_gen (so re-created configurations keep every
 * field of the source, quoted correctly).
 */
#ifndef DM_JSON_H
#define DM_JSON_H

#include <stddef.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* Parse a whole document; NULL with dm_error() set on bad input. */
yajl_val json_parse(const char *text, size_t len, const char *what);

/* The same without an error message: for lines that may not be JSON. */
yajl_val json_parse_quiet(const char *text, size_t len);

/* Walk object keys; the list ends with NULL.  NULL when any step fails. */
yajl_val json_get(yajl_val v, ...) __attribute__((sentinel));
/* The string at that path, or NULL when absent or not a string. */
const char *json_str(yajl_val v, ...) __attribute__((sentinel));
/* Integer at path, or def. */
long long json_int(yajl_val v, long long def, ...) __attribute__((sentinel));
/* True only for JSON true at the path. */
int json_true(yajl_val v, ...) __attribute__((sentinel));

size_t json_alen(yajl_val v);	/* an array's length, 0 for anything else */
size_t json_olen(yajl_val v);	/* an object's size, 0 for anything else */
/* Deeper nesting than this is refused (see json_parse). */
#define JSON_MAX_DEPTH 100
/* Does text nest at most max levels (strings skipped)? */
int json_depth_ok(const char *text, size_t len, int max);
int json_is_empty(yajl_val v);	/* null, absent, "", [], {}, 0, false */

/* Write a yajl tree value into a generator. */
void json_gen_value(yajl_gen g, yajl_val v);
void json_gen_str(yajl_gen g, const char *s);
/* The generator's buffer as a new string. */
char *json_gen_take(yajl_gen g);
/* v as compact JSON text (malloc'd). */
char *json_text(yajl_val v);

#endif
