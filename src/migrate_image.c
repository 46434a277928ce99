/*
 * migrate_image.c - copy images to another engine with a strategy; the
 * images the destination already has cost nothing, and a failure removes
 * every image this run brought.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "migrate.h"
#include "progress.h"
#include "record.h"
#include "space.h"
#include "transfer.h"

struct image_run {
	struct cli *cli;
	const struct image_opts *o;
	struct engine *src, *dst;
	struct sshlink *link;
	struct image_info *info;	/* per image, on the source */
	int *present;			/* per image, at the destination */
	struct strlist made;		/* image ids the loads made there */
	char **had;			/* per image, the id its name had
					 * there before (a load moves it) */
	struct migration rec;
};

/* Room at the destination for the images it lacks, as a container move
 * checks: before a byte is sent. */
static int check_room(struct image_run *r)
{
	uint64_t need = 0;

	for (size_t i = 0; i < r->o->n; i++)
		if (!r->present[i] && r->info[i].size > 0)
			need += (uint64_t)r->info[i].size;
	return space_for_images(r->dst, r->link, r->o->to, need);
}

static int check_images(struct image_run *r)
{
	for (size_t i = 0; i < r->o->n; i++) {
		struct image_info di;
		int f = image_inspect(r->src, r->o->images[i], &r->info[i]);

		if (f < 0)
			return -1;
		if (f == 0)
			return dm_error("no such image: %s (on %s)",
					r->o->images[i], engine_name(r->src));
		f = image_inspect(r->dst, r->info[i].id, &di);
		image_info_release(&di);
		if (f < 0)
			return -1;
		r->present[i] = f;
		if (dm_starts_with(r->o->images[i], "sha256:"))
			continue;
		f = image_inspect(r->dst, r->o->images[i], &di);
		if (f < 0) {
			image_info_release(&di);
			return -1;
		}
		r->had[i] = f == 1 ? xstrdup(di.id) : NULL;
		image_info_release(&di);
	}
	return check_room(r);
}

int print_image_plan(struct engine *src, struct engine *dst, const char *ref,
		     const struct image_info *info, int present)
{
	struct delta_plan p;
	long long missing = 0;
	char hb[32], hb2[32];

	if (delta_plan(src, dst, ref, &p) < 0)
		return -1;
	/* the config's digest: the same image on every store */
	printf("  image %s %s%s\n", ref, p.config_digest,
	       present ? " (present: nothing to send)" : "");
	for (size_t k = 0; k < p.n; k++) {
		if (p.sizes)
			dm_human_bytes((uint64_t)p.sizes[k], hb, sizeof(hb));
		printf("    layer %zu  %.19s  %10s  %s\n", k + 1, p.diff_ids[k],
		       p.sizes ? hb : "?", k < p.present ? "present" : "missing");
		if (k >= p.present && p.sizes)
			missing += p.sizes[k];
	}
	if (!present)
		printf("    send: save %s; delta, registry and layers %s of "
		       "layers before gzip (%zu of %zu layers)\n",
		       dm_human_bytes((uint64_t)info->size, hb, sizeof(hb)),
		       p.sizes ? dm_human_bytes((uint64_t)missing, hb2,
						sizeof(hb2)) : "?",
		       p.n - p.present, p.n);
	delta_plan_release(&p);
	return 0;
}

/* Each image, each layer, present or missing, and what each strategy
 * would send. */
static int print_plan(const struct image_run *r, const struct strategy *s)
{
	printf("Plan: copy %zu image(s) from %s to %s with strategy %s\n",
	       r->o->n, engine_name(r->src), r->o->to, s->name);
	for (size_t i = 0; i < r->o->n; i++)
		if (print_image_plan(r->src, r->dst, r->o->images[i],
				     &r->info[i], r->present[i]) < 0)
			return -1;
	return 0;
}

/* Remove image id at the destination if it is there; 1 if it is left. */
static int remove_left(struct image_run *r, const char *id, const char *what)
{
	struct image_info ii;
	char *path;
	int f = image_inspect(r->dst, id, &ii);

	image_info_release(&ii);
	if (f == 0)
		return 0;
	path = xasprintf("/images/%s?force=1", id);
	if (f < 0 || engine_delete(r->dst, path) < 0) {
		dm_warn("cannot remove %s at %s: %s", what, r->o->to,
			dm_errmsg());
		f = -1;
	}
	free(path);
	return f < 0;
}

/* Remove what this run brought to the destination: the images that were
 * not there before (by the source's id, which a graph driver store keeps)
 * and whatever the loads said they made (the containerd store names an
 * image by its manifest, and leaves a broken one when an unpack fails).
 * -1 when something is left. */
