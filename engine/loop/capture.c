/*
 * capture.c - libpcap on the engine's event base, keeping only the
 * packets of flows the engine registered (see capture.h for the promise).
 *
 * Every frame the kernel filter passes is parsed (packet.h) as far as its
 * ports and looked up in the flow table by (protocol, local port, remote
 * address, remote port), in both orientations, then checked against the
 * flow's local address and since (its time stamp); no match, and the
 * frame is gone before anything else looks at it. On loopback the kernel
 * filter keeps only the arriving copy of a packet (kernel_filter()), so
 * a packet between two local sockets is matched by its addresses, not by
 * its direction, and kept once.
 */
#include "capture.h"

#include <errno.h>
#include <net/if.h>
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

/*
 * After a read, the descriptor is left alone this long (a timer reads
 * then): immediate mode would otherwise wake the loop for every packet,
 * and loopback shows the machine's every packet. Nothing is late for it:
 * the kernel stamps each packet as it passes, and a job reads what is
 * queued (cap_drain) before it looks at its flows. The ring holds far
 * more than this much traffic (WW_CAP_BUFFER).
 */
#define READ_PAUSE_US 10000

struct ww_capture {
	pcap_t *p;
	int linktype;
	struct event *ev;
	struct event *pause; /* re-arms ev after READ_PAUSE_US */
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
	 int family, const uint8_t *raddr, int rport, double t, double ts)
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
		if (ts < f->since)
			continue; /* an earlier connection's */
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
	free(f->pkts);
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

static struct cap_pkt *pkt_slot(struct cap_flow *f);

#define T_US_MAX ((1u << 30) - 1) /* cap_pkt.t_us's largest */

static void
note_tcp(struct cap_flow *f, const struct ww_pkt *p, bool in, double t)
{
	struct cap_pkt s;
	int d = in ? 1 : 0;

	if (f->n_pkts == 0)
		f->t0 = t;
	/* Two interfaces' copies may come a little out of order. */
	s.t_us = t <= f->t0		       ? 0
		 : t - f->t0 >= T_US_MAX / 1e6 ? T_US_MAX
					       : (uint32_t)((t - f->t0) * 1e6);
	s.in = in;
	s.v6 = p->family != AF_INET;
	s.flags = p->flags;
	s.ttl = (uint8_t)p->ttl;
	s.ip_id = p->family == AF_INET ? (uint16_t)p->ip_id : 0;
	s.win = p->win;
	s.seq = p->seq;
	s.ack = p->ack;
	s.len = p->payload_len > UINT16_MAX ? UINT16_MAX
					    : (uint16_t)p->payload_len;
	/* The initial sequence number of each direction: its SYN's, else
	 * the first seen (a capture that started late, an RST alone). */
	if ((p->flags & WW_TCP_SYN) && !f->isn_from_syn[d]) {
		f->isn[d] = p->seq;
		f->have_isn[d] = f->isn_from_syn[d] = true;
	} else if (!f->have_isn[d]) {
		f->isn[d] = p->seq;
		f->have_isn[d] = true;
	}
	if (p->flags & WW_TCP_RST)
		f->saw_rst = true;
	if (in && !f->have_in) {
		f->have_in = true;
		f->in_ttl = s.ttl;
		f->first_in_synack = (p->flags & (WW_TCP_SYN | WW_TCP_ACK)) ==
				     (WW_TCP_SYN | WW_TCP_ACK);
	} else if (in && s.ttl != f->in_ttl) {
		f->in_ttl_varies = true;
	}
	*pkt_slot(f) = s;
	f->n_pkts++;
}

