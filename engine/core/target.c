/*
 * target.c - parse one measurement input (see target.h).
 *
 * libcurl's URL API does the RFC 3986 work (and later fetches the very same
 * string, so we agree with it on what the host is); around it we add the
 * checks curl is lenient about: it takes "http:/x" and "http:///x", any
 * scheme once CURLU_NON_SUPPORT_SCHEME is set, empty labels, numeric TLDs
 * and user:password@. Inputs come from files and command lines written by
 * people, so every rejection says what is wrong.
 */
#include "target.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <idn2.h>

#include "target_vpn.h"
#include "util.h"

/* RFC 1035 section 2.3.4 (a name of 255 octets on the wire is 253 as text) */
#define HOST_MAX 253
#define LABEL_MAX 63

struct scheme {
	const char *name;
	enum ww_target_kind kind;
};

static const struct scheme schemes[] = {
	{"http", WW_TARGET_HTTP},
	{"https", WW_TARGET_HTTPS},
	{"tcp", WW_TARGET_TCP},
	{"tls", WW_TARGET_TLS},
	{"openvpn", WW_TARGET_OPENVPN},
	{"ikev2", WW_TARGET_IKEV2},
	{"wireguard", WW_TARGET_WIREGUARD},
	{"quic", WW_TARGET_QUIC},
};

#define SCHEMES_WANTED                                                         \
	"http, https, tcp, tls, openvpn, ikev2, wireguard or quic"

const char *
ww_target_kind_name(enum ww_target_kind k)
{
	switch (k) {
	case WW_TARGET_HTTP:
		return "http";
	case WW_TARGET_HTTPS:
		return "https";
	case WW_TARGET_TCP:
		return "tcp";
	case WW_TARGET_TLS:
		return "tls";
	case WW_TARGET_OPENVPN:
		return "openvpn";
	case WW_TARGET_IKEV2:
		return "ikev2";
	case WW_TARGET_WIREGUARD:
		return "wireguard";
	case WW_TARGET_QUIC:
		return "quic";
	}
	return "unknown";
}

bool
ww_target_is_vpn(enum ww_target_kind k)
{
	return k == WW_TARGET_OPENVPN || k == WW_TARGET_IKEV2 ||
	       k == WW_TARGET_WIREGUARD || k == WW_TARGET_QUIC;
}

/* ASCII only, whatever the locale: <ctype.h> in Latin-1 calls 0xe9 a letter */
static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
needs_port(enum ww_target_kind k)
{
	return k == WW_TARGET_TCP || k == WW_TARGET_TLS ||
	       k == WW_TARGET_OPENVPN || k == WW_TARGET_WIREGUARD;
}

/* The port when the input has none (0: it must have one). */
static int
default_port(enum ww_target_kind k)
{
	switch (k) {
	case WW_TARGET_HTTP:
		return 80;
	case WW_TARGET_IKEV2:
		return 500; /* RFC 7296 section 2 */
	case WW_TARGET_HTTPS:
	case WW_TARGET_QUIC:
		return 443;
	default:
		return 0;
	}
}

/* An endpoint: no path or fragment (they would be silently ignored). */
static bool
is_endpoint(enum ww_target_kind k)
{
	return k != WW_TARGET_HTTP && k != WW_TARGET_HTTPS;
}

/*
 * Reject bytes that have no business in an input: C0 controls, DEL, space
 * (a URL has none; a space is usually a paste accident) and the C1 controls
 * U+0080..U+009F, which are invisible in a terminal. The rest must be UTF-8
 * so that the host can go through IDNA and the input into JSON.
 */
static int
check_bytes(const char *input, size_t len, char *err, size_t errlen)
{
	const unsigned char *s = (const unsigned char *)input;

	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f ||
		    (s[i] == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 &&
		     s[i + 1] <= 0x9f)) {
			snprintf(err, errlen, "control character in URL");
			return -1;
		}
		if (s[i] == ' ') {
			snprintf(err, errlen, "space in URL");
			return -1;
		}
	}
	if (!ww_utf8_valid(s, len)) {
		snprintf(err, errlen, "URL is not valid UTF-8");
		return -1;
	}
	return 0;
}

/*
 * Find the scheme ourselves: curl would take "http:/x" and "http:///x", and
 * with CURLU_NON_SUPPORT_SCHEME any scheme at all. On success *rest points
 * just after "scheme://".
 */
