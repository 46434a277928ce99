/*
 * gzout.c - streaming gzip into a file descriptor, as gzip members of
 * stored or deflated pieces (see gzout.h for why).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>

#include "dm.h"
#include "engine.h"
#include "gzout.h"

int gzout_init(struct gzout *g)
{
	memset(g, 0, sizeof(*g));
	g->fd = -1;
	g->level = g->max_level = GZOUT_LEVEL;
	g->c[g->level] = libdeflate_alloc_compressor(g->level);
	g->store = libdeflate_alloc_compressor(0);
	if (!g->c[g->level] || !g->store) {
		gzout_end(g);
		return dm_error("cannot initialise gzip (out of memory)");
	}
	/* the bound depends on the input size, not on the level */
	g->out_cap = libdeflate_gzip_compress_bound(g->c[g->level],
						    GZOUT_MEMBER);
	if (libdeflate_gzip_compress_bound(g->store, GZOUT_MEMBER) > g->out_cap)
		g->out_cap = libdeflate_gzip_compress_bound(g->store,
							    GZOUT_MEMBER);
	g->in = xmalloc(GZOUT_MEMBER);
	g->out = xmalloc(g->out_cap);
	g->kind = -1;
	g->ready = 1;
	return 0;
}

int gzout_compressible(const unsigned char *p, size_t n)
{
	uint32_t count[256] = { 0 };
	double h = 0;

	if (n < 512)
		return 1;
	for (size_t i = 0; i < n; i++)
		count[p[i]]++;
	for (int i = 0; i < 256; i++)
		if (count[i]) {
			double q = (double)count[i] / (double)n;

			h -= q * log2(q);
		}
	return h < 7.8;
}

int gzout_next_level(int level, int64_t deflate_us, int64_t write_us)
{
	/* The pipe to the link lets compressing and sending overlap, so
	 * while the link is the slower side, write_us is what the link
	 * takes beyond the compressor: over half the compressing time, a
	 * level harder (each costs up to half as much again) still keeps
	 * up.  Near no wait at all, the compressor is what the link waits
	 * for.  The band between the two keeps the level from swinging. */
	if (write_us * 2 > deflate_us && level < GZOUT_MAX_LEVEL)
		return level + 1;
	if (write_us * 8 < deflate_us && level > 1)
		return level - 1;
	return level;
}

/* After a deflated member: every few, move the level towards the link. */
static void adapt(struct gzout *g, int64_t deflate_us, int64_t write_us)
{
	int next;

	g->adapt_deflate += deflate_us;
	g->adapt_write += write_us;
	if (++g->adapt_n < GZOUT_ADAPT_EVERY)
		return;
	next = gzout_next_level(g->level, g->adapt_deflate, g->adapt_write);
	g->adapt_n = 0;
	g->adapt_deflate = g->adapt_write = 0;
	if (!g->c[next])
		g->c[next] = libdeflate_alloc_compressor(next);
	if (!g->c[next])	/* out of memory: stay where we are */
		return;
	g->level = next;
	if (next > g->max_level)
		g->max_level = next;
}

/* The first n bytes of in as one member, of the kind judged. */
static int emit(struct gzout *g, size_t n)
{
	struct libdeflate_compressor *c = g->kind == 0 ? g->store
						       : g->c[g->level];
	size_t out;
	int64_t t0, t1, t2;

	if (!n)
		return 0;
	t0 = dm_now_us();
	out = libdeflate_gzip_compress(c, g->in, n, g->out, g->out_cap);
	if (!out)
		return dm_error("gzip: the output buffer is too small");
	if (g->kind == 0)
		g->stored += n;
	g->members++;
	t1 = dm_now_us();
	g->us_deflate += t1 - t0;
	if (fd_write_all(g->fd, g->out, out) < 0)
		return -1;
	t2 = dm_now_us();
	g->us_write += t2 - t1;
	if (g->kind != 0)
		adapt(g, t1 - t0, t2 - t1);
	memmove(g->in, g->in + n, g->in_len - n);
	g->in_len -= n;
	g->judged -= n;
	return 0;
}

/* Judge the piece that follows the judged bytes: a new kind ends the
 * member before it. */
static int judge(struct gzout *g, size_t len)
{
	int kind = gzout_compressible(g->in + g->judged, len);

	if (g->judged && kind != g->kind && emit(g, g->judged) < 0)
		return -1;
	g->kind = kind;
	g->judged += len;
	return 0;
}

int gzout_write(struct gzout *g, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	while (n) {
		size_t take = GZOUT_MEMBER - g->in_len;

		if (take > n)
			take = n;
		memcpy(g->in + g->in_len, p, take);
		g->in_len += take;
		p += take;
		n -= take;
		while (g->in_len - g->judged >= GZOUT_PIECE)
			if (judge(g, GZOUT_PIECE) < 0)
				return -1;
		if (g->in_len == GZOUT_MEMBER && emit(g, g->judged) < 0)
			return -1;
	}
	return 0;
}

int gzout_finish(struct gzout *g)
{
	if (g->in_len > g->judged && judge(g, g->in_len - g->judged) < 0)
		return -1;
	if (g->in_len)
		return emit(g, g->in_len);
	if (g->members)
		return 0;
	g->kind = 1;		/* nothing written: still a gzip stream */
	g->members++;
	return fd_write_all(g->fd, g->out,
			    libdeflate_gzip_compress(g->c[g->level], g->in, 0,
						     g->out, g->out_cap));
}

void gzout_end(struct gzout *g)
{
	for (int i = 0; i <= GZOUT_MAX_LEVEL; i++)
		if (g->c[i])
			libdeflate_free_compressor(g->c[i]);
	if (g->store)
		libdeflate_free_compressor(g->store);
	free(g->in);
	free(g->out);
	memset(g, 0, sizeof(*g));
	g->fd = -1;
}
