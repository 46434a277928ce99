/*
 * test_recreate.c - from a source's "docker inspect" (fixtures/) to the
 * body of POST /containers/create: everything the user set is kept, what
 * only made sense on the source is left out, and what cannot move is
 * named.  The produced JSON is parsed back and checked field by field.
 */
#include "unit.h"

#include "json.h"
#include "recreate.h"

struct fx {
	yajl_val ins;		/* the fixture's inspect */
	struct strlist missing;	/* bind sources absent at the destination */
	struct recreate_out out;
	int ret;
	yajl_val body;		/* out.body parsed */
};

static int setup(void **state)
{
	*state = xcalloc(1, sizeof(struct fx));
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	yajl_tree_free(f->ins);
	yajl_tree_free(f->body);
	strlist_clear(&f->missing);
	recreate_out_release(&f->out);
	free(f);
	return 0;
}

static yajl_val load(const char *fixture)
{
	char *text = unit_fixture(fixture);
	yajl_val v = json_parse(text, strlen(text), fixture);

	if (!v)
		fail_msg("%s", dm_errmsg());
	free(text);
	return v;
}

static void plan_binds(struct fx *f, const char *fixture, int drop, int carry,
		       int bind_mode)
{
	struct recreate_in in;

	f->ins = load(fixture);
	in = (struct recreate_in){ .inspect = f->ins,
				   .image = "registry.example/web:v2",
				   .missing_binds = &f->missing,
				   .drop_unmovable = drop,
				   .carry_volumes = carry,
				   .bind_mode = bind_mode };
	f->ret = recreate_plan(&in, &f->out);
	assert_non_null(f->out.body);
	f->body = json_parse(f->out.body, strlen(f->out.body), "create body");
	if (!f->body)
		fail_msg("the create body is not JSON: %s\n%s", dm_errmsg(),
			 f->out.body);
}

/* The plan for a destination spoken to in API version api. */
static void plan_for(struct fx *f, const char *fixture, int drop,
		     const char *api)
{
	struct recreate_in in;

	f->ins = load(fixture);
	in = (struct recreate_in){ .inspect = f->ins, .image = "app:1",
				   .missing_binds = &f->missing,
				   .drop_unmovable = drop, .carry_volumes = 1,
				   .dst_api = api };
	f->ret = recreate_plan(&in, &f->out);
	f->body = json_parse(f->out.body, strlen(f->out.body), "create body");
	assert_non_null(f->body);
}

static void plan_carry(struct fx *f, const char *fixture, int drop, int carry)
{
	plan_binds(f, fixture, drop, carry, BIND_REFUSE);
}

static void plan(struct fx *f, const char *fixture, int drop)
{
	plan_carry(f, fixture, drop, 0);
}

static void assert_same_json(yajl_val got, yajl_val want, const char *what)
{
	char *a = json_text(got), *b = json_text(want);

	if (!got || strcmp(a, b) != 0)
		fail_msg("%s: got %s, want %s", what, got ? a : "(absent)", b);
	free(a);
	free(b);
}

static void assert_json_text(yajl_val got, const char *want, const char *what)
{
	yajl_val w = json_parse(want, strlen(want), "expected");

	assert_non_null(w);
	assert_same_json(got, w, what);
	yajl_tree_free(w);
}

/* ------------------------------------------------------------------ */

static void config_keeps_every_field_but_image_and_default_hostname(
	void **state)
{
	struct fx *f = *state;
	yajl_val src;

	plan(f, "container_web.json", 0);
	src = json_get(f->ins, "Config", NULL);
	for (size_t i = 0; i < json_olen(src); i++) {
		const char *k = src->u.object.keys[i];

		if (strcmp(k, "Image") == 0 || strcmp(k, "Hostname") == 0)
			continue;
		assert_same_json(json_get(f->body, k, NULL),
				 src->u.object.values[i], k);
	}
	assert_string_equal(json_str(f->body, "Image", NULL),
			    "registry.example/web:v2");
	/* "0123456789ab" is the id's prefix: the engine's, not the user's */
	assert_null(json_get(f->body, "Hostname", NULL));
	/* Config fields, HostConfig and NetworkingConfig: nothing else */
	assert_int_equal(json_olen(f->body), json_olen(src) - 1 + 2);
}

