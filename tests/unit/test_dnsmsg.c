/*
 * test_dnsmsg.c - ww_dns_parse_reply() on replies built byte by byte here,
 * valid ones and the malformed ones a censor's injector or a fuzzer sends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dnsmsg.h"
#include "model.h"
#include "util.h"

/* --- a small builder of wire-format messages ---------------------------- */

struct wire {
	unsigned char b[8192];
	size_t n;
};

static void
put8(struct wire *w, unsigned v)
{
	assert_true(w->n < sizeof(w->b));
	w->b[w->n++] = (unsigned char)v;
}

static void
put16(struct wire *w, unsigned v)
{
	put8(w, (v >> 8) & 0xff);
	put8(w, v & 0xff);
}

static void
put32(struct wire *w, uint32_t v)
{
	put16(w, v >> 16);
	put16(w, v & 0xffff);
}

static void
put_bytes(struct wire *w, const void *p, size_t n)
{
	assert_true(w->n + n <= sizeof(w->b));
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

/* Uncompressed name from dotted text; "" or "." is the root. */
static void
put_name(struct wire *w, const char *name)
{
	while (*name != '\0' && strcmp(name, ".") != 0) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		put8(w, (unsigned)l);
		put_bytes(w, name, l);
		name += l + (dot ? 1 : 0);
	}
	put8(w, 0);
}

static void
put_ptr(struct wire *w, size_t off)
{
	put16(w, 0xc000 | (unsigned)off);
}

#define F_QR 0x8000
#define F_TC 0x0200
#define F_RD 0x0100
#define F_RA 0x0080

static void
put_header(struct wire *w, unsigned id, unsigned flags, unsigned qd,
	   unsigned an)
{
	w->n = 0;
	put16(w, id);
	put16(w, flags);
	put16(w, qd);
	put16(w, an);
	put16(w, 0);
	put16(w, 0);
}

static void
put_question(struct wire *w, const char *name, unsigned type)
{
	put_name(w, name);
	put16(w, type);
	put16(w, 1);
}

/* TYPE, CLASS IN, TTL, RDLENGTH after an owner name the caller wrote. */
static void
put_rr_fixed(struct wire *w, unsigned type, uint32_t ttl, unsigned rdlen)
{
	put16(w, type);
	put16(w, 1);
	put32(w, ttl);
	put16(w, rdlen);
}

static void
put_a(struct wire *w, uint32_t ttl, unsigned a, unsigned b, unsigned c,
      unsigned d)
{
	put_ptr(w, 12);
	put_rr_fixed(w, 1, ttl, 4);
	put8(w, a);
	put8(w, b);
	put8(w, c);
	put8(w, d);
}

/* --- helpers -------------------------------------------------------------- */

struct parsed {
	struct ww_dns_reply r;
	struct ww_query q;
	char err[128];
	int rc;
};

/* Parse from an exact-size heap copy, so ASan sees any over-read. */
static void
parse(const unsigned char *b, size_t n, struct parsed *p)
{
	unsigned char *copy = malloc(n ? n : 1);

	assert_non_null(copy);
	memcpy(copy, b, n);
	memset(p, 0, sizeof(*p));
	p->rc = ww_dns_parse_reply(copy, n, &p->r, &p->q, p->err,
				   sizeof(p->err));
	free(copy);
}

static void
parse_wire(const struct wire *w, struct parsed *p)
{
	parse(w->b, w->n, p);
}

static void
assert_answer(const struct parsed *p, size_t i, enum ww_rr_type type,
	      const char *value, uint32_t ttl)
{
	assert_true(i < p->q.n_answers);
	assert_int_equal(p->q.answers[i].type, type);
	assert_string_equal(p->q.answers[i].value, value);
	assert_int_equal(p->q.answers[i].ttl, ttl);
}

