/*
 * dns.c - the DNS step: one A or AAAA query through c-ares (never
 * getaddrinfo), recorded with every answer and its TTL, the rcode, the raw
 * reply, the resolver and the time taken.
 *
 * The step keeps its own deadline besides c-ares' retry timers, because
 * with several system resolvers c-ares may keep trying longer than the step
 * timeout. A query abandoned at its deadline (or cancelled) stays alive
 * until c-ares calls back, since c-ares holds our pointer. Queries beyond
 * WW_DNS_MAX_INFLIGHT wait in a FIFO queue (internal.h says why).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "failure.h"
#include "internal.h"
#include "util.h"

enum dns_state { DNS_QUEUED, DNS_WAITING, DNS_ANSWERED, DNS_ABANDONED };

struct dns_op {
	struct ww_engine *e;
	struct event *timer; /* the deadline; also reports deferred answers */
	enum dns_state state;
	bool starting; /* inside ares_query(): defer the callback */
	int type;
	struct dns_op *next; /* in the engine's queue */
	struct ww_query *out;
	double t_base;
	dns_cb cb;
	void *arg;
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

static void
finish(struct dns_op *op)
{
	dns_cb cb = op->cb;
	void *arg = op->arg;

	op->out->t = ww_mono() - op->t_base;
	event_free(op->timer);
	free(op);
	cb(arg);
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

/* Send queued queries from the loop, never from inside a c-ares callback
 * (c-ares may call back synchronously from ares_query). */
static void
pump_later(struct ww_engine *e)
{
	if (e->dns_queue_head != NULL && e->dns_inflight < WW_DNS_MAX_INFLIGHT)
		event_active(e->dns_pump, EV_TIMEOUT, 0);
}

static void
ares_cb(void *arg, int status, const unsigned char *abuf, int alen)
{
	struct dns_op *op = arg;
	struct ww_engine *e = op->e;

	e->dns_inflight--;
	pump_later(e);
	if (op->state == DNS_ABANDONED) {
		free(op);
		return;
	}
	/* The answer, and about what the query took (header, name,
	 * type/class, EDNS). */
	e->bytes += (uint64_t)(alen > 0 ? alen : 0) +
		    strlen(op->out->hostname) + 29;
	record(op, status, abuf, alen);
	op->state = DNS_ANSWERED;
	if (op->starting) {
		/* c-ares answered synchronously; report from the loop. */
		evtimer_del(op->timer);
		event_active(op->timer, EV_TIMEOUT, 0);
		return;
	}
	finish(op);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_op *op = arg;

	(void)fd;
	(void)what;
	if (op->state == DNS_ANSWERED) {
		finish(op);
		return;
	}
	/* Deadline: report a timeout now; op stays, abandoned, until c-ares
	 * calls back (it holds the pointer). */
	ww_set_failure(&op->out->failure, &op->out->failure_detail,
		       failure_generic_timeout, NULL);
	op->out->t = ww_mono() - op->t_base;
	event_free(op->timer);
	op->timer = NULL;
	op->state = DNS_ABANDONED;
	op->cb(op->arg);
}

static void
send_query(struct dns_op *op)
{
	struct ww_engine *e = op->e;

	op->state = DNS_WAITING;
	op->out->t0 = ww_mono() - op->t_base;
	evtimer_add(op->timer, &e->step_tv);
	e->dns_inflight++;
	op->starting = true;
	io_ares_query(e->ares, op->out->hostname, op->type, ares_cb, op);
	op->starting = false;
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

struct dns_op *
dns_start(struct ww_engine *e, const char *name, int type, struct ww_query *out,
	  double t_base, dns_cb cb, void *arg)
{
	struct dns_op *op = xcalloc(1, sizeof(*op));

	op->e = e;
	op->type = type;
	op->out = out;
	op->t_base = t_base;
	op->cb = cb;
	op->arg = arg;
	out->hostname = xstrdup(name);
	out->query_type = type == 28 ? "AAAA" : "A";
	out->engine = "udp";
	out->resolver_address = xstrdup(io_ares_server(e->ares));
	out->rcode = -1;
	op->timer = evtimer_new(e->base, timer_cb, op);
	if (op->timer == NULL)
		abort();
	if (e->dns_pump == NULL) {
		e->dns_pump = evtimer_new(e->base, pump_cb, e);
		if (e->dns_pump == NULL)
			abort();
	}
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
	if (op == NULL || op->state == DNS_ABANDONED)
		return;
	if (op->state != DNS_ANSWERED) {
		ww_set_failure(&op->out->failure, &op->out->failure_detail,
			       failure_interrupted, NULL);
		op->out->t = ww_mono() - op->t_base;
	}
	if (op->state == DNS_WAITING) {
		/* c-ares holds op: it is freed when c-ares calls back. */
		event_free(op->timer);
		op->timer = NULL;
		op->state = DNS_ABANDONED;
		return;
	}
	if (op->state == DNS_QUEUED)
		unqueue(op);
	event_free(op->timer); /* answered: only the deferred report was left */
	free(op);
}
