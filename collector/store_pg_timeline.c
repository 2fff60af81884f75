/*
 * store_pg_timeline.c - the timelines of the PostgreSQL store
 * (docs/timelines.md): what store_timeline.c does for SQLite, with the
 * same state machine (timeline.h) and the same tables. Runs inside the
 * transactions of store_pg.c.
 *
 * Several collectors: every change of a timeline happens under the
 * fold's transaction-scoped advisory lock (store_pg_fold.c): the folds,
 * which move the states by the batches' rows, and the recomputations,
 * a chunk of targets per transaction. A target's state is read, moved
 * and written by one transaction at a time, so the timelines are exactly
 * those one collector would have computed from the same measurements in
 * the order folded; what a recomputation reads is what the folds folded
 * (PG_NOT_QUEUED).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "target.h"
#include "timeline.h"
#include "tkeyset.h"

/* Targets recomputed per transaction by the recomputations. */
#define REBUILD_CHUNK 64

/* --- a target's state ------------------------------------------------------
 */

static const char *
host_of(struct store_pg *p, const char *input)
{
	struct ww_target t;
	char e[160];

	if (p->hc_input != NULL && strcmp(p->hc_input, input) == 0)
		return p->hc_host;
	free(p->hc_input);
	free(p->hc_host);
	p->hc_input = xstrdup(input);
	p->hc_host = NULL;
	if (ww_target_parse(input, &t, e, sizeof(e)) == 0) {
		p->hc_host = xstrdup(t.host);
		ww_target_clear(&t);
	}
	return p->hc_host;
}

/* A target's state from row i of r (PS_STATE_GET's columns) into *t
 * (tl_init'ed with its key): 0 found, 1 not there, 2 damaged (to be
 * recomputed). */
static int
tl_fill(struct store_pg *p, struct tl *t, const PGresult *r, int i)
{
	char msg[256];

	if (PQntuples(r) <= i)
		return 1;
	t->since = pg_int(r, i, 2);
	t->last_tested = pg_int(r, i, 3);
	t->n_conclusive = pg_int(r, i, 4);
	t->last_time = pg_int(r, i, 5);
	t->last_id = pg_int(r, i, 6);
	t->row = pg_int(r, i, 10);
	t->fresh = (int)pg_int(r, i, 11);
	t->seen = true;
	if (!PQgetisnull(r, i, 8))
		tl_set_category(t, PQgetvalue(r, i, 8), pg_int(r, i, 9));
	return tl_restore(t, &p->ag, pg_text(r, i, 0), pg_text(r, i, 1),
			  pg_text(r, i, 7), msg, sizeof(msg)) != 0
		       ? 2
		       : 0;
}

/* The text of a state to save (tl_save(), a pipeline's build): what pp
 * points into. */
struct save_buf {
	char win[TL_TEXT_MAX];
	char *rhost;
};

static void
state_params(struct store_pg *p, const struct tl *t, struct pg_params *pp,
	     struct save_buf *sb)
{
	const char *host = host_of(p, t->input);

	free(sb->rhost);
	sb->rhost = store_reversed(host);
	tl_encode(t, sb->win, sizeof(sb->win));
	memset(pp, 0, sizeof(*pp));
	pp_key(pp, t->input, t->cc, t->asn);
	pp_text(pp, host);
	pp_text(pp, sb->rhost);
	pp_text(pp, t->category);
	if (t->category != NULL)
		pp_int(pp, t->category_time);
	else
		pp_text(pp, NULL);
	pp_text(pp, tl_state_name(t->state));
	pp_text(pp, t->method >= 0 ? ww_class_name(t->method) : NULL);
	pp_int(pp, t->since);
	pp_int(pp, t->last_tested);
	pp_int(pp, t->n_conclusive);
	if (t->n_conclusive > 0) {
		pp_int(pp, t->last_time);
		pp_int(pp, t->last_id);
	} else {
		pp_text(pp, NULL);
		pp_text(pp, NULL);
	}
	pp_text(pp, sb->win);
	pp_int(pp, t->fresh);
	if (t->row > 0)
		pp_int(pp, t->row); /* $17 of PS_STATE_UPD */
}

/* The statement that saves t: a known target's row by its id. */
static enum pg_stmt_id
state_stmt(const struct tl *t)
{
	return t->row > 0 ? PS_STATE_UPD : PS_STATE_PUT;
}

static int
tl_save(struct store_pg *p, const struct tl *t, char *err, size_t errlen)
{
	struct pg_params pp;
	struct save_buf sb = {.rhost = NULL};
	int ret;

	state_params(p, t, &pp, &sb);
	ret = pg_do(p, state_stmt(t), &pp, "storing a target's state", err,
		    errlen);
	free(sb.rhost);
	return ret;
}

