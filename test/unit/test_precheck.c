/*
 * test_precheck.c - what would make the copy's create or start fail at
 * the destination, judged on facts recorded in the lab (fixtures/
 * precheck_*): the source container "web" (dockerd 20.10) publishes
 * 8080, 8081, 8083/udp, 8084, 8085, 127.0.0.1:9090 and node1's own
 * address 10.81.0.11:8082, is on "pnet" (10.99.0.0/24) and on "snet"
 * with the static address 10.98.0.5.  At the destination node2 (10.81.0.12)
 * container "pub" publishes 8080, 127.0.0.1:9090 and 8083/udp, a
 * host-network httpd listens on [::]:8081 and another on
 * 10.81.0.12:8084, network "other" is 10.99.0.0/16 and "snet"
 * 10.98.0.0/24 holds container "taker" at 10.98.0.5.
 */
#include "unit.h"

#include "json.h"
#include "precheck.h"
#include "recreate.h"

static yajl_val load(const char *fixture)
{
	char *text = unit_fixture(fixture);
	yajl_val v = json_parse(text, strlen(text), fixture);

	if (!v)
		fail_msg("%s", dm_errmsg());
	free(text);
	return v;
}

/* The fixture with every "from" replaced by "to": a variant of what
 * was recorded, named in the test that makes it. */
static yajl_val load_with(const char *fixture, const char *from, const char *to)
{
	char *text = unit_fixture(fixture);
	struct strbuf sb = STRBUF_INIT;
	const char *p = text, *hit;
	yajl_val v;
	int n = 0;

	while ((hit = strstr(p, from))) {
		sb_add(&sb, p, (size_t)(hit - p));
		sb_adds(&sb, to);
		p = hit + strlen(from);
		n++;
	}
	sb_adds(&sb, p);
	if (!n)
		fail_msg("%s has no %s", fixture, from);
	v = json_parse(sb_str(&sb), sb.len, fixture);
	assert_non_null(v);
	sb_release(&sb);
	free(text);
	return v;
}

struct fx {
	yajl_val ins;
	struct dest_facts f;
	struct strlist problems;
	yajl_val extra[4];
};

static int setup(void **state)
{
	struct fx *x = xcalloc(1, sizeof(*x));

	x->ins = load("precheck_web.json");
	x->f.dest = "node2";
	x->f.containers = load("precheck_dst_containers.json");
	x->f.networks = load("precheck_dst_networks.json");
	x->f.proc = unit_fixture("precheck_proc.txt");
	dm_clear_error();
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	yajl_tree_free(x->ins);
	dest_facts_release(&x->f);
	strlist_clear(&x->problems);
	for (size_t i = 0; i < 4; i++)
		yajl_tree_free(x->extra[i]);
	free(x);
	return 0;
}

static void assert_has(const struct strlist *l, const char *needle)
{
	if (!unit_list_has(l, needle)) {
		for (size_t i = 0; i < l->n; i++)
			print_message("  problem: %s\n", l->v[i]);
		fail_msg("no problem says: %s", needle);
	}
}

/* ------------------------------------------------------------------ */
/* ports                                                               */

static const char *const port_problems[] = {
	"port 8080/tcp is published at node2 by container \"pub\" (free it "
	"there first)",
	"port 8081/tcp is in use at node2: a process listens on [::]:8081 "
	"(free it there first)",
	"published address 10.81.0.11: node2 has no such address (map it to "
	"one it has with --publish-ip 10.81.0.11=ADDRESS)",
	"port 8083/udp is published at node2 by container \"pub\"",
	"port 8084/tcp is in use at node2: a process listens on "
	"10.81.0.12:8084",
	"port 127.0.0.1:9090/tcp is published at node2 by container \"pub\"",
};
#define N_PORT (sizeof(port_problems) / sizeof(*port_problems))

static void each_port_in_use_and_each_absent_address_is_named(void **state)
{
	struct fx *x = *state;

	assert_int_equal(precheck_ports(x->ins, &x->f, &x->problems), N_PORT);
	for (size_t i = 0; i < N_PORT; i++)
		assert_has(&x->problems, port_problems[i]);
	/* 8085 is free there: nothing says it */
	assert_false(unit_list_has(&x->problems, "8085"));
}

