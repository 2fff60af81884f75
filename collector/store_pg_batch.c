/*
 * store_pg_batch.c - storing a batch in PostgreSQL (store_put_batch()):
 * few round trips, whatever the batch's size.
 *
 * One transaction:
 *   1. BEGIN (no lock: batches of several collectors never wait for each
 *      other's targets);
 *   2. the rows. A batch of PG_BULK_MIN measurements or more ("bulk"):
 *      one statement takes its free uids (the uids sent as arrays, ids
 *      drawn in the batch's order, inserted into measurement_uids and,
 *      by the same statement, into fold_queue: uids_direct()), and one
 *      COPY (binary: store_pg_copy.c) sends their rows into measurements;
 *      nothing for a uid taken. A statement per row, even pipelined, cost
 *      ~65 us each in the server (parameters parsed, a plan, a partition
 *      routed, an executor started per row), where COPY takes ~20 us a
 *      row with the indexes. A smaller batch: one statement per row
 *      (PS_PUT: its uid, its row, its queue entry), pipelined, in the
 *      batch's order;
 *   3. a taken uid is a duplicate or a conflict (its raw read back: rare);
 *   4. COMMIT; only then is the batch acknowledged (0), and the writer's
 *      fold thread woken (store_pg_fold.c): the fold applies the guard,
 *      the daily counts and the states to the queued rows, in a
 *      transaction of its own, one fold at a time across the collectors.
 * In bulk, a batch's transaction costs a few round trips whatever its
 * size, and no temporary table (whose emptying at COMMIT each transaction
 * would pay): the statements take their rows as arrays (pg_array, one
 * text parameter per column, unnest()ed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"

/* Statements sent before their results are read (and the server's
 * answers wait in the socket meanwhile: they are small). */
#define PIPE_CHUNK 64
size_t store_pg_bulk_min = PG_BULK_MIN;

/* Tries of a batch that PostgreSQL aborted as a deadlock victim. */
#define BATCH_TRIES 3

const char *store_pg_stmt_name(enum pg_stmt_id id);

/* --- pipelines ---------------------------------------------------------------
 */

/* Send the statements of items [0, n) (build gives up to PG_PIPE_MAX per
 * item) and hand each result to take, in order. On an error the rest are
 * drained and -1 returned with the first message. */
int
pg_pipeline(struct store_pg *p, size_t n, const struct pg_pipe_ops *ops,
	    void *ctx, const char *what, char *err, size_t errlen)
{
	size_t item[PIPE_CHUNK + PG_PIPE_MAX];
	int stmt[PIPE_CHUNK + PG_PIPE_MAX];
	bool failed = false;
	size_t i = 0;

	if (PQenterPipelineMode(p->conn) != 1)
		return pg_fail(p, NULL, what, err, errlen);
	while (i < n && !failed) {
		size_t sent = 0;
		PGresult *r;

		/* send a chunk */
		for (; i < n && sent < PIPE_CHUNK; i++) {
			struct pg_call calls[PG_PIPE_MAX];
			int k = ops->build(ctx, i, calls, err, errlen);

			if (k < 0) {
				failed = true;
				break;
			}
			for (int j = 0; j < k; j++) {
				const struct pg_params *pp = &calls[j].pp;

				if (PQsendQueryPrepared(
					    p->conn,
					    store_pg_stmt_name(calls[j].id),
					    pp->n, pp->v, pp->len, pp->fmt,
					    0) != 1) {
					failed = true;
					pg_fail(p, NULL, what, err, errlen);
					break;
				}
				item[sent] = i;
				stmt[sent++] = j;
			}
			if (failed)
				break;
		}
		if (PQpipelineSync(p->conn) != 1) {
			pg_fail(p, NULL, what, err, errlen);
			break; /* the connection is gone: nothing to drain */
		}
		/* read its results */
		for (size_t k = 0; k < sent; k++) {
			r = PQgetResult(p->conn);
			if (!failed && PQresultStatus(r) != PGRES_COMMAND_OK &&
			    PQresultStatus(r) != PGRES_TUPLES_OK) {
				const char *st =
					PQresultErrorField(r, PG_DIAG_SQLSTATE);

				char w[300];

				snprintf(p->sqlstate, sizeof(p->sqlstate), "%s",
					 st != NULL ? st : "");
				snprintf(w, sizeof(w), "%s%s%.200s", what,
					 ops->name != NULL ? " " : "",
					 ops->name != NULL
						 ? ops->name(ctx, item[k])
						 : "");
				pg_fail(p, r, w, err, errlen);
				failed = true;
			} else if (!failed && ops->take != NULL &&
				   ops->take(ctx, item[k], stmt[k], r, err,
					     errlen) != 0) {
				failed = true;
			}
			PQclear(r);
			while ((r = PQgetResult(p->conn)) != NULL)
				PQclear(r);
		}
		/* the sync's own */
		while ((r = PQgetResult(p->conn)) != NULL &&
		       PQresultStatus(r) != PGRES_PIPELINE_SYNC)
			PQclear(r);
		PQclear(r);
	}
	if (PQexitPipelineMode(p->conn) != 1 && !failed) {
		pg_fail(p, NULL, what, err, errlen);
		failed = true;
	}
	return failed ? -1 : 0;
}

