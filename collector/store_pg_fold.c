/*
 * store_pg_fold.c - the serialised timeline updater of the PostgreSQL
 * store (issue 14): the "fold".
 *
 * A batch's transaction (store_pg_batch.c) stores its rows and their uids
 * and appends each new row's (id, start_time) to fold_queue, then
 * commits and is acknowledged: no daily counts, no states, no lock of any
 * target, so that collectors storing measurements of the same targets
 * never wait for each other. A fold then, in one transaction:
 *
 *   1. takes the fold's advisory lock (a fixed key, transaction-scoped):
 *      one fold at a time across every collector; whatever else rewrites
 *      states or counts, or marks targets stale (recomputation,
 *      revocation), takes it too;
 *   2. takes the committed queue (DELETE ... RETURNING, up to PG_FOLD_MAX
 *      rows, lowest ids first; a batch committed after the statement's
 *      snapshot stays queued for the next fold) and reads those
 *      measurements' stored fields back, in id order;
 *   3. applies to them exactly what a batch's transaction did before: the
 *      writer's guard (for the rows whose writer asked for it), the daily
 *      counts with the daily cap and its correction
 *      (store_pg_daily_batch()), the states and events
 *      (store_pg_tl_batch(): a target that took a measurement older than
 *      its last conclusive one is recomputed from its rows);
 *   4. commits. Killed before that, nothing of it happened: the queue is
 *      still there for the next fold, of any collector.
 *
 * What the timelines reflect is exactly the rows no longer queued: the
 * statements that count or replay a target's rows (recomputation, the
 * cap's recount) leave out the queued ones (PG_NOT_QUEUED). Within one
 * statement a row and its queue entry are visible together or not at all
 * (one transaction wrote both), and only a fold removes entries, under
 * the lock: so a recomputation never counts a row that a fold will
 * count again, nor misses one a fold has counted.
 *
 * When folds run: the writer's fold thread (its own connection), woken
 * after each commit and every PG_FOLD_PERIOD_MS, folds everything
 * pending, so under load one fold takes many batches (fewer state writes,
 * one COMMIT); a read of a writable store folds first when the queue is
 * not empty (store_pg_query.c), so a writer reads its own writes; a
 * store opened writable folds what a collector killed before its fold
 * left.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_pg_int.h"

/* The fold's advisory lock ("wallfold"); the target locks are hashes, the
 * schema's another constant. */
#define FOLD_KEY "77616c6c666f6c64"
/* Tries of a fold that PostgreSQL aborted (deadlock, serialization). */
#define FOLD_TRIES 3

bool store_pg_fold_async = true;
void (*store_pg_fold_taken)(void *arg);
void *store_pg_fold_taken_arg;

int
store_pg_fold_lock(struct store_pg *p, char *err, size_t errlen)
{
	return pg_exec(p, "SELECT pg_advisory_xact_lock(x'" FOLD_KEY "'::int8)",
		       "taking the fold's lock", err, errlen);
}

/* The queue's rows taken (lowest ids first, at most $1) and their
 * measurements' fields, in id order: LATERAL, so that each is one probe
 * of its partition's primary key (id, start_time), never a scan. */
static const char take_sql[] =
	"WITH q AS (DELETE FROM fold_queue WHERE ctid = ANY (ARRAY (SELECT"
	" ctid FROM fold_queue ORDER BY id LIMIT $1)) RETURNING id,"
	" start_time, guard, batch)"
	" SELECT m.id, m.uid, m.input, m.probe_cc, m.probe_asn, m.start_time,"
	" m.received_time, m.blocking, m.accessible, m.blocking_detail,"
	" m.category_code, m.submitter, m.geo_mismatch, q.guard,"
	" (SELECT count(*) FROM q), q.batch"
	" FROM q CROSS JOIN LATERAL (SELECT * FROM measurements x WHERE"
	" x.id = q.id AND x.start_time = q.start_time) m ORDER BY m.id";

/* Row i of r (take_sql's) as the batch's functions take a measurement:
 * pointers into r. */
static void
meas_of(const PGresult *r, int i, struct store_meas *m)
{
	memset(m, 0, sizeof(*m));
	m->uid = PQgetvalue(r, i, 1);
	m->input = pg_text(r, i, 2);
	m->probe_cc = PQgetvalue(r, i, 3);
	m->probe_asn = PQgetvalue(r, i, 4);
	m->start_time = pg_int(r, i, 5);
	m->received_time = pg_int(r, i, 6);
	m->blocking = pg_text(r, i, 7);
	m->accessible = PQgetisnull(r, i, 8) ? -1 : (int)pg_int(r, i, 8);
	m->blocking_detail = pg_text(r, i, 9);
	m->category_code = pg_text(r, i, 10);
	m->submitter = pg_text(r, i, 11);
	m->geo_mismatch = pg_int(r, i, 12) != 0;
}

