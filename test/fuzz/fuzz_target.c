/*
 * fuzz_target.c - the --to parser (ssh_target_parse) and the shell
 * quoting of what is sent to the remote side (sh_quote).  The input is
 * one command-line argument (cut at a NUL, as argv would be).
 * Invariants: an accepted destination has a host made only of name
 * characters (or hex and colons for IPv6), a port in 1..65535 or 0, a
 * user of name characters -- nothing a shell or ssh config would read as
 * syntax -- and prints back to a spec that parses to the same target;
 * sh_quote's output, read as a POSIX shell word, is the input again.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshlink.h"

static int name_chars(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return 0;
	return 1;
}

static void check_target(const struct ssh_target *t)
{
	struct ssh_target again;
	char *spec;
	int v6;

	FUZZ_ASSERT(t->host && *t->host && t->host[0] != '-');
	v6 = strchr(t->host, ':') != NULL;
	FUZZ_ASSERT(v6 ? strspn(t->host, "0123456789abcdefABCDEF:.") ==
				 strlen(t->host)
		       : name_chars(t->host));
	FUZZ_ASSERT(t->port >= 0 && t->port <= 65535);
	FUZZ_ASSERT(!t->user || (*t->user && t->user[0] != '-' &&
				 name_chars(t->user)));
	spec = xasprintf("ssh://%s%s%s%s%s%s", t->user ? t->user : "",
			 t->user ? "@" : "", v6 ? "[" : "", t->host,
			 v6 ? "]" : "", t->port ? ":" : "");
	if (t->port) {
		char *p = xasprintf("%s%d", spec, t->port);

		free(spec);
		spec = p;
	}
	FUZZ_ASSERT(ssh_target_parse(spec, &again) == 0);
	FUZZ_ASSERT(strcmp(again.host, t->host) == 0);
	FUZZ_ASSERT(again.port == t->port);
	FUZZ_ASSERT(!t->user == !again.user &&
		    (!t->user || strcmp(t->user, again.user) == 0));
	ssh_target_release(&again);
	free(spec);
}

/* Read one POSIX shell word made of '...' runs and \' (all sh_quote
 * may write); NULL when anything else appears. */
static char *shell_word(const char *q)
{
	struct strbuf sb = STRBUF_INIT;

	while (*q) {
		if (q[0] == '\\' && q[1] == '\'') {
			sb_add(&sb, "'", 1);
			q += 2;
		} else if (*q == '\'') {
			const char *end = strchr(q + 1, '\'');

			if (!end)
				break;
			sb_add(&sb, q + 1, (size_t)(end - q - 1));
			q = end + 1;
		} else {
			break;
		}
	}
	if (*q) {
		sb_release(&sb);
		return NULL;
	}
	return sb_detach(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = fuzz_cstr(data, size), *quoted, *word;
	struct ssh_target t;

	if (ssh_target_parse(spec, &t) == 0)
		check_target(&t);
	else
		FUZZ_ASSERT(!t.user && !t.host && *dm_errmsg());
	ssh_target_release(&t);

	quoted = sh_quote(spec);
	word = shell_word(quoted);
	FUZZ_ASSERT(word && strcmp(word, spec) == 0);
	free(word);
	free(quoted);
	free(spec);
	return 0;
}
