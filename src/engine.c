/*
 * engine.c - the Docker Engine API client (see engine.h).  One libcurl
 * easy handle per request; the connection comes from the unix socket, TCP,
 * or a stream that the SSH bridge hands over as a socket.
 *
 * Connections are kept and reused (a curl share per engine, HTTP/1.1
 * keep-alive): over SSH each new connection is a new channel (one round
 * trip to open, and a "docker system dial-stdio" process for ssh://
 * endpoints), so a plan of tens of small requests paid one round trip
 * more for each.  The share is locked, so that the two threads of a pipe
 * (or a progress reader) may use one engine at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "engine.h"
#include "json.h"

/* Larger replies than this are not what the engine sends for our calls. */
#define MAX_JSON_REPLY (32u << 20)

enum transport { T_UNIX, T_TCP, T_SSH };

/* A GET begun early (engine_prefetch), read by a later request. */
struct req_stop {
	int stop;		/* atomic: the request gives up */
	pthread_mutex_t mu;	/* guards sock against its close */
	int sock;		/* its connection's socket, -1: none open */
};
struct prefetch {
	struct engine *e;
	char *path;
	int rd, wr;		/* the pipe between the request and its reader */
	struct req_stop ctl;
	pthread_t t;
	int ret;
	char err[1024];
};

struct engine {
	char *name;
	enum transport t;
	char *base;		/* "http://docker", "https://h:p" */
	char *unix_path;
	struct sshlink *ssh;
	long timeout_s;		/* whole-request limit; 0: none */
	int own_ssh;		/* ssh:// endpoint: the engine owns the link */
	char *ca, *cert, *key;
	int tls_verify;
	char api[16];
	char create_api[16];	/* see engine_create_container */
	char *version;
	char *os_arch;
	CURLSH *share;		/* the connection pool */
	pthread_mutex_t share_mu;
	struct prefetch *pf;	/* a GET begun early (engine_prefetch) */
	enum dm_errkind side;	/* DM_ERR_SOURCE or _DEST: its errors' kind */
};

const char *engine_name(const struct engine *e) { return e->name; }
void engine_set_timeout(struct engine *e, long seconds) { e->timeout_s = seconds; }
void engine_set_side(struct engine *e, enum dm_errkind side) { e->side = side; }
const char *engine_api(const struct engine *e) { return e->api; }
const char *engine_create_api(const struct engine *e) { return e->create_api; }
const char *engine_version(const struct engine *e) { return e->version ? e->version : "?"; }
const char *engine_os_arch(const struct engine *e) { return e->os_arch ? e->os_arch : "?"; }

static void share_lock(CURL *c, curl_lock_data d, curl_lock_access a, void *ctx)
{
	(void)c;
	(void)d;
	(void)a;
	pthread_mutex_lock(&((struct engine *)ctx)->share_mu);
}

static void share_unlock(CURL *c, curl_lock_data d, void *ctx)
{
	(void)c;
	(void)d;
	pthread_mutex_unlock(&((struct engine *)ctx)->share_mu);
}

static struct engine *engine_new(enum transport t)
{
	struct engine *e = xcalloc(1, sizeof(*e));

	e->t = t;
	pthread_mutex_init(&e->share_mu, NULL);
	e->share = curl_share_init();
	if (e->share) {	/* without it, every request connects anew */
		curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
		curl_share_setopt(e->share, CURLSHOPT_LOCKFUNC, share_lock);
		curl_share_setopt(e->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
		curl_share_setopt(e->share, CURLSHOPT_USERDATA, e);
	}
	return e;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	engine_prefetch_drop(e);
	/* closes the kept connections: before the link they go through */
	if (e->share)
		curl_share_cleanup(e->share);
	pthread_mutex_destroy(&e->share_mu);
	if (e->own_ssh)
		sshlink_close(e->ssh);
	free(e->name);
	free(e->base);
	free(e->unix_path);
	free(e->ca);
	free(e->cert);
	free(e->key);
	free(e->version);
	free(e->os_arch);
	free(e);
}

static struct engine *over_ssh(struct sshlink *l, int stdio)
{
	const char *path = sshlink_engine_socket(l, ENGINE_REMOTE_SOCKET, stdio);
	struct engine *e;

