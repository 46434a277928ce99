/*
 * tar.c - the streaming tar filter (see tar.h).  A state machine over
 * 512-byte blocks: a header block (possibly preceded by GNU 'L' or pax
 * 'x' extension members that carry a long name), then the member's data,
 * then padding to the block size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tar.h"

#define BLK 512

void tar_filter_init(struct tar_filter *f)
{
	memset(f, 0, sizeof(*f));
	if (!f->capture_max)
		f->capture_max = 16u << 20;
}

void tar_filter_release(struct tar_filter *f)
{
	sb_release(&f->ext);
	sb_release(&f->ext_data);
	sb_release(&f->cap);
	free(f->longname);
	free(f->longlink);
	free(f->link);
	free(f->name);
	free(f->xattrs);
	free(f->cur_xattrs);
	f->longname = f->name = f->longlink = f->link = NULL;
	f->xattrs = f->cur_xattrs = NULL;
}

int tar_number(const unsigned char *field, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (field[0] & 0x80) {	/* base-256, GNU: big sizes */
		if (field[0] != 0x80)
			return -1;	/* negative or too large */
		for (i = 1; i < len; i++) {
			if (v >> 56)
				return -1;
			v = (v << 8) | field[i];
		}
		*out = v;
		return 0;
	}
	while (i < len && field[i] == ' ')
		i++;
	for (; i < len && field[i] >= '0' && field[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = (v << 3) | (uint64_t)(field[i] - '0');
	}
	if (i < len && field[i] != ' ' && field[i] != '\0')
		return -1;
	*out = v;
	return 0;
}

