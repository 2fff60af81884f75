/*
 * store_query.c - the read side of the SQLite store (store.h): what
 * store_read.c, which builds the queries of both backends, needs from
 * SQLite (running a query, its columns, the daily counts of a target, a
 * stored raw body) and the indexes SQLite is told to walk. Reads only;
 * store_sqlite.c opens the database, writes and reanalyses.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_read.h"
#include "store_sqlite_int.h"
#include "util.h"

static struct sqlite_store *
sq_of(const struct store_read *rd)
{
	return rd->b;
}

/* --- a row's columns ------------------------------------------------------ */

static sqlite3_stmt *
st_of(const struct store_cursor *c)
{
	return (sqlite3_stmt *)c->res;
}

static const char *
col_text(const struct store_cursor *c, int i)
{
	return (const char *)sqlite3_column_text(st_of(c), i);
}

static int64_t
col_num(const struct store_cursor *c, int i)
{
	return sqlite3_column_int64(st_of(c), i);
}

static bool
col_null(const struct store_cursor *c, int i)
{
	return sqlite3_column_type(st_of(c), i) == SQLITE_NULL;
}

static struct store_cursor
cursor_of(sqlite3_stmt *st)
{
	struct store_cursor c = {col_text, col_num, col_null, st, 0};

	return c;
}

/* --- the operations of store_read.h --------------------------------------- */

static int
prepare(struct sqlite_store *s, const struct store_qb *q, sqlite3_stmt **st,
	char *err, size_t errlen)
{
	int rc = sqlite3_prepare_v2(s->db, q->sql.p, -1, st, NULL);

	for (int i = 0; rc == SQLITE_OK && i < q->n; i++)
		rc = q->b[i].text ? bind_text(*st, i + 1, q->b[i].t)
				  : sqlite3_bind_int64(*st, i + 1, q->b[i].i);
	if (rc != SQLITE_OK) {
		db_fail(s, "preparing a query", err, errlen);
		sqlite3_finalize(*st);
		*st = NULL;
		return -1;
	}
	return 0;
}

/* Step the query to its end, fn(row) each time; 0 at the end or when fn
 * stops. */
static int
sqlite_rd_run(const struct store_read *rd, struct store_qb *q, bool raw,
	      store_row_fn fn, void *ctx, char *err, size_t errlen)
{
	struct sqlite_store *s = sq_of(rd);
	struct store_cursor c;
	sqlite3_stmt *st;
	int rc, stop = 0, ret = 0;

	(void)raw; /* a blob is read as it is */
	if (prepare(s, q, &st, err, errlen) != 0)
		return -1;
	c = cursor_of(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (fn(rd, &c, ctx, &stop, err, errlen) != 0) {
			ret = -1;
			break;
		}
		if (stop)
			break;
	}
	if (ret == 0 && !stop && rc != SQLITE_DONE) {
		db_fail(s, "reading", err, errlen);
		ret = -1;
	}
	sqlite3_finalize(st);
	return ret;
}

static int
sqlite_rd_daily(const struct store_read *rd, const struct store_target *t,
		const char *from, const char *to,
		void (*fn)(const struct store_cursor *c, void *ctx), void *ctx,
		char *err, size_t errlen)
{
	struct sqlite_store *s = sq_of(rd);
	sqlite3_stmt *st = s->st[ST_PCT];
	struct store_cursor c = cursor_of(st);
	int rc = bind_key(st, t->input, t->cc, t->asn);

	rc |= bind_text(st, 4, from);
	rc |= bind_text(st, 5, to);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		fn(&c, ctx);
	}
	if (rc != SQLITE_DONE)
		db_fail(s, "reading daily counts", err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
sqlite_rd_newest(const struct store_read *rd, int64_t *t)
{
	sqlite3_stmt *st = sq_of(rd)->st[ST_NEWEST];
	int found = sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_type(st, 0) != SQLITE_NULL;

	if (found)
		*t = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return found;
}

static int
sqlite_rd_unpack(const struct store_read *rd, const struct store_cursor *c,
		 int col, const char *uid, char **buf, size_t *cap, size_t *len,
		 char *err, size_t errlen)
{
	return store_unpack(sq_of(rd), st_of(c), col, uid, buf, cap, len, err,
			    errlen);
}

/*
 * The index a measurement query walks. With an input, the target's rows
 * (measurements_target_time), sorted: a target's history is small next to
 * the table, and SQLite's sorter spills to temporary files beyond its
 * cache. Without: by id (store_measurements), the rows of [since, until)
 * (of a country: measurements_cc_time), sorted; else a country's rows are
 * already in id order in measurements_cc (an index ends with the rowid),
 * and others are scanned by id from after_id. Export walks the index whose
 * equalities the filter fills, with start_time next, so nothing is sorted
 * (rows of the same second come by id).
 */
static const char *
meas_index(const struct store_filter *f, bool by_time)
{
	bool range = f->since != 0 || f->until != 0;

	if (f->input != NULL)
		return " INDEXED BY measurements_target_time";
	if (by_time || range)
		return f->cc != NULL ? " INDEXED BY measurements_cc_time"
				     : " INDEXED BY measurements_time";
	if (f->cc != NULL)
		return " INDEXED BY measurements_cc";
	return " NOT INDEXED";
}

static const struct store_read_ops sqlite_read_ops = {
	.numbered = false,
	.day_seconds = "unixepoch(d.day)", /* the day is text */
	.day_cast = "",
	.meas_index = meas_index,
	.run = sqlite_rd_run,
	.daily = sqlite_rd_daily,
	.newest = sqlite_rd_newest,
	.unpack = sqlite_rd_unpack,
};

void
store_sqlite_reader(struct store *base, struct store_read *rd)
{
	struct sqlite_store *s = sq(base);

	rd->ops = &sqlite_read_ops;
	rd->b = s;
	rd->allow_geo_mismatch = s->ag.allow_geo_mismatch != 0;
}
