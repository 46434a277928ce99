/*
 * test_treesum.c - the tree digest and what the final pass of a volume
 * relies on: tar streams built here (ustar headers, pax records) go
 * through the streaming filter into the digest; equal trees agree
 * whatever their order, extended attributes the archive carries count,
 * and the engine's path stat is read right.
 */
#include "unit.h"

#include "tar.h"
#include "treesum.h"
#include "volsync.h"

/* one ustar header: name, type, mode, uid, mtime, size */
static void header(struct strbuf *sb, const char *name, char type,
		   unsigned mode, unsigned uid, unsigned long mtime, size_t size)
{
	unsigned char b[512];
	unsigned long sum = 0;

	memset(b, 0, sizeof(b));
	snprintf((char *)b, 100, "%s", name);
	snprintf((char *)b + 100, 8, "%07o", mode);
	snprintf((char *)b + 108, 8, "%07o", uid);
	snprintf((char *)b + 116, 8, "%07o", 0);
	snprintf((char *)b + 124, 12, "%011llo", (unsigned long long)size);
	snprintf((char *)b + 136, 12, "%011lo", mtime);
	b[156] = (unsigned char)type;
	memcpy(b + 257, "ustar", 6);
	memcpy(b + 263, "00", 2);
	memset(b + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += b[i];
	snprintf((char *)b + 148, 8, "%06lo", sum);
	sb_add(sb, b, sizeof(b));
}

static void data(struct strbuf *sb, const char *d, size_t n)
{
	static const char zeros[512];

	sb_add(sb, d, n);
	sb_add(sb, zeros, (512 - n % 512) % 512);
}

/* a pax 'x' header with one record "key=value" */
static void pax(struct strbuf *sb, const char *key, const char *value)
{
	char rec[256];
	int len = (int)(strlen(key) + strlen(value) + 3), n;

	/* the length counts its own digits */
	n = snprintf(rec, sizeof(rec), "%d %s=%s\n", len + 2, key, value);
	assert_int_equal(n, len + 2);
	header(sb, "PaxHeader", 'x', 0644, 0, 0, (size_t)n);
	data(sb, rec, (size_t)n);
}

static void file(struct strbuf *sb, const char *name, const char *content)
{
	header(sb, name, '0', 0644, 0, 1000, strlen(content));
	data(sb, content, strlen(content));
}

static enum tar_action on_member(void *ctx, const struct tar_member *m)
{
	treesum_member(ctx, m);
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

static struct treesum *sum_of(struct strbuf *tar, const char *parent,
			      char hex[65])
{
	static const char zeros[1024];
	struct treesum *t = parent ? treesum_new_at(parent) : treesum_new();
	struct tar_filter f;

	sb_add(tar, zeros, sizeof(zeros));
	tar_filter_init(&f);
	f.member = on_member;
	f.data = on_data;
	f.member_end = on_end;
	f.ctx = t;
	assert_int_equal(tar_filter_feed(&f, tar->buf, tar->len), 0);
	assert_int_equal(tar_filter_finish(&f), 0);
	tar_filter_release(&f);
	treesum_final(t, hex);
	return t;
}

static void order_does_not_matter(void **state)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	char ha[65], hb[65];

	(void)state;
	header(&a, "v/", '5', 0755, 0, 1000, 0);
	file(&a, "v/x", "one");
	file(&a, "v/y", "two");
	header(&b, "v/", '5', 0755, 0, 1000, 0);
	file(&b, "v/y", "two");
	file(&b, "v/x", "one");
	treesum_free(sum_of(&a, NULL, ha));
	treesum_free(sum_of(&b, NULL, hb));
	assert_string_equal(ha, hb);
	sb_release(&a);
	sb_release(&b);
}

static void xattrs_the_archive_carries_count(void **state)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, c = STRBUF_INIT;
	char ha[65], hb[65], hc[65];
	struct treesum *t;

	(void)state;
	file(&a, "v/x", "one");
	pax(&b, "SCHILY.xattr.security.capability", "\001\002");
	file(&b, "v/x", "one");
	pax(&c, "SCHILY.xattr.security.capability", "\001\003");
	file(&c, "v/x", "one");
	treesum_free(sum_of(&a, NULL, ha));
	t = sum_of(&b, NULL, hb);
	treesum_free(sum_of(&c, NULL, hc));
	assert_string_not_equal(ha, hb);
	assert_string_not_equal(hb, hc);
	assert_string_equal(treesum_find(t, "x")->xattrs,
			    "security.capability=0102\n");
	treesum_free(t);
	sb_release(&a);
	sb_release(&b);
	sb_release(&c);
}

