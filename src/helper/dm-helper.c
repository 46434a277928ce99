/*
 * dm-helper.c - the one tool inside docker-migrate's helper image, run by
 * the plugin through the Engine API's exec in a helper container that
 * mounts a volume.  Built static (no shared library, no NSS: owners stay
 * numbers) and embedded in the plugin, so the helper image still needs no
 * registry and no internet.
 *
 *   dm-helper wait                 keep the container running (a week
 *                                  at most: DMH_WAIT_MAX_S)
 *   dm-helper scan ROOT SINCE      a tar on stdout of what changed in ROOT
 *                                  at or after SINCE (seconds): entries
 *                                  whose ctime or mtime is not older, and
 *                                  every directory; names "v/...", as the
 *                                  engine's archive of /v gives them; then
 *                                  a member "dm-helper/list": every name
 *                                  in ROOT, NUL-terminated, so that the
 *                                  plugin knows what was deleted
 *   dm-helper get ROOT NAME...     a tar of each NAME alone (a directory
 *                                  without its entries; "." the root),
 *                                  leaving out those that do not exist:
 *                                  the evidence of a final pass, read
 *                                  back at the destination in one request
 *   dm-helper rm ROOT NAME...      remove each NAME (relative) below ROOT,
 *                                  whole, keeping its parent's mtime; a
 *                                  name already gone is not an error
 *   dm-helper sum ROOT             the tree digest of ROOT and its entry
 *                                  count, one line (dmh_sum.c): a copy
 *                                  checked where its data is
 *
 * The final pass of a container's move runs scan at the source after the
 * stop, instead of reading the whole volume through the archive endpoint:
 * unchanged files are never read.  A ctime is set by the kernel on every
 * change of an inode (content, mode, owner, links, rename), and cannot be
 * set back by a process: an entry whose ctime is older than the second the
 * pre-copy began was read as it still is.
 *
 * The verbs, member names and formats are spelled once, in
 * include/dmh_proto.h, which the plugin includes too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "dmh.h"
#include "dmh_proto.h"	/* the verbs, names and formats the plugin reads */

/* ------------------------------------------------------------------ */
/* pure parts (unit-tested)                                            */

/* Changed since `since`: the inode's ctime or mtime in that second or
 * later. */
int dmh_changed(const struct stat *st, long long since)
{
	return (long long)st->st_ctim.tv_sec >= since ||
	       (long long)st->st_mtim.tv_sec >= since;
}


static void octal(char *dst, size_t len, unsigned long long v)
{
	/* len - 1 digits and a NUL, zero-padded */
	dst[len - 1] = '\0';
	for (size_t i = len - 1; i-- > 0; v >>= 3)
		dst[i] = (char)('0' + (v & 7));
}

/* One pax record "LEN KEY=VALUE\n" appended to buf (at *len, cap). */
int dmh_pax_record(char *buf, size_t *len, size_t cap, const char *key,
		   const char *val, size_t vlen)
{
	size_t base = strlen(key) + vlen + 3, n = base, digits;
	char lenbuf[24];

	/* the length counts its own digits */
	for (;;) {
		digits = (size_t)snprintf(lenbuf, sizeof(lenbuf), "%zu", n);
		if (base + digits == n)
			break;
		n = base + digits;
	}
	if (*len + n > cap)
		return -1;
	memcpy(buf + *len, lenbuf, digits);
	buf[*len + digits] = ' ';
	memcpy(buf + *len + digits + 1, key, strlen(key));
	buf[*len + digits + 1 + strlen(key)] = '=';
	memcpy(buf + *len + digits + 2 + strlen(key), val, vlen);
	buf[*len + n - 1] = '\n';
	*len += n;
	return 0;
}

struct dmh_hdr {
	const char *name;	/* at most 100 bytes: longer go as pax */
	const char *link;
	unsigned long long mode, uid, gid, size, mtime;
	unsigned devmajor, devminor;
	char type;
};

/* A number field: octal when it fits, else base-256 (GNU, which Go's
 * archive/tar and the plugin read). */
static void number(char *dst, size_t len, unsigned long long v)
{
	unsigned long long max = (1ULL << (3 * (len - 1))) - 1;

	if (v <= max) {
		octal(dst, len, v);
		return;
	}
	memset(dst, 0, len);
	for (size_t i = len; i-- > 1 && v; v >>= 8)
		dst[i] = (char)(v & 0xff);
	dst[0] = (char)0x80;
}

