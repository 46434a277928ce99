/*
 * main.c - docker-migrate as a Docker CLI plugin: the metadata the CLI
 * asks for, the CLI's global flags that come in front of "migrate", the
 * table of subcommands, and cancellation (signals, and the CLI closing the
 * plugin socket when the user presses Ctrl-C).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cmd.h"
#include "dm.h"
#include "interrupt.h"
#include "plugin.h"

/* "image" and "volumes" answer to the other number too: docker has
 * "image" and "volume" for its own, and users type either. */
static const struct subcmd subcmds[] = {
	{ "container", cmd_container, "Move a container to another host", NULL },
	{ "project", cmd_project, "Move a Compose project's containers to another host", NULL },
	{ "image", cmd_image, "Copy images to another host", "images" },
	{ "volumes", cmd_volumes, "Copy volumes, content and settings, to another host",
	  "volume" },
	{ "service", cmd_service,
	  "Move a swarm service's task, with its volumes, to another node",
	  NULL },
	{ "history", cmd_history, "List past migrations, newest first, or show one", NULL },
	{ "rollback", cmd_rollback, "Finish the rollback of an interrupted migration", NULL },
	{ "version", cmd_version, "Show the plugin version and the source engine", NULL },
	{ NULL, NULL, NULL, NULL },
};

const struct subcmd *plugin_subcmds(void)
{
	return subcmds;
}

const struct subcmd *plugin_find_subcmd(const char *name)
{
	for (const struct subcmd *c = subcmds; c->name; c++)
		if (strcmp(name, c->name) == 0 || dm_streq(name, c->alias))
			return c;
	return NULL;
}

static const struct cmd_help top_help = {
	"migrate", "COMMAND",
	"Move containers, images and volumes to another Docker host",
	"The source is the engine the Docker CLI talks to (see "
	"--context, --host);\nthe destination is reached over SSH "
	"(--to [ssh://][USER@]HOST[:PORT]).", NULL, NULL,
};

static void print_metadata(void)
{
	/* fixed text: no user input reaches it */
	printf("{\n"
	       "  \"SchemaVersion\": \"0.1.0\",\n"
	       "  \"Vendor\": \"docker-migrate\",\n"
	       "  \"Version\": \"%s\",\n"
	       "  \"ShortDescription\": \"Move containers, images and volumes "
	       "to another Docker host\",\n"
	       "  \"URL\": \"man:docker-migrate(1)\"\n"
	       "}\n", DM_VERSION);
}

static void top_usage(FILE *out)
{
	struct strbuf cmds = STRBUF_INIT;
	struct opt globals[GLOBAL_OPTS_MAX];

	plugin_global_opts(NULL, globals);
	for (const struct subcmd *c = subcmds; c->name; c++)
		sb_addf(&cmds, "  %-11s %s\n", c->name, c->summary);
	opt_usage(out, &top_help, globals, sb_str(&cmds), opt_term_width(out));
	sb_release(&cmds);
}

/* The CLI closes DOCKER_CLI_PLUGIN_SOCKET to ask us to stop. */
static void *watch_cli_socket(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	dm_debug("the Docker CLI closed the plugin socket: cancelling");
	interrupt_from_cli();
	close(fd);
	return NULL;
}

static void connect_cli_socket(void)
{
	const char *name = getenv("DOCKER_CLI_PLUGIN_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	pthread_t t;
	int fd;

	if (!name || !*name || strlen(name) >= sizeof(sa.sun_path))
		return;
	/* "@name" is Go's spelling of an abstract socket */
	memcpy(sa.sun_path, name, strlen(name));
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, len) < 0 ||
	    pthread_create(&t, NULL, watch_cli_socket, (void *)(intptr_t)fd)) {
		dm_debug("cannot watch the plugin socket %s", name);
		close(fd);
		return;
	}
	pthread_detach(t);
}

static int run_command(const struct subcmd *c, int argc, char **argv,
		       struct cli *cli)
{
	cli->alias = c->alias;
	return c->fn(argc, argv, cli);
}

/* "docker migrate help [COMMAND]", "docker help migrate [COMMAND]": the
 * command's help, as its --help prints it. */
