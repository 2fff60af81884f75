/*
 * test_store_network.c - the reads of the network pages
 * (collector/store_network.c) on both backends (with WW_TEST_PG_CONNINFO
 * set, on PostgreSQL: `make unit-pg`): a country's networks counted by
 * state and method, its matrix of targets by network a page at a time,
 * the changes of state newest first with their cursor and filters, and
 * (SQLite) the indexes their queries walk.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "../../collector/store_network.h"
#include "../../collector/store_sqlite_int.h"
#include "util.h"

/* 2023-11-14 00:00:00 UTC */
#define T0 ((int64_t)1699920000)
#define HOUR ((int64_t)3600)

#include "store_fixture.h"

/* Byte order: A1 < A5 < B2 < C3 (A5 lies between the matrix's two). */
#define A1 "https://a.example/"
#define A5 "https://a.example/x"
#define B2 "https://b.example/"
#define C3 "https://c.example/"
#define I4 "https://d.example/"
#define O6 "https://e.example/"

static struct store *
open_ok(const struct fixture *f)
{
	return fx_open(f->db);
}

/* Classes by letter: o ok, n dns, s tls, d down; ooni: OONI's
 * measurements (their test_name and software), else ours. */
static void
put_src(struct store *s, const char *tag, const char *input, const char *cc,
	const char *asn, const char *cat, const char *seq, bool ooni)
{
	char err[512] = "", uid[64];
	int k = 0;

	for (const char *c = seq; *c; c++) {
		struct store_meas m;

		if (*c == ' ')
			continue;
		memset(&m, 0, sizeof(m));
		snprintf(uid, sizeof(uid), "%s-%d", tag, ++k);
		m.uid = uid;
		m.raw = "{}";
		m.raw_len = 2;
		m.input = input;
		m.test_name = ooni ? "web_connectivity" : "wallwatch_web";
		m.software_name = ooni ? "ooniprobe" : "wallwatch-probe";
		m.category_code = cat;
		m.probe_cc = cc;
		m.probe_asn = asn;
		m.start_time = T0 + (k - 1) * HOUR;
		m.received_time = m.start_time + 60;
		m.accessible = *c == 'o';
		m.blocking = *c == 'n' ? "dns" : *c == 's' ? "tls" : "false";
		if (store_put_batch(s, &m, 1, NULL, err, sizeof(err)) != 0)
			fail_msg("store_put_batch: %s", err);
	}
}

static void
put_seq(struct store *s, const char *tag, const char *input, const char *cc,
	const char *asn, const char *cat, const char *seq)
{
	put_src(s, tag, input, cc, asn, cat, seq, false);
}

/*
 * CN AS1: A1 blocked (tls), B2 blocked (dns), A5 accessible;
 * CN AS2: A1 accessible, B2 blocked (dns), C3 down;
 * IR AS3: I4 accessible.
 */
static void
fill(struct store *s)
{
	put_seq(s, "a1", A1, "CN", "AS1", "NEWS", "o o o s s s");
	put_seq(s, "a2", A1, "CN", "AS2", "NEWS", "o o o");
	put_seq(s, "b1", B2, "CN", "AS1", "HUMR", "n n n");
	put_seq(s, "b2", B2, "CN", "AS2", "HUMR", "n n n");
	put_seq(s, "c2", C3, "CN", "AS2", "NEWS", "d d d");
	put_seq(s, "a5", A5, "CN", "AS1", "NEWS", "o o o");
	put_seq(s, "i3", I4, "IR", "AS3", "NEWS", "o o o");
}

/* --- networks ------------------------------------------------------------- */

struct lines {
	char text[4096];
	size_t len;
};

static int
count_cb(const struct store_netcount *c, void *arg)
{
	struct lines *l = arg;

	l->len +=
		(size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len,
				 "%s %s %s %s %lld %s\n", c->cc, c->asn,
				 c->state, c->method ? c->method : "-",
				 (long long)c->n, c->since > 0 ? "since" : "-");
	return 0;
}

