/*
 * web.c - the web view: the pages and their files, all embedded in the
 * binary (collector/web/, turned into web_assets[] by tools/embed-web.sh),
 * so that the view works offline and needs nothing installed beside the
 * collector. The pages are one HTML shell whose script (app.js) renders
 * the overview, a target or a domain from the read API (api.c), by the
 * page's path:
 *
 *   /, /index.html        the overview table (?cc ?asn ?category ?state)
 *   /target               one target (?input, optional ?cc ?asn ?days)
 *   /domain               one domain (?host)
 *   /static/NAME          the embedded files
 *
 * The router (routes.c) sends GET and HEAD of these paths here. Nothing of
 * a request reaches a file system: a path is looked up in the table, and
 * one not in it is 404.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "collector.h"
#include "web.h"

#define SHELL "/static/index.html"

/* The script and styles come from this origin only; data is drawn with
 * DOM calls, never parsed as HTML, and this is the second line. */
#define CSP                                                                    \
	"default-src 'none'; script-src 'self'; style-src 'self'; "            \
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; "          \
	"form-action 'self'; frame-ancestors 'none'"

static const struct web_asset *
find_asset(const char *path, size_t len)
{
	for (size_t i = 0; i < web_assets_n; i++)
		if (strlen(web_assets[i].path) == len &&
		    memcmp(web_assets[i].path, path, len) == 0)
			return &web_assets[i];
	return NULL;
}

/* A strong validator: FNV-1a (64 bits) of the contents. */
static void
asset_etag(const struct web_asset *a, char out[24])
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < a->len; i++) {
		h ^= a->data[i];
		h *= 1099511628211ULL;
	}
	snprintf(out, 24, "\"%016llx\"", (unsigned long long)h);
}

static void
send_asset(struct evhttp_request *req, const struct web_asset *a, bool page)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *inm = evhttp_find_header(
		evhttp_request_get_input_headers(req), "If-None-Match");
	struct evbuffer *buf;
	char etag[24], len[24];

	asset_etag(a, etag);
	evhttp_add_header(h, "Content-Type", a->type);
	/* Pages are checked every time (cheap with the ETag); files may be
	 * kept a few minutes (a new binary may bring new ones). */
	evhttp_add_header(h, "Cache-Control",
			  page ? "no-cache" : "public, max-age=300");
	evhttp_add_header(h, "ETag", etag);
	/* X-Content-Type-Options: every answer has it (httpserver.c). */
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Content-Security-Policy", CSP);
	if (inm != NULL &&
	    (strstr(inm, etag) != NULL || strcmp(inm, "*") == 0)) {
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	/* The length GET would have, for HEAD too (evhttp gives none to a
	 * HEAD, and would send whatever body it is handed: none here). */
	snprintf(len, sizeof(len), "%zu", a->len);
	evhttp_add_header(h, "Content-Length", len);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		evhttp_send_reply(req, 200, "OK", NULL);
		return;
	}
	/* The table lives as long as the program: no copy. */
	buf = evbuffer_new();
	if (buf == NULL) {
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	evbuffer_add_reference(buf, a->data, a->len, NULL, NULL);
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

void
web_page(struct evhttp_request *req)
{
	const struct web_asset *a = find_asset(SHELL, strlen(SHELL));

	if (a == NULL) { /* a build without the view's files */
		reply_error(req, 404, "Not Found", "no such path");
		return;
	}
	send_asset(req, a, true);
}

void
web_static(struct evhttp_request *req, const char *path)
{
	const struct web_asset *a = find_asset(path, strlen(path));

	if (a == NULL) {
		reply_error(req, 404, "Not Found", "no such path");
		return;
	}
	send_asset(req, a, strcmp(a->path, SHELL) == 0);
}
