/*
 * test_pcapng.c - the --pcap writer: the local-address rewrite (checksums
 * verified by recomputing them from scratch over whole frames, a frame
 * cut by the snaplen rewritten like the whole one, the payload scrub), and
 * the file (its blocks read back; tcpdump's checksum verdicts too when
 * tcpdump happens to be installed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "packet.h"
#include "pcapng.h"
#include "pktbuild.h"

static uint8_t place4[4], place6[16];

/* memmem is a GNU extension; -D_DEFAULT_SOURCE does not declare it. */
static const uint8_t *
find(const uint8_t *hay, size_t n, const void *needle, size_t k)
{
	for (size_t i = 0; k <= n && i <= n - k; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return hay + i;
	return NULL;
}

static int
setup(void **state)
{
	(void)state;
	inet_pton(AF_INET, "192.0.2.1", place4);
	inet_pton(AF_INET6, "2001:db8::1", place6);
	return 0;
}

static void
rewrite_ok(int linktype, struct frame *f, bool local_is_src)
{
	char err[128];

	if (ww_pcapng_rewrite(linktype, f->b, f->n, local_is_src, NULL, NULL,
			      err, sizeof(err)) != 0)
		fail_msg("rewrite failed: %s", err);
}

/* Both checksums right, computed from scratch over the whole frame. */
static void
assert_checksums(const struct frame *f, unsigned proto)
{
	if (f->version == 4)
		assert_int_equal(fb_ip4_check(f), 0);
	if (f->l4_off != 0)
		assert_int_equal(fb_l4_check(f, proto), 0);
}

static void
test_ip4_tcp_out(void **state)
{
	static const uint8_t opts[] = {2, 4, 5, 0xb4};
	struct frame f = {0};
	struct ww_pkt p;
	char err[64];

	(void)state;
	fb_eth(&f, 1, 0x0800);
	fb_ip4(&f, 6, fb_a4, fb_b4, 64, 0x4242, 0x4000);
	fb_tcp(&f, 40000, 443, 123456, 0, WW_TCP_SYN, 64240, opts,
	       sizeof(opts));
	fb_finish(&f, 6);
	assert_checksums(&f, 6);
	rewrite_ok(WW_DLT_EN10MB, &f, true);
	assert_int_equal(
		ww_pkt_parse(WW_DLT_EN10MB, f.b, f.n, &p, err, sizeof(err)), 0);
	assert_memory_equal(p.src, place4, 4);
	assert_memory_equal(p.dst, fb_b4, 4);
	assert_int_equal(p.ip_id, 0x4242);
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.mss, 1460);
	assert_checksums(&f, 6);
	for (int i = 0; i < 12; i++)
		assert_int_equal(f.b[i], 0);	 /* MACs */
	assert_int_equal(fb_get16(&f, 14), 100); /* the VLAN tag stays */
}

static void
test_ip4_tcp_in_sll(void **state)
{
	struct frame f = {0};
	struct ww_pkt p;

	(void)state;
	fb_sll(&f, 0, 0x0800);
	fb_ip4(&f, 6, fb_b4, fb_a4, 51, 7, 0);
	fb_tcp(&f, 443, 40000, 99, 123457, WW_TCP_RST | WW_TCP_ACK, 0, NULL, 0);
	fb_finish(&f, 6);
	rewrite_ok(WW_DLT_LINUX_SLL, &f, false);
	assert_int_equal(ww_pkt_parse(WW_DLT_LINUX_SLL, f.b, f.n, &p, NULL, 0),
			 0);
	assert_memory_equal(p.src, fb_b4, 4);
	assert_memory_equal(p.dst, place4, 4);
	assert_int_equal(p.dir, WW_PKT_DIR_IN);
	assert_checksums(&f, 6);
	for (int i = 6; i < 14; i++)
		assert_int_equal(f.b[i], 0);  /* SLL address */
	assert_int_equal(fb_get16(&f, 4), 6); /* its length stays */
}

