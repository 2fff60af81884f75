/*
 * fuzz_dpi.c - the lab censor's parsers (tests/lab/dpi.c) on arbitrary
 * bytes: the input is tried as a TCP payload (TLS ClientHello, HTTP
 * request), a DNS query and an IPv4 packet, and an accepted packet goes
 * through what the censor does with one (checksums, TTL, segmentation,
 * payload inspection). Besides the sanitizers' checks, abort() on any
 * broken promise of dpi.h: names NUL-terminated and printable, pointers
 * inside the input, forged replies and segments that parse back.
 *
 * The replay build links this file alone with build/libwallwatch.a, so
 * dpi.c is included here.
 */
#include <stdlib.h>
#include <string.h>

#include "../lab/dpi.c"
#include "fuzz.h"

static void
check_printable(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max)
		abort();
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			abort();
}

static void
check_inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
	if (p == NULL ? n != 0
		      : (p < data || n > size || (size_t)(p - data) > size - n))
		abort();
}

static void
try_payload(const uint8_t *data, size_t size)
{
	char sni[DPI_SNI_MAX + 1];
	struct dpi_http_req r;
	int rc;

	rc = dpi_tls_sni(data, size, sni);
	if (rc == 1) {
		if (sni[0] == '\0')
			abort();
		check_printable(sni, DPI_SNI_MAX);
		(void)dpi_name_matches(sni, strlen(sni), "lab.test");
	} else if (rc != 0 || sni[0] != '\0') {
		abort();
	}

	rc = dpi_http_parse(data, size, &r);
	if (rc == 1) {
		if (r.method_len == 0 || r.target_len == 0)
			abort();
		check_inside(r.method, r.method_len, data, size);
		check_inside(r.target, r.target_len, data, size);
		check_inside(r.host, r.host_len, data, size);
		for (size_t i = 0; i < r.target_len; i++)
			if (r.target[i] <= 0x20 || r.target[i] >= 0x7f)
				abort();
		(void)dpi_contains(r.target, r.target_len, "forbidden");
		{
			const uint8_t *qs;
			size_t qn;

			if (dpi_http_query(&r, &qs, &qn))
				check_inside(qs, qn, r.target, r.target_len);
		}
		if (r.host != NULL)
			(void)dpi_host_equals(r.host, r.host_len, "a.test");
	} else if (rc != 0 || r.method != NULL || r.target != NULL ||
		   r.host != NULL) {
		abort();
	}
}

static void
try_dns(const uint8_t *data, size_t size)
{
	static const uint32_t addrs[2] = {0x0100000a, 0x0200000a};
	static const uint8_t addrs6[1][16] = {{0x2a, 0x30, 0, 0x66}};
	uint8_t out[512];
	struct dpi_dns_query q, back;
	size_t n;

	if (dpi_dns_parse_query(data, size, &q) != 0)
		return;
	check_printable(q.qname, DPI_DNS_NAME_MAX);
	if (q.qend < DPI_DNS_HLEN + 5 || q.qend > size)
		abort();
	(void)dpi_name_matches(q.qname, strlen(q.qname), "lab.test");
	n = dpi_dns_build_reply(data, &q, DPI_DNS_RCODE_NOERROR, addrs, 2, 60,
				out, sizeof(out));
	if (n != (q.qend + 32 <= sizeof(out) ? q.qend + 32 : 0))
		abort();
	if (dpi_dns_build_reply6(data, &q, 0, addrs6, 1, 60, out,
				 sizeof(out)) !=
	    (q.qend + 28 <= sizeof(out) ? q.qend + 28 : 0))
		abort();
	n = dpi_dns_build_reply(data, &q, DPI_DNS_RCODE_NOERROR, addrs, 2, 60,
				out, sizeof(out));
	if (n == 0)
		return;
	if (get16(out) != q.id || (get16(out + 2) & 0x8180) != 0x8180)
		abort();
	/* The question comes back as it was: clear QR and it parses. */
	out[2] &= 0x7f;
	out[7] = 0;
	if (dpi_dns_parse_query(out, q.qend, &back) != 0 ||
	    strcmp(back.qname, q.qname) != 0 || back.qtype != q.qtype)
		abort();
}

static void
try_packet(const uint8_t *data, size_t size)
{
	static uint8_t pkt[DPI_IP4_MAX], seg[DPI_IP4_MAX];
	struct dpi_pkt pk, cp, sp;
	size_t mss, got = 0;

	if (dpi_parse_ip4(data, size, &pk) != 0)
		return;
	if (pk.ip_len > size ||
	    pk.ip_hlen + pk.l4_hlen + pk.payload_len > pk.ip_len)
		abort();
	check_inside(pk.payload, pk.payload_len, data, size);
	memcpy(pkt, data, pk.ip_len);
	if (dpi_parse_ip4(pkt, pk.ip_len, &cp) != 0)
		abort();
	if (dpi_ip4_dec_ttl(pkt, &cp) == 0 && pkt[8] + 1 != data[8])
		abort();
	dpi_fix_checksums(pkt, &cp);
	if (dpi_csum(pkt, cp.ip_hlen) != 0)
		abort();
	if (cp.proto == DPI_IPPROTO_UDP) {
		try_dns(cp.payload, cp.payload_len);
		return;
	}
	if (dpi_tcp_csum_state(pkt, &cp) != 1)
		abort();
	try_payload(cp.payload, cp.payload_len);
	mss = 1 + (size > 0 ? data[size - 1] : 0) + cp.payload_len / 16;
	for (size_t off = 0; off < cp.payload_len; off += mss) {
		size_t n =
			dpi_tcp_segment(pkt, &cp, off, mss, seg, sizeof(seg));

		if (n == 0 || dpi_parse_ip4(seg, n, &sp) != 0 ||
		    dpi_tcp_csum_state(seg, &sp) != 1 ||
		    sp.seq != cp.seq + (uint32_t)off ||
		    memcmp(sp.payload, cp.payload + off, sp.payload_len) != 0)
			abort();
		got += sp.payload_len;
	}
	if (got != cp.payload_len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	try_payload(data, size);
	try_dns(data, size);
	try_packet(data, size);
	return 0;
}
