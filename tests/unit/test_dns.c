/*
 * test_dns.c - the DNS step (engine/loop/dns.c) against a tiny DNS server in
 * the test, on 127.0.0.1 port 0, driven by one event loop: the first
 * answer is the result and a second one to the same id is kept in the late
 * window; replies with a wrong id or question do not count; retransmissions
 * carry new ids and a reply to any of them is accepted; a truncated reply
 * hands the query to c-ares (TCP); no window, or a cancelled one, ends the
 * query at once without leaking (run under ASan by make unit-asan).
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

#include "internal.h"
#include "util.h"

#define NAME "www.example.test"
#define MAX_SEEN 8

enum mode {
	M_TWICE,       /* forged at once; garbage and the real one later */
	M_WRONG_FIRST, /* wrong id, then wrong question, then the real */
	M_DROP_FIRST,  /* silent to the first; the second gets an answer
			  to the first's id */
	M_SILENT,      /* never answers */
	M_TC,	       /* UDP: truncated; TCP: the answer */
	M_NXDOMAIN,
	M_UPPER, /* the question in upper case */
};

struct srv {
	struct event_base *base;
	enum mode mode;
	int udp, tcp, conn; /* conn: one TCP client at a time */
	struct event *udp_ev, *tcp_ev, *conn_ev, *later;
	unsigned char conn_buf[1024];
	size_t conn_len;
	/* queries seen on UDP */
	unsigned n_seen;
	uint16_t ids[MAX_SEEN];
	unsigned char last_q[512];
	size_t last_qlen;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	int port;
};

/* The test's side of one query. */
struct run {
	struct ww_query out;	  /* the step's record */
	struct ww_query evidence; /* where closed hands the datagrams */
	struct dns_op *op;
	int n_cb, n_closed;
	double t_cb, t_closed;
	bool cancel_in_window; /* cancel right after cb */
	bool closed_in_cancel;
};

/* --- the server ----------------------------------------------------------- */

/* A reply to query q: rcode, flags, and n_addr A records of addr. */
static size_t
build_reply(const unsigned char *q, size_t qlen, uint16_t id, int rcode,
	    bool tc, const unsigned char *addr, int n_addr, unsigned char *out)
{
	size_t qd = 12, len;

	while (qd < qlen && q[qd] != 0)
		qd += q[qd] + 1u;
	qd += 1 + 4; /* the final zero, type, class */
	memset(out, 0, 12);
	out[0] = (unsigned char)(id >> 8);
	out[1] = (unsigned char)id;
	out[2] = (unsigned char)(0x81 | (tc ? 0x02 : 0)); /* QR RD [TC] */
	out[3] = (unsigned char)(0x80 | rcode);		  /* RA */
	out[5] = 1;
	out[7] = (unsigned char)n_addr;
	memcpy(out + 12, q + 12, qd - 12);
	len = qd;
	for (int i = 0; i < n_addr; i++) {
		static const unsigned char rr[] = {0xc0, 12, 0, 1,  0, 1,
						   0,	 0,  1, 44, 0, 4};

		memcpy(out + len, rr, sizeof(rr));
		memcpy(out + len + sizeof(rr), addr, 4);
		len += sizeof(rr) + 4;
	}
	return len;
}

static void
srv_send(struct srv *s, const unsigned char *b, size_t n)
{
	assert_int_equal(sendto(s->udp, b, n, 0, (struct sockaddr *)&s->peer,
				s->peer_len),
			 (ssize_t)n);
}

static const unsigned char forged[4] = {1, 2, 3, 4};
static const unsigned char real[4] = {5, 6, 7, 8};
static const unsigned char via_tcp[4] = {9, 9, 9, 9};

/* The second half of M_TWICE: garbage, then the real answer. */
static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;
	unsigned char r[512];
	size_t n = build_reply(s->last_q, s->last_qlen, s->ids[0], 0, false,
			       real, 1, r);

	(void)fd;
	(void)what;
	srv_send(s, (const unsigned char *)"\x01\x02\x03", 3);
	srv_send(s, r, n);
}

