/*
 * creds.c - registry credentials, found where the docker CLI finds them:
 * a credential helper named for the registry in "credHelpers", else the
 * "credsStore" helper, else the base64 "auth" of "auths" in config.json.
 * A helper is the program docker-credential-NAME, run without a shell, the
 * registry's address on its stdin, a JSON answer on its stdout.
 *
 * Credentials live in memory only as long as needed and are wiped; they
 * are never printed, logged or recorded.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "json.h"
#include "registry.h"

extern char **environ;

#define HELPER_TIMEOUT_MS 30000
#define MAX_ANSWER 65536

static void wipe(struct strbuf *sb)
{
	if (sb->buf)
		memset(sb->buf, 0, sb->cap);
	sb_release(sb);
}

static yajl_val read_config(const char *cfgdir)
{
	char *path = xasprintf("%s/config.json", cfgdir);
	struct strbuf sb = STRBUF_INIT;
	yajl_val doc = NULL;
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0 && sb.len < (1 << 20))
		sb_add(&sb, buf, n);
	if (f)
		fclose(f);
	if (sb.len)
		doc = json_parse(sb.buf, sb.len, path);
	wipe(&sb);
	free(path);
	return doc;
}

/* Run docker-credential-NAME get for host: 1 found, 0 not, -1 failed. */
static int run_helper(const char *name, const char *host, char **user,
		      char **secret)
{
	char *prog = xasprintf("docker-credential-%s", name);
	char *argv[] = { prog, (char *)"get", NULL };
	posix_spawn_file_actions_t fa;
	struct strbuf out = STRBUF_INIT;
	int in[2] = { -1, -1 }, op[2] = { -1, -1 }, status = 0, ret = -1;
	int64_t deadline = dm_now_ms() + HELPER_TIMEOUT_MS;
	yajl_val doc = NULL;
	pid_t pid = -1;

	if (strchr(name, '/') || !*name) {
		dm_error("config.json names a credential helper \"%s\": not a "
			 "helper name", name);
		goto out;
	}
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(op, O_CLOEXEC) < 0) {
		dm_error("pipe: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, op[1], 1);
	errno = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(op[1]);
	in[0] = op[1] = -1;
	if (errno) {
		pid = -1;
		dm_error("cannot run the credential helper %s: %s (named in "
			 "config.json)", prog, strerror(errno));
		goto out;
	}
	/* the address: a few bytes, far below the pipe's capacity */
	if (write(in[1], host, strlen(host)) < 0) {
		/* read what it says anyway */
	}
	close(in[1]);
	in[1] = -1;
	for (;;) {
		struct pollfd p = { op[0], POLLIN, 0 };
		int64_t left = deadline - dm_now_ms();
		char buf[4096];
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			dm_error("the credential helper %s did not answer within "
				 "%d s", prog, HELPER_TIMEOUT_MS / 1000);
			goto out;
		}
		n = read(op[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out.len + (size_t)n > MAX_ANSWER) {
			dm_error("the credential helper %s says too much", prog);
			goto out;
		}
		sb_add(&out, buf, (size_t)n);
		memset(buf, 0, sizeof(buf));
	}
	waitpid(pid, &status, 0);
	pid = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* the helpers' protocol: "not found" is an answer, not an error */
		if (out.len && strstr(sb_str(&out), "credentials not found")) {
			ret = 0;
			goto out;
		}
		dm_error("the credential helper %s failed for %s", prog, host);
		goto out;
	}
	doc = json_parse_quiet(out.buf ? out.buf : "", out.len);
	if (!json_str(doc, "Secret", NULL)) {
		dm_error("the credential helper %s gave no credentials", prog);
		goto out;
	}
	*user = xstrdup(json_str(doc, "Username", NULL) ?: "");
	*secret = xstrdup(json_str(doc, "Secret", NULL));
	ret = 1;
out:
	if (doc) {
		const char *s = json_str(doc, "Secret", NULL);

		if (s)
			memset((char *)s, 0, strlen(s));
	}
	yajl_tree_free(doc);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (op[i] >= 0)
			close(op[i]);
	}
	wipe(&out);
	free(prog);
	return ret;
}

/* auths[key].auth, base64 "user:secret". */
static int from_auths(yajl_val doc, const char *host, char **user,
		      char **secret)
{
	const char *keys[3] = { host, NULL, NULL };
	char *k1 = xasprintf("https://%s", host), *k2 = xasprintf("http://%s", host);
	const char *auth = NULL;
	int ret = 0;

	keys[1] = k1;
	keys[2] = k2;
	for (int i = 0; i < 3 && !auth; i++)
		auth = json_str(doc, "auths", keys[i], "auth", NULL);
	if (auth) {
		size_t len = strlen(auth);
		unsigned char *raw = xcalloc(1, len + 4);
		int n = len < (1 << 16) ? EVP_DecodeBlock(raw, (const unsigned char *)auth,
							  (int)len) : -1;
		char *colon = n > 0 ? memchr(raw, ':', (size_t)n) : NULL;

		if (!colon) {
			ret = dm_error("config.json: the credentials for %s are "
				       "malformed (docker login %s again)", host,
				       host);
		} else {
			*colon = '\0';
			*user = xstrdup((char *)raw);
			*secret = xstrdup(colon + 1);
			ret = 1;
		}
		memset(raw, 0, len + 4);
		free(raw);
	}
	free(k1);
	free(k2);
	return ret;
}

int registry_creds(const char *cfgdir, const char *host, char **user,
		   char **secret)
{
	yajl_val doc = read_config(cfgdir);
	const char *helper;
	int ret;

	*user = *secret = NULL;
	helper = json_str(doc, "credHelpers", host, NULL);
	if (!helper)
		helper = json_str(doc, "credsStore", NULL);
	if (helper && *helper)
		ret = run_helper(helper, host, user, secret);
	else
		ret = from_auths(doc, host, user, secret);
	/* a file store without an entry: anonymous, like the CLI */
	yajl_tree_free(doc);
	dm_debug("registry %s: %s", host, ret == 1 ? "credentials found"
		 : ret == 0 ? "no credentials" : "credentials failed");
	return ret;
}
