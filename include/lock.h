/*
 * lock.h - one migration of an object at a time (see lock.c).
 */
#ifndef DM_LOCK_H
#define DM_LOCK_H

/* Lock key (e.g. "<source engine>/<container id>"); returns a descriptor
 * that holds the lock, or -1 with dm_error() naming `what`. */
int migration_lock(const char *cfgdir, const char *key, const char *what);
void migration_unlock(int fd);

#endif
