/*
 * test_wireguard.c - the WireGuard initiation and reply parser against
 * bytes a real implementation exchanged with us. The vectors were captured
 * on loopback from Debian 12's wireguard-go 0.0.20220316 (keys made by
 * wireguard-tools' `wg genkey`; they are test keys, used nowhere else):
 * our initiation, built from the parameters below, drew each response, so
 * the initiation bytes here are ones the real server accepted and the
 * responses and cookie reply are its own. Then the malformed cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "wireguard.h"

/* wg genkey / wg pubkey output of the server and of the registered peer. */
#define SERVER_PRIV "cKshJ++c4UsieS8wiMvRf+cLPioDd7p+4ynVjhgrEW8="
#define SERVER_PUB "9iH9FeR50L9hU9GzGrp/B/v5/ll+T+2FW8lDCIUdg1A="
#define PEER_PRIV "+NI6ZKqDx1oJ0XQKuSgBwaxBT76P1VqXjD7I5a5t2X0="
#define PEER_PUB "N0kPM5KaRkxTt684GNSGumBE4I1hb+YMyXr/CqYW5zM="
#define PSK "nOBYkm/1k0aIlua+WnP6m+yv+EKp0F3PSIAiklXeL6A="

/* 1: the registered peer, no preshared key. */
#define V1_EPH                                                                 \
	"a043a6e6c699a89c1a31b20d156e8d2b0a6f7903d2394071ce43b85f1c8c10c2"
#define V1_INDEX 2651018142u
#define V1_TS "400000006b14f29501cff662"
#define V1_INIT                                                                 \
	"010000009e53039ea5a0050b033cd1be356b882cecb53869b401fb9de857b1498d200" \
	"2cd1a9fc95923a4cc8af29359eff29eb0fd7d89009f38a3dea48a50c8fd470a847c73" \
	"0142bfd2da99d40dea134f3bd44bf0d93080cd0e43b9f67a4d603977631abb0e13998" \
	"84e19792a9a9fe39b0f6c2488553ed48907c4b163b2be42bd8ae22e71000000000000" \
	"00000000000000000000"
#define V1_RESP                                                                 \
	"02000000d52cf0db9e53039e46ddc7727d5a8b032e3d3a33ec361e4a11d23ed9fff1f" \
	"5d4172cf9957f8084133de463c95095a3aa492aed17a39cc63b21e76a9428b72ce6e0" \
	"4a8f8d7580444300000000000000000000000000000000"

/* 2: the same peer after `wg set ... preshared-key`, PSK on both sides. */
#define V2_EPH                                                                 \
	"b2a727f1f495d1868f9bd109043aa540165bd50ca2e67e38ce7f3b266f3853d1"
#define V2_INDEX 3129244461u
#define V2_TS "400000006b14f2d91ad10a34"
#define V2_INIT                                                                 \
	"010000002d7b84bab07af997b65394b133716ff0a209a3a4a5b6e896854fd36dd11b4" \
	"c53ab7cff15eb1eb84c8d5416d4863ba6fc5ccba780bdc2bee02a91e8d631ca25afb6" \
	"d3ed1bfefde6605a357e7dad3abd2fc599942d82e62c9971f3a4b0ffb519fc32f8704" \
	"91b2a034cddc780c573793709717aacfbff162a391bc2387e07872331000000000000" \
	"00000000000000000000"
#define V2_RESP                                                                 \
	"02000000290ba09e2d7b84babe277247a7cdacdf72b01c430998e849f16088933f4cb" \
	"74b588c00fb271b511ca4b855f97db4f0f32d8fc85c6a1a0a55d804e9eb04d3b1cda3" \
	"b6b2214d77736700000000000000000000000000000000"

/* 3: the server under load (a flood of unknown keys): its cookie reply to
 * one of them, then the registered peer with MAC2 from that cookie. */
#define V3_FLOOD_STATIC                                                        \
	"4398ce0ffd795f1ead31a5fea8ab75c6343e2591900a2b8943d7effd924068c9"
