/*
 * store_pg_batch.c - storing a batch in PostgreSQL (store_put_batch()):
 * few round trips, whatever the batch's size.
 *
 * One transaction:
 *   1. the advisory locks of the batch's targets, in sorted order
 *      (store_pg_lock_targets());
 *   2. every measurement in one statement each (PS_PUT: its uid and its
 *      row, or nothing when the uid is taken), sent in a pipeline: a round
 *      trip per PIPE_CHUNK measurements, not several per measurement.
 *      They run in the batch's order, so ids follow it;
 *   3. a taken uid is a duplicate or a conflict (its raw read back: rare);
 *      the writer's guard flags a revoked key's rows;
 *   4. the daily counts and the daily cap (store_pg_daily.c), added up in
 *      memory and written once per target and day;
 *   5. the timelines (store_pg_tl_batch(): each target's state read once,
 *      moved in memory, written once), then COMMIT; only then is the
 *      batch acknowledged (0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"

/* Statements sent before their results are read (and the server's
 * answers wait in the socket meanwhile: they are small). */
#define PIPE_CHUNK 64
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

struct put {
	struct store_pg *p;
	const struct store_meas *v;
	int64_t *ids; /* the new rows' ids; 0: the uid was taken */
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

/* Compressed raw of m: the caller's, or made now (kept until the next
 * call: the pipeline's statements are sent before that). */
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
	static const struct pg_pipe_ops put_ops = {put_build, put_take,
						   put_name};

	if (pg_pipeline(p, n, &put_ops, b, "storing measurement", err,
			errlen) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		enum store_result r = STORE_NEW;

		if (b->ids[i] == 0 &&
		    dup_or_conflict(p, &b->v[i], &r, err, errlen) != 0)
			return -1;
		if (res != NULL)
			res[i] = r;
	}
	if (p->guard &&
	    store_pg_guard_batch(p, b->v, n, b->ids, err, errlen) != 0)
		return -1;
	return store_pg_daily_batch(p, b->v, n, b->ids, err, errlen);
}

/* One try of a batch, in one transaction; 0 once committed. */
static int
batch_try(struct store_pg *p, struct put *b, size_t n, enum store_result *res,
	  char *err, size_t errlen)
{
	if (pg_exec(p, "BEGIN", "starting a transaction", err, errlen) != 0 ||
	    store_pg_lock_targets(p, b->v, n, err, errlen) != 0 ||
	    batch_rows(p, b, n, res, err, errlen) != 0 ||
	    store_pg_tl_batch(p, b->v, n, b->ids, err, errlen) != 0 ||
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
	struct put b = {p, v, NULL};
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
		ret = batch_try(p, &b, n, res, err, errlen);
		/* deadlock_detected, serialization_failure: again */
		if (ret != 0 && (i + 1 == BATCH_TRIES ||
				 (strcmp(p->sqlstate, "40P01") != 0 &&
				  strcmp(p->sqlstate, "40001") != 0)))
			break;
	}
	free(b.ids);
	return ret;
}
