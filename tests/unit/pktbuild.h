/*
 * pktbuild.h - build captured frames byte by byte for test_packet.c and
 * test_pcapng.c: a link header, an IPv4 or IPv6 header (lengths patched
 * at the end), TCP or UDP, payload; with the checksums right, computed
 * here from scratch (RFC 1071) so that the tests can verify a rewrite.
 * Static inline functions only (a test need not use them all).
 */
#ifndef WW_TEST_PKTBUILD_H
#define WW_TEST_PKTBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "packet.h"

struct frame {
	uint8_t b[2048];
	size_t n;
	size_t ip_off; /* where the IP header starts */
	size_t l4_off; /* where TCP/UDP starts (0: none yet) */
	int version;
};

static inline void
fb_put8(struct frame *f, unsigned v)
{
	assert_true(f->n < sizeof(f->b));
	f->b[f->n++] = (uint8_t)v;
}

static inline void
fb_put16(struct frame *f, unsigned v)
{
	fb_put8(f, (v >> 8) & 0xff);
	fb_put8(f, v & 0xff);
}

static inline void
fb_put32(struct frame *f, uint32_t v)
{
	fb_put16(f, v >> 16);
	fb_put16(f, v & 0xffff);
}

static inline void
fb_put(struct frame *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static inline void
fb_set16(struct frame *f, size_t at, unsigned v)
{
	f->b[at] = (uint8_t)(v >> 8);
	f->b[at + 1] = (uint8_t)v;
}

static inline uint16_t
fb_get16(const struct frame *f, size_t at)
{
	return (uint16_t)(f->b[at] << 8 | f->b[at + 1]);
}

/* --- link headers -------------------------------------------------------- */

static inline void
fb_eth(struct frame *f, int tags, unsigned etype)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};

	fb_put(f, macs, sizeof(macs));
	for (int i = 0; i < tags; i++) {
		fb_put16(f, i == 0 && tags == 2 ? 0x88a8 : 0x8100);
		fb_put16(f, 100 + i); /* TCI: VLAN id */
	}
	fb_put16(f, etype);
}

static inline void
fb_sll(struct frame *f, unsigned pkttype, unsigned proto)
{
	fb_put16(f, pkttype);
	fb_put16(f, 1); /* ARPHRD_ETHER */
	fb_put16(f, 6); /* address length */
	fb_put32(f, 0x02000000);
	fb_put32(f, 0x00010000); /* address, padded to 8 */
	fb_put16(f, proto);
}

static inline void
fb_sll2(struct frame *f, unsigned pkttype, unsigned proto)
{
	fb_put16(f, proto);
	fb_put16(f, 0); /* reserved */
	fb_put32(f, 2); /* ifindex */
	fb_put16(f, 1); /* ARPHRD_ETHER */
	fb_put8(f, pkttype);
	fb_put8(f, 6);
	fb_put32(f, 0x02000000);
	fb_put32(f, 0x00010000);
}

static inline void
fb_null(struct frame *f, uint32_t family)
{
	fb_put(f, &family, sizeof(family)); /* host order */
}

/* --- IP ------------------------------------------------------------------ */

static inline void
fb_ip4(struct frame *f, unsigned proto, const uint8_t src[4],
       const uint8_t dst[4], unsigned ttl, unsigned id, unsigned fragw)
{
	f->ip_off = f->n;
	f->version = 4;
	fb_put8(f, 0x45);
	fb_put8(f, 0);
	fb_put16(f, 0); /* total length: fb_finish */
	fb_put16(f, id);
	fb_put16(f, fragw);
	fb_put8(f, ttl);
	fb_put8(f, proto);
	fb_put16(f, 0); /* checksum: fb_finish */
	fb_put(f, src, 4);
	fb_put(f, dst, 4);
}

static inline void
fb_ip6(struct frame *f, unsigned nh, const uint8_t src[16],
       const uint8_t dst[16], unsigned hlim)
{
	f->ip_off = f->n;
	f->version = 6;
	fb_put32(f, 0x60000000);
	fb_put16(f, 0); /* payload length: fb_finish */
	fb_put8(f, nh);
	fb_put8(f, hlim);
	fb_put(f, src, 16);
	fb_put(f, dst, 16);
}

/* An IPv6 extension header of (len8 + 1) * 8 bytes, zero-filled. */
static inline void
fb_ip6_ext(struct frame *f, unsigned nh, unsigned len8)
{
	fb_put8(f, nh);
	fb_put8(f, len8);
	for (unsigned i = 2; i < (len8 + 1) * 8; i++)
		fb_put8(f, i == 2 ? 1 : 0); /* a PadN-ish byte, then zeros */
}

