/*
 * transfer.h - moving images between two engines, wherever they are:
 * the strategies, and the pipe that streams one engine's reply into the
 * other's request without touching a disk.
 */
#ifndef DM_TRANSFER_H
#define DM_TRANSFER_H

#include "engine.h"
#include "opt.h"

/* A transformation between the two engines: feed gets the source's bytes
 * and writes what goes to the destination to fd; finish flushes.  feed
 * returns 0 for more, 1 when it needs no more of the source (its request
 * is closed, then finish runs), -1 on failure. */
struct pipe_filter {
	int (*feed)(void *ctx, const void *buf, size_t n, int fd);
	int (*finish)(void *ctx, int fd);
	void *ctx;
};

/* Stream GET src_path on src into POST dst_path on dst, through a pipe
 * and two threads (through f when not NULL): memory stays at the pipe's
 * size whatever the image. */
int engine_pipe(struct engine *src, const char *src_path, struct engine *dst,
		const char *dst_path, const char *content_type,
		const struct pipe_filter *f, struct xfer_stats *st);

/* The same, keeping the destination's reply (appended to reply). */
int engine_pipe_reply(struct engine *src, const char *src_path,
		      struct engine *dst, const char *method,
		      const char *dst_path, const char *content_type,
		      const struct pipe_filter *f, struct xfer_stats *st,
		      struct strbuf *reply);

/* The same, with another method than POST for the destination. */
int engine_pipe_method(struct engine *src, const char *src_path,
		       struct engine *dst, const char *method,
		       const char *dst_path, const char *content_type,
		       const struct pipe_filter *f, struct xfer_stats *st);

/* Send what produce(ctx, fd) writes to fd, run in a thread of its own,
 * as the body of method path on dst.  When both sides fail, the one that
 * failed first is reported (the producer's as "what: why", or its own
 * message when what is NULL). */
int engine_send_produced(struct engine *dst, const char *method,
			 const char *path, const char *content_type,
			 int (*produce)(void *ctx, int fd), void *ctx,
			 const char *what, struct xfer_stats *st);

/* engine_send_produced, keeping the destination's reply (appended to
 * out when not NULL, failed or not). */
int engine_send_produced_reply(struct engine *dst, const char *method,
			       const char *path, const char *content_type,
			       int (*produce)(void *ctx, int fd), void *ctx,
			       const char *what, struct xfer_stats *st,
			       struct strbuf *out);

/* The names and ids a load's reply says it made ("Loaded image: NAME",
 * "Loaded image ID: ID"), added to out. */
void load_reply_names(const char *reply, size_t len, struct strlist *out);

/* Where an engine keeps images: dockerd's graph drivers (image id =
 * config digest; a load may leave out layers it has), or the containerd
 * image store (image id = manifest or index digest; a load may leave out
 * only blobs its content store holds, and only in OCI layout). */
enum image_store { STORE_UNKNOWN = -1, STORE_GRAPHDRIVER, STORE_CONTAINERD };
enum image_store engine_image_store(struct engine *e);

/* After a load: image id is there, with a config and exactly diff_ids
 * (the containerd store may leave an image without either when content
 * was missing).  -1 with a message naming ref otherwise. */
int image_check_arrived(struct engine *e, const char *id,
			char *const *diff_ids, size_t n, const char *ref);

struct transfer;
/* Image ref of t->src arrived at t->dst as dst_ref with its layers and
 * a config (a load or pull into the containerd store may leave an image
 * without them). */
int image_check_copied(const struct transfer *t, const char *ref,
		       const char *dst_ref);

struct image_info {
	char *id;		/* sha256:... */
	long long size;
	char *os_arch;
};
/* Inspect ref on e; returns 1 found, 0 absent (404), -1 error. */
int image_inspect(struct engine *e, const char *ref, struct image_info *out);
void image_info_release(struct image_info *ii);
/* Tag image id as ref ("repo[:tag]") on e. */
int image_tag(struct engine *e, const char *id, const char *ref);
/* Tag it unless ref already names id there: 1 tagged, 0 nothing to do. */
int image_tag_if_missing(struct engine *e, const char *id, const char *ref);

/* Which layers of an image the destination has (see strategy_delta.c). */
struct delta_plan {
	char *image_id;
	long long size;
	size_t n;		/* layers, bottom first */
	char **diff_ids;
	char **chain_ids;
	size_t present;		/* the first `present` are at the destination */
	long long *sizes;	/* per layer, from the history; NULL: unknown */
	char *config_digest;	/* the image's identity on any store */
	/* per layer, the digest of its blob in the source's save when it is
	 * not the diff id (a containerd store's compressed blobs); NULL:
	 * the diff ids */
	char **blob_digests;
	/* blob_digests not read yet (delta_plan_stream): the stream takes
	 * blobs named by a diff id for those layers, and stops at a blob it
	 * cannot place (a layer held compressed), before sending it */
	int lazy;
};
int delta_plan(struct engine *src, struct engine *dst, const char *ref,
	       struct delta_plan *p);
void delta_plan_release(struct delta_plan *p);
/* The plan of a transfer: delta_plan without reading the source's export
 * when its layers may be named by diff id (a containerd store's export is
 * then read once, by the stream; see strategy_delta.c). */
int delta_plan_stream(struct engine *src, struct engine *dst, const char *ref,
		      struct delta_plan *p);
