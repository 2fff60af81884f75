/*
 * control.c - control requests and answers (docs/control-protocol.md).
 *
 * The answer is OONI's test-helper answer (internal/model/th.go in
 * ooni/probe-cli) plus keys of ours, so one shape serves both protocols;
 * only the DNS failure strings differ, because OONI's probes compare them
 * with the legacy helper's ("dns_name_error").
 */
#include "control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "failure.h"
#include "ipaddr.h"
#include "target.h"
#include "util.h"

/* OONI's ip_info flags (THIPInfoFlag* in probe-cli's model/th.go). */
enum {
	IPINFO_PROBE = 1,
	IPINFO_CONTROL = 2,
	IPINFO_BOGON = 4,
	IPINFO_VALID_FOR_DOMAIN = 8,
};

/* Bounds on an answer the probe accepts (entries per object). */
#define ANSWER_MAX_ENTRIES 256

/* --- requests ------------------------------------------------------------- */

/* err = "key: msg" (or msg alone); returns -1. */
static int
fail(char *err, size_t errlen, const char *key, const char *msg)
{
	snprintf(err, errlen, "%s%s%s", key ? key : "", key ? ": " : "", msg);
	return -1;
}

static void
add_addr(struct ww_control_req *r, const char *ip)
{
	for (size_t i = 0; i < r->n_addrs; i++)
		if (strcmp(r->addrs[i], ip) == 0)
			return;
	r->addrs[r->n_addrs++] = xstrdup(ip);
}

static int
parse_input(struct ww_control_req *r, const json_t *v, const char *key,
	    char *err, size_t errlen)
{
	struct ww_target t;
	char why[256];

	if (!json_is_string(v))
		return fail(err, errlen, key, "required, a string");
	if (json_string_length(v) > WW_CONTROL_MAX_INPUT)
		return fail(err, errlen, key, "longer than 2048 bytes");
	if (ww_target_parse(json_string_value(v), &t, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: %s", key, why);
		return -1;
	}
	ww_target_clear(&t);
	r->input = xstrdup(json_string_value(v));
	return 0;
}

/* "ip:port" or "[ip6]:port" -> ip; NULL if not that shape. */
static char *
endpoint_ip(const char *s)
{
	const char *colon;
	char *ip;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end[1] != ':')
			return NULL;
		ip = xstrndup(s + 1, (size_t)(end - s - 1));
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return NULL;
		ip = xstrndup(s, (size_t)(colon - s));
	}
	if (!ww_ip_is_literal(ip)) {
		free(ip);
		return NULL;
	}
	return ip;
}

static int
parse_addrs(struct ww_control_req *r, const json_t *arr, bool endpoints,
	    char *err, size_t errlen)
{
	const char *key = endpoints ? "tcp_connect" : "addrs";
	size_t i;
	json_t *v;

	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return fail(err, errlen, key, "must be an array");
	/* OONI's probes send each address with two ports (80 and 443). */
	if (json_array_size(arr) > (endpoints ? 2 : 1) * WW_CONTROL_MAX_ADDRS)
		return fail(err, errlen, key, "more than 16 addresses");
	r->addrs = xcalloc(json_array_size(arr) + 1, sizeof(char *));
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		char *ip;

		if (s == NULL || strlen(s) > 64) {
			snprintf(err, errlen, "%s[%zu]: not an address", key,
				 i);
			return -1;
		}
		ip = endpoints ? endpoint_ip(s)
			       : (ww_ip_is_literal(s) ? xstrdup(s) : NULL);
		if (ip == NULL) {
			snprintf(err, errlen, "%s[%zu]: \"%s\" is not %s", key,
				 i, s,
				 endpoints ? "an ip:port endpoint"
					   : "an IP address");
			return -1;
		}
		add_addr(r, ip);
		free(ip);
	}
	if (r->n_addrs > WW_CONTROL_MAX_ADDRS)
		return fail(err, errlen, key, "more than 16 addresses");
	return 0;
}

/* "quic": true asks an https input's QUIC step too (the exchanges of a
 * quic:// target at the URL's host and port); absent or false: not. */
