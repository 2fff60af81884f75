/*
 * wireguard.h - a WireGuard handshake initiation and a defensive parser of
 * what a WireGuard server sends back (whitepaper "WireGuard: Next
 * Generation Kernel Network Tunnel", section 5.4; the Noise_IKpsk2 pattern).
 * Pure code: libc and OpenSSL 3.0's libcrypto (X25519, ChaCha20-Poly1305,
 * BLAKE2s-256, the BLAKE2SMAC MAC, HMAC over BLAKE2s).
 *
 * What is sent (for docs/measurement-format.md): one UDP datagram of 148
 * bytes, a handshake initiation (type 1) to the server's public key: our
 * sender index, a fresh ephemeral key, our static public key and a TAI64N
 * timestamp encrypted to the server, MAC1 keyed with
 * HASH("mac1----" || server public key), MAC2 zero unless a cookie is known.
 *
 * What counts as an answer. A server drops an initiation with a bad MAC1
 * silently; with a valid MAC1 it either, under load, sends a cookie reply
 * (type 3, 64 bytes, no peer authentication) or decrypts our static key and
 * answers only a registered peer, with a handshake response (type 2, 92
 * bytes). So:
 * - with a registered test key (the server lists our public key as a peer)
 *   a handshake response that names our sender index and carries a MAC1
 *   valid for our public key means the server is up; the parser also
 *   completes the Noise handshake (`verified`: the empty payload decrypts,
 *   which takes the server's private key, and the preshared key if any);
 * - without one (a random static key each time) a live server stays
 *   silent, exactly as a blocked or dead one: nothing can be concluded from
 *   silence alone; only the probe-vs-control differential, a neutral
 *   payload to the same port, or a server-side arrival log can tell;
 * - a cookie reply naming our index whose cookie decrypts (XChaCha20-
 *   Poly1305, key from the server's public key, our MAC1 as associated data)
 *   means a WireGuard responder under load saw our very initiation: up,
 *   though weaker proof (anyone who knows the public key and saw our packet
 *   could forge it).
 * Replay protection: a server drops an initiation whose timestamp is not
 * newer than the last one it accepted from that key, and one that comes
 * within 20 ms of the previous one. A probe and a control sharing one test
 * key, with the probe's clock behind, make the probe's initiations vanish:
 * give each its own key.
 *
 * Driving it from a UDP step: fill server_pub (ww_wg_key_from_base64 of
 * the target's ?pubkey=), and static_priv with registered = true when a
 * test key is given (ww_wg_key_from_file), plus psk if the server has one
 * for it; ww_wg_params_random(); ww_wg_build_initiation(); send; pass
 * every datagram that comes back to ww_wg_parse_reply() with the same
 * params. A retransmission is a new initiation: call
 * ww_wg_params_random() again (new ephemeral key, index and timestamp)
 * and keep the old params to parse late replies to the old one. After a
 * cookie reply with cookie_ok, copy r.cookie into p.cookie, set
 * has_cookie, and send a new initiation at once: the server honours a
 * cookie for two minutes at most. Cost: about 0.35 ms of CPU per build
 * and per parsed datagram (four X25519 operations; the parser rebuilds
 * our initiation from params to get our MAC1 and handshake state).
 *
 * Sources: the whitepaper; wireguard-go's device/noise-protocol.go (the
 * replay and flood checks) and device/constants.go (20 ms between
 * initiations, cookies refreshed every 120 s, "under load" kept 1 s);
 * XChaCha20: draft-irtf-cfrg-xchacha-03. Checked byte for byte against
 * Debian 12's wireguard-go on loopback (the vectors of test_wireguard.c).
 */
#ifndef WW_WIREGUARD_H
#define WW_WIREGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WW_WG_KEY_LEN 32
#define WW_WG_INITIATION_LEN 148
#define WW_WG_RESPONSE_LEN 92
#define WW_WG_COOKIE_REPLY_LEN 64
#define WW_WG_DATA_MIN_LEN 32 /* header 16 + Poly1305 tag 16 */

/*
 * Everything an initiation is made of. Randomness and the clock come in
 * here (ww_wg_params_random() fills them), so a build is deterministic.
 */
struct ww_wg_params {
	unsigned char
		server_pub[WW_WG_KEY_LEN]; /* the responder's static key */
	unsigned char
		static_priv[WW_WG_KEY_LEN]; /* ours: registered or random */
	bool registered; /* static_priv is a provisioned test peer */
	unsigned char psk[WW_WG_KEY_LEN]; /* preshared key; all zero if none */
	unsigned char ephemeral_priv[WW_WG_KEY_LEN];
	uint32_t sender_index; /* our session index, echoed by the server */
	unsigned char timestamp[12]; /* TAI64N: must grow per static key */
	bool has_cookie;	     /* cookie from an earlier cookie reply */
	unsigned char cookie[16];    /* keys MAC2 when has_cookie */
};

