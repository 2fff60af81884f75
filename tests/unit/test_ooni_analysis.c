/*
 * test_ooni_analysis.c - our analysis on OONI's own web_connectivity
 * measurements (tests/data/ooni/qa: 0.5.x of OONI's QA suite; legacy:
 * 0.4.x from OONI's archive), against tests/data/ooni/expected.tsv.
 *
 * Each row of the table names a fixture, OONI's verdict as the fixture
 * carries it (checked: the table cannot misquote OONI), ours (blocking,
 * accessible, blocking_detail, reason: checked against ww_analyze()), and
 * "-" or the ids of the "where we differ from OONI" rules that explain a
 * difference. A row whose verdict differs from OONI's must name rules, and
 * every rule named must be defined in docs/verdicts.md (an "[Dn]" in its
 * section "Where we differ from OONI and why"); a row that agrees must
 * name none. So a parsing accident cannot pass as a documented difference,
 * and every fixture must have its row. Tests run from the top of the tree.
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

#include "analysis.h"
#include "fingerprint.h"
#include "util.h"

#define DATA "tests/data/ooni/"
#define TABLE DATA "expected.tsv"
#define VERDICTS "docs/verdicts.md"
#define DIFF_SECTION "## Where we differ from OONI and why"
#define MAX_ROWS 256
#define NCOLS 9

static struct ww_fingerprints *fps;

struct row {
	char *col[NCOLS]; /* case, ooni_blocking, ooni_accessible, blocking,
			     accessible, blocking_detail, reason, rules,
			     note */
};

enum { C_CASE, C_OB, C_OA, C_B, C_A, C_DETAIL, C_REASON, C_RULES };

static struct row rows[MAX_ROWS];
static size_t n_rows;
static char *table_text;

/* --- the table --------------------------------------------------------------
 */

static bool
load_table(void)
{
	char err[256];
	size_t len;
	char *line, *save = NULL;
	bool header = true;

	table_text = ww_read_file(TABLE, 1 << 20, &len, err, sizeof(err));
	if (table_text == NULL) {
		print_error("%s: %s\n", TABLE, err);
		return false;
	}
	for (line = strtok_r(table_text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		struct row *r;
		char *p = line;

		if (*line == '#' || *line == '\0')
			continue;
		if (header) { /* the column names */
			header = false;
			continue;
		}
		if (n_rows == MAX_ROWS) {
			print_error("%s: more than %d rows\n", TABLE, MAX_ROWS);
			return false;
		}
		r = &rows[n_rows++];
		for (int c = 0; c < NCOLS; c++) {
			r->col[c] = p;
			p = p != NULL ? strchr(p, '\t') : NULL;
			if (p != NULL)
				*p++ = '\0';
		}
		for (int c = 0; c <= C_RULES; c++)
			if (r->col[c] == NULL || *r->col[c] == '\0') {
				print_error("%s: row %zu has no column %d\n",
					    TABLE, n_rows, c + 1);
				return false;
			}
	}
	return n_rows > 0;
}

/* The table's spelling of a verdict value: false, true, null, or the
 * string itself. */
static char *
cell(const json_t *v)
{
	if (json_is_null(v) || v == NULL)
		return xstrdup("null");
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "true" : "false");
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	return xstrdup("(odd)");
}

static void
expect_cell(const char *name, const char *what, const json_t *v,
	    const char *want)
{
	char *got = cell(v);

	if (strcmp(got, want) != 0)
		fail_msg("%s: %s is %s, the table says %s", name, what, got,
			 want);
	free(got);
}

/* --- the rules docs/verdicts.md defines -------------------------------------
 */

static char *verdicts_text;
static const char *diff_start, *diff_end;

static bool
load_rules(void)
{
	char err[256];
	size_t len;

	verdicts_text = ww_read_file(VERDICTS, 1 << 22, &len, err, sizeof(err));
	if (verdicts_text == NULL) {
		print_error("%s: %s\n", VERDICTS, err);
		return false;
	}
	diff_start = strstr(verdicts_text, DIFF_SECTION);
	if (diff_start == NULL) {
		print_error("%s: no section \"%s\"\n", VERDICTS, DIFF_SECTION);
		return false;
	}
	diff_end = strstr(diff_start + strlen(DIFF_SECTION), "\n## ");
	if (diff_end == NULL)
		diff_end = diff_start + strlen(diff_start);
	return true;
}

