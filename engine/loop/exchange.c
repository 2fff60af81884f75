/*
 * exchange.c - the exchange step: one protocol driver (xdriver.h) against
 * one address and port, over UDP or TCP, recorded as a struct ww_exchange.
 *
 * UDP: a connected socket, so that the kernel hands us an ICMP port
 * unreachable as ECONNREFUSED (a closed port answers; a censor's drop does
 * not) and drops datagrams from anyone else. The first packet goes again
 * after 1 s and after 2 s more while nothing of ours came back, as real
 * clients retransmit (a single lost datagram is no block).
 *
 * TCP: the engine's connect step, then the first packet, then every read
 * goes to the driver with all bytes so far (its framing may span reads).
 * A RST is connection_reset, a FIN before the protocol answered eof_error.
 *
 * Either way the exchange ends when the driver says so (no failure), on an
 * error, or at the step timeout (generic_timeout_error). An exchange can
 * have an answer and a failure: the server answered the first packet and
 * the flow died later (answered, stage and the failure say how far it
 * got).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "failure.h"
#include "internal.h"
#include "util.h"

/* A TCP exchange keeps at most this much of the stream for its driver. */
#define XCHG_STREAM_CAP (64 * 1024)
/* A UDP datagram read (longer ones are counted whole, kept cut). */
#define XCHG_DGRAM_CAP 4096
/* UDP retransmissions of the first packet: after 1 s, then 2 s more. */
#define XCHG_UDP_SENDS 3

struct xchg_op {
	struct ww_engine *e;
	struct ww_xdriver *d;
	struct ww_exchange *out;
	double t_base;
	int fd;
	struct tcp_op *tcp;
	struct event *rd;    /* readability of fd */
	struct event *timer; /* retransmission, and the deadline */
	struct event *defer; /* a report from the loop, never inline */
	double deadline;     /* ww_mono() */
	double next_send;    /* ww_mono() of the next retransmission; 0 none */
	unsigned char pkt[WW_XDRIVER_MAX_PACKET];
	size_t pkt_len;	       /* the first packet, for retransmissions */
	unsigned char *stream; /* TCP: what came so far */
	size_t stream_len;
	bool ours_seen; /* a reply of ours came: no more retransmissions */
	xchg_cb cb;
	void *arg;
};

static double
now(const struct xchg_op *op)
{
	return ww_mono() - op->t_base;
}

static void
close_socket(struct xchg_op *op)
{
	if (op->rd != NULL) {
		event_free(op->rd);
		op->rd = NULL;
	}
	if (op->fd >= 0) {
		close(op->fd);
		op->fd = -1;
		cap_flow_close(op->e->cap, op->out->flow);
	}
}

static void
op_free(struct xchg_op *op)
{
	close_socket(op);
	tcp_cancel(op->tcp);
	if (op->timer != NULL)
		event_free(op->timer);
	if (op->defer != NULL)
		event_free(op->defer);
	ww_xdriver_free(op->d);
	free(op->stream);
	free(op);
}

/* The exchange is over: failure NULL when the protocol answered or it
 * ended as the driver wished. */
static void
finish(struct xchg_op *op, const char *failure, const char *detail)
{
	xchg_cb cb = op->cb;
	void *arg = op->arg;

	if (failure != NULL && op->out->failure == NULL)
		ww_set_failure(&op->out->failure, &op->out->failure_detail,
			       failure, detail);
	op->out->t = now(op);
	op_free(op);
	cb(arg);
}

static void
fail_errno(struct xchg_op *op, int err)
{
	finish(op, failure_from_errno(err), strerror(err));
}

/* Send len bytes of buf (a whole datagram, or a small write that a fresh
 * connection's buffer takes whole). */
static int
send_bytes(struct xchg_op *op, const unsigned char *buf, size_t len)
{
	ssize_t n = send(op->fd, buf, len, MSG_NOSIGNAL);

	if (n < 0)
		return errno;
	if ((size_t)n != len)
		return EMSGSIZE; /* a TCP send buffer full at the start */
	op->out->n_sent++;
	op->out->bytes_sent += len;
	return 0;
}

