/* test_control.c - the control protocol (requests both ways, answers built
 * from a measurement, the probe's check of an answer) and the bogon table
 * the control service refuses with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control.h"
#include "failure.h"
#include "ipaddr.h"
#include "util.h"

static void
test_bogons(void **state)
{
	static const char *const bogon[] = {
		"0.1.2.3",
		"10.10.34.34",
		"100.64.0.1",
		"127.0.0.2",
		"169.254.1.1",
		"172.16.0.1",
		"172.31.255.255",
		"192.0.2.5",
		"192.168.1.1",
		"198.18.0.1",
		"198.51.100.7",
		"203.0.113.9",
		"224.0.0.1",
		"255.255.255.255",
		"::",
		"::1",
		"fc00::1",
		"fd12::3",
		"fe80::1",
		"ff02::1",
		"2001:db8::1",
		"::ffff:10.0.0.1",
		"100::1",
		/* Teredo, its server 0.0.0.0 and its client 255.255.255.254
		 * (issue 12: judged by the IPv4 addresses it carries) */
		"2001::1",
	};
	static const char *const public_ips[] = {
		"8.8.8.8",
		"30.2.0.10",
		"172.32.0.1",
		"100.128.0.1",
		"1.1.1.1",
		"2001:4860::8888",
		"2001:0:4136:e378::f7f7:f7f7",
		"::ffff:8.8.8.8",
		"11.0.0.1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bogon) / sizeof(bogon[0]); i++)
		if (!ww_ip_is_bogon(bogon[i]))
			fail_msg("%s should be a bogon", bogon[i]);
	for (size_t i = 0; i < sizeof(public_ips) / sizeof(public_ips[0]); i++)
		if (ww_ip_is_bogon(public_ips[i]))
			fail_msg("%s should not be a bogon", public_ips[i]);
	assert_false(ww_ip_is_bogon("not an address"));
	assert_false(ww_ip_is_bogon(NULL));
	assert_true(ww_ip_is_literal("::1"));
	assert_false(ww_ip_is_literal("[::1]"));
}

static int
parse(const char *body, bool ooni, struct ww_control_req *r, char *err)
{
	return ww_control_req_parse(body, strlen(body), ooni, r, err, 256);
}

static void
test_request_ours(void **state)
{
	struct ww_control_req r;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"input\":\"https://a.example/x\",\"addrs\":"
			       "[\"1.2.3.4\",\"2001:db8::1\",\"1.2.3.4\"],"
			       "\"sni\":\"a.example\"}",
			       false, &r, err),
			 0);
	assert_string_equal(r.input, "https://a.example/x");
	assert_int_equal(r.n_addrs, 2); /* duplicates dropped */
	assert_string_equal(r.addrs[1], "2001:db8::1");
	assert_string_equal(r.sni, "a.example");
	assert_false(r.ooni);
	ww_control_req_clear(&r);

	assert_int_equal(
		parse("{\"input\":\"tls://a.example:853\"}", false, &r, err),
		0);
	assert_null(r.sni);
	assert_int_equal(r.n_addrs, 0);
	ww_control_req_clear(&r);

	/* An IP-literal input: null, or (older probes) the address itself,
	 * both mean no SNI at all. */
	assert_int_equal(parse("{\"input\":\"https://[2a02:ff0:2::22]/\","
			       "\"sni\":null}",
			       false, &r, err),
			 0);
	assert_null(r.sni);
	ww_control_req_clear(&r);
	assert_int_equal(parse("{\"input\":\"https://[2a02:ff0:2::22]/\","
			       "\"sni\":\"2a02:ff0:2::22\"}",
			       false, &r, err),
			 0);
	assert_null(r.sni);
	ww_control_req_clear(&r);
	assert_int_equal(parse("{\"input\":\"https://192.0.2.1/\","
			       "\"sni\":\"192.0.2.1\"}",
			       false, &r, err),
			 0);
	assert_null(r.sni);
	ww_control_req_clear(&r);

	/* an https input's QUIC step (the probe's --quic) */
	assert_int_equal(parse("{\"input\":\"https://a.example/\","
			       "\"quic\":true}",
			       false, &r, err),
			 0);
	assert_true(r.quic);
	ww_control_req_clear(&r);
	assert_int_equal(parse("{\"input\":\"https://a.example/\","
			       "\"quic\":false}",
			       false, &r, err),
			 0);
	assert_false(r.quic);
	ww_control_req_clear(&r);
}

