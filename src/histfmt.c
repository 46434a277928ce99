/*
 * histfmt.c - what "docker migrate history" prints, as docker's own list
 * commands do: --format table (the default), json, or a template.  The
 * template is a subset of Go's text/template, the part docker users
 * write: {{.Field}} for a field of the record, {{json .}} for the whole
 * record on one line, {{json .Field}} for a field as a JSON string, and
 * the escapes \t and \n.  "table TEMPLATE" prints a header of the fields'
 * names and aligns the columns that tabs separate, as docker's tabwriter
 * does (3 spaces between).  Fields and filters are tables below.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dm.h"
#include "histfmt.h"
#include "json.h"

struct field {
	const char *name;	/* {{.Name}} */
	const char *header;	/* the table's header */
	void (*get)(const struct migration *m, struct strbuf *sb);
};

static void f_id(const struct migration *m, struct strbuf *sb)
{
	sb_addf(sb, "%s", m->id);
}

static void f_started(const struct migration *m, struct strbuf *sb)
{
	char when[32];
	time_t t = (time_t)m->started;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	sb_addf(sb, "%s", when);
}

#define STR_FIELD(fn, expr) \
	static void fn(const struct migration *m, struct strbuf *sb) \
	{ sb_addf(sb, "%s", (expr) ? (expr) : ""); }
STR_FIELD(f_status, m->status)
STR_FIELD(f_kind, m->kind)
STR_FIELD(f_object, m->object)
STR_FIELD(f_source, m->source)
STR_FIELD(f_dest, m->dest)
STR_FIELD(f_strategy, m->strategy)
STR_FIELD(f_step, m->failed_step)
STR_FIELD(f_reason, m->error)

static void f_time(const struct migration *m, struct strbuf *sb)
{
	sb_addf(sb, "%.2fs", (double)record_total_ms(m) / 1000.0);
}

static void f_sent(const struct migration *m, struct strbuf *sb)
{
	char hb[32];

	sb_addf(sb, "%s", dm_human_bytes(m->bytes, hb, sizeof(hb)));
}

static void f_downtime(const struct migration *m, struct strbuf *sb)
{
	if (m->downtime_ms >= 0)
		sb_addf(sb, "%lldms", (long long)m->downtime_ms);
}

/* a failure says where and why: the step, then the reason */
static void f_error(const struct migration *m, struct strbuf *sb)
{
	if (m->failed_step)
		sb_addf(sb, "%s: %s", m->failed_step,
			m->error ? m->error : "");
}

static const struct field fields[] = {
	{ "ID", "ID", f_id },
	{ "Started", "STARTED", f_started },
	{ "Status", "STATUS", f_status },
	{ "Kind", "KIND", f_kind },
	{ "Object", "OBJECT", f_object },
	{ "Source", "SOURCE", f_source },
	{ "Destination", "DESTINATION", f_dest },
	{ "Strategy", "STRATEGY", f_strategy },
	{ "Time", "TIME", f_time },
	{ "Sent", "SENT", f_sent },
	{ "Downtime", "DOWNTIME", f_downtime },
	{ "Step", "STEP", f_step },
	{ "Reason", "REASON", f_reason },
	{ "Error", "ERROR", f_error },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const char default_table[] =
	"table {{.ID}}\t{{.Started}}\t{{.Status}}\t{{.Kind}}\t{{.Object}}\t"
	"{{.Source}}\t{{.Destination}}\t{{.Strategy}}\t{{.Time}}\t{{.Sent}}\t"
	"{{.Error}}";

/* A part of a template: text, a field, or JSON (of a field, or of the
 * whole record when field is NULL). */
enum part_kind { PART_TEXT, PART_FIELD, PART_JSON };

struct histfmt_part {
	enum part_kind kind;
	char *text;
	const struct field *field;
};

static const struct field *find_field(const char *name, size_t len)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (strlen(fields[i].name) == len &&
		    strncmp(fields[i].name, name, len) == 0)
			return &fields[i];
	return NULL;
}

static void add_part(struct histfmt *f, enum part_kind kind, char *text,
		     const struct field *field)
{
	f->parts = xrealloc(f->parts, (f->nparts + 1) * sizeof(*f->parts));
	f->parts[f->nparts++] = (struct histfmt_part){ kind, text, field };
}

/* Literal text, its \t and \n made tabs and newlines (docker's shells
 * pass them as typed). */
static void add_text(struct histfmt *f, const char *s, size_t len)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len && (s[i + 1] == 't' ||
						    s[i + 1] == 'n')) {
			sb_addf(&sb, "%c", s[++i] == 't' ? '\t' : '\n');
			continue;
		}
		sb_addf(&sb, "%c", s[i]);
	}
	if (sb.len)
		add_part(f, PART_TEXT, sb_detach(&sb), NULL);
	sb_release(&sb);
}

