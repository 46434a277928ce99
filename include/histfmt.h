/*
 * histfmt.h - "docker migrate history --format": table, json, or a
 * template in the manner of docker's Go templates (see histfmt.c).
 */
#ifndef DM_HISTFMT_H
#define DM_HISTFMT_H

#include <stdio.h>

#include "record.h"

enum histfmt_kind { HISTFMT_TEMPLATE, HISTFMT_TABLE, HISTFMT_JSON };

struct histfmt_part;

struct histfmt {
	enum histfmt_kind kind;
	struct histfmt_part *parts;	/* the template, parsed */
	size_t nparts;
};

/* Parse spec ("table", "json", "table TEMPLATE", "TEMPLATE"; NULL: the
 * default table); -1 with dm_error saying what is wrong. */
int histfmt_parse(const char *spec, struct histfmt *f);
/* Print the records in the order given (a table: a header, then columns
 * aligned; json: one array of the full records). */
void histfmt_print(const struct histfmt *f, const struct migration *m,
		   const size_t *order, size_t n, FILE *out);
void histfmt_release(struct histfmt *f);

/* One --filter KEY=VALUE; -1 with dm_error for an unknown key.  A record
 * matches when, for every key given, one of its values matches. */
int histfmt_filter_check(const char *kv);
int histfmt_filter_match(const struct migration *m, const char *const *kvs,
			 size_t n);

#endif
