/*
 * volume.c - volumes between engines (see volume.h).  The seeds' rule
 * stands: volume directories are not touched from outside Docker.  A helper
 * container that is created but never started mounts the volume (read-only
 * at the source); the engine itself reads and writes its files through the
 * archive endpoints, so no tool, shell or image from the internet is needed
 * on either host.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context.h"
#include "dm.h"
#include "gzout.h"
#include "json.h"
#include "tar.h"
#include "transfer.h"
#include "volume.h"

/* sha256 of 1024 zero bytes: the empty layer every engine knows */
#define EMPTY_LAYER \
	"sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

static void add_member(struct strbuf *tar, const char *name, const void *data,
		       size_t len)
{
	static const unsigned char zeros[512];
	unsigned char hdr[512];

	tar_header(hdr, name, len, 0644, '0');
	sb_add(tar, hdr, sizeof(hdr));
	sb_add(tar, data, len);
	sb_add(tar, zeros, (512 - len % 512) % 512);
}

/* A docker-save archive of an image with one empty layer. */
static void helper_archive(const char *arch, struct strbuf *tar)
{
	static const unsigned char empty_layer[1024];
	static const unsigned char zeros[1024];
	char hex[65], *config, *name, *manifest;

	config = xasprintf(
		"{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Cmd\":"
		"[\"/docker-migrate-helper-never-runs\"],\"Labels\":{"
		"\"org.docker-migrate.helper\":\"1\"}},\"rootfs\":{\"type\":"
		"\"layers\",\"diff_ids\":[\"%s\"]},\"history\":[{\"created\":"
		"\"1970-01-01T00:00:00Z\",\"created_by\":\"docker-migrate: an "
		"empty root for helper containers\"}],\"created\":"
		"\"1970-01-01T00:00:00Z\"}", arch, EMPTY_LAYER);
	sha256_hex(config, strlen(config), hex);
	name = xasprintf("%s.json", hex);
	manifest = xasprintf("[{\"Config\":\"%s\",\"RepoTags\":[\"%s\"],"
			     "\"Layers\":[\"empty/layer.tar\"]}]", name,
			     HELPER_IMAGE);
	add_member(tar, "empty/layer.tar", empty_layer, sizeof(empty_layer));
	add_member(tar, name, config, strlen(config));
	add_member(tar, "manifest.json", manifest, strlen(manifest));
	sb_add(tar, zeros, sizeof(zeros));
	free(config);
	free(name);
	free(manifest);
}

int helper_image_ensure(struct engine *e)
{
	struct strbuf tar = STRBUF_INIT, reply = STRBUF_INIT;
	struct image_info ii;
	const char *arch = strchr(engine_os_arch(e), '/');
	int p[2], r;

	r = image_inspect(e, HELPER_IMAGE, &ii);
	image_info_release(&ii);
	if (r != 0)
		return r < 0 ? -1 : 0;
	helper_archive(arch ? arch + 1 : "amd64", &tar);
	/* a few kB: the whole archive fits in the pipe before the POST */
	if (pipe2(p, O_CLOEXEC) < 0) {
		sb_release(&tar);
		return dm_error("pipe: %s", strerror(errno));
	}
	r = fd_write_all(p[1], tar.buf, tar.len);
	close(p[1]);
	if (r == 0)
		r = engine_post_from_fd(e, "/images/load?quiet=1", p[0],
					"application/x-tar", &reply, NULL);
	close(p[0]);
	sb_release(&tar);
	sb_release(&reply);
	return r < 0 ? dm_error_wrap("loading the helper image on %s",
				     engine_name(e)) : 0;
}

