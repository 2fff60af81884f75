/*
 * capture.c - libpcap on the engine's event base, keeping only the
 * packets of flows the engine registered (see capture.h for the promise).
 *
 * Every frame the kernel filter passes is parsed (packet.h) as far as its
 * ports and looked up in the flow table by (protocol, local port, remote
 * address, remote port), in both orientations; no match, and the frame is
 * gone before anything else looks at it. The "any" device shows a packet
 * between two local sockets twice (leaving one, arriving at the other): a
 * packet that goes out from our port is taken as it leaves, one coming to
 * our port as it arrives, so that each is kept once.
 */
#include "capture.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "packet.h"
#include "pcapng.h"
#include "util.h"

#define KEY_BUCKETS 1024
#define ID_BUCKETS 1024
/* Flows closed this long ago are forgotten even if nobody released them
 * (a job's evidence is built well before). */
#define FORGET_AFTER 300.0

struct ww_capture {
	pcap_t *p;
	int linktype;
	struct event *ev;
	struct cap_flow *by_key[KEY_BUCKETS];
	struct cap_flow *by_id[ID_BUCKETS];
	uint32_t next_id;
	size_t n_flows;
	unsigned adds; /* since the last sweep */
	/* wall clock -> monotonic, for pcap's timestamps */
	double real_now, mono_now;
	cap_scrub_fn scrub;
	void *scrub_arg;
	struct ww_pcapng *out; /* NULL: no --pcap file */
	bool write_failed;
};

