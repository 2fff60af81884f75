/*
 * test_quicstep.c - an https target's QUIC step (the probe's --quic,
 * engine/loop/measure.c): with it the job ends with the exchanges of a
 * quic:// target of the URL's host, UDP on the URL's port; without it an
 * https job has none; a quic:// target and an http target are unchanged.
 * The control service runs the step only when the request asks it, at its
 * addresses and the probe's. Everything on loopback: the URL's port is
 * held by a UDP socket connected elsewhere (no free-port race; datagrams
 * from us draw ICMP port unreachable) and has no TCP listener, so each
 * step fails at once and no test waits for a timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "internal.h"
#include "util.h"

struct env {
	struct event_base *base;
	struct ww_engine *e;
	int hold; /* the UDP socket holding the URL's port */
	int port;
	bool done;
};

static void
env_start(struct env *v, bool quic, bool control_service)
{
	struct ww_config cfg;
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	char err[256];

	memset(v, 0, sizeof(*v));
	v->base = event_base_new();
	assert_non_null(v->base);
	v->hold = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(v->hold >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(v->hold, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(v->hold, (struct sockaddr *)&a, &len), 0);
	v->port = ntohs(a.sin_port);
	a.sin_port = htons(9); /* connected elsewhere: ours are refused */
	assert_int_equal(connect(v->hold, (struct sockaddr *)&a, sizeof(a)), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.resolver = "127.0.0.1:53";
	cfg.timeout = 5;
	cfg.max_addrs = 4;
	cfg.quic_step = quic;
	cfg.control_service = control_service;
	cfg.allow_private = control_service;
	v->e = ww_engine_new(v->base, &cfg, err, sizeof(err));
	if (v->e == NULL)
		fail_msg("engine: %s", err);
}

static void
env_stop(struct env *v)
{
	ww_engine_free(v->e);
	close(v->hold);
	event_base_free(v->base);
}

static void
job_cb(struct ww_measurement *m, void *arg)
{
	(void)m;
	((struct env *)arg)->done = true;
}

/* Measure scheme://127.0.0.1:PORT (PORT the held one) and tail to the
 * end (bounded: a broken test, never a slow machine, reaches the bound). */
static struct ww_measurement *
measure(struct env *v, const char *scheme, const char *tail,
	const struct ww_job_opts *o)
{
	char *input = xasprintf("%s://127.0.0.1:%d%s", scheme, v->port, tail);
	struct ww_measurement *m = ww_measurement_new();
	struct ww_target t;
	char err[256];
	double end = ww_mono() + 120;

	if (ww_target_parse(input, &t, err, sizeof(err)) != 0)
		fail_msg("%s: %s", input, err);
	m->input = input;
	ww_job_start_opts(v->e, &t, o, m, job_cb, v);
	ww_target_clear(&t);
	while (!v->done && ww_mono() < end)
		event_base_loop(v->base, EVLOOP_ONCE);
	assert_true(v->done);
	return m;
}

/* How many of m's exchanges went to ip with payload at port. */
static size_t
count(const struct ww_measurement *m, const char *ip, const char *payload,
      int port)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_xchg; i++) {
		const struct ww_exchange *x = &m->xchg[i];

		if (strcmp(x->ip, ip) == 0 &&
		    strcmp(x->protocol, "quic") == 0 &&
		    strcmp(x->payload, payload) == 0 && x->port == port)
			n++;
	}
	return n;
}

/* The plan of quic://127.0.0.1:port at one address (an IP literal: no
 * neutral SNI), after the web steps. */
static void
assert_quic_plan(const struct ww_measurement *m, const char *ip, int port)
{
	int closed = ww_vpn_closed_port(port);

	assert_int_equal(count(m, ip, "closed_udp", closed), 1);
	assert_int_equal(count(m, ip, "closed_tcp", closed), 1);
	assert_int_equal(count(m, ip, "version_ping", port), 1);
	assert_int_equal(count(m, ip, "handshake", port), 1);
	assert_int_equal(count(m, ip, "closed_handshake", closed), 1);
	assert_int_equal(count(m, ip, "neutral_sni", port), 0);
}

static void
test_https_with_quic(void **state)
{
	struct env v;
	struct ww_measurement *m;
	json_t *j, *tk;

	(void)state;
	env_start(&v, true, false);
	m = measure(&v, "https", "/", NULL);
	assert_int_equal(m->n_xchg, 5);
	assert_quic_plan(m, "127.0.0.1", v.port);
	/* the web steps ran first, as without the step */
	assert_true(m->n_tcp >= 1);
	assert_true(m->n_http >= 1);
	assert_true(m->tcp[0].t0 <= m->xchg[0].t0);
	j = ww_measurement_to_json(m);
	tk = json_object_get(j, "test_keys");
	assert_int_equal(json_array_size(json_object_get(tk, "exchanges")), 5);
	json_decref(j);
	ww_measurement_free(m);
	env_stop(&v);
}

static void
test_without_quic_nothing_changes(void **state)
{
	struct env v;
	struct ww_measurement *m;
	json_t *j;

	(void)state;
	env_start(&v, false, false);
	m = measure(&v, "https", "/", NULL);
	assert_int_equal(m->n_xchg, 0);
	assert_true(m->n_tcp >= 1);
	j = ww_measurement_to_json(m);
	assert_null(
		json_object_get(json_object_get(j, "test_keys"), "exchanges"));
	json_decref(j);
	ww_measurement_free(m);
	env_stop(&v);
}

/* --quic is for https only: an http target gets no QUIC step, and a
 * quic:// target its own plan once. */
static void
test_only_https(void **state)
{
	struct env v;
	struct ww_measurement *m;

	(void)state;
	env_start(&v, true, false);
	m = measure(&v, "http", "/", NULL);
	assert_int_equal(m->n_xchg, 0);
	ww_measurement_free(m);
	v.done = false;
	m = measure(&v, "quic", "", NULL);
	assert_int_equal(m->n_xchg, 5);
	assert_quic_plan(m, "127.0.0.1", v.port);
	assert_int_equal(m->n_tcp, 0);
	ww_measurement_free(m);
	env_stop(&v);
}

/* The control service: the step when the request asks it ("quic": true),
 * at its own address and the probe's; not otherwise. */
static void
test_control_side(void **state)
{
	static const char *const probe_addrs[] = {"127.0.0.2"};
	struct ww_job_opts o;
	struct env v;
	struct ww_measurement *m;

	(void)state;
	env_start(&v, false, true);
	memset(&o, 0, sizeof(o));
	o.addrs = probe_addrs;
	o.n_addrs = 1;
	m = measure(&v, "https", "/", &o);
	assert_int_equal(m->n_xchg, 0);
	ww_measurement_free(m);
	o.quic = true;
	v.done = false;
	m = measure(&v, "https", "/", &o);
	assert_int_equal(m->n_xchg, 10);
	assert_quic_plan(m, "127.0.0.1", v.port);
	assert_quic_plan(m, "127.0.0.2", v.port);
	ww_measurement_free(m);
	env_stop(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_https_with_quic),
		cmocka_unit_test(test_without_quic_nothing_changes),
		cmocka_unit_test(test_only_https),
		cmocka_unit_test(test_control_side),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
