/*
 * test_json.c - the yajl helpers: parse errors that say what was read,
 * typed path lookups, and output that keeps every value exactly.
 */
#include "unit.h"

#include "json.h"

static yajl_val parse(const char *text)
{
	yajl_val v = json_parse(text, strlen(text), "test document");

	if (!v)
		fail_msg("%s", dm_errmsg());
	return v;
}

/* Parse then generate: compact input must come out byte for byte. */
static void round_trips(const char *text)
{
	yajl_val v = parse(text);
	char *out = json_text(v);

	if (strcmp(out, text) != 0)
		fail_msg("in  %s\nout %s", text, out);
	free(out);
	yajl_tree_free(v);
}

static const char doc[] =
	"{\"Config\":{\"Image\":\"nginx\",\"Tty\":true,\"OpenStdin\":false,"
	"\"StopTimeout\":20,\"Env\":[\"A=1\"],\"Labels\":{},\"Cpu\":1.5,"
	"\"Volumes\":null},\"Name\":\"/web\"}";

static void parse_error_says_what_was_read(void **state)
{
	(void)state;
	dm_clear_error();
	assert_null(json_parse("{\"a\":", 5, "/containers/web/json"));
	assert_contains(dm_errmsg(), "/containers/web/json");
	assert_contains(dm_errmsg(), "malformed JSON");
	/* one line: yajl's message spans several */
	assert_null(strchr(dm_errmsg(), '\n'));
}

static void parse_rejects_trailing_garbage_and_empty_input(void **state)
{
	(void)state;
	assert_null(json_parse("{} x", 4, "a"));
	assert_null(json_parse("", 0, "b"));
	assert_contains(dm_errmsg(), "b: malformed JSON");
}

static void parse_reads_only_len_bytes(void **state)
{
	static const char text[] = "{\"a\":1}{\"b\":2}";
	yajl_val v;

	(void)state;
	v = json_parse(text, 7, "prefix");
	assert_non_null(v);
	assert_int_equal(json_int(v, -1, "a", NULL), 1);
	yajl_tree_free(v);
}

static void get_walks_nested_objects(void **state)
{
	yajl_val v = parse(doc);

	(void)state;
	assert_true(YAJL_IS_OBJECT(json_get(v, "Config", NULL)));
	assert_true(YAJL_IS_ARRAY(json_get(v, "Config", "Env", NULL)));
	assert_ptr_equal(json_get(v, NULL), v);
	assert_null(json_get(v, "Config", "Nope", NULL));
	assert_null(json_get(v, "Nope", "Image", NULL));
	/* a step through something that is not an object */
	assert_null(json_get(v, "Name", "x", NULL));
	assert_null(json_get(v, "Config", "Env", "0", NULL));
	assert_null(json_get(NULL, "Config", NULL));
	yajl_tree_free(v);
}

static void str_only_returns_strings(void **state)
{
	yajl_val v = parse(doc);

	(void)state;
	assert_string_equal(json_str(v, "Config", "Image", NULL), "nginx");
	assert_string_equal(json_str(v, "Name", NULL), "/web");
	assert_null(json_str(v, "Config", "StopTimeout", NULL));
	assert_null(json_str(v, "Config", "Tty", NULL));
	assert_null(json_str(v, "Config", "Volumes", NULL));
	assert_null(json_str(v, "Config", NULL));
	assert_null(json_str(v, "Config", "Missing", NULL));
	yajl_tree_free(v);
}

static void int_returns_default_unless_integer(void **state)
{
	yajl_val v = parse("{\"n\":20,\"neg\":-3,\"big\":123456789012345678,"
			   "\"f\":1.5,\"s\":\"20\",\"t\":true,\"z\":null}");

	(void)state;
	assert_int_equal(json_int(v, -1, "n", NULL), 20);
	assert_int_equal(json_int(v, 0, "neg", NULL), -3);
	assert_true(json_int(v, 0, "big", NULL) == 123456789012345678LL);
	assert_int_equal(json_int(v, -1, "f", NULL), -1);
	assert_int_equal(json_int(v, -1, "s", NULL), -1);
	assert_int_equal(json_int(v, -1, "t", NULL), -1);
	assert_int_equal(json_int(v, -1, "z", NULL), -1);
	assert_int_equal(json_int(v, 7, "missing", NULL), 7);
	yajl_tree_free(v);
}