static double
real_clock(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static unsigned
key_hash(int proto, int lport, const uint8_t *raddr, int rport)
{
	uint32_t h = 2166136261u;

	h = (h ^ (uint32_t)proto) * 16777619u;
	h = (h ^ (uint32_t)lport) * 16777619u;
	h = (h ^ (uint32_t)rport) * 16777619u;
	for (int i = 0; i < 16; i++)
		h = (h ^ raddr[i]) * 16777619u;
	return h % KEY_BUCKETS;
}

static void
unlink_key(struct ww_capture *c, struct cap_flow *f)
{
	struct cap_flow **pp;

	if (!f->keyed)
		return;
	pp = &c->by_key[key_hash(f->proto, f->local_port, f->raddr, f->rport)];
	while (*pp != NULL && *pp != f)
		pp = &(*pp)->next_key;
	if (*pp == f)
		*pp = f->next_key;
	f->keyed = false;
}

/* The open (or lingering) flow for this key at time t, or NULL. A flow
 * past its linger leaves the key table here. */
static struct cap_flow *
find_key(struct ww_capture *c, int proto, const uint8_t *laddr, int lport,
	 int family, const uint8_t *raddr, int rport, double t)
{
	uint8_t a[16] = {0};
	struct cap_flow *f;

	memcpy(a, raddr, family == AF_INET ? 4 : 16);
	f = c->by_key[key_hash(proto, lport, a, rport)];
	for (; f != NULL; f = f->next_key) {
		if (f->proto != proto || f->local_port != lport ||
		    f->rport != rport || f->family != family ||
		    memcmp(f->raddr, a, 16) != 0)
			continue;
		if (laddr != NULL && f->have_laddr &&
		    memcmp(f->laddr, laddr, family == AF_INET ? 4 : 16) != 0)
			continue;
		if (f->closed > 0 && t > f->closed + WW_CAP_LINGER) {
			unlink_key(c, f);
			return NULL;
		}
		return f;
	}
	return NULL;
}

static struct cap_flow *
find_id(const struct ww_capture *c, uint32_t id)
{
	struct cap_flow *f;

	if (c == NULL || id == 0)
		return NULL;
	for (f = c->by_id[id % ID_BUCKETS]; f != NULL; f = f->next_id)
		if (f->id == id)
			return f;
	return NULL;
}

static void
forget(struct ww_capture *c, struct cap_flow *f)
{
	struct cap_flow **pp = &c->by_id[f->id % ID_BUCKETS];

	unlink_key(c, f);
	while (*pp != NULL && *pp != f)
		pp = &(*pp)->next_id;
	if (*pp == f)
		*pp = f->next_id;
	c->n_flows--;
	free(f->dgrams);
	free(f);
}

/* Flows closed long ago that nobody released (a job cancelled before its
 * evidence, a connect attempt curl abandoned): the daemon runs for months. */
static void
sweep(struct ww_capture *c)
{
	double now = ww_mono();

	for (size_t b = 0; b < ID_BUCKETS; b++) {
		struct cap_flow *f = c->by_id[b], *next;

		for (; f != NULL; f = next) {
			next = f->next_id;
			if (f->closed > 0 && now - f->closed > FORGET_AFTER)
				forget(c, f);
		}
	}
}

/* --- packets ------------------------------------------------------------- */

static void
note_tcp(struct cap_flow *f, const struct ww_pkt *p, bool in, double t)
{
	struct cap_pkt s;
	int d = in ? 1 : 0;

	s.t = t;
	s.in = in;
	s.flags = p->flags;
	s.ttl = (uint8_t)p->ttl;
	s.ip_id = p->family == AF_INET ? p->ip_id : -1;
	s.win = p->win;
	s.seq = p->seq;
	s.ack = p->ack;
	s.len = (uint32_t)p->payload_len;
	/* The initial sequence number of each direction: its SYN's, else
	 * the first seen (a capture that started late, an RST alone). */
	if ((p->flags & WW_TCP_SYN) && !f->isn_from_syn[d]) {
		f->isn[d] = p->seq;
		f->have_isn[d] = f->isn_from_syn[d] = true;
	} else if (!f->have_isn[d]) {
		f->isn[d] = p->seq;
		f->have_isn[d] = true;
	}
	if (f->n_pkts < WW_CAP_FIRST)
		f->first[f->n_pkts] = s;
	else
		f->last[(f->n_pkts - WW_CAP_FIRST) % WW_CAP_LAST] = s;
	f->n_pkts++;
}

static void
note_udp(struct cap_flow *f, const struct ww_pkt *p, bool in, double t)
{
	struct cap_dgram *g;

	if (!in)
		return;
	f->n_dgrams_seen++;
	if (f->n_dgrams >= WW_CAP_MAX_DGRAMS)
		return;
	if (f->dgrams == NULL)
		f->dgrams = xcalloc(WW_CAP_MAX_DGRAMS, sizeof(*f->dgrams));
	g = &f->dgrams[f->n_dgrams++];
	g->t = t;
	g->dns_id = p->payload_caplen >= 2
			    ? (p->payload[0] << 8) | p->payload[1]
			    : -1;
	g->len = (uint32_t)p->payload_len;
	g->ttl = p->ttl;
	g->ip_id = p->family == AF_INET ? p->ip_id : -1;
}

/*
 * Which of our flows the packet belongs to, and its direction, from its
 * addresses and ports. The link layer's direction cannot decide: the
 * "any" device shows a packet between two local sockets once, as arriving
 * (PACKET_HOST), whichever way it goes. Where it tells, it only picks the
 * orientation tried first.
 */
static struct cap_flow *
match(struct ww_capture *c, const struct ww_pkt *p, double t, bool *in)
{
	struct cap_flow *out_f = NULL, *in_f = NULL;

	if (p->dir != WW_PKT_DIR_IN)
		out_f = find_key(c, p->proto, p->src, p->sport, p->family,
				 p->dst, p->dport, t);
	if (out_f == NULL)
		in_f = find_key(c, p->proto, p->dst, p->dport, p->family,
				p->src, p->sport, t);
	if (in_f == NULL && out_f == NULL && p->dir == WW_PKT_DIR_IN)
		out_f = find_key(c, p->proto, p->src, p->sport, p->family,
				 p->dst, p->dport, t);
	*in = out_f == NULL;
	return out_f != NULL ? out_f : in_f;
}

/* The most recent summary of the flow, NULL before the first. */
static const struct cap_pkt *
last_pkt(const struct cap_flow *f)
{
	if (f->n_pkts == 0)
		return NULL;
	if (f->n_pkts <= WW_CAP_FIRST)
		return &f->first[f->n_pkts - 1];
	return &f->last[(f->n_pkts - WW_CAP_FIRST - 1) % WW_CAP_LAST];
}

/*
 * The same packet seen again on a second interface (a bridge and its
 * port): every field equal to the flow's previous packet's, within a
 * millisecond. A retransmission waits at least the 200 ms minimum RTO.
 */
static bool
is_twin(const struct cap_flow *f, const struct ww_pkt *p, bool in, double t)
{
	const struct cap_pkt *l = last_pkt(f);

	return l != NULL && l->in == in && l->flags == p->flags &&
	       l->seq == p->seq && l->ack == p->ack && l->ttl == p->ttl &&
	       l->ip_id == (p->family == AF_INET ? p->ip_id : -1) &&
	       l->win == p->win && l->len == p->payload_len && t - l->t < 0.001;
}

static int open_pcapng(struct ww_capture *c, const char *path, char *err,
		       size_t errlen);
static void close_pcapng(struct ww_capture *c);
static void write_pcapng(struct ww_capture *c, const struct pcap_pkthdr *h,
			 const uint8_t *frame, const struct ww_pkt *p, bool in);

static void
on_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *frame)
{
	struct ww_capture *c = (struct ww_capture *)(void *)arg;
	struct ww_pkt p;
	struct cap_flow *f;
	double ts, t;
	bool in;
	char err[128];

	if (ww_pkt_parse(c->linktype, frame, h->caplen, &p, err, sizeof(err)) !=
		    0 ||
	    !p.have_ports || (p.proto != IPPROTO_TCP && p.proto != IPPROTO_UDP))
		return;
	ts = (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6;
	t = c->mono_now - (c->real_now - ts);
	f = match(c, &p, t, &in);
	if (f == NULL)
		return; /* not ours: dropped here, unrecorded */
	if (p.proto == IPPROTO_TCP) {
		if (is_twin(f, &p, in, t))
			return;
		note_tcp(f, &p, in, t);
	} else {
		note_udp(f, &p, in, t);
	}
	if (c->out != NULL)
		write_pcapng(c, h, frame, &p, in);
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	cap_drain(arg);
}

void
cap_drain(struct ww_capture *c)
{
	int n;

	if (c == NULL || c->p == NULL)
		return;
	c->real_now = real_clock();
	c->mono_now = ww_mono();
	/* Nonblocking: each call returns what is queued (0: nothing left).
	 * A bounded number of rounds, so that a flood cannot hold the loop. */
	for (int round = 0; round < 64; round++) {
		n = pcap_dispatch(c->p, -1, on_packet, (u_char *)c);
		if (n <= 0)
			break;
	}
}

unsigned
cap_kernel_drops(struct ww_capture *c)
{
	struct pcap_stat st;

	if (c == NULL || pcap_stats(c->p, &st) != 0)
		return 0;
	return st.ps_drop;
}

/* --- flows --------------------------------------------------------------- */

/*
 * The source address the kernel picks toward remote: a UDP socket's
 * connect() makes the same route and source choice as a TCP connect, and
 * sends nothing. False when there is no route (the flow then matches on
 * ports and the remote side alone).
 */
static bool
route_source(const struct sockaddr *remote, uint8_t out[16])
{
	struct sockaddr_storage ss;
	socklen_t len = remote->sa_family == AF_INET
				? sizeof(struct sockaddr_in)
				: sizeof(struct sockaddr_in6);
	int fd = socket(remote->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok = false;

	if (fd < 0)
		return false;
	memcpy(&ss, remote, len);
	/* Any port will do for a route lookup; 0 is refused. */
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(9);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(9);
	if (connect(fd, (struct sockaddr *)&ss, len) == 0) {
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
			memset(out, 0, 16);
			if (ss.ss_family == AF_INET)
				memcpy(out,
				       &((struct sockaddr_in *)&ss)->sin_addr,
				       4);
			else
				memcpy(out,
				       &((struct sockaddr_in6 *)&ss)->sin6_addr,
				       16);
			ok = true;
		}
	}
	close(fd);
	return ok;
}

uint32_t
cap_flow_add(struct ww_capture *c, int proto, int local_port,
	     const struct sockaddr *remote)
{
	struct cap_flow *f, *old;
	unsigned b;

	if (c == NULL || remote == NULL ||
	    (remote->sa_family != AF_INET && remote->sa_family != AF_INET6))
		return 0;
	/* Packets already queued belong to the past: read them before the
	 * flow exists, so that none of them can match it. */
	cap_drain(c);
	if (++c->adds >= 256) {
		c->adds = 0;
		sweep(c);
	}
	f = xcalloc(1, sizeof(*f));
	if (++c->next_id == 0)
		c->next_id = 1;
	f->id = c->next_id;
	f->proto = proto;
	f->local_port = local_port;
	f->family = remote->sa_family;
	if (f->family == AF_INET) {
		const struct sockaddr_in *s4 =
			(const struct sockaddr_in *)(const void *)remote;

		memcpy(f->raddr, &s4->sin_addr, 4);
		f->rport = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 =
			(const struct sockaddr_in6 *)(const void *)remote;

		memcpy(f->raddr, &s6->sin6_addr, 16);
		f->rport = ntohs(s6->sin6_port);
	}
	f->have_laddr = route_source(remote, f->laddr);
	/* The same key lingering from an earlier socket: the new one owns
	 * the key from now on. */
	old = find_key(c, proto, NULL, local_port, f->family, f->raddr,
		       f->rport, ww_mono());
	if (old != NULL)
		unlink_key(c, old);
	b = key_hash(proto, local_port, f->raddr, f->rport);
	f->next_key = c->by_key[b];
	c->by_key[b] = f;
	f->keyed = true;
	f->next_id = c->by_id[f->id % ID_BUCKETS];
	c->by_id[f->id % ID_BUCKETS] = f;
	c->n_flows++;
	return f->id;
}

void
cap_flow_close(struct ww_capture *c, uint32_t id)
{
	struct cap_flow *f = find_id(c, id);

	if (f != NULL && f->closed == 0)
		f->closed = ww_mono();
}

const struct cap_flow *
cap_flow_get(const struct ww_capture *c, uint32_t id)
{
	return find_id(c, id);
}

void
cap_flow_release(struct ww_capture *c, uint32_t id)
{
	struct cap_flow *f = find_id(c, id);

	if (f != NULL)
		forget(c, f);
}

uint32_t
cap_bind_register(struct ww_capture *c, int fd, int proto,
		  const struct sockaddr *remote)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (c == NULL || remote == NULL)
		return 0;
	memset(&ss, 0, sizeof(ss));
	if (remote->sa_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		len = sizeof(*s4);
	} else if (remote->sa_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		len = sizeof(*s6);
	} else {
		return 0;
	}
	/* Port 0 of the wildcard address: the kernel picks a port that no
	 * other socket of the machine has bound, on any address, so no
	 * other process's connection can share our key while we hold it. */
	if (bind(fd, (struct sockaddr *)&ss, len) != 0)
		return 0;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	return cap_flow_add(
		c, proto,
		ntohs(ss.ss_family == AF_INET
			      ? ((struct sockaddr_in *)&ss)->sin_port
			      : ((struct sockaddr_in6 *)&ss)->sin6_port),
		remote);
}

