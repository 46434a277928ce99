/*
 * ssh_compat.c - libssh 0.10 against OpenSSH 10 and later.
 *
 * libssh decides whether the server is OpenSSH (and which version) from
 * its banner, and refuses "direct-streamlocal" forwarding, the channel that
 * reaches the remote engine's socket, when it thinks it is not.  Its parser
 * up to 0.11.1 (Debian 12 ships 0.10.6) reads the minor version at a fixed
 * offset after a one-digit major, so "SSH-2.0-OpenSSH_10.0" is taken for
 * "not OpenSSH" and every forward fails with "We're not connected to an
 * OpenSSH server!".  The library calls its own exported
 * ssh_get_openssh_version() through the dynamic symbol table, so the
 * definition below, in the executable, answers in its place: the same
 * contract (SSH_VERSION_INT(major, minor, 0), or 0 when not OpenSSH), any
 * number of digits.  With a libssh that parses correctly it changes nothing.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>

#include "sshcompat.h"

int openssh_version_of(const char *banner)
{
	static const char tag[] = "OpenSSH_";
	const char *p;
	char *end;
	long major, minor = 0;

	if (!banner || strncmp(banner, "SSH-", 4) != 0)
		return 0;
	p = strstr(banner, tag);
	if (!p)
		return 0;
	p += sizeof(tag) - 1;
	if (!isdigit((unsigned char)*p))
		return 0;
	major = strtol(p, &end, 10);
	if (major < 1 || major > 255)
		return 0;
	if (*end == '.' && isdigit((unsigned char)end[1])) {
		minor = strtol(end + 1, &end, 10);
		if (minor > 255)
			return 0;
	}
	return SSH_VERSION_INT(major, minor, 0);
}

/* Interposes libssh's own (see above); exported by the link (-rdynamic
 * is not needed: the library's reference to it makes the linker export
 * it, which test_sshlink checks). */
int ssh_get_openssh_version(ssh_session session)
{
	return session ? openssh_version_of(ssh_get_serverbanner(session)) : 0;
}
