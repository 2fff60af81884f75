/*
 * validate_test_keys.c - the collector's check of a measurement's
 * test_keys (docs/measurement-format.md; rules in
 * docs/ingest-validation.md): for each element of the observation arrays
 * (queries, tcp_connect, tls_handshakes, requests, control_attempts), the
 * network check and the control's answer, its documented key types, with
 * bounds on every array. Keys we do not know are allowed; the verdict keys
 * are not checked (the collector recomputes the analysis). The packets are
 * validate_packets.c's.
 */
#include "validate.h"
#include "validate_int.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "dnsmsg.h"
#include "engine.h"
#include "util.h"

/* Shorter bounds than WW_VALIDATE_MAX_ARRAY where the format documents one
 * (what the probe writes at most: dnsmsg.h, tls.c, http.c). */
#define MAX_ANSWERS WW_DNS_MAX_ANSWERS
#define MAX_CERTS 10
#define MAX_HEADERS 128
/* hop: 0 (the input) to WW_MAX_REDIRECTS; a control answer's hops. */
#define MAX_HOP WW_MAX_REDIRECTS
#define MAX_HOPS (WW_MAX_REDIRECTS + 1)
/* Endpoints in one of a control hop's tcp_connect/tls_handshake. */
#define MAX_HOP_ENDPOINTS 256
/* transfer.wire_bytes and t_last_wire_byte: far above one request's
 * (the 8 MiB body cap, a timeout of minutes), far below nonsense. */
#define MAX_WIRE_BYTES (1LL << 40)
#define MAX_WIRE_SECONDS 86400.0

/* --- test_keys elements --------------------------------------------------- */

static const struct keyspec answer_keys[] = {
	{"answer_type", T_STR, true},	{"ipv4", T_STR, false},
	{"ipv6", T_STR, false},		{"hostname", T_STR, false},
	{"ttl", T_INT | T_NULL, false},
};

static const struct keyspec query_keys[] = {
	{"hostname", T_STR, true},
	{"query_type", T_STR, true},
	{"answers", T_ARR, true},
	{"failure", T_STR | T_NULL, true},
	{"failure_detail", T_STR | T_NULL, false},
	{"engine", T_STR | T_NULL, false},
	{"resolver_address", T_STR | T_NULL, false},
	{"rcode", T_INT | T_NULL, false},
	{"rcode_name", T_STR | T_NULL, false},
	{"raw_response", T_STR | T_NULL, false},
	{"t0", T_NUM, false},
	{"t", T_NUM, false},
	{"transaction_id", T_INT, false},
	{"hop", T_INT, false},
	{"flow", T_INT, false},
};

static const struct keyspec tcp_keys[] = {
	{"ip", T_STR, true},	 {"port", T_INT, true},
	{"status", T_OBJ, true}, {"t0", T_NUM, false},
	{"t", T_NUM, false},	 {"transaction_id", T_INT, false},
	{"hop", T_INT, false},	 {"flow", T_INT, false},
};

static const struct keyspec tcp_status_keys[] = {
	{"success", T_BOOL, true},
	{"failure", T_STR | T_NULL, true},
	{"failure_detail", T_STR | T_NULL, false},
};

static const struct keyspec tls_keys[] = {
	{"server_name", T_STR | T_NULL, true},
	{"peer_certificates", T_ARR, true},
	{"failure", T_STR | T_NULL, true},
	{"failure_detail", T_STR | T_NULL, false},
	{"network", T_STR, false},
	{"address", T_STR | T_NULL, false},
	{"ip", T_STR | T_NULL, false},
	{"port", T_INT, false},
	{"sni_role", T_STR | T_NULL, false},
	{"tls_version", T_STR | T_NULL, false},
	{"cipher_suite", T_STR | T_NULL, false},
	{"negotiated_protocol", T_STR | T_NULL, false},
	{"no_tls_verify", T_BOOL, false},
	{"handshake_done", T_BOOL, false},
	{"verified", T_BOOL, false},
	{"verify_error", T_STR | T_NULL, false},
	{"t0", T_NUM, false},
	{"t", T_NUM, false},
	{"transaction_id", T_INT, false},
	{"hop", T_INT, false},
	{"flow", T_INT, false},
};

