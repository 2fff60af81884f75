/*
 * fingerprint.h - known signs of censorship: forged DNS answers and
 * blockpage patterns, loaded from CSV (testlists/fingerprints/README.md).
 *
 * Modelled on ooni/blocking-fingerprints, with fewer columns:
 *   name,scope,location,pattern_type,pattern,expected_countries,source,notes
 * One format for DNS and HTTP fingerprints: each row's location says which
 * it is (dns, body, header.<lowercase-name>). Matching is plain string
 * comparison (full, prefix, contains); there are no regular expressions, so
 * a fingerprint file cannot make matching slow or ambiguous.
 *
 * Untrusted input: a file is checked as a whole (size, line length, field
 * count, UTF-8, every field's syntax) and rejected with "file:line: problem"
 * at its first error; a rejected file adds nothing. Needs only libc.
 */
#ifndef WW_FINGERPRINT_H
#define WW_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>

#define WW_FP_MAX_BYTES (4u * 1024 * 1024) /* per file */
#define WW_FP_MAX_LINE 8192		   /* bytes per physical line */
#define WW_FP_MAX_FIELD 4096		   /* bytes per field */
#define WW_FP_MAX_ROWS 10000		   /* per file */
#define WW_FP_MAX_TOTAL 100000		   /* in one set */
#define WW_FP_MIN_BODY_PATTERN 4	   /* bytes, for body patterns */

struct ww_fingerprints;
struct ww_fingerprint;

enum ww_fp_location { WW_FP_DNS, WW_FP_BODY, WW_FP_HEADER };

/* An empty set. Never NULL (allocation failure aborts). */
struct ww_fingerprints *ww_fingerprints_new(void);

/*
 * Load one CSV file and add its rows to fp. Returns 0, or -1 with
 * "path:line: problem" (or "path: problem") in err, fp unchanged.
 * A name already in fp is an error (names are what the analysis reports).
 */
int ww_fingerprints_load_file(struct ww_fingerprints *fp, const char *path,
			      char *err, size_t errlen);

/* Same from memory; name stands for the path in messages. */
int ww_fingerprints_load_buf(struct ww_fingerprints *fp, const char *name,
			     const char *buf, size_t len, char *err,
			     size_t errlen);

/*
 * Load DIR/dns.csv and DIR/http.csv; each may be missing, but DIR must be
 * a directory. dns.csv may hold only dns rows and http.csv only body and
 * header rows (a misfiled row is an error). On error returns -1 and fp
 * holds whatever files loaded before the bad one, each whole.
 */
int ww_fingerprints_load_dir(struct ww_fingerprints *fp, const char *dir,
			     char *err, size_t errlen);

/*
 * The set a program uses: DIR when given (an error if it does not load),
 * else the bundled lists' fingerprints/ when there is one, else an empty
 * set. NULL with a message on error.
 */
struct ww_fingerprints *ww_fingerprints_load_default(const char *dir, char *err,
						     size_t errlen);

/* Number of fingerprints in fp (0 for NULL). */
size_t ww_fingerprints_count(const struct ww_fingerprints *fp);

/* Frees fp and every fingerprint in it; NULL does nothing. */
void ww_fingerprints_free(struct ww_fingerprints *fp);

/*
 * Matching, for the verdict analysis. Each function writes to out[] the
 * fingerprints of fp that match (at most max, in file order) and returns
 * how many it wrote; fp may be NULL (no match). Pointers stay valid until
 * fp is freed.
 *
 * dns: answer is an A/AAAA address (compared as an address, so "d0::11"
 * matches "00d0:0::11") or a CNAME target (compared case-insensitively,
 * without a trailing dot).
 */
size_t ww_fingerprints_match_dns(const struct ww_fingerprints *fp,
				 const char *answer,
				 const struct ww_fingerprint **out, size_t max);

/*
 * body: the first len bytes of a response body; complete is false when the
 * body was truncated, in which case a "full" pattern cannot match.
 */
size_t ww_fingerprints_match_body(const struct ww_fingerprints *fp,
				  const char *body, size_t len, bool complete,
				  const struct ww_fingerprint **out,
				  size_t max);

/* header: one response header; name is compared case-insensitively,
 * value exactly (as OONI does). */
size_t ww_fingerprints_match_header(const struct ww_fingerprints *fp,
				    const char *name, const char *value,
				    const struct ww_fingerprint **out,
				    size_t max);

/* The row's name, e.g. "ooni.cn_0". */
const char *ww_fingerprint_name(const struct ww_fingerprint *f);
enum ww_fp_location ww_fingerprint_location(const struct ww_fingerprint *f);

/*
 * True when a match of f in a measurement from country cc counts as
 * confirmation: f lists no country, cc is one it lists, or cc is unknown
 * (NULL, empty or "ZZ", the probe's default).
 */
bool ww_fingerprint_expected_in(const struct ww_fingerprint *f, const char *cc);

#endif
