/*
 * test_scrub.c - removing the volunteer's addresses (probe/scrub.c): the
 * address set, each boundary rule of the IPv4 and IPv6 text forms, the
 * binary forms, and whole measurements (headers, bodies, base64 bodies,
 * DNS answers and raw messages, keys).
 *
 * Linked from build/libprobe.a.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"
#include "../../probe/scrub.h"

#define S WW_SCRUBBED

/* --- helpers ----------------------------------------------------------- */

static struct ww_scrub *
set_of(const char *a, const char *b)
{
	struct ww_scrub *s = ww_scrub_new();

	if (a != NULL)
		assert_int_equal(ww_scrub_add(s, a), 0);
	if (b != NULL)
		assert_int_equal(ww_scrub_add(s, b), 0);
	return s;
}

/* Text-scrubbing in must give want and n replacements. */
static void
text_is(const struct ww_scrub *s, const char *in, const char *want, size_t n)
{
	size_t len = 12345, count = 7;
	char *out = ww_scrub_text(s, in, strlen(in), &len, &count);

	if (strcmp(out, want) != 0 || count != 7 + n)
		print_error("in:   %s\nout:  %s\nwant: %s (%zu, want %zu)\n",
			    in, out, want, count - 7, n);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	assert_int_equal(count, 7 + n);
	free(out);
}

/* in has no occurrence. */
static void
text_kept(const struct ww_scrub *s, const char *in)
{
	text_is(s, in, in, 0);
}

/* A JSON document from text (the test fails if it does not parse). */
static json_t *
doc(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

	if (j == NULL)
		fail_msg("bad JSON in test: %s", e.text);
	return j;
}

/* j as compact text with keys in their order; caller frees. */
static char *
dump(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	assert_non_null(s);
	return s;
}

static void
json_is(const json_t *j, const char *want)
{
	char *got = dump(j);

	if (strcmp(got, want) != 0)
		print_error("got:  %s\nwant: %s\n", got, want);
	assert_string_equal(got, want);
	free(got);
}

static char *
b64(const void *data, size_t len)
{
	return ww_base64((const unsigned char *)data, len);
}

/* --- the set ------------------------------------------------------------- */

static void
test_add(void **state)
{
	struct ww_scrub *s = ww_scrub_new();
	char ip[32];

	(void)state;
	assert_int_equal(ww_scrub_count(s), 0);
	assert_int_equal(ww_scrub_add(s, "203.0.113.7"), 0);
	assert_int_equal(ww_scrub_add(s, "2001:db8::7"), 0);
	assert_int_equal(ww_scrub_count(s), 2);
	/* duplicates, in any spelling */
	assert_int_equal(ww_scrub_add(s, "203.0.113.7"), 0);
	assert_int_equal(ww_scrub_add(s, "2001:DB8:0:0:0:0:0:7"), 0);
	assert_int_equal(
		ww_scrub_add(s, "2001:0db8:0000:0000:0000:0000:0000:0007"), 0);
	assert_int_equal(ww_scrub_add(s, "::ffff:203.0.113.7"), 0);
	assert_int_equal(ww_scrub_count(s), 2);
	/* not addresses */
	assert_int_equal(ww_scrub_add(s, NULL), -1);
	assert_int_equal(ww_scrub_add(s, ""), -1);
	assert_int_equal(ww_scrub_add(s, "1.2.3"), -1);
	assert_int_equal(ww_scrub_add(s, "1.2.3.256"), -1);
	assert_int_equal(ww_scrub_add(s, " 1.2.3.4"), -1);
	assert_int_equal(ww_scrub_add(s, "[2001:db8::1]"), -1);
	assert_int_equal(ww_scrub_add(s, "example.org"), -1);
	assert_int_equal(ww_scrub_add(s, "2001:db8::1::2"), -1);
	/* the unspecified address would match every run of zero bytes */
	assert_int_equal(ww_scrub_add(s, "0.0.0.0"), -1);
	assert_int_equal(ww_scrub_add(s, "::"), -1);
	assert_int_equal(ww_scrub_add(s, "::ffff:0.0.0.0"), -1);
	assert_int_equal(ww_scrub_count(s), 2);
	/* an IPv4-mapped address is its IPv4 address */
	assert_int_equal(ww_scrub_add(s, "::ffff:198.51.100.1"), 0);
	assert_int_equal(ww_scrub_count(s), 3);
	text_is(s, "at 198.51.100.1", "at " S, 1);

	/* at most WW_SCRUB_MAX */
	for (int i = 0; ww_scrub_count(s) < WW_SCRUB_MAX; i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%d", i + 1);
		assert_int_equal(ww_scrub_add(s, ip), 0);
	}
	assert_int_equal(ww_scrub_add(s, "10.1.0.1"), -1);
	assert_int_equal(ww_scrub_add(s, "2001:db8::99"), -1);
	assert_int_equal(ww_scrub_add(s, "10.0.0.1"), 0); /* duplicate */
	assert_int_equal(ww_scrub_count(s), WW_SCRUB_MAX);
	ww_scrub_free(s);
}

