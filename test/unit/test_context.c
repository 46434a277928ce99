/*
 * test_context.c - the source engine is resolved as the Docker CLI does:
 * the order of --context, -H, DOCKER_HOST, DOCKER_CONTEXT and
 * currentContext, the context store on disk, TLS files, host syntax.
 * Every test has its own config directory and a hand-filled environment.
 */
#include "unit.h"

#include "context.h"

#define SHA256_DEFAULT \
	"37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f"
#define SHA256_EMPTY \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct fx {
	char *cfg;			/* the config directory */
	struct globalopts g;
	struct docker_env env;
	struct endpoint ep;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	f->cfg = unit_mkdtemp();
	f->g.config_dir = f->cfg;
	/* nothing from the process: HOME points nowhere useful */
	f->env.home = "/nonexistent";
	dm_clear_error();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	endpoint_release(&f->ep);
	strlist_clear(&f->g.hosts);
	unit_rmtree(f->cfg);
	free(f);
	return 0;
}

/* contexts/meta/<sha256 of name>/meta.json with a docker endpoint. */
static void add_context(struct fx *f, const char *name, const char *host,
			int skip_tls_verify)
{
	char hex[65], *rel, *json;

	sha256_hex(name, strlen(name), hex);
	rel = xasprintf("contexts/meta/%s/meta.json", hex);
	json = xasprintf("{\"Name\":\"%s\",\"Metadata\":{},\"Endpoints\":"
			 "{\"docker\":{\"Host\":\"%s\",\"SkipTLSVerify\":%s}}}",
			 name, host, skip_tls_verify ? "true" : "false");
	free(unit_write(f->cfg, rel, json));
	free(json);
	free(rel);
}

/* contexts/tls/<sha256 of name>/docker/<file>. */
static char *add_context_tls(struct fx *f, const char *name, const char *file)
{
	char hex[65], *rel, *path;

	sha256_hex(name, strlen(name), hex);
	rel = xasprintf("contexts/tls/%s/docker/%s", hex, file);
	path = unit_write(f->cfg, rel, "-----BEGIN CERTIFICATE-----\n");
	free(rel);
	return path;
}

static void set_current_context(struct fx *f, const char *name)
{
	char *json = xasprintf("{\"auths\":{},\"currentContext\":\"%s\"}",
			       name);

	free(unit_write(f->cfg, "config.json", json));
	free(json);
}

static int resolve(struct fx *f)
{
	return endpoint_resolve(&f->g, &f->env, &f->ep);
}

static void expect(struct fx *f, const char *context, const char *host)
{
	if (resolve(f) < 0)
		fail_msg("endpoint_resolve: %s", dm_errmsg());
	assert_string_equal(f->ep.context, context);
	assert_string_equal(f->ep.host, host);
}

/* ------------------------------------------------------------------ */

static void sha256_hex_of_default_is_the_store_directory(void **state)
{
	char hex[65];

	(void)state;
	sha256_hex("default", 7, hex);
	assert_string_equal(hex, SHA256_DEFAULT);
	sha256_hex("", 0, hex);
	assert_string_equal(hex, SHA256_EMPTY);
}

static void nothing_set_gives_the_default_socket(void **state)
{
	struct fx *f = *state;

	expect(f, "default", "unix:///var/run/docker.sock");
	assert_int_equal(f->ep.tls, 0);
	assert_null(f->ep.ca);
}

static void host_flag_gives_the_default_context(void **state)
{
	struct fx *f = *state;

	strlist_add(&f->g.hosts, "tcp://10.0.0.5:2375");
	expect(f, "default", "tcp://10.0.0.5:2375");
}

static void two_host_flags_are_an_error(void **state)
{
	struct fx *f = *state;

	strlist_add(&f->g.hosts, "tcp://a:1");
	strlist_add(&f->g.hosts, "tcp://b:1");
	assert_int_equal(resolve(f), -1);
	assert_contains(dm_errmsg(), "-H");
}

