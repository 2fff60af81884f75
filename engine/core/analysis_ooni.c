/*
 * analysis_ooni.c - OONI's own web_connectivity measurements (0.4.x of
 * OONI's Go engine, 0.5.x of probe-cli) seen in our shape, so that the one
 * decision procedure (analysis.c) judges them by its own rules; what is
 * read, how, and what cannot be proven from it: docs/verdicts.md, "OONI's
 * measurements".
 *
 * The view is a new measurement that shares the original's values (no
 * deep copy); only arrays and objects that change are new. It keeps what
 * the user's own system would have done, the "classic" algorithm of
 * ts-017: lookups by the system resolver, and the connects, handshakes and
 * requests to the addresses it gave. OONI's extensions (DNS-over-UDP and
 * DNS-over-HTTPS lookups, connections to addresses that only the test
 * helper or those resolvers gave) are set aside: they show what a
 * different resolver would have got, not what this network's users get.
 * Then per record: the redirect depth (the "depth=N" tag) becomes our
 * "hop"; a handshake's failure says whether it completed ("handshake_done",
 * "verified"); a response gets the "body_length" and "title" OONI does not
 * write; a redirect whose next hop failed before its request gets that
 * hop's request, as our probe records it; a control that did not answer
 * (control_failure) is none; x_dns_duplicate_responses become our
 * packets.dns, so that two different answers to one query prove injection
 * (rule P1) as they do for our probe.
 *
 * Every access is type-checked (analysis_int.h) and bounded by
 * WW_ANALYSIS_MAX_ITEMS: the input is untrusted.
 */
#include "analysis_int.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsmsg.h"
#include "failure.h"
#include "htmltitle.h"
#include "model.h"
#include "util.h"

/* Addresses the system resolver gave (or a URL's IP literal): enough for
 * every answer the analysis reads (64 lookups of 64 answers are more than
 * any engine records; a hostile file only loses the excess). */
#define OONI_MAX_CLASSIC 512

struct classic {
	struct ip addrs[OONI_MAX_CLASSIC];
	size_t n;
};

bool
ooni_shape(const json_t *m)
{
	return is(jstr(m, "test_name"), "web_connectivity");
}

/* --- tags ----------------------------------------------------------------- */

static bool
has_tag(const json_t *e, const char *tag)
{
	const json_t *tags = jarr(e, "tags");

	for (size_t i = 0; i < jlen(tags); i++)
		if (is(json_string_value(json_array_get(tags, i)), tag))
			return true;
	return false;
}

/* The "depth=N" tag (0.5.x): the redirect depth, our hop; -1 without. */
static long long
depth_of(const json_t *e)
{
	const json_t *tags = jarr(e, "tags");
	long d;

	for (size_t i = 0; i < jlen(tags); i++) {
		const char *s = json_string_value(json_array_get(tags, i));

		if (s != NULL && strncmp(s, "depth=", 6) == 0 &&
		    ww_parse_long(s + 6, 0, MAX_HOPS - 1, &d) == 0)
			return d;
	}
	return -1;
}

/* A shallow copy of record e with our "hop" from its depth tag. */
static json_t *
copy_record(const json_t *e)
{
	json_t *c = json_copy((json_t *)e);
	long long d = depth_of(e);

	if (c != NULL && d >= 0)
		json_object_set_new(c, "hop", json_integer(d));
	return c;
}

/* --- the classic lookups and their addresses ------------------------------ */

/*
 * A lookup by the system resolver: tagged "classic" (probe-cli 3.22+), or
 * made by getaddrinfo ("getaddrinfo", "system" in 0.4.x, "go"); any other
 * engine ("udp", "doh", "dot", "tcp") is one of OONI's extra resolvers.
 */
static bool
classic_query(const json_t *q)
{
	const char *engine = jstr(q, "engine");

	return has_tag(q, "classic") || engine == NULL ||
	       is(engine, "getaddrinfo") || is(engine, "system") ||
	       is(engine, "go");
}

static void
classic_add(struct classic *cl, const char *s)
{
	struct ip ip;

	if (cl->n < OONI_MAX_CLASSIC && ip_parse(s, &ip) &&
	    !ip_in(&ip, cl->addrs, cl->n))
		cl->addrs[cl->n++] = ip;
}

