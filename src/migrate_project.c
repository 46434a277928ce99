/*
 * migrate_project.c - move several containers together (see
 * migrate_project.h).  Each member is checked and planned as "docker
 * migrate container" would (handover.h); plan_group.c puts the steps of
 * all in one order with one downtime window; the runner here executes
 * them, every change journaled in the group's one record, so that any
 * failure (or Ctrl-C) rolls every member back at both hosts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose_files.h"
#include "dm.h"
#include "engine.h"
#include "handover.h"
#include "json.h"
#include "lock.h"
#include "migrate_project.h"
#include "plan.h"
#include "plan_group.h"
#include "project.h"
#include "record.h"
#include "runner.h"
#include "sshlink.h"
#include "transfer.h"
#include "undo.h"

struct group {
	struct cli *cli;
	const struct group_opts *o;
	char *cfgdir;
	struct engine *src, *dst;
	struct sshlink *link;
	struct strlist names;
	size_t n;
	struct container_opts *opts;	/* each member's, container set */
	struct handover **hs;
	struct member *members;
	size_t *order;
	const struct plan **plans;
	struct plan_group plan;
	int *locks;
	struct migration rec;
	int began;
	size_t step0;
	int64_t check_started;
	int64_t window_opened, ready_at;	/* ms, monotonic */
};

/* ------------------------------------------------------------------ */
/* check and plan                                                      */

static int find_members(struct group *g)
{
	if (g->o->project)
		return project_containers(g->src, g->o->project, &g->names);
	for (size_t i = 0; i < g->o->n; i++) {
		for (size_t j = 0; j < g->names.n; j++)
			if (dm_streq(g->names.v[j], g->o->containers[i]))
				return dm_error("container %s is named twice",
						g->o->containers[i]);
		strlist_add(&g->names, g->o->containers[i]);
	}
	return 0;
}

static int check_members(struct group *g)
{
	g->n = g->names.n;
	g->opts = xcalloc(g->n, sizeof(*g->opts));
	g->hs = xcalloc(g->n, sizeof(*g->hs));
	g->members = xcalloc(g->n, sizeof(*g->members));
	g->order = xcalloc(g->n, sizeof(*g->order));
	g->plans = xcalloc(g->n, sizeof(*g->plans));
	for (size_t i = 0; i < g->n; i++) {
		g->opts[i] = g->o->c;
		g->opts[i].container = g->names.v[i];
		g->hs[i] = handover_new(g->cli, &g->opts[i], g->cfgdir, &g->rec,
					g->src, g->dst, g->link);
		if (handover_check(g->hs[i]) < 0 ||
		    member_from_inspect(handover_inspect(g->hs[i]),
					&g->members[i]) < 0)
			return dm_error_wrap("container %s", g->names.v[i]);
		g->plans[i] = handover_plan(g->hs[i]);
	}
	if (project_order(g->members, g->n, g->order) < 0)
		return -1;
	/* each network is created once, by the first member created */
	for (size_t k = 1; k < g->n; k++)
		for (size_t j = 0; j < k; j++)
			handover_share_networks(g->hs[g->order[k]],
						g->hs[g->order[j]]);
	plan_group_make(g->plans, g->n, g->order, &g->plan);
	return 0;
}

/* One migration of a container at a time: every member's lock. */
static int lock_members(struct group *g)
{
	g->locks = xcalloc(g->n, sizeof(*g->locks));
	for (size_t i = 0; i < g->n; i++)
		g->locks[i] = -1;
	for (size_t i = 0; i < g->n; i++) {
		char *key = xasprintf("%s/%s", engine_name(g->src),
				      g->members[i].id);

		g->locks[i] = migration_lock(g->cfgdir, key, g->members[i].name);
		free(key);
		if (g->locks[i] < 0)
			return -1;
	}
	return 0;
}

static char *group_object(const struct group *g)
{
	struct strbuf sb = STRBUF_INIT;

	if (g->o->project)
		return xstrdup(g->o->project);
	for (size_t i = 0; i < g->names.n; i++)
		sb_addf(&sb, "%s%s", i ? "," : "", g->names.v[i]);
	return sb_detach(&sb);
}

/* ------------------------------------------------------------------ */
/* --dry-run                                                           */

