/*
 * test_ikev2.c - the IKE_SA_INIT request read back field by field, the
 * parser on replies strongSwan 5.9.8 (Debian 12) sent to our requests on
 * loopback, on replies built here, and on every truncation and broken
 * length we could think of.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "ikev2.h"

/* --- replies captured from charon (strongSwan 5.9.8) ---------------------- */

static const unsigned char strongswan_sa_init_response_500[] = {
	0x0c, 0xbe, 0x9d, 0x70, 0x53, 0xa9, 0x4a, 0xc2, 0x60, 0xf8, 0x0e, 0x44,
	0x72, 0xeb, 0xde, 0xf1, 0x21, 0x20, 0x22, 0x20, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x01, 0xd8, 0x22, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x2c,
	0x01, 0x01, 0x00, 0x04, 0x03, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x0c,
	0x80, 0x0e, 0x01, 0x00, 0x03, 0x00, 0x00, 0x08, 0x03, 0x00, 0x00, 0x0c,
	0x03, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x08,
	0x04, 0x00, 0x00, 0x0e, 0x28, 0x00, 0x01, 0x08, 0x00, 0x0e, 0x00, 0x00,
	0xdf, 0x2a, 0x66, 0xf1, 0xcc, 0xcf, 0xb8, 0x0c, 0x94, 0xc9, 0x91, 0xda,
	0x95, 0x21, 0x51, 0xfb, 0xe2, 0x3c, 0x17, 0xca, 0x63, 0x03, 0x68, 0xe5,
	0x88, 0x76, 0x1c, 0x25, 0xd1, 0x15, 0xfc, 0x50, 0x50, 0xcf, 0x54, 0x9f,
	0xbb, 0x5a, 0x46, 0xab, 0x3a, 0x2d, 0x8d, 0xc4, 0x35, 0xd6, 0x63, 0xeb,
	0x02, 0x27, 0x0c, 0xdc, 0x8a, 0xfc, 0x02, 0xc2, 0xdc, 0x9a, 0xec, 0x60,
	0xf2, 0x6b, 0xea, 0x2d, 0x7a, 0x8a, 0x5c, 0x45, 0xf0, 0x78, 0x94, 0xb0,
	0x1c, 0xc0, 0xab, 0xc7, 0x34, 0x3d, 0x70, 0x2c, 0xa4, 0x20, 0x8f, 0xcf,
	0x06, 0x5f, 0x82, 0xb9, 0xf8, 0x25, 0xb2, 0x9a, 0x0b, 0x76, 0xd2, 0x67,
	0xb3, 0xeb, 0xed, 0x3b, 0xe4, 0x43, 0xbc, 0x85, 0x65, 0x03, 0xaf, 0x1a,
	0x3c, 0xb2, 0x85, 0xa9, 0x38, 0xeb, 0xde, 0x73, 0xd7, 0xd2, 0x80, 0x2d,
	0x3a, 0xf5, 0xf3, 0xd4, 0x64, 0x81, 0x3f, 0x6e, 0x42, 0x1d, 0x47, 0x1c,
	0xc8, 0xdb, 0x6f, 0x00, 0xce, 0xc8, 0x3b, 0xf3, 0x7a, 0x7d, 0x7e, 0x8d,
	0x7a, 0xe0, 0x07, 0x5b, 0x37, 0x63, 0x3a, 0x1d, 0xa1, 0x0d, 0x66, 0xd7,
	0xb1, 0x86, 0xbc, 0x5a, 0x12, 0x7e, 0x6c, 0x2c, 0xf2, 0x3a, 0x75, 0x3f,
	0xdd, 0x64, 0x04, 0x2a, 0x0a, 0xc4, 0xff, 0xcc, 0xed, 0x03, 0xac, 0xb5,
	0x41, 0x9b, 0xf0, 0x11, 0x6f, 0xa7, 0x25, 0x5a, 0xec, 0x82, 0x06, 0x9d,
	0xe5, 0xc8, 0xfb, 0x93, 0xcb, 0x00, 0x91, 0x4a, 0x36, 0x1a, 0xdb, 0x8f,
	0x2b, 0xa2, 0x84, 0x5f, 0xf9, 0x55, 0xb0, 0x6a, 0x94, 0x0f, 0x52, 0x01,
	0xe3, 0xca, 0x66, 0x3e, 0x1c, 0x74, 0x37, 0xf3, 0xd7, 0xa4, 0x9b, 0xb7,
	0x04, 0x3b, 0xd6, 0x91, 0x46, 0x83, 0xa2, 0xeb, 0xc2, 0x36, 0xe1, 0xec,
	0xc7, 0x9d, 0xd2, 0x39, 0x78, 0xe4, 0xcc, 0xfc, 0x3b, 0x27, 0x3e, 0x38,
	0x95, 0xd1, 0x64, 0xda, 0x29, 0x00, 0x00, 0x24, 0xb3, 0x2b, 0x47, 0x5e,
	0xeb, 0x68, 0x00, 0x5b, 0xef, 0x3d, 0x7a, 0x09, 0xb8, 0x2e, 0x2d, 0xd2,
	0x05, 0x80, 0x8a, 0xe5, 0x85, 0x4d, 0x9e, 0xd6, 0xc4, 0xb2, 0xcf, 0xe2,
	0xa1, 0xdb, 0x8a, 0xac, 0x29, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x04,
	0x56, 0xb5, 0x8c, 0xca, 0x73, 0x6a, 0x86, 0x4c, 0xfd, 0x78, 0xba, 0xd4,
	0x5b, 0x3f, 0x91, 0x9a, 0x11, 0x16, 0x48, 0xaf, 0x29, 0x00, 0x00, 0x1c,
	0x00, 0x00, 0x40, 0x05, 0xa5, 0x24, 0xbd, 0xa5, 0x1d, 0xa8, 0x5f, 0x73,
	0xb5, 0xb8, 0xa6, 0xdd, 0xf9, 0xca, 0x8b, 0x9f, 0xfc, 0x67, 0xea, 0xee,
	0x29, 0x00, 0x00, 0x08, 0x00, 0x00, 0x40, 0x2e, 0x29, 0x00, 0x00, 0x10,
	0x00, 0x00, 0x40, 0x2f, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00, 0x05,
	0x29, 0x00, 0x00, 0x08, 0x00, 0x00, 0x40, 0x22, 0x00, 0x00, 0x00, 0x08,
	0x00, 0x00, 0x40, 0x14};
