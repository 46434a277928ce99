/*
 * volume.h - volumes at an engine, and the helper containers that mount
 * them, through the Engine API only: a helper container mounts the
 * volume (or a bind mount's directory) at DMH_MOUNT, so that its content
 * can be read and written by the engine's archive endpoints or by
 * dm-helper through exec.  How the content travels: volsync.h.
 */
#ifndef DM_VOLUME_H
#define DM_VOLUME_H

#include <yajl/yajl_tree.h>

#include "dmh_proto.h"
#include "engine.h"

/* The helper image: one static program, dm-helper, in a root filesystem
 * the plugin makes and loads itself (no registry, no internet).  Most of
 * its containers never run; those of a container's final pass run
 * "dm-helper wait" and are given commands by exec. */
/* "docker-migrate/helper:<12 hex digits of dm-helper's sha256>": a
 * plugin never uses the helper of another build. */
const char *helper_image(void);

int helper_image_ensure(struct engine *e);
/* Can dm-helper run on e's architecture? */
int helper_can_run(struct engine *e);
/* Start a helper container: it then waits (DMH_WAIT_MAX_S at most)
 * for commands. */
int helper_start(struct engine *e, const char *id);
/* dm-helper argv[1] ... in the running helper id: its stdout to out; a
 * failure is an error saying what (its first line of stderr). */
int helper_run(struct engine *e, const char *id, const char **argv,
	       engine_sink_fn out, void *ctx, const char *what);
/* Does dm-helper answer an exec in that running helper?  Asked before
 * the downtime, so that the final pass knows how it will be made. */
int helper_probe(struct engine *e, const char *id);
/* A created, not started, container with `volume` at /v; NULL on error. */
char *helper_create(struct engine *e, const char *volume, int readonly);
/* The same with a host directory bind-mounted at /v (it must exist): a
 * bind mount's content read and written through the engine, which may be
 * remote, never by the caller. */
char *helper_create_bind(struct engine *e, const char *path, int readonly);
/* The same, the engine making the host directory when it is missing (a
 * checkpoint's directory in a container's data directory). */
char *helper_create_dir(struct engine *e, const char *path, int readonly);
/* A helper container with no mount: something to probe the engine with. */
char *helper_create_bare(struct engine *e);
/* 0, or -1 (with a warning printed) when it could not be removed. */
int helper_remove(struct engine *e, const char *id);

/* GET /volumes/{name}: 1 found, 0 absent, -1 error. */
int volume_inspect(struct engine *e, const char *name, yajl_val *out);
/* Create at e a volume like `vol` (driver, options, labels) named name. */
int volume_create_like(struct engine *e, yajl_val vol, const char *name);
int volume_remove(struct engine *e, const char *name);
/* Make a volume that was empty before a failed copy wrote into it empty
 * again: removed, then created anew from its own inspect of before
 * (driver, options, labels).  Refused by the engine while a container
 * uses it: then -1, the message saying what to do. */
int volume_empty_again(struct engine *e, yajl_val before, const char *name);
/* A tmpfs volume of the local driver: a new, empty tmpfs at every mount,
 * so there is no content to carry (its settings are). */
int volume_is_ephemeral(yajl_val vol);

#endif
