/*
 * test_dpi.c - the lab censor's parsers and packet builders (tests/lab/dpi.c):
 * SNI from a real ClientHello and from every prefix and corruption of it,
 * HTTP request lines and Host headers, DNS queries and the forged replies
 * (checked with the probe's own reply parser), checksums against a known
 * header and an independent sum, IPv4 parsing and GSO-style segmentation.
 *
 * The unit-test build links only this file with build/libwallwatch.a, and
 * dpi.c is not in the library, so it is included here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../lab/dpi.c"
#include "dnsmsg.h"
#include "model.h"

/*
 * The ClientHello `openssl s_client -servername www.blocked.lab.test` sent
 * (OpenSSL 3.0.19), captured on loopback: 326 bytes, one record. The
 * server_name extension starts at offset 144; the name is bytes 153..172.
 */
static const uint8_t hello[] = {
	0x16, 0x03, 0x01, 0x01, 0x41, 0x01, 0x00, 0x01, 0x3d, 0x03, 0x03, 0xd9,
	0x94, 0xb6, 0x41, 0x4a, 0xbb, 0x39, 0x70, 0x22, 0xf2, 0xc2, 0xed, 0x81,
	0x8a, 0xf2, 0xb0, 0xc9, 0x1c, 0x73, 0x95, 0xe6, 0x8b, 0x2a, 0x55, 0x30,
	0x1f, 0xe0, 0xe2, 0x29, 0xfe, 0xc7, 0x9e, 0x20, 0x97, 0xb5, 0x8e, 0xa0,
	0xff, 0x0d, 0x78, 0xdc, 0xee, 0x38, 0x25, 0x2e, 0xc0, 0x39, 0x94, 0x3f,
	0x06, 0x72, 0x72, 0xa2, 0x9c, 0x13, 0x29, 0xb3, 0x67, 0xea, 0xf8, 0x73,
	0xc4, 0xcf, 0x7f, 0x48, 0x00, 0x3e, 0x13, 0x02, 0x13, 0x03, 0x13, 0x01,
	0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f, 0xcc, 0xa9, 0xcc, 0xa8, 0xcc, 0xaa,
	0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0, 0x28, 0x00, 0x6b,
	0xc0, 0x23, 0xc0, 0x27, 0x00, 0x67, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39,
	0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33, 0x00, 0x9d, 0x00, 0x9c, 0x00, 0x3d,
	0x00, 0x3c, 0x00, 0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x00, 0xb6,
	0x00, 0x00, 0x00, 0x19, 0x00, 0x17, 0x00, 0x00, 0x14, 0x77, 0x77, 0x77,
	0x2e, 0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x65, 0x64, 0x2e, 0x6c, 0x61, 0x62,
	0x2e, 0x74, 0x65, 0x73, 0x74, 0x00, 0x0b, 0x00, 0x04, 0x03, 0x00, 0x01,
	0x02, 0x00, 0x0a, 0x00, 0x16, 0x00, 0x14, 0x00, 0x1d, 0x00, 0x17, 0x00,
	0x1e, 0x00, 0x19, 0x00, 0x18, 0x01, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01,
	0x03, 0x01, 0x04, 0x00, 0x23, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00,
	0x17, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x2a, 0x00, 0x28, 0x04, 0x03, 0x05,
	0x03, 0x06, 0x03, 0x08, 0x07, 0x08, 0x08, 0x08, 0x09, 0x08, 0x0a, 0x08,
	0x0b, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06,
	0x01, 0x03, 0x03, 0x03, 0x01, 0x03, 0x02, 0x04, 0x02, 0x05, 0x02, 0x06,
	0x02, 0x00, 0x2b, 0x00, 0x09, 0x08, 0x03, 0x04, 0x03, 0x03, 0x03, 0x02,
	0x03, 0x01, 0x00, 0x2d, 0x00, 0x02, 0x01, 0x01, 0x00, 0x33, 0x00, 0x26,
	0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, 0xd6, 0x96, 0x8b, 0x43, 0x5e, 0x66,
	0x47, 0x4c, 0x06, 0xee, 0x41, 0x4e, 0xe6, 0x29, 0xe9, 0x26, 0x39, 0xc0,
	0x7d, 0xfc, 0xd0, 0x8a, 0x69, 0x62, 0x44, 0xf7, 0xa7, 0xa6, 0x0d, 0xc9,
	0x9f, 0x02,
};

#define SNI_NAME_END 173

/* Copy n bytes of b to an exact-size heap buffer, so ASan sees an
 * over-read; the caller frees. */
static uint8_t *
dup_exact(const uint8_t *b, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	if (n > 0)
		memcpy(p, b, n);
	return p;
}

static int
sni_of(const uint8_t *b, size_t n, char out[DPI_SNI_MAX + 1])
{
	uint8_t *p = dup_exact(b, n);
	int rc = dpi_tls_sni(p, n, out);

	free(p);
	return rc;
}

/* --- TLS ------------------------------------------------------------------*/

