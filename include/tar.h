/*
 * tar.h - a streaming tar filter: bytes go in as they arrive, each member
 * is either forwarded untouched (its header blocks, data and padding as
 * read), captured into memory (small members: manifest.json), or dropped.
 * It never holds more than one header in memory, so an image archive of
 * any size streams through it.  It reads ustar, pax ('x' path) and GNU
 * long names ('L'); input is distrusted (sizes and checksums checked).
 */
#ifndef DM_TAR_H
#define DM_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "dm.h"

enum tar_action { TAR_FORWARD, TAR_CAPTURE, TAR_DROP };

struct tar_member {
	const char *name;
	uint64_t size;
	char type;		/* '0' file, '5' dir, '2' symlink ... */
	uint64_t mode, uid, gid, mtime;
	const char *linkname;	/* symlink or hard link target */
	const char *xattrs;	/* pax SCHILY.xattr records, "name=hex\n"
				 * sorted by name; NULL for none */
};

struct tar_filter {
	/* decide what happens to a member */
	enum tar_action (*member)(void *ctx, const struct tar_member *m);
	/* the content of a captured member, whole */
	int (*captured)(void *ctx, const char *name, const char *data,
			size_t len);
	/* bytes to forward; NULL: nothing is forwarded */
	int (*out)(void *ctx, const void *buf, size_t n);
	/* optional: every member's content as it passes, and its end */
	int (*data)(void *ctx, const void *buf, size_t n);
	int (*member_end)(void *ctx);
	void *ctx;
	size_t capture_max;	/* larger captured members are an error */

	/* parser state */
	unsigned char blk[512];
	size_t blk_len;
	struct strbuf ext;	/* extension headers held until the member's */
	char *longname;
	char *longlink;		/* GNU 'K' or pax linkpath */
	char *link;		/* the current member's link target */
	char *xattrs;		/* from a pax header, for the next member */
	char *cur_xattrs;	/* the current member's */
	int ext_kind;		/* 'L' or 'x' being read into ext_data */
	struct strbuf ext_data;
	uint64_t remain;	/* data bytes left in the member */
	uint64_t pad;		/* padding bytes left after it */
	enum tar_action action;
	char *name;
	struct strbuf cap;
	int zero_blocks;
	int done;
};

void tar_filter_init(struct tar_filter *f);
void tar_filter_release(struct tar_filter *f);
/* Feed bytes; -1 with dm_error() on malformed input or a callback error. */
int tar_filter_feed(struct tar_filter *f, const void *buf, size_t n);
/* End of input: writes the end-of-archive blocks when forwarding; -1 if
 * the input stopped inside a member. */
int tar_filter_finish(struct tar_filter *f);

/* Write a ustar header block for a regular file or directory (name < 100
 * bytes), mode and size as given, owner root, time 0. */
void tar_header(unsigned char blk[512], const char *name, uint64_t size,
		unsigned mode, char type);

/* Parse a tar header's octal or base-256 number field. */
int tar_number(const unsigned char *field, size_t len, uint64_t *out);

#endif
