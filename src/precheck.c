/*
 * precheck.c - what would make the copy's create or start fail at the
 * destination, judged before the source stops (see precheck.h).  The
 * engine finds these only when it creates or starts the copy, after the
 * source has stopped: a host port in use, an address the host lacks, a
 * network whose subnet overlaps one there, a static address that does not
 * fit.  Here they are found from the destination's containers, networks
 * and /proc/net, and refused with one line each.  Pure: no I/O.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dm.h"
#include "json.h"
#include "precheck.h"

/* ------------------------------------------------------------------ */
/* addresses                                                           */

struct addr {
	int fam;		/* 4, 6; 0: every address of both families */
	int any;		/* 0.0.0.0 or :: (with fam) */
	unsigned char b[16];
};

/* v4-mapped IPv6 addresses (::ffff:a.b.c.d) are the IPv4 address. */
static void unmap(struct addr *a)
{
	static const unsigned char pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					       0xff, 0xff };

	if (a->fam == 6 && memcmp(a->b, pre, 12) == 0) {
		memmove(a->b, a->b + 12, 4);
		memset(a->b + 4, 0, 12);
		a->fam = 4;
	}
}

static int is_zero(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* A published address as docker takes it: "" is every address. */
static int addr_parse(const char *s, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!s || !*s) {
		a->any = 1;
		return 0;
	}
	if (inet_pton(AF_INET, s, a->b) == 1)
		a->fam = 4;
	else if (inet_pton(AF_INET6, s, a->b) == 1)
		a->fam = 6;
	else
		return -1;
	unmap(a);
	a->any = is_zero(a->b, a->fam == 4 ? 4 : 16);
	return 0;
}

int precheck_is_addr(const char *s)
{
	struct addr a;

	return s && *s && addr_parse(s, &a) == 0;
}

static const char *addr_str(const struct addr *a, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	/* fam 0 from /proc: a socket on "::" */
	inet_ntop(a->fam == 4 ? AF_INET : AF_INET6, a->b, ip, sizeof(ip));
	snprintf(buf, n, a->fam == 4 ? "%s" : "[%s]", ip);
	return buf;
}

/* Can two sockets on the same port not both be bound?  An address of
 * every family (fam 0: a published "" or a listener on "::", which
 * Linux lets take IPv4 too) meets everything; otherwise the same family,
 * and one of them the wildcard or both the same address. */
static int addr_clash(const struct addr *x, const struct addr *y)
{
	if (!x->fam || !y->fam)
		return 1;
	if (x->fam != y->fam)
		return 0;
	return x->any || y->any || memcmp(x->b, y->b, 16) == 0;
}

/* ------------------------------------------------------------------ */
/* /proc/net, as PRECHECK_PROC_CMD lists it                            */

/* The section "@name" of the listing: its first line and its end. */
static const char *section(const char *proc, const char *name,
			   const char **end)
{
	size_t n = strlen(name);
	const char *p = proc;

	while (p && *p) {
		const char *eol = strchr(p, '\n');

		if (p[0] == '@' && strncmp(p + 1, name, n) == 0 &&
		    (p[n + 1] == '\n' || p[n + 1] == '\0')) {
			const char *s = eol ? eol + 1 : p + strlen(p);
			const char *e = strstr(s, "\n@");

			*end = e ? e + 1 : s + strlen(s);
			return s;
		}
		p = eol ? eol + 1 : NULL;
	}
	*end = NULL;
	return NULL;
}

/* "0100007F" (IPv4) or 32 digits (IPv6): the kernel prints each 32-bit
 * word in the host's order, which is little-endian on every host
 * docker runs on but s390x; big-endian hosts are not judged here. */
