/*
 * test_helper.c - dm-helper, the tool of the helper image, and the
 * plugin's side of the final pass it makes: its tar headers read by the
 * plugin's own parser, its scan of a real directory (what changed, every
 * name listed), its removals (below the root only, the parent's mtime
 * kept), the engine's multiplexed exec stream split anywhere, and the
 * plan that puts the sent entries and the unchanged ones together.
 */
#define DMH_NO_MAIN
#include "../../src/helper/dm-helper.c"
#include "../../src/helper/dmh_path.c"
#include "../../src/helper/dmh_xattr.c"	/* what scan and get carry */

#include "unit.h"

#include "engine.h"
#include "tar.h"
#include "treesum.h"
#include "volsync.h"
#include "volume.h"

static void names_to_remove_stay_below_the_root(void **state)
{
	(void)state;
	assert_true(dmh_safe_name("a"));
	assert_true(dmh_safe_name("a/b c/..d"));
	assert_false(dmh_safe_name(""));
	assert_false(dmh_safe_name("/etc"));
	assert_false(dmh_safe_name(".."));
	assert_false(dmh_safe_name("a/../../x"));
	assert_false(dmh_safe_name("a//b"));
	assert_false(dmh_safe_name("./a"));
	assert_false(dmh_safe_name("a/"));
}

static void headers_read_back_with_large_numbers(void **state)
{
	unsigned char blk[512];
	struct dmh_hdr h = { .name = "v/big", .mode = 0640, .uid = 100000000,
			     .gid = 7, .size = 20000000000ULL,
			     .mtime = 1700000000, .type = '0' };
	uint64_t v;
	unsigned sum = 0;

	(void)state;
	dmh_header(blk, &h);
	assert_int_equal(tar_number(blk + DMH_OFF_SIZE, DMH_LEN_SIZE, &v), 0);
	assert_true(v == 20000000000ULL);
	assert_int_equal(tar_number(blk + DMH_OFF_UID, DMH_LEN_UID, &v), 0);
	assert_int_equal(v, 100000000);
	assert_int_equal(tar_number(blk + DMH_OFF_MTIME, DMH_LEN_MTIME, &v), 0);
	assert_int_equal(v, 1700000000);
	for (int i = 0; i < DMH_BLOCK; i++)
		sum += i >= DMH_OFF_CHKSUM && i < DMH_OFF_TYPE ? ' ' : blk[i];
	assert_int_equal(tar_number(blk + DMH_OFF_CHKSUM, DMH_LEN_CHKSUM, &v), 0);
	assert_int_equal(v, sum);
}