#define V3_FLOOD_EPH                                                           \
	"be3a87880c5a0dbd0fecc3dc46f09b6a2624272b1846e3ef497d283e71de72d1"
#define V3_FLOOD_INDEX 0x0ad0fd48u
#define V3_FLOOD_TS "400000006b14f2e51c7c0d39"
#define V3_COOKIE_REPLY                                                         \
	"0300000048fdd00a84046a0a059fee038fc08a76f4ecb8ec7818e2520c5489122ef15" \
	"6ee5bdde160789727ef1ef4402b9f93c0b6ee6858a409823477b51c3cb3"
#define V3_COOKIE "b3ca208571624fb6dadbc93ef7053b07"
#define V3_EPH                                                                 \
	"dff8eb8a294b2f5cf39b06fe425bc45b9e134841e0590b225dca4f60ce79be4f"
#define V3_INDEX 0x4ace3f8eu
#define V3_TS "400000006b14f2e723230467"
#define V3_INIT                                                                 \
	"010000008e3fce4ace903a0ee6f5ddf5ff0e1fbe51ce89066285648d790e3415bdf2e" \
	"c9d21277b476432c9961fb4595210b1ba49ba877e6f7906f8754aaeaa2c6f94082040" \
	"90d42261fca8d3f3a524ed769b15d629483099407ac509f83594fd597e17a33289566" \
	"bc633fa0169dc8b7f0e717bb3f8e8872867de4e50b25fd517c1c40a836e557771268"  \
	"424e6cd88308007375a9c"
#define V3_RESP                                                                 \
	"02000000d1ca063d8e3fce4ab4743ec55f4ddcf1241a9c6ec03887fa484fad8947fba" \
	"f8f4f57956ddee0f11afa63cc2f67852bb464b87c75d5237372926697be204e99c49a" \
	"4b37e8ca7afd4100000000000000000000000000000000"

/* 4: wireguard-go initiating to the peer (its endpoint set to us). */
#define V4_INIT                                                                 \
	"010000007915fad6c1bb2a5e0ff23f347128967f9a828439eab709d92a12750029e58" \
	"70d5643422384333042dc0d162bd18e30f7911c8ae5b0c91978c124ecbb9e0135e80f" \
	"acb99c220550c59a8ca3a73f3ab817a891fa6efaff12117b9a452945090c71d2dc4fd" \
	"99f32e9d98811e251afcfac71cebb874a21752cf8b4bbfe9768dfd345000000000000" \
	"00000000000000000000"

static size_t
unhex(const char *s, unsigned char *out, size_t cap)
{
	size_t n = strlen(s) / 2;

	assert_true(strlen(s) % 2 == 0 && n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (unsigned char)v;
	}
	return n;
}

static void
b64(const char *s, unsigned char key[WW_WG_KEY_LEN])
{
	char err[128];

	assert_int_equal(ww_wg_key_from_base64(s, key, err, sizeof(err)), 0);
}

/* The parameters of vector 1, 2 or 3's registered initiation. */
static void
params_for(int v, struct ww_wg_params *p)
{
	memset(p, 0, sizeof(*p));
	b64(SERVER_PUB, p->server_pub);
	b64(PEER_PRIV, p->static_priv);
	p->registered = true;
	if (v == 1) {
		unhex(V1_EPH, p->ephemeral_priv, 32);
		p->sender_index = V1_INDEX;
		unhex(V1_TS, p->timestamp, 12);
	} else if (v == 2) {
		b64(PSK, p->psk);
		unhex(V2_EPH, p->ephemeral_priv, 32);
		p->sender_index = V2_INDEX;
		unhex(V2_TS, p->timestamp, 12);
	} else {
		unhex(V3_EPH, p->ephemeral_priv, 32);
		p->sender_index = V3_INDEX;
		unhex(V3_TS, p->timestamp, 12);
		p->has_cookie = true;
		unhex(V3_COOKIE, p->cookie, 16);
	}
}

