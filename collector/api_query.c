/*
 * api_query.c - the read API's query strings, checked before any of it
 * reaches the store (api_query.h). Anything the store would refuse is
 * refused here first, as a 400 that names the parameter: the store's own
 * checks are a last line, and their failures are the server's (500).
 */
#include "api_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "util.h"
#include "validate.h"

static const char *const names[AQ_N] = {
	"input",  "cc",	    "asn",    "category", "state",
	"since",  "until",  "after",  "limit",	  "granularity",
	"format", "source", "cursor",
};

static const char *const states[] = {
	STORE_STATE_UNKNOWN,   STORE_STATE_ACCESSIBLE, STORE_STATE_BLOCKED,
	STORE_STATE_DISRUPTED, STORE_STATE_DOWN,
};

void
api_query_init(struct api_query *q)
{
	memset(q, 0, sizeof(*q));
	q->granularity = 86400;
}

void
api_query_clear(struct api_query *q)
{
	for (int i = 0; i < AQ_N; i++)
		free(q->vals[i]);
	api_query_init(q);
}

void
api_query_names(unsigned set, char *buf, size_t len)
{
	size_t o = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (int i = 0; i < AQ_N && o < len; i++)
		if (set & (1u << i))
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
					      o > 0 ? ", " : "", names[i]);
}

/* "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ", "YYYY-MM-DD HH:MM:SS" or unix
 * seconds. */
int
api_parse_time(const char *s, int64_t *out)
{
	char buf[20];
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	if (ww_parse_long(s, 0, 32503680000L, &v) == 0) {
		*out = v;
		return 0;
	}
	if (strlen(s) == 10) {
		snprintf(buf, sizeof(buf), "%s 00:00:00", s);
		return ww_parse_utc(buf, out);
	}
	if (strlen(s) == 20 && s[10] == 'T' && s[19] == 'Z') {
		memcpy(buf, s, 19);
		buf[10] = ' ';
		buf[19] = '\0';
		return ww_parse_utc(buf, out);
	}
	if (strlen(s) != 19)
		return -1;
	return ww_parse_utc(s, out);
}

/* Refuse with "NAME: why", NAME kept in err_param. */
static int
refuse(struct api_query *q, const char *name, char *err, size_t errlen,
       const char *why)
{
	snprintf(q->err_param, sizeof(q->err_param), "%s", name);
	ww_set_err(err, errlen, "%s: %s", name, why);
	return -1;
}

/* No control character (C0, DEL) in s[0..n), and valid UTF-8. */
static bool
clean_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return ww_utf8_valid((const unsigned char *)s, n);
}

static bool
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "AS" and 0..4294967295 without leading zeros, as stored
 * (docs/ingest-validation.md). */
static bool
asn_ok(const char *s)
{
	size_t n;
	unsigned long long v = 0;

	if (strncmp(s, "AS", 2) != 0)
		return false;
	s += 2;
	n = strlen(s);
	if (n == 0 || n > 10 || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	return v <= 4294967295ULL;
}

static bool
category_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > AQ_MAX_CATEGORY)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_upper(s[i]) && !is_digit(s[i]) && s[i] != '_' &&
		    s[i] != '-')
			return false;
	return true;
}

static bool
state_ok(const char *s)
{
	for (size_t i = 0; i < WW_ARRAY_LEN(states); i++)
		if (strcmp(s, states[i]) == 0)
			return true;
	return false;
}

/* Check the value v (n bytes, decoded) of parameter i; on success it
 * is kept in q. */
static int
set_param(struct api_query *q, int i, const char *v, size_t n, char *err,
	  size_t errlen)
{
	const char *name = names[i];
	size_t max = (1u << i) == AQ_INPUT || (1u << i) == AQ_CURSOR
			     ? AQ_MAX_INPUT
			     : AQ_MAX_VALUE;
	long num;

	if (n == 0)
		return refuse(q, name, err, errlen,
			      "empty (leave it out to match any)");
	if (n > max || memchr(v, '\0', n) != NULL) {
		char why[64];

		snprintf(why, sizeof(why), "longer than %zu bytes", max);
		return refuse(q, name, err, errlen,
			      n > max ? why : "holds a NUL byte");
	}
	if (!clean_text(v, n))
		return refuse(q, name, err, errlen,
			      "holds a control character or is not UTF-8");
	switch (1u << i) {
	case AQ_INPUT:
	case AQ_CURSOR:
		break;
	case AQ_CC:
		if (n != 2 || !is_upper(v[0]) || !is_upper(v[1]))
			return refuse(q, name, err, errlen,
				      "want two capital letters (ISO 3166-1 "
				      "alpha-2, e.g. CN; ZZ: unknown)");
		break;
	case AQ_ASN:
		if (!asn_ok(v))
			return refuse(q, name, err, errlen,
				      "want AS and a number 0..4294967295 "
				      "(e.g. AS4134)");
		break;
	case AQ_CATEGORY:
		if (!category_ok(v))
			return refuse(q, name, err, errlen,
				      "want a category code: 1 to 32 capital "
				      "letters, digits, _ or - (e.g. NEWS)");
		break;
	case AQ_STATE:
		if (!state_ok(v))
			return refuse(q, name, err, errlen,
				      "want unknown, accessible, blocked, "
				      "disrupted or down");
		break;
	case AQ_SINCE:
	case AQ_UNTIL:
		if (api_parse_time(v, (1u << i) == AQ_SINCE ? &q->f.since
							    : &q->f.until) != 0)
			return refuse(q, name, err, errlen,
				      "want YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ "
				      "or unix seconds");
		break;
	case AQ_AFTER:
		if (ww_parse_long(v, 0, 9007199254740991L, &num) != 0)
			return refuse(q, name, err, errlen,
				      "want a row id (next_after of the "
				      "previous page)");
		q->f.after_id = num;
		break;
	case AQ_LIMIT:
		if (ww_parse_long(v, 1, STORE_LIMIT_MAX, &num) != 0)
			return refuse(q, name, err, errlen, "want 1 to 1000");
		q->f.limit = (int)num;
		break;
	case AQ_GRANULARITY:
		if (strcmp(v, "day") != 0 && strcmp(v, "hour") != 0)
			return refuse(q, name, err, errlen, "want day or hour");
		q->granularity = strcmp(v, "hour") == 0 ? 3600 : 86400;
		break;
	case AQ_FORMAT:
		if (strcmp(v, "jsonl") != 0 && strcmp(v, "csv") != 0)
			return refuse(q, name, err, errlen,
				      "want jsonl or csv");
		q->csv = strcmp(v, "csv") == 0;
		break;
	case AQ_SOURCE:
		if (strcmp(v, "ooni") != 0 && strcmp(v, "wallwatch") != 0 &&
		    strcmp(v, "all") != 0)
			return refuse(q, name, err, errlen,
				      "want ooni, wallwatch or all");
		break;
	default:
		abort();
	}
	q->vals[i] = xstrndup(v, n);
	q->given |= 1u << i;
	q->f.input = q->vals[0];
	q->f.cc = q->vals[1];
	q->f.asn = q->vals[2];
	q->f.category = q->vals[3];
	q->f.state = q->vals[4];
	q->f.source = q->vals[11];
	q->cursor = q->vals[12];
	return 0;
}

