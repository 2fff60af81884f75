/*
 * test_router.c - the collector's router (collector/router.c): an exact
 * route before a prefix one and a longer prefix before a shorter, the
 * method picking among the routes of one path, 405 with an Allow header
 * listing what the path takes (and its hint, or a message naming them),
 * routes of another mode invisible, 404 for the rest; then the same over
 * real HTTP on loopback (an evhttp server on a port the kernel picks, a
 * libevent client), status, Allow and body as a client sees them. And the
 * drain tracker (collector/drain.c) the control service and the ingest
 * share.
 *
 * The collector's sources are not in libwallwatch.a: these are built into
 * this test directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "../../collector/drain.c"
#include "../../collector/reply.c"
#include "../../collector/router.c"

/* The handlers say which one ran and what the router told them. */
static void
answer(struct evhttp_request *req, const struct route_req *rr)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add_printf(b, "%d:%s:%s", rr->id, rr->path, rr->rest);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

enum {
	R_ROOT_POST,
	R_ROOT_PAGE,
	R_M_POST,
	R_M_GET,
	R_M_ONE,
	R_STATIC,
	R_STATIC_SPECIAL,
	R_STATIC_DEEP,
	R_METRICS,
	R_HEALTH,
};

#define POST EVHTTP_REQ_POST
#define GET ROUTE_GET_HEAD

static const struct route table[] = {
	{"/", false, POST, ROUTE_BOTH, answer, R_ROOT_POST, "POST a control"},
	{"/", false, GET, ROUTE_COLLECTOR, answer, R_ROOT_PAGE, NULL},
	{"/m", false, POST, ROUTE_COLLECTOR, answer, R_M_POST, "POST them"},
	{"/m", false, GET, ROUTE_COLLECTOR, answer, R_M_GET, "not this one"},
	{"/m/", true, GET, ROUTE_COLLECTOR, answer, R_M_ONE, NULL},
	{"/static/", true, GET, ROUTE_BOTH, answer, R_STATIC, NULL},
	{"/static/special", false, GET, ROUTE_COLLECTOR, answer,
	 R_STATIC_SPECIAL, NULL},
	{"/static/deep/", true, GET, ROUTE_BOTH, answer, R_STATIC_DEEP, NULL},
	{"/metrics", false, GET, ROUTE_COLLECTOR, answer, R_METRICS, NULL},
	{"/healthz", false, GET, ROUTE_BOTH, answer, R_HEALTH, NULL},
};

static struct router
router_of(unsigned mode)
{
	struct router r = {table, sizeof(table) / sizeof(table[0]), mode, NULL};

	return r;
}

/* The id of the route path and method find in mode; -1 when none. */
static int
found_id(unsigned mode, const char *path, enum evhttp_cmd_type m)
{
	struct router r = router_of(mode);
	const struct route *t;
	char allow[ROUTE_ALLOW_LEN];
	const char *hint;

	if (router_match(&r, path, m, &t, allow, &hint) != ROUTE_FOUND)
		return -1;
	assert_non_null(t);
	return t->id;
}

static void
test_exact_and_prefix(void **state)
{
	(void)state;
	assert_int_equal(found_id(ROUTE_COLLECTOR, "/m", EVHTTP_REQ_GET),
			 R_M_GET);
	/* a prefix takes what follows it, and the prefix alone */
	assert_int_equal(found_id(ROUTE_COLLECTOR, "/m/uid", EVHTTP_REQ_GET),
			 R_M_ONE);
	assert_int_equal(found_id(ROUTE_COLLECTOR, "/m/", EVHTTP_REQ_GET),
			 R_M_ONE);
	/* an exact path is not a prefix of a longer one */
	assert_int_equal(found_id(ROUTE_COLLECTOR, "/mx", EVHTTP_REQ_GET), -1);
	assert_int_equal(found_id(ROUTE_COLLECTOR, "/", EVHTTP_REQ_GET),
			 R_ROOT_PAGE);
	assert_int_equal(found_id(ROUTE_COLLECTOR, "/x", EVHTTP_REQ_GET), -1);
	/* the exact route of a path before the prefix that covers it, the
	 * longer prefix before the shorter */
	assert_int_equal(
		found_id(ROUTE_COLLECTOR, "/static/special", EVHTTP_REQ_GET),
		R_STATIC_SPECIAL);
	assert_int_equal(
		found_id(ROUTE_COLLECTOR, "/static/special2", EVHTTP_REQ_GET),
		R_STATIC);
	assert_int_equal(
		found_id(ROUTE_COLLECTOR, "/static/deep/a.js", EVHTTP_REQ_GET),
		R_STATIC_DEEP);
	assert_int_equal(
		found_id(ROUTE_COLLECTOR, "/static/deepa.js", EVHTTP_REQ_GET),
		R_STATIC);
}