/* The rows of a network sorted (their order within it is free). */
static int
cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
counts(struct store *s, const struct store_filter *f, const char *want)
{
	struct lines l = {"", 0};
	char err[256] = "", *v[64], out[4096] = "";
	size_t n = 0, o = 0;

	if (store_network_counts(s, f, count_cb, &l, err, sizeof(err)) != 0)
		fail_msg("store_network_counts: %s", err);
	for (char *p = strtok(l.text, "\n"); p && n < 64;
	     p = strtok(NULL, "\n"))
		v[n++] = p;
	qsort(v, n, sizeof(*v), cmp_line);
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s\n", v[i]);
	assert_string_equal(out, want);
}

static void
test_counts(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_filter q = {0};
	struct lines l = {"", 0};
	char err[256];

	fill(s);
	q.cc = "CN";
	counts(s, &q,
	       "CN AS1 accessible - 1 since\n"
	       "CN AS1 blocked dns 1 since\n"
	       "CN AS1 blocked tls 1 since\n"
	       "CN AS2 accessible - 1 since\n"
	       "CN AS2 blocked dns 1 since\n"
	       "CN AS2 down - 1 since\n");
	q.asn = "AS2";
	counts(s, &q,
	       "CN AS2 accessible - 1 since\n"
	       "CN AS2 blocked dns 1 since\n"
	       "CN AS2 down - 1 since\n");
	q.asn = NULL;
	q.category = "HUMR";
	counts(s, &q,
	       "CN AS1 blocked dns 1 since\n"
	       "CN AS2 blocked dns 1 since\n");
	q.cc = "IR";
	q.category = NULL;
	counts(s, &q, "IR AS3 accessible - 1 since\n");
	q.cc = "DE";
	counts(s, &q, "");
	/* a country is required */
	q.cc = NULL;
	assert_int_equal(
		store_network_counts(s, &q, count_cb, &l, err, sizeof(err)),
		-1);
	assert_string_equal(err, "filter: cc is required");
	/* networks come together, in order */
	q.cc = "CN";
	l.len = 0;
	assert_int_equal(
		store_network_counts(s, &q, count_cb, &l, err, sizeof(err)), 0);
	assert_non_null(strstr(l.text, "CN AS1"));
	assert_true(strstr(l.text, "CN AS2") > strstr(l.text, "CN AS1"));
	assert_null(strstr(strstr(l.text, "CN AS2"), "CN AS1"));
	store_close(s);
}

/* --- matrix --------------------------------------------------------------- */

static int
cell_cb(const struct store_cell *c, void *arg)
{
	struct lines *l = arg;

	l->len +=
		(size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len,
				 "%s %s %s %s %s\n", c->input, c->asn, c->state,
				 c->method ? c->method : "-", c->category_code);
	return 0;
}

static int
matrix(struct store *s, const struct store_filter *f, const char *after,
       const char *want)
{
	struct lines l = {"", 0};
	char err[256] = "";
	int more = -1;

	if (store_network_matrix(s, f, after, cell_cb, &l, &more, err,
				 sizeof(err)) != 0)
		fail_msg("store_network_matrix: %s", err);
	assert_string_equal(l.text, want);
	return more;
}

static void
test_matrix(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_filter q = {0};

	fill(s);
	q.cc = "CN";
	/* A5 (accessible everywhere) and C3 (down) are not rows; A5 lies
	 * between the two that are */
	assert_int_equal(matrix(s, &q, NULL,
				A1 " AS1 blocked tls NEWS\n" A1
				   " AS2 accessible - NEWS\n" B2
				   " AS1 blocked dns HUMR\n" B2
				   " AS2 blocked dns HUMR\n"),
			 0);
	/* a page of one input, then the next after it */
	q.limit = 1;
	assert_int_equal(matrix(s, &q, NULL,
				A1 " AS1 blocked tls NEWS\n" A1
				   " AS2 accessible - NEWS\n"),
			 1);
	assert_int_equal(matrix(s, &q, A1,
				B2 " AS1 blocked dns HUMR\n" B2
				   " AS2 blocked dns HUMR\n"),
			 0);
	assert_int_equal(matrix(s, &q, B2, ""), 0);
	q.limit = 0;
	q.category = "HUMR";
	assert_int_equal(matrix(s, &q, NULL,
				B2 " AS1 blocked dns HUMR\n" B2
				   " AS2 blocked dns HUMR\n"),
			 0);
	q.category = NULL;
	q.cc = "IR"; /* nothing blocked there */
	assert_int_equal(matrix(s, &q, NULL, ""), 0);
	store_close(s);
}

