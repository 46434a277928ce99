/*
 * complete.c - "__complete", the Docker CLI's completion protocol for
 * plugins (cobra's): the CLI runs "docker-migrate __complete migrate
 * ARGS... PARTIAL" and reads one candidate per line ("value\tdescription")
 * and a last line ":N" with cobra's directive bits.  Flags come from the
 * same tables the parser uses; containers and images come live from the
 * source engine; hosts from the ssh config and known_hosts.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "dm.h"
#include "json.h"
#include "plugin.h"
#include "record.h"

#define DIR_ERROR 1
#define DIR_NOSPACE 2
#define DIR_NOFILE 4

struct compl {
	const char *partial;
	const char *prev;		/* the word before the partial one */
	const char *prefix;		/* "--flag=" when completing its value */
	int nodesc;			/* __completeNoDesc: values only */
};

static void cand(const struct compl *c, const char *v, const char *desc)
{
	if (!dm_starts_with(v, c->partial))
		return;
	if (desc && *desc && !c->nodesc)
		printf("%s%s\t%s\n", c->prefix ? c->prefix : "", v, desc);
	else
		printf("%s%s\n", c->prefix ? c->prefix : "", v);
}

static void hosts_from_file_at(const struct compl *c, const char *path,
			       int depth);
static void hosts_from_known(const struct compl *c, const char *path);

/* "Include FILE..." of an ssh config: as ssh_config(5) reads it, ~ is
 * the home, a relative path is under ~/.ssh, and globs expand.  depth
 * bounds includes that include each other. */
static void hosts_from_include(const struct compl *c, char *rest, int depth)
{
	const char *home = getenv("HOME");
	char *save = NULL, *tok;

	if (depth > 8)
		return;
	while ((tok = strtok_r(rest, " \t\r\n", &save)) != NULL) {
		char *path;
		glob_t g;

		rest = NULL;
		if (tok[0] == '~' && tok[1] == '/' && home)
			path = xasprintf("%s%s", home, tok + 1);
		else if (tok[0] != '/' && home)
			path = xasprintf("%s/.ssh/%s", home, tok);
		else
			path = xstrdup(tok);
		if (glob(path, 0, NULL, &g) == 0) {
			for (size_t i = 0; i < g.gl_pathc; i++)
				hosts_from_file_at(c, g.gl_pathv[i], depth + 1);
			globfree(&g);
		}
		free(path);
	}
}

static void hosts_from_file(const struct compl *c, const char *path, int kh)
{
	if (kh)
		hosts_from_known(c, path);
	else
		hosts_from_file_at(c, path, 0);
}

static void hosts_from_file_at(const struct compl *c, const char *path,
			       int depth)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save);

		if (tok && strcasecmp(tok, "Include") == 0) {
			hosts_from_include(c, save, depth);
			continue;
		}
		if (!tok || strcasecmp(tok, "Host") != 0)
			continue;
		while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL)
			if (!strpbrk(tok, "*?!"))
				cand(c, tok, "ssh config");
	}
	fclose(f);
}

/* known_hosts: "host1,[host2]:port keytype key"; hashed ones skip */
static void hosts_from_known(const struct compl *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *tok = strtok_r(line, " \t", &save);

		if (!tok || tok[0] == '|' || tok[0] == '#' || tok[0] == '@')
			continue;
		for (char *h = strtok_r(tok, ",", &save); h;
		     h = strtok_r(NULL, ",", &save)) {
			if (h[0] == '[') {
				char *e = strchr(h, ']');

				if (e)
					*e = '\0';
				h++;
			}
			cand(c, h, "known host");
		}
	}
	fclose(f);
}

static void complete_hosts(const struct compl *c, struct cli *cli)
{
	const char *home = getenv("HOME");
	const char *cfg = getenv("DOCKER_MIGRATE_SSH_CONFIG");
	char *p;

	if (cli->ssh_config)
		hosts_from_file(c, cli->ssh_config, 0);
	else if (cfg && *cfg)
		hosts_from_file(c, cfg, 0);
	if (!home)
		return;
	p = xasprintf("%s/.ssh/config", home);
	hosts_from_file(c, p, 0);
	free(p);
	p = xasprintf("%s/.ssh/known_hosts", home);
	hosts_from_file(c, p, 1);
	free(p);
}

static void complete_volumes(const struct compl *c, struct engine *e)
{
	yajl_val v = NULL, list;

	if (engine_get_json(e, "/volumes", &v) == 0) {
		list = json_get(v, "Volumes", NULL);
		for (size_t i = 0; i < json_alen(list); i++)
			cand(c, json_str(list->u.array.values[i], "Name", NULL) ?: "",
			     json_str(list->u.array.values[i], "Driver", NULL));
	}
	yajl_tree_free(v);
}

