/*
 * analysis.c - the verdict on one measurement (see analysis.h and, for the
 * rules and their sources, docs/verdicts.md).
 *
 * Shape: collect what the probe and the control observed into a small
 * context (every JSON access is type-checked: anything odd is "not
 * observed"), compute OONI's comparison keys, then walk the steps in order
 * (fingerprints, preconditions, DNS, TCP, TLS, HTTP); the first step that
 * can explain the outcome decides. Two rules then apply on top, as in OONI:
 * inconsistent DNS turns any non-success into "dns", and a run whose
 * network check failed trusts nothing but success and fingerprints.
 *
 * Each decide_*() returns true when it has set the verdict.
 */
#include "analysis.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "failure.h"
#include "ipaddr.h"
#include "target.h"
#include "util.h"

#define MAX_ITEMS WW_ANALYSIS_MAX_ITEMS
#define MAX_ADDRS 64   /* addresses kept per side */
#define MAX_MATCHES 16 /* fingerprint matches taken per value */
#define TITLE_WORDS 64 /* long words compared per title */
#define MIN_WORD 5     /* "longer than 4" (ts-017 title_match) */

/*
 * Fingerprint scans cost (values x fingerprints), so they look at less
 * than the rest, still more than the probe records: 2 lookups per host of
 * at most 64 answers, at most 11 requests (10 redirects), 64 KiB of body.
 */
#define FP_MAX_LOOKUPS 64
#define FP_MAX_ANSWERS 64
#define FP_MAX_HOPS 16
#define MAX_BODY (256u << 10)
#define MAX_B64 (MAX_BODY / 3 * 4) /* base64 of MAX_BODY bytes */

enum blocking {
	BL_NULL,
	BL_FALSE,
	BL_DNS,
	BL_TCP_IP,
	BL_TLS,
	BL_HTTP_FAILURE,
	BL_HTTP_DIFF,
};

static const char *const blocking_names[] = {
	[BL_DNS] = "dns",
	[BL_TCP_IP] = "tcp_ip",
	[BL_TLS] = "tls",
	[BL_HTTP_FAILURE] = "http-failure",
	[BL_HTTP_DIFF] = "http-diff",
};

enum tri { TRI_NULL, TRI_FALSE, TRI_TRUE };

/* What one observation says. */
enum outcome { OC_UNKNOWN, OC_OK, OC_FAILED };

struct ip {
	int family;
	unsigned char a[16];
};

struct verdict {
	enum blocking blocking;
	enum tri accessible;
	const char *detail;  /* static string or NULL */
	const char *reason;  /* static string */
	const char *failure; /* http_experiment_failure, borrowed from m */
};

struct ctx {
	json_t *tk;
	const struct ww_fingerprints *fp;
	const char *cc;
	struct ww_target t;
	bool have_target;
	/* the probe's lookups of the target's host */
	bool dns_observed;
	struct ip addrs[MAX_ADDRS];
	size_t n_addrs;
	const char *dns_failure; /* when no address came */
	/* the control (NULL: none answered) and its lookup */
	json_t *control;
	enum outcome ctl_dns;
	struct ip ctl_addrs[MAX_ADDRS];
	size_t n_ctl_addrs;
	/* comparison keys */
	const char *consistency;
	enum tri body_length_match, status_code_match, headers_match,
		title_match;
	bool have_proportion;
	double proportion;
	/* fingerprints */
	json_t *fp_names;
	bool fp_dns, fp_http; /* a match that confirms */
	bool confirmed;
	struct verdict v;
};

/* --- JSON access that never trusts the type ------------------------------- */

static json_t *
jget(const json_t *o, const char *k)
{
	return json_is_object(o) ? json_object_get(o, k) : NULL;
}

static json_t *
jobj(const json_t *o, const char *k)
{
	json_t *v = jget(o, k);

	return json_is_object(v) ? v : NULL;
}

static json_t *
jarr(const json_t *o, const char *k)
{
	json_t *v = jget(o, k);

	return json_is_array(v) ? v : NULL;
}

static const char *
jstr(const json_t *o, const char *k)
{
	return json_string_value(jget(o, k));
}

static bool
jtrue(const json_t *o, const char *k)
{
	return json_is_true(jget(o, k));
}

static bool
jint(const json_t *o, const char *k, long long *out)
{
	json_t *v = jget(o, k);

	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

/* Elements of a to look at (0 when a is not an array). */
static size_t
jlen(const json_t *a)
{
	size_t n = json_array_size(a);

	return n < MAX_ITEMS ? n : MAX_ITEMS;
}

/* The "failure" key: a non-empty string, else NULL (null or odd). */
static const char *
jfailure(const json_t *o)
{
	const char *s = jstr(o, "failure");

	return s != NULL && *s != '\0' ? s : NULL;
}

static bool
is(const char *s, const char *want)
{
	return s != NULL && strcmp(s, want) == 0;
}

/* --- addresses ------------------------------------------------------------ */

static bool
ip_parse(const char *s, struct ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (s == NULL)
		return false;
	if (inet_pton(AF_INET, s, ip->a) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, s, ip->a) == 1)
		ip->family = AF_INET6;
	return ip->family != 0;
}

