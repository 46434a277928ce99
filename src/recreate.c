/*
 * recreate.c - build the destination's create request from the source's
 * inspect (see recreate.h).  The rule is "copy everything, then take out
 * what only made sense on the source": tools that pick fields one by one
 * (runlike, docker-autocompose) lose entrypoints, limits, healthchecks.
 */
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "json.h"
#include "recreate.h"

int network_is_builtin(const char *name)
{
	return dm_streq(name, "bridge") || dm_streq(name, "host") ||
	       dm_streq(name, "none") || dm_streq(name, "default");
}

static int in_list(const struct strlist *l, const char *s)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

void recreate_out_release(struct recreate_out *out)
{
	free(out->body);
	strlist_clear(&out->problems);
	strlist_clear(&out->dropped);
	strlist_clear(&out->networks);
	strlist_clear(&out->extra_nets);
	strlist_clear(&out->extra_bodies);
	strlist_clear(&out->volumes);
	strlist_clear(&out->bind_copies);
	strlist_clear(&out->bind_skipped);
	memset(out, 0, sizeof(*out));
}

/* "src:dst[:opts]" of HostConfig.Binds: the host path */
static char *bind_source(const char *bind)
{
	const char *colon = strchr(bind, ':');

	return colon ? xstrndup(bind, (size_t)(colon - bind)) : xstrdup(bind);
}

void recreate_bind_sources(yajl_val inspect, struct strlist *out)
{
	yajl_val mounts = json_get(inspect, "Mounts", NULL);

	for (size_t i = 0; i < json_alen(mounts); i++) {
		yajl_val m = mounts->u.array.values[i];
		const char *src = json_str(m, "Source", NULL);

		if (dm_streq(json_str(m, "Type", NULL), "bind") && src &&
		    !in_list(out, src))
			strlist_add(out, src);
	}
}

/* An unmovable item: a problem, or with --drop-unmovable a dropped one. */
static void unmovable(const struct recreate_in *in, struct recreate_out *out,
		      char *what)
{
	strlist_add(in->drop_unmovable ? &out->dropped : &out->problems, what);
	free(what);
}

/* The default hostname is the first 12 digits of the id: not the user's. */
static int default_hostname(yajl_val inspect)
{
	const char *id = json_str(inspect, "Id", NULL);
	const char *h = json_str(inspect, "Config", "Hostname", NULL);

	return !h || !*h || (id && strlen(h) == 12 && strncmp(id, h, 12) == 0);
}

/* Does the destination's API (as spoken to it) predate version v?  An
 * engine takes fields it does not know without a word and ignores them:
 * what it would ignore must be named, not sent. */
static int api_before(const struct recreate_in *in, const char *v)
{
	return in->dst_api && strverscmp(in->dst_api, v) < 0;
}

/* A JSON number that is zero (or null: not set). */
static int zero_or_null(yajl_val v)
{
	return !v || YAJL_IS_NULL(v) ||
	       (YAJL_IS_NUMBER(v) && v->u.number.r && strcmp(v->u.number.r, "0") == 0);
}

/* The healthcheck without StartInterval ("--health-start-interval",
 * API 1.44): engines spoken to in an older version drop it silently. */
static void gen_healthcheck(yajl_gen g, const struct recreate_in *in,
			    struct recreate_out *out, yajl_val hc)
{
	yajl_val si = json_get(hc, "StartInterval", NULL);

	if (zero_or_null(si) || !api_before(in, "1.44")) {
		json_gen_value(g, hc);
		return;
	}
	unmovable(in, out, xasprintf("healthcheck start interval (%s ns): the "
		  "destination is spoken to in Engine API %s, which has none "
		  "(1.44 and later do)", YAJL_IS_NUMBER(si) ? si->u.number.r : "?",
		  in->dst_api));
	yajl_gen_map_open(g);
	for (size_t i = 0; i < json_olen(hc); i++) {
		if (strcmp(hc->u.object.keys[i], "StartInterval") == 0)
			continue;
		json_gen_str(g, hc->u.object.keys[i]);
		json_gen_value(g, hc->u.object.values[i]);
	}
	yajl_gen_map_close(g);
}

