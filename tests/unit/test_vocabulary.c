/*
 * test_vocabulary.c - what the collector serves of the verdict classes
 * (GET /api/v1/vocabulary, the web view's only source for them): every
 * class of engine/core/verdict.c has a name and words of its own, and the
 * blocked and conclusive ones are those of docs/timelines.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "verdict.h"

static void
test_labels(void **state)
{
	(void)state;
	assert_string_equal(ww_class_label(WW_CLASS_OK), "accessible");
	assert_string_equal(ww_class_label(WW_CLASS_SERVER_SIDE),
			    "withheld by the site");
	assert_string_equal(ww_class_label(WW_CLASS_FAILED), "no verdict");
	assert_null(ww_class_label(WW_CLASS_N));
	assert_null(ww_class_label(-1));
	/* each class its own words: the legend tells them apart */
	for (int c = 0; c < WW_CLASS_N; c++) {
		assert_non_null(ww_class_label(c));
		assert_true(ww_class_label(c)[0] != '\0');
		for (int d = 0; d < c; d++)
			assert_string_not_equal(ww_class_label(c),
						ww_class_label(d));
	}
}

static void
test_conclusive(void **state)
{
	(void)state;
	for (int c = 0; c < WW_CLASS_N; c++)
		assert_int_equal(ww_class_is_conclusive(c),
				 c != WW_CLASS_FAILED);
	assert_false(ww_class_is_conclusive(WW_CLASS_N));
	assert_false(ww_class_is_conclusive(-1));
	/* blocked is conclusive; of the rest, ok and down are too */
	for (int c = 0; c < WW_CLASS_N; c++)
		if (ww_class_is_blocked(c))
			assert_true(ww_class_is_conclusive(c));
	assert_false(ww_class_is_blocked(WW_CLASS_OK));
	assert_false(ww_class_is_blocked(WW_CLASS_DOWN));
	assert_false(ww_class_is_blocked(WW_CLASS_FAILED));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_conclusive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
