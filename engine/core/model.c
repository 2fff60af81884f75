/*
 * model.c - measurement model: lifetime of the typed observations and their
 * JSON form. The field names follow OONI's data formats (df-000 envelope,
 * df-001 requests, df-002 queries, df-005 tcp_connect, df-006 tls) so that
 * researchers' tools read our output; docs/measurement-format.md documents
 * every key, including the ones we add.
 */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "failure.h"
#include "util.h"

struct ww_measurement *
ww_measurement_new(void)
{
	struct ww_measurement *m = xcalloc(1, sizeof(*m));

	m->annotations = json_object();
	m->options = json_object();
	m->next_transaction_id = 1;
	return m;
}

void
ww_dns_msg_clear(struct ww_dns_msg *r)
{
	for (size_t i = 0; i < r->n_addrs; i++)
		free(r->addrs[i]);
	free(r->addrs);
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

void
ww_query_clear(struct ww_query *q)
{
	for (size_t i = 0; i < q->n_replies; i++)
		ww_dns_msg_clear(&q->replies[i]);
	free(q->replies);
	for (size_t i = 0; i < q->n_answers; i++)
		free(q->answers[i].value);
	free(q->answers);
	free(q->hostname);
	free(q->resolver_address);
	free(q->raw);
	free(q->failure_detail);
	memset(q, 0, sizeof(*q));
}

void
ww_cert_clear(struct ww_cert *c)
{
	free(c->subject);
	free(c->issuer);
	for (size_t i = 0; i < c->n_sans; i++)
		free(c->sans[i]);
	free(c->sans);
	free(c->der);
	memset(c, 0, sizeof(*c));
}

void
ww_tls_clear(struct ww_tls *t)
{
	for (size_t i = 0; i < t->n_certs; i++)
		ww_cert_clear(&t->certs[i]);
	free(t->certs);
	free(t->ip);
	free(t->server_name);
	free(t->tls_version);
	free(t->cipher_suite);
	free(t->negotiated_protocol);
	free(t->verify_error);
	free(t->failure_detail);
	memset(t, 0, sizeof(*t));
}

void
ww_exchange_clear(struct ww_exchange *x)
{
	for (size_t i = 0; i < x->n_replies; i++) {
		free(x->replies[i].note);
		free(x->replies[i].raw);
	}
	free(x->replies);
	free(x->ip);
	free(x->server_name);
	free(x->failure_detail);
	memset(x, 0, sizeof(*x));
}

struct ww_xreply *
ww_exchange_add_reply(struct ww_exchange *x, double t, const unsigned char *buf,
		      size_t len)
{
	struct ww_xreply *r;
	size_t keep = len < WW_XREPLY_KEEP ? len : WW_XREPLY_KEEP;

	x->n_replies_seen++;
	if (x->n_replies >= WW_XCHG_MAX_REPLIES)
		return NULL;
	if (x->replies == NULL)
		x->replies = xcalloc(WW_XCHG_MAX_REPLIES, sizeof(*r));
	r = &x->replies[x->n_replies++];
	memset(r, 0, sizeof(*r));
	r->t = t;
	r->length = len;
	if (keep > 0) {
		r->raw = xmalloc(keep);
		memcpy(r->raw, buf, keep);
		r->raw_len = keep;
	}
	return r;
}

static void
headers_free(struct ww_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

void
ww_http_clear(struct ww_http *h)
{
	free(h->url);
	free(h->method);
	headers_free(h->request_headers, h->n_request_headers);
	free(h->ip);
	free(h->http_version);
	headers_free(h->headers, h->n_headers);
	free(h->body);
	free(h->title);
	free(h->location);
	free(h->failure_detail);
	memset(h, 0, sizeof(*h));
}

void
ww_measurement_free(struct ww_measurement *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_queries; i++)
		ww_query_clear(&m->queries[i]);
	free(m->queries);
	for (size_t i = 0; i < m->n_tcp; i++) {
		free(m->tcp[i].ip);
		free(m->tcp[i].failure_detail);
	}
	free(m->tcp);
	for (size_t i = 0; i < m->n_tls; i++)
		ww_tls_clear(&m->tls[i]);
	free(m->tls);
	for (size_t i = 0; i < m->n_http; i++)
		ww_http_clear(&m->http[i]);
	free(m->http);
	for (size_t i = 0; i < m->n_xchg; i++)
		ww_exchange_clear(&m->xchg[i]);
	free(m->xchg);
	free(m->input);
	free(m->test_name);
	free(m->test_version);
	free(m->probe_asn);
	free(m->probe_cc);
	free(m->probe_network_name);
	free(m->report_id);
	free(m->measurement_uid);
	free(m->software_name);
	free(m->software_version);
	free(m->category_code);
	free(m->resolver);
	free(m->control_sni);
	json_decref(m->annotations);
	json_decref(m->options);
	json_decref(m->control);
	free(m->control_failure_detail);
	json_decref(m->control_attempts);
	json_decref(m->network_check);
	json_decref(m->packets);
	free(m);
}

struct ww_query *
ww_add_query(struct ww_measurement *m)
{
	return WW_PUSH(m->queries, m->n_queries, m->cap_queries);
}

struct ww_tcp *
ww_add_tcp(struct ww_measurement *m)
{
	return WW_PUSH(m->tcp, m->n_tcp, m->cap_tcp);
}

struct ww_tls *
ww_add_tls(struct ww_measurement *m)
{
	return WW_PUSH(m->tls, m->n_tls, m->cap_tls);
}

struct ww_http *
ww_add_http(struct ww_measurement *m)
{
	return WW_PUSH(m->http, m->n_http, m->cap_http);
}

struct ww_exchange *
ww_add_exchange(struct ww_measurement *m)
{
	return WW_PUSH(m->xchg, m->n_xchg, m->cap_xchg);
}

struct ww_answer *
ww_add_answer(struct ww_query *q)
{
	return WW_PUSH(q->answers, q->n_answers, q->cap_answers);
}

void
ww_add_header(struct ww_header **arr, size_t *n, size_t *cap, const char *name,
	      size_t name_len, const char *value, size_t value_len)
{
	struct ww_header *h;

	ww_grow((void **)arr, sizeof(**arr), *n, cap);
	h = &(*arr)[(*n)++];
	/* Headers come off the wire: odd bytes become U+FFFD rather than
	 * being lost (they are evidence) or breaking the JSON. */
	h->name = ww_utf8_sanitize(name, name_len);
	h->value = ww_utf8_sanitize(value, value_len);
}

void
ww_set_failure(const char **failure, char **detail, const char *code,
	       const char *detail_text)
{
	*failure = code;
	free(*detail);
	*detail = xstrdup(detail_text);
}

const char *
ww_rr_type_name(enum ww_rr_type t)
{
	switch (t) {
	case WW_RR_A:
		return "A";
	case WW_RR_AAAA:
		return "AAAA";
	case WW_RR_CNAME:
		return "CNAME";
	}
	return "UNKNOWN";
}

const char *
ww_rcode_name(int rcode)
{
	static const char *names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
		"NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
		"NXRRSET", "NOTAUTH", "NOTZONE",
	};

	if (rcode < 0)
		return NULL;
	if ((size_t)rcode < WW_ARRAY_LEN(names))
		return names[rcode];
	return "RESERVED";
}

