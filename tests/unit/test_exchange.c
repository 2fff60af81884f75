/*
 * test_exchange.c - the exchange step (engine/loop/exchange.c) against
 * small servers in the test on loopback, one event loop for both: a UDP
 * server that answers, answers only a retransmission, answers a follow-up,
 * or stays silent; a UDP port that answers with ICMP port unreachable (a
 * socket connected elsewhere holds it: no free-port race); a TCP server
 * that answers in two writes, resets, or closes. A toy driver ("PING" ->
 * "PONG", a follow-up "MORE" -> "DONE") checks what the step hands it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "failure.h"
#include "internal.h"
#include "util.h"

enum mode {
	M_ANSWER,      /* UDP: PONG to each PING */
	M_SECOND,      /* UDP: silent to the first PING, PONG to the next */
	M_FOLLOWUP,    /* UDP: PONG, then DONE to MORE */
	M_SILENT,      /* UDP: never answers */
	M_TCP_SPLIT,   /* TCP: "PO" then "NG" in two writes */
	M_TCP_RESET,   /* TCP: reads, then RST */
	M_TCP_CLOSE,   /* TCP: reads, then FIN */
	M_TCP_GARBAGE, /* TCP: "XXXX" then FIN */
};

struct srv {
	struct event_base *base;
	enum mode mode;
	int fd, conn;
	struct event *ev, *conn_ev, *later;
	int port;
	unsigned n_seen; /* datagrams or reads that came */
};

struct toy {
	bool followup; /* after PONG, send MORE and wait for DONE */
};

static ssize_t
toy_first(void *st, unsigned char *out, size_t cap)
{
	(void)st;
	if (cap < 4)
		return -1;
	memcpy(out, "PING", 4);
	return 4;
}

static enum ww_xnext
toy_reply(void *st, const unsigned char *buf, size_t len, struct ww_xseen *seen,
	  unsigned char *out, size_t cap, size_t *out_len)
{
	struct toy *t = st;

	*out_len = 0;
	if (len < 4) {
		snprintf(seen->note, sizeof(seen->note), "only %zu bytes", len);
		return WW_XNEXT_WAIT; /* TCP: the rest may come */
	}
	if (memcmp(buf + len - 4, "PONG", 4) == 0) {
		seen->kind = "pong";
		seen->ours = seen->proves_up = true;
		if (!t->followup || cap < 4)
			return WW_XNEXT_DONE;
		memcpy(out, "MORE", 4);
		*out_len = 4;
		return WW_XNEXT_SEND;
	}
	if (memcmp(buf + len - 4, "DONE", 4) == 0) {
		seen->kind = "done";
		seen->ours = seen->proves_up = true;
		return WW_XNEXT_DONE;
	}
	snprintf(seen->note, sizeof(seen->note), "not a toy message");
	return WW_XNEXT_WAIT;
}

static struct ww_xdriver *
toy_driver(bool udp, bool followup)
{
	struct ww_xdriver *d = xcalloc(1, sizeof(*d));
	struct toy *t = xcalloc(1, sizeof(*t));

	t->followup = followup;
	d->protocol = "toy";
	d->payload = "handshake";
	d->udp = udp;
	d->st = t;
	d->first = toy_first;
	d->reply = toy_reply;
	d->free_st = free;
	return d;
}

/* --- servers -------------------------------------------------------------- */

static void
udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;
	unsigned char buf[2048];
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	ssize_t n;

	(void)what;
	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
	if (n <= 0)
		return;
	s->n_seen++;
	if (s->mode == M_SILENT || (s->mode == M_SECOND && s->n_seen == 1))
		return;
	if (n == 4 && memcmp(buf, "MORE", 4) == 0)
		memcpy(buf, "DONE", 4);
	else
		memcpy(buf, "PONG", 4);
	(void)sendto(fd, buf, 4, 0, (struct sockaddr *)&peer, plen);
}

static void
conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;
	unsigned char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	struct linger lg = {1, 0};

	(void)what;
	if (n <= 0)
		return;
	s->n_seen++;
	switch (s->mode) {
	case M_TCP_SPLIT:
		/* two writes; the client may read them as one or two */
		(void)send(fd, "PO", 2, MSG_NOSIGNAL);
		(void)send(fd, "NG", 2, MSG_NOSIGNAL);
		return;
	case M_TCP_RESET:
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		break;
	case M_TCP_GARBAGE:
		(void)send(fd, "XXXX", 4, MSG_NOSIGNAL);
		break;
	default:
		break;
	}
	event_free(s->conn_ev);
	s->conn_ev = NULL;
	close(fd);
	s->conn = -1;
}

