/*
 * quic_reply.c - what a QUIC server sends back to our first packet, read
 * defensively: Version Negotiation, Retry (its integrity tag), server
 * Initials opened with the keys of our DCID (their ACK, CRYPTO and
 * CONNECTION_CLOSE frames, the ServerHello), Handshake packets counted,
 * coalesced packets one after the other. See quic.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "quic.h"
#include "quic_hello.h"
#include "quic_int.h"

/* --- opening -------------------------------------------------------------- */

/* The fields of a long header (RFC 9000 17.2) up to the packet number. */
struct long_hdr {
	unsigned type; /* 0 Initial, 1 0-RTT, 2 Handshake, 3 Retry */
	uint32_t version;
	const unsigned char *dcid, *scid, *token;
	size_t dcid_len, scid_len, token_len;
	size_t pn_off; /* Initial, 0-RTT, Handshake: where the pn starts */
	size_t end;    /* ... and where the packet ends (its Length) */
};

/* Parse a v1 long header at buf[0..len). Retry: token is the rest but the
 * 16-byte tag, end = len. */
static int
long_header(const unsigned char *buf, size_t len, struct long_hdr *h, char *err,
	    size_t errlen)
{
	size_t at = 5;
	uint64_t v;
	int n;

	memset(h, 0, sizeof(*h));
	if (len < 7)
		return ww_quic_fail(err, errlen, "truncated at byte %zu", len);
	if ((buf[0] & 0xc0) != 0xc0)
		return ww_quic_fail(err, errlen,
				    "byte 0 is 0x%02x: not a v1 long header",
				    buf[0]);
	h->type = (buf[0] >> 4) & 3;
	h->version = ww_quic_get32(buf + 1);
	if (h->version != WW_QUIC_V1)
		return ww_quic_fail(err, errlen,
				    "version 0x%08x is not QUIC v1",
				    (unsigned)h->version);
	h->dcid_len = buf[at++];
	if (h->dcid_len > WW_QUIC_CID_MAX)
		return ww_quic_fail(err, errlen, "DCID length %zu over 20",
				    h->dcid_len);
	if (len - at < h->dcid_len + 1)
		return ww_quic_fail(err, errlen, "truncated at byte %zu", len);
	h->dcid = buf + at;
	at += h->dcid_len;
	h->scid_len = buf[at++];
	if (h->scid_len > WW_QUIC_CID_MAX)
		return ww_quic_fail(err, errlen, "SCID length %zu over 20",
				    h->scid_len);
	if (len - at < h->scid_len)
		return ww_quic_fail(err, errlen, "truncated at byte %zu", len);
	h->scid = buf + at;
	at += h->scid_len;
	if (h->type == 3) {
		if (len - at < WW_QUIC_TAG_LEN)
			return ww_quic_fail(err, errlen,
					    "Retry truncated at byte %zu", len);
		h->token = buf + at;
		h->token_len = len - at - WW_QUIC_TAG_LEN;
		h->end = len;
		return 0;
	}
	if (h->type == 0) {
		n = ww_quic_varint_get(buf + at, len - at, &v);
		if (n < 0)
			return ww_quic_fail(err, errlen,
					    "truncated at byte %zu", len);
		at += (size_t)n;
		if (v > len - at)
			return ww_quic_fail(
				err, errlen,
				"token length %llu past the datagram",
				(unsigned long long)v);
		h->token = buf + at;
		h->token_len = (size_t)v;
		at += (size_t)v;
	}
	n = ww_quic_varint_get(buf + at, len - at, &v);
	if (n < 0)
		return ww_quic_fail(err, errlen, "truncated at byte %zu", len);
	at += (size_t)n;
	if (v > len - at)
		return ww_quic_fail(
			err, errlen,
			"packet length %llu past the datagram (%zu left)",
			(unsigned long long)v, len - at);
	/* A header protection sample needs 4 + 16 bytes after the pn's
	 * start (RFC 9001 5.4.2). */
	if (v < 4 + 16)
		return ww_quic_fail(err, errlen, "packet length %llu under 20",
				    (unsigned long long)v);
	h->pn_off = at;
	h->end = at + (size_t)v;
	return 0;
}