static bool
ip_eq(const struct ip *x, const struct ip *y)
{
	return x->family == y->family && memcmp(x->a, y->a, 16) == 0;
}

static bool
ip_in(const struct ip *ip, const struct ip *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ip_eq(ip, &set[i]))
			return true;
	return false;
}

static void
ip_add(struct ip *set, size_t *n, const struct ip *ip)
{
	if (*n < MAX_ADDRS && !ip_in(ip, set, *n))
		set[(*n)++] = *ip;
}

static bool
ip_is_bogon(const struct ip *ip)
{
	char text[INET6_ADDRSTRLEN];

	return inet_ntop(ip->family, ip->a, text, sizeof(text)) != NULL &&
	       ww_ip_is_bogon(text);
}

/* "ip:port" or "[ipv6]:port", as in the control's maps. */
static bool
endpoint_parse(const char *key, struct ip *ip, long *port)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = key != NULL ? strrchr(key, ':') : NULL;
	size_t n;

	if (colon == NULL || ww_parse_long(colon + 1, 1, 65535, port) != 0)
		return false;
	n = (size_t)(colon - key);
	if (n >= 2 && key[0] == '[' && key[n - 1] == ']') {
		key++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, key, n);
	host[n] = '\0';
	return ip_parse(host, ip);
}

/* The endpoint of a tcp_connect or tls_handshakes entry. */
static bool
entry_endpoint(const json_t *e, struct ip *ip, long *port)
{
	long long p;

	if (ip_parse(jstr(e, "ip"), ip) && jint(e, "port", &p) && p > 0 &&
	    p <= 65535) {
		*port = (long)p;
		return true;
	}
	return endpoint_parse(jstr(e, "address"), ip, port);
}

/* The control map's entry (tcp_connect, tls_handshake) for ip:port. */
static json_t *
ctl_entry(const struct ctx *c, const char *map, const struct ip *ip, long port)
{
	json_t *o = jobj(c->control, map);
	struct ip kip;
	long kport;
	size_t seen = 0;

	for (void *it = json_object_iter(o); it != NULL && seen++ < MAX_ITEMS;
	     it = json_object_iter_next(o, it))
		if (endpoint_parse(json_object_iter_key(it), &kip, &kport) &&
		    kport == port && ip_eq(&kip, ip))
			return json_object_iter_value(it);
	return NULL;
}

/* Host names from JSON against the target's (lower case, no dot). */
static bool
host_eq(const char *s, const char *host)
{
	size_t n, h = strlen(host);

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n > 0 && s[n - 1] == '.')
		n--;
	return n == h && strncasecmp(s, host, n) == 0;
}

/* --- collecting observations ---------------------------------------------- */

static void
add_answers(struct ctx *c, const json_t *answers)
{
	struct ip ip;

	for (size_t i = 0; i < jlen(answers); i++) {
		const json_t *a = json_array_get(answers, i);
		const char *v = jstr(a, "ipv4");

		if (v == NULL)
			v = jstr(a, "ipv6");
		if (ip_parse(v, &ip))
			ip_add(c->addrs, &c->n_addrs, &ip);
	}
}

/*
 * The probe's A and AAAA lookups of the target's host (redirect hosts are
 * appended to queries too; they are not the target's DNS). A lookup counts
 * when it has a failure string, or a null failure and an answers array.
 */
static void
collect_dns(struct ctx *c)
{
	const json_t *qs = jarr(c->tk, "queries");
	const char *fail_a = NULL, *fail_other = NULL;
	struct ip ip;

	if (c->t.host_is_ip) {
		if (ip_parse(c->t.host, &ip))
			ip_add(c->addrs, &c->n_addrs, &ip);
		return;
	}
	for (size_t i = 0; i < jlen(qs); i++) {
		const json_t *q = json_array_get(qs, i);
		const char *f = jfailure(q);

		if (!host_eq(jstr(q, "hostname"), c->t.host))
			continue;
		if (f == NULL && !(json_is_null(jget(q, "failure")) &&
				   jarr(q, "answers") != NULL))
			continue;
		c->dns_observed = true;
		add_answers(c, jarr(q, "answers"));
		if (f != NULL && is(jstr(q, "query_type"), "A"))
			fail_a = fail_a ? fail_a : f;
		else if (f != NULL)
			fail_other = fail_other ? fail_other : f;
	}
	/* getaddrinfo-like: the A lookup's failure speaks for the name; a
	 * NOERROR reply without addresses is OONI's dns_no_answer */
	if (c->dns_observed && c->n_addrs == 0)
		c->dns_failure = fail_a	      ? fail_a
				 : fail_other ? fail_other
					      : failure_dns_no_answer;
}