static int
event_add(struct store_pg *p, const struct tl *t, int64_t time, int from,
	  int to, int method, const char *uids, char *err, size_t errlen)
{
	struct pg_params pp = {0};

	pp_key(&pp, t->input, t->cc, t->asn);
	pp_int(&pp, time);
	pp_text(&pp, tl_state_name(from));
	pp_text(&pp, tl_state_name(to));
	pp_text(&pp, method >= 0 ? ww_class_name(method) : NULL);
	pp_text(&pp, uids);
	return pg_do(p, PS_EVENT_ADD, &pp, "recording an event", err, errlen);
}

/* --- recomputation ----------------------------------------------------------
 */

/* An event found (by a batch or a recomputation), to be recorded. */
struct gen_event {
	int64_t time;
	int from, to, method;
	int ncite;
	int64_t cite[TL_WINDOW]; /* the ids behind it */
	char *uids;		 /* their uids as JSON (events_uids()) */
	size_t k;		 /* a batch's: its target */
};

static void
gen_push(struct gen_event **g, size_t *gn, size_t *gcap,
	 const struct tl_change *ch, size_t k)
{
	struct gen_event *e = WW_PUSH(*g, *gn, *gcap);

	e->time = ch->time;
	e->from = ch->from;
	e->to = ch->to;
	e->method = ch->method;
	e->ncite = ch->ncite;
	memcpy(e->cite, ch->cite, sizeof(e->cite));
	e->uids = NULL;
	e->k = k;
}

struct id_uid {
	int64_t id;
	const char *uid;
};

static int
cmp_id_uid(const void *a, const void *b)
{
	int64_t x = ((const struct id_uid *)a)->id;
	int64_t y = ((const struct id_uid *)b)->id;

	return (x > y) - (x < y);
}

/* The uids of the measurements behind events g[0..n-1], as JSON arrays
 * (g[i].uids), read in one query. */
static int
events_uids(struct store_pg *p, struct gen_event *g, size_t n, char *err,
	    size_t errlen)
{
	struct pg_params pp = {0};
	struct id_uid *m = NULL;
	size_t nm = 0;
	char *arr, *w;
	PGresult *r;
	int ret = -1;

	if (n == 0)
		return 0;
	arr = xmalloc(n * TL_WINDOW * 22 + 3);
	w = arr;
	*w++ = '{';
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < g[i].ncite; c++)
			w += sprintf(w, "%s%lld", w - arr > 1 ? "," : "",
				     (long long)g[i].cite[c]);
	*w++ = '}';
	*w = '\0';
	pp_text(&pp, arr);
	r = pg_query(p,
		     "SELECT id, uid FROM measurement_uids WHERE id ="
		     " ANY($1::bigint[])",
		     &pp, false, PGRES_TUPLES_OK, "reading measurements' uids",
		     err, errlen);
	free(arr);
	if (r == NULL)
		return -1;
	nm = (size_t)PQntuples(r);
	m = xcalloc(nm + 1, sizeof(*m));
	for (size_t i = 0; i < nm; i++) {
		m[i].id = pg_int(r, (int)i, 0);
		m[i].uid = PQgetvalue(r, (int)i, 1);
	}
	qsort(m, nm, sizeof(*m), cmp_id_uid);
	for (size_t i = 0; i < n; i++) {
		const char *uids[TL_WINDOW] = {NULL};

		for (int c = 0; c < g[i].ncite; c++) {
			struct id_uid key = {g[i].cite[c], NULL}, *f;

			f = bsearch(&key, m, nm, sizeof(*m), cmp_id_uid);
			if (f == NULL) {
				ww_set_err(err, errlen,
					   "%s: no measurement of id %lld",
					   p->name, (long long)key.id);
				goto out;
			}
			uids[c] = f->uid;
		}
		g[i].uids = tl_uids_json(uids, g[i].ncite);
	}
	ret = 0;
out:
	free(m);
	PQclear(r);
	return ret;
}

static bool
same_event(const PGresult *r, int i, const struct gen_event *g)
{
	const char *method = pg_text(r, i, 4);

	return pg_int(r, i, 1) == g->time &&
	       strcmp(PQgetvalue(r, i, 2), tl_state_name(g->from)) == 0 &&
	       strcmp(PQgetvalue(r, i, 3), tl_state_name(g->to)) == 0 &&
	       tl_method_by_name(method) == g->method &&
	       (method == NULL) == (g->method < 0) &&
	       strcmp(PQgetvalue(r, i, 5), g->uids) == 0;
}

/* Make the target's events g[0..n-1]: the stored ones that are the same,
 * in the same order, stay (ids too); the rest are replaced. */