static void config_keeps_a_hostname_the_user_chose(void **state)
{
	struct fx *f = *state;

	/* 12 characters like an id prefix, but not this container's */
	plan(f, "container_named_host.json", 0);
	assert_int_equal(f->ret, 0);
	assert_string_equal(json_str(f->body, "Hostname", NULL),
			    "db-primary01");
	assert_string_equal(json_str(f->body, "Domainname", NULL),
			    "example.com");
}

static void body_has_none_of_the_source_state(void **state)
{
	static const char *gone[] = { "Id", "Name", "State", "Created", "Path",
				      "Args", "Mounts", "NetworkSettings",
				      "RestartCount" };
	struct fx *f = *state;

	plan(f, "container_web.json", 0);
	for (size_t i = 0; i < sizeof(gone) / sizeof(*gone); i++)
		if (json_get(f->body, gone[i], NULL))
			fail_msg("the create body has %s", gone[i]);
}

static void host_config_is_copied_except_container_id_file(void **state)
{
	struct fx *f = *state;
	yajl_val src, hc;

	plan(f, "container_web.json", 0);
	src = json_get(f->ins, "HostConfig", NULL);
	hc = json_get(f->body, "HostConfig", NULL);
	assert_true(YAJL_IS_OBJECT(hc));
	for (size_t i = 0; i < json_olen(src); i++) {
		const char *k = src->u.object.keys[i];

		if (strcmp(k, "ContainerIDFile") == 0)
			continue;
		assert_same_json(json_get(hc, k, NULL),
				 src->u.object.values[i], k);
	}
	assert_null(json_get(hc, "ContainerIDFile", NULL));
	assert_int_equal(json_olen(hc), json_olen(src) - 1);
}

static void host_config_numbers_keep_their_exact_spelling(void **state)
{
	struct fx *f = *state;

	plan(f, "container_web.json", 0);
	assert_contains(f->out.body, "\"NanoCpus\":1e9");
	assert_contains(f->out.body, "\"PidsLimit\":123456789012345678");
	assert_contains(f->out.body, "\"Memory\":536870912");
}

static void movable_container_plans_without_problems(void **state)
{
	struct fx *f = *state;

	plan(f, "container_web.json", 0);
	assert_int_equal(f->ret, 0);
	assert_int_equal(f->out.problems.n, 0);
	assert_int_equal(f->out.dropped.n, 0);
}

static void primary_user_network_goes_into_endpoints_config(void **state)
{
	struct fx *f = *state;
	yajl_val eps, ep;

	plan(f, "container_web.json", 0);
	eps = json_get(f->body, "NetworkingConfig", "EndpointsConfig", NULL);
	assert_int_equal(json_olen(eps), 1);
	ep = json_get(eps, "appnet", NULL);
	assert_non_null(ep);
	/* the id alias is the engine's: it is made again at the destination */
	assert_json_text(json_get(ep, "Aliases", NULL), "[\"web\",\"frontend\"]",
			 "Aliases");
	assert_json_text(json_get(ep, "IPAMConfig", NULL),
			 "{\"IPv4Address\":\"10.5.0.10\"}", "IPAMConfig");
	/* what the source's engine chose does not travel */
	assert_null(json_get(ep, "IPAddress", NULL));
	assert_null(json_get(ep, "NetworkID", NULL));
	assert_null(json_get(ep, "EndpointID", NULL));
	assert_null(json_get(ep, "MacAddress", NULL));
	assert_null(json_get(ep, "Gateway", NULL));
}

