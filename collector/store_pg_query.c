/*
 * store_pg_query.c - the read side of the PostgreSQL store (store.h):
 * targets, timelines, events, measurements, export and domain roll-ups,
 * with the answers store_query.c gives from SQLite (same rows, same
 * order: text compares byte by byte, COLLATE "C").
 *
 * Each query is built for the filters given and bound, never pasted. It
 * runs as a cursor fetched a page at a time, in a read-only transaction
 * of its own (repeatable read: an export sees one snapshot), so that a
 * result is never whole in memory and a callback may read the store
 * meanwhile (a cursor of its own, nested in the same transaction).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_pg_int.h"
#include "verdict.h"

/* Rows fetched per round trip. */
#define FETCH_ROWS 256
#define QB_MAX_BINDS 32
#define DAY ((int64_t)86400)

/* The class names, in the order of the class numbers of CLASS_SQL
 * (store_pg_schema.c). */
#define N_CLASSES 9

struct qb {
	char *sql;
	size_t len, cap;
	struct pg_params pp;
	char d0[32], d1[32]; /* days bound by a timeline: they live here */
};

static void
qb_add(struct qb *q, const char *frag)
{
	size_t n = strlen(frag);

	if (q->len + n + 1 > q->cap) {
		q->cap = 2 * (q->len + n + 1);
		q->sql = xrealloc(q->sql, q->cap);
	}
	memcpy(q->sql + q->len, frag, n + 1);
	q->len += n;
}

/* frag holds one '?', the parameter's place ($n), and may hold one %s,
 * the table's alias. */
static void
qb_frag(struct qb *q, const char *frag, const char *alias)
{
	char num[16];

	for (const char *c = frag; *c; c++) {
		char one[2] = {*c, '\0'};

		if (*c == '?') {
			snprintf(num, sizeof(num), "$%d", q->pp.n);
			qb_add(q, num);
		} else if (c[0] == '%' && c[1] == 's') {
			qb_add(q, alias);
			c++;
		} else {
			qb_add(q, one);
		}
	}
}

static void
qb_text(struct qb *q, const char *frag, const char *alias, const char *v)
{
	pp_text(&q->pp, v);
	qb_frag(q, frag, alias);
}

static void
qb_int(struct qb *q, const char *frag, const char *alias, int64_t v)
{
	pp_int(&q->pp, v);
	qb_frag(q, frag, alias);
}

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

typedef int (*row_fn)(struct store_pg *p, const PGresult *r, int row, void *ctx,
		      int *stop, char *err, size_t errlen);

/* Run q as a cursor (binary: every column in binary), fn for each row
 * until the end or until fn stops; 0, or -1 with a message. */
static int
each_row(struct store_pg *p, struct qb *q, bool binary, row_fn fn, void *ctx,
	 char *err, size_t errlen)
{
	bool own = PQtransactionStatus(p->conn) == PQTRANS_IDLE;
	char name[32], sql[96], *decl;
	int stop = 0, ret = -1;
	PGresult *r;

	snprintf(name, sizeof(name), "ww_cur%lu", ++p->cursors);
	if (own && store_pg_ready(p, err, errlen) != 0)
		goto out;
	if (own && pg_exec(p, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
			   "starting a query", err, errlen) != 0)
		goto out;
	decl = xasprintf("DECLARE %s NO SCROLL CURSOR FOR %s", name, q->sql);
	r = pg_query(p, decl, &q->pp, false, PGRES_COMMAND_OK,
		     "preparing a query", err, errlen);
	free(decl);
	if (r == NULL)
		goto out;
	PQclear(r);
	snprintf(sql, sizeof(sql), "FETCH %d FROM %s", FETCH_ROWS, name);
	for (;;) {
		int n;

		/* binary: the format of the FETCH's result, which is
		 * what counts in the extended protocol */
		r = pg_query(p, sql, NULL, binary, PGRES_TUPLES_OK, "reading",
			     err, errlen);
		if (r == NULL)
			goto out;
		n = PQntuples(r);
		for (int i = 0; i < n && !stop; i++)
			if (fn(p, r, i, ctx, &stop, err, errlen) != 0) {
				PQclear(r);
				goto out;
			}
		PQclear(r);
		if (stop || n < FETCH_ROWS)
			break;
	}
	snprintf(sql, sizeof(sql), "CLOSE %s", name);
	if (pg_exec(p, sql, "closing a query", err, errlen) != 0 ||
	    (own && pg_exec(p, "COMMIT", "ending a query", err, errlen) != 0))
		goto out;
	ret = 0;
out:
	if (ret != 0 && own)
		pg_rollback(p);
	free(q->sql);
	q->sql = NULL;
	return ret;
}