static int
sync_events(struct store_pg *p, const struct tl *t, const struct gen_event *g,
	    size_t n, char *err, size_t errlen)
{
	struct pg_params pp = {0};
	int64_t cut = -1;
	size_t i = 0;
	PGresult *r;

	pp_key(&pp, t->input, t->cc, t->asn);
	r = pg_run(p, PS_KEY_EVENTS, &pp, PGRES_TUPLES_OK, "reading events",
		   err, errlen);
	if (r == NULL)
		return -1;
	for (int k = 0; k < PQntuples(r); k++) {
		if (i < n && same_event(r, k, &g[i])) {
			i++;
			continue;
		}
		cut = pg_int(r, k, 0);
		break;
	}
	PQclear(r);
	if (cut >= 0) {
		pp_int(&pp, cut);
		if (pg_do(p, PS_EVENTS_CUT, &pp, "replacing events", err,
			  errlen) != 0)
			return -1;
	}
	for (; i < n; i++)
		if (event_add(p, t, g[i].time, g[i].from, g[i].to, g[i].method,
			      g[i].uids, err, errlen) != 0)
			return -1;
	return 0;
}

/* Forget a target that has no measurements left. */
static int
tl_drop(struct store_pg *p, const struct tl *t, char *err, size_t errlen)
{
	struct pg_params pp = {0};
	static const enum pg_stmt_id del[] = {PS_STATE_DEL, PS_SUBDAY_DEL_KEY,
					      PS_DAILY_DEL_KEY};

	pp_key(&pp, t->input, t->cc, t->asn);
	for (size_t i = 0; i < WW_ARRAY_LEN(del); i++)
		if (pg_do(p, del[i], &pp, "dropping a target", err, errlen) !=
		    0)
			return -1;
	pp_int(&pp, 0);
	return pg_do(p, PS_EVENTS_CUT, &pp, "dropping events", err, errlen);
}

/* The daily counts and submitter days of a target, counted again. */
static int
recount(struct store_pg *p, const struct tl *t, char *err, size_t errlen)
{
	struct pg_params pp = {0};

	pp_key(&pp, t->input, t->cc, t->asn);
	if (pg_do(p, PS_DAILY_DEL_KEY, &pp, "recounting a target", err,
		  errlen) != 0 ||
	    pg_do(p, PS_SUBDAY_DEL_KEY, &pp, "recounting a target", err,
		  errlen) != 0 ||
	    pg_do(p, PS_SUBDAY_KEY, &pp, "recounting a target", err, errlen) !=
		    0)
		return -1;
	pp_int(&pp, p->ag.daily_cap);
	pp_int(&pp, p->ag.allow_geo_mismatch ? 1 : 0);
	return pg_do(p, PS_DAILY_KEY, &pp, "recounting a target", err, errlen);
}

int
store_pg_tl_recount(struct store_pg *p, const char *input, const char *cc,
		    const char *asn, char *err, size_t errlen)
{
	struct tl t;
	int ret;

	tl_init(&t, input, cc, asn);
	ret = recount(p, &t, err, errlen);
	tl_free(&t);
	return ret;
}

/* Take the rows of r (PS_KEY_ROWS) through the state machine; the events
 * found in *g. */
static int
replay(struct store_pg *p, struct tl *t, const PGresult *r,
       struct gen_event **g, size_t *gn, char *err, size_t errlen)
{
	size_t gcap = 0;

	for (int i = 0; i < PQntuples(r); i++) {
		int64_t id = pg_int(r, i, 0);
		struct tl_meas m;
		struct tl_change ch;

		/* a revoked submitter's rows are as if never sent */
		if (pg_int(r, i, 9) != 0)
			continue;
		m.cls = ww_classify(
			pg_text(r, i, 2), pg_text(r, i, 5),
			PQgetisnull(r, i, 3) ? -1 : (int)pg_int(r, i, 3));
		if (tl_geo_excluded(&p->ag, pg_int(r, i, 8) != 0))
			m.cls = WW_CLASS_FAILED;
		m.id = id;
		m.sub = tl_submitter_hash(pg_text(r, i, 6), id);
		m.start_time = pg_int(r, i, 1);
		m.received_time = pg_int(r, i, 7);
		m.category = pg_text(r, i, 4);
		if (tl_step(t, &p->ag, &m, &ch) == TL_CHANGED)
			gen_push(g, gn, &gcap, &ch, 0);
	}
	return events_uids(p, *g, *gn, err, errlen);
}

/* Recompute a target from all its measurements, in (start_time, id)
 * order: its state, its events (kept where unchanged) and, with daily,
 * its daily counts. Runs inside the caller's transaction, which holds
 * the target's lock. */