static void
udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;
	unsigned char q[512], r[512];
	struct timeval twenty_ms = {0, 20000};
	ssize_t qn;
	size_t n;
	uint16_t id;

	(void)what;
	s->peer_len = sizeof(s->peer);
	qn = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&s->peer,
		      &s->peer_len);
	if (qn < 12)
		return;
	id = (uint16_t)(q[0] << 8 | q[1]);
	if (s->n_seen < MAX_SEEN)
		s->ids[s->n_seen] = id;
	s->n_seen++;
	memcpy(s->last_q, q, (size_t)qn);
	s->last_qlen = (size_t)qn;
	switch (s->mode) {
	case M_TWICE:
		n = build_reply(q, (size_t)qn, id, 0, false, forged, 1, r);
		srv_send(s, r, n);
		evtimer_add(s->later, &twenty_ms);
		break;
	case M_WRONG_FIRST:
		n = build_reply(q, (size_t)qn, id ^ 0x5555, 0, false, forged, 1,
				r);
		srv_send(s, r, n);
		n = build_reply(q, (size_t)qn, id, 0, false, forged, 1, r);
		r[13] ^= 0x01; /* "www" becomes "vww": not our question */
		srv_send(s, r, n);
		n = build_reply(q, (size_t)qn, id, 0, false, real, 1, r);
		srv_send(s, r, n);
		break;
	case M_DROP_FIRST:
		if (s->n_seen == 1)
			break;
		n = build_reply(q, (size_t)qn, s->ids[0], 0, false, real, 1, r);
		srv_send(s, r, n);
		break;
	case M_SILENT:
		break;
	case M_TC:
		n = build_reply(q, (size_t)qn, id, 0, true, NULL, 0, r);
		srv_send(s, r, n);
		break;
	case M_NXDOMAIN:
		n = build_reply(q, (size_t)qn, id, 3, false, NULL, 0, r);
		srv_send(s, r, n);
		break;
	case M_UPPER:
		n = build_reply(q, (size_t)qn, id, 0, false, real, 1, r);
		for (size_t i = 12; i < 12 + strlen(NAME); i++)
			if (r[i] >= 'a' && r[i] <= 'z')
				r[i] = (unsigned char)(r[i] - 'a' + 'A');
		srv_send(s, r, n);
		break;
	}
}

/* TCP (c-ares after a TC reply): length-prefixed, one query. */
static void
conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;
	unsigned char r[514];
	ssize_t n;
	size_t want, rn;

	(void)what;
	n = read(fd, s->conn_buf + s->conn_len,
		 sizeof(s->conn_buf) - s->conn_len);
	if (n <= 0) {
		event_free(s->conn_ev);
		s->conn_ev = NULL;
		close(s->conn);
		s->conn = -1;
		return;
	}
	s->conn_len += (size_t)n;
	if (s->conn_len < 2)
		return;
	want = (size_t)s->conn_buf[0] << 8 | s->conn_buf[1];
	if (s->conn_len < 2 + want)
		return;
	rn = build_reply(s->conn_buf + 2, want,
			 (uint16_t)(s->conn_buf[2] << 8 | s->conn_buf[3]), 0,
			 false, via_tcp, 1, r + 2);
	r[0] = (unsigned char)(rn >> 8);
	r[1] = (unsigned char)rn;
	assert_int_equal(write(fd, r, rn + 2), (ssize_t)(rn + 2));
	s->conn_len = 0;
}

static void
accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;
	int c = accept(fd, NULL, NULL);

	(void)what;
	if (c < 0)
		return;
	if (s->conn >= 0) { /* one at a time is all c-ares needs */
		close(c);
		return;
	}
	s->conn = c;
	s->conn_len = 0;
	s->conn_ev = event_new(s->base, c, EV_READ | EV_PERSIST, conn_cb, s);
	event_add(s->conn_ev, NULL);
}

/* UDP on 127.0.0.1 (or ::1) port 0, and TCP on the same number (for
 * c-ares' TCP retry): if that number is taken for TCP, another one.
 * Returns false when the host has no ::1. */