static int checksum_ok(const unsigned char *b)
{
	uint64_t want;
	unsigned long sum = 0;

	if (tar_number(b + 148, 8, &want) < 0)
		return 0;
	for (int i = 0; i < BLK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : b[i];
	return sum == want;
}

static int is_zero(const unsigned char *b)
{
	for (int i = 0; i < BLK; i++)
		if (b[i])
			return 0;
	return 1;
}

static int emit(struct tar_filter *f, const void *buf, size_t n)
{
	if (f->action != TAR_FORWARD || !f->out || !n)
		return 0;
	return f->out(f->ctx, buf, n);
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct xattr_list {
	char **v;
	size_t n;
};

/* "SCHILY.xattr.NAME=VALUE" records as "NAME=HEX\n" lines, sorted. */
static void pax_xattrs(struct tar_filter *f, struct xattr_list *l)
{
	struct strbuf sb = STRBUF_INIT;

	if (!l->n)
		return;
	qsort(l->v, l->n, sizeof(*l->v), by_str);
	for (size_t i = 0; i < l->n; i++)
		sb_addf(&sb, "%s\n", l->v[i]);
	free(f->xattrs);
	f->xattrs = xstrdup(sb_str(&sb));
	sb_release(&sb);
}

static void add_xattr(struct xattr_list *l, const char *kv, size_t len)
{
	const char *eq = memchr(kv, '=', len);
	struct strbuf sb = STRBUF_INIT;

	if (!eq)
		return;
	sb_add(&sb, kv, (size_t)(eq - kv) + 1);
	for (const char *c = eq + 1; c < kv + len; c++)
		sb_addf(&sb, "%02x", (unsigned char)*c);
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = xstrdup(sb_str(&sb));
	sb_release(&sb);
}

/* "path=..." of a pax extended header ("LEN key=value\n" records), and
 * the extended attributes it carries. */
static void pax_path(struct tar_filter *f)
{
	const char *p = sb_str(&f->ext_data), *end = p + f->ext_data.len;
	struct xattr_list xa = { 0 };

	while (p < end) {
		char *sp;
		unsigned long len = strtoul(p, &sp, 10);
		const char *rec = p;

		if (!len || sp >= end || *sp != ' ' || len > (size_t)(end - p))
			break;
		sp++;
		if ((size_t)(sp - rec) >= len)
			break;	/* a length shorter than its own digits */
		if ((size_t)(rec + len - sp) > 5 && strncmp(sp, "path=", 5) == 0) {
			free(f->longname);
			f->longname = xstrndup(sp + 5, (size_t)(rec + len - sp - 6));
		} else if ((size_t)(rec + len - sp) > 9 &&
			   strncmp(sp, "linkpath=", 9) == 0) {
			free(f->longlink);
			f->longlink = xstrndup(sp + 9, (size_t)(rec + len - sp - 10));
		} else if ((size_t)(rec + len - sp) > 13 &&
			   strncmp(sp, "SCHILY.xattr.", 13) == 0) {
			add_xattr(&xa, sp + 13, (size_t)(rec + len - sp - 14));
		}
		p = rec + len;
	}
	pax_xattrs(f, &xa);
	for (size_t i = 0; i < xa.n; i++)
		free(xa.v[i]);
	free(xa.v);
}

static int start_member(struct tar_filter *f)
{
	const unsigned char *b = f->blk;
	struct tar_member m;
	uint64_t size;
	char type = (char)b[156];

	if (!checksum_ok(b))
		return dm_error("corrupt tar stream: bad header checksum");
	if (tar_number(b + 124, 12, &size) < 0)
		return dm_error("corrupt tar stream: bad member size");
	f->remain = size;
	f->pad = (BLK - size % BLK) % BLK;
	if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
		if (size > (1u << 20))
			return dm_error("corrupt tar stream: extension header "
					"of %llu bytes", (unsigned long long)size);
		/* held back: forwarded with the member it describes; a run
		 * of them with no member is not an archive we take */
		if (f->ext.len > (2u << 20))
			return dm_error("corrupt tar stream: extension headers "
					"without a member");
		sb_add(&f->ext, b, BLK);
		f->ext_kind = type;
		sb_release(&f->ext_data);
		f->action = TAR_CAPTURE;
		free(f->name);
		f->name = NULL;
		return 0;
	}
	free(f->name);
	if (f->longname) {
		f->name = f->longname;
		f->longname = NULL;
	} else {
		char prefix[156] = { 0 }, name[101] = { 0 };

		memcpy(name, b, 100);
		if (memcmp(b + 257, "ustar", 5) == 0)
			memcpy(prefix, b + 345, 155);
		f->name = prefix[0] ? xasprintf("%s/%s", prefix, name)
				    : xstrdup(name);
	}
	free(f->link);
	if (f->longlink) {
		f->link = f->longlink;
		f->longlink = NULL;
	} else {
		char link[101] = { 0 };

		memcpy(link, b + 157, 100);
		f->link = xstrdup(link);
	}
	f->ext_kind = 0;
	free(f->cur_xattrs);
	f->cur_xattrs = f->xattrs;
	f->xattrs = NULL;
	m.xattrs = f->cur_xattrs;
	m.name = f->name;
	m.size = size;
	m.type = type ? type : '0';
	m.linkname = f->link;
	m.mode = m.uid = m.gid = m.mtime = 0;
	if (tar_number(b + 100, 8, &m.mode) < 0 ||
	    tar_number(b + 108, 8, &m.uid) < 0 ||
	    tar_number(b + 116, 8, &m.gid) < 0 ||
	    tar_number(b + 136, 12, &m.mtime) < 0)
		return dm_error("corrupt tar stream: bad header of %s", f->name);
	f->action = f->member ? f->member(f->ctx, &m) : TAR_FORWARD;
	if (f->action == TAR_CAPTURE && size > f->capture_max)
		return dm_error("tar member %s is too large (%llu bytes)",
				f->name, (unsigned long long)size);
	sb_release(&f->cap);
	if (emit(f, f->ext.buf, f->ext.len) < 0 || emit(f, b, BLK) < 0)
		return -1;
	sb_release(&f->ext);
	return 0;
}

static int end_member(struct tar_filter *f)
{
	if (f->ext_kind) {
		if (f->ext_kind == 'L') {
			free(f->longname);
			f->longname = xstrndup(sb_str(&f->ext_data),
					       f->ext_data.len);
		} else if (f->ext_kind == 'K') {
			free(f->longlink);
			f->longlink = xstrndup(sb_str(&f->ext_data),
					       f->ext_data.len);
		} else if (f->ext_kind == 'x') {
			pax_path(f);
		}
		sb_release(&f->ext_data);
		f->ext_kind = 0;
		return 0;
	}
	if (f->member_end && f->member_end(f->ctx) < 0)
		return -1;
	if (f->action == TAR_CAPTURE && f->captured)
		return f->captured(f->ctx, f->name, sb_str(&f->cap), f->cap.len);
	return 0;
}

/* Data or padding of the current member. */
static size_t member_bytes(struct tar_filter *f, const unsigned char *p,
			   size_t n, int *err)
{
	size_t take;

	if (f->remain) {
		take = n < f->remain ? n : (size_t)f->remain;
		if (f->ext_kind)
			sb_add(&f->ext, p, take), sb_add(&f->ext_data, p, take);
		else if (f->data && f->data(f->ctx, p, take) < 0)
			*err = 1;
		else if (f->action == TAR_CAPTURE)
			sb_add(&f->cap, p, take);
		else if (emit(f, p, take) < 0)
			*err = 1;
		f->remain -= take;
		if (!f->remain && !f->pad && end_member(f) < 0)
			*err = 1;
		return take;
	}
	take = n < f->pad ? n : (size_t)f->pad;
	if (f->ext_kind)
		sb_add(&f->ext, p, take);
	else if (emit(f, p, take) < 0)
		*err = 1;
	f->pad -= take;
	if (!f->pad && end_member(f) < 0)
		*err = 1;
	return take;
}

int tar_filter_feed(struct tar_filter *f, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	int err = 0;

	while (n && !err) {
		size_t take;

		if (f->done)
			return 0;	/* trailing bytes after the end: ignored */
		if (f->remain || f->pad) {
			take = member_bytes(f, p, n, &err);
			p += take;
			n -= take;
			continue;
		}
		take = BLK - f->blk_len < n ? BLK - f->blk_len : n;
		memcpy(f->blk + f->blk_len, p, take);
		f->blk_len += take;
		p += take;
		n -= take;
		if (f->blk_len < BLK)
			break;
		f->blk_len = 0;
		if (is_zero(f->blk)) {
			if (++f->zero_blocks == 2)
				f->done = 1;
			continue;
		}
		if (f->zero_blocks)
			return dm_error("corrupt tar stream: data after an "
					"empty block");
		if (start_member(f) < 0)
			return -1;
		if (!f->remain && !f->pad && end_member(f) < 0)
			return -1;
	}
	return err ? -1 : 0;
}

int tar_filter_finish(struct tar_filter *f)
{
	static const unsigned char zeros[2 * BLK];

	if (f->remain || f->pad || f->blk_len || f->ext.len)
		return dm_error("the tar stream ended inside a member");
	if (!f->done && f->zero_blocks == 0 && !f->name)
		return dm_error("the tar stream is empty");
	if (f->out) {
		f->action = TAR_FORWARD;
		return f->out(f->ctx, zeros, sizeof(zeros));
	}
	return 0;
}

void tar_header(unsigned char blk[512], const char *name, uint64_t size,
		unsigned mode, char type)
{
	unsigned long sum = 0;

	memset(blk, 0, BLK);
	snprintf((char *)blk, 100, "%s", name);
	snprintf((char *)blk + 100, 8, "%07o", mode & 07777);
	snprintf((char *)blk + 108, 8, "%07o", 0);
	snprintf((char *)blk + 116, 8, "%07o", 0);
	if (size < (1ULL << 33)) {
		snprintf((char *)blk + 124, 12, "%011llo",
			 (unsigned long long)size);
	} else {	/* GNU base-256: a layer of 8 GiB or more */
		blk[124] = 0x80;
		for (int i = 0; i < 8; i++)
			blk[135 - i] = (unsigned char)(size >> (8 * i));
	}
	snprintf((char *)blk + 136, 12, "%011o", 0);
	blk[156] = (unsigned char)type;
	memcpy(blk + 257, "ustar", 6);
	memcpy(blk + 263, "00", 2);
	memset(blk + 148, ' ', 8);
	for (int i = 0; i < BLK; i++)
		sum += blk[i];
	snprintf((char *)blk + 148, 8, "%06lo", sum);
	blk[155] = ' ';
}
