/*
 * store_pg_daily.c - the daily counts of a batch in PostgreSQL
 * (docs/timelines.md, sections 2 and 9): daily_counts and, past the daily
 * cap, submitter_days, with the answers of store_timeline.c.
 *
 * A batch's counts are added up in memory per (target, day) and written
 * once each at the end. Writing them one measurement at a time, as SQLite
 * does, updates the same row again and again in one transaction, and each
 * update of PostgreSQL walks all the row's earlier versions: a flood of
 * 10,000 measurements of one target took 16 s, quadratic.
 *
 * The cap needs, for each measurement, the day's total just after it and
 * its submitter's count of the day: the total is the stored one plus the
 * batch's so far; the submitters' counts are read when the day passes the
 * cap (counting the rows up to that measurement: the batch's later rows
 * are already stored and must not count yet) or when a submitter is first
 * met on a day already past it. A small batch reads each day's stored
 * total first; in bulk the counts are written first and only the days the
 * write took past the cap are counted again and corrected (adds_write()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "timeline.h"

#define N_COUNTS (TL_COUNT_CAPPED + 1) /* the classes and the two apart */

struct dsub {
	char *sub;
	int64_t n;
};

/* One (target, day) of the batch. */
struct dacc {
	const char *input, *cc, *asn; /* into the batch */
	char day[32];
	int64_t t0;    /* the day's first second */
	int64_t total; /* the day's count so far, the batch's included */
	int64_t add[N_COUNTS];
	bool recounted;		/* its submitters counted from its rows: they
				 * replace what was stored */
	bool over;		/* in bulk: past the cap once written (counted
				 * again, one by one, and corrected) */
	int64_t sent[N_COUNTS]; /* in bulk: the adds written first */
	struct dsub *subs;
	size_t nsub, capsub;
};

struct daily {
	struct store_pg *p;
	const struct store_meas *v;
	const int64_t *ids;
	struct dacc *a;
	size_t n, cap;
	size_t *slot, nslot; /* 0 empty, else index + 1 */
	size_t *of;	     /* per measurement: its acc + 1, 0 none */
	/* the flush's submitter rows: (acc, sub) pairs */
	size_t (*pairs)[2];
	size_t npairs;
};