	if (!path)
		return NULL;
	e = engine_new(T_SSH);
	e->ssh = l;
	e->unix_path = xstrdup(path);
	e->name = xasprintf("ssh://%s", sshlink_name(l));
	e->base = xstrdup("http://docker");
	return e;
}

struct engine *engine_over_ssh(struct sshlink *l)
{
	return over_ssh(l, 0);
}

struct engine *engine_from_endpoint(const struct endpoint *ep,
				    const struct ssh_opts *so)
{
	struct engine *e;
	const char *h = ep->host;

	if (dm_starts_with(h, "unix://")) {
		e = engine_new(T_UNIX);
		e->unix_path = xstrdup(h + 7);
		e->base = xstrdup("http://docker");
	} else if (dm_starts_with(h, "tcp://")) {
		e = engine_new(T_TCP);
		e->base = xasprintf("%s://%s", ep->tls ? "https" : "http", h + 6);
		e->tls_verify = ep->tls_verify;
		e->ca = ep->ca ? xstrdup(ep->ca) : NULL;
		e->cert = ep->cert ? xstrdup(ep->cert) : NULL;
		e->key = ep->key ? xstrdup(ep->key) : NULL;
	} else if (dm_starts_with(h, "ssh://")) {
		struct ssh_target t;
		struct sshlink *l;

		if (ssh_target_parse(h, &t) < 0)
			return NULL;
		l = sshlink_open(&t, so);
		ssh_target_release(&t);
		if (!l)
			return NULL;
		e = over_ssh(l, 1);	/* dial-stdio: what the CLI does */
		if (!e) {
			sshlink_close(l);
			return NULL;
		}
		e->own_ssh = 1;
		free(e->name);
	} else {
		dm_error("unsupported engine address \"%s\" (use unix://, "
			 "tcp:// or ssh://)", h);
		return NULL;
	}
	e->name = xstrdup(h);
	return e;
}

/* ------------------------------------------------------------------ */

static int xferinfo(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		    curl_off_t un)
{
	(void)ctx;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return dm_cancelled();	/* non-zero aborts the transfer */
}

static CURL *new_handle(struct engine *e, const char *method, const char *path,
			int versioned)
{
	CURL *c = curl_easy_init();
	char *url;

	if (!c)
		return NULL;
	if (versioned == 2 && e->create_api[0])
		url = xasprintf("%s/v%s%s", e->base, e->create_api, path);
	else if (versioned && e->api[0])
		url = xasprintf("%s/v%s%s", e->base, e->api, path);
	else
		url = xasprintf("%s%s", e->base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	if (e->timeout_s > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT, e->timeout_s);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "docker-migrate/" DM_VERSION);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	if (dm_debug_enabled > 1)
		curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xferinfo);
	if (e->share)
		curl_easy_setopt(c, CURLOPT_SHARE, e->share);
	switch (e->t) {
	case T_UNIX:
	case T_SSH:	/* the link's local socket stands for the remote one */
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, e->unix_path);
		break;
	case T_TCP:
		if (e->ca)
			curl_easy_setopt(c, CURLOPT_CAINFO, e->ca);
		if (e->cert)
			curl_easy_setopt(c, CURLOPT_SSLCERT, e->cert);
		if (e->key)
			curl_easy_setopt(c, CURLOPT_SSLKEY, e->key);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, e->tls_verify ? 1L : 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, e->tls_verify ? 2L : 0L);
		break;
	}
	return c;
}

struct collect {
	struct strbuf *sb;
	size_t max;
	int overflow;
};

static size_t collect_cb(char *p, size_t sz, size_t n, void *ctx)
{
	struct collect *c = ctx;

	if (c->sb->len + sz * n > c->max) {
		c->overflow = 1;
		return 0;
	}
	sb_add(c->sb, p, sz * n);
	return sz * n;
}

struct header_ctx {
	char api[16];
};

static size_t header_cb(char *p, size_t sz, size_t n, void *ctx)
{
	struct header_ctx *h = ctx;
	size_t len = sz * n;

	if (len > 12 && strncasecmp(p, "API-Version:", 12) == 0) {
		const char *v = p + 12;
		size_t i = 0;

		while (*v == ' ')
			v++;
		while (i + 1 < sizeof(h->api) && v < p + len &&
		       (v[0] == '.' || (v[0] >= '0' && v[0] <= '9')))
			h->api[i++] = *v++;
		h->api[i] = '\0';
	}
	return len;
}