/* The same listing as the kernel prints it, unfiltered (headers, TCP
 * sockets in every state, the whole fib_trie): the same judgement. */
static void the_raw_proc_files_read_the_same(void **state)
{
	struct fx *x = *state;

	free(x->f.proc);
	x->f.proc = unit_fixture("precheck_proc_raw.txt");
	assert_int_equal(precheck_ports(x->ins, &x->f, &x->problems), N_PORT);
	for (size_t i = 0; i < N_PORT; i++)
		assert_has(&x->problems, port_problems[i]);
}

/* No listing (the shell could not be read): the engine's containers
 * still decide, and no address is refused for want of knowing. */
static void without_the_listing_the_containers_still_count(void **state)
{
	struct fx *x = *state;

	free(x->f.proc);
	x->f.proc = NULL;
	assert_int_equal(precheck_ports(x->ins, &x->f, &x->problems), 3);
	assert_has(&x->problems, port_problems[0]);
	assert_has(&x->problems, port_problems[3]);
	assert_has(&x->problems, port_problems[5]);
}

/* Without the engine's list, its proxies' sockets are what /proc shows:
 * UDP ones too, bound and not connected. */
static void sockets_alone_show_every_port_in_use(void **state)
{
	struct fx *x = *state;

	yajl_tree_free(x->f.containers);
	x->f.containers = NULL;
	assert_int_equal(precheck_ports(x->ins, &x->f, &x->problems), N_PORT);
	assert_has(&x->problems, "port 8083/udp is in use at node2: a process "
		   "listens on 0.0.0.0:8083");
	assert_has(&x->problems, "port 8080/tcp is in use at node2: a process "
		   "listens on 0.0.0.0:8080");
	assert_has(&x->problems, "port 127.0.0.1:9090/tcp is in use at node2: "
		   "a process listens on 127.0.0.1:9090");
}

/* Addresses the host has, IPv4 (fib_trie) and IPv6 (if_inet6), pass. */
static void addresses_the_host_has_pass(void **state)
{
	struct fx *x = *state;
	static const char ins[] = "{\"HostConfig\":{\"PortBindings\":{"
		"\"90/tcp\":[{\"HostIp\":\"::1\",\"HostPort\":\"18090\"},"
		"{\"HostIp\":\"10.81.0.12\",\"HostPort\":\"18090\"},"
		"{\"HostIp\":\"fd00::12\",\"HostPort\":\"18090\"}]}}}";

	x->extra[0] = json_parse(ins, strlen(ins), "ins");
	assert_int_equal(precheck_ports(x->extra[0], &x->f, &x->problems), 1);
	assert_has(&x->problems, "published address fd00::12: node2 has no "
		   "such address");
}

static void a_host_network_container_publishes_nothing(void **state)
{
	struct fx *x = *state;
	static const char ins[] = "{\"HostConfig\":{\"NetworkMode\":\"host\","
		"\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":"
		"\"8080\"}]}}}";

	x->extra[0] = json_parse(ins, strlen(ins), "ins");
	assert_int_equal(precheck_ports(x->extra[0], &x->f, &x->problems), 0);
}

/* A binding on an address of another family does not clash: pub's
 * 127.0.0.1:9090 leaves [::1]:9090 free, but not 9090 on every address. */
static void families_and_wildcards_clash_as_the_kernel_has_it(void **state)
{
	struct fx *x = *state;
	static const char ins[] = "{\"HostConfig\":{\"PortBindings\":{"
		"\"90/tcp\":[{\"HostIp\":\"::1\",\"HostPort\":\"9090\"},"
		"{\"HostIp\":\"\",\"HostPort\":\"9090\"}],"
		"\"91/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8084\"}],"
		"\"92/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8079-8080\"}]}}}";

	x->extra[0] = json_parse(ins, strlen(ins), "ins");
	assert_int_equal(precheck_ports(x->extra[0], &x->f, &x->problems), 2);
	assert_has(&x->problems, "port 9090/tcp is published at node2 by "
		   "container \"pub\"");
	/* in a range: only the busy port */
	assert_has(&x->problems, "port 0.0.0.0:8080/tcp is published");
}

