/*
 * test_packet.c - ww_pkt_parse() on frames built byte by byte
 * (pktbuild.h): every link type, VLAN tags, IPv4 and IPv6 (extension
 * headers, fragments), TCP options, UDP; every truncation of valid frames
 * (an error while a header is cut, a partial payload after); malformed
 * headers and options.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/socket.h>

#include "packet.h"
#include "pktbuild.h"

/* MSS 1460, SACK permitted, timestamps, NOP, window scale 7 (Linux's
 * SYN). */
static const uint8_t syn_opts[] = {2,	 4,    0x05, 0xb4, 4, 2, 8, 10, 0, 0,
				   0x01, 0x02, 0,    0,	   0, 0, 1, 3,	3, 7};

static const uint8_t payload[] = "GET / HTTP/1.1\r\nHost: x.test\r\n\r\n";

/* Parse a copy of f[0..caplen) in a buffer of exactly that size, so that
 * ASan sees any read past caplen. */
static int
parse_exact(int linktype, const uint8_t *b, size_t caplen, struct ww_pkt *p,
	    char *err, size_t errlen)
{
	uint8_t *copy = caplen > 0 ? malloc(caplen) : NULL;
	int rc;

	if (caplen > 0) {
		assert_non_null(copy);
		memcpy(copy, b, caplen);
	}
	rc = ww_pkt_parse(linktype, copy, caplen, p, err, errlen);
	/* The payload pointer must not outlive the copy in a test. */
	if (rc == 0 && p->payload_caplen > 0)
		assert_true(p->payload >= copy &&
			    p->payload + p->payload_caplen <= copy + caplen);
	free(copy);
	return rc;
}

static void
parse_ok(int linktype, const struct frame *f, struct ww_pkt *p)
{
	char err[128];

	err[0] = 'x';
	if (ww_pkt_parse(linktype, f->b, f->n, p, err, sizeof(err)) != 0)
		fail_msg("parse failed: %s", err);
	assert_string_equal(err, "");
}

static void
expect_error(int linktype, const struct frame *f, const char *needle)
{
	struct ww_pkt p;
	char err[128];

	assert_int_equal(
		parse_exact(linktype, f->b, f->n, &p, err, sizeof(err)), -1);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, needle);
}

static void
ip4_tcp_syn(struct frame *f)
{
	fb_ip4(f, 6, fb_a4, fb_b4, 64, 0x1234, 0x4000);
	fb_tcp(f, 40000, 443, 1000, 0, WW_TCP_SYN, 64240, syn_opts,
	       sizeof(syn_opts));
	fb_finish(f, 6);
}

static void
ip6_tcp_data(struct frame *f)
{
	fb_ip6(f, 6, fb_a6, fb_b6, 57);
	fb_tcp(f, 40001, 80, 0xfffffff0, 77, WW_TCP_PSH | WW_TCP_ACK, 502, NULL,
	       0);
	fb_put(f, payload, sizeof(payload) - 1);
	fb_finish(f, 6);
}

static void
ip4_udp(struct frame *f)
{
	fb_ip4(f, 17, fb_b4, fb_a4, 51, 777, 0);
	fb_udp(f, 53, 33000);
	fb_put(f, "\x12\x34\x81\x80", 4);
	fb_finish(f, 17);
}

/* --- valid frames -------------------------------------------------------- */

