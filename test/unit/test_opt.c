/*
 * test_opt.c - the option parser behaves like pflag, the parser of the
 * Docker CLI, checks each value against its declaration, and the help
 * lists every flag of the table, wrapped and aligned as docker's.
 */
#include "unit.h"

struct vals {
	int quiet, debug, all;
	const char *name, *to;
	long count;
	struct strlist hosts;
	int mode;		/* an enum: index in modes */
	long port, wait;	/* a ranged int, seconds */
};

static struct vals v;

static const char *const modes[] = { "auto", "tty", "plain", NULL };

static const struct opt cmd_opts[] = {
	OPT_BOOL('q', "quiet", &v.quiet, "Only print errors"),
	OPT_BOOL('D', "debug", &v.debug, "Enable debug mode"),
	OPT_BOOL(0, "all", &v.all, "Move all of them"),
	OPT_STRING('n', "name", &v.name, "NAME", "Name at the destination",
		   COMPL_NONE),
	OPT_STRING('t', "to", &v.to, "HOST", "Destination host", COMPL_HOST),
	OPT_INT(0, "count", &v.count, NULL, "How many", 0, 0),
	OPT_LIST('H', "host", &v.hosts, NULL, "Daemon socket to connect to",
		 COMPL_NONE),
	OPT_ENUM('m', "mode", &v.mode, "MODE", "How to show it", modes),
	OPT_INT(0, "port", &v.port, "PORT", "Port", 1, 65535),
	OPT_SECONDS(0, "wait", &v.wait, "SECONDS", "How long to wait", 1,
		    3600),
	OPT_END(),
};

/* The Docker CLI's global flags, in front of the plugin's command. */
static const struct opt global_opts[] = {
	OPT_STRING('c', "context", &v.name, "string", "Context to use",
		   COMPL_CONTEXT),
	OPT_BOOL('D', "debug", &v.debug, "Enable debug mode"),
	OPT_LIST('H', "host", &v.hosts, "list", "Daemon socket", COMPL_NONE),
	OPT_END(),
};

static int setup(void **state)
{
	(void)state;
	strlist_clear(&v.hosts);
	memset(&v, 0, sizeof(v));
	v.mode = -1;
	unsetenv("COLUMNS");
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

static void enum_flag_stores_the_index_of_its_value(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "--mode=tty", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_int_equal(v.mode, 1);
	parse(&r, cmd_opts, 0, "-m", "plain", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_int_equal(v.mode, 2);
}

static void enum_flag_refuses_other_values_naming_its_choices(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "--mode=TTY", NULL);
	assert_int_equal(r.res, OPT_ERROR);
	assert_int_equal(v.mode, -1);
	assert_string_equal(dm_errmsg(), "invalid argument \"TTY\" for "
			    "\"--mode\" flag: must be one of \"auto\", "
			    "\"tty\" or \"plain\"");
	parse(&r, cmd_opts, 0, "--mode=", NULL);
	assert_int_equal(r.res, OPT_ERROR);
}

static void int_flag_outside_its_range_is_refused(void **state)
{
	static char *bad[] = { "--port=0", "--port=65536", "--port=-1" };
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		parse(&r, cmd_opts, 0, bad[i], NULL);
		assert_int_equal(r.res, OPT_ERROR);
		assert_contains(dm_errmsg(), "--port");
		assert_contains(dm_errmsg(), "must be between 1 and 65535");
		assert_int_equal(v.port, 0);
	}
	parse(&r, cmd_opts, 0, "--port=65535", NULL);
	assert_int_equal(r.res, OPT_OK);
	assert_int_equal(v.port, 65535);
}

static void seconds_flag_reads_numbers_and_units(void **state)
{
	static const struct { char *arg; long want; } good[] = {
		{ "--wait=90", 90 }, { "--wait=45s", 45 }, { "--wait=2m", 120 },
		{ "--wait=1h", 3600 }, { "--wait=1m30s", 90 },
	};
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		parse(&r, cmd_opts, 0, good[i].arg, NULL);
		assert_int_equal(r.res, OPT_OK);
		assert_int_equal(v.wait, good[i].want);
	}
}

