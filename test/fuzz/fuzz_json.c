/*
 * fuzz_json.c - the yajl helpers every engine reply goes through: parse
 * (json_parse), look up (json_get / json_str / json_int / json_true,
 * json_alen, json_olen, json_is_empty) along the paths the code uses and along the
 * document's own first keys, and write back with json_gen_value, which
 * re-created configurations depend on.  Invariant: what json_gen_value
 * writes parses again and writes back the same bytes (a fixed point), so
 * a body built from an engine's reply is always valid JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"

/* Look up what the code looks up, and the document's own first keys. */
static void walk(yajl_val v)
{
	static const char *const keys[] = { "Id", "Config", "HostConfig",
		"Mounts", "message", "error", "Version", "Name" };
	yajl_val cur = v;

	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		(void)json_str(v, keys[i], NULL);
		(void)json_int(v, -1, keys[i], NULL);
		(void)json_true(v, keys[i], NULL);
		(void)json_is_empty(json_get(v, keys[i], NULL));
	}
	(void)json_str(v, "errorDetail", "message", NULL);
	(void)json_str(v, "Endpoints", "docker", "Host", NULL);
	for (int depth = 0; depth < 8 && YAJL_IS_OBJECT(cur) &&
			    json_olen(cur); depth++) {
		const char *k = cur->u.object.keys[0];

		FUZZ_ASSERT(json_get(cur, k, NULL) == cur->u.object.values[0]);
		(void)json_str(cur, k, NULL);
		(void)json_int(cur, 0, k, NULL);
		cur = cur->u.object.values[0];
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	yajl_val v = json_parse((const char *)data, size, "fuzz"), w;
	char *once, *twice;

	if (!v)
		return 0;
	walk(v);
	once = json_text(v);
	w = json_parse(once, strlen(once), "json_gen_value output");
	FUZZ_ASSERT(w != NULL);
	twice = json_text(w);
	FUZZ_ASSERT(strcmp(once, twice) == 0);
	free(once);
	free(twice);
	yajl_tree_free(w);
	yajl_tree_free(v);
	return 0;
}