static void other_networks_are_connected_after_create(void **state)
{
	struct fx *f = *state;
	yajl_val b, ep;

	plan(f, "container_web.json", 0);
	assert_int_equal(f->out.extra_nets.n, 1);
	assert_string_equal(f->out.extra_nets.v[0], "backnet");
	assert_int_equal(f->out.extra_bodies.n, 1);
	b = json_parse(f->out.extra_bodies.v[0],
		       strlen(f->out.extra_bodies.v[0]), "connect body");
	assert_non_null(b);
	assert_non_null(json_str(b, "Container", NULL));
	ep = json_get(b, "EndpointConfig", NULL);
	assert_true(YAJL_IS_OBJECT(ep));
	assert_json_text(json_get(ep, "Aliases", NULL), "[\"api\"]", "Aliases");
	assert_null(json_get(ep, "IPAMConfig", NULL));	/* null at source */
	assert_null(json_get(ep, "IPAddress", NULL));
	yajl_tree_free(b);
}

static void networks_lists_user_networks_primary_first(void **state)
{
	struct fx *f = *state;

	plan(f, "container_web.json", 0);
	assert_int_equal(f->out.networks.n, 2);
	assert_string_equal(f->out.networks.v[0], "appnet");
	assert_string_equal(f->out.networks.v[1], "backnet");
}

static void bridge_network_needs_nothing_created_or_connected(void **state)
{
	struct fx *f = *state;

	plan(f, "container_named_host.json", 0);
	assert_int_equal(f->out.networks.n, 0);
	assert_int_equal(f->out.extra_nets.n, 0);
	assert_int_equal(json_olen(json_get(f->body, "NetworkingConfig",
					   "EndpointsConfig", NULL)), 0);
	assert_string_equal(json_str(f->body, "HostConfig", "NetworkMode",
				     NULL), "bridge");
}

static void missing_list_of(struct fx *f)
{
	strlist_add(&f->missing, "/srv/missing");
	strlist_add(&f->missing, "/srv/missing2");
}

/* Each unmovable item, by a piece of text its entry must contain. */
static const char *const unmovable_items[] = {
	"network mode \"container:db\"",
	"IPC mode \"container:db\"",
	"PID mode \"container:db\"",
	"device /dev/fuse",
	"VolumesFrom \"data-ctr:ro\"",
	"Links \"/db:/sidecar/db\"",
	"bind mount \"/srv/missing:/m\"",
	"bind mount \"/srv/missing2:",
	"volume \"logs\" at /logs",
};
#define N_UNMOVABLE (sizeof(unmovable_items) / sizeof(*unmovable_items))

static void assert_each_item_once(const struct strlist *l)
{
	for (size_t i = 0; i < N_UNMOVABLE; i++)
		if (!unit_list_has(l, unmovable_items[i]))
			fail_msg("no entry names %s", unmovable_items[i]);
	assert_int_equal(l->n, N_UNMOVABLE);
	assert_false(unit_list_has(l, "/srv/present"));
	assert_false(unit_list_has(l, "/scratch"));
}

static void unmovable_items_each_become_a_problem(void **state)
{
	struct fx *f = *state;

	missing_list_of(f);
	plan(f, "container_unmovable.json", 0);
	assert_int_equal(f->ret, -1);
	assert_each_item_once(&f->out.problems);
	assert_int_equal(f->out.dropped.n, 0);
}

static void drop_unmovable_lists_them_as_dropped(void **state)
{
	struct fx *f = *state;

	missing_list_of(f);
	plan(f, "container_unmovable.json", 1);
	assert_int_equal(f->ret, 0);
	assert_int_equal(f->out.problems.n, 0);
	assert_each_item_once(&f->out.dropped);
}

static void dropped_items_leave_the_host_config(void **state)
{
	struct fx *f = *state;
	yajl_val hc;

	missing_list_of(f);
	plan(f, "container_unmovable.json", 1);
	hc = json_get(f->body, "HostConfig", NULL);
	assert_json_text(json_get(hc, "Binds", NULL),
			 "[\"/srv/present:/p:ro\",\"logs:/logs\"]", "Binds");
	assert_json_text(json_get(hc, "Mounts", NULL),
			 "[{\"Type\":\"tmpfs\",\"Target\":\"/scratch\"}]",
			 "Mounts");
	assert_null(json_get(hc, "Devices", NULL));
	assert_null(json_get(hc, "VolumesFrom", NULL));
	assert_null(json_get(hc, "Links", NULL));
	assert_json_text(json_get(hc, "Memory", NULL), "0", "Memory");
}