static int curl_failed(struct engine *e, CURLcode rc, const char *path)
{
	if (rc == CURLE_ABORTED_BY_CALLBACK && dm_cancelled())
		return dm_error_kind(DM_ERR_INTERRUPTED, "interrupted");
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return dm_error_kind(e->side, "%s did not answer %s within "
				     "%ld s", e->name, path, e->timeout_s);
	if (e->t == T_SSH && (rc == CURLE_GOT_NOTHING ||
			      rc == CURLE_COULDNT_CONNECT ||
			      rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
			      rc == CURLE_SEND_FAIL_REWIND)) {
		/* a stream that broke may be the first sign of a lost
		 * session (a killed sshd): that is the reason, not the
		 * engine */
		const char *lost = sshlink_lost(e->ssh, 300);
		const char *why = *lost ? lost : sshlink_last_error(e->ssh);

		return dm_error_kind(*lost ? DM_ERR_LINK : e->side,
				"cannot talk to the Docker engine at %s: %s%s",
				e->name, *why ? why : curl_easy_strerror(rc),
				!*lost &&
				(rc == CURLE_GOT_NOTHING || rc == CURLE_COULDNT_CONNECT)
				? " (is dockerd running there?)" : "");
	}
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
		return dm_error_kind(e->side, "cannot connect to the Docker "
				     "engine at %s: %s (is dockerd running? "
				     "check --host/--context)", e->name,
				     curl_easy_strerror(rc));
	return dm_error_kind(e->side, "Docker engine at %s, %s: %s", e->name,
			     path, curl_easy_strerror(rc));
}

/* The engine's {"message": ...} for an error status. */
static int status_error(struct engine *e, long status, const char *path,
			const struct strbuf *body)
{
	yajl_val doc = NULL;
	const char *msg = NULL;
	/* 409: a name in use, a container running: in the way there */
	enum dm_errkind kind = status == 409 && e->side == DM_ERR_DEST
			       ? DM_ERR_CONFLICT : e->side;
	int ret;

	if (body->len && body->len < 65536) {
		doc = json_parse_quiet(body->buf, body->len);
		msg = json_str(doc, "message", NULL);
	}
	if (msg)
		ret = dm_error_kind(kind, "%s", msg);
	else
		ret = dm_error_kind(kind, "Docker engine at %s answered %ld "
				    "to %s", e->name, status, path);
	yajl_tree_free(doc);
	return ret;
}

/* Run the request c, collecting into col, then free c and hdrs: the
 * HTTP status, or -1 when no whole answer came. */
static long perform(struct engine *e, CURL *c, struct curl_slist *hdrs,
		    const struct collect *col, const char *path)
{
	long status = 0;
	CURLcode rc = curl_easy_perform(c);

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	if (col->overflow)
		return dm_error_kind(e->side, "Docker engine at %s sent more "
				     "than %u MB for %s: refusing it", e->name,
				     MAX_JSON_REPLY >> 20, path);
	if (rc != CURLE_OK)
		return curl_failed(e, rc, path);
	return status;
}

/* A request with an optional small JSON body, collecting the reply. */
static long request(struct engine *e, const char *method, const char *path,
		    const char *body, struct strbuf *reply, int versioned)
{
	struct collect col = { reply, MAX_JSON_REPLY, 0 };
	struct curl_slist *hdrs = NULL;
	CURL *c = new_handle(e, method, path, versioned);

	if (!c)
		return dm_error("cannot create a libcurl handle");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &col);
	if (body) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	return perform(e, c, hdrs, &col, path);
}

/* A progress stream (pull, push) being read: a pull whose registry went
 * silent sends nothing, and the engine waits on it for minutes (TCP
 * keepalives) before it even retries; "Retrying in N seconds" counts
 * down every second without moving anything. */
struct progress_watch {
	struct collect col;
	size_t seen;		/* bytes of col.sb looked at for lines */
	int64_t last_move;	/* ms: the last message that was progress */
	int64_t stall_ms;
	int stalled;
};

static size_t watch_cb(char *p, size_t sz, size_t n, void *ctx)
{
	struct progress_watch *w = ctx;
	size_t ret = collect_cb(p, sz, n, &w->col);
	struct strbuf *sb = w->col.sb;
	char *nl;

	while ((nl = memchr(sb->buf + w->seen, '\n', sb->len - w->seen))) {
		size_t len = (size_t)(nl - (sb->buf + w->seen));

		if (len && !memmem(sb->buf + w->seen, len, "\"Retrying in ",
				   sizeof("\"Retrying in ") - 1))
			w->last_move = dm_now_ms();
		w->seen += len + 1;
	}
	return ret;
}

static int watch_info(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		      curl_off_t un)
{
	struct progress_watch *w = ctx;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	if (dm_cancelled())
		return 1;
	if (dm_now_ms() - w->last_move > w->stall_ms) {
		w->stalled = 1;
		return 1;
	}
	return 0;
}

