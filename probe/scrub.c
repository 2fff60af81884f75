/*
 * scrub.c - remove the volunteer's own addresses (what counts as an
 * occurrence is in scrub.h).
 *
 * Text is scanned once, left to right. Only a byte that can start an
 * address (a digit, a hex digit, ':') at a boundary is a candidate; there
 * the address is parsed (at most a few dozen bytes) and its binary value
 * looked up in the set. So a 64 KiB body costs one pass whatever the number
 * of addresses, and every spelling of an address is found, not only the
 * ones we would have thought of printing.
 */
#include "scrub.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define MARK_LEN (sizeof(WW_SCRUBBED) - 1)
/* The longest IPv6 text without a dotted tail (8 groups of 4, 7 colons),
 * plus two stray colons after it ("... 2001:db8::1:: is down"). */
#define V6_RUN_MAX (39 + 2)
/* Base64 data decoded at most (a body is at most 64 MiB): the scrubbed
 * bytes must still fit ww_base64(), which takes at most INT_MAX / 2. */
#define B64_DECODE_MAX ((size_t)256 * 1024 * 1024)

struct ww_scrub {
	unsigned char v4[WW_SCRUB_MAX][4];
	unsigned char v6[WW_SCRUB_MAX][16];
	size_t n4, n6;
};

struct ww_scrub *
ww_scrub_new(void)
{
	return xcalloc(1, sizeof(struct ww_scrub));
}

void
ww_scrub_free(struct ww_scrub *s)
{
	free(s);
}

static bool
has_v4(const struct ww_scrub *s, const unsigned char *a)
{
	for (size_t i = 0; i < s->n4; i++)
		if (memcmp(s->v4[i], a, 4) == 0)
			return true;
	return false;
}

static bool
has_v6(const struct ww_scrub *s, const unsigned char *a)
{
	for (size_t i = 0; i < s->n6; i++)
		if (memcmp(s->v6[i], a, 16) == 0)
			return true;
	return false;
}

int
ww_scrub_add(struct ww_scrub *s, const char *ip)
{
	static const unsigned char zero[16];
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,	   0,
						 0, 0, 0, 0, 0xff, 0xff};
	unsigned char a[16];

	if (ip == NULL)
		return -1;
	if (inet_pton(AF_INET6, ip, a) == 1) {
		if (memcmp(a, zero, 16) == 0)
			return -1;
		if (memcmp(a, mapped, 12) != 0) {
			if (has_v6(s, a))
				return 0;
			if (s->n4 + s->n6 >= WW_SCRUB_MAX)
				return -1;
			memcpy(s->v6[s->n6++], a, 16);
			return 0;
		}
		/* ::ffff:a.b.c.d is the IPv4 address a.b.c.d */
		memmove(a, a + 12, 4);
	} else if (inet_pton(AF_INET, ip, a) != 1) {
		return -1;
	}
	if (memcmp(a, zero, 4) == 0)
		return -1;
	if (has_v4(s, a))
		return 0;
	if (s->n4 + s->n6 >= WW_SCRUB_MAX)
		return -1;
	memcpy(s->v4[s->n4++], a, 4);
	return 0;
}

size_t
ww_scrub_count(const struct ww_scrub *s)
{
	return s->n4 + s->n6;
}

/* --- finding text forms --------------------------------------------------- */

struct text {
	const unsigned char *s;
	size_t len;
};

static bool
is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static bool
is_hex(int ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'f') ||
	       (ch >= 'A' && ch <= 'F');
}

/* The byte at i, -1 past the end: for parsing. */
static int
at(const struct text *t, size_t i)
{
	return i < t->len ? t->s[i] : -1;
}

/*
 * The byte at i as a boundary sees it: a marker starting there reads as a
 * digit, as the address it replaced did. So text already scrubbed (by an
 * earlier pass, or the collector) gives no new occurrence next to its
 * markers: "2001:db8::1:1.2.3.4" loses its IPv4 tail, and the IPv6 head of
 * what is left, "2001:db8::1:[scrubbed]", is still not an address alone.
 */
