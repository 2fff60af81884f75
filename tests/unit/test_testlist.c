/*
 * test_testlist.c - the Citizen Lab CSV loader: good files, every way a
 * file can be bad (with the exact "path:line: problem"), the limits,
 * duplicates, the list left untouched by an error, filtering, and the three
 * lists we ship. Fixtures live in tests/data/testlists/; tests run from the
 * top of the tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testlist.h"
#include "util.h"

#define DATA "tests/data/testlists/"
#define HEADER                                                                 \
	"url,category_code,category_description,date_added,source,notes\n"

/* --- helpers ----------------------------------------------------------- */

/* Notices are collected here; the callback has no user pointer. */
static char *notices[16];
static size_t n_notices;

static void
collect_notice(const char *msg)
{
	if (n_notices < WW_ARRAY_LEN(notices))
		notices[n_notices] = xstrdup(msg);
	n_notices++;
}

static void
reset_notices(void)
{
	for (size_t i = 0; i < n_notices && i < WW_ARRAY_LEN(notices); i++)
		free(notices[i]);
	n_notices = 0;
}

static int
teardown(void **state)
{
	(void)state;
	reset_notices();
	return 0;
}

static void
load_ok(struct ww_testlist *l, const char *path)
{
	char err[512] = "";
	int rc = ww_testlist_load(l, path, err, sizeof(err), collect_notice);

	if (rc != 0)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
}

static void
buf_ok(struct ww_testlist *l, const char *text)
{
	char err[512] = "";
	int rc = ww_testlist_load_buf(l, "mem.csv", text, strlen(text), err,
				      sizeof(err), collect_notice);

	if (rc != 0)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
}

/*
 * Load must fail with want, leaving l as it was: same array, same count,
 * same duplicate count, and no notice sent for the rejected file.
 */
static void
check_fails(struct ww_testlist *l, const char *path, const char *buf,
	    size_t len, const char *want)
{
	struct ww_testlist before = *l;
	const char *first = l->n > 0 ? l->targets[0].input : NULL;
	size_t notices_before = n_notices;
	char err[512] = "";
	int rc;

	if (buf != NULL)
		rc = ww_testlist_load_buf(l, path, buf, len, err, sizeof(err),
					  collect_notice);
	else
		rc = ww_testlist_load(l, path, err, sizeof(err),
				      collect_notice);
	assert_int_equal(rc, -1);
	assert_string_equal(err, want);
	assert_ptr_equal(l->targets, before.targets);
	assert_int_equal(l->n, before.n);
	assert_int_equal(l->cap, before.cap);
	assert_int_equal(l->n_duplicates, before.n_duplicates);
	if (first != NULL)
		assert_ptr_equal(l->targets[0].input, first);
	assert_int_equal(n_notices, notices_before);
}

static void
file_fails(const char *path, const char *want)
{
	struct ww_testlist l = {0};

	/* with a list that already holds rows, to see it is left alone */
	load_ok(&l, DATA "good_basic.csv");
	check_fails(&l, path, NULL, 0, want);
	ww_testlist_free(&l);
}

static void
buf_fails(const char *text, const char *want)
{
	struct ww_testlist l = {0};

	load_ok(&l, DATA "good_basic.csv");
	check_fails(&l, "mem.csv", text, strlen(text), want);
	ww_testlist_free(&l);
}

static void
assert_target(const struct ww_target *t, const char *input,
	      const char *category, const char *source)
{
	assert_string_equal(t->input, input);
	assert_string_equal(t->category_code, category);
	assert_string_equal(t->source, source);
}

/* --- good files -------------------------------------------------------- */

