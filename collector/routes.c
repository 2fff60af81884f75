/*
 * routes.c - every path wallwatch-collector answers, in one table: its
 * methods, its handler and the modes serving it (ROUTE_COLLECTOR: the
 * whole service; ROUTE_CONTROL: --control-only, for controls deployed
 * abroad; ROUTE_READONLY: --read-only, the reads of a database written by
 * other collectors, e.g. on a streaming replica). The router (router.c) answers
 * the rest: 405 with Allow for a known path asked with another method, 404 for
 * any other path.
 *
 * The handlers here only reach the part that answers (struct service);
 * the work is in ctlserver.c, ingest.c, api.c, submitters.c and web.c
 * (and verdict.h's for /api/v1/vocabulary).
 */
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "alerts.h"
#include "api_network.h"
#include "api_query.h"
#include "collector.h"
#include "control.h"
#include "httpserver.h"
#include "router.h"
#include "submitters.h"
#include "verdict.h"
#include "web.h"

static struct service *
svc(const struct route_req *rr)
{
	return rr->ctx;
}

/* id: 1 for OONI's test-helper protocol, 0 for ours. */
static void
control(struct evhttp_request *req, const struct route_req *rr)
{
	ctl_handle(svc(rr)->ctl, req, rr->id == 1);
}

