/*
 * cmd.h - what every subcommand receives, and the subcommands themselves.
 * Each lives in src/cmd_<name>.c with one entry point; plugin/main.c
 * holds the table that dispatches to them.
 */
#ifndef DM_CMD_H
#define DM_CMD_H

#include "context.h"
#include "engine.h"
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
int cmd_history(int argc, char **argv, struct cli *cli);
int cmd_rollback(int argc, char **argv, struct cli *cli);
/* __complete / __completeNoDesc (values without descriptions) */
int cmd_complete(int argc, char **argv, struct cli *cli, int nodesc);

/* Flags that several commands share, spelled once. */
#define OPT_TO(v) { OPT_STRING, 0, "to", (v), "HOST", \
	"Destination: [ssh://][USER@]HOST[:PORT] (required)", COMPL_HOST, NULL }
#define OPT_SSH_CONFIG(cli) { OPT_STRING, 0, "ssh-config", &(cli)->ssh_config, \
	"FILE", "Read SSH settings from FILE instead of ~/.ssh/config", \
	COMPL_FILE, NULL }
#define OPT_FORMAT(v) { OPT_STRING, 0, "format", (v), "FORMAT", \
	"Print the report as \"json\"", COMPL_CHOICES, NULL }
#define OPT_PROGRESS(v) { OPT_STRING, 0, "progress", (v), "MODE", \
	"Transfer progress on stderr: auto, tty, plain, none", COMPL_CHOICES, \
	progress_choices }
#define OPT_QUIET(v) { OPT_BOOL, 'q', "quiet", (v), NULL, \
	"No progress, only the report (same as --progress none)", COMPL_NONE, NULL }
extern const char *const progress_choices[];
/* Set cli->progress from --progress and -q; 1 (after a message) if bad. */
int cmd_set_progress(struct cli *cli, const char *path, const char *mode,
		     int quiet);
/* --registry, --no-push, --keep-tag: three entries */
#define OPT_REGISTRY(r) \
	{ OPT_STRING, 0, "registry", &(r)->registry, "REGISTRY", \
	  "Registry ([http[s]://]HOST[:PORT]) for --strategy registry or layers", COMPL_REGISTRY, NULL }, \
	{ OPT_BOOL, 0, "no-push", &(r)->no_push, NULL, \
	  "The image is in the registry already: only pull", COMPL_NONE, NULL }, \
	{ OPT_BOOL, 0, "keep-tag", &(r)->keep_tag, NULL, \
	  "Leave the registry tags in place", COMPL_NONE, NULL }
#define OPT_DRY_RUN(v) { OPT_BOOL, 0, "dry-run", (v), NULL, \
	"Print the plan and change nothing", COMPL_NONE, NULL }

/* --to is given and --format is json or absent; else print why (with
 * the command's path) and return 1.  *json tells which. */
int cmd_check_to_format(const char *path, const char *to, const char *format,
			int *json);

/* Shared by commands: parse their flags; returns -1 to go on, or the exit
 * status to return (0 after --help, 1 after a usage error). */
int cmd_parse(struct cli *cli, int argc, char **argv, const struct opt *opts,
	      const struct cmd_help *help, int *nargs);

#endif