static void seconds_flag_refuses_what_is_not_a_duration(void **state)
{
	static char *bad[] = { "--wait=1.5m", "--wait=m", "--wait=10x",
			       "--wait=5m3", "--wait=", "--wait=-5",
			       "--wait=2h" /* over its 3600 */ };
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		parse(&r, cmd_opts, 0, bad[i], NULL);
		assert_int_equal(r.res, OPT_ERROR);
		assert_contains(dm_errmsg(), "--wait");
		assert_int_equal(v.wait, 0);
	}
	assert_contains(dm_errmsg(), "must be between 1 and 3600");
	assert_int_equal(opt_parse_seconds("1h2m3s"), 3723);
	assert_int_equal(opt_parse_seconds("0"), 0);
	assert_int_equal(opt_parse_seconds("s"), -1);
	assert_int_equal(opt_parse_seconds(" 5"), -1);
}

static void nothing_is_stored_from_a_line_with_an_error(void **state)
{
	struct run r;

	(void)state;
	parse(&r, cmd_opts, 0, "--name", "x", "-H", "a", "--mode=tty",
	      "--count=x", NULL);
	assert_int_equal(r.res, OPT_ERROR);
	assert_null(v.name);
	assert_int_equal(v.hosts.n, 0);
	assert_int_equal(v.mode, -1);
	assert_int_equal(r.nargs, -1);
}

static void help_stores_nothing_so_it_shows_the_defaults(void **state)
{
	struct run r;

	(void)state;
	v.count = 10;
	parse(&r, cmd_opts, 0, "--count=3", "-H", "a", "--help", NULL);
	assert_int_equal(r.res, OPT_HELP);
	assert_int_equal(v.count, 10);
	assert_int_equal(v.hosts.n, 0);
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
	opt_usage(f, h, opts, commands, 80);
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
		"Move a container to another host", NULL, NULL, NULL,
	};
	char *text = usage_text(&h, cmd_opts, NULL);

	(void)state;
	assert_contains(text, "Usage:  docker migrate container "
			      "[OPTIONS] CONTAINER");
	assert_contains(text, "Move a container to another host");
	assert_contains(text, "Options:");
	for (const struct opt *o = cmd_opts; o->type != OPT_TYPE_END; o++) {
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
					   NULL, NULL, NULL };
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
		NULL,
	};
	char *text = usage_text(&h, NULL, "  container   Move a container\n");

	(void)state;
	assert_contains(text, "Details here.");
	assert_contains(text, "Commands:\n  container   Move a container\n");
	assert_contains(text, "Examples:\n  docker migrate container web");
	assert_contains(text, "Run 'docker migrate COMMAND --help'");
	free(text);
}

static void usage_writes_defaults_the_way_docker_does(void **state)
{
	static const struct cmd_help h = { "migrate image", "IMAGE", "Move",
					   NULL, NULL, NULL };
	char *text, *line;

	(void)state;
	v.all = 1;
	v.count = 10;
	v.name = "delta";
	v.mode = 0;
	text = usage_text(&h, cmd_opts, NULL);
	line = usage_line(text, "--all");
	assert_contains(line, "Move all of them (default true)");
	free(line);
	line = usage_line(text, "--count");
	assert_contains(line, "How many (default 10)");
	free(line);
	line = usage_line(text, "--name");
	assert_contains(line, "Name at the destination (default \"delta\")");
	free(line);
	line = usage_line(text, "--mode");
	assert_contains(line, "How to show it (default \"auto\")");
	free(line);
	/* false, 0, NULL and an enum not given have no default to show */
	line = usage_line(text, "--quiet");
	assert_not_contains(line, "default");
	free(line);
	line = usage_line(text, "--to");
	assert_not_contains(line, "default");
	free(line);
	free(text);
	v.mode = -1;
	text = usage_text(&h, cmd_opts, NULL);
	line = usage_line(text, "--mode");
	assert_not_contains(line, "default");
	free(line);
	free(text);
	v.name = NULL;
}

/* A table with one long description, and the text printed at width. */
static const char long_help[] =
	"Check volumes after the final pass: what it sent read back, the "
	"rest being known from the pre-copy (all), what it sent by stat and "
	"CRC only (stat), the whole tree read back (full), or nothing more "
	"(precopy)";

static const struct opt wrap_opts[] = {
	OPT_BOOL('q', "quiet", &v.quiet, "Only print errors"),
	OPT_ENUM(0, "verify", &v.mode, "WHEN", long_help, modes),
	OPT_SECONDS(0, "checkpoint-timeout", &v.wait, "SECONDS",
		    "Give up a checkpoint after this long", 1, 3600),
	OPT_END(),
};