static void
test_ip6_udp_sll2(void **state)
{
	struct frame f = {0};
	struct ww_pkt p;

	(void)state;
	fb_sll2(&f, 4, 0x86dd);
	fb_ip6(&f, 17, fb_a6, fb_b6, 64);
	fb_udp(&f, 33000, 53);
	fb_put(&f, "\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00", 13);
	fb_finish(&f, 17);
	assert_checksums(&f, 17);
	rewrite_ok(WW_DLT_LINUX_SLL2, &f, true);
	assert_int_equal(ww_pkt_parse(WW_DLT_LINUX_SLL2, f.b, f.n, &p, NULL, 0),
			 0);
	assert_memory_equal(p.src, place6, 16);
	assert_memory_equal(p.dst, fb_b6, 16);
	assert_checksums(&f, 17);
	for (int i = 12; i < 20; i++)
		assert_int_equal(f.b[i], 0);
}

static void
test_udp_zero_checksum_stays(void **state)
{
	struct frame f = {0};

	(void)state;
	fb_ip4(&f, 17, fb_a4, fb_b4, 64, 1, 0);
	fb_udp(&f, 33000, 53);
	fb_put(&f, "abc", 3);
	fb_finish(&f, 17);
	fb_set16(&f, f.l4_off + 6, 0); /* sent without a checksum */
	rewrite_ok(WW_DLT_RAW, &f, true);
	assert_int_equal(fb_get16(&f, f.l4_off + 6), 0);
	assert_int_equal(fb_ip4_check(&f), 0);
	assert_memory_equal(f.b + 12, place4, 4);
}

/* A small deterministic generator (xorshift32): many frames, every size
 * parity, both families and directions, checked from scratch. */
static uint32_t rng = 2463534242u;

static uint32_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void
random_frame(struct frame *f, bool v6, unsigned proto, uint8_t *local,
	     uint8_t *remote)
{
	size_t n = next_rand() % 300;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < 16; i++) {
		local[i] = (uint8_t)next_rand();
		remote[i] = (uint8_t)next_rand();
	}
	if (v6)
		fb_ip6(f, proto, local, remote, 64);
	else
		fb_ip4(f, proto, local, remote, 64, next_rand() & 0xffff, 0);
	if (proto == 6)
		fb_tcp(f, next_rand() & 0xffff, 443, next_rand(), next_rand(),
		       WW_TCP_ACK, next_rand() & 0xffff, NULL, 0);
	else
		fb_udp(f, next_rand() & 0xffff, 53);
	for (size_t i = 0; i < n; i++)
		fb_put8(f, next_rand() & 0xff);
	fb_finish(f, proto);
}

static void
test_random_frames_checksums(void **state)
{
	int zero_udp_seen = 0;

	(void)state;
	for (int i = 0; i < 4000; i++) {
		bool v6 = i % 2 == 1, src = i % 4 < 2;
		unsigned proto = i % 8 < 4 ? 6 : 17;
		uint8_t local[16], remote[16];
		struct frame f;

		random_frame(&f, v6, proto, local, remote);
		/* The local side is the source or the destination. */
		if (!src) {
			size_t a = f.ip_off + (v6 ? 8 : 12), n = v6 ? 16 : 4;
			uint8_t t[16];

			memcpy(t, f.b + a, n);
			memcpy(f.b + a, f.b + a + n, n);
			memcpy(f.b + a + n, t, n);
		}
		rewrite_ok(WW_DLT_RAW, &f, src);
		assert_memory_equal(f.b + f.ip_off + (v6 ? 8 : 12) +
					    (src ? 0 : (v6 ? 16 : 4)),
				    v6 ? place6 : place4, v6 ? 16 : 4);
		assert_checksums(&f, proto);
		if (proto == 17) {
			uint16_t c = fb_get16(&f, f.l4_off + 6);

			assert_int_not_equal(c, 0);
			zero_udp_seen += c == 0xffff;
		}
	}
	(void)zero_udp_seen; /* rare; right either way */
}

