/*
 * volsync_exec.c - a volume's final pass by dm-helper, run through the
 * Engine API's exec in helper containers started before the downtime
 * (see volsync.h and dmh_proto.h): unchanged files are not read, what
 * went at the source is removed, and the check reads back in one exec
 * what the pass sent or removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "transfer.h"
#include "volcheck.h"
#include "volstream.h"
#include "volume.h"

/* The scan's list of names, or its sparse files. */
static int keep_list(void *ctx, const char *name, const char *data, size_t len)
{
	struct summing *s = ctx;
	struct strbuf *to = strcmp(name, DMH_SPARSE_MEMBER) == 0 ? &s->sparse
			    : strcmp(name, DMH_STRIP_MEMBER) == 0 ? &s->strip
			    : &s->list;

	sb_release(to);
	sb_add(to, data, len);
	return 0;
}

struct scan_run {
	struct summing *s;
	struct engine *src;
	const char *helper;
	char since[24];		/* "0": everything (a copy) */
};

static int scan_sink(void *ctx, const void *buf, size_t n)
{
	return tar_filter_feed(&((struct scan_run *)ctx)->s->tf, buf, n);
}

/* The producer of the PUT: dm-helper's scan, gzip'ed on the way. */
static int scan_produce(void *ctx, int fd)
{
	struct scan_run *r = ctx;
	const char *argv[] = { DMH_PATH, DMH_VERB_SCAN, DMH_MOUNT, r->since,
			       NULL };
	int ret;

	r->s->gz.fd = fd;
	ret = helper_run(r->src, r->helper, argv, scan_sink, r, "scan");
	if (ret == 0)
		ret = summing_finish(r->s, fd);
	return ret;
}