long engine_post_stream(struct engine *e, const char *path, const char *header,
			long stall_s, struct strbuf *reply)
{
	struct progress_watch w = { { reply, MAX_JSON_REPLY, 0 }, 0,
				    dm_now_ms(),
				    (stall_s > 0 ? stall_s : 60) * 1000, 0 };
	struct curl_slist *hdrs = header ? curl_slist_append(NULL, header) : NULL;
	long st;
	CURL *c = new_handle(e, "POST", path, 1);

	if (!c) {
		curl_slist_free_all(hdrs);
		return dm_error("cannot create a libcurl handle");
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, watch_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &w);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &w);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, watch_info);
	if (hdrs)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	/* hanging up is what makes the engine give the pull or push up: a
	 * kept connection would keep it going */
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	st = perform(e, c, hdrs, &w.col, path);
	if (w.stalled)
		return dm_error("no progress for %ld s (the limit: "
				"DOCKER_MIGRATE_STALL_TIMEOUT): can the engine "
				"there reach the registry?",
				(long)(w.stall_ms / 1000));
	if (st < 0)
		return -1;
	if (st >= 400)
		return status_error(e, st, path, reply);
	/* the caller says which pull or push: the path adds nothing */
	if (engine_stream_error(sb_str(reply), reply->len, NULL) < 0)
		return -1;
	return st;
}

static long json_call_in(struct engine *e, const char *method,
			 const char *path, const char *body, yajl_val *out,
			 int allow404, int versioned)
{
	struct strbuf reply = STRBUF_INIT;
	long status = request(e, method, path, body, &reply, versioned);

	if (out)
		*out = NULL;
	if (status < 0)
		goto out;
	if (status == 404 && allow404)
		goto out;
	if (status >= 400) {
		status = status_error(e, status, path, &reply);
		goto out;
	}
	if (out && reply.len) {
		*out = json_parse(reply.buf, reply.len, path);
		if (!*out) {
			dm_error_wrap("Docker engine at %s", e->name);
			status = dm_error_as(e->side);
		}
	}
out:
	sb_release(&reply);
	return status;
}

static long json_call(struct engine *e, const char *method, const char *path,
		      const char *body, yajl_val *out, int allow404)
{
	return json_call_in(e, method, path, body, out, allow404, 1);
}

long engine_create_container(struct engine *e, const char *path,
			     const char *body, yajl_val *out)
{
	return json_call_in(e, "POST", path, body, out, 0, 2);
}

int engine_get_json(struct engine *e, const char *path, yajl_val *out)
{
	long st = json_call(e, "GET", path, NULL, out, 0);

	if (st >= 0 && !*out)
		return dm_error_kind(e->side, "Docker engine at %s sent an "
				     "empty reply to %s", e->name, path);
	return st < 0 ? -1 : 0;
}

struct many_req {
	CURL *c;
	struct strbuf body;
	struct collect col;
};

/* The reply of request i, finished with rc: parsed into out[i]. */
static int many_done(struct engine *e, const char *path, struct many_req *r,
		     CURLcode rc, yajl_val *out)
{
	long status = 0;

	curl_easy_getinfo(r->c, CURLINFO_RESPONSE_CODE, &status);
	if (r->col.overflow)
		return dm_error_kind(e->side, "Docker engine at %s sent more "
				     "than %u MB for %s: refusing it", e->name,
				     MAX_JSON_REPLY >> 20, path);
	if (rc != CURLE_OK)
		return curl_failed(e, rc, path);
	if (status >= 400)
		return status_error(e, status, path, &r->body);
	if (!r->body.len)
		return dm_error_kind(e->side, "Docker engine at %s sent an "
				     "empty reply to %s", e->name, path);
	*out = json_parse(r->body.buf, r->body.len, path);
	if (*out)
		return 0;
	dm_error_wrap("Docker engine at %s", e->name);
	return dm_error_as(e->side);
}

/* Start request i on m. */
static int many_start(struct engine *e, CURLM *m, const char *path,
		      struct many_req *r, size_t i)
{
	r->col = (struct collect){ &r->body, MAX_JSON_REPLY, 0 };
	r->c = new_handle(e, "GET", path, 1);
	if (!r->c)
		return dm_error("cannot create a libcurl handle");
	curl_easy_setopt(r->c, CURLOPT_WRITEFUNCTION, collect_cb);
	curl_easy_setopt(r->c, CURLOPT_WRITEDATA, &r->col);
	curl_easy_setopt(r->c, CURLOPT_PRIVATE, (void *)(uintptr_t)i);
	if (curl_multi_add_handle(m, r->c) != CURLM_OK)
		return dm_error("libcurl refused a request");
	return 0;
}

