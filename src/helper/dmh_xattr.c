/*
 * dmh_xattr.c - the extended attributes dm-helper carries: all of an
 * entry's (user.*, trusted.*, security.capability, and POSIX ACLs, which
 * the kernel keeps as system.posix_acl_access and _default), but those
 * a destination's kernel sets by itself (an SELinux label).  The engine's
 * archive endpoint reads only security.capability but writes every
 * SCHILY.xattr record of a stream it unpacks, so a stream dm-helper
 * makes carries them all.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>

#include "dmh.h"
#include "dmh_proto.h"

int dmh_xattr_carried(const char *name, int cap_only)
{
	if (cap_only)
		return strcmp(name, DMH_CAP_XATTR) == 0;
	return strcmp(name, DMH_SKIP_XATTR) != 0;
}

int dmh_xattrs(const char *path, int cap_only, dmh_xattr_fn fn, void *ctx)
{
	static char names[1 << 16];
	static unsigned char val[1 << 16];
	ssize_t len = llistxattr(path, names, sizeof(names));

	if (len < 0) {
		if (errno == ENOTSUP || errno == ENODATA || errno == ENOENT)
			return 0;	/* ENOENT: gone since read (a pre-copy) */
		fprintf(stderr, "dm-helper: %s: listing its attributes: %s\n",
			path, strerror(errno));
		return -1;
	}
	for (ssize_t i = 0; i < len; i += (ssize_t)strlen(names + i) + 1) {
		ssize_t n;

		if (!dmh_xattr_carried(names + i, cap_only))
			continue;
		n = lgetxattr(path, names + i, val, sizeof(val));
		if (n < 0 && (errno == ENODATA || errno == ENOENT))
			continue;	/* gone since listed */
		if (n < 0) {
			fprintf(stderr, "dm-helper: %s: reading %s: %s\n", path,
				names + i, strerror(errno));
			return -1;
		}
		if (fn(ctx, names + i, val, (size_t)n) < 0)
			return -1;
	}
	return 0;
}
