/*
 * store_pg_int.h - what the files of the PostgreSQL store share
 * (store_pg.c, store_pg_schema.c, store_pg_timeline.c, store_pg_query.c,
 * store_pg_misc.c): the handle, the prepared statements, and small helpers
 * around libpq. Callers use store.h.
 */
#ifndef WW_STORE_PG_INT_H
#define WW_STORE_PG_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store.h"
#include "store_backend.h"
#include "util.h"

/* The statements prepared once per connection (store_pg.c's pg_stmts),
 * by name: their index here. */
enum pg_stmt_id {
	PS_PUT,
	PS_GET_RAW,
	PS_COUNT,
	PS_PAGE,
	PS_UPDATE,
	PS_DAY_GET,
	PS_DAY_ADD,
	PS_SUBDAY_ROWS,
	PS_SUBDAY_ONE,
	PS_SUBDAY_SET,
	PS_STATE_GET,
	PS_STATE_PUT,
	PS_STATE_UPD,
	PS_EVENT_ADD,
	PS_KEY_ROWS,
	PS_KEY_EVENTS,
	PS_EVENTS_CUT,
	PS_STALE_NEXT,
	PS_STALE_DEL,
	PS_KEYS_NEXT,
	PS_PCT,
	PS_NEWEST,
	PS_SUBDAY_DEL_DAY,
	PS_SUBDAY_DEL_KEY,
	PS_SUBDAY_KEY,
	PS_DAILY_DEL_KEY,
	PS_DAILY_KEY,
	PS_STATE_DEL,
	PS_N
};

struct store_pg {
	struct store base; /* first: store.c sees only this */
	PGconn *conn;
	char *name;		   /* for messages: no password in it */
	struct store_packer *pk;   /* for measurements given uncompressed */
	struct store_agreement ag; /* the database's, read at open */
	bool guard;		   /* store_submitters_guard() was called */
	char sqlstate[6];	   /* of the last error */
	/* the batch being stored goes in bulk (store_pg_batch.c:
	 * PG_BULK_MIN measurements or more) */
	bool bulk;
	unsigned long cursors; /* names of the queries' cursors */
	/* months whose partition is known to exist (store_pg_schema.c) */
	int64_t *months;
	size_t nmonths, capmonths;
	char *hc_input, *hc_host; /* the last input's host */
	char *rbuf;		  /* raw being reanalysed, reused */
	size_t rcap;
	bool read_only; /* store_open_ro(): every transaction read-only */
	char *path;	/* as opened (the fold thread connects with it) */
	struct pg_folder *folder; /* the fold thread, once a batch came */
	/* what this handle folded: rows, transactions, seconds */
	int64_t fold_rows, fold_txns;
	double fold_secs;
};

static inline struct store_pg *
pg_of(struct store *s)
{
	return (struct store_pg *)s;
}

/* Report libpq's last error (of res when given, else of the connection)
 * while doing what; returns -1. */
static inline int
pg_fail(struct store_pg *p, PGresult *res, const char *what, char *err,
	size_t errlen)
{
	const char *m = res != NULL ? PQresultErrorMessage(res) : "";

	if (m == NULL || *m == '\0')
		m = PQerrorMessage(p->conn);
	ww_set_err(err, errlen, "%s: %s: %.*s", p->name, what,
		   (int)strcspn(m, "\n"), m);
	return -1;
}

/* Parameters of a statement: text values, NULL for SQL NULL, and binary
 * ones where len[i] > 0 (bytea). */
#define PG_MAX_PARAMS 32
struct pg_params {
	int n;
	const char *v[PG_MAX_PARAMS];
	int len[PG_MAX_PARAMS], fmt[PG_MAX_PARAMS];
	char num[PG_MAX_PARAMS][24]; /* the text of numbers */
};

static inline void
pp_text(struct pg_params *pp, const char *v)
{
	if (pp->n == PG_MAX_PARAMS)
		abort(); /* a bug: no statement binds that many */
	pp->v[pp->n] = v;
	pp->len[pp->n] = 0;
	pp->fmt[pp->n] = 0;
	pp->n++;
}

static inline void
pp_int(struct pg_params *pp, int64_t v)
{
	if (pp->n == PG_MAX_PARAMS)
		abort();
	snprintf(pp->num[pp->n], sizeof(pp->num[0]), "%lld", (long long)v);
	pp_text(pp, pp->num[pp->n]);
}

/* -1: NULL */
static inline void
pp_tri(struct pg_params *pp, int v)
{
	if (v < 0)
		pp_text(pp, NULL);
	else
		pp_int(pp, v);
}