static const unsigned char strongswan_invalid_ke_500[] = {
	0x76, 0xfb, 0xef, 0x20, 0xc4, 0xa0, 0x5a, 0x55, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x29, 0x20, 0x22, 0x20,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x26, 0x00, 0x00,
	0x00, 0x0a, 0x00, 0x00, 0x00, 0x11, 0x00, 0x0e};
static const unsigned char strongswan_cookie_500[] = {
	0xf8, 0xd9, 0xdf, 0x07, 0xeb, 0xef, 0x8a, 0x28, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x29, 0x20, 0x22, 0x20, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x06,
	0xf8, 0xa5, 0x00, 0x00, 0x5c, 0xfd, 0x9f, 0x52, 0xa7, 0xb3, 0x34, 0xd7,
	0x3f, 0x42, 0xfe, 0xaf, 0x9e, 0xb1, 0x9c, 0xa6, 0x52, 0x76, 0xad, 0xdd};
static const unsigned char strongswan_no_proposal_500[] = {
	0xe1, 0x48, 0x66, 0x2a, 0x27, 0x76, 0xca, 0x89, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x29, 0x20, 0x22, 0x20, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x0e};
static const unsigned char strongswan_invalid_ke_4500[] = {
	0x00, 0x00, 0x00, 0x00, 0xe4, 0xd8, 0x3e, 0xb5, 0xcb, 0x06, 0xad,
	0x15, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x29, 0x20,
	0x22, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x26, 0x00,
	0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x11, 0x00, 0x0e};

/* --- a small wire builder ------------------------------------------------- */

struct wire {
	unsigned char b[4096];
	size_t n;
};

static void
put_bytes(struct wire *w, const void *p, size_t n)
{
	assert_true(w->n + n <= sizeof(w->b));
	if (n > 0)
		memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void
put8(struct wire *w, unsigned v)
{
	unsigned char c = (unsigned char)v;

	put_bytes(w, &c, 1);
}

static void
put16(struct wire *w, unsigned v)
{
	put8(w, v >> 8);
	put8(w, v & 0xff);
}

static void
put32(struct wire *w, uint32_t v)
{
	put16(w, v >> 16);
	put16(w, v & 0xffff);
}

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static const unsigned char our_spi[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static const unsigned char their_spi[8] = {9, 9, 9, 9, 9, 9, 9, 9};

/* An IKE header; the length is set by finish(). */
static void
header(struct wire *w, const unsigned char *spi_r, unsigned next, unsigned exch,
       unsigned flags, uint32_t msg_id)
{
	static const unsigned char zero[8];

	w->n = 0;
	put_bytes(w, our_spi, 8);
	put_bytes(w, spi_r ? spi_r : zero, 8);
	put8(w, next);
	put8(w, 0x20);
	put8(w, exch);
	put8(w, flags);
	put32(w, msg_id);
	put32(w, 0);
}

static void
finish(struct wire *w)
{
	w->b[24] = (unsigned char)(w->n >> 24);
	w->b[25] = (unsigned char)(w->n >> 16);
	w->b[26] = (unsigned char)(w->n >> 8);
	w->b[27] = (unsigned char)w->n;
}

static void
payload(struct wire *w, unsigned next, const void *body, size_t len)
{
	put8(w, next);
	put8(w, 0);
	put16(w, (unsigned)(4 + len));
	put_bytes(w, body, len);
}

static void
notify(struct wire *w, unsigned next, unsigned type, const void *data,
       size_t len)
{
	put8(w, next);
	put8(w, 0);
	put16(w, (unsigned)(8 + len));
	put8(w, 0);
	put8(w, 0);
	put16(w, type);
	put_bytes(w, data, len);
}

/* A response SA body: one proposal, AES-CBC-256, SHA2-256, group 19. */
static size_t
sa_body(unsigned char *b)
{
	static const unsigned char sa[] = {
		0, 0, 0, 44, 1, 1, 0, 4,		  /* proposal */
		3, 0, 0, 12, 1, 0, 0, 12, 0x80, 14, 1, 0, /* encr */
		3, 0, 0, 8,  2, 0, 0, 5,		  /* prf */
		3, 0, 0, 8,  3, 0, 0, 12,		  /* integ */
		0, 0, 0, 8,  4, 0, 0, 19,		  /* dh */
	};
	memcpy(b, sa, sizeof(sa));
	return sizeof(sa);
}

/* A whole IKE_SA_INIT response: SA, KE, Nonce. */
static void
sa_init_response(struct wire *w)
{
	unsigned char sa[64], ke[68] = {0, 19, 0, 0}, nonce[32] = {7};

	header(w, their_spi, 33, 34, 0x20, 0);
	payload(w, 34, sa, sa_body(sa));
	payload(w, 40, ke, sizeof(ke));
	payload(w, 0, nonce, sizeof(nonce));
	finish(w);
}

static void
sent_params(struct ww_ikev2_params *p, const unsigned char *spi, bool natt)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->spi_i, spi, 8);
	p->natt = natt;
	p->groups[0] = 19;
	p->groups[1] = 31;
	p->groups[2] = 14;
	p->n_groups = 3;
	p->ke_group = 19;
	p->ke_len = 64;
	memset(p->ke, 0x42, p->ke_len);
	for (size_t i = 0; i < sizeof(p->nonce); i++)
		p->nonce[i] = (unsigned char)(0xa0 + i);
	p->family = AF_INET;
	memcpy(p->src_addr, "\x7f\x00\x00\x02", 4);
	memcpy(p->dst_addr, "\x7f\x00\x00\x01", 4);
	p->src_port = 40000;
	p->dst_port = natt ? 4500 : 500;
}

