/*
 * tcp.c - the TCP connect step: a non-blocking connect() watched for
 * writability, with the step timeout. The outcome comes from SO_ERROR, so
 * the failure string reflects what the kernel saw (a RST gives
 * connection_refused, an ICMP unreachable host_unreachable, silence
 * generic_timeout_error).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "failure.h"
#include "internal.h"
#include "util.h"

struct tcp_op {
	struct event *ev; /* writability of fd, or a deferred report */
	int fd;		  /* -1 when connect() failed at once */
	int err;	  /* that failure's errno */
	uint32_t flow;	  /* the capture's flow id; 0: none */
	struct ww_engine *e;
	tcp_cb cb;
	void *arg;
};

int
tcp_sockaddr(const char *ip, int port, struct sockaddr_storage *ss,
	     socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, ip, &s6->sin6_addr) != 1)
			return -1;
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, ip, &s4->sin_addr) != 1)
			return -1;
		*len = sizeof(*s4);
	}
	return 0;
}

static void
finish(struct tcp_op *op, int fd, const char *failure, const char *detail)
{
	tcp_cb cb = op->cb;
	void *arg = op->arg;

	event_free(op->ev);
	free(op);
	cb(arg, fd, failure, detail);
}

/* Our side of the connection is gone: its flow lingers (capture.h). */
static void
close_fd(struct tcp_op *op)
{
	close(op->fd);
	cap_flow_close(op->e->cap, op->flow);
}

static void
fail_errno(struct tcp_op *op, int err)
{
	const char *f = failure_from_errno(err);

	close_fd(op);
	finish(op, -1, f, strerror(err));
}

static void
connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_op *op = arg;
	int err = 0;
	socklen_t len = sizeof(err);

	if (what & EV_TIMEOUT) {
		close_fd(op);
		finish(op, -1, failure_generic_timeout, NULL);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err != 0) {
		fail_errno(op, err);
		return;
	}
	finish(op, op->fd, NULL, NULL);
}

/* Report a failure that happened before the loop ran, from the loop, so
 * that callers never see their callback run inside tcp_start(). */
static void
deferred_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_op *op = arg;

	(void)fd;
	(void)what;
	finish(op, -1, failure_from_errno(op->err), strerror(op->err));
}

struct tcp_op *
tcp_start(struct ww_engine *e, const char *ip, int port, tcp_cb cb, void *arg)
{
	struct tcp_op *op = xcalloc(1, sizeof(*op));
	struct sockaddr_storage ss;
	socklen_t len;
	double since;
	int fd, err;

	op->cb = cb;
	op->arg = arg;
	op->fd = -1;
	op->e = e;
	if (tcp_sockaddr(ip, port, &ss, &len) != 0) {
		err = EINVAL;
		goto defer;
	}
	/* The callers filter refused addresses already; this is the last
	 * word, on the very address connect() would get. */
	if (!ww_engine_allows_sa(e, (const struct sockaddr *)&ss)) {
		err = EACCES;
		goto defer;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		err = errno;
		goto defer;
	}
	since = cap_clock();
	if (connect(fd, (struct sockaddr *)&ss, len) != 0 &&
	    errno != EINPROGRESS) {
		err = errno;
		close(fd);
		goto defer;
	}
	/* With capture on: its first packets are in the ring, unread, and
	 * will match (capture.h). */
	op->flow = cap_register_socket(e->cap, fd, IPPROTO_TCP,
				       (struct sockaddr *)&ss, since);
	op->fd = fd;
	op->ev = event_new(e->base, fd, EV_WRITE, connect_cb, op);
	if (op->ev == NULL)
		abort();
	event_add(op->ev, &e->step_tv);
	return op;
defer:
	/* Errors such as ENETUNREACH come straight from connect(). */
	op->err = err;
	op->ev = evtimer_new(e->base, deferred_cb, op);
	if (op->ev == NULL)
		abort();
	event_active(op->ev, EV_TIMEOUT, 0);
	return op;
}

uint32_t
tcp_op_flow(const struct tcp_op *op)
{
	return op != NULL ? op->flow : 0;
}

void
tcp_cancel(struct tcp_op *op)
{
	if (op == NULL)
		return;
	if (op->fd >= 0)
		close_fd(op);
	event_free(op->ev);
	free(op);
}
