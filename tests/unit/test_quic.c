/*
 * test_quic.c - the QUIC Initial against RFC 9001 Appendix A (keys, the
 * protected client Initial, the server Initial, the Retry tag), RFC 9000
 * varints, our ClientHello read back field by field, and the reply parser
 * on replies built here with our own sealing (server Initials,
 * CONNECTION_CLOSE, Version Negotiation, Retry, coalesced Handshake
 * packets) and on the malformed ones a censor or a fuzzer sends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "quic.h"
#include "quic_hello.h"

/* --- helpers ---------------------------------------------------------------
 */

static size_t
unhex(const char *s, unsigned char *out, size_t cap)
{
	size_t n = 0;

	for (; s[0] != '\0' && s[1] != '\0'; s += 2) {
		unsigned v;

		assert_true(n < cap);
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		out[n++] = (unsigned char)v;
	}
	return n;
}

static bool
contains(const unsigned char *b, size_t n, const char *s)
{
	size_t l = strlen(s);

	for (size_t i = 0; i + l <= n; i++)
		if (memcmp(b + i, s, l) == 0)
			return true;
	return false;
}

static const char rfc_dcid[] = "8394c8f03e515708";

/* RFC 9001 A.2: the client Initial's CRYPTO frame (then 917 zeros). */
static const char rfc_client_frames[] =
	"060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
	"04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
	"616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
	"04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
	"baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
	"0d0010000e0403050306030203080408050806002d00020101001c0002400100"
	"3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
	"75300901100f088394c8f03e51570806048000ffff";

/* RFC 9001 A.2: the 1200 protected bytes. */
static const char rfc_client_packet[] =
	"c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
	"d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
	"1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
	"8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
	"30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
	"457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
	"4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
	"4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
	"485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
	"059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
	"7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
	"9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
	"be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
	"68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
	"c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
	"f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
	"291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
	"25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
	"14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
	"ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
	"e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
	"c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
	"203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
	"cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
	"fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
	"a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
	"90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
	"162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
	"40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
	"6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
	"8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
	"be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
	"54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
	"760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
	"f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
	"056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
	"7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
	"e221af44860018ab0856972e194cd934";

/* RFC 9001 A.3: the server Initial (ACK + CRYPTO with a ServerHello). */
static const char rfc_server_frames[] =
	"02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739"
	"88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94"
	"0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00"
	"020304";
static const char rfc_server_packet[] =
	"cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
	"5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
	"dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
	"022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
	"2158407dd074ee";

/* RFC 9001 A.4: a Retry to the A.2 Initial. */
static const char rfc_retry[] = "ff000000010008f067a5502a4262b5746f6b656e"
				"04a265ba2eff4d829058fb3f0f2496ba";

/* The params of RFC 9001 A.2's client: that DCID, no SCID. */
static void
rfc_sent(struct ww_quic_params *p)
{
	memset(p, 0, sizeof(*p));
	p->dcid_len = unhex(rfc_dcid, p->dcid, sizeof(p->dcid));
}

/* Our own client, fixed: RFC 7748 6.1's Alice key as the key share. */
static void
our_params(struct ww_quic_params *p, const char *sni)
{
	memset(p, 0, sizeof(*p));
	p->dcid_len = unhex("0011223344556677", p->dcid, sizeof(p->dcid));
	p->scid_len = unhex("a0a1a2a3a4a5a6a7", p->scid, sizeof(p->scid));
	for (size_t i = 0; i < sizeof(p->random); i++)
		p->random[i] = (unsigned char)i;
	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	      p->x25519_priv, sizeof(p->x25519_priv));
	p->ping_version = 0x1a2a3a4a;
	snprintf(p->sni, sizeof(p->sni), "%s", sni);
}

/* --- RFC 9000 16 and A.1 ------------------------------------------------- */

static void
test_varint_rfc(void **state)
{
	static const struct {
		const char *hex;
		uint64_t v;
		bool minimal;
	} cases[] = {
		{"c2197c5eff14e88c", 151288809941952652ull, true},
		{"9d7f3e7d", 494878333, true},
		{"7bbd", 15293, true},
		{"25", 37, true},
		{"4025", 37, false},
	};
	unsigned char b[8], o[8];
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = unhex(cases[i].hex, b, sizeof(b));

		assert_int_equal(ww_quic_varint_get(b, n, &v), (int)n);
		assert_true(v == cases[i].v);
		assert_int_equal(ww_quic_varint_get(b, n - 1, &v), -1);
		if (cases[i].minimal) {
			assert_int_equal(ww_quic_varint_put(o, 8, v), (int)n);
			assert_memory_equal(o, b, n);
		}
	}
}

static void
test_varint_edges(void **state)
{
	static const struct {
		uint64_t v;
		int n;
	} cases[] = {{0, 1},	      {63, 1},
		     {64, 2},	      {16383, 2},
		     {16384, 4},      {1073741823, 4},
		     {1073741824, 8}, {(1ull << 62) - 1, 8}};
	unsigned char b[8];
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ww_quic_varint_put(b, 8, cases[i].v),
				 cases[i].n);
		assert_int_equal(ww_quic_varint_get(b, 8, &v), cases[i].n);
		assert_true(v == cases[i].v);
		assert_int_equal(ww_quic_varint_put(b, (size_t)cases[i].n - 1,
						    cases[i].v),
				 -1);
	}
	assert_int_equal(ww_quic_varint_put(b, 8, 1ull << 62), -1);
	assert_int_equal(ww_quic_varint_get(b, 0, &v), -1);
}

/* --- RFC 9001 A.1 - A.4 -------------------------------------------------- */

