/*
 * verdict_json.c - an analysed measurement's verdict as the store keeps it
 * (verdict_json.h).
 */
#include <string.h>

#include <jansson.h>

#include "pktview.h"
#include "store.h"
#include "verdict.h"
#include "verdict_json.h"

void
verdict_from_json(const json_t *m, struct store_derived *out,
		  struct verdict_bufs *b)
{
	const json_t *tk = json_object_get(m, "test_keys");
	const json_t *bl = json_object_get(tk, "blocking");
	const json_t *a = json_object_get(tk, "accessible");
	const json_t *an = json_object_get(tk, "analysis");

	memset(out, 0, sizeof(*out));
	out->blocking = json_is_string(bl) ? json_string_value(bl)
			: json_is_false(bl)
				? ww_blocking_name(WW_BLOCKING_FALSE)
				: NULL;
	out->accessible = json_is_boolean(a) ? json_is_true(a) : -1;
	out->blocking_detail =
		json_string_value(json_object_get(tk, "blocking_detail"));
	out->confirmed = json_is_true(json_object_get(tk, "confirmed"));
	out->analysis_version =
		json_string_value(json_object_get(an, "version"));
	out->analysis_reason = json_string_value(json_object_get(an, "reason"));
	out->evidence = pktview_evidence(tk, b->names, sizeof(b->names));
	out->evidence_detail = pktview_detail(tk, b->detail, sizeof(b->detail));
	out->packets = pktview_count(tk);
}
