/*
 * test_openvpn.c - openvpn.c's builders and reply parser. The known
 * answers are real exchanges with Debian 12's OpenVPN 2.6.14 on loopback
 * (--dev null, --tls-server; see openvpn.h): the reset we sent (the server
 * answered it), the server's reset (signed or encrypted by OpenVPN itself,
 * so the HMAC order, key directions and tls-crypt's IV are checked against
 * the real implementation) and our ACK (the server stopped retransmitting).
 * The two keys are throwaway test keys made with `openvpn --genkey`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "openvpn.h"
#include "openvpn_keys.h"

/* One exchange with the real server. */
struct vec {
	const char *name;
	bool tcp;
	enum ww_openvpn_wrap wrap;
	const char *key;
	int dir;
	enum ww_openvpn_digest digest;
	const char *sent, *got, *ack; /* hex; ack may be NULL */
};

static const struct vec VECS[] = {
	{"udp", false, WW_OPENVPN_WRAP_NONE, NULL, 1, WW_OPENVPN_SHA1,
	 "3822fa2890fb1c18a40000000000",
	 "40fbd9fcf3ca740f41010000000022fa2890fb1c18a400000000",
	 "2822fa2890fb1c18a40100000000fbd9fcf3ca740f41"},
	{"udp tls-auth SHA1", false, WW_OPENVPN_WRAP_AUTH, TA_KEY, 1,
	 WW_OPENVPN_SHA1,
	 "38d6a542ed0de29366bb0d102ed86dc1e9537bb25a2ad6df35f70a416e000000016b1"
	 "4f2380000000000",
	 "40bf0895d3d2230c7ad3279fff5d4cd8a9eeebe5db3a0f006f9c5f0d37000000016b1"
	 "4f2380100000000d6a542ed0de2936600000000",
	 "28d6a542ed0de29366b06e03bea8bc51bf3744230393aa0642ba3379d4000000026b1"
	 "4f2380100000000bf0895d3d2230c7a"},
	{"udp tls-auth SHA256", false, WW_OPENVPN_WRAP_AUTH, TA_KEY, 1,
	 WW_OPENVPN_SHA256,
	 "385a9b5da4d86f1e6d8b7f4bae1cd1164b6268daaedad000c6973ea89a17c152d11a1"
	 "b9c745e4c6cc1000000016b14f2430000000000",
	 "405aca192d082074ebebf9454b0c8904738a7e3873b064be58e6c85b36f40f928d6f2"
	 "4f0fc99d7c4a1000000016b14f24301000000005a9b5da4d86f1e6d00000000",
	 "285a9b5da4d86f1e6d748251eda1092ca6e3a8bd45456313a65c68f319441798b68fa"
	 "1f480ab72a33c000000026b14f24301000000005aca192d082074eb"},
	{"udp tls-auth no direction", false, WW_OPENVPN_WRAP_AUTH, TA_KEY, -1,
	 WW_OPENVPN_SHA1,
	 "3809b01ed54e291a4ad03ab522a4e7f404331f9326ac8535f1832036fa000000016b1"
	 "4f2450000000000",
	 "406eeae4b8d58077d0df41011af3193319704f5908c6c82968f2e4cba3000000016b1"
	 "4f245010000000009b01ed54e291a4a00000000",
	 NULL},
	{"udp tls-crypt", false, WW_OPENVPN_WRAP_CRYPT, TC_KEY, 1,
	 WW_OPENVPN_SHA1,
	 "3862322ee6d38dd333000000016b14f25baf62fae6c9826becb7a5a3fae6d142441bb"
	 "fb0595f0f852bac0a29f29486d74afb83167a11",
	 "40739f2560c4fad1ca000000016b14f25b2aa9c392ecfa4ef31bb2ab42a7f2543d362"
	 "7457cd6cec5ae83e3e6cc1b927363d57bfd54493e0435e53451da83e597ed4d",
	 "2862322ee6d38dd333000000026b14f25bc42e5b984b89dc4162c9abc9ddddbde4be7"
	 "878d96c04bae23f8a59b56879b9cbbd5620958164cf11a77fbe55c1"},
	{"tcp", true, WW_OPENVPN_WRAP_NONE, NULL, 1, WW_OPENVPN_SHA1,
	 "000e3829f76f301b73d36a0000000000",
	 "001a408d21c7c37017741d010000000029f76f301b73d36a00000000",
	 "00162829f76f301b73d36a01000000008d21c7c37017741d"},
	{"tcp tls-auth SHA1", true, WW_OPENVPN_WRAP_AUTH, TA_KEY, 1,
	 WW_OPENVPN_SHA1,
	 "002a388f04512b747635b7a4183f6906f329938afcb92ab8189be8ad5983fe0000000"
	 "16b14f2740000000000",
	 "00364046c9a0dd052435257f85c48edd437b409e62db28519e75bb5f58a6db0000000"
	 "16b14f27501000000008f04512b747635b700000000",
	 "0032288f04512b747635b72d7a3368f64d89c52b3cf8c492b5eedc5e30fb7f0000000"
	 "26b14f274010000000046c9a0dd05243525"},
	{"tcp tls-crypt", true, WW_OPENVPN_WRAP_CRYPT, TC_KEY, 1,
	 WW_OPENVPN_SHA1,
	 "0036380acd7644bfee8c08000000016b14f280b2d1fd1216cf6db941ea44ed6ab073f"
	 "48673ece55e33be6b7348988033c02608d770de1c2e",
	 "004240676b054b2b79fa54000000016b14f2818f518dc26650002e4ebe5c255deee4d"
	 "cc751625a9b7b5bf48a60d958e32fb4e04024a1c4dea8dd2d6207a902edfde8a772",
	 "003e280acd7644bfee8c08000000026b14f280397bc38fff6a89fb833a90de439e0cc"
	 "9e30683e50e36c90da202e2764fb223b720baa2d9f6d472c8a5b3240081"},
};
#define N_VECS (sizeof(VECS) / sizeof(VECS[0]))