static void
healthz(struct evhttp_request *req, const struct route_req *rr)
{
	struct evbuffer *buf = evbuffer_new();

	(void)rr;
	evbuffer_add_printf(buf, "ok\n");
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type", "text/plain");
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

static void
whoami(struct evhttp_request *req, const struct route_req *rr)
{
	api_whoami(req, svc(rr)->asn);
}

static void
metrics(struct evhttp_request *req, const struct route_req *rr)
{
	struct evbuffer *buf = evbuffer_new();

	if (svc(rr)->in != NULL) /* none in --read-only */
		ingest_metrics(svc(rr)->in, buf);
	http_server_metrics(svc(rr)->srv, buf);
	if (svc(rr)->alerts != NULL)
		alerts_metrics(svc(rr)->alerts, buf);
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

static void
submitters(struct evhttp_request *req, const struct route_req *rr)
{
	sub_handle(req, svc(rr)->reg);
}

static void
ingest(struct evhttp_request *req, const struct route_req *rr)
{
	ingest_handle(svc(rr)->in, req);
}

/* --read-only: what would write (ingest, keys) or run controls (whose
 * measurements belong with the collectors that store them) is refused
 * with 503, which a probe takes for "try another collector" (after
 * Retry-After, when given: not here, a replica stays one). */
static void
read_only(struct evhttp_request *req, const struct route_req *rr)
{
	(void)rr;
	reply_error(req, 503, "Service Unavailable",
		    "this collector is read-only (--read-only, e.g. on a "
		    "database replica): it serves the web view, the read API "
		    "and the exports; send measurements, controls and keys to "
		    "a collector that writes");
}

/* The verdict classes, in class order, as verdict.h defines them: the
 * web view reads them once instead of keeping its own list. Takes no
 * parameter: one is a 400, as on every endpoint of the read API. */
static void
vocabulary(struct evhttp_request *req, const struct route_req *rr)
{
	const char *query =
		evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct api_query q;
	json_t *classes, *o;
	char err[512];

	(void)rr;
	if (api_query_parse(query, 0, &q, err, sizeof(err)) != 0) {
		o = json_pack("{s:s,s:s}", "error", err, "parameter",
			      q.err_param);
		reply_json(req, 400, "Bad Request", o);
		json_decref(o);
		api_query_clear(&q);
		return;
	}
	api_query_clear(&q);
	classes = json_array();
	for (int c = 0; c < WW_CLASS_N; c++)
		json_array_append_new(
			classes,
			json_pack("{s:s,s:s,s:b,s:b}", "name", ww_class_name(c),
				  "label", ww_class_label(c), "blocked",
				  ww_class_is_blocked(c), "conclusive",
				  ww_class_is_conclusive(c)));
	o = json_pack("{s:o}", "classes", classes);
	if (o == NULL)
		abort();
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Cache-Control", "public, max-age=300");
	reply_json(req, 200, "OK", o);
	json_decref(o);
}

/* id: the enum api_endpoint. */
static void
api(struct evhttp_request *req, const struct route_req *rr)
{
	api_serve(svc(rr)->api, req, (enum api_endpoint)rr->id, rr->rest);
}

/* id: the enum alerts_endpoint (docs/alerts.md). */
static void
alerts(struct evhttp_request *req, const struct route_req *rr)
{
	alerts_serve(svc(rr)->alerts, req, (enum alerts_endpoint)rr->id);
}

/* id: 0 the networks, 1 the matrix, 2 the changes (api_network.h). */
static void
network(struct evhttp_request *req, const struct route_req *rr)
{
	struct store *st = api_store(svc(rr)->api);

	if (rr->id == 0)
		api_networks(req, st, svc(rr)->asn);
	else if (rr->id == 1)
		api_network_matrix(req, st, svc(rr)->asn);
	else
		api_changes(req, st, svc(rr)->asn);
}

static void
page(struct evhttp_request *req, const struct route_req *rr)
{
	(void)rr;
	web_page(req);
}

static void
file(struct evhttp_request *req, const struct route_req *rr)
{
	web_static(req, rr->path);
}

#define POST EVHTTP_REQ_POST
#define GET ROUTE_GET_HEAD
#define BOTH ROUTE_BOTH
#define COLL ROUTE_COLLECTOR
#define RO ROUTE_READONLY
#define READ (ROUTE_COLLECTOR | ROUTE_READONLY)
#define ALL (ROUTE_BOTH | ROUTE_READONLY)
#define EXACT false
#define PREFIX true
#define CONTROL_HINT "POST a JSON control request"

/* Where a path has several routes, the first one's hint is its 405's. */
static const struct route routes[] = {
	/* Both modes: the control API (docs/control-protocol.md), ours and
	 * OONI's; health; the caller's own address (the probe's scrubbing). */
	{WW_CONTROL_PATH, EXACT, POST, BOTH, control, 0, CONTROL_HINT},
	{WW_OONI_TH_PATH, EXACT, POST, BOTH, control, 1, CONTROL_HINT},
	{"/", EXACT, POST, BOTH, control, 1, CONTROL_HINT},
	{"/healthz", EXACT, GET, ALL, healthz, 0, NULL},
	{API_WHOAMI_PATH, EXACT, GET, ALL, whoami, 0,
	 "GET your address and network"},
	/* The collector: metrics, keys, the ingest (POST) and the read API
	 * and exports (GET) on the same path, the read API, the web view;
	 * --read-only: the same reads. */
	{"/metrics", EXACT, GET, READ, metrics, 0, NULL},
	{SUB_PATH, EXACT, POST, COLL, submitters, 0,
	 "POST {\"public_key\": ..., \"proof\": ...}"},
	{INGEST_PATH, EXACT, POST, COLL, ingest, 0,
	 "POST measurements (JSON or JSON Lines)"},
	{INGEST_PATH, EXACT, GET, READ, api, API_MEASUREMENTS, NULL},
	{INGEST_PATH "/", PREFIX, GET, READ, api, API_RAW, NULL},
	{"/api/v1/targets", EXACT, GET, READ, api, API_TARGETS, NULL},
	{"/api/v1/timeline", EXACT, GET, READ, api, API_TIMELINE, NULL},
	{"/api/v1/events", EXACT, GET, READ, api, API_EVENTS, NULL},
	{"/api/v1/domains/", PREFIX, GET, READ, api, API_DOMAIN, NULL},
	{"/api/v1/export", EXACT, GET, READ, api, API_EXPORT, NULL},
	{"/api/v1/settings", EXACT, GET, READ, api, API_SETTINGS, NULL},
	{"/api/v1/vocabulary", EXACT, GET, READ, vocabulary, 0, NULL},
	{"/feed.atom", EXACT, GET, READ, alerts, ALERTS_FEED, NULL},
	{"/api/v1/alerts", EXACT, GET, READ, alerts, ALERTS_JSON, NULL},
	{"/api/v1/alerts/deliveries", EXACT, GET, READ, alerts,
	 ALERTS_DELIVERIES, NULL},
	{API_NETWORKS_PATH, EXACT, GET, READ, network, 0, NULL},
	{API_MATRIX_PATH, EXACT, GET, READ, network, 1, NULL},
	{API_CHANGES_PATH, EXACT, GET, READ, network, 2, NULL},
	{"/", EXACT, GET, READ, page, 0, NULL},
	{"/index.html", EXACT, GET, READ, page, 0, NULL},
	{"/target", EXACT, GET, READ, page, 0, NULL},
	{"/domain", EXACT, GET, READ, page, 0, NULL},
	{"/alerts", EXACT, GET, READ, page, 0, NULL},
	{"/network", EXACT, GET, READ, page, 0, NULL},
	{"/country", EXACT, GET, READ, page, 0, NULL},
	{"/changes", EXACT, GET, READ, page, 0, NULL},
	{"/measurement", EXACT, GET, READ, page, 0, NULL},
	{"/static/", PREFIX, GET, READ, file, 0, NULL},
	/* --read-only: the paths that write or run controls, 503. */
	{WW_CONTROL_PATH, EXACT, POST, RO, read_only, 0, CONTROL_HINT},
	{WW_OONI_TH_PATH, EXACT, POST, RO, read_only, 0, CONTROL_HINT},
	{"/", EXACT, POST, RO, read_only, 0, CONTROL_HINT},
	{SUB_PATH, EXACT, POST, RO, read_only, 0,
	 "POST {\"public_key\": ..., \"proof\": ...}"},
	{INGEST_PATH, EXACT, POST, RO, read_only, 0,
	 "POST measurements (JSON or JSON Lines)"},
};

void
routes_init(struct router *r, unsigned mode, struct service *s)
{
	r->routes = routes;
	r->n = sizeof(routes) / sizeof(routes[0]);
	r->mode = mode;
	r->ctx = s;
}
