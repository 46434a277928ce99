/*
 * checkpoint.c - can a container's memory go with it, and the engine
 * calls that move it.  Checkpoints need an engine with experimental
 * features and a CRIU that works with the kernel: Debian 12's CRIU 3.17
 * fails on 6.x kernels ("vdso: Failed to fill self vdso symtable"),
 * sid's 4.2.1 works.  So before anything is stopped a probe checkpoint
 * that leaves the container running is taken at the source, and one of
 * a helper container at the destination, each within a time limit;
 * whatever a failed probe did to the container is undone.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoint.h"
#include "dm.h"
#include "json.h"
#include "volume.h"

#define PROBE_ID "docker-migrate-probe"
/* "already exists" clears within half a second here: 10 tries */
#define START_TRIES 10
#define START_GAP_NS (500L * 1000 * 1000)

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
static const char *put_back(struct engine *e, const char *id)
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

/* A checkpoint that leaves id running, then removed: can CRIU dump? */
static int probe_dump(struct engine *e, const char *id, long timeout_s)
{
	char *path = xasprintf("/containers/%s/checkpoints", id);
	long st;

	engine_set_timeout(e, timeout_s);
	st = engine_post_json(e, path, "{\"CheckpointID\":\"" PROBE_ID
			      "\",\"Exit\":false}", NULL);
	engine_set_timeout(e, 0);
	free(path);
	if (st < 0)
		return -1;
	if (checkpoint_remove(e, id, PROBE_ID) < 0)
		dm_warn("cannot remove the probe checkpoint on %s: %s",
			engine_name(e), dm_errmsg());
	return 0;
}

/* The destination has no container of ours yet: a helper container
 * (dm-helper waiting) is dumped instead, then removed. */
static int probe_dest(struct engine *dst, long timeout_s, int absent)
{
	char *id = helper_create_bare(dst);
	int ret;

	if (!id)
		return -1;
	ret = helper_start(dst, id);
	if (ret == 0)
		ret = probe_dump(dst, id, timeout_s);
	{
		struct dm_err why;

		dm_error_save(&why);
		helper_remove(dst, id);
		if (absent) {	/* loaded for the probe: the carry's journal
				 * covers it when it is loaded again */
			char *img = xasprintf("/images/%s", helper_image());

			if (engine_delete(dst, img) < 0)
				dm_clear_error();
			free(img);
		}
		dm_error_restore(&why);
	}
	free(id);
	return ret == 0 ? 0 : -1;
}

/* These engines restore a new container only into a network namespace
 * that exists before it starts: with bridge or none, the restore
 * bind-mounts the container's own before it exists (containerd #12141).
 * Measured (dockerd 28.5, 2026-12-06): a bridge container's checkpoint
 * restores into a copy created with --network host, or with the network
 * of another, running container ("container:HOLDER", the holder on the
 * bridge); but the copy's configuration is then not the source's (its
 * ports and addresses are the holder's, it cannot start without it), so
 * only host-network containers move with their memory. */
static int network_ok(yajl_val ins, const char *name)
{
	const char *mode = json_str(ins, "HostConfig", "NetworkMode", NULL);

	if (dm_streq(mode, "host"))
		return 0;
	return dm_error("%s uses network \"%s\", and these engines restore a "
			"checkpoint only with --network host (containerd "
			"#12141: the restore bind-mounts a network namespace "
			"that does not exist yet): migrate it without "
			"--checkpoint", name, mode ? mode : "default");
}

static int helper_absent(struct engine *e, int *absent)
{
	struct image_info ii;
	int r = image_inspect(e, helper_image(), &ii);

	image_info_release(&ii);
	*absent = r == 0;
	return r < 0 ? -1 : 0;
}

