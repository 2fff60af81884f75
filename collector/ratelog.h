/*
 * ratelog.h - a log line that may repeat many times a second (a failing
 * accept(), a flood of refused connections) printed at most once per
 * interval; the next one printed says how many were held back:
 * "... (1234 more since the last)".
 */
#ifndef WW_RATELOG_H
#define WW_RATELOG_H

#include "util.h"

struct ratelog {
	double every;	    /* seconds between two lines, at least */
	double last;	    /* ww_mono() of the last line printed */
	unsigned long more; /* held back since */
	bool printed;	    /* one line printed yet */
};

/* A ratelog printing at most once per every seconds. */
#define RATELOG_INIT(every)                                                    \
	{                                                                      \
		(every), 0, 0, false                                           \
	}

/* Log the line (as ww_log) unless one was printed less than r->every
 * seconds ago; then only count it. Returns true when printed. */
bool ratelog(struct ratelog *r, enum ww_log_level lvl, const char *tag,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
