/*
 * alerts_hook.c - the alerts service (docs/alerts.md): its options, the
 * scan that finds alerts whose window is over, the claim in the database
 * that makes one collector of several send each, and the webhooks: a
 * signed JSON POST per alert and URL over libcurl's multi interface on the
 * collector's loop (io_curl.h, as the engine and the probe's uploader),
 * retried with exponential backoff, every attempt in a delivery log.
 *
 * Nothing here blocks the ingest: its threads store and answer on their
 * own; this runs on the loop, between requests, with the loop's store
 * handle (a read of a day of events, and a claim when an alert is due).
 */
#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "alerts_int.h"
#include "collector.h"
#include "io_curl.h"
#include "ratelog.h"
#include "store.h"
#include "util.h"

/* The scan's reach back: windows older than this are never sent (a
 * collector started on an old database does not send its history). */
#define SCAN_HORIZON 86400
/* A full scan at least this often, though no new event was seen: an
 * event whose id was given before another's but committed after it
 * (PostgreSQL's sequences) is found this way. */
#define SCAN_EVERY 60
#define TICK_MS 1000
/* Deliveries waiting or in flight at once; more are dropped, counted. */
#define MAX_PENDING 4096
/* One attempt's bound, connecting included. */
#define ATTEMPT_TIMEOUT_MS 15000L
/* The claim of "this database's first scan" (see scan()). */
#define BASELINE_KEY "-/baseline"

struct delivery {
	TAILQ_ENTRY(delivery) q;
	struct alerts *a;
	int hook;      /* index into the webhooks */
	char key[256]; /* the alert's identity */
	json_t *alert; /* alert_json() */
	int attempt;   /* 1 for the first */
	struct event *timer;
	CURL *easy;
	struct curl_slist *hdrs;
	char *body;
	char errbuf[CURL_ERROR_SIZE];
};
TAILQ_HEAD(delivery_q, delivery);

struct logrec {
	int64_t time;
	int hook;
	char key[256];
	int attempt;
	long status;	 /* HTTP status, 0: none (a transport error) */
	char result[24]; /* "delivered", "retrying", "given up" */
	char error[128];
};

struct done {
	char *key;
	int64_t window_start;
};

struct alerts {
	struct store *st;
	const struct alerts_opts *o;
	unsigned char *secret;
	size_t secret_len;
	char who[96]; /* host:pid, kept with a claim */
	char origin[ALERT_MAX_WEBHOOKS][160];
	struct event_base *base;
	struct io_curl *io;
	struct event *tick;
	int64_t last_event_id, last_scan, next_due;
	/* the baseline claim was looked at; this database's first scan
	 * (claiming without sending) is not over yet; a claim failed in the
	 * scan under way */
	bool baseline_checked, in_baseline, claim_failed;
	struct done *done;
	size_t n_done, cap_done;
	struct delivery_q pending;
	size_t n_pending;
	struct logrec log[ALERTS_LOG_N];
	size_t log_next, log_n;
	uint64_t sent[2], elsewhere, baseline, attempts_ok, attempts_failed,
		delivered, given_up, dropped, scan_errors;
	/* a database that fails every second is logged once a minute */
	struct ratelog errlog;
};

/* --- options ------------------------------------------------------------- */

void
alerts_opts_init(struct alerts_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->window = ALERT_WINDOW_DEFAULT;
	o->settle = ALERT_SETTLE_DEFAULT;
	o->backoff = WEBHOOK_BACKOFF_DEFAULT;
	o->retries = WEBHOOK_RETRIES_DEFAULT;
}

static int
opt_webhook(struct alerts_opts *o, const char *arg)
{
	if (o->n_webhooks == ALERT_MAX_WEBHOOKS) {
		ww_usage_error("at most %d --webhook", ALERT_MAX_WEBHOOKS);
		return -1;
	}
	if (strncmp(arg, "http://", 7) != 0 &&
	    strncmp(arg, "https://", 8) != 0) {
		ww_usage_error("bad --webhook \"%s\": want an http:// or "
			       "https:// URL",
			       arg);
		return -1;
	}
	o->webhooks[o->n_webhooks++] = arg;
	return 0;
}