static int
tl_rebuild(struct store_pg *p, const char *input, const char *cc,
	   const char *asn, bool daily, const char *skip, char *err,
	   size_t errlen)
{
	struct pg_params pp = {0};
	struct gen_event *g = NULL;
	size_t gn = 0;
	struct tl t;
	PGresult *r;
	int ret = -1;

	tl_init(&t, input, cc, asn);
	pp_key(&pp, input, cc, asn);
	pp_text(&pp, skip != NULL ? skip : "{}");
	r = pg_run(p, PS_KEY_ROWS, &pp, PGRES_TUPLES_OK,
		   "reading a target's measurements", err, errlen);
	pp.n = 3; /* the key alone, for the statements below */
	if (r == NULL)
		goto out;
	if (replay(p, &t, r, &g, &gn, err, errlen) != 0)
		goto out;
	if (!t.seen) {
		ret = tl_drop(p, &t, err, errlen);
		goto out;
	}
	/* saved by its id when it has one (no sequence number used) */
	PQclear(r);
	r = pg_run(p, PS_STATE_GET, &pp, PGRES_TUPLES_OK,
		   "reading a target's state", err, errlen);
	if (r == NULL)
		goto out;
	t.row = PQntuples(r) > 0 ? pg_int(r, 0, 10) : 0;
	if (sync_events(p, &t, g, gn, err, errlen) != 0 ||
	    tl_save(p, &t, err, errlen) != 0 ||
	    (daily && recount(p, &t, err, errlen) != 0))
		goto out;
	ret = 0;
out:
	PQclear(r);
	for (size_t i = 0; i < gn; i++)
		free(g[i].uids);
	free(g);
	tl_free(&t);
	return ret;
}

/* Recompute the targets of r (columns 0-2: keys), counts too, under
 * their locks, and clear their stale marks. */
static int
rebuild_keys(struct store_pg *p, const PGresult *r, char *err, size_t errlen)
{
	int n = PQntuples(r);
	int ret = 0;

	for (int i = 0; ret == 0 && i < n; i++) {
		struct pg_params pp = {0};

		pp_key(&pp, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		       PQgetvalue(r, i, 2));
		if (tl_rebuild(p, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
			       PQgetvalue(r, i, 2), true, NULL, err,
			       errlen) != 0 ||
		    pg_do(p, PS_STALE_DEL, &pp, "clearing a stale mark", err,
			  errlen) != 0)
			ret = -1;
	}
	return ret;
}

/* One chunk: the keys that stmt gives with pp, recomputed in one
 * transaction; *n how many (0: done); the last key in last[3] (owned). */
static int
rebuild_chunk(struct store_pg *p, enum pg_stmt_id stmt,
	      const struct pg_params *pp, int *n, char *last[3], char *err,
	      size_t errlen)
{
	PGresult *r;

	/* under the fold's lock: no fold moves these targets meanwhile,
	 * and what they read (PG_NOT_QUEUED) is what the folds folded */
	if (pg_exec(p, "BEGIN", "starting a transaction", err, errlen) != 0)
		return -1;
	if (store_pg_fold_lock(p, err, errlen) != 0) {
		pg_rollback(p);
		return -1;
	}
	r = pg_run(p, stmt, pp, PGRES_TUPLES_OK, "reading targets", err,
		   errlen);
	if (r == NULL || rebuild_keys(p, r, err, errlen) != 0 ||
	    pg_exec(p, "COMMIT", "committing", err, errlen) != 0) {
		PQclear(r);
		pg_rollback(p);
		return -1;
	}
	*n = PQntuples(r);
	for (int j = 0; *n > 0 && j < 3; j++) {
		free(last[j]);
		last[j] = xstrdup(PQgetvalue(r, *n - 1, j));
	}
	PQclear(r);
	return 0;
}

/* The recomputations fold what is queued first, so that they start from
 * what a collector storing and folding at once would have (the rows
 * queued meanwhile come after them, in their fold). */
int
store_pg_tl_rebuild_stale(struct store_pg *p, char *err, size_t errlen)
{
	char *last[3] = {NULL, NULL, NULL};
	int n = 1, ret = store_pg_fold(p, err, errlen);

	while (ret == 0 && n > 0) {
		struct pg_params pp = {0};

		pp_int(&pp, REBUILD_CHUNK);
		ret = rebuild_chunk(p, PS_STALE_NEXT, &pp, &n, last, err,
				    errlen);
	}
	for (int j = 0; j < 3; j++)
		free(last[j]);
	return ret;
}

