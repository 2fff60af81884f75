/*
 * store_submitters.c - the submitters table of the SQLite store (schema
 * version 4, store_sqlite.c); see store.h, "submitters". Statements are
 * prepared per call: registrations and revocations are rare, and the
 * registry reads the whole table only when the database changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_sqlite_int.h"
#include "util.h"

static int
sub_fail(struct sqlite_store *s, const char *what, char *err, size_t errlen)
{
	ww_set_err(err, errlen, "%s: %s: %s", s->path, what,
		   sqlite3_errmsg(s->db));
	return -1;
}

static int
sub_exec(struct sqlite_store *s, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sub_fail(s, sql, err, errlen);
	return 0;
}

int
sqlite_submitter_add(struct store *base, const char *key_id,
		     const unsigned char public_key[32], int64_t now, char *err,
		     size_t errlen)
{
	struct sqlite_store *s = sq(base);
	sqlite3 *db = s->db;
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "INSERT INTO submitters (key_id, public_key,"
			       " registered) VALUES (?1, ?2, ?3)"
			       " ON CONFLICT (key_id) DO NOTHING",
			       -1, &st, NULL) != SQLITE_OK)
		return sub_fail(s, "adding a key", err, errlen);
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, public_key, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sub_fail(s, "adding a key", err, errlen);
	return sqlite3_changes(db) > 0 ? 1 : 0;
}

int
sqlite_submitters(struct store *base,
		  int (*cb)(const struct store_submitter *k, void *arg),
		  void *arg, char *err, size_t errlen)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT key_id, public_key, registered,"
			       " revoked, revoke_reason FROM submitters"
			       " ORDER BY key_id",
			       -1, &st, NULL) != SQLITE_OK)
		return sub_fail(s, "reading the keys", err, errlen);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_submitter k;

		/* The schema checks the length; a row that is not a key id
		 * (edited by hand) is skipped rather than trusted. */
		k.key_id = (const char *)sqlite3_column_text(st, 0);
		k.public_key = sqlite3_column_blob(st, 1);
		if (k.key_id == NULL || k.public_key == NULL ||
		    sqlite3_column_bytes(st, 1) != 32)
			continue;
		k.registered = sqlite3_column_int64(st, 2);
		k.revoked = sqlite3_column_type(st, 3) == SQLITE_NULL
				    ? 0
				    : sqlite3_column_int64(st, 3);
		if (sqlite3_column_type(st, 3) != SQLITE_NULL && k.revoked == 0)
			k.revoked = 1; /* revoked at the epoch: still revoked */
		k.revoke_reason = (const char *)sqlite3_column_text(st, 4);
		if (cb(&k, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sub_fail(s, "reading the keys", err, errlen);
	return 0;
}

/* Run sql with ?1 bound to text a and ?2 to b (NULL: unbound) and ?3 to
 * n; 0, or -1. */
static int
sub_run(struct sqlite_store *s, const char *sql, const char *a, const char *b,
	int64_t n, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sub_fail(s, sql, err, errlen);
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b != NULL)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, n);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sub_fail(s, sql, err, errlen);
}

int
sqlite_submitter_revoke(struct store *base, const char *key_id,
			const char *reason, int64_t now, int64_t *n_rows,
			char *err, size_t errlen)
{
	struct sqlite_store *s = sq(base);
	sqlite3 *db = s->db;
	char *sub = xasprintf("key:%s", key_id);
	int rc = -1;

	if (n_rows != NULL)
		*n_rows = 0;
	if (sub_exec(s, "BEGIN IMMEDIATE", err, errlen) != 0)
		goto out;
	if (sub_run(s,
		    "UPDATE submitters SET revoked = coalesce(revoked, ?3),"
		    " revoke_reason = coalesce(?2, revoke_reason)"
		    " WHERE key_id = ?1",
		    key_id, reason, now, err, errlen) != 0)
		goto fail;
	if (sqlite3_changes(db) == 0) {
		rc = 1;
		ww_set_err(err, errlen, "no key %s in %s", key_id, s->path);
		goto fail;
	}
	/* Targets first: measurements_submitter finds the rows either way,
	 * and the flag below is what the timelines read. */
	if (sub_run(s,
		    "INSERT OR IGNORE INTO stale_targets SELECT DISTINCT"
		    " input, probe_cc, probe_asn FROM measurements"
		    " WHERE submitter = ?1 AND input IS NOT NULL",
		    sub, NULL, 0, err, errlen) != 0 ||
	    sub_run(s,
		    "UPDATE measurements SET revoked = 1"
		    " WHERE submitter = ?1 AND revoked = 0",
		    sub, NULL, 0, err, errlen) != 0)
		goto fail;
	if (n_rows != NULL)
		*n_rows = sqlite3_changes(db);
	if (sub_exec(s, "COMMIT", err, errlen) != 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
	free(sub);
	return rc;
}

int
sqlite_submitters_guard(struct store *base, char *err, size_t errlen)
{
	struct sqlite_store *s = sq(base);
	/* TEMP: it lives with this connection and is no part of the schema
	 * (no migration); only the ingest's writer stores measurements. */
	return sub_exec(s,
			"CREATE TEMP TRIGGER IF NOT EXISTS"
			" submitters_revoked_guard AFTER INSERT ON"
			" main.measurements WHEN NEW.submitter LIKE 'key:%'"
			" AND EXISTS (SELECT 1 FROM main.submitters WHERE"
			" key_id = substr(NEW.submitter, 5) AND revoked IS"
			" NOT NULL) BEGIN"
			" UPDATE measurements SET revoked = 1"
			" WHERE id = NEW.id;"
			" INSERT OR IGNORE INTO stale_targets SELECT"
			" input, probe_cc, probe_asn FROM main.measurements"
			" WHERE id = NEW.id AND input IS NOT NULL; END",
			err, errlen);
}

int64_t
sqlite_data_version(struct store *base)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}
