/*
 * test_neutral.c - the neutral payloads: each kind sits where neutral.h
 * says on Wu et al.'s fully-encrypted-traffic rule, for every length from 1
 * to 1,600 and many seeds; deterministic from the seed; and the rule's
 * checker itself on payloads built by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "neutral.h"

static void
seeded(struct ww_neutral_params *p, enum ww_neutral_kind kind, size_t len,
       unsigned seed)
{
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->len = len;
	for (size_t i = 0; i < sizeof(p->seed); i++)
		p->seed[i] = (unsigned char)(seed * 31 + i * (seed >> 3));
}

static unsigned
want_ascii(size_t len)
{
	return len >= 6 ? WW_FET_EX2 | WW_FET_EX3 : WW_FET_EX3;
}

/* Every length 1..1600 with 8 seeds, and a few large ones. */
static void
test_kinds_on_the_rule(void **state)
{
	static const size_t large[] = {
		14, 148, 1200, 1252, 1500, 9000, WW_NEUTRAL_MAX_LEN};
	static unsigned char buf[WW_NEUTRAL_MAX_LEN];
	struct ww_neutral_params p;

	(void)state;
	for (size_t len = 1; len <= 1600; len++) {
		for (unsigned s = 0; s < 8; s++) {
			seeded(&p, WW_NEUTRAL_RANDOM, len, s + len);
			assert_int_equal(ww_neutral_build(&p, buf, len), len);
			if (ww_neutral_fet_exempt(buf, len) != 0)
				fail_msg("random len %zu seed %u: exempt 0x%x",
					 len, s,
					 ww_neutral_fet_exempt(buf, len));
			seeded(&p, WW_NEUTRAL_ASCII, len, s + len);
			assert_int_equal(ww_neutral_build(&p, buf, len), len);
			if (ww_neutral_fet_exempt(buf, len) != want_ascii(len))
				fail_msg("ascii len %zu seed %u: exempt 0x%x",
					 len, s,
					 ww_neutral_fet_exempt(buf, len));
			/* how it stays out of Ex5: no method's first letter
			 * (four given letters by chance are too rare to see) */
			assert_null(memchr("GPH", buf[0], 3));
		}
	}
	for (size_t i = 0; i < sizeof(large) / sizeof(*large); i++) {
		seeded(&p, WW_NEUTRAL_RANDOM, large[i], (unsigned)i);
		assert_int_equal(ww_neutral_build(&p, buf, sizeof(buf)),
				 large[i]);
		assert_int_equal(ww_neutral_fet_exempt(buf, large[i]), 0);
		seeded(&p, WW_NEUTRAL_ASCII, large[i], (unsigned)i);
		assert_int_equal(ww_neutral_build(&p, buf, sizeof(buf)),
				 large[i]);
		assert_int_equal(ww_neutral_fet_exempt(buf, large[i]),
				 WW_FET_EX2 | WW_FET_EX3);
	}
}

/* The bytes look like their kind, not like a repaired constant. */
static void
test_kinds_look_right(void **state)
{
	unsigned char buf[1500];
	struct ww_neutral_params p;
	bool seen[256] = {false};
	size_t distinct = 0, printable = 0;

	(void)state;
	seeded(&p, WW_NEUTRAL_RANDOM, sizeof(buf), 7);
	assert_int_equal(ww_neutral_build(&p, buf, sizeof(buf)), sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++) {
		distinct += !seen[buf[i]];
		seen[buf[i]] = true;
	}
	assert_true(distinct > 200);
	seeded(&p, WW_NEUTRAL_ASCII, sizeof(buf), 7);
	assert_int_equal(ww_neutral_build(&p, buf, sizeof(buf)), sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++) {
		bool pr = buf[i] >= 0x20 && buf[i] <= 0x7e;

		printable += pr;
		assert_int_equal(pr, i % 8 != 7); /* the documented layout */
	}
	assert_int_equal(printable, sizeof(buf) - sizeof(buf) / 8);
}

static void
test_deterministic(void **state)
{
	unsigned char a[600], b[600];
	struct ww_neutral_params p, q;

	(void)state;
	for (int k = 0; k < 2; k++) {
		enum ww_neutral_kind kind =
			k ? WW_NEUTRAL_ASCII : WW_NEUTRAL_RANDOM;

		seeded(&p, kind, sizeof(a), 42);
		assert_int_equal(ww_neutral_build(&p, a, sizeof(a)), 600);
		assert_int_equal(ww_neutral_build(&p, b, sizeof(b)), 600);
		assert_memory_equal(a, b, sizeof(a));
		/* either half of the seed changes the bytes */
		q = p;
		q.seed[0] ^= 1;
		assert_int_equal(ww_neutral_build(&q, b, sizeof(b)), 600);
		assert_memory_not_equal(a, b, sizeof(a));
		q = p;
		q.seed[15] ^= 1;
		assert_int_equal(ww_neutral_build(&q, b, sizeof(b)), 600);
		assert_memory_not_equal(a, b, sizeof(a));
		/* a prefix of a longer payload is not required, a fresh seed is
		 */
		assert_int_equal(ww_neutral_params_random(&q, kind, 600), 0);
		assert_int_equal(q.kind, kind);
		assert_int_equal(q.len, 600);
		assert_int_equal(ww_neutral_build(&q, b, sizeof(b)), 600);
		assert_memory_not_equal(a, b, sizeof(a));
	}
	assert_string_equal(ww_neutral_kind_name(WW_NEUTRAL_RANDOM), "random");
	assert_string_equal(ww_neutral_kind_name(WW_NEUTRAL_ASCII), "ascii");
	assert_null(ww_neutral_kind_name((enum ww_neutral_kind)7));
}

