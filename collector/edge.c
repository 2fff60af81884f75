/*
 * edge.c - deadlines, body rate, strict framing and the per-source cap on
 * the collector's HTTP connections (edge.h).
 *
 * Each watched connection is in one phase:
 *   HEAD    receiving a request's line and headers: the header deadline
 *           runs (from accept, or from the end of the previous answer);
 *           each new byte is copied and the complete lines checked
 *           (httpframe.c) before evhttp reads them;
 *   BODY    receiving its body: after the grace (header_timeout) the
 *           bytes received must keep up min_body_rate on average;
 *   WAIT    the body is in, the handler not yet called;
 *   BUSY    the handler runs or its answer is being written: no deadline
 *           (controls take up to 40 s; exports stream);
 *   LINGER  refused or cut: the socket is shut down, what the client
 *           still sends is thrown away until evhttp frees the connection.
 * The end of BODY for a chunked body is when the handler is called; on a
 * kept-alive connection the next request's first bytes may already be in
 * the input buffer when the answer is written: HEAD starts over from the
 * buffer's content then (evhttp has consumed the previous request whole,
 * and reads the next only after that answer).
 *
 * The timers are per connection and armed only when they can fire: one
 * per phase change, one per body-rate check (at the time the rate would
 * fall below the minimum if no byte came).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <jansson.h>

#include "edge.h"
#include "httpframe.h"
#include "ratelog.h"
#include "util.h"

/* Seconds a refused connection's input is thrown away before its socket
 * is shut for reading too (evhttp then frees it), and how often a closed
 * one is looked for afterwards. */
#define LINGER_SECS 2.0
/* One line per this many seconds for each kind of cut. */
#define LOG_EVERY 10.0
/* At the connection limit, a connection that has been this long sending a
 * part of its head, or a body below the minimum rate, makes room. */
#define SHED_AGE 1.0

enum phase { PH_HEAD, PH_BODY, PH_WAIT, PH_BUSY, PH_LINGER };

/* A source: the family, then the IPv4 address (an IPv4 client of a
 * dual-stack listener as IPv4) or the IPv6 /64 (a host is given a whole
 * /64, RFC 7421: counted by address, one host would have 2^64). */
struct src {
	unsigned char b[17];
};

struct edge_conn {
	struct edge *e;
	struct bufferevent *bev; /* a reference held */
	struct evbuffer_cb_entry *in_cb;
	struct event *timer;
	int fd;
	dev_t dev;
	ino_t ino;
	struct src src;
	enum phase phase;
	double since; /* ww_mono() the phase began */
	char *head;   /* HEAD: the request's bytes so far */
	size_t head_len, head_cap;
	struct http_frame frame;
	uint64_t body_got;
	int64_t body_want; /* -1: until the handler runs (chunked) */
	void (*done)(struct evhttp_request *, void *);
	void *done_arg;
};

struct edge {
	struct event_base *base;
	struct edge_opts o;
	struct edge_conn **by_fd; /* indexed by socket */
	size_t cap_fd, hi;	  /* slots; highest fd used + 1 */
	size_t n, prune_at;
	unsigned long long cut_head, cut_body, refused_framing, refused_source,
		shed;
	struct ratelog log_head, log_body, log_framing, log_source, log_shed;
};

static struct edge *the_edge;

static void timer_cb(evutil_socket_t fd, short what, void *arg);
static void in_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
		  void *arg);

static bool
conn_alive(const struct edge_conn *c)
{
	struct stat st;

	return fstat(c->fd, &st) == 0 && st.st_dev == c->dev &&
	       st.st_ino == c->ino;
}

static void
conn_forget(struct edge_conn *c)
{
	struct edge *e = c->e;

	e->by_fd[c->fd] = NULL;
	e->n--;
	event_free(c->timer);
	evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
	bufferevent_decref(c->bev);
	free(c->head);
	free(c);
}

