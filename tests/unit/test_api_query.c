/*
 * test_api_query.c - the read API's query strings (collector/api_query.c):
 * every parameter checked, a refusal naming its parameter; and the CSV
 * export's cells (collector/export_csv.c): formulas neutralised as OWASP
 * recommends.
 *
 * Linked from build/libcollector.a.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "util.h"
#include "../../collector/api_query.h"
#include "../../collector/collector.h"

#define ALL (AQ_FILTERS | AQ_AFTER | AQ_LIMIT | AQ_GRANULARITY | AQ_FORMAT)

struct qcase {
	const char *query;
	unsigned allowed;
	const char *param; /* NULL: accepted; else the parameter named */
};

static const struct qcase cases[] = {
	{NULL, ALL, NULL},
	{"", ALL, NULL},
	{"cc=CN&asn=AS4134&state=blocked&category=NEWS", ALL, NULL},
	{"input=https%3A%2F%2Fexample.org%2F&since=2026-11-01"
	 "&until=2026-12-01T00:00:00Z&limit=1000&after=5",
	 ALL, NULL},
	{"since=1700000000&until=1700003600", ALL, NULL},
	{"a=&", ALL, "a"},
	{"cc=CN&&limit=5&", ALL, NULL}, /* empty pairs say nothing */
	/* bad values */
	{"cc=CHN", ALL, "cc"},
	{"cc=cn", ALL, "cc"},
	{"cc=C", ALL, "cc"},
	{"cc=", ALL, "cc"},
	{"asn=4134", ALL, "asn"},
	{"asn=AS", ALL, "asn"},
	{"asn=AS04134", ALL, "asn"},
	{"asn=AS4294967296", ALL, "asn"},
	{"asn=AS4294967295", ALL, NULL},
	{"state=gone", ALL, "state"},
	{"state=Blocked", ALL, "state"},
	{"category=news", ALL, "category"},
	{"category=NEWS%20X", ALL, "category"},
	{"since=yesterday", ALL, "since"},
	{"since=2026-13-01", ALL, "since"},
	{"until=2026-11-01T00:00:00", ALL, "until"},
	{"since=2026-12-01&until=2026-11-01", ALL, "until"},
	{"limit=0", ALL, "limit"},
	{"limit=1001", ALL, "limit"},
	{"after=-1", ALL, "after"},
	{"granularity=week", ALL, "granularity"},
	{"format=xml", ALL, "format"},
	/* control characters, NUL, bad UTF-8, in any value */
	{"input=a%0Ab", ALL, "input"},
	{"input=a%0Db", ALL, "input"},
	{"input=a%00b", ALL, "input"},
	{"input=a%1Bb", ALL, "input"},
	{"input=%FF", ALL, "input"},
	{"cc=C%0A", ALL, "cc"},
	/* repeated, unknown, not taken here, malformed */
	{"cc=CN&cc=US", ALL, "cc"},
	{"cc=CN&cc=CN", ALL, "cc"},
	{"foo=1", ALL, "foo"},
	{"format=csv", AQ_FILTERS, "format"},
	{"granularity=day", AQ_FILTERS | AQ_AFTER | AQ_LIMIT, "granularity"},
	{"cc", ALL, "query"},
	{"=1", ALL, "query"},
	{"%00ce=%00", ALL, "query"}, /* found by fuzz_apiquery */
	{"x%0Ay=1", ALL, "x\\ny"},
};

static void
test_query_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(cases); i++) {
		const struct qcase *c = &cases[i];
		struct api_query q;
		char err[512] = "";
		int rc = api_query_parse(c->query, c->allowed, &q, err,
					 sizeof(err));

		if (c->param == NULL && rc != 0)
			fail_msg("%s: refused: %s", c->query, err);
		if (c->param != NULL && rc == 0)
			fail_msg("%s: accepted", c->query);
		if (c->param != NULL &&
		    (strcmp(q.err_param, c->param) != 0 ||
		     strncmp(err, c->param, strlen(c->param)) != 0))
			fail_msg("%s: named \"%s\" (%s), want %s", c->query,
				 q.err_param, err, c->param);
		api_query_clear(&q);
	}
}

