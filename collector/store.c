/*
 * store.c - store.h's functions, for every backend: store_open() picks the
 * backend from the path (store_backend.h), every other function is passed
 * to the handle's backend (but the queries: store_read.c); and the checks
 * of what is to be stored, which no backend does differently.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "store_backend.h"
#include "timeline.h"
#include "util.h"
#include "verdict.h"

/* --- validation ---------------------------------------------------------- */

/* A string field: NULL only when not required, at most STORE_MAX_FIELD
 * bytes (looked at no further), not empty when required. ctx says which
 * measurement, for the message. */
int
store_check_str(const char *ctx, const char *name, const char *v, bool required,
		char *err, size_t errlen)
{
	size_t n;

	if (v == NULL) {
		if (!required)
			return 0;
		ww_set_err(err, errlen, "%s: %s is missing", ctx, name);
		return -1;
	}
	n = strnlen(v, STORE_MAX_FIELD + 1);
	if (n > STORE_MAX_FIELD) {
		ww_set_err(err, errlen, "%s: %s is longer than %zu bytes", ctx,
			   name, STORE_MAX_FIELD);
		return -1;
	}
	if (required && n == 0) {
		ww_set_err(err, errlen, "%s: %s is empty", ctx, name);
		return -1;
	}
	return 0;
}

/* The verdict's values are few: anything else would split the timelines'
 * counts into categories nobody reads. */
int
store_check_derived(const char *ctx, const struct store_derived *d, char *err,
		    size_t errlen)
{
	if (store_check_str(ctx, "blocking", d->blocking, false, err, errlen) !=
	    0)
		return -1;
	if (ww_blocking_by_name(d->blocking) < 0) {
		ww_set_err(err, errlen,
			   "%s: blocking \"%.64s\" is not one of %s", ctx,
			   d->blocking, ww_blocking_list());
		return -1;
	}
	if (d->accessible < -1 || d->accessible > 1) {
		ww_set_err(err, errlen, "%s: accessible is %d, not -1, 0 or 1",
			   ctx, d->accessible);
		return -1;
	}
	if (store_check_str(ctx, "blocking_detail", d->blocking_detail, false,
			    err, errlen) != 0 ||
	    store_check_str(ctx, "analysis_version", d->analysis_version, false,
			    err, errlen) != 0 ||
	    store_check_str(ctx, "analysis_reason", d->analysis_reason, false,
			    err, errlen) != 0 ||
	    store_check_str(ctx, "evidence", d->evidence, false, err, errlen) !=
		    0 ||
	    store_check_str(ctx, "evidence_detail", d->evidence_detail, false,
			    err, errlen) != 0)
		return -1;
	if (d->packets < 0) {
		ww_set_err(err, errlen, "%s: packets is %d, below 0", ctx,
			   d->packets);
		return -1;
	}
	return 0;
}

struct store_derived
store_derived_of(const struct store_meas *m)
{
	struct store_derived d = {
		m->blocking,  m->accessible,	   m->blocking_detail,
		m->confirmed, m->analysis_version, m->analysis_reason,
		m->evidence,  m->evidence_detail,  m->packets,
	};

	return d;
}

static int
check_raw(const char *ctx, const struct store_meas *m, char *err, size_t errlen)
{
	if (m->raw == NULL || m->raw_len == 0) {
		ww_set_err(err, errlen, "%s: raw is missing", ctx);
		return -1;
	}
	if (m->raw_len > STORE_MAX_RAW) {
		ww_set_err(err, errlen,
			   "%s: raw is %zu bytes, over the limit of %zu", ctx,
			   m->raw_len, STORE_MAX_RAW);
		return -1;
	}
	if (m->zraw != NULL && m->zraw_len == 0) {
		ww_set_err(err, errlen, "%s: compressed raw is empty", ctx);
		return -1;
	}
	return 0;
}

