/*
 * dpi.c - parsers and packet builders of the lab's censor; see dpi.h.
 *
 * Not built on its own: censor.c, tests/unit/test_dpi.c and
 * tests/fuzz/fuzz_dpi.c each #include this file, because the Makefile links
 * each of them as a single translation unit with build/libwallwatch.a.
 */
#include <string.h>

#include "dpi.h"

/* --- byte helpers -----------------------------------------------------*/

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* ASCII case-insensitive equality of a[0..n) and b[0..n). */
static bool
eq_nocase(const uint8_t *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

/* --- checksums (RFC 1071) ------------------------------------------------*/

/* Add the big-endian 16-bit words of p[0..len) to sum; an odd last byte
 * is padded with zero. A 64-bit sum cannot overflow for any IPv4 packet. */
static uint64_t
csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	while (len > 1) {
		sum += get16(p);
		p += 2;
		len -= 2;
	}
	if (len == 1)
		sum += (uint64_t)p[0] << 8;
	return sum;
}

static uint16_t
csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t
dpi_csum(const void *data, size_t len)
{
	return (uint16_t)~csum_fold(csum_add(0, data, len));
}

/* The pseudo-header of RFC 793 3.1 / RFC 768: addresses, protocol and the
 * segment's length. */
static uint64_t
csum_pseudo(uint32_t saddr, uint32_t daddr, uint8_t proto, size_t len)
{
	uint8_t ph[12];

	memcpy(ph, &saddr, 4);
	memcpy(ph + 4, &daddr, 4);
	ph[8] = 0;
	ph[9] = proto;
	put16(ph + 10, (uint16_t)len);
	return csum_add(0, ph, sizeof(ph));
}

static size_t
csum_field(uint8_t proto)
{
	return proto == DPI_IPPROTO_TCP ? 16 : 6;
}

uint16_t
dpi_l4_csum(uint32_t saddr, uint32_t daddr, uint8_t proto, const uint8_t *seg,
	    size_t len)
{
	size_t f = csum_field(proto);
	uint64_t sum = csum_pseudo(saddr, daddr, proto, len);
	uint16_t c;

	/* Everything but the checksum field itself. */
	if (len <= f) {
		sum = csum_add(sum, seg, len);
	} else {
		sum = csum_add(sum, seg, f);
		if (len > f + 2)
			sum = csum_add(sum, seg + f + 2, len - f - 2);
	}
	c = (uint16_t)~csum_fold(sum);
	if (proto == DPI_IPPROTO_UDP && c == 0)
		c = 0xffff;
	return c;
}

/* Length of the transport segment the checksum covers. */
static size_t
l4_len(const struct dpi_pkt *info)
{
	if (info->proto == DPI_IPPROTO_UDP)
		return DPI_UDP_HLEN + info->payload_len;
	return info->ip_len - info->ip_hlen;
}

int
dpi_fix_checksums(uint8_t *p, const struct dpi_pkt *info)
{
	uint8_t *seg = p + info->ip_hlen;
	size_t f = csum_field(info->proto);

	put16(p + 10, 0);
	put16(p + 10, dpi_csum(p, info->ip_hlen));
	put16(seg + f, dpi_l4_csum(info->saddr, info->daddr, info->proto, seg,
				   l4_len(info)));
	return 0;
}

int
dpi_ip4_dec_ttl(uint8_t *p, const struct dpi_pkt *info)
{
	if (p[8] <= 1)
		return -1;
	p[8]--;
	put16(p + 10, 0);
	put16(p + 10, dpi_csum(p, info->ip_hlen));
	return 0;
}

int
dpi_tcp_csum_state(const uint8_t *p, const struct dpi_pkt *info)
{
	const uint8_t *seg = p + info->ip_hlen;
	size_t len = l4_len(info);
	uint16_t stored = get16(seg + 16);

	if (stored ==
	    dpi_l4_csum(info->saddr, info->daddr, info->proto, seg, len))
		return 1;
	/* Linux stores the folded pseudo-header sum for the device to finish
	 * (__tcp_v4_send_check); a capture on the receiving veth sees it. */
	if (stored ==
	    csum_fold(csum_pseudo(info->saddr, info->daddr, info->proto, len)))
		return 0;
	return -1;
}

/* --- IPv4, TCP, UDP -------------------------------------------------------*/

