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

/* A step of the plan as it ran (see plan.h): the report and history list
 * them in the plan's order. */
struct rec_step {
	char name[24];		/* the step's kind */
	char *object;
	int64_t planned;	/* bytes expected; -1: not known before */
	int64_t started;	/* ms since the epoch; 0: not begun */
	int64_t ms;
	uint64_t bytes;
	char outcome[16];	/* planned running done failed */
};

/* An entry of the undo journal: the inverse of something a step did at
 * either host, on disk before the next step begins.  A rollback applies
 * the entries not done, last first (see undo.c). */
struct rec_undo {
	char op[24];
	char host[12];		/* "source", "destination" */
	char *arg;		/* what it acts on: a name, an id, a path */
	char *data;		/* a JSON document it needs, or NULL */
	int done;
};

struct migration {
	char id[17];
	char status[16];	/* pending running completed failed rolled-back */
	char *kind;		/* "container", "image" */
	char *object;
	char *source, *dest, *strategy;
	int64_t started, finished;	/* seconds since the epoch */
	int64_t started_ms;	/* ms since the epoch: the order of records
				 * begun within one second (0: not known) */
	struct phase phases[RECORD_MAX_PHASES];
	int nphases;
	int64_t phase_t0;	/* ms, monotonic: start of the open phase */
	char cur_phase[24];
	uint64_t bytes;		/* payload bytes sent to the destination */
	int64_t downtime_ms;	/* -1: not measured */
	char *failed_step;
	char *error;
	char *error_kind;	/* dm_errkind_name(); NULL: not known */
	char *path;		/* the record's file; NULL: not persisted */
	/* the config digests of the images moved, space-separated: what an
	 * image is on any store (on the containerd store its id is its
	 * manifest's digest); NULL: none known */
	char *configs;
	int pid;		/* the process that runs it */
	unsigned long long pid_start;	/* ... and when it started (0: unknown) */
	struct rec_step *steps;
	size_t nsteps;
	struct rec_undo *journal;
	size_t njournal;
	/* what the copy was made without (--drop-unmovable, --bind-mounts
	 * skip), each named: the report and history show them */
	char **dropped;
	size_t ndropped;
};
/* Name one thing the copy is made without (saved with the next save). */
void record_add_dropped(struct migration *m, const char *what);
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
void record_fail(struct migration *m, const char *status,
		 enum dm_errkind kind, const char *why);
int64_t record_total_ms(const struct migration *m);
int record_save(struct migration *m);
void record_release(struct migration *m);

/* Milliseconds since the epoch, as the steps' start times are. */
int64_t record_wall_ms(void);

/* The plan's steps, added before the first runs; each begun and ended
 * with its bytes and outcome, the record saved each time. */
size_t record_step_add(struct migration *m, const char *name,
		       const char *object, int64_t planned);
void record_step_begin(struct migration *m, size_t i);
void record_step_end(struct migration *m, size_t i, uint64_t bytes,
		     const char *outcome);

/* Append an inverse to the journal and save (fsync) before returning:
 * -1 when it could not be written, and the step must then not go on. */
int record_undo_push(struct migration *m, const char *op, const char *host,
		     const char *arg, const char *data);
void record_undo_done(struct migration *m, size_t i);
/* The journal entries not done yet. */
size_t record_undo_left(const struct migration *m);

/* The status to show: "interrupted" for a record left at running (or
 * pending) by a process that is gone. */
const char *record_shown_status(const struct migration *m);

/* The record of that id (or unique prefix) under cfgdir, with its path
 * set so that it can be saved again; -1 with a message when none. */
int record_load_id(const char *cfgdir, const char *id, struct migration *m);

void record_gen(const struct migration *m, yajl_gen g);
/* The human report printed at the end of a migration. */
void record_report(const struct migration *m, FILE *out);
/* The report, or the record as JSON (--format json). */
void record_print(const struct migration *m, int json, FILE *out);

/* Read all records of cfgdir, oldest first. */
int record_load_all(const char *cfgdir, struct migration **out, size_t *n);

#endif
