/*
 * progress.c - what a transfer is doing, on stderr: a bar with bytes, rate
 * and time left on a terminal (redrawn in place, like docker pull), a line
 * every few seconds otherwise, nothing with --progress none or -q.  A
 * thread samples the transfer's byte counter, so the transfer itself never
 * waits for the terminal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dm.h"
#include "progress.h"

const char *const progress_mode_names[] = {
	[PROGRESS_AUTO] = "auto", [PROGRESS_TTY] = "tty",
	[PROGRESS_PLAIN] = "plain", [PROGRESS_NONE] = "none", NULL,
};

static void draw(struct progress *p, int final)
{
	uint64_t done = __atomic_load_n(&p->st->bytes, __ATOMIC_RELAXED);
	double secs = (double)(dm_now_ms() - p->t0) / 1000.0;
	double rate = secs > 0.05 ? (double)done / secs : 0;
	char d[32], t[32], r[32], bar[41];

	dm_human_bytes(done, d, sizeof(d));
	dm_human_bytes((uint64_t)rate, r, sizeof(r));
	if (p->mode == PROGRESS_PLAIN) {
		if (final)
			fprintf(stderr, "%s: %s in %.1f s\n", p->label, d, secs);
		else
			fprintf(stderr, "%s: %s sent (%s/s)\n", p->label, d, r);
		return;
	}
	if (p->total) {
		int n = (int)(40.0 * (double)(done > p->total ? p->total : done) /
			      (double)p->total);
		double left = rate > 0 && done < p->total
			      ? (double)(p->total - done) / rate : 0;

		memset(bar, ' ', 40);
		memset(bar, '=', (size_t)n);
		if (n < 40 && !final)
			bar[n] = '>';
		bar[40] = '\0';
		dm_human_bytes(p->total, t, sizeof(t));
		fprintf(stderr, "\r%-24.24s [%s] %9s/%-9s %9s/s %s%.0fs\033[K",
			p->label, bar, d, t, r, final ? "" : "ETA ",
			final ? secs : left);
	} else {
		fprintf(stderr, "\r%-24.24s %9s %9s/s %.0fs\033[K", p->label, d,
			r, secs);
	}
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

static void *tick(void *arg)
{
	struct progress *p = arg;
	int period = p->mode == PROGRESS_TTY ? 200 : 2000, waited = 0;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
		waited += 100;
		if (!p->stop && waited >= period) {
			waited = 0;
			draw(p, 0);
		}
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

void progress_start(struct progress *p, enum progress_mode mode,
		    const char *label, struct xfer_stats *st, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	if (mode == PROGRESS_AUTO)
		mode = isatty(STDERR_FILENO) ? PROGRESS_TTY : PROGRESS_PLAIN;
	p->mode = mode;
	if (mode == PROGRESS_NONE)
		return;
	snprintf(p->label, sizeof(p->label), "%s", label);
	p->st = st;
	p->total = total;
	p->t0 = dm_now_ms();
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (mode == PROGRESS_TTY)
		draw(p, 0);
	p->running = pthread_create(&p->thread, NULL, tick, p) == 0;
}

void progress_stop(struct progress *p)
{
	if (p->mode == PROGRESS_NONE)
		return;
	if (p->running) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->thread, NULL);
	}
	draw(p, 1);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	p->mode = PROGRESS_NONE;
}

void progress_phase(enum progress_mode mode, const char *fmt, ...)
{
	va_list ap;

	if (!(mode == PROGRESS_TTY ||
	      (mode == PROGRESS_AUTO && isatty(STDERR_FILENO))))
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}