static void
test_ip4_tcp_options(void **state)
{
	struct frame f = {0};
	struct ww_pkt p;
	char s[64];

	(void)state;
	fb_eth(&f, 0, 0x0800);
	ip4_tcp_syn(&f);
	parse_ok(WW_DLT_EN10MB, &f, &p);
	assert_int_equal(p.dir, WW_PKT_DIR_UNKNOWN);
	assert_int_equal(p.family, AF_INET);
	assert_memory_equal(p.src, fb_a4, 4);
	assert_memory_equal(p.dst, fb_b4, 4);
	ww_pkt_addr_str(p.family, p.dst, s, sizeof(s));
	assert_string_equal(s, "198.51.100.7");
	assert_int_equal(p.ip_off, 14);
	assert_int_equal(p.ip_hlen, 20);
	assert_int_equal(p.ip_len, 20 + 20 + 20);
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.ip_id, 0x1234);
	assert_true(p.df);
	assert_false(p.fragment);
	assert_int_equal(p.proto, 6);
	assert_true(p.have_ports);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.l4_off, 34);
	assert_int_equal(p.seq, 1000);
	assert_int_equal(p.ack, 0);
	assert_int_equal(p.flags, WW_TCP_SYN);
	assert_int_equal(p.win, 64240);
	assert_int_equal(p.mss, 1460);
	assert_int_equal(p.wscale, 7);
	assert_true(p.sack_ok);
	assert_true(p.has_ts);
	assert_int_equal(p.tsval, 0x0102);
	assert_int_equal(p.tsecr, 0);
	assert_false(p.tcp_opt_bad);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.payload_caplen, 0);
}

static void
test_ip6_tcp_payload(void **state)
{
	struct frame f = {0};
	struct ww_pkt p;
	char s[64];

	(void)state;
	fb_sll2(&f, 4, 0x86dd);
	ip6_tcp_data(&f);
	parse_ok(WW_DLT_LINUX_SLL2, &f, &p);
	assert_int_equal(p.dir, WW_PKT_DIR_OUT);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.ip_off, 20);
	assert_int_equal(p.ip_hlen, 40);
	assert_int_equal(p.ttl, 57);
	assert_int_equal(p.ip_id, -1);
	assert_false(p.fragment);
	ww_pkt_addr_str(p.family, p.src, s, sizeof(s));
	assert_string_equal(s, "2001:db8:aa00::10");
	assert_int_equal(p.seq, 0xfffffff0);
	assert_int_equal(p.ack, 77);
	assert_int_equal(p.mss, -1);
	assert_int_equal(p.wscale, -1);
	assert_false(p.sack_ok);
	assert_false(p.has_ts);
	assert_int_equal(p.payload_len, sizeof(payload) - 1);
	assert_int_equal(p.payload_caplen, sizeof(payload) - 1);
	assert_memory_equal(p.payload, payload, sizeof(payload) - 1);
}

static void
test_ip6_ext_headers(void **state)
{
	struct frame f = {0};
	struct ww_pkt p;

	(void)state;
	fb_ip6(&f, 0, fb_a6, fb_b6, 64);
	/* hop-by-hop (8 bytes), destination options (16), routing (8),
	 * fragment (first, more to come) */
	fb_ip6_ext(&f, 60, 0);
	fb_ip6_ext(&f, 43, 1);
	fb_ip6_ext(&f, 44, 0);
	fb_ip6_frag(&f, 6, 0, true, 0x89abcdef);
	fb_tcp(&f, 1, 2, 3, 4, WW_TCP_ACK, 5, NULL, 0);
	fb_put(&f, payload, 8);
	fb_finish(&f, 6);
	parse_ok(WW_DLT_RAW, &f, &p);
	assert_int_equal(p.ip_hlen, 40 + 8 + 16 + 8 + 8);
	assert_int_equal(p.l4_off, p.ip_hlen);
	assert_true(p.fragment);
	assert_int_equal(p.frag_off, 0);
	assert_int_equal(p.frag_id, 0x89abcdef);
	assert_int_equal(p.ip_id, 0x09abcdef);
	assert_int_equal(p.proto, 6);
	assert_true(p.have_ports);
	assert_int_equal(p.sport, 1);
	assert_int_equal(p.payload_len, 8);
}

