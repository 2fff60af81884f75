/*
 * store_pg.c - the PostgreSQL backend of store.h (issue 14), through
 * libpq: opening, storing, reading raw, reanalysis. Several collectors may
 * share one database.
 *
 * Durability: a batch is one transaction and store_put_batch() returns 0
 * only once its COMMIT succeeded, with synchronous_commit at least "on"
 * (raised for this session when the server's default is off): an
 * acknowledged measurement is in the primary's WAL on disk.
 *
 * Several collectors: measurement_uid is unique across the database
 * (measurement_uids, store_pg_schema.c), so a retry sent to another
 * collector is a duplicate. A batch stores its rows and queues them for
 * the fold (store_pg_fold.c), the serialised updater that moves the
 * timelines, one fold at a time across the collectors: a target's
 * timeline is moved by one transaction at a time, exactly as with one
 * collector, and batches never wait for each other's targets. Should
 * PostgreSQL report a deadlock or a serialization failure (two batches
 * inserting the same new uids in opposite orders), the batch is tried
 * again from the start, twice at most (store_pg_batch.c).
 *
 * The schema is in store_pg_schema.c, storing a batch in
 * store_pg_batch.c, the fold in store_pg_fold.c, timelines in
 * store_pg_timeline.c and store_pg_daily.c, queries in store_pg_query.c,
 * settings and submitters in store_pg_misc.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#define ZLIB_CONST
#include <zlib.h>

#include "dbredact.h"
#include "store_pg_int.h"
#include "store_read.h"
#include "store_redo.h"

const char *store_pg_stmt_name(enum pg_stmt_id id);

/* --- libpq helpers (store_pg_int.h) -------------------------------------- */

/* Statements whose results come in binary (they return raw). */
static bool
binary_result(enum pg_stmt_id id)
{
	return id == PS_GET_RAW || id == PS_PAGE;
}

static PGresult *
check_result(struct store_pg *p, PGresult *r, ExecStatusType want,
	     const char *what, char *err, size_t errlen)
{
	const char *state;

	if (PQresultStatus(r) == want)
		return r;
	state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	snprintf(p->sqlstate, sizeof(p->sqlstate), "%s",
		 state != NULL ? state : "");
	pg_fail(p, r, what, err, errlen);
	PQclear(r);
	return NULL;
}

PGresult *
pg_run(struct store_pg *p, enum pg_stmt_id id, const struct pg_params *pp,
       ExecStatusType want, const char *what, char *err, size_t errlen)
{
	PGresult *r = PQexecPrepared(
		p->conn, store_pg_stmt_name(id), pp != NULL ? pp->n : 0,
		pp != NULL ? pp->v : NULL, pp != NULL ? pp->len : NULL,
		pp != NULL ? pp->fmt : NULL, binary_result(id) ? 1 : 0);

	return check_result(p, r, want, what, err, errlen);
}

PGresult *
pg_query(struct store_pg *p, const char *sql, const struct pg_params *pp,
	 bool binary, ExecStatusType want, const char *what, char *err,
	 size_t errlen)
{
	PGresult *r = PQexecParams(p->conn, sql, pp != NULL ? pp->n : 0, NULL,
				   pp != NULL ? pp->v : NULL,
				   pp != NULL ? pp->len : NULL,
				   pp != NULL ? pp->fmt : NULL, binary ? 1 : 0);

	return check_result(p, r, want, what, err, errlen);
}

int
pg_do(struct store_pg *p, enum pg_stmt_id id, const struct pg_params *pp,
      const char *what, char *err, size_t errlen)
{
	PGresult *r = PQexecPrepared(
		p->conn, store_pg_stmt_name(id), pp != NULL ? pp->n : 0,
		pp != NULL ? pp->v : NULL, pp != NULL ? pp->len : NULL,
		pp != NULL ? pp->fmt : NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		PQclear(r);
		return 0;
	}
	r = check_result(p, r, PGRES_COMMAND_OK, what, err, errlen);
	return -1;
}

int
pg_exec(struct store_pg *p, const char *sql, const char *what, char *err,
	size_t errlen)
{
	PGresult *r = PQexec(p->conn, sql);
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		PQclear(r);
		return 0;
	}
	check_result(p, r, PGRES_COMMAND_OK, what, err, errlen);
	return -1;
}

void
pg_rollback(struct store_pg *p)
{
	if (PQtransactionStatus(p->conn) != PQTRANS_IDLE)
		PQclear(PQexec(p->conn, "ROLLBACK"));
}

