/*
 * gzout.c - streaming gzip into a file descriptor (see gzout.h).
 */
#include <string.h>

#include "dm.h"
#include "engine.h"
#include "gzout.h"

int gzout_init(struct gzout *g)
{
	memset(&g->z, 0, sizeof(g->z));
	g->fd = -1;
	/* 15 + 16: a gzip header and trailer, as docker load expects */
	if (deflateInit2(&g->z, GZOUT_LEVEL, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return dm_error("cannot initialise gzip");
	g->ready = 1;
	return 0;
}

static int pump(struct gzout *g, const void *buf, size_t n, int flush)
{
	g->z.next_in = (unsigned char *)buf;
	g->z.avail_in = (unsigned int)n;
	do {
		g->z.next_out = g->buf;
		g->z.avail_out = sizeof(g->buf);
		if (deflate(&g->z, flush) == Z_STREAM_ERROR)
			return dm_error("gzip: %s", g->z.msg ? g->z.msg : "error");
		if (fd_write_all(g->fd, g->buf, sizeof(g->buf) - g->z.avail_out) < 0)
			return -1;
	} while (g->z.avail_out == 0 || g->z.avail_in);
	return 0;
}

int gzout_write(struct gzout *g, const void *buf, size_t n)
{
	return n ? pump(g, buf, n, Z_NO_FLUSH) : 0;
}

int gzout_finish(struct gzout *g)
{
	return pump(g, NULL, 0, Z_FINISH);
}

void gzout_end(struct gzout *g)
{
	if (g->ready)
		deflateEnd(&g->z);
	g->ready = 0;
}
