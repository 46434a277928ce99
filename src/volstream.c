/*
 * volstream.c - a volume's tar stream between engines (see volstream.h
 * and volsync.h): the copy and pre-copy through the archive endpoints,
 * the snapshot a pre-copy records for the final pass, and the read-back
 * that verifies a copy by the digest of the whole tree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dm.h"
#include "json.h"
#include "transfer.h"
#include "volstream.h"
#include "volume.h"

void volsnap_free(struct volsnap *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
	{
		free(s->e[i].name);
		free(s->e[i].link);
	}
	free(s->e);
	treesum_free(s->dest);
	treesum_free(s->now);
	treesum_free(s->sent);
	strlist_clear(&s->gone);
	free(s);
}

static void snap_add(struct volsnap *s, const struct tar_member *m)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->e = xrealloc(s->e, s->cap * sizeof(*s->e));
	}
	s->e[s->n++] = (struct snapent){ xstrdup(m->name), m->size, m->mtime,
					 m->type, 0, xstrdup(m->linkname ?: ""),
					 0 };
}

static int snap_cmp(const void *a, const void *b)
{
	return strcmp(((const struct snapent *)a)->name,
		      ((const struct snapent *)b)->name);
}

struct snapent *snap_find(const struct volsnap *s, const char *name)
{
	struct snapent key = { .name = (char *)name };

	return bsearch(&key, s->e, s->n, sizeof(*s->e), snap_cmp);
}

static enum tar_action sum_member(void *ctx, const struct tar_member *m)
{
	struct summing *s = ctx;

	if (s->scan && strcmp(m->name, DMH_LIST_MEMBER) == 0)
		return s->no_list ? TAR_DROP : TAR_CAPTURE;
	if (s->scan && (strcmp(m->name, DMH_SPARSE_MEMBER) == 0 ||
			strcmp(m->name, DMH_STRIP_MEMBER) == 0))
		return TAR_CAPTURE;
	treesum_member(s->sum, m);
	if (s->record)
		snap_add(s->record, m);
	if (!s->tf.out)
		return TAR_DROP;
	if (s->since && s->unchanged(s->since, m)) {
		s->skipped += m->size;
		return TAR_DROP;
	}
	if (s->since) {
		struct snapent *e = snap_find(s->since, m->name);

		if (e)
			e->sent = 1;
	}
	treesum_mark_sent(s->sum);
	return TAR_FORWARD;
}

static int sum_data(void *ctx, const void *buf, size_t n)
{
	treesum_data(((struct summing *)ctx)->sum, buf, n);
	return 0;
}

static int sum_end(void *ctx)
{
	treesum_end(((struct summing *)ctx)->sum);
	return 0;
}

static int sum_out(void *ctx, const void *buf, size_t n)
{
	return gzout_write(&((struct summing *)ctx)->gz, buf, n);
}

void summing_init(struct summing *s, int forward)
{
	memset(s, 0, sizeof(*s));
	tar_filter_init(&s->tf);
	s->tf.member = sum_member;
	s->tf.data = sum_data;
	s->tf.member_end = sum_end;
	s->tf.out = forward ? sum_out : NULL;
	s->tf.ctx = s;
	s->sum = treesum_new();
}

void summing_release(struct summing *s)
{
	tar_filter_release(&s->tf);
	treesum_free(s->sum);
	sb_release(&s->list);
	sb_release(&s->sparse);
	sb_release(&s->strip);
}

static int copy_feed(void *ctx, const void *buf, size_t n, int fd)
{
	struct summing *s = ctx;

	s->gz.fd = fd;
	return tar_filter_feed(&s->tf, buf, n);
}

int summing_finish(struct summing *s, int fd)
{
	s->gz.fd = fd;
	if (tar_filter_finish(&s->tf) < 0)
		return -1;
	return gzout_finish(&s->gz);
}

static int copy_finish(void *ctx, int fd)
{
	return summing_finish(ctx, fd);
}

int volstream_copy(struct engine *src, const char *src_helper,
		   struct engine *dst, const char *dst_helper,
		   struct summing *s, char digest[65], struct xfer_stats *st)
{
	struct pipe_filter f = { copy_feed, copy_finish, s };
	char *from = xasprintf("/containers/%s/archive?path=%s", src_helper,
			       DMH_MOUNT);
	/* the stream's names start with "v/": unpacked at "/" they land in
	 * the volume, its root directory's owner and mode included */
	char *to = xasprintf("/containers/%s/archive?path=/", dst_helper);
	int ret = gzout_init(&s->gz);

	if (ret == 0)
		ret = engine_pipe_method(src, from, dst, "PUT", to,
					 "application/x-tar", &f, st);
	if (ret == 0)
		treesum_final(s->sum, digest);
	gzout_end(&s->gz);
	free(from);
	free(to);
	return ret;
}

