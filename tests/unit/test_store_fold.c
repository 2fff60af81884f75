/*
 * test_store_fold.c - the PostgreSQL store's fold queue (collector/
 * store_pg_fold.c): a batch's transaction queues its rows, a fold applies
 * them to the timelines. Only with WW_TEST_PG_CONNINFO (`make unit-pg`);
 * skipped on SQLite, which has no queue.
 *
 *   - a batch committed and not folded: the tables hold nothing of it yet,
 *     a read folds it first (the writer reads its own writes), a
 *     read-only handle reads what was folded;
 *   - batches stored by one handle while another folds in a loop: nothing
 *     is left behind, every row counted once, and the timelines are what a
 *     recomputation from the rows gives;
 *   - a process killed after its commit and before any fold: its rows are
 *     queued, and the next store_open() folds them.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../collector/store.h"
#include "store_fixture.h"

#define T0 ((int64_t)1700000000)
#define HOUR 3600
#define IN_A "https://a.example.org/"
#define IN_B "https://b.example.org/"

int store_pg_fold(struct store_pg *p, char *err, size_t errlen);
extern void (*store_pg_fold_taken)(void *arg);
extern void *store_pg_fold_taken_arg;

/* Strings of the measurements built, kept until the test ends. */
static char pool[4096][24];
static size_t npool;

static const char *
uid_of(const char *tag, int k)
{
	char *u = pool[npool++ % 4096];

	snprintf(u, sizeof(pool[0]), "%s-%d", tag, k);
	return u;
}

/* One measurement: 'o' accessible, 'b' blocked by DNS, 'x' failed. */
static struct store_meas
meas(const char *uid, const char *input, int64_t t, char cls)
{
	struct store_meas m;

	memset(&m, 0, sizeof(m));
	m.uid = uid;
	m.raw = "{}";
	m.raw_len = 2;
	m.input = input;
	m.test_name = "wallwatch_web";
	m.category_code = "NEWS";
	m.probe_cc = "CN";
	m.probe_asn = "AS1";
	m.start_time = t;
	m.received_time = t + 60;
	m.accessible = cls == 'o' ? 1 : cls == 'b' ? 0 : -1;
	m.blocking = cls == 'o' ? "false" : cls == 'b' ? "dns" : NULL;
	return m;
}

static void
put_ok(struct store *s, const struct store_meas *v, size_t n)
{
	fx_put(s, v, n, NULL);
}

/* The one integer sql gives on a connection of its own to db, without
 * folding anything first (fx_int() folds). */
static int64_t
raw_int(const char *db, const char *sql)
{
	PGconn *c = PQconnectdb(strncmp(db, "postgresql:", 11) == 0 &&
						strncmp(db + 11, "//", 2) != 0
					? db + 11
					: db);
	PGresult *r;
	int64_t v;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("%s: %s", db, PQerrorMessage(c));
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return v;
}

#define QUEUED "SELECT count(*) FROM fold_queue"
#define STATES "SELECT count(*) FROM target_state"
#define COUNTED                                                                \
	"SELECT coalesce(sum(n_ok + n_dns + n_tcp_ip + n_tls +"                \
	" n_http_failure + n_http_diff + n_server_side + n_down + n_failed +"  \
	" n_protocol + n_geo_mismatch + n_capped), 0) FROM daily_counts"

struct seen {
	char state[16];
	int n;
};

static int
target_cb(const struct store_target *t, void *arg)
{
	struct seen *s = arg;

	snprintf(s->state, sizeof(s->state), "%s", t->state);
	s->n++;
	return 0;
}

static struct seen
target_state(struct store *s, const char *input)
{
	struct store_filter f = {0};
	struct seen v = {"", 0};
	char err[512] = "";

	f.input = input;
	if (store_targets(s, &f, 0, target_cb, &v, err, sizeof(err)) != 0)
		fail_msg("store_targets: %s", err);
	return v;
}

/* Three accessible then three blocked, an hour apart. */
static void
put_flip(struct store *s, const char *tag, const char *input, int64_t t)
{
	struct store_meas v[6];

	for (int i = 0; i < 6; i++)
		v[i] = meas(uid_of(tag, i), input, t + i * HOUR,
			    i < 3 ? 'o' : 'b');
	put_ok(s, v, 6);
}

static void
test_read_folds(void **state)
{
	const struct fixture *f = *state;
	struct store *s, *ro;
	struct seen v;
	char err[512] = "";

	if (!fx_pg)
		skip();
	s = fx_open(f->db);
	put_flip(s, "rf", IN_A, T0);
	/* committed, acknowledged, not folded yet */
	assert_int_equal(raw_int(f->db, QUEUED), 6);
	assert_int_equal(raw_int(f->db, STATES), 0);
	assert_int_equal(raw_int(f->db, COUNTED), 0);
	assert_int_equal(store_count(s), 6);
	/* a read-only handle (a replica) folds nothing: no target yet */
	ro = store_open_ro(f->db, err, sizeof(err));
	assert_non_null(ro);
	assert_int_equal(target_state(ro, IN_A).n, 0);
	assert_int_equal(raw_int(f->db, QUEUED), 6);
	/* the writer's read folds first */
	v = target_state(s, IN_A);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.state, "blocked");
	assert_int_equal(raw_int(f->db, QUEUED), 0);
	assert_int_equal(raw_int(f->db, COUNTED), 6);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM events"), 2);
	/* and the replica reads what was folded */
	v = target_state(ro, IN_A);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.state, "blocked");
	store_close(ro);
	store_close(s);
}

