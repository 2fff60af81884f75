/*
 * upload_xfer.c - one HTTP transfer of the uploader (upload.c) to a
 * collector's API on the probe's event loop (io_curl, engine/loop/io_curl.h):
 * the request, the bounded answer, Retry-After and the collector's clock
 * from the headers; and what a transfer's outcome leaves in state.json
 * (collectors[url]).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "failure.h"
#include "io_curl.h"
#include "upload_int.h"
#include "util.h"

static char *
api_url(const char *base, const char *path)
{
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	return xasprintf("%.*s%s", (int)n, base, path);
}

static void
now_iso(char out[20])
{
	ww_fmt_utc(time(NULL), out);
}

/* Record a collector's failure in state.json. */
void
upl_note_failure(struct uploader *u, const char *url, const char *failure,
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

void
upl_note_success(struct uploader *u, const char *url, size_t stored,
		 size_t dups)
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

/* Record a transfer that failed below HTTP against from: the failure in
 * the vocabulary, curl's words as the detail. Before upl_end_xfer(). */
void
upl_note_transport_failure(struct uploader *u, const char *from, CURLcode res)
{
	const char *f = http_failure_from_curl(u->easy, res, u->errbuf, false);
	char *detail = xasprintf("%s%s%s", curl_easy_strerror(res),
				 u->errbuf[0] ? ": " : "", u->errbuf);

	upl_note_failure(u, from, f ? f : failure_unknown, detail);
	free(detail);
}

void
upl_end_xfer(struct uploader *u)
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

	if (!ww_append_bounded(&u->ans, &u->ans_len, ANSWER_MAX, data, len)) {
		u->ans_too_big = true;
		return 0;
	}
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

void
upl_start_xfer(struct uploader *u, enum xfer_kind kind, const char *base)
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
	io_curl_add(u->io, c, upl_xfer_done, u);
}

/* The collector's error text, one line, at most 200 bytes (caller frees). */
char *
upl_answer_error(const struct uploader *u)
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