static void
assert_error(const struct parsed *p, const char *substring)
{
	assert_int_equal(p->rc, -1);
	if (strstr(p->err, substring) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", p->err, substring);
}

/*
 * www.example.com A: CNAME to cdn.example.net, A, AAAA; names compressed
 * the way servers do.
 */
static void
build_full(struct wire *w)
{
	static const unsigned char v6[16] = {0x26, 0x06, 0x28, 0x00, 0x02, 0x20,
					     0x00, 0x01, 0x02, 0x48, 0x18, 0x93,
					     0x25, 0xc8, 0x19, 0x46};
	size_t cname_target;

	put_header(w, 0xbeef, F_QR | F_RD | F_RA, 1, 3);
	put_question(w, "www.example.com", 1);
	put_ptr(w, 12);
	put_rr_fixed(w, 5, 300, 14);
	cname_target = w->n;
	put8(w, 3);
	put_bytes(w, "cdn", 3);
	put8(w, 7);
	put_bytes(w, "example", 7);
	put_ptr(w, 12 + 4 + 8); /* "com" of the question */
	/* owner cdn.example.com, by pointer into the CNAME's RDATA */
	put_ptr(w, cname_target);
	put_rr_fixed(w, 1, 60, 4);
	put_bytes(w, "\x5d\xb8\xd8\x22", 4);
	put_ptr(w, cname_target);
	put_rr_fixed(w, 28, 120, 16);
	put_bytes(w, v6, 16);
}

/* --- tests ---------------------------------------------------------------- */

static void
test_full_reply(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	build_full(&w);
	parse_wire(&w, &p);
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.err, "");
	assert_int_equal(p.r.id, 0xbeef);
	assert_int_equal(p.r.qr, 1);
	assert_int_equal(p.r.truncated, 0);
	assert_int_equal(p.r.rcode, 0);
	assert_int_equal(p.r.ancount, 3);
	assert_string_equal(p.r.qname, "www.example.com");
	assert_int_equal(p.r.qtype, 1);
	assert_int_equal(p.q.n_answers, 3);
	assert_answer(&p, 0, WW_RR_CNAME, "cdn.example.com", 300);
	assert_answer(&p, 1, WW_RR_A, "93.184.216.34", 60);
	assert_answer(&p, 2, WW_RR_AAAA, "2606:2800:220:1:248:1893:25c8:1946",
		      120);
	ww_query_clear(&p.q);
}

static void
test_appends_to_existing_answers(void **state)
{
	struct wire w;
	struct ww_query q = {0};
	struct ww_dns_reply r;
	struct ww_answer *a;

	(void)state;
	a = ww_add_answer(&q);
	a->type = WW_RR_A;
	a->value = xstrdup("192.0.2.1");
	build_full(&w);
	assert_int_equal(ww_dns_parse_reply(w.b, w.n, &r, &q, NULL, 0), 0);
	assert_int_equal(q.n_answers, 4);
	assert_string_equal(q.answers[0].value, "192.0.2.1");
	assert_string_equal(q.answers[3].value,
			    "2606:2800:220:1:248:1893:25c8:1946");
	ww_query_clear(&q);
}

static void
test_null_query(void **state)
{
	struct wire w;
	struct ww_dns_reply r;
	char err[64];

	(void)state;
	build_full(&w);
	assert_int_equal(
		ww_dns_parse_reply(w.b, w.n, &r, NULL, err, sizeof(err)), 0);
	assert_string_equal(r.qname, "www.example.com");
}

static void
test_nxdomain(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	put_header(&w, 1, F_QR | F_RD | F_RA | 3, 1, 0);
	put_question(&w, "no-such-name.example", 28);
	/* SOA in the authority section, which is not looked at */
	put_ptr(&w, 12 + 13);
	put_rr_fixed(&w, 6, 900, 3);
	put_bytes(&w, "xyz", 3);
	w.b[9] = 1; /* NSCOUNT */
	parse_wire(&w, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.r.rcode, 3);
	assert_int_equal(p.r.ancount, 0);
	assert_string_equal(p.r.qname, "no-such-name.example");
	assert_int_equal(p.r.qtype, 28);
	assert_int_equal(p.q.n_answers, 0);
	assert_null(p.q.answers);
}

