/*
 * upload.c - the spool to the collectors; see upload.h for the rules.
 *
 * One transfer at a time: a volunteer's uplink is small, and one batch in
 * flight keeps "what was acknowledged" simple. Every transfer runs on the
 * probe's event loop through io_curl (engine/loop/io_curl.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "failure.h"
#include "identity.h"
#include "io_curl.h"
#include "ipaddr.h"
#include "scrubmeas.h"
#include "spoolhold.h"
#include "upload.h"
#include "util.h"

/* A batch: at most this many measurements, and about this many bytes of
 * JSON before compression (the collector takes 10,000 lines and 64 MiB). */
#define BATCH_MAX_LINES 200
#define BATCH_MAX_BYTES (4u * 1024 * 1024)
/* Answers read at most (a stored/duplicates list of 200 uids is 15 KiB). */
#define ANSWER_MAX (1024u * 1024)
/* The pause that lets a burst of finished measurements share a batch. */
#define KICK_DELAY 1.0

enum xfer_kind { X_NONE, X_WHOAMI, X_REGISTER, X_POST };

struct uploader {
	struct event_base *base;
	struct probe_env *env;
	struct upload_opts o;
	struct upload_opts next_o; /* set while a round runs */
	bool has_next_o;
	struct io_curl *io;
	struct event *timer; /* the next round (kick or backoff) */
	double timer_at;     /* ww_mono() when it fires; 0: not armed */
	bool backing_off;
	bool busy;
	unsigned failed_rounds;
	size_t col;	    /* collector being tried in this round */
	bool whoami_done;   /* for col, in this round */
	bool sign;	    /* sign the batches to col (registered there) */
	bool reregistered;  /* col refused a signed batch this round */
	size_t batch_max;   /* lines; halved on 413 */
	double retry_after; /* largest Retry-After seen this round */
	/* The collector's clock minus ours, from its Date header: a batch is
	 * signed with the collector's time, which it checks to +-15 min, so
	 * that a volunteer's wrong clock does not stop the uploads. */
	long clock_offset;
	/* the transfer in flight */
	enum xfer_kind kind;
	CURL *easy;
	struct curl_slist *hdrs;
	char *url;
	char *body; /* request body (gzip) */
	char *ans;
	size_t ans_len;
	bool ans_too_big;
	char errbuf[CURL_ERROR_SIZE];
	/* the batch in flight */
	char **names; /* spool file names */
	char **uids;
	size_t n_batch;
	uploader_round_cb round_cb;
	void *round_arg;
	/* a whoami request of its own (uploader_whoami) */
	uploader_whoami_cb who_cb;
	void *who_arg;
	size_t who_col;
	bool who_standalone;
};

static void round_step(struct uploader *u);
static void note_transport_failure(struct uploader *u, const char *from,
				   CURLcode res);
static void start_round(struct uploader *u);
static void apply_next_opts(struct uploader *u);

/* --- helpers ------------------------------------------------------------ */

static char *
api_url(const char *base, const char *path)
{
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	return xasprintf("%.*s%s", (int)n, base, path);
}

static void
arm(struct uploader *u, double secs)
{
	struct timeval tv = ww_timeval(secs);

	evtimer_add(u->timer, &tv);
	u->timer_at = ww_mono() + (secs > 0 ? secs : 0);
}

static void
now_iso(char out[20])
{
	ww_fmt_utc(time(NULL), out);
}

/* Record a collector's failure in state.json. */
static void
note_failure(struct uploader *u, const char *url, const char *failure,
	     const char *detail)
{
	json_t *c = state_collector(u->env, url);
	char now[20];

	now_iso(now);
	json_object_set_new(c, "last_attempt", json_string(now));
	json_object_set_new(c, "last_error", json_string(failure));
	json_object_set_new(c, "last_error_detail",
			    detail ? json_string(detail) : json_null());
	json_object_set_new(c, "last_error_at", json_string(now));
	json_object_set_new(c, "consecutive_failures",
			    json_integer(json_integer_value(json_object_get(
						 c, "consecutive_failures")) +
					 1));
	log_warn("upload", "%s: %s%s%s%s", url, failure, detail ? " (" : "",
		 detail ? detail : "", detail ? ")" : "");
}