/* --- targets ------------------------------------------------------------- */

struct targets_ctx {
	int (*cb)(const struct store_target *t, void *arg);
	void *arg;
	char d90[32], d30[32], dnow[32];
};

static int
pct_blocked(struct store_pg *p, const struct targets_ctx *c,
	    struct store_target *t, char *err, size_t errlen)
{
	struct pg_params pp = {0};
	int64_t b30 = 0, b90 = 0;
	PGresult *r;

	pp_key(&pp, t->input, t->cc, t->asn);
	pp_text(&pp, c->d90);
	pp_text(&pp, c->dnow);
	r = pg_run(p, PS_PCT, &pp, PGRES_TUPLES_OK, "reading daily counts", err,
		   errlen);
	if (r == NULL)
		return -1;
	t->n_30 = t->n_90 = 0;
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t b = pg_int(r, i, 1), n = pg_int(r, i, 2);

		b90 += b;
		t->n_90 += n;
		if (strcmp(PQgetvalue(r, i, 0), c->d30) >= 0) {
			b30 += b;
			t->n_30 += n;
		}
	}
	PQclear(r);
	t->pct_blocked_30 =
		t->n_30 > 0 ? 100.0 * (double)b30 / (double)t->n_30 : -1;
	t->pct_blocked_90 =
		t->n_90 > 0 ? 100.0 * (double)b90 / (double)t->n_90 : -1;
	return 0;
}

static int
target_row(struct store_pg *p, const PGresult *r, int i, void *ctx, int *stop,
	   char *err, size_t errlen)
{
	const struct targets_ctx *c = ctx;
	struct store_target t;

	memset(&t, 0, sizeof(t));
	t.id = pg_int(r, i, 0);
	t.input = pg_text(r, i, 1);
	t.category_code = pg_text(r, i, 2);
	t.cc = pg_text(r, i, 3);
	t.asn = pg_text(r, i, 4);
	t.state = pg_text(r, i, 5);
	t.method = pg_text(r, i, 6);
	t.since = pg_int(r, i, 7);
	t.last_tested = pg_int(r, i, 8);
	t.host = pg_text(r, i, 9);
	t.n_conclusive = pg_int(r, i, 10);
	if (pct_blocked(p, c, &t, err, errlen) != 0)
		return -1;
	*stop = c->cb(&t, c->arg);
	return 0;
}

static int64_t
resolve_now(struct store_pg *p, int64_t now)
{
	char err[256];
	PGresult *r;

	if (now > 0)
		return now;
	if (now < 0) {
		r = pg_run(p, PS_NEWEST, NULL, PGRES_TUPLES_OK, "reading", err,
			   sizeof(err));
		if (r != NULL && !PQgetisnull(r, 0, 0))
			now = pg_int(r, 0, 0);
		PQclear(r);
		if (now > 0)
			return now;
	}
	return (int64_t)time(NULL);
}

int
store_pg_targets(struct store *s, const struct store_filter *fin, int64_t now,
		 int (*cb)(const struct store_target *t, void *arg), void *arg,
		 char *err, size_t errlen)
{
	struct store_pg *p = pg_of(s);
	struct targets_ctx c = {cb, arg, "", "", ""};
	struct store_filter f;
	struct qb q;

	if (cb == NULL || store_norm_filter(fin, &f, err, errlen) != 0) {
		if (cb == NULL)
			ww_set_err(err, errlen, "no callback given");
		return -1;
	}
	now = resolve_now(p, now);
	pg_day_of(now, c.dnow);
	pg_day_of(now - 29 * DAY, c.d30);
	pg_day_of(now - 89 * DAY, c.d90);
	memset(&q, 0, sizeof(q));
	qb_add(&q, "SELECT t.id, t.input, t.category_code, t.probe_cc,"
		   " t.probe_asn, t.state, t.method, t.since, t.last_tested,"
		   " t.host, t.n_conclusive FROM target_state t WHERE true");
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
	return each_row(p, &q, false, target_row, &c, err, errlen);
}

/* --- timelines ----------------------------------------------------------- */

struct bucket_ctx {
	int (*cb)(const struct store_bucket *b, void *arg);
	void *arg;
};

