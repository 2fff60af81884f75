/*
 * ratelimit.c - fixed-window counters in a fixed table; see ratelimit.h.
 *
 * A counter is found by a 64-bit hash of its key (kind, submitter or
 * network, target), seeded at random per process so that nobody can aim
 * keys at one set to push out a counter of their choosing. Two keys with
 * the same 64-bit hash would share a counter: harmless at these odds.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "util.h"

#define WAYS 4 /* slots per set */
#define SETS (RATE_SLOTS / WAYS)

struct slot {
	uint64_t hash;	/* 0: free */
	int64_t end;	/* when its window ends, unix seconds */
	uint32_t count; /* in that window */
	uint32_t used;	/* tick of the last use, for LRU */
};

struct rate_limiter {
	struct rate_opts o;
	uint64_t seed;
	pthread_mutex_t mu;
	uint32_t tick;
	uint64_t evictions;
	struct slot *slots; /* SETS * WAYS */
};

int
rate_limit_parse(const char *s, long dflt_window, struct rate_limit *out)
{
	char buf[48];
	char *slash;
	long n, w = dflt_window;

	if (s == NULL || strlen(s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		if (ww_parse_long(slash + 1, 1, 86400, &w) != 0)
			return -1;
	}
	if (ww_parse_long(buf, 0, 1000000000L, &n) != 0)
		return -1;
	out->n = n;
	out->window = w;
	return 0;
}

struct rate_limiter *
rate_new(const struct rate_opts *o)
{
	struct rate_limiter *rl = xcalloc(1, sizeof(*rl));
	char hex[17];

	rl->o = *o;
	ww_random_hex(hex, 8);
	rl->seed = strtoull(hex, NULL, 16);
	rl->slots = xcalloc(SETS * WAYS, sizeof(*rl->slots));
	pthread_mutex_init(&rl->mu, NULL);
	return rl;
}

void
rate_free(struct rate_limiter *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->mu);
	free(rl->slots);
	free(rl);
}

/* FNV-1a over the parts (with a separator no part can hold), seeded, then
 * splitmix64's finaliser to spread the bits. Never 0 (a free slot). */
static uint64_t
rl_hash(uint64_t seed, char kind, const char *a, const char *b)
{
	uint64_t h = 1469598103934665603ULL ^ seed;
	const char *parts[2] = {a, b};

	h = (h ^ (unsigned char)kind) * 1099511628211ULL;
	for (int i = 0; i < 2; i++) {
		for (const char *p = parts[i] ? parts[i] : ""; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		h = (h ^ 0xffu) * 1099511628211ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h ? h : 1;
}

/* The counter of hash h in the window ending at end, made when missing
 * (with mu held): a free or expired slot of its set, else the least
 * recently used one. Counters of different window lengths share the
 * table, so expiry is by end time. */
static struct slot *
rl_slot(struct rate_limiter *rl, uint64_t h, int64_t now, int64_t end)
{
	struct slot *set = &rl->slots[(h % SETS) * WAYS];
	struct slot *pick = NULL;

	for (int i = 0; i < WAYS; i++)
		if (set[i].hash == h) {
			pick = &set[i];
			break;
		}
	if (pick == NULL) {
		for (int i = 0; i < WAYS; i++) {
			if (set[i].hash == 0 || set[i].end <= now) {
				pick = &set[i];
				break;
			}
			if (pick == NULL || set[i].used < pick->used)
				pick = &set[i];
		}
		if (pick->hash != 0 && pick->end > now)
			rl->evictions++;
		pick->hash = h;
		pick->count = 0;
		pick->end = end;
	}
	if (pick->end <= now) {
		pick->end = end;
		pick->count = 0;
	}
	pick->used = ++rl->tick;
	return pick;
}

/* Seconds to the end of now's window of limit l (>= 1). */
static long
rl_wait(const struct rate_limit *l, int64_t now)
{
	long w = l->window - (long)(now % l->window);

	return w < 1 ? 1 : w;
}

/* Would one more under limit l for (kind, a, b) fit? The counter through
 * *out (NULL when l is no limit). With mu held. */
static bool
rl_fits(struct rate_limiter *rl, const struct rate_limit *l, char kind,
	const char *a, const char *b, int64_t now, struct slot **out)
{
	*out = NULL;
	if (l->n <= 0 || a == NULL)
		return true;
	*out = rl_slot(rl, rl_hash(rl->seed, kind, a, b), now,
		       now - now % l->window + l->window);
	return (*out)->count < (uint32_t)l->n;
}

/*
 * The network whose limits apply to submitter sub: none for a key, which
 * is limited by its own counters. A network's limits are shared by all in
 * it, so a forger there could use them up and defer the honest keyed
 * probes of that network; they bound the unsigned (and registrations).
 */
static const char *
rl_net(const char *sub, const char *net)
{
	return sub != NULL && strncmp(sub, "key:", 4) == 0 ? NULL : net;
}

long
rate_batch(struct rate_limiter *rl, const char *sub, const char *net,
	   int64_t now)
{
	struct slot *s1, *s2;
	long wait = 0;

	net = rl_net(sub, net);
	pthread_mutex_lock(&rl->mu);
	if (!rl_fits(rl, &rl->o.batches, 'b', sub, NULL, now, &s1))
		wait = rl_wait(&rl->o.batches, now);
	if (!rl_fits(rl, &rl->o.net_batches, 'B', net, NULL, now, &s2)) {
		long w = rl_wait(&rl->o.net_batches, now);

		wait = w > wait ? w : wait;
	}
	if (wait == 0) {
		if (s1 != NULL)
			s1->count++;
		if (s2 != NULL)
			s2->count++;
	}
	pthread_mutex_unlock(&rl->mu);
	return wait;
}

long
rate_rows(struct rate_limiter *rl, const char *sub, const char *net,
	  const char *const *targets, size_t n, bool *deferred, int64_t now)
{
	long wait = 0;

	net = rl_net(sub, net);
	pthread_mutex_lock(&rl->mu);
	for (size_t i = 0; i < n; i++) {
		struct slot *s1, *s2;
		bool ok1, ok2;

		deferred[i] = false;
		if (targets[i] == NULL)
			continue;
		ok1 = rl_fits(rl, &rl->o.target, 't', sub, targets[i], now,
			      &s1);
		ok2 = rl_fits(rl, &rl->o.net_target, 'T', net, targets[i], now,
			      &s2);
		if (ok1 && ok2) {
			if (s1 != NULL)
				s1->count++;
			if (s2 != NULL)
				s2->count++;
			continue;
		}
		deferred[i] = true;
		if (!ok1 && rl_wait(&rl->o.target, now) > wait)
			wait = rl_wait(&rl->o.target, now);
		if (!ok2 && rl_wait(&rl->o.net_target, now) > wait)
			wait = rl_wait(&rl->o.net_target, now);
	}
	pthread_mutex_unlock(&rl->mu);
	return wait;
}

uint64_t
rate_evictions(struct rate_limiter *rl)
{
	uint64_t n;

	pthread_mutex_lock(&rl->mu);
	n = rl->evictions;
	pthread_mutex_unlock(&rl->mu);
	return n;
}