int64_t
pg_int(const PGresult *r, int row, int col)
{
	const unsigned char *v;
	uint64_t u = 0;
	int n;

	if (PQgetisnull(r, row, col))
		return 0;
	v = (const unsigned char *)PQgetvalue(r, row, col);
	if (PQfformat(r, col) == 0)
		return strtoll((const char *)v, NULL, 10);
	n = PQgetlength(r, row, col);
	for (int i = 0; i < n && i < 8; i++)
		u = u << 8 | v[i];
	if (n == 2)
		return (int16_t)u;
	if (n == 4)
		return (int32_t)u;
	return (int64_t)u;
}

/* store_pg_int.h's name for it, which store_pg_daily.c calls. */
void
pg_day_of(int64_t t, char out[32])
{
	store_day_of(t, out);
}

/* --- opening ------------------------------------------------------------- */

/* Notices (CREATE ... IF NOT EXISTS) are not the collector's log. */
static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* What every connection (a new one, or one made again) is set up with. */
static int
session(struct store_pg *p, char *err, size_t errlen)
{
	PGresult *r;
	bool sync_off;

	PQsetNoticeProcessor(p->conn, quiet, NULL);
	if (PQserverVersion(p->conn) < 130000) {
		ww_set_err(err, errlen,
			   "%s: PostgreSQL %d is too old: version 13 or newer"
			   " is needed",
			   p->name, PQserverVersion(p->conn) / 10000);
		return -1;
	}
	/* an acknowledgement promises the commit is on disk */
	r = pg_query(p, "SELECT current_setting('synchronous_commit')", NULL,
		     false, PGRES_TUPLES_OK, "reading synchronous_commit", err,
		     errlen);
	if (r == NULL)
		return -1;
	sync_off = strcmp(PQgetvalue(r, 0, 0), "off") == 0;
	PQclear(r);
	if (sync_off && pg_exec(p, "SET synchronous_commit = on",
				"setting synchronous_commit", err, errlen) != 0)
		return -1;
	/* a read-only collector writes nothing, on a primary too (on a
	 * hot standby every transaction is read-only anyway) */
	if (p->read_only &&
	    pg_exec(p, "SET default_transaction_read_only = on",
		    "setting default_transaction_read_only", err, errlen) != 0)
		return -1;
	return pg_exec(p, "SET client_min_messages = warning",
		       "setting client_min_messages", err, errlen);
}

/*
 * A connection that broke (the server restarted, a failover, a network
 * cut) is made again at the next call, outside any transaction, and its
 * statements prepared again: what failed meanwhile failed (the ingest
 * answers it, and the probe sends again), what comes next works.
 */
int
store_pg_ready(struct store_pg *p, char *err, size_t errlen)
{
	if (PQstatus(p->conn) == CONNECTION_OK)
		return 0;
	PQreset(p->conn);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		const char *m = PQerrorMessage(p->conn);

		ww_set_err(err, errlen, "%s: the connection broke: %.*s",
			   p->name, (int)strcspn(m, "\n"), m);
		return -1;
	}
	return session(p, err, errlen) != 0 ||
			       store_pg_prepare(p, err, errlen) != 0
		       ? -1
		       : 0;
}

static int
connect_db(struct store_pg *p, const char *path, char *err, size_t errlen)
{
	/* "postgresql:KEY=VALUE ..." is a keyword/value conninfo */
	const char *ci = strncmp(path, "postgresql:", 11) == 0 &&
					 strncmp(path + 11, "//", 2) != 0
				 ? path + 11
				 : path;

	p->conn = PQconnectdb(ci);
	if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK) {
		const char *m = p->conn != NULL ? PQerrorMessage(p->conn)
						: "out of memory";

		ww_set_err(err, errlen, "%s: cannot connect: %.*s", p->name,
			   (int)strcspn(m, "\n"), m);
		return -1;
	}
	return session(p, err, errlen);
}

static const struct store_ops pg_ops;

/*
 * read_only (store_open_ro()): the schema is checked, not made; the stale
 * targets are left to the primary's collectors (a hot standby cannot
 * write, and replays their recomputation).
 */
