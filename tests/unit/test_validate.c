/*
 * test_validate.c - the collector's check of a submitted measurement
 * (collector/validate.c, docs/ingest-validation.md): a real probe measurement
 * (tests/data/validate/good.json, made by tools/example-measurement.sh) is
 * accepted, then each rule is broken in turn on a copy of it and the exact
 * JSON path of the offending field is asserted. Also ww_parse_utc().
 * Tests run from the top of the tree.
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

#include "util.h"
#include "../../collector/validate.h"
#include "json_path.h"

#define GOOD "tests/data/validate/good.json"

/* --- helpers ----------------------------------------------------------- */

static json_t *good_json;
static int64_t good_start; /* its measurement_start_time */
#define NOW (good_start + 60)

static int
setup(void **state)
{
	json_error_t e;

	(void)state;
	good_json = json_load_file(GOOD, 0, &e);
	if (good_json == NULL) {
		print_error("%s:%d: %s\n", GOOD, e.line, e.text);
		return -1;
	}
	if (ww_parse_utc(json_string_value(json_object_get(
				 good_json, "measurement_start_time")),
			 &good_start) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	json_decref(good_json);
	return 0;
}

static json_t *
good(void)
{
	return json_deep_copy(good_json);
}

static json_t *
get_at(json_t *root, const char *path)
{
	char key[128];
	size_t idx = 0;
	json_t *parent = walk(root, path, key, sizeof(key), &idx);

	return key[0] != '\0' ? json_object_get(parent, key)
			      : json_array_get(parent, idx);
}

static void
accept_at(const json_t *m, int64_t now)
{
	char field[256] = "x", msg[256] = "x";
	int rc = ww_validate_measurement_at(m, now, field, sizeof(field), msg,
					    sizeof(msg));

	if (rc != 0)
		print_error("refused: %s: %s\n", field, msg);
	assert_int_equal(rc, 0);
	assert_string_equal(field, "");
	assert_string_equal(msg, "");
}

/* Refused, naming field, with a message holding want_msg. Frees m. */
static void
refuse_at(json_t *m, int64_t now, const char *want_field, const char *want_msg)
{
	char field[256] = "", msg[256] = "";
	int rc = ww_validate_measurement_at(m, now, field, sizeof(field), msg,
					    sizeof(msg));

	if (rc == 0 || strcmp(field, want_field) != 0 ||
	    strstr(msg, want_msg) == NULL)
		print_error("want %s: ...%s..., got rc %d, %s: %s\n",
			    want_field, want_msg, rc, field, msg);
	assert_int_equal(rc, -1);
	assert_string_equal(field, want_field);
	assert_non_null(strstr(msg, want_msg));
	json_decref(m);
}

static void
refuse(json_t *m, const char *want_field, const char *want_msg)
{
	refuse_at(m, NOW, want_field, want_msg);
}

/* good() with path set to v, refused at want_field (path if NULL). */
static void
refuse_set(const char *path, json_t *v, const char *want_field,
	   const char *want_msg)
{
	json_t *m = good();

	set_at(m, path, v);
	refuse(m, want_field != NULL ? want_field : path, want_msg);
}

static void
accept_set(const char *path, json_t *v)
{
	json_t *m = good();

	set_at(m, path, v);
	accept_at(m, NOW);
	json_decref(m);
}

/* --- the good measurement ------------------------------------------------- */

static void
test_good_accepted(void **state)
{
	(void)state;
	accept_at(good_json, NOW);
	/* the whole window: just made, a year old, an hour ahead */
	accept_at(good_json, good_start);
	accept_at(good_json, good_start + 31536000);
	accept_at(good_json, good_start - 3600);
}

static void
test_wrapper_uses_clock(void **state)
{
	json_t *m = good();
	char ts[20], field[64], msg[128];

	(void)state;
	ww_fmt_utc(time(NULL), ts);
	set_at(m, "measurement_start_time", json_string(ts));
	set_at(m, "test_start_time", json_string(ts));
	assert_int_equal(ww_validate_measurement(m, field, sizeof(field), msg,
						 sizeof(msg)),
			 0);
	ww_fmt_utc(time(NULL) + 7200, ts);
	set_at(m, "measurement_start_time", json_string(ts));
	assert_int_equal(ww_validate_measurement(m, field, sizeof(field), msg,
						 sizeof(msg)),
			 -1);
	assert_string_equal(field, "measurement_start_time");
	json_decref(m);
}

static void
test_endpoint_accepted(void **state)
{
	json_t *m = good();

	(void)state;
	set_at(m, "input", json_string("tls://good.lab.test:443"));
	set_at(m, "test_name", json_string("wallwatch_endpoint"));
	set_at(m, "test_keys.requests", json_array());
	accept_at(m, NOW);
	set_at(m, "input", json_string("tcp://[2001:db8::1]:1194"));
	accept_at(m, NOW);
	json_decref(m);
}

static void
test_unknown_keys_allowed(void **state)
{
	json_t *m = good();

	(void)state;
	set_at(m, "new_envelope_key", json_pack("{s:[i,i]}", "x", 1, 2));
	set_at(m, "test_keys.new_key", json_true());
	set_at(m, "test_keys.queries[0].new_key", json_null());
	set_at(m, "test_keys.tcp_connect[0].status.new_key", json_integer(1));
	set_at(m, "test_keys.tls_handshakes[1].new_key", json_array());
	set_at(m, "test_keys.requests[0].response.new_key", json_object());
	/* the verdict keys are not checked (the collector recomputes them) */
	set_at(m, "test_keys.blocking", json_integer(42));
	accept_at(m, NOW);
	json_decref(m);
}

static void
test_optional_keys_absent(void **state)
{
	json_t *m = good();

	(void)state;
	set_at(m, "probe_network_name", NULL);
	set_at(m, "test_keys.queries[0].raw_response", NULL);
	set_at(m, "test_keys.queries[0].rcode", NULL);
	set_at(m, "test_keys.tls_handshakes[0].tls_version", NULL);
	set_at(m, "test_keys.requests[0].response.body", NULL);
	set_at(m, "test_keys.control_attempts", NULL);
	accept_at(m, NOW);
	json_decref(m);
}

/* --- the envelope --------------------------------------------------------- */

static void
test_not_an_object(void **state)
{
	json_t *m = json_array();

	(void)state;
	refuse(m, "", "must be a JSON object");
	refuse(json_string("x"), "", "must be a JSON object");
}

static void
test_missing_keys(void **state)
{
	static const char *const keys[] = {
		"measurement_uid",
		"input",
		"test_name",
		"test_version",
		"software_name",
		"software_version",
		"measurement_start_time",
		"test_start_time",
		"probe_cc",
		"probe_asn",
		"probe_ip",
		"report_id",
		"test_runtime",
		"annotations",
		"options",
		"data_format_version",
		"test_keys",
	};

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(keys); i++)
		refuse_set(keys[i], NULL, NULL, "missing");
}