static void
test_empty_set(void **state)
{
	struct ww_scrub *s = ww_scrub_new();
	json_t *j = doc("{\"1.2.3.4\":[\"1.2.3.4\",{\"format\":\"base64\","
			"\"data\":\"AQIDBA==\"}]}");
	size_t len, count = 0;
	char *out;

	(void)state;
	text_kept(s, "1.2.3.4 2001:db8::1");
	out = ww_scrub_bytes(s, "\x01\x02\x03\x04", 4, &len, &count);
	assert_int_equal(len, 4);
	assert_memory_equal(out, "\x01\x02\x03\x04", 5);
	assert_int_equal(count, 0);
	free(out);
	assert_int_equal(ww_scrub_json(s, j), 0);
	json_is(j, "{\"1.2.3.4\":[\"1.2.3.4\",{\"format\":\"base64\","
		   "\"data\":\"AQIDBA==\"}]}");
	json_decref(j);
	assert_int_equal(ww_scrub_json(s, NULL), 0);
	ww_scrub_free(s);
}

/* --- IPv4 text ------------------------------------------------------------ */

static void
test_v4_dotted(void **state)
{
	struct ww_scrub *s = set_of("1.2.3.4", NULL);

	(void)state;
	text_is(s, "1.2.3.4", S, 1);
	text_is(s, "my ip: 1.2.3.4.", "my ip: " S ".", 1);
	text_is(s, "1.2.3.4,1.2.3.4;(1.2.3.4)", S "," S ";(" S ")", 3);
	text_is(s, "1.2.3.4:443 and 1.2.3.4/32", S ":443 and " S "/32", 2);
	text_is(s, "ip=1.2.3.4&x", "ip=" S "&x", 1);
	text_is(s, "x1.2.3.4y", "x" S "y", 1); /* letters are boundaries */
	text_is(s, "host.1.2.3.4", "host." S, 1);
	text_is(s, "001.002.003.004 and 01.2.03.4", S " and " S, 2);
	text_is(s, "X-Forwarded-For: 10.0.0.1, 1.2.3.4",
		"X-Forwarded-For: 10.0.0.1, " S, 1);
	/* not at a number boundary */
	text_kept(s, "11.2.3.4");
	text_kept(s, "1.2.3.45");
	text_kept(s, "1.2.3.4.5");
	text_kept(s, "5.1.2.3.4");
	text_kept(s, "0001.2.3.4");
	text_kept(s, "1.2.3.0004");
	text_kept(s, "1.2.3");
	text_kept(s, "1.2.3.5 1.2.4.4 version 1.2.3.4.0");
	/* but a lone '.' without a digit on its far side is punctuation */
	text_is(s, ".1.2.3.4.", "." S ".", 1);
	text_is(s, "v1.2.3.4.x", "v" S ".x", 1);
	ww_scrub_free(s);
}

