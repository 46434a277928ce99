/*
 * dmh.h - what dm-helper's files share.  dm-helper is built alone,
 * static, with plain -std=c11 and no library but libc: its digest is its
 * own SHA-256.
 */
#ifndef DMH_H
#define DMH_H

#include <stddef.h>
#include <stdint.h>

struct dmh_sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes fed */
	unsigned char buf[64];
	size_t n;		/* bytes in buf */
};

void dmh_sha256_init(struct dmh_sha256 *c);
void dmh_sha256_update(struct dmh_sha256 *c, const void *data, size_t n);
void dmh_sha256_final(struct dmh_sha256 *c, unsigned char out[32]);

/* dm-helper sum ROOT [cap]: the exit status */
int dmh_cmd_sum(const char *root, int cap_only);

/* Is the attribute name carried (cap_only: security.capability alone,
 * as the engine's archive endpoint reads them)? */
int dmh_xattr_carried(const char *name, int cap_only);
/* Each attribute carried of path (not followed), to fn: 0 or -1. */
typedef int (*dmh_xattr_fn)(void *ctx, const char *name, const void *val,
			    size_t n);
int dmh_xattrs(const char *path, int cap_only, dmh_xattr_fn fn, void *ctx);

/* A name below the root: relative, no "..", no empty or "." element
 * (dmh_path.c). */
int dmh_safe_name(const char *name);

/* dm-helper stat ROOT NAME...: the exit status */
int dmh_cmd_stat(const char *root, int n, char **names);
/* The directory holding name (relative, below the cwd) reached without
 * following a symbolic link: its fd, *base the last element; -1 with
 * errno (dmh_path.c). */
int dmh_open_parent(const char *name, const char **base);

/* dm-helper strip ROOT XATTR NAME...: the exit status */
int dmh_cmd_strip(const char *root, const char *xattr, int n, char **names);

/* dm-helper punch ROOT NAME...: the exit status */
int dmh_cmd_punch(const char *root, int n, char **names);

#endif