/* A ustar header block. */
void dmh_header(unsigned char blk[DMH_BLOCK], const struct dmh_hdr *h)
{
	unsigned sum = 0;
	char *b = (char *)blk;

	memset(blk, 0, DMH_BLOCK);
	strncpy(b + DMH_OFF_NAME, h->name, DMH_LEN_NAME);
	octal(b + DMH_OFF_MODE, DMH_LEN_MODE, h->mode & 07777);
	number(b + DMH_OFF_UID, DMH_LEN_UID, h->uid);
	number(b + DMH_OFF_GID, DMH_LEN_GID, h->gid);
	number(b + DMH_OFF_SIZE, DMH_LEN_SIZE, h->size);
	number(b + DMH_OFF_MTIME, DMH_LEN_MTIME, h->mtime);
	memset(b + DMH_OFF_CHKSUM, ' ', DMH_LEN_CHKSUM);
	b[DMH_OFF_TYPE] = h->type;
	if (h->link)
		strncpy(b + DMH_OFF_LINK, h->link, DMH_LEN_LINK);
	memcpy(b + DMH_OFF_MAGIC, "ustar", 6);
	memcpy(b + DMH_OFF_VERSION, "00", 2);
	if (h->type == '3' || h->type == '4') {
		octal(b + DMH_OFF_DEVMAJOR, DMH_LEN_DEV, h->devmajor);
		octal(b + DMH_OFF_DEVMINOR, DMH_LEN_DEV, h->devminor);
	}
	for (int i = 0; i < DMH_BLOCK; i++)
		sum += blk[i];
	octal(b + DMH_OFF_CHKSUM, DMH_LEN_CHKSUM - 1, sum);
}

/* ------------------------------------------------------------------ */

