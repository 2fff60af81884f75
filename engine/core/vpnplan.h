/*
 * vpnplan.h - what a VPN or QUIC endpoint's exchanges are, at one address:
 * the protocol's handshake and the neutral payloads that stand beside it,
 * as protocol drivers (xdriver.h) in the order they must run (xbatch.c).
 */
#ifndef WW_VPNPLAN_H
#define WW_VPNPLAN_H

#include <stddef.h>

#include "target.h"
#include "xdriver.h"

struct ww_vpn_conf {
	const char *control_sni; /* QUIC's neutral SNI (not owned) */
	char *openvpn_key;	 /* a static key file for every openvpn://
				    target with a wrap= but no key= */
	char *wireguard_key;	 /* our private key file for wireguard://
				    targets with no key= */
};

/*
 * The port of the closed-port probes (vpnplan.c): traceroute's first UDP
 * port, which hosts keep unused so that a datagram there draws an ICMP
 * port unreachable (RFC 1393's tool, and every traceroute since). The
 * target's own port never: then the next one.
 */
#define WW_VPN_CLOSED_PORT 33434
int ww_vpn_closed_port(int target_port);

/*
 * Fill d[0..max) with the drivers for target t at ip, in the order they
 * must run; returns how many (at most 6; max must be 6 or more). Every
 * plan has at least one driver. A
 * driver that cannot be made (a key file that does not read) is one whose
 * error says why (xdriver.h), so the record shows it.
 */
size_t ww_vpn_plan(const struct ww_target *t, const struct ww_vpn_conf *c,
		   const char *ip, struct ww_xdriver **d, size_t max);

/*
 * Do c's key files read and parse (--openvpn-key: an OpenVPN static key;
 * --wireguard-key: a WireGuard private key)? Returns 0, or -1 with err
 * naming the option, the file and the problem.
 */
int ww_vpn_conf_check(const struct ww_vpn_conf *c, char *err, size_t errlen);

#endif
