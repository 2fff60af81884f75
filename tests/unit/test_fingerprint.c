/*
 * test_fingerprint.c - the fingerprint CSV loader (good files, every way a
 * file can be bad, with the exact "file:line: problem", the limits, a bad
 * file leaving the set as it was), loading a directory, the files we ship,
 * and matching: each location and pattern type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fingerprint.h"
#include "util.h"

#define HEADER                                                                 \
	"name,scope,location,pattern_type,pattern,expected_countries,source,"  \
	"notes\n"
#define SRC "https://github.com/ooni/blocking-fingerprints"

/* --- helpers -------------------------------------------------------------- */

static struct ww_fingerprints *
load_ok(const char *text)
{
	struct ww_fingerprints *fp = ww_fingerprints_new();
	char err[512] = "";

	if (ww_fingerprints_load_buf(fp, "mem.csv", text, strlen(text), err,
				     sizeof(err)) != 0)
		fail_msg("unexpected error: %s", err);
	return fp;
}

/* Loading text must fail with exactly want, and add nothing. */
static void
load_bad_len(const char *text, size_t len, const char *want)
{
	struct ww_fingerprints *fp = ww_fingerprints_new();
	char err[512] = "";

	assert_int_equal(ww_fingerprints_load_buf(fp, "mem.csv", text, len, err,
						  sizeof(err)),
			 -1);
	assert_string_equal(err, want);
	assert_int_equal(ww_fingerprints_count(fp), 0);
	ww_fingerprints_free(fp);
}

static void
load_bad(const char *text, const char *want)
{
	load_bad_len(text, strlen(text), want);
}

static char tmpdir[] = "/tmp/ww-fp-test.XXXXXX";

static char *
write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
remove_file(const char *name)
{
	char *path = xasprintf("%s/%s", tmpdir, name);

	unlink(path);
	free(path);
}

static const char *
match_dns_name(const struct ww_fingerprints *fp, const char *answer)
{
	const struct ww_fingerprint *m[4];

	return ww_fingerprints_match_dns(fp, answer, m, 4) > 0
		       ? ww_fingerprint_name(m[0])
		       : NULL;
}

static size_t
body_matches(const struct ww_fingerprints *fp, const char *body, bool complete)
{
	const struct ww_fingerprint *m[8];

	return ww_fingerprints_match_body(fp, body, strlen(body), complete, m,
					  8);
}

static size_t
header_matches(const struct ww_fingerprints *fp, const char *name,
	       const char *value)
{
	const struct ww_fingerprint *m[8];

	return ww_fingerprints_match_header(fp, name, value, m, 8);
}

/* --- good files ----------------------------------------------------------- */

static void
test_basic(void **state)
{
	struct ww_fingerprints *fp = load_ok(
		HEADER
		"cn_0,nat,dns,full,8.7.198.45,CN," SRC ",GFW\n"
		"ir_v6,nat,dns,full,d0::11,IR," SRC ",\n"
		"id_cname,nat,dns,full,TrustPositif.Kominfo.go.id.,ID," SRC
		",\n"
		"kr_body,nat,body,contains,http://warning.or.kr,KR," SRC ",\n"
		"kr_loc,nat,header.location,full,http://www.warning.or.kr,"
		"KR," SRC ",\n"
		"ae_srv,isp,header.server,prefix,Protected by WireFilter,AE "
		"SA," SRC ",\n");

	(void)state;
	assert_int_equal(ww_fingerprints_count(fp), 6);
	ww_fingerprints_free(fp);
	ww_fingerprints_free(NULL);
	assert_int_equal(ww_fingerprints_count(NULL), 0);
}

