/*
 * sshlink.c - the SSH transport (see sshlink.h).
 *
 * libssh sessions must not be used from two threads at once, and libcurl
 * wants a socket.  So once connected, one bridge thread owns the session:
 * other threads ask it (through a mutex, a condition and a wake-up pipe) to
 * open a channel, receive one end of a socketpair, and the bridge pumps
 * bytes between the other end and the channel with non-blocking calls.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/callbacks.h>
#include <libssh/server.h>	/* ssh_send_keepalive, for clients too */

#include "dm.h"
#include "sshlink.h"

#define BUFSZ (64 * 1024)

/* ------------------------------------------------------------------ */
/* --to parsing                                                        */

void ssh_target_release(struct ssh_target *t)
{
	free(t->user);
	free(t->host);
	memset(t, 0, sizeof(*t));
}

static int valid_user(const char *s, size_t n)
{
	if (n == 0 || n > 64 || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return 0;
	return 1;
}

/* A DNS name, an ssh config alias or an IPv4 address: no shell magic. */
static int valid_hostname(const char *s, size_t n)
{
	if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return 0;
	return 1;
}

static int valid_ipv6(const char *s, size_t n)
{
	/* an IPv6 address has at least two colons ("::1") */
	if (n < 2 || n > 45 || !memchr(s, ':', n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) && !strchr(":.", s[i]))
			return 0;
	return 1;
}

static int parse_port(const char *s, int *port)
{
	long v = 0;

	if (!*s || strlen(s) > 5)
		return -1;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

int ssh_target_parse(const char *spec, struct ssh_target *t)
{
	const char *s = spec, *at, *host, *portstr = NULL;
	size_t hostlen;

	memset(t, 0, sizeof(*t));
	if (!spec || !*spec)
		return dm_error("empty destination: use --to [ssh://][USER@]HOST[:PORT]");
	if (dm_starts_with(s, "ssh://"))
		s += 6;
	else if (strstr(s, "://"))
		return dm_error("invalid destination \"%s\": only ssh:// is "
				"supported", spec);
	if (strchr(s, '/'))
		return dm_error("invalid destination \"%s\": a path is not "
				"allowed, use [ssh://][USER@]HOST[:PORT]", spec);
	at = strrchr(s, '@');
	if (at) {
		if (!valid_user(s, (size_t)(at - s)))
			return dm_error("invalid destination \"%s\": bad user "
					"name", spec);
		t->user = xstrndup(s, (size_t)(at - s));
		s = at + 1;
	}
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || !valid_ipv6(s + 1, (size_t)(close - s - 1)))
			goto bad_host;
		host = s + 1;
		hostlen = (size_t)(close - s - 1);
		if (close[1] == ':')
			portstr = close + 2;
		else if (close[1])
			goto bad_host;
	} else {
		const char *colon = strchr(s, ':');

		host = s;
		hostlen = colon ? (size_t)(colon - s) : strlen(s);
		if (colon) {
			if (strchr(colon + 1, ':'))
				goto bad_host;
			portstr = colon + 1;
		}
		if (!valid_hostname(host, hostlen))
			goto bad_host;
	}
	if (portstr && parse_port(portstr, &t->port) < 0) {
		ssh_target_release(t);
		return dm_error("invalid destination \"%s\": port must be a "
				"number from 1 to 65535", spec);
	}
	t->host = xstrndup(host, hostlen);
	return 0;
bad_host:
	ssh_target_release(t);
	return dm_error("invalid destination \"%s\": expected "
			"[ssh://][USER@]HOST[:PORT]", spec);
}

char *sh_quote(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	sb_adds(&sb, "'");
	for (; *s; s++) {
		if (*s == '\'')
			sb_adds(&sb, "'\\''");
		else
			sb_add(&sb, s, 1);
	}
	sb_adds(&sb, "'");
	return sb_detach(&sb);
}

/* ------------------------------------------------------------------ */
/* the bridge                                                          */

