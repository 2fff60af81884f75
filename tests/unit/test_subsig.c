/*
 * test_subsig.c - submitter keys on the wire (engine/core/subsig.c) and on the
 * probe's disk (probe/identity.c): key ids, upload signatures (good,
 * tampered body, wrong key, bad base64, wrong lengths), the signature
 * headers' parser, registration proofs, and the key file (made 0600, kept,
 * a damaged one refused and left alone).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "../../probe/identity.h"
#include "subsig.h"
#include "util.h"

static EVP_PKEY *
new_key(void)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	EVP_PKEY *k = NULL;

	assert_non_null(c);
	assert_int_equal(EVP_PKEY_keygen_init(c), 1);
	assert_int_equal(EVP_PKEY_keygen(c, &k), 1);
	EVP_PKEY_CTX_free(c);
	return k;
}

/* RFC 8032 section 7.1, test 1: the public key, and our id of it (the
 * first 16 bytes of its SHA-256, computed independently with sha256sum). */
static void
test_key_id(void **state)
{
	static const unsigned char pub[32] = {
		0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
		0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
		0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
		0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
	char id[33], hex[65];

	(void)state;
	ww_sub_key_id(pub, id);
	ww_sha256_hex(pub, sizeof(pub), hex);
	hex[32] = '\0';
	assert_string_equal(id, hex);
	assert_int_equal(strlen(id), 32);
	assert_true(ww_sub_key_id_valid(id));
	assert_false(ww_sub_key_id_valid("ABCDEF0123456789abcdef0123456789"));
	assert_false(ww_sub_key_id_valid("abc"));
	assert_false(ww_sub_key_id_valid(NULL));
}

/* A signed upload, and what breaks it. */
static void
test_sign_verify(void **state)
{
	EVP_PKEY *k = new_key(), *other = new_key();
	unsigned char pub[32], opub[32], sig[64];
	char id[33], *text, *bad;
	const char body[] = "\x1f\x8b compressed bytes, as sent";

	(void)state;
	assert_int_equal(ww_sub_raw_public(k, pub), 0);
	assert_int_equal(ww_sub_raw_public(other, opub), 0);
	ww_sub_key_id(pub, id);
	text = ww_sub_upload_text(id, 1700000000, body, sizeof(body) - 1);
	assert_non_null(strstr(text, "wallwatch-upload-v1\n"));
	assert_int_equal(ww_sub_sign(k, text, strlen(text), sig), 0);
	/* good */
	assert_true(ww_sub_verify(pub, text, strlen(text), sig));
	/* the body tampered with: another hash, another text */
	bad = ww_sub_upload_text(id, 1700000000, "x", 1);
	assert_false(ww_sub_verify(pub, bad, strlen(bad), sig));
	free(bad);
	/* another date */
	bad = ww_sub_upload_text(id, 1700000001, body, sizeof(body) - 1);
	assert_false(ww_sub_verify(pub, bad, strlen(bad), sig));
	free(bad);
	/* the wrong key */
	assert_false(ww_sub_verify(opub, text, strlen(text), sig));
	/* one bit of the signature */
	sig[10] ^= 1;
	assert_false(ww_sub_verify(pub, text, strlen(text), sig));
	free(text);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

static void
test_parse_headers(void **state)
{
	struct ww_sub_hdrs h;
	char err[256], sig88[89], *b64;
	unsigned char raw[64];
	const char *id = "0123456789abcdef0123456789abcdef";

	(void)state;
	memset(raw, 7, sizeof(raw));
	b64 = ww_base64(raw, sizeof(raw));
	assert_int_equal(strlen(b64), 88);
	/* none: unsigned */
	assert_int_equal(
		ww_sub_parse_headers(NULL, NULL, NULL, &h, err, sizeof(err)),
		0);
	/* all three, well-formed */
	assert_int_equal(ww_sub_parse_headers(id, "1700000000", b64, &h, err,
					      sizeof(err)),
			 1);
	assert_string_equal(h.key_id, id);
	assert_int_equal(h.date, 1700000000);
	assert_memory_equal(h.sig, raw, 64);
	/* only some */
	assert_int_equal(
		ww_sub_parse_headers(id, NULL, b64, &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "X-Wallwatch-Date: missing"));
	/* a key id that is not one */
	assert_int_equal(
		ww_sub_parse_headers("ABC", "1", b64, &h, err, sizeof(err)),
		-1);
	assert_non_null(strstr(err, "X-Wallwatch-Key"));
	/* dates: signs, spaces, letters, too long */
	assert_int_equal(ww_sub_parse_headers(id, "+1700000000", b64, &h, err,
					      sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "X-Wallwatch-Date"));
	assert_int_equal(
		ww_sub_parse_headers(id, "17e8", b64, &h, err, sizeof(err)),
		-1);
	assert_int_equal(ww_sub_parse_headers(id, "99999999999999999999999",
					      b64, &h, err, sizeof(err)),
			 -1);
	/* bad base64, with the right length */
	memset(sig88, '!', 88);
	sig88[88] = '\0';
	assert_int_equal(
		ww_sub_parse_headers(id, "1", sig88, &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "X-Wallwatch-Signature: not base64"));
	/* the wrong length: base64 of 48 bytes */
	free(b64);
	b64 = ww_base64(raw, 48);
	assert_int_equal(
		ww_sub_parse_headers(id, "1", b64, &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "X-Wallwatch-Signature: 64 characters"));
	free(b64);
	/* 88 characters that decode to 65 bytes cannot be: padding wrong */
	memset(sig88, 'A', 88);
	assert_int_equal(
		ww_sub_parse_headers(id, "1", sig88, &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "66 bytes, want 64"));
}

static void
test_registration(void **state)
{
	EVP_PKEY *k = new_key(), *other = new_key();
	unsigned char pub[32], got[32];
	char id[33], got_id[33], err[256], *body, *forged, *obody;
	json_t *j, *o;

	(void)state;
	assert_int_equal(ww_sub_raw_public(k, pub), 0);
	ww_sub_key_id(pub, id);
	body = ww_sub_registration_new(k);
	assert_non_null(body);
	assert_int_equal(ww_sub_registration_check(body, strlen(body), got,
						   got_id, err, sizeof(err)),
			 0);
	assert_memory_equal(got, pub, 32);
	assert_string_equal(got_id, id);
	/* another key's proof over this key: refused */
	j = json_loads(body, 0, NULL);
	obody = ww_sub_registration_new(other);
	o = json_loads(obody, 0, NULL);
	free(obody);
	json_object_set(j, "proof", json_object_get(o, "proof"));
	forged = json_dumps(j, 0);
	assert_int_equal(ww_sub_registration_check(forged, strlen(forged), got,
						   got_id, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "proof: not a signature"));
	free(forged);
	/* a short key */
	json_object_set_new(j, "public_key", json_string("AAAA"));
	forged = json_dumps(j, 0);
	assert_int_equal(ww_sub_registration_check(forged, strlen(forged), got,
						   got_id, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "public_key: 3 bytes, want 32"));
	free(forged);
	/* not JSON, missing fields, wrong types, too big */
	assert_int_equal(ww_sub_registration_check("nope", 4, got, got_id, err,
						   sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "not a JSON object"));
	assert_int_equal(ww_sub_registration_check("{\"proof\":\"x\"}", 13, got,
						   got_id, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "public_key: missing"));
	assert_int_equal(ww_sub_registration_check(
				 "{\"public_key\":\"AAAA\",\"proof\":1}", 31,
				 got, got_id, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "proof: missing or not a string"));
	assert_int_equal(ww_sub_registration_check(body, 5000, got, got_id, err,
						   sizeof(err)),
			 -1);
	json_decref(j);
	json_decref(o);
	free(body);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

/* The key file: made once, 0600, the same key on the next open; a
 * damaged one is an error and stays as it was. */
static void
test_key_file(void **state)
{
	char dir[] = "/tmp/ww_test_identity_XXXXXX", path[96], err[512];
	struct probe_identity *a, *b;
	struct stat sb;
	char *hdr[3];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, IDENTITY_FILE);
	/* read-only, no file: NULL without an error */
	assert_null(identity_open(dir, false, err, sizeof(err)));
	assert_string_equal(err, "");
	a = identity_open(dir, true, err, sizeof(err));
	assert_non_null(a);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	b = identity_open(dir, false, err, sizeof(err));
	assert_non_null(b);
	assert_string_equal(identity_key_id(a), identity_key_id(b));
	/* its headers sign what was sent */
	assert_int_equal(identity_sign(a, "body", 4, 1700000000, hdr), 0);
	assert_int_equal(strncmp(hdr[0], "X-Wallwatch-Key: ", 17), 0);
	assert_string_equal(hdr[1], "X-Wallwatch-Date: 1700000000");
	assert_int_equal(strlen(hdr[2]),
			 strlen("X-Wallwatch-Signature: ") + 88);
	for (int i = 0; i < 3; i++)
		free(hdr[i]);
	identity_free(a);
	identity_free(b);
	/* damaged: refused, never replaced */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("-----BEGIN PRIVATE KEY-----\nbroken\n", f);
	fclose(f);
	assert_null(identity_open(dir, true, err, sizeof(err)));
	assert_non_null(strstr(err, "is damaged"));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 35);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_id),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_parse_headers),
		cmocka_unit_test(test_registration),
		cmocka_unit_test(test_key_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