/* RFC 4180 quoting, CRLF, a BOM, blank lines, a quoted line break. */
static void
test_quotes_crlf_bom(void **state)
{
	const char *text =
		"\xef\xbb\xbf"
		"name,scope,location,pattern_type,pattern,expected_countries,"
		"source,notes\r\n"
		"\r\n"
		"ir_0,nat,body,contains,\"iframe src=\"\"http://10.10\",IR,"
		"\"" SRC ", row ir_0\",\"a, b\"\r\n"
		"\n"
		"multi,nat,body,contains,\"line one\nline two\",,x,\r\n";
	struct ww_fingerprints *fp = load_ok(text);

	(void)state;
	assert_int_equal(ww_fingerprints_count(fp), 2);
	assert_int_equal(
		body_matches(fp, "<iframe src=\"http://10.10.34.34\">", true),
		1);
	assert_int_equal(body_matches(fp, "x line one\nline two y", true), 1);
	ww_fingerprints_free(fp);
}

static void
test_header_only_and_no_final_newline(void **state)
{
	struct ww_fingerprints *fp = load_ok(
		"name,scope,location,pattern_type,pattern,expected_countries,"
		"source,notes");

	(void)state;
	assert_int_equal(ww_fingerprints_count(fp), 0);
	ww_fingerprints_free(fp);
	fp = load_ok(HEADER "a,nat,dns,full,1.2.3.4,,x,");
	assert_int_equal(ww_fingerprints_count(fp), 1);
	ww_fingerprints_free(fp);
}

/* --- bad files: each problem, with its line ------------------------------- */

static void
test_bad_header(void **state)
{
	(void)state;
	load_bad("", "mem.csv: empty file: the header must be exactly "
		     "name,scope,location,pattern_type,pattern,"
		     "expected_countries,source,notes");
	load_bad("\n\n", "mem.csv: empty file: the header must be exactly "
			 "name,scope,location,pattern_type,pattern,"
			 "expected_countries,source,notes");
	load_bad("name,scope,location_found,pattern_type,pattern,"
		 "expected_countries,source,notes\n",
		 "mem.csv:1: bad header: the header must be exactly "
		 "name,scope,location,pattern_type,pattern,"
		 "expected_countries,source,notes");
	/* OONI's own header has more columns */
	load_bad("name,scope,other_names,location_found,pattern_type,pattern,"
		 "confidence_no_fp,expected_countries,source,exp_url,notes\n",
		 "mem.csv:1: more than 8 fields");
	load_bad("\nName,scope,location,pattern_type,pattern,"
		 "expected_countries,source,notes\n",
		 "mem.csv:2: bad header: the header must be exactly "
		 "name,scope,location,pattern_type,pattern,"
		 "expected_countries,source,notes");
}

