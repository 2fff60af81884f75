/*
 * target.h - what to measure: one input (a URL; tcp://host:port and
 * tls://host:port for service endpoints; openvpn://, ikev2://,
 * wireguard:// and quic:// for VPN and QUIC endpoints, measured by their
 * own handshakes), parsed defensively.
 */
#ifndef WW_TARGET_H
#define WW_TARGET_H

#include <stdbool.h>
#include <stddef.h>

enum ww_target_kind {
	WW_TARGET_HTTP,	 /* http://  : DNS, TCP, HTTP */
	WW_TARGET_HTTPS, /* https:// : DNS, TCP, TLS (target + control SNI),
			    HTTP */
	WW_TARGET_TCP,	 /* tcp://host:port : DNS, TCP */
	WW_TARGET_TLS,	 /* tls://host:port : DNS, TCP, TLS */
	/* VPN and QUIC endpoints: DNS, then the protocol's handshake and
	 * neutral payloads of its size to the same address and port. */
	WW_TARGET_OPENVPN,   /* openvpn://host:port[?transport=udp|tcp...] */
	WW_TARGET_IKEV2,     /* ikev2://host[:port], 500 by default */
	WW_TARGET_WIREGUARD, /* wireguard://host:port?pubkey=BASE64[...] */
	WW_TARGET_QUIC,	     /* quic://host[:port], 443 by default */
};

/* The OpenVPN control channel's wrapping (openvpn://...?wrap=). */
enum ww_ovpn_wrap {
	WW_OVPN_WRAP_NONE,
	WW_OVPN_WRAP_TLS_AUTH,	/* an HMAC keyed with the static key */
	WW_OVPN_WRAP_TLS_CRYPT, /* encrypted and authenticated with it */
};

/* Longest input accepted, in bytes (longer is an error, never truncated). */
#define WW_TARGET_MAX_INPUT 2048

struct ww_target {
	char *input; /* the input exactly as given (trimmed of nothing) */
	/* The URL to fetch: input itself, unless its host is spelt other
	 * than host (an IDN's U-labels, a trailing dot): then input with
	 * host in its place, as libcurl writes it. curl cannot fetch a
	 * U-label host, and one name must have one spelling in DNS, SNI,
	 * Host and the records. */
	char *url;
	enum ww_target_kind kind;
	char *host;	 /* lower-cased; IPv6 without brackets; IDN as A-labels;
			    one trailing dot dropped */
	int port;	 /* explicit or the scheme's default (80/443) */
	bool host_is_ip; /* host is an IPv4/IPv6 literal: no DNS step */
	/* VPN and QUIC endpoints (the query of their input; NULL/0 for
	 * the other kinds): */
	bool udp;		/* the transport: openvpn's transport=, else the
				   protocol's own (UDP for ikev2, wireguard, quic) */
	char *pubkey;		/* wireguard: the server's public key, base64 as
				   wg(8) writes it (44 characters) */
	char *key_file;		/* key=: a local file with our key (OpenVPN's
				   static key, our WireGuard private key); never
				   from a test list (testlist.c refuses it) */
	enum ww_ovpn_wrap wrap; /* openvpn: wrap=tls-auth|tls-crypt */
	char *auth;		/* openvpn tls-auth: auth=sha1|sha256|sha512 */
	int key_direction;	/* openvpn: key-direction=0|1; -1 none */
	/* From a test list; NULL/0 for --input targets. */
	char *category_code;
	char *source; /* "file.csv:LINE" or "--input" */
};

/*
 * Parse input into *t (zeroed first). Accepts http, https, tcp, tls,
 * openvpn, ikev2, wireguard and quic schemes (case-insensitive); tcp, tls,
 * openvpn and wireguard need an explicit port; none of the endpoint kinds
 * takes a path or fragment, and only the VPN kinds take a query, of the
 * parameters docs/test-lists.md lists for each.
 * Rejects: empty, over WW_TARGET_MAX_INPUT, control characters or spaces,
 * other schemes, user:password@, an empty or invalid host, ports outside
 * 1..65535. Returns 0, or -1 with a message in err (no file:line prefix).
 */
int ww_target_parse(const char *input, struct ww_target *t, char *err,
		    size_t errlen);

/* Deep copy (all strings duplicated). */
void ww_target_copy(struct ww_target *dst, const struct ww_target *src);

/* Free what *t owns and zero it; t may be already cleared. */
void ww_target_clear(struct ww_target *t);

/* "http", "https", "tcp", "tls", "openvpn", "ikev2", "wireguard", "quic" */
const char *ww_target_kind_name(enum ww_target_kind k);

/* A VPN or QUIC endpoint (measured by exchanges, not TCP/TLS/HTTP). */
bool ww_target_is_vpn(enum ww_target_kind k);

#endif
