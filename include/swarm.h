/*
 * swarm.h - a swarm as a manager's Engine API shows it: nodes, services
 * and their tasks; and the pure rewriting of a service's spec that places
 * its task on one node.
 */
#ifndef DM_SWARM_H
#define DM_SWARM_H

#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "dm.h"
#include "engine.h"

struct swarm_node {
	char *id;
	char *hostname;		/* Description.Hostname */
	char *addr;		/* Status.Addr: what the manager reaches */
	int ready;		/* Status.State "ready" */
	int active;		/* Spec.Availability "active" */
};
void swarm_node_release(struct swarm_node *n);

/* The engine is a swarm manager: *self its node id.  Otherwise an error
 * that says where services can be moved from. */
int swarm_manager(struct engine *mgr, char **self);
/* A node by hostname or id (what "docker node inspect" takes). */
int swarm_node_find(struct engine *mgr, const char *name, struct swarm_node *n);
/* The SSH target of a node for "--to": its hostname when that resolves
 * (the user's ssh config applies to it as to "ssh HOSTNAME"), its
 * address otherwise. */
char *swarm_node_target(const struct swarm_node *n,
			const char *ssh_config_file);

/* name, given as a destination, when it neither resolves nor is a Host
 * of the ssh config: if e is a manager that knows a node by that hostname
 * or id, the SSH target of that node; else NULL (no error). */
char *swarm_dest_target(struct engine *e, const char *name, const char *cfg);

/* GET /services/{name}: the whole object (ID, Version, Spec). */
int swarm_service_get(struct engine *mgr, const char *name, yajl_val *out);
/* POST /services/{id}/update?version=N with spec (JSON text). */
int swarm_service_update(struct engine *mgr, const char *id, uint64_t version,
			 const char *spec);

/* The service's task that should run (desired state running): its node
 * and container ids (NULL while it has none), its state ("running",
 * "preparing", ...).  0 found, 1 none, -1 error. */
struct swarm_task {
	char *id, *node, *container, *state, *err;
};
void swarm_task_release(struct swarm_task *t);
int swarm_task_current(struct engine *mgr, const char *service,
		       struct swarm_task *t);

/* ---- pure: the spec ---------------------------------------------- */

/* The replicas of a replicated service; -1 for another mode (global,
 * jobs), which a placement on one node cannot mean the same. */
long long service_replicas(yajl_val spec);
/* The spec with replicas (>= 0; -1 keeps them) and its placement pinned
 * to node_id (NULL keeps the constraints): the constraints that name a
 * node (node.id, node.hostname) are replaced by node.id==node_id, every
 * other is kept.  Malloc'd JSON text. */
char *service_spec_placed(yajl_val spec, long long replicas,
			  const char *node_id);
/* The named volumes the task mounts (type volume, a source): into names;
 * what cannot follow the task (anonymous volumes, other drivers than
 * local, bind mounts) into refused, each named. */
struct strlist;
void service_volumes(yajl_val spec, struct strlist *names,
		     struct strlist *refused);

#endif