static int
bucket_row(struct store_pg *p, const PGresult *r, int i, void *ctx, int *stop,
	   char *err, size_t errlen)
{
	const struct bucket_ctx *c = ctx;
	struct store_bucket b;
	int64_t *n[N_CLASSES] = {&b.ok,		 &b.dns,	  &b.tcp_ip,
				 &b.tls,	 &b.http_failure, &b.http_diff,
				 &b.server_side, &b.down,	  &b.failed};

	(void)p;
	(void)err;
	(void)errlen;
	b.input = pg_text(r, i, 0);
	b.cc = pg_text(r, i, 1);
	b.asn = pg_text(r, i, 2);
	b.start = pg_int(r, i, 3);
	for (int k = 0; k < N_CLASSES; k++)
		*n[k] = pg_int(r, i, 4 + k);
	*stop = c->cb(&b, c->arg);
	return 0;
}

static int64_t
bucket_floor(int64_t t, int64_t g)
{
	return t - ((t % g) + g) % g;
}

/* The class counts of the hourly buckets, by class number (CLASS_SQL
 * of store_pg_schema.c: verdict.h's). */
static const char hour_counts[] =
	"count(*) FILTER (WHERE c = 0), count(*) FILTER (WHERE c = 1),"
	" count(*) FILTER (WHERE c = 2), count(*) FILTER (WHERE c = 3),"
	" count(*) FILTER (WHERE c = 4), count(*) FILTER (WHERE c = 5),"
	" count(*) FILTER (WHERE c = 6), count(*) FILTER (WHERE c = 7),"
	" count(*) FILTER (WHERE c = 8)";

static void
timeline_days(struct qb *q, const struct store_filter *f)
{
	pg_day_of(f->since, q->d0);
	pg_day_of(f->until - 1, q->d1);
	qb_add(q, "SELECT d.input, d.probe_cc, d.probe_asn,"
		  " (d.day - DATE '1970-01-01')::bigint * 86400, d.n_ok,"
		  " d.n_dns, d.n_tcp_ip, d.n_tls, d.n_http_failure,"
		  " d.n_http_diff, d.n_server_side, d.n_down, d.n_failed FROM"
		  " daily_counts d WHERE true");
	where_key(q, "d", f);
	where_target(q, "d", f->category, f->state);
	if (f->since != 0)
		qb_text(q, " AND %s.day >= ?::date", "d", q->d0);
	if (f->until != 0) {
		if (f->until <= STORE_MIN_TIME)
			qb_add(q, " AND false");
		else
			qb_text(q, " AND %s.day <= ?::date", "d", q->d1);
	}
	qb_add(q, " ORDER BY d.input, d.probe_cc, d.probe_asn, d.day");
}

static void
timeline_hours(struct store_pg *p, struct qb *q, const struct store_filter *f)
{
	char cls[512];

	/* the classes' SQL from verdict.h (one definition), over the one
	 * table of the subquery */
	if (ww_classify_sql(cls, sizeof(cls)) == 0)
		abort(); /* a bug: 512 bytes hold it */
	qb_add(q, "SELECT input, probe_cc, probe_asn, b, ");
	qb_add(q, hour_counts);
	qb_add(q,
	       " FROM (SELECT m.input, m.probe_cc, m.probe_asn,"
	       " m.start_time - ((m.start_time % 3600) + 3600) % 3600 AS b, ");
	qb_add(q, cls);
	qb_add(q, " AS c FROM measurements m WHERE m.input IS NOT NULL AND"
		  " m.revoked = 0");
	/* as in the daily counts (docs/timelines.md, section 9) */
	if (!p->ag.allow_geo_mismatch)
		qb_add(q, " AND m.geo_mismatch = 0");
	where_key(q, "m", f);
	where_target(q, "m", f->category, f->state);
	if (f->since != 0)
		qb_int(q, " AND %s.start_time >= ?", "m",
		       bucket_floor(f->since, 3600));
	if (f->until != 0)
		qb_int(q, " AND %s.start_time < ?", "m",
		       bucket_floor(f->until - 1, 3600) + 3600);
	qb_add(q, ") x GROUP BY input, probe_cc, probe_asn, b"
		  " ORDER BY input, probe_cc, probe_asn, b");
}