int
alerts_opt(struct alerts_opts *o, const char *name, const char *arg)
{
	long v;

	o->given = true;
	if (strcmp(name, "webhook") == 0)
		return opt_webhook(o, arg);
	if (strcmp(name, "webhook-secret") == 0) {
		o->secret_file = arg;
		return 0;
	}
	if (strcmp(name, "webhook-backoff") == 0) {
		if (ww_parse_seconds(arg, 0.01, 3600, &o->backoff) != 0) {
			ww_usage_error("bad --webhook-backoff \"%s\": want "
				       "seconds from 0.01 to 3600",
				       arg);
			return -1;
		}
		return 0;
	}
	if (strcmp(name, "webhook-retries") == 0) {
		if (ww_opt_long("webhook-retries", arg, 0, 30, &v) != 0)
			return -1;
		o->retries = v;
		return 0;
	}
	if (strcmp(name, "alert-settle") == 0) {
		if (ww_opt_long("alert-settle", arg, 0, 86400, &v) != 0)
			return -1;
		o->settle = v;
		return 0;
	}
	/* alert-window: windows tile the UTC day, so that every collector
	 * cuts them at the same times */
	if (ww_parse_long(arg, 60, 86400, &v) != 0 || 86400 % v != 0) {
		ww_usage_error("bad --alert-window \"%s\": want seconds from "
			       "60 to 86400 that divide a day (60, 300, 900, "
			       "3600, ...)",
			       arg);
		return -1;
	}
	o->window = v;
	return 0;
}

int
alerts_opts_check(const struct alerts_opts *o)
{
	if (o->n_webhooks > 0 && o->secret_file == NULL) {
		ww_usage_error("%s", "--webhook needs --webhook-secret FILE: "
				     "every delivery is signed");
		return -1;
	}
	if (o->n_webhooks == 0 && o->secret_file != NULL) {
		ww_usage_error("%s", "--webhook-secret without --webhook");
		return -1;
	}
	return 0;
}

/* --- small parts --------------------------------------------------------- */

void
alerts_hmac_hex(const void *key, size_t klen, const void *body, size_t len,
		char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (HMAC(EVP_sha256(), key, (int)klen, body, len, md, &mdlen) == NULL ||
	    mdlen != 32)
		abort();
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

void
alerts_url_origin(const char *url, char *buf, size_t len)
{
	const char *p = strstr(url, "://"), *host, *end, *at;

	if (p == NULL) {
		snprintf(buf, len, "(not a URL)");
		return;
	}
	host = p + 3;
	end = host + strcspn(host, "/?#");
	/* user:password@ goes: the last @ before the path ends it */
	for (at = host; at < end; at++)
		if (*at == '@')
			host = at + 1;
	snprintf(buf, len, "%.*s://%.*s", (int)(p - url), url,
		 (int)(end - host), host);
}

/* The secret: the file's bytes less a final line break. */
static int
read_secret(struct alerts *a, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	unsigned char buf[WEBHOOK_SECRET_MAX + 2];
	size_t n;

	if (f == NULL)
		return ww_fail(err, errlen, "--webhook-secret %s: %s", path,
			       strerror(errno));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n < WEBHOOK_SECRET_MIN || n > WEBHOOK_SECRET_MAX)
		return ww_fail(err, errlen,
			       "--webhook-secret %s: want %d to %d bytes "
			       "(e.g. openssl rand -hex 32), not %zu",
			       path, WEBHOOK_SECRET_MIN, WEBHOOK_SECRET_MAX, n);
	a->secret = xmalloc(n);
	memcpy(a->secret, buf, n);
	a->secret_len = n;
	return 0;
}

struct store *
alerts_store(struct alerts *a)
{
	return a->st;
}

int64_t
alerts_window(struct alerts *a)
{
	return a->o->window;
}

/* --- the delivery log ---------------------------------------------------- */

static void
log_attempt(struct alerts *a, const struct delivery *d, long status,
	    const char *result, const char *error)
{
	struct logrec *r = &a->log[a->log_next];

	memset(r, 0, sizeof(*r));
	r->time = (int64_t)time(NULL);
	r->hook = d->hook;
	snprintf(r->key, sizeof(r->key), "%s", d->key);
	r->attempt = d->attempt;
	r->status = status;
	snprintf(r->result, sizeof(r->result), "%s", result);
	snprintf(r->error, sizeof(r->error), "%s", error ? error : "");
	a->log_next = (a->log_next + 1) % ALERTS_LOG_N;
	if (a->log_n < ALERTS_LOG_N)
		a->log_n++;
}

