/*
 * context.c - resolve the source engine exactly as the Docker CLI does,
 * so that "docker --context X migrate ..." migrates from what
 * "docker --context X ps" lists.  Order (docker/cli command/cli.go):
 * --context, then -H (default context), DOCKER_HOST (default context),
 * DOCKER_CONTEXT, currentContext of config.json, "default".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "context.h"
#include "dm.h"
#include "json.h"

#define DEFAULT_HOST "unix:///var/run/docker.sock"
/* config.json and meta.json are small; anything larger is not ours. */
#define MAX_CONFIG_SIZE (4 << 20)

void docker_env_from_process(struct docker_env *env)
{
	env->docker_host = getenv("DOCKER_HOST");
	env->docker_context = getenv("DOCKER_CONTEXT");
	env->docker_config = getenv("DOCKER_CONFIG");
	env->docker_tls_verify = getenv("DOCKER_TLS_VERIFY");
	env->docker_cert_path = getenv("DOCKER_CERT_PATH");
	env->home = getenv("HOME");
}

void endpoint_release(struct endpoint *ep)
{
	free(ep->context);
	free(ep->host);
	free(ep->ca);
	free(ep->cert);
	free(ep->key);
	memset(ep, 0, sizeof(*ep));
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int nonempty(const char *s)
{
	return s && *s;
}

char *docker_config_dir(const struct globalopts *g, const struct docker_env *env)
{
	if (nonempty(g->config_dir))
		return xstrdup(g->config_dir);
	if (nonempty(env->docker_config))
		return xstrdup(env->docker_config);
	return xasprintf("%s/.docker", nonempty(env->home) ? env->home : "/root");
}

char *context_name_resolve(const struct globalopts *g,
			   const struct docker_env *env)
{
	(void)env;
	if (nonempty(g->context))
		return xstrdup(g->context);
	if (g->hosts.n > 0 || nonempty(env->docker_host))
		return xstrdup("default");
	if (nonempty(env->docker_context))
		return xstrdup(env->docker_context);
	return NULL;	/* the caller consults config.json */
}

/* Read a small file whole; -1 with ENOENT kept in errno when absent. */
static int read_small_file(const char *path, struct strbuf *sb)
{
	char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (sb->len + (size_t)n > MAX_CONFIG_SIZE) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
		sb_add(sb, buf, (size_t)n);
	}
	close(fd);
	return n < 0 ? -1 : 0;
}

/* currentContext from config.json; NULL when absent.  -1 on bad JSON. */
static int config_current_context(const char *dir, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = xasprintf("%s/config.json", dir);
	const char *cur;
	yajl_val doc;
	int ret = 0;

	*out = NULL;
	if (read_small_file(path, &sb) < 0) {
		if (errno != ENOENT)
			ret = dm_error("cannot read %s: %s", path,
				       strerror(errno));
		goto out;
	}
	if (sb.len == 0)
		goto out;
	doc = json_parse(sb.buf, sb.len, path);
	if (!doc) {
		ret = -1;
		goto out;
	}
	cur = json_str(doc, "currentContext", NULL);
	if (nonempty(cur))
		*out = xstrdup(cur);
	yajl_tree_free(doc);
out:
	sb_release(&sb);
	free(path);
	return ret;
}

/* tcp:// addresses as the CLI's ParseTCPAddr fills them: a missing host
 * is localhost, a missing port 2375 (TLS or not). */
static char *tcp_host(const char *rest)
{
	const char *colon = strrchr(rest, ':');
	const char *bracket = strchr(rest, ']');

	if (!*rest)
		return xstrdup("tcp://localhost:2375");
	if (rest[0] == ':')
		return xasprintf("tcp://localhost%s", rest[1] ? rest : ":2375");
	if (!colon || (bracket && colon < bracket))
		return xasprintf("tcp://%s:2375", rest);
	if (!colon[1])
		return xasprintf("tcp://%.*s:2375", (int)(colon - rest), rest);
	return xasprintf("tcp://%s", rest);
}

char *docker_host_normalize(const char *host, int tls)
{
	char *trimmed, *res, *end;
	const char *p = host ? host : "";

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	trimmed = xstrdup(p);
	end = trimmed + strlen(trimmed);
	while (end > trimmed && (end[-1] == ' ' || end[-1] == '\t' ||
				 end[-1] == '\n'))
		*--end = '\0';
	if (!*trimmed) {
		free(trimmed);
		/* ParseHost: no host means the default, TLS or not */
		return xstrdup(tls ? "tcp://localhost:2376" : DEFAULT_HOST);
	}
	/* strip a trailing "/" as the CLI does for tcp:// hosts */
	if (dm_starts_with(trimmed, "tcp://") && end > trimmed + 6 &&
	    end[-1] == '/')
		*--end = '\0';
	if (dm_starts_with(trimmed, "unix://")) {
		res = strlen(trimmed) > 7 ? xstrdup(trimmed)
					  : xstrdup(DEFAULT_HOST);
	} else if (dm_starts_with(trimmed, "tcp://")) {
		res = tcp_host(trimmed + 6);
	} else if (dm_starts_with(trimmed, "ssh://") ||
		   dm_starts_with(trimmed, "fd://") ||
		   dm_starts_with(trimmed, "npipe://")) {
		res = xstrdup(trimmed);
	} else if (trimmed[0] == '/') {
		/* the CLI refuses a bare path; a socket is what it means */
		res = xasprintf("unix://%s", trimmed);
	} else if (strstr(trimmed, "://")) {
		res = NULL;
		dm_error("invalid host \"%s\": unsupported protocol", trimmed);
	} else {
		res = tcp_host(trimmed);
	}
	free(trimmed);
	return res;
}

