/*
 * analysis_pages.c - comparing the probe's pages with the control's, for
 * the verdict (analysis.c; the rules are in docs/verdicts.md): OONI's
 * comparison keys (status, body length, headers, title) of the final
 * response, whether a page is "far" from the control's, whether a transfer
 * that timed out was throttled (the WW_THROTTLE_* thresholds), and which
 * fingerprints (fingerprint.h) match the answers, bodies and headers.
 */
#include "analysis_int.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "failure.h"
#include "util.h"

/* --- comparison keys ------------------------------------------------------ */

/* OONI's status_code_match, as fixed in ooni/probe#2287: equal codes
 * match; different codes are compared only when the control got 2xx. */
static enum tri
status_match(long long probe, long long ctl)
{
	if (probe == ctl)
		return TRI_TRUE;
	return ctl / 100 == 2 ? TRI_FALSE : TRI_NULL;
}

/* Header names both responses share, outside the set every site sends
 * (OONI's list, probe-cli internal/minipipeline/httpdiff.go), plus the
 * framing headers of HTTP/1.1 (content-length, connection,
 * transfer-encoding, keep-alive): every answer, a block page's too,
 * carries one of them, so with them nearly any pair would match. */
static const char *const common_headers[] = {
	"content-length",
	"connection",
	"transfer-encoding",
	"keep-alive",
	"date",
	"content-type",
	"server",
	"cache-control",
	"vary",
	"set-cookie",
	"location",
	"expires",
	"x-powered-by",
	"content-encoding",
	"last-modified",
	"accept-ranges",
	"pragma",
	"x-frame-options",
	"etag",
	"x-content-type-options",
	"age",
	"via",
	"p3p",
	"x-xss-protection",
	"content-language",
	"cf-ray",
	"strict-transport-security",
	"link",
	"x-varnish",
};

static bool
is_common_header(const char *name)
{
	for (size_t i = 0; i < WW_ARRAY_LEN(common_headers); i++)
		if (strcasecmp(name, common_headers[i]) == 0)
			return true;
	return false;
}

static bool
has_header(const json_t *headers, const char *name)
{
	json_t *o = (json_t *)headers;
	size_t seen = 0;

	for (void *it = json_object_iter(o); it != NULL && seen++ < MAX_ITEMS;
	     it = json_object_iter_next(o, it))
		if (strcasecmp(json_object_iter_key(it), name) == 0)
			return true;
	return false;
}

static enum tri
headers_match(const json_t *probe, const json_t *ctl)
{
	json_t *o = (json_t *)probe;
	size_t seen = 0;

	for (void *it = json_object_iter(o); it != NULL && seen++ < MAX_ITEMS;
	     it = json_object_iter_next(o, it)) {
		const char *key = json_object_iter_key(it);

		if (!is_common_header(key) && has_header(ctl, key))
			return TRI_TRUE;
	}
	return TRI_FALSE;
}

/* Words of at least MIN_WORD bytes, split on ASCII white space. */
static size_t
long_words(const char *s, const char *w[], size_t len[], size_t max)
{
	size_t n = 0;

	while (s != NULL && *s != '\0' && n < max) {
		size_t k = strcspn(s, " \t\r\n\f\v");

		if (k >= MIN_WORD) {
			w[n] = s;
			len[n++] = k;
		}
		s += k;
		s += strspn(s, " \t\r\n\f\v");
	}
	return n;
}

/* ts-017: the titles share a word longer than 4 characters (compared
 * case-insensitively). Null when the control's title has no such word:
 * there is nothing to compare with. */
static enum tri
title_match(const char *probe, const char *ctl)
{
	const char *pw[TITLE_WORDS], *cw[TITLE_WORDS];
	size_t pl[TITLE_WORDS], cl[TITLE_WORDS];
	size_t np = long_words(probe, pw, pl, TITLE_WORDS);
	size_t nc = long_words(ctl, cw, cl, TITLE_WORDS);

	if (nc == 0)
		return TRI_NULL;
	for (size_t i = 0; i < np; i++)
		for (size_t j = 0; j < nc; j++)
			if (pl[i] == cl[j] &&
			    strncasecmp(pw[i], cw[j], pl[i]) == 0)
				return TRI_TRUE;
	return TRI_FALSE;
}

/* ts-017 body_proportion: the smaller length over the larger, both > 0.
 * A body cut by the download cap has no known length. */
