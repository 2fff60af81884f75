/*
 * ctlserver.c - the control service (docs/control-protocol.md): each
 * control request (POST /api/v1/control, ours; POST /api/v1/oonith or /,
 * OONI's test-helper protocol) becomes one engine job on the loop, and its
 * answer is sent when the job ends. The HTTP server around it is
 * httpserver.c; the paths come to ctl_handle() through the router
 * (routes.c).
 *
 * Bounds: request bodies (64 KiB; above, 413), controls in flight (503
 * beyond), and time: a job still running at the deadline is cut short and
 * answered with what it has, its unfinished steps marked "interrupted".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "collector.h"
#include "control.h"
#include "drain.h"
#include "target.h"
#include "util.h"

struct pending;

struct ctl_service {
	struct event_base *base;
	struct ww_engine *e;
	struct ctl_opts o;
	struct drain *drain;  /* each control in flight and answer holds it */
	struct pending *head; /* in flight */
	int inflight;
};

struct pending {
	struct ctl_service *s;
	struct evhttp_request *req; /* NULL once the client went away */
	struct ww_job *job;
	struct ww_control_req creq;
	struct ww_measurement *m;
	struct event *deadline;
	struct pending *prev, *next;
};

static void
pending_unlink(struct pending *p)
{
	struct ctl_service *s = p->s;

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
job_done(struct ww_measurement *m, void *arg)
{
	struct pending *p = arg;
	struct ctl_service *s = p->s;

	p->job = NULL;
	if (p->req != NULL) {
		json_t *answer = ww_control_answer(m, &p->creq);

		/* Owed until written out (or the client is gone). */
		drain_hold(s->drain);
		reply_track(p->req, drain_release_cb, s->drain);
		reply_json(p->req, 200, "OK", answer);
		json_decref(answer);
		log_debug("control", "%s: answered in %.3f s", p->creq.input,
			  m->test_runtime);
	}
	ww_measurement_free(m);
	pending_unlink(p);
	pending_free(p);
	drain_release(s->drain); /* the job's hold */
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

void
ctl_handle(struct ctl_service *s, struct evhttp_request *req, bool ooni)
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
	if (s->inflight >= s->o.max_inflight || drain_closing(s->drain)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Retry-After", "5");
		reply_error(req, 503, "Service Unavailable",
			    drain_closing(s->drain)
				    ? "shutting down"
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
	drain_hold(s->drain); /* released in job_done */
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
	jo.quic = p->creq.quic;
	p->job = ww_job_start_opts(s->e, &t, &jo, p->m, job_done, p);
	ww_target_clear(&t);
}

struct ctl_service *
ctl_service_new(struct event_base *base, struct ww_engine *e,
		const struct ctl_opts *o, struct drain *d)
{
	struct ctl_service *s = xcalloc(1, sizeof(*s));

	s->base = base;
	s->e = e;
	s->o = *o;
	s->drain = d;
	return s;
}

void
ctl_service_free(struct ctl_service *s)
{
	if (s == NULL)
		return;
	while (s->head != NULL) {
		struct pending *p = s->head;

		/* The server drops the connections next: no answer, and no
		 * close callback into a freed pending. */
		if (p->req != NULL)
			evhttp_connection_set_closecb(
				evhttp_request_get_connection(p->req), NULL,
				NULL);
		p->req = NULL;
		ww_job_cancel(p->job);
	}
	free(s);
}
