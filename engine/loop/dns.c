/*
 * dns.c - the DNS step: one A or AAAA query (never getaddrinfo), recorded
 * with every answer and its TTL, the rcode, the raw reply, the resolver and
 * the time taken; and every other datagram that came back to the query's
 * socket, the evidence of an on-path injector.
 *
 * Why not c-ares alone: c-ares keeps the first reply and drops the rest,
 * but an injector (the GFW) races a forged answer ahead of the resolver's,
 * so the second answer to the same id is what proves the injection. Each
 * query therefore goes out on a connected UDP socket of its own (source
 * port chosen by the kernel), built by ares_create_query (EDNS, 1232
 * bytes), to the resolver c-ares would ask first. Each transmission gets a
 * fresh id from a CSPRNG, since the id and the port are all that keep an
 * off-path forger out; retransmissions go out at timeout/3 and 2*timeout/3,
 * and a reply to any of our ids is accepted. The step's own deadline is the
 * step timeout. A truncated (TC) reply hands the query to c-ares, which
 * asks again and moves to TCP; the UDP datagrams stay as evidence.
 *
 * The first reply whose id is ours and whose question is ours (name case-
 * insensitively, type, class IN) is the step's result, reported at once.
 * The socket then keeps listening for the engine's late window; every
 * datagram that arrived on it (ours or not, parsed or not, from the first
 * transmission until the window ends) is kept, up to WW_DNS_MAX_REPLIES.
 * An ICMP port unreachable (ECONNREFUSED) is a result too.
 *
 * When no socket can be had (no resolver address known, out of
 * descriptors), the query goes through c-ares as before, without evidence.
 * A query abandoned at its deadline (or cancelled) while c-ares has it
 * stays allocated until c-ares calls back, since c-ares holds our pointer.
 * Queries beyond WW_DNS_MAX_INFLIGHT wait in a FIFO queue (internal.h says
 * why); a query holds its slot while it transmits, not while it listens.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "dnsmsg.h"
#include "failure.h"
#include "internal.h"
#include "util.h"

#define DNS_HEADER_LEN 12
#define DNS_EDNS_PAYLOAD 1232 /* the DNS flag day 2020 size */
#define DNS_TRANSMISSIONS 3   /* at 0, timeout/3, 2*timeout/3 */
#define DNS_READS_PER_WAKE 64 /* then let the loop serve others */
#define DNS_DRAIN_MAX 1024    /* read at most this many when closing */
#define DNS_RBUF_SIZE 65536   /* any UDP datagram */

enum dns_state {
	DNS_QUEUED,   /* waiting for an in-flight slot */
	DNS_WAITING,  /* sent on our socket, no result yet */
	DNS_FALLBACK, /* c-ares asks (a TC reply, or no socket of ours) */
	DNS_REPORTED, /* the step has reported (or was cancelled) */
};

struct dns_op {
	struct ww_engine *e;
	enum dns_state state;
	struct dns_op *next;  /* in the engine's queue */
	struct ww_query *out; /* the step's record, until it reports */
	int type;
	double t_base;
	dns_cb cb;
	dns_closed_cb closed;
	void *arg;
	/* deadline: the step timeout; also reports a result recorded where
	 * cb must not run yet. retx: the next transmission. late: the end of
	 * the late window, and closing from the loop. */
	struct event *deadline, *retx, *late, *rd;
	int fd; /* our socket; -1 once closed (or never opened) */
	uint32_t flow;
	unsigned char *query; /* as built by ares_create_query */
	int query_len;
	size_t question_len; /* name, type and class, after the header */
	uint16_t ids[DNS_TRANSMISSIONS];
	unsigned n_tx;	     /* ids used */
	unsigned n_sent;     /* transmissions that left */
	bool recorded;	     /* out holds the result; report from the loop */
	bool starting;	     /* inside io_ares_query: defer its callback */
	bool slot;	     /* holds a WW_DNS_MAX_INFLIGHT slot */
	bool ares_pending;   /* c-ares holds op */
	bool window_started; /* the late window runs (or ran) */
	double window_end;   /* on ww_mono()'s clock */
	bool closed_done;    /* closed has run */
	struct ww_dns_msg *replies;
	size_t n_replies, cap_replies, n_seen;
};