int
dpi_parse_ip4(const uint8_t *p, size_t len, struct dpi_pkt *out)
{
	size_t hl, tot, rest;
	const uint8_t *l4;

	memset(out, 0, sizeof(*out));
	if (len < DPI_IP4_HLEN || p[0] >> 4 != 4)
		return -1;
	hl = (size_t)(p[0] & 0x0f) * 4;
	tot = get16(p + 2);
	if (hl < DPI_IP4_HLEN || tot < hl || tot > len)
		return -1;
	if (get16(p + 6) & 0x3fff) /* MF or a fragment offset */
		return -1;
	out->proto = p[9];
	out->ttl = p[8];
	out->ip_id = get16(p + 4);
	memcpy(&out->saddr, p + 12, 4);
	memcpy(&out->daddr, p + 16, 4);
	out->ip_hlen = hl;
	out->ip_len = tot;
	l4 = p + hl;
	rest = tot - hl;
	if (out->proto == DPI_IPPROTO_TCP) {
		size_t doff;

		if (rest < DPI_TCP_HLEN)
			return -1;
		doff = (size_t)(l4[12] >> 4) * 4;
		if (doff < DPI_TCP_HLEN || doff > rest)
			return -1;
		out->seq = get32(l4 + 4);
		out->ack = get32(l4 + 8);
		out->tcp_flags = l4[13];
		out->window = get16(l4 + 14);
		out->l4_hlen = doff;
		out->payload_len = rest - doff;
	} else if (out->proto == DPI_IPPROTO_UDP) {
		size_t ulen;

		if (rest < DPI_UDP_HLEN)
			return -1;
		ulen = get16(l4 + 4);
		if (ulen < DPI_UDP_HLEN || ulen > rest)
			return -1;
		out->l4_hlen = DPI_UDP_HLEN;
		out->payload_len = ulen - DPI_UDP_HLEN;
	} else {
		return -1;
	}
	out->sport = get16(l4);
	out->dport = get16(l4 + 2);
	out->payload = l4 + out->l4_hlen;
	return 0;
}

static void
put_ip4(uint8_t *o, const struct dpi_hdr *h, uint8_t proto, size_t total)
{
	o[0] = 0x45; /* version 4, 5 words */
	o[1] = 0;
	put16(o + 2, (uint16_t)total);
	put16(o + 4, h->ip_id);
	put16(o + 6, 0x4000); /* DF */
	o[8] = h->ttl;
	o[9] = proto;
	put16(o + 10, 0);
	memcpy(o + 12, &h->saddr, 4);
	memcpy(o + 16, &h->daddr, 4);
	put16(o + 10, dpi_csum(o, DPI_IP4_HLEN));
}

size_t
dpi_build_tcp(const struct dpi_hdr *h, const uint8_t *payload, size_t len,
	      uint8_t *out, size_t cap)
{
	size_t hdrs = DPI_IP4_HLEN + DPI_TCP_HLEN;
	uint8_t *t = out + DPI_IP4_HLEN;

	if (len > DPI_IP4_MAX - hdrs || hdrs + len > cap)
		return 0;
	put_ip4(out, h, DPI_IPPROTO_TCP, hdrs + len);
	put16(t, h->sport);
	put16(t + 2, h->dport);
	put32(t + 4, h->seq);
	put32(t + 8, h->ack);
	t[12] = (DPI_TCP_HLEN / 4) << 4;
	t[13] = h->flags;
	put16(t + 14, h->window);
	put16(t + 16, 0);
	put16(t + 18, 0); /* urgent pointer */
	if (len > 0)
		memcpy(t + DPI_TCP_HLEN, payload, len);
	put16(t + 16, dpi_l4_csum(h->saddr, h->daddr, DPI_IPPROTO_TCP, t,
				  DPI_TCP_HLEN + len));
	return hdrs + len;
}

size_t
dpi_build_udp(const struct dpi_hdr *h, const uint8_t *payload, size_t len,
	      uint8_t *out, size_t cap)
{
	size_t hdrs = DPI_IP4_HLEN + DPI_UDP_HLEN;
	uint8_t *u = out + DPI_IP4_HLEN;

	if (len > DPI_IP4_MAX - hdrs || hdrs + len > cap)
		return 0;
	put_ip4(out, h, DPI_IPPROTO_UDP, hdrs + len);
	put16(u, h->sport);
	put16(u + 2, h->dport);
	put16(u + 4, (uint16_t)(DPI_UDP_HLEN + len));
	put16(u + 6, 0);
	if (len > 0)
		memcpy(u + DPI_UDP_HLEN, payload, len);
	put16(u + 6, dpi_l4_csum(h->saddr, h->daddr, DPI_IPPROTO_UDP, u,
				 DPI_UDP_HLEN + len));
	return hdrs + len;
}