static void
test_request_ooni(void **state)
{
	struct ww_control_req r;
	char err[256];

	(void)state;
	assert_int_equal(
		parse("{\"http_request\":\"http://a.example/\","
		      "\"http_request_headers\":{\"Accept\":[\"*/*\"]},"
		      "\"tcp_connect\":[\"1.2.3.4:80\",\"1.2.3.4:443\","
		      "\"[2001:db8::1]:443\"],\"x_quic_enabled\":false}",
		      true, &r, err),
		0);
	assert_true(r.ooni);
	assert_int_equal(r.n_addrs, 2);
	assert_string_equal(r.addrs[0], "1.2.3.4");
	assert_string_equal(r.addrs[1], "2001:db8::1");
	ww_control_req_clear(&r);
}

static void
test_request_errors(void **state)
{
	static const struct {
		const char *body;
		bool ooni;
		const char *want;
	} cases[] = {
		{"", false, "not JSON"},
		{"[1]", false, "must be a JSON object"},
		{"{}", false, "input: required"},
		{"{\"input\":5}", false, "input: required"},
		{"{\"input\":\"gopher://x/\"}", false,
		 "input: unsupported scheme"},
		{"{\"input\":\"http://a/\",\"addrs\":\"1.2.3.4\"}", false,
		 "addrs: must be an array"},
		{"{\"input\":\"http://a/\",\"addrs\":[\"1.2.3.4:80\"]}", false,
		 "addrs[0]: \"1.2.3.4:80\" is not an IP address"},
		{"{\"input\":\"http://a/\",\"addrs\":[7]}", false,
		 "addrs[0]: not an address"},
		{"{\"input\":\"http://a/\",\"sni\":\"\"}", false, "sni:"},
		{"{\"input\":\"http://a/\",\"sni\":\"a/b\"}", false, "sni:"},
		{"{\"input\":\"http://a/\",\"input\":\"http://b/\"}", false,
		 "not JSON"},
		{"{\"input\":\"https://a/\",\"quic\":1}", false,
		 "quic: must be a boolean"},
		{"{\"input\":\"http://a/\",\"quic\":true}", false,
		 "quic: only for an https input"},
		{"{\"input\":\"quic://a\",\"quic\":true}", false,
		 "quic: only for an https input"},
		{"{\"tcp_connect\":[]}", true, "http_request: required"},
		{"{\"http_request\":\"http://a/\",\"tcp_connect\":[\"1.2.3.4\"]}",
		 true, "tcp_connect[0]: \"1.2.3.4\" is not an ip:port"},
	};
	struct ww_control_req r;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(cases[i].body, cases[i].ooni, &r, err) != -1)
			fail_msg("accepted %s", cases[i].body);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].body,
				 err, cases[i].want);
		assert_null(r.input);
	}
}

static void
test_request_limits(void **state)
{
	struct ww_control_req r;
	char err[256], *body;
	size_t n = WW_CONTROL_MAX_REQUEST + 1;

	(void)state;
	body = xmalloc(n);
	memset(body, ' ', n);
	assert_int_equal(
		ww_control_req_parse(body, n, false, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "over 64 KiB"));
	free(body);

	body = xmalloc(3000);
	memcpy(body, "{\"input\":\"http://a/", 19);
	memset(body + 19, 'x', 2500);
	memcpy(body + 2519, "\"}", 3);
	assert_int_equal(parse(body, false, &r, err), -1);
	assert_non_null(strstr(err, "longer than 2048"));
	free(body);
}

/* A control-side measurement of https://site.example/ with the probe's
 * address 9.9.9.9 (which the control could not reach). */
