/*
 * store_sqlite_int.h - what the parts of the SQLite store share: the
 * handle, its prepared statements, small helpers, and the timelines'
 * entry points (store_timeline.c). Internal to store_sqlite.c,
 * store_timeline.c, store_query.c and the store's other files; callers
 * use store.h.
 */
#ifndef WW_STORE_SQLITE_INT_H
#define WW_STORE_SQLITE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_backend.h"
#include "timeline.h"
#include "tkeyset.h"
#include "util.h"

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_INSERT,
	ST_GET_RAW,
	ST_PAGE,
	ST_UPDATE,
	ST_COUNT,
	/* timelines */
	ST_DAILY_ADD,
	ST_DAILY_INC,
	ST_STATE_GET,
	ST_STATE_PUT,
	ST_STATE_UPD,
	ST_STATE_DEL,
	ST_EVENT_ADD,
	ST_UID_OF,
	ST_KEY_ROWS,
	ST_KEY_EVENTS,
	ST_EVENTS_CUT,
	ST_DAILY_DEL_KEY,
	ST_DAILY_KEY,
	ST_STALE_MARK,
	ST_STALE_NEXT,
	ST_STALE_DEL,
	ST_KEYS_NEXT,
	ST_PCT,
	ST_NEWEST,
	/* agreement */
	ST_DAILY_TOTAL,
	ST_DAILY_CAP,
	ST_SUBDAY_ADD,
	ST_SUBDAY_DEL_KEY,
	ST_SUBDAY_DEL_DAY,
	ST_SUBDAY_DAY,
	ST_SUBDAY_GET,
	ST_SUBDAY_KEY,
	ST_SETTINGS_GET,
	ST_SETTINGS_PUT,
	ST_STALE_ALL,
	ST_N
};

/* The SQLite backend's handle (store_backend.h): base first. */
struct sqlite_store {
	struct store base; /* ops: sqlite_ops */
	sqlite3 *db;
	char *path; /* for messages */
	sqlite3_stmt *st[ST_N];
	struct store_packer *pk; /* for measurements given uncompressed */
	char *rbuf;		 /* raw being reanalysed, reused */
	size_t rcap;
	char *hc_input, *hc_host;  /* the last input's host (host_of()) */
	struct store_agreement ag; /* the database's, read at open */
	bool read_only;		   /* store_open_ro() */
};

/* The SQLite handle behind a store.h one (base is its first member). */
static inline struct sqlite_store *
sq(struct store *base)
{
	return (struct sqlite_store *)base;
}

/* Report SQLite's last error while doing what; returns -1. */
static inline int
db_fail(struct sqlite_store *s, const char *what, char *err, size_t errlen)
{
	ww_set_err(err, errlen, "%s: %s: %s", s->path, what,
		   sqlite3_errmsg(s->db));
	return -1;
}

/* Make buf hold at least need bytes; returns it, maybe moved. */
static inline void *
reserve(void *buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return buf;
	*cap = need;
	return xrealloc(buf, need);
}

/* Run a statement that returns no rows, and make it ready to run again. */
static inline int
run(struct sqlite_store *s, enum stmt_id id, const char *what, char *err,
    size_t errlen)
{
	int rc = sqlite3_step(s->st[id]);

	if (rc != SQLITE_DONE)
		db_fail(s, what, err, errlen);
	sqlite3_reset(s->st[id]);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Undo the open transaction, if a failure left one open. */
static inline void
rollback(struct sqlite_store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return;
	sqlite3_step(s->st[ST_ROLLBACK]);
	sqlite3_reset(s->st[ST_ROLLBACK]);
}

static inline int
exec(struct sqlite_store *s, const char *sql, const char *what, char *err,
     size_t errlen)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(s, what, err, errlen);
	return 0;
}

