/*
 * store_pg_query.c - the read side of the PostgreSQL store (store.h):
 * what store_read.c, which builds the queries of both backends, needs
 * from PostgreSQL. The answers are those SQLite gives (same rows, same
 * order: text compares byte by byte, COLLATE "C").
 *
 * A query runs as a cursor fetched a page at a time, in a read-only
 * transaction of its own (repeatable read: an export sees one snapshot),
 * so that a result is never whole in memory and a callback may read the
 * store meanwhile (a cursor of its own, nested in the same transaction).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "store_read.h"

/* Rows fetched per round trip. */
#define FETCH_ROWS 256

static struct store_pg *
pg_of_read(const struct store_read *rd)
{
	return rd->b;
}

/* --- a row's columns ------------------------------------------------------ */

static const PGresult *
res_of(const struct store_cursor *c)
{
	return c->res;
}

static const char *
col_text(const struct store_cursor *c, int i)
{
	return pg_text(res_of(c), c->row, i);
}

static int64_t
col_num(const struct store_cursor *c, int i)
{
	return pg_int(res_of(c), c->row, i);
}

static bool
col_null(const struct store_cursor *c, int i)
{
	return PQgetisnull(res_of(c), c->row, i) != 0;
}

/* --- the operations of store_read.h --------------------------------------- */

/* Run q as a cursor (raw: every column in binary, the bodies' bytes as
 * they are), fn for each row until the end or until fn stops; 0, or -1
 * with a message. */
static int
pg_rd_run(const struct store_read *rd, struct store_qb *q, bool raw,
	  store_row_fn fn, void *ctx, char *err, size_t errlen)
{
	struct store_pg *p = pg_of_read(rd);
	bool own = PQtransactionStatus(p->conn) == PQTRANS_IDLE;
	struct store_cursor c = {col_text, col_num, col_null, NULL, 0};
	struct pg_params pp = {0};
	char name[32], sql[96], *decl;
	int stop = 0, ret = -1;
	PGresult *r;

	for (int i = 0; i < q->n; i++)
		if (q->b[i].text)
			pp_text(&pp, q->b[i].t);
		else
			pp_int(&pp, q->b[i].i);
	snprintf(name, sizeof(name), "ww_cur%lu", ++p->cursors);
	if (own && store_pg_ready(p, err, errlen) != 0)
		goto out;
	/* a writer reads its own writes: what is queued is folded first
	 * (one look when nothing is) */
	if (own && store_pg_fold_pending(p, err, errlen) != 0)
		goto out;
	if (own && pg_exec(p, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
			   "starting a query", err, errlen) != 0)
		goto out;
	decl = xasprintf("DECLARE %s NO SCROLL CURSOR FOR %s", name, q->sql.p);
	r = pg_query(p, decl, &pp, false, PGRES_COMMAND_OK, "preparing a query",
		     err, errlen);
	free(decl);
	if (r == NULL)
		goto out;
	PQclear(r);
	snprintf(sql, sizeof(sql), "FETCH %d FROM %s", FETCH_ROWS, name);
	for (;;) {
		int n;

		/* binary: the format of the FETCH's result, which is
		 * what counts in the extended protocol */
		r = pg_query(p, sql, NULL, raw, PGRES_TUPLES_OK, "reading", err,
			     errlen);
		if (r == NULL)
			goto out;
		n = PQntuples(r);
		c.res = r;
		for (c.row = 0; c.row < n && !stop; c.row++)
			if (fn(rd, &c, ctx, &stop, err, errlen) != 0) {
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
	return ret;
}

static int
pg_rd_daily(const struct store_read *rd, const struct store_target *t,
	    const char *from, const char *to,
	    void (*fn)(const struct store_cursor *c, void *ctx), void *ctx,
	    char *err, size_t errlen)
{
	struct store_cursor c = {col_text, col_num, col_null, NULL, 0};
	struct pg_params pp = {0};
	PGresult *r;

	pp_key(&pp, t->input, t->cc, t->asn);
	pp_text(&pp, from);
	pp_text(&pp, to);
	r = pg_run(pg_of_read(rd), PS_PCT, &pp, PGRES_TUPLES_OK,
		   "reading daily counts", err, errlen);
	if (r == NULL)
		return -1;
	c.res = r;
	for (c.row = 0; c.row < PQntuples(r); c.row++)
		fn(&c, ctx);
	PQclear(r);
	return 0;
}

static int
pg_rd_newest(const struct store_read *rd, int64_t *t)
{
	char err[256];
	PGresult *r = pg_run(pg_of_read(rd), PS_NEWEST, NULL, PGRES_TUPLES_OK,
			     "reading", err, sizeof(err));
	int found = r != NULL && !PQgetisnull(r, 0, 0);

	if (found)
		*t = pg_int(r, 0, 0);
	PQclear(r);
	return found;
}

static int
pg_rd_unpack(const struct store_read *rd, const struct store_cursor *c, int col,
	     const char *uid, char **buf, size_t *cap, size_t *len, char *err,
	     size_t errlen)
{
	return store_pg_unpack(pg_of_read(rd), res_of(c), c->row, col, uid, buf,
			       cap, len, err, errlen);
}

/* The planner picks the index: no hints. */
static const char *
meas_index(const struct store_filter *f, bool by_time)
{
	(void)f;
	(void)by_time;
	return "";
}

static const struct store_read_ops pg_read_ops = {
	.numbered = true,
	.day_seconds = "(d.day - DATE '1970-01-01')::bigint * 86400",
	.day_cast = "::date",
	.meas_index = meas_index,
	.run = pg_rd_run,
	.daily = pg_rd_daily,
	.newest = pg_rd_newest,
	.unpack = pg_rd_unpack,
};

void
store_pg_reader(struct store *s, struct store_read *rd)
{
	struct store_pg *p = pg_of(s);

	rd->ops = &pg_read_ops;
	rd->b = p;
	rd->allow_geo_mismatch = p->ag.allow_geo_mismatch;
}
