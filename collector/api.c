/*
 * api.c - the read API and exports (GET /api/v1/...), over the store's
 * queries (store.h). Every answer is JSON but the raw measurement and the
 * CSV export. Exports stream: a page of rows at a time, the next page only
 * once the previous chunk has left, so the result is never held in memory
 * however large it is.
 *
 * Every query endpoint takes the filters ?input ?cc ?asn ?category ?state
 * ?since ?until (api_query.h; a bad one, one given twice or one the
 * endpoint does not take is a 400 naming it), and:
 *
 *   GET /api/v1/targets       ?after ?limit (pct_blocked_30/90: the
 *                             blocked share of conclusive tests, 0..1;
 *                             paged like measurements, by the target's id)
 *   GET /api/v1/timeline      ?granularity=day|hour (input required)
 *   GET /api/v1/events        ?after ?limit
 *   GET /api/v1/measurements  ?after ?limit
 *   GET /api/v1/measurements/UID   the raw measurement as submitted
 *   GET /api/v1/measurements/UID/packets   its packet evidence, trimmed
 *                             and bounded (pktview.h), for the web view
 *   GET /api/v1/domains/HOST  per network: blocked/disrupted/... URLs
 *   GET /api/v1/export        ?format=jsonl|csv
 *   GET /api/v1/settings      what a change of state needs (the agreement
 *                             settings, docs/timelines.md)
 *   GET /api/v1/whoami        the caller's address as seen here, and its
 *                             network from --asn-db (api_whoami: needs no
 *                             store, so --control-only serves it too)
 *
 * Each comes here from the router (routes.c: the paths and methods; GET
 * and HEAD only), as api_serve() with its endpoint.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <zlib.h>

#include "api_query.h"
#include "asndb.h"
#include "collector.h"
#include "pktview.h"
#include "store.h"
#include "util.h"
#include "validate.h"
#include "verdict.h"

#define EXPORT_PAGE 500

struct api {
	struct store *st;
};

struct api *
api_new(struct store *st)
{
	struct api *a = xcalloc(1, sizeof(*a));

	a->st = st;
	return a;
}

void
api_free(struct api *a)
{
	free(a);
}

struct store *
api_store(struct api *a)
{
	return a->st;
}

json_t *
api_json_time(int64_t t)
{
	char buf[21];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0)
		return json_null();
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

json_t *
api_json_str(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* --- JSON answers --------------------------------------------------------- */

/* A page of rows, and the id of the last (for next_after). */
struct rows {
	json_t *arr;
	int64_t last_id;
};

static int
target_cb(const struct store_target *t, void *arg)
{
	struct rows *rs = arg;
	json_t *o = json_object();

	rs->last_id = t->id;
	json_object_set_new(o, "id", json_integer(t->id));
	json_object_set_new(o, "input", api_json_str(t->input));
	json_object_set_new(o, "category_code", api_json_str(t->category_code));
	json_object_set_new(o, "probe_cc", api_json_str(t->cc));
	json_object_set_new(o, "probe_asn", api_json_str(t->asn));
	json_object_set_new(o, "state", api_json_str(t->state));
	json_object_set_new(o, "method", api_json_str(t->method));
	json_object_set_new(o, "since", api_json_time(t->since));
	json_object_set_new(o, "last_tested", api_json_time(t->last_tested));
	/* The store counts in percent; the API gives the share, 0 to 1. */
	json_object_set_new(o, "pct_blocked_30",
			    t->pct_blocked_30 < 0
				    ? json_null()
				    : json_real(t->pct_blocked_30 / 100.0));
	json_object_set_new(o, "pct_blocked_90",
			    t->pct_blocked_90 < 0
				    ? json_null()
				    : json_real(t->pct_blocked_90 / 100.0));
	json_object_set_new(o, "tests_30", json_integer(t->n_30));
	json_object_set_new(o, "tests_90", json_integer(t->n_90));
	json_array_append_new(rs->arr, o);
	return 0;
}