char *helper_create(struct engine *e, const char *volume, int readonly)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_val v = NULL;
	char *body, *id = NULL;

	if (helper_image_ensure(e) < 0) {
		yajl_gen_free(g);
		return NULL;
	}
	yajl_gen_map_open(g);
	json_gen_str(g, "Image");
	json_gen_str(g, HELPER_IMAGE);
	json_gen_str(g, "Labels");
	yajl_gen_map_open(g);
	json_gen_str(g, "org.docker-migrate.helper");
	json_gen_str(g, "1");
	yajl_gen_map_close(g);
	json_gen_str(g, "HostConfig");
	yajl_gen_map_open(g);
	json_gen_str(g, "NetworkMode");
	json_gen_str(g, "none");
	json_gen_str(g, "Mounts");
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	json_gen_str(g, "Type");
	json_gen_str(g, "volume");
	json_gen_str(g, "Source");
	json_gen_str(g, volume);
	json_gen_str(g, "Target");
	json_gen_str(g, HELPER_MOUNT);
	json_gen_str(g, "ReadOnly");
	yajl_gen_bool(g, readonly);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	body = json_gen_take(g);
	yajl_gen_free(g);
	if (engine_post_json(e, "/containers/create", body, &v) >= 0 &&
	    json_str(v, "Id", NULL))
		id = xstrdup(json_str(v, "Id", NULL));
	else
		dm_error_wrap("creating a helper container for volume %s on %s",
			      volume, engine_name(e));
	yajl_tree_free(v);
	free(body);
	return id;
}

int helper_remove(struct engine *e, const char *id)
{
	char *path;
	int ret = 0;

	if (!id)
		return 0;
	path = xasprintf("/containers/%s?force=1", id);
	if (engine_delete(e, path) < 0) {
		dm_warn("cannot remove helper container %.12s on %s: %s", id,
			engine_name(e), dm_errmsg());
		ret = -1;
	}
	free(path);
	return ret;
}

int volume_inspect(struct engine *e, const char *name, yajl_val *out)
{
	char *esc = engine_escape(name), *path = xasprintf("/volumes/%s", esc);
	long st = engine_get_json_opt(e, path, out);

	free(esc);
	free(path);
	if (st < 0)
		return -1;
	return st == 404 ? 0 : 1;
}

int volume_create_like(struct engine *e, yajl_val vol, const char *name)
{
	static const struct { const char *from, *to; } keep[] = {
		{ "Driver", "Driver" },
		{ "Options", "DriverOpts" },
		{ "Labels", "Labels" },
	};
	yajl_gen g = yajl_gen_alloc(NULL);
	char *body;
	long st;

	yajl_gen_map_open(g);
	json_gen_str(g, "Name");
	json_gen_str(g, name);
	for (size_t i = 0; i < sizeof(keep) / sizeof(*keep); i++) {
		yajl_val v = json_get(vol, keep[i].from, NULL);

		if (!v || YAJL_IS_NULL(v))
			continue;
		json_gen_str(g, keep[i].to);
		json_gen_value(g, v);
	}
	yajl_gen_map_close(g);
	body = json_gen_take(g);
	yajl_gen_free(g);
	st = engine_post_json(e, "/volumes/create", body, NULL);
	free(body);
	return st < 0 ? dm_error_wrap("creating volume %s on %s", name,
				      engine_name(e)) : 0;
}

int volume_is_ephemeral(yajl_val vol)
{
	return dm_streq(json_str(vol, "Driver", NULL), "local") &&
	       dm_streq(json_str(vol, "Options", "type", NULL), "tmpfs");
}

int volume_remove(struct engine *e, const char *name)
{
	char *esc = engine_escape(name), *path = xasprintf("/volumes/%s", esc);
	long st = engine_delete(e, path);

	free(esc);
	free(path);
	return st < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */

struct snapent {
	char *name;
	uint64_t size, mtime;
	char type;
	int seen;		/* in the later pass */
};

struct volsnap {
	struct snapent *e;
	size_t n, cap;
	int64_t taken;		/* wall clock seconds when the copy began */
	int sorted;
};

void volsnap_free(struct volsnap *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->e[i].name);
	free(s->e);
	free(s);
}

static void snap_add(struct volsnap *s, const struct tar_member *m)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->e = xrealloc(s->e, s->cap * sizeof(*s->e));
	}
	s->e[s->n++] = (struct snapent){ xstrdup(m->name), m->size, m->mtime,
					 m->type, 0 };
}

static int snap_cmp(const void *a, const void *b)
{
	return strcmp(((const struct snapent *)a)->name,
		      ((const struct snapent *)b)->name);
}

static struct snapent *snap_find(const struct volsnap *s, const char *name)
{
	struct snapent key = { .name = (char *)name };

	return bsearch(&key, s->e, s->n, sizeof(*s->e), snap_cmp);
}