static void binds_present_at_the_destination_are_kept(void **state)
{
	struct fx *f = *state;

	/* nothing missing: only the container:, device, link and volume
	 * items remain problems */
	plan(f, "container_unmovable.json", 0);
	assert_int_equal(f->out.problems.n, N_UNMOVABLE - 2);
	assert_false(unit_list_has(&f->out.problems, "bind mount"));
	assert_json_text(json_get(f->body, "HostConfig", "Binds", NULL),
			 "[\"/srv/missing:/m\",\"/srv/present:/p:ro\","
			 "\"logs:/logs\"]", "Binds");
}

static void missing_binds_name_the_flag_that_moves_them(void **state)
{
	struct fx *f = *state;

	missing_list_of(f);
	plan(f, "container_unmovable.json", 0);
	assert_true(unit_list_has(&f->out.problems, "/srv/missing does not "
				  "exist at the destination (--bind-mounts copy"));
}

static void bind_mounts_copy_keeps_them_and_lists_their_paths(void **state)
{
	struct fx *f = *state;

	missing_list_of(f);
	plan_binds(f, "container_unmovable.json", 0, 0, BIND_COPY);
	assert_false(unit_list_has(&f->out.problems, "bind mount"));
	assert_int_equal(f->out.bind_copies.n, 2);
	assert_string_equal(f->out.bind_copies.v[0], "/srv/missing");
	assert_string_equal(f->out.bind_copies.v[1], "/srv/missing2");
	assert_json_text(json_get(f->body, "HostConfig", "Binds", NULL),
			 "[\"/srv/missing:/m\",\"/srv/present:/p:ro\","
			 "\"logs:/logs\"]", "Binds");
	assert_int_equal(f->out.bind_skipped.n, 0);
}

static void bind_mounts_skip_leaves_them_out_and_says_so(void **state)
{
	struct fx *f = *state;
	yajl_val hc;

	missing_list_of(f);
	plan_binds(f, "container_unmovable.json", 0, 0, BIND_SKIP);
	assert_false(unit_list_has(&f->out.problems, "bind mount"));
	assert_int_equal(f->out.bind_copies.n, 0);
	assert_int_equal(f->out.bind_skipped.n, 2);
	assert_true(unit_list_has(&f->out.bind_skipped, "/srv/missing:/m"));
	assert_true(unit_list_has(&f->out.bind_skipped, "/srv/missing2:"));
	hc = json_get(f->body, "HostConfig", NULL);
	assert_json_text(json_get(hc, "Binds", NULL),
			 "[\"/srv/present:/p:ro\",\"logs:/logs\"]", "Binds");
	assert_false(strstr(f->out.body, "/srv/missing"));
}

static void container_mode_network_is_not_a_user_network(void **state)
{
	struct fx *f = *state;

	missing_list_of(f);
	plan(f, "container_unmovable.json", 0);
	assert_int_equal(f->out.networks.n, 0);
	assert_int_equal(f->out.extra_nets.n, 0);
}

static void bind_sources_are_the_bind_mounts_host_paths(void **state)
{
	struct strlist l = { 0 };
	yajl_val ins = load("container_unmovable.json");

	(void)state;
	recreate_bind_sources(ins, &l);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0], "/srv/missing");
	assert_string_equal(l.v[1], "/srv/present");
	assert_string_equal(l.v[2], "/srv/missing2");
	strlist_clear(&l);
	yajl_tree_free(ins);
}