static struct ww_measurement *
control_measurement(void)
{
	struct ww_measurement *m = ww_measurement_new();
	struct ww_query *q;
	struct ww_answer *a;
	struct ww_tcp *c;
	struct ww_tls *t;
	struct ww_http *h;

	q = ww_add_query(m);
	q->hostname = xstrdup("site.example");
	q->query_type = "A";
	q->rcode = 0;
	a = ww_add_answer(q);
	a->type = WW_RR_A;
	a->value = xstrdup("93.184.215.14");
	q = ww_add_query(m);
	q->hostname = xstrdup("site.example");
	q->query_type = "AAAA";
	q->rcode = 0;
	ww_set_failure(&q->failure, &q->failure_detail, failure_dns_no_answer,
		       NULL);
	c = ww_add_tcp(m);
	c->ip = xstrdup("93.184.215.14");
	c->port = 443;
	c = ww_add_tcp(m);
	c->ip = xstrdup("9.9.9.9");
	c->port = 443;
	ww_set_failure(&c->failure, &c->failure_detail, failure_generic_timeout,
		       NULL);
	t = ww_add_tls(m);
	t->ip = xstrdup("93.184.215.14");
	t->port = 443;
	t->server_name = xstrdup("site.example");
	t->sni_role = "target";
	t->handshake_done = true;
	t->verified = true;
	h = ww_add_http(m);
	h->url = xstrdup("https://site.example/");
	h->status = 200;
	h->body_length = 1234;
	strcpy(h->body_sha256, "ab");
	h->title = xstrdup("Site");
	ww_add_header(&h->headers, &h->n_headers, &h->cap_headers, "Server", 6,
		      "x", 1);
	m->test_runtime = 0.25;
	return m;
}

static json_t *
answer_for(const char *body, bool ooni, struct ww_measurement *m)
{
	struct ww_control_req r;
	char err[256];
	json_t *a;

	assert_int_equal(parse(body, ooni, &r, err), 0);
	a = ww_control_answer(m, &r);
	ww_control_req_clear(&r);
	return a;
}

/* A VPN endpoint's answer carries its exchanges by endpoint, in order;
 * the probe's check takes them, and refuses a malformed one. */
static void
test_answer_exchanges(void **state)
{
	struct ww_measurement *m = ww_measurement_new();
	struct ww_exchange *x;
	json_t *a, *arr, *bad;
	char err[256];

	(void)state;
	x = ww_add_exchange(m);
	x->ip = xstrdup("192.0.2.7");
	x->port = 1194;
	x->udp = true;
	x->protocol = "openvpn";
	x->payload = "ascii";
	x->n_sent = 1;
	x->failure = failure_generic_timeout;
	x = ww_add_exchange(m);
	x->ip = xstrdup("192.0.2.7");
	x->port = 1194;
	x->udp = true;
	x->protocol = "openvpn";
	x->payload = "handshake";
	x->n_sent = 2;
	x->answered = true;
	x->stage = "control";
	a = answer_for("{\"input\":\"openvpn://vpn.example:1194\"}", false, m);
	assert_int_equal(ww_control_answer_check(a, err, sizeof(err)), 0);
	arr = json_object_get(json_object_get(a, "exchanges"),
			      "192.0.2.7:1194");
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(arr, 0), "failure")),
			    "generic_timeout_error");
	assert_true(json_is_true(
		json_object_get(json_array_get(arr, 1), "answered")));
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(arr, 1), "stage")),
			    "control");
	assert_null(json_object_get(json_array_get(arr, 1), "connected"));
	/* a web target's answer has none */
	bad = answer_for("{\"input\":\"https://site.example/\"}", false, m);
	assert_null(json_object_get(bad, "exchanges"));
	json_decref(bad);
	/* unless it asked the QUIC step (the probe's --quic) */
	bad = answer_for("{\"input\":\"https://site.example/\","
			 "\"quic\":true}",
			 false, m);
	assert_int_equal(json_object_size(json_object_get(bad, "exchanges")),
			 1);
	json_decref(bad);
	json_object_set_new(json_array_get(arr, 1), "answered",
			    json_string("yes"));
	assert_int_equal(ww_control_answer_check(a, err, sizeof(err)), -1);
	assert_string_equal(err, "exchanges: answered must be a boolean");
	json_object_set_new(a, "exchanges", json_array());
	assert_int_equal(ww_control_answer_check(a, err, sizeof(err)), -1);
	assert_string_equal(err, "exchanges: must be an object");
	json_decref(a);
	ww_measurement_free(m);
}

