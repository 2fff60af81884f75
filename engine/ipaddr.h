/*
 * ipaddr.h - address classification shared by the control service (which
 * refuses to connect to private targets) and the verdict analysis (which
 * treats a private answer for a public name as DNS tampering).
 */
#ifndef WW_IPADDR_H
#define WW_IPADDR_H

#include <stdbool.h>

/*
 * True when ip (IPv4 or IPv6 text) is a bogon: an address that is never
 * a public server's: private (RFC 1918, ULA), loopback, link-local,
 * CGNAT, unspecified, multicast, reserved, or documentation ranges. An
 * IPv4-mapped IPv6 address is judged by its IPv4 part. False for text that
 * is not an address.
 */
bool ww_ip_is_bogon(const char *ip);

/* True when s is an IPv4 or IPv6 address literal (no brackets). */
bool ww_ip_is_literal(const char *s);

#endif