static void builtin_networks_are_known(void **state)
{
	(void)state;
	assert_true(network_is_builtin("bridge"));
	assert_true(network_is_builtin("host"));
	assert_true(network_is_builtin("none"));
	assert_true(network_is_builtin("default"));
	assert_false(network_is_builtin("appnet"));
	assert_false(network_is_builtin("bridge2"));
	assert_false(network_is_builtin(""));
}

/* With volumes carried: not a problem, listed, and an anonymous one (in
 * no Binds or Mounts of the HostConfig) is mounted by name. */
static void carried_volumes_are_listed_and_mounted_by_name(void **state)
{
	struct fx *f = *state;
	yajl_val mounts;
	int found = 0;

	plan_carry(f, "container_anon_volume.json", 0, 1);
	assert_int_equal(f->ret, 0);
	assert_int_equal(f->out.problems.n, 0);
	assert_int_equal(f->out.volumes.n, 2);
	assert_string_equal(f->out.volumes.v[0], "data");
	mounts = json_get(f->body, "HostConfig", "Mounts", NULL);
	for (size_t i = 0; i < json_alen(mounts); i++) {
		yajl_val m = mounts->u.array.values[i];

		/* the named one stays in Binds, not added twice */
		assert_false(dm_streq(json_str(m, "Target", NULL), "/data"));
		if (dm_streq(json_str(m, "Target", NULL), "/anon")) {
			assert_string_equal(json_str(m, "Source", NULL),
					    f->out.volumes.v[1]);
			assert_string_equal(json_str(m, "Type", NULL), "volume");
			assert_true(json_true(m, "ReadOnly", NULL));
			found++;
		}
	}
	assert_int_equal(found, 1);
	assert_json_text(json_get(f->body, "HostConfig", "Binds", NULL),
			 "[\"data:/data\"]", "Binds kept");
}

static void plan_inline(struct fx *f, const char *inspect, const char *src);

/* A read-write anonymous volume: in body_anon left to the engine (only
 * Config.Volumes names it), and named again on demand. */
static void anonymous_volumes_can_be_left_to_the_engine(void **state)
{
	struct fx *f = *state;
	yajl_val b, mounts;
	struct strlist targets = { 0 }, names = { 0 };
	char *named;

	plan_inline(f, "{\"Id\":\"0123456789abcdef\",\"Name\":\"/c\","
		    "\"Config\":{\"Volumes\":{\"/anon\":{}}},"
		    "\"HostConfig\":{\"NetworkMode\":\"bridge\"},"
		    "\"Mounts\":[{\"Type\":\"volume\",\"Name\":\"abc\","
		    "\"Destination\":\"/anon\",\"RW\":true}]}", NULL);
	assert_int_equal(f->out.anon.n, 1);
	assert_string_equal(f->out.anon.v[0], "abc");
	assert_string_equal(f->out.anon_targets.v[0], "/anon");
	/* body: mounted by name, as before */
	assert_contains(f->out.body, "\"Source\":\"abc\",\"Target\":\"/anon\"");
	assert_non_null(f->out.body_anon);
	b = json_parse(f->out.body_anon, strlen(f->out.body_anon), "body");
	assert_non_null(b);
	assert_int_equal(json_alen(json_get(b, "HostConfig", "Mounts", NULL)), 0);
	assert_non_null(json_get(b, "Volumes", "/anon", NULL));
	yajl_tree_free(b);
	strlist_add(&targets, "/anon");
	strlist_add(&names, "xyz");
	named = recreate_name_anonymous(f->out.body_anon, &targets, &names);
	b = json_parse(named, strlen(named), "named body");
	mounts = json_get(b, "HostConfig", "Mounts", NULL);
	assert_int_equal(json_alen(mounts), 1);
	assert_string_equal(json_str(mounts->u.array.values[0], "Source", NULL),
			    "xyz");
	assert_string_equal(json_str(mounts->u.array.values[0], "Target", NULL),
			    "/anon");
	yajl_tree_free(b);
	free(named);
	strlist_clear(&targets);
	strlist_clear(&names);
}