static void
note_success(struct uploader *u, const char *url, size_t stored, size_t dups)
{
	json_t *c = state_collector(u->env, url);
	char now[20];

	now_iso(now);
	json_object_set_new(c, "last_attempt", json_string(now));
	json_object_set_new(c, "last_success", json_string(now));
	json_object_set_new(c, "consecutive_failures", json_integer(0));
	json_object_set_new(
		c, "stored",
		json_integer(json_integer_value(json_object_get(c, "stored")) +
			     (json_int_t)stored));
	json_object_set_new(c, "duplicates",
			    json_integer(json_integer_value(json_object_get(
						 c, "duplicates")) +
					 (json_int_t)dups));
}

static void
free_batch(struct uploader *u)
{
	for (size_t i = 0; i < u->n_batch; i++) {
		free(u->names[i]);
		free(u->uids[i]);
	}
	free(u->names);
	free(u->uids);
	u->names = NULL;
	u->uids = NULL;
	u->n_batch = 0;
}

static void
end_xfer(struct uploader *u)
{
	if (u->easy != NULL)
		curl_easy_cleanup(u->easy);
	u->easy = NULL;
	curl_slist_free_all(u->hdrs);
	u->hdrs = NULL;
	free(u->url);
	u->url = NULL;
	free(u->body);
	u->body = NULL;
	free(u->ans);
	u->ans = NULL;
	u->ans_len = 0;
	u->ans_too_big = false;
	u->kind = X_NONE;
}

static size_t
ans_cb(char *data, size_t size, size_t n, void *arg)
{
	struct uploader *u = arg;
	size_t len = size * n;

	if (u->ans_len + len > ANSWER_MAX) {
		u->ans_too_big = true;
		return 0;
	}
	u->ans = xrealloc(u->ans, u->ans_len + len + 1);
	memcpy(u->ans + u->ans_len, data, len);
	u->ans_len += len;
	u->ans[u->ans_len] = '\0';
	return len;
}

static size_t
hdr_cb(char *data, size_t size, size_t n, void *arg)
{
	struct uploader *u = arg;
	size_t len = size * n;
	double v;
	char buf[32];

	if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		size_t k =
			len - 12 < sizeof(buf) - 1 ? len - 12 : sizeof(buf) - 1;

		memcpy(buf, data + 12, k);
		buf[k] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		/* Seconds only (the collector's form); an HTTP date is
		 * ignored and the usual backoff applies. */
		if (ww_parse_seconds(buf + strspn(buf, " \t"), 0, 86400, &v) ==
			    0 &&
		    v > u->retry_after)
			u->retry_after = v;
	}
	if (len > 5 && strncasecmp(data, "Date:", 5) == 0)
		u->clock_offset =
			upload_clock_offset(u->clock_offset, data + 5, len - 5);
	return len;
}

static void xfer_done(CURL *easy, CURLcode res, void *arg);

static void
start_xfer(struct uploader *u, enum xfer_kind kind, const char *base)
{
	CURL *c = curl_easy_init();
	char ua[64];

	if (c == NULL)
		abort();
	u->kind = kind;
	u->easy = c;
	u->errbuf[0] = '\0';
	u->url = api_url(base, kind == X_WHOAMI	    ? "/api/v1/whoami"
			       : kind == X_REGISTER ? "/api/v1/submitters"
						    : "/api/v1/measurements");
	snprintf(ua, sizeof(ua), "wallwatch-probe/%s", WW_VERSION);
	curl_easy_setopt(c, CURLOPT_URL, u->url);
	curl_easy_setopt(c, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, u->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ans_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, u);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, hdr_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, u);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	/* As every request of the probe: straight from this network, so
	 * what reaches (or fails to reach) a collector is a finding. */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(u->o.timeout * 1000));
	/* A collector that goes silent (a hang, a black-holed path) is
	 * given up after --upload-timeout without a byte. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
			 (long)(u->o.timeout < 1 ? 1 : u->o.timeout));
	if (u->o.ca_file != NULL && ww_is_dir(u->o.ca_file))
		curl_easy_setopt(c, CURLOPT_CAPATH, u->o.ca_file);
	else if (u->o.ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, u->o.ca_file);
	if (kind == X_POST) {
		u->hdrs = curl_slist_append(u->hdrs, "Content-Type: "
						     "application/x-ndjson");
		u->hdrs = curl_slist_append(u->hdrs, "Content-Encoding: gzip");
		u->hdrs = curl_slist_append(u->hdrs, "Expect:");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, u->hdrs);
	} else if (kind == X_REGISTER) {
		u->hdrs = curl_slist_append(u->hdrs, "Content-Type: "
						     "application/json");
		u->hdrs = curl_slist_append(u->hdrs, "Expect:");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, u->hdrs);
	}
	io_curl_add(u->io, c, xfer_done, u);
}

/* --- batches ------------------------------------------------------------ */