static void
test_uid(void **state)
{
	char long_uid[130];

	(void)state;
	refuse_set("measurement_uid", NULL, NULL, "missing (must be a string)");
	refuse_set("measurement_uid", json_integer(5), NULL,
		   "must be a string");
	refuse_set("measurement_uid", json_string(""), NULL,
		   "must not be empty");
	refuse_set("measurement_uid", json_string("abc/def"), NULL,
		   "only letters, digits");
	refuse_set("measurement_uid", json_string("a b"), NULL, "only letters");
	refuse_set("measurement_uid", json_string("\xc3\xa9t\xc3\xa9"), NULL,
		   "only letters");
	refuse_set("measurement_uid", json_stringn("ab\0cd", 5), NULL, "NUL");
	memset(long_uid, 'a', 129);
	long_uid[129] = '\0';
	refuse_set("measurement_uid", json_string(long_uid), NULL,
		   "129 bytes, longer than 128");
	long_uid[128] = '\0';
	accept_set("measurement_uid", json_string(long_uid));
	accept_set("measurement_uid", json_string("A-z_0.9"));
}

static void
test_input_and_test_name(void **state)
{
	char *long_input;

	(void)state;
	/* wrong test_name for the input's kind, both ways */
	refuse_set("test_name", json_string("wallwatch_endpoint"), NULL,
		   "must be \"wallwatch_web\" for a https:// input");
	{
		json_t *m = good();

		set_at(m, "input", json_string("tcp://example.org:443"));
		refuse(m, "test_name",
		       "must be \"wallwatch_endpoint\" for a tcp:// input");
	}
	refuse_set("test_name", json_string("web_connectivity"), NULL,
		   "must be \"wallwatch_web\" or \"wallwatch_endpoint\"");
	refuse_set("test_name", json_null(), NULL, "must be a string");
	/* inputs we would not measure */
	refuse_set("input", json_string("ftp://example.org/"), NULL,
		   "not a target we measure");
	refuse_set("input", json_string("tcp://example.org"), NULL,
		   "not a target we measure");
	refuse_set("input", json_string(""), NULL, "must not be empty");
	refuse_set("input", json_stringn("http://a\0b/", 11), NULL, "NUL");
	long_input = xmalloc(2100);
	memcpy(long_input, "http://example.org/", 19);
	memset(long_input + 19, 'a', 2100 - 19 - 1);
	long_input[2099] = '\0';
	refuse_set("input", json_string(long_input), NULL,
		   "2099 bytes, longer than 2048");
	free(long_input);
}

static void
test_short_strings(void **state)
{
	char s[300];

	(void)state;
	memset(s, 'v', 257);
	s[257] = '\0';
	refuse_set("test_version", json_integer(1), NULL, "must be a string");
	refuse_set("software_name", json_string(""), NULL, "not be empty");
	refuse_set("software_version", json_string(s), NULL, "longer than 256");
	refuse_set("report_id", json_null(), NULL, "must be a string");
	refuse_set("data_format_version", json_real(0.2), NULL,
		   "must be a string");
}

static void
test_times(void **state)
{
	json_t *m;
	char ts[20];

	(void)state;
	/* from the future: more than an hour ahead */
	refuse_at(good(), good_start - 3601, "measurement_start_time",
		  "from the future: 3601 s ahead");
	/* too old: more than a year */
	refuse_at(good(), good_start + 31536001, "measurement_start_time",
		  "too old: 31536001 s");
	m = good();
	ww_fmt_utc((time_t)(NOW - 31536000 - 86400), ts);
	set_at(m, "test_start_time", json_string(ts));
	refuse(m, "test_start_time", "too old");
	m = good();
	ww_fmt_utc((time_t)(NOW + 3601), ts);
	set_at(m, "test_start_time", json_string(ts));
	refuse(m, "test_start_time", "from the future");

	/* not the probe's format, or not a real date */
	refuse_set("measurement_start_time",
		   json_string("2026-11-22T21:27:39Z"), NULL,
		   "must be a UTC time \"YYYY-MM-DD HH:MM:SS\"");
	refuse_set("measurement_start_time", json_string("2026-02-29 00:00:00"),
		   NULL, "must be a UTC time");
	refuse_set("test_start_time", json_string("2026-11-22 24:00:00"), NULL,
		   "must be a UTC time");
	refuse_set("test_start_time", json_string(""), NULL,
		   "must be a UTC time");
	refuse_set("test_start_time", json_integer(1700000000), NULL,
		   "must be a string");
}

