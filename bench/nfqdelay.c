/*
 * nfqdelay.c - delay every packet of an NFQUEUE queue by a fixed time.
 *
 * The benchmark's link emulation needs a delay, and this machine's kernel
 * has no netem (only tbf/htb for the rate).  iptables sends the packets of
 * a node's interface to a queue (-j NFQUEUE --queue-num N --queue-bypass);
 * this program, run in the node's network namespace, is told only each
 * packet's id (NFQNL_COPY_META: no payload is copied), keeps the ids in
 * arrival order with the time they are due, and accepts them in batches
 * (NFQNL_MSG_VERDICT_BATCH accepts every id up to the one given) when
 * their time has come.  With one fixed delay, due times are in id order,
 * so a batch verdict never releases a packet early; a message lost by the
 * netlink socket (ENOBUFS) only means that packet leaves with the next
 * batch.  GSO packets are queued whole (NFQA_CFG_F_GSO) and the queue
 * fails open (NFQA_CFG_F_FAIL_OPEN) rather than dropping when full.
 *
 * Plain netlink, no library: only the kernel's uapi headers.
 *
 * usage: nfqdelay QUEUE_NUM DELAY_US
 * Runs until SIGTERM/SIGINT.  Exit status 1 on a setup error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RING (1u << 20)		/* packets held at once, at most */
#define QMAXLEN 100000u		/* the kernel's queue length */

static uint32_t ring_id[RING];
static int64_t ring_due[RING];
static size_t head, count;
static volatile sig_atomic_t stop;
static int fd;
static uint16_t qnum;
static uint32_t seq;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A message: nlmsghdr + nfgenmsg, then attributes added by put_attr. */
struct msg {
	char buf[256];
	size_t len;
};

static void msg_init(struct msg *m, uint8_t type, uint16_t flags,
		     uint8_t family)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)m->buf;
	struct nfgenmsg *g;

	memset(m->buf, 0, sizeof(m->buf));
	nh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | type;
	nh->nlmsg_flags = NLM_F_REQUEST | flags;
	nh->nlmsg_seq = ++seq;
	g = (struct nfgenmsg *)NLMSG_DATA(nh);
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(qnum);
	m->len = NLMSG_LENGTH(sizeof(*g));
}

static void put_attr(struct msg *m, uint16_t type, const void *data,
		     size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + NLMSG_ALIGN(m->len));

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	m->len = NLMSG_ALIGN(m->len) + NLA_ALIGN(a->nla_len);
}

static int msg_send(struct msg *m)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)m->buf;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	nh->nlmsg_len = (uint32_t)m->len;
	if (sendto(fd, m->buf, m->len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0) {
		fprintf(stderr, "nfqdelay: sendto: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Send a config message and wait for its ack (NLM_F_ACK). */
static int config(struct msg *m)
{
	char buf[8192];
	uint32_t want = ((struct nlmsghdr *)m->buf)->nlmsg_seq;

	if (msg_send(m) < 0)
		return -1;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "nfqdelay: recv: %s\n", strerror(errno));
			return -1;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_ERROR && nh->nlmsg_seq == want) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				if (e->error) {
					fprintf(stderr, "nfqdelay: queue %u: %s\n",
						qnum, strerror(-e->error));
					return -1;
				}
				return 0;
			}
		}
	}
}

