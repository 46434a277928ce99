/*
 * checkpoint.h - the memory state of a container (CRIU through the
 * engine's checkpoint API): what is checked before anything stops, and
 * the engine calls a move with --checkpoint is made of.  The move's
 * steps (dump, carry, restore) are in migrate_checkpoint.c.
 */
#ifndef DM_CHECKPOINT_H
#define DM_CHECKPOINT_H

#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "engine.h"
#include "record.h"
#include "transfer.h"

/* What a move with --checkpoint keeps between its steps. */
struct ckpt_move {
	char name[48];		/* the checkpoint's name at both ends */
	int absent_src, absent_dst;	/* the helper image, before the probe */
	char *sh, *dh;		/* helper containers of the carry */
	size_t undo_rm;		/* the journal's remove-checkpoint (source) */
	uint64_t size;		/* its files' bytes, once carried */
	int journaled;
};

/* The options the checks need. */
struct ckpt_opts {
	int keep, pause;
	long timeout_s;
};

/* 0 if the container's memory can travel from src to dst; -1 with one
 * line saying why not, the container left (or put back) as it was,
 * running and unpaused.  Fills c->absent_*. */
int checkpoint_probe(struct engine *src, struct engine *dst, yajl_val ins,
		     const struct ckpt_opts *o, struct ckpt_move *c);

/* POST /containers/{id}/checkpoints, the container stopping (Exit). */
int checkpoint_dump(struct engine *e, const char *id, const char *name,
		    long timeout_s);
/* Start id from its checkpoint name; a restore right after a dump may
 * find the engine's content store still holding the last one ("already
 * exists"): retried a few times, half a second apart. */
int checkpoint_start(struct engine *e, const char *id, const char *name);
/* DELETE the checkpoint; a container or checkpoint gone is no error. */
int checkpoint_remove(struct engine *e, const char *id, const char *name);

/* The directory of a container's checkpoint on the engine's host (under
 * the data root /info reports); NULL with an error. */
char *checkpoint_dir(struct engine *e, const char *id, const char *name);

#endif
