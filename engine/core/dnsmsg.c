/*
 * dnsmsg.c - see dnsmsg.h.
 *
 * The reply is untrusted: it may come from a censor's injector rather than
 * the resolver we asked. Every read is bounded by len, names are walked with
 * a jump limit and a length limit, and anything we cannot parse becomes an
 * error string for the measurement instead of a crash.
 *
 * Choices the header leaves open, made here:
 *  - Label bytes outside the printable ASCII range, and '.' or '\' inside a
 *    label, are written in the master-file escapes of RFC 1035 section 5.1
 *    ("\DDD", "\.", "\\"), so every name is printable ASCII (valid UTF-8
 *    for the JSON) and two different wire names never print the same.
 *    Only the ASCII letters are lower-cased (RFC 4343 section 3).
 *  - qname is cut at a character boundary if the escaped question name does
 *    not fit its 256 bytes; answer values are never cut.
 *  - Only class IN records are kept: the RDATA of A and AAAA is defined
 *    for class IN only (RFC 1035 section 3.4.1, RFC 3596 section 2.2).
 *  - TTLs are kept as sent, even with the top bit set (RFC 2181 section 8
 *    says to read those as 0); an odd TTL is itself a sign of injection.
 *  - With TC set, a message that ends cleanly between two records before
 *    the stated counts is accepted (RFC 2181 section 9 lets servers drop
 *    whole records); a record cut in the middle is still an error.
 *  - Parsing stops once WW_DNS_MAX_ANSWERS answers have been kept by this
 *    call; the rest of the message is not looked at.
 *  - The authority and additional sections are not parsed.
 */
#include "dnsmsg.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "bytes.h"
#include "util.h"

#define DNS_HEADER_LEN 12
#define DNS_RR_FIXED_LEN 10 /* TYPE, CLASS, TTL, RDLENGTH */
#define DNS_NAME_MAX 255    /* wire octets, RFC 1035 section 2.3.4 */
#define DNS_MAX_JUMPS 64
#define DNS_CLASS_IN 1
/* Worst case of the escaped text form: every octet but the final zero as
 * "\DDD", plus the NUL. */
#define DNS_NAME_TEXT_MAX (4 * DNS_NAME_MAX + 1)

/*
 * Read the possibly compressed name at *off (RFC 1035 section 4.1.4) into
 * its uncompressed wire form (labels with their length octets, final zero
 * included). On success *off is moved past the name as it sits at *off,
 * that is past the first pointer or the final zero.
 *
 * Every pointer must point strictly before the start of the run of labels
 * that contains it. That alone makes every walk terminate (the positions
 * read only go down), and it rejects the self-referencing names used to
 * spin parsers; the jump limit is a second guard.
 */
static int
read_name(const unsigned char *buf, size_t len, size_t *off,
	  unsigned char wire[DNS_NAME_MAX], size_t *wire_len, char *err,
	  size_t errlen)
{
	size_t pos = *off, run_start = *off, end = 0, wl = 0;
	int jumps = 0;
	bool jumped = false;

	for (;;) {
		unsigned char c;

		if (pos >= len) {
			ww_set_err(err, errlen, "name at offset %zu truncated",
				   *off);
			return -1;
		}
		c = buf[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len) {
				ww_set_err(err, errlen,
					   "compression pointer at offset %zu "
					   "truncated",
					   pos);
				return -1;
			}
			target = ww_be16(buf + pos) & 0x3fff;
			if (target >= pos) {
				ww_set_err(err, errlen,
					   "forward compression pointer at "
					   "offset %zu",
					   pos);
				return -1;
			}
			if (target >= run_start) {
				ww_set_err(err, errlen,
					   "compression loop at offset %zu",
					   pos);
				return -1;
			}
			if (++jumps > DNS_MAX_JUMPS) {
				ww_set_err(err, errlen,
					   "more than %d compression pointers",
					   DNS_MAX_JUMPS);
				return -1;
			}
			if (!jumped) {
				end = pos + 2;
				jumped = true;
			}
			pos = run_start = target;
			continue;
		}
		if ((c & 0xc0) != 0) {
			/* 0x40: extended label types (RFC 6891 section 5,
			 * never deployed); 0x80: reserved. */
			ww_set_err(
				err, errlen,
				"unsupported label type 0x%02x at offset %zu",
				c & 0xc0, pos);
			return -1;
		}
		if (wl + 1 + c > DNS_NAME_MAX) {
			ww_set_err(err, errlen, "name longer than %d bytes",
				   DNS_NAME_MAX);
			return -1;
		}
		if (c == 0) {
			wire[wl++] = 0;
			if (!jumped)
				end = pos + 1;
			break;
		}
		if (c >= len - pos) {
			ww_set_err(err, errlen, "label at offset %zu truncated",
				   pos);
			return -1;
		}
		memcpy(wire + wl, buf + pos, (size_t)c + 1);
		wl += (size_t)c + 1;
		pos += (size_t)c + 1;
	}
	*off = end;
	*wire_len = wl;
	return 0;
}

