/*
 * ipaddr.c - bogon ranges (IANA special-purpose registries, RFC 6890 and
 * its updates), as prefix tables: one place to change when IANA does; and
 * the IPv4 addresses that IPv6 forms carry, each judged as an IPv4
 * address (docs/control-protocol.md, "Private and reserved addresses").
 */
#include "ipaddr.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

struct prefix {
	unsigned char addr[16];
	unsigned bits;
};

static const struct prefix v4_bogons[] = {
	{{0, 0, 0, 0}, 8},	 /* "this network" */
	{{10, 0, 0, 0}, 8},	 /* RFC 1918 */
	{{100, 64, 0, 0}, 10},	 /* CGNAT, RFC 6598 */
	{{127, 0, 0, 0}, 8},	 /* loopback */
	{{169, 254, 0, 0}, 16},	 /* link-local */
	{{172, 16, 0, 0}, 12},	 /* RFC 1918 */
	{{192, 0, 0, 0}, 24},	 /* IETF protocol assignments */
	{{192, 0, 2, 0}, 24},	 /* TEST-NET-1 */
	{{192, 88, 99, 0}, 24},	 /* deprecated 6to4 relay anycast */
	{{192, 168, 0, 0}, 16},	 /* RFC 1918 */
	{{198, 18, 0, 0}, 15},	 /* benchmarking */
	{{198, 51, 100, 0}, 24}, /* TEST-NET-2 */
	{{203, 0, 113, 0}, 24},	 /* TEST-NET-3 */
	{{224, 0, 0, 0}, 4},	 /* multicast */
	{{240, 0, 0, 0}, 4},	 /* reserved, and broadcast */
};

static const struct prefix v6_bogons[] = {
	{{0}, 128}, /* unspecified */
	{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128}, /* ::1 */
	{{0x01, 0x00}, 64},		/* discard-only */
	{{0x20, 0x01, 0x0d, 0xb8}, 32}, /* documentation */
	{{0x3f, 0xff}, 20},		/* documentation, 2024 */
	{{0xfc}, 7},			/* unique local */
	{{0xfe, 0x80}, 10},		/* link-local */
	{{0xfe, 0xc0}, 10},		/* site-local, deprecated */
	{{0xff}, 8},			/* multicast */
};

static bool
in_prefix(const unsigned char *a, const struct prefix *p)
{
	unsigned full = p->bits / 8, rest = p->bits % 8;

	if (memcmp(a, p->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ p->addr[full]) & (0xff << (8 - rest))) == 0;
}

static bool
v4_bogon(const unsigned char a[4])
{
	for (size_t i = 0; i < sizeof(v4_bogons) / sizeof(v4_bogons[0]); i++)
		if (in_prefix(a, &v4_bogons[i]))
			return true;
	return false;
}

/* An IPv4 address read from a[off..off+3], each byte XORed with x. */
static void
v4_at(const unsigned char *a, size_t off, unsigned char x, unsigned char *out)
{
	for (int i = 0; i < 4; i++)
		out[i] = (unsigned char)(a[off + (size_t)i] ^ x);
}

size_t
ww_ip6_embedded_v4(const unsigned char a[16], unsigned char v4[][4], size_t max)
{
	static const unsigned char zero[12];
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,	   0,
						 0, 0, 0, 0, 0xff, 0xff};
	/* ::ffff:0:a.b.c.d, SIIT's "IPv4-translated" (RFC 2765 2.1) */
	static const unsigned char translated[12] = {0, 0, 0,	 0,    0, 0,
						     0, 0, 0xff, 0xff, 0, 0};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
	size_t n = 0;

	if (max == 0)
		return 0;
	/* IPv4-mapped (RFC 4291 2.5.5.2), IPv4-compatible (2.5.5.1,
	 * deprecated but still routed by some stacks: ::127.0.0.1),
	 * SIIT, and the NAT64 well-known prefix 64:ff9b::/96 (RFC 6052
	 * 2.1): the IPv4 address is the last 32 bits. */
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, zero, 12) == 0 ||
	    memcmp(a, translated, 12) == 0 || memcmp(a, nat64, 12) == 0) {
		v4_at(a, 12, 0, v4[n++]);
		return n;
	}
	/* The local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215), read as a
	 * /48 of RFC 6052 2.2: bits 48..63 and 72..87 (bits 64..71 are the
	 * "u" octet). Only a reading: the control refuses the whole prefix
	 * (ww_ip_is_refused), the analysis does not judge it by it. */
	if (a[0] == 0 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b &&
	    a[4] == 0 && a[5] == 1) {
		v4[n][0] = a[6];
		v4[n][1] = a[7];
		v4[n][2] = a[9];
		v4[n][3] = a[10];
		return n + 1;
	}
	/* 6to4 2002::/16 (RFC 3056 2): the IPv4 address in bits 16..47. */
	if (a[0] == 0x20 && a[1] == 0x02) {
		v4_at(a, 2, 0, v4[n++]);
		return n;
	}
	/* Teredo 2001::/32 (RFC 4380 4): the server in bits 32..63, the
	 * client's mapped address in the last 32 bits, each bit inverted.
	 * Either may be where the packets go. */
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0) {
		v4_at(a, 12, 0xff, v4[n++]);
		if (n < max)
			v4_at(a, 4, 0, v4[n++]);
		return n;
	}
	/* ISATAP interface identifiers (RFC 5214 6.1), under any prefix:
	 * ::0:5efe:a.b.c.d and ::200:5efe:a.b.c.d. */
	if ((a[8] == 0 || a[8] == 2) && a[9] == 0 && a[10] == 0x5e &&
	    a[11] == 0xfe) {
		v4_at(a, 12, 0, v4[n++]);
		return n;
	}
	return 0;
}

static const struct prefix local_nat64 = {{0, 0x64, 0xff, 0x9b, 0, 1}, 48};

/* a (16 bytes) is an IPv6 bogon, by its own ranges or by an IPv4 address
 * it embeds. Not 64:ff9b:1::/48 by its IPv4 address: where that sits is
 * the local network's choice, and a probe behind a local DNS64 gets such
 * answers for public names (the control refuses the prefix whole). */
static bool
v6_bogon(const unsigned char a[16])
{
	unsigned char v4[2][4];
	size_t n;

	for (size_t i = 0; i < sizeof(v6_bogons) / sizeof(v6_bogons[0]); i++)
		if (in_prefix(a, &v6_bogons[i]))
			return true;
	if (in_prefix(a, &local_nat64))
		return false;
	n = ww_ip6_embedded_v4(a, v4, 2);
	for (size_t i = 0; i < n; i++)
		if (v4_bogon(v4[i]))
			return true;
	return false;
}

bool
ww_ip_is_bogon(const char *ip)
{
	unsigned char a[16];

	if (ip == NULL)
		return false;
	if (inet_pton(AF_INET, ip, a) == 1)
		return v4_bogon(a);
	if (inet_pton(AF_INET6, ip, a) != 1)
		return false;
	return v6_bogon(a);
}

bool
ww_ip_is_refused(const char *ip)
{
	unsigned char a[16];

	if (ip == NULL || ww_ip_is_bogon(ip))
		return true;
	if (inet_pton(AF_INET, ip, a) == 1)
		return false;
	if (inet_pton(AF_INET6, ip, a) != 1)
		return true; /* not an address: nothing to connect to */
	return in_prefix(a, &local_nat64);
}

bool
ww_ip_is_literal(const char *s)
{
	unsigned char a[16];

	return s != NULL && (inet_pton(AF_INET, s, a) == 1 ||
			     inet_pton(AF_INET6, s, a) == 1);
}
