/*
 * migrate_service.c - move a swarm service's task, with its local
 * volumes, to another node.  The swarm, not us, makes the task: so the
 * move is the container's handover with the service's spec as the lever.
 * Checks at the manager, the task's node and the destination node; the
 * image sent and the volumes pre-copied while the task runs; then the
 * downtime window: the service scaled to nothing (its task stops; no
 * second task can write meanwhile), the final pass of the volumes, and
 * the spec placed on the destination node (node.id==ID) with its replicas
 * back, waited for until its task runs there.  The rollback puts the
 * spec back as it was: the task returns to its node, whose volumes the
 * move never wrote to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dm.h"
#include "image_send.h"
#include "json.h"
#include "lock.h"
#include "migrate.h"
#include "plan_service.h"
#include "record.h"
#include "runner.h"
#include "swarm.h"
#include "undo.h"
#include "volmove.h"
#include "volume.h"

struct svcmove {
	struct cli *cli;
	const char *cfgdir;
	const struct service_opts *o;
	const struct strategy *strategy;
	struct engine *mgr;		/* the manager: the CLI's engine */
	struct engine *src;		/* the task's node (mgr, or over SSH) */
	struct sshlink *src_link;
	struct engine *dst;
	struct sshlink *link;
	char *self;			/* the manager's node id */
	yajl_val svc;			/* GET /services/NAME */
	const char *id, *name;
	yajl_val spec;			/* in svc */
	char *spec_text;		/* as it was: what a rollback puts back */
	long long replicas;
	struct swarm_task task;
	struct swarm_node from, to;
	char *from_target, *to_target;	/* how SSH reaches them */
	char *image_ref;
	struct image_info img;
	int image_present;
	int64_t image_bytes;
	struct strlist volnames;
	struct hvol *vols;
	size_t nvols;
	struct volmove vm;
	struct plan steps;
	int64_t check_started, stopped_at;
	struct migration rec;
};

static int journal(struct svcmove *m, const char *op, const char *host,
		   const char *arg, const char *data)
{
	return record_undo_push(&m->rec, op, host, arg, data);
}

/* ------------------------------------------------------------------ */
/* check                                                               */

static int check_service(struct svcmove *m)
{
	struct strlist refused = { 0 };
	int r = 0;

	if (swarm_manager(m->mgr, &m->self) < 0 ||
	    swarm_service_get(m->mgr, m->o->service, &m->svc) < 0)
		return -1;
	m->id = json_str(m->svc, "ID", NULL);
	m->name = json_str(m->svc, "Spec", "Name", NULL);
	m->spec = json_get(m->svc, "Spec", NULL);
	if (!m->id || !m->name || !m->spec)
		return dm_error("service %s: the manager's inspect has no ID, "
				"name or spec", m->o->service);
	m->spec_text = json_text(m->spec);
	m->replicas = service_replicas(m->spec);
	if (m->replicas != 1)
		return dm_error("service %s %s: only a "
				     "replicated service of one replica moves "
				     "with its volumes (docker service scale "
				     "%s=1)", m->name, m->replicas < 0
				     ? "is not replicated (global or a job)"
				     : "has several replicas", m->name);
	service_volumes(m->spec, &m->volnames, &refused);
	for (size_t i = 0; i < refused.n && r == 0; i++)
		r = dm_error("service %s cannot take its %s "
				  "to another node; nothing was changed",
				  m->name, refused.v[i]);
	strlist_clear(&refused);
	return r;
}

static int check_task(struct svcmove *m)
{
	int r = swarm_task_current(m->mgr, m->id, &m->task);

	if (r < 0)
		return -1;
	if (r == 1 || !dm_streq(m->task.state, "running") ||
	    !m->task.container || !m->task.node)
		return dm_error_kind(DM_ERR_SOURCE, "service %s has no running "
				     "task (%s): see docker service ps %s",
				     m->name, m->task.state ? m->task.state
				     : "none", m->name);
	return 0;
}