/* A URL's host when it is an IP literal: no lookup, so classic by
 * itself. */
static void
classic_add_literal(struct classic *cl, const char *url)
{
	struct ww_target t;
	char err[256];

	if (url == NULL || ww_target_parse(url, &t, err, sizeof(err)) != 0)
		return;
	if (t.host_is_ip)
		classic_add(cl, t.host);
	ww_target_clear(&t);
}

static void
collect_classic(struct classic *cl, const json_t *m, const json_t *tk)
{
	const json_t *qs = jarr(tk, "queries"), *reqs = jarr(tk, "requests");

	for (size_t i = 0; i < jlen(qs); i++) {
		const json_t *q = json_array_get(qs, i);
		const json_t *ans = jarr(q, "answers");

		if (!classic_query(q))
			continue;
		for (size_t j = 0; j < jlen(ans); j++) {
			const json_t *a = json_array_get(ans, j);

			classic_add(cl, jstr(a, "ipv4"));
			classic_add(cl, jstr(a, "ipv6"));
		}
	}
	classic_add_literal(cl, jstr(m, "input"));
	for (size_t i = 0; i < jlen(reqs) && i < MAX_HOPS; i++)
		classic_add_literal(cl, req_url(json_array_get(reqs, i)));
}

/*
 * A connect, handshake or request of the classic algorithm: tagged so, or
 * to an address the system resolver gave. Without an address (0.4.x
 * requests: the HTTP client resolved the name itself, with the system
 * resolver) it is classic too.
 */
static bool
classic_record(const struct classic *cl, const json_t *e, bool no_addr_ok)
{
	struct ip ip;
	long port;

	if (has_tag(e, "classic"))
		return true;
	if (jget(e, "ip") == NULL && jstr(e, "address") == NULL)
		return no_addr_ok;
	return entry_endpoint(e, &ip, &port) && ip_in(&ip, cl->addrs, cl->n);
}

/* --- records -------------------------------------------------------------- */

static json_t *
view_queries(const json_t *tk)
{
	const json_t *qs = jarr(tk, "queries");
	json_t *out = json_array();

	for (size_t i = 0; i < jlen(qs); i++)
		if (classic_query(json_array_get(qs, i)))
			json_array_append_new(
				out, copy_record(json_array_get(qs, i)));
	return out;
}

static json_t *
view_tcp(const struct classic *cl, const json_t *tk)
{
	const json_t *tcs = jarr(tk, "tcp_connect");
	json_t *out = json_array();

	for (size_t i = 0; i < jlen(tcs); i++) {
		const json_t *e = json_array_get(tcs, i);

		if (json_is_object(e) && classic_record(cl, e, false))
			json_array_append_new(out, copy_record(e));
	}
	return out;
}

/*
 * OONI's handshake records say only "failure": null when it completed and
 * the certificate verified (unless no_tls_verify), a certificate failure
 * (ssl_invalid_hostname, ssl_unknown_authority, ssl_invalid_certificate)
 * when it completed with a certificate that did not verify, any other
 * failure when it did not complete. OONI makes no neutral-SNI handshake:
 * every one is the target's.
 */
static json_t *
view_handshake(const json_t *hs)
{
	json_t *c = copy_record(hs);
	const char *f = jfailure(hs);
	bool done = f == NULL || failure_is_certificate(f);

	if (json_is_null(jget(hs, "failure")) || f != NULL) {
		json_object_set_new(c, "handshake_done", json_boolean(done));
		json_object_set_new(
			c, "verified",
			json_boolean(f == NULL && !jtrue(hs, "no_tls_verify")));
	}
	json_object_set_new(c, "sni_role", json_string("target"));
	return c;
}

static json_t *
view_tls(const struct classic *cl, const json_t *tk)
{
	const json_t *hss = jarr(tk, "tls_handshakes");
	json_t *out = json_array();

	for (size_t i = 0; i < jlen(hss); i++) {
		const json_t *hs = json_array_get(hss, i);

		if (json_is_object(hs) && classic_record(cl, hs, true))
			json_array_append_new(out, view_handshake(hs));
	}
	return out;
}