static void
test_good_basic(void **state)
{
	struct ww_testlist l = {0};

	(void)state;
	load_ok(&l, DATA "good_basic.csv");
	assert_int_equal(l.n, 4);
	assert_int_equal(l.n_duplicates, 0);
	assert_target(&l.targets[0], "https://www.bbc.com/news", "NEWS",
		      DATA "good_basic.csv:2");
	assert_int_equal(l.targets[0].kind, WW_TARGET_HTTPS);
	assert_string_equal(l.targets[0].host, "www.bbc.com");
	assert_target(&l.targets[1], "https://www.hrw.org/", "HUMR",
		      DATA "good_basic.csv:3");
	assert_target(&l.targets[2], "tls://mullvad.net:443", "ANON",
		      DATA "good_basic.csv:4");
	assert_int_equal(l.targets[2].kind, WW_TARGET_TLS);
	assert_int_equal(l.targets[2].port, 443);
	/* IPv6 literal in a list */
	assert_target(&l.targets[3], "http://[2001:db8::1]:8080/x", "CTRL",
		      DATA "good_basic.csv:5");
	assert_string_equal(l.targets[3].host, "2001:db8::1");
	assert_true(l.targets[3].host_is_ip);
	assert_int_equal(l.targets[3].port, 8080);
	assert_int_equal(n_notices, 0);
	ww_testlist_free(&l);
	assert_null(l.targets);
	assert_int_equal(l.n, 0);
	/* freeing twice, or a list never used, is fine */
	ww_testlist_free(&l);
	ww_testlist_free(NULL);
}

static void
test_crlf_bom_no_final_newline(void **state)
{
	struct ww_testlist l = {0};

	(void)state;
	load_ok(&l, DATA "good_crlf_bom.csv");
	assert_int_equal(l.n, 2);
	assert_target(&l.targets[0], "https://www.bbc.com/news", "NEWS",
		      DATA "good_crlf_bom.csv:2");
	assert_target(&l.targets[1], "https://www.hrw.org/", "HUMR",
		      DATA "good_crlf_bom.csv:3");
	ww_testlist_free(&l);
}

static void
test_quotes(void **state)
{
	struct ww_testlist l = {0};

	(void)state;
	load_ok(&l, DATA "good_quotes.csv");
	assert_int_equal(l.n, 5);
	assert_target(&l.targets[0], "https://www.bbc.com/news", "NEWS",
		      DATA "good_quotes.csv:2");
	assert_target(&l.targets[1], "https://www.hrw.org/", "HUMR",
		      DATA "good_quotes.csv:3");
	/* a quoted note spanning two lines: the next row starts two on */
	assert_target(&l.targets[2], "https://www.amnesty.org/", "HUMR",
		      DATA "good_quotes.csv:4");
	assert_target(&l.targets[3], "https://www.torproject.org/", "ANON",
		      DATA "good_quotes.csv:6");
	assert_target(&l.targets[4], "https://example.com/", "CTRL",
		      DATA "good_quotes.csv:8");
	ww_testlist_free(&l);

	/* quoted header names are still the header */
	buf_ok(&l, "\"url\",\"category_code\",\"category_description\","
		   "\"date_added\",\"source\",\"notes\"\n"
		   "https://example.com/,CTRL,Control content,2020-01-01,x,\n");
	assert_int_equal(l.n, 1);
	ww_testlist_free(&l);
}

static void
test_header_only_and_blank_lines(void **state)
{
	struct ww_testlist l = {0};

	(void)state;
	load_ok(&l, DATA "header_only.csv");
	assert_int_equal(l.n, 0);
	/* header without its line end */
	buf_ok(&l, "url,category_code,category_description,date_added,"
		   "source,notes");
	assert_int_equal(l.n, 0);

	load_ok(&l, DATA "blank_lines.csv");
	assert_int_equal(l.n, 2);
	assert_target(&l.targets[0], "https://www.bbc.com/news", "NEWS",
		      DATA "blank_lines.csv:5");
	assert_target(&l.targets[1], "https://www.hrw.org/", "HUMR",
		      DATA "blank_lines.csv:8");
	ww_testlist_free(&l);
}

/* --- duplicates -------------------------------------------------------- */

static void
test_duplicates(void **state)
{
	struct ww_testlist l = {0};

	(void)state;
	reset_notices();
	load_ok(&l, DATA "dups.csv");
	assert_int_equal(l.n, 3);
	assert_int_equal(l.n_duplicates, 2);
	assert_int_equal(n_notices, 2);
	assert_string_equal(notices[0],
			    DATA "dups.csv:4: duplicate of " DATA "dups.csv:2");
	assert_string_equal(notices[1],
			    DATA "dups.csv:6: duplicate of " DATA "dups.csv:2");
	/* the first row wins, category included */
	assert_target(&l.targets[0], "https://www.bbc.com/news", "NEWS",
		      DATA "dups.csv:2");
	assert_target(&l.targets[2], "https://www.bbc.com/news/", "NEWS",
		      DATA "dups.csv:5");

	/* a second file: its rows duplicate the first file's */
	reset_notices();
	load_ok(&l, DATA "good_basic.csv");
	assert_int_equal(l.n, 5);
	assert_int_equal(l.n_duplicates, 4);
	assert_int_equal(n_notices, 2);
	assert_string_equal(notices[0], DATA "good_basic.csv:2: duplicate "
					     "of " DATA "dups.csv:2");
	assert_string_equal(notices[1], DATA "good_basic.csv:3: duplicate "
					     "of " DATA "dups.csv:3");

	/* no callback: still counted, still skipped */
	assert_int_equal(ww_testlist_load(&l, DATA "dups.csv", NULL, 0, NULL),
			 0);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.n_duplicates, 9);
	ww_testlist_free(&l);
}

