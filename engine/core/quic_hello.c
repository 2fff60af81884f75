/*
 * quic_hello.c - the TLS 1.3 ClientHello of a QUIC client, encoded here
 * (OpenSSL 3.0 has no QUIC client to produce it), and the ServerHello
 * reader. See quic_hello.h for what the hello offers and why.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "bytes.h"
#include "quic.h"
#include "quic_hello.h"

/* A bounded writer: once a write would pass cap, bad is set and nothing
 * more is written, so the callers check once at the end. */
static void
put_varint(struct ww_wbuf *w, uint64_t v)
{
	int n;

	if (w->bad)
		return;
	n = ww_quic_varint_put(w->p + w->n, w->cap - w->n, v);
	if (n < 0)
		w->bad = true;
	else
		w->n += (size_t)n;
}

/* Open a length field of width bytes; close_len() fills it in. */
static size_t
open_len(struct ww_wbuf *w, size_t width)
{
	static const unsigned char zero[3];
	size_t at = w->n;

	ww_wb_bytes(w, zero, width);
	return at;
}

static void
close_len(struct ww_wbuf *w, size_t at, size_t width)
{
	size_t len;

	if (w->bad)
		return;
	len = w->n - at - width;
	if (len >> (8 * width) != 0) {
		w->bad = true;
		return;
	}
	for (size_t i = 0; i < width; i++)
		w->p[at + i] = (unsigned char)(len >> (8 * (width - 1 - i)));
}

/* A host name as SNI carries it (RFC 6066 3): letters, digits, '-', '_'
 * and dots, no IP literal with ':' (the caller sends "" for addresses). */
static bool
sni_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > WW_QUIC_SNI_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return false;
	}
	return true;
}

static void
put_tp(struct ww_wbuf *w, uint64_t id, uint64_t value)
{
	unsigned char tmp[8];
	int n = ww_quic_varint_put(tmp, sizeof(tmp), value);

	put_varint(w, id);
	if (n < 0) {
		w->bad = true;
		return;
	}
	put_varint(w, (uint64_t)n);
	ww_wb_bytes(w, tmp, (size_t)n);
}

ssize_t
ww_quic_transport_params(const struct ww_quic_params *p, unsigned char *out,
			 size_t cap)
{
	struct ww_wbuf w = {out, cap, 0, false};

	if (p->scid_len > WW_QUIC_CID_MAX)
		return -1;
	/* Figures near what browsers send: the server sizes its first
	 * flight and its limits by them, nothing here is unusual. */
	put_tp(&w, 0x01, 30000);   /* max_idle_timeout, ms */
	put_tp(&w, 0x03, 1472);	   /* max_udp_payload_size */
	put_tp(&w, 0x04, 1 << 20); /* initial_max_data */
	put_tp(&w, 0x05, 1 << 18); /* initial_max_stream_data_bidi_local */
	put_tp(&w, 0x06, 1 << 18); /* ..._bidi_remote */
	put_tp(&w, 0x07, 1 << 18); /* ..._uni */
	put_tp(&w, 0x08, 100);	   /* initial_max_streams_bidi */
	put_tp(&w, 0x09, 100);	   /* initial_max_streams_uni */
	put_varint(&w, 0x0f);	   /* initial_source_connection_id */
	put_varint(&w, p->scid_len);
	ww_wb_bytes(&w, p->scid, p->scid_len);
	return w.bad ? -1 : (ssize_t)w.n;
}

static int
x25519_public(const unsigned char priv[32], unsigned char pub[32])
{
	EVP_PKEY *pk =
		EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	size_t n = 32;
	int rc = -1;

	if (pk != NULL && EVP_PKEY_get_raw_public_key(pk, pub, &n) == 1 &&
	    n == 32)
		rc = 0;
	EVP_PKEY_free(pk);
	return rc;
}

