/*
 * replay.c - run a fuzz target over saved inputs without libFuzzer, so
 * that the regression inputs can run in any build (gcc with ASan and
 * UBSan: build/fuzz/replay_<name>).  Arguments are files or directories
 * (their regular files, one level); each input is run once.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f) {
		perror(path);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_add(&sb, buf, n);
	fclose(f);
	/* a copy of exactly its size, so ASan sees reads past the end */
	{
		uint8_t *in = xmalloc(sb.len);

		if (sb.len)
			memcpy(in, sb.buf, sb.len);
		LLVMFuzzerTestOneInput(in, sb.len);
		free(in);
	}
	sb_release(&sb);
	return 0;
}

int main(int argc, char **argv)
{
	int runs = 0, failed = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;

		if (stat(argv[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
			failed |= run_file(argv[i]) < 0;
			runs++;
			continue;
		}
		if (!(d = opendir(argv[i]))) {
			perror(argv[i]);
			failed = 1;
			continue;
		}
		while ((de = readdir(d))) {
			char *p = xasprintf("%s/%s", argv[i], de->d_name);

			if (de->d_name[0] != '.' && stat(p, &st) == 0 &&
			    S_ISREG(st.st_mode)) {
				failed |= run_file(p) < 0;
				runs++;
			}
			free(p);
		}
		closedir(d);
	}
	printf("%s: %d input(s) replayed\n", argv[0], runs);
	return failed;
}