int engine_get_json_many(struct engine *e, const char *const *paths, size_t n,
			 yajl_val *out)
{
	struct many_req *r = xcalloc(n + 1, sizeof(*r));
	CURLM *m = curl_multi_init();
	size_t next = 0, active = 0, done = 0;
	int ret = m ? 0 : dm_error("cannot create a libcurl multi handle");

	for (size_t i = 0; i < n; i++)
		out[i] = NULL;
	while (ret == 0 && done < n) {
		CURLMsg *msg;
		int still = 0, left;

		while (ret == 0 && next < n && active < ENGINE_PARALLEL) {
			ret = many_start(e, m, paths[next], &r[next], next);
			next++;
			active++;
		}
		if (ret == 0 && curl_multi_perform(m, &still) != CURLM_OK)
			ret = dm_error("libcurl failed in parallel requests");
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			void *priv = NULL;
			size_t i;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
			i = (size_t)(uintptr_t)priv;
			if (ret == 0)
				ret = many_done(e, paths[i], &r[i],
						msg->data.result, &out[i]);
			curl_multi_remove_handle(m, r[i].c);
			curl_easy_cleanup(r[i].c);
			r[i].c = NULL;
			active--;
			done++;
		}
		if (ret == 0 && still && curl_multi_poll(m, NULL, 0, 1000, NULL)
		    != CURLM_OK)
			ret = dm_error("libcurl failed in parallel requests");
	}
	for (size_t i = 0; i < n; i++) {
		if (r[i].c) {
			curl_multi_remove_handle(m, r[i].c);
			curl_easy_cleanup(r[i].c);
		}
		sb_release(&r[i].body);
		if (ret < 0) {
			yajl_tree_free(out[i]);
			out[i] = NULL;
		}
	}
	if (m)
		curl_multi_cleanup(m);
	free(r);
	return ret;
}

long engine_get_json_opt(struct engine *e, const char *path, yajl_val *out)
{
	return json_call(e, "GET", path, NULL, out, 1);
}

long engine_post_json(struct engine *e, const char *path, const char *body,
		      yajl_val *out)
{
	return json_call(e, "POST", path, body, out, 0);
}

long engine_delete(struct engine *e, const char *path)
{
	return json_call(e, "DELETE", path, NULL, NULL, 1);
}

int engine_connect(struct engine *e)
{
	struct header_ctx h = { { 0 } };
	struct strbuf reply = STRBUF_INIT;
	struct collect col = { &reply, 4096, 0 };
	yajl_val v = NULL;
	long status = 0;
	CURLcode rc;
	CURL *c = new_handle(e, "GET", "/_ping", 0);

	if (!c)
		return dm_error("cannot create a libcurl handle");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &col);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	sb_release(&reply);
	if (rc != CURLE_OK)
		return curl_failed(e, rc, "/_ping");
	if (status != 200)
		return dm_error("%s does not answer like a Docker engine "
				"(HTTP %ld to /_ping)", e->name, status);
	/* the older of the two versions, as the CLI negotiates */
	if (!h.api[0])
		snprintf(e->api, sizeof(e->api), "1.24");
	else if (strverscmp(h.api, ENGINE_API_MAX) < 0)
		snprintf(e->api, sizeof(e->api), "%s", h.api);
	else
		snprintf(e->api, sizeof(e->api), "%s", ENGINE_API_MAX);
	/* never older than api: it is api or the engine's own, capped */
	snprintf(e->create_api, sizeof(e->create_api), "%s",
		 h.api[0] && strverscmp(h.api, ENGINE_CREATE_API_MAX) < 0
		 ? h.api : h.api[0] ? ENGINE_CREATE_API_MAX : e->api);
	if (engine_get_json(e, "/version", &v) < 0)
		return -1;
	free(e->version);
	free(e->os_arch);
	e->version = xstrdup(json_str(v, "Version", NULL) ?: "?");
	e->os_arch = xasprintf("%s/%s", json_str(v, "Os", NULL) ?: "linux",
			       json_str(v, "Arch", NULL) ?: "?");
	yajl_tree_free(v);
	dm_debug("%s: engine %s, API %s", e->name, e->version, e->api);
	return 0;
}

/* ------------------------------------------------------------------ */
/* streaming                                                           */

struct get_sink {
	engine_sink_fn fn;
	void *ctx;
	struct xfer_stats *st;
	int failed;
	struct strbuf errbody;	/* first bytes, for an error status */
	long status;
	CURL *c;
	struct req_stop *ctl;	/* another thread may stop it */
};

/* A request another thread stopped ends at its next progress call (its
 * socket shut down wakes curl at once: see req_stop). */
static int stream_xferinfo(void *ctx, curl_off_t dt, curl_off_t dn,
			   curl_off_t ut, curl_off_t un)
{
	const struct get_sink *s = ctx;

	if (s->ctl && __atomic_load_n(&s->ctl->stop, __ATOMIC_SEQ_CST))
		return 1;
	return xferinfo(NULL, dt, dn, ut, un);
}