/* The bytes of a response body: a string, or {"format": "base64"}. */
static bool
body_length(const json_t *body, long long *len)
{
	const char *data = jstr(body, "data");
	size_t n, pad = 0;

	if (json_is_string(body)) {
		*len = (long long)json_string_length(body);
		return true;
	}
	if (!is(jstr(body, "format"), "base64") || data == NULL)
		return false;
	n = json_string_length(jget(body, "data"));
	while (pad < 2 && n > pad && data[n - 1 - pad] == '=')
		pad++;
	*len = (long long)(n / 4 * 3) - (long long)pad;
	if (*len < 0)
		*len = 0;
	return true;
}

/* The page's <title>, from the text of the body OONI kept. */
static json_t *
body_title(const json_t *body)
{
	const char *s = json_string_value(body);
	char *t;
	json_t *out;

	if (s == NULL)
		return json_null();
	t = ww_html_title((const unsigned char *)s, json_string_length(body));
	out = t != NULL ? json_string(t) : json_null();
	free(t);
	return out != NULL ? out : json_null();
}

/* OONI's response with our body_length (the bytes of a whole body; a
 * truncated one is a download cut by the engine's cap:
 * body_download_capped) and title. */
static json_t *
view_response(const json_t *resp)
{
	json_t *c = json_copy((json_t *)resp);
	const json_t *body = jget(resp, "body");
	long long len;

	if (c == NULL)
		return json_null();
	/* a truncated body's length is not the page's: none, as for our
	 * probe's capped download (no proportion, never "empty") */
	if (jtrue(resp, "body_is_truncated"))
		json_object_set_new(c, "body_download_capped", json_true());
	else if (jget(resp, "body_length") == NULL && body_length(body, &len))
		json_object_set_new(c, "body_length", json_integer(len));
	if (jget(resp, "title") == NULL)
		json_object_set_new(c, "title", body_title(body));
	return c;
}

static json_t *
view_request(const json_t *r)
{
	json_t *c = copy_record(r);
	const json_t *resp = jobj(r, "response");

	if (resp != NULL)
		json_object_set_new(c, "response", view_response(resp));
	return c;
}

/* --- a hop that failed before its request --------------------------------- */

/* The Location of a redirect response, resolved against url (a relative
 * one names a path on the same site). NULL: none, or not a URL. */
static char *
redirect_target(const char *url, const json_t *resp)
{
	const json_t *hdrs = jobj(resp, "headers");
	const char *loc = NULL, *key;
	json_t *v;
	char *out = NULL, *res = NULL;
	CURLU *u;

	json_object_foreach((json_t *)hdrs, key, v)
	{
		if (strcasecmp(key, "location") == 0)
			loc = json_string_value(v);
	}
	if (url == NULL || loc == NULL || *loc == '\0' ||
	    (u = curl_url()) == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, loc, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &res, 0) == CURLUE_OK)
		out = xstrdup(res);
	curl_free(res);
	curl_url_cleanup(u);
	return out;
}

/* The failure that ended hop k before its request: its lookup's (when no
 * lookup of it gave an address), else its connects' (when none worked),
 * else its handshakes' (when none completed). NULL: none recorded. */
static const char *
hop_failure(const json_t *view_tk, long long k)
{
	static const char *const arrays[] = {"queries", "tcp_connect",
					     "tls_handshakes"};

	for (size_t a = 0; a < WW_ARRAY_LEN(arrays); a++) {
		const json_t *arr = jarr(view_tk, arrays[a]);
		const char *first = NULL;
		bool seen = false, ok = false;

		for (size_t i = 0; i < jlen(arr); i++) {
			const json_t *e = json_array_get(arr, i);
			const char *f = a == 1 ? jfailure(jobj(e, "status"))
					       : jfailure(e);

			if (depth_of(e) != k)
				continue;
			seen = true;
			if (f == NULL && (a != 0 || jlen(jarr(e, "answers"))))
				ok = true;
			else if (f != NULL && first == NULL)
				first = f;
		}
		if (seen && !ok)
			return first;
		if (!seen)
			return NULL;
	}
	return NULL;
}

