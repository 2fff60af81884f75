/*
 * ikev2.c - see ikev2.h.
 *
 * The builder writes through a bounded cursor that remembers an overflow,
 * so a short buffer yields -1 and never a write past cap. The parser reads
 * untrusted bytes: every length is checked against what is left of the
 * datagram and of the enclosing payload before it is used, the payload
 * chain is capped at WW_IKEV2_MAX_PAYLOADS, and nothing is allocated.
 *
 * Choices the header leaves open, made here:
 *  - Strict where RFC 7296 says MUST and a real responder complies: one
 *    proposal in a response SA, a Nonce of 16..256 bytes, INVALID_KE's data
 *    exactly 2 bytes, a COOKIE of 1..64 bytes, the message length equal to
 *    the datagram's. A responder breaking these is worth an error string.
 *  - An encrypted payload (SK, SKF) ends the chain: its next-payload field
 *    names the first inner payload (RFC 7296 3.14), which we cannot read.
 *  - Unknown payload types are skipped whatever their critical bit: we
 *    parse a reply, we do not answer it.
 */
#include "ikev2.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "bytes.h"

#define IKE_HDR_LEN 28
#define NON_ESP_MARKER_LEN 4
#define IKE_VERSION_2 0x20
#define FLAG_INITIATOR 0x08
#define FLAG_RESPONSE 0x20

/* Payload types (RFC 7296 3.2, RFC 7383 2.5) */
#define PL_NONE 0
#define PL_SA 33
#define PL_KE 34
#define PL_NONCE 40
#define PL_NOTIFY 41
#define PL_SK 46
#define PL_SKF 53

/* Transform types and ids (RFC 7296 3.3.2, IANA "IKEv2 Parameters") */
#define TR_ENCR 1
#define TR_PRF 2
#define TR_INTEG 3
#define TR_DH 4
#define ENCR_AES_CBC 12
#define ENCR_AES_GCM_16 20
#define PRF_HMAC_SHA2_256 5
#define AUTH_HMAC_SHA2_256_128 12
#define ATTR_KEY_LENGTH 14
#define ATTR_FORMAT_TV 0x8000

/* Status notifies a client sends in IKE_SA_INIT */
#define N_NAT_DETECTION_SOURCE_IP 16388
#define N_NAT_DETECTION_DESTINATION_IP 16389
#define N_FRAGMENTATION_SUPPORTED 16430
#define N_SIGNATURE_HASH_ALGORITHMS 16431
#define N_FIRST_STATUS 16384 /* below: error types */

#define SHA1_LEN 20

static const uint16_t default_groups[] = {19, 31, 14};

/* --- bounded writer ------------------------------------------------------ */

/* Patch a 16-bit length at off: the bytes written since off. */
static void
patch_len16(struct ww_wbuf *w, size_t at, size_t from)
{
	size_t l = w->n - from;

	if (w->bad || l > 0xffff) {
		w->bad = true;
		return;
	}
	w->p[at] = (unsigned char)(l >> 8);
	w->p[at + 1] = (unsigned char)l;
}

/* A generic payload header (RFC 7296 3.2); returns where it starts. */
static size_t
payload_begin(struct ww_wbuf *w, unsigned next)
{
	size_t at = w->n;

	ww_wb_u8(w, next);
	ww_wb_u8(w, 0); /* critical bit clear, reserved */
	ww_wb_u16(w, 0);
	return at;
}

static void
payload_end(struct ww_wbuf *w, size_t at)
{
	patch_len16(w, at + 2, at);
}

/* --- groups and key exchange --------------------------------------------- */

size_t
ww_ikev2_ke_len(uint16_t group)
{
	switch (group) {
	case 14:
		return 256; /* MODP-2048 (RFC 3526) */
	case 15:
		return 384;
	case 16:
		return 512;
	case 19:
		return 64; /* ECP-256 x|y (RFC 5903) */
	case 20:
		return 96;
	case 21:
		return 132;
	case 31:
		return 32; /* Curve25519 (RFC 8031) */
	default:
		return 0;
	}
}

