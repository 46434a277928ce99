/*
 * dm.h - small helpers every file of docker-migrate uses: the error
 * convention, checked allocation, a growable string, cancellation.
 *
 * Errors: a function that fails calls dm_error() where the failure is
 * understood (which sets the message of this thread and returns -1) and
 * callers pass -1 up untouched; only main() prints dm_errmsg() and exits.
 * Where the failure is understood, dm_error_kind() also says what kind
 * it is, which decides what the user is told and the exit status.  A
 * caller that must run more code before returning the error (a rollback,
 * a cleanup) saves it into a struct dm_err it owns and restores it after,
 * so that the cleanup's own failures never replace it.
 */
#ifndef DM_H
#define DM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define DM_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum dm_errkind {
	DM_ERR_FAILED = 0,	/* no more precise kind known */
	DM_ERR_USAGE,		/* the command line: nothing was done */
	DM_ERR_SOURCE,		/* the source's engine refused or failed */
	DM_ERR_DEST,		/* the destination's engine (or host) did */
	DM_ERR_LINK,		/* the SSH link to a host was lost */
	DM_ERR_INTERRUPTED,	/* Ctrl-C, SIGTERM, the CLI went away */
	DM_ERR_CONFLICT,	/* something at the destination is in the way */
};

/* An error as a value: what a caller keeps across its cleanup. */
struct dm_err {
	enum dm_errkind kind;
	char msg[1024];
};

/* Set this thread's error message, of kind DM_ERR_FAILED; returns -1. */
int dm_error(const char *fmt, ...) DM_PRINTF(1, 2);
/* The same with a kind, where the failure is understood. */
int dm_error_kind(enum dm_errkind kind, const char *fmt, ...) DM_PRINTF(2, 3);
/* Prefix the current message with a context ("step: old message"); the
 * kind stays. */
int dm_error_wrap(const char *fmt, ...) DM_PRINTF(1, 2);
/* Give the current error a kind (a caller that knows better); -1. */
int dm_error_as(enum dm_errkind kind);
const char *dm_errmsg(void);
enum dm_errkind dm_errkind(void);
/* "source", "destination", "link lost"...: for records and debugging. */
const char *dm_errkind_name(enum dm_errkind kind);
/* Is an error set (a message, not the empty slot)? */
int dm_error_isset(void);
void dm_clear_error(void);
/* Copy this thread's error into e, and back; dm_error_restore returns
 * -1 so that a caller can end with "return dm_error_restore(&saved);". */
void dm_error_save(struct dm_err *e);
int dm_error_restore(const struct dm_err *e);

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
/* Forget a cancellation. */
void dm_cancel_reset(void);
/* Before a rollback: its requests must run to their end whatever Ctrl-C
 * comes after (a rollback cut short would leave the source stopped): the
 * cancellation is forgotten, and from here on none is seen (see
 * interrupt.c). */
void dm_rollback_begin(void);
/* While deferred (on = 1), dm_cancelled() says no but a cancellation is
 * kept: for a request whose effect the engine completes even when we hang
 * up, and which we must therefore see to its end before rolling back. */
void dm_cancel_defer(int on);
/*
 * Test hook, compiled in and inert unless DOCKER_MIGRATE_TEST_PAUSE_AT names
 * this phase: then the migration says "test hook: paused in PHASE" on stderr
 * and waits there (60 s at most) until it is cancelled, so that a test can
 * interrupt a phase that has no natural duration without racing a sleep;
 * or until the file DOCKER_MIGRATE_TEST_RESUME names exists, so that a
 * test can change a host there (break what the phase needs) and let the
 * phase run on.
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
