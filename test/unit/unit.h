/*
 * unit.h - helpers shared by the cmocka unit tests: scratch directories
 * that leave nothing behind, small file I/O, fixtures, and lookups in
 * the JSON that the code under test produces.
 */
#ifndef DM_UNIT_H
#define DM_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dm.h"
#include "opt.h"

/* A fresh 0700 directory under /tmp; remove it with unit_rmtree(). */
static inline char *unit_mkdtemp(void)
{
	char *dir = xstrdup("/tmp/dm-unit-XXXXXX");

	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0700), 0);
	return dir;
}

static inline int unit_rm_one(const char *path, const struct stat *st,
			      int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void unit_rmtree(char *dir)
{
	if (!dir)
		return;
	/* only what unit_mkdtemp made: never a path from elsewhere */
	assert_true(strncmp(dir, "/tmp/dm-unit-", 13) == 0);
	nftw(dir, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* mkdir -p, 0700. */
static inline void unit_mkdirs(const char *path)
{
	char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(p, 0700);
		*s = '/';
	}
	mkdir(p, 0700);
	free(p);
}

/* Write text to dir/rel, creating the directories in between. */
static inline char *unit_write(const char *dir, const char *rel,
			       const char *text)
{
	char *path = xasprintf("%s/%s", dir, rel);
	char *slash = strrchr(path, '/');
	FILE *f;

	*slash = '\0';
	unit_mkdirs(path);
	*slash = '/';
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* A whole file as a string (NULL when it cannot be read). */
static inline char *unit_slurp(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_add(&sb, buf, n);
	fclose(f);
	return sb_detach(&sb);
}

/*
 * The fixtures live next to the test sources.  __FILE__ is the path the
 * compiler was given ("test/unit/test_x.c" from the top of the tree);
 * DM_UNIT_FIXTURES overrides it when the tests run from elsewhere.
 */
static inline char *unit_fixture(const char *name)
{
	const char *env = getenv("DM_UNIT_FIXTURES");
	char *dir, *slash, *path, *text;

	if (env && *env) {
		dir = xstrdup(env);
	} else {
		dir = xstrdup(__FILE__);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		else
			strcpy(dir, ".");
		path = xasprintf("%s/fixtures", dir);
		free(dir);
		dir = path;
	}
	path = xasprintf("%s/%s", dir, name);
	text = unit_slurp(path);
	if (!text)
		fail_msg("cannot read fixture %s (set DM_UNIT_FIXTURES)", path);
	free(path);
	free(dir);
	return text;
}

/* Does any entry of l contain needle? */
static inline int unit_list_has(const struct strlist *l, const char *needle)
{
	for (size_t i = 0; i < l->n; i++)
		if (strstr(l->v[i], needle))
			return 1;
	return 0;
}

/* assert that haystack contains needle, printing both when it does not */
#define assert_contains(haystack, needle) do {				\
	const char *h_ = (haystack), *n_ = (needle);			\
	if (!h_ || !strstr(h_, n_))					\
		fail_msg("\"%s\" does not contain \"%s\"",		\
			 h_ ? h_ : "(null)", n_);			\
} while (0)

#define assert_not_contains(haystack, needle) do {			\
	const char *h_ = (haystack), *n_ = (needle);			\
	if (h_ && strstr(h_, n_))					\
		fail_msg("\"%s\" contains \"%s\"", h_, n_);		\
} while (0)

#endif
