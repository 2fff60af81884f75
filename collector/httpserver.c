/*
 * httpserver.c - the collector's HTTP server over libevent's evhttp
 * (httpserver.h): each request goes to the router (router.h, routes.c)
 * after the header every answer carries; the control service, the ingest,
 * the read API and the web view are handlers like any other.
 *
 * Connections: at most max_conns client connections open at once; at the
 * limit the listener stops accepting and new connections wait in the
 * kernel's backlog. libevent 2.1's evhttp has no such limit, nor a hook
 * when it frees a connection (a filter bufferevent's free_context would
 * be one, but evhttp over a filter loses answers: libevent issue #616), so
 * each accepted connection is remembered by its socket (fd, device and
 * inode: edge.c, which also runs its deadlines) and counted closed once
 * that fd no longer names that socket. The sockets are checked (fstat)
 * when the count reaches the limit or the list has doubled, and while
 * paused every CONN_RECHECK_US per connection, at least every
 * millisecond: a check costs well under 1 us a socket, so a few percent
 * of the loop at most. libevent's timers tick every few ms
 * (CLOCK_MONOTONIC_COARSE), so at the limit about max_conns connections
 * can end and be replaced per tick: with --max-connections 16 and
 * connections of one request each, 4,000 a second.
 *
 * Descriptors: when accept() fails for lack of them (EMFILE, ENFILE),
 * libevent's listener would try again at once, forever, and log each
 * failure (issue 12: a core at 93 % and 2 GB of log in 40 s). The listener
 * is paused for FD_PAUSE_SECS instead, and the failure logged at most once
 * per FD_LOG_EVERY seconds with the count of the others.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "collector.h"
#include "drain.h"
#include "edge.h"
#include "httpserver.h"
#include "ipaddr.h"
#include "ratelog.h"
#include "router.h"
#include "util.h"

/* At most one "limit reached" warning in this many seconds. */
#define CONN_WARN_EVERY 10.0
/* While not accepting, look for closed connections this often: so many
 * microseconds per connection, at least 1 ms. */
#define CONN_RECHECK_US 5
/* Out of descriptors: accept nothing for so long, log once per so long. */
#define FD_PAUSE_SECS 0.25
#define FD_LOG_EVERY 10.0

struct http_server {
	struct event_base *base;
	struct http_server_opts o;
	const struct router *router;
	struct drain *drain;
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	/* Connections accepted since adopt_ev last ran: their bufferevents,
	 * a reference held on each until their fd is read. */
	struct bufferevent **fresh;
	size_t n_fresh, cap_fresh;
	struct edge *edge; /* the others; some may be closed since */
	struct event *adopt_ev, *recheck_ev, *fd_ev;
	bool paused;		      /* not accepting: at max_conns */
	bool fd_paused;		      /* not accepting: no descriptor */
	unsigned long long fd_pauses; /* times accept() found none */
	struct ratelog fd_log;
	unsigned long long limit_reached; /* times paused */
	unsigned long long since_warning; /* pauses since the last warning */
	double warned_at;		  /* ww_mono() of the last warning */
};

/* One answer on its way (reply_track). */
struct tracked {
	void (*over)(void *);
	void *arg;
};

static void
tracked_over(struct tracked *t)
{
	void (*over)(void *) = t->over;
	void *arg = t->arg;

	free(t);
	over(arg);
}

static void
tracked_written(struct evhttp_request *req, void *arg)
{
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL,
				      NULL);
	tracked_over(arg);
}

static void
tracked_lost(struct evhttp_connection *conn, void *arg)
{
	(void)conn;
	tracked_over(arg);
}

void
reply_track(struct evhttp_request *req, void (*over)(void *), void *arg)
{
	struct tracked *t = xcalloc(1, sizeof(*t));

	t->over = over;
	t->arg = arg;
	/* libevent calls one of them: on_complete once the answer is
	 * written, the close callback if the connection goes first. */
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
				      tracked_lost, t);
	if (!edge_on_complete(req, tracked_written, t))
		evhttp_request_set_on_complete_cb(req, tracked_written, t);
}

