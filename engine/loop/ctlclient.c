/*
 * ctlclient.c - the probe asking a control service for its view of a
 * target (docs/control-protocol.md), with libcurl on the engine's loop.
 *
 * Controls are tried in order; the first valid answer wins. Every attempt
 * is recorded, because a control that cannot be reached from the probe's
 * network is itself a finding (OONI's helpers have been blocked in China
 * since 2023).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "failure.h"
#include "internal.h"
#include "util.h"

/* A control answer is a few KiB; anything near this is not one. */
#define CTL_MAX_ANSWER (1024 * 1024)

struct ctl_op {
	struct ww_engine *e;
	struct ww_measurement *m;
	double t_base;
	char *body;
	size_t next; /* index of the next control to try */
	CURL *easy;
	struct curl_slist *hdrs;
	char *url;
	char *buf;
	size_t len;
	bool too_big;
	double t0;
	char errbuf[CURL_ERROR_SIZE];
	ctl_cb cb;
	void *arg;
};

static void try_next(struct ctl_op *op);

/* The request URL: the base URL given, plus our API path unless the base
 * already names a path. */
static char *
control_url(const char *base)
{
	const char *p = strstr(base, "://");
	const char *path = p != NULL ? strchr(p + 3, '/') : NULL;
	size_t n = strlen(base);

	if (path != NULL && strcmp(path, "/") != 0)
		return xstrdup(base);
	if (n > 0 && base[n - 1] == '/')
		n--;
	return xasprintf("%.*s%s", (int)n, base, WW_CONTROL_PATH);
}

static size_t
write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct ctl_op *op = arg;
	size_t len = size * n;

	if (!ww_append_bounded(&op->buf, &op->len, CTL_MAX_ANSWER, data, len)) {
		op->too_big = true;
		return 0;
	}
	return len;
}

static void
record_attempt(struct ctl_op *op, const char *failure, const char *detail,
	       long status)
{
	struct ww_measurement *m = op->m;
	json_t *a = json_object();

	if (m->control_attempts == NULL)
		m->control_attempts = json_array();
	json_object_set_new(a, "url", json_string(op->url));
	if (failure == failure_unknown)
		json_object_set_new(a, "failure",
				    json_sprintf("unknown_failure: %s",
						 detail ? detail : "?"));
	else
		json_object_set_new(a, "failure",
				    failure != NULL ? json_string(failure)
						    : json_null());
	if (detail != NULL && failure != failure_unknown)
		json_object_set_new(a, "failure_detail", json_string(detail));
	json_object_set_new(a, "status_code",
			    status > 0 ? json_integer(status) : json_null());
	json_object_set_new(a, "t0", json_real(op->t0));
	json_object_set_new(a, "t", json_real(ww_mono() - op->t_base));
	json_array_append_new(m->control_attempts, a);
	ww_set_failure(&m->control_failure, &m->control_failure_detail, failure,
		       detail);
}

static void
end_easy(struct ctl_op *op)
{
	if (op->easy != NULL)
		ww_engine_count_curl(op->e, op->easy);
	curl_easy_cleanup(op->easy);
	op->easy = NULL;
	curl_slist_free_all(op->hdrs);
	op->hdrs = NULL;
	free(op->url);
	op->url = NULL;
	free(op->buf);
	op->buf = NULL;
	op->len = 0;
	op->too_big = false;
}

static void
op_end(struct ctl_op *op)
{
	ctl_cb cb = op->cb;
	void *arg = op->arg;

	free(op->body);
	free(op);
	cb(arg);
}

/* Judge a finished transfer; true when it gave a usable answer. */
static bool
judge(struct ctl_op *op, CURLcode res)
{
	long status = 0;
	const char *f;
	char why[256];
	json_error_t jerr;
	json_t *answer;

	curl_easy_getinfo(op->easy, CURLINFO_RESPONSE_CODE, &status);
	if (op->too_big) {
		record_attempt(op, failure_unknown, "control answer over 1 MiB",
			       status);
		return false;
	}
	f = http_failure_from_curl(op->easy, res, op->errbuf, false);
	if (f != NULL) {
		const char *detail = op->errbuf[0] ? op->errbuf : NULL;
		char *d = NULL;

		if (f == failure_unknown)
			detail = d = xasprintf(
				"%s%s%s", curl_easy_strerror(res),
				op->errbuf[0] ? ": " : "", op->errbuf);
		record_attempt(op, f, detail, status);
		free(d);
		return false;
	}
	if (status < 200 || status > 299) {
		snprintf(why, sizeof(why), "the control answered HTTP %ld",
			 status);
		record_attempt(op, failure_http_request_failed, why, status);
		return false;
	}
	answer = json_loadb(op->buf ? op->buf : "", op->len,
			    JSON_REJECT_DUPLICATES, &jerr);
	if (answer == NULL) {
		snprintf(why, sizeof(why), "control answer is not JSON: %s",
			 jerr.text);
		record_attempt(op, failure_unknown, why, status);
		return false;
	}
	if (ww_control_answer_check(answer, why, sizeof(why)) != 0) {
		char *d = xasprintf("invalid control answer: %s", why);

		record_attempt(op, failure_unknown, d, status);
		free(d);
		json_decref(answer);
		return false;
	}
	record_attempt(op, NULL, NULL, status);
	json_decref(op->m->control);
	op->m->control = answer;
	return true;
}

static void
done_cb(CURL *easy, CURLcode res, void *arg)
{
	struct ctl_op *op = arg;
	bool ok;

	(void)easy;
	ok = judge(op, res);
	end_easy(op);
	if (ok || op->next >= op->e->n_controls)
		op_end(op);
	else
		try_next(op);
}

static void
try_next(struct ctl_op *op)
{
	struct ww_engine *e = op->e;
	CURL *c;

	op->url = control_url(e->controls[op->next++]);
	op->t0 = ww_mono() - op->t_base;
	op->errbuf[0] = '\0';
	op->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (op->hdrs == NULL)
		abort();
	op->easy = c = curl_easy_init();
	if (c == NULL)
		abort();
	curl_easy_setopt(c, CURLOPT_URL, op->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, op->body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, op->hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "wallwatch/" WW_TEST_VERSION);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
			 (long)(e->control_timeout * 1000.0));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(e->timeout * 1000.0));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, op);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, op->errbuf);
	http_use_engine_tls(c, e);
	io_curl_add(e->curl, c, done_cb, op);
}

struct ctl_op *
ctl_start(struct ww_engine *e, const char *body, struct ww_measurement *m,
	  double t_base, ctl_cb cb, void *arg)
{
	struct ctl_op *op = xcalloc(1, sizeof(*op));

	op->e = e;
	op->m = m;
	op->t_base = t_base;
	op->body = xstrdup(body);
	op->cb = cb;
	op->arg = arg;
	try_next(op);
	return op;
}

void
ctl_cancel(struct ctl_op *op)
{
	if (op == NULL)
		return;
	if (op->easy != NULL) {
		io_curl_remove(op->e->curl, op->easy);
		record_attempt(op, failure_interrupted, NULL, 0);
		end_easy(op);
	}
	free(op->body);
	free(op);
}
