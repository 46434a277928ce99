/*
 * plan_group.h - the plan of a group move (a Compose project, or several
 * containers): each container's own plan (plan.h), its steps put in one
 * order with one downtime window.  Pure: no I/O.
 */
#ifndef DM_PLAN_GROUP_H
#define DM_PLAN_GROUP_H

#include <stddef.h>
#include <stdio.h>

#include "plan.h"

/* The stages of a group move, in the order they run. */
enum group_stage {
	GS_BEFORE,	/* images, volume pre-copies, creates: all still run */
	GS_STOP,	/* the window opens: sources stopped, dependents first */
	GS_FINAL,	/* final passes (and what needs the source stopped) */
	GS_START,	/* copies started, dependencies first, each waited for */
	GS_AFTER,	/* sources that ran on stopped for good */
	GS_STAGES
};

const char *group_stage_name(enum group_stage s);

struct group_step {
	size_t member;		/* index in the plans given */
	size_t step;		/* index in that plan's steps */
	enum group_stage stage;
};

struct plan_group {
	struct group_step *steps;
	size_t n;
	int64_t bytes;		/* the sum of the plans' known estimates */
};

/* Which stage step i of plan p belongs to. */
enum group_stage plan_step_stage(const struct plan *p, size_t i);

/* plans[k] is member k's plan, order[] the start order (project_order);
 * every step but each plan's check (run before the plans are made), and
 * an image's transfer once. */
void plan_group_make(const struct plan *const *plans, size_t n,
		     const size_t *order, struct plan_group *out);
/* Does the group run a step of that kind of that member (an image
 * another member brings is not transferred twice)? */
int plan_group_has(const struct plan_group *g,
		   const struct plan *const *plans, size_t member,
		   enum step_kind kind);
void plan_group_release(struct plan_group *g);

/* --dry-run: the group's steps by stage, and the window's order. */
void plan_group_print(const struct plan_group *g,
		      const struct plan *const *plans, const char *what,
		      const char *source, const char *dest,
		      const char *strategy, FILE *out);

#endif
