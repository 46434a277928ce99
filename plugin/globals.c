/*
 * globals.c - the Docker CLI's global flags.  The CLI hands them to the
 * plugin verbatim in front of "migrate" (docker -c ctx -l warn migrate
 * ...), so the plugin must parse the same set, with the same spelling, to
 * reach the engine the CLI would reach.
 */
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "plugin.h"

void plugin_global_opts(struct globalopts *g, struct opt *o)
{
	struct globalopts dummy;
	int i = 0;

	if (!g) {
		memset(&dummy, 0, sizeof(dummy));
		g = &dummy;	/* completion only reads names */
	}
	o[i++] = (struct opt)OPT_STRING(0, "config", &g->config_dir, "string",
		"Location of client config files", COMPL_FILE);
	o[i++] = (struct opt)OPT_STRING('c', "context", &g->context, "string",
		"Name of the context to use to connect to the daemon",
		COMPL_CONTEXT);
	o[i++] = (struct opt)OPT_BOOL('D', "debug", &g->debug,
		"Enable debug mode");
	o[i++] = (struct opt)OPT_LIST('H', "host", &g->hosts, "list",
		"Daemon socket to connect to", COMPL_NONE);
	o[i++] = (struct opt)OPT_STRING('l', "log-level", &g->log_level,
		"string", "Set the logging level (\"debug\", \"info\", "
		"\"warn\", \"error\", \"fatal\")", COMPL_NONE);
	o[i++] = (struct opt)OPT_BOOL(0, "tls", &g->tls,
		"Use TLS; implied by --tlsverify");
	o[i++] = (struct opt)OPT_STRING(0, "tlscacert", &g->tlscacert, "string",
		"Trust certs signed only by this CA", COMPL_FILE);
	o[i++] = (struct opt)OPT_STRING(0, "tlscert", &g->tlscert, "string",
		"Path to TLS certificate file", COMPL_FILE);
	o[i++] = (struct opt)OPT_STRING(0, "tlskey", &g->tlskey, "string",
		"Path to TLS key file", COMPL_FILE);
	o[i++] = (struct opt)OPT_BOOL(0, "tlsverify", &g->tlsverify,
		"Use TLS and verify the remote");
	o[i] = (struct opt)OPT_END();
	if (g == &dummy)
		for (int k = 0; k < i; k++)
			o[k].v = (union opt_target){ 0 };
}

void plugin_apply_globals(struct globalopts *g)
{
	/* --tlsverify=false still means "TLS on", as in the CLI: remember
	 * that it was given at all.  Its default is tri-state (-1). */
	g->tlsverify_set = g->tlsverify >= 0;
	if (g->tlsverify < 0)
		g->tlsverify = 0;
	if (g->debug || dm_streq(g->log_level, "debug"))
		dm_debug_enabled = getenv("DOCKER_MIGRATE_TRACE") ? 2 : 1;
}
