/*
 * test_timeline.c - timelines of the store (collector/store_sqlite.c,
 * store_timeline.c, store_query.c, docs/timelines.md; with
 * WW_TEST_PG_CONNINFO set, of the PostgreSQL backend, store_pg*.c: `make
 * unit-pg`): classes, daily counts, the state machine and its events, late
 * arrivals, reanalysis, the query API, exports, domain roll-ups and the
 * migration of a version 1 database (SQLite only).
 *
 * The files whose internals these tests reach are built into this test
 * (store_sqlite.c, store_query.c, store_timeline.c), the rest linked from
 * build/libcollector.a; the tests look at its tables with plain SQL. Each test
 * gets a fresh directory under /tmp.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "util.h"
/* The internals these tests reach (migrations, statements, the timeline's
 * classes, the export's SQL); the rest of the store is linked from
 * libcollector.a. */
#include "../../collector/store_schema.c"
#include "../../collector/store_sqlite.c"
#include "../../collector/store_query.c"
#include "../../collector/store_timeline.c"
#include "../../collector/timeline.c"

/* 2023-11-14 00:00:00 UTC, a day's start */
#define T0 ((int64_t)1699920000)
#define HOUR ((int64_t)3600)

#include "store_fixture.h"

static struct store *
open_ok(const struct fixture *f)
{
	return fx_open(f->db);
}

static int64_t
q_int(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v;

	if (fx_pg)
		return fx_int(s, sql);
	if (sqlite3_prepare_v2(store_sqlite_db(s), sql, -1, &st, NULL) !=
	    SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(store_sqlite_db(s)));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The rows of a query, columns joined by '|', rows by '\n', NULL "N". */
static char *
q_rows(struct store *s, const char *sql)
{
	struct sbuf b = {NULL, 0, 0};
	sqlite3 *db;
	sqlite3_stmt *st;

	if (fx_pg)
		return fx_rows(s, sql);
	db = store_sqlite_db(s);

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sb_add(&b, "", 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *t =
				(const char *)sqlite3_column_text(st, i);

			if (i > 0)
				sb_add(&b, "|", 1);
			t = t != NULL ? t : "N";
			sb_add(&b, t, strlen(t));
		}
		sb_add(&b, "\n", 1);
	}
	sqlite3_finalize(st);
	return b.p;
}

/* Recompute every target (the end of a reanalysis). */
static int
rebuild_all(struct store *s)
{
	if (fx_pg)
		return fx_rebuild_all(s);
	return store_tl_rebuild_all(sq(s), NULL, 0);
}

static void
exec_ok(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (fx_pg) {
		fx_exec(s, sql);
		return;
	}
	if (sqlite3_exec(store_sqlite_db(s), sql, NULL, NULL, &msg) !=
	    SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

/* --- building measurements ------------------------------------------------ */

/*
 * A class by letter: o ok, n dns, p tcp_ip, s tls, f http-failure,
 * h http-diff, w server-side (http-diff with http.server_side), d down,
 * x failed (no verdict); the same letters as the store's window.
 */
static void
set_class(struct store_meas *m, char c)
{
	switch (c) {
	case 'o':
		m->blocking = "false";
		m->accessible = 1;
		break;
	case 'd':
		m->blocking = "false";
		m->accessible = 0;
		break;
	case 'x':
		m->blocking = NULL;
		m->accessible = -1;
		break;
	case 'w':
		m->blocking = "http-diff";
		m->blocking_detail = "http.server_side";
		m->accessible = 0;
		break;
	default: {
		const char *p = strchr(class_letters, c);

		assert_non_null(p);
		m->blocking = ww_class_name(p - class_letters);
		m->accessible = 0;
	}
	}
}

/* Strings of the measurements built, kept until the test ends. */
static char *pool[8192];
static size_t npool;

static const char *keep_str(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static const char *
keep_str(const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_true(npool < WW_ARRAY_LEN(pool));
	pool[npool] = strdup(buf);
	assert_non_null(pool[npool]);
	return pool[npool++];
}

static int
free_pool(void **state)
{
	(void)state;
	for (size_t i = 0; i < npool; i++)
		free(pool[i]);
	npool = 0;
	return 0;
}

static struct store_meas
meas(const char *uid, const char *input, const char *cc, const char *asn,
     int64_t t, char cls)
{
	struct store_meas m;

	memset(&m, 0, sizeof(m));
	m.uid = uid;
	m.raw = "{}";
	m.raw_len = 2;
	m.input = input;
	m.test_name = "wallwatch_web";
	m.category_code = "NEWS";
	m.probe_cc = cc;
	m.probe_asn = asn;
	m.start_time = t;
	m.received_time = t + 60;
	set_class(&m, cls);
	return m;
}

static void
put_ok(struct store *s, const struct store_meas *v, size_t n)
{
	fx_put(s, v, n, NULL);
}

/* Store the classes of seq (letters, spaces ignored) for one target, one
 * measurement per batch, an hour apart from t, uids "<tag>-<k>" (k from 1,
 * counting the letters). */
static void
put_seq(struct store *s, const char *tag, const char *input, const char *cc,
	const char *asn, int64_t t, const char *seq)
{
	int k = 0;

	for (const char *c = seq; *c; c++) {
		struct store_meas m;

		if (*c == ' ')
			continue;
		k++;
		m = meas(keep_str("%s-%d", tag, k), input, cc, asn,
			 t + (k - 1) * HOUR, *c);
		put_ok(s, &m, 1);
	}
}

/* --- reading back -------------------------------------------------------- */

struct tgt {
	char state[16], method[16], category[32], host[64];
	int64_t since, last_tested, n_conclusive, id;
	double pct30, pct90;
	int64_t n30, n90;
};

struct tgts {
	struct tgt v[1100];
	size_t n;
	int stop_after; /* 0: never */
};

static void
copy_str(char *dst, size_t n, const char *v)
{
	snprintf(dst, n, "%s", v != NULL ? v : "N");
}

static int
tgt_cb(const struct store_target *t, void *arg)
{
	struct tgts *a = arg;
	struct tgt *o;

	assert_true(a->n < WW_ARRAY_LEN(a->v));
	o = &a->v[a->n++];
	copy_str(o->state, sizeof(o->state), t->state);
	copy_str(o->method, sizeof(o->method), t->method);
	copy_str(o->category, sizeof(o->category), t->category_code);
	copy_str(o->host, sizeof(o->host), t->host);
	o->since = t->since;
	o->last_tested = t->last_tested;
	o->n_conclusive = t->n_conclusive;
	o->id = t->id;
	o->pct30 = t->pct_blocked_30;
	o->pct90 = t->pct_blocked_90;
	o->n30 = t->n_30;
	o->n90 = t->n_90;
	return a->stop_after != 0 && (int)a->n >= a->stop_after;
}

static size_t
targets(struct store *s, const struct store_filter *f, int64_t now,
	struct tgts *out)
{
	char err[512] = "";

	out->n = 0;
	if (store_targets(s, f, now, tgt_cb, out, err, sizeof(err)) != 0)
		fail_msg("store_targets: %s", err);
	return out->n;
}

/* The one target (input, cc, asn). */
static struct tgt
target(struct store *s, const char *input, const char *cc, const char *asn)
{
	static struct tgts a;
	struct store_filter f = {0};

	f.input = input;
	f.cc = cc;
	f.asn = asn;
	assert_int_equal(targets(s, &f, 0, &a), 1);
	return a.v[0];
}

struct ev {
	int64_t id, time;
	char from[16], to[16], method[16], uids[512], input[128];
};

struct evs {
	struct ev v[256];
	size_t n;
};

static int
ev_cb(const struct store_event *e, void *arg)
{
	struct evs *a = arg;
	struct ev *o;

	assert_true(a->n < WW_ARRAY_LEN(a->v));
	o = &a->v[a->n++];
	o->id = e->id;
	o->time = e->time;
	copy_str(o->from, sizeof(o->from), e->from_state);
	copy_str(o->to, sizeof(o->to), e->to_state);
	copy_str(o->method, sizeof(o->method), e->method);
	copy_str(o->uids, sizeof(o->uids), e->uids_json);
	copy_str(o->input, sizeof(o->input), e->input);
	return 0;
}

static size_t
events(struct store *s, const struct store_filter *f, struct evs *out)
{
	char err[512] = "";

	out->n = 0;
	if (store_events(s, f, ev_cb, out, err, sizeof(err)) != 0)
		fail_msg("store_events: %s", err);
	return out->n;
}

/* The events of a target, all of them. */
static size_t
target_events(struct store *s, const char *input, const char *cc,
	      const char *asn, struct evs *out)
{
	struct store_filter f = {0};

	f.input = input;
	f.cc = cc;
	f.asn = asn;
	f.limit = STORE_LIMIT_MAX;
	return events(s, &f, out);
}

static void
assert_event(const struct ev *e, int64_t time, const char *from, const char *to,
	     const char *method, const char *uids)
{
	assert_int_equal(e->time, time);
	assert_string_equal(e->from, from);
	assert_string_equal(e->to, to);
	assert_string_equal(e->method, method);
	assert_string_equal(e->uids, uids);
}

#define IN1 "https://www.example.org/a"

/* --- classes and daily counts -------------------------------------------- */

static void
test_classify(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	const struct {
		const char *blocking, *detail;
		int accessible, want;
	} c[] = {
		{"false", NULL, 1, WW_CLASS_OK},
		{"false", NULL, 0, WW_CLASS_DOWN},
		{"false", NULL, -1, WW_CLASS_FAILED},
		{NULL, NULL, -1, WW_CLASS_FAILED},
		{NULL, NULL, 1, WW_CLASS_FAILED},
		{"dns", "dns.nxdomain", 0, WW_CLASS_DNS},
		{"tcp_ip", NULL, 0, WW_CLASS_TCP_IP},
		{"tls", NULL, 0, WW_CLASS_TLS},
		{"http-failure", NULL, 0, WW_CLASS_HTTP_FAILURE},
		{"http-diff", NULL, 0, WW_CLASS_HTTP_DIFF},
		{"http-diff", NULL, 1,
		 WW_CLASS_HTTP_DIFF}, /* blocking decides */
		{"dns", NULL, -1, WW_CLASS_DNS},
		{"http-diff", "http.blockpage", 0, WW_CLASS_HTTP_DIFF},
		/* withheld by the site: its own class */
		{"http-diff", "http.server_side", 0, WW_CLASS_SERVER_SIDE},
		/* only with http-diff (no such verdict; still not invented) */
		{"http-failure", "http.server_side", 0, WW_CLASS_HTTP_FAILURE},
		{NULL, "http.server_side", -1, WW_CLASS_FAILED},
		/* a VPN or QUIC endpoint's handshake blocked */
		{"protocol", "openvpn.timeout", 0, WW_CLASS_PROTOCOL},
		{"protocol", "quic.sni_blocked", 0, WW_CLASS_PROTOCOL},
	};
	struct store_meas m;
	char sql[1024], cls[512];

	assert_true(ww_classify_sql(cls, sizeof(cls)) > 0);
	for (size_t i = 0; i < WW_ARRAY_LEN(c); i++) {
		assert_int_equal(ww_classify(c[i].blocking, c[i].detail,
					     c[i].accessible),
				 c[i].want);
		/* the SQL of recomputations agrees */
		m = meas(keep_str("c-%zu", i), keep_str("https://c%zu.org/", i),
			 "CN", "AS1", T0, 'o');
		m.blocking = c[i].blocking;
		m.blocking_detail = c[i].detail;
		m.accessible = c[i].accessible;
		put_ok(s, &m, 1);
		snprintf(sql, sizeof(sql),
			 "SELECT %s FROM measurements WHERE uid = 'c-%zu'", cls,
			 i);
		assert_int_equal(q_int(s, sql), c[i].want);
		/* and the daily count went to that class */
		snprintf(sql, sizeof(sql),
			 "SELECT n_%s FROM daily_counts WHERE input ="
			 " 'https://c%zu.org/'",
			 c[i].want == WW_CLASS_HTTP_FAILURE ? "http_failure"
			 : c[i].want == WW_CLASS_HTTP_DIFF  ? "http_diff"
			 : c[i].want == WW_CLASS_SERVER_SIDE
				 ? "server_side"
				 : ww_class_name(c[i].want),
			 i);
		assert_int_equal(q_int(s, sql), 1);
	}
	assert_int_equal(q_int(s, "SELECT sum(n_ok + n_dns + n_tcp_ip + n_tls"
				  " + n_http_failure + n_http_diff +"
				  " n_server_side + n_down + n_failed +"
				  " n_protocol) FROM daily_counts"),
			 (int64_t)WW_ARRAY_LEN(c));
	store_close(s);
}

static void
test_daily_counts(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_meas v[6];
	enum store_result res[6];
	char err[512] = "", *rows;

	/* the last second of a day and the first of the next */
	v[0] = meas("d-1", IN1, "CN", "AS1", T0 + 86399, 'o');
	v[1] = meas("d-2", IN1, "CN", "AS1", T0 + 86400, 's');
	v[2] = meas("d-3", IN1, "CN", "AS1", T0 + 86400 + 5, 'x');
	v[3] = meas("d-1", IN1, "CN", "AS1", T0 + 86399, 'o'); /* again */
	v[4] = meas("d-4", IN1, "CN", "AS2", T0, 'd');	       /* a network */
	v[5] = meas("d-5", NULL, "CN", "AS1", T0, 'o');	       /* no target */
	assert_int_equal(store_put_batch(s, v, 6, res, err, sizeof(err)), 0);
	assert_int_equal(res[3], STORE_DUPLICATE);
	/* a later batch repeating them all counts nothing more */
	assert_int_equal(store_put_batch(s, v, 6, res, err, sizeof(err)), 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(res[i], STORE_DUPLICATE);
	v[0] = meas("d-6", IN1, "CN", "AS1", T0 + 86400 + 7, 'n');
	put_ok(s, v, 1);

	rows = q_rows(s, "SELECT input, probe_cc, probe_asn, day, n_ok,"
			 " n_dns, n_tcp_ip, n_tls, n_http_failure,"
			 " n_http_diff, n_down, n_failed FROM daily_counts"
			 " ORDER BY 1, 2, 3, 4");
	assert_string_equal(rows, IN1 "|CN|AS1|2023-11-14|1|0|0|0|0|0|0|0\n" IN1
				      "|CN|AS1|2023-11-15|0|1|0|1|0|0|0|1\n" IN1
				      "|CN|AS2|2023-11-14|0|0|0|0|0|0|1|0\n");
	free(rows);
	/* measurements without an input have no target */
	assert_int_equal(q_int(s, "SELECT count(*) FROM target_state"), 2);
	store_close(s);
}

/* A failed batch leaves no count and no state behind. */
static void
test_rollback(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_meas v[4];
	char err[512] = "";

	if (fx_pg)
		exec_ok(s, "CREATE FUNCTION boom() RETURNS trigger LANGUAGE"
			   " plpgsql AS $$ BEGIN IF NEW.uid = 'boom' THEN"
			   " RAISE 'no'; END IF; RETURN NEW; END $$;"
			   " CREATE TRIGGER boom BEFORE INSERT ON measurements"
			   " FOR EACH ROW EXECUTE FUNCTION boom()");
	else
		exec_ok(s, "CREATE TEMP TRIGGER boom BEFORE INSERT ON"
			   " measurements WHEN NEW.uid = 'boom' BEGIN SELECT"
			   " RAISE(ABORT, 'no'); END");
	for (int i = 0; i < 3; i++)
		v[i] = meas(keep_str("r-%d", i), IN1, "CN", "AS1",
			    T0 + i * HOUR, 's');
	v[3] = meas("boom", IN1, "CN", "AS1", T0 + 9 * HOUR, 's');
	assert_int_equal(store_put_batch(s, v, 4, NULL, err, sizeof(err)), -1);
	assert_int_equal(q_int(s, "SELECT count(*) FROM daily_counts"), 0);
	assert_int_equal(q_int(s, "SELECT count(*) FROM target_state"), 0);
	assert_int_equal(q_int(s, "SELECT count(*) FROM events"), 0);
	put_ok(s, v, 3);
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	store_close(s);
}

/* --- the state machine --------------------------------------------------- */

static void
test_unknown_until_three(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct evs e;
	struct tgt t;

	/* two conclusive and failures: not enough */
	put_seq(s, "u", IN1, "CN", "AS1", T0, "o x x o x");
	t = target(s, IN1, "CN", "AS1");
	assert_string_equal(t.state, "unknown");
	assert_string_equal(t.method, "N");
	assert_int_equal(t.since, 0);
	assert_int_equal(t.n_conclusive, 2);
	assert_int_equal(t.last_tested, T0 + 4 * HOUR);
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 0);
	/* the third conclusive one decides; the event names those three */
	put_seq(s, "u2", IN1, "CN", "AS1", T0 + 10 * HOUR, "o");
	t = target(s, IN1, "CN", "AS1");
	assert_string_equal(t.state, "accessible");
	assert_int_equal(t.since, T0 + 10 * HOUR);
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 1);
	assert_event(&e.v[0], T0 + 10 * HOUR, "unknown", "accessible", "N",
		     "[\"u-1\",\"u-4\",\"u2-1\"]");
	store_close(s);
}

static void
test_blocked_with_method(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct evs e;
	struct tgt t;

	/* two blocked after ok: not yet (not intermittent either) */
	put_seq(s, "b", IN1, "CN", "AS1", T0, "o o o s s");
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "accessible");
	put_seq(s, "b2", IN1, "CN", "AS1", T0 + 5 * HOUR, "s");
	t = target(s, IN1, "CN", "AS1");
	assert_string_equal(t.state, "blocked");
	assert_string_equal(t.method, "tls");
	assert_int_equal(t.since, T0 + 5 * HOUR);
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 2);
	assert_event(&e.v[0], T0 + 2 * HOUR, "unknown", "accessible", "N",
		     "[\"b-1\",\"b-2\",\"b-3\"]");
	assert_event(&e.v[1], T0 + 5 * HOUR, "accessible", "blocked", "tls",
		     "[\"b-4\",\"b-5\",\"b2-1\"]");
	assert_true(e.v[0].id < e.v[1].id);
	store_close(s);
}