static int
bucket_cb(const struct store_bucket *b, void *arg)
{
	/* the counts in class order, named by verdict.h */
	const int64_t n[WW_CLASS_N] = {
		b->ok,		 b->dns,       b->tcp_ip,      b->tls,
		b->http_failure, b->http_diff, b->server_side, b->down,
		b->failed,	 b->protocol,  b->endpoint,
	};
	json_t *o = json_pack("{s:s?,s:s?,s:s?,s:o}", "input", b->input,
			      "probe_cc", b->cc, "probe_asn", b->asn, "start",
			      api_json_time(b->start));

	for (int i = 0; o != NULL && i < WW_CLASS_N; i++)
		json_object_set_new(o, ww_class_name(i),
				    json_integer((json_int_t)n[i]));
	json_array_append_new(arg, o);
	return 0;
}

static int
event_cb(const struct store_event *e, void *arg)
{
	json_t *uids = json_loads(e->uids_json ? e->uids_json : "[]", 0, NULL);
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(e->id));
	json_object_set_new(o, "time", api_json_time(e->time));
	json_object_set_new(o, "input", api_json_str(e->input));
	json_object_set_new(o, "probe_cc", api_json_str(e->cc));
	json_object_set_new(o, "probe_asn", api_json_str(e->asn));
	json_object_set_new(o, "from", api_json_str(e->from_state));
	json_object_set_new(o, "to", api_json_str(e->to_state));
	json_object_set_new(o, "method", api_json_str(e->method));
	json_object_set_new(o, "measurements", uids ? uids : json_array());
	json_array_append_new(arg, o);
	return 0;
}

/* The stored evidence names ("a;b") as a JSON array. */
static json_t *
evidence_json(const char *names)
{
	json_t *arr = json_array();

	while (names != NULL && *names != '\0') {
		const char *end = strchr(names, ';');
		size_t n = end != NULL ? (size_t)(end - names) : strlen(names);

		if (n > 0)
			json_array_append_new(arr, json_stringn(names, n));
		names = end != NULL ? end + 1 : NULL;
	}
	return arr;
}

/* The verdict is confirmed and packets are (among) its proof: the
 * analysis named evidence (docs/verdicts.md). Evidence beside a verdict
 * that is not confirmed (an injection the page still came through) is
 * listed, not counted as confirming. */
static bool
confirmed_by_packets(const struct store_row *r)
{
	return r->confirmed && r->evidence != NULL && r->evidence[0] != '\0';
}

static json_t *
row_json(const struct store_row *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(r->id));
	json_object_set_new(o, "measurement_uid", api_json_str(r->uid));
	json_object_set_new(o, "input", api_json_str(r->input));
	json_object_set_new(o, "test_name", api_json_str(r->test_name));
	/* where it comes from (docs/ooni-data.md, "Source") */
	json_object_set_new(o, "source", json_string(store_source_of(r)));
	json_object_set_new(o, "software_name", api_json_str(r->software_name));
	json_object_set_new(o, "software_version",
			    api_json_str(r->software_version));
	json_object_set_new(o, "test_version", api_json_str(r->test_version));
	json_object_set_new(o, "category_code", api_json_str(r->category_code));
	json_object_set_new(o, "probe_cc", api_json_str(r->probe_cc));
	json_object_set_new(o, "probe_asn", api_json_str(r->probe_asn));
	json_object_set_new(o, "observed_cc", api_json_str(r->observed_cc));
	json_object_set_new(o, "observed_asn", api_json_str(r->observed_asn));
	json_object_set_new(o, "geo_mismatch", json_boolean(r->geo_mismatch));
	json_object_set_new(o, "measurement_start_time",
			    api_json_time(r->start_time));
	json_object_set_new(o, "received_time",
			    api_json_time(r->received_time));
	json_object_set_new(o, "blocking",
			    r->blocking == NULL ? json_null()
			    : strcmp(r->blocking, "false") == 0
				    ? json_false()
				    : json_string(r->blocking));
	json_object_set_new(o, "accessible",
			    r->accessible < 0 ? json_null()
					      : json_boolean(r->accessible));
	json_object_set_new(o, "blocking_detail",
			    api_json_str(r->blocking_detail));
	/* the verdict's class (verdict.h), so that no reader classifies */
	json_object_set_new(
		o, "class",
		json_string(ww_class_name(ww_classify(
			r->blocking, r->blocking_detail, r->accessible))));
	json_object_set_new(o, "confirmed", json_boolean(r->confirmed));
	json_object_set_new(o, "analysis_version",
			    api_json_str(r->analysis_version));
	json_object_set_new(o, "analysis_reason",
			    api_json_str(r->analysis_reason));
	json_object_set_new(o, "evidence", evidence_json(r->evidence));
	json_object_set_new(o, "evidence_detail",
			    api_json_str(r->evidence_detail));
	json_object_set_new(o, "confirmed_by_packets",
			    json_boolean(confirmed_by_packets(r)));
	json_object_set_new(o, "packets", json_integer(r->packets));
	return o;
}