static void
test_refused_without_question(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	put_header(&w, 0x1234, F_QR | 5, 0, 0);
	parse_wire(&w, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.r.id, 0x1234);
	assert_int_equal(p.r.rcode, 5);
	assert_int_equal(p.r.qr, 1);
	assert_string_equal(p.r.qname, "");
	assert_int_equal(p.r.qtype, 0);
	assert_int_equal(p.q.n_answers, 0);
}

static void
test_query_not_reply(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	put_header(&w, 7, F_RD, 1, 0);
	put_question(&w, "example.org", 1);
	parse_wire(&w, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.r.qr, 0);
}

static void
test_compression_chain(void **state)
{
	struct wire w;
	struct parsed p;
	size_t b_example, chain;

	(void)state;
	put_header(&w, 2, F_QR, 2, 2);
	put_question(&w, "example.com", 1);
	/* second question b.example.com -> "b" + pointer to question 1 */
	b_example = w.n;
	put8(&w, 1);
	put8(&w, 'b');
	put_ptr(&w, 12);
	put16(&w, 1);
	put16(&w, 1);
	/* answer owner a.<ptr to b.<ptr to example.com>> */
	chain = w.n;
	put8(&w, 1);
	put8(&w, 'a');
	put_ptr(&w, b_example);
	put_rr_fixed(&w, 5, 10, 2);
	put_ptr(&w, chain); /* CNAME target: pointer to the owner name */
	/* owner: pointer to a pointer to a pointer */
	put_ptr(&w, chain + 2);
	put_rr_fixed(&w, 1, 20, 4);
	put_bytes(&w, "\x0a\x00\x00\x01", 4);
	parse_wire(&w, &p);
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.r.qname, "example.com");
	assert_int_equal(p.q.n_answers, 2);
	assert_answer(&p, 0, WW_RR_CNAME, "a.b.example.com", 10);
	assert_answer(&p, 1, WW_RR_A, "10.0.0.1", 20);
	ww_query_clear(&p.q);
}

static void
test_pointer_to_itself(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	put_header(&w, 3, F_QR, 0, 1);
	put_ptr(&w, 12);
	put_rr_fixed(&w, 1, 1, 4);
	put_bytes(&w, "\1\2\3\4", 4);
	parse_wire(&w, &p);
	assert_error(&p, "forward compression pointer");
	assert_int_equal(p.q.n_answers, 0);
}

static void
test_pointer_loop(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	/* "x" then a pointer back to the "x": x.x.x.x... for ever */
	put_header(&w, 3, F_QR, 1, 0);
	put8(&w, 1);
	put8(&w, 'x');
	put_ptr(&w, 12);
	put16(&w, 1);
	put16(&w, 1);
	parse_wire(&w, &p);
	assert_error(&p, "compression loop");
}

static void
test_two_pointer_loop(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	/* At 12: "a" + pointer to 17; at 17: "b" + pointer to 12. The
	 * first pointer is forward; the second would close the loop. */
	put_header(&w, 3, F_QR, 1, 0);
	put8(&w, 1);
	put8(&w, 'a');
	put_ptr(&w, 17);
	put8(&w, 0);
	put8(&w, 1);
	put8(&w, 'b');
	put_ptr(&w, 12);
	put16(&w, 1);
	put16(&w, 1);
	parse_wire(&w, &p);
	assert_error(&p, "forward compression pointer");
}

static void
test_forward_pointer(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	put_header(&w, 4, F_QR, 1, 0);
	put_ptr(&w, 14);
	put_name(&w, "example.com");
	put16(&w, 1);
	put16(&w, 1);
	parse_wire(&w, &p);
	assert_error(&p, "forward compression pointer");
}

static void
test_pointer_past_end(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	put_header(&w, 4, F_QR, 1, 0);
	put_ptr(&w, 0x3fff);
	put16(&w, 1);
	put16(&w, 1);
	parse_wire(&w, &p);
	assert_error(&p, "forward compression pointer");
}

