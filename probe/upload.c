/*
 * upload.c - the spool to the collectors; see upload.h for the rules. Here:
 * the round (each collector in turn until one takes the batches, backoff
 * when none does) and the interface. One transfer is upload_xfer.c's, the
 * batch and its answer upload_batch.c's, whoami and the key's registration
 * upload_register.c's; the parts without I/O upload_policy.c's.
 *
 * One transfer at a time: a volunteer's uplink is small, and one batch in
 * flight keeps "what was acknowledged" simple. Every transfer runs on the
 * probe's event loop through io_curl (engine/loop/io_curl.h).
 */
#include <stdlib.h>
#include <string.h>

#include "failure.h"
#include "identity.h"
#include "io_curl.h"
#include "spoolhold.h"
#include "upload_int.h"
#include "util.h"

static void round_step(struct uploader *u);
static void start_round(struct uploader *u);

/* --- the round ---------------------------------------------------------- */

static void
arm(struct uploader *u, double secs)
{
	struct timeval tv = ww_timeval(secs);

	evtimer_add(u->timer, &tv);
	u->timer_at = ww_mono() + (secs > 0 ? secs : 0);
}

static void
round_end(struct uploader *u, bool empty)
{
	char when[20];
	json_t *up = json_object();

	u->busy = false;
	upl_apply_next_opts(u);
	if (empty) {
		u->failed_rounds = 0;
		u->backing_off = false;
	} else {
		double d = upload_backoff(&u->o, ++u->failed_rounds);

		if (u->retry_after > d)
			d = u->retry_after;
		d = upload_jitter(d);
		u->backing_off = true;
		arm(u, d);
		ww_fmt_utc(time(NULL) + (time_t)d, when);
		json_object_set_new(up, "next_attempt", json_string(when));
		log_warn("upload",
			 "no collector took the measurements; "
			 "next attempt in %.0f s",
			 d);
	}
	json_object_set_new(up, "failed_rounds",
			    json_integer((json_int_t)u->failed_rounds));
	json_object_set_new(u->env->state, "upload", up);
	state_save(u->env);
	if (u->round_cb != NULL)
		u->round_cb(u->round_arg, empty);
}

/* The collector in hand failed: on to the next, or end the round. */
void
upl_next_collector(struct uploader *u)
{
	u->col++;
	u->whoami_done = false;
	u->reregistered = false;
	u->batch_max = BATCH_MAX_LINES;
	if (u->col >= u->o.n_collectors) {
		round_end(u, false);
		return;
	}
	round_step(u);
}

/* The signature headers of the batch in u->body (len bytes, exactly as
 * sent), ahead of the ones upl_start_xfer() adds. Without them the batch goes
 * unsigned, which the collector may refuse (then the next round retries). */
static void
sign_batch(struct uploader *u, size_t len)
{
	char *h[3];

	if (identity_sign(u->env->id, u->body, len,
			  time(NULL) + u->clock_offset, h) != 0) {
		log_error("upload", "cannot sign a batch: sending it unsigned");
		return;
	}
	for (int i = 0; i < 3; i++) {
		u->hdrs = curl_slist_append(u->hdrs, h[i]);
		free(h[i]);
	}
}

void
upl_post_batch(struct uploader *u)
{
	size_t len, zlen;
	char *lines;

	upl_free_batch(u);
	lines = upl_build_batch(u, &len);
	if (lines == NULL) {
		round_end(u, true);
		return;
	}
	u->body = upload_gzip(lines, len, &zlen);
	free(lines);
	if (u->sign)
		sign_batch(u, zlen);
	upl_start_xfer(u, X_POST, u->o.collectors[u->col]);
	curl_easy_setopt(u->easy, CURLOPT_POSTFIELDS, u->body);
	curl_easy_setopt(u->easy, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)zlen);
}

static void
round_step(struct uploader *u)
{
	if (u->env->n_pending > 0)
		env_flush_pending(u->env);
	if (!u->whoami_done) {
		upl_start_xfer(u, X_WHOAMI, u->o.collectors[u->col]);
		return;
	}
	upl_post_batch(u);
}

static void
start_round(struct uploader *u)
{
	if (u->busy || u->o.n_collectors == 0)
		return;
	if (u->who_standalone) {
		arm(u, KICK_DELAY); /* one transfer at a time */
		return;
	}
	evtimer_del(u->timer);
	u->timer_at = 0;
	u->busy = true;
	u->col = 0;
	u->whoami_done = false;
	u->reregistered = false;
	u->batch_max = BATCH_MAX_LINES;
	u->retry_after = 0;
	round_step(u);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct uploader *u = arg;

	(void)fd;
	(void)what;
	u->timer_at = 0;
	u->backing_off = false;
	start_round(u);
}