struct pair {
	ssh_channel ch;
	int fd;			/* the bridge's end of the socketpair */
	char up[BUFSZ];		/* fd -> channel */
	size_t up_len, up_off;
	char down[BUFSZ];	/* channel -> fd */
	size_t down_len, down_off;
	int fd_eof, eof_sent, ch_eof, wr_shut;
	int engine_stdio;	/* docker system dial-stdio: its stderr says why */
	int64_t last_move;	/* ms: last byte moved either way */
	struct pair *next;
};

enum dial_kind { DIAL_UNIX, DIAL_EXEC };
static const char DIAL_STDIO[] = "docker system dial-stdio";

struct dial_req {
	enum dial_kind kind;
	const char *arg;
	int fd;			/* bridge end, given to the bridge */
	int done, ok;
	char err[512];
};

struct sshlink {
	ssh_session s;
	char *name;
	int stall_ms;
	pthread_t thread;
	int running;
	int wake[2];		/* other threads -> bridge */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct dial_req *req;	/* one request at a time, under mu */
	int stop;		/* atomic: the bridge thread ends */
	/* Written by the bridge thread only, always under mu; other threads
	 * read them under mu, the bridge itself may read them without. */
	int dead;		/* the session failed: no more dials */
	char dead_msg[512];
	struct pair *pairs;
	/* the local socket that stands for the remote engine's */
	int lfd;
	char *ldir, *lpath, *remote_path;
	int stdio_only;		/* sshd refused forwarding: dial-stdio */
	char last_err[512];	/* why the last channel did not open */
	int watch_fd;		/* the session's socket, dup'ed: see sshlink_lost */
	/* a key's passphrase, asked while authenticating (see askpass) */
	struct ssh_callbacks_struct cb;
	int locked_keys;	/* keys left unloaded: no passphrase */
};

