/*
 * store_network.c - the reads of the network pages (store_network.h) for
 * both backends, built with store_read.h's query builder: the same SQL in
 * each backend's dialect, every value bound.
 *
 * What keeps them fast on a large database (docs/web-view.md, "Network
 * pages"): a country's networks read only the country's rows of
 * target_state (SQLite's target_state_cc, PostgreSQL's unique index, both
 * led by probe_cc), and so does the list of a matrix's inputs; its cells
 * are probes of an index led by input; the changes walk an index of events in
 * time order (events_time; for a country or a network events_cc_time and
 * events_net_time, schema migration 9 of SQLite, 3 of PostgreSQL) and stop
 * after a page. The source (store_filter.source) is store_read.c's: a
 * target is of a source when that source measured it, each row a probe
 * of measurements_target_time, an index led by (input, probe_cc,
 * probe_asn) in both backends; the changes still walk their index in
 * time order (docs/ooni-data.md, "Source").
 */
#include "store_network.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store_read.h"
#include "util.h"

/* --- a country's networks ------------------------------------------------- */

struct count_ctx {
	int (*cb)(const struct store_netcount *c, void *arg);
	void *arg;
};

static int
count_row(const struct store_read *rd, const struct store_cursor *r, void *ctx,
	  int *stop, char *err, size_t errlen)
{
	const struct count_ctx *x = ctx;
	struct store_netcount c;

	(void)rd;
	(void)err;
	(void)errlen;
	c.cc = r->text(r, 0);
	c.asn = r->text(r, 1);
	c.state = r->text(r, 2);
	c.method = r->text(r, 3);
	c.n = r->num(r, 4);
	c.since = r->num(r, 5);
	c.last_tested = r->num(r, 6);
	*stop = x->cb(&c, x->arg);
	return 0;
}

/* -1 with a message when f names no country (or cb is NULL). */
static int
need_cc(const struct store_filter *f, bool no_cb, char *err, size_t errlen)
{
	if (no_cb) {
		ww_set_err(err, errlen, "no callback given");
		return -1;
	}
	if (f == NULL || f->cc == NULL) {
		ww_set_err(err, errlen, "filter: cc is required");
		return -1;
	}
	return 0;
}

int
store_network_counts(struct store *s, const struct store_filter *fin,
		     int (*cb)(const struct store_netcount *c, void *arg),
		     void *arg, char *err, size_t errlen)
{
	struct count_ctx x = {cb, arg};
	struct store_filter f, key;
	struct store_read rd;
	struct store_qb q;

	if (need_cc(fin, cb == NULL, err, errlen) != 0 ||
	    store_qb_begin(s, fin, &rd, &f, &q, err, errlen) != 0)
		return -1;
	memset(&key, 0, sizeof(key));
	key.cc = f.cc;
	key.asn = f.asn;
	store_qb_add(&q, "SELECT t.probe_cc, t.probe_asn, t.state, t.method,"
			 " count(*), min(t.since), max(t.last_tested)"
			 " FROM target_state t WHERE true");
	store_qb_where_key(&q, "t", &key);
	if (f.category != NULL)
		store_qb_text(&q, " AND %s.category_code = ?", "t", f.category);
	store_qb_where_target_source(&q, "t", f.source);
	/* a network's rows together; their order within is the caller's */
	store_qb_add(&q, " GROUP BY t.probe_cc, t.probe_asn, t.state, t.method"
			 " ORDER BY t.probe_cc, t.probe_asn");
	return store_qb_run(&rd, &q, count_row, &x, err, errlen);
}

/* --- a country's matrix --------------------------------------------------- */

/* Inputs bound by one query of a page's cells (fewer than
 * STORE_QB_MAX_BINDS, with the country). */
#define MATRIX_CHUNK 24

/* The inputs of a page of the matrix, in order. */
struct inputs {
	char **v;
	size_t n, cap;
	int limit;
	int more;
};

