/*
 * plan_group.c - one plan for several containers (see plan_group.h).
 * Each container's plan already says what happens before its source
 * stops, in the downtime, and after its copy runs; the group runs every
 * "before" first (so all the bulk moves while everything runs), then
 * opens one window for all: sources stopped with the containers that
 * need others first, every final pass, copies started with what they
 * need first, and only then the sources that still run stopped.
 */
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "plan_group.h"

static const char *const stage_names[GS_STAGES] = {
	[GS_BEFORE] = "before the window",
	[GS_STOP] = "window: stop",
	[GS_FINAL] = "window: final pass",
	[GS_START] = "window: start",
	[GS_AFTER] = "after the window",
};

const char *group_stage_name(enum group_stage s)
{
	return s < GS_STAGES ? stage_names[s] : "?";
}

static int stops(enum step_kind k)
{
	return k == STEP_STOP_SOURCE || k == STEP_PAUSE_SOURCE;
}

static size_t find_start(const struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->steps[i].kind == STEP_START)
			return i;
	return p->n;
}

/* The first stop that comes before the copy starts: the plan's window. */
static size_t find_window(const struct plan *p, size_t start)
{
	for (size_t i = 0; i < start; i++)
		if (stops(p->steps[i].kind))
			return i;
	return start;
}

enum group_stage plan_step_stage(const struct plan *p, size_t i)
{
	size_t start = find_start(p), window = find_window(p, start);

	if (i < window)
		return GS_BEFORE;
	if (i < start)
		return stops(p->steps[i].kind) ? GS_STOP : GS_FINAL;
	if (i == start)
		return GS_START;
	return GS_AFTER;
}

/* An image several members run crosses once: the first member's
 * transfer brings it (its step names it as the others' would). */
static int sent_before(const struct plan_group *g,
		       const struct plan *const *plans, const struct step *st)
{
	if (st->kind != STEP_TRANSFER)
		return 0;
	for (size_t i = 0; i < g->n; i++) {
		const struct step *o = &plans[g->steps[i].member]
					       ->steps[g->steps[i].step];

		if (o->kind == STEP_TRANSFER && dm_streq(o->object, st->object))
			return 1;
	}
	return 0;
}

static void add(struct plan_group *g, size_t member, size_t step,
		enum group_stage s)
{
	g->steps = xrealloc(g->steps, (g->n + 1) * sizeof(*g->steps));
	g->steps[g->n++] = (struct group_step){ member, step, s };
}

void plan_group_make(const struct plan *const *plans, size_t n,
		     const size_t *order, struct plan_group *out)
{
	memset(out, 0, sizeof(*out));
	for (int s = GS_BEFORE; s < GS_STAGES; s++)
		for (size_t k = 0; k < n; k++) {
			/* stopped the other way round: what depends on a
			 * container goes down before it */
			size_t m = s == GS_STOP ? order[n - 1 - k] : order[k];
			const struct plan *p = plans[m];

			for (size_t i = 1; i < p->n; i++)
				if (plan_step_stage(p, i) == (enum group_stage)s &&
				    !sent_before(out, plans, &p->steps[i]))
					add(out, m, i, s);
		}
	for (size_t i = 0; i < out->n; i++) {
		int64_t b = plans[out->steps[i].member]
				    ->steps[out->steps[i].step].bytes;

		if (b > 0)
			out->bytes += b;
	}
}

int plan_group_has(const struct plan_group *g,
		   const struct plan *const *plans, size_t member,
		   enum step_kind kind)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->steps[i].member == member &&
		    plans[member]->steps[g->steps[i].step].kind == kind)
			return 1;
	return 0;
}

void plan_group_release(struct plan_group *g)
{
	free(g->steps);
	memset(g, 0, sizeof(*g));
}

void plan_group_print(const struct plan_group *g,
		      const struct plan *const *plans, const char *what,
		      const char *source, const char *dest,
		      const char *strategy, FILE *out)
{
	char hb[32];
	int stage = -1;

	fprintf(out, "Plan: move %s from %s to %s, strategy %s, one "
		"downtime window\n", what, source, dest, strategy);
	for (size_t i = 0; i < g->n; i++) {
		const struct group_step *gs = &g->steps[i];
		const struct plan *p = plans[gs->member];
		const struct step *st = &p->steps[gs->step];

		if ((int)gs->stage != stage) {
			stage = gs->stage;
			fprintf(out, "  %s:\n", group_stage_name(gs->stage));
		}
		fprintf(out, "  %3zu  %-16s %-13s %-30s %10s\n", i + 1, p->name,
			step_name(st->kind), st->object, st->bytes < 0 ? "?" :
			dm_human_bytes((uint64_t)st->bytes, hb, sizeof(hb)));
		/* a volume's: new there, or brought up to date */
		if (st->kind == STEP_PRECOPY || st->kind == STEP_COPY_VOLUME)
			fprintf(out, "         %s\n", st->why);
	}
	fprintf(out, "  to send: %s, and what changes until the sources "
		"stop\n", dm_human_bytes((uint64_t)g->bytes, hb, sizeof(hb)));
}