static void
test_sni_real_hello(void **state)
{
	char sni[DPI_SNI_MAX + 1];

	(void)state;
	assert_int_equal(sizeof(hello), 326);
	assert_int_equal(sni_of(hello, sizeof(hello), sni), 1);
	assert_string_equal(sni, "www.blocked.lab.test");
}

/* Every cut of the segment: the name is found exactly when it is whole. */
static void
test_sni_every_prefix(void **state)
{
	char sni[DPI_SNI_MAX + 1];

	(void)state;
	for (size_t n = 0; n <= sizeof(hello); n++) {
		int rc = sni_of(hello, n, sni);

		if (n < SNI_NAME_END) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, 1);
			assert_string_equal(sni, "www.blocked.lab.test");
		}
	}
}

/* A hello split over two records: the first record's part is parsed. */
static void
test_sni_hello_over_two_records(void **state)
{
	uint8_t b[sizeof(hello)];
	char sni[DPI_SNI_MAX + 1];

	(void)state;
	memcpy(b, hello, sizeof(b));
	b[3] = 0;
	b[4] = 200; /* record of 200 bytes; the handshake says 317 */
	assert_int_equal(sni_of(b, sizeof(b), sni), 1);
	assert_string_equal(sni, "www.blocked.lab.test");
	b[4] = SNI_NAME_END - 5 - 1; /* the record ends inside the name */
	assert_int_equal(sni_of(b, sizeof(b), sni), 0);
}

static void
expect_no_sni(const uint8_t *b, size_t n)
{
	char sni[DPI_SNI_MAX + 1];

	assert_int_equal(sni_of(b, n, sni), 0);
	assert_string_equal(sni, "");
}

