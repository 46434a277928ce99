/*
 * test_regressions.c - bugs found by review, each with the input that
 * showed it: they stay fixed.
 */
#include "unit.h"

#include <pthread.h>
#include <sched.h>

#include "context.h"
#include "json.h"
#include "record.h"
#include "recreate.h"

/* A scratch config directory, removed even when a test fails. */
static int setup_dir(void **state)
{
	*state = unit_mkdtemp();
	return 0;
}

static int teardown_dir(void **state)
{
	unit_rmtree(*state);
	return 0;
}

/* ------------------------------------------------------------------ */
/* recreate.c                                                          */

static yajl_val load(const char *fixture)
{
	char *text = unit_fixture(fixture);
	yajl_val v = json_parse(text, strlen(text), fixture);

	if (!v)
		fail_msg("%s", dm_errmsg());
	free(text);
	return v;
}

/*
 * fixed: recreate.c gen_networking(): engines before API 1.44 report a
 * container run without --network as NetworkMode "default" while its
 * network is listed as "bridge" in NetworkSettings.Networks.  "bridge"
 * then differs from the mode and lands in extra_nets, so the migration
 * POSTs /networks/bridge/connect for a container that the create already
 * put on bridge, which the engine refuses (endpoint already exists).
 */
static void default_network_mode_is_the_bridge_network(void **state)
{
	yajl_val ins = load("container_default_net.json");
	struct recreate_in in = { .inspect = ins, .image = "busybox:1.36" };
	struct recreate_out out;

	(void)state;
	assert_int_equal(recreate_plan(&in, &out), 0);
	assert_int_equal(out.networks.n, 0);
	if (out.extra_nets.n)
		fail_msg("extra_nets has \"%s\": it would be connected twice",
			 out.extra_nets.v[0]);
	recreate_out_release(&out);
	yajl_tree_free(ins);
}

/*
 * fixed: recreate.c gen_host_config(): with drop_unmovable, NetworkMode,
 * IpcMode and PidMode "container:db" are listed in `dropped` but still
 * copied into the create body, so the destination's create/start fails
 * ("No such container: db") or, worse, joins an unrelated container
 * that happens to be called db there.  A dropped item must leave the
 * body, as dropped devices, links and missing binds do.
 */
static void dropped_container_modes_leave_the_body(void **state)
{
	static const char *keys[] = { "NetworkMode", "IpcMode", "PidMode" };
	yajl_val ins = load("container_unmovable.json"), body;
	struct recreate_in in = { .inspect = ins, .image = "busybox:1.36",
				  .drop_unmovable = 1 };
	struct recreate_out out;

	(void)state;
	assert_int_equal(recreate_plan(&in, &out), 0);
	assert_true(unit_list_has(&out.dropped, "network mode"));
	body = json_parse(out.body, strlen(out.body), "create body");
	assert_non_null(body);
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		const char *mode = json_str(body, "HostConfig", keys[i], NULL);

		if (dm_starts_with(mode, "container:"))
			fail_msg("dropped, but the body still has %s \"%s\"",
				 keys[i], mode);
	}
	yajl_tree_free(body);
	recreate_out_release(&out);
	yajl_tree_free(ins);
}

/* ------------------------------------------------------------------ */
/* context.c                                                           */

/*
 * fixed: context.c docker_host_normalize(): with TLS and no host, the
 * CLI's ParseHost(defaultToTLS, "") gives DefaultTLSHost
 * "tcp://localhost:2376"; this returns the unix socket.  So
 * "DOCKER_TLS_VERIFY=1 docker migrate ..." (or --tlsverify) without -H
 * or DOCKER_HOST reads another engine than "docker ps" lists.
 */
static void tls_without_host_defaults_to_localhost_2376(void **state)
{
	char *h = docker_host_normalize("", 1);
	struct globalopts g = { 0 };
	struct docker_env env = { 0 };
	struct endpoint ep;
	char *cfg = *state;

	assert_string_equal(h, "tcp://localhost:2376");
	free(h);
	g.config_dir = cfg;
	env.docker_tls_verify = "1";
	assert_int_equal(endpoint_resolve(&g, &env, &ep), 0);
	assert_string_equal(ep.host, "tcp://localhost:2376");
	endpoint_release(&ep);
}

/*
 * fixed: context.c docker_host_normalize(): the CLI trims the value first
 * and treats what is left empty as no host (the unix socket); here a
 * blank DOCKER_HOST ("  ") becomes "tcp://localhost:2375".
 */
