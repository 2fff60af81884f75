/*
 * import_read.h - JSON Lines read a line at a time from a stream that may
 * be plain, gzip or zstd (`wallwatch-collector import`, import_cmd.c).
 *
 * OONI's archive keeps measurements as JSON Lines compressed with gzip
 * (older files, sometimes several gzip members one after the other) or
 * zstd; a file may hold hundreds of MB. The reader never holds more than
 * one line and a chunk of input: memory is bounded by max_line, whatever
 * the file's size. The format is told by the stream's first bytes (gzip
 * 1f 8b, zstd 28 b5 2f fd; anything else is plain text), not by a name.
 *
 * The bytes are untrusted: a corrupt or truncated stream, bytes after the
 * last gzip member that do not start another, a line longer than
 * max_line: each ends in a message, and the line it happened on is known
 * (fuzzed:
 * tests/fuzz/fuzz_import_read.c).
 */
#ifndef WW_IMPORT_READ_H
#define WW_IMPORT_READ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Where the bytes come from: like read(2), n > 0 bytes into buf; returns
 * the count read, 0 at the end, -1 on error (errno set). */
typedef ssize_t (*import_read_fn)(void *arg, void *buf, size_t n);

enum import_format {
	IMPORT_PLAIN,
	IMPORT_GZIP,
	IMPORT_ZSTD,
};

/* What import_reader_next() found. */
enum import_status {
	IMPORT_ERROR = -1,   /* the stream cannot be read on: err says why */
	IMPORT_EOF = 0,	     /* no more lines */
	IMPORT_LINE = 1,     /* a line */
	IMPORT_TOO_LONG = 2, /* a line longer than max_line, skipped whole;
				the next call goes on after it */
};

struct import_line {
	const char *text; /* without its end of line or the white space
			     around it; not NUL-terminated; valid until the
			     next call */
	size_t len;	  /* >= 1 */
	uint64_t line;	  /* 1-based, counting every line (blank ones too) */
};

struct import_reader;

/* A reader of rd(arg, ...), lines of at most max_line bytes (>= 1). */
struct import_reader *import_reader_new(import_read_fn rd, void *arg,
					size_t max_line);
void import_reader_free(struct import_reader *r);

/*
 * The next non-blank line into *out (IMPORT_LINE); IMPORT_TOO_LONG with
 * out->line set (out->text NULL); IMPORT_EOF; or IMPORT_ERROR with a
 * message in err naming the problem (the caller names the line with it:
 * import_reader_line(), the line being read). After IMPORT_ERROR every call
 * returns it again. A last line without "\n" is a line. A CR before the "\n"
 * (CRLF) and white space around a line are not part of it; a line of white
 * space only is skipped.
 */
enum import_status import_reader_next(struct import_reader *r,
				      struct import_line *out, char *err,
				      size_t errlen);

/* The format found (IMPORT_PLAIN until the first bytes were read). */
enum import_format import_reader_format(const struct import_reader *r);
const char *import_format_name(enum import_format f);

/* Bytes taken from rd so far (compressed bytes for gzip and zstd). */
uint64_t import_reader_bytes_in(const struct import_reader *r);

/* The number of the line being read or last returned. */
uint64_t import_reader_line(const struct import_reader *r);

/* An fd as an import_read_fn (arg: a pointer to the int), EINTR retried. */
ssize_t import_read_fd(void *arg, void *buf, size_t n);

#endif