/* The method of three blocked ones: the most frequent; a three-way tie
 * goes to the newest; a blocked target keeps its method while it is among
 * the last three, and changes (an event) when it is not. */
static void
test_method(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct evs e;

	put_seq(s, "m1", "https://a.org/", "CN", "AS1", T0, "n s n");
	assert_string_equal(target(s, "https://a.org/", "CN", "AS1").method,
			    "dns");
	put_seq(s, "m2", "https://b.org/", "CN", "AS1", T0, "n s f");
	assert_string_equal(target(s, "https://b.org/", "CN", "AS1").method,
			    "http-failure");

	put_seq(s, "m3", "https://c.org/", "CN", "AS1", T0, "n n n s s n s s");
	assert_string_equal(target(s, "https://c.org/", "CN", "AS1").method,
			    "dns");
	assert_int_equal(target_events(s, "https://c.org/", "CN", "AS1", &e),
			 1);
	put_seq(s, "m4", "https://c.org/", "CN", "AS1", T0 + 10 * HOUR, "s");
	assert_string_equal(target(s, "https://c.org/", "CN", "AS1").method,
			    "tls");
	assert_int_equal(target_events(s, "https://c.org/", "CN", "AS1", &e),
			 2);
	assert_event(&e.v[1], T0 + 10 * HOUR, "blocked", "blocked", "tls",
		     "[\"m3-7\",\"m3-8\",\"m4-1\"]");
	store_close(s);
}

/* Sums a timeline's http-diff and server-side counts into arg[0], arg[1]. */
static int
sum_cb(const struct store_bucket *b, void *arg)
{
	int64_t *n = arg;

	n[0] += b->http_diff;
	n[1] += b->server_side;
	return 0;
}

/* Withholding by the site (http-diff with http.server_side) is a method of
 * its own, "server-side", in states, events, counts, % blocked and
 * timelines, apart from a censor's blockpage (http-diff). */
static void
test_server_side(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_filter fl = {0};
	static struct tgts all;
	struct evs e;
	struct tgt t;
	char *rows;

	put_seq(s, "w", IN1, "CN", "AS1", T0, "o o o w w w");
	t = target(s, IN1, "CN", "AS1");
	assert_string_equal(t.state, "blocked");
	assert_string_equal(t.method, "server-side");
	assert_int_equal(t.since, T0 + 5 * HOUR);
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 2);
	assert_event(&e.v[1], T0 + 5 * HOUR, "accessible", "blocked",
		     "server-side", "[\"w-4\",\"w-5\",\"w-6\"]");
	/* then a censor's blockpage takes over: a change of method */
	put_seq(s, "h", IN1, "CN", "AS1", T0 + 6 * HOUR, "h h h");
	assert_string_equal(target(s, IN1, "CN", "AS1").method, "http-diff");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 3);
	assert_event(&e.v[2], T0 + 8 * HOUR, "blocked", "blocked", "http-diff",
		     "[\"h-1\",\"h-2\",\"h-3\"]");
	/* a mix of the two keeps the current method while it is among the
	 * last three (docs/timelines.md) */
	put_seq(s, "m", IN1, "CN", "AS1", T0 + 9 * HOUR, "w w");
	assert_string_equal(target(s, IN1, "CN", "AS1").method, "http-diff");
	put_seq(s, "n", IN1, "CN", "AS1", T0 + 11 * HOUR, "w");
	assert_string_equal(target(s, IN1, "CN", "AS1").method, "server-side");
	rows = q_rows(s, "SELECT n_ok, n_http_diff, n_server_side"
			 " FROM daily_counts");
	assert_string_equal(rows, "3|3|6\n");
	free(rows);
	/* blocked: 9 of 12 conclusive, withheld ones included */
	fl.input = IN1;
	assert_int_equal(targets(s, &fl, T0 + DAY, &all), 1);
	assert_int_equal(all.v[0].n30, 12);
	assert_true(all.v[0].pct30 > 74.9 && all.v[0].pct30 < 75.1);
	/* the win column keeps it by its own letter, read back as such */
	rows = q_rows(s, "SELECT substr(win, 1, 1) FROM target_state");
	assert_string_equal(rows, "h\n");
	free(rows);
	put_seq(s, "o", IN1, "CN", "AS1", T0 + 12 * HOUR, "w");
	assert_string_equal(target(s, IN1, "CN", "AS1").method, "server-side");
	/* timelines count it apart, by day (daily_counts) and by hour (the
	 * measurements) alike */
	for (int g = 0; g < 2; g++) {
		int64_t n[2] = {0, 0};
		char err[512] = "";

		assert_int_equal(store_timeline(s, &fl, g ? 3600 : 86400,
						sum_cb, n, err, sizeof(err)),
				 0);
		assert_int_equal(n[0], 3);
		assert_int_equal(n[1], 7);
	}
	/* the events query filters by state and shows the method */
	fl.state = "blocked";
	assert_int_equal(events(s, &fl, &e), 3);
	assert_string_equal(e.v[0].method, "server-side");
	store_close(s);
}

/* One odd result flips nothing. */
static void
test_odd_result(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	const struct {
		const char *seq, *want;
	} c[] = {
		{"o o o o o s", "accessible"},
		{"o o o o o d", "accessible"},
		{"o o o s o o o o s", "accessible"}, /* one blocked in W */
		{"s s s o", "blocked"},
		{"s s s o s o", "blocked"},
		{"d d d o", "down"},
		{"d d d s", "down"},
		{"o o o s o s o o", "disrupted"},
		{"s s s o o o s", "accessible"}, /* after a recovery */
	};
	struct evs e;

	for (size_t i = 0; i < WW_ARRAY_LEN(c); i++) {
		const char *in = keep_str("https://odd%zu.org/", i);
		size_t n;

		put_seq(s, keep_str("odd%zu", i), in, "CN", "AS1", T0,
			c[i].seq);
		if (strcmp(target(s, in, "CN", "AS1").state, c[i].want) != 0)
			fail_msg("%s: got %s, want %s", c[i].seq,
				 target(s, in, "CN", "AS1").state, c[i].want);
		/* and the odd one made no event */
		n = target_events(s, in, "CN", "AS1", &e);
		assert_string_equal(e.v[n - 1].to, c[i].want);
		assert_true(e.v[n - 1].time <
			    T0 + (int64_t)(strlen(c[i].seq) / 2) * HOUR);
	}
	store_close(s);
}

static void
test_recovery(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct evs e;

	put_seq(s, "r", IN1, "CN", "AS1", T0, "p p p o o o");
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "accessible");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 2);
	assert_event(&e.v[0], T0 + 2 * HOUR, "unknown", "blocked", "tcp_ip",
		     "[\"r-1\",\"r-2\",\"r-3\"]");
	assert_event(&e.v[1], T0 + 5 * HOUR, "blocked", "accessible", "N",
		     "[\"r-4\",\"r-5\",\"r-6\"]");

	/* leaving blocked for down; and a mix of ok and down leans */
	put_seq(s, "r2", "https://b.org/", "CN", "AS1", T0, "h h h d d d");
	assert_string_equal(target(s, "https://b.org/", "CN", "AS1").state,
			    "down");
	put_seq(s, "r3", "https://c.org/", "CN", "AS1", T0, "h h h d o d");
	assert_string_equal(target(s, "https://c.org/", "CN", "AS1").state,
			    "down");
	put_seq(s, "r4", "https://d.org/", "CN", "AS1", T0, "h h h o d o");
	assert_string_equal(target(s, "https://d.org/", "CN", "AS1").state,
			    "accessible");
	store_close(s);
}

static void
test_disrupted(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct evs e;

	/* blocking that comes and goes */
	put_seq(s, "i", IN1, "CN", "AS1", T0, "o o o s o s");
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "disrupted");
	assert_string_equal(target(s, IN1, "CN", "AS1").method, "N");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 2);
	/* behind it: what came since the state began */
	assert_event(&e.v[1], T0 + 5 * HOUR, "accessible", "disrupted", "N",
		     "[\"i-4\",\"i-5\",\"i-6\"]");
	/* it stays while a blocked one is in the last five */
	put_seq(s, "i2", IN1, "CN", "AS1", T0 + 10 * HOUR, "o o o o");
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "disrupted");
	put_seq(s, "i3", IN1, "CN", "AS1", T0 + 20 * HOUR, "o");
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "accessible");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 3);
	assert_event(&e.v[2], T0 + 20 * HOUR, "disrupted", "accessible", "N",
		     "[\"i2-3\",\"i2-4\",\"i3-1\"]");
	/* three blocked in a row end it as blocked; three down as down */
	put_seq(s, "j", "https://b.org/", "CN", "AS1", T0, "o s o s s s");
	assert_string_equal(target(s, "https://b.org/", "CN", "AS1").state,
			    "blocked");
	put_seq(s, "k", "https://c.org/", "CN", "AS1", T0, "o s o s d d d");
	assert_string_equal(target(s, "https://c.org/", "CN", "AS1").state,
			    "down");
	/* after a recovery, the blocked ones before it do not count */
	put_seq(s, "rc", "https://e.org/", "CN", "AS1", T0, "s s s o o o s o");
	assert_string_equal(target(s, "https://e.org/", "CN", "AS1").state,
			    "accessible");
	put_seq(s, "rc2", "https://e.org/", "CN", "AS1", T0 + 10 * HOUR, "s");
	assert_string_equal(target(s, "https://e.org/", "CN", "AS1").state,
			    "disrupted");
	/* a first decision can be disrupted */
	put_seq(s, "l", "https://d.org/", "CN", "AS1", T0, "s o s");
	assert_string_equal(target(s, "https://d.org/", "CN", "AS1").state,
			    "disrupted");
	store_close(s);
}