json_t *
alerts_deliveries_json(struct alerts *a)
{
	json_t *hooks = json_array(), *log = json_array(), *o;

	for (int i = 0; i < a->o->n_webhooks; i++)
		json_array_append_new(hooks,
				      json_pack("{s:i,s:s}", "webhook", i + 1,
						"origin", a->origin[i]));
	/* newest first */
	for (size_t k = 0; k < a->log_n; k++) {
		size_t i = (a->log_next + ALERTS_LOG_N - 1 - k) % ALERTS_LOG_N;
		const struct logrec *r = &a->log[i];

		json_array_append_new(
			log,
			json_pack("{s:o,s:i,s:s,s:s,s:i,s:I,s:s,s:s}", "time",
				  api_json_time(r->time), "webhook",
				  r->hook + 1, "origin", a->origin[r->hook],
				  "alert", r->key, "attempt", r->attempt,
				  "status", (json_int_t)r->status, "result",
				  r->result, "error", r->error));
	}
	o = json_pack(
		"{s:o,s:I,s:I,s:f,s:I,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
		"s:I},s:o}",
		"webhooks", hooks, "window_seconds", (json_int_t)a->o->window,
		"settle_seconds", (json_int_t)a->o->settle, "backoff_seconds",
		a->o->backoff, "retries", (json_int_t)a->o->retries, "pending",
		(json_int_t)a->n_pending, "counters", "onset_alerts",
		(json_int_t)a->sent[ALERT_ONSET], "end_alerts",
		(json_int_t)a->sent[ALERT_END], "claimed_elsewhere",
		(json_int_t)a->elsewhere, "attempts_ok",
		(json_int_t)a->attempts_ok, "attempts_failed",
		(json_int_t)a->attempts_failed, "delivered",
		(json_int_t)a->delivered, "given_up", (json_int_t)a->given_up,
		"dropped", (json_int_t)a->dropped, "scan_errors",
		(json_int_t)a->scan_errors, "log", log);
	if (o == NULL)
		abort();
	return o;
}

void
alerts_metrics(struct alerts *a, struct evbuffer *out)
{
	evbuffer_add_printf(
		out,
		"# HELP wallwatch_alerts_total Alerts this collector claimed "
		"and sent to its webhooks.\n"
		"# TYPE wallwatch_alerts_total counter\n"
		"wallwatch_alerts_total{direction=\"onset\"} %llu\n"
		"wallwatch_alerts_total{direction=\"end\"} %llu\n"
		"# HELP wallwatch_alerts_claimed_elsewhere_total Due alerts "
		"another collector (or an earlier run) had claimed.\n"
		"# TYPE wallwatch_alerts_claimed_elsewhere_total counter\n"
		"wallwatch_alerts_claimed_elsewhere_total %llu\n"
		"# HELP wallwatch_webhook_attempts_total POSTs to webhooks, "
		"by outcome (ok: a 2xx answer).\n"
		"# TYPE wallwatch_webhook_attempts_total counter\n"
		"wallwatch_webhook_attempts_total{result=\"ok\"} %llu\n"
		"wallwatch_webhook_attempts_total{result=\"failed\"} %llu\n"
		"# HELP wallwatch_webhook_deliveries_total Deliveries ended, "
		"by outcome.\n"
		"# TYPE wallwatch_webhook_deliveries_total counter\n"
		"wallwatch_webhook_deliveries_total{result=\"delivered\"} "
		"%llu\n"
		"wallwatch_webhook_deliveries_total{result=\"given_up\"} %llu\n"
		"wallwatch_webhook_deliveries_total{result=\"dropped\"} %llu\n"
		"# HELP wallwatch_webhook_pending Deliveries waiting or in "
		"flight.\n"
		"# TYPE wallwatch_webhook_pending gauge\n"
		"wallwatch_webhook_pending %zu\n",
		(unsigned long long)a->sent[ALERT_ONSET],
		(unsigned long long)a->sent[ALERT_END],
		(unsigned long long)a->elsewhere,
		(unsigned long long)a->attempts_ok,
		(unsigned long long)a->attempts_failed,
		(unsigned long long)a->delivered,
		(unsigned long long)a->given_up, (unsigned long long)a->dropped,
		a->n_pending);
}

/* --- deliveries ----------------------------------------------------------- */

static void attempt_start(evutil_socket_t fd, short what, void *arg);

static void
delivery_free(struct delivery *d)
{
	struct alerts *a = d->a;

	if (d->easy != NULL) {
		io_curl_remove(a->io, d->easy);
		curl_easy_cleanup(d->easy);
	}
	curl_slist_free_all(d->hdrs);
	free(d->body);
	event_free(d->timer);
	json_decref(d->alert);
	TAILQ_REMOVE(&a->pending, d, q);
	a->n_pending--;
	free(d);
}