static void
test_answer(void **state)
{
	struct ww_measurement *m = control_measurement();
	json_t *a = answer_for("{\"input\":\"https://site.example/\","
			       "\"addrs\":[\"9.9.9.9\"]}",
			       false, m);
	char err[256];
	json_t *e;

	(void)state;
	assert_int_equal(ww_control_answer_check(a, err, sizeof(err)), 0);
	assert_true(json_is_null(
		json_object_get(json_object_get(a, "dns"), "failure")));
	assert_string_equal(
		json_string_value(json_array_get(
			json_object_get(json_object_get(a, "dns"), "addrs"),
			0)),
		"93.184.215.14");
	e = json_object_get(json_object_get(a, "tcp_connect"), "9.9.9.9:443");
	assert_true(json_is_false(json_object_get(e, "status")));
	assert_string_equal(json_string_value(json_object_get(e, "failure")),
			    "generic_timeout_error");
	e = json_object_get(json_object_get(a, "tls_handshake"),
			    "93.184.215.14:443");
	assert_true(json_is_true(json_object_get(e, "verified")));
	e = json_object_get(a, "http_request");
	assert_int_equal(json_integer_value(json_object_get(e, "status_code")),
			 200);
	assert_int_equal(json_integer_value(json_object_get(e, "body_length")),
			 1234);
	assert_string_equal(json_string_value(json_object_get(e, "title")),
			    "Site");
	/* probe only: 1; control only, valid for the domain: 2|8 */
	e = json_object_get(a, "ip_info");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(e, "9.9.9.9"), "flags")),
			 1);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(e, "93.184.215.14"), "flags")),
			 10);
	json_decref(a);
	ww_measurement_free(m);
}

#define SET_HOP(x, n) ((x)->hop = (n))

/*
 * A measurement of http://a.example/ that redirects to https://b.example/,
 * as the control service records it. Without with_hops, what the engine
 * recorded before hops were measured (hop 0's records, both requests).
 */
static struct ww_measurement *
redirect_measurement(int with_hops)
{
	struct ww_measurement *m = ww_measurement_new();
	struct ww_query *q;
	struct ww_answer *a;
	struct ww_tcp *c;
	struct ww_tls *t;
	struct ww_http *h;
	const char *hosts[2] = {"a.example", "b.example"};
	const char *ips[2] = {"1.2.3.4", "5.6.7.8"};

	for (int hop = 0; hop < (with_hops ? 2 : 1); hop++)
		for (int k = 0; k < 2; k++) {
			q = ww_add_query(m);
			q->hostname = xstrdup(hosts[hop]);
			q->query_type = k ? "AAAA" : "A";
			q->rcode = 0;
			SET_HOP(q, hop);
			if (k == 0) {
				a = ww_add_answer(q);
				a->type = WW_RR_A;
				a->value = xstrdup(ips[hop]);
			} else {
				ww_set_failure(&q->failure, &q->failure_detail,
					       failure_dns_no_answer, NULL);
			}
		}
	c = ww_add_tcp(m);
	c->ip = xstrdup("1.2.3.4");
	c->port = 80;
	if (with_hops) {
		c = ww_add_tcp(m);
		c->ip = xstrdup("5.6.7.8");
		c->port = 443;
		SET_HOP(c, 1);
		c = ww_add_tcp(m);
		c->ip = xstrdup("1.2.3.4");
		c->port = 443;
		ww_set_failure(&c->failure, &c->failure_detail,
			       failure_connection_refused, NULL);
		SET_HOP(c, 1);
		t = ww_add_tls(m);
		t->ip = xstrdup("5.6.7.8");
		t->port = 443;
		t->server_name = xstrdup("b.example");
		t->sni_role = "target";
		t->handshake_done = true;
		t->verified = true;
		SET_HOP(t, 1);
		t = ww_add_tls(m);
		t->ip = xstrdup("1.2.3.4");
		t->port = 443;
		t->server_name = xstrdup("b.example");
		t->sni_role = "target";
		t->handshake_done = true;
		t->verified = true;
		SET_HOP(t, 1);
	}
	h = ww_add_http(m);
	h->url = xstrdup("http://a.example/");
	h->status = 302;
	h->location = xstrdup("https://b.example/");
	strcpy(h->body_sha256, "e3b0");
	ww_add_header(&h->headers, &h->n_headers, &h->cap_headers, "Location",
		      8, "https://b.example/", 18);
	h = ww_add_http(m);
	h->url = xstrdup("https://b.example/");
	h->status = 200;
	h->body_length = 1234;
	strcpy(h->body_sha256, "ab");
	h->title = xstrdup("Site B");
	SET_HOP(h, 1);
	ww_add_header(&h->headers, &h->n_headers, &h->cap_headers, "Server", 6,
		      "x", 1);
	m->test_runtime = 0.25;
	return m;
}

