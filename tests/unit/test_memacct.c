/*
 * test_memacct.c - the memory budget (engine/loop/memacct.c): the hooks count
 * malloc, calloc, realloc, strdup and free exactly (malloc_usable_size),
 * OpenSSL's and jansson's allocations go through them once installed, and
 * the admission gate admits at least one operation, keeps FIFO order,
 * forgets a cancelled waiter, admits by memory, and parses --max-memory.
 * No clocks: the gate's pump runs from one non-blocking loop iteration.
 */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "memacct.h"

static void
test_hooks_count(void **state)
{
	size_t before = memacct_current(), u;
	void *p, *q, *c;
	char *s;

	(void)state;
	p = memacct_malloc(1000);
	assert_non_null(p);
	u = malloc_usable_size(p);
	assert_true(u >= 1000);
	assert_int_equal(memacct_current(), before + u);
	assert_true(memacct_peak() >= before + u);
	q = memacct_realloc(p, 50000);
	assert_non_null(q);
	assert_int_equal(memacct_current(), before + malloc_usable_size(q));
	c = memacct_calloc(10, 100);
	assert_non_null(c);
	s = memacct_strdup("wallwatch");
	assert_string_equal(s, "wallwatch");
	assert_int_equal(memacct_current(), before + malloc_usable_size(q) +
						    malloc_usable_size(c) +
						    malloc_usable_size(s));
	memacct_free(c);
	memacct_free(s);
	memacct_free(q);
	memacct_free(NULL);
	assert_int_equal(memacct_current(), before);
	assert_true(memacct_peak() >= before + 50000);
	/* realloc(NULL, n) is malloc. */
	p = memacct_realloc(NULL, 64);
	assert_int_equal(memacct_current(), before + malloc_usable_size(p));
	memacct_free(p);
	assert_int_equal(memacct_current(), before);
}

/* Installed in main(): the libraries allocate through the hooks. */
static void
test_libraries_counted(void **state)
{
	size_t before = memacct_current();
	void *p;
	json_t *j;

	(void)state;
	assert_true(memacct_installed());
	p = OPENSSL_malloc(4096);
	assert_non_null(p);
	assert_true(memacct_current() >= before + 4096);
	OPENSSL_free(p);
	assert_int_equal(memacct_current(), before);
	j = json_pack("{s:s, s:[i,i,i]}", "input", "https://example.org/", "n",
		      1, 2, 3);
	assert_non_null(j);
	assert_true(memacct_current() > before);
	json_decref(j);
	assert_int_equal(memacct_current(), before);
}

struct order {
	char seen[16];
	size_t n;
};

struct op {
	struct ma_wait w;
	struct order *o;
	char name;
};

static void
admitted_cb(void *arg)
{
	struct op *op = arg;

	op->o->seen[op->o->n++] = op->name;
}

/* Enter op; note it at once when admitted without waiting. */
static bool
enter(struct ma_gate *g, struct op *op, struct order *o, char name)
{
	op->o = o;
	op->name = name;
	if (ma_gate_enter(g, &op->w, admitted_cb, op)) {
		o->seen[o->n++] = name;
		return true;
	}
	return false;
}

static void
run_loop(struct event_base *base)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
}

/* A budget below the baseline: one at a time, never none. */
static void
test_at_least_one(void **state)
{
	struct event_base *base = event_base_new();
	struct ma_gate *g = ma_gate_new(base, 1, 1024 * 1024, false);
	struct order o = {{0}, 0};
	struct op a, b;
	struct ma_stats st;

	(void)state;
	assert_true(enter(g, &a, &o, 'a'));
	assert_false(enter(g, &b, &o, 'b'));
	run_loop(base);
	assert_int_equal(o.n, 1); /* a still runs: b waits */
	ma_gate_leave(g);
	run_loop(base);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.seen[1], 'b');
	ma_gate_stats(g, &st);
	assert_int_equal(st.active, 1);
	assert_int_equal(st.waiting, 0);
	assert_int_equal(st.waited, 1);
	assert_int_equal(st.max_active, 1);
	ma_gate_leave(g);
	ma_gate_free(g);
	event_base_free(base);
}

