/*
 * volmove.h - the volumes of a move around its downtime, whatever moves
 * (a container, a swarm service's task): each is made at the destination,
 * copied while the source runs (or whole, when it does not), checked, and
 * after the stop brought up to date by a final pass.  Every change is
 * journaled in the move's record (undo.h) before the next one.
 */
#ifndef DM_VOLMOVE_H
#define DM_VOLMOVE_H

#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "engine.h"
#include "record.h"
#include "sshlink.h"
#include "volsync.h"

/* A volume that travels, or the content of a bind mount copied to the
 * same path (--bind-mounts copy): what the checks found (the first
 * four), then what the steps made of it. */
struct hvol {
	const char *name;
	const char *bind;	/* the host path, for a bind mount */
	yajl_val info;		/* the source's inspect */
	yajl_val was_empty;	/* there before, empty: its inspect */
	char *made;		/* the top directory we made for it there */
	int emptied_journaled;	/* its "empty again" is in the journal */
	char *sh, *dh;		/* helper containers, source and destination */
	struct volsnap *snap;	/* what the pre-copy sent */
	const struct volsync_ops *sync;	/* how the final pass is made */
	char digest[65];
	size_t entries;
};

struct volmove {
	struct engine *src, *dst;
	struct sshlink *link;	/* the destination's: bind mounts' dirs */
	struct migration *rec;	/* bytes counted, inverses journaled */
	const char *dest;	/* the destination, as the user named it */
	const char *owner;	/* "container web": for messages */
	int progress;		/* the CLI's progress mode */
	int running;		/* the source runs while it is copied */
	int keep;		/* ... and goes on running (no final pass) */
	int verify_precopy_only, verify_full, verify_stat;
	int helper_absent, helper_absent_src;	/* the helper image */
	int helper_journaled;
	/* A container created at the destination holds the volumes: a
	 * volume copied again whole must be let go of first (release:
	 * 1 released, 0 nothing held, -1 error) and held again after. */
	int (*release)(void *ctx);
	int (*hold)(void *ctx);
	void *ctx;
};

/* Which ends lack the helper image (asked once, when there are volumes). */
int volmove_helper_check(struct volmove *m);
/* v->name (set) at both ends: at the source it must exist; at the
 * destination absent, or there and empty (then kept, emptied again by a
 * rollback); a volume with content there is a conflict. */
int volmove_check_dest(struct volmove *m, struct hvol *v);
/* Make it there, start the helpers, copy it; from a running source
 * what was sent is kept and checked at once, and unless it keeps
 * running the final pass is chosen. */
int volmove_copy(struct volmove *m, struct hvol *v);
/* After the stop: the final pass, checked as the --verify options say. */
int volmove_sync(struct volmove *m, struct hvol *v);
/* Read the copy back and compare its tree with the source's. */
int volmove_verify(struct volmove *m, struct hvol *v);
/* Remove the helpers and free what v holds. */
void volmove_release(struct volmove *m, struct hvol *v);

#endif
