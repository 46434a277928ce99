/*
 * gzout.h - gzip a stream into a file descriptor as it is written: what
 * crosses the link between engines is compressed, and the receiving
 * engine (image load, archive upload) decompresses it itself.
 */
#ifndef DM_GZOUT_H
#define DM_GZOUT_H

#include <stddef.h>
#include <zlib.h>

struct gzout {
	z_stream z;
	int fd;			/* set by the caller before each write */
	int ready;
	unsigned char buf[1 << 16];
};

/* Level 1: on a fast link the compressor must not be the bottleneck, and
 * layers and volumes are mostly either text or already compressed. */
#define GZOUT_LEVEL 1

int gzout_init(struct gzout *g);
int gzout_write(struct gzout *g, const void *buf, size_t n);
int gzout_finish(struct gzout *g);
void gzout_end(struct gzout *g);

#endif