static int proc_addr(const char *hex, struct addr *a)
{
	size_t n = strlen(hex);

	memset(a, 0, sizeof(*a));
	if (n != 8 && n != 32)
		return -1;
	for (size_t w = 0; w < n / 8; w++) {
		char word[9];
		unsigned long v;

		memcpy(word, hex + 8 * w, 8);
		word[8] = '\0';
		v = strtoul(word, NULL, 16);
		for (int k = 0; k < 4; k++)
			a->b[4 * w + k] = (unsigned char)(v >> (8 * k));
	}
	a->fam = n == 8 ? 4 : 6;
	unmap(a);
	a->any = is_zero(a->b, a->fam == 4 ? 4 : 16);
	/* Linux lets a socket on :: take IPv4 too unless it says
	 * IPV6_V6ONLY, which /proc does not show: assume it does not */
	if (a->fam == 6 && a->any)
		a->fam = 0;
	return 0;
}

/* The line at p (before end) into buf, cut to its size; the next
 * line's start. */
static const char *line_at(const char *p, const char *end, char *buf,
			   size_t n)
{
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	size_t len = (size_t)((eol ? eol : end) - p);

	if (len >= n)
		len = n - 1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return eol ? eol + 1 : end;
}

/* Is a socket of that protocol bound to port on an address that clashes
 * with a?  *who gets the socket's address. */
static int port_listened(const char *proc, const char *proto, unsigned port,
			 const struct addr *a, struct addr *who)
{
	char six[8];
	const char *names[2] = { proto, six };
	int tcp = strcmp(proto, "tcp") == 0;

	snprintf(six, sizeof(six), "%s6", proto);
	for (int k = 0; k < 2; k++) {
		const char *end, *p = section(proc, names[k], &end);

		while (p && p < end) {
			char line[512], loc[40], rem[40];
			unsigned lp, rp, st;

			p = line_at(p, end, line, sizeof(line));
			if (sscanf(line, " %*[0-9]: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x",
				   loc, &lp, rem, &rp, &st) == 5 && lp == port &&
			    /* TCP: listening; UDP: bound, not connected */
			    (tcp ? st == 0x0A : rp == 0) &&
			    proc_addr(loc, who) == 0 && addr_clash(who, a))
				return 1;
		}
	}
	return 0;
}

/* fib_trie names each local IPv4 address on a "|-- ADDR" line followed
 * by "/32 host LOCAL". */
static int fib_has(const char *proc, const struct addr *a)
{
	const char *end, *p = section(proc, "fib_trie", &end);
	struct addr last = { 0 };

	while (p && p < end) {
		char line[256], w[64];

		p = line_at(p, end, line, sizeof(line));
		if (sscanf(line, " |-- %63s", w) == 1) {
			if (addr_parse(w, &last) < 0)
				memset(&last, 0, sizeof(last));
		} else if (strstr(line, "/32 host LOCAL") && last.fam == 4 &&
			   memcmp(last.b, a->b, 16) == 0) {
			return 1;
		}
	}
	return 0;
}

/* if_inet6: one address a line, 32 hex digits in network order. */
static int inet6_has(const char *proc, const struct addr *a)
{
	const char *end, *p = section(proc, "if_inet6", &end);

	while (p && p < end) {
		char line[256], w[33];
		struct addr x = { .fam = 6 };

		p = line_at(p, end, line, sizeof(line));
		if (sscanf(line, "%32[0-9a-fA-F]", w) != 1 || strlen(w) != 32)
			continue;
		for (int i = 0; i < 16; i++) {
			char byte[3] = { w[2 * i], w[2 * i + 1], 0 };

			x.b[i] = (unsigned char)strtoul(byte, NULL, 16);
		}
		unmap(&x);
		if (x.fam == a->fam && memcmp(x.b, a->b, 16) == 0)
			return 1;
	}
	return 0;
}

/* Has the host the address a? */
static int addr_local(const char *proc, const struct addr *a)
{
	return fib_has(proc, a) || inet6_has(proc, a);
}

/* ------------------------------------------------------------------ */
/* --publish-ip                                                        */