static void
arm(struct edge_conn *c, double secs)
{
	struct timeval tv = ww_timeval(secs < 0.01 ? 0.01 : secs);

	evtimer_add(c->timer, &tv);
}

/* A whole answer written straight to the socket: evhttp is between
 * requests (HEAD or BODY: its output is empty), so nothing interleaves.
 * Best effort: a client that does not read loses it. */
static void
send_direct(struct edge_conn *c, int code, const char *reason, const char *msg)
{
	json_t *o = json_pack("{s:s}", "error", msg);
	char *body = json_dumps(o, JSON_COMPACT);
	char *all;
	int len;

	json_decref(o);
	if (body == NULL)
		abort();
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		all = xasprintf("HTTP/1.1 %d %s\r\n"
				"Content-Type: application/json\r\n"
				"X-Content-Type-Options: nosniff\r\n"
				"Content-Length: %zu\r\n"
				"Connection: close\r\n\r\n%s\n",
				code, reason, strlen(body) + 1, body);
		len = (int)strlen(all);
		(void)!send(c->fd, all, (size_t)len,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		free(all);
	}
	free(body);
}

static void
to_linger(struct edge_conn *c, int how)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	shutdown(c->fd, how);
	c->phase = PH_LINGER;
	c->since = ww_mono();
	free(c->head);
	c->head = NULL;
	c->head_len = c->head_cap = 0;
	/* evhttp must not read what is left of this request (the in_cb
	 * sees a deletion only). */
	evbuffer_drain(in, evbuffer_get_length(in));
	arm(c, LINGER_SECS);
}

/* Framing refused: the answer, then the end of the connection (the
 * client reads the answer and its end; the rest of what it sends is
 * thrown away). */
static void
refuse(struct edge_conn *c, int code, const char *reason, const char *msg)
{
	c->e->refused_framing++;
	ratelog(&c->e->log_framing, WW_LOG_INFO, "http",
		"request refused with %d: %s", code, msg);
	send_direct(c, code, reason, msg);
	to_linger(c, SHUT_WR);
}

/* A deadline missed: 408 when part of a request came, and the end. */
static void
cut(struct edge_conn *c, bool some, const char *msg)
{
	if (some)
		send_direct(c, 408, "Request Timeout", msg);
	to_linger(c, SHUT_RDWR);
}

static void
to_body_or_wait(struct edge_conn *c)
{
	const struct http_frame *f = &c->frame;

	c->body_got = c->head_len - f->end;
	free(c->head);
	c->head = NULL;
	c->head_len = c->head_cap = 0;
	c->since = ww_mono();
	c->body_want = f->chunked ? -1 : f->content_length;
	if (!f->chunked && (f->content_length <= 0 ||
			    c->body_got >= (uint64_t)f->content_length)) {
		c->phase = PH_WAIT;
		evtimer_del(c->timer);
		return;
	}
	c->phase = PH_BODY;
	if (c->e->o.min_body_rate > 0)
		arm(c, c->e->o.header_timeout);
	else
		evtimer_del(c->timer);
}

static void
scan_head(struct edge_conn *c)
{
	char err[256];
	int rc = http_frame_feed(&c->frame, c->head, c->head_len, err,
				 sizeof(err));

	if (rc < 0) {
		refuse(c, 400, "Bad Request", err);
		return;
	}
	if (rc > 0) {
		to_body_or_wait(c);
		return;
	}
	if (c->head_len >= c->head_cap) {
		snprintf(err, sizeof(err),
			 "the request line and headers are over %zu bytes",
			 c->e->o.max_head);
		refuse(c, 431, "Request Header Fields Too Large", err);
	}
}