static int
parse_scheme(const char *input, enum ww_target_kind *kind, const char **rest,
	     char *err, size_t errlen)
{
	size_t n = 0;

	/* RFC 3986 section 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	if (is_alpha(input[0])) {
		n = 1;
		while (is_alpha(input[n]) || is_digit(input[n]) ||
		       input[n] == '+' || input[n] == '-' || input[n] == '.')
			n++;
	}
	if (n == 0 || input[n] != ':') {
		snprintf(err, errlen,
			 "no scheme (want http://, https://, tcp://, tls://, "
			 "openvpn://, ikev2://, wireguard:// or quic://)");
		return -1;
	}
	for (size_t i = 0; i < WW_ARRAY_LEN(schemes); i++) {
		if (strlen(schemes[i].name) != n ||
		    strncasecmp(input, schemes[i].name, n) != 0)
			continue;
		if (strncmp(input + n, "://", 3) != 0 || input[n + 3] == '/') {
			snprintf(err, errlen,
				 "\"%.*s:\" must be followed by exactly two "
				 "slashes",
				 (int)n, input);
			return -1;
		}
		*kind = schemes[i].kind;
		*rest = input + n + 3;
		return 0;
	}
	snprintf(err, errlen, "unsupported scheme \"%.*s\" (want %s)",
		 n > 32 ? 32 : (int)n, input, SCHEMES_WANTED);
	return -1;
}

/* After an endpoint's "scheme://": anything but host[:port] and, for the
 * VPN kinds, a query? */
static bool
endpoint_has_extra(enum ww_target_kind kind, const char *rest)
{
	const char *end = rest + strcspn(rest, "/?#");

	if (*end == '\0')
		return false;
	if (*end != '?' || !ww_target_is_vpn(kind))
		return true;
	return strchr(end, '#') != NULL;
}

static const char *
curl_problem(CURLUcode rc)
{
	switch (rc) {
	case CURLUE_BAD_PORT_NUMBER:
		return "bad port number (want 1..65535)";
	case CURLUE_NO_HOST:
		return "empty host";
	case CURLUE_BAD_HOSTNAME:
		return "invalid host name";
	case CURLUE_BAD_IPV6:
		return "invalid IPv6 address";
	case CURLUE_BAD_LOGIN:
	case CURLUE_BAD_USER:
	case CURLUE_BAD_PASSWORD:
		return "URL has user credentials";
	case CURLUE_MALFORMED_INPUT:
		return "malformed URL";
	default:
		return curl_url_strerror(rc);
	}
}

static bool
has_non_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* libidn2's reasons, in the words of a test-list author. */
static const char *
idn_problem(int rc)
{
	switch (rc) {
	case IDN2_DISALLOWED:
		return "a character not allowed in domain names";
	case IDN2_CONTEXTJ:
	case IDN2_CONTEXTO:
		return "a joiner or other context-bound character out of "
		       "place";
	case IDN2_BIDI:
		return "right-to-left and left-to-right text mixed in a label";
	case IDN2_ENCODING_ERROR:
		return "bytes that are not UTF-8";
	case IDN2_NOT_NFC:
		return "text not in Unicode normal form C";
	case IDN2_HYPHEN_STARTEND:
		return "a label starts or ends with a hyphen";
	case IDN2_2HYPHEN:
		return "a label has hyphens in its 3rd and 4th places";
	case IDN2_LEADING_COMBINING:
		return "a label starts with a combining mark";
	case IDN2_PUNYCODE_BIG_OUTPUT:
	case IDN2_TOO_BIG_LABEL:
		return "a label longer than 63 bytes as an A-label";
	case IDN2_TOO_BIG_DOMAIN:
		return "longer than 253 bytes as A-labels";
	case IDN2_PUNYCODE_BAD_INPUT:
	case IDN2_ALABEL_ROUNDTRIP_FAILED:
	case IDN2_INVALID_ALABEL:
		return "an xn-- label that is not valid punycode";
	default:
		return idn2_strerror(rc);
	}
}

/*
 * An internationalised host name as its A-label form ("Bücher.example" ->
 * "xn--bcher-kva.example"), which is what DNS, SNI, Host and the control
 * request carry. IDNA2008 with UTS #46 mapping (upper case, full-width
 * letters and dots are mapped; NFC first), non-transitional: "ß" and "ς"
 * keep their own A-labels, as in current Chrome, Firefox, Safari and curl,
 * instead of becoming "ss" and "σ" (IDNA2003). Fallback, as curl does and
 * for the same reason: UTS #46 still accepts some symbols that IDNA2008
 * disallows (browsers open "☃.net" as xn--n3h.net), so when, and only when,
 * non-transitional processing says IDN2_DISALLOWED we try transitional
 * processing. Other failures (joiners out of context, bad bidi, hyphens)
 * are refused, as browsers refuse them (UTS #46 CheckJoiners, CheckBidi).
 * idn2_lookup_u8() takes UTF-8 whatever the locale (our input is checked
 * UTF-8), unlike curl 7.88's idn2_lookup_ul() (curl issue #10984).
 * Returns an IDN2_ code; *ascii is for idn2_free() in every case.
 */
static int
idn_lookup(const char *host, char **ascii)
{
	int rc;

	*ascii = NULL;
	rc = idn2_lookup_u8((const uint8_t *)host, (uint8_t **)ascii,
			    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_DISALLOWED)
		return rc;
	idn2_free(*ascii);
	*ascii = NULL;
	rc = idn2_lookup_u8((const uint8_t *)host, (uint8_t **)ascii,
			    IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
	return rc == IDN2_OK ? rc : IDN2_DISALLOWED; /* the first reason */
}

static char *
idn_host(const char *host, char *err, size_t errlen)
{
	char *ascii, *out;
	int rc = idn_lookup(host, &ascii);

	if (rc != IDN2_OK) {
		idn2_free(ascii);
		snprintf(err, errlen,
			 "host is not a valid internationalized domain name: "
			 "%s",
			 idn_problem(rc));
		return NULL;
	}
	out = xstrdup(ascii);
	idn2_free(ascii);
	return out;
}

/*
 * An ASCII host's "xn--" labels must be valid A-labels: a browser refuses
 * the name otherwise, and a target whose host no browser can open is a
 * test-list mistake. Only those labels go through libidn2: its hyphen rules
 * would refuse real ASCII names such as "r3---sn-x.googlevideo.com".
 */
static int
check_alabels(const char *host, char *err, size_t errlen)
{
	const char *label = host;

	for (;;) {
		size_t n = strcspn(label, ".");

		if (n > 4 && n <= LABEL_MAX &&
		    strncasecmp(label, "xn--", 4) == 0) {
			char one[LABEL_MAX + 1], *ascii;
			int rc;

			memcpy(one, label, n);
			one[n] = '\0';
			rc = idn_lookup(one, &ascii);
			idn2_free(ascii);
			if (rc != IDN2_OK) {
				snprintf(err, errlen,
					 "host label \"%s\" is not a valid "
					 "A-label: %s",
					 one, idn_problem(rc));
				return -1;
			}
		}
		if (label[n] == '\0')
			return 0;
		label += n + 1;
	}
}

static bool
all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return n > 0;
}

/*
 * A DNS name we can resolve and put in SNI: LDH labels (plus "_", which
 * real names use), none empty, none over 63, 253 in all. A trailing dot
 * is refused here: take_host() has dropped one already (SNI must not carry
 * it, RFC 6066 section 3, and one name gets one spelling), so a dot left
 * is a second one. A last label of digits only means curl did not take it
 * as an IPv4 address ("999.1.1.1").
 */
static int
check_name(const char *host, char *err, size_t errlen)
{
	size_t len = strlen(host);
	const char *label = host;

	if (len > HOST_MAX) {
		snprintf(err, errlen, "host name is %zu bytes, longer than %d",
			 len, HOST_MAX);
		return -1;
	}
	if (host[len - 1] == '.') {
		snprintf(err, errlen, "host name ends with a dot");
		return -1;
	}
	for (;;) {
		size_t n = strcspn(label, ".");

		if (n == 0) {
			snprintf(err, errlen, "empty label in host name");
			return -1;
		}
		if (n > LABEL_MAX) {
			snprintf(err, errlen,
				 "label in host name is %zu bytes, longer "
				 "than %d",
				 n, LABEL_MAX);
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			char c = label[i];

			if (!is_alpha(c) && !is_digit(c) && c != '-' &&
			    c != '_') {
				snprintf(err, errlen,
					 "invalid character in host name");
				return -1;
			}
		}
		if (label[n] == '\0') {
			if (all_digits(label, n)) {
				snprintf(err, errlen,
					 "host is neither a valid name nor an "
					 "IPv4 address");
				return -1;
			}
			return 0;
		}
		label += n + 1;
	}
}

/*
 * Take the host out of u into t: lower-cased, IPv6 without brackets, an
 * internationalised name as A-labels (idn_host()), and checked.
 */
static int
take_host(CURLU *u, struct ww_target *t, char *err, size_t errlen)
{
	char *raw = NULL, *zone = NULL, *host = NULL;
	unsigned char addr[16];
	CURLUcode rc;
	size_t len;
	int ret = -1;

	rc = curl_url_get(u, CURLUPART_HOST, &raw, 0);
	if (rc != CURLUE_OK) {
		snprintf(err, errlen, "%s", curl_problem(rc));
		goto done;
	}
	if (curl_url_get(u, CURLUPART_ZONEID, &zone, 0) == CURLUE_OK) {
		/* a link-local address means nothing to a remote probe */
		snprintf(err, errlen, "IPv6 zone ID in URL");
		goto done;
	}
	if (has_non_ascii(raw)) {
		host = idn_host(raw, err, errlen);
		if (host == NULL)
			goto done;
	} else {
		host = xstrdup(raw);
	}
	for (char *p = host; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');

	len = strlen(host);
	/* "example.com." is the same name, written absolute, as browsers
	 * and servers use it (a redirect may say it): one dot is dropped,
	 * so DNS, SNI, Host and the records spell the name one way. */
	if (len > 0 && host[len - 1] == '.')
		host[--len] = '\0';
	if (len == 0) {
		snprintf(err, errlen, "empty host");
		goto done;
	}
	if (host[0] == '[') {
		if (len < 3 || host[len - 1] != ']') {
			snprintf(err, errlen, "invalid IPv6 address");
			goto done;
		}
		memmove(host, host + 1, len - 2);
		host[len - 2] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1) {
			snprintf(err, errlen, "invalid IPv6 address");
			goto done;
		}
		t->host_is_ip = true;
	} else if (inet_pton(AF_INET, host, addr) == 1) {
		t->host_is_ip = true;
	} else if (check_name(host, err, errlen) < 0 ||
		   check_alabels(host, err, errlen) < 0) {
		goto done;
	}
	t->host = host;
	host = NULL;
	ret = 0;
done:
	curl_free(raw);
	curl_free(zone);
	free(host);
	return ret;
}

/* The host as curl sees it in u equals t->host (IPv6 brackets aside),
 * but for the case of ASCII letters: then input can be fetched as it is. */
static bool
host_spelt_as(CURLU *u, const struct ww_target *t)
{
	char *raw = NULL;
	const char *p;
	size_t n;
	bool same;

	if (curl_url_get(u, CURLUPART_HOST, &raw, 0) != CURLUE_OK)
		return false;
	p = raw;
	n = strlen(raw);
	if (n >= 2 && raw[0] == '[' && raw[n - 1] == ']') {
		p++;
		n -= 2;
	}
	same = n == strlen(t->host) && strncasecmp(p, t->host, n) == 0;
	curl_free(raw);
	return same;
}

/*
 * t->url: the input, or when its host is spelt otherwise (U-labels, a
 * trailing dot) the input with t->host put in, written by libcurl (which
 * may add the "/" path an empty one implies). curl 7.88 cannot fetch a
 * U-label host ("URL using bad/illegal format"), and the one it fetches
 * must be the one we resolved.
 */
static int
take_url(CURLU *u, const char *input, struct ww_target *t, char *err,
	 size_t errlen)
{
	char *host, *url = NULL;
	CURLUcode rc;

	if (host_spelt_as(u, t)) {
		t->url = xstrdup(input);
		return 0;
	}
	host = strchr(t->host, ':') != NULL ? xasprintf("[%s]", t->host)
					    : xstrdup(t->host);
	rc = curl_url_set(u, CURLUPART_HOST, host, 0);
	free(host);
	if (rc == CURLUE_OK)
		rc = curl_url_get(u, CURLUPART_URL, &url, 0);
	if (rc != CURLUE_OK) {
		snprintf(err, errlen, "%s", curl_problem(rc));
		return -1;
	}
	t->url = xstrdup(url);
	curl_free(url);
	return 0;
}

static int
take_port(CURLU *u, struct ww_target *t, char *err, size_t errlen)
{
	char *port = NULL;
	CURLUcode rc;
	long v;
	int ret = -1;

	rc = curl_url_get(u, CURLUPART_PORT, &port,
			  t->kind == WW_TARGET_HTTP ||
					  t->kind == WW_TARGET_HTTPS
				  ? CURLU_DEFAULT_PORT
				  : 0);
	if (rc == CURLUE_NO_PORT && needs_port(t->kind)) {
		snprintf(err, errlen, "%s:// target needs a port",
			 ww_target_kind_name(t->kind));
		goto done;
	}
	if (rc == CURLUE_NO_PORT) { /* curl knows no default for ours */
		t->port = default_port(t->kind);
		return 0;
	}
	if (rc != CURLUE_OK) {
		snprintf(err, errlen, "%s", curl_problem(rc));
		goto done;
	}
	if (ww_parse_long(port, 1, 65535, &v) < 0) {
		snprintf(err, errlen, "port %.8s out of range 1..65535", port);
		goto done;
	}
	t->port = (int)v;
	ret = 0;
done:
	curl_free(port);
	return ret;
}

int
ww_target_parse(const char *input, struct ww_target *t, char *err,
		size_t errlen)
{
	enum ww_target_kind kind = WW_TARGET_HTTP;
	const char *rest = NULL;
	char *part = NULL;
	CURLU *u = NULL;
	CURLUcode rc;
	size_t len;
	int ret = -1;

	memset(t, 0, sizeof(*t));
	if (input == NULL || input[0] == '\0') {
		snprintf(err, errlen, "empty input");
		return -1;
	}
	len = strlen(input);
	if (len > WW_TARGET_MAX_INPUT) {
		snprintf(err, errlen, "input is %zu bytes, longer than %d", len,
			 WW_TARGET_MAX_INPUT);
		return -1;
	}
	if (check_bytes(input, len, err, errlen) < 0 ||
	    parse_scheme(input, &kind, &rest, err, errlen) < 0)
		return -1;
	if (*rest == '\0' || strchr("/?#", *rest) != NULL) {
		snprintf(err, errlen, "empty host");
		return -1;
	}
	/* an endpoint has no path: it would be silently ignored; only the
	 * VPN kinds take parameters (whose values may hold a "/") */
	if (is_endpoint(kind) && endpoint_has_extra(kind, rest)) {
		snprintf(err, errlen,
			 ww_target_is_vpn(kind)
				 ? "%s:// target takes no path or fragment"
				 : "%s:// target takes no path, query or "
				   "fragment",
			 ww_target_kind_name(kind));
		return -1;
	}

	u = curl_url();
	if (u == NULL)
		abort(); /* only fails on out-of-memory; see xmalloc() */
	rc = curl_url_set(u, CURLUPART_URL, input, CURLU_NON_SUPPORT_SCHEME);
	if (rc != CURLUE_OK) {
		snprintf(err, errlen, "%s", curl_problem(rc));
		goto done;
	}
	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
		snprintf(err, errlen, "URL has user credentials");
		goto done;
	}
	t->kind = kind;
	if (take_host(u, t, err, errlen) < 0 ||
	    take_port(u, t, err, errlen) < 0 ||
	    take_url(u, input, t, err, errlen) < 0 ||
	    (ww_target_is_vpn(kind) &&
	     ww_target_vpn_params(u, t, err, errlen) < 0))
		goto done;
	t->input = xstrdup(input);
	ret = 0;
done:
	curl_free(part);
	curl_url_cleanup(u);
	if (ret < 0)
		ww_target_clear(t);
	return ret;
}

void
ww_target_copy(struct ww_target *dst, const struct ww_target *src)
{
	*dst = *src;
	dst->input = xstrdup(src->input);
	dst->url = xstrdup(src->url);
	dst->host = xstrdup(src->host);
	dst->category_code = xstrdup(src->category_code);
	dst->source = xstrdup(src->source);
	dst->pubkey = xstrdup(src->pubkey);
	dst->key_file = xstrdup(src->key_file);
	dst->auth = xstrdup(src->auth);
}

void
ww_target_clear(struct ww_target *t)
{
	free(t->input);
	free(t->url);
	free(t->host);
	free(t->category_code);
	free(t->source);
	free(t->pubkey);
	free(t->key_file);
	free(t->auth);
	memset(t, 0, sizeof(*t));
}
