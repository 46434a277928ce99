/*
 * test_opt.c - the option parser behaves like pflag, the parser of the
 * Docker CLI, and the help lists every flag of the table.
 */
#include "unit.h"

struct vals {
	int quiet, debug, all;
	const char *name, *to;
	long count;
	struct strlist hosts;
};

static struct vals v;

static const struct opt cmd_opts[] = {
	{ OPT_BOOL, 'q', "quiet", &v.quiet, NULL, "Only print errors",
	  COMPL_NONE, NULL },
	{ OPT_BOOL, 'D', "debug", &v.debug, NULL, "Enable debug mode",
	  COMPL_NONE, NULL },
	{ OPT_BOOL, 0, "all", &v.all, NULL, "Move all of them",
	  COMPL_NONE, NULL },
	{ OPT_STRING, 'n', "name", &v.name, "NAME", "Name at the destination",
	  COMPL_NONE, NULL },
	{ OPT_STRING, 't', "to", &v.to, "HOST", "Destination host",
	  COMPL_HOST, NULL },
	{ OPT_INT, 0, "count", &v.count, NULL, "How many",
	  COMPL_NONE, NULL },
	{ OPT_LIST, 'H', "host", &v.hosts, NULL, "Daemon socket to connect to",
	  COMPL_NONE, NULL },
	OPT_END_MARK,
};

/* The Docker CLI's global flags, in front of the plugin's command. */
static const struct opt global_opts[] = {
	{ OPT_STRING, 'c', "context", &v.name, "string", "Context to use",
	  COMPL_CONTEXT, NULL },
	{ OPT_BOOL, 'D', "debug", &v.debug, NULL, "Enable debug mode",
	  COMPL_NONE, NULL },
	{ OPT_LIST, 'H', "host", &v.hosts, "list", "Daemon socket",
	  COMPL_NONE, NULL },
	OPT_END_MARK,
};

static int setup(void **state)
{
	(void)state;
	strlist_clear(&v.hosts);
	memset(&v, 0, sizeof(v));
	dm_clear_error();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	strlist_clear(&v.hosts);
	return 0;
}

/* Parse a NULL-terminated list of words; args are left in argv. */
#define MAXARGS 16
struct run {
	char *argv[MAXARGS];
	int argc, nargs;
	enum opt_result res;
};

static void parse(struct run *r, const struct opt *opts, int flags, ...)
{
	va_list ap;
	char *a;

	memset(r, 0, sizeof(*r));
	r->nargs = -1;
	va_start(ap, flags);
	while ((a = va_arg(ap, char *)) != NULL) {
		assert_true(r->argc < MAXARGS);
		r->argv[r->argc++] = a;
	}
	va_end(ap);
	r->res = opt_parse(r->argc, r->argv, opts, flags, &r->nargs);
}

static void long_flag_takes_the_next_word_as_value(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "--name", "web2", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_string_equal(v.name, "web2");
	assert_int_equal(r.nargs, 0);
}

static void long_flag_takes_a_value_after_equals(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "--name=web2", "ctr", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_string_equal(v.name, "web2");
	assert_int_equal(r.nargs, 1);
	assert_string_equal(r.argv[0], "ctr");
}

static void long_flag_value_may_contain_equals_and_be_empty(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "--name=a=b", "--to=", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_string_equal(v.name, "a=b");
	assert_non_null(v.to);
	assert_string_equal(v.to, "");
}

static void short_flag_takes_a_glued_value(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "-nweb2", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_string_equal(v.name, "web2");
}

static void short_flag_takes_the_next_word_as_value(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "-n", "web2", "ctr", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_string_equal(v.name, "web2");
	assert_int_equal(r.nargs, 1);
	assert_string_equal(r.argv[0], "ctr");
}

static void short_flag_with_equals_drops_the_equals(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "-n=web2", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_string_equal(v.name, "web2");
}

static void grouped_short_bools_all_set(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "-qD", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_int_equal(v.quiet, 1);
	assert_int_equal(v.debug, 1);
}

