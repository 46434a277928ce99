/*
 * volume_helper.c - the helper image and its containers (see volume.h).
 * Volume directories are not touched from outside Docker: a helper
 * container mounts the volume, and the engine reads and writes its files
 * (archive endpoints), or dm-helper does in it (exec).  The image is made
 * and loaded by the plugin itself from the dm-helper it embeds, so no
 * tool, shell or image from the internet is needed on either host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dm.h"
#include "json.h"
#include "tar.h"
#include "transfer.h"
#include "volume.h"

/* dm-helper, static, built with the plugin (src/helper/blob.S) */
extern const unsigned char dm_helper_bin[], dm_helper_bin_end[];

static void add_member(struct strbuf *tar, const char *name, const void *data,
		       size_t len, unsigned mode)
{
	static const unsigned char zeros[512];
	unsigned char hdr[512];

	tar_header(hdr, name, len, mode, '0');
	sb_add(tar, hdr, sizeof(hdr));
	sb_add(tar, data, len);
	sb_add(tar, zeros, (512 - len % 512) % 512);
}

const char *helper_image(void)
{
	static char name[64];

	if (!name[0]) {
		char hex[65];

		sha256_hex(dm_helper_bin, (size_t)(dm_helper_bin_end -
						   dm_helper_bin), hex);
		snprintf(name, sizeof(name), "docker-migrate/helper:%.12s", hex);
	}
	return name;
}

/* A docker-save archive of an image with one layer: /dm-helper. */
static void helper_archive(const char *arch, struct strbuf *tar)
{
	static const unsigned char zeros[1024];
	struct strbuf layer = STRBUF_INIT;
	char hex[65], diff[65], *config, *name, *manifest;

	/* at the root of the layer: its path without the leading '/' */
	add_member(&layer, DMH_PATH + 1, dm_helper_bin,
		   (size_t)(dm_helper_bin_end - dm_helper_bin), 0755);
	sb_add(&layer, zeros, sizeof(zeros));
	sha256_hex(layer.buf, layer.len, diff);
	config = xasprintf(
		"{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Cmd\":"
		"[\"" DMH_PATH "\",\"" DMH_VERB_WAIT "\"],\"Labels\":{"
		"\"org.docker-migrate.helper\":\"1\"}},\"rootfs\":{\"type\":"
		"\"layers\",\"diff_ids\":[\"sha256:%s\"]},\"history\":[{\"created\":"
		"\"1970-01-01T00:00:00Z\",\"created_by\":\"docker-migrate: "
		"dm-helper, for helper containers\"}],\"created\":"
		"\"1970-01-01T00:00:00Z\"}", arch, diff);
	sha256_hex(config, strlen(config), hex);
	name = xasprintf("%s.json", hex);
	manifest = xasprintf("[{\"Config\":\"%s\",\"RepoTags\":[\"%s\"],"
			     "\"Layers\":[\"helper/layer.tar\"]}]", name,
			     helper_image());
	add_member(tar, "helper/layer.tar", layer.buf, layer.len, 0644);
	add_member(tar, name, config, strlen(config), 0644);
	add_member(tar, "manifest.json", manifest, strlen(manifest), 0644);
	sb_add(tar, zeros, sizeof(zeros));
	sb_release(&layer);
	free(config);
	free(name);
	free(manifest);
}

/* The architecture dm-helper was built for, as engines name it. */
static const char *helper_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__arm__)
	return "arm";
#elif defined(__i386__)
	return "386";
#else
	return "unknown";
#endif
}

int helper_can_run(struct engine *e)
{
	const char *arch = strchr(engine_os_arch(e), '/');

	return arch && strcmp(arch + 1, helper_arch()) == 0;
}

static int write_archive(void *ctx, int fd)
{
	const struct strbuf *tar = ctx;

	return fd_write_all(fd, tar->buf, tar->len);
}

int helper_image_ensure(struct engine *e)
{
	struct strbuf tar = STRBUF_INIT;
	struct image_info ii;
	const char *arch = strchr(engine_os_arch(e), '/');
	int r;

	r = image_inspect(e, helper_image(), &ii);
	image_info_release(&ii);
	if (r != 0)
		return r < 0 ? -1 : 0;
	helper_archive(arch ? arch + 1 : "amd64", &tar);
	r = engine_send_produced(e, "POST", "/images/load?quiet=1",
				 "application/x-tar", write_archive, &tar,
				 NULL, NULL);
	sb_release(&tar);
	return r < 0 ? dm_error_wrap("loading the helper image on %s",
				     engine_name(e)) : 0;
}

