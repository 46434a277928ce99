/*
 * cmd_image.c - "docker migrate image IMAGE... --to HOST".
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "dm.h"
#include "migrate.h"
#include "transfer.h"

int cmd_image(int argc, char **argv, struct cli *cli)
{
	static const struct cmd_help help = {
		"migrate image", "[OPTIONS] IMAGE [IMAGE...]",
		"Copy images to another host",
		"Images the destination already has are not sent again.",
		"  docker migrate image web:1.2 redis:7 --to node2\n",
	};
	struct image_opts o = { .strategy = STRATEGY_DEFAULT };
	const char *progress = NULL;
	int quiet = 0;
	const char *format = NULL;
	struct opt opts[] = {
		OPT_TO(&o.to),
		{ OPT_STRING, 0, "strategy", &o.strategy, "NAME",
		  "How the images travel: delta (default), save, registry, layers", COMPL_CHOICES, strategy_names },
		OPT_DRY_RUN(&o.dry_run),
		OPT_REGISTRY(&o.reg),
		OPT_FORMAT(&format),
		OPT_PROGRESS(&progress),
		OPT_QUIET(&quiet),
		OPT_SSH_CONFIG(cli),
		OPT_END_MARK,
	};
	int nargs, r = cmd_parse(cli, argc, argv, opts, &help, &nargs);

	if (r >= 0)
		return r;
	if (nargs < 1) {
		fprintf(stderr, "docker migrate image: requires at least 1 "
			"argument (an image)\nSee 'docker migrate image "
			"--help'.\n");
		return 1;
	}
	if (cmd_set_progress(cli, help.path, progress, quiet) ||
	    cmd_check_to_format(help.path, o.to, format, &o.json))
		return 1;
	o.images = (const char *const *)argv;
	o.n = (size_t)nargs;
	return migrate_images(cli, &o);
}