static void complete_engine_list(const struct compl *c, struct cli *cli,
				 enum opt_complete what)
{
	struct engine *e = cli_source_engine(cli);
	yajl_val v = NULL;

	if (!e)
		return;
	if (what == COMPL_VOLUME) {
		complete_volumes(c, e);
		engine_free(e);
		return;
	}
	if (engine_get_json(e, what == COMPL_CONTAINER ? "/containers/json?all=1"
			    : "/images/json", &v) == 0) {
		for (size_t i = 0; i < json_alen(v); i++) {
			yajl_val it = v->u.array.values[i];
			yajl_val names = json_get(it, what == COMPL_CONTAINER
						  ? "Names" : "RepoTags", NULL);
			const char *desc = json_str(it, what == COMPL_CONTAINER
						    ? "Status" : "Id", NULL);

			for (size_t k = 0; k < json_alen(names); k++) {
				yajl_val n = names->u.array.values[k];
				const char *s = YAJL_IS_STRING(n) ? n->u.string : NULL;

				if (!s || strcmp(s, "<none>:<none>") == 0)
					continue;
				cand(c, s[0] == '/' ? s + 1 : s, desc);
			}
		}
	}
	yajl_tree_free(v);
	engine_free(e);
}

/* The Compose projects that have containers at the source, each once,
 * with how many containers it has there. */
static void complete_projects(const struct compl *c, struct cli *cli)
{
	struct engine *e = cli_source_engine(cli);
	struct strlist seen = { 0 };
	yajl_val v = NULL;

	if (!e)
		return;
	if (engine_get_json(e, "/containers/json?all=1&filters=%7B%22label%22"
			    "%3A%5B%22com.docker.compose.project%22%5D%7D",
			    &v) == 0)
		for (size_t i = 0; i < json_alen(v); i++) {
			const char *p = json_str(v->u.array.values[i], "Labels",
						 "com.docker.compose.project",
						 NULL);
			size_t k;

			for (k = 0; p && k < seen.n; k++)
				if (strcmp(seen.v[k], p) == 0)
					break;
			if (p && k == seen.n)
				strlist_add(&seen, p);
		}
	for (size_t k = 0; k < seen.n; k++)
		cand(c, seen.v[k], "Compose project");
	strlist_clear(&seen);
	yajl_tree_free(v);
	engine_free(e);
}

/* The value of a flag: by its completion kind. */
static int complete_value(const struct compl *c, const struct opt *o,
			  struct cli *cli)
{
	switch (o->complete) {
	case COMPL_CHOICES:
		for (const char *const *ch = o->choices; ch && *ch; ch++)
			cand(c, *ch, NULL);
		return DIR_NOFILE;
	case COMPL_HOST:
		complete_hosts(c, cli);
		return DIR_NOFILE;
	case COMPL_FILE:
		return 0;	/* the shell's file completion */
	case COMPL_CONTAINER:
	case COMPL_IMAGE:
	case COMPL_VOLUME:
		complete_engine_list(c, cli, o->complete);
		return DIR_NOFILE;
	default:
		return DIR_NOFILE;
	}
}

static void complete_flags(const struct compl *c, const struct opt *opts)
{
	for (const struct opt *o = opts; o && o->type != OPT_TYPE_END; o++) {
		char *name = xasprintf("--%s", o->long_name);

		cand(c, name, o->help);
		free(name);
	}
	cand(c, "--help", "Print usage");
}

/* The ids of past migrations, newest first, each described by its
 * status and object: all of them (history ID), or those a rollback can
 * finish (rollback ID): interrupted, or failed with something left. */
static void complete_migrations(const struct compl *c, struct cli *cli,
				int undoable)
{
	char *dir = cli_config_dir(cli);
	struct migration *m;
	size_t n;

	record_load_all(dir, &m, &n);
	free(dir);
	for (size_t i = n; i-- > 0;) {
		const char *st = record_shown_status(&m[i]);
		char *desc;

		if (undoable && strcmp(st, "interrupted") != 0 &&
		    (strcmp(st, "failed") != 0 || !record_undo_left(&m[i])))
			continue;
		desc = xasprintf("%s %s %s", st, m[i].kind, m[i].object);

		cand(c, m[i].id, desc);
		free(desc);
	}
	for (size_t i = 0; i < n; i++)
		record_release(&m[i]);
	free(m);
}

/* Called by the subcommand with its flag table (alive only during the
 * call): complete the word from it. */
