/*
 * memacct.c - counting allocator hooks and the admission gate (memacct.h).
 */
#include "memacct.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ares.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "util.h"

/* Signed: a block a library frees that it did not allocate through us
 * (none known) must not wrap the count around. */
static atomic_llong live;
static atomic_llong peak;
static bool installed;

static void
count(long long delta)
{
	long long now =
		atomic_fetch_add_explicit(&live, delta, memory_order_relaxed) +
		delta;
	long long p = atomic_load_explicit(&peak, memory_order_relaxed);

	while (now > p && !atomic_compare_exchange_weak_explicit(
				  &peak, &p, now, memory_order_relaxed,
				  memory_order_relaxed))
		;
}

void *
memacct_malloc(size_t n)
{
	void *p = malloc(n);

	if (p != NULL)
		count((long long)malloc_usable_size(p));
	return p;
}

void *
memacct_calloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb, size);

	if (p != NULL)
		count((long long)malloc_usable_size(p));
	return p;
}

void *
memacct_realloc(void *p, size_t n)
{
	size_t old = p != NULL ? malloc_usable_size(p) : 0;
	void *q = realloc(p, n);

	if (q != NULL)
		count((long long)malloc_usable_size(q) - (long long)old);
	else if (p != NULL && n == 0)
		count(-(long long)old); /* glibc: realloc(p, 0) freed p */
	return q;
}

char *
memacct_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = memacct_malloc(n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

void
memacct_free(void *p)
{
	if (p == NULL)
		return;
	count(-(long long)malloc_usable_size(p));
	free(p);
}

/* OpenSSL's hooks carry the caller's file and line. */
static void *
ossl_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return memacct_malloc(n);
}

static void *
ossl_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return memacct_realloc(p, n);
}

static void
ossl_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	memacct_free(p);
}

int
memacct_install(char *err, size_t errlen)
{
	if (installed)
		return 0;
	/* OpenSSL first: it refuses once it has allocated anything, and the
	 * other libraries may call into it while they initialise. */
	if (CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) !=
	    1) {
		ww_set_err(err, errlen,
			   "OpenSSL allocated before its memory hooks could be "
			   "installed");
		return -1;
	}
	/* No OpenSSL cleanup at exit: it would free what the process gives
	 * back anyway, faulting in pages of library code that nothing ran
	 * before (peak RSS +0.15 MiB as a run ends, over --max-memory).
	 * What it holds stays reachable, so leak checkers say nothing. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
	event_set_mem_functions(memacct_malloc, memacct_realloc, memacct_free);
	json_set_alloc_funcs(memacct_malloc, memacct_free);
	/* Both keep these for good: we hold one reference to each library
	 * for the life of the process, so the engine's own init/cleanup
	 * pairs never reset them. */
	if (ares_library_init_mem(ARES_LIB_INIT_ALL, memacct_malloc,
				  memacct_free,
				  memacct_realloc) != ARES_SUCCESS) {
		ww_set_err(err, errlen, "cannot initialise c-ares");
		return -1;
	}
	if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, memacct_malloc,
				 memacct_free, memacct_realloc, memacct_strdup,
				 memacct_calloc) != CURLE_OK) {
		ww_set_err(err, errlen, "cannot initialise libcurl");
		return -1;
	}
	installed = true;
	return 0;
}

bool
memacct_installed(void)
{
	return installed;
}

size_t
memacct_current(void)
{
	long long v = atomic_load_explicit(&live, memory_order_relaxed);

	return v > 0 ? (size_t)v : 0;
}

size_t
memacct_peak(void)
{
	long long v = atomic_load_explicit(&peak, memory_order_relaxed);

	return v > 0 ? (size_t)v : 0;
}

size_t
memacct_rss(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, resident = 0;
	long page = sysconf(_SC_PAGESIZE);
	int n;

	if (f == NULL)
		return 0;
	n = fscanf(f, "%lu %lu", &size, &resident);
	fclose(f);
	if (n != 2 || page <= 0)
		return 0;
	return (size_t)resident * (size_t)page;
}

