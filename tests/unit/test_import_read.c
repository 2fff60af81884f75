/*
 * test_import_read.c - JSON Lines read a line at a time from plain, gzip
 * and zstd streams (collector/import_read.c): the same lines and line
 * numbers whatever the compression and however the source cuts its reads
 * (1 byte at a time to 64 KiB); blank lines, CRLF and a last line without
 * "\n"; several gzip members and zstd frames one after the other (a line
 * may span two); a truncated or corrupt stream and bytes after the last
 * gzip member end in an error once the lines before them were returned;
 * a line over the bound is skipped whole and the next ones read; a read
 * error is named.
 *
 * Linked from build/libcollector.a.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include "../../collector/import_read.h"

/* A source over memory, chunk bytes per read at most. */
struct mem {
	const unsigned char *p;
	size_t len, pos, chunk;
	int fail_at; /* a read error once pos reaches it (-1: never) */
};

static ssize_t
mem_read(void *arg, void *buf, size_t n)
{
	struct mem *m = arg;

	if (m->fail_at >= 0 && m->pos >= (size_t)m->fail_at) {
		errno = EIO;
		return -1;
	}
	if (n > m->chunk)
		n = m->chunk;
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

/* What a whole read gave: the lines joined by "|" with their numbers
 * ("3:abc|5:def"), "L<n>" for a line too long, and at the end "EOF" or
 * "ERR:<message>". */
struct outcome {
	char text[1 << 18];
	size_t at;
	enum import_format fmt;
	uint64_t bytes_in;
};

static void
put(struct outcome *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	o->at += (size_t)vsnprintf(o->text + o->at, sizeof(o->text) - o->at,
				   fmt, ap);
	va_end(ap);
	assert_true(o->at < sizeof(o->text));
}

static void
read_all(const void *p, size_t len, size_t chunk, size_t max_line,
	 struct outcome *o)
{
	struct mem m = {p, len, 0, chunk, -1};
	struct import_reader *r = import_reader_new(mem_read, &m, max_line);
	struct import_line l;
	enum import_status st;
	char err[256];

	memset(o, 0, sizeof(*o));
	for (int i = 0; i < 100000; i++) {
		st = import_reader_next(r, &l, err, sizeof(err));
		if (st == IMPORT_LINE) {
			assert_true(l.len > 0 && l.text[0] != ' ' &&
				    l.text[l.len - 1] != '\r');
			assert_null(memchr(l.text, '\n', l.len));
			assert_true(l.len <= max_line);
			put(o, "%llu:%.*s|", (unsigned long long)l.line,
			    (int)l.len, l.text);
		} else if (st == IMPORT_TOO_LONG) {
			put(o, "L%llu|", (unsigned long long)l.line);
		} else if (st == IMPORT_EOF) {
			put(o, "EOF");
			break;
		} else {
			put(o, "ERR@%llu:%s",
			    (unsigned long long)import_reader_line(r), err);
			/* and again: an error stays */
			assert_int_equal(
				import_reader_next(r, &l, err, sizeof(err)),
				IMPORT_ERROR);
			break;
		}
	}
	o->fmt = import_reader_format(r);
	o->bytes_in = import_reader_bytes_in(r);
	import_reader_free(r);
}

/* Every chunk size gives want. */
static void
expect_all(const void *p, size_t len, size_t max_line, const char *want,
	   enum import_format fmt)
{
	static const size_t chunks[] = {1, 2, 3, 7, 100, 4096, 65536};
	static struct outcome o;

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		read_all(p, len, chunks[i], max_line, &o);
		if (strcmp(o.text, want) != 0)
			fail_msg("chunk %zu: got \"%s\", want \"%s\"",
				 chunks[i], o.text, want);
		assert_int_equal(o.fmt, fmt);
		assert_int_equal(o.bytes_in, len);
	}
}

static unsigned char *
gz(const char *s, size_t *out_len)
{
	size_t len = strlen(s), cap = len + 128;
	unsigned char *out = malloc(cap);
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8,
				      Z_DEFAULT_STRATEGY),
			 Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)s;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

static unsigned char *
zst(const char *s, size_t *out_len)
{
	size_t len = strlen(s), cap = ZSTD_compressBound(len);
	unsigned char *out = malloc(cap);
	ZSTD_CCtx *c = ZSTD_createCCtx();

	/* with a checksum, as zstd(1) writes by default: a flipped byte is
	 * caught */
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	*out_len = ZSTD_compress2(c, out, cap, s, len);
	assert_false(ZSTD_isError(*out_len));
	ZSTD_freeCCtx(c);
	return out;
}

/* a and b one after the other */
static unsigned char *
cat(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
    size_t *len)
{
	unsigned char *out = malloc(alen + blen + 1);

	memcpy(out, a, alen);
	memcpy(out + alen, b, blen);
	*len = alen + blen;
	return out;
}