static void
collect_control(struct ctx *c)
{
	const json_t *dns;
	const json_t *addrs;
	struct ip ip;

	c->control = jobj(c->tk, "control");
	dns = jobj(c->control, "dns");
	addrs = jarr(dns, "addrs");
	if (dns == NULL)
		c->ctl_dns = OC_UNKNOWN;
	else if (jfailure(dns) != NULL)
		c->ctl_dns = OC_FAILED;
	else
		c->ctl_dns = addrs != NULL ? OC_OK : OC_UNKNOWN;
	for (size_t i = 0; i < jlen(addrs); i++)
		if (ip_parse(json_string_value(json_array_get(addrs, i)), &ip))
			ip_add(c->ctl_addrs, &c->n_ctl_addrs, &ip);
}

/* --- TLS observations ----------------------------------------------------- */

enum tls_state { TS_UNKNOWN, TS_VERIFIED, TS_UNVERIFIED, TS_FAILED };

/* A probe handshake: verified, completed with a certificate that did not
 * verify, failed, or odd. */
static enum tls_state
tls_state(const json_t *hs)
{
	if (jtrue(hs, "handshake_done"))
		return jtrue(hs, "verified") ? TS_VERIFIED : TS_UNVERIFIED;
	if (json_is_false(jget(hs, "handshake_done")) && jfailure(hs) != NULL)
		return TS_FAILED;
	return TS_UNKNOWN;
}

/* The control's handshake for the same address: its "status" is false
 * for a completed handshake whose certificate did not verify, so
 * handshake_done and verified say more (docs/control-protocol.md). */
static enum tls_state
ctl_tls_state(const json_t *e)
{
	if (jtrue(e, "verified") ||
	    (jtrue(e, "status") && jget(e, "verified") == NULL))
		return TS_VERIFIED;
	if (jtrue(e, "handshake_done") || jtrue(e, "status"))
		return TS_UNVERIFIED;
	if (json_is_false(jget(e, "status")))
		return TS_FAILED;
	return TS_UNKNOWN;
}

/* Our sni_role, or for data without it, the server name. */
static bool
is_target_hs(const struct ctx *c, const json_t *hs)
{
	const char *role = jstr(hs, "sni_role");

	if (role != NULL)
		return strcmp(role, "target") == 0;
	return host_eq(jstr(hs, "server_name"), c->t.host);
}

static bool
is_neutral_hs(const struct ctx *c, const json_t *hs)
{
	const char *role = jstr(hs, "sni_role");

	if (role != NULL)
		return strcmp(role, "control") == 0;
	return !host_eq(jstr(hs, "server_name"), c->t.host);
}

/* The probe's neutral-SNI handshake on ip:port, or NULL. */
static const json_t *
neutral_hs(const struct ctx *c, const struct ip *ip, long port)
{
	const json_t *hss = jarr(c->tk, "tls_handshakes");
	struct ip hip;
	long hport;

	for (size_t i = 0; i < jlen(hss); i++) {
		const json_t *hs = json_array_get(hss, i);

		if (is_neutral_hs(c, hs) && entry_endpoint(hs, &hip, &hport) &&
		    hport == port && ip_eq(&hip, ip))
			return hs;
	}
	return NULL;
}

/*
 * Did TLS prove that ip serves the target's name? A handshake with the
 * target's SNI that verified, from the probe or from the control (which
 * also connects to the probe's addresses). This is how OONI's "TLS proved
 * the addresses valid" keeps CDNs from looking like DNS tampering.
 */
static bool
tls_proves(const struct ctx *c, const struct ip *ip)
{
	const json_t *hss = jarr(c->tk, "tls_handshakes");
	struct ip hip;
	long port;

	for (size_t i = 0; i < jlen(hss); i++) {
		const json_t *hs = json_array_get(hss, i);

		if (is_target_hs(c, hs) && tls_state(hs) == TS_VERIFIED &&
		    entry_endpoint(hs, &hip, &port) && ip_eq(&hip, ip))
			return true;
	}
	return ctl_tls_state(ctl_entry(c, "tls_handshake", ip, c->t.port)) ==
	       TS_VERIFIED;
}

/* --- comparison keys ------------------------------------------------------ */

/*
 * OONI's dns_consistency (ts-017; webconnectivitylte analysisclassic.go),
 * with TLS standing in for the ASN comparison we cannot make.
 */