static void
test_cut_by_snaplen(void **state)
{
	struct frame full = {0};
	uint8_t cut[80];

	(void)state;
	fb_eth(&full, 0, 0x0800);
	fb_ip4(&full, 6, fb_a4, fb_b4, 64, 3, 0x4000);
	fb_tcp(&full, 40000, 80, 1, 2, WW_TCP_PSH | WW_TCP_ACK, 500, NULL, 0);
	for (int i = 0; i < 900; i++)
		fb_put8(&full, 'a' + i % 26);
	fb_finish(&full, 6);
	memcpy(cut, full.b, sizeof(cut));
	rewrite_ok(WW_DLT_EN10MB, &full, true);
	assert_checksums(&full, 6);
	/* Only the first 80 bytes: the same bytes as the whole frame's. */
	assert_int_equal(ww_pcapng_rewrite(WW_DLT_EN10MB, cut, sizeof(cut),
					   true, NULL, NULL, NULL, 0),
			 0);
	assert_memory_equal(cut, full.b, sizeof(cut));
}

static void
test_ip4_options_address(void **state)
{
	struct frame f = {0};

	(void)state;
	fb_ip4(&f, 17, fb_a4, fb_b4, 64, 3, 0);
	f.b[0] = 0x47; /* IHL 7: record route with our address in it */
	fb_put8(&f, 7);
	fb_put8(&f, 7);
	fb_put8(&f, 8);
	fb_put(&f, fb_a4, 4);
	fb_put8(&f, 0);
	fb_udp(&f, 1, 2);
	fb_put(&f, "x", 1);
	fb_finish(&f, 17);
	rewrite_ok(WW_DLT_RAW, &f, true);
	assert_memory_equal(f.b + 23, place4, 4);
	assert_memory_equal(f.b + 12, place4, 4);
	assert_checksums(&f, 17);
	assert_null(find(f.b, f.n, fb_a4, 4));
}

/* The home address option (destination options) and a type 2 routing
 * header carry the local address: replaced; the chain still parses. */
static void
test_ip6_ext_address(void **state)
{
	struct frame f = {0};
	struct ww_pkt p;

	(void)state;
	fb_ip6(&f, 60, fb_b6, fb_a6, 64);
	fb_put8(&f, 43); /* destination options, 24 bytes */
	fb_put8(&f, 2);
	fb_put8(&f, 201); /* home address */
	fb_put8(&f, 16);
	fb_put(&f, fb_a6, 16);
	fb_put32(&f, 0x01020000); /* PadN */
	fb_put8(&f, 6);		  /* routing type 2, 24 bytes */
	fb_put8(&f, 2);
	fb_put8(&f, 2);
	fb_put8(&f, 1);
	fb_put32(&f, 0);
	fb_put(&f, fb_a6, 16);
	fb_tcp(&f, 443, 40000, 1, 2, WW_TCP_ACK, 3, NULL, 0);
	fb_finish(&f, 6);
	rewrite_ok(WW_DLT_RAW, &f, false);
	assert_null(find(f.b, f.n, fb_a6, 16));
	assert_memory_equal(f.b + 24, place6, 16);
	assert_memory_equal(f.b + 44, place6, 16);
	assert_memory_equal(f.b + 72, place6, 16);
	assert_int_equal(ww_pkt_parse(WW_DLT_RAW, f.b, f.n, &p, NULL, 0), 0);
	assert_int_equal(p.ip_hlen, 88);
	assert_int_equal(p.sport, 443);
	assert_checksums(&f, 6);
}

struct scrub_seen {
	int calls;
	uint8_t src[16];
	size_t len;
};

/* Masks the dotted form of the packet's real source address. */
static void
mask_source(void *arg, const struct ww_pkt *pkt, uint8_t *payload, size_t n)
{
	struct scrub_seen *seen = arg;
	char text[64];
	uint8_t *at;
	size_t tl;

	seen->calls++;
	memcpy(seen->src, pkt->src, 16);
	seen->len = n;
	ww_pkt_addr_str(pkt->family, pkt->src, text, sizeof(text));
	tl = strlen(text);
	while ((at = (uint8_t *)find(payload, n, text, tl)) != NULL)
		memset(at, 'x', tl);
}

