/*
 * test_httpframe.c - the edge's strict framing check (collector/
 * httpframe.c): every case of issue 12 (two Content-Length values, equal
 * or not; a non-numeric one; a space before the colon; Content-Length with
 * Transfer-Encoding; a coding other than chunked) refused with a message
 * naming it, and sound heads read, whole or a byte at a time.
 *
 * Linked from build/libcollector.a.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"
#include "../../collector/httpframe.h"

#define REQ "POST /api/v1/measurements HTTP/1.1\r\nHost: x\r\n"

static int
check(const char *head, struct http_frame *f, char *err)
{
	memset(f, 0, sizeof(*f));
	err[0] = '\0';
	return http_frame_feed(f, head, strlen(head), err, 256);
}

static void
test_sound(void **state)
{
	struct http_frame f;
	char err[256];
	const char *h = REQ "Content-Length: 5\r\n\r\nhello";
	size_t i;

	(void)state;
	assert_int_equal(check(h, &f, err), 1);
	assert_int_equal(f.content_length, 5);
	assert_false(f.chunked);
	assert_int_equal(f.end, strlen(h) - 5);
	assert_int_equal(
		check(REQ "transfer-encoding:  Chunked \r\n\r\n", &f, err), 1);
	assert_true(f.chunked);
	assert_int_equal(f.content_length, -1);
	/* LF alone ends a line too (as evhttp reads them) */
	assert_int_equal(check("GET / HTTP/1.1\nHost: x\n\n", &f, err), 1);
	assert_int_equal(f.content_length, -1);
	assert_int_equal(check("GET / HTTP/1.1\r\nHost: x\r\n", &f, err), 0);
	/* a byte at a time: the same answer */
	memset(&f, 0, sizeof(f));
	for (i = 1; i < strlen(h); i++) {
		int rc = http_frame_feed(&f, h, i, err, sizeof(err));

		if (rc != 0) {
			assert_int_equal(rc, 1);
			break;
		}
	}
	assert_int_equal(f.content_length, 5);
}

static void
refused(const char *head, const char *want)
{
	struct http_frame f;
	char err[256];

	assert_int_equal(check(head, &f, err), -1);
	if (strstr(err, want) == NULL)
		fail_msg("for %s: got \"%s\", want \"%s\"", head, err, want);
}

static void
test_refused(void **state)
{
	(void)state;
	refused(REQ "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
		"two Content-Length");
	refused(REQ "Content-Length: 5\r\ncontent-length: 5\r\n\r\n",
		"two Content-Length");
	refused(REQ "Content-Length: +5\r\n\r\n", "\"+5\" is not a number");
	refused(REQ "Content-Length: -1\r\n\r\n", "\"-1\" is not a number");
	refused(REQ "Content-Length: 5 5\r\n\r\n", "\"5 5\" is not a number");
	refused(REQ "Content-Length: 5, 5\r\n\r\n", "is not a number");
	refused(REQ "Content-Length: 0x10\r\n\r\n", "is not a number");
	refused(REQ "Content-Length:\r\n\r\n", "is empty");
	refused(REQ "Content-Length: 9999999999999999999\r\n\r\n",
		"is too large");
	refused(REQ "Content-Length : 5\r\n\r\nhello",
		"header name \"Content-Length \" has a character");
	refused(REQ "Content\tLength: 5\r\n\r\n", "has a character");
	refused(REQ "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		"both Content-Length and Transfer-Encoding");
	refused(REQ "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
		"both Content-Length and Transfer-Encoding");
	refused(REQ "Transfer-Encoding: gzip, chunked\r\n\r\n",
		"\"gzip, chunked\" is not supported");
	refused(REQ "Transfer-Encoding: identity\r\n\r\n", "not supported");
	refused(REQ "Transfer-Encoding: chunked\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n",
		"two Transfer-Encoding");
	refused(REQ "X: a\r\n folded\r\n\r\n", "line folding");
	refused(REQ "no colon here\r\n\r\n", "has no colon");
	refused(REQ ": empty\r\n\r\n", "empty name");
	refused(REQ "X: a\rb\r\n\r\n", "control character");
	refused("\r\nGET / HTTP/1.1\r\n\r\n", "empty line");
	/* client bytes in the message are printable */
	refused(REQ "Content-Length: \xfe\xff\r\n\r\n", "\"??\" is not");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sound),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