static void
post_result(struct uploader *u, CURLcode res, long code)
{
	const char *from = u->o.collectors[u->col];
	char *detail = NULL;
	size_t ns, nd;

	if (res != CURLE_OK) {
		upl_note_transport_failure(u, from, res);
		upl_end_xfer(u);
		upl_next_collector(u);
		return;
	}
	if (code == 413) {
		upl_end_xfer(u);
		if (u->n_batch <= 1) {
			/* Even alone it is too big for this collector. */
			upl_note_failure(u, from, failure_http_request_failed,
					 "HTTP 413 for a single measurement");
			upl_next_collector(u);
			return;
		}
		u->batch_max = u->n_batch / 2;
		upl_post_batch(u);
		return;
	}
	if ((code == 200 || code == 400) &&
	    upl_apply_answer(u, from, &ns, &nd) == 0) {
		upl_end_xfer(u);
		upl_note_success(u, from, ns, nd);
		log_info("upload", "%s: %zu stored, %zu already there", from,
			 ns, nd);
		state_save(u->env);
		if (ns + nd == 0 && u->n_batch > 0 && code == 200) {
			/* An answer that acknowledges nothing it was sent:
			 * not a collector we can trust with the rest. */
			upl_note_failure(u, from, failure_http_request_failed,
					 "the answer acknowledged none of the "
					 "batch");
			upl_next_collector(u);
			return;
		}
		upl_post_batch(u);
		return;
	}
	if (code == 429 && upl_apply_answer(u, from, &ns, &nd) == 0 &&
	    ns + nd > 0) {
		/* Over a rate limit part way: what it stored is
		 * acknowledged (deleted here), the rest stays for after
		 * Retry-After, as for 503. */
		upl_note_success(u, from, ns, nd);
		log_info("upload",
			 "%s: %zu stored, %zu already there, the "
			 "rest after its rate limit",
			 from, ns, nd);
	}
	if ((code == 401 || code == 403) && u->sign) {
		/* The collector no longer knows or accepts the key (a new
		 * database, a revocation): register again, once per round,
		 * which also tells whether to go on unsigned. */
		json_object_del(state_collector(u->env, from),
				"registered_key");
		if (!u->reregistered) {
			char *why = upl_answer_error(u);

			log_warn("upload",
				 "%s refused a signed batch (HTTP "
				 "%ld: %s): registering the key again",
				 from, code, why);
			free(why);
			u->reregistered = true;
			upl_end_xfer(u);
			upl_after_whoami(u);
			return;
		}
	}
	detail = xasprintf("HTTP %ld%s%.*s", code, u->ans_len ? ": " : "",
			   (int)(u->ans_len > 200 ? 200 : u->ans_len),
			   u->ans ? u->ans : "");
	for (char *p = detail; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	for (size_t n = strlen(detail); n > 0 && detail[n - 1] == ' '; n--)
		detail[n - 1] = '\0';
	upl_end_xfer(u);
	upl_note_failure(u, from, failure_http_request_failed, detail);
	free(detail);
	upl_next_collector(u);
}

void
upl_xfer_done(CURL *easy, CURLcode res, void *arg)
{
	struct uploader *u = arg;
	long code = 0;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	if (u->ans_too_big && res == CURLE_WRITE_ERROR) {
		res = CURLE_OK;
		code = 599; /* answered, but not like a collector */
	}
	if (u->who_standalone && u->kind == X_WHOAMI && !u->busy)
		upl_who_standalone_result(u, res, code);
	else if (u->kind == X_WHOAMI)
		upl_whoami_result(u, res, code);
	else if (u->kind == X_REGISTER)
		upl_register_result(u, res, code);
	else
		post_result(u, res, code);
}

/* A reload that came in while a transfer ran takes effect now. */
void
upl_apply_next_opts(struct uploader *u)
{
	if (u->has_next_o && !u->busy && !u->who_standalone) {
		u->o = u->next_o;
		u->has_next_o = false;
	}
}

/* --- interface ---------------------------------------------------------- */

struct uploader *
uploader_new(struct event_base *base, struct probe_env *env,
	     const struct upload_opts *opts)
{
	struct uploader *u = xcalloc(1, sizeof(*u));

	u->base = base;
	u->env = env;
	u->o = *opts;
	u->io = io_curl_new(base);
	u->timer = evtimer_new(base, timer_cb, u);
	u->batch_max = BATCH_MAX_LINES;
	if (u->timer == NULL)
		abort();
	/* Carry a backoff over a restart: a collector that has been down
	 * for an hour is not hammered by a restarting daemon. */
	u->failed_rounds = (unsigned)json_integer_value(json_object_get(
		json_object_get(env->state, "upload"), "failed_rounds"));
	if (u->failed_rounds > 64)
		u->failed_rounds = 64;
	return u;
}

void
uploader_free(struct uploader *u)
{
	if (u == NULL)
		return;
	if (u->easy != NULL)
		io_curl_remove(u->io, u->easy);
	upl_end_xfer(u);
	upl_free_batch(u);
	io_curl_free(u->io);
	event_free(u->timer);
	free(u);
}

void
uploader_set_opts(struct uploader *u, const struct upload_opts *opts)
{
	/* A round in flight keeps the collectors it started with. */
	if (u->busy || u->who_standalone) {
		u->next_o = *opts;
		u->has_next_o = true;
		return;
	}
	u->o = *opts;
}

void
uploader_kick(struct uploader *u, bool now)
{
	if (u->busy || u->who_standalone || u->o.n_collectors == 0)
		return;
	if (now) {
		start_round(u);
		return;
	}
	if (u->backing_off || u->timer_at != 0)
		return; /* the armed timer will start the round */
	arm(u, KICK_DELAY);
}

void
uploader_on_round(struct uploader *u, uploader_round_cb cb, void *arg)
{
	u->round_cb = cb;
	u->round_arg = arg;
}

bool
uploader_busy(const struct uploader *u)
{
	return u->busy || u->who_standalone;
}
