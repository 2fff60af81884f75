/*
 * test_capture.c - the capture's flow table fed frames by hand (no libpcap
 * handle, no privilege): only registered flows are kept, in both
 * directions, and only packets stamped after the flow's socket began to
 * connect; the first 24 and the last 8 summaries with every packet
 * counted; the linger after close; a packet seen twice kept once; DNS
 * datagrams; and evidence.c's JSON from it (relative seq/ack, flags,
 * caps, the IP TTL/ID of DNS replies matched by id and length, an
 * uneventful flow written up to its SYN-ACK).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/time.h>

#include "capture.h"
#include "internal.h"
#include "pktbuild.h"
#include "util.h"

#define LPORT 40000
#define RPORT 443

/* Our side 127.0.0.1, the remote 127.0.0.7; another local address
 * 127.0.0.9. */
static const uint8_t loc4[4] = {127, 0, 0, 1};
static const uint8_t rem4[4] = {127, 0, 0, 7};
static const uint8_t other4[4] = {127, 0, 0, 9};
static struct sockaddr_in remote4;
static const uint8_t *local4 = loc4; /* our side in feed_tcp's frames */
/* The SLL2 packet type of our own packets: 4 (PACKET_OUTGOING) on a real
 * interface; 0 (PACKET_HOST) on loopback, where the "any" device shows
 * every packet once, as arriving. */
static unsigned out_pkttype = 4;

static int
setup(void **state)
{
	(void)state;
	memset(&remote4, 0, sizeof(remote4));
	remote4.sin_family = AF_INET;
	remote4.sin_port = htons(RPORT);
	memcpy(&remote4.sin_addr, rem4, 4);
	return 0;
}

/* 0: frames are stamped from the clock at each feed; else from this wall
 * time, so that their differences are exactly the "plus" a test gives,
 * however long the test itself takes between feeds. */
static double fixed_now;

static struct timeval
now_tv(double plus)
{
	struct timeval tv;
	double t;

	gettimeofday(&tv, NULL);
	t = fixed_now > 0 ? fixed_now + plus
			  : (double)tv.tv_sec + (double)tv.tv_usec / 1e6 + plus;
	tv.tv_sec = (time_t)t;
	tv.tv_usec = (suseconds_t)((t - (double)tv.tv_sec) * 1e6);
	return tv;
}

/* Register a flow of ours from loc4:lport toward remote, connected since
 * plus seconds from now (negative: before). */
static uint32_t
add_flow(struct ww_capture *c, int proto, int lport,
	 const struct sockaddr_in *remote, double plus)
{
	struct sockaddr_in local;

	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	local.sin_port = htons((uint16_t)lport);
	memcpy(&local.sin_addr, loc4, 4);
	return cap_flow_add(c, proto, (struct sockaddr *)&local,
			    (const struct sockaddr *)remote,
			    cap_clock() + plus);
}

/* One IPv4 TCP frame (SLL2) between loc4:lport and rem4:rport; out:
 * from us. */
static void
feed_tcp(struct ww_capture *c, bool out, int lport, int rport, uint32_t seq,
	 uint32_t ack, unsigned flags, unsigned ttl, unsigned id,
	 size_t payload, double plus)
{
	struct frame f;
	struct timeval ts = now_tv(plus);

	memset(&f, 0, sizeof(f));
	fb_sll2(&f, out ? out_pkttype : 0, 0x0800);
	if (out) {
		fb_ip4(&f, 6, local4, rem4, ttl, id, 0x4000);
		fb_tcp(&f, (unsigned)lport, (unsigned)rport, seq, ack, flags,
		       64240, NULL, 0);
	} else {
		fb_ip4(&f, 6, rem4, local4, ttl, id, 0x4000);
		fb_tcp(&f, (unsigned)rport, (unsigned)lport, seq, ack, flags,
		       65535, NULL, 0);
	}
	for (size_t i = 0; i < payload; i++)
		fb_put8(&f, 'a');
	fb_finish(&f, 6);
	cap_feed(c, &ts, f.b, f.n, f.n);
}