static size_t
unhex(const char *h, unsigned char *out, size_t cap)
{
	size_t n = strlen(h) / 2;

	assert_true(strlen(h) % 2 == 0 && n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (unsigned char)v;
	}
	return n;
}

static struct ww_openvpn_key ta_key, tc_key;

static int
load_keys(void **state)
{
	char err[128];

	(void)state;
	if (ww_openvpn_key_parse(TA_KEY, strlen(TA_KEY), &ta_key, err,
				 sizeof(err)) != 0 ||
	    ww_openvpn_key_parse(TC_KEY, strlen(TC_KEY), &tc_key, err,
				 sizeof(err)) != 0)
		return -1;
	return 0;
}

static size_t
digest_size(enum ww_openvpn_digest d)
{
	return d == WW_OPENVPN_SHA1 ? 20 : d == WW_OPENVPN_SHA256 ? 32 : 64;
}

/* The params of a vector: session id and timestamp from what we sent. */
static void
vec_params(const struct vec *v, struct ww_openvpn_params *p,
	   const unsigned char *sent)
{
	size_t pre = v->tcp ? 2 : 0, t = 0;

	memset(p, 0, sizeof(*p));
	p->tcp = v->tcp;
	p->wrap = v->wrap;
	p->key = v->wrap == WW_OPENVPN_WRAP_NONE ? NULL
		 : v->key == TA_KEY		 ? &ta_key
						 : &tc_key;
	p->key_direction = v->dir;
	p->digest = v->digest;
	memcpy(p->session_id, sent + pre + 1, WW_OPENVPN_SID_LEN);
	if (v->wrap == WW_OPENVPN_WRAP_AUTH)
		t = pre + 9 + digest_size(v->digest) + 4;
	else if (v->wrap == WW_OPENVPN_WRAP_CRYPT)
		t = pre + 9 + 4;
	if (t > 0)
		p->net_time = (uint32_t)sent[t] << 24 |
			      (uint32_t)sent[t + 1] << 16 |
			      (uint32_t)sent[t + 2] << 8 | sent[t + 3];
}

static void
test_known_exchanges(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_VECS; i++) {
		const struct vec *v = &VECS[i];
		unsigned char sent[256], got[256], ack[256], out[256];
		size_t ns = unhex(v->sent, sent, sizeof(sent));
		size_t ng = unhex(v->got, got, sizeof(got));
		size_t pre = v->tcp ? 2 : 0;
		struct ww_openvpn_params p;
		struct ww_openvpn_reply r;
		char err[160];
		ssize_t n;

		print_message("%s\n", v->name);
		vec_params(v, &p, sent);
		n = ww_openvpn_build_reset(&p, out, sizeof(out));
		assert_int_equal(n, (ssize_t)ns);
		assert_memory_equal(out, sent, ns);

		assert_int_equal(ww_openvpn_parse_reply(got, ng, &p, &r, err,
							sizeof(err)),
				 0);
		assert_string_equal(err, "");
		assert_string_equal(r.kind, "server_reset");
		assert_int_equal(r.opcode, WW_OPENVPN_HARD_RESET_SERVER_V2);
		assert_int_equal(r.key_id, 0);
		assert_int_equal(r.auth, v->wrap == WW_OPENVPN_WRAP_NONE
						 ? WW_OPENVPN_AUTH_NONE
						 : WW_OPENVPN_AUTH_OK);
		assert_memory_equal(r.session_id, got + pre + 1, 8);
		assert_int_equal(r.n_acks, 1);
		assert_int_equal(r.acks[0], 0);
		assert_true(r.has_peer_sid && r.answers_us && r.acks_reset);
		assert_true(r.has_msg_pid);
		assert_int_equal(r.msg_pid, 0);
		assert_int_equal(r.payload_len, 0);
		assert_int_equal(r.consumed, ng);
		if (v->wrap != WW_OPENVPN_WRAP_NONE)
			assert_int_equal(r.replay_pid, 1);
		assert_true(ww_openvpn_reply_proves_up(&r));

		if (v->ack == NULL)
			continue;
		n = ww_openvpn_build_ack(&p, &r, 2, out, sizeof(out));
		assert_int_equal(n, (ssize_t)unhex(v->ack, ack, sizeof(ack)));
		assert_memory_equal(out, ack, (size_t)n);
	}
}

