/*
 * test_project.c - a group move's pure parts: what a container depends
 * on (Compose's label, links, a shared network namespace), the order the
 * group starts in, and the group plan made of the members' own plans:
 * one transfer per image, every pre-copy before the window, stops in the
 * reverse order, starts in order, the sources that served stopped last.
 */
#include "unit.h"

#include "json.h"
#include "plan.h"
#include "plan_group.h"
#include "project.h"

static yajl_val parse(const char *text)
{
	yajl_val v = json_parse(text, strlen(text), "inspect");

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

static void deps_come_from_the_label_links_and_network_mode(void **state)
{
	yajl_val ins = parse(
		"{\"Name\":\"/p-web-1\",\"Id\":\"1111111111111111\","
		"\"Config\":{\"Labels\":{\"com.docker.compose.service\":\"web\","
		"\"com.docker.compose.depends_on\":"
		"\"app:service_healthy:false,cache:service_started:true\"}},"
		"\"HostConfig\":{\"Links\":[\"/db:/p-web-1/db\"],"
		"\"NetworkMode\":\"container:abcdef012345\"}}");
	struct member m;
	char *s;

	(void)state;
	assert_int_equal(member_from_inspect(ins, &m), 0);
	assert_string_equal(m.name, "p-web-1");
	assert_string_equal(m.service, "web");
	s = joined(&m.deps);
	assert_string_equal(s, "app,cache,db,abcdef012345");
	free(s);
	member_release(&m);
	yajl_tree_free(ins);
}

static void no_deps_without_label_links_or_shared_namespace(void **state)
{
	yajl_val ins = parse("{\"Name\":\"/x\",\"Id\":\"2\",\"Config\":{},"
			     "\"HostConfig\":{\"NetworkMode\":\"bridge\"}}");
	struct member m;

	(void)state;
	assert_int_equal(member_from_inspect(ins, &m), 0);
	assert_null(m.service);
	assert_int_equal(m.deps.n, 0);
	member_release(&m);
	yajl_tree_free(ins);
}

/* A member named NAME (service SVC) depending on the comma list DEPS. */
static void mk(struct member *m, const char *name, const char *svc,
	       const char *id, const char *deps)
{
	memset(m, 0, sizeof(*m));
	m->name = xstrdup(name);
	m->service = svc ? xstrdup(svc) : NULL;
	m->id = xstrdup(id);
	while (deps && *deps) {
		size_t n = strcspn(deps, ",");
		char *d = xstrndup(deps, n);

		strlist_add(&m->deps, d);
		free(d);
		deps += n + (deps[n] == ',');
	}
}

static char *order_of(const struct member *m, size_t n)
{
	size_t order[8];
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(project_order(m, n, order), 0);
	for (size_t i = 0; i < n; i++)
		sb_addf(&sb, "%s%s", i ? " " : "", m[order[i]].name);
	return sb_detach(&sb);
}

static void dependencies_start_first(void **state)
{
	struct member m[4];
	char *s;

	(void)state;
	mk(&m[0], "p-web-1", "web", "aaaaaaaaaaaaaaaa", "app");
	mk(&m[1], "p-app-1", "app", "bbbbbbbbbbbbbbbb", "db,elsewhere");
	mk(&m[2], "lonely", NULL, "cccccccccccccccc", NULL);
	/* by the id's prefix, as a network mode names it */
	mk(&m[3], "p-db-1", "db", "dddddddddddddddd", NULL);
	free(m[2].deps.v);
	memset(&m[2].deps, 0, sizeof(m[2].deps));
	s = order_of(m, 4);
	/* the independent keep their place; a dependency outside the group
	 * (elsewhere) is not waited for */
	assert_string_equal(s, "lonely p-db-1 p-app-1 p-web-1");
	free(s);
	strlist_clear(&m[1].deps);
	strlist_add(&m[1].deps, "dddddddddddd");
	s = order_of(m, 4);
	assert_string_equal(s, "lonely p-db-1 p-app-1 p-web-1");
	free(s);
	for (int i = 0; i < 4; i++)
		member_release(&m[i]);
}

static void a_circle_is_refused_naming_its_members(void **state)
{
	struct member m[3];
	size_t order[3];

	(void)state;
	mk(&m[0], "a", "a", "aaaaaaaaaaaaaaaa", "b");
	mk(&m[1], "b", "b", "bbbbbbbbbbbbbbbb", "a");
	mk(&m[2], "c", "c", "cccccccccccccccc", NULL);
	assert_int_equal(project_order(m, 3, order), -1);
	assert_string_equal(dm_errmsg(), "a, b depend on each other in a "
			    "circle: no order to start them in");
	dm_clear_error();
	for (int i = 0; i < 3; i++)
		member_release(&m[i]);
}

/* A running container's plan: with a volume (stateful) or without. */
static void plan_of(struct plan *p, const char *name, int volume,
		    const char *image)
{
	char *text = xasprintf("{\"Name\":\"/%s\",\"State\":{\"Running\":true}}",
			       name);
	yajl_val ins = parse(text);
	struct plan_vol v = { "data", 0, 0, 0, 1000, 0 };
	struct plan_facts f = { .dest = "node2", .image_ref = image,
				.image_bytes = 5000, .vols = &v,
				.nvols = volume ? 1 : 0, .rootfs_bytes = -1 };
	struct plan_opts o = { .rootfs = -1 };

	assert_int_equal(plan_make(ins, &o, &f, p), 0);
	yajl_tree_free(ins);
	free(text);
}

static char *group_text(const struct plan_group *g, const struct plan **plans)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < g->n; i++) {
		const struct plan *p = plans[g->steps[i].member];

		sb_addf(&sb, "%s%s %s", i ? ", " : "",
			step_name(p->steps[g->steps[i].step].kind), p->name);
	}
	return sb_detach(&sb);
}