/*
 * OONI's test-helper answer is the same, byte for byte, as before hops were
 * measured: the redirect's new records must not leak into it (the golden
 * string was made by the engine as of commit 27fe0ea, with the collector's
 * json_dumps flags).
 */
static void
test_answer_ooni_unchanged(void **state)
{
	static const char golden[] =
		"{\"dns\":{\"addrs\":[\"1.2.3.4\"],\"failure\":null},\"http3_"
		"request\":null,\"http_request\":{\"body_length\":1234,\"disc"
		"overed_h3_endpoint\":\"\",\"failure\":null,\"headers\":{\"Se"
		"rver\":\"x\"},\"status_code\":200,\"title\":\"Site B\"},\"ip"
		"_info\":{\"1.2.3.4\":{\"asn\":0,\"flags\":3},\"9.9.9.9\":{\""
		"asn\":0,\"flags\":1}},\"quic_handshake\":{},\"tcp_connect\":"
		"{\"1.2.3.4:80\":{\"failure\":null,\"status\":true}},\"tls_ha"
		"ndshake\":{}}";
	static const char body[] = "{\"http_request\":\"http://a.example/\","
				   "\"tcp_connect\":[\"1.2.3.4:80\","
				   "\"9.9.9.9:443\"]}";

	(void)state;
	for (int with_hops = 0; with_hops < 2; with_hops++) {
		struct ww_measurement *m = redirect_measurement(with_hops);
		json_t *a = answer_for(body, true, m);
		char *s = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS |
						JSON_REAL_PRECISION(9));

		assert_string_equal(s, golden);
		free(s);
		json_decref(a);
		ww_measurement_free(m);
	}
}

/* Our answer: hop 0's keys as before, and one "hops" entry per URL. */
static void
test_answer_hops(void **state)
{
	struct ww_measurement *m = redirect_measurement(1);
	json_t *a = answer_for("{\"input\":\"http://a.example/\"}", false, m);
	json_t *hops = json_object_get(a, "hops"), *h0, *h1, *e;
	char err[256];

	(void)state;
	assert_int_equal(ww_control_answer_check(a, err, sizeof(err)), 0);
	/* top level: hop 0 only, http_request the final response */
	assert_int_equal(json_object_size(json_object_get(a, "tcp_connect")),
			 1);
	assert_int_equal(json_object_size(json_object_get(a, "tls_handshake")),
			 0);
	assert_int_equal(
		json_integer_value(json_object_get(
			json_object_get(a, "http_request"), "status_code")),
		200);
	assert_int_equal(json_array_size(hops), 2);
	h0 = json_array_get(hops, 0);
	h1 = json_array_get(hops, 1);
	assert_string_equal(json_string_value(json_object_get(h0, "url")),
			    "http://a.example/");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(h0, "dns"), "host")),
			    "a.example");
	e = json_object_get(h0, "http_request");
	assert_int_equal(json_integer_value(json_object_get(e, "status_code")),
			 302);
	assert_string_equal(json_string_value(json_object_get(e, "location")),
			    "https://b.example/");
	assert_true(json_is_object(json_object_get(e, "transfer")));
	assert_null(json_object_get(e, "final_url"));
	assert_string_equal(json_string_value(json_object_get(h1, "url")),
			    "https://b.example/");
	assert_string_equal(
		json_string_value(json_array_get(
			json_object_get(json_object_get(h1, "dns"), "addrs"),
			0)),
		"5.6.7.8");
	e = json_object_get(json_object_get(h1, "tcp_connect"), "1.2.3.4:443");
	assert_string_equal(json_string_value(json_object_get(e, "failure")),
			    "connection_refused");
	e = json_object_get(json_object_get(h1, "tls_handshake"),
			    "5.6.7.8:443");
	assert_string_equal(
		json_string_value(json_object_get(e, "server_name")),
		"b.example");
	e = json_object_get(h1, "http_request");
	assert_string_equal(json_string_value(json_object_get(e, "title")),
			    "Site B");
	assert_true(json_is_null(json_object_get(e, "location")));
	json_decref(a);
	ww_measurement_free(m);
}