/* The OLD and NEW of "OLD=NEW"; -1 when it is not two addresses. */
static int split_map(const char *m, char *old, char *new_, size_t n)
{
	const char *eq = strchr(m, '=');

	if (!eq || (size_t)(eq - m) >= n || strlen(eq + 1) >= n)
		return -1;
	memcpy(old, m, (size_t)(eq - m));
	old[eq - m] = '\0';
	strcpy(new_, eq + 1);
	return precheck_is_addr(old) && precheck_is_addr(new_) ? 0 : -1;
}

/* The binding's HostIp replaced in the tree (yajl's strings are plain
 * malloc'd memory: freed by yajl_tree_free as any other). */
static void set_string(yajl_val v, const char *s)
{
	free(v->u.string);
	v->u.string = xstrdup(s);
}

int precheck_map_publish(yajl_val ins, const struct strlist *map,
			 const char *name)
{
	yajl_val pb = json_get(ins, "HostConfig", "PortBindings", NULL);

	for (size_t m = 0; map && m < map->n; m++) {
		char old[64], new_[64];
		struct addr o, x;
		size_t hits = 0;

		if (split_map(map->v[m], old, new_, sizeof(old)) < 0)
			return dm_error_kind(DM_ERR_USAGE, "--publish-ip %s: "
					     "give OLD=NEW, two IP addresses "
					     "(10.0.0.11=10.0.0.12)", map->v[m]);
		addr_parse(old, &o);
		for (size_t i = 0; i < json_olen(pb); i++) {
			yajl_val l = pb->u.object.values[i];

			for (size_t j = 0; j < json_alen(l); j++) {
				yajl_val hip = json_get(l->u.array.values[j],
							"HostIp", NULL);

				if (!hip || !YAJL_IS_STRING(hip) ||
				    addr_parse(hip->u.string, &x) < 0 ||
				    x.fam != o.fam || x.any != o.any ||
				    memcmp(x.b, o.b, 16) != 0)
					continue;
				set_string(hip, new_);
				hits++;
			}
		}
		if (!hits)
			return dm_error_kind(DM_ERR_USAGE, "--publish-ip %s: no "
					     "port of %s is published on %s (see "
					     "docker port %s)", map->v[m], name,
					     old, name);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* ports                                                               */

static void problem(struct strlist *l, char *s)
{
	strlist_add(l, s);
	free(s);
}

/* "/db" -> "db": the first of a container's Names. */
static const char *first_name(yajl_val c)
{
	yajl_val names = json_get(c, "Names", NULL);
	const char *n = json_alen(names) &&
			YAJL_IS_STRING(names->u.array.values[0])
			? names->u.array.values[0]->u.string : NULL;

	return n && n[0] == '/' ? n + 1 : n ? n : "?";
}

/* A running container at the destination that publishes that port on
 * an address that clashes with a. */
static const char *port_published(yajl_val containers, const char *proto,
				  unsigned port, const struct addr *a)
{
	for (size_t i = 0; i < json_alen(containers); i++) {
		yajl_val c = containers->u.array.values[i];
		yajl_val ports = json_get(c, "Ports", NULL);

		for (size_t j = 0; j < json_alen(ports); j++) {
			yajl_val p = ports->u.array.values[j];
			struct addr x;

			if (json_int(p, 0, "PublicPort", NULL) != (long long)port ||
			    !dm_streq(json_str(p, "Type", NULL) ?: "tcp", proto) ||
			    addr_parse(json_str(p, "IP", NULL), &x) < 0)
				continue;
			/* docker lists "0.0.0.0" and "::" apart: each
			 * is of its family only */
			if (x.any && !x.fam)
				x.fam = 4;
			if (addr_clash(&x, a))
				return first_name(c);
		}
	}
	return NULL;
}

/* "8080/tcp", "10.0.0.11:8080/tcp", "[fd00::1]:8080/tcp" */
static char *port_label(const char *ip, unsigned port, const char *proto)
{
	if (!ip || !*ip)
		return xasprintf("%u/%s", port, proto);
	return xasprintf(strchr(ip, ':') ? "[%s]:%u/%s" : "%s:%u/%s", ip,
			 port, proto);
}

static void check_port(const char *ip, unsigned port, const char *proto,
		       const struct dest_facts *f, struct strlist *problems)
{
	struct addr a, who;
	const char *by;
	char *label, buf[64];

	if (addr_parse(ip, &a) < 0)
		return;	/* the engine says what it makes of it */
	label = port_label(ip, port, proto);
	by = port_published(f->containers, proto, port, &a);
	if (by)
		problem(problems, xasprintf("port %s is published at %s by "
			"container \"%s\" (free it there first)", label,
			f->dest, by));
	else if (f->proc && port_listened(f->proc, proto, port, &a, &who))
		problem(problems, xasprintf("port %s is in use at %s: a "
			"process listens on %s:%u (free it there first)",
			label, f->dest, addr_str(&who, buf, sizeof(buf)), port));
	free(label);
}

/* "8080", "8080-8090"; 0 (none) for "" and "0": the engine picks one. */
static int port_range(const char *s, unsigned *lo, unsigned *hi)
{
	char *end;
	unsigned long a, b;

	if (!s || !*s)
		return 0;
	a = strtoul(s, &end, 10);
	b = a;
	if (*end == '-')
		b = strtoul(end + 1, &end, 10);
	if (*end || !a || a > 65535 || b < a || b > 65535)
		return 0;
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return 1;
}

size_t precheck_ports(yajl_val ins, const struct dest_facts *f,
		      struct strlist *problems)
{
	yajl_val pb = json_get(ins, "HostConfig", "PortBindings", NULL);
	struct strlist absent = { 0 };
	size_t before = problems->n;

	/* the engine ignores what a container on the host's network
	 * publishes */
	if (dm_streq(json_str(ins, "HostConfig", "NetworkMode", NULL), "host"))
		return 0;
	for (size_t i = 0; i < json_olen(pb); i++) {
		const char *key = pb->u.object.keys[i];
		const char *slash = strchr(key, '/');
		const char *proto = slash ? slash + 1 : "tcp";
		yajl_val l = pb->u.object.values[i];

		for (size_t j = 0; j < json_alen(l); j++) {
			yajl_val b = l->u.array.values[j];
			const char *ip = json_str(b, "HostIp", NULL) ?: "";
			unsigned lo, hi;
			struct addr a;

			if (addr_parse(ip, &a) == 0 && !a.any && f->proc &&
			    !addr_local(f->proc, &a)) {
				int seen = 0;

				for (size_t k = 0; k < absent.n; k++)
					seen |= strcmp(absent.v[k], ip) == 0;
				if (!seen) {
					strlist_add(&absent, ip);
					problem(problems, xasprintf("published "
						"address %s: %s has no such "
						"address (map it to one it has "
						"with --publish-ip %s=ADDRESS)",
						ip, f->dest, ip));
				}
				continue;
			}
			if (!port_range(json_str(b, "HostPort", NULL), &lo, &hi))
				continue;
			for (unsigned p = lo; p <= hi; p++)
				check_port(ip, p, proto, f, problems);
		}
	}
	strlist_clear(&absent);
	return problems->n - before;
}

/* ------------------------------------------------------------------ */
/* networks                                                            */

struct cidr {
	struct addr a;
	int bits;
};

static int cidr_parse(const char *s, struct cidr *c)
{
	char buf[64];
	const char *slash = s ? strchr(s, '/') : NULL;
	char *end;
	long bits;

	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	bits = strtol(slash + 1, &end, 10);
	if (addr_parse(buf, &c->a) < 0 || !c->a.fam || *end || bits < 0 ||
	    bits > (c->a.fam == 4 ? 32 : 128))
		return -1;
	c->bits = (int)bits;
	return 0;
}

/* Do the first bits of x and y agree? */
static int prefix_eq(const unsigned char *x, const unsigned char *y, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(x, y, (size_t)whole) != 0)
		return 0;
	if (!rest)
		return 1;
	return ((x[whole] ^ y[whole]) & (0xff << (8 - rest))) == 0;
}

static int cidr_overlap(const struct cidr *x, const struct cidr *y)
{
	return x->a.fam == y->a.fam &&
	       prefix_eq(x->a.b, y->a.b, x->bits < y->bits ? x->bits : y->bits);
}

static int cidr_holds(const struct cidr *c, const struct addr *a)
{
	return c->a.fam == a->fam && prefix_eq(c->a.b, a->b, c->bits);
}

/* The subnets of a network's IPAM, as a sorted, comma-joined string. */
static char *subnets_of(yajl_val net)
{
	yajl_val cfg = json_get(net, "IPAM", "Config", NULL);
	struct strlist l = { 0 };
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < json_alen(cfg); i++) {
		const char *s = json_str(cfg->u.array.values[i], "Subnet", NULL);

		if (s)
			strlist_add(&l, s);
	}
	for (size_t i = 1; i < l.n; i++)	/* a handful: insertion sort */
		for (size_t j = i; j > 0 && strcmp(l.v[j - 1], l.v[j]) > 0; j--) {
			char *t = l.v[j];

			l.v[j] = l.v[j - 1];
			l.v[j - 1] = t;
		}
	for (size_t i = 0; i < l.n; i++)
		sb_addf(&sb, "%s%s", i ? "," : "", l.v[i]);
	strlist_clear(&l);
	return sb.len ? sb_detach(&sb) : xstrdup("none");
}

