/*
 * fuzz_registry.c - the parsers of what a registry sends: manifests and
 * lists (reg_manifest_parse, for two platforms and with and without a
 * Content-Type), image configs (reg_config_diff_ids), WWW-Authenticate
 * challenges, and the --registry value.
 * Invariants: an accepted image manifest has a config and layers with
 * valid digests and sizes >= 0; an accepted list names a valid digest;
 * a refused document leaves nothing allocated and says why; an accepted
 * --registry host has no character a URL or a shell would read as syntax.
 */
#include <string.h>

#include "fuzz.h"
#include "registry.h"

static void check_manifest(const char *in, size_t n, const char *ctype,
			   const char *platform)
{
	struct reg_manifest m;

	if (reg_manifest_parse(in, n, ctype, platform, &m) < 0) {
		FUZZ_ASSERT(!m.layers && !m.config.digest && !m.pick);
		FUZZ_ASSERT(*dm_errmsg());
		return;
	}
	if (m.kind == REG_INDEX) {
		FUZZ_ASSERT(reg_digest_ok(m.pick));
	} else {
		FUZZ_ASSERT(reg_digest_ok(m.config.digest) && m.config.size >= 0);
		for (size_t i = 0; i < m.n; i++)
			FUZZ_ASSERT(reg_digest_ok(m.layers[i].digest) &&
				    m.layers[i].size >= 0 &&
				    m.layers[i].media_type);
	}
	reg_manifest_release(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	char *s = fuzz_cstr(data, size), *scheme, *host;
	struct strlist ids = { 0 };
	struct reg_challenge c;

	check_manifest(in, size, NULL, "linux/amd64");
	check_manifest(in, size, "application/vnd.oci.image.index.v1+json",
		       "linux/arm64/v8");
	if (reg_config_diff_ids(in, size, &ids) == 0)
		for (size_t i = 0; i < ids.n; i++)
			FUZZ_ASSERT(reg_digest_ok(ids.v[i]));
	strlist_clear(&ids);
	if (reg_challenge_parse(s, &c) == 0)
		FUZZ_ASSERT(c.scheme && *c.scheme);
	reg_challenge_release(&c);
	if (reg_spec_parse(s, &scheme, &host) == 0) {
		FUZZ_ASSERT(*host && !strpbrk(host, "/@?#;$ \t\n'\"\\`"));
		free(scheme);
		free(host);
	} else {
		FUZZ_ASSERT(!scheme && !host);
	}
	free(s);
	return 0;
}