static int
after(const struct text *t, size_t i)
{
	if (i < t->len && t->s[i] == '[' && t->len - i >= MARK_LEN &&
	    memcmp(t->s + i, WW_SCRUBBED, MARK_LEN) == 0)
		return '0';
	return at(t, i);
}

/* The byte k places before p as a boundary sees it (-1 before the start;
 * the end of a marker reads as a digit). */
static int
before(const struct text *t, size_t p, size_t k)
{
	size_t i;

	if (p < k)
		return -1;
	i = p - k;
	if (t->s[i] == ']' && i + 1 >= MARK_LEN &&
	    memcmp(t->s + i + 1 - MARK_LEN, WW_SCRUBBED, MARK_LEN) == 0)
		return '0';
	return t->s[i];
}

/* Four decimal groups of 1..3 digits, each at most 255, joined by sep, at
 * p; their bytes in a. Returns the length read, 0 when it is not that. */
static size_t
parse_v4(const struct text *t, size_t p, char sep, unsigned char a[4])
{
	size_t i = p;

	for (int g = 0; g < 4; g++) {
		unsigned v = 0, nd = 0;

		if (g > 0 && at(t, i++) != sep)
			return 0;
		for (; is_digit(at(t, i)); i++) {
			if (++nd > 3)
				return 0;
			v = v * 10 + (unsigned)(t->s[i] - '0');
		}
		if (nd == 0 || v > 255)
			return 0;
		a[g] = (unsigned char)v;
	}
	return i - p;
}

/* Number boundaries with separator sep (scrub.h): no digit, no sep with a
 * digit on the far side, before p and at e. */
static bool
v4_bounded(const struct text *t, size_t p, size_t e, char sep)
{
	if (is_digit(before(t, p, 1)) ||
	    (before(t, p, 1) == sep && is_digit(before(t, p, 2))))
		return false;
	return !is_digit(after(t, e)) &&
	       !(after(t, e) == sep && is_digit(after(t, e + 1)));
}

/* True when s[i..) starts with the ASCII word w, in any case. */
static bool
has_word(const struct text *t, size_t i, const char *w)
{
	size_t n = strlen(w);

	return i <= t->len && t->len - i >= n &&
	       strncasecmp((const char *)t->s + i, w, n) == 0;
}

/* Length of an IPv4 occurrence at p (dotted, reversed in-addr.arpa, or
 * dashed), 0 if none. */
static size_t
match_v4(const struct ww_scrub *s, const struct text *t, size_t p)
{
	unsigned char a[4], r[4];
	size_t n;

	n = parse_v4(t, p, '.', a);
	if (n > 0 && v4_bounded(t, p, p + n, '.')) {
		if (has_v4(s, a))
			return n;
		r[0] = a[3];
		r[1] = a[2];
		r[2] = a[1];
		r[3] = a[0];
		if (has_word(t, p + n, ".in-addr.arpa") && has_v4(s, r))
			return n;
	}
	n = parse_v4(t, p, '-', a);
	if (n > 0 && v4_bounded(t, p, p + n, '-') && has_v4(s, a))
		return n;
	return 0;
}

/* Whether s[p..p+n) is an IPv6 address of the set. */
static bool
v6_text_known(const struct ww_scrub *s, const struct text *t, size_t p,
	      size_t n)
{
	char buf[64];
	unsigned char a[16];

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, t->s + p, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, a) == 1 && has_v6(s, a);
}

/*
 * The run of hex digits and colons at p, r bytes long, continues with a
 * dotted IPv4 tail ("::ffff:1.2.3.4")? The length with the tail, else 0.
 */
static size_t
v6_with_tail(const struct text *t, size_t p, size_t r)
{
	unsigned char a[4];
	size_t q = r, n;

	if (at(t, p + r) != '.' || !is_digit(t->s[p + r - 1]))
		return 0;
	while (q > 0 && t->s[p + q - 1] != ':')
		q--;
	if (q == 0)
		return 0;
	n = parse_v4(t, p + q, '.', a);
	if (n <= r - q || !v4_bounded(t, p + q, p + q + n, '.'))
		return 0;
	return q + n;
}

