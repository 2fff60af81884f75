/*
 * target_vpn.c - the query of a VPN or QUIC endpoint's input.
 *
 *   openvpn://host:port?transport=udp|tcp&wrap=tls-auth|tls-crypt
 *                      &auth=sha1|sha256|sha512&key-direction=0|1&key=PATH
 *   wireguard://host:port?pubkey=BASE64&key=PATH
 *   ikev2://host[:port]          quic://host[:port]      (no parameters)
 *
 * Test lists are written by people and fetched from elsewhere, so every
 * rejection names the parameter; unknown parameters are refused rather
 * than ignored (a typo in "transport" must not turn a TCP target into a
 * UDP one). key= names a file on the probe's host: testlist.c refuses it
 * in a list (a list from elsewhere must not make the probe read its files).
 */
#include "target_vpn.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "util.h"

enum param {
	P_TRANSPORT,
	P_WRAP,
	P_AUTH,
	P_KEY_DIRECTION,
	P_KEY,
	P_PUBKEY,
	P_COUNT
};

static const char *const param_names[P_COUNT] = {
	"transport", "wrap", "auth", "key-direction", "key", "pubkey",
};

/* The parameters kind k takes, as a bit set of enum param, and in words. */
static unsigned
params_of(enum ww_target_kind k, const char **words)
{
	switch (k) {
	case WW_TARGET_OPENVPN:
		*words = "transport, wrap, auth, key-direction, key";
		return 1u << P_TRANSPORT | 1u << P_WRAP | 1u << P_AUTH |
		       1u << P_KEY_DIRECTION | 1u << P_KEY;
	case WW_TARGET_WIREGUARD:
		*words = "pubkey, key";
		return 1u << P_PUBKEY | 1u << P_KEY;
	default:
		*words = "none";
		return 0;
	}
}

/*
 * Percent-decode s[0..n) (a base64 key's "+", "/" and "=" may come encoded
 * or not; "+" is a plus, never a space: this is a URL, not a form). NULL
 * when a "%" is not followed by two hex digits or the result holds a
 * control character or NUL.
 */
static char *
pct_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= n || ww_hexval(s[i + 1]) < 0 ||
			    ww_hexval(s[i + 2]) < 0) {
				free(out);
				return NULL;
			}
			c = ww_hexval(s[i + 1]) * 16 + ww_hexval(s[i + 2]);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f) {
			free(out);
			return NULL;
		}
		out[k++] = (char)c;
	}
	out[k] = '\0';
	return out;
}

static int
find_param(const char *name, size_t n)
{
	for (int p = 0; p < P_COUNT; p++)
		if (strlen(param_names[p]) == n &&
		    strncmp(name, param_names[p], n) == 0)
			return p;
	return -1;
}

/* A WireGuard key as wg(8) writes it: base64 of exactly 32 bytes. */
static bool
is_wg_key(const char *v)
{
	size_t len = 0;
	unsigned char *raw = ww_base64_decode(v, strlen(v), 44, &len);
	bool ok = raw != NULL && len == 32;

	free(raw);
	return ok;
}

/* Check one value and store it in t. */
static int
take_value(struct ww_target *t, int p, const char *v, char *err, size_t errlen)
{
	switch (p) {
	case P_TRANSPORT:
		if (strcmp(v, "udp") != 0 && strcmp(v, "tcp") != 0)
			goto bad;
		t->udp = strcmp(v, "udp") == 0;
		return 0;
	case P_WRAP:
		if (strcmp(v, "tls-auth") == 0)
			t->wrap = WW_OVPN_WRAP_TLS_AUTH;
		else if (strcmp(v, "tls-crypt") == 0)
			t->wrap = WW_OVPN_WRAP_TLS_CRYPT;
		else
			goto bad;
		return 0;
	case P_AUTH:
		if (strcmp(v, "sha1") != 0 && strcmp(v, "sha256") != 0 &&
		    strcmp(v, "sha512") != 0)
			goto bad;
		t->auth = xstrdup(v);
		return 0;
	case P_KEY_DIRECTION:
		if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
			goto bad;
		t->key_direction = v[0] - '0';
		return 0;
	case P_KEY:
		if (v[0] == '\0')
			goto bad;
		t->key_file = xstrdup(v);
		return 0;
	case P_PUBKEY:
		if (!is_wg_key(v))
			goto bad;
		t->pubkey = xstrdup(v);
		return 0;
	default:
		break;
	}
bad:
	switch (p) {
	case P_TRANSPORT:
		snprintf(err, errlen, "transport must be udp or tcp");
		break;
	case P_WRAP:
		snprintf(err, errlen, "wrap must be tls-auth or tls-crypt");
		break;
	case P_AUTH:
		snprintf(err, errlen, "auth must be sha1, sha256 or sha512");
		break;
	case P_KEY_DIRECTION:
		snprintf(err, errlen, "key-direction must be 0 or 1");
		break;
	case P_KEY:
		snprintf(err, errlen, "key must name a file");
		break;
	default:
		snprintf(err, errlen,
			 "pubkey is not a WireGuard key (base64 of 32 bytes, "
			 "as wg(8) prints it)");
		break;
	}
	return -1;
}