static void
test_sni_malformed(void **state)
{
	uint8_t b[sizeof(hello)];

	(void)state;
#define MUTATE(off, val)                                                       \
	do {                                                                   \
		memcpy(b, hello, sizeof(b));                                   \
		b[(off)] = (val);                                              \
		expect_no_sni(b, sizeof(b));                                   \
	} while (0)
	MUTATE(0, 0x17);   /* application data, not handshake */
	MUTATE(1, 0x02);   /* not TLS 1.x */
	MUTATE(3, 0x00);   /* record length 0x41: too short for the name */
	MUTATE(3, 0xff);   /* record length over the TLS maximum */
	MUTATE(5, 0x02);   /* server_hello */
	MUTATE(43, 33);	   /* session id longer than 32 */
	MUTATE(43, 0xff);  /* session id past the end of everything */
	MUTATE(76, 0xff);  /* cipher suites past the end */
	MUTATE(77, 0x3d);  /* odd cipher suites length */
	MUTATE(140, 0);	   /* no compression method */
	MUTATE(145, 0x2a); /* extension 0x002a, not server_name */
	MUTATE(147, 0xff); /* server_name extension longer than the rest */
	MUTATE(149, 0x30); /* name list longer than the extension */
	MUTATE(150, 1);	   /* name type 1 is not host_name */
	MUTATE(152, 0x15); /* name longer than the list */
	MUTATE(152, 0);	   /* empty name */
	MUTATE(160, 0);	   /* NUL inside the name */
	MUTATE(160, ' ');  /* space inside the name */
	MUTATE(160, 0x80); /* non-ASCII byte inside the name */
#undef MUTATE
	expect_no_sni((const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18);
	expect_no_sni(hello, 5);
	expect_no_sni(NULL, 0);
}

/* An extension list of a single server_name with two entries: an unknown
 * type first is skipped, the host_name after it is taken. */
static void
test_sni_second_entry(void **state)
{
	static const uint8_t head[] = {
		0x16, 0x03, 0x01, 0x00, 0x3f, /* record: 63 bytes */
		0x01, 0x00, 0x00, 0x3b,	      /* client_hello: 59 */
		0x03, 0x03, /* version; 32 random bytes next */
	};
	static const uint8_t tail[] = {
		0x00,			/* session id: empty */
		0x00, 0x02, 0x13, 0x01, /* one cipher suite */
		0x01, 0x00,		/* compression: null */
		0x00, 0x10,		/* extensions: 16 */
		0x00, 0x00, 0x00, 0x0c, /* server_name: 12 */
		0x00, 0x0a,		/* list: 10 */
		0x07, 0x00, 0x01, 'x',	/* type 7, "x" */
		0x00, 0x00, 0x03, 'a',	/* host_name, "a.B" */
		'.',  'B',
	};
	uint8_t h[sizeof(head) + 32 + sizeof(tail)];
	char sni[DPI_SNI_MAX + 1];

	(void)state;
	memcpy(h, head, sizeof(head));
	memset(h + sizeof(head), 0, 32);
	memcpy(h + sizeof(head) + 32, tail, sizeof(tail));
	assert_int_equal(sizeof(h), 5 + 0x3f);
	assert_int_equal(sni_of(h, sizeof(h), sni), 1);
	assert_string_equal(sni, "a.B");
}

/* --- HTTP -----------------------------------------------------------------*/

static int
http_of(const char *s, struct dpi_http_req *r)
{
	/* r points into s, which the callers keep alive (literals). */
	return dpi_http_parse((const uint8_t *)s, strlen(s), r);
}

static void
assert_span(const uint8_t *p, size_t n, const char *want)
{
	assert_non_null(p);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(p, want, n);
}

static void
test_http_request(void **state)
{
	static const char req[] = "GET /news/forbidden?q=1 HTTP/1.1\r\n"
				  "User-Agent: curl/7.88.1\r\n"
				  "host: \t Example.COM:8080 \r\n"
				  "Host: second.example\r\n"
				  "\r\n";
	struct dpi_http_req r;

	(void)state;
	assert_int_equal(http_of(req, &r), 1);
	assert_span(r.method, r.method_len, "GET");
	assert_span(r.target, r.target_len, "/news/forbidden?q=1");
	assert_span(r.host, r.host_len, "Example.COM");
	assert_true(dpi_host_equals(r.host, r.host_len, "example.com"));
	assert_false(dpi_host_equals(r.host, r.host_len, "example.co"));
	assert_true(dpi_contains(r.target, r.target_len, "forbidden"));
	assert_false(dpi_contains(r.target, r.target_len, "Forbidden"));
	assert_true(
		dpi_contains(r.target, r.target_len, "/news/forbidden?q=1"));
	assert_false(
		dpi_contains(r.target, r.target_len, "/news/forbidden?q=12"));
}

static void
test_http_query(void **state)
{
	struct dpi_http_req r;
	const uint8_t *q = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(http_of("GET /a?b=c?d HTTP/1.1\r\n\r\n", &r), 1);
	assert_true(dpi_http_query(&r, &q, &n));
	assert_span(q, n, "b=c?d");
	assert_int_equal(http_of("GET /search? HTTP/1.1\r\n", &r), 1);
	assert_true(dpi_http_query(&r, &q, &n));
	assert_int_equal(n, 0);
	assert_int_equal(http_of("GET /no-query HTTP/1.1\r\n", &r), 1);
	assert_false(dpi_http_query(&r, &q, &n));
	assert_int_equal(
		http_of("GET http://h.example/p?kw=1 HTTP/1.1\r\n", &r), 1);
	assert_true(dpi_http_query(&r, &q, &n));
	assert_span(q, n, "kw=1");
}

static void
test_http_hosts(void **state)
{
	struct dpi_http_req r;

	(void)state;
	assert_int_equal(
		http_of("GET / HTTP/1.0\nHost: [2001:db8::1]:80\n\n", &r), 1);
	assert_span(r.host, r.host_len, "[2001:db8::1]");
	assert_int_equal(http_of("HEAD http://a.test/x HTTP/1.1\r\n"
				 "HOST:a.test.\r\n",
				 &r),
			 1);
	assert_span(r.target, r.target_len, "http://a.test/x");
	assert_true(dpi_host_equals(r.host, r.host_len, "a.test"));
	/* No Host, a Host line cut short, a Host after the headers, an
	 * empty Host, a broken IPv6 literal, "Host :" (not a Host header). */
	assert_int_equal(http_of("GET / HTTP/1.1\r\n\r\n", &r), 1);
	assert_null(r.host);
	assert_int_equal(http_of("GET / HTTP/1.1\r\nHost: blocked.te", &r), 1);
	assert_null(r.host);
	assert_int_equal(http_of("GET / HTTP/1.1\r\n\r\nHost: a\r\n", &r), 1);
	assert_null(r.host);
	assert_int_equal(http_of("GET / HTTP/1.1\r\nHost:   \r\n", &r), 1);
	assert_null(r.host);
	assert_int_equal(http_of("GET / HTTP/1.1\r\nHost: [::1\r\n", &r), 1);
	assert_null(r.host);
	assert_int_equal(http_of("GET / HTTP/1.1\r\nHost : a\r\n", &r), 1);
	assert_null(r.host);
}

static void
test_http_not_requests(void **state)
{
	static const char *const bad[] = {
		"",
		"GET",
		"GET /pa",
		"GET /path HTTP/1.1",	 /* no line end yet */
		"GET /path HTTP/1.1\r",	 /* no LF yet */
		"get / HTTP/1.1\r\n",	 /* lower-case method */
		"GET  / HTTP/1.1\r\n",	 /* two spaces */
		"GET / HTTP/1.1 \r\n",	 /* trailing space */
		"GET /\tx HTTP/1.1\r\n", /* control byte in the target */
		"GET / HTTP/1\r\n",	 /* no minor version */
		"GET / HTTPS/1.1\r\n",
		"GET / HTTP/1.1\rX\n",
		"ABCDEFGHIJKLMNOPQRSTU / HTTP/1.1\r\n", /* 21-letter method */
		"\x16\x03\x01\x00\x05hello",
	};
	struct dpi_http_req r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (http_of(bad[i], &r) != 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_null(r.target);
	}
	assert_int_equal(http_of("PROPFIND / HTTP/1.1\r\n", &r), 1);
	assert_false(dpi_contains((const uint8_t *)"ab", 2, "abc"));
	assert_false(dpi_contains((const uint8_t *)"ab", 2, ""));
	assert_true(dpi_contains((const uint8_t *)"aab", 3, "ab"));
}

/* Every prefix of a request, in exact-size buffers: no over-read, and the
 * answer only ever grows (0, then 1 without Host, then 1 with it). */
static void
test_http_every_prefix(void **state)
{
	static const char req[] = "POST /upload HTTP/1.1\r\n"
				  "Host: page.lab.test\r\n"
				  "Content-Length: 3\r\n\r\nabc";
	size_t line_end = strlen("POST /upload HTTP/1.1\r\n");
	size_t host_end = line_end + strlen("Host: page.lab.test\r\n");

	(void)state;
	for (size_t n = 0; n <= strlen(req); n++) {
		uint8_t *p = dup_exact((const uint8_t *)req, n);
		struct dpi_http_req r;
		int rc = dpi_http_parse(p, n, &r);

		assert_int_equal(rc, n >= line_end);
		if (n >= host_end)
			assert_true(dpi_host_equals(r.host, r.host_len,
						    "page.lab.test"));
		else
			assert_null(r.host);
		free(p);
	}
}

/* --- DNS ------------------------------------------------------------------*/

/* A query for name (dotted, no final dot) of type qtype, RD set, with an
 * EDNS OPT record as dig and c-ares send it. Returns the length. */
static size_t
make_query(uint8_t *b, uint16_t id, const char *name, uint16_t qtype)
{
	size_t o = 12;

	memset(b, 0, 12);
	put16(b, id);
	put16(b + 2, 0x0100);
	put16(b + 4, 1);
	put16(b + 10, 1); /* ARCOUNT: the OPT */
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		b[o++] = (uint8_t)l;
		memcpy(b + o, name, l);
		o += l;
		name += l + (dot ? 1 : 0);
	}
	b[o++] = 0;
	put16(b + o, qtype);
	put16(b + o + 2, 1);
	o += 4;
	/* OPT: root name, type 41, UDP size 1232, no options */
	b[o++] = 0;
	put16(b + o, 41);
	put16(b + o + 2, 1232);
	memset(b + o + 4, 0, 6);
	return o + 10;
}