static void grouped_short_bools_may_end_with_a_value_flag(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "-qDt", "node2", "ctr", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_int_equal(v.quiet, 1);
	assert_int_equal(v.debug, 1);
	assert_string_equal(v.to, "node2");
	assert_int_equal(r.nargs, 1);
	assert_string_equal(r.argv[0], "ctr");
}

static void bool_flag_accepts_explicit_false_and_true(void **state)
{
	struct run r;

	(void)state;
	v.quiet = 1;
	parse(&r, cmd_opts, 0, "--quiet=false", "--debug=true", "-D=0", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_int_equal(v.quiet, 0);
	assert_int_equal(v.debug, 0);	/* the last one wins */
}

static void bool_flag_does_not_consume_the_next_word(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "--quiet", "false", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_int_equal(v.quiet, 1);
	assert_int_equal(r.nargs, 1);
	assert_string_equal(r.argv[0], "false");
}

static void bool_flag_with_a_bad_value_is_an_error(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "--quiet=maybe", NULL);
	assert_int_equal(r.res, OPT_ERROR);
	assert_contains(dm_errmsg(), "maybe");
	assert_contains(dm_errmsg(), "--quiet");
}

static void parse_bool_knows_pflag_spellings(void **state)
{
	(void)state;
	assert_int_equal(opt_parse_bool("true"), 1);
	assert_int_equal(opt_parse_bool("True"), 1);
	assert_int_equal(opt_parse_bool("TRUE"), 1);
	assert_int_equal(opt_parse_bool("t"), 1);
	assert_int_equal(opt_parse_bool("1"), 1);
	assert_int_equal(opt_parse_bool("false"), 0);
	assert_int_equal(opt_parse_bool("F"), 0);
	assert_int_equal(opt_parse_bool("0"), 0);
	assert_int_equal(opt_parse_bool("yes"), -1);
	assert_int_equal(opt_parse_bool(""), -1);
	assert_int_equal(opt_parse_bool("tRuE"), -1);
}

static void double_dash_ends_the_flags(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "a", "--", "--quiet", "-n", "b", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_int_equal(v.quiet, 0);
	assert_null(v.name);
	assert_int_equal(r.nargs, 4);
	assert_string_equal(r.argv[0], "a");
	assert_string_equal(r.argv[1], "--quiet");
	assert_string_equal(r.argv[2], "-n");
	assert_string_equal(r.argv[3], "b");
}

static void interspersed_arguments_keep_their_order(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "one", "--name", "x", "two", "-q", "three",
	      "--to=n", "-", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_string_equal(v.name, "x");
	assert_string_equal(v.to, "n");
	assert_int_equal(v.quiet, 1);
	assert_int_equal(r.nargs, 4);
	assert_string_equal(r.argv[0], "one");
	assert_string_equal(r.argv[1], "two");
	assert_string_equal(r.argv[2], "three");
	assert_string_equal(r.argv[3], "-");	/* "-" is an argument */
}

static void stop_at_nonopt_leaves_the_command_line_of_the_plugin(void **state)
{
	struct run r;

	(void)state;
	parse(&r, global_opts, OPT_STOP_AT_NONOPT, "--context", "x", "-D",
	      "migrate", "container", "web", "--to", "n", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_string_equal(v.name, "x");
	assert_int_equal(v.debug, 1);
	assert_int_equal(r.nargs, 5);
	assert_string_equal(r.argv[0], "migrate");
	assert_string_equal(r.argv[1], "container");
	assert_string_equal(r.argv[2], "web");
	assert_string_equal(r.argv[3], "--to");
	assert_string_equal(r.argv[4], "n");
}

static void stop_at_nonopt_leaves_help_to_the_subcommand(void **state)
{
	struct run r;

	(void)state;
	parse(&r, global_opts, OPT_STOP_AT_NONOPT, "-D", "migrate", "--help",
	      NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_int_equal(r.nargs, 2);
	assert_string_equal(r.argv[0], "migrate");
	assert_string_equal(r.argv[1], "--help");
}

static void unknown_long_flag_is_named_in_the_error(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "ctr", "--bogus=1", NULL);
	assert_int_equal(r.res, OPT_ERROR);
	assert_contains(dm_errmsg(), "--bogus");
	assert_contains(dm_errmsg(), "unknown flag");
}

static void unknown_short_flag_is_named_in_the_error(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "-qz", NULL);
	assert_int_equal(r.res, OPT_ERROR);
	assert_contains(dm_errmsg(), "'z'");
}