static int out_all(const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(1, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int pad_out(unsigned long long size)
{
	static const unsigned char zeros[DMH_BLOCK];

	return out_all(zeros, (DMH_BLOCK - size % DMH_BLOCK) % DMH_BLOCK);
}

/* The pax records of an entry's extended attributes. */
struct xpax {
	char buf[16384];
	size_t len;
	int full;
	int acl_access, acl_default;	/* which ACLs it has */
};

static int add_xattr_record(void *ctx, const char *name, const void *val,
			    size_t n)
{
	struct xpax *x = ctx;
	char key[300];

	x->acl_access |= strcmp(name, DMH_ACL_ACCESS) == 0;
	x->acl_default |= strcmp(name, DMH_ACL_DEFAULT) == 0;
	if (snprintf(key, sizeof(key), DMH_PAX_XATTR "%s", name) >=
	    (int)sizeof(key) ||
	    dmh_pax_record(x->buf, &x->len, sizeof(x->buf), key, val, n) < 0)
		x->full = 1;
	return 0;
}

/* A header, with a pax header first when a field does not fit ustar or
 * there are attributes (xattrs: their records, or NULL). */
static int emit_header(const struct dmh_hdr *h, const struct xpax *xattrs)
{
	static char pax[20480];
	size_t plen = 0;
	unsigned char blk[DMH_BLOCK];
	struct dmh_hdr u = *h;
	int r = 0;

	if (strlen(h->name) > 100) {
		r |= dmh_pax_record(pax, &plen, sizeof(pax), "path", h->name,
				    strlen(h->name));
		u.name = DMH_LONG_NAME;
	}
	if (h->link && strlen(h->link) > 100) {
		r |= dmh_pax_record(pax, &plen, sizeof(pax), "linkpath",
				    h->link, strlen(h->link));
		u.link = DMH_LONG_LINK;
	}
	if (xattrs && (xattrs->full || plen + xattrs->len > sizeof(pax)))
		r = -1;
	else if (xattrs) {
		memcpy(pax + plen, xattrs->buf, xattrs->len);
		plen += xattrs->len;
	}
	if (r) {
		fprintf(stderr, "dm-helper: %s: a name or attributes too long\n",
			h->name);
		return -1;
	}
	if (plen) {
		struct dmh_hdr x = { .name = DMH_PAX_HEADER, .mode = 0644,
				     .size = plen, .mtime = h->mtime,
				     .type = 'x' };

		dmh_header(blk, &x);
		if (out_all(blk, DMH_BLOCK) < 0 || out_all(pax, plen) < 0 ||
		    pad_out(plen) < 0)
			return -1;
	}
	dmh_header(blk, &u);
	return out_all(blk, DMH_BLOCK);
}

/* Zeros for the holes, which are not read (SEEK_HOLE). */
static int out_zeros(unsigned long long n)
{
	static const char zeros[1 << 16];

	while (n) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);

		if (out_all(zeros, k) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* Where the data at or after off begins (size: none after), by
 * SEEK_DATA: the holes of a sparse file are not read. */
static unsigned long long next_data(int fd, unsigned long long off,
				    unsigned long long size)
{
	off_t d = lseek(fd, (off_t)off, SEEK_DATA);

	if (d < 0)
		return errno == ENXIO ? size : off;	/* ENXIO: a hole to the end */
	return (unsigned long long)d < size ? (unsigned long long)d : size;
}

/* size bytes of the open file fd (closed here). */
/* Has fd a hole before size (SEEK_HOLE finds one)?  Its dirty pages
 * written out first, so that no data not yet allocated (a live volume's)
 * can be taken for a hole and sent as zeros; if they cannot be, it is
 * read whole. */
static int is_sparse(int fd, unsigned long long size)
{
	off_t h = fdatasync(fd) == 0 ? lseek(fd, 0, SEEK_HOLE) : -1;
	int yes = h >= 0 && (unsigned long long)h < size;

	lseek(fd, 0, SEEK_SET);
	return yes;
}

static int emit_file_data(int fd, const char *name, unsigned long long size,
			  int sparse)
{
	static char buf[1 << 16];
	/* sparse: where the data found by SEEK_DATA ends (a hole begins) */
	unsigned long long off = 0, data_end = sparse ? 0 : size;

	while (off < size) {
		ssize_t n;

		if (sparse && off == data_end) {
			unsigned long long d = next_data(fd, off, size);
			off_t h;

			if (out_zeros(d - off) < 0)
				goto fail;
			off = d;
			h = off < size ? lseek(fd, (off_t)off, SEEK_HOLE) : -1;
			data_end = h > 0 && (unsigned long long)h < size
				   ? (unsigned long long)h : size;
			if (off < size && lseek(fd, (off_t)off, SEEK_SET) < 0)
				goto fail;
			continue;
		}
		n = read(fd, buf, data_end - off < sizeof(buf) ? data_end - off
							: sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			/* a live volume (a pre-copy) may shrink a file as it is
			 * read: the rest goes as zeros, and its newer ctime has
			 * the final pass send it again */
			if (out_zeros(size - off) < 0)
				goto fail;
			break;
		}
		if (n < 0) {
			fprintf(stderr, "dm-helper: %s: %s while reading\n", name,
				strerror(errno));
			close(fd);
			return -1;
		}
		if (out_all(buf, (size_t)n) < 0)
			goto fail;
		off += (unsigned long long)n;
		if (!sparse)
			data_end = size;
	}
	close(fd);
	return pad_out(size);
fail:
	fprintf(stderr, "dm-helper: %s: %s\n", name, strerror(errno));
	close(fd);
	return -1;
}

/* A hard-linked inode seen: its first name, sent or not. */
struct inode_seen {
	dev_t dev;
	ino_t ino;
	char *name;
};

struct scan {
	long long since;
	int flat;		/* get: the entries named, not their trees */
	int moved;		/* below a directory moved since: send all */
	char *list;		/* every name, NUL-terminated */
	size_t list_len, list_cap;
	char *sparse;		/* the sparse files sent, NUL-terminated */
	size_t sparse_len, sparse_cap;
	char *strip;		/* XATTR NAME pairs, NUL-terminated */
	size_t strip_len, strip_cap;
	int parent_default;	/* the directory being read has a default ACL */
	struct inode_seen *links;
	size_t nlinks, links_cap;
	int failed;
};

/* A name, then what the pre-copy's read-back must show for it if it was
 * not sent: "TYPE SIZE MTIME UID GID" (size of regular files only). */
static void list_add(struct scan *s, const char *rel, const struct stat *st)
{
	char meta[96];
	int m = snprintf(meta, sizeof(meta), DMH_LIST_META,
			 S_ISDIR(st->st_mode) ? '5' : S_ISREG(st->st_mode) ? '0'
			 : S_ISLNK(st->st_mode) ? '2' : S_ISCHR(st->st_mode) ? '3'
			 : S_ISBLK(st->st_mode) ? '4' : '6',
			 S_ISREG(st->st_mode) ? (long long)st->st_size : 0LL,
			 (long long)st->st_mtim.tv_sec, (unsigned)st->st_uid,
			 (unsigned)st->st_gid);
	size_t n = strlen(rel) + 1 + (size_t)m + 1;

	if (s->list_len + n > s->list_cap) {
		s->list_cap = (s->list_len + n) * 2 + 4096;
		s->list = realloc(s->list, s->list_cap);
		if (!s->list) {
			fprintf(stderr, "dm-helper: out of memory\n");
			exit(1);
		}
	}
	memcpy(s->list + s->list_len, rel, strlen(rel) + 1);
	memcpy(s->list + s->list_len + strlen(rel) + 1, meta, (size_t)m + 1);
	s->list_len += n;
}

/* A string and its NUL appended to a growing buffer. */
static void buf_add(char **buf, size_t *len, size_t *cap, const char *str)
{
	size_t n = strlen(str) + 1;

	if (*len + n > *cap) {
		*cap = (*len + n) * 2 + 1024;
		*buf = realloc(*buf, *cap);
		if (!*buf) {
			fprintf(stderr, "dm-helper: out of memory\n");
			exit(1);
		}
	}
	memcpy(*buf + *len, str, n);
	*len += n;
}

/* A sparse file sent: its name, for the destination's punch. */
static void sparse_add(struct scan *s, const char *rel)
{
	buf_add(&s->sparse, &s->sparse_len, &s->sparse_cap, rel);
}

/* An entry sent into a directory with a default ACL: the ACLs it lacks,
 * which the destination's kernel gives it as it is created. */
static void strip_add(struct scan *s, const char *rel, const struct stat *st,
		      const struct xpax *xa)
{
	if (!s->parent_default || s->flat || S_ISLNK(st->st_mode))
		return;
	if (!xa->acl_access) {
		buf_add(&s->strip, &s->strip_len, &s->strip_cap, DMH_ACL_ACCESS);
		buf_add(&s->strip, &s->strip_len, &s->strip_cap, rel);
	}
	if (S_ISDIR(st->st_mode) && !xa->acl_default) {
		buf_add(&s->strip, &s->strip_len, &s->strip_cap, DMH_ACL_DEFAULT);
		buf_add(&s->strip, &s->strip_len, &s->strip_cap, rel);
	}
}

/* Has a name of this hard-linked inode been seen (and sent) already? */
static int link_seen(const struct scan *s, const struct stat *st)
{
	for (size_t i = 0; i < s->nlinks; i++)
		if (s->links[i].dev == st->st_dev && s->links[i].ino == st->st_ino)
			return 1;
	return 0;
}

/* The first name of a hard-linked inode, or NULL (and it is remembered
 * under rel). */
static const char *link_target(struct scan *s, const struct stat *st,
			       const char *name)
{
	for (size_t i = 0; i < s->nlinks; i++)
		if (s->links[i].dev == st->st_dev && s->links[i].ino == st->st_ino)
			return s->links[i].name;
	if (s->nlinks == s->links_cap) {
		s->links_cap = s->links_cap ? 2 * s->links_cap : 16;
		s->links = realloc(s->links, s->links_cap * sizeof(*s->links));
		if (!s->links) {
			fprintf(stderr, "dm-helper: out of memory\n");
			exit(1);
		}
	}
	s->links[s->nlinks++] = (struct inode_seen){ st->st_dev, st->st_ino,
						     strdup(name) };
	return NULL;
}

static int scan_dir(struct scan *s, int dirfd, const char *rel);

static void scan_release(struct scan *s)
{
	for (size_t i = 0; i < s->nlinks; i++)
		free(s->links[i].name);
	free(s->links);
	free(s->list);
	free(s->sparse);
	free(s->strip);
}

/* One entry: name is "v/rel" ("v/" for the root); base its name in
 * dirfd. */
static int scan_entry(struct scan *s, int dirfd, const char *base,
		      const char *rel, const struct stat *st)
{
	struct dmh_hdr h = { 0 };
	static struct xpax xa;
	char *name, target[4096];
	int ret = 0, changed = s->moved || dmh_changed(st, s->since);

	if (S_ISSOCK(st->st_mode))
		return 0;	/* the engine's archive leaves them out too */
	if (rel[0] && !s->flat)
		list_add(s, rel, st);
	name = malloc(sizeof(DMH_TAR_PREFIX) + strlen(rel) + 1);
	if (!name)
		return -1;
	sprintf(name, DMH_TAR_PREFIX "%s%s", rel,
		S_ISDIR(st->st_mode) && rel[0] ? "/" : "");
	h.name = name;
	h.mode = st->st_mode & 07777;
	h.uid = st->st_uid;
	h.gid = st->st_gid;
	h.mtime = (unsigned long long)st->st_mtim.tv_sec;
	if (S_ISDIR(st->st_mode) || changed) {
		xa.len = 0;
		xa.full = xa.acl_access = xa.acl_default = 0;
		if (dmh_xattrs(rel[0] ? rel : ".", 0, add_xattr_record, &xa) < 0) {
			free(name);
			return -1;
		}
		if (rel[0] && !(S_ISREG(st->st_mode) && st->st_nlink > 1 &&
				link_seen(s, st)))
			strip_add(s, rel, st, &xa);
	}
	if (S_ISDIR(st->st_mode)) {
		int fd;

		h.type = '5';
		ret = emit_header(&h, &xa);
		if (s->flat) {
			free(name);
			return ret;
		}
		fd = ret ? -1 : openat(dirfd, base, O_RDONLY | O_DIRECTORY |
				       O_NOFOLLOW | O_CLOEXEC);
		if (ret == 0 && fd < 0 && errno != ENOENT) {
			fprintf(stderr, "dm-helper: %s: %s\n", rel,
				strerror(errno));
			ret = -1;
		}
		if (ret == 0 && fd >= 0) {	/* else gone since read */
			int was = s->moved, had = s->parent_default;

			/* a new ctime with an old mtime: the directory itself
			 * was renamed (or its owner or mode changed), not its
			 * entries; renamed over another, the names below it
			 * are others' now, their own times unchanged */
			if (!s->flat && (long long)st->st_ctim.tv_sec >= s->since &&
			    (long long)st->st_mtim.tv_sec < s->since)
				s->moved = 1;
			s->parent_default = xa.acl_default;
			ret = scan_dir(s, fd, rel);
			s->moved = was;
			s->parent_default = had;
		}
		free(name);
		return ret;
	}
	/* in a flat read too: the names of a group come back folded as the
	 * scan sent them */
	if (S_ISREG(st->st_mode) && st->st_nlink > 1) {
		const char *first = link_target(s, st, name);

		/* a changed group is sent whole (the ctime is the inode's:
		 * all its names are changed or none) */
		if (first && changed) {
			h.type = '1';
			h.link = first;
			ret = emit_header(&h, NULL);
			free(name);
			return ret;
		}
	}
	if (!changed) {
		free(name);
		return 0;
	}
	if (S_ISREG(st->st_mode)) {
		int sparse, fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW |
				       O_CLOEXEC);

		if (fd < 0) {
			free(name);
			if (errno == ENOENT)
				return 0;	/* gone since read: see scan_dir */
			fprintf(stderr, "dm-helper: %s: %s\n", rel, strerror(errno));
			return -1;
		}
		/* a hole before its end: skipped as it is read and punched
		 * again at the destination.  Not by counting blocks: a file
		 * just written (delayed allocation) has fewer than its size */
		sparse = (unsigned long long)st->st_blocks * 512 <
			 (unsigned long long)st->st_size &&
			 is_sparse(fd, (unsigned long long)st->st_size);
		h.type = '0';
		h.size = (unsigned long long)st->st_size;
		ret = emit_header(&h, &xa);
		if (ret == 0)
			ret = emit_file_data(fd, rel, (unsigned long long)st->st_size,
					     sparse);
		else
			close(fd);
		if (ret == 0 && sparse && !s->flat)
			sparse_add(s, rel);
	} else if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(dirfd, base, target, sizeof(target) - 1);

		if (n < 0 && errno == ENOENT) {
			free(name);
			return 0;	/* gone since read */
		}
		if (n < 0) {
			fprintf(stderr, "dm-helper: %s: %s\n", rel,
				strerror(errno));
			ret = -1;
		} else {
			target[n] = '\0';
			h.type = '2';
			h.link = target;
			ret = emit_header(&h, &xa);
		}
	} else {
		h.type = S_ISCHR(st->st_mode) ? '3' : S_ISBLK(st->st_mode) ? '4'
			 : '6';
		h.devmajor = major(st->st_rdev);
		h.devminor = minor(st->st_rdev);
		ret = emit_header(&h, &xa);
	}
	free(name);
	return ret;
}

static int scan_dir(struct scan *s, int fd, const char *rel)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		close(fd);
		fprintf(stderr, "dm-helper: %s: %s\n", rel, strerror(errno));
		return -1;
	}
	while (ret == 0 && (errno = 0, de = readdir(d)) != NULL) {
		struct stat st;
		char *child;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			/* a live volume (a pre-copy): renamed or removed since
			 * listed, as the engine's archive lets it go; the final
			 * pass, the source stopped, reads a still volume */
			if (errno == ENOENT)
				continue;
			fprintf(stderr, "dm-helper: %s/%s: %s\n", rel, de->d_name,
				strerror(errno));
			ret = -1;
			break;
		}
		child = malloc(strlen(rel) + strlen(de->d_name) + 2);
		if (!child) {
			ret = -1;
			break;
		}
		sprintf(child, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		ret = scan_entry(s, dirfd(d), de->d_name, child, &st);
		free(child);
	}
	if (ret == 0 && errno) {
		fprintf(stderr, "dm-helper: %s: %s\n", rel, strerror(errno));
		ret = -1;
	}
	closedir(d);
	return ret;
}