struct summing {
	struct tar_filter tf;
	struct treesum *sum;
	struct gzout gz;	/* what goes to the destination, gzip'ed */
	struct volsnap *record;	/* pass 1: what was sent */
	const struct volsnap *since;	/* pass 2: send only what changed */
	uint64_t skipped;
};

/* Unchanged since the snapshot: a regular file of the same size and
 * mtime, last modified before the second the snapshot began. */
static int unchanged(const struct volsnap *s, const struct tar_member *m)
{
	struct snapent *e = snap_find(s, m->name);

	if (!e)
		return 0;
	e->seen = 1;
	return m->type == '0' && e->type == '0' && e->size == m->size &&
	       e->mtime == m->mtime && (int64_t)m->mtime < s->taken;
}

static enum tar_action sum_member(void *ctx, const struct tar_member *m)
{
	struct summing *s = ctx;

	treesum_member(s->sum, m);
	if (s->record)
		snap_add(s->record, m);
	if (!s->tf.out)
		return TAR_DROP;
	if (s->since && unchanged(s->since, m)) {
		s->skipped += m->size;
		return TAR_DROP;
	}
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

static void summing_init(struct summing *s, int forward)
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

static void summing_release(struct summing *s)
{
	tar_filter_release(&s->tf);
	treesum_free(s->sum);
}

static int copy_feed(void *ctx, const void *buf, size_t n, int fd)
{
	struct summing *s = ctx;

	s->gz.fd = fd;
	return tar_filter_feed(&s->tf, buf, n);
}

static int copy_finish(void *ctx, int fd)
{
	struct summing *s = ctx;

	s->gz.fd = fd;
	if (tar_filter_finish(&s->tf) < 0)
		return -1;
	return gzout_finish(&s->gz);
}

static int copy_stream(struct engine *src, const char *src_helper,
		       struct engine *dst, const char *dst_helper,
		       struct summing *s, char digest[65], struct xfer_stats *st)
{
	struct pipe_filter f = { copy_feed, copy_finish, s };
	char *from = xasprintf("/containers/%s/archive?path=%s", src_helper,
			       HELPER_MOUNT);
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

int volume_copy_snap(struct engine *src, const char *src_helper,
		     struct engine *dst, const char *dst_helper, char digest[65],
		     struct xfer_stats *st, struct volsnap **snap)
{
	struct summing s;
	int ret;

	summing_init(&s, 1);
	if (snap) {
		s.record = xcalloc(1, sizeof(*s.record));
		s.record->taken = dm_wall_s();
	}
	ret = copy_stream(src, src_helper, dst, dst_helper, &s, digest, st);
	if (snap && ret == 0) {
		qsort(s.record->e, s.record->n, sizeof(*s.record->e), snap_cmp);
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

int volume_sync(struct engine *src, const char *src_helper,
		struct engine *dst, const char *dst_helper,
		const struct volsnap *snap, char digest[65],
		struct xfer_stats *st, int *deleted)
{
	struct summing s;
	int ret;

	for (size_t i = 0; i < snap->n; i++)
		snap->e[i].seen = 0;
	summing_init(&s, 1);
	s.since = snap;
	ret = copy_stream(src, src_helper, dst, dst_helper, &s, digest, st);
	*deleted = 0;
	for (size_t i = 0; ret == 0 && i < snap->n; i++)
		if (!snap->e[i].seen)
			*deleted = 1;
	dm_debug("sync: %llu bytes of unchanged files not sent%s",
		 (unsigned long long)s.skipped, *deleted ? "; deletions seen" : "");
	summing_release(&s);
	return ret;
}

static int sum_sink(void *ctx, const void *buf, size_t n)
{
	return tar_filter_feed(&((struct summing *)ctx)->tf, buf, n);
}

int volume_digest(struct engine *e, const char *helper, char digest[65],
		  size_t *entries)
{
	struct summing s;
	char *path = xasprintf("/containers/%s/archive?path=%s", helper,
			       HELPER_MOUNT);
	int ret;

	summing_init(&s, 0);
	ret = engine_get_stream(e, path, sum_sink, &s, NULL);
	if (ret == 0)
		ret = tar_filter_finish(&s.tf);
	if (ret == 0) {
		treesum_final(s.sum, digest);
		if (entries)
			*entries = treesum_entries(s.sum);
	}
	summing_release(&s);
	free(path);
	return ret;
}
