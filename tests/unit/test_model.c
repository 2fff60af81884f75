/* test_model.c - the measurement model and its JSON (df-000 envelope,
 * queries, tcp_connect, tls_handshakes, requests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "failure.h"
#include "model.h"
#include "util.h"

static struct ww_measurement *
sample(void)
{
	struct ww_measurement *m = ww_measurement_new();
	struct ww_query *q;
	struct ww_answer *a;
	struct ww_tcp *c;
	struct ww_tls *t;
	struct ww_http *h;

	m->input = xstrdup("https://example.org/");
	m->test_name = xstrdup("wallwatch_web");
	m->test_version = xstrdup("0.1.0");
	m->measurement_start_time = 86400;
	m->test_start_time = 86399;
	m->probe_cc = xstrdup("CN");
	m->probe_asn = xstrdup("AS4134");
	m->report_id = xstrdup("r1");
	m->measurement_uid = xstrdup("u1");
	m->software_name = xstrdup("wallwatch-probe");
	m->software_version = xstrdup("0.1.0");
	m->test_runtime = 1.5;

	q = ww_add_query(m);
	q->hostname = xstrdup("example.org");
	q->query_type = "A";
	q->engine = "udp";
	q->resolver_address = xstrdup("127.0.0.1:53");
	q->rcode = 0;
	a = ww_add_answer(q);
	a->type = WW_RR_CNAME;
	a->value = xstrdup("alias.example.org");
	a->ttl = 60;
	a = ww_add_answer(q);
	a->type = WW_RR_A;
	a->value = xstrdup("192.0.2.1");
	a->ttl = 300;
	q->raw = xmalloc(3);
	memcpy(q->raw, "abc", 3);
	q->raw_len = 3;

	q = ww_add_query(m);
	q->hostname = xstrdup("example.org");
	q->query_type = "AAAA";
	q->rcode = 3;
	ww_set_failure(&q->failure, &q->failure_detail, failure_dns_nxdomain,
		       NULL);

	c = ww_add_tcp(m);
	c->ip = xstrdup("2001:db8::1");
	c->port = 443;
	ww_set_failure(&c->failure, &c->failure_detail, failure_unknown,
		       "weird errno");

	t = ww_add_tls(m);
	t->ip = xstrdup("2001:db8::1");
	t->port = 443;
	t->server_name = xstrdup("example.org");
	t->sni_role = "target";
	ww_set_failure(&t->failure, &t->failure_detail,
		       failure_connection_reset, "Connection reset by peer");

	h = ww_add_http(m);
	h->url = xstrdup("https://example.org/");
	h->status = 302;
	h = ww_add_http(m);
	h->url = xstrdup("https://example.org/final");
	h->status = 200;
	h->body = xmalloc(3);
	memcpy(h->body, "\xff\x00\x01", 3);
	h->body_kept = 3;
	h->body_length = 10;
	ww_add_header(&h->headers, &h->n_headers, &h->cap_headers, "Server", 6,
		      "x", 1);
	ww_add_header(&h->headers, &h->n_headers, &h->cap_headers, "Server", 6,
		      "y", 1);
	return m;
}

static void
test_envelope(void **state)
{
	struct ww_measurement *m = sample();
	json_t *j = ww_measurement_to_json(m);
	static const char *keys[] = {
		"annotations",	   "data_format_version",
		"input",	   "measurement_start_time",
		"measurement_uid", "options",
		"probe_asn",	   "probe_cc",
		"probe_ip",	   "report_id",
		"software_name",   "software_version",
		"test_keys",	   "test_name",
		"test_runtime",	   "test_start_time",
		"test_version",
	};

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(keys); i++)
		assert_non_null(json_object_get(j, keys[i]));
	assert_string_equal(json_string_value(json_object_get(j, "probe_ip")),
			    "127.0.0.1");
	assert_string_equal(
		json_string_value(json_object_get(j, "measurement_start_time")),
		"1970-01-02 00:00:00");
	assert_string_equal(
		json_string_value(json_object_get(j, "data_format_version")),
		"0.2.0");
	json_decref(j);
	ww_measurement_free(m);
}

static void
test_observations(void **state)
{
	struct ww_measurement *m = sample();
	json_t *j = ww_measurement_to_json(m);
	json_t *tk = json_object_get(j, "test_keys");
	json_t *q = json_array_get(json_object_get(tk, "queries"), 0);
	json_t *q2 = json_array_get(json_object_get(tk, "queries"), 1);
	json_t *ans = json_object_get(q, "answers");
	json_t *tcp = json_array_get(json_object_get(tk, "tcp_connect"), 0);
	json_t *tls = json_array_get(json_object_get(tk, "tls_handshakes"), 0);
	json_t *reqs = json_object_get(tk, "requests");
	json_t *last, *body;

	(void)state;
	assert_int_equal(json_array_size(ans), 2);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(ans, 0), "hostname")),
			    "alias.example.org");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(ans, 1), "ipv4")),
			    "192.0.2.1");
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(ans, 1), "ttl")),
			 300);
	assert_string_equal(
		json_string_value(json_object_get(q, "raw_response")), "YWJj");
	assert_true(json_is_null(json_object_get(q, "failure")));
	assert_string_equal(json_string_value(json_object_get(q2, "failure")),
			    "dns_nxdomain_error");
	assert_string_equal(
		json_string_value(json_object_get(q2, "rcode_name")),
		"NXDOMAIN");
	/* unknown failures carry their detail inline, OONI style */
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(tcp, "status"), "failure")),
			    "unknown_failure: weird errno");
	assert_true(json_is_false(
		json_object_get(json_object_get(tcp, "status"), "success")));
	/* known failures keep the library text apart */
	assert_string_equal(json_string_value(json_object_get(tls, "failure")),
			    "connection_reset");
	assert_string_equal(
		json_string_value(json_object_get(tls, "failure_detail")),
		"Connection reset by peer");
	assert_string_equal(json_string_value(json_object_get(tls, "address")),
			    "[2001:db8::1]:443");
	/* requests newest first */
	assert_int_equal(json_array_size(reqs), 2);
	last = json_array_get(reqs, 0);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(last, "request"), "url")),
			    "https://example.org/final");
	body = json_object_get(json_object_get(last, "response"), "body");
	assert_string_equal(json_string_value(json_object_get(body, "format")),
			    "base64");
	assert_true(json_is_true(json_object_get(
		json_object_get(last, "response"), "body_is_truncated")));
	/* repeated headers: all in headers_list, the first in headers */
	assert_int_equal(
		json_array_size(json_object_get(
			json_object_get(last, "response"), "headers_list")),
		2);
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(last, "response"),
					"headers"),
			"Server")),
		"x");
	json_decref(j);
	ww_measurement_free(m);
}

