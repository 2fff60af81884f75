/*
 * test_analysis_vpn.c - the verdict on VPN and QUIC endpoints
 * (engine/core/analysis_vpn.c; docs/verdicts.md, "VPN and QUIC
 * endpoints"): each rule from measurements built here, one exchange list
 * for the probe and one for the control.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "analysis.h"
#include "util.h"

#define EP "192.0.2.7:1194"

/* One exchange: transport "udp"/"tcp"; failure NULL for none; connected
 * -1 for absent (UDP). */
static json_t *
x(const char *proto, const char *payload, const char *transport, bool answered,
  const char *stage, const char *failure, int connected)
{
	json_t *o = json_pack(
		"{s:s, s:i, s:s, s:s, s:s, s:s, s:b, s:o, s:o}", "ip",
		"192.0.2.7", "port", 1194, "endpoint", EP, "transport",
		transport, "protocol", proto, "payload", payload, "answered",
		answered, "stage", stage ? json_string(stage) : json_null(),
		"failure", failure ? json_string(failure) : json_null());

	if (connected >= 0)
		json_object_set_new(o, "connected", json_boolean(connected));
	return o;
}

/* A measurement of input with the probe's exchanges px (stolen) and the
 * control's cx (stolen; NULL: no control answered; json_null(): a control
 * without exchanges). */
static json_t *
measurement(const char *input, json_t *px, json_t *cx)
{
	json_t *tk = json_pack(
		"{s:[{s:s, s:s, s:[{s:s, s:s, s:i}], s:n, s:i, s:i}], s:o}",
		"queries", "hostname", "vpn.example", "query_type", "A",
		"answers", "answer_type", "A", "ipv4", "192.0.2.7", "ttl", 60,
		"failure", "t0", 0, "t", 0, "exchanges", px);
	json_t *m = json_pack("{s:s, s:s, s:s, s:o}", "input", input,
			      "test_name", "wallwatch_endpoint", "probe_cc",
			      "CN", "test_keys", tk);

	if (cx == NULL) {
		json_object_set_new(tk, "control", json_null());
	} else {
		json_t *ctl = json_pack("{s:{s:[s], s:n}, s:{}, s:{}, s:n}",
					"dns", "addrs", "192.0.2.7", "failure",
					"tcp_connect", "tls_handshake",
					"http_request");

		if (!json_is_null(cx))
			json_object_set_new(ctl, "exchanges",
					    json_pack("{s:o}", EP, cx));
		else
			json_decref(cx);
		json_object_set_new(tk, "control", ctl);
	}
	return m;
}

static void
expect(json_t *m, const char *blocking, int accessible, const char *detail,
       const char *reason)
{
	char err[256];
	json_t *tk, *b;
	const char *got_reason;

	assert_int_equal(ww_analyze(m, NULL, err, sizeof(err)), 0);
	tk = json_object_get(m, "test_keys");
	b = json_object_get(tk, "blocking");
	got_reason = json_string_value(
		json_object_get(json_object_get(tk, "analysis"), "reason"));
	if (reason != NULL &&
	    (got_reason == NULL || strcmp(got_reason, reason) != 0))
		fail_msg("reason: want %s, got %s", reason,
			 got_reason ? got_reason : "(none)");
	if (blocking == NULL)
		assert_true(json_is_null(b));
	else if (strcmp(blocking, "false") == 0)
		assert_true(json_is_false(b));
	else
		assert_string_equal(json_string_value(b), blocking);
	if (accessible < 0)
		assert_true(json_is_null(json_object_get(tk, "accessible")));
	else
		assert_int_equal(
			json_is_true(json_object_get(tk, "accessible")),
			accessible);
	if (detail == NULL)
		assert_true(
			json_is_null(json_object_get(tk, "blocking_detail")));
	else
		assert_string_equal(json_string_value(json_object_get(
					    tk, "blocking_detail")),
				    detail);
	json_decref(m);
}

#define OVPN "openvpn://vpn.example:1194"
#define TO "generic_timeout_error"

/* The three exchanges of a UDP OpenVPN endpoint. */
static json_t *
udp3(bool ascii, bool hs_answered, const char *hs_stage, const char *hs_f,
     bool random)
{
	return json_pack("[o, o, o]",
			 x("openvpn", "ascii", "udp", ascii,
			   ascii ? "data" : NULL, ascii ? NULL : TO, -1),
			 x("openvpn", "handshake", "udp", hs_answered, hs_stage,
			   hs_f, -1),
			 x("openvpn", "random", "udp", random,
			   random ? "data" : NULL, random ? NULL : TO, -1));
}

