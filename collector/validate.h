/*
 * validate.h - is a submitted measurement one the collector accepts? Checks
 * a parsed measurement (docs/measurement-format.md) before it is stored:
 * the envelope's keys, types and shapes, plausible times, no volunteer
 * address, and the shape of the observation arrays. Unknown keys are
 * allowed (forward compatibility). Pure: no I/O, no allocation kept.
 * The rules are listed in docs/ingest-validation.md.
 */
#ifndef WW_VALIDATE_H
#define WW_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

/* Longest measurement_uid accepted. */
#define WW_VALIDATE_MAX_UID 128
/* Most elements in each test_keys array (queries, tcp_connect, ...). */
#define WW_VALIDATE_MAX_ARRAY 1024
/* Deepest nesting of arrays and objects anywhere (the root is depth 1). */
#define WW_VALIDATE_MAX_DEPTH 32
/* measurement_start_time / test_start_time relative to the collector's
 * clock (OONI fastpath's rule): more than this ahead is "from the future",
 * more than this behind "too old". */
#define WW_VALIDATE_MAX_FUTURE 3600
#define WW_VALIDATE_MAX_AGE 31536000

/*
 * 0 if m is a measurement we accept; -1 with the offending field's JSON
 * path in field (e.g. "test_keys.queries[2].answers"; "" for m itself)
 * and a human message in msg. Times are judged against now (Unix
 * seconds). field and msg are always NUL-terminated valid UTF-8 (cut
 * short to fit); either may be NULL with length 0.
 */
int ww_validate_measurement_at(const json_t *m, int64_t now, char *field,
			       size_t fieldlen, char *msg, size_t msglen);

/* The same, against time(NULL). */
int ww_validate_measurement(const json_t *m, char *field, size_t fieldlen,
			    char *msg, size_t msglen);

/* --- OONI's measurements (validate_ooni.c, docs/ooni-data.md) ------------ */

/* The test_name of the OONI measurements the collector reads. */
#define WW_OONI_TEST_NAME "web_connectivity"
/* measurement_start_time of an OONI measurement: not before 2012-01-01
 * 00:00:00 UTC (OONI's archive starts in 2012), and no more than
 * WW_VALIDATE_MAX_FUTURE ahead; there is no upper age (an archive). */
#define WW_OONI_MIN_TIME ((int64_t)1325376000)
/* The uid given to an OONI measurement without a measurement_uid: this
 * prefix (':' is not in any accepted measurement_uid, so it cannot be one)
 * and 32 lower-case hex digits. */
#define WW_OONI_UID_PREFIX "ooni:"
#define WW_OONI_UID_LEN (sizeof(WW_OONI_UID_PREFIX) - 1 + 32)

/* True when m has the shape of one of OONI's own measurements (test_name
 * WW_OONI_TEST_NAME, a software_name that is not "wallwatch..."):
 * ww_validate_measurement() then checks it against OONI's data format
 * instead of ours. */
bool ww_validate_is_ooni(const json_t *m);

/*
 * The identity of m, an OONI measurement that passed
 * ww_validate_measurement() and has no measurement_uid (docs/ooni-data.md,
 * "Identity"): WW_OONI_UID_PREFIX and the first 128 bits, in hex, of the
 * SHA-256 of report_id, input and measurement_start_time, each followed by
 * a NUL byte. When report_id is empty (a measurement never submitted to
 * OONI: no report), the canonical JSON of the whole measurement (keys
 * sorted, compact) is hashed after them, so that two different
 * measurements do not share one. out gets WW_OONI_UID_LEN characters and a
 * NUL.
 */
void ww_ooni_uid(const json_t *m, char out[WW_OONI_UID_LEN + 1]);

/*
 * Parse a UTC wall-clock time as the probe writes it, exactly
 * "YYYY-MM-DD HH:MM:SS" (years 0001..9999, a real date, seconds 00..59),
 * into Unix seconds. Returns 0, or -1 when s is not that.
 */
int ww_parse_utc(const char *s, int64_t *out);

#endif