static void
test_initial_keys_rfc(void **state)
{
	unsigned char dcid[8], want[16];
	struct ww_quic_keys k;

	(void)state;
	unhex(rfc_dcid, dcid, sizeof(dcid));
	assert_int_equal(ww_quic_initial_keys(dcid, 8, false, &k), 0);
	unhex("1f369613dd76d5467730efcbe3b1a22d", want, 16);
	assert_memory_equal(k.key, want, 16);
	unhex("fa044b2f42a3fd3b46fb255c", want, 12);
	assert_memory_equal(k.iv, want, 12);
	unhex("9f50449e04a0e810283a1e9933adedd2", want, 16);
	assert_memory_equal(k.hp, want, 16);
	assert_int_equal(ww_quic_initial_keys(dcid, 8, true, &k), 0);
	unhex("cf3a5331653c364c88f0f379b6067e37", want, 16);
	assert_memory_equal(k.key, want, 16);
	unhex("0ac1493ca1905853b0bba03e", want, 12);
	assert_memory_equal(k.iv, want, 12);
	unhex("c206b8d9b9f0f37644430b490eeaa314", want, 16);
	assert_memory_equal(k.hp, want, 16);
}

/* A.2: our sealing of the RFC's frames, pn 2, gives its 1200 bytes (the
 * AEAD, the sample, the mask 437b9aec36 and the header all at once). */
static void
test_seal_client_initial_rfc(void **state)
{
	unsigned char dcid[8], frames[256], want[1200], out[1300];
	struct ww_quic_keys k;
	struct ww_quic_initial in;
	size_t nf;

	(void)state;
	unhex(rfc_dcid, dcid, sizeof(dcid));
	nf = unhex(rfc_client_frames, frames, sizeof(frames));
	assert_int_equal(unhex(rfc_client_packet, want, sizeof(want)), 1200);
	assert_int_equal(ww_quic_initial_keys(dcid, 8, false, &k), 0);
	in = (struct ww_quic_initial){.dcid = dcid,
				      .dcid_len = 8,
				      .pn = 2,
				      .frames = frames,
				      .frames_len = nf,
				      .pad_to = 1200};
	assert_int_equal(ww_quic_seal_initial(&in, &k, out, sizeof(out)), 1200);
	assert_memory_equal(out, want, 1200);
	assert_int_equal(ww_quic_seal_initial(&in, &k, out, 1199), -1);
}

static void
test_open_client_initial_rfc(void **state)
{
	unsigned char dcid[8], frames[256], pkt[1200], plain[1200];
	struct ww_quic_keys k;
	size_t nf, n = 0;
	uint32_t pn = 0;
	char err[128];

	(void)state;
	unhex(rfc_dcid, dcid, sizeof(dcid));
	nf = unhex(rfc_client_frames, frames, sizeof(frames));
	unhex(rfc_client_packet, pkt, sizeof(pkt));
	assert_int_equal(ww_quic_initial_keys(dcid, 8, false, &k), 0);
	assert_int_equal(ww_quic_open_initial(pkt, 1200, &k, plain,
					      sizeof(plain), &n, &pn, err,
					      sizeof(err)),
			 1200);
	assert_int_equal(pn, 2);
	assert_int_equal(n, 1162);
	assert_memory_equal(plain, frames, nf);
	for (size_t i = nf; i < n; i++)
		assert_int_equal(plain[i], 0);
	/* One bit flipped in the ciphertext: authentication fails. */
	pkt[600] ^= 1;
	assert_int_equal(ww_quic_open_initial(pkt, 1200, &k, plain,
					      sizeof(plain), &n, &pn, err,
					      sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "does not decrypt"));
}

static void
test_server_initial_rfc(void **state)
{
	unsigned char pkt[256], frames[128], plain[256];
	struct ww_quic_params sent;
	struct ww_quic_reply r;
	struct ww_quic_keys k;
	size_t n, nf, np = 0;
	uint32_t pn = 0;
	char err[128];

	(void)state;
	rfc_sent(&sent);
	n = unhex(rfc_server_packet, pkt, sizeof(pkt));
	nf = unhex(rfc_server_frames, frames, sizeof(frames));
	assert_int_equal(ww_quic_initial_keys(sent.dcid, 8, true, &k), 0);
	assert_int_equal(ww_quic_open_initial(pkt, n, &k, plain, sizeof(plain),
					      &np, &pn, err, sizeof(err)),
			 (int)n);
	assert_int_equal(pn, 1);
	assert_int_equal(np, nf);
	assert_memory_equal(plain, frames, nf);

	assert_int_equal(
		ww_quic_parse_reply(pkt, n, &sent, &r, err, sizeof(err)), 0);
	assert_string_equal(r.kind, "server_hello");
	assert_true(r.ours);
	assert_true(ww_quic_reply_proves_up(&r));
	assert_true(r.ack);
	assert_false(r.hello_retry_request);
	assert_int_equal(r.tls_version, 0x0304);
	assert_int_equal(r.cipher_suite, 0x1301);
	assert_int_equal(r.key_share, 0x001d);
	assert_int_equal(r.n_packets, 1);
	assert_int_equal(r.n_initial, 1);
	assert_int_equal(r.scid_len, 8);
	assert_int_equal(r.frame_error[0], '\0');

	/* Keyed to another DCID: not decrypted, not a reply of ours. */
	sent.dcid[0] ^= 1;
	assert_int_equal(
		ww_quic_parse_reply(pkt, n, &sent, &r, err, sizeof(err)), -1);
	assert_null(r.kind);
	assert_non_null(strstr(err, "does not decrypt"));
	assert_false(ww_quic_reply_proves_up(&r));
}