/* The last n bytes of buf into the head, up to its cap. */
static void
head_append(struct edge_conn *c, struct evbuffer *buf, size_t n)
{
	size_t len = evbuffer_get_length(buf), room;
	struct evbuffer_ptr pos;

	if (c->head == NULL) {
		c->head_cap = 2 * c->e->o.max_head + 1024;
		c->head = xmalloc(c->head_cap);
	}
	room = c->head_cap - c->head_len;
	if (n > len)
		n = len;
	if (n > room)
		n = room;
	if (n == 0 ||
	    evbuffer_ptr_set(buf, &pos, len - n, EVBUFFER_PTR_SET) != 0)
		return;
	if (evbuffer_copyout_from(buf, &pos, c->head + c->head_len, n) > 0)
		c->head_len += n;
}

/* A new request's head begins: now, with what the buffer already holds. */
static void
to_head(struct edge_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	c->phase = PH_HEAD;
	c->since = ww_mono();
	memset(&c->frame, 0, sizeof(c->frame));
	c->head_len = 0;
	arm(c, c->e->o.header_timeout);
	if (evbuffer_get_length(in) > 0) {
		head_append(c, in, evbuffer_get_length(in));
		scan_head(c);
	}
}

static void
in_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct edge_conn *c = arg;

	if (info->n_added == 0)
		return;
	switch (c->phase) {
	case PH_LINGER:
		evbuffer_drain(buf, evbuffer_get_length(buf));
		break;
	case PH_HEAD:
		head_append(c, buf, info->n_added);
		scan_head(c);
		break;
	case PH_BODY:
		c->body_got += info->n_added;
		if (c->body_want >= 0 &&
		    c->body_got >= (uint64_t)c->body_want) {
			c->phase = PH_WAIT;
			evtimer_del(c->timer);
		}
		break;
	case PH_WAIT:
	case PH_BUSY:
		break;
	}
}

static void
check_body_rate(struct edge_conn *c, double now)
{
	double rate = c->e->o.min_body_rate, grace = c->e->o.header_timeout;
	double elapsed = now - c->since, next;
	char msg[160];

	if (elapsed >= grace && (double)c->body_got < rate * elapsed) {
		c->e->cut_body++;
		snprintf(msg, sizeof(msg),
			 "the body came slower than %.0f bytes/s "
			 "(--min-body-rate)",
			 rate);
		ratelog(&c->e->log_body, WW_LOG_INFO, "http",
			"connection closed: its request body came slower "
			"than %.0f bytes/s (--min-body-rate)",
			rate);
		cut(c, true, msg);
		return;
	}
	/* When it falls below, if nothing more comes. */
	next = (double)c->body_got / rate;
	if (next < grace)
		next = grace;
	arm(c, next - elapsed);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct edge_conn *c = arg;
	double now = ww_mono();
	char msg[160];

	(void)fd;
	(void)what;
	if (!conn_alive(c)) {
		conn_forget(c);
		return;
	}
	switch (c->phase) {
	case PH_HEAD:
		if (now - c->since < c->e->o.header_timeout) {
			arm(c, c->e->o.header_timeout - (now - c->since));
			return;
		}
		c->e->cut_head++;
		snprintf(msg, sizeof(msg),
			 "the request line and headers did not come within "
			 "%g s (--header-timeout)",
			 c->e->o.header_timeout);
		if (c->head_len > 0)
			ratelog(&c->e->log_head, WW_LOG_INFO, "http",
				"connection closed: %s", msg);
		cut(c, c->head_len > 0, msg);
		break;
	case PH_BODY:
		if (c->e->o.min_body_rate > 0)
			check_body_rate(c, now);
		break;
	case PH_LINGER:
		/* Still open: evhttp has not read the end yet. */
		shutdown(c->fd, SHUT_RDWR);
		arm(c, LINGER_SECS);
		break;
	case PH_WAIT:
	case PH_BUSY:
		break;
	}
}