/* --- a fold beside the ingest ----------------------------------------------
 */

#define RACE_BATCHES 40
#define RACE_N 25

struct race {
	const char *db;
	volatile int done; /* the writer is done (under mu) */
	pthread_mutex_t mu;
	char err[512];
	int folds;
};

static void *
race_writer(void *arg)
{
	struct race *r = arg;
	struct store *s = store_open(r->db, r->err, sizeof(r->err));
	static const char *const in[] = {IN_A, IN_B, "https://c.example.org/",
					 "https://d.example.org/"};

	for (int b = 0; s != NULL && b < RACE_BATCHES; b++) {
		struct store_meas v[RACE_N];
		char err[400];

		for (int i = 0; i < RACE_N; i++) {
			int k = b * RACE_N + i;
			/* every 7th an older one (a target recomputed), the
			 * classes in runs that move the states */
			int64_t t = T0 + (int64_t)k * 600 -
				    (k % 7 == 3 ? 40 * HOUR : 0);

			v[i] = meas(uid_of("race", k), in[k % 4], t,
				    (k / 12) % 3 == 2 ? 'b'
				    : k % 5 == 4      ? 'x'
						      : 'o');
		}
		if (store_put_batch(s, v, RACE_N, NULL, err, sizeof(err)) !=
		    0) {
			snprintf(r->err, sizeof(r->err), "put: %s", err);
			break;
		}
	}
	store_close(s);
	pthread_mutex_lock(&r->mu);
	r->done = 1;
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* What the timelines hold, ids left out, as text. */
static char *
answers(struct store *s)
{
	static const char *const q[] = {
		"SELECT input, probe_cc, probe_asn, state, method, since,"
		" last_tested, n_conclusive, last_time, win, category_code"
		" FROM target_state ORDER BY 1, 2, 3",
		"SELECT input, time, from_state, to_state, method, uids FROM"
		" events ORDER BY input, time, id",
		"SELECT * FROM daily_counts ORDER BY 1, 2, 3, 4",
	};
	size_t len = 0;
	char *out = NULL;

	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		char *part = fx_rows(s, q[i]);
		size_t n = strlen(part);

		out = realloc(out, len + n + 2);
		assert_non_null(out);
		memcpy(out + len, part, n);
		len += n;
		out[len++] = '#';
		out[len] = '\0';
		free(part);
	}
	return out;
}

static void
test_fold_races_ingest(void **state)
{
	const struct fixture *f = *state;
	struct race r = {.db = f->db};
	struct store *s;
	pthread_t th;
	char err[512] = "", *a, *b;

	if (!fx_pg)
		skip();
	s = fx_open(f->db);
	pthread_mutex_init(&r.mu, NULL);
	assert_int_equal(pthread_create(&th, NULL, race_writer, &r), 0);
	for (;;) {
		int done;

		pthread_mutex_lock(&r.mu);
		done = r.done;
		pthread_mutex_unlock(&r.mu);
		/* as the fold thread does: fold whatever is there */
		if (store_pg_fold((struct store_pg *)s, err, sizeof(err)) != 0)
			fail_msg("fold: %s", err);
		r.folds++;
		if (done)
			break;
	}
	pthread_join(th, NULL);
	pthread_mutex_destroy(&r.mu);
	assert_string_equal(r.err, "");
	/* the last fold came after the last commit: nothing left behind */
	assert_int_equal(raw_int(f->db, QUEUED), 0);
	assert_int_equal(raw_int(f->db, COUNTED), RACE_BATCHES * RACE_N);
	assert_true(r.folds > 1);
	/* the timelines are those of the rows */
	a = answers(s);
	assert_int_equal(fx_rebuild_all(s), 0);
	b = answers(s);
	assert_string_equal(a, b);
	assert_true(raw_int(f->db, "SELECT count(*) FROM events") > 4);
	free(a);
	free(b);
	store_close(s);
}

/* A batch committed by another collector while a fold runs, between its
 * taking the queue and its recomputing a target that went late: the
 * recomputation must leave that batch's rows for the next fold (counted
 * once: n_conclusive, the window and the events say so). */
struct during {
	struct store *other;
	int64_t t;
	int calls;
};

static void
commit_during(void *arg)
{
	struct during *d = arg;
	struct store_meas m;

	if (d->calls++ > 0)
		return;
	/* one, the newest: a recomputation that took it would leave it
	 * as the last conclusive one, and the next fold (not late: not
	 * older than that) would step it twice */
	m = meas(uid_of("dur", 0), IN_A, d->t, 'b');
	put_ok(d->other, &m, 1);
}

