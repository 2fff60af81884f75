/*
 * httpserver.h - the collector's HTTP server (libevent's evhttp): one
 * listener, its limits (body size, headers, idle time, open connections,
 * pausing when out of descriptors), the edge against slow and malformed
 * clients (edge.h), and every request handed to the router (router.h).
 * What the requests do is the handlers' (routes.c); the server only counts
 * what is owed when it stops (drain.h).
 */
#ifndef WW_HTTPSERVER_H
#define WW_HTTPSERVER_H

#include <stddef.h>

#include <event2/event.h>

struct drain;
struct evbuffer;
struct router;

struct http_server_opts {
	/* Request bodies, bytes: evhttp answers 413 beyond. */
	size_t max_body;
	/* Client connections open at once (> 0); while at it, the server
	 * stops accepting and new ones wait in the kernel's backlog. */
	int max_conns;
	/* Seconds an idle connection is kept (longer than any answer takes
	 * to start: a control's deadline). */
	int idle_timeout;
	/* The edge (edge.h): seconds to receive a request's line and
	 * headers, the body's minimum rate (bytes/s, 0: none), connections
	 * per source address; 0: the defaults. */
	double header_timeout;
	double min_body_rate;
	int per_source;
};

/* evhttp's bound on a request's line and headers (bytes). */
#define HTTP_MAX_HEADERS (16 * 1024)

struct http_server;

/* Serve on base at listen ("IP:PORT" or "[IPv6]:PORT"), each request
 * through r (kept, with r's context, until http_server_free); d counts
 * what is owed (http_server_drain waits on it). NULL with a message. */
struct http_server *http_server_new(struct event_base *base,
				    const struct http_server_opts *o,
				    const struct router *r, struct drain *d,
				    const char *listen, char *err,
				    size_t errlen);

/* Split "IP:PORT" / "[IPv6]:PORT" (PORT 0: any free port); 0, or -1 when
 * it is not that. */
int http_listen_parse(const char *s, char *ip, size_t iplen,
		      unsigned short *port);

/* The address really listened on, "IP:PORT" or "[IPv6]:PORT" (the port
 * the kernel chose for --listen IP:0); 0, or -1 when not listening. */
int http_server_address(const struct http_server *s, char *buf, size_t len);

/* Stop accepting and start the drain: done(arg) runs once nothing taken
 * is owed (maybe before this returns). */
void http_server_drain(struct http_server *s, void (*done)(void *), void *arg);

/* Drop every connection and free everything; the handlers' own work in
 * flight (controls) is to be abandoned before. */
void http_server_free(struct http_server *s);

/* Prometheus text for the client connections: open now, the limit, the
 * times accepting was paused at it or for lack of descriptors, and the
 * edge's cuts. */
void http_server_metrics(const struct http_server *s, struct evbuffer *out);

#endif