static void docker_host_gives_the_default_context(void **state)
{
	struct fx *f = *state;

	f->env.docker_host = "ssh://me@build1";
	expect(f, "default", "ssh://me@build1");
}

static void context_flag_reads_the_store(void **state)
{
	struct fx *f = *state;

	add_context(f, "n1", "ssh://root@node1", 0);
	f->g.context = "n1";
	expect(f, "n1", "ssh://root@node1");
	assert_int_equal(f->ep.tls, 0);
	assert_null(f->ep.ca);
	assert_null(f->ep.cert);
	assert_null(f->ep.key);
}

static void docker_context_reads_the_store(void **state)
{
	struct fx *f = *state;

	add_context(f, "n1", "ssh://root@node1", 0);
	f->env.docker_context = "n1";
	expect(f, "n1", "ssh://root@node1");
}

static void current_context_of_config_json_is_used(void **state)
{
	struct fx *f = *state;

	add_context(f, "n1", "ssh://root@node1", 0);
	set_current_context(f, "n1");
	expect(f, "n1", "ssh://root@node1");
}

static void config_dir_comes_from_docker_config_without_flag(void **state)
{
	struct fx *f = *state;

	add_context(f, "n1", "ssh://root@node1", 0);
	set_current_context(f, "n1");
	f->g.config_dir = NULL;
	f->env.docker_config = f->cfg;
	expect(f, "n1", "ssh://root@node1");
}

static void config_dir_order_is_flag_env_home(void **state)
{
	struct globalopts g = { 0 };
	struct docker_env env = { 0 };
	char *d;

	(void)state;
	env.home = "/home/u";
	d = docker_config_dir(&g, &env);
	assert_string_equal(d, "/home/u/.docker");
	free(d);
	env.docker_config = "/etc/dockercfg";
	d = docker_config_dir(&g, &env);
	assert_string_equal(d, "/etc/dockercfg");
	free(d);
	g.config_dir = "/opt/cfg";
	d = docker_config_dir(&g, &env);
	assert_string_equal(d, "/opt/cfg");
	free(d);
}

static void context_flag_with_host_flag_conflicts(void **state)
{
	struct fx *f = *state;

	add_context(f, "n1", "ssh://root@node1", 0);
	f->g.context = "n1";
	strlist_add(&f->g.hosts, "tcp://h:2375");
	assert_int_equal(resolve(f), -1);
	assert_contains(dm_errmsg(), "conflicting options");
}

static void context_flag_beats_docker_host_and_docker_context(void **state)
{
	struct fx *f = *state;

	add_context(f, "n1", "ssh://root@node1", 0);
	add_context(f, "n2", "ssh://root@node2", 0);
	f->g.context = "n1";
	f->env.docker_host = "tcp://h:2375";
	f->env.docker_context = "n2";
	set_current_context(f, "n2");
	expect(f, "n1", "ssh://root@node1");
}

static void host_flag_beats_docker_context(void **state)
{
	struct fx *f = *state;

	add_context(f, "n1", "ssh://root@node1", 0);
	strlist_add(&f->g.hosts, "tcp://h:2375");
	f->env.docker_context = "n1";
	expect(f, "default", "tcp://h:2375");
}

static void host_flag_beats_docker_host(void **state)
{
	struct fx *f = *state;

	strlist_add(&f->g.hosts, "tcp://flag:2375");
	f->env.docker_host = "tcp://env:2375";
	expect(f, "default", "tcp://flag:2375");
}

static void docker_host_beats_docker_context(void **state)
{
	struct fx *f = *state;

	add_context(f, "n1", "ssh://root@node1", 0);
	f->env.docker_host = "tcp://h:2375";
	f->env.docker_context = "n1";
	expect(f, "default", "tcp://h:2375");
}