/* The config digest of image ref (id on e): what identifies it on any
 * store.  A graph driver's id is that; the containerd store's is its
 * manifest's digest, and the manifest is read from the head of e's export.
 * NULL when it cannot be told. */
char *image_config_digest(struct engine *e, const char *ref, const char *id);
/* Whether the blob of that digest is a layer of p the destination has
 * (a layer repeated among the missing ones excepted): OCI layout names a
 * layer's blob by its diff id when it is uncompressed. */
int blob_is_present(const struct delta_plan *p, const char *digest);
/* From a containerd store's failed load ("content digest sha256:...:
 * not found"), the first of p's present layers it lacked; 0 if unsure. */
size_t first_missing_layer(const char *err, const struct delta_plan *p);
/* ChainID(parent + layer): sha256 of "parent diff_id"; the bottom layer's
 * chain id is its diff id (parent NULL). */
void chain_id_next(const char *parent, const char *diff_id, char out[72]);

/* What a strategy works with. */
struct transfer {
	struct engine *src, *dst;
	struct xfer_stats *st;		/* bytes sent, counted as they go */
	const char *registry;		/* --registry [SCHEME://]HOST[:PORT] */
	int no_push;			/* the image is in the registry already */
	int keep_tag;			/* leave the registry tags in place */
	const char *cfgdir;		/* the Docker config: registry auths */
	long stall_s;			/* no byte for this long: broken (0: 60) */
	struct strlist *made;		/* what loads at dst made (names, ids),
					 * for a rollback; may be NULL */
	/* when not NULL: told the id a load will give an image dst lacks,
	 * before the archive's end is sent (delta), so that a process killed
	 * while the destination loads has it in its journal; failing stops
	 * the transfer */
	int (*will_load)(void *ctx, const char *id);
	void *will_load_ctx;
};
/* POST /images/load?quiet=1 on t->dst of GET src_path on t->src through
 * f: what the load says it made goes to t->made, failed or not. */
int image_load(const struct transfer *t, const char *src_path,
	       const struct pipe_filter *f);
/* Remove the images t->made lists from index from on (what a load that
 * failed made, before another try); what cannot be removed stays listed,
 * for the rollback. */
void image_remove_made(const struct transfer *t, size_t from);
/* The same with the archive that produce writes (its messages say where
 * they come from). */
int image_load_produced(const struct transfer *t,
			int (*produce)(void *ctx, int fd), void *ctx);

int transfer_delta(const struct transfer *t, const char *const *refs, size_t n);
int transfer_registry(const struct transfer *t, const char *const *refs,
		      size_t n);
int transfer_layers(const struct transfer *t, const char *const *refs,
		    size_t n);

/* What the registry strategies share (strategy_registry.c): the name
 * "HOST/REPO" and tag that ref gets in the registry at host, the
 * X-Registry-Auth header for host, tagging and pushing ref at the source
 * (*tagged says whether the tag was made), and removing a tag. */
void registry_ref(const char *host, const char *ref, char **name, char **tag);
int registry_auth_header(const char *cfgdir, const char *host, char **out);
int registry_push(const struct transfer *t, const char *ref, const char *name,
		  const char *tag, const char *auth, int *tagged);
int registry_untag(struct engine *e, const char *name, const char *tag);
/* The tags a registry strategy made for one image: at the source, at the
 * destination, in the registry.  registry_lacks says, before the push,
 * whether the registry's tag will be the migration's own (reg NULL: it
 * cannot be told); registry_remove_made removes, after the move, those at
 * the engines unless --keep-tag, and all of them when it failed, keeping
 * the failure's reason as the error. */
struct registry;
struct made_tags {
	int src, dst, reg;
};
int registry_lacks(struct registry *reg, const char *repo, const char *tag);
void registry_remove_made(const struct transfer *t, struct registry *reg,
			  const char *name, const char *tag, int failed,
			  const struct made_tags *made);
/* The chain ids of every prefix of every image of e, sorted: the layers
 * e has (strategy_delta.c). */
int engine_layer_chains(struct engine *e, struct strlist *out);
/* How many of chain_ids[0..n), bottom first, e has (a prefix). */
size_t chains_present(const struct strlist *have, char *const *chain_ids,
		      size_t n);

struct strategy {
	const char *name;
	const char *summary;
	int needs_registry;
	/* Move refs (which must all exist on src) to dst. */
	int (*transfer)(const struct transfer *t, const char *const *refs,
			size_t n);
	/* The source's export that transfer reads first (NULL: none), so
	 * that it can begin before the destination is reached
	 * (engine_prefetch). */
	char *(*first_export)(const char *const *refs, size_t n);
};
/* GET /images/get of refs, in one archive. */
char *images_get_path(const char *const *refs, size_t n);
/* Begin the export s reads first, when it has one: dockerd writes an
 * image whole to disk before the first byte of its export (about 1 s per
 * 200 MB), time that reaching the destination and planning can hide. */
void strategy_prefetch(const struct strategy *s, struct engine *src,
		       const char *const *refs, size_t n);
const struct strategy *strategy_find(const char *name);
struct registry_opts;
/* The strategy's flags make sense (--registry where needed, and only
 * there); -1 with a message otherwise. */
int strategy_check(const struct strategy *s, const struct registry_opts *r);
/* The values of --strategy, NULL-terminated; the first is the default. */
extern const char *const strategy_names[];
#define STRATEGY_DEFAULT 0	/* "delta" */

#endif