static const char *
ec_curve(uint16_t group)
{
	return group == 19 ? "P-256" : group == 20 ? "P-384" : "P-521";
}

static const char *
modp_name(uint16_t group)
{
	return group == 14   ? "modp_2048"
	       : group == 15 ? "modp_3072"
			     : "modp_4096";
}

static EVP_PKEY *
dh_keygen(uint16_t group)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	EVP_PKEY *k = NULL;
	OSSL_PARAM prm[2];

	if (c == NULL)
		return NULL;
	prm[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						  (char *)modp_name(group), 0);
	prm[1] = OSSL_PARAM_construct_end();
	if (EVP_PKEY_keygen_init(c) <= 0 ||
	    EVP_PKEY_CTX_set_params(c, prm) <= 0 ||
	    EVP_PKEY_generate(c, &k) <= 0)
		k = NULL;
	EVP_PKEY_CTX_free(c);
	return k;
}

/* The public value of k in IKEv2's encoding for group, into out[want]. */
static int
export_public(EVP_PKEY *k, uint16_t group, unsigned char *out, size_t want)
{
	unsigned char pt[1 + 2 * 66];
	size_t l = 0;
	BIGNUM *pub = NULL;
	int ok;

	if (group == 31) {
		l = want;
		return EVP_PKEY_get_raw_public_key(k, out, &l) == 1 && l == want
			       ? 0
			       : -1;
	}
	if (group >= 19 && group <= 21) {
		/* uncompressed point 04|x|y; IKEv2 carries x|y (RFC 5903 7) */
		if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY,
						    pt, sizeof(pt), &l) != 1 ||
		    l != want + 1 || pt[0] != 0x04)
			return -1;
		memcpy(out, pt + 1, want);
		return 0;
	}
	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PUB_KEY, &pub) != 1)
		return -1;
	ok = BN_bn2binpad(pub, out, (int)want) == (int)want;
	BN_free(pub);
	return ok ? 0 : -1;
}

ssize_t
ww_ikev2_make_ke(uint16_t group, unsigned char *out, size_t cap)
{
	size_t want = ww_ikev2_ke_len(group);
	EVP_PKEY *k;
	int rc;

	if (want == 0 || cap < want)
		return -1;
	if (group == 31)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	else if (group >= 19 && group <= 21)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", ec_curve(group));
	else
		k = dh_keygen(group);
	if (k == NULL)
		return -1;
	rc = export_public(k, group, out, want);
	EVP_PKEY_free(k);
	return rc == 0 ? (ssize_t)want : -1;
}

int
ww_ikev2_params_random(struct ww_ikev2_params *p, bool natt)
{
	static const unsigned char zero[8];
	ssize_t l;

	memset(p, 0, sizeof(*p));
	do {
		if (RAND_bytes(p->spi_i, sizeof(p->spi_i)) != 1)
			return -1;
	} while (memcmp(p->spi_i, zero, sizeof(zero)) == 0);
	if (RAND_bytes(p->nonce, sizeof(p->nonce)) != 1)
		return -1;
	memcpy(p->groups, default_groups, sizeof(default_groups));
	p->n_groups = sizeof(default_groups) / sizeof(default_groups[0]);
	p->ke_group = p->groups[0];
	l = ww_ikev2_make_ke(p->ke_group, p->ke, sizeof(p->ke));
	if (l < 0)
		return -1;
	p->ke_len = (size_t)l;
	p->natt = natt;
	return 0;
}

