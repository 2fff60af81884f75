/*
 * api_network.c - the read API of the network pages (issue 16;
 * docs/web-view.md, "Network pages"), over store_network.h:
 *
 *   GET /api/v1/networks          ?cc (required) ?asn ?category ?source:
 *                                 per network of the country, its targets
 *                                 counted by state, the blocked ones by
 *                                 method, the earliest onset of those
 *                                 blocked, its AS name
 *   GET /api/v1/networks/matrix   ?cc (required) ?category ?source ?limit
 *                                 ?cursor: the targets blocked or
 *                                 disrupted on any network of the
 *                                 country, each with its state on every
 *                                 network (a page of inputs, by input)
 *   GET /api/v1/changes           the filters of /api/v1/events (source
 *                                 included), ?limit ?cursor: changes of
 *                                 state across all targets, newest first,
 *                                 with the target's category and the AS
 *                                 name
 *
 * source=ooni|wallwatch|all keeps the targets that source measured, as
 * /api/v1/targets and /events do (docs/ooni-data.md, "Source").
 *
 * AS names come from --asn-db (asndb.h: cleaned, at most 96 bytes), null
 * without one. A page's answer carries next_cursor, null on the last.
 */
#include "api_network.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>

#include "api_query.h"
#include "asndb.h"
#include "collector.h"
#include "store_network.h"
#include "util.h"

/* A cursor of /api/v1/changes: "TIME-ID", both decimal. */
#define CURSOR_MAX 48

static json_t *
jname(const struct ww_asndb *db, const char *asn)
{
	return api_json_str(ww_asndb_name_of(db, asn));
}

/* 400 {"error": err, "parameter": param}. */
static void
bad_param(struct evhttp_request *req, const char *param, const char *err)
{
	json_t *o = json_pack("{s:s,s:s}", "error", err, "parameter", param);

	reply_json(req, 400, "Bad Request", o);
	json_decref(o);
}

/* The query of req parsed with the parameters allowed, into q; false
 * (with the 400 sent) when it is refused or names no country and needs
 * one. q needs api_query_clear() either way. */
static bool
parse(struct evhttp_request *req, unsigned allowed, bool need_cc,
      struct api_query *q)
{
	const char *query =
		evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	char err[512];

	if (api_query_parse(query, allowed, q, err, sizeof(err)) != 0) {
		bad_param(req, q->err_param, err);
		return false;
	}
	if (need_cc && q->f.cc == NULL) {
		bad_param(req, "cc", "cc: required (a country, e.g. CN)");
		return false;
	}
	return true;
}

static void
answer(struct evhttp_request *req, int rc, json_t *o, const char *err)
{
	if (rc != 0) {
		log_error("api", "%s", err);
		reply_error(req, 500, "Internal Server Error", err);
	} else {
		reply_json(req, 200, "OK", o);
	}
	json_decref(o);
}

/* --- /api/v1/networks ----------------------------------------------------- */

struct nets {
	const struct ww_asndb *db;
	json_t *arr;
	json_t *cur; /* the network being counted (in arr) */
	char cc[8], asn[16];
};

/* The object of network (cc, asn): the last one, or a new one. */
static json_t *
net_of(struct nets *x, const char *cc, const char *asn)
{
	static const char *const states[] = {"blocked", "disrupted",
					     "accessible", "down", "unknown"};
	json_t *o;

	if (x->cur != NULL && strcmp(x->cc, cc) == 0 &&
	    strcmp(x->asn, asn) == 0)
		return x->cur;
	o = json_object();
	json_object_set_new(o, "probe_cc", json_string(cc));
	json_object_set_new(o, "probe_asn", json_string(asn));
	json_object_set_new(o, "network_name", jname(x->db, asn));
	json_object_set_new(o, "targets", json_integer(0));
	for (size_t i = 0; i < WW_ARRAY_LEN(states); i++)
		json_object_set_new(o, states[i], json_integer(0));
	json_object_set_new(o, "methods", json_object());
	json_object_set_new(o, "blocked_since", json_null());
	json_object_set_new(o, "last_tested", json_null());
	json_array_append_new(x->arr, o);
	snprintf(x->cc, sizeof(x->cc), "%s", cc);
	snprintf(x->asn, sizeof(x->asn), "%s", asn);
	x->cur = o;
	return o;
}

