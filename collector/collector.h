/*
 * collector.h - wallwatch-collector's parts: the control service
 * (ctlserver.c) and the command line (main.c). Ingest, storage and
 * timelines (issue #4) will join them here.
 */
#ifndef WW_COLLECTOR_H
#define WW_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "engine.h"

#define EXIT_OK 0
#define EXIT_USAGE 1
#define EXIT_FAIL 2

struct ctl_server_opts {
	int max_inflight; /* controls measured at once; more get 503 */
	double deadline;  /* seconds one control may take in all */
};

struct ctl_server;

/* Serve the control API on base, measuring with e (made with
 * ww_config.control_service). listen is "IP:PORT" or "[IPv6]:PORT". */
struct ctl_server *ctl_server_new(struct event_base *base,
				  struct ww_engine *e,
				  const struct ctl_server_opts *o,
				  const char *listen, char *err,
				  size_t errlen);

/* Split "IP:PORT" / "[IPv6]:PORT"; 0, or -1 when it is not that. */
int ctl_listen_parse(const char *s, char *ip, size_t iplen,
		     unsigned short *port);

/* Stop accepting; done(arg) runs once no control is in flight (maybe
 * before this returns). */
void ctl_server_drain(struct ctl_server *s, void (*done)(void *),
		      void *arg);

/* Abandon what is in flight and free everything. */
void ctl_server_free(struct ctl_server *s);

#endif