static int check_nodes(struct svcmove *m)
{
	const char *cfg = cli_ssh_opts(m->cli).config_file;

	if (swarm_node_find(m->mgr, m->task.node, &m->from) < 0 ||
	    swarm_node_find(m->mgr, m->o->to, &m->to) < 0)
		return -1;
	if (dm_streq(m->from.id, m->to.id))
		return dm_error_kind(DM_ERR_CONFLICT, "the task of %s runs on %s "
				     "already", m->name, m->to.hostname);
	if (!m->to.ready || !m->to.active)
		return dm_error_kind(DM_ERR_DEST, "swarm node %s is not ready "
				     "and active: see docker node ls",
				     m->to.hostname);
	m->to_target = swarm_node_target(&m->to, cfg);
	if (!dm_streq(m->from.id, m->self))
		m->from_target = swarm_node_target(&m->from, cfg);
	return 0;
}

/* The task's node: the manager's own engine, or reached over SSH as any
 * destination is; then the destination node. */
static int connect_nodes(struct svcmove *m)
{
	if (!m->from_target) {
		m->src = m->mgr;
	} else {
		m->src = cli_dest_engine(m->cli, m->from_target, &m->src_link);
		if (!m->src)
			return dm_error_wrap("the task's node %s",
					     m->from.hostname);
		engine_set_side(m->src, DM_ERR_SOURCE);
	}
	m->dst = cli_dest_engine(m->cli, m->to_target, &m->link);
	return m->dst ? 0 : -1;
}

/* The task's image, by the name the spec gives it (a digest the swarm
 * pinned it with is left out: a loaded image has none). */
static int check_image(struct svcmove *m)
{
	char *path = xasprintf("/containers/%s/json", m->task.container);
	yajl_val ins = NULL;
	const char *spec_img = json_str(m->spec, "TaskTemplate",
					"ContainerSpec", "Image", NULL);
	const char *id;
	struct image_info di;
	int r = engine_get_json(m->src, path, &ins);

	free(path);
	if (r < 0)
		return -1;
	id = json_str(ins, "Image", NULL);
	if (!id) {
		yajl_tree_free(ins);
		return dm_error("the task container of %s has no image",
				m->name);
	}
	if (spec_img && !dm_starts_with(spec_img, "sha256:")) {
		const char *at = strchr(spec_img, '@');

		m->image_ref = at ? xstrndup(spec_img, (size_t)(at - spec_img))
				  : xstrdup(spec_img);
	} else {
		m->image_ref = xstrdup(id);
	}
	r = image_inspect(m->src, id, &m->img);
	yajl_tree_free(ins);
	if (r != 1)
		return r < 0 ? -1 : dm_error("the image of %s's task is gone "
					     "from %s", m->name,
					     m->from.hostname);
	r = image_inspect(m->dst, m->img.id, &di);
	image_info_release(&di);
	if (r < 0)
		return -1;
	m->image_present = r == 1;
	return 0;
}

static struct image_send image_step(struct svcmove *m)
{
	struct transfer t = { m->src, m->dst, NULL, m->o->reg.registry,
			      m->o->reg.no_push, m->o->reg.keep_tag, m->cfgdir,
			      cli_ssh_opts(m->cli).stall_timeout_s, NULL, NULL,
			      NULL };

	return (struct image_send){ m->strategy, t, &m->rec, m->image_ref,
				    &m->img, m->image_present,
				    m->to.hostname, m->cli->progress, NULL };
}

static int check_volumes(struct svcmove *m)
{
	m->nvols = m->volnames.n;
	m->vols = xcalloc(m->nvols + 1, sizeof(*m->vols));
	m->vm = (struct volmove){
		.src = m->src, .dst = m->dst, .link = m->link, .rec = &m->rec,
		.dest = m->to.hostname, .progress = m->cli->progress,
		.running = 1, .keep = 0,
	};
	m->vm.owner = m->name;
	if (m->nvols && volmove_helper_check(&m->vm) < 0)
		return -1;
	for (size_t i = 0; i < m->nvols; i++) {
		m->vols[i].name = m->volnames.v[i];
		if (volmove_check_dest(&m->vm, &m->vols[i]) < 0)
			return -1;
	}
	return 0;
}

