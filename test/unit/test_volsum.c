/*
 * test_volsum.c - the tree digest computed where the data is: dm-helper's
 * own SHA-256 against OpenSSL's, and dm-helper sum of a real directory
 * against the plugin's treesum of the stream dm-helper's scan makes of
 * it (every kind of entry the engine's archive carries: directories,
 * files, a hard-linked group, a file whose other name is outside, a
 * symlink, a fifo, long and odd names); the one-line answer's parser.
 */
#define DMH_NO_MAIN
#include "../../src/helper/dm-helper.c"
#include "../../src/helper/dmh_path.c"
#include "../../src/helper/dmh_sha256.c"
#include "../../src/helper/dmh_sum.c"
#include "../../src/helper/dmh_xattr.c"
#include "../../src/helper/dmh_punch.c"

#include "unit.h"

#include <openssl/evp.h>

#include "tar.h"
#include "treesum.h"
#include "volstream.h"
#include "volsync.h"

static void sha256_of_openssl(const void *p, size_t n, unsigned char md[32])
{
	unsigned int len = 0;

	assert_int_equal(EVP_Digest(p, n, md, &len, EVP_sha256(), NULL), 1);
}

static void the_helpers_sha256_is_openssls_fed_in_any_pieces(void **state)
{
	static unsigned char data[5000];
	unsigned char want[32], got[32];
	uint32_t x = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (unsigned char)(x >> 16);
	}
	/* every length around the padding's edges, and pieces of 1 to 97 */
	for (size_t n = 0; n < sizeof(data); n += n < 200 ? 1 : 131) {
		struct dmh_sha256 c;
		size_t off = 0, piece = 1;

		sha256_of_openssl(data, n, want);
		dmh_sha256_init(&c);
		while (off < n) {
			size_t take = n - off < piece ? n - off : piece;

			dmh_sha256_update(&c, data + off, take);
			off += take;
			piece = piece % 97 + 1;
		}
		dmh_sha256_final(&c, got);
		assert_memory_equal(got, want, 32);
	}
}

/* ---- sum against the stream ---- */

static char *capture_stdout(int (*fn)(void *), void *arg, size_t *len)
{
	char out[] = "/tmp/dm-unit-sum-XXXXXX", cwd[4096];
	int fd = mkstemp(out), saved = dup(1);
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0 && getcwd(cwd, sizeof(cwd)));
	fflush(stdout);
	dup2(fd, 1);
	assert_int_equal(fn(arg), 0);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	assert_int_equal(chdir(cwd), 0);
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sb_add(&sb, buf, (size_t)n);
	close(fd);
	unlink(out);
	*len = sb.len;
	return sb.buf ? sb.buf : xstrdup("");
}

static int run_scan_all(void *dir)
{
	return cmd_scan(dir, "0");
}

static int run_sum(void *dir)
{
	return dmh_cmd_sum(dir, 0);
}

static enum tar_action on_member(void *ctx, const struct tar_member *m)
{
	if (strncmp(m->name, "dm-helper/", 10) == 0)
		return TAR_DROP;	/* the list, sparse files, ACLs */
	treesum_member(ctx, m);
	treesum_mark_sent(ctx);	/* as a final pass marks what it sent */
	return TAR_DROP;
}

static int on_data(void *ctx, const void *buf, size_t n)
{
	treesum_data(ctx, buf, n);
	return 0;
}

static int on_end(void *ctx)
{
	treesum_end(ctx);
	return 0;
}

/* The plugin's tree of the stream dm-helper's scan sends of dir. */
static struct treesum *stream_tree(const char *dir)
{
	size_t len;
	char *tar = capture_stdout(run_scan_all, (void *)dir, &len);
	struct treesum *t = treesum_new();
	struct tar_filter f;
	char hex[65];

	tar_filter_init(&f);
	f.member = on_member;
	f.data = on_data;
	f.member_end = on_end;
	f.ctx = t;
	assert_int_equal(tar_filter_feed(&f, tar, len), 0);
	assert_int_equal(tar_filter_finish(&f), 0);
	tar_filter_release(&f);
	treesum_final(t, hex);
	free(tar);
	return t;
}

static void stream_digest(const char *dir, char hex[65], size_t *entries)
{
	struct treesum *t = stream_tree(dir);

	treesum_final(t, hex);
	*entries = treesum_entries(t);
	treesum_free(t);
}

static void helper_digest(const char *dir, char hex[65], size_t *entries)
{
	size_t len;
	char *line = capture_stdout(run_sum, (void *)dir, &len);

	assert_int_equal(volsum_parse(line, hex, entries), 0);
	free(line);
}

