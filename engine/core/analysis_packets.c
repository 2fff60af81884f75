/*
 * analysis_packets.c - proof of injection from the probe's own packets
 * (test_keys.packets, docs/measurement-format.md; the rules and why in
 * docs/verdicts.md, "Packet evidence").
 *
 * Three facts are looked for, each proof that a packet did not come from
 * the server the probe talked to:
 *   - two DNS answers to one query id that give disjoint address sets (a
 *     resolver answers a query once: the other answer was forged);
 *   - an RST that ended a failed step with a TTL unlike the server's
 *     packets on the same connection, several RSTs with different sequence
 *     numbers at once, or the server's data still coming after the RST;
 *   - the payload of an http-diff page with a TTL unlike the SYN-ACK's.
 * This file finds the facts, records them (c->evidence and its sentence)
 * and applies rules P1-P3 to the verdict of the walk (analysis.c calls
 * pk_apply_dns() and pk_apply_flows() before rule A).
 *
 * The packets are untrusted JSON like the rest: every access is
 * type-checked, anything odd is "no evidence" (never "injected"), and at
 * most WW_ANALYSIS_MAX_ITEMS DNS entries and the PK_MAX_* below are read.
 */
#include "analysis_int.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "failure.h"
#include "util.h"

/* Replies and addresses per reply read (dns.c keeps 8 and 64): more is
 * not what the probe writes, so no evidence. */
#define PK_MAX_REPLIES 16
#define PK_MAX_ADDRS 64
/* Flows and packets per flow read (the probe writes 24 and 32): a record
 * may look through every flow for the server's TTL, so these bound the
 * work per record, not only the reading. */
#define PK_MAX_FLOWS 64
#define PK_MAX_PKTS 64

static size_t
cap(size_t n, size_t max)
{
	return n < max ? n : max;
}

/* --- evidence ------------------------------------------------------------- */

static void
add_evidence(struct ctx *c, const char *name)
{
	for (size_t i = 0; i < json_array_size(c->evidence); i++)
		if (is(json_string_value(json_array_get(c->evidence, i)), name))
			return;
	json_array_append_new(c->evidence, json_string(name));
}

/* Append one clause to the sentence ("; " between clauses); a clause that
 * does not fit whole is left out. */
static void add_detail(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
add_detail(struct ctx *c, const char *fmt, ...)
{
	char buf[PK_DETAIL_MAX];
	size_t len = strlen(c->evidence_detail);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) ||
	    len + (len > 0 ? 2 : 0) + (size_t)n >= PK_DETAIL_MAX)
		return;
	if (len > 0) {
		memcpy(c->evidence_detail + len, "; ", 2);
		len += 2;
	}
	memcpy(c->evidence_detail + len, buf, (size_t)n + 1);
}

static bool
ttl_of(const json_t *o, const char *key, int *ttl)
{
	long long v;

	if (!jint(o, key, &v) || v < 0 || v > 255)
		return false;
	*ttl = (int)v;
	return true;
}

/* The initial TTL a packet most likely left with: the nearest of the
 * usual defaults at or above ttl (64: Linux, BSD, macOS; 128: Windows;
 * 255: routers and appliances). 32 (Windows 95) is left out: a path of
 * more than 32 hops, rare as it is, is likelier today. */
static int
initial_ttl(int ttl)
{
	return ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255;
}

/* Two packets came from different places: their TTLs differ by
 * WW_RST_TTL_DELTA and so do the hop counts they imply. A device in front
 * of a Windows server (128) that resets with its own default (64, 255)
 * differs by some 60 in TTL and by one hop in distance: the same place
 * (docs/verdicts.md, "TTLs apart"). */
static bool
ttl_differs(int a, int b)
{
	int hops_a = initial_ttl(a) - a, hops_b = initial_ttl(b) - b;

	return abs(a - b) >= WW_RST_TTL_DELTA &&
	       abs(hops_a - hops_b) >= WW_RST_TTL_DELTA;
}

/* --- DNS: two answers to one id ------------------------------------------- */

/* One usable reply: an answer to our question with a name for its rcode
 * and its addresses as a set. */
struct reply {
	long long id;
	const char *rcode;
	struct ip addrs[PK_MAX_ADDRS];
	size_t n_addrs;
	bool have_ttl;
	int ttl;
	bool have_t;
	double t;
};

