/*
 * evidence.c - test_keys.packets (docs/measurement-format.md, "packets"):
 * what the capture kept of a measurement's own flows, and every DNS reply
 * its queries got, built once when the job ends.
 *
 * Only the remote side of a flow is written (its address and port); the
 * volunteer's address is never part of a summary.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "failure.h"
#include "internal.h"
#include "packet.h"
#include "util.h"

/* Per measurement (docs/measurement-format.md). */
#define EV_MAX_DNS 16
#define EV_MAX_REPLIES 8
#define EV_MAX_FLOWS 24

/* Seconds since the measurement's start, to the microsecond. */
static json_t *
jtime(double t)
{
	return json_real(round(t * 1e6) / 1e6);
}

static json_t *
jint_or_null(int v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

/* --- DNS ----------------------------------------------------------------- */

/*
 * The IP TTL and ID of each reply, from the query's UDP flow: the datagram
 * with the reply's DNS id and UDP payload length, the first one not taken
 * yet (replies and datagrams both come in arrival order).
 */
static void
match_replies(const struct ww_engine *e, struct ww_query *q)
{
	const struct cap_flow *f = cap_flow_get(e->cap, q->flow);
	bool used[WW_CAP_MAX_DGRAMS] = {false};

	if (f == NULL)
		return;
	for (size_t i = 0; i < q->n_replies; i++) {
		struct ww_dns_msg *r = &q->replies[i];

		for (size_t k = 0; k < f->n_dgrams; k++) {
			const struct cap_dgram *g = &f->dgrams[k];

			if (used[k] || g->dns_id != r->dns_id ||
			    (size_t)g->len != r->wire_len)
				continue;
			used[k] = true;
			r->ip_ttl = g->ttl;
			r->ip_id = g->ip_id;
			break;
		}
	}
}

static json_t *
reply_json(const struct ww_dns_msg *r)
{
	json_t *o = json_object(), *addrs = json_array();
	const char *rcode = ww_rcode_name(r->rcode);
	char *b64;

	for (size_t i = 0; i < r->n_addrs; i++)
		json_array_append_new(addrs, json_string(r->addrs[i]));
	json_object_set_new_nocheck(o, "t", jtime(r->t));
	json_object_set_new_nocheck(o, "dns_id", json_integer(r->dns_id));
	json_object_set_new_nocheck(
		o, "rcode", rcode != NULL ? json_string(rcode) : json_null());
	json_object_set_new_nocheck(o, "question_ok",
				    json_boolean(r->question_ok));
	json_object_set_new_nocheck(o, "addrs", addrs);
	json_object_set_new_nocheck(o, "ip_ttl", jint_or_null(r->ip_ttl));
	json_object_set_new_nocheck(o, "ip_id", jint_or_null(r->ip_id));
	if (r->raw != NULL) {
		b64 = ww_base64(r->raw, r->raw_len < WW_DNS_REPLY_KEEP
						? r->raw_len
						: WW_DNS_REPLY_KEEP);
		json_object_set_new_nocheck(o, "raw_response",
					    json_string(b64));
		free(b64);
	} else {
		json_object_set_new_nocheck(o, "raw_response", json_null());
	}
	return o;
}

static json_t *
query_json(const struct ww_query *q)
{
	json_t *o = json_object(), *replies = json_array();
	size_t n =
		q->n_replies < EV_MAX_REPLIES ? q->n_replies : EV_MAX_REPLIES;
	size_t seen = q->n_replies_seen > q->n_replies ? q->n_replies_seen
						       : q->n_replies;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(replies, reply_json(&q->replies[i]));
	json_object_set_new_nocheck(o, "transaction_id",
				    json_integer(q->transaction_id));
	json_object_set_new_nocheck(o, "hostname", json_string(q->hostname));
	json_object_set_new_nocheck(o, "query_type",
				    json_string(q->query_type));
	json_object_set_new_nocheck(o, "resolver_address",
				    q->resolver_address != NULL
					    ? json_string(q->resolver_address)
					    : json_null());
	json_object_set_new_nocheck(o, "n_sent", json_integer(q->n_sent));
	json_object_set_new_nocheck(o, "n_replies",
				    json_integer((json_int_t)seen));
	json_object_set_new_nocheck(o, "truncated", json_boolean(seen > n));
	json_object_set_new_nocheck(o, "replies", replies);
	return o;
}

/* --- TCP ----------------------------------------------------------------- */

/* A flow that goes into "tcp", with the transactions that name it. */
struct ev_flow {
	uint32_t id;
	const char *ip;
	int port;
	int tids[8];
	size_t n_tids;
	bool failed; /* a step on it failed, beyond its certificate */
};

struct ev_flows {
	struct ev_flow v[EV_MAX_FLOWS];
	size_t n;
	bool dropped; /* more flows than EV_MAX_FLOWS */
};

static void
want_flow(struct ev_flows *fl, uint32_t id, const char *ip, int port, int tid,
	  const char *failure)
{
	struct ev_flow *f = NULL;

	if (id == 0 || ip == NULL)
		return;
	for (size_t i = 0; i < fl->n; i++)
		if (fl->v[i].id == id)
			f = &fl->v[i];
	if (f == NULL) {
		if (fl->n == EV_MAX_FLOWS) {
			fl->dropped = true;
			return;
		}
		f = &fl->v[fl->n++];
		memset(f, 0, sizeof(*f));
		f->id = id;
		f->ip = ip;
		f->port = port;
	}
	/* A handshake that failed only on the certificate went through,
	 * packets and all (the neutral-SNI one always ends so). */
	if (failure != NULL && !failure_is_certificate(failure))
		f->failed = true;
	for (size_t i = 0; i < f->n_tids; i++)
		if (f->tids[i] == tid)
			return;
	if (f->n_tids < WW_ARRAY_LEN(f->tids))
		f->tids[f->n_tids++] = tid;
}

/* seq/ack relative to each direction's initial sequence number. */
static json_t *
pkt_json(const struct cap_flow *f, const struct cap_pkt *p, double t_base)
{
	json_t *o = json_object();
	int d = p->in ? 1 : 0;
	char flags[9];
	uint32_t seq = f->have_isn[d] ? p->seq - f->isn[d] : p->seq;
	uint32_t ack = 0;

	if (p->flags & WW_TCP_ACK)
		ack = f->have_isn[!d] ? p->ack - f->isn[!d] : p->ack;
	ww_tcp_flags_str(p->flags, flags);
	json_object_set_new_nocheck(o, "t", jtime(cap_pkt_time(f, p) - t_base));
	json_object_set_new_nocheck(o, "dir",
				    json_string(p->in ? "in" : "out"));
	json_object_set_new_nocheck(o, "flags", json_string(flags));
	json_object_set_new_nocheck(o, "ttl", json_integer(p->ttl));
	json_object_set_new_nocheck(o, "ip_id", jint_or_null(cap_pkt_ip_id(p)));
	json_object_set_new_nocheck(o, "win", json_integer(p->win));
	json_object_set_new_nocheck(o, "seq", json_integer(seq));
	json_object_set_new_nocheck(o, "ack", json_integer(ack));
	json_object_set_new_nocheck(o, "len", json_integer(p->len));
	return o;
}

/*
 * A flow with nothing for the analysis: its steps succeeded (or failed
 * only on the certificate, after a whole handshake), it opened with a
 * SYN-ACK, every packet in carried that SYN-ACK's TTL and none was an
 * RST. Rules P2 and P3 (docs/verdicts.md) look for exactly those, so its
 * list stops at the SYN-ACK: the server's TTL stays known to the other
 * flows to that address, and a measurement of a working site is not
 * twice its size. --pcap keeps every packet.
 */
static bool
uneventful(const struct cap_flow *f, const struct ev_flow *ef)
{
	return !ef->failed && f->have_in && f->first_in_synack &&
	       !f->in_ttl_varies && !f->saw_rst;
}

/* How many kept summaries to write: all, or up to the first that came in
 * (the SYN-ACK) for an uneventful flow. */
static size_t
pkts_to_write(const struct cap_flow *f, bool handshake_only)
{
	size_t n = cap_flow_n_kept(f);

	if (!handshake_only)
		return n;
	for (size_t i = 0; i < n; i++)
		if (cap_flow_pkt(f, i)->in)
			return i + 1;
	return n;
}

static json_t *
flow_json(const struct ww_engine *e, const struct ev_flow *ef, double t_base)
{
	const struct cap_flow *f = cap_flow_get(e->cap, ef->id);
	json_t *o = json_object(), *tids = json_array(), *pkts = json_array();
	size_t n = f != NULL ? f->n_pkts : 0, w = 0;
	bool hs_only = f != NULL && uneventful(f, ef);

	for (size_t i = 0; i < ef->n_tids; i++)
		json_array_append_new(tids, json_integer(ef->tids[i]));
	if (f != NULL)
		w = pkts_to_write(f, hs_only);
	for (size_t i = 0; i < w; i++)
		json_array_append_new(pkts,
				      pkt_json(f, cap_flow_pkt(f, i), t_base));
	json_object_set_new_nocheck(o, "flow", json_integer(ef->id));
	json_object_set_new_nocheck(o, "transaction_ids", tids);
	json_object_set_new_nocheck(o, "ip", json_string(ef->ip));
	json_object_set_new_nocheck(o, "port", json_integer(ef->port));
	json_object_set_new_nocheck(o, "n_packets",
				    json_integer((json_int_t)n));
	json_object_set_new_nocheck(
		o, "truncated",
		json_boolean(!hs_only && n > WW_CAP_FIRST + WW_CAP_LAST));
	json_object_set_new_nocheck(o, "handshake_only", json_boolean(hs_only));
	json_object_set_new_nocheck(o, "packets", pkts);
	return o;
}

/* The flows worth showing: every failed step's, every request's. */
static void
collect_flows(const struct ww_measurement *m, struct ev_flows *fl)
{
	for (size_t i = 0; i < m->n_tcp; i++) {
		const struct ww_tcp *t = &m->tcp[i];

		if (t->failure != NULL)
			want_flow(fl, t->flow, t->ip, t->port,
				  t->transaction_id, t->failure);
	}
	for (size_t i = 0; i < m->n_tls; i++) {
		const struct ww_tls *t = &m->tls[i];

		if (t->failure != NULL)
			want_flow(fl, t->flow, t->ip, t->port,
				  t->transaction_id, t->failure);
	}
	for (size_t i = 0; i < m->n_http; i++) {
		const struct ww_http *h = &m->http[i];

		want_flow(fl, h->flow, h->ip, h->port, h->transaction_id,
			  h->failure);
	}
}

/* --- the whole ----------------------------------------------------------- */

static void
release_all(struct ww_engine *e, const struct ww_measurement *m)
{
	for (size_t i = 0; i < m->n_queries; i++)
		cap_flow_release(e->cap, m->queries[i].flow);
	for (size_t i = 0; i < m->n_tcp; i++)
		cap_flow_release(e->cap, m->tcp[i].flow);
	for (size_t i = 0; i < m->n_tls; i++)
		cap_flow_release(e->cap, m->tls[i].flow);
	for (size_t i = 0; i < m->n_http; i++)
		cap_flow_release(e->cap, m->http[i].flow);
	for (size_t i = 0; i < m->n_xchg; i++)
		cap_flow_release(e->cap, m->xchg[i].flow);
}

void
ww_evidence_build(struct ww_engine *e, struct ww_measurement *m, double t_base,
		  unsigned cap_drops0)
{
	json_t *o, *dns = json_array(), *tcp = json_array();
	bool on = e->cap != NULL, truncated = false;
	struct ev_flows fl;

	if (!e->packets) {
		json_decref(dns);
		json_decref(tcp);
		return;
	}
	cap_drain(e->cap);
	for (size_t i = 0; i < m->n_queries; i++) {
		struct ww_query *q = &m->queries[i];

		if (q->n_replies < (on ? 1u : 2u))
			continue;
		if (json_array_size(dns) == EV_MAX_DNS) {
			truncated = true;
			continue;
		}
		match_replies(e, q);
		json_array_append_new(dns, query_json(q));
	}
	if (on) {
		memset(&fl, 0, sizeof(fl));
		collect_flows(m, &fl);
		for (size_t i = 0; i < fl.n; i++)
			json_array_append_new(tcp,
					      flow_json(e, &fl.v[i], t_base));
		truncated = truncated || fl.dropped;
	}
	o = json_object();
	json_object_set_new_nocheck(o, "capture",
				    json_string(on ? "on" : "off"));
	json_object_set_new_nocheck(
		o, "capture_failure",
		on ? json_null() : json_string(ww_engine_capture_status(e)));
	json_object_set_new_nocheck(o, "snaplen", json_integer(WW_CAP_SNAPLEN));
	/* The ring is the whole capture's: a drop while this measurement ran
	 * may or may not have been one of its packets. Unsigned subtraction:
	 * libpcap's running count wraps. */
	json_object_set_new_nocheck(
		o, "ring_drops",
		on ? json_integer(cap_kernel_drops(e->cap) - cap_drops0)
		   : json_null());
	json_object_set_new_nocheck(o, "dns", dns);
	json_object_set_new_nocheck(o, "tcp", tcp);
	json_object_set_new_nocheck(o, "truncated", json_boolean(truncated));
	json_decref(m->packets);
	m->packets = o;
	release_all(e, m);
}
