/*
 * cmd_version.c - "docker migrate version": the plugin's version and the
 * engine it resolved, so a user can see which engine is the source.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "dm.h"

int cmd_version(int argc, char **argv, struct cli *cli)
{
	static const struct cmd_help help = {
		"migrate version", "[OPTIONS]",
		"Show the plugin version and the source engine it resolved",
		NULL, NULL,
		NULL,
	};
	const char *to = NULL;
	struct opt opts[] = {
		OPT_STRING(0, "to", &to, "HOST",
			   "Also show the engine of this destination",
			   COMPL_HOST),
		OPT_SSH_CONFIG(cli),
		OPT_END(),
	};
	struct sshlink *link = NULL;
	struct engine *src, *dst;
	int nargs, r = cmd_parse(cli, argc, argv, opts, &help, &nargs);

	if (r >= 0 || (r = cmd_check_args(&help, nargs, 0, 0)) >= 0)
		return r;
	printf("docker-migrate %s\n", DM_VERSION);
	src = cli_source_engine(cli);
	if (!src)
		return DM_EXIT_FAILED;
	printf("Source engine:      %s (Docker %s, API %s, %s)\n",
	       engine_name(src), engine_version(src), engine_api(src),
	       engine_os_arch(src));
	engine_free(src);
	if (!to)
		return 0;
	dst = cli_dest_engine(cli, to, &link);
	if (!dst)
		return DM_EXIT_FAILED;
	printf("Destination engine: %s (Docker %s, API %s, %s)\n",
	       engine_name(dst), engine_version(dst), engine_api(dst),
	       engine_os_arch(dst));
	engine_free(dst);
	sshlink_close(link);
	return 0;
}