static const struct keyspec cert_keys[] = {
	{"format", T_STR, true},
	{"data", T_STR, true},
};

static const struct keyspec request_keys[] = {
	{"request", T_OBJ, true},
	{"response", T_OBJ | T_NULL, true},
	{"failure", T_STR | T_NULL, true},
	{"failure_detail", T_STR | T_NULL, false},
	{"address", T_STR | T_NULL, false},
	{"t0", T_NUM, false},
	{"t", T_NUM, false},
	{"transaction_id", T_INT, false},
	{"hop", T_INT, false},
	{"transfer", T_OBJ, false},
	{"flow", T_INT, false},
};

/* requests[].transfer and a control hop's http_request.transfer. */
static const struct keyspec transfer_keys[] = {
	{"bytes", T_INT, true},
	{"body_bytes", T_INT, true},
	{"t_first_byte", T_NUM | T_NULL, true},
	{"t_last_byte", T_NUM | T_NULL, true},
	{"rate", T_NUM | T_NULL, true},
	{"wire_bytes", T_INT, false},
	{"t_last_wire_byte", T_NUM | T_NULL, false},
};

/* An element of control.hops (our control protocol). */
static const struct keyspec control_hop_keys[] = {
	{"url", T_STR | T_NULL, false},
	{"dns", T_OBJ | T_NULL, false},
	{"tcp_connect", T_OBJ, false},
	{"tls_handshake", T_OBJ, false},
	{"http_request", T_OBJ | T_NULL, false},
};

static const struct keyspec control_hop_dns_keys[] = {
	{"host", T_STR, false},
	{"failure", T_STR | T_NULL, false},
	{"addrs", T_ARR, false},
};

static const struct keyspec control_hop_http_keys[] = {
	{"status_code", T_INT, true},
	{"failure", T_STR | T_NULL, false},
	{"location", T_STR | T_NULL, false},
	{"transfer", T_OBJ | T_NULL, false},
};

static const struct keyspec http_req_keys[] = {
	{"method", T_STR, true},
	{"url", T_STR, true},
	{"headers", T_OBJ, false},
	{"headers_list", T_ARR, false},
};

static const struct keyspec http_resp_keys[] = {
	{"code", T_INT, true},
	{"http_version", T_STR | T_NULL, false},
	{"headers", T_OBJ, false},
	{"headers_list", T_ARR, false},
	{"body", T_STR | T_OBJ | T_NULL, false},
	{"body_is_truncated", T_BOOL, false},
	{"body_length", T_INT, false},
	{"body_download_capped", T_BOOL, false},
	{"body_sha256", T_STR | T_NULL, false},
	{"title", T_STR | T_NULL, false},
	{"location", T_STR | T_NULL, false},
};

static const struct keyspec body_keys[] = {
	{"format", T_STR, true},
	{"data", T_STR, true},
};

static const struct keyspec attempt_keys[] = {
	{"url", T_STR, true},
	{"failure", T_STR | T_NULL, true},
	{"failure_detail", T_STR | T_NULL, false},
	{"status_code", T_INT | T_NULL, false},
	{"t0", T_NUM, false},
	{"t", T_NUM, false},
};

static const struct keyspec network_check_keys[] = {
	{"references", T_ARR, true},
	{"ok", T_BOOL, true},
};

/* A port key (already type-checked as an integer, maybe absent). */
static int
check_port(struct vctx *c, const json_t *obj)
{
	const json_t *p = vd_get(obj, "port");

	if (p == NULL ||
	    (json_integer_value(p) >= 1 && json_integer_value(p) <= 65535))
		return 0;
	vd_push_key(c, "port");
	return vd_fail(c, "must be 1..65535");
}

/* A hop key (already type-checked as an integer, maybe absent), and the
 * record's flow: the capture's id of its socket (0: none), a uint32_t. */