static uint64_t
acc_hash(const struct store_meas *m, const char *day)
{
	const char *parts[4] = {m->input, m->probe_cc, m->probe_asn, day};
	uint64_t h = 14695981039346656037ULL;

	for (int i = 0; i < 4; i++) {
		for (const unsigned char *c = (const unsigned char *)parts[i];
		     *c; c++)
			h = (h ^ *c) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	return h;
}

static size_t *
acc_slot(struct daily *d, const struct store_meas *m, const char *day)
{
	size_t i = (size_t)acc_hash(m, day) & (d->nslot - 1);

	for (;; i = (i + 1) & (d->nslot - 1)) {
		const struct dacc *a;

		if (d->slot[i] == 0)
			return &d->slot[i];
		a = &d->a[d->slot[i] - 1];
		if (strcmp(a->day, day) == 0 &&
		    strcmp(a->input, m->input) == 0 &&
		    strcmp(a->cc, m->probe_cc) == 0 &&
		    strcmp(a->asn, m->probe_asn) == 0)
			return &d->slot[i];
	}
}

/* The accs of the batch's new measurements with a target. */
static void
daily_index(struct daily *d, size_t n)
{
	d->nslot = 64;
	while (d->nslot < 2 * n + 2)
		d->nslot *= 2;
	d->slot = xcalloc(d->nslot, sizeof(*d->slot));
	d->of = xcalloc(n + 1, sizeof(*d->of));
	for (size_t i = 0; i < n; i++) {
		const struct store_meas *m = &d->v[i];
		char day[32];
		size_t *s;

		if (d->ids[i] == 0 || m->input == NULL)
			continue;
		pg_day_of(m->start_time, day);
		s = acc_slot(d, m, day);
		if (*s == 0) {
			struct dacc *a = WW_PUSH(d->a, d->n, d->cap);

			memset(a, 0, sizeof(*a));
			a->input = m->input;
			a->cc = m->probe_cc;
			a->asn = m->probe_asn;
			snprintf(a->day, sizeof(a->day), "%s", day);
			a->t0 = m->start_time -
				((m->start_time % 86400) + 86400) % 86400;
			*s = d->n;
		}
		d->of[i] = *s;
	}
}

static void
pp_acc(struct pg_params *pp, const struct dacc *a)
{
	memset(pp, 0, sizeof(*pp));
	pp_key(pp, a->input, a->cc, a->asn);
	pp_text(pp, a->day);
}

/* --- the stored totals -----------------------------------------------------
 */

/* A small batch (not p->bulk): each day's stored total first, a statement
 * per (target, day), pipelined. */
static int
total_build(void *ctx, size_t i, struct pg_call *calls, char *err,
	    size_t errlen)
{
	struct daily *d = ctx;

	(void)err;
	(void)errlen;
	calls[0].id = PS_DAY_GET;
	pp_acc(&calls[0].pp, &d->a[i]);
	return 1;
}

static int
total_take(void *ctx, size_t i, int k, const PGresult *r, char *err,
	   size_t errlen)
{
	struct daily *d = ctx;

	(void)k;
	(void)err;
	(void)errlen;
	d->a[i].total = PQntuples(r) > 0 ? pg_int(r, 0, 0) : 0;
	return 0;
}

/* --- submitters
 * ---------------------------------------------------------------- */

static struct dsub *
sub_find(struct dacc *a, const char *sub, size_t len)
{
	for (size_t i = 0; i < a->nsub; i++)
		if (strlen(a->subs[i].sub) == len &&
		    memcmp(a->subs[i].sub, sub, len) == 0)
			return &a->subs[i];
	return NULL;
}

static struct dsub *
sub_add(struct dacc *a, const char *sub, size_t len, int64_t n)
{
	struct dsub *s = WW_PUSH(a->subs, a->nsub, a->capsub);

	s->sub = xmalloc(len + 1);
	memcpy(s->sub, sub, len);
	s->sub[len] = '\0';
	s->n = n;
	return s;
}

/* The day passes the cap at measurement id: its submitters counted from
 * its rows up to it. */
static int
recount_day(struct daily *d, struct dacc *a, int64_t id, char *err,
	    size_t errlen)
{
	struct pg_params pp;
	PGresult *r;

	memset(&pp, 0, sizeof(pp));
	pp_key(&pp, a->input, a->cc, a->asn);
	pp_int(&pp, a->t0);
	pp_int(&pp, id);
	r = pg_run(d->p, PS_SUBDAY_ROWS, &pp, PGRES_TUPLES_OK,
		   "counting a submitter's day", err, errlen);
	if (r == NULL)
		return -1;
	for (size_t i = 0; i < a->nsub; i++)
		free(a->subs[i].sub);
	a->nsub = 0;
	for (int i = 0; i < PQntuples(r); i++)
		sub_add(a, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0),
			pg_int(r, i, 1));
	PQclear(r);
	a->recounted = true;
	return 0;
}

/* A submitter met on a day already past the cap: its stored count. */
static struct dsub *
sub_load(struct daily *d, struct dacc *a, const char *sub, size_t len,
	 char *err, size_t errlen)
{
	struct dsub *s = sub_add(a, sub, len, 0);
	struct pg_params pp;
	PGresult *r;

	if (a->recounted)
		return s; /* what was stored is replaced */
	pp_acc(&pp, a);
	pp_text(&pp, s->sub);
	r = pg_run(d->p, PS_SUBDAY_ONE, &pp, PGRES_TUPLES_OK,
		   "counting a submitter's day", err, errlen);
	if (r == NULL)
		return NULL;
	s->n = PQntuples(r) > 0 ? pg_int(r, 0, 0) : 0;
	PQclear(r);
	return s;
}

/* --- counting
 * -------------------------------------------------------------------- */

/* The column a measurement counts in, before the cap. */
static int
class_of(const struct store_pg *p, const struct store_meas *m)
{
	if (tl_geo_excluded(&p->ag, m->geo_mismatch))
		return TL_COUNT_GEO_MISMATCH;
	return ww_classify(m->blocking, m->blocking_detail, m->accessible);
}

/* Count measurement i as store_timeline.c's daily_count() does. */
static int
count_one(struct daily *d, size_t i, char *err, size_t errlen)
{
	const struct store_meas *m = &d->v[i];
	struct dacc *a = &d->a[d->of[i] - 1];
	int cap = d->p->ag.daily_cap, cls = class_of(d->p, m);
	const char *id;
	struct dsub *s;
	size_t len;

	a->add[cls]++;
	a->total++;
	id = tl_submitter_id(m->submitter, &len);
	if (id == NULL || cap == 0 || a->total <= cap)
		return 0;
	if (a->total == (int64_t)cap + 1) {
		if (recount_day(d, a, d->ids[i], err, errlen) != 0)
			return -1;
		s = sub_find(a, id, len);
	} else {
		s = sub_find(a, id, len);
		if (s == NULL &&
		    (s = sub_load(d, a, id, len, err, errlen)) == NULL)
			return -1;
		s->n++;
	}
	if (s != NULL && s->n > cap) {
		a->add[cls]--;
		a->add[TL_COUNT_CAPPED]++;
	}
	return 0;
}

