/*
 * analysis.h - the verdict on one measurement: blocked or not, how, and how
 * sure we are, from the probe's observations, the control's answer
 * (docs/control-protocol.md) and the fingerprints (fingerprint.h).
 *
 * It works on the measurement's JSON (docs/measurement-format.md), so the
 * probe runs it before writing and the collector can run it again on stored
 * data when the rules or the fingerprints change. The decision procedure,
 * the keys written and the differences from OONI's Web Connectivity are in
 * docs/verdicts.md. Needs only libc, jansson and the engine's pure helpers.
 */
#ifndef WW_ANALYSIS_H
#define WW_ANALYSIS_H

#include <stddef.h>

#include <jansson.h>

#include "fingerprint.h"

/* In test_keys.analysis.version; bump when the rules change, so that stored
 * verdicts can be told apart and re-run. */
#define WW_ANALYSIS_VERSION "2"

/* OONI's body_length_match threshold (ts-017). */
#define WW_BODY_PROPORTION_MIN 0.7

/*
 * http.throttled (docs/verdicts.md, rule 2): a transfer that timed out is
 * throttled when its last byte came at most max(WW_THROTTLE_GAP_SHARE of
 * the request's time, min(WW_THROTTLE_MAX_GAP seconds, a quarter of it))
 * before the end,
 * its rate was under WW_THROTTLE_MAX_RATE bytes/s and at most
 * 1/WW_THROTTLE_CTL_FACTOR of the control's, and the rest of the
 * control's body would have needed at least as long again.
 */
#define WW_THROTTLE_MAX_RATE 32768.0
#define WW_THROTTLE_MAX_GAP 2.0
#define WW_THROTTLE_GAP_SHARE 0.1
#define WW_THROTTLE_CTL_FACTOR 10.0

/* At most this many elements of each array (queries, tcp_connect, ...) and
 * control map are looked at: a hostile file cannot make analysis slow. */
#define WW_ANALYSIS_MAX_ITEMS 256

/*
 * Analyse the measurement m in place: writes blocking, accessible,
 * blocking_detail, confirmed, dns_consistency, body_length_match,
 * status_code_match, headers_match, title_match, body_proportion,
 * dns_experiment_failure, http_experiment_failure and analysis (version,
 * reason, fingerprints, hop, hop_url) into
 * m["test_keys"], replacing any earlier values of those keys and nothing
 * else. fp may be NULL (no fingerprints). Missing or ill-typed fields count
 * as "not observed"; the result then tends to null, never to "blocked".
 * Returns 0, or -1 with a message in err when m is not an object with a
 * test_keys object (m is then unchanged).
 */
int ww_analyze(json_t *m, const struct ww_fingerprints *fp, char *err,
	       size_t errlen);

#endif
