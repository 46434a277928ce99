/*
 * transfer.c - the engine-to-engine pipe, image inspection, and the table
 * of strategies (see transfer.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dm.h"
#include "json.h"
#include "migrate.h"
#include "registry.h"
#include "transfer.h"

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The producing side of a pipe into an engine: a thread of its own. */
struct producer {
	int (*produce)(void *ctx, int fd);
	void *ctx;
	int fd;
	int ret;
	int done;	/* set before its end of the pipe closes */
	char err[1024];
	enum dm_errkind kind;	/* the error's kind, kept across threads */
};

static void *produce_side(void *arg)
{
	struct producer *p = arg;

	p->ret = p->produce(p->ctx, p->fd);
	if (p->ret < 0) {
		snprintf(p->err, sizeof(p->err), "%s", dm_errmsg());
		p->kind = dm_errkind();
	}
	__atomic_store_n(&p->done, 1, __ATOMIC_SEQ_CST);
	/* EOF for the sending side: a short stream fails the load there */
	close(p->fd);
	return NULL;
}

/* A compressing producer writes in bursts (a member at a time) while the
 * link drains steadily: 64 kB of pipe lets the link idle while the next
 * member is compressed, a few MB let both run at once.  Root may go past
 * fs.pipe-max-size; anyone may reach it (1 MB by default). */
static void grow_pipe(int fd)
{
	if (fcntl(fd, F_SETPIPE_SZ, 4 << 20) < 0)
		(void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}

int engine_send_produced(struct engine *dst, const char *method,
			 const char *path, const char *content_type,
			 int (*produce)(void *ctx, int fd), void *ctx,
			 const char *what, struct xfer_stats *st)
{
	return engine_send_produced_reply(dst, method, path, content_type,
					  produce, ctx, what, st, NULL);
}

int engine_send_produced_reply(struct engine *dst, const char *method,
			       const char *path, const char *content_type,
			       int (*produce)(void *ctx, int fd), void *ctx,
			       const char *what, struct xfer_stats *st,
			       struct strbuf *out)
{
	struct producer pr = { .produce = produce, .ctx = ctx };
	struct strbuf reply = STRBUF_INIT;
	pthread_t t;
	int p[2], ret, producer_first;

	if (pipe2(p, O_CLOEXEC) < 0)
		return dm_error("pipe: %s", strerror(errno));
	grow_pipe(p[1]);
	pr.fd = p[1];
	if (pthread_create(&t, NULL, produce_side, &pr) != 0) {
		close(p[0]);
		close(p[1]);
		return dm_error("cannot start a transfer thread");
	}
	ret = engine_send_from_fd(dst, method, path, p[0], content_type,
				  &reply, st);
	producer_first = __atomic_load_n(&pr.done, __ATOMIC_SEQ_CST);
	/* unblocks the producer if the sending side gave up first */
	close(p[0]);
	pthread_join(t, NULL);
	if (out)
		sb_add(out, reply.buf ? reply.buf : "", reply.len);
	sb_release(&reply);
	/* whichever side failed first explains the other's failure: a
	 * producer still running when the sink gave up (interrupted, the
	 * link lost) only saw the pipe break */
	if (pr.ret < 0 && (ret == 0 || producer_first))
		return what ? dm_error_kind(pr.kind, "%s: %s", what, pr.err)
			    : dm_error_kind(pr.kind, "%s", pr.err);
	return ret;
}

struct reader {
	struct engine *e;
	const char *path;
	const struct pipe_filter *f;
	struct xfer_stats *st;
	int fd;
	int done;	/* the filter needs no more of the source */
};

static int reader_sink(void *ctx, const void *buf, size_t n)
{
	struct reader *r = ctx;
	int ret;

	if (!r->f)
		return fd_write_all(r->fd, buf, n);
	/* what is sent is not what is read: the progress of the whole
	 * export is what tells how long is left */
	if (r->st)
		__atomic_add_fetch(&r->st->read, (uint64_t)n, __ATOMIC_RELAXED);
	ret = r->f->feed(r->f->ctx, buf, n, r->fd);
	if (ret == 1) {
		r->done = 1;
		return dm_error("done");	/* closes the source's request */
	}
	return ret;
}

static int read_source(void *ctx, int fd)
{
	struct reader *r = ctx;

	r->fd = fd;
	if (engine_get_stream(r->e, r->path, reader_sink, r, NULL) < 0) {
		if (!r->done)
			return -1;
		dm_clear_error();
	}
	return r->f && r->f->finish ? r->f->finish(r->f->ctx, fd) : 0;
}

int engine_pipe(struct engine *src, const char *src_path, struct engine *dst,
		const char *dst_path, const char *content_type,
		const struct pipe_filter *f, struct xfer_stats *st)
{
	return engine_pipe_method(src, src_path, dst, "POST", dst_path,
				  content_type, f, st);
}

int engine_pipe_method(struct engine *src, const char *src_path,
		       struct engine *dst, const char *method,
		       const char *dst_path, const char *content_type,
		       const struct pipe_filter *f, struct xfer_stats *st)
{
	return engine_pipe_reply(src, src_path, dst, method, dst_path,
				 content_type, f, st, NULL);
}

int engine_pipe_reply(struct engine *src, const char *src_path,
		      struct engine *dst, const char *method,
		      const char *dst_path, const char *content_type,
		      const struct pipe_filter *f, struct xfer_stats *st,
		      struct strbuf *reply)
{
	struct reader r = { .e = src, .path = src_path, .f = f, .st = st };
	char *what = xasprintf("reading from %s", engine_name(src));
	int ret = engine_send_produced_reply(dst, method, dst_path,
					     content_type, read_source, &r,
					     what, st, reply);

	free(what);
	return ret;
}

void load_reply_names(const char *reply, size_t len, struct strlist *out)
{
	static const char *const prefixes[] = { "Loaded image ID: ",
						"Loaded image: " };
	const char *p = reply, *end = reply + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		yajl_val v = n && memmem(p, n, "Loaded image", 12)
			     ? json_parse_quiet(p, n) : NULL;
		const char *msg = json_str(v, "stream", NULL);

		for (size_t i = 0; msg && i < 2; i++) {
			size_t pl = strlen(prefixes[i]);

			if (strncmp(msg, prefixes[i], pl) == 0 &&
			    msg[pl] && msg[pl] != '\n') {
				char *name = xstrndup(msg + pl,
						      strcspn(msg + pl, "\n"));

				strlist_add(out, name);
				free(name);
				break;
			}
		}
		yajl_tree_free(v);
		p = nl ? nl + 1 : end;
	}
}

