/*
 * quic.c - QUIC v1 Initial packets and their protection (RFC 9001 5), the
 * version-negotiation ping, and the parser of what a server sends back.
 * See quic.h for what is sent and what counts as an answer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "bytes.h"
#include "quic.h"
#include "quic_hello.h"
#include "quic_int.h"

/* RFC 9001 5.2: the v1 salt of the Initial secrets. */
static const unsigned char initial_salt[20] = {
	0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};

/* RFC 9001 5.8: the v1 Retry integrity key and nonce. */
static const unsigned char retry_key[16] = {0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66,
					    0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54,
					    0xe3, 0x68, 0xc8, 0x4e};
static const unsigned char retry_nonce[12] = {
	0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb};

#define WW_QUIC_TAG_LEN 16
#define PN_LEN 4 /* we always send 4-byte packet numbers */

int
ww_quic_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

uint32_t
ww_quic_get32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

/* --- varints (RFC 9000 16) ----------------------------------------------- */

int
ww_quic_varint_put(unsigned char *out, size_t cap, uint64_t v)
{
	int n;

	if (v < 64)
		n = 1;
	else if (v < 16384)
		n = 2;
	else if (v < 1073741824)
		n = 4;
	else if (v < (1ull << 62))
		n = 8;
	else
		return -1;
	if (cap < (size_t)n)
		return -1;
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		out[i] = (unsigned char)v;
	out[0] |= (unsigned char)((n == 1   ? 0
				   : n == 2 ? 1
				   : n == 4 ? 2
					    : 3)
				  << 6);
	return n;
}

int
ww_quic_varint_get(const unsigned char *buf, size_t len, uint64_t *v)
{
	size_t n;
	uint64_t x;

	if (len < 1)
		return -1;
	n = (size_t)1 << (buf[0] >> 6);
	if (len < n)
		return -1;
	x = buf[0] & 0x3f;
	for (size_t i = 1; i < n; i++)
		x = x << 8 | buf[i];
	*v = x;
	return (int)n;
}

/* --- keys (RFC 9001 5.1, 5.2) -------------------------------------------- */

static int
hkdf(int mode, const unsigned char *salt, size_t salt_len,
     const unsigned char *key, size_t key_len, const unsigned char *info,
     size_t info_len, unsigned char *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[6], *q = params;
	int rc = -1;

	*q++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)"SHA256", 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (void *)key, key_len);
	if (salt != NULL)
		*q++ = OSSL_PARAM_construct_octet_string(
			OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	if (info != NULL)
		*q++ = OSSL_PARAM_construct_octet_string(
			OSSL_KDF_PARAM_INFO, (void *)info, info_len);
	*q = OSSL_PARAM_construct_end();
	if (ctx != NULL && EVP_KDF_derive(ctx, out, out_len, params) == 1)
		rc = 0;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

/* TLS 1.3 HKDF-Expand-Label (RFC 8446 7.1) with an empty context. */
static int
expand_label(const unsigned char secret[32], const char *label,
	     unsigned char *out, size_t out_len)
{
	unsigned char info[2 + 1 + 255 + 1];
	size_t l = strlen(label), n = 0;

	if (6 + l > 255)
		return -1;
	info[n++] = (unsigned char)(out_len >> 8);
	info[n++] = (unsigned char)out_len;
	info[n++] = (unsigned char)(6 + l);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, l);
	n += l;
	info[n++] = 0; /* context */
	return hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, 0, secret, 32, info, n,
		    out, out_len);
}

int
ww_quic_initial_keys(const unsigned char *dcid, size_t dcid_len, bool server,
		     struct ww_quic_keys *k)
{
	unsigned char initial[32], secret[32];
	int rc = -1;

	if (hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, initial_salt,
		 sizeof(initial_salt), dcid, dcid_len, NULL, 0, initial,
		 sizeof(initial)) == 0 &&
	    expand_label(initial, server ? "server in" : "client in", secret,
			 sizeof(secret)) == 0 &&
	    expand_label(secret, "quic key", k->key, sizeof(k->key)) == 0 &&
	    expand_label(secret, "quic iv", k->iv, sizeof(k->iv)) == 0 &&
	    expand_label(secret, "quic hp", k->hp, sizeof(k->hp)) == 0)
		rc = 0;
	OPENSSL_cleanse(initial, sizeof(initial));
	OPENSSL_cleanse(secret, sizeof(secret));
	return rc;
}

/* --- AEAD and header protection (RFC 9001 5.3, 5.4) ---------------------- */