int checkpoint_probe(struct engine *src, struct engine *dst, yajl_val ins,
		     const struct ckpt_opts *o, struct ckpt_move *c)
{
	const char *id = json_str(ins, "Id", NULL);
	const char *name = json_str(ins, "Name", NULL);
	struct dm_err why;

	if (name && name[0] == '/')
		name++;
	if (!json_true(ins, "State", "Running", NULL))
		return dm_error("--checkpoint needs a running container; %s is "
				"not running", name);
	if (o->keep || o->pause)
		return dm_error_kind(DM_ERR_USAGE, "--checkpoint moves the "
				     "process itself: it cannot be combined "
				     "with %s", o->keep ? "--keep" : "--pause");
	if (json_true(ins, "Config", "Tty", NULL))
		return dm_error("%s has a TTY, and containers with a TTY cannot "
				"be checkpointed: migrate it without "
				"--checkpoint", name);
	if (network_ok(ins, name) < 0 || experimental(src, "source") < 0 ||
	    experimental(dst, "destination") < 0)
		return -1;
	if (helper_absent(src, &c->absent_src) < 0 ||
	    helper_absent(dst, &c->absent_dst) < 0)
		return -1;
	if (probe_dump(src, id, o->timeout_s) < 0) {
		const char *how;

		dm_error_save(&why);
		how = put_back(src, id);
		return dm_error_kind(why.kind, "cannot checkpoint %s on the "
				     "source: %s; %s", name, why.msg, how);
	}
	if (probe_dest(dst, o->timeout_s, c->absent_dst) < 0) {
		dm_error_save(&why);
		return dm_error_kind(why.kind, "the destination cannot "
				     "checkpoint a process (CRIU): %s; %s runs "
				     "as before: migrate it without "
				     "--checkpoint", why.msg, name);
	}
	return 0;
}

int checkpoint_dump(struct engine *e, const char *id, const char *name,
		    long timeout_s)
{
	char *path = xasprintf("/containers/%s/checkpoints", id);
	char *body = xasprintf("{\"CheckpointID\":\"%s\",\"Exit\":true}",
			       name);
	long st;

	engine_set_timeout(e, timeout_s);
	st = engine_post_json(e, path, body, NULL);
	engine_set_timeout(e, 0);
	free(body);
	free(path);
	return st < 0 ? -1 : 0;
}

int checkpoint_start(struct engine *e, const char *id, const char *name)
{
	char *path = xasprintf("/containers/%s/start?checkpoint=%s", id, name);
	long st = -1;

	for (int i = 0; i < START_TRIES; i++) {
		if (i)
			nanosleep(&(struct timespec){ 0, START_GAP_NS }, NULL);
		st = engine_post_json(e, path, NULL, NULL);
		if (st >= 0 || !strstr(dm_errmsg(), "already exists"))
			break;
		dm_debug("restore from %s: %s; again", name, dm_errmsg());
	}
	free(path);
	return st < 0 ? -1 : 0;
}

int checkpoint_remove(struct engine *e, const char *id, const char *name)
{
	char *path = xasprintf("/containers/%s/checkpoints/%s", id, name);
	long st = engine_delete(e, path);

	free(path);
	if (st < 0 && (strstr(dm_errmsg(), "No such") ||
		       strstr(dm_errmsg(), "no such") ||
		       strstr(dm_errmsg(), "not exist"))) {
		dm_clear_error();
		return 0;
	}
	return st < 0 ? -1 : 0;
}

char *checkpoint_dir(struct engine *e, const char *id, const char *name)
{
	yajl_val info = NULL;
	const char *root;
	char *dir;

	if (engine_get_json(e, "/info", &info) < 0)
		return NULL;
	root = json_str(info, "DockerRootDir", NULL);
	if (!root || root[0] != '/') {
		yajl_tree_free(info);
		dm_error("%s does not say where its data root is (/info "
			 "DockerRootDir)", engine_name(e));
		return NULL;
	}
	/* where the engine looks for a container's checkpoints, on either
	 * store (measured on dockerd 28.5, overlay2 and containerd) */
	dir = xasprintf("%s/containers/%s/checkpoints/%s", root, id, name);
	yajl_tree_free(info);
	return dir;
}