static const char *
failure_from_ares(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return NULL;
	case ARES_ENODATA:
		return failure_dns_no_answer;
	case ARES_ENOTFOUND:
		return failure_dns_nxdomain;
	case ARES_ESERVFAIL:
		return failure_dns_servfail;
	case ARES_EREFUSED:
		return failure_dns_refused;
	case ARES_ETIMEOUT:
		return failure_generic_timeout;
	case ARES_ECONNREFUSED: /* e.g. ICMP port unreachable from it */
		return failure_connection_refused;
	case ARES_EFORMERR:
	case ARES_EBADRESP:
	case ARES_ENOTIMP:
		return failure_dns_server_misbehaving;
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		return failure_interrupted;
	default:
		return failure_unknown;
	}
}

/* What c-ares' ares_query() makes of a reply's header (ares_query.c
 * qcallback in 1.18), so that our replies fail the way c-ares' did. */
static int
status_of_reply(const unsigned char *b)
{
	unsigned ancount = (unsigned)b[6] << 8 | b[7];

	switch (b[3] & 0x0f) {
	case 0:
		return ancount > 0 ? ARES_SUCCESS : ARES_ENODATA;
	case 1:
		return ARES_EFORMERR;
	case 2:
		return ARES_ESERVFAIL;
	case 3:
		return ARES_ENOTFOUND;
	case 4:
		return ARES_ENOTIMP;
	case 5:
		return ARES_EREFUSED;
	default:
		return ARES_SUCCESS;
	}
}

static bool
has_type(const struct ww_query *q, enum ww_rr_type t)
{
	for (size_t i = 0; i < q->n_answers; i++)
		if (q->answers[i].type == t)
			return true;
	return false;
}

static void
record(struct dns_op *op, int status, const unsigned char *abuf, int alen)
{
	struct ww_query *q = op->out;
	struct ww_dns_reply r;
	char err[128];
	const char *f = failure_from_ares(status);

	if (abuf != NULL && alen > 0) {
		q->raw = xmalloc((size_t)alen);
		memcpy(q->raw, abuf, (size_t)alen);
		q->raw_len = (size_t)alen;
		if (ww_dns_parse_reply(abuf, (size_t)alen, &r, q, err,
				       sizeof(err)) == 0) {
			q->rcode = r.rcode;
		} else {
			q->rcode = alen >= 4 ? (abuf[3] & 0x0f) : -1;
			if (f == NULL) {
				ww_set_failure(&q->failure, &q->failure_detail,
					       failure_dns_server_misbehaving,
					       err);
				return;
			}
		}
	}
	if (f == NULL && !has_type(q, op->type == 28 ? WW_RR_AAAA : WW_RR_A))
		f = failure_dns_no_answer; /* e.g. only a CNAME */
	if (f != NULL)
		ww_set_failure(&q->failure, &q->failure_detail, f,
			       f == failure_unknown ? ares_strerror(status)
						    : NULL);
}

/* --- the in-flight limit -------------------------------------------------- */

/* Send queued queries from the loop, never from inside a callback. */
static void
pump_later(struct ww_engine *e)
{
	if (e->dns_queue_head != NULL && e->dns_inflight < WW_DNS_MAX_INFLIGHT)
		event_active(e->dns_pump, EV_TIMEOUT, 0);
}

static void
release_slot(struct dns_op *op)
{
	if (!op->slot)
		return;
	op->slot = false;
	op->e->dns_inflight--;
	pump_later(op->e);
}

/* --- closing -------------------------------------------------------------- */

/* Fire ev in secs seconds. */
static void
arm(struct event *ev, double secs)
{
	struct timeval tv;

	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	evtimer_add(ev, &tv);
}

static void read_datagrams(struct dns_op *op, int max, bool closing);

static void
op_free(struct dns_op *op)
{
	event_free(op->deadline);
	event_free(op->retx);
	event_free(op->late);
	if (op->query != NULL)
		ares_free_string(op->query);
	for (size_t i = 0; i < op->n_replies; i++)
		ww_dns_msg_clear(&op->replies[i]);
	free(op->replies);
	free(op);
}

