/*
 * test_ratelimit.c - the ingest's rate limits (collector/ratelimit.c):
 * batches per window per submitter and per network (the network's for
 * unsigned submitters only), measurements per
 * target (a batch part over the limit: the rest counted, the excess
 * deferred and not counted), windows ending, no limit at 0, the option's
 * syntax, and memory that many distinct networks do not grow.
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
#include "../../collector/ratelimit.h"

/* 1,700,000,020: 40 s into a minute, 820 s into an hour. */
#define T0 1700000020

static struct rate_limiter *
limiter(long batches, long target, long net_batches, long net_target)
{
	struct rate_opts o = {{batches, 60},
			      {target, 3600},
			      {net_batches, 60},
			      {net_target, 3600}};

	return rate_new(&o);
}

static void
test_parse(void **state)
{
	struct rate_limit l;

	(void)state;
	assert_int_equal(rate_limit_parse("30", 60, &l), 0);
	assert_int_equal(l.n, 30);
	assert_int_equal(l.window, 60);
	assert_int_equal(rate_limit_parse("5/3", 60, &l), 0);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.window, 3);
	assert_int_equal(rate_limit_parse("0", 3600, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(rate_limit_parse("-1", 60, &l), -1);
	assert_int_equal(rate_limit_parse("5/0", 60, &l), -1);
	assert_int_equal(rate_limit_parse("5/86401", 60, &l), -1);
	assert_int_equal(rate_limit_parse("5/", 60, &l), -1);
	assert_int_equal(rate_limit_parse("x", 60, &l), -1);
	assert_int_equal(rate_limit_parse("", 60, &l), -1);
}

static void
test_batches(void **state)
{
	struct rate_limiter *rl = limiter(3, 0, 5, 0);

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(rate_batch(rl, "anon:AS1:h1", "AS1", T0), 0);
	/* the 4th waits for the minute's end: 20 s */
	assert_int_equal(rate_batch(rl, "anon:AS1:h1", "AS1", T0), 20);
	/* refused ones are not counted: another submitter, same network */
	assert_int_equal(rate_batch(rl, "anon:AS1:h2", "AS1", T0), 0);
	assert_int_equal(rate_batch(rl, "anon:AS1:h2", "AS1", T0), 0);
	/* the network's 5 are used (3 + 2) */
	assert_int_equal(rate_batch(rl, "anon:AS1:h3", "AS1", T0 + 5), 15);
	assert_int_equal(rate_batch(rl, "registration", "AS1", T0 + 5), 15);
	/* unknown network: only the submitter's limit */
	assert_int_equal(rate_batch(rl, "anon:AS1:h3", NULL, T0 + 5), 0);
	/* a key is limited by its own 3, never by its network's: what the
	 * unsigned of AS1 used up defers no keyed probe of AS1 */
	for (int i = 0; i < 3; i++)
		assert_int_equal(rate_batch(rl, "key:a", "AS1", T0 + 5), 0);
	assert_int_equal(rate_batch(rl, "key:a", "AS1", T0 + 5), 15);
	/* nor do keys count toward the network's 5 */
	for (int i = 0; i < 6; i++)
		assert_int_equal(rate_batch(rl, i < 3 ? "key:b" : "key:c",
					    "AS2", T0 + 5),
				 0);
	assert_int_equal(rate_batch(rl, "anon:AS2:h1", "AS2", T0 + 5), 0);
	/* the next minute: all fresh */
	assert_int_equal(rate_batch(rl, "anon:AS1:h1", "AS1", T0 + 20), 0);
	rate_free(rl);
}

static void
test_rows(void **state)
{
	struct rate_limiter *rl = limiter(0, 2, 0, 3);
	const char *t[5] = {"x", "x", NULL, "x", "y"};
	bool d[5];

	(void)state;
	/* the 3rd "x" is over the submitter's 2: deferred, the rest go */
	assert_int_equal(rate_rows(rl, "anon:AS1:h1", "AS1", t, 5, d, T0),
			 2780);
	assert_false(d[0]);
	assert_false(d[1]);
	assert_false(d[2]); /* no target: never limited */
	assert_true(d[3]);
	assert_false(d[4]);
	/* another submitter on the network: 1 more "x" fits the network's 3 */
	assert_int_equal(rate_rows(rl, "anon:AS1:h2", "AS1", t, 2, d, T0),
			 2780);
	assert_false(d[0]);
	assert_true(d[1]);
	/* a key of that network: its own 2, the network's 3 do not apply */
	assert_int_equal(rate_rows(rl, "key:a", "AS1", t, 2, d, T0), 0);
	assert_false(d[0]);
	assert_false(d[1]);
	/* the deferred ones go in the next hour */
	assert_int_equal(
		rate_rows(rl, "anon:AS1:h1", "AS1", t + 3, 1, d, T0 + 2780), 0);
	assert_false(d[0]);
	rate_free(rl);
}

static void
test_unlimited(void **state)
{
	struct rate_limiter *rl = limiter(0, 0, 0, 0);
	const char *t[1] = {"x"};
	bool d[1];

	(void)state;
	for (int i = 0; i < 10000; i++) {
		assert_int_equal(rate_batch(rl, "anon:unknown:h", NULL, T0), 0);
		assert_int_equal(rate_rows(rl, "s", "n", t, 1, d, T0), 0);
	}
	rate_free(rl);
}

/* Twice as many networks as there are counters: the table does not grow
 * (fixed at rate_new), counters are forgotten least recently used first,
 * and a network seen all along keeps its count (still refused). */
static void
test_bounded(void **state)
{
	struct rate_limiter *rl = limiter(0, 0, 1, 0);
	char net[32];

	(void)state;
	assert_int_equal(rate_batch(rl, "anon", "AS-steady", T0), 0);
	for (unsigned i = 0; i < 2 * RATE_SLOTS; i++) {
		snprintf(net, sizeof(net), "AS%u", i);
		assert_int_equal(rate_batch(rl, "anon", net, T0), 0);
		if (i % 64 == 0)
			assert_int_equal(
				rate_batch(rl, "anon", "AS-steady", T0), 20);
	}
	assert_true(rate_evictions(rl) >= RATE_SLOTS);
	rate_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
