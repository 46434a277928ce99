/*
 * dmh_sum.c - dm-helper sum: the tree digest of a volume computed next to
 * its data, so that checking a copy sends one line back over the link
 * instead of the whole volume.  The digest is the one the plugin computes
 * from the tar stream it sent (treesum.h; the form is spelled in
 * dmh_proto.h): the same entries, sorted the same way, each hard-linked
 * group folded the same way.  The entries are kept here, in the helper,
 * until they are sorted: the plugin keeps none.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "dmh.h"
#include "dmh_proto.h"

struct sument {
	char *name;		/* relative to the root, "" for it */
	char *link;		/* a symlink's target, else NULL */
	char *xattrs;		/* "NAME=HEX\n", else NULL */
	unsigned long long mode, uid, gid, size, mtime;
	dev_t dev;
	ino_t ino;
	unsigned long nlink;
	unsigned char sha[32];
	char type;
	int linked;
};

struct sumwalk {
	struct sument *e;
	size_t n, cap;
	int cap_only;		/* security.capability alone, as the archive */
	int flat;		/* stat: the entries named, not their trees */
};

static void *must(void *p)
{
	if (!p) {
		fprintf(stderr, "dm-helper: out of memory\n");
		exit(1);
	}
	return p;
}

static char type_of(mode_t m)
{
	return S_ISDIR(m) ? '5' : S_ISREG(m) ? '0' : S_ISLNK(m) ? '2'
	       : S_ISCHR(m) ? '3' : S_ISBLK(m) ? '4' : '6';
}

/* The content's SHA-256, read to its end. */
static int hash_file(int dirfd, const char *base, const char *rel,
		     unsigned char sha[32])
{
	static unsigned char buf[1 << 16];
	struct dmh_sha256 c;
	int fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, "dm-helper: %s: %s\n", rel, strerror(errno));
		return -1;
	}
	dmh_sha256_init(&c);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "dm-helper: %s: %s\n", rel,
				strerror(errno));
			close(fd);
			return -1;
		}
		dmh_sha256_update(&c, buf, (size_t)n);
	}
	close(fd);
	dmh_sha256_final(&c, sha);
	return 0;
}

/* The attributes carried, as the plugin's tar reader writes them: lines
 * "NAME=HEX\n" sorted; NULL for none. */
struct xlines {
	char **v;
	size_t n;
};

static int add_line(void *ctx, const char *name, const void *val, size_t n)
{
	struct xlines *l = ctx;
	const unsigned char *p = val;
	char *line = must(malloc(strlen(name) + 2 * n + 3));
	size_t k = (size_t)sprintf(line, "%s=", name);

	for (size_t i = 0; i < n; i++)
		k += (size_t)sprintf(line + k, "%02x", p[i]);
	strcpy(line + k, "\n");
	l->v = must(realloc(l->v, (l->n + 1) * sizeof(*l->v)));
	l->v[l->n++] = line;
	return 0;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int carried_xattrs(const char *path, int cap_only, char **out)
{
	struct xlines l = { 0 };
	size_t len = 1;
	int ret = dmh_xattrs(path, cap_only, add_line, &l);

	*out = NULL;
	if (ret == 0 && l.n) {
		qsort(l.v, l.n, sizeof(*l.v), by_str);
		for (size_t i = 0; i < l.n; i++)
			len += strlen(l.v[i]);
		*out = must(malloc(len));
		(*out)[0] = '\0';
		for (size_t i = 0; i < l.n; i++)
			strcat(*out, l.v[i]);
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	return ret;
}

static int sum_dir(struct sumwalk *w, int fd, const char *rel);

static int sum_entry(struct sumwalk *w, int dirfd, const char *base,
		     const char *rel, const struct stat *st)
{
	struct sument *e;
	char target[4096];

	if (S_ISSOCK(st->st_mode))
		return 0;	/* the engine's archive leaves them out */
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 1024;
		w->e = must(realloc(w->e, w->cap * sizeof(*w->e)));
	}
	e = &w->e[w->n];
	memset(e, 0, sizeof(*e));
	e->name = must(strdup(rel));
	e->type = type_of(st->st_mode);
	e->mode = st->st_mode & 07777;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->size = S_ISREG(st->st_mode) ? (unsigned long long)st->st_size : 0;
	e->mtime = (unsigned long long)st->st_mtim.tv_sec;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->nlink = (unsigned long)st->st_nlink;
	w->n++;
	if (carried_xattrs(rel[0] ? rel : ".", w->cap_only, &e->xattrs) < 0)
		return -1;
	if (S_ISREG(st->st_mode))
		return hash_file(dirfd, base, rel, e->sha);
	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(dirfd, base, target, sizeof(target) - 1);

		if (n < 0) {
			fprintf(stderr, "dm-helper: %s: %s\n", rel,
				strerror(errno));
			return -1;
		}
		target[n] = '\0';
		e->link = must(strdup(target));
	}
	if (S_ISDIR(st->st_mode) && !w->flat) {
		int fd = openat(dirfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				O_CLOEXEC);

		if (fd < 0) {
			fprintf(stderr, "dm-helper: %s: %s\n", rel[0] ? rel : ".",
				strerror(errno));
			return -1;
		}
		return sum_dir(w, fd, rel);
	}
	return 0;
}