/* --- writing
 * ------------------------------------------------------------------------ */

static int
add_build(void *ctx, size_t i, struct pg_call *calls, char *err, size_t errlen)
{
	struct daily *d = ctx;
	const struct dacc *a = &d->a[i];
	int k = 0;

	(void)err;
	(void)errlen;
	calls[k].id = PS_DAY_ADD;
	pp_acc(&calls[k].pp, a);
	for (int c = 0; c < N_COUNTS; c++)
		pp_int(&calls[k].pp, a->add[c]);
	k++;
	if (a->recounted) {
		calls[k].id = PS_SUBDAY_DEL_DAY;
		pp_acc(&calls[k++].pp, a);
	}
	return k;
}

/* In bulk, the batch's counts are written before the stored totals are
 * known, each measurement in its class: one upsert whose rows come as
 * arrays, one per column (each (target, day) once: no row is updated
 * twice). Its answer is the (target, day)s whose total it took past the
 * cap: only there can a measurement be capped (the cap looks at the total
 * just after each measurement, and the last one's is the total written),
 * so only those are counted again one by one (daily_bulk()). Reading
 * every total first cost a COPY and a join of ~20 us per (target, day),
 * for days nearly always below the cap; staging the rows by COPY, two
 * round trips more and a temporary table's writes. */
/* The rows ($1-$4 the keys, $5-$17 the counts in N_COLS's order), and
 * their upsert; with a cap ($18), the days it took past it. */
#define ADDS_ROWS                                                                                 \
	"WITH s AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[],"                     \
	" $4::date[], $5::int[], $6::int[], $7::int[], $8::int[], $9::int[],"                     \
	" $10::int[], $11::int[], $12::int[], $13::int[], $14::int[],"                            \
	" $15::int[], $16::int[], $17::int[]) WITH ORDINALITY AS s (input, cc, asn, day, " N_COLS \
	", ord))"
#define ADDS_UPSERT                                                                \
	" INSERT INTO daily_counts AS d (input, probe_cc, probe_asn, day, " N_COLS \
	") SELECT input, cc, asn, day, " N_COLS " FROM s ORDER BY"                 \
	" input COLLATE \"C\", cc COLLATE \"C\", asn COLLATE \"C\", day"           \
	" ON CONFLICT (input, probe_cc, probe_asn, day) DO UPDATE SET " N_ADD
_Static_assert(N_COUNTS == 13, "ADDS_ROWS sends 13 counts");

static int
adds_write(struct daily *d, char *err, size_t errlen)
{
	static const char plain[] = ADDS_ROWS ADDS_UPSERT;
	static const char capped[] = ADDS_ROWS
		", w AS (" ADDS_UPSERT
		" RETURNING d.input, d.probe_cc, d.probe_asn, d.day, " N_SUM
		" AS total) SELECT s.ord - 1, w.total FROM w JOIN s ON s.input ="
		" w.input AND s.cc = w.probe_cc AND s.asn = w.probe_asn AND"
		" s.day = w.day WHERE w.total > $18::int";
	struct pg_array col[4 + N_COUNTS];
	struct pg_params pp = {0};
	PGresult *r = NULL;
	int ret = -1;

	memset(col, 0, sizeof(col));
	for (int k = 0; k < 4 + N_COUNTS; k++)
		pg_array_begin(&col[k]);
	for (size_t i = 0; i < d->n; i++) {
		pg_array_add(&col[0], d->a[i].input);
		pg_array_add(&col[1], d->a[i].cc);
		pg_array_add(&col[2], d->a[i].asn);
		pg_array_add(&col[3], d->a[i].day);
		for (int k = 0; k < N_COUNTS; k++)
			pg_array_int(&col[4 + k], d->a[i].add[k]);
	}
	for (int k = 0; k < 4 + N_COUNTS; k++)
		pp_text(&pp, pg_array_end(&col[k]));
	if (d->p->ag.daily_cap != 0) /* $18 */
		pp_int(&pp, d->p->ag.daily_cap);
	r = pg_query(d->p, d->p->ag.daily_cap == 0 ? plain : capped, &pp, false,
		     d->p->ag.daily_cap == 0 ? PGRES_COMMAND_OK
					     : PGRES_TUPLES_OK,
		     "counting measurements", err, errlen);
	if (r == NULL)
		goto out;
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t k = pg_int(r, i, 0);
		struct dacc *a;

		if (k < 0 || (size_t)k >= d->n) {
			ww_set_err(err, errlen,
				   "%s: counting measurements: "
				   "a day the batch did not send",
				   d->p->name);
			goto out;
		}
		/* counted again from the stored total: what it was before */
		a = &d->a[k];
		a->over = true;
		memcpy(a->sent, a->add, sizeof(a->sent));
		memset(a->add, 0, sizeof(a->add));
		a->total = pg_int(r, i, 1) - a->total;
	}
	ret = 0;
