/*
 * packet.h - parse one captured frame (untrusted bytes: every length is
 * checked against what was captured, nothing is read past caplen).
 *
 * Link types are libpcap's DLT_ numbers, given as plain integers so that
 * the parser, its unit tests and its fuzz target need no libpcap:
 *   WW_DLT_NULL (0, BSD loopback: 4-byte host-order family),
 *   WW_DLT_EN10MB (1, Ethernet, with up to two 802.1Q/802.1ad tags),
 *   WW_DLT_RAW (12 and 101: a bare IPv4 or IPv6 packet),
 *   WW_DLT_LINUX_SLL (113), WW_DLT_LINUX_SLL2 (276): Linux "any" device,
 *   WW_DLT_IPV4 (228), WW_DLT_IPV6 (229).
 * Network layer: IPv4 (options skipped by IHL) and IPv6 (hop-by-hop,
 * routing, destination-options and fragment extension headers walked, at
 * most WW_PKT_MAX_EXT of them). Transport: TCP (options: MSS, window
 * scale, SACK-permitted, timestamps) and UDP. A non-first fragment has no
 * transport header: it parses with proto set and have_ports false.
 */
#ifndef WW_PACKET_H
#define WW_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WW_DLT_NULL 0
#define WW_DLT_EN10MB 1
#define WW_DLT_RAW 12
#define WW_DLT_RAW_ALT 101 /* LINKTYPE_RAW, as pcap files write it */
#define WW_DLT_LINUX_SLL 113
#define WW_DLT_IPV4 228
#define WW_DLT_IPV6 229
#define WW_DLT_LINUX_SLL2 276

#define WW_PKT_MAX_EXT 8 /* IPv6 extension headers walked */

/* TCP flag bits, as in the header's 13th byte. */
#define WW_TCP_FIN 0x01
#define WW_TCP_SYN 0x02
#define WW_TCP_RST 0x04
#define WW_TCP_PSH 0x08
#define WW_TCP_ACK 0x10
#define WW_TCP_URG 0x20
#define WW_TCP_ECE 0x40
#define WW_TCP_CWR 0x80

/* From the link header, where it tells (Linux SLL/SLL2 packet type). */
enum ww_pkt_dir {
	WW_PKT_DIR_UNKNOWN = 0,
	WW_PKT_DIR_IN,	/* PACKET_HOST, _BROADCAST, _MULTICAST */
	WW_PKT_DIR_OUT, /* PACKET_OUTGOING */
};

struct ww_pkt {
	enum ww_pkt_dir dir;
	int family;	 /* AF_INET or AF_INET6 */
	uint8_t src[16]; /* network order; 4 bytes used for IPv4 */
	uint8_t dst[16];
	size_t ip_off;	  /* offset of the IP header in the frame */
	size_t ip_hlen;	  /* its length (IPv6: with the extension headers) */
	size_t ip_len;	  /* the packet's length as its header says */
	int ttl;	  /* IPv4 TTL or IPv6 hop limit */
	int ip_id;	  /* IPv4 identification; IPv6: the fragment
			     header's low 31 bits (frag_id has all 32),
			     or -1 when there is none */
	uint32_t frag_id; /* IPv6 fragment header's identification */
	size_t frag_off;  /* fragment offset in bytes (0: first) */
	bool df;	  /* IPv4 don't-fragment */
	bool fragment;	  /* part of a fragmented packet */
	int proto;	  /* final next header / protocol (6 TCP, 17 UDP) */
	bool have_ports;  /* a TCP or UDP header was parsed */
	uint16_t sport, dport;
	size_t l4_off; /* offset of the TCP/UDP header in the frame */
	/* TCP only */
	uint32_t seq, ack;
	uint8_t flags; /* WW_TCP_* */
	uint16_t win;  /* as sent (unscaled) */
	int mss;       /* -1: no MSS option */
	int wscale;    /* -1: no window-scale option */
	bool sack_ok;
	bool has_ts;
	uint32_t tsval, tsecr;
	/* An option whose length is under 2 or runs past the header: the
	 * walk stopped there (what came before it is kept). The packet still
	 * parses: its flags, seq and TTL are what the evidence needs, and an
	 * injector may well send odd options. A known option of the wrong
	 * size (an MSS of 3 bytes) is skipped and also sets this. */
	bool tcp_opt_bad;
	/* Payload after the transport header: the bytes captured, and how
	 * many the headers say there are (the frame may be cut by the
	 * snaplen, or be a fragment). payload_len is bounded by the IP
	 * length (never Ethernet padding) and, for unfragmented UDP, by the
	 * UDP length; for a fragment it counts this fragment's bytes. */
	const uint8_t *payload;
	size_t payload_caplen;
	size_t payload_len;
};

/*
 * Parse frame[0..caplen) of link type linktype into *out. Returns 0, or -1
 * with a message naming the problem in err (unknown link type, a header
 * cut short, a bad IP version or header length, a TCP data offset under 5
 * or beyond the capture, ...). A frame that is IP but neither TCP nor UDP
 * parses (have_ports false). out->payload points into frame.
 */
int ww_pkt_parse(int linktype, const uint8_t *frame, size_t caplen,
		 struct ww_pkt *out, char *err, size_t errlen);

/* "S", "SA", "A", "PA", "R", "RA", "FA", ... (letters in the order
 * F S R P A U E C of tcpdump, at most 8 and a NUL). */
void ww_tcp_flags_str(uint8_t flags, char out[9]);

/* The address as text (inet_ntop), "?" for an unknown family. */
void ww_pkt_addr_str(int family, const uint8_t *addr, char *out, size_t outlen);

#endif