static int cmd_scan(const char *root, const char *since)
{
	struct scan s = { 0 };
	struct stat st;
	unsigned char blk[2 * DMH_BLOCK] = { 0 };
	struct dmh_hdr h = { .name = DMH_LIST_MEMBER, .mode = 0644, .type = '0' };
	char *end;
	int ret;

	s.since = strtoll(since, &end, 10);
	if (*end || !*since) {
		fprintf(stderr, "dm-helper: scan: bad time \"%s\"\n", since);
		return 2;
	}
	if (chdir(root) < 0 || lstat(".", &st) < 0) {
		fprintf(stderr, "dm-helper: %s: %s\n", root, strerror(errno));
		return 1;
	}
	ret = scan_entry(&s, AT_FDCWD, ".", "", &st);
	if (ret == 0) {
		h.size = s.list_len;
		dmh_header(blk, &h);
		ret = out_all(blk, DMH_BLOCK) < 0 || out_all(s.list, s.list_len) < 0 ||
		      pad_out(s.list_len) < 0;
		h.name = DMH_SPARSE_MEMBER;
		h.size = s.sparse_len;
		dmh_header(blk, &h);
		if (s.sparse_len)	/* only when there is one */
			ret = ret || out_all(blk, DMH_BLOCK) < 0 ||
			      out_all(s.sparse, s.sparse_len) < 0 ||
			      pad_out(s.sparse_len) < 0;
		h.name = DMH_STRIP_MEMBER;
		h.size = s.strip_len;
		dmh_header(blk, &h);
		if (s.strip_len)
			ret = ret || out_all(blk, DMH_BLOCK) < 0 ||
			      out_all(s.strip, s.strip_len) < 0 ||
			      pad_out(s.strip_len) < 0;
		memset(blk, 0, sizeof(blk));
		ret = ret || out_all(blk, sizeof(blk)) < 0 ? -1 : 0;
		if (ret)
			fprintf(stderr, "dm-helper: writing the stream: %s\n",
				strerror(errno));
	}
	scan_release(&s);
	return ret ? 1 : 0;
}