static void network_create_body_keeps_its_settings(void **state)
{
	yajl_val net = load("network_appnet.json"), body;
	char *s = network_create_body(net);

	(void)state;
	body = json_parse(s, strlen(s), "network body");
	assert_non_null(body);
	assert_string_equal(json_str(body, "Name", NULL), "appnet");
	assert_string_equal(json_str(body, "Driver", NULL), "bridge");
	assert_true(json_true(body, "Internal", NULL));
	assert_true(json_true(body, "Attachable", NULL));
	assert_true(YAJL_IS_FALSE(json_get(body, "EnableIPv6", NULL)));
	assert_same_json(json_get(body, "Options", NULL),
			 json_get(net, "Options", NULL), "Options");
	assert_same_json(json_get(body, "IPAM", NULL),
			 json_get(net, "IPAM", NULL), "IPAM");
	assert_same_json(json_get(body, "Labels", NULL),
			 json_get(net, "Labels", NULL), "Labels");
	/* the source's identity and members stay behind */
	assert_null(json_get(body, "Id", NULL));
	assert_null(json_get(body, "Created", NULL));
	assert_null(json_get(body, "Containers", NULL));
	yajl_tree_free(body);
	yajl_tree_free(net);
	free(s);
}

/* A container of dockerd 20.10 (its inspect at API 1.41, as the plugin
 * reads it) into dockerd 28 (spoken to in 1.43): what 20.10 filled in by
 * itself is left to the destination's own defaults. */
static void from_20_10_engine_defaults_are_left_to_the_destination(
	void **state)
{
	struct fx *f = *state;
	yajl_val hc, ep;

	plan_for(f, "container_2010_rich.json", 0, "1.43");
	assert_int_equal(f->ret, 0);
	hc = json_get(f->body, "HostConfig", NULL);
	assert_null(json_get(hc, "KernelMemory", NULL));
	assert_null(json_get(hc, "KernelMemoryTCP", NULL));
	assert_null(json_get(hc, "MaskedPaths", NULL));
	assert_null(json_get(hc, "ReadonlyPaths", NULL));
	/* what the user set stays */
	assert_contains(f->out.body, "\"Memory\":67108864");
	assert_json_text(json_get(hc, "CapAdd", NULL), "[\"CAP_NET_ADMIN\"]", "CapAdd");
	assert_json_text(json_get(hc, "Sysctls", NULL),
			 "{\"net.core.somaxconn\":\"1024\"}", "Sysctls");
	/* 20.10 added the id's prefix and the hostname to the aliases */
	ep = json_get(f->body, "NetworkingConfig", "EndpointsConfig", "dmnet",
		      NULL);
	assert_json_text(json_get(ep, "Aliases", NULL), "[\"web\"]", "Aliases");
	assert_string_equal(json_str(f->body, "Hostname", NULL), "richhost");
}

static void kernel_memory_is_kept_only_where_the_api_has_it(void **state)
{
	struct fx *f = *state;

	plan_for(f, "container_2010_kmem.json", 0, "1.41");
	assert_int_equal(f->ret, 0);
	assert_contains(f->out.body, "\"KernelMemory\":52428800");
	/* a list with a path of the user's is the user's: kept whole */
	assert_contains(f->out.body, "\"/srv/secret\"]");
	assert_non_null(json_get(f->body, "HostConfig", "MaskedPaths", NULL));
	assert_null(json_get(f->body, "HostConfig", "ReadonlyPaths", NULL));
}

static void kernel_memory_into_api_1_42_on_is_a_problem(void **state)
{
	struct fx *f = *state;

	plan_for(f, "container_2010_kmem.json", 0, "1.43");
	assert_int_equal(f->ret, -1);
	assert_int_equal(f->out.problems.n, 1);
	assert_contains(f->out.problems.v[0], "KernelMemory 52428800");
	assert_contains(f->out.problems.v[0], "API 1.43");
	assert_null(json_get(f->body, "HostConfig", "KernelMemory", NULL));
}

