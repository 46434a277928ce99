/*
 * dmh_path.c - dm-helper: names below the root, checked and reached
 * without following a symbolic link; what every verb that takes names
 * (get, rm, stat, strip, punch) relies on.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "dmh.h"

/* A name to remove must stay below the root: relative, no "..", no
 * empty or "." element. */
int dmh_safe_name(const char *name)
{
	const char *p = name;

	if (!*p || *p == '/')
		return 0;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/')
			p++;
		if (e && !*p)
			return 0;	/* trailing slash */
	}
	return 1;
}

/* The directory that holds name, reached without following a symbolic
 * link (what was a directory at the source may be a link here by now):
 * its fd, *base the last element; -1 with errno when there is none. */
int dmh_open_parent(const char *name, const char **base)
{
	int fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *p = name, *slash;

	while (fd >= 0 && (slash = strchr(p, '/')) != NULL) {
		char elem[256];
		size_t n = (size_t)(slash - p);
		int next;

		if (n >= sizeof(elem)) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(elem, p, n);
		elem[n] = '\0';
		next = openat(fd, elem, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
		close(fd);
		fd = next;
		p = slash + 1;
	}
	*base = p;
	return fd;
}