static int by_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A listed name and what the scan saw of it (see dm-helper's list_add);
 * the name first, for by_strp. */
struct listed {
	const char *name, *meta;
};

/* Whether an entry the scan did not send is the one the pre-copy read
 * back: a directory renamed over another changes its own ctime only, and
 * a volume's clock may lag the host's, so the names under it can hold
 * other files than the read-back's. */
static int same_as_read(const struct tree_entry *e, const char *meta)
{
	char type;
	long long size, mtime;
	unsigned uid, gid;

	if (sscanf(meta, DMH_LIST_META, &type, &size, &mtime, &uid,
		   &gid) != DMH_LIST_META_N)
		return 0;
	return e->type == type && (type != '0' || e->size == (uint64_t)size) &&
	       e->mtime == (uint64_t)mtime && e->uid == uid && e->gid == gid;
}

/* The scan's list as names and metas, sorted by name; NULL when cut. */
static struct listed *list_parse(const char *list, size_t len, size_t *n)
{
	size_t nuls = 0, k = 0;
	struct listed *names;

	for (size_t i = 0; i < len; i++)
		nuls += list[i] == '\0';
	if ((len && list[len - 1] != '\0') || nuls % 2) {
		dm_error("dm-helper's list of names is cut");
		return NULL;
	}
	*n = nuls / 2;
	names = xcalloc(*n + 1, sizeof(*names));
	for (size_t i = 0; i < len; k++) {
		names[k].name = list + i;
		i += strlen(list + i) + 1;
		names[k].meta = list + i;
		i += strlen(list + i) + 1;
	}
	qsort(names, *n, sizeof(*names), by_strp);
	return names;
}

/* Sent entries are in now already; the rest must be as the pre-copy's
 * read-back found it, and is added from there.  0, or 1 when one is
 * new or not what was read, yet older than the pre-copy: then the
 * archive's pass decides. */
static int add_unsent(const struct treesum *before, const struct listed *names,
		      size_t n, struct treesum *now)
{
	const struct tree_entry **kept = xcalloc(n + 1, sizeof(*kept));
	size_t nkept = 0;
	char hex[65];
	int ret = 0;

	treesum_final(now, hex);	/* sorted, to be searched */
	for (size_t i = 0; i < n && ret == 0; i++) {
		if (treesum_find(now, names[i].name))
			continue;
		kept[nkept] = treesum_find(before, names[i].name);
		if (!kept[nkept] || !same_as_read(kept[nkept], names[i].meta)) {
			dm_debug("%s: not sent, and not as the pre-copy read it: "
				 "the whole volume is compared", names[i].name);
			ret = 1;
		}
		nkept++;
	}
	for (size_t i = 0; i < nkept && ret == 0; i++)
		treesum_add(now, kept[i]);
	free(kept);
	return ret;
}

/* What before has and the list lacks, only the top of what went: a
 * directory takes its entries with it. */
static void find_gone(const struct treesum *before, const struct listed *names,
		      size_t n, struct strlist *gone)
{
	for (size_t i = 0; i < treesum_entries(before); i++) {
		const char *name = treesum_at(before, i)->name;
		const char *slash = strrchr(name, '/');
		char key[4096];

		if (!name[0] ||
		    bsearch(&name, names, n, sizeof(*names), by_strp))
			continue;
		if (slash && (size_t)(slash - name) < sizeof(key)) {
			const char *kp = key;

			memcpy(key, name, (size_t)(slash - name));
			key[slash - name] = '\0';
			if (!bsearch(&kp, names, n, sizeof(*names), by_strp))
				continue;
		}
		strlist_add(gone, name);
	}
}

int sync_plan(const struct treesum *before, const char *list, size_t len,
	      struct treesum *now, struct strlist *gone)
{
	size_t n = 0;
	struct listed *names = list_parse(list, len, &n);
	int ret;

	if (!names)
		return -1;
	ret = add_unsent(before, names, n, now);
	if (ret == 0)
		find_gone(before, names, n, gone);
	free(names);
	return ret;
}

/* dm-helper VERB at the destination for every name, in batches of
 * arguments of 64 kB. */
static int run_batches(struct engine *dst, const char *helper,
		       const char *verb, const char *arg,
		       const struct strlist *names, const char *what)
{
	for (size_t i = 0; i < names->n;) {
		const char **argv = xcalloc(names->n - i + 5, sizeof(*argv));
		size_t k = 0, k0, bytes = 0;
		int ret;

		argv[k++] = DMH_PATH;
		argv[k++] = verb;
		argv[k++] = DMH_MOUNT;
		if (arg)
			argv[k++] = arg;
		k0 = k;
		while (i < names->n && (k == k0 || bytes < 65536)) {
			bytes += strlen(names->v[i]) + 1;
			argv[k++] = names->v[i++];
		}
		ret = helper_run(dst, helper, argv, NULL, NULL, what);
		free(argv);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/* Remove what went at the source. */
static int remove_gone(struct engine *dst, const char *helper,
		       const struct strlist *gone)
{
	return run_batches(dst, helper, DMH_VERB_RM, NULL, gone,
			   "removing what was deleted at the source");
}

/* The NUL-terminated strings of a member, every step-th from first. */
static void member_strings(const struct strbuf *m, size_t first, size_t step,
			   const char *after, struct strlist *out)
{
	size_t k = 0;
	const char *prev = NULL;

	for (size_t i = 0; i < m->len; i += strlen(m->buf + i) + 1, k++) {
		if (memchr(m->buf + i, '\0', m->len - i) == NULL)
			break;	/* cut: its last string is not whole */
		if (k >= first && (k - first) % step == 0 &&
		    (!after || (prev && strcmp(prev, after) == 0)))
			strlist_add(out, m->buf + i);
		prev = m->buf + i;
	}
}

/* What the destination engine cannot do by itself after a scan's
 * stream: the sparse files it wrote whole made sparse again
 * (DMH_SPARSE_MEMBER), the ACLs its kernel gave entries the source's do
 * not have removed (DMH_STRIP_MEMBER). */
static int finish_stream(struct engine *dst, const char *helper,
			 const struct summing *s)
{
	static const char *const acls[] = { DMH_ACL_ACCESS, DMH_ACL_DEFAULT };
	struct strlist names = { 0 };
	int ret;

	member_strings(&s->sparse, 0, 1, NULL, &names);
	ret = run_batches(dst, helper, DMH_VERB_PUNCH, NULL, &names,
			  "making sparse files sparse again");
	if (names.n)
		dm_debug("%zu sparse file(s) punched at %s", names.n,
			 engine_name(dst));
	for (size_t a = 0; a < 2 && ret == 0; a++) {
		strlist_clear(&names);
		/* pairs XATTR NAME: the names after this attribute */
		member_strings(&s->strip, 1, 2, acls[a], &names);
		ret = run_batches(dst, helper, DMH_VERB_STRIP, acls[a], &names,
				  "removing ACLs the destination added");
	}
	strlist_clear(&names);
	return ret;
}

/* 0 done; 1 cannot tell (no read-back kept, or an entry new at the
 * source yet older than the pre-copy); -1 failed. */
static int exec_pass(struct engine *src, const char *src_helper,
		     struct engine *dst, const char *dst_helper,
		     struct volsnap *snap, char digest[65],
		     struct xfer_stats *st)
{
	struct summing s;
	struct scan_run r = { .s = &s, .src = src, .helper = src_helper };
	char *to = xasprintf("/containers/%s/archive?path=/", dst_helper);
	struct strlist gone = { 0 };
	int64_t t0 = dm_now_ms(), t1 = 0;
	int ret;

	if (!snap->dest) {
		free(to);
		return 1;
	}
	summing_init(&s, 1);
	s.scan = 1;
	s.tf.captured = keep_list;
	s.tf.capture_max = 256u << 20;
	snprintf(r.since, sizeof(r.since), "%lld", (long long)snap->taken);
	ret = gzout_init(&s.gz);
	if (ret == 0)
		ret = engine_send_produced(dst, "PUT", to, "application/x-tar",
					   scan_produce, &r, NULL, st);
	if (ret == 0) {
		t1 = dm_now_ms();
		ret = sync_plan(snap->dest, s.list.buf ? s.list.buf : "",
				s.list.len, s.sum, &gone);
	}
	gzout_end(&s.gz);
	if (ret == 0)
		ret = remove_gone(dst, dst_helper, &gone);
	if (ret == 0)
		ret = finish_stream(dst, dst_helper, &s);
	if (ret == 0) {
		snap->xattrs_all = 1;
		treesum_free(snap->now);
		snap->now = s.sum;
		s.sum = NULL;
		/* a new final: the added entries sorted in */
		treesum_refinal(snap->now, digest);
		strlist_clear(&snap->gone);
		snap->gone = gone;
		memset(&gone, 0, sizeof(gone));
		snap->by_exec = 1;
	}
	dm_debug("sync by dm-helper: %zu entries, %zu removed, %lld + %lld "
		 "ms", snap->now ? treesum_entries(snap->now) : 0, snap->gone.n,
		 (long long)((t1 ? t1 : dm_now_ms()) - t0),
		 (long long)(t1 ? dm_now_ms() - t1 : 0));
	strlist_clear(&gone);
	summing_release(&s);
	free(to);
	return ret;
}

/* dm-helper get's command line for every entry the pass sent and every
 * one it removed; NULL when the names would not fit in one (128 kB). */
static const char **get_argv(const struct treesum *now,
			     const struct strlist *gone, size_t *nsent)
{
	size_t n = treesum_entries(now), k = 0, bytes = 0;
	const char **argv = xcalloc(n + gone->n + 4, sizeof(*argv));

	argv[k++] = DMH_PATH;
	argv[k++] = DMH_VERB_GET;
	argv[k++] = DMH_MOUNT;
	*nsent = 0;
	for (size_t i = 0; i < n; i++) {
		const struct tree_entry *e = treesum_at(now, i);

		if (!e->sent)
			continue;
		argv[k++] = e->name[0] ? e->name : ".";
		bytes += strlen(e->name) + 2;
		(*nsent)++;
	}
	for (size_t i = 0; i < gone->n; i++) {
		argv[k++] = gone->v[i];
		bytes += strlen(gone->v[i]) + 1;
	}
	if (bytes > 128 * 1024) {
		free(argv);
		return NULL;
	}
	return argv;
}

static int keep_stats(void *ctx, const void *buf, size_t n)
{
	sb_add(ctx, buf, n);
	return 0;
}

static int hex_bytes(const char *hex, unsigned char *out, size_t n)
{
	if (strlen(hex) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

/* One of stat's records as an entry (its strings point into the
 * record); -1 when it is not one. */
static int stat_entry_parse(const char *const f[DMH_STAT_FIELDS],
			    struct tree_entry *g)
{
	unsigned long long mode, uid, gid, size, mtime;
	int linked;

	memset(g, 0, sizeof(*g));
	if (sscanf(f[1], DMH_SUM_HEAD, &g->type, &mode, &uid, &gid, &size,
		   &mtime, &linked) != 7)
		return -1;
	g->name = (char *)f[0];
	g->mode = mode;
	g->uid = uid;
	g->gid = gid;
	g->size = size;
	g->mtime = mtime;
	g->linked = linked;
	g->link = (char *)f[2];
	g->xattrs = (char *)f[3];
	return g->type == '0' ? hex_bytes(f[4], g->sha, sizeof(g->sha))
			      : f[4][0] ? -1 : 0;
}

int sync_check_stats(const struct treesum *now, const struct strlist *gone,
		     const char *buf, size_t len, size_t nsent)
{
	const char *f[DMH_STAT_FIELDS];
	size_t seen = 0, k = 0;

	if (len && buf[len - 1] != '\0')
		return dm_error("dm-helper's read-back of the final pass is cut");
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
		const struct tree_entry *e;
		struct tree_entry g;

		f[k++] = buf + i;
		if (k < DMH_STAT_FIELDS)
			continue;
		k = 0;
		if (stat_entry_parse(f, &g) < 0)
			return dm_error("dm-helper's read-back of \"%s\" cannot "
					"be read", f[0]);
		e = treesum_find(now, g.name);
		if (!e || !e->sent)
			return volcheck_under(g.name, gone)
			       ? volcheck_differs(g.name, "deleted at the "
						  "source, still there")
			       : volcheck_differs(g.name, "not sent");
		if (!tree_entry_equal(e, &g))
			return volcheck_differs(g.name, "content or attributes");
		seen++;
	}
	if (k)
		return dm_error("dm-helper's read-back of the final pass is cut");
	if (seen != nsent)
		return volcheck_differs("", "entries sent are missing");
	return 0;
}

/* With dm-helper at the destination: every entry the pass sent, and
 * every one it removed, stat'ed and digested there in one exec
 * (dm-helper stat): only their records cross the link, not their
 * content.  1 when the names would not fit in one command line. */
static int check_by_helper(struct engine *dst, const char *helper,
			   const struct treesum *now, const struct strlist *gone)
{
	size_t nsent;
	const char **argv = get_argv(now, gone, &nsent);
	struct strbuf out = STRBUF_INIT;
	int ret;

	if (!argv)
		return 1;
	argv[1] = DMH_VERB_STAT;
	ret = helper_run(dst, helper, argv, keep_stats, &out,
			 "reading back the final pass");
	free(argv);
	if (ret == 0)
		ret = sync_check_stats(now, gone, out.buf ? out.buf : "",
				       out.len, nsent);
	sb_release(&out);
	return ret < 0 ? -1 : ret;
}


/* The whole volume by dm-helper's scan of everything ("0": every ctime
 * is later) into the destination's PUT, then its sparse files punched. */
static int exec_copy(struct engine *src, const char *src_helper,
		     struct engine *dst, const char *dst_helper,
		     struct summing *s, char digest[65], struct xfer_stats *st)
{
	struct scan_run r = { .s = s, .src = src, .helper = src_helper,
			      .since = "0" };
	char *to = xasprintf("/containers/%s/archive?path=/", dst_helper);
	int ret;

	s->scan = 1;
	s->no_list = 1;
	s->tf.captured = keep_list;
	s->tf.capture_max = 256u << 20;
	ret = gzout_init(&s->gz);
	if (ret == 0)
		ret = engine_send_produced(dst, "PUT", to, "application/x-tar",
					   scan_produce, &r, NULL, st);
	if (ret == 0)
		treesum_final(s->sum, digest);
	gzout_end(&s->gz);
	if (ret == 0)
		ret = finish_stream(dst, dst_helper, s);
	free(to);
	return ret;
}

/* dm-helper's pass; where it cannot tell, the archive's. */
static int exec_final_pass(struct engine *src, const char *src_helper,
			   struct engine *dst, const char *dst_helper,
			   struct volsnap *snap, char digest[65],
			   struct xfer_stats *st, int *deleted)
{
	int ret = exec_pass(src, src_helper, dst, dst_helper, snap, digest, st);

	*deleted = 0;
	if (ret != 1)
		return ret;
	return volsync_by_archive.final_pass(src, src_helper, dst, dst_helper,
					     snap, digest, st, deleted);
}

/* What dm-helper's pass sent or removed read back by dm-helper; a pass
 * that was the archive's, or a check by stats only, is the archive's. */
static int exec_check(struct engine *dst, const char *dst_helper,
		      const struct volsnap *snap, int stat_only,
		      size_t *entries)
{
	struct volcheck p;
	int64_t t1;
	int ret;

	if (!snap || !snap->by_exec || stat_only)
		return volsync_by_archive.check(dst, dst_helper, snap,
						stat_only, entries);
	if (!volcheck_possible(snap))
		return 1;
	ret = volcheck_plan(snap, stat_only, &p);
	if (ret != 0) {
		volcheck_report(&p, ret, dm_now_ms());
		volcheck_release(&p);
		return ret;
	}
	volcheck_release(&p);
	t1 = dm_now_ms();
	ret = check_by_helper(dst, dst_helper, snap->now, &snap->gone);
	if (ret == 0 && entries)
		*entries = treesum_entries(snap->now);
	dm_debug("final pass: read back by dm-helper%s (%lld ms)",
		 ret == 1 ? ": too many names, reading it whole" : "",
		 (long long)(dm_now_ms() - t1));
	return ret;
}

const struct volsync_ops volsync_by_exec = {
	.name = "dm-helper",
	.copy = exec_copy,
	.final_pass = exec_final_pass,
	.check = exec_check,
};
