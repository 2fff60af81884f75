/*
 * web.h - the web view's files, embedded at build time
 * (tools/embed-web.sh), and the handler that serves the pages.
 */
#ifndef WW_WEB_H
#define WW_WEB_H

#include <stdbool.h>
#include <stddef.h>

struct web_asset {
	const char *path; /* "/static/app.js" */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
};

extern const struct web_asset web_assets[];
extern const size_t web_assets_n;

struct evhttp_request;
/* GET/HEAD of a page (/, /index.html, /target, /domain): the HTML shell
 * whose script draws the page. */
void web_page(struct evhttp_request *req);
/* GET/HEAD of /static/NAME, path whole: the embedded file, or 404. */
void web_static(struct evhttp_request *req, const char *path);

#endif