struct edge *
edge_new(struct event_base *base, const struct edge_opts *o)
{
	struct edge *e = xcalloc(1, sizeof(*e));
	struct ratelog r = RATELOG_INIT(LOG_EVERY);

	e->base = base;
	e->o = *o;
	if (e->o.per_source <= 0)
		e->o.per_source = EDGE_PER_SOURCE;
	if (e->o.header_timeout <= 0)
		e->o.header_timeout = EDGE_HEADER_TIMEOUT;
	e->prune_at = 64;
	e->log_head = e->log_body = e->log_framing = e->log_source = r;
	e->log_shed = r;
	the_edge = e;
	return e;
}

void
edge_free(struct edge *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->hi; i++)
		if (e->by_fd[i] != NULL)
			conn_forget(e->by_fd[i]);
	free(e->by_fd);
	if (the_edge == e)
		the_edge = NULL;
	free(e);
}

void
edge_prune(struct edge *e)
{
	size_t i;

	for (i = 0; i < e->hi; i++)
		if (e->by_fd[i] != NULL && !conn_alive(e->by_fd[i]))
			conn_forget(e->by_fd[i]);
	while (e->hi > 0 && e->by_fd[e->hi - 1] == NULL)
		e->hi--;
	e->prune_at = e->n * 2 > 64 ? e->n * 2 : 64;
}

size_t
edge_count(const struct edge *e)
{
	return e->n;
}

size_t
edge_count_open(const struct edge *e)
{
	size_t i, n = 0;

	for (i = 0; i < e->hi; i++)
		n += e->by_fd[i] != NULL && conn_alive(e->by_fd[i]);
	return n;
}

static void
src_of(int fd, struct src *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	memset(s, 0, sizeof(*s));
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;

		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
			s->b[0] = 4;
			memcpy(s->b + 1, a->sin6_addr.s6_addr + 12, 4);
		} else {
			s->b[0] = 6;
			memcpy(s->b + 1, a->sin6_addr.s6_addr, 8);
		}
	} else if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;

		s->b[0] = 4;
		memcpy(s->b + 1, &a->sin_addr, 4);
	}
}

/* Connections open from s; those of s found closed are forgotten (a
 * client making one short connection after another must not be counted
 * for the ones it has closed). */
static int
count_from(struct edge *e, const struct src *s)
{
	size_t i;
	int n = 0;

	for (i = 0; i < e->hi; i++) {
		struct edge_conn *c = e->by_fd[i];

		if (c == NULL || memcmp(c->src.b, s->b, sizeof(s->b)) != 0)
			continue;
		if (conn_alive(c))
			n++;
		else
			conn_forget(c);
	}
	return n;
}

bool
edge_adopt(struct edge *e, struct bufferevent *bev)
{
	int fd = (int)bufferevent_getfd(bev);
	struct edge_conn *c;
	struct stat st;
	struct src s;

	if (fd < 0 || fstat(fd, &st) != 0)
		return true; /* evhttp dropped it already */
	if ((size_t)fd < e->hi && e->by_fd[fd] != NULL)
		conn_forget(e->by_fd[fd]); /* its fd was closed, reused */
	src_of(fd, &s);
	if (count_from(e, &s) >= e->o.per_source) {
		e->refused_source++;
		ratelog(&e->log_source, WW_LOG_WARN, "http",
			"a connection closed at once: its address already "
			"holds %d (--max-per-source)",
			e->o.per_source);
		shutdown(fd, SHUT_RDWR);
		return false;
	}
	while ((size_t)fd >= e->cap_fd) {
		size_t old = e->cap_fd;

		e->cap_fd = old ? old * 2 : 256;
		e->by_fd = xrealloc(e->by_fd, e->cap_fd * sizeof(*e->by_fd));
		memset(e->by_fd + old, 0,
		       (e->cap_fd - old) * sizeof(*e->by_fd));
	}
	c = xcalloc(1, sizeof(*c));
	c->e = e;
	c->bev = bev;
	c->fd = fd;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->src = s;
	bufferevent_incref(bev);
	c->timer = evtimer_new(e->base, timer_cb, c);
	c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), in_cb, c);
	if (c->timer == NULL || c->in_cb == NULL)
		abort();
	e->by_fd[fd] = c;
	if ((size_t)fd >= e->hi)
		e->hi = (size_t)fd + 1;
	e->n++;
	to_head(c);
	if (e->n >= e->prune_at)
		edge_prune(e);
	return true;
}