/*
 * Fill the next batch from the spool. Unreadable entries are rejected
 * locally, withheld ones (a category now excluded) deleted. Returns the
 * JSON Lines (NULL when nothing is queued).
 */
static char *
build_batch(struct uploader *u, size_t *len)
{
	struct probe_env *env = u->env;
	struct spool_entry *e;
	size_t n, cap_n = 0, cap_u = 0, nb = 0, nu = 0, withheld = 0;
	char *buf = NULL, err[512];
	size_t blen = 0, bcap = 0;

	*len = 0;
	if (spool_list(&env->spool, &e, &n, NULL, err, sizeof(err)) != 0) {
		log_error("upload", "%s", err);
		return NULL;
	}
	for (size_t i = 0; i < n && nb < u->batch_max && blen < BATCH_MAX_BYTES;
	     i++) {
		size_t dlen, sc = 0;
		char *data = spool_read(&env->spool, e[i].name, &dlen, err,
					sizeof(err));
		char *uid = NULL, *cat = NULL, *line;

		if (data == NULL) {
			log_warn("upload", "skipping %s: %s", e[i].name, err);
			continue;
		}
		line = env_scrub_line(env, data, dlen, &uid, &cat, &sc, err,
				      sizeof(err));
		free(data);
		if (line == NULL) {
			log_error("upload", "%s is damaged (%s): moved to %s",
				  e[i].name, err, env->spool.rejected);
			spool_reject(&env->spool, e[i].name, err);
			state_count(env, "rejected", 1);
		} else if (upload_excluded(u->o.exclude, cat)) {
			const char *nm = e[i].name;

			spool_remove(&env->spool, &nm, 1);
			withheld++;
		} else {
			jsonl_append(&buf, &blen, &bcap, line);
			*WW_PUSH(u->names, nb, cap_n) = xstrdup(e[i].name);
			*WW_PUSH(u->uids, nu, cap_u) = uid;
			uid = NULL;
		}
		free(line);
		free(uid);
		free(cat);
	}
	spool_entries_free(e, n);
	if (withheld > 0) {
		log_info("upload",
			 "%zu queued measurement(s) of excluded "
			 "categories (%s) deleted unsent",
			 withheld, u->o.exclude);
		state_count(env, "withheld", withheld);
	}
	u->n_batch = nb;
	*len = blen;
	if (nb == 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static ssize_t
batch_index(const struct uploader *u, const char *uid)
{
	for (size_t i = 0; i < u->n_batch; i++)
		if (u->uids[i] != NULL && strcmp(u->uids[i], uid) == 0)
			return (ssize_t)i;
	return -1;
}

/*
 * The collector's answer to a batch: delete what it stored or had, move
 * what it rejected. 0, or -1 when the answer is not the collector's.
 */
static int
apply_answer(struct uploader *u, const char *from, size_t *n_stored,
	     size_t *n_dups)
{
	json_t *j = json_loadb(u->ans ? u->ans : "", u->ans_len, 0, NULL);
	json_t *stored = json_object_get(j, "stored");
	json_t *dups = json_object_get(j, "duplicates");
	json_t *rej = json_object_get(j, "rejected");
	const char **gone = xcalloc(u->n_batch + 1, sizeof(*gone));
	size_t ng = 0, i;
	json_t *v;

	*n_stored = *n_dups = 0;
	if (!json_is_array(stored) || !json_is_array(dups) ||
	    !json_is_array(rej)) {
		json_decref(j);
		free(gone);
		return -1;
	}
	json_array_foreach(stored, i, v)
	{
		ssize_t k = json_is_string(v)
				    ? batch_index(u, json_string_value(v))
				    : -1;

		if (k >= 0 && u->names[k] != NULL) {
			gone[ng++] = u->names[k];
			(*n_stored)++;
			free(u->uids[k]);
			u->uids[k] = NULL;
		}
	}
	json_array_foreach(dups, i, v)
	{
		ssize_t k = json_is_string(v)
				    ? batch_index(u, json_string_value(v))
				    : -1;

		if (k >= 0) {
			gone[ng++] = u->names[k];
			(*n_dups)++;
			free(u->uids[k]);
			u->uids[k] = NULL;
		}
	}
	spool_remove(&u->env->spool, gone, ng);
	/* A collector of issue 12 or later: a uid it holds with other
	 * content. Sending it again would only be refused again: set aside
	 * with the rejected, for the volunteer to see. */
	json_array_foreach(json_object_get(j, "conflicts"), i, v)
	{
		ssize_t k = json_is_string(v)
				    ? batch_index(u, json_string_value(v))
				    : -1;
		char *why;

		if (k < 0 || u->uids[k] == NULL)
			continue;
		why = xasprintf("%s holds another measurement with this "
				"measurement_uid",
				from);
		log_warn("upload", "%s: %s", u->uids[k], why);
		spool_reject(&u->env->spool, u->names[k], why);
		state_count(u->env, "rejected", 1);
		free(why);
		free(u->uids[k]);
		u->uids[k] = NULL;
	}
	json_array_foreach(rej, i, v)
	{
		json_int_t line =
			json_integer_value(json_object_get(v, "line"));
		const char *field =
			json_string_value(json_object_get(v, "field"));
		const char *error =
			json_string_value(json_object_get(v, "error"));
		char *why;

		if (line < 1 || (size_t)line > u->n_batch ||
		    u->uids[line - 1] == NULL)
			continue;
		why = xasprintf("%s refused it: %s: %s", from,
				field ? field : "?", error ? error : "?");
		log_warn("upload", "%s: %s", u->uids[line - 1], why);
		spool_reject(&u->env->spool, u->names[line - 1], why);
		state_count(u->env, "rejected", 1);
		free(why);
		free(u->uids[line - 1]);
		u->uids[line - 1] = NULL;
	}
	state_count(u->env, "sent", *n_stored);
	state_count(u->env, "duplicates", *n_dups);
	free(gone);
	json_decref(j);
	return 0;
}

/* --- the round ---------------------------------------------------------- */

static void
round_end(struct uploader *u, bool empty)
{
	char when[20];
	json_t *up = json_object();

	u->busy = false;
	apply_next_opts(u);
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
static void
next_collector(struct uploader *u)
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
 * sent), ahead of the ones start_xfer() adds. Without them the batch goes
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

static void
post_batch(struct uploader *u)
{
	size_t len, zlen;
	char *lines;

	free_batch(u);
	lines = build_batch(u, &len);
	if (lines == NULL) {
		round_end(u, true);
		return;
	}
	u->body = upload_gzip(lines, len, &zlen);
	free(lines);
	if (u->sign)
		sign_batch(u, zlen);
	start_xfer(u, X_POST, u->o.collectors[u->col]);
	curl_easy_setopt(u->easy, CURLOPT_POSTFIELDS, u->body);
	curl_easy_setopt(u->easy, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)zlen);
}

/* --- registration (docs/submitters.md) --------------------------------- */

/* Whoami is done: register the key with this collector unless it already
 * knows it (state.json collectors[url].registered_key), then the batches. */
static void
after_whoami(struct uploader *u)
{
	const char *from = u->o.collectors[u->col];
	const char *reg;
	char *body;

	u->sign = false;
	if (u->env->id == NULL) {
		post_batch(u);
		return;
	}
	reg = json_string_value(json_object_get(state_collector(u->env, from),
						"registered_key"));
	if (reg != NULL && strcmp(reg, identity_key_id(u->env->id)) == 0) {
		u->sign = true;
		post_batch(u);
		return;
	}
	body = identity_registration(u->env->id);
	if (body == NULL) {
		log_error("upload", "cannot make the key's registration: "
				    "uploading unsigned");
		post_batch(u);
		return;
	}
	u->body = body;
	start_xfer(u, X_REGISTER, from);
	curl_easy_setopt(u->easy, CURLOPT_POSTFIELDS, u->body);
	curl_easy_setopt(u->easy, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)strlen(u->body));
}

