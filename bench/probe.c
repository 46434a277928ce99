/*
 * probe.c - the benchmark's client: asks a service "GET /" every INTERVAL
 * ms at each of several addresses at once, and prints one line per tick:
 *
 *     T_MS R1 R2 ...      (T_MS: wall clock, ms; Ri: 1 = HTTP 200 from
 *                          address i within TIMEOUT ms, 0 = anything else)
 *
 * Ticks are on a fixed schedule (start + k * INTERVAL); a tick that would
 * start late is skipped, never bunched.  No process is forked per probe,
 * so probing costs the machine nothing measurable.
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

struct target {
	struct sockaddr_in sa;
	int fd;
	int state;		/* 0 connecting, 1 sent, 2 done */
	int ok;
	char buf[64];
	size_t len;
};

static void tick(struct target *t, int n, int timeout_ms)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	int64_t end = mono_ms() + timeout_ms;
	int pending = 0;

	for (int i = 0; i < n; i++) {
		t[i].ok = 0;
		t[i].len = 0;
		t[i].state = 2;
		t[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (t[i].fd < 0)
			continue;
		if (connect(t[i].fd, (struct sockaddr *)&t[i].sa, sizeof(t[i].sa)) < 0 &&
		    errno != EINPROGRESS) {
			close(t[i].fd);
			t[i].fd = -1;
			continue;
		}
		t[i].state = 0;
		pending++;
	}
	while (pending) {
		struct pollfd p[MAXT];
		int64_t left = end - mono_ms();

		if (left <= 0)
			break;
		for (int i = 0; i < n; i++) {
			p[i].fd = t[i].state == 2 ? -1 : t[i].fd;
			p[i].events = t[i].state == 0 ? POLLOUT : POLLIN;
			p[i].revents = 0;
		}
		if (poll(p, (nfds_t)n, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (t[i].state == 2 || !p[i].revents)
				continue;
			if (t[i].state == 0) {
				int err = 0;
				socklen_t l = sizeof(err);

				getsockopt(t[i].fd, SOL_SOCKET, SO_ERROR, &err, &l);
				if (err || write(t[i].fd, req, sizeof(req) - 1) !=
					   (ssize_t)(sizeof(req) - 1)) {
					t[i].state = 2;
					pending--;
					continue;
				}
				t[i].state = 1;
				continue;
			}
			{
				ssize_t r = read(t[i].fd, t[i].buf + t[i].len,
						 sizeof(t[i].buf) - 1 - t[i].len);

				if (r > 0)
					t[i].len += (size_t)r;
				t[i].buf[t[i].len] = '\0';
				if (r <= 0 || t[i].len >= 12 || strchr(t[i].buf, '\n')) {
					t[i].ok = strncmp(t[i].buf, "HTTP/1.", 7) == 0 &&
						  strncmp(t[i].buf + 8, " 200", 4) == 0;
					t[i].state = 2;
					pending--;
				}
			}
		}
	}
	for (int i = 0; i < n; i++)
		if (t[i].fd >= 0) {
			close(t[i].fd);
			t[i].fd = -1;
		}
}

int main(int argc, char **argv)
{
	struct target t[MAXT];
	struct sigaction sa;
	int interval, timeout, n = argc - 3;
	int64_t start, k = 0;

	if (argc < 4 || n > MAXT) {
		fprintf(stderr, "usage: probe INTERVAL_MS TIMEOUT_MS HOST:PORT...\n");
		return 2;
	}
	interval = atoi(argv[1]);
	timeout = atoi(argv[2]);
	for (int i = 0; i < n; i++) {
		char host[64];
		const char *c = strrchr(argv[3 + i], ':');

		memset(&t[i], 0, sizeof(t[i]));
		t[i].fd = -1;
		if (!c || (size_t)(c - argv[3 + i]) >= sizeof(host)) {
			fprintf(stderr, "probe: bad address %s\n", argv[3 + i]);
			return 2;
		}
		memcpy(host, argv[3 + i], (size_t)(c - argv[3 + i]));
		host[c - argv[3 + i]] = '\0';
		t[i].sa.sin_family = AF_INET;
		t[i].sa.sin_port = htons((uint16_t)atoi(c + 1));
		if (inet_pton(AF_INET, host, &t[i].sa.sin_addr) != 1) {
			fprintf(stderr, "probe: bad address %s\n", argv[3 + i]);
			return 2;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	start = mono_ms();
	while (!stop) {
		int64_t due = start + k * interval, now = mono_ms();

		if (due > now) {
			struct timespec ts = { (due - now) / 1000,
					       (long)((due - now) % 1000) * 1000000 };

			nanosleep(&ts, NULL);
			continue;
		}
		{
			int64_t w = wall_ms();

			tick(t, n, timeout);
			printf("%lld", (long long)w);
			for (int i = 0; i < n; i++)
				printf(" %d", t[i].ok);
			printf("\n");
		}
		/* the next tick still to come */
		now = mono_ms();
		k = (now - start) / interval + 1;
	}
	return 0;
}
