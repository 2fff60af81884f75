/*
 * measure.c - one target's measurement, as a small state machine on the
 * event base. Each hop of the redirect chain (hop 0: the input) is
 * measured the same way:
 *
 *   DNS      A and AAAA in parallel, for a host no earlier hop resolved
 *            (none for an IP literal)
 *   ENDPOINTS (endpoint.c) for each of the host's addresses (at most
 *            max_addrs, A and AAAA interleaved), in parallel: a TCP connect
 *            unless an earlier hop made one to that address and port; then
 *            for https/tls a TLS handshake with the neutral control SNI,
 *            and one with the hop's own name on a second connection, each
 *            unless an earlier hop made it already.
 *   HTTP     (http/https) GET pinned to the host's addresses; a redirect
 *            starts the next hop, up to WW_MAX_REDIRECTS.
 *
 * A VPN or QUIC endpoint (openvpn://, ikev2://, wireguard://, quic://) has
 * one hop: DNS, then instead of ENDPOINTS the EXCHANGES of its plan
 * (vpnplan.c) at each address (xbatch.c): the protocol's handshake and
 * neutral payloads of its size, one after the other per address.
 *
 * Every record carries its hop, so that the analysis can say at which URL
 * of the chain a step failed (docs/measurement-format.md).
 *
 * The control-SNI handshake goes first on purpose: censors keep blocking a
 * (client, server, port) triple for a while after a hit (the GFW's "penalty
 * box", ~90 s), so a control handshake made after the target's would fail
 * too and make SNI filtering look like IP blocking.
 *
 * With control services configured (probe side), the control request goes
 * out as soon as the first DNS step ends, carrying our addresses, and runs
 * beside the rest; the job ends when both have.
 *
 * A DNS query's socket keeps listening for a late window after its first
 * reply (dns.c), while the job goes on; the job ends only once every such
 * window has closed, and the datagrams that came are then moved into the
 * query's record (by transaction id: the record has moved into m by then).
 *
 * As the control service itself (ww_config.control_service), each address
 * gets one handshake with the requested SNI (hop 0) or the hop's name on
 * its first connection, the probe's addresses are connected too (hop 0),
 * and bogons are never contacted, in any hop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "control.h"
#include "failure.h"
#include "internal.h"
#include "ipaddr.h"
#include "util.h"
#include "vpnplan.h"

enum phase { PH_DNS, PH_ENDPOINTS, PH_EXCHANGES, PH_HTTP, PH_DONE };

struct host_addrs {
	char *host;
	char **addrs; /* connected first */
	size_t n;
};

/* A DNS query not closed yet, and the record its evidence goes to. */
struct open_dns {
	struct dns_op *op;
	int transaction_id;
};

struct ww_job {
	struct ww_engine *e;
	struct ww_target t;
	char *sni;    /* for hop 0's target handshakes */
	char **extra; /* control service: the probe's addresses */
	size_t n_extra;
	bool ask_control;   /* probe side, with controls configured */
	struct ctl_op *ctl; /* the control request in flight */
	bool chain_done;    /* our own steps have ended */
	bool cancelling;    /* inside ww_job_cancel */
	struct ww_measurement *m;
	ww_job_cb cb;
	void *arg;
	double t_base;
	unsigned cap_drops0; /* the capture ring's drops when it began */
	enum phase phase;
	int pending;
	/* the hop being measured: 0 for the input, k for the k-th redirect */
	int hop;
	char *hop_host; /* unbracketed, lower case */
	char *hop_sni;	/* the name its target handshakes send */
	int hop_port;
	bool hop_tls;
	/* DNS */
	struct dns_op *dns[2]; /* until each reports */
	struct ww_query qrec[2];
	struct open_dns *open; /* queries whose socket is open */
	size_t n_open, cap_open;
	/* endpoints */
	struct ep_batch *batch;
	/* VPN and QUIC endpoints: their exchanges (xbatch.c) */
	struct xbatch *xb;
	/* an https target's QUIC step (--quic; the control: "quic": true):
	 * qt is the quic:// target whose plan runs once the chain ends */
	struct ww_target qt;
	bool quic, quic_started;
	/* what earlier hops did already: "ip port" connects and "ip port
	 * sni" handshakes, never repeated */
	char **done;
	size_t n_done, cap_done;
	/* HTTP */
	CURLSH *cookies;
	struct http_op *http;
	struct ww_http hrec;
	char *url;
	struct curl_slist *pins; /* kept until the hop ends */
	struct host_addrs *hosts;
	size_t n_hosts, cap_hosts;
};