/* --- JSON --------------------------------------------------------------- */

/*
 * jansson refuses strings that are not valid UTF-8 (json_string returns
 * NULL). Everything we serialise from the network has been checked or
 * escaped already, but a NULL here would silently drop a key, so be loud:
 * replace rather than lose.
 */
static json_t *
jstr(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	j = json_string(s);
	return j != NULL ? j : json_string("[invalid UTF-8]");
}

static void
set(json_t *obj, const char *key, json_t *val)
{
	json_object_set_new(obj, key, val);
}

static json_t *
failure_json(const char *failure, const char *detail)
{
	if (failure == NULL)
		return json_null();
	if (failure == failure_unknown) {
		char *s = xasprintf("%s: %s", failure_unknown,
				    detail != NULL ? detail : "unspecified");
		json_t *j = jstr(s);

		free(s);
		return j;
	}
	return jstr(failure);
}

static void
set_failure(json_t *obj, const char *failure, const char *detail)
{
	set(obj, "failure", failure_json(failure, detail));
	if (detail != NULL && failure != failure_unknown)
		set(obj, "failure_detail", jstr(detail));
}

/* The capture's flow of a connection (test_keys.packets.tcp[].flow), when
 * there is one. */
static void
with_flow(json_t *obj, uint32_t flow)
{
	if (flow != 0)
		set(obj, "flow", json_integer((json_int_t)flow));
}

