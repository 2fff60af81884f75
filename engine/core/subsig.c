/*
 * subsig.c - submitter keys, registration proofs and upload signatures;
 * see subsig.h for the formats.
 *
 * Ed25519 through OpenSSL 3's one-shot EVP_DigestSign/Verify (the
 * algorithm hashes internally: no digest is named). Everything parsed here
 * comes from the network, so lengths are checked before anything is
 * decoded and every refusal names the field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "subsig.h"
#include "util.h"

#define REGISTER_PREFIX "wallwatch-register-v1\n"
#define UPLOAD_PREFIX "wallwatch-upload-v1\n"
/* base64 of 32 bytes is 44 characters, of 64 bytes 88. */
#define PUB_B64_LEN 44
#define SIG_B64_LEN 88

void
ww_sub_key_id(const unsigned char pub[WW_SUB_PUB_LEN], char out[33])
{
	unsigned char h[SHA256_DIGEST_LENGTH];

	SHA256(pub, WW_SUB_PUB_LEN, h);
	ww_hex(h, 16, out);
}

bool
ww_sub_key_id_valid(const char *s)
{
	if (s == NULL || strlen(s) != WW_SUB_KEY_ID_LEN)
		return false;
	return strspn(s, "0123456789abcdef") == WW_SUB_KEY_ID_LEN;
}

int
ww_sub_raw_public(EVP_PKEY *k, unsigned char pub[WW_SUB_PUB_LEN])
{
	size_t n = WW_SUB_PUB_LEN;

	if (k == NULL || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(k, pub, &n) != 1 || n != WW_SUB_PUB_LEN)
		return -1;
	return 0;
}