static int describe(struct cli *cli, const struct opt *opts,
		    const struct cmd_help *help)
{
	struct compl *c = cli->describe_ctx;
	const struct opt *o;
	int directive = DIR_NOFILE;

	cli->describe = NULL;	/* engine look-ups below run for real */
	if (dm_starts_with(c->partial, "--") && strchr(c->partial, '=') &&
	    (o = opt_find(opts, c->partial)) && opt_takes_value(o)) {
		/* --flag=VALUE: candidates keep the "--flag=" in front */
		char *prefix = xstrndup(c->partial,
					(size_t)(strchr(c->partial, '=') -
						 c->partial) + 1);

		c->prefix = prefix;
		c->partial = strchr(c->partial, '=') + 1;
		directive = complete_value(c, o, cli);
		free(prefix);
		c->prefix = NULL;
	} else if (c->prev && (o = opt_find(opts, c->prev)) &&
		   opt_takes_value(o))
		directive = complete_value(c, o, cli);
	else if (c->partial[0] == '-')
		complete_flags(c, opts);
	else if (strstr(help->args, "PROJECT"))
		complete_projects(c, cli);
	else if (strstr(help->args, "CONTAINER"))
		complete_engine_list(c, cli, COMPL_CONTAINER);
	else if (strstr(help->args, "IMAGE"))
		complete_engine_list(c, cli, COMPL_IMAGE);
	else if (strstr(help->args, "VOLUME"))
		complete_engine_list(c, cli, COMPL_VOLUME);
	else if (strstr(help->args, "ID")) {
		/* "history prune" is history's own command */
		if (strcmp(help->path, "migrate history") == 0)
			cand(c, "prune", "Remove the records of finished "
			     "migrations");
		complete_migrations(c, cli, strstr(help->path, "rollback") != NULL);
	}
	printf(":%d\n", directive);
	return 0;
}

/* The Docker CLI drops its global flags when it asks a plugin to
 * complete: "docker __complete --context edge2 migrate container ''" runs
 * "docker-migrate __complete migrate container ''", with neither the flag
 * nor the context in the environment, and names would come from the
 * default engine.  The CLI is our parent: its command line, in /proc,
 * still has them. */
static void globals_from_cli(struct cli *cli, struct opt *globals)
{
	/* static: the flags' values point into it for the process */
	static char buf[8192];
	char *path, *argv[128];
	int argc = 0, start = -1, nargs;
	size_t len;
	FILE *f;

	if (!getenv("DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND"))
		return;	/* not run by the CLI */
	path = xasprintf("/proc/%d/cmdline", (int)getppid());
	f = fopen(path, "r");
	free(path);
	if (!f)
		return;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	for (size_t i = 0; i < len && argc < 127; i += strlen(buf + i) + 1) {
		if (start < 0 && (strcmp(buf + i, "__complete") == 0 ||
				  strcmp(buf + i, "__completeNoDesc") == 0))
			start = argc + 1;
		argv[argc++] = buf + i;
	}
	argv[argc] = NULL;
	if (start < 0 || start >= argc)
		return;
	cli->g.tlsverify = -1;
	plugin_global_opts(&cli->g, globals);
	if (opt_parse(argc - start, argv + start, globals, OPT_STOP_AT_NONOPT,
		      &nargs) != OPT_OK) {
		dm_clear_error();
		return;
	}
	plugin_apply_globals(&cli->g);
}

int cmd_complete(int argc, char **argv, struct cli *cli, int nodesc)
{
	static struct opt globals[GLOBAL_OPTS_MAX];

	struct compl c = { .partial = "", .nodesc = nodesc };
	const struct subcmd *sub = NULL;

	/* argv: "migrate" ARGS... PARTIAL */
	if (argc > 0 && strcmp(argv[0], "migrate") == 0) {
		argc--;
		argv++;
	}
	globals_from_cli(cli, globals);
	if (argc > 0)
		c.partial = argv[argc - 1];
	if (argc > 1)
		c.prev = argv[argc - 2];
	int at = 0;

	for (int i = 0; i < argc - 1 && !sub; i++)
		if ((sub = plugin_find_subcmd(argv[i])))
			at = i;
	if (!sub) {
		for (const struct subcmd *s = plugin_subcmds(); s->name; s++)
			cand(&c, s->name, s->summary);
		printf(":%d\n", DIR_NOFILE);
		return 0;
	}
	cli->describe = describe;
	cli->describe_ctx = &c;
	cli->alias = sub->alias;
	/* a command of the command ("history prune") completes its own
	 * flags: the command is handed that word alone */
	if (at + 1 < argc - 1 && strcmp(sub->name, "history") == 0 &&
	    strcmp(argv[at + 1], "prune") == 0)
		return sub->fn(1, argv + at + 1, cli);
	return sub->fn(0, NULL, cli);
}