static void
test_ip6_later_fragment(void **state)
{
	struct frame f = {0};
	struct ww_pkt p;

	(void)state;
	fb_ip6(&f, 44, fb_a6, fb_b6, 64);
	fb_ip6_frag(&f, 17, 185, false, 42);
	/* Bytes that would parse as a UDP header of length 3 if read. */
	fb_put(&f, "\x00\x35\x00\x35\x00\x03\x00\x00\x01\x02", 10);
	fb_finish(&f, 0);
	parse_ok(WW_DLT_IPV6, &f, &p);
	assert_true(p.fragment);
	assert_int_equal(p.frag_off, 185 * 8);
	assert_int_equal(p.ip_id, 42);
	assert_int_equal(p.proto, 17);
	assert_false(p.have_ports);
	assert_int_equal(p.l4_off, 0);
	assert_int_equal(p.payload_len, 10);
	assert_int_equal(p.payload_caplen, 10);
}

static void
test_ip6_ext_limit(void **state)
{
	struct frame f = {0}, g = {0};
	struct ww_pkt p;

	(void)state;
	fb_ip6(&f, 60, fb_a6, fb_b6, 64);
	fb_ip6(&g, 60, fb_a6, fb_b6, 64);
	for (int i = 0; i < WW_PKT_MAX_EXT; i++) {
		fb_ip6_ext(&f, i == WW_PKT_MAX_EXT - 1 ? 17 : 60, 0);
		fb_ip6_ext(&g, 60, 0);
	}
	fb_udp(&f, 5353, 5353);
	fb_finish(&f, 17);
	parse_ok(WW_DLT_RAW_ALT, &f, &p);
	assert_int_equal(p.proto, 17);
	assert_true(p.have_ports);
	assert_int_equal(p.ip_hlen, 40 + 8 * WW_PKT_MAX_EXT);

	fb_ip6_ext(&g, 17, 0); /* the ninth */
	fb_udp(&g, 5353, 5353);
	fb_finish(&g, 17);
	expect_error(WW_DLT_RAW, &g, "more than 8 IPv6 extension headers");
}

static void
test_udp_sll_in_and_padding(void **state)
{
	struct frame f = {0}, e = {0};
	struct ww_pkt p;

	(void)state;
	fb_sll(&f, 0, 0x0800);
	ip4_udp(&f);
	parse_ok(WW_DLT_LINUX_SLL, &f, &p);
	assert_int_equal(p.dir, WW_PKT_DIR_IN);
	assert_int_equal(p.ip_off, 16);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.dport, 33000);
	assert_int_equal(p.ttl, 51);
	assert_int_equal(p.ip_id, 777);
	assert_false(p.df);
	assert_int_equal(p.payload_len, 4);
	assert_int_equal(p.payload_caplen, 4);
	assert_memory_equal(p.payload, "\x12\x34\x81\x80", 4);

	/* Ethernet pads a short frame to 60 bytes: not payload. */
	fb_eth(&e, 0, 0x0800);
	ip4_udp(&e);
	while (e.n < 60)
		fb_put8(&e, 0xee);
	parse_ok(WW_DLT_EN10MB, &e, &p);
	assert_int_equal(p.ip_len, 32);
	assert_int_equal(p.payload_len, 4);
	assert_int_equal(p.payload_caplen, 4);
}

static void
test_sll_directions(void **state)
{
	static const struct {
		unsigned type;
		enum ww_pkt_dir dir;
	} cases[] = {
		{0, WW_PKT_DIR_IN},	    {1, WW_PKT_DIR_IN},
		{2, WW_PKT_DIR_IN},	    {3, WW_PKT_DIR_UNKNOWN},
		{4, WW_PKT_DIR_OUT},	    {5, WW_PKT_DIR_UNKNOWN},
		{0xff, WW_PKT_DIR_UNKNOWN},
	};
	struct ww_pkt p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame f = {0}, g = {0};

		fb_sll(&f, cases[i].type, 0x0800);
		ip4_udp(&f);
		parse_ok(WW_DLT_LINUX_SLL, &f, &p);
		assert_int_equal(p.dir, cases[i].dir);
		fb_sll2(&g, cases[i].type, 0x86dd);
		ip6_tcp_data(&g);
		parse_ok(WW_DLT_LINUX_SLL2, &g, &p);
		assert_int_equal(p.dir, cases[i].dir);
	}
}

