/*
 * openvpn.h - OpenVPN's control-channel packets, built and parsed without
 * credentials: the client's hard reset, an ACK of the server's reset, the
 * TCP probes of Xue et al., and a defensive parser of what comes back.
 *
 * What is sent (OpenVPN 2.x, src/openvpn/ssl_pkt.[ch], reliable.c,
 * tls_crypt.c; field notes 2, section 3.1). A control packet is
 *
 *   opcode<<3 | key_id (1)   our session id (8)
 *   [tls-auth: HMAC (20/32/64) | packet id (4) | time (4)]
 *   [tls-crypt: packet id (4) | time (4) | tag (32) | then the rest
 *    AES-256-CTR encrypted]
 *   ack count (1) | acked packet ids (4 each) | [peer's session id (8),
 *   when count > 0] | message packet id (4, not in P_ACK_V1) | payload
 *
 * over UDP as one datagram, over TCP behind a 2-byte big-endian length.
 * The client's first packet is P_CONTROL_HARD_RESET_CLIENT_V2 (opcode 7,
 * first byte 0x38) with no acks, message packet id 0 and no payload: 14
 * bytes over UDP, 16 over TCP, 22 + the digest's length with tls-auth (42
 * with SHA1), 54 with tls-crypt. tls-auth's HMAC covers packet id | time
 * | opcode | session id | the rest; its key is the HMAC half of the static
 * key file's key 0 or 1 by --key-direction (a client uses 1: sends with
 * key 1, checks with key 0; without a direction both ways use key 0), cut
 * to the digest's length.
 * tls-crypt takes HMAC-SHA256 over the header (opcode .. time) and the
 * plaintext, and the first 16 bytes of that tag are the CTR IV; a client
 * always sends with key 1 and checks with key 0. (tls-crypt-v2, opcode 10,
 * needs a per-client wrapped key and is not built here.)
 *
 * What counts as an answer: an OpenVPN server answers a valid reset with
 * P_CONTROL_HARD_RESET_SERVER_V2 (opcode 8, 0x40) whose ack array holds
 * packet id 0 and whose peer session id is OUR session id (OpenVPN 2.6's
 * stateless server derives its own session id from ours by an HMAC and
 * sends nothing else until we ACK it). That is proof the server is up and
 * speaks OpenVPN. A server with tls-auth or tls-crypt drops a packet
 * without a valid HMAC and stays silent: without the key, silence cannot
 * be told from a block (compare with the control). Over TCP, Xue et al.
 * (USENIX Security 2022, "OpenVPN is Open to VPN Fingerprinting") tell an
 * OpenVPN server without its key by timing: it closes at once (FIN) on a
 * full reset whose HMAC fails, but waits for a reset missing its last byte
 * (WW_OPENVPN_PROBE_RESET_SHORT); and it resets the connection (RST) on a
 * frame declaring more than its buffer (1550-1660 bytes by the field
 * notes' summary of the paper; 1768 in Debian 12's OpenVPN 2.6.14, which
 * logs "Bad encapsulated packet length from peer (1998), which must be > 0
 * and <= 1768"), where servers of other protocols mostly wait or answer
 * (WW_OPENVPN_PROBE_OVERSIZE, 2000 bytes in all). Checked by hand against
 * Debian's 2.6.14 on loopback: a server without a wrap answers the reset
 * and waits on the short one; with tls-auth or tls-crypt, FIN on the reset
 * within milliseconds and a wait on the short one; RST on the oversize
 * probe in all three (Python's http.server: 386 bytes of "400" then FIN).
 *
 * A step in full: ww_openvpn_build_reset(), the server's "server_reset"
 * (ww_openvpn_reply_proves_up), ww_openvpn_build_ack() with replay packet
 * id 2 (the server then stops retransmitting; OpenVPN 2.6's stateless
 * server logs "Valid packet (P_ACK_V1) with HMAC challenge from peer,
 * accepting new connection"). To see how far the flow gets (a censor that
 * passes the reset and kills the TLS exchange), send a TLS ClientHello in
 * P_CONTROL_V1 (ww_openvpn_build, message packet id 1, replay packet id 3):
 * the server answers with "control" packets carrying its TLS flight.
 *
 * Everything here is pure: the caller owns the socket. Randomness (session
 * id, the oversize probe's filler) comes in through the params, so tests
 * are deterministic; ww_openvpn_params_random() fills it.
 */
