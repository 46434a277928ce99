/*
 * record.h - the migration record: every migration gets an id and a JSON
 * file under <docker config>/migrate/history/, rewritten atomically at
 * each change of status, with the measured time of each phase and the
 * bytes sent.  "docker migrate history" reads them back.
 */
#ifndef DM_RECORD_H
#define DM_RECORD_H

#include <stdint.h>
#include <stdio.h>
#include <yajl/yajl_gen.h>

#define RECORD_MAX_PHASES 16

struct phase {
	char name[24];
	int64_t ms;
};

struct migration {
	char id[17];
	char status[16];	/* pending running completed failed rolled-back */
	char *kind;		/* "container", "image" */
	char *object;
	char *source, *dest, *strategy;
	int64_t started, finished;	/* seconds since the epoch */
	struct phase phases[RECORD_MAX_PHASES];
	int nphases;
	int64_t phase_t0;	/* ms, monotonic: start of the open phase */
	char cur_phase[24];
	uint64_t bytes;		/* payload bytes sent to the destination */
	int64_t downtime_ms;	/* -1: not measured */
	char *failed_step;
	char *error;
	char *path;		/* the record's file; NULL: not persisted */
	/* the config digests of the images moved, space-separated: what an
	 * image is on any store (on the containerd store its id is its
	 * manifest's digest); NULL: none known */
	char *configs;
};
/* Add an image's config digest to the record. */
void record_add_config(struct migration *m, const char *digest);

/* Create the record (status "pending") and its file under cfgdir. */
int record_begin(struct migration *m, const char *cfgdir, const char *kind,
		 const char *object, const char *source, const char *dest,
		 const char *strategy);
void record_set_status(struct migration *m, const char *status);
void record_phase_begin(struct migration *m, const char *name);
void record_phase_end(struct migration *m);
/* Failure: the step that failed (the open phase) and why. */
void record_fail(struct migration *m, const char *status, const char *why);
int64_t record_total_ms(const struct migration *m);
int record_save(struct migration *m);
void record_release(struct migration *m);

void record_gen(const struct migration *m, yajl_gen g);
/* The human report printed at the end of a migration. */
void record_report(const struct migration *m, FILE *out);
/* The report, or the record as JSON (--format json). */
void record_print(const struct migration *m, int json, FILE *out);

/* Read all records of cfgdir, oldest first. */
int record_load_all(const char *cfgdir, struct migration **out, size_t *n);

#endif
