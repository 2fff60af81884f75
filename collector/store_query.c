/*
 * store_query.c - the read side of the SQLite store (store.h): the
 * targets, timelines, events, measurements, export and domain roll-ups,
 * each query built for the filters given. Reads only; store_sqlite.c
 * opens the database, writes and reanalyses.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store.h"
#include "store_sqlite_int.h"
#include "util.h"
#include "verdict.h"

/* --- queries ------------------------------------------------------------- */

/*
 * Each query is built for the filters given, so that SQLite sees plain
 * equalities and ranges it can use indexes for, and bound, never pasted:
 * no value of a filter ever becomes SQL.
 */

#define QB_MAX_BINDS 32

struct qb {
	struct sbuf sql;
	int n;
	struct {
		bool text;
		const char *t;
		sqlite3_int64 i;
	} b[QB_MAX_BINDS];
};

static void
qb_add(struct qb *q, const char *frag)
{
	sb_add(&q->sql, frag, strlen(frag));
}

/* frag holds one '?' (and may hold one %s, for the table's alias). */
static void
qb_bind(struct qb *q, const char *frag, const char *alias, bool text,
	const char *t, sqlite3_int64 i)
{
	const char *at = strstr(frag, "%s");

	if (at != NULL) {
		sb_add(&q->sql, frag, (size_t)(at - frag));
		qb_add(q, alias);
		qb_add(q, at + 2);
	} else {
		qb_add(q, frag);
	}
	if (q->n == QB_MAX_BINDS)
		abort(); /* a bug: the queries below bind fewer */
	q->b[q->n].text = text;
	q->b[q->n].t = t;
	q->b[q->n].i = i;
	q->n++;
}

static void
qb_text(struct qb *q, const char *frag, const char *alias, const char *v)
{
	qb_bind(q, frag, alias, true, v, 0);
}

static void
qb_int(struct qb *q, const char *frag, const char *alias, int64_t v)
{
	qb_bind(q, frag, alias, false, NULL, v);
}

static int
qb_prepare(struct sqlite_store *s, struct qb *q, sqlite3_stmt **st, char *err,
	   size_t errlen)
{
	int rc = sqlite3_prepare_v2(s->db, q->sql.p, -1, st, NULL);

	for (int i = 0; rc == SQLITE_OK && i < q->n; i++)
		rc = q->b[i].text ? bind_text(*st, i + 1, q->b[i].t)
				  : sqlite3_bind_int64(*st, i + 1, q->b[i].i);
	free(q->sql.p);
	q->sql.p = NULL;
	if (rc != SQLITE_OK) {
		db_fail(s, "preparing a query", err, errlen);
		sqlite3_finalize(*st);
		*st = NULL;
		return -1;
	}
	return 0;
}

/* input, cc, asn on a table with those columns (alias a). */
static void
where_key(struct qb *q, const char *a, const struct store_filter *f)
{
	if (f->input != NULL)
		qb_text(q, " AND %s.input = ?", a, f->input);
	if (f->cc != NULL)
		qb_text(q, " AND %s.probe_cc = ?", a, f->cc);
	if (f->asn != NULL)
		qb_text(q, " AND %s.probe_asn = ?", a, f->asn);
}

/* category and state of the target of a row of alias a. */
static void
where_target(struct qb *q, const char *a, const char *category,
	     const char *state)
{
	char buf[256];

	if (category == NULL && state == NULL)
		return;
	snprintf(buf, sizeof(buf),
		 " AND EXISTS (SELECT 1 FROM target_state t WHERE"
		 " t.input = %s.input AND t.probe_cc = %s.probe_cc AND"
		 " t.probe_asn = %s.probe_asn",
		 a, a, a);
	qb_add(q, buf);
	if (category != NULL)
		qb_text(q, " AND t.category_code = ?", "", category);
	if (state != NULL)
		qb_text(q, " AND t.state = ?", "", state);
	qb_add(q, ")");
}

