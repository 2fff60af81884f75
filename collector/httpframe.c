/*
 * httpframe.c - the strict framing check of a request's head (httpframe.h).
 * RFC 9112: a header name is a token with no white space before the colon
 * (section 5.1: "MUST respond with a 400"); Content-Length is 1*DIGIT
 * (RFC 9110 section 8.6); a request with both Content-Length and
 * Transfer-Encoding, or with a transfer coding we do not know, is refused
 * (RFC 9112 sections 6.1 and 6.3); obsolete line folding is refused
 * (section 5.2). Two Content-Length headers are refused even when equal:
 * the RFC lets a server accept equal ones, but no client of ours sends
 * them and a proxy in front may not have read them the same way.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "httpframe.h"

#define QUOTE_MAX 40

/* At most QUOTE_MAX bytes of s[0..n) into out, as printable ASCII. */
static void
quote(char *out, size_t outlen, const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n && i < QUOTE_MAX && k + 4 < outlen; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[k++] = ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\'
				   ? (char)ch
				   : '?';
	}
	if (i < n && k + 4 < outlen) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k < outlen ? k : outlen - 1] = '\0';
}

/* RFC 9110 section 5.6.2: tchar. */
static bool
is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool
is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool
named(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && strncasecmp(name, want, n) == 0;
}

static int
refusal(char *err, size_t errlen, const char *what, const char *s, size_t n,
	const char *tail)
{
	char q[QUOTE_MAX * 2];

	quote(q, sizeof(q), s, n);
	snprintf(err, errlen, "%s \"%s\"%s", what, q, tail);
	return -1;
}

static int
check_length(struct http_frame *f, const char *v, size_t n, char *err,
	     size_t errlen)
{
	int64_t x = 0;
	size_t i;

	if (f->have_length) {
		snprintf(err, errlen,
			 "two Content-Length headers (refused even when "
			 "equal)");
		return -1;
	}
	if (n == 0)
		return refusal(err, errlen, "Content-Length", v, n,
			       " is empty: want a number of bytes");
	for (i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return refusal(
				err, errlen, "Content-Length", v, n,
				" is not a number of bytes (digits only)");
	if (n > HTTP_FRAME_MAX_DIGITS)
		return refusal(err, errlen, "Content-Length", v, n,
			       " is too large");
	for (i = 0; i < n; i++)
		x = x * 10 + (v[i] - '0');
	f->have_length = true;
	f->content_length = x;
	return 0;
}

static int
check_coding(struct http_frame *f, const char *v, size_t n, char *err,
	     size_t errlen)
{
	if (f->chunked) {
		snprintf(err, errlen, "two Transfer-Encoding headers");
		return -1;
	}
	if (!named(v, n, "chunked"))
		return refusal(err, errlen, "Transfer-Encoding", v, n,
			       " is not supported (only chunked)");
	f->chunked = true;
	return 0;
}

/* One header line, line[0..n) without its end of line. */
static int
check_header(struct http_frame *f, const char *line, size_t n, char *err,
	     size_t errlen)
{
	const char *colon = memchr(line, ':', n);
	size_t nlen, i, vs, ve;

	if (is_ows(line[0])) {
		snprintf(err, errlen,
			 "a header line starts with white space (obsolete "
			 "line folding is not accepted)");
		return -1;
	}
	if (colon == NULL)
		return refusal(err, errlen, "header line", line, n,
			       " has no colon");
	nlen = (size_t)(colon - line);
	if (nlen == 0) {
		snprintf(err, errlen, "a header line has an empty name");
		return -1;
	}
	for (i = 0; i < nlen; i++)
		if (!is_tchar((unsigned char)line[i]))
			return refusal(err, errlen, "header name", line, nlen,
				       " has a character a name may not have "
				       "(white space before the colon?)");
	for (vs = nlen + 1; vs < n && is_ows(line[vs]); vs++)
		;
	for (ve = n; ve > vs && is_ows(line[ve - 1]); ve--)
		;
	for (i = vs; i < ve; i++)
		if (is_ctl((unsigned char)line[i]))
			return refusal(err, errlen, "header", line, nlen,
				       " has a control character in its value");
	if (named(line, nlen, "Content-Length"))
		return check_length(f, line + vs, ve - vs, err, errlen);
	if (named(line, nlen, "Transfer-Encoding"))
		return check_coding(f, line + vs, ve - vs, err, errlen);
	return 0;
}

static int
check_request_line(const char *line, size_t n, char *err, size_t errlen)
{
	size_t i;

	if (n == 0) {
		snprintf(err, errlen,
			 "an empty line where the request line should be");
		return -1;
	}
	for (i = 0; i < n; i++)
		if (is_ctl((unsigned char)line[i])) {
			snprintf(err, errlen,
				 "the request line has a control character");
			return -1;
		}
	return 0;
}

int
http_frame_feed(struct http_frame *f, const char *buf, size_t len, char *err,
		size_t errlen)
{
	while (f->off < len) {
		const char *line = buf + f->off;
		const char *nl = memchr(line, '\n', len - f->off);
		size_t n;

		if (nl == NULL)
			return 0;
		n = (size_t)(nl - line);
		f->off += n + 1;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (f->lines++ == 0) {
			if (check_request_line(line, n, err, errlen) != 0)
				return -1;
			continue;
		}
		if (n > 0) {
			if (check_header(f, line, n, err, errlen) != 0)
				return -1;
			continue;
		}
		/* The blank line: the head is complete. */
		if (f->have_length && f->chunked) {
			snprintf(err, errlen,
				 "both Content-Length and Transfer-Encoding "
				 "(a request has one or the other)");
			return -1;
		}
		if (!f->have_length)
			f->content_length = -1;
		f->end = f->off;
		return 1;
	}
	return 0;
}
