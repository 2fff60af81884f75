/*
 * test_routes.c - the collector's table of routes (collector/routes.c) in
 * its three modes: --read-only serves every GET path of the whole
 * collector with the same handler, answers every path the collector takes
 * a POST on with one refusal (the 503 of the read-only mode) and nothing
 * else; --control-only and the whole collector as before (the control API
 * on both; the ingest, the keys and the reads only on the collector).
 *
 * Linked from build/libcollector.a.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <event2/http.h>

#include "../../collector/collector.h"
#include "../../collector/router.h"
#include "../../collector/submitters.h"
#include "control.h"

static const char *const posts[] = {
	"/api/v1/measurements",
	"/api/v1/submitters",
	"/api/v1/control",
	"/api/v1/oonith",
	"/",
};

static const char *const gets[] = {
	"/",
	"/index.html",
	"/target",
	"/domain",
	"/network",
	"/country",
	"/changes",
	"/measurement",
	"/static/app.js",
	"/static/page_measurement.js",
	"/healthz",
	"/metrics",
	"/api/v1/whoami",
	"/api/v1/measurements",
	"/api/v1/measurements/20260101T000000Z_x",
	"/api/v1/targets",
	"/api/v1/timeline",
	"/api/v1/events",
	"/api/v1/domains/example.org",
	"/api/v1/export",
	"/api/v1/settings",
	"/api/v1/networks",
	"/api/v1/networks/matrix",
	"/api/v1/changes",
};

static const struct route *
find(const struct router *r, const char *path, enum evhttp_cmd_type m)
{
	const struct route *t = NULL;

	return router_match(r, path, m, &t, NULL, NULL) == ROUTE_FOUND ? t
								       : NULL;
}

static void
test_read_only(void **state)
{
	struct service svc;
	struct router coll, ro;
	const struct route *refusal = NULL;

	(void)state;
	memset(&svc, 0, sizeof(svc));
	routes_init(&coll, ROUTE_COLLECTOR, &svc);
	routes_init(&ro, ROUTE_READONLY, &svc);
	/* every read, the same handler as the collector's */
	for (size_t i = 0; i < sizeof(gets) / sizeof(gets[0]); i++) {
		const struct route *a = find(&coll, gets[i], EVHTTP_REQ_GET);
		const struct route *b = find(&ro, gets[i], EVHTTP_REQ_GET);

		if (a == NULL || b == NULL || a->fn != b->fn || a->id != b->id)
			fail_msg("GET %s: not served as by the collector",
				 gets[i]);
		assert_non_null(find(&ro, gets[i], EVHTTP_REQ_HEAD));
	}
	/* every POST, one handler, not the collector's */
	for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++) {
		const struct route *a = find(&coll, posts[i], EVHTTP_REQ_POST);
		const struct route *b = find(&ro, posts[i], EVHTTP_REQ_POST);

		if (a == NULL || b == NULL || a->fn == b->fn)
			fail_msg("POST %s: not refused", posts[i]);
		if (refusal == NULL)
			refusal = b;
		assert_ptr_equal(b->fn, refusal->fn);
	}
	/* the refusal serves nothing else, and other methods stay 405 */
	for (size_t i = 0; i < sizeof(gets) / sizeof(gets[0]); i++)
		assert_ptr_not_equal(find(&ro, gets[i], EVHTTP_REQ_GET)->fn,
				     refusal->fn);
	assert_int_equal(router_match(&ro, "/api/v1/measurements",
				      EVHTTP_REQ_PUT, &refusal, NULL, NULL),
			 ROUTE_NOT_ALLOWED);
	assert_int_equal(router_match(&ro, "/api/v1/nothing", EVHTTP_REQ_GET,
				      &refusal, NULL, NULL),
			 ROUTE_NOT_FOUND);
}

static void
test_other_modes(void **state)
{
	struct service svc;
	struct router coll, ctl;

	(void)state;
	memset(&svc, 0, sizeof(svc));
	routes_init(&coll, ROUTE_COLLECTOR, &svc);
	routes_init(&ctl, ROUTE_CONTROL, &svc);
	/* the control API: the same handler in both */
	for (size_t i = 2; i < sizeof(posts) / sizeof(posts[0]); i++)
		assert_ptr_equal(find(&coll, posts[i], EVHTTP_REQ_POST)->fn,
				 find(&ctl, posts[i], EVHTTP_REQ_POST)->fn);
	/* the ingest, the keys and the reads: the collector's only */
	assert_null(find(&ctl, "/api/v1/measurements", EVHTTP_REQ_POST));
	assert_null(find(&ctl, "/api/v1/submitters", EVHTTP_REQ_POST));
	assert_null(find(&ctl, "/api/v1/targets", EVHTTP_REQ_GET));
	assert_non_null(find(&ctl, "/healthz", EVHTTP_REQ_GET));
	assert_non_null(find(&ctl, "/api/v1/whoami", EVHTTP_REQ_GET));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_other_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