const char *sshlink_name(const struct sshlink *l)
{
	return l->name;
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void pair_free(struct pair *p)
{
	if (p->ch) {
		if (ssh_channel_is_open(p->ch))
			ssh_channel_close(p->ch);
		ssh_channel_free(p->ch);
	}
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}

/* Runs in the bridge thread, with the session in blocking mode. */
static ssh_channel open_channel(struct sshlink *l, struct dial_req *r)
{
	ssh_channel ch = ssh_channel_new(l->s);
	int rc;

	if (!ch) {
		snprintf(r->err, sizeof(r->err), "cannot open an SSH channel "
			 "to %s: %s", l->name, ssh_get_error(l->s));
		return NULL;
	}
	if (r->kind == DIAL_UNIX) {
		rc = ssh_channel_open_forward_unix(ch, r->arg, "127.0.0.1", 0);
		if (rc != SSH_OK)
			snprintf(r->err, sizeof(r->err), "%s refused to "
				 "forward to %s: %s (does the remote user have"
				 " access to it, and does sshd allow "
				 "AllowStreamLocalForwarding?)", l->name,
				 r->arg, ssh_get_error(l->s));
	} else {
		rc = ssh_channel_open_session(ch);
		if (rc == SSH_OK)
			rc = ssh_channel_request_exec(ch, r->arg);
		if (rc != SSH_OK)
			snprintf(r->err, sizeof(r->err), "cannot run \"%s\" on"
				 " %s: %s", r->arg, l->name,
				 ssh_get_error(l->s));
	}
	if (rc != SSH_OK) {
		ssh_channel_free(ch);
		return NULL;
	}
	return ch;
}

/* Open a channel for fd (bridge thread only); 0, or -1 with err set. */
static int add_pair(struct sshlink *l, int fd, struct dial_req *r)
{
	struct pair *p;

	if (l->dead) {
		snprintf(r->err, sizeof(r->err), "%s", l->dead_msg);
		return -1;
	}
	ssh_set_blocking(l->s, 1);
	p = xcalloc(1, sizeof(*p));
	p->fd = fd;
	p->engine_stdio = r->kind == DIAL_EXEC && r->arg == DIAL_STDIO;
	p->ch = open_channel(l, r);
	ssh_set_blocking(l->s, 0);
	if (!p->ch) {
		free(p);	/* the fd stays the caller's to close */
		return -1;
	}
	set_nonblock(p->fd);
	p->last_move = dm_now_ms();
	p->next = l->pairs;
	l->pairs = p;
	return 0;
}

static void serve_request(struct sshlink *l)
{
	struct dial_req *r;
	int ok;

	pthread_mutex_lock(&l->mu);
	r = l->req;
	pthread_mutex_unlock(&l->mu);
	if (!r || r->done)
		return;
	ok = add_pair(l, r->fd, r) == 0;
	pthread_mutex_lock(&l->mu);
	r->ok = ok;
	r->done = 1;
	l->req = NULL;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

/* A connection to the local engine socket: a stream to the remote one,
 * by forwarding, or by "docker system dial-stdio" when sshd refuses. */
static void serve_listener(struct sshlink *l, int lfd)
{
	struct dial_req r = { .kind = DIAL_UNIX };
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	pthread_mutex_lock(&l->mu);
	r.arg = l->remote_path;
	if (l->stdio_only) {
		r.kind = DIAL_EXEC;
		r.arg = DIAL_STDIO;
	}
	pthread_mutex_unlock(&l->mu);
	if (add_pair(l, fd, &r) == 0)
		return;
	if (r.kind == DIAL_UNIX && !l->dead) {
		dm_debug("%s; trying docker system dial-stdio", r.err);
		r.kind = DIAL_EXEC;
		r.arg = DIAL_STDIO;
		if (add_pair(l, fd, &r) == 0) {
			pthread_mutex_lock(&l->mu);
			l->stdio_only = 1;
			pthread_mutex_unlock(&l->mu);
			return;
		}
	}
	pthread_mutex_lock(&l->mu);
	snprintf(l->last_err, sizeof(l->last_err), "%s", r.err);
	pthread_mutex_unlock(&l->mu);
	close(fd);	/* the client sees the connection end at once */
}

/* Move what can move without blocking; 1 if any byte moved, -1 when the
 * pair is finished or broken. */
static int pump(struct sshlink *l, struct pair *p)
{
	char errbuf[4096];
	int moved = 0, n;
	ssize_t w;

	/* remote -> local */
	if (p->down_len == 0 && !p->ch_eof) {
		n = ssh_channel_read_nonblocking(p->ch, p->down, BUFSZ, 0);
		if (n == SSH_ERROR)
			return -1;
		if (n > 0) {
			p->down_len = (size_t)n;
			p->down_off = 0;
			moved = 1;
		} else if (ssh_channel_is_eof(p->ch) ||
			   ssh_channel_is_closed(p->ch)) {
			p->ch_eof = 1;
		}
	}
	/* a remote command's stderr: drained so its window never fills */
	n = ssh_channel_read_nonblocking(p->ch, errbuf, sizeof(errbuf) - 1, 1);
	if (n > 0) {
		errbuf[n] = '\0';
		dm_debug("%s: remote stderr: %s", l->name, errbuf);
		if (p->engine_stdio) {
			/* e.g. no dockerd there: the reason the engine's
			 * connection ends without an answer, for the error */
			pthread_mutex_lock(&l->mu);
			snprintf(l->last_err, sizeof(l->last_err), "%.*s",
				 (int)strcspn(errbuf, "\r\n"), errbuf);
			pthread_mutex_unlock(&l->mu);
		}
	}
	if (p->down_len) {
		w = write(p->fd, p->down + p->down_off, p->down_len);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1;	/* the local side went away */
		if (w > 0) {
			p->down_off += (size_t)w;
			p->down_len -= (size_t)w;
			moved = 1;
		}
	}
	if (p->ch_eof && !p->down_len && !p->wr_shut) {
		shutdown(p->fd, SHUT_WR);
		p->wr_shut = 1;
	}
	/* local -> remote.  Read also once the channel closed, the bytes
	 * dropped: the bridge polls the socket for input until it ends, and
	 * a peer that hung up would otherwise be reported ready forever
	 * (the loop spun on it: a CPU busy for as long as a stop waited). */
	if (!p->up_len && !p->fd_eof) {
		w = read(p->fd, p->up, BUFSZ);
		if (w == 0) {
			p->fd_eof = 1;
		} else if (w > 0 && ssh_channel_is_closed(p->ch)) {
			moved = 1;	/* nowhere to go */
		} else if (w > 0) {
			p->up_len = (size_t)w;
			p->up_off = 0;
			moved = 1;
		} else if (errno != EAGAIN && errno != EINTR) {
			return -1;
		}
	}
	if (p->up_len && !ssh_channel_is_closed(p->ch)) {
		n = ssh_channel_write(p->ch, p->up + p->up_off,
				      (uint32_t)p->up_len);
		if (n == SSH_ERROR)
			return -1;
		if (n > 0) {
			p->up_off += (size_t)n;
			p->up_len -= (size_t)n;
			moved = 1;
		}
	}
	if (p->fd_eof && !p->up_len && !p->eof_sent) {
		if (!ssh_channel_is_closed(p->ch))
			ssh_channel_send_eof(p->ch);
		p->eof_sent = 1;
	}
	if (moved)
		p->last_move = dm_now_ms();
	if ((p->ch_eof && !p->down_len && p->fd_eof && !p->up_len) ||
	    (p->ch_eof && p->fd_eof && ssh_channel_is_closed(p->ch)))
		return -1;
	/* the peer closed the socketpair while the remote still talks */
	if (p->fd_eof && p->wr_shut)
		return -1;
	return moved;
}

static int pending(const struct pair *p)
{
	return p->up_len || p->down_len;
}

static void kill_all(struct sshlink *l, const char *why)
{
	struct pair *p, *next;

	for (p = l->pairs; p; p = next) {
		next = p->next;
		pair_free(p);
	}
	l->pairs = NULL;
	if (!l->dead) {
		pthread_mutex_lock(&l->mu);
		l->dead = 1;
		snprintf(l->dead_msg, sizeof(l->dead_msg), "%s", why);
		pthread_mutex_unlock(&l->mu);
		dm_debug("%s", why);
	}
}

static void link_lost(struct sshlink *l)
{
	char why[512];

	snprintf(why, sizeof(why), "the SSH connection to %s was lost: %s",
		 l->name, ssh_get_error(l->s));
	kill_all(l, why);
}

static void *bridge(void *arg)
{
	struct sshlink *l = arg;
	struct pollfd fds[2 + 256];
	int64_t last_keepalive = dm_now_ms();
	int busy = 0;

	ssh_set_blocking(l->s, 0);
	while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		struct pair **pp, *p;
		int nfds = 0, sfd = ssh_get_fd(l->s), flags, rc;
		int64_t now;

		int lfd;

		fds[nfds++] = (struct pollfd){ .fd = l->wake[0], .events = POLLIN };
		pthread_mutex_lock(&l->mu);
		lfd = l->lfd;
		pthread_mutex_unlock(&l->mu);
		fds[nfds++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		flags = ssh_get_poll_flags(l->s);
		if (sfd >= 0 && !l->dead)
			fds[nfds++] = (struct pollfd){ .fd = sfd,
				.events = (short)(POLLIN |
					(flags & SSH_WRITE_PENDING ? POLLOUT : 0)) };
		for (p = l->pairs; p && nfds < (int)(sizeof(fds) / sizeof(*fds)); p = p->next) {
			short ev = 0;

			if (!p->up_len && !p->fd_eof)
				ev |= POLLIN;
			if (p->down_len)
				ev |= POLLOUT;
			/* nothing to wait for on this fd: a closed peer would
			 * report POLLHUP forever and spin the loop */
			fds[nfds++] = (struct pollfd){ .fd = ev ? p->fd : -1,
						       .events = ev };
		}
		rc = poll(fds, (nfds_t)nfds, busy ? 0 : 200);
		if (rc < 0 && errno != EINTR)
			break;
		if (fds[0].revents & POLLIN) {
			char c;

			while (read(l->wake[0], &c, 1) > 0)
				;
			serve_request(l);
		}
		if (lfd >= 0 && (fds[1].revents & POLLIN))
			serve_listener(l, lfd);
		busy = 0;
		now = dm_now_ms();
		for (pp = &l->pairs; (p = *pp) != NULL;) {
			int r = pump(l, p);

			if (r > 0)
				busy = 1;
			if (r < 0) {
				*pp = p->next;
				/* a broken session: say so before the fd
				 * closes, so that whoever sees it close
				 * finds the link dead and why */
				if (!l->dead && !ssh_is_connected(l->s))
					link_lost(l);
				pair_free(p);
				if (l->dead)
					break;
				continue;
			}
			if (pending(p) && now - p->last_move > l->stall_ms) {
				char why[256];

				snprintf(why, sizeof(why), "the connection to "
					 "%s moved no data for %d s: link "
					 "down?", l->name, l->stall_ms / 1000);
				kill_all(l, why);
				break;
			}
			pp = &p->next;
		}
		/* a keepalive puts bytes in flight, so that a link that went
		 * silent is noticed by TCP_USER_TIMEOUT even when idle */
		if (!l->dead && now - last_keepalive > l->stall_ms / 3) {
			ssh_send_keepalive(l->s);
			last_keepalive = now;
		}
		if (!l->dead && !ssh_is_connected(l->s))
			link_lost(l);
	}
	return NULL;
}

static int dial(struct sshlink *l, enum dial_kind kind, const char *arg)
{
	struct dial_req r = { .kind = kind, .arg = arg };
	int sv[2];
	char c = 1;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return dm_error("socketpair: %s", strerror(errno));
	r.fd = sv[1];
	pthread_mutex_lock(&l->mu);
	while (l->req)
		pthread_cond_wait(&l->cv, &l->mu);
	l->req = &r;
	pthread_mutex_unlock(&l->mu);
	if (write(l->wake[1], &c, 1) < 0 && errno != EAGAIN)
		dm_debug("wake-up pipe: %s", strerror(errno));
	pthread_mutex_lock(&l->mu);
	while (!r.done)
		pthread_cond_wait(&l->cv, &l->mu);
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	if (!r.ok) {
		close(sv[0]);
		close(sv[1]);
		return dm_error("%s", r.err);
	}
	return sv[0];
}

int sshlink_dial_unix(struct sshlink *l, const char *path)
{
	return dial(l, DIAL_UNIX, path);
}

int sshlink_dial_exec(struct sshlink *l, const char *command)
{
	return dial(l, DIAL_EXEC, command);
}

const char *sshlink_engine_socket(struct sshlink *l, const char *remote_path,
				  int stdio_only)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *tmp = getenv("TMPDIR");
	char *tmpl;
	char c = 1;
	int fd;

	if (l->lpath)
		return l->lpath;
	/* a private directory: only we may talk to the remote engine */
	tmpl = xasprintf("%s/docker-migrate.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl)) {
		dm_error("cannot create a private directory in %s: %s",
			 tmp && *tmp ? tmp : "/tmp", strerror(errno));
		free(tmpl);
		return NULL;
	}
	l->ldir = tmpl;
	l->lpath = xasprintf("%s/engine.sock", tmpl);
	if (strlen(l->lpath) >= sizeof(sa.sun_path)) {
		dm_error("TMPDIR is too long for a socket path: %s", tmpl);
		return NULL;
	}
	memcpy(sa.sun_path, l->lpath, strlen(l->lpath) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0) {
		dm_error("cannot listen on %s: %s", l->lpath, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	pthread_mutex_lock(&l->mu);
	l->remote_path = xstrdup(remote_path);
	l->stdio_only = stdio_only;
	l->lfd = fd;
	pthread_mutex_unlock(&l->mu);
	if (write(l->wake[1], &c, 1) < 0)
		dm_debug("wake-up pipe: %s", strerror(errno));
	return l->lpath;
}

int sshlink_alive(struct sshlink *l)
{
	int dead;

	pthread_mutex_lock(&l->mu);
	dead = l->dead;
	pthread_mutex_unlock(&l->mu);
	return !dead;
}

const char *sshlink_lost(struct sshlink *l, int wait_ms)
{
	static _Thread_local char why[512];

	for (int waited = 0;; waited += 20) {
		struct pollfd p = { .fd = l->watch_fd, .events = POLLRDHUP };
		int dead;

		pthread_mutex_lock(&l->mu);
		dead = l->dead;
		snprintf(why, sizeof(why), "%s", l->dead_msg);
		pthread_mutex_unlock(&l->mu);
		if (dead && why[0])
			return why;
		/* a healthy server never half-closes: its FIN or RST is
		 * there before the bridge has read it */
		if (dead || (l->watch_fd >= 0 && poll(&p, 1, 0) == 1 &&
			     (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))) {
			snprintf(why, sizeof(why), "the SSH connection to %s "
				 "was lost: the server closed it", l->name);
			return why;
		}
		if (waited >= wait_ms)
			break;
		usleep(20 * 1000);
	}
	why[0] = '\0';
	return why;
}

const char *sshlink_last_error(struct sshlink *l)
{
	static _Thread_local char copy[512];

	pthread_mutex_lock(&l->mu);
	snprintf(copy, sizeof(copy), "%s", l->last_err[0] ? l->last_err
			: (l->dead ? l->dead_msg : ""));
	pthread_mutex_unlock(&l->mu);
	return copy;
}

int sshlink_run(struct sshlink *l, const char *command, struct strbuf *out,
		size_t max)
{
	char buf[4096];
	ssize_t n;
	int fd = sshlink_dial_exec(l, command);

	if (fd < 0)
		return -1;
	/* our stdin side: the command reads nothing */
	shutdown(fd, SHUT_WR);
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && out->len + (size_t)n <= max)
			sb_add(out, buf, (size_t)n);
	close(fd);
	return 0;
}

/* ------------------------------------------------------------------ */
/* connecting                                                          */

static int verify_host_key(ssh_session s, const char *name)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL;
	enum ssh_known_hosts_e st;
	int ret = 0;

	if (ssh_get_server_publickey(s, &key) == SSH_OK &&
	    ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
				   &hlen) == 0)
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash,
					      hlen);
	st = ssh_session_is_known_server(s);
	switch (st) {
	case SSH_KNOWN_HOSTS_OK:
		break;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		ret = dm_error("the host key of %s has CHANGED (now %s): "
			       "refusing to connect; if the change is "
			       "expected, remove the old key with "
			       "'ssh-keygen -R HOST' and check the new one",
			       name, fp ? fp : "?");
		break;
	case SSH_KNOWN_HOSTS_NOT_FOUND:
	case SSH_KNOWN_HOSTS_UNKNOWN:
		ret = dm_error("the host key of %s is unknown (%s): refusing "
			       "to connect; verify it and add it to "
			       "known_hosts (e.g. connect once with ssh)",
			       name, fp ? fp : "?");
		break;
	case SSH_KNOWN_HOSTS_ERROR:
	default:
		ret = dm_error("cannot check the host key of %s: %s", name,
			       ssh_get_error(s));
		break;
	}
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return ret;
}