/* "**[D7]" (the rule's bold title) appears in the section. */
static bool
rule_defined(const char *id)
{
	char *mark = xasprintf("**[%s]", id);
	const char *p = strstr(diff_start, mark);

	free(mark);
	return p != NULL && p < diff_end;
}

static void
check_rules(const char *name, const char *rules, bool differs)
{
	char *copy, *id, *save = NULL;

	if (!differs) {
		if (strcmp(rules, "-") != 0)
			fail_msg("%s: agrees with OONI but names %s", name,
				 rules);
		return;
	}
	if (strcmp(rules, "-") == 0)
		fail_msg("%s: differs from OONI and names no rule", name);
	copy = xstrdup(rules);
	for (id = strtok_r(copy, ",", &save); id != NULL;
	     id = strtok_r(NULL, ",", &save))
		if (!rule_defined(id))
			fail_msg("%s: rule %s is not defined in %s, \"%s\"",
				 name, id, VERDICTS, DIFF_SECTION);
	free(copy);
}

/* --- running the analysis ---------------------------------------------------
 */

static json_t *
load_case(const char *name)
{
	char *path = xasprintf(DATA "%s.json", name);
	json_error_t e;
	json_t *m = json_load_file(path, 0, &e);

	if (m == NULL)
		fail_msg("%s:%d: %s", path, e.line, e.text);
	free(path);
	return m;
}

static void
analyze_ok(json_t *m)
{
	char err[256] = "";

	if (ww_analyze(m, fps, err, sizeof(err)) != 0)
		fail_msg("ww_analyze: %s", err);
}

static bool
same_value(const json_t *a, const json_t *b)
{
	if (a == NULL || b == NULL)
		return (a == NULL || json_is_null(a)) &&
		       (b == NULL || json_is_null(b));
	return json_equal((json_t *)a, (json_t *)b);
}

static void
check_row(const struct row *r)
{
	const char *name = r->col[C_CASE];
	json_t *m = load_case(name), *tk = json_object_get(m, "test_keys");
	json_t *ob = json_deep_copy(json_object_get(tk, "blocking"));
	json_t *oa = json_deep_copy(json_object_get(tk, "accessible"));
	json_t *a;
	bool differs;

	expect_cell(name, "OONI's blocking", ob, r->col[C_OB]);
	expect_cell(name, "OONI's accessible", oa, r->col[C_OA]);
	analyze_ok(m);
	a = json_object_get(tk, "analysis");
	expect_cell(name, "blocking", json_object_get(tk, "blocking"),
		    r->col[C_B]);
	expect_cell(name, "accessible", json_object_get(tk, "accessible"),
		    r->col[C_A]);
	expect_cell(name, "blocking_detail",
		    json_object_get(tk, "blocking_detail"), r->col[C_DETAIL]);
	expect_cell(name, "analysis.reason", json_object_get(a, "reason"),
		    r->col[C_REASON]);
	expect_cell(name, "analysis.shape", json_object_get(a, "shape"),
		    "ooni_web_connectivity");
	differs = !same_value(ob, json_object_get(tk, "blocking")) ||
		  !same_value(oa, json_object_get(tk, "accessible"));
	check_rules(name, r->col[C_RULES], differs);
	json_decref(ob);
	json_decref(oa);
	json_decref(m);
}

/* --- tests ------------------------------------------------------------------
 */

static void
test_table_matches(void **state)
{
	size_t differ = 0;

	(void)state;
	for (size_t i = 0; i < n_rows; i++) {
		check_row(&rows[i]);
		differ += strcmp(rows[i].col[C_RULES], "-") != 0;
	}
	print_message("%zu OONI measurements, %zu agree with OONI, %zu differ "
		      "by a documented rule\n",
		      n_rows, n_rows - differ, differ);
}

/* Every fixture of qa/ and legacy/ has exactly one row, and every row a
 * fixture: none can be left out of the comparison. */
static void
check_dir_covered(const char *dir)
{
	char *path = xasprintf(DATA "%s", dir);
	DIR *d = opendir(path);
	struct dirent *e;
	size_t files = 0;

	if (d == NULL)
		fail_msg("%s: cannot open", path);
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name), found = 0;
		char *name;

		if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
			continue;
		files++;
		name = xasprintf("%s/%.*s", dir, (int)(n - 5), e->d_name);
		for (size_t i = 0; i < n_rows; i++)
			found += strcmp(rows[i].col[C_CASE], name) == 0;
		if (found != 1)
			fail_msg("%s: %zu rows in %s (want 1)", name, found,
				 TABLE);
		free(name);
	}
	closedir(d);
	assert_true(files > 0);
	free(path);
}

