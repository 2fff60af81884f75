/*
 * vpnplan.c - the exchanges of a VPN or QUIC endpoint at one address, in
 * the order they run (vpnplan.h, xbatch.c).
 *
 * Beside the protocol's handshake go neutral payloads of the same size to
 * the same address and port: mostly-ASCII bytes, which the GFW's
 * fully-encrypted-traffic rule exempts (Wu et al., USENIX Security 2023),
 * before the handshake; random bytes, which that rule would block, after
 * it. Before: nothing of ours has touched the triple yet, so the ASCII
 * exchange says whether the address and port are reachable at all. After:
 * a residual block that the handshake or the random bytes trip (minutes on
 * the triple) cannot taint what went first. Over UDP few servers answer
 * bytes that are not their protocol, so a silent neutral exchange is no
 * evidence there (the analysis knows); over TCP the connect is.
 *
 * QUIC: the version-negotiation ping (no SNI; any QUIC server answers)
 * first, then the Initial with the neutral SNI, then the target's: the
 * GFW blocks QUIC by the SNI in the Initial and keeps the triple blocked
 * ~2 minutes (GFW Report, USENIX Security 2025), so the target's goes last.
 *
 * Over UDP, since the port's silence proves nothing, the address is asked
 * at a closed port (WW_VPN_CLOSED_PORT): first, before anything of ours
 * touched the address, a neutral datagram ("closed_udp": a host answers
 * it with ICMP port unreachable) and a TCP connect ("closed_tcp": a RST or
 * a connect), so that the probe and the control each learn whether the
 * address answers at all; last, the handshake's own first packet there
 * ("closed_handshake"): where the neutral datagram drew an ICMP error and
 * this one draws none, the censor dropped the protocol's bytes by what
 * they are, not by where they go (analysis_vpn.c, docs/verdicts.md V11,
 * V12, V13). Last, because it may trip a censor's residual block.
 */
#include "vpnplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "neutral.h"
#include "openvpn.h"
#include "util.h"
#include "wireguard.h"
#include "xdrivers.h"

/*
 * Would this neutral payload be the protocol's own opening by chance? An
 * OpenVPN 2.6 server answers a datagram whose first byte is a client
 * reset's (opcode 7 or 10: '8'..'?' and 'P'..'W' are printable, so a
 * mostly-ASCII payload starts so one time in fifty) with its own reset,
 * as if to a client (seen in the censor lab); a WireGuard message starts
 * with a type 1..4 and three zero bytes; an IKE header names an exchange
 * type at byte 18.
 */
/*
 * An IKE exchange type, IKEv1's (0-6, 32-33) or IKEv2's (34-45): strongSwan
 * 5.9.8's charon answers a datagram whose header names one, whatever its
 * version, with INVALID_MAJOR_VERSION (of 1,500 random 298-byte datagrams,
 * the 19 it answered had exchange type 5, 34 or 37; the censor lab's
 * control once got such an answer to its random payload and its address
 * verdict changed with it).
 */
static bool
ike_exchange(unsigned char t)
{
	return t <= 6 || (t >= 32 && t <= 45);
}

static bool
mimics(const char *protocol, bool udp, const unsigned char *b, size_t n)
{
	size_t at = udp ? 0 : 2; /* OpenVPN over TCP: after the length */

	if (strcmp(protocol, "openvpn") == 0 && n > at) {
		unsigned op = b[at] >> 3;

		return op == WW_OPENVPN_HARD_RESET_CLIENT_V2 ||
		       op == WW_OPENVPN_HARD_RESET_CLIENT_V3;
	}
	if (strcmp(protocol, "wireguard") == 0 && n >= 4)
		return b[0] >= 1 && b[0] <= 4 && b[1] == 0 && b[2] == 0 &&
		       b[3] == 0;
	if (strcmp(protocol, "ikev2") == 0) {
		/* after a non-ESP marker (port 4500), the IKE header */
		size_t x = n >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 &&
					   b[3] == 0
				   ? 22
				   : 18;

		return n > x && ike_exchange(b[x]);
	}
	return false;
}

/* Draws of a neutral payload before giving up on one that mimics none. */
#define NEUTRAL_DRAWS 16

/* A neutral payload of len bytes, kind k, beside protocol. */
static struct ww_xdriver *
neutral(const char *protocol, bool udp, enum ww_neutral_kind k, size_t len)
{
	struct ww_neutral_params np;
	unsigned char buf[WW_XDRIVER_MAX_PACKET];
	ssize_t n = -1;

	for (int i = 0; i < NEUTRAL_DRAWS; i++) {
		if (len == 0 || len > sizeof(buf) ||
		    ww_neutral_params_random(&np, k, len) != 0)
			break;
		n = ww_neutral_build(&np, buf, sizeof(buf));
		if (n <= 0 || !mimics(protocol, udp, buf, (size_t)n))
			break;
	}
	if (n <= 0)
		return ww_xdriver_failed(protocol, ww_neutral_kind_name(k), udp,
					 "no neutral payload of that size");
	return ww_xdriver_neutral(protocol, ww_neutral_kind_name(k), udp, buf,
				  (size_t)n);
}

/* The size of the handshake's first packet (0: none). */
static size_t
first_size(struct ww_xdriver *hs)
{
	unsigned char buf[WW_XDRIVER_MAX_PACKET];
	ssize_t n = ww_xdriver_first(hs, buf, sizeof(buf));

	return n > 0 ? (size_t)n : 0;
}

/* A neutral payload of kind k (len bytes) to the closed port, over UDP
 * or TCP, recorded as payload (static). */
