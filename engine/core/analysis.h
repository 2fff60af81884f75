/*
 * analysis.h - the verdict on one measurement: blocked or not, how, and how
 * sure we are, from the probe's observations, the control's answer
 * (docs/control-protocol.md) and the fingerprints (fingerprint.h).
 *
 * It works on the measurement's JSON (docs/measurement-format.md), so the
 * probe runs it before writing and the collector can run it again on stored
 * data when the rules or the fingerprints change. The decision procedure,
 * the keys written and the differences from OONI's Web Connectivity are in
 * docs/verdicts.md. OONI Probe's own web_connectivity measurements (test_name
 * "web_connectivity") are read through a view in our shape
 * (analysis_ooni.c; docs/verdicts.md, "OONI's measurements"). Needs only
 * libc, jansson, libcurl's URL parser and the engine's pure helpers.
 */
#ifndef WW_ANALYSIS_H
#define WW_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "fingerprint.h"

/* In test_keys.analysis.version; bump when the rules change, so that stored
 * verdicts can be told apart and re-run. */
#define WW_ANALYSIS_VERSION "4"

/* OONI's body_length_match threshold (ts-017). */
#define WW_BODY_PROPORTION_MIN 0.7

/*
 * A probe body under this fraction of the control's complete body is
 * another page whatever its title (docs/verdicts.md, Thresholds): block
 * pages under the site's own title were 0.004-0.024 of its length, pages
 * that change per visit no less than 0.33 (the lab's /changing).
 */
#define WW_BODY_TINY 0.1

/*
 * http.throttled (docs/verdicts.md, rule 2): a transfer that timed out is
 * throttled when its last byte came at most max(WW_THROTTLE_GAP_SHARE of
 * the request's time, min(WW_THROTTLE_MAX_GAP seconds, a quarter of it))
 * before the end (or a burst's time at its rate, WW_THROTTLE_BURST),
 * its rate was under WW_THROTTLE_MAX_RATE bytes/s and at most
 * 1/WW_THROTTLE_CTL_FACTOR of the control's, and the rest of the
 * control's body would have needed at least as long again.
 */
#define WW_THROTTLE_MAX_RATE 32768.0
#define WW_THROTTLE_MAX_GAP 2.0
#define WW_THROTTLE_GAP_SHARE 0.1
#define WW_THROTTLE_CTL_FACTOR 10.0
/*
 * A token-bucket shaper lets bytes through in bursts: the silence before
 * the next burst lasts as long as the burst takes at the average rate. A
 * final silence up to WW_THROTTLE_BURST bytes' worth at the measured rate
 * (16 KiB: 11 segments of 1460; the red team's shaper left final silences
 * of up to 10930 bytes' worth) is still throttling, when the bytes came
 * for at least as long as the silence.
 */
#define WW_THROTTLE_BURST 16384.0

/*
 * Packet evidence (test_keys.packets; docs/verdicts.md, "Packet evidence").
 * Packets of one TCP connection from one host share an initial TTL and a
 * route, so they reach the probe with one TTL: an RST, an HTTP payload or
 * a second DNS answer whose TTL differs from the server's by at least
 * WW_RST_TTL_DELTA came from elsewhere, when the hop counts the two imply
 * (from the nearest initial TTL, 64/128/255) differ as much too. 2 and
 * not 1 lets a device one hop in front of the server (its firewall, its
 * load balancer, with the same or another initial TTL) and a one-hop
 * route change pass. Two RSTs in with different sequence numbers within
 * WW_RST_BURST_WINDOW seconds are a burst (the GFW sends three at once).
 */
#define WW_RST_TTL_DELTA 2
#define WW_RST_BURST_WINDOW 0.010

/* At most this many elements of each array (queries, tcp_connect, ...) and
 * control map are looked at: a hostile file cannot make analysis slow. */
#define WW_ANALYSIS_MAX_ITEMS 256

/*
 * Analyse the measurement m in place: writes blocking, accessible,
 * blocking_detail, confirmed, dns_consistency, body_length_match,
 * status_code_match, headers_match, title_match, body_proportion,
 * dns_experiment_failure, http_experiment_failure and analysis (version,
 * reason, fingerprints, hop, hop_url; shape for OONI's measurements) into
 * m["test_keys"], replacing any earlier values of those keys and nothing
 * else. fp may be NULL (no fingerprints). Missing or ill-typed fields count
 * as "not observed"; the result then tends to null, never to "blocked".
 * Returns 0, or -1 with a message in err when m is not an object with a
 * test_keys object (m is then unchanged).
 */
int ww_analyze(json_t *m, const struct ww_fingerprints *fp, char *err,
	       size_t errlen);

/* Is key one of the test_keys that ww_analyze() writes (the list above)? */
bool ww_analysis_writes(const char *key);

#endif