static int
row_cb(const struct store_row *r, void *arg)
{
	struct rows *rs = arg;

	json_array_append_new(rs->arr, row_json(r));
	rs->last_id = r->id;
	return 0;
}

static int
rollup_cb(const struct store_rollup *r, void *arg)
{
	json_array_append_new(arg,
			      json_pack("{s:s?,s:s?,s:I,s:I,s:I,s:I,s:I}",
					"probe_cc", r->cc, "probe_asn", r->asn,
					"blocked", (json_int_t)r->blocked,
					"disrupted", (json_int_t)r->disrupted,
					"accessible", (json_int_t)r->accessible,
					"down", (json_int_t)r->down, "unknown",
					(json_int_t)r->unknown));
	return 0;
}

static void
answer(struct evhttp_request *req, int rc, const char *key, json_t *arr,
       const char *err)
{
	json_t *o;

	if (rc != 0) {
		log_error("api", "%s", err);
		reply_error(req, 500, "Internal Server Error", err);
		json_decref(arr);
		return;
	}
	o = json_object();
	json_object_set_new(o, key, arr);
	reply_json(req, 200, "OK", o);
	json_decref(o);
}

/* {key: rows, next_after: the last id when the page is full (another may
 * follow), else null}. */
static void
answer_page(struct evhttp_request *req, int rc, const char *key,
	    struct rows *rs, int limit, const char *err)
{
	json_t *o;

	if (rc != 0) {
		answer(req, rc, key, rs->arr, err);
		return;
	}
	o = json_object();
	json_object_set_new(o, key, rs->arr);
	json_object_set_new(o, "next_after",
			    json_array_size(rs->arr) == (size_t)limit
				    ? json_integer(rs->last_id)
				    : json_null());
	reply_json(req, 200, "OK", o);
	json_decref(o);
}

static void
get_targets(struct api *a, struct evhttp_request *req,
	    const struct store_filter *f)
{
	struct rows rs = {json_array(), 0};
	struct store_filter page = *f;
	char err[256];
	int rc;

	if (page.limit == 0)
		page.limit = STORE_LIMIT_DEFAULT;
	rc = store_targets(a->st, &page, (int64_t)time(NULL), target_cb, &rs,
			   err, sizeof(err));
	answer_page(req, rc, "targets", &rs, page.limit, err);
}

static void
get_timeline(struct api *a, struct evhttp_request *req,
	     const struct api_query *q)
{
	json_t *arr;
	char err[256];
	int rc;

	if (q->f.input == NULL) {
		json_t *o = json_pack("{s:s,s:s}", "error", "input: required",
				      "parameter", "input");

		reply_json(req, 400, "Bad Request", o);
		json_decref(o);
		return;
	}
	arr = json_array();
	rc = store_timeline(a->st, &q->f, q->granularity, bucket_cb, arr, err,
			    sizeof(err));
	answer(req, rc, "buckets", arr, err);
}