/*
 * An IPv6 occurrence at p: its start in *start and length, 0 if none. The
 * whole run of hex digits and colons is one address (so a longer address
 * that begins or ends like ours is not ours); only when the run is not an
 * address are one or two colons at its end taken as punctuation.
 */
static size_t
match_v6(const struct ww_scrub *s, const struct text *t, size_t p,
	 size_t *start)
{
	size_t r = 0, colons = 0, n;

	if (is_hex(before(t, p, 1)) || before(t, p, 1) == ':')
		return 0;
	/* "ip:2001:db8::1": a single colon is punctuation, "::1" is not */
	if (t->s[p] == ':' && at(t, p + 1) != ':')
		p++;
	while (r <= V6_RUN_MAX && (is_hex(at(t, p + r)) || at(t, p + r) == ':'))
		colons += t->s[p + r++] == ':';
	/* a marker right after: the address went on (see after()) */
	if (r > V6_RUN_MAX || colons < 2 || is_hex(after(t, p + r)))
		return 0;
	*start = p;
	n = v6_with_tail(t, p, r);
	if (n > 0 && v6_text_known(s, t, p, n))
		return n;
	if (v6_text_known(s, t, p, r))
		return r;
	for (n = r; n > r - 2 && t->s[p + n - 1] == ':';)
		if (v6_text_known(s, t, p, --n))
			return n;
	return 0;
}

/* Hex digit value; ch is a hex digit. */
static unsigned
hex_value(int ch)
{
	return is_digit(ch) ? (unsigned)(ch - '0')
			    : (unsigned)((ch | 0x20) - 'a' + 10);
}

/* The nibble name of an IPv6 address of the set at p ("b.a.9. ... .2"
 * before ".ip6.arpa"): its length (63), else 0. */
static size_t
match_ip6_arpa(const struct ww_scrub *s, const struct text *t, size_t p)
{
	unsigned char a[16] = {0};

	if (is_hex(before(t, p, 1)) ||
	    (before(t, p, 1) == '.' && is_hex(before(t, p, 2))) ||
	    at(t, p + 1) != '.' || !has_word(t, p + 63, ".ip6.arpa"))
		return 0;
	for (size_t k = 0; k < 32; k++) {
		int ch = at(t, p + 2 * k);

		if (!is_hex(ch) || (k < 31 && at(t, p + 2 * k + 1) != '.'))
			return 0;
		/* the first nibble is the last of the address */
		a[15 - k / 2] |= (unsigned char)(hex_value(ch) << (k % 2 * 4));
	}
	return has_v6(s, a) ? 63 : 0;
}

/* The first occurrence at or after from: [*ms, *me). */
static bool
find_next(const struct ww_scrub *s, const struct text *t, size_t from,
	  size_t *ms, size_t *me)
{
	for (size_t p = from; p < t->len; p++) {
		int ch = t->s[p];
		size_t n, start;

		if (!is_hex(ch) && ch != ':')
			continue;
		if (s->n4 > 0 && is_digit(ch) && (n = match_v4(s, t, p)) > 0) {
			*ms = p;
			*me = p + n;
			return true;
		}
		if (s->n6 == 0)
			continue;
		if ((n = match_v6(s, t, p, &start)) > 0) {
			*ms = start;
			*me = start + n;
			return true;
		}
		if ((n = match_ip6_arpa(s, t, p)) > 0) {
			*ms = p;
			*me = p + n;
			return true;
		}
	}
	return false;
}

/* --- building results ----------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void
buf_add(struct buf *b, const void *data, size_t n)
{
	if (n > SIZE_MAX / 2 - b->len) {
		fprintf(stderr, "scrub: output too large\n");
		abort();
	}
	if (b->len + n > b->cap) {
		b->cap = b->cap * 2 > b->len + n ? b->cap * 2 : b->len + n;
		b->p = xrealloc(b->p, b->cap);
	}
	if (n > 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

/*
 * Replace the text forms found in in[0..len) by the marker, copying the
 * bytes between them from src (in itself, or in with binary forms zeroed:
 * finding text in the original keeps the two kinds independent). NULL when
 * nothing was found; else a NUL-terminated buffer.
 */