/* Stop listening: what the kernel queued before now is still read. */
static void
close_socket(struct dns_op *op)
{
	struct ww_engine *e = op->e;

	if (op->fd < 0)
		return;
	read_datagrams(op, DNS_DRAIN_MAX, true);
	event_free(op->rd);
	op->rd = NULL;
	close(op->fd);
	op->fd = -1;
	evtimer_del(op->late);
	if (op->flow != 0 && e->cap != NULL)
		cap_flow_close(e->cap, op->flow);
}

/* The step has reported and the socket is closed: hand the evidence over
 * (closed runs once), then free op unless c-ares still holds it. */
static void
run_closed(struct dns_op *op)
{
	if (op->closed_done)
		return;
	op->closed_done = true;
	op->closed(op->arg, op);
	if (!op->ares_pending)
		op_free(op);
}

/* The late window ended, or a report asked for closing from the loop. */
static void
late_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_op *op = arg;
	double left = op->window_end - ww_mono();

	(void)fd;
	(void)what;
	/* libevent may use a coarse clock that fires a few ms early: the
	 * window is whole on ours. */
	if (op->fd >= 0 && op->window_started && left > 0) {
		arm(op->late, left);
		return;
	}
	close_socket(op);
	if (op->state == DNS_REPORTED)
		run_closed(op);
	/* else c-ares is still at it (TC fallback): closed runs after the
	 * report. */
}

/* The first reply (or an ICMP error) came: listen for the late window,
 * or not at all. */
static void
start_window(struct dns_op *op)
{
	double w = op->e->dns_late_window;

	if (op->window_started)
		return;
	op->window_started = true;
	if (op->fd < 0)
		return;
	if (w <= 0) {
		close_socket(op);
		return;
	}
	op->window_end = ww_mono() + w;
	arm(op->late, w);
}

/*
 * The step's result is in out: report it. out is the caller's from here
 * on. cb runs last, so that it may cancel op.
 */
/* The step is over for its caller: out gets its time, transmissions and
 * flow, and is the caller's from here on; the deadline and the resends
 * stop; the in-flight slot is given back unless c-ares still holds op. */
static void
hand_over(struct dns_op *op)
{
	struct ww_query *q = op->out;

	q->t = ww_mono() - op->t_base;
	q->n_sent = op->n_sent;
	q->flow = op->flow;
	op->out = NULL;
	op->state = DNS_REPORTED;
	evtimer_del(op->deadline);
	evtimer_del(op->retx);
	if (!op->ares_pending)
		release_slot(op);
}

static void
report(struct dns_op *op)
{
	dns_cb cb = op->cb;
	void *arg = op->arg;

	hand_over(op);
	if (!op->window_started)
		close_socket(op); /* a timeout: nothing came, no window */
	if (op->fd < 0)
		event_active(op->late, EV_TIMEOUT, 0);
	cb(arg);
}

/* A result was recorded where cb must not run (inside dns_start or a
 * c-ares call): report from the loop. */
static void
report_later(struct dns_op *op)
{
	op->recorded = true;
	evtimer_del(op->deadline);
	event_active(op->deadline, EV_TIMEOUT, 0);
}

/* --- c-ares (TC fallback, or no socket) ----------------------------------- */

static void
ares_cb(void *arg, int status, const unsigned char *abuf, int alen)
{
	struct dns_op *op = arg;

	op->ares_pending = false;
	release_slot(op);
	if (op->state == DNS_REPORTED) {
		/* abandoned at the deadline or cancelled */
		if (op->closed_done)
			op_free(op);
		return;
	}
	op->e->bytes += (uint64_t)(alen > 0 ? alen : 0) +
			strlen(op->out->hostname) + 29;
	record(op, status, abuf, alen);
	if (op->starting) {
		report_later(op);
		return;
	}
	report(op);
}

static void
to_ares(struct dns_op *op)
{
	op->state = DNS_FALLBACK;
	evtimer_del(op->retx);
	op->ares_pending = true;
	op->starting = true;
	io_ares_query(op->e->ares, op->out->hostname, op->type, ares_cb, op);
	op->starting = false;
}

