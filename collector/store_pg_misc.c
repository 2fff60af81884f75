/*
 * store_pg_misc.c - the PostgreSQL store's settings (the agreement,
 * docs/timelines.md section 9), its submitters table (docs/submitters.md)
 * and data_version: the same answers as store_agreement.c and
 * store_submitters.c give from SQLite.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"

/* --- settings ------------------------------------------------------------ */

int
store_pg_settings_load(struct store_pg *p, char *err, size_t errlen)
{
	struct store_agreement a = STORE_AGREEMENT_DEFAULT;
	PGresult *r =
		pg_query(p, "SELECT name, value FROM settings", NULL, false,
			 PGRES_TUPLES_OK, "reading the settings", err, errlen);
	char where[300];

	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		if (store_setting_read(&a, PQgetvalue(r, i, 0),
				       pg_int(r, i, 1)) != 0) {
			ww_set_err(err, errlen,
				   "%s: the stored setting %.40s is damaged",
				   p->name, PQgetvalue(r, i, 0));
			PQclear(r);
			return -1;
		}
	PQclear(r);
	snprintf(where, sizeof(where), "%.200s: the stored ", p->name);
	if (store_settings_check(&a, where, err, errlen) != 0)
		return -1;
	p->ag = a;
	return 0;
}

void
store_pg_agreement_get(struct store *s, struct store_agreement *a)
{
	struct store_pg *p = pg_of(s);
	char err[256];

	/* a replica's: the primary's collectors may have changed them (on
	 * failure, the last ones read) */
	if (p->read_only && PQtransactionStatus(p->conn) == PQTRANS_IDLE)
		(void)store_pg_settings_load(p, err, sizeof(err));
	*a = p->ag;
}

static int
setting_put(struct store_pg *p, const char *name, int v, char *err,
	    size_t errlen)
{
	struct pg_params pp = {0};
	PGresult *r;

	pp_text(&pp, name);
	pp_int(&pp, v);
	r = pg_query(p,
		     "INSERT INTO settings (name, value) VALUES ($1, $2)"
		     " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
		     &pp, false, PGRES_COMMAND_OK, "storing the settings", err,
		     errlen);
	PQclear(r);
	return r != NULL ? 0 : -1;
}