/* One "name=value" of the query; seen: the parameters met so far. */
static int
take_param(struct ww_target *t, const char *s, size_t n, unsigned allowed,
	   const char *words, unsigned *seen, char *err, size_t errlen)
{
	const char *eq = memchr(s, '=', n);
	size_t name_len = eq != NULL ? (size_t)(eq - s) : n;
	int p = find_param(s, name_len);
	char *v;
	int rc;

	if (p < 0 || !(allowed & 1u << p)) {
		snprintf(err, errlen,
			 "%s:// target: unknown parameter \"%.*s\" (it takes "
			 "%s)",
			 ww_target_kind_name(t->kind),
			 name_len > 32 ? 32 : (int)name_len, s, words);
		return -1;
	}
	if (*seen & 1u << p) {
		snprintf(err, errlen, "%s:// target: %s given twice",
			 ww_target_kind_name(t->kind), param_names[p]);
		return -1;
	}
	*seen |= 1u << p;
	if (eq == NULL || n - name_len - 1 > WW_TARGET_VPN_MAX_VALUE) {
		snprintf(err, errlen, "%s:// target: %s needs a value%s",
			 ww_target_kind_name(t->kind), param_names[p],
			 eq == NULL ? "" : " of at most 512 bytes");
		return -1;
	}
	v = pct_decode(eq + 1, n - name_len - 1);
	if (v == NULL) {
		snprintf(err, errlen,
			 "%s:// target: %s has a bad %%-escape or a control "
			 "character",
			 ww_target_kind_name(t->kind), param_names[p]);
		return -1;
	}
	rc = take_value(t, p, v, err, errlen);
	free(v);
	return rc;
}

/* What the parameters must say together. */
static int
check_together(const struct ww_target *t, unsigned seen, char *err,
	       size_t errlen)
{
	if (t->kind == WW_TARGET_WIREGUARD && t->pubkey == NULL) {
		snprintf(err, errlen,
			 "wireguard:// target needs pubkey= (the server's "
			 "public key)");
		return -1;
	}
	if (t->kind != WW_TARGET_OPENVPN)
		return 0;
	if ((seen & (1u << P_AUTH | 1u << P_KEY_DIRECTION)) &&
	    t->wrap != WW_OVPN_WRAP_TLS_AUTH) {
		snprintf(err, errlen,
			 "openvpn:// target: auth and key-direction go with "
			 "wrap=tls-auth");
		return -1;
	}
	if (t->key_file != NULL && t->wrap == WW_OVPN_WRAP_NONE) {
		snprintf(err, errlen,
			 "openvpn:// target: key= needs wrap=tls-auth or "
			 "wrap=tls-crypt");
		return -1;
	}
	return 0;
}

int
ww_target_vpn_params(CURLU *u, struct ww_target *t, char *err, size_t errlen)
{
	const char *words;
	unsigned allowed = params_of(t->kind, &words), seen = 0;
	char *query = NULL;
	const char *s;
	int rc = -1;

	/* the protocol's own transport; openvpn's default as its client's */
	t->udp = true;
	t->key_direction = -1;
	/* curl gives "" for a bare "?": that string is ours to free too */
	if (curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK ||
	    query[0] == '\0') {
		curl_free(query);
		return check_together(t, 0, err, errlen);
	}
	if (strlen(query) > WW_TARGET_VPN_MAX_QUERY) {
		snprintf(err, errlen,
			 "%s:// target: query longer than %d bytes",
			 ww_target_kind_name(t->kind), WW_TARGET_VPN_MAX_QUERY);
		goto done;
	}
	for (s = query;;) {
		size_t n = strcspn(s, "&");

		if (n == 0) {
			snprintf(err, errlen, "%s:// target: empty parameter",
				 ww_target_kind_name(t->kind));
			goto done;
		}
		if (take_param(t, s, n, allowed, words, &seen, err, errlen) < 0)
			goto done;
		if (s[n] == '\0')
			break;
		s += n + 1;
	}
	if (t->auth == NULL && t->wrap == WW_OVPN_WRAP_TLS_AUTH)
		t->auth = xstrdup("sha1"); /* OpenVPN's default --auth */
	rc = check_together(t, seen, err, errlen);
done:
	curl_free(query);
	return rc;
}