/* r from the JSON reply o; false when o cannot be read as an answer to
 * our question (no id, no rcode name, another question, odd addresses). */
static bool
read_reply(const json_t *o, struct reply *r)
{
	const json_t *addrs = jarr(o, "addrs");
	struct ip ip;

	memset(r, 0, sizeof(*r));
	r->rcode = jstr(o, "rcode");
	if (!jint(o, "dns_id", &r->id) || r->id < 0 || r->id > 65535 ||
	    r->rcode == NULL || !jtrue(o, "question_ok") || addrs == NULL ||
	    json_array_size(addrs) > PK_MAX_ADDRS)
		return false;
	for (size_t i = 0; i < json_array_size(addrs); i++) {
		if (!ip_parse(json_string_value(json_array_get(addrs, i)), &ip))
			return false;
		if (!ip_in(&ip, r->addrs, r->n_addrs))
			r->addrs[r->n_addrs++] = ip;
	}
	/* an empty answer is a claim only as NOERROR or NXDOMAIN (the forms
	 * a forger uses); a SERVFAIL or REFUSED says nothing about the name */
	if (r->n_addrs == 0 && !is(r->rcode, "NOERROR") &&
	    !is(r->rcode, "NXDOMAIN"))
		return false;
	r->have_ttl = ttl_of(o, "ip_ttl", &r->ttl);
	r->have_t = jnum(o, "t", &r->t);
	return true;
}

static bool
same_set(const struct reply *a, const struct reply *b)
{
	if (a->n_addrs != b->n_addrs)
		return false;
	for (size_t i = 0; i < a->n_addrs; i++)
		if (!ip_in(&a->addrs[i], b->addrs, b->n_addrs))
			return false;
	return true;
}

/* Two answers that cannot both be the resolver's honest word: different
 * sets with no address in common. Sets that share an address are what a
 * round-robin or CDN name gives twice (a subset of the pool each time)
 * when a query is answered twice without a forger: a query datagram
 * duplicated on the way, a home router that relays the answer of each of
 * its upstreams. A forger does not know the real addresses and answers
 * with its own (pk_dns_overlap_round_robin). */
static bool
answers_conflict(const struct reply *a, const struct reply *b)
{
	if (same_set(a, b))
		return false;
	for (size_t i = 0; i < a->n_addrs; i++)
		if (ip_in(&a->addrs[i], b->addrs, b->n_addrs))
			return false;
	return true;
}