/* Arm the timer for the earlier of the deadline and the next resend. */
static void
arm_timer(struct xchg_op *op)
{
	double at = op->deadline, wait;
	struct timeval tv;

	if (op->next_send > 0 && op->next_send < at)
		at = op->next_send;
	wait = at - ww_mono();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = (time_t)wait;
	tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6);
	event_add(op->timer, &tv);
}

/* What the driver made of a reply: record it, then do as it says.
 * Returns true when the exchange is over (op is gone). */
static bool
take_reply(struct xchg_op *op, const unsigned char *buf, size_t len,
	   size_t wire_len, const unsigned char *rec, size_t rec_len)
{
	struct ww_xseen seen;
	unsigned char out[WW_XDRIVER_MAX_PACKET];
	size_t out_len = 0;
	enum ww_xnext next;
	struct ww_xreply *r;
	int err;

	memset(&seen, 0, sizeof(seen));
	next = op->d->reply(op->d->st, buf, len, &seen, out, sizeof(out),
			    &out_len);
	r = ww_exchange_add_reply(op->out, now(op), rec, rec_len);
	if (r != NULL) {
		r->length = wire_len;
		r->kind = seen.kind;
		r->ours = seen.ours;
		if (seen.note[0] != '\0')
			r->note = xstrdup(seen.note);
	}
	if (seen.ours) {
		op->ours_seen = true;
		op->next_send = 0;
		if (seen.kind != NULL)
			op->out->stage = seen.kind;
	}
	if (seen.proves_up)
		op->out->answered = true;
	if (next == WW_XNEXT_DONE) {
		finish(op, NULL, NULL);
		return true;
	}
	if (next == WW_XNEXT_SEND && out_len > 0 && out_len <= sizeof(out)) {
		err = send_bytes(op, out, out_len);
		if (err != 0) {
			fail_errno(op, err);
			return true;
		}
	}
	arm_timer(op);
	return false;
}

static void
udp_readable(struct xchg_op *op)
{
	unsigned char buf[XCHG_DGRAM_CAP];

	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(op->fd, buf, sizeof(buf), MSG_TRUNC);
		size_t got;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			/* ECONNREFUSED: an ICMP port unreachable */
			fail_errno(op, errno);
			return;
		}
		got = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf);
		if (take_reply(op, buf, got, (size_t)n, buf, got))
			return;
	}
}

static void
tcp_readable(struct xchg_op *op)
{
	unsigned char buf[4096];
	ssize_t n = recv(op->fd, buf, sizeof(buf), 0);
	size_t room;

	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		fail_errno(op, errno); /* ECONNRESET: connection_reset */
		return;
	}
	if (n == 0) {
		/* The server (or a censor) closed before the driver was
		 * done. */
		finish(op, failure_eof, NULL);
		return;
	}
	room = XCHG_STREAM_CAP - op->stream_len;
	if ((size_t)n > room)
		n = (ssize_t)room;
	memcpy(op->stream + op->stream_len, buf, (size_t)n);
	op->stream_len += (size_t)n;
	(void)take_reply(op, op->stream, op->stream_len, (size_t)n, buf,
			 (size_t)n);
}

/* The ops are freed inside finish(): callers return at once after. */
static void
readable_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xchg_op *op = arg;

	(void)fd;
	(void)what;
	if (op->d->udp)
		udp_readable(op);
	else
		tcp_readable(op);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xchg_op *op = arg;
	double t = ww_mono();
	int err;

	(void)fd;
	(void)what;
	if (t >= op->deadline) {
		/* the driver wanted more: after an answer too, how far the
		 * flow got is the evidence (a censor may kill it later) */
		finish(op, failure_generic_timeout, NULL);
		return;
	}
	if (op->next_send > 0 && t >= op->next_send && !op->ours_seen) {
		err = send_bytes(op, op->pkt, op->pkt_len);
		if (err != 0) {
			fail_errno(op, err);
			return;
		}
		op->next_send = op->out->n_sent < XCHG_UDP_SENDS
					? t + (double)op->out->n_sent
					: 0;
	}
	arm_timer(op);
}

/* The socket is ready (UDP: connected; TCP: the connect succeeded):
 * send the first packet and listen. */
