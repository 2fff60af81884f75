/*
 * collector.h - wallwatch-collector's parts: the answers every handler
 * sends (reply.c), the control service (ctlserver.c), the ingest
 * (ingest.c, ingest_prep.c), the read API and exports (api.c), the routes
 * that lead to them (routes.c) and the command line (main.c). The HTTP
 * server is httpserver.h, the router router.h, the web view web.h;
 * storage is behind store.h.
 */
#ifndef WW_COLLECTOR_H
#define WW_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>

#include "engine.h"

#define EXIT_OK 0
#define EXIT_USAGE 1
#define EXIT_FAIL 2

struct drain;
struct evbuffer;
struct evhttp_request;

/* --- reply.c: the answers every handler sends --------------------------- */
/* buf as the body with code (for HEAD: its length, no body). */
void reply_buffer(struct evhttp_request *req, int code, const char *reason,
		  struct evbuffer *buf);
/* A JSON body (compact, sorted keys) with code; body is not consumed. */
void reply_json(struct evhttp_request *req, int code, const char *reason,
		json_t *body);
/* {"error": msg} with code. */
void reply_error(struct evhttp_request *req, int code, const char *reason,
		 const char *msg);
/* 405 with Allow: allow (e.g. "POST") and {"error": msg}. */
void reply_not_allowed(struct evhttp_request *req, const char *allow,
		       const char *msg);
/* (httpserver.c) Before sending req's answer: over(arg) runs once, when
 * it has been written out or when its connection is gone first, so that a
 * drain can wait for answers to leave (it replaces the connection's close
 * callback). Use it rather than evhttp_request_set_on_complete_cb(): the
 * edge (edge.h) holds that callback, to start the next request's header
 * deadline once an answer is out. */
void reply_track(struct evhttp_request *req, void (*over)(void *), void *arg);

/* --- ctlserver.c: the control service ---------------------------------- */
struct ctl_opts {
	int max_inflight; /* controls measured at once; more get 503 */
	double deadline;  /* seconds one control may take in all */
};
struct ctl_service;
/* The control API on base, measuring with e (made with
 * ww_config.control_service); each control in flight and its answer
 * hold d (drain.h), and once d is closing new ones get 503. */
struct ctl_service *ctl_service_new(struct event_base *base,
				    struct ww_engine *e,
				    const struct ctl_opts *o, struct drain *d);
/* A POSTed control request: ours (WW_CONTROL_PATH), or OONI's test-helper
 * protocol (ooni: WW_OONI_TH_PATH and /); answered when its job ends. */
void ctl_handle(struct ctl_service *s, struct evhttp_request *req, bool ooni);
/* Abandon what is in flight (no answer) and free everything: before the
 * HTTP server is freed. */
void ctl_service_free(struct ctl_service *s);

/* --- ingest.c: POST /api/v1/measurements ------------------------------- */
struct store;
struct ww_fingerprints;
struct ww_asndb;
struct ingest;
/* The ingest service storing through writer, a store handle of its own
 * that only its writer thread uses; fp and asn may be NULL (shared,
 * read-only); threads: workers that parse and check (>= 1); max_queued:
 * bytes of bodies taken and not yet answered, past which POSTs get 503. */
struct ingest *ingest_new(struct store *writer,
			  const struct ww_fingerprints *fp,
			  const struct ww_asndb *asn, int threads,
			  size_t max_queued);
/* Who submitted (submitters.h: the signature check and --submission) and
 * the rate limits (ratelimit.h); before ingest_start. Without: every batch
 * is anonymous and unlimited. Both are the caller's, shared. */
struct sub_registry;
struct rate_limiter;
void ingest_set_identity(struct ingest *in, struct sub_registry *reg,
			 struct rate_limiter *rl);
/* Start its threads; answers go out on base's loop. Each POST taken and
 * its answer hold d (drain.h); once d is closing, POSTs get 503. 0, or -1
 * with a message (the threads that did start are stopped by
 * ingest_free). */