int
store_pg_timeline(struct store *s, const struct store_filter *fin,
		  int granularity,
		  int (*cb)(const struct store_bucket *b, void *arg), void *arg,
		  char *err, size_t errlen)
{
	struct store_pg *p = pg_of(s);
	struct bucket_ctx c = {cb, arg};
	struct store_filter f;
	struct qb q;

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
	if (f.since != 0)
		f.since = f.since < STORE_MIN_TIME   ? STORE_MIN_TIME
			  : f.since > STORE_MAX_TIME ? STORE_MAX_TIME + 1
						     : f.since;
	if (f.until != 0)
		f.until = f.until <= STORE_MIN_TIME  ? STORE_MIN_TIME
			  : f.until > STORE_MAX_TIME ? STORE_MAX_TIME + 1
						     : f.until;
	memset(&q, 0, sizeof(q));
	if (granularity == 86400)
		timeline_days(&q, &f);
	else
		timeline_hours(p, &q, &f);
	return each_row(p, &q, false, bucket_row, &c, err, errlen);
}

/* --- events -------------------------------------------------------------- */

struct event_ctx {
	int (*cb)(const struct store_event *e, void *arg);
	void *arg;
};

static int
event_row(struct store_pg *p, const PGresult *r, int i, void *ctx, int *stop,
	  char *err, size_t errlen)
{
	const struct event_ctx *c = ctx;
	struct store_event e;

	(void)p;
	(void)err;
	(void)errlen;
	e.id = pg_int(r, i, 0);
	e.time = pg_int(r, i, 1);
	e.input = pg_text(r, i, 2);
	e.cc = pg_text(r, i, 3);
	e.asn = pg_text(r, i, 4);
	e.from_state = pg_text(r, i, 5);
	e.to_state = pg_text(r, i, 6);
	e.method = pg_text(r, i, 7);
	e.uids_json = pg_text(r, i, 8);
	*stop = c->cb(&e, c->arg);
	return 0;
}

int
store_pg_events(struct store *s, const struct store_filter *fin,
		int (*cb)(const struct store_event *e, void *arg), void *arg,
		char *err, size_t errlen)
{
	struct event_ctx c = {cb, arg};
	struct store_filter f;
	struct qb q;

	if (cb == NULL) {
		ww_set_err(err, errlen, "no callback given");
		return -1;
	}
	if (store_norm_filter(fin, &f, err, errlen) != 0)
		return -1;
	memset(&q, 0, sizeof(q));
	qb_add(&q, "SELECT e.id, e.time, e.input, e.probe_cc, e.probe_asn,"
		   " e.from_state, e.to_state, e.method, e.uids FROM events e"
		   " WHERE true");
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
	return each_row(pg_of(s), &q, false, event_row, &c, err, errlen);
}

/* --- measurements and export --------------------------------------------- */

#define ROW_COLS                                                               \
	"m.id, m.uid, m.input, m.test_name, m.category_code, m.probe_cc,"      \
	" m.probe_asn, m.observed_cc, m.observed_asn, m.geo_mismatch,"         \
	" m.start_time, m.received_time, m.blocking, m.accessible,"            \
	" m.blocking_detail, m.confirmed, m.analysis_version,"                 \
	" m.analysis_reason, m.evidence, m.evidence_detail, m.packets,"        \
	" m.submitter"
#define ROW_NCOLS 22

static void
row_of(const PGresult *r, int i, struct store_row *w)
{
	w->id = pg_int(r, i, 0);
	w->uid = pg_text(r, i, 1);
	w->input = pg_text(r, i, 2);
	w->test_name = pg_text(r, i, 3);
	w->category_code = pg_text(r, i, 4);
	w->probe_cc = pg_text(r, i, 5);
	w->probe_asn = pg_text(r, i, 6);
	w->observed_cc = pg_text(r, i, 7);
	w->observed_asn = pg_text(r, i, 8);
	w->geo_mismatch = pg_int(r, i, 9) != 0;
	w->start_time = pg_int(r, i, 10);
	w->received_time = pg_int(r, i, 11);
	w->blocking = pg_text(r, i, 12);
	w->accessible = PQgetisnull(r, i, 13) ? -1 : (int)pg_int(r, i, 13);
	w->blocking_detail = pg_text(r, i, 14);
	w->confirmed = pg_int(r, i, 15) != 0;
	w->analysis_version = pg_text(r, i, 16);
	w->analysis_reason = pg_text(r, i, 17);
	w->evidence = pg_text(r, i, 18);
	w->evidence_detail = pg_text(r, i, 19);
	w->packets = (int)pg_int(r, i, 20);
	w->submitter = pg_text(r, i, 21);
}

static void
where_meas(struct qb *q, const struct store_filter *f)
{
	qb_add(q, " WHERE true");
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
	char *buf;
	size_t cap;
};

