/*
 * router.c - the collector's requests to their handlers, by one table
 * (router.h). It replaces a chain in which the control server, then
 * main.c, api.c, web.c and the ingest each took the paths it knew and
 * passed the rest on: what a path answered depended on the order of the
 * chain, and a wrong method on a known path got 405 from one file and 404
 * from another.
 *
 * The tables are small (a few dozen routes): a linear scan per request is
 * a few hundred byte comparisons, no index needed.
 */
#include <stdio.h>
#include <string.h>

#include <event2/http.h>

#include "collector.h"
#include "router.h"

/* Allow's order: the usual one (RFC 9110's examples), not the bits'. */
static const struct {
	unsigned bit;
	const char *name;
} method_names[] = {
	{EVHTTP_REQ_GET, "GET"},       {EVHTTP_REQ_HEAD, "HEAD"},
	{EVHTTP_REQ_POST, "POST"},     {EVHTTP_REQ_PUT, "PUT"},
	{EVHTTP_REQ_DELETE, "DELETE"}, {EVHTTP_REQ_OPTIONS, "OPTIONS"},
	{EVHTTP_REQ_TRACE, "TRACE"},   {EVHTTP_REQ_CONNECT, "CONNECT"},
	{EVHTTP_REQ_PATCH, "PATCH"},
};

void
route_allow_text(unsigned methods, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]);
	     i++) {
		int n;

		if (!(methods & method_names[i].bit))
			continue;
		n = snprintf(buf + used, len - used, "%s%s",
			     used > 0 ? ", " : "", method_names[i].name);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0'; /* len below ROUTE_ALLOW_LEN */
			return;
		}
		used += (size_t)n;
	}
}

/* How well route t fits path: 0 not at all; an exact route above any
 * prefix; a longer prefix above a shorter. */
static size_t
fit(const struct route *t, const char *path)
{
	size_t n = strlen(t->path);

	if (!t->prefix)
		return strcmp(path, t->path) == 0 ? (size_t)-1 : 0;
	return strncmp(path, t->path, n) == 0 ? n + 1 : 0;
}

static bool
same_path(const struct route *a, const struct route *b)
{
	return a->prefix == b->prefix && strcmp(a->path, b->path) == 0;
}

enum route_match
router_match(const struct router *r, const char *path,
	     enum evhttp_cmd_type method, const struct route **found,
	     char *allow, const char **hint)
{
	const struct route *best = NULL;
	size_t best_fit = 0;
	unsigned methods = 0;

	*found = NULL;
	if (hint != NULL)
		*hint = NULL;
	for (size_t i = 0; i < r->n; i++) {
		const struct route *t = &r->routes[i];
		size_t f = (t->modes & r->mode) ? fit(t, path) : 0;

		if (f > best_fit) {
			best = t;
			best_fit = f;
		}
	}
	if (best == NULL)
		return ROUTE_NOT_FOUND;
	/* Every route of that path in this mode: the first that takes the
	 * method, and what they take together. */
	for (size_t i = 0; i < r->n; i++) {
		const struct route *t = &r->routes[i];

		if (!(t->modes & r->mode) || !same_path(t, best))
			continue;
		methods |= t->methods;
		if (*found == NULL && (t->methods & (unsigned)method))
			*found = t;
		if (hint != NULL && *hint == NULL)
			*hint = t->hint;
	}
	if (allow != NULL)
		route_allow_text(methods, allow, ROUTE_ALLOW_LEN);
	return *found != NULL ? ROUTE_FOUND : ROUTE_NOT_ALLOWED;
}

const char *
router_path(struct evhttp_request *req)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u != NULL ? evhttp_uri_get_path(u) : NULL;

	return path != NULL && path[0] != '\0' ? path : "/";
}

void
router_serve(const struct router *r, struct evhttp_request *req)
{
	const char *path = router_path(req);
	const struct route *t;
	const char *hint;
	char allow[ROUTE_ALLOW_LEN], msg[ROUTE_ALLOW_LEN + 40];
	struct route_req rr;

	switch (router_match(r, path, evhttp_request_get_command(req), &t,
			     allow, &hint)) {
	case ROUTE_FOUND:
		rr.path = path;
		rr.rest = t->prefix ? path + strlen(t->path) : "";
		rr.ctx = r->ctx;
		rr.id = t->id;
		t->fn(req, &rr);
		return;
	case ROUTE_NOT_ALLOWED:
		if (hint == NULL) {
			snprintf(msg, sizeof(msg),
				 "method not allowed here; Allow: %s", allow);
			hint = msg;
		}
		reply_not_allowed(req, allow, hint);
		return;
	case ROUTE_NOT_FOUND:
		reply_error(req, 404, "Not Found", "no such path");
		return;
	}
}