int
ww_ikev2_params_set_addrs(struct ww_ikev2_params *p, const struct sockaddr *src,
			  const struct sockaddr *dst)
{
	if (src == NULL || dst == NULL || src->sa_family != dst->sa_family)
		return -1;
	if (src->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)src;
		const struct sockaddr_in *d = (const struct sockaddr_in *)dst;

		memcpy(p->src_addr, &s->sin_addr, 4);
		memcpy(p->dst_addr, &d->sin_addr, 4);
		p->src_port = ntohs(s->sin_port);
		p->dst_port = ntohs(d->sin_port);
	} else if (src->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)src;
		const struct sockaddr_in6 *d = (const struct sockaddr_in6 *)dst;

		memcpy(p->src_addr, &s->sin6_addr, 16);
		memcpy(p->dst_addr, &d->sin6_addr, 16);
		p->src_port = ntohs(s->sin6_port);
		p->dst_port = ntohs(d->sin6_port);
	} else {
		return -1;
	}
	p->family = src->sa_family;
	return 0;
}

/* --- the request ---------------------------------------------------------- */

static uint16_t
effective_ke_group(const struct ww_ikev2_params *p)
{
	return p->ke_group != 0 ? p->ke_group : p->groups[0];
}

static bool
group_offered(const struct ww_ikev2_params *p, uint16_t g)
{
	for (size_t i = 0; i < p->n_groups; i++)
		if (p->groups[i] == g)
			return true;
	return false;
}

static bool
params_valid(const struct ww_ikev2_params *p)
{
	static const unsigned char zero[8];
	uint16_t g;

	if (memcmp(p->spi_i, zero, sizeof(zero)) == 0 || p->n_groups == 0 ||
	    p->n_groups > WW_IKEV2_MAX_GROUPS)
		return false;
	for (size_t i = 0; i < p->n_groups; i++)
		if (p->groups[i] == 0)
			return false;
	g = effective_ke_group(p);
	if (!group_offered(p, g) || p->ke_len == 0 ||
	    p->ke_len > WW_IKEV2_KE_MAX)
		return false;
	/* a group we do not know the size of is sent as given */
	if (ww_ikev2_ke_len(g) != 0 && p->ke_len != ww_ikev2_ke_len(g))
		return false;
	if (p->cookie_len > WW_IKEV2_COOKIE_MAX)
		return false;
	return p->family == 0 || p->family == AF_INET || p->family == AF_INET6;
}

static void
put_transform(struct ww_wbuf *w, bool last, unsigned type, unsigned id,
	      unsigned keylen)
{
	size_t at = w->n;

	ww_wb_u8(w, last ? 0 : 3);
	ww_wb_u8(w, 0);
	ww_wb_u16(w, 0);
	ww_wb_u8(w, type);
	ww_wb_u8(w, 0);
	ww_wb_u16(w, id);
	if (keylen != 0) {
		ww_wb_u16(w, ATTR_FORMAT_TV | ATTR_KEY_LENGTH);
		ww_wb_u16(w, keylen);
	}
	patch_len16(w, at + 2, at);
}

/* One IKE proposal: encr at 256 and 128 bits, PRF, integ unless AEAD. */
static void
put_proposal(const struct ww_ikev2_params *p, struct ww_wbuf *w, unsigned num,
	     bool last, unsigned encr, bool aead)
{
	size_t at = w->n;
	unsigned ntr = 3 + (aead ? 0 : 1) + (unsigned)p->n_groups;

	ww_wb_u8(w, last ? 0 : 2);
	ww_wb_u8(w, 0);
	ww_wb_u16(w, 0);
	ww_wb_u8(w, num);
	ww_wb_u8(w, 1); /* protocol IKE */
	ww_wb_u8(w, 0); /* SPI size 0 in IKE_SA_INIT */
	ww_wb_u8(w, ntr);
	put_transform(w, false, TR_ENCR, encr, 256);
	put_transform(w, false, TR_ENCR, encr, 128);
	put_transform(w, false, TR_PRF, PRF_HMAC_SHA2_256, 0);
	if (!aead)
		put_transform(w, false, TR_INTEG, AUTH_HMAC_SHA2_256_128, 0);
	for (size_t i = 0; i < p->n_groups; i++)
		put_transform(w, i + 1 == p->n_groups, TR_DH, p->groups[i], 0);
	patch_len16(w, at + 2, at);
}

