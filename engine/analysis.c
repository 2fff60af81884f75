/*
 * analysis.c - the verdict on one measurement (see analysis.h and, for the
 * rules and their sources, docs/verdicts.md).
 *
 * Shape: collect what the probe and the control observed into a small
 * context (every JSON access is type-checked: anything odd is "not
 * observed"), rebuild the redirect chain (one hop per request), compute
 * OONI's comparison keys, then walk the chain: at each hop the steps in
 * order (DNS, TCP, TLS, HTTP), each compared with what the control saw for
 * the same name, endpoint or URL. The first step that stops the probe
 * decides, and names the hop; a chain that reaches its last response is
 * judged by that page. Two rules then apply on top: a forged DNS answer
 * takes the blame for a fetch that failed through it, and a run whose
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
#define MAX_BODY (256u << 10)
#define MAX_B64 (MAX_BODY / 3 * 4) /* base64 of MAX_BODY bytes */

/* Hops read per side: the probe follows 10 redirects (11 requests). */
#define MAX_HOPS 16

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
	int hop;	     /* the hop whose step decided, -1: none */
};

/* One hop of the probe's chain: hop 0 is the input, hop k the k-th
 * redirect's URL. */
struct hop {
	const json_t *req; /* its request (NULL: none recorded) */
	const char *url;   /* its URL (hop 0: the input when no request) */
	struct ww_target t;
	bool have_t; /* url parsed: scheme, host and port known */
	bool https;
	/* the probe's lookups of t.host, at whichever hop they were made */
	bool dns_observed;
	struct ip addrs[MAX_ADDRS];
	size_t n_addrs;
	const char *dns_failure; /* when no address came */
	/* the control's lookup of the same name */
	enum outcome ctl_dns;
	struct ip ctl_addrs[MAX_ADDRS];
	size_t n_ctl_addrs;
	const char *consistency; /* OONI's dns_consistency for this name */
	bool bogon; /* a probe-only bogon while the control resolved it */
	const json_t *ctl_hop; /* the control's hop with the same URL */
};

/* One element of the control's "hops" (docs/control-protocol.md). */
struct ctl_hop {
	const json_t *o;
	struct ww_target t;
	bool have_t;
};

