/*
 * store_alerts.c - the claims of alerts (docs/alerts.md, "Several
 * collectors") in SQLite (PostgreSQL: store_pg_alerts.c): a row of alert_claims
 * per alert sent, its key unique, so that of several collectors on one database
 * only the one whose insert went in sends it.
 */
#include <sqlite3.h>

#include "store_sqlite_int.h"

/* One statement in autocommit: the claim is its own transaction, never
 * part of a batch's (the ingest's writer is another connection anyway). */
int
sqlite_alert_claim(struct store *base, const char *key, const char *who,
		   int64_t now, char *err, size_t errlen)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO alert_claims (key, claimed,"
			       " collector) VALUES (?1, ?2, ?3)"
			       " ON CONFLICT (key) DO NOTHING",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, "claiming an alert", err, errlen);
	rc = bind_text(st, 1, key) | sqlite3_bind_int64(st, 2, now) |
	     bind_text(st, 3, who);
	rc = rc == SQLITE_OK ? sqlite3_step(st) : rc;
	if (rc != SQLITE_DONE) {
		db_fail(s, "claiming an alert", err, errlen);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return sqlite3_changes(s->db) == 1 ? 1 : 0;
}
