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

/* What the bar measures: the bytes read at the source when a filter
 * sends fewer than it reads (delta: the whole export is read, only the
 * missing layers go, compressed), else the bytes sent. */
static uint64_t measured(const struct progress *p, uint64_t *sent)
{
	uint64_t read = __atomic_load_n(&p->st->read, __ATOMIC_RELAXED);

	*sent = __atomic_load_n(&p->st->bytes, __ATOMIC_RELAXED);
	return read ? read : *sent;
}

static void draw_plain(const struct progress *p, int final, uint64_t done,
		       uint64_t sent, double secs, double rate)
{
	char d[32], t[32], r[32];

	dm_human_bytes(sent, d, sizeof(d));
	dm_human_bytes((uint64_t)rate, r, sizeof(r));
	if (final) {
		fprintf(stderr, "%s: %s in %.1f s\n", p->label, d, secs);
		return;
	}
	if (!p->total) {
		fprintf(stderr, "%s: %s sent (%s/s)\n", p->label, d, r);
		return;
	}
	dm_human_bytes(done, d, sizeof(d));
	dm_human_bytes(p->total, t, sizeof(t));
	fprintf(stderr, "%s: %s/%s (%d%%), %s/s, %.0f s left\n", p->label, d,
		t, (int)(100.0 * (double)(done > p->total ? p->total : done) /
			 (double)p->total), r,
		rate > 0 && done < p->total ? (double)(p->total - done) / rate
					    : 0);
}

static void draw(struct progress *p, int final)
{
	uint64_t sent, done = measured(p, &sent);
	double secs = (double)(dm_now_ms() - p->t0) / 1000.0;
	double rate = secs > 0.05 ? (double)done / secs : 0;
	char d[32], t[32], r[32], s[48] = "", bar[41];

	if (p->mode == PROGRESS_PLAIN) {
		draw_plain(p, final, done, sent, secs, rate);
		return;
	}
	dm_human_bytes(done, d, sizeof(d));
	dm_human_bytes((uint64_t)rate, r, sizeof(r));
	if (done != sent) {
		char x[32];

		dm_human_bytes(sent, x, sizeof(x));
		snprintf(s, sizeof(s), ", %s sent", x);
	}
	if (p->total) {
		uint64_t upto = done > p->total ? p->total : done;
		int n = (int)(40.0 * (double)upto / (double)p->total);
		double left = rate > 0 && done < p->total
			      ? (double)(p->total - done) / rate : 0;

		memset(bar, ' ', 40);
		memset(bar, '=', (size_t)n);
		if (n < 40 && !final)
			bar[n] = '>';
		bar[40] = '\0';
		dm_human_bytes(p->total, t, sizeof(t));
		fprintf(stderr, "\r%-24.24s [%s] %9s/%-9s %3d%% %9s/s %s%.0fs%s"
			"\033[K", p->label, bar, d, t,
			(int)(100.0 * (double)upto / (double)p->total), r,
			final ? "in " : "ETA ", final ? secs : left, s);
	} else {
		fprintf(stderr, "\r%-24.24s %9s %9s/s %.0fs%s\033[K", p->label,
			d, r, secs, s);
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

uint64_t progress_total_of(const char *strategy, long long image_size)
{
	static const char *const whole[] = { "save", "delta" };

	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
		if (image_size > 0 && strcmp(strategy, whole[i]) == 0)
			return (uint64_t)image_size;
	return 0;
}