/* --- step 2: the rows --------------------------------------------------------
 */

/* The staging table of a connection for uids_staged(): the batch's uids.
 * Temporary (no WAL, no other session sees it), emptied at each COMMIT;
 * made, when missing, in the batch's transaction: after a reconnection or
 * a rolled-back batch it is simply made again. Only the careful way uses
 * it: a transaction that touches no temporary table pays nothing for it
 * at COMMIT. */
#define T_C "text COLLATE \"C\""
static const char stage_make_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS ww_stage (ord int, uid " T_C
	", start_time bigint) ON COMMIT DELETE ROWS";
static const char stage_sql[] =
	"COPY pg_temp.ww_stage FROM STDIN (FORMAT binary)";
/* The staged uids that are free, taken: ids from the sequence in the
 * batch's order (the sort comes before the target list's nextval() is
 * evaluated); (ord, id) of each. A uid taken takes no id (as in SQLite:
 * ids follow arrival without gaps), unless another collector took it
 * that very moment (ON CONFLICT: it waits for that one's COMMIT). */
static const char take_sql[] =
	"WITH u AS (INSERT INTO measurement_uids (uid, id, start_time)"
	" SELECT uid, nextval('measurements_id_seq'), start_time FROM"
	" pg_temp.ww_stage s WHERE NOT EXISTS (SELECT 1 FROM measurement_uids"
	" x WHERE x.uid = s.uid) ORDER BY ord ON CONFLICT (uid) DO NOTHING"
	" RETURNING uid, id, start_time),"
	" q AS (INSERT INTO fold_queue (id, start_time, guard) SELECT id,"
	" start_time, $1::boolean FROM u)"
	" SELECT s.ord, u.id FROM u JOIN pg_temp.ww_stage s ON s.uid = u.uid";
/* The rows of the uids taken, with their ids. */
#define ROW_N 27
static const char rows_sql[] =
	"COPY measurements (id, uid, raw, raw_len, input, test_name,"
	" category_code, probe_cc, probe_asn, observed_cc, observed_asn,"
	" geo_mismatch, start_time, received_time, blocking, accessible,"
	" blocking_detail, confirmed, analysis_version, analysis_reason,"
	" evidence, evidence_detail, packets, submitter, software_name,"
	" software_version, test_version) FROM STDIN (FORMAT binary)";

struct put {
	struct store_pg *p;
	const struct store_meas *v;
	int64_t *ids;	  /* the new rows' ids; 0: the uid was taken */
	bool one_by_one;  /* never in bulk (by COPY) */
	bool rows_failed; /* step 2 failed */
	bool careful;	  /* in bulk, the uids taken by take_sql */
};

static void
pp_derived(struct pg_params *pp, const struct store_derived *d)
{
	pp_text(pp, d->blocking);
	pp_tri(pp, d->accessible);
	pp_text(pp, d->blocking_detail);
	pp_int(pp, d->confirmed ? 1 : 0);
	pp_text(pp, d->analysis_version);
	pp_text(pp, d->analysis_reason);
	pp_text(pp, d->evidence);
	pp_text(pp, d->evidence_detail);
	pp_int(pp, d->packets);
}

void
store_pg_pp_derived(struct pg_params *pp, const struct store_derived *d)
{
	pp_derived(pp, d);
}

/* Compressed raw of m: the caller's, or made now (valid until the next
 * call). */
static const void *
packed(struct store_pg *p, const struct store_meas *m, size_t *zlen)
{
	const void *z = NULL;
	char msg[128];

	if (m->zraw != NULL) {
		*zlen = m->zraw_len;
		return m->zraw;
	}
	if (p->pk == NULL)
		p->pk = store_packer_new();
	if (store_pack(p->pk, m->raw, m->raw_len, &z, zlen, msg, sizeof(msg)) !=
	    0)
		return NULL; /* only for a raw checked out of range */
	return z;
}

static void
copy_small(struct pg_copy *c, int v)
{
	pg_copy_int(c, v, 2);
}

/* m's row, stored as id. */
static int
row_one(struct store_pg *p, struct pg_copy *c, int64_t id,
	const struct store_meas *m, char *err, size_t errlen)
{
	struct store_derived d = store_derived_of(m);
	size_t zlen = 0;
	const void *z = packed(p, m, &zlen);

	if (z == NULL) {
		ww_set_err(err, errlen,
			   "%s: measurement %.200s: cannot compress its raw",
			   p->name, m->uid);
		return -1;
	}
	pg_copy_row(c, ROW_N);
	pg_copy_int(c, id, 8);
	pg_copy_text(c, m->uid);
	pg_copy_bytes(c, z, zlen);
	pg_copy_int(c, (int64_t)m->raw_len, 4);
	pg_copy_text(c, m->input);
	pg_copy_text(c, m->test_name);
	pg_copy_text(c, m->category_code);
	pg_copy_text(c, m->probe_cc);
	pg_copy_text(c, m->probe_asn);
	pg_copy_text(c, m->observed_cc);
	pg_copy_text(c, m->observed_asn);
	copy_small(c, m->geo_mismatch ? 1 : 0);
	pg_copy_int(c, m->start_time, 8);
	pg_copy_int(c, m->received_time, 8);
	pg_copy_text(c, d.blocking);
	if (d.accessible < 0)
		pg_copy_null(c);
	else
		copy_small(c, d.accessible);
	pg_copy_text(c, d.blocking_detail);
	copy_small(c, d.confirmed ? 1 : 0);
	pg_copy_text(c, d.analysis_version);
	pg_copy_text(c, d.analysis_reason);
	pg_copy_text(c, d.evidence);
	pg_copy_text(c, d.evidence_detail);
	pg_copy_int(c, d.packets, 4);
	pg_copy_text(c, m->submitter);
	pg_copy_text(c, m->software_name);
	pg_copy_text(c, m->software_version);
	pg_copy_text(c, m->test_version);
	return 0;
}

/* The first of each uid in the batch: a later one is a duplicate of it
 * (or a conflict), found as any taken uid (step 3). first[i]: v[i] is
 * the first of its uid. */
static void
first_of_uids(const struct store_meas *v, size_t n, bool *first)
{
	size_t nslot = 64, *slot;

	while (nslot < 2 * n + 2)
		nslot *= 2;
	slot = xcalloc(nslot, sizeof(*slot)); /* 0 empty, else index + 1 */
	for (size_t i = 0; i < n; i++) {
		uint64_t h = 14695981039346656037ULL;
		size_t k;

		for (const unsigned char *c = (const unsigned char *)v[i].uid;
		     *c; c++)
			h = (h ^ *c) * 1099511628211ULL;
		for (k = (size_t)h & (nslot - 1); slot[k] != 0;
		     k = (k + 1) & (nslot - 1))
			if (strcmp(v[slot[k] - 1].uid, v[i].uid) == 0)
				break;
		first[i] = slot[k] == 0;
		if (first[i])
			slot[k] = i + 1;
	}
	free(slot);
}

static int
put_build(void *ctx, size_t i, struct pg_call *calls, char *err, size_t errlen)
{
	struct put *b = ctx;
	const struct store_meas *m = &b->v[i];
	struct store_derived d = store_derived_of(m);
	struct pg_params *pp = &calls[0].pp;
	const void *z;
	size_t zlen = 0;

	memset(pp, 0, sizeof(*pp));
	calls[0].id = PS_PUT;
	z = packed(b->p, m, &zlen);
	if (z == NULL) {
		ww_set_err(err, errlen,
			   "%s: measurement %.200s: cannot"
			   " compress its raw",
			   b->p->name, m->uid);
		return -1;
	}
	pp_text(pp, m->uid);
	pp_bin(pp, z, zlen);
	pp_int(pp, (int64_t)m->raw_len);
	pp_text(pp, m->input);
	pp_text(pp, m->test_name);
	pp_text(pp, m->category_code);
	pp_text(pp, m->probe_cc);
	pp_text(pp, m->probe_asn);
	pp_text(pp, m->observed_cc);
	pp_text(pp, m->observed_asn);
	pp_int(pp, m->geo_mismatch ? 1 : 0);
	pp_int(pp, m->start_time);
	pp_int(pp, m->received_time);
	pp_derived(pp, &d);
	pp_text(pp, m->submitter);
	pp_text(pp, m->software_name);
	pp_text(pp, m->software_version);
	pp_text(pp, m->test_version);
	pp_text(pp, b->p->guard ? "t" : "f"); /* $27: the fold's guard */
	return 1;
}

static int
put_take(void *ctx, size_t i, int k, const PGresult *r, char *err,
	 size_t errlen)
{
	struct put *b = ctx;

	(void)k;
	(void)err;
	(void)errlen;
	b->ids[i] = PQntuples(r) > 0 ? pg_int(r, 0, 0) : 0;
	return 0;
}

static const char *
put_name(void *ctx, size_t i)
{
	return ((struct put *)ctx)->v[i].uid;
}

/* Step 2, one statement per row (pipelined): for a small batch (fewer
 * round trips than the COPYs, no staging table), and for a large one whose
 * rows failed, tried again so for a message that names the measurement at
 * fault. */
static int
put_rows_one_by_one(struct store_pg *p, struct put *b, size_t n, char *err,
		    size_t errlen)
{
	static const struct pg_pipe_ops put_ops = {put_build, put_take,
						   put_name};

	return pg_pipeline(p, n, &put_ops, b, "storing measurement", err,
			   errlen);
}

/* The free uids of the batch (the first of each) taken by one statement:
 * the uids and their start times as arrays, the free ones found by an
 * index probe each, given ids in the batch's order (the sort comes before
 * the INSERT's nextval() is evaluated) and inserted (b->ids set). Where
 * take_sql's upsert waits on a uid another collector is storing that
 * very moment, this one fails (unique_violation, after that one's
 * COMMIT): the transaction is rolled back and tried again the careful way
 * (b->careful); the ids drawn by the failed try are lost (a gap, as any
 * rolled-back transaction leaves). Staging the uids by COPY and the
 * upsert cost two round trips more and about twice the server's time. */
static int
uids_direct(struct store_pg *p, struct put *b, size_t n, const bool *first,
	    char *err, size_t errlen)
{
	struct pg_array uid = {0}, t0 = {0};
	struct pg_params pp = {0};
	size_t *at = xcalloc(n + 1, sizeof(*at)), na = 0;
	PGresult *r;
	int ret = -1;

	pg_array_begin(&uid);
	pg_array_begin(&t0);
	for (size_t i = 0; i < n; i++)
		if (first[i]) {
			pg_array_add(&uid, b->v[i].uid);
			pg_array_int(&t0, b->v[i].start_time);
			at[na++] = i;
		}
	pp_text(&pp, pg_array_end(&uid));
	pp_text(&pp, pg_array_end(&t0));
	pp_text(&pp, p->guard ? "t" : "f");
	r = pg_query(p,
		     "WITH x AS (SELECT * FROM unnest($1::text[], $2::bigint[])"
		     " WITH ORDINALITY AS x (uid, start_time, o)),"
		     /* LATERAL ... LIMIT: an index probe per uid, never a
		      * scan of every stored uid for a hash anti-join */
		     " f AS (SELECT x.* FROM x LEFT JOIN LATERAL (SELECT 1 AS"
		     " hit FROM measurement_uids m WHERE m.uid = x.uid LIMIT 1)"
		     " e ON true WHERE e.hit IS NULL ORDER BY x.o),"
		     " i AS (INSERT INTO measurement_uids (uid, id, start_time)"
		     " SELECT uid, nextval('measurements_id_seq'), start_time"
		     " FROM f RETURNING uid, id, start_time),"
		     /* the fold's queue, by the same statement */
		     " q AS (INSERT INTO fold_queue (id, start_time, guard)"
		     " SELECT id, start_time, $3::boolean FROM i)"
		     " SELECT x.o - 1, i.id FROM i JOIN x ON x.uid = i.uid",
		     &pp, false, PGRES_TUPLES_OK, "storing measurements", err,
		     errlen);
	if (r == NULL)
		goto out;
	memset(b->ids, 0, n * sizeof(*b->ids));
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t k = pg_int(r, i, 0);

		if (k < 0 || (size_t)k >= na || b->ids[at[k]] != 0) {
			ww_set_err(err, errlen,
				   "%s: storing measurements: "
				   "a uid the batch did not send",
				   p->name);
			goto out;
		}
		b->ids[at[k]] = pg_int(r, i, 1);
	}
	ret = 0;
out:
	PQclear(r);
	pg_array_free(&uid);
	pg_array_free(&t0);
	free(at);
	return ret;
}