static void
test_query_values(void **state)
{
	struct api_query q;
	char err[512] = "", big[AQ_MAX_QUERY + 2];

	(void)state;
	assert_int_equal(api_query_parse("input=a+b%2Bc&cc=CN&asn=AS1"
					 "&category=NEWS&state=down"
					 "&since=2026-11-02&limit=7&after=9"
					 "&granularity=hour&format=csv",
					 ALL, &q, err, sizeof(err)),
			 0);
	assert_string_equal(q.f.input, "a b+c");
	assert_string_equal(q.f.cc, "CN");
	assert_string_equal(q.f.asn, "AS1");
	assert_string_equal(q.f.category, "NEWS");
	assert_string_equal(q.f.state, "down");
	assert_int_equal(q.f.since, 1793577600); /* 2026-11-02 */
	assert_int_equal(q.f.until, 0);
	assert_int_equal(q.f.limit, 7);
	assert_int_equal(q.f.after_id, 9);
	assert_int_equal(q.granularity, 3600);
	assert_true(q.csv);
	api_query_clear(&q);

	/* an input of the longest length, and one byte more */
	memset(big, 0, sizeof(big));
	memcpy(big, "input=", 6);
	memset(big + 6, 'a', AQ_MAX_INPUT);
	assert_int_equal(api_query_parse(big, ALL, &q, err, sizeof(err)), 0);
	api_query_clear(&q);
	big[6 + AQ_MAX_INPUT] = 'a';
	assert_int_equal(api_query_parse(big, ALL, &q, err, sizeof(err)), -1);
	assert_string_equal(q.err_param, "input");
	api_query_clear(&q);
	/* a query string too long as a whole */
	memset(big + 6, 'a', AQ_MAX_QUERY - 5);
	assert_int_equal(api_query_parse(big, ALL, &q, err, sizeof(err)), -1);
	assert_string_equal(q.err_param, "query");
	api_query_clear(&q);
	/* an unknown name is shown cut and escaped */
	assert_int_equal(
		api_query_parse("%1B%5B31m=1", ALL, &q, err, sizeof(err)), -1);
	assert_string_equal(q.err_param, "\\x1b[31m");

	/* the export command's way, one option at a time */
	api_query_clear(&q);
	assert_int_equal(api_query_set(&q, AQ_FILTERS, "state", "blocked", err,
				       sizeof(err)),
			 0);
	assert_int_equal(api_query_set(&q, AQ_FILTERS, "state", "down", err,
				       sizeof(err)),
			 -1);
	assert_string_equal(err, "state: given twice");
	assert_int_equal(
		api_query_set(&q, AQ_FILTERS, "cc", "XYZ", err, sizeof(err)),
		-1);
	assert_string_equal(q.err_param, "cc");
	assert_int_equal(api_query_set(&q, AQ_FILTERS, "format", "csv", err,
				       sizeof(err)),
			 -1);
	api_query_clear(&q);
}

/* --- CSV cells ----------------------------------------------------------- */

static char *
cell(const char *s)
{
	struct evbuffer *b = evbuffer_new();
	size_t n;
	char *out;

	export_csv_cell(b, s, true);
	n = evbuffer_get_length(b);
	out = xmalloc(n + 1);
	evbuffer_remove(b, out, n);
	out[n] = '\0';
	evbuffer_free(b);
	return out;
}

static void
test_csv_cells(void **state)
{
	static const struct {
		const char *in, *out;
	} cases_csv[] = {
		{NULL, "\r\n"},
		{"", "\r\n"},
		{"plain", "plain\r\n"},
		{"a,b", "\"a,b\"\r\n"},
		{"say \"hi\"", "\"say \"\"hi\"\"\"\r\n"},
		{"=1+1", "\"'=1+1\"\r\n"},
		{"+1", "\"'+1\"\r\n"},
		{"-1", "\"'-1\"\r\n"},
		{"@SUM(A1)", "\"'@SUM(A1)\"\r\n"},
		{"\tx", "\"'\tx\"\r\n"},
		{"\rx", "\"'\rx\"\r\n"},
		{"  =cmd|' /C calc'!A0", "\"'  =cmd|' /C calc'!A0\"\r\n"},
		{"=HYPERLINK(\"http://x\",\"y\")",
		 "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n"},
		{"\xef\xbc\x9d"
		 "1+1",
		 "\"'\xef\xbc\x9d"
		 "1+1\"\r\n"},
		/* a leading quote gets one more: the rule stays reversible */
		{"'=1", "\"''=1\"\r\n"},
		{"'plain", "\"''plain\"\r\n"},
		/* not at the start: nothing to do */
		{"a=1", "a=1\r\n"},
		{"http://x/?a=-1", "http://x/?a=-1\r\n"},
		{"   ", "   \r\n"},
	};

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(cases_csv); i++) {
		char *got = cell(cases_csv[i].in);

		if (strcmp(got, cases_csv[i].out) != 0)
			fail_msg("cell %zu: got [%s], want [%s]", i, got,
				 cases_csv[i].out);
		free(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_table),
		cmocka_unit_test(test_query_values),
		cmocka_unit_test(test_csv_cells),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