static void
test_down(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct evs e;

	put_seq(s, "d", IN1, "CN", "AS1", T0, "o o o d d d");
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "down");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 2);
	assert_event(&e.v[1], T0 + 5 * HOUR, "accessible", "down", "N",
		     "[\"d-4\",\"d-5\",\"d-6\"]");
	put_seq(s, "d2", IN1, "CN", "AS1", T0 + 10 * HOUR, "o o");
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "down");
	put_seq(s, "d3", IN1, "CN", "AS1", T0 + 20 * HOUR, "o");
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "accessible");
	/* failures are no evidence of anything */
	put_seq(s, "d4", IN1, "CN", "AS1", T0 + 30 * HOUR, "x x x x x x");
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "accessible");
	assert_int_equal(target(s, IN1, "CN", "AS1").last_tested,
			 T0 + 35 * HOUR);
	store_close(s);
}

/* Targets are kept apart by input, country and network. */
static void
test_keys_apart(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);

	put_seq(s, "a", IN1, "CN", "AS1", T0, "s s s");
	put_seq(s, "b", IN1, "CN", "AS2", T0, "o o o");
	put_seq(s, "c", IN1, "IR", "AS1", T0, "d d d");
	put_seq(s, "e", "https://www.example.org/b", "CN", "AS1", T0, "o");
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	assert_string_equal(target(s, IN1, "CN", "AS2").state, "accessible");
	assert_string_equal(target(s, IN1, "IR", "AS1").state, "down");
	assert_string_equal(
		target(s, "https://www.example.org/b", "CN", "AS1").state,
		"unknown");
	store_close(s);
}

/* --- late arrivals and recomputation ------------------------------------- */

/* Everything derived about one store, ids left out (they follow arrival),
 * measurements named by uid. */
static char *
derived(struct store *s)
{
	struct sbuf b = {NULL, 0, 0};
	const char *q[] = {
		"SELECT input, probe_cc, probe_asn, host, rhost,"
		" category_code, category_time, state, method, since,"
		" last_tested, n_conclusive, last_time, (SELECT uid FROM"
		" measurements m WHERE m.id = t.last_id) FROM target_state t"
		" ORDER BY 1, 2, 3",
		"SELECT input, probe_cc, probe_asn, time, from_state, to_state,"
		" method, uids FROM events ORDER BY 1, 2, 3, id",
		"SELECT * FROM daily_counts ORDER BY 1, 2, 3, 4",
	};

	for (size_t i = 0; i < WW_ARRAY_LEN(q); i++) {
		char *r = q_rows(s, q[i]);

		sb_add(&b, r, strlen(r));
		sb_add(&b, "--\n", 3);
		free(r);
	}
	return b.p;
}

static const char late_seq[] = "ooosxssoosoddxdooonnnosoxsshhhoooodoos";

/* The same measurements, in order and shuffled (late ones across and
 * within batches, with category changes): the same states and events. */
static void
test_out_of_order(void **state)
{
	const struct fixture *f = *state;
	struct store *a, *b;
	size_t n = strlen(late_seq);
	struct store_meas v[64];
	size_t order[64];
	char path[512], *da, *db;
	struct evs e1, e2;

	assert_true(n <= WW_ARRAY_LEN(v));
	for (size_t i = 0; i < n; i++) {
		v[i] = meas(keep_str("late-%02zu", i),
			    i % 5 == 4 ? "https://b.example.org/" : IN1, "CN",
			    i % 7 == 6 ? "AS2" : "AS1", T0 + (int64_t)i * HOUR,
			    late_seq[i]);
		v[i].category_code = i % 4 == 3	 ? NULL
				     : i < n / 2 ? "NEWS"
						 : "HUMR";
	}
	a = open_ok(f);
	for (size_t i = 0; i < n; i++)
		put_ok(a, &v[i], 1);

	fx_db(f, "other.db", path, sizeof(path));
	b = fx_open(path);
	/* a permutation: every third one late, by up to 11 places */
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = 0; i + 11 < n; i += 3) {
		size_t t = order[i];

		memmove(&order[i], &order[i + 1], 11 * sizeof(order[0]));
		order[i + 11] = t;
	}
	for (size_t i = 0; i < n;) {
		struct store_meas batch[7];
		size_t k = 0;

		for (; k < 7 && i < n; k++, i++)
			batch[k] = v[order[i]];
		put_ok(b, batch, k);
	}
	da = derived(a);
	db = derived(b);
	assert_string_equal(da, db);
	assert_true(q_int(a, "SELECT count(*) FROM events") >= 5);
	free(db);

	/* a recomputation finds the same, and keeps the events' ids */
	target_events(b, IN1, "CN", "AS1", &e1);
	assert_int_equal(rebuild_all(b), 0);
	db = derived(b);
	assert_string_equal(da, db);
	target_events(b, IN1, "CN", "AS1", &e2);
	assert_int_equal(e1.n, e2.n);
	for (size_t i = 0; i < e1.n; i++)
		assert_int_equal(e1.v[i].id, e2.v[i].id);
	free(da);
	free(db);
	store_close(a);
	store_close(b);
}

/* One writer of test_concurrent(): its own connection; stores the
 * measurements i of v with i % 2 == k, one batch each, then every one
 * again in batches of 7 (duplicates by then, or the other's it races);
 * exits 0 when all went well. */
static void
writer(const char *db, struct store_meas *v, size_t n, size_t k)
{
	char err[512];
	struct store *s = store_open(db, err, sizeof(err));

	if (s == NULL) {
		fprintf(stderr, "writer: %s\n", err);
		_exit(2);
	}
	for (size_t i = k; i < n; i += 2)
		if (store_put_batch(s, &v[i], 1, NULL, err, sizeof(err)) != 0) {
			fprintf(stderr, "writer: %s\n", err);
			_exit(3);
		}
	for (size_t i = 0; i < n; i += 7)
		if (store_put_batch(s, &v[i], n - i < 7 ? n - i : 7, NULL, err,
				    sizeof(err)) != 0) {
			fprintf(stderr, "writer: %s\n", err);
			_exit(3);
		}
	store_close(s);
	_exit(0);
}

/* Two writers (two processes: two collectors on one database) store
 * measurements of the same targets at the same moment, in time order,
 * each every other one (a day apart: no daily count in common), then all
 * of them again: every one is stored once, and the timelines are those
 * of one store fed them in one batch (without the targets' locks, one
 * writer's state overwrites the other's: fewer conclusive measurements,
 * another window). */
static void
test_concurrent(void **state)
{
	const struct fixture *f = *state;
	const char seq[] = "ooosssoosooddxdssshhooooswsoddooonnnoossoosssoooddd"
			   "ooosssoooxxsoso";
	size_t n = strlen(seq);
	struct store_meas v[128];
	struct store *a, *b;
	char path[512], *da, *db;
	pid_t pid[2];

	assert_true(n <= WW_ARRAY_LEN(v));
	for (size_t i = 0; i < n; i++)
		v[i] = meas(keep_str("cc-%02zu", i),
			    i % 3 == 2 ? "https://b.example.org/" : IN1, "CN",
			    "AS1", T0 + (int64_t)i * 86400, seq[i]);
	if (fx_pg) {
		/* PostgreSQL: a save of a target's state takes a while, so
		 * that the writers' transactions overlap on it. Without the
		 * targets' locks, the second writer's save, of a state read
		 * before the first committed, undoes the first's step: this
		 * test then failed 5 times in 5 (n_conclusive 21 and 23 for
		 * 22 and 41); with them it waits, whatever the timing. */
		a = open_ok(f);
		exec_ok(a, "CREATE FUNCTION slow() RETURNS trigger LANGUAGE"
			   " plpgsql AS $$ BEGIN PERFORM pg_sleep(0.02);"
			   " RETURN NEW; END $$; CREATE TRIGGER slow BEFORE"
			   " INSERT OR UPDATE ON target_state FOR EACH ROW"
			   " EXECUTE FUNCTION slow()");
		store_close(a);
	}
	for (size_t k = 0; k < 2; k++) {
		pid[k] = fork();
		assert_true(pid[k] >= 0);
		if (pid[k] == 0)
			writer(f->db, v, n, k);
	}
	for (int k = 0; k < 2; k++) {
		int status;

		assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	a = open_ok(f);
	assert_int_equal(store_count(a), (int64_t)n);
	fx_db(f, "one.db", path, sizeof(path));
	b = fx_open(path);
	put_ok(b, v, n);
	da = derived(a);
	db = derived(b);
	assert_string_equal(da, db);
	assert_true(q_int(a, "SELECT count(*) FROM events") >= 3);
	free(da);
	free(db);
	store_close(a);
	store_close(b);
}

/* A late measurement that changes history: the events after it change,
 * those before it stay (ids too). */
static void
test_late_rewrites_history(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_meas m;
	struct evs e, e2;

	put_seq(s, "h", IN1, "CN", "AS1", T0, "o o o s s o o");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 2);
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "disrupted");
	/* a blocked one from between h-5 and h-6 makes three in a row */
	m = meas("late", IN1, "CN", "AS1", T0 + 4 * HOUR + 1800, 's');
	put_ok(s, &m, 1);
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e2), 2);
	assert_int_equal(e2.v[0].id, e.v[0].id);
	assert_event(&e2.v[1], T0 + 4 * HOUR + 1800, "accessible", "blocked",
		     "tls", "[\"h-4\",\"h-5\",\"late\"]");
	/* no longer disrupted: h-6, h-7 (ok) are one short of leaving it */
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	assert_int_equal(target(s, IN1, "CN", "AS1").since,
			 T0 + 4 * HOUR + 1800);
	/* a late failure changes no state, only when it was last tested */
	m = meas("late-x", IN1, "CN", "AS1", T0 - HOUR, 'x');
	put_ok(s, &m, 1);
	assert_int_equal(target(s, IN1, "CN", "AS1").last_tested,
			 T0 + 6 * HOUR);
	store_close(s);
}

/* A damaged state row is recomputed, not trusted and not an error. */
static void
test_damaged_state(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	char *before, *after;

	put_seq(s, "z", IN1, "CN", "AS1", T0, "o o o s s");
	before = derived(s);
	exec_ok(s, "UPDATE target_state SET win = 'q1 ?'");
	put_seq(s, "z2", IN1, "CN", "AS1", T0 + 9 * HOUR, "s");
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	exec_ok(s, "UPDATE target_state SET state = 'blocked', method = NULL");
	put_seq(s, "z3", IN1, "CN", "AS1", T0 + 10 * HOUR, "s");
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	assert_string_equal(target(s, IN1, "CN", "AS1").method, "tls");
	after = derived(s);
	assert_string_not_equal(before, after);
	free(before);
	free(after);
	store_close(s);
}

/* Marks left by an interrupted reanalysis are recomputed at open. */
static void
test_stale_at_open(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	char *want, *got;

	put_seq(s, "st", IN1, "CN", "AS1", T0, "o o o s s s o");
	put_seq(s, "st2", IN1, "CN", "AS2", T0, "d d d");
	want = derived(s);
	exec_ok(s, "UPDATE daily_counts SET n_ok = 99;"
		   " DELETE FROM events WHERE probe_asn = 'AS1';"
		   " UPDATE target_state SET state = 'down', method = NULL;"
		   " INSERT INTO stale_targets SELECT input, probe_cc,"
		   " probe_asn FROM target_state");
	store_close(s);
	s = open_ok(f);
	got = derived(s);
	assert_string_equal(want, got);
	assert_int_equal(q_int(s, "SELECT count(*) FROM stale_targets"), 0);
	free(want);
	free(got);
	store_close(s);
}

/* uid "ra-<k>": k % 4 == 3 keeps what is stored; others become tls. */
static int
ra_cb(const char *uid, const char *raw, size_t len, struct store_derived *out,
      void *arg)
{
	long k = strtol(uid + 3, NULL, 10);

	(void)raw;
	(void)len;
	(void)arg;
	if (k % 4 == 3)
		return 1;
	out->blocking = "tls";
	out->accessible = 0;
	out->blocking_detail = "tls.reset";
	out->analysis_version = "2";
	return 0;
}