/* Options an engine sets by itself on a network it creates (28 adds
 * these; 20.10 none): they say nothing of the user's network. */
static const char *const engine_options[] = {
	"com.docker.network.enable_ipv4",
	"com.docker.network.enable_ipv6",
};

static int engine_option(const char *k)
{
	for (size_t i = 0; i < sizeof(engine_options) / sizeof(*engine_options); i++)
		if (strcmp(engine_options[i], k) == 0)
			return 1;
	return 0;
}

/* The first option of x that y lacks or has otherwise; NULL: none. */
static const char *option_differs(yajl_val x, yajl_val y)
{
	yajl_val ox = json_get(x, "Options", NULL);

	for (size_t i = 0; i < json_olen(ox); i++) {
		const char *k = ox->u.object.keys[i];
		yajl_val v = ox->u.object.values[i];

		if (engine_option(k))
			continue;
		if (!YAJL_IS_STRING(v) ||
		    !dm_streq(json_str(y, "Options", k, NULL), v->u.string))
			return k;
	}
	return NULL;
}

/* A missing network is re-created with the source's IPAM: each of its
 * subnets and ranges must be free at the destination. */
static void check_missing_net(const struct net_pair *np,
			      const struct dest_facts *f,
			      struct strlist *problems)
{
	yajl_val cfg = json_get(np->src, "IPAM", "Config", NULL);
	static const char *const keys[] = { "Subnet", "IPRange" };