static int
input_row(const struct store_read *rd, const struct store_cursor *r, void *ctx,
	  int *stop, char *err, size_t errlen)
{
	struct inputs *in = ctx;
	const char *s = r->text(r, 0);

	(void)rd;
	(void)err;
	(void)errlen;
	if (in->n == (size_t)in->limit) {
		in->more = 1; /* the one asked beyond the page */
		*stop = 1;
		return 0;
	}
	ww_grow((void **)&in->v, sizeof(*in->v), in->n, &in->cap);
	in->v[in->n++] = xstrdup(s != NULL ? s : "");
	return 0;
}

struct cell_ctx {
	const struct inputs *in;
	size_t i; /* the page's input at or after the row's */
	int (*cb)(const struct store_cell *c, void *arg);
	void *arg;
	int stopped; /* cb said stop: no further chunk */
};

/* Rows come by input, as the page's inputs do (a merge: a row of an
 * input not on the page, which the query does not give, is skipped). */
static int
cell_row(const struct store_read *rd, const struct store_cursor *r, void *ctx,
	 int *stop, char *err, size_t errlen)
{
	struct cell_ctx *x = ctx;
	struct store_cell c;

	(void)rd;
	(void)err;
	(void)errlen;
	c.input = r->text(r, 0);
	if (c.input == NULL)
		return 0;
	while (x->i < x->in->n && strcmp(x->in->v[x->i], c.input) < 0)
		x->i++;
	if (x->i == x->in->n) {
		*stop = 1;
		return 0;
	}
	if (strcmp(x->in->v[x->i], c.input) != 0)
		return 0;
	c.category_code = r->text(r, 1);
	c.asn = r->text(r, 2);
	c.state = r->text(r, 3);
	c.method = r->text(r, 4);
	c.since = r->num(r, 5);
	c.last_tested = r->num(r, 6);
	*stop = x->stopped = x->cb(&c, x->arg);
	return 0;
}

static void
inputs_free(struct inputs *in)
{
	for (size_t i = 0; i < in->n; i++)
		free(in->v[i]);
	free(in->v);
}

int
store_network_matrix(struct store *s, const struct store_filter *fin,
		     const char *after_input,
		     int (*cb)(const struct store_cell *c, void *arg),
		     void *arg, int *more, char *err, size_t errlen)
{
	struct inputs in = {NULL, 0, 0, 0, 0};
	struct cell_ctx x = {&in, 0, cb, arg, 0};
	struct store_filter f;
	struct store_read rd;
	struct store_qb q;
	int ret;

	*more = 0;
	if (need_cc(fin, cb == NULL, err, errlen) != 0 ||
	    store_qb_begin(s, fin, &rd, &f, &q, err, errlen) != 0)
		return -1;
	/* 1: the page's inputs, one more to know whether others follow */
	in.limit = f.limit;
	store_qb_add(&q, "SELECT DISTINCT t.input FROM target_state t WHERE");
	store_qb_text(&q, " t.probe_cc = ?", "", f.cc);
	store_qb_add(&q, " AND t.state IN ('blocked', 'disrupted')");
	if (f.category != NULL)
		store_qb_text(&q, " AND t.category_code = ?", "", f.category);
	if (after_input != NULL)
		store_qb_text(&q, " AND t.input > ?", "", after_input);
	store_qb_where_target_source(&q, "t", f.source);
	store_qb_int(&q, " ORDER BY t.input LIMIT ?", "", (int64_t)f.limit + 1);
	ret = store_qb_run(&rd, &q, input_row, &in, err, errlen);
	*more = in.more;
	if (ret != 0 || in.n == 0)
		goto done;
	/* 2: every network's cell of the page's inputs, a chunk of them at
	 * a time: each input one probe of an index led by input (SQLite's
	 * unique key, PostgreSQL's target_state_input) */
	for (size_t i = 0; ret == 0 && !x.stopped && i < in.n;
	     i += MATRIX_CHUNK) {
		if (store_qb_begin(s, fin, &rd, &f, &q, err, errlen) != 0) {
			ret = -1;
			break;
		}
		store_qb_add(&q, "SELECT t.input, t.category_code, t.probe_asn,"
				 " t.state, t.method, t.since, t.last_tested"
				 " FROM target_state t WHERE");
		store_qb_text(&q, " t.probe_cc = ?", "", f.cc);
		for (size_t k = i; k < in.n && k < i + MATRIX_CHUNK; k++)
			store_qb_text(&q, k == i ? " AND t.input IN (?" : ", ?",
				      "", in.v[k]);
		store_qb_add(&q, ")");
		/* the cells of the source's targets only: a network that
		 * only the other source measured is no column */
		store_qb_where_target_source(&q, "t", f.source);
		store_qb_add(&q, " ORDER BY t.input, t.probe_asn");
		ret = store_qb_run(&rd, &q, cell_row, &x, err, errlen);
	}
done:
	inputs_free(&in);
	return ret;
}

