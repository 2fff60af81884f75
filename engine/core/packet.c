/*
 * packet.c - parse one captured frame (see packet.h). Every read is
 * checked against caplen first; every length field of a header is checked
 * against both what was captured and what the enclosing header says.
 *
 * What is an error and what parses partially:
 * - a link, IP or transport header that is cut short (by the capture or
 *   by the enclosing length field) is an error naming the header;
 * - payload bytes cut by the snaplen are not: payload_caplen is then
 *   smaller than payload_len;
 * - Ethernet padding after a short IPv4 packet is not payload: the IP
 *   total length (IPv6 payload length) bounds everything after the header;
 * - a malformed TCP option stops the option walk (tcp_opt_bad), it does
 *   not make the packet an error (see packet.h);
 * - an IP packet that is neither TCP nor UDP parses with have_ports false,
 *   and so does a fragment that is not the first;
 * - a frame that is not IP at all (ARP, an unknown link type) is an error.
 */
#include "packet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "bytes.h"
#include "util.h"

#define ETH_HLEN 14
#define SLL_HLEN 16
#define SLL2_HLEN 20
#define NULL_HLEN 4
#define IP4_MIN_HLEN 20
#define IP6_HLEN 40
#define TCP_MIN_HLEN 20
#define UDP_HLEN 8
#define MAX_VLAN_TAGS 2

#define ETHERTYPE_IP4 0x0800
#define ETHERTYPE_IP6 0x86dd

/* Linux packet types (linux/if_packet.h), as SLL and SLL2 carry them. */
#define PKTTYPE_HOST 0
#define PKTTYPE_BROADCAST 1
#define PKTTYPE_MULTICAST 2
#define PKTTYPE_OUTGOING 4

/* --- link layer ---------------------------------------------------------- */

static enum ww_pkt_dir
dir_from_pkttype(unsigned t)
{
	switch (t) {
	case PKTTYPE_HOST:
	case PKTTYPE_BROADCAST:
	case PKTTYPE_MULTICAST:
		return WW_PKT_DIR_IN;
	case PKTTYPE_OUTGOING:
		return WW_PKT_DIR_OUT;
	default: /* PACKET_OTHERHOST, loopback's own copy, ... */
		return WW_PKT_DIR_UNKNOWN;
	}
}

static bool
is_vlan(uint16_t etype)
{
	/* 802.1Q, 802.1ad, and the pre-standard QinQ tag. */
	return etype == 0x8100 || etype == 0x88a8 || etype == 0x9100;
}

/*
 * The ethertype is at f[etype_at]; VLAN tags, if it names one, start at
 * f[tags_at] (each 4 bytes: TCI, then the next ethertype). Up to two tags
 * (802.1ad QinQ). Sets the IP header's offset and the version named.
 */
static int
walk_ethertype(const uint8_t *f, size_t caplen, size_t etype_at, size_t tags_at,
	       struct ww_pkt *out, int *version, char *err, size_t errlen)
{
	uint16_t etype = ww_be16(f + etype_at);
	size_t p = tags_at;
	int tags = 0;

	while (is_vlan(etype)) {
		if (++tags > MAX_VLAN_TAGS)
			return ww_fail(err, errlen, "more than %d VLAN tags",
				       MAX_VLAN_TAGS);
		if (caplen < p + 4)
			return ww_fail(err, errlen, "VLAN tag %d cut short",
				       tags);
		etype = ww_be16(f + p + 2);
		p += 4;
	}
	out->ip_off = p;
	if (etype == ETHERTYPE_IP4)
		*version = 4;
	else if (etype == ETHERTYPE_IP6)
		*version = 6;
	else
		return ww_fail(err, errlen, "ethertype 0x%04x is not IP",
			       (unsigned)etype);
	return 0;
}

static int
null_family_version(uint32_t fam)
{
	switch (fam) {
	case 2: /* AF_INET everywhere */
		return 4;
	case 10: /* AF_INET6: Linux */
	case 24: /* OpenBSD, NetBSD, BSD/OS */
	case 28: /* FreeBSD, DragonFly */
	case 30: /* macOS */
		return 6;
	default:
		return 0;
	}
}