static void put(const char *dir, const char *name, const char *data)
{
	char *p = xasprintf("%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0640);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
	free(p);
}

static void at(const char *dir, const char *name, char **p)
{
	free(*p);
	*p = xasprintf("%s/%s", dir, name);
}

/* A tree with every kind of entry the archive carries, in dir/v (dir
 * holds the names outside the volume). */
static char *every_kind(const char *dir)
{
	char *v = xasprintf("%s/v", dir), *p = NULL, *q = NULL;
	char longname[160];
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };

	assert_int_equal(mkdir(v, 0755), 0);
	at(v, "d", &p);
	assert_int_equal(mkdir(p, 02750), 0);
	put(v, "d/f", "content");
	put(v, "empty", "");
	at(v, "d/f", &p);
	at(v, "hl", &q);
	assert_int_equal(link(p, q), 0);		/* a group of two */
	put(v, "lone", "its other name is outside");
	at(v, "lone", &p);
	at(dir, "outside", &q);
	assert_int_equal(link(p, q), 0);		/* linked: no */
	at(v, "s", &p);
	assert_int_equal(symlink("d/f", p), 0);
	at(v, "fifo", &p);
	assert_int_equal(mkfifo(p, 0600), 0);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	put(v, longname, "long");
	put(v, "odd\nname \xff", "odd");
	at(v, "empty", &p);
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	put(v, "sparse", "");	/* 8 MB, one byte of data in its middle */
	at(v, "sparse", &p);
	{
		int fd = open(p, O_WRONLY);

		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, "x", 1, 4 << 20), 1);
		assert_int_equal(ftruncate(fd, 8 << 20), 0);
		close(fd);
	}
	free(p);
	free(q);
	return v;
}

static void the_helpers_sum_is_the_digest_of_its_stream(void **state)
{
	char *dir = unit_mkdtemp(), *v = every_kind(dir);
	char want[65], got[65], again[65];
	size_t nwant = 0, ngot = 0;

	(void)state;
	stream_digest(v, want, &nwant);
	helper_digest(v, got, &ngot);
	assert_string_equal(got, want);
	assert_int_equal(ngot, nwant);
	assert_int_equal(ngot, 11);	/* the root and its 10 names */

	/* one byte changed, one mode changed: another digest */
	put(v, "d/f", "contenT");
	helper_digest(v, again, &ngot);
	assert_string_not_equal(again, got);
	stream_digest(v, want, &nwant);
	assert_string_equal(again, want);
	{
		char *p = xasprintf("%s/s", v);

		assert_int_equal(unlink(p), 0);
		assert_int_equal(symlink("d/F", p), 0);
		free(p);
	}
	helper_digest(v, got, &ngot);
	assert_string_not_equal(got, again);
	stream_digest(v, want, &nwant);
	assert_string_equal(got, want);
	free(v);
	unit_rmtree(dir);
}

struct stat_args {
	const char *dir;
	int n;
	char **names;
};

static int run_stat(void *arg)
{
	struct stat_args *a = arg;

	return dmh_cmd_stat(a->dir, a->n, a->names);
}

/* dm-helper stat of names in dir, checked against the tree t as the
 * final pass's check does (nsent: how many of the names were sent). */
static int check_stats(const char *dir, char **names, int n,
		       const struct treesum *t, const struct strlist *gone,
		       size_t nsent)
{
	struct stat_args a = { dir, n, names };
	size_t len;
	char *out = capture_stdout(run_stat, &a, &len);
	int r = sync_check_stats(t, gone, out, len, nsent);

	free(out);
	return r;
}

