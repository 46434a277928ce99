/*
 * registry.c - the registry HTTP API v2 client (see registry.h): the
 * seeds' "custom client" that fetches single layers with GETs.
 *
 * Authentication follows the registry's own challenge: a 401 names Basic
 * (the credentials are sent) or Bearer (a token is asked of the realm it
 * names, for the repository's pull scope, with the credentials if any),
 * and the request is sent again once.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "json.h"
#include "registry.h"

#define MAX_DOC (4u << 20)	/* manifests and configs are a few kB */
#define MAX_ATTEMPTS 5		/* per blob, in a row without progress */
#define HOLD 64			/* bytes held back until a digest matches */

struct registry {
	char *host;		/* HOST[:PORT], as engines name it */
	char *base;		/* scheme://HOST[:PORT] */
	int plain_ok;		/* credentials may go over plain HTTP */
	char *user, *secret;	/* NULL: anonymous */
	char *auth;		/* "Authorization: ..." once challenged */
	char *auth_repo;	/* the repository a Bearer token is for */
	long connect_s;		/* limit of each connection's setup */
};

const char *registry_host(const struct registry *r) { return r->host; }

static void wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	free(r->host);
	free(r->base);
	wipe_free(r->user);
	wipe_free(r->secret);
	wipe_free(r->auth);
	free(r->auth_repo);
	free(r);
}

static int xferinfo(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		    curl_off_t un)
{
	(void)ctx, (void)dt, (void)dn, (void)ut, (void)un;
	return dm_cancelled();
}

static CURL *new_handle(const char *url, long stall_s)
{
	CURL *c = curl_easy_init();

	if (!c)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, stall_s > 0 ? stall_s : 60L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "docker-migrate/" DM_VERSION);
	/* blobs may be served from elsewhere (storage redirects); curl
	 * does not carry our Authorization header to another host */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xferinfo);
	if (dm_debug_enabled > 1)
		curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	return c;
}

/* ------------------------------------------------------------------ */
/* small requests: documents, pings, tokens                            */

struct reply {
	struct strbuf body;
	char *ctype;
	char *challenge;	/* WWW-Authenticate */
	int paged;		/* a Link header: more follows */
	long status;
	int overflow;
};

static void reply_release(struct reply *rp)
{
	sb_release(&rp->body);
	free(rp->ctype);
	free(rp->challenge);
	memset(rp, 0, sizeof(*rp));
}

static size_t body_cb(char *p, size_t sz, size_t n, void *ctx)
{
	struct reply *rp = ctx;

	if (rp->body.len + sz * n > MAX_DOC) {
		rp->overflow = 1;
		return 0;
	}
	sb_add(&rp->body, p, sz * n);
	return sz * n;
}

/* A header's value, trimmed, if line is "name: value". */
static char *header_value(const char *line, size_t len, const char *name)
{
	size_t nl = strlen(name);

	if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 ||
	    line[nl] != ':')
		return NULL;
	line += nl + 1;
	len -= nl + 1;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
		       line[len - 1] == ' '))
		len--;
	return xstrndup(line, len);
}

static size_t head_cb(char *p, size_t sz, size_t n, void *ctx)
{
	struct reply *rp = ctx;
	char *v;

	/* a redirect starts the headers over */
	if (sz * n > 5 && strncmp(p, "HTTP/", 5) == 0) {
		free(rp->ctype);
		free(rp->challenge);
		rp->ctype = rp->challenge = NULL;
		rp->paged = 0;
	}
	if ((v = header_value(p, sz * n, "Content-Type"))) {
		free(rp->ctype);
		rp->ctype = v;
	} else if ((v = header_value(p, sz * n, "WWW-Authenticate"))) {
		free(rp->challenge);
		rp->challenge = v;
	} else if ((v = header_value(p, sz * n, "Link"))) {
		rp->paged = 1;
		free(v);
	}
	return sz * n;
}

static int curl_error(const struct registry *r, CURLcode rc, const char *what)
{
	if (rc == CURLE_ABORTED_BY_CALLBACK && dm_cancelled())
		return dm_error_kind(DM_ERR_INTERRUPTED, "interrupted");
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	    rc == CURLE_OPERATION_TIMEDOUT)
		return dm_error("cannot reach the registry %s: %s (is it "
				"running? check --registry)", r->host,
				curl_easy_strerror(rc));
	return dm_error("registry %s, %s: %s", r->host, what,
			curl_easy_strerror(rc));
}