static void
test_parse_utc(void **state)
{
	static const char *const bad[] = {
		"",
		"2026-11-22",
		"2026-11-22 21:27",
		"2026-11-22 21:27:39 ",
		" 2026-11-22 21:27:39",
		"2026-11-22T21:27:39",
		"2026-11-22 21:27:39Z",
		"2026/11/22 21:27:39",
		"2026-1-22 21:27:39 ",
		"+026-11-22 21:27:39",
		"2026-11-22 21:27:3x",
		"0000-01-01 00:00:00",
		"2026-00-10 00:00:00",
		"2026-13-10 00:00:00",
		"2026-11-00 00:00:00",
		"2026-11-31 00:00:00",
		"2023-02-29 00:00:00",
		"1900-02-29 00:00:00",
		"2026-11-22 24:00:00",
		"2026-11-22 23:60:00",
		"2026-11-22 23:59:60",
	};
	int64_t t;

	(void)state;
	assert_int_equal(ww_parse_utc("1970-01-01 00:00:00", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(ww_parse_utc("2000-02-29 12:00:00", &t), 0);
	assert_int_equal(t, 951825600);
	assert_int_equal(ww_parse_utc("2026-11-22 21:27:39", &t), 0);
	assert_int_equal(t, 1795382859);
	assert_int_equal(ww_parse_utc("2038-01-19 03:14:08", &t), 0);
	assert_int_equal(t, INT64_C(2147483648));
	assert_int_equal(ww_parse_utc("1969-12-31 23:59:59", &t), 0);
	assert_int_equal(t, -1);
	assert_int_equal(ww_parse_utc("9999-12-31 23:59:59", &t), 0);
	assert_int_equal(t, INT64_C(253402300799));
	assert_int_equal(ww_parse_utc("0001-01-01 00:00:00", &t), 0);
	assert_int_equal(t, INT64_C(-62135596800));
	/* round trip with the probe's formatter over a range of days */
	for (int64_t s = 0; s < INT64_C(4102444800); s += 86400 * 37 + 3599) {
		char ts[20];

		ww_fmt_utc((time_t)s, ts);
		assert_int_equal(ww_parse_utc(ts, &t), 0);
		assert_int_equal(t, s);
	}
	for (size_t i = 0; i < WW_ARRAY_LEN(bad); i++) {
		t = 7;
		if (ww_parse_utc(bad[i], &t) != -1)
			print_error("accepted \"%s\"\n", bad[i]);
		assert_int_equal(ww_parse_utc(bad[i], &t), -1);
		assert_int_equal(t, 7);
	}
	assert_int_equal(ww_parse_utc(NULL, &t), -1);
}

static void
test_probe_cc(void **state)
{
	static const char *const bad[] = {"cn", "Cn", "CHN",	  "C",
					  "",	"C1", "\xc3\x89S"};

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(bad); i++)
		refuse_set("probe_cc", json_string(bad[i]), NULL,
			   "two upper-case letters");
	refuse_set("probe_cc", json_stringn("C\0", 2), NULL,
		   "two upper-case letters");
	refuse_set("probe_cc", json_integer(86), NULL, "must be a string");
	accept_set("probe_cc", json_string("CN"));
}

static void
test_probe_asn(void **state)
{
	static const char *const bad[] = {
		"4134",	   "AS",   "as4134", "ASx",	     "AS04134",
		"AS-1",	   "AS+1", "AS 1",   "AS4294967296", "AS99999999999",
		"AS4134 ", "",
	};

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(bad); i++)
		refuse_set("probe_asn", json_string(bad[i]), NULL,
			   "must be \"AS\" and a number");
	refuse_set("probe_asn", json_stringn("AS1\0", 4), NULL,
		   "must be \"AS\"");
	refuse_set("probe_asn", json_integer(4134), NULL, "must be a string");
	accept_set("probe_asn", json_string("AS4134"));
	accept_set("probe_asn", json_string("AS0"));
	accept_set("probe_asn", json_string("AS4294967295"));
}

static void
test_probe_ip(void **state)
{
	json_t *m = good();
	char field[64], msg[256];

	(void)state;
	set_at(m, "probe_ip", json_string("192.0.2.7"));
	assert_int_equal(ww_validate_measurement_at(m, NOW, field,
						    sizeof(field), msg,
						    sizeof(msg)),
			 -1);
	assert_string_equal(field, "probe_ip");
	assert_non_null(strstr(msg, "must be \"127.0.0.1\""));
	/* the address is never repeated (it would end up in logs) */
	assert_null(strstr(msg, "192.0.2.7"));
	json_decref(m);
	refuse_set("probe_ip", json_string("::1"), NULL, "127.0.0.1");
	refuse_set("probe_ip", json_string("127.0.0.1 "), NULL, "127.0.0.1");
	refuse_set("probe_ip", json_stringn("127.0.0.1\0x", 11), NULL,
		   "127.0.0.1");
	refuse_set("probe_ip", json_null(), NULL, "must be a string");
}

static void
test_runtime_annotations_options(void **state)
{
	(void)state;
	refuse_set("test_runtime", json_real(-0.5), NULL, ">= 0");
	refuse_set("test_runtime", json_string("1.0"), NULL,
		   "must be a number");
	accept_set("test_runtime", json_integer(0));
	refuse_set("annotations", json_array(), NULL, "must be an object");
	refuse_set("annotations.platform", json_integer(1), NULL,
		   "must be a string");
	refuse_set("annotations.extra", json_pack("{}"), NULL,
		   "must be a string");
	refuse_set("options", json_null(), NULL, "must be an object");
	accept_set("options.anything", json_pack("{s:[i]}", "x", 1));
	refuse_set("test_keys", json_array(), NULL, "must be an object");
	refuse_set("probe_network_name", json_integer(1), NULL,
		   "must be a string or null");
}

/* --- test_keys ------------------------------------------------------------ */