static int
parse(const unsigned char *b, size_t n, const struct ww_ikev2_params *sent,
      struct ww_ikev2_reply *r, char *err)
{
	int rc = ww_ikev2_parse_reply(b, n, sent, r, err, 160);

	/* the promise on every call: an error string exactly on -1 */
	assert_true(rc == 0 || rc == -1);
	assert_int_equal(rc == -1, err[0] != '\0');
	assert_int_equal(rc == -1, r->kind == NULL);
	return rc;
}

/* Parse b as ours and expect -1 with err containing want. */
static void
expect_error(const unsigned char *b, size_t n, const char *want)
{
	struct ww_ikev2_params sent;
	struct ww_ikev2_reply r;
	char err[160];

	sent_params(&sent, our_spi, false);
	assert_int_equal(parse(b, n, &sent, &r, err), -1);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' lacks '%s'", err, want);
}

/* --- the request ---------------------------------------------------------- */

struct view {
	size_t base;
	unsigned type[16];
	size_t off[16], len[16]; /* of each payload's body */
	size_t n;
};

/* Walk our request as a responder would; every field checked. */
static void
walk(const unsigned char *b, size_t n, const struct ww_ikev2_params *p,
     struct view *v)
{
	size_t at;
	unsigned next;

	memset(v, 0, sizeof(*v));
	if (p->natt) {
		assert_true(n >= 4);
		assert_int_equal(get32(b), 0);
		v->base = 4;
	}
	assert_true(n >= v->base + 28);
	assert_memory_equal(b + v->base, p->spi_i, 8);
	assert_memory_equal(b + v->base + 8, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(b[v->base + 17], 0x20);
	assert_int_equal(b[v->base + 18], 34);
	assert_int_equal(b[v->base + 19], 0x08);
	assert_int_equal(get32(b + v->base + 20), 0);
	assert_int_equal(get32(b + v->base + 24), n - v->base);
	next = b[v->base + 16];
	at = v->base + 28;
	while (next != 0) {
		size_t l;

		assert_true(v->n < 16 && at + 4 <= n);
		l = get16(b + at + 2);
		assert_true(l >= 4 && at + l <= n);
		assert_int_equal(b[at + 1], 0);
		v->type[v->n] = next;
		v->off[v->n] = at + 4;
		v->len[v->n] = l - 4;
		v->n++;
		next = b[at];
		at += l;
	}
	assert_int_equal(at, n);
}

/* The transforms of one proposal at b: (type, id, keylen) triples. */
static size_t
proposal(const unsigned char *b, size_t len, unsigned num, unsigned out[][3],
	 bool *last)
{
	size_t at = 8, k = 0;

	assert_true(len >= 8);
	*last = b[0] == 0;
	assert_true(get16(b + 2) <= len);
	assert_int_equal(b[4], num);
	assert_int_equal(b[5], 1); /* IKE */
	assert_int_equal(b[6], 0); /* no SPI */
	while (at < get16(b + 2)) {
		size_t tl = get16(b + at + 2);

		out[k][0] = b[at + 4];
		out[k][1] = get16(b + at + 6);
		out[k][2] = tl == 12 ? get16(b + at + 10) : 0;
		if (tl == 12)
			assert_int_equal(get16(b + at + 8), 0x800e);
		else
			assert_int_equal(tl, 8);
		k++;
		at += tl;
		assert_int_equal(b[at - tl] == 0, at == get16(b + 2));
	}
	assert_int_equal(k, b[7]);
	return k;
}

static void
test_request_layout(void **state)
{
	static const unsigned want_p1[][3] = {
		{1, 12, 256}, {1, 12, 128}, {2, 5, 0}, {3, 12, 0},
		{4, 19, 0},   {4, 31, 0},   {4, 14, 0}};
	static const unsigned want_p2[][3] = {{1, 20, 256}, {1, 20, 128},
					      {2, 5, 0},    {4, 19, 0},
					      {4, 31, 0},   {4, 14, 0}};
	static const unsigned types[] = {33, 34, 40, 41, 41, 41, 41};
	static const unsigned notes[] = {16388, 16389, 16430, 16431};
	struct ww_ikev2_params p;
	unsigned char out[2048];
	unsigned tr[16][3];
	struct view v;
	ssize_t n;
	bool last;
	size_t k, at;

	(void)state;
	sent_params(&p, our_spi, false);
	n = ww_ikev2_build_sa_init(&p, out, sizeof(out));
	assert_true(n > 0);
	walk(out, (size_t)n, &p, &v);
	assert_int_equal(v.n, 7);
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(v.type[i], types[i]);
	/* SA: two proposals */
	k = proposal(out + v.off[0], v.len[0], 1, tr, &last);
	assert_false(last);
	assert_int_equal(k, 7);
	assert_memory_equal(tr, want_p1, sizeof(want_p1));
	at = get16(out + v.off[0] + 2);
	k = proposal(out + v.off[0] + at, v.len[0] - at, 2, tr, &last);
	/* the two proposals fill the SA */
	assert_int_equal(at + get16(out + v.off[0] + at + 2), v.len[0]);
	assert_true(last);
	assert_int_equal(k, 6);
	assert_memory_equal(tr, want_p2, sizeof(want_p2));
	/* KE: group 19 and our value */
	assert_int_equal(v.len[1], 4 + 64);
	assert_int_equal(get16(out + v.off[1]), 19);
	assert_int_equal(get16(out + v.off[1] + 2), 0);
	assert_memory_equal(out + v.off[1] + 4, p.ke, 64);
	/* Ni */
	assert_int_equal(v.len[2], 32);
	assert_memory_equal(out + v.off[2], p.nonce, 32);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(out[v.off[3 + i]], 0);
		assert_int_equal(out[v.off[3 + i] + 1], 0);
		assert_int_equal(get16(out + v.off[3 + i] + 2), notes[i]);
	}
	assert_int_equal(v.len[3], 4 + 20);
	assert_int_equal(v.len[5], 4);
	assert_int_equal(v.len[6], 4 + 6);
}