static void
accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;
	int c = accept(fd, NULL, NULL);

	(void)what;
	if (c < 0 || s->conn >= 0) {
		if (c >= 0)
			close(c);
		return;
	}
	s->conn = c;
	s->conn_ev = event_new(s->base, c, EV_READ | EV_PERSIST, conn_cb, s);
	event_add(s->conn_ev, NULL);
}

static bool
is_tcp(enum mode m)
{
	return m >= M_TCP_SPLIT;
}

static void
srv_start(struct srv *s, struct event_base *base, enum mode mode)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(s, 0, sizeof(*s));
	s->base = base;
	s->mode = mode;
	s->conn = -1;
	s->fd = socket(AF_INET, is_tcp(mode) ? SOCK_STREAM : SOCK_DGRAM, 0);
	assert_true(s->fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sin, &len), 0);
	s->port = ntohs(sin.sin_port);
	if (is_tcp(mode)) {
		assert_int_equal(listen(s->fd, 4), 0);
		s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST, accept_cb,
				  s);
	} else {
		s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST, udp_cb, s);
	}
	event_add(s->ev, NULL);
}

static void
srv_stop(struct srv *s)
{
	if (s->conn_ev != NULL)
		event_free(s->conn_ev);
	if (s->conn >= 0)
		close(s->conn);
	event_free(s->ev);
	close(s->fd);
}

/* --- running -------------------------------------------------------------- */

struct env {
	struct event_base *base;
	struct ww_engine *e;
	struct srv s;
	struct ww_exchange x;
	bool done;
};

static void
done_cb(void *arg)
{
	((struct env *)arg)->done = true;
}

static void
env_start(struct env *v, enum mode mode, double timeout)
{
	struct ww_config cfg;
	char err[256];

	memset(v, 0, sizeof(*v));
	v->base = event_base_new();
	assert_non_null(v->base);
	srv_start(&v->s, v->base, mode);
	memset(&cfg, 0, sizeof(cfg));
	cfg.resolver = "127.0.0.1:53";
	cfg.timeout = timeout;
	cfg.max_addrs = 4;
	v->e = ww_engine_new(v->base, &cfg, err, sizeof(err));
	if (v->e == NULL)
		fail_msg("engine: %s", err);
}

static void
env_stop(struct env *v)
{
	ww_exchange_clear(&v->x);
	ww_engine_free(v->e);
	srv_stop(&v->s);
	event_base_free(v->base);
}

/* Run the loop until the exchange reported (bounded: a broken test, never
 * a slow machine, reaches the bound). */
static void
run(struct env *v, struct ww_xdriver *d, int port)
{
	double end = ww_mono() + 60;
	struct xchg_op *op = xchg_start(v->e, d, "127.0.0.1", port, &v->x,
					ww_mono(), done_cb, v);

	assert_non_null(op);
	assert_false(v->done); /* never inside xchg_start */
	while (!v->done && ww_mono() < end)
		event_base_loop(v->base, EVLOOP_ONCE);
	assert_true(v->done);
}

/* --- tests ---------------------------------------------------------------- */

static void
test_udp_answer(void **state)
{
	struct env v;

	(void)state;
	env_start(&v, M_ANSWER, 5);
	run(&v, toy_driver(true, false), v.s.port);
	assert_null(v.x.failure);
	assert_true(v.x.answered);
	assert_true(v.x.udp);
	assert_string_equal(v.x.protocol, "toy");
	assert_string_equal(v.x.payload, "handshake");
	assert_string_equal(v.x.stage, "pong");
	assert_int_equal(v.x.n_sent, 1);
	assert_int_equal(v.x.bytes_sent, 4);
	assert_int_equal(v.x.first_length, 4);
	assert_int_equal(v.x.n_replies, 1);
	assert_int_equal(v.x.replies[0].length, 4);
	assert_memory_equal(v.x.replies[0].raw, "PONG", 4);
	assert_true(v.x.replies[0].ours);
	assert_true(v.x.t >= v.x.t0);
	env_stop(&v);
}