/* Apply the batch's work to the rows of r, in the open transaction. */
static int
fold_rows(struct store_pg *p, const PGresult *r, char *err, size_t errlen)
{
	size_t n = (size_t)PQntuples(r);
	struct store_meas *v = xcalloc(n + 1, sizeof(*v));
	int64_t *ids = xcalloc(n + 1, sizeof(*ids));
	int64_t *gids = xcalloc(n + 1, sizeof(*gids));
	int64_t *seg = xcalloc(n + 1, sizeof(*seg));
	bool guard = false;
	int ret = -1;

	for (size_t i = 0; i < n; i++) {
		meas_of(r, (int)i, &v[i]);
		ids[i] = pg_int(r, (int)i, 0);
		seg[i] = pg_int(r, (int)i, 15);
		/* the guard, for the rows whose writer asked for it */
		if (strcmp(PQgetvalue(r, (int)i, 13), "t") == 0) {
			gids[i] = ids[i];
			guard = true;
		}
	}
	p->bulk = n >= store_pg_bulk_min;
	if ((guard && store_pg_guard_batch(p, v, n, gids, err, errlen) != 0) ||
	    store_pg_daily_batch(p, v, n, ids, err, errlen) != 0 ||
	    store_pg_tl_batch(p, v, n, ids, seg, err, errlen) != 0)
		goto out;
	ret = 0;
out:
	free(v);
	free(ids);
	free(gids);
	free(seg);
	return ret;
}

/* One fold's transaction; *taken: the queue's rows it took. */
static int
fold_once(struct store_pg *p, int64_t *taken, char *err, size_t errlen)
{
	struct pg_params pp = {0};
	PGresult *r = NULL;

	*taken = 0;
	/* BEGIN and the lock by one round trip */
	if (pg_exec(p,
		    "BEGIN; SELECT pg_advisory_xact_lock(x'" FOLD_KEY
		    "'::int8)",
		    "taking the fold's lock", err, errlen) != 0)
		goto fail;
	pp_int(&pp, PG_FOLD_MAX);
	r = pg_query(p, take_sql, &pp, false, PGRES_TUPLES_OK,
		     "taking the fold's queue", err, errlen);
	if (r == NULL)
		goto fail;
	*taken = PQntuples(r) > 0 ? pg_int(r, 0, 14) : 0;
	if (store_pg_fold_taken != NULL)
		store_pg_fold_taken(store_pg_fold_taken_arg);
	if (PQntuples(r) > 0 && fold_rows(p, r, err, errlen) != 0)
		goto fail;
	PQclear(r);
	r = NULL;
	if (pg_exec(p, "COMMIT", "committing a fold", err, errlen) != 0)
		goto fail;
	return 0;
fail:
	PQclear(r);
	pg_rollback(p);
	return -1;
}

int
store_pg_fold(struct store_pg *p, char *err, size_t errlen)
{
	int64_t taken;
	double t0 = ww_mono();

	if (p->read_only)
		return 0;
	if (store_pg_ready(p, err, errlen) != 0)
		return -1;
	for (int tries = 0;;) {
		p->sqlstate[0] = '\0';
		if (fold_once(p, &taken, err, errlen) != 0) {
			/* deadlock_detected, serialization_failure: again */
			if (++tries < FOLD_TRIES &&
			    (strcmp(p->sqlstate, "40P01") == 0 ||
			     strcmp(p->sqlstate, "40001") == 0))
				continue;
			return -1;
		}
		if (taken > 0) {
			p->fold_rows += taken;
			p->fold_txns++;
		}
		if (taken < PG_FOLD_MAX) {
			p->fold_secs += ww_mono() - t0;
			return 0;
		}
	}
}

int
store_pg_fold_pending(struct store_pg *p, char *err, size_t errlen)
{
	PGresult *r;
	bool any;

	if (p->read_only || PQtransactionStatus(p->conn) != PQTRANS_IDLE)
		return 0;
	if (store_pg_ready(p, err, errlen) != 0)
		return -1;
	r = pg_query(p, "SELECT EXISTS (SELECT 1 FROM fold_queue)", NULL, false,
		     PGRES_TUPLES_OK, "looking at the fold's queue", err,
		     errlen);
	if (r == NULL)
		return -1;
	any = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return any ? store_pg_fold(p, err, errlen) : 0;
}