static void
test_v4_dashed_and_reverse(void **state)
{
	struct ww_scrub *s = set_of("1.2.3.4", NULL);

	(void)state;
	text_is(s, "ip-1-2-3-4.example.net", "ip-" S ".example.net", 1);
	text_is(s, "1-2-3-4.dyn.example", S ".dyn.example", 1);
	text_is(s, "host-001-002-003-004", "host-" S, 1);
	text_kept(s, "ip-11-2-3-4.example");
	text_kept(s, "ip-1-2-3-45.example");
	text_kept(s, "ip-1-2-3-4-5.example");
	text_kept(s, "ip-0-1-2-3-4.example");
	text_kept(s, "1-2.3-4");
	/* reverse DNS: the digits go, the zone stays */
	text_is(s, "4.3.2.1.in-addr.arpa", S ".in-addr.arpa", 1);
	text_is(s, "PTR 4.3.2.1.IN-ADDR.ARPA.", "PTR " S ".IN-ADDR.ARPA.", 1);
	text_kept(s, "4.3.2.1.example"); /* reversed, not reverse DNS */
	text_kept(s, "5.4.3.2.1.in-addr.arpa");
	text_kept(s, "3.2.1.in-addr.arpa");
	/* IPv4-mapped IPv6, through the IPv4 rule */
	text_is(s, "::ffff:1.2.3.4", "::ffff:" S, 1);
	text_is(s, "[::FFFF:1.2.3.4]:80", "[::FFFF:" S "]:80", 1);
	ww_scrub_free(s);
}

/* --- IPv6 text ------------------------------------------------------------ */

static void
test_v6_spellings(void **state)
{
	struct ww_scrub *s = set_of("2001:db8::1", NULL);

	(void)state;
	text_is(s, "2001:db8::1", S, 1);
	text_is(s, "2001:DB8::1", S, 1);
	text_is(s, "2001:0db8:0000:0000:0000:0000:0000:0001", S, 1);
	text_is(s, "2001:0DB8:0000:0000:0000:0000:0000:0001", S, 1);
	text_is(s, "2001:db8:0:0:0:0:0:1", S, 1);
	text_is(s, "2001:db8:0::0:1", S, 1); /* any other valid spelling */
	text_is(s, "2001:db8::0.0.0.1", S, 1);
	text_is(s, "[2001:db8::1]:443", "[" S "]:443", 1);
	text_is(s, "http://[2001:db8::1]/x", "http://[" S "]/x", 1);
	text_is(s, "fe 2001:db8::1%eth0", "fe " S "%eth0", 1);
	text_is(s, "ip:2001:db8::1", "ip:" S, 1);
	text_is(s, "addr 2001:db8::1: refused", "addr " S ": refused", 1);
	text_is(s, "2001:db8::1, 2001:db8::1.", S ", " S ".", 2);
	text_is(s, "\"2001:db8::1\"", "\"" S "\"", 1);
	/* a longer address that starts or ends like ours is not ours */
	text_kept(s, "2001:db8::10");
	text_kept(s, "2001:db8::1f");
	text_kept(s, "12001:db8::1");
	text_kept(s, "a2001:db8::1");
	text_kept(s, "2001:db8::1:443");
	text_kept(s, "1:2001:db8::1");
	text_kept(s, "2001:db8::1:2:3:4:5:6:7:8:9");
	text_kept(s, "2001:db8:0:0:0:0:0:0:1");
	text_kept(s, "2001:db8::2");
	text_kept(s, "2001-db8--1");
	text_kept(s, "deadbeef2001:db8::1");
	ww_scrub_free(s);

	/* the canonical form of an address with a dotted tail */
	s = set_of("64:ff9b::198.51.100.7", NULL);
	text_is(s, "64:ff9b::c633:6407 and 64:ff9b::198.51.100.7.",
		S " and " S ".", 2);
	text_kept(s, "64:ff9b::198.51.100.70");
	text_kept(s, "64:ff9b::198.51.100.7.5");
	ww_scrub_free(s);

	/* "::1"-like short forms at the start */
	s = set_of("::2", NULL);
	text_is(s, "x ::2 y", "x " S " y", 1);
	text_is(s, "0:0:0:0:0:0:0:2", S, 1);
	text_kept(s, "std::2");
	ww_scrub_free(s);
}

