/*
 * opt.h - options as data.  One table per command gives the parser, the
 * cobra-style help and shell completion, so they never drift apart.
 */
#ifndef DM_OPT_H
#define DM_OPT_H

#include <stdio.h>

enum opt_type {
	OPT_END = 0,
	OPT_BOOL,	/* int *: --flag, --flag=true|false */
	OPT_STRING,	/* const char **: --flag VALUE, --flag=VALUE, -fVALUE */
	OPT_INT,	/* long *: decimal */
	OPT_LIST,	/* struct strlist *: repeatable */
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

struct opt {
	enum opt_type type;
	char short_name;
	const char *long_name;
	void *value;
	const char *argh;	/* placeholder in help: "HOST" */
	const char *help;
	enum opt_complete complete;
	const char *const *choices;	/* for COMPL_CHOICES, NULL-terminated */
};

#define OPT_END_MARK { OPT_END, 0, NULL, NULL, NULL, NULL, COMPL_NONE, NULL }

/* The help of one command: "Usage:  docker migrate <usage>" and so on. */
struct cmd_help {
	const char *path;	/* "migrate container" */
	const char *args;	/* "[OPTIONS] CONTAINER" */
	const char *summary;	/* one line */
	const char *details;	/* optional paragraph after the summary */
	const char *examples;	/* optional */
};

enum opt_result {
	OPT_OK = 0,
	OPT_HELP = 1,	/* --help was given: help is printed, exit 0 */
	OPT_ERROR = -1,	/* dm_error() holds the reason */
};

#define OPT_STOP_AT_NONOPT 1	/* the Docker CLI's global flags */

/*
 * Parse argv[0..argc) (argv[0] is the first argument, not the program):
 * the positional arguments are moved to the front of argv, in order, and
 * their count stored in *nargs.  "--" ends the flags.
 */
enum opt_result opt_parse(int argc, char **argv, const struct opt *opts,
			  int flags, int *nargs);

/* Print "Usage:" ... "Options:" the way the Docker CLI (cobra) does. */
void opt_usage(FILE *out, const struct cmd_help *help, const struct opt *opts,
	       const char *commands);

/* Look up a flag by "--name" or "-n" for completion; NULL if none. */
const struct opt *opt_find(const struct opt *opts, const char *arg);

/* "true"/"false"/"1"/"0" as pflag accepts them; -1 when neither. */
int opt_parse_bool(const char *s);

#endif
