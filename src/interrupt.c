/*
 * interrupt.c - Ctrl-C, said and done at once.  The first interrupt
 * cancels the work under way (a rollback follows); every interrupt prints
 * one line saying what the plugin now waits for, so that the terminal
 * never shows a bare ^C for the seconds an engine takes to stop a
 * container.  No interrupt kills the process: a second Ctrl-C used to,
 * and left the source stopped with its copy not started, the service
 * down on both hosts.  The way out that does not wait is SIGKILL (the
 * Docker CLI sends it after a third Ctrl-C); the journal on disk then lets
 * "docker migrate rollback ID" finish.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dm.h"
#include "interrupt.h"

/* The note is read by the signal handler: it is written into one of a
 * few buffers in turn and published by an atomic pointer, so that the
 * handler never reads a buffer being written (notes change a few times
 * a move, far slower than the ring turns). */
#define NOTES 4
static char notes[NOTES][320];
static unsigned note_next;
static char *note;
static int count;
static int held;		/* a move is under way: see interrupt_hold */
static int64_t cli_ms;		/* when the CLI's hangup was counted */

/* One keypress reaches us twice under the Docker CLI: the terminal's
 * SIGINT to the process group, and the CLI closing its socket (on the
 * first only).  The hangup counts only when no signal came before it,
 * and a signal right after a counted hangup is the same keypress; two
 * signals are two keypresses, however close. */
#define SAME_KEYPRESS_MS 500

static int64_t now_ms(void)	/* async-signal-safe */
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put(const char *s)
{
	if (write(STDERR_FILENO, s, strlen(s)) < 0)
		return;	/* nowhere else to say it */
}

/* Say what follows this interrupt, the n-th. */
static void say(int n)
{
	const char *what = __atomic_load_n(&note, __ATOMIC_SEQ_CST);

	put(n == 1 ? "\ndocker migrate: interrupted: "
		   : "\ndocker migrate: interrupted again, still ");
	put(what ? what : "stopping");
	put(n == 1 ? "\n" : " (the source runs again before this exits)\n");
}

static void take_signal(void)
{
	int64_t cli = __atomic_exchange_n(&cli_ms, 0, __ATOMIC_SEQ_CST);
	int n;

	if (cli && now_ms() - cli < SAME_KEYPRESS_MS)
		return;
	n = __atomic_add_fetch(&count, 1, __ATOMIC_SEQ_CST);
	/* nothing that a rollback must put back: the user insists, and
	 * the command ends at once, as any other would */
	if (n > 1 && !__atomic_load_n(&held, __ATOMIC_SEQ_CST)) {
		put("\ndocker migrate: interrupted\n");
		_exit(130);
	}
	say(n);
}

static void on_signal(int sig)
{
	(void)sig;
	take_signal();
	dm_cancel();
}

void interrupt_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void interrupt_from_cli(void)
{
	int zero = 0;

	/* a signal of the same keypress came first: already said */
	if (__atomic_compare_exchange_n(&count, &zero, 1, 0, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST)) {
		__atomic_store_n(&cli_ms, now_ms(), __ATOMIC_SEQ_CST);
		say(1);
	}
	dm_cancel();
}

void interrupt_hold(void)
{
	__atomic_store_n(&held, 1, __ATOMIC_SEQ_CST);
}

int interrupt_count(void)
{
	return __atomic_load_n(&count, __ATOMIC_SEQ_CST);
}

void interrupt_note(const char *fmt, ...)
{
	char *buf;
	va_list ap;

	if (!fmt) {
		__atomic_store_n(&note, NULL, __ATOMIC_SEQ_CST);
		return;
	}
	buf = notes[__atomic_fetch_add(&note_next, 1, __ATOMIC_SEQ_CST) % NOTES];
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(notes[0]), fmt, ap);
	va_end(ap);
	__atomic_store_n(&note, buf, __ATOMIC_SEQ_CST);
}

/* What Ctrl-C waits for in each step of a container move: the rollback
 * that follows it (the source first, then the destination). */
static const struct {
	const char *step, *note;
} step_notes[] = {
	{ "check", "stopping the check: nothing was changed" },
	{ "transfer", "stopping the image transfer, then removing what it "
		      "left at %s" },
	{ "precopy", "stopping the volume copy, then removing what it made "
		     "at %s" },
	{ "copy-volume", "stopping the volume copy, then removing what it "
			 "made at %s" },
	{ "verify", "stopping the volume check, then removing what the move "
		    "made at %s" },
	{ "create", "removing the copy created at %s" },
	{ "pause-source", "unfreezing the source, then removing the copy at %s" },
	{ "sync", "starting the source again, then removing the copy at %s" },
	{ "rootfs", "starting the source again, then removing the copy at %s" },
	{ "start", "starting the source again, then removing the copy at %s" },
};

void interrupt_note_step(const char *step, const char *dest,
			 long stop_timeout_s)
{
	if (strcmp(step, "stop-source") == 0) {
		interrupt_note("waiting for the engine to finish stopping the "
			       "source (up to %ld s), then starting it again "
			       "and removing the copy at %s",
			       stop_timeout_s, dest);
		return;
	}
	for (size_t i = 0; i < sizeof(step_notes) / sizeof(step_notes[0]);
	     i++)
		if (strcmp(step, step_notes[i].step) == 0) {
			/* the table's formats each take the destination */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			interrupt_note(step_notes[i].note, dest);
#pragma GCC diagnostic pop
			return;
		}
	interrupt_note("rolling back: the source first, then %s", dest);
}