static void
test_reanalyze(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	char err[512] = "", *rows;
	struct evs e, e2;

	/* stored without verdicts: unknown */
	put_seq(s, "ra", IN1, "CN", "AS1", T0, "x x x x x x x x");
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "unknown");
	assert_int_equal(store_reanalyze(s, ra_cb, NULL, err, sizeof(err)), 6);
	/* ra-3 and ra-7 kept their null verdict */
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	assert_string_equal(target(s, IN1, "CN", "AS1").method, "tls");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 1);
	assert_event(&e.v[0], T0 + 3 * HOUR, "unknown", "blocked", "tls",
		     "[\"ra-1\",\"ra-2\",\"ra-4\"]");
	rows = q_rows(s, "SELECT n_tls, n_failed FROM daily_counts");
	assert_string_equal(rows, "6|2\n");
	free(rows);
	assert_int_equal(q_int(s, "SELECT count(*) FROM stale_targets"), 0);
	/* again: the same, and the event keeps its id */
	assert_int_equal(store_reanalyze(s, ra_cb, NULL, err, sizeof(err)), 6);
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e2), 1);
	assert_int_equal(e2.v[0].id, e.v[0].id);
	store_close(s);
}

/* --- queries ------------------------------------------------------------- */

/*
 * The data set of the query tests (all from T0, an hour apart):
 * www.example.org/a CN AS1 blocked (tls), CN AS2 accessible;
 * example.org CN AS1 down; news.example.org IR AS3 disrupted;
 * other.net CN AS1 unknown; notexample.org CN AS1 blocked;
 * vpn.example.org (tls://) CN AS1 unknown, failures only.
 */
#define IN2 "http://EXAMPLE.org/"
#define IN3 "https://news.example.org/x"
#define IN4 "https://other.net/"
#define IN5 "https://notexample.org/"
#define IN6 "tls://vpn.example.org:443"

static void
fill_set(struct store *s)
{
	struct store_meas m;

	put_seq(s, "t1", IN1, "CN", "AS1", T0, "o o o s s s");
	put_seq(s, "t2", IN1, "CN", "AS2", T0, "o o o");
	put_seq(s, "t3", IN2, "CN", "AS1", T0, "d d d");
	put_seq(s, "t4", IN3, "IR", "AS3", T0, "o o o s o s");
	put_seq(s, "t5", IN4, "CN", "AS1", T0, "o o");
	put_seq(s, "t6", IN5, "CN", "AS1", T0, "n n n");
	put_seq(s, "t7", IN6, "CN", "AS1", T0, "x x");
	/* the newest category that is not null counts */
	m = meas("t1-cat", IN1, "CN", "AS1", T0 + 10 * HOUR, 'x');
	m.category_code = "HUMR";
	put_ok(s, &m, 1);
	m = meas("t1-nocat", IN1, "CN", "AS1", T0 + 11 * HOUR, 'x');
	m.category_code = NULL;
	put_ok(s, &m, 1);
	m = meas("t1-oldcat", IN1, "CN", "AS1", T0 - 11 * HOUR, 'x');
	m.category_code = "GRP";
	put_ok(s, &m, 1);
}

static void
test_targets_query(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_filter q = {0};
	static struct tgts a, b;
	char err[512] = "";

	fill_set(s);
	assert_int_equal(targets(s, NULL, 0, &a), 7);
	for (size_t i = 1; i < a.n; i++)
		assert_true(a.v[i - 1].id < a.v[i].id);

	q.cc = "CN";
	q.asn = "AS1";
	assert_int_equal(targets(s, &q, 0, &a), 5);
	q.state = "blocked";
	assert_int_equal(targets(s, &q, 0, &a), 2);
	assert_string_equal(a.v[0].method, "tls");
	assert_string_equal(a.v[0].host, "www.example.org");
	assert_string_equal(a.v[0].category, "HUMR");
	assert_int_equal(a.v[0].since, T0 + 5 * HOUR);
	assert_int_equal(a.v[0].last_tested, T0 + 11 * HOUR);
	assert_int_equal(a.v[0].n_conclusive, 6);
	assert_string_equal(a.v[1].method, "dns");
	memset(&q, 0, sizeof(q));
	q.category = "HUMR";
	assert_int_equal(targets(s, &q, 0, &a), 1);
	q.category = "NEWS";
	assert_int_equal(targets(s, &q, 0, &a), 6);
	memset(&q, 0, sizeof(q));
	q.input = IN1;
	assert_int_equal(targets(s, &q, 0, &a), 2);
	q.input = IN2; /* as given, not normalised */
	assert_int_equal(targets(s, &q, 0, &a), 1);
	assert_string_equal(a.v[0].state, "down");
	assert_string_equal(a.v[0].host, "example.org");
	q.input = "https://nowhere/";
	assert_int_equal(targets(s, &q, 0, &a), 0);
	/* since/until: on last_tested */
	memset(&q, 0, sizeof(q));
	q.since = T0 + 5 * HOUR;
	assert_int_equal(targets(s, &q, 0, &a), 2); /* t1 AS1, t4 */
	q.until = T0 + 6 * HOUR;
	assert_int_equal(targets(s, &q, 0, &a), 1); /* t4 */
	assert_string_equal(a.v[0].state, "disrupted");

	/* paging */
	memset(&q, 0, sizeof(q));
	q.limit = 3;
	assert_int_equal(targets(s, &q, 0, &a), 3);
	q.after_id = a.v[2].id;
	q.limit = 0;
	assert_int_equal(targets(s, &q, 0, &b), 4);
	assert_true(b.v[0].id > a.v[2].id);
	/* a callback may stop */
	a.stop_after = 2;
	assert_int_equal(targets(s, NULL, 0, &a), 2);
	a.stop_after = 0;

	/* bad filters */
	memset(&q, 0, sizeof(q));
	q.state = "censored";
	assert_int_equal(store_targets(s, &q, 0, tgt_cb, &a, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "state \"censored\" is not one of"));
	q.state = NULL;
	q.limit = -1;
	assert_int_equal(store_targets(s, &q, 0, tgt_cb, &a, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "limit"));
	assert_int_equal(
		store_targets(s, NULL, 0, NULL, NULL, err, sizeof(err)), -1);
	store_close(s);
}

/* The default limit is 100, and no more than 1000 come at once. */
static void
test_limits(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	static struct store_meas v[1005];
	static struct tgts a;
	struct store_filter q = {0};

	for (int i = 0; i < 1005; i++)
		v[i] = meas(keep_str("lim-%d", i),
			    keep_str("https://l%d.org/", i), "CN", "AS1", T0,
			    'x');
	put_ok(s, v, 1005);
	assert_int_equal(targets(s, NULL, 0, &a), 100);
	q.limit = 5000;
	assert_int_equal(targets(s, &q, 0, &a), 1000);
	store_close(s);
}

/* % blocked: blocked / conclusive over the 30 (90) days ending with the
 * day of now. */
static void
test_pct_blocked(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	const int64_t now = T0 + 100 * DAY + 12 * HOUR;
	static struct store_meas v[120];
	int64_t b30 = 0, c30 = 0, b90 = 0, c90 = 0;
	struct tgt t;
	size_t n = 0;

	/* one a day, k days before now, and one in the future */
	for (int k = -1; k < 110; k++) {
		char c = k % 3 == 0 ? 'n' : k % 10 == 5 ? 'x' : 'o';

		v[n++] = meas(keep_str("pct-%d", k), IN1, "RU", "AS9",
			      now - k * DAY + (k % 2) * HOUR, c);
		if (k < 0 || c == 'x')
			continue;
		if (k < 90) {
			c90++;
			b90 += c == 'n';
		}
		if (k < 30) {
			c30++;
			b30 += c == 'n';
		}
	}
	put_ok(s, v, n);
	t = target(s, IN1, "RU", "AS9"); /* now: time(NULL), years later */
	assert_true(t.pct30 == -1 && t.pct90 == -1);
	assert_int_equal(t.n30, 0);
	{
		static struct tgts a;
		struct store_filter q = {0};

		q.input = IN1;
		assert_int_equal(targets(s, &q, now, &a), 1);
		t = a.v[0];
		assert_int_equal(t.n30, c30);
		assert_int_equal(t.n90, c90);
		assert_true(t.pct30 == 100.0 * (double)b30 / (double)c30);
		assert_true(t.pct90 == 100.0 * (double)b90 / (double)c90);
		/* the newest start_time of all: the one in the future, a
		 * day on, so one day of the past drops out of each */
		assert_int_equal(targets(s, &q, STORE_NOW_NEWEST, &a), 1);
		assert_int_equal(a.v[0].n30, c30 + 1 - 1);
		assert_int_equal(a.v[0].n90, c90);
	}
	store_close(s);
}

struct bks {
	char rows[4096];
	size_t len;
};

static int
bk_cb(const struct store_bucket *b, void *arg)
{
	struct bks *a = arg;

	a->len += (size_t)snprintf(
		a->rows + a->len, sizeof(a->rows) - a->len,
		"%s|%s|%s|%lld|%lld %lld %lld %lld %lld %lld %lld %lld\n",
		b->input, b->cc, b->asn, (long long)(b->start - T0),
		(long long)b->ok, (long long)b->dns, (long long)b->tcp_ip,
		(long long)b->tls, (long long)b->http_failure,
		(long long)b->http_diff, (long long)b->down,
		(long long)b->failed);
	assert_true(a->len < sizeof(a->rows));
	return 0;
}

static const char *
timeline(struct store *s, const struct store_filter *q, int g, struct bks *a)
{
	char err[512] = "";

	a->len = 0;
	a->rows[0] = '\0';
	if (store_timeline(s, q, g, bk_cb, a, err, sizeof(err)) != 0)
		fail_msg("store_timeline: %s", err);
	return a->rows;
}

static void
test_timeline_query(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_meas v[8];
	struct store_filter q = {0};
	struct bks a;
	char err[512] = "";

	v[0] = meas("tl-1", IN1, "CN", "AS1", T0 + HOUR + 600, 'o');
	v[1] = meas("tl-2", IN1, "CN", "AS1", T0 + HOUR + 3000, 'n');
	v[2] = meas("tl-3", IN1, "CN", "AS1", T0 + 5 * HOUR, 'x');
	v[3] = meas("tl-4", IN1, "CN", "AS1", T0 + DAY, 's');
	v[4] = meas("tl-5", IN1, "CN", "AS1", T0 + 2 * DAY - 1, 'd');
	v[5] = meas("tl-6", IN1, "CN", "AS1", T0 + 2 * DAY + 12 * HOUR, 'o');
	v[6] = meas("tl-7", IN1, "CN", "AS2", T0, 'o');
	v[7] = meas("tl-8", IN3, "CN", "AS1", T0, 'f');
	put_ok(s, v, 8);

	q.input = IN1;
	assert_string_equal(timeline(s, &q, 86400, &a),
			    IN1 "|CN|AS1|0|1 1 0 0 0 0 0 1\n" IN1
				"|CN|AS1|86400|0 0 0 1 0 0 1 0\n" IN1
				"|CN|AS1|172800|1 0 0 0 0 0 0 0\n" IN1
				"|CN|AS2|0|1 0 0 0 0 0 0 0\n");
	q.asn = "AS1";
	assert_string_equal(timeline(s, &q, 3600, &a),
			    IN1 "|CN|AS1|3600|1 1 0 0 0 0 0 0\n" IN1
				"|CN|AS1|18000|0 0 0 0 0 0 0 1\n" IN1
				"|CN|AS1|86400|0 0 0 1 0 0 0 0\n" IN1
				"|CN|AS1|169200|0 0 0 0 0 0 1 0\n" IN1
				"|CN|AS1|216000|1 0 0 0 0 0 0 0\n");
	/* whole buckets overlapping [since, until) */
	q.since = T0 + DAY + 10 * HOUR;
	q.until = T0 + 2 * DAY;
	assert_string_equal(timeline(s, &q, 86400, &a),
			    IN1 "|CN|AS1|86400|0 0 0 1 0 0 1 0\n");
	q.since = T0 + HOUR + 1800;
	q.until = T0 + DAY + 1;
	assert_string_equal(timeline(s, &q, 3600, &a),
			    IN1 "|CN|AS1|3600|1 1 0 0 0 0 0 0\n" IN1
				"|CN|AS1|18000|0 0 0 0 0 0 0 1\n" IN1
				"|CN|AS1|86400|0 0 0 1 0 0 0 0\n");
	q.until = T0 + DAY;
	assert_string_equal(timeline(s, &q, 86400, &a),
			    IN1 "|CN|AS1|0|1 1 0 0 0 0 0 1\n");
	/* all targets of a country, in (input, cc, asn) order */
	memset(&q, 0, sizeof(q));
	q.cc = "CN";
	q.until = T0 + 1;
	assert_string_equal(timeline(s, &q, 86400, &a),
			    IN3 "|CN|AS1|0|0 0 0 0 1 0 0 0\n" IN1
				"|CN|AS1|0|1 1 0 0 0 0 0 1\n" IN1
				"|CN|AS2|0|1 0 0 0 0 0 0 0\n");
	/* by the target's state and category */
	q.state = "unknown";
	assert_string_equal(timeline(s, &q, 3600, &a),
			    IN3 "|CN|AS1|0|0 0 0 0 1 0 0 0\n" IN1
				"|CN|AS2|0|1 0 0 0 0 0 0 0\n");
	q.state = "accessible"; /* o n s, then d o */
	q.category = "NEWS";
	assert_string_equal(timeline(s, &q, 86400, &a),
			    IN1 "|CN|AS1|0|1 1 0 0 0 0 0 1\n");
	q.category = "GRP";
	assert_string_equal(timeline(s, &q, 86400, &a), "");
	/* the day is the sum of its hours */
	memset(&q, 0, sizeof(q));
	assert_int_equal(
		q_int(s, "SELECT sum(n_ok + n_dns + n_tls + n_down + n_failed"
			 " + n_http_failure) FROM daily_counts"),
		8);
	assert_int_equal(store_timeline(s, &q, 60, bk_cb, &a, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "granularity 60"));
	store_close(s);
}