static void
get_events(struct api *a, struct evhttp_request *req,
	   const struct store_filter *f)
{
	json_t *arr = json_array();
	char err[256];
	int rc = store_events(a->st, f, event_cb, arr, err, sizeof(err));

	answer(req, rc, "events", arr, err);
}

static void
get_measurements(struct api *a, struct evhttp_request *req,
		 const struct store_filter *f)
{
	struct rows rs = {json_array(), 0};
	struct store_filter page = *f;
	char err[256];
	int rc;

	if (page.limit == 0)
		page.limit = STORE_LIMIT_DEFAULT;
	rc = store_measurements(a->st, &page, row_cb, &rs, err, sizeof(err));
	answer_page(req, rc, "measurements", &rs, page.limit, err);
}

/* The stored bytes of measurement uid into *raw (caller frees), or false
 * with the answer sent: 404 for an unknown uid, 500 for a store error. */
static bool
load_raw(struct api *a, struct evhttp_request *req, const char *uid, char **raw,
	 size_t *len)
{
	char err[256];
	int rc = store_get_raw(a->st, uid, raw, len, err, sizeof(err));

	if (rc == 1) {
		reply_error(req, 404, "Not Found",
			    "no measurement with that uid");
		return false;
	}
	if (rc != 0) {
		reply_error(req, 500, "Internal Server Error", err);
		return false;
	}
	return true;
}

static void
get_raw(struct api *a, struct evhttp_request *req, const char *uid)
{
	char *raw = NULL;
	size_t len = 0;
	struct evbuffer *buf;

	if (!load_raw(a, req, uid, &raw, &len))
		return;
	buf = evbuffer_new();
	evbuffer_add(buf, raw, len);
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type", "application/json");
	reply_buffer(req, 200, "OK", buf);
	evbuffer_free(buf);
	free(raw);
}

/* GET /api/v1/measurements/UID/packets: {"measurement_uid", "packets":
 * the trimmed view of its test_keys.packets (pktview.h), or null}. The
 * web view asks for it when a measurement's evidence is opened, rather
 * than load raw measurements of up to 16 MiB; its size is bounded
 * (docs/web-view.md). */
static void
get_packets(struct api *a, struct evhttp_request *req, const char *uid)
{
	char *raw = NULL;
	size_t len = 0;
	json_t *m, *o, *p;

	if (!load_raw(a, req, uid, &raw, &len))
		return;
	m = json_loadb(raw, len, 0, NULL);
	free(raw);
	p = pktview_trim(m);
	o = json_object();
	json_object_set_new(o, "measurement_uid", api_json_str(uid));
	json_object_set_new(o, "packets", p != NULL ? p : json_null());
	json_decref(m);
	reply_json(req, 200, "OK", o);
	json_decref(o);
}

static void
get_domain(struct api *a, struct evhttp_request *req, const char *host)
{
	json_t *arr = json_array();
	char err[256];
	int rc = store_domain_rollup(a->st, host, rollup_cb, arr, err,
				     sizeof(err));

	answer(req, rc, "networks", arr, err);
}

/* --- export --------------------------------------------------------------- */

/* CSV columns, stable: docs/export.md. */
static const char csv_header[] =
	"measurement_uid,measurement_start_time,input,test_name,"
	"category_code,probe_cc,probe_asn,observed_cc,observed_asn,"
	"geo_mismatch,blocking,accessible,blocking_detail,confirmed,"
	"analysis_version,evidence,confirmed_by_packets,source,"
	"software_name,software_version,test_version\r\n";

