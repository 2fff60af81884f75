/*
 * wireguard.c - the WireGuard handshake initiation and the reply parser
 * (wireguard.h). The Noise_IKpsk2 steps follow the whitepaper's section
 * 5.4 names: C the chaining key, H the hash, KDFn the HMAC-BLAKE2s
 * expansion. Every secret on the stack is wiped before returning.
 */
#include "wireguard.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "util.h"

#define HASH_LEN 32
#define MAC_LEN 16
#define TAG_LEN 16

/* Offsets inside the messages (whitepaper 5.4.2 - 5.4.7). */
#define INIT_EPHEMERAL 8
#define INIT_STATIC 40	  /* 32 + tag */
#define INIT_TIMESTAMP 88 /* 12 + tag */
#define INIT_MAC1 116
#define INIT_MAC2 132
#define RESP_SENDER 4
#define RESP_RECEIVER 8
#define RESP_EPHEMERAL 12
#define RESP_EMPTY 44 /* tag only */
#define RESP_MAC1 60
#define RESP_MAC2 76
#define COOKIE_RECEIVER 4
#define COOKIE_NONCE 8
#define COOKIE_BOX 32 /* 16 + tag */

static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
static const char label_mac1[] = "mac1----";
static const char label_cookie[] = "cookie--";

static uint32_t
get_le32(const unsigned char *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static void
put_le32(unsigned char *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static bool
all_zero(const unsigned char *b, size_t n)
{
	unsigned char acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

/* --- the primitives: HASH, MAC, HMAC, KDFn, AEAD, XAEAD, DH ----------- */

/* HASH(a || b), BLAKE2s-256; b may be NULL. */
static int
hash2(unsigned char out[HASH_LEN], const void *a, size_t alen, const void *b,
      size_t blen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;
	int ok;

	ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_blake2s256(), NULL) &&
	     EVP_DigestUpdate(ctx, a, alen) &&
	     (b == NULL || EVP_DigestUpdate(ctx, b, blen)) &&
	     EVP_DigestFinal_ex(ctx, out, &n) && n == HASH_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* MAC(key, data): keyed BLAKE2s with a 16-byte digest (not a truncation). */
static int
mac16(unsigned char out[MAC_LEN], const unsigned char *key, size_t keylen,
      const unsigned char *data, size_t len)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "BLAKE2SMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t size = MAC_LEN, n = 0;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
		OSSL_PARAM_construct_end(),
	};
	int ok;

	ok = ctx != NULL && EVP_MAC_init(ctx, key, keylen, params) &&
	     EVP_MAC_update(ctx, data, len) &&
	     EVP_MAC_final(ctx, out, &n, MAC_LEN) && n == MAC_LEN;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? 0 : -1;
}

static int
hmac(unsigned char out[HASH_LEN], const unsigned char key[HASH_LEN],
     const unsigned char *data, size_t len)
{
	unsigned int n = 0;

	if (HMAC(EVP_blake2s256(), key, HASH_LEN, data, len, out, &n) == NULL)
		return -1;
	return n == HASH_LEN ? 0 : -1;
}

/*
 * KDFn(key, input): tau0 = HMAC(key, input), tau1 = HMAC(tau0, 0x1),
 * tau_i = HMAC(tau0, tau_{i-1} || i). n outputs (1..3) go to outs[].
 */
static int
kdf(int n, unsigned char *outs[], const unsigned char key[HASH_LEN],
    const unsigned char *input, size_t len)
{
	unsigned char t0[HASH_LEN], prev[HASH_LEN], buf[HASH_LEN + 1];
	size_t blen = 0;
	int rc = hmac(t0, key, input, len);

	for (int i = 1; rc == 0 && i <= n; i++) {
		if (i > 1)
			memcpy(buf, prev, HASH_LEN);
		blen = i > 1 ? HASH_LEN : 0;
		buf[blen++] = (unsigned char)i;
		rc = hmac(prev, t0, buf, blen);
		if (rc == 0)
			memcpy(outs[i - 1], prev, HASH_LEN);
	}
	OPENSSL_cleanse(t0, sizeof(t0));
	OPENSSL_cleanse(prev, sizeof(prev));
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

/*
 * ChaCha20-Poly1305 with a 12-byte nonce. enc: out = ct || tag (len + 16
 * bytes); decrypt: in = ct || tag, len counts the tag, out gets len - 16.
 * Returns 0, or -1 (a decryption whose tag does not verify included).
 */
static int
chachapoly(int enc, const unsigned char key[32], const unsigned char nonce[12],
	   const unsigned char *in, size_t len, const unsigned char *ad,
	   size_t adlen, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	size_t plen = enc ? len : len - TAG_LEN;
	int n = 0, ok;

	if (ctx == NULL || (!enc && len < TAG_LEN) || len > 65536) {
		EVP_CIPHER_CTX_free(ctx);
		return -1;
	}
	ok = EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), NULL, NULL, NULL,
			       enc) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) &&
	     EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc);
	/* Decrypting: the expected tag goes in before the final check. */
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
					 (void *)(in + plen));
	ok = ok &&
	     (adlen == 0 || EVP_CipherUpdate(ctx, NULL, &n, ad, (int)adlen)) &&
	     (plen == 0 || EVP_CipherUpdate(ctx, out, &n, in, (int)plen)) &&
	     EVP_CipherFinal_ex(ctx, out + plen, &n);
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN,
					 out + plen);
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* AEAD(key, counter, ...): the nonce is 32 zero bits then counter LE. */
static int
aead(int enc, const unsigned char key[32], uint64_t counter,
     const unsigned char *in, size_t len, const unsigned char *ad, size_t adlen,
     unsigned char *out)
{
	unsigned char nonce[12] = {0};

	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (unsigned char)(counter >> (8 * i));
	return chachapoly(enc, key, nonce, in, len, ad, adlen, out);
}