static void gen_config(yajl_gen g, const struct recreate_in *in,
		       struct recreate_out *out)
{
	yajl_val cfg = json_get(in->inspect, "Config", NULL);
	int drop_host = default_hostname(in->inspect);

	for (size_t i = 0; i < json_olen(cfg); i++) {
		const char *k = cfg->u.object.keys[i];
		yajl_val v = cfg->u.object.values[i];

		if (strcmp(k, "Image") == 0 ||
		    (drop_host && strcmp(k, "Hostname") == 0))
			continue;
		json_gen_str(g, k);
		if (strcmp(k, "Healthcheck") == 0 && YAJL_IS_OBJECT(v))
			gen_healthcheck(g, in, out, v);
		else
			json_gen_value(g, v);
	}
	json_gen_str(g, "Image");
	json_gen_str(g, in->image);
}

/* container:<id> modes refer to a container that stays behind. */
static void check_mode(const struct recreate_in *in, struct recreate_out *out,
		       yajl_val hc, const char *key, const char *what)
{
	const char *mode = json_str(hc, key, NULL);

	if (dm_starts_with(mode, "container:"))
		unmovable(in, out, xasprintf("%s \"%s\": it shares another "
					     "container's namespace, which "
					     "stays on the source", what, mode));
}

/* A bind mount whose host path is missing at the destination: copied
 * there (kept in the body), left out, or a problem.  1: leave it out. */
static int missing_bind(const struct recreate_in *in, struct recreate_out *out,
			const char *src, const char *what)
{
	if (!in_list(in->missing_binds, src))
		return 0;
	switch (in->bind_mode) {
	case BIND_COPY:
		if (!in_list(&out->bind_copies, src))
			strlist_add(&out->bind_copies, src);
		return 0;
	case BIND_SKIP:
		strlist_add(&out->bind_skipped, what);
		return 1;
	default:
		unmovable(in, out, xasprintf("bind mount \"%s\": %s does not "
			  "exist at the destination (--bind-mounts copy copies "
			  "it there, --bind-mounts skip leaves the mount out)",
			  what, src));
		return 1;
	}
}

static void gen_binds(yajl_gen g, const struct recreate_in *in,
		      struct recreate_out *out, yajl_val binds)
{
	yajl_gen_array_open(g);
	for (size_t i = 0; i < json_alen(binds); i++) {
		yajl_val b = binds->u.array.values[i];
		char *src;
		int leave;

		if (!YAJL_IS_STRING(b))
			continue;
		src = bind_source(b->u.string);
		leave = src[0] == '/' && missing_bind(in, out, src, b->u.string);
		free(src);
		if (!leave)
			json_gen_value(g, b);
	}
	yajl_gen_array_close(g);
}

static void gen_anonymous_mounts(yajl_gen g, const struct recreate_in *in);

static void gen_mounts(yajl_gen g, const struct recreate_in *in,
		       struct recreate_out *out, yajl_val mounts)
{
	yajl_gen_array_open(g);
	for (size_t i = 0; i < json_alen(mounts); i++) {
		yajl_val m = mounts->u.array.values[i];
		const char *src = json_str(m, "Source", NULL);

		/* "volume-subpath" (API 1.45): an older engine would mount
		 * the whole volume there */
		if (json_str(m, "VolumeOptions", "Subpath", NULL) &&
		    *json_str(m, "VolumeOptions", "Subpath", NULL) &&
		    api_before(in, "1.45")) {
			unmovable(in, out, xasprintf("the mount of volume "
				  "\"%s\" at %s is of its subpath \"%s\": the "
				  "destination is spoken to in Engine API %s, "
				  "which would mount the whole volume (1.45 and "
				  "later do not)", src ? src : "?",
				  json_str(m, "Target", NULL) ?: "?",
				  json_str(m, "VolumeOptions", "Subpath", NULL),
				  in->dst_api));
			continue;
		}
		if (dm_streq(json_str(m, "Type", NULL), "bind") && src) {
			char *what = xasprintf("%s:%s", src,
					       json_str(m, "Target", NULL) ?: "?");
			int leave = missing_bind(in, out, src, what);

			free(what);
			if (leave)
				continue;
		}
		json_gen_value(g, m);
	}
	gen_anonymous_mounts(g, in);
	yajl_gen_array_close(g);
}