int ingest_start(struct ingest *in, struct event_base *base, struct drain *d,
		 char *err, size_t errlen);
/* Stop the threads: after the HTTP server is freed (no connection may
 * still wait for an answer) and before base is. */
void ingest_stop(struct ingest *in);
void ingest_free(struct ingest *in);
/* Prometheus text for the ingest's counters. */
void ingest_metrics(struct ingest *in, struct evbuffer *out);
/* POST INGEST_PATH (the router, routes.c, sends only that here). */
#define INGEST_PATH "/api/v1/measurements"
void ingest_handle(struct ingest *in, struct evhttp_request *req);

/* --- api.c: the read API and exports ---------------------------------- */
struct api;
struct store_filter;
struct store_row;
struct api *api_new(struct store *st);
void api_free(struct api *a);
/* The store a reads (for api_network.h's handlers). */
struct store *api_store(struct api *a);
/* The read API's JSON values: unix seconds t as "YYYY-MM-DDTHH:MM:SSZ"
 * (null for t <= 0, never stored), and s or null. */
json_t *api_json_time(int64_t t);
json_t *api_json_str(const char *s);
/* The read API's endpoints, GET and HEAD (routes.c has their paths). */
enum api_endpoint {
	API_TARGETS,	  /* /api/v1/targets */
	API_TIMELINE,	  /* /api/v1/timeline */
	API_EVENTS,	  /* /api/v1/events */
	API_MEASUREMENTS, /* /api/v1/measurements */
	API_RAW,	  /* /api/v1/measurements/UID[/packets] */
	API_DOMAIN,	  /* /api/v1/domains/HOST */
	API_EXPORT,	  /* /api/v1/export */
	API_SETTINGS,	  /* /api/v1/settings */
};
/* Answer req for endpoint ep; rest: what follows a prefix endpoint's path
 * (UID[/packets], HOST; still URL-encoded), "" for the others. */
void api_serve(struct api *a, struct evhttp_request *req, enum api_endpoint ep,
	       const char *rest);
/* GET /api/v1/whoami: 200 {"ip", "asn", "cc", "network_name"} for the
 * peer of req, its network looked up in asn (may be NULL: asn and cc are
 * then null). The address is neither logged nor kept. */
#define API_WHOAMI_PATH "/api/v1/whoami"
void api_whoami(struct evhttp_request *req, const struct ww_asndb *asn);
/* One page of an export (jsonl: the raw measurements; csv: one row per
 * measurement) into out, after f->after_id, which it advances. Returns
 * rows written, 0 at the end, -1 on error. */
long export_page(struct store *st, struct store_filter *f, bool csv,
		 struct evbuffer *out);
const char *export_csv_header(void);
/* True when a spreadsheet would take CSV cell s (NUL-terminated; NULL is
 * empty) for a formula, so that the export writes it as '... in quotes
 * (docs/export.md, "Formulas"). */
bool csv_cell_is_formula(const char *s);
/* s (NULL: empty) as one CSV cell into b, then "," or, when last, CRLF:
 * quoted when it holds a comma, a quote or a line break, quotes doubled;
 * a formula as "'..." (quoted). */
void export_csv_cell(struct evbuffer *b, const char *s, bool last);

/* --- routes.c: every path the service answers ---------------------------- */
struct http_server;
struct router;
/* What the routes' handlers reach; NULL where the mode has none (in
 * --control-only: all but ctl, asn and srv). */
struct service {
	struct http_server *srv; /* /metrics: its connection counts */
	struct ctl_service *ctl;
	struct ingest *in;
	struct api *api;
	struct sub_registry *reg;
	const struct ww_asndb *asn;
	struct alerts *alerts; /* the feed, webhooks (alerts.h) */
};
/* r: the router of mode (enum route_mode, router.h) over the collector's
 * routes, their handlers reaching svc (kept). */
void routes_init(struct router *r, unsigned mode, struct service *svc);

#endif