static void
test_methods(void **state)
{
	struct router r = router_of(ROUTE_COLLECTOR);
	const struct route *t = table;
	char allow[ROUTE_ALLOW_LEN];
	const char *hint = "x";

	(void)state;
	/* one path, a route per method */
	assert_int_equal(found_id(ROUTE_COLLECTOR, "/m", EVHTTP_REQ_POST),
			 R_M_POST);
	assert_int_equal(found_id(ROUTE_COLLECTOR, "/m", EVHTTP_REQ_HEAD),
			 R_M_GET);
	/* another method: 405, Allow what its routes take together, the
	 * hint of the first of them */
	assert_int_equal(
		router_match(&r, "/m", EVHTTP_REQ_PUT, &t, allow, &hint),
		ROUTE_NOT_ALLOWED);
	assert_null(t);
	assert_string_equal(allow, "GET, HEAD, POST");
	assert_string_equal(hint, "POST them");
	/* no hint: none */
	assert_int_equal(
		router_match(&r, "/m/uid", EVHTTP_REQ_DELETE, &t, allow, &hint),
		ROUTE_NOT_ALLOWED);
	assert_string_equal(allow, "GET, HEAD");
	assert_null(hint);
	/* the prefix's methods, not the exact route's beside it */
	assert_int_equal(router_match(&r, "/static/x", EVHTTP_REQ_POST, &t,
				      allow, &hint),
			 ROUTE_NOT_ALLOWED);
	assert_string_equal(allow, "GET, HEAD");
	/* unknown path: 404, whatever the method */
	assert_int_equal(
		router_match(&r, "/nowhere", EVHTTP_REQ_GET, &t, allow, &hint),
		ROUTE_NOT_FOUND);
	assert_null(t);
	/* allow and hint may be left out */
	assert_int_equal(
		router_match(&r, "/m", EVHTTP_REQ_PATCH, &t, NULL, NULL),
		ROUTE_NOT_ALLOWED);
}

static void
test_modes(void **state)
{
	struct router r = router_of(ROUTE_CONTROL);
	const struct route *t;
	char allow[ROUTE_ALLOW_LEN];
	const char *hint;

	(void)state;
	/* a path of the other mode only is unknown */
	assert_int_equal(
		router_match(&r, "/metrics", EVHTTP_REQ_GET, &t, allow, &hint),
		ROUTE_NOT_FOUND);
	assert_int_equal(found_id(ROUTE_CONTROL, "/m", EVHTTP_REQ_POST), -1);
	/* a path of both: only this mode's methods, in Allow too */
	assert_int_equal(found_id(ROUTE_CONTROL, "/", EVHTTP_REQ_POST),
			 R_ROOT_POST);
	assert_int_equal(
		router_match(&r, "/", EVHTTP_REQ_GET, &t, allow, &hint),
		ROUTE_NOT_ALLOWED);
	assert_string_equal(allow, "POST");
	assert_string_equal(hint, "POST a control");
	/* the other mode's exact route does not hide the prefix */
	assert_int_equal(
		found_id(ROUTE_CONTROL, "/static/special", EVHTTP_REQ_GET),
		R_STATIC);
	assert_int_equal(found_id(ROUTE_CONTROL, "/healthz", EVHTTP_REQ_HEAD),
			 R_HEALTH);
	/* the collector has all of it */
	r = router_of(ROUTE_COLLECTOR);
	assert_int_equal(
		router_match(&r, "/", EVHTTP_REQ_PUT, &t, allow, &hint),
		ROUTE_NOT_ALLOWED);
	assert_string_equal(allow, "GET, HEAD, POST");
	assert_int_equal(found_id(ROUTE_COLLECTOR, "/metrics", EVHTTP_REQ_GET),
			 R_METRICS);
}

static void
test_allow_text(void **state)
{
	char buf[ROUTE_ALLOW_LEN], small[12];

	(void)state;
	route_allow_text(EVHTTP_REQ_PATCH | EVHTTP_REQ_POST | EVHTTP_REQ_GET,
			 buf, sizeof(buf));
	assert_string_equal(buf, "GET, POST, PATCH");
	route_allow_text(~0u, buf, sizeof(buf));
	assert_string_equal(buf, "GET, HEAD, POST, PUT, DELETE, OPTIONS, "
				 "TRACE, CONNECT, PATCH");
	route_allow_text(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	/* too small: cut at a whole method, still a string */
	route_allow_text(~0u, small, sizeof(small));
	assert_string_equal(small, "GET, HEAD");
}

/* --- over HTTP ------------------------------------------------------------ */

struct http_env {
	struct event_base *base;
	struct evhttp *http;
	struct router r;
	unsigned short port;
	/* the last answer */
	int code;
	char allow[ROUTE_ALLOW_LEN];
	char body[256];
};

static void
serve_cb(struct evhttp_request *req, void *arg)
{
	router_serve(arg, req);
}

static void
env_up(struct http_env *env, unsigned mode)
{
	struct evhttp_bound_socket *sock;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	memset(env, 0, sizeof(*env));
	env->r = router_of(mode);
	env->base = event_base_new();
	env->http = evhttp_new(env->base);
	assert_non_null(env->http);
	evhttp_set_allowed_methods(
		env->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
				   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(env->http, serve_cb, &env->r);
	/* port 0: the kernel picks a free one, no race for it */
	sock = evhttp_bind_socket_with_handle(env->http, "127.0.0.1", 0);
	assert_non_null(sock);
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(sock),
				     (struct sockaddr *)&sin, &sl),
			 0);
	env->port = ntohs(sin.sin_port);
}

