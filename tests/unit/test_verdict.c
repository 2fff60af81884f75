/*
 * test_verdict.c - the verdict's vocabulary (engine/core/verdict.c): names,
 * classes, the class in C and in SQL (the same answers for every verdict,
 * run in SQLite), and the one mapping from an analysed measurement's JSON
 * to what the store keeps (collector/verdict_json.c), which the ingest and
 * `reanalyze` share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "../../collector/pktview.c"
#include "../../collector/verdict_json.c"
#include "verdict.h"

static void
test_blocking_names(void **state)
{
	(void)state;
	assert_null(ww_blocking_name(WW_BLOCKING_NULL));
	assert_string_equal(ww_blocking_name(WW_BLOCKING_FALSE), "false");
	assert_string_equal(ww_blocking_name(WW_BLOCKING_HTTP_FAILURE),
			    "http-failure");
	assert_null(ww_blocking_name(WW_BLOCKING_N));
	assert_null(ww_blocking_name(-1));
	for (int b = WW_BLOCKING_FALSE; b < WW_BLOCKING_N; b++) {
		assert_int_equal(ww_blocking_by_name(ww_blocking_name(b)), b);
		/* the message's list names every value */
		assert_non_null(
			strstr(ww_blocking_list(), ww_blocking_name(b)));
	}
	assert_int_equal(ww_blocking_by_name(NULL), WW_BLOCKING_NULL);
	assert_int_equal(ww_blocking_by_name("true"), -1);
	assert_int_equal(ww_blocking_by_name("DNS"), -1);
	assert_int_equal(ww_blocking_by_name(""), -1);
}

static void
test_classes(void **state)
{
	static const char *const names[WW_CLASS_N] = {
		"ok",		"dns",	     "tcp_ip",	    "tls",
		"http-failure", "http-diff", "server-side", "down",
		"failed",	"protocol",  "endpoint",
	};

	(void)state;
	for (int c = 0; c < WW_CLASS_N; c++) {
		assert_string_equal(ww_class_name(c), names[c]);
		assert_int_equal(ww_class_by_name(names[c]), c);
		assert_int_equal(
			ww_class_is_blocked(c),
			(c >= WW_CLASS_DNS && c <= WW_CLASS_SERVER_SIDE) ||
				c == WW_CLASS_PROTOCOL ||
				c == WW_CLASS_ENDPOINT);
	}
	assert_null(ww_class_name(WW_CLASS_N));
	assert_int_equal(ww_class_by_name("false"), -1);
	assert_int_equal(ww_class_by_name(NULL), -1);
	assert_int_equal(ww_classify("false", NULL, 1), WW_CLASS_OK);
	assert_int_equal(ww_classify("false", NULL, 0), WW_CLASS_DOWN);
	assert_int_equal(ww_classify("false", NULL, -1), WW_CLASS_FAILED);
	assert_int_equal(ww_classify(NULL, NULL, 1), WW_CLASS_FAILED);
	assert_int_equal(ww_classify("tls", NULL, 0), WW_CLASS_TLS);
	assert_int_equal(ww_classify("http-diff", WW_DETAIL_SERVER_SIDE, 0),
			 WW_CLASS_SERVER_SIDE);
	assert_int_equal(ww_classify("http-failure", WW_DETAIL_SERVER_SIDE, 0),
			 WW_CLASS_HTTP_FAILURE);
	assert_int_equal(ww_classify("bogus", NULL, 1), WW_CLASS_FAILED);
	assert_int_equal(ww_classify("protocol", "quic.sni_blocked", 0),
			 WW_CLASS_PROTOCOL);
	assert_int_equal(ww_classify("endpoint", "openvpn.timeout", 0),
			 WW_CLASS_ENDPOINT);
}

static int
one_int(void *arg, int n, char **v, char **col)
{
	(void)col;
	*(int *)arg = n == 1 && v[0] != NULL ? atoi(v[0]) : -99;
	return 0;
}