int
store_pg_agreement_set(struct store *s, const struct store_agreement *a,
		       char *err, size_t errlen)
{
	struct store_pg *p = pg_of(s);
	struct store_agreement n = *a;

	if (store_settings_check(a, "", err, errlen) != 0)
		return -1;
	/* field by field: the struct's padding (after the bool) is
	 * whatever the stack held when it was copied */
	if (n.min_submitters == p->ag.min_submitters &&
	    n.single_submitter_hours == p->ag.single_submitter_hours &&
	    n.daily_cap == p->ag.daily_cap &&
	    n.allow_geo_mismatch == p->ag.allow_geo_mismatch)
		return 0;
	if (store_pg_ready(p, err, errlen) != 0)
		return -1;
	if (pg_exec(p, "BEGIN", "starting a transaction", err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < store_settings_n(); i++)
		if (setting_put(p, store_setting_name(i),
				store_setting_value(&n, i), err, errlen) != 0)
			goto fail;
	/* every target stale in the same transaction: a crash before the
	 * recomputation leaves them for the next store_open() */
	if (setting_put(p, "allow_geo_mismatch", n.allow_geo_mismatch, err,
			errlen) != 0 ||
	    pg_exec(p,
		    "INSERT INTO stale_targets SELECT DISTINCT input,"
		    " probe_cc, probe_asn FROM measurements WHERE input IS"
		    " NOT NULL ON CONFLICT DO NOTHING",
		    "marking every target stale", err, errlen) != 0 ||
	    pg_exec(p, "COMMIT", "committing", err, errlen) != 0)
		goto fail;
	p->ag = n;
	return store_pg_tl_rebuild_stale(p, err, errlen) != 0 ? -1 : 1;
fail:
	pg_rollback(p);
	return -1;
}

/* --- submitters ---------------------------------------------------------- */

int
store_pg_submitter_add(struct store *s, const char *key_id,
		       const unsigned char public_key[32], int64_t now,
		       char *err, size_t errlen)
{
	struct store_pg *p = pg_of(s);
	struct pg_params pp = {0};
	PGresult *r;
	int added;

	if (store_pg_ready(p, err, errlen) != 0)
		return -1;
	pp_text(&pp, key_id);
	pp_bin(&pp, public_key, 32);
	pp_int(&pp, now);
	r = pg_query(p,
		     "INSERT INTO submitters (key_id, public_key, registered)"
		     " VALUES ($1, $2, $3) ON CONFLICT (key_id) DO NOTHING",
		     &pp, false, PGRES_COMMAND_OK, "adding a key", err, errlen);
	if (r == NULL)
		return -1;
	added = strcmp(PQcmdTuples(r), "1") == 0;
	PQclear(r);
	return added ? 1 : 0;
}

int
store_pg_submitters(struct store *s,
		    int (*cb)(const struct store_submitter *k, void *arg),
		    void *arg, char *err, size_t errlen)
{
	PGresult *r;

	if (store_pg_ready(pg_of(s), err, errlen) != 0)
		return -1;
	r = pg_query(pg_of(s),
		     "SELECT key_id, public_key, registered,"
		     " revoked, revoke_reason FROM submitters"
		     " ORDER BY key_id",
		     NULL, true, PGRES_TUPLES_OK, "reading the keys", err,
		     errlen);

	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		struct store_submitter k;

		/* a row that is not a key (edited by hand) is skipped */
		if (PQgetisnull(r, i, 1) || PQgetlength(r, i, 1) != 32)
			continue;
		k.key_id = PQgetvalue(r, i, 0);
		k.public_key = (const unsigned char *)PQgetvalue(r, i, 1);
		k.registered = pg_int(r, i, 2);
		k.revoked = PQgetisnull(r, i, 3) ? 0 : pg_int(r, i, 3);
		if (!PQgetisnull(r, i, 3) && k.revoked == 0)
			k.revoked = 1; /* revoked at the epoch: still revoked */
		k.revoke_reason = pg_text(r, i, 4);
		if (cb(&k, arg) != 0)
			break;
	}
	PQclear(r);
	return 0;
}

/* Run sql with pp; the rows it changed in *changed (may be NULL). */
static int
sub_run(struct store_pg *p, const char *sql, const struct pg_params *pp,
	int64_t *changed, char *err, size_t errlen)
{
	PGresult *r = pg_query(p, sql, pp, false, PGRES_COMMAND_OK,
			       "revoking a key", err, errlen);

	if (r == NULL)
		return -1;
	if (changed != NULL)
		*changed = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return 0;
}