out:
	PQclear(r);
	for (int k = 0; k < 4 + N_COUNTS; k++)
		pg_array_free(&col[k]);
	return ret;
}

static int
set_build(void *ctx, size_t i, struct pg_call *calls, char *err, size_t errlen)
{
	struct daily *d = ctx;
	const struct dacc *a = &d->a[d->pairs[i][0]];
	const struct dsub *s = &a->subs[d->pairs[i][1]];

	(void)err;
	(void)errlen;
	calls[0].id = PS_SUBDAY_SET;
	pp_acc(&calls[0].pp, a);
	pp_text(&calls[0].pp, s->sub);
	pp_int(&calls[0].pp, s->n);
	return 1;
}

/* The submitters' counts of the days past the cap. */
static int
subs_write(struct daily *d, char *err, size_t errlen)
{
	static const struct pg_pipe_ops set_ops = {set_build, NULL, NULL};
	size_t np = 0;

	for (size_t i = 0; i < d->n; i++)
		np += d->a[i].nsub;
	free(d->pairs);
	d->pairs = xcalloc(np + 1, sizeof(*d->pairs));
	d->npairs = 0;
	for (size_t i = 0; i < d->n; i++)
		for (size_t j = 0; j < d->a[i].nsub; j++) {
			d->pairs[d->npairs][0] = i;
			d->pairs[d->npairs++][1] = j;
		}
	return pg_pipeline(d->p, d->npairs, &set_ops, d,
			   "counting a submitter's day", err, errlen);
}

static int
daily_write(struct daily *d, char *err, size_t errlen)
{
	static const struct pg_pipe_ops add_ops = {add_build, NULL, NULL};

	if (pg_pipeline(d->p, d->n, &add_ops, d, "counting measurements", err,
			errlen) != 0)
		return -1;
	return subs_write(d, err, errlen);
}

/* In bulk, a (target, day) that adds_write() found past the cap: its
 * correction (what counting one by one gives, less what was written), and
 * for a day recounted its submitters' rows emptied first. */
static int
fix_build(void *ctx, size_t i, struct pg_call *calls, char *err, size_t errlen)
{
	struct daily *d = ctx;
	const struct dacc *a = &d->a[d->pairs[i][0]];
	int k = 0;

	(void)err;
	(void)errlen;
	calls[k].id = PS_DAY_ADD;
	pp_acc(&calls[k].pp, a);
	for (int c = 0; c < N_COUNTS; c++)
		pp_int(&calls[k].pp, a->add[c] - a->sent[c]);
	k++;
	if (a->recounted) {
		calls[k].id = PS_SUBDAY_DEL_DAY;
		pp_acc(&calls[k++].pp, a);
	}
	return k;
}

/* A batch in bulk: every count written in its class (adds_write()), then
 * the days past the cap counted again, in the batch's order, and
 * corrected; their submitters' counts written. */