static size_t sink_cb(char *p, size_t sz, size_t n, void *ctx)
{
	struct get_sink *s = ctx;
	size_t len = sz * n;

	if (!s->status)
		curl_easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &s->status);
	if (s->status >= 400) {
		if (s->errbody.len < 65536)
			sb_add(&s->errbody, p, len);
		return len;
	}
	if (s->fn(s->ctx, p, len) < 0) {
		s->failed = 1;
		return 0;
	}
	if (s->st)
		__atomic_add_fetch(&s->st->bytes, len, __ATOMIC_RELAXED);
	return len;
}

int engine_get_stream(struct engine *e, const char *path, engine_sink_fn fn,
		      void *ctx, struct xfer_stats *st)
{
	return engine_stream(e, "GET", path, NULL, fn, ctx, st);
}

/* A stoppable request has a connection of its own, whose socket is
 * known: shutting it down wakes curl at once, where its progress
 * callback would only run within a second. */
static curl_socket_t stop_open(void *ctx, curlsocktype purpose,
			       struct curl_sockaddr *a)
{
	struct req_stop *ctl = ctx;
	int fd;

	(void)purpose;
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	pthread_mutex_lock(&ctl->mu);
	ctl->sock = fd;
	if (fd >= 0 && __atomic_load_n(&ctl->stop, __ATOMIC_SEQ_CST))
		shutdown(fd, SHUT_RDWR);
	pthread_mutex_unlock(&ctl->mu);
	return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static int stop_close(void *ctx, curl_socket_t fd)
{
	struct req_stop *ctl = ctx;

	pthread_mutex_lock(&ctl->mu);
	if (ctl->sock == fd)
		ctl->sock = -1;
	pthread_mutex_unlock(&ctl->mu);
	return close(fd);
}

static void req_stop_setup(CURL *c, struct req_stop *ctl)
{
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, stop_open);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, ctl);
	curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, stop_close);
	curl_easy_setopt(c, CURLOPT_CLOSESOCKETDATA, ctl);
}

static void req_stop(struct req_stop *ctl)
{
	pthread_mutex_lock(&ctl->mu);
	__atomic_store_n(&ctl->stop, 1, __ATOMIC_SEQ_CST);
	if (ctl->sock >= 0)
		shutdown(ctl->sock, SHUT_RDWR);
	pthread_mutex_unlock(&ctl->mu);
}

static int stream_request(struct engine *e, const char *method,
			  const char *path, const char *body,
			  engine_sink_fn fn, void *ctx, struct xfer_stats *st,
			  struct req_stop *ctl);
static int prefetch_take(struct engine *e, engine_sink_fn fn, void *ctx,
			 struct xfer_stats *st);

int engine_stream(struct engine *e, const char *method, const char *path,
		  const char *body, engine_sink_fn fn, void *ctx,
		  struct xfer_stats *st)
{
	if (e->pf && !body && strcmp(method, "GET") == 0 &&
	    strcmp(e->pf->path, path) == 0)
		return prefetch_take(e, fn, ctx, st);
	return stream_request(e, method, path, body, fn, ctx, st, NULL);
}

static int stream_request(struct engine *e, const char *method,
			  const char *path, const char *body,
			  engine_sink_fn fn, void *ctx, struct xfer_stats *st,
			  struct req_stop *ctl)
{
	struct get_sink s = { .fn = fn, .ctx = ctx, .st = st,
			      .errbody = STRBUF_INIT, .ctl = ctl };
	struct curl_slist *hdrs = NULL;
	CURLcode rc;
	int ret = 0;

