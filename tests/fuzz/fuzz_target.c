/*
 * fuzz_target.c - ww_target_parse() on arbitrary bytes (NUL-terminated
 * copy), checking what a success promises: a host that is non-empty,
 * lower-case, ASCII (IDNs as A-labels) and bracket-free, and a port in
 * range.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "target.h"

static bool
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ww_target t, c;
	char err[256];
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ww_target_parse(s, &t, err, sizeof(err)) == 0) {
		if (strcmp(t.input, s) != 0 || t.host == NULL ||
		    t.host[0] == '\0' ||
		    strpbrk(t.host, "[]ABCDEFGHIJKLMNOPQRSTUVWXYZ") != NULL ||
		    !is_ascii(t.host) || t.port < 1 || t.port > 65535)
			abort();
		ww_target_copy(&c, &t);
		ww_target_clear(&c);
		ww_target_clear(&t);
	} else if (t.input != NULL || t.host != NULL ||
		   memchr(err, '\0', sizeof(err)) == NULL) {
		abort();
	}
	free(s);
	return 0;
}
