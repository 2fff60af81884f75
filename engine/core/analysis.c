/*
 * analysis.c - the verdict on one measurement (see analysis.h and, for the
 * rules and their sources, docs/verdicts.md): the decision procedure and
 * the keys it writes.
 *
 * Shape: collect what the probe and the control observed into a small
 * context (analysis_hops.c; every JSON access is type-checked: anything
 * odd is "not observed"), rebuild the redirect chain (one hop per
 * request), compute OONI's comparison keys and match the fingerprints
 * (analysis_pages.c), then walk the chain here: at each hop the steps in
 * order (DNS, TCP, TLS, HTTP), each compared with what the control saw for
 * the same name, endpoint or URL. The first step that stops the probe
 * decides, and names the hop; a chain that reaches its last response is
 * judged by that page. Rules then apply on top: two different answers to
 * one DNS query prove injection (analysis_packets.c, P1), the packets may
 * prove a reset or a page injected (P2, P3), a forged DNS answer takes
 * the blame for a fetch that failed through it unless proof was found
 * (A), and a run whose network check failed trusts nothing but success
 * and proof (B).
 *
 * Each decide_*() returns true when it has set the verdict.
 */
#include "analysis.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "analysis_int.h"
#include "failure.h"
#include "target.h"
#include "util.h"

/* --- setting the verdict -------------------------------------------------- */

bool
set_verdict(struct ctx *c, enum ww_blocking b, enum tri accessible,
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
	return set_verdict(c, WW_BLOCKING_NULL, TRI_NULL, NULL, reason,
			   failure);
}

/* A null that no hop's step decided. */
static bool
set_null_nohop(struct ctx *c, const char *reason, const char *failure)
{
	c->cur_hop = -1;
	return set_null(c, reason, failure);
}

bool
set_blocked(struct ctx *c, enum ww_blocking b, const char *detail,
	    const char *reason, const char *failure)
{
	return set_verdict(c, b, TRI_FALSE, detail, reason, failure);
}

/* The control failed the same step: the site is down, not blocked. */
static bool
set_down(struct ctx *c, const char *failure)
{
	return set_verdict(c, WW_BLOCKING_FALSE, TRI_FALSE, NULL, "down",
			   failure);
}

static bool
set_accessible(struct ctx *c, const char *reason)
{
	return set_verdict(c, WW_BLOCKING_FALSE, TRI_TRUE, NULL, reason, NULL);
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
const char *
tcp_detail(const char *f)
{
	if (is(f, failure_generic_timeout))
		return "tcp.timeout";
	if (is(f, failure_connection_refused) ||
	    is(f, failure_connection_reset))
		return "tcp.reset";
	return "tcp.failure";
}

const char *
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

const char *
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
	c->cur_hop = c->fp_dns ? c->fp_dns_hop : c->fp_http_hop;
	if (c->fp_dns)
		return set_blocked(c, WW_BLOCKING_DNS, "dns.injected",
				   "dns_injected", NULL);
	if (c->fp_http)
		return set_blocked(c, WW_BLOCKING_HTTP_DIFF, "http.blockpage",
				   "http_blockpage", NULL);
	c->cur_hop = -1;
	return false;
}

/* Was a record of arr stopped by SIGINT/SIGTERM? */
static bool
interrupted_in(const json_t *arr)
{
	for (size_t i = 0; i < jlen(arr); i++) {
		const json_t *e = json_array_get(arr, i);

		if (is(jfailure(e), failure_interrupted) ||
		    is(jfailure(jobj(e, "status")), failure_interrupted))
			return true;
	}
	return false;
}

/* An https target's exchanges are its QUIC step's (--quic), judged apart
 * (write_quic): they never touch the web verdict. */
static bool
quic_step(const struct ctx *c)
{
	return c->have_target && c->t.kind == WW_TARGET_HTTPS;
}

/* A step stopped by SIGINT/SIGTERM says nothing about the network. */
static bool
any_interrupted(const struct ctx *c)
{
	static const char *const arrays[] = {"queries", "tcp_connect",
					     "tls_handshakes", "requests"};

	for (size_t a = 0; a < WW_ARRAY_LEN(arrays); a++)
		if (interrupted_in(jarr(c->tk, arrays[a])))
			return true;
	return !quic_step(c) && interrupted_in(jarr(c->tk, "exchanges"));
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
	return set_blocked(c, WW_BLOCKING_DNS, dns_detail(f), "dns_failure",
			   hf);
}

/*
 * Every address of the hop is a bogon the control's lookup gave too (the
 * name points to loopback or a private network for everyone): no public
 * server lives there, so a web target is down when no connect and no
 * request was made (OONI's engines make none to loopback; our probe
 * tries, and row 12 judges the connect).
 */
