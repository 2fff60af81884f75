/*
 * capture.h - the probe's own packets, and nothing else (internal to the
 * engine; docs/volunteer.md states the promise, docs/measurement-format.md
 * the JSON that evidence.c builds from what is kept here).
 *
 * One libpcap handle per engine, on device "any" (Linux cooked headers),
 * immediate mode, nonblocking, read from the engine's event base; snaplen
 * WW_CAP_SNAPLEN; kernel filter "tcp or udp". Only root or CAP_NET_RAW can
 * open it.
 *
 * The promise: a packet is kept only when its (protocol, local address,
 * local port, remote address, remote port) is a flow registered here and
 * the kernel stamped it after the flow's socket began to connect. A
 * connected socket's five-tuple is unique on the machine while it lives
 * (the kernel sees to that), and the stamp rules out the packets of an
 * earlier connection that had the same one. Every other packet is dropped
 * right after its header is parsed: never stored, never written to the
 * pcapng file.
 *
 * The socket is connected first (its port and address picked by the
 * kernel's connect, which can share a port among destinations), then
 * registered from getsockname() with the time taken before connect():
 * its first packets are still in the ring, unread, and match. Nothing
 * reads the ring in between (a single-threaded loop; cap_drain() runs
 * from its own callbacks and at a job's end).
 */
#ifndef WW_CAPTURE_H
#define WW_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <event2/event.h>

#include "engine.h"

#define WW_CAP_SNAPLEN 256
/* A closed flow keeps matching this long: late RSTs, late DNS answers. */
#define WW_CAP_LINGER 2.0
/* Per flow: the first WW_CAP_FIRST and the last WW_CAP_LAST summaries. */
#define WW_CAP_FIRST 24
#define WW_CAP_LAST 8
/* Per UDP flow: incoming datagrams remembered (DNS replies are at most
 * WW_DNS_MAX_REPLIES per query; room for others around them). */
#define WW_CAP_MAX_DGRAMS 32
/* The kernel's ring for the handle (bytes): small; the filter passes all
 * of the machine's TCP and UDP, which we read as it comes. */
#define WW_CAP_BUFFER (1024 * 1024)

/* One TCP packet, as the JSON shows it (seq/ack raw here: evidence.c
 * makes them relative to the flow's initial sequence numbers). 20 bytes:
 * at concurrency 256 the flows in flight hold thousands of them. Read the
 * time and the IP ID with cap_pkt_time() and cap_pkt_ip_id(). */
struct cap_pkt {
	uint32_t t_us : 30; /* microseconds after the flow's t0 (saturates
			     * after ~17 minutes, far beyond any step) */
	uint32_t in : 1;    /* to the probe */
	uint32_t v6 : 1;    /* IPv6: no IP ID */
	uint32_t seq, ack;
	uint16_t len; /* TCP payload length, as the headers say (an IP
		       * packet's own length field bounds it) */
	uint16_t ip_id;
	uint16_t win;
	uint8_t flags;
	uint8_t ttl;
};

/* One incoming UDP datagram (a DNS reply, ours or forged). */
struct cap_dgram {
	double t;
	int32_t dns_id; /* first two payload bytes; -1: fewer were captured */
	uint32_t len;	/* UDP payload length, as the headers say */
	int32_t ttl;
	int32_t ip_id; /* -1: IPv6 or unknown */
};

struct cap_flow {
	uint32_t id;
	int proto; /* IPPROTO_TCP or IPPROTO_UDP */
	int local_port;
	int family;
	uint8_t raddr[16];
	int rport;
	/* Our side's address (getsockname): a packet with another local
	 * address is not ours even with our port (another network
	 * namespace on this host, a container before its NAT, has ports of
	 * its own). */
	bool have_laddr;
	uint8_t laddr[16];
	double since;  /* cap_clock() before connect(): earlier packets are
			* another connection's */
	double closed; /* monotonic time of cap_flow_close(); 0: open */
	double t0;     /* monotonic time of the first summary kept */
	/* TCP: the first WW_CAP_FIRST summaries, then the last WW_CAP_LAST
	 * in a ring after them; the array grows as packets come (most flows
	 * are short, a DNS flow has none). Read them with cap_flow_pkt(). */
	struct cap_pkt *pkts;
	size_t cap_pkts;  /* entries allocated */
	size_t n_pkts;	  /* every packet matched */
	bool have_isn[2]; /* [0]: out, [1]: in */
	bool isn_from_syn[2];
	uint32_t isn[2];
	/* What every packet of the flow showed, kept or not: what tells an
	 * uneventful flow from one the analysis must see (evidence.c). */
	bool saw_rst;	      /* an RST, either way */
	bool have_in;	      /* a packet came in */
	bool first_in_synack; /* the first that came in was a SYN-ACK */
	bool in_ttl_varies;   /* not every packet in had in_ttl */
	uint8_t in_ttl;	      /* the first incoming packet's TTL */
	/* UDP: datagrams in (grown as they come; NULL for TCP) */
	struct cap_dgram *dgrams;
	size_t cap_dgrams;
	size_t n_dgrams, n_dgrams_seen;
	/* the tables (capture.c) */
	struct cap_flow *next_key, *next_id;
	bool keyed; /* still in the key table */
};