static void
ext_server_name(struct ww_wbuf *w, const char *sni)
{
	size_t ext, list, n = strlen(sni);

	ww_wb_u16(w, 0x0000);
	ext = open_len(w, 2);
	list = open_len(w, 2);
	ww_wb_u8(w, 0); /* host_name */
	ww_wb_u16(w, (unsigned)n);
	ww_wb_bytes(w, sni, n);
	close_len(w, list, 2);
	close_len(w, ext, 2);
}

/* ALPN from "h3" or "h3,hq-interop": each entry 1..255 bytes. */
static void
ext_alpn(struct ww_wbuf *w, const char *alpn)
{
	size_t ext, list;
	const char *s = alpn[0] != '\0' ? alpn : "h3";

	ww_wb_u16(w, 0x0010);
	ext = open_len(w, 2);
	list = open_len(w, 2);
	while (*s != '\0') {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);

		if (n == 0 || n > 255) {
			w->bad = true;
			return;
		}
		ww_wb_u8(w, (unsigned)n);
		ww_wb_bytes(w, s, n);
		s += n + (comma ? 1 : 0);
		if (comma && *s == '\0')
			w->bad = true; /* a trailing comma: an empty entry */
	}
	close_len(w, list, 2);
	close_len(w, ext, 2);
}

static void
ext_u16_list(struct ww_wbuf *w, unsigned type, size_t len_width,
	     const uint16_t *v, size_t n)
{
	size_t ext, list;

	ww_wb_u16(w, type);
	ext = open_len(w, 2);
	list = open_len(w, len_width);
	for (size_t i = 0; i < n; i++)
		ww_wb_u16(w, v[i]);
	close_len(w, list, len_width);
	close_len(w, ext, 2);
}

static void
ext_key_share(struct ww_wbuf *w, const unsigned char pub[32])
{
	size_t ext, list;

	ww_wb_u16(w, 0x0033);
	ext = open_len(w, 2);
	list = open_len(w, 2);
	ww_wb_u16(w, 0x001d); /* x25519 */
	ww_wb_u16(w, 32);
	ww_wb_bytes(w, pub, 32);
	close_len(w, list, 2);
	close_len(w, ext, 2);
}

static void
ext_transport_params(struct ww_wbuf *w, const struct ww_quic_params *p)
{
	size_t ext;
	ssize_t n;

	ww_wb_u16(w, 0x0039);
	ext = open_len(w, 2);
	if (w->bad)
		return;
	n = ww_quic_transport_params(p, w->p + w->n, w->cap - w->n);
	if (n < 0) {
		w->bad = true;
		return;
	}
	w->n += (size_t)n;
	close_len(w, ext, 2);
}

ssize_t
ww_quic_hello_build(const struct ww_quic_params *p, unsigned char *out,
		    size_t cap)
{
	static const uint16_t suites[] = {0x1301, 0x1302, 0x1303};
	static const uint16_t groups[] = {0x001d, 0x0017, 0x0018};
	static const uint16_t sigalgs[] = {0x0403, 0x0804, 0x0401,
					   0x0503, 0x0805, 0x0501,
					   0x0806, 0x0601, 0x0807};
	static const uint16_t tls13[] = {0x0304};
	struct ww_wbuf w = {out, cap, 0, false};
	unsigned char pub[32];
	size_t msg, exts;

	if (p->scid_len > WW_QUIC_CID_MAX ||
	    memchr(p->sni, '\0', sizeof(p->sni)) == NULL ||
	    memchr(p->alpn, '\0', sizeof(p->alpn)) == NULL ||
	    (p->sni[0] != '\0' && !sni_ok(p->sni)) ||
	    x25519_public(p->x25519_priv, pub) != 0)
		return -1;
	ww_wb_u8(&w, 1); /* client_hello */
	msg = open_len(&w, 3);
	ww_wb_u16(&w, 0x0303); /* legacy_version */
	ww_wb_bytes(&w, p->random, 32);
	ww_wb_u8(&w, 0); /* legacy_session_id: empty in QUIC */
	ww_wb_u16(&w, 2 * sizeof(suites) / sizeof(suites[0]));
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		ww_wb_u16(&w, suites[i]);
	ww_wb_u8(&w, 1); /* legacy_compression_methods: null */
	ww_wb_u8(&w, 0);
	exts = open_len(&w, 2);
	if (p->sni[0] != '\0')
		ext_server_name(&w, p->sni);
	ext_u16_list(&w, 0x000a, 2, groups, 3);	 /* supported_groups */
	ext_u16_list(&w, 0x000d, 2, sigalgs, 9); /* signature_algorithms */
	ext_alpn(&w, p->alpn);
	ext_u16_list(&w, 0x002b, 1, tls13, 1); /* supported_versions */
	ww_wb_u16(&w, 0x002d);		       /* psk_key_exchange_modes */
	ww_wb_u16(&w, 2);
	ww_wb_u8(&w, 1);
	ww_wb_u8(&w, 1); /* psk_dhe_ke */
	ext_key_share(&w, pub);
	ext_transport_params(&w, p);
	close_len(&w, exts, 2);
	close_len(&w, msg, 3);
	return w.bad ? -1 : (ssize_t)w.n;
}