static bool
srv_start(struct srv *s, struct event_base *base, enum mode mode, bool v6)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len, alen = v6 ? sizeof(*a6) : sizeof(*a4);
	int fam = v6 ? AF_INET6 : AF_INET;

	memset(s, 0, sizeof(*s));
	s->base = base;
	s->mode = mode;
	s->conn = -1;
	for (int tries = 0; tries < 32; tries++) {
		memset(&ss, 0, sizeof(ss));
		if (v6) {
			a6->sin6_family = AF_INET6;
			a6->sin6_addr = in6addr_loopback;
		} else {
			a4->sin_family = AF_INET;
			a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		}
		s->udp = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (s->udp < 0 ||
		    bind(s->udp, (struct sockaddr *)&ss, alen) != 0) {
			assert_true(v6);
			if (s->udp >= 0)
				close(s->udp);
			return false;
		}
		len = sizeof(ss);
		assert_int_equal(
			getsockname(s->udp, (struct sockaddr *)&ss, &len), 0);
		s->tcp = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(s->tcp >= 0);
		if (bind(s->tcp, (struct sockaddr *)&ss, alen) == 0 &&
		    listen(s->tcp, 4) == 0)
			break;
		close(s->tcp);
		close(s->udp);
		s->tcp = s->udp = -1;
	}
	assert_true(s->udp >= 0);
	s->port = ntohs(v6 ? a6->sin6_port : a4->sin_port);
	s->udp_ev = event_new(base, s->udp, EV_READ | EV_PERSIST, udp_cb, s);
	s->tcp_ev = event_new(base, s->tcp, EV_READ | EV_PERSIST, accept_cb, s);
	s->later = evtimer_new(base, later_cb, s);
	event_add(s->udp_ev, NULL);
	event_add(s->tcp_ev, NULL);
	return true;
}

static void
srv_stop(struct srv *s)
{
	event_free(s->udp_ev);
	event_free(s->tcp_ev);
	event_free(s->later);
	if (s->conn_ev != NULL)
		event_free(s->conn_ev);
	if (s->conn >= 0)
		close(s->conn);
	close(s->udp);
	close(s->tcp);
}

/* --- the step ------------------------------------------------------------- */

static void
step_cb(void *arg)
{
	struct run *r = arg;

	r->n_cb++;
	r->t_cb = ww_mono();
	if (r->cancel_in_window) {
		dns_cancel(r->op);
		r->closed_in_cancel = r->n_closed == 1;
	}
}

static void
closed_cb(void *arg, struct dns_op *op)
{
	struct run *r = arg;

	assert_ptr_equal(op, r->op);
	r->n_closed++;
	r->t_closed = ww_mono();
	dns_take_evidence(op, &r->evidence);
}

struct env {
	struct event_base *base;
	struct ww_engine *e;
	struct srv s;
};

