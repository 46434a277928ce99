/*
 * opt.c - the option parser and help printer (see opt.h).  It follows
 * pflag, the parser of the Docker CLI: long flags with "=" or a separate
 * value, grouped short flags, values glued to short flags, flags
 * interspersed with arguments unless told to stop at the first one.
 * Values are checked against their declaration (a boolean, a number in
 * its range, one of an enum's values) and stored only when the whole
 * command line is good.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

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

long opt_parse_seconds(const char *s)
{
	long total = 0;
	int units = 0;

	if (!*s)
		return -1;
	while (*s) {
		char *end;
		long n, mult;

		if (*s < '0' || *s > '9')
			return -1;
		errno = 0;
		n = strtol(s, &end, 10);
		if (errno || n > 100000000L)
			return -1;
		switch (*end) {
		case 'h': mult = 3600; break;
		case 'm': mult = 60; break;
		case 's': mult = 1; break;
		case '\0':
			/* a bare number is seconds, alone */
			return units ? -1 : n;
		default:
			return -1;
		}
		total += n * mult;
		if (total > 100000000L)
			return -1;
		units = 1;
		s = end + 1;
	}
	return total;
}

static const struct opt *find_long(const struct opt *opts, const char *name,
				   size_t len)
{
	for (; opts && opts->type != OPT_TYPE_END; opts++)
		if (opts->long_name && strlen(opts->long_name) == len &&
		    strncmp(opts->long_name, name, len) == 0)
			return opts;
	return NULL;
}

static const struct opt *find_short(const struct opt *opts, char c)
{
	for (; opts && opts->type != OPT_TYPE_END; opts++)
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

int opt_takes_value(const struct opt *o)
{
	return o->type != OPT_TYPE_BOOL;
}

static int opt_name_error(const struct opt *o, const char *val,
			  const char *what)
{
	if (o->long_name)
		return dm_error("invalid argument \"%s\" for \"--%s\" flag: %s",
				val, o->long_name, what);
	return dm_error("invalid argument \"%s\" for \"-%c\" flag: %s", val,
			o->short_name, what);
}

/* "must be one of "a", "b" or "c"", as the Docker CLI says it */
static int enum_error(const struct opt *o, const char *val)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = 0;
	int ret;

	while (o->choices[n])
		n++;
	sb_addf(&sb, "must be one of");
	for (size_t i = 0; i < n; i++)
		sb_addf(&sb, "%s\"%s\"", i == 0 ? " " : i + 1 == n ? " or "
					      : ", ", o->choices[i]);
	ret = opt_name_error(o, val, sb_str(&sb));
	sb_release(&sb);
	return ret;
}

static int range_error(const struct opt *o, const char *val)
{
	char what[96];

	if (o->max == LONG_MAX)
		snprintf(what, sizeof(what), "must be at least %ld", o->min);
	else
		snprintf(what, sizeof(what), "must be between %ld and %ld",
			 o->min, o->max);
	return opt_name_error(o, val, what);
}

/* Check val against o's declaration; store it only when store is set. */
static int set_value(const struct opt *o, const char *val, int store)
{
	char *end;
	long n;
	int b, k;

	switch (o->type) {
	case OPT_TYPE_BOOL:
		b = val ? opt_parse_bool(val) : 1;
		if (b < 0)
			return opt_name_error(o, val, "not a boolean");
		if (store)
			*o->v.flag = b;
		return 0;
	case OPT_TYPE_STRING:
		if (store)
			*o->v.str = val;
		return 0;
	case OPT_TYPE_INT:
	case OPT_TYPE_SECONDS:
		if (o->type == OPT_TYPE_SECONDS) {
			n = opt_parse_seconds(val);
			if (n < 0)
				return opt_name_error(o, val, "not a duration "
						      "(90, 90s, 2m, 1h30m)");
		} else {
			errno = 0;
			n = strtol(val, &end, 10);
			if (errno || end == val || *end)
				return opt_name_error(o, val, "not a number");
		}
		if ((o->min || o->max) && (n < o->min || n > o->max))
			return range_error(o, val);
		if (store)
			*o->v.num = n;
		return 0;
	case OPT_TYPE_ENUM:
		for (k = 0; o->choices[k]; k++)
			if (strcmp(o->choices[k], val) == 0)
				break;
		if (!o->choices[k])
			return enum_error(o, val);
		if (store)
			*o->v.idx = k;
		return 0;
	case OPT_TYPE_LIST:
		if (store)
			strlist_add(o->v.list, val);
		return 0;
	case OPT_TYPE_END:
		break;
	}
	return dm_error("internal error: bad option type");
}

