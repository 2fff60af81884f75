/*
 * analysis_vpn.c - the verdict on a VPN or QUIC endpoint (openvpn://,
 * ikev2://, wireguard://, quic://) from its exchanges and the control's
 * (docs/verdicts.md, "VPN and QUIC endpoints").
 *
 * A handshake that completed proves the endpoint accessible, control or
 * not: the server answered our own session id, SPI, index or connection
 * id. One that failed is blocking only against a control that completed
 * it (or got as far) at the same endpoint or its own; then what else the
 * probe reached says how:
 *
 *   protocol  the port is reachable (a TCP connect, a neutral payload or
 *             the QUIC version ping answered there, or the handshake
 *             itself answered and the flow died later), the handshake is
 *             not. QUIC with the neutral SNI answered and the target's
 *             not: quic.sni_blocked. Or (UDP) at a closed port of the
 *             same address a neutral datagram drew an ICMP port
 *             unreachable and the handshake's own packet drew none where
 *             the control's did: the censor dropped the protocol's bytes
 *             by what they are (reason protocol_dropped).
 *   tcp_ip    the address is shown unreachable: over TCP, the connects
 *             failed where the control's worked; over UDP, at the closed
 *             port (vpnplan.c) both the neutral datagram (no ICMP) and the
 *             TCP connect (no RST) got nothing where the control's got
 *             their ICMP and RST. Both: an ICMP filter on the probe's path
 *             silences the first alone, and must not read as an address
 *             block.
 *   endpoint  blocked, the method not told: over UDP few servers answer
 *             bytes that are not their protocol, so the port's silence
 *             is no evidence either way; the address may answer (then
 *             the port or the protocol is blocked: reason
 *             address_reachable) or not show either way
 *             (reachability_unknown). Neither "protocol" nor "tcp_ip"
 *             would be true of what was seen, and no verdict (null)
 *             would hide a blocking the control proves.
 *
 * The handshake of a wrapped OpenVPN server without its key (payload
 * no_key) and a WireGuard initiation from an unregistered key get no
 * answer from a working server either: their silence gives no verdict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_int.h"
#include "failure.h"
#include "target.h"
#include "util.h"

/* The blocking_detail of a protocol and an outcome, from a fixed list so
 * that the verdict's strings are static and few. */
static const char *const details[] = {
	"openvpn.timeout",
	"openvpn.reset",
	"openvpn.eof",
	"openvpn.refused",
	"openvpn.cut",
	"openvpn.unreachable",
	"openvpn.tls_blocked",
	"ikev2.timeout",
	"ikev2.reset",
	"ikev2.eof",
	"ikev2.refused",
	"ikev2.cut",
	"ikev2.unreachable",
	"wireguard.timeout",
	"wireguard.reset",
	"wireguard.eof",
	"wireguard.refused",
	"wireguard.cut",
	"wireguard.unreachable",
	"quic.timeout",
	"quic.reset",
	"quic.eof",
	"quic.refused",
	"quic.cut",
	"quic.unreachable",
	"quic.sni_blocked",
};

static const char *
detail(const char *proto, const char *word)
{
	char want[64];

	snprintf(want, sizeof(want), "%s.%s", proto, word);
	for (size_t i = 0; i < WW_ARRAY_LEN(details); i++)
		if (strcmp(details[i], want) == 0)
			return details[i];
	return NULL;
}

/* A failure as the word of a detail. */
static const char *
failure_word(const char *f)
{
	if (is(f, failure_connection_reset))
		return "reset";
	if (is(f, failure_eof))
		return "eof";
	if (is(f, failure_connection_refused))
		return "refused";
	return "timeout";
}

static bool
is_handshake(const json_t *x)
{
	const char *p = jstr(x, "payload");

	return is(p, "handshake") || is(p, "no_key") || is(p, "unregistered");
}

static bool
is_payload(const json_t *x, const char *p)
{
	return is(jstr(x, "payload"), p);
}

/* An exchange with the closed port of the address (vpnplan.c). */
static bool
is_closed(const json_t *x)
{
	const char *p = jstr(x, "payload");

	return p != NULL && strncmp(p, "closed_", 7) == 0;
}

/* Something at the address answered it: a reply, a connect, or a refusal
 * (an ICMP port unreachable over UDP, a RST over TCP). */
static bool
reached(const json_t *x)
{
	return jtrue(x, "answered") || jtrue(x, "connected") ||
	       is(jfailure(x), failure_connection_refused);
}

/* Nothing came back, not even an error from the host: silence, or a
 * filter's ICMP (host unreachable). */
static bool
unreached(const json_t *x)
{
	const char *f = jfailure(x);

	return !reached(x) && (is(f, failure_generic_timeout) ||
			       is(f, failure_host_unreachable));
}

/* What the closed port's exchanges of one side came to, at any address:
 * per payload, reached at some, unreached at some. */