static size_t
discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n; /* the receiver's answer is not read */
}

/* The delay before attempt k + 1 (k >= 1): backoff, doubled each time. */
static double
backoff_for(const struct alerts_opts *o, int k)
{
	double s = o->backoff;

	for (int i = 1; i < k && s < WEBHOOK_BACKOFF_MAX; i++)
		s *= 2;
	return s < WEBHOOK_BACKOFF_MAX ? s : WEBHOOK_BACKOFF_MAX;
}

static void
attempt_done(CURL *easy, CURLcode res, void *arg)
{
	struct delivery *d = arg;
	struct alerts *a = d->a;
	long status = 0;
	char err[128];
	struct timeval tv;
	double s;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(easy);
	d->easy = NULL;
	curl_slist_free_all(d->hdrs);
	d->hdrs = NULL;
	free(d->body);
	d->body = NULL;
	if (res == CURLE_OK && status >= 200 && status < 300) {
		a->attempts_ok++;
		a->delivered++;
		log_attempt(a, d, status, "delivered", NULL);
		log_info("alerts", "%s: webhook %d (%s) took it, attempt %d",
			 d->key, d->hook + 1, a->origin[d->hook], d->attempt);
		delivery_free(d);
		return;
	}
	a->attempts_failed++;
	if (res != CURLE_OK)
		snprintf(err, sizeof(err), "%s", curl_easy_strerror(res));
	else
		snprintf(err, sizeof(err), "HTTP %ld", status);
	if (d->attempt > a->o->retries) {
		a->given_up++;
		log_attempt(a, d, status, "given up", err);
		log_warn("alerts",
			 "%s: webhook %d (%s): %s; given up after %d "
			 "attempts",
			 d->key, d->hook + 1, a->origin[d->hook], err,
			 d->attempt);
		delivery_free(d);
		return;
	}
	log_attempt(a, d, status, "retrying", err);
	s = backoff_for(a->o, d->attempt);
	log_warn("alerts", "%s: webhook %d (%s): %s; attempt %d in %.2f s",
		 d->key, d->hook + 1, a->origin[d->hook], err, d->attempt + 1,
		 s);
	d->attempt++;
	tv.tv_sec = (time_t)s;
	tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
	evtimer_add(d->timer, &tv);
}

/* The body: the alert with the time of this attempt ("sent_at", also in
 * the X-Wallwatch-Timestamp header) and its number; the signature covers
 * the body, and so the time: a receiver refuses a stale or replayed one. */
static void
attempt_start(evutil_socket_t fd, short what, void *arg)
{
	struct delivery *d = arg;
	struct alerts *a = d->a;
	json_t *o = json_deep_copy(d->alert);
	int64_t now = (int64_t)time(NULL);
	char hex[65], *h;
	CURL *c;

	(void)fd;
	(void)what;
	json_object_set_new(o, "sent_at", json_integer(now));
	json_object_set_new(o, "attempt", json_integer(d->attempt));
	d->body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (d->body == NULL || (c = curl_easy_init()) == NULL)
		abort();
	alerts_hmac_hex(a->secret, a->secret_len, d->body, strlen(d->body),
			hex);
	d->hdrs = curl_slist_append(d->hdrs, "Content-Type: application/json");
	d->hdrs = curl_slist_append(d->hdrs, "Expect:");
	h = xasprintf("X-Wallwatch-Signature: sha256=%s", hex);
	d->hdrs = curl_slist_append(d->hdrs, h);
	free(h);
	h = xasprintf("X-Wallwatch-Timestamp: %lld", (long long)now);
	d->hdrs = curl_slist_append(d->hdrs, h);
	free(h);
	h = xasprintf("X-Wallwatch-Alert: %s", d->key);
	d->hdrs = curl_slist_append(d->hdrs, h);
	free(h);
	d->easy = c;
	d->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, a->o->webhooks[d->hook]);
	curl_easy_setopt(c, CURLOPT_USERAGENT,
			 "wallwatch-collector/" WW_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, d->errbuf);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, d->hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(d->body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ATTEMPT_TIMEOUT_MS);
	io_curl_add(a->io, c, attempt_done, d);
}

