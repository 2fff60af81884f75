/*
 * xdrivers.h - the protocol drivers (xdriver.h) of the VPN and QUIC
 * endpoints, one file each (xd_openvpn.c, xd_ikev2.c, xd_wireguard.c,
 * xd_quic.c) over the packet builders and parsers of openvpn.c, ikev2.c,
 * wireguard.c and quic.c. vpnplan.c puts them in order.
 */
#ifndef WW_XDRIVERS_H
#define WW_XDRIVERS_H

#include <stdbool.h>

#include "target.h"
#include "xdriver.h"

/*
 * The OpenVPN handshake for t (its transport and wrap). key_file: the
 * static key for t's wrap; without one a wrapped server is sent the plain
 * reset anyway (payload "no_key": its silence is no evidence). A key that
 * does not read gives a failed driver (xdriver.h).
 */
struct ww_xdriver *ww_xd_openvpn(const struct ww_target *t,
				 const char *key_file);

/* IKE_SA_INIT to t's port (4500: with the non-ESP marker). */
struct ww_xdriver *ww_xd_ikev2(const struct ww_target *t);

/* A WireGuard initiation to t's pubkey; key_file: our registered private
 * key (payload "handshake"), NULL for a random one ("unregistered"). */
struct ww_xdriver *ww_xd_wireguard(const struct ww_target *t,
				   const char *key_file);

/* A QUIC v1 Initial with a ClientHello for sni ("" sends none), recorded
 * as payload; or (ping) the version-negotiation ping, no SNI. */
struct ww_xdriver *ww_xd_quic(const char *sni, const char *payload, bool ping);

#endif
