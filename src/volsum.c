/*
 * volsum.c - a volume's tree digest computed where its data is: dm-helper
 * sum runs in the helper container at that engine and only its one-line
 * answer crosses the link, instead of the whole volume read back through
 * the archive endpoint (which doubled the bytes and the time of every
 * copy on a slow link).  Where dm-helper cannot run, the archive's
 * read-back stays (volstream.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "volstream.h"
#include "volume.h"

/* the answer is one short line; more is not dm-helper's */
#define SUM_ANSWER_MAX 256

static int keep_answer(void *ctx, const void *buf, size_t n)
{
	struct strbuf *sb = ctx;

	if (sb->len + n > SUM_ANSWER_MAX)
		return dm_error("dm-helper's digest answer is too long");
	sb_add(sb, buf, n);
	return 0;
}

int volsum_parse(const char *answer, char digest[65], size_t *entries)
{
	char hex[65];
	size_t n = 0;

	if (sscanf(answer, DMH_SUM_SCAN, hex, &n) != DMH_SUM_SCAN_N ||
	    strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64 || !n)
		return -1;
	memcpy(digest, hex, 65);
	if (entries)
		*entries = n;
	return 0;
}

int volsum_by_helper(struct engine *e, const char *helper, int xattrs_all,
		     char digest[65], size_t *entries)
{
	const char *argv[] = { DMH_PATH, DMH_VERB_SUM, DMH_MOUNT,
			       xattrs_all ? NULL : DMH_SUM_CAP, NULL };
	struct strbuf out = STRBUF_INIT;
	int64_t t0 = dm_now_ms();
	int ret;

	/* test hook, inert unless set: as on engines where it cannot run */
	if (getenv("DOCKER_MIGRATE_TEST_NO_HELPER") || !helper_can_run(e))
		return 1;
	/* a helper that runs already (a final pass's) answers 304: fine */
	ret = helper_start(e, helper);
	if (ret == 0)
		ret = helper_run(e, helper, argv, keep_answer, &out,
				 "computing the digest");
	if (ret == 0 && volsum_parse(sb_str(&out), digest, entries) < 0)
		ret = dm_error("dm-helper's digest on %s cannot be read: "
			       "\"%.80s\"", engine_name(e), sb_str(&out));
	sb_release(&out);
	if (ret < 0) {
		/* the archive's read-back still gives the answer */
		dm_debug("%s: reading the volume back instead", dm_errmsg());
		return 1;
	}
	dm_debug("tree digest by dm-helper on %s: %lld ms", engine_name(e),
		 (long long)(dm_now_ms() - t0));
	return 0;
}