#ifndef WW_OPENVPN_H
#define WW_OPENVPN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WW_OPENVPN_SID_LEN 8
/* OpenVPN's RELIABLE_ACK_SIZE: a peer never sends more acks at once. */
#define WW_OPENVPN_MAX_ACKS 8
/* A static key file: two keys, each 64 cipher bytes then 64 HMAC bytes. */
#define WW_OPENVPN_KEY_LEN 256
/* Longest packet the parser decrypts (tls-crypt); OpenVPN's TCP frames
 * stay well under it, a longer one is refused. */
#define WW_OPENVPN_MAX_PACKET 4096
/* The oversize TCP probe's length on the wire (length prefix included). */
#define WW_OPENVPN_OVERSIZE_LEN 2000
/* Longest text ww_openvpn_key_parse() reads (a whole .ovpn profile with
 * its certificates fits). */
#define WW_OPENVPN_KEY_TEXT_MAX (256 * 1024)

/* Opcodes (high 5 bits of the first byte). */
enum ww_openvpn_opcode {
	WW_OPENVPN_HARD_RESET_CLIENT_V1 = 1,
	WW_OPENVPN_HARD_RESET_SERVER_V1 = 2,
	WW_OPENVPN_SOFT_RESET_V1 = 3,
	WW_OPENVPN_CONTROL_V1 = 4,
	WW_OPENVPN_ACK_V1 = 5,
	WW_OPENVPN_DATA_V1 = 6,
	WW_OPENVPN_HARD_RESET_CLIENT_V2 = 7,
	WW_OPENVPN_HARD_RESET_SERVER_V2 = 8,
	WW_OPENVPN_DATA_V2 = 9,
	WW_OPENVPN_HARD_RESET_CLIENT_V3 = 10,
	WW_OPENVPN_CONTROL_WKC_V1 = 11,
};

enum ww_openvpn_wrap {
	WW_OPENVPN_WRAP_NONE = 0,
	WW_OPENVPN_WRAP_AUTH, /* --tls-auth: HMAC */
	WW_OPENVPN_WRAP_CRYPT /* --tls-crypt: HMAC-SHA256 + AES-256-CTR */
};

/* tls-auth's digest (OpenVPN's --auth; SHA1 is its default). */
enum ww_openvpn_digest {
	WW_OPENVPN_SHA1 = 0,
	WW_OPENVPN_SHA256,
	WW_OPENVPN_SHA512
};

/* A parsed "OpenVPN Static key V1" file: n_keys 2 (256 bytes, the usual
 * 2048-bit key) or 1 (128 bytes, usable by tls-auth without a key
 * direction only). */
struct ww_openvpn_key {
	unsigned char bytes[WW_OPENVPN_KEY_LEN];
	int n_keys;
};

struct ww_openvpn_params {
	bool tcp;				      /* 2-byte length prefix */
	unsigned char session_id[WW_OPENVPN_SID_LEN]; /* ours: random */
	enum ww_openvpn_wrap wrap;
	const struct ww_openvpn_key *key; /* needed unless wrap is NONE */
	int key_direction; /* tls-auth: -1 none, 0 or 1 (clients: 1) */
	enum ww_openvpn_digest digest; /* tls-auth only */
	uint32_t net_time; /* tls-auth/tls-crypt timestamp, seconds */
	/* The oversize probe's bytes after its length prefix: random. */
	unsigned char noise[WW_OPENVPN_OVERSIZE_LEN - 2];
};

/*
 * Fill p for a client's first packets: a random session id (never all
 * zero: OpenVPN refuses that), random noise, net_time from time(), no
 * wrap, no TCP, key direction 1, SHA1. Returns 0, -1 when RAND_bytes fails.
 */
int ww_openvpn_params_random(struct ww_openvpn_params *p);

