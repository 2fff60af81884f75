/*
 * store_timeline.c - the timelines of the SQLite store (docs/timelines.md):
 * loading and saving each target's state for the state machine of
 * timeline.c, its daily counts and events, and their recomputation. Runs
 * inside store_sqlite.c's transactions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_sqlite_int.h"
#include "target.h"
#include "timeline.h"
#include "util.h"

/* --- timelines: classes, states, events (docs/timelines.md) -------------- */

/*
 * Every measurement with an input belongs to a target, the key (input,
 * probe_cc, probe_asn). Its class comes from its verdict; daily_counts
 * counts the classes per target and UTC day; target_state holds the state
 * machine of each target (its last TL_WINDOW conclusive measurements in
 * `win`), and every change of state is a row of events.
 *
 * New measurements move their target's state forward inside the batch's
 * transaction. One older than the target's last conclusive measurement
 * (it arrived late) has the target recomputed from all its measurements
 * instead, before the batch commits. Reanalysis marks the targets of the
 * measurements it rewrites in stale_targets, in the same transactions, and
 * then recomputes every target: a crash in between leaves the marks, and
 * store_open() recomputes those.
 */

/* Targets recomputed per transaction by the recomputations of reanalysis
 * and of store_open(). */
#define REBUILD_CHUNK 64

/* --- timelines: the tables ----------------------------------------------- */

/* The lower-case host of input (NULL when it is not a valid target); the
 * last one is kept. */
static const char *
host_of(struct sqlite_store *s, const char *input)
{
	struct ww_target t;
	char e[160];

	if (input == NULL)
		return NULL;
	if (s->hc_input != NULL && strcmp(s->hc_input, input) == 0)
		return s->hc_host;
	free(s->hc_input);
	free(s->hc_host);
	s->hc_input = xstrdup(input);
	s->hc_host = NULL;
	if (ww_target_parse(input, &t, e, sizeof(e)) == 0) {
		s->hc_host = xstrdup(t.host);
		ww_target_clear(&t);
	}
	return s->hc_host;
}

/* Bind the key (1-3), start_time or the day's first second (4) and a
 * submitter (5, may be NULL) of one target's day. */
static int
bind_day(sqlite3_stmt *st, const struct store_meas *m, int64_t t,
	 const char *sub, size_t n)
{
	int rc = bind_key(st, m->input, m->probe_cc, m->probe_asn);

	rc |= sqlite3_bind_int64(st, 4, t);
	if (sub != NULL)
		rc |= sqlite3_bind_text(st, 5, sub, (int)n, SQLITE_STATIC);
	return rc;
}