size_t
memacct_peak_rss(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long kb = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return (size_t)kb * 1024;
}

int
memacct_parse_size(const char *s, size_t *out)
{
	unsigned long long v = 0, mult = 1;
	size_t n = strlen(s), i;

	if (strcmp(s, "none") == 0) {
		*out = 0;
		return 0;
	}
	if (n == 0 || n > 20)
		return -1;
	switch (s[n - 1]) {
	case 'K':
	case 'k':
		mult = 1024;
		n--;
		break;
	case 'M':
	case 'm':
		mult = 1024 * 1024;
		n--;
		break;
	case 'G':
	case 'g':
		mult = 1024ull * 1024 * 1024;
		n--;
		break;
	default:
		break;
	}
	if (n == 0 || n > 12) /* at most 999 999 999 999 of a unit */
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	if (v > (1ull << 40) / mult) /* 1 TiB is more than any budget */
		return -1;
	*out = (size_t)(v * mult);
	return 0;
}

/* --- the gate ------------------------------------------------------------ */

/*
 * What the hooks cannot see, sampled at most every MA_RECHECK_MS (glibc's
 * mallinfo2() walks its free lists; /proc is a read):
 * - heap in use outside them: the engine's own records (xmalloc), libc.
 *   Every job in flight holds some: hundreds of jobs hold a megabyte or two
 *   that a budget of a few megabytes must see;
 * - resident pages that are not heap: library code touched since start-up
 *   (a first handshake or transfer pulls in pages of libssl and libcurl
 *   the baseline never saw), stacks.
 * Free heap is left out: allocations reuse it without growing the RSS.
 * Without mallinfo2() (musl) the start-up baseline stands in for both.
 */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
#define MA_HAVE_MALLINFO2 1
#endif

struct ma_sample {
	size_t other;	/* heap in use outside the hooks */
	size_t nonheap; /* resident, not heap */
};

static bool
sample(struct ma_sample *out)
{
#ifdef MA_HAVE_MALLINFO2
	struct mallinfo2 mi = mallinfo2();
	size_t used = mi.uordblks + mi.hblkhd, heap = mi.arena + mi.hblkhd;
	size_t acc = memacct_current(), rss = memacct_rss();

	if (rss == 0)
		return false;
	out->other = used > acc ? used - acc : 0;
	out->nonheap = rss > heap ? rss - heap : 0;
	return true;
#else
	(void)out;
	return false;
#endif
}

/* RSS minus the count; with mallinfo2(), free heap left out too (a
 * daemon's later runs reuse what earlier ones freed). */
size_t
memacct_baseline(void)
{
	size_t rss = memacct_rss(), acc = memacct_current();
	struct ma_sample smp;

	if (sample(&smp))
		return smp.nonheap + smp.other;
	return rss > acc ? rss - acc : 0;
}

struct ma_gate {
	struct event_base *base;
	struct event *pump; /* admits from the loop; re-armed as a timer */
	size_t budget, baseline;
	bool watch;	    /* sample the process (ma_gate_new) */
	bool sampled;	    /* s holds a sample */
	struct ma_sample s; /* the last one */
	double sampled_at;  /* when (ww_mono) */
	size_t claimed;	    /* ma_gate_has_room() since then */
	size_t active, waiting, max_active;
	uint64_t waited;
	struct ma_wait *head, *tail;
};

/* Does extra more fit, besides what is counted, sampled and reserved? */
static bool
room_for(struct ma_gate *g, size_t extra)
{
	double t = ww_mono();
	size_t need, heap;

	if (g->watch && t - g->sampled_at >= MA_RECHECK_MS / 1000.0) {
		g->sampled = sample(&g->s);
		g->sampled_at = t;
		g->claimed = 0; /* the sample sees those targets now */
	}
	heap = (g->sampled ? g->s.other : 0) + memacct_current();
	/* The heap cannot always reuse its free chunks (a new target's
	 * blocks do not all fit the holes a finished one left): it grows a
	 * little past what is in use, hence the sixteenth. */
	need = (g->sampled ? g->s.nonheap : g->baseline) + heap + heap / 16 +
	       MA_OP_RESERVE * g->active + g->claimed + extra;
	/* Aimed a thirty-second under the budget: memory also moves
	 * between two samples, where the gate cannot see it (peak RSS
	 * 15.8-16.2 MiB under 16M without this; 15.1-15.5 with it). */
	return need <= g->budget - g->budget / 32;
}

