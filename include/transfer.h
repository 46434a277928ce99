/*
 * transfer.h - moving images between two engines, wherever they are:
 * the strategies, and the pipe that streams one engine's reply into the
 * other's request without touching a disk.
 */
#ifndef DM_TRANSFER_H
#define DM_TRANSFER_H

#include "engine.h"

/* Stream GET src_path on src into POST dst_path on dst, through a pipe
 * and two threads: memory stays at the pipe's size whatever the image. */
int engine_pipe(struct engine *src, const char *src_path, struct engine *dst,
		const char *dst_path, const char *content_type,
		struct xfer_stats *st);

struct image_info {
	char *id;		/* sha256:... */
	long long size;
	char *os_arch;
};
/* Inspect ref on e; returns 1 found, 0 absent (404), -1 error. */
int image_inspect(struct engine *e, const char *ref, struct image_info *out);
void image_info_release(struct image_info *ii);

struct strategy {
	const char *name;
	const char *summary;
	/* Move refs (which must all exist on src) to dst. */
	int (*transfer)(struct engine *src, struct engine *dst,
			const char *const *refs, size_t n,
			struct xfer_stats *st);
};
const struct strategy *strategy_find(const char *name);
extern const char *const strategy_names[];
#define STRATEGY_DEFAULT "save"

#endif