static inline int
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static inline int
bind_key(sqlite3_stmt *st, const char *input, const char *cc, const char *asn)
{
	return bind_text(st, 1, input) | bind_text(st, 2, cc) |
	       bind_text(st, 3, asn);
}

/* Step a statement that returns no rows, then reset it and its bindings. */
static inline int
step_done(struct sqlite_store *s, sqlite3_stmt *st, int bind_rc,
	  const char *what, char *err, size_t errlen)
{
	int rc = bind_rc == SQLITE_OK ? sqlite3_step(st) : bind_rc;

	if (rc != SQLITE_DONE)
		db_fail(s, what, err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* store_schema.c: the schema's version (the number of migrations),
 * migration i (0 ..), and the SQL of statement id (into b when it is
 * built, else static). */
int store_sqlite_schema_version(void);
const char *store_sqlite_migration(int i);
const char *store_sqlite_stmt(int id, struct sbuf *b);
/* The daily_counts column of count class i (a WW_CLASS_* or TL_COUNT_*),
 * "n_" and its name with '-' as '_', into out. */
void store_sqlite_count_column(int i, char *out, size_t outlen);

#define DAY ((int64_t)86400)

/* The backend's operations (store_backend.h), by file; sqlite_ops, the
 * table, is in store_sqlite.c. */
/* store_sqlite.c */
void sqlite_close(struct store *s);
int sqlite_put_batch(struct store *s, const struct store_meas *v, size_t n,
		     enum store_result *res, char *err, size_t errlen);
int sqlite_get_raw(struct store *s, const char *uid, char **raw, size_t *len,
		   char *err, size_t errlen);
long sqlite_reanalyze(struct store *s, store_reanalyze_fn fn, void *arg,
		      char *err, size_t errlen);
int64_t sqlite_count(struct store *s);
/* store_agreement.c */
void sqlite_agreement_get(struct store *s, struct store_agreement *a);
int sqlite_agreement_set(struct store *s, const struct store_agreement *a,
			 char *err, size_t errlen);
/* store_submitters.c */
int sqlite_submitter_add(struct store *s, const char *key_id,
			 const unsigned char public_key[32], int64_t now,
			 char *err, size_t errlen);
int sqlite_submitters(struct store *s,
		      int (*cb)(const struct store_submitter *k, void *arg),
		      void *arg, char *err, size_t errlen);
int sqlite_submitter_revoke(struct store *s, const char *key_id,
			    const char *reason, int64_t now, int64_t *n_rows,
			    char *err, size_t errlen);
int sqlite_submitters_guard(struct store *s, char *err, size_t errlen);
int64_t sqlite_data_version(struct store *s);
int sqlite_alert_claim(struct store *s, const char *key, const char *who,
		       int64_t now, char *err,
		       size_t errlen); /* store_alerts.c */

/* store_sqlite.c, for store_query.c */
/* The raw of the row st is on (blob at column col, length at col + 1),
 * decompressed into *buf (grown as needed), NUL-terminated, in *len. */
int store_unpack(struct sqlite_store *s, sqlite3_stmt *st, int col,
		 const char *uid, char **buf, size_t *cap, size_t *len,
		 char *err, size_t errlen);

/* store_timeline.c */
int store_tl_add(struct sqlite_store *s, const struct store_meas *m,
		 sqlite3_int64 id, struct tkeyset *redo, char *err,
		 size_t errlen);
int store_tl_redo(struct sqlite_store *s, const struct tkeyset *redo, char *err,
		  size_t errlen);
int store_tl_rebuild_stale(struct sqlite_store *s, char *err, size_t errlen);
int store_tl_rebuild_all(struct sqlite_store *s, char *err, size_t errlen);
int store_tl_settings_load(struct sqlite_store *s, char *err, size_t errlen);

/* For tests that look at the database with plain SQL: the connection
 * behind a store.h handle of this backend (busy timeout set, schema up to
 * date); borrowed. */
sqlite3 *store_sqlite_db(struct store *s);

#endif