/* --- the handle ---------------------------------------------------------- */

static void
set_err(char *err, size_t errlen, const char *what, pcap_t *p, int rc)
{
	const char *why = rc == PCAP_ERROR_PERM_DENIED
				  ? "no permission to capture packets (needs "
				    "root or CAP_NET_RAW)"
				  : what;

	snprintf(err, errlen, "%s: %s", why,
		 p != NULL ? pcap_geterr(p) : "libpcap failed");
}

/* SLL2 carries the interface and direction; libpcap before 1.10 or a
 * kernel path without it leaves SLL, which carries the direction too. */
static int
pick_linktype(pcap_t *p)
{
	if (pcap_set_datalink(p, DLT_LINUX_SLL2) == 0)
		return DLT_LINUX_SLL2;
	return pcap_datalink(p);
}

struct ww_capture *
cap_new_detached(int linktype)
{
	struct ww_capture *c = xcalloc(1, sizeof(*c));

	c->linktype = linktype;
	return c;
}

void
cap_feed(struct ww_capture *c, const struct timeval *ts, const uint8_t *frame,
	 size_t caplen, size_t len)
{
	struct pcap_pkthdr h;

	memset(&h, 0, sizeof(h));
	h.ts = *ts;
	h.caplen = (bpf_u_int32)caplen;
	h.len = (bpf_u_int32)len;
	c->real_now = real_clock();
	c->mono_now = ww_mono();
	on_packet((u_char *)c, &h, frame);
}

