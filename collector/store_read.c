/*
 * store_read.c - the read side of the store for both backends
 * (store_read.h): store.h's store_targets(), store_timeline(),
 * store_events(), store_measurements(), store_export() and
 * store_domain_rollup(). Each query is built for the filters given, so
 * that the database sees plain equalities and ranges it can use indexes
 * for, and bound, never pasted: no value of a filter ever becomes SQL.
 * Both backends give the same rows in the same order (PostgreSQL compares
 * text byte by byte, COLLATE "C", as SQLite does).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_read.h"
#include "util.h"
#include "verdict.h"

#define DAY ((int64_t)86400)

/* How to read the backend of s (filled into *rd). */
static const struct store_read *
reader_of(struct store *s, struct store_read *rd)
{
	s->ops->reader(s, rd);
	return rd;
}

/* --- building a query ----------------------------------------------------- */

static void
qb_add(struct store_qb *q, const char *frag)
{
	sb_add(&q->sql, frag, strlen(frag));
}

/* frag holds one '?', the parameter's place, and may hold one %s, the
 * table's alias; the parameter was the last bound. */
static void
qb_frag(struct store_qb *q, const char *frag, const char *alias)
{
	char num[16];

	for (const char *c = frag; *c; c++) {
		if (*c == '?' && q->ops->numbered) {
			snprintf(num, sizeof(num), "$%d", q->n);
			qb_add(q, num);
		} else if (c[0] == '%' && c[1] == 's') {
			qb_add(q, alias);
			c++;
		} else {
			sb_add(&q->sql, c, 1);
		}
	}
}

static void
qb_bind(struct store_qb *q, const char *frag, const char *alias, bool text,
	const char *t, int64_t i)
{
	if (q->n == STORE_QB_MAX_BINDS)
		abort(); /* a bug: the queries below bind fewer */
	q->b[q->n].text = text;
	q->b[q->n].t = t;
	q->b[q->n].i = i;
	q->n++;
	qb_frag(q, frag, alias);
}

static void
qb_text(struct store_qb *q, const char *frag, const char *alias, const char *v)
{
	qb_bind(q, frag, alias, true, v, 0);
}

static void
qb_int(struct store_qb *q, const char *frag, const char *alias, int64_t v)
{
	qb_bind(q, frag, alias, false, NULL, v);
}

static void
qb_start(struct store_qb *q, const struct store_read *rd)
{
	memset(q, 0, sizeof(*q));
	q->ops = rd->ops;
}

/* Run q (then freed), fn on each row. */
static int
qb_run(const struct store_read *rd, struct store_qb *q, bool raw,
       store_row_fn fn, void *ctx, char *err, size_t errlen)
{
	int ret = rd->ops->run(rd, q, raw, fn, ctx, err, errlen);

	free(q->sql.p);
	q->sql.p = NULL;
	return ret;
}

