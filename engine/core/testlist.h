/*
 * testlist.h - Citizen Lab test-list CSV loader.
 *
 * Format (citizenlab/test-lists, RFC 4180 quoting):
 *   url,category_code,category_description,date_added,source,notes
 * The header must be exactly those six columns in that order. Every row must
 * have six fields; url must parse with ww_target_parse(); category_code is
 * 2-10 upper-case letters/digits; date_added is YYYY-MM-DD (a real date).
 * A malformed file is rejected as a whole with "path:line: what is wrong";
 * no row is ever dropped silently. Limits: 16 MiB per file, 8 KiB per
 * line, 100000 rows per file; exceeding one is an error that names it.
 */
#ifndef WW_TESTLIST_H
#define WW_TESTLIST_H

#include <stddef.h>

#include "target.h"

struct ww_testlist {
	struct ww_target *targets;
	size_t n, cap;
	size_t n_duplicates; /* rows skipped because their url was already in */
};

#define WW_TESTLIST_MAX_BYTES (16u * 1024 * 1024)
#define WW_TESTLIST_MAX_LINE 8192
#define WW_TESTLIST_MAX_ROWS 100000

/*
 * Load the CSV file at path and append its rows to l. Rows whose url is
 * already in l (exact input string) are counted in n_duplicates and
 * reported through the notice callback (if not NULL) as
 * "path:line: duplicate of <source>"; they are not appended twice.
 * On error returns -1, writes "path:line: problem" into err, and leaves l
 * exactly as it was before the call.
 */
int ww_testlist_load(struct ww_testlist *l, const char *path, char *err,
		     size_t errlen, void (*notice)(const char *msg));

/* Same, from a buffer; name is used in messages in place of the path. */
int ww_testlist_load_buf(struct ww_testlist *l, const char *name,
			 const char *buf, size_t len, char *err, size_t errlen,
			 void (*notice)(const char *msg));

/* Append one --input target (source "--input"); same duplicate rule. */
int ww_testlist_add_input(struct ww_testlist *l, const char *input, char *err,
			  size_t errlen);

/*
 * Keep only targets whose category is in include (comma-separated codes;
 * NULL keeps all) and not in exclude (NULL excludes none). Targets with no
 * category (--input) are kept by include and exclude alike. Returns the
 * number removed. Codes are compared case-insensitively.
 */
size_t ww_testlist_filter(struct ww_testlist *l, const char *include,
			  const char *exclude);

/* Validate a comma-separated category list (for option parsing). */
int ww_testlist_check_categories(const char *list, char *err, size_t errlen);

void
ww_testlist_free(struct ww_testlist *l); /* contents; l itself is not freed */

/*
 * The directory of the bundled test lists (and their fingerprints/):
 * WALLWATCH_TESTLISTS; beside the binary as installed
 * (BINDIR/../share/wallwatch/testlists); the data directory compiled in;
 * testlists/ of the source tree when run from build/. NULL when none is
 * readable; caller frees.
 */
char *ww_testlist_default_dir(void);

#endif