static void
test_events_query(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_filter q = {0};
	struct evs e, e2;
	int64_t last = 0;

	fill_set(s);
	/* t1 AS1: 2, t2: 1, t3: 1, t4: 2, t6: 1 */
	assert_int_equal(events(s, NULL, &e), 7);
	for (size_t i = 1; i < e.n; i++)
		assert_true(e.v[i - 1].id < e.v[i].id);
	q.cc = "IR";
	assert_int_equal(events(s, &q, &e), 2);
	assert_string_equal(e.v[1].to, "disrupted");
	memset(&q, 0, sizeof(q));
	q.state = "blocked";
	assert_int_equal(events(s, &q, &e), 2);
	assert_string_equal(e.v[0].input, IN1);
	assert_string_equal(e.v[1].input, IN5);
	q.state = NULL;
	q.since = T0 + 5 * HOUR;
	assert_int_equal(events(s, &q, &e), 2); /* t1 blocked, t4 */
	q.until = T0 + 5 * HOUR + 1;
	q.asn = "AS1";
	assert_int_equal(events(s, &q, &e), 1);
	assert_string_equal(e.v[0].method, "tls");
	memset(&q, 0, sizeof(q));
	q.category = "HUMR";
	assert_int_equal(events(s, &q, &e), 2); /* the target's category */
	/* one at a time */
	memset(&q, 0, sizeof(q));
	q.limit = 1;
	e2.n = 0;
	for (;;) {
		struct evs one;

		q.after_id = last;
		if (events(s, &q, &one) == 0)
			break;
		e2.v[e2.n++] = one.v[0];
		last = one.v[0].id;
	}
	assert_int_equal(e2.n, 7);
	store_close(s);
}

struct rows {
	char uids[64][32];
	int64_t ids[64];
	size_t n;
	char first[1024]; /* the first row, every field */
};

static int
row_cb(const struct store_row *r, void *arg)
{
	struct rows *a = arg;

	assert_true(a->n < 64);
	if (a->n == 0)
		snprintf(
			a->first, sizeof(a->first),
			"%s|%s|%s|%s|%s|%s|%s|%s|%d|%lld|%lld|%s|%d|%s|%d|%s|%s",
			r->uid, r->input ? r->input : "N",
			r->test_name ? r->test_name : "N",
			r->category_code ? r->category_code : "N", r->probe_cc,
			r->probe_asn, r->observed_cc ? r->observed_cc : "N",
			r->observed_asn ? r->observed_asn : "N",
			r->geo_mismatch, (long long)(r->start_time - T0),
			(long long)(r->received_time - T0),
			r->blocking ? r->blocking : "N", r->accessible,
			r->blocking_detail ? r->blocking_detail : "N",
			r->confirmed,
			r->analysis_version ? r->analysis_version : "N",
			r->analysis_reason ? r->analysis_reason : "N");
	copy_str(a->uids[a->n], sizeof(a->uids[0]), r->uid);
	a->ids[a->n++] = r->id;
	return 0;
}

static size_t
rows_of(struct store *s, const struct store_filter *q, struct rows *a)
{
	char err[512] = "";

	a->n = 0;
	if (store_measurements(s, q, row_cb, a, err, sizeof(err)) != 0)
		fail_msg("store_measurements: %s", err);
	return a->n;
}

static void
test_measurements_query(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_filter q = {0};
	struct store_meas m;
	struct rows a, b;

	fill_set(s); /* 28 measurements */
	m = meas("full", IN4, "RU", "AS7", T0 + 100 * HOUR, 'o');
	m.observed_cc = "HK";
	m.observed_asn = "AS9304";
	m.geo_mismatch = true;
	m.blocking = "tls";
	m.accessible = 0;
	m.blocking_detail = "tls.reset";
	m.confirmed = true;
	m.analysis_version = "1";
	m.analysis_reason = "tls_sni_filtered";
	m.category_code = NULL;
	put_ok(s, &m, 1);

	assert_int_equal(rows_of(s, NULL, &a), 29);
	for (size_t i = 1; i < a.n; i++)
		assert_true(a.ids[i - 1] < a.ids[i]);
	q.cc = "RU";
	assert_int_equal(rows_of(s, &q, &a), 1);
	assert_string_equal(a.first, "full|" IN4 "|wallwatch_web|N|RU|AS7|HK|"
				     "AS9304|1|360000|360060|tls|0|tls.reset|1|"
				     "1|tls_sni_filtered");
	memset(&q, 0, sizeof(q));
	q.input = IN6;
	assert_int_equal(rows_of(s, &q, &a), 2);
	assert_string_equal(a.first, "t7-1|" IN6 "|wallwatch_web|NEWS|CN|AS1|"
				     "N|N|0|0|60|N|-1|N|0|N|N");

	memset(&q, 0, sizeof(q));
	q.input = IN1;
	q.cc = "CN";
	q.asn = "AS1";
	assert_int_equal(rows_of(s, &q, &a), 9);
	q.category = "HUMR"; /* the measurement's own */
	assert_int_equal(rows_of(s, &q, &a), 1);
	assert_string_equal(a.uids[0], "t1-cat");
	q.category = NULL;
	q.since = T0 + HOUR;
	q.until = T0 + 3 * HOUR;
	assert_int_equal(rows_of(s, &q, &a), 2);
	assert_string_equal(a.uids[0], "t1-2");
	assert_string_equal(a.uids[1], "t1-3");
	memset(&q, 0, sizeof(q));
	q.state = "down";
	assert_int_equal(rows_of(s, &q, &a), 3);
	q.state = NULL;
	q.since = T0 + 4 * HOUR;
	assert_int_equal(rows_of(s, &q, &a), 7); /* t1: 4, t4: 2, full */
	q.cc = "CN";
	assert_int_equal(rows_of(s, &q, &a), 4);
	q.since = 0;
	q.asn = "AS2";
	assert_int_equal(rows_of(s, &q, &a), 3);
	/* pages */
	memset(&q, 0, sizeof(q));
	q.limit = 7;
	assert_int_equal(rows_of(s, &q, &a), 7);
	q.after_id = a.ids[6];
	q.limit = 0;
	assert_int_equal(rows_of(s, &q, &b), 22);
	assert_true(b.ids[0] > a.ids[6]);
	q.cc = "CN"; /* 22 in all, the first 4 (t1-1..4) skipped */
	q.after_id = a.ids[3];
	assert_int_equal(rows_of(s, &q, &b), 18);
	store_close(s);
}

struct xrows {
	char uid[64][32];
	int64_t time[64];
	size_t n, stop_after;
	const char *want_raw[64]; /* by uid number */
	size_t want_len[64];
};

static int
x_cb(const struct store_row *r, const char *raw, size_t len, void *arg)
{
	struct xrows *a = arg;
	long k = strtol(r->uid + 2, NULL, 10);

	assert_true(a->n < 64);
	copy_str(a->uid[a->n], sizeof(a->uid[0]), r->uid);
	a->time[a->n++] = r->start_time;
	assert_int_equal(len, a->want_len[k]);
	assert_memory_equal(raw, a->want_raw[k], len);
	assert_int_equal(raw[len], '\0');
	return a->stop_after != 0 && a->n >= a->stop_after;
}

/* The plan of an export: no sort of the result. */
static void
assert_export_plan(struct store *s, const struct store_filter *fin,
		   const char *want)
{
	struct store_filter f;
	struct store_qb q;
	char sql[4096], *plan;

	if (fx_pg) /* SQLite's plans */
		return;
	assert_int_equal(store_norm_filter(fin, &f, NULL, 0), 0);
	store_read_export_sql(&sqlite_read_ops, &q, &f);
	snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", q.sql.p);
	free(q.sql.p);
	for (char *p = strchr(sql, '?'); p != NULL; p = strchr(p, '?'))
		*p = '1'; /* any value will do */
	plan = q_rows(s, sql);
	if (strstr(plan, want) == NULL ||
	    strstr(plan, "FOR ORDER BY\n") != NULL)
		fail_msg("want %s: %s", want, plan);
	free(plan);
}

static void
test_export(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	static struct xrows a;
	static char big[200000];
	struct store_meas v[10];
	struct store_filter q = {0};
	char err[512] = "";
	/* start times, out of order across and within batches; x-3 and x-4
	 * share one, and come by id */
	const int64_t t[10] = {50, 10, 30, 30, 20, 90, 80, 5, 60, 70};

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)((i * 7919) % 251); /* NULs and high bytes */
	for (int i = 0; i < 10; i++) {
		v[i] = meas(keep_str("x-%d", i), i == 2 ? IN3 : IN1,
			    i < 6 ? "CN" : "IR", "AS1", T0 + t[i], 'o');
		if (i == 4) {
			v[i].raw = big;
			v[i].raw_len = sizeof(big);
		} else {
			v[i].raw = keep_str("{\"k\":%d}", i);
			v[i].raw_len = strlen(v[i].raw);
		}
		a.want_raw[i] = v[i].raw;
		a.want_len[i] = v[i].raw_len;
	}
	put_ok(s, v, 4);
	put_ok(s, v + 4, 6);
	assert_int_equal(store_export(s, NULL, x_cb, &a, err, sizeof(err)), 0);
	assert_int_equal(a.n, 10);
	{
		const char *want[10] = {"x-7", "x-1", "x-4", "x-2", "x-3",
					"x-0", "x-8", "x-9", "x-6", "x-5"};

		for (int i = 0; i < 10; i++)
			assert_string_equal(a.uid[i], want[i]);
	}
	/* filters: no limit applies */
	q.cc = "CN";
	q.limit = 2;
	a.n = 0;
	assert_int_equal(store_export(s, &q, x_cb, &a, err, sizeof(err)), 0);
	assert_int_equal(a.n, 6);
	q.since = T0 + 20;
	q.until = T0 + 50;
	a.n = 0;
	assert_int_equal(store_export(s, &q, x_cb, &a, err, sizeof(err)), 0);
	assert_int_equal(a.n, 3); /* x-4, x-2, x-3 */
	memset(&q, 0, sizeof(q));
	q.input = IN1;
	a.n = 0;
	assert_int_equal(store_export(s, &q, x_cb, &a, err, sizeof(err)), 0);
	assert_int_equal(a.n, 9);
	for (size_t i = 1; i < a.n; i++)
		assert_true(a.time[i - 1] <= a.time[i]);
	/* stopping */
	a.n = 0;
	a.stop_after = 3;
	assert_int_equal(store_export(s, NULL, x_cb, &a, err, sizeof(err)), 0);
	assert_int_equal(a.n, 3);

	/* streamed: the indexes give the order, nothing sorts the rows */
	memset(&q, 0, sizeof(q));
	assert_export_plan(s, &q, "measurements_time");
	q.since = T0;
	q.category = "NEWS";
	q.state = "blocked";
	assert_export_plan(s, &q, "measurements_time (start_time>?)");
	memset(&q, 0, sizeof(q));
	q.cc = "CN";
	q.since = T0;
	assert_export_plan(s, &q, "measurements_cc_time (probe_cc=? AND");
	/* a whole target: only ties of start_time are sorted */
	q.input = IN1;
	q.asn = "AS1";
	assert_export_plan(s, &q, "RIGHT PART OF ORDER BY");
	store_close(s);
}

/* A SCAN in a query plan other than of a subquery. */
static bool
table_scan(const char *plan)
{
	for (const char *p = plan; (p = strstr(p, "SCAN ")) != NULL; p++)
		if (strncmp(p, "SCAN (subquery", 14) != 0)
			return true;
	return false;
}

/* The statements a timeline or a recomputation runs use indexes. */
static void
test_plans(void **state)
{
	const struct fixture *f = *state;
	struct store *s;
	const struct {
		enum stmt_id id;
		const char *want;
	} c[] = {
		{ST_KEY_ROWS, "COVERING INDEX measurements_target_time (input=?"
			      " AND probe_cc=? AND probe_asn=?)"},
		{ST_DAILY_KEY, "COVERING INDEX measurements_target_time"},
		{ST_PCT, "PRIMARY KEY (input=? AND probe_cc=? AND probe_asn=?"
			 " AND day>? AND day<?)"},
		{ST_STATE_GET, "sqlite_autoindex_target_state_1"},
		{ST_KEYS_NEXT, "COVERING INDEX measurements_target_time"},
		{ST_KEY_EVENTS, "events_target"},
		{ST_SUBDAY_KEY, "COVERING INDEX measurements_target_time"},
	};
	char sql[4096], *plan;
	struct sbuf b = {NULL, 0, 0};

	FX_SQLITE_ONLY();
	s = open_ok(f);

	for (size_t i = 0; i < WW_ARRAY_LEN(c); i++) {
		const char *stmt = store_sqlite_stmt(c[i].id, &b);

		snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", stmt);
		plan = q_rows(s, sql);
		/* no table is scanned (the daily cap's subqueries are
		 * scanned: the rows of one target, from the index) */
		if (strstr(plan, c[i].want) == NULL || table_scan(plan))
			fail_msg("%s: want %s: %s", stmt, c[i].want, plan);
		free(plan);
	}
	free(b.p);
	store_close(s);
}

struct rus {
	char rows[1024];
	size_t len;
};

