/*
 * checkpoint.h - the memory state of a container (CRIU through the
 * engine's checkpoint API): what can be checked before anything stops.
 */
#ifndef DM_CHECKPOINT_H
#define DM_CHECKPOINT_H

#include <yajl/yajl_tree.h>

#include "engine.h"

/* 0 if the container's memory can travel; -1 with a message saying why
 * not, the container left (or put back) as it was. */
int checkpoint_probe(struct engine *src, struct engine *dst, yajl_val ins,
		     long timeout_s);

#endif
