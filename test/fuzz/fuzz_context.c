/*
 * fuzz_context.c - the files the source engine is resolved from: docker's
 * config.json (currentContext) and a context's meta.json (the docker
 * endpoint's Host), and the -H / DOCKER_HOST value normalized as the CLI
 * does.  The input is three parts separated by a "\n--\n" line:
 *     config.json \n--\n meta.json \n--\n host
 * config.json is written to a scratch config directory; meta.json to the
 * context store, under the hash of the name config.json names ("fz" when
 * it names none), so both files are read.  endpoint_resolve then runs as
 * "docker migrate", "docker --context NAME migrate", "DOCKER_HOST=host
 * DOCKER_TLS_VERIFY=1 docker migrate" and "docker -H host --tls migrate".
 * Invariant: a resolved endpoint has a context and a host with a scheme.
 */
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "fuzz.h"
#include "json.h"

#define SEP "\n--\n"

/* The next part of the input; *p and *n move past it and its separator. */
static const char *part(const char **p, size_t *n, size_t *len)
{
	const char *s = *p, *sep = memmem(s, *n, SEP, 4);

	*len = sep ? (size_t)(sep - s) : *n;
	*p = sep ? sep + 4 : s + *n;
	*n -= (size_t)(*p - s);
	return s;
}

static void check(int ret, struct endpoint *ep)
{
	static const char *const schemes[] = { "unix://", "tcp://", "ssh://",
					       "fd://", "npipe://" };
	int known = 0;

	if (ret < 0) {
		FUZZ_ASSERT(!ep->host && !ep->context);
		return;
	}
	FUZZ_ASSERT(ep->context && ep->host);
	for (size_t i = 0; i < sizeof(schemes) / sizeof(*schemes); i++)
		known |= dm_starts_with(ep->host, schemes[i]);
	FUZZ_ASSERT(known);
	endpoint_release(ep);
}

static void normalize(const char *host, int tls)
{
	struct endpoint ep = { .host = docker_host_normalize(host, tls) };

	if (ep.host)
		ep.context = xstrdup("default");
	check(ep.host ? 0 : -1, &ep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *last_meta;	/* the previous input's, removed first */
	const char *cfg = fuzz_dir(), *p = (const char *)data, *s, *cur;
	size_t n = size, len;
	char hex[65], *name, *rel, *host;
	struct globalopts g = { .config_dir = cfg };
	struct docker_env env = { .home = "/nonexistent" };
	struct endpoint ep;
	yajl_val doc;

	if (last_meta) {
		char *dir = xasprintf("%s/%s", cfg, last_meta);

		unlink(dir);
		*strrchr(dir, '/') = '\0';
		rmdir(dir);
		free(dir);
		free(last_meta);
	} else {	/* first input: --tls finds a CA, no cert */
		fuzz_write(cfg, "ca.pem", "", 0);
	}

	s = part(&p, &n, &len);
	fuzz_write(cfg, "config.json", s, len);
	doc = json_parse(s, len, "config.json");
	cur = json_str(doc, "currentContext", NULL);
	name = xstrdup(cur && *cur ? cur : "fz");
	yajl_tree_free(doc);
	sha256_hex(name, strlen(name), hex);
	rel = xasprintf("contexts/meta/%s/meta.json", hex);
	s = part(&p, &n, &len);
	fuzz_write(cfg, rel, s, len);
	last_meta = rel;
	s = part(&p, &n, &len);
	host = xstrndup(s, len);

	/* docker migrate: currentContext, then the store */
	check(endpoint_resolve(&g, &env, &ep), &ep);
	/* docker --context NAME migrate */
	g.context = name;
	check(endpoint_resolve(&g, &env, &ep), &ep);
	g.context = NULL;
	/* DOCKER_HOST=host DOCKER_TLS_VERIFY=1 docker migrate */
	env.docker_host = host;
	env.docker_tls_verify = "1";
	check(endpoint_resolve(&g, &env, &ep), &ep);
	/* docker -H host --tls migrate */
	strlist_add(&g.hosts, host);
	g.tls = 1;
	check(endpoint_resolve(&g, &env, &ep), &ep);
	strlist_clear(&g.hosts);

	normalize(host, 0);
	normalize(host, 1);
	free(host);
	free(name);
	return 0;
}
