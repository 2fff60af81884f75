/*
 * endpoint.c - one hop's endpoint stage: for each address, in parallel, a
 * TCP connect and up to two TLS handshakes, each handshake on a connection
 * of its own (see internal.h, struct ep_want).
 *
 * The first connection is the recorded TCP connect when the hop asks for
 * one, and its handshake shares that connect's transaction; when the
 * address was connected in an earlier hop, the connection is made anyway
 * (a handshake needs one) but not recorded again, and a failure to connect
 * goes into the handshake's record. The second handshake always gets a
 * fresh, unrecorded connection: after a control-SNI handshake, the target's
 * must not ride on the same TCP state.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "failure.h"
#include "internal.h"
#include "util.h"

enum ep_state { EP_CONNECT, EP_TLS, EP_DONE };

struct endpoint {
	struct ep_batch *b;
	char *ip;
	bool rec_tcp; /* the first connection is recorded */
	int n_hs;     /* handshakes wanted, 0..2 */
	int conn;     /* the connection (= handshake index) in progress */
	int n_rec;    /* tls_rec[] entries initialised */
	enum ep_state state;
	const char *sni[2], *role[2];
	struct tcp_op *tcp;
	struct tls_op *tls;
	uint32_t flow; /* the capture's flow of the connection in progress */
	struct ma_wait wait; /* for memory, before a handshake's connect */
	bool admitted;	     /* the gate let this connection's handshake in */
	struct ww_tcp tcp_rec;
	struct ww_tls tls_rec[2];
	bool connected; /* the first connection was made */
};

struct ep_batch {
	struct ww_engine *e;
	struct ww_measurement *m;
	int port, hop;
	double t_base;
	struct endpoint *eps;
	size_t n, pending;
	ep_batch_cb cb;
	void *arg;
};

static void ep_advance(struct endpoint *ep);

static double
now(const struct ep_batch *b)
{
	return ww_mono() - b->t_base;
}

/* Set up handshake record i; tid: the connection's transaction. */
static void
rec_init(struct endpoint *ep, int i, int tid)
{
	struct ww_tls *r = &ep->tls_rec[i];

	r->ip = xstrdup(ep->ip);
	r->port = ep->b->port;
	r->server_name = xstrdup(ep->sni[i]);
	r->sni_role = ep->role[i];
	r->t0 = now(ep->b);
	r->transaction_id = tid;
	ep->n_rec = i + 1;
}

/* The connection's handshake is over (or will not happen). */
static void
ep_release(struct endpoint *ep)
{
	if (ep->admitted) {
		ep->admitted = false;
		ma_gate_leave(ep->b->e->gate);
	}
}

static void ep_connect(struct endpoint *ep);
static void ep_tcp_done(void *arg, int fd, const char *failure,
			const char *detail);

static void
ep_admitted(void *arg)
{
	struct endpoint *ep = arg;
	double t = now(ep->b);

	ep->admitted = true;
	/* A waiting step's clock starts when it starts. */
	if (ep->conn == 0 && ep->rec_tcp)
		ep->tcp_rec.t0 = t;
	ep->tls_rec[ep->conn].t0 = t;
	ep_connect(ep);
}

/*
 * Open connection ep->conn. One that carries a handshake waits for memory
 * first (memacct.h), before connecting: a server never sees an idle
 * connection while we wait, and a connect in flight costs little.
 */
static void
ep_connect(struct endpoint *ep)
{
	struct ep_batch *b = ep->b;

	ep->state = EP_CONNECT;
	if (ep->conn < ep->n_hs && !ep->admitted) {
		if (!ma_gate_enter(b->e->gate, &ep->wait, ep_admitted, ep))
			return;
		ep->admitted = true;
	}
	ep->tcp = tcp_start(b->e, ep->ip, b->port, ep_tcp_done, ep);
	/* Its records name the capture's flow. */
	ep->flow = tcp_op_flow(ep->tcp);
	if (ep->conn == 0 && ep->rec_tcp)
		ep->tcp_rec.flow = ep->flow;
	if (ep->conn < ep->n_hs)
		ep->tls_rec[ep->conn].flow = ep->flow;
}

static void
ep_tls_done(void *arg)
{
	struct endpoint *ep = arg;

	ep->tls = NULL;
	cap_flow_close(ep->b->e->cap, ep->flow); /* tls.c closed it */
	ep_release(ep);
	ep->conn++;
	ep_advance(ep);
}

static void
ep_tcp_done(void *arg, int fd, const char *failure, const char *detail)
{
	struct endpoint *ep = arg;
	struct ep_batch *b = ep->b;
	bool recorded = ep->conn == 0 && ep->rec_tcp;

	ep->tcp = NULL;
	if (fd < 0 || ep->conn >= ep->n_hs)
		ep_release(ep);
	if (ep->conn == 0)
		ep->connected = fd >= 0;
	if (recorded) {
		ep->tcp_rec.t = now(b);
		ww_set_failure(&ep->tcp_rec.failure,
			       &ep->tcp_rec.failure_detail, failure, detail);
	}
	if (fd < 0) {
		/* A handshake whose own connection failed says so; one that
		 * shares the recorded connect is dropped at flush. */
		if (!recorded && ep->conn < ep->n_hs) {
			struct ww_tls *r = &ep->tls_rec[ep->conn];

			r->t = now(b);
			ww_set_failure(&r->failure, &r->failure_detail, failure,
				       detail);
		}
		ep->state = EP_DONE;
		ep_advance(ep);
		return;
	}
	if (ep->conn >= ep->n_hs) {
		close(fd);
		cap_flow_close(b->e->cap, ep->flow);
		ep->state = EP_DONE;
		ep_advance(ep);
		return;
	}
	ep->state = EP_TLS;
	ep->tls = tls_start(b->e, fd, &ep->tls_rec[ep->conn], b->t_base,
			    ep_tls_done, ep);
}