static void
test_duplicates_then_error(void **state)
{
	static const char text[] =
		HEADER "https://example.com/,CTRL,c,2020-01-01,x,\n"
		       "https://example.com/,CTRL,c,2020-01-01,x,\n"
		       "https://example.com/x,CTRL,c,2020-01-01,x\n";
	struct ww_testlist l = {0};

	(void)state;
	reset_notices();
	/* the duplicate on line 3 must be neither counted nor announced */
	check_fails(&l, "mem.csv", text, strlen(text),
		    "mem.csv:4: row has 5 fields, expected 6");
	assert_int_equal(l.n, 0);
	assert_null(l.targets);
	assert_int_equal(n_notices, 0);
}

/* --- bad files --------------------------------------------------------- */

static void
test_bad_files(void **state)
{
	static const struct {
		const char *file, *want;
	} cases[] = {
		{"bad_fields.csv", "3: row has 5 fields, expected 6"},
		{"bad_fields_many.csv", "2: row has 7 fields, expected 6"},
		{"bad_header.csv",
		 "1: header is \"a,b\", expected \"url,category_code,"
		 "category_description,date_added,source,notes\""},
		{"bad_header_case.csv",
		 "1: header is \"URL,category_code,category_description,"
		 "date_added,source,notes\", expected \"url,category_code,"
		 "category_description,date_added,source,notes\""},
		{"bad_url.csv", "3: bad url \"ftp://x\": unsupported scheme "
				"\"ftp\" (want http, https, tcp, tls, "
				"openvpn, ikev2, wireguard or quic)"},
		{"bad_category.csv", "2: bad category_code \"news1!\" (want "
				     "2-10 upper-case letters or digits)"},
		{"bad_date.csv", "3: bad date_added \"2020-13-01\" (want a "
				 "real date as YYYY-MM-DD)"},
		{"bad_unterminated.csv", "3: unterminated quoted field"},
		{"bad_nul.csv", "3: NUL byte"},
		{"bad_cr.csv", "2: carriage return not followed by line feed"},
		{"bad_quote.csv", "2: quote inside unquoted field (quote the "
				  "whole field and double the quote)"},
		{"bad_after_quote.csv", "2: text after closing quote"},
		{"bad_utf8.csv", "2: invalid UTF-8"},
	};

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(cases); i++) {
		char path[256], want[512];

		snprintf(path, sizeof(path), DATA "%s", cases[i].file);
		snprintf(want, sizeof(want), "%s:%s", path, cases[i].want);
		file_fails(path, want);
	}
	file_fails(DATA "empty.csv", DATA "empty.csv: empty file, expected a "
					  "header");
	file_fails(DATA "no-such-file.csv",
		   DATA "no-such-file.csv: No such file or directory");
	file_fails("tests/data/testlists",
		   "tests/data/testlists: Is a directory");
}