static void
test_dns_query_parse(void **state)
{
	uint8_t b[512];
	size_t n = make_query(b, 0xbeef, "Www.Example.com", DPI_DNS_T_A);
	uint8_t *p = dup_exact(b, n);
	struct dpi_dns_query q;

	(void)state;
	assert_int_equal(dpi_dns_parse_query(p, n, &q), 0);
	assert_int_equal(q.id, 0xbeef);
	assert_int_equal(q.flags, 0x0100);
	assert_int_equal(q.qtype, DPI_DNS_T_A);
	assert_int_equal(q.qclass, 1);
	assert_string_equal(q.qname, "Www.Example.com");
	assert_int_equal(q.qend, 12 + 17 + 4);
	free(p);
	/* The root */
	n = make_query(b, 1, "", DPI_DNS_T_AAAA);
	assert_int_equal(dpi_dns_parse_query(b, n, &q), 0);
	assert_string_equal(q.qname, "");
	assert_int_equal(q.qtype, DPI_DNS_T_AAAA);
}

static void
test_dns_query_malformed(void **state)
{
	uint8_t b[600], c[600];
	size_t n = make_query(b, 7, "a.example", DPI_DNS_T_A);
	struct dpi_dns_query q;
	size_t len;

	(void)state;
#define BAD(off, val)                                                          \
	do {                                                                   \
		memcpy(c, b, n);                                               \
		c[(off)] = (val);                                              \
		assert_int_equal(dpi_dns_parse_query(c, n, &q), -1);           \
	} while (0)
	BAD(2, 0x81);  /* QR: a response */
	BAD(2, 0x11);  /* opcode 2 (STATUS) */
	BAD(5, 2);     /* two questions */
	BAD(5, 0);     /* none */
	BAD(7, 1);     /* an answer record */
	BAD(9, 1);     /* an authority record */
	BAD(12, 0xc0); /* a compression pointer */
	BAD(12, 0x40); /* the retired extended label type */
	BAD(12, 2);    /* labels run past the end */
	BAD(13, '.');  /* a dot inside a label */
	BAD(13, ' ');
	BAD(13, 0);
#undef BAD
	/* Every cut of the question fails; the OPT is not read. */
	for (len = 0; len < 12 + 11 + 4; len++) {
		uint8_t *p = dup_exact(b, len);

		assert_int_equal(dpi_dns_parse_query(p, len, &q), -1);
		free(p);
	}
	/* A name of 256 bytes on the wire (4 x 63-byte labels) */
	memset(c, 0, 12);
	c[5] = 1;
	len = 12;
	for (int i = 0; i < 4; i++) {
		c[len++] = 63;
		memset(c + len, 'x', 63);
		len += 63;
	}
	c[len++] = 0;
	put16(c + len, 1);
	put16(c + len + 2, 1);
	len += 4;
	assert_int_equal(dpi_dns_parse_query(c, len, &q), -1);
	/* 255 bytes is the limit and fits qname: 3 x 63 + 61 */
	c[12 + 3 * 64] = 61;
	memmove(c + 12 + 3 * 64 + 1 + 61, c + 12 + 4 * 64, 5);
	len = 12 + 3 * 64 + 1 + 61 + 5;
	assert_int_equal(dpi_dns_parse_query(c, len, &q), 0);
	assert_int_equal(strlen(q.qname), DPI_DNS_NAME_MAX);
}