static void batch_done(struct ep_batch *b);

/* After a handshake: the next one on a new connection, or the end. */
static void
ep_advance(struct endpoint *ep)
{
	struct ep_batch *b = ep->b;

	if (ep->state != EP_DONE && ep->conn < ep->n_hs) {
		rec_init(ep, ep->conn, b->m->next_transaction_id++);
		ep_connect(ep);
		return;
	}
	ep->state = EP_DONE;
	if (--b->pending == 0)
		batch_done(b);
}

/* Move the records into the measurement: every connect, then every
 * handshake, in address order. */
static void
flush(struct ep_batch *b)
{
	struct ww_measurement *m = b->m;

	for (size_t i = 0; i < b->n; i++) {
		struct endpoint *ep = &b->eps[i];

		if (!ep->rec_tcp)
			continue;
		ep->tcp_rec.hop = b->hop;
		*ww_add_tcp(m) = ep->tcp_rec;
		memset(&ep->tcp_rec, 0, sizeof(ep->tcp_rec));
	}
	for (size_t i = 0; i < b->n; i++) {
		struct endpoint *ep = &b->eps[i];

		for (int t = 0; t < ep->n_rec; t++) {
			/* Not recorded twice: it shares the failed connect. */
			if (t == 0 && ep->rec_tcp && !ep->connected) {
				ww_tls_clear(&ep->tls_rec[0]);
				continue;
			}
			ep->tls_rec[t].hop = b->hop;
			*ww_add_tls(m) = ep->tls_rec[t];
			memset(&ep->tls_rec[t], 0, sizeof(ep->tls_rec[t]));
		}
		ep->n_rec = 0;
	}
}

static void
batch_done(struct ep_batch *b)
{
	flush(b);
	b->cb(b->arg);
}

struct ep_batch *
ep_batch_start(struct ww_engine *e, struct ww_measurement *m,
	       const struct ep_want *w, size_t n, int port, int hop,
	       double t_base, ep_batch_cb cb, void *arg)
{
	struct ep_batch *b = xcalloc(1, sizeof(*b));

	b->e = e;
	b->m = m;
	b->port = port;
	b->hop = hop;
	b->t_base = t_base;
	b->cb = cb;
	b->arg = arg;
	b->eps = xcalloc(n + 1, sizeof(*b->eps));
	b->n = b->pending = n;
	/* All records exist before any operation can report. */
	for (size_t i = 0; i < n; i++) {
		struct endpoint *ep = &b->eps[i];
		int tid = m->next_transaction_id++;

		ep->b = b;
		ep->ip = xstrdup(w[i].ip);
		ep->rec_tcp = w[i].tcp;
		for (int k = 0; k < 2 && w[i].sni[k] != NULL; k++) {
			ep->sni[k] = w[i].sni[k];
			ep->role[k] = w[i].role[k];
			ep->n_hs = k + 1;
		}
		ep->tcp_rec.ip = xstrdup(w[i].ip);
		ep->tcp_rec.port = port;
		ep->tcp_rec.transaction_id = tid;
		ep->tcp_rec.t0 = now(b);
		if (ep->n_hs > 0)
			rec_init(ep, 0, tid);
	}
	for (size_t i = 0; i < n; i++)
		ep_connect(&b->eps[i]);
	return b;
}

bool
ep_batch_connected(const struct ep_batch *b, const char *ip)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->eps[i].connected && strcmp(b->eps[i].ip, ip) == 0)
			return true;
	return false;
}

void
ep_batch_cancel(struct ep_batch *b)
{
	double t = now(b);

	for (size_t i = 0; i < b->n; i++) {
		struct endpoint *ep = &b->eps[i];
		struct ww_tls *r;

		if (ep->state == EP_DONE)
			continue;
		tcp_cancel(ep->tcp);
		if (ep->tls != NULL) {
			tls_cancel(ep->tls); /* closes the socket */
			cap_flow_close(b->e->cap, ep->flow);
		}
		ep->tcp = NULL;
		ep->tls = NULL;
		ma_gate_cancel(b->e->gate, &ep->wait);
		ep_release(ep);
		if (ep->state == EP_CONNECT && ep->conn == 0 && ep->rec_tcp) {
			/* Only the connect is recorded (flush drops the
			 * handshake that would have used it). */
			ww_set_failure(&ep->tcp_rec.failure,
				       &ep->tcp_rec.failure_detail,
				       failure_interrupted, NULL);
			ep->tcp_rec.t = t;
			ep->connected = false;
		} else if (ep->conn < ep->n_rec) {
			r = &ep->tls_rec[ep->conn];
			ww_set_failure(&r->failure, &r->failure_detail,
				       failure_interrupted, NULL);
			r->t = t;
		}
		ep->state = EP_DONE;
	}
	flush(b);
}

void
ep_batch_free(struct ep_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++) {
		struct endpoint *ep = &b->eps[i];

		free(ep->ip);
		free(ep->tcp_rec.ip);
		free(ep->tcp_rec.failure_detail);
		for (int t = 0; t < ep->n_rec; t++)
			ww_tls_clear(&ep->tls_rec[t]);
	}
	free(b->eps);
	free(b);
}