static void
put_notify(struct ww_wbuf *w, unsigned next, unsigned type,
	   const unsigned char *data, size_t len)
{
	size_t at = payload_begin(w, next);

	ww_wb_u8(w, 0); /* protocol: none */
	ww_wb_u8(w, 0); /* SPI size */
	ww_wb_u16(w, type);
	ww_wb_bytes(w, data, len);
	payload_end(w, at);
}

/* SHA-1(SPIi | SPIr | address | port), RFC 7296 2.23; SPIr is zero. */
static int
nat_hash(const struct ww_ikev2_params *p, const unsigned char *addr,
	 uint16_t port, unsigned char out[SHA1_LEN])
{
	unsigned char in[8 + 8 + 16 + 2];
	size_t alen = p->family == AF_INET ? 4 : 16;
	unsigned int olen = 0;

	memcpy(in, p->spi_i, 8);
	memset(in + 8, 0, 8);
	memcpy(in + 16, addr, alen);
	in[16 + alen] = (unsigned char)(port >> 8);
	in[16 + alen + 1] = (unsigned char)port;
	if (EVP_Digest(in, 16 + alen + 2, out, &olen, EVP_sha1(), NULL) != 1 ||
	    olen != SHA1_LEN)
		return -1;
	return 0;
}

static int
put_tail_notifies(const struct ww_ikev2_params *p, struct ww_wbuf *w)
{
	/* SHA2-256, SHA2-384, SHA2-512 (RFC 7427 7) */
	static const unsigned char hashes[] = {0, 2, 0, 3, 0, 4};
	unsigned char src[SHA1_LEN], dst[SHA1_LEN];

	if (p->family != 0) {
		if (nat_hash(p, p->src_addr, p->src_port, src) != 0 ||
		    nat_hash(p, p->dst_addr, p->dst_port, dst) != 0)
			return -1;
		put_notify(w, PL_NOTIFY, N_NAT_DETECTION_SOURCE_IP, src,
			   sizeof(src));
		put_notify(w, PL_NOTIFY, N_NAT_DETECTION_DESTINATION_IP, dst,
			   sizeof(dst));
	}
	put_notify(w, PL_NOTIFY, N_FRAGMENTATION_SUPPORTED, NULL, 0);
	put_notify(w, PL_NONE, N_SIGNATURE_HASH_ALGORITHMS, hashes,
		   sizeof(hashes));
	return 0;
}

ssize_t
ww_ikev2_build_sa_init(const struct ww_ikev2_params *p, unsigned char *out,
		       size_t cap)
{
	struct ww_wbuf w = {out, cap, 0, false};
	size_t hdr, at;

	if (p == NULL || out == NULL || !params_valid(p))
		return -1;
	if (p->natt)
		ww_wb_u32(&w, 0); /* non-ESP marker (RFC 3948 2.2) */
	hdr = w.n;
	ww_wb_bytes(&w, p->spi_i, 8);
	ww_wb_u32(&w, 0); /* SPIr */
	ww_wb_u32(&w, 0);
	ww_wb_u8(&w, p->cookie_len > 0 ? PL_NOTIFY : PL_SA);
	ww_wb_u8(&w, IKE_VERSION_2);
	ww_wb_u8(&w, WW_IKEV2_EXCH_SA_INIT);
	ww_wb_u8(&w, FLAG_INITIATOR);
	ww_wb_u32(&w, 0);      /* message id */
	ww_wb_u32(&w, 0);      /* length, patched below */
	if (p->cookie_len > 0) /* the COOKIE goes first (RFC 7296 2.6) */
		put_notify(&w, PL_SA, WW_IKEV2_N_COOKIE, p->cookie,
			   p->cookie_len);
	at = payload_begin(&w, PL_KE);
	put_proposal(p, &w, 1, false, ENCR_AES_CBC, false);
	put_proposal(p, &w, 2, true, ENCR_AES_GCM_16, true);
	payload_end(&w, at);
	at = payload_begin(&w, PL_NONCE);
	ww_wb_u16(&w, effective_ke_group(p));
	ww_wb_u16(&w, 0);
	ww_wb_bytes(&w, p->ke, p->ke_len);
	payload_end(&w, at);
	at = payload_begin(&w, PL_NOTIFY);
	ww_wb_bytes(&w, p->nonce, sizeof(p->nonce));
	payload_end(&w, at);
	if (put_tail_notifies(p, &w) != 0 || w.bad)
		return -1;
	/* the IKE length excludes the marker */
	out[hdr + 24] = (unsigned char)((w.n - hdr) >> 24);
	out[hdr + 25] = (unsigned char)((w.n - hdr) >> 16);
	out[hdr + 26] = (unsigned char)((w.n - hdr) >> 8);
	out[hdr + 27] = (unsigned char)(w.n - hdr);
	return (ssize_t)w.n;
}

