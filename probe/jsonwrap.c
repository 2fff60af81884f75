/*
 * jsonwrap.c - json_dumps() for a probe that counts its memory
 * (engine/loop/memacct.h). jansson allocates the string through the counting
 * hook, and its callers free it with plain free(), in a dozen places: the
 * count would see it come and never go. The probe links with
 * -Wl,--wrap=json_dumps, so every call lands here and gets a copy from
 * plain malloc(), while jansson's block goes back through the hook.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "memacct.h"

char *__real_json_dumps(const json_t *json, size_t flags);
char *__wrap_json_dumps(const json_t *json, size_t flags);

char *
__wrap_json_dumps(const json_t *json, size_t flags)
{
	char *s = __real_json_dumps(json, flags), *copy;
	size_t n;

	if (s == NULL || !memacct_installed())
		return s;
	n = strlen(s) + 1;
	copy = malloc(n);
	if (copy != NULL)
		memcpy(copy, s, n);
	memacct_free(s);
	return copy;
}
