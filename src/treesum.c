/*
 * treesum.c - the digest of a directory tree read from a tar stream (see
 * treesum.h).  Both ends of a volume copy produce their tar in their own
 * readdir order, and a hard-linked group may be stored from any of its
 * names: the digest is built from sorted, canonical entries so that equal
 * trees give equal digests, whatever the order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dm.h"
#include "dmh_proto.h"	/* the digest's form, dm-helper's sum too */
#include "tar.h"
#include "treesum.h"

#define entry tree_entry

struct treesum {
	struct entry *e;
	size_t n, cap;
	EVP_MD_CTX *md;
	int open;
	char *parent;	/* NULL: names begin with the volume's "v/" */
	int final;
};

struct treesum *treesum_new(void)
{
	struct treesum *t = xcalloc(1, sizeof(*t));

	t->md = EVP_MD_CTX_new();
	return t;
}

struct treesum *treesum_new_at(const char *parent)
{
	struct treesum *t = treesum_new();

	t->parent = xstrdup(parent);
	return t;
}

void treesum_free(struct treesum *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->e[i].name);
		free(t->e[i].link);
		free(t->e[i].xattrs);
	}
	free(t->e);
	free(t->parent);
	EVP_MD_CTX_free(t->md);
	free(t);
}

size_t treesum_entries(const struct treesum *t)
{
	return t->n;
}

/* "v/a/b" -> "a/b", "v/" -> "": names relative to the volume's root;
 * read below it, "b/c" under parent "a" -> "a/b/c" */
static char *relative(const struct treesum *t, const char *name)
{
	const char *p = name;

	if (p[0] == '.' && p[1] == '/')
		p += 2;
	if (t->parent)
		return t->parent[0] ? xasprintf("%s/%s", t->parent, p)
				    : xstrdup(p);
	p = strchr(p, '/') ? strchr(p, '/') + 1 : "";
	return xstrdup(p);
}

static char *strip_slash(char *s)
{
	size_t n = strlen(s);

	while (n && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

void treesum_member(struct treesum *t, const struct tar_member *m)
{
	struct entry *e;

	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->e = xrealloc(t->e, t->cap * sizeof(*t->e));
	}
	e = &t->e[t->n++];
	memset(e, 0, sizeof(*e));
	e->name = strip_slash(relative(t, m->name));
	e->type = m->type == '7' ? '0' : m->type;
	e->mode = m->mode & 07777;
	e->uid = m->uid;
	e->gid = m->gid;
	e->size = m->type == '0' || m->type == '7' ? m->size : 0;
	e->mtime = m->mtime;
	e->link = m->type == '1' ? strip_slash(relative(t, m->linkname))
				 : xstrdup(m->type == '2' ? m->linkname : "");
	e->xattrs = xstrdup(m->xattrs ? m->xattrs : "");
	EVP_DigestInit_ex(t->md, EVP_sha256(), NULL);
	t->open = 1;
}

void treesum_add(struct treesum *t, const struct tree_entry *from)
{
	struct entry *e;

	treesum_end(t);
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->e = xrealloc(t->e, t->cap * sizeof(*t->e));
	}
	e = &t->e[t->n++];
	*e = *from;
	e->name = xstrdup(from->name);
	e->link = xstrdup(from->link);
	e->xattrs = xstrdup(from->xattrs);
	e->sent = 0;
}

void treesum_data(struct treesum *t, const void *buf, size_t n)
{
	if (t->open)
		EVP_DigestUpdate(t->md, buf, n);
}

void treesum_mark_sent(struct treesum *t)
{
	if (t->n)
		t->e[t->n - 1].sent = 1;
}

void treesum_end(struct treesum *t)
{
	unsigned int len = 0;

	if (!t->open)
		return;
	EVP_DigestFinal_ex(t->md, t->e[t->n - 1].sha, &len);
	t->open = 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name,
		      ((const struct entry *)b)->name);
}

/* A hard link takes its target's content and attributes; both are marked
 * as linked, so the digest does not depend on which name came first. */
static void fold_links(struct treesum *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct entry key = { .name = t->e[i].link }, *target;

		if (t->e[i].type != '1')
			continue;
		target = t->n ? bsearch(&key, t->e, t->n, sizeof(*t->e), by_name)
			      : NULL;
		t->e[i].type = '0';
		t->e[i].linked = 1;
		free(t->e[i].link);
		t->e[i].link = xstrdup("");
		if (!target)
			continue;
		target->linked = 1;
		t->e[i].size = target->size;
		t->e[i].mode = target->mode;
		t->e[i].uid = target->uid;
		t->e[i].gid = target->gid;
		t->e[i].mtime = target->mtime;
		{	/* a link to itself: target is this entry */
			char *x = xstrdup(target->xattrs);

			free(t->e[i].xattrs);
			t->e[i].xattrs = x;
		}
		memcpy(t->e[i].sha, target->sha, sizeof(target->sha));
	}
}

void treesum_final(struct treesum *t, char hex[65])
{
	unsigned char md[32];
	unsigned int len = 0;

	treesum_end(t);
	if (!t->final) {
		if (t->n)
			qsort(t->e, t->n, sizeof(*t->e), by_name);
		fold_links(t);
		t->final = 1;
	}
	EVP_DigestInit_ex(t->md, EVP_sha256(), NULL);
	for (size_t i = 0; i < t->n; i++) {
		const struct entry *e = &t->e[i];
		char head[256];
		int n;

		/* directories' mtimes change as entries are created in them;
		 * the extraction restores them, so they are compared too */
		n = snprintf(head, sizeof(head), DMH_SUM_HEAD,
			     e->type, (unsigned long long)e->mode,
			     (unsigned long long)e->uid, (unsigned long long)e->gid,
			     (unsigned long long)e->size,
			     (unsigned long long)e->mtime, e->linked);
		EVP_DigestUpdate(t->md, e->name, strlen(e->name) + 1);
		EVP_DigestUpdate(t->md, head, (size_t)n);
		EVP_DigestUpdate(t->md, e->link, strlen(e->link) + 1);
		/* what the archive carries of extended attributes (pax
		 * SCHILY.xattr records: security.capability on dockerd 20.10) */
		EVP_DigestUpdate(t->md, e->xattrs, strlen(e->xattrs) + 1);
		if (e->type == '0')
			EVP_DigestUpdate(t->md, e->sha, sizeof(e->sha));
	}
	EVP_DigestFinal_ex(t->md, md, &len);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

void treesum_refinal(struct treesum *t, char hex[65])
{
	t->final = 0;	/* what fold_links did stays done */
	treesum_final(t, hex);
}

const struct tree_entry *treesum_at(const struct treesum *t, size_t i)
{
	return i < t->n ? &t->e[i] : NULL;
}

const struct tree_entry *treesum_find(const struct treesum *t,
				      const char *name)
{
	struct entry key = { .name = (char *)name };

	return t->n ? bsearch(&key, t->e, t->n, sizeof(*t->e), by_name) : NULL;
}

int tree_entry_equal(const struct tree_entry *a, const struct tree_entry *b)
{
	return a->type == b->type && a->mode == b->mode && a->uid == b->uid &&
	       a->gid == b->gid && a->size == b->size && a->mtime == b->mtime &&
	       a->linked == b->linked && strcmp(a->name, b->name) == 0 &&
	       strcmp(a->link, b->link) == 0 &&
	       strcmp(a->xattrs, b->xattrs) == 0 &&
	       (a->type != '0' || memcmp(a->sha, b->sha, sizeof(a->sha)) == 0);
}