static void
test_bad_rows(void **state)
{
	(void)state;
	buf_fails("", "mem.csv: empty file, expected a header");
	buf_fails("\n\r\n\n", "mem.csv: empty file, expected a header");
	buf_fails("\xef\xbb\xbf", "mem.csv: empty file, expected a header");
	buf_fails(HEADER " \n", "mem.csv:2: row has 1 field, expected 6");
	buf_fails(HEADER "\"\"\n", "mem.csv:2: row has 1 field, expected 6");
	/* the BOM is only skipped at the very start */
	buf_fails("\xef\xbb\xbf\xef\xbb\xbf" HEADER,
		  "mem.csv:1: header is \"\xef\xbb\xbfurl,category_code,"
		  "category_description,date_added,source,notes\", expected "
		  "\"url,category_code,category_description,date_added,"
		  "source,notes\"");
	/* the error names the line the row starts on */
	buf_fails(HEADER "https://example.com/,CTRL,\"long\ndescription\","
			 "2020-01-01,x,\"a\nb\",extra\n",
		  "mem.csv:2: row has 7 fields, expected 6");
	buf_fails(HEADER "https://example.com/,CTRL,c,2020-01-01,x,\"a\nb\""
			 "c\n",
		  "mem.csv:2: text after closing quote");
	buf_fails(HEADER "https://example.com/,CTRL,c,2020-01-01,x,\"a\n\nb",
		  "mem.csv:2: unterminated quoted field");
	buf_fails(HEADER "https://example.com/,CTRL,c,2020-01-01,x,\"",
		  "mem.csv:2: unterminated quoted field");
	/* a bad field is quoted printably and cut when long */
	buf_fails(HEADER "\"http://a\tb/\",CTRL,c,2020-01-01,x,\n",
		  "mem.csv:2: bad url \"http://a\\x09b/\": control character "
		  "in URL");
	buf_fails(HEADER "\"http://a\"\"b/\",CTRL,c,2020-01-01,x,\n",
		  "mem.csv:2: bad url \"http://a\\\"b/\": invalid host name");
	buf_fails(HEADER "\" http://example.com/\",CTRL,c,2020-01-01,x,\n",
		  "mem.csv:2: bad url \" http://example.com/\": space in URL");
	buf_fails(HEADER "example.com,CTRL,c,2020-01-01,x,\n",
		  "mem.csv:2: bad url \"example.com\": no scheme (want "
		  "http://, https://, tcp://, tls://, openvpn://, ikev2://, "
		  "wireguard:// or quic://)");
	/* a list may not name a file of the probe's host */
	buf_fails(HEADER "openvpn://vpn.example.com:1194?wrap=tls-auth&"
			 "key=/etc/shadow,ANON,c,2020-01-01,x,\n",
		  "mem.csv:2: bad url \"openvpn://vpn.example.com:1194?wrap="
		  "tls-auth&key=/etc/shadow\": key= names a file on this "
		  "machine; a test list may not (give the key with --input or "
		  "the probe's key options)");
	buf_fails(HEADER ",CTRL,c,2020-01-01,x,\n",
		  "mem.csv:2: bad url \"\": empty input");
	buf_fails(HEADER "tcp://mullvad.net,ANON,c,2020-01-01,x,\n",
		  "mem.csv:2: bad url \"tcp://mullvad.net\": tcp:// target "
		  "needs a port");
	/* cut at 100 bytes, here in the middle of a euro sign (bytes 98-100),
	 * which goes whole */
	{
		char text[512], want[512], a78[79];

		memset(a78, 'a', 78);
		a78[78] = '\0';
		snprintf(text, sizeof(text),
			 HEADER "https://example.com/%s\xe2\x82\xac/ x,CTRL,c,"
				"2020-01-01,x,\n",
			 a78);
		snprintf(want, sizeof(want),
			 "mem.csv:2: bad url \"https://example.com/%s...\": "
			 "space in URL",
			 a78);
		buf_fails(text, want);
	}
	/* and a euro sign that ends exactly at byte 100 is kept */
	{
		char text[512], want[512], a77[78];

		memset(a77, 'a', 77);
		a77[77] = '\0';
		snprintf(text, sizeof(text),
			 HEADER "https://example.com/%s\xe2\x82\xac/ x,CTRL,c,"
				"2020-01-01,x,\n",
			 a77);
		snprintf(want, sizeof(want),
			 "mem.csv:2: bad url \"https://example.com/%s\xe2\x82"
			 "\xac...\": space in URL",
			 a77);
		buf_fails(text, want);
	}
	/* a row with a NUL inside a quoted field spanning lines */
	{
		static const char text[] = HEADER "https://example.com/,CTRL,"
						  "c,2020-01-01,x,\"a\nb\0\"\n";

		struct ww_testlist l = {0};

		check_fails(&l, "mem.csv", text, sizeof(text) - 1,
			    "mem.csv:3: NUL byte");
		check_fails(&l, "mem.csv", HEADER, strlen(HEADER) + 1,
			    "mem.csv:2: NUL byte");
		check_fails(&l, "mem.csv", "url\0", 4, "mem.csv:1: NUL byte");
	}
}

