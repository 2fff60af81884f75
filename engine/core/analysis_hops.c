/*
 * analysis_hops.c - reading the measurement and the control per hop, for
 * the verdict (analysis.c; the rules are in docs/verdicts.md).
 *
 * Every JSON access is type-checked (analysis_int.h): anything odd is "not
 * observed". This file parses addresses and URLs, rebuilds the probe's
 * redirect chain (one hop per request) and pairs each hop with the
 * control's hop of the same URL, then gathers per hop what the probe and
 * the control observed: lookups of its name, connections and handshakes to
 * its endpoints, its fetch.
 */
#include "analysis_int.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "failure.h"
#include "ipaddr.h"
#include "target.h"
#include "util.h"

/* --- addresses ------------------------------------------------------------ */

bool
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

bool
ip_eq(const struct ip *x, const struct ip *y)
{
	return x->family == y->family && memcmp(x->a, y->a, 16) == 0;
}

bool
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
bool
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

/* A record's "hop": absent counts as hop 0 (data from before hops, OONI's
 * data); -1 for a value that is not a hop. */
long long
rec_hop(const json_t *e)
{
	long long h;

	if (jget(e, "hop") == NULL)
		return 0;
	return jint(e, "hop", &h) && h >= 0 && h < MAX_HOPS ? h : -1;
}

/* Host names from JSON against the target's (lower case, no dot). */
bool
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

/* A probe handshake: verified, completed with a certificate that did not
 * verify, failed, or odd. */
enum tls_state
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
enum tls_state
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
long long
req_hop(const struct ctx *c, size_t i, size_t n)
{
	const json_t *r = json_array_get(jarr(c->tk, "requests"), i);
	long long h;

	if (!c->req_hop_keys)
		return n - 1 - i < MAX_HOPS ? (long long)(n - 1 - i) : -1;
	return jint(r, "hop", &h) && h >= 0 && h < MAX_HOPS ? h : -1;
}

const char *
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
void
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
const json_t *
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
enum outcome
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

const json_t *
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
enum outcome
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
enum outcome
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
enum outcome
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
bool
in_hop(const struct hop *h, size_t k, const json_t *e, struct ip *ip,
       long *port)
{
	if (!entry_endpoint(e, ip, port) || *port != h->t.port)
		return false;
	if (h->n_addrs > 0)
		return ip_in(ip, h->addrs, h->n_addrs);
	return rec_hop(e) == (long long)k;
}

/* What one tcp_connect entry says. */
enum outcome
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

/* Some connect to the hop's endpoints worked. */
bool
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

/* Our sni_role, or for data without it, the server name. */
bool
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
const json_t *
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

/* The ASN the control's ip_info gives ip; 0 when unknown (our control
 * always says 0: it has no ASN data; OONI's test helper has). */
static long long
ctl_asn(const struct ctx *c, const struct ip *ip)
{
	const json_t *info = jobj(c->control, "ip_info");
	json_t *o = (json_t *)info;
	struct ip kip;
	long long asn;
	size_t seen = 0;

	for (void *it = json_object_iter(o); it != NULL && seen++ < MAX_ITEMS;
	     it = json_object_iter_next(o, it))
		if (ip_parse(json_object_iter_key(it), &kip) && ip_eq(&kip, ip))
			return jint(json_object_iter_value(it), "asn", &asn) &&
					       asn > 0
				       ? asn
				       : 0;
	return 0;
}

/* Some probe address is in the AS of some control address, by the
 * control's ip_info (OONI's ASN comparison). */
static bool
same_asn(const struct ctx *c, const struct hop *h)
{
	for (size_t i = 0; i < h->n_addrs; i++) {
		long long a = ctl_asn(c, &h->addrs[i]);

		for (size_t j = 0; a > 0 && j < h->n_ctl_addrs; j++)
			if (ctl_asn(c, &h->ctl_addrs[j]) == a)
				return true;
	}
	return false;
}

/*
 * OONI's dns_consistency (ts-017; webconnectivitylte analysisclassic.go)
 * for the hop's name: a shared address, else a shared ASN when the
 * control's ip_info knows them (OONI's test helper; ours says 0), else
 * TLS proving a probe address valid for the name.
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
	return same_asn(c, h) ? "consistent" : "inconsistent";
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
bool
shared_bogon(const struct hop *h, const struct ip *ip)
{
	return ip_is_bogon(ip) && ip_in(ip, h->ctl_addrs, h->n_ctl_addrs);
}

void
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