static void
export_csv_row(struct evbuffer *b, const struct store_row *r)
{
	char t[21] = "";
	time_t tt = (time_t)r->start_time;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	export_csv_cell(b, r->uid, false);
	export_csv_cell(b, t, false);
	export_csv_cell(b, r->input, false);
	export_csv_cell(b, r->test_name, false);
	export_csv_cell(b, r->category_code, false);
	export_csv_cell(b, r->probe_cc, false);
	export_csv_cell(b, r->probe_asn, false);
	export_csv_cell(b, r->observed_cc, false);
	export_csv_cell(b, r->observed_asn, false);
	export_csv_cell(b, r->geo_mismatch ? "true" : "false", false);
	export_csv_cell(b, r->blocking, false);
	export_csv_cell(b,
			r->accessible < 0 ? NULL
			: r->accessible	  ? "true"
					  : "false",
			false);
	export_csv_cell(b, r->blocking_detail, false);
	export_csv_cell(b, r->confirmed ? "true" : "false", false);
	export_csv_cell(b, r->analysis_version, false);
	export_csv_cell(b, r->evidence, false);
	export_csv_cell(b, confirmed_by_packets(r) ? "true" : "false", false);
	export_csv_cell(b, store_source_of(r), false);
	export_csv_cell(b, r->software_name, false);
	export_csv_cell(b, r->software_version, false);
	export_csv_cell(b, r->test_version, true);
}

const char *
export_csv_header(void)
{
	return csv_header;
}

struct export_page {
	struct store *st;
	struct evbuffer *out;
	bool csv;
	int64_t last_id;
	size_t n;
	int failed;
};

static int
export_row(const struct store_row *r, void *arg)
{
	struct export_page *p = arg;

	p->last_id = r->id;
	p->n++;
	if (p->csv) {
		export_csv_row(p->out, r);
	} else {
		char *raw = NULL, err[256];
		size_t len = 0;

		if (store_get_raw(p->st, r->uid, &raw, &len, err,
				  sizeof(err)) != 0) {
			log_error("export", "%s: %s", r->uid, err);
			p->failed = 1;
			return 1;
		}
		evbuffer_add(p->out, raw, len);
		evbuffer_add(p->out, "\n", 1);
		free(raw);
	}
	return 0;
}

/*
 * One page of the export into out (received order, ids after f->after_id);
 * advances f->after_id. Returns rows written, 0 at the end, -1 on error.
 */
long
export_page(struct store *st, struct store_filter *f, bool csv,
	    struct evbuffer *out)
{
	struct export_page p = {st, out, csv, f->after_id, 0, 0};
	char err[256];

	f->limit = EXPORT_PAGE;
	if (store_measurements(st, f, export_row, &p, err, sizeof(err)) != 0) {
		log_error("export", "%s", err);
		return -1;
	}
	if (p.failed)
		return -1;
	f->after_id = p.last_id;
	return (long)p.n;
}

struct export_stream {
	struct store *st;
	struct evhttp_request *req;
	struct store_filter f;
	char *strs[5]; /* owned copies of the filter's strings */
	bool csv;
	z_stream z;
	bool gzip;
};

static void
stream_free(struct export_stream *x)
{
	if (x->gzip)
		deflateEnd(&x->z);
	for (int i = 0; i < 5; i++)
		free(x->strs[i]);
	free(x);
}

/* Compress what is in plain into out (flush: the end of the stream). */
static void
gz(struct export_stream *x, struct evbuffer *plain, struct evbuffer *out,
   bool finish)
{
	size_t len = evbuffer_get_length(plain);
	unsigned char *in = evbuffer_pullup(plain, -1), buf[16384];

	x->z.next_in = in;
	x->z.avail_in = (uInt)len;
	do {
		x->z.next_out = buf;
		x->z.avail_out = sizeof(buf);
		deflate(&x->z, finish ? Z_FINISH : Z_NO_FLUSH);
		evbuffer_add(out, buf, sizeof(buf) - x->z.avail_out);
	} while (x->z.avail_out == 0);
	evbuffer_drain(plain, len);
}

static void stream_next(struct evhttp_connection *conn, void *arg);

