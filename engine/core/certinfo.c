/*
 * certinfo.c - see certinfo.h.
 *
 * Choices the header leaves open, made here:
 *  - Subject and issuer use OpenSSL's RFC 2253 printer without
 *    ASN1_STRFLGS_ESC_MSB, so a CN of "测试" reads as such rather than as
 *    "\E6\B5\8B\E8\AF\95"; control characters are still escaped by
 *    ASN1_STRFLGS_ESC_CTRL, other string types are converted to UTF-8 and
 *    unknown ones dumped as "#<hex of the DER>" (RFC 2253 section 2.4).
 *    The result is checked again anyway: invalid UTF-8 would become
 *    U+FFFD, never reach jansson.
 *  - A dNSName is an IA5String (RFC 5280 section 4.2.1.6) but a censor's
 *    certificate may hold anything: C0 controls, DEL and '\' are written as
 *    "\XX" (upper-case hex, as RFC 2253 escapes), invalid UTF-8 bytes become
 *    U+FFFD, valid UTF-8 is kept.
 *  - Every string, "DNS:"/"IP:" prefix included, is cut to at most
 *    WW_CERT_MAX_NAME bytes at a character boundary.
 *  - Two subjectAltName extensions make X509_get_ext_d2i() fail, and then
 *    no SAN is reported, as for a malformed extension.
 *  - ww_cert_from_der() refuses bytes after the certificate: the caller
 *    said these bytes are a certificate, and they are not only that.
 *  - Whatever OpenSSL pushes on its error queue while we look is popped
 *    again, so that a caller reading the queue (tls.c) sees only its own.
 */
#include "certinfo.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "util.h"

#define NAME_FLAGS (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)

/*
 * A new string: prefix, then s[0..n) as valid UTF-8 (each invalid byte and
 * NUL replaced by U+FFFD; with escape, controls, DEL and '\' as "\XX"), at most
 * WW_CERT_MAX_NAME bytes, never ending inside a character. Stops reading s
 * at the cap, so a huge field costs no more than a small one.
 */
