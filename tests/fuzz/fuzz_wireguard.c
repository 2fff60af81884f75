/*
 * fuzz_wireguard.c - ww_wg_parse_reply() on arbitrary bytes, against two
 * sets of our parameters (the registered peer's initiation and an unknown
 * key's, as in test_wireguard.c, so the seeds captured from wireguard-go
 * reach the handshake and the cookie's decryption), and the same bytes as
 * a base64 key. Besides the sanitizers' checks, abort() on any broken
 * promise of wireguard.h: a kind from the documented set matching the type
 * and length, "proves up" only as documented, no cookie unless it
 * decrypted, an error string exactly on -1, and a key that parses printing
 * back as the same 44 characters.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "wireguard.h"

static const char *const params_hex[2][3] = {
	/* static, ephemeral, timestamp */
	{"f8d23a64aa83c75a09d1740ab92801c1ac414fbe8fd55a978c3ec8e5ae6dd97d",
	 "a043a6e6c699a89c1a31b20d156e8d2b0a6f7903d2394071ce43b85f1c8c10c2",
	 "400000006b14f29501cff662"},
	{"4398ce0ffd795f1ead31a5fea8ab75c6343e2591900a2b8943d7effd924068c9",
	 "be3a87880c5a0dbd0fecc3dc46f09b6a2624272b1846e3ef497d283e71de72d1",
	 "400000006b14f2e51c7c0d39"},
};
static const uint32_t indexes[2] = {2651018142u, 0x0ad0fd48u};

static void
unhex(const char *s, unsigned char *out)
{
	for (size_t i = 0; s[2 * i] != '\0'; i++) {
		char b[3] = {s[2 * i], s[2 * i + 1], '\0'};

		out[i] = (unsigned char)strtoul(b, NULL, 16);
	}
}

static void
make_params(int which, struct ww_wg_params *p)
{
	char err[128];

	memset(p, 0, sizeof(*p));
	if (ww_wg_key_from_base64(
		    "9iH9FeR50L9hU9GzGrp/B/v5/ll+T+2FW8lDCIUdg1A=",
		    p->server_pub, err, sizeof(err)) != 0)
		abort();
	unhex(params_hex[which][0], p->static_priv);
	unhex(params_hex[which][1], p->ephemeral_priv);
	unhex(params_hex[which][2], p->timestamp);
	p->sender_index = indexes[which];
	p->registered = which == 0;
}

static void
check_reply(const uint8_t *data, size_t size, const struct ww_wg_params *p)
{
	static const size_t lens[] = {0, WW_WG_INITIATION_LEN,
				      WW_WG_RESPONSE_LEN,
				      WW_WG_COOKIE_REPLY_LEN};
	static const char *const kinds[] = {NULL, "handshake_initiation",
					    "handshake_response",
					    "cookie_reply", "transport_data"};
	struct ww_wg_reply r;
	char err[128];
	int rc;

	rc = ww_wg_parse_reply(data, size, p, &r, err, sizeof(err));
	if ((rc != 0 && rc != -1) || (rc == -1) != (err[0] != '\0'))
		abort();
	if (rc == -1) {
		if (r.kind != NULL || ww_wg_reply_proves_up(&r))
			abort();
		return;
	}
	if (r.type < 1 || r.type > 4 || r.type != data[0] || r.kind == NULL ||
	    strcmp(r.kind, kinds[r.type]) != 0)
		abort();
	if (r.type < 4 ? size != lens[r.type] : size < WW_WG_DATA_MIN_LEN)
		abort();
	if (ww_wg_reply_proves_up(&r) &&
	    !(r.answers_ours &&
	      ((r.type == 2 && r.mac1_ok) || (r.type == 3 && r.cookie_ok))))
		abort();
	if (r.answers_ours && r.receiver_index != p->sender_index)
		abort();
	if (r.type == 2 && r.verified && !(r.answers_ours && r.mac1_ok))
		abort();
	if (!r.cookie_ok)
		for (int i = 0; i < 16; i++)
			if (r.cookie[i] != 0)
				abort();
}

/* As a key: one that parses prints back as its trimmed self. */
static void
check_key(const uint8_t *data, size_t size)
{
	unsigned char key[WW_WG_KEY_LEN];
	char s[300], out[45], err[160];
	const char *b = s;
	int rc;

	if (size >= sizeof(s))
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	rc = ww_wg_key_from_base64(s, key, err, sizeof(err));
	if (rc == -1)
		return;
	if (rc != 0 || ww_wg_key_to_base64(key, out, sizeof(out)) != 0)
		abort();
	while (isspace((unsigned char)*b))
		b++;
	if (strncmp(b, out, 44) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ww_wg_params p[2];
	static int ready;

	if (!ready) {
		make_params(0, &p[0]);
		make_params(1, &p[1]);
		ready = 1;
	}
	check_reply(data, size, &p[0]);
	check_reply(data, size, &p[1]);
	check_key(data, size);
	return 0;
}