static void
test_null_families(void **state)
{
	static const uint32_t v6[] = {10, 24, 28, 30};
	struct ww_pkt p;

	(void)state;
	{
		struct frame f = {0};

		fb_null(&f, 2);
		ip4_udp(&f);
		parse_ok(WW_DLT_NULL, &f, &p);
		assert_int_equal(p.family, AF_INET);
		assert_int_equal(p.ip_off, 4);
	}
	for (size_t i = 0; i < 4; i++) {
		struct frame f = {0}, g = {0};

		fb_null(&f, v6[i]);
		ip6_tcp_data(&f);
		parse_ok(WW_DLT_NULL, &f, &p);
		assert_int_equal(p.family, AF_INET6);
		/* From a host of the other byte order. */
		fb_null(&g, __builtin_bswap32(v6[i]));
		ip6_tcp_data(&g);
		parse_ok(WW_DLT_NULL, &g, &p);
		assert_int_equal(p.family, AF_INET6);
	}
	{
		struct frame f = {0}, g = {0};

		fb_null(&f, 7);
		ip4_udp(&f);
		expect_error(WW_DLT_NULL, &f, "family 7 is not IP");
		fb_null(&g, 2); /* says IPv4, carries IPv6 */
		ip6_tcp_data(&g);
		expect_error(WW_DLT_NULL, &g, "link header says 4");
	}
}

static void
test_raw_link_types(void **state)
{
	struct frame f4 = {0}, f6 = {0};
	struct ww_pkt p;

	(void)state;
	ip4_udp(&f4);
	ip6_tcp_data(&f6);
	parse_ok(WW_DLT_RAW, &f4, &p);
	assert_int_equal(p.family, AF_INET);
	parse_ok(WW_DLT_RAW_ALT, &f6, &p);
	assert_int_equal(p.family, AF_INET6);
	parse_ok(WW_DLT_IPV4, &f4, &p);
	parse_ok(WW_DLT_IPV6, &f6, &p);
	assert_int_equal(p.ip_off, 0);
	expect_error(WW_DLT_IPV4, &f6, "IP version 6 where the link");
	expect_error(WW_DLT_IPV6, &f4, "IP version 4 where the link");
	expect_error(147, &f4, "unknown link type 147");
	expect_error(-1, &f4, "unknown link type -1");
}

static void
test_vlan(void **state)
{
	struct frame f1 = {0}, f2 = {0}, f3 = {0};
	struct ww_pkt p;

	(void)state;
	fb_eth(&f1, 1, 0x86dd);
	ip6_tcp_data(&f1);
	parse_ok(WW_DLT_EN10MB, &f1, &p);
	assert_int_equal(p.ip_off, 18);
	assert_int_equal(p.family, AF_INET6);

	fb_eth(&f2, 2, 0x0800);
	ip4_tcp_syn(&f2);
	parse_ok(WW_DLT_EN10MB, &f2, &p);
	assert_int_equal(p.ip_off, 22);
	assert_int_equal(p.mss, 1460);

	/* A third tag. */
	fb_put(&f3, f2.b, 12);
	fb_put16(&f3, 0x8100);
	fb_put16(&f3, 1);
	fb_put(&f3, f2.b + 12, f2.n - 12);
	expect_error(WW_DLT_EN10MB, &f3, "more than 2 VLAN tags");

	/* A tag after the SLL header. */
	{
		struct frame s = {0};

		fb_sll(&s, 4, 0x8100);
		fb_put16(&s, 7);
		fb_put16(&s, 0x0800);
		ip4_udp(&s);
		parse_ok(WW_DLT_LINUX_SLL, &s, &p);
		assert_int_equal(p.ip_off, 20);
		assert_int_equal(p.dir, WW_PKT_DIR_OUT);
	}
}