/* ------------------------------------------------------------------ */
/* --publish-ip                                                        */

static void publish_ip_moves_the_binding_to_an_address_there(void **state)
{
	struct fx *x = *state;
	struct strlist map = { 0 };

	strlist_add(&map, "10.81.0.11=10.81.0.12");
	assert_int_equal(precheck_map_publish(x->ins, &map, "web"), 0);
	assert_string_equal(json_str(json_get(x->ins, "HostConfig",
		"PortBindings", "82/tcp", NULL)->u.array.values[0], "HostIp",
		NULL), "10.81.0.12");
	assert_int_equal(precheck_ports(x->ins, &x->f, &x->problems),
			 N_PORT - 1);
	assert_false(unit_list_has(&x->problems, "10.81.0.11"));
	strlist_clear(&map);
}

static void publish_ip_of_an_address_no_port_uses_is_refused(void **state)
{
	struct fx *x = *state;
	struct strlist map = { 0 };

	strlist_add(&map, "10.1.2.3=10.81.0.12");
	assert_int_equal(precheck_map_publish(x->ins, &map, "web"), -1);
	assert_int_equal(dm_errkind(), DM_ERR_USAGE);
	assert_string_equal(dm_errmsg(), "--publish-ip 10.1.2.3=10.81.0.12: "
			    "no port of web is published on 10.1.2.3 (see "
			    "docker port web)");
	strlist_clear(&map);
}

static void publish_ip_takes_two_addresses(void **state)
{
	static const char *const bad[] = { "10.81.0.11", "10.81.0.11=",
					   "=10.81.0.12", "web=10.81.0.12",
					   "10.81.0.11=node2" };
	struct fx *x = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct strlist map = { 0 };

		strlist_add(&map, bad[i]);
		assert_int_equal(precheck_map_publish(x->ins, &map, "web"), -1);
		assert_non_null(strstr(dm_errmsg(), "give OLD=NEW"));
		strlist_clear(&map);
	}
	assert_true(precheck_is_addr("fd00::1"));
	assert_true(precheck_is_addr("0.0.0.0"));
	assert_false(precheck_is_addr("10.0.0"));
}

/* ------------------------------------------------------------------ */
/* networks, static addresses, MACs                                    */

static void networks(struct fx *x, const char *snet_dst_from,
		     const char *snet_dst_to)
{
	struct net_pair np[2] = {
		{ "pnet", x->extra[0] = load("precheck_net_pnet_src.json"), NULL },
		{ "snet", x->extra[1] = load("precheck_net_snet_src.json"),
		  x->extra[2] = snet_dst_from
			? load_with("precheck_net_snet_dst.json", snet_dst_from,
				    snet_dst_to)
			: load("precheck_net_snet_dst.json") },
	};

	precheck_networks(x->ins, &x->f, np, 2, &x->problems);
}

static void an_overlapping_subnet_and_a_taken_address_are_named(void **state)
{
	struct fx *x = *state;

	networks(x, NULL, NULL);
	assert_int_equal(x->problems.n, 2);
	assert_has(&x->problems, "network \"pnet\": its subnet 10.99.0.0/24 "
		   "overlaps subnet 10.99.0.0/16 of network \"other\" at node2 "
		   "(remove that network there, or give it another subnet)");
	assert_has(&x->problems, "static address 10.98.0.5 on network \"snet\" "
		   "is taken at node2 by container \"taker\" (free it there "
		   "first)");
}

static void a_free_static_address_passes(void **state)
{
	struct fx *x = *state;

	networks(x, "10.98.0.5/24", "10.98.0.7/24");
	assert_int_equal(x->problems.n, 1);	/* pnet's overlap only */
	assert_has(&x->problems, "network \"pnet\"");
}