/*
 * The text form of a wire name: lower case, escaped as described at the
 * top, no final dot, "." for the root. Stops before the first character
 * that would not fit in out (outsize >= 2), so an escape is never cut and
 * a cut name does not end in a dot.
 */
static void
name_to_text(const unsigned char *wire, size_t wire_len, char *out,
	     size_t outsize)
{
	size_t i = 0, o = 0;

	if (wire_len == 0 || wire[0] == 0) {
		snprintf(out, outsize, ".");
		return;
	}
	while (i < wire_len && wire[i] != 0) {
		size_t n = wire[i++];

		/* Labels are never empty here: a zero length ends the name. */
		for (size_t k = 0; k < n; k++, i++) {
			unsigned char c = wire[i];
			char piece[6], *p = piece;

			if (k == 0 && o > 0)
				*p++ = '.';
			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			if (c == '.' || c == '\\') {
				*p++ = '\\';
				*p++ = (char)c;
			} else if (c < 0x21 || c > 0x7e) {
				*p++ = '\\';
				*p++ = (char)('0' + c / 100);
				*p++ = (char)('0' + c / 10 % 10);
				*p++ = (char)('0' + c % 10);
			} else {
				*p++ = (char)c;
			}
			if (o + (size_t)(p - piece) >= outsize)
				goto full;
			memcpy(out + o, piece, (size_t)(p - piece));
			o += (size_t)(p - piece);
		}
	}
full:
	out[o] = '\0';
}

/* Keep one record of the answer section; rdata has been bounds-checked. */
static int
keep_record(const unsigned char *buf, size_t len, size_t rdoff, uint16_t type,
	    uint16_t rdlen, uint32_t ttl, struct ww_query *q, char *err,
	    size_t errlen)
{
	char text[DNS_NAME_TEXT_MAX];
	struct ww_answer *a;

	switch (type) {
	case WW_RR_A:
		if (rdlen != 4) {
			ww_set_err(err, errlen, "A record with RDLENGTH %u",
				   (unsigned)rdlen);
			return -1;
		}
		inet_ntop(AF_INET, buf + rdoff, text, sizeof(text));
		break;
	case WW_RR_AAAA:
		if (rdlen != 16) {
			ww_set_err(err, errlen, "AAAA record with RDLENGTH %u",
				   (unsigned)rdlen);
			return -1;
		}
		inet_ntop(AF_INET6, buf + rdoff, text, sizeof(text));
		break;
	case WW_RR_CNAME: {
		unsigned char wire[DNS_NAME_MAX];
		size_t wl, pos = rdoff;

		/* RFC 1035 section 4.1.4: a pointer may point anywhere
		 * before it in the message, not only inside this RDATA. */
		if (read_name(buf, len, &pos, wire, &wl, err, errlen) < 0)
			return -1;
		if (pos != rdoff + rdlen) {
			ww_set_err(err, errlen,
				   "CNAME record with RDLENGTH %u but a "
				   "%zu-byte name",
				   (unsigned)rdlen, pos - rdoff);
			return -1;
		}
		name_to_text(wire, wl, text, sizeof(text));
		break;
	}
	default:
		return 0;
	}
	if (q != NULL) {
		a = ww_add_answer(q);
		a->type = (enum ww_rr_type)type;
		a->value = xstrdup(text);
		a->ttl = ttl;
	}
	return 0;
}

int
ww_dns_parse_reply(const unsigned char *buf, size_t len, struct ww_dns_reply *r,
		   struct ww_query *q, char *err, size_t errlen)
{
	unsigned char wire[DNS_NAME_MAX];
	size_t off, wl;
	uint16_t flags, qdcount, kept = 0;

