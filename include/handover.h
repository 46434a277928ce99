/*
 * handover.h - one container's move, step by step, for a group move
 * (migrate_project.c) that runs the steps of several containers in one
 * order: the same checks, plan and step functions as "docker migrate
 * container", the undo entries written to the group's one journal.
 */
#ifndef DM_HANDOVER_H
#define DM_HANDOVER_H

#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "migrate.h"

struct handover;
struct migration;
struct plan;
struct sshlink;

/* o->container is the one to move; the engines and the link are
 * borrowed (the group's), jr is the record every step writes its undo
 * entries and bytes to. */
struct handover *handover_new(struct cli *cli, const struct container_opts *o,
			      const char *cfgdir, struct migration *jr,
			      struct engine *src, struct engine *dst,
			      struct sshlink *link);
/* Inspect at the source, check both ends, make the plan. */
int handover_check(struct handover *h);
const struct plan *handover_plan(const struct handover *h);
yajl_val handover_inspect(const struct handover *h);
/* The image's id at the source, and the one the copy's creation names. */
const char *handover_image_id(const struct handover *h);
const char *handover_image_ref(const struct handover *h);
/* Another member's transfer brought the image: only its name is added. */
void handover_image_sent(struct handover *h);
/* Run step i of the plan (not the check). */
int handover_step(struct handover *h, size_t i);
/* --dry-run: what the checks left out, and the image's layers unless
 * another member's transfer brings it (image 0). */
int handover_print_extra(const struct handover *h, int image);
/* The networks missing at the destination that member first creates
 * (it is created before h): h does not create them again. */
void handover_share_networks(struct handover *h,
			     const struct handover *first);
/* The group's destination engine and link, reached again. */
void handover_rebind(struct handover *h, struct engine *dst,
		     struct sshlink *link);
/* The move went through: what served only as transport goes. */
void handover_finish(struct handover *h);
void handover_free(struct handover *h);

#endif