static inline void
fb_ip6_frag(struct frame *f, unsigned nh, unsigned off8, bool more, uint32_t id)
{
	fb_put8(f, nh);
	fb_put8(f, 0);
	fb_put16(f, off8 << 3 | (more ? 1 : 0));
	fb_put32(f, id);
}

/* --- TCP, UDP ------------------------------------------------------------ */

/* opts: raw option bytes, padded here with EOL to a multiple of 4. */
static inline void
fb_tcp(struct frame *f, unsigned sport, unsigned dport, uint32_t seq,
       uint32_t ack, unsigned flags, unsigned win, const uint8_t *opts,
       size_t optlen)
{
	size_t padded = (optlen + 3) / 4 * 4;

	f->l4_off = f->n;
	fb_put16(f, sport);
	fb_put16(f, dport);
	fb_put32(f, seq);
	fb_put32(f, ack);
	fb_put8(f, (unsigned)((20 + padded) / 4) << 4);
	fb_put8(f, flags);
	fb_put16(f, win);
	fb_put16(f, 0); /* checksum */
	fb_put16(f, 0); /* urgent pointer */
	if (optlen > 0)
		fb_put(f, opts, optlen);
	for (size_t i = optlen; i < padded; i++)
		fb_put8(f, 0);
}

static inline void
fb_udp(struct frame *f, unsigned sport, unsigned dport)
{
	f->l4_off = f->n;
	fb_put16(f, sport);
	fb_put16(f, dport);
	fb_put16(f, 0); /* length: fb_finish */
	fb_put16(f, 0); /* checksum */
}

/* --- checksums (RFC 1071), from scratch --------------------------------- */

static inline uint32_t
fb_sum(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n % 2 == 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

static inline uint16_t
fb_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/* The IPv4 header checksum of f as it is (the field included: 0 when
 * right). */
static inline uint16_t
fb_ip4_check(const struct frame *f)
{
	size_t hlen = (size_t)(f->b[f->ip_off] & 0x0f) * 4;

	return fb_fold(fb_sum(f->b + f->ip_off, hlen, 0));
}

/* The transport checksum over the pseudo-header and f[l4_off..n) (the
 * checksum field included: 0 when right). */
static inline uint16_t
fb_l4_check(const struct frame *f, unsigned proto)
{
	size_t l4len = f->n - f->l4_off;
	uint32_t acc = 0;

	if (f->version == 4)
		acc = fb_sum(f->b + f->ip_off + 12, 8, 0);
	else
		acc = fb_sum(f->b + f->ip_off + 8, 32, 0);
	acc += proto;
	acc += (uint32_t)l4len;
	return fb_fold(fb_sum(f->b + f->l4_off, l4len, acc));
}

/* Lengths and checksums, after the payload has been put. */
static inline void
fb_finish(struct frame *f, unsigned proto)
{
	size_t iplen = f->n - f->ip_off;

	if (f->version == 4)
		fb_set16(f, f->ip_off + 2, (unsigned)iplen);
	else
		fb_set16(f, f->ip_off + 4, (unsigned)(iplen - 40));
	if (f->l4_off != 0 && proto == 17)
		fb_set16(f, f->l4_off + 4, (unsigned)(f->n - f->l4_off));
	if (f->l4_off != 0) {
		size_t at = f->l4_off + (proto == 6 ? 16 : 6);
		uint16_t c;

		fb_set16(f, at, 0);
		c = fb_l4_check(f, proto);
		if (proto == 17 && c == 0)
			c = 0xffff; /* RFC 768: 0 means none */
		fb_set16(f, at, c);
	}
	if (f->version == 4) {
		fb_set16(f, f->ip_off + 10, 0);
		fb_set16(f, f->ip_off + 10, fb_ip4_check(f));
	}
}

static const uint8_t fb_a4[4] = {10, 1, 2, 3};
static const uint8_t fb_b4[4] = {198, 51, 100, 7};
static const uint8_t fb_a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0xaa, 0, 0, 0,
				  0,	0,    0,    0,	  0,	0, 0, 0x10};
static const uint8_t fb_b6[16] = {0x26, 0x06, 0x47, 0, 0, 0, 0,	   0,
				  0,	0,    0,    0, 0, 0, 0x68, 0x12};

#endif