int
ww_ikev2_params_retry(struct ww_ikev2_params *p, const struct ww_ikev2_reply *r)
{
	ssize_t l;

	if (r == NULL || r->kind == NULL)
		return 0;
	if (strcmp(r->kind, "notify_cookie") == 0) {
		if (r->cookie_len == 0 || r->cookie_len > WW_IKEV2_COOKIE_MAX)
			return -1;
		memcpy(p->cookie, r->cookie, r->cookie_len);
		p->cookie_len = r->cookie_len;
		return 1;
	}
	if (strcmp(r->kind, "notify_invalid_ke") != 0)
		return 0;
	if (!group_offered(p, r->group) || r->group == effective_ke_group(p))
		return -1;
	l = ww_ikev2_make_ke(r->group, p->ke, sizeof(p->ke));
	if (l < 0)
		return -1;
	p->ke_group = r->group;
	p->ke_len = (size_t)l;
	return 1;
}

/* --- the reply ------------------------------------------------------------ */

struct parse {
	const unsigned char *b;
	size_t len;  /* of the datagram */
	size_t base; /* where the IKE message starts (after the marker) */
	char *err;
	size_t errlen;
	/* what the chain held */
	bool has_sa, has_ke, has_nonce, has_cookie;
	uint16_t first_error, first_status, first_notify;
	uint16_t ke_asked, ke_group; /* INVALID_KE's data, the KE's group */
};