int
cap_check(char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_create("any", ebuf);
	int rc;

	if (p == NULL) {
		snprintf(err, errlen, "no capture device \"any\": %s", ebuf);
		return -1;
	}
	pcap_set_snaplen(p, WW_CAP_SNAPLEN);
	pcap_set_buffer_size(p, 65536);
	rc = pcap_activate(p);
	if (rc < 0)
		set_err(err, errlen, "cannot open the capture", p, rc);
	pcap_close(p);
	return rc < 0 ? -1 : 0;
}

struct ww_capture *
cap_open(struct event_base *base, const char *pcap_file, cap_scrub_fn scrub,
	 void *scrub_arg, char *err, size_t errlen)
{
	struct ww_capture *c = xcalloc(1, sizeof(*c));
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	int rc, fd;

	c->scrub = scrub;
	c->scrub_arg = scrub_arg;
	c->p = pcap_create("any", ebuf);
	if (c->p == NULL) {
		snprintf(err, errlen, "no capture device \"any\": %s", ebuf);
		goto fail;
	}
	pcap_set_snaplen(c->p, WW_CAP_SNAPLEN);
	pcap_set_immediate_mode(c->p, 1);
	pcap_set_buffer_size(c->p, WW_CAP_BUFFER);
	pcap_set_promisc(c->p, 0);
	rc = pcap_activate(c->p);
	if (rc < 0) {
		set_err(err, errlen, "cannot open the capture", c->p, rc);
		goto fail;
	}
	c->linktype = pick_linktype(c->p);
	if (c->linktype != DLT_LINUX_SLL2 && c->linktype != DLT_LINUX_SLL) {
		snprintf(err, errlen,
			 "capture device \"any\" has link type "
			 "%d, not Linux cooked",
			 c->linktype);
		goto fail;
	}
	if (pcap_compile(c->p, &prog, "tcp or udp", 1, PCAP_NETMASK_UNKNOWN) !=
		    0 ||
	    pcap_setfilter(c->p, &prog) != 0) {
		snprintf(err, errlen, "capture filter: %s", pcap_geterr(c->p));
		pcap_freecode(&prog);
		goto fail;
	}
	pcap_freecode(&prog);
	if (pcap_setnonblock(c->p, 1, ebuf) != 0) {
		snprintf(err, errlen, "capture: nonblocking: %s", ebuf);
		goto fail;
	}
	fd = pcap_get_selectable_fd(c->p);
	if (fd < 0) {
		snprintf(err, errlen, "capture: no selectable descriptor");
		goto fail;
	}
	if (pcap_file != NULL && open_pcapng(c, pcap_file, err, errlen) != 0)
		goto fail;
	c->ev = event_new(base, fd, EV_READ | EV_PERSIST, read_cb, c);
	if (c->ev == NULL || event_add(c->ev, NULL) != 0) {
		snprintf(err, errlen, "capture: cannot watch the descriptor");
		goto fail;
	}
	return c;
fail:
	cap_close(c);
	return NULL;
}

