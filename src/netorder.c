/*
 * netorder.c - a container's interfaces in the order it has them, so that
 * its copy has them in the same (see netorder.h).
 */
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "json.h"
#include "netorder.h"

/* The network whose endpoint has this MAC address, or NULL. */
static const char *network_of_mac(yajl_val ins, const char *mac)
{
	yajl_val nets = json_get(ins, "NetworkSettings", "Networks", NULL);

	for (size_t i = 0; i < json_olen(nets); i++)
		if (dm_streq(json_str(nets->u.object.values[i], "MacAddress",
				      NULL), mac))
			return nets->u.object.keys[i];
	return NULL;
}

struct iface {
	long index;		/* N of ethN */
	const char *net;
};

static int by_index(const void *a, const void *b)
{
	const struct iface *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

int netorder_parse(yajl_val ins, const char *lines, struct strlist *order)
{
	struct iface *ifs = NULL;
	size_t n = 0;
	const char *p = lines;
	int ret = 0;

	while (p && *p) {
		size_t len = strcspn(p, "\n");
		char *line = xstrndup(p, len), *end, *mac;
		long idx;

		p += len + (p[len] == '\n');
		mac = strchr(line, ' ');
		/* only the engine's interfaces: eth0, eth1, ... */
		if (mac && strncmp(line, "eth", 3) == 0 &&
		    (idx = strtol(line + 3, &end, 10)) >= 0 && end == mac) {
			const char *net = network_of_mac(ins, mac + 1);

			if (!net) {
				free(line);
				ret = -1;
				break;
			}
			ifs = xrealloc(ifs, (n + 1) * sizeof(*ifs));
			ifs[n++] = (struct iface){ idx, net };
		}
		free(line);
	}
	if (ret == 0 && n) {
		qsort(ifs, n, sizeof(*ifs), by_index);
		for (size_t i = 0; i < n; i++)
			strlist_add(order, ifs[i].net);
	}
	free(ifs);
	return ret;
}

int netorder_is_start_order(const struct strlist *order)
{
	for (size_t i = 1; i < order->n; i++)
		if (strcmp(order->v[i - 1], order->v[i]) > 0)
			return 0;
	return 1;
}

static size_t rank(const struct strlist *order, const char *net)
{
	for (size_t i = 0; i < order->n; i++)
		if (strcmp(order->v[i], net) == 0)
			return i;
	return order->n;
}

void netorder_sort_extra(struct recreate_out *out, const struct strlist *order)
{
	struct strlist *nets = &out->extra_nets, *bodies = &out->extra_bodies;

	/* a few networks: an insertion sort that keeps equal ranks' order,
	 * moving each network and its connect body together */
	for (size_t i = 1; i < nets->n; i++) {
		char *net = nets->v[i], *body = bodies->v[i];
		size_t r = rank(order, net), j = i;

		for (; j > 0 && rank(order, nets->v[j - 1]) > r; j--) {
			nets->v[j] = nets->v[j - 1];
			bodies->v[j] = bodies->v[j - 1];
		}
		nets->v[j] = net;
		bodies->v[j] = body;
	}
}


static int collect(void *ctx, const void *buf, size_t n)
{
	struct strbuf *sb = ctx;

	if (sb->len + n > 1 << 16)
		return dm_error("too many interfaces");
	sb_add(sb, buf, n);
	return 0;
}

int netorder_keep(struct engine *src, const char *id, yajl_val ins,
		  struct recreate_out *out)
{
	/* the shell's own read: no other program of the image is needed */
	static const char *const argv[] = {
		"/bin/sh", "-c", "cd /sys/class/net && for i in eth*; do "
		"read a <\"$i/address\" && echo \"$i $a\"; done", NULL
	};
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	struct strlist order = { 0 };
	long code = -1;
	int keep = 0;

	if (!out->extra_nets.n)
		return 0;
	if (engine_exec(src, id, argv, collect, &text, &err, &code) < 0 ||
	    code != 0 || netorder_parse(ins, sb_str(&text), &order) < 0) {
		dm_debug("the order of the interfaces of %.12s is not known: %s",
			 id, code ? sb_str(&err) : dm_errmsg());
		dm_clear_error();
	} else if (!netorder_is_start_order(&order)) {
		netorder_sort_extra(out, &order);
		keep = 1;
	}
	strlist_clear(&order);
	sb_release(&text);
	sb_release(&err);
	return keep;
}