static void true_is_only_json_true(void **state)
{
	yajl_val v = parse("{\"t\":true,\"f\":false,\"s\":\"true\",\"one\":1,"
			   "\"o\":{\"t\":true}}");

	(void)state;
	assert_true(json_true(v, "t", NULL));
	assert_true(json_true(v, "o", "t", NULL));
	assert_false(json_true(v, "f", NULL));
	assert_false(json_true(v, "s", NULL));
	assert_false(json_true(v, "one", NULL));
	assert_false(json_true(v, "missing", NULL));
	assert_false(json_true(v, "o", NULL));
	yajl_tree_free(v);
}

static void len_and_emptiness(void **state)
{
	yajl_val v = parse("{\"a\":[1,2,3],\"o\":{\"x\":1},\"e\":[],\"eo\":{},"
			   "\"s\":\"\",\"s1\":\"x\",\"z\":0,\"n\":null,"
			   "\"f\":false,\"t\":true,\"i\":5}");

	(void)state;
	assert_int_equal(json_alen(json_get(v, "a", NULL)), 3);
	assert_int_equal(json_olen(json_get(v, "a", NULL)), 0);
	assert_int_equal(json_olen(json_get(v, "o", NULL)), 1);
	assert_int_equal(json_alen(json_get(v, "o", NULL)), 0);
	assert_int_equal(json_alen(json_get(v, "s1", NULL)), 0);
	assert_int_equal(json_alen(NULL), 0);
	assert_true(json_is_empty(NULL));
	assert_true(json_is_empty(json_get(v, "e", NULL)));
	assert_true(json_is_empty(json_get(v, "eo", NULL)));
	assert_true(json_is_empty(json_get(v, "s", NULL)));
	assert_true(json_is_empty(json_get(v, "z", NULL)));
	assert_true(json_is_empty(json_get(v, "n", NULL)));
	assert_true(json_is_empty(json_get(v, "f", NULL)));
	assert_false(json_is_empty(json_get(v, "a", NULL)));
	assert_false(json_is_empty(json_get(v, "s1", NULL)));
	assert_false(json_is_empty(json_get(v, "t", NULL)));
	assert_false(json_is_empty(json_get(v, "i", NULL)));
	yajl_tree_free(v);
}

static void gen_keeps_numbers_exactly(void **state)
{
	(void)state;
	round_trips("[1e9,123456789012345678,-0.5,1E-7,0,-12]");
	round_trips("{\"big\":18446744073709551616,"
		    "\"precise\":1.0000000000000000001}");
	round_trips("[9223372036854775807,-9223372036854775808]");
}

static void gen_keeps_structure_and_order(void **state)
{
	(void)state;
	round_trips(doc);
	round_trips("{\"z\":1,\"a\":2,\"m\":[true,false,null,[],{}]}");
	round_trips("[]");
}

static void gen_quotes_strings(void **state)
{
	yajl_val v = parse("[\"say \\\"hi\\\"\\n\\ttab \\\\ back\","
			   "\"\\u00e9\\u0001\",\"</script>\"]"), back;
	char *out = json_text(v);

	(void)state;
	back = parse(out);
	assert_int_equal(json_alen(back), 3);
	assert_string_equal(back->u.array.values[0]->u.string,
			    "say \"hi\"\n\ttab \\ back");
	assert_string_equal(back->u.array.values[1]->u.string, "é\x01");
	assert_string_equal(back->u.array.values[2]->u.string, "</script>");
	yajl_tree_free(back);
	yajl_tree_free(v);
	free(out);
}

static void gen_of_absent_value_is_null(void **state)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	char *s;

	(void)state;
	yajl_gen_array_open(g);
	json_gen_value(g, NULL);
	json_gen_str(g, "x");
	yajl_gen_array_close(g);
	s = json_gen_take(g);
	assert_string_equal(s, "[null,\"x\"]");
	free(s);
	yajl_gen_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_error_says_what_was_read),
		cmocka_unit_test(parse_rejects_trailing_garbage_and_empty_input),
		cmocka_unit_test(parse_reads_only_len_bytes),
		cmocka_unit_test(get_walks_nested_objects),
		cmocka_unit_test(str_only_returns_strings),
		cmocka_unit_test(int_returns_default_unless_integer),
		cmocka_unit_test(true_is_only_json_true),
		cmocka_unit_test(len_and_emptiness),
		cmocka_unit_test(gen_keeps_numbers_exactly),
		cmocka_unit_test(gen_keeps_structure_and_order),
		cmocka_unit_test(gen_quotes_strings),
		cmocka_unit_test(gen_of_absent_value_is_null),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