static void
test_retry_rfc(void **state)
{
	unsigned char pkt[64], tag[16];
	struct ww_quic_params sent;
	struct ww_quic_reply r;
	size_t n;
	char err[128];

	(void)state;
	rfc_sent(&sent);
	n = unhex(rfc_retry, pkt, sizeof(pkt));
	assert_int_equal(ww_quic_retry_tag(sent.dcid, 8, pkt, n - 16, tag), 0);
	assert_memory_equal(tag, pkt + n - 16, 16);

	assert_int_equal(
		ww_quic_parse_reply(pkt, n, &sent, &r, err, sizeof(err)), 0);
	assert_string_equal(r.kind, "retry");
	assert_true(r.retry_tag_ok);
	assert_true(r.ours);
	assert_int_equal(r.token_len, 5);
	assert_memory_equal(r.token, "token", 5);
	assert_int_equal(r.scid_len, 8);

	/* The next Initial: the Retry's SCID as DCID, its token, pn 1. */
	{
		struct ww_quic_params next = sent;

		assert_int_equal(ww_quic_params_after_retry(&next, &r), 0);
		assert_int_equal(next.dcid_len, 8);
		assert_memory_equal(next.dcid, r.scid, 8);
		assert_int_equal(next.token_len, 5);
		assert_int_equal(next.pn, 1);
	}

	/* Sent to another DCID: the tag does not verify. */
	sent.dcid[7] ^= 0x80;
	assert_int_equal(
		ww_quic_parse_reply(pkt, n, &sent, &r, err, sizeof(err)), 0);
	assert_string_equal(r.kind, "retry");
	assert_false(r.retry_tag_ok);
	assert_false(ww_quic_reply_proves_up(&r));
	{
		struct ww_quic_params next = sent;

		assert_int_equal(ww_quic_params_after_retry(&next, &r), -1);
		assert_memory_equal(&next, &sent, sizeof(next));
	}
	sent.dcid[7] ^= 0x80;
	/* A token byte changed: neither. */
	pkt[16] ^= 1;
	assert_int_equal(
		ww_quic_parse_reply(pkt, n, &sent, &r, err, sizeof(err)), 0);
	assert_false(r.retry_tag_ok);
	pkt[16] ^= 1;
	/* No token: discarded (RFC 9000 17.2.5.2). */
	memmove(pkt + 15, pkt + 20, 16);
	assert_int_equal(
		ww_quic_parse_reply(pkt, n - 5, &sent, &r, err, sizeof(err)),
		-1);
	assert_non_null(strstr(err, "empty token"));
	/* Shorter than its tag. */
	assert_int_equal(
		ww_quic_parse_reply(pkt, 20, &sent, &r, err, sizeof(err)), -1);
}

/* --- our ClientHello -------------------------------------------------------
 */

/* The extension of type want in ClientHello ch (n bytes), or NULL. */
static const unsigned char *
hello_ext(const unsigned char *ch, size_t n, unsigned want, size_t *len)
{
	size_t at = 4 + 2 + 32, end;

	at += 1 + ch[at];			      /* session id */
	at += 2 + ((size_t)ch[at] << 8 | ch[at + 1]); /* suites */
	at += 1 + ch[at];			      /* compression */
	end = at + 2 + ((size_t)ch[at] << 8 | ch[at + 1]);
	assert_int_equal(end, n);
	for (at += 2; at + 4 <= end;) {
		unsigned type = (unsigned)ch[at] << 8 | ch[at + 1];
		size_t l = (size_t)ch[at + 2] << 8 | ch[at + 3];

		assert_true(at + 4 + l <= end);
		if (type == want) {
			*len = l;
			return ch + at + 4;
		}
		at += 4 + l;
	}
	return NULL;
}

static void
test_hello_fields(void **state)
{
	struct ww_quic_params p;
	unsigned char ch[1024], pub[32], tp[128];
	const unsigned char *e;
	size_t n, l = 0;
	ssize_t ntp;

	(void)state;
	our_params(&p, "www.example.com");
	n = (size_t)ww_quic_hello_build(&p, ch, sizeof(ch));
	assert_true(n > 100 && n < 600);
	assert_int_equal(ch[0], 1);
	assert_int_equal((size_t)ch[1] << 16 | ch[2] << 8 | ch[3], n - 4);
	assert_int_equal(ch[4], 3);
	assert_int_equal(ch[5], 3);
	assert_memory_equal(ch + 6, p.random, 32);
	assert_int_equal(ch[38], 0); /* empty legacy_session_id */

	e = hello_ext(ch, n, 0x0000, &l);
	assert_non_null(e);
	assert_int_equal(l, 2 + 3 + 15);
	assert_memory_equal(e + 5, "www.example.com", 15);
	e = hello_ext(ch, n, 0x0010, &l); /* ALPN: "h3" */
	assert_non_null(e);
	assert_int_equal(l, 5);
	assert_memory_equal(e, "\x00\x03\x02h3", 5);
	e = hello_ext(ch, n, 0x002b, &l); /* supported_versions: TLS 1.3 */
	assert_non_null(e);
	assert_int_equal(l, 3);
	assert_memory_equal(e, "\x02\x03\x04", 3);
	/* key_share: x25519 with RFC 7748 6.1's Alice public key. */
	e = hello_ext(ch, n, 0x0033, &l);
	assert_non_null(e);
	assert_int_equal(l, 2 + 4 + 32);
	assert_memory_equal(e, "\x00\x24\x00\x1d\x00\x20", 6);
	unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	      pub, 32);
	assert_memory_equal(e + 6, pub, 32);
	assert_non_null(hello_ext(ch, n, 0x000d, &l)); /* signature_algs */
	assert_non_null(hello_ext(ch, n, 0x000a, &l)); /* groups */
	/* quic_transport_parameters, ending in initial_source_connection_id
	 * = our SCID. */
	e = hello_ext(ch, n, 0x0039, &l);
	assert_non_null(e);
	ntp = ww_quic_transport_params(&p, tp, sizeof(tp));
	assert_int_equal(l, ntp);
	assert_memory_equal(e, tp, l);
	assert_memory_equal(e + l - 10, "\x0f\x08", 2);
	assert_memory_equal(e + l - 8, p.scid, 8);

	/* No SNI: no server_name at all; an ALPN list. */
	our_params(&p, "");
	strcpy(p.alpn, "h3,hq-interop");
	n = (size_t)ww_quic_hello_build(&p, ch, sizeof(ch));
	assert_null(hello_ext(ch, n, 0x0000, &l));
	e = hello_ext(ch, n, 0x0010, &l);
	assert_non_null(e);
	assert_int_equal(l, 2 + 3 + 11);
	assert_memory_equal(e + 5, "\x0ahq-interop", 11);
}