	s.c = new_handle(e, method, path, 1);
	if (!s.c)
		return dm_error("cannot create a libcurl handle");
	curl_easy_setopt(s.c, CURLOPT_WRITEFUNCTION, sink_cb);
	curl_easy_setopt(s.c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(s.c, CURLOPT_XFERINFOFUNCTION, stream_xferinfo);
	curl_easy_setopt(s.c, CURLOPT_XFERINFODATA, &s);
	if (ctl)
		req_stop_setup(s.c, ctl);
	if (body) {
		hdrs = curl_slist_append(NULL, "Content-Type: application/json");
		curl_easy_setopt(s.c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(s.c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(s.c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	/* an image of hundreds of MB: 16 times fewer reads and callbacks
	 * than curl's default of 16 kB */
	curl_easy_setopt(s.c, CURLOPT_BUFFERSIZE, 256L * 1024);
	rc = curl_easy_perform(s.c);
	curl_easy_getinfo(s.c, CURLINFO_RESPONSE_CODE, &s.status);
	curl_easy_cleanup(s.c);
	curl_slist_free_all(hdrs);
	if (s.status >= 400)
		ret = status_error(e, s.status, path, &s.errbody);
	else if (s.failed)
		ret = -1;	/* the sink said why */
	else if (rc != CURLE_OK)
		ret = curl_failed(e, rc, path);
	sb_release(&s.errbody);
	return ret;
}

struct one_header {
	const char *name;
	size_t len;
	char *value;
};

static size_t one_header_cb(char *p, size_t sz, size_t n, void *ctx)
{
	struct one_header *h = ctx;
	size_t len = sz * n, end = len;

	if (len > h->len && p[h->len] == ':' &&
	    strncasecmp(p, h->name, h->len) == 0 && !h->value) {
		const char *v = p + h->len + 1;

		while (end && (p[end - 1] == '\r' || p[end - 1] == '\n'))
			end--;
		while (v < p + end && *v == ' ')
			v++;
		h->value = xstrndup(v, (size_t)(p + end - v));
	}
	return len;
}

long engine_head(struct engine *e, const char *path, const char *header,
		 char **value)
{
	struct one_header h = { header, strlen(header), NULL };
	long status = 0;
	CURLcode rc;
	CURL *c = new_handle(e, "HEAD", path, 1);

	*value = NULL;
	if (!c)
		return dm_error("cannot create a libcurl handle");
	curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, one_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		free(h.value);
		return curl_failed(e, rc, path);
	}
	if (status >= 400 && status != 404) {
		free(h.value);
		return dm_error_kind(e->side, "Docker engine at %s answered "
				     "%ld to %s", e->name, status, path);
	}
	*value = h.value;
	return status;
}

int fd_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return dm_error("the receiving side stopped (%s)",
					strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int sink_to_fd(void *ctx, const void *buf, size_t n)
{
	return fd_write_all(*(int *)ctx, buf, n);
}

int engine_get_to_fd(struct engine *e, const char *path, int fd,
		     struct xfer_stats *st)
{
	return engine_get_stream(e, path, sink_to_fd, &fd, st);
}

/* ------------------------------------------------------------------ */
/* a GET begun early                                                   */

static void *prefetch_run(void *arg)
{
	struct prefetch *pf = arg;

	pf->ret = stream_request(pf->e, "GET", pf->path, NULL, sink_to_fd,
				 &pf->wr, NULL, &pf->ctl);
	if (pf->ret < 0)
		snprintf(pf->err, sizeof(pf->err), "%s", dm_errmsg());
	close(pf->wr);		/* the reader's end of stream */
	return NULL;
}

int engine_prefetch(struct engine *e, const char *path)
{
	struct prefetch *pf;
	int p[2];

	engine_prefetch_drop(e);
	if (pipe2(p, O_CLOEXEC) < 0)
		return dm_error("pipe: %s", strerror(errno));
	pf = xcalloc(1, sizeof(*pf));
	pf->e = e;
	pf->path = xstrdup(path);
	pf->rd = p[0];
	pf->wr = p[1];
	/* the source goes on while its reader compresses a member */
	(void)fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	pf->ctl.sock = -1;
	pthread_mutex_init(&pf->ctl.mu, NULL);
	if (pthread_create(&pf->t, NULL, prefetch_run, pf) != 0) {
		close(p[0]);
		close(p[1]);
		pthread_mutex_destroy(&pf->ctl.mu);
		free(pf->path);
		free(pf);
		return dm_error("cannot start a thread");
	}
	e->pf = pf;
	return 0;
}

/* Stop the request when asked (its connection shut down), then wait for
 * it; its result. */
static int prefetch_end(struct engine *e, int stop)
{
	struct prefetch *pf = e->pf;
	int ret;

	if (!pf)
		return 0;
	e->pf = NULL;
	if (stop)
		req_stop(&pf->ctl);
	close(pf->rd);
	pthread_join(pf->t, NULL);
	ret = pf->ret;
	if (ret < 0 && !stop)
		dm_error("%s", pf->err);
	pthread_mutex_destroy(&pf->ctl.mu);
	free(pf->path);
	free(pf);
	return ret;
}

/* Stopped, its failure is no one's: the caller's error stays as it is
 * (a failed transfer drops it before saying why it failed). */
void engine_prefetch_drop(struct engine *e)
{
	prefetch_end(e, 1);
}

/* The body of the prefetched GET, to fn as engine_get_stream would. */
static int prefetch_take(struct engine *e, engine_sink_fn fn, void *ctx,
			 struct xfer_stats *st)
{
	static const size_t bufsz = 256u << 10;
	char *buf = xmalloc(bufsz);
	ssize_t n;
	int ret = 0;

	while ((n = read(e->pf->rd, buf, bufsz)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = dm_error("reading from %s: %s", e->name,
				       strerror(errno));
			break;
		}
		if (fn(ctx, buf, (size_t)n) < 0) {
			ret = -1;
			break;
		}
		if (st)
			__atomic_add_fetch(&st->bytes, (uint64_t)n,
					   __ATOMIC_RELAXED);
	}
	free(buf);
	if (ret < 0) {		/* stopped, it leaves the reason as it is */
		prefetch_end(e, 1);
		return -1;
	}
	return prefetch_end(e, 0);
}

struct fd_source {
	int fd;
	struct xfer_stats *st;
	int rerr;
	int eof;	/* the whole body went out */
};

static size_t from_fd_cb(char *p, size_t sz, size_t n, void *ctx)
{
	struct fd_source *s = ctx;
	ssize_t r;

	do
		r = read(s->fd, p, sz * n);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		s->rerr = errno;
		return CURL_READFUNC_ABORT;
	}
	if (r == 0 && !s->eof) {
		/* the engine acts on a body it got whole (a load, an
		 * archive) even if we hang up now: wait for its answer, so
		 * that a rollback comes after what it did, not before */
		s->eof = 1;
		dm_cancel_defer(1);
	}
	if (s->st)
		__atomic_add_fetch(&s->st->bytes, (uint64_t)r, __ATOMIC_RELAXED);
	return (size_t)r;
}

int engine_post_from_fd(struct engine *e, const char *path, int fd,
			const char *content_type, struct strbuf *reply,
			struct xfer_stats *st)
{
	return engine_send_from_fd(e, "POST", path, fd, content_type, reply, st);
}

int engine_send_from_fd(struct engine *e, const char *method, const char *path,
			int fd, const char *content_type, struct strbuf *reply,
			struct xfer_stats *st)
{
	struct fd_source src = { fd, st, 0, 0 };
	struct collect col = { reply, MAX_JSON_REPLY, 0 };
	struct curl_slist *hdrs = NULL;
	char *ct = xasprintf("Content-Type: %s", content_type);
	long status = 0;
	CURLcode rc;
	int ret = 0;
	CURL *c = new_handle(e, method, path, 1);

	if (!c) {
		free(ct);
		return dm_error("cannot create a libcurl handle");
	}
	hdrs = curl_slist_append(hdrs, ct);
	hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	/* a stream cannot be sent twice: on a kept connection that turns out
	 * dead, curl would retry and fail to rewind it, hiding why the link
	 * broke.  One long request gains nothing from reuse anyway. */
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, from_fd_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &src);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &col);
	rc = curl_easy_perform(c);
	if (src.eof)
		dm_cancel_defer(0);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	free(ct);
	if (src.rerr)
		ret = dm_error("reading the stream for %s: %s", path,
			       strerror(src.rerr));
	else if (rc != CURLE_OK)
		ret = curl_failed(e, rc, path);
	else if (status >= 400)
		ret = status_error(e, status, path, reply);
	else if (col.overflow)
		ret = dm_error_kind(e->side, "Docker engine at %s sent too "
				    "long a reply to %s", e->name, path);
	else
		ret = engine_stream_error(sb_str(reply), reply->len, path);
	return ret;
}

int engine_stream_error(const char *stream, size_t len, const char *what)
{
	const char *p = stream, *end = stream + len;

	/* one JSON object per line; the first with "error" decides */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		/* the containerd image store reports a failed unpack as a
		 * plain message of a load that otherwise succeeded */
		if (n && memmem(p, n, "\"stream\":\"Error ", 16)) {
			yajl_val v = json_parse_quiet(p, n);
			const char *msg = json_str(v, "stream", NULL);
			size_t ml = msg ? strcspn(msg, "\n") : 0;
			int ret = 0;

			if (msg)
				ret = what ? dm_error("%s: %.*s", what, (int)ml, msg)
					   : dm_error("%.*s", (int)ml, msg);
			yajl_tree_free(v);
			if (ret < 0)
				return ret;
		}
		if (n && memmem(p, n, "\"error", 6)) {
			yajl_val v = json_parse_quiet(p, n);
			const char *msg = json_str(v, "errorDetail", "message", NULL);
			int ret = 0;

			if (!msg)
				msg = json_str(v, "error", NULL);
			if (msg)
				ret = what ? dm_error("%s: %s", what, msg)
					   : dm_error("%s", msg);
			yajl_tree_free(v);
			if (ret < 0)
				return ret;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

char *engine_escape(const char *s)
{
	char *esc = curl_easy_escape(NULL, s, 0);
	char *ret = xstrdup(esc);

	curl_free(esc);
	return ret;
}
