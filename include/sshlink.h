/*
 * sshlink.h - the SSH transport: one libssh session to a host, verified
 * against known_hosts, and any number of byte streams over it, each handed
 * to the caller as an ordinary socket file descriptor (a socketpair whose
 * other end a bridge thread pumps to and from an SSH channel).  Everything
 * above it (libcurl, tar streams) just reads and writes fds, and never
 * assumes that either engine is local.
 */
#ifndef DM_SSHLINK_H
#define DM_SSHLINK_H

#include <stddef.h>

struct strbuf;

/* [ssh://][USER@]HOST[:PORT], checked strictly: it reaches ssh config. */
struct ssh_target {
	char *user;	/* NULL: from ssh config, then $USER */
	char *host;	/* a name, an IPv4 address or an IPv6 one (no []) */
	int port;	/* 0: from ssh config, then 22 */
};
int ssh_target_parse(const char *spec, struct ssh_target *t);
void ssh_target_release(struct ssh_target *t);

struct ssh_opts {
	const char *config_file;	/* NULL: ~/.ssh/config */
	int connect_timeout_s;		/* 0: 15 s */
	int stall_timeout_s;		/* a stream that moves no byte this
					   long fails; 0: 60 s */
};

struct sshlink;

/* Connect, verify the host key, authenticate with agent/keys. */
struct sshlink *sshlink_open(const struct ssh_target *t,
			     const struct ssh_opts *o);
void sshlink_close(struct sshlink *l);
/* "user@host:port", for messages. */
const char *sshlink_name(const struct sshlink *l);

/* A local unix socket (in a private 0700 directory) standing for the
 * remote engine's: each connection to it becomes a stream to remote_path
 * (direct-streamlocal), or to "docker system dial-stdio" when sshd refuses
 * forwarding or stdio_only is set.  The path belongs to the link. */
const char *sshlink_engine_socket(struct sshlink *l, const char *remote_path,
				  int stdio_only);
/* False once the session failed (link down, sshd gone). */
int sshlink_alive(struct sshlink *l);
/* Why the last stream could not be opened ("" if none failed). */
const char *sshlink_last_error(struct sshlink *l);
/* Why the session is gone, or "" when it still looks alive after waiting
 * up to wait_ms: found dead by the bridge, or its socket hung up by the
 * server.  A stream that broke may be the first sign of a killed sshd,
 * seen before the bridge has read the session's end: a caller explaining
 * that stream asks here before blaming the far end of the stream. */
const char *sshlink_lost(struct sshlink *l, int wait_ms);

/* A stream to a unix socket on the remote (direct-streamlocal). */
int sshlink_dial_unix(struct sshlink *l, const char *path);
/* A stream to a remote command's stdin/stdout (stderr goes to debug). */
int sshlink_dial_exec(struct sshlink *l, const char *command);

/* Run a command on the remote and collect its stdout (at most max bytes).
 * Used for checks on the destination host (paths, free space). */
int sshlink_run(struct sshlink *l, const char *command, struct strbuf *out,
		size_t max);

/* Does the ssh config (NULL: ~/.ssh/config) give host a HostName of its
 * own, as a Host entry for it would? */
int ssh_config_names_host(const char *config_file, const char *host);

/* Quote s for a POSIX shell on the remote side: 'it'\''s'. */
char *sh_quote(const char *s);

#endif