/* --- the fold thread ------------------------------------------------------ */

struct pg_folder {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool kick, stop;
	char *path;	    /* the writer's --db */
	struct store *st;   /* the thread's own handle */
	bool failing;	    /* the last fold failed (logged once) */
	int64_t rows, txns; /* what st folded (under mu) */
	double secs;
};

/* Fold with the thread's own handle (opened, or opened again, here). */
static void
folder_fold(struct pg_folder *f)
{
	char err[512] = "";
	int rc;

	if (f->st == NULL)
		f->st = store_pg_open(f->path, false, err, sizeof(err));
	rc = f->st != NULL
		     ? store_pg_fold_pending(pg_of(f->st), err, sizeof(err))
		     : -1;
	if (f->st != NULL) {
		pthread_mutex_lock(&f->mu);
		f->rows = pg_of(f->st)->fold_rows;
		f->txns = pg_of(f->st)->fold_txns;
		f->secs = pg_of(f->st)->fold_secs;
		pthread_mutex_unlock(&f->mu);
	}
	if (rc != 0 && !f->failing)
		log_error("store", "folding the timelines: %s (tried again)",
			  err);
	else if (rc == 0 && f->failing)
		log_info("store", "folding the timelines works again");
	f->failing = rc != 0;
}

/* ms from now as an absolute time of CLOCK_REALTIME (the condition
 * variable's clock). */
static struct timespec
after_ms(long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

/*
 * Woken by a commit, or every PG_FOLD_PERIOD_MS. A fold that follows
 * the last one by less than PG_FOLD_GATHER_MS waits for the rest of it
 * first, so that under a steady ingest one fold takes the commits of
 * that while instead of one each: a fold's cost is mostly per target and
 * per transaction (one fold of 20,000 rows took a third of the server's
 * CPU per row that folds of one or two 1,000-row batches did).
 */
static void *
folder_main(void *arg)
{
	struct pg_folder *f = arg;
	double last = 0;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		bool stop;
		double wait;

		if (!f->kick && !f->stop) {
			struct timespec t = after_ms(PG_FOLD_PERIOD_MS);

			pthread_cond_timedwait(&f->cv, &f->mu, &t);
		}
		while (!f->stop && (wait = last + PG_FOLD_GATHER_MS / 1000.0 -
					   ww_mono()) > 0) {
			struct timespec t = after_ms((long)(wait * 1000) + 1);

			pthread_cond_timedwait(&f->cv, &f->mu, &t);
		}
		f->kick = false;
		stop = f->stop;
		pthread_mutex_unlock(&f->mu);
		/* everything pending, also after the stop: a clean stop
		 * leaves an empty queue */
		last = ww_mono();
		folder_fold(f);
		pthread_mutex_lock(&f->mu);
		if (stop)
			break;
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

void
store_pg_folder_kick(struct store_pg *p)
{
	struct pg_folder *f = p->folder;

	if (!store_pg_fold_async || p->read_only)
		return;
	if (f == NULL) {
		f = xcalloc(1, sizeof(*f));
		pthread_mutex_init(&f->mu, NULL);
		pthread_cond_init(&f->cv, NULL);
		f->path = xstrdup(p->path);
		if (pthread_create(&f->th, NULL, folder_main, f) != 0) {
			/* the reads and the next store_open() fold instead */
			log_error("store", "cannot start the fold thread");
			pthread_cond_destroy(&f->cv);
			pthread_mutex_destroy(&f->mu);
			free(f->path);
			free(f);
			store_pg_fold_async = false;
			return;
		}
		p->folder = f;
	}
	pthread_mutex_lock(&f->mu);
	f->kick = true;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

void
store_pg_folder_stop(struct store_pg *p)
{
	struct pg_folder *f = p->folder;

	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->th, NULL);
	store_close(f->st);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f->path);
	free(f);
	p->folder = NULL;
}

void
store_pg_folder_stats(struct store_pg *p, int64_t *rows, int64_t *txns,
		      double *secs)
{
	struct pg_folder *f = p->folder;

	*rows = *txns = 0;
	*secs = 0;
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	*rows = f->rows;
	*txns = f->txns;
	*secs = f->secs;
	pthread_mutex_unlock(&f->mu);
}