/* input, cc, asn on a table with those columns (alias a). */
static void
where_key(struct store_qb *q, const char *a, const struct store_filter *f)
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
where_target(struct store_qb *q, const char *a, const char *category,
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

/*
 * The source (store_filter.source, normalised: NULL, "ooni" or
 * "wallwatch") of the measurement rows of alias a: OONI's are those of
 * OONI's test_name, ours every other (rows stored before schema 9 have
 * no software_name, but all have their test_name). A constant of this
 * file, never a value of the client's.
 */
static void
where_source(struct store_qb *q, const char *a, const char *source)
{
	char buf[160];

	if (source == NULL)
		return;
	if (strcmp(source, "ooni") == 0)
		snprintf(buf, sizeof(buf), " AND %s.test_name = '%s'", a,
			 STORE_OONI_TEST_NAME);
	else
		snprintf(buf, sizeof(buf),
			 " AND (%s.test_name IS NULL OR %s.test_name <> '%s')",
			 a, a, STORE_OONI_TEST_NAME);
	qb_add(q, buf);
}

/* Rows of alias a (with input, probe_cc, probe_asn) whose target has
 * measurements of the source: a target is one (input, network), whatever
 * measured it, so a target, its timeline's state and its events are "of
 * OONI" when OONI measured it (docs/ooni-data.md, "Source"). */
static void
where_target_source(struct store_qb *q, const char *a, const char *source)
{
	char buf[256];

	if (source == NULL)
		return;
	snprintf(buf, sizeof(buf),
		 " AND EXISTS (SELECT 1 FROM measurements s WHERE"
		 " s.input = %s.input AND s.probe_cc = %s.probe_cc AND"
		 " s.probe_asn = %s.probe_asn",
		 a, a, a);
	qb_add(q, buf);
	where_source(q, "s", source);
	qb_add(q, ")");
}

/* -1 with a message when a query was given no callback. */
static int
no_callback(bool none, char *err, size_t errlen)
{
	if (!none)
		return 0;
	ww_set_err(err, errlen, "no callback given");
	return -1;
}

/* The start of a query of s: *rd how to read its backend, *f the filter
 * fin normalised, q empty in the backend's dialect. -1 with a message
 * when the query has no callback (no_cb) or fin is wrong. */
static int
query_start(struct store *s, bool no_cb, const struct store_filter *fin,
	    struct store_read *rd, struct store_filter *f, struct store_qb *q,
	    char *err, size_t errlen)
{
	if (no_callback(no_cb, err, errlen) != 0 ||
	    store_norm_filter(fin, f, err, errlen) != 0)
		return -1;
	reader_of(s, rd);
	qb_start(q, rd);
	return 0;
}

/* --- targets -------------------------------------------------------------- */

struct targets_ctx {
	int (*cb)(const struct store_target *t, void *arg);
	void *arg;
	char d90[32], d30[32], dnow[32];
};

struct pct {
	const char *d30;
	int64_t b30, b90, n30, n90;
};

static void
pct_day(const struct store_cursor *c, void *ctx)
{
	struct pct *p = ctx;
	const char *day = c->text(c, 0);
	int64_t b = c->num(c, 1), n = c->num(c, 2);

	p->b90 += b;
	p->n90 += n;
	if (day != NULL && strcmp(day, p->d30) >= 0) {
		p->b30 += b;
		p->n30 += n;
	}
}

/* % blocked over the 30 and 90 days, from the daily counts. */
static int
pct_blocked(const struct store_read *rd, const struct targets_ctx *c,
	    struct store_target *t, char *err, size_t errlen)
{
	struct pct p = {c->d30, 0, 0, 0, 0};

	if (rd->ops->daily(rd, t, c->d90, c->dnow, pct_day, &p, err, errlen) !=
	    0)
		return -1;
	t->n_30 = p.n30;
	t->n_90 = p.n90;
	t->pct_blocked_30 =
		t->n_30 > 0 ? 100.0 * (double)p.b30 / (double)t->n_30 : -1;
	t->pct_blocked_90 =
		t->n_90 > 0 ? 100.0 * (double)p.b90 / (double)t->n_90 : -1;
	return 0;
}

static int
target_row(const struct store_read *rd, const struct store_cursor *r, void *ctx,
	   int *stop, char *err, size_t errlen)
{
	const struct targets_ctx *c = ctx;
	struct store_target t;

	memset(&t, 0, sizeof(t));
	t.id = r->num(r, 0);
	t.input = r->text(r, 1);
	t.category_code = r->text(r, 2);
	t.cc = r->text(r, 3);
	t.asn = r->text(r, 4);
	t.state = r->text(r, 5);
	t.method = r->text(r, 6);
	t.since = r->num(r, 7);
	t.last_tested = r->num(r, 8);
	t.host = r->text(r, 9);
	t.n_conclusive = r->num(r, 10);
	if (pct_blocked(rd, c, &t, err, errlen) != 0)
		return -1;
	*stop = c->cb(&t, c->arg);
	return 0;
}

/* `now` as documented in store.h. */
static int64_t
resolve_now(const struct store_read *rd, int64_t now)
{
	int64_t newest;

	if (now > 0)
		return now;
	if (now < 0 && rd->ops->newest(rd, &newest) == 1)
		return newest;
	return (int64_t)time(NULL);
}

int
store_targets(struct store *s, const struct store_filter *fin, int64_t now,
	      int (*cb)(const struct store_target *t, void *arg), void *arg,
	      char *err, size_t errlen)
{
	struct targets_ctx c = {cb, arg, "", "", ""};
	struct store_read rd;
	struct store_filter f;
	struct store_qb q;

	if (query_start(s, cb == NULL, fin, &rd, &f, &q, err, errlen) != 0)
		return -1;
	now = resolve_now(&rd, now);
	store_day_of(now, c.dnow);
	store_day_of(now - 29 * DAY, c.d30);
	store_day_of(now - 89 * DAY, c.d90);
	qb_add(&q, "SELECT t.id, t.input, t.category_code, t.probe_cc,"
		   " t.probe_asn, t.state, t.method, t.since, t.last_tested,"
		   " t.host, t.n_conclusive FROM target_state t WHERE true");
	where_key(&q, "t", &f);
	if (f.category != NULL)
		qb_text(&q, " AND %s.category_code = ?", "t", f.category);
	if (f.state != NULL)
		qb_text(&q, " AND %s.state = ?", "t", f.state);
	where_target_source(&q, "t", f.source);
	if (f.since != 0)
		qb_int(&q, " AND %s.last_tested >= ?", "t", f.since);
	if (f.until != 0)
		qb_int(&q, " AND %s.last_tested < ?", "t", f.until);
	if (f.after_id != 0)
		qb_int(&q, " AND %s.id > ?", "t", f.after_id);
	qb_int(&q, " ORDER BY t.id LIMIT ?", "", f.limit);
	return qb_run(&rd, &q, false, target_row, &c, err, errlen);
}

/* --- timelines ------------------------------------------------------------ */

struct bucket_ctx {
	int (*cb)(const struct store_bucket *b, void *arg);
	void *arg;
};

static int
bucket_row(const struct store_read *rd, const struct store_cursor *r, void *ctx,
	   int *stop, char *err, size_t errlen)
{
	const struct bucket_ctx *c = ctx;
	struct store_bucket b;
	int64_t *n[WW_CLASS_N] = {&b.ok,	  &b.dns,	   &b.tcp_ip,
				  &b.tls,	  &b.http_failure, &b.http_diff,
				  &b.server_side, &b.down,	   &b.failed,
				  &b.protocol,	  &b.endpoint};

	(void)rd;
	(void)err;
	(void)errlen;
	b.input = r->text(r, 0);
	b.cc = r->text(r, 1);
	b.asn = r->text(r, 2);
	b.start = r->num(r, 3);
	for (int i = 0; i < WW_CLASS_N; i++)
		*n[i] = r->num(r, 4 + i);
	*stop = c->cb(&b, c->arg);
	return 0;
}

/* The start of the bucket holding t (floor, also for t < 0). */
static int64_t
bucket_floor(int64_t t, int64_t g)
{
	return t - ((t % g) + g) % g;
}

/* The daily counts' column of class i: "n_" and its name, '-' as '_'
 * (the schemas of both backends name them so). */
static void
add_count_column(struct store_qb *q, int i)
{
	qb_add(q, ", d.n_");
	for (const char *c = ww_class_name(i); *c; c++)
		sb_add(&q->sql, *c == '-' ? "_" : c, 1);
}

static void
timeline_days(struct store_qb *q, const struct store_filter *f)
{
	char day[64];

	store_day_of(f->since, q->d0);
	store_day_of(f->until - 1, q->d1);
	qb_add(q, "SELECT d.input, d.probe_cc, d.probe_asn, ");
	qb_add(q, q->ops->day_seconds);
	for (int i = 0; i < WW_CLASS_N; i++)
		add_count_column(q, i);
	qb_add(q, " FROM daily_counts d WHERE true");
	where_key(q, "d", f);
	where_target(q, "d", f->category, f->state);
	if (f->since != 0) {
		snprintf(day, sizeof(day), " AND %%s.day >= ?%s",
			 q->ops->day_cast);
		qb_text(q, day, "d", q->d0);
	}
	if (f->until != 0) {
		snprintf(day, sizeof(day), " AND %%s.day <= ?%s",
			 q->ops->day_cast);
		if (f->until <= STORE_MIN_TIME)
			qb_add(q, " AND false");
		else
			qb_text(q, day, "d", q->d1);
	}
	qb_add(q, " ORDER BY d.input, d.probe_cc, d.probe_asn, d.day");
}

/* Buckets of g seconds counted from the measurements themselves: the
 * hours, and the days of one source (the daily counts do not keep the
 * source; docs/ooni-data.md, "Source"). */
static void
timeline_meas(const struct store_read *rd, struct store_qb *q,
	      const struct store_filter *f, int64_t g)
{
	char cls[512], b[160];

	/* the classes' SQL from verdict.h (one definition), over the one
	 * table of the subquery */
	if (ww_classify_sql(cls, sizeof(cls)) == 0)
		abort(); /* a bug: 512 bytes hold it */
	qb_add(q, "SELECT input, probe_cc, probe_asn, b");
	for (int i = 0; i < WW_CLASS_N; i++) {
		char n[64];

		snprintf(n, sizeof(n), ", count(*) FILTER (WHERE c = %d)", i);
		qb_add(q, n);
	}
	snprintf(b, sizeof(b),
		 " FROM (SELECT m.input, m.probe_cc, m.probe_asn,"
		 " m.start_time - ((m.start_time %% %lld) + %lld) %% %lld"
		 " AS b, ",
		 (long long)g, (long long)g, (long long)g);
	qb_add(q, b);
	qb_add(q, cls);
	qb_add(q, " AS c FROM measurements m WHERE m.input IS NOT NULL AND"
		  " m.revoked = 0");
	/* as in the daily counts (docs/timelines.md, section 9) */
	if (!rd->allow_geo_mismatch)
		qb_add(q, " AND m.geo_mismatch = 0");
	where_key(q, "m", f);
	where_target(q, "m", f->category, f->state);
	where_source(q, "m", f->source);
	if (f->since != 0)
		qb_int(q, " AND %s.start_time >= ?", "m",
		       bucket_floor(f->since, g));
	if (f->until != 0)
		qb_int(q, " AND %s.start_time < ?", "m",
		       bucket_floor(f->until - 1, g) + g);
	qb_add(q, ") x GROUP BY input, probe_cc, probe_asn, b"
		  " ORDER BY input, probe_cc, probe_asn, b");
}

/* t clamped to the times a bucket may start (until: one past them). */
static int64_t
clamp_time(int64_t t, bool until)
{
	if (t == 0)
		return 0;
	if (until ? t <= STORE_MIN_TIME : t < STORE_MIN_TIME)
		return STORE_MIN_TIME;
	return t > STORE_MAX_TIME ? STORE_MAX_TIME + 1 : t;
}

int
store_timeline(struct store *s, const struct store_filter *fin, int granularity,
	       int (*cb)(const struct store_bucket *b, void *arg), void *arg,
	       char *err, size_t errlen)
{
	struct bucket_ctx c = {cb, arg};
	struct store_read rd;
	struct store_filter f;
	struct store_qb q;

	if (cb != NULL && granularity != 86400 && granularity != 3600) {
		ww_set_err(
			err, errlen,
			"granularity %d is neither 86400 (day) nor 3600 (hour)",
			granularity);
		return -1;
	}
	if (query_start(s, cb == NULL, fin, &rd, &f, &q, err, errlen) != 0)
		return -1;
	/* whole buckets overlapping [since, until) */
	f.since = clamp_time(f.since, false);
	f.until = clamp_time(f.until, true);
	if (granularity == 86400 && f.source == NULL)
		timeline_days(&q, &f);
	else
		timeline_meas(&rd, &q, &f, granularity);
	return qb_run(&rd, &q, false, bucket_row, &c, err, errlen);
}

/* --- events --------------------------------------------------------------- */

struct event_ctx {
	int (*cb)(const struct store_event *e, void *arg);
	void *arg;
};

static int
event_row(const struct store_read *rd, const struct store_cursor *r, void *ctx,
	  int *stop, char *err, size_t errlen)
{
	const struct event_ctx *c = ctx;
	struct store_event e;

	(void)rd;
	(void)err;
	(void)errlen;
	e.id = r->num(r, 0);
	e.time = r->num(r, 1);
	e.input = r->text(r, 2);
	e.cc = r->text(r, 3);
	e.asn = r->text(r, 4);
	e.from_state = r->text(r, 5);
	e.to_state = r->text(r, 6);
	e.method = r->text(r, 7);
	e.uids_json = r->text(r, 8);
	*stop = c->cb(&e, c->arg);
	return 0;
}

int
store_events(struct store *s, const struct store_filter *fin,
	     int (*cb)(const struct store_event *e, void *arg), void *arg,
	     char *err, size_t errlen)
{
	struct event_ctx c = {cb, arg};
	struct store_read rd;
	struct store_filter f;
	struct store_qb q;

	if (query_start(s, cb == NULL, fin, &rd, &f, &q, err, errlen) != 0)
		return -1;
	qb_add(&q, "SELECT e.id, e.time, e.input, e.probe_cc, e.probe_asn,"
		   " e.from_state, e.to_state, e.method, e.uids FROM events e"
		   " WHERE true");
	where_key(&q, "e", &f);
	where_target(&q, "e", f.category, NULL);
	where_target_source(&q, "e", f.source);
	if (f.state != NULL)
		qb_text(&q, " AND %s.to_state = ?", "e", f.state);
	if (f.since != 0)
		qb_int(&q, " AND %s.time >= ?", "e", f.since);
	if (f.until != 0)
		qb_int(&q, " AND %s.time < ?", "e", f.until);
	if (f.after_id != 0)
		qb_int(&q, " AND %s.id > ?", "e", f.after_id);
	qb_int(&q, " ORDER BY e.id LIMIT ?", "", f.limit);
	return qb_run(&rd, &q, false, event_row, &c, err, errlen);
}

/* --- measurements and export ---------------------------------------------- */

#define ROW_COLS                                                               \
	"m.id, m.uid, m.input, m.test_name, m.category_code, m.probe_cc,"      \
	" m.probe_asn, m.observed_cc, m.observed_asn, m.geo_mismatch,"         \
	" m.start_time, m.received_time, m.blocking, m.accessible,"            \
	" m.blocking_detail, m.confirmed, m.analysis_version,"                 \
	" m.analysis_reason, m.evidence, m.evidence_detail, m.packets,"        \
	" m.submitter, m.software_name, m.software_version, m.test_version"
#define ROW_NCOLS 25

static void
row_of(const struct store_cursor *c, struct store_row *r)
{
	r->id = c->num(c, 0);
	r->uid = c->text(c, 1);
	r->input = c->text(c, 2);
	r->test_name = c->text(c, 3);
	r->category_code = c->text(c, 4);
	r->probe_cc = c->text(c, 5);
	r->probe_asn = c->text(c, 6);
	r->observed_cc = c->text(c, 7);
	r->observed_asn = c->text(c, 8);
	r->geo_mismatch = c->num(c, 9) != 0;
	r->start_time = c->num(c, 10);
	r->received_time = c->num(c, 11);
	r->blocking = c->text(c, 12);
	r->accessible = c->null(c, 13) ? -1 : (int)c->num(c, 13);
	r->blocking_detail = c->text(c, 14);
	r->confirmed = c->num(c, 15) != 0;
	r->analysis_version = c->text(c, 16);
	r->analysis_reason = c->text(c, 17);
	r->evidence = c->text(c, 18);
	r->evidence_detail = c->text(c, 19);
	r->packets = (int)c->num(c, 20);
	r->submitter = c->text(c, 21);
	r->software_name = c->text(c, 22);
	r->software_version = c->text(c, 23);
	r->test_version = c->text(c, 24);
}

/* The FROM and the filters of a measurement query. */
static void
from_meas(struct store_qb *q, const struct store_filter *f, bool by_time)
{
	qb_add(q, " FROM measurements m");
	qb_add(q, q->ops->meas_index(f, by_time));
	qb_add(q, " WHERE true");
	where_key(q, "m", f);
	if (f->category != NULL)
		qb_text(q, " AND %s.category_code = ?", "m", f->category);
	where_target(q, "m", NULL, f->state);
	where_source(q, "m", f->source);
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
meas_row(const struct store_read *rd, const struct store_cursor *c, void *ctx,
	 int *stop, char *err, size_t errlen)
{
	struct row_ctx *x = ctx;
	struct store_row r;
	size_t len;

	row_of(c, &r);
	if (x->xcb == NULL) {
		*stop = x->cb(&r, x->arg);
		return 0;
	}
	if (rd->ops->unpack(rd, c, ROW_NCOLS, r.uid != NULL ? r.uid : "?",
			    &x->buf, &x->cap, &len, err, errlen) != 0)
		return -1;
	*stop = x->xcb(&r, x->buf, len, x->arg);
	return 0;
}

int
store_measurements(struct store *s, const struct store_filter *fin,
		   int (*cb)(const struct store_row *r, void *arg), void *arg,
		   char *err, size_t errlen)
{
	struct row_ctx c = {cb, NULL, arg, NULL, 0};
	struct store_read rd;
	struct store_filter f;
	struct store_qb q;

	if (query_start(s, cb == NULL, fin, &rd, &f, &q, err, errlen) != 0)
		return -1;
	qb_add(&q, "SELECT " ROW_COLS);
	from_meas(&q, &f, false);
	qb_int(&q, " ORDER BY m.id LIMIT ?", "", f.limit);
	return qb_run(&rd, &q, false, meas_row, &c, err, errlen);
}

void
store_read_export_sql(const struct store_read_ops *ops, struct store_qb *q,
		      const struct store_filter *f)
{
	memset(q, 0, sizeof(*q));
	q->ops = ops;
	qb_add(q, "SELECT " ROW_COLS ", m.raw, m.raw_len");
	from_meas(q, f, true);
	qb_add(q, " ORDER BY m.start_time, m.id");
}

int
store_export(struct store *s, const struct store_filter *fin,
	     int (*cb)(const struct store_row *r, const char *raw,
		       size_t raw_len, void *arg),
	     void *arg, char *err, size_t errlen)
{
	struct row_ctx c = {NULL, cb, arg, NULL, 0};
	struct store_read rd;
	struct store_filter f;
	struct store_qb q;
	int ret;

	if (query_start(s, cb == NULL, fin, &rd, &f, &q, err, errlen) != 0)
		return -1;
	store_read_export_sql(rd.ops, &q, &f);
	ret = qb_run(&rd, &q, true, meas_row, &c, err, errlen);
	free(c.buf);
	return ret;
}

/* --- domain roll-ups ------------------------------------------------------ */

struct rollup_ctx {
	int (*cb)(const struct store_rollup *r, void *arg);
	void *arg;
};

static int
rollup_row(const struct store_read *rd, const struct store_cursor *c, void *ctx,
	   int *stop, char *err, size_t errlen)
{
	const struct rollup_ctx *x = ctx;
	struct store_rollup r;

	(void)rd;
	(void)err;
	(void)errlen;
	r.cc = c->text(c, 0);
	r.asn = c->text(c, 1);
	r.blocked = c->num(c, 2);
	r.disrupted = c->num(c, 3);
	r.accessible = c->num(c, 4);
	r.down = c->num(c, 5);
	r.unknown = c->num(c, 6);
	r.total = c->num(c, 7);
	*stop = x->cb(&r, x->arg);
	return 0;
}

/* domain in lower case without its final dot (a copy), or NULL with a
 * message when there is none left. */
static char *
domain_norm(const char *domain, char *err, size_t errlen)
{
	char *d;
	size_t n;

	if (domain == NULL) {
		ww_set_err(err, errlen, "no domain given");
		return NULL;
	}
	if (store_check_str("domain", "name", domain, true, err, errlen) != 0)
		return NULL;
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
		return NULL;
	}
	return d;
}

int
store_domain_rollup(struct store *s, const char *domain,
		    int (*cb)(const struct store_rollup *r, void *arg),
		    void *arg, char *err, size_t errlen)
{
	struct store_read r;
	const struct store_read *rd = reader_of(s, &r);
	struct rollup_ctx c = {cb, arg};
	struct store_qb q;
	char *d, *rdom, *lo, *hi;
	int ret;

	if (no_callback(cb == NULL, err, errlen) != 0 ||
	    (d = domain_norm(domain, err, errlen)) == NULL)
		return -1;
	rdom = store_reversed(d);
	lo = xasprintf("%s.", rdom); /* subdomains: [lo, hi) */
	hi = xasprintf("%s/", rdom);
	qb_start(&q, rd);
	qb_add(&q, "SELECT probe_cc, probe_asn,"
		   " count(*) FILTER (WHERE state = 'blocked'),"
		   " count(*) FILTER (WHERE state = 'disrupted'),"
		   " count(*) FILTER (WHERE state = 'accessible'),"
		   " count(*) FILTER (WHERE state = 'down'),"
		   " count(*) FILTER (WHERE state = 'unknown'), count(*)"
		   " FROM target_state WHERE");
	qb_text(&q, " (rhost = ?", "", rdom);
	qb_text(&q, " OR (rhost >= ?", "", lo);
	qb_text(&q, " AND rhost < ?))", "", hi);
	qb_add(&q,
	       " GROUP BY probe_cc, probe_asn ORDER BY probe_cc, probe_asn");
	ret = qb_run(rd, &q, false, rollup_row, &c, err, errlen);
	free(d);
	free(rdom);
	free(lo);
	free(hi);
	return ret;
}

/* --- for the other readers (store_network.c) ------------------------------ */

int
store_qb_begin(struct store *s, const struct store_filter *fin,
	       struct store_read *rd, struct store_filter *f,
	       struct store_qb *q, char *err, size_t errlen)
{
	return query_start(s, false, fin, rd, f, q, err, errlen);
}

void
store_qb_add(struct store_qb *q, const char *frag)
{
	qb_add(q, frag);
}

void
store_qb_text(struct store_qb *q, const char *frag, const char *alias,
	      const char *v)
{
	qb_text(q, frag, alias, v);
}

void
store_qb_int(struct store_qb *q, const char *frag, const char *alias, int64_t v)
{
	qb_int(q, frag, alias, v);
}

void
store_qb_where_key(struct store_qb *q, const char *alias,
		   const struct store_filter *f)
{
	where_key(q, alias, f);
}

void
store_qb_where_target_source(struct store_qb *q, const char *alias,
			     const char *source)
{
	where_target_source(q, alias, source);
}

int
store_qb_run(const struct store_read *rd, struct store_qb *q, store_row_fn fn,
	     void *ctx, char *err, size_t errlen)
{
	return qb_run(rd, q, false, fn, ctx, err, errlen);
}