static int
ru_cb(const struct store_rollup *r, void *arg)
{
	struct rus *a = arg;

	a->len += (size_t)snprintf(
		a->rows + a->len, sizeof(a->rows) - a->len,
		"%s %s: %lld blocked, %lld disrupted, %lld accessible, %lld "
		"down, %lld unknown of %lld\n",
		r->cc, r->asn, (long long)r->blocked, (long long)r->disrupted,
		(long long)r->accessible, (long long)r->down,
		(long long)r->unknown, (long long)r->total);
	return 0;
}

static const char *
rollup(struct store *s, const char *domain, struct rus *a)
{
	char err[512] = "";

	a->len = 0;
	a->rows[0] = '\0';
	if (store_domain_rollup(s, domain, ru_cb, a, err, sizeof(err)) != 0)
		fail_msg("store_domain_rollup: %s", err);
	return a->rows;
}

static void
test_domain_rollup(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct rus a;
	char err[512] = "";

	fill_set(s);
	put_seq(s, "evil", "https://example.org.evil.com/", "CN", "AS1", T0,
		"s s s");
	put_seq(s, "ip", "https://[2001:db8::1]/", "CN", "AS1", T0, "s s s");
	put_seq(s, "bad", "not a url", "CN", "AS1", T0, "s s s");
	assert_string_equal(
		rollup(s, "Example.ORG.", &a),
		"CN AS1: 1 blocked, 0 disrupted, 0 accessible, 1 down, 1 "
		"unknown of 3\n"
		"CN AS2: 0 blocked, 0 disrupted, 1 accessible, 0 down, 0 "
		"unknown of 1\n"
		"IR AS3: 0 blocked, 1 disrupted, 0 accessible, 0 down, 0 "
		"unknown of 1\n");
	assert_string_equal(rollup(s, "news.example.org", &a),
			    "IR AS3: 0 blocked, 1 disrupted, 0 accessible, 0 "
			    "down, 0 unknown of 1\n");
	assert_string_equal(rollup(s, "org", &a),
			    "CN AS1: 2 blocked, 0 disrupted, 0 accessible, 1 "
			    "down, 1 unknown of 4\n"
			    "CN AS2: 0 blocked, 0 disrupted, 1 accessible, 0 "
			    "down, 0 unknown of 1\n"
			    "IR AS3: 0 blocked, 1 disrupted, 0 accessible, 0 "
			    "down, 0 unknown of 1\n");
	assert_string_equal(rollup(s, "2001:db8::1", &a),
			    "CN AS1: 1 blocked, 0 disrupted, 0 accessible, 0 "
			    "down, 0 unknown of 1\n");
	assert_string_equal(rollup(s, "ample.org", &a), "");
	assert_int_equal(
		store_domain_rollup(s, ".", ru_cb, &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(
		store_domain_rollup(s, NULL, ru_cb, &a, err, sizeof(err)), -1);
	store_close(s);
}

/* --- migration ----------------------------------------------------------- */

/* --- both backends ----------------------------------------------------------
 */

/* Everything store.h answers about a store, as text: targets, day and
 * hour buckets, events, rows, exports (raw included) and a roll-up, ids
 * and all (but the events'). */
static void
sbf(struct sbuf *b, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sb_add(b, line, strlen(line));
}

#define NZ(v) ((v) != NULL ? (v) : "N")

static int
ans_target(const struct store_target *t, void *arg)
{
	sbf(arg,
	    "T %lld|%s|%s|%s|%s|%s|%s|%lld|%lld|%.3f|%.3f|%lld|%lld|%s|%lld\n",
	    (long long)t->id, t->input, NZ(t->category_code), t->cc, t->asn,
	    t->state, NZ(t->method), (long long)t->since,
	    (long long)t->last_tested, t->pct_blocked_30, t->pct_blocked_90,
	    (long long)t->n_30, (long long)t->n_90, NZ(t->host),
	    (long long)t->n_conclusive);
	return 0;
}

static int
ans_bucket(const struct store_bucket *k, void *arg)
{
	sbf(arg,
	    "B %s|%s|%s|%lld|%lld %lld %lld %lld %lld %lld %lld %lld %lld\n",
	    k->input, k->cc, k->asn, (long long)k->start, (long long)k->ok,
	    (long long)k->dns, (long long)k->tcp_ip, (long long)k->tls,
	    (long long)k->http_failure, (long long)k->http_diff,
	    (long long)k->server_side, (long long)k->down,
	    (long long)k->failed);
	return 0;
}

/* Events without their ids: a recomputation replaces the events it does
 * not find again, and SQLite gives the new ones the numbers of the
 * deleted (the largest rowid plus one), PostgreSQL new ones (a
 * sequence); both keep those found again, and the order. */
static int
ans_event(const struct store_event *e, void *arg)
{
	sbf(arg, "E %lld|%s|%s|%s|%s|%s|%s|%s\n", (long long)e->time, e->input,
	    e->cc, e->asn, e->from_state, e->to_state, NZ(e->method),
	    e->uids_json);
	return 0;
}

static void
ans_row_of(struct sbuf *b, const struct store_row *r)
{
	sbf(b,
	    "R %lld|%s|%s|%s|%s|%s|%s|%s|%s|%d|%lld|%lld|%s|%d|%s|%d|%s|%s|%s|%s|%d\n",
	    (long long)r->id, r->uid, NZ(r->input), NZ(r->test_name),
	    NZ(r->category_code), r->probe_cc, r->probe_asn, NZ(r->observed_cc),
	    NZ(r->observed_asn), r->geo_mismatch, (long long)r->start_time,
	    (long long)r->received_time, NZ(r->blocking), r->accessible,
	    NZ(r->blocking_detail), r->confirmed, NZ(r->analysis_version),
	    NZ(r->analysis_reason), NZ(r->evidence), NZ(r->evidence_detail),
	    r->packets);
}

static int
ans_row(const struct store_row *r, void *arg)
{
	ans_row_of(arg, r);
	return 0;
}

static int
ans_export(const struct store_row *r, const char *raw, size_t len, void *arg)
{
	ans_row_of(arg, r);
	sb_add(arg, raw, len);
	sb_add(arg, "\n", 1);
	return 0;
}

static int
ans_rollup(const struct store_rollup *r, void *arg)
{
	sbf(arg, "U %s|%s|%lld %lld %lld %lld %lld %lld\n", r->cc, r->asn,
	    (long long)r->blocked, (long long)r->disrupted,
	    (long long)r->accessible, (long long)r->down, (long long)r->unknown,
	    (long long)r->total);
	return 0;
}

static char *
answers(struct store *s)
{
	struct sbuf b = {NULL, 0, 0};
	struct store_filter f;
	char err[512] = "";

	memset(&f, 0, sizeof(f));
	f.limit = STORE_LIMIT_MAX;
	sb_add(&b, "", 0);
	sbf(&b, "count %lld\n", (long long)store_count(s));
	if (store_targets(s, &f, STORE_NOW_NEWEST, ans_target, &b, err,
			  sizeof(err)) != 0 ||
	    store_timeline(s, &f, 86400, ans_bucket, &b, err, sizeof(err)) !=
		    0 ||
	    store_timeline(s, &f, 3600, ans_bucket, &b, err, sizeof(err)) !=
		    0 ||
	    store_events(s, &f, ans_event, &b, err, sizeof(err)) != 0 ||
	    store_measurements(s, &f, ans_row, &b, err, sizeof(err)) != 0 ||
	    store_export(s, &f, ans_export, &b, err, sizeof(err)) != 0 ||
	    store_domain_rollup(s, "example.org", ans_rollup, &b, err,
				sizeof(err)) != 0)
		fail_msg("answers: %s", err);
	f.cc = "CN";
	f.state = "blocked";
	f.since = T0 + 2 * HOUR;
	f.until = T0 + 30 * HOUR;
	if (store_targets(s, &f, STORE_NOW_NEWEST, ans_target, &b, err,
			  sizeof(err)) != 0 ||
	    store_timeline(s, &f, 3600, ans_bucket, &b, err, sizeof(err)) !=
		    0 ||
	    store_export(s, &f, ans_export, &b, err, sizeof(err)) != 0)
		fail_msg("answers: %s", err);
	return b.p;
}

/* The same measurements, batches and reanalysis given to SQLite and to
 * PostgreSQL: the same answers from store.h, ids included but the
 * events' (run by `make unit-pg`: it needs both). */
static void
test_backends_agree(void **state)
{
	const struct fixture *f = *state;
	struct store *s[2];
	struct store_meas v[64];
	size_t n = strlen(late_seq);
	char path[160], err[512] = "", *a[2];

	if (!fx_pg)
		skip();
	snprintf(path, sizeof(path), "%s/sqlite.db", f->dir);
	s[0] = fx_open(path);
	s[1] = open_ok(f);
	for (size_t i = 0; i < n; i++) {
		v[i] = meas(keep_str("ag-%02zu", i),
			    i % 5 == 4 ? "https://b.example.org/" : IN1, "CN",
			    i % 7 == 6 ? "AS2" : "AS1", T0 + (int64_t)i * HOUR,
			    late_seq[i]);
		v[i].submitter = i % 3 == 0   ? "key:aaaa"
				 : i % 3 == 1 ? "anon:AS1:2023-11-14T01"
					      : NULL;
		v[i].geo_mismatch = i % 11 == 10;
		v[i].received_time = T0 + (int64_t)(n - i) * 60;
	}
	for (int k = 0; k < 2; k++) {
		fill_set(s[k]);
		/* in batches, late ones among them, then a retry */
		for (size_t i = 0; i < n; i += 9)
			put_ok(s[k], &v[n - 9 > i ? n - 9 - i : 0],
			       n - 9 > i ? 9 : n - i);
		put_ok(s[k], v, n);
		assert_int_equal(store_reanalyze(s[k], ra_cb, NULL, err,
						 sizeof(err)) >= 0,
				 1);
		a[k] = answers(s[k]);
	}
	assert_string_equal(a[0], a[1]);
	free(a[0]);
	free(a[1]);
	store_close(s[0]);
	store_close(s[1]);
}

/* A version 1 database made with version 1's own SQL, as a collector of
 * that version left it, then opened by this code. */
static void
test_migrate_v1(void **state)
{
	const struct fixture *f = *state;
	const char *seq = "ooosss";
	struct store *s;
	sqlite3 *h;
	sqlite3_stmt *st;
	struct evs e;
	struct xrows *a;
	char err[512] = "", *rows;

	FX_SQLITE_ONLY();
	a = calloc(1, sizeof(*a));

	assert_non_null(a);
	assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(h,
			     "PRAGMA journal_mode = WAL;"
			     "CREATE TABLE schema_version ("
			     " id INTEGER PRIMARY KEY CHECK (id = 1),"
			     " version INTEGER NOT NULL);"
			     "INSERT INTO schema_version VALUES (1, 1)",
			     NULL, NULL, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, migrations[0], NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(
			h,
			"INSERT INTO measurements (uid, raw, raw_len, input,"
			" test_name, category_code, probe_cc, probe_asn,"
			" geo_mismatch, start_time, received_time, blocking,"
			" accessible, confirmed) VALUES (?1, ?2, ?3, ?4,"
			" 'wallwatch_web', 'NEWS', 'CN', 'AS1', 0, ?5, ?5, ?6,"
			" ?7, 0)",
			-1, &st, NULL),
		SQLITE_OK);
	for (int i = 0; i < 7; i++) {
		const char *raw = keep_str("{\"v1\":%d}", i);
		unsigned char z[128];
		uLongf zlen = sizeof(z);
		struct store_meas m =
			meas("", NULL, "CN", "AS1", 0, i < 6 ? seq[i] : 'o');

		assert_int_equal(
			compress(z, &zlen, (const Bytef *)raw, strlen(raw)),
			Z_OK);
		a->want_raw[i] = raw;
		a->want_len[i] = strlen(raw);
		sqlite3_bind_text(st, 1, keep_str("v-%d", i), -1,
				  SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, z, (int)zlen, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 3, (int)strlen(raw));
		if (i < 6)
			sqlite3_bind_text(st, 4, IN1, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 4); /* no target */
		sqlite3_bind_int64(st, 5, T0 + i * HOUR);
		sqlite3_bind_text(st, 6, m.blocking, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 7, m.accessible);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);

	s = open_ok(f);
	assert_int_equal(q_int(s, "SELECT version FROM schema_version"),
			 SCHEMA_VERSION);
	assert_int_equal(SCHEMA_VERSION, 12);
	assert_int_equal(store_count(s), 7);
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	assert_string_equal(target(s, IN1, "CN", "AS1").host,
			    "www.example.org");
	assert_string_equal(target(s, IN1, "CN", "AS1").category, "NEWS");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 2);
	assert_event(&e.v[1], T0 + 5 * HOUR, "accessible", "blocked", "tls",
		     "[\"v-3\",\"v-4\",\"v-5\"]");
	rows = q_rows(s, "SELECT day, n_ok, n_tls FROM daily_counts");
	assert_string_equal(rows, "2023-11-14|3|3\n");
	free(rows);
	assert_int_equal(q_int(s, "SELECT count(*) FROM stale_targets"), 0);
	/* the raw of version 1 reads back */
	assert_int_equal(store_export(s, NULL, x_cb, a, err, sizeof(err)), 0);
	assert_int_equal(a->n, 7);
	/* and it goes on from there */
	put_seq(s, "v2", IN1, "CN", "AS1", T0 + DAY, "o o o");
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "accessible");
	store_close(s);
	/* opened again: nothing migrated twice */
	s = open_ok(f);
	assert_int_equal(q_int(s, "SELECT count(*) FROM events"), 3);
	store_close(s);
	free(a);
}

