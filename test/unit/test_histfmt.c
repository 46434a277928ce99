/*
 * test_histfmt.c - history's --format and --filter: templates, the
 * table's alignment, JSON of a field, and what is refused.
 */
#include "unit.h"

#include "histfmt.h"

static struct migration rec(const char *id, const char *status,
			    const char *object, const char *source)
{
	struct migration m;

	memset(&m, 0, sizeof(m));
	snprintf(m.id, sizeof(m.id), "%s", id);
	snprintf(m.status, sizeof(m.status), "%s", status);
	m.kind = (char *)"container";
	m.object = (char *)object;
	m.source = (char *)source;
	m.dest = (char *)"node2";
	m.strategy = (char *)"delta";
	m.downtime_ms = -1;
	return m;
}

/* What f prints for the records, in that order, into a string. */
static char *print(const char *spec, struct migration *m, size_t n)
{
	struct histfmt f;
	size_t order[8];
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	assert_int_equal(histfmt_parse(spec, &f), 0);
	histfmt_print(&f, m, order, n, out);
	fclose(out);
	histfmt_release(&f);
	return buf;
}

static void test_template_fields_and_escapes(void **state)
{
	struct migration m[2] = { rec("aaaa", "completed", "web", "unix:///a"),
				  rec("bbbb", "failed", "db", "ssh://h") };
	char *s;

	(void)state;
	s = print("{{.ID}}\\t{{ .Status }} {{.Object}}@{{.Source}}", m, 2);
	assert_string_equal(s, "aaaa\tcompleted web@unix:///a\n"
			       "bbbb\tfailed db@ssh://h\n");
	free(s);
	s = print("{{json .Object}}", m, 1);
	assert_string_equal(s, "\"web\"\n");
	free(s);
}

static void test_table_aligns_and_heads(void **state)
{
	struct migration m[2] = { rec("aaaa", "completed", "web", "x"),
				  rec("bbbb", "rolled-back", "a-longer-name",
				      "x") };
	char *s;

	(void)state;
	s = print("table {{.Object}}\\t{{.Status}}", m, 2);
	assert_string_equal(s, "OBJECT          STATUS\n"
			       "web             completed\n"
			       "a-longer-name   rolled-back\n");
	free(s);
}

static void test_json_of_the_record(void **state)
{
	struct migration m[1] = { rec("aaaa", "completed", "web", "x") };
	char *s;

	(void)state;
	s = print("{{json .}}", m, 1);
	assert_non_null(strstr(s, "\"id\":\"aaaa\""));
	assert_non_null(strstr(s, "\"object\":\"web\""));
	assert_ptr_equal(strchr(s, '\n'), s + strlen(s) - 1);	/* one line */
	free(s);
}

static void test_refused(void **state)
{
	struct histfmt f;

	(void)state;
	assert_int_equal(histfmt_parse("{{.Nope}}", &f), -1);
	assert_non_null(strstr(dm_errmsg(), "the fields: .ID, "));
	assert_int_equal(histfmt_parse("yaml", &f), -1);
	assert_int_equal(histfmt_parse("{{.ID", &f), -1);
	assert_int_equal(histfmt_parse("{{printf .ID}}", &f), -1);
	assert_int_equal(histfmt_parse("json", &f), 0);
	assert_int_equal(f.kind, HISTFMT_JSON);
	assert_int_equal(histfmt_parse(NULL, &f), 0);
	assert_int_equal(f.kind, HISTFMT_TABLE);
	histfmt_release(&f);
}

static void test_filters(void **state)
{
	struct migration a = rec("abcd", "failed", "web", "ssh://edge1");
	const char *st_ok[] = { "status=completed", "status=failed" };
	const char *and_no[] = { "status=failed", "source=edge2" };
	const char *and_ok[] = { "status=failed", "source=edge1", "id=ab" };

	(void)state;
	assert_int_equal(histfmt_filter_check("status=x"), 0);
	assert_int_equal(histfmt_filter_check("colour=red"), -1);
	assert_int_equal(histfmt_filter_check("status"), -1);
	assert_true(histfmt_filter_match(&a, st_ok, 2));
	assert_false(histfmt_filter_match(&a, and_no, 2));
	assert_true(histfmt_filter_match(&a, and_ok, 3));
	assert_true(histfmt_filter_match(&a, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_fields_and_escapes),
		cmocka_unit_test(test_table_aligns_and_heads),
		cmocka_unit_test(test_json_of_the_record),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_filters),
	};

	return cmocka_run_group_tests_name("histfmt", tests, NULL, NULL);
}
