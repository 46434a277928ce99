/*
 * dmh_punch.c - dm-helper punch: sparse files made sparse again at the
 * destination.  The engine's archive endpoint writes every byte of a
 * file it unpacks, holes as zeros; the source's scan read those holes by
 * SEEK_HOLE (never the disk) and names its sparse files, and here each
 * block of zeros becomes a hole again, the file's size and times kept.
 * And dm-helper strip: the engine creates each entry before it sets the
 * attributes its header carries, so an entry created in a directory
 * with a default ACL inherits one the source's entry may not have.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "dmh.h"
#include "dmh_proto.h"

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* The runs of whole blocks of zeros of fd become holes. */
static int punch_fd(int fd, const struct stat *st, const char *name)
{
	static unsigned char buf[1 << 20];
	size_t blk = st->st_blksize > 0 && (size_t)st->st_blksize <= sizeof(buf)
		     ? (size_t)st->st_blksize : 4096;
	off_t off = 0, run = -1;	/* run: where the zeros began */

	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		for (size_t i = 0; i < (size_t)n; i += blk) {
			size_t k = (size_t)n - i < blk ? (size_t)n - i : blk;
			int zero = k == blk && all_zero(buf + i, k);

			if (zero && run < 0)
				run = off + (off_t)i;
			if (!zero && run >= 0) {
				if (fallocate(fd, FALLOC_FL_PUNCH_HOLE |
					      FALLOC_FL_KEEP_SIZE, run,
					      off + (off_t)i - run) < 0)
					goto fail;
				run = -1;
			}
		}
		if (n == 0)
			break;
		off += n;
	}
	if (run >= 0 && off > run &&
	    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, run,
		      off - run) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "dm-helper: making %s sparse: %s\n", name,
		strerror(errno));
	return -1;
}

int dmh_cmd_punch(const char *root, int n, char **names)
{
	if (chdir(root) < 0) {
		fprintf(stderr, "dm-helper: %s: %s\n", root, strerror(errno));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		struct stat st;
		int fd;

		if (!dmh_safe_name(names[i])) {
			fprintf(stderr, "dm-helper: refusing \"%s\": not a name "
				"below the root\n", names[i]);
			return 2;
		}
		/* a regular file only, never through a symbolic link */
		fd = open(names[i], O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0 && (errno == ENOENT || errno == ELOOP))
			continue;	/* gone, or not a file any more */
		if (fd < 0 || fstat(fd, &st) < 0) {
			fprintf(stderr, "dm-helper: %s: %s\n", names[i],
				strerror(errno));
			if (fd >= 0)
				close(fd);
			return 1;
		}
		if (S_ISREG(st.st_mode)) {
			struct timespec ts[2] = { st.st_atim, st.st_mtim };

			if (punch_fd(fd, &st, names[i]) < 0 ||
			    futimens(fd, ts) < 0) {
				close(fd);
				return 1;
			}
		}
		close(fd);
	}
	return 0;
}

int dmh_cmd_strip(const char *root, const char *xattr, int n, char **names)
{
	if (strcmp(xattr, DMH_ACL_ACCESS) && strcmp(xattr, DMH_ACL_DEFAULT)) {
		fprintf(stderr, "dm-helper: refusing to strip %s: only ACLs\n",
			xattr);
		return 2;
	}
	if (chdir(root) < 0) {
		fprintf(stderr, "dm-helper: %s: %s\n", root, strerror(errno));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (!dmh_safe_name(names[i])) {
			fprintf(stderr, "dm-helper: refusing \"%s\": not a name "
				"below the root\n", names[i]);
			return 2;
		}
		if (lremovexattr(names[i], xattr) < 0 && errno != ENODATA &&
		    errno != ENOENT && errno != ENOTSUP) {
			fprintf(stderr, "dm-helper: %s: removing %s: %s\n",
				names[i], xattr, strerror(errno));
			return 1;
		}
	}
	return 0;
}