static int configure(ssh_session s, const struct ssh_target *t,
		     const struct ssh_opts *o)
{
	int no = 0, timeout = o->connect_timeout_s > 0 ? o->connect_timeout_s : 15;
	char *user = NULL;

	int verbosity = dm_debug_enabled > 1 ? SSH_LOG_PROTOCOL : SSH_LOG_NOLOG;

	/* libssh logs to stderr by itself, some of it with no session: only
	 * when tracing */
	ssh_set_log_level(verbosity);
	ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
	ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
	if (ssh_options_set(s, SSH_OPTIONS_HOST, t->host) < 0)
		return dm_error("invalid host %s: %s", t->host,
				ssh_get_error(s));
	if (t->user)
		ssh_options_set(s, SSH_OPTIONS_USER, t->user);
	if (t->port) {
		unsigned int port = (unsigned int)t->port;

		ssh_options_set(s, SSH_OPTIONS_PORT, &port);
	}
	/* explicit values above win over the config file, as with ssh(1) */
	if (ssh_options_parse_config(s, o->config_file) < 0)
		return dm_error("cannot read ssh config %s: %s",
				o->config_file ? o->config_file : "~/.ssh/config",
				ssh_get_error(s));
	/* libssh 0.10 lets the file's User and Port override them: set
	 * again (--to root@node2:2222 must reach port 2222) */
	if (t->user)
		ssh_options_set(s, SSH_OPTIONS_USER, t->user);
	if (t->port) {
		unsigned int port = (unsigned int)t->port;

		ssh_options_set(s, SSH_OPTIONS_PORT, &port);
	}
	if (ssh_options_get(s, SSH_OPTIONS_USER, &user) != SSH_OK) {
		const char *env = getenv("USER");
		struct passwd *pw = getpwuid(getuid());

		/* as ssh(1): the login name, also without $USER (cron,
		 * systemd units, env -i) */
		if (env && *env)
			ssh_options_set(s, SSH_OPTIONS_USER, env);
		else if (pw && pw->pw_name)
			ssh_options_set(s, SSH_OPTIONS_USER, pw->pw_name);
	}
	ssh_string_free_char(user);
	ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
	/* again: a LogLevel in the config file must not make us chatty */
	ssh_set_log_level(verbosity);
	ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
	return 0;
}