static int
parse_quic(struct ww_control_req *r, const json_t *v, char *err, size_t errlen)
{
	struct ww_target t;
	char why[256];
	bool https;

	if (v == NULL || json_is_false(v))
		return 0;
	if (!json_is_true(v))
		return fail(err, errlen, "quic", "must be a boolean");
	if (ww_target_parse(r->input, &t, why, sizeof(why)) != 0)
		return fail(err, errlen, "input", why);
	https = t.kind == WW_TARGET_HTTPS;
	ww_target_clear(&t);
	if (!https)
		return fail(err, errlen, "quic", "only for an https input");
	r->quic = true;
	return 0;
}

int
ww_control_req_parse(const char *body, size_t len, bool ooni,
		     struct ww_control_req *r, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *j, *sni;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->ooni = ooni;
	if (len > WW_CONTROL_MAX_REQUEST)
		return fail(err, errlen, NULL, "request body over 64 KiB");
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		snprintf(err, errlen, "not JSON: %s (line %d)", jerr.text,
			 jerr.line);
		return -1;
	}
	if (!json_is_object(j)) {
		fail(err, errlen, NULL, "the request must be a JSON object");
		goto out;
	}
	if (ooni) {
		/* http_request_headers are accepted and not used: the
		 * control sends a browser's headers, as the probe does. */
		if (parse_input(r, json_object_get(j, "http_request"),
				"http_request", err, errlen) != 0 ||
		    parse_addrs(r, json_object_get(j, "tcp_connect"), true, err,
				errlen) != 0)
			goto out;
	} else {
		if (parse_input(r, json_object_get(j, "input"), "input", err,
				errlen) != 0 ||
		    parse_addrs(r, json_object_get(j, "addrs"), false, err,
				errlen) != 0)
			goto out;
		if (parse_quic(r, json_object_get(j, "quic"), err, errlen) != 0)
			goto out;
		sni = json_object_get(j, "sni");
		/* An IP literal is no server name (RFC 6066 section 3):
		 * as absent, the handshakes then send none and verify the
		 * address (older probes sent the input's IP here). */
		if (json_is_string(sni) &&
		    ww_ip_is_literal(json_string_value(sni)))
			sni = NULL;
		if (sni != NULL && !json_is_null(sni)) {
			r->sni = xstrdup(json_is_string(sni)
						 ? json_string_value(sni)
						 : "");
			if (!ww_hostname_normalize(r->sni)) {
				fail(err, errlen, "sni", "must be a host name");
				goto out;
			}
		}
	}
	rc = 0;
out:
	json_decref(j);
	if (rc != 0)
		ww_control_req_clear(r);
	return rc;
}

void
ww_control_req_clear(struct ww_control_req *r)
{
	free(r->input);
	for (size_t i = 0; i < r->n_addrs; i++)
		free(r->addrs[i]);
	free(r->addrs);
	free(r->sni);
	memset(r, 0, sizeof(*r));
}

/* --- answers -------------------------------------------------------------- */

static json_t *
jstr_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
failure_value(const char *f, const char *detail)
{
	if (f == NULL)
		return json_null();
	if (f == failure_unknown)
		return json_sprintf("unknown_failure: %s",
				    detail ? detail : "?");
	return json_string(f);
}

static char *
endpoint_key(const char *ip, int port)
{
	return strchr(ip, ':') != NULL ? xasprintf("[%s]:%d", ip, port)
				       : xasprintf("%s:%d", ip, port);
}

/* OONI's probes compare DNS failures with the legacy helper's strings
 * (oohelperd dnsMapFailure); our own protocol keeps ours. */
static const char *
ooni_dns_failure(const char *f)
{
	if (f == NULL || f == failure_dns_no_answer)
		return NULL;
	if (f == failure_dns_nxdomain)
		return "dns_name_error";
	if (f == failure_dns_servfail || f == failure_dns_refused ||
	    f == failure_dns_server_misbehaving)
		return "dns_server_failure";
	return "unknown_error";
}