static json_t *
ctl_ok(void)
{
	return udp3(false, true, "control", NULL, false);
}

static void
test_completed(void **state)
{
	(void)state;
	/* a completed handshake proves it, with a control or without */
	expect(measurement(OVPN, udp3(false, true, "control", NULL, false),
			   ctl_ok()),
	       "false", 1, NULL, "handshake_completed");
	expect(measurement(OVPN, udp3(false, true, "control", NULL, false),
			   NULL),
	       "false", 1, NULL, "handshake_completed");
}

static void
test_protocol_proven(void **state)
{
	(void)state;
	/* a neutral payload answered here: the address is reachable */
	expect(measurement(OVPN, udp3(true, false, NULL, TO, false), ctl_ok()),
	       "protocol", 0, "openvpn.timeout", "protocol_blocked");
}

static void
test_handshake_failed(void **state)
{
	(void)state;
	/* UDP silence beside silence, nothing asked of the address: blocked,
	 * the method not told (no longer "protocol") */
	expect(measurement(OVPN, udp3(false, false, NULL, TO, false), ctl_ok()),
	       "endpoint", 0, "openvpn.timeout", "reachability_unknown");
	/* the control's ASCII payload was answered, the probe's not: the
	 * port (or the payload) is cut, the address not shown */
	expect(measurement(OVPN, udp3(false, false, NULL, TO, false),
			   udp3(true, true, "control", NULL, false)),
	       "endpoint", 0, "openvpn.timeout", "reachability_unknown");
}

#define RF "connection_refused"

/* The closed port's three exchanges (vpnplan.c) appended to xs (its
 * first two put first, as the plan does): each failure (NULL: answered)
 * and the TCP connect's connected. */
static json_t *
with_closed(json_t *xs, const char *udp_f, const char *tcp_f, int tcp_conn,
	    const char *hs_f)
{
	json_t *all = json_pack("[o, o]",
				x("openvpn", "closed_udp", "udp", udp_f == NULL,
				  udp_f ? NULL : "data", udp_f, -1),
				x("openvpn", "closed_tcp", "tcp", false, NULL,
				  tcp_f, tcp_conn));

	json_array_extend(all, xs);
	json_decref(xs);
	json_array_append_new(all,
			      x("openvpn", "closed_handshake", "udp",
				hs_f == NULL, hs_f ? NULL : "data", hs_f, -1));
	return all;
}

/* The control as a host that sends its ICMP and RSTs: every closed-port
 * exchange refused, the handshake answered. */
static json_t *
ctl_closed(void)
{
	return with_closed(ctl_ok(), RF, RF, 0, RF);
}

static void
test_address_udp(void **state)
{
	(void)state;
	/* all UDP and TCP to the address blackholed: no ICMP, no RST */
	expect(measurement(OVPN,
			   with_closed(udp3(false, false, NULL, TO, false), TO,
				       TO, 0, TO),
			   ctl_closed()),
	       "tcp_ip", 0, "openvpn.unreachable", "address_blocked");
	/* the same silence where the control's host sends no ICMP and no
	 * RST either (a firewall): nothing proven */
	expect(measurement(OVPN,
			   with_closed(udp3(false, false, NULL, TO, false), TO,
				       TO, 0, TO),
			   with_closed(ctl_ok(), TO, TO, 0, TO)),
	       "endpoint", 0, "openvpn.timeout", "reachability_unknown");
	/* the UDP one alone silent (an ICMP filter, or UDP alone blocked):
	 * the TCP RST shows the address; never "address" */
	expect(measurement(OVPN,
			   with_closed(udp3(false, false, NULL, TO, false), TO,
				       RF, 0, TO),
			   ctl_closed()),
	       "endpoint", 0, "openvpn.timeout", "address_reachable");
}