/* Step st, which returns one integer in *v, then reset it. */
static int
step_int(struct sqlite_store *s, sqlite3_stmt *st, int bind_rc, int64_t *v,
	 const char *what, char *err, size_t errlen)
{
	int rc = bind_rc == SQLITE_OK ? sqlite3_step(st) : bind_rc;

	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	else
		db_fail(s, what, err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Count a new measurement as cls in its day: most days are there
 * already. */
static int
daily_add(struct sqlite_store *s, const struct store_meas *m, int cls,
	  char *err, size_t errlen)
{
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *st = s->st[i == 0 ? ST_DAILY_INC : ST_DAILY_ADD];
		int rc = bind_day(st, m, m->start_time, NULL, 0);

		rc |= sqlite3_bind_int(st, 5, cls);
		if (step_done(s, st, rc, "counting a measurement", err,
			      errlen) != 0)
			return -1;
		if (sqlite3_changes(s->db) > 0)
			return 0;
	}
	return 0;
}

/* The target's count of the day so far, in *total (0: none yet). */
static int
daily_total(struct sqlite_store *s, const struct store_meas *m, int64_t *total,
	    char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_DAILY_TOTAL];
	int rc = bind_day(st, m, m->start_time, NULL, 0);

	*total = 0;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*total = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		db_fail(s, "reading a day's count", err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/*
 * How many measurements of the target the submitter sub has sent that
 * day, this one included. submitter_days is kept only for the days whose
 * count passed the cap (below it, no submitter can be over it): the day
 * is counted from the rows when it passes (total == cap + 1), then one
 * is added per measurement.
 */
static int
sub_count(struct sqlite_store *s, const struct store_meas *m, const char *sub,
	  size_t n, int64_t total, int64_t *count, char *err, size_t errlen)
{
	int64_t day = m->start_time - ((m->start_time % DAY) + DAY) % DAY;
	sqlite3_stmt *st;

	if (total > (int64_t)s->ag.daily_cap + 1) {
		st = s->st[ST_SUBDAY_ADD];
		return step_int(s, st, bind_day(st, m, m->start_time, sub, n),
				count, "counting a submitter's day", err,
				errlen);
	}
	st = s->st[ST_SUBDAY_DEL_DAY];
	if (step_done(s, st, bind_day(st, m, day, NULL, 0),
		      "counting a submitter's day", err, errlen) != 0)
		return -1;
	st = s->st[ST_SUBDAY_DAY];
	if (step_done(s, st, bind_day(st, m, day, NULL, 0),
		      "counting a submitter's day", err, errlen) != 0)
		return -1;
	st = s->st[ST_SUBDAY_GET];
	return step_int(s, st, bind_day(st, m, m->start_time, sub, n), count,
			"counting a submitter's day", err, errlen);
}

/*
 * Count a new measurement in daily_counts: as its class, or
 * TL_COUNT_GEO_MISMATCH, or TL_COUNT_CAPPED once its submitter has sent
 * daily_cap measurements of the target that day (in arrival order, as
 * ST_DAILY_KEY ranks them by id). A day within the cap costs nothing more; past
 * it, the submitter's count is looked up, and a capped one is moved.
 */
static int
daily_count(struct sqlite_store *s, const struct store_meas *m, int cls,
	    char *err, size_t errlen)
{
	size_t n;
	const char *sub = tl_submitter_id(m->submitter, &n);
	int64_t total = 0, count = 0;
	sqlite3_stmt *st = s->st[ST_DAILY_CAP];
	int rc;

	if (tl_geo_excluded(&s->ag, m->geo_mismatch))
		cls = TL_COUNT_GEO_MISMATCH;
	if (sub == NULL || s->ag.daily_cap == 0)
		return daily_add(s, m, cls, err, errlen);
	if (daily_total(s, m, &total, err, errlen) != 0 ||
	    daily_add(s, m, cls, err, errlen) != 0)
		return -1;
	if (++total <= s->ag.daily_cap)
		return 0;
	if (sub_count(s, m, sub, n, total, &count, err, errlen) != 0)
		return -1;
	if (count <= s->ag.daily_cap)
		return 0;
	rc = bind_day(st, m, m->start_time, NULL, 0);
	rc |= sqlite3_bind_int(st, 5, cls);
	return step_done(s, st, rc, "capping a submitter's day", err, errlen);
}

/* Load a target's state into *t (tl_init'ed with its key): 0 found, 1 not
 * there, 2 damaged (to be recomputed), -1 error. */
static int
tl_load(struct sqlite_store *s, struct tl *t, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_STATE_GET];
	int rc = bind_key(st, t->input, t->cc, t->asn), ret;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = 1;
	} else if (rc == SQLITE_ROW) {
		const char *cat = (const char *)sqlite3_column_text(st, 8);

		t->since = sqlite3_column_int64(st, 2);
		t->last_tested = sqlite3_column_int64(st, 3);
		t->n_conclusive = sqlite3_column_int64(st, 4);
		t->last_time = sqlite3_column_int64(st, 5);
		t->last_id = sqlite3_column_int64(st, 6);
		t->row = sqlite3_column_int64(st, 10);
		t->fresh = sqlite3_column_int(st, 11);
		if (cat != NULL)
			tl_set_category(t, cat, sqlite3_column_int64(st, 9));
		/* damaged: recomputed by the caller, no error */
		ret = tl_restore(t, &s->ag,
				 (const char *)sqlite3_column_text(st, 0),
				 (const char *)sqlite3_column_text(st, 1),
				 (const char *)sqlite3_column_text(st, 7), NULL,
				 0) == 0
			      ? 0
			      : 2;
	} else {
		ret = db_fail(s, "reading a target's state", err, errlen);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

static int
tl_save(struct sqlite_store *s, const struct tl *t, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[t->row > 0 ? ST_STATE_UPD : ST_STATE_PUT];
	const char *host = NULL;
	char win[TL_TEXT_MAX], *rhost = NULL;
	int rc, ret;

	tl_encode(t, win, sizeof(win));
	if (t->row > 0) {
		rc = sqlite3_bind_int64(st, 1, t->row);
	} else {
		host = host_of(s, t->input);
		rhost = store_reversed(host);
		rc = bind_key(st, t->input, t->cc, t->asn);
		rc |= bind_text(st, 4, host);
		rc |= bind_text(st, 5, rhost);
	}
	rc |= bind_text(st, 6, t->category);
	rc |= t->category != NULL ? sqlite3_bind_int64(st, 7, t->category_time)
				  : sqlite3_bind_null(st, 7);
	rc |= bind_text(st, 8, tl_state_name(t->state));
	rc |= bind_text(st, 9, ww_class_name(t->method));
	rc |= sqlite3_bind_int64(st, 10, t->since);
	rc |= sqlite3_bind_int64(st, 11, t->last_tested);
	rc |= sqlite3_bind_int64(st, 12, t->n_conclusive);
	if (t->n_conclusive > 0) {
		rc |= sqlite3_bind_int64(st, 13, t->last_time);
		rc |= sqlite3_bind_int64(st, 14, t->last_id);
	} else {
		rc |= sqlite3_bind_null(st, 13);
		rc |= sqlite3_bind_null(st, 14);
	}
	rc |= bind_text(st, 15, win);
	rc |= sqlite3_bind_int(st, 16, t->fresh);
	ret = step_done(s, st, rc, "storing a target's state", err, errlen);
	free(rhost);
	return ret;
}

/* The uids of a change's measurements, oldest first, as a JSON array; the
 * caller frees it. NULL on error. */
static char *
cite_json(struct sqlite_store *s, const struct tl_change *ch, char *err,
	  size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_UID_OF];
	char *uids[TL_WINDOW] = {NULL}, *json = NULL;
	int n = 0;

	for (; n < ch->ncite; n++) {
		int rc = sqlite3_bind_int64(st, 1, ch->cite[n]);

		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			db_fail(s, "reading a measurement's uid", err, errlen);
			sqlite3_reset(st);
			goto out;
		}
		uids[n] = xstrdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
	}
	json = tl_uids_json((const char *const *)uids, n);
out:
	while (n > 0)
		free(uids[--n]);
	return json;
}

