/*
 * record.c - migration records (see record.h).  Files are written to a
 * temporary name (0600) and renamed, so a crash never leaves half a
 * record, and a reader never sees one.
 */
#include <dirent.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dm.h"
#include "json.h"
#include "interrupt.h"
#include "record.h"

static unsigned long long proc_start(int pid);

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

	/* from here on a rollback may have something to put back */
	interrupt_hold();
	memset(m, 0, sizeof(*m));
	new_id(m->id);
	snprintf(m->status, sizeof(m->status), "pending");
	m->kind = xstrdup(kind);
	m->object = xstrdup(object);
	m->source = xstrdup(source);
	m->dest = xstrdup(dest);
	m->strategy = xstrdup(strategy);
	m->started_ms = record_wall_ms();
	m->started = m->started_ms / 1000;
	m->downtime_ms = -1;
	m->pid = (int)getpid();
	m->pid_start = proc_start(m->pid);
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

void record_fail(struct migration *m, const char *status,
		 enum dm_errkind kind, const char *why)
{
	free(m->failed_step);
	free(m->error);
	free(m->error_kind);
	m->failed_step = xstrdup(m->cur_phase[0] ? m->cur_phase : "?");
	m->error = xstrdup(why);
	m->error_kind = xstrdup(dm_errkind_name(kind));
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

static void gen_int(yajl_gen g, const char *k, long long v)
{
	json_gen_str(g, k);
	yajl_gen_integer(g, v);
}

static void gen_steps(const struct migration *m, yajl_gen g)
{
	if (!m->nsteps)
		return;
	json_gen_str(g, "steps");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < m->nsteps; i++) {
		const struct rec_step *s = &m->steps[i];

		yajl_gen_map_open(g);
		gen_kv(g, "step", s->name);
		gen_kv(g, "object", s->object);
		gen_int(g, "planned_bytes", s->planned);
		gen_int(g, "started_ms", s->started);
		gen_int(g, "ms", s->ms);
		gen_int(g, "bytes", (long long)s->bytes);
		gen_kv(g, "outcome", s->outcome);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

static void gen_journal(const struct migration *m, yajl_gen g)
{
	if (!m->njournal)
		return;
	json_gen_str(g, "journal");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < m->njournal; i++) {
		const struct rec_undo *u = &m->journal[i];

		yajl_gen_map_open(g);
		gen_kv(g, "undo", u->op);
		gen_kv(g, "host", u->host);
		gen_kv(g, "arg", u->arg);
		gen_kv(g, "data", u->data);
		json_gen_str(g, "done");
		yajl_gen_bool(g, u->done);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

void record_add_dropped(struct migration *m, const char *what)
{
	m->dropped = xrealloc(m->dropped, (m->ndropped + 1) * sizeof(char *));
	m->dropped[m->ndropped++] = xstrdup(what);
}

static void gen_dropped(const struct migration *m, yajl_gen g)
{
	if (!m->ndropped)
		return;
	json_gen_str(g, "dropped");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < m->ndropped; i++)
		json_gen_str(g, m->dropped[i]);
	yajl_gen_array_close(g);
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
	json_gen_str(g, "started_ms");
	yajl_gen_integer(g, m->started_ms);
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
	gen_kv(g, "error_kind", m->error_kind);
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
	json_gen_str(g, "pid");
	yajl_gen_integer(g, m->pid);
	json_gen_str(g, "pid_start");
	yajl_gen_integer(g, (long long)m->pid_start);
	gen_dropped(m, g);
	gen_steps(m, g);
	gen_journal(m, g);
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
	for (size_t i = 0; i < m->nsteps; i++)
		free(m->steps[i].object);
	free(m->steps);
	for (size_t i = 0; i < m->njournal; i++) {
		free(m->journal[i].arg);
		free(m->journal[i].data);
	}
	free(m->journal);
	for (size_t i = 0; i < m->ndropped; i++)
		free(m->dropped[i]);
	free(m->dropped);
	free(m->kind);
	free(m->object);
	free(m->source);
	free(m->dest);
	free(m->strategy);
	free(m->failed_step);
	free(m->error);
	free(m->error_kind);
	free(m->path);
	free(m->configs);
	memset(m, 0, sizeof(*m));
}

/* The steps in the plan's order: those that ran with their time and
 * bytes, the others with what stopped them from running. */
static void report_steps(const struct migration *m, FILE *out)
{
	char hb[32];

	for (size_t i = 0; i < m->nsteps; i++) {
		const struct rec_step *s = &m->steps[i];

		if (strcmp(s->outcome, "planned") == 0) {
			fprintf(out, "  %-13s %-30.30s %10s\n", s->name,
				s->object, "not run");
			continue;
		}
		fprintf(out, "  %-13s %-30.30s %8.3f s %10s%s%s\n", s->name,
			s->object, (double)s->ms / 1000.0,
			dm_human_bytes(s->bytes, hb, sizeof(hb)),
			strcmp(s->outcome, "done") ? "  " : "",
			strcmp(s->outcome, "done") ? s->outcome : "");
	}
}

void record_report(const struct migration *m, FILE *out)
{
	char hb[32];

	fprintf(out, "%s %s %s: %s -> %s (strategy %s) in %.2f s\n",
		m->status, m->kind, m->object, m->source, m->dest, m->strategy,
		(double)record_total_ms(m) / 1000.0);
	if (m->nsteps)
		report_steps(m, out);
	else
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
	for (size_t i = 0; i < m->ndropped; i++)
		fprintf(out, "  %-13s %s\n", "dropped", m->dropped[i]);
	if (m->error)
		fprintf(out, "  %-13s %s: %s\n", "error", m->failed_step,
			m->error);
	fprintf(out, "  %-13s %s\n", "id", m->id);
}

static char *opt_dup(yajl_val v, const char *key)
{
	const char *s = json_str(v, key, NULL);

	return s ? xstrdup(s) : NULL;
}

static void load_steps(struct migration *m, yajl_val a)
{
	size_t n = json_alen(a);

	m->steps = n ? xcalloc(n, sizeof(*m->steps)) : NULL;
	for (size_t i = 0; i < n; i++) {
		yajl_val s = a->u.array.values[i];
		struct rec_step *r = &m->steps[m->nsteps++];

		snprintf(r->name, sizeof(r->name), "%s",
			 json_str(s, "step", NULL) ?: "?");
		r->object = opt_dup(s, "object");
		r->planned = json_int(s, -1, "planned_bytes", NULL);
		r->started = json_int(s, 0, "started_ms", NULL);
		r->ms = json_int(s, 0, "ms", NULL);
		r->bytes = (uint64_t)json_int(s, 0, "bytes", NULL);
		snprintf(r->outcome, sizeof(r->outcome), "%s",
			 json_str(s, "outcome", NULL) ?: "?");
	}
}

static void load_journal(struct migration *m, yajl_val a)
{
	size_t n = json_alen(a);

	m->journal = n ? xcalloc(n, sizeof(*m->journal)) : NULL;
	for (size_t i = 0; i < n; i++) {
		yajl_val u = a->u.array.values[i];
		struct rec_undo *r = &m->journal[m->njournal++];

		snprintf(r->op, sizeof(r->op), "%s",
			 json_str(u, "undo", NULL) ?: "?");
		snprintf(r->host, sizeof(r->host), "%s",
			 json_str(u, "host", NULL) ?: "?");
		r->arg = opt_dup(u, "arg");
		r->data = opt_dup(u, "data");
		r->done = json_true(u, "done", NULL);
	}
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
	m->started_ms = json_int(v, 0, "started_ms", NULL);
	m->finished = json_int(v, 0, "finished", NULL);
	m->bytes = (uint64_t)json_int(v, 0, "bytes", NULL);
	m->downtime_ms = json_int(v, -1, "downtime_ms", NULL);
	if (json_str(v, "failed_step", NULL))
		m->failed_step = xstrdup(json_str(v, "failed_step", NULL));
	if (json_str(v, "error", NULL))
		m->error = xstrdup(json_str(v, "error", NULL));
	if (json_str(v, "error_kind", NULL))
		m->error_kind = xstrdup(json_str(v, "error_kind", NULL));
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
	m->pid = (int)json_int(v, 0, "pid", NULL);
	m->pid_start = (unsigned long long)json_int(v, 0, "pid_start", NULL);
	ph = json_get(v, "dropped", NULL);
	for (size_t i = 0; i < json_alen(ph); i++)
		if (YAJL_IS_STRING(ph->u.array.values[i]))
			record_add_dropped(m, ph->u.array.values[i]->u.string);
	load_steps(m, json_get(v, "steps", NULL));
	load_journal(m, json_get(v, "journal", NULL));
	yajl_tree_free(v);
}

static int by_start(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	if (x->started != y->started)
		return x->started < y->started ? -1 : 1;
	/* within one second, by the millisecond where both say it */
	if (x->started_ms && y->started_ms && x->started_ms != y->started_ms)
		return x->started_ms < y->started_ms ? -1 : 1;
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

/* ------------------------------------------------------------------ */
/* steps and the undo journal                                          */

int64_t record_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void save_or_warn(struct migration *m)
{
	if (record_save(m) < 0)
		dm_warn("%s", dm_errmsg());
}

size_t record_step_add(struct migration *m, const char *name,
		       const char *object, int64_t planned)
{
	struct rec_step *s;

	m->steps = xrealloc(m->steps, (m->nsteps + 1) * sizeof(*m->steps));
	s = &m->steps[m->nsteps];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->object = xstrdup(object ? object : "");
	s->planned = planned;
	snprintf(s->outcome, sizeof(s->outcome), "planned");
	return m->nsteps++;
}

void record_step_begin(struct migration *m, size_t i)
{
	if (i >= m->nsteps)
		return;
	m->steps[i].started = record_wall_ms();
	snprintf(m->steps[i].outcome, sizeof(m->steps[i].outcome), "running");
	save_or_warn(m);
}

void record_step_end(struct migration *m, size_t i, uint64_t bytes,
		     const char *outcome)
{
	if (i >= m->nsteps)
		return;
	if (m->steps[i].started)
		m->steps[i].ms = record_wall_ms() - m->steps[i].started;
	m->steps[i].bytes = bytes;
	snprintf(m->steps[i].outcome, sizeof(m->steps[i].outcome), "%s",
		 outcome);
	save_or_warn(m);
}

int record_undo_push(struct migration *m, const char *op, const char *host,
		     const char *arg, const char *data)
{
	struct rec_undo *u;

	m->journal = xrealloc(m->journal,
			      (m->njournal + 1) * sizeof(*m->journal));
	u = &m->journal[m->njournal++];
	memset(u, 0, sizeof(*u));
	snprintf(u->op, sizeof(u->op), "%s", op);
	snprintf(u->host, sizeof(u->host), "%s", host);
	u->arg = xstrdup(arg ? arg : "");
	u->data = data ? xstrdup(data) : NULL;
	return record_save(m);
}

void record_undo_done(struct migration *m, size_t i)
{
	if (i >= m->njournal)
		return;
	m->journal[i].done = 1;
	save_or_warn(m);
}

size_t record_undo_left(const struct migration *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->njournal; i++)
		n += !m->journal[i].done;
	return n;
}

/* When the process started (clock ticks after boot, /proc/PID/stat's
 * 22nd field): with the pid, it names one process, not a later one
 * that reuses its pid.  0 when unknown (no /proc, no such process). */
static unsigned long long proc_start(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the command name, in parentheses, may hold spaces: skip it */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%*u %*u %*d %*d %*d %*d %*d %*d %llu", &start) != 1)
		return 0;
	return start;
}

/* Is the process that wrote the record still there? */
static int plugin_alive(const struct migration *m)
{
	if (m->pid <= 0 || (kill(m->pid, 0) < 0 && errno == ESRCH))
		return 0;
	/* no start time to compare (no /proc): trust kill(2) */
	return !m->pid_start || proc_start(m->pid) == m->pid_start;
}

const char *record_shown_status(const struct migration *m)
{
	if ((strcmp(m->status, "running") == 0 ||
	     strcmp(m->status, "pending") == 0) && !plugin_alive(m))
		return "interrupted";
	return m->status;
}

int record_load_id(const char *cfgdir, const char *id, struct migration *m)
{
	struct migration *all;
	size_t n, found = (size_t)-1, matches = 0;
	size_t len = strlen(id);

	memset(m, 0, sizeof(*m));
	if (!len || record_load_all(cfgdir, &all, &n) < 0)
		return dm_error("no migration %s", id);
	for (size_t i = 0; i < n; i++)
		if (strncmp(all[i].id, id, len) == 0) {
			found = i;
			matches++;
		}
	if (matches == 1) {
		*m = all[found];
		memset(&all[found], 0, sizeof(all[found]));
		m->path = xasprintf("%s/migrate/history/%s.json", cfgdir, m->id);
	}
	for (size_t i = 0; i < n; i++)
		record_release(&all[i]);
	free(all);
	if (matches > 1)
		return dm_error("%s names %zu migrations: give more of the id",
				id, matches);
	if (!matches)
		return dm_error("no migration %s (see docker migrate history)",
				id);
	return 0;
}