static void
test_closed_port(void **state)
{
	(void)state;
	/* protocol DPI: at the closed port the neutral datagram drew its
	 * ICMP, the handshake's packet none (the control's did) */
	expect(measurement(OVPN,
			   with_closed(udp3(false, false, NULL, TO, false), RF,
				       RF, 0, TO),
			   ctl_closed()),
	       "protocol", 0, "openvpn.timeout", "protocol_dropped");
	/* the same where the control's handshake packet drew no ICMP
	 * either: nothing about the bytes proven */
	expect(measurement(OVPN,
			   with_closed(udp3(false, false, NULL, TO, false), RF,
				       RF, 0, TO),
			   with_closed(ctl_ok(), RF, RF, 0, TO)),
	       "endpoint", 0, "openvpn.timeout", "address_reachable");
	/* only the port blackholed: the handshake's bytes reach the closed
	 * port; port or port-bound DPI, not told apart */
	expect(measurement(OVPN,
			   with_closed(udp3(false, false, NULL, TO, false), RF,
				       RF, 0, RF),
			   ctl_closed()),
	       "endpoint", 0, "openvpn.timeout", "address_reachable");
	/* ICMP filtered on the path and protocol DPI: the neutral datagram
	 * unanswered too, so the handshake's silence proves nothing; the
	 * RST shows the address: no false "address", no "protocol" */
	expect(measurement(OVPN,
			   with_closed(udp3(false, false, NULL, TO, false), TO,
				       RF, 0, TO),
			   ctl_closed()),
	       "endpoint", 0, "openvpn.timeout", "address_reachable");
	/* something listens on the closed TCP port: the address, not the
	 * target's port, so no "protocol_blocked" */
	expect(measurement(OVPN,
			   with_closed(udp3(false, false, NULL, TO, false), TO,
				       TO, 1, TO),
			   ctl_closed()),
	       "endpoint", 0, "openvpn.timeout", "address_reachable");
	/* two addresses: one answers the closed port's datagram (its
	 * handshake packet never went), the other is silent to both: the
	 * two are compared where they went, so nothing about the bytes */
	{
		json_t *p = with_closed(udp3(false, false, NULL, TO, false), RF,
					RF, 0, "unknown_failure: none");
		json_t *b = with_closed(udp3(false, false, NULL, TO, false), TO,
					RF, 0, TO);
		size_t i;
		json_t *e;

		json_array_foreach(b, i, e)
		{
			json_object_set_new(e, "ip", json_string("192.0.2.8"));
		}
		json_array_extend(p, b);
		json_decref(b);
		expect(measurement(OVPN, p, ctl_closed()), "endpoint", 0,
		       "openvpn.timeout", "address_reachable");
	}
	/* a handshake that completed needs no closed port */
	expect(measurement(
		       OVPN,
		       with_closed(udp3(false, true, "control", NULL, false),
				   TO, TO, 0, TO),
		       ctl_closed()),
	       "false", 1, NULL, "handshake_completed");
}

static json_t *
tcp3(int conn_ascii, const char *ascii_f, int conn_hs, const char *hs_f)
{
	return json_pack(
		"[o, o]",
		x("openvpn", "ascii", "tcp", false, NULL, ascii_f, conn_ascii),
		x("openvpn", "handshake", "tcp", false, NULL, hs_f, conn_hs));
}

static void
test_tcp(void **state)
{
	json_t *ctl;

	(void)state;
	ctl = json_pack(
		"[o, o]",
		x("openvpn", "ascii", "tcp", false, NULL, "eof_error", 1),
		x("openvpn", "handshake", "tcp", true, "control", NULL, 1));
	/* connected, then reset at the reset: the protocol */
	expect(measurement(OVPN "?transport=tcp",
			   tcp3(1, "eof_error", 1, "connection_reset"),
			   json_deep_copy(ctl)),
	       "protocol", 0, "openvpn.reset", "protocol_blocked");
	/* no connect at all where the control's connected: the address */
	expect(measurement(OVPN "?transport=tcp", tcp3(0, TO, 0, TO),
			   json_deep_copy(ctl)),
	       "tcp_ip", 0, "openvpn.unreachable", "address_blocked");
	json_decref(ctl);
}

static void
test_partial(void **state)
{
	(void)state;
	/* the resets went through, the TLS exchange did not */
	expect(measurement(OVPN, udp3(false, true, "server_reset", TO, false),
			   ctl_ok()),
	       "protocol", 0, "openvpn.tls_blocked", "protocol_cut");
	/* the control got no further: it is the server's way */
	expect(measurement(OVPN, udp3(false, true, "server_reset", TO, false),
			   udp3(false, true, "server_reset", TO, false)),
	       "false", 1, NULL, "same_as_control");
}

