/*
 * fuzz_record.c - the migration records that "docker migrate history"
 * reads back (record_load_all).  They are written by this program, but
 * live in the user's config directory where anything can change them.
 * The input is one record file, migrate/history/<id>.json in a scratch
 * config directory; it is loaded and printed as the history command does.
 * Invariant: a record that loads has a kind, and at most
 * RECORD_MAX_PHASES phases.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	const char *cfg = fuzz_dir();
	struct migration *m;
	size_t n;
	int ret;

	if (!null && !(null = fopen("/dev/null", "w")))
		abort();
	fuzz_write(cfg, "migrate/history/0123456789abcdef.json", data, size);
	ret = record_load_all(cfg, &m, &n);
	FUZZ_ASSERT(ret == 0);
	FUZZ_ASSERT(n <= 1);
	for (size_t i = 0; i < n; i++) {
		FUZZ_ASSERT(m[i].kind);
		FUZZ_ASSERT(m[i].nphases >= 0 &&
			    m[i].nphases <= RECORD_MAX_PHASES);
		record_report(&m[i], null);
		record_release(&m[i]);
	}
	free(m);
	return 0;
}
