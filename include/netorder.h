/*
 * netorder.h - the order of a container's network interfaces, kept by
 * its copy.  An engine names them eth0, eth1, ... in the order it joins
 * the networks: at a start in its own order (20.10: by network name), and
 * for a running container in the order of "docker network connect".  The
 * inspect does not tell it; the container's /sys/class/net does, each
 * interface with the MAC address the inspect gives per network.
 */
#ifndef DM_NETORDER_H
#define DM_NETORDER_H

#include <yajl/yajl_tree.h>

#include "engine.h"
#include "recreate.h"

/* The networks in their interfaces' order, from "IFNAME MAC" lines of the
 * container (pure).  0, or -1 when a line names a MAC no network has. */
int netorder_parse(yajl_val ins, const char *lines, struct strlist *order);

/* Is order the networks' names sorted, as 20.10 joins them at a start? */
int netorder_is_start_order(const struct strlist *order);

/* The networks connected after the create, put in order (pure): those
 * order does not name keep their place after the others. */
void netorder_sort_extra(struct recreate_out *out, const struct strlist *order);

/* The running source's order, read by an exec of its shell (its
 * interfaces' MACs); when it is not the order a start gives, the extra
 * networks are sorted and 1 is returned: the copy joins them once it
 * runs, one by one, as the source did.  0 when the start's order is the
 * same or the order cannot be read (no shell in the image). */
int netorder_keep(struct engine *src, const char *id, yajl_val ins,
		  struct recreate_out *out);

#endif