/* hop on every record; transfer on every request, with its rate rule. */
static void
test_hops_and_transfer(void **state)
{
	struct ww_measurement *m = sample();
	json_t *j, *tk, *reqs, *tr;

	(void)state;
	m->queries[1].hop = 1;
	m->tcp[0].hop = 2;
	m->tls[0].hop = 3;
	m->http[1].hop = 1;
	m->http[1].transfer = (struct ww_transfer){
		.bytes = 1118,
		.body_bytes = 1000,
		.got_byte = true,
		.t_first_byte = 0.5,
		.t_last_byte = 2.5,
		.body_calls = 3,
	};
	/* one body delivery: no rate, even with time between the bytes */
	m->http[0].transfer = (struct ww_transfer){
		.bytes = 132,
		.got_byte = true,
		.t_first_byte = 0.25,
		.t_last_byte = 0.5,
		.body_calls = 1,
	};
	j = ww_measurement_to_json(m);
	tk = json_object_get(j, "test_keys");
	assert_int_equal(
		json_integer_value(json_object_get(
			json_array_get(json_object_get(tk, "queries"), 0),
			"hop")),
		0);
	assert_int_equal(
		json_integer_value(json_object_get(
			json_array_get(json_object_get(tk, "queries"), 1),
			"hop")),
		1);
	assert_int_equal(
		json_integer_value(json_object_get(
			json_array_get(json_object_get(tk, "tcp_connect"), 0),
			"hop")),
		2);
	assert_int_equal(
		json_integer_value(json_object_get(
			json_array_get(json_object_get(tk, "tls_handshakes"),
				       0),
			"hop")),
		3);
	reqs = json_object_get(tk, "requests");
	/* newest first: [0] is hop 1 */
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(reqs, 0), "hop")),
			 1);
	tr = json_object_get(json_array_get(reqs, 0), "transfer");
	assert_int_equal(json_integer_value(json_object_get(tr, "bytes")),
			 1118);
	assert_int_equal(json_integer_value(json_object_get(tr, "body_bytes")),
			 1000);
	assert_true(json_real_value(json_object_get(tr, "t_first_byte")) ==
		    0.5);
	assert_true(json_real_value(json_object_get(tr, "t_last_byte")) == 2.5);
	assert_true(json_real_value(json_object_get(tr, "rate")) == 500.0);
	tr = json_object_get(json_array_get(reqs, 1), "transfer");
	assert_int_equal(json_integer_value(json_object_get(tr, "bytes")), 132);
	assert_true(json_is_null(json_object_get(tr, "rate")));
	json_decref(j);
	/* nothing came: zeros and nulls */
	m->http[0].transfer = (struct ww_transfer){0};
	j = ww_measurement_to_json(m);
	tr = json_object_get(
		json_array_get(json_object_get(json_object_get(j, "test_keys"),
					       "requests"),
			       1),
		"transfer");
	assert_int_equal(json_integer_value(json_object_get(tr, "bytes")), 0);
	assert_true(json_is_null(json_object_get(tr, "t_first_byte")));
	assert_true(json_is_null(json_object_get(tr, "t_last_byte")));
	assert_true(json_is_null(json_object_get(tr, "rate")));
	json_decref(j);
	ww_measurement_free(m);
}

