/*
 * util.c - the error convention, allocation that cannot return NULL,
 * strbuf, cancellation and clocks (see dm.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dm.h"

/* One error per thread: the SSH bridge thread fails on its own. */
static _Thread_local struct dm_err cur;
int dm_debug_enabled;

static int verror(enum dm_errkind kind, const char *fmt, va_list ap)
{
	vsnprintf(cur.msg, sizeof(cur.msg), fmt, ap);
	cur.kind = kind;
	return -1;
}

int dm_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(DM_ERR_FAILED, fmt, ap);
	va_end(ap);
	return -1;
}

int dm_error_kind(enum dm_errkind kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(kind, fmt, ap);
	va_end(ap);
	return -1;
}

int dm_error_as(enum dm_errkind kind)
{
	cur.kind = kind;
	return -1;
}

enum dm_errkind dm_errkind(void)
{
	return cur.kind;
}

const char *dm_errkind_name(enum dm_errkind kind)
{
	switch (kind) {
	case DM_ERR_USAGE:
		return "usage";
	case DM_ERR_SOURCE:
		return "source";
	case DM_ERR_DEST:
		return "destination";
	case DM_ERR_LINK:
		return "link lost";
	case DM_ERR_INTERRUPTED:
		return "interrupted";
	case DM_ERR_CONFLICT:
		return "conflict at the destination";
	case DM_ERR_FAILED:
		break;
	}
	return "failed";
}

int dm_error_isset(void)
{
	return cur.msg[0] != '\0';
}

void dm_error_save(struct dm_err *e)
{
	*e = cur;
}

int dm_error_restore(const struct dm_err *e)
{
	cur = *e;
	return -1;
}

int dm_error_wrap(const char *fmt, ...)
{
	char prefix[512], old[sizeof(cur.msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, cur.msg, sizeof(old));
	/* a message cut at 1 kB is still a message: ignore truncation */
	if (snprintf(cur.msg, sizeof(cur.msg), old[0] ? "%s: %s" : "%s%s",
		     prefix, old) >= (int)sizeof(cur.msg))
		cur.msg[sizeof(cur.msg) - 1] = '\0';
	return -1;
}

const char *dm_errmsg(void)
{
	return cur.msg[0] ? cur.msg : "unknown error";
}

void dm_clear_error(void)
{
	cur.msg[0] = '\0';
	cur.kind = DM_ERR_FAILED;
}

void dm_debug(const char *fmt, ...)
{
	va_list ap;

	if (!dm_debug_enabled)
		return;
	va_start(ap, fmt);
	fputs("docker migrate: debug: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void dm_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("docker migrate: warning: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void oom(void)
{
	fputs("docker migrate: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		oom();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	char *p;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	return p;
}

static void sb_grow(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;

	if (need <= sb->cap)
		return;
	sb->cap = sb->cap ? sb->cap : 64;
	while (sb->cap < need)
		sb->cap *= 2;
	sb->buf = xrealloc(sb->buf, sb->cap);
}

void sb_add(struct strbuf *sb, const void *data, size_t n)
{
	sb_grow(sb, n);
	memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sb_adds(struct strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void sb_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	sb_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	sb->len += (size_t)n;
}

void sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

const char *sb_str(struct strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

char *sb_detach(struct strbuf *sb)
{
	char *p = sb->buf ? sb->buf : xstrdup("");

	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return p;
}

void sb_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

/* Process-wide by nature: a signal handler has no arguments to carry it.
 * Atomics, not volatile: the thread that watches the CLI's socket cancels
 * too, and lock-free atomics are safe in a signal handler. */
static int cancelled, deferred, shielded;

void dm_cancel(void)
{
	__atomic_store_n(&cancelled, 1, __ATOMIC_SEQ_CST);
}

void dm_cancel_reset(void)
{
	__atomic_store_n(&cancelled, 0, __ATOMIC_SEQ_CST);
}

void dm_rollback_begin(void)
{
	__atomic_store_n(&shielded, 1, __ATOMIC_SEQ_CST);
	dm_cancel_reset();
}

void dm_cancel_defer(int on)
{
	__atomic_store_n(&deferred, on, __ATOMIC_SEQ_CST);
}

int dm_cancelled(void)
{
	return __atomic_load_n(&cancelled, __ATOMIC_SEQ_CST) &&
	       !__atomic_load_n(&deferred, __ATOMIC_SEQ_CST) &&
	       !__atomic_load_n(&shielded, __ATOMIC_SEQ_CST);
}

void dm_test_pause(const char *phase)
{
	const char *at = getenv("DOCKER_MIGRATE_TEST_PAUSE_AT");
	const char *resume = getenv("DOCKER_MIGRATE_TEST_RESUME");
	int64_t deadline = dm_now_ms() + 60000;
	size_t n = strlen(phase);
	const char *p = at;

	/* a comma-separated list: "sync,rollback" holds both in turn */
	while (p && (strncmp(p, phase, n) != 0 || (p[n] && p[n] != ',')))
		p = (p = strchr(p, ',')) ? p + 1 : NULL;
	if (!p)
		return;
	fprintf(stderr, "docker migrate: test hook: paused in %s\n", phase);
	while (!__atomic_load_n(&cancelled, __ATOMIC_SEQ_CST) &&
	       dm_now_ms() < deadline &&
	       !(resume && access(resume, F_OK) == 0))
		nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
}

int64_t dm_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t dm_now_ms(void)
{
	return dm_now_us() / 1000;
}

int64_t dm_wall_s(void)
{
	return (int64_t)time(NULL);
}

const char *dm_human_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *unit[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)n;
	int i = 0;

	/* Docker prints sizes in SI units; so do we, to compare easily. */
	while (v >= 1000.0 && i < 4) {
		v /= 1000.0;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, len, "%.3g %s", v, unit[i]);
	return buf;
}

int dm_streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

int dm_starts_with(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}
