/*
 * dm.h - small helpers every file of docker-migrate uses: the error
 * convention, checked allocation, a growable string, cancellation.
 *
 * Errors: a function that fails calls dm_error() where the failure is
 * understood (which sets the message of this thread and returns -1) and
 * callers pass -1 up untouched; only main() prints dm_errmsg() and exits.
 */
#ifndef DM_H
#define DM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define DM_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Set this thread's error message; always returns -1. */
int dm_error(const char *fmt, ...) DM_PRINTF(1, 2);
/* Prefix the current message with a context ("step: old message"). */
int dm_error_wrap(const char *fmt, ...) DM_PRINTF(1, 2);
const char *dm_errmsg(void);
void dm_clear_error(void);

/* Debug output on stderr, when -D or --log-level debug was given. */
extern int dm_debug_enabled;
void dm_debug(const char *fmt, ...) DM_PRINTF(1, 2);
void dm_warn(const char *fmt, ...) DM_PRINTF(1, 2);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) DM_PRINTF(1, 2);

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
};
#define STRBUF_INIT { NULL, 0, 0 }
void sb_add(struct strbuf *sb, const void *data, size_t n);
void sb_adds(struct strbuf *sb, const char *s);
void sb_addf(struct strbuf *sb, const char *fmt, ...) DM_PRINTF(2, 3);
/* Always returns a NUL-terminated string, "" for an empty buffer. */
/* Empty it, keeping its memory for the next use. */
void sb_reset(struct strbuf *sb);
const char *sb_str(struct strbuf *sb);
char *sb_detach(struct strbuf *sb);
void sb_release(struct strbuf *sb);

/*
 * Cancellation: set by SIGINT/SIGTERM and by the Docker CLI closing the
 * plugin socket.  Long operations poll it and unwind (rolling back).
 */
void dm_cancel(void);
int dm_cancelled(void);
/* Before a rollback: its requests must run even after Ctrl-C (a second
 * Ctrl-C kills the process: the handler is reset after the first). */
void dm_cancel_reset(void);
/* While deferred (on = 1), dm_cancelled() says no but a cancellation is
 * kept: for a request whose effect the engine completes even when we hang
 * up, and which we must therefore see to its end before rolling back. */
void dm_cancel_defer(int on);
/*
 * Test hook, compiled in and inert unless DOCKER_MIGRATE_TEST_PAUSE_AT names
 * this phase: then the migration says "test hook: paused in PHASE" on stderr
 * and waits there (60 s at most) until it is cancelled, so that a test can
 * interrupt a phase that has no natural duration without racing a sleep.
 */
void dm_test_pause(const char *phase);

/* Monotonic clock in milliseconds, for phase timings. */
int64_t dm_now_ms(void);
int64_t dm_now_us(void);
/* Wall clock in seconds since the epoch. */
int64_t dm_wall_s(void);

/* Human-readable byte count ("12.3 MB") into buf. */
const char *dm_human_bytes(uint64_t n, char *buf, size_t len);

int dm_streq(const char *a, const char *b);
int dm_starts_with(const char *s, const char *prefix);

#endif