static void
test_categories_in_rows(void **state)
{
	static const char *const good[] = {"NEWS", "A1", "CTRL", "ABCDEFGHIJ",
					   "00"};
	static const char *const bad[] = {
		"",
		"N",
		"news",
		"News",
		"NE WS",
		"NEWS!",
		"\xc3\x84\xc3\x96", /* upper-case letters, but not ASCII */
		"ABCDEFGHIJK",
		" NEWS",
	};
	struct ww_testlist l = {0};
	char text[512], want[512];

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(good); i++) {
		snprintf(text, sizeof(text),
			 HEADER "https://example.com/,%s,c,2020-01-01,x,\n",
			 good[i]);
		buf_ok(&l, text);
		assert_string_equal(l.targets[0].category_code, good[i]);
		ww_testlist_free(&l);
	}
	for (size_t i = 0; i < WW_ARRAY_LEN(bad); i++) {
		snprintf(text, sizeof(text),
			 HEADER "https://example.com/,%s,c,2020-01-01,x,\n",
			 bad[i]);
		snprintf(want, sizeof(want),
			 "mem.csv:2: bad category_code \"%s\" (want 2-10 "
			 "upper-case letters or digits)",
			 bad[i]);
		buf_fails(text, want);
	}
}

static void
test_dates(void **state)
{
	static const char *const good[] = {"2014-04-15", "2000-02-29",
					   "2024-02-29", "2026-11-22",
					   "2023-12-31", "0001-01-01"};
	static const char *const bad[] = {
		"2020-13-01", "2020-00-10",  "2020-01-00", "2021-02-29",
		"1900-02-29", "2020-04-31",  "2020-1-01",  "20200101",
		"0000-01-01", "2020-01-01 ", "",	   "2020/01/01",
		"2020-01-32", "+020-01-01",  "2020-0a-01", "2020-01-01T00",
	};
	struct ww_testlist l = {0};
	char text[512], want[512];

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(good); i++) {
		snprintf(text, sizeof(text),
			 HEADER "https://example.com/,CTRL,c,%s,x,\n", good[i]);
		buf_ok(&l, text);
		assert_int_equal(l.n, 1);
		ww_testlist_free(&l);
	}
	for (size_t i = 0; i < WW_ARRAY_LEN(bad); i++) {
		snprintf(text, sizeof(text),
			 HEADER "https://example.com/,CTRL,c,\"%s\",x,\n",
			 bad[i]);
		snprintf(want, sizeof(want),
			 "mem.csv:2: bad date_added \"%s\" (want a real date "
			 "as YYYY-MM-DD)",
			 bad[i]);
		buf_fails(text, want);
	}
}

/* --- limits ------------------------------------------------------------ */

/* HEADER, then one row whose line (without its ending) is n bytes. */
static char *
row_of_length(size_t n, const char *ending)
{
	static const char start[] = "https://example.com/,CTRL,c,2020-01-01,"
				    "x,";
	size_t pre = strlen(HEADER) + sizeof(start) - 1;
	char *buf = xmalloc(pre + n + 8);

	assert_true(n >= sizeof(start) - 1);
	memcpy(buf, HEADER, strlen(HEADER));
	memcpy(buf + strlen(HEADER), start, sizeof(start) - 1);
	memset(buf + pre, 'n', n - (sizeof(start) - 1));
	snprintf(buf + strlen(HEADER) + n, 8, "%s", ending);
	return buf;
}

static void
test_line_length(void **state)
{
	struct ww_testlist l = {0};
	char *buf;

	(void)state;
	buf = row_of_length(WW_TESTLIST_MAX_LINE, "\n");
	buf_ok(&l, buf);
	assert_int_equal(l.n, 1);
	ww_testlist_free(&l);
	free(buf);

	/* the CR of a CRLF does not count */
	buf = row_of_length(WW_TESTLIST_MAX_LINE, "\r\n");
	buf_ok(&l, buf);
	ww_testlist_free(&l);
	free(buf);

	buf = row_of_length(WW_TESTLIST_MAX_LINE + 1, "\n");
	buf_fails(buf, "mem.csv:2: line longer than 8192 bytes");
	free(buf);

	buf = row_of_length(WW_TESTLIST_MAX_LINE + 1, "");
	buf_fails(buf, "mem.csv:2: line longer than 8192 bytes");
	free(buf);

	/* inside a quoted field the physical line is what is too long */
	buf = xmalloc(20000);
	snprintf(buf, 20000,
		 HEADER
		 "https://example.com/,CTRL,c,2020-01-01,x,\"a\nb\n%*s\"\n",
		 WW_TESTLIST_MAX_LINE + 1, "c");
	buf_fails(buf, "mem.csv:4: line longer than 8192 bytes");
	free(buf);
}