static void
test_payload_scrub(void **state)
{
	static const char body[] = "your address is 10.1.2.3, again 10.1.2.3!";
	struct frame f = {0};
	struct scrub_seen seen = {0};

	(void)state;
	fb_ip4(&f, 6, fb_a4, fb_b4, 64, 3, 0);
	fb_tcp(&f, 40000, 80, 1, 2, WW_TCP_PSH | WW_TCP_ACK, 500, NULL, 0);
	fb_put(&f, body, sizeof(body) - 1); /* an odd length */
	fb_finish(&f, 6);
	assert_int_equal(ww_pcapng_rewrite(WW_DLT_RAW, f.b, f.n, true,
					   mask_source, &seen, NULL, 0),
			 0);
	assert_int_equal(seen.calls, 1);
	assert_memory_equal(seen.src, fb_a4, 4); /* the real one */
	assert_int_equal(seen.len, sizeof(body) - 1);
	assert_null(find(f.b, f.n, "10.1.2.3", 8));
	assert_non_null(find(f.b, f.n, "is xxxxxxxx, again xxxxxxxx!", 28));
	assert_checksums(&f, 6);

	/* UDP too, and the scrub is not called without payload. */
	memset(&f, 0, sizeof(f));
	fb_ip4(&f, 17, fb_b4, fb_a4, 64, 3, 0);
	fb_udp(&f, 53, 4000);
	fb_put(&f, "at 10.1.2.3", 11);
	fb_finish(&f, 17);
	seen.calls = 0;
	/* Here mask_source looks for the remote source's text, which is
	 * not there: only the address changes. */
	assert_int_equal(ww_pcapng_rewrite(WW_DLT_RAW, f.b, f.n, false,
					   mask_source, &seen, NULL, 0),
			 0);
	assert_int_equal(seen.calls, 1);
	assert_checksums(&f, 17);
	memset(&f, 0, sizeof(f));
	fb_ip4(&f, 6, fb_a4, fb_b4, 64, 3, 0);
	fb_tcp(&f, 1, 2, 3, 4, WW_TCP_SYN, 5, NULL, 0);
	fb_finish(&f, 6);
	seen.calls = 0;
	assert_int_equal(ww_pcapng_rewrite(WW_DLT_RAW, f.b, f.n, true,
					   mask_source, &seen, NULL, 0),
			 0);
	assert_int_equal(seen.calls, 0);
}

static void
test_later_fragment_and_refusal(void **state)
{
	struct frame f = {0}, copy;
	char err[128];

	(void)state;
	fb_ip4(&f, 6, fb_a4, fb_b4, 64, 3, 24);
	fb_put(&f, "0123456789abcdef", 16);
	fb_finish(&f, 6);
	copy = f;
	rewrite_ok(WW_DLT_RAW, &f, true);
	assert_memory_equal(f.b + 12, place4, 4);
	assert_int_equal(fb_ip4_check(&f), 0);
	assert_memory_equal(f.b + 20, copy.b + 20, 16); /* payload as is */

	/* A frame that does not parse is left alone. */
	f = copy;
	f.b[0] = 0x43;
	copy = f;
	assert_int_equal(ww_pcapng_rewrite(WW_DLT_RAW, f.b, f.n, true, NULL,
					   NULL, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "header length 3 under 5"));
	assert_memory_equal(f.b, copy.b, f.n);
}

/* --- the file ---------------------------------------------------------------
 */

struct tmpdir {
	char dir[64];
	char file[96];
};

static void
tmp_make(struct tmpdir *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/ww-pcapng-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->file, sizeof(t->file), "%s/out.pcapng", t->dir);
}

static void
tmp_remove(struct tmpdir *t)
{
	unlink(t->file);
	rmdir(t->dir);
}

static uint8_t *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = malloc(1 << 20);

	assert_non_null(f);
	assert_non_null(b);
	*n = fread(b, 1, 1 << 20, f);
	fclose(f);
	return b;
}