/* method (NULL: GET) url with extra headers into rp; -1 only when no
 * answer came. */
static int call_doc(const struct registry *r, const char *method,
		    const char *url, const char *accept, const char *userpwd,
		    struct reply *rp)
{
	struct curl_slist *h = NULL;
	CURL *c = new_handle(url, 60);
	CURLcode rc;

	if (!c)
		return dm_error("cannot create a libcurl handle");
	if (method)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (accept)
		h = curl_slist_append(h, accept);
	if (r->auth && !userpwd)
		h = curl_slist_append(h, r->auth);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (userpwd) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
	}
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, r->connect_s);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rp);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, head_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, rp);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rp->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	if (rp->overflow)
		return dm_error("registry %s sent more than %u MB for %s", r->host,
				MAX_DOC >> 20, url);
	if (rc != CURLE_OK)
		return curl_error(r, rc, url);
	return 0;
}

static int get_doc(const struct registry *r, const char *url,
		   const char *accept, const char *userpwd, struct reply *rp)
{
	return call_doc(r, NULL, url, accept, userpwd, rp);
}

static int creds_allowed(const struct registry *r, const char *url)
{
	if (dm_starts_with(url, "https://") || r->plain_ok)
		return 1;
	dm_error("registry %s asks for credentials over plain HTTP: "
			"give --registry http://%s to allow it, or serve it "
			"with TLS", r->host, r->host);
	return 0;
}

/* Answer a 401's challenge for repo: set r->auth. */
static int authenticate(struct registry *r, const char *repo,
			const char *challenge)
{
	struct reg_challenge ch;
	struct reply rp = { .status = 0 };
	char *url = NULL, *userpwd = NULL, *esc;
	yajl_val doc = NULL;
	const char *tok;
	int ret = -1;

	if (!challenge || reg_challenge_parse(challenge, &ch) < 0)
		return dm_error("registry %s refused access (401) without a "
				"usable challenge", r->host);
	wipe_free(r->auth);
	r->auth = NULL;
	if (r->user)
		userpwd = xasprintf("%s:%s", r->user, r->secret);
	if (strcasecmp(ch.scheme, "Basic") == 0) {
		if (!userpwd) {
			dm_error("registry %s needs credentials: docker login %s",
				 r->host, r->host);
		} else if (creds_allowed(r, r->base)) {
			unsigned char *b = xmalloc(4 * (strlen(userpwd) + 2) / 3 + 4);

			EVP_EncodeBlock(b, (unsigned char *)userpwd,
					(int)strlen(userpwd));
			r->auth = xasprintf("Authorization: Basic %s", b);
			wipe_free((char *)b);
			ret = 0;
		}
		goto out;
	}
	if (strcasecmp(ch.scheme, "Bearer") != 0 || !ch.realm) {
		dm_error("registry %s: unsupported authentication \"%.40s\"",
			 r->host, ch.scheme);
		goto out;
	}
	esc = curl_easy_escape(NULL, ch.service ? ch.service : "", 0);
	url = xasprintf("%s%sservice=%s", ch.realm,
			strchr(ch.realm, '?') ? "&" : "?", esc);
	curl_free(esc);
	{
		/* the scope the registry asks for (a delete needs more than
		 * a pull) */
		char *scope = ch.scope ? xstrdup(ch.scope)
				       : xasprintf("repository:%s:pull", repo);
		char *s = curl_easy_escape(NULL, scope, 0);
		char *u = xasprintf("%s&scope=%s", url, s);

		curl_free(s);
		free(scope);
		free(url);
		url = u;
	}
	if (userpwd && !creds_allowed(r, url))
		goto out;
	if (get_doc(r, url, NULL, userpwd, &rp) < 0)
		goto out;
	if (rp.status != 200) {
		dm_error("registry %s: its token service answered %ld%s", r->host,
			 rp.status, userpwd ? " (check the credentials: docker "
			 "login)" : " (credentials needed? docker login)");
		goto out;
	}
	doc = json_parse(rp.body.buf, rp.body.len, "registry token");
	tok = json_str(doc, "token", NULL) ?: json_str(doc, "access_token", NULL);
	if (!tok || !*tok || strpbrk(tok, "\r\n")) {
		dm_error("registry %s: its token service sent no token", r->host);
		goto out;
	}
	r->auth = xasprintf("Authorization: Bearer %s", tok);
	free(r->auth_repo);
	r->auth_repo = xstrdup(repo);
	ret = 0;
out:
	if (doc) {
		/* the token is a credential too */
		const char *t = json_str(doc, "token", NULL);

		if (t)
			memset((char *)t, 0, strlen(t));
	}
	yajl_tree_free(doc);
	reply_release(&rp);
	wipe_free(userpwd);
	free(url);
	reg_challenge_release(&ch);
	return ret;
}