static inline void
pp_bin(struct pg_params *pp, const void *v, size_t len)
{
	if (pp->n == PG_MAX_PARAMS)
		abort();
	pp->v[pp->n] = v;
	pp->len[pp->n] = (int)len;
	pp->fmt[pp->n] = 1;
	pp->n++;
}

/* The three parts of a target's key. */
static inline void
pp_key(struct pg_params *pp, const char *input, const char *cc, const char *asn)
{
	pp_text(pp, input);
	pp_text(pp, cc);
	pp_text(pp, asn);
}

/* Run prepared statement id with pp; the result (the caller clears it),
 * or NULL after a message (the result was not what want says:
 * PGRES_COMMAND_OK or PGRES_TUPLES_OK). binary: results in binary. */
PGresult *pg_run(struct store_pg *p, enum pg_stmt_id id,
		 const struct pg_params *pp, ExecStatusType want,
		 const char *what, char *err, size_t errlen);
/* The same for SQL text (not prepared). */
PGresult *pg_query(struct store_pg *p, const char *sql,
		   const struct pg_params *pp, bool binary, ExecStatusType want,
		   const char *what, char *err, size_t errlen);
/* Run a prepared statement that returns no rows we want. */
int pg_do(struct store_pg *p, enum pg_stmt_id id, const struct pg_params *pp,
	  const char *what, char *err, size_t errlen);
/* Run SQL with no parameters, no rows. */
int pg_exec(struct store_pg *p, const char *sql, const char *what, char *err,
	    size_t errlen);
/* Undo the open transaction, if any. */
void pg_rollback(struct store_pg *p);