size_t
dpi_tcp_segment(const uint8_t *p, const struct dpi_pkt *info, size_t off,
		size_t mss, uint8_t *out, size_t cap)
{
	size_t hdrs = info->ip_hlen + info->l4_hlen, n, total;
	uint8_t flags = info->tcp_flags;
	uint8_t *t = out + info->ip_hlen;
	struct dpi_pkt seg;

	if (mss == 0 || off >= info->payload_len)
		return 0;
	n = info->payload_len - off < mss ? info->payload_len - off : mss;
	total = hdrs + n;
	if (total > cap)
		return 0;
	memcpy(out, p, hdrs);
	memcpy(out + hdrs, info->payload + off, n);
	put16(out + 2, (uint16_t)total);
	put16(out + 4, (uint16_t)(info->ip_id + off / mss));
	put32(t + 4, info->seq + (uint32_t)off);
	if (off + n < info->payload_len)
		flags &= (uint8_t) ~(DPI_TCP_FIN | DPI_TCP_PSH);
	if (off > 0)
		flags &= (uint8_t)~DPI_TCP_CWR;
	t[13] = flags;
	if (dpi_parse_ip4(out, total, &seg) != 0)
		return 0; /* cannot happen: same headers, shorter payload */
	dpi_fix_checksums(out, &seg);
	return total;
}

/* --- DNS ------------------------------------------------------------------*/

int
dpi_dns_parse_query(const uint8_t *msg, size_t len, struct dpi_dns_query *q)
{
	size_t off = DPI_DNS_HLEN, wire = 0, o = 0;

	memset(q, 0, sizeof(*q));
	if (len < DPI_DNS_HLEN)
		return -1;
	q->id = get16(msg);
	q->flags = get16(msg + 2);
	if ((q->flags & 0x8000) != 0 || ((q->flags >> 11) & 0x0f) != 0)
		return -1; /* a response, or not a standard query */
	if (get16(msg + 4) != 1 || get16(msg + 6) != 0 || get16(msg + 8) != 0)
		return -1;
	for (;;) {
		size_t l;

		if (off >= len)
			return -1;
		l = msg[off++];
		wire += 1 + l;
		if (wire > 255) /* RFC 1035 2.3.4 */
			return -1;
		if (l == 0)
			break;
		/* 0xc0 pointers, and the 0x40/0x80 label types RFC 6891
		 * retired: none belongs in a query we inspect. */
		if (l > 63 || l > len - off)
			return -1;
		if (o > 0)
			q->qname[o++] = '.';
		for (size_t i = 0; i < l; i++) {
			uint8_t c = msg[off + i];

			if (c < 0x21 || c > 0x7e || c == '.')
				return -1;
			q->qname[o++] = (char)c;
		}
		off += l;
	}
	q->qname[o] = '\0';
	if (len - off < 4)
		return -1;
	q->qtype = get16(msg + off);
	q->qclass = get16(msg + off + 2);
	q->qend = off + 4;
	return 0;
}

/* The reply to q with n records of type rtype, each rdlen bytes of rdata
 * taken in turn from rdata; see dpi_dns_build_reply(). */
static size_t
build_reply(const uint8_t *msg, const struct dpi_dns_query *q, unsigned rcode,
	    uint16_t rtype, const uint8_t *rdata, size_t rdlen, size_t n,
	    uint32_t ttl, uint8_t *out, size_t cap)
{
	size_t rr = 12 + rdlen, o;
	uint16_t flags;

	if (q->qend < DPI_DNS_HLEN || cap < q->qend ||
	    n > (cap - q->qend) / rr || n > 0xffff)
		return 0;
	flags = (uint16_t)(0x8000 | (q->flags & 0x7800) | 0x0100 | 0x0080 |
			   (rcode & 0x0f));
	put16(out, q->id);
	put16(out + 2, flags);
	put16(out + 4, 1);
	put16(out + 6, (uint16_t)n);
	put16(out + 8, 0);
	put16(out + 10, 0);
	memcpy(out + DPI_DNS_HLEN, msg + DPI_DNS_HLEN, q->qend - DPI_DNS_HLEN);
	o = q->qend;
	for (size_t i = 0; i < n; i++) {
		put16(out + o, 0xc000 | DPI_DNS_HLEN); /* the question's name */
		put16(out + o + 2, rtype);
		put16(out + o + 4, 1); /* IN */
		put32(out + o + 6, ttl);
		put16(out + o + 10, (uint16_t)rdlen);
		memcpy(out + o + 12, rdata + i * rdlen, rdlen);
		o += rr;
	}
	return o;
}

