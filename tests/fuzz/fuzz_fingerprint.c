/*
 * fuzz_fingerprint.c - the fingerprint CSV loader on arbitrary bytes, then
 * matching with whatever loaded. Loads twice into one set: the second load
 * must fail (every name is now a duplicate) unless the file had no row,
 * and a failed load must leave the set and a NUL-terminated message.
 */
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ww_fingerprints *fp = ww_fingerprints_new();
	const struct ww_fingerprint *m[8];
	const char *buf = (const char *)data;
	char err[256];
	size_t n;

	if (ww_fingerprints_load_buf(fp, "fuzz.csv", buf, size, err,
				     sizeof(err)) != 0) {
		if (ww_fingerprints_count(fp) != 0 ||
		    memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		ww_fingerprints_free(fp);
		return 0;
	}
	n = ww_fingerprints_count(fp);
	if (ww_fingerprints_load_buf(fp, "again.csv", buf, size, err,
				     sizeof(err)) == 0 &&
	    n != 0)
		abort();
	if (ww_fingerprints_count(fp) != n)
		abort();
	/* the input itself as a body, and a few fixed values */
	ww_fingerprints_match_body(fp, buf, size, true, m, 8);
	ww_fingerprints_match_body(fp, buf, size, false, m, 8);
	ww_fingerprints_match_dns(fp, "8.7.198.45", m, 8);
	ww_fingerprints_match_dns(fp, "d0::11", m, 8);
	ww_fingerprints_match_dns(fp, "trustpositif.kominfo.go.id.", m, 8);
	ww_fingerprints_match_header(fp, "Location", "http://www.warning.or.kr",
				     m, 8);
	for (size_t i = 0; i < ww_fingerprints_match_dns(fp, "1.2.3.4", m, 8);
	     i++)
		if (ww_fingerprint_name(m[i]) == NULL ||
		    ww_fingerprint_location(m[i]) != WW_FP_DNS)
			abort();
	ww_fingerprints_free(fp);
	return 0;
}