static void
test_only_registered(void **state)
{
	struct ww_capture *c = cap_new_detached(WW_DLT_LINUX_SLL2);
	const struct cap_flow *fl;
	uint32_t id;

	(void)state;
	/* Before registration, nothing matches; so does another port. */
	feed_tcp(c, true, LPORT, RPORT, 1000, 0, WW_TCP_SYN, 64, 1, 0, 0);
	id = add_flow(c, IPPROTO_TCP, LPORT, &remote4, -0.5);
	assert_int_not_equal(id, 0);
	fl = cap_flow_get(c, id);
	assert_non_null(fl);
	assert_int_equal(fl->n_pkts, 0);
	feed_tcp(c, true, LPORT + 1, RPORT, 1000, 0, WW_TCP_SYN, 64, 1, 0, 0);
	feed_tcp(c, false, LPORT + 1, RPORT, 5000, 1001,
		 WW_TCP_SYN | WW_TCP_ACK, 64, 0, 0, 0);
	feed_tcp(c, true, LPORT, RPORT + 1, 1000, 0, WW_TCP_SYN, 64, 1, 0, 0);
	assert_int_equal(fl->n_pkts, 0);
	/* Our ports and remote, another local address: another network
	 * namespace's connection (a container before its NAT), not ours. */
	local4 = other4;
	feed_tcp(c, true, LPORT, RPORT, 1000, 0, WW_TCP_SYN, 64, 1, 0, 0);
	feed_tcp(c, false, LPORT, RPORT, 5000, 1001, WW_TCP_SYN | WW_TCP_ACK,
		 64, 0, 0, 0);
	local4 = loc4;
	assert_int_equal(fl->n_pkts, 0);
	/* Ours, both ways; the link layer's "incoming" for our own SYN
	 * (loopback) does not fool it. */
	out_pkttype = 0;
	feed_tcp(c, true, LPORT, RPORT, 1000, 0, WW_TCP_SYN, 64, 7, 0, 0);
	out_pkttype = 4;
	feed_tcp(c, false, LPORT, RPORT, 5000, 1001, WW_TCP_SYN | WW_TCP_ACK,
		 51, 0, 0, 0);
	assert_int_equal(fl->n_pkts, 2);
	assert_false(cap_flow_pkt(fl, 0)->in);
	assert_int_equal(cap_pkt_ip_id(cap_flow_pkt(fl, 0)), 7);
	assert_true(cap_flow_pkt(fl, 1)->in);
	assert_int_equal(cap_flow_pkt(fl, 1)->ttl, 51);
	assert_null(cap_flow_pkt(fl, 2));
	/* the facts evidence.c reads */
	assert_true(fl->have_in && fl->first_in_synack);
	assert_int_equal(fl->in_ttl, 51);
	assert_false(fl->in_ttl_varies || fl->saw_rst);
	assert_true(fl->isn_from_syn[0] && fl->isn_from_syn[1]);
	assert_int_equal(fl->isn[0], 1000);
	assert_int_equal(fl->isn[1], 5000);
	/* The same packet again at once (a second interface): once. */
	feed_tcp(c, false, LPORT, RPORT, 5000, 1001, WW_TCP_SYN | WW_TCP_ACK,
		 51, 0, 0, 0);
	assert_int_equal(fl->n_pkts, 2);
	cap_flow_release(c, id);
	assert_null(cap_flow_get(c, id));
	cap_flow_release(c, id); /* twice: nothing */
	feed_tcp(c, true, LPORT, RPORT, 1001, 5001, WW_TCP_ACK, 64, 8, 0, 0);
	cap_close(c);
}

/* A packet the kernel stamped before the socket began to connect is an
 * earlier connection's with the same five-tuple: not ours. */
