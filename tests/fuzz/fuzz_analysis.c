/*
 * fuzz_analysis.c - the verdict analysis (engine/core/analysis.c) on arbitrary
 * JSON (any root), without fingerprints. Checks what analysis.h promises:
 * a refusal only without a test_keys object, and then m is untouched; the
 * keys written have their documented types (blocking in its vocabulary,
 * accessible null or boolean, analysis.hop null or a hop number,
 * analysis.hop_url null or a string, analysis.evidence names from the
 * vocabulary of docs/verdicts.md, evidence_detail null or a string, and
 * evidence only with it); and a second run changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "analysis.h"
#include "fuzz.h"

static void
check_evidence(const json_t *a)
{
	static const char *const names[] = {
		"dns_injected",	    "dns_ttl_mismatch", "rst_injected",
		"rst_ttl_mismatch", "rst_burst",	"server_after_rst",
		"http_injected",    "http_ttl_mismatch"};
	const json_t *ev = json_object_get(a, "evidence");
	const json_t *d = json_object_get(a, "evidence_detail");

	if (!json_is_array(ev) || !(json_is_null(d) || json_is_string(d)) ||
	    (json_array_size(ev) > 0) != json_is_string(d))
		abort();
	for (size_t i = 0; i < json_array_size(ev); i++) {
		const char *s = json_string_value(json_array_get(ev, i));
		int ok = 0;

		for (size_t k = 0;
		     s != NULL && k < sizeof(names) / sizeof(*names); k++)
			ok = ok || strcmp(s, names[k]) == 0;
		if (!ok)
			abort();
	}
}

static void
check_shape(const json_t *tk)
{
	static const char *const blocking[] = {"dns", "tcp_ip", "tls",
					       "http-failure", "http-diff"};
	const json_t *b = json_object_get(tk, "blocking");
	const json_t *a = json_object_get(tk, "analysis");
	const json_t *hop = json_object_get(a, "hop");
	const json_t *url = json_object_get(a, "hop_url");
	int ok = json_is_null(b) || json_is_false(b);

	for (size_t i = 0; !ok && i < sizeof(blocking) / sizeof(*blocking); i++)
		ok = json_is_string(b) &&
		     strcmp(json_string_value(b), blocking[i]) == 0;
	if (!ok || !(json_is_null(json_object_get(tk, "accessible")) ||
		     json_is_boolean(json_object_get(tk, "accessible"))))
		abort();
	if (!json_is_string(json_object_get(a, "reason")) ||
	    !(json_is_null(hop) ||
	      (json_is_integer(hop) && json_integer_value(hop) >= 0 &&
	       json_integer_value(hop) < 16)) ||
	    !(json_is_null(url) || json_is_string(url)))
		abort();
	check_evidence(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *m, *copy, *once;
	char err[128];

	m = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (m == NULL)
		return 0;
	copy = json_deep_copy(m);
	if (ww_analyze(m, NULL, err, sizeof(err)) != 0) {
		if (json_is_object(json_object_get(m, "test_keys")) ||
		    !json_equal(m, copy))
			abort();
		goto done;
	}
	check_shape(json_object_get(m, "test_keys"));
	once = json_deep_copy(m);
	if (ww_analyze(m, NULL, err, sizeof(err)) != 0 || !json_equal(m, once))
		abort();
	json_decref(once);
done:
	json_decref(copy);
	json_decref(m);
	return 0;
}
