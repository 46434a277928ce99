/*
 * migrate_checkpoint.c - the steps that move a container's memory (see
 * migrate_checkpoint.h).  The engine restores a container only from its
 * own checkpoints directory (a custom one is refused since Docker 17.12)
 * and no API call reads or writes a checkpoint's files, so they travel
 * as volumes do: a helper container at each end bind-mounts the
 * checkpoint's directory under the engine's data root, and the archive
 * endpoints stream it across, gzip'ed.  Nothing is installed on the
 * hosts, and only the engines are spoken to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "migrate_checkpoint.h"
#include "undo.h"
#include "volstream.h"
#include "volsync.h"
#include "volume.h"

void ckpt_name(struct ckpt_move *c, const char *record_id)
{
	snprintf(c->name, sizeof(c->name), "docker-migrate-%s", record_id);
}

int ckpt_prepare(struct migration *rec, struct engine *src,
		 struct engine *dst, const struct ckpt_move *c,
		 int *helper_journaled)
{
	if (undo_journal_helper_image(rec, c->absent_src, c->absent_dst,
				      helper_journaled) < 0)
		return -1;
	return helper_image_ensure(src) < 0 || helper_image_ensure(dst) < 0
	       ? -1 : 0;
}

int ckpt_step_dump(struct migration *rec, struct engine *src,
		   const char *src_id, struct ckpt_move *c, long timeout_s)
{
	/* applied last first: the source runs again, then its checkpoint
	 * goes; both written before the dump, which may be killed */
	if (record_undo_push(rec, UNDO_CKPT_REMOVE, UNDO_SOURCE, src_id,
			     c->name) < 0)
		return -1;
	c->undo_rm = rec->njournal - 1;
	c->journaled = 1;
	if (record_undo_push(rec, UNDO_CKPT_START, UNDO_SOURCE, src_id,
			     c->name) < 0)
		return -1;
	if (checkpoint_dump(src, src_id, c->name, timeout_s) < 0)
		return dm_error_wrap("checkpoint of the source");
	return 0;
}

static char *carry_helper(struct migration *rec, struct engine *e,
			  const char *id, const char *name, int source,
			  size_t *undo)
{
	char *dir = checkpoint_dir(e, id, name), *h;

	if (!dir)
		return NULL;
	h = helper_create_dir(e, dir, source);
	free(dir);
	if (h && record_undo_push(rec, UNDO_HELPER, source ? UNDO_SOURCE
				  : UNDO_DEST, h, NULL) < 0) {
		helper_remove(e, h);
		free(h);
		return NULL;
	}
	*undo = rec->njournal - 1;
	return h;
}

int ckpt_step_carry(struct migration *rec, struct engine *src,
		    const char *src_id, struct engine *dst, const char *dst_id,
		    struct ckpt_move *c, struct xfer_stats *st)
{
	size_t undo_sh = 0, undo_dh = 0;
	struct volsnap *snap = NULL;
	char digest[65];
	int ret;

	c->sh = carry_helper(rec, src, src_id, c->name, 1, &undo_sh);
	if (!c->sh)
		return -1;
	/* the engine makes the directory, in the copy's own: it goes
	 * with the copy when a rollback removes it */
	c->dh = carry_helper(rec, dst, dst_id, c->name, 0, &undo_dh);
	if (!c->dh)
		return -1;
	ret = volume_copy_snap(src, c->sh, dst, c->dh, digest, st, &snap);
	if (ret < 0)
		return dm_error_wrap("carrying the checkpoint");
	c->size = 0;
	for (size_t i = 0; i < snap->n; i++)
		c->size += snap->e[i].size;
	volsnap_free(snap);
	ckpt_release(src, dst, c);
	record_undo_done(rec, undo_sh);
	record_undo_done(rec, undo_dh);
	return 0;
}

int ckpt_step_restore(struct engine *dst, const char *dst_id,
		      const struct ckpt_move *c)
{
	if (checkpoint_start(dst, dst_id, c->name) < 0)
		return dm_error_wrap("restoring the copy from the checkpoint");
	return 0;
}

void ckpt_done(struct migration *rec, struct engine *src, const char *src_id,
	       struct engine *dst, const char *dst_id, struct ckpt_move *c)
{
	if (checkpoint_remove(dst, dst_id, c->name) < 0)
		dm_warn("cannot remove checkpoint %s of the copy: %s", c->name,
			dm_errmsg());
	if (checkpoint_remove(src, src_id, c->name) < 0)
		dm_warn("cannot remove checkpoint %s at the source: %s",
			c->name, dm_errmsg());
	else if (c->journaled)
		record_undo_done(rec, c->undo_rm);
}

void ckpt_release(struct engine *src, struct engine *dst, struct ckpt_move *c)
{
	if (src && c->sh)
		helper_remove(src, c->sh);
	if (dst && c->dh)
		helper_remove(dst, c->dh);
	free(c->sh);
	free(c->dh);
	c->sh = c->dh = NULL;
}
