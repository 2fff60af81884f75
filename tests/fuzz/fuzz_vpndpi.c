/*
 * fuzz_vpndpi.c - the lab censor's VPN and QUIC recognisers
 * (tests/lab/vpndpi.c) on arbitrary bytes: the input is tried as each
 * protocol's first packet (UDP and TCP), as a QUIC datagram, and, sealed
 * as the frames of a real QUIC v1 Initial (so that it decrypts), through
 * the CRYPTO frame walk and the ClientHello's server name. Besides the
 * sanitizers' checks, abort() on a broken promise of vpndpi.h: the name
 * NUL-terminated, printable, at most DPI_SNI_MAX bytes, and empty unless
 * the result is 1.
 *
 * The replay build links this file alone with build/libwallwatch.a, so
 * dpi.c and vpndpi.c are included here.
 */
#include <stdlib.h>
#include <string.h>

#include "../lab/dpi.c"
#include "../lab/vpndpi.c"
#include "fuzz.h"

static void
check_sni(int rc, const char *sni)
{
	size_t n = strnlen(sni, DPI_SNI_MAX + 1);

	if (n > DPI_SNI_MAX || (rc != 1 && n != 0) || (rc == 1 && n == 0))
		abort();
	for (size_t i = 0; i < n; i++)
		if (sni[i] < 0x21 || sni[i] > 0x7e)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char dcid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	static unsigned char pkt[4096];
	struct ww_quic_keys k;
	struct ww_quic_initial in;
	char sni[DPI_SNI_MAX + 1];
	ssize_t n;
	int rc;

	(void)vpndpi_openvpn_reset(data, size, false);
	(void)vpndpi_openvpn_reset(data, size, true);
	(void)vpndpi_ikev2_sa_init(data, size, false);
	(void)vpndpi_ikev2_sa_init(data, size, true);
	(void)vpndpi_wireguard_initiation(data, size);
	rc = vpndpi_quic_initial_sni(data, size, sni);
	check_sni(rc, sni);

	/* The input as an Initial's frames, sealed as a client would. */
	if (size > 1800 ||
	    ww_quic_initial_keys(dcid, sizeof(dcid), false, &k) != 0)
		return 0;
	memset(&in, 0, sizeof(in));
	in.dcid = dcid;
	in.dcid_len = sizeof(dcid);
	in.frames = data;
	in.frames_len = size;
	n = ww_quic_seal_initial(&in, &k, pkt, sizeof(pkt));
	if (n <= 0)
		return 0;
	rc = vpndpi_quic_initial_sni(pkt, (size_t)n, sni);
	check_sni(rc, sni);
	return 0;
}