static char *
clean_text(const char *prefix, const unsigned char *s, size_t n, bool escape)
{
	char *out = xmalloc(WW_CERT_MAX_NAME + 1);
	size_t o = strlen(prefix), i = 0;

	memcpy(out, prefix, o);
	while (i < n) {
		char esc[4];
		const char *piece;
		size_t plen, used;

		if (escape && (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\')) {
			snprintf(esc, sizeof(esc), "\\%02X", s[i]);
			piece = esc;
			plen = 3;
			used = 1;
		} else if (s[i] != 0 &&
			   (used = ww_utf8_seq_len(s + i, n - i)) > 0) {
			piece = (const char *)s + i;
			plen = used;
		} else {
			piece = "\xef\xbf\xbd"; /* U+FFFD */
			plen = 3;
			used = 1;
		}
		if (o + plen > WW_CERT_MAX_NAME)
			break;
		memcpy(out + o, piece, plen);
		o += plen;
		i += used;
	}
	out[o] = '\0';
	/* Shrink to fit: measurements keep these for the whole run, and
	 * hundreds of chains may be held at once. */
	return xrealloc(out, o + 1);
}

static char *
name_text(const X509_NAME *name)
{
	BIO *b;
	char *data = NULL, *out;
	long n;

	if (name == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return xstrdup("");
	/* Only a failing BIO write makes this fail, and a memory BIO does
	 * not fail: OpenSSL refuses names it cannot convert to UTF-8 when it
	 * decodes or adds them (x509_name_canon()), so every value prints. */
	(void)X509_NAME_print_ex(b, name, 0, NAME_FLAGS);
	n = BIO_get_mem_data(b, &data);
	if (n <= 0 || data == NULL)
		out = xstrdup("");
	else
		out = clean_text("", (const unsigned char *)data, (size_t)n,
				 false);
	BIO_free(b);
	return out;
}

static char *
san_text(const GENERAL_NAME *gen)
{
	char addr[INET6_ADDRSTRLEN];
	const ASN1_STRING *s;
	int len;

	switch (gen->type) {
	case GEN_DNS:
		s = gen->d.dNSName;
		if (s == NULL)
			return NULL;
		len = ASN1_STRING_length(s);
		return clean_text("DNS:", ASN1_STRING_get0_data(s),
				  len > 0 ? (size_t)len : 0, true);
	case GEN_IPADD:
		/* RFC 5280 section 4.2.1.6: 4 octets for IPv4, 16 for IPv6
		 * (8 and 32 are address + mask, for name constraints only). */
		s = gen->d.iPAddress;
		len = s != NULL ? ASN1_STRING_length(s) : 0;
		if (len == 4 && inet_ntop(AF_INET, ASN1_STRING_get0_data(s),
					  addr, sizeof(addr)) != NULL)
			return xasprintf("IP:%s", addr);
		if (len == 16 && inet_ntop(AF_INET6, ASN1_STRING_get0_data(s),
					   addr, sizeof(addr)) != NULL)
			return xasprintf("IP:%s", addr);
		return xstrdup("IP:<invalid>");
	default:
		return NULL;
	}
}

static void
get_sans(X509 *x, struct ww_cert *c)
{
	GENERAL_NAMES *gens;
	size_t cap = 0;
	int n;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	if (gens == NULL)
		return;
	n = sk_GENERAL_NAME_num(gens);
	for (int i = 0; i < n && c->n_sans < WW_CERT_MAX_SANS; i++) {
		char *s = san_text(sk_GENERAL_NAME_value(gens, i));

		if (s != NULL)
			*WW_PUSH(c->sans, c->n_sans, cap) = s;
	}
	GENERAL_NAMES_free(gens);
}

/* "YYYY-MM-DDTHH:MM:SSZ", or "" when OpenSSL cannot read the time. */
static void
time_text(const ASN1_TIME *t, char out[21])
{
	struct tm tm;

	out[0] = '\0';
	/* ASN1_TIME_to_tm() reads a NULL time as "now": check first. */
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return;
	if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return;
	/* The "% 100" only tells gcc's -Wformat-truncation the widths;
	 * ASN1_TIME_to_tm() has checked the ranges. */
	snprintf(out, 21, "%04u-%02u-%02uT%02u:%02u:%02uZ",
		 (unsigned)(tm.tm_year + 1900) % 10000,
		 (unsigned)(tm.tm_mon + 1) % 100, (unsigned)tm.tm_mday % 100,
		 (unsigned)tm.tm_hour % 100, (unsigned)tm.tm_min % 100,
		 (unsigned)tm.tm_sec % 100);
}

static void
get_der(X509 *x, struct ww_cert *c)
{
	unsigned char *p;
	int n;

	n = i2d_X509(x, NULL);
	if (n <= 0)
		return;
	c->der = xmalloc((size_t)n);
	p = c->der;
	if (i2d_X509(x, &p) != n) {
		free(c->der);
		c->der = NULL;
		return;
	}
	c->der_len = (size_t)n;
	ww_sha256_hex(c->der, c->der_len, c->sha256);
}

void
ww_cert_from_x509(X509 *x, struct ww_cert *c)
{
	memset(c, 0, sizeof(*c));
	if (x == NULL) {
		c->subject = xstrdup("");
		c->issuer = xstrdup("");
		return;
	}
	ERR_set_mark();
	c->subject = name_text(X509_get_subject_name(x));
	c->issuer = name_text(X509_get_issuer_name(x));
	get_sans(x, c);
	time_text(X509_get0_notBefore(x), c->not_before);
	time_text(X509_get0_notAfter(x), c->not_after);
	get_der(x, c);
	ERR_pop_to_mark();
}

int
ww_cert_from_der(const unsigned char *der, size_t len, struct ww_cert *c)
{
	const unsigned char *p = der;
	X509 *x;

	memset(c, 0, sizeof(*c));
	if (der == NULL || len == 0 || len > LONG_MAX)
		return -1;
	ERR_set_mark();
	x = d2i_X509(NULL, &p, (long)len);
	ERR_pop_to_mark();
	if (x == NULL)
		return -1;
	if (p != der + len) {
		X509_free(x);
		return -1;
	}
	ww_cert_from_x509(x, c);
	X509_free(x);
	return 0;
}
