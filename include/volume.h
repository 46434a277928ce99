/*
 * volume.h - volumes between engines, through the Engine API only: a
 * helper container (never started) mounts the volume, its content is read
 * with GET /containers/{id}/archive and written with PUT ... at the other
 * end, streamed, and compared by a digest of the whole tree.
 */
#ifndef DM_VOLUME_H
#define DM_VOLUME_H

#include <yajl/yajl_tree.h>

#include "engine.h"

/* The helper image: an empty root filesystem the plugin makes and loads
 * itself (no registry, no internet); its containers never run. */
#define HELPER_IMAGE "docker-migrate/helper:empty"
#define HELPER_MOUNT "/v"

int helper_image_ensure(struct engine *e);
/* A created, not started, container with `volume` at /v; NULL on error. */
char *helper_create(struct engine *e, const char *volume, int readonly);
/* 0, or -1 (with a warning printed) when it could not be removed. */
int helper_remove(struct engine *e, const char *id);

/* GET /volumes/{name}: 1 found, 0 absent, -1 error. */
int volume_inspect(struct engine *e, const char *name, yajl_val *out);
/* Create at e a volume like `vol` (driver, options, labels) named name. */
int volume_create_like(struct engine *e, yajl_val vol, const char *name);
int volume_remove(struct engine *e, const char *name);
/* A tmpfs volume of the local driver: a new, empty tmpfs at every mount,
 * so there is no content to carry (its settings are). */
int volume_is_ephemeral(yajl_val vol);

/* The canonical digest of a tree read from a tar stream: every entry's
 * name, type, mode, owner, size, mtime, link target and content, sorted by
 * name, so that two hosts walking directories in different orders agree;
 * hard links are folded into their group. */
struct treesum;
struct treesum *treesum_new(void);
void treesum_free(struct treesum *t);
struct tar_member;
/* Fed from a tar filter's callbacks: a member, its content, its end. */
void treesum_member(struct treesum *t, const struct tar_member *m);
void treesum_data(struct treesum *t, const void *buf, size_t n);
void treesum_end(struct treesum *t);
void treesum_final(struct treesum *t, char hex[65]);
size_t treesum_entries(const struct treesum *t);

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
		const struct volsnap *snap, char digest[65],
		struct xfer_stats *st, int *deleted);

/* The tree digest of the volume behind helper; *entries its entry count. */
int volume_digest(struct engine *e, const char *helper, char digest[65],
		  size_t *entries);

#endif
