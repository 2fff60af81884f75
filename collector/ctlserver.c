/*
 * ctlserver.c - the control service over HTTP (libevent's evhttp): each
 * request becomes one engine job on the same event base, and its answer
 * is sent when the job ends (docs/control-protocol.md).
 *
 * Bounds: request bodies (64 KiB, refused by evhttp with 413 before we see
 * them), headers (16 KiB), controls in flight (503 beyond), and time: a
 * job still running at the deadline is cut short and answered with what it
 * has, its unfinished steps marked "interrupted".
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
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "collector.h"
#include "control.h"
#include "edge.h"
#include "ipaddr.h"
#include "ratelog.h"
#include "target.h"
#include "util.h"

/* At most one "limit reached" warning in this many seconds. */
#define CONN_WARN_EVERY 10.0
/* While not accepting, look for closed connections this often: so many
 * microseconds per connection, at least 1 ms. */
#define CONN_RECHECK_US 5
/* Out of descriptors: accept nothing for so long, log once per so long. */
#define FD_PAUSE_SECS 0.25
#define FD_LOG_EVERY 10.0

struct pending;

struct ctl_server {
	struct event_base *base;
	struct ww_engine *e;
	struct ctl_server_opts o;
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	struct pending *head; /* in flight */
	int inflight;
	int sending; /* answers not yet written out (the drain waits) */
	bool draining;
	void (*drained)(void *);
	void *drained_arg;
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

struct pending {
	struct ctl_server *s;
	struct evhttp_request *req; /* NULL once the client went away */
	struct ww_job *job;
	struct ww_control_req creq;
	struct ww_measurement *m;
	struct event *deadline;
	struct pending *prev, *next;
};

void
reply_buffer(struct evhttp_request *req, int code, const char *reason,
	     struct evbuffer *buf)
{
	char len[24];

	/* evhttp would send a HEAD the body it is handed: give it the
	 * length GET would have, and no body. */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(buf));
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Content-Length", len);
		evhttp_send_reply(req, code, reason, NULL);
		return;
	}
	evhttp_send_reply(req, code, reason, buf);
}

void
reply_json(struct evhttp_request *req, int code, const char *reason,
	   json_t *body)
{
	struct evbuffer *buf = evbuffer_new();
	char *s = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS |
					   JSON_REAL_PRECISION(9));

	if (buf == NULL || s == NULL)
		abort();
	evbuffer_add(buf, s, strlen(s));
	evbuffer_add(buf, "\n", 1);
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type", "application/json");
	reply_buffer(req, code, reason, buf);
	evbuffer_free(buf);
	free(s);
}

void
reply_error(struct evhttp_request *req, int code, const char *reason,
	    const char *msg)
{
	json_t *o = json_pack("{s:s}", "error", msg);

	reply_json(req, code, reason, o);
	json_decref(o);
}

void
reply_not_allowed(struct evhttp_request *req, const char *allow,
		  const char *msg)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
			  allow);
	reply_error(req, 405, "Method Not Allowed", msg);
}

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

static void
maybe_drained(struct ctl_server *s)
{
	void (*cb)(void *) = s->drained;

	if (!s->draining || s->inflight > 0 || s->sending > 0 || cb == NULL)
		return;
	s->drained = NULL;
	cb(s->drained_arg);
}

static void
pending_unlink(struct pending *p)
{
	struct ctl_server *s = p->s;

	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		s->head = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	s->inflight--;
}

static void
pending_free(struct pending *p)
{
	if (p->deadline != NULL)
		event_free(p->deadline);
	ww_control_req_clear(&p->creq);
	free(p);
}

/* The client closed the connection before its answer: stop measuring. */
static void
conn_closed(struct evhttp_connection *conn, void *arg)
{
	struct pending *p = arg;

	(void)conn;
	p->req = NULL;
	if (p->job != NULL)
		ww_job_cancel(p->job); /* job_done runs, sends nothing */
}

static void
answer_over(void *arg)
{
	struct ctl_server *s = arg;

	s->sending--;
	maybe_drained(s);
}