/* Every strict prefix of a real reply is refused with a reason. */
static void
test_truncated_everywhere(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_VECS; i++) {
		const struct vec *v = &VECS[i];
		unsigned char sent[256], got[256];
		struct ww_openvpn_params p;
		struct ww_openvpn_reply r;
		size_t ng = unhex(v->got, got, sizeof(got));
		char err[160];

		unhex(v->sent, sent, sizeof(sent));
		vec_params(v, &p, sent);
		for (size_t len = 0; len < ng; len++) {
			unsigned char *cut = malloc(len ? len : 1);

			memcpy(cut, got, len);
			assert_int_equal(ww_openvpn_parse_reply(cut, len, &p,
								&r, err,
								sizeof(err)),
					 -1);
			assert_true(err[0] != '\0');
			assert_null(r.kind);
			assert_false(ww_openvpn_reply_proves_up(&r));
			free(cut);
		}
	}
}

/* With a wrap, any one flipped bit of the reply fails its check (or its
 * framing): nothing unauthenticated gets through. */
static void
test_bit_flips(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_VECS; i++) {
		const struct vec *v = &VECS[i];
		unsigned char sent[256], got[256];
		struct ww_openvpn_params p;
		struct ww_openvpn_reply r;
		size_t ng = unhex(v->got, got, sizeof(got));
		char err[160];

		if (v->wrap == WW_OPENVPN_WRAP_NONE)
			continue;
		unhex(v->sent, sent, sizeof(sent));
		vec_params(v, &p, sent);
		for (size_t b = 0; b < ng * 8; b++) {
			got[b / 8] ^= (unsigned char)(1u << (b % 8));
			assert_int_equal(ww_openvpn_parse_reply(got, ng, &p, &r,
								err,
								sizeof(err)),
					 -1);
			got[b / 8] ^= (unsigned char)(1u << (b % 8));
		}
	}
}

static void
parse_vec(size_t i, struct ww_openvpn_params *p, unsigned char *got, size_t *ng)
{
	unsigned char sent[256];

	unhex(VECS[i].sent, sent, sizeof(sent));
	vec_params(&VECS[i], p, sent);
	*ng = unhex(VECS[i].got, got, 256);
}

static void
test_wrong_key_settings(void **state)
{
	unsigned char got[256];
	struct ww_openvpn_params p;
	struct ww_openvpn_reply r;
	size_t ng;
	char err[160];

	(void)state;
	parse_vec(1, &p, got, &ng); /* udp tls-auth SHA1, direction 1 */
	p.key_direction = 0;
	assert_int_equal(
		ww_openvpn_parse_reply(got, ng, &p, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "HMAC does not verify"));
	/* Without a direction we check with key 0, as direction 1 does:
	 * the server (direction 0) signed with key 0. */
	p.key_direction = -1;
	assert_int_equal(
		ww_openvpn_parse_reply(got, ng, &p, &r, err, sizeof(err)), 0);
	p.key_direction = 1;
	p.key = &tc_key;
	assert_int_equal(
		ww_openvpn_parse_reply(got, ng, &p, &r, err, sizeof(err)), -1);
	p.key = &ta_key;
	p.digest = WW_OPENVPN_SHA256;
	assert_int_equal(
		ww_openvpn_parse_reply(got, ng, &p, &r, err, sizeof(err)), -1);
	p.digest = WW_OPENVPN_SHA1;
	assert_int_equal(
		ww_openvpn_parse_reply(got, ng, &p, &r, err, sizeof(err)), 0);

	parse_vec(4, &p, got, &ng); /* udp tls-crypt */
	p.key = &ta_key;
	assert_int_equal(
		ww_openvpn_parse_reply(got, ng, &p, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "tls-crypt tag does not verify"));
}

/* A well-formed server reset to someone else's session. */
static void
test_not_our_session(void **state)
{
	unsigned char got[256];
	struct ww_openvpn_params p;
	struct ww_openvpn_reply r;
	size_t ng;
	char err[160];

	(void)state;
	parse_vec(0, &p, got, &ng);
	p.session_id[7] ^= 1;
	assert_int_equal(
		ww_openvpn_parse_reply(got, ng, &p, &r, err, sizeof(err)), 0);
	assert_string_equal(r.kind, "server_reset");
	assert_false(r.answers_us);
	assert_false(r.acks_reset);
	assert_false(ww_openvpn_reply_proves_up(&r));
}

