/*
 * fuzz_stream.c - engine_stream_error over a JSON-lines progress stream,
 * the reply body of POST /images/load, /images/create and push, where an
 * engine that answered 200 reports failure inside the stream.  The input
 * is the stream, read only within its length (it is not NUL-terminated).
 * Invariants: a stream in which no line mentions "error is not an error;
 * an error's message starts with what was being done.
 */
#include <string.h>

#include "engine.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	int ret;

	dm_clear_error();
	ret = engine_stream_error(s, size, "/images/load");
	FUZZ_ASSERT(ret == 0 || ret == -1);
	if (ret < 0)
		FUZZ_ASSERT(dm_starts_with(dm_errmsg(), "/images/load: "));
	if (!memmem(s, size, "\"error", 6))
		FUZZ_ASSERT(ret == 0);
	return 0;
}
