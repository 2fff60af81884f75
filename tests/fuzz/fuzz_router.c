/*
 * fuzz_router.c - the collector's router (collector/router.c) on any path
 * a client may send, with any method, in both modes, against a table of
 * the collector's shape (exact and prefix routes, several per path, some
 * of one mode only). Each answer is checked against a brute-force reading
 * of the table: FOUND names a route of this mode that covers the path and
 * takes the method; NOT_ALLOWED comes with an Allow naming a method and no
 * route of the path taking this one; NOT_FOUND only when no route of the
 * mode covers the path.
 *
 * The collector's sources are not in libwallwatch.a: built in directly.
 * Input: the first byte picks the method and mode, the rest is the path.
 */
#include <stdlib.h>
#include <string.h>

#include "../../collector/reply.c"
#include "../../collector/router.c"
#include "fuzz.h"

static void
nop(struct evhttp_request *req, const struct route_req *rr)
{
	(void)req;
	(void)rr;
}

#define G ROUTE_GET_HEAD
#define P EVHTTP_REQ_POST
#define C ROUTE_COLLECTOR

static const struct route table[] = {
	{"/api/v1/control", false, P, ROUTE_BOTH, nop, 0, "h"},
	{"/", false, P, ROUTE_BOTH, nop, 0, "h"},
	{"/healthz", false, G, ROUTE_BOTH, nop, 0, NULL},
	{"/api/v1/measurements", false, P, C, nop, 0, "h"},
	{"/api/v1/measurements", false, G, C, nop, 0, NULL},
	{"/api/v1/measurements/", true, G, C, nop, 0, NULL},
	{"/api/v1/domains/", true, G, C, nop, 0, NULL},
	{"/", false, G, C, nop, 0, NULL},
	{"/static/", true, G, C, nop, 0, NULL},
	{"/static/deep/", true, EVHTTP_REQ_PUT, ROUTE_CONTROL, nop, 0, NULL},
};

static bool
covers(const struct route *t, const char *path)
{
	return t->prefix ? strncmp(path, t->path, strlen(t->path)) == 0
			 : strcmp(path, t->path) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum evhttp_cmd_type methods[] = {
		EVHTTP_REQ_GET,	  EVHTTP_REQ_POST,   EVHTTP_REQ_HEAD,
		EVHTTP_REQ_PUT,	  EVHTTP_REQ_DELETE, EVHTTP_REQ_OPTIONS,
		EVHTTP_REQ_PATCH, EVHTTP_REQ_TRACE,  EVHTTP_REQ_CONNECT,
	};
	struct router r = {table, sizeof(table) / sizeof(table[0]), 0, NULL};
	enum evhttp_cmd_type m;
	const struct route *t;
	char allow[ROUTE_ALLOW_LEN], *path;
	const char *hint;
	bool any = false;

	if (size < 1)
		return 0;
	m = methods[data[0] % (sizeof(methods) / sizeof(methods[0]))];
	r.mode = data[0] & 0x80 ? ROUTE_CONTROL : ROUTE_COLLECTOR;
	path = malloc(size);
	memcpy(path, data + 1, size - 1);
	path[size - 1] = '\0';
	for (size_t i = 0; i < r.n; i++)
		any |= (table[i].modes & r.mode) && covers(&table[i], path);
	switch (router_match(&r, path, m, &t, allow, &hint)) {
	case ROUTE_FOUND:
		if (t == NULL || !(t->modes & r.mode) || !covers(t, path) ||
		    !(t->methods & (unsigned)m))
			abort();
		break;
	case ROUTE_NOT_ALLOWED:
		if (t != NULL || allow[0] == '\0' || !any)
			abort();
		break;
	case ROUTE_NOT_FOUND:
		if (t != NULL || any)
			abort();
		break;
	}
	free(path);
	return 0;
}
