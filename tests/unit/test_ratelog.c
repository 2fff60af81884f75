/*
 * test_ratelog.c - rate-limited log lines (collector/ratelog.c): a line
 * repeated many times is printed once per interval, and the next one
 * printed says how many were held back.
 *
 * Linked from build/libcollector.a.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"
#include "../../collector/ratelog.h"

static void
test_once_per_interval(void **state)
{
	struct ratelog r = RATELOG_INIT(3600);
	char path[] = "/tmp/test_ratelog.XXXXXX", text[4096];
	int fd = mkstemp(path), saved = dup(2), printed = 0, i;
	FILE *f;
	size_t n;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	for (i = 0; i < 1000; i++)
		printed +=
			ratelog(&r, WW_LOG_WARN, "t", "accept: %s", "EMFILE");
	assert_int_equal(printed, 1);
	assert_int_equal(r.more, 999);
	/* The interval is over: printed, with the count held back. */
	r.last -= 3601;
	assert_true(ratelog(&r, WW_LOG_WARN, "t", "accept: %s", "EMFILE"));
	assert_int_equal(r.more, 0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(path);
	assert_non_null(strstr(text, "t: accept: EMFILE\n"));
	assert_non_null(
		strstr(text, "accept: EMFILE (999 more since the last)\n"));
	assert_null(strstr(strstr(text, "more since") + 1, "accept"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_once_per_interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