static const unsigned char SID[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static const unsigned char PEER[8] = {9, 9, 9, 9, 9, 9, 9, 9};

static void
plain_params(struct ww_openvpn_params *p, bool tcp)
{
	memset(p, 0, sizeof(*p));
	p->tcp = tcp;
	p->key_direction = 1;
	memcpy(p->session_id, SID, 8);
}

/* A "server" packet: built with the peer's session id as ours. */
static size_t
server_packet(const struct ww_openvpn_params *client,
	      const struct ww_openvpn_msg *m, unsigned char *out, size_t cap)
{
	struct ww_openvpn_params s = *client;
	ssize_t n;

	memcpy(s.session_id, PEER, 8);
	n = ww_openvpn_build(&s, m, out, cap);
	assert_true(n > 0);
	return (size_t)n;
}

static void
test_opcodes(void **state)
{
	struct ww_openvpn_params p;
	struct ww_openvpn_reply r;
	uint32_t acks[1] = {0};
	unsigned char out[128];
	char err[160];

	(void)state;
	plain_params(&p, false);
	for (unsigned op = 0; op < 32; op++) {
		struct ww_openvpn_msg m = {.opcode = op,
					   .acks = acks,
					   .n_acks = 1,
					   .peer_session_id = SID};
		size_t n = server_packet(&p, &m, out, sizeof(out));
		int rc = ww_openvpn_parse_reply(out, n, &p, &r, err,
						sizeof(err));
		const char *want = NULL;

		switch (op) {
		case 2:
			want = "server_reset_v1";
			break;
		case 3:
			want = "soft_reset";
			break;
		case 4:
			want = "control";
			break;
		case 5:
			want = "ack";
			break;
		case 8:
			want = "server_reset";
			break;
		case 1:
		case 7:
		case 10:
		case 11:
			assert_non_null(strstr(err, "client's"));
			break;
		case 6:
		case 9:
			assert_non_null(strstr(err, "data packet"));
			break;
		default:
			assert_non_null(strstr(err, "not an OpenVPN opcode"));
		}
		if (want == NULL) {
			assert_int_equal(rc, -1);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_string_equal(r.kind, want);
		assert_true(r.answers_us);
		assert_int_equal(r.has_msg_pid, op != 5);
		assert_true(ww_openvpn_reply_proves_up(&r));
	}
}

static void
test_ack_limits(void **state)
{
	struct ww_openvpn_params p;
	struct ww_openvpn_reply r;
	uint32_t acks[9] = {7, 6, 5, 4, 3, 2, 1, 0, 9};
	unsigned char out[128];
	char err[160];
	size_t n;
	struct ww_openvpn_msg m = {.opcode = WW_OPENVPN_ACK_V1,
				   .acks = acks,
				   .n_acks = 8,
				   .peer_session_id = SID};

	(void)state;
	plain_params(&p, false);
	n = server_packet(&p, &m, out, sizeof(out));
	assert_int_equal(n, 1 + 8 + 1 + 32 + 8);
	assert_int_equal(
		ww_openvpn_parse_reply(out, n, &p, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n_acks, 8);
	assert_int_equal(r.acks[7], 0);
	assert_false(r.has_msg_pid);

	/* The builder refuses a ninth ack; on the wire it is refused too. */
	m.n_acks = 9;
	assert_int_equal(ww_openvpn_build(&p, &m, out, sizeof(out)), -1);
	out[9] = 9;
	assert_int_equal(
		ww_openvpn_parse_reply(out, n, &p, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "limit of 8"));
	out[9] = 255;
	assert_int_equal(
		ww_openvpn_parse_reply(out, n, &p, &r, err, sizeof(err)), -1);

	/* An ack without acks answers nobody. */
	m.n_acks = 0;
	n = server_packet(&p, &m, out, sizeof(out));
	assert_int_equal(n, 10);
	assert_int_equal(
		ww_openvpn_parse_reply(out, n, &p, &r, err, sizeof(err)), 0);
	assert_false(r.has_peer_sid);
	assert_false(ww_openvpn_reply_proves_up(&r));
}

/* A key file with its two keys swapped: what the server sends with. */
static void
swapped(const struct ww_openvpn_key *k, struct ww_openvpn_key *s)
{
	*s = *k;
	memcpy(s->bytes, k->bytes + 128, 128);
	memcpy(s->bytes + 128, k->bytes, 128);
}

/* P_CONTROL_V1 with TLS bytes, through every wrap and both transports. */
static void
test_control_round_trip(void **state)
{
	static const unsigned char tls[] = {0x16, 0x03, 0x03, 0x00, 0x04,
					    0x02, 0x00, 0x00, 0x00};
	uint32_t acks[2] = {1, 0};
	struct ww_openvpn_msg m = {.opcode = WW_OPENVPN_CONTROL_V1,
				   .key_id = 0,
				   .acks = acks,
				   .n_acks = 2,
				   .peer_session_id = SID,
				   .msg_pid = 1,
				   .payload = tls,
				   .payload_len = sizeof(tls),
				   .replay_pid = 3};
	struct ww_openvpn_key tc_swapped;

	(void)state;
	swapped(&tc_key, &tc_swapped);
	for (int tcp = 0; tcp < 2; tcp++)
		for (int w = 0; w < 6; w++) {
			struct ww_openvpn_params p, s;
			struct ww_openvpn_reply r;
			unsigned char out[256];
			char err[160];
			ssize_t n;

			plain_params(&p, tcp);
			p.net_time = 0x6b14f2ff;
			if (w >= 1 && w <= 4) {
				p.wrap = WW_OPENVPN_WRAP_AUTH;
				p.key = &ta_key;
				p.digest = w == 1   ? WW_OPENVPN_SHA1
					   : w == 2 ? WW_OPENVPN_SHA256
						    : WW_OPENVPN_SHA512;
				p.key_direction = w == 4 ? -1 : 1;
			} else if (w == 5) {
				p.wrap = WW_OPENVPN_WRAP_CRYPT;
				p.key = &tc_key;
			}
			s = p;
			memcpy(s.session_id, PEER, 8);
			if (w >= 1 && w <= 3)
				s.key_direction = 0;
			if (w == 5)
				s.key = &tc_swapped;
			n = ww_openvpn_build(&s, &m, out, sizeof(out));
			assert_true(n > 0);
			assert_int_equal(ww_openvpn_parse_reply(out, (size_t)n,
								&p, &r, err,
								sizeof(err)),
					 0);
			assert_string_equal(r.kind, "control");
			assert_memory_equal(r.session_id, PEER, 8);
			assert_int_equal(r.n_acks, 2);
			assert_int_equal(r.acks[0], 1);
			assert_true(r.answers_us && r.acks_reset);
			assert_int_equal(r.msg_pid, 1);
			assert_int_equal(r.payload_len, sizeof(tls));
			assert_memory_equal(r.payload, tls, sizeof(tls));
			if (w > 0) {
				assert_int_equal(r.replay_pid, 3);
				assert_int_equal(r.net_time, 0x6b14f2ff);
			}
			/* The client's own packet does not verify as the
			 * server's (the directions differ)... */
			if (w != 0 && w != 4) {
				n = ww_openvpn_build(&p, &m, out, sizeof(out));
				assert_int_equal(ww_openvpn_parse_reply(
							 out, (size_t)n, &p, &r,
							 err, sizeof(err)),
						 -1);
			}
		}
}

static void
test_tcp_frames(void **state)
{
	struct ww_openvpn_params p;
	struct ww_openvpn_reply r;
	unsigned char two[128] = {0};
	char err[160];
	size_t n;
	struct ww_openvpn_msg m = {.opcode = WW_OPENVPN_HARD_RESET_SERVER_V2,
				   .acks = (const uint32_t[]){0},
				   .n_acks = 1,
				   .peer_session_id = SID};

	(void)state;
	plain_params(&p, true);
	assert_int_equal(ww_openvpn_tcp_frame_len(two, 0), 0);
	assert_int_equal(ww_openvpn_tcp_frame_len(two, 1), 0);
	n = server_packet(&p, &m, two, sizeof(two));
	assert_int_equal(n, 28);
	assert_int_equal(ww_openvpn_tcp_frame_len(two, 2), 28);
	/* Two frames back to back: the first is parsed, consumed says so. */
	memcpy(two + n, two, n);
	assert_int_equal(
		ww_openvpn_parse_reply(two, 2 * n, &p, &r, err, sizeof(err)),
		0);
	assert_int_equal(r.consumed, 28);
	assert_int_equal(ww_openvpn_parse_reply(two + r.consumed, n, &p, &r,
						err, sizeof(err)),
			 0);
	/* A frame of length 0, and one longer than what came. */
	two[0] = two[1] = 0;
	assert_int_equal(
		ww_openvpn_parse_reply(two, n, &p, &r, err, sizeof(err)), -1);
	assert_string_equal(err, "TCP frame of length 0");
	two[0] = 0xff;
	assert_int_equal(
		ww_openvpn_parse_reply(two, n, &p, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "the TCP frame says 65280 bytes"));
	/* A frame shorter than its packet: the packet is cut. */
	two[0] = 0;
	two[1] = 20;
	assert_int_equal(
		ww_openvpn_parse_reply(two, n, &p, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "truncated"));
}

static void
test_key_parse(void **state)
{
	struct ww_openvpn_key k;
	char err[160], buf[4096];
	const char *body = strstr(TA_KEY, "-----BEGIN");
	const char *end = strstr(TA_KEY, "-----END");

	(void)state;
	assert_int_equal(ta_key.n_keys, 2);
	assert_int_equal(ta_key.bytes[0], 0x82);
	assert_int_equal(ta_key.bytes[64], 0x79);
	assert_int_equal(ta_key.bytes[255], 0x1c);

	/* Inline in an .ovpn profile, CRLF line ends, indented. */
	snprintf(buf, sizeof(buf),
		 "client\r\nremote vpn.example 1194\r\n"
		 "<tls-auth>\r\n");
	for (const char *c = body; *c; c++) {
		size_t l = strlen(buf);

		if (*c == '\n') {
			buf[l] = '\r';
			buf[l + 1] = '\n';
			buf[l + 2] = ' ';
			buf[l + 3] = '\0';
		} else {
			buf[l] = *c;
			buf[l + 1] = '\0';
		}
	}
	strcat(buf, "</tls-auth>\r\nkey-direction 1\r\n");
	assert_int_equal(
		ww_openvpn_key_parse(buf, strlen(buf), &k, err, sizeof(err)),
		0);
	assert_memory_equal(k.bytes, ta_key.bytes, 256);

	/* One key (128 bytes): tls-auth without a direction only. */
	snprintf(buf, sizeof(buf), "%.*s%.*s",
		 (int)(strchr(body, '\n') + 1 - body), body, 8 * 33,
		 strchr(body, '\n') + 1);
	strcat(buf, end);
	assert_int_equal(
		ww_openvpn_key_parse(buf, strlen(buf), &k, err, sizeof(err)),
		0);
	assert_int_equal(k.n_keys, 1);

	/* The failures, each with its reason. */
	struct {
		const char *text, *why;
	} bad[] = {
		{"", "no \"-----BEGIN"},
		{"just some text\n", "no \"-----BEGIN"},
		{"-----BEGIN OpenVPN Static key V1-----\n00\n",
		 "no \"-----END"},
		{"-----BEGIN OpenVPN Static key V1-----\n0g\n", "0x67"},
		{"-----BEGIN OpenVPN Static key V1-----\n00112\n-----END "
		 "OpenVPN Static key V1-----\n",
		 "odd number"},
		{"-----BEGIN OpenVPN Static key V1-----\n0011\n-----END "
		 "OpenVPN Static key V1-----\n",
		 "2 bytes of key"},
		{"-----BEGIN OpenVPN Static key V2-----\n00\n",
		 "no \"-----BEGIN"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ww_openvpn_key_parse(bad[i].text,
						      strlen(bad[i].text), &k,
						      err, sizeof(err)),
				 -1);
		assert_non_null(strstr(err, bad[i].why));
	}

	/* 257 bytes; a key with a NUL inside; text over the limit. */
	snprintf(buf, sizeof(buf), "%.*s00\n%s", (int)(end - TA_KEY), TA_KEY,
		 end);
	assert_int_equal(
		ww_openvpn_key_parse(buf, strlen(buf), &k, err, sizeof(err)),
		-1);
	assert_non_null(strstr(err, "more than 256 bytes"));
	/* ...and the part read before the error is wiped. */
	assert_int_equal(k.n_keys, 0);
	for (size_t i = 0; i < sizeof(k.bytes); i++)
		assert_int_equal(k.bytes[i], 0);
	memcpy(buf, TA_KEY, sizeof(TA_KEY));
	buf[strlen("#\n# 2048 bit OpenVPN static key\n#\n-----BEGIN OpenVPN "
		   "Static key V1-----\n") +
	    3] = '\0';
	assert_int_equal(ww_openvpn_key_parse(buf, sizeof(TA_KEY) - 1, &k, err,
					      sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "NUL"));
	assert_int_equal(ww_openvpn_key_parse(TA_KEY,
					      WW_OPENVPN_KEY_TEXT_MAX + 1, &k,
					      err, sizeof(err)),
			 -1);
}

/* A provider's profile: the key inline, its settings as directives. */
static void
profile_text(char *buf, size_t cap, const char *head, const char *tag,
	     const char *key, const char *tail)
{
	snprintf(buf, cap,
		 "client\ndev tun\nproto udp\nremote vpn.example 1194\n%s"
		 "<ca>\n-----BEGIN CERTIFICATE-----\nauth MD5\n"
		 "-----END CERTIFICATE-----\n</ca>\n<%s>\n%s</%s>\n%s",
		 head, tag, strstr(key, "-----BEGIN"), tag, tail);
}

static void
test_profile(void **state)
{
	struct ww_openvpn_profile pr;
	struct ww_openvpn_params p;
	struct ww_openvpn_reply r;
	unsigned char got[256];
	static char buf[8192];
	char err[200];
	size_t ng;

	(void)state;
	/* tls-auth with SHA256 and direction 1: the real SHA256 reply
	 * verifies with what the profile says ("auth MD5" inside <ca> is
	 * not read). */
	profile_text(buf, sizeof(buf), "auth SHA256\nkey-direction 1\n",
		     "tls-auth", TA_KEY, "verb 3\n");
	assert_int_equal(ww_openvpn_profile_parse(buf, strlen(buf), &pr, err,
						  sizeof(err)),
			 0);
	assert_int_equal(pr.wrap, WW_OPENVPN_WRAP_AUTH);
	assert_int_equal(pr.key_direction, 1);
	assert_int_equal(pr.digest, WW_OPENVPN_SHA256);
	assert_memory_equal(pr.key.bytes, ta_key.bytes, 256);
	parse_vec(2, &p, got, &ng);
	p.wrap = WW_OPENVPN_WRAP_NONE;
	p.digest = WW_OPENVPN_SHA1;
	ww_openvpn_profile_apply(&pr, &p);
	assert_int_equal(
		ww_openvpn_parse_reply(got, ng, &p, &r, err, sizeof(err)), 0);

	/* The direction on the tls-auth line; the digest's default. */
	profile_text(buf, sizeof(buf), "tls-auth [inline] 1\n", "tls-auth",
		     TA_KEY, "");
	assert_int_equal(ww_openvpn_profile_parse(buf, strlen(buf), &pr, err,
						  sizeof(err)),
			 0);
	assert_int_equal(pr.key_direction, 1);
	assert_int_equal(pr.digest, WW_OPENVPN_SHA1);

	/* tls-crypt: the real reply verifies. */
	profile_text(buf, sizeof(buf), "", "tls-crypt", TC_KEY, "");
	assert_int_equal(ww_openvpn_profile_parse(buf, strlen(buf), &pr, err,
						  sizeof(err)),
			 0);
	assert_int_equal(pr.wrap, WW_OPENVPN_WRAP_CRYPT);
	parse_vec(4, &p, got, &ng);
	ww_openvpn_profile_apply(&pr, &p);
	assert_int_equal(
		ww_openvpn_parse_reply(got, ng, &p, &r, err, sizeof(err)), 0);

	/* No wrap at all. */
	snprintf(buf, sizeof(buf), "client\nremote a 1\n# tls-auth x 1\n");
	assert_int_equal(ww_openvpn_profile_parse(buf, strlen(buf), &pr, err,
						  sizeof(err)),
			 0);
	assert_int_equal(pr.wrap, WW_OPENVPN_WRAP_NONE);
	ww_openvpn_profile_apply(&pr, &p);
	assert_null(p.key);

	struct {
		const char *head, *tag, *tail, *why;
	} bad[] = {
		{"tls-auth ta.key 1\n", "ca", "", "names the file ta.key"},
		{"", "tls-crypt-v2", "", "tls-crypt-v2 needs"},
		{"auth MD5\n", "tls-auth", "", "auth MD5 is not"},
		{"key-direction 2\n", "tls-auth", "", "key-direction is not"},
		{"tls-auth [inline] x\n", "tls-auth", "", "direction is not"},
		{"", "tls-auth", "<tls-crypt>\n", "not closed"},
		{"", "tls-auth", "<ca>\nabc\n", "<ca> is not closed"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		profile_text(buf, sizeof(buf), bad[i].head, bad[i].tag, TA_KEY,
			     bad[i].tail);
		assert_int_equal(ww_openvpn_profile_parse(buf, strlen(buf), &pr,
							  err, sizeof(err)),
				 -1);
		print_message("%s\n", err);
		assert_non_null(strstr(err, bad[i].why));
	}
	/* Odd bytes of a profile do not reach the error message. */
	snprintf(buf, sizeof(buf), "auth \x01MD5\xff\n");
	assert_int_equal(ww_openvpn_profile_parse(buf, strlen(buf), &pr, err,
						  sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "auth ?MD5? is not"));
	/* Two keys; a broken key inside its block. */
	profile_text(buf, sizeof(buf), "", "tls-auth", TA_KEY, "");
	strcat(buf, "<tls-crypt>\n");
	strcat(buf, TC_KEY);
	strcat(buf, "</tls-crypt>\n");
	assert_int_equal(ww_openvpn_profile_parse(buf, strlen(buf), &pr, err,
						  sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "a second control-channel key"));
	snprintf(buf, sizeof(buf),
		 "<tls-auth>\n-----BEGIN OpenVPN Static key V1-----\nzz\n"
		 "-----END OpenVPN Static key V1-----\n</tls-auth>\n");
	assert_int_equal(ww_openvpn_profile_parse(buf, strlen(buf), &pr, err,
						  sizeof(err)),
			 -1);
	assert_non_null(strstr(
		err, "in the <tls-auth> block opened at line 1: key line 2"));
}

/* Every cap below the length fails without writing past it. */
static void
test_build_limits(void **state)
{
	struct ww_openvpn_params p;
	struct ww_openvpn_key one;
	unsigned char out[300];
	char err[160];
	ssize_t full;

	(void)state;
	plain_params(&p, true);
	p.wrap = WW_OPENVPN_WRAP_CRYPT;
	p.key = &tc_key;
	full = ww_openvpn_build_reset(&p, out, sizeof(out));
	assert_int_equal(full, 56);
	for (size_t cap = 0; cap < (size_t)full; cap++) {
		memset(out, 0xee, sizeof(out));
		assert_int_equal(ww_openvpn_build_reset(&p, out, cap), -1);
		for (size_t j = cap; j < sizeof(out); j++)
			assert_int_equal(out[j], 0xee);
	}

	/* Sizes of the reset. */
	plain_params(&p, false);
	assert_int_equal(ww_openvpn_build_reset(&p, out, sizeof(out)), 14);
	p.wrap = WW_OPENVPN_WRAP_AUTH;
	p.key = &ta_key;
	assert_int_equal(ww_openvpn_build_reset(&p, out, sizeof(out)), 42);
	p.digest = WW_OPENVPN_SHA256;
	assert_int_equal(ww_openvpn_build_reset(&p, out, sizeof(out)), 54);
	p.digest = WW_OPENVPN_SHA512;
	assert_int_equal(ww_openvpn_build_reset(&p, out, sizeof(out)), 86);
	p.wrap = WW_OPENVPN_WRAP_CRYPT;
	assert_int_equal(ww_openvpn_build_reset(&p, out, sizeof(out)), 54);

	/* Invalid parameters. */
	p.key = NULL;
	assert_int_equal(ww_openvpn_build_reset(&p, out, sizeof(out)), -1);
	assert_int_equal(ww_openvpn_parse_reply(out, 14, &p,
						&(struct ww_openvpn_reply){0},
						err, sizeof(err)),
			 -1);
	p.wrap = WW_OPENVPN_WRAP_AUTH;
	p.key = &ta_key;
	p.key_direction = 2;
	assert_int_equal(ww_openvpn_build_reset(&p, out, sizeof(out)), -1);
	p.key_direction = -2;
	assert_int_equal(ww_openvpn_build_reset(&p, out, sizeof(out)), -1);
	p.key_direction = 1;
	p.digest = (enum ww_openvpn_digest)7;
	assert_int_equal(ww_openvpn_build_reset(&p, out, sizeof(out)), -1);
	p.digest = WW_OPENVPN_SHA1;
	one = ta_key;
	one.n_keys = 1;
	p.key = &one;
	assert_int_equal(ww_openvpn_build_reset(&p, out, sizeof(out)), -1);
	p.key_direction = -1;
	assert_int_equal(ww_openvpn_build_reset(&p, out, sizeof(out)), 42);
	p.wrap = WW_OPENVPN_WRAP_CRYPT;
	assert_int_equal(ww_openvpn_build_reset(&p, out, sizeof(out)), -1);

	plain_params(&p, false);
	struct ww_openvpn_msg m = {.opcode = 32};
	assert_int_equal(ww_openvpn_build(&p, &m, out, sizeof(out)), -1);
	m.opcode = 4;
	m.key_id = 8;
	assert_int_equal(ww_openvpn_build(&p, &m, out, sizeof(out)), -1);
	m.key_id = 0;
	m.n_acks = 1; /* no ack array, no peer session id */
	assert_int_equal(ww_openvpn_build(&p, &m, out, sizeof(out)), -1);
	m.n_acks = 0;
	m.payload_len = 5; /* no payload pointer */
	assert_int_equal(ww_openvpn_build(&p, &m, out, sizeof(out)), -1);
	m.payload_len = 0;
	assert_int_equal(ww_openvpn_build(&p, &m, out, sizeof(out)), 14);

	/* An ACK of an ACK. */
	struct ww_openvpn_reply ack = {.kind = "ack", .opcode = 5};
	assert_int_equal(ww_openvpn_build_ack(&p, &ack, 2, out, sizeof(out)),
			 -1);
}

static void
test_probes(void **state)
{
	struct ww_openvpn_params p;
	unsigned char reset[64], out[2100];

	(void)state;
	plain_params(&p, false);
	for (size_t i = 0; i < sizeof(p.noise); i++)
		p.noise[i] = (unsigned char)(i * 7);
	p.tcp = true;
	assert_int_equal(ww_openvpn_build_reset(&p, reset, sizeof(reset)), 16);
	p.tcp = false; /* the probes are TCP whatever p says */
	assert_int_equal(ww_openvpn_build_probe(&p, WW_OPENVPN_PROBE_RESET, out,
						sizeof(out)),
			 16);
	assert_memory_equal(out, reset, 16);
	assert_int_equal(ww_openvpn_build_probe(&p,
						WW_OPENVPN_PROBE_RESET_SHORT,
						out, sizeof(out)),
			 15);
	assert_memory_equal(out, reset, 15);
	assert_int_equal(out[1], 14); /* still promises 14 bytes */
	assert_int_equal(ww_openvpn_build_probe(&p, WW_OPENVPN_PROBE_OVERSIZE,
						out, sizeof(out)),
			 2000);
	assert_int_equal(out[0] << 8 | out[1], 1998);
	assert_memory_equal(out + 2, p.noise, 1998);
	assert_int_equal(ww_openvpn_build_probe(&p, WW_OPENVPN_PROBE_OVERSIZE,
						out, 1999),
			 -1);
	assert_int_equal(ww_openvpn_build_probe(&p, (enum ww_openvpn_probe)9,
						out, sizeof(out)),
			 -1);
}

static void
test_params_random(void **state)
{
	struct ww_openvpn_params a, b;
	static const unsigned char zero[8];

	(void)state;
	assert_int_equal(ww_openvpn_params_random(&a), 0);
	assert_int_equal(ww_openvpn_params_random(&b), 0);
	assert_memory_not_equal(a.session_id, zero, 8);
	assert_memory_not_equal(a.session_id, b.session_id, 8);
	assert_memory_not_equal(a.noise, b.noise, sizeof(a.noise));
	assert_int_equal(a.key_direction, 1);
	assert_int_equal(a.wrap, WW_OPENVPN_WRAP_NONE);
	assert_true(a.net_time > 1700000000u);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(ww_openvpn_opcode_name(7),
			    "P_CONTROL_HARD_RESET_CLIENT_V2");
	assert_string_equal(ww_openvpn_opcode_name(5), "P_ACK_V1");
	assert_string_equal(ww_openvpn_opcode_name(0), "unknown");
	assert_string_equal(ww_openvpn_opcode_name(12), "unknown");
	assert_string_equal(ww_openvpn_opcode_name(999), "unknown");
	assert_false(ww_openvpn_reply_proves_up(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_exchanges),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_wrong_key_settings),
		cmocka_unit_test(test_not_our_session),
		cmocka_unit_test(test_opcodes),
		cmocka_unit_test(test_ack_limits),
		cmocka_unit_test(test_control_round_trip),
		cmocka_unit_test(test_tcp_frames),
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_profile),
		cmocka_unit_test(test_build_limits),
		cmocka_unit_test(test_probes),
		cmocka_unit_test(test_params_random),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, load_keys, NULL);
}