/* May one more operation start? With none running, always. */
static bool
fits(struct ma_gate *g)
{
	return g->active == 0 || room_for(g, MA_OP_RESERVE);
}

static void
admitted(struct ma_gate *g)
{
	g->active++;
	if (g->active > g->max_active)
		g->max_active = g->active;
}

static void
unlink_wait(struct ma_gate *g, struct ma_wait *w)
{
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		g->head = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	else
		g->tail = w->prev;
	w->prev = w->next = NULL;
	w->queued = false;
	g->waiting--;
}

/* Run the pump from the loop now (an operation ended), or after
 * MA_RECHECK_MS (memory we do not see end may free meanwhile). */
static void
pump_later(struct ma_gate *g, bool now)
{
	struct timeval tv = {0, MA_RECHECK_MS * 1000};

	if (g->head == NULL)
		return;
	if (now)
		event_active(g->pump, EV_TIMEOUT, 0);
	else if (!evtimer_pending(g->pump, NULL))
		evtimer_add(g->pump, &tv);
}

static void
pump_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ma_gate *g = arg;

	(void)fd;
	(void)what;
	evtimer_del(g->pump);
	/* Callbacks may enter, cancel or leave: re-read the head each time. */
	while (g->head != NULL && fits(g)) {
		struct ma_wait *w = g->head;

		unlink_wait(g, w);
		admitted(g);
		w->cb(w->arg);
	}
	pump_later(g, false);
}

struct ma_gate *
ma_gate_new(struct event_base *base, size_t budget, size_t baseline, bool watch)
{
	struct ma_gate *g = xcalloc(1, sizeof(*g));

	g->base = base;
	g->budget = budget;
	g->baseline = baseline;
	g->watch = watch;
	g->pump = evtimer_new(base, pump_cb, g);
	if (g->pump == NULL)
		abort();
	return g;
}

void
ma_gate_free(struct ma_gate *g)
{
	if (g == NULL)
		return;
	event_free(g->pump);
	free(g);
}

bool
ma_gate_enter(struct ma_gate *g, struct ma_wait *w, ma_admit_cb cb, void *arg)
{
	if (g == NULL)
		return true;
	/* Nobody overtakes the queue: FIFO even when this one would fit. */
	if (g->head == NULL && fits(g)) {
		admitted(g);
		return true;
	}
	w->cb = cb;
	w->arg = arg;
	w->next = NULL;
	w->prev = g->tail;
	if (g->tail != NULL)
		g->tail->next = w;
	else
		g->head = w;
	g->tail = w;
	w->queued = true;
	g->waiting++;
	g->waited++;
	pump_later(g, g->active == 0);
	return false;
}

void
ma_gate_cancel(struct ma_gate *g, struct ma_wait *w)
{
	if (g == NULL || w == NULL || !w->queued)
		return;
	unlink_wait(g, w);
}

bool
ma_gate_has_room(struct ma_gate *g, size_t extra)
{
	if (g == NULL)
		return true;
	/* Operations waiting for memory go first. A target's records are
	 * outside the count: until the next sample sees them, its share is
	 * claimed, or a burst of targets would all see the same figures. */
	if (g->head != NULL || !room_for(g, extra))
		return false;
	g->claimed += extra;
	return true;
}

void
ma_gate_leave(struct ma_gate *g)
{
	if (g == NULL)
		return;
	if (g->active > 0)
		g->active--;
	pump_later(g, true);
}

void
ma_gate_stats(const struct ma_gate *g, struct ma_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (g == NULL)
		return;
	out->budget = g->budget;
	out->baseline = g->baseline;
	out->active = g->active;
	out->waiting = g->waiting;
	out->waited = g->waited;
	out->max_active = g->max_active;
}