/*
 * DLT_NULL's family is in the capturing host's byte order, which need not
 * be ours (a file from another machine): try ours, then swapped, as
 * tcpdump does.
 */
static int
parse_null(const uint8_t *f, size_t caplen, int *version, char *err,
	   size_t errlen)
{
	uint32_t fam;
	int v;

	if (caplen < NULL_HLEN)
		return ww_fail(err, errlen,
			       "loopback header cut short (%zu of %d bytes)",
			       caplen, NULL_HLEN);
	memcpy(&fam, f, sizeof(fam));
	v = null_family_version(fam);
	if (v == 0)
		v = null_family_version(__builtin_bswap32(fam));
	if (v == 0)
		return ww_fail(err, errlen,
			       "loopback address family %u is not IP",
			       (unsigned)fam);
	*version = v;
	return 0;
}

/*
 * Find the IP header: its offset, the IP version the link header says
 * (0: the version nibble decides), and the direction where it is told.
 */
static int
parse_link(int linktype, const uint8_t *f, size_t caplen, struct ww_pkt *out,
	   int *version, char *err, size_t errlen)
{
	*version = 0;
	switch (linktype) {
	case WW_DLT_NULL:
		out->ip_off = NULL_HLEN;
		return parse_null(f, caplen, version, err, errlen);
	case WW_DLT_EN10MB:
		if (caplen < ETH_HLEN)
			return ww_fail(err, errlen,
				       "Ethernet header cut short (%zu of %d "
				       "bytes)",
				       caplen, ETH_HLEN);
		return walk_ethertype(f, caplen, 12, ETH_HLEN, out, version,
				      err, errlen);
	case WW_DLT_RAW:
	case WW_DLT_RAW_ALT:
		out->ip_off = 0;
		return 0;
	case WW_DLT_IPV4:
	case WW_DLT_IPV6:
		*version = linktype == WW_DLT_IPV4 ? 4 : 6;
		out->ip_off = 0;
		return 0;
	case WW_DLT_LINUX_SLL:
		/* packet type (2), ARPHRD (2), address length (2), address
		 * (8), protocol (2) */
		if (caplen < SLL_HLEN)
			return ww_fail(err, errlen,
				       "SLL header cut short (%zu of %d bytes)",
				       caplen, SLL_HLEN);
		out->dir = dir_from_pkttype(ww_be16(f));
		return walk_ethertype(f, caplen, 14, SLL_HLEN, out, version,
				      err, errlen);
	case WW_DLT_LINUX_SLL2:
		/* protocol (2), reserved (2), ifindex (4), ARPHRD (2),
		 * packet type (1), address length (1), address (8) */
		if (caplen < SLL2_HLEN)
			return ww_fail(
				err, errlen,
				"SLL2 header cut short (%zu of %d bytes)",
				caplen, SLL2_HLEN);
		out->dir = dir_from_pkttype(f[10]);
		return walk_ethertype(f, caplen, 0, SLL2_HLEN, out, version,
				      err, errlen);
	default:
		return ww_fail(err, errlen, "unknown link type %d", linktype);
	}
}

/* --- transport ------------------------------------------------------------ */

static void
tcp_option(struct ww_pkt *out, unsigned kind, const uint8_t *v, size_t vlen)
{
	switch (kind) {
	case 2: /* MSS, RFC 9293 3.2 */
		if (vlen != 2)
			goto bad;
		out->mss = ww_be16(v);
		return;
	case 3: /* window scale, RFC 7323 2.2 */
		if (vlen != 1)
			goto bad;
		out->wscale = v[0];
		return;
	case 4: /* SACK permitted, RFC 2018 */
		if (vlen != 0)
			goto bad;
		out->sack_ok = true;
		return;
	case 8: /* timestamps, RFC 7323 3.2 */
		if (vlen != 8)
			goto bad;
		out->has_ts = true;
		out->tsval = ww_be32(v);
		out->tsecr = ww_be32(v + 4);
		return;
	default:
		return;
	}
bad:
	out->tcp_opt_bad = true;
}

