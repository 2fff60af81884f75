/*
 * xbatch.c - a VPN or QUIC endpoint's exchanges: for each address, in
 * parallel, the exchanges its plan lists, one after the other in the
 * plan's order (see internal.h, xbatch_start).
 *
 * One after the other, because censors remember: the GFW blocks a
 * (client, server, port) triple for minutes after its DPI fired (QUIC SNI
 * blocking: ~2 min on the 3-tuple; the fully-encrypted-traffic rule: 180
 * s), so an exchange made after a blocked one tells nothing of its own.
 * The plan (vpnplan.c) puts first what must not be tainted.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util.h"

struct xb_addr {
	struct xbatch *b;
	char *ip;
	struct ww_xdriver *d[WW_XPLAN_MAX];
	size_t n, next;	    /* drivers, and the next to run */
	struct xchg_op *op; /* the exchange running */
	struct ww_exchange rec[WW_XPLAN_MAX];
	size_t n_rec; /* records started */
};

struct xbatch {
	struct ww_engine *e;
	struct ww_measurement *m;
	int port;
	double t_base;
	struct xb_addr *a;
	size_t n, pending;
	xbatch_cb cb;
	void *arg;
	struct event *defer; /* reports an empty batch from the loop */
};

static void xb_next(struct xb_addr *a);

/* Move the records into m, in address order. */
static void
xb_flush(struct xbatch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct xb_addr *a = &b->a[i];

		for (size_t k = 0; k < a->n_rec; k++) {
			*ww_add_exchange(b->m) = a->rec[k];
			memset(&a->rec[k], 0, sizeof(a->rec[k]));
		}
		a->n_rec = 0;
	}
}

static void
xb_report(struct xbatch *b)
{
	xb_flush(b);
	b->cb(b->arg);
}

static void
defer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	xb_report(arg);
}

static void
xb_done(void *arg)
{
	struct xb_addr *a = arg;

	a->op = NULL;
	xb_next(a);
}

/* Start the address's next exchange, or count the address done. */
static void
xb_next(struct xb_addr *a)
{
	struct xbatch *b = a->b;
	struct ww_exchange *r;
	struct ww_xdriver *d;

	if (a->next >= a->n) {
		if (--b->pending == 0)
			xb_report(b);
		return;
	}
	d = a->d[a->next];
	a->d[a->next++] = NULL; /* the op owns it now */
	r = &a->rec[a->n_rec++];
	r->transaction_id = b->m->next_transaction_id++;
	a->op = xchg_start(b->e, d, a->ip, d->port > 0 ? d->port : b->port, r,
			   b->t_base, xb_done, a);
}

struct xbatch *
xbatch_start(struct ww_engine *e, struct ww_measurement *m, char *const *ips,
	     size_t n, int port, xbatch_plan_fn plan, void *plan_arg,
	     double t_base, xbatch_cb cb, void *arg)
{
	struct xbatch *b = xcalloc(1, sizeof(*b));

	b->e = e;
	b->m = m;
	b->port = port;
	b->t_base = t_base;
	b->cb = cb;
	b->arg = arg;
	b->a = xcalloc(n + 1, sizeof(*b->a));
	b->n = n;
	for (size_t i = 0; i < n; i++) {
		struct xb_addr *a = &b->a[i];

		a->b = b;
		a->ip = xstrdup(ips[i]);
		a->n = plan(plan_arg, ips[i], a->d, WW_XPLAN_MAX);
	}
	/* One count more than addresses while they start: an empty plan
	 * ends its address at once, and must not end the batch before the
	 * others began. */
	b->pending = n + 1;
	for (size_t i = 0; i < n; i++)
		xb_next(&b->a[i]);
	if (--b->pending == 0) {
		/* nothing ran at all: report from the loop, never in here */
		b->defer = evtimer_new(e->base, defer_cb, b);
		if (b->defer == NULL)
			abort();
		event_active(b->defer, EV_TIMEOUT, 0);
	}
	return b;
}

void
xbatch_cancel(struct xbatch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++) {
		struct xb_addr *a = &b->a[i];

		if (a->op != NULL) {
			xchg_cancel(a->op);
			a->op = NULL;
		}
	}
	if (b->defer != NULL) {
		event_free(b->defer);
		b->defer = NULL;
	}
	xb_flush(b);
}

void
xbatch_free(struct xbatch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++) {
		struct xb_addr *a = &b->a[i];

		for (size_t k = a->next; k < a->n; k++)
			ww_xdriver_free(a->d[k]);
		for (size_t k = 0; k < a->n_rec; k++)
			ww_exchange_clear(&a->rec[k]);
		free(a->ip);
	}
	if (b->defer != NULL)
		event_free(b->defer);
	free(b->a);
	free(b);
}