static void
job_done(struct ww_measurement *m, void *arg)
{
	struct pending *p = arg;
	struct ctl_server *s = p->s;

	p->job = NULL;
	if (p->req != NULL) {
		json_t *answer = ww_control_answer(m, &p->creq);

		s->sending++;
		reply_track(p->req, answer_over, s);
		reply_json(p->req, 200, "OK", answer);
		json_decref(answer);
		log_debug("control", "%s: answered in %.3f s", p->creq.input,
			  m->test_runtime);
	}
	ww_measurement_free(m);
	pending_unlink(p);
	pending_free(p);
	maybe_drained(s);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;

	(void)fd;
	(void)what;
	log_warn("control", "%s: deadline reached, answering with what we have",
		 p->creq.input);
	if (p->job != NULL)
		ww_job_cancel(p->job);
}

static size_t
conns_open(const struct ctl_server *s)
{
	return s->n_fresh + edge_count(s->edge);
}

/* Forget the connections closed since: their fd is closed, or now names
 * another file. */
static void
conns_prune(struct ctl_server *s)
{
	edge_prune(s->edge);
}

static void
listener_enable(struct ctl_server *s)
{
	if (s->sock != NULL && !s->paused && !s->fd_paused)
		evconnlistener_enable(
			evhttp_bound_socket_get_listener(s->sock));
}

static void
conns_recheck_later(struct ctl_server *s)
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
conns_pause(struct ctl_server *s)
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
	struct ctl_server *s = arg;

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
static struct ctl_server *listening_server;

static void
fd_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_server *s = arg;

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
	struct ctl_server *s = listening_server;
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
	struct ctl_server *s = arg;
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
	struct ctl_server *s = arg;
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

static const char *
path_of(struct evhttp_request *req)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u != NULL ? evhttp_uri_get_path(u) : NULL;

	return path != NULL && path[0] != '\0' ? path : "/";
}

static void
start_control(struct ctl_server *s, struct evhttp_request *req, bool ooni)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *body = (const char *)evbuffer_pullup(in, -1);
	struct pending *p;
	struct ww_target t;
	struct ww_job_opts jo;
	char err[512];
	struct timeval tv;

	if (len > WW_CONTROL_MAX_REQUEST) {
		reply_error(req, 413, "Payload Too Large",
			    "a control request is at most 64 KiB");
		return;
	}
	if (s->inflight >= s->o.max_inflight || s->draining) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Retry-After", "5");
		reply_error(req, 503, "Service Unavailable",
			    s->draining ? "shutting down"
					: "too many controls in flight");
		return;
	}
	p = xcalloc(1, sizeof(*p));
	if (ww_control_req_parse(body ? body : "", len, ooni, &p->creq, err,
				 sizeof(err)) != 0) {
		reply_error(req, 400, "Bad Request", err);
		pending_free(p);
		return;
	}
	if (ww_target_parse(p->creq.input, &t, err, sizeof(err)) != 0)
		abort(); /* checked by the parser */
	if (t.host_is_ip && !ww_engine_allows(s->e, t.host)) {
		reply_error(req, 403, "Forbidden",
			    "the target is a private or reserved address "
			    "(the service runs without --allow-private)");
		ww_target_clear(&t);
		pending_free(p);
		return;
	}
	p->s = s;
	p->req = req;
	p->m = ww_measurement_new();
	p->m->input = xstrdup(p->creq.input);
	p->next = s->head;
	if (s->head != NULL)
		s->head->prev = p;
	s->head = p;
	s->inflight++;
	tv.tv_sec = (time_t)s->o.deadline;
	tv.tv_usec = (suseconds_t)((s->o.deadline - (double)tv.tv_sec) * 1e6);
	p->deadline = evtimer_new(s->base, deadline_cb, p);
	evtimer_add(p->deadline, &tv);
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
				      conn_closed, p);
	memset(&jo, 0, sizeof(jo));
	jo.addrs = (const char *const *)p->creq.addrs;
	jo.n_addrs = p->creq.n_addrs;
	jo.sni = p->creq.sni;
	p->job = ww_job_start_opts(s->e, &t, &jo, p->m, job_done, p);
	ww_target_clear(&t);
}