/*
 * HChaCha20 (draft-irtf-cfrg-xchacha section 2.2) from OpenSSL's plain
 * ChaCha20, which has no HChaCha20 of its own: with the 16-byte IV set to
 * the 16-byte nonce, the first keystream block is permute(state) + state,
 * word by word; HChaCha20 is permute(state) words 0-3 and 12-15, so
 * subtract the known state words (the constants and the nonce) back out.
 */
static int
hchacha20(unsigned char out[32], const unsigned char key[32],
	  const unsigned char nonce[16])
{
	static const uint32_t sigma[4] = {0x61707865, 0x3320646e, 0x79622d32,
					  0x6b206574};
	unsigned char zero[64] = {0}, ks[64];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	ok = ctx != NULL &&
	     EVP_EncryptInit_ex(ctx, EVP_chacha20(), NULL, key, nonce) &&
	     EVP_EncryptUpdate(ctx, ks, &n, zero, sizeof(zero)) && n == 64;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		OPENSSL_cleanse(ks, sizeof(ks));
		return -1;
	}
	for (int i = 0; i < 4; i++) {
		put_le32(out + 4 * i, get_le32(ks + 4 * i) - sigma[i]);
		put_le32(out + 16 + 4 * i,
			 get_le32(ks + 48 + 4 * i) - get_le32(nonce + 4 * i));
	}
	OPENSSL_cleanse(ks, sizeof(ks));
	return 0;
}

/* XChaCha20-Poly1305 decryption (the cookie reply's XAEAD). */
static int
xaead_open(const unsigned char key[32], const unsigned char nonce[24],
	   const unsigned char *in, size_t len, const unsigned char *ad,
	   size_t adlen, unsigned char *out)
{
	unsigned char sub[32], n12[12] = {0};
	int rc;

	if (hchacha20(sub, key, nonce) != 0)
		return -1;
	memcpy(n12 + 4, nonce + 16, 8);
	rc = chachapoly(0, sub, n12, in, len, ad, adlen, out);
	OPENSSL_cleanse(sub, sizeof(sub));
	return rc;
}