int
store_pg_tl_rebuild_all(struct store_pg *p, char *err, size_t errlen)
{
	char *last[3] = {xstrdup(""), xstrdup(""), xstrdup("")};
	int n = 1, ret = store_pg_fold(p, err, errlen);

	while (ret == 0 && n > 0) {
		struct pg_params pp = {0};

		pp_key(&pp, last[0], last[1], last[2]);
		pp_int(&pp, REBUILD_CHUNK);
		ret = rebuild_chunk(p, PS_KEYS_NEXT, &pp, &n, last, err,
				    errlen);
	}
	for (int j = 0; j < 3; j++)
		free(last[j]);
	return ret;
}

/* --- a batch
 * ------------------------------------------------------------------ */

/* A target of a batch, its state held for the whole batch. */
struct tlc {
	struct tl t;
	int rc;	    /* tl_fill()'s: 0 loaded, 1 new, 2 damaged */
	bool redo;  /* to be recomputed from its rows instead */
	bool dirty; /* moved: to be saved */
};

struct tl_batch {
	struct store_pg *p;
	struct tkeyset *ks; /* the targets, in order of first arrival */
	struct tlc *c;	    /* one per key of ks */
	size_t *save;	    /* the ones to save */
	struct save_buf sb;
	struct gen_event *g; /* the events found, in order */
	size_t gn, gcap;
	size_t nredo; /* targets gone late since the last flush */
};

static int
load_build(void *ctx, size_t i, struct pg_call *calls, char *err, size_t errlen)
{
	struct tl_batch *b = ctx;
	const struct tkey *k = &b->ks->v[i];

	(void)err;
	(void)errlen;
	memset(&calls[0].pp, 0, sizeof(calls[0].pp));
	calls[0].id = PS_STATE_GET;
	pp_key(&calls[0].pp, k->input, k->cc, k->asn);
	return 1;
}

static int
load_take(void *ctx, size_t i, int k, const PGresult *r, char *err,
	  size_t errlen)
{
	struct tl_batch *b = ctx;

	(void)k;
	(void)err;
	(void)errlen;
	b->c[i].rc = tl_fill(b->p, &b->c[i].t, r, 0);
	return 0;
}

/* In bulk, every target's state by one statement: the keys as three
 * arrays, joined to target_state (its unique index, one probe each). A
 * statement per target, even pipelined, cost ~20 us of server time each
 * and a round trip per PIPE_CHUNK. A target not there keeps rc 1 (new),
 * as load_take() leaves it. */
static int
states_read(struct tl_batch *b, char *err, size_t errlen)
{
	struct pg_params pp = {0};
	struct pg_array keys[3];
	PGresult *r;
	int ret = -1;

	memset(keys, 0, sizeof(keys));
	for (int j = 0; j < 3; j++)
		pg_array_begin(&keys[j]);
	for (size_t i = 0; i < b->ks->n; i++) {
		const struct tkey *k = &b->ks->v[i];

		pg_array_add(&keys[0], k->input);
		pg_array_add(&keys[1], k->cc);
		pg_array_add(&keys[2], k->asn);
	}
	for (int j = 0; j < 3; j++)
		pp_text(&pp, pg_array_end(&keys[j]));
	r = pg_query(b->p,
		     "SELECT t.state, t.method, t.since, t.last_tested,"
		     " t.n_conclusive, t.last_time, t.last_id, t.win,"
		     " t.category_code, t.category_time, t.id, t.fresh,"
		     " k.ord - 1 FROM unnest($1::text[], $2::text[],"
		     " $3::text[]) WITH ORDINALITY AS k (input, cc, asn, ord)"
		     " JOIN target_state t ON t.input = k.input AND"
		     " t.probe_cc = k.cc AND t.probe_asn = k.asn",
		     &pp, false, PGRES_TUPLES_OK, "reading targets' states",
		     err, errlen);
	if (r == NULL)
		goto out;
	for (size_t i = 0; i < b->ks->n; i++)
		b->c[i].rc = 1;
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t k = pg_int(r, i, 12);

		if (k < 0 || (size_t)k >= b->ks->n) {
			ww_set_err(err, errlen,
				   "%s: reading targets' states: "
				   "a target the batch did not ask for",
				   b->p->name);
			goto out;
		}
		b->c[k].rc = tl_fill(b->p, &b->c[k].t, r, i);
	}
	ret = 0;
out:
	PQclear(r);
	for (int j = 0; j < 3; j++)
		pg_array_free(&keys[j]);
	return ret;
}

/* A small batch (not p->bulk): a statement per target, pipelined. */
static int
save_build(void *ctx, size_t i, struct pg_call *calls, char *err, size_t errlen)
{
	struct tl_batch *b = ctx;

	(void)err;
	(void)errlen;
	calls[0].id = state_stmt(&b->c[b->save[i]].t);
	state_params(b->p, &b->c[b->save[i]].t, &calls[0].pp, &b->sb);
	return 1;
}

