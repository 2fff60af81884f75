/*
 * fuzz_alertsxml.c - untrusted text (an input, a category) XML-escaped for
 * the Atom feed (collector/alerts_feed.c, alerts_xml_escape()): whatever
 * the bytes, no crash and no read past the string, and what comes out is
 * text an XML 1.0 parser takes: valid UTF-8 of XML characters only, no
 * '<', '>', '"' or '\'', and every '&' the start of one of the five
 * entities written.
 *
 * Linked from build/libcollector.a.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "../../collector/alerts.h"
#include "fuzz.h"

static const char *const entities[] = {"&amp;", "&lt;", "&gt;", "&quot;",
				       "&apos;"};

/* The length of the valid UTF-8 sequence of an XML Char at p, or 0. */
static size_t
xml_char_at(const unsigned char *p, size_t n)
{
	unsigned long c;
	size_t len;

	if (p[0] < 0x80)
		return (p[0] >= 0x20 || p[0] == 9 || p[0] == 10 || p[0] == 13)
			       ? 1
			       : 0;
	len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
	if (len > n || p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	c = p[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe ||
	    c == 0xffff)
		return 0;
	return len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer *b;
	char *in;
	const unsigned char *out;
	size_t n;

	if (size > 8192)
		return 0;
	in = malloc(size + 1);
	b = evbuffer_new();
	if (in == NULL || b == NULL)
		abort();
	memcpy(in, data, size);
	in[size] = '\0'; /* a stored string: up to its first NUL */
	alerts_xml_escape(b, in);
	n = evbuffer_get_length(b);
	out = evbuffer_pullup(b, -1);
	for (size_t i = 0; i < n;) {
		size_t k = xml_char_at(out + i, n - i);
		int ok = 0;

		if (k == 0 || out[i] == '<' || out[i] == '>' || out[i] == '"' ||
		    out[i] == '\'')
			abort();
		if (out[i] == '&') {
			for (size_t e = 0; e < 5; e++)
				if (n - i >= strlen(entities[e]) &&
				    memcmp(out + i, entities[e],
					   strlen(entities[e])) == 0) {
					k = strlen(entities[e]);
					ok = 1;
				}
			if (!ok)
				abort();
		}
		i += k;
	}
	evbuffer_free(b);
	free(in);
	return 0;
}