static void
test_since(void **state)
{
	struct ww_capture *c = cap_new_detached(WW_DLT_LINUX_SLL2);
	const struct cap_flow *fl;
	uint32_t id;

	(void)state;
	id = add_flow(c, IPPROTO_TCP, LPORT, &remote4, 5.0);
	fl = cap_flow_get(c, id);
	feed_tcp(c, false, LPORT, RPORT, 9, 0, WW_TCP_RST, 40, 3, 0, 0);
	feed_tcp(c, false, LPORT, RPORT, 9, 0, WW_TCP_RST, 40, 3, 0, 4.9);
	assert_int_equal(fl->n_pkts, 0);
	feed_tcp(c, true, LPORT, RPORT, 1000, 0, WW_TCP_SYN, 64, 1, 0, 5.1);
	assert_int_equal(fl->n_pkts, 1);
	/* a wildcard or portless local side is refused */
	{
		struct sockaddr_in any;

		memset(&any, 0, sizeof(any));
		any.sin_family = AF_INET;
		assert_int_equal(cap_flow_add(c, IPPROTO_TCP,
					      (struct sockaddr *)&any,
					      (struct sockaddr *)&remote4, 0),
				 0);
	}
	cap_close(c);
}

/* A summary keeps its time to the microsecond from the flow's first,
 * saturating after ~17 minutes, and its payload length. The frames'
 * stamps are fixed; the capture maps them to the monotonic clock through
 * two clock reads per feed, so differences carry a few microseconds of
 * that jitter (20 us allowed: a millisecond encoding would fail). */
static void
test_summary_times(void **state)
{
	struct ww_capture *c = cap_new_detached(WW_DLT_LINUX_SLL2);
	const struct cap_flow *fl;
	double t0;
	uint32_t id;

	(void)state;
	id = add_flow(c, IPPROTO_TCP, LPORT, &remote4, -0.5);
	fl = cap_flow_get(c, id);
	fixed_now = cap_clock();
	feed_tcp(c, true, LPORT, RPORT, 1000, 0, WW_TCP_SYN, 64, 1, 0, 0);
	feed_tcp(c, true, LPORT, RPORT, 1001, 0, WW_TCP_ACK, 64, 2, 300, 0.25);
	feed_tcp(c, true, LPORT, RPORT, 1301, 0, WW_TCP_ACK, 64, 3, 0, 1000.0);
	feed_tcp(c, true, LPORT, RPORT, 1301, 0, WW_TCP_FIN, 64, 4, 0, 2000.0);
	assert_int_equal(fl->n_pkts, 4);
	t0 = cap_pkt_time(fl, cap_flow_pkt(fl, 0));
	assert_true(fabs(t0 - fl->t0) < 1e-9);
	assert_true(fabs(cap_pkt_time(fl, cap_flow_pkt(fl, 1)) - t0 - 0.25) <
		    2e-5);
	assert_int_equal(cap_flow_pkt(fl, 1)->len, 300);
	assert_true(fabs(cap_pkt_time(fl, cap_flow_pkt(fl, 2)) - t0 - 1000.0) <
		    2e-5);
	/* 2000 s: past the 30-bit microseconds, held at their largest */
	assert_true(fabs(cap_pkt_time(fl, cap_flow_pkt(fl, 3)) - t0 -
			 ((1u << 30) - 1) / 1e6) < 2e-5);
	assert_int_equal(cap_pkt_ip_id(cap_flow_pkt(fl, 3)), 4);
	fixed_now = 0;
	cap_close(c);
}

static void
test_first_and_last(void **state)
{
	struct ww_capture *c = cap_new_detached(WW_DLT_LINUX_SLL2);
	const struct cap_flow *fl;
	uint32_t id;

	(void)state;
	id = add_flow(c, IPPROTO_TCP, LPORT, &remote4, -0.5);
	fl = cap_flow_get(c, id);
	/* Kept as they come: all of them while they fit ... */
	for (unsigned i = 0; i < 40; i++) {
		feed_tcp(c, i % 2 == 0, LPORT, RPORT, 100 + i, 0, WW_TCP_ACK,
			 i == 5 ? 50 : 64, i, 1, 0);
		assert_int_equal(fl->n_pkts, i + 1);
		assert_int_equal(cap_flow_n_kept(fl),
				 i < WW_CAP_FIRST + WW_CAP_LAST
					 ? i + 1
					 : WW_CAP_FIRST + WW_CAP_LAST);
		if (i == 30) /* the ring part filling in order */
			for (unsigned k = 0; k <= 30; k++)
				assert_int_equal(
					cap_pkt_ip_id(cap_flow_pkt(fl, k)),
					(int)k);
	}
	/* ... then the first 24 and the last 8 (32..39), in order. */
	for (unsigned i = 0; i < WW_CAP_FIRST; i++)
		assert_int_equal(cap_pkt_ip_id(cap_flow_pkt(fl, i)), (int)i);
	for (unsigned i = 0; i < WW_CAP_LAST; i++)
		assert_int_equal(
			cap_pkt_ip_id(cap_flow_pkt(fl, WW_CAP_FIRST + i)),
			(int)(32 + i));
	assert_null(cap_flow_pkt(fl, WW_CAP_FIRST + WW_CAP_LAST));
	/* packet 5 (in) had TTL 50, the first in 64: noted, and no
	 * SYN-ACK opened the flow */
	assert_true(fl->in_ttl_varies);
	assert_false(fl->first_in_synack || fl->saw_rst);
	cap_close(c);
}