static int
check_meas(const char *ctx, const struct store_meas *m, char *err,
	   size_t errlen)
{
	const struct {
		const char *name, *v;
		bool required;
	} f[] = {
		{"input", m->input, false},
		{"test_name", m->test_name, false},
		{"software_name", m->software_name, false},
		{"software_version", m->software_version, false},
		{"test_version", m->test_version, false},
		{"category_code", m->category_code, false},
		{"probe_cc", m->probe_cc, true},
		{"probe_asn", m->probe_asn, true},
		{"observed_cc", m->observed_cc, false},
		{"observed_asn", m->observed_asn, false},
		{"submitter", m->submitter, false},
	};
	struct store_derived d = store_derived_of(m);

	if (store_check_str(ctx, "uid", m->uid, true, err, errlen) != 0 ||
	    check_raw(ctx, m, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < WW_ARRAY_LEN(f); i++)
		if (store_check_str(ctx, f[i].name, f[i].v, f[i].required, err,
				    errlen) != 0)
			return -1;
	/* the timelines need its calendar day */
	if (m->start_time < STORE_MIN_TIME || m->start_time > STORE_MAX_TIME) {
		ww_set_err(err, errlen,
			   "%s: start_time %lld is outside the years 1 to 9999",
			   ctx, (long long)m->start_time);
		return -1;
	}
	return store_check_derived(ctx, &d, err, errlen);
}

int
store_meas_check(const struct store_meas *m, char *err, size_t errlen)
{
	return check_meas("measurement", m, err, errlen);
}

/* All of a batch is checked before the transaction starts, so a bad
 * measurement costs no I/O and leaves nothing behind. */
int
store_check_batch(const struct store_meas *v, size_t n, char *err,
		  size_t errlen)
{
	char ctx[64];

	if (n > STORE_MAX_BATCH) {
		ww_set_err(
			err, errlen,
			"a batch of %zu measurements is over the limit of %zu",
			n, STORE_MAX_BATCH);
		return -1;
	}
	if (n > 0 && v == NULL) {
		ww_set_err(err, errlen, "no measurements given");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(ctx, sizeof(ctx), "measurement %zu of the batch",
			 i + 1);
		if (check_meas(ctx, &v[i], err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* --- opening ------------------------------------------------------------- */

bool
store_path_is_pg(const char *path)
{
	return path != NULL && (strncmp(path, "postgresql:", 11) == 0 ||
				strncmp(path, "postgres://", 11) == 0);
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	if (path == NULL || *path == '\0') {
		ww_set_err(err, errlen, "no database path given");
		return NULL;
	}
	if (store_path_is_pg(path))
		return store_pg_open(path, false, err, errlen);
	return store_sqlite_open(path, false, err, errlen);
}

struct store *
store_open_ro(const char *path, char *err, size_t errlen)
{
	if (path == NULL || *path == '\0') {
		ww_set_err(err, errlen, "no database path given");
		return NULL;
	}
	if (store_path_is_pg(path))
		return store_pg_open(path, true, err, errlen);
	return store_sqlite_open(path, true, err, errlen);
}

/* --- the rest, passed to the backend ------------------------------------- */

void
store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

int
store_put_batch(struct store *s, const struct store_meas *v, size_t n,
		enum store_result *res, char *err, size_t errlen)
{
	return s->ops->put_batch(s, v, n, res, err, errlen);
}

int
store_get_raw(struct store *s, const char *uid, char **raw, size_t *len,
	      char *err, size_t errlen)
{
	return s->ops->get_raw(s, uid, raw, len, err, errlen);
}

long
store_reanalyze(struct store *s, store_reanalyze_fn fn, void *arg, char *err,
		size_t errlen)
{
	return s->ops->reanalyze(s, fn, arg, err, errlen);
}

int64_t
store_count(struct store *s)
{
	return s->ops->count(s);
}

void
store_agreement_get(struct store *s, struct store_agreement *a)
{
	s->ops->agreement_get(s, a);
}

int
store_agreement_set(struct store *s, const struct store_agreement *a, char *err,
		    size_t errlen)
{
	return s->ops->agreement_set(s, a, err, errlen);
}

int
store_submitter_add(struct store *s, const char *key_id,
		    const unsigned char public_key[32], int64_t now, char *err,
		    size_t errlen)
{
	return s->ops->submitter_add(s, key_id, public_key, now, err, errlen);
}

int
store_submitters(struct store *s,
		 int (*cb)(const struct store_submitter *k, void *arg),
		 void *arg, char *err, size_t errlen)
{
	return s->ops->submitters(s, cb, arg, err, errlen);
}

int
store_submitter_revoke(struct store *s, const char *key_id, const char *reason,
		       int64_t now, int64_t *n_rows, char *err, size_t errlen)
{
	return s->ops->submitter_revoke(s, key_id, reason, now, n_rows, err,
					errlen);
}

int
store_submitters_guard(struct store *s, char *err, size_t errlen)
{
	return s->ops->submitters_guard(s, err, errlen);
}

int
store_alert_claim(struct store *s, const char *key, const char *who,
		  int64_t now, char *err, size_t errlen)
{
	if (key == NULL || key[0] == '\0' || strlen(key) > 255)
		return ww_fail(err, errlen, "an alert's key: 1 to 255 bytes");
	return s->ops->alert_claim(s, key, who, now, err, errlen);
}

int64_t
store_data_version(struct store *s)
{
	return s->ops->data_version(s);
}

char *
store_reversed(const char *v)
{
	size_t n;
	char *r;

	if (v == NULL)
		return NULL;
	n = strlen(v);
	r = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		r[i] = v[n - 1 - i];
	r[n] = '\0';
	return r;
}

void
store_day_of(int64_t t, char out[32])
{
	time_t tt;
	struct tm tm;

	if (t < STORE_MIN_TIME)
		t = STORE_MIN_TIME;
	if (t > STORE_MAX_TIME)
		t = STORE_MAX_TIME;
	tt = (time_t)t;
	gmtime_r(&tt, &tm);
	snprintf(out, 32, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday);
}

/* A filter with its defaults applied, or -1 naming what is wrong. */
int
store_norm_filter(const struct store_filter *in, struct store_filter *f,
		  char *err, size_t errlen)
{
	static const struct store_filter none;
	const struct {
		const char *name, *v;
	} str[] = {
		{"input", in != NULL ? in->input : NULL},
		{"cc", in != NULL ? in->cc : NULL},
		{"asn", in != NULL ? in->asn : NULL},
		{"category", in != NULL ? in->category : NULL},
		{"state", in != NULL ? in->state : NULL},
	};

	*f = in != NULL ? *in : none;
	for (size_t i = 0; i < WW_ARRAY_LEN(str); i++)
		if (store_check_str("filter", str[i].name, str[i].v, false, err,
				    errlen) != 0)
			return -1;
	if (f->state != NULL && tl_state_by_name(f->state) < 0) {
		ww_set_err(err, errlen,
			   "filter: state \"%.64s\" is not one of unknown, "
			   "accessible, blocked, disrupted, down",
			   f->state);
		return -1;
	}
	/* "all" is no filter: the queries see NULL */
	if (f->source != NULL && strcmp(f->source, "all") == 0)
		f->source = NULL;
	if (f->source != NULL && strcmp(f->source, "ooni") != 0 &&
	    strcmp(f->source, "wallwatch") != 0) {
		ww_set_err(err, errlen,
			   "filter: source \"%.64s\" is not one of ooni, "
			   "wallwatch, all",
			   f->source);
		return -1;
	}
	if (f->limit < 0) {
		ww_set_err(err, errlen, "filter: limit %d is negative",
			   f->limit);
		return -1;
	}
	if (f->limit == 0)
		f->limit = STORE_LIMIT_DEFAULT;
	if (f->limit > STORE_LIMIT_MAX)
		f->limit = STORE_LIMIT_MAX;
	return 0;
}

const char *
store_source_of(const struct store_row *r)
{
	return r->test_name != NULL &&
			       strcmp(r->test_name, STORE_OONI_TEST_NAME) == 0
		       ? "ooni"
		       : "wallwatch";
}