static void hop_endpoints(struct ww_job *j);
static void start_http(struct ww_job *j);
static void finish(struct ww_job *j);
static void start_control(struct ww_job *j, char *const *addrs, size_t n);

/* Control service: is this address off limits? */
static bool
refused_addr(const struct ww_job *j, const char *ip)
{
	return !ww_engine_allows(j->e, ip);
}

/* Drop the refused addresses from v (freeing them); returns the new n. */
static size_t
filter_refused(const struct ww_job *j, char **v, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (refused_addr(j, v[i]))
			free(v[i]);
		else
			v[k++] = v[i];
	}
	return k;
}

/* --- addresses ----------------------------------------------------------- */

static bool
contains(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* Interleave A and AAAA answers (so both families get measured when
 * max_addrs is small), without duplicates, at most max entries. */
static size_t
collect_addrs(const struct ww_query q[2], char **out, size_t max)
{
	size_t n = 0, i[2] = {0, 0};
	bool more = true;

	while (n < max && more) {
		more = false;
		for (int k = 0; k < 2 && n < max; k++) {
			while (i[k] < q[k].n_answers) {
				const struct ww_answer *a =
					&q[k].answers[i[k]++];

				if (a->type == WW_RR_CNAME)
					continue;
				more = true;
				if (!contains(out, n, a->value))
					out[n++] = xstrdup(a->value);
				break;
			}
			if (i[k] < q[k].n_answers)
				more = true;
		}
	}
	return n;
}

static struct host_addrs *
host_find(struct ww_job *j, const char *host)
{
	for (size_t i = 0; i < j->n_hosts; i++)
		if (strcmp(j->hosts[i].host, host) == 0)
			return &j->hosts[i];
	return NULL;
}

static struct host_addrs *
host_add(struct ww_job *j, const char *host, char **addrs, size_t n)
{
	struct host_addrs *h = WW_PUSH(j->hosts, j->n_hosts, j->cap_hosts);

	h->host = xstrdup(host);
	h->addrs = xcalloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		h->addrs[i] = xstrdup(addrs[i]);
	h->n = n;
	return h;
}

/* --- DNS ----------------------------------------------------------------- */

static void
flush_queries(struct ww_job *j)
{
	for (int k = 0; k < 2; k++) {
		if (j->qrec[k].hostname == NULL)
			continue;
		j->qrec[k].hop = j->hop;
		*ww_add_query(j->m) = j->qrec[k];
		memset(&j->qrec[k], 0, sizeof(j->qrec[k]));
	}
}

/* The hop's request record when no request can be made (a name that does
 * not resolve, a refused address): the url, and why. */
static void
failed_hop(struct ww_job *j, const char *failure, const char *detail)
{
	ww_set_failure(&j->hrec.failure, &j->hrec.failure_detail, failure,
		       detail);
	j->hrec.url = xstrdup(j->url);
	j->hrec.method = xstrdup("GET");
	j->hrec.t0 = j->hrec.t = ww_mono() - j->t_base;
	j->hrec.transaction_id = j->m->next_transaction_id++;
	j->hrec.hop = j->hop;
	*ww_add_http(j->m) = j->hrec;
	memset(&j->hrec, 0, sizeof(j->hrec));
	finish(j);
}

static void
dns_done(struct ww_job *j)
{
	char *addrs[64];
	size_t n, found;

	if (--j->pending > 0)
		return;
	if (j->hop == 0 && j->ask_control) {
		/* Every address we got goes to the control, not only the
		 * max_addrs we measure. */
		n = collect_addrs(j->qrec, addrs, WW_CONTROL_MAX_ADDRS);
		start_control(j, addrs, n);
		for (size_t i = 0; i < n; i++)
			free(addrs[i]);
	}
	found = collect_addrs(j->qrec, addrs, (size_t)j->e->max_addrs);
	n = filter_refused(j, addrs, found);
	host_add(j, j->hop_host, addrs, n);
	for (size_t i = 0; i < n; i++)
		free(addrs[i]);
	if (j->hop > 0 && n == 0) {
		/* The hop cannot be made: record it with the DNS failure,
		 * as a browser would show it. */
		const struct ww_query *q =
			j->qrec[0].failure != NULL ? &j->qrec[0] : &j->qrec[1];
		const char *f = q->failure ? q->failure : failure_dns_no_answer;
		char *detail = xstrdup(q->failure_detail);

		/* found > 0: every address refused (control service) */
		flush_queries(j);
		failed_hop(j, found > 0 ? failure_dns_bogon : f,
			   found > 0 ? NULL : detail);
		free(detail);
		return;
	}
	flush_queries(j);
	hop_endpoints(j);
}

static void
dns_done_a(void *arg)
{
	struct ww_job *j = arg;

	j->dns[0] = NULL;
	dns_done(j);
}

static void
dns_done_aaaa(void *arg)
{
	struct ww_job *j = arg;

	j->dns[1] = NULL;
	dns_done(j);
}

/* Where the query with this transaction id is recorded now: still in
 * qrec (its pair has not reported), or moved into m. */
static struct ww_query *
query_by_id(struct ww_job *j, int id)
{
	for (int k = 0; k < 2; k++)
		if (j->qrec[k].hostname != NULL &&
		    j->qrec[k].transaction_id == id)
			return &j->qrec[k];
	for (size_t i = 0; i < j->m->n_queries; i++)
		if (j->m->queries[i].transaction_id == id)
			return &j->m->queries[i];
	return NULL;
}

static void maybe_end(struct ww_job *j);

static void
dns_closed(void *arg, struct dns_op *op)
{
	struct ww_job *j = arg;

	for (size_t i = 0; i < j->n_open; i++) {
		struct ww_query *q;

		if (j->open[i].op != op)
			continue;
		q = query_by_id(j, j->open[i].transaction_id);
		if (q != NULL)
			dns_take_evidence(op, q);
		j->open[i] = j->open[--j->n_open];
		break;
	}
	if (!j->cancelling)
		maybe_end(j);
}

static void
start_dns(struct ww_job *j)
{
	static const int types[2] = {1, 28};
	static const dns_cb done[2] = {dns_done_a, dns_done_aaaa};

	j->phase = PH_DNS;
	j->pending = 2;
	for (int k = 0; k < 2; k++)
		j->qrec[k].transaction_id = j->m->next_transaction_id++;
	for (int k = 0; k < 2; k++) {
		struct open_dns *o = WW_PUSH(j->open, j->n_open, j->cap_open);

		o->transaction_id = j->qrec[k].transaction_id;
		o->op = j->dns[k] =
			dns_start(j->e, j->hop_host, types[k], &j->qrec[k],
				  j->t_base, done[k], dns_closed, j);
	}
}

/* --- endpoints ----------------------------------------------------------- */

/* Has an earlier hop (or this one) done this? If not, it is now. */
static bool
done_before(struct ww_job *j, const char *ip, int port, const char *sni)
{
	char *key = xasprintf("%s %d %s", ip, port, sni ? sni : "");

	for (size_t i = 0; i < j->n_done; i++)
		if (strcmp(j->done[i], key) == 0) {
			free(key);
			return true;
		}
	*WW_PUSH(j->done, j->n_done, j->cap_done) = key;
	return false;
}

/* What this hop still has to do at ip; false when nothing. */
static bool
want_for(struct ww_job *j, const char *ip, struct ep_want *w)
{
	const char *e_sni = j->e->control_sni;
	int k = 0;

	memset(w, 0, sizeof(*w));
	w->ip = ip;
	w->tcp = !done_before(j, ip, j->hop_port, NULL);
	if (j->hop_tls && !j->e->control_service &&
	    !done_before(j, ip, j->hop_port, e_sni)) {
		w->sni[k] = e_sni;
		w->role[k++] = "control";
	}
	if (j->hop_tls && !done_before(j, ip, j->hop_port, j->hop_sni)) {
		w->sni[k] = j->hop_sni;
		w->role[k++] = "target";
	}
	return w->tcp || k > 0;
}

static struct host_addrs *
hop_addrs(struct ww_job *j)
{
	return host_find(j, j->hop_host);
}

/* Pin the hop's host to the addresses that connected first, so that curl
 * tries those before the others. */
static void
order_addrs(struct ww_job *j)
{
	struct host_addrs *h = hop_addrs(j);
	char **v;
	size_t k = 0;

	if (h == NULL || j->batch == NULL || h->n == 0)
		return;
	v = xcalloc(h->n, sizeof(char *));
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < h->n; i++)
			if (ep_batch_connected(j->batch, h->addrs[i]) ==
			    (pass == 0))
				v[k++] = h->addrs[i];
	memcpy(h->addrs, v, h->n * sizeof(char *));
	free(v);
}

