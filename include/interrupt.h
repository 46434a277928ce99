/*
 * interrupt.h - what Ctrl-C (SIGINT, SIGTERM, the Docker CLI hanging up)
 * says and does (see interrupt.c).
 */
#ifndef DM_INTERRUPT_H
#define DM_INTERRUPT_H

/* SIGINT and SIGTERM cancel the work (dm_cancel) and say at once, on
 * stderr, what the plugin now waits for.  Once a move is under way (see
 * interrupt_hold) none of them kills the process: a rollback that starts
 * the source again must run to its end. */
void interrupt_install(void);

/* The Docker CLI closed the plugin socket: the same as one interrupt
 * (the SIGINT of the same keypress that reaches us too is not counted
 * twice). */
void interrupt_from_cli(void);

/* What an interrupt would now wait for, in words ("waiting for the
 * source to stop ..."); NULL: nothing in particular.  Kept until the
 * next call. */
void interrupt_note(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* The note for a step of a container move, by the step's name. */
void interrupt_note_step(const char *step, const char *dest,
			 long stop_timeout_s);

/* From here on the process may have changed something that a rollback
 * puts back (a move's record began): a second interrupt no longer ends
 * the process at once, as it does before (a connection that takes its
 * time, history, completion). */
void interrupt_hold(void);

/* How many interrupts came (keypresses: a signal and the CLI's hangup
 * that follow each other closely count once). */
int interrupt_count(void);

#endif