/* NAT_DETECTION_*_IP = SHA-1(SPIi | SPIr | IP | port), RFC 7296 2.23 */
static void
test_request_nat_hashes(void **state)
{
	struct ww_ikev2_params p;
	unsigned char out[2048], in[40], md[20];
	unsigned int mdlen;
	struct view v;
	ssize_t n;

	(void)state;
	sent_params(&p, our_spi, false);
	n = ww_ikev2_build_sa_init(&p, out, sizeof(out));
	walk(out, (size_t)n, &p, &v);
	memcpy(in, our_spi, 8);
	memset(in + 8, 0, 8);
	memcpy(in + 16, "\x7f\x00\x00\x02\x9c\x40", 6); /* 40000 */
	assert_int_equal(EVP_Digest(in, 22, md, &mdlen, EVP_sha1(), NULL), 1);
	assert_memory_equal(out + v.off[3] + 4, md, 20);
	memcpy(in + 16, "\x7f\x00\x00\x01\x01\xf4", 6); /* 500 */
	assert_int_equal(EVP_Digest(in, 22, md, &mdlen, EVP_sha1(), NULL), 1);
	assert_memory_equal(out + v.off[4] + 4, md, 20);

	/* IPv6: 16 address bytes hashed */
	p.family = AF_INET6;
	memset(p.src_addr, 0, 16);
	p.src_addr[15] = 1;
	n = ww_ikev2_build_sa_init(&p, out, sizeof(out));
	walk(out, (size_t)n, &p, &v);
	memset(in + 16, 0, 16);
	in[31] = 1;
	in[32] = 0x9c;
	in[33] = 0x40;
	assert_int_equal(EVP_Digest(in, 34, md, &mdlen, EVP_sha1(), NULL), 1);
	assert_memory_equal(out + v.off[3] + 4, md, 20);

	/* family 0: no NAT_DETECTION notifies */
	p.family = 0;
	n = ww_ikev2_build_sa_init(&p, out, sizeof(out));
	walk(out, (size_t)n, &p, &v);
	assert_int_equal(v.n, 5);
	assert_int_equal(get16(out + v.off[3] + 2), 16430);
}

static void
test_request_natt_and_cookie(void **state)
{
	struct ww_ikev2_params p;
	unsigned char plain[2048], out[2048];
	struct view v;
	ssize_t n0, n;

	(void)state;
	sent_params(&p, our_spi, false);
	n0 = ww_ikev2_build_sa_init(&p, plain, sizeof(plain));
	p.natt = true;
	n = ww_ikev2_build_sa_init(&p, out, sizeof(out));
	assert_int_equal(n, n0 + 4);
	walk(out, (size_t)n, &p, &v);
	assert_int_equal(v.n, 7);

	p.natt = false;
	p.cookie_len = 64;
	memset(p.cookie, 0xc0, 64);
	n = ww_ikev2_build_sa_init(&p, out, sizeof(out));
	assert_int_equal(n, n0 + 8 + 64);
	walk(out, (size_t)n, &p, &v);
	assert_int_equal(v.n, 8);
	assert_int_equal(v.type[0], 41);
	assert_int_equal(v.type[1], 33);
	assert_int_equal(get16(out + v.off[0] + 2), 16390);
	assert_int_equal(v.len[0], 4 + 64);
	assert_memory_equal(out + v.off[0] + 4, p.cookie, 64);
}

/* Every cap short of the length fails and writes nothing past cap. */
static void
test_request_short_buffer(void **state)
{
	struct ww_ikev2_params p;
	unsigned char out[2048];
	ssize_t n;

	(void)state;
	sent_params(&p, our_spi, true);
	p.cookie_len = 10;
	n = ww_ikev2_build_sa_init(&p, out, sizeof(out));
	assert_true(n > 0);
	for (size_t cap = 0; cap < (size_t)n; cap++) {
		memset(out, 0xee, sizeof(out));
		assert_int_equal(ww_ikev2_build_sa_init(&p, out, cap), -1);
		for (size_t i = cap; i < sizeof(out); i++)
			assert_int_equal(out[i], 0xee);
	}
	assert_int_equal(ww_ikev2_build_sa_init(&p, out, (size_t)n), n);
}

static void
test_request_bad_params(void **state)
{
	struct ww_ikev2_params p;
	unsigned char out[2048];

	(void)state;
	sent_params(&p, our_spi, false);
	assert_true(ww_ikev2_build_sa_init(&p, out, sizeof(out)) > 0);
	assert_int_equal(ww_ikev2_build_sa_init(NULL, out, sizeof(out)), -1);
	memset(p.spi_i, 0, 8);
	assert_int_equal(ww_ikev2_build_sa_init(&p, out, sizeof(out)), -1);
	sent_params(&p, our_spi, false);
	p.n_groups = 0;
	assert_int_equal(ww_ikev2_build_sa_init(&p, out, sizeof(out)), -1);
	p.n_groups = WW_IKEV2_MAX_GROUPS + 1;
	assert_int_equal(ww_ikev2_build_sa_init(&p, out, sizeof(out)), -1);
	sent_params(&p, our_spi, false);
	p.ke_group = 20; /* not offered */
	assert_int_equal(ww_ikev2_build_sa_init(&p, out, sizeof(out)), -1);
	sent_params(&p, our_spi, false);
	p.ke_len = 63; /* not group 19's size */
	assert_int_equal(ww_ikev2_build_sa_init(&p, out, sizeof(out)), -1);
	sent_params(&p, our_spi, false);
	p.cookie_len = 65;
	assert_int_equal(ww_ikev2_build_sa_init(&p, out, sizeof(out)), -1);
	sent_params(&p, our_spi, false);
	p.family = 99;
	assert_int_equal(ww_ikev2_build_sa_init(&p, out, sizeof(out)), -1);
	sent_params(&p, our_spi, false);
	p.ke_group = 0; /* means groups[0] */
	assert_true(ww_ikev2_build_sa_init(&p, out, sizeof(out)) > 0);
}

