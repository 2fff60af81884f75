/*
 * fuzz_openvpn.c - ww_openvpn_parse_reply() and ww_openvpn_key_parse() on
 * arbitrary bytes. The first byte picks the settings: bit 7 feeds the rest
 * to the key file parser instead (with bit 6 also, to the profile parser);
 * else bit 0 TCP, bits 1-2 the wrap (none,
 * tls-auth, tls-crypt), bits 3-4 the digest, bits 5-6 the key direction
 * (-1, 0, 1). Bytes 1-8 are our session id, the rest is the reply. The
 * keys are the unit test's throwaway keys, so the seeds (real replies of
 * Debian's OpenVPN 2.6.14) pass their HMACs. abort() on any broken promise
 * of openvpn.h: rc 0 or -1 with an error string exactly on -1, a kind from
 * the documented set exactly on 0, counts within their limits, the payload
 * inside buf or the reply's own buffer, answers_us only for our session id.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "openvpn.h"
#include "../unit/openvpn_keys.h"

static void
check_err(int rc, const char *err)
{
	if ((rc != 0 && rc != -1) || (rc == -1) != (err[0] != '\0') ||
	    memchr(err, '\0', 160) == NULL)
		abort();
}

static void
fuzz_key(const uint8_t *data, size_t size)
{
	struct ww_openvpn_key k;
	char err[160];
	int rc = ww_openvpn_key_parse((const char *)data, size, &k, err,
				      sizeof(err));

	check_err(rc, err);
	if (rc == 0 && k.n_keys != 1 && k.n_keys != 2)
		abort();
}

static void
fuzz_profile(const uint8_t *data, size_t size)
{
	struct ww_openvpn_profile pr;
	struct ww_openvpn_params p;
	char err[160];
	int rc = ww_openvpn_profile_parse((const char *)data, size, &pr, err,
					  sizeof(err));

	check_err(rc, err);
	if (rc != 0)
		return;
	if (pr.key_direction < -1 || pr.key_direction > 1 ||
	    pr.digest > WW_OPENVPN_SHA512 || pr.wrap > WW_OPENVPN_WRAP_CRYPT)
		abort();
	if (pr.wrap != WW_OPENVPN_WRAP_NONE && pr.key.n_keys != 1 &&
	    pr.key.n_keys != 2)
		abort();
	memset(&p, 0, sizeof(p));
	ww_openvpn_profile_apply(&pr, &p);
	if ((p.key != NULL) != (pr.wrap != WW_OPENVPN_WRAP_NONE))
		abort();
}

static bool
known_kind(const char *k)
{
	static const char *const kinds[] = {"server_reset", "server_reset_v1",
					    "soft_reset", "control", "ack"};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(k, kinds[i]) == 0)
			return true;
	return false;
}

static void
check_reply(const uint8_t *buf, size_t len, const struct ww_openvpn_params *p,
	    const struct ww_openvpn_reply *r)
{
	const unsigned char *pl = r->payload;
	bool in_buf = pl >= buf && pl + r->payload_len <= buf + len;
	bool in_plain = pl >= r->plain &&
			pl + r->payload_len <= r->plain + sizeof(r->plain);
	unsigned char out[128];

	if (r->kind == NULL || !known_kind(r->kind))
		abort();
	if (r->consumed == 0 || r->consumed > len ||
	    r->n_acks > WW_OPENVPN_MAX_ACKS || r->key_id > 7 || r->opcode > 31)
		abort();
	if (!in_buf && !in_plain)
		abort();
	if ((r->auth == WW_OPENVPN_AUTH_OK) !=
	    (p->wrap != WW_OPENVPN_WRAP_NONE))
		abort();
	if (r->answers_us &&
	    (!r->has_peer_sid ||
	     memcmp(r->peer_session_id, p->session_id, 8) != 0))
		abort();
	if (r->has_peer_sid != (r->n_acks > 0))
		abort();
	if (r->acks_reset && !r->answers_us)
		abort();
	if (ww_openvpn_reply_proves_up(r) && !r->answers_us)
		abort();
	/* Whatever parses can be acknowledged. */
	if (r->has_msg_pid &&
	    ww_openvpn_build_ack(p, r, 2, out, sizeof(out)) <= 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ww_openvpn_key ta, tc;
	static bool loaded;
	static struct ww_openvpn_reply r;
	struct ww_openvpn_params p;
	char err[160];
	int rc;

	if (!loaded) {
		if (ww_openvpn_key_parse(TA_KEY, strlen(TA_KEY), &ta, err,
					 sizeof(err)) != 0 ||
		    ww_openvpn_key_parse(TC_KEY, strlen(TC_KEY), &tc, err,
					 sizeof(err)) != 0)
			abort();
		loaded = true;
	}
	if (size < 1)
		return 0;
	if (data[0] & 0x80) {
		if (data[0] & 0x40)
			fuzz_profile(data + 1, size - 1);
		else
			fuzz_key(data + 1, size - 1);
		return 0;
	}
	if (size < 9)
		return 0;
	memset(&p, 0, sizeof(p));
	p.tcp = data[0] & 1;
	p.wrap = (enum ww_openvpn_wrap)((data[0] >> 1) & 3);
	if (p.wrap > WW_OPENVPN_WRAP_CRYPT)
		p.wrap = WW_OPENVPN_WRAP_NONE;
	p.key = p.wrap == WW_OPENVPN_WRAP_CRYPT ? &tc : &ta;
	p.digest = (enum ww_openvpn_digest)((data[0] >> 3) & 3);
	if (p.digest > WW_OPENVPN_SHA512)
		p.digest = WW_OPENVPN_SHA1;
	p.key_direction = (int)((data[0] >> 5) & 3) - 1;
	if (p.key_direction > 1)
		p.key_direction = 1;
	memcpy(p.session_id, data + 1, 8);
	rc = ww_openvpn_parse_reply(data + 9, size - 9, &p, &r, err,
				    sizeof(err));
	check_err(rc, err);
	if (rc == 0)
		check_reply(data + 9, size - 9, &p, &r);
	else if (r.kind != NULL || ww_openvpn_reply_proves_up(&r))
		abort();
	return 0;
}