static void
test_v6_reverse(void **state)
{
	struct ww_scrub *s = set_of("2001:db8::567:89ab", NULL);
	const char *name = "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0."
			   "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
	char in[256], want[256];

	(void)state;
	text_is(s, name, S ".ip6.arpa", 1);
	snprintf(in, sizeof(in), "PTR %s.", name);
	text_is(s, in, "PTR " S ".ip6.arpa.", 1);
	strcpy(in, name);
	in[0] = 'B'; /* any case */
	memcpy(in + 64, "IP6.ARPA", 8);
	text_is(s, in, S ".IP6.ARPA", 1);
	snprintf(in, sizeof(in), "c.%s", name); /* one nibble too many */
	text_kept(s, in);
	strcpy(in, name);
	in[0] = 'c'; /* another address */
	text_kept(s, in);
	snprintf(want, sizeof(want), "%.63s.example", name);
	text_kept(s, want);
	ww_scrub_free(s);
}

static void
test_rescan(void **state)
{
	struct ww_scrub *s = set_of("1.2.3.4", "2001:db8::1");
	size_t len, count = 0;
	char *once, *twice;
	const char *in = "1.2.3.4-1-2-3-4 1.2.3.4.1.2.3.4 2001:db8::1:1.2.3.4 "
			 "5-1-2-3-4";

	(void)state;
	/* boundaries are judged on the text as given... */
	once = ww_scrub_text(s, in, strlen(in), &len, &count);
	assert_string_equal(once, S "-1-2-3-4 1.2.3.4.1.2.3.4 2001:db8::1:" S
				    " 5-1-2-3-4");
	assert_int_equal(count, 2);
	/* ...and a marker counts as part of an address, so that a second
	 * pass finds nothing more ("2001:db8::1:" + marker is not ours) */
	count = 0;
	twice = ww_scrub_text(s, once, len, &len, &count);
	assert_int_equal(count, 0);
	assert_string_equal(once, twice);
	free(once);
	free(twice);
	text_kept(s, S "-1-2-3-4");
	text_kept(s, S ".1.2.3.4");
	text_kept(s, "1.2.3.4." S);
	text_kept(s, "1-2-3-4-" S);
	text_kept(s, "1.2.3.4" S);
	text_kept(s, "2001:db8::1" S);
	text_kept(s, "2001:db8::1:" S);
	text_kept(s, S ":2001:db8::1");
	text_is(s, S " 1.2.3.4 " S, S " " S " " S, 1);
	text_is(s, S "/1.2.3.4", S "/" S, 1);
	text_is(s, "[scrubbed 1.2.3.4", "[scrubbed " S, 1);
	ww_scrub_free(s);
}

/* --- binary -------------------------------------------------------------- */

static void
test_bytes(void **state)
{
	struct ww_scrub *s = set_of("192.0.2.7", "2001:db8::7");
	static const unsigned char v6[16] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
	unsigned char in[64], want[64];
	size_t len = 0, count = 0;
	char *out;

	(void)state;
	/* A DNS-like answer: the address as 4 and 16 bytes, zeroed in
	 * place, and as text, replaced */
	memset(in, 0xee, sizeof(in));
	memcpy(in + 1, "\xc0\x00\x02\x07", 4);
	memcpy(in + 10, v6, 16);
	memcpy(in + 30, "ip=192.0.2.7;", 13);
	in[50] = 0xc0; /* 3 bytes of the address at the end only */
	memcpy(in + 61, "\xc0\x00\x02", 3);
	out = ww_scrub_bytes(s, (const char *)in, sizeof(in), &len, &count);
	assert_int_equal(count, 3);
	assert_int_equal(len, sizeof(in) - 9 + strlen(S));
	memcpy(want, in, sizeof(in));
	memset(want + 1, 0, 4);
	memset(want + 10, 0, 16);
	assert_memory_equal(out, want, 30);
	assert_memory_equal(out + 30, "ip=" S ";", 3 + strlen(S) + 1);
	assert_memory_equal(out + 30 + 3 + strlen(S) + 1, want + 43, 21);
	assert_int_equal(out[len], '\0');
	free(out);

	/* text-only scrubbing leaves the binary forms alone */
	count = 0;
	out = ww_scrub_text(s, (const char *)in, 30, &len, &count);
	assert_int_equal(count, 0);
	assert_int_equal(len, 30);
	assert_memory_equal(out, in, 30);
	free(out);

	/* nothing to find: a copy, NUL-terminated */
	out = ww_scrub_bytes(s, "", 0, &len, &count);
	assert_int_equal(len, 0);
	assert_int_equal(out[0], '\0');
	free(out);
	ww_scrub_free(s);
}

