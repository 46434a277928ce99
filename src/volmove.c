/*
 * volmove.c - the volumes of a move around its downtime (see volmove.h):
 * one implementation for every kind of move, so that a container's and a
 * service's volumes are made, copied, checked and rolled back alike.
 */
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "json.h"
#include "progress.h"
#include "transfer.h"
#include "undo.h"
#include "volmove.h"
#include "volume.h"

static int journal(struct volmove *m, const char *op, const char *host,
		   const char *arg, const char *data)
{
	return record_undo_push(m->rec, op, host, arg, data);
}

/* Has the engine the volumes' helper image (1), not (0)? */
static int helper_present(struct engine *e)
{
	struct image_info ii;
	int r = image_inspect(e, helper_image(), &ii);

	image_info_release(&ii);
	return r;
}

int volmove_helper_check(struct volmove *m)
{
	int d = helper_present(m->dst), s = helper_present(m->src);

	if (d < 0 || s < 0)
		return -1;
	m->helper_absent = !d;
	m->helper_absent_src = !s;
	return 0;
}

int volmove_check_dest(struct volmove *m, struct hvol *v)
{
	yajl_val d = NULL;
	char *helper, digest[65];
	size_t entries = 0;
	int f;

	if (volume_inspect(m->src, v->name, &v->info) != 1)
		return dm_error("volume %s of %s is gone from the source",
				v->name, m->owner);
	f = volume_inspect(m->dst, v->name, &d);
	if (f <= 0) {
		yajl_tree_free(d);
		return f < 0 ? -1 : 0;
	}
	/* kept: a rollback leaves it empty again, as it was */
	v->was_empty = d;
	helper = helper_create(m->dst, v->name, 1);
	if (!helper)
		return -1;
	f = volume_digest(m->dst, helper, digest, &entries);
	helper_remove(m->dst, helper);
	free(helper);
	if (f < 0)
		return -1;
	if (entries > 1)
		return dm_error_kind(DM_ERR_CONFLICT, "volume %s already "
				     "exists at %s and is not empty: remove it "
				     "there, or copy it under another name "
				     "with docker migrate volumes --rename",
				     v->name, m->dest);
	return 0;
}

int volmove_verify(struct volmove *m, struct hvol *v)
{
	char back[65];

	if (!v->dh)
		return 0;	/* a tmpfs: nothing was copied */
	/* kept: the final pass is then checked against it */
	if (volume_read_back(m->dst, v->dh, back, &v->entries, v->snap) < 0)
		return -1;
	if (strcmp(back, v->digest) != 0)
		return dm_error("volume %s differs at %s after the copy (tree "
				"digest %.12s, source %.12s)", v->name, m->dest,
				back, v->digest);
	return 0;
}

/* The destination directory of a copied bind mount, made with its
 * missing parents; the top one made is kept for the rollback. */
static int bind_make(struct volmove *m, struct hvol *v)
{
	char *q = sh_quote(v->bind), *cmd;
	struct strbuf out = STRBUF_INIT;
	int ret;

	cmd = xasprintf("p=%s; t=$p; while [ ! -e \"$(dirname -- \"$t\")\" ]; "
			"do t=$(dirname -- \"$t\"); done; if [ -e \"$p\" ]; "
			"then printf E; else mkdir -p -- \"$p\" && "
			"printf 'M%%s' \"$t\"; fi", q);
	ret = sshlink_run(m->link, cmd, &out, 1 << 16);
	if (ret == 0 && out.len > 1 && out.buf[0] == 'M') {
		v->made = xstrdup(sb_str(&out) + 1);
		ret = journal(m, UNDO_DIR, UNDO_DEST, v->made, NULL);
	} else if (ret == 0)
		ret = dm_error("cannot make %s at %s for the bind mount's "
			       "copy (%s)", v->bind, m->dest,
			       out.len && out.buf[0] == 'E' ? "it appeared "
			       "meanwhile" : "mkdir failed");
	free(cmd);
	free(q);
	sb_release(&out);
	return ret;
}

static int bind_unmake(struct volmove *m, struct hvol *v)
{
	char *q = sh_quote(v->made), *cmd = xasprintf("rm -rf -- %s", q);
	struct strbuf out = STRBUF_INIT;
	int ret = sshlink_run(m->link, cmd, &out, 4096);

	free(cmd);
	free(q);
	sb_release(&out);
	if (ret == 0) {
		free(v->made);
		v->made = NULL;
	}
	return ret;
}

/* An empty destination for a copy made again whole. */
static int reset_copy(struct volmove *m, struct hvol *v)
{
	helper_remove(m->dst, v->dh);
	free(v->dh);
	v->dh = NULL;
	if (v->bind) {
		if (bind_unmake(m, v) < 0 || bind_make(m, v) < 0)
			return -1;
		v->dh = helper_create_bind(m->dst, v->bind, 0);
	} else {
		if (volume_remove(m->dst, v->name) < 0 ||
		    volume_create_like(m->dst, v->was_empty ? v->was_empty
				       : v->info, v->name) < 0)
			return -1;
		v->dh = helper_create(m->dst, v->name, 0);
	}
	if (!v->dh)
		return -1;
	return journal(m, UNDO_HELPER, UNDO_DEST, v->dh, NULL);
}