struct closed_seen {
	bool udp_r, udp_u; /* closed_udp */
	bool tcp_r, tcp_u; /* closed_tcp */
	bool hs_r, hs_u;   /* closed_handshake */
	/* at one address, closed_udp reached and closed_handshake not (the
	 * two compared where they went: another address may be blackholed) */
	bool dropped;
};

/* Did the closed_udp exchange at x's address reach it? */
static bool
udp_reached_at(const json_t *xs, const json_t *x)
{
	const char *ip = jstr(x, "ip");

	for (size_t i = 0; ip != NULL && i < jlen(xs); i++) {
		const json_t *y = json_array_get(xs, i);

		if (is_payload(y, "closed_udp") && is(jstr(y, "ip"), ip) &&
		    reached(y))
			return true;
	}
	return false;
}

static void
look_closed(const json_t *xs, struct closed_seen *k)
{
	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < jlen(xs); i++) {
		const json_t *x = json_array_get(xs, i);
		bool r = reached(x), u = unreached(x);

		if (is_payload(x, "closed_udp")) {
			k->udp_r |= r;
			k->udp_u |= u;
		} else if (is_payload(x, "closed_tcp")) {
			k->tcp_r |= r;
			k->tcp_u |= u;
		} else if (is_payload(x, "closed_handshake")) {
			k->hs_r |= r;
			k->hs_u |= u;
			k->dropped |= u && udp_reached_at(xs, x);
		}
	}
}

static bool
complete(const json_t *x)
{
	return jtrue(x, "answered") && jfailure(x) == NULL;
}

/* What the probe's exchanges say, over every endpoint. */
struct seen {
	const json_t *hs;      /* a handshake (the first) */
	const json_t *done;    /* a handshake that completed */
	const json_t *partial; /* one answered that died later */
	const char *proto;
	bool keyless;	    /* handshakes without key (no_key, unregistered) */
	bool reachable;	    /* something else there answered, or connected */
	bool nsni_answered; /* QUIC: the neutral SNI's Initial */
	bool all_local;	    /* every failure was the probe's network */
	bool any_failure;
};

static bool
local_failure(const char *f)
{
	return is(f, failure_network_unreachable) ||
	       is(f, failure_network_down) ||
	       is(f, failure_address_not_available) ||
	       is(f, failure_address_family_not_supported);
}

static void
look(const json_t *xs, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	s->all_local = true;
	for (size_t i = 0; i < jlen(xs); i++) {
		const json_t *x = json_array_get(xs, i);
		const char *f = jfailure(x);

		if (f != NULL) {
			s->any_failure = true;
			s->all_local = s->all_local && local_failure(f);
		}
		if (is_handshake(x)) {
			if (s->hs == NULL) {
				s->hs = x;
				s->proto = jstr(x, "protocol");
			}
			s->keyless = s->keyless || !is_payload(x, "handshake");
			if (complete(x) && s->done == NULL)
				s->done = x;
			else if (jtrue(x, "answered") && s->partial == NULL)
				s->partial = x;
			continue;
		}
		if (is_closed(x))
			continue; /* another port: the address, not this one */
		if (jtrue(x, "connected") || jtrue(x, "answered"))
			s->reachable = true;
		if (is_payload(x, "neutral_sni") && jtrue(x, "answered"))
			s->nsni_answered = true;
	}
	if (s->partial != NULL || s->done != NULL)
		s->reachable = true;
}

/* The control's exchanges: every endpoint's, as one list. */
static json_t *
control_list(const json_t *ctl)
{
	json_t *all = json_array(), *arr;
	const char *k;

	json_object_foreach((json_t *)ctl, k, arr)
	{
		for (size_t i = 0; i < jlen(arr); i++)
			json_array_append(all, json_array_get(arr, i));
		if (json_array_size(all) >= MAX_ITEMS)
			break;
	}
	return all;
}

/* Is the probe's path to the address shown cut? Over TCP: none of its
 * connects worked, the control's did. Over UDP: at the closed port,
 * neither the neutral datagram nor the TCP connect reached the address
 * for the probe, both did for the control (one alone could be an ICMP
 * filter, or UDP alone blocked). */
static bool
shown_unreachable(const json_t *xs, const json_t *cl,
		  const struct closed_seen *p, const struct closed_seen *k)
{
	bool probe_tcp = false, probe_connected = false, ctl_connected = false;

	for (size_t i = 0; i < jlen(xs); i++) {
		const json_t *x = json_array_get(xs, i);

		if (is(jstr(x, "transport"), "tcp") && !is_closed(x)) {
			probe_tcp = true;
			probe_connected |= jtrue(x, "connected");
		}
	}
	for (size_t i = 0; i < jlen(cl); i++) {
		const json_t *y = json_array_get(cl, i);

		if (!is_closed(y))
			ctl_connected |= jtrue(y, "connected");
	}
	if (probe_tcp)
		return !probe_connected && ctl_connected;
	return p->udp_u && !p->udp_r && p->tcp_u && !p->tcp_r && k->udp_r &&
	       k->tcp_r;
}