static int field_names(struct strbuf *sb)
{
	for (size_t i = 0; i < NFIELDS; i++)
		sb_addf(sb, "%s.%s", i ? ", " : "", fields[i].name);
	return 0;
}

static int bad_action(const char *spec, const char *act, size_t len)
{
	struct strbuf sb = STRBUF_INIT;

	field_names(&sb);
	dm_error("invalid argument \"%s\" for \"--format\" flag: {{%.*s}} is "
		 "not {{.Field}}, {{json .}} or {{json .Field}}; the fields: "
		 "%s", spec, (int)len, act, sb_str(&sb));
	sb_release(&sb);
	return -1;
}

/* One action, between {{ and }}, spaces trimmed. */
static int parse_action(struct histfmt *f, const char *spec, const char *a,
			size_t len)
{
	const struct field *fd;

	while (len && *a == ' ')
		a++, len--;
	while (len && a[len - 1] == ' ')
		len--;
	if (len >= 5 && strncmp(a, "json ", 5) == 0) {
		const char *arg = a + 5;
		size_t alen = len - 5;

		while (alen && *arg == ' ')
			arg++, alen--;
		if (alen == 1 && *arg == '.') {
			add_part(f, PART_JSON, NULL, NULL);
			return 0;
		}
		if (alen > 1 && *arg == '.' &&
		    (fd = find_field(arg + 1, alen - 1))) {
			add_part(f, PART_JSON, NULL, fd);
			return 0;
		}
		return bad_action(spec, a, len);
	}
	if (len > 1 && *a == '.' && (fd = find_field(a + 1, len - 1))) {
		add_part(f, PART_FIELD, NULL, fd);
		return 0;
	}
	return bad_action(spec, a, len);
}

static int parse_template(struct histfmt *f, const char *spec, const char *t)
{
	while (*t) {
		const char *open = strstr(t, "{{"), *close;

		if (!open) {
			add_text(f, t, strlen(t));
			break;
		}
		add_text(f, t, (size_t)(open - t));
		close = strstr(open + 2, "}}");
		if (!close)
			return dm_error("invalid argument \"%s\" for \"--format\""
					" flag: a {{ without its }}", spec);
		if (parse_action(f, spec, open + 2,
				 (size_t)(close - open - 2)) < 0)
			return -1;
		t = close + 2;
	}
	return 0;
}

int histfmt_parse(const char *spec, struct histfmt *f)
{
	memset(f, 0, sizeof(*f));
	if (!spec || strcmp(spec, "table") == 0)
		spec = default_table;
	if (strcmp(spec, "json") == 0) {
		f->kind = HISTFMT_JSON;
		return 0;
	}
	if (strncmp(spec, "table ", 6) == 0) {
		f->kind = HISTFMT_TABLE;
		spec += 6;
	} else if (!strstr(spec, "{{")) {
		/* docker would print the text once a record: a typo, most
		 * likely ("yaml"), so said */
		return dm_error("invalid argument \"%s\" for \"--format\" flag: "
				"must be one of \"json\", \"table\" or a "
				"template (\"{{.ID}}\\t{{.Status}}\")",
				spec);
	}
	if (parse_template(f, spec, spec) < 0) {
		histfmt_release(f);
		return -1;
	}
	return 0;
}

void histfmt_release(struct histfmt *f)
{
	for (size_t i = 0; i < f->nparts; i++)
		free(f->parts[i].text);
	free(f->parts);
	f->parts = NULL;
	f->nparts = 0;
}

static void json_of(const struct histfmt_part *p, const struct migration *m,
		    struct strbuf *sb)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;

	if (p->field) {
		struct strbuf v = STRBUF_INIT;

		p->field->get(m, &v);
		json_gen_str(g, sb_str(&v));
		sb_release(&v);
	} else {
		record_gen(m, g);
	}
	yajl_gen_get_buf(g, &buf, &len);
	sb_add(sb, (const char *)buf, len);
	yajl_gen_free(g);
}

/* The template applied to one record (header: the fields' names). */
static void expand(const struct histfmt *f, const struct migration *m,
		   int header, struct strbuf *sb)
{
	for (size_t i = 0; i < f->nparts; i++) {
		const struct histfmt_part *p = &f->parts[i];

		if (p->kind == PART_TEXT)
			sb_addf(sb, "%s", p->text);
		else if (header)
			sb_addf(sb, "%s", p->field ? p->field->header : "RECORD");
		else if (p->kind == PART_FIELD)
			p->field->get(m, sb);
		else
			json_of(p, m, sb);
	}
}