static int
meas_row(struct store_pg *p, const PGresult *r, int i, void *ctx, int *stop,
	 char *err, size_t errlen)
{
	struct row_ctx *c = ctx;
	struct store_row w;
	size_t len;

	row_of(r, i, &w);
	if (c->xcb == NULL) {
		*stop = c->cb(&w, c->arg);
		return 0;
	}
	if (store_pg_unpack(p, r, i, ROW_NCOLS, w.uid != NULL ? w.uid : "?",
			    &c->buf, &c->cap, &len, err, errlen) != 0)
		return -1;
	*stop = c->xcb(&w, c->buf, len, c->arg);
	return 0;
}

int
store_pg_measurements(struct store *s, const struct store_filter *fin,
		      int (*cb)(const struct store_row *r, void *arg),
		      void *arg, char *err, size_t errlen)
{
	struct row_ctx c = {cb, NULL, arg, NULL, 0};
	struct store_filter f;
	struct qb q;

	if (cb == NULL) {
		ww_set_err(err, errlen, "no callback given");
		return -1;
	}
	if (store_norm_filter(fin, &f, err, errlen) != 0)
		return -1;
	memset(&q, 0, sizeof(q));
	qb_add(&q, "SELECT " ROW_COLS " FROM measurements m");
	where_meas(&q, &f);
	qb_int(&q, " ORDER BY m.id LIMIT ?", "", f.limit);
	return each_row(pg_of(s), &q, false, meas_row, &c, err, errlen);
}

int
store_pg_export(struct store *s, const struct store_filter *fin,
		int (*cb)(const struct store_row *r, const char *raw,
			  size_t raw_len, void *arg),
		void *arg, char *err, size_t errlen)
{
	struct row_ctx c = {NULL, cb, arg, NULL, 0};
	struct store_filter f;
	struct qb q;
	int ret;

	if (cb == NULL) {
		ww_set_err(err, errlen, "no callback given");
		return -1;
	}
	if (store_norm_filter(fin, &f, err, errlen) != 0)
		return -1;
	memset(&q, 0, sizeof(q));
	qb_add(&q, "SELECT " ROW_COLS ", m.raw, m.raw_len FROM measurements m");
	where_meas(&q, &f);
	qb_add(&q, " ORDER BY m.start_time, m.id");
	ret = each_row(pg_of(s), &q, true, meas_row, &c, err, errlen);
	free(c.buf);
	return ret;
}

/* --- domain roll-ups ----------------------------------------------------- */

struct rollup_ctx {
	int (*cb)(const struct store_rollup *r, void *arg);
	void *arg;
};

static int
rollup_row(struct store_pg *p, const PGresult *r, int i, void *ctx, int *stop,
	   char *err, size_t errlen)
{
	const struct rollup_ctx *c = ctx;
	struct store_rollup u;

	(void)p;
	(void)err;
	(void)errlen;
	u.cc = pg_text(r, i, 0);
	u.asn = pg_text(r, i, 1);
	u.blocked = pg_int(r, i, 2);
	u.disrupted = pg_int(r, i, 3);
	u.accessible = pg_int(r, i, 4);
	u.down = pg_int(r, i, 5);
	u.unknown = pg_int(r, i, 6);
	u.total = pg_int(r, i, 7);
	*stop = c->cb(&u, c->arg);
	return 0;
}

int
store_pg_domain_rollup(struct store *s, const char *domain,
		       int (*cb)(const struct store_rollup *r, void *arg),
		       void *arg, char *err, size_t errlen)
{
	struct rollup_ctx c = {cb, arg};
	struct qb q;
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
	for (char *c2 = d; *c2; c2++)
		if (*c2 >= 'A' && *c2 <= 'Z')
			*c2 = (char)(*c2 - 'A' + 'a');
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
	qb_add(&q, "SELECT probe_cc, probe_asn,"
		   " count(*) FILTER (WHERE state = 'blocked'),"
		   " count(*) FILTER (WHERE state = 'disrupted'),"
		   " count(*) FILTER (WHERE state = 'accessible'),"
		   " count(*) FILTER (WHERE state = 'down'),"
		   " count(*) FILTER (WHERE state = 'unknown'), count(*)"
		   " FROM target_state WHERE");
	qb_text(&q, " (rhost = ?", "", rd);
	qb_text(&q, " OR (rhost >= ?", "", lo);
	qb_text(&q, " AND rhost < ?))", "", hi);
	qb_add(&q,
	       " GROUP BY probe_cc, probe_asn ORDER BY probe_cc, probe_asn");
	ret = each_row(pg_of(s), &q, false, rollup_row, &c, err, errlen);
	free(d);
	free(rd);
	free(lo);
	free(hi);
	return ret;
}