static void
handle(struct evhttp_request *req, void *arg)
{
	struct ctl_server *s = arg;
	const char *path = path_of(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	bool ours = strcmp(path, WW_CONTROL_PATH) == 0;
	bool ooni =
		strcmp(path, WW_OONI_TH_PATH) == 0 || strcmp(path, "/") == 0;

	/* Every answer of the service, whoever makes it (the control, the
	 * read API and exports, the ingest, the web view, errors): never
	 * sniffed into another type, e.g. a JSON error read as HTML. */
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "X-Content-Type-Options", "nosniff");
	edge_request(req); /* no deadline until its answer is out */
	if (strcmp(path, "/healthz") == 0) {
		struct evbuffer *buf = evbuffer_new();

		evbuffer_add_printf(buf, "ok\n");
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Content-Type", "text/plain");
		evhttp_send_reply(req, 200, "OK", buf);
		evbuffer_free(buf);
		return;
	}
	if (ooni && strcmp(path, "/") == 0 && cmd != EVHTTP_REQ_POST &&
	    s->o.fallback != NULL)
		ooni = false; /* GET / belongs to the rest of the service */
	if (!ours && !ooni) {
		if (s->o.fallback != NULL)
			s->o.fallback(req, s->o.fallback_arg);
		else
			reply_error(req, 404, "Not Found", "no such path");
		return;
	}
	if (cmd != EVHTTP_REQ_POST) {
		reply_not_allowed(req, "POST", "POST a JSON control request");
		return;
	}
	start_control(s, req, ooni);
}

int
ctl_listen_parse(const char *s, char *ip, size_t iplen, unsigned short *port)
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
	/* Port 0: the kernel picks a free one (ctl_server_address() says
	 * which), so tests never race for a port they guessed was free. */
	if (!ww_ip_is_literal(ip) || ww_parse_long(colon + 1, 0, 65535, &v))
		return -1;
	*port = (unsigned short)v;
	return 0;
}

struct ctl_server *
ctl_server_new(struct event_base *base, struct ww_engine *e,
	       const struct ctl_server_opts *o, const char *listen, char *err,
	       size_t errlen)
{
	struct ctl_server *s = xcalloc(1, sizeof(*s));
	char ip[64];
	unsigned short port;
	/* Idle connections go after this; longer than any control. */
	struct timeval idle = {(time_t)o->deadline + 15, 0};

	s->base = base;
	s->e = e;
	s->o = *o;
	struct edge_opts eo;

	if (s->o.max_conns <= 0) /* unset: no limit */
		s->o.max_conns = INT_MAX;
	s->warned_at = -CONN_WARN_EVERY;
	if (ctl_listen_parse(listen, ip, sizeof(ip), &port) != 0) {
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
	evhttp_set_max_body_size(s->http, o->max_body > WW_CONTROL_MAX_REQUEST
						  ? o->max_body
						  : WW_CONTROL_MAX_REQUEST);
	evhttp_set_max_headers_size(s->http, CTL_MAX_HEADERS);
	evhttp_set_timeout_tv(s->http, &idle);
	/* Every common method reaches the handlers, which answer 405 with
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
	eo.max_head = CTL_MAX_HEADERS;
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
ctl_server_address(const struct ctl_server *s, char *buf, size_t len)
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
ctl_server_drain(struct ctl_server *s, void (*done)(void *), void *arg)
{
	if (s->sock != NULL) {
		evhttp_del_accept_socket(s->http, s->sock);
		s->sock = NULL;
	}
	s->draining = true;
	s->drained = done;
	s->drained_arg = arg;
	maybe_drained(s);
}

void
ctl_server_free(struct ctl_server *s)
{
	size_t i;

	if (s == NULL)
		return;
	while (s->head != NULL) {
		struct pending *p = s->head;

		/* evhttp_free drops the connections: no answer, and no
		 * close callback into a freed pending. */
		if (p->req != NULL)
			evhttp_connection_set_closecb(
				evhttp_request_get_connection(p->req), NULL,
				NULL);
		p->req = NULL;
		ww_job_cancel(p->job);
	}
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
ctl_server_metrics(const struct ctl_server *s, struct evbuffer *out)
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
