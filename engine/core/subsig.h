/*
 * subsig.h - submitter identity on the wire (docs/submitters.md): the key
 * id of an Ed25519 public key, the registration proof and the upload
 * signature, both ends (the probe signs, the collector verifies). Only
 * libc, jansson and OpenSSL's libcrypto; any thread.
 *
 *   key id    lowercase hex of the first 16 bytes of SHA-256 over the 32
 *             raw bytes of the public key (32 characters)
 *   proof     Ed25519 over "wallwatch-register-v1\n" + the public key's
 *             base64 text, as sent
 *   upload    Ed25519 over "wallwatch-upload-v1\n" + key id + "\n" + date
 *             + "\n" + lowercase hex SHA-256 of the body bytes exactly as
 *             sent (compressed when gzip)
 */
#ifndef WW_SUBSIG_H
#define WW_SUBSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define WW_SUB_PUB_LEN 32
#define WW_SUB_SIG_LEN 64
#define WW_SUB_KEY_ID_LEN 32 /* hex characters */
/* Seconds an upload's date may differ from the collector's clock. */
#define WW_SUB_MAX_SKEW 900
#define WW_SUB_HDR_KEY "X-Wallwatch-Key"
#define WW_SUB_HDR_DATE "X-Wallwatch-Date"
#define WW_SUB_HDR_SIG "X-Wallwatch-Signature"
/* Header values longer than these are refused unread. */
#define WW_SUB_MAX_DATE_TEXT 20
#define WW_SUB_MAX_SIG_TEXT 128
/* A registration body larger than this is refused unparsed. */
#define WW_SUB_MAX_REGISTRATION 4096

/* The key id of pub into out (33 bytes with the NUL). */
void ww_sub_key_id(const unsigned char pub[WW_SUB_PUB_LEN], char out[33]);

/* Is s a key id (32 lowercase hex characters, NUL-terminated)? */
bool ww_sub_key_id_valid(const char *s);

/* The raw public key of an Ed25519 key (private or public): 0, or -1. */
int ww_sub_raw_public(EVP_PKEY *k, unsigned char pub[WW_SUB_PUB_LEN]);

/* Sign msg (len bytes) with k into sig: 0, or -1. */
int ww_sub_sign(EVP_PKEY *k, const void *msg, size_t len,
		unsigned char sig[WW_SUB_SIG_LEN]);

/* Does sig sign msg under the raw public key pub? */
bool ww_sub_verify(const unsigned char pub[WW_SUB_PUB_LEN], const void *msg,
		   size_t len, const unsigned char sig[WW_SUB_SIG_LEN]);

/* The signed text of an upload (see above); caller frees. */
char *ww_sub_upload_text(const char *key_id, int64_t date, const void *body,
			 size_t len);

/* The signed text of a registration for pub_b64; caller frees. */
char *ww_sub_register_text(const char *pub_b64);

/*
 * The registration body {"public_key": base64, "proof": base64} made by k:
 * a new string (caller frees), or NULL.
 */
char *ww_sub_registration_new(EVP_PKEY *k);

/*
 * Check a registration body (untrusted, len bytes): a JSON object with
 * public_key (base64 of 32 bytes) and proof (base64 of a 64-byte
 * signature that verifies). 0 with the raw key in pub and its id in
 * key_id, or -1 with a message naming the problem.
 */
int ww_sub_registration_check(const char *body, size_t len,
			      unsigned char pub[WW_SUB_PUB_LEN],
			      char key_id[33], char *err, size_t errlen);

/* An upload's signature headers, parsed. */
struct ww_sub_hdrs {
	char key_id[33];
	int64_t date;
	unsigned char sig[WW_SUB_SIG_LEN];
};

/*
 * Parse the three header values (untrusted; NULL when absent). Returns 0
 * when none is present (an unsigned upload), 1 with out filled when all
 * three are well-formed, -1 with a message naming the header at fault
 * when only some are present or one is malformed.
 */
int ww_sub_parse_headers(const char *key, const char *date, const char *sig,
			 struct ww_sub_hdrs *out, char *err, size_t errlen);

#endif