int helper_run(struct engine *e, const char *id, const char **argv,
	       engine_sink_fn out, void *ctx, const char *what)
{
	struct strbuf err = STRBUF_INIT;
	long code = -1;
	int ret = engine_exec(e, id, argv, out, ctx, &err, &code);

	if (ret == 0 && code != 0)
		ret = dm_error("dm-helper %s on %s failed (exit %ld): %.*s",
			       what, engine_name(e), code,
			       (int)strcspn(sb_str(&err), "\n"), sb_str(&err));
	sb_release(&err);
	return ret;
}

int helper_probe(struct engine *e, const char *id)
{
	const char *argv[] = { DMH_PATH, DMH_VERB_GET, DMH_MOUNT, ".",
			       NULL };

	return helper_run(e, id, argv, NULL, NULL, "in its container");
}

int helper_start(struct engine *e, const char *id)
{
	char *path = xasprintf("/containers/%s/start", id);
	long st = engine_post_json(e, path, NULL, NULL);

	free(path);
	return st < 0 ? dm_error_wrap("starting a helper container on %s",
				      engine_name(e)) : 0;
}

/* A never-started container with one mount at /v: a volume, a host path
 * for a bind mount, or a host directory the engine makes ("dir"); or
 * with none (source NULL). */
static unsigned helpers_made;

static char *helper_with_mount(struct engine *e, const char *type,
			       const char *source, int readonly)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_val v = NULL;
	char *body, *path, *id = NULL;

	if (helper_image_ensure(e) < 0) {
		yajl_gen_free(g);
		return NULL;
	}
	yajl_gen_map_open(g);
	json_gen_str(g, "Image");
	json_gen_str(g, helper_image());
	json_gen_str(g, "Labels");
	yajl_gen_map_open(g);
	json_gen_str(g, "org.docker-migrate.helper");
	json_gen_str(g, "1");
	yajl_gen_map_close(g);
	json_gen_str(g, "HostConfig");
	yajl_gen_map_open(g);
	json_gen_str(g, "NetworkMode");
	json_gen_str(g, "none");
	/* trusted.* extended attributes are listed and read only with it;
	 * the container runs nothing but dm-helper, without a network */
	json_gen_str(g, "CapAdd");
	yajl_gen_array_open(g);
	json_gen_str(g, "SYS_ADMIN");
	yajl_gen_array_close(g);
	if (!source)
		goto no_mount;
	if (strcmp(type, "dir") == 0) {
		/* a Binds entry, unlike a bind Mount, has the engine make
		 * the host directory when it is missing */
		char *b = xasprintf("%s:" DMH_MOUNT "%s", source,
				    readonly ? ":ro" : "");

		json_gen_str(g, "Binds");
		yajl_gen_array_open(g);
		json_gen_str(g, b);
		yajl_gen_array_close(g);
		free(b);
		goto no_mount;
	}
	json_gen_str(g, "Mounts");
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	json_gen_str(g, "Type");
	json_gen_str(g, type);
	json_gen_str(g, "Source");
	json_gen_str(g, source);
	json_gen_str(g, "Target");
	json_gen_str(g, DMH_MOUNT);
	json_gen_str(g, "ReadOnly");
	yajl_gen_bool(g, readonly);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
no_mount:
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	body = json_gen_take(g);
	yajl_gen_free(g);
	/* named for what it is: in "docker ps" a helper left by a killed
	 * run says whose it is (the engine's random names do not) */
	path = xasprintf("/containers/create?name=docker-migrate-helper-%x-%u-%04x",
			 (unsigned)getpid(),
			 __atomic_fetch_add(&helpers_made, 1, __ATOMIC_RELAXED),
			 (unsigned)(dm_now_us() & 0xffff));
	if (engine_post_json(e, path, body, &v) >= 0 &&
	    json_str(v, "Id", NULL))
		id = xstrdup(json_str(v, "Id", NULL));
	else
		dm_error_wrap("creating a helper container for %s %s on %s",
			      type, source ? source : "nothing",
			      engine_name(e));
	yajl_tree_free(v);
	free(body);
	free(path);
	return id;
}

char *helper_create(struct engine *e, const char *volume, int readonly)
{
	return helper_with_mount(e, "volume", volume, readonly);
}

char *helper_create_bind(struct engine *e, const char *path, int readonly)
{
	return helper_with_mount(e, "bind", path, readonly);
}

char *helper_create_dir(struct engine *e, const char *path, int readonly)
{
	return helper_with_mount(e, "dir", path, readonly);
}

char *helper_create_bare(struct engine *e)
{
	return helper_with_mount(e, NULL, NULL, 0);
}

int helper_remove(struct engine *e, const char *id)
{
	char *path;
	int ret = 0;

	if (!id)
		return 0;
	path = xasprintf("/containers/%s?force=1", id);
	if (engine_delete(e, path) < 0) {
		dm_warn("cannot remove helper container %.12s on %s: %s", id,
			engine_name(e), dm_errmsg());
		ret = -1;
	}
	free(path);
	return ret;
}