static void long_flag_without_its_value_is_an_error(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "ctr", "--name", NULL);
	assert_int_equal(r.res, OPT_ERROR);
	assert_contains(dm_errmsg(), "needs an argument");
	assert_contains(dm_errmsg(), "--name");
}

static void short_flag_without_its_value_is_an_error(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "-qn", NULL);
	assert_int_equal(r.res, OPT_ERROR);
	assert_contains(dm_errmsg(), "needs an argument");
	assert_contains(dm_errmsg(), "n");
}

static void help_flags_ask_for_help_anywhere_before_double_dash(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "--help", NULL);
	assert_int_equal(r.res, OPT_HELP);
	parse(&r, cmd_opts, 0, "ctr", "-q", "-h", NULL);
	assert_int_equal(r.res, OPT_HELP);
	parse(&r, cmd_opts, 0, "--", "--help", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_int_equal(r.nargs, 1);
	assert_string_equal(r.argv[0], "--help");
}

static void list_flag_collects_every_repetition_in_order(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "-H", "a", "--host", "b", "--host=c", "-Hd",
	      NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_int_equal(v.hosts.n, 4);
	assert_string_equal(v.hosts.v[0], "a");
	assert_string_equal(v.hosts.v[1], "b");
	assert_string_equal(v.hosts.v[2], "c");
	assert_string_equal(v.hosts.v[3], "d");
	assert_null(v.hosts.v[4]);
}

static void int_flag_reads_decimal_numbers(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "--count", "42", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_int_equal(v.count, 42);
	parse(&r, cmd_opts, 0, "--count=-7", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_int_equal(v.count, -7);
}

static void int_flag_rejects_what_is_not_a_number(void **state)
{
	static char *bad[] = { "--count=12x", "--count=", "--count=x",
			       "--count=99999999999999999999999" };
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		parse(&r, cmd_opts, 0, bad[i], NULL);
		assert_int_equal(r.res, OPT_ERROR);
		assert_contains(dm_errmsg(), "--count");
		assert_contains(dm_errmsg(), "not a number");
		assert_contains(dm_errmsg(), strchr(bad[i], '=') + 1);
	}
}

static void opt_find_knows_long_short_and_equals_forms(void **state)
{
	(void)state;
	assert_ptr_equal(opt_find(cmd_opts, "--name"), &cmd_opts[3]);
	assert_ptr_equal(opt_find(cmd_opts, "--name=x"), &cmd_opts[3]);
	assert_ptr_equal(opt_find(cmd_opts, "-n"), &cmd_opts[3]);
	assert_ptr_equal(opt_find(cmd_opts, "--to"), &cmd_opts[4]);
	assert_null(opt_find(cmd_opts, "--nam"));
	assert_null(opt_find(cmd_opts, "name"));
	assert_null(opt_find(cmd_opts, "-x"));
}

static char *usage_text(const struct cmd_help *h, const struct opt *opts,
			const char *commands)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	opt_usage(f, h, opts, commands);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* The line of the help that describes the flag "--name". */
static char *usage_line(const char *text, const char *flag)
{
	const char *p = strstr(text, flag), *start, *end;

	if (!p)
		return NULL;
	for (start = p; start > text && start[-1] != '\n'; start--)
		;
	end = strchr(p, '\n');
	return xstrndup(start, end ? (size_t)(end - start) : strlen(start));
}