/* The control's own lookup: the first two queries, for the input's host. */
static json_t *
dns_answer(const struct ww_measurement *m, const struct ww_target *t,
	   const struct ww_control_req *r, json_t *own)
{
	json_t *o = json_object();
	const char *f = NULL, *detail = NULL;
	bool nx = false;
	int rcode = -1;

	if (t->host_is_ip) {
		json_array_append_new(own, json_string(t->host));
	} else {
		for (size_t i = 0; i < m->n_queries && i < 2; i++) {
			const struct ww_query *q = &m->queries[i];

			if (q->hop != 0 || strcmp(q->hostname, t->host) != 0)
				continue;
			if (i == 0)
				rcode = q->rcode;
			for (size_t k = 0; k < q->n_answers; k++)
				if (q->answers[k].type != WW_RR_CNAME)
					json_array_append_new(
						own,
						json_string(
							q->answers[k].value));
			if (q->failure == failure_dns_nxdomain)
				nx = true;
			if (f == NULL && q->failure != NULL) {
				f = q->failure;
				detail = q->failure_detail;
			}
		}
		if (json_array_size(own) > 0)
			f = NULL;
		else if (nx)
			f = failure_dns_nxdomain;
		else if (f == NULL)
			f = failure_dns_no_answer;
	}
	json_object_set_new(o, "failure",
			    r->ooni ? jstr_or_null(ooni_dns_failure(f))
				    : failure_value(f, detail));
	json_object_set(o, "addrs", own);
	if (!r->ooni)
		json_object_set_new(o, "rcode",
				    jstr_or_null(ww_rcode_name(rcode)));
	return o;
}

/* The connects of one hop (the top-level answer: hop 0's). */
static json_t *
tcp_answer(const struct ww_measurement *m, int hop)
{
	json_t *o = json_object();

	for (size_t i = 0; i < m->n_tcp; i++) {
		const struct ww_tcp *c = &m->tcp[i];
		char *key;
		json_t *e;

		if (c->hop != hop)
			continue;
		key = endpoint_key(c->ip, c->port);
		e = json_object();

		json_object_set_new(e, "status",
				    json_boolean(c->failure == NULL));
		json_object_set_new(
			e, "failure",
			failure_value(c->failure, c->failure_detail));
		json_object_set_new(o, key, e);
		free(key);
	}
	return o;
}

/* The handshakes of one hop (the top-level answer: hop 0's). */
static json_t *
tls_answer(const struct ww_measurement *m, bool ooni, int hop)
{
	json_t *o = json_object();

	for (size_t i = 0; i < m->n_tls; i++) {
		const struct ww_tls *h = &m->tls[i];
		char *key;
		json_t *e;

		if (h->hop != hop)
			continue;
		key = endpoint_key(h->ip, h->port);
		e = json_object();

		json_object_set_new(e, "server_name",
				    json_string(h->server_name));
		json_object_set_new(e, "status",
				    json_boolean(h->failure == NULL));
		json_object_set_new(
			e, "failure",
			failure_value(h->failure, h->failure_detail));
		if (!ooni) {
			json_object_set_new(e, "handshake_done",
					    json_boolean(h->handshake_done));
			json_object_set_new(e, "verified",
					    json_boolean(h->verified));
			json_object_set_new(e, "verify_error",
					    jstr_or_null(h->verify_error));
			json_object_set_new(
				e, "leaf_sha256",
				h->n_certs > 0 ? json_string(h->certs[0].sha256)
					       : json_null());
		}
		json_object_set_new(o, key, e);
		free(key);
	}
	return o;
}

static bool
has_address(const struct ww_query *q)
{
	for (size_t k = 0; k < q->n_answers; k++)
		if (q->answers[k].type != WW_RR_CNAME)
			return true;
	return false;
}

/* Why hop has no HTTP result: the first failure on the way there. */
static void
no_http_failure(const struct ww_measurement *m, int hop, const char **f,
		const char **detail)
{
	*f = failure_unknown;
	*detail = "no request was made";
	for (size_t i = 0; i < m->n_queries; i++)
		if (m->queries[i].hop == hop && has_address(&m->queries[i])) {
			/* Addresses, yet no request: every one of them was
			 * refused as private (see measure.c). */
			*f = failure_dns_bogon;
			*detail = NULL;
			return;
		}
	for (size_t i = 0; i < m->n_queries; i++)
		if (m->queries[i].hop == hop && m->queries[i].failure != NULL) {
			*f = m->queries[i].failure;
			*detail = m->queries[i].failure_detail;
			return;
		}
	for (size_t i = 0; i < m->n_tcp; i++)
		if (m->tcp[i].hop == hop && m->tcp[i].failure != NULL) {
			*f = m->tcp[i].failure;
			*detail = m->tcp[i].failure_detail;
			return;
		}
}