/* The careful way (after a failed try): the batch's uids (the first of
 * each) into the staging table by one COPY, the free ones taken by one
 * upsert (b->ids set). */
static int
uids_staged(struct store_pg *p, struct put *b, size_t n, const bool *first,
	    char *err, size_t errlen)
{
	struct pg_copy c = {0};
	struct pg_params pp = {0};
	PGresult *r = NULL;
	int ret = -1;

	if (pg_exec(p, stage_make_sql, "storing measurements", err, errlen) !=
	    0)
		return -1;
	pg_copy_begin(&c);
	for (size_t i = 0; i < n; i++) {
		if (!first[i])
			continue;
		pg_copy_row(&c, 3);
		pg_copy_int(&c, (int64_t)i, 4);
		pg_copy_text(&c, b->v[i].uid);
		pg_copy_int(&c, b->v[i].start_time, 8);
	}
	if (pg_copy_send(p, &c, stage_sql, "storing measurements", err,
			 errlen) != 0)
		goto out;
	pp_text(&pp, p->guard ? "t" : "f");
	r = pg_query(p, take_sql, &pp, false, PGRES_TUPLES_OK,
		     "storing measurements", err, errlen);
	if (r == NULL)
		goto out;
	memset(b->ids, 0, n * sizeof(*b->ids));
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t ord = pg_int(r, i, 0);

		if (ord < 0 || (size_t)ord >= n || !first[ord]) {
			ww_set_err(err, errlen,
				   "%s: storing measurements: "
				   "a uid the batch did not stage",
				   p->name);
			goto out;
		}
		b->ids[ord] = pg_int(r, i, 1);
	}
	ret = 0;