/* Parse a forged reply with the probe's own parser. */
static void
probe_parse(const uint8_t *b, size_t n, struct ww_dns_reply *r,
	    struct ww_query *wq)
{
	char err[128];

	memset(wq, 0, sizeof(*wq));
	if (ww_dns_parse_reply(b, n, r, wq, err, sizeof(err)) != 0)
		fail_msg("probe parser: %s", err);
}

static void
test_dns_forged_a(void **state)
{
	uint8_t b[512], out[512];
	size_t n = make_query(b, 0x1234, "Forged.Lab.test", DPI_DNS_T_A), m;
	struct dpi_dns_query q;
	uint32_t addrs[2];
	struct ww_dns_reply r;
	struct ww_query wq;
	static const uint8_t rr1[] = {0xc0, 0x0c, 0, 1, 0,  1,	0,  0,
				      0,    60,	  0, 4, 10, 10, 10, 10};

	(void)state;
	memcpy(&addrs[0], "\x0a\x0a\x0a\x0a", 4);
	memcpy(&addrs[1], "\xc0\x00\x02\x01", 4);
	assert_int_equal(dpi_dns_parse_query(b, n, &q), 0);
	m = dpi_dns_build_reply(b, &q, DPI_DNS_RCODE_NOERROR, addrs, 2, 60, out,
				sizeof(out));
	assert_int_equal(m, q.qend + 32);
	assert_int_equal(get16(out), 0x1234);
	assert_int_equal(get16(out + 2), 0x8180); /* QR RD RA, NOERROR */
	assert_int_equal(get16(out + 4), 1);
	assert_int_equal(get16(out + 6), 2);
	assert_int_equal(get16(out + 8), 0);
	assert_int_equal(get16(out + 10), 0); /* no OPT echoed */
	assert_memory_equal(out + 12, b + 12, q.qend - 12);
	assert_memory_equal(out + q.qend, rr1, sizeof(rr1));

	probe_parse(out, m, &r, &wq);
	assert_int_equal(r.id, 0x1234);
	assert_int_equal(r.rcode, 0);
	assert_int_equal(r.qr, 1);
	assert_string_equal(r.qname, "forged.lab.test");
	assert_int_equal(wq.n_answers, 2);
	assert_int_equal(wq.answers[0].type, WW_RR_A);
	assert_string_equal(wq.answers[0].value, "10.10.10.10");
	assert_int_equal(wq.answers[0].ttl, 60);
	assert_string_equal(wq.answers[1].value, "192.0.2.1");
	ww_query_clear(&wq);

	/* Too small a buffer: nothing */
	assert_int_equal(
		dpi_dns_build_reply(b, &q, 0, addrs, 2, 60, out, q.qend + 31),
		0);
	assert_int_equal(
		dpi_dns_build_reply(b, &q, 0, addrs, 0, 60, out, q.qend - 1),
		0);
}

static void
test_dns_forged_aaaa(void **state)
{
	uint8_t b[512], out[512];
	size_t n = make_query(b, 0x4321, "six.lab.test", DPI_DNS_T_AAAA), m;
	struct dpi_dns_query q;
	uint8_t addrs[2][16];
	struct ww_dns_reply r;
	struct ww_query wq;
	static const uint8_t rr1[] = {
		0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, 0x2a, 0x30,
		0,    0x66, 0, 0,  0, 0, 0, 0, 0, 0,  0, 0,  0,	   0x66};

	(void)state;
	memset(addrs, 0, sizeof(addrs));
	memcpy(addrs[0], "\x2a\x30\x00\x66", 4);
	addrs[0][15] = 0x66;
	addrs[1][0] = 0x20; /* 2001::1, a Teredo address as the GFW forges */
	addrs[1][1] = 0x01;
	addrs[1][15] = 1;
	assert_int_equal(dpi_dns_parse_query(b, n, &q), 0);
	m = dpi_dns_build_reply6(b, &q, DPI_DNS_RCODE_NOERROR, addrs, 2, 60,
				 out, sizeof(out));
	assert_int_equal(m, q.qend + 2 * 28);
	assert_int_equal(get16(out), 0x4321);
	assert_int_equal(get16(out + 2), 0x8180);
	assert_int_equal(get16(out + 6), 2);
	assert_memory_equal(out + q.qend, rr1, sizeof(rr1));

	probe_parse(out, m, &r, &wq);
	assert_int_equal(r.qtype, DPI_DNS_T_AAAA);
	assert_int_equal(wq.n_answers, 2);
	assert_int_equal(wq.answers[0].type, WW_RR_AAAA);
	assert_string_equal(wq.answers[0].value, "2a30:66::66");
	assert_string_equal(wq.answers[1].value, "2001::1");
	ww_query_clear(&wq);

	/* One byte short of the second record: nothing */
	assert_int_equal(
		dpi_dns_build_reply6(b, &q, 0, addrs, 2, 60, out, q.qend + 55),
		0);
	assert_int_equal(
		dpi_dns_build_reply6(b, &q, 0, addrs, 1, 60, out, q.qend + 28),
		q.qend + 28);
}

