/*
 * fuzz_ooni_analysis.c - the analysis of OONI's web_connectivity
 * measurements (engine/core/analysis_ooni.c builds a view of them in our
 * shape) on arbitrary JSON: any object with a test_keys object is taken as
 * OONI's (its test_name is set to "web_connectivity"). Checks that the
 * view never crashes or leaks, that the keys written have their documented
 * types and analysis.shape says "ooni_web_connectivity", that OONI's
 * observations (every other key) stay as they were, and that a second run
 * changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "analysis.h"
#include "fuzz.h"

static void
check(const json_t *before, const json_t *after)
{
	const json_t *btk = json_object_get(before, "test_keys");
	const json_t *tk = json_object_get(after, "test_keys");
	const json_t *a = json_object_get(tk, "analysis");
	const json_t *b = json_object_get(tk, "blocking");
	const char *key;
	json_t *v;

	if (!json_is_object(a) ||
	    !json_is_string(json_object_get(a, "shape")) ||
	    strcmp(json_string_value(json_object_get(a, "shape")),
		   "ooni_web_connectivity") != 0 ||
	    !json_is_string(json_object_get(a, "reason")) ||
	    !(json_is_null(b) || json_is_false(b) || json_is_string(b)) ||
	    !(json_is_null(json_object_get(tk, "accessible")) ||
	      json_is_boolean(json_object_get(tk, "accessible"))) ||
	    !json_is_boolean(json_object_get(tk, "confirmed")))
		abort();
	json_object_foreach((json_t *)btk, key, v)
	{
		if (!ww_analysis_writes(key) &&
		    !json_equal(v, json_object_get(tk, key)))
			abort();
	}
	json_object_foreach((json_t *)tk, key, v)
	{
		if (!ww_analysis_writes(key) &&
		    json_object_get(btk, key) == NULL)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *m, *copy, *once;
	char err[128];

	m = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (m == NULL)
		return 0;
	if (!json_is_object(json_object_get(m, "test_keys"))) {
		json_decref(m);
		return 0;
	}
	json_object_set_new(m, "test_name", json_string("web_connectivity"));
	copy = json_deep_copy(m);
	if (ww_analyze(m, NULL, err, sizeof(err)) != 0)
		abort();
	check(copy, m);
	once = json_deep_copy(m);
	if (ww_analyze(m, NULL, err, sizeof(err)) != 0 || !json_equal(m, once))
		abort();
	json_decref(once);
	json_decref(copy);
	json_decref(m);
	return 0;
}