/* HEADER and n rows with distinct urls. */
static char *
many_rows(size_t n, size_t *len)
{
	size_t cap = strlen(HEADER) + n * 64 + 1, o;
	char *buf = xmalloc(cap);

	o = (size_t)snprintf(buf, cap, "%s", HEADER);
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, cap - o,
				      "http://example.com/%zu,CTRL,c,"
				      "2020-01-01,x,\n",
				      i);
	*len = o;
	return buf;
}

static void
test_row_limit(void **state)
{
	struct ww_testlist l = {0};
	char err[256] = "";
	size_t len;
	char *buf;

	(void)state;
	buf = many_rows(WW_TESTLIST_MAX_ROWS, &len);
	assert_int_equal(ww_testlist_load_buf(&l, "mem.csv", buf, len, err,
					      sizeof(err), NULL),
			 0);
	assert_int_equal(l.n, WW_TESTLIST_MAX_ROWS);
	assert_string_equal(l.targets[WW_TESTLIST_MAX_ROWS - 1].source,
			    "mem.csv:100001");
	ww_testlist_free(&l);
	free(buf);

	buf = many_rows(WW_TESTLIST_MAX_ROWS + 1, &len);
	check_fails(&l, "mem.csv", buf, len,
		    "mem.csv:100002: more than 100000 rows");
	free(buf);
}

static void
test_size_limit(void **state)
{
	struct ww_testlist l = {0};
	char path[] = "/tmp/test_testlist.XXXXXX";
	size_t len = WW_TESTLIST_MAX_BYTES + 1;
	char *buf = xmalloc(len);
	char want[256];
	FILE *f;
	int fd;

	(void)state;
	memset(buf, '\n', len);
	check_fails(&l, "mem.csv", buf, len,
		    "mem.csv: file is larger than 16 MiB");

	/* the same through a file: one byte over is over */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	snprintf(want, sizeof(want), "%s: file is larger than 16 MiB", path);
	check_fails(&l, path, NULL, 0, want);

	/* and exactly the limit is read whole: a header and blank lines */
	memcpy(buf, HEADER, strlen(HEADER));
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len - 1, f), len - 1);
	assert_int_equal(fclose(f), 0);
	load_ok(&l, path);
	assert_int_equal(l.n, 0);
	unlink(path);
	free(buf);
}

static void
test_small_err_buffer(void **state)
{
	struct ww_testlist l = {0};
	char err[10];

	(void)state;
	assert_int_equal(ww_testlist_load(&l, DATA "bad_url.csv", err,
					  sizeof(err), NULL),
			 -1);
	assert_string_equal(err, "tests/dat");
	assert_int_equal(ww_testlist_load_buf(&l, "a-long-name.csv", "", 0, err,
					      sizeof(err), NULL),
			 -1);
	assert_string_equal(err, "a-long-na");
}

/* --- --input, filter, categories --------------------------------------- */

static void
test_add_input(void **state)
{
	struct ww_testlist l = {0};
	char err[256] = "";

	(void)state;
	load_ok(&l, DATA "good_basic.csv");
	assert_int_equal(ww_testlist_add_input(&l, "https://example.org/", err,
					       sizeof(err)),
			 0);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.targets[4].input, "https://example.org/");
	assert_string_equal(l.targets[4].source, "--input");
	assert_null(l.targets[4].category_code);

	/* duplicates of a list row and of an earlier --input */
	assert_int_equal(ww_testlist_add_input(&l, "https://www.bbc.com/news",
					       err, sizeof(err)),
			 0);
	assert_int_equal(ww_testlist_add_input(&l, "https://example.org/", err,
					       sizeof(err)),
			 0);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.n_duplicates, 2);

	assert_int_equal(ww_testlist_add_input(&l, "ftp://x", err, sizeof(err)),
			 -1);
	assert_string_equal(err, "--input: bad url \"ftp://x\": unsupported "
				 "scheme \"ftp\" (want http, https, tcp, tls, "
				 "openvpn, ikev2, wireguard or quic)");
	assert_int_equal(l.n, 5);
	assert_int_equal(ww_testlist_add_input(&l, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "--input: bad url \"\": empty input");
	/* bytes that are not UTF-8 are shown escaped */
	assert_int_equal(ww_testlist_add_input(&l, "http://ex\xff.com/", err,
					       sizeof(err)),
			 -1);
	assert_string_equal(err, "--input: bad url \"http://ex\\xff.com/\": "
				 "URL is not valid UTF-8");
	assert_int_equal(l.n_duplicates, 2);

	/* a list loaded after --input sees it too */
	buf_ok(&l, HEADER "https://example.org/,NEWS,c,2020-01-01,x,\n");
	assert_int_equal(l.n, 5);
	assert_int_equal(l.n_duplicates, 3);
	ww_testlist_free(&l);
}

