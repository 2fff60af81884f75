/*
 * test_tkeyset.c - the set of timeline targets both store backends use
 * (collector/tkeyset.c): membership, order and index across the set's
 * growth, and a hash that stays what every collector computes (it is the
 * PostgreSQL backend's advisory-lock key of a target).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "../../collector/tkeyset.h"

/* FNV-1a over the parts, each followed by 0xff: computed apart (Python)
 * for this key. A change here would let two collector versions lock the
 * same target under different keys. */
static void
test_hash_pinned(void **state)
{
	(void)state;
	assert_true(tkey_hash("https://a.example/", "CN", "AS4134") ==
		    UINT64_C(856050029493059180));
	/* the parts are apart: moving a byte between them changes it */
	assert_true(tkey_hash("ab", "c", "d") != tkey_hash("a", "bc", "d"));
}

static void
test_add_has_index(void **state)
{
	struct tkeyset ks = {NULL, 0, 0, NULL, 0};
	static char in[300][16];

	(void)state;
	assert_false(tks_has(&ks, "x", "CN", "AS1"));
	assert_true(tks_index(&ks, "x", "CN", "AS1") == SIZE_MAX);
	/* 300 keys: the slots grow from 64 several times */
	for (int i = 0; i < 300; i++) {
		snprintf(in[i], sizeof(in[i]), "in-%d", i);
		tks_add(&ks, in[i], i % 2 ? "CN" : "IR", "AS1");
	}
	tks_add(&ks, in[7], "CN", "AS1"); /* already there */
	assert_int_equal(ks.n, 300);
	for (int i = 0; i < 300; i++) {
		const char *cc = i % 2 ? "CN" : "IR";

		assert_true(tks_has(&ks, in[i], cc, "AS1"));
		assert_int_equal(tks_index(&ks, in[i], cc, "AS1"), i);
		assert_false(tks_has(&ks, in[i], i % 2 ? "IR" : "CN", "AS1"));
		assert_false(tks_has(&ks, in[i], cc, "AS2"));
	}
	tks_clear(&ks);
	assert_int_equal(ks.n, 0);
	assert_false(tks_has(&ks, in[0], "IR", "AS1"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_pinned),
		cmocka_unit_test(test_add_has_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
