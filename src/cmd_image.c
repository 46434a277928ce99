/*
 * cmd_image.c - "docker migrate image IMAGE... --to HOST".
 */
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
		NULL,
	};
	struct image_opts o = { 0 };
	int strategy = STRATEGY_DEFAULT, format = FORMAT_TEXT;
	int progress = PROGRESS_AUTO, quiet = 0;
	struct opt opts[] = {
		OPT_TO(&o.to),
		OPT_ENUM(0, "strategy", &strategy, "NAME",
			 "How the images travel: delta, save, registry, layers",
			 strategy_names),
		OPT_DRY_RUN(&o.dry_run),
		OPT_REGISTRY(&o.reg),
		OPT_FORMAT(&format),
		OPT_PROGRESS(&progress),
		OPT_QUIET(&quiet),
		OPT_SSH_CONFIG(cli),
		OPT_END(),
	};
	int nargs, r = cmd_parse(cli, argc, argv, opts, &help, &nargs);

	if (r >= 0)
		return r;
	if ((r = cmd_check_args(&help, nargs, 1, -1)) >= 0 ||
	    (r = cmd_require_to(&help, o.to)) >= 0 ||
	    (r = cmd_strategy(&help, strategy, &o.reg, &o.strategy)) >= 0)
		return r;
	cmd_set_progress(cli, progress, quiet);
	o.json = format == FORMAT_JSON;
	o.images = (const char *const *)argv;
	o.n = (size_t)nargs;
	return migrate_images(cli, &o);
}