/* A value of a result in text format: NULL for SQL NULL. */
static inline const char *
pg_text(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* An integer of a result, text or binary (int2, int4, int8); 0 for
 * NULL. */
int64_t pg_int(const PGresult *r, int row, int col);

/* "YYYY-MM-DD" of unix seconds, clamped to the years 1 to 9999. */
void pg_day_of(int64_t t, char out[32]);

/* Measurements of a batch from which it is stored in bulk (its rows by
 * COPY, the rest by a few statements taking arrays: store_pg_batch.c); a
 * smaller one goes a statement per row, pipelined. Chosen when bulk still
 * went through temporary staging tables, whose emptying at COMMIT and
 * extra round trips cost a small transaction more than COPY saved it
 * (store-bench at 16 a call, 2,400/s by COPY against 4,200/s; even at 64,
 * faster from there: 8,700/s against 6,500/s at 128). */
#define PG_BULK_MIN 64
/* PG_BULK_MIN, but the tests lower it (tests/unit/store_fixture.h) so
 * that the conformance suite runs both ways. */
extern size_t store_pg_bulk_min;

/* store_pg_batch.c: pipelines. An item's statements (at most
 * PG_PIPE_MAX): build fills calls and returns how many (-1: an error,
 * with a message); take (may be NULL) gets the result of statement k of
 * item i; name (may be NULL) what item i is, for a message. */
#define PG_PIPE_MAX 3
struct pg_call {
	enum pg_stmt_id id;
	struct pg_params pp;
};
struct pg_pipe_ops {
	int (*build)(void *ctx, size_t i, struct pg_call *calls, char *err,
		     size_t errlen);
	int (*take)(void *ctx, size_t i, int k, const PGresult *r, char *err,
		    size_t errlen);
	/* what item i is, for a message (may be NULL) */
	const char *(*name)(void *ctx, size_t i);
};
int pg_pipeline(struct store_pg *p, size_t n, const struct pg_pipe_ops *ops,
		void *ctx, const char *what, char *err, size_t errlen);
int store_pg_put_batch(struct store *s, const struct store_meas *v, size_t n,
		       enum store_result *res, char *err, size_t errlen);
void store_pg_pp_derived(struct pg_params *pp, const struct store_derived *d);

/* store_pg_copy.c: rows in COPY's binary format, then sent. */
struct pg_copy {
	char *buf;
	size_t n, cap;
};
void pg_copy_begin(struct pg_copy *c); /* empties c, writes the header */
void pg_copy_row(struct pg_copy *c, int fields);
void pg_copy_text(struct pg_copy *c, const char *v); /* NULL: NULL */
void pg_copy_bytes(struct pg_copy *c, const void *v, size_t len);
void pg_copy_int(struct pg_copy *c, int64_t v, int bytes); /* 2, 4, 8 */
void pg_copy_null(struct pg_copy *c);
void pg_copy_free(struct pg_copy *c);
int pg_copy_send(struct store_pg *p, struct pg_copy *c, const char *sql,
		 const char *what, char *err, size_t errlen);

/* store_pg_copy.c: an array of text sent as one parameter (its literal:
 * {"a","b\"c",NULL}), for a statement that takes a batch's keys at once
 * (unnest($1::text[], ...)). */
struct pg_array {
	char *buf;
	size_t n, cap;
};
void pg_array_begin(struct pg_array *a); /* a zeroed, or used before */
void pg_array_add(struct pg_array *a, const char *v); /* NULL: NULL */
void pg_array_int(struct pg_array *a, int64_t v);
const char *pg_array_end(struct pg_array *a); /* the literal */
void pg_array_free(struct pg_array *a);

/* store_pg_schema.c */
int store_pg_migrate(struct store_pg *p, char *err, size_t errlen);
/* store_open_ro(): the schema is there, at the version this code knows
 * (nothing is created or migrated); 0, or -1 with a message. */
int store_pg_schema_check(struct store_pg *p, char *err, size_t errlen);
int store_pg_prepare(struct store_pg *p, char *err, size_t errlen);
/* Make sure the partitions of v[0..n-1]'s start times exist. */
int store_pg_partitions(struct store_pg *p, const struct store_meas *v,
			size_t n, char *err, size_t errlen);
/* The version the migrations bring a database to. */
int store_pg_schema_version(void);

/* store_pg.c, for the other files */
/* Make a broken connection again (at the start of a call, never inside
 * a transaction); 0 when it works. */
int store_pg_ready(struct store_pg *p, char *err, size_t errlen);
int store_pg_unpack(struct store_pg *p, const PGresult *r, int row, int col,
		    const char *uid, char **buf, size_t *cap, size_t *len,
		    char *err, size_t errlen);

/* store_pg_daily.c: the daily counts of a batch's new measurements (ids
 * as store_pg_tl_batch()'s) */
int store_pg_daily_batch(struct store_pg *p, const struct store_meas *v,
			 size_t n, const int64_t *ids, char *err,
			 size_t errlen);

/* store_pg_timeline.c */
/* The timelines of new measurements (ids[i]: v[i]'s row, 0 for one not
 * stored), in id order, in the fold's transaction; seg[i] (NULL: all
 * one) the batch that stored v[i], whose end is where a target that took
 * a late measurement in it is recomputed. */
int store_pg_tl_batch(struct store_pg *p, const struct store_meas *v, size_t n,
		      const int64_t *ids, const int64_t *seg, char *err,
		      size_t errlen);
int store_pg_tl_rebuild_stale(struct store_pg *p, char *err, size_t errlen);
/* A target's daily counts and submitter days counted again from its rows
 * (those folded: PG_NOT_QUEUED), in the open transaction. */
int store_pg_tl_recount(struct store_pg *p, const char *input, const char *cc,
			const char *asn, char *err, size_t errlen);
int store_pg_tl_rebuild_all(struct store_pg *p, char *err, size_t errlen);

/* store_pg_fold.c: the serialised updater. A batch's transaction stores
 * its rows and appends their ids to fold_queue; a fold (one at a time
 * across every collector: a transaction-level advisory lock) takes the
 * committed queue and applies the guard, the daily counts and the
 * timelines to those rows, read back, in id order. */
/* Fold everything queued, in transactions of up to PG_FOLD_MAX rows; 0
 * when the queue was empty or folded, -1 with a message. Nothing on a
 * read-only handle. */
int store_pg_fold(struct store_pg *p, char *err, size_t errlen);
/* The same, after one cheap look: nothing when the queue is empty
 * (outside a transaction only). */
int store_pg_fold_pending(struct store_pg *p, char *err, size_t errlen);
/* Take the fold's lock in the open transaction: whatever rewrites
 * states or counts, or marks targets stale, holds it (revocation,
 * recomputation), so that it never runs beside a fold. */
int store_pg_fold_lock(struct store_pg *p, char *err, size_t errlen);
/* The writer's fold thread (its own connection): started by the first
 * batch, woken after each commit and every PG_FOLD_PERIOD_MS; stopped
 * (after a last fold) by store_close(). store_pg_fold_async false (the
 * unit tests): no thread, folds happen at reads and when asked. */
extern bool store_pg_fold_async;
/* For the tests: called by a fold once it took the queue, before it
 * applies it (a batch committed at that moment must stay queued). */
extern void (*store_pg_fold_taken)(void *arg);
extern void *store_pg_fold_taken_arg;
void store_pg_folder_kick(struct store_pg *p);
/* What p's fold thread folded so far (all 0 without one). */
void store_pg_folder_stats(struct store_pg *p, int64_t *rows, int64_t *txns,
			   double *secs);
void store_pg_folder_stop(struct store_pg *p);
#define PG_FOLD_MAX 20000
#define PG_FOLD_PERIOD_MS 1000
#define PG_FOLD_GATHER_MS 200 /* folds of the thread at most this often */
/* SQL: a row of measurements (its id, unqualified) not queued for a
 * fold. Every statement that counts or replays a target's rows says
 * it: within one statement a row is visible with its queue entry or
 * not at all, so that what a recomputation reads is exactly what the
 * folds have folded (the queue's rows come in their own fold). */
#define PG_NOT_QUEUED " AND id NOT IN (SELECT fq.id FROM fold_queue fq)"

/* store_pg_misc.c: settings, submitters, data_version */
int store_pg_settings_load(struct store_pg *p, char *err, size_t errlen);
void store_pg_agreement_get(struct store *s, struct store_agreement *a);
int store_pg_agreement_set(struct store *s, const struct store_agreement *a,
			   char *err, size_t errlen);
int store_pg_submitter_add(struct store *s, const char *key_id,
			   const unsigned char public_key[32], int64_t now,
			   char *err, size_t errlen);
int store_pg_submitters(struct store *s,
			int (*cb)(const struct store_submitter *k, void *arg),
			void *arg, char *err, size_t errlen);
int store_pg_submitter_revoke(struct store *s, const char *key_id,
			      const char *reason, int64_t now, int64_t *n_rows,
			      char *err, size_t errlen);
int store_pg_submitters_guard(struct store *s, char *err, size_t errlen);
int64_t store_pg_data_version(struct store *s);
/* store_pg_alerts.c */
int store_pg_alert_claim(struct store *s, const char *key, const char *who,
			 int64_t now, char *err, size_t errlen);
/* The guard's work for a batch's new rows (ids[i]: v[i]'s, 0 none): a
 * revoked key's are flagged, their targets marked stale. */
int store_pg_guard_batch(struct store_pg *p, const struct store_meas *v,
			 size_t n, const int64_t *ids, char *err,
			 size_t errlen);

/* For tests: the connection of a PostgreSQL handle. */
PGconn *store_pg_conn(struct store *s);

/* daily_counts' counts: their columns, their sum (of a row d), and an
 * upsert's addition (of excluded to d). */
#define N_COLS                                                                 \
	"n_ok, n_dns, n_tcp_ip, n_tls, n_http_failure, n_http_diff,"           \
	" n_server_side, n_down, n_failed, n_protocol, n_endpoint,"            \
	" n_geo_mismatch, n_capped"
#define N_SUM                                                                  \
	"d.n_ok + d.n_dns + d.n_tcp_ip + d.n_tls + d.n_http_failure +"         \
	" d.n_http_diff + d.n_server_side + d.n_down + d.n_failed +"           \
	" d.n_protocol + d.n_endpoint + d.n_geo_mismatch + d.n_capped"
#define N_ADD                                                                  \
	"n_ok = d.n_ok + excluded.n_ok, n_dns = d.n_dns + excluded.n_dns,"     \
	" n_tcp_ip = d.n_tcp_ip + excluded.n_tcp_ip,"                          \
	" n_tls = d.n_tls + excluded.n_tls,"                                   \
	" n_http_failure = d.n_http_failure + excluded.n_http_failure,"        \
	" n_http_diff = d.n_http_diff + excluded.n_http_diff,"                 \
	" n_server_side = d.n_server_side + excluded.n_server_side,"           \
	" n_down = d.n_down + excluded.n_down,"                                \
	" n_failed = d.n_failed + excluded.n_failed,"                          \
	" n_protocol = d.n_protocol + excluded.n_protocol,"                    \
	" n_endpoint = d.n_endpoint + excluded.n_endpoint,"                    \
	" n_geo_mismatch = d.n_geo_mismatch + excluded.n_geo_mismatch,"        \
	" n_capped = d.n_capped + excluded.n_capped"

/* The UTC day of unix seconds x (an SQL bigint expression) as an SQL
 * date: floor division, also before 1970. */
#define PG_DAY(x)                                                              \
	"(DATE '1970-01-01' + ((" x " - (((" x ") % 86400 + 86400) % 86400))"  \
	" / 86400)::int)"

#endif
