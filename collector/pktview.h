/*
 * pktview.h - what the collector reads of a measurement's packet evidence
 * (issue 13): test_keys.packets as the probe sent it (docs/
 * measurement-format.md, "packets") and the names the analysis gave in
 * test_keys.analysis.evidence / evidence_detail (docs/verdicts.md).
 *
 * Both come from volunteers' probes and are untrusted: every value is
 * checked for its type, every array and string bounded, and what does not
 * fit is left out (never an error: the measurement stays stored as sent).
 */
#ifndef WW_PKTVIEW_H
#define WW_PKTVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Bounds of the trimmed view (the contract's caps: a probe that keeps
 * to them loses nothing). */
#define PKTVIEW_MAX_DNS 16     /* DNS entries */
#define PKTVIEW_MAX_REPLIES 8  /* replies per DNS entry */
#define PKTVIEW_MAX_ADDRS 16   /* addresses per reply */
#define PKTVIEW_MAX_FLOWS 24   /* TCP flows */
#define PKTVIEW_MAX_PACKETS 32 /* packet summaries per flow */
#define PKTVIEW_MAX_STR 255    /* bytes of any other string kept */
#define PKTVIEW_MAX_ADDR 64    /* bytes of an address (IPv6: 45) */
#define PKTVIEW_MAX_NAMES 16   /* evidence names */
#define PKTVIEW_MAX_NAME 32    /* bytes of one evidence name */
#define PKTVIEW_MAX_DETAIL 400 /* bytes of evidence_detail kept */
#define PKTVIEW_NAMES_LEN (PKTVIEW_MAX_NAMES * (PKTVIEW_MAX_NAME + 1))

/*
 * The evidence names of the analysed test_keys tk (analysis.evidence),
 * joined by ';' into buf (at least PKTVIEW_NAMES_LEN bytes): only names
 * of 1..PKTVIEW_MAX_NAME characters [a-z0-9_], at most PKTVIEW_MAX_NAMES,
 * in their order. Returns buf, or NULL when there is none.
 */
const char *pktview_evidence(const json_t *tk, char *buf, size_t len);

/* analysis.evidence_detail of tk, cut at PKTVIEW_MAX_DETAIL bytes (on a
 * character boundary) into buf (at least PKTVIEW_MAX_DETAIL + 1 bytes);
 * NULL when absent or empty. */
const char *pktview_detail(const json_t *tk, char *buf, size_t len);

/* How many DNS entries and TCP flows test_keys.packets of tk holds
 * (within the bounds above); 0 when it has none or is absent. */
int pktview_count(const json_t *tk);

/*
 * The trimmed view of the measurement m's test_keys.packets for the web
 * view (GET /api/v1/measurements/UID/packets; docs/web-view.md): the
 * fields the page shows, typed and bounded, raw_response left out.
 * {"capture", "capture_failure", "snaplen", "truncated", "dns": [...],
 * "tcp": [...], "trimmed": true when a bound here dropped something}.
 * NULL when m has no packets object.
 */
json_t *pktview_trim(const json_t *m);

#endif
