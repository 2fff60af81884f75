/*
 * validate_ooni.c - the collector's check of OONI's own web_connectivity
 * measurements (test_version 0.4.x of OONI's Go engine, 0.5.x of
 * probe-cli), against OONI's data format (ooni/spec data-formats:
 * df-000-base for the envelope; df-001 httpt, df-002 dnst, df-005
 * tcpconnect, df-006 tlshandshake, df-007 errors and df-008 netevents for
 * test_keys; nettests/ts-017 for web_connectivity's own keys). The rules
 * are listed in docs/ooni-data.md.
 *
 * OONI's format says that a consumer must be ready for any key being null
 * or missing, so few keys are required: those the store and the analysis
 * cannot do without (the input, the times, the network, report_id for the
 * identity, test_keys). Every key that is there must have the type the
 * spec gives it (null accepted where OONI's probes write null), every
 * array is bounded, and nesting is bounded as for our own format. Keys
 * starting with "x_" are OONI's experiments: any shape, within the bounds.
 * probe_ip is never used or shown; one that is not OONI's "127.0.0.1"
 * (a volunteer's address) is refused, as in our format, because the raw
 * bytes are kept and exported as they are.
 */
#include "validate.h"
#include "validate_int.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "target.h"
#include "util.h"

/* Elements of each test_keys array (network_events can be long: one per
 * read and write of the TLS handshakes). */
#define OONI_MAX_ARRAY 4096
/* Certificates in one handshake's chain, answers of one query, tags of one
 * operation, entries of a header list, options, annotations. */
#define OONI_MAX_CERTS 64
#define OONI_MAX_ANSWERS 1024
#define OONI_MAX_TAGS 64
#define OONI_MAX_HEADERS 1024
#define OONI_MAX_OPTIONS 256
#define OONI_MAX_ANNOTATIONS 256
#define OONI_MAX_ANNOTATION_LEN 4096
/* Envelope strings other than input. */
#define OONI_MAX_SHORT 256
/* Endpoints of the control's maps (tcp_connect, tls_handshake, ip_info). */
#define OONI_MAX_ENDPOINTS 1024

/* By shape: OONI's test, written by a software that is not ours (our
 * probe writing "web_connectivity" is a mistake of ours, refused by our
 * format's rules and named as such). */
bool
ww_validate_is_ooni(const json_t *m)
{
	const char *t = json_string_value(json_object_get(m, "test_name"));
	const char *sw = json_string_value(json_object_get(m, "software_name"));

	return t != NULL && strcmp(t, WW_OONI_TEST_NAME) == 0 &&
	       (sw == NULL || strncmp(sw, "wallwatch", 9) != 0);
}

/* --- small checks --------------------------------------------------------- */

/* The string at key (type-checked, may be absent) has no NUL and no control
 * character, and at most max bytes (min: at least). */
static int
check_text(struct vctx *c, const json_t *obj, const char *key, size_t min,
	   size_t max)
{
	const json_t *v = vd_get(obj, key);
	const char *s;
	size_t n, old;

	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	n = json_string_length(v);
	old = vd_push_key(c, key);
	if (n < min)
		return vd_fail(c, "must not be empty");
	if (n > max)
		return vd_fail(c, "is %zu bytes, longer than %zu", n, max);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return vd_fail(c, "holds a control character");
	vd_pop(c, old);
	return 0;
}