static uint32_t
u32at(const uint8_t *b, size_t at)
{
	uint32_t v;

	memcpy(&v, b + at, 4);
	return v;
}

static uint16_t
u16at(const uint8_t *b, size_t at)
{
	uint16_t v;

	memcpy(&v, b + at, 2);
	return v;
}

/* Two link types, frames longer than the snaplen, one refused. */
static void
write_sample(const char *path, unsigned snaplen, struct frame *a,
	     struct frame *b)
{
	struct timeval ts = {1700000000, 123456};
	struct ww_pcapng *w;
	char err[256];
	struct frame bad;

	memset(a, 0, sizeof(*a));
	fb_sll2(a, 4, 0x0800);
	fb_ip4(a, 6, fb_a4, fb_b4, 64, 3, 0x4000);
	fb_tcp(a, 40000, 80, 1, 2, WW_TCP_PSH | WW_TCP_ACK, 500, NULL, 0);
	for (int i = 0; i < 400; i++)
		fb_put8(a, 'a' + i % 26);
	fb_finish(a, 6);
	memset(b, 0, sizeof(*b));
	fb_eth(b, 0, 0x86dd);
	fb_ip6(b, 17, fb_b6, fb_a6, 57);
	fb_udp(b, 53, 33000);
	fb_put(b, "\x12\x34\x81\x80", 4);
	fb_finish(b, 17);
	bad = *b;
	bad.b[14] = 0x50;

	w = ww_pcapng_open(path, err, sizeof(err));
	if (w == NULL)
		fail_msg("open: %s", err);
	ww_pcapng_set_snaplen(w, snaplen);
	assert_int_equal(ww_pcapng_write(w, WW_DLT_LINUX_SLL2, &ts, a->b, a->n,
					 a->n, true),
			 0);
	assert_int_equal(ww_pcapng_write(w, WW_DLT_EN10MB, &ts, bad.b, bad.n,
					 bad.n, false),
			 1);
	assert_non_null(strstr(ww_pcapng_error(w), "IP version 5"));
	ts.tv_usec++;
	assert_int_equal(ww_pcapng_write(w, WW_DLT_EN10MB, &ts, b->b, b->n,
					 b->n + 10, false),
			 0);
	assert_string_equal(ww_pcapng_error(w), "");
	assert_int_equal(ww_pcapng_write(w, WW_DLT_LINUX_SLL2, &ts, a->b, 100,
					 a->n, true),
			 0);
	assert_int_equal(ww_pcapng_count(w), 3);
	assert_int_equal(ww_pcapng_close(w, err, sizeof(err)), 0);
}