static void
drop_connection(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evhttp_connection_free(arg);
}

static void
stream_closed(struct evhttp_connection *conn, void *arg)
{
	(void)conn;
	stream_free(arg); /* the client left mid-export */
}

static void
stream_next(struct evhttp_connection *conn, void *arg)
{
	struct export_stream *x = arg;
	struct evbuffer *plain = evbuffer_new(), *out = evbuffer_new();
	long n = export_page(x->st, &x->f, x->csv, plain);

	(void)conn;
	if (x->gzip)
		gz(x, plain, out, n <= 0);
	else
		evbuffer_add_buffer(out, plain);
	if (n > 0) {
		evhttp_send_reply_chunk_with_cb(x->req, out, stream_next, x);
	} else {
		/* n < 0: the answer is cut short; the missing last chunk
		 * tells the client so. */
		if (evbuffer_get_length(out) > 0)
			evhttp_send_reply_chunk(x->req, out);
		evhttp_connection_set_closecb(
			evhttp_request_get_connection(x->req), NULL, NULL);
		if (n == 0) {
			evhttp_send_reply_end(x->req);
		} else {
			/* Not from inside the connection's own callback:
			 * on the next turn of the loop. */
			struct evhttp_connection *c =
				evhttp_request_get_connection(x->req);

			event_base_once(evhttp_connection_get_base(c), -1,
					EV_TIMEOUT, drop_connection, c, NULL);
		}
		stream_free(x);
	}
	evbuffer_free(plain);
	evbuffer_free(out);
}

static void
get_export(struct api *a, struct evhttp_request *req, const struct api_query *q)
{
	const char *ae = evhttp_find_header(
		evhttp_request_get_input_headers(req), "Accept-Encoding");
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char **fs[5];
	struct export_stream *x;

	x = xcalloc(1, sizeof(*x));
	x->st = a->st;
	x->req = req;
	x->f = q->f;
	/* Every filter the export documents (docs/export.md), owned: the
	 * query's strings go when this returns, the stream lives on. */
	fs[0] = &x->f.input;
	fs[1] = &x->f.cc;
	fs[2] = &x->f.asn;
	fs[3] = &x->f.category;
	fs[4] = &x->f.state;
	for (int i = 0; i < 5; i++)
		*fs[i] = x->strs[i] = xstrdup(*fs[i]);
	x->csv = q->csv;
	x->gzip = ae != NULL && strstr(ae, "gzip") != NULL &&
		  deflateInit2(&x->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
			       16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK;
	evhttp_add_header(h, "Content-Type",
			  x->csv ? "text/csv; charset=utf-8"
				 : "application/x-ndjson");
	evhttp_add_header(h, "Content-Disposition",
			  x->csv ? "attachment; filename=\"wallwatch.csv\""
				 : "attachment; filename=\"wallwatch.jsonl\"");
	if (x->gzip)
		evhttp_add_header(h, "Content-Encoding", "gzip");
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
				      stream_closed, x);
	evhttp_send_reply_start(req, 200, "OK");
	if (x->csv) {
		struct evbuffer *b = evbuffer_new(), *out = evbuffer_new();

		evbuffer_add(b, csv_header, strlen(csv_header));
		if (x->gzip)
			gz(x, b, out, false);
		else
			evbuffer_add_buffer(out, b);
		evhttp_send_reply_chunk(req, out);
		evbuffer_free(b);
		evbuffer_free(out);
	}
	stream_next(NULL, x);
}

/* --- whoami ------------------------------------------------------------ */

/*
 * The peer's address as text; an IPv4-mapped IPv6 address (a dual-stack
 * listener's IPv4 client) as plain IPv4, the form the client knows itself
 * by. -1 when the connection has no address we can show.
 */
