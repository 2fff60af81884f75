/*
 * api_cursor.c - the cursor of GET /api/v1/changes (api_network.h),
 * "TIME-ID", read strictly: what the answer's next_cursor wrote, nothing
 * else. A file of its own, without the store, so that the query-string
 * fuzz target (tests/fuzz/fuzz_apiquery.c) links it alone.
 */
#include <string.h>

#include "api_network.h"

/* s[0..n) as plain decimal (no sign, space or leading zero) of at most
 * max; -1 when it is not that. */
static int
decimal(const char *s, size_t n, int64_t max, int64_t *out)
{
	int64_t v = 0;

	if (n == 0 || n > 16 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int
api_changes_cursor(const char *s, int64_t *t, int64_t *id)
{
	const char *dash = s != NULL ? strchr(s, '-') : NULL;
	int64_t tv, iv;

	if (dash == NULL ||
	    decimal(s, (size_t)(dash - s), 32503680000LL, &tv) != 0 ||
	    decimal(dash + 1, strlen(dash + 1), 9007199254740991LL, &iv) != 0 ||
	    iv < 1)
		return -1;
	*t = tv;
	*id = iv;
	return 0;
}
