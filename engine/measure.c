/*
 * measure.c - one target's measurement, as a small state machine on the
 * event base:
 *
 *   DNS      A and AAAA in parallel (skipped for an IP literal)
 *   ENDPOINTS for each address (at most max_addrs, A and AAAA interleaved),
 *            in parallel: TCP connect; then for https/tls a TLS handshake
 *            on that connection with the neutral control SNI, then a second
 *            connection with the target's SNI.
 *   HTTP     (http/https) GET pinned to the measured addresses; each
 *            redirect is a new hop, its new host resolved by our DNS step.
 *
 * The control-SNI handshake goes first on purpose: censors keep blocking a
 * (client, server, port) triple for a while after a hit (the GFW's "penalty
 * box", ~90 s), so a control handshake made after the target's would fail
 * too and make SNI filtering look like IP blocking.
 *
 * With control services configured (probe side), the control request goes
 * out as soon as the first DNS step ends, carrying our addresses, and runs
 * beside the ENDPOINTS and HTTP phases; the job ends when both have.
 *
 * As the control service itself (ww_config.control_service), each address
 * gets one handshake with the requested SNI on its first connection, the
 * probe's addresses are connected too, and bogons are never contacted.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "failure.h"
#include "internal.h"
#include "ipaddr.h"
#include "util.h"

enum phase { PH_DNS, PH_ENDPOINTS, PH_REDIRECT_DNS, PH_HTTP, PH_DONE };

enum ep_stage { EP_TCP, EP_TLS_CONTROL, EP_TCP2, EP_TLS_TARGET, EP_DONE };

struct endpoint {
	struct ww_job *j;
	char *ip;
	enum ep_stage stage;
	struct tcp_op *tcp;
	struct tls_op *tls;
	struct ww_tcp tcp_rec;
	struct ww_tls tls_rec[2]; /* [0] control SNI, [1] target SNI; as the
				     control service only [0], target SNI */
	int n_tls;
	bool connected; /* the recorded TCP connect succeeded */
	bool own;       /* resolved by us (not only by the probe) */
};

struct host_addrs {
	char *host;
	char **addrs; /* connected first */
	size_t n;
};

struct ww_job {
	struct ww_engine *e;
	struct ww_target t;
	char *sni; /* for the target handshakes */
	char **extra; /* control service: the probe's addresses */
	size_t n_extra;
	bool ask_control;   /* probe side, with controls configured */
	struct ctl_op *ctl; /* the control request in flight */
	bool chain_done;    /* our own steps have ended */
	struct ww_measurement *m;
	ww_job_cb cb;
	void *arg;
	double t_base;
	enum phase phase;
	int pending;
	/* DNS, for the target's host and for redirect hosts */
	char *dns_host;
	struct dns_op *dns[2];
	struct ww_query qrec[2];
	/* endpoints */
	struct endpoint *eps;
	size_t n_eps;
	/* HTTP */
	CURLSH *cookies;
	struct http_op *http;
	struct ww_http hrec;
	char *url;
	struct curl_slist *pins; /* kept until the hop ends */
	int hops;
	struct host_addrs *hosts;
	size_t n_hosts, cap_hosts;
};

static void start_endpoints(struct ww_job *j, char **addrs, size_t n);
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
		*ww_add_query(j->m) = j->qrec[k];
		memset(&j->qrec[k], 0, sizeof(j->qrec[k]));
	}
}

