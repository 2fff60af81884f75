/*
 * quic.h - QUIC v1 packets a probe sends to ask "does a QUIC server answer
 * here?", and a defensive parser of what comes back (RFC 9000, RFC 9001).
 *
 * What is sent (docs):
 * - An Initial: a QUIC v1 long-header Initial packet whose CRYPTO frame
 *   carries a TLS 1.3 ClientHello (quic_hello.h: the target's SNI or a
 *   neutral one, ALPN "h3", an x25519 key share, the QUIC transport
 *   parameters), padded with PADDING frames so the datagram is at least
 *   1200 bytes (RFC 9000 14.1) and protected as RFC 9001 5 says: AES-128-GCM
 *   with keys derived by HKDF from the Destination Connection ID we chose,
 *   then header protection (AES-128-ECB of a sample of the ciphertext). Any
 *   on-path observer can derive those keys too: that is how the GFW reads
 *   the SNI of QUIC since April 2024 (GFW Report, USENIX Security 2025), and
 *   how tshark shows our packet.
 * - A version-negotiation ping: a long header with a reserved version
 *   0x?a?a?a?a (RFC 9000 15), no TLS and no SNI, padded to 1200 bytes. A
 *   QUIC server must answer it with a Version Negotiation packet (RFC 9000
 *   6.1), so it proves "UDP to this port reaches a QUIC stack" without any
 *   name in clear or encrypted (OONI's quicping does the same).
 *
 * What counts as an answer: a datagram that parses as one of the kinds
 * below AND echoes our connection ids (or is authenticated with keys only
 * our Destination Connection ID gives) answers OUR packet (r->ours). Sources:
 * RFC 8999 (invariants), RFC 9000 (17.2 packet formats, 19 frames, 20
 * errors), RFC 9001 (5 packet protection, 5.8 Retry integrity, Appendix A
 * test vectors), RFC 8446 (the TLS messages).
 *
 * Checked by hand (2026-12-06): tshark 4.0.17 decrypts our Initial and
 * shows the whole ClientHello; Debian 12's ngtcp2-server (gtlsserver
 * 0.12.1, a real QUIC server usable in the lab) answers it on loopback
 * with a ServerHello (Initial + Handshake + 1-RTT in one datagram), a
 * Retry whose tag verifies under -V (and a ServerHello to the Initial
 * sent after it), CONNECTION_CLOSE 0x178 (no_application_protocol) to
 * ALPN "foo", and a Version Negotiation to the ping.
 *
 * Untrusted input: every length is checked against the datagram, at most
 * WW_QUIC_MAX_PACKETS coalesced packets are looked at, decryption works on a
 * buffer capped at WW_QUIC_MAX_DATAGRAM bytes, the CRYPTO stream is kept up
 * to WW_QUIC_CRYPTO_MAX bytes. Pure code: libc and OpenSSL's libcrypto.
 */
#ifndef WW_QUIC_H
#define WW_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WW_QUIC_V1 0x00000001u
#define WW_QUIC_CID_MAX 20	   /* RFC 9000 17.2: v1 ids are <= 20 bytes */
#define WW_QUIC_TOKEN_MAX 512	   /* a Retry token we can carry back */
#define WW_QUIC_MIN_DATAGRAM 1200  /* RFC 9000 14.1 */
#define WW_QUIC_MAX_DATAGRAM 65527 /* the largest UDP payload we parse */
#define WW_QUIC_MAX_PACKETS 8	   /* coalesced packets looked at */
#define WW_QUIC_MAX_VERSIONS 16	   /* versions kept from a VN packet */
#define WW_QUIC_CRYPTO_MAX 4096	   /* CRYPTO stream bytes kept */
#define WW_QUIC_SNI_MAX 253	   /* a DNS name */
#define WW_QUIC_ALPN_MAX 64	   /* "h3" or a comma-separated list */
#define WW_QUIC_REASON_MAX 128	   /* CONNECTION_CLOSE reason kept */

/* What the probe sends; randomness comes in here (ww_quic_params_random). */
struct ww_quic_params {
	/* Destination Connection ID: 8..20 bytes for an Initial (RFC 9000
	 * 7.2); it keys the Initial's protection, both directions. */
	unsigned char dcid[WW_QUIC_CID_MAX];
	size_t dcid_len;
	/* Source Connection ID: 0..20 bytes; the server's packets carry it as
	 * their Destination Connection ID. Also sent as the transport
	 * parameter initial_source_connection_id. */
	unsigned char scid[WW_QUIC_CID_MAX];
	size_t scid_len;
	/* A Retry's token sent back (0 bytes on a first Initial). */
	unsigned char token[WW_QUIC_TOKEN_MAX];
	size_t token_len;
	uint32_t pn;	     /* packet number, sent in 4 bytes; usually 0 */
	size_t datagram_len; /* pad to this (0: 1200); 1200..1472 */
	/* The ping's version: must be a reserved 0x?a?a?a?a version. */
	uint32_t ping_version;
	/* The TLS ClientHello (quic_hello.h). */
	char sni[WW_QUIC_SNI_MAX + 1];	 /* "" sends no server_name */
	char alpn[WW_QUIC_ALPN_MAX + 1]; /* "" means "h3"; "h3,hq-interop" */
	unsigned char random[32];	 /* ClientHello.random */
	unsigned char x25519_priv[32];	 /* our key share's private key */
};

