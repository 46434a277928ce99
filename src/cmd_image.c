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
	const char *format = NULL;
	struct opt opts[] = {
		{ OPT_STRING, 0, "to", &o.to, "HOST",
		  "Destination: [ssh://][USER@]HOST[:PORT] (required)",
		  COMPL_HOST, NULL },
		{ OPT_STRING, 0, "strategy", &o.strategy, "NAME",
		  "How the images travel: delta (default), save", COMPL_CHOICES, strategy_names },
		{ OPT_BOOL, 0, "dry-run", &o.dry_run, NULL,
		  "Print the plan and change nothing", COMPL_NONE, NULL },
		{ OPT_STRING, 0, "format", &format, "FORMAT",
		  "Print the report as \"json\"", COMPL_CHOICES, NULL },
		{ OPT_STRING, 0, "ssh-config", &cli->ssh_config, "FILE",
		  "Read SSH settings from FILE instead of ~/.ssh/config",
		  COMPL_FILE, NULL },
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
	if (!o.to) {
		fprintf(stderr, "docker migrate image: --to HOST is required\n"
			"See 'docker migrate image --help'.\n");
		return 1;
	}
	if (format && strcmp(format, "json") != 0) {
		fprintf(stderr, "docker migrate image: unknown --format \"%s\" "
			"(use json)\n", format);
		return 1;
	}
	o.json = format != NULL;
	o.images = (const char *const *)argv;
	o.n = (size_t)nargs;
	return migrate_images(cli, &o);
}
