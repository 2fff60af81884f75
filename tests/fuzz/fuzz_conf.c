/*
 * fuzz_conf.c - the probe's configuration file parser on arbitrary bytes.
 * A parse that succeeds must give only entries the syntax allows (conf.h);
 * one that fails must leave the conf empty and say where, under its name.
 *
 * Linked from build/libprobe.a (make fuzz builds it with clang for
 * libFuzzer).
 */
#include <stdlib.h>
#include <string.h>

#include "../../probe/conf.h"
#include "fuzz.h"
#include "util.h"

static void
check_entry(const struct ww_conf_entry *e, int prev_line)
{
	size_t klen = strlen(e->key);
	bool b;

	if (klen == 0 || klen > WW_CONF_MAX_KEY ||
	    strspn(e->key, "abcdefghijklmnopqrstuvwxyz0123456789-") != klen ||
	    e->value[0] == '\0' || strlen(e->value) > WW_CONF_MAX_LINE ||
	    !ww_utf8_valid((const unsigned char *)e->value, strlen(e->value)) ||
	    e->line <= prev_line)
		abort();
	if (ww_conf_bool(e->value, &b) == 0 &&
	    strlen(e->value) > strlen("false"))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ww_conf c;
	char err[256];
	int prev = 0;

	if (ww_conf_parse(&c, "fuzz.conf", (const char *)data, size, err,
			  sizeof(err)) == 0) {
		if (c.n > WW_CONF_MAX_ENTRIES || strcmp(c.path, "fuzz.conf"))
			abort();
		for (size_t i = 0; i < c.n; i++) {
			check_entry(&c.e[i], prev);
			prev = c.e[i].line;
		}
	} else if (c.n != 0 || c.e != NULL || c.path != NULL ||
		   memchr(err, '\0', sizeof(err)) == NULL ||
		   strncmp(err, "fuzz.conf:", 10) != 0) {
		abort();
	}
	ww_conf_free(&c);
	return 0;
}
