/*
 * test_ocilayout.c - the small members of image archives in both formats
 * (ocilayout.h), what a load's reply says it made, and the delta filter's
 * decisions on OCI blobs.  The fixtures are manifest.json and index.json
 * of a real "docker save" of dockerd 28.5.2 (overlay2): an image of four
 * layers, blobs named by diff id.  The manifest built for a legacy
 * archive is checked byte for byte against the one that dockerd 28.5.2's
 * containerd store loaded here (its image id, sha256:5f6b0c21...).
 */
#include "unit.h"

#include "ocilayout.h"
#include "registry.h"
#include "tar.h"
#include "transfer.h"

#define L0 "sha256:36ceac383d7421aa151badea9fbaadd8f38e8d034a77723e2ad0c8c642c8f54f"
#define L1 "sha256:9b35d0a6d160f58eb8757a40ca6d3138e176c4c043c44b387dd5b88e062a69c9"
#define L2 "sha256:8af18a558b1a0e3b5097535cd8ad9d3bb963b40f18c270b29dea475f185aa328"
#define L3 "sha256:16f7ad5cf8d8a6bc5fce2763c08de534bbe64153eaef8de5ac355f76ae377303"

static void member_names_are_told_apart(void **state)
{
	char d[72];

	(void)state;
	assert_int_equal(oci_blob_digest("blobs/sha256/" L0 + 7, d), 0);
	assert_int_equal(oci_blob_digest("blobs/sha256/36ceac383d7421aa151badea9fbaadd8f38e8d034a77723e2ad0c8c642c8f54f", d), 1);
	assert_string_equal(d, L0);
	assert_int_equal(oci_blob_digest("blobs/sha256/36CEAC383d7421aa151badea9fbaadd8f38e8d034a77723e2ad0c8c642c8f54f", d), 0);
	assert_int_equal(oci_blob_digest("blobs/sha256/36ceac383d7421aa151badea9fbaadd8f38e8d034a77723e2ad0c8c642c8f54f/x", d), 0);
	assert_int_equal(oci_blob_digest("blobs/sha512/36ceac383d7421aa151badea9fbaadd8f38e8d034a77723e2ad0c8c642c8f54f", d), 0);
	assert_int_equal(oci_blob_digest("blobs/sha256/", d), 0);
	assert_int_equal(legacy_config_digest("35f320b1183fe17ed209bce70f0843d59da76bd683ee9a25458135fcd3c766a5.json", d), 1);
	assert_string_equal(d, "sha256:35f320b1183fe17ed209bce70f0843d59da76bd683ee9a25458135fcd3c766a5");
	assert_int_equal(legacy_config_digest("35f320b1183fe17ed209bce70f0843d59da76bd683ee9a25458135fcd3c766a5/json", d), 0);
	assert_int_equal(legacy_config_digest("manifest.json", d), 0);
}

static void oci_save_manifest_lists_blobs(void **state)
{
	char *json = unit_fixture("save_oci_manifest.json");
	struct save_manifest m;

	(void)state;
	assert_int_equal(save_manifest_parse(json, strlen(json), &m), 0);
	assert_string_equal(m.config, "blobs/sha256/8c846dfc98baedb9a05fbd418d122b6f3561d89e93390a2c738bb192a377ff84");
	assert_int_equal(m.layers.n, 4);
	assert_string_equal(m.layers.v[0], "blobs/sha256/36ceac383d7421aa151badea9fbaadd8f38e8d034a77723e2ad0c8c642c8f54f");
	assert_int_equal(m.tags.n, 1);
	assert_string_equal(m.tags.v[0], "app:1");
	save_manifest_release(&m);
	free(json);
}

static void save_manifest_must_be_one_image(void **state)
{
	struct save_manifest m;
	const char *two = "[{\"Config\":\"a.json\",\"Layers\":[]},"
			  "{\"Config\":\"b.json\",\"Layers\":[]}]";
	const char *legacy = "[{\"Config\":\"c.json\",\"RepoTags\":null,"
			     "\"Layers\":[\"d/layer.tar\"]}]";

	(void)state;
	assert_int_equal(save_manifest_parse(two, strlen(two), &m), -1);
	assert_int_equal(save_manifest_parse("{}", 2, &m), -1);
	assert_int_equal(save_manifest_parse("[{\"Layers\":[1]}]", 16, &m), -1);
	assert_int_equal(save_manifest_parse("[", 1, &m), -1);
	assert_int_equal(save_manifest_parse(legacy, strlen(legacy), &m), 0);
	assert_int_equal(m.tags.n, 0);
	assert_string_equal(m.layers.v[0], "d/layer.tar");
	save_manifest_release(&m);
}

