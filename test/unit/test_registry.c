/*
 * test_registry.c - the parsers of what a registry sends: manifests of
 * both families and their lists (with the platform choice), image configs,
 * WWW-Authenticate challenges, --registry, and the layer media types.
 */
#include "unit.h"

#include "registry.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

#define V2_MANIFEST \
	"{\"schemaVersion\":2,\"mediaType\":" \
	"\"application/vnd.docker.distribution.manifest.v2+json\"," \
	"\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\"," \
	"\"size\":1500,\"digest\":\"" D1 "\"},\"layers\":[" \
	"{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\"," \
	"\"size\":100,\"digest\":\"" D2 "\"}," \
	"{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\"," \
	"\"size\":9000000000,\"digest\":\"" D3 "\"}]}"

static int parse(const char *body, const char *ctype, const char *platform,
		 struct reg_manifest *m)
{
	return reg_manifest_parse(body, strlen(body), ctype, platform, m);
}

static void docker_v2_manifest(void **state)
{
	struct reg_manifest m;

	(void)state;
	assert_int_equal(parse(V2_MANIFEST, NULL, "linux/amd64", &m), 0);
	assert_int_equal(m.kind, REG_IMAGE);
	assert_string_equal(m.config.digest, D1);
	assert_int_equal(m.config.size, 1500);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.layers[0].digest, D2);
	assert_true(m.layers[1].size == 9000000000LL);	/* over 4 GiB */
	reg_manifest_release(&m);
}

/* OCI manifests may leave mediaType out: the header, then the shape. */
static void oci_manifest_without_media_type(void **state)
{
	const char *oci = "{\"schemaVersion\":2,\"config\":{\"size\":3,"
			  "\"digest\":\"" D1 "\"},\"layers\":[]}";
	struct reg_manifest m;

	(void)state;
	assert_int_equal(parse(oci, "application/vnd.oci.image.manifest.v1+json",
			       NULL, &m), 0);
	assert_int_equal(m.kind, REG_IMAGE);
	assert_int_equal(m.n, 0);
	reg_manifest_release(&m);
	assert_int_equal(parse(oci, "application/octet-stream", NULL, &m), 0);
	assert_int_equal(m.kind, REG_IMAGE);
	reg_manifest_release(&m);
}

#define INDEX(mt) \
	"{\"schemaVersion\":2,\"mediaType\":\"" mt "\",\"manifests\":[" \
	"{\"digest\":\"" D1 "\",\"size\":1,\"platform\":{\"os\":\"linux\"," \
	"\"architecture\":\"arm\",\"variant\":\"v7\"}}," \
	"{\"digest\":\"" D2 "\",\"size\":1,\"platform\":{\"os\":\"linux\"," \
	"\"architecture\":\"arm64\",\"variant\":\"v8\"}}," \
	"{\"digest\":\"" D3 "\",\"size\":1,\"platform\":{\"os\":\"linux\"," \
	"\"architecture\":\"amd64\"}}]}"

static void lists_pick_the_platform(void **state)
{
	const char *lists[] = {
		INDEX("application/vnd.docker.distribution.manifest.list.v2+json"),
		INDEX("application/vnd.oci.image.index.v1+json"),
	};
	struct reg_manifest m;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(parse(lists[i], NULL, "linux/amd64", &m), 0);
		assert_int_equal(m.kind, REG_INDEX);
		assert_string_equal(m.pick, D3);
		reg_manifest_release(&m);
		/* no variant asked: the first arm64 */
		assert_int_equal(parse(lists[i], NULL, "linux/arm64", &m), 0);
		assert_string_equal(m.pick, D2);
		reg_manifest_release(&m);
		assert_int_equal(parse(lists[i], NULL, "linux/arm/v7", &m), 0);
		assert_string_equal(m.pick, D1);
		reg_manifest_release(&m);
		assert_int_equal(parse(lists[i], NULL, "linux/arm/v6", &m), -1);
		assert_non_null(strstr(dm_errmsg(), "no image for linux/arm/v6"));
		assert_int_equal(parse(lists[i], NULL, "windows/amd64", &m), -1);
		/* "linux/amd" is not a prefix match of amd64 */
		assert_int_equal(parse(lists[i], NULL, "linux/amd", &m), -1);
	}
}

static void bad_manifests_are_refused(void **state)
{
	const char *bad[] = {
		"[]", "{}", "not json",
		"{\"schemaVersion\":1,\"config\":{}}",
		/* a digest that is not sha256 + 64 hex */
		"{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":"
		"\"sha256:abc\"},\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" D1
		"\"},\"layers\":[{\"size\":-1,\"digest\":\"" D2 "\"}]}",
		"{\"schemaVersion\":2,\"config\":{\"size\":\"1\",\"digest\":\""
		D1 "\"},\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" D1
		"\"},\"layers\":{}}",
		"{\"schemaVersion\":2,\"mediaType\":\"text/html\"}",
		"{\"schemaVersion\":2,\"mediaType\":"
		"\"application/vnd.oci.image.index.v1+json\",\"manifests\":{}}",
	};
	struct reg_manifest m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(parse(bad[i], NULL, "linux/amd64", &m), -1);
		assert_null(m.layers);
		assert_null(m.config.digest);
	}
	assert_int_equal(parse(V2_MANIFEST, "application/vnd.docker."
			       "distribution.manifest.v1+prettyjws",
			       NULL, &m), -1);
	assert_non_null(strstr(dm_errmsg(), "schema 1"));
}

