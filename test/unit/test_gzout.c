/*
 * test_gzout.c - the gzip stream of gzout.h: gzip(1) reads it back byte
 * for byte (members of stored and deflated pieces in any order and any
 * write sizes), what does not compress is stored, and text shrinks.
 */
#include "unit.h"

#include <pthread.h>
#include <time.h>

#include "gzout.h"

/* Deterministic bytes: text-like lines or noise (xorshift). */
static void fill(unsigned char *p, size_t n, int noise, uint64_t *seed)
{
	static const char *words[] = { "layer ", "image ", "docker ", "the ",
				       "config\n", "\t", "{\"id\": 42}\n" };

	for (size_t i = 0; i < n;) {
		*seed ^= *seed << 13;
		*seed ^= *seed >> 7;
		*seed ^= *seed << 17;
		if (noise) {
			p[i++] = (unsigned char)(*seed >> 24);
		} else {
			const char *w = words[*seed % 7];

			for (; *w && i < n; w++)
				p[i++] = (unsigned char)*w;
		}
	}
}

struct round_trip {
	size_t in_len, out_len;
	uint64_t stored;
	int members;
	int same;
};

/* Write in through a gzout in writes of `step` bytes, then gunzip. */
static struct round_trip round_trip(const unsigned char *in, size_t n,
				    size_t step)
{
	char *dir = unit_mkdtemp();
	char *gz = xasprintf("%s/x.gz", dir), *cmd;
	struct round_trip r = { .in_len = n };
	struct gzout g;
	struct stat st;
	unsigned char *back = xmalloc(n + 1);
	size_t got;
	FILE *f;

	assert_int_equal(gzout_init(&g), 0);
	g.fd = open(gz, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(g.fd >= 0);
	for (size_t off = 0; off < n; off += step)
		assert_int_equal(gzout_write(&g, in + off,
					     n - off < step ? n - off : step), 0);
	assert_int_equal(gzout_finish(&g), 0);
	close(g.fd);
	r.stored = g.stored;
	r.members = g.members;
	gzout_end(&g);
	assert_int_equal(stat(gz, &st), 0);
	r.out_len = (size_t)st.st_size;
	cmd = xasprintf("gzip -dc < %s", gz);
	f = popen(cmd, "r");
	assert_non_null(f);
	got = fread(back, 1, n + 1, f);
	assert_int_equal(pclose(f), 0);
	r.same = got == n && memcmp(back, in, n) == 0;
	free(back);
	free(cmd);
	free(gz);
	unit_rmtree(dir);
	return r;
}

static void mixed_stream_reads_back_and_noise_is_stored(void **state)
{
	/* text, noise, text, noise: pieces of odd sizes across members */
	size_t sizes[] = { 3000000, 700001, 65536 * 3 + 17, 2500000 };
	size_t n = 0, off = 0;
	uint64_t seed = 88172645463325252ull, noise = 0;
	unsigned char *in;
	struct round_trip r;

	(void)state;
	for (size_t i = 0; i < 4; i++)
		n += sizes[i];
	in = xmalloc(n);
	for (size_t i = 0; i < 4; i++) {
		fill(in + off, sizes[i], i % 2, &seed);
		noise += i % 2 ? sizes[i] : 0;
		off += sizes[i];
	}
	r = round_trip(in, n, 100003);
	assert_true(r.same);
	assert_true(r.members > 4);
	/* the noise is stored, give or take a piece at each border */
	assert_true(r.stored + 2 * GZOUT_PIECE * 2 >= noise);
	assert_true(r.stored <= noise + 2 * GZOUT_PIECE * 2);
	/* text shrinks a lot, noise not at all: well under the input */
	assert_true(r.out_len < noise + (n - noise) / 3);
	/* one byte at a time gives the same bytes back */
	r = round_trip(in, 300000, 1);
	assert_true(r.same);
	free(in);
}

static void empty_stream_is_valid_gzip(void **state)
{
	struct round_trip r;

	(void)state;
	r = round_trip((const unsigned char *)"", 0, 1);
	assert_true(r.same);
	assert_int_equal(r.members, 1);
}

static void text_is_compressible_noise_is_not(void **state)
{
	unsigned char buf[GZOUT_PIECE];
	uint64_t seed = 1;

	(void)state;
	fill(buf, sizeof(buf), 0, &seed);
	assert_true(gzout_compressible(buf, sizeof(buf)));
	fill(buf, sizeof(buf), 1, &seed);
	assert_false(gzout_compressible(buf, sizeof(buf)));
	memset(buf, 0, sizeof(buf));
	assert_true(gzout_compressible(buf, sizeof(buf)));
}

static void level_follows_the_slower_side(void **state)
{
	(void)state;
	/* the link waits on us: compress less hard, never below 1 */
	assert_int_equal(gzout_next_level(3, 1000, 100), 2);
	assert_int_equal(gzout_next_level(1, 1000, 0), 1);
	/* we wait on the link over half the compressing time: harder,
	 * never past the cap */
	assert_int_equal(gzout_next_level(1, 1000, 5000), 2);
	assert_int_equal(gzout_next_level(1, 1000, 501), 2);
	assert_int_equal(gzout_next_level(GZOUT_MAX_LEVEL, 1000, 99000),
			 GZOUT_MAX_LEVEL);
	/* in between: stay */
	assert_int_equal(gzout_next_level(4, 1000, 500), 4);
	assert_int_equal(gzout_next_level(4, 1000, 126), 4);
	assert_int_equal(gzout_next_level(4, 1000, 125), 4);
	assert_int_equal(gzout_next_level(4, 1000, 124), 3);
}

struct slow_reader {
	int fd;
	struct strbuf got;
};

/* A link far slower than any compressor: 64 kB per 50 ms (1.3 MB/s). */
static void *read_slowly(void *arg)
{
	struct slow_reader *r = arg;
	char buf[65536];
	ssize_t n;

	while ((n = read(r->fd, buf, sizeof(buf))) > 0) {
		sb_add(&r->got, buf, (size_t)n);
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	return NULL;
}

static void slow_link_raises_the_level_and_the_stream_reads_back(void **state)
{
	size_t n = 8u << 20;
	unsigned char *in = xmalloc(n);
	uint64_t seed = 7;
	struct slow_reader r = { .got = STRBUF_INIT };
	struct gzout g;
	pthread_t t;
	int p[2];
	char *dir = unit_mkdtemp(), *gz = xasprintf("%s/x.gz", dir), *cmd;
	unsigned char *back = xmalloc(n + 1);
	FILE *f;

	(void)state;
	fill(in, n, 0, &seed);
	assert_int_equal(pipe(p), 0);
	r.fd = p[0];
	assert_int_equal(pthread_create(&t, NULL, read_slowly, &r), 0);
	assert_int_equal(gzout_init(&g), 0);
	g.fd = p[1];
	assert_int_equal(gzout_write(&g, in, n), 0);
	assert_int_equal(gzout_finish(&g), 0);
	close(p[1]);
	pthread_join(t, NULL);
	close(p[0]);
	/* 8 members each written in well over 2 times their compression */
	assert_true(g.max_level > GZOUT_LEVEL);
	gzout_end(&g);
	f = fopen(gz, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(r.got.buf, 1, r.got.len, f), r.got.len);
	fclose(f);
	cmd = xasprintf("gzip -dc < %s", gz);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_int_equal(fread(back, 1, n + 1, f), n);
	assert_int_equal(pclose(f), 0);
	assert_memory_equal(back, in, n);
	sb_release(&r.got);
	free(back);
	free(cmd);
	free(gz);
	unit_rmtree(dir);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mixed_stream_reads_back_and_noise_is_stored),
		cmocka_unit_test(empty_stream_is_valid_gzip),
		cmocka_unit_test(text_is_compressible_noise_is_not),
		cmocka_unit_test(level_follows_the_slower_side),
		cmocka_unit_test(slow_link_raises_the_level_and_the_stream_reads_back),
	};

	return cmocka_run_group_tests_name("gzout", tests, NULL, NULL);
}
