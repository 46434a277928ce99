/*
 * engine.h - a Docker Engine API client over libcurl.  An engine is
 * reached over a unix socket, TCP (with TLS), or an SSH link (a forwarded
 * remote unix socket, or "docker system dial-stdio" as the CLI does for
 * ssh:// hosts).  Bodies stream through file descriptors both ways, so an
 * image of gigabytes never sits in memory; small JSON replies are parsed
 * with yajl.  Nothing here assumes that an engine is on this machine.
 */
#ifndef DM_ENGINE_H
#define DM_ENGINE_H

#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "context.h"
#include "dm.h"
#include "sshlink.h"

/* The newest API version we speak; older engines are met at theirs. */
#define ENGINE_API_MAX "1.43"
/* A container is created in the engine's own version up to this one (the
 * newest measured: dockerd 28.5): in 1.43 an engine that knows newer
 * fields of the create body clears them (a healthcheck's StartInterval,
 * 1.44; a volume mount's Subpath, 1.45). */
#define ENGINE_CREATE_API_MAX "1.51"
#define ENGINE_REMOTE_SOCKET "/var/run/docker.sock"

struct engine;

/* The engine of a resolved endpoint (the source: the CLI's context). */
struct engine *engine_from_endpoint(const struct endpoint *ep,
				    const struct ssh_opts *so);
/* The engine behind an SSH link (the destination of --to).  The link
 * stays the caller's. */
struct engine *engine_over_ssh(struct sshlink *l);
void engine_free(struct engine *e);

/* GET /_ping and /version: negotiates the API version.  Call first. */
int engine_connect(struct engine *e);

const char *engine_name(const struct engine *e);	/* for messages */
/* Limit every later request to this many seconds (0: no limit). */
void engine_set_timeout(struct engine *e, long seconds);
/* Which end this engine is (DM_ERR_SOURCE or DM_ERR_DEST): the kind of
 * the errors it reports; DM_ERR_FAILED until set. */
void engine_set_side(struct engine *e, enum dm_errkind side);
const char *engine_api(const struct engine *e);		/* "1.41" */
const char *engine_create_api(const struct engine *e);	/* "1.51" */
const char *engine_version(const struct engine *e);	/* "20.10.24" */
const char *engine_os_arch(const struct engine *e);	/* "linux/amd64" */

/* Replies with status >= 400 become errors with the engine's message. */
int engine_get_json(struct engine *e, const char *path, yajl_val *out);
/* body may be NULL; out may be NULL.  Returns the HTTP status (2xx) or -1. */
long engine_post_json(struct engine *e, const char *path, const char *body,
		      yajl_val *out);
/* POST /containers/create in engine_create_api's version: the body is an
 * inspect's Config and HostConfig, every field of which must keep its
 * meaning. */
long engine_create_container(struct engine *e, const char *path,
			     const char *body, yajl_val *out);
long engine_delete(struct engine *e, const char *path);
/* Like the others, but 404 is returned as 404, not as an error. */
long engine_get_json_opt(struct engine *e, const char *path, yajl_val *out);
/* GET the n paths at once (up to ENGINE_PARALLEL connections: over SSH,
 * n round trips become about one); out[i] is the reply to paths[i].  Any
 * failure fails all (-1, every out[i] NULL). */
#define ENGINE_PARALLEL 8
int engine_get_json_many(struct engine *e, const char *const *paths, size_t n,
			 yajl_val *out);

/* Counters of a streamed transfer (read by the progress reporter). */
struct xfer_stats {
	uint64_t bytes;		/* updated atomically: progress reads it */
	uint64_t read;		/* read at the source, when a filter sends
				 * less (delta): the bar's measure */
};

/* GET path and hand the body to fn as it arrives; fn returns -1 (with
 * dm_error set) to stop. */
typedef int (*engine_sink_fn)(void *ctx, const void *buf, size_t n);
int engine_get_stream(struct engine *e, const char *path, engine_sink_fn fn,
		      void *ctx, struct xfer_stats *st);
/* Begin GET path now, in a thread of its own, while other requests go
 * on: the next engine_get_stream of that path reads its body.  For an
 * export that the engine prepares a while before its first byte (dockerd
 * 20.10 writes a whole image to disk first), begun before the other
 * side is even reached.  A GET that is never taken is stopped by
 * engine_prefetch_drop or engine_free (within a second). */
int engine_prefetch(struct engine *e, const char *path);
void engine_prefetch_drop(struct engine *e);
/* The same with any method and an optional JSON body (POST
 * /exec/{id}/start: the engine answers with a raw stream until the end). */
int engine_stream(struct engine *e, const char *method, const char *path,
		  const char *body, engine_sink_fn fn, void *ctx,
		  struct xfer_stats *st);

/* Run argv in the running container id (POST /containers/{id}/exec, then
 * /exec/{eid}/start, no TTY): what it writes to stdout goes to out as it
 * arrives, its stderr is kept in err (the first 4 kB), *exit_code from
 * GET /exec/{eid}/json once the stream ended.  -1 when the engine failed
 * (a command that failed is 0 with its exit code). */
int engine_exec(struct engine *e, const char *id, const char *const *argv,
		engine_sink_fn out, void *ctx, struct strbuf *err,
		long *exit_code);

/* The exec stream's multiplexing (no TTY): frames of an 8-byte header
 * (stream 1 stdout, 2 stderr; 3 bytes of zero; the length, big-endian)
 * and their payload, split anywhere by the transport. */
struct exec_demux {
	unsigned char hdr[8];
	size_t hlen;
	uint32_t left;		/* payload bytes left in the frame */
	int stream;
	engine_sink_fn out;	/* stdout */
	void *ctx;
	struct strbuf *err;	/* stderr, the first ERR_MAX bytes */
};
#define EXEC_ERR_MAX 4096
int exec_demux_feed(void *demux, const void *buf, size_t n);

/* HEAD path: the status (404 included), the value of one reply header in
 * *value (malloc'ed, NULL when absent); -1 on error. */
long engine_head(struct engine *e, const char *path, const char *header,
		 char **value);
/* write(2) until done; -1 with dm_error on failure. */
int fd_write_all(int fd, const void *buf, size_t n);

/* GET path and write the body to fd until the end. */
int engine_get_to_fd(struct engine *e, const char *path, int fd,
		     struct xfer_stats *st);
/* POST the bytes read from fd (chunked) as content_type; the reply body
 * is collected in reply (a progress stream for /images/load). */
int engine_post_from_fd(struct engine *e, const char *path, int fd,
			const char *content_type, struct strbuf *reply,
			struct xfer_stats *st);

/* The same with another method (PUT /containers/{id}/archive). */
int engine_send_from_fd(struct engine *e, const char *method, const char *path,
			int fd, const char *content_type, struct strbuf *reply,
			struct xfer_stats *st);

/* POST with one extra header (X-Registry-Auth: ...), the progress stream
 * collected in reply and checked for an error inside it.  A stream whose
 * messages move nothing for stall_s seconds (0: 60) is given up: the
 * connection closes, which makes the engine cancel the pull or push. */
long engine_post_stream(struct engine *e, const char *path, const char *header,
			long stall_s, struct strbuf *reply);

/* Check a JSON-lines progress stream (load, push, pull) for an error
 * object, or a plain message that begins with "Error " (the containerd
 * image store's failed unpack after a load): the engine answers 200 and
 * reports failure inside the stream.
 * The message is "what: error", or the error alone when what is NULL. */
int engine_stream_error(const char *stream, size_t len, const char *what);

/* URL-escape s for a query string or a path element. */
char *engine_escape(const char *s);

#endif