/* In place, same length: the pcapng file's payloads. */
static void
test_mask_inplace(void **state)
{
	struct ww_scrub *s = set_of("192.0.2.7", "2001:db8::7");
	unsigned char b[48], want[48];

	(void)state;
	memset(b, 0xee, sizeof(b));
	memcpy(b + 1, "\xc0\x00\x02\x07", 4);
	memcpy(b + 8, "ip=192.0.2.7;[2001:db8::7]", 26);
	memcpy(b + 45, "\xc0\x00\x02", 3); /* cut by the snaplen */
	memcpy(want, b, sizeof(b));
	memset(want + 1, 0, 4);
	memset(want + 11, 'x', 9);
	memset(want + 22, 'x', 11);
	memset(want + 45, 0, 3); /* its /24 would tell where the probe is */
	assert_int_equal(ww_scrub_mask_inplace(s, b, sizeof(b)), 4);
	assert_memory_equal(b, want, sizeof(b));
	/* nothing left to find; an empty set masks nothing */
	assert_int_equal(ww_scrub_mask_inplace(s, b, sizeof(b)), 0);
	ww_scrub_free(s);
	s = ww_scrub_new();
	assert_int_equal(ww_scrub_mask_inplace(s, b, sizeof(b)), 0);
	assert_memory_equal(b, want, sizeof(b));
	ww_scrub_free(s);
}

/* An address cut by the end of the buffer (the snaplen, a segment's end)
 * is masked as far as it goes, in every form; a number that only looks
 * like its start, or one byte of it, is not. */
static void
test_mask_cut_tail(void **state)
{
	struct ww_scrub *s = set_of("203.0.113.45", "2001:db8:5::7");
	static const struct {
		const char *in, *want;
		size_t ret;
	} cases[] = {
		{"Your IP: 203.0.113.4", "Your IP: xxxxxxxxxxx", 1},
		{"host 203-0-113", "host xxxxxxxxx", 1},
		{"from 2001:DB8:5:", "from xxxxxxxxxxx", 1},
		{"size 1203.0.11", "size 1203.0.11", 0},
		{"a 2", "a 2", 0},
		{"whole 203.0.113.45", "whole xxxxxxxxxxxx", 1},
	};
	unsigned char b[64];

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(cases); i++) {
		size_t n = strlen(cases[i].in);

		memcpy(b, cases[i].in, n);
		assert_int_equal(ww_scrub_mask_inplace(s, b, n), cases[i].ret);
		assert_memory_equal(b, cases[i].want, n);
	}
	/* binary: 2 bytes of the IPv6 address and more are masked */
	memcpy(b, "ab\x20\x01\x0d\xb8\x00", 7);
	assert_int_equal(ww_scrub_mask_inplace(s, b, 7), 1);
	assert_memory_equal(b, "ab\0\0\0\0\0", 7);
	memcpy(b, "ab\xcb", 3); /* one byte of 203.0.113.45: kept */
	assert_int_equal(ww_scrub_mask_inplace(s, b, 3), 0);
	assert_memory_equal(b, "ab\xcb", 3);
	ww_scrub_free(s);
}

