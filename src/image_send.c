/*
 * image_send.c - the image step of a move (see image_send.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "image_send.h"
#include "progress.h"
#include "undo.h"

static int journal(struct image_send *s, const char *op, const char *arg,
		   const char *data)
{
	return record_undo_push(s->rec, op, UNDO_DEST, arg, data);
}

int64_t image_send_estimate(const struct image_send *s)
{
	struct delta_plan p;
	int64_t bytes;

	if (s->present)
		return 0;
	bytes = s->img->size;
	if (strcmp(s->strategy->name, "save") == 0)
		return bytes;
	/* sizes and presence only: no read of a containerd store's export */
	if (delta_plan_stream(s->t.src, s->t.dst, s->ref, &p) < 0) {
		dm_clear_error();
		return bytes;
	}
	if (p.sizes) {
		bytes = 0;
		for (size_t k = p.present; k < p.n; k++)
			bytes += p.sizes[k];
	}
	delta_plan_release(&p);
	return bytes;
}

static int tag_at_dest(struct image_send *s)
{
	int r = image_tag_if_missing(s->t.dst, s->img->id, s->ref);

	if (r == 1)
		return journal(s, UNDO_UNTAG, s->ref, NULL);
	return r < 0 ? -1 : 0;
}

int image_id_at(struct engine *e, const char *ref, char **id)
{
	struct image_info di;
	int r;

	if (dm_starts_with(ref, "sha256:"))
		return 0;
	r = image_inspect(e, ref, &di);
	if (r == 1)
		*id = xstrdup(di.id);
	image_info_release(&di);
	return r < 0 ? -1 : 0;
}

/* The id a load will give an image the destination lacks, journaled
 * before the archive's end is sent: the containerd store names it by its
 * manifest, not the source's id, and a process killed while the
 * destination loads never journals what the load's reply says. */
struct will_load {
	struct image_send *s;
	struct strlist ids;
};

static int journal_will_load(void *ctx, const char *id)
{
	struct will_load *w = ctx;

	for (size_t i = 0; i < w->ids.n; i++)
		if (dm_streq(w->ids.v[i], id))
			return 0;
	if (dm_streq(id, w->s->img->id) || dm_streq(id, w->s->prev_id))
		return 0;
	strlist_add(&w->ids, id);
	return journal(w->s, UNDO_IMAGE, id, NULL);
}

int image_send(struct image_send *s)
{
	struct xfer_stats st = { 0 };
	const char *refs[1] = { s->ref };
	struct strlist made = { 0 };
	struct will_load wl = { s, { 0 } };
	struct progress p;
	char *label;
	int ret;

	if (s->present) {
		if (s->progress != PROGRESS_NONE)	/* -q: quiet */
			fprintf(stderr, "Image %s is already at %s: nothing "
				"to send\n", s->ref, s->dest);
		return tag_at_dest(s);
	}
	if (image_id_at(s->t.dst, s->ref, &s->prev_id) < 0)
		return -1;
	/* absent before we began (by the source's id, which a graph
	 * driver store keeps): every tag it gets there is ours, and a
	 * load cut short leaves nothing a forced removal misses */
	if (!dm_streq(s->prev_id, s->img->id) &&
	    journal(s, UNDO_IMAGE, s->img->id, NULL) < 0)
		return -1;
	/* the name was another image's there (an older one, or the
	 * same content under another id on the containerd store):
	 * it goes back to it, after what the load made is removed */
	if (s->prev_id && journal(s, UNDO_RETAG, s->ref, s->prev_id) < 0)
		return -1;
	label = xasprintf("image %s", s->ref);
	/* the save stream is about the image's size, and so is the
	 * export a delta reads (the bar counts what it reads) */
	progress_start(&p, s->progress, label, &st,
		       progress_total_of(s->strategy->name, s->img->size));
	s->t.st = &st;
	s->t.made = &made;
	s->t.will_load = journal_will_load;
	s->t.will_load_ctx = &wl;
	ret = s->strategy->transfer(&s->t, refs, 1);
	/* a failure may come before the export is read */
	engine_prefetch_drop(s->t.src);
	progress_stop(&p);
	free(label);
	s->t.st = NULL;
	s->t.made = NULL;
	s->t.will_load = NULL;
	s->t.will_load_ctx = NULL;
	s->rec->bytes += st.bytes;
	/* what the loads made, by the destination's ids (on the containerd
	 * store not the source's), failed or not: removed first */
	for (size_t i = 0; i < made.n; i++)
		if (journal_will_load(&wl, made.v[i]) < 0)
			ret = -1;
	strlist_clear(&made);
	strlist_clear(&wl.ids);
	return ret;
}

void image_send_release(struct image_send *s)
{
	free(s->prev_id);
	s->prev_id = NULL;
}