static void
body_proportion(struct ctx *c, const json_t *resp, const json_t *ctl)
{
	long long p, q;

	if (!jint(resp, "body_length", &p) || !jint(ctl, "body_length", &q) ||
	    p <= 0 || q <= 0 || jtrue(resp, "body_download_capped"))
		return;
	c->have_proportion = true;
	c->proportion = p < q ? (double)p / (double)q : (double)q / (double)p;
	c->body_length_match =
		c->proportion > WW_BODY_PROPORTION_MIN ? TRI_TRUE : TRI_FALSE;
}

/* A response with a positive status code, else NULL. */
const json_t *
response_of(const json_t *req, long long *code)
{
	const json_t *r = jobj(req, "response");

	return r != NULL && jint(r, "code", code) && *code > 0 ? r : NULL;
}

/*
 * Failures that end a chain with a response in hand: the last redirect's
 * (too many redirects, a Location that cannot be followed). The response
 * is the final one; any other failure cut the transfer.
 */
bool
chain_failure(const char *f)
{
	return is(f, "http_too_many_redirects") ||
	       is(f, failure_http_invalid_redirect_location_host);
}

void
compute_http_diff(struct ctx *c)
{
	long long code, ctl_code, p = -1, q = -1;
	const json_t *req = final_request(c), *ctl;
	const json_t *resp = response_of(req, &code);
	const char *f = jfailure(req);

	/* a body cut short is no page to compare (its transfer failed) */
	if (resp == NULL || (f != NULL && !chain_failure(f)) ||
	    ctl_final(c, &ctl, &ctl_code) != OC_OK)
		return;
	c->have_keys = true;
	body_proportion(c, resp, ctl);
	c->empty_body = jint(resp, "body_length", &p) &&
			jint(ctl, "body_length", &q) && p == 0 && q > 0;
	/* The control's fetch succeeded, so its body is whole, or cut by its
	 * cap, which only makes it shorter: a probe body (not cut by the
	 * probe's cap) this much shorter is not the same page. */
	c->tiny_body = p >= 0 && q > 0 &&
		       !jtrue(resp, "body_download_capped") &&
		       (double)p < WW_BODY_TINY * (double)q;
	c->status_code_match = status_match(code, ctl_code);
	c->headers_match =
		headers_match(jobj(resp, "headers"), jobj(ctl, "headers"));
	c->title = jstr(resp, "title");
	c->ctl_title = jstr(ctl, "title");
	c->title_match = title_match(c->title, c->ctl_title);
}

/* Titles equal but for case and surrounding white space. */
static bool
same_title_text(const char *a, const char *b)
{
	static const char ws[] = " \t\r\n\f\v";
	size_t la, lb;

	a = a != NULL ? a + strspn(a, ws) : "";
	b = b != NULL ? b + strspn(b, ws) : "";
	la = strlen(a);
	lb = strlen(b);
	while (la > 0 && strchr(ws, a[la - 1]) != NULL)
		la--;
	while (lb > 0 && strchr(ws, b[lb - 1]) != NULL)
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/*
 * What the titles say: TRUE, they share a word (title_match); FALSE, they
 * share none, or the control's has no long word and the texts differ;
 * NULL, neither has a long word (both empty, or "Home" twice): they say
 * nothing, and the body decides alone. Two empty titles are no evidence
 * of the same page: a title-less block page for a title-less site would
 * otherwise always pass.
 */
static enum tri
titles_same(const struct ctx *c)
{
	const char *w[1];
	size_t l[1];

	if (!c->have_keys)
		return TRI_NULL;
	if (c->title_match != TRI_NULL)
		return c->title_match;
	if (long_words(c->title, w, l, 1) == 0)
		return TRI_NULL;
	return same_title_text(c->title, c->ctl_title) ? TRI_TRUE : TRI_FALSE;
}

/* The body is far from the control's: body_length_match false (at most
 * 0.7 of the larger), or empty where the control's is not. */
static bool
body_far(const struct ctx *c)
{
	return c->body_length_match == TRI_FALSE || c->empty_body;
}

/* Rule 3: another page, whatever the headers say: a tiny body whatever
 * the title; a far body unless the titles share a word. */
bool
page_far(const struct ctx *c)
{
	return c->tiny_body || (titles_same(c) != TRI_TRUE && body_far(c));
}

/* OONI's http-diff algorithm (webconnectivitylte analysishttpdiff.go). */
bool
ooni_http_differs(const struct ctx *c)
{
	if (c->status_code_match == TRI_TRUE &&
	    (c->body_length_match == TRI_TRUE || c->headers_match == TRI_TRUE ||
	     c->title_match == TRI_TRUE))
		return false;
	return true;
}

/* Through a forged answer over plain HTTP nothing proves who answered, so
 * the page must show it is the control's: same status, titles that do not
 * differ (same text when the control's has no long word; nothing to tell
 * when neither has one) and a body not far from it. */
bool
same_page_strict(const struct ctx *c)
{
	return c->status_code_match == TRI_TRUE &&
	       titles_same(c) != TRI_FALSE && !body_far(c);
}

/* --- fingerprints --------------------------------------------------------- */

/* The first hop (lowest) with a confirming match of each kind. */
static void
note_hop(int *best, int hop)
{
	if (hop >= 0 && (*best < 0 || hop < *best))
		*best = hop;
}

static void
note_matches(struct ctx *c, const struct ww_fingerprint **m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *name = ww_fingerprint_name(m[i]);
		bool seen = false;

		for (size_t k = 0; k < json_array_size(c->fp_names); k++)
			seen = seen || is(json_string_value(json_array_get(
						  c->fp_names, k)),
					  name);
		if (!seen)
			json_array_append_new(c->fp_names, json_string(name));
		if (!ww_fingerprint_expected_in(m[i], c->cc))
			continue;
		if (ww_fingerprint_location(m[i]) == WW_FP_DNS) {
			c->fp_dns = true;
			note_hop(&c->fp_dns_hop, c->cur_hop);
		} else {
			c->fp_http = true;
			note_hop(&c->fp_http_hop, c->cur_hop);
		}
	}
}