/* The ids of every image of e, sorted. */
static int image_ids(struct engine *e, struct strlist *out)
{
	yajl_val list = NULL;

	if (engine_get_json(e, "/images/json?all=1", &list) < 0)
		return -1;
	for (size_t i = 0; i < json_alen(list); i++) {
		const char *id = json_str(list->u.array.values[i], "Id", NULL);

		if (id)
			strlist_add(out, id);
	}
	yajl_tree_free(list);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_strp);
	return 0;
}

static int has_str(const struct strlist *l, const char *s)
{
	return l->n && bsearch(&s, l->v, l->n, sizeof(*l->v), cmp_strp);
}

/* The images named in a load's reply that were not there before it. */
static void note_made(const struct transfer *t, const struct strlist *before,
		      const struct strbuf *reply)
{
	struct strlist names = { 0 };

	load_reply_names(reply->buf ? reply->buf : "", reply->len, &names);
	for (size_t i = 0; i < names.n; i++) {
		struct image_info ii;
		const char *id = names.v[i];

		if (!dm_starts_with(id, "sha256:")) {
			if (image_inspect(t->dst, id, &ii) != 1) {
				image_info_release(&ii);
				dm_clear_error();
				continue;
			}
			id = ii.id;
		} else {
			memset(&ii, 0, sizeof(ii));
		}
		if (id && !has_str(before, id)) {
			int seen = 0;

			for (size_t k = 0; k < t->made->n && !seen; k++)
				seen = strcmp(t->made->v[k], id) == 0;
			if (!seen)
				strlist_add(t->made, id);
		}
		image_info_release(&ii);
	}
	strlist_clear(&names);
}

/* A load from src_path through f, or of what produce writes. */
static int load(const struct transfer *t, const char *src_path,
		const struct pipe_filter *f, int (*produce)(void *ctx, int fd),
		void *ctx)
{
	struct strbuf reply = STRBUF_INIT;
	struct strlist before = { 0 };
	int ret;

	if (t->made && image_ids(t->dst, &before) < 0)
		return -1;
	if (produce)
		ret = engine_send_produced_reply(t->dst, "POST",
						 "/images/load?quiet=1",
						 "application/x-tar", produce,
						 ctx, NULL, t->st, &reply);
	else
		ret = engine_pipe_reply(t->src, src_path, t->dst, "POST",
					"/images/load?quiet=1",
					"application/x-tar", f, t->st, &reply);
	/* a load that failed may have made an image all the same (the
	 * containerd store names it before it unpacks it): the rollback
	 * must know it, whatever the error says */
	if (t->made) {
		struct dm_err err;

		dm_error_save(&err);
		note_made(t, &before, &reply);
		if (ret < 0)
			dm_error_restore(&err);
	}
	strlist_clear(&before);
	sb_release(&reply);
	return ret;
}

