/*
 * ipaddr.c - bogon ranges (IANA special-purpose registries, RFC 6890 and
 * its updates), as prefix tables: one place to change when IANA does.
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

bool
ww_ip_is_bogon(const char *ip)
{
	unsigned char a[16];
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,	   0,
						 0, 0, 0, 0, 0xff, 0xff};

	if (ip == NULL)
		return false;
	if (inet_pton(AF_INET, ip, a) == 1)
		return v4_bogon(a);
	if (inet_pton(AF_INET6, ip, a) != 1)
		return false;
	if (memcmp(a, mapped, sizeof(mapped)) == 0)
		return v4_bogon(a + 12);
	for (size_t i = 0; i < sizeof(v6_bogons) / sizeof(v6_bogons[0]); i++)
		if (in_prefix(a, &v6_bogons[i]))
			return true;
	return false;
}

bool
ww_ip_is_literal(const char *s)
{
	unsigned char a[16];

	return s != NULL && (inet_pton(AF_INET, s, a) == 1 ||
			     inet_pton(AF_INET6, s, a) == 1);
}
