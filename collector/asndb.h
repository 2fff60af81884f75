/*
 * asndb.h - an IP-to-ASN table in iptoasn.com's TSV format, for the
 * collector to record which network and country a submission came from
 * (the address itself is never stored).
 *
 * One range per line (ip2asn-combined.tsv; the v4-only and v6-only files
 * have the same columns):
 *
 *   range_start <TAB> range_end <TAB> AS_number <TAB> country_code <TAB>
 *   AS_description
 *
 * IPv4 and IPv6 rows mixed, in any order; AS 0 with country "None" marks an
 * unrouted range. The description is kept once per AS number (the first
 * line's, when lines of one AS differ), cleaned for display: control
 * characters (C0, DEL, C1, and the bidirectional overrides and isolates
 * U+202A..U+202E, U+2066..U+2069) become spaces, runs of spaces one, bytes
 * that are not UTF-8 '?', leading and trailing spaces dropped, and cut to
 * WW_ASNDB_MAX_NAME bytes on a character's boundary; a description left
 * empty, and AS 0's, are not kept. Blank lines and lines
 * starting with '#' are skipped. A line that is not that, a range that
 * overlaps another, or a file over the limits below is refused with
 * "file:line: what is wrong". Lookups are binary searches over two sorted
 * arrays (IPv4 as 32-bit, IPv6 as 128-bit numbers); the real file (~500k
 * rows) takes about 15 MB, and its ~80k descriptions about 3 MB more (a
 * sorted array of AS numbers over one block of names).
 */
#ifndef WW_ASNDB_H
#define WW_ASNDB_H

#include <stddef.h>
#include <stdint.h>

/* Limits on what is loaded. */
#define WW_ASNDB_MAX_BYTES (512u * 1024 * 1024)
#define WW_ASNDB_MAX_ROWS 4000000u
#define WW_ASNDB_MAX_LINE 1024
#define WW_ASNDB_MAX_NAME 96 /* bytes of a kept AS description */

struct ww_asndb;

/* Load path (name used in messages as given). NULL with "path:line: ..."
 * (or "path: ...") in err. */
struct ww_asndb *ww_asndb_load(const char *path, char *err, size_t errlen);

/* The same from memory; name stands for the file in messages. */
struct ww_asndb *ww_asndb_load_buf(const char *buf, size_t len,
				   const char *name, char *err, size_t errlen);

/*
 * Look up ip (IPv4 or IPv6 text; an IPv4-mapped IPv6 address is looked up
 * as its IPv4 address). 0 when found in a routed range: *asn (e.g. 4134)
 * and cc ("CN"; "ZZ" when the table gives no country). 1 when not found,
 * unrouted (AS 0) or not an address: *asn 0 and cc "ZZ".
 */
int ww_asndb_lookup(const struct ww_asndb *db, const char *ip, uint32_t *asn,
		    char cc[3]);

/*
 * The description of AS asn (e.g. "CHINANET-BACKBONE No.31,Jin-rong Street,
 * CN"), cleaned as above: NUL-terminated, at most WW_ASNDB_MAX_NAME bytes,
 * valid UTF-8 without control characters; owned by db. NULL when db is
 * NULL or has none for asn.
 */
const char *ww_asndb_name(const struct ww_asndb *db, uint32_t asn);

/* The same for "AS4134" (the form the store keeps); NULL when asn is not
 * "AS" and a number. */
const char *ww_asndb_name_of(const struct ww_asndb *db, const char *asn);

/* Ranges loaded, by family (for a start-up log line). */
void ww_asndb_count(const struct ww_asndb *db, size_t *n_v4, size_t *n_v6);

void ww_asndb_free(struct ww_asndb *db);

#endif