ssize_t
ww_quic_open_initial(const unsigned char *buf, size_t len,
		     const struct ww_quic_keys *k, unsigned char *plain,
		     size_t plain_cap, size_t *plain_len, uint32_t *pn,
		     char *err, size_t errlen)
{
	struct long_hdr h;
	unsigned char mask[16], nonce[12], first, pnb[4], tag[WW_QUIC_TAG_LEN];
	size_t pn_len, ct;
	struct ww_quic_aad aad[3];
	uint32_t v = 0;

	if (long_header(buf, len, &h, err, errlen) != 0)
		return -1;
	if (h.type != 0)
		return ww_quic_fail(err, errlen,
				    "long header type %u is not Initial",
				    h.type);
	if (ww_quic_hp_mask(k->hp, buf + h.pn_off + 4, mask) != 0)
		return ww_quic_fail(err, errlen, "header protection failed");
	first = buf[0] ^ (mask[0] & 0x0f);
	pn_len = (size_t)(first & 3) + 1;
	for (size_t i = 0; i < pn_len; i++) {
		pnb[i] = buf[h.pn_off + i] ^ mask[1 + i];
		v = v << 8 | pnb[i];
	}
	ct = h.end - h.pn_off - pn_len;
	if (ct < WW_QUIC_TAG_LEN + 1)
		return ww_quic_fail(err, errlen, "Initial with no payload");
	if (ct - WW_QUIC_TAG_LEN > plain_cap)
		return ww_quic_fail(err, errlen,
				    "Initial payload of %zu bytes over %zu",
				    ct - WW_QUIC_TAG_LEN, plain_cap);
	/* The packet number is taken as it is: an answer to our first
	 * packet numbers its packets from 0, far below any wrap. */
	ww_quic_nonce(k->iv, v, nonce);
	aad[0] = (struct ww_quic_aad){&first, 1};
	aad[1] = (struct ww_quic_aad){buf + 1, h.pn_off - 1};
	aad[2] = (struct ww_quic_aad){pnb, pn_len};
	memcpy(tag, buf + h.end - WW_QUIC_TAG_LEN, WW_QUIC_TAG_LEN);
	if (ww_quic_gcm(false, k->key, nonce, aad, 3, buf + h.pn_off + pn_len,
			ct - WW_QUIC_TAG_LEN, plain, tag) != 0)
		return ww_quic_fail(
			err, errlen,
			"Initial does not decrypt with our DCID's keys");
	if ((first & 0x0c) != 0)
		return ww_quic_fail(err, errlen,
				    "reserved header bits set (0x%02x)", first);
	*plain_len = ct - WW_QUIC_TAG_LEN;
	*pn = v;
	return (ssize_t)h.end;
}

/* --- frames of a server Initial (RFC 9000 19, 12.4) ---------------------- */

/* The CRYPTO stream from offset 0, and which of its bytes came. */
struct crypto_stream {
	unsigned char data[WW_QUIC_CRYPTO_MAX];
	unsigned char have[WW_QUIC_CRYPTO_MAX / 8];
};

static void
crypto_add(struct crypto_stream *cs, uint64_t off, const unsigned char *p,
	   size_t n)
{
	for (size_t i = 0; i < n && off + i < WW_QUIC_CRYPTO_MAX; i++) {
		size_t at = (size_t)off + i;

		cs->data[at] = p[i];
		cs->have[at / 8] |= (unsigned char)(1u << (at % 8));
	}
}

/* Bytes present from offset 0 without a gap. */
static size_t
crypto_prefix(const struct crypto_stream *cs)
{
	size_t n = 0;

	while (n < WW_QUIC_CRYPTO_MAX && (cs->have[n / 8] >> (n % 8) & 1))
		n++;
	return n;
}

