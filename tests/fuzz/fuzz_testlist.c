/*
 * fuzz_testlist.c - the test-list CSV loader on arbitrary bytes. Loads
 * twice into one list, so that the duplicate path against rows already in
 * the list runs too, and checks that a failed load left the list alone.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "testlist.h"

static void
ignore_notice(const char *msg)
{
	(void)msg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ww_testlist l = {0};
	char err[256];
	size_t n;

	if (ww_testlist_load_buf(&l, "fuzz.csv", (const char *)data, size, err,
				 sizeof(err), ignore_notice) == 0) {
		n = l.n;
		/* every row is now a duplicate of itself */
		if (ww_testlist_load_buf(&l, "again.csv", (const char *)data,
					 size, err, sizeof(err), NULL) != 0 ||
		    l.n != n)
			abort();
		ww_testlist_filter(&l, "NEWS,ANON", "CTRL");
	} else if (l.n != 0 || l.targets != NULL || l.n_duplicates != 0 ||
		   memchr(err, '\0', sizeof(err)) == NULL) {
		abort();
	}
	ww_testlist_free(&l);
	return 0;
}
