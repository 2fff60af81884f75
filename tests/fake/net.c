/* net.c - listeners, connection bookkeeping and raw-socket behaviours. */
#include "fakenet.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "util.h"

/* After EMFILE, how long the listener rests before accepting again. */
#define ACCEPT_RETRY_MS 100

struct fake_listener {
	struct fakenet *fn;
	struct evconnlistener *lst;
	struct event *retry;
	fake_accept_fn accept_fn;
	void *arg;
	int port;
};

void
fake_conn_link(struct fakenet *fn, struct fake_conn *c,
	       void (*close_fn)(struct fake_conn *c))
{
	c->close = close_fn;
	c->next = fn->conns.next;
	c->prev = &fn->conns;
	fn->conns.next->prev = c;
	fn->conns.next = c;
	fn->nconns++;
}

void
fake_conn_unlink(struct fakenet *fn, struct fake_conn *c)
{
	c->prev->next = c->next;
	c->next->prev = c->prev;
	c->prev = c->next = NULL;
	fn->nconns--;
}

void
fake_conn_close_all(struct fakenet *fn)
{
	while (fn->conns.next != &fn->conns)
		fn->conns.next->close(fn->conns.next);
}

int
fake_sock_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

void
fake_close_rst(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	/* With a zero linger time close() aborts the connection: RST. */
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		log_debug("net", "SO_LINGER: %s", strerror(errno));
	close(fd);
}

void
fake_sock_nodelay(int fd)
{
	int one = 1;

	/* Fails harmlessly on non-TCP sockets; nothing to report. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* --- listeners -------------------------------------------------------------*/

static void
listener_accept(struct evconnlistener *lst, evutil_socket_t fd,
		struct sockaddr *sa, int salen, void *arg)
{
	struct fake_listener *l = arg;

	(void)lst;
	(void)sa;
	(void)salen;
	l->accept_fn(l, fd, l->arg);
}

static void
listener_retry(evutil_socket_t fd, short what, void *arg)
{
	struct fake_listener *l = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(l->lst);
}

/*
 * accept() failed for a reason libevent does not retry by itself, typically
 * EMFILE under a flood of held connections. The pending connection stays in
 * the backlog, so a level-triggered listener would spin: rest a little.
 */
static void
listener_error(struct evconnlistener *lst, void *arg)
{
	struct fake_listener *l = arg;
	struct timeval tv = {0, ACCEPT_RETRY_MS * 1000};

	log_warn("listen", "accept on port %d: %s", l->port, strerror(errno));
	evconnlistener_disable(lst);
	evtimer_add(l->retry, &tv);
}

struct fake_listener *
fake_listener_new(struct fakenet *fn, int port, fake_accept_fn accept_fn,
		  void *arg)
{
	struct sockaddr_storage ss = fn->bind_addr;

	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	return fake_listener_new_at(fn, (struct sockaddr *)&ss, fn->bind_len,
				    accept_fn, arg);
}

struct fake_listener *
fake_listener_new_at(struct fakenet *fn, const struct sockaddr *sa,
		     socklen_t salen, fake_accept_fn accept_fn, void *arg)
{
	struct fake_listener *l = xcalloc(1, sizeof(*l));
	int saved;

	l->fn = fn;
	l->accept_fn = accept_fn;
	l->arg = arg;
	l->lst = evconnlistener_new_bind(fn->base, listener_accept, l,
					 LEV_OPT_CLOSE_ON_FREE |
						 LEV_OPT_CLOSE_ON_EXEC |
						 LEV_OPT_REUSEABLE,
					 FAKE_BACKLOG, sa, (int)salen);
	if (l->lst == NULL)
		goto fail;
	l->port = fake_sock_port(evconnlistener_get_fd(l->lst));
	if (l->port < 0)
		goto fail;
	l->retry = evtimer_new(fn->base, listener_retry, l);
	evconnlistener_set_error_cb(l->lst, listener_error);
	return l;
fail:
	saved = errno;
	if (l->lst != NULL)
		evconnlistener_free(l->lst);
	free(l);
	errno = saved;
	return NULL;
}

int
fake_listener_port(const struct fake_listener *l)
{
	return l->port;
}

void
fake_listener_free(struct fake_listener *l)
{
	if (l == NULL)
		return;
	evconnlistener_free(l->lst);
	event_free(l->retry);
	free(l);
}

/* --- hold: read and discard until the peer closes --------------------------*/

struct hold_conn {
	struct fake_conn c; /* first */
	struct fakenet *fn;
	struct event *ev;
	int fd;
};

static void
hold_close(struct fake_conn *c)
{
	struct hold_conn *h = WW_CONTAINER_OF(c, struct hold_conn, c);

	fake_conn_unlink(h->fn, &h->c);
	event_free(h->ev);
	close(h->fd);
	free(h);
}

static void
hold_read(evutil_socket_t fd, short what, void *arg)
{
	static char sink[16384];
	struct hold_conn *h = arg;
	ssize_t n;
	int i;

	(void)what;
	/* Bounded, so one firehose client cannot starve the others. */
	for (i = 0; i < 16; i++) {
		n = read(fd, sink, sizeof(sink));
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		hold_close(&h->c); /* EOF, or an error such as a reset */
		return;
	}
}

void
fake_hold_new(struct fakenet *fn, int fd)
{
	struct hold_conn *h = xcalloc(1, sizeof(*h));

	h->fn = fn;
	h->fd = fd;
	h->ev = event_new(fn->base, fd, EV_READ | EV_PERSIST, hold_read, h);
	event_add(h->ev, NULL);
	fake_conn_link(fn, &h->c, hold_close);
}

/* --- reset after the first byte --------------------------------------------*/

struct rst_conn {
	struct fake_conn c; /* first */
	struct fakenet *fn;
	struct event *ev;
	int fd;
};

static void
rst_free(struct rst_conn *r, bool rst)
{
	fake_conn_unlink(r->fn, &r->c);
	event_free(r->ev);
	if (rst)
		fake_close_rst(r->fd);
	else
		close(r->fd);
	free(r);
}

static void
rst_close(struct fake_conn *c)
{
	rst_free(WW_CONTAINER_OF(c, struct rst_conn, c), false);
}

static void
rst_ready(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	/* Readable also means EOF; a RST then costs nothing either. */
	rst_free(arg, (what & EV_READ) != 0);
}

void
fake_rst_after_read_new(struct fakenet *fn, int fd)
{
	struct rst_conn *r = xcalloc(1, sizeof(*r));
	struct timeval idle = {FAKE_IDLE_SECS, 0};

	r->fn = fn;
	r->fd = fd;
	r->ev = event_new(fn->base, fd, EV_READ, rst_ready, r);
	event_add(r->ev, &idle);
	fake_conn_link(fn, &r->c, rst_close);
}
