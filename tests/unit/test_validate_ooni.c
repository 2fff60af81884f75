/*
 * test_validate_ooni.c - the collector's check of OONI's own
 * web_connectivity measurements (collector/validate_ooni.c,
 * docs/ooni-data.md): every real measurement of tests/data/ooni/qa (0.5.x)
 * and tests/data/ooni/legacy (0.4.x) is accepted; then each rule is broken
 * in turn on a copy of one of them and the exact JSON path of the field at
 * fault is asserted. Also the identity of a measurement without a
 * measurement_uid (ww_ooni_uid) and the row prep_row_make() makes of one.
 * Tests run from the top of the tree.
 */
#include <dirent.h>
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
#include "../../collector/ingest_prep.h"
#include "../../collector/validate.h"
#include "json_path.h"

/* 0.5.x of probe-cli (no peer_certificates, answers null in places) and
 * 0.4.x of OONI's Go engine (certificates, network events). */
#define QA_DIR "tests/data/ooni/qa"
#define LEGACY_DIR "tests/data/ooni/legacy"
#define BASE QA_DIR "/successWithHTTPS.json"
#define OLD LEGACY_DIR "/us_instagram_041.json"
/* The collector's clock in these tests: 2026-01-01 00:00:00 UTC. */
#define NOW ((int64_t)1767225600)

/* --- helpers ----------------------------------------------------------- */

static json_t *
load(const char *path)
{
	json_error_t e;
	json_t *m = json_load_file(path, JSON_REJECT_DUPLICATES, &e);

	if (m == NULL)
		print_error("%s:%d: %s\n", path, e.line, e.text);
	assert_non_null(m);
	return m;
}

static void
accept_m(const json_t *m, const char *what)
{
	char field[256] = "x", msg[256] = "x";
	int rc = ww_validate_measurement_at(m, NOW, field, sizeof(field), msg,
					    sizeof(msg));

	if (rc != 0)
		print_error("%s refused: %s: %s\n", what, field, msg);
	assert_int_equal(rc, 0);
	assert_string_equal(field, "");
	assert_string_equal(msg, "");
}