static void
test_too_many_jumps(void **state)
{
	struct wire w;
	struct parsed p;
	int hops;

	(void)state;
	for (hops = 64; hops <= 65; hops++) {
		size_t prev;

		/* question "a"; a TXT record whose RDATA is a chain of
		 * pointers, each pointing at the one before, the first at
		 * the question's name; then an A record owned by the end of
		 * the chain: hops jumps in all */
		put_header(&w, 5, F_QR, 1, 2);
		put_question(&w, "a", 1);
		put_ptr(&w, 12);
		put_rr_fixed(&w, 16, 1, 2 * (unsigned)(hops - 1));
		prev = 12;
		for (int k = 0; k < hops - 1; k++) {
			size_t here = w.n;

			put_ptr(&w, prev);
			prev = here;
		}
		put_ptr(&w, prev);
		put_rr_fixed(&w, 1, 1, 4);
		put_bytes(&w, "\1\1\1\1", 4);
		parse_wire(&w, &p);
		if (hops == 64) {
			assert_int_equal(p.rc, 0);
			assert_int_equal(p.q.n_answers, 1);
			assert_answer(&p, 0, WW_RR_A, "1.1.1.1", 1);
			ww_query_clear(&p.q);
		} else {
			assert_error(&p, "more than 64 compression pointers");
			assert_int_equal(p.q.n_answers, 0);
		}
	}
}

static void
test_name_length_limit(void **state)
{
	struct wire w;
	struct parsed p;
	char label[64];
	char expect[256];

	(void)state;
	memset(label, 'a', 63);
	/* 4 labels of 63 + one of 1: 4*64 + 2 + 1 = 259 octets */
	put_header(&w, 6, F_QR, 1, 0);
	for (int k = 0; k < 4; k++) {
		put8(&w, 63);
		put_bytes(&w, label, 63);
	}
	put8(&w, 1);
	put8(&w, 'b');
	put8(&w, 0);
	put16(&w, 1);
	put16(&w, 1);
	parse_wire(&w, &p);
	assert_error(&p, "name longer than 255 bytes");

	/* 3 labels of 63 + one of 61: 3*64 + 62 + 1 = 255 octets, fine */
	put_header(&w, 6, F_QR, 1, 0);
	for (int k = 0; k < 3; k++) {
		put8(&w, 63);
		put_bytes(&w, label, 63);
	}
	put8(&w, 61);
	put_bytes(&w, label, 61);
	put8(&w, 0);
	put16(&w, 1);
	put16(&w, 1);
	parse_wire(&w, &p);
	assert_int_equal(p.rc, 0);
	memset(expect, 'a', 253);
	expect[63] = expect[127] = expect[191] = '.';
	expect[253] = '\0';
	assert_string_equal(p.r.qname, expect);
	assert_int_equal(strlen(p.r.qname), 253);
}

static void
test_long_name_through_pointers(void **state)
{
	struct wire w;
	struct parsed p;
	char label[63];
	size_t prev = 12;

	(void)state;
	/* Each part is short; the name they make together is not. The parts
	 * sit in the RDATA of a TXT record, which is skipped. */
	memset(label, 'z', sizeof(label));
	put_header(&w, 6, F_QR, 1, 2);
	put_question(&w, "example.com", 1);
	put_ptr(&w, 12);
	put_rr_fixed(&w, 16, 1, 4 * 66);
	for (int k = 0; k < 4; k++) {
		size_t here = w.n;

		put8(&w, 63);
		put_bytes(&w, label, 63);
		put_ptr(&w, prev);
		prev = here;
	}
	/* answer owner = the last of those: 4*64 + 13 octets */
	put_ptr(&w, prev);
	put_rr_fixed(&w, 1, 1, 4);
	put_bytes(&w, "\1\1\1\1", 4);
	parse_wire(&w, &p);
	assert_error(&p, "name longer than 255 bytes");
}

static void
test_label_types(void **state)
{
	static const unsigned char types[] = {0x40, 0x41, 0x80, 0xbf};
	struct wire w;
	struct parsed p;

	(void)state;
	for (size_t k = 0; k < sizeof(types); k++) {
		put_header(&w, 7, F_QR, 1, 0);
		put8(&w, types[k]);
		put8(&w, 0);
		put8(&w, 0);
		put16(&w, 1);
		put16(&w, 1);
		parse_wire(&w, &p);
		assert_error(&p, "unsupported label type");
	}
}

