/*
 * verdict_json.h - what the collector stores of an analysed measurement's
 * verdict: the one mapping from test_keys (docs/verdicts.md) to the
 * store's derived values, used by the ingest (ingest_prep.c) and by
 * `reanalyze` (main.c) alike.
 */
#ifndef WW_VERDICT_JSON_H
#define WW_VERDICT_JSON_H

#include <jansson.h>

#include "pktview.h"
#include "store.h"

/* Room for the packet evidence's strings of one measurement. */
struct verdict_bufs {
	char names[PKTVIEW_NAMES_LEN];
	char detail[PKTVIEW_MAX_DETAIL + 1];
};

/*
 * The derived values of measurement m (analysed: ww_analyze() has written
 * its test_keys) into *out: blocking by its stored name (JSON false is
 * "false", null or absent is NULL, a string is itself, for the store to
 * check), accessible -1/0/1, blocking_detail, confirmed, analysis.version
 * and .reason, and the packet evidence (pktview.h). The strings point into
 * m and b: valid while both are. Anything missing or of another type is
 * null (NULL, -1, false, 0).
 */
void verdict_from_json(const json_t *m, struct store_derived *out,
		       struct verdict_bufs *b);

#endif