/* o[0..n): the options area, all of it captured (the data offset was
 * checked against caplen). */
static void
tcp_options(struct ww_pkt *out, const uint8_t *o, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned kind = o[i];
		size_t len;

		if (kind == 0) /* end of option list */
			return;
		if (kind == 1) { /* no-operation */
			i++;
			continue;
		}
		if (i + 1 >= n) {
			out->tcp_opt_bad = true;
			return;
		}
		len = o[i + 1];
		if (len < 2 || len > n - i) {
			out->tcp_opt_bad = true;
			return;
		}
		tcp_option(out, kind, o + i + 2, len - 2);
		i += len;
	}
}

/*
 * f[off..end) is the transport header and payload of this packet as the
 * IP header bounds it; capend = min(end, caplen) is what was captured.
 */
/* The transport header of hlen bytes at off was read: the ports are set,
 * and the payload runs to end (the IP or UDP length), captured to capend. */
static void
set_payload(struct ww_pkt *out, const uint8_t *f, size_t off, size_t hlen,
	    size_t end, size_t capend)
{
	out->have_ports = true;
	out->l4_off = off;
	out->payload = f + off + hlen;
	out->payload_len = end - off - hlen;
	out->payload_caplen = capend - off - hlen;
}

static int
parse_tcp(const uint8_t *f, size_t off, size_t end, size_t capend,
	  struct ww_pkt *out, char *err, size_t errlen)
{
	const uint8_t *t = f + off;
	size_t hlen;

	if (end - off < TCP_MIN_HLEN)
		return ww_fail(err, errlen,
			       "TCP header cut by the IP length (%zu of %d "
			       "bytes)",
			       end - off, TCP_MIN_HLEN);
	if (capend - off < TCP_MIN_HLEN)
		return ww_fail(
			err, errlen,
			"TCP header cut short (%zu of %d bytes captured)",
			capend - off, TCP_MIN_HLEN);
	hlen = (size_t)(t[12] >> 4) * 4;
	if (hlen < TCP_MIN_HLEN)
		return ww_fail(err, errlen, "TCP data offset %zu under 5",
			       hlen / 4);
	if (hlen > end - off)
		return ww_fail(err, errlen,
			       "TCP data offset %zu (%zu bytes) beyond the IP "
			       "packet (%zu bytes left)",
			       hlen / 4, hlen, end - off);
	if (hlen > capend - off)
		return ww_fail(err, errlen,
			       "TCP data offset %zu (%zu bytes) beyond the "
			       "capture (%zu bytes captured)",
			       hlen / 4, hlen, capend - off);
	out->sport = ww_be16(t);
	out->dport = ww_be16(t + 2);
	out->seq = ww_be32(t + 4);
	out->ack = ww_be32(t + 8);
	out->flags = t[13];
	out->win = ww_be16(t + 14);
	tcp_options(out, t + TCP_MIN_HLEN, hlen - TCP_MIN_HLEN);
	set_payload(out, f, off, hlen, end, capend);
	return 0;
}

static int
parse_udp(const uint8_t *f, size_t off, size_t end, size_t capend,
	  struct ww_pkt *out, char *err, size_t errlen)
{
	const uint8_t *u = f + off;
	size_t ulen;

