/*
 * plan.c - the plan of a container move (see plan.h).  One ordered table
 * says which steps a move has and in what order; each row holds when it
 * applies, and a describer says what the step sends, changes and why.
 * The order is that of the handover: the bulk of the data moves while the
 * source still runs, the downtime holds only the final pass, and the
 * source stops for good only once its copy runs.
 */
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "json.h"
#include "plan.h"

static const char *const names[STEP_KINDS] = {
	[STEP_CHECK] = "check",
	[STEP_TRANSFER] = "transfer",
	[STEP_COPY_VOLUME] = "copy-volumes",
	[STEP_VERIFY] = "verify",
	[STEP_PRECOPY] = "precopy",
	[STEP_CREATE] = "create",
	[STEP_PAUSE_SOURCE] = "pause-source",
	[STEP_STOP_SOURCE] = "stop-source",
	[STEP_SYNC] = "sync",
	[STEP_ROOTFS] = "rootfs",
	[STEP_START] = "start",
	[STEP_CHECKPOINT] = "checkpoint",
	[STEP_CARRY_CHECKPOINT] = "carry",
	[STEP_RESTORE] = "restore",
};

const char *step_name(enum step_kind k)
{
	return k < STEP_KINDS ? names[k] : "?";
}

/* The shape of a move, from which the order follows.  Stateful: something
 * (a volume, the container layer) must be copied after the source stops
 * writing.  Warm: the source runs and will stop, so that copy is made in
 * two passes around the downtime; cold: one pass (stopped, or --keep).
 * Memory: the source's checkpoint stops it, and the copy is started from
 * that checkpoint instead of afresh (--checkpoint). */
struct shape {
	int running, keep, pause, rootfs, stateful, memory, anon;
};

static int always(const struct shape *s) { (void)s; return 1; }
static int warm(const struct shape *s)
{
	return s->stateful && s->running && !s->keep;
}
static int cold(const struct shape *s)
{
	return s->stateful && !warm(s);
}
static int cold_rootfs(const struct shape *s) { return cold(s) && s->rootfs; }
static int warm_rootfs(const struct shape *s) { return warm(s) && s->rootfs; }
/* a committed layer exists only once the source is frozen: the copy is
 * created from it after the final pass; otherwise it is created before the
 * downtime (a created container binds no port) */
/* anonymous volumes are named by the engine when it creates the copy, as
 * for the source: the copy comes first, their content then goes into
 * them.  (A committed layer, made only once the source is frozen, is
 * created from last: they are then mounted by name.) */
static int anon_first(const struct shape *s) { return s->anon && !s->rootfs; }
static int create_early(const struct shape *s)
{
	return !warm_rootfs(s) && !anon_first(s);
}
static int warm_pause(const struct shape *s)
{
	return warm(s) && s->pause && !s->memory;
}
static int warm_stop(const struct shape *s)
{
	return warm(s) && !s->pause && !s->memory;
}
static int memory(const struct shape *s) { return s->memory; }
static int fresh_start(const struct shape *s)
{
	return s->running && !s->memory;
}
/* stopped last: a stateless source once its copy runs, and a frozen one */
static int stop_last(const struct shape *s)
{
	return s->running && !s->keep && !s->memory &&
	       (!s->stateful || s->pause);
}

static const struct order {
	enum step_kind kind;
	int per_volume;
	int (*when)(const struct shape *);
} order[] = {
	{ STEP_CHECK, 0, always },
	{ STEP_TRANSFER, 0, always },
	{ STEP_CREATE, 0, anon_first },
	{ STEP_COPY_VOLUME, 1, cold },
	{ STEP_VERIFY, 1, cold },
	{ STEP_ROOTFS, 0, cold_rootfs },
	{ STEP_PRECOPY, 1, warm },
	{ STEP_CREATE, 0, create_early },
	{ STEP_PAUSE_SOURCE, 0, warm_pause },
	{ STEP_STOP_SOURCE, 0, warm_stop },
	{ STEP_CHECKPOINT, 0, memory },
	{ STEP_SYNC, 1, warm },
	{ STEP_ROOTFS, 0, warm_rootfs },
	{ STEP_CREATE, 0, warm_rootfs },
	{ STEP_CARRY_CHECKPOINT, 0, memory },
	{ STEP_START, 0, fresh_start },
	{ STEP_RESTORE, 0, memory },
	{ STEP_STOP_SOURCE, 0, stop_last },
};