static int
check_hop(struct vctx *c, const json_t *obj)
{
	const json_t *h = vd_get(obj, "hop"), *f = vd_get(obj, "flow");

	if (f != NULL &&
	    (json_integer_value(f) < 0 || json_integer_value(f) > UINT32_MAX)) {
		vd_push_key(c, "flow");
		return vd_fail(c, "must be 0..%lu", (unsigned long)UINT32_MAX);
	}
	if (h == NULL ||
	    (json_integer_value(h) >= 0 && json_integer_value(h) <= MAX_HOP))
		return 0;
	vd_push_key(c, "hop");
	return vd_fail(c, "must be 0..%d", MAX_HOP);
}

/* A number key of obj (type-checked, maybe null) is finite and >= 0. */
static int
check_nonneg(struct vctx *c, const json_t *obj, const char *key)
{
	const json_t *v = vd_get(obj, key);
	double d;

	if (v == NULL || json_is_null(v))
		return 0;
	d = json_number_value(v);
	if (d >= 0 && isfinite(d))
		return 0;
	vd_push_key(c, key);
	return vd_fail(c, "must be >= 0");
}

/* A transfer object at key of obj (type-checked; absent or null: fine). */
static int
check_transfer(struct vctx *c, const json_t *obj)
{
	static const char *const keys[] = {
		"bytes", "body_bytes", "t_first_byte",	  "t_last_byte",
		"rate",	 "wire_bytes", "t_last_wire_byte"};
	const json_t *t = vd_get(obj, "transfer"), *v;
	size_t old;

	if (t == NULL || json_is_null(t))
		return 0;
	old = vd_push_key(c, "transfer");
	if (CHECK_KEYS(c, t, transfer_keys) != 0)
		return -1;
	for (size_t i = 0; i < WW_ARRAY_LEN(keys); i++)
		if (check_nonneg(c, t, keys[i]) != 0)
			return -1;
	v = vd_get(t, "wire_bytes");
	if (v != NULL && json_integer_value(v) > MAX_WIRE_BYTES) {
		vd_push_key(c, "wire_bytes");
		return vd_fail(c, "must be at most %lld", MAX_WIRE_BYTES);
	}
	v = vd_get(t, "t_last_wire_byte");
	if (v != NULL && json_is_number(v) &&
	    json_number_value(v) > MAX_WIRE_SECONDS) {
		vd_push_key(c, "t_last_wire_byte");
		return vd_fail(c, "must be at most %.0f", MAX_WIRE_SECONDS);
	}
	vd_pop(c, old);
	return 0;
}

static int
check_answer(struct vctx *c, const json_t *a)
{
	return CHECK_KEYS(c, a, answer_keys);
}

static int
check_query(struct vctx *c, const json_t *q)
{
	if (CHECK_KEYS(c, q, query_keys) != 0 || check_hop(c, q) != 0)
		return -1;
	return vd_check_elements(c, q, "answers", MAX_ANSWERS, check_answer);
}

static int
check_tcp(struct vctx *c, const json_t *t)
{
	size_t old;

	if (CHECK_KEYS(c, t, tcp_keys) != 0 || check_port(c, t) != 0 ||
	    check_hop(c, t) != 0)
		return -1;
	old = vd_push_key(c, "status");
	if (CHECK_KEYS(c, vd_get(t, "status"), tcp_status_keys) != 0)
		return -1;
	vd_pop(c, old);
	return 0;
}

static int
check_cert(struct vctx *c, const json_t *cert)
{
	return CHECK_KEYS(c, cert, cert_keys);
}

static int
check_tls(struct vctx *c, const json_t *t)
{
	if (CHECK_KEYS(c, t, tls_keys) != 0 || check_port(c, t) != 0 ||
	    check_hop(c, t) != 0)
		return -1;
	return vd_check_elements(c, t, "peer_certificates", MAX_CERTS,
				 check_cert);
}

/* headers (name -> string) and headers_list ([name, value] pairs) of a
 * request or response, both optional and already type-checked. */