/* The ServerHello, once the CRYPTO stream holds a whole first message. */
static void
crypto_finish(const struct crypto_stream *cs, struct ww_quic_reply *r)
{
	size_t n = crypto_prefix(cs), body;
	char err[96];

	if (n < 4)
		return;
	if (cs->data[0] != 2) {
		snprintf(r->frame_error, sizeof(r->frame_error),
			 "CRYPTO data starts with handshake type %u, not a "
			 "ServerHello",
			 cs->data[0]);
		return;
	}
	body = (size_t)cs->data[1] << 16 | (size_t)cs->data[2] << 8 |
	       cs->data[3];
	if (4 + body > n)
		return; /* the rest comes in a later packet */
	if (ww_quic_parse_server_hello(cs->data, 4 + body, r, err,
				       sizeof(err)) != 0) {
		r->tls_version = r->cipher_suite = r->key_share = 0;
		r->hello_retry_request = false;
		snprintf(r->frame_error, sizeof(r->frame_error), "%s", err);
	}
}

/* Read n varints from *at; -1 when the payload ends first. */
static int
varints(const unsigned char *p, size_t len, size_t *at, uint64_t *v, int n)
{
	for (int i = 0; i < n; i++) {
		int k = ww_quic_varint_get(p + *at, len - *at, &v[i]);

		if (k < 0)
			return -1;
		*at += (size_t)k;
	}
	return 0;
}

static int
frame_ack(const unsigned char *p, size_t len, size_t *at, bool ecn)
{
	uint64_t v[4], gap[2];

	/* Largest, delay, range count, first range; then the ranges: each
	 * takes 2 bytes or more, so a huge count ends at the payload's end. */
	if (varints(p, len, at, v, 4) != 0)
		return -1;
	for (uint64_t i = 0; i < v[2]; i++)
		if (varints(p, len, at, gap, 2) != 0)
			return -1;
	return ecn ? varints(p, len, at, v, 3) : 0;
}

static void
keep_reason(struct ww_quic_reply *r, const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < sizeof(r->reason) - 1; i++)
		r->reason[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	r->reason[i] = '\0';
}

static int
frame_close(const unsigned char *p, size_t len, size_t *at, bool app,
	    struct ww_quic_reply *r)
{
	uint64_t v[3] = {0, 0, 0};

	if (varints(p, len, at, v, 1) != 0 ||
	    (!app && varints(p, len, at, v + 1, 1) != 0) ||
	    varints(p, len, at, v + 2, 1) != 0 || v[2] > len - *at)
		return -1;
	r->connection_close = true;
	r->error_code = v[0];
	r->frame_type = v[1];
	r->tls_alert = (!app && v[0] >= 0x100 && v[0] <= 0x1ff)
			       ? (int)(v[0] - 0x100)
			       : -1;
	keep_reason(r, p + *at, (size_t)v[2]);
	*at += (size_t)v[2];
	return 0;
}

static int
parse_frames(const unsigned char *p, size_t len, struct crypto_stream *cs,
	     struct ww_quic_reply *r, char *err, size_t errlen)
{
	size_t at = 0, start = 0;
	uint64_t type, v[2];

	bool bad = false;

	while (at < len && !bad) {
		start = at;
		if (varints(p, len, &at, &type, 1) != 0) {
			bad = true;
			break;
		}
		if (type == 0x00 || type == 0x01) /* PADDING, PING */
			continue;
		if (type == 0x02 || type == 0x03) {
			if (frame_ack(p, len, &at, type == 0x03) != 0)
				bad = true;
			else
				r->ack = true;
		} else if (type == 0x06) {
			if (varints(p, len, &at, v, 2) != 0 ||
			    v[1] > len - at ||
			    v[0] > ((1ull << 62) - 1) - v[1]) {
				bad = true;
				break;
			}
			crypto_add(cs, v[0], p + at, (size_t)v[1]);
			at += (size_t)v[1];
		} else if (type == 0x1c || type == 0x1d) {
			/* 0x1d is not allowed in an Initial (RFC 9000
			 * 12.4), but says as much when a server sends it. */
			if (frame_close(p, len, &at, type == 0x1d, r) != 0)
				bad = true;
		} else {
			return ww_quic_fail(
				err, errlen,
				"frame type 0x%llx at byte %zu is not "
				"allowed in an Initial",
				(unsigned long long)type, start);
		}
	}
	if (bad)
		return ww_quic_fail(
			err, errlen,
			"frame at byte %zu truncated or out of range", start);
	return 0;
}

int
ww_quic_parse_initial_frames(const unsigned char *plain, size_t len,
			     struct ww_quic_reply *r, char *err, size_t errlen)
{
	struct crypto_stream *cs = calloc(1, sizeof(*cs));
	int rc;