/* A P-256 value must be a point on the curve: OpenSSL checks it. */
static void
check_p256(const unsigned char *xy)
{
	unsigned char pt[65] = {0x04};
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *prm;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *k = NULL;

	memcpy(pt + 1, xy, 64);
	assert_int_equal(OSSL_PARAM_BLD_push_utf8_string(
				 b, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0),
			 1);
	assert_int_equal(OSSL_PARAM_BLD_push_octet_string(
				 b, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)),
			 1);
	prm = OSSL_PARAM_BLD_to_param(b);
	assert_int_equal(EVP_PKEY_fromdata_init(c), 1);
	assert_int_equal(EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, prm), 1);
	EVP_PKEY_CTX_free(c);
	c = EVP_PKEY_CTX_new(k, NULL);
	assert_int_equal(EVP_PKEY_public_check(c), 1);
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(k);
	OSSL_PARAM_free(prm);
	OSSL_PARAM_BLD_free(b);
}

static void
test_make_ke(void **state)
{
	static const uint16_t groups[] = {14, 15, 19, 20, 21, 31};
	unsigned char a[WW_IKEV2_KE_MAX], b[WW_IKEV2_KE_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(groups) / sizeof(*groups); i++) {
		size_t l = ww_ikev2_ke_len(groups[i]);

		assert_true(l > 0);
		assert_int_equal(ww_ikev2_make_ke(groups[i], a, sizeof(a)), l);
		assert_int_equal(ww_ikev2_make_ke(groups[i], b, sizeof(b)), l);
		assert_memory_not_equal(a, b, l); /* fresh each time */
		assert_int_equal(ww_ikev2_make_ke(groups[i], a, l - 1), -1);
	}
	assert_int_equal(ww_ikev2_make_ke(19, a, sizeof(a)), 64);
	check_p256(a);
	/* a MODP value is below the prime: 2048 bits, top byte not 0xff.. */
	assert_int_equal(ww_ikev2_make_ke(14, a, sizeof(a)), 256);
	assert_true(memcmp(a, "\xff\xff\xff\xff\xff\xff\xff\xff", 8) < 0);
	assert_int_equal(ww_ikev2_ke_len(2), 0);
	assert_int_equal(ww_ikev2_make_ke(2, a, sizeof(a)), -1);
}

static void
test_params_random(void **state)
{
	struct ww_ikev2_params a, b;
	unsigned char out[2048];
	struct view v;
	ssize_t n;

	(void)state;
	assert_int_equal(ww_ikev2_params_random(&a, false), 0);
	assert_int_equal(ww_ikev2_params_random(&b, true), 0);
	assert_memory_not_equal(a.spi_i, b.spi_i, 8);
	assert_memory_not_equal(a.nonce, b.nonce, 32);
	assert_int_equal(a.n_groups, 3);
	assert_int_equal(a.groups[0], 19);
	assert_int_equal(a.ke_group, 19);
	assert_int_equal(a.ke_len, 64);
	check_p256(a.ke);
	assert_true(b.natt);
	n = ww_ikev2_build_sa_init(&b, out, sizeof(out));
	assert_true(n > 0);
	walk(out, (size_t)n, &b, &v);
	assert_int_equal(v.n, 5); /* no addresses yet: no NAT_DETECTION */
}

static void
test_set_addrs(void **state)
{
	struct ww_ikev2_params p, q;
	struct sockaddr_in s4 = {.sin_family = AF_INET,
				 .sin_port = htons(40000)};
	struct sockaddr_in d4 = {.sin_family = AF_INET, .sin_port = htons(500)};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6,
				  .sin6_port = htons(40000)};
	struct sockaddr_in6 d6 = {.sin6_family = AF_INET6,
				  .sin6_port = htons(4500)};
	unsigned char a[2048], b[2048];

	(void)state;
	sent_params(&p, our_spi, false);
	q = p;
	inet_pton(AF_INET, "127.0.0.2", &s4.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &d4.sin_addr);
	memset(&q.src_addr, 0, 16);
	q.family = 0;
	assert_int_equal(ww_ikev2_params_set_addrs(&q, (struct sockaddr *)&s4,
						   (struct sockaddr *)&d4),
			 0);
	/* the same request as sent_params()'s addresses give */
	assert_int_equal(ww_ikev2_build_sa_init(&p, a, sizeof(a)),
			 ww_ikev2_build_sa_init(&q, b, sizeof(b)));
	assert_memory_equal(a, b,
			    (size_t)ww_ikev2_build_sa_init(&p, a, sizeof(a)));
	inet_pton(AF_INET6, "::1", &s6.sin6_addr);
	inet_pton(AF_INET6, "2001:db8::1", &d6.sin6_addr);
	assert_int_equal(ww_ikev2_params_set_addrs(&q, (struct sockaddr *)&s6,
						   (struct sockaddr *)&d6),
			 0);
	assert_int_equal(q.family, AF_INET6);
	assert_int_equal(q.src_addr[15], 1);
	assert_int_equal(q.dst_addr[0], 0x20);
	assert_int_equal(q.dst_port, 4500);
	assert_int_equal(ww_ikev2_params_set_addrs(&q, (struct sockaddr *)&s4,
						   (struct sockaddr *)&d6),
			 -1);
	assert_int_equal(
		ww_ikev2_params_set_addrs(&q, NULL, (struct sockaddr *)&d6),
		-1);
}

/* --- replies -------------------------------------------------------------- */

