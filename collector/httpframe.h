/*
 * httpframe.h - a strict reading of an HTTP/1.1 request's head (request
 * line and header lines) for what frames its body: Content-Length and
 * Transfer-Encoding (RFC 9112 sections 6 and 11). libevent 2.1's evhttp
 * takes the first of two Content-Length headers, accepts "+5", keeps a
 * header whose name ends in a space (its body is then read as the next
 * request) and lets Content-Length stand beside Transfer-Encoding: the
 * classic request smuggling cases behind a proxy. The edge (edge.c) runs
 * this over the bytes before evhttp acts on them and refuses such a
 * request with 400.
 *
 * Needs libc only: the fuzz target (tests/fuzz/fuzz_httpframe.c) builds it
 * directly.
 */
#ifndef WW_HTTPFRAME_H
#define WW_HTTPFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The head read so far: zero it (memset) before the first feed. */
struct http_frame {
	size_t off;		/* bytes of complete lines checked */
	size_t end;		/* once complete: the head's length */
	unsigned lines;		/* lines checked, the request line first */
	int64_t content_length; /* -1: none (valid once complete) */
	bool have_length;
	bool chunked;
};

/* Longest Content-Length taken: 18 digits, so no value can overflow. */
#define HTTP_FRAME_MAX_DIGITS 18

/*
 * Check the complete lines of buf[0..len) from f->off on (buf holds the
 * request from its first byte; lines end in LF or CRLF, as evhttp reads
 * them). Returns 1 when the head is complete (its blank line read: f->end
 * bytes, the body or the next request after it) and its framing is sound;
 * 0 when it is sound so far but incomplete; -1 with err naming the
 * problem (client text in it quoted, at most 40 bytes, non-printable
 * bytes as '?'). Once 1 or -1, do not feed f again.
 */
int http_frame_feed(struct http_frame *f, const char *buf, size_t len,
		    char *err, size_t errlen);

#endif