/* ------------------------------------------------------------------ */
/* what each step does                                                 */

struct ctx {
	const struct plan *p;
	const struct plan_facts *f;
	struct shape s;
};

static char *vol_object(const struct plan_vol *v)
{
	if (v->ephemeral)	/* said first: the report cuts long names */
		return xasprintf("not carried: tmpfs volume %s",
				 v->name);
	return xasprintf("%s %s", v->bind ? "bind mount" : "volume", v->name);
}

/* A volume of the local driver mounted as tmpfs holds memory: like the
 * process's memory, it does not travel. */
#define TMPFS_WHY "a tmpfs volume: its content is memory and is not " \
		  "carried; it is made there with the same options, empty"

/* The first volume with content: its copy loads the helper image where
 * it is missing. */
static int first_with_data(const struct plan_facts *f, size_t vol)
{
	for (size_t i = 0; i < f->nvols; i++)
		if (!f->vols[i].ephemeral)
			return i == vol;
	return 0;
}

static char *vol_creates(const struct ctx *c, const struct plan_vol *v,
			 size_t vol)
{
	const char *helper = c->f->helper_absent && first_with_data(c->f, vol)
			     ? ", the volumes' helper image" : "";

	if (v->bind)
		return xasprintf("directory %s%s at %s", v->name, helper,
				 c->f->dest);
	if (v->anonymous && c->p->anon_first)	/* the create made it */
		return *helper ? xasprintf("the volumes' helper image at %s",
					   c->f->dest) : NULL;
	if (v->dest_exists)	/* there already, empty: filled, not made */
		return *helper ? xasprintf("the volumes' helper image at %s",
					   c->f->dest) : NULL;
	return xasprintf("volume %s%s at %s", v->name, helper, c->f->dest);
}

static void d_check(struct step *st, const struct ctx *c)
{
	st->object = xasprintf("container %s", c->p->name);
	st->bytes = 0;
	st->why = c->p->checkpoint
		  ? "both ends are checked before anything changes; the "
		    "memory state was probed with a checkpoint (--checkpoint)"
		  : "both ends are checked before anything changes: the name "
		    "is free there, what is there already, room for the "
		    "image, and what would stop the copy starting there "
		    "(ports, addresses, networks, devices, links)";
}

static void d_transfer(struct step *st, const struct ctx *c)
{
	st->object = xasprintf("image %s", c->f->image_ref);
	if (c->f->image_present) {
		st->bytes = 0;
		st->why = "the destination has the image: at most its tag is "
			  "added";
		return;
	}
	st->bytes = c->f->image_bytes;
	st->creates = xasprintf("image %s at %s", c->f->image_ref, c->f->dest);
	st->why = "the copy is created from it; layers there already are "
		  "not sent (delta, layers, registry)";
}

static void d_copy(struct step *st, const struct ctx *c)
{
	const struct plan_vol *v = &c->f->vols[st->vol];

	st->object = vol_object(v);
	st->bytes = v->ephemeral ? 0 : v->dest_exists == 2 ? -1 : v->size;
	st->creates = vol_creates(c, v, st->vol);
	st->why = v->ephemeral ? TMPFS_WHY
		  : v->dest_exists == 2 ? "copied there earlier by docker migrate "
				"volumes: only what changed since is sent"
		  : c->s.running ? "the source keeps running (--keep): one "
				   "whole copy"
		  : "the source is stopped: one whole copy, nothing writes "
		    "to it meanwhile";
}