int
ww_wg_public_key(const unsigned char priv[WW_WG_KEY_LEN],
		 unsigned char pub[WW_WG_KEY_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
						   WW_WG_KEY_LEN);
	size_t n = WW_WG_KEY_LEN;
	int ok = k != NULL && EVP_PKEY_get_raw_public_key(k, pub, &n) &&
		 n == WW_WG_KEY_LEN;

	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

/*
 * DH(priv, pub) by X25519. OpenSSL fails the derivation when the result is
 * all zero (a low-order public key), which WireGuard refuses too.
 */
static int
dh(unsigned char out[32], const unsigned char priv[32],
   const unsigned char pub[32])
{
	EVP_PKEY *a =
		EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	EVP_PKEY *b =
		EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, 32);
	EVP_PKEY_CTX *ctx = a ? EVP_PKEY_CTX_new(a, NULL) : NULL;
	size_t n = 32;
	int ok;

	ok = ctx != NULL && b != NULL && EVP_PKEY_derive_init(ctx) > 0 &&
	     EVP_PKEY_derive_set_peer(ctx, b) > 0 &&
	     EVP_PKEY_derive(ctx, out, &n) > 0 && n == 32 && !all_zero(out, 32);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	return ok ? 0 : -1;
}

/* --- the initiation ---------------------------------------------------- */

/* The initiator's handshake state after building the initiation. */
struct hs {
	unsigned char c[HASH_LEN]; /* chaining key */
	unsigned char h[HASH_LEN]; /* handshake hash */
	unsigned char s_pub[32];   /* our static public key */
	unsigned char msg[WW_WG_INITIATION_LEN];
};

static void
hs_wipe(struct hs *st)
{
	OPENSSL_cleanse(st, sizeof(*st));
}

/* C = KDF1(C, x): one chaining step. */
static int
mix_key(unsigned char c[HASH_LEN], const unsigned char *x, size_t len)
{
	unsigned char *outs[1] = {c};

	return kdf(1, outs, c, x, len);
}

/* H = HASH(H || x). */
static int
mix_hash(unsigned char h[HASH_LEN], const unsigned char *x, size_t len)
{
	return hash2(h, h, HASH_LEN, x, len);
}

/* (C, k) = KDF2(C, DH(priv, pub)). */
static int
mix_dh(unsigned char c[HASH_LEN], unsigned char k[32],
       const unsigned char priv[32], const unsigned char pub[32])
{
	unsigned char shared[32];
	unsigned char *outs[2] = {c, k};
	int rc = dh(shared, priv, pub);

	if (rc == 0)
		rc = kdf(2, outs, c, shared, sizeof(shared));
	OPENSSL_cleanse(shared, sizeof(shared));
	return rc;
}

/* Encrypt x (len bytes) into m with key k at counter 0, then mix it in H. */
static int
seal_mix(unsigned char h[HASH_LEN], const unsigned char k[32],
	 const unsigned char *x, size_t len, unsigned char *m)
{
	if (aead(1, k, 0, x, len, h, HASH_LEN, m) != 0)
		return -1;
	return mix_hash(h, m, len + TAG_LEN);
}

/* Both MACs of a message whose MAC1 sits at mac1_at (MAC2 right after). */
static int
put_macs(unsigned char *msg, size_t mac1_at, const unsigned char peer_pub[32],
	 const struct ww_wg_params *p)
{
	unsigned char key[HASH_LEN];

	if (hash2(key, label_mac1, 8, peer_pub, 32) != 0 ||
	    mac16(msg + mac1_at, key, HASH_LEN, msg, mac1_at) != 0)
		return -1;
	if (!p->has_cookie) {
		memset(msg + mac1_at + MAC_LEN, 0, MAC_LEN);
		return 0;
	}
	return mac16(msg + mac1_at + MAC_LEN, p->cookie, sizeof(p->cookie), msg,
		     mac1_at + MAC_LEN);
}