static void the_read_back_by_stat_carries_digests_not_content(void **state)
{
	char *dir = unit_mkdtemp(), *v = every_kind(dir);
	struct treesum *t = stream_tree(v);
	struct strlist gone = { 0 };
	/* (the names of a hard-linked group are read back whole: not here) */
	char *names[] = { ".", "d", "lone", "s", "fifo", "sparse", "empty",
			  "nothere" };
	struct timespec keep[2];
	struct stat st;
	char *p = xasprintf("%s/lone", v);

	(void)state;
	/* every kind of entry, each as the source's; a missing one left out */
	assert_int_equal(check_stats(v, names, 8, t, &gone, 7), 0);
	/* one entry fewer than was sent: missing */
	assert_int_equal(check_stats(v, names, 6, t, &gone, 7), -1);
	/* a name removed by the pass, still there */
	strlist_add(&gone, "empty");
	assert_int_equal(check_stats(v, names + 6, 1, t, &gone, 0), -1);
	/* a byte changed, same size and mtime: its digest tells */
	assert_int_equal(stat(p, &st), 0);
	keep[0] = st.st_atim;
	keep[1] = st.st_mtim;
	put(v, "lone", "its other name is outsidE");
	assert_int_equal(utimensat(AT_FDCWD, p, keep, 0), 0);
	assert_int_equal(check_stats(v, names + 2, 1, t, &gone, 1), -1);
	put(v, "lone", "its other name is outside");
	assert_int_equal(utimensat(AT_FDCWD, p, keep, 0), 0);
	assert_int_equal(check_stats(v, names + 2, 1, t, &gone, 1), 0);
	/* a cut answer */
	assert_int_equal(sync_check_stats(t, &gone, "d\0", 2, 1), -1);
	strlist_clear(&gone);
	treesum_free(t);
	free(p);
	free(v);
	unit_rmtree(dir);
}

/* punch: a file written whole (holes as zeros, as the engine writes
 * them) takes its blocks of zeros as holes again, the same bytes, size
 * and mtime; strip removes only ACLs. */
static void punch_makes_zeros_holes_and_keeps_the_bytes(void **state)
{
	char *dir = unit_mkdtemp(), *p = xasprintf("%s/f", dir);
	static char zeros[1 << 16];
	char *names[] = { "f", "absent" }, *bad[] = { "../f" };
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };
	struct stat before, after;
	char want[65], got[65];
	size_t n;
	int fd = open(p, O_WRONLY | O_CREAT, 0644);

	(void)state;
	assert_true(fd >= 0);
	for (int i = 0; i < 64; i++)	/* 4 MB written, zeros but one byte */
		assert_int_equal(write(fd, zeros, sizeof(zeros)),
				 (ssize_t)sizeof(zeros));
	assert_int_equal(pwrite(fd, "x", 1, 3 << 20), 1);
	close(fd);
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	helper_digest(dir, want, &n);
	assert_int_equal(stat(p, &before), 0);
	assert_int_equal(dmh_cmd_punch(dir, 2, names), 0);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(stat(p, &after), 0);
	helper_digest(dir, got, &n);
	assert_string_equal(got, want);	/* bytes, size, mtime */
	assert_int_equal(after.st_size, 4 << 20);
	assert_true(after.st_blocks * 512 <= 64 * 1024);
	assert_true(before.st_blocks * 512 >= 4 << 20);
	assert_int_equal(dmh_cmd_punch(dir, 1, bad), 2);
	assert_int_equal(dmh_cmd_strip(dir, "user.x", 1, names), 2);
	assert_int_equal(chdir("/"), 0);
	free(p);
	unit_rmtree(dir);
}

static void the_sum_answer_is_read_strictly(void **state)
{
	char hex[65];
	size_t n = 0;
	const char *good = "0123456789abcdef0123456789abcdef"
			   "0123456789abcdef0123456789abcdef 42\n";

	(void)state;
	assert_int_equal(volsum_parse(good, hex, &n), 0);
	assert_int_equal(n, 42);
	assert_int_equal(hex[64], '\0');
	assert_int_equal(volsum_parse("", hex, &n), -1);
	assert_int_equal(volsum_parse("abc 1\n", hex, &n), -1);
	assert_int_equal(volsum_parse("0123456789abcdef0123456789abcdef"
				      "0123456789abcdef0123456789abcdeX 1\n",
				      hex, &n), -1);
	assert_int_equal(volsum_parse("0123456789abcdef0123456789abcdef"
				      "0123456789abcdef0123456789abcdef\n",
				      hex, &n), -1);
	assert_int_equal(volsum_parse("0123456789abcdef0123456789abcdef"
				      "0123456789abcdef0123456789abcdef 0\n",
				      hex, &n), -1);	/* not even a root */
}

int main(void)
{
	(void)cmd_get;	/* dm-helper's other verbs: test_helper.c */
	(void)cmd_rm;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_helpers_sha256_is_openssls_fed_in_any_pieces),
		cmocka_unit_test(the_helpers_sum_is_the_digest_of_its_stream),
		cmocka_unit_test(the_sum_answer_is_read_strictly),
		cmocka_unit_test(punch_makes_zeros_holes_and_keeps_the_bytes),
		cmocka_unit_test(the_read_back_by_stat_carries_digests_not_content),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