static char *describe(ssh_session s, const struct ssh_target *t)
{
	char *user = NULL, *host = NULL, *name;
	unsigned int port = 22;

	ssh_options_get(s, SSH_OPTIONS_USER, &user);
	ssh_options_get(s, SSH_OPTIONS_HOST, &host);
	ssh_options_get_port(s, &port);
	name = xasprintf("%s@%s:%u", user ? user : "?",
			 host ? host : t->host, port);
	ssh_string_free_char(user);
	ssh_string_free_char(host);
	return name;
}

/* libssh asks for the passphrase of an encrypted key: on a terminal the
 * user is asked, as ssh(1) does; otherwise the key stays locked, and the
 * error says so rather than that the server refused it. */
static int askpass(const char *prompt, char *buf, size_t len, int echo,
		   int verify, void *userdata)
{
	struct sshlink *l = userdata;
	char *ask;
	int rc;

	(void)prompt;	/* libssh's names no key nor host */
	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
		l->locked_keys++;
		return -1;
	}
	ask = xasprintf("Enter passphrase for your key to %s: ", l->name);
	rc = ssh_getpass(ask, buf, len, echo, verify);
	free(ask);
	if (rc < 0 || !buf[0]) {
		l->locked_keys++;
		return -1;
	}
	return 0;
}

