/*
 * fuzz_import_read.c - JSON Lines from a plain, gzip or zstd stream
 * (collector/import_read.c), whatever the bytes: no crash, no read past a
 * buffer, and every line returned holds no "\n", is at most the bound,
 * has no white space around it and a number past the last one's; the
 * read ends (EOF or an error) within as many calls as there are bytes
 * decoded, bounded here.
 *
 * The first byte picks the bound on a line (1 to 256 bytes, or 4 KiB) and
 * how many bytes each read gives (1 to 8, or all), so that lines and the
 * decoders' input cross every boundary; the rest is the stream.
 *
 * Linked from build/libcollector.a.
 */
#include <stdlib.h>
#include <string.h>

#include "../../collector/import_read.h"
#include "fuzz.h"

struct src {
	const uint8_t *p;
	size_t len, pos, chunk;
};

static ssize_t
src_read(void *arg, void *buf, size_t n)
{
	struct src *s = arg;

	if (n > s->chunk)
		n = s->chunk;
	if (n > s->len - s->pos)
		n = s->len - s->pos;
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	       c == '\v';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src s;
	struct import_reader *r;
	struct import_line l;
	enum import_status st = IMPORT_EOF;
	size_t max_line;
	uint64_t last = 0;
	char err[256];

	if (size < 1 || size > 1 << 20)
		return 0;
	max_line = (data[0] & 0x80) ? 4096 : (size_t)(data[0] & 0x7f) * 2 + 1;
	s = (struct src){data + 1, size - 1, 0,
			 (data[0] & 0x07) ? (size_t)(data[0] & 0x07) : size};
	r = import_reader_new(src_read, &s, max_line);
	/* a line per call at least: 64 MiB of lines of 1 byte is the most
	 * a 1 MiB input decodes to in practice */
	for (long i = 0; i < (1L << 26); i++) {
		st = import_reader_next(r, &l, err, sizeof(err));
		if (st == IMPORT_EOF || st == IMPORT_ERROR)
			break;
		if (l.line <= last)
			abort();
		last = l.line;
		if (st == IMPORT_TOO_LONG)
			continue;
		if (l.len == 0 || l.len > max_line ||
		    memchr(l.text, '\n', l.len) != NULL ||
		    is_space(l.text[0]) || is_space(l.text[l.len - 1]))
			abort();
	}
	if (st == IMPORT_ERROR &&
	    (err[0] == '\0' ||
	     import_reader_next(r, &l, err, sizeof(err)) != IMPORT_ERROR))
		abort();
	import_reader_free(r);
	return 0;
}