static void
test_bad_fields(void **state)
{
	(void)state;
	load_bad(HEADER "a,nat,dns,full,1.2.3.4,,x\n",
		 "mem.csv:2: expected 8 fields, got 7");
	load_bad(HEADER "a,nat,dns,full,1.2.3.4,,x,,\n",
		 "mem.csv:2: more than 8 fields");
	load_bad(HEADER "ok,nat,dns,full,1.2.3.4,,x,\n\nb\n",
		 "mem.csv:4: expected 8 fields, got 1");
	load_bad(HEADER ",nat,dns,full,1.2.3.4,,x,\n",
		 "mem.csv:2: name must be 1-128 letters, digits, '.', '_' or "
		 "'-'");
	load_bad(HEADER "a b,nat,dns,full,1.2.3.4,,x,\n",
		 "mem.csv:2: name must be 1-128 letters, digits, '.', '_' or "
		 "'-'");
	load_bad(HEADER "a,vbw,dns,full,1.2.3.4,,x,\n",
		 "mem.csv:2: scope must be nat, isp, prod or inst");
	load_bad(HEADER "a,nat,dnss,full,1.2.3.4,,x,\n",
		 "mem.csv:2: location must be dns, body or header.<name>");
	load_bad(HEADER "a,nat,header.,full,x,,x,\n",
		 "mem.csv:2: bad header name in location");
	load_bad(HEADER "a,nat,header.Location,full,x,,x,\n",
		 "mem.csv:2: header name in location must be lower case");
	load_bad(HEADER "a,nat,header.a b,full,x,,x,\n",
		 "mem.csv:2: bad header name in location");
	load_bad(HEADER "a,nat,body,regexp,abcd,,x,\n",
		 "mem.csv:2: pattern_type regexp is not supported (use full, "
		 "prefix or contains)");
	load_bad(HEADER "a,nat,body,suffix,abcd,,x,\n",
		 "mem.csv:2: pattern_type must be full, prefix or contains");
	load_bad(HEADER "a,nat,body,contains,,,x,\n",
		 "mem.csv:2: empty pattern");
	load_bad(HEADER "a,nat,body,contains,abc,,x,\n",
		 "mem.csv:2: body pattern shorter than 4 bytes");
	load_bad(HEADER "a,nat,dns,prefix,1.2.3,,x,\n",
		 "mem.csv:2: a dns fingerprint must have pattern_type full");
	load_bad(HEADER "a,nat,dns,full,1.2.3.4.5:,,x,\n",
		 "mem.csv:2: dns pattern is neither an IP address nor a host "
		 "name");
	load_bad(HEADER "a,nat,dns,full,bad..name,,x,\n",
		 "mem.csv:2: dns pattern is neither an IP address nor a host "
		 "name");
	load_bad(HEADER "a,nat,dns,full,1.2.3.4,cn,x,\n",
		 "mem.csv:2: expected_countries must be space-separated "
		 "upper-case two-letter codes");
	load_bad(HEADER "a,nat,dns,full,1.2.3.4,CN IR ,x,\n",
		 "mem.csv:2: expected_countries must be space-separated "
		 "upper-case two-letter codes");
	load_bad(HEADER "a,nat,dns,full,1.2.3.4,\"CN,IR\",x,\n",
		 "mem.csv:2: expected_countries must be space-separated "
		 "upper-case two-letter codes");
	load_bad(HEADER "a,nat,dns,full,1.2.3.4,CHN,x,\n",
		 "mem.csv:2: expected_countries must be space-separated "
		 "upper-case two-letter codes");
	load_bad(HEADER "a,nat,dns,full,1.2.3.4,CN,,\n",
		 "mem.csv:2: source is required (a URL or a citation)");
	load_bad(HEADER "a,nat,dns,full,1.2.3.4,CN,  ,\n",
		 "mem.csv:2: source is required (a URL or a citation)");
}

static void
test_bad_csv(void **state)
{
	(void)state;
	load_bad(HEADER "a,nat,body,contains,\"abcd,,x,\n",
		 "mem.csv:2: quoted field not closed");
	load_bad(HEADER "a,nat,body,contains,\"abcd\"e,,x,\n",
		 "mem.csv:2: text after a closing quote");
	load_bad(HEADER "a,nat,body,contains,ab\"cd,,x,\n",
		 "mem.csv:2: quote inside an unquoted field");
	load_bad(HEADER "a,nat,body,contains,abcd,,x,\rb\n",
		 "mem.csv:2: CR without LF");
	load_bad_len(HEADER "a,nat,body,contains,ab\0cd,,x,\n",
		     strlen(HEADER) + 32, "mem.csv:2: NUL byte");
	load_bad(HEADER "ok,nat,dns,full,1.2.3.4,,x,\n"
			"a,nat,body,contains,ab\xff\xfe,,x,\n",
		 "mem.csv:3: invalid UTF-8");
	/* a quoted line break: the error names the line it happens on */
	load_bad(HEADER "a,nat,body,contains,\"ab\ncd\"x,,x,\n",
		 "mem.csv:3: text after a closing quote");
}

/* A bad row anywhere rejects the whole file, and a loaded set keeps what
 * it had. */
