/*
 * store_pg_alerts.c - the claims of alerts in PostgreSQL (docs/alerts.md,
 * "Several collectors"; SQLite: store_alerts.c): the insert of the key
 * that goes in is the collector that sends the alert; a second
 * collector's insert of the same key waits for the first to commit, then
 * does nothing.
 */
#include "store_pg_int.h"

int
store_pg_alert_claim(struct store *s, const char *key, const char *who,
		     int64_t now, char *err, size_t errlen)
{
	struct pg_params pp = {0};
	PGresult *r;
	int ret;

	pp_text(&pp, key);
	pp_int(&pp, now);
	pp_text(&pp, who);
	r = pg_query(pg_of(s),
		     "INSERT INTO alert_claims (key, claimed, collector)"
		     " VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
		     &pp, false, PGRES_COMMAND_OK, "claiming an alert", err,
		     errlen);
	if (r == NULL)
		return -1;
	ret = strcmp(PQcmdTuples(r), "1") == 0 ? 1 : 0;
	PQclear(r);
	return ret;
}