/* The answer's http_request for h (NULL: no request was made in hop). */
static json_t *
http_answer(const struct ww_measurement *m, const struct ww_http *h, int hop,
	    bool ooni)
{
	json_t *o = json_object(), *hdrs = json_object();
	const char *f, *detail;

	if (h == NULL) {
		no_http_failure(m, hop, &f, &detail);
	} else {
		f = h->failure;
		detail = h->failure_detail;
		/* A response cut by the download cap is still a response. */
		if (f != NULL && h->status > 0 && h->body_truncated)
			f = NULL;
		/* OONI's answer stays what it was before the redirect limit
		 * had a failure of its own: the last response, no failure. */
		if (ooni && f == failure_http_too_many_redirects)
			f = NULL;
	}
	if (h != NULL && h->status > 0)
		for (size_t i = 0; i < h->n_headers; i++)
			json_object_set_new(hdrs, h->headers[i].name,
					    json_string(h->headers[i].value));
	json_object_set_new(o, "failure", failure_value(f, detail));
	json_object_set_new(o, "status_code",
			    json_integer(h && h->status > 0 ? h->status : -1));
	json_object_set_new(o, "body_length",
			    json_integer(h && h->status > 0
						 ? (json_int_t)h->body_length
						 : -1));
	json_object_set_new(o, "title",
			    json_string(h && h->title ? h->title : ""));
	json_object_set_new(o, "headers", hdrs);
	if (ooni) {
		json_object_set_new(o, "discovered_h3_endpoint",
				    json_string(""));
	} else {
		json_object_set_new(o, "body_sha256",
				    h && h->status > 0
					    ? json_string(h->body_sha256)
					    : json_null());
		json_object_set_new(o, "final_url",
				    h ? json_string(h->url) : json_null());
	}
	return o;
}

/* Did a handshake to ip verify for the name? OONI's "valid for domain". */
static bool
valid_for_domain(const struct ww_measurement *m, const char *ip)
{
	for (size_t i = 0; i < m->n_tls; i++)
		if (m->tls[i].hop == 0 && m->tls[i].verified &&
		    strcmp(m->tls[i].ip, ip) == 0)
			return true;
	return false;
}

static void
ipinfo_add(json_t *o, const struct ww_measurement *m, const char *ip, int flag)
{
	json_t *e = json_object_get(o, ip);
	int flags;

	if (e == NULL) {
		e = json_object();
		json_object_set_new(e, "asn", json_integer(0));
		flags = flag | (ww_ip_is_bogon(ip) ? IPINFO_BOGON : 0) |
			(valid_for_domain(m, ip) ? IPINFO_VALID_FOR_DOMAIN : 0);
		json_object_set_new(e, "flags", json_integer(flags));
		json_object_set_new(o, ip, e);
		return;
	}
	flags = (int)json_integer_value(json_object_get(e, "flags"));
	json_object_set_new(e, "flags", json_integer(flags | flag));
}

static json_t *
ipinfo_answer(const struct ww_measurement *m, const struct ww_control_req *r,
	      const json_t *own)
{
	json_t *o = json_object();
	size_t i;
	json_t *v;

	for (i = 0; i < r->n_addrs; i++)
		ipinfo_add(o, m, r->addrs[i], IPINFO_PROBE);
	json_array_foreach(own, i, v)
		ipinfo_add(o, m, json_string_value(v), IPINFO_CONTROL);
	return o;
}

/* --- hops (our protocol) ------------------------------------------------- */

/* How many hops the records cover: 1 + the highest hop seen. */
static int
hop_count(const struct ww_measurement *m)
{
	int n = 1;

	for (size_t i = 0; i < m->n_queries; i++)
		n = m->queries[i].hop >= n ? m->queries[i].hop + 1 : n;
	for (size_t i = 0; i < m->n_tcp; i++)
		n = m->tcp[i].hop >= n ? m->tcp[i].hop + 1 : n;
	for (size_t i = 0; i < m->n_tls; i++)
		n = m->tls[i].hop >= n ? m->tls[i].hop + 1 : n;
	for (size_t i = 0; i < m->n_http; i++)
		n = m->http[i].hop >= n ? m->http[i].hop + 1 : n;
	return n <= WW_CONTROL_MAX_HOPS ? n : WW_CONTROL_MAX_HOPS;
}