static void
test_rdlength_past_end(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	put_header(&w, 8, F_QR, 1, 2);
	put_question(&w, "example.com", 1);
	put_a(&w, 5, 192, 0, 2, 1);
	put_ptr(&w, 12);
	put_rr_fixed(&w, 1, 5, 12);
	put_bytes(&w, "\1\2\3\4", 4);
	parse_wire(&w, &p);
	assert_error(&p, "RDLENGTH 12 past end of message");
	/* the answer before the bad one is kept */
	assert_int_equal(p.q.n_answers, 1);
	assert_answer(&p, 0, WW_RR_A, "192.0.2.1", 5);
	ww_query_clear(&p.q);

	/* RDLENGTH 0xffff */
	put_header(&w, 8, F_QR, 1, 1);
	put_question(&w, "example.com", 1);
	put_ptr(&w, 12);
	put_rr_fixed(&w, 16, 5, 0xffff);
	parse_wire(&w, &p);
	assert_error(&p, "RDLENGTH 65535 past end of message");
}

static void
test_bad_address_lengths(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	put_header(&w, 9, F_QR, 1, 1);
	put_question(&w, "example.com", 1);
	put_ptr(&w, 12);
	put_rr_fixed(&w, 1, 5, 5);
	put_bytes(&w, "\1\2\3\4\5", 5);
	parse_wire(&w, &p);
	assert_error(&p, "A record with RDLENGTH 5");
	assert_int_equal(p.q.n_answers, 0);

	put_header(&w, 9, F_QR, 1, 1);
	put_question(&w, "example.com", 28);
	put_ptr(&w, 12);
	put_rr_fixed(&w, 28, 5, 4);
	put_bytes(&w, "\1\2\3\4", 4);
	parse_wire(&w, &p);
	assert_error(&p, "AAAA record with RDLENGTH 4");
}

static void
test_cname_rdlength_mismatch(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	put_header(&w, 9, F_QR, 1, 1);
	put_question(&w, "example.com", 1);
	put_ptr(&w, 12);
	put_rr_fixed(&w, 5, 5, 4); /* says 4, the name takes 2 */
	put_ptr(&w, 12);
	put16(&w, 0);
	parse_wire(&w, &p);
	assert_error(&p, "CNAME record with RDLENGTH 4");

	put_header(&w, 9, F_QR, 1, 1);
	put_question(&w, "example.com", 1);
	put_ptr(&w, 12);
	put_rr_fixed(&w, 5, 5, 1); /* says 1, the name takes 2 */
	put_ptr(&w, 12);
	parse_wire(&w, &p);
	assert_error(&p, "CNAME record with RDLENGTH 1");
}

static void
test_skips_other_types_and_classes(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	put_header(&w, 10, F_QR, 2, 4);
	put_question(&w, "example.com", 1);
	put_question(&w, "other.example", 28);
	/* TXT */
	put_ptr(&w, 12);
	put_rr_fixed(&w, 16, 5, 6);
	put_bytes(&w, "\5hello", 6);
	/* A in class CH: not an IPv4 address */
	put_ptr(&w, 12);
	put16(&w, 1);
	put16(&w, 3);
	put32(&w, 5);
	put16(&w, 2);
	put16(&w, 0x1234);
	/* RRSIG-ish type with a 0-length RDATA */
	put_ptr(&w, 12);
	put_rr_fixed(&w, 46, 5, 0);
	put_a(&w, 7, 198, 51, 100, 7);
	parse_wire(&w, &p);
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.r.qname, "example.com");
	assert_int_equal(p.r.qtype, 1);
	assert_int_equal(p.q.n_answers, 1);
	assert_answer(&p, 0, WW_RR_A, "198.51.100.7", 7);
	ww_query_clear(&p.q);
}