static void
test_linger(void **state)
{
	struct ww_capture *c = cap_new_detached(WW_DLT_LINUX_SLL2);
	const struct cap_flow *fl;
	uint32_t id, id2;

	(void)state;
	id = add_flow(c, IPPROTO_TCP, LPORT, &remote4, -0.5);
	fl = cap_flow_get(c, id);
	cap_flow_close(c, id);
	/* a late RST within the linger: kept */
	feed_tcp(c, false, LPORT, RPORT, 9, 0, WW_TCP_RST, 40, 3, 0, 0.5);
	assert_int_equal(fl->n_pkts, 1);
	/* past it: the port may be someone else's now */
	feed_tcp(c, false, LPORT, RPORT, 10, 0, WW_TCP_RST, 40, 4, 0,
		 WW_CAP_LINGER + 1.0);
	assert_int_equal(fl->n_pkts, 1);
	/* a new flow on the same key owns it; the old keeps its packets */
	id2 = add_flow(c, IPPROTO_TCP, LPORT, &remote4, 0);
	feed_tcp(c, true, LPORT, RPORT, 77, 0, WW_TCP_SYN, 64, 5, 0, 0.01);
	assert_int_equal(fl->n_pkts, 1);
	assert_int_equal(cap_flow_get(c, id2)->n_pkts, 1);
	cap_close(c); /* frees what was not released */
}

/* A DNS reply (UDP) of len payload bytes with DNS id dns_id. */
static void
feed_dns(struct ww_capture *c, bool out, int lport, unsigned dns_id, size_t len,
	 unsigned ttl, unsigned ip_id)
{
	struct frame f;
	struct timeval ts = now_tv(0);

	memset(&f, 0, sizeof(f));
	fb_sll2(&f, out ? 4 : 0, 0x0800);
	if (out) {
		fb_ip4(&f, 17, loc4, rem4, ttl, ip_id, 0);
		fb_udp(&f, (unsigned)lport, 53);
	} else {
		fb_ip4(&f, 17, rem4, loc4, ttl, ip_id, 0);
		fb_udp(&f, 53, (unsigned)lport);
	}
	fb_put16(&f, dns_id);
	for (size_t i = 2; i < len; i++)
		fb_put8(&f, 0);
	fb_finish(&f, 17);
	cap_feed(c, &ts, f.b, f.n, f.n);
}

