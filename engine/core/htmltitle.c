/*
 * htmltitle.c - see htmltitle.h.
 *
 * A small subset of the HTML tokenizer (WHATWG HTML "13.2.5 Tokenization"),
 * enough to find the element a browser would call document.title:
 *  - "<!--" starts a comment ending at "-->" or "--!>" ("<!-->" and
 *    "<!--->" are empty comments); other "<!" and "<?" markup, and end
 *    tags, end at the next '>';
 *  - a start tag's name runs to white space, '/' or '>' (so "<titles>" or
 *    "<title<x>" is not a title), and its attributes are scanned with their
 *    quoting, so a '>' inside a quoted value does not end the tag and a
 *    "<title>" inside an attribute value is not a title;
 *  - the text of script, style and the other raw-text elements is skipped
 *    to its end tag, so "document.write('<title>')" is not a title;
 *  - the title's text is RCDATA: no tags, only character references, and
 *    it ends at "</title" followed by white space, '/', '>' or the end.
 *
 * Choices the header leaves open, made here:
 *  - A title that is empty after trimming gives NULL, like no title: the
 *    measurement only wants to know whether a page says something.
 *  - Besides the entities the header lists, &apos; and &nbsp; (U+00A0,
 *    not collapsed, as in browsers) are decoded; the legacy forms without
 *    ';' of &amp; &lt; &gt; &quot; &nbsp; and of numeric references are
 *    accepted; numeric references to 0, surrogates or past U+10FFFF give
 *    U+FFFD and those to 0x80-0x9F the windows-1252 character (WHATWG
 *    "numeric character reference end state"). Other names stay as text.
 *  - Invalid UTF-8 is replaced byte by byte (one U+FFFD per bad byte),
 *    and so is U+0000, as the tokenizer does in RCDATA (WHATWG 13.2.5.2);
 *    that also keeps the returned C string whole.
 *
 * Every loop moves forward through the input and a scan that reaches the
 * end returns, so the cost is linear in len whatever the input.
 */
#include "htmltitle.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define NOT_FOUND SIZE_MAX

/* Elements whose content is not parsed for tags (WHATWG 13.2.6.4.4/7). */
static const char *const raw_text_tags[] = {
	"script", "style",   "textarea", "xmp",
	"iframe", "noembed", "noframes", "noscript",
};

/* Code points for &#128; .. &#159; (WHATWG "numeric character reference
 * end state" table); 0 where the code point is kept as is. */
static const uint16_t cp1252[32] = {
	0x20ac, 0,	0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0,	0x017d, 0,
	0,	0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,	0x017e, 0x0178,
};

/* HTML's "ASCII whitespace". */
static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Does b[0..n) equal the lower-case lit, ignoring ASCII case? */
static bool
eq_ci(const unsigned char *b, size_t n, const char *lit)
{
	size_t k;

	for (k = 0; k < n && lit[k] != '\0'; k++)
		if (lower(b[k]) != (unsigned char)lit[k])
			return false;
	return k == n && lit[k] == '\0';
}