static bool
only_shared_bogons(const struct ctx *c, const struct hop *h)
{
	if (c->control == NULL || h->n_addrs == 0 || h->req != NULL ||
	    (c->t.kind != WW_TARGET_HTTP && c->t.kind != WW_TARGET_HTTPS))
		return false;
	for (size_t i = 0; i < h->n_addrs; i++)
		if (!shared_bogon(h, &h->addrs[i]))
			return false;
	return true;
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
	if (first == NULL && local == NULL && only_shared_bogons(c, h))
		return set_down(c, NULL);
	if (first == NULL) /* no connect observed: a later step may tell */
		return local != NULL ? set_probe_offline(c, local) : false;
	if (c->control == NULL)
		return set_no_control(c);
	if (blocked != NULL)
		return set_blocked(c, WW_BLOCKING_TCP_IP, tcp_detail(blocked),
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
		return set_blocked(c, WW_BLOCKING_TLS, tls_detail(f),
				   "tls_sni_filtered", f);
	case TO_UNPROVEN:
		return set_blocked(c, WW_BLOCKING_TLS, tls_detail(f),
				   "tls_unexpected_failure", f);
	case TO_ADDR:
		return set_blocked(c, WW_BLOCKING_TCP_IP, tls_detail(f),
				   "tls_address_filtered", f);
	case TO_MITM:
		return set_blocked(c, WW_BLOCKING_TLS, "tls.mitm", "tls_mitm",
				   f);
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
		return set_blocked(c, WW_BLOCKING_HTTP_FAILURE,
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
		return set_blocked(c, WW_BLOCKING_HTTP_DIFF,
				   WW_DETAIL_SERVER_SIDE, "http_server_side",
				   f);
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
		return set_blocked(c, WW_BLOCKING_HTTP_DIFF, "http.diff",
				   "http_diff", f);
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

/* Note which step decided (the packet rules look at its connections). */
static bool
stop_at(struct ctx *c, enum pk_step step, bool decided)
{
	if (decided)
		c->stop_step = step;
	return decided;
}

/* Hop k's steps in order; true when one decided. */
static bool
decide_hop(struct ctx *c, size_t k)
{
	const struct hop *h = &c->hops[k];
	enum ww_target_kind kind = c->t.kind;
	bool web = kind == WW_TARGET_HTTP || kind == WW_TARGET_HTTPS;

	c->cur_hop = (int)k;
	c->stop_hop = (int)k;
	if (!h->have_t) /* a URL we cannot parse: only its request tells */
		return web && stop_at(c, PK_STEP_HTTP, decide_http(c, k));
	if (decide_dns(c, h) || stop_at(c, PK_STEP_TCP, decide_tcp(c, h, k)))
		return true;
	if ((h->https || (k == 0 && kind == WW_TARGET_TLS)) &&
	    stop_at(c, PK_STEP_TLS, decide_tls(c, h, k) == STEP_DECIDED))
		return true;
	return web && stop_at(c, PK_STEP_HTTP, decide_http(c, k));
}

/* tcp:// and tls:// endpoints end after hop 0's TCP or TLS; VPN and QUIC
 * endpoints are their exchanges' (analysis_vpn.c). */
static void
decide_endpoint(struct ctx *c)
{
	const struct hop *h = &c->hops[0];

	c->cur_hop = 0;
	if (ww_target_is_vpn(c->t.kind)) {
		if (!decide_vpn(c))
			set_null_nohop(c, "no_observations", NULL);
		return;
	}
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

	if (!c->have_target || c->confirmed || v->blocking == WW_BLOCKING_DNS ||
	    v->blocking == WW_BLOCKING_HTTP_DIFF ||
	    (v->blocking == WW_BLOCKING_FALSE && v->accessible == TRI_TRUE) ||
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
		set_blocked(c, WW_BLOCKING_DNS, "dns.bogon", "dns_bogon", f);
	else
		set_blocked(c, WW_BLOCKING_DNS, "dns.inconsistent",
			    "dns_inconsistent", f);
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
	    (c->v.blocking == WW_BLOCKING_FALSE && c->v.accessible == TRI_TRUE))
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
blocking_json(enum ww_blocking b)
{
	if (b == WW_BLOCKING_NULL)
		return json_null();
	if (b == WW_BLOCKING_FALSE)
		return json_false();
	return json_string(ww_blocking_name(b));
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
	json_object_set_new(a, "evidence", json_incref(c->evidence));
	json_object_set_new(a, "evidence_detail",
			    str_or_null(c->evidence_detail[0] != '\0'
						? c->evidence_detail
						: NULL));
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

/*
 * The control's QUIC step cut short: it runs after the control's web
 * steps, under the control's deadline (docs/control-protocol.md), which
 * may stop it ("interrupted") before its target-SNI Initial got an answer:
 * that is no "the control got none" (V9), but a control that did not
 * finish (V5).
 */
static bool
control_quic_cut(const struct ctx *c)
{
	const json_t *ctl = jobj(c->control, "exchanges");
	bool cut = false, answered = false;
	const char *k;
	json_t *arr;

	json_object_foreach((json_t *)ctl, k, arr)
	{
		for (size_t i = 0; i < jlen(arr); i++) {
			const json_t *x = json_array_get(arr, i);

			if (!is(jstr(x, "payload"), "handshake"))
				continue;
			answered = answered || jtrue(x, "answered");
			cut = cut || is(jfailure(x), failure_interrupted);
		}
	}
	return cut && !answered;
}

/*
 * An https target's QUIC step (the probe's --quic): its exchanges are a
 * quic:// target's, and their verdict is that target's (decide_vpn, the
 * same rules), written apart as analysis.quic so that the web verdict,
 * decided before from DNS, TCP, TLS and HTTP alone, stays what it was.
 */
static void
write_quic(struct ctx *c)
{
	json_t *a = jobj(c->tk, "analysis"), *q;
	struct verdict web = c->v;
	int hop = c->cur_hop;

	if (a == NULL || !quic_step(c) || jlen(jarr(c->tk, "exchanges")) == 0)
		return;
	c->cur_hop = 0;
	if (interrupted_in(jarr(c->tk, "exchanges")))
		set_null_nohop(c, "interrupted", NULL); /* V2 */
	else if (control_quic_cut(c))
		set_null_nohop(c, "control_incomplete", NULL); /* V5 */
	else if (!decide_vpn(c))
		set_null_nohop(c, "no_observations", NULL);
	q = json_object();
	json_object_set_new(q, "blocking", blocking_json(c->v.blocking));
	json_object_set_new(q, "accessible", tri_json(c->v.accessible));
	json_object_set_new(q, "detail", str_or_null(c->v.detail));
	json_object_set_new(q, "reason", json_string(c->v.reason));
	json_object_set_new(a, "quic", q);
	c->v = web;
	c->cur_hop = hop;
}

static void
ctx_free(struct ctx *c)
{
	for (size_t k = 0; k < MAX_HOPS; k++) {
		ww_target_clear(&c->hops[k].t);
		ww_target_clear(&c->ctl_hops[k].t);
	}
	json_decref(c->fp_names);
	json_decref(c->evidence);
	ww_target_clear(&c->t);
	free(c);
}

/* The keys write_keys() sets, which an OONI view hands back. */
static const char *const written_keys[] = {"http_experiment_failure",
					   "dns_experiment_failure",
					   "blocking",
					   "accessible",
					   "blocking_detail",
					   "confirmed",
					   "dns_consistency",
					   "body_length_match",
					   "status_code_match",
					   "headers_match",
					   "title_match",
					   "body_proportion",
					   "analysis"};

bool
ww_analysis_writes(const char *key)
{
	for (size_t i = 0; i < WW_ARRAY_LEN(written_keys); i++)
		if (strcmp(key, written_keys[i]) == 0)
			return true;
	return false;
}

static void
analyze(json_t *m, json_t *tk, const struct ww_fingerprints *fp)
{
	struct ctx *c = xcalloc(1, sizeof(*c));
	char terr[256];

	c->tk = tk;
	c->fp = fp;
	c->cc = jstr(m, "probe_cc");
	c->fp_names = json_array();
	c->evidence = json_array();
	c->fp_dns_hop = c->fp_http_hop = c->cur_hop = c->stop_hop = -1;
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
	pk_apply_dns(c);
	pk_apply_flows(c);
	apply_dns_consistency(c);
	apply_network_check(c);
	write_keys(c);
	write_quic(c);
	ctx_free(c);
}

/*
 * OONI's web_connectivity: the same procedure on a view of it in our
 * shape (analysis_ooni.c), whose verdict keys are then written into m's
 * own test_keys; the view's other values are m's, never changed.
 */
static void
analyze_ooni(json_t *m, json_t *tk, const struct ww_fingerprints *fp)
{
	json_t *view = ooni_view(m);
	json_t *vtk = jobj(view, "test_keys");

	analyze(view, vtk, fp);
	json_object_set_new(jobj(vtk, "analysis"), "shape",
			    json_string("ooni_web_connectivity"));
	for (size_t i = 0; i < WW_ARRAY_LEN(written_keys); i++)
		json_object_set(tk, written_keys[i],
				json_object_get(vtk, written_keys[i]));
	json_decref(view);
}

int
ww_analyze(json_t *m, const struct ww_fingerprints *fp, char *err,
	   size_t errlen)
{
	json_t *tk = jobj(m, "test_keys");

	if (tk == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "not a measurement: %s",
				 json_is_object(m) ? "no test_keys object"
						   : "not a JSON object");
		return -1;
	}
	if (ooni_shape(m))
		analyze_ooni(m, tk, fp);
	else
		analyze(m, tk, fp);
	return 0;
}