void image_remove_made(const struct transfer *t, size_t from)
{
	while (t->made && t->made->n > from) {
		char *id = t->made->v[t->made->n - 1];
		char *path = xasprintf("/images/%s?force=1", id);

		if (engine_delete(t->dst, path) < 0) {
			dm_clear_error();
			free(path);
			return;		/* left to the rollback */
		}
		free(path);
		free(id);
		t->made->n--;
	}
}

int image_load(const struct transfer *t, const char *src_path,
	       const struct pipe_filter *f)
{
	return load(t, src_path, f, NULL, NULL);
}

int image_load_produced(const struct transfer *t,
			int (*produce)(void *ctx, int fd), void *ctx)
{
	return load(t, NULL, NULL, produce, ctx);
}

enum image_store engine_image_store(struct engine *e)
{
	yajl_val info = NULL, st;
	enum image_store ret = STORE_GRAPHDRIVER;

	if (engine_get_json(e, "/info", &info) < 0)
		return STORE_UNKNOWN;
	st = json_get(info, "DriverStatus", NULL);
	for (size_t i = 0; i < json_alen(st); i++) {
		yajl_val kv = st->u.array.values[i];

		if (json_alen(kv) == 2 && YAJL_IS_STRING(kv->u.array.values[0]) &&
		    YAJL_IS_STRING(kv->u.array.values[1]) &&
		    strcmp(kv->u.array.values[0]->u.string, "driver-type") == 0 &&
		    strcmp(kv->u.array.values[1]->u.string,
			   "io.containerd.snapshotter.v1") == 0)
			ret = STORE_CONTAINERD;
	}
	yajl_tree_free(info);
	return ret;
}

int image_check_arrived(struct engine *e, const char *id,
			char *const *diff_ids, size_t n, const char *ref)
{
	char *esc = engine_escape(id), *path = xasprintf("/images/%s/json", esc);
	yajl_val v = NULL, layers;
	long st = engine_get_json_opt(e, path, &v);
	int ret = 0;

	free(esc);
	free(path);
	if (st < 0)
		return -1;
	if (st == 404 || !v)
		return dm_error("%s did not arrive at the destination (no image "
				"%.*s there after the load)", ref,
				dm_starts_with(id, "sha256:") ? 19 : 200, id);
	layers = json_get(v, "RootFS", "Layers", NULL);
	if (json_is_empty(json_get(v, "Config", NULL)) ||
	    (n && !json_alen(layers)))
		ret = dm_error("%s arrived broken at the destination: the "
			       "image %.*s there has no %s", ref,
			       dm_starts_with(id, "sha256:") ? 19 : 200, id,
			       json_alen(layers) || !n ? "config" : "layers");
	else if (json_alen(layers) != n)
		ret = dm_error("%s arrived with %zu layers, not %zu", ref,
			       json_alen(layers), n);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		yajl_val d = layers->u.array.values[i];

		if (!YAJL_IS_STRING(d) || strcmp(d->u.string, diff_ids[i]))
			ret = dm_error("%s arrived with another layer %zu than "
				       "the source's", ref, i + 1);
	}
	yajl_tree_free(v);
	return ret;
}

void image_info_release(struct image_info *ii)
{
	free(ii->id);
	free(ii->os_arch);
	memset(ii, 0, sizeof(*ii));
}

int image_inspect(struct engine *e, const char *ref, struct image_info *out)
{
	char *esc = engine_escape(ref);
	char *path = xasprintf("/images/%s/json", esc);
	yajl_val v = NULL;
	long st = engine_get_json_opt(e, path, &v);

	free(esc);
	free(path);
	memset(out, 0, sizeof(*out));
	if (st < 0)
		return -1;
	if (st == 404 || !v) {
		yajl_tree_free(v);
		return 0;
	}
	out->id = xstrdup(json_str(v, "Id", NULL));
	out->size = json_int(v, 0, "Size", NULL);
	out->os_arch = xasprintf("%s/%s", json_str(v, "Os", NULL) ?: "?",
				 json_str(v, "Architecture", NULL) ?: "?");
	yajl_tree_free(v);
	return 1;
}

int image_tag(struct engine *e, const char *id, const char *ref)
{
	const char *colon = strrchr(ref, ':');
	char *r, *repo, *tag, *path;
	long st;

	/* "host:5000/app" has a colon but no tag: the tag follows the last
	 * slash, when there is a colon after it */
	if (colon && !strchr(colon, '/')) {
		r = xstrndup(ref, (size_t)(colon - ref));
		tag = engine_escape(colon + 1);
	} else {
		r = xstrdup(ref);
		tag = xstrdup("latest");
	}
	repo = engine_escape(r);
	path = xasprintf("/images/%s/tag?repo=%s&tag=%s", id, repo, tag);
	st = engine_post_json(e, path, NULL, NULL);
	free(r);
	free(repo);
	free(tag);
	free(path);
	return st < 0 ? dm_error_wrap("tagging %s on %s", ref, engine_name(e)) : 0;
}