size_t
dpi_dns_build_reply(const uint8_t *msg, const struct dpi_dns_query *q,
		    unsigned rcode, const uint32_t *addrs, size_t n_addrs,
		    uint32_t ttl, uint8_t *out, size_t cap)
{
	return build_reply(msg, q, rcode, DPI_DNS_T_A, (const uint8_t *)addrs,
			   4, n_addrs, ttl, out, cap);
}

size_t
dpi_dns_build_reply6(const uint8_t *msg, const struct dpi_dns_query *q,
		     unsigned rcode, const uint8_t (*addrs)[16], size_t n_addrs,
		     uint32_t ttl, uint8_t *out, size_t cap)
{
	return build_reply(msg, q, rcode, DPI_DNS_T_AAAA,
			   (const uint8_t *)addrs, 16, n_addrs, ttl, out, cap);
}

bool
dpi_name_matches(const char *name, size_t len, const char *rule)
{
	size_t rl = strlen(rule);

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (rl == 0 || len < rl)
		return false;
	if (!eq_nocase((const uint8_t *)name + len - rl, rule, rl))
		return false;
	return len == rl || name[len - rl - 1] == '.';
}

/* --- TLS ------------------------------------------------------------------*/

/* A bounded reader: every take checks what is left. */
struct rd {
	const uint8_t *p;
	size_t n;
};

static bool
rd_skip(struct rd *r, size_t k)
{
	if (r->n < k)
		return false;
	r->p += k;
	r->n -= k;
	return true;
}

static bool
rd_num(struct rd *r, size_t bytes, size_t *v)
{
	size_t x = 0;

	if (r->n < bytes)
		return false;
	for (size_t i = 0; i < bytes; i++)
		x = x << 8 | r->p[i];
	*v = x;
	return rd_skip(r, bytes);
}

/* A vector with a length prefix of `bytes` bytes, wholly present. */
static bool
rd_vec(struct rd *r, size_t bytes, struct rd *v)
{
	size_t l;

	if (!rd_num(r, bytes, &l) || l > r->n)
		return false;
	v->p = r->p;
	v->n = l;
	return rd_skip(r, l);
}

#define TLS_CT_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_EXT_SERVER_NAME 0
#define TLS_RECORD_MAX (16384 + 2048) /* RFC 8446 5.2, with slack */

/* RFC 6066 3: ServerNameList; the first host_name entry counts. */
static int
sni_from_list(struct rd ext, char out[DPI_SNI_MAX + 1])
{
	struct rd list, name;
	size_t type;

	if (!rd_vec(&ext, 2, &list))
		return 0;
	while (list.n > 0) {
		if (!rd_num(&list, 1, &type) || !rd_vec(&list, 2, &name))
			return 0;
		if (type != 0)
			continue;
		if (name.n == 0 || name.n > DPI_SNI_MAX)
			return 0;
		for (size_t i = 0; i < name.n; i++)
			if (name.p[i] < 0x21 || name.p[i] > 0x7e)
				return 0;
		memcpy(out, name.p, name.n);
		out[name.n] = '\0';
		return 1;
	}
	return 0;
}

int
dpi_tls_sni(const uint8_t *p, size_t len, char out[DPI_SNI_MAX + 1])
{
	size_t reclen;

	out[0] = '\0';
	if (len < 5 || p[0] != TLS_CT_HANDSHAKE || p[1] != 3)
		return 0;
	reclen = get16(p + 3);
	if (reclen < 4 || reclen > TLS_RECORD_MAX)
		return 0;
	/* As much of the record as this segment holds. */
	return dpi_tls_hello_sni(p + 5, len - 5 < reclen ? len - 5 : reclen,
				 out);
}