out:
	PQclear(r);
	pg_copy_free(&c);
	return ret;
}

/* Step 2: the free uids of the batch taken (b->ids set), then the rows of
 * those by one COPY into measurements, as fast as COPY of rows made
 * elsewhere. */
static int
put_rows(struct store_pg *p, struct put *b, size_t n, char *err, size_t errlen)
{
	struct pg_copy c = {0};
	bool *first = xcalloc(n, sizeof(*first));
	int ret = -1;

	first_of_uids(b->v, n, first);
	if ((b->careful ? uids_staged(p, b, n, first, err, errlen)
			: uids_direct(p, b, n, first, err, errlen)) != 0)
		goto out;
	pg_copy_begin(&c);
	for (size_t i = 0; i < n; i++)
		if (b->ids[i] != 0 &&
		    row_one(p, &c, b->ids[i], &b->v[i], err, errlen) != 0)
			goto out;
	ret = pg_copy_send(p, &c, rows_sql, "storing measurements", err,
			   errlen);
out:
	pg_copy_free(&c);
	free(first);
	return ret;
}

/* --- step 3: duplicates, the guard
 * --------------------------------------------- */

/* A uid already stored: a duplicate when the stored raw is m's byte for
 * byte, else a conflict (a reused uid; issue 12). */
static int
dup_or_conflict(struct store_pg *p, const struct store_meas *m,
		enum store_result *res, char *err, size_t errlen)
{
	char *raw = NULL;
	size_t len = 0;
	int rc = store_get_raw(&p->base, m->uid, &raw, &len, err, errlen);