/* "93.184.215.14", "93.184.215.14 (+2)", "NXDOMAIN", "no address" */
static void
describe_answer(const struct reply *r, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (r->n_addrs == 0) {
		snprintf(out, len, "%s",
			 is(r->rcode, "NXDOMAIN") ? "NXDOMAIN" : "no address");
		return;
	}
	if (inet_ntop(r->addrs[0].family, r->addrs[0].a, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	if (r->n_addrs > 1)
		snprintf(out, len, "%s (+%zu)", a, r->n_addrs - 1);
	else
		snprintf(out, len, "%s", a);
}

/* " (at 0.003 s, ttl 51)", " (ttl 51)", "" */
static void
describe_arrival(const struct reply *r, char *out, size_t len)
{
	if (r->have_t && r->have_ttl)
		snprintf(out, len, " (at %.3f s, ttl %d)", r->t, r->ttl);
	else if (r->have_t)
		snprintf(out, len, " (at %.3f s)", r->t);
	else if (r->have_ttl)
		snprintf(out, len, " (ttl %d)", r->ttl);
	else
		out[0] = '\0';
}

/* A name from the JSON for the sentence: printable ASCII (A-labels, as the
 * probe writes names), anything else '?', cut to fit. */
static void
safe_text(const char *s, char *out, size_t len)
{
	size_t i = 0;

	for (; s != NULL && s[i] != '\0' && i + 1 < len; i++)
		out[i] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
	if (i == 0)
		snprintf(out, len, "?");
}

static void
record_dns(struct ctx *c, const json_t *e, const struct reply *first,
	   const struct reply *later)
{
	char a1[80], a2[80], w1[48], w2[48], name[72], qtype[12];

	safe_text(jstr(e, "hostname"), name, sizeof(name));
	safe_text(jstr(e, "query_type"), qtype, sizeof(qtype));

	describe_answer(first, a1, sizeof(a1));
	describe_answer(later, a2, sizeof(a2));
	describe_arrival(first, w1, sizeof(w1));
	describe_arrival(later, w2, sizeof(w2));
	add_evidence(c, "dns_injected");
	add_detail(c,
		   "two answers to DNS id %lld (%s %s): first %s%s, "
		   "later %s%s; the later is usually the real one",
		   first->id, name, qtype, a1, w1, a2, w2);
	if (first->have_ttl && later->have_ttl &&
	    ttl_differs(first->ttl, later->ttl)) {
		add_evidence(c, "dns_ttl_mismatch");
		add_detail(c, "DNS answer ttl %d vs %d", first->ttl,
			   later->ttl);
	}
}

/* Two replies of entry e to one id with different address sets (recorded
 * as evidence when record). Replies to different ids (our retransmissions)
 * prove nothing: each id may have reached the resolver at another moment
 * of an answer that changes (round-robin, a CDN). */
static bool
dns_entry_injected(struct ctx *c, const json_t *e, bool record)
{
	const json_t *rs = jarr(e, "replies");
	size_t n = cap(json_array_size(rs), PK_MAX_REPLIES);
	struct reply *r = xcalloc(PK_MAX_REPLIES, sizeof(*r));
	bool ok[PK_MAX_REPLIES] = {false}, found = false;

	for (size_t i = 0; i < n; i++)
		ok[i] = read_reply(json_array_get(rs, i), &r[i]);
	for (size_t i = 0; i < n && !found; i++)
		for (size_t j = i + 1; j < n && !found; j++)
			if (ok[i] && ok[j] && r[i].id == r[j].id &&
			    answers_conflict(&r[i], &r[j])) {
				if (record)
					record_dns(c, e, &r[i], &r[j]);
				found = true;
			}
	free(r);
	return found;
}

/* The hop whose name the entry's query was for; -1: none. */
static int
dns_entry_hop(const struct ctx *c, const json_t *e)
{
	const char *name = jstr(e, "hostname");

	for (size_t k = 0; k < c->n_hops; k++)
		if (c->hops[k].have_t && !c->hops[k].t.host_is_ip &&
		    host_eq(name, c->hops[k].t.host))
			return (int)k;
	return -1;
}

/*
 * The lowest hop whose name got two different answers to one query id
 * (the evidence: the first such query of that hop); -1 when none. A query
 * for a name of no hop is not about this target.
 */
static int
pk_dns_injected(struct ctx *c)
{
	const json_t *dns = jarr(jobj(c->tk, "packets"), "dns");
	const json_t *best_e = NULL;
	int best = -1;

	if (!c->have_target)
		return -1;
	for (size_t i = 0; i < jlen(dns); i++) {
		const json_t *e = json_array_get(dns, i);
		int k = dns_entry_hop(c, e);

		if (k >= 0 && (best < 0 || k < best) &&
		    dns_entry_injected(c, e, false)) {
			best = k;
			best_e = e;
		}
	}
	if (best_e != NULL)
		dns_entry_injected(c, best_e, true);
	return best;
}

/* --- TCP flows ------------------------------------------------------------ */

/* One packet summary, read defensively. */
struct pkt {
	bool in;
	unsigned flags; /* WW_TCP_* bits */
	bool have_ttl;
	int ttl;
	bool have_t;
	double t;
	bool have_seq;
	uint32_t seq;
	bool have_ack;
	uint32_t ack;
	long long len;
};

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_ACK 0x10

/* "SA", "RA", "FPA": the letters of docs/measurement-format.md. */
static bool
parse_flags(const char *s, unsigned *out)
{
	static const char letters[] = "FSRPAUEC";

	*out = 0;
	if (s == NULL)
		return false;
	for (; *s != '\0'; s++) {
		const char *p = strchr(letters, *s);

		if (p == NULL)
			return false;
		*out |= 1u << (p - letters);
	}
	return true;
}

static bool
read_pkt(const json_t *o, struct pkt *p)
{
	const char *dir = jstr(o, "dir");
	long long v;

	memset(p, 0, sizeof(*p));
	if (!is(dir, "in") && !is(dir, "out"))
		return false;
	p->in = is(dir, "in");
	if (!parse_flags(jstr(o, "flags"), &p->flags))
		return false;
	if (!jint(o, "len", &p->len) || p->len < 0)
		p->len = 0;
	p->have_ttl = ttl_of(o, "ttl", &p->ttl);
	p->have_t = jnum(o, "t", &p->t);
	if (jint(o, "seq", &v) && v >= 0 && v <= UINT32_MAX) {
		p->have_seq = true;
		p->seq = (uint32_t)v;
	}
	if (jint(o, "ack", &v) && v >= 0 && v <= UINT32_MAX) {
		p->have_ack = true;
		p->ack = (uint32_t)v;
	}
	return true;
}

static bool
is_rst_in(const struct pkt *p)
{
	return p->in && (p->flags & F_RST);
}

static bool
is_synack_in(const struct pkt *p)
{
	return p->in && (p->flags & (F_SYN | F_ACK | F_RST)) == (F_SYN | F_ACK);
}

/* The packets.tcp entry of flow id. */
static const json_t *
flow_entry(const struct ctx *c, long long id)
{
	const json_t *tcp = jarr(jobj(c->tk, "packets"), "tcp");
	long long f;

	for (size_t i = 0; i < cap(jlen(tcp), PK_MAX_FLOWS); i++) {
		const json_t *e = json_array_get(tcp, i);

		if (jint(e, "flow", &f) && f == id)
			return e;
	}
	return NULL;
}

/* Flow entry e lists transaction tid and goes to the record's endpoint. */
static bool
flow_serves(const json_t *e, long long tid, const struct ip *ip, long port)
{
	const json_t *tids = jarr(e, "transaction_ids");
	struct ip fip;
	long long fport;

	if (!ip_parse(jstr(e, "ip"), &fip) || !ip_eq(&fip, ip) ||
	    !jint(e, "port", &fport) || fport != port)
		return false;
	for (size_t i = 0; i < jlen(tids); i++) {
		json_t *v = json_array_get(tids, i);

		if (json_is_integer(v) && json_integer_value(v) == tid)
			return true;
	}
	return false;
}

/*
 * The connection of record rec (a tcp_connect, tls_handshakes or requests
 * entry) in packets.tcp, and its flow number: the record's "flow" when it
 * has one; else the one flow to the record's endpoint that lists the
 * record's transaction_id (two such flows: ambiguous, none).
 */
static const json_t *
record_flow(const struct ctx *c, const json_t *rec, long long *flow)
{
	const json_t *tcp = jarr(jobj(c->tk, "packets"), "tcp"), *found = NULL;
	long long tid;
	struct ip ip;
	long port;

	if (jint(rec, "flow", flow))
		return *flow > 0 ? flow_entry(c, *flow) : NULL;
	if (!jint(rec, "transaction_id", &tid) ||
	    !entry_endpoint(rec, &ip, &port))
		return NULL;
	for (size_t i = 0; i < cap(jlen(tcp), PK_MAX_FLOWS); i++) {
		const json_t *e = json_array_get(tcp, i);

		if (!flow_serves(e, tid, &ip, port))
			continue;
		if (found != NULL)
			return NULL;
		found = e;
	}
	if (found == NULL || !jint(found, "flow", flow))
		return NULL;
	return found;
}

/* The TTL of the first SYN-ACK of flow entry e. */
static bool
synack_ttl(const json_t *e, int *ttl)
{
	const json_t *ps = jarr(e, "packets");
	struct pkt p;

	for (size_t i = 0; i < cap(jlen(ps), PK_MAX_PKTS); i++)
		if (read_pkt(json_array_get(ps, i), &p) && is_synack_in(&p) &&
		    p.have_ttl) {
			*ttl = p.ttl;
			return true;
		}
	return false;
}

/*
 * The server's TTL for flow entry e: its SYN-ACK's; without one (a connect
 * refused by an RST has none), the SYN-ACK of another flow to the same
 * address and port, which came from the same host by the same route.
 * *other is the flow it came from (0: e itself).
 */
static bool
server_ttl(const struct ctx *c, const json_t *e, int *ttl, long long *other)
{
	const json_t *tcp = jarr(jobj(c->tk, "packets"), "tcp");
	struct ip ip, oip;
	long long port, oport;

	*other = 0;
	if (synack_ttl(e, ttl))
		return true;
	if (!ip_parse(jstr(e, "ip"), &ip) || !jint(e, "port", &port))
		return false;
	for (size_t i = 0; i < cap(jlen(tcp), PK_MAX_FLOWS); i++) {
		const json_t *o = json_array_get(tcp, i);

		if (o == e || !ip_parse(jstr(o, "ip"), &oip) ||
		    !ip_eq(&ip, &oip) || !jint(o, "port", &oport) ||
		    oport != port || !jint(o, "flow", other))
			continue;
		if (synack_ttl(o, ttl))
			return true;
	}
	*other = 0;
	return false;
}

/* The findings on one flow. */
struct rst_facts {
	bool mismatch, burst, after;
	int rst_ttl, srv_ttl;
	long long ttl_from; /* the flow the server's TTL came from; 0: this */
	size_t n_burst;
	double t_rst, t_data;
};

/* Packets of flow entry e, read in arrival order (at most PK_MAX_PKTS). */
static size_t
read_pkts(const json_t *e, struct pkt *ps)
{
	const json_t *a = jarr(e, "packets");
	size_t n = 0;

	for (size_t i = 0; i < cap(jlen(a), PK_MAX_PKTS); i++)
		if (read_pkt(json_array_get(a, i), &ps[n]))
			n++;
	return n;
}

/* seq is the acknowledgement number of one of our segments before
 * packet k: a host that no longer has the connection answers each segment
 * with an RST at the number that segment acknowledged (RFC 9293,
 * 3.10.7.1). */
static bool
acked_by_us(const struct pkt *ps, size_t k, uint32_t seq)
{
	for (size_t i = 0; i < k; i++)
		if (!ps[i].in && (ps[i].flags & F_ACK) && ps[i].have_ack &&
		    ps[i].ack == seq)
			return true;
	return false;
}

static bool
rst_in_window(const struct pkt *first, const struct pkt *p)
{
	return is_rst_in(p) && p->have_t && p->have_seq && p->t >= first->t &&
	       p->t - first->t <= WW_RST_BURST_WINDOW;
}

/*
 * Two or more RSTs in within WW_RST_BURST_WINDOW, with two different seq
 * that none of our segments acknowledged. A server that aborts sends one
 * RST at the end of what it sent, and then one per segment of ours still
 * in flight, each at the number that segment acknowledged: several seq
 * within milliseconds, all but one ours (pk_http_abort_acks_in_flight).
 * The GFW's three RSTs at X, X+1460, X+4380 name two numbers we never
 * acknowledged.
 */
static void
find_burst(const struct pkt *ps, size_t n, struct rst_facts *f)
{
	uint32_t odd[2];

	for (size_t i = 0; i < n; i++) {
		size_t count = 0, n_odd = 0;

		if (!rst_in_window(&ps[i], &ps[i]))
			continue;
		for (size_t j = i; j < n; j++) {
			if (!rst_in_window(&ps[i], &ps[j]))
				continue;
			count++;
			if (acked_by_us(ps, j, ps[j].seq) ||
			    (n_odd > 0 && odd[0] == ps[j].seq) || n_odd == 2)
				continue;
			odd[n_odd++] = ps[j].seq;
		}
		if (n_odd == 2 && count > f->n_burst) {
			f->burst = true;
			f->n_burst = count;
		}
	}
}

/* Server data after the first RST in, that the server sent after the
 * point the RST claims it stopped at (its seq at or beyond the RST's): a
 * server that resets sends nothing more, and data sent before its RST
 * would carry lower sequence numbers. */
static void
find_after(const struct pkt *ps, size_t n, struct rst_facts *f)
{
	size_t r = n;

	for (size_t i = 0; i < n && r == n; i++)
		if (is_rst_in(&ps[i]) && ps[i].have_seq)
			r = i;
	for (size_t j = r + 1; j < n; j++) {
		const struct pkt *d = &ps[j];

		if (d->in && !(d->flags & F_RST) && d->len > 0 && d->have_seq &&
		    (int32_t)(d->seq - ps[r].seq) >= 0) {
			f->after = true;
			f->t_rst = ps[r].have_t ? ps[r].t : -1;
			f->t_data = d->have_t ? d->t : -1;
			return;
		}
	}
}

static void
record_rst(struct ctx *c, long long flow, const struct rst_facts *f)
{
	add_evidence(c, "rst_injected");
	if (f->mismatch) {
		add_evidence(c, "rst_ttl_mismatch");
		if (f->ttl_from != 0)
			add_detail(c,
				   "RST ttl %d vs server ttl %d (SYN-ACK of "
				   "flow %lld, same address and port) on "
				   "flow %lld",
				   f->rst_ttl, f->srv_ttl, f->ttl_from, flow);
		else
			add_detail(c,
				   "RST ttl %d vs server ttl %d on flow %lld",
				   f->rst_ttl, f->srv_ttl, flow);
	}
	if (f->burst) {
		add_evidence(c, "rst_burst");
		add_detail(c,
			   "%zu RSTs with different seq within %.0f ms on "
			   "flow %lld",
			   f->n_burst, WW_RST_BURST_WINDOW * 1000, flow);
	}
	if (f->after) {
		add_evidence(c, "server_after_rst");
		if (f->t_rst >= 0 && f->t_data >= 0)
			add_detail(c,
				   "server data at %.3f s after the RST at "
				   "%.3f s on flow %lld",
				   f->t_data, f->t_rst, flow);
		else
			add_detail(c, "server data after the RST on flow %lld",
				   flow);
	}
}

/* Some payload in on the flow came with (about) ttl. A SYN proxy or a
 * DDoS scrubber answers the SYN for the server and splices the rest: the
 * SYN-ACK has the proxy's TTL, the data and the server's own RST another
 * (pk_tls_reset_syn_proxy). An RST like the data may be the server's. */
static bool
like_data(const struct pkt *ps, size_t n, int ttl)
{
	for (size_t i = 0; i < n; i++)
		if (ps[i].in && !(ps[i].flags & (F_RST | F_SYN)) &&
		    ps[i].len > 0 && ps[i].have_ttl &&
		    !ttl_differs(ps[i].ttl, ttl))
			return true;
	return false;
}

/* The RST on the flow of record rec was not the server's. */
static bool
flow_rst_injected(struct ctx *c, const json_t *rec)
{
	struct rst_facts f = {0};
	const json_t *e;
	struct pkt *ps;
	long long flow;
	size_t n;

	if ((e = record_flow(c, rec, &flow)) == NULL)
		return false;
	ps = xcalloc(PK_MAX_PKTS, sizeof(*ps));
	n = read_pkts(e, ps);
	if (server_ttl(c, e, &f.srv_ttl, &f.ttl_from))
		for (size_t i = 0; i < n && !f.mismatch; i++)
			if (is_rst_in(&ps[i]) && ps[i].have_ttl &&
			    ttl_differs(ps[i].ttl, f.srv_ttl) &&
			    !like_data(ps, n, ps[i].ttl)) {
				f.mismatch = true;
				f.rst_ttl = ps[i].ttl;
			}
	find_burst(ps, n, &f);
	find_after(ps, n, &f);
	free(ps);
	if (f.mismatch || f.burst || f.after)
		record_rst(c, flow, &f);
	return f.mismatch || f.burst || f.after;
}

/* The record's failure is a reset: an RST ended it. */
static bool
reset_failure(const char *f, bool connect)
{
	return is(f, failure_connection_reset) ||
	       (connect && is(f, failure_connection_refused));
}

/*
 * The failed step (TCP, TLS or HTTP) of hop k ended with an RST that the
 * packets prove was not the server's, on some record of that step. *rec:
 * the first such record (its failure names the detail).
 */
static bool
pk_reset_injected(struct ctx *c, enum pk_step step, size_t k,
		  const json_t **rec)
{
	const struct hop *h = &c->hops[k];
	const json_t *arr = NULL;
	struct ip ip;
	long port;

	*rec = NULL;
	if (k >= c->n_hops)
		return false;
	if (step == PK_STEP_HTTP) {
		if (reset_failure(jfailure(h->req), false) &&
		    flow_rst_injected(c, h->req))
			*rec = h->req;
		return *rec != NULL;
	}
	if (!h->have_t)
		return false;
	arr = jarr(c->tk,
		   step == PK_STEP_TCP ? "tcp_connect" : "tls_handshakes");
	for (size_t i = 0; i < jlen(arr); i++) {
		const json_t *e = json_array_get(arr, i);
		const char *f = step == PK_STEP_TCP
					? jfailure(jobj(e, "status"))
					: jfailure(e);

		if (!in_hop(h, k, e, &ip, &port) ||
		    (step == PK_STEP_TLS && !is_target_hs(e, h->t.host)) ||
		    !reset_failure(f, step == PK_STEP_TCP) ||
		    !flow_rst_injected(c, e))
			continue;
		*rec = e; /* the first is enough: one proof */
		return true;
	}
	return false;
}

/* --- an injected HTTP response -------------------------------------------- */

/* Payload in on the request's flow with a TTL unlike the SYN-ACK's: the
 * page (or part of it) came from another host than the server. */
static bool
pk_http_injected(struct ctx *c, const json_t *req)
{
	const json_t *e;
	struct pkt *ps;
	long long flow, from;
	int ref;
	size_t n;
	bool found = false;

	if ((e = record_flow(c, req, &flow)) == NULL ||
	    !server_ttl(c, e, &ref, &from))
		return false;
	ps = xcalloc(PK_MAX_PKTS, sizeof(*ps));
	n = read_pkts(e, ps);
	for (size_t i = 0; i < n && !found; i++)
		if (ps[i].in && ps[i].len > 0 && ps[i].have_ttl &&
		    ttl_differs(ps[i].ttl, ref)) {
			add_evidence(c, "http_injected");
			add_evidence(c, "http_ttl_mismatch");
			add_detail(c,
				   "HTTP payload ttl %d vs SYN-ACK ttl %d on "
				   "flow %lld",
				   ps[i].ttl, ref, flow);
			found = true;
		}
	free(ps);
	return found;
}

/* --- the rules (analysis.c calls them after the walk) --------------------- */

/*
 * The page came intact through hop j's name despite a forged answer: over
 * HTTPS a target handshake with the name verified (whatever address it
 * went to, the server proved to be the site's); over plain HTTP the walk
 * found the page accessible and it is strictly the control's (row 34's
 * test, since nothing authenticates it).
 */
static bool
page_intact(const struct ctx *c, size_t j)
{
	const struct hop *h = &c->hops[j];
	const json_t *hss = jarr(c->tk, "tls_handshakes");

	if (h->https || (j == 0 && c->t.kind == WW_TARGET_TLS)) {
		for (size_t i = 0; i < jlen(hss); i++) {
			const json_t *hs = json_array_get(hss, i);

			if (is_target_hs(hs, h->t.host) &&
			    tls_state(hs) == TS_VERIFIED)
				return true;
		}
		return false;
	}
	return c->v.blocking == WW_BLOCKING_FALSE &&
	       c->v.accessible == TRI_TRUE && same_page_strict(c);
}

/*
 * Rule P1. Two different answers to one DNS query id prove a forger on
 * the path, with or without a control or a fingerprint: dns.injected,
 * confirmed, at the name's hop. Not when the walk stopped before that
 * hop (its failure is not the name's), and not when the page came intact
 * through it: then the injection is evidence only, and the page decides.
 */
/*
 * Every packets.dns entry is of a resolver other than the probe's own
 * ("extra_resolver": OONI's DNS-over-UDP lookup to a public resolver,
 * analysis_ooni.c), and the probe's own lookup of hop j's name got
 * addresses that are neither forged nor a bogon: the injection is proven
 * on this network's path, but what this user's resolver answered was not
 * forged, so it is evidence and the walk's verdict stands.
 */
static bool
own_answer_sound(const struct ctx *c, size_t j)
{
	const json_t *dns = jarr(jobj(c->tk, "packets"), "dns");
	const struct hop *h = &c->hops[j];

	for (size_t i = 0; i < jlen(dns); i++)
		if (!jtrue(json_array_get(dns, i), "extra_resolver"))
			return false;
	return jlen(dns) > 0 && h->n_addrs > 0 && !h->bogon &&
	       !is(h->consistency, "inconsistent");
}

void
pk_apply_dns(struct ctx *c)
{
	int j = pk_dns_injected(c);

	if (j < 0 || c->confirmed || (c->v.hop >= 0 && j > c->v.hop) ||
	    page_intact(c, (size_t)j) || own_answer_sound(c, (size_t)j))
		return;
	c->cur_hop = j;
	set_blocked(c, WW_BLOCKING_DNS, "dns.injected", "dns_injected_replies",
		    NULL);
	c->confirmed = true;
}

static bool
is_reset_detail(const char *d)
{
	return is(d, "tcp.reset") || is(d, "tls.reset") || is(d, "http.reset");
}

/* The class of a reset proven injected when the control could not tell:
 * the step's, and for TLS the neutral handshake's word on the address. */
static enum ww_blocking
reset_class(const struct ctx *c, const json_t *rec)
{
	const struct hop *h = &c->hops[c->stop_hop];
	const json_t *neutral;
	struct ip ip;
	long port;

	switch (c->stop_step) {
	case PK_STEP_TCP:
		return WW_BLOCKING_TCP_IP;
	case PK_STEP_TLS:
		if (!entry_endpoint(rec, &ip, &port))
			return WW_BLOCKING_TLS;
		neutral = neutral_hs(c, &ip, port, h->t.host);
		return neutral != NULL && tls_state(neutral) == TS_FAILED
			       ? WW_BLOCKING_TCP_IP
			       : WW_BLOCKING_TLS;
	default:
		return WW_BLOCKING_HTTP_FAILURE;
	}
}

/* A null verdict only for want of the control's word. */
static bool
unproven(const struct ctx *c)
{
	return c->v.blocking == WW_BLOCKING_NULL &&
	       (is(c->v.reason, "control_unavailable") ||
		is(c->v.reason, "control_incomplete") ||
		is(c->v.reason, "control_http_failed"));
}

/*
 * Rule P3. A page whose payload came with a TTL unlike the server's
 * SYN-ACK was injected: an http-diff verdict is confirmed; a page the
 * control could not judge becomes http-diff / http.diff, confirmed (an
 * injected answer is not the site's page, whatever it looks like).
 * True when it applied.
 */
static bool
apply_http(struct ctx *c)
{
	const json_t *req;
	long long code;

	if (c->v.blocking == WW_BLOCKING_HTTP_DIFF &&
	    !is(c->v.detail, WW_DETAIL_SERVER_SIDE)) {
		req = c->v.hop >= 0 && (size_t)c->v.hop < c->n_hops
			      ? c->hops[c->v.hop].req
			      : final_request(c);
		if (pk_http_injected(c, req))
			c->confirmed = true;
		return true;
	}
	if (c->confirmed || c->stop_step != PK_STEP_HTTP || c->stop_hop < 0 ||
	    !unproven(c))
		return false;
	req = c->hops[c->stop_hop].req;
	if (response_of(req, &code) == NULL || !pk_http_injected(c, req))
		return false;
	c->cur_hop = c->stop_hop;
	set_blocked(c, WW_BLOCKING_HTTP_DIFF, "http.diff", "http_injected",
		    jfailure(req));
	c->confirmed = true;
	return true;
}

/*
 * Rules P2 and P3 (apply_http). A reset (tcp.reset, tls.reset,
 * http.reset) that the packets prove was not the server's is confirmed,
 * keeping its class; where no control (or no control data for the step)
 * could tell, the step's class and detail, reason rst_injected. Before
 * rule A: a proven injection is confirmed, and rule A leaves confirmed
 * verdicts alone (a reset injected on the way to a forged address keeps
 * its class).
 */
void
pk_apply_flows(struct ctx *c)
{
	const json_t *rec;
	const char *f;
	bool blocked;

	if (!c->have_target || apply_http(c) || c->confirmed ||
	    c->stop_step == PK_STEP_NONE || c->stop_hop < 0)
		return;
	blocked = c->v.blocking != WW_BLOCKING_NULL &&
		  c->v.blocking != WW_BLOCKING_FALSE &&
		  c->v.blocking != WW_BLOCKING_DNS &&
		  is_reset_detail(c->v.detail);
	if ((!blocked && !unproven(c)) ||
	    !pk_reset_injected(c, c->stop_step, (size_t)c->stop_hop, &rec))
		return;
	c->confirmed = true;
	if (blocked)
		return;
	c->cur_hop = c->stop_hop;
	if (c->stop_step == PK_STEP_TCP) {
		f = jfailure(jobj(rec, "status"));
		set_blocked(c, WW_BLOCKING_TCP_IP, tcp_detail(f),
			    "rst_injected", f);
	} else if (c->stop_step == PK_STEP_TLS) {
		f = jfailure(rec);
		set_blocked(c, reset_class(c, rec), tls_detail(f),
			    "rst_injected", f);
	} else {
		f = jfailure(rec);
		set_blocked(c, WW_BLOCKING_HTTP_FAILURE, http_detail(f),
			    "rst_injected", f);
	}
}