static void docker_host_beats_current_context(void **state)
{
	struct fx *f = *state;

	add_context(f, "n1", "ssh://root@node1", 0);
	set_current_context(f, "n1");
	f->env.docker_host = "tcp://h:2375";
	expect(f, "default", "tcp://h:2375");
}

static void docker_context_beats_current_context(void **state)
{
	struct fx *f = *state;

	add_context(f, "n1", "ssh://root@node1", 0);
	add_context(f, "n2", "ssh://root@node2", 0);
	set_current_context(f, "n1");
	f->env.docker_context = "n2";
	expect(f, "n2", "ssh://root@node2");
}

static void docker_context_default_overrides_current_context(void **state)
{
	struct fx *f = *state;

	add_context(f, "n1", "ssh://root@node1", 0);
	set_current_context(f, "n1");
	f->env.docker_context = "default";
	expect(f, "default", "unix:///var/run/docker.sock");
}

static void unknown_context_error_names_it(void **state)
{
	struct fx *f = *state;

	f->g.context = "nope";
	assert_int_equal(resolve(f), -1);
	assert_contains(dm_errmsg(), "\"nope\"");
	assert_contains(dm_errmsg(), "does not exist");
	assert_null(f->ep.host);
}

static void malformed_config_json_is_an_error(void **state)
{
	struct fx *f = *state;

	free(unit_write(f->cfg, "config.json", "{\"currentContext\": \"n1\""));
	assert_int_equal(resolve(f), -1);
	assert_contains(dm_errmsg(), "config.json");
	assert_null(f->ep.host);
}

static void empty_config_json_means_no_current_context(void **state)
{
	struct fx *f = *state;

	free(unit_write(f->cfg, "config.json", ""));
	expect(f, "default", "unix:///var/run/docker.sock");
}

static void malformed_meta_json_is_an_error(void **state)
{
	struct fx *f = *state;
	char hex[65], *rel;

	sha256_hex("n1", 2, hex);
	rel = xasprintf("contexts/meta/%s/meta.json", hex);
	free(unit_write(f->cfg, rel, "{\"Name\":\"n1\",\"Endpoints\":{"));
	free(rel);
	f->g.context = "n1";
	assert_int_equal(resolve(f), -1);
	assert_contains(dm_errmsg(), "meta.json");
	assert_null(f->ep.host);
}

static void meta_json_without_docker_endpoint_is_an_error(void **state)
{
	struct fx *f = *state;
	char hex[65], *rel;

	sha256_hex("n1", 2, hex);
	rel = xasprintf("contexts/meta/%s/meta.json", hex);
	free(unit_write(f->cfg, rel, "{\"Name\":\"n1\",\"Metadata\":{},"
			"\"Endpoints\":{\"kubernetes\":{}}}"));
	free(rel);
	f->g.context = "n1";
	assert_int_equal(resolve(f), -1);
	assert_contains(dm_errmsg(), "n1");
	assert_null(f->ep.host);
}

static void context_with_tls_files_speaks_verified_tls(void **state)
{
	struct fx *f = *state;
	char *ca, *cert, *key;

	add_context(f, "secure", "tcp://node3:2376", 0);
	ca = add_context_tls(f, "secure", "ca.pem");
	cert = add_context_tls(f, "secure", "cert.pem");
	key = add_context_tls(f, "secure", "key.pem");
	f->g.context = "secure";
	expect(f, "secure", "tcp://node3:2376");
	assert_int_equal(f->ep.tls, 1);
	assert_int_equal(f->ep.tls_verify, 1);
	assert_string_equal(f->ep.ca, ca);
	assert_string_equal(f->ep.cert, cert);
	assert_string_equal(f->ep.key, key);
	free(ca);
	free(cert);
	free(key);
}