/* A read of one path below the root names its entries as the whole
 * volume's read does: the final pass compares them one to one. */
static void a_read_below_the_root_names_entries_alike(void **state)
{
	struct strbuf whole = STRBUF_INIT, part = STRBUF_INIT;
	char h1[65], h2[65];
	struct treesum *w, *p;
	const struct tree_entry *a, *b;

	(void)state;
	header(&whole, "v/", '5', 0755, 0, 1000, 0);
	header(&whole, "v/www/", '5', 0750, 7, 1000, 0);
	file(&whole, "v/www/n", "42\n");
	header(&part, "www/", '5', 0750, 7, 1000, 0);
	file(&part, "www/n", "42\n");
	w = sum_of(&whole, NULL, h1);
	p = sum_of(&part, "", h2);
	assert_int_equal(treesum_entries(p), 2);
	a = treesum_find(w, "www/n");
	b = treesum_find(p, "www/n");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(tree_entry_equal(a, b));
	assert_true(tree_entry_equal(treesum_find(w, "www"),
				     treesum_find(p, "www")));
	assert_false(tree_entry_equal(treesum_find(w, ""),
				      treesum_find(p, "www")));
	treesum_free(w);
	treesum_free(p);
	sb_release(&whole);
	sb_release(&part);
}

static void entries_differ_by_content_owner_and_time(void **state)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, c = STRBUF_INIT;
	char h[65];
	struct treesum *ta, *tb, *tc;

	(void)state;
	file(&a, "v/x", "one");
	file(&b, "v/x", "One");
	header(&c, "v/x", '0', 0644, 5, 1000, 3);
	data(&c, "one", 3);
	ta = sum_of(&a, NULL, h);
	tb = sum_of(&b, NULL, h);
	tc = sum_of(&c, NULL, h);
	assert_false(tree_entry_equal(treesum_find(ta, "x"), treesum_find(tb, "x")));
	assert_false(tree_entry_equal(treesum_find(ta, "x"), treesum_find(tc, "x")));
	treesum_free(ta);
	treesum_free(tb);
	treesum_free(tc);
	sb_release(&a);
	sb_release(&b);
	sb_release(&c);
}

static char *b64(const char *s)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s);
	char *out = xcalloc(1, n / 3 * 4 + 8), *o = out;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;

		v |= i + 1 < n ? (unsigned char)s[i + 1] << 8 : 0;
		v |= i + 2 < n ? (unsigned char)s[i + 2] : 0;
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	return out;
}

static void the_engines_path_stat_is_read(void **state)
{
	struct path_stat st;
	char *s;

	(void)state;
	/* what dockerd 20.10 answered for a directory and a file here */
	s = b64("{\"name\":\"v\",\"size\":4096,\"mode\":2147484141,\"mtime\":"
		"\"2026-11-25T01:40:08.05025005Z\",\"linkTarget\":\"\"}");
	assert_int_equal(path_stat_parse(s, &st), 0);
	assert_int_equal(st.type, '5');
	assert_int_equal(st.perm, 0755);
	assert_int_equal(st.mtime, 1795570808);
	free(s);
	/* setuid, sticky, a zone offset */
	s = b64("{\"name\":\"f\",\"size\":3,\"mode\":9437677,\"mtime\":"
		"\"2001-02-03T05:05:06+01:00\",\"linkTarget\":\"\"}");
	assert_int_equal(path_stat_parse(s, &st), 0);
	assert_int_equal(st.type, '0');
	assert_int_equal(st.perm, 05755);
	assert_int_equal(st.mtime, 981173106);
	assert_int_equal(st.size, 3);
	free(s);
	assert_int_equal(path_stat_parse("bm90IGpzb24=", &st), -1);
	assert_int_equal(path_stat_parse("!!", &st), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(order_does_not_matter),
		cmocka_unit_test(xattrs_the_archive_carries_count),
		cmocka_unit_test(a_read_below_the_root_names_entries_alike),
		cmocka_unit_test(entries_differ_by_content_owner_and_time),
		cmocka_unit_test(the_engines_path_stat_is_read),
	};

	return cmocka_run_group_tests_name("treesum", tests, NULL, NULL);
}