/* Make the volume (or the bind mount's directory) at the destination. */
static int make_dest(struct volmove *m, struct hvol *v)
{
	yajl_val d = NULL;
	int f;

	if (v->bind)
		return bind_make(m, v);
	f = volume_inspect(m->dst, v->name, &d);
	yajl_tree_free(d);
	if (f < 0)
		return -1;
	if (f == 0 && (journal(m, UNDO_VOLUME, UNDO_DEST, v->name, NULL) < 0 ||
		       volume_create_like(m->dst, v->info, v->name) < 0))
		return -1;
	return 0;
}

/* The helper containers that read the source's copy and write the
 * destination's, each journaled once made; an empty volume that was
 * there is journaled to be emptied again before anything is written. */
static int make_helpers(struct volmove *m, struct hvol *v)
{
	if (undo_journal_helper_image(m->rec, m->helper_absent_src,
				      m->helper_absent, &m->helper_journaled) < 0)
		return -1;
	if (v->was_empty && !v->emptied_journaled) {
		char *before = json_text(v->was_empty);
		int r = journal(m, UNDO_EMPTY, UNDO_DEST, v->name, before);

		free(before);
		if (r < 0)
			return -1;
		v->emptied_journaled = 1;
	}
	v->sh = v->bind ? helper_create_bind(m->src, v->bind, 1)
			: helper_create(m->src, v->name, 1);
	if (!v->sh || journal(m, UNDO_HELPER, UNDO_SOURCE, v->sh, NULL) < 0)
		return -1;
	v->dh = v->bind ? helper_create_bind(m->dst, v->bind, 0)
			: helper_create(m->dst, v->name, 0);
	if (!v->dh)
		return -1;
	return journal(m, UNDO_HELPER, UNDO_DEST, v->dh, NULL);
}

int volmove_copy(struct volmove *m, struct hvol *v)
{
	struct xfer_stats st = { 0 };
	struct progress p;
	char *label;
	int ret;

	if (make_dest(m, v) < 0)
		return -1;
	if (!v->bind && volume_is_ephemeral(v->info))
		return 0;	/* settings only: a tmpfs holds nothing */
	if (make_helpers(m, v) < 0)
		return -1;
	v->sync = &volsync_by_archive;
	label = xasprintf("volume %s", v->name);
	progress_start(&p, m->progress, label, &st, 0);
	ret = volume_copy_snap(m->src, v->sh, m->dst, v->dh, v->digest, &st,
			       m->running ? &v->snap : NULL);
	progress_stop(&p);
	free(label);
	m->rec->bytes += st.bytes;
	/* checked now, outside the downtime: what the final pass does not
	 * touch is known to be right */
	if (ret == 0 && m->running)
		ret = volmove_verify(m, v);
	/* chosen now, outside the downtime: dm-helper's final pass needs
	 * both helpers running, the archive's nothing (another
	 * architecture, an engine that refuses) */
	if (ret == 0 && v->snap && !m->keep)
		v->sync = volsync_choose(m->src, v->sh, m->dst, v->dh, v->name);
	return ret;
}

/* The archive endpoint cannot delete: a volume where files were deleted
 * since the pre-copy is copied again whole, into an empty one (which a
 * container holding it must let go of first). */
static int copy_again(struct volmove *m, struct hvol *v,
		      struct xfer_stats *st, int *released)
{
	dm_debug("files were deleted in %s: copying it whole", v->name);
	if (!v->bind && m->release) {
		*released = m->release(m->ctx);
		if (*released < 0)
			return -1;
	}
	if (reset_copy(m, v) < 0)
		return -1;
	return volume_copy(m->src, v->sh, m->dst, v->dh, v->digest, st);
}

int volmove_sync(struct volmove *m, struct hvol *v)
{
	struct xfer_stats st = { 0 };
	int ret, released = 0, deleted = 0;

	if (!v->dh)
		return 0;
	ret = v->snap ? v->sync->final_pass(m->src, v->sh, m->dst, v->dh,
					    v->snap, v->digest, &st, &deleted)
		      : 0;
	if (ret == 0 && deleted)
		ret = copy_again(m, v, &st, &released);
	/* reading the whole tree back costs downtime: what the pass sent is
	 * checked, the rest was by the pre-copy's read-back (--verify full
	 * reads it all, precopy trusts the pass) */
	if (ret == 0 && !deleted && !m->verify_precopy_only &&
	    !m->verify_full) {
		ret = v->sync->check(m->dst, v->dh, v->snap,
				     m->verify_stat, &v->entries);
		if (ret < 0)
			dm_error_wrap("volume %s", v->name);
	} else if (ret == 0) {
		ret = deleted || !m->verify_precopy_only;
	}
	if (ret == 1)
		ret = volmove_verify(m, v);
	m->rec->bytes += st.bytes;
	if (ret == 0 && released == 1 && m->hold)
		ret = m->hold(m->ctx);
	return ret;
}

void volmove_release(struct volmove *m, struct hvol *v)
{
	if (m->src)
		helper_remove(m->src, v->sh);
	if (m->dst)
		helper_remove(m->dst, v->dh);
	free(v->sh);
	free(v->dh);
	free(v->made);
	volsnap_free(v->snap);
	yajl_tree_free(v->info);
	yajl_tree_free(v->was_empty);
	memset(v, 0, sizeof(*v));
}