/* Seconds, rounded to the microsecond: finer is noise. */
static json_t *
seconds(double v)
{
	return json_real(floor(v * 1e6 + 0.5) / 1e6);
}

static json_t *
times(json_t *obj, double t0, double t, int tid)
{
	set(obj, "t0", seconds(t0));
	set(obj, "t", seconds(t));
	set(obj, "transaction_id", json_integer(tid));
	return obj;
}

static char *
endpoint_str(const char *ip, int port)
{
	if (ip != NULL && strchr(ip, ':') != NULL)
		return xasprintf("[%s]:%d", ip, port);
	return xasprintf("%s:%d", ip != NULL ? ip : "", port);
}

/* "hop" on every record: which URL of the redirect chain it serves. */
static json_t *
with_hop(json_t *obj, int hop)
{
	set(obj, "hop", json_integer(hop));
	return obj;
}

static json_t *
query_json(const struct ww_query *q)
{
	json_t *o = json_object(), *answers = json_array();

	for (size_t i = 0; i < q->n_answers; i++) {
		const struct ww_answer *a = &q->answers[i];
		json_t *ja = json_object();

		set(ja, "answer_type", jstr(ww_rr_type_name(a->type)));
		set(ja,
		    a->type == WW_RR_A	    ? "ipv4"
		    : a->type == WW_RR_AAAA ? "ipv6"
					    : "hostname",
		    jstr(a->value));
		set(ja, "ttl", json_integer(a->ttl));
		json_array_append_new(answers, ja);
	}
	set(o, "hostname", jstr(q->hostname));
	set(o, "query_type", jstr(q->query_type));
	set(o, "engine", jstr(q->engine));
	set(o, "resolver_address", jstr(q->resolver_address));
	set(o, "rcode", q->rcode >= 0 ? json_integer(q->rcode) : json_null());
	set(o, "rcode_name", jstr(ww_rcode_name(q->rcode)));
	set(o, "answers", answers);
	if (q->raw != NULL) {
		char *b64 = ww_base64(q->raw, q->raw_len);

		set(o, "raw_response", jstr(b64));
		free(b64);
	} else {
		set(o, "raw_response", json_null());
	}
	set_failure(o, q->failure, q->failure_detail);
	with_hop(o, q->hop);
	return times(o, q->t0, q->t, q->transaction_id);
}

static json_t *
tcp_json(const struct ww_tcp *c)
{
	json_t *o = json_object(), *status = json_object();

	set(o, "ip", jstr(c->ip));
	set(o, "port", json_integer(c->port));
	set(status, "success", json_boolean(c->failure == NULL));
	set_failure(status, c->failure, c->failure_detail);
	set(o, "status", status);
	with_hop(o, c->hop);
	with_flow(o, c->flow);
	return times(o, c->t0, c->t, c->transaction_id);
}

static json_t *
cert_json(const struct ww_cert *c)
{
	json_t *o = json_object(), *sans = json_array();
	char *b64 = ww_base64(c->der, c->der_len);

	for (size_t i = 0; i < c->n_sans; i++)
		json_array_append_new(sans, jstr(c->sans[i]));
	set(o, "format", jstr("base64"));
	set(o, "data", jstr(b64));
	free(b64);
	set(o, "subject", jstr(c->subject));
	set(o, "issuer", jstr(c->issuer));
	set(o, "sans", sans);
	set(o, "not_before", jstr(c->not_before));
	set(o, "not_after", jstr(c->not_after));
	set(o, "sha256", jstr(c->sha256));
	return o;
}

