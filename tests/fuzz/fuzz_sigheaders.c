/*
 * fuzz_sigheaders.c - the collector's parser of an upload's signature
 * headers (X-Wallwatch-Key, -Date, -Signature; untrusted). The input's
 * first byte says which headers are present (bits 0-2), the rest holds
 * their values separated by newlines. Checks: none present is unsigned
 * (0); a refusal says why; an acceptance has a valid key id, a date in
 * range and a signature that round-trips through base64.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "subsig.h"
#include "util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *v[3] = {NULL, NULL, NULL}, *p, *b64;
	struct ww_sub_hdrs h;
	char err[256] = "";
	unsigned char *d;
	size_t n;
	int rc, mask;

	if (size < 1)
		return 0;
	mask = data[0];
	buf = xstrndup((const char *)data + 1, size - 1);
	p = buf;
	for (int i = 0; i < 3; i++) {
		char *nl = strchr(p, '\n');

		if (mask & (1 << i))
			v[i] = p;
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	rc = ww_sub_parse_headers(v[0], v[1], v[2], &h, err, sizeof(err));
	if ((rc == 0) != (v[0] == NULL && v[1] == NULL && v[2] == NULL))
		abort();
	if (rc < 0 &&
	    (err[0] == '\0' || strnlen(err, sizeof(err)) == sizeof(err)))
		abort();
	if (rc == 1) {
		if (!ww_sub_key_id_valid(h.key_id) || h.date < 0)
			abort();
		b64 = ww_base64(h.sig, sizeof(h.sig));
		d = ww_base64_decode(b64, strlen(b64), 88, &n);
		if (d == NULL || n != sizeof(h.sig) || memcmp(d, h.sig, n) != 0)
			abort();
		free(d);
		free(b64);
	}
	free(buf);
	return 0;
}