static void
test_every_fixture_has_a_row(void **state)
{
	(void)state;
	check_dir_covered("qa");
	check_dir_covered("legacy");
	for (size_t i = 0; i < n_rows; i++) {
		char *path = xasprintf(DATA "%s.json", rows[i].col[C_CASE]);
		FILE *f = fopen(path, "r");

		if (f == NULL)
			fail_msg("%s: the table names a missing fixture", path);
		fclose(f);
		free(path);
	}
}

/* The rule check can fail: an undefined id, and a difference without one,
 * are refused (the same function the table goes through). */
static void
test_undefined_rule_is_refused(void **state)
{
	(void)state;
	assert_true(rule_defined("D1"));
	assert_false(rule_defined("D999"));
	/* a D-id outside the section does not count */
	assert_false(rule_defined("P1"));
}

/* The analysis replaces the verdict keys and nothing else: OONI's
 * observations stay as they were, and a second run gives the same. */
static void
test_observations_untouched(void **state)
{
	static const char *const cases[] = {
		"qa/redirectWithConsistentDNSAndThenConnectionResetForHTTPS",
		"qa/dnsBlockingBOGON", "legacy/us_theguardian_041",
		"legacy/tm_aspnetcdn_041"};

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(cases); i++) {
		json_t *m = load_case(cases[i]), *before = json_deep_copy(m);
		json_t *once, *tk = json_object_get(m, "test_keys");
		json_t *btk = json_object_get(before, "test_keys");
		const char *key;
		json_t *v;

		analyze_ok(m);
		once = json_deep_copy(m);
		analyze_ok(m);
		assert_true(json_equal(m, once));
		json_object_foreach(btk, key, v)
		{
			if (strcmp(key, "blocking") == 0 ||
			    strcmp(key, "accessible") == 0 ||
			    strstr(key, "_match") != NULL ||
			    strcmp(key, "body_proportion") == 0 ||
			    strcmp(key, "dns_consistency") == 0 ||
			    strcmp(key, "dns_experiment_failure") == 0 ||
			    strcmp(key, "http_experiment_failure") == 0)
				continue;
			if (!json_equal(v, json_object_get(tk, key)))
				fail_msg("%s: test_keys.%s changed", cases[i],
					 key);
		}
		json_object_del(m, "test_keys");
		json_object_del(before, "test_keys");
		assert_true(json_equal(m, before));
		json_decref(before);
		json_decref(once);
		json_decref(m);
	}
}

/* --- x_dns_duplicate_responses ----------------------------------------------
 */

/* A DNS reply for www.example.com A with id and one address a.b.c.d,
 * base64. */
static char *
dns_reply_b64(unsigned id, const unsigned char addr[4])
{
	unsigned char msg[512];
	size_t n = 0;
	static const char *const labels[] = {"www", "example", "com"};

	msg[n++] = (unsigned char)(id >> 8);
	msg[n++] = (unsigned char)id;
	msg[n++] = 0x81;	    /* QR, RD */
	msg[n++] = 0x80;	    /* RA, NOERROR */
	msg[n++] = 0, msg[n++] = 1; /* QDCOUNT */
	msg[n++] = 0, msg[n++] = 1; /* ANCOUNT */
	msg[n++] = 0, msg[n++] = 0, msg[n++] = 0, msg[n++] = 0;
	for (size_t i = 0; i < WW_ARRAY_LEN(labels); i++) {
		msg[n++] = (unsigned char)strlen(labels[i]);
		memcpy(msg + n, labels[i], strlen(labels[i]));
		n += strlen(labels[i]);
	}
	msg[n++] = 0;
	msg[n++] = 0, msg[n++] = 1;	/* A */
	msg[n++] = 0, msg[n++] = 1;	/* IN */
	msg[n++] = 0xc0, msg[n++] = 12; /* the question's name */
	msg[n++] = 0, msg[n++] = 1, msg[n++] = 0, msg[n++] = 1;
	msg[n++] = 0, msg[n++] = 0, msg[n++] = 0x0e, msg[n++] = 0x10;
	msg[n++] = 0, msg[n++] = 4;
	memcpy(msg + n, addr, 4);
	n += 4;
	return ww_base64(msg, n);
}

/* The UDP lookup of case name gets the reply raw1 and a duplicate raw2
 * (both ids id1, id2), as probe-cli records them. */