static void usage_lists_every_flag_with_its_help(void **state)
{
	static const struct cmd_help h = {
		"migrate container", "[OPTIONS] CONTAINER",
		"Move a container to another host", NULL, NULL,
	};
	char *text = usage_text(&h, cmd_opts, NULL);

	(void)state;
	assert_contains(text, "Usage:  docker migrate container "
			      "[OPTIONS] CONTAINER");
	assert_contains(text, "Move a container to another host");
	assert_contains(text, "Options:");
	for (const struct opt *o = cmd_opts; o->type != OPT_END; o++) {
		char *flag = xasprintf("--%s", o->long_name);
		char *line = usage_line(text, flag);

		assert_non_null(line);
		assert_contains(line, o->help);
		if (o->short_name) {
			char *pair = xasprintf("-%c, --%s", o->short_name,
					       o->long_name);

			assert_contains(line, pair);
			free(pair);
		}
		free(line);
		free(flag);
	}
	assert_contains(text, "-h, --help");
	assert_not_contains(text, "Commands:");
	free(text);
}

static void usage_shows_value_placeholders_but_not_for_bools(void **state)
{
	static const struct cmd_help h = { "migrate image", "IMAGE", "Move",
					   NULL, NULL };
	char *text = usage_text(&h, cmd_opts, NULL);
	char *line;

	(void)state;
	line = usage_line(text, "--name");
	assert_contains(line, "--name NAME");
	free(line);
	line = usage_line(text, "--count");
	assert_contains(line, "--count int");
	free(line);
	line = usage_line(text, "--quiet");
	assert_contains(line, "--quiet ");
	assert_not_contains(line, "string");
	free(line);
	free(text);
}

static void usage_of_a_group_lists_its_commands(void **state)
{
	static const struct cmd_help h = {
		"migrate", "COMMAND", "Move containers between hosts",
		"Details here.", "  docker migrate container web --to n2\n",
	};
	char *text = usage_text(&h, NULL, "  container   Move a container\n");

	(void)state;
	assert_contains(text, "Details here.");
	assert_contains(text, "Commands:\n  container   Move a container\n");
	assert_contains(text, "Examples:\n  docker migrate container web");
	assert_contains(text, "Run 'docker migrate COMMAND --help'");
	free(text);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(long_flag_takes_the_next_word_as_value),
		T(long_flag_takes_a_value_after_equals),
		T(long_flag_value_may_contain_equals_and_be_empty),
		T(short_flag_takes_a_glued_value),
		T(short_flag_takes_the_next_word_as_value),
		T(short_flag_with_equals_drops_the_equals),
		T(grouped_short_bools_all_set),
		T(grouped_short_bools_may_end_with_a_value_flag),
		T(bool_flag_accepts_explicit_false_and_true),
		T(bool_flag_does_not_consume_the_next_word),
		T(bool_flag_with_a_bad_value_is_an_error),
		T(parse_bool_knows_pflag_spellings),
		T(double_dash_ends_the_flags),
		T(interspersed_arguments_keep_their_order),
		T(stop_at_nonopt_leaves_the_command_line_of_the_plugin),
		T(stop_at_nonopt_leaves_help_to_the_subcommand),
		T(unknown_long_flag_is_named_in_the_error),
		T(unknown_short_flag_is_named_in_the_error),
		T(long_flag_without_its_value_is_an_error),
		T(short_flag_without_its_value_is_an_error),
		T(help_flags_ask_for_help_anywhere_before_double_dash),
		T(list_flag_collects_every_repetition_in_order),
		T(int_flag_reads_decimal_numbers),
		T(int_flag_rejects_what_is_not_a_number),
		T(opt_find_knows_long_short_and_equals_forms),
		T(usage_lists_every_flag_with_its_help),
		T(usage_shows_value_placeholders_but_not_for_bools),
		T(usage_of_a_group_lists_its_commands),
	};

	return cmocka_run_group_tests_name("opt", tests, NULL, NULL);
}