static const char text[] = "{\"a\":1}\n"
			   "\n"
			   "  {\"b\":2}  \r\n"
			   "\r\n"
			   "   \t \n"
			   "{\"c\":3}\r\n"
			   "{\"d\":4}";
static const char want[] =
	"1:{\"a\":1}|3:{\"b\":2}|6:{\"c\":3}|7:{\"d\":4}|EOF";

static void
test_plain(void **state)
{
	(void)state;
	expect_all(text, strlen(text), 1024, want, IMPORT_PLAIN);
	/* a last line with its "\n" ends the same */
	expect_all("x\ny\n", 4, 1024, "1:x|2:y|EOF", IMPORT_PLAIN);
	expect_all("", 0, 1024, "EOF", IMPORT_PLAIN);
	expect_all("\n\r\n \n", 5, 1024, "EOF", IMPORT_PLAIN);
	/* one or two bytes that only begin a magic are text */
	expect_all("\x1f", 1, 1024, "1:\x1f|EOF", IMPORT_PLAIN);
	expect_all("(\xb5/", 3, 1024, "1:(\xb5/|EOF", IMPORT_PLAIN);
}

static void
test_gzip(void **state)
{
	size_t n;
	unsigned char *g = gz(text, &n);

	(void)state;
	expect_all(g, n, 1024, want, IMPORT_GZIP);
	free(g);
	g = gz("", &n); /* an empty member: no lines */
	expect_all(g, n, 1024, "EOF", IMPORT_GZIP);
	free(g);
}

/* `cat a.gz b.gz`, as OONI's archive files may be: every member read,
 * and a line cut between two members is one line. */
static void
test_gzip_members(void **state)
{
	size_t n1, n2, n3, n;
	unsigned char *a = gz("{\"a\":1}\n{\"b\"", &n1), *b = gz(":2}\n", &n2),
		      *c = gz("{\"c\":3}\n", &n3), *ab = cat(a, n1, b, n2, &n),
		      *abc = cat(ab, n, c, n3, &n);

	(void)state;
	expect_all(abc, n, 1024, "1:{\"a\":1}|2:{\"b\":2}|3:{\"c\":3}|EOF",
		   IMPORT_GZIP);
	free(a);
	free(b);
	free(c);
	free(ab);
	free(abc);
}

static void
test_zstd(void **state)
{
	size_t n, n1, n2;
	unsigned char *z = zst(text, &n), *a = zst("x\ny", &n1),
		      *b = zst("z\n", &n2), *ab;

	(void)state;
	expect_all(z, n, 1024, want, IMPORT_ZSTD);
	ab = cat(a, n1, b, n2, &n);
	expect_all(ab, n, 1024, "1:x|2:yz|EOF", IMPORT_ZSTD);
	free(z);
	free(a);
	free(b);
	free(ab);
}

/* Many lines, so that a cut lands after some of them. */
static char *
many_lines(int n)
{
	char *s = malloc((size_t)n * 64 + 1), *p = s;

	for (int i = 1; i <= n; i++)
		p += sprintf(p, "{\"n\":%d,\"pad\":\"%08x%08x\"}\n", i,
			     (unsigned)i * 2654435761u, (unsigned)i * 40503u);
	return s;
}

/* Every cut of a compressed stream ends in an error that says so, after
 * lines that are the first ones of the text, whole and in order. */
static void
expect_cuts(const unsigned char *c, size_t n, const char *what)
{
	static struct outcome o;

	for (size_t cut = 4; cut < n; cut += 1 + cut / 8) {
		char *err, *p;
		int line = 0;

		read_all(c, cut, 4096, 1024, &o);
		err = strstr(o.text, "ERR@");
		if (err == NULL || strstr(err, what) == NULL)
			fail_msg("cut at %zu of %zu: %s", cut, n, o.text);
		for (p = o.text; p < err; p = strchr(p, '|') + 1) {
			char want_line[64];

			line++;
			snprintf(want_line, sizeof(want_line), "%d:{\"n\":%d,",
				 line, line);
			assert_memory_equal(p, want_line, strlen(want_line));
		}
		/* the error names the line being read: the next one */
		snprintf(o.text, sizeof(o.text), "ERR@%d:", line + 1);
		assert_memory_equal(err, o.text, strlen(o.text));
	}
}

static void
test_truncated(void **state)
{
	char *s = many_lines(2000);
	size_t n;
	unsigned char *c = gz(s, &n);

	(void)state;
	expect_cuts(c, n, "the gzip data is truncated");
	free(c);
	c = zst(s, &n);
	expect_cuts(c, n, "the zstd data is truncated");
	free(c);
	free(s);
}

