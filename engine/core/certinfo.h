/*
 * certinfo.h - summarise an X.509 certificate for the measurement: subject,
 * issuer, subjectAltNames, validity and SHA-256 of the DER. Certificates come
 * from untrusted peers (a censor's MITM box, say): every field may be missing
 * or odd; strings are escaped by OpenSSL's RFC 2253 printer and capped.
 */
#ifndef WW_CERTINFO_H
#define WW_CERTINFO_H

#include <stddef.h>

#include <openssl/x509.h>

#include "model.h"

#define WW_CERT_MAX_SANS 256
#define WW_CERT_MAX_NAME 1024 /* bytes kept of subject/issuer/each SAN */

/* Fill *c (zeroed first) from x. Always succeeds; absent fields are ""/0. */
void ww_cert_from_x509(X509 *x, struct ww_cert *c);

/* Parse DER bytes then summarise. Returns 0, or -1 if not a certificate. */
int ww_cert_from_der(const unsigned char *der, size_t len, struct ww_cert *c);

#endif
