/*
 * quic_hello.h - the TLS 1.3 ClientHello a QUIC client sends in its first
 * CRYPTO frame (RFC 9001 4.1, RFC 8446 4.1.2), our own encoder, and a
 * reader of the ServerHello that comes back.
 *
 * The hello offers what a browser's QUIC stack offers, so that a censor
 * sees an ordinary HTTP/3 client: TLS 1.3 only (supported_versions), the
 * three TLS 1.3 suites, groups x25519/secp256r1/secp384r1 with an x25519
 * key share (public key computed by OpenSSL from p->x25519_priv),
 * signature_algorithms, psk_key_exchange_modes, ALPN (h3 by default),
 * server_name when p->sni is not empty, and quic_transport_parameters
 * (0x39, RFC 9000 18) with initial_source_connection_id = p->scid. The
 * legacy_session_id is empty (RFC 9001 8.4) and there is no
 * middlebox-compatibility padding.
 */
#ifndef WW_QUIC_HELLO_H
#define WW_QUIC_HELLO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "quic.h"

/* The ClientHello handshake message (type 1, 3-byte length, body) of p.
 * Returns its length, or -1 when cap is short or p is invalid (an SNI
 * that is not a host name, an empty or over-long ALPN entry, ids over 20
 * bytes, an x25519 key OpenSSL refuses). */
ssize_t ww_quic_hello_build(const struct ww_quic_params *p, unsigned char *out,
			    size_t cap);

/* The quic_transport_parameters extension body we send (RFC 9000 18.2).
 * Returns its length or -1 when cap is short. */
ssize_t ww_quic_transport_params(const struct ww_quic_params *p,
				 unsigned char *out, size_t cap);

/*
 * Read a ServerHello handshake message (type 2, header included) from
 * msg: fills r->server_hello, hello_retry_request (the special random of
 * RFC 8446 4.1.3), tls_version (supported_versions, else the legacy
 * version), cipher_suite and key_share. Returns 0, or -1 with err (not a
 * ServerHello, lengths that do not add up).
 */
int ww_quic_parse_server_hello(const unsigned char *msg, size_t len,
			       struct ww_quic_reply *r, char *err,
			       size_t errlen);

#endif