static void
test_not_ip(void **state)
{
	struct frame e = {0}, s = {0}, s2 = {0};

	(void)state;
	fb_eth(&e, 0, 0x0806);
	fb_put(&e, payload, 28);
	expect_error(WW_DLT_EN10MB, &e, "ethertype 0x0806 is not IP");
	fb_sll(&s, 0, 0x0004);
	fb_put(&s, payload, 28);
	expect_error(WW_DLT_LINUX_SLL, &s, "ethertype 0x0004 is not IP");
	fb_sll2(&s2, 0, 0x0806);
	fb_put(&s2, payload, 28);
	expect_error(WW_DLT_LINUX_SLL2, &s2, "not IP");
}

static void
test_ip4_fragments(void **state)
{
	struct frame first = {0}, later = {0};
	struct ww_pkt p;

	(void)state;
	/* First fragment (MF): ports parsed, payload is this fragment's. */
	fb_ip4(&first, 17, fb_b4, fb_a4, 40, 9, 0x2000);
	fb_udp(&first, 53, 33000);
	fb_put(&first, payload, 16);
	fb_finish(&first, 17);
	fb_set16(&first, first.l4_off + 4, 1200); /* the whole datagram */
	parse_ok(WW_DLT_RAW, &first, &p);
	assert_true(p.fragment);
	assert_int_equal(p.frag_off, 0);
	assert_true(p.have_ports);
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.payload_len, 16);

	/* Offset 24 (192 bytes), no MF: the last, no transport header. */
	fb_ip4(&later, 6, fb_b4, fb_a4, 40, 9, 24);
	fb_put(&later, payload, 16);
	fb_finish(&later, 6);
	parse_ok(WW_DLT_RAW, &later, &p);
	assert_true(p.fragment);
	assert_int_equal(p.frag_off, 192);
	assert_int_equal(p.proto, 6);
	assert_false(p.have_ports);
	assert_int_equal(p.payload_len, 16);
	assert_ptr_equal(p.payload, later.b + 20);
}

static void
test_ip4_options_and_icmp(void **state)
{
	struct frame f = {0};
	struct ww_pkt p;

	(void)state;
	fb_ip4(&f, 1, fb_a4, fb_b4, 1, 5, 0);
	f.b[f.ip_off] = 0x46; /* IHL 6: one option word */
	fb_put32(&f, 0x01010100);
	fb_put(&f, "\x08\x00\xf7\xff\x00\x00\x00\x00", 8); /* echo */
	fb_set16(&f, f.ip_off + 2, (unsigned)(f.n - f.ip_off));
	parse_ok(WW_DLT_RAW, &f, &p);
	assert_int_equal(p.ip_hlen, 24);
	assert_int_equal(p.proto, 1);
	assert_false(p.have_ports);
	assert_int_equal(p.payload_len, 8);
	assert_int_equal(p.payload[0], 8);
}

/* --- TCP options --------------------------------------------------------- */

static void
options_of(const uint8_t *opts, size_t n, struct ww_pkt *p)
{
	struct frame f = {0};

	fb_ip4(&f, 6, fb_a4, fb_b4, 64, 1, 0);
	fb_tcp(&f, 1, 2, 3, 4, WW_TCP_SYN | WW_TCP_ACK, 5, opts, n);
	fb_finish(&f, 6);
	parse_ok(WW_DLT_RAW, &f, p);
}

