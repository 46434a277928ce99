/*
 * precheck.h - before the source stops: everything that would make the
 * copy's create or start fail at the destination, judged on facts
 * gathered there (its running containers, its networks, its listening
 * sockets and addresses from /proc/net).  Each problem is one line that
 * names the thing and says how to proceed.  The judging is pure (yajl
 * trees and /proc texts in, lines out); precheck_gather() is the part
 * that asks the destination.
 */
#ifndef DM_PRECHECK_H
#define DM_PRECHECK_H

#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "opt.h"

struct engine;
struct sshlink;

/* What the destination has, as the checks need it. */
struct dest_facts {
	const char *dest;	/* --to, as the user wrote it: for messages */
	yajl_val containers;	/* GET /containers/json there (running) */
	yajl_val networks;	/* GET /networks there */
	char *proc;		/* PRECHECK_PROC_CMD's output there */
};

/* One network the container is on: its inspect at both ends. */
struct net_pair {
	const char *name;
	yajl_val src;		/* NULL for the built-in ones */
	yajl_val dst;		/* NULL: missing at the destination */
};

/* What runs at the destination to list its sockets and addresses:
 * sections "@tcp", "@tcp6", "@udp", "@udp6" (the files of /proc/net;
 * TCP in state LISTEN only, to keep it short), "@fib_trie" (its local
 * IPv4 addresses) and "@if_inet6".  Nothing to install: sh, cat, awk. */
#define PRECHECK_PROC_CMD \
	"for f in tcp tcp6; do echo \"@$f\"; awk '$4 == \"0A\"' /proc/net/$f; done; " \
	"for f in udp udp6; do echo \"@$f\"; cat /proc/net/$f; done; " \
	"echo @fib_trie; awk '/[|]--/ { a = $2 } /\\/32 host LOCAL/ " \
	"{ print \"|-- \" a; print \"   /32 host LOCAL\" }' /proc/net/fib_trie; " \
	"echo @if_inet6; cat /proc/net/if_inet6"

/*
 * --publish-ip OLD=NEW: each published port of the inspect bound to OLD
 * is bound to NEW instead (the inspect is changed in place, so that the
 * checks and the create body both see NEW).  -1 with an error naming the
 * entry when one is malformed or no port is published on OLD.
 */
int precheck_map_publish(yajl_val ins, const struct strlist *map,
			 const char *name);

/* Is s an IPv4 or IPv6 address? */
int precheck_is_addr(const char *s);

/* The checks: ports (each protocol, each address), the networks and the
 * static addresses and MACs on them.  Problems are appended; returns
 * their count. */
size_t precheck_ports(yajl_val ins, const struct dest_facts *f,
		      struct strlist *problems);
size_t precheck_networks(yajl_val ins, const struct dest_facts *f,
			 const struct net_pair *nets, size_t n,
			 struct strlist *problems);

/* The names of the containers of f that run (as links name them). */
void precheck_running_names(const struct dest_facts *f, struct strlist *out);

/* The device paths of HostConfig.Devices (to look for at the destination). */
void precheck_device_paths(yajl_val ins, struct strlist *out);

/* --- what asks the destination (precheck_gather.c) --- */

/* Fill f: running containers, networks, the /proc listing. */
int precheck_gather(struct engine *dst, struct sshlink *link,
		    const char *dest, struct dest_facts *f);
void dest_facts_release(struct dest_facts *f);

/* The networks the container is on (but host and none), each inspected
 * at the source (user networks) and at the destination (NULL: missing). */
int precheck_gather_nets(struct engine *src, struct engine *dst,
			 yajl_val ins, struct net_pair **out, size_t *n);
void net_pairs_release(struct net_pair *p, size_t n);

/* Which of paths do not exist on the destination host. */
int precheck_missing_paths(struct sshlink *link, const struct strlist *paths,
			   struct strlist *missing);

#endif