/*
 * probe-cli 0.5.x records no request for a redirect's hop whose DNS,
 * connect or handshake failed; our probe records one, with the URL and
 * the step's failure, and the walk needs it to reach that hop (else the
 * chain seems to end on the redirect). Add it, newest first.
 */
static void
add_failed_hop(json_t *view_tk, json_t *reqs)
{
	const json_t *last = NULL;
	long long top = -1, h;
	const char *f;
	char *url;
	json_t *stub;

	for (size_t i = 0; i < jlen(reqs); i++) {
		const json_t *r = json_array_get(reqs, i);

		if (jint(r, "hop", &h) && h > top) {
			top = h;
			last = r;
		}
	}
	if (last == NULL || top + 1 >= MAX_HOPS ||
	    (f = hop_failure(view_tk, top + 1)) == NULL)
		return;
	if (!jint(jobj(last, "response"), "code", &h) || h / 100 != 3 ||
	    (url = redirect_target(req_url(last), jobj(last, "response"))) ==
		    NULL)
		return;
	stub = json_pack("{s:{s:s,s:s},s:s,s:n,s:I}", "request", "method",
			 "GET", "url", url, "failure", f, "response", "hop",
			 (json_int_t)(top + 1));
	if (stub != NULL)
		json_array_insert_new(reqs, 0, stub);
	free(url);
}

/* An HTTP/3 request (probe-cli tries the test helper's discovered QUIC
 * endpoint too): not the TCP/TLS fetch the walk judges. */
static bool
over_quic(const json_t *r)
{
	const char *x = jstr(jobj(r, "request"), "x_transport");

	return is(jstr(r, "network"), "udp") || is(x, "udp") || is(x, "quic");
}

static json_t *
view_requests(const struct classic *cl, json_t *view_tk, const json_t *tk)
{
	const json_t *reqs = jarr(tk, "requests");
	json_t *out = json_array();

	for (size_t i = 0; i < jlen(reqs); i++) {
		const json_t *r = json_array_get(reqs, i);

		if (json_is_object(r) && !over_quic(r) &&
		    classic_record(cl, r, true))
			json_array_append_new(out, view_request(r));
	}
	add_failed_hop(view_tk, out);
	return out;
}

/* --- x_dns_duplicate_responses as packets.dns ----------------------------- */

/* One reply of ours (docs/measurement-format.md, packets.dns[].replies)
 * from an OONI lookup's raw_response; NULL when it has none or it does
 * not parse as a reply to the lookup's name and type. */
static json_t *
dup_reply(const json_t *q)
{
	const char *raw = jstr(q, "raw_response");
	unsigned char *buf;
	size_t len = 0;
	struct ww_dns_reply r;
	struct ww_query wq;
	char err[128];
	json_t *out = NULL, *addrs;
	bool ok;

	if (raw == NULL ||
	    (buf = ww_base64_decode(raw, strlen(raw), 4096, &len)) == NULL)
		return NULL;
	memset(&wq, 0, sizeof(wq));
	ok = ww_dns_parse_reply(buf, len, &r, &wq, err, sizeof(err)) == 0 &&
	     r.qr == 1 && host_eq(jstr(q, "hostname"), r.qname);
	addrs = json_array();
	for (size_t i = 0; ok && i < wq.n_answers; i++)
		if (wq.answers[i].type != WW_RR_CNAME &&
		    wq.answers[i].value != NULL)
			json_array_append_new(addrs,
					      json_string(wq.answers[i].value));
	if (ok)
		out = json_pack("{s:f,s:i,s:s,s:b,s:o,s:n,s:n}", "t",
				json_is_number(jget(q, "t"))
					? json_number_value(jget(q, "t"))
					: 0.0,
				"dns_id", (int)r.id, "rcode",
				ww_rcode_name(r.rcode), "question_ok", 1,
				"addrs", addrs, "ip_ttl", "ip_id");
	else
		json_decref(addrs);
	ww_query_clear(&wq);
	free(buf);
	return out;
}