static void
test_commit_during_fold(void **state)
{
	const struct fixture *f = *state;
	struct store *s = NULL, *o = NULL;
	struct during d;
	struct store_meas late;
	char err[512] = "", *a, *b;

	if (!fx_pg)
		skip();
	s = fx_open(f->db);
	o = fx_open(f->db);
	put_flip(s, "cd", IN_A, T0);
	fx_fold(s);
	/* a late one (older than the last conclusive): a recomputation */
	late = meas(uid_of("cdl", 0), IN_A, T0 - HOUR, 'o');
	put_ok(s, &late, 1);
	d = (struct during){o, T0 + 10 * HOUR, 0};
	store_pg_fold_taken = commit_during;
	store_pg_fold_taken_arg = &d;
	if (store_pg_fold((struct store_pg *)s, err, sizeof(err)) != 0)
		fail_msg("fold: %s", err);
	store_pg_fold_taken = NULL;
	assert_int_equal(d.calls, 1);
	/* the batch committed meanwhile is still queued, then folded */
	assert_int_equal(raw_int(f->db, QUEUED), 1);
	fx_fold(s);
	assert_int_equal(raw_int(f->db, COUNTED), 8);
	assert_int_equal(
		raw_int(f->db, "SELECT n_conclusive FROM target_state"), 8);
	a = answers(s);
	assert_int_equal(fx_rebuild_all(s), 0);
	b = answers(s);
	assert_string_equal(a, b);
	free(a);
	free(b);
	store_close(o);
	store_close(s);
}

/* Two collectors: a batch that drew lower ids committed after one that
 * drew higher ids, so folded after it. Past the daily cap, which rows
 * are capped depends on the order: the counts must be those of id order,
 * as a recomputation gives (here the first batch is held out of the
 * queue while the second is folded, then put back). */
static void
raw_exec(const char *db, const char *sql)
{
	fx_sql(db, sql);
}

static void
test_cap_out_of_order(void **state)
{
	const struct fixture *f = *state;
	struct store_agreement ag = {1, 6, 2, false};
	struct store_meas x[3], y[3];
	struct store *s;
	char err[512] = "", *a, *b;

	if (!fx_pg)
		skip();
	s = fx_open(f->db);
	assert_true(store_agreement_set(s, &ag, err, sizeof(err)) >= 0);
	for (int i = 0; i < 3; i++) {
		x[i] = meas(uid_of("cx", i), IN_A, T0 + i * 60, 'o');
		x[i].submitter = "key:aaaa";
		y[i] = meas(uid_of("cy", i), IN_A, T0 + 600 + i * 60, 'b');
		y[i].submitter = "key:aaaa";
	}
	put_ok(s, x, 3); /* ids 1-3 */
	put_ok(s, y, 3); /* ids 4-6 */
	raw_exec(f->db, "CREATE TABLE held AS SELECT * FROM fold_queue"
			" WHERE id IN (SELECT id FROM measurements WHERE uid"
			" LIKE 'cx-%')");
	raw_exec(f->db, "DELETE FROM fold_queue WHERE id IN (SELECT id FROM"
			" held)");
	if (store_pg_fold((struct store_pg *)s, err, sizeof(err)) != 0)
		fail_msg("fold: %s", err);
	raw_exec(f->db, "INSERT INTO fold_queue SELECT * FROM held");
	/* in id order: the first two counted (accessible), the rest
	 * capped */
	assert_int_equal(fx_int(s,
				"SELECT n_ok * 100 + n_dns * 10 + n_capped FROM"
				" daily_counts"),
			 204);
	a = answers(s);
	assert_int_equal(fx_rebuild_all(s), 0);
	b = answers(s);
	assert_string_equal(a, b);
	free(a);
	free(b);
	store_close(s);
}

/* --- killed before the fold ------------------------------------------------
 */

static void
test_killed_before_fold(void **state)
{
	const struct fixture *f = *state;
	struct store *s;
	struct seen v;
	pid_t pid;
	int st;

	if (!fx_pg)
		skip();
	s = fx_open(f->db); /* the schema, before the child */
	store_close(s);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* the child: a batch committed, then SIGKILL before any
		 * fold (no fold thread in the tests) */
		char err[512];
		struct store *c = store_open(f->db, err, sizeof(err));
		struct store_meas m[6];

		for (int i = 0; i < 6; i++)
			m[i] = meas(uid_of("kb", i), IN_B, T0 + i * HOUR,
				    i < 3 ? 'o' : 'b');
		if (c == NULL ||
		    store_put_batch(c, m, 6, NULL, err, sizeof(err)) != 0)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(raw_int(f->db, QUEUED), 6);
	assert_int_equal(raw_int(f->db, STATES), 0);
	/* the next process folds at its start */
	s = fx_open(f->db);
	assert_int_equal(raw_int(f->db, QUEUED), 0);
	assert_int_equal(raw_int(f->db, COUNTED), 6);
	v = target_state(s, IN_B);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.state, "blocked");
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_folds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fold_races_ingest, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_commit_during_fold, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cap_out_of_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_killed_before_fold, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
