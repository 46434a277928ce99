/*
 * fuzz.h - what the fuzz targets share: libFuzzer's entry point, a
 * NUL-terminated copy of the input, an invariant check that aborts (so
 * libFuzzer keeps the input), and one scratch directory per process for
 * the parsers that read files.  Every target is also built without
 * libFuzzer, linked with replay.c, to run saved inputs under gcc.
 */
#ifndef DM_FUZZ_H
#define DM_FUZZ_H

#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a finding like a crash: abort with the place. */
#define FUZZ_ASSERT(cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: invariant broken: %s\n", \
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* The input as a C string, cut at its first NUL (as argv and file names
 * would be). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	return xstrndup((const char *)data, size);
}

static inline int fuzz_rm_one(const char *path, const struct stat *st,
			      int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path);
}

static char fuzz_dir_path[256];

static inline void fuzz_rmtree(void)
{
	if (fuzz_dir_path[0])
		nftw(fuzz_dir_path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A private directory under $TMPDIR (else /dev/shm: files are written at
 * every input), made on first use and removed at exit; run.sh removes it
 * after a crash.  Files are rewritten in place, nothing accumulates. */
static inline const char *fuzz_dir(void)
{
	if (!fuzz_dir_path[0]) {
		const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR")
				: access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

		snprintf(fuzz_dir_path, sizeof(fuzz_dir_path),
			 "%s/dm-fuzz.XXXXXX", tmp);
		if (!mkdtemp(fuzz_dir_path)) {
			perror(fuzz_dir_path);
			abort();
		}
		atexit(fuzz_rmtree);
	}
	return fuzz_dir_path;
}

/* Write data to dir/rel (directories made as needed); abort on failure:
 * the harness, not the code under test, failed. */
static inline void fuzz_write(const char *dir, const char *rel,
			      const void *data, size_t n)
{
	char *path = xasprintf("%s/%s", dir, rel);
	FILE *f;

	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0700);
		*p = '/';
	}
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		abort();
	}
	free(path);
}

#endif