	if (rc < 0)
		return -1;
	*res = rc == 0 && len == m->raw_len && memcmp(raw, m->raw, len) == 0
		       ? STORE_DUPLICATE
		       : STORE_CONFLICT;
	free(raw);
	return 0;
}

/* --- the batch
 * ---------------------------------------------------------------- */

static int
batch_rows(struct store_pg *p, struct put *b, size_t n, enum store_result *res,
	   char *err, size_t errlen)
{
	if ((p->bulk ? put_rows(p, b, n, err, errlen)
		     : put_rows_one_by_one(p, b, n, err, errlen)) != 0) {
		b->rows_failed = true;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		enum store_result r = STORE_NEW;

		if (b->ids[i] == 0 &&
		    dup_or_conflict(p, &b->v[i], &r, err, errlen) != 0)
			return -1;
		if (res != NULL)
			res[i] = r;
	}
	return 0;
}

/* One try of a batch, in one transaction; 0 once committed. */
static int
batch_try(struct store_pg *p, struct put *b, size_t n, enum store_result *res,
	  char *err, size_t errlen)
{
	p->bulk = n >= store_pg_bulk_min && !b->one_by_one;
	if (pg_exec(p, "BEGIN", "starting a transaction", err, errlen) != 0 ||
	    batch_rows(p, b, n, res, err, errlen) != 0 ||
	    pg_exec(p, "COMMIT", "committing", err, errlen) != 0) {
		pg_rollback(p);
		return -1;
	}
	return 0;
}