/* The states of b->save[0..n), sent as arrays (one per column) to one
 * statement: an UPDATE of the known targets (by id: ids stay) and an
 * upsert of the new ones, made in order (their ids follow it). A
 * statement per target cost ~30 us each; staging them by COPY, two round
 * trips more and a temporary table's writes. */
#define STATE_COLS 17
static int
states_write(struct tl_batch *b, size_t n, char *err, size_t errlen)
{
	struct pg_array col[STATE_COLS];
	struct pg_params pp = {0};
	PGresult *r;
	int ret;

	memset(col, 0, sizeof(col));
	for (int k = 0; k < STATE_COLS; k++)
		pg_array_begin(&col[k]);
	for (size_t i = 0; i < n; i++) {
		const struct tl *t = &b->c[b->save[i]].t;
		const char *host = host_of(b->p, t->input);
		int k = 0;

		free(b->sb.rhost);
		b->sb.rhost = store_reversed(host);
		tl_encode(t, b->sb.win, sizeof(b->sb.win));
		if (t->row > 0)
			pg_array_int(&col[k++], t->row);
		else
			pg_array_add(&col[k++], NULL);
		pg_array_add(&col[k++], t->input);
		pg_array_add(&col[k++], t->cc);
		pg_array_add(&col[k++], t->asn);
		pg_array_add(&col[k++], host);
		pg_array_add(&col[k++], b->sb.rhost);
		pg_array_add(&col[k++], t->category);
		if (t->category != NULL)
			pg_array_int(&col[k++], t->category_time);
		else
			pg_array_add(&col[k++], NULL);
		pg_array_add(&col[k++], tl_state_name(t->state));
		pg_array_add(&col[k++],
			     t->method >= 0 ? ww_class_name(t->method) : NULL);
		pg_array_int(&col[k++], t->since);
		pg_array_int(&col[k++], t->last_tested);
		pg_array_int(&col[k++], t->n_conclusive);
		if (t->n_conclusive > 0) {
			pg_array_int(&col[k++], t->last_time);
			pg_array_int(&col[k++], t->last_id);
		} else {
			pg_array_add(&col[k++], NULL);
			pg_array_add(&col[k++], NULL);
		}
		pg_array_add(&col[k++], b->sb.win);
		pg_array_int(&col[k++], t->fresh);
	}
	for (int k = 0; k < STATE_COLS; k++)
		pp_text(&pp, pg_array_end(&col[k]));
	r = pg_query(
		b->p,
		"WITH s AS (SELECT * FROM unnest($1::bigint[], $2::text[],"
		" $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],"
		" $8::bigint[], $9::text[], $10::text[], $11::bigint[],"
		" $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[],"
		" $16::text[], $17::int[]) WITH ORDINALITY AS s (id, input, cc,"
		" asn, host, rhost, category_code, category_time, state,"
		" method, since, last_tested, n_conclusive, last_time, last_id,"
		" win, fresh, ord)),"
		" u AS (UPDATE target_state t SET host = s.host, rhost ="
		" s.rhost, category_code = s.category_code, category_time ="
		" s.category_time, state = s.state, method = s.method, since ="
		" s.since, last_tested = s.last_tested, n_conclusive ="
		" s.n_conclusive, last_time = s.last_time, last_id = s.last_id,"
		" win = s.win, fresh = s.fresh FROM s WHERE s.id IS NOT NULL"
		" AND t.id = s.id AND t.input = s.input AND t.probe_cc = s.cc"
		" AND t.probe_asn = s.asn)"
		" INSERT INTO target_state (input, probe_cc, probe_asn, host,"
		" rhost, category_code, category_time, state, method, since,"
		" last_tested, n_conclusive, last_time, last_id, win, fresh)"
		" SELECT input, cc, asn, host, rhost, category_code,"
		" category_time, state, method, since, last_tested, n_conclusive,"
		" last_time, last_id, win, fresh FROM s WHERE id IS NULL ORDER"
		" BY ord ON CONFLICT (input, probe_cc, probe_asn) DO UPDATE SET"
		" category_code = excluded.category_code,"
		" category_time = excluded.category_time,"
		" state = excluded.state, method = excluded.method,"
		" since = excluded.since, last_tested = excluded.last_tested,"
		" n_conclusive = excluded.n_conclusive,"
		" last_time = excluded.last_time, last_id = excluded.last_id,"
		" win = excluded.win, fresh = excluded.fresh",
		&pp, false, PGRES_COMMAND_OK, "storing targets' states", err,
		errlen);
	ret = r != NULL ? 0 : -1;
	PQclear(r);
	for (int k = 0; k < STATE_COLS; k++)
		pg_array_free(&col[k]);
	return ret;
}