static char *
scrub_text_from(const struct ww_scrub *s, const char *in, const char *src,
		size_t len, size_t *outlen, size_t *count)
{
	struct text t = {(const unsigned char *)in, len};
	struct buf b = {NULL, 0, 0};
	size_t from = 0, ms, me, n = 0;

	while (find_next(s, &t, from, &ms, &me)) {
		buf_add(&b, src + from, ms - from);
		buf_add(&b, WW_SCRUBBED, MARK_LEN);
		from = me;
		n++;
	}
	if (n == 0)
		return NULL;
	buf_add(&b, src + from, len - from);
	buf_add(&b, "", 1);
	*outlen = b.len - 1;
	*count += n;
	return b.p;
}

static char *
copy_bytes(const char *in, size_t len)
{
	char *out;

	if (len == SIZE_MAX) {
		fprintf(stderr, "scrub: input too large\n");
		abort();
	}
	out = xmalloc(len + 1);
	if (len > 0)
		memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

char *
ww_scrub_text(const struct ww_scrub *s, const char *in, size_t len,
	      size_t *outlen, size_t *count)
{
	char *out = NULL;

	if (ww_scrub_count(s) > 0)
		out = scrub_text_from(s, in, in, len, outlen, count);
	if (out == NULL) {
		out = copy_bytes(in, len);
		*outlen = len;
	}
	return out;
}

/* Zero each network-order address in b[0..len); returns how many. */
static size_t
zero_binary(const struct ww_scrub *s, unsigned char *b, size_t len)
{
	bool first[256] = {false};
	size_t n = 0;

	for (size_t i = 0; i < s->n4; i++)
		first[s->v4[i][0]] = true;
	for (size_t i = 0; i < s->n6; i++)
		first[s->v6[i][0]] = true;
	for (size_t i = 0; i < len;) {
		size_t k = 0;

		if (first[b[i]]) {
			if (len - i >= 4 && has_v4(s, b + i))
				k = 4;
			else if (len - i >= 16 && has_v6(s, b + i))
				k = 16;
		}
		if (k == 0) {
			i++;
			continue;
		}
		memset(b + i, 0, k);
		i += k;
		n++;
	}
	return n;
}

char *
ww_scrub_bytes(const struct ww_scrub *s, const char *in, size_t len,
	       size_t *outlen, size_t *count)
{
	char *zeroed = copy_bytes(in, len), *out;
	size_t n;

	*outlen = len;
	if (ww_scrub_count(s) == 0)
		return zeroed;
	n = zero_binary(s, (unsigned char *)zeroed, len);
	*count += n;
	out = scrub_text_from(s, in, zeroed, len, outlen, count);
	if (out == NULL)
		return zeroed;
	free(zeroed);
	return out;
}

/* The shortest cut address masked: a lone first byte or digit tells
 * nothing, and would mask too much. */
#define CUT_MIN 2

/* The longest tail of orig[0..len), shorter than form[0..flen) and at
 * least CUT_MIN long, that begins form (letters without case); 0: none.
 * text: the tail must not continue a number before it. */
static size_t
cut_prefix(const unsigned char *orig, size_t len, const unsigned char *form,
	   size_t flen, bool text)
{
	for (size_t k = flen - 1; k >= CUT_MIN; k--) {
		const unsigned char *t = orig + len - k;

		if (k > len ||
		    (text ? strncasecmp((const char *)t, (const char *)form, k)
			  : memcmp(t, form, k)) != 0)
			continue;
		if (text && k < len &&
		    (is_hex(t[-1]) || t[-1] == '.' || t[-1] == ':' ||
		     t[-1] == '-'))
			continue;
		return k;
	}
	return 0;
}

/* The longest tail of orig that begins one of the addresses in a text
 * form (dotted, dashed; IPv6 as inet_ntop writes it), *text set. */
static size_t
cut_text(const struct ww_scrub *s, const unsigned char *orig, size_t len)
{
	char form[INET6_ADDRSTRLEN];
	size_t best = 0, k;

	for (size_t i = 0; i < s->n4 + s->n6; i++) {
		bool v4 = i < s->n4;

		if (inet_ntop(v4 ? AF_INET : AF_INET6,
			      v4 ? s->v4[i] : s->v6[i - s->n4], form,
			      sizeof(form)) == NULL)
			continue;
		for (int dash = 0; dash < (v4 ? 2 : 1); dash++) {
			for (char *c = form; dash && *c != '\0'; c++)
				if (*c == '.')
					*c = '-';
			k = cut_prefix(orig, len, (const unsigned char *)form,
				       strlen(form), true);
			best = k > best ? k : best;
		}
	}
	return best;
}

/*
 * The end of b may cut an address: a capture's snaplen, the end of a TCP
 * segment. What is left of it (the first 3 bytes of 4 are the volunteer's
 * /24) is masked as the whole would be: the longest tail of orig that
 * begins an address, binary (zeros) or text (WW_SCRUB_MASK). Returns 1 if
 * it masked one.
 */
static size_t
mask_cut_tail(const struct ww_scrub *s, const unsigned char *orig,
	      unsigned char *b, size_t len)
{
	size_t bin = 0, text, k;

	for (size_t i = 0; i < s->n4; i++)
		if ((k = cut_prefix(orig, len, s->v4[i], 4, false)) > bin)
			bin = k;
	for (size_t i = 0; i < s->n6; i++)
		if ((k = cut_prefix(orig, len, s->v6[i], 16, false)) > bin)
			bin = k;
	text = cut_text(s, orig, len);
	if (bin > 0)
		memset(b + len - bin, 0, bin);
	if (text > 0)
		memset(b + len - text, WW_SCRUB_MASK, text);
	return bin > 0 || text > 0 ? 1 : 0;
}

size_t
ww_scrub_mask_inplace(const struct ww_scrub *s, unsigned char *b, size_t len)
{
	struct text t;
	size_t from = 0, ms, me, n;
	char *orig;

	if (ww_scrub_count(s) == 0 || len == 0)
		return 0;
	/* Text forms are found in the original bytes, as ww_scrub_bytes()
	 * does, so that zeroing a binary form cannot hide or make one. */
	orig = copy_bytes((const char *)b, len);
	t.s = (const unsigned char *)orig;
	t.len = len;
	n = zero_binary(s, b, len);
	while (find_next(s, &t, from, &ms, &me)) {
		memset(b + ms, WW_SCRUB_MASK, me - ms);
		from = me;
		n++;
	}
	n += mask_cut_tail(s, (const unsigned char *)orig, b, len);
	free(orig);
	return n;
}

/* --- JSON ----------------------------------------------------------------- */

static size_t
scrub_string(const struct ww_scrub *s, json_t *str)
{
	size_t n = 0, len;
	char *out;

	out = scrub_text_from(s, json_string_value(str), json_string_value(str),
			      json_string_length(str), &len, &n);
	if (out != NULL) {
		/* only ASCII was replaced by ASCII: UTF-8 stays as valid as
		 * it was, no need to check it again */
		json_string_setn_nocheck(str, out, len);
		free(out);
	}
	return n;
}

/* A base64 string: scrubbed as binary if it decodes, as text if not. */
static size_t
scrub_b64_string(const struct ww_scrub *s, json_t *str)
{
	unsigned char *raw;
	char *out, *b64;
	size_t len, n = 0;

	/* Input of at most B64_DECODE_MAX / 3 groups of four. */
	raw = ww_base64_decode(json_string_value(str), json_string_length(str),
			       B64_DECODE_MAX / 3 * 4 + 3, &len);
	if (raw == NULL)
		return scrub_string(s, str);
	out = ww_scrub_bytes(s, (const char *)raw, len, &len, &n);
	if (n > 0) {
		b64 = ww_base64((const unsigned char *)out, len);
		json_string_set_nocheck(str, b64);
		free(b64);
	}
	free(out);
	free(raw);
	return n;
}

static bool
key_is(const char *key, size_t klen, const char *want)
{
	return klen == strlen(want) && memcmp(key, want, klen) == 0;
}

/* An OONI df-001 binary body: {"format":"base64","data":"..."}. */
static bool
is_b64_object(const json_t *o)
{
	const json_t *f = json_object_get(o, "format");

	return json_is_string(f) &&
	       strcmp(json_string_value(f), "base64") == 0 &&
	       json_is_string(json_object_get(o, "data"));
}

/*
 * A renamed key that is free in both the original object (so that it
 * cannot take the name of a key we keep) and in the one being built:
 * key, else key + " (2)", " (3)", ... Caller frees.
 */
static char *
free_key(const json_t *orig, const json_t *fresh, const char *key, size_t klen,
	 size_t *outlen)
{
	char *k = copy_bytes(key, klen), suffix[32];

	*outlen = klen;
	for (size_t i = 2; json_object_getn(orig, k, *outlen) != NULL ||
			   json_object_getn(fresh, k, *outlen) != NULL;
	     i++) {
		int sn = snprintf(suffix, sizeof(suffix), " (%zu)", i);

		free(k);
		k = xmalloc(klen + (size_t)sn + 1);
		memcpy(k, key, klen);
		memcpy(k + klen, suffix, (size_t)sn + 1);
		*outlen = klen + (size_t)sn;
	}
	return k;
}

static bool
keys_need_scrub(const struct ww_scrub *s, json_t *o)
{
	const char *key;
	size_t klen, ms, me;
	json_t *v;

	json_object_keylen_foreach(o, key, klen, v)
	{
		struct text t = {(const unsigned char *)key, klen};

		(void)v;
		if (find_next(s, &t, 0, &ms, &me))
			return true;
	}
	return false;
}

/* Rename the keys of o that hold an address, keeping the order (jansson
 * keeps insertion order: rebuild, clear, refill). */
static size_t
scrub_keys(const struct ww_scrub *s, json_t *o)
{
	json_t *fresh, *v;
	const char *key;
	size_t klen, n = 0, len, flen;
	char *scrubbed, *k;

	if (!keys_need_scrub(s, o))
		return 0;
	fresh = json_object();
	json_object_keylen_foreach(o, key, klen, v)
	{
		scrubbed = scrub_text_from(s, key, key, klen, &len, &n);
		if (scrubbed == NULL) {
			json_object_setn_nocheck(fresh, key, klen, v);
			continue;
		}
		k = free_key(o, fresh, scrubbed, len, &flen);
		json_object_setn_nocheck(fresh, k, flen, v);
		free(k);
		free(scrubbed);
	}
	json_object_clear(o);
	json_object_keylen_foreach(fresh, key, klen, v)
		json_object_setn_nocheck(o, key, klen, v);
	json_decref(fresh);
	return n;
}

struct stack {
	json_t **v;
	size_t n, cap;
};

/* Keys first, then values: strings that hold binary now, the rest later
 * from the stack. */
static size_t
scrub_object(const struct ww_scrub *s, json_t *o, struct stack *st)
{
	size_t n = scrub_keys(s, o);
	bool b64 = is_b64_object(o);
	const char *key;
	size_t klen;
	json_t *v;

	json_object_keylen_foreach(o, key, klen, v)
	{
		if (json_is_string(v) && ((b64 && key_is(key, klen, "data")) ||
					  key_is(key, klen, "raw_response")))
			n += scrub_b64_string(s, v);
		else
			*WW_PUSH(st->v, st->n, st->cap) = v;
	}
	return n;
}

size_t
ww_scrub_json(const struct ww_scrub *s, json_t *root)
{
	struct stack st = {NULL, 0, 0};
	size_t n = 0, i;
	json_t *j, *item;

	if (root == NULL || ww_scrub_count(s) == 0)
		return 0;
	/* an explicit stack: no recursion depth to exhaust */
	*WW_PUSH(st.v, st.n, st.cap) = root;
	while (st.n > 0) {
		j = st.v[--st.n];
		switch (json_typeof(j)) {
		case JSON_STRING:
			n += scrub_string(s, j);
			break;
		case JSON_ARRAY:
			json_array_foreach(j, i, item) *
				WW_PUSH(st.v, st.n, st.cap) = item;
			break;
		case JSON_OBJECT:
			n += scrub_object(s, j, &st);
			break;
		default:
			break;
		}
	}
	free(st.v);
	return n;
}
