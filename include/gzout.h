/*
 * gzout.h - gzip a stream into a file descriptor as it is written: what
 * crosses the link between engines is compressed, and the receiving
 * engine (image load, archive upload) decompresses it itself.
 *
 * The stream is a series of gzip members (RFC 1952 allows it; dockerd's
 * decompressor, Go's gzip.Reader, reads them as one stream: checked on
 * dockerd 20.10).  Each member holds up to GZOUT_MEMBER bytes of input of
 * one kind: pieces that look incompressible (already compressed files,
 * random data) are stored, the rest is deflated by libdeflate, at level 1
 * and then harder while the reader of the stream is the slower side.
 *
 * Why (measured on this project's 2-core machine, under a load of 3.6,
 * on the benchmark's layers: 150 MB text-like, 50 MB incompressible):
 *
 *                       text-like              incompressible
 *   zlib level 1        44 MB/s, 0.262 of it   28 MB/s, 1.000
 *   zlib, Huffman only  77 MB/s, 0.582         90 MB/s, 1.000
 *   ISA-L igzip lvl 1  286 MB/s, 0.248        440 MB/s, 1.001
 *   libdeflate lvl 1   155 MB/s, 0.227         80 MB/s, 1.000
 *   libdeflate lvl 2    94 MB/s, 0.216         54 MB/s, 1.000
 *   stored (level 0)  4100 MB/s, 1.000       4100 MB/s, 1.000
 *   (entropy test: 1200 MB/s)
 *
 * zstd would be faster still, but dockerd 20.10 refuses it, for a whole
 * archive and for a layer.tar alike ("archive/tar: invalid tar header").
 * libdeflate level 1 sends 13 % fewer bytes than zlib level 1 and runs
 * 3.5 times faster; storing what does not compress takes the 28 MB/s
 * of zlib (slower than a 100 Mbit link once the machine is busy) out
 * of the way.
 */
#ifndef DM_GZOUT_H
#define DM_GZOUT_H

#include <stddef.h>
#include <stdint.h>

/* Input per gzip member; memory is about twice this. */
#define GZOUT_MEMBER (1u << 20)
/* Input is judged in pieces of this size. */
#define GZOUT_PIECE (64u << 10)
/* libdeflate's level to begin with: on a fast link the compressor must
 * not be the bottleneck (see above). */
#define GZOUT_LEVEL 1
/* The level follows the link: when writing waits on the link over half
 * as long as compressing takes (the pipe lets both run at once, so that
 * wait is what the link needs beyond the compressor), the next members
 * are compressed harder (fewer bytes for the same time), and less hard
 * when the link hardly waits, i.e. the compressor is the slower side.
 * (Waiting twice as long, the rule before, was never seen on the
 * benchmark's 100 Mbit link: the level stayed at 1 or 2.)  Measured on the benchmark's text-like data here:
 * level 1 0.227 of the input at 217 MB/s, 3 0.211 at 125, 6 0.202 at 94,
 * 7 0.199 at 68, 9 0.194 at 23: past 6, little gain for much time. */
#define GZOUT_MAX_LEVEL 6
/* Deflated members between two decisions. */
#define GZOUT_ADAPT_EVERY 4

struct libdeflate_compressor;

struct gzout {
	int fd;			/* set by the caller before each write */
	int ready;
	struct libdeflate_compressor *c[GZOUT_MAX_LEVEL + 1], *store;
	int level;		/* of the next deflated member */
	int max_level;		/* the highest used */
	int adapt_n;		/* deflated members since the last decision */
	int64_t adapt_deflate, adapt_write;	/* their times, us */
	unsigned char *in, *out;
	size_t in_len;		/* bytes held in in */
	size_t judged;		/* of them, judged (whole pieces) */
	int kind;		/* of the judged bytes: 1 deflate, 0 store */
	size_t out_cap;
	int members;		/* written so far */
	uint64_t stored;	/* input bytes sent as stored */
	/* where the time went, for the debug report: compressing, and
	 * waiting for the reader of fd (the link, when it is the slower) */
	int64_t us_deflate, us_write;
};

int gzout_init(struct gzout *g);
int gzout_write(struct gzout *g, const void *buf, size_t n);
int gzout_finish(struct gzout *g);
void gzout_end(struct gzout *g);

/* Does this piece look compressible?  (Order-0 entropy under 7.8 bits
 * per byte: random and compressed data sit just under 8.) */
int gzout_compressible(const unsigned char *p, size_t n);

/* The level after a run of members that took deflate_us to compress and
 * write_us to hand to the link. */
int gzout_next_level(int level, int64_t deflate_us, int64_t write_us);

#endif
