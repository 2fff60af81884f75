/*
 * test_asndb.c - the iptoasn TSV table (collector/asndb.c): lookups at the
 * edges of IPv4 and IPv6 ranges (tests/data/asndb/tiny.tsv, rows out of
 * order), unrouted AS 0 ranges, not found, IPv4-mapped addresses, every way
 * a line can be bad and overlapping ranges (with the exact "file:line:
 * problem"), and files read in blocks. Tests run from the top of the tree.
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

#include "../../collector/asndb.h"
#include "util.h"

#define TINY "tests/data/asndb/tiny.tsv"
/* 100 bytes of AS description */
#define DESC                                                                   \
	"EXAMPLE-AS-NUMBER-ONE Example Networks Ltd, with a long name to pad " \
	"out lines of the test file 0123"

/* --- helpers ----------------------------------------------------------- */

static struct ww_asndb *
buf_ok(const char *text)
{
	char err[256] = "";
	struct ww_asndb *db = ww_asndb_load_buf(text, strlen(text), "mem.tsv",
						err, sizeof(err));

	if (db == NULL)
		print_error("unexpected error: %s\n", err);
	assert_non_null(db);
	return db;
}

static void
buf_bad(const char *text, const char *want)
{
	char err[256] = "";
	struct ww_asndb *db = ww_asndb_load_buf(text, strlen(text), "mem.tsv",
						err, sizeof(err));

	assert_null(db);
	assert_string_equal(err, want);
}

static void
found(const struct ww_asndb *db, const char *ip, uint32_t want_asn,
      const char *want_cc)
{
	uint32_t asn = 7;
	char cc[3] = "xx";
	int rc = ww_asndb_lookup(db, ip, &asn, cc);

	if (rc != 0 || asn != want_asn)
		print_error("%s: rc %d, AS%u %s\n", ip, rc, asn, cc);
	assert_int_equal(rc, 0);
	assert_int_equal(asn, want_asn);
	assert_string_equal(cc, want_cc);
}

static void
not_found(const struct ww_asndb *db, const char *ip)
{
	uint32_t asn = 7;
	char cc[3] = "xx";
	int rc = ww_asndb_lookup(db, ip, &asn, cc);

	if (rc != 1)
		print_error("%s: rc %d, AS%u %s\n", ip, rc, asn, cc);
	assert_int_equal(rc, 1);
	assert_int_equal(asn, 0);
	assert_string_equal(cc, "ZZ");
}