	for (size_t i = 0; i < json_alen(cfg); i++)
		for (size_t k = 0; k < 2; k++) {
			const char *s = json_str(cfg->u.array.values[i], keys[k],
						 NULL);
			struct cidr c;
			int found = 0;

			if (!s || cidr_parse(s, &c) < 0)
				continue;
			for (size_t n = 0; !found && n < json_alen(f->networks); n++) {
				yajl_val dn = f->networks->u.array.values[n];
				yajl_val dc = json_get(dn, "IPAM", "Config", NULL);

				for (size_t j = 0; !found && j < json_alen(dc); j++) {
					const char *ds = json_str(dc->u.array.values[j],
								  "Subnet", NULL);
					struct cidr d;

					if (!ds || cidr_parse(ds, &d) < 0 ||
					    !cidr_overlap(&c, &d))
						continue;
					found = 1;
					problem(problems, xasprintf("network "
						"\"%s\": its %s %s overlaps "
						"subnet %s of network \"%s\" at "
						"%s (remove that network there, "
						"or give it another subnet)",
						np->name, k ? "range" : "subnet",
						s, ds, json_str(dn, "Name", NULL)
						?: "?", f->dest));
				}
			}
		}
}

/* A network of that name there: the copy joins it as it is, so it must
 * be the same network: driver, subnets, options. */