/* --- the ServerHello ----------------------------------------------------- */

static int
fail(char *err, size_t errlen, const char *what, size_t at)
{
	if (errlen > 0)
		snprintf(err, errlen, "ServerHello: %s at byte %zu", what, at);
	return -1;
}

/* RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello with this random,
 * SHA-256("HelloRetryRequest"). */
static const unsigned char hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
	0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
	0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

static int
sh_extensions(const unsigned char *b, size_t at, size_t end,
	      struct ww_quic_reply *r, char *err, size_t errlen)
{
	size_t ext_len;

	if (at == end)
		return 0; /* no extensions: a TLS 1.2 ServerHello */
	if (end - at < 2)
		return fail(err, errlen, "truncated extensions length", at);
	ext_len = ww_be16(b + at);
	at += 2;
	if (ext_len != end - at)
		return fail(err, errlen, "extensions length mismatch", at - 2);
	while (at < end) {
		unsigned type, n;

		if (end - at < 4)
			return fail(err, errlen, "truncated extension", at);
		type = ww_be16(b + at);
		n = ww_be16(b + at + 2);
		at += 4;
		if (n > end - at)
			return fail(err, errlen, "extension past its end", at);
		if (type == 0x002b) {
			if (n != 2)
				return fail(err, errlen,
					    "supported_versions length", at);
			r->tls_version = (uint16_t)ww_be16(b + at);
		} else if (type == 0x0033) {
			if (n < 2)
				return fail(err, errlen, "key_share length",
					    at);
			r->key_share = (uint16_t)ww_be16(b + at);
		}
		at += n;
	}
	return 0;
}

int
ww_quic_parse_server_hello(const unsigned char *b, size_t len,
			   struct ww_quic_reply *r, char *err, size_t errlen)
{
	size_t body, end, at, sid;

	if (len < 4)
		return fail(err, errlen, "truncated header", len);
	if (b[0] != 2)
		return fail(err, errlen, "not a ServerHello (type)", 0);
	body = (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
	if (body > len - 4)
		return fail(err, errlen, "truncated", len);
	end = 4 + body;
	if (body < 2 + 32 + 1)
		return fail(err, errlen, "too short", end);
	r->tls_version = (uint16_t)ww_be16(b + 4);
	at = 6;
	r->hello_retry_request = memcmp(b + at, hrr_random, 32) == 0;
	at += 32;
	sid = b[at++];
	if (sid > 32 || end - at < sid + 3)
		return fail(err, errlen, "bad legacy_session_id", at - 1);
	at += sid;
	r->cipher_suite = (uint16_t)ww_be16(b + at);
	at += 2;
	if (b[at] != 0)
		return fail(err, errlen, "compression method not null", at);
	at++;
	if (sh_extensions(b, at, end, r, err, errlen) != 0)
		return -1;
	r->server_hello = true;
	return 0;
}