/*
 * Fill p: fresh random connection ids (8 bytes each), ClientHello.random,
 * an x25519 private key, a reserved ping version, pn 0, no token, 1200
 * bytes; sni and alpn are copied (NULL: none, and "h3"). Returns 0, or -1
 * when RAND_bytes fails or sni/alpn is too long.
 */
int ww_quic_params_random(struct ww_quic_params *p, const char *sni,
			  const char *alpn);

/*
 * The client Initial: CRYPTO frame with our ClientHello, PADDING to
 * p->datagram_len, protected with the client Initial keys of p->dcid.
 * Returns the datagram's length (== p->datagram_len, or 1200), or -1 when
 * cap is too small or a parameter is invalid. Never writes past cap.
 */
ssize_t ww_quic_build_initial(const struct ww_quic_params *p,
			      unsigned char *out, size_t cap);

/*
 * The version-negotiation ping: first byte 0xc0, p->ping_version (must
 * match 0x?a?a?a?a), p->dcid, p->scid, zeros to p->datagram_len (1200).
 * Returns the length or -1 (cap, or a version that is not reserved).
 */
ssize_t ww_quic_build_vn_ping(const struct ww_quic_params *p,
			      unsigned char *out, size_t cap);

/* --- what comes back ---------------------------------------------------- */

/*
 * r->kind, one of:
 *   "version_negotiation"  a Version Negotiation packet (version 0);
 *                          versions[] lists what the server speaks
 *   "retry"                a v1 Retry; retry_tag_ok says whether its
 *                          integrity tag verifies against our DCID
 *   "server_hello"         a server Initial we decrypted whose CRYPTO data
 *                          holds a ServerHello (or a HelloRetryRequest)
 *   "connection_close"     a server Initial with a CONNECTION_CLOSE frame
 *                          (error_code; a TLS alert is 0x100 + alert)
 *   "initial"              a server Initial we decrypted with neither
 *                          (an ACK alone, a part of the ServerHello, ...)
 *   "handshake"            v1 Handshake packets and no Initial we could
 *                          decrypt (their keys need the TLS exchange: not
 *                          decrypted), e.g. a later datagram of a server's
 *                          first flight, or its retransmission
 * Coalesced packets (RFC 9000 12.2) are all looked at; the kind is the
 * most telling one: connection_close, server_hello, initial, handshake.
 */
struct ww_quic_reply {
	const char *kind;
	/* The reply answers our packet: VN: its ids are our SCID and DCID
	 * swapped; Retry: the tag verifies with our DCID and its DCID is our
	 * SCID; Initial: it decrypts with our DCID's keys and is sent to our
	 * SCID; handshake: sent to our SCID (a non-empty one). */
	bool ours;
	uint32_t version; /* of the first packet (0 for VN) */
	unsigned char dcid[WW_QUIC_CID_MAX]; /* the reply's ids (first pkt) */
	size_t dcid_len;
	unsigned char scid[WW_QUIC_CID_MAX];
	size_t scid_len;
	/* version_negotiation */
	uint32_t versions[WW_QUIC_MAX_VERSIONS];
	size_t n_versions;	 /* kept */
	size_t n_versions_total; /* listed in the packet */
	/* A VN to our v1 Initial that offers v1 is to be ignored (RFC 9000
	 * 6.2: it answers some other packet, or was forged). */
	bool offers_v1;
	/* retry */
	bool retry_tag_ok;
	unsigned char token[WW_QUIC_TOKEN_MAX];
	size_t token_len; /* 0 when the token is longer than we keep */
	/* Initial / Handshake packets */
	unsigned n_packets;   /* long-header packets in the datagram */
	unsigned n_initial;   /* of which Initials decrypted */
	unsigned n_handshake; /* of which Handshake packets */
	/* Bytes after the last long-header packet: padding, or a 1-RTT
	 * (short header) packet a server coalesces after its Handshake
	 * packet (ngtcp2 does), which needs the TLS keys to read. */
	size_t trailing;
	bool ack; /* an ACK frame was seen */
	bool server_hello;
	bool hello_retry_request;
	uint16_t tls_version;  /* ServerHello supported_versions, 0x0304 */
	uint16_t cipher_suite; /* e.g. 0x1301 */
	uint16_t key_share;    /* group chosen, 0x001d for x25519 */
	bool connection_close;
	uint64_t error_code;		 /* CONNECTION_CLOSE's */
	uint64_t frame_type;		 /* the frame that caused it */
	int tls_alert;			 /* error_code - 0x100, or -1 */
	char reason[WW_QUIC_REASON_MAX]; /* printable ASCII, '?' for others */
	/* A decrypted Initial whose frames did not parse: what went wrong. */
	char frame_error[96];
};

