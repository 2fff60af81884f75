/*
 * dnsmsg.h - defensive parser for DNS replies (RFC 1035 section 4).
 *
 * c-ares 1.18's ares_parse_a_reply() drops CNAME TTLs and refuses odd but
 * telling replies (a censor's injected answer often is one), so we parse the
 * raw reply ourselves. Untrusted input: every length is checked, name
 * compression pointers may only point backwards and are followed at most
 * 64 times, names are capped at 255 bytes, at most WW_DNS_MAX_ANSWERS
 * answers are kept.
 */
#ifndef WW_DNSMSG_H
#define WW_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define WW_DNS_MAX_ANSWERS 64

struct ww_dns_reply {
	uint16_t id;
	int rcode;	 /* 0..15 (header RCODE) */
	int truncated;	 /* TC bit */
	int qr;		 /* QR bit (1 for a response) */
	char qname[256]; /* first question's name, lower-case, no final dot */
	int qtype;
	uint16_t ancount; /* as stated in the header */
};

/*
 * Parse buf. Fills *r, and appends to q->answers every A, AAAA and CNAME
 * record of the answer section (other types are skipped) with its TTL.
 * Returns 0, or -1 when the message is malformed (err says how); answers
 * parsed before the malformed part stay appended.
 */
int ww_dns_parse_reply(const unsigned char *buf, size_t len,
		       struct ww_dns_reply *r, struct ww_query *q, char *err,
		       size_t errlen);

/*
 * Is the first question of message buf (len bytes, one question) the
 * question section want (want_len bytes: name, type, class as a query of
 * ours carries it, uncompressed)? Compared ASCII case-insensitively
 * (RFC 4343): length octets, type and class never fall in 'A'..'Z', so
 * folding the whole run is exact.
 */
bool ww_dns_question_is(const unsigned char *buf, size_t len,
			const unsigned char *want, size_t want_len);

/*
 * One datagram that came to a query's socket, as evidence (model.h): its
 * id (-1 under 2 bytes), rcode (-1 when it does not parse), the A and AAAA
 * values of its answer section, its first WW_DNS_REPLY_KEEP bytes, wire_len
 * as given (the length on the wire, len may be less), question_ok from
 * ww_dns_question_is(). t is left 0, ip_ttl and ip_id -1. Free with
 * ww_dns_msg_clear().
 */
void ww_dns_msg_parse(const unsigned char *buf, size_t len, size_t wire_len,
		      const unsigned char *want, size_t want_len,
		      struct ww_dns_msg *m);

#endif
