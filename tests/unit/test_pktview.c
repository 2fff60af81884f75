/*
 * test_pktview.c - the collector's reading of packet evidence
 * (collector/pktview.c): evidence names and sentence, the count, and the
 * trimmed view of test_keys.packets, with input of every wrong shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"
#include "../../collector/pktview.h"

static json_t *
load(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (j == NULL)
		fail_msg("bad test JSON: %s", e.text);
	return j;
}

static void
test_evidence_names(void **state)
{
	char buf[PKTVIEW_NAMES_LEN], d[PKTVIEW_MAX_DETAIL + 1];
	json_t *tk =
		load("{\"analysis\": {\"evidence\": [\"rst_injected\", 5, "
		     "\"Bad Name\", \"<script>\", \"rst_ttl_mismatch\", \"\"],"
		     " \"evidence_detail\": \"RST ttl 51 vs server ttl 63\"}}");

	(void)state;
	/* names only, in order; anything else is left out */
	assert_string_equal(pktview_evidence(tk, buf, sizeof(buf)),
			    "rst_injected;rst_ttl_mismatch");
	assert_string_equal(pktview_detail(tk, d, sizeof(d)),
			    "RST ttl 51 vs server ttl 63");
	json_decref(tk);

	/* none: NULL, for every shape of nothing */
	tk = load("{\"analysis\": {\"evidence\": [], \"evidence_detail\": "
		  "\"\"}}");
	assert_null(pktview_evidence(tk, buf, sizeof(buf)));
	assert_null(pktview_detail(tk, d, sizeof(d)));
	json_decref(tk);
	tk = load("{\"analysis\": {\"evidence\": \"rst_injected\", "
		  "\"evidence_detail\": 3}}");
	assert_null(pktview_evidence(tk, buf, sizeof(buf)));
	assert_null(pktview_detail(tk, d, sizeof(d)));
	json_decref(tk);
	assert_null(pktview_evidence(NULL, buf, sizeof(buf)));
	assert_null(pktview_detail(NULL, d, sizeof(d)));
}

static void
test_evidence_bounds(void **state)
{
	char buf[PKTVIEW_NAMES_LEN], d[PKTVIEW_MAX_DETAIL + 1];
	json_t *tk = load("{\"analysis\": {}}"), *ev = json_array();
	char longs[2 * PKTVIEW_MAX_DETAIL];
	size_t i;

	(void)state;
	/* at most PKTVIEW_MAX_NAMES names, each at most PKTVIEW_MAX_NAME */
	for (i = 0; i < 40; i++)
		json_array_append_new(
			ev, json_string("abcdefghijklmnopqrstuvwxyz012345"));
	json_array_append_new(ev,
			      json_string("abcdefghijklmnopqrstuvwxyz0123456"));
	json_object_set_new(json_object_get(tk, "analysis"), "evidence", ev);
	assert_non_null(pktview_evidence(tk, buf, sizeof(buf)));
	assert_int_equal(strlen(buf), PKTVIEW_MAX_NAMES * 33 - 1);
	/* a small buffer: whole names only */
	assert_string_equal(pktview_evidence(tk, buf, 40),
			    "abcdefghijklmnopqrstuvwxyz012345");

	/* the sentence is cut on a character boundary: é is 2 bytes */
	for (i = 0; i + 2 <= sizeof(longs) - 1; i += 2)
		memcpy(longs + i, "\xc3\xa9", 2);
	longs[i] = '\0';
	json_object_set_new(json_object_get(tk, "analysis"), "evidence_detail",
			    json_string(longs));
	assert_non_null(pktview_detail(tk, d, sizeof(d)));
	assert_int_equal(strlen(d), PKTVIEW_MAX_DETAIL);
	assert_non_null(pktview_detail(tk, d, 4));
	assert_string_equal(d, "\xc3\xa9");
	json_decref(tk);
}

static void
test_count(void **state)
{
	json_t *tk = load("{\"packets\": {\"dns\": [{}, {}], \"tcp\": [{}]}}");

	(void)state;
	assert_int_equal(pktview_count(tk), 3);
	json_decref(tk);
	tk = load("{\"packets\": {\"dns\": \"x\", \"tcp\": null}}");
	assert_int_equal(pktview_count(tk), 0);
	json_decref(tk);
	tk = load("{\"packets\": []}");
	assert_int_equal(pktview_count(tk), 0);
	json_decref(tk);
	assert_int_equal(pktview_count(NULL), 0);
}