static int
tl_event_add(struct sqlite_store *s, const struct tl *t, int64_t time, int from,
	     int to, int method, const char *uids, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_EVENT_ADD];
	int rc = bind_key(st, t->input, t->cc, t->asn);

	rc |= sqlite3_bind_int64(st, 4, time);
	rc |= bind_text(st, 5, tl_state_name(from));
	rc |= bind_text(st, 6, tl_state_name(to));
	rc |= bind_text(st, 7, ww_class_name(method));
	rc |= bind_text(st, 8, uids);
	return step_done(s, st, rc, "recording an event", err, errlen);
}

/*
 * A new measurement (id) of a batch: count it, and move its target's state
 * forward; or, when it is older than the target's last conclusive one or
 * the state is damaged, leave the target to be recomputed (redo).
 */
int
store_tl_add(struct sqlite_store *s, const struct store_meas *m,
	     sqlite3_int64 id, struct tkeyset *redo, char *err, size_t errlen)
{
	struct tl t;
	struct tl_change ch;
	struct tl_meas tm;
	int c, rc;

	if (m->input == NULL)
		return 0;
	c = ww_classify(m->blocking, m->blocking_detail, m->accessible);
	if (daily_count(s, m, c, err, errlen) != 0)
		return -1;
	/* evidence the settings leave out is no evidence, as a failed one */
	if (tl_geo_excluded(&s->ag, m->geo_mismatch))
		c = WW_CLASS_FAILED;
	if (tks_has(redo, m->input, m->probe_cc, m->probe_asn))
		return 0;
	tl_init(&t, m->input, m->probe_cc, m->probe_asn);
	rc = tl_load(s, &t, err, errlen);
	if (rc < 0)
		goto out;
	tm = (struct tl_meas){c,
			      id,
			      tl_submitter_hash(m->submitter, id),
			      m->start_time,
			      m->received_time,
			      m->category_code};
	if (rc == 2 || (rc = tl_step(&t, &s->ag, &tm, &ch)) == TL_LATE) {
		tks_add(redo, m->input, m->probe_cc, m->probe_asn);
		rc = 0;
		goto out;
	}
	if (rc == TL_CHANGED) {
		char *uids = cite_json(s, &ch, err, errlen);

		rc = uids == NULL ? -1
				  : tl_event_add(s, &t, ch.time, ch.from, ch.to,
						 ch.method, uids, err, errlen);
		free(uids);
	}
	if (rc >= 0)
		rc = tl_save(s, &t, err, errlen);
out:
	tl_free(&t);
	return rc < 0 ? -1 : 0;
}

