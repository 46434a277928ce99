/*
 * cmd_service.c - "docker migrate service SERVICE --to NODE".
 */
#include "cmd.h"
#include "dm.h"
#include "migrate.h"
#include "transfer.h"

int cmd_service(int argc, char **argv, struct cli *cli)
{
	static const struct cmd_help help = {
		"migrate service", "[OPTIONS] SERVICE",
		"Move a swarm service's task, with its volumes, to another node",
		"Run against a swarm manager (its context or -H).  The task's "
		"local volumes are\ncopied to NODE while it runs; then the "
		"service is scaled to nothing, what\nchanged is copied, and "
		"the service is placed on NODE (constraint node.id==ID)\nwith "
		"its replica back.  Any failure puts the service back on its "
		"node.",
		"  docker --context manager1 migrate service db --to node3\n",
		NULL,
	};
	struct service_opts o = { .start_timeout_s = 120,
				  .stop_timeout_s = 60 };
	int strategy = STRATEGY_DEFAULT, format = FORMAT_TEXT;
	int progress = PROGRESS_AUTO, quiet = 0;
	struct opt opts[] = {
		OPT_STRING(0, "to", &o.to, "NODE",
			   "Destination swarm node: its hostname or id "
			   "(required)", COMPL_HOST),
		OPT_ENUM(0, "strategy", &strategy, "NAME",
			 "How the image travels: delta, save, registry, layers",
			 strategy_names),
		OPT_DRY_RUN(&o.dry_run),
		OPT_SECONDS(0, "stop-timeout", &o.stop_timeout_s, "SECONDS",
			    "How long to wait for the task to stop", 1, 86400),
		OPT_SECONDS(0, "start-timeout", &o.start_timeout_s, "SECONDS",
			    "How long to wait for the task to run on NODE", 1,
			    86400),
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
	if ((r = cmd_check_args(&help, nargs, 1, 1)) >= 0 ||
	    (r = cmd_require_to(&help, o.to)) >= 0 ||
	    (r = cmd_strategy(&help, strategy, &o.reg, &o.strategy)) >= 0)
		return r;
	cmd_set_progress(cli, progress, quiet);
	o.json = format == FORMAT_JSON;
	o.service = argv[0];
	return migrate_service(cli, &o);
}
