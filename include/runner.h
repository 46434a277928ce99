/*
 * runner.h - one runner for every kind of move: a plan's steps (plan.h)
 * executed in order by the move's own dispatcher, each recorded when it
 * begins and ends, with its bytes and how it ended; an interruption is
 * seen between steps.  What a step does, and how a failure is rolled
 * back, is the move's.
 */
#ifndef DM_RUNNER_H
#define DM_RUNNER_H

#include <stdint.h>

#include "plan.h"
#include "record.h"

struct runner {
	struct migration *rec;
	const struct plan *plan;
	int (*dispatch)(void *ctx, const struct step *s);
	void *ctx;
	size_t step0;		/* the plan's first step in the record */
	int64_t ready_at;	/* ms: the start (or restore) step ended (0: none ran) */
	/* optional: called as each step begins, before the test hook */
	void (*before)(void *ctx, const struct step *s);
};

/* The plan's steps into the record; its check (step 0, run before the
 * plan could be made, from check_started on) ends there. */
void runner_record(struct runner *r, int64_t check_started);
/* Steps 1.. in order; -1 at the first that fails, the record's phase
 * left at it. */
int runner_run(struct runner *r);

/* A move failed in the record's current phase: say so on stderr (what
 * is rolled back: whom, "" for all of it), roll back with rollback(ctx),
 * record how it ended and print the report with report(ctx).  The
 * rollback's own failures are warnings: the error the user reads last is
 * the move's, prefixed with the phase, and its kind decides the exit
 * status, which is returned. */
int runner_failed(struct migration *rec, int (*rollback)(void *ctx),
		  void (*report)(void *ctx), void *ctx, const char *whom);

#endif