void
cap_close(struct ww_capture *c)
{
	if (c == NULL)
		return;
	if (c->ev != NULL)
		event_free(c->ev);
	for (size_t b = 0; b < ID_BUCKETS; b++) {
		struct cap_flow *f = c->by_id[b], *next;

		for (; f != NULL; f = next) {
			next = f->next_id;
			free(f->dgrams);
			free(f);
		}
	}
	close_pcapng(c);
	if (c->p != NULL)
		pcap_close(c->p);
	free(c);
}

/* --- the pcapng file ---------------------------------------------------- */

/* The writer's payload scrub, calling the engine's (engine.h). */
static void
pcapng_scrub(void *arg, const struct ww_pkt *pkt, uint8_t *payload, size_t len)
{
	struct ww_capture *c = arg;

	(void)pkt;
	c->scrub(c->scrub_arg, payload, len);
}

static int
open_pcapng(struct ww_capture *c, const char *path, char *err, size_t errlen)
{
	c->out = ww_pcapng_open(path, err, errlen);
	if (c->out == NULL)
		return -1;
	ww_pcapng_set_snaplen(c->out, WW_CAP_SNAPLEN);
	if (c->scrub != NULL)
		ww_pcapng_set_scrub(c->out, pcapng_scrub, c);
	return 0;
}

static void
close_pcapng(struct ww_capture *c)
{
	char err[512];

	if (c->out == NULL)
		return;
	if (ww_pcapng_close(c->out, err, sizeof(err)) != 0)
		log_error("capture", "%s", err);
	c->out = NULL;
}

/* The writer rewrites our side (pcapng.h) on a copy. A write error stops
 * the file, not the measurements: said once. */
static void
write_pcapng(struct ww_capture *c, const struct pcap_pkthdr *h,
	     const uint8_t *frame, const struct ww_pkt *p, bool in)
{
	(void)p;
	if (ww_pcapng_write(c->out, c->linktype, &h->ts, frame, h->caplen,
			    h->len, !in) < 0 &&
	    !c->write_failed) {
		c->write_failed = true;
		log_error("capture", "%s", ww_pcapng_error(c->out));
	}
}
