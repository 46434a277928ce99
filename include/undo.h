/*
 * undo.h - the undo journal of a move (see record.h, struct rec_undo):
 * what each step changed, as the inverse operations that put it back.
 * The run that fails applies it; "docker migrate rollback ID" applies what
 * a run killed outright left.
 */
#ifndef DM_UNDO_H
#define DM_UNDO_H

#include <yajl/yajl_tree.h>

#include "engine.h"
#include "record.h"
#include "sshlink.h"

/* The inverses a step may journal (the op names of the record). */
#define UNDO_START "start-container"		/* source: a stopped source */
#define UNDO_UNPAUSE "unpause-container"	/* source: a frozen one */
#define UNDO_POLICY "restore-restart-policy"	/* source: data = policy */
#define UNDO_CONTAINER "remove-container"	/* by name or id */
#define UNDO_HELPER "remove-helper"		/* a helper container */
#define UNDO_NETWORK "remove-network"
#define UNDO_VOLUME "remove-volume"
#define UNDO_EMPTY "empty-volume"		/* data = its inspect before */
#define UNDO_DIR "remove-dir"			/* destination, over SSH */
#define UNDO_HELPER_IMAGE "remove-helper-image"
#define UNDO_RETAG "retag"			/* data = the image id */
#define UNDO_IMAGE "remove-image"		/* by id, forced */
#define UNDO_UNTAG "untag"
#define UNDO_SERVICE "restore-service"		/* data = its spec before */
#define UNDO_TASKS "remove-service-tasks"	/* arg = the service id */
/* source, arg = the container, data = the checkpoint's name */
#define UNDO_CKPT_START "start-from-checkpoint"	/* or afresh */
#define UNDO_CKPT_REMOVE "remove-checkpoint"

#define UNDO_SOURCE "source"
#define UNDO_DEST "destination"
#define UNDO_MANAGER "manager"			/* a swarm service's */

/* Apply the entries for host not done yet, last first, each marked done
 * (and the record saved) once it took effect.  Entries that fail are
 * warned about and left; -1 if any was.  link: the destination's, for
 * remove-dir (NULL: left). */
int undo_journal(struct migration *m, const char *host, struct engine *e,
		 struct sshlink *link);

/* Journal the removal of the volumes' helper image at each end where it
 * was absent (the first helper loads it: a tool of ours, not to be left
 * by a move that did not happen); once per run, *done says so. */
int undo_journal_helper_image(struct migration *m, int absent_src,
			      int absent_dst, int *done);

/* POST /containers/{id}/update with this RestartPolicy. */
long container_set_restart_policy(struct engine *e, const char *id,
				  yajl_val policy);

#endif