/* Step st to its end, cb(row) each time; 0 at the end or when cb stops. */
static int
each_row(struct sqlite_store *s, sqlite3_stmt *st,
	 int (*fn)(struct sqlite_store *s, sqlite3_stmt *st, void *ctx,
		   int *stop, char *err, size_t errlen),
	 void *ctx, char *err, size_t errlen)
{
	int rc, stop = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (fn(s, st, ctx, &stop, err, errlen) != 0) {
			sqlite3_finalize(st);
			return -1;
		}
		if (stop)
			break;
	}
	if (!stop && rc != SQLITE_DONE) {
		db_fail(s, "reading", err, errlen);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* "YYYY-MM-DD" of a time, clamped to the years 1 to 9999. */
static void
day_of(int64_t t, char out[32])
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

/* --- queries: targets ---------------------------------------------------- */

struct targets_ctx {
	int (*cb)(const struct store_target *t, void *arg);
	void *arg;
	char d90[32], d30[32], dnow[32];
};

/* % blocked over the 30 and 90 days, from the daily counts. */
static int
pct_blocked(struct sqlite_store *s, const struct targets_ctx *c,
	    struct store_target *t, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_PCT];
	int64_t b30 = 0, b90 = 0;
	int rc = bind_key(st, t->input, t->cc, t->asn);

	rc |= bind_text(st, 4, c->d90);
	rc |= bind_text(st, 5, c->dnow);
	t->n_30 = t->n_90 = 0;
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *day = col_text(st, 0);
		int64_t b = sqlite3_column_int64(st, 1);
		int64_t n = sqlite3_column_int64(st, 2);

		rc = SQLITE_OK;
		b90 += b;
		t->n_90 += n;
		if (day != NULL && strcmp(day, c->d30) >= 0) {
			b30 += b;
			t->n_30 += n;
		}
	}
	if (rc != SQLITE_DONE)
		db_fail(s, "reading daily counts", err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	t->pct_blocked_30 =
		t->n_30 > 0 ? 100.0 * (double)b30 / (double)t->n_30 : -1;
	t->pct_blocked_90 =
		t->n_90 > 0 ? 100.0 * (double)b90 / (double)t->n_90 : -1;
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
target_row(struct sqlite_store *s, sqlite3_stmt *st, void *ctx, int *stop,
	   char *err, size_t errlen)
{
	const struct targets_ctx *c = ctx;
	struct store_target t;

	memset(&t, 0, sizeof(t));
	t.id = sqlite3_column_int64(st, 0);
	t.input = col_text(st, 1);
	t.category_code = col_text(st, 2);
	t.cc = col_text(st, 3);
	t.asn = col_text(st, 4);
	t.state = col_text(st, 5);
	t.method = col_text(st, 6);
	t.since = sqlite3_column_int64(st, 7);
	t.last_tested = sqlite3_column_int64(st, 8);
	t.host = col_text(st, 9);
	t.n_conclusive = sqlite3_column_int64(st, 10);
	if (pct_blocked(s, c, &t, err, errlen) != 0)
		return -1;
	*stop = c->cb(&t, c->arg);
	return 0;
}

/* `now` as documented in store.h. */
static int64_t
resolve_now(struct sqlite_store *s, int64_t now)
{
	sqlite3_stmt *st = s->st[ST_NEWEST];

	if (now > 0)
		return now;
	if (now < 0 && sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		now = sqlite3_column_int64(st, 0);
	else
		now = (int64_t)time(NULL);
	sqlite3_reset(st);
	return now;
}

int
sqlite_targets(struct store *base, const struct store_filter *fin, int64_t now,
	       int (*cb)(const struct store_target *t, void *arg), void *arg,
	       char *err, size_t errlen)
{
	struct sqlite_store *s = sq(base);
	struct store_filter f;
	struct targets_ctx c = {cb, arg, "", "", ""};
	struct qb q;
	sqlite3_stmt *st;

	if (cb == NULL || store_norm_filter(fin, &f, err, errlen) != 0) {
		if (cb == NULL)
			ww_set_err(err, errlen, "no callback given");
		return -1;
	}
	now = resolve_now(s, now);
	day_of(now, c.dnow);
	day_of(now - 29 * DAY, c.d30);
	day_of(now - 89 * DAY, c.d90);
	memset(&q, 0, sizeof(q));
	qb_add(&q, "SELECT t.id, t.input, t.category_code, t.probe_cc,"
		   " t.probe_asn, t.state, t.method, t.since, t.last_tested,"
		   " t.host, t.n_conclusive FROM target_state t WHERE 1");
	where_key(&q, "t", &f);
	if (f.category != NULL)
		qb_text(&q, " AND %s.category_code = ?", "t", f.category);
	if (f.state != NULL)
		qb_text(&q, " AND %s.state = ?", "t", f.state);
	if (f.since != 0)
		qb_int(&q, " AND %s.last_tested >= ?", "t", f.since);
	if (f.until != 0)
		qb_int(&q, " AND %s.last_tested < ?", "t", f.until);
	if (f.after_id != 0)
		qb_int(&q, " AND %s.id > ?", "t", f.after_id);
	qb_int(&q, " ORDER BY t.id LIMIT ?", "", f.limit);
	if (qb_prepare(s, &q, &st, err, errlen) != 0)
		return -1;
	return each_row(s, st, target_row, &c, err, errlen);
}

/* --- queries: timelines -------------------------------------------------- */

struct bucket_ctx {
	int (*cb)(const struct store_bucket *b, void *arg);
	void *arg;
};

static int
bucket_row(struct sqlite_store *s, sqlite3_stmt *st, void *ctx, int *stop,
	   char *err, size_t errlen)
{
	const struct bucket_ctx *c = ctx;
	struct store_bucket b;
	int64_t *n[WW_CLASS_N] = {&b.ok,	  &b.dns,	   &b.tcp_ip,
				  &b.tls,	  &b.http_failure, &b.http_diff,
				  &b.server_side, &b.down,	   &b.failed};

	(void)s;
	(void)err;
	(void)errlen;
	b.input = col_text(st, 0);
	b.cc = col_text(st, 1);
	b.asn = col_text(st, 2);
	b.start = sqlite3_column_int64(st, 3);
	for (int i = 0; i < WW_CLASS_N; i++)
		*n[i] = sqlite3_column_int64(st, 4 + i);
	*stop = c->cb(&b, c->arg);
	return 0;
}

/* The start of the bucket holding t (floor, also for t < 0). */
static int64_t
bucket_floor(int64_t t, int64_t g)
{
	return t - ((t % g) + g) % g;
}

int
sqlite_timeline(struct store *base, const struct store_filter *fin,
		int granularity,
		int (*cb)(const struct store_bucket *b, void *arg), void *arg,
		char *err, size_t errlen)
{
	struct sqlite_store *s = sq(base);
	struct bucket_ctx c = {cb, arg};
	struct store_filter f;
	struct qb q;
	sqlite3_stmt *st;
	char d0[32], d1[32];

	if (cb == NULL) {
		ww_set_err(err, errlen, "no callback given");
		return -1;
	}
	if (granularity != 86400 && granularity != 3600) {
		ww_set_err(
			err, errlen,
			"granularity %d is neither 86400 (day) nor 3600 (hour)",
			granularity);
		return -1;
	}
	if (store_norm_filter(fin, &f, err, errlen) != 0)
		return -1;
	/* whole buckets overlapping [since, until) */
	if (f.since != 0)
		f.since = f.since < STORE_MIN_TIME   ? STORE_MIN_TIME
			  : f.since > STORE_MAX_TIME ? STORE_MAX_TIME + 1
						     : f.since;
	if (f.until != 0)
		f.until = f.until <= STORE_MIN_TIME  ? STORE_MIN_TIME
			  : f.until > STORE_MAX_TIME ? STORE_MAX_TIME + 1
						     : f.until;
	memset(&q, 0, sizeof(q));
	if (granularity == 86400) {
		day_of(f.since, d0);
		day_of(f.until - 1, d1);
		char col[32];

		qb_add(&q, "SELECT d.input, d.probe_cc, d.probe_asn,"
			   " unixepoch(d.day)");
		for (int i = 0; i < WW_CLASS_N; i++) {
			store_sqlite_count_column(i, col, sizeof(col));
			qb_add(&q, ", d.");
			qb_add(&q, col);
		}
		qb_add(&q, " FROM daily_counts d WHERE 1");
		where_key(&q, "d", &f);
		where_target(&q, "d", f.category, f.state);
		if (f.since != 0)
			qb_text(&q, " AND %s.day >= ?", "d", d0);
		if (f.until != 0) {
			if (f.until <= STORE_MIN_TIME)
				qb_add(&q, " AND 0");
			else
				qb_text(&q, " AND %s.day <= ?", "d", d1);
		}
		qb_add(&q, " ORDER BY d.input, d.probe_cc, d.probe_asn, d.day");
	} else {
		char cls[512];

		qb_add(&q, "SELECT input, probe_cc, probe_asn, b");
		for (int i = 0; i < WW_CLASS_N; i++) {
			snprintf(cls, sizeof(cls), ", sum(c = %d)", i);
			qb_add(&q, cls);
		}
		qb_add(&q, " FROM (SELECT"
			   " m.input, m.probe_cc, m.probe_asn, m.start_time -"
			   " ((m.start_time % 3600) + 3600) % 3600 AS b, ");
		ww_classify_sql(cls, sizeof(cls));
		qb_add(&q, cls);
		qb_add(&q, " AS c FROM measurements m WHERE"
			   " m.input IS NOT NULL AND m.revoked = 0");
		/* as in the daily counts (docs/timelines.md, section 9) */
		if (!s->ag.allow_geo_mismatch)
			qb_add(&q, " AND m.geo_mismatch = 0");
		where_key(&q, "m", &f);
		where_target(&q, "m", f.category, f.state);
		if (f.since != 0)
			qb_int(&q, " AND %s.start_time >= ?", "m",
			       bucket_floor(f.since, 3600));
		if (f.until != 0)
			qb_int(&q, " AND %s.start_time < ?", "m",
			       bucket_floor(f.until - 1, 3600) + 3600);
		qb_add(&q, ") GROUP BY input, probe_cc, probe_asn, b"
			   " ORDER BY input, probe_cc, probe_asn, b");
	}
	if (qb_prepare(s, &q, &st, err, errlen) != 0)
		return -1;
	return each_row(s, st, bucket_row, &c, err, errlen);
}

/* --- queries: events ----------------------------------------------------- */

struct event_ctx {
	int (*cb)(const struct store_event *e, void *arg);
	void *arg;
};

static int
event_row(struct sqlite_store *s, sqlite3_stmt *st, void *ctx, int *stop,
	  char *err, size_t errlen)
{
	const struct event_ctx *c = ctx;
	struct store_event e;

	(void)s;
	(void)err;
	(void)errlen;
	e.id = sqlite3_column_int64(st, 0);
	e.time = sqlite3_column_int64(st, 1);
	e.input = col_text(st, 2);
	e.cc = col_text(st, 3);
	e.asn = col_text(st, 4);
	e.from_state = col_text(st, 5);
	e.to_state = col_text(st, 6);
	e.method = col_text(st, 7);
	e.uids_json = col_text(st, 8);
	*stop = c->cb(&e, c->arg);
	return 0;
}

int
sqlite_events(struct store *base, const struct store_filter *fin,
	      int (*cb)(const struct store_event *e, void *arg), void *arg,
	      char *err, size_t errlen)
{
	struct sqlite_store *s = sq(base);
	struct event_ctx c = {cb, arg};
	struct store_filter f;
	struct qb q;
	sqlite3_stmt *st;

	if (cb == NULL) {
		ww_set_err(err, errlen, "no callback given");
		return -1;
	}
	if (store_norm_filter(fin, &f, err, errlen) != 0)
		return -1;
	memset(&q, 0, sizeof(q));
	qb_add(&q, "SELECT e.id, e.time, e.input, e.probe_cc, e.probe_asn,"
		   " e.from_state, e.to_state, e.method, e.uids FROM events e"
		   " WHERE 1");
	where_key(&q, "e", &f);
	where_target(&q, "e", f.category, NULL);
	if (f.state != NULL)
		qb_text(&q, " AND %s.to_state = ?", "e", f.state);
	if (f.since != 0)
		qb_int(&q, " AND %s.time >= ?", "e", f.since);
	if (f.until != 0)
		qb_int(&q, " AND %s.time < ?", "e", f.until);
	if (f.after_id != 0)
		qb_int(&q, " AND %s.id > ?", "e", f.after_id);
	qb_int(&q, " ORDER BY e.id LIMIT ?", "", f.limit);
	if (qb_prepare(s, &q, &st, err, errlen) != 0)
		return -1;
	return each_row(s, st, event_row, &c, err, errlen);
}

/* --- queries: measurements and export ------------------------------------ */

#define ROW_COLS                                                               \
	"m.id, m.uid, m.input, m.test_name, m.category_code, m.probe_cc,"      \
	" m.probe_asn, m.observed_cc, m.observed_asn, m.geo_mismatch,"         \
	" m.start_time, m.received_time, m.blocking, m.accessible,"            \
	" m.blocking_detail, m.confirmed, m.analysis_version,"                 \
	" m.analysis_reason, m.evidence, m.evidence_detail, m.packets,"        \
	" m.submitter"
#define ROW_NCOLS 22

static void
row_of(sqlite3_stmt *st, struct store_row *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->uid = col_text(st, 1);
	r->input = col_text(st, 2);
	r->test_name = col_text(st, 3);
	r->category_code = col_text(st, 4);
	r->probe_cc = col_text(st, 5);
	r->probe_asn = col_text(st, 6);
	r->observed_cc = col_text(st, 7);
	r->observed_asn = col_text(st, 8);
	r->geo_mismatch = sqlite3_column_int(st, 9) != 0;
	r->start_time = sqlite3_column_int64(st, 10);
	r->received_time = sqlite3_column_int64(st, 11);
	r->blocking = col_text(st, 12);
	r->accessible = sqlite3_column_type(st, 13) == SQLITE_NULL
				? -1
				: sqlite3_column_int(st, 13);
	r->blocking_detail = col_text(st, 14);
	r->confirmed = sqlite3_column_int(st, 15) != 0;
	r->analysis_version = col_text(st, 16);
	r->analysis_reason = col_text(st, 17);
	r->evidence = col_text(st, 18);
	r->evidence_detail = col_text(st, 19);
	r->packets = sqlite3_column_int(st, 20);
	r->submitter = col_text(st, 21);
}

/* The filters of a measurement query, after its FROM. */
static void
where_meas(struct qb *q, const struct store_filter *f)
{
	qb_add(q, " WHERE 1");
	where_key(q, "m", f);
	if (f->category != NULL)
		qb_text(q, " AND %s.category_code = ?", "m", f->category);
	where_target(q, "m", NULL, f->state);
	if (f->since != 0)
		qb_int(q, " AND %s.start_time >= ?", "m", f->since);
	if (f->until != 0)
		qb_int(q, " AND %s.start_time < ?", "m", f->until);
	if (f->after_id != 0)
		qb_int(q, " AND %s.id > ?", "m", f->after_id);
}

struct row_ctx {
	int (*cb)(const struct store_row *r, void *arg);
	int (*xcb)(const struct store_row *r, const char *raw, size_t len,
		   void *arg);
	void *arg;
	char *buf; /* export: the raw, decompressed */
	size_t cap;
};

static int
meas_row(struct sqlite_store *s, sqlite3_stmt *st, void *ctx, int *stop,
	 char *err, size_t errlen)
{
	struct row_ctx *c = ctx;
	struct store_row r;
	size_t len;

	row_of(st, &r);
	if (c->xcb == NULL) {
		*stop = c->cb(&r, c->arg);
		return 0;
	}
	if (store_unpack(s, st, ROW_NCOLS, r.uid != NULL ? r.uid : "?", &c->buf,
			 &c->cap, &len, err, errlen) != 0)
		return -1;
	*stop = c->xcb(&r, c->buf, len, c->arg);
	return 0;
}

/*
 * The index a measurement query walks. With an input, the target's rows
 * (measurements_target_time), sorted: a target's history is small next to
 * the table, and SQLite's sorter spills to temporary files beyond its
 * cache. Without: by id (store_measurements), the rows of [since, until)
 * (of a country: measurements_cc_time), sorted; else a country's rows are
 * already in id order in measurements_cc (an index ends with the rowid),
 * and others are scanned by id from after_id. Export walks the index whose
 * equalities the filter fills, with start_time next, so nothing is sorted
 * (rows of the same second come by id).
 */
static const char *
meas_index(const struct store_filter *f, bool by_time)
{
	bool range = f->since != 0 || f->until != 0;

	if (f->input != NULL)
		return " INDEXED BY measurements_target_time";
	if (by_time || range)
		return f->cc != NULL ? " INDEXED BY measurements_cc_time"
				     : " INDEXED BY measurements_time";
	if (f->cc != NULL)
		return " INDEXED BY measurements_cc";
	return " NOT INDEXED";
}

int
sqlite_measurements(struct store *base, const struct store_filter *fin,
		    int (*cb)(const struct store_row *r, void *arg), void *arg,
		    char *err, size_t errlen)
{
	struct sqlite_store *s = sq(base);
	struct row_ctx c = {cb, NULL, arg, NULL, 0};
	struct store_filter f;
	struct qb q;
	sqlite3_stmt *st;

	if (cb == NULL) {
		ww_set_err(err, errlen, "no callback given");
		return -1;
	}
	if (store_norm_filter(fin, &f, err, errlen) != 0)
		return -1;
	memset(&q, 0, sizeof(q));
	qb_add(&q, "SELECT " ROW_COLS " FROM measurements m");
	qb_add(&q, meas_index(&f, false));
	where_meas(&q, &f);
	qb_int(&q, " ORDER BY m.id LIMIT ?", "", f.limit);
	if (qb_prepare(s, &q, &st, err, errlen) != 0)
		return -1;
	return each_row(s, st, meas_row, &c, err, errlen);
}

static void
export_sql(struct qb *q, const struct store_filter *f)
{
	memset(q, 0, sizeof(*q));
	qb_add(q, "SELECT " ROW_COLS ", m.raw, m.raw_len FROM measurements m");
	qb_add(q, meas_index(f, true));
	where_meas(q, f);
	qb_add(q, " ORDER BY m.start_time, m.id");
}

int
sqlite_export(struct store *base, const struct store_filter *fin,
	      int (*cb)(const struct store_row *r, const char *raw,
			size_t raw_len, void *arg),
	      void *arg, char *err, size_t errlen)
{
	struct sqlite_store *s = sq(base);
	struct row_ctx c = {NULL, cb, arg, NULL, 0};
	struct store_filter f;
	struct qb q;
	sqlite3_stmt *st;
	int ret;

	if (cb == NULL) {
		ww_set_err(err, errlen, "no callback given");
		return -1;
	}
	if (store_norm_filter(fin, &f, err, errlen) != 0)
		return -1;
	export_sql(&q, &f);
	if (qb_prepare(s, &q, &st, err, errlen) != 0)
		return -1;
	ret = each_row(s, st, meas_row, &c, err, errlen);
	free(c.buf);
	return ret;
}

/* --- queries: domain roll-ups -------------------------------------------- */

struct rollup_ctx {
	int (*cb)(const struct store_rollup *r, void *arg);
	void *arg;
};

static int
rollup_row(struct sqlite_store *s, sqlite3_stmt *st, void *ctx, int *stop,
	   char *err, size_t errlen)
{
	const struct rollup_ctx *c = ctx;
	struct store_rollup r;

	(void)s;
	(void)err;
	(void)errlen;
	r.cc = col_text(st, 0);
	r.asn = col_text(st, 1);
	r.blocked = sqlite3_column_int64(st, 2);
	r.disrupted = sqlite3_column_int64(st, 3);
	r.accessible = sqlite3_column_int64(st, 4);
	r.down = sqlite3_column_int64(st, 5);
	r.unknown = sqlite3_column_int64(st, 6);
	r.total = sqlite3_column_int64(st, 7);
	*stop = c->cb(&r, c->arg);
	return 0;
}

int
sqlite_domain_rollup(struct store *base, const char *domain,
		     int (*cb)(const struct store_rollup *r, void *arg),
		     void *arg, char *err, size_t errlen)
{
	struct sqlite_store *s = sq(base);
	struct rollup_ctx c = {cb, arg};
	struct qb q;
	sqlite3_stmt *st;
	char *d, *rd, *lo, *hi;
	size_t n;
	int ret;

	if (cb == NULL) {
		ww_set_err(err, errlen, "no callback given");
		return -1;
	}
	if (domain == NULL ||
	    store_check_str("domain", "name", domain, true, err, errlen) != 0) {
		if (domain == NULL)
			ww_set_err(err, errlen, "no domain given");
		return -1;
	}
	d = xstrdup(domain);
	for (char *p = d; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	n = strlen(d);
	if (n > 0 && d[n - 1] == '.')
		d[--n] = '\0';
	if (n == 0) {
		ww_set_err(err, errlen, "domain: name is empty");
		free(d);
		return -1;
	}
	rd = store_reversed(d);
	lo = xasprintf("%s.", rd); /* subdomains: [lo, hi) */
	hi = xasprintf("%s/", rd);
	memset(&q, 0, sizeof(q));
	qb_add(&q, "SELECT probe_cc, probe_asn, sum(state = 'blocked'),"
		   " sum(state = 'disrupted'), sum(state = 'accessible'),"
		   " sum(state = 'down'), sum(state = 'unknown'), count(*)"
		   " FROM target_state WHERE");
	qb_text(&q, " (rhost = ?", "", rd);
	qb_text(&q, " OR (rhost >= ?", "", lo);
	qb_text(&q, " AND rhost < ?))", "", hi);
	qb_add(&q, " GROUP BY probe_cc, probe_asn"
		   " ORDER BY probe_cc, probe_asn");
	ret = qb_prepare(s, &q, &st, err, errlen) != 0
		      ? -1
		      : each_row(s, st, rollup_row, &c, err, errlen);
	free(d);
	free(rd);
	free(lo);
	free(hi);
	return ret;
}