static struct ww_testlist
filter_fixture(void)
{
	struct ww_testlist l = {0};
	char err[256];

	buf_ok(&l, HEADER "https://www.bbc.com/news,NEWS,c,2020-01-01,x,\n"
			  "https://www.hrw.org/,HUMR,c,2020-01-01,x,\n"
			  "https://www.torproject.org/,ANON,c,2020-01-01,x,\n"
			  "https://example.com/,CTRL,c,2020-01-01,x,\n");
	assert_int_equal(ww_testlist_add_input(&l, "https://example.org/", err,
					       sizeof(err)),
			 0);
	return l;
}

static void
assert_inputs(const struct ww_testlist *l, const char *const *want, size_t n)
{
	assert_int_equal(l->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(l->targets[i].input, want[i]);
}

static void
test_filter(void **state)
{
	static const char *const all[] = {
		"https://www.bbc.com/news", "https://www.hrw.org/",
		"https://www.torproject.org/", "https://example.com/",
		"https://example.org/"};
	static const char *const news_humr[] = {"https://www.bbc.com/news",
						"https://www.hrw.org/",
						"https://example.org/"};
	static const char *const no_humr_ctrl[] = {
		"https://www.bbc.com/news", "https://www.torproject.org/",
		"https://example.org/"};
	static const char *const only_input[] = {"https://example.org/"};
	struct ww_testlist l;

	(void)state;
	l = filter_fixture();
	assert_int_equal(ww_testlist_filter(&l, NULL, NULL), 0);
	assert_inputs(&l, all, 5);
	ww_testlist_free(&l);

	/* case-insensitive, blanks around codes ignored; order kept */
	l = filter_fixture();
	assert_int_equal(ww_testlist_filter(&l, "news, Humr", NULL), 2);
	assert_inputs(&l, news_humr, 3);
	ww_testlist_free(&l);

	l = filter_fixture();
	assert_int_equal(ww_testlist_filter(&l, NULL, "HUMR,ctrl"), 2);
	assert_inputs(&l, no_humr_ctrl, 3);
	ww_testlist_free(&l);

	/* exclude wins over include; --input survives both */
	l = filter_fixture();
	assert_int_equal(ww_testlist_filter(&l, "NEWS,HUMR", "NEWS,HUMR"), 4);
	assert_inputs(&l, only_input, 1);
	ww_testlist_free(&l);

	/* a code is matched whole, not as a prefix */
	l = filter_fixture();
	assert_int_equal(ww_testlist_filter(&l, "NEW,HUM,ANONX", NULL), 4);
	assert_inputs(&l, only_input, 1);
	/* filtering to nothing and adding again works */
	buf_ok(&l, HEADER "https://www.hrw.org/,HUMR,c,2020-01-01,x,\n");
	assert_int_equal(l.n, 2);
	ww_testlist_free(&l);
}

static void
test_check_categories(void **state)
{
	static const struct {
		const char *list, *want;
	} bad[] = {
		{"", "empty category list"},
		{" \t", "empty category list"},
		{"NEWS,,HUMR", "empty item in category list \"NEWS,,HUMR\""},
		{"NEWS,", "empty item in category list \"NEWS,\""},
		{",NEWS", "empty item in category list \",NEWS\""},
		{"NEWS, ,HUMR", "empty item in category list \"NEWS, ,HUMR\""},
		{"NEWS,x", "bad category code \"x\" (want 2-10 letters or "
			   "digits)"},
		{"NEWS!", "bad category code \"NEWS!\" (want 2-10 letters or "
			  "digits)"},
		{"ABCDEFGHIJK", "bad category code \"ABCDEFGHIJK\" (want 2-10 "
				"letters or digits)"},
		{"NE WS", "bad category code \"NE WS\" (want 2-10 letters or "
			  "digits)"},
		{"NEWS;HUMR", "bad category code \"NEWS;HUMR\" (want 2-10 "
			      "letters or digits)"},
	};
	char err[256];

	(void)state;
	assert_int_equal(ww_testlist_check_categories("NEWS", err, sizeof(err)),
			 0);
	assert_int_equal(ww_testlist_check_categories("news,HUMR,Anon", err,
						      sizeof(err)),
			 0);
	assert_int_equal(
		ww_testlist_check_categories(" NEWS , CTRL ", err, sizeof(err)),
		0);
	assert_int_equal(ww_testlist_check_categories(NULL, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "empty category list");
	for (size_t i = 0; i < WW_ARRAY_LEN(bad); i++) {
		assert_int_equal(ww_testlist_check_categories(bad[i].list, err,
							      sizeof(err)),
				 -1);
		assert_string_equal(err, bad[i].want);
	}
}

/* --- the lists we ship ------------------------------------------------- */

static void
test_shipped_lists(void **state)
{
	static const char *const lists[] = {
		"testlists/global.csv",
		"testlists/cn.csv",
		"testlists/services.csv",
	};
	struct ww_testlist all = {0};
	size_t n_kind[WW_TARGET_QUIC + 1] = {0};

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(lists); i++) {
		struct ww_testlist l = {0};

		reset_notices();
		load_ok(&l, lists[i]);
		assert_true(l.n >= 8);
		/* no list repeats itself */
		assert_int_equal(l.n_duplicates, 0);
		assert_int_equal(n_notices, 0);
		for (size_t k = 0; k < l.n; k++) {
			assert_non_null(l.targets[k].host);
			assert_non_null(l.targets[k].category_code);
		}
		ww_testlist_free(&l);
		load_ok(&all, lists[i]);
	}
	/* services.csv holds endpoints only: TCP and TLS ones and those
	 * measured by their own handshake (VPN, QUIC) */
	for (size_t k = 0; k < all.n; k++) {
		const struct ww_target *t = &all.targets[k];
		bool endpoint =
			t->kind != WW_TARGET_HTTP && t->kind != WW_TARGET_HTTPS;
		bool from_services =
			strncmp(t->source, "testlists/services", 18) == 0;

		assert_true(endpoint == from_services);
		if (t->kind == WW_TARGET_WIREGUARD)
			assert_non_null(t->pubkey);
		/* a list never names a key file (testlist.c refuses it) */
		assert_null(t->key_file);
		n_kind[t->kind]++;
	}
	/* the sourced VPN and QUIC endpoints (testlists/README.md, Sources)
	 * load as their own kinds, not as plain TCP targets */
	assert_true(n_kind[WW_TARGET_OPENVPN] >= 1);
	assert_true(n_kind[WW_TARGET_WIREGUARD] >= 1);
	assert_true(n_kind[WW_TARGET_QUIC] >= 1);
	reset_notices();
	ww_testlist_free(&all);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_good_basic, teardown),
		cmocka_unit_test_teardown(test_crlf_bom_no_final_newline,
					  teardown),
		cmocka_unit_test_teardown(test_quotes, teardown),
		cmocka_unit_test_teardown(test_header_only_and_blank_lines,
					  teardown),
		cmocka_unit_test_teardown(test_duplicates, teardown),
		cmocka_unit_test_teardown(test_duplicates_then_error, teardown),
		cmocka_unit_test_teardown(test_bad_files, teardown),
		cmocka_unit_test_teardown(test_bad_rows, teardown),
		cmocka_unit_test_teardown(test_categories_in_rows, teardown),
		cmocka_unit_test_teardown(test_dates, teardown),
		cmocka_unit_test_teardown(test_line_length, teardown),
		cmocka_unit_test_teardown(test_row_limit, teardown),
		cmocka_unit_test_teardown(test_size_limit, teardown),
		cmocka_unit_test_teardown(test_small_err_buffer, teardown),
		cmocka_unit_test_teardown(test_add_input, teardown),
		cmocka_unit_test_teardown(test_filter, teardown),
		cmocka_unit_test_teardown(test_check_categories, teardown),
		cmocka_unit_test_teardown(test_shipped_lists, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
