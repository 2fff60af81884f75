/*
 * ratelog.c - rate-limited log lines (ratelog.h). Issue 12: a listener
 * failing accept() for lack of descriptors logged one line per attempt,
 * 2 GB in 40 s.
 */
#include <stdarg.h>
#include <stdio.h>

#include "ratelog.h"

bool
ratelog(struct ratelog *r, enum ww_log_level lvl, const char *tag,
	const char *fmt, ...)
{
	double now = ww_mono();
	char line[512], more[64] = "";
	va_list ap;

	if (r->printed && now - r->last < r->every) {
		r->more++;
		return false;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (r->more > 0)
		snprintf(more, sizeof(more), " (%lu more since the last)",
			 r->more);
	ww_log(lvl, tag, "%s%s", line, more);
	r->printed = true;
	r->last = now;
	r->more = 0;
	return true;
}