int
dpi_tls_hello_sni(const uint8_t *p, size_t len, char out[DPI_SNI_MAX + 1])
{
	struct rd rec = {.p = p, .n = len}, hs, skip, exts;
	size_t type, hslen, extlen;

	out[0] = '\0';
	if (!rd_num(&rec, 1, &type) || type != TLS_HS_CLIENT_HELLO ||
	    !rd_num(&rec, 3, &hslen))
		return 0;
	hs = rec;
	if (hslen < hs.n) /* the record may hold more than the hello */
		hs.n = hslen;
	/* legacy_version, random, session id, cipher suites, compression */
	if (!rd_skip(&hs, 2 + 32) || !rd_vec(&hs, 1, &skip) || skip.n > 32 ||
	    !rd_vec(&hs, 2, &skip) || skip.n < 2 || skip.n % 2 != 0 ||
	    !rd_vec(&hs, 1, &skip) || skip.n < 1)
		return 0;
	if (!rd_num(&hs, 2, &extlen))
		return 0;
	exts.p = hs.p;
	exts.n = extlen < hs.n ? extlen : hs.n; /* cut short: what is here */
	while (exts.n >= 4) {
		struct rd ext;

		if (!rd_num(&exts, 2, &type) || !rd_vec(&exts, 2, &ext))
			return 0;
		if (type == TLS_EXT_SERVER_NAME)
			return sni_from_list(ext, out);
	}
	return 0;
}

/* --- HTTP -----------------------------------------------------------------*/

#define HTTP_METHOD_MAX 20

static bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool
is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Host header value: trim, drop ":port" (RFC 9110 7.2, RFC 3986 3.2.2). */
static void
http_host(struct dpi_http_req *r, const uint8_t *v, size_t n)
{
	while (n > 0 && is_ows(v[0])) {
		v++;
		n--;
	}
	while (n > 0 && is_ows(v[n - 1]))
		n--;
	if (n > 0 && v[0] == '[') {
		const uint8_t *end = memchr(v, ']', n);

		if (end == NULL)
			return;
		n = (size_t)(end - v) + 1;
	} else {
		const uint8_t *colon = memchr(v, ':', n);

		if (colon != NULL)
			n = (size_t)(colon - v);
	}
	if (n > 0) {
		r->host = v;
		r->host_len = n;
	}
}

static int
http_parse(const uint8_t *p, size_t len, struct dpi_http_req *r)
{
	size_t i = 0, t0;

	while (i < len && i < HTTP_METHOD_MAX && p[i] >= 'A' && p[i] <= 'Z')
		i++;
	if (i == 0 || i >= len || p[i] != ' ')
		return 0;
	r->method = p;
	r->method_len = i++;
	t0 = i;
	while (i < len && p[i] > 0x20 && p[i] < 0x7f)
		i++;
	if (i == t0 || i >= len || p[i] != ' ')
		return 0;
	r->target = p + t0;
	r->target_len = i - t0;
	i++;
	if (len - i < 8 || memcmp(p + i, "HTTP/", 5) != 0 ||
	    !is_digit(p[i + 5]) || p[i + 6] != '.' || !is_digit(p[i + 7]))
		return 0;
	i += 8;
	if (i < len && p[i] == '\r')
		i++;
	if (i >= len || p[i] != '\n')
		return 0;
	i++;

	/* Header lines, as far as complete lines go. */
	while (i < len) {
		const uint8_t *lf = memchr(p + i, '\n', len - i);
		size_t n;

		if (lf == NULL)
			break; /* a line cut short: its value may be too */
		n = (size_t)(lf - (p + i));
		if (n > 0 && p[i + n - 1] == '\r')
			n--;
		if (n == 0)
			break; /* end of the header section */
		if (r->host == NULL && n >= 5 && eq_nocase(p + i, "host:", 5))
			http_host(r, p + i + 5, n - 5);
		i = (size_t)(lf - p) + 1;
	}
	return 1;
}

int
dpi_http_parse(const uint8_t *p, size_t len, struct dpi_http_req *r)
{
	memset(r, 0, sizeof(*r));
	if (http_parse(p, len, r) == 1)
		return 1;
	memset(r, 0, sizeof(*r));
	return 0;
}

bool
dpi_contains(const uint8_t *hay, size_t len, const char *needle)
{
	size_t nl = strlen(needle);

	if (nl == 0 || nl > len)
		return false;
	for (size_t i = 0; i + nl <= len; i++)
		if (hay[i] == (uint8_t)needle[0] &&
		    memcmp(hay + i, needle, nl) == 0)
			return true;
	return false;
}

bool
dpi_host_equals(const uint8_t *s, size_t len, const char *name)
{
	size_t nl = strlen(name);

	if (len > 0 && s[len - 1] == '.')
		len--;
	return len == nl && eq_nocase(s, name, nl);
}

bool
dpi_http_query(const struct dpi_http_req *r, const uint8_t **q, size_t *len)
{
	const uint8_t *mark = memchr(r->target, '?', r->target_len);

	if (mark == NULL)
		return false;
	*q = mark + 1;
	*len = r->target_len - (size_t)(mark + 1 - r->target);
	return true;
}
