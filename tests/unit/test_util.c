/* test_util.c - helpers: number parsing, UTF-8, encodings, randomness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

static void
test_parse_long(void **state)
{
	long v = -1;

	(void)state;
	assert_int_equal(ww_parse_long("42", 1, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(ww_parse_long("1", 1, 1, &v), 0);
	assert_int_equal(ww_parse_long("0", 1, 100, &v), -1);
	assert_int_equal(ww_parse_long("101", 1, 100, &v), -1);
	assert_int_equal(ww_parse_long("", 1, 100, &v), -1);
	assert_int_equal(ww_parse_long("12x", 1, 100, &v), -1);
	assert_int_equal(ww_parse_long("99999999999999999999", 1, 100, &v), -1);
	assert_int_equal(ww_parse_long(NULL, 1, 100, &v), -1);
	assert_int_equal(v, 1); /* untouched by failures */
}

static void
test_utf8(void **state)
{
	(void)state;
	assert_true(ww_utf8_valid((const unsigned char *)"plain", 5));
	assert_true(ww_utf8_valid((const unsigned char *)"\xe4\xb8\xad", 3));
	assert_true(
		ww_utf8_valid((const unsigned char *)"\xf0\x9f\x98\x80", 4));
	assert_false(ww_utf8_valid((const unsigned char *)"\xe4\xb8", 2));
	assert_false(ww_utf8_valid((const unsigned char *)"\xc0\xaf", 2));
	assert_false(ww_utf8_valid((const unsigned char *)"\xed\xa0\x80", 3));
	assert_false(ww_utf8_valid((const unsigned char *)"\xff", 1));
	assert_false(
		ww_utf8_valid((const unsigned char *)"\xf4\x90\x80\x80", 4));
	assert_true(ww_utf8_valid((const unsigned char *)"", 0));
	/* sequence lengths, and truncated or bad sequences */
	assert_int_equal(ww_utf8_seq_len((const unsigned char *)"a", 1), 1);
	assert_int_equal(ww_utf8_seq_len((const unsigned char *)"\xc3\xa9", 2),
			 2);
	assert_int_equal(
		ww_utf8_seq_len((const unsigned char *)"\xe4\xb8\xad", 3), 3);
	assert_int_equal(
		ww_utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80", 4),
		4);
	assert_int_equal(
		ww_utf8_seq_len((const unsigned char *)"\xe4\xb8\xad", 2), 0);
	assert_int_equal(ww_utf8_seq_len((const unsigned char *)"\x80", 1), 0);
	assert_int_equal(ww_utf8_seq_len((const unsigned char *)"a", 0), 0);
}

static void
test_utf8_sanitize(void **state)
{
	char *s;

	(void)state;
	s = ww_utf8_sanitize("ok \xe4\xb8\xad", 6);
	assert_string_equal(s, "ok \xe4\xb8\xad");
	free(s);
	/* GB18030 bytes, a NUL and a cut sequence become U+FFFD each */
	s = ww_utf8_sanitize("\xd6\xd0"
			     "a\0b"
			     "\xe4\xb8",
			     7);
	assert_string_equal(s, "\xef\xbf\xbd\xef\xbf\xbd"
			       "a\xef\xbf\xbd"
			       "b\xef\xbf\xbd\xef\xbf\xbd");
	assert_true(ww_utf8_valid((const unsigned char *)s, strlen(s)));
	free(s);
}

static void
test_encodings(void **state)
{
	char hex[65], *b64;

	(void)state;
	ww_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
	b64 = ww_base64((const unsigned char *)"hello", 5);
	assert_string_equal(b64, "aGVsbG8=");
	free(b64);
	b64 = ww_base64((const unsigned char *)"", 0);
	assert_string_equal(b64, "");
	free(b64);
}