/* Refused at want_field, with a message holding want_msg. Frees m. */
static void
refuse_m(json_t *m, const char *want_field, const char *want_msg)
{
	char field[256] = "", msg[256] = "";
	int rc = ww_validate_measurement_at(m, NOW, field, sizeof(field), msg,
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

/* file with path set to v (deleted: NULL), refused at want_field (path
 * when NULL). */
static void
refuse_set(const char *file, const char *path, json_t *v,
	   const char *want_field, const char *want_msg)
{
	json_t *m = load(file);

	set_at(m, path, v);
	refuse_m(m, want_field != NULL ? want_field : path, want_msg);
}

static void
accept_set(const char *file, const char *path, json_t *v)
{
	json_t *m = load(file);

	set_at(m, path, v);
	accept_m(m, path);
	json_decref(m);
}

/* --- every real measurement ----------------------------------------------- */

static int
accept_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char path[512];
		json_t *m;

		if (len < 5 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		m = load(path);
		assert_true(ww_validate_is_ooni(m));
		accept_m(m, path);
		json_decref(m);
		n++;
	}
	closedir(d);
	return n;
}

static void
test_every_fixture_accepted(void **state)
{
	(void)state;
	/* the counts of tests/data/ooni/SOURCE.md and legacy/SOURCE.md */
	assert_int_equal(accept_dir(QA_DIR), 52);
	assert_int_equal(accept_dir(LEGACY_DIR), 7);
}

static void
test_our_format_is_not_ooni(void **state)
{
	json_t *m = load("tests/data/validate/good.json");

	(void)state;
	assert_false(ww_validate_is_ooni(m));
	/* our probe's software naming OONI's test is still ours, and
	 * refused by our rules */
	set_at(m, "test_name", json_string("web_connectivity"));
	assert_false(ww_validate_is_ooni(m));
	set_at(m, "test_name", json_string("wallwatch_web"));
	/* and a uid of the form given to OONI's measurements is no uid of
	 * ours: ':' is refused, so the two can never collide */
	set_at(m, "measurement_uid",
	       json_string("ooni:0123456789abcdef0123456789abcdef"));
	refuse_m(m, "measurement_uid", "may hold only letters");
}

/* --- the envelope (df-000) ------------------------------------------------ */

static void
test_envelope_refusals(void **state)
{
	(void)state;
	refuse_set(BASE, "test_version", json_string("0.3.1"), NULL,
		   "only 0.4.x");
	refuse_set(BASE, "test_version", json_string("0.5"), NULL,
		   "is not read");
	refuse_set(BASE, "test_version", NULL, NULL, "missing");
	refuse_set(BASE, "software_name", json_integer(3), NULL,
		   "must be a string");
	refuse_set(BASE, "software_name", json_string(""), NULL,
		   "must not be empty");
	refuse_set(BASE, "software_version", json_string("3.22\n"), NULL,
		   "control character");
	refuse_set(BASE, "data_format_version", json_string("0.1.0"), NULL,
		   "base format");
	refuse_set(BASE, "input", NULL, NULL, "missing");
	refuse_set(BASE, "input", json_null(), NULL, "must be a string");
	refuse_set(BASE, "input", json_string(""), NULL, "must not be empty");
	refuse_set(BASE, "input", json_string("tcp://example.com:443"), NULL,
		   "http:// and https://");
	refuse_set(BASE, "input", json_string("not a url"), NULL,
		   "not a URL we can measure");
	refuse_set(BASE, "report_id", NULL, NULL, "missing");
	refuse_set(BASE, "report_id", json_integer(1), NULL,
		   "must be a string");
	refuse_set(BASE, "measurement_uid", json_string("a uid"), NULL,
		   "may hold only letters");
	refuse_set(BASE, "measurement_start_time",
		   json_string("2024-02-12T20:33:47Z"), NULL, "UTC time");
	refuse_set(BASE, "measurement_start_time",
		   json_string("2011-12-31 23:59:59"), NULL,
		   "before 2012-01-01");
	refuse_set(BASE, "measurement_start_time",
		   json_string("2026-01-01 02:00:01"), NULL, "from the future");
	refuse_set(BASE, "test_start_time", json_string("yesterday"), NULL,
		   "UTC time");
	refuse_set(BASE, "probe_cc", json_string("it"), NULL,
		   "two upper-case letters");
	refuse_set(BASE, "probe_asn", json_string("137"), NULL,
		   "\"AS\" and a number");
	refuse_set(BASE, "test_runtime", json_real(-1), NULL, ">= 0");
	refuse_set(BASE, "annotations", json_pack("{s:{}}", "platform"),
		   "annotations.platform", "must be a string");
	refuse_set(BASE, "options", json_pack("[i]", 7), "options[0]",
		   "must be a string");
	refuse_set(BASE, "test_keys", NULL, NULL, "missing");
	refuse_set(BASE, "test_keys", json_array(), NULL, "must be an object");
}

static void
test_probe_ip_never_kept(void **state)
{
	json_t *m = load(BASE);
	char field[64], msg[256];

	(void)state;
	set_at(m, "probe_ip", json_string("198.51.100.7"));
	assert_int_equal(ww_validate_measurement_at(m, NOW, field,
						    sizeof(field), msg,
						    sizeof(msg)),
			 -1);
	assert_string_equal(field, "probe_ip");
	/* the address is never echoed back */
	assert_null(strstr(msg, "198.51.100.7"));
	json_decref(m);
	accept_set(BASE, "probe_ip", json_null());
	accept_set(BASE, "probe_ip", NULL);
}

/* What OONI's format allows, which ours does not. */
static void
test_envelope_leniency(void **state)
{
	(void)state;
	accept_set(BASE, "annotations", json_null());
	accept_set(BASE, "annotations", json_pack("{s:i}", "n", 3));
	accept_set(BASE, "options", json_null());
	accept_set(BASE, "options", json_pack("[s]", "-N"));
	accept_set(BASE, "test_start_time", NULL);
	accept_set(BASE, "test_runtime", NULL);
	accept_set(BASE, "report_id", json_string(""));
	accept_set(BASE, "measurement_uid",
		   json_string("20240212203347.123456_IT_webconnectivity_"
			       "0123456789abcdef"));
	/* an archive: ten years old is fine */
	accept_set(BASE, "measurement_start_time",
		   json_string("2016-05-01 10:00:00"));
	accept_set(BASE, "test_version", json_string("0.4.0"));
	accept_set(BASE, "data_format_version", json_string("0.3.4"));
	accept_set(BASE, "probe_cc", json_string("ZZ"));
	accept_set(BASE, "probe_asn", json_string("AS0"));
	accept_set(BASE, "x_anything", json_pack("{s:[i]}", "a", 1));
}

/* --- test_keys ------------------------------------------------------------ */

static void
test_test_keys_refusals(void **state)
{
	json_t *many = json_array();

	(void)state;
	refuse_set(BASE, "test_keys.queries", json_string("x"), NULL,
		   "must be an array or null");
	refuse_set(BASE, "test_keys.queries[0].hostname", NULL, NULL,
		   "missing");
	refuse_set(BASE, "test_keys.queries[0].answers[0].answer_type", NULL,
		   NULL, "missing");
	refuse_set(BASE, "test_keys.queries[0].answers[0].ttl",
		   json_string("60"), NULL, "an integer or null");
	refuse_set(BASE, "test_keys.queries[0].tags", json_pack("[i]", 1),
		   "test_keys.queries[0].tags[0]", "must be a string");
	refuse_set(BASE, "test_keys.queries[1]", json_integer(1), NULL,
		   "must be an object");
	refuse_set(BASE, "test_keys.tcp_connect[0].port", json_integer(70000),
		   NULL, "0..65535");
	refuse_set(BASE, "test_keys.tcp_connect[0].status.success", NULL, NULL,
		   "missing");
	refuse_set(BASE, "test_keys.tcp_connect[0].status.failure", json_true(),
		   NULL, "or false");
	refuse_set(BASE, "test_keys.tls_handshakes[0].no_tls_verify",
		   json_string("no"), NULL, "a boolean");
	refuse_set(OLD, "test_keys.tls_handshakes[0].peer_certificates[1]",
		   json_pack("{s:s,s:s}", "format", "hex", "data", "00"),
		   "test_keys.tls_handshakes[0].peer_certificates[1].format",
		   "must be \"base64\"");
	refuse_set(OLD, "test_keys.tls_handshakes[0].peer_certificates[0]",
		   json_integer(5), NULL, "must be a string or");
	refuse_set(OLD, "test_keys.requests[0].response.headers_list[2]",
		   json_pack("[s]", "Server"), NULL, "[name, value]");
	refuse_set(OLD, "test_keys.requests[0].response.body",
		   json_pack("{s:s}", "format", "base64"),
		   "test_keys.requests[0].response.body.data",
		   "must be a string");
	refuse_set(OLD, "test_keys.requests[0].response.code",
		   json_string("200"), NULL, "an integer or null");
	refuse_set(OLD, "test_keys.network_events[0].operation", NULL, NULL,
		   "missing");
	refuse_set(OLD, "test_keys.network_events[0].num_bytes", json_real(1.5),
		   NULL, "an integer");
	refuse_set(BASE, "test_keys.control.tcp_connect",
		   json_pack("{s:{s:s}}", "x", "status", "yes"),
		   "test_keys.control.tcp_connect.x.status", "a boolean");
	refuse_set(BASE, "test_keys.control.dns.addrs", json_pack("[i]", 1),
		   "test_keys.control.dns.addrs[0]", "must be a string");
	refuse_set(BASE, "test_keys.control.http_request.status_code",
		   json_string("200"), NULL, "an integer or null");
	refuse_set(BASE, "test_keys.blocking", json_integer(1), NULL,
		   "a string or a boolean or null");
	refuse_set(BASE, "test_keys.accessible", json_string("true"), NULL,
		   "a boolean or null");
	/* bounds: arrays and nesting */
	for (int i = 0; i < 4097; i++)
		json_array_append_new(many, json_object());
	refuse_set(BASE, "test_keys.network_events", many, NULL,
		   "more than 4096");
	{
		json_t *deep = json_array(), *cur = deep;

		for (int i = 0; i < 40; i++) {
			json_t *n = json_array();

			json_array_append_new(cur, n);
			cur = n;
		}
		char want[256] = "test_keys.x_deep";

		/* named where the 33rd level starts */
		for (int i = 0; i < 30; i++)
			strcat(want, "[0]");
		refuse_set(BASE, "test_keys.x_deep", deep, want,
			   "nested deeper than 32");
	}
	/* json_pack's failure would be a NULL: none above was */
}

static void
test_test_keys_leniency(void **state)
{
	(void)state;
	accept_set(BASE, "test_keys.queries[0].answers", json_null());
	accept_set(BASE, "test_keys.tls_handshakes[0].peer_certificates",
		   json_null());
	/* "Some older versions of OONI Probe set this to false" (df-005) */
	accept_set(BASE, "test_keys.tcp_connect[0].status.failure",
		   json_false());
	accept_set(BASE, "test_keys.control", json_null());
	accept_set(BASE, "test_keys.network_events", json_null());
	accept_set(BASE, "test_keys.requests", NULL);
	accept_set(OLD, "test_keys.requests[0].response.body",
		   json_pack("{s:s,s:s}", "format", "base64", "data", "AA=="));
}

/* --- identity ------------------------------------------------------------- */

static void
uid_of(const json_t *m, char *out)
{
	ww_ooni_uid(m, out);
	assert_int_equal(strlen(out), WW_OONI_UID_LEN);
	assert_memory_equal(out, WW_OONI_UID_PREFIX,
			    strlen(WW_OONI_UID_PREFIX));
}

static void
test_uid_stable(void **state)
{
	json_t *a = load(OLD), *b = load(OLD), *pretty;
	char ua[WW_OONI_UID_LEN + 1], ub[WW_OONI_UID_LEN + 1];
	char *text;

	(void)state;
	uid_of(a, ua);
	uid_of(b, ub);
	assert_string_equal(ua, ub);
	/* with a report_id, only report_id, input and the start time count:
	 * the same measurement written otherwise is the same one */
	set_at(b, "test_runtime", json_real(99.5));
	uid_of(b, ub);
	assert_string_equal(ua, ub);
	text = json_dumps(a, JSON_INDENT(2));
	pretty = json_loads(text, 0, NULL);
	free(text);
	uid_of(pretty, ub);
	assert_string_equal(ua, ub);
	json_decref(pretty);
	/* each of the three makes another one */
	set_at(b, "input", json_string("https://www.instagram.com/x"));
	uid_of(b, ub);
	assert_string_not_equal(ua, ub);
	json_decref(b);
	b = load(OLD);
	set_at(b, "measurement_start_time", json_string("2023-03-07 14:25:43"));
	uid_of(b, ub);
	assert_string_not_equal(ua, ub);
	json_decref(b);
	b = load(OLD);
	set_at(b, "report_id", json_string("20230307T142506Z_other"));
	uid_of(b, ub);
	assert_string_not_equal(ua, ub);
	json_decref(a);
	json_decref(b);
}

/* OONI's QA runs have no report: eleven of them share input and start
 * time, and must still be eleven measurements. */
static void
test_uid_without_report(void **state)
{
	json_t *a = load(QA_DIR "/successWithHTTPS.json");
	json_t *b = load(QA_DIR "/dnsBlockingBOGON.json"), *c;
	char ua[WW_OONI_UID_LEN + 1], ub[WW_OONI_UID_LEN + 1];
	char *text;

	(void)state;
	assert_string_equal(json_string_value(json_object_get(a, "report_id")),
			    "");
	assert_string_equal(json_string_value(json_object_get(a, "input")),
			    json_string_value(json_object_get(b, "input")));
	uid_of(a, ua);
	uid_of(b, ub);
	assert_string_not_equal(ua, ub);
	/* the content counts, not how it is written */
	text = json_dumps(a, JSON_INDENT(3));
	c = json_loads(text, 0, NULL);
	free(text);
	uid_of(c, ub);
	assert_string_equal(ua, ub);
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

/* --- the row the ingest makes of one -------------------------------------- */

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	*len = (size_t)n;
	return buf;
}

static void
test_prep_row(void **state)
{
	struct prep_ctx *c = prep_ctx_new(NULL);
	struct prep_peer peer = {NULL, NULL, NOW, NULL};
	struct prep_row r, r2;
	struct prep_line l;
	char *text, uid[WW_OONI_UID_LEN + 1];
	json_t *m;

	(void)state;
	text = slurp(OLD, &l.len);
	l.text = text;
	l.line = 1;
	prep_row_make(c, &l, &peer, &r);
	if (!r.ok)
		print_error("refused: %s: %s\n", r.field, r.error);
	assert_true(r.ok);
	m = load(OLD);
	ww_ooni_uid(m, uid);
	json_decref(m);
	assert_string_equal(r.sm.uid, uid);
	assert_string_equal(r.sm.test_name, "web_connectivity");
	assert_string_equal(r.sm.software_name, "ooniprobe-desktop-unattended");
	assert_string_equal(r.sm.software_version, "3.14.1");
	assert_string_equal(r.sm.test_version, "0.4.1");
	assert_string_equal(r.sm.probe_cc, "US");
	/* the raw is kept as sent */
	assert_int_equal(r.sm.raw_len, l.len);
	/* the same line again: the same row, uid included */
	prep_row_make(c, &l, &peer, &r2);
	assert_true(r2.ok);
	assert_string_equal(r2.sm.uid, r.sm.uid);
	prep_row_clear(&r);
	prep_row_clear(&r2);
	free(text);

	/* a broken one is refused with its field named */
	text = xstrdup("{\"test_name\":\"web_connectivity\","
		       "\"test_version\":\"0.5.28\"}");
	l.text = text;
	l.len = strlen(text);
	prep_row_make(c, &l, &peer, &r);
	assert_false(r.ok);
	assert_string_equal(r.field, "software_name");
	prep_row_clear(&r);
	free(text);
	prep_ctx_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_fixture_accepted),
		cmocka_unit_test(test_our_format_is_not_ooni),
		cmocka_unit_test(test_envelope_refusals),
		cmocka_unit_test(test_probe_ip_never_kept),
		cmocka_unit_test(test_envelope_leniency),
		cmocka_unit_test(test_test_keys_refusals),
		cmocka_unit_test(test_test_keys_leniency),
		cmocka_unit_test(test_uid_stable),
		cmocka_unit_test(test_uid_without_report),
		cmocka_unit_test(test_prep_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