static void
test_tcp_options_walk(void **state)
{
	struct ww_pkt p;

	(void)state;
	/* Unknown option 30 (MPTCP) of length 6 is stepped over. */
	options_of((const uint8_t *)"\x1e\x06\x00\x00\x00\x00\x02\x04\x01\x00",
		   10, &p);
	assert_int_equal(p.mss, 256);
	assert_false(p.tcp_opt_bad);

	/* EOL ends the walk: the MSS after it is not read. */
	options_of((const uint8_t *)"\x01\x00\x02\x04\x01\x00", 6, &p);
	assert_int_equal(p.mss, -1);
	assert_false(p.tcp_opt_bad);

	/* Length 0: walk stops, what came before is kept. */
	options_of((const uint8_t *)"\x03\x03\x0e\x05\x00\x02\x04\x01\x00", 9,
		   &p);
	assert_int_equal(p.wscale, 14);
	assert_true(p.tcp_opt_bad);
	assert_int_equal(p.mss, -1);

	/* Length 1. */
	options_of((const uint8_t *)"\x08\x01\x02\x04\x01\x00", 6, &p);
	assert_true(p.tcp_opt_bad);
	assert_false(p.has_ts);
	assert_int_equal(p.mss, -1);

	/* Length past the options area (4 bytes of options, says 10). */
	options_of((const uint8_t *)"\x08\x0a\x00\x00", 4, &p);
	assert_true(p.tcp_opt_bad);
	assert_false(p.has_ts);

	/* A kind with no room for its length byte (last of 4). */
	options_of((const uint8_t *)"\x01\x01\x01\x02", 4, &p);
	assert_true(p.tcp_opt_bad);

	/* A known option of the wrong size is skipped, the walk goes on. */
	options_of((const uint8_t *)"\x02\x03\x05\x04\x02\x03\x03\x06", 8, &p);
	assert_true(p.tcp_opt_bad);
	assert_int_equal(p.mss, -1);
	assert_true(p.sack_ok);
	assert_int_equal(p.wscale, 6);

	/* 40 bytes of options, the most a data offset of 15 allows. */
	{
		uint8_t o[40];

		memset(o, 1, sizeof(o));
		o[36] = 2;
		o[37] = 4;
		o[38] = 0x22;
		o[39] = 0x38;
		options_of(o, sizeof(o), &p);
		assert_int_equal(p.mss, 8760);
		assert_int_equal(p.payload_len, 0);
	}
}

static void
test_flags_str(void **state)
{
	static const struct {
		uint8_t f;
		const char *s;
	} cases[] = {
		{WW_TCP_SYN, "S"},
		{WW_TCP_SYN | WW_TCP_ACK, "SA"},
		{WW_TCP_ACK, "A"},
		{WW_TCP_PSH | WW_TCP_ACK, "PA"},
		{WW_TCP_RST, "R"},
		{WW_TCP_RST | WW_TCP_ACK, "RA"},
		{WW_TCP_FIN | WW_TCP_ACK, "FA"},
		{WW_TCP_SYN | WW_TCP_ECE | WW_TCP_CWR, "SEC"},
		{0xff, "FSRPAUEC"},
		{0, ""},
	};
	char s[9];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ww_tcp_flags_str(cases[i].f, s);
		assert_string_equal(s, cases[i].s);
	}
}

static void
test_addr_str(void **state)
{
	char s[64], tiny[4];

	(void)state;
	ww_pkt_addr_str(AF_INET, fb_a4, s, sizeof(s));
	assert_string_equal(s, "10.1.2.3");
	ww_pkt_addr_str(AF_INET6, fb_b6, s, sizeof(s));
	assert_string_equal(s, "2606:4700::6812");
	ww_pkt_addr_str(0, fb_a4, s, sizeof(s));
	assert_string_equal(s, "?");
	ww_pkt_addr_str(AF_INET, fb_a4, tiny, sizeof(tiny));
	assert_string_equal(tiny, "?");
}

/* --- truncation at every length ------------------------------------------ */

/* Cut f at every length: while a header is cut, an error naming a
 * header; from the payload on, a parse with the payload partial. */
