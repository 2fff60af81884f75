/*
 * upload.h - sending the spool to the collectors, with libcurl on the
 * probe's event loop (docs/volunteer.md, "Upload").
 *
 * A round tries the collectors in order. With each: GET /api/v1/whoami
 * (the probe's own address, to scrub, and its network), then POSTs of
 * gzip'd JSON Lines batches until the spool is empty. Measurements the
 * collector stored or already had are deleted; those it rejected move to
 * spool/rejected/; the rest stay. A collector that fails (transport
 * error, an HTTP error, a malformed answer) is recorded in state.json and
 * the next one is tried. When all fail, the next round waits: 3 quick
 * retries (--retry-quick, doubling), then --retry-slow, doubling up to
 * 6 h, each plus up to a quarter more of random jitter.
 */
#ifndef WW_UPLOAD_H
#define WW_UPLOAD_H

#include <stdbool.h>

#include <event2/event.h>

#include "state.h"

#define UPLOAD_MAX_COLLECTORS 16
#define UPLOAD_BACKOFF_CAP (6.0 * 3600)

struct upload_opts {
	const char *const *collectors; /* base URLs, tried in order */
	size_t n_collectors;
	double retry_quick, retry_slow; /* seconds */
	double timeout;			/* seconds of silence, and connect */
	const char *ca_file;		/* NULL: the system store */
	const char *exclude;		/* categories withheld (comma list) */
};

struct uploader;

/* The caller keeps opts' strings alive until uploader_free or the next
 * uploader_set_opts. */
struct uploader *uploader_new(struct event_base *base, struct probe_env *env,
			      const struct upload_opts *opts);
/* Abort transfers in flight (their measurements stay spooled). */
void uploader_free(struct uploader *u);
void uploader_set_opts(struct uploader *u, const struct upload_opts *opts);

/* Something was spooled (now false: start soon, unless backing off) or
 * the volunteer asked (now true: start at once, backoff or not). */
void uploader_kick(struct uploader *u, bool now);

/* Called after every round: empty is true when the spool was emptied. */
typedef void (*uploader_round_cb)(void *arg, bool empty);
void uploader_on_round(struct uploader *u, uploader_round_cb cb, void *arg);

/* Is a round running? */
bool uploader_busy(const struct uploader *u);

/* Ask the collectors' whoami in order; cb(arg, ok) once. */
typedef void (*uploader_whoami_cb)(void *arg, bool ok);
void uploader_whoami(struct uploader *u, uploader_whoami_cb cb, void *arg);

/* --- upload_policy.c: the parts without I/O ---------------------------- */

/* Parse a base URL's whoami answer into the state (exposed for tests):
 * 0, or -1 with a message. */
int upload_parse_whoami(struct probe_env *env, const char *from,
			const char *body, size_t len, char *err, size_t errlen);

/* Is category cat in the comma list exclude (case-insensitive)? */
bool upload_excluded(const char *exclude, const char *cat);

/* Delay before round attempt k (1-based count of failed rounds), without
 * jitter (exposed for tests). */
double upload_backoff(const struct upload_opts *o, unsigned k);
/* d plus up to a quarter more, at random: probes that failed together do
 * not retry together. */
double upload_jitter(double d);

/* The collector's clock minus ours, from the value of its Date header
 * (v, len bytes, as libcurl hands it over: leading blank, CRLF); a few
 * seconds count as 0. current when v is not a date; a change of more
 * than a minute is logged. */
long upload_clock_offset(long current, const char *v, size_t len);

/* in (len bytes) gzip'd, as Content-Encoding: gzip wants: a new buffer
 * (caller frees) of *out_len bytes. Aborts only on OOM. */
char *upload_gzip(const char *in, size_t len, size_t *out_len);

#endif