/* Volumes (named, anonymous, from the image's VOLUME): their content
 * does not travel with this command yet, so they would arrive empty. */
static void check_volumes(const struct recreate_in *in,
			  struct recreate_out *out)
{
	yajl_val mounts = json_get(in->inspect, "Mounts", NULL);

	for (size_t i = 0; i < json_alen(mounts); i++) {
		yajl_val m = mounts->u.array.values[i];
		const char *name = json_str(m, "Name", NULL);

		if (!dm_streq(json_str(m, "Type", NULL), "volume"))
			continue;
		if (in->carry_volumes && name) {
			if (!in_list(&out->volumes, name))
				strlist_add(&out->volumes, name);
			continue;
		}
		unmovable(in, out, xasprintf("volume \"%s\" at %s: its "
			  "content is not carried; it would arrive empty",
			  name ?: "?", json_str(m, "Destination", NULL) ?: "?"));
	}
}

/* Is target the destination of a Binds entry or of HostConfig.Mounts? */
static int mount_declared(yajl_val hc, const char *target)
{
	yajl_val binds = json_get(hc, "Binds", NULL);
	yajl_val mounts = json_get(hc, "Mounts", NULL);

	for (size_t i = 0; i < json_alen(binds); i++) {
		yajl_val b = binds->u.array.values[i];
		const char *c1 = YAJL_IS_STRING(b) ? strchr(b->u.string, ':') : NULL;
		size_t n = c1 ? strcspn(c1 + 1, ":") : 0;

		if (c1 && strlen(target) == n && strncmp(c1 + 1, target, n) == 0)
			return 1;
	}
	for (size_t i = 0; i < json_alen(mounts); i++)
		if (dm_streq(json_str(mounts->u.array.values[i], "Target", NULL),
			     target))
			return 1;
	return 0;
}

/* Anonymous volumes (an image's VOLUME, "-v /path") are not in the
 * HostConfig: at the destination the engine would make new, empty ones.
 * Their copies are mounted explicitly instead, by name. */
static void gen_anonymous_mounts(yajl_gen g, const struct recreate_in *in)
{
	yajl_val hc = json_get(in->inspect, "HostConfig", NULL);
	yajl_val mounts = json_get(in->inspect, "Mounts", NULL);

	for (size_t i = 0; in->carry_volumes && i < json_alen(mounts); i++) {
		yajl_val m = mounts->u.array.values[i];
		const char *dest = json_str(m, "Destination", NULL);

		if (!dm_streq(json_str(m, "Type", NULL), "volume") || !dest ||
		    !json_str(m, "Name", NULL) || mount_declared(hc, dest))
			continue;
		yajl_gen_map_open(g);
		json_gen_str(g, "Type");
		json_gen_str(g, "volume");
		json_gen_str(g, "Source");
		json_gen_str(g, json_str(m, "Name", NULL));
		json_gen_str(g, "Target");
		json_gen_str(g, dest);
		json_gen_str(g, "ReadOnly");
		yajl_gen_bool(g, !json_true(m, "RW", NULL));
		yajl_gen_map_close(g);
	}
}

/* Every path that dockerd 20.10 or 28 masks or makes read-only when the
 * request names none (measured: `docker inspect` of a plain `docker run`
 * on each).  Newer engines mask more (28: /proc/interrupts and
 * /sys/devices/virtual/powercap).  A list made of these only is the
 * source engine's default, not the user's: it is left out, so that the
 * destination applies its own, as for a container created there.  The
 * CLI cannot set these lists (only --privileged and --security-opt
 * systempaths=unconfined change them, and both travel). */
