/*
 * import_read.c - JSON Lines from a plain, gzip or zstd stream, a line at a
 * time in bounded memory (import_read.h).
 *
 * Two buffers: the input as read (IN_CHUNK bytes), and the text window
 * buf[start, end) of decompressed bytes not yet returned, which holds at
 * most one line and a chunk: it grows to max_line + 1 + OUT_CHUNK at
 * most, and a line that would not fit is skipped to its end rather than
 * held (IMPORT_TOO_LONG). The decoders are zlib (gzip, every member of a
 * multi-member file: RFC 1952 section 2.2, "a series of members") and
 * libzstd's streaming decoder, which reads every frame of a file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ZLIB_CONST
#include <zlib.h>
#include <zstd.h>

#include "import_read.h"
#include "util.h"

#define IN_CHUNK ((size_t)128 * 1024)
#define OUT_CHUNK ((size_t)256 * 1024)

struct import_reader {
	import_read_fn rd;
	void *arg;
	size_t max_line;
	enum import_format fmt;
	bool sniffed;
	/* input: in[in_pos, in_len) not yet decoded */
	unsigned char *in;
	size_t in_pos, in_len;
	bool in_eof;
	/* text: buf[start, end) not yet returned; no '\n' in [start, scan) */
	char *buf;
	size_t cap, start, scan, end;
	bool out_eof;  /* the decoder has no more text */
	bool skipping; /* inside a line too long to hold */
	z_stream z;
	bool z_init, z_member_done;
	ZSTD_DStream *zs;
	size_t zret; /* ZSTD_decompressStream()'s last hint: 0 a frame ended */
	uint64_t bytes_in, line; /* line: the "\n" seen so far */
	bool failed;
	char msg[256];
};

ssize_t
import_read_fd(void *arg, void *buf, size_t n)
{
	int fd = *(int *)arg;
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

struct import_reader *
import_reader_new(import_read_fn rd, void *arg, size_t max_line)
{
	struct import_reader *r = xcalloc(1, sizeof(*r));

	r->rd = rd;
	r->arg = arg;
	r->max_line = max_line > 0 ? max_line : 1;
	r->in = xmalloc(IN_CHUNK);
	r->cap = 2 * OUT_CHUNK;
	r->buf = xmalloc(r->cap);
	return r;
}

void
import_reader_free(struct import_reader *r)
{
	if (r == NULL)
		return;
	if (r->z_init)
		inflateEnd(&r->z);
	ZSTD_freeDStream(r->zs);
	free(r->in);
	free(r->buf);
	free(r);
}

enum import_format
import_reader_format(const struct import_reader *r)
{
	return r->fmt;
}

const char *
import_format_name(enum import_format f)
{
	return f == IMPORT_GZIP ? "gzip" : f == IMPORT_ZSTD ? "zstd" : "plain";
}

uint64_t
import_reader_bytes_in(const struct import_reader *r)
{
	return r->bytes_in;
}

uint64_t
import_reader_line(const struct import_reader *r)
{
	return r->line + 1;
}

/* printf into r->msg; -1. */
static int __attribute__((format(printf, 2, 3)))
fail(struct import_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->failed = true;
	return -1;
}

/* More input after what in[] holds (kept at its front), unless at the
 * end: 0, or -1 on a read error. */
static int
fill_in(struct import_reader *r)
{
	ssize_t n;

	if (r->in_eof)
		return 0;
	if (r->in_pos > 0) {
		memmove(r->in, r->in + r->in_pos, r->in_len - r->in_pos);
		r->in_len -= r->in_pos;
		r->in_pos = 0;
	}
	if (r->in_len == IN_CHUNK)
		return 0;
	n = r->rd(r->arg, r->in + r->in_len, IN_CHUNK - r->in_len);
	if (n < 0)
		return fail(r, "read error: %s", strerror(errno));
	if (n == 0)
		r->in_eof = true;
	r->in_len += (size_t)n;
	r->bytes_in += (uint64_t)n;
	return 0;
}

static size_t
in_avail(const struct import_reader *r)
{
	return r->in_len - r->in_pos;
}

/* At least want bytes of input, or all there is: 0, or -1. */
static int
need_in(struct import_reader *r, size_t want)
{
	while (in_avail(r) < want && !r->in_eof)
		if (fill_in(r) != 0)
			return -1;
	return 0;
}

/* The format, from the first bytes (gzip: RFC 1952 section 2.3.1; zstd:
 * RFC 8878 section 3.1.1), and its decoder. */
static int
sniff(struct import_reader *r)
{
	static const unsigned char zmagic[4] = {0x28, 0xb5, 0x2f, 0xfd};

	r->sniffed = true;
	if (need_in(r, 4) != 0)
		return -1;
	if (in_avail(r) >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b) {
		r->fmt = IMPORT_GZIP;
		if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK)
			return fail(r, "cannot start gzip decoding");
		r->z_init = true;
	} else if (in_avail(r) >= 4 && memcmp(r->in, zmagic, 4) == 0) {
		r->fmt = IMPORT_ZSTD;
		r->zs = ZSTD_createDStream();
		if (r->zs == NULL || ZSTD_isError(ZSTD_initDStream(r->zs)))
			return fail(r, "cannot start zstd decoding");
		r->zret = 1; /* a frame begins */
	}
	return 0;
}