static int phase_check(struct svcmove *m)
{
	struct image_send is;

	if (check_service(m) < 0 || check_task(m) < 0 || check_nodes(m) < 0 ||
	    connect_nodes(m) < 0 || check_image(m) < 0 ||
	    check_volumes(m) < 0)
		return -1;
	is = image_step(m);
	m->image_bytes = image_send_estimate(&is);
	return 0;
}

static int make_plan(struct svcmove *m)
{
	struct plan_vol *pv = xcalloc(m->nvols + 1, sizeof(*pv));
	struct service_facts f = {
		m->name, m->from.hostname, m->to.hostname, m->to.id,
		m->replicas, m->image_ref, m->image_present, m->image_bytes,
		pv, m->nvols, m->vm.helper_absent,
	};
	int r;

	for (size_t i = 0; i < m->nvols; i++)
		pv[i] = (struct plan_vol){ m->vols[i].name, 0,
					   volume_is_ephemeral(m->vols[i].info),
					   m->vols[i].was_empty != NULL, -1, 0 };
	r = plan_service(&f, &m->steps);
	free(pv);
	return r;
}

/* ------------------------------------------------------------------ */
/* the steps                                                           */

static int step_transfer(struct svcmove *m, const struct step *s)
{
	struct image_send is = image_step(m);
	int r;

	(void)s;
	r = image_send(&is);
	image_send_release(&is);
	return r;
}

static int step_precopy(struct svcmove *m, const struct step *s)
{
	return volmove_copy(&m->vm, &m->vols[s->vol]);
}

static int step_sync(struct svcmove *m, const struct step *s)
{
	return volmove_sync(&m->vm, &m->vols[s->vol]);
}

/* The spec, changed as text, applied at the service's current version. */
static int update(struct svcmove *m, long long replicas, const char *node)
{
	char *spec = service_spec_placed(m->spec, replicas, node);
	yajl_val now = NULL;
	int r;

	if (!spec)
		return -1;
	r = swarm_service_get(m->mgr, m->id, &now);
	if (r == 0)
		r = swarm_service_update(m->mgr, m->id,
					 (uint64_t)json_int(now, 0, "Version",
							    "Index", NULL),
					 spec);
	yajl_tree_free(now);
	free(spec);
	return r;
}

/* Poll until done(m) says 1, for at most secs; -1 on its error or when
 * time runs out (err names what was waited for). */
static int wait_for(struct svcmove *m, int (*done)(struct svcmove *),
		    long secs, const char *what)
{
	int64_t deadline = dm_now_ms() + secs * 1000;

	for (;;) {
		int r = done(m);

		if (r != 0)
			return r < 0 ? -1 : 0;
		if (dm_cancelled())
			return dm_error_kind(DM_ERR_INTERRUPTED, "interrupted "
					     "while waiting for %s", what);
		if (dm_now_ms() > deadline)
			return dm_error("%s: not after %ld s", what, secs);
		usleep(100 * 1000);
	}
}

/* The old task's container has stopped (or is gone), and the swarm
 * wants no task of the service to run: none is restarted meanwhile (the
 * engine's stop can come before the swarm took in the scale to nothing,
 * and a restart policy would then replace the task). */
static int old_task_stopped(struct svcmove *m)
{
	char *path = xasprintf("/containers/%s/json", m->task.container);
	yajl_val v = NULL;
	long st = engine_get_json_opt(m->src, path, &v);
	int running = json_true(v, "State", "Running", NULL);
	struct swarm_task t;
	int r;

	free(path);
	yajl_tree_free(v);
	if (st < 0)
		return -1;
	if (st != 404 && running)
		return 0;
	r = swarm_task_current(m->mgr, m->id, &t);
	swarm_task_release(&t);
	return r < 0 ? -1 : r == 1;
}

static void stop_task_now(struct svcmove *m)
{
	long long grace = json_int(m->spec, 10000000000LL, "TaskTemplate",
				   "ContainerSpec", "StopGracePeriod", NULL);
	char *path = xasprintf("/containers/%s/stop?t=%lld", m->task.container,
			       grace / 1000000000LL);

	/* the swarm's own stop follows whatever this does: no error */
	if (engine_post_json(m->src, path, NULL, NULL) < 0)
		dm_clear_error();
	free(path);
}