static int
cell_count(const struct store_cell *c, void *arg)
{
	int *n = arg;

	(*n)++;
	/* every cell of an input comes together, in asn order */
	assert_true(strcmp(c->asn, "AS1") == 0 || strcmp(c->asn, "AS2") == 0);
	return 0;
}

/* Pages larger than one query's chunk of inputs. */
static void
test_matrix_chunks(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_filter q = {0};
	char input[64], tag[16], err[256];
	int n = 0, more = 0;

	for (int i = 0; i < 60; i++) {
		snprintf(input, sizeof(input), "https://m%02d.example/", i);
		snprintf(tag, sizeof(tag), "m%d-1", i);
		put_seq(s, tag, input, "KZ", "AS1", "NEWS", "n n n");
		snprintf(tag, sizeof(tag), "m%d-2", i);
		put_seq(s, tag, input, "KZ", "AS2", "NEWS", "o o o");
	}
	q.cc = "KZ";
	q.limit = 50;
	assert_int_equal(store_network_matrix(s, &q, NULL, cell_count, &n,
					      &more, err, sizeof(err)),
			 0);
	assert_int_equal(n, 100);
	assert_int_equal(more, 1);
	n = 0;
	assert_int_equal(store_network_matrix(s, &q, "https://m49.example/",
					      cell_count, &n, &more, err,
					      sizeof(err)),
			 0);
	assert_int_equal(n, 20);
	assert_int_equal(more, 0);
	store_close(s);
}

/* --- changes -------------------------------------------------------------- */

struct chg {
	int64_t id, time;
	char line[256];
};

struct chgs {
	struct chg v[64];
	size_t n;
};

static int
chg_cb(const struct store_change *c, void *arg)
{
	struct chgs *a = arg;
	struct chg *o;

	assert_true(a->n < WW_ARRAY_LEN(a->v));
	o = &a->v[a->n++];
	o->id = c->e.id;
	o->time = c->e.time;
	snprintf(o->line, sizeof(o->line), "%s %s %s %s>%s %s %s", c->e.input,
		 c->e.cc, c->e.asn, c->e.from_state, c->e.to_state,
		 c->e.method ? c->e.method : "-",
		 c->category_code ? c->category_code : "-");
	return 0;
}

static size_t
changes(struct store *s, const struct store_filter *f, int64_t bt, int64_t bid,
	struct chgs *out)
{
	char err[256] = "";

	out->n = 0;
	if (store_changes(s, f, bt, bid, chg_cb, out, err, sizeof(err)) != 0)
		fail_msg("store_changes: %s", err);
	return out->n;
}

static int
ev_count(const struct store_event *e, void *arg)
{
	(void)e;
	(*(size_t *)arg)++;
	return 0;
}