/* "0.<major>.<digits>" with major in [lo, hi]. */
static bool
version_in(const char *s, char lo, char hi)
{
	size_t n;

	if (strncmp(s, "0.", 2) != 0 || s[2] < lo || s[2] > hi || s[3] != '.')
		return false;
	s += 4;
	n = strlen(s);
	if (n == 0 || n > 6)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int
check_time(struct vctx *c, const json_t *m, const char *key)
{
	const json_t *v = vd_get(m, key);
	size_t old;
	int64_t t;

	if (v == NULL)
		return 0; /* only test_start_time may be absent */
	old = vd_push_key(c, key);
	if (ww_parse_utc(json_string_value(v), &t) != 0)
		return vd_fail(c, "must be a UTC time \"YYYY-MM-DD HH:MM:SS\"");
	if (t - c->now > WW_VALIDATE_MAX_FUTURE)
		return vd_fail(c,
			       "from the future: %lld s ahead of the "
			       "collector's clock (at most %d)",
			       (long long)(t - c->now), WW_VALIDATE_MAX_FUTURE);
	if (t < WW_OONI_MIN_TIME)
		return vd_fail(c, "before 2012-01-01 00:00:00, older than "
				  "OONI's archive");
	vd_pop(c, old);
	return 0;
}

/* An array (type-checked, may be absent or null) of at most max strings. */
static int
check_strings(struct vctx *c, const json_t *obj, const char *key, size_t max)
{
	const json_t *arr = vd_get(obj, key), *e;
	size_t old, i;

	if (!json_is_array(arr))
		return 0;
	old = vd_push_key(c, key);
	if (vd_check_array_size(c, arr, max) != 0)
		return -1;
	json_array_foreach(arr, i, e)
	{
		if (!json_is_string(e)) {
			vd_push_index(c, i);
			return vd_fail(c, "must be a string");
		}
	}
	vd_pop(c, old);
	return 0;
}

/* MaybeBinaryData (df-001): a string, or {"format": "base64", "data"}. */
static int
check_maybe_binary(struct vctx *c, const json_t *v)
{
	const char *f;

	if (json_is_string(v))
		return 0;
	if (!json_is_object(v))
		return vd_fail(c,
			       "must be a string or {\"format\": \"base64\", "
			       "\"data\": ...}");
	f = json_string_value(json_object_get(v, "format"));
	if (f == NULL || strcmp(f, "base64") != 0) {
		vd_push_key(c, "format");
		return vd_fail(c, "must be \"base64\"");
	}
	if (!json_is_string(json_object_get(v, "data"))) {
		vd_push_key(c, "data");
		return vd_fail(c, "must be a string");
	}
	return 0;
}

/* The value at key (absent or null: fine) is MaybeBinaryData. */
static int
check_maybe_binary_at(struct vctx *c, const json_t *obj, const char *key)
{
	const json_t *v = vd_get(obj, key);
	size_t old;

	if (v == NULL || json_is_null(v))
		return 0;
	old = vd_push_key(c, key);
	if (check_maybe_binary(c, v) != 0)
		return -1;
	vd_pop(c, old);
	return 0;
}

/* Check each element of the array at key (absent or null: fine; at most
 * max), an object passing check(). */
static int
each(struct vctx *c, const json_t *obj, const char *key, size_t max,
     int (*check)(struct vctx *c, const json_t *elem))
{
	if (!json_is_array(vd_get(obj, key)))
		return 0;
	return vd_check_elements(c, obj, key, max, check);
}

/* Check each value of the object at key (absent or null: fine; at most max
 * members), an object passing check(). */
static int
each_member(struct vctx *c, const json_t *obj, const char *key, size_t max,
	    int (*check)(struct vctx *c, const json_t *elem))
{
	const json_t *o = vd_get(obj, key), *v;
	const char *k;
	size_t old;

	if (!json_is_object(o))
		return 0;
	old = vd_push_key(c, key);
	if (json_object_size(o) > max)
		return vd_fail(c, "has %zu members, more than %zu",
			       json_object_size(o), max);
	json_object_foreach((json_t *)o, k, v)
	{
		size_t kold = vd_push_key(c, k);

		if (!json_is_object(v))
			return vd_fail(c, "must be an object");
		if (check(c, v) != 0)
			return -1;
		vd_pop(c, kold);
	}
	vd_pop(c, old);
	return 0;
}

/* The keys every operation of df-001/002/005/006/008 may have. */
static int
check_op_common(struct vctx *c, const json_t *o)
{
	static const struct keyspec keys[] = {
		{"t0", T_NUM, false},
		{"t", T_NUM, false},
		{"tags", T_ARR | T_NULL, false},
		{"transaction_id", T_INT, false},
		{"conn_id", T_INT, false},
		{"dial_id", T_INT, false},
		{"failure", T_STR | T_NULL, false},
	};

	if (CHECK_KEYS(c, o, keys) != 0)
		return -1;
	return check_strings(c, o, "tags", OONI_MAX_TAGS);
}

/* --- df-002: queries ------------------------------------------------------ */

static int
check_answer(struct vctx *c, const json_t *a)
{
	static const struct keyspec keys[] = {
		{"answer_type", T_STR, true},	{"ipv4", T_STR, false},
		{"ipv6", T_STR, false},		{"hostname", T_STR, false},
		{"ttl", T_INT | T_NULL, false}, {"asn", T_INT, false},
		{"as_org_name", T_STR, false},
	};

	return CHECK_KEYS(c, a, keys);
}

static int
check_query(struct vctx *c, const json_t *q)
{
	static const struct keyspec keys[] = {
		{"hostname", T_STR, true},
		{"query_type", T_STR, true},
		{"answers", T_ARR | T_NULL, false},
		{"engine", T_STR | T_NULL, false},
		{"resolver_address", T_STR | T_NULL, false},
		{"resolver_hostname", T_STR | T_NULL, false},
		{"resolver_port", T_STR | T_INT | T_NULL, false},
		{"raw_response", T_STR | T_NULL, false},
		{"rcode", T_INT | T_NULL, false},
		{"getaddrinfo_error", T_INT, false},
	};

	if (CHECK_KEYS(c, q, keys) != 0 || check_op_common(c, q) != 0)
		return -1;
	return each(c, q, "answers", OONI_MAX_ANSWERS, check_answer);
}

/* --- df-005: tcp_connect -------------------------------------------------- */

static int
check_tcp(struct vctx *c, const json_t *t)
{
	static const struct keyspec keys[] = {
		{"ip", T_STR, true},
		{"port", T_INT, true},
		{"status", T_OBJ, true},
	};
	/* "Some older versions of OONI Probe set this to false instead of
	 * null" (df-005). */
	static const struct keyspec status_keys[] = {
		{"success", T_BOOL, true},
		{"failure", T_STR | T_NULL | T_BOOL, false},
		{"blocked", T_BOOL | T_NULL, false},
	};
	const json_t *st = vd_get(t, "status"), *f;
	json_int_t port;
	size_t old;

	if (CHECK_KEYS(c, t, keys) != 0 || check_op_common(c, t) != 0)
		return -1;
	port = json_integer_value(vd_get(t, "port"));
	if (port < 0 || port > 65535) {
		vd_push_key(c, "port");
		return vd_fail(c, "must be 0..65535");
	}
	old = vd_push_key(c, "status");
	if (CHECK_KEYS(c, st, status_keys) != 0)
		return -1;
	f = vd_get(st, "failure");
	if (json_is_true(f)) {
		vd_push_key(c, "failure");
		return vd_fail(c, "must be a string or null (or false)");
	}
	vd_pop(c, old);
	return 0;
}

/* --- df-006: tls_handshakes ----------------------------------------------- */

static int
check_cert(struct vctx *c, const json_t *cert)
{
	return check_maybe_binary(c, cert);
}

static int
check_tls(struct vctx *c, const json_t *h)
{
	static const struct keyspec keys[] = {
		{"network", T_STR | T_NULL, false},
		{"address", T_STR | T_NULL, false},
		{"server_name", T_STR | T_NULL, false},
		{"outer_server_name", T_STR | T_NULL, false},
		{"cipher_suite", T_STR | T_NULL, false},
		{"negotiated_protocol", T_STR | T_NULL, false},
		{"tls_version", T_STR | T_NULL, false},
		{"no_tls_verify", T_BOOL, false},
		{"peer_certificates", T_ARR | T_NULL, false},
		{"so_error", T_STR | T_NULL, false},
		{"echconfig", T_STR | T_NULL, false},
	};
	const json_t *certs = vd_get(h, "peer_certificates"), *e;
	size_t old, i;

	if (CHECK_KEYS(c, h, keys) != 0 || check_op_common(c, h) != 0)
		return -1;
	if (!json_is_array(certs))
		return 0;
	old = vd_push_key(c, "peer_certificates");
	if (vd_check_array_size(c, certs, OONI_MAX_CERTS) != 0)
		return -1;
	json_array_foreach(certs, i, e)
	{
		size_t eold = vd_push_index(c, i);

		if (check_cert(c, e) != 0)
			return -1;
		vd_pop(c, eold);
	}
	vd_pop(c, old);
	return 0;
}

/* --- df-001: requests ----------------------------------------------------- */

/* headers: a map of MaybeBinaryData; headers_list: [key, value] pairs. */
static int
check_headers(struct vctx *c, const json_t *o)
{
	const json_t *h = vd_get(o, "headers"), *l = vd_get(o, "headers_list");
	const json_t *v;
	const char *k;
	size_t old, i;

	if (json_is_object(h)) {
		old = vd_push_key(c, "headers");
		if (json_object_size(h) > OONI_MAX_HEADERS)
			return vd_fail(c, "has %zu headers, more than %d",
				       json_object_size(h), OONI_MAX_HEADERS);
		json_object_foreach((json_t *)h, k, v)
		{
			size_t kold = vd_push_key(c, k);

			if (check_maybe_binary(c, v) != 0)
				return -1;
			vd_pop(c, kold);
		}
		vd_pop(c, old);
	}
	if (!json_is_array(l))
		return 0;
	old = vd_push_key(c, "headers_list");
	if (vd_check_array_size(c, l, OONI_MAX_HEADERS) != 0)
		return -1;
	json_array_foreach(l, i, v)
	{
		size_t eold = vd_push_index(c, i);

		if (!json_is_array(v) || json_array_size(v) != 2 ||
		    !json_is_string(json_array_get(v, 0)))
			return vd_fail(c, "must be [name, value]");
		vd_push_index(c, 1);
		if (check_maybe_binary(c, json_array_get(v, 1)) != 0)
			return -1;
		vd_pop(c, eold);
	}
	vd_pop(c, old);
	return 0;
}

static int
check_http_request(struct vctx *c, const json_t *r)
{
	static const struct keyspec keys[] = {
		{"url", T_STR, false},
		{"method", T_STR, false},
		{"headers", T_OBJ | T_NULL, false},
		{"headers_list", T_ARR | T_NULL, false},
		{"body_is_truncated", T_BOOL, false},
		{"tor", T_OBJ | T_NULL, false},
		{"x_transport", T_STR, false},
	};

	if (CHECK_KEYS(c, r, keys) != 0 ||
	    check_maybe_binary_at(c, r, "body") != 0)
		return -1;
	return check_headers(c, r);
}

static int
check_http_response(struct vctx *c, const json_t *r)
{
	static const struct keyspec keys[] = {
		{"code", T_INT | T_NULL, false},
		{"headers", T_OBJ | T_NULL, false},
		{"headers_list", T_ARR | T_NULL, false},
		{"body_is_truncated", T_BOOL, false},
	};

	if (CHECK_KEYS(c, r, keys) != 0 ||
	    check_maybe_binary_at(c, r, "body") != 0)
		return -1;
	return check_headers(c, r);
}

static int
check_request(struct vctx *c, const json_t *t)
{
	static const struct keyspec keys[] = {
		{"network", T_STR | T_NULL, false},
		{"address", T_STR | T_NULL, false},
		{"alpn", T_STR | T_NULL, false},
		{"request", T_OBJ | T_NULL, false},
		{"response", T_OBJ | T_NULL, false},
		{"response_length", T_INT | T_NULL, false},
	};
	const json_t *v;
	size_t old;

	if (CHECK_KEYS(c, t, keys) != 0 || check_op_common(c, t) != 0)
		return -1;
	if (json_is_object(v = vd_get(t, "request"))) {
		old = vd_push_key(c, "request");
		if (check_http_request(c, v) != 0)
			return -1;
		vd_pop(c, old);
	}
	if (json_is_object(v = vd_get(t, "response"))) {
		old = vd_push_key(c, "response");
		if (check_http_response(c, v) != 0)
			return -1;
		vd_pop(c, old);
	}
	return 0;
}

/* --- df-008: network_events ----------------------------------------------- */

static int
check_event(struct vctx *c, const json_t *e)
{
	static const struct keyspec keys[] = {
		{"operation", T_STR, true},
		{"address", T_STR | T_NULL, false},
		{"proto", T_STR | T_NULL, false},
		{"num_bytes", T_INT, false},
	};

	if (CHECK_KEYS(c, e, keys) != 0)
		return -1;
	return check_op_common(c, e);
}

/* --- ts-017: the test helper's answer (control) --------------------------- */

static int
check_control_tcp(struct vctx *c, const json_t *v)
{
	static const struct keyspec keys[] = {
		{"status", T_BOOL, true},
		{"failure", T_STR | T_NULL, false},
	};

	return CHECK_KEYS(c, v, keys);
}

static int
check_control_tls(struct vctx *c, const json_t *v)
{
	static const struct keyspec keys[] = {
		{"status", T_BOOL, true},
		{"failure", T_STR | T_NULL, false},
		{"server_name", T_STR | T_NULL, false},
	};

	return CHECK_KEYS(c, v, keys);
}

static int
check_control_ip(struct vctx *c, const json_t *v)
{
	static const struct keyspec keys[] = {
		{"asn", T_INT, false},
		{"flags", T_INT, false},
	};

	return CHECK_KEYS(c, v, keys);
}

static int
check_control_http(struct vctx *c, const json_t *h)
{
	/* body_length and status_code are -1 when the helper failed. */
	static const struct keyspec keys[] = {
		{"body_length", T_INT | T_NULL, false},
		{"status_code", T_INT | T_NULL, false},
		{"failure", T_STR | T_NULL, false},
		{"title", T_STR | T_NULL, false},
		{"headers", T_OBJ | T_NULL, false},
		{"discovered_h3_endpoint", T_STR | T_NULL, false},
	};
	const json_t *hd = vd_get(h, "headers"), *v;
	const char *k;
	size_t old;

	if (CHECK_KEYS(c, h, keys) != 0)
		return -1;
	if (!json_is_object(hd))
		return 0;
	old = vd_push_key(c, "headers");
	if (json_object_size(hd) > OONI_MAX_HEADERS)
		return vd_fail(c, "has %zu headers, more than %d",
			       json_object_size(hd), OONI_MAX_HEADERS);
	json_object_foreach((json_t *)hd, k, v)
	{
		if (!json_is_string(v)) {
			vd_push_key(c, k);
			return vd_fail(c, "must be a string");
		}
	}
	vd_pop(c, old);
	return 0;
}

static int
check_control(struct vctx *c, const json_t *ctl)
{
	static const struct keyspec keys[] = {
		{"tcp_connect", T_OBJ | T_NULL, false},
		{"tls_handshake", T_OBJ | T_NULL, false},
		{"quic_handshake", T_OBJ | T_NULL, false},
		{"http_request", T_OBJ | T_NULL, false},
		{"http3_request", T_OBJ | T_NULL, false},
		{"dns", T_OBJ | T_NULL, false},
		{"ip_info", T_OBJ | T_NULL, false},
	};
	static const struct keyspec dns_keys[] = {
		{"failure", T_STR | T_NULL, false},
		{"addrs", T_ARR | T_NULL, false},
	};
	const json_t *v;
	size_t old;

	if (CHECK_KEYS(c, ctl, keys) != 0 ||
	    each_member(c, ctl, "tcp_connect", OONI_MAX_ENDPOINTS,
			check_control_tcp) != 0 ||
	    each_member(c, ctl, "tls_handshake", OONI_MAX_ENDPOINTS,
			check_control_tls) != 0 ||
	    each_member(c, ctl, "ip_info", OONI_MAX_ENDPOINTS,
			check_control_ip) != 0)
		return -1;
	if (json_is_object(v = vd_get(ctl, "http_request"))) {
		old = vd_push_key(c, "http_request");
		if (check_control_http(c, v) != 0)
			return -1;
		vd_pop(c, old);
	}
	if (json_is_object(v = vd_get(ctl, "dns"))) {
		old = vd_push_key(c, "dns");
		if (CHECK_KEYS(c, v, dns_keys) != 0 ||
		    check_strings(c, v, "addrs", OONI_MAX_ANSWERS) != 0)
			return -1;
		vd_pop(c, old);
	}
	return 0;
}

/* --- test_keys ------------------------------------------------------------ */

static int
check_test_keys(struct vctx *c, const json_t *tk)
{
	static const struct keyspec keys[] = {
		{"queries", T_ARR | T_NULL, false},
		{"tcp_connect", T_ARR | T_NULL, false},
		{"tls_handshakes", T_ARR | T_NULL, false},
		{"requests", T_ARR | T_NULL, false},
		{"network_events", T_ARR | T_NULL, false},
		{"control", T_OBJ | T_NULL, false},
		{"x_dns_duplicate_responses", T_ARR | T_NULL, false},
		{"agent", T_STR | T_NULL, false},
		{"client_resolver", T_STR | T_NULL, false},
		{"socksproxy", T_STR | T_NULL, false},
		{"retries", T_INT | T_NULL, false},
		{"control_failure", T_STR | T_NULL, false},
		{"dns_experiment_failure", T_STR | T_NULL, false},
		{"http_experiment_failure", T_STR | T_NULL, false},
		{"dns_consistency", T_STR | T_NULL, false},
		{"body_length_match", T_BOOL | T_NULL, false},
		{"body_proportion", T_NUM | T_NULL, false},
		{"headers_match", T_BOOL | T_NULL, false},
		{"status_code_match", T_BOOL | T_NULL, false},
		{"title_match", T_BOOL | T_NULL, false},
		{"blocking", T_STR | T_BOOL | T_NULL, false},
		{"accessible", T_BOOL | T_NULL, false},
	};
	const json_t *ctl;
	size_t old;

	old = vd_push_key(c, "test_keys");
	if (CHECK_KEYS(c, tk, keys) != 0 ||
	    each(c, tk, "queries", OONI_MAX_ARRAY, check_query) != 0 ||
	    each(c, tk, "tcp_connect", OONI_MAX_ARRAY, check_tcp) != 0 ||
	    each(c, tk, "tls_handshakes", OONI_MAX_ARRAY, check_tls) != 0 ||
	    each(c, tk, "requests", OONI_MAX_ARRAY, check_request) != 0 ||
	    each(c, tk, "network_events", OONI_MAX_ARRAY, check_event) != 0 ||
	    each(c, tk, "x_dns_duplicate_responses", OONI_MAX_ARRAY,
		 check_query) != 0)
		return -1;
	if (json_is_object(ctl = vd_get(tk, "control"))) {
		size_t cold = vd_push_key(c, "control");

		if (check_control(c, ctl) != 0)
			return -1;
		vd_pop(c, cold);
	}
	vd_pop(c, old);
	return 0;
}

/* --- the envelope (df-000) ------------------------------------------------ */

static const struct keyspec envelope_keys[] = {
	{"test_name", T_STR, true},
	{"test_version", T_STR, true},
	{"software_name", T_STR, true},
	{"software_version", T_STR, true},
	{"data_format_version", T_STR, true},
	{"input", T_STR, true},
	{"report_id", T_STR, true},
	{"measurement_start_time", T_STR, true},
	{"probe_cc", T_STR, true},
	{"probe_asn", T_STR, true},
	{"test_keys", T_OBJ, true},
	{"measurement_uid", T_STR | T_NULL, false},
	{"test_start_time", T_STR, false},
	{"test_runtime", T_NUM | T_NULL, false},
	{"probe_ip", T_STR | T_NULL, false},
	{"annotations", T_OBJ | T_NULL, false},
	{"options", T_ARR | T_NULL, false},
	{"test_helpers", T_OBJ | T_NULL, false},
	{"extensions", T_OBJ | T_NULL, false},
	{"probe_network_name", T_STR | T_NULL, false},
	{"resolver_ip", T_STR | T_NULL, false},
	{"resolver_asn", T_STR | T_NULL, false},
	{"resolver_network_name", T_STR | T_NULL, false},
	{"id", T_STR | T_NULL, false},
	{"input_hashes", T_ARR | T_NULL, false},
	{"probe_city", T_STR | T_NULL, false},
};

/* Envelope strings that need a sane length (report_id may be empty: a
 * measurement never submitted to OONI has none). */
static const struct {
	const char *key;
	size_t min;
} short_strings[] = {
	{"test_version", 1},	 {"software_name", 1},
	{"software_version", 1}, {"data_format_version", 1},
	{"report_id", 0},
};

static int
check_versions(struct vctx *c, const json_t *m)
{
	const char *v = json_string_value(vd_get(m, "test_version"));

	if (!version_in(v, '4', '5')) {
		vd_push_key(c, "test_version");
		return vd_fail(c,
			       "web_connectivity %s is not read: only 0.4.x "
			       "(OONI's Go engine) and 0.5.x (probe-cli)",
			       v);
	}
	v = json_string_value(vd_get(m, "data_format_version"));
	if (!version_in(v, '2', '4')) {
		vd_push_key(c, "data_format_version");
		return vd_fail(c,
			       "%s is not OONI's base format 0.2.0 (or one "
			       "of its experimental 0.2.x to 0.4.x)",
			       v);
	}
	return 0;
}

static int
check_input(struct vctx *c, const json_t *m)
{
	const char *s = json_string_value(vd_get(m, "input"));
	struct ww_target t;
	char err[256];
	size_t old;
	int rc = 0;

	if (check_text(c, m, "input", 1, WW_TARGET_MAX_INPUT) != 0)
		return -1;
	old = vd_push_key(c, "input");
	if (ww_target_parse(s, &t, err, sizeof(err)) != 0)
		return vd_fail(c, "not a URL we can measure: %s", err);
	if (t.kind != WW_TARGET_HTTP && t.kind != WW_TARGET_HTTPS)
		rc = vd_fail(c, "web_connectivity measures http:// and "
				"https:// URLs only");
	ww_target_clear(&t);
	if (rc == 0)
		vd_pop(c, old);
	return rc;
}

static int
check_annotations(struct vctx *c, const json_t *m)
{
	const json_t *a = vd_get(m, "annotations"), *v;
	const char *key;
	size_t old;

	if (!json_is_object(a))
		return 0;
	old = vd_push_key(c, "annotations");
	if (json_object_size(a) > OONI_MAX_ANNOTATIONS)
		return vd_fail(c, "has %zu keys, more than %d",
			       json_object_size(a), OONI_MAX_ANNOTATIONS);
	/* map[string]string, but "the consumer SHOULD NOT assume that
	 * measurements use string values" (df-000): any scalar. */
	json_object_foreach((json_t *)a, key, v)
	{
		size_t kold = vd_push_key(c, key);

		if (json_is_object(v) || json_is_array(v))
			return vd_fail(c, "must be a string, a number, a "
					  "boolean or null");
		if (json_string_length(v) > OONI_MAX_ANNOTATION_LEN)
			return vd_fail(c, "is %zu bytes, longer than %d",
				       json_string_length(v),
				       OONI_MAX_ANNOTATION_LEN);
		vd_pop(c, kold);
	}
	vd_pop(c, old);
	return 0;
}

static int
check_envelope(struct vctx *c, const json_t *m)
{
	const json_t *ip = vd_get(m, "probe_ip"), *uid;
	double runtime;

	if (CHECK_KEYS(c, m, envelope_keys) != 0 || check_versions(c, m) != 0)
		return -1;
	uid = vd_get(m, "measurement_uid");
	if (json_is_string(uid) && vd_check_uid(c, m) != 0)
		return -1;
	if (check_input(c, m) != 0)
		return -1;
	for (size_t i = 0; i < WW_ARRAY_LEN(short_strings); i++)
		if (check_text(c, m, short_strings[i].key, short_strings[i].min,
			       OONI_MAX_SHORT) != 0)
			return -1;
	if (check_time(c, m, "measurement_start_time") != 0 ||
	    check_time(c, m, "test_start_time") != 0 ||
	    vd_check_probe_net(c, m) != 0)
		return -1;
	if (json_is_string(ip) &&
	    (json_string_length(ip) != 9 ||
	     strcmp(json_string_value(ip), "127.0.0.1") != 0)) {
		/* Never echo it: it may be the volunteer's address. */
		vd_push_key(c, "probe_ip");
		return vd_fail(c, "must be \"127.0.0.1\" (or null): the "
				  "collector never keeps a volunteer's "
				  "address");
	}
	if (json_is_number(vd_get(m, "test_runtime"))) {
		runtime = json_number_value(vd_get(m, "test_runtime"));
		if (!(runtime >= 0) || !isfinite(runtime)) {
			vd_push_key(c, "test_runtime");
			return vd_fail(c, "must be a number of seconds >= 0");
		}
	}
	if (check_annotations(c, m) != 0 ||
	    check_strings(c, m, "options", OONI_MAX_OPTIONS) != 0)
		return -1;
	return 0;
}

int
vd_check_ooni(struct vctx *c, const json_t *m)
{
	if (vd_check_depth(c, m, 1) != 0 || check_envelope(c, m) != 0)
		return -1;
	return check_test_keys(c, vd_get(m, "test_keys"));
}

/* --- identity ------------------------------------------------------------- */

static void
hash_field(EVP_MD_CTX *h, const char *s)
{
	if (s != NULL)
		EVP_DigestUpdate(h, s, strlen(s));
	EVP_DigestUpdate(h, "", 1); /* a NUL after each: no field holds one */
}

static int
hash_dump(const char *buf, size_t n, void *h)
{
	return EVP_DigestUpdate(h, buf, n) == 1 ? 0 : -1;
}

void
ww_ooni_uid(const json_t *m, char out[WW_OONI_UID_LEN + 1])
{
	const char *rid = json_string_value(json_object_get(m, "report_id"));
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	if (h == NULL || EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1)
		abort(); /* out of memory */
	hash_field(h, rid);
	hash_field(h, json_string_value(json_object_get(m, "input")));
	hash_field(h, json_string_value(
			      json_object_get(m, "measurement_start_time")));
	/* Streamed into the hash: no copy of a large measurement (and no
	 * allocation to give back to the row's arena). */
	if (rid == NULL || rid[0] == '\0')
		json_dump_callback(m, hash_dump, h,
				   JSON_COMPACT | JSON_SORT_KEYS |
					   JSON_ENSURE_ASCII);
	if (EVP_DigestFinal_ex(h, md, &mdlen) != 1)
		abort();
	EVP_MD_CTX_free(h);
	ww_hex(md, mdlen, hex);
	snprintf(out, WW_OONI_UID_LEN + 1, "%s%.32s", WW_OONI_UID_PREFIX, hex);
}