static void
endpoints_done(struct ww_job *j)
{
	order_addrs(j);
	ep_batch_free(j->batch);
	j->batch = NULL;
	if (j->t.kind == WW_TARGET_HTTP || j->t.kind == WW_TARGET_HTTPS)
		start_http(j);
	else
		finish(j);
}

static void
batch_cb(void *arg)
{
	endpoints_done(arg);
}

/* --- VPN and QUIC endpoints: exchanges ---------------------------------- */

static void
xb_cb(void *arg)
{
	struct ww_job *j = arg;

	xbatch_free(j->xb);
	j->xb = NULL;
	finish(j);
}

static size_t
xb_plan(void *arg, const char *ip, struct ww_xdriver **d, size_t max)
{
	struct ww_job *j = arg;

	return ww_vpn_plan(j->quic_started ? &j->qt : &j->t, &j->e->vpn, ip, d,
			   max);
}

/* Does v (n entries) hold an address of ip's family? */
static bool
family_in(char **v, size_t n, const char *ip)
{
	bool v6 = strchr(ip, ':') != NULL;

	for (size_t i = 0; i < n; i++)
		if ((strchr(v[i], ':') != NULL) == v6)
			return true;
	return false;
}

/*
 * Start the exchanges of a plan (xb_plan) on port at h's addresses (the
 * first of each family only, when one_per_family) and, as the control
 * service, at the probe's too. false: no address, nothing started.
 */