	if (cs == NULL)
		return ww_quic_fail(err, errlen, "out of memory");
	rc = parse_frames(plain, len, cs, r, err, errlen);
	crypto_finish(cs, r);
	free(cs);
	return rc;
}

/* --- the reply ------------------------------------------------------------ */

static bool
same_id(const unsigned char *a, size_t a_len, const unsigned char *b,
	size_t b_len)
{
	return a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0);
}

static void
keep_ids(struct ww_quic_reply *r, const unsigned char *dcid, size_t dcid_len,
	 const unsigned char *scid, size_t scid_len)
{
	/* Ids over 20 bytes (a VN may carry up to 255) are not ours. */
	r->dcid_len = dcid_len <= WW_QUIC_CID_MAX ? dcid_len : 0;
	memcpy(r->dcid, dcid, r->dcid_len);
	r->scid_len = scid_len <= WW_QUIC_CID_MAX ? scid_len : 0;
	memcpy(r->scid, scid, r->scid_len);
}

/* RFC 9000 17.2.1; the invariants (RFC 8999) allow ids of 255 bytes. */
static int
parse_vn(const unsigned char *b, size_t len, const struct ww_quic_params *s,
	 struct ww_quic_reply *r, char *err, size_t errlen)
{
	size_t at = 5, dl, sl;
	const unsigned char *dcid, *scid;

	dl = b[at++];
	if (len - at < dl + 1)
		return ww_quic_fail(err, errlen,
				    "Version Negotiation truncated at byte %zu",
				    len);
	dcid = b + at;
	at += dl;
	sl = b[at++];
	if (len - at < sl)
		return ww_quic_fail(err, errlen,
				    "Version Negotiation truncated at byte %zu",
				    len);
	scid = b + at;
	at += sl;
	if (at == len)
		return ww_quic_fail(err, errlen,
				    "Version Negotiation lists no version");
	if ((len - at) % 4 != 0)
		return ww_quic_fail(
			err, errlen,
			"Version Negotiation's list of %zu bytes is not "
			"a multiple of 4",
			len - at);
	keep_ids(r, dcid, dl, scid, sl);
	r->n_versions_total = (len - at) / 4;
	for (; at < len; at += 4) {
		uint32_t v = ww_quic_get32(b + at);

		if (r->n_versions < WW_QUIC_MAX_VERSIONS)
			r->versions[r->n_versions++] = v;
		if (v == WW_QUIC_V1)
			r->offers_v1 = true;
	}
	r->version = 0;
	r->kind = "version_negotiation";
	/* The server swaps the ids it was sent (RFC 9000 17.2.1). */
	r->ours = dl <= WW_QUIC_CID_MAX && sl <= WW_QUIC_CID_MAX &&
		  same_id(dcid, dl, s->scid, s->scid_len) &&
		  same_id(scid, sl, s->dcid, s->dcid_len);
	return 0;
}

static int
parse_retry(const unsigned char *b, size_t len, const struct long_hdr *h,
	    const struct ww_quic_params *s, struct ww_quic_reply *r, char *err,
	    size_t errlen)
{
	unsigned char tag[WW_QUIC_TAG_LEN];

	/* RFC 9000 17.2.5.2: a Retry with an empty token is discarded. */
	if (h->token_len == 0)
		return ww_quic_fail(err, errlen, "Retry with an empty token");
	keep_ids(r, h->dcid, h->dcid_len, h->scid, h->scid_len);
	r->version = WW_QUIC_V1;
	r->n_packets = 1;
	if (h->token_len <= WW_QUIC_TOKEN_MAX) {
		memcpy(r->token, h->token, h->token_len);
		r->token_len = h->token_len;
	}
	r->retry_tag_ok = ww_quic_retry_tag(s->dcid, s->dcid_len, b,
					    len - WW_QUIC_TAG_LEN, tag) == 0 &&
			  CRYPTO_memcmp(tag, b + len - WW_QUIC_TAG_LEN,
					WW_QUIC_TAG_LEN) == 0;
	r->kind = "retry";
	r->ours = r->retry_tag_ok &&
		  same_id(h->dcid, h->dcid_len, s->scid, s->scid_len);
	return 0;
}