static json_t *
tls_json(const struct ww_tls *t)
{
	json_t *o = json_object(), *certs = json_array();
	char *addr = endpoint_str(t->ip, t->port);

	for (size_t i = 0; i < t->n_certs; i++)
		json_array_append_new(certs, cert_json(&t->certs[i]));
	set(o, "network", jstr("tcp"));
	set(o, "address", jstr(addr));
	free(addr);
	set(o, "ip", jstr(t->ip));
	set(o, "port", json_integer(t->port));
	set(o, "server_name", jstr(t->server_name));
	set(o, "sni_role", jstr(t->sni_role));
	set(o, "tls_version", jstr(t->tls_version));
	set(o, "cipher_suite", jstr(t->cipher_suite));
	set(o, "negotiated_protocol", jstr(t->negotiated_protocol));
	set(o, "no_tls_verify", json_false());
	set(o, "handshake_done", json_boolean(t->handshake_done));
	set(o, "verified", json_boolean(t->verified));
	set(o, "verify_error", jstr(t->verify_error));
	set(o, "peer_certificates", certs);
	set_failure(o, t->failure, t->failure_detail);
	with_hop(o, t->hop);
	with_flow(o, t->flow);
	return times(o, t->t0, t->t, t->transaction_id);
}

static json_t *
headers_json(const struct ww_header *h, size_t n, json_t **list_out)
{
	json_t *map = json_object(), *list = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *pair = json_array();

		json_array_append_new(pair, jstr(h[i].name));
		json_array_append_new(pair, jstr(h[i].value));
		json_array_append_new(list, pair);
		/* OONI's map keeps the first value of a repeated header. */
		if (json_object_get(map, h[i].name) == NULL)
			set(map, h[i].name, jstr(h[i].value));
	}
	*list_out = list;
	return map;
}

static json_t *
body_json(const unsigned char *body, size_t len)
{
	json_t *o;
	char *b64;

	if (body == NULL)
		return json_string("");
	if (ww_utf8_valid(body, len) && memchr(body, '\0', len) == NULL)
		return json_stringn((const char *)body, len);
	/* OONI df-001: binary bodies as {"format":"base64","data":...} */
	o = json_object();
	b64 = ww_base64(body, len);
	set(o, "format", jstr("base64"));
	set(o, "data", jstr(b64));
	free(b64);
	return o;
}

double
ww_transfer_rate(const struct ww_transfer *t)
{
	double span = t->t_last_byte - t->t_first_byte;

	if (t->body_calls < 2 || !t->got_byte || !(span > 0))
		return -1;
	return (double)t->body_bytes / span;
}

json_t *
ww_transfer_json(const struct ww_transfer *t)
{
	json_t *o = json_object();
	double rate = ww_transfer_rate(t);

	set(o, "bytes", json_integer((json_int_t)t->bytes));
	set(o, "body_bytes", json_integer((json_int_t)t->body_bytes));
	set(o, "t_first_byte",
	    t->got_byte ? seconds(t->t_first_byte) : json_null());
	set(o, "t_last_byte",
	    t->got_byte ? seconds(t->t_last_byte) : json_null());
	/* A rate to the byte per second: finer is noise. */
	set(o, "rate",
	    rate >= 0 ? json_real(floor(rate * 10 + 0.5) / 10) : json_null());
	/* Only when the kernel told us (Linux TCP_INFO); absent otherwise. */
	if (t->wire_known) {
		set(o, "wire_bytes", json_integer((json_int_t)t->wire_bytes));
		set(o, "t_last_wire_byte",
		    t->wire_bytes > 0 ? seconds(t->t_last_wire) : json_null());
	}
	return o;
}