/* What delta writes when it stops reading an export early: the same
 * manifest.json a save of 28.5 writes, read back as one. */
static void save_manifest_written_is_read_back(void **state)
{
	char *json = unit_fixture("save_oci_manifest.json"), *out;
	struct save_manifest m, back;
	char cfg[72], *layers[4], *tag = "app:1";

	(void)state;
	assert_int_equal(save_manifest_parse(json, strlen(json), &m), 0);
	assert_int_equal(oci_blob_digest(m.config, cfg), 1);
	for (size_t i = 0; i < 4; i++) {
		layers[i] = xcalloc(72, 1);
		assert_int_equal(oci_blob_digest(m.layers.v[i], layers[i]), 1);
	}
	out = save_manifest_json(cfg, layers, 4, &tag, 1);
	assert_int_equal(save_manifest_parse(out, strlen(out), &back), 0);
	assert_string_equal(back.config, m.config);
	assert_int_equal(back.layers.n, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(back.layers.v[i], m.layers.v[i]);
		free(layers[i]);
	}
	assert_int_equal(back.tags.n, 1);
	assert_string_equal(back.tags.v[0], "app:1");
	free(out);
	out = save_manifest_json(cfg, NULL, 0, NULL, 0);
	assert_string_equal(out, "[{\"Config\":\"blobs/sha256/8c846dfc98baedb9a05fbd418d122b6f3561d89e93390a2c738bb192a377ff84\",\"RepoTags\":[],\"Layers\":[]}]");
	free(out);
	save_manifest_release(&back);
	save_manifest_release(&m);
	free(json);
}

static void index_names_its_manifest(void **state)
{
	char *json = unit_fixture("save_oci_index.json");
	char d[72];

	(void)state;
	assert_int_equal(oci_index_first(json, strlen(json), d), 0);
	assert_string_equal(d, "sha256:90d9b2448517e463440d04883e9aef3f4e53a1e81ff895b2a33eb22ebcc6705e");
	assert_int_equal(oci_index_first("{\"manifests\":[]}", 16, d), -1);
	assert_int_equal(oci_index_first("{\"manifests\":[{\"digest\":\"sha256:12\"}]}", 38, d), -1);
	free(json);
}

static void names_are_completed_as_containerd_does(void **state)
{
	static const char *const cases[][2] = {
		{ "app:1", "docker.io/library/app:1" },
		{ "app", "docker.io/library/app:latest" },
		{ "me/app:2", "docker.io/me/app:2" },
		{ "10.79.0.1:5000/app", "10.79.0.1:5000/app:latest" },
		{ "10.79.0.1:5000/app:3", "10.79.0.1:5000/app:3" },
		{ "localhost/x:y", "localhost/x:y" },
		{ "reg.example/a/b:c", "reg.example/a/b:c" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = oci_full_name(cases[i][0]);

		assert_string_equal(got, cases[i][1]);
		free(got);
	}
	assert_null(oci_full_name("app@sha256:abc"));
	assert_null(oci_full_name("sha256:abc"));
	assert_null(oci_full_name(""));
}

static void manifest_for_a_legacy_archive_is_the_one_that_loaded(void **state)
{
	char *const diff[] = { L0, L1, L2, L3 };
	const uint64_t sizes[] = { 1984512, 143360, 301568, 201728 };
	char *man = oci_manifest_json(
		"sha256:35f320b1183fe17ed209bce70f0843d59da76bd683ee9a25458135fcd3c766a5",
		2581, diff, sizes, 4);
	char *const tags[] = { "app:1", "reg:5000/x" };
	char hex[65], *idx;

	(void)state;
	sha256_hex(man, strlen(man), hex);
	assert_string_equal(hex, "5f6b0c21f31a4ca4857735c91d91aedc7ca4a11a0b55c0588ed6593359cb61d5");
	idx = oci_index_json(OCI_MANIFEST, "sha256:5f6b", strlen(man), tags, 2);
	assert_non_null(strstr(idx, "\"io.containerd.image.name\":\"docker.io/library/app:1\""));
	assert_non_null(strstr(idx, "\"org.opencontainers.image.ref.name\":\"latest\""));
	assert_non_null(strstr(idx, "\"reg:5000/x:latest\""));
	free(idx);
	idx = oci_index_json(OCI_MANIFEST, "sha256:5f6b", 9, NULL, 0);
	assert_string_equal(idx, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:5f6b\",\"size\":9}]}");
	free(idx);
	free(man);
}

static void load_reply_says_what_it_made(void **state)
{
	struct strlist l = { 0 };
	const char *cd = "{\"stream\":\"Loaded image: app:1\\n\"}\r\n"
		"{\"stream\":\"Error unpacking image app:1: content digest "
		"sha256:36ce: not found\\n\"}\n";
	const char *gd = "{\"stream\":\"Loaded image ID: sha256:8c84\\n\"}\n"
			 "{\"stream\":\"Loaded image: \\n\"}\n"
			 "{\"stream\":\"Loaded image: a:1\\n\"}";

	(void)state;
	load_reply_names(cd, strlen(cd), &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "app:1");
	load_reply_names(gd, strlen(gd), &l);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[1], "sha256:8c84");
	assert_string_equal(l.v[2], "a:1");
	load_reply_names("", 0, &l);
	load_reply_names("not json\n{", 10, &l);
	assert_int_equal(l.n, 3);
	strlist_clear(&l);
}

