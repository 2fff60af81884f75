/*
 * store_sqlite.c - the SQLite backend of store.h, the embedded default.
 *
 * Durability: WAL with synchronous=FULL, so every COMMIT is fsync'ed to the
 * WAL before store_put_batch() returns; a kill -9 or a power cut after the
 * ingest's acknowledgement loses nothing. Raw measurements are kept
 * verbatim, zlib-compressed, with their length so that reading them back
 * can check they came out whole.
 *
 * The schema is brought up to date by the migrations below, one
 * transaction for all of them; the schema_version table says how far a
 * database is. A database from newer code is refused rather than guessed
 * at.
 *
 * Hot statements are prepared once, at open, and reused.
 *
 * This file opens, writes and reanalyses; the read-side queries are in
 * store_query.c, the timelines in store_timeline.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#define ZLIB_CONST /* next_in is const */
#include <zlib.h>

#include "dbredact.h"
#include "store.h"
#include "store_read.h"
#include "store_redo.h"
#include "store_sqlite_int.h"
#include "target.h"
#include "util.h"

/* How long a write waits for another process's write lock (a reanalysis
 * or an export of the same database, a backup, a checkpoint): long enough
 * to ride out such a transaction on a busy machine, where 5 s was not
 * (the ingest writer gave up and the probes had to send again), short
 * enough that a stuck one shows up as an error. Only the ingest writer and
 * the offline commands write; WAL readers never wait for it. Meanwhile the
 * ingest queue's bound answers new POSTs 503 with Retry-After. */
#define BUSY_TIMEOUT_MS 60000

/* The bind index of the first derived value in ST_INSERT and ST_UPDATE,
 * and how many there are (bind_derived). */
#define INSERT_DERIVED 14
#define UPDATE_DERIVED 2
#define N_DERIVED 9

/* --- opening and the schema ---------------------------------------------- */

static int
open_db(struct sqlite_store *s, const char *path, char *err, size_t errlen)
{
	int rc = sqlite3_open_v2(
		path, &s->db,
		(s->read_only ? SQLITE_OPEN_READONLY
			      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
			SQLITE_OPEN_NOMUTEX,
		NULL);

	if (rc != SQLITE_OK) {
		ww_set_err(err, errlen, "%s: %s%s", s->path,
			   s->db != NULL ? sqlite3_errmsg(s->db)
					 : sqlite3_errstr(rc),
			   s->read_only ? " (a read-only collector creates "
					  "nothing)"
					: "");
		return -1;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	return 0;
}

/* WAL lets readers (the API, exports) go on while ingest writes. It is
 * the first statement that reads the file, so a file that is not a
 * database is reported here. */
static int
set_wal(struct sqlite_store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	bool wal = false;

	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st,
			       NULL) != SQLITE_OK)
		return db_fail(s, "setting WAL mode", err, errlen);
	/* Switching a new file to WAL takes an exclusive lock, and SQLite
	 * answers BUSY at once, without the busy handler, when another
	 * connection is doing the same (two processes opening one new
	 * database: a collector and `keys add`, two test writers). Wait for
	 * it as the busy timeout would. */
	for (int waited = 0;; waited += 10) {
		rc = sqlite3_step(st);
		if ((rc & 0xff) != SQLITE_BUSY || waited >= BUSY_TIMEOUT_MS)
			break;
		sqlite3_reset(st);
		sqlite3_sleep(10);
	}
	if (rc == SQLITE_ROW) {
		const unsigned char *mode = sqlite3_column_text(st, 0);

		wal = mode != NULL && strcmp((const char *)mode, "wal") == 0;
	} else {
		db_fail(s, "setting WAL mode", err, errlen);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	if (!wal) {
		ww_set_err(err, errlen, "%s: cannot use WAL mode there",
			   s->path);
		return -1;
	}
	return 0;
}

static int
configure(struct sqlite_store *s, char *err, size_t errlen)
{
	/* read-only: the journal mode and synchronous are the writer's */
	if (s->read_only)
		return exec(s, "PRAGMA cache_size = -65536",
			    "setting the cache size", err, errlen);
	if (set_wal(s, err, errlen) != 0)
		return -1;
	/* FULL: in WAL mode NORMAL may lose the last commits on power loss,
	 * and an acknowledgement promises they are kept. */
	if (exec(s, "PRAGMA synchronous = FULL", "setting synchronous", err,
		 errlen) != 0)
		return -1;
	/* 64 MiB of page cache rather than 2: the timelines' tables and
	 * the indexes are updated at random places; ingest ran 1.5x faster
	 * (measured with 100,000 measurements over 10,000 targets). */
	if (exec(s, "PRAGMA cache_size = -65536", "setting the cache size", err,
		 errlen) != 0)
		return -1;
	return exec(s, "PRAGMA foreign_keys = ON", "enabling foreign keys", err,
		    errlen);
}

/* The schema version in *v: 0 for a new database. */
static int
read_version(struct sqlite_store *s, sqlite3_int64 *v, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*v = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT version FROM schema_version"
			       " WHERE id = 1",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, "reading the schema version", err, errlen);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		db_fail(s, "reading the schema version", err, errlen);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (*v < 0) {
		ww_set_err(err, errlen,
			   "%s: the schema version is %lld, which no "
			   "wallwatch-collector wrote",
			   s->path, (long long)*v);
		return -1;
	}
	return 0;
}

