/*
 * alerts_feed.c - the alerts as an Atom 1.0 feed (RFC 4287; GET /feed.atom)
 * and as JSON (GET /api/v1/alerts), both filtered like the overview
 * (?cc ?asn ?category ?state ?since ?until ?limit: api_query.h).
 *
 * Everything in them that came from outside (inputs and categories from
 * volunteers, the query itself in the self link) is XML-escaped
 * (alerts_xml.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "alerts_int.h"
#include "api_query.h"
#include "collector.h"
#include "store.h"
#include "util.h"

static void
iso(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* <name>text</name> on a line of its own. */
static void
elem(struct evbuffer *b, const char *indent, const char *name, const char *text)
{
	evbuffer_add_printf(b, "%s<%s>", indent, name);
	alerts_xml_escape(b, text);
	evbuffer_add_printf(b, "</%s>\n", name);
}

static void
atom_entry(struct evbuffer *b, const struct alert *a)
{
	char tag[320], up[32], pub[32];
	char *title = alert_title(a);

	alert_tag(a, tag, sizeof(tag));
	iso(a->last, up);
	iso(a->first, pub);
	evbuffer_add_printf(b, "  <entry>\n");
	elem(b, "    ", "id", tag);
	elem(b, "    ", "title", title);
	elem(b, "    ", "updated", up);
	elem(b, "    ", "published", pub);
	evbuffer_add_printf(b, "    <category term=\"%s\"/>\n",
			    a->dir == ALERT_ONSET ? "onset" : "end");
	/* the list of every target, one per line, as plain text */
	evbuffer_add_printf(b, "    <content type=\"text\">");
	alerts_xml_escape(b, title);
	evbuffer_add_printf(b, ":\n");
	for (size_t i = 0; i < a->n && i < ALERT_LISTED; i++) {
		const struct alert_target *t = &a->tg[i];
		char tt[32];

		iso(t->time, tt);
		evbuffer_add_printf(b, "- ");
		alerts_xml_escape(b, t->input);
		evbuffer_add_printf(b, " %s%s%s (%s)\n", t->state,
				    t->method ? " by " : "",
				    t->method ? t->method : "", tt);
	}
	if (a->n > ALERT_LISTED)
		evbuffer_add_printf(b, "- and %zu more\n", a->n - ALERT_LISTED);
	evbuffer_add_printf(b, "</content>\n  </entry>\n");
	free(title);
}

void
alerts_atom(struct evbuffer *b, const struct alert_list *l, size_t limit,
	    const char *self)
{
	size_t n = l->n < limit ? l->n : limit;
	int64_t updated = 0;
	char up[32];

	/* the feed changes when an entry does: its newest entry's time,
	 * not the clock, so that the same alerts are the same document */
	for (size_t i = 0; i < n; i++)
		if (l->v[i].last > updated)
			updated = l->v[i].last;
	iso(updated, up);
	evbuffer_add_printf(b,
			    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
			    "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
	elem(b, "  ", "title", "Wallwatch alerts");
	evbuffer_add_printf(b, "  <subtitle>Blocking that began or ended, one "
			       "entry per network and window</subtitle>\n");
	evbuffer_add_printf(b, "  <id>tag:wallwatch,2026:feed");
	alerts_xml_escape(b, self);
	evbuffer_add_printf(b, "</id>\n");
	evbuffer_add_printf(b, "  <link rel=\"self\" href=\"");
	alerts_xml_escape(b, self);
	evbuffer_add_printf(b, "\"/>\n");
	elem(b, "  ", "updated", up);
	evbuffer_add_printf(b, "  <author><name>wallwatch-collector</name>"
			       "</author>\n");
	evbuffer_add_printf(b,
			    "  <generator>wallwatch-collector %s"
			    "</generator>\n",
			    WW_VERSION);
	for (size_t i = 0; i < n; i++)
		atom_entry(b, &l->v[i]);
	evbuffer_add_printf(b, "</feed>\n");
}

/* --- answering ------------------------------------------------------------ */

#define FEED_PARAMS                                                            \
	(AQ_CC | AQ_ASN | AQ_CATEGORY | AQ_STATE | AQ_SINCE | AQ_UNTIL |       \
	 AQ_LIMIT)

/* FNV-1a over the body: the same alerts, the same tag. */
static void
etag_of(struct evbuffer *b, char out[24])
{
	size_t n = evbuffer_get_length(b);
	const unsigned char *p = evbuffer_pullup(b, -1);
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	snprintf(out, 24, "\"%016llx\"", (unsigned long long)h);
}

/* If-None-Match names etag (or is "*"): the client has it. */
static bool
not_modified(struct evhttp_request *req, const char *etag)
{
	const char *inm = evhttp_find_header(
		evhttp_request_get_input_headers(req), "If-None-Match");

	return inm != NULL &&
	       (strstr(inm, etag) != NULL || strcmp(inm, "*") == 0);
}

static void
reply_bad(struct evhttp_request *req, const struct api_query *q,
	  const char *err)
{
	json_t *o =
		json_pack("{s:s,s:s}", "error", err, "parameter", q->err_param);

	reply_json(req, 400, "Bad Request", o);
	json_decref(o);
}

static void
send_feed(struct evhttp_request *req, const struct alert_list *l, size_t limit)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *self = evhttp_request_get_uri(req);
	char etag[24];

	alerts_atom(b, l, limit, self);
	etag_of(b, etag);
	evhttp_add_header(h, "ETag", etag);
	evhttp_add_header(h, "Cache-Control", "no-cache");
	if (not_modified(req, etag)) {
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		evbuffer_free(b);
		return;
	}
	evhttp_add_header(h, "Content-Type",
			  "application/atom+xml; charset=utf-8");
	reply_buffer(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
send_json(struct evhttp_request *req, const struct alert_list *l, size_t limit,
	  int64_t window)
{
	json_t *arr = json_array(), *o;

	for (size_t i = 0; i < l->n && i < limit; i++)
		json_array_append_new(arr, alert_json(&l->v[i]));
	o = json_pack("{s:o,s:I}", "alerts", arr, "window_seconds",
		      (json_int_t)window);
	reply_json(req, 200, "OK", o);
	json_decref(o);
}

void
alerts_feed_serve(struct alerts *a, struct evhttp_request *req, bool atom)
{
	const char *query =
		evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct alert_list l = {NULL, 0, 0};
	struct api_query q;
	struct store_filter f;
	char err[512];
	size_t limit;
	int rc;

	if (api_query_parse(query, FEED_PARAMS, &q, err, sizeof(err)) != 0) {
		reply_bad(req, &q, err);
		api_query_clear(&q);
		return;
	}
	f = q.f;
	/* the 30 days before until, or before now */
	if (f.since == 0)
		f.since = (f.until != 0 ? f.until : (int64_t)time(NULL)) -
			  ALERTS_FEED_DAYS * 86400;
	limit = f.limit > 0 ? (size_t)f.limit : ALERTS_FEED_LIMIT;
	rc = alerts_read(alerts_store(a), &f, alerts_window(a),
			 ALERTS_MAX_EVENTS, &l, err, sizeof(err));
	if (rc == -2)
		reply_error(req, 400, "Bad Request", err);
	else if (rc != 0)
		reply_error(req, 500, "Internal Server Error", err);
	else if (atom)
		send_feed(req, &l, limit);
	else
		send_json(req, &l, limit, alerts_window(a));
	alert_list_clear(&l);
	api_query_clear(&q);
}