static int authenticate(struct sshlink *l)
{
	int rc = ssh_userauth_none(l->s, NULL);

	if (rc == SSH_AUTH_SUCCESS)
		return 0;
	l->cb = (struct ssh_callbacks_struct){ .userdata = l,
					       .auth_function = askpass };
	ssh_callbacks_init(&l->cb);
	ssh_set_callbacks(l->s, &l->cb);
	rc = ssh_userauth_publickey_auto(l->s, NULL, NULL);
	if (rc == SSH_AUTH_SUCCESS)
		return 0;
	if (rc != SSH_AUTH_ERROR && l->locked_keys)
		return dm_error("%s: your key has a passphrase and was not "
				"loaded (no terminal to ask it on, or none "
				"given): add it to ssh-agent (ssh-add), or run "
				"on a terminal", l->name);
	return dm_error("%s refused our keys: %s (is your key in the remote "
			"authorized_keys, or loaded in ssh-agent?)", l->name,
			rc == SSH_AUTH_ERROR ? ssh_get_error(l->s) : "denied");
}

struct sshlink *sshlink_open(const struct ssh_target *t,
			     const struct ssh_opts *o)
{
	struct sshlink *l = xcalloc(1, sizeof(*l));

	l->wake[0] = l->wake[1] = l->lfd = l->watch_fd = -1;
	l->s = ssh_new();
	if (!l->s) {
		dm_error("cannot create an SSH session");
		goto fail;
	}
	if (configure(l->s, t, o) < 0)
		goto fail;
	l->name = describe(l->s, t);
	l->stall_ms = (o->stall_timeout_s > 0 ? o->stall_timeout_s : 60) * 1000;
	if (ssh_connect(l->s) != SSH_OK) {
		dm_error("cannot reach %s: %s (is sshd running? see --to)",
			 l->name, ssh_get_error(l->s));
		goto fail;
	}
	if (verify_host_key(l->s, l->name) < 0 ||
	    authenticate(l) < 0)
		goto fail;
	{
		/* data unacknowledged this long: the kernel drops the
		 * connection, and every stream over it fails */
		unsigned int ms = (unsigned int)l->stall_ms;

		if (setsockopt(ssh_get_fd(l->s), IPPROTO_TCP, TCP_USER_TIMEOUT,
			       &ms, sizeof(ms)) < 0)
			dm_debug("TCP_USER_TIMEOUT: %s", strerror(errno));
	}
	if (pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		dm_error("pipe: %s", strerror(errno));
		goto fail;
	}
	/* its own reference to the socket: safe to poll from any thread,
	 * whatever libssh does with its descriptor */
	l->watch_fd = fcntl(ssh_get_fd(l->s), F_DUPFD_CLOEXEC, 0);
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	if (pthread_create(&l->thread, NULL, bridge, l) != 0) {
		dm_error("cannot start the SSH bridge thread");
		goto fail;
	}
	l->running = 1;
	dm_debug("connected to %s", l->name);
	return l;
fail:
	sshlink_close(l);
	return NULL;
}