static int print_plan(struct group *g)
{
	char *what;
	int ret = 0;

	if (g->o->c.json) {
		yajl_gen y = yajl_gen_alloc(NULL);
		const unsigned char *buf;
		size_t len;

		yajl_gen_config(y, yajl_gen_beautify, 1);
		yajl_gen_map_open(y);
		json_gen_str(y, "window");
		yajl_gen_array_open(y);
		for (size_t i = 0; i < g->plan.n; i++) {
			const struct group_step *gs = &g->plan.steps[i];
			const struct plan *p = g->plans[gs->member];

			yajl_gen_map_open(y);
			json_gen_str(y, "stage");
			json_gen_str(y, group_stage_name(gs->stage));
			json_gen_str(y, "container");
			json_gen_str(y, p->name);
			json_gen_str(y, "step");
			json_gen_str(y, step_name(p->steps[gs->step].kind));
			json_gen_str(y, "object");
			json_gen_str(y, p->steps[gs->step].object);
			yajl_gen_map_close(y);
		}
		yajl_gen_array_close(y);
		json_gen_str(y, "containers");
		yajl_gen_array_open(y);
		for (size_t k = 0; k < g->n; k++)
			plan_gen(g->plans[g->order[k]], engine_name(g->src),
				 g->o->c.to, g->o->c.strategy, y);
		yajl_gen_array_close(y);
		yajl_gen_map_close(y);
		yajl_gen_get_buf(y, &buf, &len);
		fwrite(buf, 1, len, stdout);
		yajl_gen_free(y);
		return 0;
	}
	what = g->o->project ? xasprintf("Compose project %s (%zu containers)",
					 g->o->project, g->n)
			     : xasprintf("%zu containers", g->n);
	plan_group_print(&g->plan, g->plans, what, engine_name(g->src),
			 g->o->c.to, g->o->c.strategy, stdout);
	free(what);
	printf("  start order:");
	for (size_t k = 0; k < g->n; k++)
		printf(" %s", g->members[g->order[k]].name);
	printf("\n");
	if (g->o->project)
		ret = compose_files_carry(handover_inspect(g->hs[g->order[0]]),
					  g->link, g->o->c.to, NULL);
	for (size_t k = 0; k < g->n && ret == 0; k++) {
		size_t m = g->order[k];

		printf("container %s:\n", g->members[m].name);
		ret = handover_print_extra(g->hs[m],
					   plan_group_has(&g->plan, g->plans, m,
							  STEP_TRANSFER));
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* the run                                                             */

static void record_plan(struct group *g)
{
	g->step0 = g->rec.nsteps;
	record_step_add(&g->rec, "check", g->o->project ? g->o->project
			: "containers", 0);
	for (size_t i = 0; i < g->plan.n; i++) {
		const struct group_step *gs = &g->plan.steps[i];
		const struct plan *p = g->plans[gs->member];
		const struct step *st = &p->steps[gs->step];
		char *obj = xasprintf("%s: %s", p->name, st->object);

		record_step_add(&g->rec, step_name(st->kind), obj, st->bytes);
		free(obj);
	}
	g->rec.steps[g->step0].started = g->check_started;
	record_step_end(&g->rec, g->step0, 0, "done");
}

/* An earlier member's transfer brought the same image: not sent again. */
static void image_shared(struct group *g, size_t gi)
{
	size_t m = g->plan.steps[gi].member;
	const char *id = handover_image_id(g->hs[m]);

	for (size_t j = 0; j < gi; j++) {
		const struct group_step *e = &g->plan.steps[j];

		if (g->plans[e->member]->steps[e->step].kind == STEP_TRANSFER &&
		    dm_streq(handover_image_id(g->hs[e->member]), id)) {
			handover_image_sent(g->hs[m]);
			return;
		}
	}
}

static int run_step(struct group *g, size_t gi)
{
	const struct group_step *gs = &g->plan.steps[gi];
	struct handover *h = g->hs[gs->member];
	enum step_kind k = g->plans[gs->member]->steps[gs->step].kind;
	size_t ri = g->step0 + 1 + gi;
	uint64_t before = g->rec.bytes;	/* the steps count into it */
	int first = gi == 0 ||
		    g->plan.steps[gi - 1].stage != gs->stage ||
		    g->plans[g->plan.steps[gi - 1].member]
			->steps[g->plan.steps[gi - 1].step].kind != k;
	int r;

	if (first)
		record_phase_begin(&g->rec, step_name(k));
	if (gs->stage == GS_STOP && !g->window_opened)
		g->window_opened = dm_now_ms();
	record_step_begin(&g->rec, ri);
	if (dm_cancelled()) {
		r = dm_error_kind(DM_ERR_INTERRUPTED, "interrupted");
	} else {
		if (first)
			dm_test_pause(step_name(k));
		if (k == STEP_TRANSFER)
			image_shared(g, gi);
		r = handover_step(h, gs->step);
		if (r < 0)
			dm_error_wrap("%s", g->plans[gs->member]->name);
	}
	record_step_end(&g->rec, ri, g->rec.bytes - before,
			r == 0 ? "done" : dm_cancelled() ? "interrupted"
			: "failed");
	if (r == 0 && gs->stage == GS_START)
		g->ready_at = dm_now_ms();
	return r;
}

static int run_plan(struct group *g)
{
	for (size_t i = 0; i < g->plan.n; i++)
		if (run_step(g, i) < 0)
			return -1;
	record_phase_end(&g->rec);
	/* from the first source's stop to the last copy running */
	if (g->window_opened && g->ready_at)
		g->rec.downtime_ms = g->ready_at > g->window_opened
				     ? g->ready_at - g->window_opened : 0;
	return 0;
}

/* The sources first (their services must not wait for the destination),
 * then the destination, reached again if the link died. */
static int rollback(void *ctx)
{
	struct group *g = ctx;
	int ok;

	dm_rollback_begin();
	ok = undo_journal(&g->rec, UNDO_SOURCE, g->src, NULL) == 0;
	if (cli_dest_revive(g->cli, g->o->c.to, &g->dst, &g->link) < 0) {
		dm_warn("%s; what this migration made there is left: "
			"docker migrate rollback %s removes it", dm_errmsg(),
			g->rec.id);
		g->dst = NULL;
		g->link = NULL;
		for (size_t i = 0; i < g->n; i++)
			if (g->hs[i])
				handover_rebind(g->hs[i], NULL, NULL);
		return -1;
	}
	for (size_t i = 0; i < g->n; i++)
		if (g->hs[i])
			handover_rebind(g->hs[i], g->dst, g->link);
	if (undo_journal(&g->rec, UNDO_DEST, g->dst, g->link) < 0)
		ok = 0;
	return ok ? 0 : -1;
}

static void group_release(struct group *g)
{
	for (size_t i = 0; i < g->n; i++) {
		handover_free(g->hs[i]);
		member_release(&g->members[i]);
		if (g->locks)
			migration_unlock(g->locks[i]);
	}
	free(g->hs);
	free(g->members);
	free(g->order);
	free(g->plans);
	free(g->opts);
	free(g->locks);
	plan_group_release(&g->plan);
	strlist_clear(&g->names);
	engine_free(g->dst);
	sshlink_close(g->link);
	engine_free(g->src);
	record_release(&g->rec);
	free(g->cfgdir);
}

static void report(void *ctx)
{
	struct group *g = ctx;

	record_print(&g->rec, g->o->c.json, stdout);
}

static int fail_run(struct group *g)
{
	return runner_failed(&g->rec, rollback, report, g, " every container");
}

int migrate_group(struct cli *cli, const struct group_opts *o)
{
	struct group g = { .cli = cli, .o = o };
	const struct strategy *s = strategy_find(o->c.strategy);
	int ret;

	g.cfgdir = cli_config_dir(cli);
	if (!s || strategy_check(s, &o->c.reg) < 0)
		goto fail;
	g.src = cli_source_engine(cli);
	if (!g.src || find_members(&g) < 0)
		goto fail;
	if (!o->c.dry_run) {
		char *obj = group_object(&g);
		int r = record_begin(&g.rec, g.cfgdir, o->project ? "project"
				     : "containers", obj, engine_name(g.src),
				     o->c.to, o->c.strategy);

		free(obj);
		if (r < 0)
			goto fail;
		g.began = 1;
		record_set_status(&g.rec, "running");
		record_phase_begin(&g.rec, "check");
		g.check_started = record_wall_ms();
		dm_test_pause("check");
	}
	g.dst = cli_dest_engine(cli, o->c.to, &g.link);
	if (!g.dst || check_members(&g) < 0)
		goto fail;
	if (o->c.dry_run) {
		ret = print_plan(&g) < 0 ? cmd_failed_status(0) : 0;
		goto out;
	}
	if (lock_members(&g) < 0)
		goto fail;
	record_plan(&g);
	/* before anything else changes: a failure rolls them back too */
	if ((o->project && compose_files_carry(handover_inspect(g.hs[g.order[0]]),
					       g.link, o->c.to, &g.rec) < 0) ||
	    run_plan(&g) < 0) {
		ret = fail_run(&g);
		goto out;
	}
	for (size_t i = 0; i < g.n; i++)
		handover_finish(g.hs[i]);
	record_set_status(&g.rec, "completed");
	record_print(&g.rec, o->c.json, stdout);
	ret = 0;
	goto out;
fail:
	if (g.began) {
		struct dm_err why;

		dm_error_save(&why);
		record_fail(&g.rec, "failed", why.kind, why.msg);
		dm_error_restore(&why);
	}
	ret = cmd_failed_status(0);
out:
	{
		struct dm_err why;

		dm_error_save(&why);
		group_release(&g);
		dm_error_restore(&why);
	}
	return ret;
}