/* o[key] += n */
static void
add(json_t *o, const char *key, int64_t n)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	json_object_set_new(o, key, json_integer(v + (json_int_t)n));
}

/* o[key] = the earlier (later: max) of it and t, as text. */
static void
keep_time(json_t *o, const char *key, int64_t t, bool max)
{
	const char *old = json_string_value(json_object_get(o, key));
	json_t *j = api_json_time(t);
	const char *now = json_string_value(j);

	/* ISO 8601 UTC of one width: text order is time order */
	if (now == NULL || (old != NULL && (max ? strcmp(now, old) <= 0
						: strcmp(now, old) >= 0))) {
		json_decref(j);
		return;
	}
	json_object_set_new(o, key, j);
}

static int
count_cb(const struct store_netcount *c, void *arg)
{
	struct nets *x = arg;
	json_t *o;

	if (c->cc == NULL || c->asn == NULL || c->state == NULL)
		return 0;
	o = net_of(x, c->cc, c->asn);
	add(o, "targets", c->n);
	if (json_object_get(o, c->state) != NULL)
		add(o, c->state, c->n);
	if (strcmp(c->state, "blocked") == 0) {
		if (c->method != NULL)
			add(json_object_get(o, "methods"), c->method, c->n);
		keep_time(o, "blocked_since", c->since, false);
	}
	keep_time(o, "last_tested", c->last_tested, true);
	return 0;
}

void
api_networks(struct evhttp_request *req, struct store *st,
	     const struct ww_asndb *db)
{
	struct api_query q;
	struct nets x;
	char err[256];
	int rc;

	if (!parse(req, AQ_CC | AQ_ASN | AQ_CATEGORY | AQ_SOURCE, true, &q)) {
		api_query_clear(&q);
		return;
	}
	memset(&x, 0, sizeof(x));
	x.db = db;
	x.arr = json_array();
	rc = store_network_counts(st, &q.f, count_cb, &x, err, sizeof(err));
	answer(req, rc, json_pack("{s:o}", "networks", x.arr), err);
	api_query_clear(&q);
}

/* --- /api/v1/networks/matrix ---------------------------------------------- */

struct matrix {
	const struct ww_asndb *db;
	json_t *targets;
	json_t *cur;	  /* the target being filled (in targets) */
	json_t *networks; /* asn -> name, for the columns */
};

static int
cell_cb(const struct store_cell *c, void *arg)
{
	struct matrix *x = arg;
	const char *cur =
		x->cur != NULL
			? json_string_value(json_object_get(x->cur, "input"))
			: NULL;
	json_t *cell;

	if (c->asn == NULL)
		return 0;
	if (cur == NULL || strcmp(cur, c->input) != 0) {
		x->cur = json_pack(
			"{s:s,s:o,s:o}", "input", c->input, "category_code",
			api_json_str(c->category_code), "cells", json_object());
		if (x->cur == NULL) /* not UTF-8: the ingest lets none in */
			return 0;
		json_array_append_new(x->targets, x->cur);
	}
	cell = json_pack("{s:o,s:o,s:o,s:o}", "state", api_json_str(c->state),
			 "method", api_json_str(c->method), "since",
			 api_json_time(c->since), "last_tested",
			 api_json_time(c->last_tested));
	json_object_set_new(json_object_get(x->cur, "cells"), c->asn, cell);
	if (json_object_get(x->networks, c->asn) == NULL)
		json_object_set_new(x->networks, c->asn, jname(x->db, c->asn));
	return 0;
}

/* The number of "AS4134" (0 for anything else). */
static unsigned long long
asn_num(const json_t *o)
{
	const char *s = json_string_value(json_object_get(o, "probe_asn"));

	if (s == NULL || strncmp(s, "AS", 2) != 0)
		return 0;
	return strtoull(s + 2, NULL, 10);
}

/* The networks seen, by AS number (not text: AS9 before AS10). */
static int
asn_cmp(const void *a, const void *b)
{
	unsigned long long u = asn_num(*(json_t *const *)a),
			   v = asn_num(*(json_t *const *)b);

	return u < v ? -1 : u > v;
}