static int fail(struct parse *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
fail(struct parse *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(ps->err, ps->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Attributes of one transform at [p, end): only the key length is kept. */
static int
parse_attrs(struct parse *ps, size_t p, size_t end, uint16_t *keylen)
{
	while (p < end) {
		uint16_t t, v;

		if (end - p < 4)
			return fail(ps, "truncated at byte %zu: attribute", p);
		t = ww_be16(ps->b + p);
		v = ww_be16(ps->b + p + 2);
		if (t & ATTR_FORMAT_TV) {
			if ((t & 0x7fff) == ATTR_KEY_LENGTH)
				*keylen = v;
			p += 4;
		} else if (v > end - p - 4) {
			return fail(ps,
				    "attribute at byte %zu: length %u past "
				    "its transform",
				    p, v);
		} else {
			p += 4 + (size_t)v;
		}
	}
	return 0;
}

static void
keep_transform(struct ww_ikev2_reply *r, unsigned type, uint16_t id,
	       uint16_t keylen)
{
	if (type == TR_ENCR && r->encr == 0) {
		r->encr = id;
		r->encr_keylen = keylen;
	} else if (type == TR_PRF && r->prf == 0) {
		r->prf = id;
	} else if (type == TR_INTEG && r->integ == 0) {
		r->integ = id;
	} else if (type == TR_DH && r->dh == 0) {
		r->dh = id;
	}
}

/* The transforms of the proposal at [p, end); n as the proposal states. */
static int
parse_transforms(struct parse *ps, size_t p, size_t end, unsigned n,
		 struct ww_ikev2_reply *r)
{
	unsigned seen = 0;

	while (p < end) {
		uint16_t tlen, keylen = 0;
		unsigned more = ps->b[p];

		if (end - p < 8)
			return fail(ps, "truncated at byte %zu: transform", p);
		tlen = ww_be16(ps->b + p + 2);
		if (more != 0 && more != 3)
			return fail(ps,
				    "transform at byte %zu: bad last "
				    "substructure %u",
				    p, more);
		if (tlen < 8 || tlen > end - p)
			return fail(ps,
				    "transform at byte %zu: length %u "
				    "outside 8..%zu",
				    p, tlen, end - p);
		if (parse_attrs(ps, p + 8, p + tlen, &keylen) != 0)
			return -1;
		keep_transform(r, ps->b[p + 4], ww_be16(ps->b + p + 6), keylen);
		seen++;
		p += tlen;
		if ((more == 0) != (p == end))
			return fail(ps,
				    "transform ending at byte %zu: last "
				    "flag and proposal length disagree",
				    p);
	}
	if (seen != n)
		return fail(ps, "proposal states %u transforms, carries %u", n,
			    seen);
	return 0;
}

/* The SA payload's body [p, end): one proposal in a response. */
static int
parse_sa(struct parse *ps, size_t p, size_t end, struct ww_ikev2_reply *r)
{
	uint16_t plen;
	unsigned spi_size;

	if (end - p < 8)
		return fail(ps, "truncated at byte %zu: proposal", p);
	plen = ww_be16(ps->b + p + 2);
	spi_size = ps->b[p + 6];
	if (ps->b[p] != 0)
		return fail(ps,
			    "SA at byte %zu: more than one proposal in a "
			    "response",
			    p);
	if (plen != end - p)
		return fail(ps, "proposal at byte %zu: length %u, SA holds %zu",
			    p, plen, end - p);
	if (8 + (size_t)spi_size > plen)
		return fail(ps,
			    "proposal at byte %zu: SPI size %u past its end", p,
			    spi_size);
	return parse_transforms(ps, p + 8 + spi_size, end, ps->b[p + 7], r);
}

static int
parse_notify(struct parse *ps, size_t p, size_t end, struct ww_ikev2_reply *r)
{
	uint16_t type;
	size_t spi, d, dlen;

	if (end - p < 4)
		return fail(ps, "notify at byte %zu: %zu bytes, needs 4", p,
			    end - p);
	spi = ps->b[p + 1];
	type = ww_be16(ps->b + p + 2);
	if (spi > end - p - 4)
		return fail(ps, "notify at byte %zu: SPI size %zu past its end",
			    p, spi);
	d = p + 4 + spi;
	dlen = end - d;
	if (ps->first_notify == 0)
		ps->first_notify = type;
	if (type == WW_IKEV2_N_INVALID_KE_PAYLOAD && ps->first_error == 0) {
		if (dlen != 2)
			return fail(ps,
				    "INVALID_KE_PAYLOAD at byte %zu: %zu "
				    "data bytes, needs 2",
				    p, dlen);
		ps->ke_asked = ww_be16(ps->b + d);
	}
	if (type == WW_IKEV2_N_COOKIE && !ps->has_cookie) {
		if (dlen < 1 || dlen > WW_IKEV2_COOKIE_MAX)
			return fail(ps,
				    "COOKIE at byte %zu: %zu bytes, not "
				    "1..64",
				    p, dlen);
		memcpy(r->cookie, ps->b + d, dlen);
		r->cookie_len = dlen;
		ps->has_cookie = true;
	}
	if (type < N_FIRST_STATUS && ps->first_error == 0)
		ps->first_error = type;
	else if (type >= N_FIRST_STATUS && type != WW_IKEV2_N_COOKIE &&
		 ps->first_status == 0)
		ps->first_status = type;
	return 0;
}

/* One payload's body [p, end) of the given type. */
static int
parse_body(struct parse *ps, unsigned type, size_t p, size_t end,
	   struct ww_ikev2_reply *r)
{
	switch (type) {
	case PL_SA:
		if (ps->has_sa)
			return fail(ps, "second SA payload at byte %zu", p - 4);
		ps->has_sa = true;
		return parse_sa(ps, p, end, r);
	case PL_KE:
		if (end - p < 5)
			return fail(ps, "KE at byte %zu: %zu bytes, needs 5",
				    p - 4, end - p);
		ps->has_ke = true;
		ps->ke_group = ww_be16(ps->b + p);
		return 0;
	case PL_NONCE:
		if (end - p < 16 || end - p > 256)
			return fail(ps,
				    "Nonce at byte %zu: %zu bytes, not "
				    "16..256",
				    p - 4, end - p);
		ps->has_nonce = true;
		return 0;
	case PL_NOTIFY:
		return parse_notify(ps, p, end, r);
	default:
		return 0;
	}
}

static int
parse_chain(struct parse *ps, unsigned next, size_t end,
	    struct ww_ikev2_reply *r)
{
	size_t p = ps->base + IKE_HDR_LEN;

	while (next != PL_NONE) {
		uint16_t plen;
		unsigned type = next;

		if (r->n_payloads == WW_IKEV2_MAX_PAYLOADS)
			return fail(ps, "more than %d payloads",
				    WW_IKEV2_MAX_PAYLOADS);
		if (end - p < 4)
			return fail(ps,
				    "truncated at byte %zu: header of "
				    "payload %u",
				    p, type);
		next = ps->b[p];
		plen = ww_be16(ps->b + p + 2);
		if (plen < 4 || plen > end - p)
			return fail(ps,
				    "payload %u at byte %zu: length %u "
				    "outside 4..%zu",
				    type, p, plen, end - p);
		r->n_payloads++;
		if (parse_body(ps, type, p + 4, p + plen, r) != 0)
			return -1;
		p += plen;
		if (type == PL_SK || type == PL_SKF)
			break; /* its next names the first inner payload */
	}
	if (p != end)
		return fail(ps, "%zu bytes after the last payload", end - p);
	return 0;
}

static int
parse_header(struct parse *ps, const struct ww_ikev2_params *sent,
	     struct ww_ikev2_reply *r)
{
	const unsigned char *h = ps->b + ps->base;
	size_t have = ps->len - ps->base;
	uint32_t l;

	if (have < IKE_HDR_LEN)
		return fail(ps, "truncated at byte %zu: IKE header needs %d",
			    ps->len, IKE_HDR_LEN);
	memcpy(r->spi_i, h, 8);
	memcpy(r->spi_r, h + 8, 8);
	r->version = h[17];
	r->exchange = h[18];
	r->flags = h[19];
	r->msg_id = ww_be32(h + 20);
	l = ww_be32(h + 24);
	if ((r->version >> 4) != 2 && (r->version >> 4) != 1)
		return fail(ps, "IKE version %u.%u, not 2", r->version >> 4,
			    r->version & 15);
	if (l < IKE_HDR_LEN)
		return fail(ps, "length field %u below the %d-byte header", l,
			    IKE_HDR_LEN);
	if (l > have)
		return fail(ps,
			    "truncated: length field %u, datagram carries "
			    "%zu",
			    l, have);
	if (l < have)
		return fail(ps, "%zu bytes after the %u-byte message", have - l,
			    l);
	r->length = l;
	r->ours = memcmp(r->spi_i, sent->spi_i, 8) == 0;
	if ((r->version >> 4) == 1) {
		/* an IKEv1-only responder (RFC 2408 header: our SPIi is its
		 * initiator cookie); its payloads are another protocol's */
		r->kind = "ikev1";
		return 1;
	}
	if (r->exchange != WW_IKEV2_EXCH_SA_INIT &&
	    r->exchange != WW_IKEV2_EXCH_INFORMATIONAL)
		return fail(ps,
			    "exchange type %u is not IKE_SA_INIT or "
			    "INFORMATIONAL",
			    r->exchange);
	if (!(r->flags & FLAG_RESPONSE))
		return fail(ps, "flags 0x%02x: not a response", r->flags);
	if (r->flags & FLAG_INITIATOR)
		return fail(ps, "flags 0x%02x: sent by an initiator", r->flags);
	if (r->exchange == WW_IKEV2_EXCH_SA_INIT && r->msg_id != 0)
		return fail(ps, "message id %u in an IKE_SA_INIT response",
			    r->msg_id);
	return 0;
}

/* What the payloads say, once the whole message parsed. */
static int
classify(struct parse *ps, struct ww_ikev2_reply *r)
{
	static const unsigned char zero[8];

	if (r->exchange == WW_IKEV2_EXCH_INFORMATIONAL) {
		r->kind = "informational";
		r->notify_type = ps->first_notify;
		return 0;
	}
	if (ps->first_error != 0) {
		r->notify_type = ps->first_error;
		r->group = ps->ke_asked;
		r->kind = ps->first_error == WW_IKEV2_N_INVALID_KE_PAYLOAD
				  ? "notify_invalid_ke"
			  : ps->first_error == WW_IKEV2_N_NO_PROPOSAL_CHOSEN
				  ? "notify_no_proposal"
				  : "notify_other";
		return 0;
	}
	if (ps->has_cookie) {
		r->notify_type = WW_IKEV2_N_COOKIE;
		r->kind = "notify_cookie";
		return 0;
	}
	if (ps->has_sa && ps->has_ke && ps->has_nonce) {
		if (memcmp(r->spi_r, zero, 8) == 0)
			return fail(ps, "IKE_SA_INIT response with SA, KE and "
					"Nonce but responder SPI 0");
		r->kind = "sa_init_response";
		r->group = ps->ke_group;
		return 0;
	}
	if (ps->first_status != 0) {
		r->notify_type = ps->first_status;
		r->kind = "notify_other";
		return 0;
	}
	return fail(ps, "IKE_SA_INIT response with neither SA, KE and Nonce "
			"nor a notify");
}

int
ww_ikev2_parse_reply(const unsigned char *buf, size_t len,
		     const struct ww_ikev2_params *sent,
		     struct ww_ikev2_reply *r, char *err, size_t errlen)
{
	struct parse ps = {.b = buf, .len = len, .err = err, .errlen = errlen};
	int rc;

	memset(r, 0, sizeof(*r));
	if (errlen > 0)
		err[0] = '\0';
	if (buf == NULL || sent == NULL)
		return fail(&ps, "no datagram");
	if (sent->natt) {
		if (len < NON_ESP_MARKER_LEN)
			return fail(&ps,
				    "truncated at byte %zu: non-ESP marker "
				    "needs 4",
				    len);
		if (ww_be32(buf) != 0)
			return fail(&ps,
				    "no non-ESP marker: an ESP packet of "
				    "SPI 0x%08x",
				    ww_be32(buf));
		ps.base = NON_ESP_MARKER_LEN;
		r->natt = true;
	}
	rc = parse_header(&ps, sent, r);
	if (rc == 1)
		return 0; /* IKEv1: the header is all we read */
	if (rc == 0)
		rc = parse_chain(&ps, buf[ps.base + 16], ps.base + r->length,
				 r);
	if (rc == 0)
		rc = classify(&ps, r);
	if (rc != 0) {
		r->kind = NULL;
		if (errlen > 0 && err[0] == '\0')
			fail(&ps, "malformed");
	}
	return rc;
}

bool
ww_ikev2_reply_proves_up(const struct ww_ikev2_reply *r)
{
	return r != NULL && r->kind != NULL && r->ours;
}
