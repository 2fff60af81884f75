/*
 * dns.c - the DNS step: one A or AAAA query through c-ares (never
 * getaddrinfo), recorded with every answer and its TTL, the rcode, the raw
 * reply, the resolver and the time taken.
 *
 * The step keeps its own deadline besides c-ares' retry timers, because
 * with several system resolvers c-ares may keep trying longer than the step
 * timeout. A query abandoned at its deadline (or cancelled) stays alive
 * until c-ares calls back, since c-ares holds our pointer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "failure.h"
#include "internal.h"
#include "util.h"

enum dns_state { DNS_WAITING, DNS_ANSWERED, DNS_ABANDONED };

struct dns_op {
	struct ww_engine *e;
	struct event *timer;
	enum dns_state state;
	bool starting; /* inside dns_start(): defer the callback */
	int type;
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
	op->timer = NULL;
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
			q->rcode = (abuf[3] & 0x0f);
			if (f == NULL) {
				ww_set_failure(&q->failure, &q->failure_detail,
					       failure_dns_server_misbehaving,
					       err);
				return;
			}
		}
	}
	if (f == NULL &&
	    !has_type(q, op->type == 28 ? WW_RR_AAAA : WW_RR_A))
		f = failure_dns_no_answer; /* e.g. only a CNAME */
	if (f != NULL)
		ww_set_failure(&q->failure, &q->failure_detail, f,
			       f == failure_unknown ? ares_strerror(status)
						    : NULL);
}

static void
ares_cb(void *arg, int status, const unsigned char *abuf, int alen)
{
	struct dns_op *op = arg;

	if (op->state == DNS_ABANDONED) {
		free(op);
		return;
	}
	record(op, status, abuf, alen);
	op->state = DNS_ANSWERED;
	if (op->starting) {
		/* c-ares answered synchronously; report from the loop. */
		event_active(op->timer, EV_TIMEOUT, 0);
		return;
	}
	finish(op);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_op *op = arg;
	struct dns_op *ghost;

	(void)fd;
	(void)what;
	if (op->state == DNS_ANSWERED) {
		finish(op);
		return;
	}
	/* Deadline: report a timeout now; a ghost waits for c-ares. */
	ww_set_failure(&op->out->failure, &op->out->failure_detail,
		       failure_generic_timeout, NULL);
	ghost = op;
	op->out->t = ww_mono() - op->t_base;
	event_free(op->timer);
	op->timer = NULL;
	ghost->state = DNS_ABANDONED;
	ghost->cb(ghost->arg);
}

struct dns_op *
dns_start(struct ww_engine *e, const char *name, int type,
	  struct ww_query *out, double t_base, dns_cb cb, void *arg)
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
	out->t0 = ww_mono() - t_base;
	op->timer = evtimer_new(e->base, timer_cb, op);
	if (op->timer == NULL)
		abort();
	evtimer_add(op->timer, &e->step_tv);
	op->starting = true;
	io_ares_query(e->ares, name, type, ares_cb, op);
	op->starting = false;
	return op;
}

void
dns_cancel(struct dns_op *op)
{
	if (op == NULL || op->state == DNS_ABANDONED)
		return;
	if (op->state == DNS_ANSWERED) {
		/* c-ares is done with it; only the deferred report remains. */
		event_free(op->timer);
		free(op);
		return;
	}
	ww_set_failure(&op->out->failure, &op->out->failure_detail,
		       failure_interrupted, NULL);
	op->out->t = ww_mono() - op->t_base;
	event_free(op->timer);
	op->timer = NULL;
	op->state = DNS_ABANDONED;
}
