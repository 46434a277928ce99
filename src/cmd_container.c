/*
 * cmd_container.c - "docker migrate container CONTAINER --to HOST".
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "dm.h"
#include "migrate.h"
#include "recreate.h"
#include "transfer.h"

int cmd_container(int argc, char **argv, struct cli *cli)
{
	static const struct cmd_help help = {
		"migrate container", "[OPTIONS] CONTAINER",
		"Move a container to another host",
		"The container's image goes to the destination, a copy is "
		"created there from the\nsource's configuration and started; "
		"once it runs (healthy, if it has a\nhealthcheck) the source is "
		"stopped.  Any failure rolls back both sides.",
		"  docker migrate container web --to node2\n"
		"  docker --context edge1 migrate container web --to root@10.0.0.7:2222 --keep\n",
	};
	struct container_opts o = { .strategy = STRATEGY_DEFAULT,
				    .start_timeout_s = 60, .volumes = 1,
				    .rootfs = -1,
				    .checkpoint_timeout_s = 60 };
	const char *progress = NULL;
	int quiet = 0;
	const char *format = NULL, *verify = "all", *binds = NULL;
	static const char *const bind_choices[] = { "copy", "skip", NULL };
	static const char *const verify_choices[] = { "all", "stat", "full",
						       "precopy", NULL };
	struct opt opts[] = {
		OPT_TO(&o.to),
		{ OPT_STRING, 0, "strategy", &o.strategy, "NAME",
		  "How the image travels: delta (default), save, registry, layers", COMPL_CHOICES, strategy_names },
		{ OPT_BOOL, 0, "volumes", &o.volumes, NULL,
		  "Carry the container's volumes: copied while it runs, then "
		  "only what changed after it stops (default true)",
		  COMPL_NONE, NULL },
		{ OPT_STRING, 0, "verify", &verify, "WHEN",
		  "Check volumes after the final pass: what it sent read back, "
		  "the rest being known from the pre-copy (all), what it sent "
		  "by stat and CRC only (stat), the whole tree read back "
		  "(full), or nothing more (precopy)",
		  COMPL_CHOICES, verify_choices },
		{ OPT_BOOL, 0, "pause", &o.pause, NULL,
		  "Freeze the source for the final pass of its volumes and stop "
		  "it once the copy runs: less downtime, but what it had not "
		  "written out when frozen is lost", COMPL_NONE, NULL },
		{ OPT_STRING, 0, "bind-mounts", &binds, "WHAT",
		  "Bind mounts whose path is missing at the destination: copy "
		  "their content there, or skip them (default: refuse)",
		  COMPL_CHOICES, bind_choices },
		{ OPT_BOOL, 0, "rootfs", &o.rootfs, NULL,
		  "Carry the files changed in the container's own layer "
		  "(default: when there are any)", COMPL_NONE, NULL },
		{ OPT_BOOL, 0, "checkpoint", &o.checkpoint, NULL,
		  "Carry the memory state too (CRIU; both engines must run "
		  "with experimental features)", COMPL_NONE, NULL },
		{ OPT_INT, 0, "checkpoint-timeout", &o.checkpoint_timeout_s,
		  "SECONDS", "Give up a checkpoint after this long (60)",
		  COMPL_NONE, NULL },
		{ OPT_BOOL, 0, "keep", &o.keep, NULL,
		  "Leave the source running: a copy, not a move", COMPL_NONE, NULL },
		{ OPT_BOOL, 0, "drop-unmovable", &o.drop_unmovable, NULL,
		  "Leave behind what cannot be carried (devices, missing bind "
		  "mounts, ...)", COMPL_NONE, NULL },
		OPT_DRY_RUN(&o.dry_run),
		{ OPT_INT, 0, "start-timeout", &o.start_timeout_s, "SECONDS",
		  "How long to wait for the copy to run and be healthy (60)",
		  COMPL_NONE, NULL },
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
	if (nargs != 1) {
		fprintf(stderr, "docker migrate container: requires exactly 1 "
			"argument (the container)\nSee 'docker migrate "
			"container --help'.\n");
		return 1;
	}
	if (cmd_set_progress(cli, help.path, progress, quiet) ||
	    cmd_check_to_format(help.path, o.to, format, &o.json))
		return 1;
	if (o.start_timeout_s <= 0) {
		fprintf(stderr, "docker migrate container: --start-timeout "
			"must be positive\n");
		return 1;
	}
	if (strcmp(verify, "all") != 0 && strcmp(verify, "full") != 0 &&
	    strcmp(verify, "stat") != 0 && strcmp(verify, "precopy") != 0) {
		fprintf(stderr, "docker migrate container: --verify takes all, "
			"stat, full or precopy, not \"%s\"\n", verify);
		return 1;
	}
	o.verify_precopy_only = strcmp(verify, "precopy") == 0;
	o.verify_full = strcmp(verify, "full") == 0;
	o.verify_stat = strcmp(verify, "stat") == 0;
	if (binds && strcmp(binds, "copy") != 0 && strcmp(binds, "skip") != 0) {
		fprintf(stderr, "docker migrate container: --bind-mounts takes "
			"copy or skip, not \"%s\"\n", binds);
		return 1;
	}
	o.bind_mode = !binds ? BIND_REFUSE : strcmp(binds, "copy") == 0
		      ? BIND_COPY : BIND_SKIP;
	o.container = argv[0];
	return migrate_container(cli, &o);
}