/* The chain hit the limit: the last hop's failure says so. */
static void
test_answer_hops_limit(void **state)
{
	struct ww_measurement *m = ww_measurement_new();
	json_t *a, *hops, *last;

	(void)state;
	for (int k = 0; k <= 10; k++) {
		struct ww_http *h = ww_add_http(m);

		h->url = xasprintf("http://a.example/loop?%d", k);
		h->status = 302;
		h->location = xstrdup("http://a.example/loop");
		h->hop = k;
		if (k == 10)
			ww_set_failure(&h->failure, &h->failure_detail,
				       failure_http_too_many_redirects, NULL);
	}
	a = answer_for("{\"input\":\"http://a.example/loop\"}", false, m);
	hops = json_object_get(a, "hops");
	assert_int_equal(json_array_size(hops), 11);
	last = json_object_get(json_array_get(hops, 10), "http_request");
	assert_string_equal(json_string_value(json_object_get(last, "failure")),
			    "http_too_many_redirects");
	assert_true(
		json_is_null(json_object_get(json_array_get(hops, 10), "dns")));
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(a, "http_request"), "failure")),
		"http_too_many_redirects");
	json_decref(a);
	/* OONI's answer as before: the last 302, no failure, no hops */
	a = answer_for("{\"http_request\":\"http://a.example/loop\"}", true, m);
	last = json_object_get(a, "http_request");
	assert_true(json_is_null(json_object_get(last, "failure")));
	assert_int_equal(
		json_integer_value(json_object_get(last, "status_code")), 302);
	assert_null(json_object_get(a, "hops"));
	json_decref(a);
	ww_measurement_free(m);
}

static void
test_answer_nxdomain_ooni(void **state)
{
	struct ww_measurement *m = ww_measurement_new();
	struct ww_query *q;
	json_t *a, *h;

	(void)state;
	for (int i = 0; i < 2; i++) {
		q = ww_add_query(m);
		q->hostname = xstrdup("nx.example");
		q->query_type = i ? "AAAA" : "A";
		q->rcode = 3;
		ww_set_failure(&q->failure, &q->failure_detail,
			       failure_dns_nxdomain, NULL);
	}
	a = answer_for("{\"input\":\"http://nx.example/\"}", false, m);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(a, "dns"), "failure")),
			    "dns_nxdomain_error");
	h = json_object_get(a, "http_request");
	assert_int_equal(json_integer_value(json_object_get(h, "status_code")),
			 -1);
	assert_string_equal(json_string_value(json_object_get(h, "failure")),
			    "dns_nxdomain_error");
	json_decref(a);
	/* OONI's probes expect the legacy helper's string. */
	a = answer_for("{\"http_request\":\"http://nx.example/\"}", true, m);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(a, "dns"), "failure")),
			    "dns_name_error");
	assert_non_null(json_object_get(a, "quic_handshake"));
	assert_null(json_object_get(a, "engine"));
	json_decref(a);
	ww_measurement_free(m);
}