static void
dns_done(struct ww_job *j)
{
	char *addrs[64];
	size_t n, found;

	if (--j->pending > 0)
		return;
	if (j->phase == PH_DNS && j->ask_control) {
		/* Every address we got goes to the control, not only the
		 * max_addrs we measure. */
		n = collect_addrs(j->qrec, addrs, WW_CONTROL_MAX_ADDRS);
		start_control(j, addrs, n);
		for (size_t i = 0; i < n; i++)
			free(addrs[i]);
	}
	found = collect_addrs(j->qrec, addrs,
			      j->phase == PH_DNS ? (size_t)j->e->max_addrs
						 : WW_ARRAY_LEN(addrs));
	n = filter_refused(j, addrs, found);
	host_add(j, j->dns_host, addrs, n);
	if (j->phase == PH_REDIRECT_DNS && n == 0) {
		/* The hop cannot be made: record it with the DNS failure,
		 * as a browser would show it. */
		const struct ww_query *q = j->qrec[0].failure != NULL
						   ? &j->qrec[0]
						   : &j->qrec[1];

		if (found > 0) /* every address refused (control service) */
			ww_set_failure(&j->hrec.failure,
				       &j->hrec.failure_detail,
				       failure_dns_bogon, NULL);
		else
			ww_set_failure(&j->hrec.failure,
				       &j->hrec.failure_detail,
				       q->failure ? q->failure
						  : failure_dns_no_answer,
				       q->failure_detail);
		j->hrec.url = xstrdup(j->url);
		j->hrec.method = xstrdup("GET");
		j->hrec.t0 = j->hrec.t = ww_mono() - j->t_base;
		j->hrec.transaction_id = j->m->next_transaction_id++;
		flush_queries(j);
		*ww_add_http(j->m) = j->hrec;
		memset(&j->hrec, 0, sizeof(j->hrec));
		finish(j);
		return;
	}
	flush_queries(j);
	if (j->phase == PH_DNS) {
		start_endpoints(j, addrs, n);
	} else {
		start_http(j);
	}
	for (size_t i = 0; i < n; i++)
		free(addrs[i]);
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

static void
start_dns(struct ww_job *j, const char *host)
{
	free(j->dns_host);
	j->dns_host = xstrdup(host);
	j->pending = 2;
	for (int k = 0; k < 2; k++)
		j->qrec[k].transaction_id = j->m->next_transaction_id++;
	j->dns[0] = dns_start(j->e, host, 1, &j->qrec[0], j->t_base,
			      dns_done_a, j);
	j->dns[1] = dns_start(j->e, host, 28, &j->qrec[1], j->t_base,
			      dns_done_aaaa, j);
}

/* --- endpoints ----------------------------------------------------------- */

static void ep_step(struct endpoint *ep);

/* The handshake record of the endpoint's current TLS stage. */
static struct ww_tls *
ep_tls_rec(struct endpoint *ep)
{
	if (ep->stage == EP_TLS_CONTROL || ep->j->e->control_service)
		return &ep->tls_rec[0];
	return &ep->tls_rec[1];
}

static void
ep_tls_done(void *arg)
{
	ep_step(arg);
}

static void
ep_tcp_done(void *arg, int fd, const char *failure, const char *detail)
{
	struct endpoint *ep = arg;
	struct ww_job *j = ep->j;
	double now = ww_mono() - j->t_base;

	ep->tcp = NULL;
	if (ep->stage == EP_TCP) {
		ep->tcp_rec.t = now;
		ww_set_failure(&ep->tcp_rec.failure,
			       &ep->tcp_rec.failure_detail, failure, detail);
		ep->connected = fd >= 0;
	}
	if (fd < 0) {
		if (ep->stage == EP_TCP2) {
			/* The target-SNI handshake never got a connection. */
			struct ww_tls *r = &ep->tls_rec[1];

			r->t = now;
			ww_set_failure(&r->failure, &r->failure_detail,
				       failure, detail);
		}
		ep->stage = EP_DONE;
		ep_step(ep);
		return;
	}
	if (j->t.kind == WW_TARGET_HTTP || j->t.kind == WW_TARGET_TCP) {
		close(fd);
		ep->stage = EP_DONE;
	} else {
		if (ep->stage == EP_TCP && !j->e->control_service)
			ep->stage = EP_TLS_CONTROL;
		else
			ep->stage = EP_TLS_TARGET;
		ep->tls = tls_start(j->e, fd, ep_tls_rec(ep), j->t_base,
				    ep_tls_done, ep);
		return;
	}
	ep_step(ep);
}

/* tid: the transaction (connection) the handshake runs on. */
static void
tls_rec_init(struct endpoint *ep, struct ww_tls *r, const char *sni,
	     const char *role, int tid)
{
	struct ww_job *j = ep->j;

	r->ip = xstrdup(ep->ip);
	r->port = j->t.port;
	r->server_name = xstrdup(sni);
	r->sni_role = role;
	r->t0 = ww_mono() - j->t_base;
	r->transaction_id = tid;
	ep->n_tls++;
}

static void flush_endpoints(struct ww_job *j);
static void endpoints_done(struct ww_job *j);

/* Advance an endpoint after its current operation ended. */
static void
ep_step(struct endpoint *ep)
{
	struct ww_job *j = ep->j;

	ep->tls = NULL;
	switch (ep->stage) {
	case EP_TLS_CONTROL:
		/* Control handshake done; the target's on a new connection. */
		ep->stage = EP_TCP2;
		tls_rec_init(ep, &ep->tls_rec[1], j->sni, "target",
			     j->m->next_transaction_id++);
		ep->tcp = tcp_start(j->e, ep->ip, j->t.port, ep_tcp_done, ep);
		return;
	case EP_TLS_TARGET:
		ep->stage = EP_DONE;
		break;
	default:
		break;
	}
	if (ep->stage != EP_DONE || --j->pending > 0)
		return;
	endpoints_done(j);
}

static void
endpoints_done(struct ww_job *j)
{
	flush_endpoints(j);
	if (j->t.kind == WW_TARGET_HTTP || j->t.kind == WW_TARGET_HTTPS)
		start_http(j);
	else
		finish(j);
}

static void
add_endpoint(struct ww_job *j, const char *ip, bool own)
{
	struct endpoint *ep = &j->eps[j->n_eps++];

	ep->j = j;
	ep->own = own;
	ep->ip = xstrdup(ip);
	ep->tcp_rec.ip = xstrdup(ip);
	ep->tcp_rec.port = j->t.port;
	ep->tcp_rec.transaction_id = j->m->next_transaction_id++;
	if (j->t.kind != WW_TARGET_HTTPS && j->t.kind != WW_TARGET_TLS)
		return;
	if (j->e->control_service)
		tls_rec_init(ep, &ep->tls_rec[0], j->sni, "target",
			     ep->tcp_rec.transaction_id);
	else
		tls_rec_init(ep, &ep->tls_rec[0], j->e->control_sni, "control",
			     ep->tcp_rec.transaction_id);
}

static bool
has_endpoint(const struct ww_job *j, const char *ip)
{
	for (size_t i = 0; i < j->n_eps; i++)
		if (strcmp(j->eps[i].ip, ip) == 0)
			return true;
	return false;
}

/* Measure addrs (ours) and, as the control service, the probe's. */
static void
start_endpoints(struct ww_job *j, char **addrs, size_t n)
{
	j->phase = PH_ENDPOINTS;
	j->eps = xcalloc(n + j->n_extra + 1, sizeof(*j->eps));
	j->n_eps = 0;
	for (size_t i = 0; i < n; i++)
		add_endpoint(j, addrs[i], true);
	for (size_t i = 0; i < j->n_extra; i++)
		if (!has_endpoint(j, j->extra[i]))
			add_endpoint(j, j->extra[i], false);
	j->pending = (int)j->n_eps;
	if (j->n_eps == 0) {
		endpoints_done(j);
		return;
	}
	/* All records exist before any operation can report. */
	for (size_t i = 0; i < j->n_eps; i++) {
		struct endpoint *ep = &j->eps[i];

		ep->tcp_rec.t0 = ww_mono() - j->t_base;
		ep->tcp = tcp_start(j->e, ep->ip, j->t.port, ep_tcp_done, ep);
	}
}

/* Move the endpoint records into the measurement, in address order. */
static void
flush_endpoints(struct ww_job *j)
{
	struct host_addrs *h;
	size_t k = 0;

	for (size_t i = 0; i < j->n_eps; i++) {
		*ww_add_tcp(j->m) = j->eps[i].tcp_rec;
		memset(&j->eps[i].tcp_rec, 0, sizeof(j->eps[i].tcp_rec));
	}
	for (size_t i = 0; i < j->n_eps; i++) {
		struct endpoint *ep = &j->eps[i];

		/* A handshake whose connection never came is not recorded
		 * twice: the control one shares the tcp_connect entry. */
		for (int t = 0; t < ep->n_tls; t++) {
			if (t == 0 && !ep->connected) {
				ww_tls_clear(&ep->tls_rec[0]);
				continue;
			}
			*ww_add_tls(j->m) = ep->tls_rec[t];
			memset(&ep->tls_rec[t], 0, sizeof(ep->tls_rec[t]));
		}
		ep->n_tls = 0;
	}
	/* Pin the target's host to the measured addresses, the ones that
	 * connected first so curl tries those before the others. */
	h = host_find(j, j->t.host);
	if (h != NULL) {
		/* Only our own addresses: the control service fetches
		 * from what it resolved, never from what a probe said. */
		for (size_t i = 0; i < j->n_eps; i++)
			if (j->eps[i].own && j->eps[i].connected) {
				free(h->addrs[k]);
				h->addrs[k++] = xstrdup(j->eps[i].ip);
			}
		for (size_t i = 0; i < j->n_eps; i++)
			if (j->eps[i].own && !j->eps[i].connected) {
				free(h->addrs[k]);
				h->addrs[k++] = xstrdup(j->eps[i].ip);
			}
		for (size_t i = k; i < h->n; i++)
			free(h->addrs[i]);
		h->n = k;
	}
	for (size_t i = 0; i < j->n_eps; i++)
		free(j->eps[i].ip);
	free(j->eps);
	j->eps = NULL;
	j->n_eps = 0;
}

/* --- HTTP ---------------------------------------------------------------- */

/* Split an absolute http(s) URL into host (unbracketed, lower case) and
 * port. Returns 0, or -1 if it is not an http(s) URL with a host. */
static int
url_host_port(const char *url, char **host, int *port)
{
	struct ww_target t;
	char err[256];

	if (ww_target_parse(url, &t, err, sizeof(err)) != 0)
		return -1;
	if (t.kind != WW_TARGET_HTTP && t.kind != WW_TARGET_HTTPS) {
		ww_target_clear(&t);
		return -1;
	}
	*host = t.host;
	*port = t.port;
	t.host = NULL;
	ww_target_clear(&t);
	return 0;
}

static void http_done(void *arg);

static void
refuse_hop(struct ww_job *j)
{
	ww_set_failure(&j->hrec.failure, &j->hrec.failure_detail,
		       failure_http_invalid_redirect_location_host,
		       "refused: a private or reserved address");
	j->hrec.url = xstrdup(j->url);
	j->hrec.method = xstrdup("GET");
	j->hrec.t0 = j->hrec.t = ww_mono() - j->t_base;
	j->hrec.transaction_id = j->m->next_transaction_id++;
	*ww_add_http(j->m) = j->hrec;
	memset(&j->hrec, 0, sizeof(j->hrec));
	finish(j);
}

static bool
is_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

static void
start_http(struct ww_job *j)
{
	struct curl_slist *pins = NULL;
	struct host_addrs *h;
	char *host = NULL;
	int port;

	j->phase = PH_HTTP;
	if (url_host_port(j->url, &host, &port) != 0) {
		finish(j);
		return;
	}
	h = host_find(j, host);
	if (h == NULL && is_ip(host) && refused_addr(j, host)) {
		/* A redirect to a private address: the control service must
		 * not be turned into a proxy into its own network. */
		free(host);
		refuse_hop(j);
		return;
	}
	if (h == NULL && !is_ip(host)) {
		/* A redirect to a host we have not resolved: resolve it with
		 * our own DNS step, never curl's resolver. */
		j->phase = PH_REDIRECT_DNS;
		start_dns(j, host);
		free(host);
		return;
	}
	if (h != NULL && h->n == 0) {
		/* Nothing to pin to: curl would resolve the name itself. */
		free(host);
		finish(j);
		return;
	}
	if (h != NULL) {
		char *entry = xasprintf("%s:%d:", host, port);

		for (size_t i = 0; i < h->n; i++) {
			bool v6 = strchr(h->addrs[i], ':') != NULL;
			char *next = xasprintf("%s%s%s%s%s", entry,
					       i ? "," : "", v6 ? "[" : "",
					       h->addrs[i], v6 ? "]" : "");

			free(entry);
			entry = next;
		}
		pins = curl_slist_append(NULL, entry);
		free(entry);
	}
	free(host);
	j->hrec.transaction_id = j->m->next_transaction_id++;
	j->http = http_start(j->e, j->url, pins, j->cookies, &j->hrec,
			     j->t_base, http_done, j);
	/* curl copies the RESOLVE entries into its DNS cache when the
	 * transfer starts; keep the list until then (see http_done). */
	curl_slist_free_all(j->pins);
	j->pins = pins;
}

static void
http_done(void *arg)
{
	struct ww_job *j = arg;
	const char *loc = j->hrec.location;
	int status = j->hrec.status;
	char *next = NULL;

	j->http = NULL;
	if (status >= 300 && status < 400 && loc != NULL &&
	    j->hops < WW_MAX_REDIRECTS)
		next = xstrdup(loc);
	*ww_add_http(j->m) = j->hrec;
	memset(&j->hrec, 0, sizeof(j->hrec));
	curl_slist_free_all(j->pins);
	j->pins = NULL;
	if (next == NULL) {
		finish(j);
		return;
	}
	j->hops++;
	free(j->url);
	j->url = next;
	start_http(j);
}

/* --- the control request (probe side) ----------------------------------- */

static void job_free(struct ww_job *j);

static void
ctl_done(void *arg)
{
	struct ww_job *j = arg;

	j->ctl = NULL;
	if (j->chain_done)
		job_free(j);
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
	json_object_set_new(req, "sni", json_string(j->sni));
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (body == NULL)
		abort();
	j->ctl = ctl_start(j->e, body, j->m, j->t_base, ctl_done, j);
	free(body);
}

/* --- job lifetime ---------------------------------------------------------- */

/* Our own steps have ended; the job ends once the control has answered. */
static void
finish(struct ww_job *j)
{
	j->phase = PH_DONE;
	j->chain_done = true;
	if (j->ctl != NULL)
		return;
	job_free(j);
}

static void
job_free(struct ww_job *j)
{
	ww_job_cb cb = j->cb;
	void *arg = j->arg;
	struct ww_measurement *m = j->m;

	m->test_runtime = ww_mono() - j->t_base;
	for (size_t i = 0; i < j->n_hosts; i++) {
		for (size_t k = 0; k < j->hosts[i].n; k++)
			free(j->hosts[i].addrs[k]);
		free(j->hosts[i].addrs);
		free(j->hosts[i].host);
	}
	free(j->hosts);
	for (int k = 0; k < 2; k++)
		ww_query_clear(&j->qrec[k]);
	ww_http_clear(&j->hrec);
	curl_slist_free_all(j->pins);
	curl_share_cleanup(j->cookies);
	free(j->dns_host);
	free(j->url);
	free(j->sni);
	for (size_t i = 0; i < j->n_extra; i++)
		free(j->extra[i]);
	free(j->extra);
	ww_target_clear(&j->t);
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
	j->sni = xstrdup(opts != NULL && opts->sni != NULL ? opts->sni
							  : t->host);
	j->ask_control = e->n_controls > 0 && !e->control_service &&
			 !(opts != NULL && opts->no_control);
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
	j->url = xstrdup(t->input);
	j->cookies = curl_share_init();
	if (j->cookies == NULL)
		abort();
	curl_share_setopt(j->cookies, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
	free(m->resolver);
	m->resolver = xstrdup(e->resolver_desc);
	free(m->category_code);
	m->category_code = xstrdup(t->category_code);
	free(m->control_sni);
	m->control_sni = (t->kind == WW_TARGET_HTTPS ||
			  t->kind == WW_TARGET_TLS) &&
					 !e->control_service
				 ? xstrdup(e->control_sni)
				 : NULL;
	if (t->host_is_ip) {
		char *addr = xstrdup(t->host);
		size_t n = filter_refused(j, &addr, 1);

		if (j->ask_control)
			start_control(j, &t->host, 1);
		host_add(j, t->host, &addr, n);
		start_endpoints(j, &addr, n);
		if (n > 0)
			free(addr);
	} else {
		j->phase = PH_DNS;
		start_dns(j, t->host);
	}
	return j;
}

void
ww_job_cancel(struct ww_job *j)
{
	switch (j->phase) {
	case PH_DNS:
	case PH_REDIRECT_DNS:
		for (int k = 0; k < 2; k++)
			dns_cancel(j->dns[k]);
		flush_queries(j);
		break;
	case PH_ENDPOINTS:
		for (size_t i = 0; i < j->n_eps; i++) {
			struct endpoint *ep = &j->eps[i];
			double now = ww_mono() - j->t_base;
			struct ww_tls *r;

			if (ep->stage == EP_DONE)
				continue;
			tcp_cancel(ep->tcp);
			tls_cancel(ep->tls);
			if (ep->stage == EP_TCP) {
				/* No handshake started: only the connect is
				 * recorded (flush drops the control rec). */
				ww_set_failure(&ep->tcp_rec.failure,
					       &ep->tcp_rec.failure_detail,
					       failure_interrupted, NULL);
				ep->tcp_rec.t = now;
				ep->connected = false;
				continue;
			}
			r = ep->stage == EP_TCP2 ? &ep->tls_rec[1]
						 : ep_tls_rec(ep);
			ww_set_failure(&r->failure, &r->failure_detail,
				       failure_interrupted, NULL);
			r->t = now;
		}
		flush_endpoints(j);
		break;
	case PH_HTTP:
		if (j->http == NULL)
			break;
		http_cancel(j->http);
		j->http = NULL;
		*ww_add_http(j->m) = j->hrec;
		memset(&j->hrec, 0, sizeof(j->hrec));
		break;
	case PH_DONE:
		break;
	}
	if (j->ctl != NULL) {
		ctl_cancel(j->ctl);
		j->ctl = NULL;
	}
	job_free(j);
}