static void context_with_skip_tls_verify_does_not_verify(void **state)
{
	struct fx *f = *state;

	add_context(f, "lax", "tcp://node3:2376", 1);
	free(add_context_tls(f, "lax", "ca.pem"));
	free(add_context_tls(f, "lax", "cert.pem"));
	free(add_context_tls(f, "lax", "key.pem"));
	f->g.context = "lax";
	expect(f, "lax", "tcp://node3:2376");
	assert_int_equal(f->ep.tls, 1);
	assert_int_equal(f->ep.tls_verify, 0);
}

static void default_context_tlsverify_uses_docker_cert_path(void **state)
{
	struct fx *f = *state;
	char *certs = xasprintf("%s/certs", f->cfg);
	char *ca = unit_write(certs, "ca.pem", "x");
	char *cert = unit_write(certs, "cert.pem", "x");
	char *key = unit_write(certs, "key.pem", "x");

	f->g.tlsverify = 1;
	f->g.tlsverify_set = 1;
	f->env.docker_host = "tcp://node4:2376";
	f->env.docker_cert_path = certs;
	expect(f, "default", "tcp://node4:2376");
	assert_int_equal(f->ep.tls, 1);
	assert_int_equal(f->ep.tls_verify, 1);
	assert_string_equal(f->ep.ca, ca);
	assert_string_equal(f->ep.cert, cert);
	assert_string_equal(f->ep.key, key);
	free(ca);
	free(cert);
	free(key);
	free(certs);
}

static void default_context_docker_tls_verify_env_turns_tls_on(void **state)
{
	struct fx *f = *state;
	char *ca = unit_write(f->cfg, "ca.pem", "x");

	f->env.docker_host = "tcp://node4:2376";
	f->env.docker_tls_verify = "1";
	expect(f, "default", "tcp://node4:2376");
	assert_int_equal(f->ep.tls, 1);
	assert_int_equal(f->ep.tls_verify, 1);
	/* no DOCKER_CERT_PATH: the config directory; absent files unused */
	assert_string_equal(f->ep.ca, ca);
	assert_null(f->ep.cert);
	assert_null(f->ep.key);
	free(ca);
}

static void default_context_tls_without_verify(void **state)
{
	struct fx *f = *state;

	f->g.tls = 1;
	strlist_add(&f->g.hosts, "tcp://node4:2376");
	f->g.tlscacert = "/given/ca.pem";
	expect(f, "default", "tcp://node4:2376");
	assert_int_equal(f->ep.tls, 1);
	assert_int_equal(f->ep.tls_verify, 0);
	/* a path given by flag is kept even when it does not exist */
	assert_string_equal(f->ep.ca, "/given/ca.pem");
}

static void tlsverify_false_given_explicitly_still_speaks_tls(void **state)
{
	struct fx *f = *state;

	f->g.tlsverify = 0;
	f->g.tlsverify_set = 1;
	f->env.docker_tls_verify = "1";
	strlist_add(&f->g.hosts, "tcp://node4:2376");
	expect(f, "default", "tcp://node4:2376");
	assert_int_equal(f->ep.tls, 1);
	assert_int_equal(f->ep.tls_verify, 0);
}

static void normalized(const char *in, int tls, const char *want)
{
	char *got = docker_host_normalize(in, tls);

	if (!got)
		fail_msg("docker_host_normalize(\"%s\"): %s", in, dm_errmsg());
	if (strcmp(got, want) != 0)
		fail_msg("docker_host_normalize(\"%s\", %d) = \"%s\", want "
			 "\"%s\"", in, tls, got, want);
	free(got);
}

static void host_normalize_adds_default_ports(void **state)
{
	(void)state;
	normalized("tcp://h", 0, "tcp://h:2375");
	normalized("tcp://h", 1, "tcp://h:2375");	/* ParseTCPAddr: always 2375 */
	normalized("tcp://h:1234", 1, "tcp://h:1234");
	normalized("h:1234", 0, "tcp://h:1234");
	normalized("h", 0, "tcp://h:2375");
	normalized("tcp://:2380", 0, "tcp://localhost:2380");
	normalized("tcp://", 0, "tcp://localhost:2375");
	normalized("tcp://[::1]", 0, "tcp://[::1]:2375");
	normalized("tcp://[::1]:99", 0, "tcp://[::1]:99");
	normalized("tcp://h:2375/", 0, "tcp://h:2375");
	normalized("  tcp://h:2375  ", 0, "tcp://h:2375");
}

