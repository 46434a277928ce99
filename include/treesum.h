/*
 * treesum.h - the canonical digest of a directory tree read from a tar
 * stream: every entry's name, type, mode, owner, size, mtime, link target,
 * content and extended attributes, sorted by name, so that two hosts
 * walking directories in different orders agree; hard links are folded
 * into their group.  Its entries stay readable after the digest, so that
 * two trees can be compared entry by entry (the final pass of a volume
 * checks only what it sent against the destination).
 */
#ifndef DM_TREESUM_H
#define DM_TREESUM_H

#include <stddef.h>
#include <stdint.h>

struct tar_member;

struct tree_entry {
	char *name;		/* relative to the volume's root, "" for it */
	char type;		/* '0' file (hard links folded), '5', '2' ... */
	uint64_t mode, uid, gid, size, mtime;
	char *link;		/* symlink target */
	char *xattrs;		/* "name=hex\n"..., sorted; "" for none */
	unsigned char sha[32];	/* content, files only */
	int linked;		/* one of a group of hard links */
	int sent;		/* forwarded by this pass */
};

struct treesum;
struct treesum *treesum_new(void);
/* Member names are "PARENT/..." instead of "v/...": a read of one path
 * below the root (GET .../archive?path=/v/PARENT/x gives "x", "x/...");
 * parent "" for the root's children. */
struct treesum *treesum_new_at(const char *parent);
void treesum_free(struct treesum *t);
/* Fed from a tar filter's callbacks: a member, its content, its end. */
void treesum_member(struct treesum *t, const struct tar_member *m);
void treesum_data(struct treesum *t, const void *buf, size_t n);
void treesum_end(struct treesum *t);
/* Before the digest: a copy of an entry of another tree (final, hard
 * links folded), not sent: what a final pass left as it was. */
void treesum_add(struct treesum *t, const struct tree_entry *e);
/* The member being read was forwarded to the destination. */
void treesum_mark_sent(struct treesum *t);
void treesum_final(struct treesum *t, char hex[65]);
/* The digest again after treesum_add. */
void treesum_refinal(struct treesum *t, char hex[65]);
size_t treesum_entries(const struct treesum *t);
/* After treesum_final: the i-th entry by name, or the one named name. */
const struct tree_entry *treesum_at(const struct treesum *t, size_t i);
const struct tree_entry *treesum_find(const struct treesum *t,
				      const char *name);
/* Same attributes, link, xattrs and content (the sent mark aside). */
int tree_entry_equal(const struct tree_entry *a, const struct tree_entry *b);

#endif
