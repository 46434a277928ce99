/*
 * lock.c - one migration of an object at a time: a second "docker migrate"
 * of the same container, started while the first runs, is refused rather
 * than interleaved.  flock(2) on a file under the Docker config dir: the
 * kernel drops the lock when the holder dies, so no stale lock survives a
 * crash.  The holder removes the file as it unlocks, so that files do not
 * pile up; a locker that opened it just before checks, once it holds the
 * lock, that its file is still the one at the path, and tries again if
 * not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context.h"
#include "dm.h"
#include "lock.h"

/* The paths of the locks this process holds, by descriptor: unlocking
 * removes the file. */
#define HELD_MAX 8
static struct { int fd; char *path; } held[HELD_MAX];

static void remember_held(int fd, char *path)
{
	for (int i = 0; i < HELD_MAX; i++)
		if (!held[i].path) {
			held[i].fd = fd;
			held[i].path = path;
			return;
		}
	free(path);	/* more than that: the file stays, harmless */
}

/* Is fd still the file at path (not one removed by an unlocking holder
 * between our open and our flock)? */
static int still_at(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int busy(int fd, const char *what)
{
	char pid[32];
	ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);

	pid[n > 0 ? n : 0] = '\0';
	pid[strcspn(pid, "\n")] = '\0';
	dm_error("%s is already being migrated (by process %s): wait for it, "
		 "or see 'docker migrate history'", what, pid[0] ? pid : "?");
	close(fd);
	return -1;
}

static void make_dirs(const char *cfgdir, const char *dir)
{
	char *parent = xasprintf("%s/migrate", cfgdir);

	mkdir(cfgdir, 0700);
	mkdir(parent, 0700);
	mkdir(dir, 0700);
	free(parent);
}

int migration_lock(const char *cfgdir, const char *key, const char *what)
{
	char hex[65], *dir, *path, pid[32];
	int fd = -1;

	sha256_hex(key, strlen(key), hex);
	dir = xasprintf("%s/migrate/locks", cfgdir);
	path = xasprintf("%s/%s.lock", dir, hex);
	make_dirs(cfgdir, dir);
	/* bounded: each retry means a holder finished meanwhile */
	for (int tries = 0; tries < 100; tries++) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			dm_error("cannot open the lock %s: %s", path,
				 strerror(errno));
			goto out;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			fd = busy(fd, what);
			goto out;
		}
		if (still_at(fd, path))
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		dm_error("cannot take the lock %s: it keeps being removed", path);
		goto out;
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) < 0)
		dm_debug("cannot write the lock's pid: %s", strerror(errno));
	remember_held(fd, path);
	path = NULL;
out:
	free(dir);
	free(path);
	return fd;
}

void migration_unlock(int fd)
{
	if (fd < 0)
		return;
	for (int i = 0; i < HELD_MAX; i++)
		if (held[i].path && held[i].fd == fd) {
			/* removed while still held: a locker that opened it
			 * meanwhile sees it gone and opens a new one */
			if (unlink(held[i].path) < 0)
				dm_debug("cannot remove the lock %s: %s",
					 held[i].path, strerror(errno));
			free(held[i].path);
			held[i].path = NULL;
		}
	close(fd);
}
