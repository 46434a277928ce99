/*
 * cmd_volumes.c - "docker migrate volumes VOLUME... --to HOST" and
 * "docker migrate volumes --container CONTAINER --to HOST".
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "dm.h"
#include "migrate.h"

int cmd_volumes(int argc, char **argv, struct cli *cli)
{
	static const struct cmd_help help = {
		"migrate volumes", "[OPTIONS] [VOLUME...]",
		"Copy volumes, content and settings, to another host",
		"Each volume is created at the destination with the same name "
		"(or --rename),\ndriver, options and labels; its content is "
		"streamed engine to engine and\nthe tree's digest is compared "
		"on both sides.",
		"  docker migrate volumes pgdata --to node2\n"
		"  docker migrate volumes --container db --to node2 --rename pgdata=pgdata-old\n",
	};
	struct volumes_opts o = { 0 };
	const char *progress = NULL;
	int quiet = 0;
	const char *format = NULL;
	struct opt opts[] = {
		OPT_TO(&o.to),
		{ OPT_STRING, 0, "container", &o.container, "CONTAINER",
		  "Copy the volumes this container mounts", COMPL_CONTAINER, NULL },
		{ OPT_LIST, 0, "rename", &o.renames, "SRC=DST",
		  "Name the copy of SRC DST at the destination (repeatable)",
		  COMPL_NONE, NULL },
		{ OPT_BOOL, 0, "force", &o.force, NULL,
		  "Replace a non-empty volume of the same name at the destination",
		  COMPL_NONE, NULL },
		OPT_DRY_RUN(&o.dry_run),
		OPT_FORMAT(&format),
		OPT_PROGRESS(&progress),
		OPT_QUIET(&quiet),
		OPT_SSH_CONFIG(cli),
		OPT_END_MARK,
	};
	int nargs, ret, r = cmd_parse(cli, argc, argv, opts, &help, &nargs);

	if (r >= 0)
		return r;
	if (!nargs == !o.container) {
		fprintf(stderr, "docker migrate volumes: name volumes, or give "
			"--container, not both\nSee 'docker migrate volumes "
			"--help'.\n");
		ret = 1;
		goto out;
	}
	if (cmd_set_progress(cli, help.path, progress, quiet) ||
	    cmd_check_to_format(help.path, o.to, format, &o.json)) {
		ret = 1;
		goto out;
	}
	for (size_t i = 0; i < o.renames.n; i++) {
		const char *eq = strchr(o.renames.v[i], '=');

		if (!eq || eq == o.renames.v[i] || !eq[1]) {
			fprintf(stderr, "docker migrate volumes: --rename takes "
				"SRC=DST, not \"%s\"\n", o.renames.v[i]);
			ret = 1;
			goto out;
		}
	}
	o.names = (const char *const *)argv;
	o.n = (size_t)nargs;
	ret = migrate_volumes(cli, &o);
out:
	strlist_clear(&o.renames);
	return ret;
}
