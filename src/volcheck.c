/*
 * volcheck.c - what both ways of checking a final pass share (see
 * volsync.h): whether it can be checked without reading the whole tree
 * back, and which of its entries to stat and which to read back.  How
 * they are stat'ed and read is each implementation's.
 */
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "volcheck.h"

int volcheck_under(const char *name, const struct strlist *roots)
{
	for (size_t i = 0; i < roots->n; i++) {
		size_t n = strlen(roots->v[i]);

		if (strncmp(name, roots->v[i], n) == 0 &&
		    (name[n] == '\0' || name[n] == '/'))
			return 1;
	}
	return 0;
}

int volcheck_differs(const char *name, const char *how)
{
	return dm_error("entry \"%s\" differs at the destination after the "
			"final pass (%s)", name[0] ? name : ".", how);
}

int volcheck_possible(const struct volsnap *snap)
{
	const struct treesum *now = snap ? snap->now : NULL;
	const struct treesum *before = snap ? snap->dest : NULL;

	if (!now || !before)
		return 0;
	for (size_t i = 0; i < treesum_entries(before); i++)
		if (!treesum_find(now, treesum_at(before, i)->name) &&
		    !(snap->by_exec && volcheck_under(treesum_at(before, i)->name,
						      &snap->gone)))
			return 0;	/* deleted at the source, not here */
	return 1;
}

/* A directory sent again for its attributes only: its owners and xattrs
 * are as the read-back found them, so a stat of the rest is enough. */
static int attributes_only(const struct tree_entry *e,
			   const struct tree_entry *b)
{
	return e->type == '5' && b && b->type == '5' && b->uid == e->uid &&
	       b->gid == e->gid && strcmp(b->xattrs, e->xattrs) == 0;
}

int volcheck_plan(const struct volsnap *snap, int stat_only,
		  struct volcheck *p)
{
	const struct treesum *now = snap->now, *before = snap->dest;
	int ret = 0;

	memset(p, 0, sizeof(*p));
	p->t0 = dm_now_ms();
	p->dirs = xcalloc(treesum_entries(now) + 1, sizeof(*p->dirs));
	for (size_t i = 0; i < treesum_entries(now) && ret == 0; i++) {
		const struct tree_entry *e = treesum_at(now, i);
		const struct tree_entry *b = treesum_find(before, e->name);

		p->size += e->size;
		if (!e->sent) {
			/* left out as unchanged: the read-back must agree */
			if (!b || !tree_entry_equal(e, b))
				ret = volcheck_differs(e->name, "changed at the "
						       "source but not sent");
		} else if (e->linked) {
			ret = 1;	/* a group of hard links: read it all */
		} else if (volcheck_under(e->name, &p->roots)) {
			continue;
		} else if (stat_only || attributes_only(e, b)) {
			p->dirs[p->ndirs++] = e;
		} else if (!e->name[0]) {
			ret = 1;	/* the root's owner changed: read it all */
		} else {
			strlist_add(&p->roots, e->name);
		}
	}
	return ret;
}

void volcheck_report(const struct volcheck *p, int ret, int64_t t1)
{
	dm_debug("final pass: %zu stat(s) and %zu read(s) back%s (%lld + %lld "
		 "ms)", p->ndirs, p->roots.n, ret == 1 ? " would cost more than "
		 "reading the whole tree: reading it" : "",
		 (long long)(t1 - p->t0), (long long)(dm_now_ms() - t1));
}

void volcheck_release(struct volcheck *p)
{
	strlist_clear(&p->roots);
	free(p->dirs);
}