/* The SQL form gives ww_classify()'s answer for every verdict. */
static void
test_classify_sql(void **state)
{
	const char *blocking[] = {NULL,	 "false",	 "dns",	      "tcp_ip",
				  "tls", "http-failure", "http-diff", "bogus"};
	const char *detail[] = {NULL, WW_DETAIL_SERVER_SIDE, "http.diff"};
	char cls[512], sql[1024], tiny[16];
	sqlite3 *db;
	int n = 0;

	(void)state;
	assert_true(ww_classify_sql(cls, sizeof(cls)) > 0);
	assert_int_equal(ww_classify_sql(tiny, sizeof(tiny)), 0);
	assert_string_equal(tiny, "");
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	for (size_t b = 0; b < WW_ARRAY_LEN(blocking); b++)
		for (size_t d = 0; d < WW_ARRAY_LEN(detail); d++)
			for (int a = -1; a <= 1; a++) {
				int got = -1;

				snprintf(sql, sizeof(sql),
					 "SELECT %s FROM (SELECT %s%s%s AS"
					 " blocking, %s%s%s AS blocking_detail,"
					 " %s AS accessible)",
					 cls, blocking[b] ? "'" : "",
					 blocking[b] ? blocking[b] : "NULL",
					 blocking[b] ? "'" : "",
					 detail[d] ? "'" : "",
					 detail[d] ? detail[d] : "NULL",
					 detail[d] ? "'" : "",
					 a < 0 ? "NULL"
					 : a   ? "1"
					       : "0");
				assert_int_equal(sqlite3_exec(db, sql, one_int,
							      &got, NULL),
						 SQLITE_OK);
				assert_int_equal(
					got,
					ww_classify(blocking[b], detail[d], a));
				n++;
			}
	assert_int_equal(n, 8 * 3 * 3);
	sqlite3_close(db);
}

/* The stored values of one analysed measurement's JSON. */
static void
derived(const char *json, struct store_derived *d, json_t **keep,
	struct verdict_bufs *b)
{
	json_error_t e;

	*keep = json_loads(json, 0, &e);
	if (*keep == NULL)
		fail_msg("%s: %s", json, e.text);
	verdict_from_json(*keep, d, b);
}

static void
test_from_json(void **state)
{
	struct verdict_bufs b;
	struct store_derived d;
	json_t *m;

	(void)state;
	derived("{\"test_keys\": {\"blocking\": false, \"accessible\": true,"
		" \"confirmed\": false, \"analysis\": {\"version\": \"7\","
		" \"reason\": \"ok\"}}}",
		&d, &m, &b);
	assert_string_equal(d.blocking, "false");
	assert_int_equal(d.accessible, 1);
	assert_null(d.blocking_detail);
	assert_false(d.confirmed);
	assert_string_equal(d.analysis_version, "7");
	assert_string_equal(d.analysis_reason, "ok");
	assert_null(d.evidence);
	assert_int_equal(d.packets, 0);
	json_decref(m);
	derived("{\"test_keys\": {\"blocking\": \"http-diff\","
		" \"accessible\": false, \"blocking_detail\":"
		" \"http.server_side\", \"confirmed\": true}}",
		&d, &m, &b);
	assert_string_equal(d.blocking, "http-diff");
	assert_int_equal(d.accessible, 0);
	assert_string_equal(d.blocking_detail, WW_DETAIL_SERVER_SIDE);
	assert_true(d.confirmed);
	assert_null(d.analysis_version);
	assert_int_equal(
		ww_classify(d.blocking, d.blocking_detail, d.accessible),
		WW_CLASS_SERVER_SIDE);
	json_decref(m);
	/* null, absent or of another type: null */
	derived("{\"test_keys\": {\"blocking\": null, \"accessible\": null,"
		" \"blocking_detail\": 3, \"analysis\": \"7\"}}",
		&d, &m, &b);
	assert_null(d.blocking);
	assert_int_equal(d.accessible, -1);
	assert_null(d.blocking_detail);
	assert_null(d.analysis_version);
	json_decref(m);
	derived("{\"test_keys\": {\"blocking\": true, \"accessible\": 1}}", &d,
		&m, &b);
	assert_null(d.blocking); /* true is no blocking value */
	assert_int_equal(d.accessible, -1);
	json_decref(m);
	derived("{}", &d, &m, &b);
	assert_null(d.blocking);
	assert_int_equal(d.accessible, -1);
	json_decref(m);
	/* a string is passed on as it is, for the store to refuse */
	derived("{\"test_keys\": {\"blocking\": \"maybe\"}}", &d, &m, &b);
	assert_string_equal(d.blocking, "maybe");
	json_decref(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocking_names),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_classify_sql),
		cmocka_unit_test(test_from_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