static void
test_bad_file_changes_nothing(void **state)
{
	struct ww_fingerprints *fp =
		load_ok(HEADER "a,nat,dns,full,1.2.3.4,,x,\n");
	const char *bad = HEADER "b,nat,dns,full,1.2.3.5,,x,\n"
				 "c,nat,dns,full,nope!,,x,\n";
	char err[256];

	(void)state;
	assert_int_equal(ww_fingerprints_load_buf(fp, "bad.csv", bad,
						  strlen(bad), err,
						  sizeof(err)),
			 -1);
	assert_string_equal(err, "bad.csv:3: dns pattern is neither an IP "
				 "address nor a host name");
	assert_int_equal(ww_fingerprints_count(fp), 1);
	assert_null(match_dns_name(fp, "1.2.3.5"));
	assert_string_equal(match_dns_name(fp, "1.2.3.4"), "a");
	ww_fingerprints_free(fp);
}

static void
test_duplicates(void **state)
{
	struct ww_fingerprints *fp;
	const char *more = HEADER "z,nat,dns,full,9.9.9.9,,x,\n"
				  "a,nat,dns,full,1.2.3.5,,x,\n";
	char err[256];

	(void)state;
	load_bad(HEADER "a,nat,dns,full,1.2.3.4,,x,\n"
			"b,nat,dns,full,1.2.3.5,,x,\n"
			"a,nat,dns,full,1.2.3.6,,x,\n",
		 "mem.csv:4: duplicate name \"a\" (also at mem.csv:2)");
	fp = load_ok(HEADER "a,nat,dns,full,1.2.3.4,,x,\n");
	assert_int_equal(ww_fingerprints_load_buf(fp, "more.csv", more,
						  strlen(more), err,
						  sizeof(err)),
			 -1);
	assert_string_equal(
		err, "more.csv:3: duplicate name \"a\" (also at mem.csv:2)");
	assert_int_equal(ww_fingerprints_count(fp), 1);
	ww_fingerprints_free(fp);
}

/* Append to a growing buffer (the big inputs below). */
struct buf {
	char *p;
	size_t len, cap;
};

static void bput(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
bput(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)n + 1;
		b->p = xrealloc(b->p, b->cap);
	}
	b->len += (size_t)n;
}

static void
test_limits(void **state)
{
	struct buf b = {.p = xmalloc(64), .cap = 64};
	struct ww_fingerprints *fp;
	char *big;

	(void)state;
	/* a line over the limit */
	bput(&b, "%sa,nat,body,contains,", HEADER);
	for (int i = 0; i < WW_FP_MAX_LINE; i++)
		bput(&b, "x");
	bput(&b, ",,x,\n");
	load_bad(b.p, "mem.csv:2: line longer than 8192 bytes");
	/* a field over the limit, over several short lines */
	b.len = 0;
	bput(&b, "%sa,nat,body,contains,\"", HEADER);
	for (int i = 0; i < WW_FP_MAX_FIELD / 8 + 1; i++)
		bput(&b, "xxxxxxx\n");
	bput(&b, "\",,x,\n");
	load_bad(b.p, "mem.csv:514: field longer than 4096 bytes");
	/* exactly the row limit is fine, one more is not */
	b.len = 0;
	bput(&b, "%s", HEADER);
	for (int i = 0; i < WW_FP_MAX_ROWS; i++)
		bput(&b, "r%d,nat,dns,full,10.%d.%d.%d,,x,\n", i,
		     (i >> 16) & 255, (i >> 8) & 255, i & 255);
	fp = load_ok(b.p);
	assert_int_equal(ww_fingerprints_count(fp), WW_FP_MAX_ROWS);
	ww_fingerprints_free(fp);
	bput(&b, "one,nat,dns,full,1.2.3.4,,x,\n");
	load_bad(b.p, "mem.csv:10002: more than 10000 rows");
	free(b.p);

	/* too big a file */
	big = xmalloc(WW_FP_MAX_BYTES + 1);
	memset(big, '\n', WW_FP_MAX_BYTES + 1);
	load_bad_len(big, WW_FP_MAX_BYTES + 1,
		     "mem.csv: larger than 4194304 bytes");
	free(big);
}

/* --- files and directories ------------------------------------------------ */