/* How far behind a connection is, in seconds, or a negative number when
 * it is not (a head sent at once, a body on time, or too young to say). */
static double
behind(const struct edge_conn *c, double now)
{
	double age = now - c->since, rate = c->e->o.min_body_rate;

	if (age < SHED_AGE)
		return -1;
	if (c->phase == PH_HEAD && c->head_len > 0)
		return age;
	if (c->phase == PH_BODY && rate > 0 && (double)c->body_got < rate * age)
		return age - (double)c->body_got / rate;
	return -1;
}

bool
edge_shed(struct edge *e)
{
	struct edge_conn *worst = NULL;
	double now = ww_mono(), most = 0;
	size_t i;

	for (i = 0; i < e->hi; i++) {
		struct edge_conn *c = e->by_fd[i];
		double b = c != NULL ? behind(c, now) : -1;

		if (b > most) {
			most = b;
			worst = c;
		}
	}
	if (worst == NULL || !conn_alive(worst))
		return false;
	e->shed++;
	ratelog(&e->log_shed, WW_LOG_INFO, "http",
		"at the connection limit: closed one slow to send its "
		"request, to make room");
	cut(worst, true,
	    "closed to make room: the request came too slowly while the "
	    "server was at its connection limit");
	return true;
}

static struct edge_conn *
conn_of(struct evhttp_request *req)
{
	struct edge *e = the_edge;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	evutil_socket_t fd;

	if (e == NULL || evcon == NULL)
		return NULL;
	bev = evhttp_connection_get_bufferevent(evcon);
	fd = bev != NULL ? bufferevent_getfd(bev) : -1;
	if (fd < 0 || (size_t)fd >= e->hi || e->by_fd[fd] == NULL ||
	    e->by_fd[fd]->bev != bev)
		return NULL;
	return e->by_fd[fd];
}

static void
complete_cb(struct evhttp_request *req, void *arg)
{
	struct edge_conn *c = arg;
	void (*done)(struct evhttp_request *, void *) = c->done;
	void *done_arg = c->done_arg;

	c->done = NULL;
	/* The answer is out: the next request's deadline starts now. */
	if (c->phase == PH_BUSY)
		to_head(c);
	if (done != NULL)
		done(req, done_arg);
}

void
edge_request(struct evhttp_request *req)
{
	struct edge_conn *c = conn_of(req);

	if (c == NULL || c->phase == PH_LINGER)
		return;
	c->phase = PH_BUSY;
	c->done = NULL;
	evtimer_del(c->timer);
	evhttp_request_set_on_complete_cb(req, complete_cb, c);
}

bool
edge_on_complete(struct evhttp_request *req,
		 void (*cb)(struct evhttp_request *, void *), void *arg)
{
	struct edge_conn *c = conn_of(req);

	if (c == NULL || c->phase != PH_BUSY)
		return false;
	c->done = cb;
	c->done_arg = arg;
	return true;
}

void
edge_metrics(const struct edge *e, struct evbuffer *out)
{
	evbuffer_add_printf(
		out,
		"# HELP wallwatch_http_cut_total Connections closed by the "
		"edge, by reason.\n"
		"# TYPE wallwatch_http_cut_total counter\n"
		"wallwatch_http_cut_total{reason=\"header_timeout\"} %llu\n"
		"wallwatch_http_cut_total{reason=\"body_rate\"} %llu\n"
		"wallwatch_http_cut_total{reason=\"framing\"} %llu\n"
		"wallwatch_http_cut_total{reason=\"per_source\"} %llu\n"
		"wallwatch_http_cut_total{reason=\"shed\"} %llu\n",
		e->cut_head, e->cut_body, e->refused_framing, e->refused_source,
		e->shed);
}