/*
 * Parse a static key file's text (len bytes, no NUL needed): the first
 * "-----BEGIN OpenVPN Static key V1-----" line, hex digits and white space,
 * the "-----END OpenVPN Static key V1-----" line. Text around the block is
 * ignored (so an .ovpn profile with an inline <tls-auth> works). Exactly
 * 128 or 256 bytes of key, anything else inside the block is an error.
 * Returns 0, or -1 with err naming the problem and the line.
 */
int ww_openvpn_key_parse(const char *text, size_t len, struct ww_openvpn_key *k,
			 char *err, size_t errlen);

/*
 * The control-channel settings of a client profile (.ovpn), which VPN
 * providers publish with their key inline: an inline <tls-auth> or
 * <tls-crypt> block (its key parsed as above), "key-direction 0|1" (or the
 * direction on a "tls-auth [inline] N" line) and "auth SHA1|SHA256|SHA512".
 * Other inline blocks (<ca>, <cert>, ...) are skipped whole. Refused with
 * a reason: <tls-crypt-v2> (it needs the client's wrapped key), a tls-auth
 * or tls-crypt line naming a separate file (give that file instead), two
 * control-channel keys, a digest other than those three, an unclosed
 * block. A profile without a wrap parses to WW_OPENVPN_WRAP_NONE.
 */
struct ww_openvpn_profile {
	enum ww_openvpn_wrap wrap;
	struct ww_openvpn_key key;     /* with a wrap */
	int key_direction;	       /* -1 when the profile names none */
	enum ww_openvpn_digest digest; /* SHA1 when it names none */
};
int ww_openvpn_profile_parse(const char *text, size_t len,
			     struct ww_openvpn_profile *pr, char *err,
			     size_t errlen);

/* Set p's wrap, key, key direction and digest from pr (p->key points into
 * pr, which must outlive p's use). tls-crypt ignores the direction. */
void ww_openvpn_profile_apply(const struct ww_openvpn_profile *pr,
			      struct ww_openvpn_params *p);

/* One control packet to build: see ww_openvpn_build(). */
struct ww_openvpn_msg {
	unsigned opcode;      /* enum ww_openvpn_opcode, 0..31 */
	unsigned key_id;      /* 0..7 */
	const uint32_t *acks; /* packet ids acknowledged */
	size_t n_acks;	      /* 0..WW_OPENVPN_MAX_ACKS */
	const unsigned char *peer_session_id; /* needed when n_acks > 0 */
	uint32_t msg_pid; /* message packet id; not sent in P_ACK_V1 */
	const unsigned char *payload;
	size_t payload_len;
	/* tls-auth/tls-crypt replay packet id: 1 on the first packet of a
	 * session, one more on each further packet. */
	uint32_t replay_pid;
};

/*
 * Build one control packet of p's session into out (cap bytes): framed for
 * p->tcp, wrapped as p->wrap says. Returns its length, or -1 when cap is
 * too small or a parameter is invalid (no key for a wrap, a one-key file
 * with a direction or tls-crypt, too many acks, an opcode out of range, a
 * TCP frame over 65535 bytes). Never writes past cap.
 */
ssize_t ww_openvpn_build(const struct ww_openvpn_params *p,
			 const struct ww_openvpn_msg *m, unsigned char *out,
			 size_t cap);

/* The client hard reset (P_CONTROL_HARD_RESET_CLIENT_V2, key id 0,
 * message packet id 0, replay packet id 1). */
ssize_t ww_openvpn_build_reset(const struct ww_openvpn_params *p,
			       unsigned char *out, size_t cap);

struct ww_openvpn_reply;

/*
 * P_ACK_V1 acknowledging the packet r parsed (its message packet id, to
 * its session id), with replay packet id replay_pid (2 after our reset).
 * -1 also when r carries no message packet id (an ACK is not acked).
 */
ssize_t ww_openvpn_build_ack(const struct ww_openvpn_params *p,
			     const struct ww_openvpn_reply *r,
			     uint32_t replay_pid, unsigned char *out,
			     size_t cap);