static int undo(struct image_run *r)
{
	int left = 0;

	dm_rollback_begin();
	if (cli_dest_revive(r->cli, r->o->to, &r->dst, &r->link) < 0) {
		dm_warn("%s; images this run loaded there are left", dm_errmsg());
		return -1;
	}
	for (size_t i = 0; i < r->made.n; i++)
		left += remove_left(r, r->made.v[i], r->made.v[i]);
	for (size_t i = 0; i < r->o->n; i++)
		if (!r->present[i] && r->info[i].id)
			left += remove_left(r, r->info[i].id, r->o->images[i]);
	/* a name the destination had goes back to its image */
	for (size_t i = 0; i < r->o->n; i++) {
		struct image_info ii;
		int f;

		if (!r->had[i])
			continue;
		f = image_inspect(r->dst, r->o->images[i], &ii);
		if (f == 0 || (f == 1 && !dm_streq(ii.id, r->had[i]))) {
			if (image_tag(r->dst, r->had[i], r->o->images[i]) < 0) {
				dm_warn("%s", dm_errmsg());
				left++;
			}
		}
		image_info_release(&ii);
	}
	return left ? -1 : 0;
}

static int transfer(struct image_run *r, const struct strategy *s,
		    const char *cfgdir)
{
	const char **refs = xcalloc(r->o->n, sizeof(*refs));
	struct xfer_stats st = { 0 };
	size_t n = 0;
	int ret = 0;

	for (size_t i = 0; i < r->o->n; i++)
		if (!r->present[i])
			refs[n++] = r->o->images[i];
	/* the export begun early is of them all: not what is sent now */
	if (n < r->o->n)
		engine_prefetch_drop(r->src);
	if (n) {
		struct progress p;
		uint64_t total = 0;

		for (size_t i = 0; i < r->o->n; i++)
			if (!r->present[i])
				total += (uint64_t)r->info[i].size;
		progress_start(&p, r->cli->progress, refs[0], &st,
			       progress_total_of(s->name, (long long)total));
		struct transfer t = { r->src, r->dst, &st, r->o->reg.registry,
				      r->o->reg.no_push, r->o->reg.keep_tag,
				      cfgdir,
				      cli_ssh_opts(r->cli).stall_timeout_s,
				      &r->made, NULL, NULL };

		ret = s->transfer(&t, refs, n);
		/* a failure may come before the export is read */
		engine_prefetch_drop(r->src);
		progress_stop(&p);
	}
	/* present under another name: give it the name asked for too */
	for (size_t i = 0; ret == 0 && i < r->o->n; i++)
		if (r->present[i] &&
		    image_tag_if_missing(r->dst, r->info[i].id, r->o->images[i]) < 0)
			ret = -1;
	r->rec.bytes += st.bytes;
	free(refs);
	return ret;
}

int migrate_images(struct cli *cli, const struct image_opts *o)
{
	struct image_run r = { .cli = cli, .o = o };
	const struct strategy *s = strategy_find(o->strategy);
	char *cfgdir = cli_config_dir(cli), *what = NULL;
	struct dm_err err;
	int ret = 1;

	r.info = xcalloc(o->n, sizeof(*r.info));
	r.present = xcalloc(o->n, sizeof(*r.present));
	r.had = xcalloc(o->n, sizeof(*r.had));
	if (!s || strategy_check(s, &o->reg) < 0 ||
	    !(r.src = cli_source_engine(cli)))
		goto fail;
	if (!o->dry_run)
		strategy_prefetch(s, r.src, o->images, o->n);
	r.dst = cli_dest_engine(cli, o->to, &r.link);
	if (!r.dst || check_images(&r) < 0)
		goto fail;
	if (o->dry_run) {
		if (print_plan(&r, s) < 0)
			goto fail;
		ret = 0;
		goto out;
	}
	what = xstrdup(o->images[0]);
	if (o->n > 1) {
		free(what);
		what = xasprintf("%s (+%zu)", o->images[0], o->n - 1);
	}
	if (record_begin(&r.rec, cfgdir, "image", what, engine_name(r.src),
			 o->to, s->name) < 0)
		goto fail;
	record_set_status(&r.rec, "running");
	record_phase_begin(&r.rec, "transfer");
	if (transfer(&r, s, cfgdir) < 0) {
		struct dm_err why;
		int left;

		dm_error_save(&why);
		/* a notice while it runs; the error is main's to print */
		fputs("transfer failed; rolling back\n", stderr);
		left = undo(&r) < 0;
		record_fail(&r.rec, left ? "failed" : "rolled-back", why.kind,
			    why.msg);
		dm_error_restore(&why);
		dm_error_wrap("transfer failed");
		ret = cmd_failed_status(left);
		goto report;
	}
	record_phase_end(&r.rec);
	for (size_t i = 0; i < o->n; i++) {
		char *cfg = image_config_digest(r.src, o->images[i],
						r.info[i].id);

		record_add_config(&r.rec, cfg);
		free(cfg);
	}
	record_set_status(&r.rec, "completed");
	ret = 0;
report:
	record_print(&r.rec, o->json, stdout);
	goto out;
fail:
	ret = cmd_failed_status(0);
out:
	dm_error_save(&err);	/* the cleanup's errors are not the run's */
	for (size_t i = 0; i < o->n; i++)
		image_info_release(&r.info[i]);
	free(r.info);
	for (size_t i = 0; i < o->n; i++)
		free(r.had[i]);
	free(r.had);
	free(r.present);
	strlist_clear(&r.made);
	engine_free(r.dst);
	sshlink_close(r.link);
	engine_free(r.src);
	record_release(&r.rec);
	free(cfgdir);
	free(what);
	dm_error_restore(&err);
	return ret;
}