/* One Initial of the datagram: decrypt it, read its frames. */
static int
one_initial(const unsigned char *b, size_t len, const struct ww_quic_keys *k,
	    struct crypto_stream *cs, struct ww_quic_reply *r, char *err,
	    size_t errlen)
{
	unsigned char *plain = malloc(len);
	size_t n = 0;
	uint32_t pn;
	char ferr[sizeof(r->frame_error)];
	int rc = -1;

	if (plain == NULL)
		return ww_quic_fail(err, errlen, "out of memory");
	if (ww_quic_open_initial(b, len, k, plain, len, &n, &pn, err, errlen) >=
	    0) {
		rc = 0;
		r->n_initial++;
		if (parse_frames(plain, n, cs, r, ferr, sizeof(ferr)) != 0 &&
		    r->frame_error[0] == '\0')
			snprintf(r->frame_error, sizeof(r->frame_error), "%s",
				 ferr);
	}
	free(plain);
	return rc;
}

/* Packets of a v1 datagram one after the other (RFC 9000 12.2). */
static int
parse_coalesced(const unsigned char *b, size_t len,
		const struct ww_quic_params *s, struct ww_quic_reply *r,
		char *err, size_t errlen)
{
	struct ww_quic_keys k;
	struct crypto_stream *cs;
	struct long_hdr h, first;
	size_t at = 0;
	char perr[128] = "";

	if (long_header(b, len, &first, err, errlen) != 0)
		return -1;
	if (first.type == 3)
		return parse_retry(b, len, &first, s, r, err, errlen);
	if (first.type == 1)
		return ww_quic_fail(err, errlen,
				    "a 0-RTT packet from a server");
	keep_ids(r, first.dcid, first.dcid_len, first.scid, first.scid_len);
	r->version = WW_QUIC_V1;
	cs = calloc(1, sizeof(*cs));
	if (cs == NULL ||
	    ww_quic_initial_keys(s->dcid, s->dcid_len, true, &k) != 0) {
		free(cs);
		return ww_quic_fail(err, errlen,
				    "out of memory or libcrypto failed");
	}
	while (at < len && r->n_packets < WW_QUIC_MAX_PACKETS) {
		/* What follows the last packet may be padding or junk
		 * (RFC 9000 12.2): kept as a count. Packets to another DCID
		 * are not of this connection and skipped. */
		if (long_header(b + at, len - at, &h, NULL, 0) != 0 ||
		    h.type == 3)
			break;
		r->n_packets++;
		if (same_id(h.dcid, h.dcid_len, first.dcid, first.dcid_len)) {
			if (h.type == 0)
				one_initial(b + at, h.end, &k, cs, r,
					    perr[0] ? NULL : perr,
					    perr[0] ? 0 : sizeof(perr));
			else if (h.type == 2)
				r->n_handshake++;
		}
		at += h.end;
	}
	r->trailing = len - at;
	crypto_finish(cs, r);
	free(cs);
	OPENSSL_cleanse(&k, sizeof(k));
	if (r->connection_close)
		r->kind = "connection_close";
	else if (r->server_hello)
		r->kind = "server_hello";
	else if (r->n_initial > 0)
		r->kind = "initial";
	else if (r->n_handshake > 0)
		r->kind = "handshake";
	else
		return ww_quic_fail(err, errlen, "%s",
				    perr[0] ? perr
					    : "no Initial or Handshake packet");
	r->ours = same_id(first.dcid, first.dcid_len, s->scid, s->scid_len) &&
		  (r->n_initial > 0 || s->scid_len > 0);
	return 0;
}