/* The first datagram is lost: the retransmission after 1 s is answered. */
static void
test_udp_retransmit(void **state)
{
	struct env v;

	(void)state;
	env_start(&v, M_SECOND, 10);
	run(&v, toy_driver(true, false), v.s.port);
	assert_null(v.x.failure);
	assert_true(v.x.answered);
	/* (a third send only when the answer to the second came over 2 s
	 * late, on a machine under heavy load) */
	assert_true(v.x.n_sent >= 2);
	assert_true(v.s.n_seen >= 2);
	assert_true(v.x.replies[0].t - v.x.t0 >= 1.0);
	env_stop(&v);
}

static void
test_udp_followup(void **state)
{
	struct env v;

	(void)state;
	env_start(&v, M_FOLLOWUP, 5);
	run(&v, toy_driver(true, true), v.s.port);
	assert_null(v.x.failure);
	assert_int_equal(v.x.n_sent, 2);
	assert_int_equal(v.x.n_replies, 2);
	assert_string_equal(v.x.replies[1].kind, "done");
	assert_string_equal(v.x.stage, "done");
	env_stop(&v);
}

/* Silence: the step's timeout, with the retransmissions it had time for. */
static void
test_udp_silent(void **state)
{
	struct env v;

	(void)state;
	env_start(&v, M_SILENT, 1.5);
	run(&v, toy_driver(true, false), v.s.port);
	assert_ptr_equal(v.x.failure, failure_generic_timeout);
	assert_false(v.x.answered);
	assert_null(v.x.stage);
	assert_int_equal(v.x.n_replies, 0);
	assert_true(v.x.n_sent >= 1 && v.x.n_sent <= 3);
	assert_true(v.s.n_seen >= 1 && v.s.n_seen <= v.x.n_sent);
	assert_true(v.x.t - v.x.t0 >= 1.5);
	env_stop(&v);
}

/* A port nobody receives on answers with ICMP port unreachable. A socket
 * connected to another peer holds it: Linux delivers it nothing from us,
 * and nothing else can take the port meanwhile. */
static void
test_udp_port_unreachable(void **state)
{
	struct env v;
	struct sockaddr_in sin, other;
	socklen_t len = sizeof(sin);
	int holder = socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	env_start(&v, M_ANSWER, 5);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(holder, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(holder, (struct sockaddr *)&sin, &len), 0);
	other = sin;
	other.sin_port = htons(9); /* anything but us */
	other.sin_addr.s_addr = htonl(0x7f000002);
	assert_int_equal(
		connect(holder, (struct sockaddr *)&other, sizeof(other)), 0);
	run(&v, toy_driver(true, false), ntohs(sin.sin_port));
	assert_ptr_equal(v.x.failure, failure_connection_refused);
	assert_false(v.x.answered);
	close(holder);
	env_stop(&v);
}

static void
test_tcp_split(void **state)
{
	struct env v;

	(void)state;
	env_start(&v, M_TCP_SPLIT, 5);
	run(&v, toy_driver(false, false), v.s.port);
	assert_null(v.x.failure);
	assert_false(v.x.udp);
	assert_true(v.x.connected);
	assert_true(v.x.answered);
	assert_string_equal(v.x.stage, "pong");
	assert_true(v.x.n_replies >= 1 && v.x.n_replies <= 2);
	assert_string_equal(v.x.replies[v.x.n_replies - 1].kind, "pong");
	env_stop(&v);
}

static void
test_tcp_reset(void **state)
{
	struct env v;

	(void)state;
	env_start(&v, M_TCP_RESET, 5);
	run(&v, toy_driver(false, false), v.s.port);
	assert_ptr_equal(v.x.failure, failure_connection_reset);
	assert_true(v.x.connected);
	assert_false(v.x.answered);
	env_stop(&v);
}

static void
test_tcp_close(void **state)
{
	struct env v;

	(void)state;
	env_start(&v, M_TCP_CLOSE, 5);
	run(&v, toy_driver(false, false), v.s.port);
	assert_ptr_equal(v.x.failure, failure_eof);
	assert_false(v.x.answered);
	env_stop(&v);
}

