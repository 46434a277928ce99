/*
 * test_v1id.c - the v1 ids that name a "docker save" archive's layer
 * directories, predicted from chain ids (v1id.h).  The fixture and the
 * names are from a real "docker save" of dockerd 20.10.24: an image of
 * three layers over busybox, whose lower two directories were
 * 60c8e44e... and 52b2e72b..., and whose second directory's "json"
 * member is fixtures/save_v1_lower_layer.json.
 */
#include "unit.h"

#include "v1id.h"

static char *const chains[] = {
	"sha256:501353bc8f92af40716f04bccbb9027caf28352c45b1b1a7e81180e17dfb62e5",
	"sha256:9749c34cad6a1445619de9c20b78d7d810c9681a4c893e6be927585c8fdc0b23",
};
#define DIR0 "60c8e44ec4d2768ca188b33b53c335073948a33fc8c13f9bf4f4fb37907a9bde"
#define DIR1 "52b2e72b7e8e1f8385976dbedb50e6f34e4db328df2e3f26f182f7c2cbd1bdac"

static void lower_layer_json_names_every_lower_directory(void **state)
{
	char *json = unit_fixture("save_v1_lower_layer.json");
	char ids[2][65];

	(void)state;
	assert_int_equal(v1_ids_from_json(json, strlen(json), chains, 2, ids), 0);
	assert_string_equal(ids[0], DIR0);
	assert_string_equal(ids[1], DIR1);
	free(json);
}

/* The id is a hash of the text: whitespace around members does not
 * count, but any change of a value does. */
static void values_are_hashed_as_written(void **state)
{
	char *json = unit_fixture("save_v1_lower_layer.json");
	char *spaced = xasprintf(" { \"id\" : \"x\" ,\n%s",
				 json + strlen("{\"id\":\"" DIR1 "\","));
	char *other = xstrdup(json);
	char ids[2][65];

	(void)state;
	assert_int_equal(v1_ids_from_json(spaced, strlen(spaced), chains, 2,
					  ids), 0);
	assert_string_equal(ids[1], DIR1);
	strstr(other, "1970")[3] = '1';		/* another date: other ids */
	assert_int_equal(v1_ids_from_json(other, strlen(other), chains, 2,
					  ids), 0);
	assert_string_not_equal(ids[0], DIR0);
	assert_string_not_equal(ids[1], DIR1);
	free(json);
	free(spaced);
	free(other);
}

static void not_an_object_is_refused(void **state)
{
	char ids[1][65];
	static const char *bad[] = {
		"", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":\"x}",
		"{\"a\":{\"b\":1}", "{\"a\":1 \"b\":2}", "{\"a\\\"\":1}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(v1_ids_from_json(bad[i], strlen(bad[i]),
						  chains, 1, ids), -1);
}

static void raw_members_keep_nesting_and_strings(void **state)
{
	const char *doc = "{\"a\":{\"x\":[1,\"}\"]},\"b\":\"q\\\"}\",\"c\":-1.5e3,"
			  "\"d\":null}";
	struct json_raw_member m[8];

	(void)state;
	assert_int_equal(json_raw_members(doc, strlen(doc), m, 8), 4);
	assert_int_equal(m[0].vlen, strlen("{\"x\":[1,\"}\"]}"));
	assert_memory_equal(m[1].val, "\"q\\\"}\"", m[1].vlen);
	assert_memory_equal(m[2].val, "-1.5e3", m[2].vlen);
	assert_memory_equal(m[3].key, "d", m[3].klen);
	assert_int_equal(json_raw_members(doc, strlen(doc), m, 3), -1);
	assert_int_equal(json_raw_members("{}", 2, m, 8), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lower_layer_json_names_every_lower_directory),
		cmocka_unit_test(values_are_hashed_as_written),
		cmocka_unit_test(not_an_object_is_refused),
		cmocka_unit_test(raw_members_keep_nesting_and_strings),
	};

	return cmocka_run_group_tests_name("v1id", tests, NULL, NULL);
}