static json_t *
http_json(const struct ww_http *h)
{
	json_t *o = json_object(), *req = json_object(), *resp, *list;
	json_t *map;

	set(req, "method", jstr(h->method));
	set(req, "url", jstr(h->url));
	map = headers_json(h->request_headers, h->n_request_headers, &list);
	set(req, "headers", map);
	set(req, "headers_list", list);
	set(o, "request", req);
	if (h->status > 0) {
		resp = json_object();
		set(resp, "code", json_integer(h->status));
		set(resp, "http_version", jstr(h->http_version));
		map = headers_json(h->headers, h->n_headers, &list);
		set(resp, "headers", map);
		set(resp, "headers_list", list);
		set(resp, "body", body_json(h->body, h->body_kept));
		set(resp, "body_is_truncated",
		    json_boolean(h->body_kept < h->body_length ||
				 h->body_truncated));
		set(resp, "body_length",
		    json_integer((json_int_t)h->body_length));
		set(resp, "body_download_capped",
		    json_boolean(h->body_truncated));
		set(resp, "body_sha256", jstr(h->body_sha256));
		set(resp, "title", jstr(h->title));
		set(resp, "location", jstr(h->location));
	} else {
		resp = json_null();
	}
	set(o, "response", resp);
	if (h->ip != NULL) {
		char *addr = endpoint_str(h->ip, h->port);

		set(o, "address", jstr(addr));
		free(addr);
	} else {
		set(o, "address", json_null());
	}
	set(o, "transfer", ww_transfer_json(&h->transfer));
	set_failure(o, h->failure, h->failure_detail);
	with_hop(o, h->hop);
	with_flow(o, h->flow);
	return times(o, h->t0, h->t, h->transaction_id);
}

static json_t *
xreply_json(const struct ww_xreply *r)
{
	json_t *o = json_object();
	char *b64 = ww_base64(r->raw, r->raw_len);

	set(o, "t", seconds(r->t));
	set(o, "length", json_integer((json_int_t)r->length));
	set(o, "kind", jstr(r->kind));
	set(o, "ours", json_boolean(r->ours));
	if (r->note != NULL)
		set(o, "note", jstr(r->note));
	set(o, "raw", jstr(b64));
	free(b64);
	return o;
}

static json_t *
exchange_json(const struct ww_exchange *x)
{
	json_t *o = json_object(), *arr = json_array();
	char *ep = endpoint_str(x->ip, x->port);

	set(o, "ip", jstr(x->ip));
	set(o, "port", json_integer(x->port));
	set(o, "endpoint", jstr(ep));
	free(ep);
	set(o, "transport", jstr(x->udp ? "udp" : "tcp"));
	set(o, "protocol", jstr(x->protocol));
	set(o, "payload", jstr(x->payload));
	set(o, "server_name", jstr(x->server_name));
	set(o, "sent", json_integer(x->n_sent));
	set(o, "bytes_sent", json_integer((json_int_t)x->bytes_sent));
	set(o, "first_length", json_integer((json_int_t)x->first_length));
	if (!x->udp)
		set(o, "connected", json_boolean(x->connected));
	for (size_t i = 0; i < x->n_replies; i++)
		json_array_append_new(arr, xreply_json(&x->replies[i]));
	set(o, "replies", arr);
	set(o, "replies_seen", json_integer((json_int_t)x->n_replies_seen));
	set(o, "stage", jstr(x->stage));
	set(o, "answered", json_boolean(x->answered));
	set_failure(o, x->failure, x->failure_detail);
	with_flow(o, x->flow);
	return times(o, x->t0, x->t, x->transaction_id);
}

