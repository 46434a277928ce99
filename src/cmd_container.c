/*
 * cmd_container.c - "docker migrate container CONTAINER --to HOST".
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "dm.h"
#include "migrate.h"
#include "migrate_project.h"
#include "precheck.h"
#include "recreate.h"
#include "transfer.h"

/* --publish-ip OLD=NEW: two addresses, as docker run -p takes them. */
static int check_publish_ip(const struct cmd_help *help,
			    const struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		char *old = xstrndup(l->v[i], strcspn(l->v[i], "="));
		const char *eq = strchr(l->v[i], '=');
		int ok = eq && precheck_is_addr(old) && precheck_is_addr(eq + 1);

		free(old);
		if (!ok)
			return cmd_usage_error(help, "--publish-ip takes "
					       "OLD=NEW, two IP addresses, not "
					       "\"%s\"", l->v[i]);
	}
	return -1;
}

int cmd_container(int argc, char **argv, struct cli *cli)
{
	static const struct cmd_help help = {
		"migrate container", "[OPTIONS] CONTAINER [CONTAINER...]",
		"Move a container to another host",
		"The container's image goes to the destination, a copy is "
		"created there from the\nsource's configuration and started; "
		"once it runs (healthy, if it has a\nhealthcheck) the source is "
		"stopped.  Any failure rolls back both sides.\nSeveral containers "
		"move together, with one downtime window (as docker\nmigrate "
		"project does).",
		"  docker migrate container web --to node2\n"
		"  docker --context edge1 migrate container web --to root@10.0.0.7:2222 --keep\n",
		NULL,
	};
	struct container_opts o = { .start_timeout_s = 60, .volumes = 1,
				    .rootfs = -1,
				    .checkpoint_timeout_s = 60,
				    .stop_timeout_s = -1 };
	/* in the order of BIND_REFUSE, BIND_COPY, BIND_SKIP */
	static const char *const bind_choices[] = { "refuse", "copy", "skip",
						     NULL };
	enum { VERIFY_ALL, VERIFY_STAT, VERIFY_FULL, VERIFY_PRECOPY };
	static const char *const verify_choices[] = {
		[VERIFY_ALL] = "all", [VERIFY_STAT] = "stat",
		[VERIFY_FULL] = "full", [VERIFY_PRECOPY] = "precopy", NULL,
	};
	int strategy = STRATEGY_DEFAULT, verify = VERIFY_ALL;
	int binds = BIND_REFUSE, format = FORMAT_TEXT;
	int progress = PROGRESS_AUTO, quiet = 0;
	struct opt opts[] = {
		OPT_TO(&o.to),
		OPT_ENUM(0, "strategy", &strategy, "NAME",
			 "How the image travels: delta, save, registry, layers",
			 strategy_names),
		OPT_BOOL(0, "volumes", &o.volumes,
			 "Carry the container's volumes: copied while it runs, "
			 "then only what changed after it stops; "
			 "--volumes=false leaves them behind"),
		OPT_ENUM(0, "verify", &verify, "WHEN",
			 "Check volumes after the final pass: what it sent read "
			 "back, the rest being known from the pre-copy (all), "
			 "what it sent by stat and CRC only (stat), the whole "
			 "tree read back (full), or nothing more (precopy)",
			 verify_choices),
		OPT_BOOL(0, "pause", &o.pause,
			 "Freeze the source for the final pass of its volumes "
			 "and stop it once the copy runs: less downtime, but "
			 "what it had not written out when frozen is lost"),
		OPT_ENUM(0, "bind-mounts", &binds, "WHAT",
			 "Bind mounts whose path is missing at the destination: "
			 "refuse to move, copy their content there, or skip "
			 "them", bind_choices),
		OPT_BOOL(0, "rootfs", &o.rootfs,
			 "Carry the files changed in the container's own layer; "
			 "unless given, they are carried when there are any, "
			 "and --rootfs=false leaves them behind"),
		OPT_BOOL(0, "checkpoint", &o.checkpoint,
			 "Carry the memory state too: the process goes on "
			 "where it was (CRIU, experimental engines, --network "
			 "host, no TTY)"),
		OPT_SECONDS(0, "checkpoint-timeout", &o.checkpoint_timeout_s,
			    "SECONDS", "Give up a checkpoint after this long",
			    1, 86400),
		OPT_BOOL(0, "keep", &o.keep,
			 "Leave the source running: a copy, not a move"),
		OPT_BOOL(0, "remove-source", &o.remove_source,
			 "Remove the stopped source once its copy runs (its "
			 "volumes and image stay)"),
		OPT_BOOL(0, "drop-unmovable", &o.drop_unmovable,
			 "Leave behind what cannot be carried (devices the "
			 "destination lacks, links to containers not there, "
			 "missing bind mounts, ...), each named in the report"),
		OPT_LIST(0, "publish-ip", &o.publish_ip, "OLD=NEW",
			 "Publish the ports published on address OLD on NEW "
			 "at the destination (repeatable)", COMPL_NONE),
		OPT_DRY_RUN(&o.dry_run),
		OPT_SECONDS('t', "stop-timeout", &o.stop_timeout_s, "SECONDS",
			    "Seconds the source gets to stop before it is "
			    "killed, as docker stop -t; unless given, its own "
			    "stop timeout, else the engine's 10", 0, 86400),
		OPT_SECONDS(0, "start-timeout", &o.start_timeout_s, "SECONDS",
			    "How long to wait for the copy to run and be "
			    "healthy", 1, 86400),
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
	    (r = cmd_strategy(&help, strategy, &o.reg, &o.strategy)) >= 0 ||
	    (r = check_publish_ip(&help, &o.publish_ip)) >= 0 ||
	    /* a group's one journal has no entry for a checkpoint's
	     * inverses: its rollback would leave a dumped source stopped */
	    (nargs > 1 && o.checkpoint &&
	     (r = cmd_usage_error(&help, "--checkpoint moves one container at "
				  "a time")) >= 0)) {
		strlist_clear(&o.publish_ip);
		return r;
	}
	cmd_set_progress(cli, progress, quiet);
	o.json = format == FORMAT_JSON;
	o.verify_precopy_only = verify == VERIFY_PRECOPY;
	o.verify_full = verify == VERIFY_FULL;
	o.verify_stat = verify == VERIFY_STAT;
	o.bind_mode = binds;
	o.container = argv[0];
	if (o.keep && o.remove_source) {
		strlist_clear(&o.publish_ip);
		return cmd_usage_error(&help, "--keep and --remove-source "
				       "contradict each other: choose one");
	}
	if (nargs > 1) {
		struct group_opts g = { .c = o,
					.containers = (const char *const *)argv,
					.n = (size_t)nargs };

		r = migrate_group(cli, &g);
	} else {
		r = migrate_container(cli, &o);
	}
	strlist_clear(&o.publish_ip);
	return r;
}