/* A version 2 database (before the server-side class), with a target
 * that version 2 showed as blocked by http-diff: opened by this code, its
 * counts, state and events are derived again with the new class. */
static void
test_migrate_v2(void **state)
{
	const struct fixture *f = *state;
	const char *seq = "ooowww";
	struct store *s;
	sqlite3 *h;
	sqlite3_stmt *st;
	struct evs e;
	char *rows;

	FX_SQLITE_ONLY();

	assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(h,
			     "PRAGMA journal_mode = WAL;"
			     "CREATE TABLE schema_version ("
			     " id INTEGER PRIMARY KEY CHECK (id = 1),"
			     " version INTEGER NOT NULL);"
			     "INSERT INTO schema_version VALUES (1, 2)",
			     NULL, NULL, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, migrations[0], NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, migrations[1], NULL, NULL, NULL),
			 SQLITE_OK);
	/* what version 2 wrote for "o o o h h h": its state and event */
	assert_int_equal(
		sqlite3_exec(
			h,
			"INSERT INTO target_state (input, probe_cc, probe_asn,"
			" host, rhost, state, method, since, last_tested,"
			" n_conclusive, last_time, last_id, win, fresh) VALUES"
			" ('" IN1 "', 'CN', 'AS1', 'www.example.org',"
			" 'gro.elpmaxe.www', 'blocked', 'http-diff', 0, 0, 6,"
			" 0, 6, 'o:3,h:4,h:5,h:6', 4);"
			"INSERT INTO events (input, probe_cc, probe_asn, time,"
			" from_state, to_state, method, uids) VALUES ('" IN1
			"', 'CN', 'AS1', 0, 'accessible', 'blocked',"
			" 'http-diff', '[]')",
			NULL, NULL, NULL),
		SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(
			h,
			"INSERT INTO measurements (uid, raw, raw_len, input,"
			" test_name, category_code, probe_cc, probe_asn,"
			" geo_mismatch, start_time, received_time, blocking,"
			" accessible, blocking_detail, confirmed) VALUES (?1,"
			" x'00', 1, '" IN1 "', 'wallwatch_web', 'NEWS', 'CN',"
			" 'AS1', 0, ?2, ?2, ?3, ?4, ?5, 0)",
			-1, &st, NULL),
		SQLITE_OK);
	for (int i = 0; i < 6; i++) {
		struct store_meas m = meas("", NULL, "CN", "AS1", 0, seq[i]);

		sqlite3_bind_text(st, 1, keep_str("u-%d", i), -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, T0 + i * HOUR);
		sqlite3_bind_text(st, 3, m.blocking, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, m.accessible);
		sqlite3_bind_text(st, 5, m.blocking_detail, -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);

	s = open_ok(f);
	assert_int_equal(q_int(s, "SELECT version FROM schema_version"),
			 SCHEMA_VERSION);
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	assert_string_equal(target(s, IN1, "CN", "AS1").method, "server-side");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 2);
	assert_event(&e.v[1], T0 + 5 * HOUR, "accessible", "blocked",
		     "server-side", "[\"u-3\",\"u-4\",\"u-5\"]");
	rows = q_rows(s, "SELECT day, n_ok, n_http_diff, n_server_side"
			 " FROM daily_counts");
	assert_string_equal(rows, "2023-11-14|3|0|3\n");
	free(rows);
	assert_int_equal(q_int(s, "SELECT count(*) FROM stale_targets"), 0);
	store_close(s);
}

/* --- agreement (docs/timelines.md, "Agreement") ----------------------------
 */

static void
agree_set(struct store *s, int n, int h, int cap, bool geo)
{
	struct store_agreement a = {n, h, cap, geo};
	char err[512] = "";

	if (store_agreement_set(s, &a, err, sizeof(err)) < 0)
		fail_msg("store_agreement_set: %s", err);
}

static int n_by; /* makes the uids of by() unique */

/* A measurement of IN1 from CN AS1 by submitter sub (NULL: none), started
 * at `at`, received a minute later. */
static struct store_meas
by(const char *sub, int64_t at, char cls)
{
	struct store_meas m =
		meas(keep_str("by-%d", ++n_by), IN1, "CN", "AS1", at, cls);

	m.submitter = sub;
	m.received_time = at + 60;
	return m;
}

/* IN1 from CN AS1 with `now` for the percentages. */
static struct tgt
target_at(struct store *s, int64_t now)
{
	static struct tgts a;
	struct store_filter f = {0};

	f.input = IN1;
	assert_int_equal(targets(s, &f, now, &a), 1);
	return a.v[0];
}

static void
put_by(struct store *s, const char *sub, int64_t at, char cls)
{
	struct store_meas m = by(sub, at, cls);

	put_ok(s, &m, 1);
}

/* Two honest probes, alternating, one measurement an hour each from
 * T0 + h0 hours: the classes of seq. */
static void
put_honest(struct store *s, int h0, const char *seq)
{
	for (int i = 0; seq[i] != '\0'; i++)
		put_by(s, i % 2 == 0 ? "key:aaaa" : "key:bbbb",
		       T0 + (h0 + i) * HOUR, seq[i]);
}

/* n forged "blocked" measurements in ONE batch (one POST), their start
 * times spread over the hour after T0 + h0 hours, by submitter sub; with
 * hours, sub is a prefix that takes one of 24 hours ("<sub>05T00"). */
static void
put_flood(struct store *s, int h0, size_t n, const char *sub, bool hours)
{
	struct store_meas *v = calloc(n, sizeof(*v));
	char(*uid)[32] = calloc(n, sizeof(*uid));
	char(*subs)[64] = calloc(n, sizeof(*subs));

	assert_non_null(v);
	assert_non_null(uid);
	assert_non_null(subs);
	for (size_t i = 0; i < n; i++) {
		snprintf(uid[i], sizeof(uid[i]), "flood-%d-%zu", h0, i);
		if (hours)
			snprintf(subs[i], sizeof(subs[i]), "%s%02dT00", sub,
				 (int)(i % 24));
		else
			snprintf(subs[i], sizeof(subs[i]), "%s", sub);
		v[i] = meas(uid[i], IN1, "CN", "AS1",
			    T0 + h0 * HOUR + (int64_t)(i % 3600), 's');
		v[i].submitter = subs[i];
		/* received now, in one POST */
		v[i].received_time = T0 + h0 * HOUR + 3600;
	}
	put_ok(s, v, n);
	free(v);
	free(uid);
	free(subs);
}

/* The attack of issue 12: one unauthenticated POST of 10,000 forged
 * "blocked" measurements flipped a target with a public event. Now a
 * flood from one key, or from one network's unsigned submitters, changes
 * nothing that two honest probes keep; the honest probes' agreement
 * still changes the state, and a recomputation finds the same. */
static void
test_agree_flood(void **state)
{
	const struct fixture *f = *state;
	/* one key; one unsigned network in one hour; the same network in
	 * 24 different hours (ids) */
	const char *floods[] = {"key:ffff", "anon:AS9:2023-11-14T05",
				"anon:AS9:2023-11-"};

	for (size_t k = 0; k < WW_ARRAY_LEN(floods); k++) {
		struct store *s = open_ok(f);
		struct evs e;
		char *d1, *d2;

		exec_ok(s,
			"DELETE FROM measurements; DELETE FROM events;"
			" DELETE FROM target_state; DELETE FROM daily_counts;"
			" DELETE FROM submitter_days");
		if (fx_pg) /* where PostgreSQL keeps the uids */
			exec_ok(s, "DELETE FROM measurement_uids");
		agree_set(s, 2, 6, 48, false);
		put_honest(s, 0, "oooooo");
		assert_string_equal(target(s, IN1, "CN", "AS1").state,
				    "accessible");
		assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 1);
		put_flood(s, 6, 10000, floods[k], k == 2);
		assert_string_equal(target(s, IN1, "CN", "AS1").state,
				    "accessible");
		/* the honest probes go on: still nothing */
		put_honest(s, 8, "oooo");
		assert_string_equal(target(s, IN1, "CN", "AS1").state,
				    "accessible");
		assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 1);
		/* the day's counts: the flooder counts 48 */
		assert_int_equal(
			q_int(s, "SELECT sum(n_tls) FROM daily_counts"), 48);
		assert_int_equal(
			q_int(s, "SELECT sum(n_capped) FROM daily_counts"),
			10000 - 48);
		/* 48 of 58 (without the cap: 10,000 of 10,010) */
		assert_float_equal(target_at(s, T0 + 12 * HOUR).pct30,
				   100.0 * 48 / 58, 0.001);
		/* the honest probes agree: blocked, on their evidence */
		put_honest(s, 12, "sss");
		assert_string_equal(target(s, IN1, "CN", "AS1").state,
				    "blocked");
		assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 2);
		assert_string_equal(e.v[1].from, "accessible");
		assert_int_equal(e.v[1].time, T0 + 14 * HOUR);
		/* and back, when they both see it so */
		put_honest(s, 15, "ooo");
		assert_string_equal(target(s, IN1, "CN", "AS1").state,
				    "accessible");
		/* recomputed from history: the same */
		d1 = derived(s);
		assert_int_equal(rebuild_all(s), 0);
		d2 = derived(s);
		assert_string_equal(d1, d2);
		free(d1);
		free(d2);
		store_close(s);
	}
}

/* Issue 12's combined attack: a censor in the target's network floods
 * "blocked" from one key AND unsigned (anon:<its network>), which are two
 * submitters. The honest keyed probes' latest words outvote them (the
 * keyed submitters heard in the last day, each once); one honest probe
 * seeing blocking is then two keys (it and the forger's) against two, not
 * enough; a second one makes it. A flood of "ok" from the same two does
 * not take it back. A recomputation finds the same. */
static void
test_agree_combined(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct evs e;
	char *d1, *d2;

	put_honest(s, 0, "oooooo");
	put_by(s, "key:cccc", T0 + 5 * HOUR + 1800, 'o');
	put_flood(s, 6, 10000, "key:ffff", false);
	put_flood(s, 7, 10000, "anon:AS1:2023-11-", true);
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "accessible");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 1);
	/* one honest probe sees it blocked: with the forger's key, 2 against
	 * 2 (the unsigned count for N, not in the vote) */
	put_by(s, "key:aaaa", T0 + 10 * HOUR, 's');
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "accessible");
	/* a second: 3 against 1 */
	put_by(s, "key:bbbb", T0 + 10 * HOUR + 60, 's');
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 2);
	assert_int_equal(e.v[1].time, T0 + 10 * HOUR + 60);
	/* the censor's "ok" from its key and its network: 2 against 2 */
	for (int i = 0; i < 50; i++) {
		put_by(s, "key:ffff", T0 + 11 * HOUR + 2 * i, 'o');
		put_by(s, keep_str("anon:AS1:2023-11-14T%02d", i % 24),
		       T0 + 11 * HOUR + 2 * i + 1, 'o');
	}
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 2);
	d1 = derived(s);
	assert_int_equal(rebuild_all(s), 0);
	d2 = derived(s);
	assert_string_equal(d1, d2);
	free(d1);
	free(d2);
	store_close(s);
}

/* A patient flood: one unsigned network sends 20 forged "blocked" every
 * hour for 10 hours, more than H, while two honest probes send one "ok"
 * an hour each. The flooder holds at most 4 of the window's 5 places, so
 * the honest probes' latest stays there and contradicts it: no change. */
static void
test_agree_patient_flood(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct evs e;

	put_honest(s, 0, "oooooo");
	for (int h = 6; h < 16; h++) {
		const char *sub = keep_str("anon:AS1:2023-11-14T%02d", h);

		put_by(s, "key:aaaa", T0 + h * HOUR, 'o');
		put_by(s, "key:bbbb", T0 + h * HOUR + 1, 'o');
		for (int i = 0; i < 20; i++)
			put_by(s, sub, T0 + h * HOUR + 10 + i, 's');
	}
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "accessible");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 1);
	store_close(s);
}

/* The other way round: a censor's flood of "ok" (from one key) does not
 * take back a blocked state two probes agree on, nor push their evidence
 * out of the window. */
static void
test_agree_flood_ok(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);

	put_honest(s, 0, "sssss");
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	for (int i = 0; i < 50; i++)
		put_by(s, "key:cccc", T0 + 5 * HOUR + i, 'o');
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	/* one honest probe recovering, with the flooder: that is two */
	put_by(s, "key:aaaa", T0 + 6 * HOUR, 'o');
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "accessible");
	store_close(s);
}

/* N = 1: any one submitter is enough (a single-probe deployment); the
 * window is then the plain last five, as before agreement. */
static void
test_agree_single_probe(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct evs e;

	agree_set(s, 1, 6, 48, false);
	for (int i = 0; i < 3; i++)
		put_by(s, "key:aaaa", T0 + i * HOUR, 'o');
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "accessible");
	for (int i = 3; i < 6; i++)
		put_by(s, "key:aaaa", T0 + i * HOUR, 's');
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 2);
	assert_int_equal(e.v[1].time, T0 + 5 * HOUR);
	store_close(s);
}

/* One submitter's window holds its share (4 of 5 with N = 2): that is a
 * sound state, kept and moved forward, not one to recompute at each new
 * measurement. */