struct store *
store_pg_open(const char *path, bool read_only, char *err, size_t errlen)
{
	struct store_pg *p;

	if (path == NULL || *path == '\0') {
		ww_set_err(err, errlen, "no database given");
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->base.ops = &pg_ops;
	p->name = db_redact(path); /* the messages' name for it */
	p->ag = (struct store_agreement)STORE_AGREEMENT_DEFAULT;
	p->read_only = read_only;
	p->path = xstrdup(path);
	if (connect_db(p, path, err, errlen) != 0 ||
	    (read_only ? store_pg_schema_check(p, err, errlen)
		       : store_pg_migrate(p, err, errlen)) != 0 ||
	    store_pg_prepare(p, err, errlen) != 0 ||
	    store_pg_settings_load(p, err, errlen) != 0 ||
	    /* (which folds first what a collector killed before its fold
	     * left) */
	    (!read_only && store_pg_tl_rebuild_stale(p, err, errlen) != 0)) {
		store_close(&p->base);
		return NULL;
	}
	return &p->base;
}

static void
pg_close(struct store *s)
{
	struct store_pg *p = pg_of(s);

	store_pg_folder_stop(p); /* after its last fold */
	if (p->conn != NULL)
		PQfinish(p->conn);
	store_packer_free(p->pk);
	free(p->months);
	free(p->hc_input);
	free(p->hc_host);
	free(p->rbuf);
	free(p->name);
	free(p->path);
	free(p);
}

PGconn *
store_pg_conn(struct store *s)
{
	return pg_of(s)->conn;
}

/* --- raw ----------------------------------------------------------------- */

/* The raw of row `row` of r (bytea at col, binary; its length at
 * col + 1), decompressed into *buf, NUL-terminated: it must come out
 * exactly as long as recorded, anything else is a damaged row. */
int
store_pg_unpack(struct store_pg *p, const PGresult *r, int row, int col,
		const char *uid, char **buf, size_t *cap, size_t *len,
		char *err, size_t errlen)
{
	const void *z = PQgetvalue(r, row, col);
	size_t zlen = (size_t)PQgetlength(r, row, col);
	int64_t want = pg_int(r, row, col + 1);
	uLongf out;

	if (want <= 0 || (uint64_t)want > STORE_MAX_RAW) {
		ww_set_err(err, errlen,
			   "%s: measurement %.200s: damaged row (raw_len %lld)",
			   p->name, uid, (long long)want);
		return -1;
	}
	if ((size_t)want + 1 > *cap) {
		*cap = (size_t)want + 1;
		*buf = xrealloc(*buf, *cap);
	}
	out = (uLongf)want;
	if (PQgetisnull(r, row, col) || PQfformat(r, col) != 1 ||
	    uncompress((Bytef *)*buf, &out, z, (uLong)zlen) != Z_OK ||
	    out != (uLongf)want) {
		ww_set_err(err, errlen,
			   "%s: measurement %.200s: damaged raw "
			   "(it does not decompress to %lld bytes)",
			   p->name, uid, (long long)want);
		return -1;
	}
	(*buf)[want] = '\0';
	*len = (size_t)want;
	return 0;
}

static int
pg_get_raw(struct store *s, const char *uid, char **raw, size_t *len, char *err,
	   size_t errlen)
{
	struct store_pg *p = pg_of(s);
	struct pg_params pp = {0};
	size_t cap = 0;
	PGresult *r;
	int ret;

	*raw = NULL;
	*len = 0;
	if (uid == NULL) {
		ww_set_err(err, errlen, "no uid given");
		return -1;
	}
	if (strnlen(uid, STORE_MAX_FIELD + 1) > STORE_MAX_FIELD)
		return 1;
	if (PQtransactionStatus(p->conn) != PQTRANS_INTRANS &&
	    store_pg_ready(p, err, errlen) != 0)
		return -1;
	pp_text(&pp, uid);
	r = pg_run(p, PS_GET_RAW, &pp, PGRES_TUPLES_OK, "reading a measurement",
		   err, errlen);
	if (r == NULL)
		return -1;
	ret = PQntuples(r) == 0 ? 1
				: store_pg_unpack(p, r, 0, 0, uid, raw, &cap,
						  len, err, errlen);
	PQclear(r);
	if (ret != 0) {
		free(*raw);
		*raw = NULL;
		*len = 0;
	}
	return ret;
}

static int64_t
pg_count(struct store *s)
{
	char err[256];
	PGresult *r;
	int64_t n;

	if (store_pg_ready(pg_of(s), err, sizeof(err)) != 0)
		return -1;
	r = pg_run(pg_of(s), PS_COUNT, NULL, PGRES_TUPLES_OK, "counting", err,
		   sizeof(err));
	if (r == NULL)
		return -1;
	n = pg_int(r, 0, 0);
	PQclear(r);
	return n;
}

/* --- reanalysis (store_redo.c) ------------------------------------------ */

static int
redo_read_page(void *b, struct store_redo_pass *ps, size_t *seen, char *err,
	       size_t errlen)
{
	struct store_pg *p = b;
	struct pg_params pp = {0};
	PGresult *r;
	int ret = 0;

	pp_int(&pp, ps->last);
	pp_int(&pp, STORE_REDO_PAGE);
	r = pg_run(p, PS_PAGE, &pp, PGRES_TUPLES_OK, "reading measurements",
		   err, errlen);
	if (r == NULL)
		return -1;
	*seen = (size_t)PQntuples(r);
	for (int i = 0; ret == 0 && i < PQntuples(r); i++) {
		const char *uid = PQgetvalue(r, i, 1);
		size_t len;

		ret = store_pg_unpack(p, r, i, 2, uid, &p->rbuf, &p->rcap, &len,
				      err, errlen);
		if (ret == 0)
			ret = store_redo_row(ps, pg_int(r, i, 0),
					     pg_int(r, i, 4), uid, p->rbuf, len,
					     err, errlen);
	}
	PQclear(r);
	return ret;
}

static int
update_build(void *ctx, size_t i, struct pg_call *calls, char *err,
	     size_t errlen)
{
	const struct store_redo *k = &((struct store_redo_pass *)ctx)->page[i];
	struct store_derived d = store_redo_derived(k);

	(void)err;
	(void)errlen;
	memset(&calls[0].pp, 0, sizeof(calls[0].pp));
	calls[0].id = PS_UPDATE;
	pp_int(&calls[0].pp, k->id);
	pp_int(&calls[0].pp, k->start_time);
	store_pg_pp_derived(&calls[0].pp, &d);
	return 1;
}

static int
update_take(void *ctx, size_t i, int k, const PGresult *r, char *err,
	    size_t errlen)
{
	(void)i;
	(void)k;
	(void)err;
	(void)errlen;
	((struct store_redo_pass *)ctx)->updated += pg_int(r, 0, 0);
	return 0;
}

/* The page's results in one short transaction, its statements in a
 * pipeline; each marks its target stale. */
static int
redo_write_page(void *b, struct store_redo_pass *ps, char *err, size_t errlen)
{
	static const struct pg_pipe_ops update_ops = {update_build, update_take,
						      NULL};
	struct store_pg *p = b;

	if (pg_exec(p, "BEGIN", "starting a transaction", err, errlen) != 0 ||
	    pg_pipeline(p, ps->n, &update_ops, ps, "updating derived values",
			err, errlen) != 0 ||
	    pg_exec(p, "COMMIT", "committing", err, errlen) != 0) {
		pg_rollback(p);
		return -1;
	}
	return 0;
}

static int
redo_rebuild_all(void *b, char *err, size_t errlen)
{
	return store_pg_tl_rebuild_all(b, err, errlen);
}

static long
pg_reanalyze(struct store *s, store_reanalyze_fn fn, void *arg, char *err,
	     size_t errlen)
{
	static const struct store_redo_ops ops = {
		redo_read_page, redo_write_page, redo_rebuild_all};

	if (fn != NULL && store_pg_ready(pg_of(s), err, errlen) != 0)
		return -1;
	/* the timelines as they are before the verdicts change */
	if (fn != NULL && store_pg_fold(pg_of(s), err, errlen) != 0)
		return -1;
	return store_redo_run(pg_of(s), &ops, fn, arg, err, errlen);
}

/* --- the table ----------------------------------------------------------- */

static const struct store_ops pg_ops = {
	.close = pg_close,
	.put_batch = store_pg_put_batch,
	.get_raw = pg_get_raw,
	.reanalyze = pg_reanalyze,
	.count = pg_count,
	.agreement_get = store_pg_agreement_get,
	.agreement_set = store_pg_agreement_set,
	.reader = store_pg_reader,
	.submitter_add = store_pg_submitter_add,
	.submitters = store_pg_submitters,
	.submitter_revoke = store_pg_submitter_revoke,
	.submitters_guard = store_pg_submitters_guard,
	.data_version = store_pg_data_version,
	.alert_claim = store_pg_alert_claim,
};