/* Every A, AAAA and CNAME answer of every lookup (a forged answer for a
 * redirect's host is tampering too). */
void
match_dns_fingerprints(struct ctx *c)
{
	static const char *const keys[] = {"ipv4", "ipv6", "hostname"};
	const struct ww_fingerprint *m[MAX_MATCHES];
	const json_t *qs = jarr(c->tk, "queries");

	for (size_t i = 0; i < jlen(qs) && i < FP_MAX_LOOKUPS; i++) {
		const json_t *ans = jarr(json_array_get(qs, i), "answers");

		c->cur_hop = (int)rec_hop(json_array_get(qs, i));
		for (size_t j = 0; j < jlen(ans) && j < FP_MAX_ANSWERS; j++)
			for (size_t k = 0; k < WW_ARRAY_LEN(keys); k++)
				note_matches(
					c, m,
					ww_fingerprints_match_dns(
						c->fp,
						jstr(json_array_get(ans, j),
						     keys[k]),
						m, MAX_MATCHES));
	}
	c->cur_hop = -1;
}

static void
match_body(struct ctx *c, const json_t *resp)
{
	const struct ww_fingerprint *m[MAX_MATCHES];
	const json_t *body = jget(resp, "body");
	bool complete = json_is_false(jget(resp, "body_is_truncated"));
	unsigned char *raw;
	size_t len;

	if (json_is_string(body)) {
		len = json_string_length(body);
		if (len > MAX_BODY) {
			len = MAX_BODY;
			complete = false;
		}
		note_matches(c, m,
			     ww_fingerprints_match_body(
				     c->fp, json_string_value(body), len,
				     complete, m, MAX_MATCHES));
		return;
	}
	if (!is(jstr(body, "format"), "base64") ||
	    !json_is_string(jget(body, "data")))
		return;
	raw = ww_base64_decode(jstr(body, "data"),
			       json_string_length(jget(body, "data")), MAX_B64,
			       &len);
	if (raw != NULL)
		note_matches(c, m,
			     ww_fingerprints_match_body(c->fp, (char *)raw, len,
							complete, m,
							MAX_MATCHES));
	free(raw);
}

/* headers_list has every header, repeats included; headers only the
 * first of each name, so it is the fallback. */
static void
match_headers(struct ctx *c, const json_t *resp)
{
	const struct ww_fingerprint *m[MAX_MATCHES];
	const json_t *list = jarr(resp, "headers_list");
	json_t *o = jobj(resp, "headers");
	size_t seen = 0;

	for (size_t i = 0; i < jlen(list); i++) {
		const json_t *h = json_array_get(list, i);

		note_matches(c, m,
			     ww_fingerprints_match_header(
				     c->fp,
				     json_string_value(json_array_get(h, 0)),
				     json_string_value(json_array_get(h, 1)), m,
				     MAX_MATCHES));
	}
	if (list != NULL)
		return;
	for (void *it = json_object_iter(o); it != NULL && seen++ < MAX_ITEMS;
	     it = json_object_iter_next(o, it))
		note_matches(
			c, m,
			ww_fingerprints_match_header(
				c->fp, json_object_iter_key(it),
				json_string_value(json_object_iter_value(it)),
				m, MAX_MATCHES));
}