static ssize_t
produce_plain(struct import_reader *r, char *out, size_t space)
{
	size_t n = in_avail(r);
	ssize_t got;

	if (n > 0) {
		n = n < space ? n : space;
		memcpy(out, r->in + r->in_pos, n);
		r->in_pos += n;
		return (ssize_t)n;
	}
	if (r->in_eof)
		return 0;
	got = r->rd(r->arg, out, space);
	if (got < 0)
		return fail(r, "read error: %s", strerror(errno));
	if (got == 0)
		r->in_eof = true;
	r->bytes_in += (uint64_t)got;
	return got;
}

/* After a member's end: another member, or the end of the data. 1 on to
 * the next, 0 the end, -1 anything else. */
static int
gzip_next_member(struct import_reader *r)
{
	if (need_in(r, 2) != 0)
		return -1;
	if (in_avail(r) == 0)
		return 0;
	if (in_avail(r) < 2 || r->in[r->in_pos] != 0x1f ||
	    r->in[r->in_pos + 1] != 0x8b)
		return fail(r,
			    "bytes after the end of the gzip data that do not "
			    "start another gzip member (0x%02x...)",
			    r->in[r->in_pos]);
	if (inflateReset(&r->z) != Z_OK)
		return fail(r, "cannot restart gzip decoding");
	r->z_member_done = false;
	return 1;
}

static ssize_t
produce_gzip(struct import_reader *r, char *out, size_t space)
{
	for (;;) {
		size_t made;
		int rc;

		if (r->z_member_done) {
			rc = gzip_next_member(r);
			if (rc <= 0)
				return rc;
		}
		if (in_avail(r) == 0 && fill_in(r) != 0)
			return -1;
		r->z.next_in = r->in + r->in_pos;
		r->z.avail_in = (uInt)in_avail(r);
		r->z.next_out = (unsigned char *)out;
		r->z.avail_out = (uInt)space;
		rc = inflate(&r->z, Z_NO_FLUSH);
		r->in_pos = r->in_len - r->z.avail_in;
		made = space - r->z.avail_out;
		if (rc == Z_STREAM_END)
			r->z_member_done = true;
		else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			/* what came before the damage is still returned */
			fail(r, "the gzip data is corrupt (%s)",
			     r->z.msg != NULL ? r->z.msg : "zlib error");
			return made > 0 ? (ssize_t)made : -1;
		}
		if (made > 0)
			return (ssize_t)made;
		if (rc != Z_STREAM_END && in_avail(r) == 0 && r->in_eof)
			return fail(r, "the gzip data is truncated (it ends "
				       "inside a member)");
	}
}

static ssize_t
produce_zstd(struct import_reader *r, char *out, size_t space)
{
	for (;;) {
		ZSTD_inBuffer ib;
		ZSTD_outBuffer ob = {out, space, 0};
		size_t ret;

		if (in_avail(r) == 0 && fill_in(r) != 0)
			return -1;
		if (in_avail(r) == 0 && r->in_eof && r->zret == 0)
			return 0;
		ib.src = r->in + r->in_pos;
		ib.size = in_avail(r);
		ib.pos = 0;
		ret = ZSTD_decompressStream(r->zs, &ob, &ib);
		r->in_pos += ib.pos;
		if (ZSTD_isError(ret)) {
			fail(r, "the zstd data is corrupt (%s)",
			     ZSTD_getErrorName(ret));
			return ob.pos > 0 ? (ssize_t)ob.pos : -1;
		}
		r->zret = ret;
		if (ob.pos > 0)
			return (ssize_t)ob.pos;
		if (in_avail(r) == 0 && r->in_eof && ret != 0)
			return fail(r, "the zstd data is truncated (it ends "
				       "inside a frame)");
	}
}