static char *
write_tmp(const char *text, size_t len)
{
	char *path = xstrdup("/tmp/test_asndb.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/* The lookups every load of tiny.tsv must answer. */
static void
check_tiny(const struct ww_asndb *db)
{
	size_t n4, n6;

	ww_asndb_count(db, &n4, &n6);
	assert_int_equal(n4, 9);
	assert_int_equal(n6, 4);
	/* 127.0.0.0/8: the collector's tests submit from loopback */
	found(db, "127.0.0.1", 64500, "DE");
	found(db, "127.0.0.0", 64500, "DE");
	found(db, "127.255.255.255", 64500, "DE");
	not_found(db, "126.255.255.255");
	not_found(db, "128.0.0.0");
	/* two ranges side by side */
	found(db, "203.0.113.0", 64504, "RU");
	found(db, "203.0.113.127", 64504, "RU");
	found(db, "203.0.113.128", 64505, "TM");
	found(db, "203.0.113.255", 64505, "TM");
	not_found(db, "203.0.114.0");
	not_found(db, "203.0.112.255");
	/* the first and last rows, the ends of the address space */
	found(db, "1.0.0.0", 64501, "AU");
	found(db, "1.0.0.255", 64501, "AU");
	not_found(db, "1.0.1.0");
	found(db, "255.255.255.255", 64511, "US");
	found(db, "255.255.255.0", 64511, "US");
	not_found(db, "255.255.254.255");
	/* unrouted (AS 0, "None") */
	not_found(db, "0.0.0.0");
	not_found(db, "0.255.255.255");
	not_found(db, "10.1.2.3");
	/* between rows, and no row at all */
	not_found(db, "8.8.8.8");
	not_found(db, "192.0.3.0");
	found(db, "192.0.2.77", 64502, "CN");
	found(db, "198.51.100.1", 64503, "IR");

	/* IPv6 */
	found(db, "::1", 64500, "DE");
	found(db, "0:0:0:0:0:0:0:1", 64500, "DE");
	not_found(db, "::");
	not_found(db, "::2");
	found(db, "2001:db8::", 64510, "CN");
	found(db, "2001:db8::1", 64510, "CN");
	found(db, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 64510, "CN");
	found(db, "2001:DB8:1234::abcd", 64510, "CN");
	not_found(db, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff");
	not_found(db, "2001:db9::");
	not_found(db, "fe80::1");
	not_found(db, "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	not_found(db, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	/* an IPv4 peer on a dual-stack socket */
	found(db, "::ffff:127.0.0.1", 64500, "DE");
	found(db, "::ffff:203.0.113.200", 64505, "TM");
	not_found(db, "::ffff:8.8.8.8");
	/* not addresses */
	not_found(db, "");
	not_found(db, "localhost");
	not_found(db, "127.0.0.1:80");
	not_found(db, "[::1]");
	not_found(db, " 127.0.0.1");
	not_found(db, "fe80::1%eth0");
	not_found(db, "127.1");
}

/* --- lookups -------------------------------------------------------------- */

static void
test_tiny_file(void **state)
{
	char err[256] = "x";
	struct ww_asndb *db = ww_asndb_load(TINY, err, sizeof(err));

	(void)state;
	if (db == NULL)
		print_error("%s\n", err);
	assert_non_null(db);
	assert_string_equal(err, "");
	check_tiny(db);
	ww_asndb_free(db);
}

static void
test_tiny_buf(void **state)
{
	char err[256];
	FILE *f = fopen(TINY, "rb");
	char buf[4096];
	size_t n;
	struct ww_asndb *db;

	(void)state;
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	db = ww_asndb_load_buf(buf, n, TINY, err, sizeof(err));
	assert_non_null(db);
	check_tiny(db);
	ww_asndb_free(db);
}

static void
test_null_db(void **state)
{
	size_t n4 = 1, n6 = 1;

	(void)state;
	not_found(NULL, "127.0.0.1");
	ww_asndb_count(NULL, &n4, &n6);
	assert_int_equal(n4 + n6, 0);
	ww_asndb_free(NULL);
}

static void
test_unsorted_and_128_bit_edges(void **state)
{
	struct ww_asndb *db;

	(void)state;
	/* last row first; IPv6 ranges that cross the 64-bit halves */
	db = buf_ok("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\t"
		    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\t65000\tNL\ttop\n"
		    "2001:db8:0:1::\t2001:db8:0:1::ff\t65002\tFR\tc\n"
		    "2001:db8::ffff:ffff:ffff:0\t2001:db8:0:0:ffff:ffff:ffff:"
		    "ffff\t65001\tGB\tb\n"
		    "2001:db8::1:0:0:0\t2001:db8::ffff:ffff:fffe:ffff\t65003\t"
		    "ES\ta\n"
		    "9.0.0.0\t9.255.255.255\t3356\tUS\tLEVEL3\n"
		    "4.0.0.0\t4.255.255.255\t3356\tUS\tLEVEL3\n"
		    "0.0.0.0\t0.0.0.0\t65010\tJP\tzero\n");
	found(db, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65000, "NL");
	not_found(db, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
	found(db, "2001:db8::ffff:ffff:ffff:ffff", 65001, "GB");
	found(db, "2001:db8::ffff:ffff:ffff:0", 65001, "GB");
	found(db, "2001:db8::ffff:ffff:fffe:ffff", 65003, "ES");
	found(db, "2001:db8::1:0:0:0", 65003, "ES");
	not_found(db, "2001:db8::ffff:ffff:ffff");
	found(db, "2001:db8:0:1::", 65002, "FR");
	found(db, "2001:db8:0:1::ff", 65002, "FR");
	not_found(db, "2001:db8:0:1::100");
	found(db, "0.0.0.0", 65010, "JP");
	not_found(db, "0.0.0.1");
	found(db, "4.4.4.4", 3356, "US");
	found(db, "9.9.9.9", 3356, "US");
	not_found(db, "5.0.0.0");
	ww_asndb_free(db);
}

static void
test_line_forms(void **state)
{
	struct ww_asndb *db;
	size_t n4, n6;

	(void)state;
	/* CRLF, comments, blank lines, a last line without '\n', an empty
	 * description, a description with tabs, lower-case and unknown
	 * countries */
	db = buf_ok("# iptoasn\r\n"
		    "\r\n"
		    "1.0.0.0\t1.0.0.255\t13335\tus\tCLOUDFLARENET\r\n"
		    "\n"
		    "2.0.0.0\t2.0.0.255\t64512\tUnknown\t\n"
		    "3.0.0.0\t3.0.0.255\t64513\tNone\tx\ty\tz\n"
		    "2001:db8::\t2001:db8::ff\t4134\tCN\tCHINANET-BACKBONE");
	ww_asndb_count(db, &n4, &n6);
	assert_int_equal(n4, 3);
	assert_int_equal(n6, 1);
	found(db, "1.0.0.1", 13335, "US");
	found(db, "2.0.0.1", 64512, "ZZ");
	found(db, "3.0.0.1", 64513, "ZZ");
	found(db, "2001:db8::ff", 4134, "CN");
	ww_asndb_free(db);
}

/* --- errors --------------------------------------------------------------- */

#define ROW1 "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n"

static void
test_malformed_lines(void **state)
{
	(void)state;
	buf_bad(ROW1 "1.0.1.0\t1.0.1.255\t13335\tUS\n",
		"mem.tsv:2: expected 5 tab-separated fields (range_start, "
		"range_end, AS_number, country_code, AS_description), found 4");
	buf_bad(ROW1 "# x\n\n1.0.1.0 1.0.1.255 13335 US X\n",
		"mem.tsv:4: expected 5 tab-separated fields (range_start, "
		"range_end, AS_number, country_code, AS_description), found 1");
	buf_bad("1.0.0\t1.0.0.255\t1\tUS\tX\n",
		"mem.tsv:1: range_start \"1.0.0\" is not an IP address");
	buf_bad("\t1.0.0.255\t1\tUS\tX\n",
		"mem.tsv:1: range_start \"\" is not an IP address");
	buf_bad(ROW1 "1.0.1.0\t1.0.1.256\t1\tUS\tX\n",
		"mem.tsv:2: range_end \"1.0.1.256\" is not an IP address");
	buf_bad(ROW1 " 1.0.1.0\t1.0.1.255\t1\tUS\tX\n",
		"mem.tsv:2: range_start \" 1.0.1.0\" is not an IP address");
	buf_bad("1.0.1.0\t::1\t1\tUS\tX\n",
		"mem.tsv:1: range_start is IPv4 but range_end IPv6");
	buf_bad("1.0.1.255\t1.0.1.0\t1\tUS\tX\n",
		"mem.tsv:1: range_start is after range_end");
	buf_bad("2001:db8::1\t2001:db8::\t1\tUS\tX\n",
		"mem.tsv:1: range_start is after range_end");
	buf_bad("1.0.1.0\t1.0.1.255\tAS13335\tUS\tX\n",
		"mem.tsv:1: AS_number \"AS13335\" is not a number "
		"0..4294967295");
	buf_bad("1.0.1.0\t1.0.1.255\t4294967296\tUS\tX\n",
		"mem.tsv:1: AS_number \"4294967296\" is not a number "
		"0..4294967295");
	buf_bad("1.0.1.0\t1.0.1.255\t\tUS\tX\n",
		"mem.tsv:1: AS_number \"\" is not a number 0..4294967295");
	buf_bad("1.0.1.0\t1.0.1.255\t-1\tUS\tX\n",
		"mem.tsv:1: AS_number \"-1\" is not a number 0..4294967295");
	buf_bad("1.0.1.0\t1.0.1.255\t1\tU1\tX\n",
		"mem.tsv:1: country_code \"U1\" is not a two-letter code (or a "
		"word such as None)");
	buf_bad("1.0.1.0\t1.0.1.255\t1\t\tX\n",
		"mem.tsv:1: country_code \"\" is not a two-letter code (or a "
		"word such as None)");
	buf_bad("1.0.1.0\t1.0.1.255\t1\tU\tX\n",
		"mem.tsv:1: country_code \"U\" is not a two-letter code (or a "
		"word such as None)");
	{
		static const char nul[] = "1.0.1.0\t1.0.1.255\t1\tUS\tX\0Y\n";
		char err[128];

		assert_null(ww_asndb_load_buf(nul, sizeof(nul) - 1, "n.tsv",
					      err, sizeof(err)));
		assert_string_equal(err, "n.tsv:1: NUL byte in line");
	}
}

static void
test_empty(void **state)
{
	char err[64];

	(void)state;
	buf_bad("", "mem.tsv: no ranges");
	buf_bad("# only a comment\n\n", "mem.tsv: no ranges");
	assert_null(ww_asndb_load_buf(NULL, 0, "z", err, sizeof(err)));
	assert_string_equal(err, "z: no ranges");
}

static void
test_overlaps(void **state)
{
	(void)state;
	/* reported on the later line of the two, whatever the order */
	buf_bad(ROW1 "2.0.0.0\t2.0.0.255\t1\tUS\tX\n"
		     "1.0.0.128\t1.0.1.0\t2\tUS\tY\n",
		"mem.tsv:3: range overlaps the range on line 1");
	buf_bad("1.0.0.128\t1.0.1.0\t2\tUS\tY\n" ROW1,
		"mem.tsv:2: range overlaps the range on line 1");
	/* sharing one address */
	buf_bad(ROW1 "1.0.0.255\t1.0.1.0\t2\tUS\tY\n",
		"mem.tsv:2: range overlaps the range on line 1");
	/* the same range twice */
	buf_bad(ROW1 "# again\n" ROW1,
		"mem.tsv:3: range overlaps the range on line 1");
	/* one inside another, with a row between them in address order */
	buf_bad("1.0.0.0\t1.255.255.255\t1\tUS\tbig\n"
		"0.0.0.0\t0.255.255.255\t0\tNone\tNot routed\n"
		"1.2.0.0\t1.2.0.255\t2\tUS\tsmall\n",
		"mem.tsv:3: range overlaps the range on line 1");
	buf_bad("2001:db8::\t2001:db8::ffff\t1\tUS\tX\n"
		"2001:db8::1:0\t2001:db8::1:ff\t1\tUS\tX\n"
		"2001:db8::fff0\t2001:db8::1:0\t1\tUS\tX\n",
		"mem.tsv:3: range overlaps the range on line 1");
	/* touching is fine, and v4 and v6 never overlap */
	ww_asndb_free(buf_ok(ROW1 "1.0.1.0\t1.0.1.0\t1\tUS\tX\n"
				  "::\t::ffff\t1\tUS\tX\n"
				  "0.0.0.0\t0.0.255.255\t1\tUS\tX\n"));
}

static void
test_long_lines(void **state)
{
	char *text = xmalloc(4096), *path, err[256], want[300];
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, 4096, "%s1.0.1.0\t1.0.1.255\t1\tUS\t", ROW1);
	/* the line is exactly 1024 bytes: fine */
	memset(text + n, 'd', 1024 - (n - strlen(ROW1)));
	n = strlen(ROW1) + 1024;
	text[n] = '\n';
	text[n + 1] = '\0';
	ww_asndb_free(buf_ok(text));
	/* 1025: too long, from memory and from a file, with or without a
	 * newline at the end */
	memmove(text + n + 1, text + n, 2);
	text[n] = 'd';
	buf_bad(text, "mem.tsv:2: line longer than 1024 bytes");
	text[n + 1] = '\0';
	buf_bad(text, "mem.tsv:2: line longer than 1024 bytes");
	path = write_tmp(text, strlen(text));
	assert_null(ww_asndb_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:2: line longer than 1024 bytes", path);
	assert_string_equal(err, want);
	unlink(path);
	free(path);
	free(text);
}

static void
test_file_errors(void **state)
{
	char err[256];

	(void)state;
	assert_null(ww_asndb_load("tests/data/asndb/missing.tsv", err,
				  sizeof(err)));
	assert_string_equal(err, "tests/data/asndb/missing.tsv: No such "
				 "file or directory");
	assert_null(ww_asndb_load("tests/data/asndb", err, sizeof(err)));
	assert_string_equal(err, "tests/data/asndb: Is a directory");
	/* a short buffer is cut and terminated; none at all is fine */
	assert_null(ww_asndb_load_buf("x\n", 2, "mem.tsv", err, 8));
	assert_string_equal(err, "mem.tsv");
	assert_null(ww_asndb_load_buf("x\n", 2, "mem.tsv", NULL, 0));
	assert_null(ww_asndb_load_buf("", 0, "mem.tsv", NULL, 0));
	assert_null(ww_asndb_load("tests/data/asndb/missing.tsv", NULL, 0));
}

/*
 * A file much bigger than one read block (64 KiB), so that lines are split
 * across blocks: every row is found, the same as from memory, and an error
 * far down names its line.
 */
static void
test_big_file_in_blocks(void **state)
{
	size_t cap = 16 * 1024 * 1024, n = 0, n4, n6;
	char *text = xmalloc(cap), *path, err[256], want[300], ip[64];
	struct ww_asndb *db, *db2;
	unsigned i;

	(void)state;
	/* 20000 IPv4 /24s and 20000 IPv6 /64s, in descending order, with
	 * descriptions of varying length */
	for (i = 20000; i-- > 0;) {
		n += (size_t)snprintf(
			text + n, cap - n,
			"10.%u.%u.0\t10.%u.%u.255\t%u\tDE\t%.*s\n", i / 256,
			i % 256, i / 256, i % 256, 64512 + i, (int)(i % 97),
			DESC);
		n += (size_t)snprintf(text + n, cap - n,
				      "2001:db8:%x::\t2001:db8:%x:0:ffff:ffff:"
				      "ffff:ffff\t%u\tFR\tv6\n",
				      i, i, 100000 + i);
	}
	path = write_tmp(text, n);
	db = ww_asndb_load(path, err, sizeof(err));
	db2 = ww_asndb_load_buf(text, n, "mem.tsv", err, sizeof(err));
	assert_non_null(db);
	assert_non_null(db2);
	ww_asndb_count(db, &n4, &n6);
	assert_int_equal(n4, 20000);
	assert_int_equal(n6, 20000);
	for (i = 0; i < 20000; i++) {
		uint32_t a1, a2;
		char c1[3], c2[3];

		snprintf(ip, sizeof(ip), "10.%u.%u.%u", i / 256, i % 256,
			 i % 251);
		assert_int_equal(ww_asndb_lookup(db, ip, &a1, c1), 0);
		assert_int_equal(ww_asndb_lookup(db2, ip, &a2, c2), 0);
		assert_int_equal(a1, 64512 + i);
		assert_int_equal(a2, a1);
		assert_string_equal(c1, "DE");
		snprintf(ip, sizeof(ip), "2001:db8:%x::%x", i, i);
		found(db, ip, 100000 + i, "FR");
		found(db2, ip, 100000 + i, "FR");
	}
	ww_asndb_free(db);
	ww_asndb_free(db2);
	unlink(path);
	free(path);

	/* a bad row at line 30001 of the same file */
	n = 0;
	for (i = 0; i < 30000; i++)
		n += (size_t)snprintf(text + n, cap - n,
				      "10.%u.%u.0\t10.%u.%u.255\t1\tDE\tx\n",
				      i / 256, i % 256, i / 256, i % 256);
	n += (size_t)snprintf(text + n, cap - n, "11.0.0.0\t11.0.0.255\t1\n");
	path = write_tmp(text, n);
	assert_null(ww_asndb_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want),
		 "%s:30001: expected 5 tab-separated fields (range_start, "
		 "range_end, AS_number, country_code, AS_description), found 3",
		 path);
	assert_string_equal(err, want);
	unlink(path);
	free(path);
	free(text);
}

/* --- AS descriptions ---------------------------------------------------- */

static void
name_is(const struct ww_asndb *db, uint32_t asn, const char *want)
{
	const char *got = ww_asndb_name(db, asn);

	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
}

static void
test_names_tiny(void **state)
{
	struct ww_asndb *db = ww_asndb_load(TINY, NULL, 0);

	(void)state;
	assert_non_null(db);
	name_is(db, 64500, "WALLWATCH-TEST-LOOPBACK");
	name_is(db, 64510, "WALLWATCH-TEST-V6-DOC");
	name_is(db, 64505, "WALLWATCH-TEST-NET-3-HIGH");
	name_is(db, 0, NULL); /* "Not routed" is no network's name */
	name_is(db, 64599, NULL);
	assert_string_equal(ww_asndb_name_of(db, "AS64502"),
			    "WALLWATCH-TEST-NET-1");
	assert_null(ww_asndb_name_of(db, "64502"));
	assert_null(ww_asndb_name_of(db, "AS"));
	assert_null(ww_asndb_name_of(db, "AS64502x"));
	assert_null(ww_asndb_name_of(db, NULL));
	assert_null(ww_asndb_name(NULL, 64500));
	ww_asndb_free(db);
}

static void
test_names_cleaned(void **state)
{
	/* 120 bytes of "é" (2 bytes each): cut at 96 on a boundary */
	char text[4096], longname[256], want[128];
	struct ww_asndb *db;
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 60; i++)
		n += (size_t)snprintf(longname + n, sizeof(longname) - n,
				      "\xc3\xa9");
	snprintf(text, sizeof(text),
		 "1.0.0.0\t1.0.0.255\t1\tUS\t  ONE \t\x01 two\x7f  \r\n"
		 /* bytes that are not UTF-8, a C1 control, a bidi override */
		 "1.0.1.0\t1.0.1.255\t2\tUS\tA\xff\xfe"
		 "B\xc2\x85"
		 "C\xe2\x80\xae"
		 "D\xe2\x81\xa6"
		 "E\n"
		 "1.0.2.0\t1.0.2.255\t3\tUS\t%s\n"
		 /* markup is kept as it is: the web view sets it as text */
		 "1.0.3.0\t1.0.3.255\t4\tUS\t<b>x</b> & \"y\"\n"
		 /* nothing left, then a name on a later range of the AS */
		 "1.0.4.0\t1.0.4.255\t5\tUS\t \t\n"
		 "1.0.5.0\t1.0.5.255\t5\tUS\tFIVE\n"
		 /* one AS on lines apart, differently named: the first */
		 "1.0.6.0\t1.0.6.255\t6\tUS\tSIX-FIRST\n"
		 "1.0.7.0\t1.0.7.255\t7\tUS\t\n"
		 "1.0.8.0\t1.0.8.255\t6\tUS\tSIX-LATER\n"
		 "0.0.0.0\t0.255.255.255\t0\tNone\tNot routed\n",
		 longname);
	db = buf_ok(text);
	name_is(db, 1, "ONE two");
	name_is(db, 2, "A??B C D E");
	memcpy(want, longname, 96);
	want[96] = '\0';
	name_is(db, 3, want);
	assert_int_equal(strlen(ww_asndb_name(db, 3)), WW_ASNDB_MAX_NAME);
	name_is(db, 4, "<b>x</b> & \"y\"");
	name_is(db, 5, "FIVE");
	name_is(db, 6, "SIX-FIRST");
	name_is(db, 7, NULL);
	name_is(db, 0, NULL);
	ww_asndb_free(db);

	/* an odd cut: 95 ASCII bytes then "é" does not fit, nor half of it */
	memset(longname, 'x', 95);
	memcpy(longname + 95, "\xc3\xa9yz", 5);
	snprintf(text, sizeof(text), "1.0.0.0\t1.0.0.255\t9\tUS\t%s\n",
		 longname);
	db = buf_ok(text);
	assert_int_equal(strlen(ww_asndb_name(db, 9)), 95);
	ww_asndb_free(db);

	/* 95 bytes, a space, a byte that is not UTF-8: the space and the
	 * '?' would make 97; the name ends without a space (fuzzing found
	 * it ending with one) */
	memset(longname, 'x', 95);
	memcpy(longname + 95, " \xff", 3);
	snprintf(text, sizeof(text), "1.0.0.0\t1.0.0.255\t9\tUS\t%s\n",
		 longname);
	db = buf_ok(text);
	assert_int_equal(strlen(ww_asndb_name(db, 9)), 95);
	ww_asndb_free(db);
	/* 94 bytes, a space and a '?' fit */
	memset(longname, 'x', 94);
	memcpy(longname + 94, " \xff", 3);
	snprintf(text, sizeof(text), "1.0.0.0\t1.0.0.255\t9\tUS\t%s\n",
		 longname);
	db = buf_ok(text);
	assert_int_equal(strlen(ww_asndb_name(db, 9)), 96);
	assert_string_equal(ww_asndb_name(db, 9) + 94, " ?");
	ww_asndb_free(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tiny_file),
		cmocka_unit_test(test_tiny_buf),
		cmocka_unit_test(test_null_db),
		cmocka_unit_test(test_unsorted_and_128_bit_edges),
		cmocka_unit_test(test_line_forms),
		cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_big_file_in_blocks),
		cmocka_unit_test(test_names_tiny),
		cmocka_unit_test(test_names_cleaned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
