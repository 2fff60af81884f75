/*
 * test_conf.c - the probe's configuration file parser (probe/conf.c): the
 * syntax, each error with its exact "name:line: why", the limits, and
 * loading from disk (missing file, directory, size).
 *
 * Linked from build/libprobe.a.
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

#include "util.h"
#include "../../probe/conf.h"

/* --- helpers ----------------------------------------------------------- */

static void
parse_ok(struct ww_conf *c, const char *text)
{
	char err[512] = "";
	int rc = ww_conf_parse(c, "t.conf", text, strlen(text), err,
			       sizeof(err));

	if (rc != 0)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
}

/* Parsing len bytes of text must fail with exactly want, leaving c empty. */
static void
parse_fails_n(const char *text, size_t len, const char *want)
{
	struct ww_conf c;
	char err[512] = "";

	assert_int_equal(
		ww_conf_parse(&c, "t.conf", text, len, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_null(c.e);
	assert_null(c.path);
	assert_int_equal(c.n, 0);
	ww_conf_free(&c); /* harmless on an empty one */
}

static void
parse_fails(const char *text, const char *want)
{
	parse_fails_n(text, strlen(text), want);
}

static void
assert_entry(const struct ww_conf *c, size_t i, const char *key,
	     const char *value, int line)
{
	assert_true(i < c->n);
	assert_string_equal(c->e[i].key, key);
	assert_string_equal(c->e[i].value, value);
	assert_int_equal(c->e[i].line, line);
}

/* A file in a fresh temporary directory; returns its path (caller frees
 * and removes). */
static char *
temp_file(const char *content, size_t len)
{
	char dir[] = "/tmp/ww-test-conf-XXXXXX";
	char *path;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/probe.conf", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
remove_temp(char *path)
{
	char *slash = strrchr(path, '/');

	unlink(path);
	*slash = '\0';
	rmdir(path);
	free(path);
}

/* --- syntax -------------------------------------------------------------- */

static void
test_basic(void **state)
{
	struct ww_conf c;

	(void)state;
	parse_ok(&c, "# a comment\n"
		     "\n"
		     "collector = https://collector.example.org\n"
		     "   # an indented comment\n"
		     "collector=https://backup.example.org/#frag\n"
		     "\t exclude-category \t=\t LGBT,REL \t\n"
		     "interval = 1h\n"
		     "quiet = true");
	assert_string_equal(c.path, "t.conf");
	assert_int_equal(c.n, 5);
	assert_entry(&c, 0, "collector", "https://collector.example.org", 3);
	/* no inline comments: '#' is part of the value */
	assert_entry(&c, 1, "collector", "https://backup.example.org/#frag", 5);
	assert_entry(&c, 2, "exclude-category", "LGBT,REL", 6);
	assert_entry(&c, 3, "interval", "1h", 7);
	assert_entry(&c, 4, "quiet", "true", 8); /* no final newline */
	ww_conf_free(&c);
	assert_null(c.e);
	assert_int_equal(c.n, 0);
	ww_conf_free(&c); /* twice is harmless */
}

static void
test_value_spaces_and_equals(void **state)
{
	struct ww_conf c;

	(void)state;
	parse_ok(&c, "a = x = y\n"
		     "b = two  words\n"
		     "c = # not a comment\n"
		     "d = \"  padded  \"\n"
		     "e = \"a\"b\"\n"
		     "f = say \"hi\"\n"
		     "g = \"\t\"\n"
		     "h = caf\xc3\xa9\n");
	assert_int_equal(c.n, 8);
	assert_entry(&c, 0, "a", "x = y", 1); /* split at the first '=' */
	assert_entry(&c, 1, "b", "two  words", 2);
	assert_entry(&c, 2, "c", "# not a comment", 3);
	assert_entry(&c, 3, "d", "  padded  ", 4);
	assert_entry(&c, 4, "e", "a\"b", 5); /* no escapes */
	assert_entry(&c, 5, "f", "say \"hi\"", 6);
	assert_entry(&c, 6, "g", "\t", 7);
	assert_entry(&c, 7, "h", "caf\xc3\xa9", 8);
	ww_conf_free(&c);
}

static void
test_crlf_and_bom(void **state)
{
	struct ww_conf c;

	(void)state;
	parse_ok(&c, "\xef\xbb\xbf# BOM first\r\n"
		     "key = value \r\n"
		     "\r\n"
		     "other = \"q \"\r\n");
	assert_int_equal(c.n, 2);
	assert_entry(&c, 0, "key", "value", 2);
	assert_entry(&c, 1, "other", "q ", 4);
	ww_conf_free(&c);

	/* a BOM only at the very start */
	parse_fails("a = b\n\xef\xbb\xbf"
		    "c = d\n",
		    "t.conf:2: bad key \"\xef\xbb\xbf"
		    "c\" (want lower-case letters, digits and \"-\")");
}

static void
test_empty_files(void **state)
{
	struct ww_conf c;

	(void)state;
	parse_ok(&c, "");
	assert_int_equal(c.n, 0);
	assert_string_equal(c.path, "t.conf");
	ww_conf_free(&c);
	parse_ok(&c, "\n\n# only comments\n  \t \n#\n");
	assert_int_equal(c.n, 0);
	ww_conf_free(&c);
	parse_ok(&c, "\xef\xbb\xbf");
	assert_int_equal(c.n, 0);
	ww_conf_free(&c);
}

static void
test_keys(void **state)
{
	struct ww_conf c;
	char key64[65], line[128], want[256];

	(void)state;
	parse_ok(&c, "max-bytes = 1\nx = 2\n0-9 = 3\n");
	assert_entry(&c, 0, "max-bytes", "1", 1);
	assert_entry(&c, 1, "x", "2", 2);
	assert_entry(&c, 2, "0-9", "3", 3);
	ww_conf_free(&c);

	memset(key64, 'k', 64);
	key64[64] = '\0';
	snprintf(line, sizeof(line), "%s = v\n", key64);
	parse_ok(&c, line);
	assert_entry(&c, 0, key64, "v", 1);
	ww_conf_free(&c);

	snprintf(line, sizeof(line), "x = 1\n%sk = v\n", key64);
	parse_fails(line, "t.conf:2: key longer than 64 characters");

	parse_fails("ok = 1\nFoo Bar = x\n",
		    "t.conf:2: bad key \"Foo Bar\" (want lower-case letters, "
		    "digits and \"-\")");
	parse_fails("Quiet = true\n",
		    "t.conf:1: bad key \"Quiet\" (want lower-case letters, "
		    "digits and \"-\")");
	parse_fails("max_bytes = 1\n",
		    "t.conf:1: bad key \"max_bytes\" (want lower-case "
		    "letters, digits and \"-\")");
	parse_fails("quiet! = 1\n",
		    "t.conf:1: bad key \"quiet!\" (want lower-case letters, "
		    "digits and \"-\")");
	parse_fails("\n\n = value\n",
		    "t.conf:3: missing key before \"=\" (want key = value)");

	/* a long bad key is quoted short, not cut inside a UTF-8 sequence */
	memset(line, 'a', 63);
	memcpy(line + 63, "\xc3\xa9xyz = v\n", 10);
	line[73] = '\0';
	snprintf(want, sizeof(want),
		 "t.conf:1: bad key \"%.63s...\" (want lower-case letters, "
		 "digits and \"-\")",
		 line);
	parse_fails(line, want);
}

static void
test_missing_equals(void **state)
{
	(void)state;
	parse_fails("a = 1\nquiet\n",
		    "t.conf:2: missing \"=\" (want key = value)");
	parse_fails("collector https://x.example\n",
		    "t.conf:1: missing \"=\" (want key = value)");
}

static void
test_values(void **state)
{
	(void)state;
	parse_fails("a = 1\nb =\n", "t.conf:2: empty value for \"b\"");
	parse_fails("b =   \t \n", "t.conf:1: empty value for \"b\"");
	parse_fails("b = \"\"\n", "t.conf:1: empty value for \"b\"");
	parse_fails("x = 1\n\nb = \"open\n",
		    "t.conf:3: unterminated quote in value for \"b\"");
	parse_fails("b = \"\n", "t.conf:1: unterminated quote in value for "
				"\"b\"");
	parse_fails("b = \"closed\" then more\n",
		    "t.conf:1: text after the closing quote in value for "
		    "\"b\"");
}

static void
test_bytes(void **state)
{
	(void)state;
	parse_fails_n("a = 1\nb = x\0y\n", 12, "t.conf:2: NUL byte");
	parse_fails("a = 1\nb = \xff\n", "t.conf:2: invalid UTF-8");
	parse_fails("# \xc3\n", "t.conf:1: invalid UTF-8");
	/* classic-Mac line ends would make the file one comment line */
	parse_fails("# comment\rkey = value\r",
		    "t.conf:1: control character 0x0d (CR line ends? use "
		    "LF)");
	parse_fails("a = 1\n\nb = x\x1b[31m\n",
		    "t.conf:3: control character 0x1b");
	parse_fails("b = x\x7f\n", "t.conf:1: control character 0x7f");
}

static void
test_limits(void **state)
{
	struct ww_conf c;
	size_t big = WW_CONF_MAX_BYTES + 1, n;
	char *buf = xmalloc(big + 1);

	(void)state;
	/* line length: 4096 bytes without the line end is fine */
	memcpy(buf, "k = ", 4);
	memset(buf + 4, 'v', WW_CONF_MAX_LINE - 4);
	memcpy(buf + WW_CONF_MAX_LINE, "\r\n", 3);
	parse_ok(&c, buf);
	assert_int_equal(strlen(c.e[0].value), WW_CONF_MAX_LINE - 4);
	ww_conf_free(&c);
	memcpy(buf + WW_CONF_MAX_LINE, "v\n", 3);
	parse_fails(buf, "t.conf:1: line longer than 4096 bytes");

	/* entries */
	n = 0;
	for (int i = 0; i < WW_CONF_MAX_ENTRIES; i++)
		n += (size_t)sprintf(buf + n, "k = %d\n", i);
	parse_ok(&c, buf);
	assert_int_equal(c.n, WW_CONF_MAX_ENTRIES);
	assert_entry(&c, WW_CONF_MAX_ENTRIES - 1, "k", "4095",
		     WW_CONF_MAX_ENTRIES);
	ww_conf_free(&c);
	strcpy(buf + n, "# comments do not count\nlast = 1\n");
	parse_fails(buf, "t.conf:4098: more than 4096 entries");

	/* size: 1 MiB of comment is fine, one byte more is not */
	memset(buf, '#', big);
	buf[big - 2] = '\n';
	buf[big - 1] = '\n';
	for (size_t i = 4000; i < big; i += 4000)
		buf[i] = '\n';
	assert_int_equal(ww_conf_parse(&c, "t.conf", buf, big - 1, NULL, 0), 0);
	ww_conf_free(&c);
	parse_fails_n(buf, big, "t.conf: file is larger than 1 MiB");
	free(buf);
}

static void
test_bool(void **state)
{
	static const char *const yes[] = {"true", "TRUE", "yes", "Yes",
					  "on",	  "ON",	  "1"};
	static const char *const no[] = {"false", "False", "no", "NO",
					 "off",	  "Off",   "0"};
	static const char *const bad[] = {"",	    "2",     "y",     "n",
					  "enable", " true", "true ", "01"};
	bool b;

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(yes); i++) {
		b = false;
		assert_int_equal(ww_conf_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < WW_ARRAY_LEN(no); i++) {
		b = true;
		assert_int_equal(ww_conf_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (size_t i = 0; i < WW_ARRAY_LEN(bad); i++) {
		b = true;
		assert_int_equal(ww_conf_bool(bad[i], &b), -1);
		assert_true(b); /* untouched */
	}
	assert_int_equal(ww_conf_bool(NULL, &b), -1);
}

static void
test_small_err_buffer(void **state)
{
	struct ww_conf c;
	char err[8];

	(void)state;
	assert_int_equal(
		ww_conf_parse(&c, "t.conf", "bad\n", 4, err, sizeof(err)), -1);
	assert_string_equal(err, "t.conf:");
	assert_int_equal(ww_conf_parse(&c, "t.conf", "bad\n", 4, NULL, 0), -1);
}

/* --- files ------------------------------------------------------------- */

static void
test_load(void **state)
{
	static const char text[] = "# probe\ncollector = https://c.example\n"
				   "quiet = yes\n";
	struct ww_conf c;
	char err[512] = "", want[600];
	char *path = temp_file(text, sizeof(text) - 1);

	(void)state;
	assert_int_equal(ww_conf_load(&c, path, err, sizeof(err)), 0);
	assert_string_equal(c.path, path);
	assert_int_equal(c.n, 2);
	assert_entry(&c, 0, "collector", "https://c.example", 2);
	assert_entry(&c, 1, "quiet", "yes", 3);
	ww_conf_free(&c);
	remove_temp(path);

	path = temp_file("a = 1\nb\n", 8);
	assert_int_equal(ww_conf_load(&c, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: missing \"=\" (want key = value)",
		 path);
	assert_string_equal(err, want);
	assert_null(c.e);
	remove_temp(path);
}

static void
test_load_errors(void **state)
{
	struct ww_conf c;
	char err[512] = "", want[600];
	char *path, *big;
	size_t n = WW_CONF_MAX_BYTES + 1;

	(void)state;
	assert_int_equal(
		ww_conf_load(&c, "/nonexistent/probe.conf", err, sizeof(err)),
		-1);
	assert_string_equal(
		err, "/nonexistent/probe.conf: No such file or directory");
	assert_null(c.path);

	assert_int_equal(ww_conf_load(&c, "/tmp", err, sizeof(err)), -1);
	assert_string_equal(err, "/tmp: Is a directory");

	big = xmalloc(n);
	memset(big, '\n', n);
	path = temp_file(big, n);
	free(big);
	assert_int_equal(ww_conf_load(&c, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: file is larger than 1 MiB", path);
	assert_string_equal(err, want);
	remove_temp(path);

	/* not a regular file: read to the limit, no size to trust */
	assert_int_equal(ww_conf_load(&c, "/dev/null", err, sizeof(err)), 0);
	assert_int_equal(c.n, 0);
	ww_conf_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_value_spaces_and_equals),
		cmocka_unit_test(test_crlf_and_bom),
		cmocka_unit_test(test_empty_files),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_missing_equals),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_small_err_buffer),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