int
store_pg_put_batch(struct store *s, const struct store_meas *v, size_t n,
		   enum store_result *res, char *err, size_t errlen)
{
	struct store_pg *p = pg_of(s);
	struct put b = {p, v, NULL, false, false, false};
	int ret = -1;

	if (store_check_batch(v, n, err, errlen) != 0)
		return -1;
	if (n == 0)
		return 0;
	if (store_pg_ready(p, err, errlen) != 0 ||
	    store_pg_partitions(p, v, n, err, errlen) != 0)
		return -1;
	b.ids = xcalloc(n, sizeof(*b.ids));
	for (int i = 0; ret != 0; i++) {
		p->sqlstate[0] = '\0';
		b.rows_failed = false;
		ret = batch_try(p, &b, n, res, err, errlen);
		if (ret == 0 || i + 1 == BATCH_TRIES)
			break;
		/* deadlock_detected, serialization_failure: again; and in
		 * bulk, the uids taken the careful way (uids_direct()) */
		if (strcmp(p->sqlstate, "40P01") == 0 ||
		    strcmp(p->sqlstate, "40001") == 0) {
			b.careful = true;
			continue;
		}
		/* unique_violation: a uid stored by another collector
		 * between uids_direct()'s look and its COPY */
		if (p->bulk && b.rows_failed && !b.careful &&
		    strcmp(p->sqlstate, "23505") == 0) {
			b.careful = true;
			continue;
		}
		/* the rows refused (a constraint, a trigger, a full disk):
		 * once more a row at a time, for the measurement at fault */
		if (!b.rows_failed || !p->bulk ||
		    PQstatus(p->conn) != CONNECTION_OK)
			break;
		b.one_by_one = true;
	}
	free(b.ids);
	if (ret == 0)
		store_pg_folder_kick(p); /* the rows are there to fold */
	return ret;
}