static void
test_trim(void **state)
{
	json_t *m = load(
		"{\"test_keys\": {\"packets\": {\"capture\": \"on\","
		" \"capture_failure\": null, \"snaplen\": 256,"
		" \"truncated\": false, \"extra\": 1,"
		" \"dns\": [{\"hostname\": \"x.lab.test\", \"n_sent\": \"two\","
		"  \"replies\": [{\"t\": 0.003, \"dns_id\": 4242,"
		"   \"rcode\": \"NOERROR\", \"addrs\": [\"30.3.0.70\", 7],"
		"   \"ip_ttl\": 64, \"ip_id\": null,"
		"   \"raw_response\": \"AAAA\"}, \"junk\"]}],"
		" \"tcp\": [{\"flow\": 3, \"ip\": \"30.2.0.11\", \"port\": 443,"
		"  \"packets\": [{\"t\": 0.1, \"dir\": \"in\", \"flags\": \"RA\","
		"   \"ttl\": 51, \"ip_id\": 7, \"seq\": 1, \"ack\": 2,"
		"   \"len\": 0, \"evil\": true}]}]}}}");
	json_t *v = pktview_trim(m), *r;

	(void)state;
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "capture")),
			    "on");
	assert_null(json_object_get(v, "extra"));
	assert_true(json_is_false(json_object_get(v, "trimmed")));
	r = json_array_get(
		json_object_get(json_array_get(json_object_get(v, "dns"), 0),
				"replies"),
		0);
	assert_int_equal(json_array_size(json_object_get(
				 json_array_get(json_object_get(v, "dns"), 0),
				 "replies")),
			 1);
	assert_null(json_object_get(r, "raw_response"));
	assert_int_equal(json_array_size(json_object_get(r, "addrs")), 1);
	assert_true(json_is_null(json_object_get(r, "ip_id")));
	assert_int_equal(json_integer_value(json_object_get(r, "ip_ttl")), 64);
	assert_true(json_is_null(json_object_get(
		json_array_get(json_object_get(v, "dns"), 0), "n_sent")));
	r = json_array_get(
		json_object_get(json_array_get(json_object_get(v, "tcp"), 0),
				"packets"),
		0);
	assert_string_equal(json_string_value(json_object_get(r, "flags")),
			    "RA");
	assert_null(json_object_get(r, "evil"));
	assert_true(json_is_null(json_object_get(r, "win")));
	json_decref(v);
	json_decref(m);

	/* no packets object: NULL */
	m = load("{\"test_keys\": {\"packets\": [1]}}");
	assert_null(pktview_trim(m));
	json_decref(m);
	assert_null(pktview_trim(NULL));
}

static void
test_trim_bounds(void **state)
{
	json_t *m = load("{\"test_keys\": {\"packets\": {\"dns\": [],"
			 " \"tcp\": []}}}"),
	       *p = json_object_get(json_object_get(m, "test_keys"), "packets");
	json_t *v, *fl = json_object(), *pk = json_array();
	char big[1000];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < 100; i++)
		json_array_append_new(pk, json_pack("{s:i}", "ttl", i));
	json_object_set_new(fl, "packets", pk);
	json_object_set_new(fl, "ip", json_string(big));
	for (int i = 0; i < 50; i++)
		json_array_append(json_object_get(p, "tcp"), fl);
	json_decref(fl);
	v = pktview_trim(m);
	assert_true(json_is_true(json_object_get(v, "trimmed")));
	assert_int_equal(json_array_size(json_object_get(v, "tcp")),
			 PKTVIEW_MAX_FLOWS);
	fl = json_array_get(json_object_get(v, "tcp"), 0);
	assert_int_equal(json_array_size(json_object_get(fl, "packets")),
			 PKTVIEW_MAX_PACKETS);
	assert_int_equal(strlen(json_string_value(json_object_get(fl, "ip"))),
			 PKTVIEW_MAX_STR);
	json_decref(v);
	json_decref(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evidence_names),
		cmocka_unit_test(test_evidence_bounds),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_trim_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
