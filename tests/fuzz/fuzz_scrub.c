/*
 * fuzz_scrub.c - scrubbing arbitrary bytes, as binary and as text, and
 * the JSON tree they parse to when they do. Checks the contracts of
 * scrub.h: nothing found means an exact copy, each text replacement adds
 * the marker's length less at least 3 bytes, binary scrubbing keeps the
 * length when no text form is found, scrubbed text yields nothing on a
 * second pass, and a scrubbed tree nothing on a second pass either.
 *
 * Linked from build/libprobe.a (make fuzz builds it with clang for
 * libFuzzer).
 */
#include <stdlib.h>
#include <string.h>

#include "../../probe/scrub.h"
#include "fuzz.h"
#include "util.h"

static struct ww_scrub *
fixed_set(void)
{
	static const char *const addrs[] = {
		"1.2.3.4", "192.0.2.7", "2001:db8::1", "::ffff:198.51.100.9",
		"2001:db8:0:1::7:1"};
	struct ww_scrub *s = ww_scrub_new();

	for (size_t i = 0; i < WW_ARRAY_LEN(addrs); i++)
		if (ww_scrub_add(s, addrs[i]) != 0)
			abort();
	return s;
}

static void
check_text(const struct ww_scrub *s, const char *in, size_t len)
{
	size_t outlen = 0, n = 0, outlen2 = 0, n2 = 0;
	char *out = ww_scrub_text(s, in, len, &outlen, &n), *again;

	if (out[outlen] != '\0' ||
	    (n == 0 && (outlen != len || memcmp(out, in, len) != 0)) ||
	    outlen > len + n * (sizeof(WW_SCRUBBED) - 1 - 3))
		abort();
	again = ww_scrub_text(s, out, outlen, &outlen2, &n2);
	if (n2 != 0 || outlen2 != outlen || memcmp(again, out, outlen) != 0)
		abort();
	free(again);
	free(out);
}

static void
check_bytes(const struct ww_scrub *s, const char *in, size_t len)
{
	size_t outlen = 0, n = 0, tn = 0, tlen;
	char *out = ww_scrub_bytes(s, in, len, &outlen, &n);
	char *text = ww_scrub_text(s, in, len, &tlen, &tn);

	/* the same text forms are found; binary ones only add */
	if (out[outlen] != '\0' || n < tn || (tn == 0 && outlen != len) ||
	    (n == 0 && memcmp(out, in, len) != 0) || tlen != outlen)
		abort();
	free(text);
	free(out);
}

static void
check_json(const struct ww_scrub *s, const char *in, size_t len)
{
	json_error_t e;
	json_t *j = json_loadb(in, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	char *once;

	if (j == NULL)
		return;
	ww_scrub_json(s, j);
	once = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	if (once == NULL || ww_scrub_json(s, j) != 0)
		abort();
	free(once);
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ww_scrub *s;
	struct ww_scrub *empty = ww_scrub_new();
	size_t outlen, n = 0;
	char *out;

	if (s == NULL)
		s = fixed_set();
	check_text(s, (const char *)data, size);
	check_bytes(s, (const char *)data, size);
	check_json(s, (const char *)data, size);
	/* no address: a copy */
	out = ww_scrub_bytes(empty, (const char *)data, size, &outlen, &n);
	if (n != 0 || outlen != size || memcmp(out, data, size) != 0)
		abort();
	free(out);
	ww_scrub_free(empty);
	return 0;
}