static void
test_truncated_everywhere(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	build_full(&w);
	for (size_t n = 0; n < w.n; n++) {
		parse(w.b, n, &p);
		/* Without TC every cut is malformed: the counts promise
		 * more than the message holds. */
		assert_int_equal(p.rc, -1);
		assert_true(p.err[0] != '\0');
		if (n < 12)
			assert_string_equal(p.err, "truncated header");
		assert_true(p.q.n_answers <= 3);
		for (size_t i = 0; i < p.q.n_answers; i++)
			assert_non_null(p.q.answers[i].value);
		ww_query_clear(&p.q);
	}
	/* and with TC set, a cut between records is accepted */
	w.b[2] |= F_TC >> 8;
	for (size_t n = 12; n < w.n; n++) {
		parse(w.b, n, &p);
		assert_int_equal(p.r.truncated, 1);
		assert_true(p.rc == 0 || p.rc == -1);
		ww_query_clear(&p.q);
	}
}

static void
test_tc_at_record_boundary(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	put_header(&w, 11, F_QR | F_TC, 1, 5);
	put_question(&w, "example.com", 1);
	put_a(&w, 9, 192, 0, 2, 9);
	parse_wire(&w, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.r.truncated, 1);
	assert_int_equal(p.r.ancount, 5);
	assert_int_equal(p.q.n_answers, 1);
	ww_query_clear(&p.q);

	w.b[2] &= (unsigned char)~(F_TC >> 8);
	parse_wire(&w, &p);
	assert_error(&p, "name at offset");
	assert_int_equal(p.q.n_answers, 1);
	ww_query_clear(&p.q);
}

static void
test_many_answers_capped(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	put_header(&w, 12, F_QR, 1, 100);
	put_question(&w, "many.example", 1);
	for (unsigned k = 0; k < 100; k++)
		put_a(&w, k, 10, 0, k / 256, k % 256);
	parse_wire(&w, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.r.ancount, 100);
	assert_int_equal(p.q.n_answers, WW_DNS_MAX_ANSWERS);
	assert_answer(&p, 63, WW_RR_A, "10.0.0.63", 63);
	ww_query_clear(&p.q);
}

static void
test_ancount_larger_than_message(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	put_header(&w, 13, F_QR, 1, 0xffff);
	put_question(&w, "example.com", 1);
	put_a(&w, 1, 192, 0, 2, 1);
	parse_wire(&w, &p);
	assert_error(&p, "name at offset");
	assert_int_equal(p.q.n_answers, 1);
	ww_query_clear(&p.q);

	put_header(&w, 13, F_QR, 0xffff, 0);
	put_question(&w, "example.com", 1);
	parse_wire(&w, &p);
	assert_error(&p, "name at offset");
}

static void
test_lower_case(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	put_header(&w, 14, F_QR, 1, 1);
	put_question(&w, "WWW.ExAmPlE.COM", 1);
	put_ptr(&w, 12);
	put_rr_fixed(&w, 5, 1, 17);
	put_name(&w, "CDN.Example.NET");
	parse_wire(&w, &p);
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.r.qname, "www.example.com");
	assert_answer(&p, 0, WW_RR_CNAME, "cdn.example.net", 1);
	ww_query_clear(&p.q);
}

static void
test_root_name(void **state)
{
	struct wire w;
	struct parsed p;

	(void)state;
	put_header(&w, 15, F_QR, 1, 2);
	put_question(&w, ".", 2);
	put8(&w, 0); /* owner: the root */
	put_rr_fixed(&w, 5, 3, 1);
	put8(&w, 0);	 /* CNAME to the root */
	put_ptr(&w, 12); /* owner: pointer to the root */
	put_rr_fixed(&w, 5, 4, 2);
	put_ptr(&w, 12);
	parse_wire(&w, &p);
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.r.qname, ".");
	assert_int_equal(p.r.qtype, 2);
	assert_int_equal(p.q.n_answers, 2);
	assert_answer(&p, 0, WW_RR_CNAME, ".", 3);
	assert_answer(&p, 1, WW_RR_CNAME, ".", 4);
	ww_query_clear(&p.q);
}

