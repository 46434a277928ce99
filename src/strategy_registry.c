/*
 * strategy_registry.c - the seeds' layered registry-based migration: the
 * source engine pushes the image to a registry, the destination engine
 * pulls it, and each hop moves only the layers the other side lacks.  The
 * same code covers the seeds' three layouts: a master's registry, one at
 * the destination (the pull is local), one at the source with --no-push
 * (the image was pushed beforehand; only the pull runs).
 *
 * The tags it makes (REGISTRY/REPO:TAG) are its own and are removed from
 * both engines afterwards unless --keep-tag.  Credentials come from the
 * Docker config's "auths", as the CLI stores them after docker login, and
 * travel in X-Registry-Auth; they are never printed or recorded.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dm.h"
#include "json.h"
#include "registry.h"
#include "transfer.h"

/* "app:1.2" -> "REG/app" and "1.2"; a registry in the ref is replaced. */
void registry_ref(const char *registry, const char *ref, char **name,
		  char **tag)
{
	const char *slash = strchr(ref, '/'), *colon, *rest = ref;

	if (dm_starts_with(ref, "sha256:")) {
		*name = xasprintf("%s/docker-migrate/%.12s", registry, ref + 7);
		*tag = xstrdup("latest");
		return;
	}
	/* a first component with a dot, a colon or "localhost" is a host */
	if (slash && (memchr(ref, '.', (size_t)(slash - ref)) ||
		      memchr(ref, ':', (size_t)(slash - ref)) ||
		      strncmp(ref, "localhost/", 10) == 0))
		rest = slash + 1;
	colon = strrchr(rest, ':');
	if (colon && !strchr(colon, '/')) {
		*name = xasprintf("%s/%.*s", registry, (int)(colon - rest), rest);
		*tag = xstrdup(colon + 1);
	} else {
		*name = xasprintf("%s/%s", registry, rest);
		*tag = xstrdup("latest");
	}
}

static char *b64url(const unsigned char *in, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	for (char *p = out; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return out;
}

/* The X-Registry-Auth header for host, with the credentials the CLI
 * would use ({} when there are none: an open registry). */
int registry_auth_header(const char *cfgdir, const char *host, char **out)
{
	char *user = NULL, *secret = NULL, *json, *enc;
	int found = registry_creds(cfgdir, host, &user, &secret);

	if (found < 0)
		return -1;
	if (found) {
		yajl_gen g = yajl_gen_alloc(NULL);

		yajl_gen_map_open(g);
		json_gen_str(g, "username");
		json_gen_str(g, user);
		json_gen_str(g, "password");
		json_gen_str(g, secret);
		json_gen_str(g, "serveraddress");
		json_gen_str(g, host);
		yajl_gen_map_close(g);
		json = json_gen_take(g);
		yajl_gen_free(g);
		memset(user, 0, strlen(user));
		memset(secret, 0, strlen(secret));
	} else {
		json = xstrdup("{}");
	}
	free(user);
	free(secret);
	enc = b64url((const unsigned char *)json, strlen(json));
	memset(json, 0, strlen(json));
	free(json);
	*out = xasprintf("X-Registry-Auth: %s", enc);
	memset(enc, 0, strlen(enc));
	free(enc);
	return 0;
}

/* Bytes the destination downloaded: the largest "total" of each layer id
 * that reported "Downloading" in the pull's progress stream. */
static uint64_t pulled_bytes(const struct strbuf *stream)
{
	struct strlist ids = { 0 };
	uint64_t *max = NULL, sum = 0;
	const char *p = sb_str((struct strbuf *)stream);

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		yajl_val v = json_parse_quiet(p, len);
		const char *id = json_str(v, "id", NULL);
		long long total = json_int(v, 0, "progressDetail", "total", NULL);

		if (id && total > 0 &&
		    dm_streq(json_str(v, "status", NULL), "Downloading")) {
			size_t i;

			for (i = 0; i < ids.n && strcmp(ids.v[i], id); i++)
				;
			if (i == ids.n) {
				strlist_add(&ids, id);
				max = xrealloc(max, ids.n * sizeof(*max));
				max[i] = 0;
			}
			if ((uint64_t)total > max[i])
				max[i] = (uint64_t)total;
		}
		yajl_tree_free(v);
		p += len + (nl ? 1 : 0);
	}
	for (size_t i = 0; i < ids.n; i++)
		sum += max[i];
	free(max);
	strlist_clear(&ids);
	return sum;
}

int registry_untag(struct engine *e, const char *name, const char *tag)
{
	char *path = xasprintf("/images/%s:%s?noprune=1", name, tag);
	long st = engine_delete(e, path);

	free(path);
	return st < 0 ? -1 : 0;
}

int registry_push(const struct transfer *t, const char *ref, const char *name,
		  const char *tag, const char *auth, int *tagged)
{
	struct strbuf reply = STRBUF_INIT;
	struct image_info img = { 0 }, have = { 0 };
	char *full = xasprintf("%s:%s", name, tag), *path;
	int ret = -1, f;

	if (image_inspect(t->src, ref, &img) != 1) {
		dm_error("no such image at the source: %s", ref);
		goto out;
	}
	/* a tag the user made stays as it was: used if it names this
	 * image, never moved if it names another */
	f = image_inspect(t->src, full, &have);
	if (f < 0)
		goto out;
	if (f == 1 && !dm_streq(have.id, img.id)) {
		dm_error("the source's tag %s names another image: remove it "
			 "(docker rmi %s) or choose another --registry", full,
			 full);
		goto out;
	}
	if (f == 0) {
		if (image_tag(t->src, img.id, full) < 0)
			goto out;
		*tagged = 1;
	}
	path = xasprintf("/images/%s/push?tag=%s", name, tag);
	ret = engine_post_stream(t->src, path, auth, t->stall_s, &reply) < 0
	      ? -1 : 0;
	free(path);
	if (ret < 0)
		dm_error_wrap("pushing %s from %s", full, engine_name(t->src));
out:
	image_info_release(&img);
	image_info_release(&have);
	sb_release(&reply);
	free(full);
	return ret;
}