/*
 * Fill the per-initiation fields of p from RAND_bytes and the real-time
 * clock: ephemeral key, sender index, timestamp, and a random static key
 * unless p->registered. server_pub, psk and the cookie are left alone.
 * Returns 0, or -1 when the random generator fails.
 */
int ww_wg_params_random(struct ww_wg_params *p);

/*
 * The handshake initiation (type 1, WW_WG_INITIATION_LEN bytes) into out.
 * Returns its length, or -1 when cap is too small or a key is unusable
 * (the server key a low-order point, say); nothing is written past cap.
 */
ssize_t ww_wg_build_initiation(const struct ww_wg_params *p, unsigned char *out,
			       size_t cap);

/*
 * What one datagram from the server was. kind is one of:
 *   "handshake_response"   type 2; proves up when answers_ours and mac1_ok
 *   "cookie_reply"         type 3; proves up when answers_ours and cookie_ok
 *   "handshake_initiation" type 1: the server initiating to us (it lists
 *                          our key with our address as endpoint); never
 *                          an answer to our packet, does not prove up
 *   "transport_data"       type 4; a responder never sends data on a new
 *                          session first: does not prove up
 */
struct ww_wg_reply {
	const char *kind;
	int type;		 /* 1..4 */
	uint32_t sender_index;	 /* types 1, 2: the peer's index */
	uint32_t receiver_index; /* types 2, 3, 4 */
	bool answers_ours;	 /* receiver_index == our sender_index */
	bool mac1_ok;		 /* types 1, 2: MAC1 valid for our public key */
	bool mac2_zero;		 /* types 1, 2: MAC2 all zero (no cookie) */
	/*
	 * Type 2: answers_ours, mac1_ok, and the Noise handshake completed
	 * with our ephemeral and static keys and p->psk (the empty payload
	 * authenticated): every check an initiator makes. mac1_ok without
	 * it usually means the server has a preshared key for us we lack.
	 * Type 1: its static key decrypted (with our static key) to
	 * p->server_pub and its timestamp authenticated: the server itself.
	 */
	bool verified;
	bool cookie_ok; /* type 3: the cookie decrypted and authenticated */
	unsigned char cookie[16]; /* type 3, when cookie_ok: set has_cookie */
	uint64_t counter;	  /* type 4: the sender's nonce counter */
};

/*
 * Parse one datagram buf of len bytes received after sending the
 * initiation built from p (the parser rebuilds it: it needs our MAC1 and
 * the handshake state). Returns 0 when buf is a WireGuard message (r says
 * which kind and how far it checks out: a wrong index or MAC is a 0 with
 * answers_ours or mac1_ok false), -1 otherwise with err naming the
 * problem ("truncated: 3 bytes, a message has a 4-byte header", "type 2
 * message of 91 bytes, a handshake response is 92", ...).
 */
int ww_wg_parse_reply(const unsigned char *buf, size_t len,
		      const struct ww_wg_params *p, struct ww_wg_reply *r,
		      char *err, size_t errlen);

/* Does r prove a live WireGuard server answered us? Per kind above. */
bool ww_wg_reply_proves_up(const struct ww_wg_reply *r);

/*
 * A key in wg(8)'s format: 44 characters of standard base64 ending in one
 * '=', canonical (the unused low bits zero); surrounding blanks and line
 * ends are ignored (a key file from `wg genkey`). Returns 0, or -1 with
 * err naming the problem (the length, the first bad character and where).
 */
int ww_wg_key_from_base64(const char *s, unsigned char key[WW_WG_KEY_LEN],
			  char *err, size_t errlen);

/* key as wg(8) prints it: out gets 44 characters and a NUL (cap >= 45). */
int ww_wg_key_to_base64(const unsigned char key[WW_WG_KEY_LEN], char *out,
			size_t cap);

/*
 * Read a key file (one base64 key, at most 256 bytes, as `wg genkey`
 * writes it). Returns 0, or -1 with err saying why (cannot open, too
 * long, not a key).
 */
int ww_wg_key_from_file(const char *path, unsigned char key[WW_WG_KEY_LEN],
			char *err, size_t errlen);

/* The X25519 public key of priv. Returns 0, or -1 on failure. */
int ww_wg_public_key(const unsigned char priv[WW_WG_KEY_LEN],
		     unsigned char pub[WW_WG_KEY_LEN]);

#endif