static struct ww_xdriver *
closed(const struct ww_target *t, const char *protocol, bool udp,
       const char *payload, size_t len)
{
	struct ww_xdriver *d = neutral(protocol, udp, WW_NEUTRAL_ASCII, len);

	d->payload = payload;
	d->port = ww_vpn_closed_port(t->port);
	return d;
}

/* The handshake's own first packet, to the closed port. */
static struct ww_xdriver *
closed_handshake(const struct ww_target *t, struct ww_xdriver *hs)
{
	unsigned char buf[WW_XDRIVER_MAX_PACKET];
	ssize_t n = ww_xdriver_first(hs, buf, sizeof(buf));
	struct ww_xdriver *d;

	if (n <= 0)
		d = ww_xdriver_failed(hs->protocol, "closed_handshake", true,
				      "the handshake wrote no packet");
	else
		d = ww_xdriver_neutral(hs->protocol, "closed_handshake", true,
				       buf, (size_t)n);
	d->port = ww_vpn_closed_port(t->port);
	return d;
}

/* UDP: the closed port's first two (see the top of the file). */
static size_t
closed_before(const struct ww_target *t, const char *protocol, size_t len,
	      struct ww_xdriver **d)
{
	d[0] = closed(t, protocol, true, "closed_udp", len);
	d[1] = closed(t, protocol, false, "closed_tcp", len);
	return 2;
}

/* ASCII, the handshake, random; over UDP, inside the closed port's three:
 * see the top of the file. */
static size_t
around(const struct ww_target *t, struct ww_xdriver *hs, struct ww_xdriver **d,
       size_t max)
{
	size_t len = first_size(hs), n = 0;

	if (max < 6 || hs->error != NULL) {
		d[0] = hs; /* its record says why nothing went */
		return 1;
	}
	if (hs->udp)
		n += closed_before(t, hs->protocol, len, d);
	d[n++] = neutral(hs->protocol, hs->udp, WW_NEUTRAL_ASCII, len);
	d[n++] = hs;
	d[n++] = neutral(hs->protocol, hs->udp, WW_NEUTRAL_RANDOM, len);
	if (hs->udp)
		d[n++] = closed_handshake(t, hs);
	return n;
}

static size_t
plan_quic(const struct ww_target *t, const struct ww_vpn_conf *c,
	  struct ww_xdriver **d, size_t max)
{
	struct ww_xdriver *hs;
	size_t n = 0;

	if (max < 6)
		return 0;
	/* RFC 6066 section 3: an address is no server name; then the one
	 * Initial carries none */
	hs = ww_xd_quic(t->host_is_ip ? "" : t->host, "handshake", false);
	n += closed_before(t, "quic", first_size(hs), d);
	d[n++] = ww_xd_quic("", "version_ping", true);
	if (!t->host_is_ip)
		d[n++] = ww_xd_quic(c->control_sni, "neutral_sni", false);
	d[n++] = hs;
	d[n++] = closed_handshake(t, hs);
	return n;
}

int
ww_vpn_closed_port(int target_port)
{
	return target_port == WW_VPN_CLOSED_PORT ? WW_VPN_CLOSED_PORT + 1
						 : WW_VPN_CLOSED_PORT;
}

size_t
ww_vpn_plan(const struct ww_target *t, const struct ww_vpn_conf *c,
	    const char *ip, struct ww_xdriver **d, size_t max)
{
	const char *key;

	(void)ip; /* the same plan at every address */
	switch (t->kind) {
	case WW_TARGET_OPENVPN:
		key = t->key_file != NULL	     ? t->key_file
		      : t->wrap != WW_OVPN_WRAP_NONE ? c->openvpn_key
						     : NULL;
		return around(t, ww_xd_openvpn(t, key), d, max);
	case WW_TARGET_IKEV2:
		return around(t, ww_xd_ikev2(t), d, max);
	case WW_TARGET_WIREGUARD:
		key = t->key_file != NULL ? t->key_file : c->wireguard_key;
		return around(t, ww_xd_wireguard(t, key), d, max);
	case WW_TARGET_QUIC:
		return plan_quic(t, c, d, max);
	default:
		break;
	}
	d[0] = ww_xdriver_failed(ww_target_kind_name(t->kind), "handshake",
				 true, "not a VPN or QUIC endpoint");
	return 1;
}

int
ww_vpn_conf_check(const struct ww_vpn_conf *c, char *err, size_t errlen)
{
	char why[200];

	if (c->openvpn_key != NULL) {
		struct ww_openvpn_key k;
		size_t n = 0;
		char *text =
			ww_read_file(c->openvpn_key, WW_OPENVPN_KEY_TEXT_MAX,
				     &n, why, sizeof(why));
		int rc = text == NULL ? -1
				      : ww_openvpn_key_parse(text, n, &k, why,
							     sizeof(why));

		free(text);
		OPENSSL_cleanse(&k, sizeof(k));
		if (rc != 0) {
			snprintf(err, errlen, "--openvpn-key %s: %s",
				 c->openvpn_key, why);
			return -1;
		}
	}
	if (c->wireguard_key != NULL) {
		unsigned char key[WW_WG_KEY_LEN];

		if (ww_wg_key_from_file(c->wireguard_key, key, why,
					sizeof(why)) != 0) {
			/* (why names the file) */
			snprintf(err, errlen, "--wireguard-key: %s", why);
			return -1;
		}
		OPENSSL_cleanse(key, sizeof(key));
	}
	return 0;
}