static int
daily_bulk(struct daily *d, size_t n, char *err, size_t errlen)
{
	static const struct pg_pipe_ops fix_ops = {fix_build, NULL, NULL};
	size_t nfix = 0;

	for (size_t i = 0; i < n; i++)
		if (d->of[i] != 0) {
			struct dacc *a = &d->a[d->of[i] - 1];

			a->add[class_of(d->p, &d->v[i])]++;
			a->total++;
		}
	if (adds_write(d, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (d->of[i] != 0 && d->a[d->of[i] - 1].over &&
		    count_one(d, i, err, errlen) != 0)
			return -1;
	d->pairs = xcalloc(d->n + 1, sizeof(*d->pairs));
	for (size_t i = 0; i < d->n; i++) {
		const struct dacc *a = &d->a[i];

		if (a->over && (a->recounted ||
				memcmp(a->add, a->sent, sizeof(a->add)) != 0))
			d->pairs[nfix++][0] = i;
	}
	if (pg_pipeline(d->p, nfix, &fix_ops, d, "counting measurements", err,
			errlen) != 0)
		return -1;
	return subs_write(d, err, errlen);
}

/*
 * Past the cap, which measurements are capped depends on their order: a
 * recomputation caps by id (PS_DAILY_KEY), and counting as above gives
 * the same when the rows come in id order. One collector's do; two
 * collectors' may not: a batch that drew lower ids can commit, and be
 * folded, after one that drew higher ids. A (target, day) past the cap
 * that already counts a row of a higher id than one of this fold's has
 * its target counted again from its rows, in id order.
 */
static int
cap_order(struct daily *d, size_t n, char *err, size_t errlen)
{
	bool *done = xcalloc(d->n + 1, sizeof(*done));
	int ret = 0;

	for (size_t k = 0; ret == 0 && k < d->n; k++) {
		const struct dacc *a = &d->a[k];
		struct pg_params pp = {0};
		struct pg_array ids = {0};
		int64_t lo = INT64_MAX;
		PGresult *r;
		bool later;

		if (done[k] ||
		    !(d->p->bulk ? a->over : a->total > d->p->ag.daily_cap))
			continue;
		pg_array_begin(&ids);
		for (size_t i = 0; i < n; i++)
			if (d->of[i] == k + 1) {
				pg_array_int(&ids, d->ids[i]);
				lo = d->ids[i] < lo ? d->ids[i] : lo;
			}
		pp_key(&pp, a->input, a->cc, a->asn);
		pp_int(&pp, a->t0);
		pp_int(&pp, lo);
		pp_text(&pp, pg_array_end(&ids));
		r = pg_query(d->p,
			     "SELECT EXISTS (SELECT 1 FROM measurements WHERE"
			     " input = $1 AND probe_cc = $2 AND probe_asn = $3"
			     " AND start_time >= $4::bigint AND start_time <"
			     " $4::bigint + 86400 AND id > $5::bigint AND"
			     " id <> ALL ($6::bigint[])" PG_NOT_QUEUED ")",
			     &pp, false, PGRES_TUPLES_OK,
			     "counting measurements", err, errlen);
		pg_array_free(&ids);
		if (r == NULL) {
			ret = -1;
			break;
		}
		later = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
		PQclear(r);
		if (!later)
			continue;
		ret = store_pg_tl_recount(d->p, a->input, a->cc, a->asn, err,
					  errlen);
		/* the target's other days are counted again with it */
		for (size_t j = k; j < d->n; j++)
			if (strcmp(d->a[j].input, a->input) == 0 &&
			    strcmp(d->a[j].cc, a->cc) == 0 &&
			    strcmp(d->a[j].asn, a->asn) == 0)
				done[j] = true;
	}
	free(done);
	return ret;
}

int
store_pg_daily_batch(struct store_pg *p, const struct store_meas *v, size_t n,
		     const int64_t *ids, char *err, size_t errlen)
{
	static const struct pg_pipe_ops total_ops = {total_build, total_take,
						     NULL};
	struct daily d;
	int ret = -1;

	memset(&d, 0, sizeof(d));
	d.p = p;
	d.v = v;
	d.ids = ids;
	daily_index(&d, n);
	if (d.n == 0) {
		ret = 0;
		goto out;
	}
	if (p->bulk) {
		ret = daily_bulk(&d, n, err, errlen);
		goto cap;
	}
	if (pg_pipeline(p, d.n, &total_ops, &d, "reading daily counts", err,
			errlen) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (d.of[i] != 0 && count_one(&d, i, err, errlen) != 0)
			goto out;
	ret = daily_write(&d, err, errlen);
cap:
	if (ret == 0 && p->ag.daily_cap != 0)
		ret = cap_order(&d, n, err, errlen);
out:
	for (size_t i = 0; i < d.n; i++) {
		for (size_t j = 0; j < d.a[i].nsub; j++)
			free(d.a[i].subs[j].sub);
		free(d.a[i].subs);
	}
	free(d.a);
	free(d.slot);
	free(d.of);
	free(d.pairs);
	return ret;
}
