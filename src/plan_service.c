/*
 * plan_service.c - the plan of a swarm service's move (plan_service.h).
 * Its task cannot be created at the destination by us: the swarm makes
 * it where the spec places it.  So the downtime window is the service
 * scaled to nothing (its task stops and writes no more), the final pass
 * of its volumes, and the spec placed on the destination node with its
 * replicas back.
 */
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "plan_service.h"

static void count(struct plan *p, const struct step *st)
{
	if (st->bytes > 0)
		p->bytes += st->bytes;
}

static void s_check(struct plan *p, const struct service_facts *f)
{
	struct step *st = plan_add(p, STEP_CHECK, 0);

	st->object = xasprintf("service %s", f->service);
	st->why = "the manager, the task's node and the destination node are "
		  "checked before anything changes: one replica, volumes that "
		  "can follow it, a ready and active node";
}

static void s_transfer(struct plan *p, const struct service_facts *f)
{
	struct step *st = plan_add(p, STEP_TRANSFER, 0);

	st->object = xasprintf("image %s", f->image_ref);
	if (f->image_present) {
		st->why = "the destination node has the image";
		return;
	}
	st->bytes = f->image_bytes;
	st->creates = xasprintf("image %s at %s", f->image_ref, f->dest);
	st->why = "the swarm starts the task from it there; layers there "
		  "already are not sent";
	count(p, st);
}

static void s_precopy(struct plan *p, const struct service_facts *f,
		      size_t v)
{
	const struct plan_vol *pv = &f->vols[v];
	struct step *st = plan_add(p, STEP_PRECOPY, v);

	st->object = xasprintf("volume %s", pv->name);
	st->bytes = pv->ephemeral ? 0 : pv->size;
	if (!pv->dest_exists)
		st->creates = xasprintf("volume %s%s at %s", pv->name,
					f->helper_absent && v == 0
					? ", the volumes' helper image" : "",
					f->dest);
	st->why = pv->ephemeral ? "a tmpfs: only its settings travel"
		  : "copied while the task still runs: the bulk of the data "
		    "moves before any downtime";
	count(p, st);
}

static void s_stop(struct plan *p, const struct service_facts *f)
{
	struct step *st = plan_add(p, STEP_STOP_SOURCE, 0);

	st->object = xasprintf("task of %s at %s", f->service, f->from);
	st->stops = xasprintf("the service's task at %s (0 replicas)",
			      f->from);
	st->why = "its volumes change no more: the final pass sees its last "
		  "write, and no second task writes meanwhile";
}

static void s_sync(struct plan *p, const struct service_facts *f, size_t v)
{
	struct step *st = plan_add(p, STEP_SYNC, v);

	st->object = xasprintf("volume %s", f->vols[v].name);
	st->bytes = -1;
	st->why = "what changed since the pre-copy, once nothing writes to it";
}

static void s_start(struct plan *p, const struct service_facts *f)
{
	struct step *st = plan_add(p, STEP_START, 0);

	st->object = xasprintf("service %s", f->service);
	st->creates = xasprintf("its task at %s (constraint node.id==%s, "
				"%lld replica%s)", f->dest, f->dest_id,
				f->replicas, f->replicas == 1 ? "" : "s");
	st->why = "the swarm places the task on the destination node; it is "
		  "waited for until it runs there";
}

int plan_service(const struct service_facts *f, struct plan *out)
{
	memset(out, 0, sizeof(*out));
	out->what = "service";
	out->name = xstrdup(f->service);
	out->running = 1;
	s_check(out, f);
	s_transfer(out, f);
	for (size_t v = 0; v < f->nvols; v++)
		s_precopy(out, f, v);
	s_stop(out, f);
	for (size_t v = 0; v < f->nvols; v++)
		if (!f->vols[v].ephemeral)
			s_sync(out, f, v);
	s_start(out, f);
	return 0;
}