int
store_pg_submitter_revoke(struct store *s, const char *key_id,
			  const char *reason, int64_t now, int64_t *n_rows,
			  char *err, size_t errlen)
{
	struct store_pg *p = pg_of(s);
	char *sub = xasprintf("key:%s", key_id);
	struct pg_params kp = {0}, sp = {0};
	int64_t changed = 0;
	int rc = -1;

	if (n_rows != NULL)
		*n_rows = 0;
	pp_text(&kp, key_id);
	pp_text(&kp, reason);
	pp_int(&kp, now);
	pp_text(&sp, sub);
	if (store_pg_ready(p, err, errlen) != 0)
		goto out;
	/* under the fold's lock: a fold that began before it is over (the
	 * rows it folded are flagged here), one after it sees the key
	 * revoked (its guard flags what it folds) */
	if (pg_exec(p, "BEGIN", "starting a transaction", err, errlen) != 0)
		goto out;
	if (store_pg_fold_lock(p, err, errlen) != 0)
		goto fail;
	if (sub_run(p,
		    "UPDATE submitters SET revoked = coalesce(revoked, $3),"
		    " revoke_reason = coalesce($2, revoke_reason)"
		    " WHERE key_id = $1",
		    &kp, &changed, err, errlen) != 0)
		goto fail;
	if (changed == 0) {
		rc = 1;
		ww_set_err(err, errlen, "no key %s in %s", key_id, p->name);
		goto fail;
	}
	if (sub_run(p,
		    "INSERT INTO stale_targets SELECT DISTINCT input,"
		    " probe_cc, probe_asn FROM measurements WHERE"
		    " submitter = $1 AND input IS NOT NULL"
		    " ON CONFLICT DO NOTHING",
		    &sp, NULL, err, errlen) != 0 ||
	    sub_run(p,
		    "UPDATE measurements SET revoked = 1"
		    " WHERE submitter = $1 AND revoked = 0",
		    &sp, &changed, err, errlen) != 0)
		goto fail;
	if (n_rows != NULL)
		*n_rows = changed;
	if (pg_exec(p, "COMMIT", "committing", err, errlen) != 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	pg_rollback(p);
out:
	free(sub);
	return rc;
}

/* The writer's guard: put_batch checks the rows it stores with a key's
 * submitter against the revoked keys (store_pg_guard_batch()), in the
 * batch's transaction, as SQLite's connection-local trigger does. */
int
store_pg_submitters_guard(struct store *s, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	pg_of(s)->guard = true;
	return 0;
}

int
store_pg_guard_batch(struct store_pg *p, const struct store_meas *v, size_t n,
		     const int64_t *ids, char *err, size_t errlen)
{
	struct pg_params pp = {0};
	char *a = xmalloc(n * 22 + 3), *t = xmalloc(n * 22 + 3);
	size_t la = 0, lt = 0, k = 0;
	PGresult *r = NULL;
	int ret = 0;

	/* the new rows of a key's: their ids and start times */
	a[la++] = '{';
	t[lt++] = '{';
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == 0 || v[i].submitter == NULL ||
		    strncmp(v[i].submitter, "key:", 4) != 0)
			continue;
		la += (size_t)sprintf(a + la, "%s%lld", k > 0 ? "," : "",
				      (long long)ids[i]);
		lt += (size_t)sprintf(t + lt, "%s%lld", k > 0 ? "," : "",
				      (long long)v[i].start_time);
		k++;
	}
	strcpy(a + la, "}");
	strcpy(t + lt, "}");
	if (k > 0) {
		pp_text(&pp, a);
		pp_text(&pp, t);
		r = pg_query(p,
			     "WITH f AS (UPDATE measurements m SET revoked = 1"
			     " FROM unnest($1::bigint[], $2::bigint[]) AS"
			     " u(id, st) WHERE m.id = u.id AND m.start_time ="
			     " u.st AND EXISTS (SELECT 1 FROM submitters s"
			     " WHERE s.key_id = substr(m.submitter, 5) AND"
			     " s.revoked IS NOT NULL) RETURNING m.input,"
			     " m.probe_cc, m.probe_asn) INSERT INTO"
			     " stale_targets SELECT DISTINCT * FROM f WHERE"
			     " input IS NOT NULL ON CONFLICT DO NOTHING",
			     &pp, false, PGRES_COMMAND_OK,
			     "checking revoked keys", err, errlen);
		ret = r != NULL ? 0 : -1;
		PQclear(r);
	}
	free(a);
	free(t);
	return ret;
}

int64_t
store_pg_data_version(struct store *s)
{
	char err[256];
	PGresult *r =
		pg_query(pg_of(s), "SELECT v FROM data_version WHERE id = 1",
			 NULL, false, PGRES_TUPLES_OK, "reading data_version",
			 err, sizeof(err));
	int64_t v = -1;

	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1)
		v = pg_int(r, 0, 0);
	PQclear(r);
	return v;
}
