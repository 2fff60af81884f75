/*
 * ikev2.h - an IKEv2 IKE_SA_INIT request (RFC 7296) and a defensive parser
 * of what comes back: does an IKEv2 responder answer at host:500 (or 4500)?
 *
 * For the docs. What is sent: one IKE_SA_INIT request, as a real client's
 * first datagram: header (random SPIi, SPIr 0, version 2.0, exchange 34,
 * flags 0x08 "initiator", message id 0); an SA payload with two proposals,
 * AES-CBC-256/128 + PRF-HMAC-SHA2-256 + HMAC-SHA2-256-128 and
 * AES-GCM-16-256/128 + PRF-HMAC-SHA2-256, each with the DH groups (default
 * 19, 31, 14: ECP-256, Curve25519, MODP-2048, the groups iOS/macOS,
 * strongSwan and Windows clients offer); a KE payload for the first group
 * carrying a real ephemeral public value made by OpenSSL (a responder that
 * validates the point, as strongSwan does, would drop a random one); a
 * 32-byte Ni; NAT_DETECTION_SOURCE_IP / _DESTINATION_IP (SHA-1 of SPIi,
 * SPIr, address and port, RFC 7296 2.23), IKEV2_FRAGMENTATION_SUPPORTED
 * (RFC 7383) and SIGNATURE_HASH_ALGORITHMS (RFC 7427) notifies. On UDP
 * 4500 the datagram starts with the 4-byte non-ESP marker (RFC 3948 2.2;
 * RFC 7296 2.23 lets an initiator start on 4500). A resend carries the
 * responder's COOKIE first (RFC 7296 2.6), or a KE for the group an
 * INVALID_KE_PAYLOAD asked for (1.2), see ww_ikev2_params_retry().
 * What counts as an answer: an IKEv2 message from the port we sent to, a
 * response (flag R) of exchange IKE_SA_INIT or INFORMATIONAL, whose SPIi is
 * ours, every length consistent. Any such answer proves a live IKEv2
 * responder without credentials: an IKE_SA_INIT response (SA, KE, Nr), or
 * a notify INVALID_KE_PAYLOAD (17), NO_PROPOSAL_CHOSEN (14), COOKIE (16390)
 * or another error/status (an IKEv1 message to our SPIi proves an IKE
 * responder that speaks only version 1). Silence (or ICMP) is blocked or
 * down: only the control from outside tells which. A real responder may
 * also go quiet on purpose: strongSwan answers COOKIE once 3 IKE_SAs of
 * one source are half open (cookie_threshold_ip; our probe never finishes
 * one) and drops its requests past 5 (block_threshold), as seen on
 * loopback until the half-open ones time out; so retests of one
 * target must be spaced. Sources: RFC 7296 (sections 1.2, 2.6, 2.23, 3),
 * RFC 3948, RFC 5903 (ECP public values x|y), RFC 8031 (Curve25519),
 * ike-scan and strongSwan's behaviour (field notes 3.3).
 *
 * Pure code: libc and libcrypto only. Randomness comes in through the
 * params, so the builder is deterministic; ww_ikev2_params_random() fills
 * them from OpenSSL.
 */
#ifndef WW_IKEV2_H
#define WW_IKEV2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define WW_IKEV2_PORT 500
#define WW_IKEV2_NATT_PORT 4500
#define WW_IKEV2_MAX_GROUPS 8
#define WW_IKEV2_KE_MAX 512    /* MODP-4096, the largest group we build */
#define WW_IKEV2_COOKIE_MAX 64 /* RFC 7296 2.6: 1 to 64 octets */
#define WW_IKEV2_NONCE_LEN 32
#define WW_IKEV2_MAX_PAYLOADS 64 /* the parser refuses longer chains */

/* Exchange types, payload types and notify types we name (RFC 7296 3). */
#define WW_IKEV2_EXCH_SA_INIT 34
#define WW_IKEV2_EXCH_INFORMATIONAL 37
#define WW_IKEV2_N_NO_PROPOSAL_CHOSEN 14
#define WW_IKEV2_N_INVALID_KE_PAYLOAD 17
#define WW_IKEV2_N_COOKIE 16390

struct ww_ikev2_params {
	unsigned char spi_i[8]; /* our SPI, never all zero */
	unsigned char nonce[WW_IKEV2_NONCE_LEN];
	uint16_t groups[WW_IKEV2_MAX_GROUPS]; /* DH groups offered, in order */
	size_t n_groups;		      /* 1..WW_IKEV2_MAX_GROUPS */
	uint16_t ke_group; /* the KE's group: one of groups (0: groups[0]) */
	unsigned char ke[WW_IKEV2_KE_MAX]; /* public value of ke_group */
	size_t ke_len;			   /* exactly the group's size */
	bool natt; /* UDP 4500: prefix the non-ESP marker */
	unsigned char cookie[WW_IKEV2_COOKIE_MAX]; /* resend after COOKIE */
	size_t cookie_len;			   /* 0: no cookie */
	/*
	 * For NAT detection: the addresses and ports as the datagram will
	 * carry them (family AF_INET: 4 bytes, AF_INET6: 16, network order;
	 * ports host order). family 0 leaves both NAT_DETECTION notifies out.
	 */
	int family;
	unsigned char src_addr[16], dst_addr[16];
	uint16_t src_port, dst_port;
};