static const char *
dns_consistency(const struct ctx *c)
{
	if (c->control == NULL || c->t.host_is_ip || !c->dns_observed ||
	    c->ctl_dns == OC_UNKNOWN)
		return NULL;
	if (c->n_addrs == 0) /* an expected failure is consistent */
		return c->ctl_dns == OC_OK && c->n_ctl_addrs > 0
			       ? "inconsistent"
			       : "consistent";
	if (c->ctl_dns == OC_FAILED || c->n_ctl_addrs == 0)
		return "inconsistent";
	for (size_t i = 0; i < c->n_addrs; i++)
		if (ip_in(&c->addrs[i], c->ctl_addrs, c->n_ctl_addrs) ||
		    tls_proves(c, &c->addrs[i]))
			return "consistent";
	return "inconsistent";
}

/* requests[] is newest first: [0] is the final hop. */
static const json_t *
final_request(const struct ctx *c)
{
	return json_array_get(jarr(c->tk, "requests"), 0);
}

static const json_t *
final_response(const struct ctx *c, long long *code)
{
	const json_t *r = jobj(final_request(c), "response");

	return r != NULL && jint(r, "code", code) && *code > 0 ? r : NULL;
}

static enum outcome
ctl_http(const struct ctx *c, long long *code)
{
	const json_t *h = jobj(c->control, "http_request");

	if (h == NULL)
		return OC_UNKNOWN;
	if (jfailure(h) != NULL)
		return OC_FAILED;
	return jint(h, "status_code", code) && *code > 0 ? OC_OK : OC_UNKNOWN;
}

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
 * (OONI's list, probe-cli internal/minipipeline/httpdiff.go). */
static const char *const common_headers[] = {
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

static void
compute_http_diff(struct ctx *c)
{
	long long code, ctl_code;
	const json_t *resp = final_response(c, &code);
	const json_t *ctl = jobj(c->control, "http_request");

	if (resp == NULL || ctl_http(c, &ctl_code) != OC_OK)
		return;
	body_proportion(c, resp, ctl);
	c->status_code_match = status_match(code, ctl_code);
	c->headers_match =
		headers_match(jobj(resp, "headers"), jobj(ctl, "headers"));
	c->title_match = title_match(jstr(resp, "title"), jstr(ctl, "title"));
}

/* --- fingerprints --------------------------------------------------------- */

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
		if (ww_fingerprint_location(m[i]) == WW_FP_DNS)
			c->fp_dns = true;
		else
			c->fp_http = true;
	}
}

/* Every A, AAAA and CNAME answer of every lookup (a forged answer for a
 * redirect's host is tampering too). */