static void config_diff_ids(void **state)
{
	const char *cfg = "{\"architecture\":\"amd64\",\"rootfs\":{\"type\":"
			  "\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]}}";
	struct strlist ids = { 0 };

	(void)state;
	assert_int_equal(reg_config_diff_ids(cfg, strlen(cfg), &ids), 0);
	assert_int_equal(ids.n, 2);
	assert_string_equal(ids.v[1], D2);
	strlist_clear(&ids);
	assert_int_equal(reg_config_diff_ids("{\"rootfs\":{}}", 13, &ids), -1);
	assert_int_equal(reg_config_diff_ids("{\"rootfs\":{\"diff_ids\":[1]}}",
					     27, &ids), -1);
	strlist_clear(&ids);
}

static void challenges(void **state)
{
	struct reg_challenge c;

	(void)state;
	assert_int_equal(reg_challenge_parse(
		"Bearer realm=\"https://auth.example/token\",service="
		"\"registry.example\",scope=\"repository:a/b:pull,push\"", &c), 0);
	assert_string_equal(c.scheme, "Bearer");
	assert_string_equal(c.realm, "https://auth.example/token");
	assert_string_equal(c.service, "registry.example");
	assert_string_equal(c.scope, "repository:a/b:pull,push");
	reg_challenge_release(&c);

	/* unquoted values, spaces, unknown parameters, escapes */
	assert_int_equal(reg_challenge_parse("Bearer  realm=http://h/t , "
					     "error=\"insufficient_scope\", "
					     "service=\"a\\\"b\"", &c), 0);
	assert_string_equal(c.realm, "http://h/t");
	assert_string_equal(c.service, "a\"b");
	assert_null(c.scope);
	reg_challenge_release(&c);

	assert_int_equal(reg_challenge_parse("Basic realm=\"Registry\"", &c), 0);
	assert_string_equal(c.scheme, "Basic");
	reg_challenge_release(&c);

	assert_int_equal(reg_challenge_parse("", &c), -1);
	assert_int_equal(reg_challenge_parse("Bearer realm=\"open", &c), -1);
	assert_int_equal(reg_challenge_parse("Bearer realm", &c), -1);
	assert_null(c.scheme);
}

static void registry_specs(void **state)
{
	static const struct {
		const char *spec, *scheme, *host;
	} ok[] = {
		{ "reg:5000", "", "reg:5000" },
		{ "10.77.0.1:5000", "", "10.77.0.1:5000" },
		{ "http://10.77.0.1:5000", "http", "10.77.0.1:5000" },
		{ "https://registry.example.com", "https", "registry.example.com" },
		{ "[::1]:5000", "", "[::1]:5000" },
		{ "localhost", "", "localhost" },
	};
	static const char *const bad[] = {
		"", "http://", "reg:", "reg:0", "reg:99999", "reg:50a",
		"reg/path", "http://reg/v2", "-reg", "reg;rm -rf /", "a b",
		"ftp://reg", "user@reg", "reg:5000:1", "[::1", "$(id)",
	};
	char *scheme, *host;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		assert_int_equal(reg_spec_parse(ok[i].spec, &scheme, &host), 0);
		assert_string_equal(scheme, ok[i].scheme);
		assert_string_equal(host, ok[i].host);
		free(scheme);
		free(host);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (reg_spec_parse(bad[i], &scheme, &host) == 0)
			fail_msg("accepted --registry \"%s\"", bad[i]);
		assert_null(scheme);
		assert_null(host);
	}
}

static void layer_types(void **state)
{
	(void)state;
	assert_int_equal(reg_layer_type("application/vnd.docker.image.rootfs."
					"diff.tar.gzip"), 1);
	assert_int_equal(reg_layer_type("application/vnd.oci.image.layer.v1."
					"tar+zstd"), 1);
	assert_int_equal(reg_layer_type("application/vnd.docker.image.rootfs."
					"foreign.diff.tar.gzip"), 0);
	assert_int_equal(reg_layer_type("application/vnd.oci.image.layer."
					"nondistributable.v1.tar+gzip"), 0);
	assert_int_equal(reg_layer_type("text/plain"), -1);
	assert_int_equal(reg_layer_type(""), -1);
	assert_int_equal(reg_layer_type(NULL), -1);
}

static void digests(void **state)
{
	(void)state;
	assert_true(reg_digest_ok(D1));
	assert_false(reg_digest_ok("sha256:" "ABCDEF1111111111111111111111111111"
				   "111111111111111111111111111111"));
	assert_false(reg_digest_ok("sha512:1111"));
	assert_false(reg_digest_ok(D1 "1"));
	assert_false(reg_digest_ok(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(docker_v2_manifest),
		cmocka_unit_test(oci_manifest_without_media_type),
		cmocka_unit_test(lists_pick_the_platform),
		cmocka_unit_test(bad_manifests_are_refused),
		cmocka_unit_test(config_diff_ids),
		cmocka_unit_test(challenges),
		cmocka_unit_test(registry_specs),
		cmocka_unit_test(layer_types),
		cmocka_unit_test(digests),
	};

	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