/* the engines' times, as /info and the path stat give them */
int rfc3339_seconds(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	int n = 0, oh = 0, om = 0;
	const char *p;
	int64_t off = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
		off = (*p == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
	else if (*p != 'Z')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (int64_t)timegm(&tm) - off;
	return 0;
}


/* The source engine's clock: mtimes there are compared with it, and the
 * caller's may be off. */
int64_t engine_now_s(struct engine *e)
{
	yajl_val info = NULL;
	const char *t;
	int64_t now = dm_wall_s();

	if (engine_get_json(e, "/info", &info) == 0 &&
	    (t = json_str(info, "SystemTime", NULL)) != NULL &&
	    rfc3339_seconds(t, &now) < 0)
		now = dm_wall_s();
	yajl_tree_free(info);
	return now;
}

int volume_copy_snap(struct engine *src, const char *src_helper,
		     struct engine *dst, const char *dst_helper, char digest[65],
		     struct xfer_stats *st, struct volsnap **snap)
{
	struct summing s;
	int ret;
	const struct volsync_ops *how = &volsync_by_archive;

	summing_init(&s, 1);
	if (snap) {
		s.record = xcalloc(1, sizeof(*s.record));
		s.record->taken = engine_now_s(src);
		/* a container's move: dm-helper carries every kind of file */
		how = volsync_choose_copy(src, src_helper, dst, dst_helper);
		s.record->xattrs_all = how == &volsync_by_exec;
	}
	dm_debug("copy by %s", how->name);
	ret = how->copy(src, src_helper, dst, dst_helper, &s, digest, st);
	if (snap && ret == 0) {
		qsort(s.record->e, s.record->n, sizeof(*s.record->e), snap_cmp);
		s.record->sent = s.sum;
		s.sum = NULL;
		*snap = s.record;
	} else {
		volsnap_free(s.record);
	}
	summing_release(&s);
	return ret;
}

int volume_copy(struct engine *src, const char *src_helper,
		struct engine *dst, const char *dst_helper, char digest[65],
		struct xfer_stats *st)
{
	return volume_copy_snap(src, src_helper, dst, dst_helper, digest, st,
				NULL);
}

int summing_sink(void *ctx, const void *buf, size_t n)
{
	return tar_filter_feed(&((struct summing *)ctx)->tf, buf, n);
}

int volstream_read_tree(struct engine *e, const char *helper,
			const char *name, struct treesum **out)
{
	struct summing s;
	char *full = xasprintf("%s%s%s", DMH_MOUNT, name[0] ? "/" : "",
			       name);
	char *q = engine_escape(full);
	char *path = xasprintf("/containers/%s/archive?path=%s", helper, q);
	const char *slash = strrchr(name, '/');
	int ret;

	summing_init(&s, 0);
	if (name[0]) {	/* names come as "base/...": put the parent back */
		char *parent = xstrndup(name, slash ? (size_t)(slash - name) : 0);

		treesum_free(s.sum);
		s.sum = treesum_new_at(parent);
		free(parent);
	}
	ret = engine_get_stream(e, path, summing_sink, &s, NULL);
	if (ret == 0)
		ret = tar_filter_finish(&s.tf);
	if (ret == 0) {
		char hex[65];

		treesum_final(s.sum, hex);
		*out = s.sum;
		s.sum = NULL;
	}
	summing_release(&s);
	free(path);
	free(q);
	free(full);
	return ret;
}

int volume_read_back(struct engine *e, const char *helper, char digest[65],
		     size_t *entries, struct volsnap *keep)
{
	struct treesum *t = NULL;
	int by = volsum_by_helper(e, helper, keep && keep->xattrs_all, digest,
				  entries);

	if (by < 0)
		return -1;
	/* the digest where the data is: a pre-copy's stream is what the
	 * destination holds when they agree (the caller compares them) */
	if (by == 0 && (!keep || keep->sent || keep->dest)) {
		if (keep && keep->sent) {
			treesum_free(keep->dest);
			keep->dest = keep->sent;
			keep->sent = NULL;
		}
		return 0;
	}
	if (volstream_read_tree(e, helper, "", &t) < 0)
		return -1;
	treesum_final(t, digest);
	if (entries)
		*entries = treesum_entries(t);
	if (keep) {
		treesum_free(keep->dest);
		keep->dest = t;
	} else {
		treesum_free(t);
	}
	return 0;
}

int volume_digest(struct engine *e, const char *helper, char digest[65],
		  size_t *entries)
{
	return volume_read_back(e, helper, digest, entries, NULL);
}