static json_t *
with_duplicate(const char *name, unsigned id1, const unsigned char a1[4],
	       unsigned id2, const unsigned char a2[4])
{
	json_t *m = load_case(name), *tk = json_object_get(m, "test_keys");
	json_t *qs = json_object_get(tk, "queries"), *udp = NULL, *dup;
	char *r1 = dns_reply_b64(id1, a1), *r2 = dns_reply_b64(id2, a2);

	for (size_t i = 0; i < json_array_size(qs); i++) {
		json_t *q = json_array_get(qs, i);

		if (json_is_string(json_object_get(q, "engine")) &&
		    strcmp(json_string_value(json_object_get(q, "engine")),
			   "udp") == 0 &&
		    strcmp(json_string_value(json_object_get(q, "query_type")),
			   "A") == 0)
			udp = q;
	}
	assert_non_null(udp);
	json_object_set_new(udp, "raw_response", json_string(r1));
	dup = json_deep_copy(udp);
	json_object_set_new(dup, "raw_response", json_string(r2));
	json_object_set_new(dup, "answers",
			    json_pack("[{s:s,s:s}]", "answer_type", "A", "ipv4",
				      "10.10.34.36"));
	json_object_set_new(tk, "x_dns_duplicate_responses",
			    json_pack("[o]", dup));
	free(r1);
	free(r2);
	return m;
}

static const char *
evidence0(const json_t *m)
{
	const json_t *a =
		json_object_get(json_object_get(m, "test_keys"), "analysis");

	return json_string_value(
		json_array_get(json_object_get(a, "evidence"), 0));
}

/* Two replies to one id that share no address prove injection (P1): where
 * the system resolver's own answer was forged too, dns.injected,
 * confirmed; where it was sound, evidence only (the walk's verdict
 * stands); the same pair with different ids (a retransmission) proves
 * nothing. */
static void
test_duplicate_responses(void **state)
{
	static const unsigned char real[4] = {93, 184, 216, 34},
				   forged[4] = {10, 10, 34, 36};
	json_t *m, *tk;

	(void)state;
	m = with_duplicate("qa/dnsBlockingBOGON", 0x1234, real, 0x1234, forged);
	analyze_ok(m);
	tk = json_object_get(m, "test_keys");
	assert_string_equal(
		json_string_value(json_object_get(tk, "blocking_detail")),
		"dns.injected");
	assert_true(json_is_true(json_object_get(tk, "confirmed")));
	assert_string_equal(evidence0(m), "dns_injected");
	json_decref(m);

	m = with_duplicate("qa/tcpBlockingConnectTimeout", 0x1234, real, 0x1234,
			   forged);
	analyze_ok(m);
	tk = json_object_get(m, "test_keys");
	assert_string_equal(
		json_string_value(json_object_get(tk, "blocking_detail")),
		"tcp.timeout");
	assert_false(json_is_true(json_object_get(tk, "confirmed")));
	assert_string_equal(evidence0(m), "dns_injected");
	json_decref(m);

	m = with_duplicate("qa/dnsBlockingBOGON", 0x1234, real, 0x4321, forged);
	analyze_ok(m);
	tk = json_object_get(m, "test_keys");
	assert_string_equal(
		json_string_value(json_object_get(tk, "blocking_detail")),
		"dns.bogon");
	assert_null(evidence0(m));
	json_decref(m);

	/* the page came intact over verified HTTPS: the walk's verdict
	 * stands, the injection is listed */
	m = with_duplicate("qa/successWithHTTPS", 7, real, 7, forged);
	analyze_ok(m);
	tk = json_object_get(m, "test_keys");
	assert_true(json_is_true(json_object_get(tk, "accessible")));
	assert_string_equal(evidence0(m), "dns_injected");
	json_decref(m);
}

/* --- set-up ------------------------------------------------------------------
 */

static int
setup(void **state)
{
	char err[512] = "";

	(void)state;
	fps = ww_fingerprints_new();
	if (ww_fingerprints_load_dir(fps, "testlists/fingerprints", err,
				     sizeof(err)) != 0) {
		print_error("fingerprints: %s\n", err);
		return -1;
	}
	return load_table() && load_rules() ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	ww_fingerprints_free(fps);
	free(table_text);
	free(verdicts_text);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_fixture_has_a_row),
		cmocka_unit_test(test_undefined_rule_is_refused),
		cmocka_unit_test(test_table_matches),
		cmocka_unit_test(test_observations_untouched),
		cmocka_unit_test(test_duplicate_responses),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
