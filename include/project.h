/*
 * project.h - the containers of a group move: a Compose project's, found
 * by its label at the source, or those the user named; and the order
 * they start in (what each depends on first).  The ordering is pure.
 */
#ifndef DM_PROJECT_H
#define DM_PROJECT_H

#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "opt.h"

#define COMPOSE_PROJECT_LABEL "com.docker.compose.project"
#define COMPOSE_SERVICE_LABEL "com.docker.compose.service"
#define COMPOSE_DEPENDS_LABEL "com.docker.compose.depends_on"
#define COMPOSE_FILES_LABEL "com.docker.compose.project.config_files"
#define COMPOSE_WORKDIR_LABEL "com.docker.compose.project.working_dir"

struct engine;

/* One container of the group, as its inspect tells it. */
struct member {
	char *name;		/* without the leading "/" */
	char *id;
	char *service;		/* its Compose service; NULL: none */
	struct strlist deps;	/* services, names or ids it needs first */
};

/* What a container needs running before it: the services of its
 * com.docker.compose.depends_on label (SERVICE:CONDITION:RESTART,...),
 * its links' targets and the container whose network it shares. */
void member_deps(yajl_val ins, struct strlist *deps);
/* The member from a container's inspect; -1 when it has no name or id. */
int member_from_inspect(yajl_val ins, struct member *m);
void member_release(struct member *m);

/* order[] gets the members' indexes, each after those it depends on,
 * otherwise in the given order; a dependency outside the group is not
 * waited for.  -1 with a message naming them when they depend on each
 * other in a circle. */
int project_order(const struct member *m, size_t n, size_t *order);

/* The names of the containers labelled with the Compose project at the
 * engine, running or not, sorted; 0 found is an error that says so. */
int project_containers(struct engine *e, const char *project,
		       struct strlist *names);

#endif