static int setup(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct msg m;
	struct nfqnl_msg_config_cmd cmd = { .command = NFQNL_CFG_CMD_BIND,
					    .pf = htons(AF_INET) };
	struct nfqnl_msg_config_params params = {
		.copy_range = htonl(0), .copy_mode = NFQNL_COPY_META };
	uint32_t maxlen = htonl(QMAXLEN);
	uint32_t flags = htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO);
	int one = 1, rcvbuf = 64 << 20;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "nfqdelay: netlink: %s\n", strerror(errno));
		return -1;
	}
	/* root: past rmem_max */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));

	msg_init(&m, NFQNL_MSG_CONFIG, NLM_F_ACK, AF_UNSPEC);
	put_attr(&m, NFQA_CFG_CMD, &cmd, sizeof(cmd));
	if (config(&m) < 0)
		return -1;
	msg_init(&m, NFQNL_MSG_CONFIG, NLM_F_ACK, AF_UNSPEC);
	put_attr(&m, NFQA_CFG_PARAMS, &params, sizeof(params));
	put_attr(&m, NFQA_CFG_QUEUE_MAXLEN, &maxlen, sizeof(maxlen));
	put_attr(&m, NFQA_CFG_FLAGS, &flags, sizeof(flags));
	put_attr(&m, NFQA_CFG_MASK, &flags, sizeof(flags));
	return config(&m);
}

static void verdict_upto(uint32_t id)
{
	struct msg m;
	struct nfqnl_msg_verdict_hdr v = { .verdict = htonl(NF_ACCEPT),
					   .id = htonl(id) };

	msg_init(&m, NFQNL_MSG_VERDICT_BATCH, 0, AF_UNSPEC);
	put_attr(&m, NFQA_VERDICT_HDR, &v, sizeof(v));
	msg_send(&m);
}

/* Read every queued packet message there is, without blocking. */
static void drain(int64_t delay_ns)
{
	static char buf[1 << 16];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		int64_t t = now_ns();
		struct nlmsghdr *nh;

		if (n <= 0)
			return;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			struct nlattr *a;
			size_t off;

			if ((nh->nlmsg_type & 0xff) != NFQNL_MSG_PACKET ||
			    (nh->nlmsg_type >> 8) != NFNL_SUBSYS_QUEUE)
				continue;
			off = NLMSG_LENGTH(sizeof(struct nfgenmsg));
			while (off + NLA_HDRLEN <= nh->nlmsg_len) {
				a = (struct nlattr *)((char *)nh + off);
				if (a->nla_len < NLA_HDRLEN)
					break;
				if ((a->nla_type & NLA_TYPE_MASK) == NFQA_PACKET_HDR) {
					struct nfqnl_msg_packet_hdr *ph =
						(void *)((char *)a + NLA_HDRLEN);

					if (count == RING) {
						/* full: release the oldest now */
						verdict_upto(ring_id[head]);
						head = (head + 1) % RING;
						count--;
					}
					ring_id[(head + count) % RING] = ntohl(ph->packet_id);
					ring_due[(head + count) % RING] = t + delay_ns;
					count++;
					break;
				}
				off += NLA_ALIGN(a->nla_len);
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	int64_t delay_ns;

	if (argc != 3) {
		fprintf(stderr, "usage: nfqdelay QUEUE_NUM DELAY_US\n");
		return 2;
	}
	qnum = (uint16_t)atoi(argv[1]);
	delay_ns = (int64_t)atoll(argv[2]) * 1000;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (setup() < 0)
		return 1;
	fprintf(stderr, "nfqdelay: queue %u, delay %lld us\n", qnum,
		(long long)(delay_ns / 1000));
	while (!stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct timespec ts, *tp = NULL;
		int64_t t = now_ns();

		if (count) {
			int64_t wait = ring_due[head] - t;

			if (wait < 0)
				wait = 0;
			ts.tv_sec = wait / 1000000000;
			ts.tv_nsec = wait % 1000000000;
			tp = &ts;
		}
		if (ppoll(&p, 1, tp, NULL) < 0 && errno != EINTR)
			break;
		if (p.revents & POLLIN)
			drain(delay_ns);
		t = now_ns();
		if (count && ring_due[head] <= t) {
			uint32_t last = 0;

			while (count && ring_due[head] <= t) {
				last = ring_id[head];
				head = (head + 1) % RING;
				count--;
			}
			verdict_upto(last);
		}
	}
	/* let whatever is held go */
	if (count)
		verdict_upto(ring_id[(head + count - 1) % RING]);
	return 0;
}
