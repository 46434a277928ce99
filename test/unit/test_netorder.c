/*
 * test_netorder.c - a container's interfaces in order: from what its
 * /sys/class/net says (each interface's MAC) to its networks in order,
 * and the copy's extra networks sorted the same way.
 */
#include "unit.h"

#include "json.h"
#include "netorder.h"

/* A source on fid-n1, then connected to fid-n3 and fid-n2 while running:
 * the inspect lists its networks by name, each with its MAC. */
static const char ins_text[] =
	"{\"NetworkSettings\":{\"Networks\":{"
	"\"fid-n1\":{\"MacAddress\":\"02:42:0a:4d:01:02\"},"
	"\"fid-n2\":{\"MacAddress\":\"02:42:0a:4d:02:02\"},"
	"\"fid-n3\":{\"MacAddress\":\"02:42:0a:4d:03:02\"}}}}";

static yajl_val ins(void)
{
	yajl_val v = json_parse(ins_text, strlen(ins_text), "inspect");

	assert_non_null(v);
	return v;
}

static char *joined(const struct strlist *l)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < l->n; i++)
		sb_addf(&sb, "%s%s", i ? "," : "", l->v[i]);
	return sb_detach(&sb);
}

static void interfaces_give_the_networks_in_order(void **state)
{
	yajl_val v = ins();
	struct strlist order = { 0 };
	char *s;

	(void)state;
	/* the shell lists eth10 before eth2: the index decides */
	assert_int_equal(netorder_parse(v, "eth0 02:42:0a:4d:01:02\n"
					"eth2 02:42:0a:4d:02:02\n"
					"eth1 02:42:0a:4d:03:02\n", &order), 0);
	s = joined(&order);
	assert_string_equal(s, "fid-n1,fid-n3,fid-n2");
	assert_false(netorder_is_start_order(&order));
	free(s);
	strlist_clear(&order);
	/* other interfaces (a tunnel, lo) are not the engine's */
	assert_int_equal(netorder_parse(v, "eth0 02:42:0a:4d:01:02\n"
					"tunl0 00:00:00:00\n"
					"eth1 02:42:0a:4d:02:02", &order), 0);
	s = joined(&order);
	assert_string_equal(s, "fid-n1,fid-n2");
	assert_true(netorder_is_start_order(&order));
	free(s);
	strlist_clear(&order);
	/* a MAC no network has: the order is not known */
	assert_int_equal(netorder_parse(v, "eth0 02:42:0a:4d:09:09\n", &order),
			 -1);
	strlist_clear(&order);
	yajl_tree_free(v);
}

static void extra_networks_are_connected_in_the_sources_order(void **state)
{
	struct recreate_out out = { 0 };
	struct strlist order = { 0 };
	char *s;

	(void)state;
	strlist_add(&out.extra_nets, "fid-n2");
	strlist_add(&out.extra_bodies, "body of n2");
	strlist_add(&out.extra_nets, "fid-n3");
	strlist_add(&out.extra_bodies, "body of n3");
	strlist_add(&out.extra_nets, "other");
	strlist_add(&out.extra_bodies, "body of other");
	strlist_add(&order, "fid-n1");
	strlist_add(&order, "fid-n3");
	strlist_add(&order, "fid-n2");
	netorder_sort_extra(&out, &order);
	s = joined(&out.extra_nets);
	assert_string_equal(s, "fid-n3,fid-n2,other");
	free(s);
	/* each network keeps its own connect body */
	assert_string_equal(out.extra_bodies.v[0], "body of n3");
	assert_string_equal(out.extra_bodies.v[1], "body of n2");
	assert_string_equal(out.extra_bodies.v[2], "body of other");
	strlist_clear(&order);
	recreate_out_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(interfaces_give_the_networks_in_order),
		cmocka_unit_test(extra_networks_are_connected_in_the_sources_order),
	};

	return cmocka_run_group_tests_name("netorder", tests, NULL, NULL);
}