static size_t
conns_open(const struct http_server *s)
{
	return s->n_fresh + edge_count(s->edge);
}

/* Forget the connections closed since: their fd is closed, or now names
 * another file. */
static void
conns_prune(struct http_server *s)
{
	edge_prune(s->edge);
}

static void
listener_enable(struct http_server *s)
{
	if (s->sock != NULL && !s->paused && !s->fd_paused)
		evconnlistener_enable(
			evhttp_bound_socket_get_listener(s->sock));
}

static void
conns_recheck_later(struct http_server *s)
{
	size_t us = edge_count(s->edge) * CONN_RECHECK_US;
	struct timeval tv;

	if (us < 1000)
		us = 1000;
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	evtimer_add(s->recheck_ev, &tv);
}

/* At the limit: leave new connections in the kernel's backlog. */
static void
conns_pause(struct http_server *s)
{
	double now = ww_mono();

	if (s->paused || s->sock == NULL)
		return;
	evconnlistener_disable(evhttp_bound_socket_get_listener(s->sock));
	s->paused = true;
	s->limit_reached++;
	s->since_warning++;
	conns_recheck_later(s);
	if (now - s->warned_at < CONN_WARN_EVERY)
		return;
	if (s->since_warning == 1)
		log_warn("http",
			 "connection limit reached: %zu open "
			 "(--max-connections); new ones wait until one closes",
			 conns_open(s));
	else
		log_warn("http",
			 "connection limit reached again: %zu open "
			 "(--max-connections), %llu times since the last "
			 "warning",
			 conns_open(s), s->since_warning);
	s->since_warning = 0;
	s->warned_at = now;
}

/* While paused: accept again once a connection has closed. */
static void
recheck_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *s = arg;

	(void)fd;
	(void)what;
	if (s->sock == NULL) /* draining: the listener is gone */
		return;
	conns_prune(s);
	if (conns_open(s) >= (size_t)s->o.max_conns) {
		/* Make room: a slow client goes (closed by the next check),
		 * so that a slowloris cannot keep every slot. */
		edge_shed(s->edge);
		conns_recheck_later(s);
		return;
	}
	s->paused = false;
	listener_enable(s);
}

/* The server whose listener failed (libevent hands the error callback
 * evhttp's argument, not ours; there is one server per process). */
static struct http_server *listening_server;

static void
fd_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *s = arg;

	(void)fd;
	(void)what;
	s->fd_paused = false;
	listener_enable(s);
}

/* accept() failed. For lack of descriptors (or of kernel memory): pause
 * rather than spin; a connection closing meanwhile frees one. */
static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct http_server *s = listening_server;
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv = ww_timeval(FD_PAUSE_SECS);

	(void)arg;
	if (s == NULL)
		return;
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		ratelog(&s->fd_log, WW_LOG_WARN, "http", "accept: %s",
			strerror(err));
		return;
	}
	evconnlistener_disable(lev);
	s->fd_paused = true;
	s->fd_pauses++;
	evtimer_add(s->fd_ev, &tv);
	ratelog(&s->fd_log, WW_LOG_WARN, "http",
		"cannot accept a connection: %s (the open-file limit; see "
		"--max-connections); not accepting for %.2f s",
		strerror(err), FD_PAUSE_SECS);
}

/* After the accepts: evhttp has given each fresh bufferevent its fd. */
static void
adopt_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *s = arg;
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < s->n_fresh; i++) {
		/* (If evhttp dropped it already, on an error, its fd is
		 * closed: not remembered, or forgotten by the next prune.
		 * One over its address's cap is closed and not counted.) */
		edge_adopt(s->edge, s->fresh[i]);
		bufferevent_decref(s->fresh[i]);
	}
	s->n_fresh = 0;
	/* Some may have been refused: below the limit again? */
	if (s->paused && conns_open(s) < (size_t)s->o.max_conns) {
		s->paused = false;
		listener_enable(s);
	}
}