static void
test_load_file_and_dir(void **state)
{
	struct ww_fingerprints *fp = ww_fingerprints_new();
	char err[512];
	char *dns, *http, *want;

	(void)state;
	dns = write_file("dns.csv", HEADER "d,nat,dns,full,1.2.3.4,,x,\n");
	http = write_file("http.csv",
			  HEADER "h,nat,body,contains,blocked!,,x,\n");
	assert_int_equal(ww_fingerprints_load_dir(fp, tmpdir, err, sizeof(err)),
			 0);
	assert_int_equal(ww_fingerprints_count(fp), 2);
	/* the same files again: duplicate names, named by path */
	assert_int_equal(ww_fingerprints_load_file(fp, dns, err, sizeof(err)),
			 -1);
	want = xasprintf("%s:2: duplicate name \"d\" (also at %s:2)", dns, dns);
	assert_string_equal(err, want);
	free(want);
	ww_fingerprints_free(fp);

	/* each file is optional */
	remove_file("http.csv");
	fp = ww_fingerprints_new();
	assert_int_equal(ww_fingerprints_load_dir(fp, tmpdir, err, sizeof(err)),
			 0);
	assert_int_equal(ww_fingerprints_count(fp), 1);
	ww_fingerprints_free(fp);
	remove_file("dns.csv");
	fp = ww_fingerprints_new();
	assert_int_equal(ww_fingerprints_load_dir(fp, tmpdir, err, sizeof(err)),
			 0);
	assert_int_equal(ww_fingerprints_count(fp), 0);

	/* but load_file wants its file, and a directory is not one */
	assert_int_equal(ww_fingerprints_load_file(fp, dns, err, sizeof(err)),
			 -1);
	want = xasprintf("%s: No such file or directory", dns);
	assert_string_equal(err, want);
	free(want);
	assert_int_equal(
		ww_fingerprints_load_file(fp, tmpdir, err, sizeof(err)), -1);
	want = xasprintf("%s: not a regular file", tmpdir);
	assert_string_equal(err, want);
	free(want);
	ww_fingerprints_free(fp);
	free(dns);
	free(http);
}

static void
test_load_dir_errors(void **state)
{
	struct ww_fingerprints *fp = ww_fingerprints_new();
	char err[512], *path, *want;

	(void)state;
	assert_int_equal(ww_fingerprints_load_dir(fp, "/nonexistent/fp", err,
						  sizeof(err)),
			 -1);
	assert_string_equal(err, "/nonexistent/fp: No such file or directory");
	path = write_file("plain", "x");
	assert_int_equal(ww_fingerprints_load_dir(fp, path, err, sizeof(err)),
			 -1);
	want = xasprintf("%s: not a directory", path);
	assert_string_equal(err, want);
	free(want);
	remove_file("plain");
	free(path);

	/* a row in the wrong file */
	path = write_file("http.csv", HEADER "d,nat,dns,full,1.2.3.4,,x,\n");
	assert_int_equal(ww_fingerprints_load_dir(fp, tmpdir, err, sizeof(err)),
			 -1);
	want = xasprintf("%s:2: a dns fingerprint (this file holds only body "
			 "and header rows)",
			 path);
	assert_string_equal(err, want);
	free(want);
	remove_file("http.csv");
	free(path);
	path = write_file("dns.csv", HEADER "b,nat,body,contains,abcd,,x,\n");
	assert_int_equal(ww_fingerprints_load_dir(fp, tmpdir, err, sizeof(err)),
			 -1);
	want = xasprintf("%s:2: not a dns fingerprint (this file holds only "
			 "dns rows)",
			 path);
	assert_string_equal(err, want);
	free(want);
	remove_file("dns.csv");
	free(path);
	assert_int_equal(ww_fingerprints_count(fp), 0);
	ww_fingerprints_free(fp);
}