/* A Bearer token is per repository: a new one is needed for another. */
static void auth_for(struct registry *r, const char *repo)
{
	if (r->auth && r->auth_repo && strcmp(r->auth_repo, repo) != 0) {
		wipe_free(r->auth);
		r->auth = NULL;
	}
}

/* method (NULL: GET) path of repo's API, authenticating once on 401. */
static int api_call(struct registry *r, const char *method, const char *repo,
		    const char *path, const char *accept, struct reply *rp)
{
	char *url = xasprintf("%s/v2/%s/%s", r->base, repo, path);
	int ret;

	auth_for(r, repo);
	ret = call_doc(r, method, url, accept, NULL, rp);
	if (ret == 0 && rp->status == 401) {
		char *ch = rp->challenge ? xstrdup(rp->challenge) : NULL;

		reply_release(rp);
		ret = authenticate(r, repo, ch);
		free(ch);
		if (ret == 0)
			ret = call_doc(r, method, url, accept, NULL, rp);
	}
	free(url);
	return ret;
}

/* ------------------------------------------------------------------ */

static int is_loopback(const char *host)
{
	return dm_starts_with(host, "localhost") || dm_starts_with(host, "127.") ||
	       dm_starts_with(host, "[::1]");
}

/* No scheme given: HTTPS if the registry speaks it, else plain HTTP. */
static int pick_scheme(struct registry *r)
{
	struct reply rp = { .status = 0 };
	char *url = xasprintf("https://%s/v2/", r->host);
	int ret = get_doc(r, url, NULL, NULL, &rp);

	free(url);
	reply_release(&rp);
	if (ret == 0) {
		r->base = xasprintf("https://%s", r->host);
		return 0;
	}
	if (dm_cancelled())
		return -1;
	dm_debug("registry %s: no TLS (%s); using plain HTTP", r->host,
		 dm_errmsg());
	dm_clear_error();
	r->base = xasprintf("http://%s", r->host);
	url = xasprintf("%s/v2/", r->base);
	ret = get_doc(r, url, NULL, NULL, &rp);
	free(url);
	reply_release(&rp);
	return ret;
}

struct registry *registry_open(const char *spec, const char *cfgdir,
			       long connect_s)
{
	struct registry *r = xcalloc(1, sizeof(*r));
	char *scheme = NULL;

	r->connect_s = connect_s > 0 ? connect_s : 30;
	if (reg_spec_parse(spec, &scheme, &r->host) < 0)
		goto fail;
	r->plain_ok = strcmp(scheme, "http") == 0 || is_loopback(r->host);
	if (cfgdir && registry_creds(cfgdir, r->host, &r->user, &r->secret) < 0)
		goto fail;
	if (*scheme)
		r->base = xasprintf("%s://%s", scheme, r->host);
	else if (pick_scheme(r) < 0)
		goto fail;
	free(scheme);
	return r;
fail:
	free(scheme);
	registry_free(r);
	return NULL;
}

static int status_error(const struct registry *r, const struct reply *rp,
			const char *what)
{
	yajl_val doc = rp->body.len ? json_parse_quiet(rp->body.buf,
						       rp->body.len) : NULL;
	yajl_val errs = json_get(doc, "errors", NULL);
	const char *msg = json_alen(errs)
			  ? json_str(errs->u.array.values[0], "message", NULL)
			  : NULL;
	int ret;

	if (rp->status == 404)
		ret = dm_error("registry %s has no %s%s%s", r->host, what,
			       msg ? ": " : "", msg ? msg : "");
	else
		ret = dm_error("registry %s answered %ld for %s%s%.200s", r->host,
			       rp->status, what, msg ? ": " : "", msg ? msg : "");
	yajl_tree_free(doc);
	return ret;
}