/* Every name below the root (the root itself, ".", when root_ok), then
 * into it: 0, or the exit status. */
static int enter_root(const char *root, int n, char **names, int root_ok)
{
	for (int i = 0; i < n; i++)
		if (!(root_ok && strcmp(names[i], ".") == 0) &&
		    !dmh_safe_name(names[i])) {
			fprintf(stderr, "dm-helper: refusing \"%s\": not a name "
				"below the root\n", names[i]);
			return 2;
		}
	if (chdir(root) < 0) {
		fprintf(stderr, "dm-helper: %s: %s\n", root, strerror(errno));
		return 1;
	}
	return 0;
}

/* The entries named (relative, "." for the root), each alone, as scan
 * writes them; a name that does not exist is left out. */
static int cmd_get(const char *root, int n, char **names)
{
	struct scan s = { .since = -1, .flat = 1 };
	unsigned char end[2 * DMH_BLOCK] = { 0 };

	int r = enter_root(root, n, names, 1);

	if (r)
		return r;
	for (int i = 0; i < n; i++) {
		struct stat st;
		const char *base;
		int at = dmh_open_parent(names[i], &base);

		if (at < 0 && (errno == ENOENT || errno == ENOTDIR ||
			       errno == ELOOP))
			continue;	/* not there as a path of directories */
		if (at < 0 || fstatat(at, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (at >= 0)
				close(at);
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			fprintf(stderr, "dm-helper: %s: %s\n", names[i],
				strerror(errno));
			r = 1;
			goto out;
		}
		r = scan_entry(&s, at, base, strcmp(names[i], ".") ? names[i] : "",
			       &st);
		close(at);
		if (r < 0) {
			r = 1;
			goto out;
		}
	}
	r = out_all(end, sizeof(end)) < 0 ? 1 : 0;
out:
	/* the names of hard-linked groups it saw */
	scan_release(&s);
	return r;
}

static int remove_tree(int at, const char *base, const char *name)
{
	int fd;
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (unlinkat(at, base, 0) == 0 || errno == ENOENT || errno == ENOTDIR)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		goto fail;
	fd = openat(at, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	while (ret == 0 && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			ret = remove_tree(dirfd(d), de->d_name, name);
	closedir(d);
	if (ret == 0 && unlinkat(at, base, AT_REMOVEDIR) < 0 && errno != ENOENT)
		goto fail;
	return ret;
fail:
	fprintf(stderr, "dm-helper: removing %s: %s\n", name, strerror(errno));
	return -1;
}

static int cmd_rm(const char *root, int n, char **names)
{
	int r = enter_root(root, n, names, 0);

	if (r)
		return r;
	for (int i = 0; i < n; i++) {
		struct stat st;
		int have;
		const char *base;
		int at = dmh_open_parent(names[i], &base);

		if (at < 0 && (errno == ENOENT || errno == ENOTDIR ||
			       errno == ELOOP))
			continue;	/* gone with what held it */
		if (at < 0) {
			fprintf(stderr, "dm-helper: removing %s: %s\n", names[i],
				strerror(errno));
			return 1;
		}
		/* the parent's mtime is the source's: removing changes it */
		have = fstat(at, &st) == 0;
		r = remove_tree(at, base, names[i]);
		if (r == 0 && have) {
			struct timespec ts[2] = { st.st_atim, st.st_mtim };

			futimens(at, ts);
		}
		close(at);
		if (r < 0)
			return 1;
	}
	return 0;
}

#ifndef DMH_NO_MAIN
int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], DMH_VERB_WAIT) == 0) {
		/* pid 1 of its container: removed with it (SIGKILL) */
		struct timespec t = { DMH_WAIT_MAX_S, 0 };

		while (nanosleep(&t, &t) < 0 && errno == EINTR)
			;
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], DMH_VERB_SCAN) == 0)
		return cmd_scan(argv[2], argv[3]);
	if (argc >= 3 && strcmp(argv[1], DMH_VERB_RM) == 0)
		return cmd_rm(argv[2], argc - 3, argv + 3);
	if (argc >= 3 && strcmp(argv[1], DMH_VERB_GET) == 0)
		return cmd_get(argv[2], argc - 3, argv + 3);
	if (argc == 3 && strcmp(argv[1], DMH_VERB_SUM) == 0)
		return dmh_cmd_sum(argv[2], 0);
	if (argc == 4 && strcmp(argv[1], DMH_VERB_SUM) == 0 &&
	    strcmp(argv[3], DMH_SUM_CAP) == 0)
		return dmh_cmd_sum(argv[2], 1);
	if (argc >= 3 && strcmp(argv[1], DMH_VERB_STAT) == 0)
		return dmh_cmd_stat(argv[2], argc - 3, argv + 3);
	if (argc >= 4 && strcmp(argv[1], DMH_VERB_STRIP) == 0)
		return dmh_cmd_strip(argv[2], argv[3], argc - 4, argv + 4);
	if (argc >= 3 && strcmp(argv[1], DMH_VERB_PUNCH) == 0)
		return dmh_cmd_punch(argv[2], argc - 3, argv + 3);
	fprintf(stderr, DMH_USAGE "\n");
	return 2;
}
#endif