static size_t
utf8_put(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Index just past the comment whose text starts at i (just after "<!"),
 * or NOT_FOUND. Starting at the first '-' of "<!--" makes "<!-->" and
 * "<!--->" end where browsers end them.
 */
static size_t
comment_end(const unsigned char *b, size_t len, size_t i)
{
	for (; i + 2 < len; i++) {
		if (b[i] != '-' || b[i + 1] != '-')
			continue;
		if (b[i + 2] == '>')
			return i + 3;
		if (b[i + 2] == '!' && i + 3 < len && b[i + 3] == '>')
			return i + 4;
	}
	return NOT_FOUND;
}

/*
 * Index just past the '>' ending the start tag whose attributes start at
 * i, or NOT_FOUND. The states are those of the tokenizer from "before
 * attribute name" on; only quoted values can hide a '>'.
 */
static size_t
tag_end(const unsigned char *b, size_t len, size_t i)
{
	enum { BEFORE_NAME, NAME, AFTER_NAME, BEFORE_VALUE, VALUE } st;
	const unsigned char *q;

	st = BEFORE_NAME;
	for (; i < len; i++) {
		unsigned char c = b[i];

		if (c == '>') /* in every state, even before a value */
			return i + 1;
		switch (st) {
		case BEFORE_NAME:
			if (!is_space(c) && c != '/')
				st = NAME;
			break;
		case NAME:
		case AFTER_NAME:
			if (c == '=')
				st = BEFORE_VALUE;
			else if (c == '/')
				st = BEFORE_NAME;
			else if (is_space(c))
				st = AFTER_NAME;
			else
				st = NAME;
			break;
		case BEFORE_VALUE:
			if (c == '"' || c == '\'') {
				q = memchr(b + i + 1, c, len - i - 1);
				if (q == NULL)
					return NOT_FOUND;
				i = (size_t)(q - b);
				st = BEFORE_NAME;
			} else if (!is_space(c)) {
				st = VALUE;
			}
			break;
		case VALUE:
			if (is_space(c))
				st = BEFORE_NAME;
			break;
		}
	}
	return NOT_FOUND;
}

/*
 * Index of the '<' of the first "</name" from i that is followed by white
 * space, '/', '>' or the end of the input; len if there is none.
 */
static size_t
end_tag(const unsigned char *b, size_t len, size_t i, const char *name)
{
	size_t n = strlen(name);

	while (i < len) {
		const unsigned char *lt = memchr(b + i, '<', len - i);
		size_t e;

		if (lt == NULL)
			return len;
		i = (size_t)(lt - b);
		e = i + 2 + n;
		if (e <= len && b[i + 1] == '/' && eq_ci(b + i + 2, n, name) &&
		    (e == len || is_space(b[e]) || b[e] == '/' || b[e] == '>'))
			return i;
		i++;
	}
	return len;
}

/*
 * The character reference at s[0] == '&': the number of bytes it takes
 * and its code point, or 0 if it is none we decode.
 */
static size_t
char_ref(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const struct {
		const char *name;
		uint32_t cp;
		bool legacy; /* also without the ';' */
	} named[] = {
		{"amp", '&', true},    {"lt", '<', true},
		{"gt", '>', true},     {"quot", '"', true},
		{"apos", '\'', false}, {"nbsp", 0xa0, true},
	};
	size_t i = 1, start;
	uint32_t v = 0;
	bool hex = false;

	if (n < 2)
		return 0;
	if (s[1] != '#') {
		for (size_t k = 0; k < WW_ARRAY_LEN(named); k++) {
			size_t l = strlen(named[k].name);

			if (n < 1 + l || memcmp(s + 1, named[k].name, l) != 0)
				continue;
			*cp = named[k].cp;
			if (n > 1 + l && s[1 + l] == ';')
				return l + 2;
			return named[k].legacy ? l + 1 : 0;
		}
		return 0;
	}
	i = 2;
	if (i < n && (s[i] == 'x' || s[i] == 'X')) {
		hex = true;
		i++;
	}
	start = i;
	for (; i < n; i++) {
		unsigned d;

		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (hex && lower(s[i]) >= 'a' && lower(s[i]) <= 'f')
			d = lower(s[i]) - 'a' + 10;
		else
			break;
		/* Saturate: anything past U+10FFFF is replaced anyway. */
		v = v > 0x10ffff ? v : v * (hex ? 16 : 10) + d;
	}
	if (i == start)
		return 0;
	if (i < n && s[i] == ';')
		i++;
	if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		v = 0xfffd;
	else if (v >= 0x80 && v <= 0x9f && cp1252[v - 0x80] != 0)
		v = cp1252[v - 0x80];
	*cp = v;
	return i;
}

struct title_buf {
	char *s;
	size_t len;
	bool space; /* white space seen since the last character kept */
	bool full;
};

/* Keep one whole character, after a single space if white space came
 * before it and it is not the first: collapsing and trimming in one go. */
static void
put_char(struct title_buf *t, const char *p, size_t n)
{
	bool sp = t->space && t->len > 0;

	if (t->full || t->len + sp + n > WW_TITLE_MAX) {
		t->full = true;
		return;
	}
	if (sp)
		t->s[t->len++] = ' ';
	memcpy(t->s + t->len, p, n);
	t->len += n;
	t->space = false;
}

static char *
title_text(const unsigned char *b, size_t n)
{
	struct title_buf t = {xmalloc(WW_TITLE_MAX + 1), 0, false, false};
	size_t i = 0;

	while (i < n && !t.full) {
		char enc[4];
		uint32_t cp;
		size_t k;

		if (is_space(b[i])) {
			t.space = true;
			i++;
		} else if (b[i] == '&' && (k = char_ref(b + i, n - i, &cp))) {
			if (cp < 0x80 && is_space((unsigned char)cp))
				t.space = true;
			else
				put_char(&t, enc, utf8_put(cp, enc));
			i += k;
		} else if (b[i] != 0 &&
			   (k = ww_utf8_seq_len(b + i, n - i)) > 0) {
			put_char(&t, (const char *)b + i, k);
			i += k;
		} else {
			put_char(&t, "\xef\xbf\xbd", 3); /* U+FFFD */
			i++;
		}
	}
	if (t.len == 0) {
		free(t.s);
		return NULL;
	}
	t.s[t.len] = '\0';
	return t.s;
}

char *
ww_html_title(const unsigned char *buf, size_t len)
{
	size_t i = 0;

	if (buf == NULL)
		return NULL;
	while (i < len) {
		const unsigned char *lt = memchr(buf + i, '<', len - i);
		size_t name, j;

		if (lt == NULL)
			return NULL;
		i = (size_t)(lt - buf);
		if (i + 1 >= len)
			return NULL;
		if (i + 3 < len && buf[i + 1] == '!' && buf[i + 2] == '-' &&
		    buf[i + 3] == '-') {
			i = comment_end(buf, len, i + 2);
			if (i == NOT_FOUND)
				return NULL;
			continue;
		}
		if (buf[i + 1] == '!' || buf[i + 1] == '?' ||
		    (buf[i + 1] == '/' &&
		     !(i + 2 < len && is_alpha(buf[i + 2])))) {
			/* Bogus comments and DOCTYPEs end at the first '>'. */
			lt = memchr(buf + i + 1, '>', len - i - 1);
			if (lt == NULL)
				return NULL;
			i = (size_t)(lt - buf) + 1;
			continue;
		}
		if (buf[i + 1] == '/') {
			name = i + 2; /* an end tag, scanned like a start tag */
		} else if (is_alpha(buf[i + 1])) {
			name = i + 1;
		} else {
			i++; /* a '<' that is only text */
			continue;
		}
		for (j = name; j < len; j++)
			if (is_space(buf[j]) || buf[j] == '/' || buf[j] == '>')
				break;
		i = tag_end(buf, len, j);
		if (i == NOT_FOUND)
			return NULL;
		if (buf[name - 1] == '/')
			continue; /* end tags open nothing */
		if (eq_ci(buf + name, j - name, "title"))
			return title_text(buf + i,
					  end_tag(buf, len, i, "title") - i);
		if (eq_ci(buf + name, j - name, "plaintext"))
			return NULL; /* the rest of the input is text */
		for (size_t k = 0; k < WW_ARRAY_LEN(raw_text_tags); k++) {
			if (eq_ci(buf + name, j - name, raw_text_tags[k])) {
				i = end_tag(buf, len, i, raw_text_tags[k]);
				break;
			}
		}
	}
	return NULL;
}