/* The files we ship load, and hold the addresses they cite. */
static void
test_shipped(void **state)
{
	struct ww_fingerprints *fp = ww_fingerprints_new();
	char err[512] = "";
	static const char *const gfw[] = {
		"8.7.198.45",  "37.61.54.158", "46.82.174.68",
		"78.16.49.15", "93.46.8.89",   "159.106.121.75",
		"203.98.7.65", "59.24.3.173",  "243.185.187.39"};

	(void)state;
	if (ww_fingerprints_load_dir(fp, "testlists/fingerprints", err,
				     sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(ww_fingerprints_count(fp) >= 20);
	for (size_t i = 0; i < WW_ARRAY_LEN(gfw); i++) {
		const char *name = match_dns_name(fp, gfw[i]);

		assert_non_null(name);
		assert_true(strncmp(name, "ooni.cn_", 8) == 0);
	}
	assert_string_equal(match_dns_name(fp, "10.10.34.35"), "ooni.ir_5");
	assert_string_equal(match_dns_name(fp, "10.10.34.36"),
			    "ooni.ir_10dot10_ipv4_1");
	assert_string_equal(match_dns_name(fp, "d0::11"), "ooni.ir_ipv6_1");
	assert_null(match_dns_name(fp, "93.184.215.14"));
	assert_int_equal(
		header_matches(fp, "Location", "http://www.warning.or.kr"), 1);
	ww_fingerprints_free(fp);
}

/* --- matching ------------------------------------------------------------- */

static void
test_match_dns(void **state)
{
	struct ww_fingerprints *fp = load_ok(
		HEADER "v4,nat,dns,full,8.7.198.45,CN," SRC ",\n"
		       "v6,nat,dns,full,d0::11,IR," SRC ",\n"
		       "name,nat,dns,full,TrustPositif.Kominfo.go.id.,ID," SRC
		       ",\n");
	const struct ww_fingerprint *m[1];

	(void)state;
	assert_string_equal(match_dns_name(fp, "8.7.198.45"), "v4");
	assert_null(match_dns_name(fp, "8.7.198.4"));
	assert_null(match_dns_name(fp, "8.7.198.450"));
	assert_null(match_dns_name(fp, "::ffff:8.7.198.45"));
	assert_string_equal(match_dns_name(fp, "00d0:0:0::0011"), "v6");
	assert_string_equal(match_dns_name(fp, "D0::11"), "v6");
	assert_string_equal(match_dns_name(fp, "trustpositif.kominfo.go.id"),
			    "name");
	assert_string_equal(match_dns_name(fp, "TRUSTPOSITIF.kominfo.GO.ID."),
			    "name");
	assert_null(match_dns_name(fp, "x.trustpositif.kominfo.go.id"));
	assert_null(match_dns_name(fp, ""));
	assert_null(match_dns_name(fp, NULL));
	assert_int_equal(ww_fingerprints_match_dns(NULL, "8.7.198.45", m, 1),
			 0);
	assert_int_equal(ww_fingerprints_match_dns(fp, "8.7.198.45", m, 0), 0);
	ww_fingerprints_free(fp);
}

static void
test_match_body(void **state)
{
	struct ww_fingerprints *fp =
		load_ok(HEADER "c,nat,body,contains,blocked by order,,x,\n"
			       "p,nat,body,prefix,<html><b>STOP,,x,\n"
			       "f,nat,body,full,EXACTLY THIS,,x,\n");

	(void)state;
	assert_int_equal(body_matches(fp, "page blocked by order 5", true), 1);
	assert_int_equal(body_matches(fp, "page Blocked by order", true), 0);
	assert_int_equal(body_matches(fp, "blocked by orde", true), 0);
	assert_int_equal(body_matches(fp, "<html><b>STOP here", true), 1);
	assert_int_equal(body_matches(fp, " <html><b>STOP", true), 0);
	assert_int_equal(body_matches(fp, "EXACTLY THIS", true), 1);
	assert_int_equal(body_matches(fp, "EXACTLY THIS ", true), 0);
	/* a truncated body cannot equal a full pattern */
	assert_int_equal(body_matches(fp, "EXACTLY THIS", false), 0);
	assert_int_equal(
		body_matches(fp, "<html><b>STOP blocked by order", false), 2);
	/* bodies with NUL bytes (decoded base64) are matched by length */
	const struct ww_fingerprint *m[4];
	const char bin[] = "\0\0blocked by order";
	assert_int_equal(ww_fingerprints_match_body(fp, bin, sizeof(bin) - 1,
						    true, m, 4),
			 1);
	assert_string_equal(ww_fingerprint_name(m[0]), "c");
	assert_int_equal(ww_fingerprint_location(m[0]), WW_FP_BODY);
	ww_fingerprints_free(fp);
}

static void
test_match_header(void **state)
{
	struct ww_fingerprints *fp = load_ok(
		HEADER
		"full,nat,header.location,full,http://www.warning.or.kr,,"
		"x,\n"
		"pre,nat,header.server,prefix,Protected by WireFilter,,x,\n"
		"con,nat,header.x-block,contains,denied,,x,\n");

	(void)state;
	assert_int_equal(
		header_matches(fp, "Location", "http://www.warning.or.kr"), 1);
	assert_int_equal(
		header_matches(fp, "LOCATION", "http://www.warning.or.kr/"), 0);
	assert_int_equal(
		header_matches(fp, "Server", "Protected by WireFilter 8"), 1);
	assert_int_equal(
		header_matches(fp, "Server", "protected by WireFilter"), 0);
	assert_int_equal(header_matches(fp, "X-Block", "access denied"), 1);
	assert_int_equal(header_matches(fp, "X-Blocked", "access denied"), 0);
	/* a body pattern is not a header pattern, and vice versa */
	assert_int_equal(header_matches(fp, "body", "denied"), 0);
	assert_int_equal(body_matches(fp, "Protected by WireFilter", true), 0);
	assert_int_equal(header_matches(fp, NULL, "x"), 0);
	assert_int_equal(header_matches(fp, "Server", NULL), 0);
	ww_fingerprints_free(fp);
}

static void
test_expected_countries(void **state)
{
	struct ww_fingerprints *fp =
		load_ok(HEADER "any,nat,dns,full,1.1.1.1,," SRC ",\n"
			       "two,nat,dns,full,2.2.2.2,CN IR," SRC ",\n");
	const struct ww_fingerprint *m[1];

	(void)state;
	assert_int_equal(ww_fingerprints_match_dns(fp, "1.1.1.1", m, 1), 1);
	assert_true(ww_fingerprint_expected_in(m[0], "DE"));
	assert_true(ww_fingerprint_expected_in(m[0], NULL));
	assert_int_equal(ww_fingerprints_match_dns(fp, "2.2.2.2", m, 1), 1);
	assert_true(ww_fingerprint_expected_in(m[0], "CN"));
	assert_true(ww_fingerprint_expected_in(m[0], "IR"));
	assert_false(ww_fingerprint_expected_in(m[0], "DE"));
	assert_false(ww_fingerprint_expected_in(m[0], "C"));
	assert_false(ww_fingerprint_expected_in(m[0], "CNX"));
	/* unknown country: the probe's default */
	assert_true(ww_fingerprint_expected_in(m[0], "ZZ"));
	assert_true(ww_fingerprint_expected_in(m[0], ""));
	assert_true(ww_fingerprint_expected_in(m[0], NULL));
	ww_fingerprints_free(fp);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	remove_file("dns.csv");
	remove_file("http.csv");
	remove_file("plain");
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_quotes_crlf_bom),
		cmocka_unit_test(test_header_only_and_no_final_newline),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_bad_csv),
		cmocka_unit_test(test_bad_file_changes_nothing),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_load_file_and_dir),
		cmocka_unit_test(test_load_dir_errors),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_match_dns),
		cmocka_unit_test(test_match_body),
		cmocka_unit_test(test_match_header),
		cmocka_unit_test(test_expected_countries),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