/* Every hop: a blockpage is often a redirect's Location. */
void
match_http_fingerprints(struct ctx *c)
{
	const json_t *reqs = jarr(c->tk, "requests");
	size_t n = jlen(reqs);

	for (size_t i = 0; i < n && i < MAX_HOPS; i++) {
		const json_t *resp = jobj(json_array_get(reqs, i), "response");
		long long hop = req_hop(c, i, n);

		if (resp == NULL)
			continue;
		c->cur_hop = (int)hop;
		match_body(c, resp);
		match_headers(c, resp);
	}
	c->cur_hop = -1;
}

/* --- throttling ----------------------------------------------------------- */

/*
 * A request's transfer figures for http.throttled: what came (bytes), when
 * the last came and first came (seconds since t0), at what rate. The
 * socket's figures (wire_bytes, t_last_wire_byte: TLS records count as they
 * arrive, before a whole record can be decrypted) are used when present: a
 * throttled HTTPS transfer can leave the decrypted figures at 0, or the
 * last decrypted byte long before the last byte that came.
 */
struct xfer {
	double got, last, first, rate;
};

static bool
xfer_figures(const json_t *req, struct xfer *x)
{
	const json_t *tr = jobj(req, "transfer");
	long long code;
	double wire = 0, wlast = 0;
	bool have_wire = jnum(tr, "wire_bytes", &wire) && wire > 0 &&
			 jnum(tr, "t_last_wire_byte", &wlast) && wlast > 0;
	bool have_body = response_of(req, &code) != NULL &&
			 jnum(tr, "t_last_byte", &x->last) &&
			 jnum(tr, "rate", &x->rate) && x->rate > 0;

	if (!have_body && !have_wire)
		return false;
	if (!jnum(tr, "body_bytes", &x->got) || !have_body)
		x->got = 0;
	if (!have_body || !jnum(tr, "t_first_byte", &x->first))
		x->first = 0; /* from t0: the whole request's time */
	if (have_wire) {
		/* every byte that came, headers and TLS overhead included: an
		 * upper bound of the body's, so "the rest would need as long
		 * again" is judged on the safe side */
		x->got = x->got > wire ? x->got : wire;
		if (!have_body || wlast > x->last)
			x->last = wlast;
		if (!have_body)
			x->rate = wire / wlast;
	}
	return true;
}

/*
 * The final silence (from the last byte to the end) that is still a
 * trickle: max(10 % of the time, min(2 s, a quarter of it)) so that a
 * short timeout does not make a stall look like a trickle; or, for a
 * bursty shaper, the time WW_THROTTLE_BURST bytes take at the measured
 * rate, as long as bytes came for at least that long. A stall at a high
 * rate (cut_stall) gets a fraction of a second.
 */
static bool
still_coming(const struct xfer *x, double dur)
{
	double gap = dur - x->last, active = x->last - x->first;
	double slack =
		dur / 4 < WW_THROTTLE_MAX_GAP ? dur / 4 : WW_THROTTLE_MAX_GAP;
	double burst = WW_THROTTLE_BURST / x->rate;

	if (slack < dur * WW_THROTTLE_GAP_SHARE)
		slack = dur * WW_THROTTLE_GAP_SHARE;
	if (burst > active)
		burst = active;
	return gap <= (slack > burst ? slack : burst);
}

/*
 * http.throttled (docs/verdicts.md): the transfer timed out while bytes
 * were still coming, so slowly that the rest of the control's body would
 * have needed at least as long again, at a rate under WW_THROTTLE_MAX_RATE
 * and (when the control's rate is known) under a tenth of it. A transfer
 * that stalled (a silent connection) is a plain http.timeout.
 */
bool
throttled(const json_t *req, const char *f, const json_t *ctl)
{
	struct xfer x = {0}; /* set by xfer_figures(); zeroed for GCC's sake */
	double t0, t, ctl_rate, dur;
	long long want;

	if (!is(f, failure_generic_timeout) || !xfer_figures(req, &x) ||
	    x.rate >= WW_THROTTLE_MAX_RATE || !jnum(req, "t0", &t0) ||
	    !jnum(req, "t", &t) || !jint(ctl, "body_length", &want) ||
	    want <= 0)
		return false;
	dur = t - t0;
	if (dur <= 0 || !still_coming(&x, dur) || x.got >= (double)want ||
	    ((double)want - x.got) / x.rate < dur)
		return false;
	return !jnum(jobj(ctl, "transfer"), "rate", &ctl_rate) ||
	       ctl_rate <= 0 || x.rate * WW_THROTTLE_CTL_FACTOR <= ctl_rate;
}