static int
event_build(void *ctx, size_t i, struct pg_call *calls, char *err,
	    size_t errlen)
{
	struct tl_batch *b = ctx;
	const struct gen_event *e = &b->g[i];
	const struct tl *t = &b->c[e->k].t;
	struct pg_params *pp = &calls[0].pp;

	(void)err;
	(void)errlen;
	memset(pp, 0, sizeof(*pp));
	calls[0].id = PS_EVENT_ADD;
	pp_key(pp, t->input, t->cc, t->asn);
	pp_int(pp, e->time);
	pp_text(pp, tl_state_name(e->from));
	pp_text(pp, tl_state_name(e->to));
	pp_text(pp, e->method >= 0 ? ww_class_name(e->method) : NULL);
	pp_text(pp, e->uids);
	return 1;
}

/* Move target c's state by measurement m (stored as id); an event is
 * kept, to be recorded in the order found. */
static int
batch_step(struct tl_batch *b, struct tlc *c, const struct store_meas *m,
	   int64_t id, char *err, size_t errlen)
{
	struct store_pg *p = b->p;
	struct tl_change ch;
	struct tl_meas tm;
	int rc;

	(void)err;
	(void)errlen;
	tm.cls = ww_classify(m->blocking, m->blocking_detail, m->accessible);
	/* evidence the settings leave out is no evidence, as a failed one */
	if (tl_geo_excluded(&p->ag, m->geo_mismatch))
		tm.cls = WW_CLASS_FAILED;
	tm.id = id;
	tm.sub = tl_submitter_hash(m->submitter, id);
	tm.start_time = m->start_time;
	tm.received_time = m->received_time;
	tm.category = m->category_code;
	if (c->rc == 2 || (rc = tl_step(&c->t, &p->ag, &tm, &ch)) == TL_LATE) {
		c->redo = true;
		return 0;
	}
	c->dirty = true;
	if (rc == TL_CHANGED)
		gen_push(&b->g, &b->gn, &b->gcap, &ch, (size_t)(c - b->c));
	return 0;
}

/* A target recomputed at a flush: its state read again (later rows of
 * the fold move it from there). */
static int
reload_one(struct tl_batch *b, size_t k, char *err, size_t errlen)
{
	struct tlc *c = &b->c[k];
	struct pg_params pp = {0};
	PGresult *r;

	tl_free(&c->t);
	tl_init(&c->t, b->ks->v[k].input, b->ks->v[k].cc, b->ks->v[k].asn);
	pp_key(&pp, b->ks->v[k].input, b->ks->v[k].cc, b->ks->v[k].asn);
	r = pg_run(b->p, PS_STATE_GET, &pp, PGRES_TUPLES_OK,
		   "reading a target's state", err, errlen);
	if (r == NULL)
		return -1;
	c->rc = tl_fill(b->p, &c->t, r, 0);
	PQclear(r);
	c->redo = false;
	c->dirty = false;
	return 0;
}

/* The ids of target k's rows in v[from..n): a fold's rows it has not
 * reached, which a recomputation at a flush must leave for later (as the
 * batches they came in were not stored yet when a batch was its own
 * transaction), as an array literal; NULL: none. */
static char *
later_ids(struct tl_batch *b, size_t k, const struct store_meas *v, size_t n,
	  const int64_t *ids, size_t from)
{
	const struct tkey *key = &b->ks->v[k];
	struct pg_array a = {0};
	char *out;
	bool any = false;

	pg_array_begin(&a);
	for (size_t i = from; i < n; i++)
		if (ids[i] != 0 && v[i].input != NULL &&
		    strcmp(v[i].input, key->input) == 0 &&
		    strcmp(v[i].probe_cc, key->cc) == 0 &&
		    strcmp(v[i].probe_asn, key->asn) == 0) {
			pg_array_int(&a, ids[i]);
			any = true;
		}
	out = any ? xstrdup(pg_array_end(&a)) : NULL;
	pg_array_free(&a);
	return out;
}

/*
 * What a batch's transaction did at its end, for the rows stepped since
 * the last flush: the events found, in that order (their ids follow it),
 * the states moved, and the targets that took a measurement older than
 * their last conclusive one (or whose state was damaged) recomputed from
 * their rows. A new target that went late is saved first too (as SQLite
 * makes a target at its first measurement: target ids follow first
 * arrival). Not the last (from < n): the fold goes on, so the states
 * stay in memory, the new targets learn their ids, and the recomputed
 * ones are read again.
 */
