/*
 * dpi.h - the pure half of the lab's censor (wallwatch-censor, censor.c):
 * parsers of the untrusted bytes it inspects and builders of the packets it
 * forges. No I/O, no allocation, no global state, so the unit tests and the
 * fuzz target include dpi.c and call everything directly.
 *
 * Conventions: IPv4 addresses are uint32_t in network byte order (as in
 * struct in_addr's s_addr); ports, sequence numbers and the other header
 * fields are in host byte order. Every input is untrusted: each length is
 * checked against the bytes given, and a parser that cannot make sense of
 * its input says so (0 or -1, below) instead of guessing.
 */
#ifndef WW_DPI_H
#define WW_DPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- IPv4, TCP, UDP -------------------------------------------------------*/

#define DPI_IPPROTO_TCP 6
#define DPI_IPPROTO_UDP 17

#define DPI_TCP_FIN 0x01
#define DPI_TCP_SYN 0x02
#define DPI_TCP_RST 0x04
#define DPI_TCP_PSH 0x08
#define DPI_TCP_ACK 0x10
#define DPI_TCP_CWR 0x80

#define DPI_IP4_HLEN 20 /* without options */
#define DPI_TCP_HLEN 20 /* without options */
#define DPI_UDP_HLEN 8
#define DPI_IP4_MAX 65535

/* A parsed IPv4 packet carrying TCP or UDP; pointers point into it. */
struct dpi_pkt {
	uint32_t saddr, daddr; /* network byte order */
	uint8_t proto;	       /* DPI_IPPROTO_TCP or DPI_IPPROTO_UDP */
	uint8_t ttl;
	uint16_t ip_id;
	size_t ip_hlen; /* IPv4 header with options, bytes */
	size_t ip_len;	/* the header's total length: the packet ends there */
	uint16_t sport, dport;
	uint32_t seq, ack; /* TCP only */
	uint8_t tcp_flags; /* TCP only */
	uint16_t window;   /* TCP only */
	size_t l4_hlen;	   /* TCP header with options, or 8 for UDP */
	const uint8_t *payload;
	size_t payload_len;
};

/*
 * Parse the IPv4 packet in p[0..len) (len may exceed the packet: Ethernet
 * pads short frames). Returns 0 when it is an unfragmented IPv4 packet
 * carrying a complete TCP or UDP header within its total length and within
 * len, -1 otherwise (other versions and protocols, fragments, truncation,
 * inconsistent lengths). Checksums are not verified: on a veth the sender's
 * checksum is often left to offload.
 */
int dpi_parse_ip4(const uint8_t *p, size_t len, struct dpi_pkt *out);

/* The Internet checksum (RFC 1071) of data[0..len): the value to store. */
uint16_t dpi_csum(const void *data, size_t len);

/*
 * The TCP or UDP checksum (RFC 793 3.1, RFC 768) of the segment seg[0..len)
 * with the IPv4 pseudo-header, computed as if the checksum field were zero.
 * For UDP a result of 0 is returned as 0xffff (0 means "no checksum").
 */
uint16_t dpi_l4_csum(uint32_t saddr, uint32_t daddr, uint8_t proto,
		     const uint8_t *seg, size_t len);

/*
 * Recompute, in place, the IPv4 header checksum and the TCP or UDP checksum
 * of the packet p, which dpi_parse_ip4() accepted with info. Returns 0.
 */
int dpi_fix_checksums(uint8_t *p, const struct dpi_pkt *info);

/*
 * Forward the packet p (accepted by dpi_parse_ip4() as info) as a router
 * would: decrement its TTL and recompute the IPv4 header checksum, in place.
 * Returns 0, or -1 (p untouched) when the TTL is 0 or 1: the packet would
 * expire here.
 */
int dpi_ip4_dec_ttl(uint8_t *p, const struct dpi_pkt *info);

/*
 * How the TCP checksum of p (accepted by dpi_parse_ip4() as info) stands:
 * 1 it verifies, 0 it holds only the pseudo-header sum (the sender left it
 * to checksum offload, so a capture sees it unfinished), -1 it is wrong.
 */
int dpi_tcp_csum_state(const uint8_t *p, const struct dpi_pkt *info);

/* What the builders put in the headers they write. */
struct dpi_hdr {
	uint32_t saddr, daddr; /* network byte order */
	uint16_t sport, dport;
	uint16_t ip_id;
	uint8_t ttl;
	/* TCP only: */
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
};

/*
 * Write into out[0..cap) an IPv4 packet (20-byte header, DF set) carrying a
 * TCP segment without options (or a UDP datagram) with payload[0..len), both
 * checksums filled in. Returns the packet's length, or 0 when it does not
 * fit in cap or in 65535 bytes. payload may be NULL when len is 0.
 */
size_t dpi_build_tcp(const struct dpi_hdr *h, const uint8_t *payload,
		     size_t len, uint8_t *out, size_t cap);
size_t dpi_build_udp(const struct dpi_hdr *h, const uint8_t *payload,
		     size_t len, uint8_t *out, size_t cap);

/*
 * One segment of a TCP packet too big for the link (a GSO/TSO aggregate as
 * a capture on a veth shows it), as the kernel's segmentation would cut it:
 * the packet p (accepted by dpi_parse_ip4() as info) with only the payload
 * bytes [off, off + mss), the same IP and TCP options, seq advanced by off,
 * FIN and PSH kept on the last segment only, CWR on the first only, IP ID
 * advanced by the segment's index, lengths and both checksums recomputed.
 * Writes into out[0..cap) and returns the length, 0 when off is not below
 * the payload length, mss is 0, or out is too small.
 */