static const struct ww_http *
hop_request(const struct ww_measurement *m, int hop)
{
	for (size_t i = m->n_http; i > 0; i--)
		if (m->http[i - 1].hop == hop)
			return &m->http[i - 1];
	return NULL;
}

/* The hop's own lookup; null when it made none (an IP literal, or a host
 * an earlier hop resolved). */
static json_t *
hop_dns(const struct ww_measurement *m, int hop)
{
	json_t *o, *addrs;
	const char *host = NULL, *f = NULL, *detail = NULL;
	bool nx = false;

	for (size_t i = 0; i < m->n_queries && host == NULL; i++)
		if (m->queries[i].hop == hop)
			host = m->queries[i].hostname;
	if (host == NULL)
		return json_null();
	addrs = json_array();
	for (size_t i = 0; i < m->n_queries; i++) {
		const struct ww_query *q = &m->queries[i];

		if (q->hop != hop)
			continue;
		for (size_t k = 0; k < q->n_answers; k++)
			if (q->answers[k].type != WW_RR_CNAME)
				json_array_append_new(
					addrs,
					json_string(q->answers[k].value));
		nx = nx || q->failure == failure_dns_nxdomain;
		if (f == NULL && q->failure != NULL) {
			f = q->failure;
			detail = q->failure_detail;
		}
	}
	if (json_array_size(addrs) > 0)
		f = NULL;
	else if (nx)
		f = failure_dns_nxdomain;
	else if (f == NULL)
		f = failure_dns_no_answer;
	o = json_object();
	json_object_set_new(o, "host", json_string(host));
	json_object_set_new(o, "failure", failure_value(f, detail));
	json_object_set_new(o, "addrs", addrs);
	return o;
}

/* The hop's URL: its request's, else what led there. */
static json_t *
hop_url(const struct ww_measurement *m, const struct ww_control_req *r, int hop)
{
	const struct ww_http *h = hop_request(m, hop);

	if (h != NULL && h->url != NULL)
		return json_string(h->url);
	if (hop == 0)
		return json_string(r->input);
	h = hop_request(m, hop - 1);
	return h != NULL && h->location != NULL ? json_string(h->location)
						: json_null();
}

/*
 * "hops": each URL of the chain as the control measured it, so that the
 * probe's hop k can be told apart from a hop that fails for everyone.
 */
static json_t *
hops_answer(const struct ww_measurement *m, const struct ww_control_req *r,
	    bool web)
{
	json_t *arr = json_array();
	int n = hop_count(m);

	for (int k = 0; k < n; k++) {
		const struct ww_http *h = hop_request(m, k);
		json_t *o = json_object(), *http = http_answer(m, h, k, false);

		if (!web) { /* tcp://, tls://: no request in any hop */
			json_decref(http);
			http = NULL;
		}
		json_object_set_new(o, "url", hop_url(m, r, k));
		json_object_set_new(o, "dns", hop_dns(m, k));
		json_object_set_new(o, "tcp_connect", tcp_answer(m, k));
		json_object_set_new(o, "tls_handshake",
				    tls_answer(m, false, k));
		json_object_set_new(o, "http_request",
				    http != NULL ? http : json_null());
		json_array_append_new(arr, o);
		if (http == NULL)
			continue;
		json_object_del(http, "final_url");
		json_object_set_new(
			http, "location",
			jstr_or_null(h && h->status > 0 ? h->location : NULL));
		json_object_set_new(http, "transfer",
				    h != NULL ? ww_transfer_json(&h->transfer)
					      : json_null());
	}
	return arr;
}

