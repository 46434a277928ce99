/*
 * plan.h - the plan of a container move as data: an ordered list of steps
 * computed by a pure function from the source's inspect, the user's
 * options and the facts the checks found at both ends.  --dry-run prints
 * it, the runner executes it, the record keeps it.  No I/O here.
 */
#ifndef DM_PLAN_H
#define DM_PLAN_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* In the order of the table in plan.c; the names are those of the
 * record's phases, which tests and the bench read. */
enum step_kind {
	STEP_CHECK,
	STEP_TRANSFER,		/* the image */
	STEP_COPY_VOLUME,	/* a stopped or kept source: the whole copy */
	STEP_VERIFY,		/* ... read back */
	STEP_PRECOPY,		/* a running source: the bulk, before downtime */
	STEP_CREATE,
	STEP_PAUSE_SOURCE,
	STEP_STOP_SOURCE,
	STEP_SYNC,		/* the final pass of one volume */
	STEP_ROOTFS,		/* the container layer, committed and sent */
	STEP_START,
	STEP_CHECKPOINT,	/* --checkpoint: the memory dumped; it stops */
	STEP_CARRY_CHECKPOINT,	/* ... its files to the copy's directory */
	STEP_RESTORE,		/* ... the copy started from them */
	STEP_KINDS
};

const char *step_name(enum step_kind k);

/* One volume (or bind mount copied) as the checks found it. */
struct plan_vol {
	const char *name;	/* the volume, or the bind mount's host path */
	int bind;		/* a bind mount's content (--bind-mounts copy) */
	int ephemeral;		/* a tmpfs: only its settings travel */
	int dest_exists;	/* there already, and empty: kept; 2: our
				 * earlier copy, only what changed goes */
	int64_t size;		/* bytes at the source; -1 unknown */
	int anonymous;		/* the engine names it: made by the create */
};

/* What the checks learned; the planner decides nothing from anything else. */
struct plan_facts {
	const char *dest;		/* --to, as the user wrote it */
	const char *image_ref;
	int image_present;		/* at the destination already */
	int64_t image_bytes;		/* to send if absent: missing layers */
	const struct plan_vol *vols;
	size_t nvols;
	const char *const *nets_missing;	/* user networks to create */
	size_t nnets;
	size_t rootfs_changes;		/* in the container layer, ours excluded */
	int64_t rootfs_bytes;		/* its size; -1 unknown */
	int helper_absent;		/* the volumes' helper image, there */
	size_t anon_volumes;		/* of vols, those the engine names */
};

/* The options that shape the plan (a subset of container_opts). */
struct plan_opts {
	int keep;
	int pause;
	int checkpoint;
	int rootfs;		/* -1: when it changed, 0 never, 1 always */
};

struct step {
	enum step_kind kind;
	size_t vol;		/* index in facts->vols, volume steps only */
	char *object;		/* "volume data", "image web:1", ... */
	int64_t bytes;		/* expected to send; -1: not known before */
	char *creates, *stops, *removes;	/* at either host; NULL: none */
	const char *why;
};

struct plan {
	const char *what;	/* what moves: NULL "container", "service" */
	char *name;		/* the container, without "/" */
	int running;
	int rootfs;		/* the container layer travels */
	int keep, pause, checkpoint;
	int memory;		/* the memory moves: a running source's
				 * checkpoint is restored at the destination */
	int autoremove;		/* --rm: frozen, never stopped early */
	int anon_first;		/* created before its volumes are copied:
				 * the engine makes its anonymous ones */
	struct step *steps;
	size_t n;
	int64_t bytes;		/* the sum of the known estimates */
};

/* 0, or -1 when the inspect has no name; out is to be released either way. */
int plan_make(yajl_val ins, const struct plan_opts *o,
	      const struct plan_facts *f, struct plan *out);
void plan_release(struct plan *p);
/* A new, empty step of kind k at the end of p (for the planners of other
 * kinds of move: plan_service.h). */
struct step *plan_add(struct plan *p, enum step_kind k, size_t vol);

/* --dry-run: the plan as text, or as one JSON document. */
void plan_print(const struct plan *p, const char *source, const char *dest,
		const char *strategy, FILE *out);
void plan_gen(const struct plan *p, const char *source, const char *dest,
	      const char *strategy, yajl_gen g);

#endif