/* Both have key k, a string, and the same one. */
static bool
same_key(const json_t *a, const json_t *b, const char *k)
{
	const char *x = jstr(a, k), *y = jstr(b, k);

	return x != NULL && y != NULL && strcmp(x, y) == 0;
}

/* The lookup in queries that a duplicate answers: the same transaction,
 * name, type and resolver. */
static const json_t *
dup_original(const json_t *tk, const json_t *d)
{
	const json_t *qs = jarr(tk, "queries");
	long long tid, qtid;

	if (!jint(d, "transaction_id", &tid))
		return NULL;
	for (size_t i = 0; i < jlen(qs); i++) {
		const json_t *q = json_array_get(qs, i);

		if (jint(q, "transaction_id", &qtid) && qtid == tid &&
		    same_key(q, d, "hostname") &&
		    same_key(q, d, "query_type") &&
		    same_key(q, d, "resolver_address"))
			return q;
	}
	return NULL;
}

/*
 * OONI's DNS-over-UDP lookup keeps reading its socket after the first
 * reply; every later reply is in x_dns_duplicate_responses. With the first
 * (the lookup's own raw_response) they are our packets.dns entry for that
 * query: P1 proves injection when two replies to one id share no address.
 * Those lookups go to a public resolver across the network's border, as
 * the system resolver's upstream queries usually do: proof about the name
 * on this path, not about the system resolver's answer, so the entries are
 * marked "extra_resolver" and P1 changes the verdict only when the
 * system resolver's own answer was forged or failed too
 * (analysis_packets.c).
 */
static json_t *
view_packets(const json_t *tk)
{
	const json_t *dups = jarr(tk, "x_dns_duplicate_responses");
	json_t *dns = json_array();

	for (size_t i = 0; i < jlen(dups) && json_array_size(dns) < 16; i++) {
		const json_t *d = json_array_get(dups, i);
		const json_t *q = dup_original(tk, d);
		json_t *first = q != NULL ? dup_reply(q) : NULL;
		json_t *later = first != NULL ? dup_reply(d) : NULL;

		if (later == NULL) {
			json_decref(first);
			continue;
		}
		json_array_append_new(
			dns,
			json_pack("{s:O,s:O,s:O,s:O,s:i,s:i,s:b,s:[oo],s:b}",
				  "transaction_id", jget(q, "transaction_id"),
				  "hostname", jget(q, "hostname"), "query_type",
				  jget(q, "query_type"), "resolver_address",
				  jget(q, "resolver_address"), "n_sent", 1,
				  "n_replies", 2, "truncated", 0, "replies",
				  first, later, "extra_resolver", 1));
	}
	if (json_array_size(dns) == 0) {
		json_decref(dns);
		return NULL;
	}
	return json_pack("{s:s,s:n,s:o,s:[],s:b}", "capture", "off",
			 "capture_failure", "dns", dns, "tcp", "truncated", 0);
}

/* --- the view ------------------------------------------------------------- */

json_t *
ooni_view(const json_t *m)
{
	const json_t *tk = jobj(m, "test_keys");
	json_t *view = json_copy((json_t *)m), *vtk = json_copy((json_t *)tk);
	struct classic *cl = xcalloc(1, sizeof(*cl));
	const char *cf;
	json_t *packets;

	json_object_set_new(view, "test_keys", vtk);
	collect_classic(cl, m, tk);
	/* control_failure: the test helper did not answer, and what is in
	 * "control" is the engine's empty placeholder, not an answer */
	cf = jstr(tk, "control_failure");
	if (cf != NULL && *cf != '\0')
		json_object_set_new(vtk, "control", json_null());
	json_object_set_new(vtk, "queries", view_queries(tk));
	json_object_set_new(vtk, "tcp_connect", view_tcp(cl, tk));
	json_object_set_new(vtk, "tls_handshakes", view_tls(cl, tk));
	json_object_set_new(vtk, "requests", view_requests(cl, vtk, tk));
	packets = jobj(tk, "packets") == NULL ? view_packets(tk) : NULL;
	if (packets != NULL)
		json_object_set_new(vtk, "packets", packets);
	free(cl);
	return view;
}
