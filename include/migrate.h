/*
 * migrate.h - the migrations themselves: the handover of a container and
 * the copy of images, each step recorded, each failure rolled back.
 */
#ifndef DM_MIGRATE_H
#define DM_MIGRATE_H

#include "cmd.h"

/* The registry strategy's flags, shared by container and image. */
struct registry_opts {
	const char *registry;	/* --registry HOST[:PORT] */
	int no_push;		/* --no-push */
	int keep_tag;		/* --keep-tag */
};

struct container_opts {
	const char *container;
	const char *to;
	const char *strategy;
	struct registry_opts reg;
	int keep;		/* leave the source running: a copy */
	int drop_unmovable;	/* drop what cannot be carried */
	int dry_run;
	long start_timeout_s;	/* wait for running/healthy */
	int json;		/* --format json */
	int volumes;		/* carry the container's volumes (default) */
	int verify_precopy_only; /* --verify precopy */
	int verify_full;	/* --verify full: read the whole tree back */
	int verify_stat;	/* --verify stat: stat what the sync sent */
	int bind_mode;		/* --bind-mounts: BIND_REFUSE, _COPY, _SKIP */
	int pause;		/* --pause: freeze, not stop, for the sync */
	int checkpoint;		/* --checkpoint: memory state too */
	int rootfs;		/* container layer: -1 when it changed, 0, 1 */
	long checkpoint_timeout_s;
	struct strlist publish_ip;	/* --publish-ip OLD=NEW */
	long stop_timeout_s;	/* --stop-timeout: -1, the container's own */
	int remove_source;	/* --remove-source: once the copy runs */
};

int migrate_container(struct cli *cli, const struct container_opts *o);

struct image_opts {
	const char *const *images;
	size_t n;
	const char *to;
	const char *strategy;
	struct registry_opts reg;
	int dry_run;
	int json;
};

int migrate_images(struct cli *cli, const struct image_opts *o);

struct image_info;
/* The layers of ref, present or missing at dst, and what each strategy
 * would send (for --dry-run). */
int print_image_plan(struct engine *src, struct engine *dst, const char *ref,
		     const struct image_info *info, int present);

struct volumes_opts {
	const char *const *names;
	size_t n;
	const char *container;	/* its volumes, instead of names */
	const char *to;
	struct strlist renames;	/* SRC=DST */
	int force;		/* replace a non-empty volume of that name */
	int dry_run;
	int json;
};

int migrate_volumes(struct cli *cli, const struct volumes_opts *o);

struct service_opts {
	const char *service;
	const char *to;		/* a swarm node: hostname or id */
	const char *strategy;
	struct registry_opts reg;
	int dry_run;
	int json;
	long stop_timeout_s;	/* the old task stopping */
	long start_timeout_s;	/* the new task running */
};

int migrate_service(struct cli *cli, const struct service_opts *o);

#endif
