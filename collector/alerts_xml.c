/*
 * alerts_xml.c - untrusted text as XML 1.0 character data for the alerts'
 * Atom feed (alerts_feed.c): markup characters as entities, and anything
 * XML cannot carry as U+FFFD, since a feed reader that meets one bad byte
 * refuses the whole feed. Apart from the feed so that its fuzz target
 * (tests/fuzz/fuzz_alertsxml.c) links nothing else.
 */
#include <stdbool.h>
#include <string.h>

#include <event2/buffer.h>

#include "alerts.h"

/* The length of the UTF-8 sequence at s (n bytes left) and its code point
 * in *cp, or 0 when it is not one (overlong, a surrogate, past U+10FFFF,
 * cut short). */
static size_t
utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t len;
	unsigned long c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, c = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, c = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, c = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* XML 1.0's Char production (section 2.2). */
static bool
xml_char(unsigned long c)
{
	return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) ||
	       (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

void
alerts_xml_escape(struct evbuffer *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = s != NULL ? strlen(s) : 0;

	while (n > 0) {
		unsigned long c = 0;
		size_t k = utf8_seq(p, n, &c);

		if (k == 0 || !xml_char(c)) {
			evbuffer_add(b, "\xef\xbf\xbd", 3); /* U+FFFD */
			k = k == 0 ? 1 : k;
		} else if (c == '&')
			evbuffer_add(b, "&amp;", 5);
		else if (c == '<')
			evbuffer_add(b, "&lt;", 4);
		else if (c == '>')
			evbuffer_add(b, "&gt;", 4);
		else if (c == '"')
			evbuffer_add(b, "&quot;", 6);
		else if (c == '\'')
			evbuffer_add(b, "&apos;", 6);
		else
			evbuffer_add(b, p, k);
		p += k;
		n -= k;
	}
}