/* --- changes, newest first ------------------------------------------------ */

struct change_ctx {
	int (*cb)(const struct store_change *c, void *arg);
	void *arg;
};

static int
change_row(const struct store_read *rd, const struct store_cursor *r, void *ctx,
	   int *stop, char *err, size_t errlen)
{
	const struct change_ctx *x = ctx;
	struct store_change c;

	(void)rd;
	(void)err;
	(void)errlen;
	c.e.id = r->num(r, 0);
	c.e.time = r->num(r, 1);
	c.e.input = r->text(r, 2);
	c.e.cc = r->text(r, 3);
	c.e.asn = r->text(r, 4);
	c.e.from_state = r->text(r, 5);
	c.e.to_state = r->text(r, 6);
	c.e.method = r->text(r, 7);
	c.e.uids_json = r->text(r, 8);
	c.category_code = r->text(r, 9);
	*stop = x->cb(&c, x->arg);
	return 0;
}

int
store_changes(struct store *s, const struct store_filter *fin,
	      int64_t before_time, int64_t before_id,
	      int (*cb)(const struct store_change *c, void *arg), void *arg,
	      char *err, size_t errlen)
{
	struct change_ctx x = {cb, arg};
	struct store_filter f;
	struct store_read rd;
	struct store_qb q;

	if (cb == NULL) {
		ww_set_err(err, errlen, "no callback given");
		return -1;
	}
	if (store_qb_begin(s, fin, &rd, &f, &q, err, errlen) != 0)
		return -1;
	/* the target's row for its category: one probe of its unique key */
	store_qb_add(&q, "SELECT e.id, e.time, e.input, e.probe_cc,"
			 " e.probe_asn, e.from_state, e.to_state, e.method,"
			 " e.uids, t.category_code FROM events e"
			 " LEFT JOIN target_state t ON t.input = e.input"
			 " AND t.probe_cc = e.probe_cc"
			 " AND t.probe_asn = e.probe_asn WHERE true");
	store_qb_where_key(&q, "e", &f);
	if (f.category != NULL)
		store_qb_text(&q, " AND %s.category_code = ?", "t", f.category);
	if (f.state != NULL)
		store_qb_text(&q, " AND %s.to_state = ?", "e", f.state);
	store_qb_where_target_source(&q, "e", f.source);
	if (f.since != 0)
		store_qb_int(&q, " AND %s.time >= ?", "e", f.since);
	if (f.until != 0)
		store_qb_int(&q, " AND %s.time < ?", "e", f.until);
	if (before_id > 0) {
		/* a row value: both backends walk the index from there */
		store_qb_int(&q, " AND (%s.time, e.id) < (?", "e", before_time);
		store_qb_int(&q, ", ?)", "", before_id);
	}
	store_qb_int(&q, " ORDER BY e.time DESC, e.id DESC LIMIT ?", "",
		     f.limit);
	return store_qb_run(&rd, &q, change_row, &x, err, errlen);
}