static void pax_records_count_their_own_length(void **state)
{
	char buf[64];
	size_t len = 0;

	(void)state;
	/* "9 a=bcd\n" is 8 bytes: with its one digit, 8 */
	assert_int_equal(dmh_pax_record(buf, &len, sizeof(buf), "a", "bcd", 3), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(buf, "8 a=bcd\n", 8);
	len = 0;
	/* 100 bytes with the digits: 3 of them */
	assert_int_equal(dmh_pax_record(buf, &len, 64, "k", "x", 1), 0);
	assert_int_equal(dmh_pax_record(buf, &len, 10, "k", "x", 1), -1);
}

/* ---- the scan, read by the plugin's tar filter ---- */

static void put_file(const char *path, const char *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static char *get_file(const char *path, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sb_add(&sb, buf, (size_t)n);
	close(fd);
	*len = sb.len;
	return sb.buf ? sb.buf : xstrdup("");
}

struct seen {
	struct strbuf names;	/* "name type\n" */
	struct strbuf list;
	struct treesum *sum;
};

static enum tar_action on_member(void *ctx, const struct tar_member *m)
{
	struct seen *s = ctx;

	if (strcmp(m->name, DMH_LIST_MEMBER) == 0)
		return TAR_CAPTURE;
	sb_addf(&s->names, "%s %c\n", m->name, m->type);
	treesum_member(s->sum, m);
	return TAR_DROP;
}

static int on_data(void *ctx, const void *buf, size_t n)
{
	treesum_data(((struct seen *)ctx)->sum, buf, n);
	return 0;
}

static int on_end(void *ctx)
{
	treesum_end(((struct seen *)ctx)->sum);
	return 0;
}

static int on_captured(void *ctx, const char *name, const char *d, size_t n)
{
	(void)name;
	sb_add(&((struct seen *)ctx)->list, d, n);
	return 0;
}

/* Run "dm-helper scan dir since" (get: "dm-helper get dir names...")
 * here, its stdout read back. */
static void run_helper(const char *dir, long long since, int n, char **get,
		       struct seen *s);

static void scan(const char *dir, long long since, struct seen *s)
{
	run_helper(dir, since, 0, NULL, s);
}

static void run_helper(const char *dir, long long since, int n, char **get,
		       struct seen *s)
{
	char out[] = "/tmp/dm-unit-scan-XXXXXX", cwd[4096], since_s[24];
	int fd = mkstemp(out), saved = dup(1);
	struct tar_filter f;
	char *tar;
	size_t len;

	assert_true(fd >= 0 && saved >= 0 && getcwd(cwd, sizeof(cwd)));
	snprintf(since_s, sizeof(since_s), "%lld", since);
	fflush(stdout);
	dup2(fd, 1);
	if (get)
		assert_int_equal(cmd_get(dir, n, get), 0);
	else
		assert_int_equal(cmd_scan(dir, since_s), 0);
	dup2(saved, 1);
	close(saved);
	close(fd);
	assert_int_equal(chdir(cwd), 0);
	tar = get_file(out, &len);
	unlink(out);
	memset(s, 0, sizeof(*s));
	s->sum = treesum_new();
	tar_filter_init(&f);
	f.member = on_member;
	f.data = on_data;
	f.member_end = on_end;
	f.captured = on_captured;
	f.capture_max = 1 << 20;
	f.ctx = s;
	assert_int_equal(tar_filter_feed(&f, tar, len), 0);
	assert_int_equal(tar_filter_finish(&f), 0);
	tar_filter_release(&f);
	free(tar);
}

static void seen_release(struct seen *s)
{
	sb_release(&s->names);
	sb_release(&s->list);
	treesum_free(s->sum);
}

/* Names in a list of dm-helper's scan (name, then what it saw). */
static size_t listed(const struct strbuf *l)
{
	size_t nuls = 0;

	for (size_t i = 0; i < l->len; i++)
		nuls += l->buf[i] == '\0';
	return nuls / 2;
}

static void the_scan_sends_what_changed_and_lists_every_name(void **state)
{
	char *dir = unit_mkdtemp(), *p;
	struct seen s;
	char hex[65];
	const struct tree_entry *e;

	(void)state;
	p = xasprintf("%s/d", dir);
	assert_int_equal(mkdir(p, 0750), 0);
	free(p);
	p = xasprintf("%s/d/f", dir);
	put_file(p, "content", 7);
	free(p);
	{
		char *a = xasprintf("%s/d/f", dir), *b = xasprintf("%s/d/hl", dir);

		assert_int_equal(link(a, b), 0);
		free(a);
		free(b);
	}
	p = xasprintf("%s/s", dir);
	assert_int_equal(symlink("d/f", p), 0);
	free(p);

	/* since 0: everything, the hard link as a link to its first name */
	scan(dir, 0, &s);
	treesum_final(s.sum, hex);
	assert_non_null(strstr(sb_str(&s.names), "v/ 5\n"));
	assert_non_null(strstr(sb_str(&s.names), "v/d/ 5\n"));
	assert_non_null(strstr(sb_str(&s.names), "v/s 2\n"));
	assert_non_null(strstr(sb_str(&s.names), " 1\n"));
	e = treesum_find(s.sum, "d/f");
	assert_non_null(e);
	assert_int_equal(e->size, 7);
	assert_true(e->linked);
	assert_true(treesum_find(s.sum, "d/hl")->linked);
	assert_string_equal(treesum_find(s.sum, "s")->link, "d/f");
	assert_int_equal(treesum_find(s.sum, "d")->mode, 0750);
	/* every name but the root's, each with what the scan saw of it */
	assert_int_equal(listed(&s.list), 4);
	assert_non_null(memmem(s.list.buf, s.list.len, "d/f\0" "0 7 ", 6));
	assert_non_null(memmem(s.list.buf, s.list.len, "s\0" "2 0 ", 6));
	seen_release(&s);

	/* a time to come: directories only (their mtimes), and the list */
	scan(dir, (long long)time(NULL) + 100, &s);
	assert_string_equal(sb_str(&s.names), "v/ 5\nv/d/ 5\n");
	assert_int_equal(listed(&s.list), 4);
	seen_release(&s);

	/* get: each entry alone, a hard link as a file, none through a
	 * symbolic link, the missing left out */
	{
		char *names[] = { ".", "d", "d/hl", "nothere", "s/f", "s" };

		run_helper(dir, 0, 6, names, &s);
		assert_string_equal(sb_str(&s.names),
				    "v/ 5\nv/d/ 5\nv/d/hl 0\nv/s 2\n");
		assert_int_equal(s.list.len, 0);
		seen_release(&s);
	}
	/* get of a whole hard-link group: folded as the scan sends it */
	{
		char *names[] = { "d/f", "d/hl" };

		run_helper(dir, 0, 2, names, &s);
		treesum_final(s.sum, hex);
		assert_string_equal(sb_str(&s.names), "v/d/f 0\nv/d/hl 1\n");
		assert_true(treesum_find(s.sum, "d/f")->linked);
		assert_true(treesum_find(s.sum, "d/hl")->linked);
		seen_release(&s);
	}
	unit_rmtree(dir);
}

/* An old file, in a directory with old times, under root. */
static void old_file_in(const char *root, const char *d)
{
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };
	char *p = xasprintf("%s/%s", root, d), *f = xasprintf("%s/%s/f", root, d);

	assert_int_equal(mkdir(p, 0755), 0);
	put_file(f, d, strlen(d));
	assert_int_equal(utimensat(AT_FDCWD, f, old, 0), 0);
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	free(p);
	free(f);
}

static void a_directory_renamed_since_sends_its_old_entries(void **state)
{
	char *dir = unit_mkdtemp(), *a, *b;
	struct seen s;
	long long since;

	(void)state;
	old_file_in(dir, "a");
	old_file_in(dir, "c");
	/* the files' ctimes a second before the pass's start */
	nanosleep(&(struct timespec){ 1, 200 * 1000 * 1000 }, NULL);
	since = (long long)time(NULL);
	a = xasprintf("%s/a", dir);
	b = xasprintf("%s/b", dir);
	assert_int_equal(rename(a, b), 0);
	scan(dir, since, &s);
	/* b/f: its own times are old, but it is another name now */
	assert_non_null(strstr(sb_str(&s.names), "v/b/f 0\n"));
	assert_null(strstr(sb_str(&s.names), "v/c/f"));
	seen_release(&s);
	free(a);
	free(b);
	unit_rmtree(dir);
}

static void removals_keep_the_parents_mtime(void **state)
{
	char *dir = unit_mkdtemp(), *p, *q;
	char *names[] = { "d/sub", "d/gone-already" }, *bad[] = { "../x" };
	struct timespec ts[2] = { { 1000, 0 }, { 1000, 0 } };
	char cwd[4096];
	struct stat st;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	p = xasprintf("%s/d/sub/deeper", dir);
	q = xasprintf("%s/d", dir);
	assert_int_equal(mkdir(q, 0755), 0);
	*strrchr(p, '/') = '\0';
	assert_int_equal(mkdir(p, 0755), 0);
	strcat(p, "/deeper");
	put_file(p, "x", 1);
	assert_int_equal(utimensat(AT_FDCWD, q, ts, 0), 0);
	assert_int_equal(cmd_rm(dir, 1, bad), 2);
	assert_int_equal(cmd_rm(dir, 2, names), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(stat(p, &st), -1);
	assert_int_equal(stat(q, &st), 0);
	assert_int_equal(st.st_mtim.tv_sec, 1000);
	free(p);
	free(q);
	unit_rmtree(dir);
}

/* ---- the exec stream ---- */

static int collect(void *ctx, const void *buf, size_t n)
{
	sb_add(ctx, buf, n);
	return 0;
}

static void the_exec_stream_is_demultiplexed_split_anywhere(void **state)
{
	static const unsigned char stream[] = {
		1, 0, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c',
		2, 0, 0, 0, 0, 0, 0, 4, 'o', 'o', 'p', 's',
		1, 0, 0, 0, 0, 0, 0, 0,
		1, 0, 0, 0, 0, 0, 0, 2, 'd', 'e',
	};

	(void)state;
	for (size_t step = 1; step <= sizeof(stream); step++) {
		struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
		struct exec_demux d = { .out = collect, .ctx = &out, .err = &err };

		for (size_t i = 0; i < sizeof(stream); i += step)
			assert_int_equal(exec_demux_feed(&d, stream + i,
				i + step > sizeof(stream) ? sizeof(stream) - i
							  : step), 0);
		assert_string_equal(sb_str(&out), "abcde");
		assert_string_equal(sb_str(&err), "oops");
		assert_int_equal(d.left, 0);
		assert_int_equal(d.hlen, 0);
		sb_release(&out);
		sb_release(&err);
	}
	{
		static const unsigned char bad[] = { 9, 0, 0, 0, 0, 0, 0, 1, 'x' };
		struct exec_demux d = { .out = collect, .ctx = NULL };

		assert_int_equal(exec_demux_feed(&d, bad, sizeof(bad)), -1);
	}
}

/* ---- the plan ---- */

static void member_hdr(struct strbuf *sb, const char *name, char type,
		       size_t size)
{
	unsigned char b[512];
	struct dmh_hdr h = { .name = name, .mode = 0644, .size = size,
			     .mtime = 1000, .type = type };

	dmh_header(b, &h);
	sb_add(sb, b, sizeof(b));
	if (size) {
		static const char zeros[512];

		sb_add(sb, "xxxxxxxx", size);
		sb_add(sb, zeros, (512 - size % 512) % 512);
	}
}

static struct treesum *tree(struct strbuf *tar)
{
	static const char zeros[1024];
	struct seen s = { 0 };
	struct tar_filter f;
	char hex[65];

	sb_add(tar, zeros, sizeof(zeros));
	s.sum = treesum_new();
	tar_filter_init(&f);
	f.member = on_member;
	f.data = on_data;
	f.member_end = on_end;
	f.ctx = &s;
	assert_int_equal(tar_filter_feed(&f, tar->buf, tar->len), 0);
	assert_int_equal(tar_filter_finish(&f), 0);
	tar_filter_release(&f);
	treesum_final(s.sum, hex);
	sb_release(&s.names);
	return s.sum;
}

/* sync_plan of a list written as a literal (NULs inside) */
#define PLAN(l) sync_plan(before, l, sizeof(l) - 1, now, &gone)

static void the_plan_keeps_the_unchanged_and_removes_the_gone(void **state)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, c = STRBUF_INIT;
	struct treesum *before, *now, *whole;
	struct strlist gone = { 0 };
	/* as member_hdr makes them: mtime 1000, root's */
	static const char list[] = "x\0" "0 1 1000 0 0\0" "y\0" "0 5 1000 0 0\0"
				   "e\0" "5 0 1000 0 0\0";
	char h1[65], h2[65];

	(void)state;
	member_hdr(&a, "v/", '5', 0);
	member_hdr(&a, "v/x", '0', 1);
	member_hdr(&a, "v/y", '0', 2);
	member_hdr(&a, "v/e", '5', 0);
	member_hdr(&a, "v/d/", '5', 0);
	member_hdr(&a, "v/d/z", '0', 3);
	before = tree(&a);
	/* the scan: the root and e (directories), y changed */
	member_hdr(&b, "v/", '5', 0);
	member_hdr(&b, "v/e", '5', 0);
	member_hdr(&b, "v/y", '0', 5);
	now = tree(&b);
	assert_int_equal(sync_plan(before, list, sizeof(list) - 1, now, &gone), 0);
	treesum_refinal(now, h1);
	assert_int_equal(gone.n, 1);
	assert_string_equal(gone.v[0], "d");
	assert_int_equal(treesum_entries(now), 4);
	assert_false(treesum_find(now, "x")->sent);
	/* the same digest as a whole read of the new tree */
	member_hdr(&c, "v/", '5', 0);
	member_hdr(&c, "v/x", '0', 1);
	member_hdr(&c, "v/y", '0', 5);
	member_hdr(&c, "v/e", '5', 0);
	whole = tree(&c);
	treesum_final(whole, h2);
	assert_string_equal(h1, h2);
	strlist_clear(&gone);
	treesum_free(now);
	treesum_free(whole);
	/* a listed name neither sent nor known: the archive's pass decides */
	sb_release(&b);
	now = tree(&b);
	assert_int_equal(PLAN("new\0" "0 1 1000 0 0\0"), 1);
	strlist_clear(&gone);
	treesum_free(now);
	/* x not sent, but not the x that was read (a directory renamed
	 * over its parent keeps its children's ctimes): the same */
	now = tree(&b);
	assert_int_equal(PLAN("x\0" "0 9 1000 0 0\0"), 1);
	strlist_clear(&gone);
	treesum_free(now);
	now = tree(&b);
	assert_int_equal(PLAN("x\0" "0 1 999 0 0\0"), 1);
	strlist_clear(&gone);
	treesum_free(now);
	/* and the list must come in pairs */
	now = tree(&b);
	assert_int_equal(PLAN("x\0"), -1);
	strlist_clear(&gone);
	treesum_free(now);
	treesum_free(before);
	sb_release(&a);
	sb_release(&b);
	sb_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_to_remove_stay_below_the_root),
		cmocka_unit_test(headers_read_back_with_large_numbers),
		cmocka_unit_test(pax_records_count_their_own_length),
		cmocka_unit_test(the_scan_sends_what_changed_and_lists_every_name),
		cmocka_unit_test(removals_keep_the_parents_mtime),
		cmocka_unit_test(a_directory_renamed_since_sends_its_old_entries),
		cmocka_unit_test(the_exec_stream_is_demultiplexed_split_anywhere),
		cmocka_unit_test(the_plan_keeps_the_unchanged_and_removes_the_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