static void
test_answer_check(void **state)
{
	static const struct {
		const char *json;
		const char *want; /* NULL: accepted */
	} cases[] = {
		{"{\"dns\":{\"addrs\":[],\"failure\":null},\"tcp_connect\":{}}",
		 NULL},
		{"[]", "not a JSON object"},
		{"{\"tcp_connect\":{}}", "dns: missing"},
		{"{\"dns\":{\"addrs\":[1]},\"tcp_connect\":{}}", "dns.addrs"},
		{"{\"dns\":{\"failure\":5},\"tcp_connect\":{}}",
		 "dns: failure must be"},
		{"{\"dns\":{}}", "tcp_connect: missing"},
		{"{\"dns\":{},\"tcp_connect\":{\"1.2.3.4:80\":{}}}",
		 "boolean status"},
		{"{\"dns\":{},\"tcp_connect\":{},\"tls_handshake\":[]}",
		 "tls_handshake: must be an object"},
		{"{\"dns\":{},\"tcp_connect\":{},\"http_request\":{}}",
		 "integer status_code"},
		{"{\"dns\":{},\"tcp_connect\":{},\"http_request\":null}", NULL},
		{"{\"dns\":{},\"tcp_connect\":{},\"hops\":[]}", NULL},
		{"{\"dns\":{},\"tcp_connect\":{},\"hops\":{}}",
		 "hops: must be an array"},
		{"{\"dns\":{},\"tcp_connect\":{},\"hops\":[1]}",
		 "each hop must be an object"},
		{"{\"dns\":{},\"tcp_connect\":{},\"hops\":[{\"url\":1}]}",
		 "url must be"},
		{"{\"dns\":{},\"tcp_connect\":{},\"hops\":[{\"dns\":"
		 "{\"addrs\":[2]}}]}",
		 "addrs must hold strings"},
		{"{\"dns\":{},\"tcp_connect\":{},\"hops\":[{\"tcp_connect\":"
		 "{\"1.2.3.4:80\":{\"status\":1}}}]}",
		 "boolean status"},
		{"{\"dns\":{},\"tcp_connect\":{},\"hops\":[{\"http_request\":"
		 "{\"status_code\":200,\"transfer\":{\"bytes\":-1}}}]}",
		 "integers >= 0"},
		{"{\"dns\":{},\"tcp_connect\":{},\"hops\":[{\"http_request\":"
		 "{\"status_code\":200,\"transfer\":{\"rate\":\"x\"}}}]}",
		 "numbers or null"},
		{"{\"dns\":{},\"tcp_connect\":{},\"hops\":[{\"http_request\":"
		 "{\"status_code\":200,\"location\":5}}]}",
		 "location must be"},
		{"{\"dns\":{},\"tcp_connect\":{},\"hops\":[{},{},{},{},{},{},"
		 "{},{},{},{},{},{}]}",
		 "more than 11 hops"},
		{"{\"dns\":{},\"tcp_connect\":{},\"hops\":[{\"url\":null,"
		 "\"dns\":null,\"tcp_connect\":{},\"tls_handshake\":{},"
		 "\"http_request\":{\"status_code\":302,\"failure\":"
		 "\"http_too_many_redirects\",\"location\":\"/\",\"transfer\":"
		 "{\"bytes\":10,\"body_bytes\":0,\"t_first_byte\":0.1,"
		 "\"t_last_byte\":null,\"rate\":null}}}]}",
		 NULL},
		{"{\"dns\":{},\"tcp_connect\":{},\"hops\":[{\"http_request\":"
		 "{\"status_code\":200,\"transfer\":{\"bytes\":0,"
		 "\"wire_bytes\":4000,\"t_last_wire_byte\":9.5}}}]}",
		 NULL},
		{"{\"dns\":{},\"tcp_connect\":{},\"hops\":[{\"http_request\":"
		 "{\"status_code\":200,\"transfer\":{\"wire_bytes\":0,"
		 "\"t_last_wire_byte\":null}}}]}",
		 NULL},
		{"{\"dns\":{},\"tcp_connect\":{},\"hops\":[{\"http_request\":"
		 "{\"status_code\":200,\"transfer\":{\"wire_bytes\":1.5}}}]}",
		 "integers >= 0"},
		{"{\"dns\":{},\"tcp_connect\":{},\"hops\":[{\"http_request\":"
		 "{\"status_code\":200,\"transfer\":{\"t_last_wire_byte\":"
		 "\"x\"}}}]}",
		 "numbers or null"},
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = json_loads(cases[i].json, 0, NULL);
		int rc;

		assert_non_null(j);
		rc = ww_control_answer_check(j, err, sizeof(err));
		if (cases[i].want == NULL && rc != 0)
			fail_msg("%s refused: %s", cases[i].json, err);
		if (cases[i].want != NULL &&
		    (rc == 0 || strstr(err, cases[i].want) == NULL))
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].json,
				 rc == 0 ? "accepted" : err, cases[i].want);
		json_decref(j);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bogons),
		cmocka_unit_test(test_request_ours),
		cmocka_unit_test(test_request_ooni),
		cmocka_unit_test(test_request_errors),
		cmocka_unit_test(test_request_limits),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_answer_ooni_unchanged),
		cmocka_unit_test(test_answer_hops),
		cmocka_unit_test(test_answer_hops_limit),
		cmocka_unit_test(test_answer_nxdomain_ooni),
		cmocka_unit_test(test_answer_check),
		cmocka_unit_test(test_answer_exchanges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
