/*
 * migrate_project.h - a group move: every container of a Compose project
 * ("docker migrate project"), or several named ones ("docker migrate
 * container A B C"), in one plan with one downtime window and one journal.
 */
#ifndef DM_MIGRATE_PROJECT_H
#define DM_MIGRATE_PROJECT_H

#include <stddef.h>

#include "migrate.h"

struct group_opts {
	struct container_opts c;	/* the same for every member */
	const char *project;		/* a Compose project, or NULL */
	const char *const *containers;	/* ... else these */
	size_t n;
};

int migrate_group(struct cli *cli, const struct group_opts *o);

#endif