static int sum_dir(struct sumwalk *w, int fd, const char *rel)
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
			fprintf(stderr, "dm-helper: %s/%s: %s\n", rel, de->d_name,
				strerror(errno));
			ret = -1;
			break;
		}
		child = must(malloc(strlen(rel) + strlen(de->d_name) + 2));
		sprintf(child, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		ret = sum_entry(w, dirfd(d), de->d_name, child, &st);
		free(child);
	}
	if (ret == 0 && errno) {
		fprintf(stderr, "dm-helper: %s: %s\n", rel, strerror(errno));
		ret = -1;
	}
	closedir(d);
	return ret;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct sument *)a)->name,
		      ((const struct sument *)b)->name);
}

static int by_inode(const void *a, const void *b)
{
	const struct sument *x = *(struct sument *const *)a;
	const struct sument *y = *(struct sument *const *)b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

/* Files with two names or more in the tree are one group: the engine
 * sends the first as a file, the others as links to it, and the digest
 * marks all of them (a name whose other links are outside is a file). */
static void dmh_sum_mark_links(struct sument *e, size_t n)
{
	struct sument **multi = must(calloc(n + 1, sizeof(*multi)));
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (e[i].type == '0' && e[i].nlink > 1)
			multi[m++] = &e[i];
	qsort(multi, m, sizeof(*multi), by_inode);
	for (size_t i = 0; i < m;) {
		size_t j = i + 1;

		while (j < m && by_inode(&multi[i], &multi[j]) == 0)
			j++;
		for (size_t k = i; j - i > 1 && k < j; k++)
			multi[k]->linked = 1;
		i = j;
	}
	free(multi);
}

/* The digest of the entries, in the form of dmh_proto.h. */
static void dmh_sum_digest(struct sument *e, size_t n, char hex[65])
{
	struct dmh_sha256 c;
	unsigned char md[32];

	dmh_sum_mark_links(e, n);
	qsort(e, n, sizeof(*e), by_name);
	dmh_sha256_init(&c);
	for (size_t i = 0; i < n; i++) {
		char head[256];
		int len = snprintf(head, sizeof(head), DMH_SUM_HEAD, e[i].type,
				   e[i].mode, e[i].uid, e[i].gid, e[i].size,
				   e[i].mtime, e[i].linked);
		const char *link = e[i].link ? e[i].link : "";
		const char *x = e[i].xattrs ? e[i].xattrs : "";

		dmh_sha256_update(&c, e[i].name, strlen(e[i].name) + 1);
		dmh_sha256_update(&c, head, (size_t)len);
		dmh_sha256_update(&c, link, strlen(link) + 1);
		dmh_sha256_update(&c, x, strlen(x) + 1);
		if (e[i].type == '0')
			dmh_sha256_update(&c, e[i].sha, sizeof(e[i].sha));
	}
	dmh_sha256_final(&c, md);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
}

static void sumwalk_release(struct sumwalk *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->e[i].name);
		free(w->e[i].link);
		free(w->e[i].xattrs);
	}
	free(w->e);
}

