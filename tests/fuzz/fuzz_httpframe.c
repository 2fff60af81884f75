/*
 * fuzz_httpframe.c - the edge's framing check of a request's head
 * (collector/httpframe.c), over untrusted bytes: whatever the input, fed
 * whole or in two pieces cut anywhere, the answer is the same; a refusal
 * always says why in printable text; a complete head ends at a blank line
 * within the input, with a Content-Length that is -1 or a number it
 * names.
 *
 * Linked from build/libcollector.a.
 */
#include <stdlib.h>
#include <string.h>

#include "../../collector/httpframe.h"
#include "fuzz.h"

static int
feed(const char *buf, size_t len, size_t cut, struct http_frame *f, char *err,
     size_t errlen)
{
	int rc;

	memset(f, 0, sizeof(*f));
	err[0] = '\0';
	rc = http_frame_feed(f, buf, cut, err, errlen);
	if (rc == 0)
		rc = http_frame_feed(f, buf, len, err, errlen);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http_frame a, b;
	char ea[256], eb[256];
	int ra, rb;
	size_t i;

	ra = feed(buf, size, size, &a, ea, sizeof(ea));
	rb = feed(buf, size, size / 2, &b, eb, sizeof(eb));
	if (ra != rb || (ra == -1 && strcmp(ea, eb) != 0))
		abort(); /* feeding in pieces changes nothing */
	if (ra == -1) {
		if (ea[0] == '\0')
			abort(); /* a refusal says why */
		for (i = 0; ea[i] != '\0'; i++)
			if ((unsigned char)ea[i] < 0x20 ||
			    (unsigned char)ea[i] >= 0x7f)
				abort(); /* no client byte leaks raw */
	}
	if (ra == 1) {
		if (a.end != b.end || a.end > size || a.end < 2 ||
		    buf[a.end - 1] != '\n')
			abort();
		if (a.content_length != b.content_length ||
		    a.chunked != b.chunked ||
		    (a.content_length >= 0 && a.chunked) ||
		    a.content_length < -1)
			abort();
	}
	return 0;
}
