/*
 * test_engine.c - the engine client's pure parts: errors reported inside
 * a 200 progress stream (load, push, pull), and URL escaping of names.
 */
#include "unit.h"

#include "engine.h"

static int stream_error(const char *s)
{
	dm_clear_error();
	return engine_stream_error(s, strlen(s), "/images/load");
}

static void stream_without_error_is_ok(void **state)
{
	(void)state;
	assert_int_equal(stream_error(
		"{\"stream\":\"Loaded image: x\\n\"}\n"), 0);
	assert_int_equal(stream_error(
		"{\"status\":\"Loading layer\",\"progressDetail\":"
		"{\"current\":512,\"total\":1024},\"id\":\"abc\"}\r\n"
		"{\"stream\":\"Loaded image: web:v2\\n\"}\n"), 0);
	assert_int_equal(stream_error(""), 0);
	assert_int_equal(stream_error("\n\n"), 0);
}

static void stream_text_mentioning_error_is_not_an_error(void **state)
{
	(void)state;
	assert_int_equal(stream_error(
		"{\"stream\":\"no \\\"error\\\" here\\n\"}\n"
		"{\"status\":\"\\\"errors\\\": 0\"}\n"), 0);
}

static void containerd_unpack_error_is_an_error(void **state)
{
	(void)state;
	assert_int_equal(stream_error(
		"{\"stream\":\"Loaded image: app:1\\n\"}\n"
		"{\"stream\":\"Error unpacking image app:1: content digest "
		"sha256:36ce: not found\\n\"}\n"), -1);
	assert_string_equal(dm_errmsg(), "/images/load: Error unpacking image "
			    "app:1: content digest sha256:36ce: not found");
	assert_int_equal(stream_error(
		"{\"stream\":\"No Error here\\n\"}\n"), 0);
}

static void error_line_fails_with_its_message(void **state)
{
	(void)state;
	assert_int_equal(stream_error(
		"{\"stream\":\"Loaded image: x\\n\"}\n"
		"{\"errorDetail\":{\"message\":\"boom\"},\"error\":\"boom\"}\n"),
		-1);
	assert_contains(dm_errmsg(), "boom");
	assert_contains(dm_errmsg(), "/images/load");
}

static void error_detail_is_preferred_to_error(void **state)
{
	(void)state;
	assert_int_equal(stream_error(
		"{\"error\":\"short\",\"errorDetail\":{\"message\":"
		"\"the detailed reason\"}}"), -1);
	assert_contains(dm_errmsg(), "the detailed reason");
}

static void bare_error_field_fails_too(void **state)
{
	(void)state;
	assert_int_equal(stream_error("{\"error\":\"no space left on device\"}"),
			 -1);
	assert_contains(dm_errmsg(), "no space left on device");
}

static void error_on_the_last_line_without_newline_counts(void **state)
{
	(void)state;
	assert_int_equal(stream_error(
		"{\"status\":\"Pushing\"}\n{\"status\":\"Pushing\"}\n"
		"{\"errorDetail\":{\"message\":\"denied\"},\"error\":\"denied\"}"),
		-1);
	assert_contains(dm_errmsg(), "denied");
}

static void first_error_decides(void **state)
{
	(void)state;
	assert_int_equal(stream_error(
		"{\"error\":\"first\"}\n{\"error\":\"second\"}\n"), -1);
	assert_contains(dm_errmsg(), "first");
	assert_not_contains(dm_errmsg(), "second");
}

static void only_len_bytes_are_read(void **state)
{
	static const char s[] = "{\"stream\":\"ok\"}\n{\"error\":\"beyond\"}\n";

	(void)state;
	/* the reply buffer may hold more than the reply */
	assert_int_equal(engine_stream_error(s, strlen("{\"stream\":\"ok\"}\n"),
					     "load"), 0);
}

static void stream_error_without_context_is_the_message_alone(void **state)
{
	static const char s[] = "{\"status\":\"Retrying in 5 seconds\"}\n"
		"{\"errorDetail\":{\"message\":\"received unexpected HTTP "
		"status: 500\"},\"error\":\"x\"}\n";

	(void)state;
	dm_clear_error();
	assert_int_equal(engine_stream_error(s, strlen(s), NULL), -1);
	assert_string_equal(dm_errmsg(),
			    "received unexpected HTTP status: 500");
}

static void escaped(const char *in, const char *want)
{
	char *got = engine_escape(in);

	if (strcmp(got, want) != 0)
		fail_msg("engine_escape(\"%s\") = \"%s\", want \"%s\"", in, got,
			 want);
	free(got);
}

static void escape_keeps_unreserved_characters(void **state)
{
	(void)state;
	escaped("web", "web");
	escaped("my-ctr_1.x~y", "my-ctr_1.x~y");
	escaped("", "");
}

static void escape_encodes_separators(void **state)
{
	(void)state;
	escaped("a b/c?d&e=f#g", "a%20b%2Fc%3Fd%26e%3Df%23g");
	escaped("sha256:abc", "sha256%3Aabc");
	escaped("registry.example:5000/web:v2",
		"registry.example%3A5000%2Fweb%3Av2");
	escaped("100%", "100%25");
	escaped("{\"label\":[\"a=b\"]}", "%7B%22label%22%3A%5B%22a%3Db%22%5D%7D");
}

static void escape_encodes_utf8_bytewise(void **state)
{
	(void)state;
	escaped("é", "%C3%A9");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stream_without_error_is_ok),
		cmocka_unit_test(stream_text_mentioning_error_is_not_an_error),
		cmocka_unit_test(containerd_unpack_error_is_an_error),
		cmocka_unit_test(error_line_fails_with_its_message),
		cmocka_unit_test(error_detail_is_preferred_to_error),
		cmocka_unit_test(bare_error_field_fails_too),
		cmocka_unit_test(error_on_the_last_line_without_newline_counts),
		cmocka_unit_test(first_error_decides),
		cmocka_unit_test(only_len_bytes_are_read),
		cmocka_unit_test(stream_error_without_context_is_the_message_alone),
		cmocka_unit_test(escape_keeps_unreserved_characters),
		cmocka_unit_test(escape_encodes_separators),
		cmocka_unit_test(escape_encodes_utf8_bytewise),
	};

	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