size_t dpi_tcp_segment(const uint8_t *p, const struct dpi_pkt *info, size_t off,
		       size_t mss, uint8_t *out, size_t cap);

/* --- DNS ------------------------------------------------------------------*/

#define DPI_DNS_HLEN 12
#define DPI_DNS_NAME_MAX 253 /* dotted text, without the final dot */
#define DPI_DNS_T_A 1
#define DPI_DNS_T_AAAA 28
#define DPI_DNS_RCODE_NOERROR 0
#define DPI_DNS_RCODE_NXDOMAIN 3

struct dpi_dns_query {
	uint16_t id;
	uint16_t flags;
	uint16_t qtype, qclass;
	/* The question name in dotted text, letters as sent, no final dot;
	 * "" for the root. */
	char qname[DPI_DNS_NAME_MAX + 1];
	size_t qend; /* offset just past the question's QCLASS */
};

/*
 * Parse the DNS query msg[0..len) (RFC 1035 4.1): QR clear, opcode QUERY,
 * exactly one question, no answer or authority records (additional records,
 * such as an EDNS OPT, are allowed and not read). The name must be
 * uncompressed, its labels 1..63 bytes of printable ASCII other than '.',
 * the whole at most 255 bytes on the wire. Returns 0, or -1 for anything
 * else (the censor then leaves the query alone).
 */
int dpi_dns_parse_query(const uint8_t *msg, size_t len,
			struct dpi_dns_query *q);

/*
 * Build, into out[0..cap), the forged reply to the query msg that
 * dpi_dns_parse_query() accepted as q, as an on-path injector sends it: the
 * same ID, QR, the query's opcode, RD and RA set, AA and TC clear, rcode,
 * the question echoed byte for byte, then n_addrs A records (addrs in
 * network byte order) named by a pointer to the question, class IN, TTL
 * ttl; no authority, no additional records (no EDNS). Returns the length,
 * or 0 when it does not fit in cap.
 */
size_t dpi_dns_build_reply(const uint8_t *msg, const struct dpi_dns_query *q,
			   unsigned rcode, const uint32_t *addrs,
			   size_t n_addrs, uint32_t ttl, uint8_t *out,
			   size_t cap);

/*
 * The same with n_addrs AAAA records (RFC 3596), each 16 bytes of addrs.
 */
size_t dpi_dns_build_reply6(const uint8_t *msg, const struct dpi_dns_query *q,
			    unsigned rcode, const uint8_t (*addrs)[16],
			    size_t n_addrs, uint32_t ttl, uint8_t *out,
			    size_t cap);

/*
 * True when the name name[0..len) (one final dot allowed) equals rule or is
 * below it, ASCII case-insensitively: "www.Blocked.lab." matches the rule
 * "blocked.lab", "notblocked.lab" does not. rule is lower case, with
 * neither a final dot nor a leading one, and not empty.
 */
bool dpi_name_matches(const char *name, size_t len, const char *rule);

/* --- TLS ------------------------------------------------------------------*/

#define DPI_SNI_MAX 255

/*
 * Find the server name (RFC 6066 3, host_name) of a TLS ClientHello that
 * starts at p (a TCP payload starting with a handshake record, RFC 8446
 * 5.1 and 4.1.2). Works on as much of the record as p[0..len) holds: a
 * ClientHello cut short by the end of the segment still yields a name that
 * lies wholly within it. Returns 1 and the name, NUL-terminated and as sent,
 * in out; 0 when p is not a ClientHello, has no server_name extension
 * within the bytes given, or any length inside is inconsistent, or the name
 * is empty, longer than DPI_SNI_MAX or has bytes outside printable ASCII.
 */
int dpi_tls_sni(const uint8_t *p, size_t len, char out[DPI_SNI_MAX + 1]);

/* The same for a bare ClientHello handshake message (no record header), as
 * QUIC carries it in CRYPTO frames (RFC 9001 4). */
int dpi_tls_hello_sni(const uint8_t *p, size_t len, char out[DPI_SNI_MAX + 1]);

/* --- HTTP -----------------------------------------------------------------*/

/* The parts of an HTTP/1.x request that censors look at; all point into
 * the bytes given to dpi_http_parse(). */
struct dpi_http_req {
	const uint8_t *method;
	size_t method_len;
	const uint8_t *target; /* request-target: path, or an absolute URL */
	size_t target_len;
	const uint8_t *host; /* NULL when no Host header was seen */
	size_t host_len;     /* without its port and surrounding space */
};

/*
 * Parse the start of an HTTP/1.x request (RFC 9112 3): a method of 1..20
 * upper-case letters, one space, a target of visible ASCII, one space,
 * "HTTP/" digit "." digit, then CRLF (or a bare LF). Headers are read as far
 * as the bytes given go (the first Host header wins; its value loses its
 * optional whitespace and its ":port"; an IPv6 literal keeps its brackets).
 * Returns 1 and fills r, or 0 when p[0..len) does not start with a complete
 * request line.
 */
int dpi_http_parse(const uint8_t *p, size_t len, struct dpi_http_req *r);

/*
 * The query of r's request-target: the bytes after its first '?' (maybe
 * none) in *q and *len, and true; false when the target has no '?'.
 */
bool dpi_http_query(const struct dpi_http_req *r, const uint8_t **q,
		    size_t *len);

/* True when needle (a non-empty C string) occurs in hay[0..len). */
bool dpi_contains(const uint8_t *hay, size_t len, const char *needle);

/* True when s[0..len) (one final dot allowed) equals name, ASCII
 * case-insensitively; name is lower case without a final dot. */
bool dpi_host_equals(const uint8_t *s, size_t len, const char *name);

#endif