static const char *const default_system_paths[] = {
	"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore",
	"/proc/keys", "/proc/latency_stats", "/proc/timer_list",
	"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap",
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
	"/proc/sysrq-trigger",
};

static int default_paths(yajl_val list)
{
	size_t n = sizeof(default_system_paths) / sizeof(*default_system_paths);

	if (!YAJL_IS_ARRAY(list) || !json_alen(list))
		return 0;
	for (size_t i = 0; i < json_alen(list); i++) {
		yajl_val p = list->u.array.values[i];
		size_t j = 0;

		while (j < n && !(YAJL_IS_STRING(p) &&
				  strcmp(p->u.string, default_system_paths[j]) == 0))
			j++;
		if (j == n)
			return 0;
	}
	return 1;
}

/* HostConfig fields that engines differ on; 1: leave k out of the body. */
static int engine_specific(const struct recreate_in *in,
			   struct recreate_out *out, const char *k, yajl_val v)
{
	/* Kernel memory limits: gone from API 1.42 (engines 23 on take
	 * them and set 0).  Zero is every engine's "none". */
	if (strcmp(k, "KernelMemory") == 0 || strcmp(k, "KernelMemoryTCP") == 0) {
		if (zero_or_null(v))
			return 1;
		if (api_before(in, "1.42") || !in->dst_api)
			return 0;
		unmovable(in, out, xasprintf("%s %s: the destination is "
			  "spoken to in Engine API %s, which has no kernel "
			  "memory limits", k,
			  YAJL_IS_NUMBER(v) ? v->u.number.r : "?", in->dst_api));
		return 1;
	}
	if (strcmp(k, "MaskedPaths") == 0 || strcmp(k, "ReadonlyPaths") == 0)
		return default_paths(v);
	return 0;
}

/* Devices present at the destination are carried (/dev/null is on
 * every host); the others stay behind, named. */
static int device_ok(const struct recreate_in *in, yajl_val dev)
{
	const char *p = json_str(dev, "PathOnHost", NULL);

	return p && in->missing_devices && !in_list(in->missing_devices, p);
}

static void gen_devices(yajl_gen g, const struct recreate_in *in,
			struct recreate_out *out, yajl_val devs)
{
	size_t kept = 0;

	for (size_t d = 0; d < json_alen(devs); d++)
		kept += device_ok(in, devs->u.array.values[d]);
	if (kept) {
		json_gen_str(g, "Devices");
		yajl_gen_array_open(g);
	}
	for (size_t d = 0; d < json_alen(devs); d++) {
		yajl_val dev = devs->u.array.values[d];
		const char *p = json_str(dev, "PathOnHost", NULL) ?: "?";

		if (device_ok(in, dev))
			json_gen_value(g, dev);
		else
			unmovable(in, out, in->missing_devices
				  ? xasprintf("device %s: it does not exist at "
					      "the destination", p)
				  : xasprintf("device %s: devices are tied to "
					      "the source host", p));
	}
	if (kept)
		yajl_gen_array_close(g);
}

/* Does the link ("/db:/web/db" as an inspect has it, "db:alias", "db")
 * name a container that runs at the destination under that name? */
static int link_ok(const struct recreate_in *in, yajl_val l)
{
	const char *s = YAJL_IS_STRING(l) ? l->u.string : NULL;
	char *t;
	int ok;

	if (!s || !in->dest_running)
		return 0;
	s += s[0] == '/';
	t = xstrndup(s, strcspn(s, ":"));
	ok = in_list(in->dest_running, t);
	free(t);
	return ok;
}

/* Links (HostConfig's, or an endpoint's on the user network net) to a
 * container that runs at the destination are carried; the others name
 * a container of the source. */