static void
test_hello_invalid(void **state)
{
	static const char *bad_sni[] = {"a:b", "example.com/", ".example",
					"ex ample.com", "\xc3\xa9.com"};
	static const char *bad_alpn[] = {",h3", "h3,", "h3,,x"};
	struct ww_quic_params p;
	unsigned char ch[1024];
	ssize_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_sni) / sizeof(bad_sni[0]); i++) {
		our_params(&p, bad_sni[i]);
		assert_int_equal(ww_quic_hello_build(&p, ch, sizeof(ch)), -1);
	}
	for (size_t i = 0; i < sizeof(bad_alpn) / sizeof(bad_alpn[0]); i++) {
		our_params(&p, "example.com");
		strcpy(p.alpn, bad_alpn[i]);
		assert_int_equal(ww_quic_hello_build(&p, ch, sizeof(ch)), -1);
	}
	our_params(&p, "example.com");
	p.scid_len = 21;
	assert_int_equal(ww_quic_hello_build(&p, ch, sizeof(ch)), -1);
	/* Every short cap: -1, and nothing written past it. */
	our_params(&p, "example.com");
	n = ww_quic_hello_build(&p, ch, sizeof(ch));
	assert_true(n > 0);
	for (size_t cap = 0; cap < (size_t)n; cap++) {
		memset(ch, 0xee, sizeof(ch));
		assert_int_equal(ww_quic_hello_build(&p, ch, cap), -1);
		for (size_t i = cap; i < sizeof(ch); i++)
			assert_int_equal(ch[i], 0xee);
	}
}

/* --- our Initial and ping --------------------------------------------------
 */

static void
test_build_initial(void **state)
{
	struct ww_quic_params p;
	struct ww_quic_keys k;
	unsigned char out[1500], plain[1500], ch[1024];
	size_t n = 0;
	uint32_t pn = 9;
	ssize_t len, hl;
	char err[128];

	(void)state;
	our_params(&p, "example.com");
	len = ww_quic_build_initial(&p, out, sizeof(out));
	assert_int_equal(len, 1200);
	assert_int_equal(out[0] & 0xf0, 0xc0);
	assert_memory_equal(out + 1, "\x00\x00\x00\x01\x08", 5);
	assert_memory_equal(out + 6, p.dcid, 8);
	assert_int_equal(out[14], 8);
	assert_memory_equal(out + 15, p.scid, 8);
	assert_int_equal(out[23], 0); /* no token */
	/* The SNI is not in clear. */
	assert_false(contains(out, 1200, "example"));
	assert_int_equal(ww_quic_initial_keys(p.dcid, 8, false, &k), 0);
	assert_int_equal(ww_quic_open_initial(out, 1200, &k, plain,
					      sizeof(plain), &n, &pn, err,
					      sizeof(err)),
			 1200);
	assert_int_equal(pn, 0);
	hl = ww_quic_hello_build(&p, ch, sizeof(ch));
	assert_int_equal(plain[0], 0x06);
	assert_int_equal(plain[1], 0x00);
	assert_int_equal(((plain[2] & 0x3f) << 8) | plain[3], hl);
	assert_memory_equal(plain + 4, ch, (size_t)hl);
	for (size_t i = 4 + (size_t)hl; i < n; i++)
		assert_int_equal(plain[i], 0);

	/* A bigger datagram, a token, packet number 7. */
	p.datagram_len = 1350;
	p.token_len = 40;
	memset(p.token, 't', 40);
	p.pn = 7;
	len = ww_quic_build_initial(&p, out, sizeof(out));
	assert_int_equal(len, 1350);
	assert_int_equal(out[23], 40);
	assert_int_equal(ww_quic_open_initial(out, 1350, &k, plain,
					      sizeof(plain), &n, &pn, err,
					      sizeof(err)),
			 1350);
	assert_int_equal(pn, 7);
}

static void
test_build_initial_invalid(void **state)
{
	struct ww_quic_params p;
	unsigned char out[1300];

	(void)state;
	our_params(&p, "example.com");
	p.dcid_len = 7;
	assert_int_equal(ww_quic_build_initial(&p, out, sizeof(out)), -1);
	p.dcid_len = 21;
	assert_int_equal(ww_quic_build_initial(&p, out, sizeof(out)), -1);
	our_params(&p, "example.com");
	p.scid_len = 21;
	assert_int_equal(ww_quic_build_initial(&p, out, sizeof(out)), -1);
	our_params(&p, "example.com");
	p.datagram_len = 1199;
	assert_int_equal(ww_quic_build_initial(&p, out, sizeof(out)), -1);
	p.datagram_len = 1473;
	assert_int_equal(ww_quic_build_initial(&p, out, sizeof(out)), -1);
	our_params(&p, "example.com");
	p.token_len = WW_QUIC_TOKEN_MAX + 1;
	assert_int_equal(ww_quic_build_initial(&p, out, sizeof(out)), -1);
	our_params(&p, "bad name");
	assert_int_equal(ww_quic_build_initial(&p, out, sizeof(out)), -1);
	/* Caps under 1200: -1, nothing written past cap. */
	our_params(&p, "example.com");
	for (size_t cap = 0; cap < 1200; cap += 7) {
		memset(out, 0xee, sizeof(out));
		assert_int_equal(ww_quic_build_initial(&p, out, cap), -1);
		for (size_t i = cap; i < sizeof(out); i++)
			assert_int_equal(out[i], 0xee);
	}
}

static void
test_vn_ping(void **state)
{
	struct ww_quic_params p;
	unsigned char out[1300];

	(void)state;
	our_params(&p, "example.com");
	assert_int_equal(ww_quic_build_vn_ping(&p, out, sizeof(out)), 1200);
	assert_memory_equal(out, "\xc0\x1a\x2a\x3a\x4a\x08", 6);
	assert_memory_equal(out + 6, p.dcid, 8);
	assert_int_equal(out[14], 8);
	assert_memory_equal(out + 15, p.scid, 8);
	for (size_t i = 23; i < 1200; i++)
		assert_int_equal(out[i], 0);
	assert_false(contains(out, 1200, "example"));
	assert_int_equal(ww_quic_build_vn_ping(&p, out, 1199), -1);
	p.ping_version = WW_QUIC_V1;
	assert_int_equal(ww_quic_build_vn_ping(&p, out, sizeof(out)), -1);
	p.ping_version = 0x1a2a3a4b;
	assert_int_equal(ww_quic_build_vn_ping(&p, out, sizeof(out)), -1);
}

