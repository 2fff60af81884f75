/*
 * test_vpnplan.c - the exchanges a VPN or QUIC endpoint gets at one
 * address (engine/core/vpnplan.c): their order, their payloads' names and
 * sizes (a neutral payload is the size of the handshake's first packet),
 * and what a missing or broken key does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "neutral.h"
#include "target.h"
#include "util.h"
#include "vpnplan.h"

#define WGKEY "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="

struct plan {
	struct ww_xdriver *d[8];
	size_t n;
	size_t len[8];
};

static void
make_plan(const char *input, const struct ww_vpn_conf *c, struct plan *p)
{
	struct ww_target t;
	char err[256];

	memset(p, 0, sizeof(*p));
	if (ww_target_parse(input, &t, err, sizeof(err)) != 0)
		fail_msg("%s: %s", input, err);
	p->n = ww_vpn_plan(&t, c, "192.0.2.1", p->d, 8);
	for (size_t i = 0; i < p->n; i++) {
		unsigned char buf[WW_XDRIVER_MAX_PACKET];
		ssize_t n = p->d[i]->first(p->d[i]->st, buf, sizeof(buf));

		p->len[i] = n > 0 ? (size_t)n : 0;
	}
	ww_target_clear(&t);
}

static void
free_plan(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		ww_xdriver_free(p->d[i]);
}

static const struct ww_vpn_conf conf = {.control_sni = "example.com"};

/* Where the ASCII payload is: after the closed port's first two over
 * UDP. */
static size_t
at(bool udp)
{
	return udp ? 2 : 0;
}

/* The same bytes. */
static void
same_packet(struct ww_xdriver *a, struct ww_xdriver *b)
{
	unsigned char x[WW_XDRIVER_MAX_PACKET], y[WW_XDRIVER_MAX_PACKET];
	ssize_t n = ww_xdriver_first(a, x, sizeof(x));

	assert_true(n > 0);
	assert_int_equal(ww_xdriver_first(b, y, sizeof(y)), n);
	assert_memory_equal(x, y, (size_t)n);
}

/* Over UDP the closed port (vpnplan.c): a neutral datagram and a TCP
 * connect first, the handshake's own packet last, at port 33434 (or
 * 33435 when that is the target's). */
static void
check_closed(const struct plan *p, size_t hs, int want_port)
{
	assert_string_equal(p->d[0]->payload, "closed_udp");
	assert_true(p->d[0]->udp);
	assert_string_equal(p->d[1]->payload, "closed_tcp");
	assert_false(p->d[1]->udp);
	assert_string_equal(p->d[p->n - 1]->payload, "closed_handshake");
	assert_true(p->d[p->n - 1]->udp);
	for (size_t i = 0; i < p->n; i++) {
		bool closed = i < 2 || i == p->n - 1;

		assert_int_equal(p->d[i]->port, closed ? want_port : 0);
		assert_true(p->len[i] > 0);
	}
	/* the neutral ones the handshake's size, the last its bytes */
	assert_int_equal(p->len[0], p->len[hs]);
	assert_int_equal(p->len[1], p->len[hs]);
	same_packet(p->d[hs], p->d[p->n - 1]);
}

static void
check_around(const struct plan *p, const char *protocol, const char *hs,
	     bool udp)
{
	size_t o = at(udp);

	assert_int_equal(p->n, udp ? 6 : 3);
	assert_string_equal(p->d[o]->payload, "ascii");
	assert_string_equal(p->d[o + 1]->payload, hs);
	assert_string_equal(p->d[o + 2]->payload, "random");
	for (size_t i = 0; i < p->n; i++) {
		assert_string_equal(p->d[i]->protocol, protocol);
		assert_null(p->d[i]->error);
	}
	for (size_t i = o; i < o + 3; i++) {
		assert_int_equal(p->d[i]->udp, udp);
		assert_int_equal(p->d[i]->port, 0); /* the target's */
		assert_true(p->len[i] > 0);
	}
	/* the neutral payloads are the handshake's size */
	assert_int_equal(p->len[o], p->len[o + 1]);
	assert_int_equal(p->len[o + 2], p->len[o + 1]);
	if (udp)
		check_closed(p, o + 1, 33434);
}

static void
test_openvpn(void **state)
{
	struct plan p;

	(void)state;
	make_plan("openvpn://vpn.example:1194", &conf, &p);
	check_around(&p, "openvpn", "handshake", true);
	assert_int_equal(p.len[3], 14); /* the plain UDP reset */
	free_plan(&p);
	make_plan("openvpn://vpn.example:443?transport=tcp", &conf, &p);
	check_around(&p, "openvpn", "handshake", false);
	assert_int_equal(p.len[1], 16); /* with its 2-byte length */
	free_plan(&p);
	/* a wrapped server without its key: the plain reset, named so */
	make_plan("openvpn://vpn.example:1194?wrap=tls-auth", &conf, &p);
	check_around(&p, "openvpn", "no_key", true);
	assert_int_equal(p.len[3], 14);
	free_plan(&p);
}

