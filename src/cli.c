/*
 * cli.c - what the subcommands share: reaching the source engine the way
 * the Docker CLI does, reaching the destination over SSH, and parsing a
 * subcommand's flags with the CLI's messages and exit statuses.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "dm.h"
#include "migrate.h"
#include "progress.h"
#include "swarm.h"
#include "transfer.h"

/* The usage line and where to read more: the tail of every usage error. */
static void usage_error_tail(const struct cmd_help *help)
{
	fprintf(stderr, "\nUsage:  docker %s %s\n\nRun 'docker %s --help' for "
		"more information\n", help->path, help->args, help->path);
}

int cmd_usage_error(const struct cmd_help *help, const char *fmt, ...)
{
	va_list ap;

	fputs("docker: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage_error_tail(help);
	return DM_EXIT_USAGE;
}

int cmd_flag_error(const struct cmd_help *help)
{
	fprintf(stderr, "%s\n", dm_errmsg());
	usage_error_tail(help);
	return DM_EXIT_USAGE;
}

int cmd_check_args(const struct cmd_help *help, int nargs, int min, int max)
{
	if (nargs >= min && (max < 0 || nargs <= max))
		return -1;
	if (max == 0)
		return cmd_usage_error(help, "'docker %s' accepts no arguments",
				       help->path);
	if (min == max)
		return cmd_usage_error(help, "'docker %s' requires %d "
				       "argument%s", help->path, min,
				       min == 1 ? "" : "s");
	if (nargs < min)
		return cmd_usage_error(help, "'docker %s' requires at least "
				       "%d argument%s", help->path, min,
				       min == 1 ? "" : "s");
	return cmd_usage_error(help, "'docker %s' accepts at most %d "
			       "argument%s", help->path, max,
			       max == 1 ? "" : "s");
}

int cmd_require_to(const struct cmd_help *help, const char *to)
{
	if (to)
		return -1;
	return cmd_usage_error(help, "'docker %s' requires --to HOST",
			       help->path);
}

int cmd_strategy(const struct cmd_help *help, int index,
		 const struct registry_opts *reg, const char **name)
{
	*name = strategy_names[index];
	/* --registry and its flags go with some strategies only */
	if (strategy_check(strategy_find(*name), reg) < 0)
		return cmd_usage_error(help, "%s", dm_errmsg());
	return -1;
}

int cmd_parse(struct cli *cli, int argc, char **argv, const struct opt *opts,
	      const struct cmd_help *help, int *nargs)
{
	struct cmd_help h = *help;

	if (cli->describe)
		return cli->describe(cli, opts, help);
	h.alias = cli->alias;
	switch (opt_parse(argc, argv, opts, 0, nargs)) {
	case OPT_OK:
		/* libssh skips a config file it cannot open, silently: the
		 * host's name would then fail to resolve, far from the cause */
		if (cli->ssh_config && access(cli->ssh_config, R_OK) < 0)
			return cmd_usage_error(help, "invalid argument \"%s\" "
					       "for \"--ssh-config\" flag: %s",
					       cli->ssh_config, strerror(errno));
		return -1;
	case OPT_HELP:
		opt_usage(stdout, &h, opts, NULL, opt_term_width(stdout));
		return DM_EXIT_OK;
	case OPT_ERROR:
		break;
	}
	return cmd_flag_error(help);
}

struct ssh_opts cli_ssh_opts(const struct cli *cli)
{
	struct ssh_opts o = { 0 };
	const char *env = getenv("DOCKER_MIGRATE_SSH_CONFIG");
	const char *stall = getenv("DOCKER_MIGRATE_STALL_TIMEOUT");

	/* seconds without progress before a link counts as dead (60) */
	if (stall && atoi(stall) > 0)
		o.stall_timeout_s = atoi(stall);
	o.config_file = cli->ssh_config ? cli->ssh_config
					: (env && *env ? env : NULL);
	return o;
}

char *cli_config_dir(const struct cli *cli)
{
	return docker_config_dir(&cli->g, &cli->env);
}

struct engine *cli_source_engine(struct cli *cli)
{
	struct ssh_opts so = cli_ssh_opts(cli);
	struct endpoint ep;
	struct engine *e;

	if (endpoint_resolve(&cli->g, &cli->env, &ep) < 0)
		return NULL;
	e = engine_from_endpoint(&ep, &so);
	endpoint_release(&ep);
	if (e)
		engine_set_side(e, DM_ERR_SOURCE);
	if (e && engine_connect(e) < 0) {
		engine_free(e);
		return NULL;
	}
	return e;
}

/* A destination named as a node of the source's swarm (by hostname or
 * id): what SSH reaches it by; NULL when it is not one. */
static char *swarm_dest(struct cli *cli, const char *host, const char *cfg)
{
	struct engine *src;
	char *target;
	struct dm_err saved;

	dm_error_save(&saved);
	src = cli_source_engine(cli);
	target = src ? swarm_dest_target(src, host, cfg) : NULL;
	engine_free(src);
	dm_error_restore(&saved);
	return target;
}

struct engine *cli_dest_engine(struct cli *cli, const char *to,
			       struct sshlink **link)
{
	struct ssh_opts so = cli_ssh_opts(cli);
	struct ssh_target t;
	struct engine *e;

	*link = NULL;
	if (!to)
		return dm_error("no destination: use --to [ssh://][USER@]HOST[:PORT]"),
		       NULL;
	if (ssh_target_parse(to, &t) < 0)
		return NULL;
	if (!t.user && !t.port) {
		char *node = swarm_dest(cli, t.host, so.config_file);

		if (node) {
			ssh_target_release(&t);
			dm_debug("%s is a swarm node: reached as %s", to, node);
			if (ssh_target_parse(node, &t) < 0) {
				free(node);
				return NULL;
			}
			free(node);
		}
	}
	*link = sshlink_open(&t, &so);
	ssh_target_release(&t);
	if (!*link)
		return dm_error_as(DM_ERR_DEST), NULL;
	e = engine_over_ssh(*link);
	if (e)
		engine_set_side(e, DM_ERR_DEST);
	if (!e || engine_connect(e) < 0) {
		dm_error_wrap("destination %s", to);
		engine_free(e);
		sshlink_close(*link);
		*link = NULL;
		return NULL;
	}
	return e;
}

int cli_dest_revive(struct cli *cli, const char *to, struct engine **e,
		    struct sshlink **link)
{
	int64_t deadline = dm_now_ms() + 30000;
	int dead;

	if (!*link)
		return 0;
	/* the link's flag can lag behind a session that just broke, and an
	 * engine that restarts drops what it had: ask the engine itself */
	dead = !sshlink_alive(*link);
	if (!dead && *e && engine_connect(*e) == 0)
		goto bound;
	engine_free(*e);
	sshlink_close(*link);
	*e = NULL;
	*link = NULL;
	if (dead)
		fprintf(stderr, "docker migrate: the link to %s died; "
			"reconnecting to clean up there (30 s at most)...\n", to);
	else
		fprintf(stderr, "docker migrate: the engine at %s does not "
			"answer (%s); reconnecting to clean up there (30 s at "
			"most)...\n", to, dm_errmsg());
	for (int tries = 0; tries < 30; tries++) {
		*e = cli_dest_engine(cli, to, link);
		if (*e)
			goto bound;
		if (dm_now_ms() > deadline)
			break;
		sleep(2);
	}
	return dm_error("%s stays unreachable: %s", to, dm_errmsg());
bound:
	/* a request of the dead connection may still run there, holding a
	 * container's lock until that host notices the connection is gone
	 * (sshd's ClientAliveInterval; never, by default): the cleanup's
	 * requests must not wait for it forever */
	engine_set_timeout(*e, 120);
	return 0;
}

int cmd_failed_status(int left)
{
	if (left)
		return DM_EXIT_LEFT;
	if (dm_errkind() == DM_ERR_INTERRUPTED)
		return DM_EXIT_INTERRUPTED;
	return DM_EXIT_FAILED;
}

const char *const format_choices[] = { "json", NULL };

void cmd_set_progress(struct cli *cli, int mode, int quiet)
{
	cli->progress = quiet ? PROGRESS_NONE : mode;
}