json_t *
ww_control_answer(const struct ww_measurement *m,
		  const struct ww_control_req *r)
{
	json_t *o = json_object(), *own = json_array();
	struct ww_target t;
	char err[256];
	bool web;

	if (ww_target_parse(r->input, &t, err, sizeof(err)) != 0)
		abort(); /* parsed when the request came in */
	web = t.kind == WW_TARGET_HTTP || t.kind == WW_TARGET_HTTPS;
	json_object_set_new(o, "dns", dns_answer(m, &t, r, own));
	json_object_set_new(o, "tcp_connect", tcp_answer(m, 0));
	json_object_set_new(o, "tls_handshake", tls_answer(m, r->ooni, 0));
	json_object_set_new(
		o, "http_request",
		web || r->ooni
			? http_answer(
				  m, m->n_http ? &m->http[m->n_http - 1] : NULL,
				  0, r->ooni)
			: json_null());
	json_object_set_new(o, "ip_info", ipinfo_answer(m, r, own));
	if ((ww_target_is_vpn(t.kind) || r->quic) && !r->ooni)
		json_object_set_new(o, "exchanges", ww_control_exchanges(m));
	if (r->ooni) {
		json_object_set_new(o, "quic_handshake", json_object());
		json_object_set_new(o, "http3_request", json_null());
	} else {
		json_object_set_new(o, "hops", hops_answer(m, r, web));
		json_object_set_new(o, "engine", json_string("wallwatch"));
		json_object_set_new(o, "engine_version",
				    json_string(WW_TEST_VERSION));
		json_object_set_new(
			o, "runtime",
			json_real((double)(long)(m->test_runtime * 1e6) / 1e6));
	}
	json_decref(own);
	ww_target_clear(&t);
	return o;
}

/* --- checking an answer (probe side) -------------------------------------- */

static int
check_failure(const json_t *e, const char *where, char *err, size_t errlen)
{
	const json_t *f = json_object_get(e, "failure");

	if (f != NULL && !json_is_null(f) && !json_is_string(f))
		return fail(err, errlen, where,
			    "failure must be a string or null");
	return 0;
}