/* Columns separated by tabs, aligned: each as wide as its widest cell,
 * then 3 spaces; the last of a line as it is. */
static void print_aligned(const char *text, FILE *out)
{
	size_t widths[64] = { 0 };
	const char *p;

	for (int pass = 0; pass < 2; pass++) {
		size_t col = 0, w = 0;

		for (p = text; *p; p++) {
			if (*p == '\t' && col < 63) {
				if (pass == 0 && w > widths[col])
					widths[col] = w;
				/* no padding before an empty last cell */
				if (pass == 1 && p[1] && p[1] != '\n')
					fprintf(out, "%*s", (int)(widths[col] -
								w + 3), "");
				col++;
				w = 0;
				continue;
			}
			if (*p == '\n') {
				col = 0;
				w = 0;
			} else if (((unsigned char)*p & 0xc0) != 0x80) {
				w++;	/* a character, not a byte */
			}
			if (pass == 1)
				fputc(*p, out);
		}
	}
}

void histfmt_print(const struct histfmt *f, const struct migration *m,
		   const size_t *order, size_t n, FILE *out)
{
	struct strbuf sb = STRBUF_INIT;

	if (f->kind == HISTFMT_JSON) {
		yajl_gen g = yajl_gen_alloc(NULL);
		const unsigned char *buf;
		size_t len;

		yajl_gen_config(g, yajl_gen_beautify, 1);
		yajl_gen_array_open(g);
		for (size_t i = 0; i < n; i++)
			record_gen(&m[order[i]], g);
		yajl_gen_array_close(g);
		yajl_gen_get_buf(g, &buf, &len);
		fwrite(buf, 1, len, out);
		yajl_gen_free(g);
		return;
	}
	if (f->kind == HISTFMT_TABLE) {
		expand(f, NULL, 1, &sb);
		sb_addf(&sb, "\n");
	}
	for (size_t i = 0; i < n; i++) {
		expand(f, &m[order[i]], 0, &sb);
		sb_addf(&sb, "\n");
	}
	if (f->kind == HISTFMT_TABLE)
		print_aligned(sb_str(&sb), out);
	else
		fputs(sb_str(&sb), out);
	sb_release(&sb);
}

/* --filter KEY=VALUE: by what a user knows of a move. */
static const struct {
	const char *key;
	void (*get)(const struct migration *m, struct strbuf *sb);
	int substring;		/* a part of the value matches */
} filters[] = {
	{ "status", f_status, 0 },
	{ "kind", f_kind, 0 },
	{ "object", f_object, 1 },
	{ "source", f_source, 1 },
	{ "dest", f_dest, 1 },
	{ "destination", f_dest, 1 },
	{ "id", f_id, 0 },	/* a prefix, below */
};
#define NFILTERS (sizeof(filters) / sizeof(filters[0]))

static int filter_index(const char *kv)
{
	const char *eq = strchr(kv, '=');

	for (size_t i = 0; eq && i < NFILTERS; i++)
		if (strlen(filters[i].key) == (size_t)(eq - kv) &&
		    strncmp(filters[i].key, kv, (size_t)(eq - kv)) == 0)
			return (int)i;
	return -1;
}

int histfmt_filter_check(const char *kv)
{
	if (filter_index(kv) >= 0)
		return 0;
	return dm_error("invalid argument \"%s\" for \"-f, --filter\" flag: "
			"KEY=VALUE with KEY one of status, kind, object, "
			"source, dest, id", kv);
}

static int one_matches(const struct migration *m, const char *kv)
{
	int i = filter_index(kv);
	const char *want = strchr(kv, '=') + 1;
	struct strbuf v = STRBUF_INIT;
	int ok;

	filters[i].get(m, &v);
	if (strcmp(filters[i].key, "id") == 0)
		ok = strncmp(sb_str(&v), want, strlen(want)) == 0;
	else if (filters[i].substring)
		ok = strstr(sb_str(&v), want) != NULL;
	else
		ok = strcmp(sb_str(&v), want) == 0;
	sb_release(&v);
	return ok;
}

int histfmt_filter_match(const struct migration *m, const char *const *kvs,
			 size_t n)
{
	for (size_t k = 0; k < NFILTERS; k++) {
		int given = 0, hit = 0;

		for (size_t i = 0; i < n; i++)
			if (filter_index(kvs[i]) == (int)k) {
				given = 1;
				hit |= one_matches(m, kvs[i]);
			}
		if (given && !hit)
			return 0;
	}
	return 1;
}