static void d_verify(struct step *st, const struct ctx *c)
{
	st->object = vol_object(&c->f->vols[st->vol]);
	st->bytes = 0;
	st->why = "the copy is read back and compared with the source's tree";
}

static void d_precopy(struct step *st, const struct ctx *c)
{
	const struct plan_vol *v = &c->f->vols[st->vol];

	st->object = vol_object(v);
	st->bytes = v->ephemeral ? 0 : v->dest_exists == 2 ? -1 : v->size;
	st->creates = vol_creates(c, v, st->vol);
	st->why = v->ephemeral ? TMPFS_WHY
		  : v->dest_exists == 2 ? "copied there earlier by docker migrate "
				"volumes: only what changed since is sent"
		  : "copied while the source still runs: the bulk of the "
		    "data moves before any downtime";
}

static void d_create(struct step *st, const struct ctx *c)
{
	struct strbuf sb = STRBUF_INIT;

	st->object = xasprintf("container %s", c->p->name);
	st->bytes = 0;
	sb_addf(&sb, "container %s", c->p->name);
	for (size_t i = 0; i < c->f->nnets; i++)
		sb_addf(&sb, ", network %s", c->f->nets_missing[i]);
	sb_addf(&sb, " at %s", c->f->dest);
	st->creates = sb_detach(&sb);
	st->why = anon_first(&c->s)
		  ? "first: the engine makes its anonymous volumes, as it did "
		    "for the source; their content is then copied into them"
		  : warm_rootfs(&c->s)
		  ? "from the committed container layer, which exists only "
		    "once the source is frozen"
		  : warm(&c->s) ? "before the downtime: a created container "
				  "binds no port and holds its volumes"
		  : "from the source's configuration, as docker run would";
}

static void d_pause(struct step *st, const struct ctx *c)
{
	st->object = xasprintf("container %s", c->p->name);
	st->bytes = 0;
	st->stops = xasprintf("container %s at the source (frozen)",
			      c->p->name);
	st->why = c->p->autoremove
		  ? "--rm: its stop removes it, so it is frozen, not stopped, "
		    "for the final pass and stopped only once the copy runs "
		    "(what it had not written out stays behind)"
		  : "--pause: frozen, not stopped, for the final pass: what it "
		    "had not written out stays behind; stopped once the copy runs";
}

static void d_stop(struct step *st, const struct ctx *c)
{
	st->object = xasprintf("container %s", c->p->name);
	st->bytes = 0;
	st->stops = xasprintf("container %s at the source", c->p->name);
	st->why = warm_stop(&c->s)
		  ? "its volumes and layer change no more: the final pass sees "
		    "its last write"
		  : c->p->autoremove && c->s.pause
		  ? "the copy runs: the frozen source stops for good, and "
		    "--rm removes it"
		  : c->s.pause ? "the copy runs: the frozen source stops for good"
		  : "the copy runs (healthy, if it has a healthcheck): the "
		    "source stops only then";
}

static void d_sync(struct step *st, const struct ctx *c)
{
	st->object = vol_object(&c->f->vols[st->vol]);
	st->bytes = -1;
	st->why = "what changed since the pre-copy, once nothing writes to it";
}

static void d_rootfs(struct step *st, const struct ctx *c)
{
	st->object = xasprintf("container layer of %s", c->p->name);
	st->bytes = c->f->rootfs_bytes;
	st->creates = xasprintf("an image of the layer at %s", c->f->dest);
	st->removes = xstrdup("the layer's image at the source, once sent");
	st->why = c->f->rootfs_changes
		  ? "files changed in the container's own layer: committed and "
		    "sent like an image (only that layer crosses)"
		  : "--rootfs: the container layer travels though unchanged";
}

static void d_start(struct step *st, const struct ctx *c)
{
	st->object = xasprintf("container %s", c->p->name);
	st->bytes = 0;
	st->why = "the copy runs, and is waited for until it is healthy when "
		  "it has a healthcheck";
}