static char *wrapped_text(int width)
{
	static const struct cmd_help h = { "migrate container", "CONTAINER",
					   "Move", NULL, NULL, NULL };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	opt_usage(f, &h, wrap_opts, NULL, width);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* The column where the description of the line starting with flag is. */
static size_t desc_column(const char *text, const char *flag)
{
	const char *p = strstr(text, flag), *start = p;

	assert_non_null(p);
	while (start > text && start[-1] != '\n')
		start--;
	p += strlen(flag);
	while (*p == ' ')
		p++;
	return (size_t)(p - start);
}

static void usage_wraps_descriptions_under_one_column(void **state)
{
	char *text = wrapped_text(80), *opts, *line, *save = NULL;
	/* "      --checkpoint-timeout SECONDS" is the widest, 3 more */
	size_t col = strlen("      --checkpoint-timeout SECONDS") + 3;
	struct strbuf words = STRBUF_INIT;
	int in_verify = 0, continued = 0;

	(void)state;
	assert_int_equal(desc_column(text, "--quiet"), col);
	assert_int_equal(desc_column(text, "--verify WHEN"), col);
	assert_int_equal(desc_column(text, "--checkpoint-timeout SECONDS"), col);
	assert_int_equal(desc_column(text, "-h, --help"), col);
	opts = strstr(text, "Options:\n");
	assert_non_null(opts);
	for (line = strtok_r(opts, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		/* the Docker CLI wraps at the width less one */
		assert_true(strlen(line) < 80);
		if (strstr(line, "--verify WHEN")) {
			in_verify = 1;
			sb_addf(&words, "%s", line + col);
			continue;
		}
		/* flags are indented by 2 or 6: more is a continuation */
		if (in_verify && strspn(line, " ") > 6) {
			/* under the column, no deeper */
			assert_true(strspn(line, " ") == col);
			sb_addf(&words, " %s", line + col);
			continued++;
			continue;
		}
		in_verify = 0;
	}
	assert_true(continued >= 2);
	/* nothing lost or cut: the lines put back together are the text */
	assert_string_equal(sb_str(&words), long_help);
	sb_release(&words);
	free(text);
}

static void usage_follows_the_width_it_is_given(void **state)
{
	char *wide = wrapped_text(300), *narrow = wrapped_text(50);
	char *line;

	(void)state;
	line = usage_line(wide, "--verify");
	assert_contains(line, long_help);
	free(line);
	/* too narrow for the column: each description on lines of its
	 * own, from column 16, still within the width */
	assert_contains(narrow, "      --verify WHEN\n"
				"                Check volumes after the");
	for (char *p = narrow; *p;) {
		size_t n = strcspn(p, "\n");

		assert_true(n < 50);
		p += n + (p[n] == '\n');
	}
	free(wide);
	free(narrow);
}

static void term_width_comes_from_columns_else_80(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	assert_int_equal(opt_term_width(f), 80);	/* not a terminal */
	setenv("COLUMNS", "132", 1);
	assert_int_equal(opt_term_width(f), 132);
	setenv("COLUMNS", "wide", 1);
	assert_int_equal(opt_term_width(f), 80);
	unsetenv("COLUMNS");
	fclose(f);
	free(buf);
}

static void usage_names_the_alias(void **state)
{
	static const struct cmd_help h = { "migrate volumes", "VOLUME",
					   "Copy", NULL, NULL, "volume" };
	char *text = usage_text(&h, cmd_opts, NULL);

	(void)state;
	assert_contains(text, "\nAliases:\n  docker migrate volumes, "
			      "docker migrate volume\n");
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
		T(enum_flag_stores_the_index_of_its_value),
		T(enum_flag_refuses_other_values_naming_its_choices),
		T(int_flag_outside_its_range_is_refused),
		T(seconds_flag_reads_numbers_and_units),
		T(seconds_flag_refuses_what_is_not_a_duration),
		T(nothing_is_stored_from_a_line_with_an_error),
		T(help_stores_nothing_so_it_shows_the_defaults),
		T(opt_find_knows_long_short_and_equals_forms),
		T(usage_lists_every_flag_with_its_help),
		T(usage_shows_value_placeholders_but_not_for_bools),
		T(usage_of_a_group_lists_its_commands),
		T(usage_writes_defaults_the_way_docker_does),
		T(usage_wraps_descriptions_under_one_column),
		T(usage_follows_the_width_it_is_given),
		T(term_width_comes_from_columns_else_80),
		T(usage_names_the_alias),
	};

	return cmocka_run_group_tests_name("opt", tests, NULL, NULL);
}
