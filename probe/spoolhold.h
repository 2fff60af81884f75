/*
 * spoolhold.h - a finished measurement into the spool (spool.h), and what
 * to do when the disk is full: trim the oldest bodies and retry, then hold
 * the measurement in memory (at most PENDING_MAX_BYTES, state.h) and retry
 * later, in order, so that nothing measured is lost to a full disk that
 * frees up.
 */
#ifndef WW_PROBE_SPOOLHOLD_H
#define WW_PROBE_SPOOLHOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct probe_env;

/*
 * Spool one measurement; on a full disk, trim bodies and retry, then hold
 * it in memory (env_flush_pending retries). Returns 0 when on disk, 1 when
 * held, -1 when lost (memory cap reached; logged).
 */
int env_spool(struct probe_env *env, const char *uid, const char *data,
	      size_t len);
/* Retry the held measurements; returns how many are still held. */
size_t env_flush_pending(struct probe_env *env);

/* Is the spool over its cap even after trimming (then new runs wait)? */
bool env_spool_full(struct probe_env *env, uint64_t *total);

#endif