static int show_help(int argc, char **argv, struct cli *cli)
{
	static char help_flag[] = "--help";
	char *args[] = { help_flag, NULL };
	const struct subcmd *c;

	if (argc == 0) {
		top_usage(stdout);
		return DM_EXIT_OK;
	}
	c = plugin_find_subcmd(argv[0]);
	if (!c)
		return cmd_usage_error(&top_help, "unknown help topic: %s",
				       argv[0]);
	return run_command(c, 1, args, cli);
}

static int run_subcommand(int argc, char **argv, struct cli *cli)
{
	const struct subcmd *c;

	if (argc == 0 || strcmp(argv[0], "--help") == 0 ||
	    strcmp(argv[0], "-h") == 0) {
		top_usage(stdout);
		return DM_EXIT_OK;
	}
	if (strcmp(argv[0], "help") == 0)
		return show_help(argc - 1, argv + 1, cli);
	c = plugin_find_subcmd(argv[0]);
	if (c)
		return run_command(c, argc - 1, argv + 1, cli);
	return cmd_usage_error(&top_help, "unknown command: docker migrate %s",
			       argv[0]);
}

/* The CLI's flags up to the first argument; -1 to go on, else the exit
 * status (after --help or a bad flag). */
static int parse_globals(int argc, char **argv, const struct opt *globals,
			 int *nargs)
{
	switch (opt_parse(argc, argv, globals, OPT_STOP_AT_NONOPT, nargs)) {
	case OPT_OK:
		return -1;
	case OPT_HELP:
		top_usage(stdout);
		return DM_EXIT_OK;
	case OPT_ERROR:
		break;
	}
	return cmd_flag_error(&top_help);
}

int main(int argc, char **argv)
{
	struct opt globals[GLOBAL_OPTS_MAX];
	struct cli cli;
	int nargs, ret, want_help = 0;

	if (argc >= 2 && strcmp(argv[1], "docker-cli-plugin-metadata") == 0) {
		print_metadata();
		return 0;
	}
	memset(&cli, 0, sizeof(cli));
	docker_env_from_process(&cli.env);
	if (argc >= 2 && (strcmp(argv[1], "__complete") == 0 ||
			  strcmp(argv[1], "__completeNoDesc") == 0)) {
		ret = cmd_complete(argc - 2, argv + 2, &cli,
				   strcmp(argv[1], "__completeNoDesc") == 0);
		/* -H read back from the CLI's command line (complete.c) */
		strlist_clear(&cli.g.hosts);
		return ret;
	}

	argc--;
	argv++;
	cli.g.tlsverify = -1;	/* tri-state: was --tlsverify given? */
	plugin_global_opts(&cli.g, globals);
	if ((ret = parse_globals(argc, argv, globals, &nargs)) >= 0)
		goto out;
	/* "docker help migrate ARGS" runs "docker-migrate help migrate ARGS" */
	if (nargs > 1 && strcmp(argv[0], "help") == 0 &&
	    strcmp(argv[1], "migrate") == 0) {
		argv[1] = argv[0];
		argv++;
		nargs--;
		want_help = 1;
	}
	/* run by the CLI, "migrate" follows its global flags; like cobra's
	 * persistent flags, they may also come right after it */
	if (!want_help && nargs > 0 && strcmp(argv[0], "migrate") == 0) {
		argv++;
		if ((ret = parse_globals(nargs - 1, argv, globals, &nargs)) >= 0)
			goto out;	/* -H given before "migrate" is freed */
	}
	plugin_apply_globals(&cli.g);
	interrupt_install();
	connect_cli_socket();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		ret = DM_EXIT_FAILED;
		dm_error("cannot initialise libcurl");
	} else {
		ret = run_subcommand(nargs, argv, &cli);
		curl_global_cleanup();
	}
	/* the one place a command's error is printed (usage errors print
	 * their usage where they are found, as the Docker CLI's do) */
	if (ret != DM_EXIT_OK && ret != DM_EXIT_USAGE) {
		struct dm_err err;

		dm_error_save(&err);
		if (err.msg[0])
			fprintf(stderr, "docker migrate: %s\n", err.msg);
		dm_debug("the error's kind: %s", dm_errkind_name(err.kind));
	}
out:
	strlist_clear(&cli.g.hosts);
	return ret;
}
