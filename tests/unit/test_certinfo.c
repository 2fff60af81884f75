/*
 * test_certinfo.c - ww_cert_from_x509() and ww_cert_from_der() on
 * certificates made here with OpenSSL, tidy ones and odd ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certinfo.h"
#include "model.h"
#include "util.h"

/* U+FFFD REPLACEMENT CHARACTER in UTF-8 */
#define RC "\xef\xbf\xbd"

static EVP_PKEY *key;

static int
setup(void **state)
{
	(void)state;
	key = EVP_EC_gen("P-256");
	return key != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	return 0;
}

/* --- building certificates ------------------------------------------------ */

struct san {
	int type; /* GEN_DNS, GEN_IPADD, GEN_EMAIL */
	const char *data;
	int len; /* -1: strlen(data) */
};

static X509 *
new_cert(void)
{
	X509 *x = X509_new();

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 42), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	return x;
}

static void
set_times(X509 *x, const char *nb, const char *na)
{
	/* picks UTCTime before 2050, GeneralizedTime after (RFC 5280
	 * section 4.1.2.5) */
	assert_int_equal(ASN1_TIME_set_string_X509(X509_getm_notBefore(x), nb),
			 1);
	assert_int_equal(ASN1_TIME_set_string_X509(X509_getm_notAfter(x), na),
			 1);
}

static void
add_utf8(X509_NAME *n, const char *field, const char *value)
{
	assert_int_equal(X509_NAME_add_entry_by_txt(
				 n, field, MBSTRING_UTF8,
				 (const unsigned char *)value, -1, -1, 0),
			 1);
}

/* Set the bytes as they are, with no length or charset check. */
static void
add_raw(X509_NAME *n, int nid, int type, const void *value, int len)
{
	assert_int_equal(
		X509_NAME_add_entry_by_NID(
			n, nid, type, (const unsigned char *)value, len, -1, 0),
		1);
}

static void
add_sans(X509 *x, const struct san *s, size_t n)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();

	assert_non_null(gens);
	for (size_t i = 0; i < n; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_STRING *str = s[i].type == GEN_IPADD
					   ? ASN1_OCTET_STRING_new()
					   : ASN1_IA5STRING_new();
		int len = s[i].len >= 0 ? s[i].len : (int)strlen(s[i].data);

		assert_non_null(g);
		assert_non_null(str);
		assert_int_equal(ASN1_STRING_set(str, s[i].data, len), 1);
		GENERAL_NAME_set0_value(g, s[i].type, str);
		assert_true(sk_GENERAL_NAME_push(gens, g) > 0);
	}
	assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
					   X509V3_ADD_DEFAULT),
			 1);
	GENERAL_NAMES_free(gens);
}

static void
sign(X509 *x)
{
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
}

/* The DER and its SHA-256, computed apart from the code under test. */
static void
check_der(X509 *x, const struct ww_cert *c)
{
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	char hex[65];
	int n = i2d_X509(x, &der);

	assert_true(n > 0);
	assert_int_equal(c->der_len, (size_t)n);
	assert_memory_equal(c->der, der, (size_t)n);
	assert_int_equal(
		EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL), 1);
	assert_int_equal(mdlen, 32);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	assert_string_equal(c->sha256, hex);
	OPENSSL_free(der);
}

static void
assert_zeroed(const struct ww_cert *c)
{
	struct ww_cert zero;

	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(c, &zero, sizeof(zero));
}

/* --- tests ---------------------------------------------------------------- */