/* The collector's error text, one line, at most 200 bytes (caller frees). */
static char *
answer_error(const struct uploader *u)
{
	json_t *j = json_loadb(u->ans ? u->ans : "", u->ans_len, 0, NULL);
	const char *e = json_string_value(json_object_get(j, "error"));
	char *s = xasprintf("%.200s", e ? e : "no reason given");

	json_decref(j);
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	return s;
}

static void
register_result(struct uploader *u, CURLcode res, long code)
{
	const char *from = u->o.collectors[u->col];
	const char *mine = identity_key_id(u->env->id);
	json_t *j, *c;
	char *why;

	if (res != CURLE_OK || code >= 500 || code == 429) {
		/* The collector is in trouble, not the key: as a failed
		 * upload (Retry-After honoured), next collector. */
		if (res != CURLE_OK)
			note_transport_failure(u, from, res);
		else {
			why = xasprintf("registering the key: HTTP %ld", code);
			note_failure(u, from, failure_http_request_failed, why);
			free(why);
		}
		end_xfer(u);
		next_collector(u);
		return;
	}
	j = json_loadb(u->ans ? u->ans : "", u->ans_len, 0, NULL);
	if ((code == 200 || code == 201) &&
	    json_is_string(json_object_get(j, "key_id")) &&
	    strcmp(json_string_value(json_object_get(j, "key_id")), mine) ==
		    0) {
		c = state_collector(u->env, from);
		json_object_set_new(c, "registered_key", json_string(mine));
		state_save(u->env);
		log_info("upload", "%s knows this probe's key %s", from, mine);
		u->sign = true;
	} else if (code == 404) {
		log_info("upload",
			 "%s predates submitter keys: uploading unsigned",
			 from);
	} else {
		why = answer_error(u);
		log_error("upload",
			  "%s refused this probe's key %s (HTTP %ld: %s): "
			  "uploading unsigned, which it may refuse too "
			  "(docs/volunteer.md, \"Your submitter key\")",
			  from, mine, code, why);
		free(why);
	}
	json_decref(j);
	end_xfer(u);
	post_batch(u);
}