static void
cut_everywhere(int linktype, const struct frame *f)
{
	struct ww_pkt full, p;
	size_t hdr_end;
	char err[128];

	parse_ok(linktype, f, &full);
	hdr_end = (size_t)(full.payload - f->b);
	for (size_t n = 0; n < f->n; n++) {
		int rc = parse_exact(linktype, f->b, n, &p, err, sizeof(err));

		if (n < hdr_end) {
			if (rc != -1)
				fail_msg("cut at %zu of %zu parsed", n, f->n);
			assert_true(strstr(err, "short") != NULL ||
				    strstr(err, "no IP header") != NULL ||
				    strstr(err, "beyond the capture") != NULL);
			continue;
		}
		if (rc != 0)
			fail_msg("cut at %zu: %s", n, err);
		assert_int_equal(p.payload_caplen, n - hdr_end);
		assert_int_equal(p.payload_len, full.payload_len);
		assert_int_equal(p.seq, full.seq);
		assert_int_equal(p.sport, full.sport);
	}
}

static void
test_truncated_everywhere(void **state)
{
	struct frame f = {0};

	(void)state;
	fb_eth(&f, 2, 0x0800);
	ip4_tcp_syn(&f);
	fb_put(&f, payload, 10);
	fb_finish(&f, 6);
	cut_everywhere(WW_DLT_EN10MB, &f);

	memset(&f, 0, sizeof(f));
	fb_sll(&f, 4, 0x86dd);
	ip6_tcp_data(&f);
	cut_everywhere(WW_DLT_LINUX_SLL, &f);

	memset(&f, 0, sizeof(f));
	fb_sll2(&f, 0, 0x0800);
	ip4_udp(&f);
	cut_everywhere(WW_DLT_LINUX_SLL2, &f);

	memset(&f, 0, sizeof(f));
	fb_null(&f, 30);
	fb_ip6(&f, 0, fb_a6, fb_b6, 64);
	fb_ip6_ext(&f, 44, 1);
	fb_ip6_frag(&f, 17, 0, false, 5);
	fb_udp(&f, 1, 2);
	fb_put(&f, payload, 5);
	fb_finish(&f, 17);
	cut_everywhere(WW_DLT_NULL, &f);

	memset(&f, 0, sizeof(f));
	ip4_udp(&f);
	cut_everywhere(WW_DLT_IPV4, &f);
}

/* --- malformed headers --------------------------------------------------- */

static void
test_malformed_ip(void **state)
{
	struct frame f = {0};

	(void)state;
	ip4_udp(&f);
	f.b[0] = 0x55;
	expect_error(WW_DLT_RAW, &f, "IP version 5");
	f.b[0] = 0x05;
	expect_error(WW_DLT_RAW, &f, "IP version 0");
	f.b[0] = 0x44;
	expect_error(WW_DLT_RAW, &f, "IPv4 header length 4 under 5");
	f.b[0] = 0x40;
	expect_error(WW_DLT_RAW, &f, "IPv4 header length 0 under 5");
	f.b[0] = 0x4f; /* 60 bytes, 32 captured */
	expect_error(WW_DLT_RAW, &f, "cut short (32 captured)");

	memset(&f, 0, sizeof(f));
	ip4_udp(&f);
	fb_set16(&f, 2, 19);
	expect_error(WW_DLT_RAW, &f, "total length 19 under its header");

	memset(&f, 0, sizeof(f));
	ip6_tcp_data(&f);
	f.b[0] = 0x45; /* an IPv6 header called IPv4: total length 0 */
	expect_error(WW_DLT_RAW, &f, "total length 0 under");

	/* IPv6 extension header longer than the payload length says. */
	memset(&f, 0, sizeof(f));
	fb_ip6(&f, 0, fb_a6, fb_b6, 64);
	fb_ip6_ext(&f, 17, 3);
	fb_udp(&f, 1, 2);
	fb_finish(&f, 17);
	fb_set16(&f, 4, 16);
	expect_error(WW_DLT_RAW, &f, "beyond the payload length");

	/* An empty frame, and NULL. */
	{
		struct ww_pkt p;
		char err[64];

		assert_int_equal(
			ww_pkt_parse(WW_DLT_RAW, NULL, 0, &p, err, sizeof(err)),
			-1);
		assert_string_equal(err, "no IP header after the link header");
		assert_int_equal(ww_pkt_parse(WW_DLT_RAW, NULL, 10, &p, err,
					      sizeof(err)),
				 -1);
		/* A NULL or empty error buffer is fine. */
		assert_int_equal(ww_pkt_parse(WW_DLT_RAW, f.b, 3, &p, NULL, 0),
				 -1);
		assert_int_equal(ww_pkt_parse(WW_DLT_RAW, f.b, 3, &p, err, 0),
				 -1);
	}
}

