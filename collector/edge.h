/*
 * edge.h - the collector's HTTP edge against slow and malformed clients:
 * per connection, a deadline for the request line and headers, a minimum
 * body rate, the strict framing check (httpframe.h), and a cap on the
 * connections of one source address. evhttp (libevent 2.1) has none of
 * these and no hook before it acts on a request's head, so the edge
 * watches the bytes evhttp reads: a callback on each connection's input
 * buffer runs as bytes are added, before evhttp's own read callback sees
 * them.
 *
 * A refusal is written straight to the socket (evhttp is between requests
 * then: nothing else is being written), the rest of the input is thrown
 * away and the socket shut down; evhttp then reads the end of the stream
 * and frees the connection itself. The edge holds a reference on each
 * connection's bufferevent and forgets the connection once its socket is
 * closed (the fd no longer names that socket: fstat), as the HTTP server's
 * connection count always did.
 *
 * One edge per process (edge_request() and edge_on_complete() find it by
 * themselves: reply_track() has no server at hand).
 */
#ifndef WW_EDGE_H
#define WW_EDGE_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

struct bufferevent;
struct evbuffer;
struct evhttp_request;

struct edge_opts {
	/* Seconds from accept, or from the end of the previous answer on a
	 * kept-alive connection, to receive the request line and headers;
	 * also the grace a body has before its rate counts. */
	double header_timeout;
	/* Bytes per second a body must keep up, averaged from its start,
	 * once it has taken header_timeout; 0: no minimum. */
	double min_body_rate;
	/* Connections one source address may hold open (> 0). */
	int per_source;
	/* evhttp's bound on a request's headers (bytes). */
	size_t max_head;
};

#define EDGE_HEADER_TIMEOUT 10.0
#define EDGE_MIN_BODY_RATE 1024.0
#define EDGE_PER_SOURCE 64

struct edge;

struct edge *edge_new(struct event_base *base, const struct edge_opts *o);
/* Forget every connection (their bufferevents' references go). */
void edge_free(struct edge *e);

/* A connection evhttp has just accepted (its fd set): watched from now on,
 * true. false when its source address already holds o.per_source open
 * connections: it is shut down at once (evhttp frees it on its next read)
 * and not counted. */
bool edge_adopt(struct edge *e, struct bufferevent *bev);

/* Connections watched; edge_prune() first forgets the closed ones. */
size_t edge_count(const struct edge *e);
void edge_prune(struct edge *e);
/* Connections watched that are open now (fstat each). */
size_t edge_count_open(const struct edge *e);

/* At the connection limit: close the connection furthest behind (a part
 * of its head sent over a second ago, or a body below the minimum rate),
 * with 408, to make room for a client that may not be slow. true when one
 * was. */
bool edge_shed(struct edge *e);

/* At the start of each request's handler: its head and body are in; no
 * deadline runs until its answer has been written. */
void edge_request(struct evhttp_request *req);

/* cb(req, arg) once req's answer has been written (evhttp's on_complete
 * callback, which the edge takes for itself in edge_request()). false
 * when req's connection is not watched: set on_complete directly. */
bool edge_on_complete(struct evhttp_request *req,
		      void (*cb)(struct evhttp_request *, void *), void *arg);

/* Prometheus text: connections cut for each reason. */
void edge_metrics(const struct edge *e, struct evbuffer *out);

#endif