static void the_gateway_is_not_a_free_address(void **state)
{
	struct fx *x = *state;

	yajl_tree_free(x->ins);
	x->ins = load_with("precheck_web.json", "\"IPv4Address\": \"10.98.0.5\"",
			   "\"IPv4Address\": \"10.98.0.1\"");
	networks(x, "10.98.0.5/24", "10.98.0.7/24");
	assert_has(&x->problems, "static address 10.98.0.1 on network \"snet\" "
		   "is taken at node2 by its gateway");
}

static void an_existing_network_with_another_subnet_is_refused(void **state)
{
	struct fx *x = *state;

	networks(x, "10.98.0.0/24", "10.97.0.0/24");
	assert_has(&x->problems, "network \"snet\" exists at node2 with subnet "
		   "10.97.0.0/24, the source's has 10.98.0.0/24 (remove it "
		   "there, and it is made as at the source)");
	/* its addresses are not judged on a network the copy cannot join */
	assert_false(unit_list_has(&x->problems, "static address"));
}

static void an_existing_network_with_another_driver_is_refused(void **state)
{
	struct fx *x = *state;

	networks(x, "\"Driver\": \"bridge\"", "\"Driver\": \"macvlan\"");
	assert_has(&x->problems, "network \"snet\" exists at node2 with driver "
		   "macvlan, the source's has bridge");
}

static void an_existing_network_with_other_options_is_refused(void **state)
{
	struct fx *x = *state;

	networks(x, "\"Options\": {}", "\"Options\": {\"com.docker.network."
		 "driver.mtu\": \"1400\"}");
	assert_has(&x->problems, "network \"snet\" exists at node2 with another "
		   "value of option com.docker.network.driver.mtu");
}

/* Options dockerd 28 sets by itself say nothing of the user's network. */
static void options_the_engine_sets_are_not_compared(void **state)
{
	struct fx *x = *state;

	networks(x, "\"Options\": {}", "\"Options\": {\"com.docker.network."
		 "enable_ipv4\": \"true\"}");
	assert_false(unit_list_has(&x->problems, "option"));
}

static void a_mac_taken_there_is_named(void **state)
{
	struct fx *x = *state;
	yajl_val ins = load("precheck_mac_28.json");
	struct net_pair np = { "bridge", NULL,
			       x->extra[0] = load("precheck_net_bridge_28.json") };

	assert_int_equal(precheck_networks(ins, &x->f, &np, 1, &x->problems), 1);
	assert_has(&x->problems, "MAC address 02:42:ac:11:00:99 on network "
		   "\"bridge\" is taken at node2 by container \"m1\" (free it "
		   "there first)");
	yajl_tree_free(ins);
}

/* ------------------------------------------------------------------ */
/* devices and links: what recreate keeps with the destination's facts */

static void running_names_are_the_containers_not_their_links(void **state)
{
	struct fx *x = *state;
	struct strlist l = { 0 };

	precheck_running_names(&x->f, &l);
	assert_int_equal(l.n, 4);
	assert_true(unit_list_has(&l, "pub"));
	assert_true(unit_list_has(&l, "taker"));
	assert_true(unit_list_has(&l, "hostl2"));
	strlist_clear(&l);
}

static void plan_with(yajl_val ins, const struct strlist *devs_missing,
		      const struct strlist *running, int drop,
		      struct recreate_out *out, yajl_val *body)
{
	struct recreate_in in = { .inspect = ins, .image = "busybox:1",
				  .drop_unmovable = drop, .carry_volumes = 1,
				  .missing_devices = devs_missing,
				  .dest_running = running };

	recreate_plan(&in, out);
	*body = json_parse(out->body, strlen(out->body), "body");
	assert_non_null(*body);
}

static void a_device_present_there_is_carried(void **state)
{
	struct fx *x = *state;
	yajl_val ins = load("container_unmovable.json"), body;
	struct strlist none = { 0 }, paths = { 0 };
	struct recreate_out out;

	(void)x;
	precheck_device_paths(ins, &paths);
	assert_int_equal(paths.n, 1);
	assert_string_equal(paths.v[0], "/dev/fuse");
	plan_with(ins, &none, NULL, 0, &out, &body);
	assert_false(unit_list_has(&out.problems, "device"));
	assert_string_equal(json_str(json_get(body, "HostConfig", "Devices",
		NULL)->u.array.values[0], "PathOnHost", NULL), "/dev/fuse");
	yajl_tree_free(body);
	recreate_out_release(&out);
	yajl_tree_free(ins);
	strlist_clear(&paths);
}

