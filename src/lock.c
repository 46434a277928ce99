/*
 * lock.c - one migration of an object at a time: a second "docker migrate"
 * of the same container, started while the first runs, is refused rather
 * than interleaved.  flock(2) on a file under the Docker config dir: the
 * kernel drops the lock when the holder dies, so no stale lock survives a
 * crash.
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

int migration_lock(const char *cfgdir, const char *key, const char *what)
{
	char hex[65], *dir, *path, pid[32];
	int fd;

	sha256_hex(key, strlen(key), hex);
	dir = xasprintf("%s/migrate/locks", cfgdir);
	path = xasprintf("%s/%s.lock", dir, hex);
	mkdir(cfgdir, 0700);
	{
		char *parent = xasprintf("%s/migrate", cfgdir);

		mkdir(parent, 0700);
		free(parent);
	}
	mkdir(dir, 0700);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		dm_error("cannot open the lock %s: %s", path, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);

		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		dm_error("%s is already being migrated (by process %s): wait "
			 "for it, or see 'docker migrate history'", what,
			 pid[0] ? pid : "?");
		close(fd);
		fd = -1;
		goto out;
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) < 0)
		dm_debug("cannot write the lock's pid: %s", strerror(errno));
out:
	free(dir);
	free(path);
	return fd;
}

void migration_unlock(int fd)
{
	if (fd < 0)
		return;
	/* the file stays: removing it would race with a new locker */
	if (ftruncate(fd, 0) < 0)
		dm_debug("cannot clear the lock: %s", strerror(errno));
	close(fd);
}