/*
 * A reply. kind is one of:
 *   "sa_init_response"  IKE_SA_INIT response with SA, KE and Nonce (and no
 *                       error notify); encr/prf/integ/dh the chosen ones
 *   "notify_invalid_ke" error notify INVALID_KE_PAYLOAD; group = the group
 *                       the responder wants
 *   "notify_no_proposal" error notify NO_PROPOSAL_CHOSEN
 *   "notify_cookie"     COOKIE notify (no error); cookie/cookie_len
 *   "notify_other"      an IKE_SA_INIT response carrying another notify
 *                       (error first, else the first status notify: e.g.
 *                       REDIRECT 16407); notify_type says which
 *   "informational"     an INFORMATIONAL response (usually encrypted: its
 *                       unencrypted notify, if any, in notify_type)
 *   "ikev1"             an IKEv1 (ISAKMP, RFC 2408) message: a responder
 *                       speaking only version 1 (the header alone is
 *                       checked: lengths, and our SPIi as its initiator
 *                       cookie; its flags and payloads are not read)
 * The first error notify (type below 16384) in the chain decides, then a
 * COOKIE, then SA+KE+Nonce, then the first status notify. kind is NULL
 * when the parser returns -1.
 */
struct ww_ikev2_reply {
	const char *kind;
	bool ours; /* SPIi is the one we sent */
	bool natt; /* a non-ESP marker was stripped */
	unsigned char spi_i[8], spi_r[8];
	uint8_t version;  /* 0x20 */
	uint8_t exchange; /* 34 or 37 */
	uint8_t flags;	  /* 0x20 (response) */
	uint32_t msg_id;
	size_t length; /* the IKE message's length (no marker) */
	size_t n_payloads;
	uint16_t notify_type; /* the deciding notify, 0 when none */
	uint16_t group;	      /* INVALID_KE: asked; SA_INIT: the KE's group */
	unsigned char cookie[WW_IKEV2_COOKIE_MAX];
	size_t cookie_len;
	/* sa_init_response: the chosen transform ids (0: none stated) */
	uint16_t encr, encr_keylen, prf, integ, dh;
};

/* The public value's length for group (0 when we do not build it). */
size_t ww_ikev2_ke_len(uint16_t group);

/*
 * A real ephemeral public value of group (14, 15, 16 MODP, 19, 20, 21 ECP,
 * 31 Curve25519) from OpenSSL into out, in IKEv2's encoding (MODP
 * left-padded to the prime's size, ECP x|y, X25519 raw). The private key is
 * thrown away: we never finish the exchange. Returns the length or -1.
 */
ssize_t ww_ikev2_make_ke(uint16_t group, unsigned char *out, size_t cap);

/*
 * Fill p for a first request: random SPIi and Ni, default groups (19, 31,
 * 14) and a KE for the first, natt as given, no cookie, family 0 (set the
 * addresses after, when the socket knows them). Returns 0 or -1.
 */
int ww_ikev2_params_random(struct ww_ikev2_params *p, bool natt);

/*
 * Set p's NAT-detection addresses from the socket's own address (src, as
 * getsockname() gives it after connect()) and the responder's (dst); both
 * AF_INET or both AF_INET6. Returns 0, or -1 on another or mixed family.
 */
int ww_ikev2_params_set_addrs(struct ww_ikev2_params *p,
			      const struct sockaddr *src,
			      const struct sockaddr *dst);

/*
 * Build the IKE_SA_INIT request into out (with the non-ESP marker when
 * p->natt). Returns its length, or -1 when cap is too small or p is
 * invalid (SPIi zero, no group, ke_group not offered, ke_len not the
 * group's size, cookie over 64 bytes, unknown family).
 */
ssize_t ww_ikev2_build_sa_init(const struct ww_ikev2_params *p,
			       unsigned char *out, size_t cap);

/*
 * Parse a datagram that came back. sent: what we sent (its SPIi and natt:
 * with natt the datagram must start with the non-ESP marker). Returns 0
 * when it is an IKEv2 response to IKE_SA_INIT, an INFORMATIONAL response
 * or an IKEv1 message
 * (r->ours tells whether its SPIi is ours), -1 otherwise with err naming
 * the problem ("truncated at byte 12", "flags 0x08: not a response", ...).
 */
int ww_ikev2_parse_reply(const unsigned char *buf, size_t len,
			 const struct ww_ikev2_params *sent,
			 struct ww_ikev2_reply *r, char *err, size_t errlen);

/*
 * Does r prove a live IKE responder at the address and port? Every kind
 * does when the reply answers our SPIi (an SA_INIT response, any notify,
 * even an INFORMATIONAL: only an IKE implementation holding our SPIi sends
 * one; "ikev1" proves an IKE responder that speaks only version 1); a
 * reply to another SPIi proves nothing about our packet.
 */
bool ww_ikev2_reply_proves_up(const struct ww_ikev2_reply *r);

/*
 * Prepare p for the resend r asks for: a COOKIE is copied in (RFC 7296
 * 2.6); an INVALID_KE_PAYLOAD's group becomes ke_group with a new public
 * value from OpenSSL (1.2). Returns 1 when p is ready to resend, 0 when r
 * asks for no resend, -1 when it cannot be honoured (the group was not
 * offered or is the one we sent, a cookie is too long, keygen failed).
 */
int ww_ikev2_params_retry(struct ww_ikev2_params *p,
			  const struct ww_ikev2_reply *r);

#endif