static int is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* One "--long[=value]" at argv[*i]; may consume the next argument. */
static int parse_long(int argc, char **argv, int *i, const struct opt *opts,
		      int store)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct opt *o = find_long(opts, name, len);

	if (!o)
		return dm_error("unknown flag: --%.*s", (int)len, name);
	if (eq)
		return set_value(o, eq + 1, store);
	if (!opt_takes_value(o))
		return set_value(o, NULL, store);
	if (*i + 1 >= argc)
		return dm_error("flag needs an argument: --%s", o->long_name);
	return set_value(o, argv[++*i], store);
}

/* A group of short flags "-abc" or "-fVALUE" or "-f VALUE". */
static int parse_short(int argc, char **argv, int *i, const struct opt *opts,
		       int store)
{
	const char *p = argv[*i] + 1;

	for (; *p; p++) {
		const struct opt *o = find_short(opts, *p);

		if (!o && *p == 'h')
			return OPT_HELP;	/* -qh asks for help, as in pflag */
		if (!o)
			return dm_error("unknown shorthand flag: '%c' in %s",
					*p, argv[*i]);
		if (!opt_takes_value(o)) {
			if (p[1] == '=')
				return set_value(o, p + 2, store);
			if (set_value(o, NULL, store))
				return -1;
			continue;
		}
		if (p[1])
			return set_value(o, p[1] == '=' ? p + 2 : p + 1, store);
		if (*i + 1 >= argc)
			return dm_error("flag needs an argument: '%c' in -%c",
					*p, *p);
		return set_value(o, argv[++*i], store);
	}
	return 0;
}

/* One pass over the line: checking only, or storing and moving the
 * arguments to the front. */
static enum opt_result parse_pass(int argc, char **argv,
				  const struct opt *opts, int flags,
				  int *nargs, int store)
{
	int i, r, out = 0;

	for (i = 0; i < argc; i++) {
		char *arg = argv[i];

		if (strcmp(arg, "--") == 0) {
			for (i++; i < argc; i++)
				if (store)
					argv[out++] = argv[i];
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			if (flags & OPT_STOP_AT_NONOPT) {
				for (; i < argc; i++)
					if (store)
						argv[out++] = argv[i];
				break;
			}
			if (store)
				argv[out++] = arg;
			continue;
		}
		if (is_help(arg) && !opt_find(opts, arg))
			return OPT_HELP;
		r = arg[1] == '-' ? parse_long(argc, argv, &i, opts, store)
				  : parse_short(argc, argv, &i, opts, store);
		if (r == OPT_HELP)
			return OPT_HELP;
		if (r < 0)
			return OPT_ERROR;
	}
	if (store)
		*nargs = out;
	return OPT_OK;
}

enum opt_result opt_parse(int argc, char **argv, const struct opt *opts,
			  int flags, int *nargs)
{
	enum opt_result r = parse_pass(argc, argv, opts, flags, nargs, 0);

	if (r != OPT_OK)
		return r;
	return parse_pass(argc, argv, opts, flags, nargs, 1);
}

int opt_term_width(FILE *out)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	char *end;
	long n;

	if (env && *env) {
		errno = 0;
		n = strtol(env, &end, 10);
		if (!errno && !*end && n > 0 && n < 10000)
			return (int)n;
	}
	if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* The "-q, --quiet" or "      --to HOST" column of a flag. */
static void flag_left(struct strbuf *sb, const struct opt *o)
{
	static const char *const type_name[] = {
		[OPT_TYPE_STRING] = "string", [OPT_TYPE_INT] = "int",
		[OPT_TYPE_SECONDS] = "duration", [OPT_TYPE_ENUM] = "string",
		[OPT_TYPE_LIST] = "list",
	};

	if (o->short_name)
		sb_addf(sb, "  -%c, --%s", o->short_name, o->long_name);
	else
		sb_addf(sb, "      --%s", o->long_name);
	if (opt_takes_value(o))
		sb_addf(sb, " %s", o->argh ? o->argh : type_name[o->type]);
}