static void d_checkpoint(struct step *st, const struct ctx *c)
{
	st->object = xasprintf("memory of %s", c->p->name);
	st->bytes = 0;
	st->stops = xasprintf("container %s at the source (its memory "
			      "dumped by CRIU)", c->p->name);
	st->why = "--checkpoint: the process's memory is dumped and it "
		  "stops; its volumes and layer change no more";
}

static void d_carry(struct step *st, const struct ctx *c)
{
	st->object = xasprintf("checkpoint of %s", c->p->name);
	st->bytes = -1;
	st->creates = xasprintf("the checkpoint's files in the copy's "
				"directory at %s", c->f->dest);
	st->removes = xstrdup("the checkpoint at both hosts, once the copy "
			      "runs or the move is rolled back");
	st->why = "the engine restores only from a container's own "
		  "checkpoints directory: helper containers carry it there";
}

static void d_restore(struct step *st, const struct ctx *c)
{
	st->object = xasprintf("container %s", c->p->name);
	st->bytes = 0;
	st->why = "the copy starts from the checkpoint: the process goes on "
		  "where it was; if it cannot, the source is restored from "
		  "its own";
}

static void (*const describe[STEP_KINDS])(struct step *, const struct ctx *) = {
	[STEP_CHECK] = d_check,
	[STEP_TRANSFER] = d_transfer,
	[STEP_COPY_VOLUME] = d_copy,
	[STEP_VERIFY] = d_verify,
	[STEP_PRECOPY] = d_precopy,
	[STEP_CREATE] = d_create,
	[STEP_PAUSE_SOURCE] = d_pause,
	[STEP_STOP_SOURCE] = d_stop,
	[STEP_SYNC] = d_sync,
	[STEP_ROOTFS] = d_rootfs,
	[STEP_START] = d_start,
	[STEP_CHECKPOINT] = d_checkpoint,
	[STEP_CARRY_CHECKPOINT] = d_carry,
	[STEP_RESTORE] = d_restore,
};

/* A tmpfs holds nothing to read back or to sync. */
static int applies_to(enum step_kind k, const struct plan_vol *v)
{
	return !v->ephemeral || (k != STEP_VERIFY && k != STEP_SYNC);
}

struct step *plan_add(struct plan *p, enum step_kind k, size_t vol)
{
	struct step *st;

	p->steps = xrealloc(p->steps, (p->n + 1) * sizeof(*p->steps));
	st = &p->steps[p->n++];
	memset(st, 0, sizeof(*st));
	st->kind = k;
	st->vol = vol;
	return st;
}

static void add_step(struct plan *p, const struct ctx *c, enum step_kind k,
		     size_t vol)
{
	struct step *st = plan_add(p, k, vol);

	describe[k](st, c);
	if (st->bytes > 0)
		p->bytes += st->bytes;
}

int plan_make(yajl_val ins, const struct plan_opts *o,
	      const struct plan_facts *f, struct plan *out)
{
	const char *name = json_str(ins, "Name", NULL);
	struct ctx c = { out, f, { 0 } };

	memset(out, 0, sizeof(*out));
	if (!name)
		return dm_error("the engine's inspect has no Name");
	out->name = xstrdup(name[0] == '/' ? name + 1 : name);
	out->running = json_true(ins, "State", "Running", NULL);
	out->rootfs = o->rootfs > 0 || (o->rootfs < 0 && f->rootfs_changes > 0);
	out->keep = o->keep;
	/* an --rm source is removed by its stop, anonymous volumes and
	 * all: stopped before its copy runs, a copy that fails to start
	 * would leave nothing on either host.  Frozen instead (as with
	 * --pause), it is stopped only once the copy runs. */
	out->autoremove = json_true(ins, "HostConfig", "AutoRemove", NULL);
	out->pause = o->pause || out->autoremove;
	out->checkpoint = o->checkpoint;
	out->memory = o->checkpoint && out->running && !o->keep;
	c.s = (struct shape){ out->running, o->keep, out->pause, out->rootfs,
			      f->nvols > 0 || out->rootfs, out->memory,
			      f->anon_volumes > 0 };
	out->anon_first = anon_first(&c.s);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct order *r = &order[i];

		if (!r->when(&c.s))
			continue;
		if (!r->per_volume) {
			add_step(out, &c, r->kind, 0);
			continue;
		}
		for (size_t v = 0; v < f->nvols; v++)
			if (applies_to(r->kind, &f->vols[v]))
				add_step(out, &c, r->kind, v);
	}
	return 0;
}

