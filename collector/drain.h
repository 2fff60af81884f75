/*
 * drain.h - the one count of what the collector still owes its clients, so
 * that a stop (SIGTERM) waits for it: work taken (a control measuring, a
 * batch being stored) and answers not yet written out. The control service
 * (ctlserver.c) and the ingest (ingest.c) count into the same tracker; the
 * HTTP server (httpserver.c) starts the drain when it stops accepting.
 *
 * Loop thread only: the ingest's threads hand their answers to the loop
 * before anything here is touched.
 */
#ifndef WW_DRAIN_H
#define WW_DRAIN_H

#include <stdbool.h>
#include <stddef.h>

struct drain {
	size_t busy;  /* holds not yet released */
	bool closing; /* drain_start() ran: take no new work */
	void (*done)(void *);
	void *done_arg;
};

#define DRAIN_INIT                                                             \
	{                                                                      \
		0, false, NULL, NULL                                           \
	}

/* One more thing owed: a job taken, or an answer on its way. */
void drain_hold(struct drain *d);
/* It is over; when closing and nothing else is owed, done runs (once). */
void drain_release(struct drain *d);
/* drain_release() for callbacks taking a void * (reply_track's over). */
void drain_release_cb(void *d);
/* True once draining: new work is refused (503 "shutting down"). */
bool drain_closing(const struct drain *d);
/* Take no new work; done(arg) runs once nothing is owed (maybe before
 * this returns). */
void drain_start(struct drain *d, void (*done)(void *), void *arg);

#endif
