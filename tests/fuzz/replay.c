/*
 * replay.c - run a fuzz target over corpus files without libFuzzer, so that
 * `make check` replays every corpus under gcc (and under ASan/UBSan in the
 * sanitizer build). Each file is copied into a buffer of exactly its size so
 * that an over-read is caught by ASan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

int
main(int argc, char **argv)
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		struct stat st;
		long len;
		uint8_t *buf;

		if (f == NULL) {
			perror(argv[i]);
			return 1;
		}
		/* A directory opens for reading too, and its "size" is no
		 * size at all: say so rather than allocate it. */
		if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
			fprintf(stderr,
				"%s: not a regular file (give the corpus's "
				"files, not its directory)\n",
				argv[i]);
			fclose(f);
			return 1;
		}
		if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
		    fseek(f, 0, SEEK_SET) != 0) {
			perror(argv[i]);
			fclose(f);
			return 1;
		}
		buf = malloc(len > 0 ? (size_t)len : 1);
		if (buf == NULL ||
		    fread(buf, 1, (size_t)len, f) != (size_t)len) {
			fprintf(stderr, "%s: read failed\n", argv[i]);
			fclose(f);
			free(buf);
			return 1;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		free(buf);
		n++;
	}
	printf("replayed %d input(s)\n", n);
	return 0;
}