static int step_stop(struct svcmove *m, const struct step *s)
{
	(void)s;
	if (journal(m, UNDO_SERVICE, UNDO_MANAGER, m->id, m->spec_text) < 0)
		return -1;
	/* the task is told to stop now: it may stop serving at once */
	m->stopped_at = dm_now_ms();
	if (update(m, 0, NULL) < 0)
		return -1;
	/* the swarm tells the task's node to stop it in its own time (a
	 * second or more); the engine there is told at once, with the
	 * service's grace period: the same stop, sooner */
	stop_task_now(m);
	if (wait_for(m, old_task_stopped, m->o->stop_timeout_s,
		     "the task to stop") < 0)
		return dm_error_wrap("service %s at %s", m->name,
				     m->from.hostname);
	return 0;
}

/* The new task runs on the destination node; a task the swarm gave up
 * on (rejected, failed) is an error with the swarm's reason. */
static int new_task_running(struct svcmove *m)
{
	struct swarm_task t;
	int r = swarm_task_current(m->mgr, m->id, &t), ret = 0;

	if (r < 0)
		return -1;
	if (r == 0 && dm_streq(t.node, m->to.id)) {
		if (dm_streq(t.state, "running"))
			ret = 1;
		else if (dm_streq(t.state, "rejected") ||
			 dm_streq(t.state, "failed"))
			ret = dm_error_kind(DM_ERR_DEST, "the task of %s at %s "
					    "is %s: %s", m->name,
					    m->to.hostname, t.state,
					    t.err ? t.err : "no reason given");
	}
	swarm_task_release(&t);
	return ret;
}

static int step_start(struct svcmove *m, const struct step *s)
{
	(void)s;
	/* the swarm's containers at the destination hold the volumes a
	 * rollback removes: they go first */
	if (journal(m, UNDO_TASKS, UNDO_DEST, m->id, NULL) < 0 ||
	    update(m, m->replicas, m->to.id) < 0)
		return -1;
	return wait_for(m, new_task_running, m->o->start_timeout_s,
			"the task to run at the destination node");
}

typedef int (*step_fn)(struct svcmove *, const struct step *);

static const step_fn step_fns[STEP_KINDS] = {
	[STEP_TRANSFER] = step_transfer,
	[STEP_PRECOPY] = step_precopy,
	[STEP_STOP_SOURCE] = step_stop,
	[STEP_SYNC] = step_sync,
	[STEP_START] = step_start,
};

static int dispatch(void *ctx, const struct step *s)
{
	if (!step_fns[s->kind])
		return dm_error("a service move has no step %s",
				step_name(s->kind));
	return step_fns[s->kind](ctx, s);
}

/* ------------------------------------------------------------------ */

/* The service first (its task back at its node), then the task's node,
 * then the destination. */
static int rollback(void *ctx)
{
	struct svcmove *m = ctx;
	int ok = 1;

	dm_rollback_begin();
	if (undo_journal(&m->rec, UNDO_MANAGER, m->mgr, NULL) < 0)
		ok = 0;
	if (undo_journal(&m->rec, UNDO_SOURCE, m->src, m->src_link) < 0)
		ok = 0;
	if (cli_dest_revive(m->cli, m->to_target, &m->dst, &m->link) < 0) {
		m->vm.dst = NULL;
		dm_warn("%s; what this migration made there is left: "
			"docker migrate rollback %s removes it", dm_errmsg(),
			m->rec.id);
		return -1;
	}
	m->vm.dst = m->dst;
	m->vm.link = m->link;
	if (undo_journal(&m->rec, UNDO_DEST, m->dst, m->link) < 0)
		ok = 0;
	return ok ? 0 : -1;
}

static int run(struct svcmove *m)
{
	struct runner r = { &m->rec, &m->steps, dispatch, m, 0, 0, NULL };

	runner_record(&r, m->check_started);
	if (runner_run(&r) < 0)
		return -1;
	if (r.ready_at && m->stopped_at)
		m->rec.downtime_ms = r.ready_at - m->stopped_at;
	return 0;
}