static void
test_dns_forged_nxdomain_and_empty(void **state)
{
	uint8_t b[512], out[512];
	size_t n = make_query(b, 0xffff, "nx.lab.test", DPI_DNS_T_AAAA), m;
	struct dpi_dns_query q;
	struct ww_dns_reply r;
	struct ww_query wq;

	(void)state;
	b[2] = 0; /* RD clear in the query: the reply sets it anyway */
	assert_int_equal(dpi_dns_parse_query(b, n, &q), 0);
	m = dpi_dns_build_reply(b, &q, DPI_DNS_RCODE_NXDOMAIN, NULL, 0, 60, out,
				sizeof(out));
	assert_int_equal(m, q.qend);
	assert_int_equal(get16(out + 2), 0x8183);
	probe_parse(out, m, &r, &wq);
	assert_int_equal(r.rcode, 3);
	assert_int_equal(r.qtype, DPI_DNS_T_AAAA);
	assert_int_equal(wq.n_answers, 0);
	ww_query_clear(&wq);

	m = dpi_dns_build_reply(b, &q, DPI_DNS_RCODE_NOERROR, NULL, 0, 60, out,
				sizeof(out));
	assert_int_equal(get16(out + 2), 0x8180);
	assert_int_equal(get16(out + 6), 0);
	probe_parse(out, m, &r, &wq);
	assert_int_equal(r.rcode, 0);
	ww_query_clear(&wq);
}