/* evhttp's bufferevent for each accepted connection: the one it would make
 * itself (no BEV_OPT_CLOSE_ON_FREE: evhttp closes the fd when it frees the
 * connection); and the count. */
static struct bufferevent *
conn_new(struct event_base *base, void *arg)
{
	struct http_server *s = arg;
	struct bufferevent *bev;

	bev = bufferevent_socket_new(base, -1, 0);
	if (bev == NULL)
		abort();
	bufferevent_incref(bev);
	*WW_PUSH(s->fresh, s->n_fresh, s->cap_fresh) = bev;
	event_active(s->adopt_ev, 0, 0);
	if (conns_open(s) >= (size_t)s->o.max_conns) {
		conns_prune(s);
		if (conns_open(s) >= (size_t)s->o.max_conns) {
			edge_shed(s->edge);
			conns_pause(s);
		}
	}
	return bev;
}

static void
handle(struct evhttp_request *req, void *arg)
{
	struct http_server *s = arg;

	/* Every answer of the service, whoever makes it (the control, the
	 * read API and exports, the ingest, the web view, the router's 404
	 * and 405): never sniffed into another type, e.g. a JSON error read
	 * as HTML. */
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "X-Content-Type-Options", "nosniff");
	edge_request(req); /* no deadline until its answer is out */
	router_serve(s->router, req);
}

int
http_listen_parse(const char *s, char *ip, size_t iplen, unsigned short *port)
{
	const char *colon;
	long v;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end[1] != ':' ||
		    (size_t)(end - s - 1) >= iplen)
			return -1;
		memcpy(ip, s + 1, (size_t)(end - s - 1));
		ip[end - s - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || (size_t)(colon - s) >= iplen)
			return -1;
		memcpy(ip, s, (size_t)(colon - s));
		ip[colon - s] = '\0';
	}
	/* Port 0: the kernel picks a free one (http_server_address() says
	 * which), so tests never race for a port they guessed was free. */
	if (!ww_ip_is_literal(ip) || ww_parse_long(colon + 1, 0, 65535, &v))
		return -1;
	*port = (unsigned short)v;
	return 0;
}