static void
test_agree_share_kept(void **state)
{
	const struct fixture *f = *state;
	struct store *s;
	struct tl t;

	FX_SQLITE_ONLY();
	s = open_ok(f);

	for (int i = 0; i < 8; i++)
		put_by(s, "key:aaaa", T0 + i * HOUR, 'o');
	tl_init(&t, IN1, "CN", "AS1");
	assert_int_equal(tl_load(sq(s), &t, NULL, 0), 0);
	assert_int_equal(t.wn, 4);
	assert_int_equal(t.n_conclusive, 8);
	/* and its latest word, as a voter */
	assert_int_equal(t.nv, 1);
	assert_int_equal(t.vot[0].rt, T0 + 7 * HOUR + 60);
	tl_free(&t);
	/* a window of schema 5's form (no voters) is recomputed */
	exec_ok(s, "UPDATE target_state SET win = substr(win, 1,"
		   " instr(win, '|') - 1)");
	tl_init(&t, IN1, "CN", "AS1");
	assert_int_equal(tl_load(sq(s), &t, NULL, 0), 2);
	tl_free(&t);
	store_close(s);
}

/* H: one submitter alone changes a state once its evidence spans H hours
 * of the collector's clock, and not while another contradicts it. */
static void
test_agree_hours(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct evs e;

	agree_set(s, 2, 6, 48, false);
	for (int i = 0; i < 3; i++)
		put_by(s, "key:aaaa", T0 + i * HOUR, 's');
	/* 2 hours of one submitter */
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "unknown");
	for (int i = 3; i < 6; i++)
		put_by(s, "key:aaaa", T0 + i * HOUR, 's');
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "unknown");
	put_by(s, "key:aaaa", T0 + 6 * HOUR, 's');
	/* received from T0 + 60 to T0 + 6 h + 60: 6 hours */
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 1);
	assert_int_equal(e.v[0].time, T0 + 6 * HOUR);

	/* the unsigned of one network, hour after hour, are one submitter
	 * too: 6 hours of them (a deployment of unsigned probes), unless
	 * someone else says otherwise */
	put_by(s, "anon:AS1:2023-11-14T07", T0 + 7 * HOUR, 'o');
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	for (int h = 8; h <= 12; h++)
		put_by(s, keep_str("anon:AS1:2023-11-14T%02d", h),
		       T0 + h * HOUR, 'o');
	/* 5 hours */
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	/* 6 hours and more: key:aaaa's word is older than the run, but a
	 * keyed submitter's latest word outvotes the unsigned for a day */
	for (int h = 13; h <= 30; h++)
		put_by(s, keep_str("anon:AS1:2023-11-14T%02d", h),
		       T0 + h * HOUR, 'o');
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	/* received at T0 + 6 h + 60, a day before T0 + 30 h + 60: it has
	 * lapsed with the next one */
	put_by(s, "anon:AS1:2023-11-14T31", T0 + 31 * HOUR, 'o');
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "accessible");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 2);
	assert_int_equal(e.v[1].time, T0 + 31 * HOUR);
	/* two submitters that contradict each other hour after hour: neither
	 * is alone long enough (nor disrupted: one says blocked) */
	for (int h = 32; h < 42; h++) {
		put_by(s, "key:aaaa", T0 + h * HOUR, 's');
		put_by(s, keep_str("anon:AS1:2023-11-14T%02d", h),
		       T0 + h * HOUR + 1, 'o');
	}
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "accessible");
	assert_int_equal(target_events(s, IN1, "CN", "AS1", &e), 2);

	/* H = 0: no single submitter is ever enough */
	agree_set(s, 2, 0, 48, false);
	assert_int_equal(q_int(s, "SELECT count(*) FROM events WHERE"
				  " to_state = 'blocked'"),
			 0);
	store_close(s);
}

/* A revoked key's measurements are left out once recomputed: as if never
 * sent (state, events, counts). */
static void
test_agree_revoked(void **state)
{
	const struct fixture *f = *state;
	struct store *a = open_ok(f), *b;
	struct store_meas v[7];
	char path[512], *da, *db;

	fx_db(f, "other.db", path, sizeof(path));
	b = fx_open(path);
	const char *forged[] = {"key:eeee", "key:ffff", "key:9999"};

	for (int i = 0; i < 7; i++)
		v[i] = by(i < 3 || i == 6 ? (i % 2 ? "key:bbbb" : "key:aaaa")
					  : forged[i - 3],
			  T0 + i * HOUR, i < 3 || i == 6 ? 'o' : 's');
	/* three forged keys agree, and outnumber the two honest ones: that
	 * flips it */
	for (int i = 0; i < 6; i++)
		put_ok(a, &v[i], 1);
	assert_string_equal(target(a, IN1, "CN", "AS1").state, "blocked");
	put_ok(a, &v[6], 1);
	/* what `keys revoke` does to the rows of a key */
	exec_ok(a, "UPDATE measurements SET revoked = 1 WHERE submitter IN"
		   " ('key:eeee', 'key:ffff', 'key:9999');"
		   "INSERT INTO stale_targets SELECT DISTINCT input,"
		   " probe_cc, probe_asn FROM measurements WHERE revoked = 1"
		   " ON CONFLICT DO NOTHING");
	store_close(a);
	a = open_ok(f);
	assert_string_equal(target(a, IN1, "CN", "AS1").state, "accessible");
	assert_int_equal(q_int(a, "SELECT count(*) FROM events"), 1);
	assert_int_equal(q_int(a, "SELECT sum(n_tls) FROM daily_counts"), 0);
	/* the same as a store that never had them */
	put_ok(b, &v[0], 3);
	put_ok(b, &v[6], 1);
	da = derived(a);
	db = derived(b);
	assert_string_equal(da, db);
	free(da);
	free(db);
	store_close(a);
	store_close(b);
}

/* Measurements whose claimed network is not the observed one move no
 * state, and are counted apart, unless the operator allows them. */
static void
test_agree_geo_mismatch(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	const char *keys[] = {"key:1111", "key:2222", "key:3333"};

	put_honest(s, 0, "ooo");
	for (int i = 0; i < 6; i++) {
		struct store_meas m = by(keys[i % 3], T0 + (3 + i) * HOUR, 's');

		m.geo_mismatch = true;
		put_ok(s, &m, 1);
	}
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "accessible");
	assert_int_equal(q_int(s, "SELECT sum(n_geo_mismatch) FROM"
				  " daily_counts"),
			 6);
	assert_int_equal(q_int(s, "SELECT sum(n_tls) FROM daily_counts"), 0);
	assert_float_equal(target_at(s, T0 + DAY).pct30, 0, 0.001);
	assert_int_equal(target_at(s, T0 + DAY).n30, 3);
	assert_int_equal(target(s, IN1, "CN", "AS1").last_tested,
			 T0 + 8 * HOUR);
	/* allowed: three keys agree */
	agree_set(s, 2, 6, 48, true);
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	assert_int_equal(q_int(s, "SELECT sum(n_tls) FROM daily_counts"), 6);
	assert_int_equal(q_int(s, "SELECT sum(n_geo_mismatch) FROM"
				  " daily_counts"),
			 0);
	store_close(s);
}

/* One submitter's share of a day is capped: the first daily_cap it sent
 * (in arrival order) count, the rest count apart; the unsigned of one
 * network share one cap; rows without a submitter are never capped. The
 * same comes out of a recomputation. */
static void
test_agree_cap(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	char *d1, *d2;

	agree_set(s, 2, 6, 10, false);
	for (int i = 0; i < 25; i++)
		put_by(s, "key:aaaa", T0 + i * 60, 'o');
	for (int i = 0; i < 25; i++)
		put_by(s, keep_str("anon:AS7:2023-11-14T%02d", i % 5),
		       T0 + i * 60 + 1, 'd');
	for (int i = 0; i < 25; i++)
		put_by(s, NULL, T0 + i * 60 + 2, 's');
	/* the next day: a new count */
	for (int i = 0; i < 3; i++)
		put_by(s, "key:aaaa", T0 + DAY + i * 60, 'o');
	d1 = q_rows(s, "SELECT day, n_ok, n_down, n_tls, n_capped"
		       " FROM daily_counts ORDER BY day");
	assert_string_equal(d1, "2023-11-14|10|10|25|30\n"
				"2023-11-15|3|0|0|0\n");
	free(d1);
	d1 = derived(s);
	assert_int_equal(rebuild_all(s), 0);
	d2 = derived(s);
	assert_string_equal(d1, d2);
	free(d1);
	free(d2);
	/* no cap */
	agree_set(s, 2, 6, 0, false);
	assert_int_equal(q_int(s, "SELECT sum(n_ok) FROM daily_counts"), 28);
	assert_int_equal(q_int(s, "SELECT sum(n_capped) FROM daily_counts"), 0);
	store_close(s);
}

/* The settings belong to the database: kept, read back at open, checked;
 * a change recomputes every target. */
static void
test_agree_settings(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_agreement a, bad = {4, 6, 48, false};
	char err[256] = "";

	store_agreement_get(s, &a);
	assert_int_equal(a.min_submitters, 2);
	assert_int_equal(a.single_submitter_hours, 6);
	assert_int_equal(a.daily_cap, 48);
	assert_false(a.allow_geo_mismatch);
	for (int i = 0; i < 3; i++)
		put_by(s, "key:aaaa", T0 + i * HOUR, 's');
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "unknown");
	a.min_submitters = 1;
	assert_int_equal(store_agreement_set(s, &a, err, sizeof(err)), 1);
	assert_string_equal(target(s, IN1, "CN", "AS1").state, "blocked");
	assert_int_equal(store_agreement_set(s, &a, err, sizeof(err)), 0);
	assert_int_equal(store_agreement_set(s, &bad, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "min_submitters is 4"));
	bad = a;
	bad.single_submitter_hours = -1;
	assert_int_equal(store_agreement_set(s, &bad, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "single_submitter_hours"));
	store_close(s);
	s = open_ok(f);
	store_agreement_get(s, &a);
	assert_int_equal(a.min_submitters, 1);
	/* a damaged setting is refused at open, named */
	exec_ok(s, "UPDATE settings SET value = 99 WHERE name ="
		   " 'min_submitters'");
	store_close(s);
	assert_null(store_open(f->db, err, sizeof(err)));
	assert_non_null(strstr(err, "min_submitters is 99"));
}

/* Incremental and recomputed agree with submitters too: a mix of keys,
 * one network's unsigned and rows without a submitter, in order and out
 * of order. */
static void
test_agree_out_of_order(void **state)
{
	const struct fixture *f = *state;
	const char *subs[] = {"key:aaaa",
			      "key:bbbb",
			      NULL,
			      "anon:AS1:2023-11-14T01",
			      "anon:AS1:2023-11-14T02",
			      "key:aaaa",
			      "key:cccc"};
	const char seq[] = "ooosssssoossoddxdooonnnosoxsshhhoooodoosssoso";
	size_t n = strlen(seq);
	struct store_meas v[64];
	struct store *a, *b;
	char path[512], *da, *db;

	for (size_t i = 0; i < n; i++) {
		v[i] = meas(keep_str("oo-%02zu", i), IN1, "CN", "AS1",
			    T0 + (int64_t)i * HOUR, seq[i]);
		v[i].submitter = subs[(i * 5) % WW_ARRAY_LEN(subs)];
		v[i].received_time = T0 + (int64_t)i * 2 * HOUR;
		v[i].geo_mismatch = i % 11 == 10;
	}
	a = open_ok(f);
	agree_set(a, 2, 3, 4, false);
	for (size_t i = 0; i < n; i++)
		put_ok(a, &v[i], 1);
	fx_db(f, "other.db", path, sizeof(path));
	b = fx_open(path);
	agree_set(b, 2, 3, 4, false);
	/* the same arrivals (ids), but every fourth one comes late */
	for (size_t i = 0; i < n; i += 4) {
		struct store_meas batch[4];
		size_t k = 0;

		for (size_t j = i + 1; j < i + 4 && j < n; j++)
			batch[k++] = v[j];
		batch[k++] = v[i];
		put_ok(b, batch, k);
	}
	da = derived(a);
	db = derived(b);
	assert_true(q_int(a, "SELECT count(*) FROM events") >= 3);
	/* the daily cap counts by arrival, so only states and events */
	*strstr(da, "--\n") = '\0';
	*strstr(db, "--\n") = '\0';
	assert_string_equal(da, db);
	free(da);
	free(db);
	da = derived(b);
	assert_int_equal(rebuild_all(b), 0);
	db = derived(b);
	assert_string_equal(da, db);
	free(da);
	free(db);
	store_close(a);
	store_close(b);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_classify),
		T(test_daily_counts),
		T(test_rollback),
		T(test_unknown_until_three),
		T(test_blocked_with_method),
		T(test_method),
		T(test_server_side),
		T(test_odd_result),
		T(test_recovery),
		T(test_disrupted),
		T(test_down),
		T(test_keys_apart),
		T(test_concurrent),
		T(test_out_of_order),
		T(test_late_rewrites_history),
		T(test_damaged_state),
		T(test_stale_at_open),
		T(test_reanalyze),
		T(test_targets_query),
		T(test_limits),
		T(test_pct_blocked),
		T(test_timeline_query),
		T(test_events_query),
		T(test_measurements_query),
		T(test_export),
		T(test_plans),
		T(test_domain_rollup),
		T(test_backends_agree),
		T(test_migrate_v1),
		T(test_migrate_v2),
		T(test_agree_flood),
		T(test_agree_combined),
		T(test_agree_patient_flood),
		T(test_agree_flood_ok),
		T(test_agree_single_probe),
		T(test_agree_share_kept),
		T(test_agree_hours),
		T(test_agree_revoked),
		T(test_agree_geo_mismatch),
		T(test_agree_cap),
		T(test_agree_settings),
		T(test_agree_out_of_order),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, free_pool);
}