static int print_plan(struct svcmove *m)
{
	if (m->o->json) {
		yajl_gen g = yajl_gen_alloc(NULL);
		char *text;

		yajl_gen_config(g, yajl_gen_beautify, 1);
		plan_gen(&m->steps, m->from.hostname, m->to.hostname,
			 m->strategy->name, g);
		text = json_gen_take(g);
		fputs(text, stdout);
		free(text);
		yajl_gen_free(g);
		return 0;
	}
	plan_print(&m->steps, m->from.hostname, m->to.hostname,
		   m->strategy->name, stdout);
	return 0;
}

static void report(void *ctx)
{
	struct svcmove *m = ctx;

	record_print(&m->rec, m->o->json, stdout);
}

/* What stays behind, and how to undo the placement. */
static void print_after(struct svcmove *m)
{
	if (m->o->json || m->cli->progress == PROGRESS_NONE)
		return;
	for (size_t i = 0; i < m->nvols; i++)
		fprintf(stderr, "Volume %s stays at %s with its data as it was "
			"when the task stopped\n", m->vols[i].name,
			m->from.hostname);
	fprintf(stderr, "Service %s is placed on %s (node.id==%s): docker "
		"service update --constraint-rm node.id==%s %s lets the swarm "
		"move it again (its volumes' data is only there)\n", m->name,
		m->to.hostname, m->to.id, m->to.id, m->name);
}

static void release(struct svcmove *m)
{
	for (size_t i = 0; i < m->nvols; i++)
		volmove_release(&m->vm, &m->vols[i]);
	free(m->vols);
	strlist_clear(&m->volnames);
	plan_release(&m->steps);
	free(m->image_ref);
	image_info_release(&m->img);
	swarm_task_release(&m->task);
	swarm_node_release(&m->from);
	swarm_node_release(&m->to);
	free(m->from_target);
	free(m->to_target);
	free(m->spec_text);
	free(m->self);
	yajl_tree_free(m->svc);
	engine_free(m->dst);
	sshlink_close(m->link);
	if (m->src != m->mgr) {
		engine_free(m->src);
		sshlink_close(m->src_link);
	}
	engine_free(m->mgr);
	record_release(&m->rec);
}

int migrate_service(struct cli *cli, const struct service_opts *o)
{
	struct svcmove m = { .cli = cli, .o = o };
	char *cfgdir = cli_config_dir(cli);
	int ret = 1, began = 0, lock = -1;

	m.cfgdir = cfgdir;
	m.strategy = strategy_find(o->strategy);
	if (!m.strategy || strategy_check(m.strategy, &o->reg) < 0)
		goto fail_early;
	m.mgr = cli_source_engine(cli);
	if (!m.mgr)
		goto fail_early;
	if (!o->dry_run) {
		char *key = xasprintf("%s/service/%s", engine_name(m.mgr),
				      o->service);

		lock = migration_lock(cfgdir, key, o->service);
		free(key);
		if (lock < 0)
			goto fail_early;
		if (record_begin(&m.rec, cfgdir, "service", o->service,
				 engine_name(m.mgr), o->to, m.strategy->name) < 0)
			goto fail_early;
		began = 1;
		record_set_status(&m.rec, "running");
		record_phase_begin(&m.rec, "check");
		m.check_started = record_wall_ms();
		dm_test_pause("check");
	}
	if (phase_check(&m) < 0 || make_plan(&m) < 0)
		goto fail;
	if (o->dry_run) {
		ret = print_plan(&m) < 0 ? 1 : 0;
		goto out;
	}
	if (run(&m) < 0) {
		ret = runner_failed(&m.rec, rollback, report, &m, "");
		goto out;
	}
	record_set_status(&m.rec, "completed");
	report(&m);
	print_after(&m);
	ret = 0;
	goto out;
fail:
	if (began) {
		struct dm_err why;

		dm_error_save(&why);
		record_fail(&m.rec, "failed", why.kind, why.msg);
		dm_error_restore(&why);
	}
fail_early:
	ret = cmd_failed_status(0);
out:
	{
		struct dm_err why;

		dm_error_save(&why);
		release(&m);
		migration_unlock(lock);
		dm_error_restore(&why);
	}
	free(cfgdir);
	return ret;
}