static void
test_odd_bytes_escaped(void **state)
{
	static const unsigned char label[] = {'a',  '.',  'b', '\\',
					      0x00, 0xff, ' ', 'Z'};
	struct wire w;
	struct parsed p;

	(void)state;
	put_header(&w, 16, F_QR, 1, 1);
	put8(&w, sizeof(label));
	put_bytes(&w, label, sizeof(label));
	put_name(&w, "example");
	put16(&w, 1);
	put16(&w, 1);
	put_ptr(&w, 12);
	put_rr_fixed(&w, 5, 1, 2);
	put_ptr(&w, 12);
	parse_wire(&w, &p);
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.r.qname, "a\\.b\\\\\\000\\255\\032z.example");
	assert_answer(&p, 0, WW_RR_CNAME, "a\\.b\\\\\\000\\255\\032z.example",
		      1);
	ww_query_clear(&p.q);
}

static void
test_qname_cut_at_escape(void **state)
{
	unsigned char label[63];
	struct wire w;
	struct parsed p;

	(void)state;
	/* Labels of bytes 0x01 escape to 4 characters a byte; the qname
	 * keeps the 63 whole escapes of the first label, and no dot after
	 * them: 252 bytes. */
	memset(label, 1, sizeof(label));
	put_header(&w, 17, F_QR, 1, 1);
	for (int k = 0; k < 3; k++) {
		put8(&w, 63);
		put_bytes(&w, label, 63);
	}
	put8(&w, 61);
	put_bytes(&w, label, 61);
	put8(&w, 0);
	put16(&w, 1);
	put16(&w, 1);
	put_ptr(&w, 12);
	put_rr_fixed(&w, 5, 1, 2);
	put_ptr(&w, 12);
	parse_wire(&w, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(strlen(p.r.qname), 252);
	assert_memory_equal(p.r.qname, "\\001\\001", 8);
	/* the answer value is not cut */
	assert_int_equal(strlen(p.q.answers[0].value), 4 * 250 + 3);
	ww_query_clear(&p.q);
}

static void
test_null_and_empty(void **state)
{
	struct ww_dns_reply r;
	struct ww_query q = {0};
	char err[64];

	(void)state;
	assert_int_equal(ww_dns_parse_reply(NULL, 0, &r, &q, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "truncated header");
	/* a tiny err buffer is cut, not overrun */
	assert_int_equal(ww_dns_parse_reply((const unsigned char *)"", 0, &r,
					    &q, err, 4),
			 -1);
	assert_string_equal(err, "tru");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_reply),
		cmocka_unit_test(test_appends_to_existing_answers),
		cmocka_unit_test(test_null_query),
		cmocka_unit_test(test_nxdomain),
		cmocka_unit_test(test_refused_without_question),
		cmocka_unit_test(test_query_not_reply),
		cmocka_unit_test(test_compression_chain),
		cmocka_unit_test(test_pointer_to_itself),
		cmocka_unit_test(test_pointer_loop),
		cmocka_unit_test(test_two_pointer_loop),
		cmocka_unit_test(test_forward_pointer),
		cmocka_unit_test(test_pointer_past_end),
		cmocka_unit_test(test_too_many_jumps),
		cmocka_unit_test(test_name_length_limit),
		cmocka_unit_test(test_long_name_through_pointers),
		cmocka_unit_test(test_label_types),
		cmocka_unit_test(test_rdlength_past_end),
		cmocka_unit_test(test_bad_address_lengths),
		cmocka_unit_test(test_cname_rdlength_mismatch),
		cmocka_unit_test(test_skips_other_types_and_classes),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_tc_at_record_boundary),
		cmocka_unit_test(test_many_answers_capped),
		cmocka_unit_test(test_ancount_larger_than_message),
		cmocka_unit_test(test_lower_case),
		cmocka_unit_test(test_root_name),
		cmocka_unit_test(test_odd_bytes_escaped),
		cmocka_unit_test(test_qname_cut_at_escape),
		cmocka_unit_test(test_null_and_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
