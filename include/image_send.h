/*
 * image_send.h - the image step of a move, whatever moves: the image sent
 * by the chosen strategy unless the destination has it, and everything
 * the load makes there journaled for the rollback (record.h, undo.h).
 */
#ifndef DM_IMAGE_SEND_H
#define DM_IMAGE_SEND_H

#include "record.h"
#include "transfer.h"

struct image_send {
	const struct strategy *strategy;
	struct transfer t;		/* the two engines, ... */
	struct migration *rec;
	const char *ref;		/* its name, the same at both ends */
	const struct image_info *img;	/* at the source */
	int present;			/* at the destination before we began */
	const char *dest;		/* for messages */
	int progress;			/* the CLI's progress mode */
	char *prev_id;			/* ref's image there before, if another */
};

/* What the transfer is expected to send: the layers missing at the
 * destination (save sends the image whole). */
int64_t image_send_estimate(const struct image_send *s);
/* Send it (or tag it there when present); bytes counted in the record. */
int image_send(struct image_send *s);
void image_send_release(struct image_send *s);
/* *id: ref's image id at e, or NULL where it is absent (an id as ref:
 * NULL, nothing to ask). */
int image_id_at(struct engine *e, const char *ref, char **id);

#endif