static int
check_headers(struct vctx *c, const json_t *obj)
{
	const json_t *map = vd_get(obj, "headers"), *list, *v;
	const char *key;
	size_t old, i;

	if (map != NULL) {
		old = vd_push_key(c, "headers");
		json_object_foreach((json_t *)map, key, v)
		{
			size_t kold = vd_push_key(c, key);

			if (!json_is_string(v))
				return vd_fail(c, "must be a string");
			vd_pop(c, kold);
		}
		vd_pop(c, old);
	}
	list = vd_get(obj, "headers_list");
	if (list != NULL) {
		old = vd_push_key(c, "headers_list");
		if (vd_check_array_size(c, list, MAX_HEADERS) != 0)
			return -1;
		json_array_foreach(list, i, v)
		{
			size_t eold = vd_push_index(c, i);

			if (!json_is_array(v) || json_array_size(v) != 2 ||
			    !json_is_string(json_array_get(v, 0)) ||
			    !json_is_string(json_array_get(v, 1)))
				return vd_fail(c,
					       "must be a [name, value] pair "
					       "of strings");
			vd_pop(c, eold);
		}
		vd_pop(c, old);
	}
	return 0;
}

static int
check_request(struct vctx *c, const json_t *r)
{
	const json_t *req, *resp, *body;
	size_t old;

	if (CHECK_KEYS(c, r, request_keys) != 0 || check_hop(c, r) != 0 ||
	    check_transfer(c, r) != 0)
		return -1;
	req = vd_get(r, "request");
	old = vd_push_key(c, "request");
	if (CHECK_KEYS(c, req, http_req_keys) != 0 ||
	    check_headers(c, req) != 0)
		return -1;
	vd_pop(c, old);
	resp = vd_get(r, "response");
	if (json_is_null(resp))
		return 0;
	old = vd_push_key(c, "response");
	if (CHECK_KEYS(c, resp, http_resp_keys) != 0 ||
	    check_headers(c, resp) != 0)
		return -1;
	body = vd_get(resp, "body");
	if (json_is_object(body)) {
		size_t bold = vd_push_key(c, "body");

		if (CHECK_KEYS(c, body, body_keys) != 0)
			return -1;
		vd_pop(c, bold);
	}
	vd_pop(c, old);
	return 0;
}

static int
check_attempt(struct vctx *c, const json_t *a)
{
	return CHECK_KEYS(c, a, attempt_keys);
}

/* --- test_keys ------------------------------------------------------------ */

static const struct keyspec test_keys_keys[] = {
	{"queries", T_ARR, true},
	{"tcp_connect", T_ARR, true},
	{"tls_handshakes", T_ARR, true},
	{"requests", T_ARR, true},
	{"control", T_OBJ | T_NULL, true},
	{"control_failure", T_STR | T_NULL, true},
	{"control_attempts", T_ARR, false},
	{"network_check", T_OBJ, false},
	{"category_code", T_STR | T_NULL, false},
	{"resolver", T_STR, false},
	{"control_sni", T_STR | T_NULL, false},
};

static int
check_network_check(struct vctx *c, const json_t *nc)
{
	const json_t *refs, *v;
	size_t old, i;

	old = vd_push_key(c, "network_check");
	if (CHECK_KEYS(c, nc, network_check_keys) != 0)
		return -1;
	refs = vd_get(nc, "references");
	vd_push_key(c, "references");
	if (vd_check_array_size(c, refs, WW_VALIDATE_MAX_ARRAY) != 0)
		return -1;
	json_array_foreach(refs, i, v)
	{
		if (!json_is_string(v)) {
			vd_push_index(c, i);
			return vd_fail(c, "must be a string");
		}
	}
	vd_pop(c, old);
	return 0;
}

/* An object of "ip:port" -> object, at most MAX_HOP_ENDPOINTS entries. */
static int
check_hop_endpoints(struct vctx *c, const json_t *h, const char *key)
{
	const json_t *o = vd_get(h, key), *e;
	const char *k;
	size_t old;

	if (o == NULL)
		return 0;
	old = vd_push_key(c, key);
	if (json_object_size(o) > MAX_HOP_ENDPOINTS)
		return vd_fail(c, "has %zu entries, more than %d",
			       json_object_size(o), MAX_HOP_ENDPOINTS);
	json_object_foreach((json_t *)o, k, e)
	{
		size_t kold = vd_push_key(c, k);

		if (!json_is_object(e) ||
		    !json_is_boolean(json_object_get(e, "status")))
			return vd_fail(c, "must be an object with a boolean "
					  "status");
		vd_pop(c, kold);
	}
	vd_pop(c, old);
	return 0;
}

