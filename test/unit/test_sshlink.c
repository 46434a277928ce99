/*
 * test_sshlink.c - the pure parts of the SSH transport: --to parsing,
 * strict because the value reaches ssh config and the remote shell, and
 * shell quoting, proven by running the quoted word through /bin/sh.
 */
#include "unit.h"

#include <dlfcn.h>
#include <libssh/libssh.h>

#include "sshcompat.h"
#include "sshlink.h"

static void parses(const char *spec, const char *user, const char *host,
		   int port)
{
	struct ssh_target t;

	if (ssh_target_parse(spec, &t) < 0)
		fail_msg("ssh_target_parse(\"%s\"): %s", spec, dm_errmsg());
	if (user)
		assert_string_equal(t.user, user);
	else
		assert_null(t.user);
	assert_string_equal(t.host, host);
	assert_int_equal(t.port, port);
	ssh_target_release(&t);
	assert_null(t.user);
	assert_null(t.host);
}

static void rejects(const char *spec)
{
	struct ssh_target t;

	dm_clear_error();
	if (ssh_target_parse(spec, &t) == 0)
		fail_msg("ssh_target_parse(\"%s\") accepted it: user=%s "
			 "host=%s port=%d", spec, t.user ? t.user : "(null)",
			 t.host, t.port);
	/* nothing half-filled is left to free */
	assert_null(t.user);
	assert_null(t.host);
	assert_int_equal(t.port, 0);
	if (*spec)
		assert_contains(dm_errmsg(), spec);
}

static void target_plain_host(void **state)
{
	(void)state;
	parses("node2", NULL, "node2", 0);
}

static void target_user_and_host(void **state)
{
	(void)state;
	parses("root@node2", "root", "node2", 0);
}

static void target_ssh_url_with_port(void **state)
{
	(void)state;
	parses("ssh://root@node2:2222", "root", "node2", 2222);
	parses("ssh://node2", NULL, "node2", 0);
}

static void target_ipv6_in_brackets(void **state)
{
	(void)state;
	parses("[::1]:22", NULL, "::1", 22);
	parses("admin@[fe80::1]", "admin", "fe80::1", 0);
}

static void target_ipv4_and_dotted_names(void **state)
{
	(void)state;
	parses("10.77.0.12", NULL, "10.77.0.12", 0);
	parses("deploy_user@node-2.example.com:65535", "deploy_user",
	       "node-2.example.com", 65535);
}

static void target_rejects_empty_parts(void **state)
{
	struct ssh_target t;

	(void)state;
	assert_int_equal(ssh_target_parse(NULL, &t), -1);
	rejects("");
	rejects("user@");
	rejects("@node2");
	rejects("node2:");
	rejects("ssh://");
}

static void target_rejects_bad_ports(void **state)
{
	(void)state;
	rejects("host:port:extra");
	rejects("host:99999");
	rejects("host:65536");
	rejects("host:0");
	rejects("host:22x");
	rejects("host:-1");
	rejects("[::1]:");
}

static void target_rejects_shell_and_option_injection(void **state)
{
	(void)state;
	rejects("a;rm -rf /");
	rejects("a;reboot");
	rejects("$(id)");
	rejects("`id`");
	rejects("node2 -v");
	rejects("-oProxyCommand=x");
	rejects("-oProxyCommand=x@node2");
	rejects("root@-oProxyCommand=x");
	rejects("a@b@node2");
}

static void target_rejects_paths_and_other_schemes(void **state)
{
	(void)state;
	rejects("ssh://h/path");
	rejects("http://h");
	rejects("tcp://h:2375");
}

static void target_rejects_malformed_ipv6(void **state)
{
	(void)state;
	rejects("[::1");
	rejects("[::1]x");
	rejects("[zz::1]");
	rejects("[]");
	rejects("::1");
}

/* ------------------------------------------------------------------ */

/* What /bin/sh makes of the quoted word: it must be the input again. */
static void round_trips_through_sh(const char *s)
{
	char *q = sh_quote(s), *cmd = xasprintf("printf %%s %s", q);
	struct strbuf out = STRBUF_INIT;
	char buf[256];
	size_t n;
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		sb_add(&out, buf, n);
	assert_int_equal(pclose(p), 0);
	if (out.len != strlen(s) || memcmp(sb_str(&out), s, out.len) != 0)
		fail_msg("sh_quote(\"%s\") = %s, and sh printed \"%s\"", s, q,
			 sb_str(&out));
	sb_release(&out);
	free(cmd);
	free(q);
}