/* Bytes that are no message of the protocol are kept, but prove nothing. */
static void
test_tcp_garbage(void **state)
{
	struct env v;

	(void)state;
	env_start(&v, M_TCP_GARBAGE, 5);
	run(&v, toy_driver(false, false), v.s.port);
	assert_ptr_equal(v.x.failure, failure_eof);
	assert_false(v.x.answered);
	assert_int_equal(v.x.n_replies, 1);
	assert_null(v.x.replies[0].kind);
	assert_string_equal(v.x.replies[0].note, "not a toy message");
	env_stop(&v);
}

/* A neutral payload: any answer counts, whatever it says. */
static void
test_neutral(void **state)
{
	struct env v;
	const unsigned char bytes[] = "RANDOM-ISH BYTES";

	(void)state;
	env_start(&v, M_ANSWER, 5);
	run(&v,
	    ww_xdriver_neutral("toy", "ascii", true, bytes, sizeof(bytes) - 1),
	    v.s.port);
	assert_null(v.x.failure);
	assert_true(v.x.answered);
	assert_string_equal(v.x.payload, "ascii");
	assert_int_equal(v.x.first_length, sizeof(bytes) - 1);
	assert_string_equal(v.x.replies[0].kind, "data");
	env_stop(&v);
}

/* Cancelled before any answer: "interrupted", and no callback. */
static void
test_cancel(void **state)
{
	struct env v;
	struct xchg_op *op;

	(void)state;
	env_start(&v, M_SILENT, 5);
	op = xchg_start(v.e, toy_driver(true, false), "127.0.0.1", v.s.port,
			&v.x, ww_mono(), done_cb, &v);
	event_base_loop(v.base, EVLOOP_NONBLOCK);
	xchg_cancel(op);
	event_base_loop(v.base, EVLOOP_NONBLOCK);
	assert_false(v.done);
	assert_ptr_equal(v.x.failure, failure_interrupted);
	env_stop(&v);
}

/* The record as JSON: the keys docs/measurement-format.md names. */
static void
test_json(void **state)
{
	struct env v;
	struct ww_measurement *m = ww_measurement_new();
	json_t *j, *x;

	(void)state;
	env_start(&v, M_ANSWER, 5);
	run(&v, toy_driver(true, false), v.s.port);
	*ww_add_exchange(m) = v.x;
	memset(&v.x, 0, sizeof(v.x));
	j = ww_measurement_to_json(m);
	x = json_array_get(
		json_object_get(json_object_get(j, "test_keys"), "exchanges"),
		0);
	assert_non_null(x);
	assert_string_equal(json_string_value(json_object_get(x, "transport")),
			    "udp");
	assert_string_equal(json_string_value(json_object_get(x, "stage")),
			    "pong");
	assert_true(json_is_true(json_object_get(x, "answered")));
	assert_true(json_is_null(json_object_get(x, "failure")));
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(x, "replies"), 0),
			"raw")),
		"UE9ORw==");
	json_decref(j);
	ww_measurement_free(m);
	env_stop(&v);
}

static int first_calls;

static ssize_t
counted_first(void *st, unsigned char *out, size_t cap)
{
	first_calls++;
	return toy_first(st, out, cap);
}

/* The first packet is built once: the plan sizes it, the exchange sends
 * the same bytes. */
static void
test_first_built_once(void **state)
{
	struct ww_xdriver *d = toy_driver(true, false);
	unsigned char a[8], b[8], tiny[2];

	(void)state;
	d->first = counted_first;
	first_calls = 0;
	assert_int_equal(ww_xdriver_first(d, a, sizeof(a)), 4);
	assert_int_equal(ww_xdriver_first(d, b, sizeof(b)), 4);
	assert_int_equal(first_calls, 1);
	assert_memory_equal(a, b, 4);
	assert_int_equal(ww_xdriver_first(d, tiny, sizeof(tiny)), -1);
	ww_xdriver_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_answer),
		cmocka_unit_test(test_udp_retransmit),
		cmocka_unit_test(test_udp_followup),
		cmocka_unit_test(test_udp_silent),
		cmocka_unit_test(test_udp_port_unreachable),
		cmocka_unit_test(test_tcp_split),
		cmocka_unit_test(test_tcp_reset),
		cmocka_unit_test(test_tcp_close),
		cmocka_unit_test(test_tcp_garbage),
		cmocka_unit_test(test_neutral),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_first_built_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
