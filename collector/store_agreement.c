/*
 * store_agreement.c - the agreement settings of the SQLite store (table
 * settings, docs/timelines.md "Agreement"): read at open, checked, and
 * changed, which recomputes every timeline (store_timeline.c applies
 * them).
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_sqlite_int.h"
#include "util.h"

int
store_tl_settings_load(struct sqlite_store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_SETTINGS_GET];
	struct store_agreement a = STORE_AGREEMENT_DEFAULT;
	char where[300];
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (store_setting_read(&a,
				       (const char *)sqlite3_column_text(st, 0),
				       sqlite3_column_int64(st, 1)) != 0) {
			ww_set_err(err, errlen,
				   "%s: the stored setting %.40s is damaged",
				   s->path,
				   (const char *)sqlite3_column_text(st, 0));
			sqlite3_reset(st);
			return -1;
		}
	if (rc != SQLITE_DONE)
		db_fail(s, "reading the settings", err, errlen);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	snprintf(where, sizeof(where), "%.200s: the stored ", s->path);
	if (store_settings_check(&a, where, err, errlen) != 0)
		return -1;
	s->ag = a;
	return 0;
}

void
sqlite_agreement_get(struct store *base, struct store_agreement *a)
{
	struct sqlite_store *s = sq(base);
	char err[256];

	/* a read-only collector's: a collector writing the file may have
	 * changed them (on failure, the last ones read) */
	if (s->read_only)
		(void)store_tl_settings_load(s, err, sizeof(err));
	*a = s->ag;
}

static int
setting_put(struct sqlite_store *s, const char *name, int v, char *err,
	    size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_SETTINGS_PUT];
	int rc = bind_text(st, 1, name);

	rc |= sqlite3_bind_int(st, 2, v);
	return step_done(s, st, rc, "storing the settings", err, errlen);
}

int
sqlite_agreement_set(struct store *base, const struct store_agreement *a,
		     char *err, size_t errlen)
{
	struct sqlite_store *s = sq(base);
	struct store_agreement n = *a;

	if (store_settings_check(a, "", err, errlen) != 0)
		return -1;
	n.allow_geo_mismatch = a->allow_geo_mismatch;
	if (memcmp(&n, &s->ag, sizeof(n)) == 0)
		return 0;
	if (run(s, ST_BEGIN, "starting a transaction", err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < store_settings_n(); i++)
		if (setting_put(s, store_setting_name(i),
				store_setting_value(&n, i), err, errlen) != 0)
			goto fail;
	/* every target, stale in the same transaction: a crash before the
	 * recomputation below leaves them for the next store_open() */
	if (setting_put(s, "allow_geo_mismatch", n.allow_geo_mismatch, err,
			errlen) != 0 ||
	    run(s, ST_STALE_ALL, "marking every target stale", err, errlen) !=
		    0 ||
	    run(s, ST_COMMIT, "committing", err, errlen) != 0)
		goto fail;
	s->ag = n;
	return store_tl_rebuild_stale(s, err, errlen) != 0 ? -1 : 1;
fail:
	rollback(s);
	return -1;
}