static void
deliver(struct alerts *a, const char *key, const json_t *alert)
{
	for (int i = 0; i < a->o->n_webhooks; i++) {
		struct delivery *d;

		if (a->n_pending >= MAX_PENDING) {
			a->dropped++;
			log_warn("alerts",
				 "%s: webhook %d: %d deliveries pending "
				 "already; dropped",
				 key, i + 1, MAX_PENDING);
			continue;
		}
		d = xcalloc(1, sizeof(*d));
		d->a = a;
		d->hook = i;
		snprintf(d->key, sizeof(d->key), "%s", key);
		d->alert = json_deep_copy(alert);
		d->attempt = 1;
		d->timer = evtimer_new(a->base, attempt_start, d);
		TAILQ_INSERT_TAIL(&a->pending, d, q);
		a->n_pending++;
		event_active(d->timer, EV_TIMEOUT, 0);
	}
}

/* --- finding due alerts -------------------------------------------------- */

static bool
is_done(const struct alerts *a, const char *key)
{
	for (size_t i = 0; i < a->n_done; i++)
		if (strcmp(a->done[i].key, key) == 0)
			return true;
	return false;
}

static void
mark_done(struct alerts *a, const char *key, int64_t ws)
{
	if (a->n_done == a->cap_done) {
		a->cap_done = a->cap_done ? 2 * a->cap_done : 64;
		a->done = xrealloc(a->done, a->cap_done * sizeof(*a->done));
	}
	a->done[a->n_done].key = xstrdup(key);
	a->done[a->n_done++].window_start = ws;
}

/* Forget the keys of windows the scan no longer reaches. */
static void
prune_done(struct alerts *a, int64_t since)
{
	size_t k = 0;

	for (size_t i = 0; i < a->n_done; i++) {
		if (a->done[i].window_start < since)
			free(a->done[i].key);
		else
			a->done[k++] = a->done[i];
	}
	a->n_done = k;
}

/* An alert whose window (and settle time) is over: claimed, then sent. In
 * the database's first scan (baseline) it is claimed but not sent: the
 * alerts of the day before webhooks were configured are history. */
static void
take(struct alerts *a, const struct alert *al, int64_t now)
{
	char key[256], err[512];
	int rc;
	json_t *o;

	alert_key(al, key, sizeof(key));
	if (is_done(a, key))
		return;
	rc = store_alert_claim(a->st, key, a->who, now, err, sizeof(err));
	if (rc < 0) {
		a->scan_errors++;
		a->claim_failed = true;
		/* not marked done: tried again at the next scan */
		ratelog(&a->errlog, WW_LOG_WARN, "alerts", "%s", err);
		return;
	}
	mark_done(a, key, al->window_start);
	if (rc == 0) {
		a->elsewhere++;
		return;
	}
	if (a->in_baseline) {
		a->baseline++;
		return;
	}
	a->sent[al->dir]++;
	o = alert_json(al);
	log_info("alerts", "%s: %s", key,
		 json_string_value(json_object_get(o, "title")));
	deliver(a, key, o);
	json_decref(o);
}

static void
scan(struct alerts *a, int64_t now)
{
	struct alert_list l = {NULL, 0, 0};
	struct store_filter f;
	int64_t horizon = SCAN_HORIZON > 2 * a->o->window + a->o->settle
				  ? SCAN_HORIZON
				  : 2 * a->o->window + a->o->settle;
	char err[512];

	memset(&f, 0, sizeof(f));
	f.since = now - horizon;
	a->last_scan = now;
	a->next_due = 0;
	a->claim_failed = false;
	if (!a->baseline_checked) {
		int rc = store_alert_claim(a->st, BASELINE_KEY, a->who, now,
					   err, sizeof(err));

		if (rc < 0) {
			a->scan_errors++;
			ratelog(&a->errlog, WW_LOG_WARN, "alerts", "%s", err);
			return;
		}
		/* rc 1: the first scan of this database: what is due now
		 * is claimed without being sent, until a scan has claimed
		 * all of it */
		a->baseline_checked = true;
		a->in_baseline = rc == 1;
	}
	if (alerts_read(a->st, &f, a->o->window, ALERTS_MAX_EVENTS, &l, err,
			sizeof(err)) != 0) {
		a->scan_errors++;
		ratelog(&a->errlog, WW_LOG_WARN, "alerts", "%s", err);
		alert_list_clear(&l);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct alert *al = &l.v[i];
		int64_t due = al->window_start + al->window_len + a->o->settle;

		if (due <= now)
			take(a, al, now);
		else if (a->next_due == 0 || due < a->next_due)
			a->next_due = due;
	}
	if (a->in_baseline && !a->claim_failed) {
		log_info("alerts",
			 "first scan of this database: %llu alerts of the "
			 "last %lld s claimed as history, not sent",
			 (unsigned long long)a->baseline, (long long)horizon);
		a->in_baseline = false;
	}
	prune_done(a, now - horizon - a->o->window);
	alert_list_clear(&l);
}