static void
match_dns_fingerprints(struct ctx *c)
{
	static const char *const keys[] = {"ipv4", "ipv6", "hostname"};
	const struct ww_fingerprint *m[MAX_MATCHES];
	const json_t *qs = jarr(c->tk, "queries");

	for (size_t i = 0; i < jlen(qs) && i < FP_MAX_LOOKUPS; i++) {
		const json_t *ans = jarr(json_array_get(qs, i), "answers");

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
static void
match_http_fingerprints(struct ctx *c)
{
	const json_t *reqs = jarr(c->tk, "requests");

	for (size_t i = 0; i < jlen(reqs) && i < FP_MAX_HOPS; i++) {
		const json_t *resp = jobj(json_array_get(reqs, i), "response");

		if (resp == NULL)
			continue;
		match_body(c, resp);
		match_headers(c, resp);
	}
}

/* --- setting the verdict -------------------------------------------------- */

static bool
set_verdict(struct ctx *c, enum blocking b, enum tri accessible,
	    const char *detail, const char *reason, const char *failure)
{
	c->v.blocking = b;
	c->v.accessible = accessible;
	c->v.detail = detail;
	c->v.reason = reason;
	c->v.failure = failure;
	return true;
}

static bool
set_null(struct ctx *c, const char *reason, const char *failure)
{
	return set_verdict(c, BL_NULL, TRI_NULL, NULL, reason, failure);
}

static bool
set_blocked(struct ctx *c, enum blocking b, const char *detail,
	    const char *reason, const char *failure)
{
	return set_verdict(c, b, TRI_FALSE, detail, reason, failure);
}

/* The control failed the same step: the site is down, not blocked. */
static bool
set_down(struct ctx *c, const char *failure)
{
	return set_verdict(c, BL_FALSE, TRI_FALSE, NULL, "down", failure);
}

static bool
set_accessible(struct ctx *c, const char *reason)
{
	return set_verdict(c, BL_FALSE, TRI_TRUE, NULL, reason, NULL);
}

/* --- failure strings to details ------------------------------------------- */

static const char *
dns_detail(const char *f)
{
	if (is(f, failure_dns_nxdomain))
		return "dns.nxdomain";
	if (is(f, failure_dns_no_answer))
		return "dns.no_answer";
	if (is(f, failure_dns_servfail))
		return "dns.servfail";
	if (is(f, failure_dns_refused))
		return "dns.refused";
	if (is(f, failure_generic_timeout))
		return "dns.timeout";
	return "dns.failure";
}

/* A RST in answer to the SYN (connection_refused) is how a censor on the
 * path refuses a connection, as the GFW's port blocks do: tcp.reset, like
 * a reset of a connection that had just opened. */
static const char *
tcp_detail(const char *f)
{
	if (is(f, failure_generic_timeout))
		return "tcp.timeout";
	if (is(f, failure_connection_refused) ||
	    is(f, failure_connection_reset))
		return "tcp.reset";
	return "tcp.failure";
}

static const char *
tls_detail(const char *f)
{
	if (is(f, failure_connection_reset))
		return "tls.reset";
	if (is(f, failure_generic_timeout))
		return "tls.timeout";
	if (is(f, failure_eof))
		return "tls.eof";
	return "tls.failed";
}

static const char *
http_detail(const char *f)
{
	if (is(f, failure_connection_reset))
		return "http.reset";
	if (is(f, failure_generic_timeout))
		return "http.timeout";
	if (is(f, failure_eof))
		return "http.eof";
	return "http.failure";
}

/* --- the steps ------------------------------------------------------------ */

/* A fingerprint proves blocking whatever else happened, even without a
 * control (as OONI's fastpath does). DNS first: a forged answer is the
 * cause of the blockpage served from it. */
static bool
decide_fingerprints(struct ctx *c)
{
	c->confirmed = c->fp_dns || c->fp_http;
	if (c->fp_dns)
		return set_blocked(c, BL_DNS, "dns.injected", "dns_injected",
				   NULL);
	if (c->fp_http)
		return set_blocked(c, BL_HTTP_DIFF, "http.blockpage",
				   "http_blockpage", NULL);
	return false;
}

/* A step stopped by SIGINT/SIGTERM says nothing about the network. */
static bool
any_interrupted(const struct ctx *c)
{
	static const char *const arrays[] = {"queries", "tcp_connect",
					     "tls_handshakes", "requests"};

	for (size_t a = 0; a < WW_ARRAY_LEN(arrays); a++) {
		const json_t *arr = jarr(c->tk, arrays[a]);

		for (size_t i = 0; i < jlen(arr); i++) {
			const json_t *e = json_array_get(arr, i);

			if (is(jfailure(e), failure_interrupted) ||
			    is(jfailure(jobj(e, "status")),
			       failure_interrupted))
				return true;
		}
	}
	return false;
}

static bool
probe_only_bogon(const struct ctx *c)
{
	for (size_t i = 0; i < c->n_addrs; i++)
		if (ip_is_bogon(&c->addrs[i]) &&
		    !ip_in(&c->addrs[i], c->ctl_addrs, c->n_ctl_addrs))
			return true;
	return false;
}

static bool
decide_dns(struct ctx *c)
{
	if (c->t.host_is_ip || !c->dns_observed)
		return false;
	if (c->n_addrs == 0) {
		if (c->ctl_dns == OC_UNKNOWN)
			return set_null(c, "control_incomplete", NULL);
		/* OONI: dns_no_answer against zero control addresses is
		 * "down" too */
		if (c->ctl_dns == OC_FAILED || c->n_ctl_addrs == 0)
			return set_down(c, NULL);
		return set_blocked(c, BL_DNS, dns_detail(c->dns_failure),
				   "dns_failure", NULL);
	}
	/* A private or reserved answer for a name the control resolves to
	 * public addresses: no public server lives there. */
	if (c->ctl_dns == OC_OK && c->n_ctl_addrs > 0 && probe_only_bogon(c))
		return set_blocked(c, BL_DNS, "dns.bogon", "dns_bogon", NULL);
	return false;
}

static enum outcome
tcp_outcome(const json_t *e, const char **failure)
{
	const json_t *st = jobj(e, "status");

	*failure = jfailure(st);
	if (jtrue(st, "success"))
		return OC_OK;
	if (json_is_false(jget(st, "success")) && *failure != NULL)
		return OC_FAILED;
	return OC_UNKNOWN;
}

static bool
tcp_connected(const struct ctx *c)
{
	const json_t *tcs = jarr(c->tk, "tcp_connect");
	const char *f;

	for (size_t i = 0; i < jlen(tcs); i++)
		if (tcp_outcome(json_array_get(tcs, i), &f) == OC_OK)
			return true;
	return false;
}

/* The control's connect to the same address and port. */
static enum outcome
ctl_tcp(const struct ctx *c, const struct ip *ip, long port)
{
	const json_t *e = ctl_entry(c, "tcp_connect", ip, port);

	if (jtrue(e, "status"))
		return OC_OK;
	return json_is_false(jget(e, "status")) ? OC_FAILED : OC_UNKNOWN;
}

/*
 * Only when no connect worked: a connect the control made to the same
 * address and port proves the path is at fault (tcp_ip); the control
 * failing there too means the server is down.
 */
static bool
decide_tcp(struct ctx *c)
{
	const json_t *tcs = jarr(c->tk, "tcp_connect");
	const char *blocked = NULL, *first = NULL, *f;
	bool all_down = true;
	struct ip ip;
	long port;

	if (tcp_connected(c))
		return false;
	for (size_t i = 0; i < jlen(tcs); i++) {
		const json_t *e = json_array_get(tcs, i);
		enum outcome ctl;

		if (tcp_outcome(e, &f) != OC_FAILED ||
		    !entry_endpoint(e, &ip, &port))
			continue;
		first = first ? first : f;
		ctl = ctl_tcp(c, &ip, port);
		if (ctl == OC_OK && blocked == NULL)
			blocked = f;
		if (ctl != OC_FAILED)
			all_down = false;
	}
	if (first == NULL)
		return false; /* no connect observed: a later step may tell */
	if (blocked != NULL)
		return set_blocked(c, BL_TCP_IP, tcp_detail(blocked),
				   "tcp_failure", blocked);
	if (all_down)
		return set_down(c, first);
	return set_null(c, "control_incomplete", first);
}

/* What one target-SNI handshake says, given the control and the probe's
 * own neutral-SNI handshake on the same address. */
enum tls_outcome {
	TO_SKIP,     /* not a usable observation */
	TO_OK,	     /* verified */
	TO_SNI,	     /* failed; the neutral SNI completed: name filtered */
	TO_ADDR,     /* failed; the neutral SNI failed too: address */
	TO_UNPROVEN, /* failed; no neutral handshake to compare */
	TO_MITM,     /* completed with a certificate the control did not get */
	TO_TRUST,    /* the control's own certificate, not trusted here */
	TO_DOWN,     /* the control failed too */
	TO_UNKNOWN,  /* no control data for this address */
};

static bool
same_leaf(const json_t *hs, const json_t *ctl)
{
	const char *p = jstr(json_array_get(jarr(hs, "peer_certificates"), 0),
			     "sha256");
	const char *q = jstr(ctl, "leaf_sha256");

	return p != NULL && q != NULL && strcasecmp(p, q) == 0;
}

static enum tls_outcome
tls_classify(const struct ctx *c, const json_t *hs)
{
	enum tls_state st = tls_state(hs), ctl_st;
	const json_t *ctl, *neutral;
	struct ip ip;
	long port;

	if (st == TS_VERIFIED)
		return TO_OK;
	if (st == TS_UNKNOWN || !entry_endpoint(hs, &ip, &port))
		return TO_SKIP;
	ctl = ctl_entry(c, "tls_handshake", &ip, port);
	ctl_st = ctl_tls_state(ctl);
	if (ctl_st == TS_UNKNOWN)
		return TO_UNKNOWN;
	if (st == TS_UNVERIFIED) {
		if (ctl_st != TS_VERIFIED)
			return TO_DOWN; /* the site's certificate is bad */
		return same_leaf(hs, ctl) ? TO_TRUST : TO_MITM;
	}
	/* failed: the control completing a handshake with this name on this
	 * address is what makes it interference (its certificate's validity
	 * does not matter to a reset or a timeout) */
	if (ctl_st == TS_FAILED)
		return TO_DOWN;
	neutral = neutral_hs(c, &ip, port);
	if (neutral == NULL || tls_state(neutral) == TS_UNKNOWN)
		return TO_UNPROVEN;
	return tls_state(neutral) == TS_FAILED ? TO_ADDR : TO_SNI;
}

static bool
set_tls_verdict(struct ctx *c, enum tls_outcome oc, const char *f)
{
	switch (oc) {
	case TO_SNI:
		return set_blocked(c, BL_TLS, tls_detail(f), "tls_sni_filtered",
				   f);
	case TO_UNPROVEN:
		return set_blocked(c, BL_TLS, tls_detail(f),
				   "tls_unexpected_failure", f);
	case TO_ADDR:
		return set_blocked(c, BL_TCP_IP, tls_detail(f),
				   "tls_address_filtered", f);
	case TO_MITM:
		return set_blocked(c, BL_TLS, "tls.mitm", "tls_mitm", f);
	case TO_TRUST:
		return set_null(c, "tls_trust_mismatch", f);
	case TO_DOWN:
		return set_down(c, f);
	default:
		return set_null(c, "control_incomplete", f);
	}
}

enum step { STEP_DECIDED, STEP_PASSED, STEP_UNOBSERVED };

/*
 * Only when no target-SNI handshake verified. The most telling address
 * decides: evidence of interference first, then the trust-store case,
 * then "down", then missing control data.
 */
static enum step
decide_tls(struct ctx *c)
{
	static const enum tls_outcome order[] = {TO_SNI,      TO_ADDR,	TO_MITM,
						 TO_UNPROVEN, TO_TRUST, TO_DOWN,
						 TO_UNKNOWN};
	const json_t *hss = jarr(c->tk, "tls_handshakes");
	const json_t *best = NULL;
	enum tls_outcome best_oc = TO_SKIP;
	size_t best_rank = WW_ARRAY_LEN(order);

	for (size_t i = 0; i < jlen(hss); i++) {
		const json_t *hs = json_array_get(hss, i);
		enum tls_outcome oc;

		if (!is_target_hs(c, hs))
			continue;
		oc = tls_classify(c, hs);
		if (oc == TO_OK)
			return STEP_PASSED;
		for (size_t r = 0; r < best_rank; r++)
			if (order[r] == oc) {
				best_rank = r;
				best_oc = oc;
				best = hs;
			}
	}
	if (best == NULL)
		return STEP_UNOBSERVED;
	set_tls_verdict(c, best_oc, jfailure(best));
	return STEP_DECIDED;
}

/* OONI's http-diff algorithm (webconnectivitylte analysishttpdiff.go). */
static bool
http_differs(const struct ctx *c)
{
	if (c->status_code_match == TRI_TRUE &&
	    (c->body_length_match == TRI_TRUE || c->headers_match == TRI_TRUE ||
	     c->title_match == TRI_TRUE))
		return false;
	return true;
}

/*
 * Over HTTPS nobody on the path can alter the page, so a different page
 * is the server's doing: a refusal (403, 451) where the control got 2xx,
 * or same status with a much shorter/longer body and no title word in
 * common. A page that merely changes per request keeps its title.
 */
static bool
server_side_differs(const struct ctx *c, long long code, long long ctl_code)
{
	if ((code == 403 || code == 451) && ctl_code / 100 == 2)
		return true;
	return c->status_code_match == TRI_TRUE &&
	       c->body_length_match == TRI_FALSE && c->title_match == TRI_FALSE;
}

static bool
final_is_https(const struct ctx *c)
{
	const char *url = jstr(jobj(final_request(c), "request"), "url");

	if (url == NULL)
		return c->t.kind == WW_TARGET_HTTPS;
	return strncasecmp(url, "https://", 8) == 0;
}

static bool
decide_response(struct ctx *c, long long code)
{
	long long ctl_code = 0;
	enum outcome ctl = ctl_http(c, &ctl_code);
	bool https = final_is_https(c);

	if (ctl == OC_OK && https)
		return server_side_differs(c, code, ctl_code)
			       ? set_blocked(c, BL_HTTP_DIFF,
					     "http.server_side",
					     "http_server_side", NULL)
			       : set_accessible(c, "expected_success");
	if (ctl == OC_OK)
		return http_differs(c)
			       ? set_blocked(c, BL_HTTP_DIFF, "http.diff",
					     "http_diff", NULL)
			       : set_accessible(c, "expected_success");
	/* A verified page is the site's even if the control could not get
	 * it; a plain-HTTP page might be anyone's. */
	if (https)
		return set_accessible(c, "unexpected_success");
	return set_null(c,
			ctl == OC_FAILED ? "control_http_failed"
					 : "control_incomplete",
			NULL);
}

/* requests[0] is the final hop: its response, or its failure (a failure
 * in a redirect's hop is still the fetch failing). */
static bool
decide_http(struct ctx *c)
{
	long long code = 0, ctl_code;
	const char *f = jfailure(final_request(c));

	if (final_response(c, &code) != NULL)
		return decide_response(c, code);
	if (f == NULL)
		return set_null(c, "no_observations", NULL);
	switch (ctl_http(c, &ctl_code)) {
	case OC_OK:
		return set_blocked(c, BL_HTTP_FAILURE, http_detail(f),
				   "http_failure", f);
	case OC_FAILED:
		return set_down(c, f);
	default:
		return set_null(c, "control_incomplete", f);
	}
}

static void
decide(struct ctx *c)
{
	enum ww_target_kind k = c->t.kind;
	enum step tls = STEP_UNOBSERVED;

	if (decide_fingerprints(c))
		return;
	if (!c->have_target) {
		set_null(c, "bad_input", NULL);
		return;
	}
	if (any_interrupted(c)) {
		set_null(c, "interrupted", NULL);
		return;
	}
	if (c->control == NULL) {
		set_null(c, "control_unavailable", NULL);
		return;
	}
	if (decide_dns(c) || decide_tcp(c))
		return;
	if (k == WW_TARGET_HTTPS || k == WW_TARGET_TLS)
		tls = decide_tls(c);
	if (tls == STEP_DECIDED)
		return;
	if (k == WW_TARGET_HTTP || k == WW_TARGET_HTTPS) {
		decide_http(c);
		return;
	}
	/* tcp:// and tls:// endpoints end here */
	if ((k == WW_TARGET_TLS && tls == STEP_PASSED) ||
	    (k == WW_TARGET_TCP && tcp_connected(c)))
		set_accessible(c, "expected_success");
	else
		set_null(c, "no_observations", NULL);
}

/* --- rules on top of the decision ----------------------------------------- */

/*
 * OONI's override (analysisclassic.go setBlocking*, setWebsiteDown): with
 * inconsistent DNS every outcome but success is blamed on DNS, since the
 * probe was not talking to the site at all.
 */
static void
apply_dns_consistency(struct ctx *c)
{
	const struct verdict *v = &c->v;

	if (!is(c->consistency, "inconsistent") || c->confirmed ||
	    v->blocking == BL_DNS ||
	    (v->blocking == BL_FALSE && v->accessible == TRI_TRUE) ||
	    is(v->reason, "interrupted") || is(v->reason, "bad_input") ||
	    is(v->reason, "tls_trust_mismatch"))
		return;
	set_blocked(c, BL_DNS, "dns.inconsistent", "dns_inconsistent",
		    v->failure);
}

/*
 * network_check.ok false: the run's domestic reference failed at every
 * step, so this network could not reach anything. Failures, odd answers
 * (a captive portal's) and odd pages then say nothing about censorship;
 * only a page that loaded, and a fingerprint, still count.
 */
static void
apply_network_check(struct ctx *c)
{
	const json_t *ok = jget(jobj(c->tk, "network_check"), "ok");

	if (!json_is_false(ok) || c->confirmed ||
	    (c->v.blocking == BL_FALSE && c->v.accessible == TRI_TRUE))
		return;
	set_null(c, "probe_offline", c->v.failure);
}

/* --- output --------------------------------------------------------------- */

static json_t *
tri_json(enum tri t)
{
	return t == TRI_NULL ? json_null() : json_boolean(t == TRI_TRUE);
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
blocking_json(enum blocking b)
{
	if (b == BL_NULL)
		return json_null();
	if (b == BL_FALSE)
		return json_false();
	return json_string(blocking_names[b]);
}

static void
write_keys(struct ctx *c)
{
	json_t *tk = c->tk, *a = json_object();
	const char *hf = c->v.failure;

	/* with no step to blame, the final request's own failure (OONI) */
	if (hf == NULL)
		hf = jfailure(final_request(c));
	json_object_set_new(a, "version", json_string(WW_ANALYSIS_VERSION));
	json_object_set_new(a, "reason", json_string(c->v.reason));
	json_object_set_new(a, "fingerprints", json_incref(c->fp_names));
	/* hf and dns_failure point into observations, never into the keys
	 * replaced here, and json_string() copies them anyway */
	json_object_set_new(tk, "http_experiment_failure", str_or_null(hf));
	json_object_set_new(tk, "dns_experiment_failure",
			    str_or_null(c->dns_failure));
	json_object_set_new(tk, "blocking", blocking_json(c->v.blocking));
	json_object_set_new(tk, "accessible", tri_json(c->v.accessible));
	json_object_set_new(tk, "blocking_detail", str_or_null(c->v.detail));
	json_object_set_new(tk, "confirmed", json_boolean(c->confirmed));
	json_object_set_new(tk, "dns_consistency", str_or_null(c->consistency));
	json_object_set_new(tk, "body_length_match",
			    tri_json(c->body_length_match));
	json_object_set_new(tk, "status_code_match",
			    tri_json(c->status_code_match));
	json_object_set_new(tk, "headers_match", tri_json(c->headers_match));
	json_object_set_new(tk, "title_match", tri_json(c->title_match));
	json_object_set_new(tk, "body_proportion",
			    c->have_proportion ? json_real(c->proportion)
					       : json_null());
	json_object_set_new(tk, "analysis", a);
}

int
ww_analyze(json_t *m, const struct ww_fingerprints *fp, char *err,
	   size_t errlen)
{
	struct ctx *c;
	json_t *tk = jobj(m, "test_keys");
	char terr[256];

	if (tk == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "not a measurement: %s",
				 json_is_object(m) ? "no test_keys object"
						   : "not a JSON object");
		return -1;
	}
	c = xcalloc(1, sizeof(*c));
	c->tk = tk;
	c->fp = fp;
	c->cc = jstr(m, "probe_cc");
	c->fp_names = json_array();
	c->have_target = jstr(m, "input") != NULL &&
			 ww_target_parse(jstr(m, "input"), &c->t, terr,
					 sizeof(terr)) == 0;
	if (c->have_target) {
		collect_dns(c);
		collect_control(c);
		c->consistency = dns_consistency(c);
		compute_http_diff(c);
	}
	match_dns_fingerprints(c);
	match_http_fingerprints(c);
	decide(c);
	apply_dns_consistency(c);
	apply_network_check(c);
	write_keys(c);
	json_decref(c->fp_names);
	ww_target_clear(&c->t);
	free(c);
	return 0;
}