static void
flood_params(struct ww_wg_params *p)
{
	memset(p, 0, sizeof(*p));
	b64(SERVER_PUB, p->server_pub);
	unhex(V3_FLOOD_STATIC, p->static_priv, 32);
	unhex(V3_FLOOD_EPH, p->ephemeral_priv, 32);
	p->sender_index = V3_FLOOD_INDEX;
	unhex(V3_FLOOD_TS, p->timestamp, 12);
}

static int
parse_hex(const char *hex, const struct ww_wg_params *p, struct ww_wg_reply *r)
{
	unsigned char buf[256];
	char err[128];
	size_t n = unhex(hex, buf, sizeof(buf));

	return ww_wg_parse_reply(buf, n, p, r, err, sizeof(err));
}

/* --- keys ---------------------------------------------------------------- */

static void
test_public_key_matches_wg(void **state)
{
	unsigned char priv[32], pub[32], want[32];

	(void)state;
	b64(SERVER_PRIV, priv);
	b64(SERVER_PUB, want);
	assert_int_equal(ww_wg_public_key(priv, pub), 0);
	assert_memory_equal(pub, want, 32);
	b64(PEER_PRIV, priv);
	b64(PEER_PUB, want);
	assert_int_equal(ww_wg_public_key(priv, pub), 0);
	assert_memory_equal(pub, want, 32);
}

static void
test_key_base64_round_trip(void **state)
{
	unsigned char key[32];
	char out[45];

	(void)state;
	b64(SERVER_PUB, key);
	assert_int_equal(ww_wg_key_to_base64(key, out, sizeof(out)), 0);
	assert_string_equal(out, SERVER_PUB);
	assert_int_equal(ww_wg_key_to_base64(key, out, 44), -1);
	/* Blanks around it (a key file's newline) are fine. */
	b64("  " PSK "\r\n", key);
	assert_int_equal(ww_wg_key_to_base64(key, out, sizeof(out)), 0);
	assert_string_equal(out, PSK);
}

static void
expect_bad_key(const char *s, const char *want_in_err)
{
	unsigned char key[32];
	char err[160];

	err[0] = '\0';
	assert_int_equal(ww_wg_key_from_base64(s, key, err, sizeof(err)), -1);
	if (strstr(err, want_in_err) == NULL)
		fail_msg("key \"%s\": error \"%s\" lacks \"%s\"",
			 s ? s : "NULL", err, want_in_err);
}

static void
test_key_base64_malformed(void **state)
{
	(void)state;
	expect_bad_key(NULL, "no key");
	expect_bad_key("", "this is 0 characters");
	/* One short, one long, no padding. */
	expect_bad_key("iH9FeR50L9hU9GzGrp/B/v5/ll+T+2FW8lDCIUdg1A=",
		       "this is 43");
	expect_bad_key("99iH9FeR50L9hU9GzGrp/B/v5/ll+T+2FW8lDCIUdg1A=",
		       "this is 45");
	expect_bad_key("9iH9FeR50L9hU9GzGrp/B/v5/ll+T+2FW8lDCIUdg1AA",
		       "ending in '='");
	/* base64url, a URL-decoded '+', a control byte. */
	expect_bad_key("9iH9FeR50L9hU9GzGrp_B/v5/ll+T+2FW8lDCIUdg1A=",
		       "character 20 ('_')");
	expect_bad_key("9iH9FeR50L9hU9GzGrp/B/v5/ll T+2FW8lDCIUdg1A=",
		       "character 28 is a space");
	expect_bad_key("9iH9FeR50L9hU9GzGrp/B/v5/ll\001T+2FW8lDCIUdg1A=",
		       "byte 0x01");
	expect_bad_key("9iH9FeR50L9hU9GzGrp/B/v5/ll+T+2FW8lDCIUdg1==",
		       "character 43 ('=')");
	/* 'B' = 1: a low bit the 32 bytes do not use. */
	expect_bad_key("9iH9FeR50L9hU9GzGrp/B/v5/ll+T+2FW8lDCIUdg1B=",
		       "not a canonical key");
}

