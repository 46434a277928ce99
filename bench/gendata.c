/*
 * gendata.c - deterministic workload data for the benchmark: the same
 * SEED and SIZE give the same bytes on every machine (a fixed generator,
 * xoshiro256** seeded by splitmix64; no libc rand, no awk).
 *
 *   gendata rand SEED BYTES   incompressible bytes (gzip gains nothing)
 *   gendata text SEED BYTES   text-like lines: source/log-like lines of
 *                             words drawn with a skewed (Zipf-like)
 *                             distribution from a fixed vocabulary, with
 *                             indentation, punctuation and numbers;
 *                             gzip -1 makes it about 3.5-4 times smaller
 *                             (bench/README.md gives the measured ratio)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t s[4];

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t next(void)
{
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* uniform in [0, n) (n small: the bias is negligible and fixed) */
static unsigned below(unsigned n)
{
	return (unsigned)((next() >> 32) % n);
}

static double unit(void)
{
	return (double)(next() >> 11) / 9007199254740992.0;
}

#define BUFSZ (1 << 16)
static char out[BUFSZ];
static size_t outlen;
static unsigned long long left;

/* Emit, truncated to the requested size; returns 0 when done. */
static int emit(const char *p, size_t n)
{
	while (n && left) {
		size_t k = BUFSZ - outlen;

		if (k > n)
			k = n;
		if (k > left)
			k = (size_t)left;
		memcpy(out + outlen, p, k);
		outlen += k;
		p += k;
		n -= k;
		left -= k;
		if (outlen == BUFSZ) {
			fwrite(out, 1, outlen, stdout);
			outlen = 0;
		}
	}
	return left != 0;
}

#define NWORDS 1024
static char words[NWORDS][12];
#define HIST 256
#define REPEAT_PCT 60
static char hist[HIST][512];

static void gen_rand(void)
{
	while (left) {
		uint64_t v = next();

		if (!emit((const char *)&v, sizeof(v)))
			break;
	}
}

static void gen_text(void)
{
	/* letters roughly by English frequency, so words look like words */
	static const char letters[] = "eeeeeeeeeeeetttttttttaaaaaaaaooooooo"
		"iiiiiiinnnnnnnsssssshhhhhhrrrrrrddddlllluuucccmmmwwffggyypp"
		"bbvkjxqz";
	static const char *punct[] = { "", "", "", ",", ".", ";", "(", ")",
				       " =", " ->", ":", " {", " }" };
	unsigned long long line = 0;

	for (int i = 0; i < NWORDS; i++) {
		int len = 2 + (int)below(8);

		for (int k = 0; k < len; k++)
			words[i][k] = letters[below(sizeof(letters) - 1)];
		words[i][len] = '\0';
	}
	for (;;) {
		char buf[512];
		int n = 0, nw = 3 + (int)below(10), indent = (int)below(4);

		line++;
		/* code and logs repeat themselves: 60% of the lines are one
		 * of the last HIST lines again */
		if (line > HIST && below(100) < REPEAT_PCT) {
			const char *h = hist[below(HIST)];

			if (!emit(h, strlen(h)))
				break;
			continue;
		}
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%*s", indent * 4, "");
		if (below(4) == 0)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n,
				      "%06llu ", line * 7 % 1000000);
		for (int w = 0; w < nw; w++) {
			/* skewed: the first words of the vocabulary are the
			 * common ones */
			double u = unit();
			unsigned idx = (unsigned)(u * u * u * u * NWORDS);

			n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s%s%s",
				      w ? " " : "", words[idx],
				      punct[below(sizeof(punct) / sizeof(*punct))]);
			if (below(64) == 0)
				n += snprintf(buf + n, sizeof(buf) - (size_t)n,
					      " %u", below(100000));
		}
		buf[n++] = '\n';
		buf[n] = '\0';
		memcpy(hist[line % HIST], buf, (size_t)n + 1);
		if (!emit(buf, (size_t)n))
			break;
	}
}

int main(int argc, char **argv)
{
	uint64_t seed;

	if (argc != 4 || (strcmp(argv[1], "rand") && strcmp(argv[1], "text"))) {
		fprintf(stderr, "usage: gendata rand|text SEED BYTES\n");
		return 2;
	}
	seed = strtoull(argv[2], NULL, 0);
	left = strtoull(argv[3], NULL, 0);
	for (int i = 0; i < 4; i++)
		s[i] = splitmix(&seed);
	if (argv[1][0] == 'r')
		gen_rand();
	else
		gen_text();
	if (outlen)
		fwrite(out, 1, outlen, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
