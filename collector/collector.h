/*
 * collector.h - wallwatch-collector's parts: the control service
 * (ctlserver.c), the ingest (ingest.c, ingest_prep.c), the read API and
 * exports (api.c), the web view (web.c) and the command line (main.c);
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

struct evhttp_request;

struct ctl_server_opts {
	int max_inflight; /* controls measured at once; more get 503 */
	double deadline;  /* seconds one control may take in all */
	/* The rest of the service: paths other than the control API go
	 * here (NULL: 404), with bodies up to max_body bytes (the control
	 * API itself still takes at most WW_CONTROL_MAX_REQUEST). */
	void (*fallback)(struct evhttp_request *req, void *arg);
	void *fallback_arg;
	size_t max_body;
	/* Client connections open at once (> 0); while at it, the service
	 * stops accepting and new ones wait in the kernel's backlog. */
	int max_conns;
	/* The edge (edge.h): seconds to receive a request's line and
	 * headers, the body's minimum rate (bytes/s, 0: none), connections
	 * per source address; 0: the defaults. */
	double header_timeout;
	double min_body_rate;
	int per_source;
};

/* evhttp's bound on a request's line and headers (bytes). */
#define CTL_MAX_HEADERS (16 * 1024)

/* buf as the body with code (for HEAD: its length, no body). */
struct evbuffer;
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
/* Before sending req's answer: over(arg) runs once, when it has been
 * written out or when its connection is gone first, so that a drain can
 * wait for answers to leave (it replaces the connection's close
 * callback). Use it rather than evhttp_request_set_on_complete_cb(): the
 * edge (edge.h) holds that callback, to start the next request's header
 * deadline once an answer is out. */
void reply_track(struct evhttp_request *req, void (*over)(void *), void *arg);

struct ctl_server;

/* Serve the control API on base, measuring with e (made with
 * ww_config.control_service). listen is "IP:PORT" or "[IPv6]:PORT". */
struct ctl_server *ctl_server_new(struct event_base *base, struct ww_engine *e,
				  const struct ctl_server_opts *o,
				  const char *listen, char *err, size_t errlen);

/* Split "IP:PORT" / "[IPv6]:PORT" (PORT 0: any free port); 0, or -1 when
 * it is not that. */
int ctl_listen_parse(const char *s, char *ip, size_t iplen,
		     unsigned short *port);

/* The address really listened on, "IP:PORT" or "[IPv6]:PORT" (the port
 * the kernel chose for --listen IP:0); 0, or -1 when not listening. */
int ctl_server_address(const struct ctl_server *s, char *buf, size_t len);

/* Stop accepting; done(arg) runs once no control is in flight (maybe
 * before this returns). */
void ctl_server_drain(struct ctl_server *s, void (*done)(void *), void *arg);

/* Abandon what is in flight and free everything. */
void ctl_server_free(struct ctl_server *s);

/* Prometheus text for the client connections: open now, the limit, and
 * the times accepting was paused at it. */
void ctl_server_metrics(const struct ctl_server *s, struct evbuffer *out);

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
/* Start its threads; answers go out on base's loop. 0, or -1 with a
 * message (the threads that did start are stopped by ingest_free). */
int ingest_start(struct ingest *in, struct event_base *base, char *err,
		 size_t errlen);
/* Refuse new POSTs (503); done(arg) runs once every POST taken has been
 * answered (maybe before this returns). */
void ingest_drain(struct ingest *in, void (*done)(void *), void *arg);
/* Stop the threads: after the HTTP server is freed (no connection may
 * still wait for an answer) and before base is. */
void ingest_stop(struct ingest *in);
void ingest_free(struct ingest *in);
/* Prometheus text for the ingest's counters. */
void ingest_metrics(struct ingest *in, struct evbuffer *out);
/* evhttp handler (ctl_server_opts.fallback) for the ingest paths. */
void ingest_handle(struct evhttp_request *req, void *arg);

/* --- api.c: the read API and exports ---------------------------------- */
struct api;
struct store_filter;
struct store_row;
struct api *api_new(struct store *st);
void api_free(struct api *a);
/* Answer GET/HEAD requests under /api/v1/ (true), or leave req (false). */
bool api_handle(struct api *a, struct evhttp_request *req, const char *path);
/* GET /api/v1/whoami: 200 {"ip", "asn", "cc", "network_name"} for the
 * peer of req, its network looked up in asn (may be NULL: asn and cc are
 * then null); 405 for methods other than GET and HEAD. The address is
 * neither logged nor kept. */
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

#endif
