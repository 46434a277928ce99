/*
 * volstream.h - what the implementations of volsync.h share, and only
 * they: the snapshot a pre-copy records, and the stream that reads a
 * volume's tar (from the archive endpoint or from dm-helper), digests it,
 * records it and forwards it gzip'ed to the destination.
 */
#ifndef DM_VOLSTREAM_H
#define DM_VOLSTREAM_H

#include <stdint.h>

#include "engine.h"
#include "gzout.h"
#include "opt.h"
#include "tar.h"
#include "treesum.h"
#include "volsync.h"

/* One entry as the pre-copy sent it. */
struct snapent {
	char *name;
	uint64_t size, mtime;
	char type;
	int seen;		/* in the later pass */
	char *link;		/* symlink or hard link target */
	int sent;		/* sent again by the later pass */
};

struct volsnap {
	struct snapent *e;
	size_t n, cap;
	int64_t taken;		/* wall clock seconds when the copy began */
	int sorted;
	struct treesum *dest;	/* the destination, read back and verified */
	struct treesum *now;	/* the source at the last sync, sent marked */
	struct strlist gone;	/* removed at the destination by dm-helper */
	/* the pre-copy's stream: what the destination holds once dm-helper's
	 * digest there matches it, so that the tree is not read back */
	struct treesum *sent;
	int by_exec;		/* the last sync was dm-helper's */
	/* what the destination holds carries every extended attribute (the
	 * last stream into it was dm-helper's), not the archive's one */
	int xattrs_all;
};

struct snapent *snap_find(const struct volsnap *s, const char *name);

/* A tar stream read member by member: digested always, recorded into a
 * snapshot (pre-copy), forwarded gzip'ed when tf.out is set, and, in a
 * final pass, filtered by what the pre-copy sent. */
struct summing {
	struct tar_filter tf;
	struct treesum *sum;
	struct gzout gz;	/* what goes to the destination, gzip'ed */
	struct volsnap *record;	/* pass 1: what was sent */
	const struct volsnap *since;	/* pass 2: send only what changed */
	/* ... as this says: left out, as it was sent already */
	int (*unchanged)(const struct volsnap *since,
			 const struct tar_member *m);
	uint64_t skipped;
	int scan;		/* dm-helper's scan: its list is not forwarded */
	int no_list;		/* ... nor kept (a copy has no use for it) */
	struct strbuf list;	/* ... but kept */
	struct strbuf sparse;	/* its sparse files (DMH_SPARSE_MEMBER) */
	struct strbuf strip;	/* ACLs to remove (DMH_STRIP_MEMBER) */
};

/* forward: the members go on, gzip'ed, to what gz.fd says */
void summing_init(struct summing *s, int forward);
void summing_release(struct summing *s);
/* An engine_sink_fn feeding s's filter. */
int summing_sink(void *ctx, const void *buf, size_t n);
/* The end of a forwarded stream, written to fd. */
int summing_finish(struct summing *s, int fd);

/* The volume behind src_helper read by the archive endpoint, through s,
 * into the one behind dst_helper; digest: the tree digest of what was
 * read. */
int volstream_copy(struct engine *src, const char *src_helper,
		   struct engine *dst, const char *dst_helper,
		   struct summing *s, char digest[65], struct xfer_stats *st);

/* The tree below DMH_MOUNT/name (the whole volume for ""), read at e by
 * its archive endpoint. */
int volstream_read_tree(struct engine *e, const char *helper,
			const char *name, struct treesum **out);

/* The tree digest of the volume behind helper computed at e by
 * dm-helper (volsum.c), the helper started if it was not: 0; 1 when it
 * cannot be (dm-helper cannot run there, or failed: read it back).
 * xattrs_all: every extended attribute counts, as dm-helper's copy
 * carries them; else security.capability only, as the archive's. */
int volsum_by_helper(struct engine *e, const char *helper, int xattrs_all,
		     char digest[65], size_t *entries);
/* dm-helper sum's answer (DMH_SUM_LINE): 0, or -1 when it is not one. */
int volsum_parse(const char *answer, char digest[65], size_t *entries);

/* "2026-11-25T01:40:09.37425005Z" or "...+02:00" -> seconds since 1970 */
int rfc3339_seconds(const char *s, int64_t *out);

/* The engine's clock (its /info SystemTime), seconds: mtimes there follow
 * it, and the caller's may be off; the caller's when it cannot say. */
int64_t engine_now_s(struct engine *e);

#endif