static void
test_strongswan_sa_init_response(void **state)
{
	struct ww_ikev2_params sent;
	struct ww_ikev2_reply r;
	char err[160];

	(void)state;
	sent_params(&sent, strongswan_sa_init_response_500, false);
	assert_int_equal(parse(strongswan_sa_init_response_500,
			       sizeof(strongswan_sa_init_response_500), &sent,
			       &r, err),
			 0);
	assert_string_equal(r.kind, "sa_init_response");
	assert_true(r.ours);
	assert_true(ww_ikev2_reply_proves_up(&r));
	assert_int_equal(r.length, 472);
	assert_int_equal(r.exchange, 34);
	assert_int_equal(r.flags, 0x20);
	assert_int_equal(r.encr, 12);
	assert_int_equal(r.encr_keylen, 256);
	assert_int_equal(r.prf, 5);
	assert_int_equal(r.integ, 12);
	assert_int_equal(r.dh, 14);
	assert_int_equal(r.group, 14);
	assert_int_equal(r.notify_type, 0);
	/* SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG)
	 * N(CHDLESS_SUP) N(MULT_AUTH), as charon logged it */
	assert_int_equal(r.n_payloads, 9);
	assert_memory_not_equal(r.spi_r, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(ww_ikev2_params_retry(&sent, &r), 0);
}

static void
test_strongswan_notifies(void **state)
{
	struct ww_ikev2_params sent;
	struct ww_ikev2_reply r;
	char err[160];

	(void)state;
	sent_params(&sent, strongswan_invalid_ke_500, false);
	assert_int_equal(parse(strongswan_invalid_ke_500,
			       sizeof(strongswan_invalid_ke_500), &sent, &r,
			       err),
			 0);
	assert_string_equal(r.kind, "notify_invalid_ke");
	assert_int_equal(r.notify_type, 17);
	assert_int_equal(r.group, 14);
	assert_true(ww_ikev2_reply_proves_up(&r));

	sent_params(&sent, strongswan_cookie_500, false);
	assert_int_equal(parse(strongswan_cookie_500,
			       sizeof(strongswan_cookie_500), &sent, &r, err),
			 0);
	assert_string_equal(r.kind, "notify_cookie");
	assert_int_equal(r.notify_type, 16390);
	assert_int_equal(r.cookie_len, 24);
	assert_memory_equal(r.cookie, strongswan_cookie_500 + 36, 24);
	assert_true(ww_ikev2_reply_proves_up(&r));

	sent_params(&sent, strongswan_no_proposal_500, false);
	assert_int_equal(parse(strongswan_no_proposal_500,
			       sizeof(strongswan_no_proposal_500), &sent, &r,
			       err),
			 0);
	assert_string_equal(r.kind, "notify_no_proposal");
	assert_int_equal(r.notify_type, 14);
	assert_true(ww_ikev2_reply_proves_up(&r));

	/* port 4500: the non-ESP marker first */
	sent_params(&sent, strongswan_invalid_ke_4500 + 4, true);
	assert_int_equal(parse(strongswan_invalid_ke_4500,
			       sizeof(strongswan_invalid_ke_4500), &sent, &r,
			       err),
			 0);
	assert_string_equal(r.kind, "notify_invalid_ke");
	assert_true(r.natt);
	assert_int_equal(r.length, 38);
	assert_int_equal(r.group, 14);
	/* without natt the marker reads as an SPI of zeros: not ours */
	sent.natt = false;
	assert_int_equal(parse(strongswan_invalid_ke_4500,
			       sizeof(strongswan_invalid_ke_4500), &sent, &r,
			       err),
			 -1);
	/* with natt, a datagram without the marker is ESP */
	sent_params(&sent, strongswan_invalid_ke_500, true);
	assert_int_equal(parse(strongswan_invalid_ke_500,
			       sizeof(strongswan_invalid_ke_500), &sent, &r,
			       err),
			 -1);
	assert_non_null(strstr(err, "non-ESP marker"));
}

static void
test_not_our_spi(void **state)
{
	struct ww_ikev2_params sent;
	struct ww_ikev2_reply r;
	char err[160];

	(void)state;
	sent_params(&sent, their_spi, false);
	assert_int_equal(parse(strongswan_invalid_ke_500,
			       sizeof(strongswan_invalid_ke_500), &sent, &r,
			       err),
			 0);
	assert_string_equal(r.kind, "notify_invalid_ke");
	assert_false(r.ours);
	assert_false(ww_ikev2_reply_proves_up(&r));
	assert_false(ww_ikev2_reply_proves_up(NULL));
}

/* Every prefix, and one byte more, of every captured reply fails. */
static void
test_truncations(void **state)
{
	static const struct {
		const unsigned char *b;
		size_t n;
		bool natt;
	} v[] = {
		{strongswan_sa_init_response_500,
		 sizeof(strongswan_sa_init_response_500), false},
		{strongswan_invalid_ke_500, sizeof(strongswan_invalid_ke_500),
		 false},
		{strongswan_cookie_500, sizeof(strongswan_cookie_500), false},
		{strongswan_no_proposal_500, sizeof(strongswan_no_proposal_500),
		 false},
		{strongswan_invalid_ke_4500, sizeof(strongswan_invalid_ke_4500),
		 true},
	};
	struct ww_ikev2_params sent;
	struct ww_ikev2_reply r;
	unsigned char more[600];
	char err[160];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		sent_params(&sent, v[i].b + (v[i].natt ? 4 : 0), v[i].natt);
		for (size_t n = 0; n < v[i].n; n++) {
			/* a copy of exactly n bytes: ASan sees an overread */
			unsigned char *c = malloc(n + 1);

			memcpy(c, v[i].b, n);
			assert_int_equal(parse(c, n, &sent, &r, err), -1);
			free(c);
		}
		memcpy(more, v[i].b, v[i].n);
		more[v[i].n] = 0;
		assert_int_equal(parse(more, v[i].n + 1, &sent, &r, err), -1);
		assert_non_null(strstr(err, "bytes after"));
	}
}

static void
test_header_errors(void **state)
{
	struct wire w;

	(void)state;
	sa_init_response(&w);
	expect_error(w.b, 27, "truncated at byte 27");
	w.b[19] = 0x08;
	expect_error(w.b, w.n, "not a response");
	w.b[19] = 0x28;
	expect_error(w.b, w.n, "sent by an initiator");
	w.b[19] = 0x20;
	w.b[17] = 0x30;
	expect_error(w.b, w.n, "IKE version 3.0");
	w.b[17] = 0x20;
	w.b[18] = 35;
	expect_error(w.b, w.n, "exchange type 35");
	w.b[18] = 34;
	w.b[23] = 1;
	expect_error(w.b, w.n, "message id 1");
	w.b[23] = 0;
	w.b[27] = 20;
	w.b[26] = 0;
	expect_error(w.b, w.n, "below the 28-byte header");
	finish(&w);
	w.b[27]++;
	expect_error(w.b, w.n, "truncated: length field");
}