static void
test_name_matches(void **state)
{
	static const struct {
		const char *name, *rule;
		bool match;
	} cases[] = {
		{"blocked.lab", "blocked.lab", true},
		{"BLOCKED.Lab", "blocked.lab", true},
		{"blocked.lab.", "blocked.lab", true},
		{"www.blocked.lab", "blocked.lab", true},
		{"a.b.www.blocked.lab.", "blocked.lab", true},
		{"notblocked.lab", "blocked.lab", false},
		{"blocked.lab.evil", "blocked.lab", false},
		{"lab", "blocked.lab", false},
		{"", "blocked.lab", false},
		{".", "blocked.lab", false},
		{"blocked.lab..", "blocked.lab", false},
		{"x", "", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (dpi_name_matches(cases[i].name, strlen(cases[i].name),
				     cases[i].rule) != cases[i].match)
			fail_msg("\"%s\" vs \"%s\"", cases[i].name,
				 cases[i].rule);
}

/* --- checksums and packets ------------------------------------------------*/

/* An independent one's-complement sum, word by word (RFC 1071 4.1). */
static uint16_t
ref_sum(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < an; i += 2)
		s += (uint32_t)(a[i] << 8 | a[i + 1]);
	for (size_t i = 0; i < bn; i += 2)
		s += (uint32_t)(b[i] << 8 | (i + 1 < bn ? b[i + 1] : 0));
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* True when the transport checksum of an IPv4 packet verifies. */
static bool
l4_verifies(const uint8_t *ip)
{
	size_t hl = (size_t)(ip[0] & 15) * 4, len = get16(ip + 2) - hl;
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = ip[9];
	put16(ph + 10, (uint16_t)len);
	return ref_sum(ph, 12, ip + hl, len) == 0xffff;
}

static void
test_csum_known_header(void **state)
{
	/* The usual worked example: UDP, 192.168.0.1 -> 192.168.0.199,
	 * checksum 0xb861. */
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
			 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
			 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	(void)state;
	assert_int_equal(dpi_csum(h, sizeof(h)), 0xb861);
	put16(h + 10, 0xb861);
	assert_int_equal(dpi_csum(h, sizeof(h)), 0);
	/* Odd lengths pad with a zero byte */
	assert_int_equal(dpi_csum("\x01", 1), (uint16_t)~0x0100);
	assert_int_equal(dpi_csum("", 0), 0xffff);
}

static struct dpi_hdr
some_hdr(void)
{
	struct dpi_hdr h;

	memset(&h, 0, sizeof(h));
	memcpy(&h.saddr, "\x1e\x02\x00\x02", 4); /* 30.2.0.2 */
	memcpy(&h.daddr, "\x1e\x01\x00\x02", 4); /* 30.1.0.2 */
	h.sport = 443;
	h.dport = 40000;
	h.seq = 0xfffffff0; /* wraps in the segmentation test */
	h.ack = 0x01020304;
	h.flags = DPI_TCP_RST | DPI_TCP_ACK;
	h.window = 0;
	h.ip_id = 0xabcd;
	h.ttl = 64;
	return h;
}

static void
test_build_tcp_rst(void **state)
{
	struct dpi_hdr h = some_hdr();
	uint8_t out[100];
	size_t n = dpi_build_tcp(&h, NULL, 0, out, sizeof(out));
	struct dpi_pkt pk;

	(void)state;
	assert_int_equal(n, 40);
	assert_int_equal(out[0], 0x45);
	assert_int_equal(get16(out + 2), 40);
	assert_int_equal(get16(out + 4), 0xabcd);
	assert_int_equal(get16(out + 6), 0x4000); /* DF */
	assert_int_equal(out[8], 64);
	assert_int_equal(out[9], 6);
	assert_int_equal(ref_sum(out, 20, NULL, 0), 0xffff);
	assert_true(l4_verifies(out));
	assert_int_equal(dpi_parse_ip4(out, n, &pk), 0);
	assert_int_equal(pk.proto, DPI_IPPROTO_TCP);
	assert_int_equal(pk.sport, 443);
	assert_int_equal(pk.dport, 40000);
	assert_int_equal(pk.seq, 0xfffffff0);
	assert_int_equal(pk.ack, 0x01020304);
	assert_int_equal(pk.tcp_flags, DPI_TCP_RST | DPI_TCP_ACK);
	assert_int_equal(pk.payload_len, 0);
	assert_int_equal(pk.saddr, h.saddr);
	assert_int_equal(dpi_tcp_csum_state(out, &pk), 1);
	assert_int_equal(dpi_build_tcp(&h, NULL, 0, out, 39), 0);
}

static void
test_build_udp(void **state)
{
	struct dpi_hdr h = some_hdr();
	uint8_t out[100];
	size_t n = dpi_build_udp(&h, (const uint8_t *)"abcde", 5, out,
				 sizeof(out));
	struct dpi_pkt pk;

	(void)state;
	assert_int_equal(n, 33);
	assert_int_equal(out[9], 17);
	assert_int_equal(get16(out + 24), 13); /* UDP length */
	assert_int_equal(ref_sum(out, 20, NULL, 0), 0xffff);
	assert_true(l4_verifies(out));
	assert_int_equal(dpi_parse_ip4(out, n, &pk), 0);
	assert_int_equal(pk.payload_len, 5);
	assert_memory_equal(pk.payload, "abcde", 5);
	assert_int_equal(dpi_build_udp(&h, NULL, 65535 - 27, out, 70000), 0);
}

/* Offload leaves the pseudo-header sum in the field: recognised, fixed. */
static void
test_csum_state_and_fix(void **state)
{
	struct dpi_hdr h = some_hdr();
	uint8_t out[200];
	size_t n;
	struct dpi_pkt pk;
	uint8_t ph[12];

	(void)state;
	h.flags = DPI_TCP_PSH | DPI_TCP_ACK;
	n = dpi_build_tcp(&h, (const uint8_t *)"hello, world", 12, out,
			  sizeof(out));
	assert_int_equal(dpi_parse_ip4(out, n, &pk), 0);
	memcpy(ph, out + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	put16(ph + 10, (uint16_t)(n - 20));
	put16(out + 36, ref_sum(ph, 12, NULL, 0));
	assert_int_equal(dpi_tcp_csum_state(out, &pk), 0);
	put16(out + 36, 0x1234);
	assert_int_equal(dpi_tcp_csum_state(out, &pk), -1);
	out[10] ^= 0xff; /* break the IP checksum too */
	dpi_fix_checksums(out, &pk);
	assert_int_equal(dpi_tcp_csum_state(out, &pk), 1);
	assert_int_equal(ref_sum(out, 20, NULL, 0), 0xffff);
	assert_true(l4_verifies(out));
}

static void
test_dec_ttl(void **state)
{
	struct dpi_hdr h = some_hdr();
	uint8_t out[100];
	size_t n = dpi_build_tcp(&h, NULL, 0, out, sizeof(out));
	struct dpi_pkt pk;

	(void)state;
	assert_int_equal(dpi_parse_ip4(out, n, &pk), 0);
	assert_int_equal(dpi_ip4_dec_ttl(out, &pk), 0);
	assert_int_equal(out[8], 63);
	assert_int_equal(ref_sum(out, 20, NULL, 0), 0xffff);
	out[8] = 1;
	assert_int_equal(dpi_ip4_dec_ttl(out, &pk), -1);
	assert_int_equal(out[8], 1);
}

static void
test_parse_ip4_malformed(void **state)
{
	struct dpi_hdr h = some_hdr();
	uint8_t good[120], b[120];
	size_t n = dpi_build_tcp(&h, (const uint8_t *)"data", 4, good,
				 sizeof(good));
	struct dpi_pkt pk;

	(void)state;
	/* Ethernet padding after the packet is fine */
	memcpy(b, good, n);
	memset(b + n, 0, 16);
	assert_int_equal(dpi_parse_ip4(b, n + 16, &pk), 0);
	assert_int_equal(pk.ip_len, n);
	assert_int_equal(pk.payload_len, 4);
	assert_memory_equal(pk.payload, "data", 4);
	/* IP options are skipped */
#define BAD(off, val)                                                          \
	do {                                                                   \
		memcpy(b, good, n);                                            \
		b[(off)] = (val);                                              \
		assert_int_equal(dpi_parse_ip4(b, n, &pk), -1);                \
	} while (0)
	BAD(0, 0x65);  /* IPv6 version nibble */
	BAD(0, 0x44);  /* header of 16 bytes */
	BAD(0, 0x4f);  /* header of 60 bytes, longer than the packet */
	BAD(3, 45);    /* total length past the bytes given */
	BAD(3, 19);    /* total length shorter than the header */
	BAD(6, 0x20);  /* more fragments */
	BAD(7, 0x01);  /* a fragment offset */
	BAD(9, 1);     /* ICMP */
	BAD(32, 0xf0); /* TCP data offset 60 */
	BAD(32, 0x40); /* TCP data offset 16 */
#undef BAD
	for (size_t len = 0; len < n; len++) {
		uint8_t *p = dup_exact(good, len);

		assert_int_equal(dpi_parse_ip4(p, len, &pk), -1);
		free(p);
	}
	/* UDP length longer than the IP payload */
	n = dpi_build_udp(&h, (const uint8_t *)"x", 1, good, sizeof(good));
	memcpy(b, good, n);
	b[25] = 10;
	assert_int_equal(dpi_parse_ip4(b, n, &pk), -1);
	b[25] = 7;
	assert_int_equal(dpi_parse_ip4(b, n, &pk), -1);
}

/* A 3000-byte GSO aggregate cut at 1400, as the censor forwards it. */
static void
test_tcp_segment(void **state)
{
	struct dpi_hdr h = some_hdr();
	static uint8_t big[3100], seg[1600], joined[3000];
	uint8_t payload[3000];
	struct dpi_pkt pk, sp;
	size_t n, got = 0, i = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(payload); k++)
		payload[k] = (uint8_t)(k * 7);
	h.flags = DPI_TCP_ACK | DPI_TCP_PSH | DPI_TCP_FIN | DPI_TCP_CWR;
	n = dpi_build_tcp(&h, payload, sizeof(payload), big, sizeof(big));
	assert_int_equal(dpi_parse_ip4(big, n, &pk), 0);
	for (size_t off = 0; off < pk.payload_len; off += 1400, i++) {
		size_t m =
			dpi_tcp_segment(big, &pk, off, 1400, seg, sizeof(seg));

		assert_int_not_equal(m, 0);
		assert_true(m <= 1440);
		assert_int_equal(dpi_parse_ip4(seg, m, &sp), 0);
		assert_int_equal(sp.seq, (uint32_t)(h.seq + off));
		assert_int_equal(sp.ip_id, (uint16_t)(h.ip_id + i));
		assert_int_equal(sp.ack, h.ack);
		assert_int_equal(
			sp.tcp_flags,
			i == 0	 ? (DPI_TCP_ACK | DPI_TCP_CWR)
			: i == 2 ? (DPI_TCP_ACK | DPI_TCP_PSH | DPI_TCP_FIN)
				 : DPI_TCP_ACK);
		assert_int_equal(ref_sum(seg, 20, NULL, 0), 0xffff);
		assert_true(l4_verifies(seg));
		memcpy(joined + got, sp.payload, sp.payload_len);
		got += sp.payload_len;
	}
	assert_int_equal(i, 3);
	assert_int_equal(got, sizeof(payload));
	assert_memory_equal(joined, payload, sizeof(payload));
	assert_int_equal(
		dpi_tcp_segment(big, &pk, 3000, 1400, seg, sizeof(seg)), 0);
	assert_int_equal(dpi_tcp_segment(big, &pk, 0, 0, seg, sizeof(seg)), 0);
	assert_int_equal(dpi_tcp_segment(big, &pk, 0, 1400, seg, 1439), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sni_real_hello),
		cmocka_unit_test(test_sni_every_prefix),
		cmocka_unit_test(test_sni_hello_over_two_records),
		cmocka_unit_test(test_sni_malformed),
		cmocka_unit_test(test_sni_second_entry),
		cmocka_unit_test(test_http_request),
		cmocka_unit_test(test_http_query),
		cmocka_unit_test(test_http_hosts),
		cmocka_unit_test(test_http_not_requests),
		cmocka_unit_test(test_http_every_prefix),
		cmocka_unit_test(test_dns_query_parse),
		cmocka_unit_test(test_dns_query_malformed),
		cmocka_unit_test(test_dns_forged_a),
		cmocka_unit_test(test_dns_forged_aaaa),
		cmocka_unit_test(test_dns_forged_nxdomain_and_empty),
		cmocka_unit_test(test_name_matches),
		cmocka_unit_test(test_csum_known_header),
		cmocka_unit_test(test_build_tcp_rst),
		cmocka_unit_test(test_build_udp),
		cmocka_unit_test(test_csum_state_and_fix),
		cmocka_unit_test(test_dec_ttl),
		cmocka_unit_test(test_parse_ip4_malformed),
		cmocka_unit_test(test_tcp_segment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