void sshlink_close(struct sshlink *l)
{
	char c = 0;

	if (!l)
		return;
	if (l->running) {
		__atomic_store_n(&l->stop, 1, __ATOMIC_RELEASE);
		if (write(l->wake[1], &c, 1) < 0)
			dm_debug("wake-up pipe: %s", strerror(errno));
		pthread_join(l->thread, NULL);
		kill_all(l, "closed");
		pthread_mutex_destroy(&l->mu);
		pthread_cond_destroy(&l->cv);
	}
	if (l->lfd >= 0)
		close(l->lfd);
	if (l->watch_fd >= 0)
		close(l->watch_fd);
	if (l->lpath)
		unlink(l->lpath);
	if (l->ldir)
		rmdir(l->ldir);
	free(l->lpath);
	free(l->ldir);
	free(l->remote_path);
	if (l->wake[0] >= 0)
		close(l->wake[0]);
	if (l->wake[1] >= 0)
		close(l->wake[1]);
	if (l->s) {
		ssh_disconnect(l->s);
		ssh_free(l->s);
	}
	free(l->name);
	free(l);
}

int ssh_config_names_host(const char *config_file, const char *host)
{
	ssh_session s = ssh_new();
	char *got = NULL;
	int no = 0, named;

	if (!s)
		return 0;
	ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
	if (ssh_options_set(s, SSH_OPTIONS_HOST, host) < 0 ||
	    ssh_options_parse_config(s, config_file) < 0 ||
	    ssh_options_get(s, SSH_OPTIONS_HOST, &got) != SSH_OK) {
		ssh_free(s);
		return 0;
	}
	named = got && strcmp(got, host) != 0;
	ssh_string_free_char(got);
	ssh_free(s);
	return named;
}
