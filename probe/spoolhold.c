/*
 * spoolhold.c - spooling a measurement, and holding it in memory while
 * the disk is full (see spoolhold.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spoolhold.h"
#include "state.h"
#include "util.h"

static int
hold(struct probe_env *env, const char *uid, const char *data, size_t len)
{
	struct pending_line *p;

	if (env->pending_bytes + len > PENDING_MAX_BYTES) {
		log_error("spool",
			  "measurement %s lost: the spool cannot be "
			  "written and %u MiB are already held in "
			  "memory",
			  uid, PENDING_MAX_BYTES >> 20);
		state_count(env, "lost", 1);
		return -1;
	}
	p = WW_PUSH(env->pending, env->n_pending, env->cap_pending);
	p->uid = xstrdup(uid);
	p->data = xmalloc(len);
	memcpy(p->data, data, len);
	p->len = len;
	env->pending_bytes += len;
	return 1;
}

static int
try_spool(struct probe_env *env, const char *uid, const char *data, size_t len,
	  bool loud)
{
	char err[512];
	uint64_t total;

	if (spool_put(&env->spool, uid, data, len, err, sizeof(err)) == 0)
		return 0;
	if (errno == ENOSPC || errno == EDQUOT) {
		/* Room may be made by dropping old bodies. */
		size_t n = spool_trim(&env->spool, &total);

		if (n > 0) {
			state_count(env, "trimmed", n);
			log_warn("spool",
				 "disk full: dropped the HTTP bodies of "
				 "the %zu oldest queued measurement(s)",
				 n);
			if (spool_put(&env->spool, uid, data, len, err,
				      sizeof(err)) == 0)
				return 0;
		}
	}
	if (loud)
		log_error("spool",
			  "%s; holding the measurement in memory and "
			  "retrying",
			  err);
	return -1;
}

int
env_spool(struct probe_env *env, const char *uid, const char *data, size_t len)
{
	uint64_t total;

	if (env->n_pending == 0 && try_spool(env, uid, data, len, true) == 0) {
		/* The full check lists the spool: only when the running
		 * estimate says it may be over. */
		if (env->spool.max_bytes > 0 &&
		    env->spool.bytes > env->spool.max_bytes &&
		    env_spool_full(env, &total) && !env->spool_full_warned) {
			log_warn("spool",
				 "the spool holds %.1f MiB, over its "
				 "--spool-max of %.1f MiB even without "
				 "bodies: no new runs until a "
				 "collector takes some",
				 (double)total / 1048576.0,
				 (double)env->spool.max_bytes / 1048576.0);
			env->spool_full_warned = true;
		}
		return 0;
	}
	/* Keep the order: once something is held, later ones queue behind
	 * it. */
	if (hold(env, uid, data, len) < 0)
		return -1;
	env_flush_pending(env);
	return env->n_pending > 0 ? 1 : 0;
}

size_t
env_flush_pending(struct probe_env *env)
{
	size_t done = 0;

	while (done < env->n_pending) {
		struct pending_line *p = &env->pending[done];

		if (try_spool(env, p->uid, p->data, p->len, false) != 0)
			break;
		env->pending_bytes -= p->len;
		free(p->uid);
		free(p->data);
		done++;
	}
	if (done > 0) {
		memmove(env->pending, env->pending + done,
			(env->n_pending - done) * sizeof(*env->pending));
		env->n_pending -= done;
		log_info("spool",
			 "%zu held measurement(s) written to the spool", done);
	}
	return env->n_pending;
}

bool
env_spool_full(struct probe_env *env, uint64_t *total)
{
	struct spool_entry *e;
	size_t n, trimmed;
	char err[256];

	*total = 0;
	if (env->spool.max_bytes == 0)
		return false;
	if (spool_list(&env->spool, &e, &n, total, err, sizeof(err)) != 0)
		return false;
	spool_entries_free(e, n);
	if (*total <= env->spool.max_bytes) {
		env->spool_full_warned = false;
		return false;
	}
	trimmed = spool_trim(&env->spool, total);
	if (trimmed > 0) {
		state_count(env, "trimmed", trimmed);
		log_warn("spool",
			 "over its cap of %.1f MiB: dropped the HTTP "
			 "bodies of the %zu oldest queued "
			 "measurement(s); the rest of each is kept",
			 (double)env->spool.max_bytes / 1048576.0, trimmed);
		state_save(env);
	}
	return *total > env->spool.max_bytes;
}
