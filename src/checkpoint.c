/*
 * checkpoint.c - can a container's memory go with it?  Checkpoints need
 * an engine with experimental features and a CRIU that works with the
 * kernel; on these hosts CRIU 3.17 fails on 6.x kernels ("vdso: Failed to
 * fill self vdso symtable") and a newer one was seen to hang, leaving the
 * container frozen.  So before anything is stopped, a probe checkpoint that
 * leaves the container running is taken within a time limit, and whatever
 * it did to the container is undone if it fails.
 */
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "dm.h"
#include "json.h"

#define PROBE_ID "docker-migrate-probe"

static int experimental(struct engine *e, const char *side)
{
	yajl_val info = NULL;
	int ok;

	if (engine_get_json(e, "/info", &info) < 0)
		return -1;
	ok = json_true(info, "ExperimentalBuild", NULL);
	yajl_tree_free(info);
	if (!ok)
		return dm_error("--checkpoint needs the %s engine (%s) to run "
				"with experimental features (dockerd "
				"--experimental)", side, engine_name(e));
	return 0;
}

/* Put the container back as it was: a failed CRIU may leave it frozen. */
static const char *restore(struct engine *e, const char *id)
{
	char *path = xasprintf("/containers/%s/json", id);
	yajl_val v = NULL;
	const char *how = "it is running as before";
	long st;

	engine_set_timeout(e, 30);
	if (engine_get_json(e, path, &v) < 0) {
		how = "its state could not be read back";
	} else if (json_true(v, "State", "Paused", NULL)) {
		free(path);
		path = xasprintf("/containers/%s/unpause", id);
		st = engine_post_json(e, path, NULL, NULL);
		how = st < 0 ? "it is left PAUSED: unpause it by hand"
			     : "it was unpaused and runs as before";
	} else if (!json_true(v, "State", "Running", NULL)) {
		free(path);
		path = xasprintf("/containers/%s/start", id);
		st = engine_post_json(e, path, NULL, NULL);
		how = st < 0 ? "it is left STOPPED: start it by hand"
			     : "it was restarted";
	}
	engine_set_timeout(e, 0);
	yajl_tree_free(v);
	free(path);
	return how;
}

int checkpoint_probe(struct engine *src, struct engine *dst, yajl_val ins,
		     long timeout_s)
{
	const char *id = json_str(ins, "Id", NULL);
	const char *name = json_str(ins, "Name", NULL);
	struct dm_err why;
	char *path;
	long st;

	if (name && name[0] == '/')
		name++;
	if (!json_true(ins, "State", "Running", NULL))
		return dm_error("--checkpoint needs a running container; %s is "
				"not running", name);
	if (json_true(ins, "Config", "Tty", NULL))
		return dm_error("%s has a TTY, and containers with a TTY cannot "
				"be checkpointed: migrate it without "
				"--checkpoint", name);
	if (experimental(src, "source") < 0 ||
	    experimental(dst, "destination") < 0)
		return -1;
	path = xasprintf("/containers/%s/checkpoints", id);
	engine_set_timeout(src, timeout_s);
	st = engine_post_json(src, path, "{\"CheckpointID\":\"" PROBE_ID
			      "\",\"Exit\":false}", NULL);
	engine_set_timeout(src, 0);
	free(path);
	if (st < 0) {
		const char *put_back;

		dm_error_save(&why);
		put_back = restore(src, id);
		return dm_error_kind(why.kind, "cannot checkpoint %s on the "
				     "source: %s; %s", name, why.msg, put_back);
	}
	path = xasprintf("/containers/%s/checkpoints/" PROBE_ID, id);
	if (engine_delete(src, path) < 0)
		dm_warn("cannot remove the probe checkpoint of %s: %s", name,
			dm_errmsg());
	free(path);
	/* the engines can do it; carrying the images is the part that
	 * could not be built here (CRIU fails on this kernel): say so */
	return dm_error("the source can checkpoint %s, but carrying a "
			"checkpoint to another host is not supported yet: "
			"migrate it without --checkpoint", name);
}