/* C and H before the first message, for responder key r_pub. */
static int
hs_start(unsigned char c[HASH_LEN], unsigned char h[HASH_LEN],
	 const unsigned char r_pub[32])
{
	if (hash2(c, construction, strlen(construction), NULL, 0) != 0 ||
	    hash2(h, c, HASH_LEN, identifier, strlen(identifier)) != 0)
		return -1;
	return mix_hash(h, r_pub, 32);
}

/* Decrypt x (len bytes with its tag) with key k at counter 0, mix it in. */
static int
open_mix(unsigned char h[HASH_LEN], const unsigned char k[32],
	 const unsigned char *x, size_t len, unsigned char *out)
{
	if (aead(0, k, 0, x, len, h, HASH_LEN, out) != 0)
		return -1;
	return mix_hash(h, x, len);
}

/* Whitepaper 5.4.2, the initiator's side, into st (message included). */
static int
build_hs(const struct ww_wg_params *p, struct hs *st)
{
	unsigned char e_pub[32], k[32];
	unsigned char *m = st->msg;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	if (hs_start(st->c, st->h, p->server_pub) != 0 ||
	    ww_wg_public_key(p->ephemeral_priv, e_pub) != 0 ||
	    ww_wg_public_key(p->static_priv, st->s_pub) != 0)
		goto out;
	m[0] = 1; /* type; the three reserved bytes stay zero */
	put_le32(m + 4, p->sender_index);
	memcpy(m + INIT_EPHEMERAL, e_pub, 32);
	if (mix_key(st->c, e_pub, 32) != 0 || mix_hash(st->h, e_pub, 32) != 0 ||
	    mix_dh(st->c, k, p->ephemeral_priv, p->server_pub) != 0 ||
	    seal_mix(st->h, k, st->s_pub, 32, m + INIT_STATIC) != 0 ||
	    mix_dh(st->c, k, p->static_priv, p->server_pub) != 0 ||
	    seal_mix(st->h, k, p->timestamp, 12, m + INIT_TIMESTAMP) != 0 ||
	    put_macs(m, INIT_MAC1, p->server_pub, p) != 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(k, sizeof(k));
	if (rc != 0)
		hs_wipe(st);
	return rc;
}

ssize_t
ww_wg_build_initiation(const struct ww_wg_params *p, unsigned char *out,
		       size_t cap)
{
	struct hs st;

	if (p == NULL || out == NULL || cap < WW_WG_INITIATION_LEN)
		return -1;
	if (build_hs(p, &st) != 0)
		return -1;
	memcpy(out, st.msg, WW_WG_INITIATION_LEN);
	hs_wipe(&st);
	return WW_WG_INITIATION_LEN;
}

/*
 * TAI64N as WireGuard writes it: 2^62 + 10 + Unix seconds, big-endian,
 * then nanoseconds big-endian. The server only needs it to grow.
 */
static void
tai64n_now(unsigned char ts[12])
{
	struct timespec now;
	uint64_t secs;
	uint32_t ns;

	clock_gettime(CLOCK_REALTIME, &now);
	secs = 0x400000000000000aULL + (uint64_t)now.tv_sec;
	ns = (uint32_t)now.tv_nsec;
	for (int i = 0; i < 8; i++)
		ts[i] = (unsigned char)(secs >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		ts[8 + i] = (unsigned char)(ns >> (24 - 8 * i));
}

int
ww_wg_params_random(struct ww_wg_params *p)
{
	unsigned char idx[4];

	if (RAND_bytes(p->ephemeral_priv, WW_WG_KEY_LEN) != 1 ||
	    RAND_bytes(idx, sizeof(idx)) != 1 ||
	    (!p->registered && RAND_bytes(p->static_priv, WW_WG_KEY_LEN) != 1))
		return -1;
	p->sender_index = get_le32(idx);
	tai64n_now(p->timestamp);
	return 0;
}

/* --- the parser -------------------------------------------------------- */

/* Is the MAC1 at mac1_at valid for the key HASH("mac1----" || pub)? */
static bool
mac1_valid(const unsigned char *msg, size_t mac1_at,
	   const unsigned char pub[32])
{
	unsigned char key[HASH_LEN], want[MAC_LEN];

	if (hash2(key, label_mac1, 8, pub, 32) != 0 ||
	    mac16(want, key, HASH_LEN, msg, mac1_at) != 0)
		return false;
	return CRYPTO_memcmp(want, msg + mac1_at, MAC_LEN) == 0;
}

/*
 * Whitepaper 5.4.3 from the initiator's side: continue st with the
 * response msg and decrypt its empty payload. 0 when it authenticates.
 */
static int
finish_hs(struct hs *st, const struct ww_wg_params *p, const unsigned char *msg)
{
	const unsigned char *e_r = msg + RESP_EPHEMERAL;
	unsigned char shared[32], tau[32], k[32], nothing[1];
	unsigned char *outs[3] = {st->c, tau, k};
	int rc = -1;

	if (mix_key(st->c, e_r, 32) != 0 || mix_hash(st->h, e_r, 32) != 0 ||
	    dh(shared, p->ephemeral_priv, e_r) != 0 ||
	    mix_key(st->c, shared, 32) != 0 ||
	    dh(shared, p->static_priv, e_r) != 0 ||
	    mix_key(st->c, shared, 32) != 0 ||
	    kdf(3, outs, st->c, p->psk, WW_WG_KEY_LEN) != 0 ||
	    mix_hash(st->h, tau, 32) != 0)
		goto out;
	rc = aead(0, k, 0, msg + RESP_EMPTY, TAG_LEN, st->h, HASH_LEN, nothing);
out:
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(tau, sizeof(tau));
	OPENSSL_cleanse(k, sizeof(k));
	return rc;
}

/*
 * Whitepaper 5.4.2 from the responder's side, for an initiation sent to
 * us: 0 when its static key decrypts to the server's key and its
 * timestamp authenticates, so the server itself initiated.
 */
static int
consume_initiation(const unsigned char *msg, const struct ww_wg_params *p,
		   const unsigned char s_pub[32])
{
	const unsigned char *e_i = msg + INIT_EPHEMERAL;
	unsigned char c[HASH_LEN], h[HASH_LEN], k[32], peer[32], ts[12];
	int rc = -1;

	if (hs_start(c, h, s_pub) != 0 || mix_key(c, e_i, 32) != 0 ||
	    mix_hash(h, e_i, 32) != 0 ||
	    mix_dh(c, k, p->static_priv, e_i) != 0 ||
	    open_mix(h, k, msg + INIT_STATIC, 32 + TAG_LEN, peer) != 0 ||
	    CRYPTO_memcmp(peer, p->server_pub, 32) != 0 ||
	    mix_dh(c, k, p->static_priv, peer) != 0 ||
	    open_mix(h, k, msg + INIT_TIMESTAMP, 12 + TAG_LEN, ts) != 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(c, sizeof(c));
	OPENSSL_cleanse(k, sizeof(k));
	return rc;
}

static void
parse_response(const unsigned char *buf, const struct ww_wg_params *p,
	       struct hs *st, struct ww_wg_reply *r)
{
	r->kind = "handshake_response";
	r->sender_index = get_le32(buf + RESP_SENDER);
	r->receiver_index = get_le32(buf + RESP_RECEIVER);
	r->answers_ours = r->receiver_index == p->sender_index;
	r->mac1_ok = mac1_valid(buf, RESP_MAC1, st->s_pub);
	r->mac2_zero = all_zero(buf + RESP_MAC2, MAC_LEN);
	/* As an initiator would: a bad MAC1 is dropped before the Noise. */
	r->verified =
		r->answers_ours && r->mac1_ok && finish_hs(st, p, buf) == 0;
}

static void
parse_cookie_reply(const unsigned char *buf, const struct ww_wg_params *p,
		   const struct hs *st, struct ww_wg_reply *r)
{
	unsigned char key[HASH_LEN];

	r->kind = "cookie_reply";
	r->receiver_index = get_le32(buf + COOKIE_RECEIVER);
	r->answers_ours = r->receiver_index == p->sender_index;
	/* The cookie is boxed to our MAC1: only our initiation opens it. */
	r->cookie_ok = hash2(key, label_cookie, 8, p->server_pub, 32) == 0 &&
		       xaead_open(key, buf + COOKIE_NONCE, buf + COOKIE_BOX,
				  MAC_LEN + TAG_LEN, st->msg + INIT_MAC1,
				  MAC_LEN, r->cookie) == 0;
	if (!r->cookie_ok)
		memset(r->cookie, 0, sizeof(r->cookie));
}

/* The length each type must have; 0 for "at least WW_WG_DATA_MIN_LEN". */
static size_t
type_len(int type)
{
	switch (type) {
	case 1:
		return WW_WG_INITIATION_LEN;
	case 2:
		return WW_WG_RESPONSE_LEN;
	case 3:
		return WW_WG_COOKIE_REPLY_LEN;
	default:
		return 0;
	}
}

static const char *const type_name[] = {NULL, "handshake initiation",
					"handshake response", "cookie reply",
					"transport data"};

/* The header checks: 0 when buf may be a message of its type. */
static int
check_header(const unsigned char *buf, size_t len, char *err, size_t errlen)
{
	int type;

	if (len < 4) {
		ww_set_err(
			err, errlen,
			"truncated: %zu bytes, a message has a 4-byte header",
			len);
		return -1;
	}
	type = buf[0];
	if (type < 1 || type > 4) {
		ww_set_err(err, errlen, "type %d is not a WireGuard message",
			   type);
		return -1;
	}
	if (buf[1] != 0 || buf[2] != 0 || buf[3] != 0) {
		ww_set_err(
			err, errlen,
			"type %d with reserved bytes %02x %02x %02x, not zero",
			type, buf[1], buf[2], buf[3]);
		return -1;
	}
	if (type_len(type) != 0 && len != type_len(type)) {
		ww_set_err(err, errlen,
			   "type %d message of %zu bytes, a %s is %zu", type,
			   len, type_name[type], type_len(type));
		return -1;
	}
	if (type == 4 && len < WW_WG_DATA_MIN_LEN) {
		ww_set_err(err, errlen,
			   "type 4 message of %zu bytes, transport data is at "
			   "least %d",
			   len, WW_WG_DATA_MIN_LEN);
		return -1;
	}
	return 0;
}

int
ww_wg_parse_reply(const unsigned char *buf, size_t len,
		  const struct ww_wg_params *p, struct ww_wg_reply *r,
		  char *err, size_t errlen)
{
	struct hs st;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (r == NULL || p == NULL || (buf == NULL && len > 0)) {
		ww_set_err(err, errlen, "no reply, parameters or result given");
		return -1;
	}
	memset(r, 0, sizeof(*r));
	if (check_header(buf, len, err, errlen) != 0)
		return -1;
	r->type = buf[0];
	if (build_hs(p, &st) != 0) {
		ww_set_err(err, errlen,
			   "cannot rebuild our initiation (bad key)");
		return -1;
	}
	switch (r->type) {
	case 1:
		r->kind = "handshake_initiation";
		r->sender_index = get_le32(buf + 4);
		r->mac1_ok = mac1_valid(buf, INIT_MAC1, st.s_pub);
		r->mac2_zero = all_zero(buf + INIT_MAC2, MAC_LEN);
		r->verified = consume_initiation(buf, p, st.s_pub) == 0;
		break;
	case 2:
		parse_response(buf, p, &st, r);
		break;
	case 3:
		parse_cookie_reply(buf, p, &st, r);
		break;
	default:
		r->kind = "transport_data";
		r->receiver_index = get_le32(buf + 4);
		r->answers_ours = r->receiver_index == p->sender_index;
		for (int i = 0; i < 8; i++)
			r->counter |= (uint64_t)buf[8 + i] << (8 * i);
		break;
	}
	hs_wipe(&st);
	return 0;
}

bool
ww_wg_reply_proves_up(const struct ww_wg_reply *r)
{
	if (r == NULL || r->kind == NULL)
		return false;
	if (r->type == 2)
		return r->answers_ours && r->mac1_ok;
	if (r->type == 3)
		return r->answers_ours && r->cookie_ok;
	return false;
}

/* --- keys in wg(8)'s base64 -------------------------------------------- */

static int
b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool
blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Name the first character of s[0..43) that is not base64, or -1. */
static int
bad_char(const char *s, char *err, size_t errlen)
{
	for (int i = 0; i < 43; i++) {
		unsigned char c = (unsigned char)s[i];

		if (b64_value(c) >= 0)
			continue;
		if (c == ' ')
			ww_set_err(err, errlen,
				   "character %d is a space, not base64 (a '+' "
				   "that URL decoding turned into a space?)",
				   i + 1);
		else if (isprint(c))
			ww_set_err(err, errlen,
				   "character %d ('%c') is not base64", i + 1,
				   c);
		else
			ww_set_err(err, errlen,
				   "character %d (byte 0x%02x) is not base64",
				   i + 1, c);
		return -1;
	}
	return 0;
}

int
ww_wg_key_from_base64(const char *s, unsigned char key[WW_WG_KEY_LEN],
		      char *err, size_t errlen)
{
	size_t len;
	uint32_t acc = 0;
	int bits = 0, o = 0;

	if (s == NULL) {
		ww_set_err(err, errlen, "no key");
		return -1;
	}
	while (blank((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && blank((unsigned char)s[len - 1]))
		len--;
	if (len != 44 || s[43] != '=') {
		ww_set_err(
			err, errlen,
			"a key is 44 base64 characters ending in '=', this is "
			"%zu characters",
			len);
		return -1;
	}
	if (bad_char(s, err, errlen) != 0)
		return -1;
	/* 43 characters carry 258 bits: 256 of key, 2 that must be zero. */
	if (b64_value((unsigned char)s[42]) & 3) {
		ww_set_err(err, errlen,
			   "not a canonical key (character 43 '%c' "
			   "has its unused bits set)",
			   s[42]);
		return -1;
	}
	for (int i = 0; i < 43; i++) {
		acc = (acc << 6) | (uint32_t)b64_value((unsigned char)s[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			key[o++] = (unsigned char)(acc >> bits);
		}
	}
	return 0;
}

int
ww_wg_key_to_base64(const unsigned char key[WW_WG_KEY_LEN], char *out,
		    size_t cap)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	int bits = 0, o = 0;

	if (cap < 45)
		return -1;
	for (int i = 0; i < WW_WG_KEY_LEN; i++) {
		acc = (acc << 8) | key[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = alphabet[(acc >> bits) & 63];
		}
	}
	out[o++] = alphabet[(acc << (6 - bits)) & 63]; /* 2 bits left */
	out[o++] = '=';
	out[o] = '\0';
	return 0;
}

int
ww_wg_key_from_file(const char *path, unsigned char key[WW_WG_KEY_LEN],
		    char *err, size_t errlen)
{
	char buf[258], why[160];
	FILE *f = fopen(path, "r");
	size_t n;
	int rc;

	if (f == NULL) {
		ww_set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n > 256) {
		ww_set_err(err, errlen, "%s: over 256 bytes, not a key file",
			   path);
		OPENSSL_cleanse(buf, sizeof(buf));
		return -1;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL) {
		ww_set_err(err, errlen, "%s: a NUL byte, not a key file", path);
		OPENSSL_cleanse(buf, sizeof(buf));
		return -1;
	}
	rc = ww_wg_key_from_base64(buf, key, why, sizeof(why));
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc != 0) {
		ww_set_err(err, errlen, "%s: %s", path, why);
		return -1;
	}
	return 0;
}