static bool
run_exchanges(struct ww_job *j, const struct host_addrs *h, bool one_per_family,
	      int port)
{
	size_t n_own = h != NULL ? h->n : 0, n = 0;
	char **ips = xcalloc(n_own + j->n_extra + 1, sizeof(char *));

	for (size_t i = 0; i < n_own; i++)
		if (!one_per_family || !family_in(ips, n, h->addrs[i]))
			ips[n++] = h->addrs[i];
	for (size_t i = 0; i < j->n_extra; i++)
		if (!contains(ips, n, j->extra[i]))
			ips[n++] = j->extra[i];
	if (n > 0) {
		j->phase = PH_EXCHANGES;
		j->xb = xbatch_start(j->e, j->m, ips, n, port, xb_plan, j,
				     j->t_base, xb_cb, j);
	}
	free(ips);
	return n > 0;
}

/* The exchanges of a VPN or QUIC endpoint at its addresses. */
static void
start_exchanges(struct ww_job *j)
{
	if (!run_exchanges(j, hop_addrs(j), false, j->hop_port))
		finish(j);
}

/*
 * The hop's addresses are known: measure what earlier hops have not. At
 * hop 0 the control service measures the probe's addresses too (but never
 * fetches from them).
 */
static void
hop_endpoints(struct ww_job *j)
{
	struct host_addrs *h = hop_addrs(j);
	size_t n_own = h != NULL ? h->n : 0;
	size_t extra = j->hop == 0 ? j->n_extra : 0, n = 0;
	struct ep_want *w;

	if (ww_target_is_vpn(j->t.kind)) {
		start_exchanges(j);
		return;
	}
	w = xcalloc(n_own + extra + 1, sizeof(*w));
	j->phase = PH_ENDPOINTS;
	for (size_t i = 0; i < n_own; i++)
		if (want_for(j, h->addrs[i], &w[n]))
			n++;
	for (size_t i = 0; i < extra; i++)
		if (want_for(j, j->extra[i], &w[n]))
			n++;
	if (n == 0) {
		free(w);
		endpoints_done(j);
		return;
	}
	j->batch = ep_batch_start(j->e, j->m, w, n, j->hop_port, j->hop,
				  j->t_base, batch_cb, j);
	free(w);
}