static char *
write_tmp(const char *text, size_t len)
{
	char *path = strdup("/tmp/test_wireguard.XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void
test_key_file(void **state)
{
	unsigned char key[32], want[32];
	char err[256], big[300];
	char *path;

	(void)state;
	path = write_tmp(PEER_PRIV "\n", strlen(PEER_PRIV) + 1);
	assert_int_equal(ww_wg_key_from_file(path, key, err, sizeof(err)), 0);
	b64(PEER_PRIV, want);
	assert_memory_equal(key, want, 32);
	unlink(path);
	free(path);

	memset(big, ' ', sizeof(big));
	path = write_tmp(big, sizeof(big));
	assert_int_equal(ww_wg_key_from_file(path, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "over 256 bytes"));
	unlink(path);
	free(path);

	path = write_tmp(PEER_PRIV "\0", strlen(PEER_PRIV) + 1);
	assert_int_equal(ww_wg_key_from_file(path, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
	unlink(path);
	free(path);

	path = write_tmp("not a key\n", 10);
	assert_int_equal(ww_wg_key_from_file(path, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "44 base64 characters"));
	unlink(path);
	free(path);

	assert_int_equal(ww_wg_key_from_file("/nonexistent/wg.key", key, err,
					     sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "/nonexistent/wg.key"));
}

/* --- the initiation --------------------------------------------------------
 */

/* Our bytes are exactly those wireguard-go answered. */
static void
test_build_matches_accepted_initiations(void **state)
{
	static const char *const want[] = {V1_INIT, V2_INIT, V3_INIT};
	unsigned char out[WW_WG_INITIATION_LEN], exp[WW_WG_INITIATION_LEN];
	struct ww_wg_params p;

	(void)state;
	for (int v = 1; v <= 3; v++) {
		params_for(v, &p);
		assert_int_equal(ww_wg_build_initiation(&p, out, sizeof(out)),
				 WW_WG_INITIATION_LEN);
		unhex(want[v - 1], exp, sizeof(exp));
		assert_memory_equal(out, exp, sizeof(exp));
	}
}

static void
test_build_cap_and_bad_keys(void **state)
{
	unsigned char out[WW_WG_INITIATION_LEN + 1];
	struct ww_wg_params p;

	(void)state;
	params_for(1, &p);
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(
		ww_wg_build_initiation(&p, out, WW_WG_INITIATION_LEN - 1), -1);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0xa5);
	assert_int_equal(ww_wg_build_initiation(&p, out, sizeof(out)),
			 WW_WG_INITIATION_LEN);
	assert_int_equal(out[WW_WG_INITIATION_LEN], 0xa5);
	assert_int_equal(ww_wg_build_initiation(NULL, out, sizeof(out)), -1);
	/* A low-order server key (zero, or the order-8 point 1 = "AQAA..."):
	 * the DH result would be all zero, which WireGuard refuses. */
	memset(p.server_pub, 0, 32);
	assert_int_equal(ww_wg_build_initiation(&p, out, sizeof(out)), -1);
	p.server_pub[0] = 1;
	assert_int_equal(ww_wg_build_initiation(&p, out, sizeof(out)), -1);
}

static void
test_params_random(void **state)
{
	struct ww_wg_params a, b;
	unsigned char pk[32], out[WW_WG_INITIATION_LEN];

	(void)state;
	params_for(1, &a);
	b = a;
	assert_int_equal(ww_wg_params_random(&a), 0);
	assert_int_equal(ww_wg_params_random(&b), 0);
	/* A registered key stays; the per-initiation parts change. */
	b64(PEER_PRIV, pk);
	assert_memory_equal(a.static_priv, pk, 32);
	assert_memory_not_equal(a.ephemeral_priv, b.ephemeral_priv, 32);
	/* TAI64N: 2^62 + 10 + Unix seconds, so its top byte is 0x40. */
	assert_int_equal(a.timestamp[0], 0x40);
	assert_true(memcmp(a.timestamp, b.timestamp, 12) <= 0);
	a.registered = false;
	assert_int_equal(ww_wg_params_random(&a), 0);
	assert_memory_not_equal(a.static_priv, pk, 32);
	assert_int_equal(ww_wg_build_initiation(&a, out, sizeof(out)),
			 WW_WG_INITIATION_LEN);
	assert_int_equal(out[0], 1);
}

/* --- replies ---------------------------------------------------------------
 */

static void
test_response_verifies(void **state)
{
	struct ww_wg_params p;
	struct ww_wg_reply r;

	(void)state;
	params_for(1, &p);
	assert_int_equal(parse_hex(V1_RESP, &p, &r), 0);
	assert_string_equal(r.kind, "handshake_response");
	assert_int_equal(r.type, 2);
	assert_int_equal(r.receiver_index, V1_INDEX);
	assert_int_equal(r.sender_index, 0xdbf02cd5u);
	assert_true(r.answers_ours);
	assert_true(r.mac1_ok);
	assert_true(r.mac2_zero);
	assert_true(r.verified);
	assert_true(ww_wg_reply_proves_up(&r));

	/* Another index of ours: not our answer, though the MAC is fine. */
	p.sender_index++;
	assert_int_equal(parse_hex(V1_RESP, &p, &r), 0);
	assert_false(r.answers_ours);
	assert_true(r.mac1_ok);
	assert_false(r.verified);
	assert_false(ww_wg_reply_proves_up(&r));

	/* Another static key of ours: MAC1 is keyed with the peer's key. */
	params_for(1, &p);
	p.static_priv[5] ^= 1;
	assert_int_equal(parse_hex(V1_RESP, &p, &r), 0);
	assert_false(r.mac1_ok);
	assert_false(r.verified);
	assert_false(ww_wg_reply_proves_up(&r));

	/* Another ephemeral key: the response's MAC1 does not cover it, the
	 * Noise handshake does. */
	params_for(1, &p);
	p.ephemeral_priv[0] ^= 0x40;
	assert_int_equal(parse_hex(V1_RESP, &p, &r), 0);
	assert_true(r.mac1_ok);
	assert_false(r.verified);
}

static void
test_response_with_psk(void **state)
{
	struct ww_wg_params p;
	struct ww_wg_reply r;

	(void)state;
	params_for(2, &p);
	assert_int_equal(parse_hex(V2_RESP, &p, &r), 0);
	assert_true(r.answers_ours && r.mac1_ok && r.verified);
	/* Without the server's preshared key: up, but not verified. */
	memset(p.psk, 0, sizeof(p.psk));
	assert_int_equal(parse_hex(V2_RESP, &p, &r), 0);
	assert_true(r.answers_ours && r.mac1_ok);
	assert_false(r.verified);
	assert_true(ww_wg_reply_proves_up(&r));
}

static void
test_response_under_load_with_mac2(void **state)
{
	struct ww_wg_params p;
	struct ww_wg_reply r;

	(void)state;
	params_for(3, &p);
	assert_int_equal(parse_hex(V3_RESP, &p, &r), 0);
	assert_true(r.answers_ours && r.mac1_ok && r.verified);
}

/* Every bit of a response outside MAC2 matters. */
static void
test_response_every_byte_flipped(void **state)
{
	unsigned char buf[WW_WG_RESPONSE_LEN];
	struct ww_wg_params p;
	struct ww_wg_reply r;
	char err[128];

	(void)state;
	params_for(1, &p);
	for (size_t i = 0; i < sizeof(buf); i++) {
		unhex(V1_RESP, buf, sizeof(buf));
		buf[i] ^= 0x01;
		if (i < 4) {
			assert_int_equal(ww_wg_parse_reply(buf, sizeof(buf), &p,
							   &r, err,
							   sizeof(err)),
					 -1);
			continue;
		}
		assert_int_equal(ww_wg_parse_reply(buf, sizeof(buf), &p, &r,
						   err, sizeof(err)),
				 0);
		if (i < 76) {
			assert_false(r.mac1_ok);
			assert_false(ww_wg_reply_proves_up(&r));
		} else { /* MAC2: only the cookie's check, ours is none */
			assert_true(r.mac1_ok && r.verified);
			assert_false(r.mac2_zero);
		}
		if (i >= 12 && i < 60) /* ephemeral and empty box */
			assert_false(r.verified);
	}
}

static void
test_cookie_reply(void **state)
{
	unsigned char buf[WW_WG_COOKIE_REPLY_LEN], cookie[16];
	struct ww_wg_params p;
	struct ww_wg_reply r;
	char err[128];

	(void)state;
	flood_params(&p);
	assert_int_equal(parse_hex(V3_COOKIE_REPLY, &p, &r), 0);
	assert_string_equal(r.kind, "cookie_reply");
	assert_int_equal(r.type, 3);
	assert_int_equal(r.receiver_index, V3_FLOOD_INDEX);
	assert_true(r.answers_ours);
	assert_true(r.cookie_ok);
	unhex(V3_COOKIE, cookie, sizeof(cookie));
	assert_memory_equal(r.cookie, cookie, 16);
	assert_true(ww_wg_reply_proves_up(&r));

	/* Boxed to the MAC1 of another initiation: not ours. */
	params_for(3, &p);
	assert_int_equal(parse_hex(V3_COOKIE_REPLY, &p, &r), 0);
	assert_false(r.answers_ours);
	assert_false(r.cookie_ok);
	assert_false(ww_wg_reply_proves_up(&r));

	/* Same index, another initiation (say a retransmission): no cookie. */
	flood_params(&p);
	p.timestamp[11] ^= 1;
	assert_int_equal(parse_hex(V3_COOKIE_REPLY, &p, &r), 0);
	assert_true(r.answers_ours);
	assert_false(r.cookie_ok);
	assert_false(ww_wg_reply_proves_up(&r));

	/* Any bit of the nonce or the box. */
	flood_params(&p);
	for (size_t i = 8; i < sizeof(buf); i++) {
		unhex(V3_COOKIE_REPLY, buf, sizeof(buf));
		buf[i] ^= 0x80;
		assert_int_equal(ww_wg_parse_reply(buf, sizeof(buf), &p, &r,
						   err, sizeof(err)),
				 0);
		assert_false(r.cookie_ok);
		for (int k = 0; k < 16; k++)
			assert_int_equal(r.cookie[k], 0);
	}
}

static void
test_initiation_from_server(void **state)
{
	struct ww_wg_params p;
	struct ww_wg_reply r;

	(void)state;
	params_for(1, &p);
	assert_int_equal(parse_hex(V4_INIT, &p, &r), 0);
	assert_string_equal(r.kind, "handshake_initiation");
	assert_int_equal(r.type, 1);
	assert_int_equal(r.sender_index, 0xd6fa1579u);
	assert_true(r.mac1_ok);
	assert_true(r.mac2_zero);
	assert_true(r.verified);
	assert_false(r.answers_ours);
	assert_false(ww_wg_reply_proves_up(&r));
	/* Its static key is the server's: another expected server fails. */
	b64(PEER_PUB, p.server_pub);
	assert_int_equal(parse_hex(V4_INIT, &p, &r), 0);
	assert_true(r.mac1_ok);
	assert_false(r.verified);
}

static void
test_transport_data(void **state)
{
	unsigned char buf[64] = {4, 0, 0, 0};
	struct ww_wg_params p;
	struct ww_wg_reply r;
	char err[128];

	(void)state;
	params_for(1, &p);
	buf[4] = 0x9e; /* receiver V1_INDEX = 0x9e03539e, little-endian */
	buf[5] = 0x53;
	buf[6] = 0x03;
	buf[7] = 0x9e;
	buf[8] = 7;
	buf[15] = 1;
	assert_int_equal(ww_wg_parse_reply(buf, 32, &p, &r, err, sizeof(err)),
			 0);
	assert_string_equal(r.kind, "transport_data");
	assert_true(r.answers_ours);
	assert_true(r.counter == (1ULL << 56 | 7));
	assert_false(ww_wg_reply_proves_up(&r));
	assert_int_equal(
		ww_wg_parse_reply(buf, sizeof(buf), &p, &r, err, sizeof(err)),
		0);
	assert_int_equal(ww_wg_parse_reply(buf, 31, &p, &r, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "type 4 message of 31 bytes, transport data "
				 "is at least 32");
}

/* Every length but the right one of each fixed-size type is refused. */
static void
test_wrong_lengths(void **state)
{
	static const char *const msgs[] = {V4_INIT, V1_RESP, V3_COOKIE_REPLY};
	unsigned char buf[200];
	struct ww_wg_params p;
	struct ww_wg_reply r;
	char err[128];

	(void)state;
	flood_params(&p);
	for (int m = 0; m < 3; m++) {
		size_t n = unhex(msgs[m], buf, sizeof(buf));

		for (size_t len = 0; len <= n + 1; len++) {
			int rc = ww_wg_parse_reply(buf, len, &p, &r, err,
						   sizeof(err));

			if (len == n) {
				assert_int_equal(rc, 0);
				continue;
			}
			assert_int_equal(rc, -1);
			assert_true(err[0] != '\0');
			assert_null(r.kind);
			assert_false(ww_wg_reply_proves_up(&r));
		}
	}
	assert_int_equal(ww_wg_parse_reply(buf, 3, &p, &r, err, sizeof(err)),
			 -1);
	assert_string_equal(
		err, "truncated: 3 bytes, a message has a 4-byte header");
	unhex(V1_RESP, buf, sizeof(buf));
	assert_int_equal(ww_wg_parse_reply(buf, 91, &p, &r, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "type 2 message of 91 bytes, a handshake "
				 "response is 92");
}

static void
test_bad_header(void **state)
{
	unsigned char buf[WW_WG_RESPONSE_LEN];
	struct ww_wg_params p;
	struct ww_wg_reply r;
	char err[128];

	(void)state;
	params_for(1, &p);
	unhex(V1_RESP, buf, sizeof(buf));
	for (int t = 0; t < 256; t++) {
		buf[0] = (unsigned char)t;
		if (t == 2 ||
		    t == 4) /* 92 bytes of type 4 are transport data */
			continue;
		assert_int_equal(ww_wg_parse_reply(buf, sizeof(buf), &p, &r,
						   err, sizeof(err)),
				 -1);
	}
	buf[0] = 9;
	ww_wg_parse_reply(buf, sizeof(buf), &p, &r, err, sizeof(err));
	assert_string_equal(err, "type 9 is not a WireGuard message");
	buf[0] = 2;
	buf[3] = 0x10;
	assert_int_equal(
		ww_wg_parse_reply(buf, sizeof(buf), &p, &r, err, sizeof(err)),
		-1);
	assert_string_equal(err,
			    "type 2 with reserved bytes 00 00 10, not zero");
	/* No err buffer: still refused, nothing written. */
	assert_int_equal(ww_wg_parse_reply(buf, sizeof(buf), &p, &r, NULL, 0),
			 -1);
	assert_int_equal(
		ww_wg_parse_reply(buf, sizeof(buf), NULL, &r, err, sizeof(err)),
		-1);
	assert_string_equal(err, "no reply, parameters or result given");
	assert_int_equal(
		ww_wg_parse_reply(buf, sizeof(buf), &p, NULL, err, sizeof(err)),
		-1);
	assert_int_equal(ww_wg_parse_reply(NULL, 4, &p, &r, err, sizeof(err)),
			 -1);
}

static void
test_proves_up_null(void **state)
{
	struct ww_wg_reply r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_false(ww_wg_reply_proves_up(NULL));
	assert_false(ww_wg_reply_proves_up(&r));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_public_key_matches_wg),
		cmocka_unit_test(test_key_base64_round_trip),
		cmocka_unit_test(test_key_base64_malformed),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_build_matches_accepted_initiations),
		cmocka_unit_test(test_build_cap_and_bad_keys),
		cmocka_unit_test(test_params_random),
		cmocka_unit_test(test_response_verifies),
		cmocka_unit_test(test_response_with_psk),
		cmocka_unit_test(test_response_under_load_with_mac2),
		cmocka_unit_test(test_response_every_byte_flipped),
		cmocka_unit_test(test_cookie_reply),
		cmocka_unit_test(test_initiation_from_server),
		cmocka_unit_test(test_transport_data),
		cmocka_unit_test(test_wrong_lengths),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_proves_up_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
