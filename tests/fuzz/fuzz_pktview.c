/*
 * fuzz_pktview.c - the collector's reading of packet evidence
 * (collector/pktview.c) on arbitrary JSON, as the root measurement and as
 * its test_keys: never a crash, and what comes out keeps its promises:
 * evidence names of [a-z0-9_] joined by ';' within the buffer, a sentence
 * within its bound and valid UTF-8, a count within the caps, and a trimmed
 * view whose arrays are within theirs.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../collector/pktview.h"
#include "fuzz.h"
#include "util.h"

static void
check_names(const char *s, size_t cap)
{
	size_t n;

	if (s == NULL)
		return;
	n = strlen(s);
	if (n == 0 || n >= cap || s[0] == ';' || s[n - 1] == ';')
		abort();
	for (; *s; s++)
		if (!(islower((unsigned char)*s) ||
		      isdigit((unsigned char)*s) || *s == '_' || *s == ';'))
			abort();
}

static void
check_array(const json_t *o, const char *key, size_t max)
{
	if (!json_is_array(json_object_get(o, key)) ||
	    json_array_size(json_object_get(o, key)) > max)
		abort();
}

static void
check_trim(const json_t *v)
{
	const json_t *e;
	size_t i;

	if (v == NULL)
		return;
	check_array(v, "dns", PKTVIEW_MAX_DNS);
	check_array(v, "tcp", PKTVIEW_MAX_FLOWS);
	json_array_foreach(json_object_get(v, "dns"), i, e)
		check_array(e, "replies", PKTVIEW_MAX_REPLIES);
	json_array_foreach(json_object_get(v, "tcp"), i, e)
		check_array(e, "packets", PKTVIEW_MAX_PACKETS);
}

static void
one(const json_t *m)
{
	const json_t *tk = json_object_get(m, "test_keys");
	char names[PKTVIEW_NAMES_LEN], small[20], d[PKTVIEW_MAX_DETAIL + 1];
	const char *s;
	json_t *v;
	int n;

	check_names(pktview_evidence(tk, names, sizeof(names)), sizeof(names));
	check_names(pktview_evidence(tk, small, sizeof(small)), sizeof(small));
	s = pktview_detail(tk, d, sizeof(d));
	if (s != NULL && (strlen(s) > PKTVIEW_MAX_DETAIL ||
			  !ww_utf8_valid((const unsigned char *)s, strlen(s))))
		abort();
	n = pktview_count(tk);
	if (n < 0 || n > PKTVIEW_MAX_DNS + PKTVIEW_MAX_FLOWS)
		abort();
	v = pktview_trim(m);
	check_trim(v);
	json_decref(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *m = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	json_t *wrap;

	if (m == NULL)
		return 0;
	one(m);
	/* the same value as test_keys, and as test_keys.packets */
	wrap = json_pack("{s:{s:O,s:O}}", "test_keys", "packets", m, "analysis",
			 m);
	one(wrap);
	json_decref(wrap);
	json_decref(m);
	return 0;
}