static void
test_arrays_are_arrays(void **state)
{
	(void)state;
	refuse_set("test_keys.queries", json_object(), NULL,
		   "must be an array");
	refuse_set("test_keys.queries", NULL, NULL, "missing");
	refuse_set("test_keys.tcp_connect", json_null(), NULL,
		   "must be an array");
	refuse_set("test_keys.tls_handshakes", json_string("[]"), NULL,
		   "must be an array");
	refuse_set("test_keys.requests", json_integer(0), NULL,
		   "must be an array");
	refuse_set("test_keys.queries[0]", json_string("q"), NULL,
		   "must be an object");
	refuse_set("test_keys.requests[1]", json_null(), NULL,
		   "must be an object");
	refuse_set("test_keys.control_attempts", json_object(), NULL,
		   "must be an array");
}

static void
test_failure_types(void **state)
{
	(void)state;
	refuse_set("test_keys.queries[1].failure", json_integer(42), NULL,
		   "must be a string or null");
	refuse_set("test_keys.queries[0].failure", NULL, NULL, "missing");
	refuse_set("test_keys.tcp_connect[0].status.failure", json_true(), NULL,
		   "must be a string or null");
	refuse_set("test_keys.tls_handshakes[1].failure", json_object(), NULL,
		   "must be a string or null");
	refuse_set("test_keys.requests[0].failure", json_array(), NULL,
		   "must be a string or null");
	refuse_set("test_keys.requests[1].failure_detail", json_false(), NULL,
		   "must be a string or null");
	refuse_set("test_keys.control_failure", json_integer(1), NULL,
		   "must be a string or null");
	accept_set("test_keys.tcp_connect[0].status.failure",
		   json_string("connection_refused"));
	accept_set("test_keys.control_failure",
		   json_string("generic_timeout_error"));
}

static void
test_element_keys(void **state)
{
	(void)state;
	/* queries */
	refuse_set("test_keys.queries[0].hostname", json_null(), NULL,
		   "must be a string");
	refuse_set("test_keys.queries[1].query_type", NULL, NULL, "missing");
	refuse_set("test_keys.queries[0].answers", json_string("127.0.0.1"),
		   NULL, "must be an array");
	refuse_set("test_keys.queries[0].answers[0]", json_integer(5), NULL,
		   "must be an object");
	refuse_set("test_keys.queries[0].answers[0].answer_type", NULL, NULL,
		   "missing");
	refuse_set("test_keys.queries[0].answers[0].ipv4", json_integer(1),
		   NULL, "must be a string");
	refuse_set("test_keys.queries[0].rcode", json_string("0"), NULL,
		   "must be an integer or null");
	refuse_set("test_keys.queries[0].t0", json_string("0"), NULL,
		   "must be a number");
	/* tcp_connect */
	refuse_set("test_keys.tcp_connect[0].ip", json_integer(127), NULL,
		   "must be a string");
	refuse_set("test_keys.tcp_connect[0].port", json_string("443"), NULL,
		   "must be an integer");
	refuse_set("test_keys.tcp_connect[0].port", json_integer(65536), NULL,
		   "1..65535");
	refuse_set("test_keys.tcp_connect[0].status", json_true(), NULL,
		   "must be an object");
	refuse_set("test_keys.tcp_connect[0].status.success", json_null(), NULL,
		   "must be a boolean");
	/* tls_handshakes */
	refuse_set("test_keys.tls_handshakes[0].peer_certificates",
		   json_object(), NULL, "must be an array");
	refuse_set("test_keys.tls_handshakes[0].peer_certificates[0].data",
		   json_null(), NULL, "must be a string");
	refuse_set("test_keys.tls_handshakes[1].handshake_done",
		   json_integer(1), NULL, "must be a boolean");
	refuse_set("test_keys.tls_handshakes[1].server_name", json_integer(1),
		   NULL, "must be a string or null");
	accept_set("test_keys.tls_handshakes[1].server_name", json_null());
	/* requests */
	refuse_set("test_keys.requests[0].request", json_null(), NULL,
		   "must be an object");
	refuse_set("test_keys.requests[0].request.url", NULL, NULL, "missing");
	refuse_set("test_keys.requests[1].response.code", json_string("200"),
		   NULL, "must be an integer");
	refuse_set("test_keys.requests[0].response.headers.Server",
		   json_integer(1), NULL, "must be a string");
	refuse_set("test_keys.requests[0].response.headers_list[2]",
		   json_pack("[s]", "X-Only-Name"), NULL, "[name, value] pair");
	refuse_set("test_keys.requests[0].request.headers_list[0]",
		   json_pack("[s,i]", "Accept", 1), NULL, "[name, value] pair");
	refuse_set("test_keys.requests[0].response.body", json_integer(0), NULL,
		   "must be a string or an object or null");
	refuse_set("test_keys.requests[0].response.body",
		   json_pack("{s:s}", "format", "base64"),
		   "test_keys.requests[0].response.body.data", "missing");
	accept_set("test_keys.requests[0].response.body",
		   json_pack("{s:s,s:s}", "format", "base64", "data", "AAE="));
	accept_set("test_keys.requests[0].response", json_null());
	/* control */
	refuse_set("test_keys.control", json_string("ok"), NULL,
		   "must be an object or null");
	refuse_set("test_keys.control", NULL, NULL, "missing");
	accept_set("test_keys.control", json_pack("{s:{}}", "dns"));
	refuse_set("test_keys.control_attempts",
		   json_pack("[{s:s,s:i}]", "url", "http://c/", "failure", 3),
		   "test_keys.control_attempts[0].failure", "string or null");
	refuse_set("test_keys.network_check",
		   json_pack("{s:[i],s:b}", "references", 1, "ok", 1),
		   "test_keys.network_check.references[0]", "must be a string");
}

