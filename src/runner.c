/*
 * runner.c - execute a plan, recording each step (see runner.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "dm.h"
#include "runner.h"

void runner_record(struct runner *r, int64_t check_started)
{
	const struct plan *p = r->plan;

	r->step0 = r->rec->nsteps;
	for (size_t i = 0; i < p->n; i++)
		record_step_add(r->rec, step_name(p->steps[i].kind),
				p->steps[i].object, p->steps[i].bytes);
	r->rec->steps[r->step0].started = check_started;
	record_step_end(r->rec, r->step0, 0, "done");
}

/* One step: recorded when it begins and ends.  An interruption is seen
 * here, between steps, and inside the steps that wait. */
static int run_step(struct runner *r, size_t i, int first_of_phase)
{
	const struct step *st = &r->plan->steps[i];
	struct migration *rec = r->rec;
	uint64_t before = rec->bytes;
	int ret;

	if (first_of_phase)
		record_phase_begin(rec, step_name(st->kind));
	record_step_begin(rec, r->step0 + i);
	if (r->before)
		r->before(r->ctx, st);
	if (dm_cancelled()) {
		ret = dm_error_kind(DM_ERR_INTERRUPTED, "interrupted");
	} else {
		if (first_of_phase)
			dm_test_pause(step_name(st->kind));
		ret = r->dispatch(r->ctx, st);
	}
	record_step_end(rec, r->step0 + i, rec->bytes - before,
			ret == 0 ? "done" : dm_cancelled() ? "interrupted"
			: "failed");
	return ret;
}

int runner_run(struct runner *r)
{
	const struct plan *p = r->plan;

	for (size_t i = 1; i < p->n; i++) {
		enum step_kind k = p->steps[i].kind;

		if (run_step(r, i, k != p->steps[i - 1].kind) < 0)
			return -1;
		if (k == STEP_START || k == STEP_RESTORE)
			r->ready_at = dm_now_ms();
	}
	record_phase_end(r->rec);
	return 0;
}

int runner_failed(struct migration *rec, int (*rollback)(void *ctx),
		  void (*report)(void *ctx), void *ctx, const char *whom)
{
	char *phase = xstrdup(rec->cur_phase);
	struct dm_err why;
	int left;

	dm_error_save(&why);
	/* a step cut short by Ctrl-C may say only how it broke (a pipe, a
	 * stream): the user interrupted, and 130 says so */
	if (why.kind == DM_ERR_FAILED && dm_cancelled())
		why.kind = DM_ERR_INTERRUPTED;
	/* a notice while it runs; the error is main's to print */
	fprintf(stderr, "%s failed; rolling back%s\n", phase, whom);
	left = rollback(ctx) < 0;
	record_fail(rec, left ? "failed" : "rolled-back", why.kind, why.msg);
	report(ctx);
	dm_error_restore(&why);
	dm_error_wrap("%s failed", phase);
	free(phase);
	return cmd_failed_status(left);
}