static void
test_bytes_text_over_binary(void **state)
{
	/* 49.46.50.46 is "1.2." as bytes: the text form of 1.2.3.4 that
	 * overlaps it is still replaced whole */
	struct ww_scrub *s = set_of("1.2.3.4", "49.46.50.46");
	size_t len, count = 0;
	char *out = ww_scrub_bytes(s, "a 1.2.3.4 1.2.x", 15, &len, &count);

	(void)state;
	assert_int_equal(count, 3);
	assert_int_equal(len, 2 + strlen(S) + 6);
	assert_memory_equal(out, "a " S " \0\0\0\0x", len);
	free(out);
	ww_scrub_free(s);
}

static void
test_large(void **state)
{
	struct ww_scrub *s = set_of("1.2.3.4", "2001:db8::1");
	size_t n = 64 * 1024, len, count = 0, want = 0;
	char *in = xmalloc(n + 1), *out;

	(void)state;
	/* digits, dots, hex and colons everywhere: many candidates */
	for (size_t i = 0; i < n; i++)
		in[i] = "0123456789abcdef.:- "[(i * 7 + i / 13) % 20];
	for (size_t i = 100; i + 20 < n; i += 997) {
		memcpy(in + i, " 1.2.3.4 ", 9);
		want++;
	}
	in[n] = '\0';
	out = ww_scrub_text(s, in, n, &len, &count);
	assert_true(count >= want);
	assert_int_equal(len, n + count * (strlen(S) - 7));
	free(out);
	free(in);
	ww_scrub_free(s);
}

/* --- JSON ----------------------------------------------------------------- */

static void
test_json_measurement(void **state)
{
	struct ww_scrub *s = set_of("192.0.2.7", "2001:db8::7");
	/* "ip=192.0.2.7 " + the 4 bytes + the 16 bytes */
	static const char body[] =
		"ip=192.0.2.7 \xc0\x00\x02\x07\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0"
		"\0\0\0\x07\xff";
	static const char body_want[] =
		"ip=" S " \0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xff";
	/* a DNS answer: header, question, one A record with our address */
	static const unsigned char dns[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0,  0, 0, /* header */
		2,    'i',  'p',  0,	0, 1, 0, 1,		 /* ip. A IN */
		0xc0, 0x0c, 0,	  1,	0, 1, 0, 0, 0, 60, 0, 4, /* answer */
		192,  0,    2,	  7};
	unsigned char dns_want[sizeof(dns)];
	char *body64 = b64(body, sizeof(body) - 1);
	char *body64_want = b64(body_want, sizeof(body_want) - 1);
	char *dns64 = b64(dns, sizeof(dns)), *dns64_want, *text, *want;
	json_t *j;

	(void)state;
	memcpy(dns_want, dns, sizeof(dns));
	memset(dns_want + sizeof(dns) - 4, 0, 4);
	dns64_want = b64(dns_want, sizeof(dns_want));
	text = xasprintf(
		"{\"probe_ip\":\"127.0.0.1\",\"test_keys\":{"
		"\"queries\":[{\"hostname\":\"ip.\",\"answers\":["
		"{\"answer_type\":\"A\",\"ipv4\":\"192.0.2.7\",\"ttl\":60},"
		"{\"answer_type\":\"AAAA\",\"ipv6\":\"2001:db8::7\"},"
		"{\"answer_type\":\"PTR\",\"hostname\":"
		"\"7.2.0.192.in-addr.arpa\"}],"
		"\"raw_response\":\"%s\"}],"
		"\"requests\":[{\"request\":{\"headers\":{"
		"\"X-Real-IP\":\"192.0.2.7\",\"Host\":\"ip.example\"},"
		"\"headers_list\":[[\"X-Real-IP\",\"192.0.2.7\"],"
		"[\"Host\",\"ip.example\"]]},"
		"\"response\":{\"headers\":{\"Via\":\"1.1 [2001:db8::7]:80\"},"
		"\"headers_list\":[[\"Via\",\"1.1 [2001:db8::7]:80\"]],"
		"\"body\":\"<p>Your IP: 192.0.2.7</p>\"}},"
		"{\"response\":{\"body\":{\"format\":\"base64\","
		"\"data\":\"%s\"},\"body_length\":34}}],"
		"\"tls_handshakes\":[{\"address\":\"192.0.2.70:443\"}]}}",
		dns64, body64);
	want = xasprintf(
		"{\"probe_ip\":\"127.0.0.1\",\"test_keys\":{"
		"\"queries\":[{\"hostname\":\"ip.\",\"answers\":["
		"{\"answer_type\":\"A\",\"ipv4\":\"" S "\",\"ttl\":60},"
		"{\"answer_type\":\"AAAA\",\"ipv6\":\"" S "\"},"
		"{\"answer_type\":\"PTR\",\"hostname\":"
		"\"" S ".in-addr.arpa\"}],"
		"\"raw_response\":\"%s\"}],"
		"\"requests\":[{\"request\":{\"headers\":{"
		"\"X-Real-IP\":\"" S "\",\"Host\":\"ip.example\"},"
		"\"headers_list\":[[\"X-Real-IP\",\"" S "\"],"
		"[\"Host\",\"ip.example\"]]},"
		"\"response\":{\"headers\":{\"Via\":\"1.1 [" S "]:80\"},"
		"\"headers_list\":[[\"Via\",\"1.1 [" S "]:80\"]],"
		"\"body\":\"<p>Your IP: " S "</p>\"}},"
		"{\"response\":{\"body\":{\"format\":\"base64\","
		"\"data\":\"%s\"},\"body_length\":34}}],"
		"\"tls_handshakes\":[{\"address\":\"192.0.2.70:443\"}]}}",
		dns64_want, body64_want);
	j = doc(text);
	/* 3 answers, raw_response 1, request 2, response 2, body 1, base64
	 * body 3 (text, 4 bytes, 16 bytes) */
	assert_int_equal(ww_scrub_json(s, j), 12);
	json_is(j, want);
	/* a second pass finds nothing */
	assert_int_equal(ww_scrub_json(s, j), 0);
	json_is(j, want);
	json_decref(j);
	free(text);
	free(want);
	free(body64);
	free(body64_want);
	free(dns64);
	free(dns64_want);
	ww_scrub_free(s);
}

