/*
 * ipaddr.h - address classification shared by the control service (which
 * refuses to connect to private targets) and the verdict analysis (which
 * treats a private answer for a public name as DNS tampering).
 */
#ifndef WW_IPADDR_H
#define WW_IPADDR_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when ip (IPv4 or IPv6 text) is a bogon: an address that is never
 * a public server's: private (RFC 1918, ULA), loopback, link-local,
 * CGNAT, unspecified, multicast, reserved, or documentation ranges. An
 * IPv6 address that embeds an IPv4 address (ww_ip6_embedded_v4) is a
 * bogon when that IPv4 address is, except under 64:ff9b:1::/48, whose
 * layout is local (see ww_ip_is_refused). False for text that is not an
 * address.
 */
bool ww_ip_is_bogon(const char *ip);

/*
 * True when the control service must not connect to ip: a bogon, text
 * that is not an address, or an address of the local-use NAT64 prefix
 * 64:ff9b:1::/48 (RFC 8215), whose layout only the local network knows.
 */
bool ww_ip_is_refused(const char *ip);

/*
 * The IPv4 addresses the IPv6 address a (16 bytes, network order) carries,
 * at most max of them into v4: IPv4-mapped ::ffff:0:0/96, IPv4-compatible
 * ::/96, SIIT ::ffff:0:0:0/96, NAT64 64:ff9b::/96 (RFC 6052) and
 * 64:ff9b:1::/48 (RFC 8215, read as an RFC 6052 /48), 6to4 2002::/16,
 * Teredo 2001::/32 (the client, de-obfuscated, then the server) and ISATAP
 * interface identifiers (::0:5efe:a.b.c.d, ::200:5efe:a.b.c.d). Returns
 * how many (0: none).
 */
size_t ww_ip6_embedded_v4(const unsigned char a[16], unsigned char v4[][4],
			  size_t max);

/* True when s is an IPv4 or IPv6 address literal (no brackets). */
bool ww_ip_is_literal(const char *s);

#endif