/* Where the next summary goes: the first ones in order, then the ring. */
static struct cap_pkt *
pkt_slot(struct cap_flow *f)
{
	size_t i = f->n_pkts < WW_CAP_FIRST
			   ? f->n_pkts
			   : WW_CAP_FIRST +
				     (f->n_pkts - WW_CAP_FIRST) % WW_CAP_LAST;

	if (i >= f->cap_pkts) {
		size_t n = f->cap_pkts == 0 ? 8 : f->cap_pkts * 2;

		if (n > WW_CAP_FIRST + WW_CAP_LAST)
			n = WW_CAP_FIRST + WW_CAP_LAST;
		f->pkts = xrealloc(f->pkts, n * sizeof(*f->pkts));
		f->cap_pkts = n;
	}
	return &f->pkts[i];
}

size_t
cap_flow_n_kept(const struct cap_flow *f)
{
	return f->n_pkts < WW_CAP_FIRST + WW_CAP_LAST
		       ? f->n_pkts
		       : WW_CAP_FIRST + WW_CAP_LAST;
}

const struct cap_pkt *
cap_flow_pkt(const struct cap_flow *f, size_t i)
{
	size_t k; /* summaries that went to the ring */

	if (i >= cap_flow_n_kept(f))
		return NULL;
	if (i < WW_CAP_FIRST)
		return &f->pkts[i];
	/* The ring's oldest entry is the one written WW_CAP_LAST ago. */
	k = f->n_pkts - WW_CAP_FIRST;
	if (k > WW_CAP_LAST)
		i += k - WW_CAP_LAST;
	return &f->pkts[WW_CAP_FIRST + (i - WW_CAP_FIRST) % WW_CAP_LAST];
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
	if (f->n_dgrams == f->cap_dgrams) {
		/* One reply is the rule; room for more when they come. */
		f->cap_dgrams = f->cap_dgrams == 0 ? 2 : f->cap_dgrams * 2;
		if (f->cap_dgrams > WW_CAP_MAX_DGRAMS)
			f->cap_dgrams = WW_CAP_MAX_DGRAMS;
		f->dgrams =
			xrealloc(f->dgrams, f->cap_dgrams * sizeof(*f->dgrams));
	}
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
match(struct ww_capture *c, const struct ww_pkt *p, double t, double ts,
      bool *in)
{
	struct cap_flow *out_f = NULL, *in_f = NULL;

	if (p->dir != WW_PKT_DIR_IN)
		out_f = find_key(c, p->proto, p->src, p->sport, p->family,
				 p->dst, p->dport, t, ts);
	if (out_f == NULL)
		in_f = find_key(c, p->proto, p->dst, p->dport, p->family,
				p->src, p->sport, t, ts);
	if (in_f == NULL && out_f == NULL && p->dir == WW_PKT_DIR_IN)
		out_f = find_key(c, p->proto, p->src, p->sport, p->family,
				 p->dst, p->dport, t, ts);
	*in = out_f == NULL;
	return out_f != NULL ? out_f : in_f;
}

/* The most recent summary of the flow, NULL before the first. */
static const struct cap_pkt *
last_pkt(const struct cap_flow *f)
{
	size_t n = cap_flow_n_kept(f);

	return n == 0 ? NULL : cap_flow_pkt(f, n - 1);
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
	       cap_pkt_ip_id(l) == (p->family == AF_INET ? p->ip_id : -1) &&
	       l->win == p->win && l->len == p->payload_len &&
	       t - cap_pkt_time(f, l) < 0.001;
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
	f = match(c, &p, t, ts, &in);
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
	struct ww_capture *c = arg;
	struct timeval tv = {0, READ_PAUSE_US};

	(void)fd;
	(void)what;
	cap_drain(c);
	event_del(c->ev);
	evtimer_add(c->pause, &tv);
}

static void
pause_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ww_capture *c = arg;

	(void)fd;
	(void)what;
	cap_drain(c);
	event_add(c->ev, NULL);
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

	if (c == NULL || c->p == NULL || pcap_stats(c->p, &st) != 0)
		return 0;
	return st.ps_drop;
}

/* --- flows --------------------------------------------------------------- */

double
cap_clock(void)
{
	return real_clock();
}

