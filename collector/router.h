/*
 * router.h - where each request of the collector's HTTP server goes: one
 * table of routes (routes.c holds the collector's), each a path, the
 * methods it takes, its handler and the modes that serve it. A path the
 * mode does not serve is unknown (404 "no such path"); a known path asked
 * with a method none of its routes take gets 405 with an Allow header
 * listing those it does. Nothing else answers for the router: every
 * other answer is its handler's.
 */
#ifndef WW_ROUTER_H
#define WW_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/http.h>

/* The collector's modes (main.c): the whole service, --control-only
 * (the control API and whoami, for controls deployed abroad), or
 * --read-only (the web view, the read API and the exports of a database
 * it does not write, e.g. a streaming replica's). */
enum route_mode {
	ROUTE_COLLECTOR = 1u << 0,
	ROUTE_CONTROL = 1u << 1,
	ROUTE_READONLY = 1u << 2,
	ROUTE_BOTH = ROUTE_COLLECTOR | ROUTE_CONTROL,
};

/* Methods are evhttp's bits (enum evhttp_cmd_type). */
#define ROUTE_GET_HEAD (EVHTTP_REQ_GET | EVHTTP_REQ_HEAD)

/* What a handler is told besides its request. */
struct route_req {
	const char *path; /* as received (still URL-encoded), never "" */
	const char *rest; /* after a prefix route's path; "" for exact */
	void *ctx;	  /* the router's (routes.c: struct service) */
	int id;		  /* the route's */
};

struct route {
	/* Exact, or with prefix the start of the paths it takes (a path
	 * may then hold more after it, rest; or nothing more). */
	const char *path;
	bool prefix;
	unsigned methods; /* EVHTTP_REQ_* */
	unsigned modes;	  /* enum route_mode */
	void (*fn)(struct evhttp_request *req, const struct route_req *rr);
	int id; /* handed to fn: one handler may serve several routes */
	/* The 405's error for the path, from its first route in the table
	 * that has one (NULL: "method not allowed; Allow: ..."). */
	const char *hint;
};

struct router {
	const struct route *routes;
	size_t n;
	unsigned mode; /* the mode served: one enum route_mode bit */
	void *ctx;
};

enum route_match {
	ROUTE_FOUND,	   /* *found takes the method */
	ROUTE_NOT_ALLOWED, /* the path is known: allow says what it takes */
	ROUTE_NOT_FOUND,
};

/* "GET, HEAD, POST" and so on, always in that order; long enough for
 * every method. */
#define ROUTE_ALLOW_LEN 64

/*
 * The route for path and method in r's mode. An exact route of the path
 * comes before prefix ones, a longer prefix before a shorter; among the
 * routes of that one path, the first taking the method. allow (at least
 * ROUTE_ALLOW_LEN bytes, may be NULL) gets the methods that path takes;
 * *hint its 405 message (NULL when none), on ROUTE_NOT_ALLOWED.
 */
enum route_match router_match(const struct router *r, const char *path,
			      enum evhttp_cmd_type method,
			      const struct route **found, char *allow,
			      const char **hint);

/* methods as an Allow header's value into buf (ROUTE_ALLOW_LEN). */
void route_allow_text(unsigned methods, char *buf, size_t len);

/* req's path, as received; "/" when it has none. */
const char *router_path(struct evhttp_request *req);

/* Answer req: its route's handler, or 405 with Allow, or 404. */
void router_serve(const struct router *r, struct evhttp_request *req);

#endif