/* An event found by a recomputation. */
struct gen_event {
	int64_t time;
	int from, to, method;
	char *uids;
};

static bool
same_event(sqlite3_stmt *st, const struct gen_event *g)
{
	const char *from = (const char *)sqlite3_column_text(st, 2);
	const char *to = (const char *)sqlite3_column_text(st, 3);
	const char *method = (const char *)sqlite3_column_text(st, 4);
	const char *uids = (const char *)sqlite3_column_text(st, 5);

	return sqlite3_column_int64(st, 1) == g->time && from != NULL &&
	       strcmp(from, tl_state_name(g->from)) == 0 && to != NULL &&
	       strcmp(to, tl_state_name(g->to)) == 0 &&
	       tl_method_by_name(method) == g->method &&
	       (method == NULL) == (g->method < 0) && uids != NULL &&
	       strcmp(uids, g->uids) == 0;
}

/* Make the target's events g[0..n-1]: the stored ones that are the same,
 * in the same order, stay (ids too); the rest are replaced. */
static int
sync_events(struct sqlite_store *s, const struct tl *t,
	    const struct gen_event *g, size_t n, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_KEY_EVENTS];
	sqlite3_int64 cut = -1;
	size_t i = 0;
	int rc = bind_key(st, t->input, t->cc, t->asn);

	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (i < n && same_event(st, &g[i])) {
			i++;
			rc = SQLITE_OK;
			continue;
		}
		cut = sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
		break;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_OK)
		db_fail(s, "reading events", err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE && rc != SQLITE_OK)
		return -1;
	if (cut >= 0) {
		st = s->st[ST_EVENTS_CUT];
		rc = bind_key(st, t->input, t->cc, t->asn);
		rc |= sqlite3_bind_int64(st, 4, cut);
		if (step_done(s, st, rc, "replacing events", err, errlen) != 0)
			return -1;
	}
	for (; i < n; i++)
		if (tl_event_add(s, t, g[i].time, g[i].from, g[i].to,
				 g[i].method, g[i].uids, err, errlen) != 0)
			return -1;
	return 0;
}

/* Forget a target that has no measurements (none is ever deleted, but a
 * recomputation must not leave a state without them). */
static int
tl_drop(struct sqlite_store *s, const struct tl *t, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_EVENTS_CUT];
	int rc = bind_key(st, t->input, t->cc, t->asn);

	rc |= sqlite3_bind_int64(st, 4, 0);
	if (step_done(s, st, rc, "dropping events", err, errlen) != 0)
		return -1;
	st = s->st[ST_STATE_DEL];
	if (step_done(s, st, bind_key(st, t->input, t->cc, t->asn),
		      "dropping a state", err, errlen) != 0)
		return -1;
	st = s->st[ST_SUBDAY_DEL_KEY];
	if (step_done(s, st, bind_key(st, t->input, t->cc, t->asn),
		      "dropping counts", err, errlen) != 0)
		return -1;
	st = s->st[ST_DAILY_DEL_KEY];
	return step_done(s, st, bind_key(st, t->input, t->cc, t->asn),
			 "dropping counts", err, errlen);
}