	memset(r, 0, sizeof(*r));
	ww_set_err(err, errlen, "%s", "");
	if (buf == NULL || len < DNS_HEADER_LEN) {
		ww_set_err(err, errlen, "truncated header");
		return -1;
	}
	/* RFC 1035 section 4.1.1. */
	r->id = ww_be16(buf);
	flags = ww_be16(buf + 2);
	r->qr = (flags >> 15) & 1;
	r->truncated = (flags >> 9) & 1;
	r->rcode = flags & 0xf;
	qdcount = ww_be16(buf + 4);
	r->ancount = ww_be16(buf + 6);
	off = DNS_HEADER_LEN;

	/* RFC 1035 section 4.1.2. */
	for (unsigned i = 0; i < qdcount; i++) {
		if (off == len && r->truncated)
			return 0;
		if (read_name(buf, len, &off, wire, &wl, err, errlen) < 0)
			return -1;
		if (len - off < 4) {
			ww_set_err(err, errlen, "question %u truncated", i + 1);
			return -1;
		}
		if (i == 0) {
			name_to_text(wire, wl, r->qname, sizeof(r->qname));
			r->qtype = ww_be16(buf + off);
		}
		off += 4;
	}

	/* RFC 1035 section 4.1.3. */
	for (unsigned i = 0; i < r->ancount; i++) {
		uint16_t type, rrclass, rdlen;
		uint32_t ttl;

		if (kept >= WW_DNS_MAX_ANSWERS)
			break;
		if (off == len && r->truncated)
			return 0;
		if (read_name(buf, len, &off, wire, &wl, err, errlen) < 0)
			return -1;
		if (len - off < DNS_RR_FIXED_LEN) {
			ww_set_err(err, errlen, "answer %u truncated", i + 1);
			return -1;
		}
		type = ww_be16(buf + off);
		rrclass = ww_be16(buf + off + 2);
		ttl = ww_be32(buf + off + 4);
		rdlen = ww_be16(buf + off + 8);
		off += DNS_RR_FIXED_LEN;
		if (rdlen > len - off) {
			ww_set_err(err, errlen,
				   "RDLENGTH %u past end of message",
				   (unsigned)rdlen);
			return -1;
		}
		if (rrclass == DNS_CLASS_IN &&
		    (type == WW_RR_A || type == WW_RR_AAAA ||
		     type == WW_RR_CNAME)) {
			if (keep_record(buf, len, off, type, rdlen, ttl, q, err,
					errlen) < 0)
				return -1;
			kept++;
		}
		off += rdlen;
	}
	return 0;
}

bool
ww_dns_question_is(const unsigned char *buf, size_t len,
		   const unsigned char *want, size_t want_len)
{
	if (len < DNS_HEADER_LEN || want_len > len - DNS_HEADER_LEN ||
	    ww_be16(buf + 4) != 1)
		return false;
	for (size_t i = 0; i < want_len; i++) {
		unsigned char x = buf[DNS_HEADER_LEN + i], y = want[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

void
ww_dns_msg_parse(const unsigned char *buf, size_t len, size_t wire_len,
		 const unsigned char *want, size_t want_len,
		 struct ww_dns_msg *m)
{
	struct ww_query scratch;
	struct ww_dns_reply r;
	char err[128];
	size_t k = 0;

	memset(m, 0, sizeof(*m));
	m->dns_id = len >= 2 ? ww_be16(buf) : -1;
	m->question_ok = ww_dns_question_is(buf, len, want, want_len);
	m->wire_len = wire_len;
	m->ip_ttl = m->ip_id = -1;
	m->raw_len = len < WW_DNS_REPLY_KEEP ? len : WW_DNS_REPLY_KEEP;
	m->raw = xmalloc(m->raw_len ? m->raw_len : 1);
	if (m->raw_len > 0)
		memcpy(m->raw, buf, m->raw_len);
	/* The answers parsed before a malformed part are kept: they are what
	 * the sender said. */
	memset(&scratch, 0, sizeof(scratch));
	m->rcode = ww_dns_parse_reply(buf, len, &r, &scratch, err,
				      sizeof(err)) == 0
			   ? r.rcode
			   : -1;
	m->addrs = xcalloc(scratch.n_answers + 1, sizeof(char *));
	for (size_t i = 0; i < scratch.n_answers; i++)
		if (scratch.answers[i].type != WW_RR_CNAME)
			m->addrs[k++] = xstrdup(scratch.answers[i].value);
	m->n_addrs = k;
	ww_query_clear(&scratch);
}