static void
env_down(struct http_env *env)
{
	evhttp_free(env->http);
	event_base_free(env->base);
}

static void
answered(struct evhttp_request *req, void *arg)
{
	struct http_env *env = arg;
	struct evbuffer *in;
	const char *allow;
	size_t n;

	event_base_loopbreak(env->base);
	if (req == NULL) /* no answer at all (the timeout below) */
		return;
	env->code = evhttp_request_get_response_code(req);
	allow = evhttp_find_header(evhttp_request_get_input_headers(req),
				   "Allow");
	snprintf(env->allow, sizeof(env->allow), "%s", allow ? allow : "");
	in = evhttp_request_get_input_buffer(req);
	n = evbuffer_get_length(in);
	if (n >= sizeof(env->body))
		n = sizeof(env->body) - 1;
	evbuffer_remove(in, env->body, n);
	env->body[n] = '\0';
}

/* method path: the answer into env (one connection per request). */
static void
ask(struct http_env *env, enum evhttp_cmd_type method, const char *path)
{
	struct evhttp_connection *c = evhttp_connection_base_new(
		env->base, NULL, "127.0.0.1", env->port);
	struct evhttp_request *req = evhttp_request_new(answered, env);

	env->code = 0;
	env->allow[0] = env->body[0] = '\0';
	/* a bound, not a pace: a broken run fails instead of hanging */
	evhttp_connection_set_timeout(c, 60);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
			  "localhost");
	assert_int_equal(evhttp_make_request(c, req, method, path), 0);
	event_base_dispatch(env->base);
	evhttp_connection_free(c);
}

static void
test_over_http(void **state)
{
	struct http_env env;

	(void)state;
	env_up(&env, ROUTE_COLLECTOR);
	ask(&env, EVHTTP_REQ_GET, "/m/some%2Fuid?x=1");
	assert_int_equal(env.code, 200);
	assert_string_equal(env.body, "4:/m/some%2Fuid:some%2Fuid");
	ask(&env, EVHTTP_REQ_POST, "/m");
	assert_int_equal(env.code, 200);
	assert_string_equal(env.body, "2:/m:");
	/* 405: Allow and the path's hint */
	ask(&env, EVHTTP_REQ_PUT, "/m");
	assert_int_equal(env.code, 405);
	assert_string_equal(env.allow, "GET, HEAD, POST");
	assert_string_equal(env.body, "{\"error\":\"POST them\"}\n");
	/* 405 without a hint names the methods */
	ask(&env, EVHTTP_REQ_DELETE, "/metrics");
	assert_int_equal(env.code, 405);
	assert_string_equal(env.allow, "GET, HEAD");
	assert_string_equal(
		env.body,
		"{\"error\":\"method not allowed here; Allow: GET, HEAD\"}\n");
	/* 404, no Allow */
	ask(&env, EVHTTP_REQ_POST, "/nowhere");
	assert_int_equal(env.code, 404);
	assert_string_equal(env.allow, "");
	assert_string_equal(env.body, "{\"error\":\"no such path\"}\n");
	env_down(&env);

	/* the control mode: the collector's paths are not there */
	env_up(&env, ROUTE_CONTROL);
	ask(&env, EVHTTP_REQ_GET, "/metrics");
	assert_int_equal(env.code, 404);
	ask(&env, EVHTTP_REQ_GET, "/");
	assert_int_equal(env.code, 405);
	assert_string_equal(env.allow, "POST");
	assert_string_equal(env.body, "{\"error\":\"POST a control\"}\n");
	ask(&env, EVHTTP_REQ_POST, "/");
	assert_int_equal(env.code, 200);
	assert_string_equal(env.body, "0:/:");
	env_down(&env);
}

/* --- the drain tracker -----------------------------------------------------
 */

static void
count_done(void *arg)
{
	(*(int *)arg)++;
}

static void
test_drain(void **state)
{
	struct drain d = DRAIN_INIT;
	int done = 0;

	(void)state;
	/* nothing owed: done at once, and only once */
	drain_start(&d, count_done, &done);
	assert_true(drain_closing(&d));
	assert_int_equal(done, 1);
	drain_hold(&d);
	drain_release(&d);
	assert_int_equal(done, 1);

	/* a job and its answer: done once both are over */
	d = (struct drain)DRAIN_INIT;
	done = 0;
	drain_hold(&d); /* the job */
	assert_false(drain_closing(&d));
	drain_start(&d, count_done, &done);
	assert_int_equal(done, 0);
	drain_hold(&d);	   /* its answer, on its way */
	drain_release(&d); /* the job is over */
	assert_int_equal(done, 0);
	drain_release_cb(&d); /* the answer is written */
	assert_int_equal(done, 1);

	/* released before any drain: no callback to call */
	d = (struct drain)DRAIN_INIT;
	drain_hold(&d);
	drain_release(&d);
	assert_int_equal(d.busy, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_and_prefix),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_allow_text),
		cmocka_unit_test(test_over_http),
		cmocka_unit_test(test_drain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