static void health_start_interval_needs_api_1_44(void **state)
{
	struct fx *f = *state;
	yajl_val hc;

	plan_for(f, "container_28_health.json", 0, "1.41");
	assert_int_equal(f->ret, -1);
	assert_int_equal(f->out.problems.n, 1);
	assert_contains(f->out.problems.v[0], "start interval (1000000000 ns)");
	recreate_out_release(&f->out);
	yajl_tree_free(f->ins);
	yajl_tree_free(f->body);

	/* --drop-unmovable: the rest of the healthcheck goes */
	plan_for(f, "container_28_health.json", 1, "1.41");
	assert_int_equal(f->ret, 0);
	assert_int_equal(f->out.dropped.n, 1);
	hc = json_get(f->body, "Healthcheck", NULL);
	assert_null(json_get(hc, "StartInterval", NULL));
	assert_json_text(hc, "{\"Test\":[\"CMD-SHELL\",\"true\"],"
			 "\"Interval\":30000000000,\"StartPeriod\":10000000000}",
			 "Healthcheck");
}

static void health_start_interval_travels_from_api_1_44(void **state)
{
	struct fx *f = *state;

	plan_for(f, "container_28_health.json", 0, "1.44");
	assert_int_equal(f->ret, 0);
	assert_int_equal(json_int(f->body, 0, "Healthcheck", "StartInterval",
				  NULL), 1000000000);
	recreate_out_release(&f->out);
	yajl_tree_free(f->ins);
	yajl_tree_free(f->body);
	/* no version known (a plan without a destination): no limit */
	plan_for(f, "container_28_health.json", 0, NULL);
	assert_int_equal(f->ret, 0);
}

static void volume_subpath_needs_api_1_45(void **state)
{
	struct fx *f = *state;

	plan_for(f, "container_28_subpath.json", 0, "1.41");
	assert_int_equal(f->ret, -1);
	assert_int_equal(f->out.problems.n, 1);
	assert_contains(f->out.problems.v[0], "subpath \"sub\"");
	assert_contains(f->out.problems.v[0], "mount the whole volume");
	recreate_out_release(&f->out);
	yajl_tree_free(f->ins);
	yajl_tree_free(f->body);
	plan_for(f, "container_28_subpath.json", 0, "1.51");
	assert_int_equal(f->ret, 0);
	assert_contains(f->out.body, "\"VolumeOptions\":{\"Subpath\":\"sub\"}");
}

/* The body for an inspect given inline, from a source host named src. */
static void plan_inline(struct fx *f, const char *inspect, const char *src)
{
	struct recreate_in in;

	f->ins = json_parse(inspect, strlen(inspect), "inline inspect");
	assert_non_null(f->ins);
	in = (struct recreate_in){ .inspect = f->ins, .image = "app:1",
				   .missing_binds = &f->missing,
				   .carry_volumes = 1, .src_host = src };
	f->ret = recreate_plan(&in, &f->out);
	f->body = json_parse(f->out.body, strlen(f->out.body), "create body");
	assert_non_null(f->body);
}

static void a_cleared_entrypoint_stays_cleared(void **state)
{
	struct fx *f = *state;

	/* "--entrypoint ''": null in the inspect; null sent would bring
	 * the image's entrypoint back */
	plan_inline(f, "{\"Id\":\"0123456789abcdef\",\"Name\":\"/c\","
		    "\"Config\":{\"Entrypoint\":null,\"Cmd\":[\"sh\"]},"
		    "\"HostConfig\":{\"NetworkMode\":\"bridge\"}}", NULL);
	assert_int_equal(f->ret, 0);
	assert_json_text(json_get(f->body, "Entrypoint", NULL), "[\"\"]",
			 "Entrypoint");
	assert_json_text(json_get(f->body, "Cmd", NULL), "[\"sh\"]", "Cmd");
}