/* --- the datagrams -------------------------------------------------------- */

static bool
question_matches(const struct dns_op *op, const unsigned char *b, size_t n)
{
	return ww_dns_question_is(b, n, op->query + DNS_HEADER_LEN,
				  op->question_len);
}

static bool
is_our_id(const struct dns_op *op, uint16_t id)
{
	for (unsigned i = 0; i < op->n_tx; i++)
		if (op->ids[i] == id)
			return true;
	return false;
}

/* Keep one datagram as evidence (the first WW_DNS_MAX_REPLIES). */
static void
keep(struct dns_op *op, const unsigned char *b, size_t n, size_t wire_len)
{
	struct ww_dns_msg *m;

	op->n_seen++;
	if (op->n_replies >= WW_DNS_MAX_REPLIES)
		return;
	/* One reply is the rule: room for more as they come. */
	WW_PUSH(op->replies, op->n_replies, op->cap_replies);
	m = &op->replies[op->n_replies - 1];
	ww_dns_msg_parse(b, n, wire_len, op->query + DNS_HEADER_LEN,
			 op->question_len, m);
	m->t = ww_mono() - op->t_base;
}

/* An ICMP error on the socket: the query's result if it has none yet. */
static void
socket_error(struct dns_op *op, int err)
{
	if (op->state != DNS_WAITING || op->recorded)
		return;
	if (err == ECONNREFUSED)
		record(op, ARES_ECONNREFUSED, NULL, 0);
	else
		ww_set_failure(&op->out->failure, &op->out->failure_detail,
			       failure_from_errno(err), NULL);
	start_window(op);
	if (op->starting)
		report_later(op); /* the first send, inside dns_start */
	else
		report(op);
}

/*
 * One datagram. Returns true when it became the step's result and op was
 * reported (op may be gone).
 */
static bool
datagram(struct dns_op *op, const unsigned char *b, size_t n, size_t wire_len)
{
	bool q_ok = question_matches(op, b, n);

	op->e->bytes += wire_len;
	keep(op, b, n, wire_len);
	if (op->state != DNS_WAITING || op->recorded || !q_ok ||
	    (b[2] & 0x80) == 0 || !is_our_id(op, (uint16_t)(b[0] << 8 | b[1])))
		return false;
	start_window(op);
	if (b[2] & 0x02) { /* TC: c-ares asks again, over TCP */
		to_ares(op);
		return false;
	}
	record(op, status_of_reply(b), b, (int)n);
	report(op);
	return true;
}

/*
 * Read what is queued: at most max datagrams, then the loop serves others
 * (the event is level-triggered). closing: read until the queue is empty
 * (bounded all the same), keeping evidence only, never reporting.
 */
static void
read_datagrams(struct dns_op *op, int max, bool closing)
{
	unsigned char *buf = op->e->dns_rbuf;

	for (int i = 0; op->fd >= 0 && i < max; i++) {
		ssize_t n = recv(op->fd, buf, DNS_RBUF_SIZE, MSG_TRUNC);
		size_t got;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (closing)
				continue; /* an ICMP error: datagrams may follow
					   */
			socket_error(op, errno);
			return;
		}
		got = (size_t)n < DNS_RBUF_SIZE ? (size_t)n : DNS_RBUF_SIZE;
		if (closing) {
			op->e->bytes += (size_t)n;
			keep(op, buf, got, (size_t)n);
			continue;
		}
		if (datagram(op, buf, got, (size_t)n))
			return;
	}
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	read_datagrams(arg, DNS_READS_PER_WAKE, false);
}

/* --- sending -------------------------------------------------------------- */

static uint16_t
random_id(void)
{
	uint16_t id;

	if (getrandom(&id, sizeof(id), 0) == (ssize_t)sizeof(id))
		return id;
	if (RAND_bytes((unsigned char *)&id, (int)sizeof(id)) == 1)
		return id;
	abort(); /* no CSPRNG: no id we could trust */
}