static void one_window_for_the_group(void **state)
{
	struct plan p[3];
	const struct plan *plans[3] = { &p[0], &p[1], &p[2] };
	/* start order: db, app, web (given in another order) */
	size_t order[3] = { 1, 2, 0 };
	struct plan_group g;
	char *s;

	(void)state;
	plan_of(&p[0], "web", 0, "shop:1");
	plan_of(&p[1], "db", 1, "db:1");
	plan_of(&p[2], "app", 1, "shop:1");
	plan_group_make(plans, 3, order, &g);
	s = group_text(&g, plans);
	/* shop:1 crosses once; every pre-copy while all run; app stops
	 * before db (it needs db); starts in order; web, which never
	 * stopped, only once every copy runs */
	assert_string_equal(s,
		"transfer db, precopy db, create db, "
		"transfer app, precopy app, create app, create web, "
		"stop-source app, stop-source db, "
		"sync db, sync app, "
		"start db, start app, start web, "
		"stop-source web");
	free(s);
	assert_int_equal(g.bytes, 5000 + 1000 + 5000 + 1000);
	assert_int_equal(g.steps[7].stage, GS_STOP);
	assert_int_equal(g.steps[9].stage, GS_FINAL);
	assert_int_equal(g.steps[11].stage, GS_START);
	assert_int_equal(g.steps[14].stage, GS_AFTER);
	assert_true(plan_group_has(&g, plans, 2, STEP_TRANSFER));
	assert_false(plan_group_has(&g, plans, 0, STEP_TRANSFER));
	plan_group_release(&g);
	for (int i = 0; i < 3; i++)
		plan_release(&p[i]);
}

static void the_dry_run_text_shows_the_stages_in_order(void **state)
{
	struct plan p[2];
	const struct plan *plans[2] = { &p[0], &p[1] };
	size_t order[2] = { 0, 1 };
	struct plan_group g;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	(void)state;
	plan_of(&p[0], "db", 1, "db:1");
	plan_of(&p[1], "web", 0, "web:1");
	plan_group_make(plans, 2, order, &g);
	plan_group_print(&g, plans, "2 containers", "src", "node2", "delta",
			 out);
	fclose(out);
	assert_non_null(strstr(buf, "Plan: move 2 containers from src to "
			       "node2, strategy delta, one downtime window\n"
			       "  before the window:\n"));
	assert_true(strstr(buf, "window: stop:") < strstr(buf, "window: final pass:"));
	assert_true(strstr(buf, "window: final pass:") < strstr(buf, "window: start:"));
	assert_true(strstr(buf, "window: start:") < strstr(buf, "after the window:"));
	{
		char hb[32], *want;

		/* both images and the volume: 5000 + 5000 + 1000 */
		want = xasprintf("  to send: %s,", dm_human_bytes(11000, hb,
								  sizeof(hb)));
		assert_non_null(strstr(buf, want));
		free(want);
	}
	free(buf);
	plan_group_release(&g);
	for (int i = 0; i < 2; i++)
		plan_release(&p[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deps_come_from_the_label_links_and_network_mode),
		cmocka_unit_test(no_deps_without_label_links_or_shared_namespace),
		cmocka_unit_test(dependencies_start_first),
		cmocka_unit_test(a_circle_is_refused_naming_its_members),
		cmocka_unit_test(one_window_for_the_group),
		cmocka_unit_test(the_dry_run_text_shows_the_stages_in_order),
	};

	return cmocka_run_group_tests_name("project", tests, NULL, NULL);
}
