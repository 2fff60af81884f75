/*
 * memacct.h - the probe's memory budget (issue 13, "Memory on small
 * hosts"): allocator hooks that count the bytes live through OpenSSL,
 * libcurl, c-ares, libevent and jansson, and an admission gate that starts a
 * new TLS handshake or HTTP transfer only while that count, plus the
 * process's start-up baseline, fits the budget.
 *
 * The count is malloc_usable_size() of every live block those libraries
 * hold: what the engine really allocates while it measures (a handshake's
 * buffers, a transfer's, a measurement's JSON), not a guess. The engine's
 * own records (xmalloc) are freed with plain free() all over, so a hook
 * could not see them go: the gate samples them instead, with the rest of
 * the process (mallinfo2, /proc/self/statm; see memacct.c, sample()).
 *
 * Only the probe installs the hooks (the collector links the same library
 * and sets its own jansson allocator); the counters are atomic anyway,
 * because libcurl's threaded resolver allocates off the main thread.
 */
#ifndef WW_MEMACCT_H
#define WW_MEMACCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

/*
 * Install the counting allocator in every library above, and initialise
 * libcurl (curl_global_init_mem) and c-ares with it. Call first thing in
 * main(), before any of them allocates (OpenSSL refuses afterwards).
 * Returns 0, or -1 with the reason in err; without hooks nothing is
 * counted, and the gate only sees the baseline.
 */
int memacct_install(char *err, size_t errlen);
bool memacct_installed(void);

/* Bytes live through the hooks now, and the most ever. */
size_t memacct_current(void);
size_t memacct_peak(void);

/* The hooks themselves (the unit test calls them; they count whether
 * installed or not). json_dumps()' string goes to plain free() in its
 * callers: the probe wraps json_dumps (probe/jsonwrap.c) so that the count
 * sees it go. */
void *memacct_malloc(size_t n);
void *memacct_calloc(size_t nmemb, size_t size);
void *memacct_realloc(void *p, size_t n);
char *memacct_strdup(const char *s);
void memacct_free(void *p);

/* This process's resident set now (/proc/self/statm) and its peak
 * (VmHWM in /proc/self/status), in bytes; 0 when unknown. */
size_t memacct_rss(void);
size_t memacct_peak_rss(void);

/* Parse a --max-memory value: bytes, or a whole number with K, M or G
 * (1024-based); "0" or "none": no budget (*out = 0). Returns 0 or -1. */
int memacct_parse_size(const char *s, size_t *out);

/* --- the admission gate -------------------------------------------------- */

/*
 * Each admitted operation is charged this much on top of what the hooks
 * count, until it ends: an operation admitted now allocates only later (a
 * connect first, then the handshake), so a burst of admissions would
 * otherwise all see the same low count. Measured here, the counted peak
 * grew by ~82 KiB per handshake or transfer in flight (5.0 MiB over 61 at
 * once, HTTPS and HTTP targets); but what an operation has allocated is
 * counted twice meanwhile (by the hooks and by this), so less than that
 * holds the bound: with 64 KiB, --max-memory 16M peaked at 15.7-15.8 MiB
 * at concurrency 256, at 0.85 of the unbounded rate with the 1 s DNS late
 * window and 0.94 without (bench/probe-capture.sh; 112 KiB gave
 * 0.73-0.78 for the same bound).
 */
#define MA_OP_RESERVE (64u * 1024)
/* While operations wait, the gate looks again this often (memory is also
 * freed by what it does not see end: measurements written, jobs done). */
#define MA_RECHECK_MS 20

struct ma_gate;
typedef void (*ma_admit_cb)(void *arg);
/* A waiting place, embedded in the operation (never moved while queued). */
struct ma_wait {
	struct ma_wait *prev, *next;
	ma_admit_cb cb;
	void *arg;
	bool queued;
};

/*
 * A gate on base for budget bytes (> 0). baseline: bytes outside the count
 * at start-up (the RSS then, shared libraries included, minus what the
 * hooks counted: memacct_baseline()). watch: while running, replace the
 * baseline with samples of the process (heap in use outside the hooks,
 * resident pages that are not heap: library code touched later), every
 * MA_RECHECK_MS; false for a gate that must see the hooks' count alone
 * (tests).
 */
struct ma_gate *ma_gate_new(struct event_base *base, size_t budget,
			    size_t baseline, bool watch);
void ma_gate_free(struct ma_gate *g);
size_t memacct_baseline(void);

/*
 * Ask to start an operation. True: start it now. False: w waits in FIFO
 * order and cb(arg) runs from the event loop once it is admitted (never
 * inside this call). At least one operation is always admitted (with none
 * running, the first in line goes, whatever the count says). A NULL gate
 * admits everything.
 */
bool ma_gate_enter(struct ma_gate *g, struct ma_wait *w, ma_admit_cb cb,
		   void *arg);
/* A waiting operation gives up (cancelled): out of the queue, cb never
 * runs. Nothing when w is not queued. */
void ma_gate_cancel(struct ma_gate *g, struct ma_wait *w);
/* An admitted operation ended: the first in line may go. */
void ma_gate_leave(struct ma_gate *g);

/*
 * Is there room for extra bytes more, with no operation waiting? The
 * probe asks before it starts a new target (extra: MA_JOB_RESERVE):
 * every target in flight holds its records (~9 KiB here) even while its
 * handshakes wait, and 256 of them alone took a 16 MiB process past its
 * budget. A NULL gate always has room.
 */
bool ma_gate_has_room(struct ma_gate *g, size_t extra);
/* A new target's records, and room for its first operation. */
#define MA_JOB_RESERVE (16u * 1024 + MA_OP_RESERVE)

struct ma_stats {
	size_t budget, baseline;
	size_t active;	 /* admitted, not ended */
	size_t waiting;	 /* in the queue now */
	uint64_t waited; /* operations that had to wait, so far */
	size_t max_active;
};
void ma_gate_stats(const struct ma_gate *g, struct ma_stats *out);

#endif