static int
apply_migrations(struct sqlite_store *s, sqlite3_int64 from, char *err,
		 size_t errlen)
{
	char what[64], sql[128];

	for (int i = (int)from; i < store_sqlite_schema_version(); i++) {
		snprintf(what, sizeof(what),
			 "migrating the schema to version %d", i + 1);
		if (exec(s, store_sqlite_migration(i), what, err, errlen) != 0)
			return -1;
	}
	snprintf(sql, sizeof(sql),
		 "INSERT INTO schema_version (id, version) VALUES (1, %d)"
		 " ON CONFLICT (id) DO UPDATE SET version = excluded.version",
		 store_sqlite_schema_version());
	return exec(s, sql, "recording the schema version", err, errlen);
}

/* One IMMEDIATE transaction: two collectors starting on one new database
 * cannot both migrate it. */
static int
migrate(struct sqlite_store *s, char *err, size_t errlen)
{
	sqlite3_int64 v;

	if (exec(s, "BEGIN IMMEDIATE", "starting the schema check", err,
		 errlen) != 0)
		return -1;
	if (exec(s,
		 "CREATE TABLE IF NOT EXISTS schema_version ("
		 " id INTEGER PRIMARY KEY CHECK (id = 1),"
		 " version INTEGER NOT NULL)",
		 "creating schema_version", err, errlen) != 0 ||
	    read_version(s, &v, err, errlen) != 0)
		goto fail;
	if (v > store_sqlite_schema_version()) {
		ww_set_err(err, errlen,
			   "%s: the database's schema is version %lld, newer "
			   "than this wallwatch-collector's (%d): use a newer "
			   "wallwatch-collector with it",
			   s->path, (long long)v,
			   store_sqlite_schema_version());
		goto fail;
	}
	if (v < store_sqlite_schema_version() &&
	    apply_migrations(s, v, err, errlen) != 0)
		goto fail;
	if (exec(s, "COMMIT", "committing the schema", err, errlen) != 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* A read-only collector's database: one that a collector of this very
 * version made (it creates and migrates nothing). The first read of the
 * file: one that is not a database is reported here. */
static int
check_version(struct sqlite_store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 v;
	int rc;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT 1 FROM sqlite_master WHERE type = "
			       "'table' AND name = 'schema_version'",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, "looking for the schema", err, errlen);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_fail(s, "looking for the schema", err, errlen);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return ww_fail(err, errlen,
			       "%s: no wallwatch schema there (no "
			       "schema_version table): a read-only collector "
			       "creates nothing",
			       s->path);
	if (rc != SQLITE_ROW || read_version(s, &v, err, errlen) != 0)
		return -1;
	if (v != store_sqlite_schema_version())
		return ww_fail(
			err, errlen,
			"%s: the database's schema is version %lld, "
			"this wallwatch-collector reads version %d only: "
			"a read-only collector migrates nothing",
			s->path, (long long)v, store_sqlite_schema_version());
	return 0;
}

static int
prepare_all(struct sqlite_store *s, char *err, size_t errlen)
{
	struct sbuf b = {NULL, 0, 0};
	int ret = 0;

	for (int i = 0; ret == 0 && i < ST_N; i++)
		if (sqlite3_prepare_v3(s->db, store_sqlite_stmt(i, &b), -1,
				       SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK)
			ret = db_fail(s, "preparing statements", err, errlen);
	free(b.p);
	return ret;
}

static const struct store_ops sqlite_ops = {
	.close = sqlite_close,
	.put_batch = sqlite_put_batch,
	.get_raw = sqlite_get_raw,
	.reanalyze = sqlite_reanalyze,
	.count = sqlite_count,
	.agreement_get = sqlite_agreement_get,
	.agreement_set = sqlite_agreement_set,
	.reader = store_sqlite_reader,
	.submitter_add = sqlite_submitter_add,
	.submitters = sqlite_submitters,
	.submitter_revoke = sqlite_submitter_revoke,
	.submitters_guard = sqlite_submitters_guard,
	.data_version = sqlite_data_version,
	.alert_claim = sqlite_alert_claim,
};

/* read_only (store_open_ro()): the file is opened read-only, its schema
 * checked, not made; stale targets are left to the collector writing it. */
struct store *
store_sqlite_open(const char *path, bool read_only, char *err, size_t errlen)
{
	struct sqlite_store *s;

	if (path == NULL || *path == '\0') {
		ww_set_err(err, errlen, "no database path given");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &sqlite_ops;
	s->path = db_redact(path); /* a conninfo mistaken for a file */
	s->read_only = read_only;
	if (open_db(s, path, err, errlen) != 0 ||
	    configure(s, err, errlen) != 0 ||
	    (read_only ? check_version(s, err, errlen)
		       : migrate(s, err, errlen)) != 0 ||
	    prepare_all(s, err, errlen) != 0 ||
	    store_tl_settings_load(s, err, errlen) != 0 ||
	    (!read_only && store_tl_rebuild_stale(s, err, errlen) != 0)) {
		sqlite_close(&s->base);
		return NULL;
	}
	return &s->base;
}

void
sqlite_close(struct store *base)
{
	struct sqlite_store *s = sq(base);
	if (s == NULL)
		return;
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	store_packer_free(s->pk);
	free(s->rbuf);
	free(s->hc_input);
	free(s->hc_host);
	free(s->path);
	free(s);
}

/* --- raw: compression ---------------------------------------------------- */

/* raw compressed, by the caller (m->zraw) or now; in *z, *zlen. */
static int
pack(struct sqlite_store *s, const struct store_meas *m, const void **z,
     size_t *zlen, char *err, size_t errlen)
{
	char msg[128];

	if (m->zraw != NULL) {
		*z = m->zraw;
		*zlen = m->zraw_len;
		return 0;
	}
	if (s->pk == NULL)
		s->pk = store_packer_new();
	if (store_pack(s->pk, m->raw, m->raw_len, z, zlen, msg, sizeof(msg)) !=
	    0) {
		ww_set_err(err, errlen, "measurement %.200s: %s", m->uid, msg);
		return -1;
	}
	return 0;
}

/*
 * The raw of the row st is on (its blob at column col, its length at
 * col + 1) into *buf (grown as needed, *cap bytes), NUL-terminated. It must
 * come out exactly as long as recorded: anything else is a damaged row.
 */
int
store_unpack(struct sqlite_store *s, sqlite3_stmt *st, int col, const char *uid,
	     char **buf, size_t *cap, size_t *len, char *err, size_t errlen)
{
	const void *z = sqlite3_column_blob(st, col);
	size_t zlen = (size_t)sqlite3_column_bytes(st, col);
	sqlite3_int64 want = sqlite3_column_int64(st, col + 1);
	uLongf out;

	if (want <= 0 || (sqlite3_uint64)want > STORE_MAX_RAW) {
		ww_set_err(err, errlen,
			   "%s: measurement %.200s: damaged row (raw_len %lld)",
			   s->path, uid, (long long)want);
		return -1;
	}
	*buf = reserve(*buf, cap, (size_t)want + 1);
	out = (uLongf)want;
	if (z == NULL ||
	    uncompress((Bytef *)*buf, &out, z, (uLong)zlen) != Z_OK ||
	    out != (uLongf)want) {
		ww_set_err(err, errlen,
			   "%s: measurement %.200s: damaged raw "
			   "(it does not decompress to %lld bytes)",
			   s->path, uid, (long long)want);
		return -1;
	}
	(*buf)[want] = '\0';
	*len = (size_t)want;
	return 0;
}

/* --- storing ------------------------------------------------------------- */

/* Non-zero when a bind failed. */
static int
bind_derived(sqlite3_stmt *st, int first, const struct store_derived *d)
{
	int rc = SQLITE_OK;

	rc |= bind_text(st, first, d->blocking);
	rc |= d->accessible < 0
		      ? sqlite3_bind_null(st, first + 1)
		      : sqlite3_bind_int(st, first + 1, d->accessible);
	rc |= bind_text(st, first + 2, d->blocking_detail);
	rc |= sqlite3_bind_int(st, first + 3, d->confirmed ? 1 : 0);
	rc |= bind_text(st, first + 4, d->analysis_version);
	rc |= bind_text(st, first + 5, d->analysis_reason);
	rc |= bind_text(st, first + 6, d->evidence);
	rc |= bind_text(st, first + 7, d->evidence_detail);
	rc |= sqlite3_bind_int(st, first + 8, d->packets);
	return rc;
}

/* Non-zero when a bind failed. */
static int
bind_meas(sqlite3_stmt *st, const struct store_meas *m, const void *z,
	  size_t zlen)
{
	struct store_derived d = store_derived_of(m);
	int rc = SQLITE_OK;

	rc |= bind_text(st, 1, m->uid);
	rc |= sqlite3_bind_blob64(st, 2, z, (sqlite3_uint64)zlen,
				  SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 3, (sqlite3_int64)m->raw_len);
	rc |= bind_text(st, 4, m->input);
	rc |= bind_text(st, 5, m->test_name);
	rc |= bind_text(st, 6, m->category_code);
	rc |= bind_text(st, 7, m->probe_cc);
	rc |= bind_text(st, 8, m->probe_asn);
	rc |= bind_text(st, 9, m->observed_cc);
	rc |= bind_text(st, 10, m->observed_asn);
	rc |= sqlite3_bind_int(st, 11, m->geo_mismatch ? 1 : 0);
	rc |= sqlite3_bind_int64(st, 12, m->start_time);
	rc |= sqlite3_bind_int64(st, 13, m->received_time);
	rc |= bind_derived(st, INSERT_DERIVED, &d);
	rc |= bind_text(st, INSERT_DERIVED + N_DERIVED, m->submitter);
	rc |= bind_text(st, INSERT_DERIVED + N_DERIVED + 1, m->software_name);
	rc |= bind_text(st, INSERT_DERIVED + N_DERIVED + 2,
			m->software_version);
	rc |= bind_text(st, INSERT_DERIVED + N_DERIVED + 3, m->test_version);
	return rc;
}

/*
 * A uid already stored (insert_one inserted nothing): a duplicate when the
 * stored raw is m's raw byte for byte, else a conflict (a reused uid with
 * other content; issue 12). Duplicates are rare (retries), so reading the
 * stored raw back is cheap enough.
 */
static int
dup_or_conflict(struct sqlite_store *s, const struct store_meas *m,
		enum store_result *res, char *err, size_t errlen)
{
	char *raw = NULL;
	size_t len = 0;
	int rc = sqlite_get_raw(&s->base, m->uid, &raw, &len, err, errlen);

	if (rc < 0)
		return -1;
	*res = rc == 0 && len == m->raw_len && memcmp(raw, m->raw, len) == 0
		       ? STORE_DUPLICATE
		       : STORE_CONFLICT;
	free(raw);
	return 0;
}

/* Insert one measurement; a uid already there inserts nothing, which
 * sqlite3_changes() tells apart, within the batch too. */
static int
insert_one(struct sqlite_store *s, const struct store_meas *m,
	   enum store_result *res, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_INSERT];
	const void *z;
	size_t zlen;
	int ok;

	if (pack(s, m, &z, &zlen, err, errlen) != 0)
		return -1;
	ok = bind_meas(st, m, z, zlen) == SQLITE_OK &&
	     sqlite3_step(st) == SQLITE_DONE;
	if (!ok)
		ww_set_err(err, errlen, "%s: storing measurement %.200s: %s",
			   s->path, m->uid, sqlite3_errmsg(s->db));
	else
		*res = sqlite3_changes(s->db) > 0 ? STORE_NEW : STORE_DUPLICATE;
	sqlite3_reset(st);
	/* The bindings point into the caller's memory and the packer's. */
	sqlite3_clear_bindings(st);
	if (ok && *res == STORE_DUPLICATE &&
	    dup_or_conflict(s, m, res, err, errlen) != 0)
		return -1;
	return ok ? 0 : -1;
}

int
sqlite_put_batch(struct store *base, const struct store_meas *v, size_t n,
		 enum store_result *res, char *err, size_t errlen)
{
	struct sqlite_store *s = sq(base);
	struct tkeyset redo = {NULL, 0, 0, NULL, 0};

	if (store_check_batch(v, n, err, errlen) != 0)
		return -1;
	if (n == 0)
		return 0;
	if (run(s, ST_BEGIN, "starting a transaction", err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		enum store_result r;

		if (insert_one(s, &v[i], &r, err, errlen) != 0 ||
		    (r == STORE_NEW &&
		     store_tl_add(s, &v[i], sqlite3_last_insert_rowid(s->db),
				  &redo, err, errlen) != 0))
			goto fail;
		if (res != NULL)
			res[i] = r;
	}
	if (store_tl_redo(s, &redo, err, errlen) != 0 ||
	    run(s, ST_COMMIT, "committing", err, errlen) != 0)
		goto fail;
	tks_clear(&redo);
	return 0;
fail:
	rollback(s);
	tks_clear(&redo);
	return -1;
}

/* --- reading ------------------------------------------------------------- */

int
sqlite_get_raw(struct store *base, const char *uid, char **raw, size_t *len,
	       char *err, size_t errlen)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = s->st[ST_GET_RAW];
	size_t cap = 0;
	int rc, ret;

	*raw = NULL;
	*len = 0;
	if (uid == NULL) {
		ww_set_err(err, errlen, "no uid given");
		return -1;
	}
	/* One that long was never stored: no need to look it up. */
	if (strnlen(uid, STORE_MAX_FIELD + 1) > STORE_MAX_FIELD)
		return 1;
	rc = bind_text(st, 1, uid);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		ret = 1;
	else if (rc == SQLITE_ROW)
		ret = store_unpack(s, st, 0, uid, raw, &cap, len, err, errlen);
	else
		ret = db_fail(s, "reading a measurement", err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (ret != 0) {
		free(*raw);
		*raw = NULL;
		*len = 0;
	}
	return ret;
}

int64_t
sqlite_count(struct store *base)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = s->st[ST_COUNT];
	int64_t n = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

/* --- reanalysis (store_redo.c) ------------------------------------------ */

/* Read the next page; *seen says how many rows it had (0: the end). */
static int
redo_read_page(void *b, struct store_redo_pass *ps, size_t *seen, char *err,
	       size_t errlen)
{
	struct sqlite_store *s = b;
	sqlite3_stmt *st = s->st[ST_PAGE];
	int rc = SQLITE_OK;

	*seen = 0;
	if (sqlite3_bind_int64(st, 1, ps->last) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, STORE_REDO_PAGE) != SQLITE_OK)
		return db_fail(s, "reading measurements", err, errlen);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *uid = (const char *)sqlite3_column_text(st, 1);
		size_t len;

		(*seen)++;
		if (uid == NULL) {
			db_fail(s, "reading a measurement", err, errlen);
			break;
		}
		if (store_unpack(s, st, 2, uid, &s->rbuf, &s->rcap, &len, err,
				 errlen) != 0 ||
		    store_redo_row(ps, sqlite3_column_int64(st, 0), 0, uid,
				   s->rbuf, len, err, errlen) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_fail(s, "reading measurements", err, errlen);
	sqlite3_reset(st); /* ends the read transaction */
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Mark the target of measurement id for recomputation. */
static int
mark_stale(struct sqlite_store *s, sqlite3_int64 id, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_STALE_MARK];

	return step_done(s, st, sqlite3_bind_int64(st, 1, id),
			 "marking a target stale", err, errlen);
}

static int
redo_write_page(void *b, struct store_redo_pass *ps, char *err, size_t errlen)
{
	struct sqlite_store *s = b;
	sqlite3_stmt *st = s->st[ST_UPDATE];

	if (run(s, ST_BEGIN, "starting a transaction", err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < ps->n; i++) {
		const struct store_redo *k = &ps->page[i];
		struct store_derived d = store_redo_derived(k);
		bool ok = sqlite3_bind_int64(st, 1, k->id) == SQLITE_OK &&
			  bind_derived(st, UPDATE_DERIVED, &d) == SQLITE_OK &&
			  sqlite3_step(st) == SQLITE_DONE;

		if (ok)
			ps->updated += sqlite3_changes(s->db);
		else
			db_fail(s, "updating derived values", err, errlen);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (!ok || mark_stale(s, k->id, err, errlen) != 0) {
			rollback(s);
			return -1;
		}
	}
	if (run(s, ST_COMMIT, "committing", err, errlen) != 0) {
		rollback(s);
		return -1;
	}
	return 0;
}

static int
redo_rebuild_all(void *b, char *err, size_t errlen)
{
	return store_tl_rebuild_all(b, err, errlen);
}

long
sqlite_reanalyze(struct store *base, store_reanalyze_fn fn, void *arg,
		 char *err, size_t errlen)
{
	static const struct store_redo_ops ops = {
		redo_read_page, redo_write_page, redo_rebuild_all};

	return store_redo_run(sq(base), &ops, fn, arg, err, errlen);
}

/* --- for tests (store_sqlite_int.h) ------------------------------------- */

sqlite3 *
store_sqlite_db(struct store *s)
{
	return sq(s)->db;
}
