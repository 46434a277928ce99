/*
 * cmd_volumes.c - "docker migrate volumes VOLUME... --to HOST" and
 * "docker migrate volumes --container CONTAINER --to HOST".
 */
#include <string.h>

#include "cmd.h"
#include "dm.h"
#include "migrate.h"

static int named(char **argv, int n, const char *s, size_t len)
{
	for (int i = 0; i < n; i++)
		if (strlen(argv[i]) == len && strncmp(argv[i], s, len) == 0)
			return 1;
	return 0;
}

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
		NULL,
	};
	struct volumes_opts o = { 0 };
	int progress = PROGRESS_AUTO, quiet = 0, format = FORMAT_TEXT;
	struct opt opts[] = {
		OPT_TO(&o.to),
		OPT_STRING(0, "container", &o.container, "CONTAINER",
			   "Copy the volumes this container mounts",
			   COMPL_CONTAINER),
		OPT_LIST(0, "rename", &o.renames, "SRC=DST",
			 "Name the copy of SRC DST at the destination "
			 "(repeatable)", COMPL_NONE),
		OPT_BOOL(0, "force", &o.force,
			 "Replace a non-empty volume of the same name at the "
			 "destination"),
		OPT_DRY_RUN(&o.dry_run),
		OPT_FORMAT(&format),
		OPT_PROGRESS(&progress),
		OPT_QUIET(&quiet),
		OPT_SSH_CONFIG(cli),
		OPT_END(),
	};
	int nargs, ret, r = cmd_parse(cli, argc, argv, opts, &help, &nargs);

	if (r >= 0)
		return r;
	if (!nargs && !o.container)
		ret = cmd_usage_error(&help, "'docker %s' requires at least 1 "
				      "argument, or --container", help.path);
	else if (nargs && o.container)
		ret = cmd_usage_error(&help, "name volumes, or give "
				      "--container, not both");
	else
		ret = cmd_require_to(&help, o.to);
	if (ret >= 0)
		goto out;
	for (size_t i = 0; i < o.renames.n; i++) {
		const char *eq = strchr(o.renames.v[i], '=');

		if (!eq || eq == o.renames.v[i] || !eq[1]) {
			ret = cmd_usage_error(&help, "--rename takes SRC=DST, "
					      "not \"%s\"", o.renames.v[i]);
			goto out;
		}
		/* named volumes: a --rename of another is a typo */
		if (!o.container && !named(argv, nargs, o.renames.v[i],
					   (size_t)(eq - o.renames.v[i]))) {
			ret = cmd_usage_error(&help, "--rename %s: %.*s is not "
					      "among the volumes named",
					      o.renames.v[i],
					      (int)(eq - o.renames.v[i]),
					      o.renames.v[i]);
			goto out;
		}
	}
	cmd_set_progress(cli, progress, quiet);
	o.json = format == FORMAT_JSON;
	o.names = (const char *const *)argv;
	o.n = (size_t)nargs;
	ret = migrate_volumes(cli, &o);
out:
	strlist_clear(&o.renames);
	return ret;
}