static void gen_links(yajl_gen g, const struct recreate_in *in,
		      struct recreate_out *out, yajl_val links,
		      const char *key, const char *net)
{
	size_t kept = 0;

	for (size_t d = 0; d < json_alen(links); d++)
		kept += link_ok(in, links->u.array.values[d]);
	if (kept) {
		json_gen_str(g, key);
		yajl_gen_array_open(g);
	}
	for (size_t d = 0; d < json_alen(links); d++) {
		yajl_val l = links->u.array.values[d];

		if (!YAJL_IS_STRING(l))
			continue;
		if (link_ok(in, l))
			json_gen_value(g, l);
		else if (net)
			unmovable(in, out, xasprintf("link \"%s\" on network "
				  "\"%s\": the container it names does not "
				  "run at the destination (move it first)",
				  l->u.string, net));
		else
			unmovable(in, out, xasprintf("Links \"%s\": it names a "
				  "container of the source, which does not run "
				  "at the destination (move it first)",
				  l->u.string));
	}
	if (kept)
		yajl_gen_array_close(g);
}

static void gen_host_config(yajl_gen g, const struct recreate_in *in,
			    struct recreate_out *out)
{
	yajl_val hc = json_get(in->inspect, "HostConfig", NULL);

	check_mode(in, out, hc, "NetworkMode", "network mode");
	check_mode(in, out, hc, "IpcMode", "IPC mode");
	check_mode(in, out, hc, "PidMode", "PID mode");
	check_volumes(in, out);
	yajl_gen_map_open(g);
	for (size_t i = 0; i < json_olen(hc); i++) {
		const char *k = hc->u.object.keys[i];
		yajl_val v = hc->u.object.values[i];

		if (strcmp(k, "ContainerIDFile") == 0)
			continue;	/* a file of the source's client */
		if (engine_specific(in, out, k, v))
			continue;
		/* a dropped container: mode goes back to the engine's default */
		if ((strcmp(k, "NetworkMode") == 0 || strcmp(k, "IpcMode") == 0 ||
		     strcmp(k, "PidMode") == 0) && YAJL_IS_STRING(v) &&
		    dm_starts_with(v->u.string, "container:"))
			continue;
		if (strcmp(k, "Devices") == 0 && json_alen(v)) {
			gen_devices(g, in, out, v);
			continue;
		}
		if (strcmp(k, "Links") == 0 && json_alen(v)) {
			gen_links(g, in, out, v, k, NULL);
			continue;
		}
		if (strcmp(k, "VolumesFrom") == 0 && json_alen(v)) {
			for (size_t d = 0; d < json_alen(v); d++)
				if (YAJL_IS_STRING(v->u.array.values[d]))
					unmovable(in, out, xasprintf(
						  "%s \"%s\": it names a "
						  "container of the source",
						  k, v->u.array.values[d]->u.string));
			continue;
		}
		json_gen_str(g, k);
		if (strcmp(k, "Binds") == 0 && YAJL_IS_ARRAY(v))
			gen_binds(g, in, out, v);
		else if (strcmp(k, "Mounts") == 0)
			gen_mounts(g, in, out, v);	/* null: none yet */
		else
			json_gen_value(g, v);
	}
	if (!json_get(hc, "Mounts", NULL)) {
		json_gen_str(g, "Mounts");
		gen_mounts(g, in, out, NULL);
	}
	yajl_gen_map_close(g);
}

/* An endpoint's user settings: what "docker run --network-alias --ip"
 * gave; the id alias and the addresses the engine chose are left out. */
