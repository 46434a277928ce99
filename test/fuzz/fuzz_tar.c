/*
 * fuzz_tar.c - the streaming tar filter over bytes an engine sends (image
 * archives from /images/get, volume content from /containers/{id}/archive),
 * and the tree digest built from it.  The input is a tar stream:
 *   1. as it is, in one piece (bad checksums and all);
 *   2. with every header's checksum recomputed (so mutations reach the
 *      fields behind it), fed in one piece, then again in chunks of random
 *      sizes (from a generator seeded by the input: replays are exact).
 * Members are forwarded, captured or dropped (by a hash of their name,
 * manifest.json always captured).  Invariant: how the bytes are cut makes
 * no difference -- same result, same forwarded bytes, same callbacks, same
 * tree digest -- since the network cuts them anywhere.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ocilayout.h"
#include "registry.h"
#include "tar.h"
#include "treesum.h"

struct run {
	struct tar_filter f;
	struct treesum *sum;
	struct strbuf out;	/* what the filter forwarded */
	struct strbuf log;	/* members, captures, ends, in order */
};

static uint32_t hash(const void *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const uint8_t *)p)[i]) * 16777619u;
	return h;
}

static enum tar_action on_member(void *ctx, const struct tar_member *m)
{
	struct run *r = ctx;
	size_t len = strlen(m->name);
	enum tar_action a = (enum tar_action)(hash(m->name, len) % 3);

	if ((len >= 13 && strcmp(m->name + len - 13, "manifest.json") == 0) ||
	    (len >= 10 && strcmp(m->name + len - 10, "index.json") == 0))
		a = TAR_CAPTURE;
	treesum_member(r->sum, m);
	sb_addf(&r->log, "member %s %c %llu %llo -> %s (%d)\n", m->name,
		m->type, (unsigned long long)m->size,
		(unsigned long long)m->mode, m->linkname, (int)a);
	return a;
}

static int on_data(void *ctx, const void *buf, size_t n)
{
	struct run *r = ctx;

	treesum_data(r->sum, buf, n);
	return 0;
}

static int on_end(void *ctx)
{
	struct run *r = ctx;

	treesum_end(r->sum);
	sb_adds(&r->log, "end\n");
	return 0;
}

static int on_captured(void *ctx, const char *name, const char *data,
		       size_t len)
{
	struct run *r = ctx;

	struct save_manifest m;
	char digest[72];
	size_t nl = strlen(name);

	sb_addf(&r->log, "captured %s %zu %08x\n", name, len, hash(data, len));
	/* the delta strategy parses both from the archive (ocilayout.h) */
	if (nl >= 13 && strcmp(name + nl - 13, "manifest.json") == 0 &&
	    save_manifest_parse(data, len, &m) == 0) {
		sb_addf(&r->log, "manifest %zu layers %zu tags %d\n",
			m.layers.n, m.tags.n, oci_blob_digest(m.config, digest) ||
			legacy_config_digest(m.config, digest));
		save_manifest_release(&m);
	} else if (nl >= 10 && strcmp(name + nl - 10, "index.json") == 0 &&
		   oci_index_first(data, len, digest) == 0) {
		sb_addf(&r->log, "index %s\n", digest);
	}
	dm_clear_error();
	return 0;
}

static int on_out(void *ctx, const void *buf, size_t n)
{
	sb_add(&((struct run *)ctx)->out, buf, n);
	return 0;
}