static void
test_fifo_and_cancel(void **state)
{
	struct event_base *base = event_base_new();
	struct ma_gate *g = ma_gate_new(base, 1, 1024 * 1024, false);
	struct order o = {{0}, 0};
	struct op a, b, c, d, e;

	(void)state;
	assert_true(enter(g, &a, &o, 'a'));
	assert_false(enter(g, &b, &o, 'b'));
	assert_false(enter(g, &c, &o, 'c'));
	assert_false(enter(g, &d, &o, 'd'));
	assert_false(enter(g, &e, &o, 'e'));
	/* c gives up while waiting: out of the line, never admitted. */
	ma_gate_cancel(g, &c.w);
	assert_false(c.w.queued);
	ma_gate_cancel(g, &c.w); /* twice: nothing */
	for (int i = 0; i < 3; i++) {
		ma_gate_leave(g);
		run_loop(base);
	}
	assert_int_equal(o.n, 4);
	assert_memory_equal(o.seen, "abde", 4);
	/* Nothing more waits: leaving admits nobody. */
	ma_gate_leave(g);
	run_loop(base);
	assert_int_equal(o.n, 4);
	ma_gate_free(g);
	event_base_free(base);
}

/* Room for three reservations: the fourth waits until memory and an
 * operation free; counted memory alone holds the line. */
static void
test_admits_by_memory(void **state)
{
	struct event_base *base = event_base_new();
	size_t budget =
		memacct_current() + 3 * MA_OP_RESERVE + MA_OP_RESERVE / 2;
	struct ma_gate *g = ma_gate_new(base, budget, 0, false);
	struct order o = {{0}, 0};
	struct op a, b, c, d;
	void *big;

	(void)state;
	assert_true(enter(g, &a, &o, 'a'));
	assert_true(enter(g, &b, &o, 'b'));
	assert_true(enter(g, &c, &o, 'c'));
	assert_false(enter(g, &d, &o, 'd'));
	/* An operation ends, but its memory is still held elsewhere. */
	big = memacct_malloc(4 * MA_OP_RESERVE);
	ma_gate_leave(g);
	run_loop(base);
	assert_int_equal(o.n, 3);
	/* Memory frees and another operation ends: d goes. */
	memacct_free(big);
	ma_gate_leave(g);
	run_loop(base);
	assert_int_equal(o.n, 4);
	assert_int_equal(o.seen[3], 'd');
	ma_gate_free(g);
	event_base_free(base);
}

static void
test_no_gate(void **state)
{
	struct ma_wait w;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_true(ma_gate_enter(NULL, &w, NULL, NULL));
	ma_gate_cancel(NULL, &w);
	ma_gate_leave(NULL);
}

static void
test_parse_size(void **state)
{
	size_t v = 7;

	(void)state;
	assert_int_equal(memacct_parse_size("16M", &v), 0);
	assert_int_equal(v, 16u * 1024 * 1024);
	assert_int_equal(memacct_parse_size("512k", &v), 0);
	assert_int_equal(v, 512u * 1024);
	assert_int_equal(memacct_parse_size("1G", &v), 0);
	assert_int_equal(v, 1024u * 1024 * 1024);
	assert_int_equal(memacct_parse_size("25000000", &v), 0);
	assert_int_equal(v, 25000000u);
	assert_int_equal(memacct_parse_size("none", &v), 0);
	assert_int_equal(v, 0);
	v = 7;
	assert_int_equal(memacct_parse_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(memacct_parse_size("", &v), -1);
	assert_int_equal(memacct_parse_size("M", &v), -1);
	assert_int_equal(memacct_parse_size("16MB", &v), -1);
	assert_int_equal(memacct_parse_size("-1M", &v), -1);
	assert_int_equal(memacct_parse_size("1.5M", &v), -1);
	assert_int_equal(memacct_parse_size("2048G", &v), -1);
	assert_int_equal(memacct_parse_size("99999999999999999999", &v), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hooks_count),
		cmocka_unit_test(test_libraries_counted),
		cmocka_unit_test(test_at_least_one),
		cmocka_unit_test(test_fifo_and_cancel),
		cmocka_unit_test(test_admits_by_memory),
		cmocka_unit_test(test_no_gate),
		cmocka_unit_test(test_parse_size),
	};
	char err[200];

	/* As the probe does: before anything allocates. */
	if (memacct_install(err, sizeof(err)) != 0) {
		fprintf(stderr, "memacct_install: %s\n", err);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