void plan_release(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->steps[i].object);
		free(p->steps[i].creates);
		free(p->steps[i].stops);
		free(p->steps[i].removes);
	}
	free(p->steps);
	free(p->name);
	memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------------ */
/* --dry-run                                                           */

static const char *bytes_text(int64_t n, char *buf, size_t len)
{
	if (n < 0)
		return "?";
	return dm_human_bytes((uint64_t)n, buf, len);
}

static size_t unknown_steps(const struct plan *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->steps[i].bytes < 0;
	return n;
}

void plan_print(const struct plan *p, const char *source, const char *dest,
		const char *strategy, FILE *out)
{
	char hb[32];

	fprintf(out, "Plan: move %s %s (%s) from %s to %s, strategy %s\n",
		p->what ? p->what : "container", p->name,
		p->running ? "running" : "stopped", source, dest, strategy);
	if (!p->what)	/* a container's: a service's task starts afresh */
		fprintf(out, "  memory: %s\n", p->memory ? "moves (checkpoint "
			"and restore)" : !p->running ? "none: the container is "
			"not running" : "does not move: the copy starts afresh");
	for (size_t i = 0; i < p->n; i++) {
		const struct step *st = &p->steps[i];

		fprintf(out, "  %2zu  %-13s %-34s %10s\n", i + 1,
			step_name(st->kind), st->object,
			bytes_text(st->bytes, hb, sizeof(hb)));
		if (st->creates)
			fprintf(out, "        creates %s\n", st->creates);
		if (st->stops)
			fprintf(out, "        stops %s\n", st->stops);
		if (st->removes)
			fprintf(out, "        removes %s\n", st->removes);
		fprintf(out, "        why: %s\n", st->why);
	}
	fprintf(out, "  to send: %s%s\n",
		dm_human_bytes((uint64_t)p->bytes, hb, sizeof(hb)),
		unknown_steps(p) ? ", and what the steps marked ? send (what "
		"changes until the source stops, copied bind mounts)" : "");
}

static void gen_opt_str(yajl_gen g, const char *k, const char *v)
{
	json_gen_str(g, k);
	if (v)
		json_gen_str(g, v);
	else
		yajl_gen_null(g);
}

void plan_gen(const struct plan *p, const char *source, const char *dest,
	      const char *strategy, yajl_gen g)
{
	yajl_gen_map_open(g);
	gen_opt_str(g, p->what ? p->what : "container", p->name);
	gen_opt_str(g, "source", source);
	gen_opt_str(g, "destination", dest);
	gen_opt_str(g, "strategy", strategy);
	json_gen_str(g, "running");
	yajl_gen_bool(g, p->running);
	json_gen_str(g, "rootfs");
	yajl_gen_bool(g, p->rootfs);
	json_gen_str(g, "memory");
	yajl_gen_bool(g, p->memory);
	json_gen_str(g, "bytes");
	yajl_gen_integer(g, p->bytes);
	json_gen_str(g, "steps");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < p->n; i++) {
		const struct step *st = &p->steps[i];

		yajl_gen_map_open(g);
		gen_opt_str(g, "step", step_name(st->kind));
		gen_opt_str(g, "object", st->object);
		json_gen_str(g, "bytes");
		yajl_gen_integer(g, st->bytes);
		gen_opt_str(g, "creates", st->creates);
		gen_opt_str(g, "stops", st->stops);
		gen_opt_str(g, "removes", st->removes);
		gen_opt_str(g, "why", st->why);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}
