/*
 * space.h - is there room at the destination for what a move sends (see
 * space.c).
 */
#ifndef DM_SPACE_H
#define DM_SPACE_H

#include <stdint.h>

#include "engine.h"
#include "sshlink.h"

/* Room for images of `bytes` in the destination engine's root directory
 * (asked over the link: the Engine API does not say): -1 with the error
 * when there is not; 0 when there is, or when it cannot be told (a
 * warning). */
int space_for_images(struct engine *dst, struct sshlink *link,
		     const char *to, uint64_t bytes);

#endif
