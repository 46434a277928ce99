/*
 * volsync.h - a volume's content between engines, through helper
 * containers (volume.h).  The copy, and a container move's pre-copy, go
 * through the archive endpoints: GET /containers/{id}/archive at the
 * source, PUT at the destination, streamed, gzip'ed, and compared by a
 * digest of the whole tree.  The final pass after the stop has two
 * implementations behind one table, chosen once per volume before the
 * downtime, as strategies are chosen for images: dm-helper through exec,
 * which reads only what changed and can delete, or the archive
 * endpoints, which read the volume whole and cannot.
 */
#ifndef DM_VOLSYNC_H
#define DM_VOLSYNC_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "opt.h"
#include "treesum.h"

/* What a copy sent, file by file, so that a later pass can send only what
 * changed since (the low-downtime handover: copy while the container runs,
 * stop it, send the difference); then what the destination's read-back
 * found and what the final pass did, for the final pass's check. */
struct volsnap;
void volsnap_free(struct volsnap *s);

/* Copy the content of the volume behind src_helper into the one behind
 * dst_helper; digest receives the tree digest of what was sent. */
int volume_copy(struct engine *src, const char *src_helper,
		struct engine *dst, const char *dst_helper, char digest[65],
		struct xfer_stats *st);
/* volume_copy, also recording what was sent in *snap (if snap): the
 * pre-copy. */
int volume_copy_snap(struct engine *src, const char *src_helper,
		     struct engine *dst, const char *dst_helper, char digest[65],
		     struct xfer_stats *st, struct volsnap **snap);

/* The tree digest of the volume behind helper; *entries its entry count. */
int volume_digest(struct engine *e, const char *helper, char digest[65],
		  size_t *entries);
/* The same, keeping the tree read in keep (if not NULL) for the final
 * pass's check. */
int volume_read_back(struct engine *e, const char *helper, char digest[65],
		     size_t *entries, struct volsnap *keep);

struct summing;

/* How a volume's content travels, one way or the other: its copy (the
 * pre-copy of a container's move), then the final pass and its check. */
struct volsync_ops {
	const char *name;	/* for messages: "dm-helper", "archive" */
	/*
	 * The whole volume behind src_helper through s (which digests it,
	 * records it and forwards it) into the one behind dst_helper;
	 * digest: the tree digest of what was sent.  0 or -1.
	 */
	int (*copy)(struct engine *src, const char *src_helper,
		    struct engine *dst, const char *dst_helper,
		    struct summing *s, char digest[65], struct xfer_stats *st);
	/*
	 * After the stop, send what changed since snap's pre-copy; digest
	 * receives that of the whole source tree.  *deleted is set when
	 * entries disappeared that this way cannot delete: the caller
	 * copies the volume again whole.  0 or -1.
	 */
	int (*final_pass)(struct engine *src, const char *src_helper,
			  struct engine *dst, const char *dst_helper,
			  struct volsnap *snap, char digest[65],
			  struct xfer_stats *st, int *deleted);
	/*
	 * The evidence of that pass without reading the whole tree back:
	 * every entry the pass left out must be as the destination's
	 * read-back after the pre-copy found it, every entry it sent is
	 * read back (or, stat_only, stat'ed: type, mode, size, mtime, its
	 * bytes vouched for by gzip's CRC-32 that the destination engine
	 * checks as it unpacks) and compared with what the source gave.
	 * 0: identical; -1: differs or failed (dm_error says which entry);
	 * 1: no cheap evidence (see each implementation): read the whole
	 * tree back instead.
	 */
	int (*check)(struct engine *dst, const char *dst_helper,
		     const struct volsnap *snap, int stat_only,
		     size_t *entries);
};

/* Through the archive endpoints: the copy carries what the engine's
 * archive reads (of extended attributes security.capability only, holes
 * as zeros).  The final pass reads the whole volume for what
 * changed (size, mtime, or modified within the second the pre-copy
 * began: in doubt, resent); a deletion means a copy again whole.  Its
 * check stats and reads what was sent, one request each; more than
 * SYNC_CHECK_MAX_READS reads, deletions, hard links sent or a new root,
 * or requests that would cost more than reading the volume whole, as
 * estimated from its size, are no cheap evidence. */
extern const struct volsync_ops volsync_by_archive;
#define SYNC_CHECK_MAX_READS 16
/* Through dm-helper in running helper containers: its scan at the source
 * reads every kind of file (all extended attributes, ACLs included, and
 * sparse files by SEEK_DATA/SEEK_HOLE) and streams it into the
 * destination's PUT, whose engine writes them all; the sparse files it
 * names are made sparse again there by dm-helper punch.  The copy is a
 * scan of everything; the final pass's scan streams the entries changed
 * since the pre-copy began (by ctime and mtime) and lists every name; what
 * went at the source is removed at the destination by dm-helper there.
 * Its check reads back everything the pass sent or removed in one exec.
 * Where it cannot tell (no read-back kept, an entry new at the source yet
 * older than the pre-copy), the pass is the archive's, and so is the
 * check. */
extern const struct volsync_ops volsync_by_exec;

/* Chosen once per volume, after its pre-copy and before the downtime:
 * by exec when dm-helper can run at both engines and answers in both
 * helpers (started here), else by the archive endpoints (what is the
 * volume's name, for messages). */
const struct volsync_ops *volsync_choose(struct engine *src,
					 const char *src_helper,
					 struct engine *dst,
					 const char *dst_helper,
					 const char *what);
/* The same for a pre-copy, quietly: dm-helper's when it answers at both
 * ends (the helpers started here), else the archive's. */
const struct volsync_ops *volsync_choose_copy(struct engine *src,
					      const char *src_helper,
					      struct engine *dst,
					      const char *dst_helper);

/* dm-helper's plan, pure: now holds the entries sent; the names the scan
 * listed (list: DMH_LIST_MEMBER's content) that were not sent are copied
 * from before, and the tops of what before has and the list lacks go to
 * gone.  0, 1 (a listed name in neither, or not as before) or -1. */
int sync_plan(const struct treesum *before, const char *list, size_t len,
	      struct treesum *now, struct strlist *gone);

/* dm-helper stat's records (buf, len) of what the final pass sent and
 * removed, against the source's tree now: each entry sent there and
 * equal (nsent of them), none removed, nothing else.  0 or -1, pure. */
struct strlist;
int sync_check_stats(const struct treesum *now, const struct strlist *gone,
		     const char *buf, size_t len, size_t nsent);

/* The engine's stat of a path (X-Docker-Container-Path-Stat). */
struct path_stat {
	char type;		/* '0', '5', '2', '?' */
	uint64_t perm;		/* 07777 bits */
	uint64_t size;
	int64_t mtime;		/* seconds */
};
int path_stat_parse(const char *b64, struct path_stat *st);

#endif
