/*
 * opt.h - options as data.  One table per command gives the parser, the
 * cobra-style help and shell completion, so they never drift apart.  Each
 * declaration carries its type (and, for an enum, its values; for a
 * number, its range): the parser checks a value against it, so a command
 * receives only values it can use.
 */
#ifndef DM_OPT_H
#define DM_OPT_H

#include <stdio.h>

enum opt_type {
	OPT_TYPE_END = 0,
	OPT_TYPE_BOOL,		/* int: --flag, --flag=true|false */
	OPT_TYPE_STRING,	/* const char *: --flag V, --flag=V, -fV */
	OPT_TYPE_INT,		/* long: decimal, within [min, max] */
	OPT_TYPE_SECONDS,	/* long: 90, 90s, 2m, 1h30m; within [min, max] */
	OPT_TYPE_ENUM,		/* int: the value's index in choices */
	OPT_TYPE_LIST,		/* struct strlist: repeatable */
};

/* What a flag's value completes to (see complete.c). */
enum opt_complete {
	COMPL_NONE = 0,
	COMPL_FILE,
	COMPL_HOST,
	COMPL_CONTEXT,
	COMPL_CONTAINER,
	COMPL_VOLUME,
	COMPL_IMAGE,
	COMPL_REGISTRY,
	COMPL_CHOICES,
};

struct strlist {
	char **v;
	size_t n;
};
void strlist_add(struct strlist *l, const char *s);
void strlist_clear(struct strlist *l);

/* Where a flag's value goes: one member per type, so that a declaration
 * that points at the wrong kind of variable does not compile. */
union opt_target {
	int *flag;		/* BOOL */
	const char **str;	/* STRING */
	long *num;		/* INT, SECONDS */
	int *idx;		/* ENUM: -1 until given, unless it has a default */
	struct strlist *list;	/* LIST */
};

struct opt {
	enum opt_type type;
	char short_name;
	const char *long_name;
	union opt_target v;
	const char *argh;	/* placeholder in help: "HOST" */
	const char *help;
	enum opt_complete complete;
	const char *const *choices;	/* ENUM's values, NULL-terminated */
	long min, max;			/* INT's and SECONDS' range; 0, 0: any */
};

/*
 * The declarations.  The help shows the default from the variable's value
 * before parsing, as pflag does: "(default true)", "(default 60)",
 * "(default "delta")"; false, 0, NULL and an enum at -1 show none.
 */
#define OPT_BOOL(s, l, p, h) \
	{ .type = OPT_TYPE_BOOL, .short_name = (s), .long_name = (l), \
	  .v.flag = (p), .help = (h) }
#define OPT_STRING(s, l, p, a, h, c) \
	{ .type = OPT_TYPE_STRING, .short_name = (s), .long_name = (l), \
	  .v.str = (p), .argh = (a), .help = (h), .complete = (c) }
#define OPT_INT(s, l, p, a, h, lo, hi) \
	{ .type = OPT_TYPE_INT, .short_name = (s), .long_name = (l), \
	  .v.num = (p), .argh = (a), .help = (h), .min = (lo), .max = (hi) }
#define OPT_SECONDS(s, l, p, a, h, lo, hi) \
	{ .type = OPT_TYPE_SECONDS, .short_name = (s), .long_name = (l), \
	  .v.num = (p), .argh = (a), .help = (h), .min = (lo), .max = (hi) }
#define OPT_ENUM(s, l, p, a, h, ch) \
	{ .type = OPT_TYPE_ENUM, .short_name = (s), .long_name = (l), \
	  .v.idx = (p), .argh = (a), .help = (h), \
	  .complete = COMPL_CHOICES, .choices = (ch) }
#define OPT_LIST(s, l, p, a, h, c) \
	{ .type = OPT_TYPE_LIST, .short_name = (s), .long_name = (l), \
	  .v.list = (p), .argh = (a), .help = (h), .complete = (c) }
#define OPT_END() { .type = OPT_TYPE_END }

/* The help of one command: "Usage:  docker migrate <usage>" and so on. */
struct cmd_help {
	const char *path;	/* "migrate container" */
	const char *args;	/* "[OPTIONS] CONTAINER" */
	const char *summary;	/* one line */
	const char *details;	/* optional paragraph after the summary */
	const char *examples;	/* optional */
	const char *alias;	/* optional other name of its last word: "volume" */
};

enum opt_result {
	OPT_OK = 0,
	OPT_HELP = 1,	/* --help was given: nothing was stored */
	OPT_ERROR = -1,	/* dm_error() holds the reason; nothing stored */
};

#define OPT_STOP_AT_NONOPT 1	/* the Docker CLI's global flags */

/*
 * Parse argv[0..argc) (argv[0] is the first argument, not the program):
 * the positional arguments are moved to the front of argv, in order, and
 * their count stored in *nargs.  "--" ends the flags.  The values are
 * stored only when the whole line is good and asks for no help, so that
 * help shows the defaults whatever came before --help.
 */
enum opt_result opt_parse(int argc, char **argv, const struct opt *opts,
			  int flags, int *nargs);

/* The width help is wrapped to: $COLUMNS, else out's terminal, else 80. */
int opt_term_width(FILE *out);

/* Print "Usage:" ... "Options:" the way the Docker CLI (cobra) does,
 * each flag's description wrapped to width and aligned in one column. */
void opt_usage(FILE *out, const struct cmd_help *help, const struct opt *opts,
	       const char *commands, int width);

/* Look up a flag by "--name" or "-n" for completion; NULL if none. */
const struct opt *opt_find(const struct opt *opts, const char *arg);

/* Does the flag take a value (all but booleans)? */
int opt_takes_value(const struct opt *o);

/* "true"/"false"/"1"/"0" as pflag accepts them; -1 when neither. */
int opt_parse_bool(const char *s);

/* "90", "90s", "2m", "1h30m" as seconds; -1 when it is none of these. */
long opt_parse_seconds(const char *s);

#endif