int dmh_cmd_sum(const char *root, int cap_only)
{
	struct sumwalk w = { .cap_only = cap_only };
	struct stat st;
	char hex[65];
	int ret;

	if (chdir(root) < 0 || lstat(".", &st) < 0) {
		fprintf(stderr, "dm-helper: %s: %s\n", root, strerror(errno));
		return 1;
	}
	ret = sum_entry(&w, AT_FDCWD, ".", "", &st);
	if (ret == 0) {
		dmh_sum_digest(w.e, w.n, hex);
		if (printf(DMH_SUM_LINE, hex, w.n) < 0 || fflush(stdout) != 0) {
			fprintf(stderr, "dm-helper: writing the digest: %s\n",
				strerror(errno));
			ret = -1;
		}
	}
	sumwalk_release(&w);
	return ret ? 1 : 0;
}

/* One entry's record (DMH_STAT_FIELDS). */
static int stat_record(const struct sument *e)
{
	char head[256], hex[65] = "";
	int len = snprintf(head, sizeof(head), DMH_SUM_HEAD, e->type, e->mode,
			   e->uid, e->gid, e->size, e->mtime, 0);
	const char *f[DMH_STAT_FIELDS] = { e->name, head, e->link ? e->link : "",
					   e->xattrs ? e->xattrs : "", hex };

	(void)len;
	if (e->type == '0')
		for (int i = 0; i < 32; i++)
			sprintf(hex + 2 * i, "%02x", e->sha[i]);
	for (int i = 0; i < DMH_STAT_FIELDS; i++)
		if (fwrite(f[i], 1, strlen(f[i]) + 1, stdout) != strlen(f[i]) + 1)
			return -1;
	return 0;
}

int dmh_cmd_stat(const char *root, int n, char **names)
{
	struct sumwalk w = { .flat = 1 };
	int ret = 0;

	for (int i = 0; i < n; i++)
		if (strcmp(names[i], ".") && !dmh_safe_name(names[i])) {
			fprintf(stderr, "dm-helper: refusing \"%s\": not a name "
				"below the root\n", names[i]);
			return 2;
		}
	if (chdir(root) < 0) {
		fprintf(stderr, "dm-helper: %s: %s\n", root, strerror(errno));
		return 1;
	}
	for (int i = 0; i < n && ret == 0; i++) {
		struct stat st;
		const char *base;
		int root_self = strcmp(names[i], ".") == 0;
		int at = dmh_open_parent(names[i], &base);

		if (at < 0 && (errno == ENOENT || errno == ENOTDIR ||
			       errno == ELOOP))
			continue;	/* not there as a path of directories */
		if (at < 0 || fstatat(at, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			int gone = at >= 0 && (errno == ENOENT || errno == ENOTDIR);

			if (at >= 0)
				close(at);
			if (gone)
				continue;
			fprintf(stderr, "dm-helper: %s: %s\n", names[i],
				strerror(errno));
			ret = -1;
			break;
		}
		ret = sum_entry(&w, at, base, root_self ? "" : names[i], &st);
		close(at);
	}
	for (size_t i = 0; i < w.n && ret == 0; i++)
		ret = stat_record(&w.e[i]);
	if (ret == 0 && fflush(stdout) != 0)
		ret = -1;
	sumwalk_release(&w);
	return ret ? 1 : 0;
}