static void
test_changes(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_filter q = {0};
	struct chgs all, page, got;
	size_t n_events = 0;
	char err[256];

	fill(s);
	assert_int_equal(
		store_events(s, NULL, ev_count, &n_events, err, sizeof(err)),
		0);
	/* every event, newest first: (time, id) descending */
	assert_int_equal(changes(s, NULL, 0, 0, &all), n_events);
	assert_true(n_events >= 8);
	for (size_t i = 1; i < all.n; i++)
		assert_true(all.v[i - 1].time > all.v[i].time ||
			    (all.v[i - 1].time == all.v[i].time &&
			     all.v[i - 1].id > all.v[i].id));
	/* the newest: A1 on AS1 blocked by tls, at its 4th measurement */
	assert_string_equal(all.v[0].line, A1 " CN AS1 accessible>blocked tls"
					      " NEWS");
	/* a page of 3 at a time, by the cursor, gives them all once */
	q.limit = 3;
	got.n = 0;
	for (int64_t bt = 0, bid = 0;;) {
		size_t k = changes(s, &q, bt, bid, &page);

		for (size_t i = 0; i < k; i++)
			got.v[got.n++] = page.v[i];
		if (k < 3)
			break;
		bt = page.v[k - 1].time;
		bid = page.v[k - 1].id;
	}
	assert_int_equal(got.n, all.n);
	for (size_t i = 0; i < all.n; i++)
		assert_int_equal(got.v[i].id, all.v[i].id);
	/* filters */
	memset(&q, 0, sizeof(q));
	q.cc = "IR";
	assert_int_equal(changes(s, &q, 0, 0, &page), 1);
	assert_string_equal(page.v[0].line,
			    I4 " IR AS3 unknown>accessible - NEWS");
	q.cc = "CN";
	q.asn = "AS2";
	assert_int_equal(changes(s, &q, 0, 0, &page), 3);
	q.asn = NULL;
	q.state = "blocked";
	assert_int_equal(changes(s, &q, 0, 0, &page), 3);
	q.category = "HUMR";
	assert_int_equal(changes(s, &q, 0, 0, &page), 2);
	assert_non_null(strstr(page.v[0].line, B2));
	q.state = NULL;
	q.category = NULL;
	q.input = A1;
	assert_int_equal(changes(s, &q, 0, 0, &page), 3);
	q.input = NULL;
	q.since = T0 + 3 * HOUR; /* A1's block only */
	assert_int_equal(changes(s, &q, 0, 0, &page), 1);
	q.since = 0;
	q.until = T0 + 3 * HOUR;
	assert_int_equal(changes(s, &q, 0, 0, &page), all.n - 1 - 1);
	store_close(s);
}

/* --- the source: OONI's, ours, or both -------------------------------------
 */

/*
 * fill()'s targets (all ours) and OONI's: O6 blocked (dns) on CN AS1 and
 * accessible on CN AS3, a network only OONI measured; B2 on CN AS2
 * measured by both (blocked by dns in each).
 */
static void
fill_ooni(struct store *s)
{
	fill(s);
	put_src(s, "o1", O6, "CN", "AS1", "NEWS", "n n n", true);
	put_src(s, "o3", O6, "CN", "AS3", "NEWS", "o o o", true);
	put_src(s, "ob2", B2, "CN", "AS2", "HUMR", "n n n", true);
}

static bool
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static size_t
events_of(struct store *s, const struct store_filter *f)
{
	size_t n = 0;
	char err[256] = "";

	if (store_events(s, f, ev_count, &n, err, sizeof(err)) != 0)
		fail_msg("store_events: %s", err);
	return n;
}

