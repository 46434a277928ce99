/*
 * plugin.h - the Docker CLI plugin glue: the subcommand table and the
 * CLI's global flags (plugin/).
 */
#ifndef DM_PLUGIN_H
#define DM_PLUGIN_H

#include "cmd.h"
#include "opt.h"

struct subcmd {
	const char *name;
	int (*fn)(int argc, char **argv, struct cli *cli);
	const char *summary;
	const char *alias;	/* another name, or NULL */
};

/* The table, NULL-terminated. */
const struct subcmd *plugin_subcmds(void);
/* The command called name, or aliased so; NULL if none. */
const struct subcmd *plugin_find_subcmd(const char *name);

#define GLOBAL_OPTS_MAX 16
/* Fill o (GLOBAL_OPTS_MAX entries) with the CLI's global flags bound to
 * g (g may be NULL: names only, for help and completion). */
void plugin_global_opts(struct globalopts *g, struct opt *o);
/* After parsing: derive what the flags imply (debug output, --tlsverify). */
void plugin_apply_globals(struct globalopts *g);

#endif
