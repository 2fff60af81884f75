/*
 * drain.c - the count of work and answers owed (drain.h). The control
 * service and the ingest each kept a copy of it; a stop now waits on one
 * count for both.
 */
#include <stdlib.h>

#include "drain.h"

static void
maybe_done(struct drain *d)
{
	void (*cb)(void *) = d->done;

	if (!d->closing || d->busy > 0 || cb == NULL)
		return;
	d->done = NULL; /* once, even if the callback holds again */
	cb(d->done_arg);
}

void
drain_hold(struct drain *d)
{
	d->busy++;
}

void
drain_release(struct drain *d)
{
	if (d->busy == 0)
		abort(); /* a release without its hold: a bug, not input */
	d->busy--;
	maybe_done(d);
}

void
drain_release_cb(void *d)
{
	drain_release(d);
}

bool
drain_closing(const struct drain *d)
{
	return d->closing;
}

void
drain_start(struct drain *d, void (*done)(void *), void *arg)
{
	d->closing = true;
	d->done = done;
	d->done_arg = arg;
	maybe_done(d);
}
