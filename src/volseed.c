/*
 * volseed.c - a volume copied earlier, brought up to date (see
 * volseed.h).  The destination's own tree stands for what the earlier
 * copy sent: the final pass's rule (same type, size, mtime and link, and
 * not touched in or after the second the copy began) then leaves out
 * what is there already, and the tree digests compared afterwards prove
 * the result, whatever happened to the copy in between.
 */
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "dmh_proto.h"
#include "json.h"
#include "record.h"
#include "volseed.h"
#include "volstream.h"
#include "volsync.h"

int volume_seed_time(const char *cfgdir, const char *source,
		     const char *dest, const char *name, int64_t *taken)
{
	struct migration *all = NULL;
	size_t n = 0;
	int found = 0;

	if (record_load_all(cfgdir, &all, &n) < 0) {
		dm_clear_error();
		return 0;
	}
	/* oldest first: the newest copy wins */
	for (size_t i = 0; i < n; i++) {
		const struct migration *m = &all[i];
		const char *p = m->object;
		size_t len = strlen(name);

		if (!dm_streq(m->kind, "volumes") ||
		    !dm_streq(m->status, "completed") ||
		    !dm_streq(m->source, source) || !dm_streq(m->dest, dest))
			continue;
		/* "a,b,c": the names copied, each under its own name */
		while (p && *p) {
			size_t k = strcspn(p, ",");

			if (k == len && strncmp(p, name, len) == 0) {
				*taken = m->started;
				found = 1;
			}
			p += k + (p[k] == ',');
		}
	}
	for (size_t i = 0; i < n; i++)
		record_release(&all[i]);
	free(all);
	return found;
}

static int snap_cmp(const void *a, const void *b)
{
	return strcmp(((const struct snapent *)a)->name,
		      ((const struct snapent *)b)->name);
}

/* The tree behind helper as a snapshot taken at taken. */
static int tree_snap(struct engine *e, const char *helper, int64_t taken,
		     struct volsnap **out)
{
	struct summing s;
	char *path = xasprintf("/containers/%s/archive?path=%s", helper,
			       DMH_MOUNT);
	int ret;

	summing_init(&s, 0);
	s.record = xcalloc(1, sizeof(*s.record));
	s.record->taken = taken;
	ret = engine_get_stream(e, path, summing_sink, &s, NULL);
	if (ret == 0)
		ret = tar_filter_finish(&s.tf);
	free(path);
	if (ret == 0) {
		qsort(s.record->e, s.record->n, sizeof(*s.record->e), snap_cmp);
		*out = s.record;
	} else {
		volsnap_free(s.record);
	}
	summing_release(&s);
	return ret;
}

int volume_update_seed(struct engine *src, const char *src_helper,
		       struct engine *dst, const char *dst_helper,
		       int64_t taken, char digest[65], struct xfer_stats *st,
		       struct volsnap **snap, int *deleted)
{
	struct volsnap *seed = NULL;
	int64_t began = engine_now_s(src);
	int ret;

	*deleted = 0;
	if (tree_snap(dst, dst_helper, taken, &seed) < 0)
		return dm_error_wrap("reading the copy made earlier");
	ret = volsync_by_archive.final_pass(src, src_helper, dst, dst_helper,
					    seed, digest, st, deleted);
	volsnap_free(seed);
	if (ret < 0 || *deleted || !snap)
		return ret;
	/* what is there now, as of this pass: the later final pass sends
	 * only what changes from here */
	return tree_snap(dst, dst_helper, began, snap);
}