struct ww_capture;

/*
 * Payload scrubbing for the pcapng file (engine.h): called with each kept
 * packet's captured payload (after the TCP/UDP header), to be masked in
 * place without changing its length (the volunteer's addresses in a DNS
 * answer or an HTTP response).
 */
typedef ww_payload_scrub_fn cap_scrub_fn;

/*
 * Open the handle on base. pcap_file: also write every kept packet there
 * (pcapng, the local side rewritten; NULL: no file). Returns NULL with the
 * reason in err (no permission, no libpcap device, the file...).
 */
struct ww_capture *cap_open(struct event_base *base, const char *pcap_file,
			    cap_scrub_fn scrub, void *scrub_arg, char *err,
			    size_t errlen);
void cap_close(struct ww_capture *c);
/* Could cap_open() work (the permission, the device)? 0, or -1 with the
 * reason in err. Opens and closes a handle. */
int cap_check(char *err, size_t errlen);

/* Now, on the clock the kernel stamps packets with (the wall clock,
 * seconds): taken before a socket's connect(), it is that flow's since. */
double cap_clock(void);

/* Register a flow whose socket was just connected: proto IPPROTO_TCP or
 * IPPROTO_UDP, its local address and port (getsockname), the remote
 * address and port, and since (cap_clock() before connect()). Returns its
 * id, or 0 when c is NULL (capture off) or an address is neither IPv4 nor
 * IPv6. */
uint32_t cap_flow_add(struct ww_capture *c, int proto,
		      const struct sockaddr *local,
		      const struct sockaddr *remote, double since);
/* The same from the socket itself: getsockname(fd) gives the local side
 * (0 when it fails, or capture is off). What tcp.c, http.c and dns.c call
 * right after connect(). */
uint32_t cap_register_socket(struct ww_capture *c, int fd, int proto,
			     const struct sockaddr *remote, double since);
/* The flow's socket is closed: keep matching for WW_CAP_LINGER. */
void cap_flow_close(struct ww_capture *c, uint32_t id);
/* Read all the kernel has queued now. */
void cap_drain(struct ww_capture *c);
/* The summaries kept of a TCP flow (at most WW_CAP_FIRST +
 * WW_CAP_LAST), and the i-th of them in capture order: the first ones,
 * then the last ones when more came than fit. */
size_t cap_flow_n_kept(const struct cap_flow *f);
const struct cap_pkt *cap_flow_pkt(const struct cap_flow *f, size_t i);
/* A summary's time (monotonic seconds, ww_mono()'s clock). */
static inline double
cap_pkt_time(const struct cap_flow *f, const struct cap_pkt *p)
{
	return f->t0 + p->t_us / 1e6;
}
/* Its IP ID; -1 for IPv6. */
static inline int32_t
cap_pkt_ip_id(const struct cap_pkt *p)
{
	return p->v6 ? -1 : p->ip_id;
}

/* The flow, or NULL (unknown id, released, capture off). */
const struct cap_flow *cap_flow_get(const struct ww_capture *c, uint32_t id);
/* Forget the flow (no-op for an unknown id). */
void cap_flow_release(struct ww_capture *c, uint32_t id);
/* Packets the kernel dropped (ring full) since the handle opened. */
unsigned cap_kernel_drops(struct ww_capture *c);

/* For the unit tests: a capture without a libpcap handle (linktype: the
 * DLT of the frames to come), and one frame handed to it as if libpcap
 * had read it (ts on the wall clock, as libpcap's). */
struct ww_capture *cap_new_detached(int linktype);
void cap_feed(struct ww_capture *c, const struct timeval *ts,
	      const uint8_t *frame, size_t caplen, size_t len);

#endif