static int file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* The default context: -H or DOCKER_HOST, TLS from flags and env. */
static int resolve_default(const struct globalopts *g,
			   const struct docker_env *env, const char *cfgdir,
			   struct endpoint *ep)
{
	const char *host = g->hosts.n ? g->hosts.v[0] : env->docker_host;
	const char *certdir = nonempty(env->docker_cert_path)
				      ? env->docker_cert_path : cfgdir;
	int verify = g->tlsverify_set ? g->tlsverify
				      : nonempty(env->docker_tls_verify);

	if (g->hosts.n > 1)
		return dm_error("specify only one -H");
	ep->context = xstrdup("default");
	ep->tls = g->tls || verify || g->tlsverify_set;
	ep->tls_verify = verify;
	ep->host = docker_host_normalize(host, ep->tls);
	if (!ep->host)
		return -1;
	if (!ep->tls)
		return 0;
	ep->ca = nonempty(g->tlscacert) ? xstrdup(g->tlscacert)
					: xasprintf("%s/ca.pem", certdir);
	ep->cert = nonempty(g->tlscert) ? xstrdup(g->tlscert)
					: xasprintf("%s/cert.pem", certdir);
	ep->key = nonempty(g->tlskey) ? xstrdup(g->tlskey)
				      : xasprintf("%s/key.pem", certdir);
	/* like the CLI: defaults that do not exist are simply not used */
	if (!nonempty(g->tlscert) && !file_exists(ep->cert)) {
		free(ep->cert);
		ep->cert = NULL;
	}
	if (!nonempty(g->tlskey) && !file_exists(ep->key)) {
		free(ep->key);
		ep->key = NULL;
	}
	if (!nonempty(g->tlscacert) && !file_exists(ep->ca)) {
		free(ep->ca);
		ep->ca = NULL;
	}
	return 0;
}

static char *tls_file(const char *tlsdir, const char *name)
{
	char *p = xasprintf("%s/%s", tlsdir, name);

	if (file_exists(p))
		return p;
	free(p);
	return NULL;
}

/* A named context from the store: contexts/meta/<sha256>/meta.json. */
static int resolve_stored(const char *name, const char *cfgdir,
			  struct endpoint *ep)
{
	struct strbuf sb = STRBUF_INIT;
	char hex[65], *meta, *tlsdir;
	const char *host;
	yajl_val doc;
	int ret = -1;

	sha256_hex(name, strlen(name), hex);
	meta = xasprintf("%s/contexts/meta/%s/meta.json", cfgdir, hex);
	tlsdir = xasprintf("%s/contexts/tls/%s/docker", cfgdir, hex);
	if (read_small_file(meta, &sb) < 0) {
		if (errno == ENOENT)
			dm_error("context \"%s\" does not exist (looked for %s;"
				 " see 'docker context ls')", name, meta);
		else
			dm_error("cannot read %s: %s", meta, strerror(errno));
		goto out;
	}
	doc = json_parse(sb_str(&sb), sb.len, meta);
	if (!doc)
		goto out;
	host = json_str(doc, "Endpoints", "docker", "Host", NULL);
	if (!nonempty(host)) {
		dm_error("context \"%s\" has no docker endpoint (%s)", name,
			 meta);
		yajl_tree_free(doc);
		goto out;
	}
	ep->context = xstrdup(name);
	ep->ca = tls_file(tlsdir, "ca.pem");
	ep->cert = tls_file(tlsdir, "cert.pem");
	ep->key = tls_file(tlsdir, "key.pem");
	ep->tls = ep->ca || ep->cert;
	ep->tls_verify = ep->tls &&
		!json_true(doc, "Endpoints", "docker", "SkipTLSVerify", NULL);
	ep->host = docker_host_normalize(host, ep->tls);
	yajl_tree_free(doc);
	ret = ep->host ? 0 : -1;
out:
	sb_release(&sb);
	free(meta);
	free(tlsdir);
	return ret;
}

int endpoint_resolve(const struct globalopts *g, const struct docker_env *env,
		     struct endpoint *ep)
{
	char *cfgdir = docker_config_dir(g, env);
	char *name = NULL;
	int ret = -1;

	memset(ep, 0, sizeof(*ep));
	if (nonempty(g->context) && g->hosts.n > 0) {
		dm_error("conflicting options: either specify --host or "
			 "--context, not both");
		goto out;
	}
	name = context_name_resolve(g, env);
	if (!name && config_current_context(cfgdir, &name) < 0)
		goto out;
	if (!name || strcmp(name, "default") == 0)
		ret = resolve_default(g, env, cfgdir, ep);
	else
		ret = resolve_stored(name, cfgdir, ep);
out:
	if (ret < 0)
		endpoint_release(ep);
	free(name);
	free(cfgdir);
	return ret;
}