/* The address and port of sa (IPv4 or IPv6) into a[16] and *port. */
static bool
addr_port(const struct sockaddr *sa, uint8_t a[16], int *port)
{
	memset(a, 0, 16);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 =
			(const struct sockaddr_in *)(const void *)sa;

		memcpy(a, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
			(const struct sockaddr_in6 *)(const void *)sa;

		memcpy(a, &s6->sin6_addr, 16);
		*port = ntohs(s6->sin6_port);
		return true;
	}
	return false;
}

static bool
all_zero(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != 0)
			return false;
	return true;
}

uint32_t
cap_flow_add(struct ww_capture *c, int proto, const struct sockaddr *local,
	     const struct sockaddr *remote, double since)
{
	struct cap_flow *f, *old;
	unsigned b;

	if (c == NULL || local == NULL || remote == NULL ||
	    local->sa_family != remote->sa_family)
		return 0;
	f = xcalloc(1, sizeof(*f));
	if (!addr_port(remote, f->raddr, &f->rport) ||
	    !addr_port(local, f->laddr, &f->local_port) || f->local_port == 0) {
		free(f);
		return 0;
	}
	if (++c->adds >= 256) {
		c->adds = 0;
		sweep(c);
	}
	if (++c->next_id == 0)
		c->next_id = 1;
	f->id = c->next_id;
	f->proto = proto;
	f->family = remote->sa_family;
	f->since = since;
	/* A socket connected toward a route has a concrete address; the
	 * wildcard would say nothing (then ports and remote side decide). */
	f->have_laddr = !all_zero(f->laddr, f->family == AF_INET ? 4 : 16);
	/* The same key lingering from an earlier socket: the new one owns
	 * the key from now on. */
	old = find_key(c, proto, NULL, f->local_port, f->family, f->raddr,
		       f->rport, ww_mono(), since);
	if (old != NULL)
		unlink_key(c, old);
	b = key_hash(proto, f->local_port, f->raddr, f->rport);
	f->next_key = c->by_key[b];
	c->by_key[b] = f;
	f->keyed = true;
	f->next_id = c->by_id[f->id % ID_BUCKETS];
	c->by_id[f->id % ID_BUCKETS] = f;
	c->n_flows++;
	return f->id;
}

uint32_t
cap_register_socket(struct ww_capture *c, int fd, int proto,
		    const struct sockaddr *remote, double since)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (c == NULL || remote == NULL ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	return cap_flow_add(c, proto, (struct sockaddr *)&ss, remote, since);
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

/*
 * The kernel's filter: TCP and UDP, and on loopback only the copy of a
 * packet that arrives. The "any" device is handed every loopback packet
 * twice, leaving and arriving; libpcap drops the leaving copy only after
 * the kernel has put it in the ring, and DNS to a local resolver, or
 * anything to a local server, is all loopback. The interface and the
 * direction are in the SLL2 header (libpcap 1.10); with SLL, the filter
 * stays "tcp or udp".
 */
static const char *
kernel_filter(const struct ww_capture *c, char *buf, size_t len)
{
	unsigned lo = if_nametoindex("lo");

	if (c->linktype != DLT_LINUX_SLL2 || lo == 0)
		return "tcp or udp";
	snprintf(buf, len, "(tcp or udp) and not (outbound and ifindex %u)",
		 lo);
	return buf;
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
	char filter[96];
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
	if (pcap_compile(c->p, &prog, kernel_filter(c, filter, sizeof(filter)),
			 1, PCAP_NETMASK_UNKNOWN) != 0 ||
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
	c->pause = evtimer_new(base, pause_cb, c);
	if (c->ev == NULL || c->pause == NULL || event_add(c->ev, NULL) != 0) {
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
	if (c->pause != NULL)
		event_free(c->pause);
	for (size_t b = 0; b < ID_BUCKETS; b++) {
		struct cap_flow *f = c->by_id[b], *next;

		for (; f != NULL; f = next) {
			next = f->next_id;
			free(f->pkts);
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