struct http_server *
http_server_new(struct event_base *base, const struct http_server_opts *o,
		const struct router *r, struct drain *d, const char *listen,
		char *err, size_t errlen)
{
	struct http_server *s = xcalloc(1, sizeof(*s));
	char ip[64];
	unsigned short port;
	struct timeval idle = {(time_t)o->idle_timeout, 0};
	struct edge_opts eo;

	s->base = base;
	s->o = *o;
	s->router = r;
	s->drain = d;
	if (s->o.max_conns <= 0) /* unset: no limit */
		s->o.max_conns = INT_MAX;
	s->warned_at = -CONN_WARN_EVERY;
	if (http_listen_parse(listen, ip, sizeof(ip), &port) != 0) {
		snprintf(err, errlen,
			 "bad listen address \"%s\": want IP:PORT or "
			 "[IPv6]:PORT",
			 listen);
		free(s);
		return NULL;
	}
	s->http = evhttp_new(base);
	if (s->http == NULL)
		abort();
	evhttp_set_max_body_size(s->http, o->max_body);
	evhttp_set_max_headers_size(s->http, HTTP_MAX_HEADERS);
	evhttp_set_timeout_tv(s->http, &idle);
	/* Every common method reaches the router, which answers 405 with
	 * an Allow header rather than libevent's bare 501. */
	evhttp_set_allowed_methods(
		s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
				 EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
				 EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(s->http, handle, s);
	evhttp_set_bevcb(s->http, conn_new, s);
	s->adopt_ev = event_new(base, -1, 0, adopt_cb, s);
	s->recheck_ev = evtimer_new(base, recheck_cb, s);
	s->fd_ev = evtimer_new(base, fd_resume_cb, s);
	if (s->adopt_ev == NULL || s->recheck_ev == NULL || s->fd_ev == NULL)
		abort();
	s->fd_log = (struct ratelog)RATELOG_INIT(FD_LOG_EVERY);
	memset(&eo, 0, sizeof(eo));
	eo.header_timeout = o->header_timeout;
	eo.min_body_rate = o->min_body_rate;
	eo.per_source = o->per_source;
	eo.max_head = HTTP_MAX_HEADERS;
	s->edge = edge_new(base, &eo);
	s->sock = evhttp_bind_socket_with_handle(s->http, ip, port);
	if (s->sock != NULL) {
		/* Accepted sockets inherit it: without, the last piece of an
		 * answer over 16 KiB waits ~40 ms for the client's delayed
		 * ACK on a kept-alive connection (Nagle), as bench/ found. */
		int one = 1;

		setsockopt(evhttp_bound_socket_get_fd(s->sock), IPPROTO_TCP,
			   TCP_NODELAY, &one, sizeof(one));
		listening_server = s;
		evconnlistener_set_error_cb(
			evhttp_bound_socket_get_listener(s->sock),
			accept_error_cb);
	}
	if (s->sock == NULL) {
		snprintf(err, errlen,
			 "cannot listen on %s (in use, or not "
			 "an address of this host)",
			 listen);
		evhttp_free(s->http);
		event_free(s->adopt_ev);
		event_free(s->recheck_ev);
		event_free(s->fd_ev);
		edge_free(s->edge);
		free(s);
		return NULL;
	}
	return s;
}

int
http_server_address(const struct http_server *s, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];
	const void *a;
	unsigned port;

	if (s->sock == NULL || getsockname(evhttp_bound_socket_get_fd(s->sock),
					   (struct sockaddr *)&ss, &sl) != 0)
		return -1;
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
			(const struct sockaddr_in6 *)&ss;

		a = &s6->sin6_addr;
		port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;

		a = &s4->sin_addr;
		port = ntohs(s4->sin_port);
	}
	if (inet_ntop(ss.ss_family, a, ip, sizeof(ip)) == NULL)
		return -1;
	snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
		 port);
	return 0;
}

void
http_server_drain(struct http_server *s, void (*done)(void *), void *arg)
{
	if (s->sock != NULL) {
		evhttp_del_accept_socket(s->http, s->sock);
		s->sock = NULL;
	}
	drain_start(s->drain, done, arg);
}

void
http_server_free(struct http_server *s)
{
	size_t i;

	if (s == NULL)
		return;
	evhttp_free(s->http);
	/* The bufferevents evhttp_free let go of go with our references. */
	for (i = 0; i < s->n_fresh; i++)
		bufferevent_decref(s->fresh[i]);
	edge_free(s->edge);
	event_free(s->adopt_ev);
	event_free(s->recheck_ev);
	event_free(s->fd_ev);
	if (listening_server == s)
		listening_server = NULL;
	free(s->fresh);
	free(s);
}

void
http_server_metrics(const struct http_server *s, struct evbuffer *out)
{
	size_t n_open = s->n_fresh + edge_count_open(s->edge);

	evbuffer_add_printf(
		out,
		"# HELP wallwatch_http_connections Client connections open.\n"
		"# TYPE wallwatch_http_connections gauge\n"
		"wallwatch_http_connections %zu\n"
		"# HELP wallwatch_http_connections_max Client connections open "
		"at most (--max-connections).\n"
		"# TYPE wallwatch_http_connections_max gauge\n"
		"wallwatch_http_connections_max %d\n"
		"# HELP wallwatch_http_connection_limit_reached_total Times "
		"accepting was paused at the limit.\n"
		"# TYPE wallwatch_http_connection_limit_reached_total counter\n"
		"wallwatch_http_connection_limit_reached_total %llu\n"
		"# HELP wallwatch_http_accept_no_descriptor_total Times "
		"accepting was paused for lack of file descriptors.\n"
		"# TYPE wallwatch_http_accept_no_descriptor_total counter\n"
		"wallwatch_http_accept_no_descriptor_total %llu\n",
		n_open, s->o.max_conns, s->limit_reached, s->fd_pauses);
	edge_metrics(s->edge, out);
}