	if (end - off < UDP_HLEN)
		return ww_fail(
			err, errlen,
			"UDP header cut by the IP length (%zu of %d bytes)",
			end - off, UDP_HLEN);
	if (capend - off < UDP_HLEN)
		return ww_fail(
			err, errlen,
			"UDP header cut short (%zu of %d bytes captured)",
			capend - off, UDP_HLEN);
	ulen = ww_be16(u + 4);
	if (ulen < UDP_HLEN)
		return ww_fail(err, errlen, "UDP length %zu under 8", ulen);
	/* A first fragment carries part of the datagram: its UDP length is
	 * the whole datagram's, so only an unfragmented one must fit. */
	if (!out->fragment) {
		if (ulen > end - off)
			return ww_fail(
				err, errlen,
				"UDP length %zu beyond the IP packet (%zu "
				"bytes)",
				ulen, end - off);
		end = off + ulen;
		if (capend > end)
			capend = end;
	}
	out->sport = ww_be16(u);
	out->dport = ww_be16(u + 2);
	set_payload(out, f, off, UDP_HLEN, end, capend);
	return 0;
}

/* After the IP header(s): TCP, UDP, or a payload we do not look into. */
static int
parse_l4(const uint8_t *f, size_t off, size_t end, size_t capend,
	 struct ww_pkt *out, char *err, size_t errlen)
{
	if (out->frag_off == 0 && out->proto == 6)
		return parse_tcp(f, off, end, capend, out, err, errlen);
	if (out->frag_off == 0 && out->proto == 17)
		return parse_udp(f, off, end, capend, out, err, errlen);
	out->payload = f + off;
	out->payload_len = end - off;
	out->payload_caplen = capend > off ? capend - off : 0;
	return 0;
}

/* --- network layer ------------------------------------------------------- */

static int
parse_ip4(const uint8_t *f, size_t caplen, struct ww_pkt *out, char *err,
	  size_t errlen)
{
	size_t off = out->ip_off, hlen, tot, end, capend;
	const uint8_t *h = f + off;
	uint16_t fragw;

	if (caplen - off < IP4_MIN_HLEN)
		return ww_fail(err, errlen,
			       "IPv4 header cut short (%zu of %d bytes)",
			       caplen - off, IP4_MIN_HLEN);
	hlen = (size_t)(h[0] & 0x0f) * 4;
	if (hlen < IP4_MIN_HLEN)
		return ww_fail(err, errlen, "IPv4 header length %zu under 5",
			       hlen / 4);
	if (hlen > caplen - off)
		return ww_fail(err, errlen,
			       "IPv4 header (%zu bytes with options) cut short "
			       "(%zu captured)",
			       hlen, caplen - off);
	tot = ww_be16(h + 2);
	if (tot < hlen)
		return ww_fail(err, errlen,
			       "IPv4 total length %zu under its header length "
			       "%zu",
			       tot, hlen);
	out->family = AF_INET;
	memcpy(out->src, h + 12, 4);
	memcpy(out->dst, h + 16, 4);
	out->ip_hlen = hlen;
	out->ip_len = tot;
	out->ttl = h[8];
	out->ip_id = ww_be16(h + 4);
	fragw = ww_be16(h + 6);
	out->df = (fragw & 0x4000) != 0;
	out->frag_off = (size_t)(fragw & 0x1fff) * 8;
	out->fragment = (fragw & 0x2000) != 0 || out->frag_off != 0;
	out->proto = h[9];
	end = off + tot;
	capend = end < caplen ? end : caplen;
	return parse_l4(f, off + hlen, end, capend, out, err, errlen);
}

static bool
is_ip6_ext(int nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 44;
}

