/*
 * api_query.h - the read API's query strings (and the export command's
 * filter options), parsed defensively: every parameter is checked against
 * what it can be (a state, a time, two letters for a country, AS and a
 * number for a network) and its length, control characters are refused in
 * names and values, a parameter given twice and one the endpoint does not
 * take are refused. Each refusal names its parameter (api_query.err_param),
 * for a 400 (docs/export.md, "Filters").
 */
#ifndef WW_API_QUERY_H
#define WW_API_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

/* The parameters, one bit each: an endpoint takes a set of them. */
enum api_param {
	AQ_INPUT = 1u << 0,
	AQ_CC = 1u << 1,
	AQ_ASN = 1u << 2,
	AQ_CATEGORY = 1u << 3,
	AQ_STATE = 1u << 4,
	AQ_SINCE = 1u << 5,
	AQ_UNTIL = 1u << 6,
	AQ_AFTER = 1u << 7,
	AQ_LIMIT = 1u << 8,
	AQ_GRANULARITY = 1u << 9,
	AQ_FORMAT = 1u << 10,
	AQ_SOURCE = 1u << 11, /* ooni, wallwatch or all (docs/ooni-data.md) */
	AQ_CURSOR = 1u << 12, /* paging of store_network.h's reads */
};
#define AQ_N 13

/* The filters every query endpoint takes. */
#define AQ_FILTERS                                                             \
	(AQ_INPUT | AQ_CC | AQ_ASN | AQ_CATEGORY | AQ_STATE | AQ_SINCE |       \
	 AQ_UNTIL | AQ_SOURCE)

/* Bounds of the query string and of its values. */
#define AQ_MAX_QUERY 16384 /* bytes of the whole query string */
#define AQ_MAX_INPUT 2048  /* bytes of input (WW_TARGET_MAX_INPUT) */
#define AQ_MAX_CATEGORY 32 /* a category code */
#define AQ_MAX_VALUE 64	   /* any other value */

struct api_query {
	/* The filter: its strings point into vals (valid until
	 * api_query_clear). */
	struct store_filter f;
	int granularity; /* 86400 (default) or 3600 */
	bool csv;	 /* format=csv (default jsonl) */
	/* cursor: where the previous page ended, as its answer's
	 * next_cursor gave it (clean text, at most AQ_MAX_INPUT bytes; the
	 * endpoint reads it); NULL when not given */
	const char *cursor;
	unsigned given; /* the parameters given */
	char *vals[AQ_N];
	/* After a refusal: the parameter at fault (static text, or a copy
	 * of a name the client gave, cut and escaped: see err). */
	char err_param[AQ_MAX_VALUE + 1];
};

/*
 * Parse query (the part after '?', percent-encoded; NULL or "" for none)
 * into q, taking only the parameters in allowed. 0, or -1 with a message
 * in err that starts with the parameter's name, which err_param holds too.
 * q needs api_query_clear() either way.
 */
int api_query_parse(const char *query, unsigned allowed, struct api_query *q,
		    char *err, size_t errlen);

/*
 * Set one parameter by name from its decoded value (the export command's
 * options come this way): the same checks. 0, or -1 as above.
 */
int api_query_set(struct api_query *q, unsigned allowed, const char *name,
		  const char *value, char *err, size_t errlen);

/* Check what was set as a whole (since before until); 0 or -1 as above. */
int api_query_finish(struct api_query *q, char *err, size_t errlen);

void api_query_init(struct api_query *q);
void api_query_clear(struct api_query *q);

/* The names of the parameters in set, comma-separated, into buf. */
void api_query_names(unsigned set, char *buf, size_t len);

/* "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ", "YYYY-MM-DD HH:MM:SS" or unix
 * seconds; 0 or -1. */
int api_parse_time(const char *s, int64_t *out);

#endif