json_t *
ww_measurement_to_json(const struct ww_measurement *m)
{
	json_t *o = json_object(), *tk = json_object(), *arr;
	char ts[20];

	set(o, "annotations", json_deep_copy(m->annotations));
	set(o, "data_format_version", jstr("0.2.0"));
	set(o, "input", jstr(m->input));
	ww_fmt_utc(m->measurement_start_time, ts);
	set(o, "measurement_start_time", jstr(ts));
	set(o, "measurement_uid", jstr(m->measurement_uid));
	set(o, "options", json_deep_copy(m->options));
	set(o, "probe_asn", jstr(m->probe_asn != NULL ? m->probe_asn : "AS0"));
	set(o, "probe_cc", jstr(m->probe_cc != NULL ? m->probe_cc : "ZZ"));
	/* Never the volunteer's address (issue #2; OONI ScrubMeasurement). */
	set(o, "probe_ip", jstr("127.0.0.1"));
	set(o, "probe_network_name", jstr(m->probe_network_name));
	set(o, "report_id", jstr(m->report_id));
	set(o, "software_name", jstr(m->software_name));
	set(o, "software_version", jstr(m->software_version));
	set(o, "test_name", jstr(m->test_name));
	set(o, "test_runtime", seconds(m->test_runtime));
	ww_fmt_utc(m->test_start_time, ts);
	set(o, "test_start_time", jstr(ts));
	set(o, "test_version", jstr(m->test_version));

	set(tk, "category_code", jstr(m->category_code));
	set(tk, "resolver", jstr(m->resolver));
	set(tk, "control_sni", jstr(m->control_sni));
	arr = json_array();
	for (size_t i = 0; i < m->n_queries; i++)
		json_array_append_new(arr, query_json(&m->queries[i]));
	set(tk, "queries", arr);
	arr = json_array();
	for (size_t i = 0; i < m->n_tcp; i++)
		json_array_append_new(arr, tcp_json(&m->tcp[i]));
	set(tk, "tcp_connect", arr);
	arr = json_array();
	for (size_t i = 0; i < m->n_tls; i++)
		json_array_append_new(arr, tls_json(&m->tls[i]));
	set(tk, "tls_handshakes", arr);
	/* OONI df-001 lists requests newest first: the last element is the
	 * first request, and [0] the final hop. */
	arr = json_array();
	for (size_t i = m->n_http; i > 0; i--)
		json_array_append_new(arr, http_json(&m->http[i - 1]));
	set(tk, "requests", arr);
	/* only VPN and QUIC endpoints have exchanges: other measurements
	 * keep the format they had */
	if (m->n_xchg > 0) {
		arr = json_array();
		for (size_t i = 0; i < m->n_xchg; i++)
			json_array_append_new(arr, exchange_json(&m->xchg[i]));
		set(tk, "exchanges", arr);
	}
	set(tk, "control",
	    m->control != NULL ? json_incref(m->control) : json_null());
	set(tk, "control_failure",
	    failure_json(m->control_failure, m->control_failure_detail));
	set(tk, "control_attempts",
	    m->control_attempts != NULL ? json_deep_copy(m->control_attempts)
					: json_array());
	if (m->network_check != NULL)
		set(tk, "network_check", json_deep_copy(m->network_check));
	if (m->packets != NULL)
		set(tk, "packets", json_deep_copy(m->packets));
	set(o, "test_keys", tk);
	return o;
}

json_t *
ww_measurement_take_json(struct ww_measurement *m)
{
	json_t *ann = m->annotations, *opts = m->options, *pk = m->packets;
	json_t *att = m->control_attempts, *o, *tk;

	m->annotations = m->options = m->packets = m->control_attempts = NULL;
	o = ww_measurement_to_json(m);
	tk = json_object_get(o, "test_keys");
	if (ann != NULL)
		set(o, "annotations", ann);
	if (opts != NULL)
		set(o, "options", opts);
	if (att != NULL)
		set(tk, "control_attempts", att);
	if (pk != NULL)
		set(tk, "packets", pk);
	return o;
}

char *
ww_measurement_to_line(const struct ww_measurement *m)
{
	json_t *j = ww_measurement_to_json(m);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
					JSON_REAL_PRECISION(9));

	json_decref(j);
	if (s == NULL)
		abort(); /* only on OOM inside jansson */
	return s;
}
