/*
 * opt.c - the option parser and help printer (see opt.h).  It follows
 * pflag, the parser of the Docker CLI: long flags with "=" or a separate
 * value, grouped short flags, values glued to short flags, flags
 * interspersed with arguments unless told to stop at the first one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "opt.h"

void strlist_add(struct strlist *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 2) * sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
	l->v[l->n] = NULL;
}

void strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int opt_parse_bool(const char *s)
{
	static const char *yes[] = { "1", "t", "T", "true", "TRUE", "True" };
	static const char *no[] = { "0", "f", "F", "false", "FALSE", "False" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		if (strcmp(s, yes[i]) == 0)
			return 1;
		if (strcmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

static const struct opt *find_long(const struct opt *opts, const char *name,
				   size_t len)
{
	for (; opts->type != OPT_END; opts++)
		if (opts->long_name && strlen(opts->long_name) == len &&
		    strncmp(opts->long_name, name, len) == 0)
			return opts;
	return NULL;
}

static const struct opt *find_short(const struct opt *opts, char c)
{
	for (; opts->type != OPT_END; opts++)
		if (opts->short_name == c)
			return opts;
	return NULL;
}

const struct opt *opt_find(const struct opt *opts, const char *arg)
{
	if (arg[0] != '-')
		return NULL;
	if (arg[1] == '-') {
		const char *eq = strchr(arg + 2, '=');

		return find_long(opts, arg + 2,
				 eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
	}
	return arg[1] && !arg[2] ? find_short(opts, arg[1]) : NULL;
}

static int opt_name_error(const struct opt *o, const char *what,
			  const char *val)
{
	if (o->long_name)
		return dm_error("invalid argument \"%s\" for \"--%s\" flag: %s",
				val, o->long_name, what);
	return dm_error("invalid argument \"%s\" for \"-%c\" flag: %s", val,
			o->short_name, what);
}

static int set_value(const struct opt *o, const char *val)
{
	char *end;
	long n;
	int b;

	switch (o->type) {
	case OPT_BOOL:
		b = val ? opt_parse_bool(val) : 1;
		if (b < 0)
			return opt_name_error(o, "not a boolean", val);
		*(int *)o->value = b;
		return 0;
	case OPT_STRING:
		*(const char **)o->value = val;
		return 0;
	case OPT_INT:
		errno = 0;
		n = strtol(val, &end, 10);
		if (errno || end == val || *end)
			return opt_name_error(o, "not a number", val);
		*(long *)o->value = n;
		return 0;
	case OPT_LIST:
		strlist_add(o->value, val);
		return 0;
	case OPT_END:
		break;
	}
	return dm_error("internal error: bad option type");
}

static int is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* One "--long[=value]" at argv[*i]; may consume the next argument. */
static int parse_long(int argc, char **argv, int *i, const struct opt *opts)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct opt *o = find_long(opts, name, len);

	if (!o)
		return dm_error("unknown flag: --%.*s", (int)len, name);
	if (eq)
		return set_value(o, eq + 1);
	if (o->type == OPT_BOOL)
		return set_value(o, NULL);
	if (*i + 1 >= argc)
		return dm_error("flag needs an argument: --%s", o->long_name);
	return set_value(o, argv[++*i]);
}

/* A group of short flags "-abc" or "-fVALUE" or "-f VALUE". */
static int parse_short(int argc, char **argv, int *i, const struct opt *opts)
{
	const char *p = argv[*i] + 1;

	for (; *p; p++) {
		const struct opt *o = find_short(opts, *p);

		if (!o && *p == 'h')
			return OPT_HELP;	/* -qh asks for help, as in pflag */
		if (!o)
			return dm_error("unknown shorthand flag: '%c' in %s",
					*p, argv[*i]);
		if (o->type == OPT_BOOL) {
			if (p[1] == '=')
				return set_value(o, p + 2);
			if (set_value(o, NULL))
				return -1;
			continue;
		}
		if (p[1])
			return set_value(o, p[1] == '=' ? p + 2 : p + 1);
		if (*i + 1 >= argc)
			return dm_error("flag needs an argument: '%c' in -%c",
					*p, *p);
		return set_value(o, argv[++*i]);
	}
	return 0;
}

enum opt_result opt_parse(int argc, char **argv, const struct opt *opts,
			  int flags, int *nargs)
{
	int i, r, out = 0;

	for (i = 0; i < argc; i++) {
		char *arg = argv[i];

		if (strcmp(arg, "--") == 0) {
			for (i++; i < argc; i++)
				argv[out++] = argv[i];
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			if (flags & OPT_STOP_AT_NONOPT) {
				for (; i < argc; i++)
					argv[out++] = argv[i];
				break;
			}
			argv[out++] = arg;
			continue;
		}
		if (is_help(arg) && !opt_find(opts, arg))
			return OPT_HELP;
		r = arg[1] == '-' ? parse_long(argc, argv, &i, opts)
				  : parse_short(argc, argv, &i, opts);
		if (r == OPT_HELP)
			return OPT_HELP;
		if (r < 0)
			return OPT_ERROR;
	}
	*nargs = out;
	return OPT_OK;
}

static void print_flag(FILE *out, const struct opt *o)
{
	char left[96];
	int n;

	if (o->short_name)
		n = snprintf(left, sizeof(left), "  -%c, --%s", o->short_name,
			     o->long_name);
	else
		n = snprintf(left, sizeof(left), "      --%s", o->long_name);
	if (o->type != OPT_BOOL && n > 0 && (size_t)n < sizeof(left))
		snprintf(left + n, sizeof(left) - (size_t)n, " %s",
			 o->argh ? o->argh : o->type == OPT_INT ? "int"
				 : o->type == OPT_LIST ? "list" : "string");
	fprintf(out, "%-28s %s\n", left, o->help ? o->help : "");
}

void opt_usage(FILE *out, const struct cmd_help *help, const struct opt *opts,
	       const char *commands)
{
	fprintf(out, "\nUsage:  docker %s %s\n\n%s\n", help->path, help->args,
		help->summary);
	if (help->details)
		fprintf(out, "\n%s\n", help->details);
	if (commands)
		fprintf(out, "\nCommands:\n%s", commands);
	fputs("\nOptions:\n", out);
	for (const struct opt *o = opts; o && o->type != OPT_END; o++)
		print_flag(out, o);
	fprintf(out, "%-28s %s\n", "  -h, --help", "Print usage");
	if (help->examples)
		fprintf(out, "\nExamples:\n%s", help->examples);
	if (commands)
		fprintf(out, "\nRun 'docker %s COMMAND --help' for more "
			"information on a command.\n", help->path);
	fputc('\n', out);
}
