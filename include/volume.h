/*
 * volume.h - volumes between engines, through the Engine API only: a
 * helper container (never started) mounts the volume, its content is read
 * with GET /containers/{id}/archive and written with PUT ... at the other
 * end, streamed, and compared by a digest of the whole tree.
 */
#ifndef DM_VOLUME_H
#define DM_VOLUME_H

#include <yajl/yajl_tree.h>

#include "dmh_proto.h"
#include "engine.h"
#include "treesum.h"

/* The helper image: one static program, dm-helper, in a root filesystem
 * the plugin makes and loads itself (no registry, no internet).  Most of
 * its containers never run; those of a container's final pass run
 * "dm-helper wait" and are given commands by exec. */
/* "docker-migrate/helper:<12 hex digits of dm-helper's sha256>": a
 * plugin never uses the helper of another build. */
const char *helper_image(void);

int helper_image_ensure(struct engine *e);
/* Can dm-helper run on e's architecture? */
int helper_can_run(struct engine *e);
/* Start a helper container: it then waits (DMH_WAIT_MAX_S at most)
 * for commands. */
int helper_start(struct engine *e, const char *id);
/* Does dm-helper answer an exec in that running helper?  Asked before
 * the downtime, so that the final pass knows how it will be made. */
int helper_probe(struct engine *e, const char *id);
/* A created, not started, container with `volume` at /v; NULL on error. */
char *helper_create(struct engine *e, const char *volume, int readonly);
/* The same with a host directory bind-mounted at /v (it must exist): a
 * bind mount's content read and written through the engine, which may be
 * remote, never by the caller. */
char *helper_create_bind(struct engine *e, const char *path, int readonly);
/* 0, or -1 (with a warning printed) when it could not be removed. */
int helper_remove(struct engine *e, const char *id);

/* GET /volumes/{name}: 1 found, 0 absent, -1 error. */
int volume_inspect(struct engine *e, const char *name, yajl_val *out);
/* Create at e a volume like `vol` (driver, options, labels) named name. */
int volume_create_like(struct engine *e, yajl_val vol, const char *name);
int volume_remove(struct engine *e, const char *name);
/* Make a volume that was empty before a failed copy wrote into it empty
 * again: removed, then created anew from its own inspect of before
 * (driver, options, labels).  Refused by the engine while a container
 * uses it: then -1, the message saying what to do. */
int volume_empty_again(struct engine *e, yajl_val before, const char *name);
/* A tmpfs volume of the local driver: a new, empty tmpfs at every mount,
 * so there is no content to carry (its settings are). */
int volume_is_ephemeral(yajl_val vol);


/* Copy the content of the volume behind src_helper into the one behind
 * dst_helper; digest receives the tree digest of what was sent. */
int volume_copy(struct engine *src, const char *src_helper,
		struct engine *dst, const char *dst_helper, char digest[65],
		struct xfer_stats *st);
/* What a copy sent, file by file, so that a later pass can send only what
 * changed since (the low-downtime handover: copy while the container runs,
 * stop it, send the difference). */
struct volsnap;
void volsnap_free(struct volsnap *s);

/* volume_copy, also recording what was sent in *snap (if snap). */
int volume_copy_snap(struct engine *src, const char *src_helper,
		     struct engine *dst, const char *dst_helper, char digest[65],
		     struct xfer_stats *st, struct volsnap **snap);
/* Send what changed since snap: new and changed entries (size, mtime, or
 * modified within the second the snapshot was taken: in doubt, resent).
 * *deleted is set when entries disappeared: the archive endpoint cannot
 * delete, so the caller re-copies the volume whole.  digest is that of
 * the whole source tree. */
int volume_sync(struct engine *src, const char *src_helper,
		struct engine *dst, const char *dst_helper,
		struct volsnap *snap, char digest[65],
		struct xfer_stats *st, int *deleted);

/* The same final pass by dm-helper, in running helper containers (see
 * helper_start), without reading what did not change: its scan at the
 * source streams the entries changed since the pre-copy began (by ctime
 * and mtime) straight into the destination's PUT, and lists every name;
 * entries gone at the source are then removed at the destination by
 * dm-helper there.  The digest is that of the whole source tree: the
 * entries sent, and the others as the pre-copy's read-back found them.
 * 0 done; 1 cannot tell (no read-back kept, or an entry new at the
 * source yet older than the pre-copy): use volume_sync; -1 failed. */
int volume_sync_exec(struct engine *src, const char *src_helper,
		     struct engine *dst, const char *dst_helper,
		     struct volsnap *snap, char digest[65],
		     struct xfer_stats *st);
/* Its plan, pure: now holds the entries sent; the names dm-helper listed
 * (list: NUL-terminated) that were not sent are copied from before, and
 * the tops of what before has and the list lacks go to gone.  0, 1 (a
 * listed name in neither) or -1. */
int sync_plan(const struct treesum *before, const char *list, size_t len,
	      struct treesum *now, struct strlist *gone);

/* The evidence of a final pass without reading the whole tree back: every
 * entry the pass left out must be as the destination's read-back after
 * the pre-copy found it (volume_read_back with keep), every file it sent
 * is read back (one request per file or new directory) and compared with
 * what the source gave, every directory it sent again for its attributes
 * is stat'ed there (mode, mtime).  0: identical; -1: differs or failed
 * (dm_error says which entry); 1: no cheap evidence (deletions, hard
 * links sent, the root new, more than SYNC_CHECK_MAX_READS reads, or
 * reads and stats that would cost more than reading the volume whole,
 * as estimated from its size; no read-back kept): read the whole tree
 * back instead. */
#define SYNC_CHECK_MAX_READS 16
/* stat_only: every entry sent is checked by the engine's stat alone
 * (type, mode, size, mtime; not owners nor xattrs), its bytes by gzip's
 * CRC-32 that the destination engine checks as it unpacks (a mismatch
 * fails the PUT): no read per file, less downtime, weaker evidence. */
int volume_sync_check(struct engine *dst, const char *dst_helper,
		      const struct volsnap *snap, int stat_only,
		      size_t *entries);

/* The engine's stat of a path (X-Docker-Container-Path-Stat). */
struct path_stat {
	char type;		/* '0', '5', '2', '?' */
	uint64_t perm;		/* 07777 bits */
	uint64_t size;
	int64_t mtime;		/* seconds */
};
int path_stat_parse(const char *b64, struct path_stat *st);

/* The tree digest of the volume behind helper; *entries its entry count. */
int volume_digest(struct engine *e, const char *helper, char digest[65],
		  size_t *entries);
/* The same, keeping the tree read in keep (if not NULL) for
 * volume_sync_check. */
int volume_read_back(struct engine *e, const char *helper, char digest[65],
		     size_t *entries, struct volsnap *keep);

#endif
