/*
 * registry.h - a client of the registry HTTP API v2, for the layers
 * strategy (the seeds' "custom client"): manifests (Docker schema 2, OCI,
 * and their lists/indexes), blobs fetched one by one (several at once,
 * resumed with Range where a connection breaks, digest-checked), and the
 * registry's own authentication (Basic, or Bearer tokens from the realm
 * its WWW-Authenticate names).  The parsers of what a registry sends are
 * pure functions, so they are unit-tested and fuzzed apart from the wire.
 */
#ifndef DM_REGISTRY_H
#define DM_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "dm.h"
#include "opt.h"

/* A content descriptor: what a manifest says of a blob. */
struct reg_desc {
	char *media_type;
	char *digest;		/* "sha256:<64 hex>", checked by the parser */
	long long size;
};

enum reg_kind { REG_IMAGE, REG_INDEX };

/* A parsed manifest: an image's (config + layers, bottom first), or a
 * list/index whose chosen entry is `pick`. */
struct reg_manifest {
	enum reg_kind kind;
	struct reg_desc config;
	struct reg_desc *layers;
	size_t n;
	char *pick;		/* REG_INDEX: digest of the entry for the platform */
};

/* Parse body (a manifest of the given Content-Type; the body's own
 * mediaType wins when the header is generic).  For a list/index, choose
 * the entry for platform "os/arch[/variant]".  -1 with dm_error when the
 * document is not one we know, is malformed, or has no such platform. */
int reg_manifest_parse(const char *body, size_t len, const char *content_type,
		       const char *platform, struct reg_manifest *m);
void reg_manifest_release(struct reg_manifest *m);

/* The diff ids of an image config ("rootfs": {"diff_ids": [...]}). */
int reg_config_diff_ids(const char *body, size_t len, struct strlist *ids);

/* A layer's media type: 1 a layer docker load can take, 0 a foreign
 * (non-distributable) layer, -1 not a layer type we know. */
int reg_layer_type(const char *media_type);

/* A WWW-Authenticate challenge: Basic or Bearer with its parameters. */
struct reg_challenge {
	char *scheme;		/* "Bearer", "Basic" */
	char *realm, *service, *scope;
};
int reg_challenge_parse(const char *header, struct reg_challenge *c);
void reg_challenge_release(struct reg_challenge *c);

/* "[http://|https://]HOST[:PORT]": scheme ("" when not given) and the
 * host part that engines use in image names.  -1 with dm_error when
 * malformed. */
int reg_spec_parse(const char *spec, char **scheme, char **host);

/* "sha256:<64 lowercase hex>" */
int reg_digest_ok(const char *d);

/* ------------------------------------------------------------------ */
/* the client                                                          */

struct registry;

/* A client for spec ([SCHEME://]HOST[:PORT]) with the credentials the
 * Docker config in cfgdir holds for it (auths, credHelpers, credsStore).
 * Without a scheme, HTTPS is tried and plain HTTP used when the registry
 * does not speak TLS, as engines do for insecure registries; credentials
 * are then sent over plain HTTP only to a loopback host or when http://
 * was asked for.  connect_s bounds each connection's setup (0: 30 s). */
struct registry *registry_open(const char *spec, const char *cfgdir,
			       long connect_s);
void registry_free(struct registry *r);
const char *registry_host(const struct registry *r);

/* The manifest of repo:ref for platform (a list is resolved to the entry
 * for it and that manifest fetched).  Checked against ref when ref is a
 * digest. */
int registry_manifest(struct registry *r, const char *repo, const char *ref,
		      const char *platform, struct reg_manifest *m);

/* The digest of the manifest repo:tag names: 1 (*digest set, malloc'ed),
 * 0 no such tag, -1 error. */
int registry_tag_digest(struct registry *r, const char *repo, const char *tag,
			char **digest);
/* Remove repo:tag from the registry (its manifest is deleted), unless
 * another tag of repo names the same manifest: that one is not ours to
 * remove.  0 also when there is no such tag. */
int registry_remove_tag(struct registry *r, const char *repo, const char *tag);

/* A small blob (an image config) into memory, digest-checked. */
int registry_blob(struct registry *r, const char *repo,
		  const struct reg_desc *d, struct strbuf *out);

/* Where fetched blobs go, in order: begin(i) once, data(i) with the bytes
 * in order, end(i) after the digest and size matched.  The last bytes of
 * each blob are held back until its digest is known: a blob that does not
 * match never reaches its end, so the stream it feeds stays unfinished. */
struct blob_sink {
	int (*begin)(void *ctx, size_t i);
	int (*data)(void *ctx, size_t i, const void *buf, size_t n);
	int (*end)(void *ctx, size_t i);
	void *ctx;
};

/* Fetch blobs d[0..n) from repo, up to `parallel` at once (later ones are
 * buffered, at most `window` bytes each, while the sink takes the current
 * one), each resumed with Range up to a few times if its connection
 * breaks.  stall_s: a transfer that moves no byte for this long is broken. */
int registry_fetch(struct registry *r, const char *repo,
		   const struct reg_desc *d, size_t n, int parallel,
		   size_t window, long stall_s, const struct blob_sink *sink);

/* Registry credentials from the Docker config (cfgdir/config.json) as the
 * CLI finds them: credHelpers[host], else credsStore, else auths[host].
 * 1 found (user and secret set, to be wiped by the caller), 0 none, -1 a
 * helper or the config failed. */
int registry_creds(const char *cfgdir, const char *host, char **user,
		   char **secret);

#endif