static void
test_file_blocks(void **state)
{
	struct frame a, b, ra, rb;
	struct tmpdir t;
	struct stat st;
	uint8_t *f;
	size_t n, at, idb = 0, epb = 0;
	uint64_t us = 1700000000ull * 1000000 + 123456;

	(void)state;
	tmp_make(&t);
	write_sample(t.file, WW_PCAPNG_SNAPLEN, &a, &b);
	assert_int_equal(stat(t.file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	ra = a;
	rewrite_ok(WW_DLT_LINUX_SLL2, &ra, true);
	rb = b;
	rewrite_ok(WW_DLT_EN10MB, &rb, false);

	f = slurp(t.file, &n);
	/* Section header. */
	assert_true(n > 28);
	assert_int_equal(u32at(f, 0), 0x0a0d0d0a);
	assert_int_equal(u32at(f, 8), 0x1a2b3c4d);
	assert_int_equal(u16at(f, 12), 1);
	assert_int_equal(u16at(f, 14), 0);
	assert_non_null(find(f, u32at(f, 4), "192.0.2.1", 9));
	/* Every block: lengths agree, multiples of 4. */
	for (at = 0; at < n;) {
		uint32_t type = u32at(f, at), len = u32at(f, at + 4);

		assert_true(len >= 12 && len % 4 == 0 && at + len <= n);
		assert_int_equal(u32at(f, at + len - 4), len);
		if (type == 1) {
			assert_int_equal(u16at(f, at + 8),
					 idb == 0 ? WW_DLT_LINUX_SLL2
						  : WW_DLT_EN10MB);
			assert_int_equal(u32at(f, at + 12), WW_PCAPNG_SNAPLEN);
			idb++;
		} else if (type == 6) {
			uint32_t iface = u32at(f, at + 8);
			uint64_t t_us = (uint64_t)u32at(f, at + 12) << 32 |
					u32at(f, at + 16);
			uint32_t cap = u32at(f, at + 20),
				 orig = u32at(f, at + 24);
			const uint8_t *d = f + at + 28;

			assert_int_equal(len, 32 + (cap + 3) / 4 * 4);
			if (epb == 0) {
				assert_int_equal(iface, 0);
				assert_int_equal(t_us, us);
				assert_int_equal(cap, WW_PCAPNG_SNAPLEN);
				assert_int_equal(orig, a.n);
				assert_memory_equal(d, ra.b, cap);
			} else if (epb == 1) {
				assert_int_equal(iface, 1);
				assert_int_equal(t_us, us + 1);
				assert_int_equal(cap, b.n);
				assert_int_equal(orig, b.n + 10);
				assert_memory_equal(d, rb.b, cap);
			} else {
				assert_int_equal(iface, 0);
				assert_int_equal(cap, 100);
				assert_int_equal(orig, a.n);
				assert_memory_equal(d, ra.b, cap);
			}
			epb++;
		} else {
			assert_int_equal(at, 0);
			assert_int_equal(type, 0x0a0d0d0a);
		}
		at += len;
	}
	assert_int_equal(at, n);
	assert_int_equal(idb, 2);
	assert_int_equal(epb, 3);
	/* The volunteer's addresses are nowhere in the file. */
	assert_null(find(f, n, fb_a4, 4));
	assert_null(find(f, n, fb_a6, 16));
	free(f);
	tmp_remove(&t);
}

static void
test_open_errors(void **state)
{
	struct ww_pcapng *w;
	struct tmpdir t;
	struct stat st;
	char err[256], path[160];
	FILE *f;

	(void)state;
	tmp_make(&t);
	w = ww_pcapng_open(t.dir, err, sizeof(err));
	assert_null(w);
	assert_non_null(strstr(err, t.dir));
	assert_non_null(strstr(err, "directory"));

	snprintf(path, sizeof(path), "%s/no/such/dir.pcapng", t.dir);
	assert_null(ww_pcapng_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	assert_null(ww_pcapng_open("", err, sizeof(err)));
	assert_non_null(strstr(err, "no file name"));

	/* An existing file is truncated and made 0600. */
	f = fopen(t.file, "w");
	assert_non_null(f);
	fputs("old contents, much longer than a section header block......", f);
	fclose(f);
	assert_int_equal(chmod(t.file, 0644), 0);
	w = ww_pcapng_open(t.file, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(ww_pcapng_close(w, err, sizeof(err)), 0);
	assert_int_equal(stat(t.file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	{
		size_t n;
		uint8_t *b = slurp(t.file, &n);

		/* Only a section header block: the old bytes are gone. */
		assert_int_equal(u32at(b, 0), 0x0a0d0d0a);
		assert_int_equal(u32at(b, 4), n);
		assert_int_equal((size_t)st.st_size, n);
		assert_null(find(b, n, "old contents", 12));
		free(b);
	}
	assert_int_equal(ww_pcapng_close(NULL, NULL, 0), 0);
	tmp_remove(&t);
}

static void
test_write_error_sticky(void **state)
{
	struct ww_pcapng *w;
	struct frame a = {0};
	char err[256];

	(void)state;
	if (access("/dev/full", W_OK) != 0)
		skip();
	fb_ip4(&a, 17, fb_a4, fb_b4, 64, 1, 0);
	fb_udp(&a, 1, 2);
	fb_finish(&a, 17);
	w = ww_pcapng_open("/dev/full", err, sizeof(err));
	assert_non_null(w);
	/* Buffered: the error shows at the latest when closing. */
	for (int i = 0; i < 2000 && ww_pcapng_write(w, WW_DLT_RAW, NULL, a.b,
						    a.n, a.n, true) == 0;
	     i++)
		;
	assert_int_equal(ww_pcapng_close(w, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/dev/full"));
}

/* tcpdump, only when it is installed (no dependency): it reads the file
 * and finds every checksum right. One link type: libpcap 1.10 refuses a
 * file whose interfaces differ (Wireshark reads them); the probe's capture
 * has one. */
static void
test_tcpdump_reads_it(void **state)
{
	struct timeval ts = {1700000000, 1};
	struct frame a = {0}, b = {0};
	struct ww_pcapng *w;
	struct tmpdir t;
	char cmd[256], line[512], err[256];
	int n_lines = 0, n_correct = 0;
	FILE *p;

	(void)state;
	if (system("command -v tcpdump >/dev/null 2>&1") != 0)
		skip();
	fb_sll2(&a, 4, 0x0800);
	fb_ip4(&a, 6, fb_a4, fb_b4, 64, 3, 0x4000);
	fb_tcp(&a, 40000, 80, 1, 2, WW_TCP_PSH | WW_TCP_ACK, 500, NULL, 0);
	for (int i = 0; i < 401; i++)
		fb_put8(&a, 'a' + i % 26);
	fb_finish(&a, 6);
	fb_sll2(&b, 0, 0x86dd);
	fb_ip6(&b, 17, fb_b6, fb_a6, 57);
	fb_udp(&b, 53, 33000);
	fb_put(&b, "\x12\x34\x81\x80\x00", 5);
	fb_finish(&b, 17);
	tmp_make(&t);
	w = ww_pcapng_open(t.file, err, sizeof(err));
	assert_non_null(w);
	ww_pcapng_set_snaplen(w, 0); /* whole frames: checksums checked */
	assert_int_equal(
		ww_pcapng_write(w, WW_DLT_LINUX_SLL2, &ts, a.b, a.n, a.n, true),
		0);
	assert_int_equal(ww_pcapng_write(w, WW_DLT_LINUX_SLL2, &ts, b.b, b.n,
					 b.n, false),
			 0);
	assert_int_equal(ww_pcapng_close(w, err, sizeof(err)), 0);
	snprintf(cmd, sizeof(cmd), "tcpdump -nn -vv -r %s 2>&1", t.file);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p) != NULL) {
		print_message("tcpdump: %s", line);
		if (strstr(line, "(incorrect") != NULL ||
		    strstr(line, "bad cksum") != NULL ||
		    strstr(line, "bad udp cksum") != NULL)
			fail_msg("tcpdump: %s", line);
		n_correct += strstr(line, "(correct)") != NULL;
		n_correct += strstr(line, "udp sum ok") != NULL;
		n_lines += strstr(line, "192.0.2.1.40000 >") != NULL ||
			   strstr(line, "> 2001:db8::1.33000") != NULL;
	}
	assert_int_equal(pclose(p), 0);
	assert_int_equal(n_lines, 2);
	assert_int_equal(n_correct, 2);
	tmp_remove(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip4_tcp_out),
		cmocka_unit_test(test_ip4_tcp_in_sll),
		cmocka_unit_test(test_ip6_udp_sll2),
		cmocka_unit_test(test_udp_zero_checksum_stays),
		cmocka_unit_test(test_random_frames_checksums),
		cmocka_unit_test(test_cut_by_snaplen),
		cmocka_unit_test(test_ip4_options_address),
		cmocka_unit_test(test_ip6_ext_address),
		cmocka_unit_test(test_payload_scrub),
		cmocka_unit_test(test_later_fragment_and_refusal),
		cmocka_unit_test(test_file_blocks),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_write_error_sticky),
		cmocka_unit_test(test_tcpdump_reads_it),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