/* --- an https target's QUIC step (--quic) ------------------------------- */

/*
 * The QUIC step of an https target, once its chain has ended (so that
 * nothing of it can touch the web steps' timing or a censor's residual
 * block on them): the plan of quic://host:port (vpnplan.c) at the first
 * address of each family of the input's host, connected ones first (the
 * order the TCP step left: order_addrs), UDP on the URL's port. As the
 * control service, at those and at the probe's addresses, as for a
 * quic:// target. false: nothing to run.
 */
static bool
start_quic(struct ww_job *j)
{
	j->quic_started = true;
	return run_exchanges(j, host_find(j, j->t.host), true, j->t.port);
}

/* The quic:// target of an https target's host and port (false: none,
 * which cannot happen for a target that parsed). */
static bool
quic_target(const struct ww_target *t, struct ww_target *qt)
{
	bool v6 = t->host_is_ip && strchr(t->host, ':') != NULL;
	char *in = xasprintf("quic://%s%s%s:%d", v6 ? "[" : "", t->host,
			     v6 ? "]" : "", t->port);
	char err[256];
	int rc = ww_target_parse(in, qt, err, sizeof(err));

	free(in);
	return rc == 0;
}

/* --- hops ---------------------------------------------------------------- */

/* Make host:port the hop being measured. */
static void
set_hop(struct ww_job *j, const char *host, int port, bool tls, const char *sni)
{
	free(j->hop_host);
	j->hop_host = xstrdup(host);
	free(j->hop_sni);
	j->hop_sni = xstrdup(sni);
	j->hop_port = port;
	j->hop_tls = tls;
}

/*
 * Start a hop: its DNS unless an earlier hop resolved the host (or it is an
 * IP literal), then its endpoints. j->url and j->hop are set.
 */
static void
start_hop(struct ww_job *j)
{
	struct ww_target t;
	char err[256];

	/* A Location we cannot follow ends the chain with a record that
	 * says why, never silently: a browser would show an error here. */
	if (ww_target_parse(j->url, &t, err, sizeof(err)) != 0) {
		char *detail = xasprintf("not a URL we can fetch: %s", err);

		failed_hop(j, failure_http_invalid_redirect_location_host,
			   detail);
		free(detail);
		return;
	}
	if (t.kind != WW_TARGET_HTTP && t.kind != WW_TARGET_HTTPS) {
		ww_target_clear(&t);
		failed_hop(j, failure_http_invalid_redirect_location_host,
			   "not an http or https URL");
		return;
	}
	set_hop(j, t.host, t.port, t.kind == WW_TARGET_HTTPS, t.host);
	/* What curl fetches: the host as we resolve it (A-labels, no
	 * trailing dot), see ww_target.url. */
	free(j->url);
	j->url = t.url;
	t.url = NULL;
	ww_target_clear(&t);
	if (host_find(j, j->hop_host) != NULL) {
		hop_endpoints(j);
		return;
	}
	if (!ww_ip_is_literal(j->hop_host)) {
		/* Resolved by our own DNS step, never curl's resolver. */
		start_dns(j);
		return;
	}
	if (refused_addr(j, j->hop_host)) {
		/* A redirect to a private address: the control service must
		 * not be turned into a proxy into its own network. */
		failed_hop(j, failure_http_invalid_redirect_location_host,
			   "refused: a private or reserved address");
		return;
	}
	host_add(j, j->hop_host, &j->hop_host, 1);
	hop_endpoints(j);
}