static void
test_json_base64_edge(void **state)
{
	struct ww_scrub *s = set_of("1.2.3.4", NULL);
	json_t *j;

	(void)state;
	/* invalid base64 is scrubbed as text */
	j = doc("{\"format\":\"base64\",\"data\":\"not base64: 1.2.3.4\"}");
	assert_int_equal(ww_scrub_json(s, j), 1);
	json_is(j, "{\"format\":\"base64\",\"data\":\"not base64: " S "\"}");
	json_decref(j);
	/* without "format":"base64", data is text: "AQIDBA==" stays */
	j = doc("{\"data\":\"AQIDBA==\",\"format\":\"b64\"}");
	assert_int_equal(ww_scrub_json(s, j), 0);
	json_is(j, "{\"data\":\"AQIDBA==\",\"format\":\"b64\"}");
	json_decref(j);
	/* with it, the bytes 1 2 3 4 are zeroed; valid base64 that holds
	 * nothing is left exactly as it was */
	j = doc("[{\"data\":\"AQIDBA==\",\"format\":\"base64\"},"
		"{\"format\":\"base64\",\"data\":\"AQID\"},"
		"{\"format\":\"base64\",\"data\":\"\"},"
		"{\"raw_response\":\"AAECAwQF\"},{\"raw_response\":null}]");
	assert_int_equal(ww_scrub_json(s, j), 2);
	json_is(j, "[{\"data\":\"AAAAAA==\",\"format\":\"base64\"},"
		   "{\"format\":\"base64\",\"data\":\"AQID\"},"
		   "{\"format\":\"base64\",\"data\":\"\"},"
		   "{\"raw_response\":\"AAAAAAAF\"},{\"raw_response\":null}]");
	json_decref(j);
	ww_scrub_free(s);
}

