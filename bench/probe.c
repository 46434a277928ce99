/*
 * probe.c - the benchmark's client: asks a service "GET /" every INTERVAL
 * ms at each of several addresses at once, and prints one line per tick:
 *
 *     T_MS R1 R2 ...      (Ri: 1 = HTTP 200 from address i within
 *                          TIMEOUT ms, 0 = anything else; T_MS: wall
 *                          clock, ms, of the tick's first 200, or of its
 *                          start when nothing answered)
 *
 * The longest time between two answered lines is then the longest time
 * the client heard nothing: a request held by a frozen service and
 * answered late counts when its answer came, not when it was asked.
 *
 * Ticks are on a fixed schedule (start + k * INTERVAL); a tick that would
 * start late is skipped, never bunched.  Each tick's requests run on their
 * own: an address that holds a request (a paused container accepts the
 * connection and never answers) does not hold back the next ticks, so a
 * host that answers again is seen within one interval, as many clients
 * would see it, not after the other's timeout.  Lines come in tick order,
 * each once its requests ended.  No process is forked per probe, so
 * probing costs the machine nothing measurable.
 *
 * usage: probe INTERVAL_MS TIMEOUT_MS HOST:PORT...   (until SIGTERM/SIGINT)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXT 8
/* ticks in flight at once: TIMEOUT / INTERVAL + 1 at most */
#define MAXTICKS 256

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct req {
	int fd;
	int state;		/* 0 connecting, 1 sent, 2 done */
	int ok;
	int64_t at;		/* wall ms of the answer, when ok */
	char buf[64];
	size_t len;
};

struct tick {
	int64_t wall, deadline;
	int open;		/* requests not done */
	struct req r[MAXT];
};

static void req_done(struct tick *t, struct req *r, int ok)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->ok = ok;
	r->at = ok ? wall_ms() : 0;
	r->state = 2;
	t->open--;
}

static void tick_start(struct tick *t, const struct sockaddr_in *sa, int n,
		       int timeout_ms)
{
	t->wall = wall_ms();
	t->deadline = mono_ms() + timeout_ms;
	t->open = n;
	for (int i = 0; i < n; i++) {
		struct req *r = &t->r[i];

		memset(r, 0, sizeof(*r));
		r->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (r->fd < 0 ||
		    (connect(r->fd, (const struct sockaddr *)&sa[i], sizeof(sa[i])) < 0 &&
		     errno != EINPROGRESS))
			req_done(t, r, 0);
	}
}

/* What poll said about one request. */
static void req_event(struct tick *t, struct req *r)
{
	static const char get[] = "GET / HTTP/1.0\r\n\r\n";
	ssize_t n;

	if (r->state == 0) {
		int err = 0;
		socklen_t l = sizeof(err);

		getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err || write(r->fd, get, sizeof(get) - 1) != (ssize_t)(sizeof(get) - 1))
			req_done(t, r, 0);
		else
			r->state = 1;
		return;
	}
	n = read(r->fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
	if (n > 0)
		r->len += (size_t)n;
	r->buf[r->len] = '\0';
	if (n <= 0 || r->len >= 12 || strchr(r->buf, '\n'))
		req_done(t, r, strncmp(r->buf, "HTTP/1.", 7) == 0 &&
				   strncmp(r->buf + 8, " 200", 4) == 0);
}

static void print_tick(const struct tick *t, int n)
{
	int64_t when = 0;

	for (int i = 0; i < n; i++)
		if (t->r[i].ok && (!when || t->r[i].at < when))
			when = t->r[i].at;
	printf("%lld", (long long)(when ? when : t->wall));
	for (int i = 0; i < n; i++)
		printf(" %d", t->r[i].ok);
	printf("\n");
}

int main(int argc, char **argv)
{
	static struct tick ticks[MAXTICKS];
	static struct pollfd p[MAXTICKS * MAXT];
	static struct req *pr[MAXTICKS * MAXT];
	static struct tick *pt[MAXTICKS * MAXT];
	struct sockaddr_in sa[MAXT];
	struct sigaction sig;
	int interval, timeout, n = argc - 3;
	int64_t start, due;
	size_t head = 0, count = 0;	/* the ticks in flight, oldest first */

	if (argc < 4 || n > MAXT) {
		fprintf(stderr, "usage: probe INTERVAL_MS TIMEOUT_MS HOST:PORT...\n");
		return 2;
	}
	interval = atoi(argv[1]);
	timeout = atoi(argv[2]);
	if (interval < 1 || timeout < 1) {
		fprintf(stderr, "probe: INTERVAL_MS and TIMEOUT_MS must be positive\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		char host[64];
		const char *c = strrchr(argv[3 + i], ':');

		memset(&sa[i], 0, sizeof(sa[i]));
		if (!c || (size_t)(c - argv[3 + i]) >= sizeof(host)) {
			fprintf(stderr, "probe: bad address %s\n", argv[3 + i]);
			return 2;
		}
		memcpy(host, argv[3 + i], (size_t)(c - argv[3 + i]));
		host[c - argv[3 + i]] = '\0';
		sa[i].sin_family = AF_INET;
		sa[i].sin_port = htons((uint16_t)atoi(c + 1));
		if (inet_pton(AF_INET, host, &sa[i].sin_addr) != 1) {
			fprintf(stderr, "probe: bad address %s\n", argv[3 + i]);
			return 2;
		}
	}
	memset(&sig, 0, sizeof(sig));
	sig.sa_handler = on_signal;
	sigaction(SIGTERM, &sig, NULL);
	sigaction(SIGINT, &sig, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	start = due = mono_ms();
	while (!stop) {
		int64_t now = mono_ms(), wait = due - now;
		nfds_t np = 0;

		if (wait <= 0) {
			/* a tick with no room is skipped, as a late one is */
			if (count < MAXTICKS) {
				tick_start(&ticks[(head + count) % MAXTICKS], sa, n,
					   timeout);
				count++;
			}
			due = start + ((now - start) / interval + 1) * interval;
			wait = due - now;
		}
		for (size_t k = 0; k < count; k++) {
			struct tick *t = &ticks[(head + k) % MAXTICKS];

			if (t->open && t->deadline - now < wait)
				wait = t->deadline > now ? t->deadline - now : 0;
			for (int i = 0; i < n; i++) {
				if (t->r[i].state == 2)
					continue;
				p[np].fd = t->r[i].fd;
				p[np].events = t->r[i].state == 0 ? POLLOUT : POLLIN;
				p[np].revents = 0;
				pr[np] = &t->r[i];
				pt[np] = t;
				np++;
			}
		}
		if (poll(p, np, (int)wait) < 0 && errno != EINTR)
			break;
		for (nfds_t k = 0; k < np; k++)
			if (p[k].revents)
				req_event(pt[k], pr[k]);
		now = mono_ms();
		for (size_t k = 0; k < count; k++) {
			struct tick *t = &ticks[(head + k) % MAXTICKS];

			for (int i = 0; t->open && now >= t->deadline && i < n; i++)
				if (t->r[i].state != 2)
					req_done(t, &t->r[i], 0);
		}
		while (count && !ticks[head].open) {
			print_tick(&ticks[head], n);
			head = (head + 1) % MAXTICKS;
			count--;
		}
	}
	/* stopped: the ticks still waiting, with what answered so far */
	for (; count; head = (head + 1) % MAXTICKS, count--)
		print_tick(&ticks[head], n);
	return 0;
}