static void
test_source(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_filter q = {0};
	struct chgs page;
	size_t n_all, n_ooni, n_ours;
	const char *const ours = "CN AS1 accessible - 1 since\n"
				 "CN AS1 blocked dns 1 since\n"
				 "CN AS1 blocked tls 1 since\n"
				 "CN AS2 accessible - 1 since\n"
				 "CN AS2 blocked dns 1 since\n"
				 "CN AS2 down - 1 since\n";

	fill_ooni(s);
	q.cc = "CN";
	/* networks: both, then OONI's targets, then ours */
	counts(s, &q,
	       "CN AS1 accessible - 1 since\n"
	       "CN AS1 blocked dns 2 since\n"
	       "CN AS1 blocked tls 1 since\n"
	       "CN AS2 accessible - 1 since\n"
	       "CN AS2 blocked dns 1 since\n"
	       "CN AS2 down - 1 since\n"
	       "CN AS3 accessible - 1 since\n");
	q.source = "all";
	counts(s, &q,
	       "CN AS1 accessible - 1 since\n"
	       "CN AS1 blocked dns 2 since\n"
	       "CN AS1 blocked tls 1 since\n"
	       "CN AS2 accessible - 1 since\n"
	       "CN AS2 blocked dns 1 since\n"
	       "CN AS2 down - 1 since\n"
	       "CN AS3 accessible - 1 since\n");
	q.source = "ooni";
	counts(s, &q,
	       "CN AS1 blocked dns 1 since\n"
	       "CN AS2 blocked dns 1 since\n"
	       "CN AS3 accessible - 1 since\n");
	q.asn = "AS3";
	counts(s, &q, "CN AS3 accessible - 1 since\n");
	q.asn = NULL;
	q.source = "wallwatch";
	counts(s, &q, ours);
	q.category = "HUMR";
	counts(s, &q,
	       "CN AS1 blocked dns 1 since\n"
	       "CN AS2 blocked dns 1 since\n");
	q.source = "ooni";
	counts(s, &q, "CN AS2 blocked dns 1 since\n");
	q.category = NULL;

	/* the matrix: the rows and the cells of the source's targets */
	assert_int_equal(matrix(s, &q, NULL,
				B2 " AS2 blocked dns HUMR\n" O6
				   " AS1 blocked dns NEWS\n" O6
				   " AS3 accessible - NEWS\n"),
			 0);
	q.limit = 1;
	assert_int_equal(matrix(s, &q, NULL, B2 " AS2 blocked dns HUMR\n"), 1);
	assert_int_equal(matrix(s, &q, B2,
				O6 " AS1 blocked dns NEWS\n" O6
				   " AS3 accessible - NEWS\n"),
			 0);
	q.limit = 0;
	q.source = "wallwatch";
	assert_int_equal(matrix(s, &q, NULL,
				A1 " AS1 blocked tls NEWS\n" A1
				   " AS2 accessible - NEWS\n" B2
				   " AS1 blocked dns HUMR\n" B2
				   " AS2 blocked dns HUMR\n"),
			 0);

	/* changes: those of the source's targets, as store_events() */
	q.source = NULL;
	q.cc = NULL;
	n_all = changes(s, &q, 0, 0, &page);
	assert_int_equal(n_all, events_of(s, &q));
	q.source = "ooni";
	n_ooni = changes(s, &q, 0, 0, &page);
	assert_int_equal(n_ooni, 3); /* O6 on AS1 and AS3, B2 on AS2 */
	assert_int_equal(n_ooni, events_of(s, &q));
	for (size_t i = 0; i < page.n; i++)
		assert_true(starts(page.v[i].line, O6 " CN AS1 ") ||
			    starts(page.v[i].line, O6 " CN AS3 ") ||
			    starts(page.v[i].line, B2 " CN AS2 "));
	q.source = "wallwatch";
	n_ours = changes(s, &q, 0, 0, &page);
	assert_int_equal(n_ours, events_of(s, &q));
	/* B2 on AS2 is both's; O6's two are OONI's alone */
	assert_int_equal(n_ooni + n_ours, n_all + 1);
	for (size_t i = 0; i < page.n; i++)
		assert_null(strstr(page.v[i].line, O6));
	/* with the other filters and the cursor */
	q.source = "ooni";
	q.cc = "CN";
	q.asn = "AS3";
	assert_int_equal(changes(s, &q, 0, 0, &page), 1);
	assert_string_equal(page.v[0].line,
			    O6 " CN AS3 unknown>accessible - NEWS");
	q.asn = NULL;
	q.limit = 2;
	assert_int_equal(changes(s, &q, 0, 0, &page), 2);
	assert_int_equal(changes(s, &q, page.v[1].time, page.v[1].id, &page),
			 1);
	store_close(s);
}

/* --- SQLite: the indexes walked ------------------------------------------- */

/* The SQL of the statements a store runs, as prepared. */
struct traced {
	char sql[8][2048];
	int n;
};

static int
trace_cb(unsigned type, void *ctx, void *p, void *x)
{
	struct traced *t = ctx;
	const char *sql = sqlite3_sql(p);

	(void)type;
	(void)x;
	if (t->n < 8 && sql != NULL && strncmp(sql, "SELECT", 6) == 0)
		snprintf(t->sql[t->n++], sizeof(t->sql[0]), "%s", sql);
	return 0;
}

static char *
plan_of(struct store *s, const char *sql)
{
	sqlite3 *db = store_sqlite_db(s);
	sqlite3_stmt *st;
	char q[2100];
	struct sbuf b = {NULL, 0, 0};

	snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", q, sqlite3_errmsg(db));
	sb_add(&b, "", 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);

		sb_add(&b, d, strlen(d));
		sb_add(&b, "\n", 1);
	}
	sqlite3_finalize(st);
	return b.p;
}