/* An object of "ip:port" -> {status: bool, failure}. */
static int
check_endpoints(const json_t *o, const char *key, char *err, size_t errlen)
{
	const char *k;
	json_t *e;

	if (o == NULL || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return fail(err, errlen, key, "must be an object");
	if (json_object_size(o) > ANSWER_MAX_ENTRIES)
		return fail(err, errlen, key, "too many entries");
	json_object_foreach((json_t *)o, k, e)
	{
		if (!json_is_object(e) ||
		    !json_is_boolean(json_object_get(e, "status")))
			return fail(err, errlen,
				    "%s: each entry needs a boolean status",
				    key);
		if (check_failure(e, key, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* A transfer object: the documented keys, numbers (or null for times). */
static int
check_transfer(const json_t *t, const char *where, char *err, size_t errlen)
{
	static const char *const ints[] = {"bytes", "body_bytes", "wire_bytes"};
	static const char *const nums[] = {"t_first_byte", "t_last_byte",
					   "rate", "t_last_wire_byte"};
	const json_t *v;

	if (t == NULL || json_is_null(t))
		return 0;
	if (!json_is_object(t))
		return fail(err, errlen, where, "transfer must be an object");
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		v = json_object_get(t, ints[i]);
		if (v != NULL &&
		    (!json_is_integer(v) || json_integer_value(v) < 0))
			return fail(err, errlen, where,
				    "transfer byte counts must be integers "
				    ">= 0");
	}
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		v = json_object_get(t, nums[i]);
		if (v != NULL && !json_is_null(v) && !json_is_number(v))
			return fail(err, errlen, where,
				    "transfer times and rate must be numbers "
				    "or null");
	}
	return 0;
}

/* An http_request object (null allowed). */
static int
check_http(const json_t *http, const char *where, char *err, size_t errlen)
{
	const json_t *loc;

	if (http == NULL || json_is_null(http))
		return 0;
	if (!json_is_object(http) ||
	    !json_is_integer(json_object_get(http, "status_code")))
		return fail(err, errlen, where, "needs an integer status_code");
	loc = json_object_get(http, "location");
	if (loc != NULL && !json_is_null(loc) && !json_is_string(loc))
		return fail(err, errlen, where,
			    "location must be a string or null");
	if (check_failure(http, where, err, errlen) != 0)
		return -1;
	return check_transfer(json_object_get(http, "transfer"), where, err,
			      errlen);
}

/* An array of strings, at most ANSWER_MAX_ENTRIES. */
static int
check_addrs(const json_t *addrs, const char *where, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	if (addrs == NULL || json_is_null(addrs))
		return 0;
	if (!json_is_array(addrs) ||
	    json_array_size(addrs) > ANSWER_MAX_ENTRIES)
		return fail(err, errlen, where,
			    "addrs must be an array of addresses");
	json_array_foreach(addrs, i, v)
	{
		if (!json_is_string(v))
			return fail(err, errlen, where,
				    "addrs must hold strings");
	}
	return 0;
}

/* One element of "hops". */
static int
check_hop(const json_t *h, char *err, size_t errlen)
{
	const json_t *url = json_object_get(h, "url"), *dns;

	if (!json_is_object(h))
		return fail(err, errlen, "hops", "each hop must be an object");
	if (url != NULL && !json_is_null(url) && !json_is_string(url))
		return fail(err, errlen, "hops",
			    "url must be a string or null");
	dns = json_object_get(h, "dns");
	if (dns != NULL && !json_is_null(dns)) {
		const json_t *host = json_object_get(dns, "host");

		if (!json_is_object(dns))
			return fail(err, errlen, "hops",
				    "dns must be an object or null");
		if (host != NULL && !json_is_string(host))
			return fail(err, errlen, "hops",
				    "dns.host must be a string");
		if (check_addrs(json_object_get(dns, "addrs"), "hops.dns", err,
				errlen) != 0 ||
		    check_failure(dns, "hops.dns", err, errlen) != 0)
			return -1;
	}
	if (check_endpoints(json_object_get(h, "tcp_connect"),
			    "hops.tcp_connect", err, errlen) != 0 ||
	    check_endpoints(json_object_get(h, "tls_handshake"),
			    "hops.tls_handshake", err, errlen) != 0)
		return -1;
	return check_http(json_object_get(h, "http_request"),
			  "hops.http_request", err, errlen);
}

/* Our protocol's "hops" (absent in OONI's and in older answers). */
static int
check_hops(const json_t *hops, char *err, size_t errlen)
{
	size_t i;
	json_t *h;

	if (hops == NULL || json_is_null(hops))
		return 0;
	if (!json_is_array(hops))
		return fail(err, errlen, "hops", "must be an array");
	if (json_array_size(hops) > WW_CONTROL_MAX_HOPS)
		return fail(err, errlen, "hops", "more than 11 hops");
	json_array_foreach(hops, i, h)
	{
		if (check_hop(h, err, errlen) != 0)
			return -1;
	}
	return 0;
}

int
ww_control_answer_check(const json_t *a, char *err, size_t errlen)
{
	const json_t *dns, *http, *addrs;
	size_t i;
	json_t *v;

	if (!json_is_object(a))
		return fail(err, errlen, NULL, "not a JSON object");
	dns = json_object_get(a, "dns");
	if (!json_is_object(dns))
		return fail(err, errlen, NULL, "dns: missing or not an object");
	addrs = json_object_get(dns, "addrs");
	if (addrs != NULL && !json_is_null(addrs)) {
		if (!json_is_array(addrs) ||
		    json_array_size(addrs) > ANSWER_MAX_ENTRIES)
			return fail(err, errlen, NULL,
				    "dns.addrs: must be an array of addresses");
		json_array_foreach(addrs, i, v)
		{
			if (!json_is_string(v))
				return fail(err, errlen, NULL,
					    "dns.addrs: must hold strings");
		}
	}
	if (check_failure(dns, "dns", err, errlen) != 0 ||
	    check_endpoints(json_object_get(a, "tcp_connect"), "tcp_connect",
			    err, errlen) != 0 ||
	    check_endpoints(json_object_get(a, "tls_handshake"),
			    "tls_handshake", err, errlen) != 0)
		return -1;
	if (!json_is_object(json_object_get(a, "tcp_connect")))
		return fail(err, errlen, NULL,
			    "tcp_connect: missing or not an object");
	http = json_object_get(a, "http_request");
	if (check_http(http, "http_request", err, errlen) != 0 ||
	    ww_control_exchanges_check(json_object_get(a, "exchanges"), err,
				       errlen) != 0)
		return -1;
	return check_hops(json_object_get(a, "hops"), err, errlen);
}
