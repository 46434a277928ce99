/*
 * cmd.h - what every subcommand receives, and the subcommands themselves.
 * Each lives in src/cmd_<name>.c with one entry point; plugin/main.c
 * holds the table that dispatches to them.
 */
#ifndef DM_CMD_H
#define DM_CMD_H

#include "context.h"
#include "dm.h"
#include "engine.h"
#include "progress.h"
#include "sshlink.h"

struct cli {
	struct globalopts g;
	struct docker_env env;
	const char *ssh_config;	/* --ssh-config / DOCKER_MIGRATE_SSH_CONFIG */
	int progress;		/* enum progress_mode */
	/* Set by __complete: a command hands its flag table here instead of
	 * running, so completion reads the same table as the parser. */
	int (*describe)(struct cli *cli, const struct opt *opts,
			const struct cmd_help *help);
	void *describe_ctx;
	const char *alias;	/* the command's other name, for its help */
};

/* The source engine, as the Docker CLI resolves it; connected. */
struct engine *cli_source_engine(struct cli *cli);
/* The destination engine behind --to; *link receives the SSH link that
 * the caller closes after engine_free(). */
struct engine *cli_dest_engine(struct cli *cli, const char *to,
			       struct sshlink **link);
struct ssh_opts cli_ssh_opts(const struct cli *cli);
/* Before a rollback: if the link to the destination died, connect again,
 * for up to 30 s (it may be coming back); -1 if it stays unreachable. */
int cli_dest_revive(struct cli *cli, const char *to, struct engine **e,
		    struct sshlink **link);
/* The Docker config directory (for the migration records). */
char *cli_config_dir(const struct cli *cli);

int cmd_version(int argc, char **argv, struct cli *cli);
int cmd_container(int argc, char **argv, struct cli *cli);
int cmd_image(int argc, char **argv, struct cli *cli);
int cmd_volumes(int argc, char **argv, struct cli *cli);
int cmd_service(int argc, char **argv, struct cli *cli);
int cmd_history(int argc, char **argv, struct cli *cli);
int cmd_rollback(int argc, char **argv, struct cli *cli);
/* __complete / __completeNoDesc (values without descriptions) */
int cmd_complete(int argc, char **argv, struct cli *cli, int nodesc);

/* The exit statuses (docker-migrate(1), EXIT STATUS).  Usage errors are
 * the Docker CLI's 125; an interrupt is 128 + SIGINT as the shell's and
 * the Docker CLI's own (since 28); 3, not 2, for what is left, since 2 is
 * a usage error for many tools and a script must never take it as one. */
#define DM_EXIT_OK	0
#define DM_EXIT_FAILED	1	/* failed; nothing changed or all undone */
#define DM_EXIT_LEFT	3	/* failed and the rollback could not finish */
#define DM_EXIT_USAGE	125	/* a bad command line: nothing was done */
#define DM_EXIT_INTERRUPTED 130 /* interrupted; nothing left of it */

/* The exit status of a command that failed with this thread's error;
 * left: its rollback could not finish (that outranks an interrupt). */
int cmd_failed_status(int left);

/* Flags that several commands share, spelled once. */
#define OPT_TO(p) OPT_STRING(0, "to", (p), "HOST", \
	"Destination: [ssh://][USER@]HOST[:PORT] (required)", COMPL_HOST)
#define OPT_SSH_CONFIG(cli) OPT_STRING(0, "ssh-config", &(cli)->ssh_config, \
	"FILE", "Read SSH settings from FILE instead of ~/.ssh/config", \
	COMPL_FILE)
/* --format: FORMAT_TEXT (-1, not given) or an index in format_choices */
enum { FORMAT_TEXT = -1, FORMAT_JSON = 0 };
extern const char *const format_choices[];
#define OPT_FORMAT(p) OPT_ENUM(0, "format", (p), "FORMAT", \
	"Print the report as JSON: json", format_choices)
/* --progress: an enum progress_mode, indexed as progress_mode_names */
#define OPT_PROGRESS(p) OPT_ENUM(0, "progress", (p), "MODE", \
	"Transfer progress on stderr: auto, tty, plain, none", \
	progress_mode_names)
#define OPT_QUIET(p) OPT_BOOL('q', "quiet", (p), \
	"No progress, only the report (same as --progress none)")
/* --registry, --no-push, --keep-tag: three entries */
#define OPT_REGISTRY(r) \
	OPT_STRING(0, "registry", &(r)->registry, "REGISTRY", \
		   "Registry ([http[s]://]HOST[:PORT]) for --strategy " \
		   "registry or layers", COMPL_REGISTRY), \
	OPT_BOOL(0, "no-push", &(r)->no_push, \
		 "The image is in the registry already: only pull"), \
	OPT_BOOL(0, "keep-tag", &(r)->keep_tag, \
		 "Leave the registry tags in place")
#define OPT_DRY_RUN(p) OPT_BOOL(0, "dry-run", (p), \
	"Print the plan and change nothing")

/* Set cli->progress from --progress (an enum progress_mode) and -q. */
void cmd_set_progress(struct cli *cli, int mode, int quiet);

/* Shared by commands: parse their flags; returns -1 to go on, or the exit
 * status to return (0 after --help, DM_EXIT_USAGE after a usage error,
 * printed). */
int cmd_parse(struct cli *cli, int argc, char **argv, const struct opt *opts,
	      const struct cmd_help *help, int *nargs);

/* -1 when nargs is within [min, max] (max -1: no limit); else print the
 * Docker CLI's "requires 1 argument" and return DM_EXIT_USAGE. */
int cmd_check_args(const struct cmd_help *help, int nargs, int min, int max);

/* A usage error the way the Docker CLI prints one: "docker: MESSAGE",
 * the command's usage line and where to read more, on stderr; returns
 * DM_EXIT_USAGE. */
int cmd_usage_error(const struct cmd_help *help, const char *fmt, ...)
	DM_PRINTF(2, 3);
/* The same for the parser's error in dm_errmsg() ("unknown flag: --x"),
 * which the CLI prints without "docker: ". */
int cmd_flag_error(const struct cmd_help *help);

/* --to is required: -1 when given, else DM_EXIT_USAGE after saying so. */
int cmd_require_to(const struct cmd_help *help, const char *to);

/* The strategy --strategy chose (by its index in strategy_names), with the
 * registry flags it takes: *name set and -1, else DM_EXIT_USAGE after
 * saying what does not go together. */
struct registry_opts;
int cmd_strategy(const struct cmd_help *help, int index,
		 const struct registry_opts *reg, const char **name);

#endif
