/*
 * alerts.h - alerts of state changes (docs/alerts.md): the events of the
 * timelines (docs/timelines.md, section 4) grouped into one alert per
 * network, direction and window (alerts_group.c), served as an Atom feed
 * and as JSON (alerts_feed.c), and sent to webhooks, signed and retried,
 * with a delivery log (alerts_hook.c).
 *
 * An alert is computed from the events table whenever it is asked for, so
 * that a feed and every collector on one database agree on it: its
 * identity is (cc, asn, direction, window start, window length), never a
 * counter of this process.
 */
#ifndef WW_ALERTS_H
#define WW_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct evbuffer;
struct event_base;
struct evhttp_request;
struct store;
struct store_event;

/* --- options ------------------------------------------------------------- */

#define ALERT_WINDOW_DEFAULT 3600 /* seconds of event time per alert */
#define ALERT_SETTLE_DEFAULT 300  /* seconds after a window before sending */
#define ALERT_MAX_WEBHOOKS 16
#define WEBHOOK_BACKOFF_DEFAULT 10.0 /* seconds before the first retry */
#define WEBHOOK_RETRIES_DEFAULT 8    /* retries after the first attempt */
#define WEBHOOK_BACKOFF_MAX 3600.0   /* a retry waits at most this long */
#define WEBHOOK_SECRET_MIN 16	     /* bytes of the shared secret */
#define WEBHOOK_SECRET_MAX 4096

struct alerts_opts {
	long window; /* 60 .. 86400, dividing a day */
	long settle; /* 0 .. 86400 */
	const char *webhooks[ALERT_MAX_WEBHOOKS];
	int n_webhooks;
	const char *secret_file;
	double backoff; /* 0.01 .. 3600 */
	long retries;	/* 0 .. 30 */
	bool given;	/* any alert option was given (for usage checks) */
};

void alerts_opts_init(struct alerts_opts *o);
/* One option by its long name ("webhook", "webhook-secret",
 * "webhook-backoff", "webhook-retries", "alert-window", "alert-settle")
 * and argument: 0, or -1 after printing a usage error. */
int alerts_opt(struct alerts_opts *o, const char *name, const char *arg);
/* After all options: a webhook without a secret (or a secret without a
 * webhook) is a usage error: -1 after printing it. */
int alerts_opts_check(const struct alerts_opts *o);

/* --- grouping (alerts_group.c) ------------------------------------------- */

enum alert_dir {
	ALERT_ONSET = 0, /* into blocked or disrupted */
	ALERT_END = 1,	 /* from blocked or disrupted back to accessible */
};

/* Targets an alert's text names; the rest are "and N more". */
#define ALERT_NAMED 10
/* Targets an alert's JSON and feed entry list (a body stays under a few
 * hundred KiB however large the burst); all are counted. */
#define ALERT_LISTED 1000

struct alert_target {
	char *input;
	char *state;  /* onset: "blocked" or "disrupted"; end: "accessible" */
	char *method; /* of blocked; NULL otherwise */
	int64_t time; /* of the target's last event in the window */
};

struct alert {
	char *cc, *asn;
	enum alert_dir dir;
	int64_t window_start, window_len;
	int64_t first, last;	 /* event times: the earliest and latest */
	int64_t last_event_id;	 /* the newest event in it */
	struct alert_target *tg; /* by input */
	size_t n;
};

struct alert_list {
	struct alert *v; /* newest window first, then cc, asn, direction */
	size_t n, cap;
};

/* The grouping of events into alerts, fed one event at a time in any
 * order. */
struct alert_grouper;
struct alert_grouper *alert_grouper_new(int64_t window_len);
/* Take e (copied). Events that are no onset or end still count: a target's
 * net change over a window is from its first event's from_state to its last
 * event's to_state. */
void alert_grouper_add(struct alert_grouper *g, const struct store_event *e);
/* The alerts of everything added, into out (appended; then sorted).
 * state (NULL: all): only the targets whose new state is state. */
void alert_grouper_finish(struct alert_grouper *g, const char *state,
			  struct alert_list *out);
void alert_grouper_free(struct alert_grouper *g);
void alert_list_clear(struct alert_list *l);

/* Is state one of those an onset goes into (blocked, disrupted)? */
bool alert_state_blocking(const char *state);

/* The alert's identity, "CC/ASN/onset/START/LEN" (into buf) and its Atom
 * id, "tag:wallwatch,2026:alert/CC/ASN/onset/START/LEN". */
void alert_key(const struct alert *a, char *buf, size_t len);
void alert_tag(const struct alert *a, char *buf, size_t len);
/* "37 targets blocked in CN · AS4134 since 2026-12-06 14:00 UTC" (the
 * caller frees). */
char *alert_title(const struct alert *a);
/* The alert as JSON (a new reference): id, key, direction, cc, asn,
 * window, since, until, title, text, n_targets, targets ([{input, state,
 * method, time}], the first ALERT_LISTED), targets_not_listed (the rest),
 * methods ({method: count}, of all). */
json_t *alert_json(const struct alert *a);

/* Read the events matching f's cc, asn and category whose time is in
 * [since, until) (until 0: no end) and group them (window_len) into out,
 * state as alert_grouper_finish(). At most max_events events are read;
 * more: -2 with a message saying which filters narrow it. 0, or -1 with a
 * message (the store's). */
struct store_filter;
int alerts_read(struct store *st, const struct store_filter *f,
		int64_t window_len, long max_events, struct alert_list *out,
		char *err, size_t errlen);

/* --- the Atom feed and the JSON list (alerts_feed.c) --------------------- */

/* s (NULL: nothing) XML-escaped into b: & < > " ' as entities; control
 * characters that XML 1.0 does not allow, and bytes that are not UTF-8,
 * as U+FFFD. */
void alerts_xml_escape(struct evbuffer *b, const char *s);
/* The Atom 1.0 document of alerts l (the first limit of them) into b;
 * self: the feed's own path and query (escaped here). */
void alerts_atom(struct evbuffer *b, const struct alert_list *l, size_t limit,
		 const char *self);

/* --- the service (alerts_hook.c) ----------------------------------------- */

struct alerts;
/* The alerts of store st (the loop's handle, kept) with options o (kept:
 * its strings must outlive it). Webhooks need alerts_start(). NULL with a
 * message (an unreadable or short secret). */
struct alerts *alerts_new(struct store *st, const struct alerts_opts *o,
			  char *err, size_t errlen);
/* Send alerts to the webhooks from base's loop (a timer looks for new
 * events each second). Nothing without webhooks. 0, or -1 with a
 * message. */
int alerts_start(struct alerts *a, struct event_base *base, char *err,
		 size_t errlen);
/* Deliveries in flight are abandoned (logged); before base is freed. */
void alerts_free(struct alerts *a);

/* GET /feed.atom, GET /api/v1/alerts, GET /api/v1/alerts/deliveries. */
enum alerts_endpoint { ALERTS_FEED, ALERTS_JSON, ALERTS_DELIVERIES };
void alerts_serve(struct alerts *a, struct evhttp_request *req,
		  enum alerts_endpoint ep);
/* Prometheus text of the alerts and deliveries. */
void alerts_metrics(struct alerts *a, struct evbuffer *out);

/* HMAC-SHA256 of body (len bytes) with key (klen bytes), as 64 lowercase
 * hex digits and a NUL into hex. */
void alerts_hmac_hex(const void *key, size_t klen, const void *body, size_t len,
		     char hex[65]);
/* url without what may be a credential, for logs and the status page:
 * "scheme://host[:port]" (no user, password, path or query). */
void alerts_url_origin(const char *url, char *buf, size_t len);

#endif