/* One element of control.hops. */
static int
check_control_hop(struct vctx *c, const json_t *h)
{
	const json_t *dns, *http;
	size_t old;

	if (CHECK_KEYS(c, h, control_hop_keys) != 0 ||
	    check_hop_endpoints(c, h, "tcp_connect") != 0 ||
	    check_hop_endpoints(c, h, "tls_handshake") != 0)
		return -1;
	dns = vd_get(h, "dns");
	if (dns != NULL && json_is_object(dns)) {
		old = vd_push_key(c, "dns");
		if (CHECK_KEYS(c, dns, control_hop_dns_keys) != 0)
			return -1;
		if (vd_get(dns, "addrs") != NULL) {
			size_t aold = vd_push_key(c, "addrs");
			const json_t *v;
			size_t i;

			if (vd_check_array_size(c, vd_get(dns, "addrs"),
						MAX_HOP_ENDPOINTS) != 0)
				return -1;
			json_array_foreach(vd_get(dns, "addrs"), i, v)
			{
				if (!json_is_string(v)) {
					vd_push_index(c, i);
					return vd_fail(c, "must be a string");
				}
			}
			vd_pop(c, aold);
		}
		vd_pop(c, old);
	}
	http = vd_get(h, "http_request");
	if (http != NULL && json_is_object(http)) {
		old = vd_push_key(c, "http_request");
		if (CHECK_KEYS(c, http, control_hop_http_keys) != 0 ||
		    check_transfer(c, http) != 0)
			return -1;
		vd_pop(c, old);
	}
	return 0;
}

/* control.hops, when the answer has them (our protocol since 0.2.0). The
 * rest of the control answer is the analysis's to read defensively. */
static int
check_control(struct vctx *c, const json_t *tk)
{
	const json_t *ctl = vd_get(tk, "control"), *hops;
	size_t old;
	int rc;

	if (!json_is_object(ctl) || (hops = vd_get(ctl, "hops")) == NULL)
		return 0;
	old = vd_push_key(c, "control");
	if (!json_is_array(hops)) {
		vd_push_key(c, "hops");
		return vd_fail(c, "must be an array");
	}
	rc = vd_check_elements(c, ctl, "hops", MAX_HOPS, check_control_hop);
	if (rc == 0)
		vd_pop(c, old);
	return rc;
}

int
vd_check_test_keys(struct vctx *c, const json_t *tk)
{
	size_t old = vd_push_key(c, "test_keys");

	if (CHECK_KEYS(c, tk, test_keys_keys) != 0 ||
	    vd_check_elements(c, tk, "queries", WW_VALIDATE_MAX_ARRAY,
			      check_query) != 0 ||
	    vd_check_elements(c, tk, "tcp_connect", WW_VALIDATE_MAX_ARRAY,
			      check_tcp) != 0 ||
	    vd_check_elements(c, tk, "tls_handshakes", WW_VALIDATE_MAX_ARRAY,
			      check_tls) != 0 ||
	    vd_check_elements(c, tk, "requests", WW_VALIDATE_MAX_ARRAY,
			      check_request) != 0)
		return -1;
	if (vd_get(tk, "control_attempts") != NULL &&
	    vd_check_elements(c, tk, "control_attempts", WW_VALIDATE_MAX_ARRAY,
			      check_attempt) != 0)
		return -1;
	if (vd_get(tk, "network_check") != NULL &&
	    check_network_check(c, vd_get(tk, "network_check")) != 0)
		return -1;
	if (check_control(c, tk) != 0 || vd_check_packets(c, tk) != 0 ||
	    vd_check_exchanges(c, tk) != 0)
		return -1;
	vd_pop(c, old);
	return 0;
}