/* --- HTTP ---------------------------------------------------------------- */

static void http_done(void *arg);

static void
start_http(struct ww_job *j)
{
	struct host_addrs *h = hop_addrs(j);
	char *entry;

	j->phase = PH_HTTP;
	if (h == NULL || h->n == 0) {
		/* Nothing to pin to: curl would resolve the name itself. At
		 * hop 0 the DNS records say why (the control service refused
		 * every address); a later hop gets a record of its own. */
		if (j->hop > 0)
			failed_hop(j,
				   failure_http_invalid_redirect_location_host,
				   "no address to connect to");
		else
			finish(j);
		return;
	}
	curl_slist_free_all(j->pins);
	j->pins = NULL;
	j->hrec.transaction_id = j->m->next_transaction_id++;
	j->hrec.hop = j->hop;
	if (ww_ip_is_literal(j->hop_host)) {
		/* An IP literal is not pinned: curl connects to it without
		 * resolving anything (Curl_resolv() turns a literal into an
		 * address itself), and curl 7.88 cannot parse a RESOLVE entry
		 * whose host is an IPv6 literal, bracketed or not. */
		j->http = http_start(j->e, j->url, NULL, j->cookies, &j->hrec,
				     j->t_base, http_done, j);
		return;
	}
	entry = xasprintf("%s:%d:", j->hop_host, j->hop_port);
	for (size_t i = 0; i < h->n; i++) {
		bool v6 = strchr(h->addrs[i], ':') != NULL;
		char *next =
			xasprintf("%s%s%s%s%s", entry, i ? "," : "",
				  v6 ? "[" : "", h->addrs[i], v6 ? "]" : "");

		free(entry);
		entry = next;
	}
	j->pins = curl_slist_append(NULL, entry);
	free(entry);
	/* curl copies the RESOLVE entries into its DNS cache when the
	 * transfer starts; the list is kept until then (see http_done). */
	j->http = http_start(j->e, j->url, j->pins, j->cookies, &j->hrec,
			     j->t_base, http_done, j);
}

/*
 * A redirect's Location header when curl made no URL of it (it cannot be
 * resolved against the request's URL, or is not UTF-8): the raw value,
 * bytes outside printable ASCII percent-encoded so that it can be shown.
 * NULL when there is no such header or it is empty.
 */
static char *
raw_location(const struct ww_http *h)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *v = NULL;
	char *out, *p;

	for (size_t i = 0; i < h->n_headers && v == NULL; i++)
		if (strcasecmp(h->headers[i].name, "Location") == 0)
			v = h->headers[i].value;
	if (v == NULL || v[0] == '\0')
		return NULL;
	out = p = xmalloc(3 * strlen(v) + 1);
	for (const unsigned char *s = (const unsigned char *)v; *s; s++) {
		if (*s > 0x20 && *s < 0x7f) {
			*p++ = (char)*s;
		} else {
			*p++ = '%';
			*p++ = hex[*s >> 4];
			*p++ = hex[*s & 15];
		}
	}
	*p = '\0';
	return out;
}

static void
http_done(void *arg)
{
	struct ww_job *j = arg;
	const char *loc = j->hrec.location;
	int status = j->hrec.status;
	char *next = NULL, *bad = NULL;

	j->http = NULL;
	if (status >= 300 && status < 400 && loc == NULL &&
	    j->hop < WW_MAX_REDIRECTS)
		bad = raw_location(&j->hrec);
	if (status >= 300 && status < 400 && loc != NULL) {
		if (j->hop < WW_MAX_REDIRECTS)
			next = xstrdup(loc);
		else if (j->hrec.failure == NULL)
			/* One redirect too many: the response stays. */
			ww_set_failure(&j->hrec.failure,
				       &j->hrec.failure_detail,
				       failure_http_too_many_redirects, NULL);
	}
	*ww_add_http(j->m) = j->hrec;
	memset(&j->hrec, 0, sizeof(j->hrec));
	curl_slist_free_all(j->pins);
	j->pins = NULL;
	if (bad != NULL) {
		/* The next hop exists but has no URL we can fetch. */
		j->hop++;
		free(j->url);
		j->url = bad;
		failed_hop(j, failure_http_invalid_redirect_location_host,
			   "Location is not a valid URL");
		return;
	}
	if (next == NULL) {
		finish(j);
		return;
	}
	j->hop++;
	free(j->url);
	j->url = next;
	start_hop(j);
}

