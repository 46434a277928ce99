/*
 * cmd_project.c - "docker migrate project NAME --to HOST": every
 * container of a Compose project, in one move with one downtime window.
 */
#include "cmd.h"
#include "dm.h"
#include "migrate_project.h"
#include "recreate.h"
#include "transfer.h"

int cmd_project(int argc, char **argv, struct cli *cli)
{
	static const struct cmd_help help = {
		"migrate project", "[OPTIONS] PROJECT",
		"Move every container of a Compose project to another host",
		"The containers labelled com.docker.compose.project=PROJECT at "
		"the source, running\nor not, move in one plan: images and "
		"volumes are copied while they all run, then\none downtime "
		"window stops them (what depends on another first), sends what\n"
		"changed, and starts the copies in dependency order, each "
		"waited for until it\nruns (healthy, if it has a healthcheck); "
		"only then are the sources stopped.\nLabels and names are kept: "
		"docker compose -p PROJECT manages them there.\nAny failure "
		"rolls back every container.",
		"  docker migrate project shop --to node2\n"
		"  docker migrate project shop --to node2 --dry-run\n",
		NULL,
	};
	struct group_opts o = { .c = { .start_timeout_s = 60, .volumes = 1,
				       .rootfs = -1,
				       .checkpoint_timeout_s = 60 } };
	static const char *const bind_choices[] = { "refuse", "copy", "skip",
						     NULL };
	int strategy = STRATEGY_DEFAULT, binds = BIND_REFUSE;
	int format = FORMAT_TEXT, progress = PROGRESS_AUTO, quiet = 0;
	struct opt opts[] = {
		OPT_TO(&o.c.to),
		OPT_ENUM(0, "strategy", &strategy, "NAME",
			 "How the images travel: delta, save, registry, layers",
			 strategy_names),
		OPT_BOOL(0, "volumes", &o.c.volumes,
			 "Carry the containers' volumes: copied while they run, "
			 "then only what changed in the window; "
			 "--volumes=false leaves them behind"),
		OPT_BOOL(0, "pause", &o.c.pause,
			 "Freeze the sources for the final pass instead of "
			 "stopping them, and stop them once the copies run"),
		OPT_ENUM(0, "bind-mounts", &binds, "WHAT",
			 "Bind mounts whose path is missing at the destination: "
			 "refuse to move, copy their content there, or skip "
			 "them", bind_choices),
		OPT_BOOL(0, "rootfs", &o.c.rootfs,
			 "Carry the files changed in the containers' own "
			 "layers; unless given, when there are any"),
		OPT_BOOL(0, "keep", &o.c.keep,
			 "Leave the sources running: a copy, not a move"),
		OPT_BOOL(0, "drop-unmovable", &o.c.drop_unmovable,
			 "Leave behind what cannot be carried (devices, "
			 "missing bind mounts, ...)"),
		OPT_DRY_RUN(&o.c.dry_run),
		OPT_SECONDS(0, "start-timeout", &o.c.start_timeout_s, "SECONDS",
			    "How long to wait for each copy to run and be "
			    "healthy", 1, 86400),
		OPT_REGISTRY(&o.c.reg),
		OPT_FORMAT(&format),
		OPT_PROGRESS(&progress),
		OPT_QUIET(&quiet),
		OPT_SSH_CONFIG(cli),
		OPT_END(),
	};
	int nargs, r = cmd_parse(cli, argc, argv, opts, &help, &nargs);

	if (r >= 0)
		return r;
	if ((r = cmd_check_args(&help, nargs, 1, 1)) >= 0 ||
	    (r = cmd_require_to(&help, o.c.to)) >= 0 ||
	    (r = cmd_strategy(&help, strategy, &o.c.reg, &o.c.strategy)) >= 0)
		return r;
	cmd_set_progress(cli, progress, quiet);
	o.c.json = format == FORMAT_JSON;
	o.c.bind_mode = binds;
	o.project = argv[0];
	return migrate_group(cli, &o);
}