static void check_existing_net(const struct net_pair *np,
			       const struct dest_facts *f,
			       struct strlist *problems)
{
	const char *sd = json_str(np->src, "Driver", NULL) ?: "?";
	const char *dd = json_str(np->dst, "Driver", NULL) ?: "?";
	char *ss = subnets_of(np->src), *ds = subnets_of(np->dst);
	const char *opt;

	if (strcmp(sd, dd) != 0)
		problem(problems, xasprintf("network \"%s\" exists at %s with "
			"driver %s, the source's has %s (remove it there, and "
			"it is made as at the source)", np->name, f->dest, dd,
			sd));
	else if (strcmp(ss, ds) != 0)
		problem(problems, xasprintf("network \"%s\" exists at %s with "
			"subnet %s, the source's has %s (remove it there, and "
			"it is made as at the source)", np->name, f->dest, ds,
			ss));
	else if ((opt = option_differs(np->src, np->dst)) ||
		 (opt = option_differs(np->dst, np->src)))
		problem(problems, xasprintf("network \"%s\" exists at %s with "
			"another value of option %s (remove it there, and it "
			"is made as at the source)", np->name, f->dest, opt));
	free(ss);
	free(ds);
}

/* The container of net (at the destination) whose address or MAC is v:
 * key "IPv4Address" ("10.1.0.5/24"), "IPv6Address" or "MacAddress". */
static const char *holder_of(yajl_val net, const char *key, const char *v)
{
	yajl_val cs = json_get(net, "Containers", NULL);
	size_t n = strlen(v);

	for (size_t i = 0; i < json_olen(cs); i++) {
		const char *a = json_str(cs->u.object.values[i], key, NULL);

		if (a && strncasecmp(a, v, n) == 0 && (a[n] == '\0' || a[n] == '/'))
			return json_str(cs->u.object.values[i], "Name", NULL)
			       ?: "?";
	}
	return NULL;
}

/* Is a the gateway of that IPAM entry: the one it names, else the
 * first address of its subnet, which the engine then takes? */
static int is_gateway(yajl_val cfg, const struct addr *a)
{
	const char *gw = json_str(cfg, "Gateway", NULL);
	struct cidr s;
	struct addr g;
	int last;

	if (gw && *gw)
		return addr_parse(gw, &g) == 0 && g.fam == a->fam &&
		       memcmp(g.b, a->b, 16) == 0;
	if (cidr_parse(json_str(cfg, "Subnet", NULL), &s) < 0 ||
	    !cidr_holds(&s, a))
		return 0;
	g = s.a;
	last = s.a.fam == 4 ? 3 : 15;
	g.b[last] |= 1;
	return memcmp(g.b, a->b, 16) == 0;
}

/* A static address (--ip, --ip6): inside a subnet of the network it
 * will join, not its gateway, not another container's there. */
static void check_static_ip(const struct net_pair *np, const char *ip,
			    const struct dest_facts *f,
			    struct strlist *problems)
{
	yajl_val net = np->dst ? np->dst : np->src;
	yajl_val cfg = json_get(net, "IPAM", "Config", NULL);
	const char *who;
	struct addr a;
	int inside = 0;