static void
test_line_is_one_line(void **state)
{
	struct ww_measurement *m = sample();
	char *line = ww_measurement_to_line(m);
	json_error_t err;
	json_t *back;

	(void)state;
	assert_null(strchr(line, '\n'));
	back = json_loads(line, 0, &err);
	assert_non_null(back);
	json_decref(back);
	free(line);
	ww_measurement_free(m);
}

static void
test_empty_measurement(void **state)
{
	struct ww_measurement *m = ww_measurement_new();
	char *line = ww_measurement_to_line(m);

	(void)state;
	/* Defaults that keep the record valid for readers. */
	assert_non_null(strstr(line, "\"probe_asn\":\"AS0\""));
	assert_non_null(strstr(line, "\"probe_cc\":\"ZZ\""));
	assert_non_null(strstr(line, "\"requests\":[]"));
	free(line);
	ww_measurement_free(m);
	ww_measurement_free(NULL);
}

static void
test_header_bytes_kept_as_utf8(void **state)
{
	struct ww_header *h = NULL;
	size_t n = 0, cap = 0;

	(void)state;
	/* GB18030 "\xd6\xd0" and a NUL: kept, as U+FFFD, never dropped */
	ww_add_header(&h, &n, &cap, "X-T\xd6\xd0", 5, "a\0b", 3);
	assert_int_equal(n, 1);
	assert_string_equal(h[0].name, "X-T\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(h[0].value, "a\xef\xbf\xbd"
					"b");
	free(h[0].name);
	free(h[0].value);
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_observations),
		cmocka_unit_test(test_hops_and_transfer),
		cmocka_unit_test(test_line_is_one_line),
		cmocka_unit_test(test_empty_measurement),
		cmocka_unit_test(test_header_bytes_kept_as_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