/*
 * Recompute a target from all its measurements, in (start_time, id)
 * order: its state, its events (kept where unchanged) and, with daily, its
 * daily counts. Runs inside the caller's transaction.
 */
static int
tl_rebuild(struct sqlite_store *s, const char *input, const char *cc,
	   const char *asn, bool daily, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_KEY_ROWS];
	struct gen_event *g = NULL;
	size_t gn = 0, gcap = 0;
	struct tl t;
	struct tl_change ch;
	bool any = false;
	int rc, ret = -1;

	tl_init(&t, input, cc, asn);
	rc = bind_key(st, input, cc, asn);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(st, 0);
		struct tl_meas m = {
			ww_classify((const char *)sqlite3_column_text(st, 2),
				    (const char *)sqlite3_column_text(st, 5),
				    sqlite3_column_type(st, 3) == SQLITE_NULL
					    ? -1
					    : sqlite3_column_int(st, 3)),
			id,
			tl_submitter_hash(
				(const char *)sqlite3_column_text(st, 6), id),
			sqlite3_column_int64(st, 1),
			sqlite3_column_int64(st, 7),
			(const char *)sqlite3_column_text(st, 4)};

		rc = SQLITE_OK;
		/* a revoked submitter's rows are as if never sent */
		if (sqlite3_column_int(st, 9) != 0)
			continue;
		if (tl_geo_excluded(&s->ag, sqlite3_column_int(st, 8) != 0))
			m.cls = WW_CLASS_FAILED;
		any = true;
		/* in (start_time, id) order: never TL_LATE */
		if (tl_step(&t, &s->ag, &m, &ch) == TL_CHANGED) {
			struct gen_event *e;
			char *uids = cite_json(s, &ch, err, errlen);

			if (uids == NULL)
				goto out;
			e = WW_PUSH(g, gn, gcap);
			e->time = ch.time;
			e->from = ch.from;
			e->to = ch.to;
			e->method = ch.method;
			e->uids = uids;
		}
	}
	if (rc != SQLITE_DONE) {
		db_fail(s, "reading a target's measurements", err, errlen);
		goto out;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (!any) {
		ret = tl_drop(s, &t, err, errlen);
		goto out;
	}
	if (sync_events(s, &t, g, gn, err, errlen) != 0 ||
	    tl_save(s, &t, err, errlen) != 0)
		goto out;
	if (daily) {
		sqlite3_stmt *d = s->st[ST_DAILY_DEL_KEY];

		if (step_done(s, d, bind_key(d, input, cc, asn),
			      "recounting a target", err, errlen) != 0)
			goto out;
		d = s->st[ST_DAILY_KEY];
		rc = bind_key(d, input, cc, asn);
		rc |= sqlite3_bind_int(d, 4, s->ag.daily_cap);
		rc |= sqlite3_bind_int(d, 5, s->ag.allow_geo_mismatch);
		if (step_done(s, d, rc, "recounting a target", err, errlen) !=
		    0)
			goto out;
		d = s->st[ST_SUBDAY_DEL_KEY];
		if (step_done(s, d, bind_key(d, input, cc, asn),
			      "recounting a target's submitters", err,
			      errlen) != 0)
			goto out;
		d = s->st[ST_SUBDAY_KEY];
		if (step_done(s, d, bind_key(d, input, cc, asn),
			      "recounting a target's submitters", err,
			      errlen) != 0)
			goto out;
	}
	ret = 0;
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	for (size_t i = 0; i < gn; i++)
		free(g[i].uids);
	free(g);
	tl_free(&t);
	return ret;
}

/* Recompute the targets of a batch that arrived out of order. */
int
store_tl_redo(struct sqlite_store *s, const struct tkeyset *redo, char *err,
	      size_t errlen)
{
	for (size_t i = 0; i < redo->n; i++)
		if (tl_rebuild(s, redo->v[i].input, redo->v[i].cc,
			       redo->v[i].asn, false, err, errlen) != 0)
			return -1;
	return 0;
}