/* UDP: the handshake's own packet dropped where a neutral one got through
 * to the same closed port: the probe's neutral datagram drew an ICMP
 * error, its handshake packet none (at the same address, and at no
 * address did one draw any), the control's did. */
static bool
protocol_dropped(const struct closed_seen *p, const struct closed_seen *k)
{
	return p->dropped && !p->hs_r && k->hs_r;
}

/* The control's handshake: completed, answered, or neither. */
static void
control_handshake(const json_t *cl, const char *payload, bool *done,
		  bool *answered, const char **stage)
{
	*done = *answered = false;
	*stage = NULL;
	for (size_t k = 0; k < jlen(cl); k++) {
		const json_t *y = json_array_get(cl, k);

		if (!is_handshake(y) || !is(jstr(y, "payload"), payload))
			continue;
		if (complete(y))
			*done = true;
		if (jtrue(y, "answered")) {
			*answered = true;
			*stage = jstr(y, "stage");
		}
	}
}

/* The handshake answered and the flow died later: blocked if the
 * control's got further, else it is what the server does. */
static bool
decide_partial(struct ctx *c, const struct seen *s, bool ctl_done,
	       const char *ctl_stage)
{
	const char *stage = jstr(s->partial, "stage");
	const char *d;

	if (!ctl_done && (ctl_stage == NULL || is(ctl_stage, stage)))
		return set_verdict(c, WW_BLOCKING_FALSE, TRI_TRUE, NULL,
				   "same_as_control", NULL);
	d = is(s->proto, "openvpn") && is(stage, "server_reset")
		    ? detail("openvpn", "tls_blocked")
		    : detail(s->proto, "cut");
	return set_blocked(c, WW_BLOCKING_PROTOCOL, d, "protocol_cut",
			   jfailure(s->partial));
}

bool
decide_vpn(struct ctx *c)
{
	const json_t *xs = jarr(c->tk, "exchanges");
	const json_t *ctl = jobj(c->control, "exchanges");
	const char *f, *payload;
	bool ctl_done, ctl_answered;
	const char *ctl_stage;
	struct closed_seen pk, ck;
	struct seen s;
	json_t *cl;
	bool r;

	c->cur_hop = 0;
	look(xs, &s);
	if (s.hs == NULL)
		return false; /* no handshake made: no observation */
	if (s.done != NULL)
		return set_verdict(c, WW_BLOCKING_FALSE, TRI_TRUE, NULL,
				   "handshake_completed", NULL);
	f = jfailure(s.hs);
	if (s.any_failure && s.all_local && s.partial == NULL)
		return set_verdict(c, WW_BLOCKING_NULL, TRI_NULL, NULL,
				   "probe_offline", f);
	if (c->control == NULL)
		return set_verdict(c, WW_BLOCKING_NULL, TRI_NULL, NULL,
				   "control_unavailable", NULL);
	if (ctl == NULL) /* a control that made no exchanges */
		return set_verdict(c, WW_BLOCKING_NULL, TRI_NULL, NULL,
				   "control_incomplete", f);
	cl = control_list(ctl);
	look_closed(xs, &pk);
	look_closed(cl, &ck);
	payload = jstr(s.hs, "payload");
	control_handshake(cl, payload, &ctl_done, &ctl_answered, &ctl_stage);
	if (s.partial != NULL) {
		r = decide_partial(c, &s, ctl_done, ctl_stage);
	} else if (!ctl_answered) {
		/* silent to both: a keyless handshake tells nothing; else
		 * the server does not answer anyone */
		/* (a refusal is no silence: the port is closed for both) */
		r = s.keyless && !is(f, failure_connection_refused)
			    ? set_verdict(c, WW_BLOCKING_NULL, TRI_NULL, NULL,
					  "silent_without_key", f)
			    : set_verdict(c, WW_BLOCKING_FALSE, TRI_FALSE, NULL,
					  "down", f);
	} else if (s.reachable && is(s.proto, "quic") && s.nsni_answered) {
		r = set_blocked(c, WW_BLOCKING_PROTOCOL,
				detail("quic", "sni_blocked"), "sni_blocked",
				f);
	} else if (s.reachable) {
		r = set_blocked(c, WW_BLOCKING_PROTOCOL,
				detail(s.proto, failure_word(f)),
				"protocol_blocked", f);
	} else if (protocol_dropped(&pk, &ck)) {
		r = set_blocked(c, WW_BLOCKING_PROTOCOL,
				detail(s.proto, failure_word(f)),
				"protocol_dropped", f);
	} else if (shown_unreachable(xs, cl, &pk, &ck)) {
		r = set_blocked(c, WW_BLOCKING_TCP_IP,
				detail(s.proto, "unreachable"),
				"address_blocked", f);
	} else {
		/* blocked, how not told: see the top of the file */
		r = set_blocked(c, WW_BLOCKING_ENDPOINT,
				detail(s.proto, failure_word(f)),
				pk.udp_r || pk.tcp_r ? "address_reachable"
						     : "reachability_unknown",
				f);
	}
	json_decref(cl);
	return r;
}