static void gen_endpoint(yajl_gen g, const struct recreate_in *in,
			 struct recreate_out *out, const char *net,
			 yajl_val ep, const char *id, const char *host)
{
	yajl_val aliases = json_get(ep, "Aliases", NULL);
	static const char *keep[] = { "IPAMConfig", "Links", "DriverOpts" };

	yajl_gen_map_open(g);
	for (size_t i = 0; i < sizeof(keep) / sizeof(*keep); i++) {
		yajl_val v = json_get(ep, keep[i], NULL);

		if (json_is_empty(v))
			continue;
		if (strcmp(keep[i], "Links") == 0) {
			gen_links(g, in, out, v, keep[i], net);
			continue;
		}
		json_gen_str(g, keep[i]);
		json_gen_value(g, v);
	}
	if (json_alen(aliases)) {
		json_gen_str(g, "Aliases");
		yajl_gen_array_open(g);
		for (size_t i = 0; i < json_alen(aliases); i++) {
			yajl_val a = aliases->u.array.values[i];

			/* engines before 25 add the id's prefix and
			 * the hostname; later ones resolve both anyway */
			if (!YAJL_IS_STRING(a) ||
			    (id && strlen(a->u.string) == 12 &&
			     strncmp(a->u.string, id, 12) == 0) ||
			    dm_streq(a->u.string, host))
				continue;
			json_gen_str(g, a->u.string);
		}
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
}

static char *endpoint_body(const struct recreate_in *in,
			   struct recreate_out *out, yajl_val ep,
			   const char *net, const char *id, const char *host)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	char *s;

	yajl_gen_map_open(g);
	json_gen_str(g, "Container");
	json_gen_str(g, "");	/* filled in by the caller */
	json_gen_str(g, "EndpointConfig");
	gen_endpoint(g, in, out, net, ep, id, host);
	yajl_gen_map_close(g);
	s = json_gen_take(g);
	yajl_gen_free(g);
	return s;
}

static void gen_networking(yajl_gen g, const struct recreate_in *in,
			   struct recreate_out *out)
{
	const char *mode = json_str(in->inspect, "HostConfig", "NetworkMode", NULL);

	/* engines before 26 say "default" for the bridge network */
	if (dm_streq(mode, "default"))
		mode = "bridge";
	const char *id = json_str(in->inspect, "Id", NULL);
	const char *host = json_str(in->inspect, "Config", "Hostname", NULL);
	yajl_val nets = json_get(in->inspect, "NetworkSettings", "Networks", NULL);

	if (mode && !network_is_builtin(mode) &&
	    !dm_starts_with(mode, "container:"))
		strlist_add(&out->networks, mode);
	json_gen_str(g, "NetworkingConfig");
	yajl_gen_map_open(g);
	json_gen_str(g, "EndpointsConfig");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < json_olen(nets); i++) {
		const char *name = nets->u.object.keys[i];
		yajl_val ep = nets->u.object.values[i];

		if (dm_streq(name, mode)) {
			if (!network_is_builtin(name)) {
				json_gen_str(g, name);
				gen_endpoint(g, in, out, name, ep, id, host);
			}
			continue;
		}
		/* API < 1.44 takes one network at create: the rest connect */
		if (!network_is_builtin(name) && !in_list(&out->networks, name))
			strlist_add(&out->networks, name);
		strlist_add(&out->extra_nets, name);
		{
			char *b = endpoint_body(in, out, ep, name, id, host);

			strlist_add(&out->extra_bodies, b);
			free(b);
		}
	}
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
}

int recreate_plan(const struct recreate_in *in, struct recreate_out *out)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	memset(out, 0, sizeof(*out));
	yajl_gen_map_open(g);
	gen_config(g, in, out);
	json_gen_str(g, "HostConfig");
	gen_host_config(g, in, out);
	gen_networking(g, in, out);
	yajl_gen_map_close(g);
	out->body = json_gen_take(g);
	yajl_gen_free(g);
	return out->problems.n ? -1 : 0;
}

char *network_create_body(yajl_val net)
{
	static const char *keep[] = {
		"Driver", "Scope", "EnableIPv6", "IPAM", "Internal",
		"Attachable", "Ingress", "Options", "Labels",
	};
	yajl_gen g = yajl_gen_alloc(NULL);
	char *s;

	yajl_gen_map_open(g);
	json_gen_str(g, "Name");
	json_gen_str(g, json_str(net, "Name", NULL) ?: "");
	json_gen_str(g, "CheckDuplicate");
	yajl_gen_bool(g, 1);
	for (size_t i = 0; i < sizeof(keep) / sizeof(*keep); i++) {
		yajl_val v = json_get(net, keep[i], NULL);

		if (!v || YAJL_IS_NULL(v))
			continue;
		json_gen_str(g, keep[i]);
		json_gen_value(g, v);
	}
	yajl_gen_map_close(g);
	s = json_gen_take(g);
	yajl_gen_free(g);
	return s;
}
