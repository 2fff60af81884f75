/*
 * store_read.h - the read side of the store, once for both backends
 * (store_read.c defines store.h's store_targets(), store_timeline(),
 * store_events(), store_measurements(), store_export() and
 * store_domain_rollup()): the queries built for the filters given, and
 * their rows turned into store.h's structs. A backend's reader op
 * (store_backend.h) fills a struct store_read.
 *
 * The SQL is the same for SQLite and PostgreSQL but for what struct
 * store_read_ops names: how a parameter is written ("?" or "$1"), how a
 * day of the daily counts is turned into seconds, and which index a
 * measurement query walks (SQLite's INDEXED BY). A backend gives the rest
 * as operations: running a query (the rows read through a struct
 * store_cursor), a target's daily counts, the newest start time and a
 * stored raw body (store_query.c for SQLite, store_pg_query.c for
 * PostgreSQL). Every value of a filter is bound, never pasted into SQL.
 */
#ifndef WW_STORE_READ_H
#define WW_STORE_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_backend.h"

/* More than any query of store_read.c binds. */
#define STORE_QB_MAX_BINDS 32

struct store_read_ops;

/* A query being built: its SQL and its parameters, in order. */
struct store_qb {
	const struct store_read_ops *ops; /* the dialect */
	struct sbuf sql;
	int n;
	struct {
		bool text;
		const char *t; /* text: NULL is SQL NULL; not copied */
		int64_t i;
	} b[STORE_QB_MAX_BINDS];
	char d0[32], d1[32]; /* days bound by a timeline: they live here */
};

/* The row a backend's query is on, its columns by number from 0: text
 * (NULL for SQL NULL; valid until the next row), an integer (0 for NULL),
 * whether a column is NULL. res and row are the backend's (a statement;
 * a result and its row). */
struct store_cursor {
	const char *(*text)(const struct store_cursor *c, int col);
	int64_t (*num)(const struct store_cursor *c, int col);
	bool (*null)(const struct store_cursor *c, int col);
	const void *res;
	int row;
};

struct store_read;

/* Called on each row; sets *stop to end early; 0, or -1 with err. */
typedef int (*store_row_fn)(const struct store_read *rd,
			    const struct store_cursor *c, void *ctx, int *stop,
			    char *err, size_t errlen);

struct store_read_ops {
	/* parameters written $1, $2, ... (PostgreSQL), else ? (SQLite) */
	bool numbered;
	/* the unix seconds of daily_counts' day (alias d), a SQL expression */
	const char *day_seconds;
	/* after the parameter of a day compared to daily_counts' day */
	const char *day_cast;
	/* the index a query of measurements (alias m) walks, written after
	 * FROM measurements m; by_time: an export, sorted by start time */
	const char *(*meas_index)(const struct store_filter *f, bool by_time);
	/* Run q (its SQL complete; the caller frees it), fn on each row until
	 * the end or until fn stops. raw: the rows hold a raw body (export),
	 * read through unpack. 0, or -1 with a message. */
	int (*run)(const struct store_read *rd, struct store_qb *q, bool raw,
		   store_row_fn fn, void *ctx, char *err, size_t errlen);
	/* The daily counts of target t from day `from` to day `to`
	 * ("YYYY-MM-DD", both included): day(each row) as text (column 0),
	 * the blocked (1) and the conclusive (2) of each day, fn on each
	 * row. 0, or -1 with a message. */
	int (*daily)(const struct store_read *rd, const struct store_target *t,
		     const char *from, const char *to,
		     void (*fn)(const struct store_cursor *c, void *ctx),
		     void *ctx, char *err, size_t errlen);
	/* The newest start time stored into *t: 1, or 0 when none (or the
	 * database did not answer: then the caller uses the clock). */
	int (*newest)(const struct store_read *rd, int64_t *t);
	/* The raw body of the row c is on (compressed at column col, its
	 * length at col + 1) into *buf (grown as needed), NUL-terminated,
	 * its length in *len. 0, or -1 with a message. */
	int (*unpack)(const struct store_read *rd, const struct store_cursor *c,
		      int col, const char *uid, char **buf, size_t *cap,
		      size_t *len, char *err, size_t errlen);
};

/* A backend's handle as the read side sees it. */
struct store_read {
	const struct store_read_ops *ops;
	void *b;		 /* the backend's own handle */
	bool allow_geo_mismatch; /* the agreement setting */
};

/* The backends' reader ops (store_backend.h): SQLite's (store_query.c)
 * and PostgreSQL's (store_pg_query.c). */
void store_sqlite_reader(struct store *s, struct store_read *rd);
void store_pg_reader(struct store *s, struct store_read *rd);

/* The query of an export of f (filters normalised) into q, for a look at
 * its plan (tests/unit/test_timeline.c); q->sql.p is the caller's. */
void store_read_export_sql(const struct store_read_ops *ops, struct store_qb *q,
			   const struct store_filter *f);

/*
 * For the readers in other files (store_network.c), what the queries here
 * use: store_qb_begin() checks and normalises fin into *f (the default
 * limit set), fills *rd and starts q in the backend's dialect (0, or -1
 * with a message); store_qb_add() appends SQL; store_qb_text() and
 * store_qb_int() bind a value (frag holds its '?' and may hold one %s,
 * alias); store_qb_where_key() adds input, cc and asn of f on alias;
 * store_qb_where_target_source() keeps the rows of alias (with input,
 * probe_cc, probe_asn) whose target has measurements of source (f's,
 * normalised: NULL for all), as /api/v1/targets and /events do;
 * store_qb_run() runs q and frees its SQL, fn on each row.
 */
int store_qb_begin(struct store *s, const struct store_filter *fin,
		   struct store_read *rd, struct store_filter *f,
		   struct store_qb *q, char *err, size_t errlen);
void store_qb_add(struct store_qb *q, const char *frag);
void store_qb_text(struct store_qb *q, const char *frag, const char *alias,
		   const char *v);
void store_qb_int(struct store_qb *q, const char *frag, const char *alias,
		  int64_t v);
void store_qb_where_key(struct store_qb *q, const char *alias,
			const struct store_filter *f);
void store_qb_where_target_source(struct store_qb *q, const char *alias,
				  const char *source);
int store_qb_run(const struct store_read *rd, struct store_qb *q,
		 store_row_fn fn, void *ctx, char *err, size_t errlen);

#endif