static void
test_random_and_time(void **state)
{
	char a[33], b[33], t[20], c[17];

	(void)state;
	ww_random_hex(a, 16);
	ww_random_hex(b, 16);
	assert_int_equal(strlen(a), 32);
	assert_string_not_equal(a, b);
	ww_fmt_utc(0, t);
	assert_string_equal(t, "1970-01-01 00:00:00");
	ww_fmt_utc_compact(86400 + 3661, c);
	assert_string_equal(c, "19700102T010101Z");
}

static void
test_push(void **state)
{
	int *v = NULL;
	size_t n = 0, cap = 0;

	(void)state;
	for (int i = 0; i < 1000; i++)
		*WW_PUSH(v, n, cap) = i;
	assert_int_equal(n, 1000);
	assert_true(cap >= 1000);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(v[i], i);
	free(v);
}

/* Client text in a log line: one line whatever it holds (issue 12). */
static void
test_log_escape(void **state)
{
	char out[64], tiny[8];

	(void)state;
	assert_string_equal(
		ww_log_escape("plain /api/v1/x?cc=CN", out, sizeof(out)),
		"plain /api/v1/x?cc=CN");
	/* a forged line: the newline is escaped, so it stays on this one */
	assert_string_equal(ww_log_escape("CN\nwallwatch-collector: error: x",
					  out, sizeof(out)),
			    "CN\\nwallwatch-collector: error: x");
	assert_string_equal(ww_log_escape("a\r\tb\\c", out, sizeof(out)),
			    "a\\r\\tb\\\\c");
	/* ESC (terminal sequences), DEL, a C1 control, a stray byte */
	assert_string_equal(ww_log_escape("\x1b[31mred\x7f", out, sizeof(out)),
			    "\\x1b[31mred\\x7f");
	assert_string_equal(ww_log_escape("\xc2\x9b!\xff", out, sizeof(out)),
			    "\\xc2\\x9b!\\xff");
	/* UTF-8 stays */
	assert_string_equal(ww_log_escape("b\xc3\xbc"
					  "cher",
					  out, sizeof(out)),
			    "b\xc3\xbc"
			    "cher");
	assert_string_equal(ww_log_escape(NULL, out, sizeof(out)), "(null)");
	/* cut to fit, never mid-escape, always terminated */
	assert_string_equal(ww_log_escape("abcdefghij", tiny, sizeof(tiny)),
			    "abcd...");
	assert_string_equal(ww_log_escape("\n\n\n\n", tiny, sizeof(tiny)),
			    "\\n\\n...");
	assert_string_equal(ww_log_escape("abcdefg", tiny, sizeof(tiny)),
			    "abcdefg");
	ww_log_escape("x", tiny, 0); /* no room: nothing written */
}

/* What ww_log() writes to stderr for one message. */
static char *
logged(const char *arg)
{
	char path[] = "/tmp/ww-test-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *buf = xcalloc(1, 16384);
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	ww_log(WW_LOG_ERROR, "api", "bad filter %s", arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, 16383, 0);
	assert_true(n > 0);
	close(fd);
	unlink(path);
	return buf;
}

/* ww_log() writes each message as one line, whatever it holds. */
static void
test_log_one_line(void **state)
{
	char *out, big[3000];

	(void)state;
	ww_log_set_prog("t");
	out = logged("cc=CN\nt: error: api: forged\r");
	assert_string_equal(out,
			    "t: error: api: bad filter cc=CN\\nt: error: api: "
			    "forged\\r\n");
	free(out);
	/* longer than ww_log's buffer on the stack: whole, escaped */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[2000] = '\n';
	out = logged(big);
	assert_int_equal(strlen(out),
			 strlen("t: error: api: bad filter ") + 3000 + 1);
	assert_non_null(strstr(out, "a\\na"));
	assert_int_equal(strchr(out, '\n') - out, (long)strlen(out) - 1);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_utf8_sanitize),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_random_and_time),
		cmocka_unit_test(test_push),
		cmocka_unit_test(test_log_escape),
		cmocka_unit_test(test_log_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