/* n copies of the element at path's array [0]. */
static json_t *
repeat(json_t *m, const char *path, size_t n)
{
	json_t *arr = json_array(), *e = json_array_get(get_at(m, path), 0);

	assert_non_null(e);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_deep_copy(e));
	return arr;
}

static void
test_array_bounds(void **state)
{
	static const char *const arrays[] = {
		"test_keys.queries",
		"test_keys.tcp_connect",
		"test_keys.tls_handshakes",
		"test_keys.requests",
	};
	json_t *m;

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(arrays); i++) {
		m = good();
		set_at(m, arrays[i], repeat(m, arrays[i], 1024));
		accept_at(m, NOW);
		set_at(m, arrays[i], repeat(m, arrays[i], 1025));
		refuse(m, arrays[i], "has 1025 elements, more than 1024");
	}
	/* the documented smaller bounds */
	m = good();
	set_at(m, "test_keys.queries[0].answers",
	       repeat(m, "test_keys.queries[0].answers", 64));
	accept_at(m, NOW);
	set_at(m, "test_keys.queries[0].answers",
	       repeat(m, "test_keys.queries[0].answers", 65));
	refuse(m, "test_keys.queries[0].answers", "more than 64");
	m = good();
	set_at(m, "test_keys.tls_handshakes[0].peer_certificates",
	       repeat(m, "test_keys.tls_handshakes[0].peer_certificates", 11));
	refuse(m, "test_keys.tls_handshakes[0].peer_certificates",
	       "more than 10");
	m = good();
	set_at(m, "test_keys.requests[0].response.headers_list",
	       repeat(m, "test_keys.requests[0].response.headers_list", 129));
	refuse(m, "test_keys.requests[0].response.headers_list",
	       "more than 128");
}

static void
test_depth(void **state)
{
	json_t *m = good(), *deep = json_string("x");
	char want[256];
	size_t len;

	(void)state;
	/* the root is depth 1 and options depth 2: a chain of 31 objects
	 * there reaches depth 32 (the limit), 32 objects go over */
	for (int i = 0; i < 31; i++)
		deep = json_pack("{s:o}", "a", deep);
	set_at(m, "options", deep);
	accept_at(m, NOW);
	set_at(m, "options", json_pack("{s:O}", "a", deep));
	len = (size_t)snprintf(want, sizeof(want), "options");
	for (int i = 0; i < 31; i++)
		len += (size_t)snprintf(want + len, sizeof(want) - len, ".a");
	refuse(m, want, "nested deeper than 32 levels");

	/* arrays count too, and odd key bytes show as '?' in the path */
	deep = json_integer(1);
	for (int i = 0; i < 40; i++)
		deep = json_pack("[o]", deep);
	m = good();
	set_at(m, "test_keys.\xd0\xba\tk", deep);
	refuse(m,
	       "test_keys.???k[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
	       "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]",
	       "nested deeper");
}

static void
test_error_buffers(void **state)
{
	json_t *m = good();
	char field[12], msg[10];

	(void)state;
	set_at(m, "test_keys.queries[1].failure", json_integer(1));
	/* cut short, always terminated */
	assert_int_equal(ww_validate_measurement_at(m, NOW, field,
						    sizeof(field), msg,
						    sizeof(msg)),
			 -1);
	assert_string_equal(field, "test_keys.q");
	assert_int_equal(strlen(msg), sizeof(msg) - 1);
	/* no buffers at all */
	assert_int_equal(ww_validate_measurement_at(m, NOW, NULL, 0, NULL, 0),
			 -1);
	json_decref(m);

	/* a message quoting part of the input, cut at every buffer size:
	 * always terminated and valid UTF-8 */
	m = good();
	{
		char big[256], f[64];
		size_t n;

		set_at(m, "input", json_string("gopher\xc3\xa9://x/"));
		assert_int_equal(ww_validate_measurement_at(m, NOW, f,
							    sizeof(f), big,
							    sizeof(big)),
				 -1);
		assert_string_equal(f, "input");
		assert_non_null(strstr(big, "not a target we measure"));
		n = strlen(big);
		assert_true(ww_utf8_valid((unsigned char *)big, n));
		for (size_t cut = 1; cut <= n + 1; cut++) {
			char *small = xmalloc(cut);

			ww_validate_measurement_at(m, NOW, NULL, 0, small, cut);
			assert_int_equal(strlen(small), cut - 1);
			assert_true(
				ww_utf8_valid((unsigned char *)small, cut - 1));
			free(small);
		}
	}
	json_decref(m);
}

/* --- hops, transfer, control hops (test_version 0.2.0) -------------------- */

static json_t *
a_transfer(void)
{
	return json_pack("{s:i,s:i,s:f,s:f,s:f}", "bytes", 1118, "body_bytes",
			 1000, "t_first_byte", 0.001, "t_last_byte", 0.5,
			 "rate", 2004.0);
}

static json_t *
a_control_hop(void)
{
	return json_pack(
		"{s:s,s:{s:s,s:n,s:[s]},s:{s:{s:b,s:n}},s:{},s:{s:i,s:n,s:s,s:o}}",
		"url", "http://a.lab.test/", "dns", "host", "a.lab.test",
		"failure", "addrs", "127.0.0.1", "tcp_connect", "127.0.0.1:80",
		"status", 1, "failure", "tls_handshake", "http_request",
		"status_code", 302, "failure", "location", "/x", "transfer",
		a_transfer());
}