struct ctx {
	json_t *tk;
	const struct ww_fingerprints *fp;
	const char *cc;
	struct ww_target t;
	bool have_target;
	/* the probe's chain */
	struct hop hops[MAX_HOPS];
	size_t n_hops;
	bool req_hop_keys; /* some request has "hop"; else position counts */
	/* the control (NULL: none answered) and its chain */
	json_t *control;
	struct ctl_hop ctl_hops[MAX_HOPS];
	size_t n_ctl_hops;
	/* comparison keys of the final response */
	bool have_keys;
	enum tri body_length_match, status_code_match, headers_match,
		title_match;
	bool have_proportion;
	double proportion;
	bool empty_body; /* the probe's body is empty, the control's not */
	bool tiny_body;	 /* under WW_BODY_TINY of the control's */
	const char *title, *ctl_title;
	/* fingerprints */
	json_t *fp_names;
	bool fp_dns, fp_http; /* a match that confirms */
	int fp_dns_hop, fp_http_hop;
	bool confirmed;
	int cur_hop; /* the hop being decided, for set_verdict() */
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

static bool
jnum(const json_t *o, const char *k, double *out)
{
	json_t *v = jget(o, k);

	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

/* A record's "hop": absent counts as hop 0 (data from before hops, OONI's
 * data); -1 for a value that is not a hop. */
static long long
rec_hop(const json_t *e)
{
	long long h;

	if (jget(e, "hop") == NULL)
		return 0;
	return jint(e, "hop", &h) && h >= 0 && h < MAX_HOPS ? h : -1;
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

/* --- the chain of hops ---------------------------------------------------- */

/* The hop of requests[i]: its "hop"; in data without any (older data,
 * OONI's), its position from the end, since requests are newest first. */
static long long
req_hop(const struct ctx *c, size_t i, size_t n)
{
	const json_t *r = json_array_get(jarr(c->tk, "requests"), i);
	long long h;

	if (!c->req_hop_keys)
		return n - 1 - i < MAX_HOPS ? (long long)(n - 1 - i) : -1;
	return jint(r, "hop", &h) && h >= 0 && h < MAX_HOPS ? h : -1;
}

static const char *
req_url(const json_t *r)
{
	return jstr(jobj(r, "request"), "url");
}

/* A URL's scheme, host and port through ww_target_parse; hops of another
 * scheme (a redirect to ftp://) are left unparsed. */
static bool
parse_url(const char *url, struct ww_target *t)
{
	char err[256];

	if (url == NULL || ww_target_parse(url, t, err, sizeof(err)) != 0)
		return false;
	if (t->kind == WW_TARGET_HTTP || t->kind == WW_TARGET_HTTPS)
		return true;
	ww_target_clear(t);
	return false;
}

/* What follows the authority: path and query, without the fragment; an
 * empty path is "/" (RFC 9110 section 4.2.3). */
static void
url_rest(const char *u, const char **rest, size_t *len, bool *slash)
{
	const char *p = strstr(u, "://");

	p = p != NULL ? p + 3 : u;
	p += strcspn(p, "/?#");
	*rest = p;
	*len = strcspn(p, "#");
	*slash = *p != '/'; /* "/" is implied before it */
}

/* Same URL: same scheme, host and port (as parsed: case, default port and
 * IDNA do not matter), same path and, with query, the same query. */
static bool
url_match(const struct ww_target *a, const char *ua, const struct ww_target *b,
	  const char *ub, bool query)
{
	const char *ra, *rb;
	size_t la, lb;
	bool sa, sb;

	if (ua == NULL || ub == NULL || a->kind != b->kind ||
	    a->port != b->port || strcmp(a->host, b->host) != 0)
		return false;
	url_rest(ua, &ra, &la, &sa);
	url_rest(ub, &rb, &lb, &sb);
	if (!query) { /* the path alone: up to the '?' */
		size_t qa = strcspn(ra, "?"), qb = strcspn(rb, "?");

		la = qa < la ? qa : la;
		lb = qb < lb ? qb : lb;
	}
	/* one has the "/" the other implies: compare what follows it */
	if (sa != sb) {
		const char **r = sa ? &rb : &ra;
		size_t *l = sa ? &lb : &la;

		if (*l == 0 || **r != '/')
			return false;
		(*r)++;
		(*l)--;
	}
	return la == lb && memcmp(ra, rb, la) == 0;
}

static bool
url_eq(const struct ww_target *a, const char *ua, const struct ww_target *b,
       const char *ub)
{
	return url_match(a, ua, b, ub, true);
}

/* The control's hops (new controls only; OONI's test helper and older
 * controls have none). An empty array says no more than a missing one. */
static void
collect_control_hops(struct ctx *c)
{
	const json_t *hops = jarr(c->control, "hops");
	size_t n = jlen(hops) < MAX_HOPS ? jlen(hops) : MAX_HOPS;

	for (size_t i = 0; i < n; i++) {
		struct ctl_hop *h = &c->ctl_hops[i];

		h->o = json_array_get(hops, i);
		if (!json_is_object(h->o))
			h->o = NULL;
		h->have_t = parse_url(jstr(h->o, "url"), &h->t);
	}
	c->n_ctl_hops = n;
}

/*
 * A URL that we cannot fetch (a Location to ftp://, an empty label, bytes
 * that are not UTF-8): the control's hop that names the same text. Both
 * engines record such a hop with the text they were given, so the same
 * broken redirect is the same string on both sides.
 */
static const json_t *
match_ctl_hop_text(const struct ctx *c, size_t k)
{
	const struct hop *h = &c->hops[k];
	const struct ctl_hop *ck = k < c->n_ctl_hops ? &c->ctl_hops[k] : NULL;

	if (h->url == NULL)
		return NULL;
	if (ck != NULL && is(jstr(ck->o, "url"), h->url))
		return ck->o;
	for (size_t i = 0; i < c->n_ctl_hops; i++)
		if (is(jstr(c->ctl_hops[i].o, "url"), h->url))
			return c->ctl_hops[i].o;
	return NULL;
}

/*
 * The control's hop for probe hop k: hops[k] when the URLs are equal, else
 * the control hop with the same URL, else hops[k] when only the query
 * differs (a redirect to "/landing/?sid=<random>" names another query for
 * every client: the same resource at the same place in the chain), else
 * none (the chains diverged).
 */
static const json_t *
match_ctl_hop(const struct ctx *c, size_t k)
{
	const struct hop *h = &c->hops[k];
	const struct ctl_hop *ck = k < c->n_ctl_hops ? &c->ctl_hops[k] : NULL;

	if (!h->have_t)
		return match_ctl_hop_text(c, k);
	if (ck != NULL && ck->have_t &&
	    url_eq(&h->t, h->url, &ck->t, jstr(ck->o, "url")))
		return ck->o;
	for (size_t i = 0; i < c->n_ctl_hops; i++)
		if (c->ctl_hops[i].have_t &&
		    url_eq(&h->t, h->url, &c->ctl_hops[i].t,
			   jstr(c->ctl_hops[i].o, "url")))
			return c->ctl_hops[i].o;
	if (ck != NULL && ck->have_t &&
	    url_match(&h->t, h->url, &ck->t, jstr(ck->o, "url"), false))
		return ck->o;
	return NULL;
}

/* The probe's chain: one request per hop (the newest when a hop has
 * several), ending at the first hop without a request. */
static void
build_hops(struct ctx *c)
{
	const json_t *reqs = jarr(c->tk, "requests");
	size_t n = jlen(reqs);

	for (size_t i = 0; i < n && !c->req_hop_keys; i++)
		c->req_hop_keys = jget(json_array_get(reqs, i), "hop") != NULL;
	for (size_t i = 0; i < n; i++) {
		long long k = req_hop(c, i, n);

		if (k >= 0 && c->hops[k].req == NULL &&
		    json_is_object(json_array_get(reqs, i)))
			c->hops[k].req = json_array_get(reqs, i);
	}
	c->n_hops = 1;
	while (c->n_hops < MAX_HOPS && c->hops[c->n_hops].req != NULL)
		c->n_hops++;
	for (size_t k = 0; k < c->n_hops; k++) {
		struct hop *h = &c->hops[k];

		h->url = req_url(h->req);
		if (k == 0) {
			/* the input is what was measured, whatever the
			 * request's spelling of it */
			ww_target_copy(&h->t, &c->t);
			h->have_t = true;
			if (h->url == NULL)
				h->url = c->t.input;
		} else {
			h->have_t = parse_url(h->url, &h->t);
		}
		/* "over TLS" is the scheme of the URL fetched */
		h->https = h->url != NULL &&
			   strncasecmp(h->url, "https://", 8) == 0;
	}
}

/* The request at the end of the chain: the final response or failure. */
static const json_t *
final_request(const struct ctx *c)
{
	if (!c->have_target)
		return json_array_get(jarr(c->tk, "requests"), 0);
	return c->hops[c->n_hops - 1].req;
}

/* --- the control's observations, by name and endpoint --------------------- */

/*
 * A name's addresses, a connect and a handshake do not depend on the URL
 * that needed them, and each is made once per job (a later hop reuses an
 * earlier hop's lookup or connection), so they are looked up by name and
 * endpoint anywhere in the control's answer: the top-level keys (hop 0,
 * the input's name) first, then each hop's.
 */
static const json_t *
ctl_dns_obj(const struct ctx *c, const char *host)
{
	const json_t *d = jobj(c->control, "dns");

	if (d != NULL && strcmp(host, c->t.host) == 0)
		return d;
	for (size_t i = 0; i < c->n_ctl_hops; i++) {
		d = jobj(c->ctl_hops[i].o, "dns");
		if (d != NULL && host_eq(jstr(d, "host"), host))
			return d;
	}
	return NULL;
}

/* The entry of map (an "ip:port" object) for ip:port. */
static const json_t *
map_entry(const json_t *map, const struct ip *ip, long port)
{
	json_t *o = (json_t *)map;
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

/* The control's connect to ip:port. */
static enum outcome
ctl_tcp(const struct ctx *c, const struct ip *ip, long port)
{
	const json_t *e = map_entry(jobj(c->control, "tcp_connect"), ip, port);

	for (size_t i = 0; e == NULL && i < c->n_ctl_hops; i++)
		e = map_entry(jobj(c->ctl_hops[i].o, "tcp_connect"), ip, port);
	if (jtrue(e, "status"))
		return OC_OK;
	return json_is_false(jget(e, "status")) ? OC_FAILED : OC_UNKNOWN;
}

/* A control handshake entry is for host when its server_name says so or,
 * without one (OONI's), when its map is the one of host's hop. */
static bool
ctl_hs_for(const json_t *e, const char *host, const char *map_host)
{
	const char *sn = jstr(e, "server_name");

	if (sn != NULL)
		return host_eq(sn, host);
	return map_host != NULL && strcmp(map_host, host) == 0;
}

/* The control's handshake with host on ip:port (port -1: any port). With
 * want_verified, the first that verified; else the first. */
static const json_t *
ctl_hs_in(const json_t *map, const char *map_host, const struct ip *ip,
	  long port, const char *host, bool want_verified)
{
	json_t *o = (json_t *)map;
	struct ip kip;
	long kport;
	size_t seen = 0;

	for (void *it = json_object_iter(o); it != NULL && seen++ < MAX_ITEMS;
	     it = json_object_iter_next(o, it)) {
		const json_t *e = json_object_iter_value(it);

		if (endpoint_parse(json_object_iter_key(it), &kip, &kport) &&
		    (port < 0 || kport == port) && ip_eq(&kip, ip) &&
		    ctl_hs_for(e, host, map_host) &&
		    (!want_verified || ctl_tls_state(e) == TS_VERIFIED))
			return e;
	}
	return NULL;
}

static const json_t *
ctl_hs(const struct ctx *c, const struct ip *ip, long port, const char *host,
       bool want_verified)
{
	const json_t *e = ctl_hs_in(jobj(c->control, "tls_handshake"),
				    c->t.host, ip, port, host, want_verified);

	for (size_t i = 0; e == NULL && i < c->n_ctl_hops; i++)
		e = ctl_hs_in(jobj(c->ctl_hops[i].o, "tls_handshake"),
			      c->ctl_hops[i].have_t ? c->ctl_hops[i].t.host
						    : NULL,
			      ip, port, host, want_verified);
	return e;
}

static enum outcome
http_outcome(const json_t *h, long long *code)
{
	if (h == NULL)
		return OC_UNKNOWN;
	if (jfailure(h) != NULL)
		return OC_FAILED;
	return jint(h, "status_code", code) && *code > 0 ? OC_OK : OC_UNKNOWN;
}

/*
 * The control's fetch of hop h's URL: its hop with the same URL. A control
 * without hops (OONI's test helper, older controls) reports only its
 * final fetch, which stands for every hop: it got through them all, or
 * failed somewhere.
 */
static enum outcome
ctl_http_at(const struct ctx *c, const struct hop *h, const json_t **out)
{
	long long code;

	if (h->ctl_hop != NULL)
		*out = jobj(h->ctl_hop, "http_request");
	else if (c->n_ctl_hops == 0)
		*out = jobj(c->control, "http_request");
	else
		*out = NULL;
	return http_outcome(*out, &code);
}

/* The control's final fetch: "http_request", else its last hop's. */
static enum outcome
ctl_final(const struct ctx *c, const json_t **out, long long *code)
{
	*out = jobj(c->control, "http_request");
	if (*out == NULL && c->n_ctl_hops > 0)
		*out = jobj(c->ctl_hops[c->n_ctl_hops - 1].o, "http_request");
	return http_outcome(*out, code);
}

/*
 * A control without hops (OONI's test helper, version-1 controls) saw the
 * names and endpoints of later hops only on its way to its final fetch:
 * that fetch's outcome stands for their steps, as it does for their HTTP
 * (OONI judges every hop against it). UNKNOWN for hop 0, or when the
 * control reports hops (then a missing entry is missing).
 */
static enum outcome
ctl_stand_in(const struct ctx *c, size_t k)
{
	const json_t *ctl;
	long long code;

	if (k == 0 || c->n_ctl_hops > 0)
		return OC_UNKNOWN;
	return ctl_final(c, &ctl, &code);
}

/* --- the probe's observations per hop ------------------------------------- */

static void
add_answers(struct hop *h, const json_t *answers)
{
	struct ip ip;

	for (size_t i = 0; i < jlen(answers); i++) {
		const json_t *a = json_array_get(answers, i);
		const char *v = jstr(a, "ipv4");

		if (v == NULL)
			v = jstr(a, "ipv6");
		if (ip_parse(v, &ip))
			ip_add(h->addrs, &h->n_addrs, &ip);
	}
}

/*
 * The probe's A and AAAA lookups of the hop's name, at whichever hop they
 * were made (a name is resolved once per job). A lookup counts when it has
 * a failure string, or a null failure and an answers array.
 */
static void
collect_dns(const struct ctx *c, struct hop *h)
{
	const json_t *qs = jarr(c->tk, "queries");
	const char *fail_a = NULL, *fail_other = NULL;
	struct ip ip;

	if (h->t.host_is_ip) {
		if (ip_parse(h->t.host, &ip))
			ip_add(h->addrs, &h->n_addrs, &ip);
		return;
	}
	for (size_t i = 0; i < jlen(qs); i++) {
		const json_t *q = json_array_get(qs, i);
		const char *f = jfailure(q);

		if (!host_eq(jstr(q, "hostname"), h->t.host))
			continue;
		if (f == NULL && !(json_is_null(jget(q, "failure")) &&
				   jarr(q, "answers") != NULL))
			continue;
		h->dns_observed = true;
		add_answers(h, jarr(q, "answers"));
		if (f != NULL && is(jstr(q, "query_type"), "A"))
			fail_a = fail_a ? fail_a : f;
		else if (f != NULL)
			fail_other = fail_other ? fail_other : f;
	}
	/* getaddrinfo-like: the A lookup's failure speaks for the name; a
	 * NOERROR reply without addresses is OONI's dns_no_answer */
	if (h->dns_observed && h->n_addrs == 0)
		h->dns_failure = fail_a	      ? fail_a
				 : fail_other ? fail_other
					      : failure_dns_no_answer;
}

static void
collect_ctl_dns(const struct ctx *c, struct hop *h)
{
	const json_t *dns = ctl_dns_obj(c, h->t.host);
	const json_t *addrs = jarr(dns, "addrs");
	struct ip ip;

	if (dns == NULL)
		h->ctl_dns = OC_UNKNOWN;
	else if (jfailure(dns) != NULL)
		h->ctl_dns = OC_FAILED;
	else
		h->ctl_dns = addrs != NULL ? OC_OK : OC_UNKNOWN;
	for (size_t i = 0; i < jlen(addrs); i++)
		if (ip_parse(json_string_value(json_array_get(addrs, i)), &ip))
			ip_add(h->ctl_addrs, &h->n_ctl_addrs, &ip);
}

/* A record of hop h's endpoints: one of its name's addresses and its
 * port; when the name's lookup is not in the data, the record's own hop. */
static bool
in_hop(const struct hop *h, size_t k, const json_t *e, struct ip *ip,
       long *port)
{
	if (!entry_endpoint(e, ip, port) || *port != h->t.port)
		return false;
	if (h->n_addrs > 0)
		return ip_in(ip, h->addrs, h->n_addrs);
	return rec_hop(e) == (long long)k;
}

/* Our sni_role, or for data without it, the server name. */
static bool
is_target_hs(const json_t *hs, const char *host)
{
	const char *role = jstr(hs, "sni_role");

	if (role != NULL && strcmp(role, "target") != 0)
		return false;
	return host_eq(jstr(hs, "server_name"), host);
}

static bool
is_neutral_hs(const json_t *hs, const char *host)
{
	const char *role = jstr(hs, "sni_role");

	if (role != NULL)
		return strcmp(role, "control") == 0;
	return !host_eq(jstr(hs, "server_name"), host);
}

/* The probe's neutral-SNI handshake on ip:port, or NULL. */
static const json_t *
neutral_hs(const struct ctx *c, const struct ip *ip, long port,
	   const char *host)
{
	const json_t *hss = jarr(c->tk, "tls_handshakes");
	struct ip hip;
	long hport;

	for (size_t i = 0; i < jlen(hss); i++) {
		const json_t *hs = json_array_get(hss, i);

		if (is_neutral_hs(hs, host) &&
		    entry_endpoint(hs, &hip, &hport) && hport == port &&
		    ip_eq(&hip, ip))
			return hs;
	}
	return NULL;
}

/*
 * Did TLS prove that ip serves host? A handshake with that SNI that
 * verified, from the probe or from the control (which also connects to
 * the probe's addresses), on any port. This is how OONI's "TLS proved the
 * addresses valid" keeps CDNs from looking like DNS tampering.
 */
static bool
tls_proves(const struct ctx *c, const char *host, const struct ip *ip)
{
	const json_t *hss = jarr(c->tk, "tls_handshakes");
	struct ip hip;
	long port;

	for (size_t i = 0; i < jlen(hss); i++) {
		const json_t *hs = json_array_get(hss, i);

		if (is_target_hs(hs, host) && tls_state(hs) == TS_VERIFIED &&
		    entry_endpoint(hs, &hip, &port) && ip_eq(&hip, ip))
			return true;
	}
	return ctl_hs(c, ip, -1, host, true) != NULL;
}

/*
 * OONI's dns_consistency (ts-017; webconnectivitylte analysisclassic.go)
 * for the hop's name, with TLS standing in for the ASN comparison we
 * cannot make.
 */
static const char *
dns_consistency(const struct ctx *c, const struct hop *h)
{
	if (c->control == NULL || h->t.host_is_ip || !h->dns_observed ||
	    h->ctl_dns == OC_UNKNOWN)
		return NULL;
	if (h->n_addrs == 0) /* an expected failure is consistent */
		return h->ctl_dns == OC_OK && h->n_ctl_addrs > 0
			       ? "inconsistent"
			       : "consistent";
	if (h->ctl_dns == OC_FAILED || h->n_ctl_addrs == 0)
		return "inconsistent";
	for (size_t i = 0; i < h->n_addrs; i++)
		if (ip_in(&h->addrs[i], h->ctl_addrs, h->n_ctl_addrs) ||
		    tls_proves(c, h->t.host, &h->addrs[i]))
			return "consistent";
	return "inconsistent";
}

/* A private or reserved answer for a name the control resolves to other
 * addresses: no public server lives there. A bogon the control got too
 * (split horizon, a lab on loopback) is not one. */
static bool
probe_only_bogon(const struct hop *h)
{
	if (h->ctl_dns != OC_OK || h->n_ctl_addrs == 0)
		return false;
	for (size_t i = 0; i < h->n_addrs; i++)
		if (ip_is_bogon(&h->addrs[i]) &&
		    !ip_in(&h->addrs[i], h->ctl_addrs, h->n_ctl_addrs))
			return true;
	return false;
}

/* A private or reserved address the control's lookup gave too (the name
 * points there for everyone): the control does not connect to such
 * addresses, and no public server lives there, so it counts as failing
 * for the control too. */
static bool
shared_bogon(const struct hop *h, const struct ip *ip)
{
	return ip_is_bogon(ip) && ip_in(ip, h->ctl_addrs, h->n_ctl_addrs);
}

static void
collect_hops(struct ctx *c)
{
	build_hops(c);
	for (size_t k = 0; k < c->n_hops; k++) {
		struct hop *h = &c->hops[k];

		h->ctl_hop = match_ctl_hop(c, k);
		if (!h->have_t)
			continue;
		collect_dns(c, h);
		collect_ctl_dns(c, h);
		h->consistency = dns_consistency(c, h);
		h->bogon = probe_only_bogon(h);
	}
}

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
static const json_t *
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
static bool
chain_failure(const char *f)
{
	return is(f, "http_too_many_redirects") ||
	       is(f, failure_http_invalid_redirect_location_host);
}

static void
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
static bool
page_far(const struct ctx *c)
{
	return c->tiny_body || (titles_same(c) != TRI_TRUE && body_far(c));
}

/* OONI's http-diff algorithm (webconnectivitylte analysishttpdiff.go). */
static bool
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
static bool
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
static void
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
static void
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
	c->v.hop = c->cur_hop;
	return true;
}

static bool
set_null(struct ctx *c, const char *reason, const char *failure)
{
	return set_verdict(c, BL_NULL, TRI_NULL, NULL, reason, failure);
}

/* A null that no hop's step decided. */
static bool
set_null_nohop(struct ctx *c, const char *reason, const char *failure)
{
	c->cur_hop = -1;
	return set_null(c, reason, failure);
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

/*
 * Rule 8: failures that say the probe's own network is unusable, whatever
 * it tried to reach: no route (ENETUNREACH: the routing table has none,
 * the kernel sends nothing), the interface down, no usable source address
 * or address family. host_unreachable is not here: it is also what a
 * filter's ICMP reject ("host/admin prohibited") gives, and so evidence.
 */
static bool
is_local_failure(const char *f)
{
	return is(f, failure_network_unreachable) ||
	       is(f, failure_network_down) ||
	       is(f, failure_address_not_available) ||
	       is(f, failure_address_family_not_supported);
}

/* For DNS also connection_refused: c-ares could contact no resolver (it
 * could not send, or the resolver's host answered "port unreachable"). A
 * censor forges or drops answers; it does not make the resolver vanish for
 * one name. */
static bool
is_local_dns_failure(const char *f)
{
	return is_local_failure(f) || is(f, failure_connection_refused);
}

static bool
set_probe_offline(struct ctx *c, const char *failure)
{
	return set_null(c, "probe_offline", failure);
}

/* No control answered: no verdict, and no hop decided it. */
static bool
set_no_control(struct ctx *c)
{
	return set_null_nohop(c, "control_unavailable", NULL);
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

/* --- the steps ------------------------------------------------------------ */

/* A fingerprint proves blocking whatever else happened, even without a
 * control (as OONI's fastpath does). DNS first: a forged answer is the
 * cause of the blockpage served from it. */
static bool
decide_fingerprints(struct ctx *c)
{
	c->confirmed = c->fp_dns || c->fp_http;
	c->cur_hop = c->fp_dns ? c->fp_dns_hop : c->fp_http_hop;
	if (c->fp_dns)
		return set_blocked(c, BL_DNS, "dns.injected", "dns_injected",
				   NULL);
	if (c->fp_http)
		return set_blocked(c, BL_HTTP_DIFF, "http.blockpage",
				   "http_blockpage", NULL);
	c->cur_hop = -1;
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

/*
 * DNS of the hop's name: decides only when no address came. The control's
 * lookup of the same name tells blocking from a name that does not
 * resolve for anyone. A forged or bogon answer does not decide here: it
 * blocks only if the fetch through it fails (rule A) or shows another page.
 */
static bool
decide_dns(struct ctx *c, const struct hop *h)
{
	const char *f = h->dns_failure;
	/* hop 0's failure is dns_experiment_failure; a later hop's goes to
	 * http_experiment_failure, as OONI reports a redirect's lookup */
	const char *hf = c->cur_hop > 0 ? f : NULL;

	if (h->t.host_is_ip || !h->dns_observed || h->n_addrs > 0)
		return false;
	if (is_local_dns_failure(f))
		return set_probe_offline(c, hf);
	if (c->control == NULL)
		return set_no_control(c);
	if (h->ctl_dns == OC_UNKNOWN) {
		switch (ctl_stand_in(c, (size_t)c->cur_hop)) {
		case OC_OK:
			break;
		case OC_FAILED:
			return set_down(c, hf);
		default:
			return set_null(c, "control_incomplete", hf);
		}
	} else if (h->ctl_dns == OC_FAILED || h->n_ctl_addrs == 0) {
		/* OONI: dns_no_answer against zero control addresses is
		 * "down" too */
		return set_down(c, hf);
	}
	return set_blocked(c, BL_DNS, dns_detail(f), "dns_failure", hf);
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
tcp_connected(const struct ctx *c, const struct hop *h, size_t k)
{
	const json_t *tcs = jarr(c->tk, "tcp_connect");
	const char *f;
	struct ip ip;
	long port;

	for (size_t i = 0; i < jlen(tcs); i++) {
		const json_t *e = json_array_get(tcs, i);

		if (in_hop(h, k, e, &ip, &port) && tcp_outcome(e, &f) == OC_OK)
			return true;
	}
	return false;
}

/*
 * Only when no connect to the hop's endpoints worked: a connect the
 * control made to the same address and port proves the path is at fault
 * (tcp_ip); the control failing there too means the server is down.
 * Failures of the probe's own network are set aside: they say nothing
 * about the endpoint.
 */
static bool
decide_tcp(struct ctx *c, const struct hop *h, size_t k)
{
	const json_t *tcs = jarr(c->tk, "tcp_connect");
	const char *blocked = NULL, *first = NULL, *local = NULL, *f;
	enum outcome oc;
	bool all_down = true;
	struct ip ip;
	long port;

	if (tcp_connected(c, h, k))
		return false;
	for (size_t i = 0; i < jlen(tcs); i++) {
		const json_t *e = json_array_get(tcs, i);

		if (!in_hop(h, k, e, &ip, &port) ||
		    tcp_outcome(e, &f) != OC_FAILED)
			continue;
		if (is_local_failure(f)) {
			local = local ? local : f;
			continue;
		}
		first = first ? first : f;
		if (c->control == NULL)
			continue;
		oc = ctl_tcp(c, &ip, port);
		if (oc == OC_UNKNOWN && shared_bogon(h, &ip))
			oc = OC_FAILED;
		switch (oc == OC_UNKNOWN ? ctl_stand_in(c, k) : oc) {
		case OC_OK:
			blocked = blocked ? blocked : f;
			all_down = false;
			break;
		case OC_UNKNOWN:
			all_down = false;
			break;
		default:
			break;
		}
	}
	if (first == NULL) /* no connect observed: a later step may tell */
		return local != NULL ? set_probe_offline(c, local) : false;
	if (c->control == NULL)
		return set_no_control(c);
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
tls_classify(const struct ctx *c, const struct hop *h, size_t k,
	     const json_t *hs)
{
	enum tls_state st = tls_state(hs), ctl_st;
	const json_t *ctl, *neutral;
	struct ip ip;
	long port;

	if (st == TS_VERIFIED)
		return TO_OK;
	if (st == TS_UNKNOWN || !entry_endpoint(hs, &ip, &port))
		return TO_SKIP;
	ctl = ctl_hs(c, &ip, port, h->t.host, false);
	ctl_st = ctl_tls_state(ctl);
	/* a failed handshake at a later hop against a control without hops:
	 * its final fetch stands in (a certificate cannot be compared) */
	if (ctl_st == TS_UNKNOWN && st == TS_FAILED)
		switch (ctl_stand_in(c, k)) {
		case OC_OK:
			ctl_st = TS_VERIFIED;
			break;
		case OC_FAILED:
			ctl_st = TS_FAILED;
			break;
		default:
			break;
		}
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
	neutral = neutral_hs(c, &ip, port, h->t.host);
	if (neutral == NULL || tls_state(neutral) == TS_UNKNOWN)
		return TO_UNPROVEN;
	return tls_state(neutral) == TS_FAILED ? TO_ADDR : TO_SNI;
}

static bool
set_tls_verdict(struct ctx *c, enum tls_outcome oc, const char *f)
{
	if (is_local_failure(f))
		return set_probe_offline(c, f);
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
 * Only when no target-SNI handshake of the hop verified. The most telling
 * address decides: evidence of interference first, then the trust-store
 * case, then "down", then missing control data.
 */
static enum step
decide_tls(struct ctx *c, const struct hop *h, size_t k)
{
	static const enum tls_outcome order[] = {TO_SNI,      TO_ADDR,	TO_MITM,
						 TO_UNPROVEN, TO_TRUST, TO_DOWN,
						 TO_UNKNOWN};
	const json_t *hss = jarr(c->tk, "tls_handshakes");
	const json_t *best = NULL, *first = NULL;
	enum tls_outcome best_oc = TO_SKIP;
	size_t best_rank = WW_ARRAY_LEN(order);
	struct ip ip;
	long port;

	for (size_t i = 0; i < jlen(hss); i++) {
		const json_t *hs = json_array_get(hss, i);

		if (!is_target_hs(hs, h->t.host) ||
		    !in_hop(h, k, hs, &ip, &port))
			continue;
		if (tls_state(hs) == TS_VERIFIED)
			return STEP_PASSED;
		if (tls_state(hs) != TS_UNKNOWN)
			first = first ? first : hs;
	}
	if (first == NULL)
		return STEP_UNOBSERVED;
	if (c->control == NULL) {
		if (is_local_failure(jfailure(first)))
			set_probe_offline(c, jfailure(first));
		else
			set_no_control(c);
		return STEP_DECIDED;
	}
	for (size_t i = 0; i < jlen(hss); i++) {
		const json_t *hs = json_array_get(hss, i);
		enum tls_outcome oc;

		if (!is_target_hs(hs, h->t.host) ||
		    !in_hop(h, k, hs, &ip, &port))
			continue;
		oc = tls_classify(c, h, k, hs);
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
static bool
throttled(const json_t *req, const char *f, const json_t *ctl)
{
	struct xfer x;
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

/*
 * The hop's request failed (before or after the headers: a transfer cut
 * short is a failure too, whatever part of the body came). The control's
 * fetch of the same URL tells blocking from a site that fails for all.
 */
static bool
decide_http_failure(struct ctx *c, const struct hop *h, const char *f)
{
	const json_t *ctl;

	if (is_local_failure(f))
		return set_probe_offline(c, f);
	if (c->control == NULL)
		return set_no_control(c);
	switch (ctl_http_at(c, h, &ctl)) {
	case OC_OK:
		return set_blocked(c, BL_HTTP_FAILURE,
				   throttled(h->req, f, ctl) ? "http.throttled"
							     : http_detail(f),
				   "http_failure", f);
	case OC_FAILED:
		return set_down(c, f);
	default:
		return set_null(c, "control_incomplete", f);
	}
}

/*
 * The first hop j <= k whose name got a forged answer (inconsistent, or a
 * probe-only bogon) that mattered: j is k itself, or the chain left the
 * control's at the next hop (the forger answered otherwise than the
 * site). Without control hops that cannot be told, so any counts, as in
 * OONI. -1: none.
 */
static int
hijacked_hop(const struct ctx *c, size_t k)
{
	for (size_t j = 0; j <= k && j < c->n_hops; j++) {
		const struct hop *h = &c->hops[j];

		if (!is(h->consistency, "inconsistent") && !h->bogon)
			continue;
		if (j == k || c->n_ctl_hops == 0 ||
		    c->hops[j + 1].ctl_hop == NULL)
			return (int)j;
	}
	return -1;
}

/*
 * The final page over verified HTTPS (rules 3 and 4): nobody on the path
 * can alter it, so a different page is the site's doing (or its CDN's):
 * http.server_side. Different when the control got the page (2xx) and the
 * probe a status of another class (403, 451, a CAPTCHA's 503, a redirect
 * that went nowhere), or a 2xx page far from the control's (no title word
 * in common and a body length far from it).
 */
static bool
decide_https_page(struct ctx *c, long long code, long long ctl_code,
		  const char *f)
{
	bool c2 = ctl_code / 100 == 2, p2 = code / 100 == 2;

	if (c2 && (!p2 || page_far(c)))
		return set_blocked(c, BL_HTTP_DIFF, "http.server_side",
				   "http_server_side", f);
	/* neither got the page, for different reasons of the server's */
	if (!c2 && !p2 && code / 100 != ctl_code / 100)
		return set_down(c, f);
	return set_accessible(c, "expected_success");
}

/*
 * The final page over plain HTTP: OONI's http-diff, plus rule 3 (no title
 * word in common and a body far from the control's is another page,
 * whatever the headers). Through a forged answer the page must prove to
 * be the control's (rule 5): then the hijack was faithful, accessible.
 */
static bool
decide_http_page(struct ctx *c, size_t k, const char *f)
{
	bool differs = hijacked_hop(c, k) >= 0
			       ? !same_page_strict(c)
			       : ooni_http_differs(c) || page_far(c);

	if (differs)
		return set_blocked(c, BL_HTTP_DIFF, "http.diff", "http_diff",
				   f);
	return set_accessible(c, "expected_success");
}

/*
 * A 5xx or a 429 for the control is the site (or its CDN) refusing or
 * failing the control's vantage point, a data centre that anti-bot
 * services turn away: the control got no page to compare with. Against a
 * probe's 2xx it is a failed control fetch (rows 27, 28), not a
 * difference: a censor answering in the site's place sends its own page,
 * which a control that failed cannot tell from the site's.
 */
static bool
ctl_refused(long long ctl_code)
{
	return ctl_code / 100 == 5 || ctl_code == 429;
}

/* The chain's last response: compared with the control's final fetch,
 * whatever URL either ended at. f: a chain_failure() (the response is
 * the last redirect's) or NULL. A chain that ends on a redirect (a loop,
 * a Location that cannot be followed or none) got no page. */
static bool
decide_final(struct ctx *c, size_t k, long long code, const char *f)
{
	const struct hop *h = &c->hops[k];
	const json_t *ctl;
	long long ctl_code = 0;
	bool page = f == NULL && code / 100 != 3;
	enum outcome oc;

	if (c->control == NULL)
		return set_no_control(c);
	oc = ctl_final(c, &ctl, &ctl_code);
	if (oc == OC_OK && ctl_code / 100 == 3)
		oc = OC_FAILED; /* the control's chain went nowhere either */
	if (oc == OC_OK && page && code / 100 == 2 && ctl_refused(ctl_code))
		oc = OC_FAILED; /* the site refused the control: no page */
	switch (oc) {
	case OC_FAILED:
		/* rule 6: a redirect loop (or a broken redirect) for both */
		if (!page)
			return set_down(c, f);
		/* a verified 2xx page is the site's even if the control could
		 * not get it; a plain-HTTP page might be anyone's, and a
		 * verified 403/451/503 may be the site withholding it from
		 * this network or from everyone: without the control's page
		 * nothing tells which, and neither is "accessible" */
		return h->https && code / 100 == 2
			       ? set_accessible(c, "unexpected_success")
			       : set_null(c, "control_http_failed", NULL);
	case OC_UNKNOWN:
		return page && h->https && code / 100 == 2
			       ? set_accessible(c, "unexpected_success")
			       : set_null(c, "control_incomplete", f);
	default:
		break;
	}
	if (h->https)
		return decide_https_page(c, code, ctl_code, f);
	return decide_http_page(c, k, f);
}

/* The hop's HTTP step: a failure decides; a redirect leads on; the last
 * hop's response is the page. */
static bool
decide_http(struct ctx *c, size_t k)
{
	const struct hop *h = &c->hops[k];
	const char *f = jfailure(h->req);
	long long code = 0;
	const json_t *resp = response_of(h->req, &code);

	if (f != NULL && (resp == NULL || !chain_failure(f)))
		return decide_http_failure(c, h, f);
	if (k + 1 < c->n_hops)
		return false;
	if (resp == NULL)
		return set_null_nohop(c, "no_observations", NULL);
	return decide_final(c, k, code, f);
}

/* Hop k's steps in order; true when one decided. */
static bool
decide_hop(struct ctx *c, size_t k)
{
	const struct hop *h = &c->hops[k];
	enum ww_target_kind kind = c->t.kind;
	bool web = kind == WW_TARGET_HTTP || kind == WW_TARGET_HTTPS;

	c->cur_hop = (int)k;
	if (!h->have_t) /* a URL we cannot parse: only its request tells */
		return web && decide_http(c, k);
	if (decide_dns(c, h) || decide_tcp(c, h, k))
		return true;
	if ((h->https || (k == 0 && kind == WW_TARGET_TLS)) &&
	    decide_tls(c, h, k) == STEP_DECIDED)
		return true;
	return web && decide_http(c, k);
}

/* tcp:// and tls:// endpoints end after hop 0's TCP or TLS. */
static void
decide_endpoint(struct ctx *c)
{
	const struct hop *h = &c->hops[0];

	c->cur_hop = 0;
	if ((c->t.kind == WW_TARGET_TLS &&
	     decide_tls(c, h, 0) == STEP_PASSED) ||
	    (c->t.kind == WW_TARGET_TCP && tcp_connected(c, h, 0))) {
		if (c->control == NULL)
			set_no_control(c);
		else
			set_accessible(c, "expected_success");
	} else {
		set_null_nohop(c, "no_observations", NULL);
	}
}

static void
decide(struct ctx *c)
{
	if (decide_fingerprints(c))
		return;
	if (!c->have_target) {
		set_null_nohop(c, "bad_input", NULL);
		return;
	}
	if (any_interrupted(c)) {
		set_null_nohop(c, "interrupted", NULL);
		return;
	}
	for (size_t k = 0; k < c->n_hops; k++)
		if (decide_hop(c, k))
			return;
	if (c->t.kind == WW_TARGET_HTTP || c->t.kind == WW_TARGET_HTTPS)
		set_null_nohop(c, "no_observations", NULL);
	else
		decide_endpoint(c);
}

/* --- rules on top of the decision ----------------------------------------- */

/*
 * Rule A, OONI's override (analysisclassic.go setBlocking*,
 * setWebsiteDown) narrowed by rule 5: when the fetch failed through a
 * forged answer (or stopped at a hop the control never reached because
 * the forger sent the probe elsewhere), DNS takes the blame: the probe
 * was not talking to the site. A page, the control's (accessible) or
 * another (http-diff), is judged as a page.
 */
static void
apply_dns_consistency(struct ctx *c)
{
	const struct verdict *v = &c->v;
	const char *f = v->failure;
	size_t stop = v->hop >= 0 ? (size_t)v->hop : c->n_hops - 1;
	int j;

	if (!c->have_target || c->confirmed || v->blocking == BL_DNS ||
	    v->blocking == BL_HTTP_DIFF ||
	    (v->blocking == BL_FALSE && v->accessible == TRI_TRUE) ||
	    is(v->reason, "interrupted") ||
	    is(v->reason, "control_unavailable") ||
	    is(v->reason, "tls_trust_mismatch"))
		return;
	j = hijacked_hop(c, stop);
	if (j < 0)
		return;
	/* No route to a forged address is the forger's doing when the
	 * control, online, resolved the name elsewhere; an offline probe's
	 * cached answer against its offline (local) control is not. */
	if (is(v->reason, "probe_offline") &&
	    (c->hops[j].ctl_dns != OC_OK || c->hops[j].n_ctl_addrs == 0))
		return;
	c->cur_hop = j;
	if (c->hops[j].bogon)
		set_blocked(c, BL_DNS, "dns.bogon", "dns_bogon", f);
	else
		set_blocked(c, BL_DNS, "dns.inconsistent", "dns_inconsistent",
			    f);
}

/*
 * Rule B. network_check.ok false: the run's domestic reference failed at
 * every step, so this network could not reach anything. Failures, odd
 * answers (a captive portal's) and odd pages then say nothing about
 * censorship; only a page that loaded, and a fingerprint, still count.
 */
static void
apply_network_check(struct ctx *c)
{
	const json_t *ok = jget(jobj(c->tk, "network_check"), "ok");

	if (!json_is_false(ok) || c->confirmed ||
	    (c->v.blocking == BL_FALSE && c->v.accessible == TRI_TRUE))
		return;
	set_null_nohop(c, "probe_offline", c->v.failure);
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

/* The URL of hop k: its request's, else (hop 0) the input. */
static const char *
hop_url(const struct ctx *c, int k)
{
	const json_t *reqs = jarr(c->tk, "requests");
	size_t n = jlen(reqs);

	if (k < 0)
		return NULL;
	if (c->have_target && (size_t)k < c->n_hops)
		return c->hops[k].url;
	for (size_t i = 0; i < n; i++)
		if (req_hop(c, i, n) == k && req_url(json_array_get(reqs, i)))
			return req_url(json_array_get(reqs, i));
	return k == 0 && c->have_target ? c->t.input : NULL;
}

static void
write_keys(struct ctx *c)
{
	json_t *tk = c->tk, *a = json_object();
	const char *hf = c->v.failure;
	const struct hop *h0 = &c->hops[0];
	const char *url = hop_url(c, c->v.hop);

	/* with no step to blame, the final request's own failure (OONI) */
	if (hf == NULL)
		hf = jfailure(final_request(c));
	json_object_set_new(a, "version", json_string(WW_ANALYSIS_VERSION));
	json_object_set_new(a, "reason", json_string(c->v.reason));
	json_object_set_new(a, "fingerprints", json_incref(c->fp_names));
	json_object_set_new(
		a, "hop", c->v.hop >= 0 ? json_integer(c->v.hop) : json_null());
	json_object_set_new(a, "hop_url", str_or_null(url));
	/* hf, url and dns_failure point into observations, never into the
	 * keys replaced here, and json_string() copies them anyway */
	json_object_set_new(tk, "http_experiment_failure", str_or_null(hf));
	json_object_set_new(tk, "dns_experiment_failure",
			    str_or_null(h0->dns_failure));
	json_object_set_new(tk, "blocking", blocking_json(c->v.blocking));
	json_object_set_new(tk, "accessible", tri_json(c->v.accessible));
	json_object_set_new(tk, "blocking_detail", str_or_null(c->v.detail));
	json_object_set_new(tk, "confirmed", json_boolean(c->confirmed));
	json_object_set_new(tk, "dns_consistency",
			    str_or_null(h0->consistency));
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

static void
ctx_free(struct ctx *c)
{
	for (size_t k = 0; k < MAX_HOPS; k++) {
		ww_target_clear(&c->hops[k].t);
		ww_target_clear(&c->ctl_hops[k].t);
	}
	json_decref(c->fp_names);
	ww_target_clear(&c->t);
	free(c);
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
	c->fp_dns_hop = c->fp_http_hop = c->cur_hop = -1;
	c->have_target = jstr(m, "input") != NULL &&
			 ww_target_parse(jstr(m, "input"), &c->t, terr,
					 sizeof(terr)) == 0;
	c->control = jobj(tk, "control");
	if (c->have_target) {
		collect_control_hops(c);
		collect_hops(c);
		compute_http_diff(c);
	} else {
		c->n_hops = 1; /* requests' hops by position or "hop" */
		for (size_t i = 0; i < jlen(jarr(tk, "requests")); i++)
			c->req_hop_keys =
				c->req_hop_keys ||
				jget(json_array_get(jarr(tk, "requests"), i),
				     "hop") != NULL;
	}
	match_dns_fingerprints(c);
	match_http_fingerprints(c);
	decide(c);
	apply_dns_consistency(c);
	apply_network_check(c);
	write_keys(c);
	ctx_free(c);
	return 0;
}
