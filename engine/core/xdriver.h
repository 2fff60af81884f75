/*
 * xdriver.h - a protocol driver for an exchange (engine/loop/exchange.c):
 * pure code that writes the packets of one protocol's handshake (or a
 * neutral payload) and reads what comes back, while the loop's exchange
 * step owns the socket, the clock and the record.
 *
 * The step sends first() at once (UDP: again after 1 s and 2 s more while
 * nothing of ours came back, as clients retransmit), hands every datagram
 * (UDP) or everything read so far (TCP, so that the driver can reassemble
 * its framing) to reply(), and sends what reply() writes.
 */
#ifndef WW_XDRIVER_H
#define WW_XDRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* What the step does after a reply. */
enum ww_xnext {
	WW_XNEXT_WAIT, /* keep listening */
	WW_XNEXT_SEND, /* send the *out_len bytes written to out, listen */
	WW_XNEXT_DONE, /* the exchange is over */
};

/* The driver's reading of one reply. */
struct ww_xseen {
	const char *kind; /* static; NULL: not a message of the protocol */
	bool ours;	  /* it answers what we sent */
	bool proves_up;	  /* the server speaks the protocol (or, for a
			     neutral payload, anything answered) */
	char note[160];	  /* why it is no message, or what it says */
};

/* The largest packet a driver writes. */
#define WW_XDRIVER_MAX_PACKET 2048

struct ww_xdriver {
	const char *protocol; /* "openvpn", "ikev2", "wireguard", "quic" */
	const char *payload;  /* "handshake", "neutral_sni", "version_ping",
				 "random", "ascii" */
	bool udp;
	/* The port it goes to; 0: the target's (the closed-port probes of
	 * vpnplan.c go elsewhere on the same address). */
	int port;
	void *st; /* the driver's state, freed by free_st */
	/* The first packet into out (cap bytes): its length, or -1. */
	ssize_t (*first)(void *st, unsigned char *out, size_t cap);
	/* A reply (UDP: one datagram; TCP: every byte read so far, from the
	 * connection's first, so that framing split across reads can be
	 * reassembled). Fills *seen. */
	enum ww_xnext (*reply)(void *st, const unsigned char *buf, size_t len,
			       struct ww_xseen *seen, unsigned char *out,
			       size_t cap, size_t *out_len);
	void (*free_st)(void *st);
	/* The SNI its packets carry (QUIC), owned; NULL: none. */
	char *server_name;
	/* The first packet once built (ww_xdriver_first), owned. */
	unsigned char *pkt;
	size_t pkt_len;
	/* Set (owned) when the driver could not be made: the exchange sends
	 * nothing and records failure_unknown with these words. */
	char *error;
};

/* A driver that could not be made, for protocol and payload (static
 * strings): its exchange records why (error, copied) and sends nothing. */
struct ww_xdriver *ww_xdriver_failed(const char *protocol, const char *payload,
				     bool udp, const char *error);

/* Free d's state and d (d may be NULL). */
void ww_xdriver_free(struct ww_xdriver *d);

/*
 * d's first packet into out (cap bytes): its length, or -1. Built once
 * and kept: the plan asks for its size before the exchange sends it, and
 * a packet's work (a WireGuard initiation's Noise, a QUIC Initial's
 * protection) need not be done twice. The params fix every byte, so both
 * get the same packet.
 */
ssize_t ww_xdriver_first(struct ww_xdriver *d, unsigned char *out, size_t cap);

/*
 * The neutral driver: sends the len bytes of payload (copied) once and
 * counts anything that comes back as an answer (kind "data"); payload_name
 * is "random" or "ascii". For protocol, the exchange it stands beside.
 */
struct ww_xdriver *ww_xdriver_neutral(const char *protocol,
				      const char *payload_name, bool udp,
				      const unsigned char *payload, size_t len);

#endif