/* Feed in pieces (seed 0: in one piece), finish, digest; logs the result. */
static void run(struct run *r, const uint8_t *data, size_t size,
		uint64_t seed)
{
	int ret = 0;
	char hex[65];

	memset(r, 0, sizeof(*r));
	tar_filter_init(&r->f);
	r->f.member = on_member;
	r->f.captured = on_captured;
	r->f.out = on_out;
	r->f.data = on_data;
	r->f.member_end = on_end;
	r->f.ctx = r;
	r->f.capture_max = 4096;	/* small: the limit is reached too */
	r->sum = treesum_new();
	for (size_t off = 0; off < size && ret == 0;) {
		size_t n = size - off;

		if (seed) {	/* xorshift64: mostly small pieces */
			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			n = seed % 4 ? 1 + seed % 700 : 1 + seed % 8;
			n = n < size - off ? n : size - off;
		}
		ret = tar_filter_feed(&r->f, data + off, n);
		off += n;
	}
	if (ret == 0)
		ret = tar_filter_finish(&r->f);
	treesum_final(r->sum, hex);
	sb_addf(&r->log, "result %d, %zu entries, digest %s\n", ret,
		treesum_entries(r->sum), hex);
}

static void release(struct run *r)
{
	tar_filter_release(&r->f);
	treesum_free(r->sum);
	sb_release(&r->out);
	sb_release(&r->log);
}

/* Recompute the checksum of every header, walking the stream as a
 * reader would (header, data rounded up to 512, next header). */
static void fix_checksums(uint8_t *p, size_t size)
{
	size_t off = 0;

	while (off + 512 <= size) {
		uint8_t *b = p + off;
		unsigned long sum = 0;
		uint64_t len;
		int zero = 1;

		for (int i = 0; i < 512; i++)
			zero &= b[i] == 0;
		off += 512;
		if (zero)
			continue;
		memset(b + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += b[i];
		snprintf((char *)b + 148, 8, "%06lo", sum);
		b[155] = ' ';
		if (tar_number(b + 124, 12, &len) < 0 || len > size)
			return;
		off += (size_t)(len + 511) / 512 * 512;
	}
}

/* The manifest finder of the delta strategy (ocilayout.h) over the same
 * archive, looking for the first blob it names, fed in one piece and in
 * chunks: the same answer. */
static int find_first(const uint8_t *data, size_t size, size_t step,
		      char *out, size_t outlen)
{
	const uint8_t *at = size > 77 ? memmem(data, size, "blobs/sha256/", 13)
				     : NULL;
	struct manifest_finder *f;
	struct reg_manifest m;
	char want[72];
	int r = 0;

	if (!at || (size_t)(at - data) + 77 > size)
		return 0;
	snprintf(want, sizeof(want), "sha256:%.64s", (const char *)at + 13);
	f = manifest_finder_new(want, "linux/amd64");
	for (size_t off = 0; off < size && r == 0; off += step)
		r = manifest_finder_feed(f, data + off,
					 size - off < step ? size - off : step);
	out[0] = 0;
	if (r == 1) {
		manifest_finder_take(f, &m);
		snprintf(out, outlen, "%zu %s", m.n, m.config.digest);
		reg_manifest_release(&m);
	}
	manifest_finder_free(f);
	dm_clear_error();
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole, cut;
	uint8_t *fixed;

	run(&whole, data, size, 0);
	release(&whole);

	fixed = xmalloc(size);
	if (size)
		memcpy(fixed, data, size);
	fix_checksums(fixed, size);
	run(&whole, fixed, size, 0);
	run(&cut, fixed, size, hash(data, size) | 1);
	FUZZ_ASSERT(strcmp(sb_str(&whole.log), sb_str(&cut.log)) == 0);
	FUZZ_ASSERT(whole.out.len == cut.out.len);
	FUZZ_ASSERT(whole.out.len == 0 ||
		    memcmp(whole.out.buf, cut.out.buf, whole.out.len) == 0);
	release(&whole);
	release(&cut);
	{
		char a[128] = "", b[128] = "";
		int ra = find_first(fixed, size, size ? size : 1, a, sizeof(a));
		int rb = find_first(fixed, size, (hash(data, size) % 700) + 1,
				    b, sizeof(b));

		FUZZ_ASSERT(ra == rb && strcmp(a, b) == 0);
	}
	free(fixed);
	return 0;
}
