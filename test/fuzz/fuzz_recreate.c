/*
 * fuzz_recreate.c - the planner over an engine's inspect reply: the input
 * is GET /containers/{id}/json (or /networks/{id}, /volumes/{name}) as
 * the engine sends it.  It runs recreate_bind_sources, then recreate_plan
 * four times (with and without --drop-unmovable and volume carrying;
 * every other bind source "missing" at the destination, to reach those
 * branches), network_create_body and volume_is_ephemeral over it.
 * Invariant: every body sent to the destination engine is a JSON object.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"
#include "recreate.h"
#include "volume.h"

static void check_body(const char *body)
{
	yajl_val v;

	FUZZ_ASSERT(body);
	v = json_parse(body, strlen(body), "generated body");
	FUZZ_ASSERT(YAJL_IS_OBJECT(v));
	yajl_tree_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	yajl_val inspect = json_parse((const char *)data, size, "inspect");
	struct strlist binds = { 0 }, missing = { 0 };
	char *net;

	if (!inspect)
		return 0;
	recreate_bind_sources(inspect, &binds);
	for (size_t i = 0; i < binds.n; i += 2)
		strlist_add(&missing, binds.v[i]);
	for (int flags = 0; flags < 4; flags++) {
		struct recreate_in in = {
			.inspect = inspect,
			.image = "registry.example/app@sha256:0123",
			.missing_binds = &missing,
			.drop_unmovable = flags & 1,
			.carry_volumes = flags & 2,
		};
		struct recreate_out out;
		int ret = recreate_plan(&in, &out);

		FUZZ_ASSERT(ret == (out.problems.n ? -1 : 0));
		FUZZ_ASSERT(!in.drop_unmovable || out.problems.n == 0);
		check_body(out.body);
		for (size_t i = 0; i < out.extra_bodies.n; i++)
			check_body(out.extra_bodies.v[i]);
		FUZZ_ASSERT(out.extra_bodies.n == out.extra_nets.n);
		recreate_out_release(&out);
	}
	net = network_create_body(inspect);
	check_body(net);
	free(net);
	(void)volume_is_ephemeral(inspect);
	strlist_clear(&binds);
	strlist_clear(&missing);
	yajl_tree_free(inspect);
	return 0;
}
