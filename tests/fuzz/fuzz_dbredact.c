/*
 * fuzz_dbredact.c - a --db value redacted for the log
 * (collector/dbredact.c): whatever the bytes, no crash, no read past the
 * string; a string that names no password (no "pass", no '@') comes back
 * byte for byte; redacting twice changes nothing more.
 *
 * Linked from build/libcollector.a.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../collector/dbredact.h"
#include "fuzz.h"

static int
names_none(const char *s)
{
	if (strchr(s, '@') != NULL)
		return 0;
	for (; *s != '\0'; s++)
		if (strncasecmp(s, "pass", 4) == 0)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *out, *again;

	if (size > 4096)
		return 0;
	in = malloc(size + 1);
	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0'; /* a command-line value: up to its first NUL */
	out = db_redact(in);
	if (names_none(in) && strcmp(out, in) != 0)
		abort();
	again = db_redact(out);
	if (strcmp(again, out) != 0)
		abort();
	free(again);
	free(out);
	free(in);
	return 0;
}