/* The description, then the default the variable holds, in one form. */
static void flag_help(struct strbuf *sb, const struct opt *o)
{
	sb_addf(sb, "%s", o->help ? o->help : "");
	switch (o->type) {
	case OPT_TYPE_BOOL:
		if (o->v.flag && *o->v.flag > 0)
			sb_addf(sb, " (default true)");
		break;
	case OPT_TYPE_STRING:
		if (o->v.str && *o->v.str && **o->v.str)
			sb_addf(sb, " (default \"%s\")", *o->v.str);
		break;
	case OPT_TYPE_INT:
	case OPT_TYPE_SECONDS:
		if (o->v.num && *o->v.num > 0)	/* -1: "not given" */
			sb_addf(sb, " (default %ld)", *o->v.num);
		break;
	case OPT_TYPE_ENUM:
		if (o->v.idx && *o->v.idx >= 0)
			sb_addf(sb, " (default \"%s\")", o->choices[*o->v.idx]);
		break;
	default:
		break;
	}
}

/*
 * left, then text from column col, wrapped at width - 1 as the Docker CLI
 * does, its continuation lines under col; a word is moved down only when
 * what is left does not fit (a last word is allowed 5 columns of slack
 * rather than left alone on a line).  Too narrow a column starts the text
 * on a line of its own, at column 16.
 */
static void put_wrapped(FILE *out, const char *left, const char *text,
			int col, int width)
{
	int avail = width - 1 - col, slop = 5;

	if (avail < 24) {
		fprintf(out, "%s\n", left);
		col = 16;
		avail = width - 1 - col;
		fprintf(out, "%*s", col, "");
	} else {
		fprintf(out, "%-*s", col, left);
	}
	while (*text) {
		size_t seg = strcspn(text, "\n"), len = seg;
		const char *s = text;

		while (avail >= 24 && len >= (size_t)avail) {
			size_t cut = (size_t)(avail - slop);

			while (cut > 0 && s[cut] != ' ')
				cut--;
			if (cut == 0)
				break;	/* one long word: leave it whole */
			fprintf(out, "%.*s\n%*s", (int)cut, s, col, "");
			s += cut + 1;
			len -= cut + 1;
		}
		fprintf(out, "%.*s", (int)len, s);
		text += seg;
		if (*text == '\n') {
			text++;
			fprintf(out, "\n%*s", col, "");
		}
	}
	fputc('\n', out);
}

void opt_usage(FILE *out, const struct cmd_help *help, const struct opt *opts,
	       const char *commands, int width)
{
	static const struct opt help_flag =
		OPT_BOOL('h', "help", NULL, "Print usage");
	struct strbuf left = STRBUF_INIT, desc = STRBUF_INIT;
	size_t col = 0;

	fprintf(out, "Usage:  docker %s %s\n\n%s\n", help->path, help->args,
		help->summary);
	if (help->details)
		fprintf(out, "\n%s\n", help->details);
	if (help->alias) {
		const char *last = strrchr(help->path, ' ');
		int parent = last ? (int)(last - help->path + 1) : 0;

		fprintf(out, "\nAliases:\n  docker %s, docker %.*s%s\n",
			help->path, parent, help->path, help->alias);
	}
	if (commands)
		fprintf(out, "\nCommands:\n%s", commands);
	/* the description column: 3 past the widest flag */
	for (const struct opt *o = opts; o && o->type != OPT_TYPE_END; o++) {
		sb_reset(&left);
		flag_left(&left, o);
		if (left.len > col)
			col = left.len;
	}
	if (col < 12)
		col = 12;	/* "  -h, --help" */
	col += 3;
	fputs("\nOptions:\n", out);
	for (const struct opt *o = opts ? opts : &help_flag;; o++) {
		if (o->type == OPT_TYPE_END)
			o = &help_flag;
		sb_reset(&left);
		sb_reset(&desc);
		flag_left(&left, o);
		flag_help(&desc, o);
		put_wrapped(out, sb_str(&left), sb_str(&desc), (int)col,
			    width);
		if (o == &help_flag)
			break;
	}
	sb_release(&left);
	sb_release(&desc);
	if (help->examples)
		fprintf(out, "\nExamples:\n%s", help->examples);
	if (commands)
		fprintf(out, "\nRun 'docker %s COMMAND --help' for more "
			"information on a command.\n", help->path);
}
