/*
 * volcheck.h - the plan of a final pass's check, shared by the two
 * implementations of volsync.h (see there for what the check proves).
 */
#ifndef DM_VOLCHECK_H
#define DM_VOLCHECK_H

#include <stdint.h>

#include "volstream.h"

struct volcheck {
	struct strlist roots;	/* new or changed subtrees: read back */
	const struct tree_entry **dirs;	/* entries to stat (in snap->now) */
	size_t ndirs;
	uint64_t size;		/* of the whole source tree */
	int64_t t0;		/* when the check began, ms */
};

/* Can the pass be checked without the whole tree?  Not without the
 * pre-copy's read-back, nor when entries went that the pass did not
 * remove (the archive's pass cannot). */
int volcheck_possible(const struct volsnap *snap);
/* What to stat and what to read back; every entry left out must be as
 * the read-back found it.  0; 1 no cheap evidence (hard links sent, the
 * root's owner changed); -1 an entry differs.  Release it in any case. */
int volcheck_plan(const struct volsnap *snap, int stat_only,
		  struct volcheck *p);
/* The debug line of a check by stats and reads (t1: the reads began). */
void volcheck_report(const struct volcheck *p, int ret, int64_t t1);
void volcheck_release(struct volcheck *p);

/* Is name roots->v[i] or below one? */
int volcheck_under(const char *name, const struct strlist *roots);
/* An error naming the entry and how it differs; -1. */
int volcheck_differs(const char *name, const char *how);

#endif