int image_tag_if_missing(struct engine *e, const char *id, const char *ref)
{
	struct image_info have;
	int r;

	if (dm_starts_with(ref, "sha256:") || dm_streq(ref, id))
		return 0;
	r = image_inspect(e, ref, &have);
	r = r == 1 && dm_streq(have.id, id);
	image_info_release(&have);
	if (r)
		return 0;
	return image_tag(e, id, ref) < 0 ? -1 : 1;
}

char *images_get_path(const char *const *refs, size_t n)
{
	struct strbuf path = STRBUF_INIT;

	sb_adds(&path, "/images/get?");
	for (size_t i = 0; i < n; i++) {
		char *esc = engine_escape(refs[i]);

		sb_addf(&path, "%snames=%s", i ? "&" : "", esc);
		free(esc);
	}
	return sb_detach(&path);
}

/* The seeds' "simple migration": the whole image, docker save | load,
 * streamed engine to engine (no file on either side). */
int image_check_copied(const struct transfer *t, const char *ref,
		       const char *dst_ref)
{
	char *esc = engine_escape(ref), *path = xasprintf("/images/%s/json", esc);
	struct strlist ids = { 0 };
	yajl_val v = NULL, l;
	int ret;

	free(esc);
	ret = engine_get_json(t->src, path, &v);
	free(path);
	l = json_get(v, "RootFS", "Layers", NULL);
	for (size_t i = 0; ret == 0 && i < json_alen(l); i++)
		if (YAJL_IS_STRING(l->u.array.values[i]))
			strlist_add(&ids, l->u.array.values[i]->u.string);
	if (ret == 0)
		ret = image_check_arrived(t->dst, dst_ref, ids.v, ids.n, ref);
	strlist_clear(&ids);
	yajl_tree_free(v);
	return ret;
}

static int transfer_save(const struct transfer *t, const char *const *refs,
			 size_t n)
{
	char *path = images_get_path(refs, n);
	int ret = image_load(t, path, NULL);

	for (size_t i = 0; ret == 0 && i < n; i++)
		if (!dm_starts_with(refs[i], "sha256:"))
			ret = image_check_copied(t, refs[i], refs[i]);

	free(path);
	return ret;
}

/* delta sends one image at a time */
static char *delta_first_export(const char *const *refs, size_t n)
{
	(void)n;
	return images_get_path(refs, 1);
}

void strategy_prefetch(const struct strategy *s, struct engine *src,
		       const char *const *refs, size_t n)
{
	char *path;

	if (!s->first_export || !n)
		return;
	path = s->first_export(refs, n);
	/* only time is lost when it cannot begin: the strategy asks again */
	if (engine_prefetch(src, path) < 0)
		dm_clear_error();
	free(path);
}

static const struct strategy strategies[] = {
	{ "delta", "only the layers the destination lacks, gzip'ed, no registry",
	  0, transfer_delta, delta_first_export },
	{ "save", "the whole image, streamed from docker save to docker load",
	  0, transfer_save, images_get_path },
	{ "registry", "the source pushes to --registry, the destination pulls: "
	  "only missing layers at each hop", 1, transfer_registry, NULL },
	{ "layers", "the source pushes to --registry, the plugin fetches the "
	  "layers the destination lacks, blob by blob", 1, transfer_layers,
	  NULL },
	{ NULL, NULL, 0, NULL, NULL },
};

const char *const strategy_names[] = { "delta", "save", "registry", "layers",
				       NULL };

const struct strategy *strategy_find(const char *name)
{
	for (const struct strategy *s = strategies; s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s;
	dm_error("unknown strategy \"%s\" (known: delta, save, registry, "
		 "layers)", name);
	return NULL;
}

int strategy_check(const struct strategy *s, const struct registry_opts *r)
{
	char *scheme = NULL, *host = NULL;
	int ret;

	if (s->needs_registry && !r->registry)
		return dm_error("--strategy %s needs --registry HOST[:PORT]",
				s->name);
	if (!s->needs_registry && (r->registry || r->no_push || r->keep_tag))
		return dm_error("--registry, --no-push and --keep-tag are for "
				"--strategy registry or layers");
	if (!r->registry)
		return 0;
	ret = reg_spec_parse(r->registry, &scheme, &host);
	free(scheme);
	free(host);
	return ret;
}