static void
round_step(struct uploader *u)
{
	if (u->env->n_pending > 0)
		env_flush_pending(u->env);
	if (!u->whoami_done) {
		start_xfer(u, X_WHOAMI, u->o.collectors[u->col]);
		return;
	}
	post_batch(u);
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

/* Record a transfer that failed below HTTP against from: the failure in
 * the vocabulary, curl's words as the detail. Before end_xfer(). */
static void
note_transport_failure(struct uploader *u, const char *from, CURLcode res)
{
	const char *f = http_failure_from_curl(u->easy, res, u->errbuf, false);
	char *detail = xasprintf("%s%s%s", curl_easy_strerror(res),
				 u->errbuf[0] ? ": " : "", u->errbuf);

	note_failure(u, from, f ? f : failure_unknown, detail);
	free(detail);
}

static void
whoami_result(struct uploader *u, CURLcode res, long code)
{
	const char *from = u->o.collectors[u->col];
	char err[256], *detail = NULL;

	if (res != CURLE_OK) {
		note_transport_failure(u, from, res);
		end_xfer(u);
		next_collector(u);
		return;
	}
	if (code == 200 && upload_parse_whoami(u->env, from, u->ans, u->ans_len,
					       err, sizeof(err)) == 0) {
		end_xfer(u);
		u->whoami_done = true;
		after_whoami(u);
		return;
	}
	end_xfer(u);
	/* Without the address the probe cannot scrub it: no upload to a
	 * collector that does not say, unless an earlier one did. */
	if (code == 404 && ww_scrub_count(u->env->scrub) > 0 &&
	    json_array_size(json_object_get(u->env->state, "addresses")) > 0) {
		u->whoami_done = true;
		after_whoami(u);
		return;
	}
	detail = code == 200 ? xstrdup(err)
			     : xasprintf("whoami: HTTP %ld", code);
	note_failure(u, from, failure_http_request_failed, detail);
	free(detail);
	next_collector(u);
}

static void
post_result(struct uploader *u, CURLcode res, long code)
{
	const char *from = u->o.collectors[u->col];
	char *detail = NULL;
	size_t ns, nd;

	if (res != CURLE_OK) {
		note_transport_failure(u, from, res);
		end_xfer(u);
		next_collector(u);
		return;
	}
	if (code == 413) {
		end_xfer(u);
		if (u->n_batch <= 1) {
			/* Even alone it is too big for this collector. */
			note_failure(u, from, failure_http_request_failed,
				     "HTTP 413 for a single measurement");
			next_collector(u);
			return;
		}
		u->batch_max = u->n_batch / 2;
		post_batch(u);
		return;
	}
	if ((code == 200 || code == 400) &&
	    apply_answer(u, from, &ns, &nd) == 0) {
		end_xfer(u);
		note_success(u, from, ns, nd);
		log_info("upload", "%s: %zu stored, %zu already there", from,
			 ns, nd);
		state_save(u->env);
		if (ns + nd == 0 && u->n_batch > 0 && code == 200) {
			/* An answer that acknowledges nothing it was sent:
			 * not a collector we can trust with the rest. */
			note_failure(u, from, failure_http_request_failed,
				     "the answer acknowledged none of the "
				     "batch");
			next_collector(u);
			return;
		}
		post_batch(u);
		return;
	}
	if (code == 429 && apply_answer(u, from, &ns, &nd) == 0 &&
	    ns + nd > 0) {
		/* Over a rate limit part way: what it stored is
		 * acknowledged (deleted here), the rest stays for after
		 * Retry-After, as for 503. */
		note_success(u, from, ns, nd);
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
			char *why = answer_error(u);

			log_warn("upload",
				 "%s refused a signed batch (HTTP "
				 "%ld: %s): registering the key again",
				 from, code, why);
			free(why);
			u->reregistered = true;
			end_xfer(u);
			after_whoami(u);
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
	end_xfer(u);
	note_failure(u, from, failure_http_request_failed, detail);
	free(detail);
	next_collector(u);
}

static void who_standalone_result(struct uploader *u, CURLcode res, long code);

static void
xfer_done(CURL *easy, CURLcode res, void *arg)
{
	struct uploader *u = arg;
	long code = 0;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	if (u->ans_too_big && res == CURLE_WRITE_ERROR) {
		res = CURLE_OK;
		code = 599; /* answered, but not like a collector */
	}
	if (u->who_standalone && u->kind == X_WHOAMI && !u->busy)
		who_standalone_result(u, res, code);
	else if (u->kind == X_WHOAMI)
		whoami_result(u, res, code);
	else if (u->kind == X_REGISTER)
		register_result(u, res, code);
	else
		post_result(u, res, code);
}

/* --- standalone whoami (before a run) ----------------------------------- */

/* A reload that came in while a transfer ran takes effect now. */
static void
apply_next_opts(struct uploader *u)
{
	if (u->has_next_o && !u->busy && !u->who_standalone) {
		u->o = u->next_o;
		u->has_next_o = false;
	}
}

static void
who_standalone_next(struct uploader *u)
{
	if (u->who_col >= u->o.n_collectors) {
		uploader_whoami_cb cb = u->who_cb;

		u->who_standalone = false;
		apply_next_opts(u);
		u->who_cb = NULL;
		if (cb != NULL)
			cb(u->who_arg, false);
		return;
	}
	start_xfer(u, X_WHOAMI, u->o.collectors[u->who_col]);
}

static void
who_standalone_result(struct uploader *u, CURLcode res, long code)
{
	const char *from = u->o.collectors[u->who_col];
	char err[256], *detail = NULL;
	uploader_whoami_cb cb;

	if (res == CURLE_OK && code == 200 &&
	    upload_parse_whoami(u->env, from, u->ans, u->ans_len, err,
				sizeof(err)) == 0) {
		end_xfer(u);
		state_save(u->env);
		cb = u->who_cb;
		u->who_standalone = false;
		u->who_cb = NULL;
		apply_next_opts(u);
		if (cb != NULL)
			cb(u->who_arg, true);
		return;
	}
	if (res != CURLE_OK) {
		note_transport_failure(u, from, res);
	} else {
		detail = xasprintf("whoami: HTTP %ld", code);
		note_failure(u, from, failure_http_request_failed, detail);
		free(detail);
	}
	end_xfer(u);
	u->who_col++;
	who_standalone_next(u);
}

void
uploader_whoami(struct uploader *u, uploader_whoami_cb cb, void *arg)
{
	if (u->busy || u->who_standalone || u->o.n_collectors == 0) {
		/* A round asks whoami itself; nothing to ask otherwise. */
		if (cb != NULL)
			cb(arg, false);
		return;
	}
	u->who_standalone = true;
	u->who_cb = cb;
	u->who_arg = arg;
	u->who_col = 0;
	who_standalone_next(u);
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
	end_xfer(u);
	free_batch(u);
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