int registry_lacks(struct registry *reg, const char *repo, const char *tag)
{
	char *digest = NULL;
	int r = reg ? registry_tag_digest(reg, repo, tag, &digest) : -1;

	free(digest);
	if (r < 0 && reg) {
		dm_debug("cannot tell whether %s has %s:%s: %s",
			 registry_host(reg), repo, tag, dm_errmsg());
		dm_clear_error();
	}
	return r == 0;
}

void registry_remove_made(const struct transfer *t, struct registry *reg,
			  const char *name, const char *tag, int failed,
			  const struct made_tags *made)
{
	struct dm_err why;
	/* name is HOST/REPO */
	const char *repo = strchr(name, '/') ? strchr(name, '/') + 1 : name;

	/* the copy's error (and its kind) outlives these removals' own */
	dm_error_save(&why);
	/* after a Ctrl-C too: this is the rollback's first step */
	if (failed)
		dm_rollback_begin();

	if (made->src && (failed || !t->keep_tag) &&
	    registry_untag(t->src, name, tag) < 0)
		dm_warn("cannot remove the tag %s:%s at the source: %s", name,
			tag, dm_errmsg());
	if (made->dst && (failed || !t->keep_tag) &&
	    registry_untag(t->dst, name, tag) < 0)
		dm_warn("cannot remove the tag %s:%s at the destination: %s",
			name, tag, dm_errmsg());
	if (made->reg && failed && registry_remove_tag(reg, repo, tag) < 0)
		dm_warn("cannot remove the tag %s:%s from the registry: %s",
			name, tag, dm_errmsg());
	if (failed)
		dm_error_restore(&why);
}

static int move_one(const struct transfer *t, struct registry *reg,
		    const char *host, const char *ref, const char *auth)
{
	struct strbuf reply = STRBUF_INIT;
	struct image_info img = { 0 };
	char *name, *tag, *path, *full, *esc;
	struct made_tags made = { 0, 0, 0 };
	int ret = -1, had;

	registry_ref(host, ref, &name, &tag);
	full = xasprintf("%s:%s", name, tag);
	if (!t->no_push) {
		made.reg = registry_lacks(reg, name + strlen(host) + 1, tag);
		if (registry_push(t, ref, name, tag, auth, &made.src) < 0)
			goto out;
	}
	/* a tag of that name the user has at the destination stays; one
	 * the pull makes goes, even when the pull failed (an engine that
	 * finished it as we hung up) */
	had = image_inspect(t->dst, full, &img);
	image_info_release(&img);
	if (had < 0)
		goto out;
	made.dst = !had && !dm_starts_with(ref, "sha256:");
	esc = engine_escape(name);
	path = xasprintf("/images/create?fromImage=%s&tag=%s", esc, tag);
	free(esc);
	if (engine_post_stream(t->dst, path, auth, t->stall_s, &reply) < 0) {
		free(path);
		dm_error_wrap("pulling %s at %s", full, engine_name(t->dst));
		goto out;
	}
	free(path);
	__atomic_add_fetch(&t->st->bytes, pulled_bytes(&reply), __ATOMIC_RELAXED);
	/* the containerd store's pull skips the blobs of layers it holds
	 * by a load, and leaves an image without layers or config */
	if (image_check_copied(t, ref, full) < 0) {
		if (engine_image_store(t->dst) == STORE_CONTAINERD)
			dm_error_wrap("the containerd image store's pull skipped "
				      "the blobs of layers it had by a load "
				      "(--strategy delta sends them)");
		goto out;
	}
	/* the destination gets the user's name for it, and only that */
	if (!dm_starts_with(ref, "sha256:")) {
		if (image_inspect(t->dst, full, &img) != 1 ||
		    image_tag(t->dst, img.id, ref) < 0)
			goto out;
	}
	ret = 0;
out:
	registry_remove_made(t, reg, name, tag, ret < 0, &made);
	image_info_release(&img);
	sb_release(&reply);
	free(name);
	free(tag);
	free(full);
	return ret;
}

int transfer_registry(const struct transfer *t, const char *const *refs,
		      size_t n)
{
	char *auth = NULL, *scheme = NULL, *host = NULL;
	struct registry *reg = NULL;
	int ret = -1;

	if (reg_spec_parse(t->registry, &scheme, &host) < 0 ||
	    registry_auth_header(t->cfgdir, host, &auth) < 0)
		goto out;
	/* the engines reach the registry; this host may not: then a failed
	 * migration cannot remove the tag its push made there.  Only a
	 * convenience: a registry that drops our packets costs 2 x 5 s
	 * (HTTPS, then HTTP), not a minute. */
	if (!t->no_push &&
	    !(reg = registry_open(t->registry, t->cfgdir, 5))) {
		dm_debug("the registry is out of reach from here: %s",
			 dm_errmsg());
		dm_clear_error();
	}
	ret = 0;
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = move_one(t, reg, host, refs[i], auth);
out:
	registry_free(reg);
	if (auth)
		memset(auth, 0, strlen(auth));
	free(auth);
	free(scheme);
	free(host);
	return ret;
}