static void
test_bad_params(void **state)
{
	unsigned char buf[64];
	struct ww_neutral_params p;

	(void)state;
	seeded(&p, WW_NEUTRAL_RANDOM, 64, 1);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(ww_neutral_build(&p, buf, 63), -1);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
	p.len = 0;
	assert_int_equal(ww_neutral_build(&p, buf, sizeof(buf)), -1);
	p.len = WW_NEUTRAL_MAX_LEN + 1;
	assert_int_equal(ww_neutral_build(&p, buf, SIZE_MAX), -1);
	seeded(&p, (enum ww_neutral_kind)7, 10, 1);
	assert_int_equal(ww_neutral_build(&p, buf, sizeof(buf)), -1);
	seeded(&p, WW_NEUTRAL_ASCII, 10, 1);
	assert_int_equal(ww_neutral_build(NULL, buf, sizeof(buf)), -1);
	assert_int_equal(ww_neutral_build(&p, NULL, sizeof(buf)), -1);
}

/* The rule's checker on payloads whose exemptions are known by hand. */
static void
test_rule_by_hand(void **state)
{
	static const unsigned char tls[] = {0x16, 0x03, 0x01, 0x02, 0x00,
					    0x01, 0x00, 0x01, 0xfc, 0x03};
	static const char http[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	unsigned char b[64];

	(void)state;
	assert_int_equal(ww_neutral_fet_exempt(NULL, 0), 0);
	assert_int_equal(ww_neutral_fet_exempt(b, 0), 0);
	memset(b, 0, sizeof(b)); /* popcount 0 */
	assert_int_equal(ww_neutral_fet_exempt(b, 64), WW_FET_EX1);
	memset(b, 0x0f, sizeof(b)); /* popcount exactly 4, non-printable */
	assert_int_equal(ww_neutral_fet_exempt(b, 64), 0);
	/* 3.4 bits a byte is exempt, a bit more is not: 10 bytes, 34 bits */
	memset(b, 0x07, 10);		  /* 3 bits each: 30 */
	b[0] = b[1] = b[2] = b[3] = 0x0f; /* 34 */
	assert_int_equal(ww_neutral_fet_exempt(b, 10), WW_FET_EX1);
	b[4] = 0x0f; /* 35 */
	assert_int_equal(ww_neutral_fet_exempt(b, 10), 0);
	memset(b, 0x1f, 10); /* 5 bits each: 50 >= 46 */
	assert_int_equal(ww_neutral_fet_exempt(b, 10), WW_FET_EX1);
	b[0] = b[1] = b[2] = b[3] = b[4] = 0x0f; /* 45 */
	assert_int_equal(ww_neutral_fet_exempt(b, 10), 0);
	/* six printable first bytes ('<' and 0x0f: 4 bits each) */
	memset(b, 0x0f, sizeof(b));
	memset(b, '<', 6);
	assert_int_equal(ww_neutral_fet_exempt(b, 64), WW_FET_EX2);
	assert_int_equal(ww_neutral_fet_exempt(b, 11), WW_FET_EX2 | WW_FET_EX3);
	assert_int_equal(ww_neutral_fet_exempt(b, 12), WW_FET_EX2);
	b[0] = 0x0f;
	assert_int_equal(ww_neutral_fet_exempt(b, 64), 0);
	/* a run of 21 printable bytes inside, but under half */
	memset(b, 0x0f, sizeof(b));
	memset(b + 10, '<', 21);
	assert_int_equal(ww_neutral_fet_exempt(b, 64), WW_FET_EX4);
	b[20] = 0x0f; /* two runs of 10 */
	assert_int_equal(ww_neutral_fet_exempt(b, 64), 0);
	/* TLS and HTTP */
	assert_true(ww_neutral_fet_exempt(tls, sizeof(tls)) & WW_FET_EX5);
	assert_true(ww_neutral_fet_exempt((const unsigned char *)http,
					  sizeof(http) - 1) &
		    WW_FET_EX5);
	memcpy(b, tls, sizeof(tls));
	b[2] = 0x0a; /* not a TLS version */
	assert_false(ww_neutral_fet_exempt(b, sizeof(tls)) & WW_FET_EX5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds_on_the_rule),
		cmocka_unit_test(test_kinds_look_right),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_rule_by_hand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