	if (addr_parse(ip, &a) < 0 || !a.fam)
		return;
	for (size_t i = 0; i < json_alen(cfg); i++) {
		yajl_val c = cfg->u.array.values[i];
		struct cidr s;

		if (cidr_parse(json_str(c, "Subnet", NULL), &s) == 0 &&
		    cidr_holds(&s, &a))
			inside = 1;
	}
	if (!inside) {
		char *ss = subnets_of(net);

		problem(problems, xasprintf("static address %s on network "
			"\"%s\": it is outside the network's subnet %s at %s "
			"(remove that network there, and it is made as at the "
			"source)", ip, np->name, ss, f->dest));
		free(ss);
		return;
	}
	if (!np->dst)
		return;	/* made for the copy: nobody else is on it */
	who = holder_of(np->dst, a.fam == 4 ? "IPv4Address" : "IPv6Address", ip);
	for (size_t i = 0; !who && i < json_alen(cfg); i++)
		if (is_gateway(cfg->u.array.values[i], &a))
			who = "its gateway";
	if (who)
		problem(problems, xasprintf("static address %s on network "
			"\"%s\" is taken at %s by %s%s%s (free it there first)",
			ip, np->name, f->dest, strcmp(who, "its gateway")
			? "container \"" : "", who, strcmp(who, "its gateway")
			? "\"" : ""));
}

static void check_mac(const struct net_pair *np, const char *mac,
		      const struct dest_facts *f, struct strlist *problems)
{
	const char *who = np->dst ? holder_of(np->dst, "MacAddress", mac) : NULL;

	if (who)
		problem(problems, xasprintf("MAC address %s on network \"%s\" "
			"is taken at %s by container \"%s\" (free it there "
			"first)", mac, np->name, f->dest, who));
}

size_t precheck_networks(yajl_val ins, const struct dest_facts *f,
			 const struct net_pair *nets, size_t n,
			 struct strlist *problems)
{
	size_t before = problems->n;
	const char *mac = json_str(ins, "Config", "MacAddress", NULL);

	for (size_t i = 0; i < n; i++) {
		const struct net_pair *np = &nets[i];
		yajl_val ep = json_get(ins, "NetworkSettings", "Networks",
				       np->name, NULL);
		const char *v4 = json_str(ep, "IPAMConfig", "IPv4Address", NULL);
		const char *v6 = json_str(ep, "IPAMConfig", "IPv6Address", NULL);
		size_t mark = problems->n;

		if (np->src && !np->dst)
			check_missing_net(np, f, problems);
		else if (np->src && np->dst)
			check_existing_net(np, f, problems);
		if (problems->n != mark)
			continue;	/* addresses are judged on a network
					 * the copy can join */
		if (np->src && v4 && *v4)
			check_static_ip(np, v4, f, problems);
		if (np->src && v6 && *v6)
			check_static_ip(np, v6, f, problems);
		if (mac && *mac)
			check_mac(np, mac, f, problems);
	}
	return problems->n - before;
}

/* ------------------------------------------------------------------ */

void precheck_running_names(const struct dest_facts *f, struct strlist *out)
{
	for (size_t i = 0; i < json_alen(f->containers); i++) {
		yajl_val names = json_get(f->containers->u.array.values[i],
					  "Names", NULL);

		for (size_t j = 0; j < json_alen(names); j++) {
			yajl_val v = names->u.array.values[j];
			const char *s = YAJL_IS_STRING(v) ? v->u.string : NULL;

			/* "/web/db" is web's link to db, not a name */
			if (s && s[0] == '/' && !strchr(s + 1, '/'))
				strlist_add(out, s + 1);
		}
	}
}

void precheck_device_paths(yajl_val ins, struct strlist *out)
{
	yajl_val d = json_get(ins, "HostConfig", "Devices", NULL);

	for (size_t i = 0; i < json_alen(d); i++) {
		const char *p = json_str(d->u.array.values[i], "PathOnHost", NULL);

		if (p && *p)
			strlist_add(out, p);
	}
}