static bool
env_start_at(struct env *v, enum mode mode, double timeout, double window,
	     bool v6)
{
	struct ww_config cfg;
	char resolver[64], err[256];

	memset(v, 0, sizeof(*v));
	v->base = event_base_new();
	assert_non_null(v->base);
	if (!srv_start(&v->s, v->base, mode, v6)) {
		event_base_free(v->base);
		return false;
	}
	snprintf(resolver, sizeof(resolver), v6 ? "[::1]:%d" : "127.0.0.1:%d",
		 v->s.port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.resolver = resolver;
	cfg.timeout = timeout;
	cfg.max_addrs = 4;
	cfg.dns_late_window = window;
	v->e = ww_engine_new(v->base, &cfg, err, sizeof(err));
	if (v->e == NULL)
		fail_msg("engine: %s", err);
	return true;
}

static void
env_start(struct env *v, enum mode mode, double timeout, double window)
{
	env_start_at(v, mode, timeout, window, false);
}

static void
env_stop(struct env *v)
{
	ww_engine_free(v->e);
	srv_stop(&v->s);
	event_base_free(v->base);
}

/* Run the loop until the query has closed (bounded: a broken test, never
 * a slow machine, reaches the bound). */
static void
run_until_closed(struct env *v, struct run *r)
{
	double end = ww_mono() + 60;

	while (r->n_closed == 0 && ww_mono() < end)
		event_base_loop(v->base, EVLOOP_ONCE);
	assert_int_equal(r->n_closed, 1);
}

static void
start(struct env *v, struct run *r, int type)
{
	memset(r, 0, sizeof(*r));
	r->out.transaction_id = 1;
	r->op = dns_start(v->e, NAME, type, &r->out, ww_mono(), step_cb,
			  closed_cb, r);
	assert_non_null(r->op);
	assert_int_equal(r->n_cb, 0); /* never before dns_start returns */
}

static void
run_clear(struct run *r)
{
	ww_query_clear(&r->out);
	ww_query_clear(&r->evidence);
}

static const char *
addr0(const struct ww_dns_msg *m)
{
	return m->n_addrs > 0 ? m->addrs[0] : "(none)";
}

/* --- the tests ------------------------------------------------------------ */

static void
test_second_answer_kept(void **state)
{
	struct env v;
	struct run r;
	const struct ww_dns_msg *m;

	(void)state;
	env_start(&v, M_TWICE, 5, 0); /* 0: the default window */
	assert_true(v.e->dns_late_window == WW_DNS_LATE_WINDOW);
	start(&v, &r, 1);
	run_until_closed(&v, &r);
	assert_int_equal(r.n_cb, 1);
	/* The result is the first answer, the forged one. */
	assert_null(r.out.failure);
	assert_int_equal(r.out.rcode, 0);
	assert_int_equal(r.out.n_answers, 1);
	assert_string_equal(r.out.answers[0].value, "1.2.3.4");
	assert_int_equal(r.out.n_sent, 1);
	assert_true(r.out.raw_len > 12);
	/* The window ran its length after the result. */
	assert_true(r.t_closed - r.t_cb >= WW_DNS_LATE_WINDOW - 0.05);
	/* Every datagram is evidence: forged, garbage, real. */
	assert_int_equal(r.evidence.n_replies, 3);
	assert_int_equal(r.evidence.n_replies_seen, 3);
	m = &r.evidence.replies[0];
	assert_int_equal(m->dns_id, v.s.ids[0]);
	assert_true(m->question_ok);
	assert_int_equal(m->rcode, 0);
	assert_string_equal(addr0(m), "1.2.3.4");
	assert_int_equal(m->ip_ttl, -1);
	assert_int_equal(m->ip_id, -1);
	assert_int_equal(m->wire_len, m->raw_len);
	m = &r.evidence.replies[1];
	assert_int_equal(m->rcode, -1);
	assert_false(m->question_ok);
	assert_int_equal(m->wire_len, 3);
	m = &r.evidence.replies[2];
	assert_int_equal(m->dns_id, v.s.ids[0]);
	assert_true(m->question_ok);
	assert_string_equal(addr0(m), "5.6.7.8");
	assert_true(m->t >= r.evidence.replies[0].t);
	run_clear(&r);
	env_stop(&v);
}

static void
test_wrong_id_and_question_ignored(void **state)
{
	struct env v;
	struct run r;

	(void)state;
	env_start(&v, M_WRONG_FIRST, 5, 0.05);
	start(&v, &r, 1);
	run_until_closed(&v, &r);
	assert_null(r.out.failure);
	assert_string_equal(r.out.answers[0].value, "5.6.7.8");
	assert_int_equal(r.evidence.n_replies, 3);
	assert_int_not_equal(r.evidence.replies[0].dns_id, v.s.ids[0]);
	assert_true(r.evidence.replies[0].question_ok);
	assert_int_equal(r.evidence.replies[1].dns_id, v.s.ids[0]);
	assert_false(r.evidence.replies[1].question_ok);
	assert_true(r.evidence.replies[2].question_ok);
	run_clear(&r);
	env_stop(&v);
}

static void
test_retransmission_new_id(void **state)
{
	struct env v;
	struct run r;

	(void)state;
	env_start(&v, M_DROP_FIRST, 1.5, 0.05);
	start(&v, &r, 1);
	run_until_closed(&v, &r);
	/* The first went unanswered; the answer to its id, which came after
	 * the retransmission, is accepted. */
	assert_null(r.out.failure);
	assert_string_equal(r.out.answers[0].value, "5.6.7.8");
	assert_true(r.out.n_sent >= 2);
	assert_true(v.s.n_seen >= 2);
	assert_int_not_equal(v.s.ids[0], v.s.ids[1]);
	assert_int_equal(r.evidence.replies[0].dns_id, v.s.ids[0]);
	run_clear(&r);
	env_stop(&v);
}

static void
test_timeout_retransmits(void **state)
{
	struct env v;
	struct run r;

	(void)state;
	env_start(&v, M_SILENT, 0.6, 5);
	start(&v, &r, 28);
	run_until_closed(&v, &r);
	assert_string_equal(r.out.failure, "generic_timeout_error");
	assert_int_equal(r.out.rcode, -1);
	/* At timeout/3 and 2*timeout/3 (a loop woken late may run the
	 * deadline before the second): each with an id of its own. */
	assert_true(r.out.n_sent >= 2 && r.out.n_sent <= 3);
	assert_int_equal(v.s.n_seen, r.out.n_sent);
	for (unsigned i = 0; i < v.s.n_seen; i++)
		for (unsigned k = i + 1; k < v.s.n_seen; k++)
			assert_int_not_equal(v.s.ids[i], v.s.ids[k]);
	/* Nothing came: no window, closed right after the report. */
	assert_int_equal(r.evidence.n_replies_seen, 0);
	assert_true(r.t_closed - r.t_cb < 5);
	run_clear(&r);
	env_stop(&v);
}

static void
test_truncated_falls_back_to_tcp(void **state)
{
	struct env v;
	struct run r;

	(void)state;
	env_start(&v, M_TC, 5, 0.05);
	start(&v, &r, 1);
	run_until_closed(&v, &r);
	assert_null(r.out.failure);
	assert_int_equal(r.out.n_answers, 1);
	assert_string_equal(r.out.answers[0].value, "9.9.9.9");
	/* Our socket saw the truncated reply only (c-ares used its own). */
	assert_int_equal(r.evidence.n_replies, 1);
	assert_true((r.evidence.replies[0].raw[2] & 0x02) != 0);
	run_clear(&r);
	env_stop(&v);
}

static void
test_no_window(void **state)
{
	struct env v;
	struct run r;

	(void)state;
	env_start(&v, M_TWICE, 5, -1);
	assert_true(v.e->dns_late_window < 0);
	start(&v, &r, 1);
	run_until_closed(&v, &r);
	assert_string_equal(r.out.answers[0].value, "1.2.3.4");
	/* Closed before the server's second round was even sent. */
	assert_int_equal(r.evidence.n_replies, 1);
	assert_int_equal(r.evidence.n_replies_seen, 1);
	assert_string_equal(addr0(&r.evidence.replies[0]), "1.2.3.4");
	run_clear(&r);
	env_stop(&v);
}

static void
test_cancel_in_window(void **state)
{
	struct env v;
	struct run r;
	double t0;

	(void)state;
	env_start(&v, M_TWICE, 5, 30);
	start(&v, &r, 1);
	r.cancel_in_window = true;
	t0 = ww_mono();
	run_until_closed(&v, &r);
	assert_int_equal(r.n_cb, 1);
	assert_true(r.closed_in_cancel); /* closed ran inside dns_cancel */
	assert_true(ww_mono() - t0 < 30);
	assert_string_equal(r.out.answers[0].value, "1.2.3.4");
	assert_true(r.evidence.n_replies >= 1);
	/* The loop runs on: nothing of the op is left to fire. */
	event_base_loop(v.base, EVLOOP_NONBLOCK);
	run_clear(&r);
	env_stop(&v);
}

static void
test_cancel_before_result(void **state)
{
	struct env v;
	struct run r;

	(void)state;
	env_start(&v, M_SILENT, 5, 1);
	start(&v, &r, 1);
	while (v.s.n_seen == 0)
		event_base_loop(v.base, EVLOOP_ONCE);
	dns_cancel(r.op);
	assert_int_equal(r.n_closed, 1);
	assert_int_equal(r.n_cb, 0);
	assert_string_equal(r.out.failure, "interrupted");
	assert_int_equal(r.out.n_sent, 1);
	run_clear(&r);
	env_stop(&v);
}

static void
test_nxdomain(void **state)
{
	struct env v;
	struct run r;

	(void)state;
	env_start(&v, M_NXDOMAIN, 5, 0.01);
	start(&v, &r, 1);
	run_until_closed(&v, &r);
	assert_string_equal(r.out.failure, "dns_nxdomain_error");
	assert_int_equal(r.out.rcode, 3);
	assert_int_equal(r.evidence.replies[0].rcode, 3);
	run_clear(&r);
	env_stop(&v);
}

static void
test_question_case_insensitive(void **state)
{
	struct env v;
	struct run r;

	(void)state;
	env_start(&v, M_UPPER, 5, 0.01);
	start(&v, &r, 1);
	run_until_closed(&v, &r);
	assert_null(r.out.failure);
	assert_string_equal(r.out.answers[0].value, "5.6.7.8");
	assert_true(r.evidence.replies[0].question_ok);
	run_clear(&r);
	env_stop(&v);
}

/* An IPv6 resolver ("[::1]:port"), both answers kept as over IPv4. */
static void
test_ipv6_resolver(void **state)
{
	struct env v;
	struct run r;

	(void)state;
	if (!env_start_at(&v, M_TWICE, 5, 0.5, true)) {
		skip(); /* no ::1 here */
		return;
	}
	start(&v, &r, 1);
	run_until_closed(&v, &r);
	assert_null(r.out.failure);
	assert_true(strncmp(r.out.resolver_address, "[::1]:", 6) == 0);
	assert_string_equal(r.out.answers[0].value, "1.2.3.4");
	assert_int_equal(r.evidence.n_replies, 3);
	assert_string_equal(addr0(&r.evidence.replies[2]), "5.6.7.8");
	run_clear(&r);
	env_stop(&v);
}

/* The query itself: EDNS with a 1232-byte payload, and RD. */
static void
test_query_has_edns(void **state)
{
	struct env v;
	struct run r;
	const unsigned char *q;
	size_t n;

	(void)state;
	env_start(&v, M_NXDOMAIN, 5, 0.01);
	start(&v, &r, 28);
	run_until_closed(&v, &r);
	q = v.s.last_q;
	n = v.s.last_qlen;
	assert_true(n > 12 + 11);
	assert_int_equal(q[2] & 0x01, 1); /* RD */
	assert_int_equal(q[11], 1);	  /* ARCOUNT: the OPT record */
	/* OPT: root name, type 41, class = payload size */
	assert_int_equal(q[n - 11], 0);
	assert_int_equal(q[n - 10] << 8 | q[n - 9], 41);
	assert_int_equal(q[n - 8] << 8 | q[n - 7], 1232);
	run_clear(&r);
	env_stop(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_second_answer_kept),
		cmocka_unit_test(test_wrong_id_and_question_ignored),
		cmocka_unit_test(test_retransmission_new_id),
		cmocka_unit_test(test_timeout_retransmits),
		cmocka_unit_test(test_truncated_falls_back_to_tcp),
		cmocka_unit_test(test_no_window),
		cmocka_unit_test(test_cancel_in_window),
		cmocka_unit_test(test_cancel_before_result),
		cmocka_unit_test(test_nxdomain),
		cmocka_unit_test(test_question_case_insensitive),
		cmocka_unit_test(test_query_has_edns),
		cmocka_unit_test(test_ipv6_resolver),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