void
ww_quic_nonce(const unsigned char iv[12], uint64_t pn, unsigned char nonce[12])
{
	memcpy(nonce, iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= (unsigned char)(pn >> (8 * (7 - i)));
}

/* The header protection mask: AES-128-ECB of the 16-byte sample. */
int
ww_quic_hp_mask(const unsigned char hp[16], const unsigned char *sample,
		unsigned char mask[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, rc = -1;

	if (c != NULL &&
	    EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, hp, NULL) == 1 &&
	    EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
	    EVP_EncryptUpdate(c, mask, &n, sample, 16) == 1 && n == 16)
		rc = 0;
	EVP_CIPHER_CTX_free(c);
	return rc;
}

/*
 * AES-128-GCM over one buffer: aad (a parts, to pass a header in pieces
 * without copying it), then in -> out (in place allowed). Sealing writes
 * the tag to tag; opening checks it. Returns 0, -1 (libcrypto, or the tag
 * does not verify).
 */
int
ww_quic_gcm(bool seal, const unsigned char key[16],
	    const unsigned char nonce[12], const struct ww_quic_aad *aad,
	    size_t n_aad, const unsigned char *in, size_t len,
	    unsigned char *out, unsigned char tag[WW_QUIC_TAG_LEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	unsigned char fin[16]; /* GCM's final step writes nothing */
	int n, ok;

	ok = c != NULL && EVP_CipherInit_ex(c, EVP_aes_128_gcm(), NULL, key,
					    nonce, seal ? 1 : 0) == 1;
	for (size_t i = 0; ok && i < n_aad; i++)
		ok = aad[i].n == 0 || EVP_CipherUpdate(c, NULL, &n, aad[i].p,
						       (int)aad[i].n) == 1;
	if (ok && len > 0)
		ok = EVP_CipherUpdate(c, out, &n, in, (int)len) == 1;
	if (ok && !seal)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG,
					 WW_QUIC_TAG_LEN, tag) == 1;
	if (ok)
		ok = EVP_CipherFinal_ex(c, fin, &n) == 1 && n == 0;
	if (ok && seal)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG,
					 WW_QUIC_TAG_LEN, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* --- sealing -------------------------------------------------------------- */

ssize_t
ww_quic_seal_initial(const struct ww_quic_initial *in,
		     const struct ww_quic_keys *k, unsigned char *out,
		     size_t cap)
{
	unsigned char nonce[12], mask[16], vtok[8];
	size_t hdr, plain, total, pn_off;
	int ntok;
	struct ww_quic_aad aad;

	if (in->dcid_len > WW_QUIC_CID_MAX || in->scid_len > WW_QUIC_CID_MAX ||
	    in->frames_len == 0 || in->frames_len > 16000 ||
	    in->token_len > WW_QUIC_MAX_DATAGRAM)
		return -1;
	ntok = ww_quic_varint_put(vtok, sizeof(vtok), in->token_len);
	hdr = 1 + 4 + 1 + in->dcid_len + 1 + in->scid_len + (size_t)ntok +
	      in->token_len;
	pn_off = hdr + 2; /* the Length field, always in 2 bytes */
	plain = in->frames_len;
	if (in->pad_to > pn_off + PN_LEN + WW_QUIC_TAG_LEN + plain)
		plain = in->pad_to - pn_off - PN_LEN - WW_QUIC_TAG_LEN;
	if (PN_LEN + plain + WW_QUIC_TAG_LEN > 16383)
		return -1;
	total = pn_off + PN_LEN + plain + WW_QUIC_TAG_LEN;
	if (total > cap)
		return -1;
	out[0] = 0xc0 | (PN_LEN - 1); /* long header, fixed bit, Initial */
	ww_put_be32(out + 1, WW_QUIC_V1);
	hdr = 5;
	out[hdr++] = (unsigned char)in->dcid_len;
	if (in->dcid_len > 0) /* an empty id may come as NULL */
		memcpy(out + hdr, in->dcid, in->dcid_len);
	hdr += in->dcid_len;
	out[hdr++] = (unsigned char)in->scid_len;
	if (in->scid_len > 0)
		memcpy(out + hdr, in->scid, in->scid_len);
	hdr += in->scid_len;
	memcpy(out + hdr, vtok, (size_t)ntok);
	hdr += (size_t)ntok;
	if (in->token_len > 0)
		memcpy(out + hdr, in->token, in->token_len);
	hdr += in->token_len;
	out[hdr] =
		(unsigned char)(0x40 | (PN_LEN + plain + WW_QUIC_TAG_LEN) >> 8);
	out[hdr + 1] = (unsigned char)(PN_LEN + plain + WW_QUIC_TAG_LEN);
	ww_put_be32(out + pn_off, in->pn);
	memcpy(out + pn_off + PN_LEN, in->frames, in->frames_len);
	memset(out + pn_off + PN_LEN + in->frames_len, 0,
	       plain - in->frames_len); /* PADDING frames */
	ww_quic_nonce(k->iv, in->pn, nonce);
	aad.p = out;
	aad.n = pn_off + PN_LEN;
	if (ww_quic_gcm(true, k->key, nonce, &aad, 1, out + pn_off + PN_LEN,
			plain, out + pn_off + PN_LEN,
			out + pn_off + PN_LEN + plain) != 0)
		return -1;
	/* The sample starts 4 bytes after the packet number's start,
	 * whatever its length (RFC 9001 5.4.2). */
	if (ww_quic_hp_mask(k->hp, out + pn_off + 4, mask) != 0)
		return -1;
	out[0] ^= mask[0] & 0x0f;
	for (int i = 0; i < PN_LEN; i++)
		out[pn_off + (size_t)i] ^= mask[1 + i];
	return (ssize_t)total;
}

static bool
params_ids_ok(const struct ww_quic_params *p)
{
	return p->dcid_len >= 8 && p->dcid_len <= WW_QUIC_CID_MAX &&
	       p->scid_len <= WW_QUIC_CID_MAX &&
	       p->token_len <= WW_QUIC_TOKEN_MAX &&
	       (p->datagram_len == 0 ||
		(p->datagram_len >= 1200 && p->datagram_len <= 1472));
}

ssize_t
ww_quic_build_initial(const struct ww_quic_params *p, unsigned char *out,
		      size_t cap)
{
	unsigned char frames[1200];
	struct ww_quic_keys k;
	struct ww_quic_initial in;
	ssize_t hello;
	size_t n = 0;
	int v;

	if (!params_ids_ok(p))
		return -1;
	/* CRYPTO frame: type 0x06, offset 0, length, the ClientHello. The
	 * length is sent in 2 bytes (the hello is over 63 bytes). */
	hello = ww_quic_hello_build(p, frames + 4, sizeof(frames) - 4);
	if (hello < 64 || hello > 16383)
		return -1;
	frames[n++] = 0x06;
	frames[n++] = 0x00;
	v = ww_quic_varint_put(frames + n, 2, (uint64_t)hello);
	if (v != 2)
		return -1;
	n += 2 + (size_t)hello;
	if (ww_quic_initial_keys(p->dcid, p->dcid_len, false, &k) != 0)
		return -1;
	in = (struct ww_quic_initial){
		.dcid = p->dcid,
		.dcid_len = p->dcid_len,
		.scid = p->scid,
		.scid_len = p->scid_len,
		.token = p->token,
		.token_len = p->token_len,
		.pn = p->pn,
		.frames = frames,
		.frames_len = n,
		.pad_to = p->datagram_len ? p->datagram_len : 1200,
	};
	hello = ww_quic_seal_initial(&in, &k, out, cap);
	OPENSSL_cleanse(&k, sizeof(k));
	return hello;
}

ssize_t
ww_quic_build_vn_ping(const struct ww_quic_params *p, unsigned char *out,
		      size_t cap)
{
	size_t total = p->datagram_len ? p->datagram_len : 1200, n = 0;

	if (!params_ids_ok(p) ||
	    (p->ping_version & 0x0f0f0f0fu) != 0x0a0a0a0au || total > cap)
		return -1;
	out[n++] = 0xc0;
	ww_put_be32(out + n, p->ping_version);
	n += 4;
	out[n++] = (unsigned char)p->dcid_len;
	memcpy(out + n, p->dcid, p->dcid_len);
	n += p->dcid_len;
	out[n++] = (unsigned char)p->scid_len;
	memcpy(out + n, p->scid, p->scid_len);
	n += p->scid_len;
	/* No token, no length: the server cannot read an unknown version's
	 * fields; zeros make the datagram big enough to be answered. */
	memset(out + n, 0, total - n);
	return (ssize_t)total;
}

int
ww_quic_params_random(struct ww_quic_params *p, const char *sni,
		      const char *alpn)
{
	unsigned char v[4];

	memset(p, 0, sizeof(*p));
	if ((sni != NULL && strlen(sni) > WW_QUIC_SNI_MAX) ||
	    (alpn != NULL && strlen(alpn) > WW_QUIC_ALPN_MAX))
		return -1;
	p->dcid_len = 8;
	p->scid_len = 8;
	if (RAND_bytes(p->dcid, (int)p->dcid_len) != 1 ||
	    RAND_bytes(p->scid, (int)p->scid_len) != 1 ||
	    RAND_bytes(p->random, sizeof(p->random)) != 1 ||
	    RAND_bytes(p->x25519_priv, sizeof(p->x25519_priv)) != 1 ||
	    RAND_bytes(v, sizeof(v)) != 1)
		return -1;
	p->ping_version = (ww_quic_get32(v) & 0xf0f0f0f0u) | 0x0a0a0a0au;
	p->datagram_len = 1200;
	if (sni != NULL)
		strcpy(p->sni, sni);
	strcpy(p->alpn, alpn != NULL ? alpn : "h3");
	return 0;
}

int
ww_quic_retry_tag(const unsigned char *odcid, size_t odcid_len,
		  const unsigned char *pkt, size_t len, unsigned char tag[16])
{
	unsigned char l = (unsigned char)odcid_len;
	struct ww_quic_aad aad[3] = {{&l, 1}, {odcid, odcid_len}, {pkt, len}};

	/* The Retry Pseudo-Packet is the AAD of an empty plaintext. */
	if (odcid_len > WW_QUIC_CID_MAX || len > WW_QUIC_MAX_DATAGRAM)
		return -1;
	return ww_quic_gcm(true, retry_key, retry_nonce, aad, 3, NULL, 0, NULL,
			   tag);
}