int
ww_quic_parse_reply(const unsigned char *buf, size_t len,
		    const struct ww_quic_params *sent, struct ww_quic_reply *r,
		    char *err, size_t errlen)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->tls_alert = -1;
	if (errlen > 0)
		err[0] = '\0';
	if (sent == NULL || sent->dcid_len > WW_QUIC_CID_MAX ||
	    sent->scid_len > WW_QUIC_CID_MAX)
		rc = ww_quic_fail(err, errlen, "bad params of what was sent");
	else if (len == 0)
		rc = ww_quic_fail(err, errlen, "empty datagram");
	else if (len > WW_QUIC_MAX_DATAGRAM)
		rc = ww_quic_fail(err, errlen, "datagram of %zu bytes over %d",
				  len, WW_QUIC_MAX_DATAGRAM);
	else if ((buf[0] & 0x80) == 0)
		rc = ww_quic_fail(
			err, errlen,
			"byte 0 is 0x%02x: a short header (1-RTT or a "
			"stateless reset), no answer to a first packet",
			buf[0]);
	else if (len < 7)
		rc = ww_quic_fail(err, errlen, "truncated at byte %zu", len);
	else if (ww_quic_get32(buf + 1) == 0)
		rc = parse_vn(buf, len, sent, r, err, errlen);
	else
		rc = parse_coalesced(buf, len, sent, r, err, errlen);
	if (rc != 0) {
		memset(r, 0, sizeof(*r));
		r->tls_alert = -1;
		if (errlen > 0 && err[0] == '\0')
			snprintf(err, errlen, "not a QUIC reply");
	}
	return rc;
}

int
ww_quic_params_after_retry(struct ww_quic_params *p,
			   const struct ww_quic_reply *r)
{
	if (r->kind == NULL || strcmp(r->kind, "retry") != 0 || !r->ours ||
	    r->token_len == 0 || r->scid_len < 8 || p->pn == UINT32_MAX)
		return -1;
	memcpy(p->dcid, r->scid, r->scid_len);
	p->dcid_len = r->scid_len;
	memcpy(p->token, r->token, r->token_len);
	p->token_len = r->token_len;
	p->pn++;
	return 0;
}

bool
ww_quic_reply_proves_up(const struct ww_quic_reply *r)
{
	return r != NULL && r->kind != NULL && r->ours;
}

/* --- names ---------------------------------------------------------------- */

const char *
ww_quic_error_name(uint64_t code)
{
	static const char *const names[] = {
		"NO_ERROR",
		"INTERNAL_ERROR",
		"CONNECTION_REFUSED",
		"FLOW_CONTROL_ERROR",
		"STREAM_LIMIT_ERROR",
		"STREAM_STATE_ERROR",
		"FINAL_SIZE_ERROR",
		"FRAME_ENCODING_ERROR",
		"TRANSPORT_PARAMETER_ERROR",
		"CONNECTION_ID_LIMIT_ERROR",
		"PROTOCOL_VIOLATION",
		"INVALID_TOKEN",
		"APPLICATION_ERROR",
		"CRYPTO_BUFFER_EXCEEDED",
		"KEY_UPDATE_ERROR",
		"AEAD_LIMIT_REACHED",
		"NO_VIABLE_PATH",
	};

	if (code < sizeof(names) / sizeof(names[0]))
		return names[code];
	if (code >= 0x100 && code <= 0x1ff)
		return "CRYPTO_ERROR";
	return NULL;
}

const char *
ww_quic_tls_alert_name(int alert)
{
	static const struct {
		int code;
		const char *name;
	} alerts[] = {
		{0, "close_notify"},
		{10, "unexpected_message"},
		{20, "bad_record_mac"},
		{22, "record_overflow"},
		{40, "handshake_failure"},
		{42, "bad_certificate"},
		{43, "unsupported_certificate"},
		{44, "certificate_revoked"},
		{45, "certificate_expired"},
		{46, "certificate_unknown"},
		{47, "illegal_parameter"},
		{48, "unknown_ca"},
		{49, "access_denied"},
		{50, "decode_error"},
		{51, "decrypt_error"},
		{70, "protocol_version"},
		{71, "insufficient_security"},
		{80, "internal_error"},
		{86, "inappropriate_fallback"},
		{90, "user_canceled"},
		{109, "missing_extension"},
		{110, "unsupported_extension"},
		{112, "unrecognized_name"},
		{113, "bad_certificate_status_response"},
		{115, "unknown_psk_identity"},
		{116, "certificate_required"},
		{120, "no_application_protocol"},
	};

	for (size_t i = 0; i < sizeof(alerts) / sizeof(alerts[0]); i++)
		if (alerts[i].code == alert)
			return alerts[i].name;
	return NULL;
}