static void host_normalize_unix_and_ssh(void **state)
{
	(void)state;
	normalized("/var/run/x.sock", 0, "unix:///var/run/x.sock");
	normalized("unix:///run/user/1000/docker.sock", 0,
		   "unix:///run/user/1000/docker.sock");
	normalized("unix://", 0, "unix:///var/run/docker.sock");
	normalized("", 0, "unix:///var/run/docker.sock");
	normalized(NULL, 0, "unix:///var/run/docker.sock");
	normalized("ssh://root@node1:2222", 0, "ssh://root@node1:2222");
}

static void host_normalize_rejects_other_protocols(void **state)
{
	(void)state;
	dm_clear_error();
	assert_null(docker_host_normalize("http://x", 0));
	assert_contains(dm_errmsg(), "http://x");
}

static void bad_docker_host_fails_resolution(void **state)
{
	struct fx *f = *state;

	f->env.docker_host = "http://x";
	assert_int_equal(resolve(f), -1);
	assert_contains(dm_errmsg(), "http://x");
	assert_null(f->ep.host);
	assert_null(f->ep.context);
}

static void context_name_resolve_needs_no_store(void **state)
{
	struct globalopts g = { 0 };
	struct docker_env env = { 0 };
	char *n;

	(void)state;
	assert_null(context_name_resolve(&g, &env));
	env.docker_context = "c2";
	n = context_name_resolve(&g, &env);
	assert_string_equal(n, "c2");
	free(n);
	env.docker_host = "tcp://h:1";
	n = context_name_resolve(&g, &env);
	assert_string_equal(n, "default");
	free(n);
	g.context = "c1";
	n = context_name_resolve(&g, &env);
	assert_string_equal(n, "c1");
	free(n);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sha256_hex_of_default_is_the_store_directory),
		T(nothing_set_gives_the_default_socket),
		T(host_flag_gives_the_default_context),
		T(two_host_flags_are_an_error),
		T(docker_host_gives_the_default_context),
		T(context_flag_reads_the_store),
		T(docker_context_reads_the_store),
		T(current_context_of_config_json_is_used),
		T(config_dir_comes_from_docker_config_without_flag),
		cmocka_unit_test(config_dir_order_is_flag_env_home),
		T(context_flag_with_host_flag_conflicts),
		T(context_flag_beats_docker_host_and_docker_context),
		T(host_flag_beats_docker_context),
		T(host_flag_beats_docker_host),
		T(docker_host_beats_docker_context),
		T(docker_host_beats_current_context),
		T(docker_context_beats_current_context),
		T(docker_context_default_overrides_current_context),
		T(unknown_context_error_names_it),
		T(malformed_config_json_is_an_error),
		T(empty_config_json_means_no_current_context),
		T(malformed_meta_json_is_an_error),
		T(meta_json_without_docker_endpoint_is_an_error),
		T(context_with_tls_files_speaks_verified_tls),
		T(context_with_skip_tls_verify_does_not_verify),
		T(default_context_tlsverify_uses_docker_cert_path),
		T(default_context_docker_tls_verify_env_turns_tls_on),
		T(default_context_tls_without_verify),
		T(tlsverify_false_given_explicitly_still_speaks_tls),
		cmocka_unit_test(host_normalize_adds_default_ports),
		cmocka_unit_test(host_normalize_unix_and_ssh),
		cmocka_unit_test(host_normalize_rejects_other_protocols),
		T(bad_docker_host_fails_resolution),
		cmocka_unit_test(context_name_resolve_needs_no_store),
	};

	return cmocka_run_group_tests_name("context", tests, NULL, NULL);
}