static json_t *
columns(const json_t *networks)
{
	const char *asn;
	json_t *name, *arr = json_array();
	size_t n;
	json_t **v;

	json_object_foreach((json_t *)networks, asn, name)
		json_array_append_new(arr,
				      json_pack("{s:s,s:O}", "probe_asn", asn,
						"network_name", name));
	n = json_array_size(arr);
	v = xcalloc(n > 0 ? n : 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), asn_cmp);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
	return arr;
}

void
api_network_matrix(struct evhttp_request *req, struct store *st,
		   const struct ww_asndb *db)
{
	struct api_query q;
	struct matrix x = {db, NULL, NULL, NULL};
	const char *last = NULL;
	char err[256];
	int rc, more = 0;
	json_t *o;

	if (!parse(req, AQ_CC | AQ_CATEGORY | AQ_SOURCE | AQ_LIMIT | AQ_CURSOR,
		   true, &q)) {
		api_query_clear(&q);
		return;
	}
	x.targets = json_array();
	x.networks = json_object();
	rc = store_network_matrix(st, &q.f, q.cursor, cell_cb, &x, &more, err,
				  sizeof(err));
	if (more && x.cur != NULL)
		last = json_string_value(json_object_get(x.cur, "input"));
	o = json_pack("{s:o,s:o,s:o}", "networks", columns(x.networks),
		      "targets", x.targets, "next_cursor", api_json_str(last));
	json_decref(x.networks);
	answer(req, rc, o, err);
	api_query_clear(&q);
}

/* --- /api/v1/changes ------------------------------------------------------ */

struct changes {
	const struct ww_asndb *db;
	json_t *arr;
	int64_t last_time, last_id;
};

static int
change_cb(const struct store_change *c, void *arg)
{
	struct changes *x = arg;
	const struct store_event *e = &c->e;
	json_t *uids = json_loads(e->uids_json ? e->uids_json : "[]", 0, NULL);
	json_t *o = json_object();

	x->last_time = e->time;
	x->last_id = e->id;
	json_object_set_new(o, "id", json_integer(e->id));
	json_object_set_new(o, "time", api_json_time(e->time));
	json_object_set_new(o, "input", api_json_str(e->input));
	json_object_set_new(o, "category_code", api_json_str(c->category_code));
	json_object_set_new(o, "probe_cc", api_json_str(e->cc));
	json_object_set_new(o, "probe_asn", api_json_str(e->asn));
	json_object_set_new(o, "network_name", jname(x->db, e->asn));
	json_object_set_new(o, "from", api_json_str(e->from_state));
	json_object_set_new(o, "to", api_json_str(e->to_state));
	json_object_set_new(o, "method", api_json_str(e->method));
	json_object_set_new(o, "measurements",
			    json_is_array(uids) ? uids : json_array());
	if (!json_is_array(uids))
		json_decref(uids);
	json_array_append_new(x->arr, o);
	return 0;
}

void
api_changes(struct evhttp_request *req, struct store *st,
	    const struct ww_asndb *db)
{
	struct api_query q;
	struct changes x = {db, NULL, 0, 0};
	struct store_filter f;
	int64_t bt = 0, bid = 0;
	char err[256], next[CURSOR_MAX];
	json_t *o;
	int rc;

	if (!parse(req, AQ_FILTERS | AQ_LIMIT | AQ_CURSOR, false, &q)) {
		api_query_clear(&q);
		return;
	}
	if (q.cursor != NULL && api_changes_cursor(q.cursor, &bt, &bid) != 0) {
		bad_param(req, "cursor",
			  "cursor: want TIME-ID (next_cursor of the previous "
			  "page)");
		api_query_clear(&q);
		return;
	}
	f = q.f;
	if (f.limit == 0)
		f.limit = STORE_LIMIT_DEFAULT;
	x.arr = json_array();
	rc = store_changes(st, &f, bt, bid, change_cb, &x, err, sizeof(err));
	snprintf(next, sizeof(next), "%" PRId64 "-%" PRId64, x.last_time,
		 x.last_id);
	o = json_pack("{s:o,s:o}", "events", x.arr, "next_cursor",
		      json_array_size(x.arr) == (size_t)f.limit
			      ? json_string(next)
			      : json_null());
	answer(req, rc, o, err);
	api_query_clear(&q);
}
