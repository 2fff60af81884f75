/*
 * test_vpndpi.c - the lab censor's VPN and QUIC recognisers
 * (tests/lab/vpndpi.c) on the packets the probe's own builders make: each
 * protocol's first packet is recognised, the neutral payloads of its size
 * and the other protocols' packets are not, and a QUIC Initial's server
 * name comes out of the decrypted ClientHello. vpndpi.c and dpi.c are not
 * in the library, so they are included here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../lab/dpi.c"
#include "../lab/vpndpi.c"
#include "ikev2.h"
#include "neutral.h"
#include "openvpn.h"
#include "wireguard.h"

static size_t
neutral_of(enum ww_neutral_kind k, size_t len, unsigned char *out, size_t cap)
{
	struct ww_neutral_params np;

	assert_int_equal(ww_neutral_params_random(&np, k, len), 0);
	assert_int_equal(ww_neutral_build(&np, out, cap), (ssize_t)len);
	return len;
}

static void
test_openvpn(void **state)
{
	struct ww_openvpn_params p;
	unsigned char b[256];
	ssize_t n;

	(void)state;
	assert_int_equal(ww_openvpn_params_random(&p), 0);
	n = ww_openvpn_build_reset(&p, b, sizeof(b));
	assert_int_equal(n, 14);
	assert_true(vpndpi_openvpn_reset(b, (size_t)n, false));
	assert_false(vpndpi_openvpn_reset(b, (size_t)n, true));
	assert_false(vpndpi_openvpn_reset(b, (size_t)n - 1, false));
	p.tcp = true;
	n = ww_openvpn_build_reset(&p, b, sizeof(b));
	assert_int_equal(n, 16);
	assert_true(vpndpi_openvpn_reset(b, (size_t)n, true));
	/* a frame cut short, or one with more after it, is no first write */
	assert_false(vpndpi_openvpn_reset(b, (size_t)n - 1, true));
	assert_false(vpndpi_openvpn_reset(b, (size_t)n + 1, true));
	/* an ACK (opcode 5) is not a reset */
	b[2] = 5 << 3;
	assert_false(vpndpi_openvpn_reset(b, (size_t)n, true));
	/* the 2000-byte oversize probe is not one either */
	n = ww_openvpn_build_probe(&p, WW_OPENVPN_PROBE_OVERSIZE, b, 0);
	assert_int_equal(n, -1);
	assert_false(vpndpi_openvpn_reset(b, 0, false));
}

static void
test_ikev2(void **state)
{
	struct ww_ikev2_params p;
	unsigned char b[2048];
	ssize_t n;

	(void)state;
	assert_int_equal(ww_ikev2_params_random(&p, false), 0);
	n = ww_ikev2_build_sa_init(&p, b, sizeof(b));
	assert_true(n > 28);
	assert_true(vpndpi_ikev2_sa_init(b, (size_t)n, false));
	assert_false(vpndpi_ikev2_sa_init(b, (size_t)n, true));
	assert_false(vpndpi_ikev2_sa_init(b, (size_t)n - 1, false));
	b[19] |= 0x20; /* a response */
	assert_false(vpndpi_ikev2_sa_init(b, (size_t)n, false));
	assert_int_equal(ww_ikev2_params_random(&p, true), 0);
	n = ww_ikev2_build_sa_init(&p, b, sizeof(b));
	assert_true(vpndpi_ikev2_sa_init(b, (size_t)n, true));
	assert_false(vpndpi_ikev2_sa_init(b, (size_t)n, false));
}

static void
test_wireguard(void **state)
{
	struct ww_wg_params p;
	unsigned char b[256];
	ssize_t n;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.server_pub[0] = 9; /* X25519's base point: a valid public key */
	assert_int_equal(ww_wg_params_random(&p), 0);
	n = ww_wg_build_initiation(&p, b, sizeof(b));
	assert_int_equal(n, WW_WG_INITIATION_LEN);
	assert_true(vpndpi_wireguard_initiation(b, (size_t)n));
	assert_false(vpndpi_wireguard_initiation(b, (size_t)n - 1));
	b[0] = 2;
	assert_false(vpndpi_wireguard_initiation(b, (size_t)n));
}

static void
test_quic(void **state)
{
	struct ww_quic_params p;
	unsigned char b[1500];
	char sni[DPI_SNI_MAX + 1];
	ssize_t n;

	(void)state;
	assert_int_equal(
		ww_quic_params_random(&p, "quic-blocked.lab.test", NULL), 0);
	n = ww_quic_build_initial(&p, b, sizeof(b));
	assert_int_equal(n, 1200);
	assert_int_equal(vpndpi_quic_initial_sni(b, (size_t)n, sni), 1);
	assert_string_equal(sni, "quic-blocked.lab.test");
	/* cut short: the AEAD tag no longer verifies */
	assert_int_equal(vpndpi_quic_initial_sni(b, (size_t)n - 1, sni), -1);
	assert_string_equal(sni, "");
	/* one flipped byte of ciphertext: the same */
	b[600] ^= 1;
	assert_int_equal(vpndpi_quic_initial_sni(b, (size_t)n, sni), -1);
	/* no server name: a ClientHello all the same */
	assert_int_equal(ww_quic_params_random(&p, "", NULL), 0);
	n = ww_quic_build_initial(&p, b, sizeof(b));
	assert_int_equal(vpndpi_quic_initial_sni(b, (size_t)n, sni), 0);
	/* the version-negotiation ping: a reserved version, no Initial */
	n = ww_quic_build_vn_ping(&p, b, sizeof(b));
	assert_int_equal(n, 1200);
	assert_int_equal(vpndpi_quic_initial_sni(b, (size_t)n, sni), -1);
}

/* The neutral payloads, of each protocol's first packet's size, are none
 * of the protocols. */
static void
test_neutral(void **state)
{
	static const size_t sizes[] = {14, 16, 148, 298, 1200};
	unsigned char b[1500];
	char sni[DPI_SNI_MAX + 1];

	(void)state;
	for (int round = 0; round < 50; round++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			size_t n = neutral_of(WW_NEUTRAL_RANDOM, sizes[i], b,
					      sizeof(b));

			assert_false(vpndpi_ikev2_sa_init(b, n, false));
			assert_false(vpndpi_wireguard_initiation(b, n));
			assert_int_equal(vpndpi_quic_initial_sni(b, n, sni),
					 -1);
			n = neutral_of(WW_NEUTRAL_ASCII, sizes[i], b,
				       sizeof(b));
			assert_false(vpndpi_openvpn_reset(b, n, true));
			assert_false(vpndpi_ikev2_sa_init(b, n, false));
			assert_false(vpndpi_wireguard_initiation(b, n));
			assert_int_equal(vpndpi_quic_initial_sni(b, n, sni),
					 -1);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openvpn),	  cmocka_unit_test(test_ikev2),
		cmocka_unit_test(test_wireguard), cmocka_unit_test(test_quic),
		cmocka_unit_test(test_neutral),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