static void a_device_missing_there_is_named_and_left_out(void **state)
{
	yajl_val ins = load("container_unmovable.json"), body;
	struct strlist missing = { 0 };
	struct recreate_out out;

	(void)state;
	strlist_add(&missing, "/dev/fuse");
	plan_with(ins, &missing, NULL, 1, &out, &body);
	assert_true(unit_list_has(&out.dropped, "device /dev/fuse: it does "
				  "not exist at the destination"));
	assert_null(json_get(body, "HostConfig", "Devices", NULL));
	yajl_tree_free(body);
	recreate_out_release(&out);
	yajl_tree_free(ins);
	strlist_clear(&missing);
}

static void a_link_to_a_container_running_there_is_carried(void **state)
{
	yajl_val ins = load("container_unmovable.json"), body;
	struct strlist running = { 0 };
	struct recreate_out out;

	(void)state;
	strlist_add(&running, "db");
	plan_with(ins, NULL, &running, 0, &out, &body);
	assert_false(unit_list_has(&out.problems, "Links"));
	assert_string_equal(json_get(body, "HostConfig", "Links",
		NULL)->u.array.values[0]->u.string, "/db:/sidecar/db");
	yajl_tree_free(body);
	recreate_out_release(&out);
	yajl_tree_free(ins);
	strlist_clear(&running);
}

/* On a user network, the engine takes a link to a container it does
 * not have without a word (measured on 20.10 and 28): the alias then
 * resolves to nothing.  Such a link is named; one to a container that
 * runs there is carried. */
static void an_endpoint_link_to_a_container_not_there_is_named(void **state)
{
	yajl_val ins = load("precheck_endpoint_link.json"), body;
	struct strlist running = { 0 };
	struct recreate_out out;
	yajl_val links;

	(void)state;
	strlist_add(&running, "db");
	plan_with(ins, NULL, &running, 0, &out, &body);
	assert_int_equal(out.problems.n, 1);
	assert_has(&out.problems, "link \"nosuch:al\" on network \"unet\": the "
		   "container it names does not run at the destination (move "
		   "it first)");
	links = json_get(body, "NetworkingConfig", "EndpointsConfig", "unet",
			 "Links", NULL);
	assert_int_equal(json_alen(links), 1);
	assert_string_equal(links->u.array.values[0]->u.string, "db:dbal");
	yajl_tree_free(body);
	recreate_out_release(&out);
	yajl_tree_free(ins);
	strlist_clear(&running);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(each_port_in_use_and_each_absent_address_is_named),
		T(the_raw_proc_files_read_the_same),
		T(without_the_listing_the_containers_still_count),
		T(sockets_alone_show_every_port_in_use),
		T(addresses_the_host_has_pass),
		T(a_host_network_container_publishes_nothing),
		T(families_and_wildcards_clash_as_the_kernel_has_it),
		T(publish_ip_moves_the_binding_to_an_address_there),
		T(publish_ip_of_an_address_no_port_uses_is_refused),
		T(publish_ip_takes_two_addresses),
		T(an_overlapping_subnet_and_a_taken_address_are_named),
		T(a_free_static_address_passes),
		T(the_gateway_is_not_a_free_address),
		T(an_existing_network_with_another_subnet_is_refused),
		T(an_existing_network_with_another_driver_is_refused),
		T(an_existing_network_with_other_options_is_refused),
		T(options_the_engine_sets_are_not_compared),
		T(a_mac_taken_there_is_named),
		T(running_names_are_the_containers_not_their_links),
		T(a_device_present_there_is_carried),
		T(a_device_missing_there_is_named_and_left_out),
		T(a_link_to_a_container_running_there_is_carried),
		T(an_endpoint_link_to_a_container_not_there_is_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