static void quote_plain_words(void **state)
{
	(void)state;
	round_trips_through_sh("");
	round_trips_through_sh("plain");
	round_trips_through_sh("/srv/data dir/with  two spaces");
}

static void quote_single_and_double_quotes(void **state)
{
	(void)state;
	round_trips_through_sh("it's");
	round_trips_through_sh("'");
	round_trips_through_sh("''''");
	round_trips_through_sh("\"double\" and 'single'");
	round_trips_through_sh("end\\");
}

static void quote_expansions_stay_literal(void **state)
{
	(void)state;
	round_trips_through_sh("$(id)");
	round_trips_through_sh("`id`");
	round_trips_through_sh("$HOME ${PATH} $1 $$ $?");
	round_trips_through_sh("*; rm -rf / &");
	round_trips_through_sh("a|b>c<d");
	round_trips_through_sh("~root");
	round_trips_through_sh("!x #y");
}

static void quote_newlines_and_tabs(void **state)
{
	(void)state;
	round_trips_through_sh("line1\nline2\n");
	round_trips_through_sh("\n");
	round_trips_through_sh("a\tb\rc");
	round_trips_through_sh("-n");
	round_trips_through_sh("héllo wörld");
}

static void quote_form_is_single_quotes(void **state)
{
	char *q = sh_quote("it's");

	(void)state;
	assert_string_equal(q, "'it'\\''s'");
	free(q);
}

/* The server's OpenSSH version from its banner, as libssh should read it:
 * 0.10 took "OpenSSH_10.0" for no OpenSSH and refused every forward. */
static void openssh_versions(void **state)
{
	(void)state;
	assert_int_equal(openssh_version_of("SSH-2.0-OpenSSH_10.6p1 Debian-1"),
			 SSH_VERSION_INT(10, 6, 0));
	assert_int_equal(openssh_version_of("SSH-2.0-OpenSSH_10.0"),
			 SSH_VERSION_INT(10, 0, 0));
	assert_int_equal(openssh_version_of("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"),
			 SSH_VERSION_INT(9, 2, 0));
	assert_int_equal(openssh_version_of("SSH-2.0-OpenSSH_7"),
			 SSH_VERSION_INT(7, 0, 0));
	assert_int_equal(openssh_version_of("SSH-2.0-OpenSSH_123.45"),
			 SSH_VERSION_INT(123, 45, 0));
	assert_int_equal(openssh_version_of("SSH-2.0-dropbear_2022.83"), 0);
	assert_int_equal(openssh_version_of("SSH-2.0-OpenSSH_"), 0);
	assert_int_equal(openssh_version_of("SSH-2.0-OpenSSH_x.1"), 0);
	assert_int_equal(openssh_version_of("SSH-2.0-OpenSSH_0.9"), 0);
	assert_int_equal(openssh_version_of("SSH-2.0-OpenSSH_999.1"), 0);
	assert_int_equal(openssh_version_of("OpenSSH_10.0"), 0);
	assert_int_equal(openssh_version_of(NULL), 0);
}

/* libssh's own calls must reach the definition in the program: the
 * dynamic linker resolves the name to it, not to the library's. */
static void openssh_version_is_interposed(void **state)
{
	(void)state;
	assert_ptr_equal(dlsym(RTLD_DEFAULT, "ssh_get_openssh_version"),
			 (void *)ssh_get_openssh_version);
	assert_int_equal(ssh_get_openssh_version(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(target_plain_host),
		cmocka_unit_test(target_user_and_host),
		cmocka_unit_test(target_ssh_url_with_port),
		cmocka_unit_test(target_ipv6_in_brackets),
		cmocka_unit_test(target_ipv4_and_dotted_names),
		cmocka_unit_test(target_rejects_empty_parts),
		cmocka_unit_test(target_rejects_bad_ports),
		cmocka_unit_test(target_rejects_shell_and_option_injection),
		cmocka_unit_test(target_rejects_paths_and_other_schemes),
		cmocka_unit_test(target_rejects_malformed_ipv6),
		cmocka_unit_test(quote_plain_words),
		cmocka_unit_test(quote_single_and_double_quotes),
		cmocka_unit_test(quote_expansions_stay_literal),
		cmocka_unit_test(quote_newlines_and_tabs),
		cmocka_unit_test(quote_form_is_single_quotes),
		cmocka_unit_test(openssh_versions),
		cmocka_unit_test(openssh_version_is_interposed),
	};

	return cmocka_run_group_tests_name("sshlink", tests, NULL, NULL);
}