/* --- the control request (probe side) ----------------------------------- */

static void job_free(struct ww_job *j);

static void
ctl_done(void *arg)
{
	struct ww_job *j = arg;

	j->ctl = NULL;
	maybe_end(j);
}

static void
start_control(struct ww_job *j, char *const *addrs, size_t n)
{
	json_t *req = json_object(), *arr = json_array();
	char *body;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(addrs[i]));
	json_object_set_new(req, "input", json_string(j->t.input));
	json_object_set_new(req, "addrs", arr);
	if (j->quic) /* the control runs the QUIC step too */
		json_object_set_new(req, "quic", json_true());
	/* RFC 6066 section 3: an IP literal is no server name; null lets
	 * the control handshake without SNI, verifying the address. */
	json_object_set_new(req, "sni",
			    ww_ip_is_literal(j->sni) ? json_null()
						     : json_string(j->sni));
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (body == NULL)
		abort();
	j->ctl = ctl_start(j->e, body, j->m, j->t_base, ctl_done, j);
	free(body);
}

/* --- job lifetime --------------------------------------------------------- */

/* The job ends once our own steps, the control and every DNS late window
 * have. */
static void
maybe_end(struct ww_job *j)
{
	if (j->chain_done && j->ctl == NULL && j->n_open == 0)
		job_free(j);
}

/* What only our own steps use, freed once they have ended: a job can wait
 * a second more for its DNS late windows (or the control), and hundreds
 * of jobs waiting must hold no more than their records. Twice is fine. */
static void
release_chain(struct ww_job *j)
{
	for (size_t i = 0; i < j->n_hosts; i++) {
		for (size_t k = 0; k < j->hosts[i].n; k++)
			free(j->hosts[i].addrs[k]);
		free(j->hosts[i].addrs);
		free(j->hosts[i].host);
	}
	free(j->hosts);
	j->hosts = NULL;
	j->n_hosts = j->cap_hosts = 0;
	ww_http_clear(&j->hrec);
	ep_batch_free(j->batch);
	j->batch = NULL;
	xbatch_free(j->xb);
	j->xb = NULL;
	for (size_t i = 0; i < j->n_done; i++)
		free(j->done[i]);
	free(j->done);
	j->done = NULL;
	j->n_done = j->cap_done = 0;
	curl_slist_free_all(j->pins);
	j->pins = NULL;
	if (j->cookies != NULL)
		curl_share_cleanup(j->cookies);
	j->cookies = NULL;
	free(j->hop_host);
	free(j->hop_sni);
	free(j->url);
	j->hop_host = j->hop_sni = j->url = NULL;
}

/* Our own steps have ended (the web chain's, then the QUIC step's). */
static void
finish(struct ww_job *j)
{
	if (j->quic && !j->quic_started && !j->cancelling && start_quic(j))
		return; /* xb_cb comes back here */
	j->phase = PH_DONE;
	j->chain_done = true;
	release_chain(j);
	maybe_end(j);
}

static void
job_free(struct ww_job *j)
{
	ww_job_cb cb = j->cb;
	void *arg = j->arg;
	struct ww_measurement *m = j->m;

	m->test_runtime = ww_mono() - j->t_base;
	ww_evidence_build(j->e, m, j->t_base, j->cap_drops0); /* packets */
	release_chain(j);
	free(j->open);
	for (int k = 0; k < 2; k++)
		ww_query_clear(&j->qrec[k]);
	free(j->sni);
	for (size_t i = 0; i < j->n_extra; i++)
		free(j->extra[i]);
	free(j->extra);
	ww_target_clear(&j->t);
	ww_target_clear(&j->qt);
	free(j);
	cb(m, arg);
}

struct ww_job *
ww_job_start(struct ww_engine *e, const struct ww_target *t,
	     struct ww_measurement *m, ww_job_cb cb, void *arg)
{
	return ww_job_start_opts(e, t, NULL, m, cb, arg);
}