static void
test_evidence(void **state)
{
	struct ww_engine e;
	struct ww_measurement *m = ww_measurement_new();
	struct sockaddr_in res = remote4;
	struct ww_tcp *t;
	struct ww_query *q;
	json_t *pk, *p0, *p2, *r;
	uint32_t tf, uf;
	double t_base = ww_mono();

	(void)state;
	memset(&e, 0, sizeof(e));
	e.cap = cap_new_detached(WW_DLT_LINUX_SLL2);
	e.packets = true;
	tf = add_flow(e.cap, IPPROTO_TCP, LPORT, &remote4, -0.5);
	res.sin_port = htons(53);
	uf = add_flow(e.cap, IPPROTO_UDP, 40053, &res, -0.5);
	feed_tcp(e.cap, true, LPORT, RPORT, 1000, 0, WW_TCP_SYN, 64, 7, 0, 0);
	feed_tcp(e.cap, false, LPORT, RPORT, 5000, 1001,
		 WW_TCP_SYN | WW_TCP_ACK, 63, 0, 0, 0);
	feed_tcp(e.cap, false, LPORT, RPORT, 777777, 1001,
		 WW_TCP_RST | WW_TCP_ACK, 47, 31337, 0, 0);
	/* DNS: ours out (not kept), two replies to id 4242 */
	feed_dns(e.cap, true, 40053, 4242, 30, 64, 1);
	feed_dns(e.cap, false, 40053, 4242, 40, 47, 999);
	feed_dns(e.cap, false, 40053, 4242, 60, 63, 12);

	t = ww_add_tcp(m);
	t->ip = xstrdup("127.0.0.7");
	t->port = RPORT;
	t->flow = tf;
	t->transaction_id = 3;
	t->failure = "connection_reset";
	q = ww_add_query(m);
	q->hostname = xstrdup("x.lab.test");
	q->query_type = "A";
	q->transaction_id = 1;
	q->flow = uf;
	q->n_sent = 1;
	q->replies = xcalloc(2, sizeof(*q->replies));
	q->n_replies = q->n_replies_seen = 2;
	for (int i = 0; i < 2; i++) {
		q->replies[i].dns_id = 4242;
		q->replies[i].rcode = 0;
		q->replies[i].ip_ttl = q->replies[i].ip_id = -1;
	}
	/* matched by length: the second reply came first on the wire */
	q->replies[0].wire_len = 60;
	q->replies[1].wire_len = 40;

	ww_evidence_build(&e, m, t_base, 0);
	pk = m->packets;
	assert_non_null(pk);
	assert_string_equal(json_string_value(json_object_get(pk, "capture")),
			    "on");
	assert_true(json_is_null(json_object_get(pk, "capture_failure")));
	/* a detached capture has no ring: it dropped nothing */
	assert_int_equal(json_integer_value(json_object_get(pk, "ring_drops")),
			 0);
	assert_true(json_is_integer(json_object_get(pk, "ring_drops")));
	p0 = json_array_get(
		json_object_get(json_array_get(json_object_get(pk, "tcp"), 0),
				"packets"),
		0);
	p2 = json_array_get(
		json_object_get(json_array_get(json_object_get(pk, "tcp"), 0),
				"packets"),
		2);
	assert_string_equal(json_string_value(json_object_get(p0, "dir")),
			    "out");
	assert_string_equal(json_string_value(json_object_get(p0, "flags")),
			    "S");
	assert_int_equal(json_integer_value(json_object_get(p0, "seq")), 0);
	assert_string_equal(json_string_value(json_object_get(p2, "flags")),
			    "RA");
	assert_int_equal(json_integer_value(json_object_get(p2, "seq")),
			 777777 - 5000);
	assert_int_equal(json_integer_value(json_object_get(p2, "ack")), 1);
	assert_int_equal(json_integer_value(json_object_get(p2, "ttl")), 47);
	r = json_object_get(json_array_get(json_object_get(pk, "dns"), 0),
			    "replies");
	assert_int_equal(json_array_size(r), 2);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(r, 0), "ip_ttl")),
			 63);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(r, 1), "ip_id")),
			 999);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(r, 0), "rcode")),
			    "NOERROR");
	/* every flow the measurement names is released */
	assert_null(cap_flow_get(e.cap, tf));
	assert_null(cap_flow_get(e.cap, uf));
	cap_close(e.cap);
	ww_measurement_free(m);
}

/* A request's flow: written whole when a packet in carried another TTL
 * than the SYN-ACK (what rule P3 looks for), else up to the SYN-ACK. */