struct keybuf {
	char *k[REBUILD_CHUNK][3];
	int n;
};

static void
kb_clear(struct keybuf *kb)
{
	for (int i = 0; i < kb->n; i++)
		for (int j = 0; j < 3; j++)
			free(kb->k[i][j]);
	kb->n = 0;
}

/* Read up to REBUILD_CHUNK keys (columns 0-2) from st, then reset it. */
static int
kb_read(struct sqlite_store *s, sqlite3_stmt *st, int bind_rc,
	struct keybuf *kb, char *err, size_t errlen)
{
	int rc = bind_rc;

	kb->n = 0;
	while (rc == SQLITE_OK && kb->n < REBUILD_CHUNK &&
	       (rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int j = 0; j < 3; j++)
			kb->k[kb->n][j] = xstrdup(
				(const char *)sqlite3_column_text(st, j));
		kb->n++;
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK && rc != SQLITE_DONE)
		db_fail(s, "reading targets", err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_OK || rc == SQLITE_DONE ? 0 : -1;
}

/* Recompute the targets in kb (counts too) and clear their stale marks. */
static int
kb_rebuild(struct sqlite_store *s, const struct keybuf *kb, char *err,
	   size_t errlen)
{
	for (int i = 0; i < kb->n; i++) {
		sqlite3_stmt *st = s->st[ST_STALE_DEL];
		char *const *k = kb->k[i];

		if (k[0] == NULL || k[1] == NULL || k[2] == NULL) {
			ww_set_err(err, errlen, "%s: a target without a key",
				   s->path);
			return -1;
		}
		if (tl_rebuild(s, k[0], k[1], k[2], true, err, errlen) != 0 ||
		    step_done(s, st, bind_key(st, k[0], k[1], k[2]),
			      "clearing a stale mark", err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* Recompute the targets marked stale, a chunk per transaction. */
int
store_tl_rebuild_stale(struct sqlite_store *s, char *err, size_t errlen)
{
	struct keybuf *kb = xcalloc(1, sizeof(*kb));
	int ret = -1;

	for (;;) {
		sqlite3_stmt *st = s->st[ST_STALE_NEXT];

		if (run(s, ST_BEGIN, "starting a transaction", err, errlen) !=
		    0)
			break;
		if (kb_read(s, st, sqlite3_bind_int(st, 1, REBUILD_CHUNK), kb,
			    err, errlen) != 0 ||
		    kb_rebuild(s, kb, err, errlen) != 0 ||
		    run(s, ST_COMMIT, "committing", err, errlen) != 0) {
			rollback(s);
			break;
		}
		if (kb->n == 0) {
			ret = 0;
			break;
		}
		kb_clear(kb);
	}
	kb_clear(kb);
	free(kb);
	return ret;
}

/* Recompute every target, in key order, a chunk per transaction. */
int
store_tl_rebuild_all(struct sqlite_store *s, char *err, size_t errlen)
{
	struct keybuf *kb = xcalloc(1, sizeof(*kb));
	char *last[3] = {xstrdup(""), xstrdup(""), xstrdup("")};
	int ret = -1;

	for (;;) {
		sqlite3_stmt *st = s->st[ST_KEYS_NEXT];
		int rc = bind_key(st, last[0], last[1], last[2]);

		rc |= sqlite3_bind_int(st, 4, REBUILD_CHUNK);
		if (run(s, ST_BEGIN, "starting a transaction", err, errlen) !=
		    0)
			break;
		if (kb_read(s, st, rc, kb, err, errlen) != 0 ||
		    kb_rebuild(s, kb, err, errlen) != 0 ||
		    run(s, ST_COMMIT, "committing", err, errlen) != 0) {
			rollback(s);
			break;
		}
		if (kb->n == 0) {
			ret = 0;
			break;
		}
		for (int j = 0; j < 3; j++) {
			free(last[j]);
			last[j] = xstrdup(kb->k[kb->n - 1][j]);
		}
		kb_clear(kb);
	}
	kb_clear(kb);
	free(kb);
	for (int j = 0; j < 3; j++)
		free(last[j]);
	return ret;
}