static void
test_params_random(void **state)
{
	struct ww_quic_params a, b;
	unsigned char out[1300];

	(void)state;
	assert_int_equal(ww_quic_params_random(&a, "example.org", NULL), 0);
	assert_int_equal(ww_quic_params_random(&b, NULL, "h3"), 0);
	assert_memory_not_equal(a.dcid, b.dcid, 8);
	assert_memory_not_equal(a.x25519_priv, b.x25519_priv, 32);
	assert_int_equal(a.ping_version & 0x0f0f0f0f, 0x0a0a0a0a);
	assert_string_equal(a.alpn, "h3");
	assert_string_equal(b.sni, "");
	assert_int_equal(ww_quic_build_initial(&a, out, sizeof(out)), 1200);
	assert_int_equal(ww_quic_build_initial(&b, out, sizeof(out)), 1200);
	assert_int_equal(ww_quic_build_vn_ping(&a, out, sizeof(out)), 1200);
	memset(out, 'a', 300);
	out[300] = '\0';
	assert_int_equal(ww_quic_params_random(&a, (char *)out, NULL), -1);
}

/* --- replies built here ----------------------------------------------------
 */

/* A ServerHello: TLS 1.3, the given suite, x25519 (or an HRR). */
static size_t
server_hello(unsigned char *b, uint16_t suite, bool hrr)
{
	static const unsigned char hrr_random[32] = {
		0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
		0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
		0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
		0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
	size_t n = 0, ks = hrr ? 2 : 36;

	b[n++] = 2;
	n += 3;
	b[n++] = 3;
	b[n++] = 3;
	if (hrr)
		memcpy(b + n, hrr_random, 32);
	else
		memset(b + n, 0x5a, 32);
	n += 32;
	b[n++] = 0;
	b[n++] = (unsigned char)(suite >> 8);
	b[n++] = (unsigned char)suite;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = (unsigned char)(6 + 4 + ks);
	memcpy(b + n, "\x00\x2b\x00\x02\x03\x04", 6);
	n += 6;
	memcpy(b + n, "\x00\x33\x00", 3);
	n += 3;
	b[n++] = (unsigned char)ks;
	b[n++] = 0x00;
	b[n++] = 0x1d;
	if (!hrr) {
		memcpy(b + n, "\x00\x20", 2);
		memset(b + n + 2, 0x77, 32);
		n += 34;
	}
	b[1] = 0;
	b[2] = (unsigned char)((n - 4) >> 8);
	b[3] = (unsigned char)(n - 4);
	return n;
}

/* A server Initial to p's client: to its SCID, keyed by its DCID. */
static size_t
server_initial(const struct ww_quic_params *p, const unsigned char *frames,
	       size_t nf, size_t pad_to, unsigned char *out, size_t cap)
{
	static const unsigned char server_cid[8] = "SERVER!";
	struct ww_quic_keys k;
	struct ww_quic_initial in = {.dcid = p->scid,
				     .dcid_len = p->scid_len,
				     .scid = server_cid,
				     .scid_len = 8,
				     .pn = 0,
				     .frames = frames,
				     .frames_len = nf,
				     .pad_to = pad_to};
	ssize_t n;

	assert_int_equal(ww_quic_initial_keys(p->dcid, p->dcid_len, true, &k),
			 0);
	n = ww_quic_seal_initial(&in, &k, out, cap);
	assert_true(n > 0);
	return (size_t)n;
}

/* ACK of our packet 0, then CRYPTO with a ServerHello. */
static size_t
ack_and_hello(unsigned char *f)
{
	size_t n = 0, sh;

	memcpy(f, "\x02\x00\x00\x00\x00", 5);
	n = 5;
	sh = server_hello(f + n + 4, 0x1302, false);
	f[n++] = 0x06;
	f[n++] = 0x00;
	f[n++] = (unsigned char)(0x40 | sh >> 8);
	f[n++] = (unsigned char)sh;
	return n + sh;
}

/* A Handshake packet (type 2) with len bytes of payload after a 1-byte
 * pn; its content cannot be checked without the TLS keys. */
static size_t
handshake_packet(const struct ww_quic_params *p, size_t len, unsigned char *out)
{
	size_t n = 0;

	out[n++] = 0xe0;
	memcpy(out + n, "\x00\x00\x00\x01", 4);
	n += 4;
	out[n++] = (unsigned char)p->scid_len;
	memcpy(out + n, p->scid, p->scid_len);
	n += p->scid_len;
	out[n++] = 8;
	memcpy(out + n, "SERVER!", 8);
	n += 8;
	out[n++] = (unsigned char)(0x40 | (len + 1) >> 8);
	out[n++] = (unsigned char)(len + 1);
	memset(out + n, 0x33, len + 1);
	return n + len + 1;
}

static void
test_server_initial_ours(void **state)
{
	struct ww_quic_params p;
	struct ww_quic_reply r;
	unsigned char f[256], d[1500];
	size_t nf, n;
	char err[128];

	(void)state;
	our_params(&p, "example.com");
	nf = ack_and_hello(f);
	n = server_initial(&p, f, nf, 0, d, sizeof(d));
	assert_int_equal(ww_quic_parse_reply(d, n, &p, &r, err, sizeof(err)),
			 0);
	assert_string_equal(r.kind, "server_hello");
	assert_true(r.ours);
	assert_int_equal(r.cipher_suite, 0x1302);
	assert_int_equal(r.tls_version, 0x0304);
	assert_int_equal(r.key_share, 0x1d);
	assert_memory_equal(r.scid, "SERVER!", 8);
	assert_memory_equal(r.dcid, p.scid, 8);
	assert_int_equal(r.trailing, 0);

	/* Coalesced with a Handshake packet, then zeros: all counted. */
	n += handshake_packet(&p, 300, d + n);
	memset(d + n, 0, 50);
	n += 50;
	assert_int_equal(ww_quic_parse_reply(d, n, &p, &r, err, sizeof(err)),
			 0);
	assert_string_equal(r.kind, "server_hello");
	assert_int_equal(r.n_packets, 2);
	assert_int_equal(r.n_initial, 1);
	assert_int_equal(r.n_handshake, 1);
	assert_int_equal(r.trailing, 50);

	/* Decrypts, but sent to another SCID: not ours. */
	p.scid[0] ^= 1;
	n = server_initial(&p, f, nf, 0, d, sizeof(d));
	p.scid[0] ^= 1;
	assert_int_equal(ww_quic_parse_reply(d, n, &p, &r, err, sizeof(err)),
			 0);
	assert_false(r.ours);
	assert_false(ww_quic_reply_proves_up(&r));
}

/* The ServerHello split in two CRYPTO frames, the second first, and a
 * HelloRetryRequest. */
static void
test_crypto_reassembly(void **state)
{
	struct ww_quic_params p;
	struct ww_quic_reply r;
	unsigned char sh[128], f[256], d[1500];
	size_t nsh, nf = 0, n;
	char err[128];

	(void)state;
	our_params(&p, "example.com");
	nsh = server_hello(sh, 0x1301, true);
	f[nf++] = 0x06;
	f[nf++] = 20; /* offset */
	f[nf++] = (unsigned char)(nsh - 20);
	memcpy(f + nf, sh + 20, nsh - 20);
	nf += nsh - 20;
	f[nf++] = 0x01; /* PING */
	f[nf++] = 0x06;
	f[nf++] = 0;
	f[nf++] = 20;
	memcpy(f + nf, sh, 20);
	nf += 20;
	n = server_initial(&p, f, nf, 1200, d, sizeof(d));
	assert_int_equal(n, 1200);
	assert_int_equal(ww_quic_parse_reply(d, n, &p, &r, err, sizeof(err)),
			 0);
	assert_string_equal(r.kind, "server_hello");
	assert_true(r.hello_retry_request);
	assert_false(r.ack);

	/* Only the second part: an Initial, no ServerHello yet. */
	n = server_initial(&p, f, nsh - 20 + 3, 0, d, sizeof(d));
	assert_int_equal(ww_quic_parse_reply(d, n, &p, &r, err, sizeof(err)),
			 0);
	assert_string_equal(r.kind, "initial");
	assert_false(r.server_hello);
	assert_true(ww_quic_reply_proves_up(&r));
}

static void
test_connection_close(void **state)
{
	struct ww_quic_params p;
	struct ww_quic_reply r;
	unsigned char f[64], d[1500];
	size_t nf = 0, n;
	char err[128];

	(void)state;
	our_params(&p, "example.com");
	/* CONNECTION_CLOSE 0x1c, error 0x178 (TLS alert 120), frame 0x06,
	 * reason "no h3\x01". */
	memcpy(f, "\x1c\x41\x78\x06\x06no h3\x01", 11);
	nf = 11;
	n = server_initial(&p, f, nf, 0, d, sizeof(d));
	assert_int_equal(ww_quic_parse_reply(d, n, &p, &r, err, sizeof(err)),
			 0);
	assert_string_equal(r.kind, "connection_close");
	assert_true(r.ours);
	assert_true(ww_quic_reply_proves_up(&r));
	assert_true(r.error_code == 0x178);
	assert_true(r.frame_type == 0x06);
	assert_int_equal(r.tls_alert, 120);
	assert_string_equal(ww_quic_tls_alert_name(r.tls_alert),
			    "no_application_protocol");
	assert_string_equal(ww_quic_error_name(r.error_code), "CRYPTO_ERROR");
	assert_string_equal(r.reason, "no h3?");

	/* A transport error, no reason. */
	memcpy(f, "\x1c\x0a\x00\x00", 4);
	n = server_initial(&p, f, 4, 0, d, sizeof(d));
	assert_int_equal(ww_quic_parse_reply(d, n, &p, &r, err, sizeof(err)),
			 0);
	assert_string_equal(r.kind, "connection_close");
	assert_int_equal(r.tls_alert, -1);
	assert_string_equal(ww_quic_error_name(r.error_code),
			    "PROTOCOL_VIOLATION");
	assert_string_equal(r.reason, "");
	assert_null(ww_quic_error_name(0x99));
	/* Params of ours that cannot be: refused, not read past. */
	p.scid_len = 21;
	assert_int_equal(ww_quic_parse_reply(d, n, &p, &r, err, sizeof(err)),
			 -1);
	assert_int_equal(ww_quic_parse_reply(d, n, NULL, &r, err, sizeof(err)),
			 -1);
	assert_null(ww_quic_tls_alert_name(7));
}

static void
test_handshake_only(void **state)
{
	struct ww_quic_params p;
	struct ww_quic_reply r;
	unsigned char d[1500];
	size_t n;
	char err[128];

	(void)state;
	our_params(&p, "example.com");
	n = handshake_packet(&p, 1000, d);
	n += handshake_packet(&p, 100, d + n);
	assert_int_equal(ww_quic_parse_reply(d, n, &p, &r, err, sizeof(err)),
			 0);
	assert_string_equal(r.kind, "handshake");
	assert_int_equal(r.n_handshake, 2);
	assert_true(r.ours);
	/* An Initial keyed to another DCID, then a Handshake packet: the
	 * Handshake packet counts, the Initial does not. */
	{
		unsigned char f[8] = {0x01};
		size_t k;

		p.dcid[0] ^= 1;
		k = server_initial(&p, f, 1, 0, d, sizeof(d));
		p.dcid[0] ^= 1;
		n = k + handshake_packet(&p, 100, d + k);
		assert_int_equal(
			ww_quic_parse_reply(d, n, &p, &r, err, sizeof(err)), 0);
		assert_string_equal(r.kind, "handshake");
		assert_int_equal(r.n_packets, 2);
		assert_int_equal(r.n_initial, 0);
	}
	/* To an empty SCID nothing ties it to us. */
	p.scid_len = 0;
	n = handshake_packet(&p, 100, d);
	assert_int_equal(ww_quic_parse_reply(d, n, &p, &r, err, sizeof(err)),
			 0);
	assert_false(r.ours);
}

static size_t
vn_packet(const struct ww_quic_params *p, const uint32_t *v, size_t nv,
	  unsigned char *out)
{
	size_t n = 0;

	out[n++] = 0x80 | 0x35;
	memset(out + n, 0, 4);
	n += 4;
	out[n++] = (unsigned char)p->scid_len;
	memcpy(out + n, p->scid, p->scid_len);
	n += p->scid_len;
	out[n++] = (unsigned char)p->dcid_len;
	memcpy(out + n, p->dcid, p->dcid_len);
	n += p->dcid_len;
	for (size_t i = 0; i < nv; i++, n += 4) {
		out[n] = (unsigned char)(v[i] >> 24);
		out[n + 1] = (unsigned char)(v[i] >> 16);
		out[n + 2] = (unsigned char)(v[i] >> 8);
		out[n + 3] = (unsigned char)v[i];
	}
	return n;
}

static void
test_version_negotiation(void **state)
{
	static const uint32_t v[] = {0x6b3343cf, 0x00000001, 0xff00001d};
	uint32_t many[20];
	struct ww_quic_params p;
	struct ww_quic_reply r;
	unsigned char d[256];
	size_t n;
	char err[128];

	(void)state;
	our_params(&p, "");
	n = vn_packet(&p, v, 3, d);
	assert_int_equal(ww_quic_parse_reply(d, n, &p, &r, err, sizeof(err)),
			 0);
	assert_string_equal(r.kind, "version_negotiation");
	assert_true(r.ours);
	assert_true(r.offers_v1);
	assert_int_equal(r.n_versions, 3);
	assert_int_equal(r.versions[0], 0x6b3343cf);
	assert_true(ww_quic_reply_proves_up(&r));
	/* Every shorter datagram fails, with an error, and does not crash. */
	for (size_t l = 0; l < n; l++) {
		int rc = ww_quic_parse_reply(d, l, &p, &r, err, sizeof(err));

		if (l == n - 4 || l == n - 8)
			assert_int_equal(rc, 0);
		else
			assert_int_equal(rc, -1);
		assert_true(rc == 0 || err[0] != '\0');
	}
	/* Ids not ours: either one not swapped back. */
	d[7] ^= 1;
	assert_int_equal(ww_quic_parse_reply(d, n, &p, &r, err, sizeof(err)),
			 0);
	assert_false(r.ours);
	assert_false(ww_quic_reply_proves_up(&r));
	d[7] ^= 1;
	d[16] ^= 1;
	assert_int_equal(ww_quic_parse_reply(d, n, &p, &r, err, sizeof(err)),
			 0);
	assert_false(r.ours);
	d[16] ^= 1;
	/* A list that is not whole versions, or none. */
	assert_int_equal(
		ww_quic_parse_reply(d, n - 2, &p, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "multiple of 4"));
	assert_int_equal(
		ww_quic_parse_reply(d, n - 12, &p, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no version"));
	/* Twenty versions: sixteen kept, all counted. */
	for (size_t i = 0; i < 20; i++)
		many[i] = 0xff000000u + (uint32_t)i;
	n = vn_packet(&p, many, 20, d);
	assert_int_equal(ww_quic_parse_reply(d, n, &p, &r, err, sizeof(err)),
			 0);
	assert_int_equal(r.n_versions, WW_QUIC_MAX_VERSIONS);
	assert_int_equal(r.n_versions_total, 20);
	assert_false(r.offers_v1);
}

/* --- malformed -------------------------------------------------------------
 */

static void
test_garbage(void **state)
{
	static const struct {
		const char *hex;
		const char *err;
	} cases[] = {
		{"", "empty"},
		{"4001020304050607", "short header"},
		{"c0000000", "truncated"},
		{"c012345678080102030405060708", "not QUIC v1"},
		{"c00000000115", "truncated"},
		{"c00000000115" /* DCID length 21 */
		 "0102030405060708090a0b0c0d0e0f101112131415",
		 "over 20"},
		{"d000000001000014" /* 0-RTT, Length 20 */
		 "0000000000000000000000000000000000000000",
		 "0-RTT"},
		{"c000000001000000050000000000", "under 20"},
		{"c0000000010000007fff00", "past the datagram"},
		{"c00000000100000801", "token length"},
		{"a000000001", "truncated"},
	};
	struct ww_quic_params p;
	struct ww_quic_reply r;
	unsigned char d[256];
	char err[128];

	(void)state;
	our_params(&p, "example.com");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = unhex(cases[i].hex, d, sizeof(d));

		assert_int_equal(
			ww_quic_parse_reply(d, n, &p, &r, err, sizeof(err)),
			-1);
		assert_null(r.kind);
		if (strstr(err, cases[i].err) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
				 cases[i].err);
	}
	/* 1200 random-looking bytes with a v1 Initial header. */
	for (size_t i = 0; i < 256; i++)
		d[i] = (unsigned char)(i * 37 + 11);
	memcpy(d, "\xc0\x00\x00\x00\x01\x00\x00\x00\x40\xe0", 10);
	assert_int_equal(ww_quic_parse_reply(d, 234, &p, &r, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "does not decrypt"));
}

/* Every prefix of a valid coalesced datagram: no read past it (ASan), a
 * kind only when a whole packet is there. */
static void
test_truncated_everywhere(void **state)
{
	struct ww_quic_params p;
	struct ww_quic_reply r;
	unsigned char f[256], d[1500], *cut;
	size_t nf, n, first;
	char err[128];

	(void)state;
	our_params(&p, "example.com");
	nf = ack_and_hello(f);
	first = server_initial(&p, f, nf, 0, d, sizeof(d));
	n = first + handshake_packet(&p, 40, d + first);
	for (size_t l = 0; l <= n; l++) {
		int rc;

		cut = malloc(l ? l : 1);
		memcpy(cut, d, l);
		rc = ww_quic_parse_reply(cut, l, &p, &r, err, sizeof(err));
		free(cut);
		if (l < first)
			assert_int_equal(rc, -1);
		else {
			assert_int_equal(rc, 0);
			assert_string_equal(r.kind, "server_hello");
			assert_int_equal(r.n_handshake, l == n ? 1 : 0);
			assert_int_equal(r.trailing, l == n ? 0 : l - first);
		}
	}
}

static void
test_frames_malformed(void **state)
{
	static const struct {
		const char *hex;
		const char *err;
	} cases[] = {
		{"08000100", "not allowed"},	   /* STREAM */
		{"0600", "truncated"},		   /* CRYPTO without length */
		{"06000568656c6c", "truncated"},   /* CRYPTO past its end */
		{"02000000", "truncated"},	   /* ACK cut */
		{"0200008fffffff00", "truncated"}, /* 268M ranges, no bytes */
		{"030000000000", "truncated"},	   /* ACK_ECN without counts */
		{"1c0000", "truncated"},     /* CLOSE without reason len */
		{"1c00000568", "truncated"}, /* reason past the end */
		{"40", "truncated"},	     /* a 2-byte type cut */
		{"06ffffffffffffffff01aa", "out of range"}, /* over 2^62-1 */
	};
	struct ww_quic_reply r;
	unsigned char f[64];
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = unhex(cases[i].hex, f, sizeof(f));

		memset(&r, 0, sizeof(r));
		assert_int_equal(ww_quic_parse_initial_frames(f, n, &r, err,
							      sizeof(err)),
				 -1);
		if (strstr(err, cases[i].err) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
				 cases[i].err);
	}
	/* PADDING, PING, ACK with a range and ECN counts, a CRYPTO far
	 * beyond what we keep: fine, no ServerHello. */
	memset(&r, 0, sizeof(r));
	unhex("0000010300000101020300000006ffffffffffffffff0000", f, sizeof(f));
	assert_int_equal(
		ww_quic_parse_initial_frames(f, 24, &r, err, sizeof(err)), 0);
	assert_true(r.ack);
	assert_false(r.server_hello);
	/* CRYPTO data that is not a ServerHello. */
	memset(&r, 0, sizeof(r));
	unhex("060004080000000000", f, sizeof(f));
	assert_int_equal(
		ww_quic_parse_initial_frames(f, 8, &r, err, sizeof(err)), 0);
	assert_non_null(strstr(r.frame_error, "type 8"));
}

static void
test_server_hello_malformed(void **state)
{
	struct ww_quic_reply r;
	unsigned char sh[160];
	size_t n;
	char err[128];

	(void)state;
	n = server_hello(sh, 0x1301, false);
	memset(&r, 0, sizeof(r));
	assert_int_equal(
		ww_quic_parse_server_hello(sh, n, &r, err, sizeof(err)), 0);
	for (size_t l = 0; l < n; l++)
		assert_int_equal(
			ww_quic_parse_server_hello(sh, l, &r, err, sizeof(err)),
			-1);
	sh[0] = 1;
	assert_int_equal(
		ww_quic_parse_server_hello(sh, n, &r, err, sizeof(err)), -1);
	sh[0] = 2;
	sh[38] = 33; /* legacy_session_id over 32 */
	assert_int_equal(
		ww_quic_parse_server_hello(sh, n, &r, err, sizeof(err)), -1);
	sh[38] = 0;
	sh[41] = 1; /* compression */
	assert_int_equal(
		ww_quic_parse_server_hello(sh, n, &r, err, sizeof(err)), -1);
	sh[41] = 0;
	/* A 33-byte session id, every length consistent: still refused. */
	memmove(sh + 39 + 33, sh + 39, n - 39);
	memset(sh + 39, 0xab, 33);
	sh[38] = 33;
	sh[3] = (unsigned char)(sh[3] + 33);
	assert_int_equal(
		ww_quic_parse_server_hello(sh, n + 33, &r, err, sizeof(err)),
		-1);
	assert_non_null(strstr(err, "legacy_session_id"));
	sh[38] = 32; /* 32 is the most there may be */
	memmove(sh + 39 + 32, sh + 39 + 33, n - 39);
	sh[3]--;
	assert_int_equal(
		ww_quic_parse_server_hello(sh, n + 32, &r, err, sizeof(err)),
		0);
	assert_int_equal(r.cipher_suite, 0x1301);
	n = server_hello(sh, 0x1301, false);
	sh[43]++; /* extensions length */
	assert_int_equal(
		ww_quic_parse_server_hello(sh, n, &r, err, sizeof(err)), -1);
	sh[43]--;
	sh[47] = 3; /* supported_versions of 3 bytes */
	assert_int_equal(
		ww_quic_parse_server_hello(sh, n, &r, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varint_rfc),
		cmocka_unit_test(test_varint_edges),
		cmocka_unit_test(test_initial_keys_rfc),
		cmocka_unit_test(test_seal_client_initial_rfc),
		cmocka_unit_test(test_open_client_initial_rfc),
		cmocka_unit_test(test_server_initial_rfc),
		cmocka_unit_test(test_retry_rfc),
		cmocka_unit_test(test_hello_fields),
		cmocka_unit_test(test_hello_invalid),
		cmocka_unit_test(test_build_initial),
		cmocka_unit_test(test_build_initial_invalid),
		cmocka_unit_test(test_vn_ping),
		cmocka_unit_test(test_params_random),
		cmocka_unit_test(test_server_initial_ours),
		cmocka_unit_test(test_crypto_reassembly),
		cmocka_unit_test(test_connection_close),
		cmocka_unit_test(test_handshake_only),
		cmocka_unit_test(test_version_negotiation),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_frames_malformed),
		cmocka_unit_test(test_server_hello_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
