/*
 * plan_service.h - the plan of a swarm service's move: the same steps as
 * a container's (plan.h), their objects and effects those of a service.
 * Pure: from the facts the checks found.
 */
#ifndef DM_PLAN_SERVICE_H
#define DM_PLAN_SERVICE_H

#include "plan.h"

struct service_facts {
	const char *service;
	const char *from;		/* the task's node, by hostname */
	const char *dest;		/* the destination node, by hostname */
	const char *dest_id;		/* ... and its id: the placement */
	long long replicas;		/* restored with the placement */
	const char *image_ref;
	int image_present;		/* at the destination node already */
	int64_t image_bytes;
	const struct plan_vol *vols;
	size_t nvols;
	int helper_absent;		/* the helper image, at the destination */
};

/* check, transfer, precopy V..., stop-source (replicas 0), sync V...,
 * start (placed on the destination).  out is to be released. */
int plan_service(const struct service_facts *f, struct plan *out);

#endif
