/*
 * fuzz_htmltitle.c - ww_html_title() on arbitrary bytes. abort() on any
 * broken promise of htmltitle.h: the title is valid UTF-8, non-empty, at
 * most WW_TITLE_MAX bytes, trimmed, with white space collapsed.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "htmltitle.h"
#include "util.h"

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *t = ww_html_title(data, size);
	size_t n;

	if (t == NULL)
		return 0;
	n = strlen(t);
	if (n == 0 || n > WW_TITLE_MAX ||
	    !ww_utf8_valid((const unsigned char *)t, n))
		abort();
	if (t[0] == ' ' || t[n - 1] == ' ')
		abort();
	for (size_t i = 0; i < n; i++)
		if ((is_space(t[i]) && t[i] != ' ') ||
		    (t[i] == ' ' && t[i + 1] == ' '))
			abort();
	free(t);
	return 0;
}