static void sha256_of(const void *buf, size_t n, char out[72])
{
	unsigned char md[32];
	unsigned int len = 0;

	EVP_Digest(buf, n, md, &len, EVP_sha256(), NULL);
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

/* GET a document of repo (a manifest, a config) that must be there;
 * digest gets the sha256 of what came, to be checked by the caller. */
static int fetch_doc(struct registry *r, const char *repo, const char *path,
		     const char *accept, const char *what, struct reply *rp,
		     char digest[72])
{
	if (api_call(r, NULL, repo, path, accept, rp) < 0)
		return -1;
	if (rp->status != 200)
		return status_error(r, rp, what);
	if (!rp->body.buf)
		sb_adds(&rp->body, "");
	sha256_of(rp->body.buf, rp->body.len, digest);
	return 0;
}

#define ACCEPT_ALL "Accept: " \
	"application/vnd.docker.distribution.manifest.v2+json, " \
	"application/vnd.docker.distribution.manifest.list.v2+json, " \
	"application/vnd.oci.image.manifest.v1+json, " \
	"application/vnd.oci.image.index.v1+json"

static int manifest_once(struct registry *r, const char *repo, const char *ref,
			 const char *platform, struct reg_manifest *m)
{
	struct reply rp = { .status = 0 };
	char *path = xasprintf("manifests/%s", ref);
	char *what = xasprintf("manifest %s:%s", repo, ref);
	char digest[72];
	int ret = -1;

	if (fetch_doc(r, repo, path, ACCEPT_ALL, what, &rp, digest) < 0)
		goto out;
	if (dm_starts_with(ref, "sha256:") && strcmp(digest, ref) != 0) {
		dm_error("registry %s sent a manifest whose digest is %s, not "
			 "the %s asked for", r->host, digest, ref);
		goto out;
	}
	ret = reg_manifest_parse(rp.body.buf, rp.body.len, rp.ctype, platform,
				 m);
out:
	reply_release(&rp);
	free(path);
	free(what);
	return ret;
}

int registry_manifest(struct registry *r, const char *repo, const char *ref,
		      const char *platform, struct reg_manifest *m)
{
	char *pick;

	if (manifest_once(r, repo, ref, platform, m) < 0)
		return -1;
	if (m->kind == REG_IMAGE)
		return 0;
	pick = m->pick;
	m->pick = NULL;
	reg_manifest_release(m);
	dm_debug("%s:%s is a list: %s is %s", repo, ref, platform, pick);
	if (manifest_once(r, repo, pick, platform, m) < 0) {
		free(pick);
		return -1;
	}
	free(pick);
	if (m->kind != REG_IMAGE) {
		reg_manifest_release(m);
		return dm_error("%s:%s: a list inside a list", repo, ref);
	}
	return 0;
}

int registry_blob(struct registry *r, const char *repo,
		  const struct reg_desc *d, struct strbuf *out)
{
	struct reply rp = { .status = 0 };
	char *path = xasprintf("blobs/%s", d->digest), *what;
	char digest[72];
	int ret = -1;

	what = xasprintf("blob %s", d->digest);
	if (d->size > (long long)MAX_DOC) {
		dm_error("%s: %lld bytes is too large for an image config",
			 what, d->size);
		goto out;
	}
	if (fetch_doc(r, repo, path, NULL, what, &rp, digest) < 0)
		goto out;
	if (strcmp(digest, d->digest) != 0 || (long long)rp.body.len != d->size) {
		dm_error("registry %s: %s does not match its digest (got %s, "
			 "%zu bytes)", r->host, what, digest, rp.body.len);
		goto out;
	}
	sb_add(out, rp.body.buf, rp.body.len);
	ret = 0;
out:
	reply_release(&rp);
	free(path);
	free(what);
	return ret;
}

/* The digest of the manifest repo:tag names: 1 (*digest set), 0 no such
 * tag, -1 error.  The registry serves the bytes it stores when asked for
 * any manifest type: their sha256 is the digest. */
int registry_tag_digest(struct registry *r, const char *repo, const char *tag,
			char **digest)
{
	struct reply rp = { .status = 0 };
	char *path = xasprintf("manifests/%s", tag);
	char d[72];
	int ret = api_call(r, NULL, repo, path, ACCEPT_ALL, &rp);

	*digest = NULL;
	if (ret == 0 && rp.status == 404) {
		ret = 0;
	} else if (ret == 0 && rp.status != 200) {
		char *what = xasprintf("manifest %s:%s", repo, tag);

		ret = status_error(r, &rp, what);
		free(what);
	} else if (ret == 0) {
		sha256_of(rp.body.buf ? rp.body.buf : "", rp.body.len, d);
		*digest = xstrdup(d);
		ret = 1;
	}
	reply_release(&rp);
	free(path);
	return ret;
}

/* 1 if a tag of repo other than tag names digest, 0 if none, -1 error. */
static int digest_shared(struct registry *r, const char *repo, const char *tag,
			 const char *digest)
{
	struct reply rp = { .status = 0 };
	yajl_val doc = NULL, tags;
	int ret = api_call(r, NULL, repo, "tags/list", NULL, &rp);

	if (ret == 0 && rp.status != 200)
		ret = status_error(r, &rp, "tag list");
	if (ret == 0 && !(doc = json_parse(sb_str(&rp.body), rp.body.len,
						 "tag list")))
		ret = -1;
	/* a list in pages (Harbor, Quay, ECR) may name it further on: a
	 * tag of ours left behind is better than one of the user's deleted */
	if (ret == 0 && rp.paged)
		ret = 1;
	tags = json_get(doc, "tags", NULL);
	for (size_t i = 0; ret == 0 && i < json_alen(tags); i++) {
		const char *other = YAJL_GET_STRING(tags->u.array.values[i]);
		char *d = NULL;

		if (!other || strcmp(other, tag) == 0)
			continue;
		if (registry_tag_digest(r, repo, other, &d) < 0)
			ret = -1;
		else if (d && strcmp(d, digest) == 0)
			ret = 1;
		free(d);
	}
	yajl_tree_free(doc);
	reply_release(&rp);
	return ret;
}

int registry_remove_tag(struct registry *r, const char *repo, const char *tag)
{
	struct reply rp = { .status = 0 };
	char *digest = NULL, *path = NULL, *what = NULL;
	int ret = registry_tag_digest(r, repo, tag, &digest);

	if (ret <= 0)
		goto out;
	/* the registry deletes a manifest, with every tag naming it: one
	 * the user has too keeps it (and ours) */
	ret = digest_shared(r, repo, tag, digest);
	if (ret != 0) {
		if (ret > 0)
			dm_debug("%s:%s: another tag names %s too; kept", repo,
				 tag, digest);
		ret = ret < 0 ? -1 : 0;
		goto out;
	}
	path = xasprintf("manifests/%s", digest);
	ret = api_call(r, "DELETE", repo, path, NULL, &rp);
	if (ret == 0 && rp.status != 202 && rp.status != 200 &&
	    rp.status != 404) {
		what = xasprintf("deleting the manifest of %s:%s", repo, tag);
		ret = status_error(r, &rp, what);
	}
out:
	reply_release(&rp);
	free(digest);
	free(path);
	free(what);
	return ret;
}

/* ------------------------------------------------------------------ */
/* blobs: several at once, in order to the sink, resumed, verified      */

struct job {
	struct fetch *f;
	size_t i;
	CURL *h;
	struct curl_slist *hdrs;
	EVP_MD_CTX *md;
	uint64_t got;		/* bytes of the blob received and hashed */
	uint64_t skip;		/* a resumed reply that restarted at 0 */
	int checked;		/* status of this reply looked at */
	struct strbuf buf;	/* received, not yet given to the sink */
	size_t off;		/* buf[off..] is still to give */
	int paused, running, verified, attempts, auth_tries;
	long status;
};

struct fetch {
	struct registry *r;
	const char *repo;
	const struct reg_desc *d;
	size_t n, cur, started;
	int parallel;
	size_t window;
	long stall_s;
	const struct blob_sink *sink;
	CURLM *multi;
	struct job *jobs;
	int failed;		/* a callback failed, dm_error says why */
};

/* Give job's buffered bytes to the sink, keeping HOLD back unless its
 * digest has matched. */
static int drain(struct job *j)
{
	struct fetch *f = j->f;
	size_t avail = j->buf.len - j->off, give;

	if (f->cur != j->i)
		return 0;
	give = j->verified ? avail : avail > HOLD ? avail - HOLD : 0;
	if (give && f->sink->data(f->sink->ctx, j->i, j->buf.buf + j->off,
				  give) < 0)
		return -1;
	j->off += give;
	/* (nothing given yet: the buffer may not even exist) */
	if (j->off && (j->off == j->buf.len || j->off > (1u << 20))) {
		/* keep the buffer small: move the held bytes to the front */
		memmove(j->buf.buf, j->buf.buf + j->off, j->buf.len - j->off);
		j->buf.len -= j->off;
		j->off = 0;
	}
	return 0;
}

static size_t blob_cb(char *p, size_t sz, size_t n, void *ctx)
{
	struct job *j = ctx;
	struct fetch *f = j->f;
	size_t len = sz * n, use = len;

	if (!j->checked) {
		curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &j->status);
		j->checked = 1;
		/* a server that ignores Range starts again at byte 0 */
		if (j->status == 200 && j->got)
			j->skip = j->got;
	}
	if (j->status != 200 && j->status != 206)
		return len;	/* an error body: judged when done */
	if (f->cur != j->i && j->buf.len - j->off + len > f->window &&
	    j->buf.len > j->off) {
		j->paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (j->skip) {
		size_t s = len < j->skip ? len : (size_t)j->skip;

		j->skip -= s;
		p += s;
		use -= s;
	}
	if (j->got + use > (uint64_t)f->d[j->i].size) {
		dm_error("registry %s sent more than the %lld bytes of blob %s",
			 f->r->host, f->d[j->i].size, f->d[j->i].digest);
		f->failed = 1;
		return 0;
	}
	EVP_DigestUpdate(j->md, p, use);
	j->got += use;
	if (use)
		j->attempts = 0;	/* progress: failures count afresh */
	sb_add(&j->buf, p, use);
	if (drain(j) < 0) {
		f->failed = 1;
		return 0;
	}
	return len;
}

static int job_start(struct job *j)
{
	struct fetch *f = j->f;
	char *url = xasprintf("%s/v2/%s/blobs/%s", f->r->base, f->repo,
			      f->d[j->i].digest);

	j->h = new_handle(url, f->stall_s);
	free(url);
	if (!j->h)
		return dm_error("cannot create a libcurl handle");
	curl_slist_free_all(j->hdrs);
	j->hdrs = NULL;
	auth_for(f->r, f->repo);
	if (f->r->auth)
		j->hdrs = curl_slist_append(j->hdrs, f->r->auth);
	if (j->got) {
		char range[64];

		snprintf(range, sizeof(range), "Range: bytes=%llu-",
			 (unsigned long long)j->got);
		j->hdrs = curl_slist_append(j->hdrs, range);
	}
	curl_easy_setopt(j->h, CURLOPT_HTTPHEADER, j->hdrs);
	curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, blob_cb);
	curl_easy_setopt(j->h, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
	j->checked = 0;
	j->status = 0;
	j->skip = 0;
	j->paused = 0;
	j->running = 1;
	curl_multi_add_handle(f->multi, j->h);
	return 0;
}

static void job_stop(struct job *j)
{
	if (j->h) {
		curl_multi_remove_handle(j->f->multi, j->h);
		curl_easy_cleanup(j->h);
		j->h = NULL;
	}
	j->running = 0;
}

/* The current blob is whole and verified: finish it, begin the next. */
static int advance(struct fetch *f)
{
	while (f->cur < f->n && f->jobs[f->cur].verified) {
		struct job *j = &f->jobs[f->cur];

		if (drain(j) < 0 || f->sink->end(f->sink->ctx, j->i) < 0)
			return -1;
		sb_release(&j->buf);
		j->off = 0;
		if (++f->cur == f->n)
			break;
		j = &f->jobs[f->cur];
		if (f->sink->begin(f->sink->ctx, j->i) < 0 || drain(j) < 0)
			return -1;
		if (j->paused && j->h) {
			j->paused = 0;
			curl_easy_pause(j->h, CURLPAUSE_CONT);
		}
	}
	return 0;
}

/* A transfer ended: verified, resumed, re-authenticated, or failed. */
static int job_done(struct job *j, CURLcode rc)
{
	struct fetch *f = j->f;
	const struct reg_desc *d = &f->d[j->i];
	long status = j->status;

	if (!status)
		curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &status);
	job_stop(j);
	if (dm_cancelled())
		return dm_error_kind(DM_ERR_INTERRUPTED, "interrupted");
	if (rc == CURLE_WRITE_ERROR && f->failed)
		return -1;	/* the sink or a size check said why */
	if (rc == CURLE_OK && status == 401 && j->auth_tries++ == 0) {
		struct reply rp = { .status = 0 };
		char *url = xasprintf("%s/v2/%s/blobs/%s", f->r->base, f->repo,
				      d->digest);
		int ret = get_doc(f->r, url, NULL, NULL, &rp);

		if (ret == 0)
			ret = rp.status == 401
			      ? authenticate(f->r, f->repo, rp.challenge) : 0;
		reply_release(&rp);
		free(url);
		return ret < 0 ? -1 : job_start(j);
	}
	if (rc == CURLE_OK && status != 200 && status != 206) {
		struct reply rp = { .status = status };
		char *what = xasprintf("blob %s", d->digest);

		status_error(f->r, &rp, what);
		free(what);
		return -1;
	}
	/* whole, even if the connection broke after the last byte */
	if (j->got == (uint64_t)d->size) {
		unsigned char md[32];
		unsigned int len = 0;
		char hex[72];

		EVP_DigestFinal_ex(j->md, md, &len);
		memcpy(hex, "sha256:", 7);
		for (int k = 0; k < 32; k++)
			snprintf(hex + 7 + 2 * k, 3, "%02x", md[k]);
		if (strcmp(hex, d->digest) != 0)
			return dm_error("registry %s: blob %s does not match its "
					"digest (got %s): refusing it",
					f->r->host, d->digest, hex);
		j->verified = 1;
		return advance(f);
	}
	/* cut short: go on from where it stopped */
	if (++j->attempts >= MAX_ATTEMPTS)
		return dm_error("registry %s: blob %s broke off at %llu of %lld "
				"bytes %d times: %s", f->r->host, d->digest,
				(unsigned long long)j->got, d->size, MAX_ATTEMPTS,
				rc == CURLE_OK ? "the reply was short"
					       : curl_easy_strerror(rc));
	dm_debug("blob %.19s: resuming at %llu (%s)", d->digest,
		 (unsigned long long)j->got, curl_easy_strerror(rc));
	return job_start(j);
}