/*
 * Parse one datagram that came back. sent: the params of what we sent
 * (its ids, and its DCID for the Initial keys and the Retry tag; after a
 * Retry, the params of the Initial sent with the Retry's ids). Returns 0
 * when buf is a QUIC reply (r says which kind and whether it is ours), -1
 * otherwise with err naming the problem (r->kind then NULL).
 */
int ww_quic_parse_reply(const unsigned char *buf, size_t len,
			const struct ww_quic_params *sent,
			struct ww_quic_reply *r, char *err, size_t errlen);

/*
 * The Initial to send after a Retry r of ours (RFC 9000 17.2.5.2): the
 * Retry's SCID becomes our DCID (and keys what comes back: parse the
 * answers with p as changed here), its token is carried, the packet
 * number goes up by one (never reset); the ClientHello stays the same.
 * Returns 0, or -1 (r is not a Retry of ours, its token was too long to
 * keep, or its SCID is not a valid DCID) with p unchanged.
 */
int ww_quic_params_after_retry(struct ww_quic_params *p,
			       const struct ww_quic_reply *r);

/*
 * Does r show a QUIC server reachable at the address we sent to? True for
 * every kind when r->ours: a Version Negotiation echoing our ids, a Retry
 * whose tag verifies, a server Initial (ServerHello, CONNECTION_CLOSE, a
 * bare ACK) that decrypts with our keys, Handshake packets sent to our
 * SCID. A CONNECTION_CLOSE proves the server up even when it refused us
 * (e.g. TLS alert no_application_protocol). False for NULL or foreign.
 */
bool ww_quic_reply_proves_up(const struct ww_quic_reply *r);

/* RFC 9000 20.1 name of a transport error code ("PROTOCOL_VIOLATION",
 * "CRYPTO_ERROR" for 0x100..0x1ff), or NULL. */
const char *ww_quic_error_name(uint64_t code);

/* RFC 8446 6 name of a TLS alert ("handshake_failure"), or NULL. */
const char *ww_quic_tls_alert_name(int alert);

/* --- the building blocks (tests, the lab's responder and censor) -------- */

/* RFC 9000 16 variable-length integers. put: bytes written (the shortest
 * encoding), -1 when cap is short or v >= 2^62. get: bytes read, -1 when
 * truncated. */
int ww_quic_varint_put(unsigned char *out, size_t cap, uint64_t v);
int ww_quic_varint_get(const unsigned char *buf, size_t len, uint64_t *v);

/* One direction's Initial packet protection keys (RFC 9001 5.2). */
struct ww_quic_keys {
	unsigned char key[16];
	unsigned char iv[12];
	unsigned char hp[16];
};

/* Derive the client's (server false) or server's Initial keys from the
 * client's first DCID. Returns 0, or -1 when libcrypto fails. */
int ww_quic_initial_keys(const unsigned char *dcid, size_t dcid_len,
			 bool server, struct ww_quic_keys *k);

/* A v1 Initial packet to seal: the frames are sent as given, then PADDING
 * so that the packet is pad_to bytes long (0: no padding). */
struct ww_quic_initial {
	const unsigned char *dcid;
	size_t dcid_len;
	const unsigned char *scid;
	size_t scid_len;
	const unsigned char *token;
	size_t token_len;
	uint32_t pn; /* sent in 4 bytes */
	const unsigned char *frames;
	size_t frames_len;
	size_t pad_to;
};

/* Build and protect (AEAD, then header protection) an Initial with k.
 * Returns its length, -1 on a short cap or bad ids. */
ssize_t ww_quic_seal_initial(const struct ww_quic_initial *in,
			     const struct ww_quic_keys *k, unsigned char *out,
			     size_t cap);

/*
 * Open the v1 Initial packet at the start of buf (which may hold more
 * coalesced packets after it): remove header protection, decrypt with k.
 * The plaintext frames go to plain (cap plain_cap), their length to
 * *plain_len, the packet number to *pn. Returns the packet's length in
 * buf, or -1 (err: truncated, lengths, authentication failed).
 */
ssize_t ww_quic_open_initial(const unsigned char *buf, size_t len,
			     const struct ww_quic_keys *k, unsigned char *plain,
			     size_t plain_cap, size_t *plain_len, uint32_t *pn,
			     char *err, size_t errlen);

/* The Retry integrity tag (RFC 9001 5.8) of a Retry packet without its
 * tag (pkt, len) sent in answer to an Initial whose DCID was odcid.
 * Returns 0, -1 on bad lengths or a libcrypto failure. */
int ww_quic_retry_tag(const unsigned char *odcid, size_t odcid_len,
		      const unsigned char *pkt, size_t len,
		      unsigned char tag[16]);

/*
 * The frames of a decrypted server Initial (plain, len) into r: ACK,
 * CRYPTO (reassembled from offset 0, then the ServerHello parsed),
 * CONNECTION_CLOSE, PADDING, PING. Returns 0, or -1 with err naming the
 * first bad frame (what came before it stays in r). Sets r->kind only
 * through ww_quic_parse_reply(); this is exposed for the fuzz target.
 */
int ww_quic_parse_initial_frames(const unsigned char *plain, size_t len,
				 struct ww_quic_reply *r, char *err,
				 size_t errlen);

#endif