/* One transmission with a fresh id. */
static void
transmit(struct dns_op *op)
{
	uint16_t id;
	ssize_t n;

	do {
		id = random_id();
	} while (is_our_id(op, id));
	op->ids[op->n_tx++] = id;
	op->query[0] = (unsigned char)(id >> 8);
	op->query[1] = (unsigned char)id;
	n = send(op->fd, op->query, (size_t)op->query_len, 0);
	if (n == op->query_len) {
		op->n_sent++;
		op->e->bytes += (uint64_t)n;
		return;
	}
	/* A full buffer loses this one, as the network may; an earlier
	 * transmission's ICMP error is the answer. */
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != ENOBUFS && errno != EINTR)
		socket_error(op, errno);
}

static void
arm_retx(struct dns_op *op)
{
	arm(op->retx, op->e->timeout / 3.0);
}

static void
retx_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_op *op = arg;

	(void)fd;
	(void)what;
	if (op->state != DNS_WAITING || op->recorded ||
	    op->n_tx >= DNS_TRANSMISSIONS)
		return;
	if (op->n_tx + 1 < DNS_TRANSMISSIONS)
		arm_retx(op);
	transmit(op); /* last: it may report */
}

/* "ip:port" or "[ipv6]:port", as io_ares_server() gives it. */
static int
resolver_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char ip[64];
	const char *port, *end;
	long p;
	size_t n;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		n = (size_t)(end - s - 1);
		s++;
		port = end + 2;
	} else {
		end = strrchr(s, ':');
		if (end == NULL)
			return -1;
		n = (size_t)(end - s);
		port = end + 1;
	}
	if (n == 0 || n >= sizeof(ip) || ww_parse_long(port, 1, 65535, &p) != 0)
		return -1;
	memcpy(ip, s, n);
	ip[n] = '\0';
	return tcp_sockaddr(ip, (int)p, ss, len);
}

/* The question's length in our own query (trusted: c-ares built it). */
static size_t
question_len(const unsigned char *q, int len)
{
	size_t i = DNS_HEADER_LEN;

	while (i < (size_t)len && q[i] != 0)
		i += (size_t)q[i] + 1;
	return i + 1 + 4 - DNS_HEADER_LEN;
}

/*
 * Our socket, connected to the resolver and registered with the capture
 * before its first packet. Returns 0; 1 when there is none to be had (the
 * caller falls back to c-ares); -1 with *err when connect() failed.
 */
static int
open_socket(struct dns_op *op, int *err)
{
	struct ww_engine *e = op->e;
	struct sockaddr_storage ss;
	socklen_t len;
	double since;
	int fd;

	if (resolver_addr(io_ares_server(e->ares), &ss, &len) != 0)
		return 1;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	since = cap_clock();
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		*err = errno;
		close(fd);
		return -1;
	}
	/* Registered before anything reads the ring (capture.h). */
	op->flow = cap_register_socket(e->cap, fd, IPPROTO_UDP,
				       (struct sockaddr *)&ss, since);
	if (e->dns_rbuf == NULL)
		e->dns_rbuf = xmalloc(DNS_RBUF_SIZE);
	op->rd = event_new(e->base, fd, EV_READ | EV_PERSIST, read_cb, op);
	if (op->rd == NULL)
		abort();
	event_add(op->rd, NULL);
	op->fd = fd;
	return 0;
}

static void
send_query(struct dns_op *op)
{
	struct ww_engine *e = op->e;
	int rc, err = 0;

	op->state = DNS_WAITING;
	op->out->t0 = ww_mono() - op->t_base;
	evtimer_add(op->deadline, &e->step_tv);
	e->dns_inflight++;
	op->slot = true;
	rc = ares_create_query(op->out->hostname, 1 /* C_IN */, op->type, 0, 1,
			       &op->query, &op->query_len, DNS_EDNS_PAYLOAD);
	if (rc != ARES_SUCCESS) {
		op->query = NULL;
		record(op, rc, NULL, 0); /* e.g. a label over 63 bytes */
		report_later(op);
		return;
	}
	op->question_len = question_len(op->query, op->query_len);
	rc = open_socket(op, &err);
	if (rc > 0) {
		to_ares(op);
		return;
	}
	if (rc < 0) {
		ww_set_failure(&op->out->failure, &op->out->failure_detail,
			       failure_from_errno(err), NULL);
		report_later(op);
		return;
	}
	arm_retx(op);
	op->starting = true; /* a send error must not report from here */
	transmit(op);
	op->starting = false;
}

