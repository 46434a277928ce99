/*
 * record.c - migration records (see record.h).  Files are written to a
 * temporary name (0600) and renamed, so a crash never leaves half a
 * record, and a reader never sees one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dm.h"
#include "json.h"
#include "record.h"

static int mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	int ret = 0;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			ret = -1;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		ret = -1;
	if (ret < 0)
		dm_error("cannot create %s: %s", path, strerror(errno));
	free(p);
	return ret;
}

static void new_id(char id[17])
{
	unsigned char b[8];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, b, sizeof(b)) != (ssize_t)sizeof(b)) {
		uint64_t x = (uint64_t)dm_now_ms() ^ ((uint64_t)getpid() << 32);

		memcpy(b, &x, sizeof(b));
	}
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < 8; i++)
		snprintf(id + 2 * i, 3, "%02x", b[i]);
}

int record_begin(struct migration *m, const char *cfgdir, const char *kind,
		 const char *object, const char *source, const char *dest,
		 const char *strategy)
{
	char *dir = xasprintf("%s/migrate/history", cfgdir);
	int ret = 0;

	memset(m, 0, sizeof(*m));
	new_id(m->id);
	snprintf(m->status, sizeof(m->status), "pending");
	m->kind = xstrdup(kind);
	m->object = xstrdup(object);
	m->source = xstrdup(source);
	m->dest = xstrdup(dest);
	m->strategy = xstrdup(strategy);
	m->started = dm_wall_s();
	m->downtime_ms = -1;
	if (mkdir_p(dir, 0700) == 0) {
		m->path = xasprintf("%s/%s.json", dir, m->id);
		ret = record_save(m);
	} else {
		ret = -1;
	}
	free(dir);
	return ret;
}

void record_set_status(struct migration *m, const char *status)
{
	snprintf(m->status, sizeof(m->status), "%s", status);
	if (strcmp(status, "running") != 0 && strcmp(status, "pending") != 0)
		m->finished = dm_wall_s();
	if (record_save(m) < 0)
		dm_warn("%s", dm_errmsg());
}

void record_phase_begin(struct migration *m, const char *name)
{
	if (m->cur_phase[0])
		record_phase_end(m);
	snprintf(m->cur_phase, sizeof(m->cur_phase), "%s", name);
	m->phase_t0 = dm_now_ms();
}

void record_phase_end(struct migration *m)
{
	if (!m->cur_phase[0] || m->nphases >= RECORD_MAX_PHASES)
		return;
	snprintf(m->phases[m->nphases].name, sizeof(m->phases[0].name), "%s",
		 m->cur_phase);
	m->phases[m->nphases].ms = dm_now_ms() - m->phase_t0;
	m->nphases++;
	m->cur_phase[0] = '\0';
}

void record_fail(struct migration *m, const char *status, const char *why)
{
	free(m->failed_step);
	free(m->error);
	m->failed_step = xstrdup(m->cur_phase[0] ? m->cur_phase : "?");
	m->error = xstrdup(why);
	record_phase_end(m);
	record_set_status(m, status);
}

int64_t record_total_ms(const struct migration *m)
{
	int64_t t = 0;

	for (int i = 0; i < m->nphases; i++)
		t += m->phases[i].ms;
	return t;
}

static void gen_kv(yajl_gen g, const char *k, const char *v)
{
	json_gen_str(g, k);
	if (v)
		json_gen_str(g, v);
	else
		yajl_gen_null(g);
}

void record_gen(const struct migration *m, yajl_gen g)
{
	yajl_gen_map_open(g);
	gen_kv(g, "id", m->id);
	gen_kv(g, "status", m->status);
	gen_kv(g, "kind", m->kind);
	gen_kv(g, "object", m->object);
	gen_kv(g, "source", m->source);
	gen_kv(g, "destination", m->dest);
	gen_kv(g, "strategy", m->strategy);
	json_gen_str(g, "started");
	yajl_gen_integer(g, m->started);
	json_gen_str(g, "finished");
	yajl_gen_integer(g, m->finished);
	json_gen_str(g, "total_ms");
	yajl_gen_integer(g, record_total_ms(m));
	json_gen_str(g, "phases");
	yajl_gen_array_open(g);
	for (int i = 0; i < m->nphases; i++) {
		yajl_gen_map_open(g);
		gen_kv(g, "name", m->phases[i].name);
		json_gen_str(g, "ms");
		yajl_gen_integer(g, m->phases[i].ms);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	json_gen_str(g, "bytes");
	yajl_gen_integer(g, (long long)m->bytes);
	json_gen_str(g, "downtime_ms");
	yajl_gen_integer(g, m->downtime_ms);
	gen_kv(g, "failed_step", m->failed_step);
	gen_kv(g, "error", m->error);
	json_gen_str(g, "config_digests");
	yajl_gen_array_open(g);
	for (const char *c = m->configs; c && *c;) {
		size_t n = strcspn(c, " ");
		char *one = xstrndup(c, n);

		json_gen_str(g, one);
		free(one);
		c += n + (c[n] == ' ');
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

void record_add_config(struct migration *m, const char *digest)
{
	char *old = m->configs;

	if (!digest || !*digest || strchr(digest, ' '))
		return;
	m->configs = old ? xasprintf("%s %s", old, digest) : xstrdup(digest);
	free(old);
}

int record_save(struct migration *m)
{
	yajl_gen g;
	const unsigned char *buf;
	size_t len;
	char *tmp;
	int fd, ret = 0;

	if (!m->path)
		return 0;
	g = yajl_gen_alloc(NULL);
	yajl_gen_config(g, yajl_gen_beautify, 1);
	record_gen(m, g);
	yajl_gen_get_buf(g, &buf, &len);
	tmp = xasprintf("%s.tmp", m->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || fsync(fd) < 0 ||
	    close(fd) < 0 || rename(tmp, m->path) < 0) {
		ret = dm_error("cannot write the migration record %s: %s",
			       m->path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	yajl_gen_free(g);
	return ret;
}

void record_release(struct migration *m)
{
	free(m->kind);
	free(m->object);
	free(m->source);
	free(m->dest);
	free(m->strategy);
	free(m->failed_step);
	free(m->error);
	free(m->path);
	free(m->configs);
	memset(m, 0, sizeof(*m));
}

void record_report(const struct migration *m, FILE *out)
{
	char hb[32];

	fprintf(out, "%s %s %s: %s -> %s (strategy %s) in %.2f s\n",
		m->status, m->kind, m->object, m->source, m->dest, m->strategy,
		(double)record_total_ms(m) / 1000.0);
	for (int i = 0; i < m->nphases; i++)
		fprintf(out, "  %-13s %8.3f s\n", m->phases[i].name,
			(double)m->phases[i].ms / 1000.0);
	fprintf(out, "  %-13s %s (%llu bytes)\n", "sent",
		dm_human_bytes(m->bytes, hb, sizeof(hb)),
		(unsigned long long)m->bytes);
	if (m->downtime_ms >= 0)
		fprintf(out, "  %-13s %lld ms\n", "downtime",
			(long long)m->downtime_ms);
	if (m->configs)
		fprintf(out, "  %-13s %s\n", "config", m->configs);
	if (m->error)
		fprintf(out, "  %-13s %s: %s\n", "error", m->failed_step,
			m->error);
	fprintf(out, "  %-13s %s\n", "id", m->id);
}

static void load_one(const char *path, struct migration *m)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[8192];
	yajl_val v, ph;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(m, 0, sizeof(*m));
	m->downtime_ms = -1;
	if (fd < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0 && sb.len < (1 << 20))
		sb_add(&sb, buf, (size_t)n);
	close(fd);
	v = json_parse(sb_str(&sb), sb.len, path);
	sb_release(&sb);
	if (!v) {
		dm_warn("%s", dm_errmsg());
		return;
	}
	if (!json_str(v, "kind", NULL) || !json_str(v, "id", NULL)) {
		dm_warn("%s: not a migration record, skipped", path);
		yajl_tree_free(v);
		return;
	}
	snprintf(m->id, sizeof(m->id), "%s", json_str(v, "id", NULL) ?: "?");
	snprintf(m->status, sizeof(m->status), "%s",
		 json_str(v, "status", NULL) ?: "?");
	m->kind = xstrdup(json_str(v, "kind", NULL));
	m->object = xstrdup(json_str(v, "object", NULL));
	m->source = xstrdup(json_str(v, "source", NULL));
	m->dest = xstrdup(json_str(v, "destination", NULL));
	m->strategy = xstrdup(json_str(v, "strategy", NULL));
	m->started = json_int(v, 0, "started", NULL);
	m->finished = json_int(v, 0, "finished", NULL);
	m->bytes = (uint64_t)json_int(v, 0, "bytes", NULL);
	m->downtime_ms = json_int(v, -1, "downtime_ms", NULL);
	if (json_str(v, "failed_step", NULL))
		m->failed_step = xstrdup(json_str(v, "failed_step", NULL));
	if (json_str(v, "error", NULL))
		m->error = xstrdup(json_str(v, "error", NULL));
	ph = json_get(v, "config_digests", NULL);
	for (size_t i = 0; i < json_alen(ph); i++)
		if (YAJL_IS_STRING(ph->u.array.values[i]))
			record_add_config(m, ph->u.array.values[i]->u.string);
	ph = json_get(v, "phases", NULL);
	for (size_t i = 0; i < json_alen(ph) && i < RECORD_MAX_PHASES; i++) {
		yajl_val p = ph->u.array.values[i];

		snprintf(m->phases[i].name, sizeof(m->phases[i].name), "%s",
			 json_str(p, "name", NULL) ?: "?");
		m->phases[i].ms = json_int(p, 0, "ms", NULL);
		m->nphases++;
	}
	yajl_tree_free(v);
}

static int by_start(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	if (x->started != y->started)
		return x->started < y->started ? -1 : 1;
	return strcmp(x->id, y->id);
}

int record_load_all(const char *cfgdir, struct migration **out, size_t *n)
{
	char *dir = xasprintf("%s/migrate/history", cfgdir);
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!d) {
		free(dir);
		return 0;	/* no migration yet */
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char *path;

		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		path = xasprintf("%s/%s", dir, de->d_name);
		load_one(path, &(*out)[*n]);
		free(path);
		if ((*out)[*n].kind)
			(*n)++;
		else
			record_release(&(*out)[*n]);
	}
	closedir(d);
	free(dir);
	if (*n)
		qsort(*out, *n, sizeof(**out), by_start);
	return 0;
}

void record_print(const struct migration *m, int json, FILE *out)
{
	yajl_gen g;
	const unsigned char *buf;
	size_t len;

	if (!json) {
		record_report(m, out);
		return;
	}
	g = yajl_gen_alloc(NULL);
	yajl_gen_config(g, yajl_gen_beautify, 1);
	record_gen(m, g);
	yajl_gen_get_buf(g, &buf, &len);
	fwrite(buf, 1, len, out);
	yajl_gen_free(g);
}