static int
flush(struct tl_batch *b, const struct store_meas *v, size_t n,
      const int64_t *ids, size_t from, char *err, size_t errlen)
{
	static const struct pg_pipe_ops save_ops = {save_build, NULL, NULL};
	static const struct pg_pipe_ops event_ops = {event_build, NULL, NULL};
	struct store_pg *p = b->p;
	size_t nsave = 0;

	if (events_uids(p, b->g, b->gn, err, errlen) != 0 ||
	    pg_pipeline(p, b->gn, &event_ops, b, "recording events", err,
			errlen) != 0)
		return -1;
	for (size_t i = 0; i < b->gn; i++)
		free(b->g[i].uids);
	b->gn = 0;
	for (size_t k = 0; k < b->ks->n; k++)
		if (b->c[k].dirty && (!b->c[k].redo || b->c[k].t.row == 0))
			b->save[nsave++] = k;
	if (p->bulk ? nsave > 0 && states_write(b, nsave, err, errlen) != 0
		    : pg_pipeline(p, nsave, &save_ops, b,
				  "storing targets' states", err, errlen) != 0)
		return -1;
	for (size_t k = 0; k < b->ks->n; k++) {
		char *skip;
		int rc;

		if (!b->c[k].redo)
			continue;
		skip = from < n ? later_ids(b, k, v, n, ids, from) : NULL;
		rc = tl_rebuild(p, b->ks->v[k].input, b->ks->v[k].cc,
				b->ks->v[k].asn, false, skip, err, errlen);
		free(skip);
		if (rc != 0)
			return -1;
	}
	if (from == n)
		return 0;
	/* going on: the new targets' ids, the recomputed targets' states */
	for (size_t j = 0; j < nsave; j++)
		if (b->c[b->save[j]].t.row == 0 && !b->c[b->save[j]].redo &&
		    reload_one(b, b->save[j], err, errlen) != 0)
			return -1;
	for (size_t k = 0; k < b->ks->n; k++) {
		if (b->c[k].redo && reload_one(b, k, err, errlen) != 0)
			return -1;
		b->c[k].dirty = false;
	}
	b->nredo = 0;
	return 0;
}

/*
 * The rows in order; seg[i] (NULL: all one) the batch v[i] came in. A
 * batch's end is a flush when a target went late in it (the recomputation
 * comes there, as it did at that batch's end), and at the end of all:
 * batches in between are stepped as one, which gives what one transaction
 * per batch gave (the events in the order found, the new targets in the
 * order of first arrival) with fewer statements.
 */
static int
batch_run(struct tl_batch *b, const struct store_meas *v, size_t n,
	  const int64_t *ids, const int64_t *seg, char *err, size_t errlen)
{
	static const struct pg_pipe_ops load_ops = {load_build, load_take,
						    NULL};
	struct store_pg *p = b->p;

	if (p->bulk ? states_read(b, err, errlen) != 0
		    : pg_pipeline(p, b->ks->n, &load_ops, b,
				  "reading targets' states", err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct tlc *c;

		if (ids[i] != 0 && v[i].input != NULL) {
			c = &b->c[tks_index(b->ks, v[i].input, v[i].probe_cc,
					    v[i].probe_asn)];
			if (!c->redo) {
				if (batch_step(b, c, &v[i], ids[i], err,
					       errlen) != 0)
					return -1;
				if (c->redo)
					b->nredo++;
			}
		}
		/* the end of a batch in which a target went late */
		if (b->nredo > 0 && i + 1 < n && seg != NULL &&
		    seg[i + 1] != seg[i] &&
		    flush(b, v, n, ids, i + 1, err, errlen) != 0)
			return -1;
	}
	return flush(b, v, n, ids, n, err, errlen);
}

int
store_pg_tl_batch(struct store_pg *p, const struct store_meas *v, size_t n,
		  const int64_t *ids, const int64_t *seg, char *err,
		  size_t errlen)
{
	struct tl_batch b = {p,		 xcalloc(1, sizeof(struct tkeyset)),
			     NULL,	 NULL,
			     {"", NULL}, NULL,
			     0,		 0,
			     0};
	int ret;

	for (size_t i = 0; i < n; i++)
		if (ids[i] != 0 && v[i].input != NULL)
			tks_add(b.ks, v[i].input, v[i].probe_cc,
				v[i].probe_asn);
	b.c = xcalloc(b.ks->n + 1, sizeof(*b.c));
	b.save = xcalloc(b.ks->n + 1, sizeof(*b.save));
	for (size_t k = 0; k < b.ks->n; k++)
		tl_init(&b.c[k].t, b.ks->v[k].input, b.ks->v[k].cc,
			b.ks->v[k].asn);
	ret = batch_run(&b, v, n, ids, seg, err, errlen);
	for (size_t k = 0; k < b.ks->n; k++)
		tl_free(&b.c[k].t);
	for (size_t i = 0; i < b.gn; i++)
		free(b.g[i].uids);
	free(b.g);
	free(b.c);
	free(b.save);
	free(b.sb.rhost);
	tks_clear(b.ks);
	free(b.ks);
	return ret;
}