static int
peer_text(struct evhttp_request *req, char *ip, size_t len)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	const struct sockaddr *sa =
		conn ? evhttp_connection_get_addr(conn) : NULL;
	const struct in6_addr *a6;
	const void *addr;
	int af;

	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		af = AF_INET;
		addr = &((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		af = IN6_IS_ADDR_V4MAPPED(a6) ? AF_INET : AF_INET6;
		addr = af == AF_INET ? (const void *)&a6->s6_addr[12] : a6;
	} else {
		return -1;
	}
	return inet_ntop(af, addr, ip, (socklen_t)len) != NULL ? 0 : -1;
}

/*
 * The probe learns its public address and network from this, to scrub the
 * one from its measurements and record the other. The address is answered
 * to its owner and goes nowhere else: never logged, never stored (ip is a
 * local), and no cache may keep the answer.
 */
void
api_whoami(struct evhttp_request *req, const struct ww_asndb *asn)
{
	char ip[INET6_ADDRSTRLEN], cc[3], asn_s[16];
	uint32_t as = 0;
	bool found;
	json_t *o;

	if (peer_text(req, ip, sizeof(ip)) != 0) {
		reply_error(req, 500, "Internal Server Error",
			    "the connection has no address");
		return;
	}
	found = asn != NULL && ww_asndb_lookup(asn, ip, &as, cc) == 0;
	snprintf(asn_s, sizeof(asn_s), "AS%u", (unsigned)as);
	o = json_object();
	json_object_set_new(o, "ip", json_string(ip));
	json_object_set_new(o, "asn", found ? json_string(asn_s) : json_null());
	/* "ZZ": the table has the range but no country. */
	json_object_set_new(o, "cc",
			    found && strcmp(cc, "ZZ") != 0 ? json_string(cc)
							   : json_null());
	/* the table's AS description (cleaned by asndb.c), when it has one */
	json_object_set_new(
		o, "network_name",
		api_json_str(found ? ww_asndb_name(asn, as) : NULL));
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Cache-Control", "no-store");
	reply_json(req, 200, "OK", o);
	json_decref(o);
}

/* {"agreement": {...}}: the database's settings, and the rule in words for
 * the web view. */
static void
get_settings(struct api *a, struct evhttp_request *req)
{
	struct store_agreement ag;
	json_t *o = json_object(), *j = json_object();
	char rule[384];

	store_agreement_get(a->st, &ag);
	if (ag.min_submitters <= 1)
		snprintf(rule, sizeof(rule),
			 "a state changes on the measurements of any one "
			 "submitter (single-probe deployment)");
	else if (ag.single_submitter_hours > 0)
		snprintf(rule, sizeof(rule),
			 "a state changes when %d independent submitters "
			 "agree (the unsigned only beside a key), or one "
			 "alone, uncontradicted, for %d hours; never while "
			 "as many keyed submitters say otherwise (each once, "
			 "by its latest word of the last day)",
			 ag.min_submitters, ag.single_submitter_hours);
	else
		snprintf(rule, sizeof(rule),
			 "a state changes when %d independent submitters "
			 "agree (the unsigned only beside a key); never while "
			 "as many keyed submitters say otherwise (each once, "
			 "by its latest word of the last day)",
			 ag.min_submitters);
	json_object_set_new(j, "min_submitters",
			    json_integer(ag.min_submitters));
	json_object_set_new(j, "single_submitter_hours",
			    json_integer(ag.single_submitter_hours));
	json_object_set_new(j, "daily_cap", json_integer(ag.daily_cap));
	json_object_set_new(j, "allow_geo_mismatch",
			    json_boolean(ag.allow_geo_mismatch));
	json_object_set_new(j, "rule", json_string(rule));
	json_object_set_new(o, "agreement", j);
	reply_json(req, 200, "OK", o);
	json_decref(o);
}

/* --- one endpoint --------------------------------------------------------- */

/* 400 {"error": "NAME: why", "parameter": NAME}. */
static void
reply_bad_param(struct evhttp_request *req, const struct api_query *q,
		const char *err)
{
	json_t *o =
		json_pack("{s:s,s:s}", "error", err, "parameter", q->err_param);

	reply_json(req, 400, "Bad Request", o);
	json_decref(o);
}