/* More text at buf[end...]: the count, 0 at the end, -1 on error. */
static ssize_t
produce(struct import_reader *r)
{
	size_t space = r->cap - r->end;
	char *out = r->buf + r->end;

	if (space > OUT_CHUNK)
		space = OUT_CHUNK;
	if (!r->sniffed && sniff(r) != 0)
		return -1;
	switch (r->fmt) {
	case IMPORT_GZIP:
		return produce_gzip(r, out, space);
	case IMPORT_ZSTD:
		return produce_zstd(r, out, space);
	case IMPORT_PLAIN:
		break;
	}
	return produce_plain(r, out, space);
}

/* Room for a chunk after end: the held text moved to the front, the
 * buffer grown (to max_line + 1 + OUT_CHUNK at most: held text is never
 * more than max_line + 1 bytes here). */
static void
make_room(struct import_reader *r)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->scan -= r->start;
		r->start = 0;
	}
	if (r->cap - r->end < OUT_CHUNK / 4) {
		size_t want = r->cap * 2, most = r->max_line + 1 + OUT_CHUNK;

		r->cap = want < most ? want : most;
		r->cap = r->cap > r->end + OUT_CHUNK / 4 ? r->cap
							 : r->end + OUT_CHUNK;
		r->buf = xrealloc(r->buf, r->cap);
	}
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	       c == '\v';
}

/* The line s[0, n) (its "\n" not included) into out: 1 a line, 0 blank,
 * 2 too long. */
static int
take(struct import_reader *r, const char *s, size_t n, struct import_line *out)
{
	out->line = r->line;
	out->text = NULL;
	out->len = 0;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n > r->max_line)
		return 2;
	while (n > 0 && is_space(s[0])) {
		s++;
		n--;
	}
	while (n > 0 && is_space(s[n - 1]))
		n--;
	if (n == 0)
		return 0;
	out->text = s;
	out->len = n;
	return 1;
}

static enum import_status
status_of(int took)
{
	return took == 2 ? IMPORT_TOO_LONG : IMPORT_LINE;
}

enum import_status
import_reader_next(struct import_reader *r, struct import_line *out, char *err,
		   size_t errlen)
{
	memset(out, 0, sizeof(*out));
	for (;;) {
		char *nl;
		ssize_t got;
		int took;

		nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
		if (nl != NULL) {
			char *s = r->buf + r->start;
			bool was_skipping = r->skipping;

			r->line++;
			r->start = r->scan = (size_t)(nl - r->buf) + 1;
			r->skipping = false;
			if (was_skipping)
				continue;
			took = take(r, s, (size_t)(nl - s), out);
			if (took != 0)
				return status_of(took);
			continue;
		}
		r->scan = r->end;
		if (r->skipping) {
			r->start = r->scan = r->end = 0;
		} else if (r->end - r->start > r->max_line + 1) {
			/* No "\n" in more than a line may hold: skip it. */
			r->skipping = true;
			r->start = r->scan = r->end = 0;
			out->line = r->line + 1;
			return IMPORT_TOO_LONG;
		}
		if (r->out_eof) {
			if (r->start == r->end || r->skipping)
				return IMPORT_EOF;
			r->line++;
			took = take(r, r->buf + r->start, r->end - r->start,
				    out);
			r->start = r->scan = r->end;
			if (took != 0)
				return status_of(took);
			return IMPORT_EOF;
		}
		/* the lines decoded before a failure were returned first */
		if (r->failed)
			break;
		make_room(r);
		got = produce(r);
		if (got < 0)
			break;
		if (got == 0)
			r->out_eof = true;
		r->end += (size_t)got;
	}
	snprintf(err, errlen, "%s", r->msg);
	return IMPORT_ERROR;
}