static void
begin(struct xchg_op *op)
{
	int err;

	op->rd = event_new(op->e->base, op->fd, EV_READ | EV_PERSIST,
			   readable_cb, op);
	op->timer = evtimer_new(op->e->base, timer_cb, op);
	if (op->rd == NULL || op->timer == NULL)
		abort();
	event_add(op->rd, NULL);
	err = send_bytes(op, op->pkt, op->pkt_len);
	if (err != 0) {
		fail_errno(op, err);
		return;
	}
	if (op->d->udp)
		op->next_send = ww_mono() + 1.0;
	arm_timer(op);
}

static void
tcp_done(void *arg, int fd, const char *failure, const char *detail)
{
	struct xchg_op *op = arg;

	op->tcp = NULL;
	if (fd < 0) {
		finish(op, failure, detail);
		return;
	}
	op->fd = fd;
	op->out->connected = true;
	op->stream = xmalloc(XCHG_STREAM_CAP);
	begin(op);
}

static void
deferred_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xchg_op *op = arg;

	(void)fd;
	(void)what;
	if (op->fd >= 0)
		begin(op);
	else
		finish(op, NULL, NULL); /* its failure is recorded already */
}

/* A connected UDP socket to ip:port; errno-style error or 0. */
static int
udp_open(struct xchg_op *op, const char *ip, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	double since;
	int fd;

	if (tcp_sockaddr(ip, port, &ss, &len) != 0)
		return EINVAL;
	if (!ww_engine_allows_sa(op->e, (const struct sockaddr *)&ss))
		return EACCES;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	since = cap_clock();
	if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
		int err = errno;

		close(fd);
		return err;
	}
	op->out->flow = cap_register_socket(op->e->cap, fd, IPPROTO_UDP,
					    (struct sockaddr *)&ss, since);
	op->fd = fd;
	return 0;
}

struct xchg_op *
xchg_start(struct ww_engine *e, struct ww_xdriver *d, const char *ip, int port,
	   struct ww_exchange *out, double t_base, xchg_cb cb, void *arg)
{
	struct xchg_op *op = xcalloc(1, sizeof(*op));
	ssize_t n;
	int err = 0;

	op->e = e;
	op->d = d;
	op->out = out;
	op->t_base = t_base;
	op->fd = -1;
	op->cb = cb;
	op->arg = arg;
	op->deadline = ww_mono() + e->timeout;
	free(out->ip);
	out->ip = xstrdup(ip);
	out->port = port;
	out->udp = d->udp;
	out->protocol = d->protocol;
	out->payload = d->payload;
	free(out->server_name);
	out->server_name = xstrdup(d->server_name);
	out->t0 = now(op);
	n = ww_xdriver_first(d, op->pkt, sizeof(op->pkt));
	if (n <= 0) {
		/* a driver that cannot write its packet is our bug */
		ww_set_failure(&out->failure, &out->failure_detail,
			       failure_unknown,
			       d->error != NULL ? d->error
						: "the driver wrote no packet");
		op->pkt_len = 0;
		err = EINVAL;
	} else {
		op->pkt_len = (size_t)n;
		out->first_length = (size_t)n;
	}
	if (err == 0 && !d->udp) {
		op->tcp = tcp_start(e, ip, port, tcp_done, op);
		out->flow = tcp_op_flow(op->tcp);
		return op;
	}
	if (err == 0)
		err = udp_open(op, ip, port);
	if (err != 0 && err != EACCES && err != EINVAL) {
		ww_set_failure(&out->failure, &out->failure_detail,
			       failure_from_errno(err), strerror(err));
	}
	if (err == EACCES && out->failure == NULL)
		ww_set_failure(&out->failure, &out->failure_detail,
			       failure_from_errno(err),
			       "refused: a private or reserved address");
	/* success or not, the first report comes from the loop */
	op->defer = evtimer_new(e->base, deferred_cb, op);
	if (op->defer == NULL)
		abort();
	if (err != 0)
		op->fd = -1;
	event_active(op->defer, EV_TIMEOUT, 0);
	return op;
}

void
xchg_cancel(struct xchg_op *op)
{
	if (op == NULL)
		return;
	if (op->out->failure == NULL)
		ww_set_failure(&op->out->failure, &op->out->failure_detail,
			       failure_interrupted, NULL);
	op->out->t = now(op);
	op_free(op);
}