static void
test_built_replies(void **state)
{
	static const unsigned char cookie[65] = {1};
	static const unsigned char group14[2] = {0, 14};
	struct ww_ikev2_params sent;
	struct ww_ikev2_reply r;
	unsigned char sk[40] = {0};
	struct wire w;
	char err[160];

	(void)state;
	sent_params(&sent, our_spi, false);
	sa_init_response(&w);
	assert_int_equal(parse(w.b, w.n, &sent, &r, err), 0);
	assert_string_equal(r.kind, "sa_init_response");
	assert_int_equal(r.dh, 19);
	assert_int_equal(r.group, 19);
	assert_int_equal(r.encr_keylen, 256);
	/* an SA_INIT response must give the responder's SPI */
	sa_init_response(&w);
	memset(w.b + 8, 0, 8);
	expect_error(w.b, w.n, "responder SPI 0");

	/* an error notify other than the two named */
	header(&w, NULL, 41, 34, 0x20, 0);
	notify(&w, 0, 7, NULL, 0);
	finish(&w);
	assert_int_equal(parse(w.b, w.n, &sent, &r, err), 0);
	assert_string_equal(r.kind, "notify_other");
	assert_int_equal(r.notify_type, 7);
	assert_true(ww_ikev2_reply_proves_up(&r));

	/* a status notify alone (REDIRECT, RFC 5685) */
	header(&w, NULL, 41, 34, 0x20, 0);
	notify(&w, 0, 16407, group14, 2);
	finish(&w);
	assert_int_equal(parse(w.b, w.n, &sent, &r, err), 0);
	assert_string_equal(r.kind, "notify_other");
	assert_int_equal(r.notify_type, 16407);

	/* the first error decides; the COOKIE beside it is still kept */
	header(&w, NULL, 41, 34, 0x20, 0);
	notify(&w, 41, 16390, cookie, 8);
	notify(&w, 41, 14, NULL, 0);
	notify(&w, 0, 17, group14, 2);
	finish(&w);
	assert_int_equal(parse(w.b, w.n, &sent, &r, err), 0);
	assert_string_equal(r.kind, "notify_no_proposal");
	assert_int_equal(r.cookie_len, 8);
	assert_int_equal(r.group, 0);

	/* an INFORMATIONAL response: encrypted, then with a plain notify */
	header(&w, their_spi, 46, 37, 0x20, 5);
	payload(&w, 41, sk, sizeof(sk));
	finish(&w);
	assert_int_equal(parse(w.b, w.n, &sent, &r, err), 0);
	assert_string_equal(r.kind, "informational");
	assert_int_equal(r.msg_id, 5);
	assert_int_equal(r.notify_type, 0);
	assert_true(ww_ikev2_reply_proves_up(&r));
	header(&w, NULL, 41, 37, 0x20, 0);
	notify(&w, 0, 11, NULL, 0);
	finish(&w);
	assert_int_equal(parse(w.b, w.n, &sent, &r, err), 0);
	assert_string_equal(r.kind, "informational");
	assert_int_equal(r.notify_type, 11);

	/* an IKEv1 responder's INFORMATIONAL (exchange 5, flags 0): only
	 * its header is read, lengths still checked */
	header(&w, NULL, 11, 5, 0, 0);
	w.b[17] = 0x10;
	notify(&w, 0, 5, sk, 4); /* v1 notification, INVALID-MAJOR-VERSION */
	finish(&w);
	assert_int_equal(parse(w.b, w.n, &sent, &r, err), 0);
	assert_string_equal(r.kind, "ikev1");
	assert_true(ww_ikev2_reply_proves_up(&r));
	assert_int_equal(r.n_payloads, 0);
	expect_error(w.b, w.n - 1, "truncated: length field");

	/* neither SA/KE/Nonce nor a notify */
	header(&w, their_spi, 43, 34, 0x20, 0);
	payload(&w, 0, "vendor", 6);
	finish(&w);
	expect_error(w.b, w.n, "neither SA, KE and Nonce nor a notify");
	header(&w, their_spi, 0, 34, 0x20, 0);
	finish(&w);
	expect_error(w.b, w.n, "neither");
}