static void
test_corrupt(void **state)
{
	char *s = many_lines(2000);
	size_t n;
	unsigned char *c = gz(s, &n);
	static struct outcome o;

	(void)state;
	c[n / 2] ^= 0x55; /* in the deflate data, or caught by the CRC */
	read_all(c, n, 4096, 1024, &o);
	assert_non_null(strstr(o.text, "ERR@"));
	assert_non_null(strstr(o.text, "the gzip data is corrupt"));
	c[n / 2] ^= 0x55;
	c[n - 5] ^= 0x01; /* the CRC-32 */
	read_all(c, n, 4096, 1024, &o);
	assert_non_null(strstr(o.text, "ERR@2001:the gzip data is corrupt "
				       "(incorrect data check)"));
	assert_non_null(strstr(o.text, "2000:{\"n\":2000,"));
	free(c);
	c = zst(s, &n);
	c[n / 2] ^= 0x55;
	read_all(c, n, 4096, 1024, &o);
	assert_non_null(strstr(o.text, "the zstd data is corrupt"));
	free(c);
	free(s);
}

/* Bytes after the last gzip member that do not begin another: an error,
 * never ignored; after a zstd frame, zstd's own. */
static void
test_trailing_garbage(void **state)
{
	size_t n1, n;
	unsigned char *a = gz("x\n", &n1),
		      *ab = cat(a, n1, (const unsigned char *)"junk\n", 5, &n);
	static struct outcome o;

	(void)state;
	read_all(ab, n, 3, 1024, &o);
	assert_string_equal(o.text, "1:x|ERR@2:bytes after the end of the gzip "
				    "data that do not start another gzip "
				    "member (0x6a...)");
	free(ab);
	ab = cat(a, n1, (const unsigned char *)"\x1f", 1, &n);
	read_all(ab, n, 3, 1024, &o);
	assert_non_null(strstr(o.text, "1:x|ERR@2:bytes after the end"));
	free(ab);
	free(a);
	a = zst("x\n", &n1);
	ab = cat(a, n1, (const unsigned char *)"junk\n", 5, &n);
	read_all(ab, n, 3, 1024, &o);
	assert_non_null(strstr(o.text, "1:x|ERR@2:the zstd data is corrupt"));
	free(ab);
	free(a);
}

static void
test_too_long(void **state)
{
	static const char s[] = "short\n"
				"0123456789abc\n"
				"0123456789\n"	 /* exactly 10 */
				"0123456789\r\n" /* 10 and a CR */
				"  12345678  \n" /* 12 with its spaces */
				"ok\n"
				"0123456789abcdefghijklmnopqrstuvwxyz0123";
	size_t big_len = 1500000;
	char *big = malloc(big_len + 16);

	(void)state;
	expect_all(s, strlen(s), 10,
		   "1:short|L2|3:0123456789|4:0123456789|L5|6:ok|L7|EOF",
		   IMPORT_PLAIN);
	/* a line far longer than the buffer, skipped to its end */
	memset(big, 'a', big_len);
	memcpy(big + big_len, "\nlast\n", 7);
	expect_all(big, big_len + 6, 600000, "L1|2:last|EOF", IMPORT_PLAIN);
	free(big);
}

static void
test_long_line_kept(void **state)
{
	size_t len = 1500000, n;
	char *big = malloc(len + 8);
	unsigned char *c;
	struct mem m;
	struct import_reader *r;
	struct import_line l;
	char err[256];

	(void)state;
	memset(big, 'b', len);
	memcpy(big + len, "\nz\n", 4);
	c = gz(big, &n);
	m = (struct mem){c, n, 0, 1000, -1};
	r = import_reader_new(mem_read, &m, len);
	assert_int_equal(import_reader_next(r, &l, err, sizeof(err)),
			 IMPORT_LINE);
	assert_int_equal(l.len, len);
	assert_int_equal(l.line, 1);
	assert_int_equal(l.text[len - 1], 'b');
	assert_int_equal(import_reader_next(r, &l, err, sizeof(err)),
			 IMPORT_LINE);
	assert_int_equal(l.len, 1);
	assert_int_equal(import_reader_next(r, &l, err, sizeof(err)),
			 IMPORT_EOF);
	import_reader_free(r);
	free(c);
	free(big);
}

static void
test_read_error(void **state)
{
	struct mem m = {(const unsigned char *)"a\nb\nc\n", 6, 0, 2, 4};
	struct import_reader *r = import_reader_new(mem_read, &m, 100);
	struct import_line l;
	char err[256];

	(void)state;
	assert_int_equal(import_reader_next(r, &l, err, sizeof(err)),
			 IMPORT_LINE);
	assert_int_equal(import_reader_next(r, &l, err, sizeof(err)),
			 IMPORT_LINE);
	assert_int_equal(import_reader_next(r, &l, err, sizeof(err)),
			 IMPORT_ERROR);
	assert_string_equal(err, "read error: Input/output error");
	assert_int_equal(import_reader_line(r), 3);
	import_reader_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_gzip_members),
		cmocka_unit_test(test_zstd),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_long_line_kept),
		cmocka_unit_test(test_read_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