static void
test_hops_and_transfer(void **state)
{
	json_t *m = good(), *hops;

	(void)state;
	set_at(m, "test_keys.queries[0].hop", json_integer(0));
	set_at(m, "test_keys.tcp_connect[0].hop", json_integer(10));
	set_at(m, "test_keys.tls_handshakes[1].hop", json_integer(1));
	set_at(m, "test_keys.requests[0].hop", json_integer(1));
	set_at(m, "test_keys.requests[0].transfer", a_transfer());
	set_at(m, "test_keys.requests[1].transfer",
	       json_pack("{s:i,s:i,s:n,s:n,s:n}", "bytes", 0, "body_bytes", 0,
			 "t_first_byte", "t_last_byte", "rate"));
	hops = json_array();
	json_array_append_new(hops, a_control_hop());
	json_array_append_new(
		hops, json_pack("{s:n,s:n,s:n}", "url", "dns", "http_request"));
	set_at(m, "test_keys.control", json_pack("{s:o}", "hops", hops));
	accept_at(m, NOW);
	json_decref(m);

	refuse_set("test_keys.queries[0].hop", json_integer(-1), NULL,
		   "must be 0..10");
	refuse_set("test_keys.tcp_connect[0].hop", json_integer(11), NULL,
		   "must be 0..10");
	refuse_set("test_keys.tls_handshakes[0].hop", json_string("1"), NULL,
		   "must be an integer");
	refuse_set("test_keys.requests[0].hop", json_real(1.5), NULL,
		   "must be an integer");
	refuse_set("test_keys.requests[0].transfer", json_array(), NULL,
		   "must be an object");
	m = good();
	set_at(m, "test_keys.requests[0].transfer", a_transfer());
	set_at(m, "test_keys.requests[0].transfer.bytes", NULL);
	refuse(m, "test_keys.requests[0].transfer.bytes", "missing");
	m = good();
	set_at(m, "test_keys.requests[0].transfer", a_transfer());
	set_at(m, "test_keys.requests[0].transfer.body_bytes",
	       json_integer(-5));
	refuse(m, "test_keys.requests[0].transfer.body_bytes", "must be >= 0");
	m = good();
	set_at(m, "test_keys.requests[0].transfer", a_transfer());
	set_at(m, "test_keys.requests[0].transfer.rate", json_string("fast"));
	refuse(m, "test_keys.requests[0].transfer.rate", "must be a number");
	m = good();
	set_at(m, "test_keys.requests[0].transfer", a_transfer());
	set_at(m, "test_keys.requests[0].transfer.t_first_byte", json_real(-1));
	refuse(m, "test_keys.requests[0].transfer.t_first_byte",
	       "must be >= 0");

	/* the socket-level figures: optional, typed, bounded */
	m = good();
	set_at(m, "test_keys.requests[0].transfer", a_transfer());
	set_at(m, "test_keys.requests[0].transfer.wire_bytes",
	       json_integer(4000));
	set_at(m, "test_keys.requests[0].transfer.t_last_wire_byte",
	       json_real(9.5));
	set_at(m, "test_keys.requests[1].transfer", a_transfer());
	set_at(m, "test_keys.requests[1].transfer.wire_bytes", json_integer(0));
	set_at(m, "test_keys.requests[1].transfer.t_last_wire_byte",
	       json_null());
	accept_at(m, NOW);
	json_decref(m);
	m = good();
	set_at(m, "test_keys.requests[0].transfer", a_transfer());
	set_at(m, "test_keys.requests[0].transfer.wire_bytes", json_real(1.5));
	refuse(m, "test_keys.requests[0].transfer.wire_bytes",
	       "must be an integer");
	m = good();
	set_at(m, "test_keys.requests[0].transfer", a_transfer());
	set_at(m, "test_keys.requests[0].transfer.wire_bytes",
	       json_integer(-1));
	refuse(m, "test_keys.requests[0].transfer.wire_bytes", "must be >= 0");
	m = good();
	set_at(m, "test_keys.requests[0].transfer", a_transfer());
	set_at(m, "test_keys.requests[0].transfer.wire_bytes",
	       json_integer(1LL << 41));
	refuse(m, "test_keys.requests[0].transfer.wire_bytes",
	       "must be at most");
	m = good();
	set_at(m, "test_keys.requests[0].transfer", a_transfer());
	set_at(m, "test_keys.requests[0].transfer.t_last_wire_byte",
	       json_real(1e6));
	refuse(m, "test_keys.requests[0].transfer.t_last_wire_byte",
	       "must be at most");
	m = good();
	set_at(m, "test_keys.requests[0].transfer", a_transfer());
	set_at(m, "test_keys.requests[0].transfer.t_last_wire_byte",
	       json_real(-0.5));
	refuse(m, "test_keys.requests[0].transfer.t_last_wire_byte",
	       "must be >= 0");
}

/* control.hops: what the analysis reads, typed and bounded. */
static void
test_control_hops(void **state)
{
	json_t *m, *hops;

	(void)state;
	refuse_set("test_keys.control", json_pack("{s:{}}", "hops"),
		   "test_keys.control.hops", "must be an array");
	hops = json_array();
	for (int i = 0; i < 12; i++)
		json_array_append_new(hops, a_control_hop());
	refuse_set("test_keys.control", json_pack("{s:o}", "hops", hops),
		   "test_keys.control.hops", "more than 11");
	refuse_set("test_keys.control", json_pack("{s:[i]}", "hops", 1),
		   "test_keys.control.hops[0]", "must be an object");

	m = good();
	set_at(m, "test_keys.control",
	       json_pack("{s:[o]}", "hops", a_control_hop()));
	set_at(m, "test_keys.control.hops[0].url", json_integer(1));
	refuse(m, "test_keys.control.hops[0].url", "must be a string or null");
	m = good();
	set_at(m, "test_keys.control",
	       json_pack("{s:[o]}", "hops", a_control_hop()));
	set_at(m, "test_keys.control.hops[0].dns.addrs", json_pack("[i]", 7));
	refuse(m, "test_keys.control.hops[0].dns.addrs[0]", "must be a string");
	m = good();
	set_at(m, "test_keys.control",
	       json_pack("{s:[o]}", "hops", a_control_hop()));
	set_at(m, "test_keys.control.hops[0].tcp_connect",
	       json_pack("{s:{}}", "x"));
	refuse(m, "test_keys.control.hops[0].tcp_connect.x", "boolean status");
	m = good();
	set_at(m, "test_keys.control",
	       json_pack("{s:[o]}", "hops", a_control_hop()));
	set_at(m, "test_keys.control.hops[0].http_request.status_code", NULL);
	refuse(m, "test_keys.control.hops[0].http_request.status_code",
	       "missing");
	m = good();
	set_at(m, "test_keys.control",
	       json_pack("{s:[o]}", "hops", a_control_hop()));
	set_at(m, "test_keys.control.hops[0].http_request.transfer.bytes",
	       json_string("1"));
	refuse(m, "test_keys.control.hops[0].http_request.transfer.bytes",
	       "must be an integer");
	/* an answer without hops (OONI's, an older control's): accepted */
	accept_set("test_keys.control", json_pack("{s:{}}", "dns"));
}