static void
test_payload_errors(void **state)
{
	static const unsigned char big[300] = {0};
	unsigned char sa[64];
	size_t sal;
	struct wire w;

	(void)state;
	/* generic header: too short, past the end, bytes after the chain */
	header(&w, NULL, 41, 34, 0x20, 0);
	put8(&w, 0);
	put8(&w, 0);
	put16(&w, 3);
	finish(&w);
	expect_error(w.b, w.n, "length 3 outside 4..4");
	header(&w, NULL, 41, 34, 0x20, 0);
	notify(&w, 0, 14, NULL, 0);
	w.b[31] = 9;
	finish(&w);
	expect_error(w.b, w.n, "length 9 outside 4..8");
	header(&w, NULL, 41, 34, 0x20, 0);
	notify(&w, 0, 14, NULL, 0);
	put8(&w, 0);
	finish(&w);
	expect_error(w.b, w.n, "1 bytes after the last payload");
	header(&w, NULL, 41, 34, 0x20, 0);
	notify(&w, 41, 14, NULL, 0);
	finish(&w);
	expect_error(w.b, w.n, "truncated at byte 36: header of payload 41");

	/* notify bodies */
	header(&w, NULL, 41, 34, 0x20, 0);
	payload(&w, 0, "\0\0\0", 3);
	finish(&w);
	expect_error(w.b, w.n, "notify at byte 32: 3 bytes, needs 4");
	header(&w, NULL, 41, 34, 0x20, 0);
	notify(&w, 0, 14, NULL, 0);
	w.b[33] = 1; /* SPI size 1, no room */
	finish(&w);
	expect_error(w.b, w.n, "SPI size 1 past its end");
	header(&w, NULL, 41, 34, 0x20, 0);
	notify(&w, 0, 17, "\x0e", 1);
	finish(&w);
	expect_error(w.b, w.n, "INVALID_KE_PAYLOAD at byte 32: 1 data bytes");
	header(&w, NULL, 41, 34, 0x20, 0);
	notify(&w, 0, 17, "\0\x0e\0", 3);
	finish(&w);
	expect_error(w.b, w.n, "3 data bytes, needs 2");
	header(&w, NULL, 41, 34, 0x20, 0);
	notify(&w, 0, 16390, NULL, 0);
	finish(&w);
	expect_error(w.b, w.n, "COOKIE at byte 32: 0 bytes");
	header(&w, NULL, 41, 34, 0x20, 0);
	notify(&w, 0, 16390, big, 65);
	finish(&w);
	expect_error(w.b, w.n, "65 bytes, not 1..64");

	/* KE, Nonce, SA */
	header(&w, their_spi, 34, 34, 0x20, 0);
	payload(&w, 0, "\0\x13\0\0", 4);
	finish(&w);
	expect_error(w.b, w.n, "KE at byte 28: 4 bytes, needs 5");
	header(&w, their_spi, 40, 34, 0x20, 0);
	payload(&w, 0, big, 15);
	finish(&w);
	expect_error(w.b, w.n, "Nonce at byte 28: 15 bytes");
	header(&w, their_spi, 40, 34, 0x20, 0);
	payload(&w, 0, big, 257);
	finish(&w);
	expect_error(w.b, w.n, "257 bytes, not 16..256");
	sal = sa_body(sa);
	header(&w, their_spi, 33, 34, 0x20, 0);
	payload(&w, 33, sa, sal);
	payload(&w, 0, sa, sal);
	finish(&w);
	expect_error(w.b, w.n, "second SA payload");
	sa[0] = 2; /* "more proposals follow" */
	header(&w, their_spi, 33, 34, 0x20, 0);
	payload(&w, 0, sa, sal);
	finish(&w);
	expect_error(w.b, w.n, "more than one proposal");
	sal = sa_body(sa);
	sa[7] = 5; /* 5 transforms stated, 4 carried */
	header(&w, their_spi, 33, 34, 0x20, 0);
	payload(&w, 0, sa, sal);
	finish(&w);
	expect_error(w.b, w.n, "states 5 transforms, carries 4");
	sal = sa_body(sa);
	sa[11] = 7; /* first transform's length 7 */
	header(&w, their_spi, 33, 34, 0x20, 0);
	payload(&w, 0, sa, sal);
	finish(&w);
	expect_error(w.b, w.n, "length 7 outside");
	sal = sa_body(sa);
	sa[16] = 0x00; /* key length as TLV of length 256: past the end */
	header(&w, their_spi, 33, 34, 0x20, 0);
	payload(&w, 0, sa, sal);
	finish(&w);
	expect_error(w.b, w.n, "length 256 past its transform");
	sal = sa_body(sa);
	sa[8] = 0; /* first transform claims to be the last */
	header(&w, their_spi, 33, 34, 0x20, 0);
	payload(&w, 0, sa, sal);
	finish(&w);
	expect_error(w.b, w.n, "last flag and proposal length disagree");
	sal = sa_body(sa);
	sa[3] = 40; /* proposal shorter than the SA */
	header(&w, their_spi, 33, 34, 0x20, 0);
	payload(&w, 0, sa, sal);
	finish(&w);
	expect_error(w.b, w.n, "proposal at byte 32: length 40, SA holds 44");

	/* the chain is capped */
	header(&w, NULL, 43, 34, 0x20, 0);
	for (int i = 0; i < WW_IKEV2_MAX_PAYLOADS + 1; i++)
		payload(&w, i == WW_IKEV2_MAX_PAYLOADS ? 0 : 43, NULL, 0);
	finish(&w);
	expect_error(w.b, w.n, "more than 64 payloads");
}

static void
test_retry(void **state)
{
	struct ww_ikev2_params p;
	struct ww_ikev2_reply r;
	unsigned char out[2048];
	struct view v;
	ssize_t n;

	(void)state;
	sent_params(&p, our_spi, false);
	memset(&r, 0, sizeof(r));
	r.kind = "notify_cookie";
	r.cookie_len = 24;
	memset(r.cookie, 0x5a, 24);
	assert_int_equal(ww_ikev2_params_retry(&p, &r), 1);
	assert_int_equal(p.cookie_len, 24);
	assert_memory_equal(p.cookie, r.cookie, 24);

	r.kind = "notify_invalid_ke";
	r.group = 14;
	assert_int_equal(ww_ikev2_params_retry(&p, &r), 1);
	assert_int_equal(p.ke_group, 14);
	assert_int_equal(p.ke_len, 256);
	n = ww_ikev2_build_sa_init(&p, out, sizeof(out));
	walk(out, (size_t)n, &p, &v);
	assert_int_equal(v.type[0], 41); /* the cookie is kept */
	assert_int_equal(get16(out + v.off[2]), 14);
	assert_int_equal(v.len[2], 4 + 256);
	/* asked again for the group we sent, or one we never offered */
	assert_int_equal(ww_ikev2_params_retry(&p, &r), -1);
	r.group = 20;
	assert_int_equal(ww_ikev2_params_retry(&p, &r), -1);

	r.kind = "notify_no_proposal";
	assert_int_equal(ww_ikev2_params_retry(&p, &r), 0);
	r.kind = NULL;
	assert_int_equal(ww_ikev2_params_retry(&p, &r), 0);
	assert_int_equal(ww_ikev2_params_retry(&p, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_layout),
		cmocka_unit_test(test_request_nat_hashes),
		cmocka_unit_test(test_request_natt_and_cookie),
		cmocka_unit_test(test_request_short_buffer),
		cmocka_unit_test(test_request_bad_params),
		cmocka_unit_test(test_make_ke),
		cmocka_unit_test(test_params_random),
		cmocka_unit_test(test_set_addrs),
		cmocka_unit_test(test_strongswan_sa_init_response),
		cmocka_unit_test(test_strongswan_notifies),
		cmocka_unit_test(test_not_our_spi),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_built_replies),
		cmocka_unit_test(test_payload_errors),
		cmocka_unit_test(test_retry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