static json_t *
request_flow(unsigned data_ttl, size_t *n_written, bool *hs_only)
{
	struct ww_engine e;
	struct ww_measurement *m = ww_measurement_new();
	struct ww_http *h;
	json_t *tcp, *f;
	uint32_t tf;

	memset(&e, 0, sizeof(e));
	e.cap = cap_new_detached(WW_DLT_LINUX_SLL2);
	e.packets = true;
	tf = add_flow(e.cap, IPPROTO_TCP, LPORT, &remote4, -0.5);
	feed_tcp(e.cap, true, LPORT, RPORT, 1000, 0, WW_TCP_SYN, 64, 1, 0, 0);
	feed_tcp(e.cap, false, LPORT, RPORT, 5000, 1001,
		 WW_TCP_SYN | WW_TCP_ACK, 63, 0, 0, 0);
	feed_tcp(e.cap, true, LPORT, RPORT, 1001, 5001, WW_TCP_ACK, 64, 2, 0,
		 0);
	feed_tcp(e.cap, true, LPORT, RPORT, 1001, 5001, WW_TCP_ACK | WW_TCP_PSH,
		 64, 3, 80, 0);
	feed_tcp(e.cap, false, LPORT, RPORT, 5001, 1081,
		 WW_TCP_ACK | WW_TCP_PSH, data_ttl, 0, 500, 0);
	h = ww_add_http(m);
	h->ip = xstrdup("127.0.0.7");
	h->port = RPORT;
	h->flow = tf;
	h->transaction_id = 5;
	ww_evidence_build(&e, m, ww_mono(), 0);
	tcp = json_object_get(m->packets, "tcp");
	assert_int_equal(json_array_size(tcp), 1);
	f = json_incref(json_array_get(tcp, 0));
	assert_int_equal(json_integer_value(json_object_get(f, "n_packets")),
			 5);
	*n_written = json_array_size(json_object_get(f, "packets"));
	*hs_only = json_is_true(json_object_get(f, "handshake_only"));
	cap_close(e.cap);
	ww_measurement_free(m);
	return f;
}

static void
test_evidence_uneventful(void **state)
{
	size_t n;
	bool hs_only;
	json_t *f;

	(void)state;
	f = request_flow(63, &n, &hs_only);
	assert_true(hs_only);
	assert_int_equal(n, 2); /* the SYN and the SYN-ACK */
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(f, "packets"), 1),
			"flags")),
		"SA");
	json_decref(f);
	f = request_flow(50, &n, &hs_only);
	assert_false(hs_only);
	assert_int_equal(n, 5);
	json_decref(f);
}

/* Capture off: "off" with the reason; a query with one reply is not
 * listed, one with two is. */
static void
test_evidence_off(void **state)
{
	struct ww_engine e;
	struct ww_measurement *m = ww_measurement_new();
	struct ww_query *q;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.packets = true;
	e.cap_status = xstrdup("packet capture is turned off");
	for (int k = 0; k < 2; k++) {
		q = ww_add_query(m);
		q->hostname = xstrdup("x.lab.test");
		q->query_type = "A";
		q->replies = xcalloc(2, sizeof(*q->replies));
		q->n_replies = q->n_replies_seen = (size_t)k + 1;
		for (size_t i = 0; i < q->n_replies; i++) {
			q->replies[i].rcode = -1;
			q->replies[i].ip_ttl = q->replies[i].ip_id = -1;
		}
	}
	ww_evidence_build(&e, m, ww_mono(), 0);
	assert_string_equal(
		json_string_value(json_object_get(m->packets, "capture")),
		"off");
	assert_string_equal(json_string_value(json_object_get(
				    m->packets, "capture_failure")),
			    "packet capture is turned off");
	assert_true(json_is_null(json_object_get(m->packets, "ring_drops")));
	assert_int_equal(json_array_size(json_object_get(m->packets, "dns")),
			 1);
	assert_true(json_is_null(json_object_get(
		json_array_get(
			json_object_get(
				json_array_get(
					json_object_get(m->packets, "dns"), 0),
				"replies"),
			0),
		"rcode")));
	free(e.cap_status);
	ww_measurement_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_only_registered),
		cmocka_unit_test(test_since),
		cmocka_unit_test(test_summary_times),
		cmocka_unit_test(test_first_and_last),
		cmocka_unit_test(test_linger),
		cmocka_unit_test(test_evidence),
		cmocka_unit_test(test_evidence_uneventful),
		cmocka_unit_test(test_evidence_off),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