static int fetch_loop(struct fetch *f)
{
	while (f->cur < f->n) {
		CURLMsg *msg;
		int left, running;

		if (dm_cancelled())
			return dm_error_kind(DM_ERR_INTERRUPTED, "interrupted");
		/* start blobs, at most `parallel` ahead of the sink */
		while (f->started < f->n && f->started < f->cur + (size_t)f->parallel)
			if (job_start(&f->jobs[f->started++]) < 0)
				return -1;
		if (curl_multi_perform(f->multi, &running) != CURLM_OK)
			return dm_error("libcurl multi interface failed");
		while ((msg = curl_multi_info_read(f->multi, &left))) {
			struct job *j = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  (char **)&j);
			if (job_done(j, msg->data.result) < 0)
				return -1;
		}
		if (f->cur < f->n &&
		    curl_multi_poll(f->multi, NULL, 0, 500, NULL) != CURLM_OK)
			return dm_error("libcurl multi interface failed");
	}
	return 0;
}

int registry_fetch(struct registry *r, const char *repo,
		   const struct reg_desc *d, size_t n, int parallel,
		   size_t window, long stall_s, const struct blob_sink *sink)
{
	struct fetch f = { .r = r, .repo = repo, .d = d, .n = n,
			   .parallel = parallel > 0 ? parallel : 1,
			   .window = window ? window : (8u << 20),
			   .stall_s = stall_s, .sink = sink };
	int ret;

	if (n == 0)
		return 0;
	f.multi = curl_multi_init();
	f.jobs = xcalloc(n, sizeof(*f.jobs));
	for (size_t i = 0; i < n; i++) {
		f.jobs[i].f = &f;
		f.jobs[i].i = i;
		f.jobs[i].md = EVP_MD_CTX_new();
		EVP_DigestInit_ex(f.jobs[i].md, EVP_sha256(), NULL);
	}
	ret = sink->begin(sink->ctx, 0) < 0 ? -1 : fetch_loop(&f);
	for (size_t i = 0; i < n; i++) {
		job_stop(&f.jobs[i]);
		curl_slist_free_all(f.jobs[i].hdrs);
		EVP_MD_CTX_free(f.jobs[i].md);
		sb_release(&f.jobs[i].buf);
	}
	free(f.jobs);
	curl_multi_cleanup(f.multi);
	return ret;
}