static int
parse_ip6(const uint8_t *f, size_t caplen, struct ww_pkt *out, char *err,
	  size_t errlen)
{
	size_t off = out->ip_off, p, end, capend;
	const uint8_t *h = f + off;
	int nh, n_ext = 0;

	if (caplen - off < IP6_HLEN)
		return ww_fail(err, errlen,
			       "IPv6 header cut short (%zu of %d bytes)",
			       caplen - off, IP6_HLEN);
	out->family = AF_INET6;
	memcpy(out->src, h + 8, 16);
	memcpy(out->dst, h + 24, 16);
	out->ip_len = IP6_HLEN + (size_t)ww_be16(h + 4);
	out->ttl = h[7];
	end = off + out->ip_len;
	capend = end < caplen ? end : caplen;
	nh = h[6];
	p = off + IP6_HLEN;
	/* RFC 8200 4: walk the chain; a non-first fragment's next header is
	 * in the first fragment, so the walk ends at its fragment header. */
	while (is_ip6_ext(nh) && out->frag_off == 0) {
		size_t elen = nh == 44 ? 8 : 0;

		if (++n_ext > WW_PKT_MAX_EXT)
			return ww_fail(err, errlen,
				       "more than %d IPv6 extension headers",
				       WW_PKT_MAX_EXT);
		if (end - p < 8)
			return ww_fail(err, errlen,
				       "IPv6 extension header %d beyond the "
				       "payload length",
				       nh);
		if (capend - p < 8)
			return ww_fail(err, errlen,
				       "IPv6 extension header %d cut short",
				       nh);
		if (elen == 0)
			elen = ((size_t)f[p + 1] + 1) * 8;
		if (elen > end - p)
			return ww_fail(err, errlen,
				       "IPv6 extension header %d (%zu bytes) "
				       "beyond the payload length",
				       nh, elen);
		if (elen > capend - p)
			return ww_fail(
				err, errlen,
				"IPv6 extension header %d (%zu bytes) cut "
				"short",
				nh, elen);
		if (nh == 44) {
			uint16_t w = ww_be16(f + p + 2);

			/* An atomic fragment (offset 0, no M, RFC 6946) is
			 * the whole datagram: not a fragment. */
			out->frag_off = (size_t)(w >> 3) * 8;
			out->fragment = out->frag_off != 0 || (w & 1) != 0;
			out->frag_id = ww_be32(f + p + 4);
			out->ip_id = (int)(out->frag_id & 0x7fffffff);
		}
		nh = f[p];
		p += elen;
	}
	out->proto = nh;
	out->ip_hlen = p - off;
	return parse_l4(f, p, end, capend, out, err, errlen);
}

static void
pkt_init(struct ww_pkt *out)
{
	memset(out, 0, sizeof(*out));
	out->ip_id = -1;
	out->mss = -1;
	out->wscale = -1;
}

int
ww_pkt_parse(int linktype, const uint8_t *frame, size_t caplen,
	     struct ww_pkt *out, char *err, size_t errlen)
{
	int version, v;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	pkt_init(out);
	if (frame == NULL && caplen > 0)
		return ww_fail(err, errlen, "no frame");
	if (parse_link(linktype, frame, caplen, out, &version, err, errlen) < 0)
		return -1;
	if (out->ip_off >= caplen)
		return ww_fail(err, errlen,
			       "no IP header after the link header");
	v = frame[out->ip_off] >> 4;
	if (v != 4 && v != 6)
		return ww_fail(err, errlen, "IP version %d", v);
	if (version != 0 && v != version)
		return ww_fail(err, errlen,
			       "IP version %d where the link header says %d", v,
			       version);
	if (v == 4)
		return parse_ip4(frame, caplen, out, err, errlen);
	return parse_ip6(frame, caplen, out, err, errlen);
}

void
ww_tcp_flags_str(uint8_t flags, char out[9])
{
	static const struct {
		uint8_t bit;
		char c;
	} order[] = {
		{WW_TCP_FIN, 'F'}, {WW_TCP_SYN, 'S'}, {WW_TCP_RST, 'R'},
		{WW_TCP_PSH, 'P'}, {WW_TCP_ACK, 'A'}, {WW_TCP_URG, 'U'},
		{WW_TCP_ECE, 'E'}, {WW_TCP_CWR, 'C'},
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (flags & order[i].bit)
			out[n++] = order[i].c;
	out[n] = '\0';
}

void
ww_pkt_addr_str(int family, const uint8_t *addr, char *out, size_t outlen)
{
	if (out == NULL || outlen == 0)
		return;
	if ((family != AF_INET && family != AF_INET6) || addr == NULL ||
	    inet_ntop(family, addr, out, (socklen_t)outlen) == NULL)
		snprintf(out, outlen, "?");
}