struct newest {
	int64_t id;
	long n;
};

static int
newest_cb(const struct store_event *e, void *arg)
{
	struct newest *nw = arg;

	nw->id = e->id;
	nw->n++;
	return 0;
}

/* Each second: new events (by id) since the last look, or a window now
 * due, or a minute since the last scan: scan. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct alerts *a = arg;
	int64_t now = (int64_t)time(NULL);
	struct store_filter f;
	struct newest nw = {a->last_event_id, 0};
	long before;
	char err[512];
	int rc;

	(void)fd;
	(void)what;
	memset(&f, 0, sizeof(f));
	f.limit = STORE_LIMIT_MAX;
	do {
		before = nw.n;
		f.after_id = nw.id;
		rc = store_events(a->st, &f, newest_cb, &nw, err, sizeof(err));
	} while (rc == 0 && nw.n - before == STORE_LIMIT_MAX);
	if (rc != 0) {
		a->scan_errors++;
		ratelog(&a->errlog, WW_LOG_WARN, "alerts", "%s", err);
	}
	a->last_event_id = nw.id;
	if (nw.n > 0 || (a->next_due != 0 && now >= a->next_due) ||
	    now - a->last_scan >= SCAN_EVERY || !a->baseline_checked ||
	    a->in_baseline)
		scan(a, now);
}

/* --- the service ---------------------------------------------------------- */

struct alerts *
alerts_new(struct store *st, const struct alerts_opts *o, char *err,
	   size_t errlen)
{
	struct alerts *a = xcalloc(1, sizeof(*a));
	char host[64];

	a->st = st;
	a->o = o;
	a->errlog = (struct ratelog)RATELOG_INIT(60);
	TAILQ_INIT(&a->pending);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	snprintf(a->who, sizeof(a->who), "%s:%ld", host, (long)getpid());
	for (int i = 0; i < o->n_webhooks; i++)
		alerts_url_origin(o->webhooks[i], a->origin[i],
				  sizeof(a->origin[i]));
	if (o->secret_file != NULL &&
	    read_secret(a, o->secret_file, err, errlen) != 0) {
		alerts_free(a);
		return NULL;
	}
	return a;
}

int
alerts_start(struct alerts *a, struct event_base *base, char *err,
	     size_t errlen)
{
	struct timeval tv = {TICK_MS / 1000, (TICK_MS % 1000) * 1000};

	if (a->o->n_webhooks == 0)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return ww_fail(err, errlen, "alerts: libcurl did not start");
	a->base = base;
	a->io = io_curl_new(base);
	a->tick = event_new(base, -1, EV_PERSIST, on_tick, a);
	evtimer_add(a->tick, &tv);
	event_active(a->tick, EV_TIMEOUT, 0);
	for (int i = 0; i < a->o->n_webhooks; i++)
		log_info("alerts",
			 "webhook %d: %s (signed; %ld retries from %.2f s, "
			 "doubling); windows of %ld s, sent %ld s after",
			 i + 1, a->origin[i], a->o->retries, a->o->backoff,
			 a->o->window, a->o->settle);
	return 0;
}

void
alerts_free(struct alerts *a)
{
	if (a == NULL)
		return;
	if (a->n_pending > 0)
		log_warn("alerts", "stopping with %zu deliveries pending",
			 a->n_pending);
	while (!TAILQ_EMPTY(&a->pending))
		delivery_free(TAILQ_FIRST(&a->pending));
	if (a->tick != NULL)
		event_free(a->tick);
	io_curl_free(a->io);
	if (a->io != NULL)
		curl_global_cleanup();
	prune_done(a, INT64_MAX);
	free(a->done);
	if (a->secret != NULL)
		memset(a->secret, 0, a->secret_len);
	free(a->secret);
	free(a);
}

void
alerts_serve(struct alerts *a, struct evhttp_request *req,
	     enum alerts_endpoint ep)
{
	json_t *o;

	if (ep != ALERTS_DELIVERIES) {
		alerts_feed_serve(a, req, ep == ALERTS_FEED);
		return;
	}
	o = alerts_deliveries_json(a);
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Cache-Control", "no-store");
	reply_json(req, 200, "OK", o);
	json_decref(o);
}