/* --- the step ------------------------------------------------------------- */

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_op *op = arg;

	(void)fd;
	(void)what;
	if (op->state == DNS_REPORTED)
		return;
	if (!op->recorded) {
		/* The deadline: a timeout. c-ares, if it has op, calls
		 * back later (then op is freed). */
		ww_set_failure(&op->out->failure, &op->out->failure_detail,
			       failure_generic_timeout, NULL);
	}
	report(op);
}

static void
pump_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ww_engine *e = arg;

	(void)fd;
	(void)what;
	while (e->dns_queue_head != NULL &&
	       e->dns_inflight < WW_DNS_MAX_INFLIGHT) {
		struct dns_op *op = e->dns_queue_head;

		e->dns_queue_head = op->next;
		if (e->dns_queue_head == NULL)
			e->dns_queue_tail = NULL;
		op->next = NULL;
		send_query(op);
	}
}

static struct event *
timer(struct ww_engine *e, event_callback_fn fn, void *arg)
{
	struct event *ev = evtimer_new(e->base, fn, arg);

	if (ev == NULL)
		abort();
	return ev;
}

struct dns_op *
dns_start(struct ww_engine *e, const char *name, int type, struct ww_query *out,
	  double t_base, dns_cb cb, dns_closed_cb closed, void *arg)
{
	struct dns_op *op = xcalloc(1, sizeof(*op));

	op->e = e;
	op->type = type;
	op->out = out;
	op->t_base = t_base;
	op->cb = cb;
	op->closed = closed;
	op->arg = arg;
	op->fd = -1;
	out->hostname = xstrdup(name);
	out->query_type = type == 28 ? "AAAA" : "A";
	out->engine = "udp";
	out->resolver_address = xstrdup(io_ares_server(e->ares));
	out->rcode = -1;
	op->deadline = timer(e, deadline_cb, op);
	op->retx = timer(e, retx_cb, op);
	op->late = timer(e, late_cb, op);
	if (e->dns_pump == NULL)
		e->dns_pump = timer(e, pump_cb, e);
	if (e->dns_inflight < WW_DNS_MAX_INFLIGHT &&
	    e->dns_queue_head == NULL) {
		send_query(op);
		return op;
	}
	op->state = DNS_QUEUED;
	out->t0 = ww_mono() - t_base;
	if (e->dns_queue_tail != NULL)
		e->dns_queue_tail->next = op;
	else
		e->dns_queue_head = op;
	e->dns_queue_tail = op;
	return op;
}

void
dns_take_evidence(struct dns_op *op, struct ww_query *q)
{
	for (size_t i = 0; i < op->n_replies; i++) {
		if (q->n_replies < WW_DNS_MAX_REPLIES) {
			if (q->replies == NULL)
				q->replies = xcalloc(WW_DNS_MAX_REPLIES,
						     sizeof(*q->replies));
			q->replies[q->n_replies++] = op->replies[i];
		} else {
			ww_dns_msg_clear(&op->replies[i]);
		}
	}
	free(op->replies);
	op->replies = NULL;
	op->n_replies = op->cap_replies = 0;
	q->n_replies_seen += op->n_seen;
	op->n_seen = 0;
	q->n_sent = op->n_sent;
	q->flow = op->flow;
}

static void
unqueue(struct dns_op *op)
{
	struct ww_engine *e = op->e;
	struct dns_op **pp = &e->dns_queue_head, *prev = NULL;

	while (*pp != NULL && *pp != op) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp == NULL)
		return;
	*pp = op->next;
	if (e->dns_queue_tail == op)
		e->dns_queue_tail = prev;
}

void
dns_cancel(struct dns_op *op)
{
	if (op == NULL)
		return;
	if (op->state != DNS_REPORTED) {
		struct ww_query *q = op->out;

		if (!op->recorded)
			ww_set_failure(&q->failure, &q->failure_detail,
				       failure_interrupted, NULL);
		if (op->state == DNS_QUEUED)
			unqueue(op);
		hand_over(op);
	}
	close_socket(op);
	run_closed(op);
}