static void present_blobs_and_the_first_one_lacked(void **state)
{
	char *diff[] = { L0, L1, L2, L1 };
	struct delta_plan p = { .n = 4, .diff_ids = diff, .present = 3 };

	(void)state;
	assert_int_equal(blob_is_present(&p, L0), 1);
	/* layer 2 repeats in the missing layer 4: its blob must travel */
	assert_int_equal(blob_is_present(&p, L1), 0);
	assert_int_equal(blob_is_present(&p, L2), 1);
	assert_int_equal(blob_is_present(&p, L3), 0);
	p.present = 0;
	assert_int_equal(blob_is_present(&p, L0), 0);
	p.present = 3;
	assert_int_equal(first_missing_layer("x: content digest " L2 ": not found", &p), 2);
	assert_int_equal(first_missing_layer("x: content digest " L3 ": not found", &p), 0);
	assert_int_equal(first_missing_layer("arrived broken", &p), 0);
	assert_int_equal(first_missing_layer(NULL, &p), 0);
}

/* "sha256:" and 64 times c */
static const char *dg(char c)
{
	static char buf[8][72];
	static int k;
	char *b = buf[k++ % 8];

	memcpy(b, "sha256:", 7);
	memset(b + 7, c, 64);
	b[71] = 0;
	return b;
}

static void add_member(struct strbuf *t, const char *name, const char *data,
		       size_t len)
{
	unsigned char blk[512];
	static const char zero[512];

	tar_header(blk, name, len, 0444, '0');
	sb_add(t, blk, 512);
	sb_add(t, data, len);
	sb_add(t, zero, (512 - len % 512) % 512);
}

static void add_blob(struct strbuf *t, const char *digest, const char *data)
{
	char *name = xasprintf("blobs/sha256/%s", digest + 7);

	add_member(t, name, data, strlen(data));
	free(name);
}

static char *image_manifest(char cfg, char layer0, char layer1)
{
	return xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\","
			 "\"config\":{\"mediaType\":\"c\",\"digest\":\"%s\",\"size\":2},"
			 "\"layers\":[{\"mediaType\":\"l\",\"digest\":\"%s\",\"size\":600},"
			 "{\"mediaType\":\"l\",\"digest\":\"%s\",\"size\":9}]}",
			 OCI_MANIFEST, dg(cfg), dg(layer0), dg(layer1));
}

static char *image_index(char amd64, char arm64)
{
	return xasprintf("{\"schemaVersion\":2,\"mediaType\":"
			 "\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
			 "{\"digest\":\"%s\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
			 "{\"digest\":\"%s\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
			 dg(arm64), dg(amd64));
}

/* Feed t in chunks of step bytes: the offset after which feed said 1,
 * or -1 when it never did (-2 on an error). */
static long find(const struct strbuf *t, const char *want, size_t step,
		 struct reg_manifest *m)
{
	struct manifest_finder *f = manifest_finder_new(want, "linux/amd64");
	long at = -1;

