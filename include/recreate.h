/*
 * recreate.h - faithful re-creation of a container elsewhere: from the
 * source's "docker inspect" to the body of POST /containers/create at the
 * destination, keeping every field the user set (the whole Config and
 * HostConfig, not a hand-picked list), and naming what cannot be carried.
 * Pure functions over yajl trees: no I/O, unit-tested.
 */
#ifndef DM_RECREATE_H
#define DM_RECREATE_H

#include <yajl/yajl_tree.h>

#include "opt.h"

struct recreate_in {
	yajl_val inspect;		/* GET /containers/{id}/json */
	const char *image;		/* the reference to create from */
	const struct strlist *missing_binds;	/* host paths absent there */
	int drop_unmovable;		/* drop what cannot be carried */
	int carry_volumes;		/* volumes travel with the container */
	int bind_mode;			/* missing bind sources: BIND_* */
	const char *dst_api;		/* the API version the destination is
					 * spoken to in ("1.41"); NULL: no
					 * limit known */
	const struct strlist *missing_devices;	/* device paths absent
					 * there; NULL: not looked for, and
					 * every device is refused */
	const struct strlist *dest_running;	/* containers running there,
					 * by name: links to them are carried;
					 * NULL: not known, links refused */
};

/* --bind-mounts: what to do with a bind mount whose host path is missing
 * at the destination */
enum { BIND_REFUSE, BIND_COPY, BIND_SKIP };

struct recreate_out {
	char *body;			/* JSON for POST /containers/create */
	struct strlist problems;	/* what stops the migration */
	struct strlist dropped;		/* what was dropped (with the flag) */
	struct strlist networks;	/* user networks it needs, primary first */
	struct strlist extra_nets;	/* networks to connect after create */
	struct strlist extra_bodies;	/* POST /networks/{}/connect bodies */
	struct strlist volumes;		/* volume names it mounts (carried) */
	struct strlist bind_copies;	/* host paths to copy (BIND_COPY) */
	struct strlist bind_skipped;	/* mounts left out (BIND_SKIP) */
};

/* Fills out; returns -1 (with problems listed) when the container cannot
 * move as it is, 0 otherwise. */
int recreate_plan(const struct recreate_in *in, struct recreate_out *out);
void recreate_out_release(struct recreate_out *out);

/* The host paths of the container's bind mounts (to check at the
 * destination before planning). */
void recreate_bind_sources(yajl_val inspect, struct strlist *out);

/* Is this one of the networks every engine has? */
int network_is_builtin(const char *name);

/* The body of POST /networks/create that re-creates a network from its
 * inspect (same driver, options, IPAM, labels, flags). */
char *network_create_body(yajl_val net_inspect);

#endif
