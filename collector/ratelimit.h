/*
 * ratelimit.h - the ingest's rate limits (docs/submitters.md, "Rate
 * limits"): per submitter id and per observed network, batches per window
 * (a minute by default) and measurements per target per window (an hour).
 * The per-network limits apply to unsigned submitters only (any id but
 * "key:..."): a key is limited by its own counters, so that a forger in a
 * network cannot use up the network's share and defer the keyed probes
 * there.
 *
 * Fixed windows, aligned on multiples of their length since the epoch:
 * a counter starts again at zero when its window ends, and the wait
 * answered with 429 is the time to that end. Memory is fixed at creation
 * (RATE_SLOTS counters, set-associative, keyed by a seeded hash of the
 * submitter, network and target): many distinct networks or targets do not
 * grow it; under such pressure the least recently used counter is
 * forgotten, which errs on the side of letting a measurement in (never of
 * refusing an honest one). Any thread (one mutex).
 */
#ifndef WW_RATELIMIT_H
#define WW_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATE_SLOTS (1u << 18) /* counters held at most (24 bytes each) */

/* A limit: n per window seconds; n = 0 is no limit. */
struct rate_limit {
	long n;
	long window;
};

struct rate_opts {
	struct rate_limit batches;     /* per submitter id */
	struct rate_limit target;      /* per submitter id and target */
	struct rate_limit net_batches; /* per observed network */
	struct rate_limit net_target;  /* per observed network and target */
};

/* "N" or "N/SECONDS" (SECONDS 1 to 86400; when absent, dflt_window) into
 * out: 0, or -1 when s is not that (N from 0 to 10^9). */
int rate_limit_parse(const char *s, long dflt_window, struct rate_limit *out);

struct rate_limiter;
struct rate_limiter *rate_new(const struct rate_opts *o);
void rate_free(struct rate_limiter *rl);

/*
 * One batch from submitter sub (never NULL) seen from network net (NULL:
 * unknown, then only the submitter's limit applies; ignored for a key,
 * "key:...") at now: 0 when it is
 * within both limits (and counted against them), or the seconds to wait
 * (>= 1; nothing counted).
 */
long rate_batch(struct rate_limiter *rl, const char *sub, const char *net,
		int64_t now);

/*
 * The measurements of one batch from sub seen from net (as rate_batch()),
 * in order: targets[i] names row i's
 * target (NULL: a row without a target, or one refused already: not
 * limited). Each row within its limits is counted; one over any is
 * deferred (deferred[i] true, nothing counted). Returns 0 when none is
 * deferred, else the seconds to wait (>= 1).
 */
long rate_rows(struct rate_limiter *rl, const char *sub, const char *net,
	       const char *const *targets, size_t n, bool *deferred,
	       int64_t now);

/* Counters forgotten to make room since start (for /metrics). */
uint64_t rate_evictions(struct rate_limiter *rl);

#endif