static void
test_down_and_keyless(void **state)
{
	json_t *p, *c;

	(void)state;
	expect(measurement(OVPN, udp3(false, false, NULL, TO, false),
			   udp3(false, false, NULL, TO, false)),
	       "false", 0, NULL, "down");
	/* a tls-auth server without its key: silent to everyone */
	p = json_pack("[o]",
		      x("openvpn", "no_key", "udp", false, NULL, TO, -1));
	c = json_pack("[o]",
		      x("openvpn", "no_key", "udp", false, NULL, TO, -1));
	expect(measurement(OVPN "?wrap=tls-auth", p, c), NULL, -1, NULL,
	       "silent_without_key");
	/* a port unreachable to both is no silence: down */
	p = json_pack("[o]", x("openvpn", "no_key", "udp", false, NULL,
			       "connection_refused", -1));
	c = json_pack("[o]", x("openvpn", "no_key", "udp", false, NULL,
			       "connection_refused", -1));
	expect(measurement(OVPN "?wrap=tls-auth", p, c), "false", 0, NULL,
	       "down");
}

static void
test_no_verdict(void **state)
{
	json_t *p;

	(void)state;
	expect(measurement(OVPN, udp3(false, false, NULL, TO, false), NULL),
	       NULL, -1, NULL, "control_unavailable");
	expect(measurement(OVPN, udp3(false, false, NULL, TO, false),
			   json_null()),
	       NULL, -1, NULL, "control_incomplete");
	p = json_pack("[o]", x("openvpn", "handshake", "udp", false, NULL,
			       "network_unreachable", -1));
	expect(measurement(OVPN, p, ctl_ok()), NULL, -1, NULL, "probe_offline");
	p = json_pack("[o]", x("openvpn", "handshake", "udp", false, NULL,
			       "interrupted", -1));
	expect(measurement(OVPN, p, ctl_ok()), NULL, -1, NULL, "interrupted");
}

static json_t *
quic3(bool vping, bool nsni, bool hs)
{
	return json_pack("[o, o, o]",
			 x("quic", "version_ping", "udp", vping,
			   vping ? "version_negotiation" : NULL,
			   vping ? NULL : TO, -1),
			 x("quic", "neutral_sni", "udp", nsni,
			   nsni ? "server_hello" : NULL, nsni ? NULL : TO, -1),
			 x("quic", "handshake", "udp", hs,
			   hs ? "server_hello" : NULL, hs ? NULL : TO, -1));
}

static void
test_quic(void **state)
{
	(void)state;
	expect(measurement("quic://www.example.org", quic3(true, true, false),
			   quic3(true, true, true)),
	       "protocol", 0, "quic.sni_blocked", "sni_blocked");
	expect(measurement("quic://www.example.org", quic3(true, false, false),
			   quic3(true, true, true)),
	       "protocol", 0, "quic.timeout", "protocol_blocked");
	/* the ping unanswered where the control's was: the port, or QUIC
	 * itself (a censor may drop the ping too); not the address */
	expect(measurement("quic://www.example.org", quic3(false, false, false),
			   quic3(true, true, true)),
	       "endpoint", 0, "quic.timeout", "reachability_unknown");
	/* with the closed port silent over UDP and TCP: the address */
	expect(measurement(
		       "quic://www.example.org",
		       with_closed(quic3(false, false, false), TO, TO, 0, TO),
		       with_closed(quic3(true, true, true), RF, RF, 0, RF)),
	       "tcp_ip", 0, "quic.unreachable", "address_blocked");
	expect(measurement("quic://www.example.org", quic3(true, true, true),
			   quic3(true, true, true)),
	       "false", 1, NULL, "handshake_completed");
}

/* DNS decides first: no address, no exchange. */
static void
test_dns(void **state)
{
	json_t *m =
		measurement("ikev2://vpn.example", json_array(), json_array());
	json_t *q = json_array_get(
		json_object_get(json_object_get(m, "test_keys"), "queries"), 0);

	(void)state;
	json_object_set_new(q, "answers", json_array());
	json_object_set_new(q, "failure", json_string("dns_nxdomain_error"));
	expect(m, "dns", 0, "dns.nxdomain", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_completed),
		cmocka_unit_test(test_protocol_proven),
		cmocka_unit_test(test_handshake_failed),
		cmocka_unit_test(test_address_udp),
		cmocka_unit_test(test_closed_port),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_down_and_keyless),
		cmocka_unit_test(test_no_verdict),
		cmocka_unit_test(test_quic),
		cmocka_unit_test(test_dns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