/* The parameters each endpoint takes (api_query.h). */
static unsigned
params_of(enum api_endpoint ep)
{
	switch (ep) {
	case API_TARGETS:
	case API_EVENTS:
	case API_MEASUREMENTS:
		return AQ_FILTERS | AQ_AFTER | AQ_LIMIT;
	case API_TIMELINE:
		return AQ_FILTERS | AQ_GRANULARITY;
	case API_EXPORT:
		return AQ_FILTERS | AQ_FORMAT;
	default:
		return 0;
	}
}

/* The decoded UID or HOST of a path; NULL (after a 400 or 404) when it
 * cannot be one. */
static char *
path_part(struct evhttp_request *req, bool domain, const char *rest)
{
	size_t len = 0;
	char *v = evhttp_uridecode(rest, 0, &len);
	const char *what = !domain ? "uid" : "domain";
	bool bad = v == NULL || len == 0 || len > (!domain ? 256 : 254) ||
		   memchr(v, '\0', len) != NULL;

	for (size_t i = 0; !bad && i < len; i++)
		bad = (unsigned char)v[i] < 0x20 || v[i] == 0x7f ||
		      (domain && v[i] == '/');
	if (!bad)
		return v;
	free(v);
	if (!domain) {
		reply_error(req, 404, "Not Found",
			    "no measurement with that uid");
	} else {
		json_t *o = json_pack(
			"{s:s,s:s}", "error",
			"domain: want a host name (at most 253 bytes, no "
			"control characters)",
			"parameter", what);

		reply_json(req, 400, "Bad Request", o);
		json_decref(o);
	}
	return NULL;
}

/* measurements/UID/packets: rest (still URL-encoded, so that a '/' in a
 * uid is %2F) ends with "/packets"; then *rest loses it (into *buf). */
static bool
packets_of(const char **rest, char **buf)
{
	static const char sfx[] = "/packets";
	size_t n = strlen(*rest), k = sizeof(sfx) - 1;

	if (n <= k || strcmp(*rest + n - k, sfx) != 0)
		return false;
	*buf = xmalloc(n - k + 1);
	memcpy(*buf, *rest, n - k);
	(*buf)[n - k] = '\0';
	*rest = *buf;
	return true;
}

void
api_serve(struct api *a, struct evhttp_request *req, enum api_endpoint ep,
	  const char *rest)
{
	struct api_query q;
	const char *query;
	char err[512];
	char *part = NULL, *restbuf = NULL;
	bool packets = false;

	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (api_query_parse(query, params_of(ep), &q, err, sizeof(err)) != 0) {
		reply_bad_param(req, &q, err);
		api_query_clear(&q);
		return;
	}
	if (ep == API_RAW)
		packets = packets_of(&rest, &restbuf);
	if ((ep == API_RAW || ep == API_DOMAIN) &&
	    (part = path_part(req, ep == API_DOMAIN, rest)) == NULL) {
		free(restbuf);
		api_query_clear(&q);
		return;
	}
	switch (ep) {
	case API_TARGETS:
		get_targets(a, req, &q.f);
		break;
	case API_TIMELINE:
		get_timeline(a, req, &q);
		break;
	case API_EVENTS:
		get_events(a, req, &q.f);
		break;
	case API_MEASUREMENTS:
		get_measurements(a, req, &q.f);
		break;
	case API_RAW:
		if (packets)
			get_packets(a, req, part);
		else
			get_raw(a, req, part);
		break;
	case API_DOMAIN:
		get_domain(a, req, part);
		break;
	case API_EXPORT:
		get_export(a, req, &q);
		break;
	case API_SETTINGS:
		get_settings(a, req);
		break;
	}
	free(part);
	free(restbuf);
	api_query_clear(&q);
}