/* The parameter called name (n bytes, decoded), or -1 with a refusal. */
static int
find_param(struct api_query *q, unsigned allowed, const char *name, size_t n,
	   char *err, size_t errlen)
{
	char known[160], why[256];

	if (n == 0)
		return refuse(q, "query", err, errlen,
			      "a parameter without a name");
	if (memchr(name, '\0', n) != NULL)
		return refuse(q, "query", err, errlen,
			      "a parameter name holds a NUL byte");
	for (int i = 0; i < AQ_N; i++)
		if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0 &&
		    (allowed & (1u << i))) {
			if (q->given & (1u << i))
				return refuse(q, names[i], err, errlen,
					      "given twice");
			return i;
		}
	/* The name is the client's: shown cut, escaped (it may hold
	 * anything, a NUL included). */
	{
		char shown[AQ_MAX_VALUE + 1], tmp[AQ_MAX_VALUE + 1];
		size_t k = n < AQ_MAX_VALUE ? n : AQ_MAX_VALUE;

		memcpy(tmp, name, k);
		tmp[k] = '\0';
		ww_log_escape(tmp, shown, sizeof(shown));
		api_query_names(allowed, known, sizeof(known));
		snprintf(why, sizeof(why),
			 "unknown parameter (this endpoint takes: %s)",
			 allowed != 0 ? known : "none");
		return refuse(q, shown, err, errlen, why);
	}
}

int
api_query_set(struct api_query *q, unsigned allowed, const char *name,
	      const char *value, char *err, size_t errlen)
{
	int i = find_param(q, allowed, name, strlen(name), err, errlen);

	if (i < 0)
		return -1;
	return set_param(q, i, value, strlen(value), err, errlen);
}

int
api_query_finish(struct api_query *q, char *err, size_t errlen)
{
	if (q->f.since != 0 && q->f.until != 0 && q->f.until <= q->f.since)
		return refuse(q, "until", err, errlen,
			      "must be later than since");
	return 0;
}

/* One "name=value" pair (n bytes, percent-encoded). */
static int
parse_pair(struct api_query *q, unsigned allowed, const char *p, size_t n,
	   char *err, size_t errlen)
{
	const char *eq = memchr(p, '=', n);
	char *raw, *name = NULL, *val = NULL;
	size_t nlen = 0, vlen = 0;
	int i, ret = -1;

	if (eq == NULL) {
		snprintf(q->err_param, sizeof(q->err_param), "query");
		ww_set_err(err, errlen,
			   "query: a parameter without \"=\" (want "
			   "name=value pairs joined by &)");
		return -1;
	}
	/* Decoded by libevent ('+' is a space in a query); lengths kept, so
	 * that %00 cannot cut a value short unseen. */
	raw = xstrndup(p, (size_t)(eq - p));
	name = evhttp_uridecode(raw, 1, &nlen);
	free(raw);
	raw = xstrndup(eq + 1, n - (size_t)(eq - p) - 1);
	val = evhttp_uridecode(raw, 1, &vlen);
	free(raw);
	if (name == NULL || val == NULL)
		abort(); /* out of memory */
	i = find_param(q, allowed, name, nlen, err, errlen);
	if (i >= 0)
		ret = set_param(q, i, val, vlen, err, errlen);
	free(name);
	free(val);
	return ret;
}

int
api_query_parse(const char *query, unsigned allowed, struct api_query *q,
		char *err, size_t errlen)
{
	const char *p = query;
	size_t len;

	api_query_init(q);
	if (query == NULL || *query == '\0')
		return 0;
	len = strlen(query);
	if (len > AQ_MAX_QUERY) {
		snprintf(q->err_param, sizeof(q->err_param), "query");
		ww_set_err(err, errlen, "query: longer than %d bytes",
			   AQ_MAX_QUERY);
		return -1;
	}
	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&');
		size_t n = amp != NULL ? (size_t)(amp - p) : strlen(p);

		/* An empty pair ("a=1&&b=2", a final '&') says nothing. */
		if (n > 0 && parse_pair(q, allowed, p, n, err, errlen) != 0)
			return -1;
		p = amp != NULL ? amp + 1 : NULL;
	}
	return api_query_finish(q, err, errlen);
}