static void host_network_hostname_is_the_destinations(void **state)
{
	struct fx *f = *state;
	static const char *ins =
		"{\"Id\":\"0123456789abcdef\",\"Name\":\"/c\","
		"\"Config\":{\"Hostname\":\"node1\"},"
		"\"HostConfig\":{\"NetworkMode\":\"host\"}}";

	/* the engine wrote its host's name there: not sent */
	plan_inline(f, ins, "node1");
	assert_null(json_get(f->body, "Hostname", NULL));
	teardown(state);
	setup(state);
	f = *state;
	/* the user's --hostname, another name than the host's: kept */
	plan_inline(f, ins, "node7");
	assert_string_equal(json_str(f->body, "Hostname", NULL), "node1");
	teardown(state);
	setup(state);
	f = *state;
	/* the same name on a bridge network is the user's */
	plan_inline(f, "{\"Id\":\"0123456789abcdef\",\"Name\":\"/c\","
		    "\"Config\":{\"Hostname\":\"node1\"},"
		    "\"HostConfig\":{\"NetworkMode\":\"bridge\"}}", "node1");
	assert_string_equal(json_str(f->body, "Hostname", NULL), "node1");
}

static void connected_endpoints_keep_their_empty_settings(void **state)
{
	struct fx *f = *state;

	/* "docker network connect" stores {}, a create null: each as it was */
	plan_inline(f, "{\"Id\":\"0123456789abcdef\",\"Name\":\"/c\","
		    "\"Config\":{},\"HostConfig\":{\"NetworkMode\":\"n1\"},"
		    "\"NetworkSettings\":{\"Networks\":{"
		    "\"n1\":{\"IPAMConfig\":null,\"DriverOpts\":null},"
		    "\"n2\":{\"IPAMConfig\":{},\"DriverOpts\":{}}}}}", NULL);
	assert_int_equal(f->ret, 0);
	assert_null(json_get(f->body, "NetworkingConfig", "EndpointsConfig",
			     "n1", "IPAMConfig", NULL));
	assert_int_equal(f->out.extra_nets.n, 1);
	assert_contains(f->out.extra_bodies.v[0],
			"\"IPAMConfig\":{},\"DriverOpts\":{}");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(config_keeps_every_field_but_image_and_default_hostname),
		T(config_keeps_a_hostname_the_user_chose),
		T(body_has_none_of_the_source_state),
		T(host_config_is_copied_except_container_id_file),
		T(host_config_numbers_keep_their_exact_spelling),
		T(movable_container_plans_without_problems),
		T(primary_user_network_goes_into_endpoints_config),
		T(other_networks_are_connected_after_create),
		T(networks_lists_user_networks_primary_first),
		T(bridge_network_needs_nothing_created_or_connected),
		T(unmovable_items_each_become_a_problem),
		T(drop_unmovable_lists_them_as_dropped),
		T(dropped_items_leave_the_host_config),
		T(binds_present_at_the_destination_are_kept),
		T(missing_binds_name_the_flag_that_moves_them),
		T(bind_mounts_copy_keeps_them_and_lists_their_paths),
		T(bind_mounts_skip_leaves_them_out_and_says_so),
		T(container_mode_network_is_not_a_user_network),
		T(carried_volumes_are_listed_and_mounted_by_name),
		T(from_20_10_engine_defaults_are_left_to_the_destination),
		T(kernel_memory_is_kept_only_where_the_api_has_it),
		T(kernel_memory_into_api_1_42_on_is_a_problem),
		T(health_start_interval_needs_api_1_44),
		T(health_start_interval_travels_from_api_1_44),
		T(volume_subpath_needs_api_1_45),
		T(a_cleared_entrypoint_stays_cleared),
		T(host_network_hostname_is_the_destinations),
		T(connected_endpoints_keep_their_empty_settings),
		T(anonymous_volumes_can_be_left_to_the_engine),
		cmocka_unit_test(bind_sources_are_the_bind_mounts_host_paths),
		cmocka_unit_test(builtin_networks_are_known),
		cmocka_unit_test(network_create_body_keeps_its_settings),
	};

	return cmocka_run_group_tests_name("recreate", tests, NULL, NULL);
}