static void
test_json_keys(void **state)
{
	struct ww_scrub *s = set_of("1.2.3.4", "5.6.7.8");
	json_t *j;

	(void)state;
	/* renamed in place: the order of the keys is kept */
	j = doc("{\"a\":1,\"X-1.2.3.4\":\"1.2.3.4\",\"b\":{\"5.6.7.8\":[]},"
		"\"c\":3}");
	assert_int_equal(ww_scrub_json(s, j), 3);
	json_is(j, "{\"a\":1,\"X-" S "\":\"" S "\",\"b\":{\"" S "\":[]},"
		   "\"c\":3}");
	json_decref(j);
	/* two keys that become one, and one already named like the result:
	 * nothing is lost, the renamed ones get a suffix */
	j = doc("{\"via 1.2.3.4\":1,\"via " S "\":2,\"via 5.6.7.8\":3}");
	assert_int_equal(ww_scrub_json(s, j), 2);
	json_is(j, "{\"via " S " (2)\":1,\"via " S "\":2,\"via " S " (3)\":3}");
	json_decref(j);
	/* a key with a NUL byte */
	j = json_object();
	json_object_setn_new(j,
			     "a\0"
			     "1.2.3.4",
			     9, json_true());
	assert_int_equal(ww_scrub_json(s, j), 1);
	json_is(j, "{\"a\\u0000" S "\":true}");
	json_decref(j);
	ww_scrub_free(s);
}

static void
test_json_shapes(void **state)
{
	struct ww_scrub *s = set_of("1.2.3.4", NULL);
	json_t *j, *shared;
	size_t depth = 5000;

	(void)state;
	/* a bare string, and a string with a NUL */
	j = json_string("at 1.2.3.4");
	assert_int_equal(ww_scrub_json(s, j), 1);
	assert_string_equal(json_string_value(j), "at " S);
	json_decref(j);
	j = doc("\"1.2.3.4\\u00001.2.3.4\"");
	assert_int_equal(ww_scrub_json(s, j), 2);
	assert_int_equal(json_string_length(j), 2 * strlen(S) + 1);
	json_decref(j);
	/* numbers, booleans, null are left alone */
	j = doc("[1.2, 1234, true, null, \"1.2.3.4\"]");
	assert_int_equal(ww_scrub_json(s, j), 1);
	json_is(j, "[1.2,1234,true,null,\"" S "\"]");
	json_decref(j);
	/* a shared string is scrubbed once */
	shared = json_string("1.2.3.4");
	j = json_pack("[O,O]", shared, shared);
	assert_int_equal(ww_scrub_json(s, j), 1);
	json_is(j, "[\"" S "\",\"" S "\"]");
	json_decref(shared);
	json_decref(j);
	/* deeper than the parser allows: no recursion */
	j = json_string("1.2.3.4");
	for (size_t i = 0; i < depth; i++)
		j = i % 2 ? json_pack("[o]", j) : json_pack("{so}", "k", j);
	assert_int_equal(ww_scrub_json(s, j), 1);
	/* (too deep for json_dumps: look at the innermost string) */
	for (shared = j; !json_is_string(shared);)
		shared = json_is_array(shared) ? json_array_get(shared, 0)
					       : json_object_get(shared, "k");
	assert_string_equal(json_string_value(shared), S);
	json_decref(j);
	ww_scrub_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_empty_set),
		cmocka_unit_test(test_v4_dotted),
		cmocka_unit_test(test_v4_dashed_and_reverse),
		cmocka_unit_test(test_v6_spellings),
		cmocka_unit_test(test_v6_reverse),
		cmocka_unit_test(test_rescan),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_mask_inplace),
		cmocka_unit_test(test_mask_cut_tail),
		cmocka_unit_test(test_bytes_text_over_binary),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_json_measurement),
		cmocka_unit_test(test_json_base64_edge),
		cmocka_unit_test(test_json_keys),
		cmocka_unit_test(test_json_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
