/*
 * migrate_checkpoint.h - the steps of a container move that carry its
 * memory (--checkpoint): dump at the source, carry the checkpoint's
 * files into the copy's checkpoints directory, restore the copy.  Each
 * journals its inverse (undo.h) before it changes anything.
 */
#ifndef DM_MIGRATE_CHECKPOINT_H
#define DM_MIGRATE_CHECKPOINT_H

#include "checkpoint.h"
#include "record.h"
#include "transfer.h"

/* The checkpoint's name for the move of record id. */
void ckpt_name(struct ckpt_move *c, const char *record_id);

/* Before the downtime: the helper image the carry needs, at both ends,
 * its removal journaled where it was absent unless *helper_journaled. */
int ckpt_prepare(struct migration *rec, struct engine *src,
		 struct engine *dst, const struct ckpt_move *c,
		 int *helper_journaled);

/* The checkpoint that stops src_id: journaled first so that a rollback
 * (or "docker migrate rollback") starts it again from it, or afresh. */
int ckpt_step_dump(struct migration *rec, struct engine *src,
		   const char *src_id, struct ckpt_move *c, long timeout_s);

/* Its files, from the source's data root into the directory of dst_id,
 * through two helper containers (removed once done); bytes into st;
 * the checkpoint's size into c->size. */
int ckpt_step_carry(struct migration *rec, struct engine *src,
		    const char *src_id, struct engine *dst, const char *dst_id,
		    struct ckpt_move *c, struct xfer_stats *st);

/* Start dst_id from the checkpoint. */
int ckpt_step_restore(struct engine *dst, const char *dst_id,
		      const struct ckpt_move *c);

/* The copy runs: the checkpoint is removed at both ends. */
void ckpt_done(struct migration *rec, struct engine *src, const char *src_id,
	       struct engine *dst, const char *dst_id, struct ckpt_move *c);

/* Whatever is left (helpers of a carry cut short). */
void ckpt_release(struct engine *src, struct engine *dst, struct ckpt_move *c);

#endif