	for (size_t off = 0; off < t->len && at == -1; off += step) {
		size_t n = t->len - off < step ? t->len - off : step;
		int r = manifest_finder_feed(f, t->buf + off, n);

		if (r < 0)
			at = -2;
		else if (r == 1)
			at = (long)(off + n);
	}
	if (at >= 0)
		manifest_finder_take(f, m);
	manifest_finder_free(f);
	return at;
}

static void finder_reads_the_manifest_after_the_layers(void **state)
{
	struct strbuf t = STRBUF_INIT;
	struct reg_manifest m;
	char *man = image_manifest('c', 'a', 'b'), layer[600];
	size_t before;

	(void)state;
	memset(layer, 'x', sizeof(layer) - 1);
	layer[sizeof(layer) - 1] = 0;
	add_blob(&t, dg('a'), layer);
	add_blob(&t, dg('b'), "tiny layer");
	add_blob(&t, dg('c'), "{}");
	add_blob(&t, dg('f'), man);
	before = t.len;
	add_member(&t, "index.json", "{}", 2);
	for (size_t step = 1; step <= 4096; step *= 8) {
		long at = find(&t, dg('f'), step, &m);

		assert_true(at >= (long)before - 512 && at <= (long)before + (long)step);
		assert_int_equal(m.n, 2);
		assert_string_equal(m.layers[0].digest, dg('a'));
		assert_string_equal(m.layers[1].digest, dg('b'));
		assert_string_equal(m.config.digest, dg('c'));
		reg_manifest_release(&m);
	}
	assert_int_equal(find(&t, dg('e'), 512, &m), -1);
	free(man);
	sb_release(&t);
}

static void finder_follows_an_index_before_or_after_its_manifest(void **state)
{
	struct strbuf t = STRBUF_INIT, u = STRBUF_INIT;
	struct reg_manifest m;
	char *idx = image_index('9', '8'), *man = image_manifest('c', 'a', 'b');
	char *idx0 = image_index('0', '8');

	(void)state;
	/* the index first, the amd64 manifest after it */
	add_blob(&t, dg('1'), idx);
	add_blob(&t, dg('8'), "{\"schemaVersion\":2}");
	add_blob(&t, dg('9'), man);
	assert_true(find(&t, dg('1'), 100, &m) > 0);
	assert_string_equal(m.layers[1].digest, dg('b'));
	reg_manifest_release(&m);
	/* the manifest first (kept: small), the index after it */
	add_blob(&u, dg('0'), man);
	add_blob(&u, dg('a'), "layer bytes");
	add_blob(&u, dg('d'), idx0);
	assert_true(find(&u, dg('d'), 1, &m) > 0);
	assert_string_equal(m.config.digest, dg('c'));
	reg_manifest_release(&m);
	/* an index without the platform: an error */
	sb_release(&u);
	free(idx0);
	idx0 = xasprintf("{\"schemaVersion\":2,\"manifests\":[]}");
	add_blob(&u, dg('d'), idx0);
	assert_int_equal(find(&u, dg('d'), 7, &m), -2);
	free(idx);
	free(idx0);
	free(man);
	sb_release(&t);
	sb_release(&u);
}

static void finder_refuses_what_is_not_an_archive(void **state)
{
	struct strbuf t = STRBUF_INIT;
	struct reg_manifest m;

	(void)state;
	sb_add(&t, "not a tar header, not at all", 28);
	for (int i = 0; i < 20; i++)
		sb_add(&t, "0123456789abcdef0123456789abcdef", 32);
	assert_int_equal(find(&t, dg('f'), 64, &m), -2);
	sb_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(member_names_are_told_apart),
		cmocka_unit_test(oci_save_manifest_lists_blobs),
		cmocka_unit_test(save_manifest_must_be_one_image),
		cmocka_unit_test(save_manifest_written_is_read_back),
		cmocka_unit_test(index_names_its_manifest),
		cmocka_unit_test(names_are_completed_as_containerd_does),
		cmocka_unit_test(manifest_for_a_legacy_archive_is_the_one_that_loaded),
		cmocka_unit_test(load_reply_says_what_it_made),
		cmocka_unit_test(present_blobs_and_the_first_one_lacked),
		cmocka_unit_test(finder_reads_the_manifest_after_the_layers),
		cmocka_unit_test(finder_follows_an_index_before_or_after_its_manifest),
		cmocka_unit_test(finder_refuses_what_is_not_an_archive),
	};

	return cmocka_run_group_tests_name("ocilayout", tests, NULL, NULL);
}