static X509 *
full_cert(void)
{
	static const struct san sans[] = {
		{GEN_DNS, "example.com", -1},
		{GEN_DNS, "*.example.com", -1},
		{GEN_EMAIL, "root@example.com", -1}, /* skipped */
		{GEN_IPADD, "\xc0\x00\x02\x01", 4},
		{GEN_IPADD,
		 "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
		 "\x00\x01",
		 16},
		{GEN_IPADD, "\x01\x02\x03\x04\x05", 5},
	};
	X509 *x = new_cert();

	add_utf8(X509_get_subject_name(x), "C", "CN");
	add_utf8(X509_get_subject_name(x), "O", "Example, Inc.");
	add_utf8(X509_get_subject_name(x), "CN", "测试");
	add_utf8(X509_get_issuer_name(x), "O", "Wallwatch");
	add_utf8(X509_get_issuer_name(x), "CN", "Test CA");
	set_times(x, "20240102030405Z", "20510607080910Z");
	add_sans(x, sans, WW_ARRAY_LEN(sans));
	sign(x);
	return x;
}

static void
check_full(const struct ww_cert *c)
{
	assert_string_equal(c->subject, "CN=测试,O=Example\\, Inc.,C=CN");
	assert_string_equal(c->issuer, "CN=Test CA,O=Wallwatch");
	assert_int_equal(c->n_sans, 5);
	assert_string_equal(c->sans[0], "DNS:example.com");
	assert_string_equal(c->sans[1], "DNS:*.example.com");
	assert_string_equal(c->sans[2], "IP:192.0.2.1");
	assert_string_equal(c->sans[3], "IP:2001:db8::1");
	assert_string_equal(c->sans[4], "IP:<invalid>");
	assert_string_equal(c->not_before, "2024-01-02T03:04:05Z");
	assert_string_equal(c->not_after, "2051-06-07T08:09:10Z");
}

static void
test_full(void **state)
{
	X509 *x = full_cert();
	struct ww_cert c;

	(void)state;
	memset(&c, 0xa5, sizeof(c)); /* zeroed first, as promised */
	ww_cert_from_x509(x, &c);
	check_full(&c);
	check_der(x, &c);
	ww_cert_clear(&c);
	X509_free(x);
}

static void
test_from_der(void **state)
{
	X509 *x = full_cert();
	struct ww_cert c;
	unsigned char *der = NULL, *copy;
	int n = i2d_X509(x, &der);

	(void)state;
	assert_true(n > 0);
	copy = malloc((size_t)n); /* exact size for ASan */
	assert_non_null(copy);
	memcpy(copy, der, (size_t)n);
	assert_int_equal(ww_cert_from_der(copy, (size_t)n, &c), 0);
	check_full(&c);
	check_der(x, &c);
	assert_memory_equal(c.der, copy, (size_t)n);
	ww_cert_clear(&c);
	free(copy);
	OPENSSL_free(der);
	X509_free(x);
}

static void
test_garbage_der(void **state)
{
	static const unsigned char junk[] = "this is not a certificate";
	X509 *x = full_cert();
	struct ww_cert c;
	unsigned char *der = NULL, *buf;
	int n = i2d_X509(x, &der);

	(void)state;
	assert_true(n > 0);
	ERR_clear_error();
	assert_int_equal(ww_cert_from_der(junk, sizeof(junk), &c), -1);
	assert_zeroed(&c);
	assert_int_equal(ww_cert_from_der(junk, 0, &c), -1);
	assert_int_equal(ww_cert_from_der(NULL, 10, &c), -1);
	assert_zeroed(&c);

	/* every proper prefix of a good certificate */
	for (int len = 0; len < n; len++) {
		buf = malloc(len > 0 ? (size_t)len : 1);
		assert_non_null(buf);
		memcpy(buf, der, (size_t)len);
		memset(&c, 0xa5, sizeof(c));
		assert_int_equal(ww_cert_from_der(buf, (size_t)len, &c), -1);
		assert_zeroed(&c);
		free(buf);
	}

	/* the certificate and one byte more */
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	memcpy(buf, der, (size_t)n);
	buf[n] = 0;
	assert_int_equal(ww_cert_from_der(buf, (size_t)n + 1, &c), -1);
	assert_zeroed(&c);
	free(buf);

	/* OpenSSL's complaints do not stay on the error queue */
	assert_int_equal(ERR_peek_error(), 0);
	OPENSSL_free(der);
	X509_free(x);
}

