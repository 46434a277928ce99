/*
 * volseed.h - a volume copied earlier by "docker migrate volumes" and
 * found at the destination by a container (or project) move: recognised
 * by the history, and brought up to date by sending only what changed
 * since that copy, instead of being refused as "not empty".
 */
#ifndef DM_VOLSEED_H
#define DM_VOLSEED_H

#include <stdint.h>

#include "engine.h"
#include "transfer.h"

struct volsnap;

/* 1 and *taken (seconds since the epoch, when it began) when the newest
 * completed "docker migrate volumes" of that source to that destination
 * copied the volume name under its own name; 0 when none did. */
int volume_seed_time(const char *cfgdir, const char *source,
		     const char *dest, const char *name, int64_t *taken);

/* Bring the destination's copy up to date: only the entries changed
 * since taken (by size, type, mtime or link, as the final pass sees
 * them) are sent.  digest gets the source tree's; *deleted is set when
 * entries went at the source (the archive cannot delete: the caller
 * copies the volume again whole).  With snap, *snap gets the
 * destination's tree as of this pass, for a later final pass. */
int volume_update_seed(struct engine *src, const char *src_helper,
		       struct engine *dst, const char *dst_helper,
		       int64_t taken, char digest[65], struct xfer_stats *st,
		       struct volsnap **snap, int *deleted);

#endif