static void
test_openvpn_key(void **state)
{
	char path[] = "/tmp/test_vpnplan_XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	struct plan p;
	struct ww_vpn_conf c = conf;
	char *input;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("-----BEGIN OpenVPN Static key V1-----\n", f);
	for (int i = 0; i < 16; i++)
		fputs("0123456789abcdef0123456789abcdef\n", f);
	fputs("-----END OpenVPN Static key V1-----\n", f);
	fclose(f);
	/* from the engine's --openvpn-key */
	c.openvpn_key = path;
	make_plan("openvpn://vpn.example:1194?wrap=tls-auth&key-direction=1",
		  &c, &p);
	check_around(&p, "openvpn", "handshake", true);
	assert_int_equal(p.len[3], 42); /* HMAC-SHA1, replay id, time */
	free_plan(&p);
	/* from the input's key= */
	input = xasprintf("openvpn://vpn.example:1194?wrap=tls-crypt&key=%s",
			  path);
	make_plan(input, &conf, &p);
	check_around(&p, "openvpn", "handshake", true);
	assert_int_equal(p.len[3], 54);
	free_plan(&p);
	free(input);
	unlink(path);
	/* a key that does not read: one exchange, saying why */
	make_plan("openvpn://vpn.example:1194?wrap=tls-auth&key=/nonexistent/"
		  "ta.key",
		  &conf, &p);
	assert_int_equal(p.n, 1);
	assert_non_null(p.d[0]->error);
	assert_non_null(strstr(p.d[0]->error,
			       "OpenVPN key /nonexistent/ta.key: "
			       "No such file"));
	free_plan(&p);
}

static void
test_ikev2(void **state)
{
	struct plan p;

	(void)state;
	make_plan("ikev2://vpn.example", &conf, &p);
	check_around(&p, "ikev2", "handshake", true);
	free_plan(&p);
}

static void
test_wireguard(void **state)
{
	struct plan p;

	(void)state;
	make_plan("wireguard://wg.example:51820?pubkey=" WGKEY, &conf, &p);
	check_around(&p, "wireguard", "unregistered", true);
	assert_int_equal(p.len[3], 148);
	free_plan(&p);
	/* a target on the closed port itself: the next one */
	make_plan("wireguard://wg.example:33434?pubkey=" WGKEY, &conf, &p);
	check_closed(&p, 3, 33435);
	free_plan(&p);
	make_plan("wireguard://wg.example:51820?pubkey=" WGKEY
		  "&key=/nonexistent/wg.key",
		  &conf, &p);
	assert_int_equal(p.n, 1);
	assert_non_null(strstr(p.d[0]->error, "WireGuard key /nonexistent"));
	free_plan(&p);
}

static void
test_quic(void **state)
{
	struct plan p;

	(void)state;
	make_plan("quic://www.example.org", &conf, &p);
	assert_int_equal(p.n, 6);
	assert_string_equal(p.d[2]->payload, "version_ping");
	assert_null(p.d[2]->server_name);
	assert_string_equal(p.d[3]->payload, "neutral_sni");
	assert_string_equal(p.d[3]->server_name, "example.com");
	assert_string_equal(p.d[4]->payload, "handshake");
	assert_string_equal(p.d[4]->server_name, "www.example.org");
	for (size_t i = 2; i < 5; i++)
		assert_true(p.len[i] >= 1200); /* RFC 9000 14.1 */
	check_closed(&p, 4, 33434);
	free_plan(&p);
	/* an address is no server name: one Initial, without SNI */
	make_plan("quic://192.0.2.9:8443", &conf, &p);
	assert_int_equal(p.n, 5);
	assert_string_equal(p.d[3]->payload, "handshake");
	assert_null(p.d[3]->server_name);
	check_closed(&p, 3, 33434);
	free_plan(&p);
}

/* A neutral payload beside OpenVPN never starts like a client reset (an
 * OpenVPN server answers one: the neutral exchange would be "answered").
 * 400 plans: a mostly-ASCII payload would start so about 8 times. */
static void
test_openvpn_neutral_not_reset(void **state)
{
	(void)state;
	for (int i = 0; i < 400; i++) {
		struct plan p;
		unsigned char buf[WW_XDRIVER_MAX_PACKET];

		make_plan(i % 2 ? "openvpn://vpn.example:1194?transport=tcp"
				: "openvpn://vpn.example:1194",
			  &conf, &p);
		assert_int_equal(p.n, i % 2 ? 3 : 6);
		for (size_t j = at(!(i % 2)); j < at(!(i % 2)) + 3; j += 2) {
			ssize_t n = p.d[j]->first(p.d[j]->st, buf, sizeof(buf));
			unsigned op = buf[i % 2 ? 2 : 0] >> 3;

			assert_true(n > 2);
			assert_int_not_equal(op, 7);
			assert_int_not_equal(op, 10);
		}
		free_plan(&p);
	}
}

/* A neutral payload beside IKEv2 never names an IKE exchange type at
 * byte 18 (charon answers those, whatever the rest: the neutral exchange
 * would be "answered"). 400 plans: about 80 would, unchecked (the ASCII
 * payload's space to '-' are exchange types 32-45). */
static void
test_ikev2_neutral_not_ike(void **state)
{
	(void)state;
	for (int i = 0; i < 400; i++) {
		struct plan p;
		unsigned char buf[WW_XDRIVER_MAX_PACKET];

		make_plan("ikev2://vpn.example", &conf, &p);
		assert_int_equal(p.n, 6);
		for (size_t j = 2; j < 5; j += 2) {
			ssize_t n = p.d[j]->first(p.d[j]->st, buf, sizeof(buf));

			assert_true(n > 18);
			assert_false(buf[18] <= 6 ||
				     (buf[18] >= 32 && buf[18] <= 45));
		}
		free_plan(&p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openvpn),
		cmocka_unit_test(test_openvpn_key),
		cmocka_unit_test(test_openvpn_neutral_not_reset),
		cmocka_unit_test(test_ikev2),
		cmocka_unit_test(test_ikev2_neutral_not_ike),
		cmocka_unit_test(test_wireguard),
		cmocka_unit_test(test_quic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
