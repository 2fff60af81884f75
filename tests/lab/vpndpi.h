/*
 * vpndpi.h - what the lab's censor (censor.c, vpncensor.c) recognises of
 * VPN and QUIC traffic, the way the Great Firewall is reported to: by the
 * shape of a protocol's first client packet, and for QUIC by the server
 * name inside the Initial, which anyone on the path can decrypt (its keys
 * come from the client's Destination Connection ID, RFC 9001 5.2). Pure
 * functions over untrusted bytes (a UDP or TCP payload), no I/O, no
 * allocation: the unit tests and the fuzz target (tests/fuzz/fuzz_vpndpi.c)
 * include vpndpi.c and dpi.c and call them directly.
 *
 * Sources: Xue et al., "OpenVPN is Open to VPN Fingerprinting" (USENIX
 * Security 2022: the opcode of the first packets, and over TCP the 2-byte
 * length in front); RFC 7296 3.1 (the IKE header); the WireGuard whitepaper
 * 5.4.2 (the 148-byte initiation, type 1 and three zero bytes); GFW Report,
 * "Exposing and Circumventing SNI-based QUIC Censorship of the Great
 * Firewall of China" (USENIX Security 2025: the Initial decrypted, its SNI
 * read); Wu et al., USENIX Security 2023 (the fully-encrypted-traffic
 * rule: engine/core/neutral.h's ww_neutral_fet_exempt()).
 */
#ifndef WW_VPNDPI_H
#define WW_VPNDPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpi.h"

/* The longest first packet taken for an OpenVPN client reset: the reset
 * (14 bytes), with tls-auth and SHA-512 (86), or tls-crypt (54). */
#define VPNDPI_OPENVPN_MAX 96
/* CRYPTO stream bytes of a QUIC Initial the censor reassembles. */
#define VPNDPI_QUIC_CRYPTO_MAX 4096

/*
 * An OpenVPN client's hard reset (P_CONTROL_HARD_RESET_CLIENT_V2 or V3,
 * opcode 7 or 10, key id 0) in a UDP datagram p[0..len): the first byte
 * and a length of 14..VPNDPI_OPENVPN_MAX. With tcp, the same behind
 * OpenVPN's 2-byte big-endian length, which must equal len - 2 (the whole
 * frame in one segment, as a client's first write is).
 */
bool vpndpi_openvpn_reset(const uint8_t *p, size_t len, bool tcp);

/*
 * An IKEv2 IKE_SA_INIT request (RFC 7296 3.1): version 2.0, exchange 34,
 * the initiator flag without the response flag, message id 0, a zero
 * responder SPI, a length equal to the bytes given. natt: the datagram came
 * to port 4500 and starts with the 4-byte non-ESP marker (RFC 3948 2.2).
 */
bool vpndpi_ikev2_sa_init(const uint8_t *p, size_t len, bool natt);

/* A WireGuard handshake initiation: 148 bytes, type 1, three zero bytes. */
bool vpndpi_wireguard_initiation(const uint8_t *p, size_t len);

/*
 * A QUIC v1 client Initial (long header, version 1, type Initial, a
 * Destination Connection ID of 8..20 bytes) that decrypts with the client
 * Initial keys of its DCID and whose CRYPTO frames, from offset 0, hold a
 * TLS ClientHello. Returns 1 with its server name in sni, 0 with sni ""
 * when the ClientHello names none, -1 when p is no such packet (another
 * version, such as a version-negotiation ping's reserved one, a packet
 * that does not decrypt, no CRYPTO data at offset 0, no ClientHello).
 * Only the first packet of a coalesced datagram is read.
 */
int vpndpi_quic_initial_sni(const uint8_t *p, size_t len,
			    char sni[DPI_SNI_MAX + 1]);

#endif
