/*
 * test_swarm.c - a service move's pure parts over a service inspect
 * recorded from the lab's manager (fixtures/service_db.json: one
 * replica, constraints on its node and its role, a named local volume,
 * an anonymous one, one of another driver and a bind mount): the spec
 * rewritten for each step of the move, what can follow the task, and the
 * plan.
 */
#include "unit.h"

#include "json.h"
#include "plan_service.h"
#include "swarm.h"

static yajl_val load(void)
{
	char *text = unit_fixture("service_db.json");
	yajl_val v = json_parse(text, strlen(text), "fixture");

	free(text);
	assert_non_null(v);
	return v;
}

static yajl_val reparse(char *text)
{
	yajl_val v;

	assert_non_null(text);
	v = json_parse(text, strlen(text), "spec");
	free(text);
	assert_non_null(v);
	return v;
}

static char *constraints(yajl_val spec)
{
	return json_text(json_get(spec, "TaskTemplate", "Placement",
				  "Constraints", NULL));
}

static void replicas_of_a_replicated_and_a_global_service(void **state)
{
	yajl_val svc = load();
	yajl_val g = json_parse("{\"Mode\":{\"Global\":{}}}", 23, "g");

	(void)state;
	assert_int_equal(service_replicas(json_get(svc, "Spec", NULL)), 1);
	assert_int_equal(service_replicas(g), -1);
	yajl_tree_free(g);
	yajl_tree_free(svc);
}

static void scaled_to_nothing_keeps_the_placement(void **state)
{
	yajl_val svc = load(), spec = json_get(svc, "Spec", NULL);
	yajl_val out = reparse(service_spec_placed(spec, 0, NULL));
	char *a = constraints(spec), *b = constraints(out);

	(void)state;
	assert_int_equal(service_replicas(out), 0);
	assert_string_equal(a, b);
	/* the rest of the spec as it was */
	free(a);
	free(b);
	a = json_text(json_get(spec, "TaskTemplate", "ContainerSpec", NULL));
	b = json_text(json_get(out, "TaskTemplate", "ContainerSpec", NULL));
	assert_string_equal(a, b);
	assert_string_equal(json_str(out, "Name", NULL), "db");
	free(a);
	free(b);
	yajl_tree_free(out);
	yajl_tree_free(svc);
}

static void placed_replaces_only_the_constraints_naming_a_node(void **state)
{
	yajl_val svc = load(), spec = json_get(svc, "Spec", NULL);
	yajl_val out = reparse(service_spec_placed(spec, 1, "n3"));
	char *c = constraints(out);

	(void)state;
	assert_int_equal(service_replicas(out), 1);
	assert_string_equal(c, "[\"node.role == manager\",\"node.id==n3\"]");
	free(c);
	yajl_tree_free(out);
	yajl_tree_free(svc);
}

static void placed_adds_a_placement_where_there_was_none(void **state)
{
	const char *text = "{\"Name\":\"w\",\"TaskTemplate\":{\"ContainerSpec\":"
			   "{\"Image\":\"x\"}},\"Mode\":{\"Replicated\":{}}}";
	yajl_val spec = json_parse(text, strlen(text), "spec");
	yajl_val out = reparse(service_spec_placed(spec, 1, "n2"));
	char *c = constraints(out);

	(void)state;
	assert_string_equal(c, "[\"node.id==n2\"]");
	assert_string_equal(json_str(out, "TaskTemplate", "ContainerSpec",
				     "Image", NULL), "x");
	assert_int_equal(service_replicas(out), 1);
	free(c);
	yajl_tree_free(out);
	yajl_tree_free(spec);
}

static void only_named_local_volumes_follow_the_task(void **state)
{
	yajl_val svc = load();
	struct strlist names = { 0 }, refused = { 0 };

	(void)state;
	service_volumes(json_get(svc, "Spec", NULL), &names, &refused);
	assert_int_equal(names.n, 1);
	assert_string_equal(names.v[0], "dbdata");
	assert_int_equal(refused.n, 3);
	assert_string_equal(refused.v[0], "anonymous volume at /anon (each "
			    "task gets a new one)");
	assert_string_equal(refused.v[1], "volume nfsvol of driver nfsdrv");
	assert_string_equal(refused.v[2], "bind mount /tmp (a path of the "
			    "node)");
	strlist_clear(&names);
	strlist_clear(&refused);
	yajl_tree_free(svc);
}

static char *order(const struct plan *p)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < p->n; i++)
		sb_addf(&sb, "%s%s", i ? " " : "", step_name(p->steps[i].kind));
	return sb_detach(&sb);
}

static void plan_moves_the_volume_around_the_window(void **state)
{
	struct plan_vol vols[] = { { "dbdata", 0, 0, 0, 1000 },
				   { "scratch", 0, 1, 0, 0 } };
	struct service_facts f = { "db", "node1", "node3", "n3", 1, "db:1", 0,
				   5000, vols, 2, 1 };
	struct plan p;
	char *o;

	(void)state;
	assert_int_equal(plan_service(&f, &p), 0);
	o = order(&p);
	/* a tmpfs has no final pass */
	assert_string_equal(o, "check transfer precopy precopy stop-source "
			    "sync start");
	assert_int_equal(p.bytes, 6000);
	assert_string_equal(p.steps[1].creates, "image db:1 at node3");
	assert_string_equal(p.steps[2].creates, "volume dbdata, the volumes' "
			    "helper image at node3");
	assert_string_equal(p.steps[4].stops, "the service's task at node1 "
			    "(0 replicas)");
	assert_string_equal(p.steps[6].creates, "its task at node3 "
			    "(constraint node.id==n3, 1 replica)");
	assert_string_equal(p.what, "service");
	free(o);
	plan_release(&p);
}

static void plan_sends_no_image_the_node_has(void **state)
{
	struct service_facts f = { "db", "node1", "node3", "n3", 1, "db:1", 1,
				   5000, NULL, 0, 0 };
	struct plan p;
	char *o;

	(void)state;
	assert_int_equal(plan_service(&f, &p), 0);
	o = order(&p);
	assert_string_equal(o, "check transfer stop-source start");
	assert_int_equal(p.bytes, 0);
	assert_null(p.steps[1].creates);
	free(o);
	plan_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(replicas_of_a_replicated_and_a_global_service),
		cmocka_unit_test(scaled_to_nothing_keeps_the_placement),
		cmocka_unit_test(placed_replaces_only_the_constraints_naming_a_node),
		cmocka_unit_test(placed_adds_a_placement_where_there_was_none),
		cmocka_unit_test(only_named_local_volumes_follow_the_task),
		cmocka_unit_test(plan_moves_the_volume_around_the_window),
		cmocka_unit_test(plan_sends_no_image_the_node_has),
	};

	return cmocka_run_group_tests_name("swarm", tests, NULL, NULL);
}
