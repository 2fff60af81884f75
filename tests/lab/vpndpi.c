/*
 * vpndpi.c - the censor's VPN and QUIC recognisers: see vpndpi.h. Included
 * by censor.c (one translation unit) and by the fuzz target; uses
 * engine/core/quic.h's Initial keys and packet opening (libwallwatch.a).
 */
#include "vpndpi.h"

#include <string.h>

#include "quic.h"

/* Big-endian reads (dpi.c has get16 when both are included). */
static uint32_t
vget32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

#define OVPN_HARD_RESET_CLIENT_V2 7
#define OVPN_HARD_RESET_CLIENT_V3 10
#define OVPN_RESET_MIN 14 /* opcode, session id, ack count, packet id */

bool
vpndpi_openvpn_reset(const uint8_t *p, size_t len, bool tcp)
{
	unsigned op;

	if (tcp) {
		if (len < 2 || (size_t)(p[0] << 8 | p[1]) != len - 2)
			return false;
		p += 2;
		len -= 2;
	}
	if (len < OVPN_RESET_MIN || len > VPNDPI_OPENVPN_MAX)
		return false;
	op = p[0] >> 3;
	return (p[0] & 7) == 0 && (op == OVPN_HARD_RESET_CLIENT_V2 ||
				   op == OVPN_HARD_RESET_CLIENT_V3);
}

#define IKE_HDR_LEN 28
#define IKE_EXCH_SA_INIT 34
#define IKE_FLAG_INITIATOR 0x08
#define IKE_FLAG_RESPONSE 0x20

bool
vpndpi_ikev2_sa_init(const uint8_t *p, size_t len, bool natt)
{
	static const uint8_t zero[8];

	if (natt) {
		if (len < 4 || memcmp(p, zero, 4) != 0)
			return false;
		p += 4;
		len -= 4;
	}
	if (len < IKE_HDR_LEN)
		return false;
	return memcmp(p + 8, zero, 8) == 0 && p[17] == 0x20 &&
	       p[18] == IKE_EXCH_SA_INIT && (p[19] & IKE_FLAG_INITIATOR) &&
	       !(p[19] & IKE_FLAG_RESPONSE) && vget32(p + 20) == 0 &&
	       vget32(p + 24) == len;
}

#define WG_INITIATION_LEN 148

bool
vpndpi_wireguard_initiation(const uint8_t *p, size_t len)
{
	return len == WG_INITIATION_LEN && p[0] == 1 && p[1] == 0 &&
	       p[2] == 0 && p[3] == 0;
}

/* --- QUIC -----------------------------------------------------------------*/

#define QUIC_PLAIN_MAX 2048 /* a client Initial fits one datagram of 1500 */
#define QUIC_F_PADDING 0x00
#define QUIC_F_PING 0x01
#define QUIC_F_ACK 0x02
#define QUIC_F_ACK_ECN 0x03
#define QUIC_F_CRYPTO 0x06
#define TLS_CLIENT_HELLO 1

/* The CRYPTO stream from offset 0, as far as it is contiguous. */
struct crypto_buf {
	uint8_t data[VPNDPI_QUIC_CRYPTO_MAX];
	uint8_t have[VPNDPI_QUIC_CRYPTO_MAX];
};

static void
crypto_put(struct crypto_buf *cb, uint64_t off, const uint8_t *d, uint64_t n)
{
	for (uint64_t i = 0; i < n && off + i < VPNDPI_QUIC_CRYPTO_MAX; i++) {
		cb->data[off + i] = d[i];
		cb->have[off + i] = 1;
	}
}

/* Skip n varints at *at of plain[0..len); false when truncated. */
static bool
skip_varints(const uint8_t *plain, size_t len, size_t *at, uint64_t n,
	     uint64_t *last)
{
	for (uint64_t i = 0; i < n; i++) {
		int k = ww_quic_varint_get(plain + *at, len - *at, last);

		if (k < 0)
			return false;
		*at += (size_t)k;
	}
	return true;
}

/* The frames a client Initial may carry (RFC 9000 12.4): PADDING, PING,
 * ACK, CRYPTO; anything else ends the walk. */
static void
walk_frames(const uint8_t *plain, size_t len, struct crypto_buf *cb)
{
	size_t at = 0;

	while (at < len) {
		uint8_t t = plain[at++];
		uint64_t off, n, ranges;

		if (t == QUIC_F_PADDING || t == QUIC_F_PING)
			continue;
		if (t == QUIC_F_ACK || t == QUIC_F_ACK_ECN) {
			/* largest, delay, range count, first range; then
			 * two per range; ECN counts */
			if (!skip_varints(plain, len, &at, 3, &ranges) ||
			    ranges > len ||
			    !skip_varints(plain, len, &at, 1 + 2 * ranges,
					  &n) ||
			    (t == QUIC_F_ACK_ECN &&
			     !skip_varints(plain, len, &at, 3, &n)))
				return;
			continue;
		}
		if (t != QUIC_F_CRYPTO ||
		    !skip_varints(plain, len, &at, 1, &off) ||
		    !skip_varints(plain, len, &at, 1, &n) || n > len - at)
			return;
		crypto_put(cb, off, plain + at, n);
		at += (size_t)n;
	}
}

int
vpndpi_quic_initial_sni(const uint8_t *p, size_t len, char sni[DPI_SNI_MAX + 1])
{
	struct ww_quic_keys k;
	uint8_t plain[QUIC_PLAIN_MAX];
	struct crypto_buf cb;
	size_t plain_len = 0, dcid_len, n = 0;
	uint32_t pn;
	char err[128];

	sni[0] = '\0';
	/* long header, fixed bit, type Initial (RFC 9000 17.2.2) */
	if (len < 7 || (p[0] & 0xf0) != 0xc0 || vget32(p + 1) != 1)
		return -1;
	dcid_len = p[5];
	if (dcid_len < 8 || dcid_len > WW_QUIC_CID_MAX || len < 6 + dcid_len)
		return -1;
	if (ww_quic_initial_keys(p + 6, dcid_len, false, &k) != 0 ||
	    ww_quic_open_initial(p, len, &k, plain, sizeof(plain), &plain_len,
				 &pn, err, sizeof(err)) < 0)
		return -1;
	memset(cb.have, 0, sizeof(cb.have));
	walk_frames(plain, plain_len, &cb);
	while (n < VPNDPI_QUIC_CRYPTO_MAX && cb.have[n])
		n++;
	if (n < 4 || cb.data[0] != TLS_CLIENT_HELLO)
		return -1;
	return dpi_tls_hello_sni(cb.data, n, sni) == 1 ? 1 : 0;
}
