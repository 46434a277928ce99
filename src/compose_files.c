/*
 * compose_files.c - carry a Compose project's files (see compose_files.h).
 * Compose reads its files where the docker CLI runs, and this plugin runs
 * there too: the files are read here, whatever engine the source is, and
 * written at the destination host over the move's SSH link.  A file the
 * destination has already is left as it is: it may be the same file on a
 * shared disk, or one the user keeps there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose_files.h"
#include "dm.h"
#include "json.h"
#include "project.h"
#include "record.h"
#include "sshlink.h"
#include "undo.h"

/* Larger than any compose file: the content travels in one command. */
#define COMPOSE_FILE_MAX (64 * 1024)

static int read_small(const char *path, struct strbuf *out)
{
	FILE *f = fopen(path, "rb");
	char buf[4096];
	size_t n;

	if (!f)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0 &&
	       out->len + n <= COMPOSE_FILE_MAX)
		sb_add(out, buf, n);
	n = !feof(f) || ferror(f);
	fclose(f);
	return n ? -2 : 0;
}

/* "" when path is there; else the topmost of it and its parents that is
 * missing (what a rollback removes). */
static int missing_top(struct sshlink *link, const char *path, char **top)
{
	char *q = sh_quote(path);
	char *cmd = xasprintf("p=%s; if [ -e \"$p\" ]; then printf E; else "
			      "t=$p; while [ ! -e \"$(dirname -- \"$t\")\" ]; "
			      "do t=$(dirname -- \"$t\"); done; printf 'M%%s' "
			      "\"$t\"; fi", q);
	struct strbuf out = STRBUF_INIT;
	int r = sshlink_run(link, cmd, &out, 1 << 16);

	free(cmd);
	free(q);
	if (r == 0 && out.len && out.buf[0] == 'M')
		*top = xstrdup(sb_str(&out) + 1);
	else if (r == 0 && !(out.len == 1 && out.buf[0] == 'E'))
		r = dm_error("cannot tell whether %s exists at the destination",
			     path);
	sb_release(&out);
	return r;
}

static int write_there(struct sshlink *link, const char *path,
		       struct strbuf *content)
{
	char *qp = sh_quote(path), *qc = sh_quote(sb_str(content));
	char *cmd = xasprintf("p=%s; mkdir -p -- \"$(dirname -- \"$p\")\" && "
			      "printf '%%s' %s >\"$p\" && printf OK", qp, qc);
	struct strbuf out = STRBUF_INIT;
	int r = sshlink_run(link, cmd, &out, 64);

	if (r == 0 && strcmp(sb_str(&out), "OK") != 0)
		r = dm_error("cannot write %s at the destination", path);
	free(cmd);
	free(qp);
	free(qc);
	sb_release(&out);
	return r;
}

static int carry_one(const char *path, struct sshlink *link, const char *dest,
		     struct migration *rec)
{
	struct strbuf content = STRBUF_INIT;
	char *top = NULL;
	int r = read_small(path, &content);

	if (r < 0) {
		if (r == -2)
			dm_warn("%s is larger than %d kB: not carried to %s",
				path, COMPOSE_FILE_MAX / 1024, dest);
		else if (errno != ENOENT)
			dm_warn("cannot read %s: not carried to %s", path, dest);
		sb_release(&content);
		return 0;	/* not here: where compose ran is elsewhere */
	}
	r = missing_top(link, path, &top);
	if (r == 0 && top && !rec)
		printf("  compose file %s: carried to %s\n", path, dest);
	else if (r == 0 && top) {
		r = record_undo_push(rec, UNDO_DIR, UNDO_DEST, top, NULL);
		if (r == 0)
			r = write_there(link, path, &content);
		if (r == 0)
			fprintf(stderr, "Compose file %s carried to %s\n", path,
				dest);
	} else if (r == 0 && !rec) {
		printf("  compose file %s: at %s already\n", path, dest);
	}
	free(top);
	sb_release(&content);
	return r;
}

int compose_files_carry(yajl_val ins, struct sshlink *link, const char *dest,
			struct migration *rec)
{
	yajl_val labels = json_get(ins, "Config", "Labels", NULL);
	const char *files = json_str(labels, COMPOSE_FILES_LABEL, NULL);
	const char *wd = json_str(labels, COMPOSE_WORKDIR_LABEL, NULL);
	const char *p = files;
	int r = 0;

	if (!link)
		return 0;
	/* absolute paths only: a relative one says nothing of where */
	while (r == 0 && p && *p) {
		size_t n = strcspn(p, ",");
		char *path = xstrndup(p, n);

		if (path[0] == '/')
			r = carry_one(path, link, dest, rec);
		free(path);
		p += n + (p[n] == ',');
	}
	if (r == 0 && wd && wd[0] == '/') {
		char *env = xasprintf("%s/.env", wd);

		r = carry_one(env, link, dest, rec);
		free(env);
	}
	return r < 0 ? dm_error_wrap("carrying the Compose files") : 0;
}