static void
test_no_subject_no_san(void **state)
{
	X509 *x = new_cert();
	struct ww_cert c;

	(void)state;
	add_utf8(X509_get_issuer_name(x), "CN", "Issuer");
	set_times(x, "20200229235959Z", "20300101000000Z");
	sign(x);
	ww_cert_from_x509(x, &c);
	assert_string_equal(c.subject, "");
	assert_string_equal(c.issuer, "CN=Issuer");
	assert_int_equal(c.n_sans, 0);
	assert_null(c.sans);
	assert_string_equal(c.not_before, "2020-02-29T23:59:59Z");
	assert_string_equal(c.not_after, "2030-01-01T00:00:00Z");
	check_der(x, &c);
	ww_cert_clear(&c);
	X509_free(x);
}

static void
test_unset_validity(void **state)
{
	X509 *x = new_cert();
	struct ww_cert c;

	(void)state;
	sign(x);
	ww_cert_from_x509(x, &c);
	assert_string_equal(c.subject, "");
	assert_string_equal(c.issuer, "");
	assert_string_equal(c.not_before, "");
	assert_string_equal(c.not_after, "");
	ww_cert_clear(&c);
	X509_free(x);
}

static void
test_null_x509(void **state)
{
	struct ww_cert c;

	(void)state;
	ww_cert_from_x509(NULL, &c);
	assert_string_equal(c.subject, "");
	assert_string_equal(c.issuer, "");
	assert_int_equal(c.n_sans, 0);
	assert_null(c.der);
	assert_string_equal(c.sha256, "");
	ww_cert_clear(&c);
}

static void
test_many_sans_capped(void **state)
{
	struct san sans[300];
	char names[300][32];
	X509 *x = new_cert();
	struct ww_cert c;

	(void)state;
	for (int i = 0; i < 300; i++) {
		snprintf(names[i], sizeof(names[i]), "h%d.example", i);
		sans[i] = (struct san){GEN_DNS, names[i], -1};
	}
	add_sans(x, sans, 300);
	sign(x);
	ww_cert_from_x509(x, &c);
	assert_int_equal(c.n_sans, WW_CERT_MAX_SANS);
	assert_string_equal(c.sans[0], "DNS:h0.example");
	assert_string_equal(c.sans[255], "DNS:h255.example");
	ww_cert_clear(&c);
	X509_free(x);
}

static void
test_odd_dns_names(void **state)
{
	static const struct san sans[] = {
		{GEN_DNS, "bad\x01\\\x7f\xff.example", -1},
		{GEN_DNS, "bücher.example", -1},
		{GEN_DNS, "nul\0byte", 8},
		{GEN_DNS, "", 0},
		{GEN_DNS, "\xe6\xb5", 2}, /* a cut 3-byte sequence */
	};
	X509 *x = new_cert();
	struct ww_cert c;

	(void)state;
	add_sans(x, sans, WW_ARRAY_LEN(sans));
	sign(x);
	ww_cert_from_x509(x, &c);
	assert_int_equal(c.n_sans, 5);
	assert_string_equal(c.sans[0], "DNS:bad\\01\\5C\\7F" RC ".example");
	assert_string_equal(c.sans[1], "DNS:bücher.example");
	assert_string_equal(c.sans[2], "DNS:nul\\00byte");
	assert_string_equal(c.sans[3], "DNS:");
	assert_string_equal(c.sans[4], "DNS:" RC RC);
	ww_cert_clear(&c);
	X509_free(x);
}