struct ww_job *
ww_job_start_opts(struct ww_engine *e, const struct ww_target *t,
		  const struct ww_job_opts *opts, struct ww_measurement *m,
		  ww_job_cb cb, void *arg)
{
	struct ww_job *j = xcalloc(1, sizeof(*j));

	j->e = e;
	ww_target_copy(&j->t, t);
	/* A key file named in the input is the probe's: the control service
	 * never reads a file a remote party names (it has its own keys). */
	if (e->control_service) {
		free(j->t.key_file);
		j->t.key_file = NULL;
	}
	j->sni = xstrdup(opts != NULL && opts->sni != NULL ? opts->sni
							   : t->host);
	j->ask_control = e->n_controls > 0 && !e->control_service &&
			 !(opts != NULL && opts->no_control);
	/* the QUIC step: the probe's --quic, or the control asked it */
	j->quic = t->kind == WW_TARGET_HTTPS &&
		  (e->control_service ? opts != NULL && opts->quic
				      : e->quic_step) &&
		  quic_target(t, &j->qt);
	if (opts != NULL && e->control_service) {
		size_t n = opts->n_addrs < WW_CONTROL_MAX_ADDRS
				   ? opts->n_addrs
				   : WW_CONTROL_MAX_ADDRS;

		j->extra = xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			if (ww_ip_is_literal(opts->addrs[i]))
				j->extra[j->n_extra++] =
					xstrdup(opts->addrs[i]);
		j->n_extra = filter_refused(j, j->extra, j->n_extra);
	}
	j->m = m;
	j->cb = cb;
	j->arg = arg;
	j->t_base = ww_mono();
	j->cap_drops0 = cap_kernel_drops(e->cap);
	j->url = xstrdup(t->url != NULL ? t->url : t->input);
	j->cookies = curl_share_init();
	if (j->cookies == NULL)
		abort();
	curl_share_setopt(j->cookies, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
	free(m->resolver);
	m->resolver = xstrdup(e->resolver_desc);
	free(m->category_code);
	m->category_code = xstrdup(t->category_code);
	free(m->control_sni);
	m->control_sni =
		(t->kind == WW_TARGET_HTTPS || t->kind == WW_TARGET_TLS) &&
				!e->control_service
			? xstrdup(e->control_sni)
			: NULL;
	set_hop(j, t->host, t->port,
		t->kind == WW_TARGET_HTTPS || t->kind == WW_TARGET_TLS, j->sni);
	if (t->host_is_ip) {
		char *addr = xstrdup(t->host);
		size_t n = filter_refused(j, &addr, 1);

		if (j->ask_control)
			start_control(j, &t->host, 1);
		host_add(j, t->host, &addr, n);
		if (n > 0)
			free(addr);
		hop_endpoints(j);
	} else {
		start_dns(j);
	}
	return j;
}

void
ww_job_cancel(struct ww_job *j)
{
	j->cancelling = true;
	switch (j->phase) {
	case PH_DNS:
		for (int k = 0; k < 2; k++) {
			dns_cancel(j->dns[k]);
			j->dns[k] = NULL;
		}
		flush_queries(j);
		break;
	case PH_ENDPOINTS:
		if (j->batch != NULL)
			ep_batch_cancel(j->batch);
		break;
	case PH_EXCHANGES:
		if (j->xb != NULL)
			xbatch_cancel(j->xb);
		break;
	case PH_HTTP:
		if (j->http == NULL)
			break;
		http_cancel(j->http);
		j->http = NULL;
		j->hrec.hop = j->hop;
		*ww_add_http(j->m) = j->hrec;
		memset(&j->hrec, 0, sizeof(j->hrec));
		break;
	case PH_DONE:
		break;
	}
	/* Late windows close at once; their evidence goes into m. */
	while (j->n_open > 0)
		dns_cancel(j->open[j->n_open - 1].op);
	if (j->ctl != NULL) {
		ctl_cancel(j->ctl);
		j->ctl = NULL;
	}
	job_free(j);
}