static void
test_malformed_tcp(void **state)
{
	struct frame f = {0};
	size_t doff;

	(void)state;
	ip4_tcp_syn(&f);
	doff = f.l4_off + 12;
	f.b[doff] = 4 << 4;
	expect_error(WW_DLT_RAW, &f, "TCP data offset 4 under 5");
	f.b[doff] = 0;
	expect_error(WW_DLT_RAW, &f, "TCP data offset 0 under 5");
	f.b[doff] = 15 << 4; /* 60 bytes, the packet has 40 after IP */
	expect_error(WW_DLT_RAW, &f, "beyond the IP packet");

	/* Beyond the capture, within the IP length. */
	memset(&f, 0, sizeof(f));
	ip4_tcp_syn(&f);
	fb_put(&f, payload, 30);
	fb_finish(&f, 6);
	f.b[f.l4_off + 12] = 15 << 4;
	{
		struct ww_pkt p;
		char err[128];

		assert_int_equal(parse_exact(WW_DLT_RAW, f.b, f.n - 20, &p, err,
					     sizeof(err)),
				 -1);
		assert_non_null(strstr(err, "beyond the capture"));
	}

	/* IP length leaves less than a TCP header. */
	memset(&f, 0, sizeof(f));
	ip4_tcp_syn(&f);
	fb_set16(&f, 2, 30);
	expect_error(WW_DLT_RAW, &f, "TCP header cut by the IP length");
}

static void
test_malformed_udp(void **state)
{
	struct frame f = {0};

	(void)state;
	ip4_udp(&f);
	fb_set16(&f, f.l4_off + 4, 7);
	expect_error(WW_DLT_RAW, &f, "UDP length 7 under 8");
	fb_set16(&f, f.l4_off + 4, 13);
	expect_error(WW_DLT_RAW, &f, "UDP length 13 beyond the IP packet");

	/* A UDP length shorter than the IP packet bounds the payload. */
	{
		struct ww_pkt p;

		fb_set16(&f, f.l4_off + 4, 10);
		parse_ok(WW_DLT_RAW, &f, &p);
		assert_int_equal(p.payload_len, 2);
		assert_int_equal(p.payload_caplen, 2);
	}

	memset(&f, 0, sizeof(f));
	ip4_udp(&f);
	fb_set16(&f, 2, 24);
	expect_error(WW_DLT_RAW, &f, "UDP header cut by the IP length");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip4_tcp_options),
		cmocka_unit_test(test_ip6_tcp_payload),
		cmocka_unit_test(test_ip6_ext_headers),
		cmocka_unit_test(test_ip6_later_fragment),
		cmocka_unit_test(test_ip6_ext_limit),
		cmocka_unit_test(test_udp_sll_in_and_padding),
		cmocka_unit_test(test_sll_directions),
		cmocka_unit_test(test_null_families),
		cmocka_unit_test(test_raw_link_types),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_ip4_fragments),
		cmocka_unit_test(test_ip4_options_and_icmp),
		cmocka_unit_test(test_tcp_options_walk),
		cmocka_unit_test(test_flags_str),
		cmocka_unit_test(test_addr_str),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_malformed_ip),
		cmocka_unit_test(test_malformed_tcp),
		cmocka_unit_test(test_malformed_udp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