int
ww_sub_sign(EVP_PKEY *k, const void *msg, size_t len,
	    unsigned char sig[WW_SUB_SIG_LEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t n = WW_SUB_SIG_LEN;
	int ok;

	if (c == NULL)
		abort();
	ok = EVP_DigestSignInit(c, NULL, NULL, NULL, k) == 1 &&
	     EVP_DigestSign(c, sig, &n, msg, len) == 1 && n == WW_SUB_SIG_LEN;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

bool
ww_sub_verify(const unsigned char pub[WW_SUB_PUB_LEN], const void *msg,
	      size_t len, const unsigned char sig[WW_SUB_SIG_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
						  WW_SUB_PUB_LEN);
	EVP_MD_CTX *c;
	bool ok;

	if (k == NULL)
		return false;
	c = EVP_MD_CTX_new();
	if (c == NULL)
		abort();
	ok = EVP_DigestVerifyInit(c, NULL, NULL, NULL, k) == 1 &&
	     EVP_DigestVerify(c, sig, WW_SUB_SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return ok;
}

char *
ww_sub_upload_text(const char *key_id, int64_t date, const void *body,
		   size_t len)
{
	char hex[65];

	ww_sha256_hex(body, len, hex);
	return xasprintf(UPLOAD_PREFIX "%s\n%lld\n%s", key_id, (long long)date,
			 hex);
}

char *
ww_sub_register_text(const char *pub_b64)
{
	return xasprintf(REGISTER_PREFIX "%s", pub_b64);
}

char *
ww_sub_registration_new(EVP_PKEY *k)
{
	unsigned char pub[WW_SUB_PUB_LEN], sig[WW_SUB_SIG_LEN];
	char *pub_b64, *text, *sig_b64, *out = NULL;
	json_t *o;

	if (ww_sub_raw_public(k, pub) != 0)
		return NULL;
	pub_b64 = ww_base64(pub, sizeof(pub));
	text = ww_sub_register_text(pub_b64);
	if (ww_sub_sign(k, text, strlen(text), sig) == 0) {
		sig_b64 = ww_base64(sig, sizeof(sig));
		o = json_pack("{s:s,s:s}", "public_key", pub_b64, "proof",
			      sig_b64);
		out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(o);
		free(sig_b64);
	}
	free(text);
	free(pub_b64);
	return out;
}

/* Decode base64 text s that must give exactly want bytes into out: 0, or
 * -1 with a message naming field. */
static int
b64_exact(const char *field, const char *s, size_t slen, size_t want,
	  unsigned char *out, char *err, size_t errlen)
{
	size_t n = 0;
	unsigned char *d = ww_base64_decode(s, slen, 4 * ((want + 2) / 3), &n);

	if (d == NULL) {
		ww_set_err(err, errlen, "%s: not base64 of %zu bytes", field,
			   want);
		return -1;
	}
	if (n != want) {
		free(d);
		ww_set_err(err, errlen, "%s: %zu bytes, want %zu", field, n,
			   want);
		return -1;
	}
	memcpy(out, d, want);
	free(d);
	return 0;
}

int
ww_sub_registration_check(const char *body, size_t len,
			  unsigned char pub[WW_SUB_PUB_LEN], char key_id[33],
			  char *err, size_t errlen)
{
	json_t *j, *pk, *pr;
	unsigned char sig[WW_SUB_SIG_LEN];
	char *text;
	int rc = -1;

	if (len > WW_SUB_MAX_REGISTRATION) {
		ww_set_err(err, errlen, "registration: over %d bytes",
			   WW_SUB_MAX_REGISTRATION);
		return -1;
	}
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j)) {
		ww_set_err(err, errlen, "registration: not a JSON object");
		goto done;
	}
	pk = json_object_get(j, "public_key");
	pr = json_object_get(j, "proof");
	if (!json_is_string(pk)) {
		ww_set_err(err, errlen, "public_key: missing or not a string");
		goto done;
	}
	if (!json_is_string(pr)) {
		ww_set_err(err, errlen, "proof: missing or not a string");
		goto done;
	}
	if (b64_exact("public_key", json_string_value(pk),
		      json_string_length(pk), WW_SUB_PUB_LEN, pub, err,
		      errlen) != 0 ||
	    b64_exact("proof", json_string_value(pr), json_string_length(pr),
		      WW_SUB_SIG_LEN, sig, err, errlen) != 0)
		goto done;
	/* The text signed is the base64 as sent, so that both ends sign
	 * exactly the bytes on the wire. */
	text = ww_sub_register_text(json_string_value(pk));
	if (!ww_sub_verify(pub, text, strlen(text), sig)) {
		ww_set_err(err, errlen,
			   "proof: not a signature of the public_key by its "
			   "key");
		free(text);
		goto done;
	}
	free(text);
	ww_sub_key_id(pub, key_id);
	rc = 0;
done:
	json_decref(j);
	return rc;
}

int
ww_sub_parse_headers(const char *key, const char *date, const char *sig,
		     struct ww_sub_hdrs *out, char *err, size_t errlen)
{
	long v;

	if (key == NULL && date == NULL && sig == NULL)
		return 0;
	if (key == NULL || date == NULL || sig == NULL) {
		ww_set_err(
			err, errlen,
			"%s: missing (a signed upload carries %s, %s and %s)",
			key == NULL    ? WW_SUB_HDR_KEY
			: date == NULL ? WW_SUB_HDR_DATE
				       : WW_SUB_HDR_SIG,
			WW_SUB_HDR_KEY, WW_SUB_HDR_DATE, WW_SUB_HDR_SIG);
		return -1;
	}
	if (!ww_sub_key_id_valid(key)) {
		ww_set_err(err, errlen,
			   "%s: not a key id (32 lowercase hex characters)",
			   WW_SUB_HDR_KEY);
		return -1;
	}
	if (strlen(date) > WW_SUB_MAX_DATE_TEXT ||
	    strspn(date, "0123456789") != strlen(date) ||
	    ww_parse_long(date, 0, 253402300799L, &v) != 0) {
		ww_set_err(err, errlen, "%s: not unix seconds",
			   WW_SUB_HDR_DATE);
		return -1;
	}
	if (strlen(sig) != SIG_B64_LEN) {
		ww_set_err(
			err, errlen,
			"%s: %zu characters, want %d (base64 of a %d-byte Ed25519 signature)",
			WW_SUB_HDR_SIG, strlen(sig), SIG_B64_LEN,
			WW_SUB_SIG_LEN);
		return -1;
	}
	if (b64_exact(WW_SUB_HDR_SIG, sig, strlen(sig), WW_SUB_SIG_LEN,
		      out->sig, err, errlen) != 0)
		return -1;
	memcpy(out->key_id, key, 33);
	out->date = v;
	return 1;
}