/* The TCP probes of Xue et al. (p->tcp is ignored: these are TCP). */
enum ww_openvpn_probe {
	WW_OPENVPN_PROBE_RESET,	      /* the reset, framed */
	WW_OPENVPN_PROBE_RESET_SHORT, /* the same minus its last byte */
	WW_OPENVPN_PROBE_OVERSIZE     /* length 1998 + p->noise: 2000 bytes */
};
ssize_t ww_openvpn_build_probe(const struct ww_openvpn_params *p,
			       enum ww_openvpn_probe which, unsigned char *out,
			       size_t cap);

/*
 * Over TCP: how many bytes the first frame of buf needs (2 + its length
 * prefix), or 0 when fewer than 2 bytes are there. The caller reads until
 * it has that many, then parses.
 */
size_t ww_openvpn_tcp_frame_len(const unsigned char *buf, size_t len);

/* What the server sent. kind is one of:
 *   "server_reset"     P_CONTROL_HARD_RESET_SERVER_V2 (the answer)
 *   "server_reset_v1"  P_CONTROL_HARD_RESET_SERVER_V1 (key-method 1 peers)
 *   "soft_reset"       P_CONTROL_SOFT_RESET_V1
 *   "control"          P_CONTROL_V1 (TLS records in the payload)
 *   "ack"              P_ACK_V1
 * Client opcodes (an echo of ours), data packets and unknown opcodes are
 * not a server's reply: ww_openvpn_parse_reply() returns -1 for them. */
enum ww_openvpn_auth {
	WW_OPENVPN_AUTH_NONE = 0, /* no wrap used */
	WW_OPENVPN_AUTH_OK	  /* HMAC / tls-crypt tag verified */
};

struct ww_openvpn_reply {
	const char *kind;
	unsigned opcode, key_id;
	unsigned char session_id[WW_OPENVPN_SID_LEN]; /* the server's */
	enum ww_openvpn_auth auth;
	uint32_t replay_pid, net_time; /* with a wrap */
	size_t n_acks;
	uint32_t acks[WW_OPENVPN_MAX_ACKS];
	bool has_peer_sid;
	unsigned char peer_session_id[WW_OPENVPN_SID_LEN];
	bool has_msg_pid; /* all but "ack" */
	uint32_t msg_pid;
	/* The payload: points into buf, or into plain after tls-crypt.
	 * Valid while both live. */
	const unsigned char *payload;
	size_t payload_len;
	/* Is it an answer to OUR session: the peer session id is ours. */
	bool answers_us;
	/* ...and it acknowledges our reset (packet id 0 in its acks). */
	bool acks_reset;
	size_t consumed; /* bytes of buf this packet took (TCP: 2 + frame) */
	unsigned char plain[WW_OPENVPN_MAX_PACKET]; /* tls-crypt's */
};

/*
 * Parse the first packet in buf (len bytes) as a reply to p's session:
 * over TCP (p->tcp) a whole length-prefixed frame must be there (see
 * ww_openvpn_tcp_frame_len), over UDP the datagram is the packet. The wrap
 * is p's: with a key, the HMAC (tls-auth) or tag (tls-crypt) is checked
 * with the key for incoming packets, and a packet that fails it is
 * refused. Returns 0 with r filled when the bytes are a server's control
 * packet, else -1 with err naming the problem ("truncated at byte 12",
 * "opcode 7 (P_CONTROL_HARD_RESET_CLIENT_V2) is a client's, not a server
 * reply (an echo?)", "tls-auth HMAC does not verify ...", ...).
 */
int ww_openvpn_parse_reply(const unsigned char *buf, size_t len,
			   const struct ww_openvpn_params *p,
			   struct ww_openvpn_reply *r, char *err,
			   size_t errlen);

/*
 * Does r prove an OpenVPN server is up at the address? True for a
 * "server_reset" (or "server_reset_v1") that answers_us and acknowledges
 * our reset, and for an "ack", "control" or "soft_reset" that answers_us.
 */
bool ww_openvpn_reply_proves_up(const struct ww_openvpn_reply *r);

/* "P_CONTROL_HARD_RESET_CLIENT_V2", ... or "unknown". */
const char *ww_openvpn_opcode_name(unsigned opcode);

#endif
