/*
 * fuzz_certinfo.c - ww_cert_from_der() on arbitrary bytes, then
 * ww_cert_clear(). abort() on any broken promise of certinfo.h: strings
 * valid UTF-8 within WW_CERT_MAX_NAME, at most WW_CERT_MAX_SANS SANs, the
 * DER kept with its hash, nothing left on OpenSSL's error queue.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "certinfo.h"
#include "fuzz.h"
#include "model.h"
#include "util.h"

static void
check_text(const char *s)
{
	if (s == NULL || strlen(s) > WW_CERT_MAX_NAME ||
	    !ww_utf8_valid((const unsigned char *)s, strlen(s)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ww_cert c;
	char hex[65];

	if (ww_cert_from_der(data, size, &c) == 0) {
		check_text(c.subject);
		check_text(c.issuer);
		if (c.n_sans > WW_CERT_MAX_SANS)
			abort();
		for (size_t i = 0; i < c.n_sans; i++)
			check_text(c.sans[i]);
		if (c.der == NULL || c.der_len == 0)
			abort();
		ww_sha256_hex(c.der, c.der_len, hex);
		if (strcmp(hex, c.sha256) != 0)
			abort();
		if (strlen(c.not_before) != 0 && strlen(c.not_before) != 20)
			abort();
	} else if (c.subject != NULL || c.der != NULL || c.n_sans != 0) {
		abort();
	}
	if (ERR_peek_error() != 0)
		abort();
	ww_cert_clear(&c);
	return 0;
}
