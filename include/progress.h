/*
 * progress.h - progress of a transfer on stderr (see progress.c).  The
 * final report stays on stdout.
 */
#ifndef DM_PROGRESS_H
#define DM_PROGRESS_H

#include <pthread.h>
#include <stdint.h>

#include "engine.h"

enum progress_mode {
	PROGRESS_AUTO = 0,	/* a bar on a terminal, lines otherwise */
	PROGRESS_TTY,
	PROGRESS_PLAIN,
	PROGRESS_NONE,
};

/* "auto", "tty", "plain", "none": the values of --progress, in the
 * order of enum progress_mode; NULL-terminated. */
extern const char *const progress_mode_names[];

struct progress {
	enum progress_mode mode;
	char label[64];
	struct xfer_stats *st;
	uint64_t total;		/* 0: unknown */
	int64_t t0;
	pthread_t thread;
	int running, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* Show the progress of st (its byte counter) until progress_stop. */
void progress_start(struct progress *p, enum progress_mode mode,
		    const char *label, struct xfer_stats *st, uint64_t total);
void progress_stop(struct progress *p);

/* The bar's total for a strategy moving an image of that size: what save
 * sends and what delta reads; 0 (no bar) where the engines move it
 * (registry) or only some blobs go (layers). */
uint64_t progress_total_of(const char *strategy, long long image_size);

/* On a terminal only (mode auto or tty): one line saying what is being
 * waited for, so that a wait of seconds never looks like a hang. */
void progress_phase(enum progress_mode mode, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