static void
test_caps_do_not_cut_utf8(void **state)
{
	char e_acute[1200 + 1], big[2000 + 1], expect[1025];
	struct san san = {GEN_DNS, big, -1};
	X509 *x = new_cert();
	struct ww_cert c;

	(void)state;
	for (int i = 0; i < 600; i++)
		memcpy(e_acute + 2 * i, "\xc3\xa9", 2);
	e_acute[1200] = '\0';
	memset(big, 'a', 2000);
	big[2000] = '\0';
	add_raw(X509_get_subject_name(x), NID_commonName, V_ASN1_UTF8STRING,
		e_acute, 1200);
	add_sans(x, &san, 1);
	sign(x);
	ww_cert_from_x509(x, &c);
	/* "CN=" + 510 two-byte characters: 1023 bytes, the 511th does not
	 * fit in WW_CERT_MAX_NAME */
	assert_int_equal(strlen(c.subject), 1023);
	assert_memory_equal(c.subject, "CN=", 3);
	assert_memory_equal(c.subject + 3, e_acute, 1020);
	assert_true(ww_utf8_valid((const unsigned char *)c.subject,
				  strlen(c.subject)));
	memcpy(expect, "DNS:", 4);
	memset(expect + 4, 'a', 1020);
	expect[1024] = '\0';
	assert_string_equal(c.sans[0], expect);
	ww_cert_clear(&c);
	X509_free(x);
}

static void
test_odd_subject_strings(void **state)
{
	static const unsigned char bmp[] = {0x6d, 0x4b, 0x00, 'x'};
	X509 *x = new_cert();
	struct ww_cert c;

	(void)state;
	/* a control character, a BMPString, a T61String read as Latin-1 */
	add_raw(X509_get_subject_name(x), NID_organizationName,
		V_ASN1_UTF8STRING, "c\001d", 3);
	add_raw(X509_get_subject_name(x), NID_commonName, V_ASN1_BMPSTRING, bmp,
		sizeof(bmp));
	add_raw(X509_get_subject_name(x), NID_localityName, V_ASN1_T61STRING,
		"caf\xe9", 4);
	add_utf8(X509_get_issuer_name(x), "CN", "#=+,;<>#\"\\ ");
	sign(x);
	ww_cert_from_x509(x, &c);
	assert_string_equal(c.subject, "L=café,CN=测x,O=c\\01d");
	/* RFC 2253 section 2.4 escapes: no '=', '#' only in front */
	assert_string_equal(c.issuer, "CN=\\#=\\+\\,\\;\\<\\>#\\\"\\\\\\ ");
	ww_cert_clear(&c);
	X509_free(x);
}

/* OpenSSL will not even build a name with invalid UTF-8 in it, nor decode
 * one (x509_name_canon()): such a certificate never reaches us. */
static void
test_invalid_utf8_name_refused(void **state)
{
	static const char cn[] = "a\377\376b";
	X509 *x = full_cert();
	struct ww_cert c;
	unsigned char *der = NULL, *p;
	int n = i2d_X509(x, &der);

	(void)state;
	/* "Test CA" -> "a\xff\xfeb  " in the DER of a good certificate */
	for (p = der; p + 7 <= der + n && memcmp(p, "Test CA", 7) != 0; p++)
		;
	assert_true(p + 7 <= der + n);
	memcpy(p, cn, 4);
	memcpy(p + 4, "   ", 3);
	assert_int_equal(ww_cert_from_der(der, (size_t)n, &c), -1);
	assert_zeroed(&c);
	assert_int_equal(ERR_peek_error(), 0);
	OPENSSL_free(der);
	X509_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_from_der),
		cmocka_unit_test(test_garbage_der),
		cmocka_unit_test(test_no_subject_no_san),
		cmocka_unit_test(test_unset_validity),
		cmocka_unit_test(test_null_x509),
		cmocka_unit_test(test_many_sans_capped),
		cmocka_unit_test(test_odd_dns_names),
		cmocka_unit_test(test_caps_do_not_cut_utf8),
		cmocka_unit_test(test_odd_subject_strings),
		cmocka_unit_test(test_invalid_utf8_name_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