static void blank_host_is_the_default_socket(void **state)
{
	char *h = docker_host_normalize("  ", 0);

	(void)state;
	assert_string_equal(h, "unix:///var/run/docker.sock");
	free(h);
}

/*
 * fixed: context.c default_port_host(): the CLI's ParseTCPAddr fills an
 * empty port with the default one ("tcp://h:" -> "tcp://h:2375"); this
 * returns "tcp://h:" unchanged, which libcurl cannot connect to.
 */
static void empty_port_gets_the_default_port(void **state)
{
	char *h = docker_host_normalize("tcp://h:", 0);

	(void)state;
	assert_non_null(h);
	assert_string_equal(h, "tcp://h:2375");
	free(h);
}

/* ------------------------------------------------------------------ */
/* record.c                                                            */

/*
 * fixed: record.c load_one()/record_load_all(): a history file that is
 * JSON but not a record ("{}", "[1,2]", "null") is listed as a record
 * with id "?" and kind "", without a warning: load_one() fills kind with
 * xstrdup(json_str(...)), and xstrdup(NULL) returns "", so the
 * "if ((*out)[*n].kind)" test that should skip it never fails.
 */
static void non_record_json_files_are_skipped(void **state)
{
	char *cfg = *state;
	struct migration m, *all;
	size_t n;

	assert_int_equal(record_begin(&m, cfg, "image", "alpine", "a", "b",
				      "save"), 0);
	free(unit_write(cfg, "migrate/history/aaaaaaaaaaaaaaaa.json", "{}"));
	free(unit_write(cfg, "migrate/history/bbbbbbbbbbbbbbbb.json",
			"[1,2]"));
	free(unit_write(cfg, "migrate/history/cccccccccccccccc.json", "null"));
	assert_int_equal(record_load_all(cfg, &all, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(all[i].id, m.id) != 0)
			fail_msg("a record \"%s\" of kind \"%s\" was loaded "
				 "from a file that is not one", all[i].id,
				 all[i].kind);
	assert_int_equal(n, 1);
	for (size_t i = 0; i < n; i++)
		record_release(&all[i]);
	free(all);
	record_release(&m);
}

/* ------------------------------------------------------------------ */
/* opt.c                                                               */

static int quiet;
static const struct opt opts[] = {
	OPT_BOOL('q', "quiet", &quiet, "Only print errors"),
	OPT_END(),
};

/*
 * fixed: opt.c parse_short(): pflag (and cobra's help flag) treat an 'h'
 * inside a group of short flags as a request for help ("-qh" prints
 * the help); here it is "unknown shorthand flag: 'h' in -qh".
 */
static void help_inside_a_short_group_asks_for_help(void **state)
{
	char *argv[] = { "-qh", NULL };
	int nargs;

	(void)state;
	assert_int_equal(opt_parse(1, argv, opts, 0, &nargs), OPT_HELP);
}

/* ------------------------------------------------------------------ */
/* util.c                                                              */

static void *cancel_from_a_thread(void *arg)
{
	(void)arg;
	dm_cancel();
	return NULL;
}

/*
 * fixed: util.c: the cancellation flag was a volatile sig_atomic_t that
 * the thread watching the CLI's plugin socket set while the main thread
 * read it: a data race, which "make SANITIZE=thread" reports here (the
 * test then exits 66).
 */
static void a_cancellation_from_another_thread_is_seen(void **state)
{
	pthread_t t;

	(void)state;
	dm_cancel_reset();
	assert_false(dm_cancelled());
	assert_int_equal(pthread_create(&t, NULL, cancel_from_a_thread, NULL), 0);
	while (!dm_cancelled())
		sched_yield();
	assert_int_equal(pthread_join(t, NULL), 0);
	dm_cancel_reset();
	assert_false(dm_cancelled());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_network_mode_is_the_bridge_network),
		cmocka_unit_test(dropped_container_modes_leave_the_body),
		cmocka_unit_test_setup_teardown(
			tls_without_host_defaults_to_localhost_2376,
			setup_dir, teardown_dir),
		cmocka_unit_test(blank_host_is_the_default_socket),
		cmocka_unit_test(empty_port_gets_the_default_port),
		cmocka_unit_test_setup_teardown(
			non_record_json_files_are_skipped,
			setup_dir, teardown_dir),
		cmocka_unit_test(help_inside_a_short_group_asks_for_help),
		cmocka_unit_test(a_cancellation_from_another_thread_is_seen),
	};

	return cmocka_run_group_tests_name("bugs", tests, NULL, NULL);
}