/* A table read whole: a SCAN not through an index. */
static bool
table_scan(const char *plan)
{
	for (const char *p = plan; (p = strstr(p, "SCAN ")) != NULL; p++) {
		char line[512];
		size_t n = strcspn(p, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		if (strstr(line, "USING") == NULL)
			return true;
	}
	return false;
}

/* The plan of the last SELECT run (traced) holds want, scans no table
 * and sorts nothing (no temporary b-tree) unless allowed. */
static void
plan_has(struct store *s, struct traced *t, const char *want, bool sort_ok)
{
	char *plan;

	assert_true(t->n > 0);
	plan = plan_of(s, t->sql[t->n - 1]);
	if (strstr(plan, want) == NULL || table_scan(plan) ||
	    (!sort_ok && strstr(plan, "TEMP B-TREE") != NULL))
		fail_msg("%s\nwant %s: %s", t->sql[t->n - 1], want, plan);
	free(plan);
	t->n = 0;
}

/* The probe of a target's measurements (where_target_source()). */
#define MEAS_PROBE                                                             \
	"measurements_target_time (input=? AND probe_cc=? AND probe_asn=?)"

/* As plan_has(), on the same statement, kept for another look. */
static void
plan_has_again(struct store *s, struct traced *t, const char *want)
{
	char *plan;

	assert_true(t->n > 0);
	plan = plan_of(s, t->sql[t->n - 1]);
	if (strstr(plan, want) == NULL)
		fail_msg("%s\nwant %s: %s", t->sql[t->n - 1], want, plan);
	free(plan);
}

static void
test_plans(void **state)
{
	const struct fixture *f = *state;
	struct store *s;
	struct store_filter q = {0};
	struct traced t = {.n = 0};
	struct chgs page;
	struct lines l = {"", 0};
	char err[256];
	int more;

	FX_SQLITE_ONLY();
	s = open_ok(f);
	fill(s);
	sqlite3_trace_v2(store_sqlite_db(s), SQLITE_TRACE_STMT, trace_cb, &t);
	changes(s, &q, 0, 0, &page);
	plan_has(s, &t, "events_time", false);
	changes(s, &q, T0, 5, &page);
	plan_has(s, &t, "events_time (time<?)", false);
	q.cc = "CN";
	changes(s, &q, 0, 0, &page);
	plan_has(s, &t, "events_cc_time (probe_cc=?)", false);
	changes(s, &q, T0, 5, &page);
	plan_has(s, &t, "events_cc_time (probe_cc=? AND time<?)", false);
	q.asn = "AS1";
	changes(s, &q, T0, 5, &page);
	plan_has(s, &t, "events_net_time (probe_cc=? AND probe_asn=? AND",
		 false);
	q.asn = NULL;
	q.category = "NEWS";
	changes(s, &q, 0, 0, &page);
	plan_has(s, &t, "events_cc_time (probe_cc=?)", false);
	q.category = NULL;
	assert_int_equal(
		store_network_counts(s, &q, count_cb, &l, err, sizeof(err)), 0);
	plan_has(s, &t, "target_state_cc (probe_cc=?)", true);
	assert_int_equal(store_network_matrix(s, &q, NULL, cell_cb, &l, &more,
					      err, sizeof(err)),
			 0);
	/* the second query, the cells of the page's inputs: a probe each */
	plan_has(s, &t,
		 "sqlite_autoindex_target_state_1 (input=? AND probe_cc=?)",
		 false);
	/* a source: the same walks, each row's target one probe of the
	 * measurements' target index */
	q.source = "ooni";
	changes(s, &q, T0, 5, &page);
	plan_has_again(s, &t, "events_cc_time (probe_cc=? AND time<?)");
	plan_has(s, &t, MEAS_PROBE, false);
	assert_int_equal(
		store_network_counts(s, &q, count_cb, &l, err, sizeof(err)), 0);
	plan_has_again(s, &t, "target_state_cc (probe_cc=?)");
	plan_has(s, &t, MEAS_PROBE, true);
	assert_int_equal(store_network_matrix(s, &q, NULL, cell_cb, &l, &more,
					      err, sizeof(err)),
			 0);
	plan_has(s, &t, MEAS_PROBE, true);
	sqlite3_trace_v2(store_sqlite_db(s), 0, NULL, NULL);
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_matrix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_matrix_chunks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plans, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