/* --- test_keys.packets ---------------------------------------------------- */

#define PACKETS "tests/data/validate/packets.json"

/* good() with test_keys.packets from PACKETS and, when path is not NULL,
 * the value at path (relative to packets) set to v. */
static json_t *
with_packets(const char *path, json_t *v)
{
	json_t *m = good(), *p = json_load_file(PACKETS, 0, NULL);
	char *full;

	assert_non_null(p);
	set_at(m, "test_keys.packets", p);
	if (path != NULL) {
		full = xasprintf("test_keys.packets.%s", path);
		set_at(m, full, v);
		free(full);
	}
	return m;
}

static void
refuse_pk(const char *path, json_t *v, const char *want_field,
	  const char *want_msg)
{
	char *full = xasprintf("test_keys.packets.%s", want_field);

	refuse(with_packets(path, v), full, want_msg);
	free(full);
}

static void
test_packets(void **state)
{
	json_t *m, *a;

	(void)state;
	m = with_packets(NULL, NULL);
	accept_at(m, NOW);
	json_decref(m);
	/* optional inside, and absent altogether (older probes) */
	m = with_packets("dns", NULL);
	set_at(m, "test_keys.packets.tcp", NULL);
	set_at(m, "test_keys.packets.capture_failure", NULL);
	accept_at(m, NOW);
	json_decref(m);
	m = with_packets("capture", json_string("off"));
	set_at(m, "test_keys.packets.capture_failure",
	       json_string("no CAP_NET_RAW"));
	accept_at(m, NOW);
	json_decref(m);

	refuse_set("test_keys.packets", json_string("x"), NULL,
		   "must be an object");
	refuse_pk("capture", NULL, "capture", "missing");
	refuse_pk("ring_drops", json_integer(-1), "ring_drops", "0..");
	refuse_pk("ring_drops", json_string("3"), "ring_drops", "integer");
	m = with_packets("ring_drops", json_integer(12));
	accept_at(m, NOW);
	json_decref(m);
	m = with_packets("ring_drops", json_null());
	accept_at(m, NOW);
	json_decref(m);
	refuse_pk("capture", json_string("maybe"), "capture", "\"on\" or");
	refuse_pk("dns", json_object(), "dns", "must be an array");
	refuse_pk("dns[0].replies[0].dns_id", json_integer(65536),
		  "dns[0].replies[0].dns_id", "0..65535");
	refuse_pk("dns[0].replies[0].ip_ttl", json_integer(256),
		  "dns[0].replies[0].ip_ttl", "0..255");
	refuse_pk("dns[0].replies[0].ip_ttl", json_string("51"),
		  "dns[0].replies[0].ip_ttl", "an integer or null");
	refuse_pk("dns[0].replies[0].addrs[0]", json_string("30.3.0"),
		  "dns[0].replies[0].addrs[0]", "an IPv4 or IPv6 address");
	refuse_pk("dns[0].replies[0].raw_response",
		  json_string(
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		  "dns[0].replies[0].raw_response", "longer than 684");
	refuse_pk("tcp[0].flow", json_integer(0), "tcp[0].flow", "1..");
	refuse_pk("tcp[0].ip", json_string("[scrubbed]"), "tcp[0].ip",
		  "an IPv4 or IPv6 address");
	refuse_pk("tcp[0].port", json_integer(0), "tcp[0].port", "1..65535");
	refuse_pk("tcp[0].packets[1].dir", json_string("up"),
		  "tcp[0].packets[1].dir", "\"in\" or \"out\"");
	refuse_pk("tcp[0].packets[1].flags", json_string("AS"),
		  "tcp[0].packets[1].flags", "order FSRPAUEC");
	refuse_pk("tcp[0].packets[1].flags", json_string("SX"),
		  "tcp[0].packets[1].flags", "order FSRPAUEC");
	refuse_pk("tcp[0].packets[1].seq", json_integer(4294967296LL),
		  "tcp[0].packets[1].seq", "0..4294967295");
	refuse_pk("tcp[0].packets[1].ttl", json_integer(-1),
		  "tcp[0].packets[1].ttl", "0..255");
	refuse_pk("tcp[0].packets[1].t", json_real(-86401),
		  "tcp[0].packets[1].t", "seconds");
	m = with_packets("tcp[0].packets[1].t", json_real(-0.000012));
	accept_at(m, NOW); /* the capture's clock, a little before the start */
	json_decref(m);
	m = with_packets("tcp[0].packets[1].ip_id", json_integer(3000000000LL));
	accept_at(m, NOW); /* an IPv6 fragment header's 32-bit id */
	json_decref(m);
	refuse_pk("tcp[0].packets[1]", json_integer(3), "tcp[0].packets[1]",
		  "must be an object");

	/* the caps: 16 DNS entries of 8 replies, 24 flows of 32 packets */
	m = with_packets(NULL, NULL);
	a = get_at(m, "test_keys.packets.dns[0].replies");
	while (json_array_size(a) < 9)
		json_array_append_new(a, json_deep_copy(json_array_get(a, 0)));
	refuse(m, "test_keys.packets.dns[0].replies", "more than 8");
	m = with_packets(NULL, NULL);
	a = get_at(m, "test_keys.packets.dns");
	while (json_array_size(a) < 17)
		json_array_append_new(a, json_deep_copy(json_array_get(a, 0)));
	refuse(m, "test_keys.packets.dns", "more than 16");
	m = with_packets(NULL, NULL);
	a = get_at(m, "test_keys.packets.tcp");
	while (json_array_size(a) < 25)
		json_array_append_new(a, json_deep_copy(json_array_get(a, 0)));
	refuse(m, "test_keys.packets.tcp", "more than 24");
	m = with_packets(NULL, NULL);
	a = get_at(m, "test_keys.packets.tcp[0].packets");
	while (json_array_size(a) < 33)
		json_array_append_new(a, json_deep_copy(json_array_get(a, 0)));
	refuse(m, "test_keys.packets.tcp[0].packets", "more than 32");

	/* a record's flow */
	accept_set("test_keys.tcp_connect[0].flow", json_integer(3));
	refuse_set("test_keys.tcp_connect[0].flow", json_integer(-1), NULL,
		   "0..4294967295");
	refuse_set("test_keys.requests[0].flow", json_string("3"), NULL,
		   "must be an integer");
}

/* A VPN endpoint's measurement: its exchanges (a real probe's, against
 * Debian's OpenVPN) and the control's, and what is refused in them. */
static json_t *
with_exchanges(void)
{
	json_error_t e;
	json_t *d = json_load_file("tests/data/validate/exchanges.json", 0, &e);
	json_t *m = good(), *tk = json_object_get(m, "test_keys");

	assert_non_null(d);
	json_object_set_new(m, "input",
			    json_string("openvpn://vpn.example.net:1194"));
	json_object_set_new(m, "test_name", json_string("wallwatch_endpoint"));
	json_object_set(tk, "exchanges", json_object_get(d, "exchanges"));
	json_object_set_new(tk, "control",
			    json_pack("{s:{s:[], s:n}, s:{}, s:{}, s:n, s:O}",
				      "dns", "addrs", "failure", "tcp_connect",
				      "tls_handshake", "http_request",
				      "exchanges",
				      json_object_get(d, "control_exchanges")));
	json_decref(d);
	return m;
}

static void
test_exchanges(void **state)
{
	json_t *m, *r;

	(void)state;
	m = with_exchanges();
	accept_at(m, NOW);
	json_decref(m);

	m = with_exchanges();
	json_object_set_new(get_at(m, "test_keys.exchanges[1]"), "protocol",
			    json_string("pptp"));
	refuse(m, "test_keys.exchanges[1].protocol", "unknown value");

	m = with_exchanges();
	json_object_set_new(get_at(m, "test_keys.exchanges[0]"), "port",
			    json_integer(0));
	refuse(m, "test_keys.exchanges[0].port", "1..65535");

	m = with_exchanges();
	r = json_array_get(
		json_object_get(get_at(m, "test_keys.exchanges[1]"), "replies"),
		0);
	for (int i = 0; i < 8; i++)
		json_array_append(
			json_object_get(get_at(m, "test_keys.exchanges[1]"),
					"replies"),
			r);
	refuse(m, "test_keys.exchanges[1].replies", "more than 8");

	m = with_exchanges();
	r = json_array_get(
		json_object_get(get_at(m, "test_keys.exchanges[1]"), "replies"),
		0);
	{
		char big[1001];

		memset(big, 'A', 1000);
		big[1000] = '\0';
		json_object_set_new(r, "raw", json_string(big));
	}
	refuse(m, "test_keys.exchanges[1].replies[0].raw", "longer than");

	m = with_exchanges();
	json_object_del(get_at(m, "test_keys.exchanges[2]"), "answered");
	refuse(m, "test_keys.exchanges[2].answered", "missing");

	m = with_exchanges();
	assert_true(json_is_object(get_at(m, "test_keys.control")));
	json_object_set_new(get_at(m, "test_keys.control"), "exchanges",
			    json_array());
	refuse(m, "test_keys.control.exchanges", "must be an object");

	m = with_exchanges();
	json_object_set_new(
		json_array_get(json_object_get(
				       get_at(m, "test_keys.control.exchanges"),
				       "127.0.0.1:11940"),
			       1),
		"answered", json_string("yes"));
	refuse(m, "test_keys.control.exchanges.127.0.0.1:11940[1].answered",
	       "must be");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exchanges),
		cmocka_unit_test(test_good_accepted),
		cmocka_unit_test(test_wrapper_uses_clock),
		cmocka_unit_test(test_endpoint_accepted),
		cmocka_unit_test(test_unknown_keys_allowed),
		cmocka_unit_test(test_optional_keys_absent),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_missing_keys),
		cmocka_unit_test(test_uid),
		cmocka_unit_test(test_input_and_test_name),
		cmocka_unit_test(test_short_strings),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_parse_utc),
		cmocka_unit_test(test_probe_cc),
		cmocka_unit_test(test_probe_asn),
		cmocka_unit_test(test_probe_ip),
		cmocka_unit_test(test_runtime_annotations_options),
		cmocka_unit_test(test_arrays_are_arrays),
		cmocka_unit_test(test_failure_types),
		cmocka_unit_test(test_element_keys),
		cmocka_unit_test(test_array_bounds),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_error_buffers),
		cmocka_unit_test(test_hops_and_transfer),
		cmocka_unit_test(test_control_hops),
		cmocka_unit_test(test_packets),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
