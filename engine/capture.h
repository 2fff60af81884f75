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
 * The promise: a packet is kept only when its (protocol, local port,
 * remote address, remote port) is a flow registered here *before the
 * flow's first packet* (the socket is bound to port 0 of the wildcard
 * address, its port read back, the flow registered, and only then
 * connected). The local address must match too when the route toward the
 * remote side gave one (another network namespace on the machine has
 * ports of its own). Every other packet is dropped right after its header
 * is parsed: never stored, never written to the pcapng file.
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
 * makes them relative to the flow's initial sequence numbers). */
struct cap_pkt {
	double t; /* monotonic seconds (ww_mono()'s clock) */
	uint32_t seq, ack;
	uint32_t len;  /* TCP payload length, as the headers say */
	int32_t ip_id; /* -1: IPv6 */
	uint16_t win;
	uint8_t flags;
	uint8_t ttl;
	bool in; /* to the probe */
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
	/* The address the kernel routes from toward raddr (our side), when
	 * it could be learnt: a packet with another local address is not
	 * ours even with our port (another network namespace on this host,
	 * a container before its NAT, has ports of its own). */
	bool have_laddr;
	uint8_t laddr[16];
	double closed; /* monotonic time of cap_flow_close(); 0: open */
	/* TCP */
	struct cap_pkt first[WW_CAP_FIRST];
	struct cap_pkt last[WW_CAP_LAST]; /* a ring, oldest at n_pkts % LAST */
	size_t n_pkts;			  /* every packet matched */
	bool have_isn[2];		  /* [0]: out, [1]: in */
	bool isn_from_syn[2];
	uint32_t isn[2];
	/* UDP: datagrams in (allocated with the first; NULL for TCP) */
	struct cap_dgram *dgrams;
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

/* Register a flow about to start (the socket bound, not yet connected):
 * proto IPPROTO_TCP / IPPROTO_UDP, its local port, the remote address and
 * port. Returns its id, or 0 when c is NULL (capture off) or the remote
 * address is neither IPv4 nor IPv6. */
uint32_t cap_flow_add(struct ww_capture *c, int proto, int local_port,
		      const struct sockaddr *remote);
/* The flow's socket is closed: keep matching for WW_CAP_LINGER. */
void cap_flow_close(struct ww_capture *c, uint32_t id);
/* Read all the kernel has queued now. */
void cap_drain(struct ww_capture *c);
/* The flow, or NULL (unknown id, released, capture off). */
const struct cap_flow *cap_flow_get(const struct ww_capture *c, uint32_t id);
/* Forget the flow (no-op for an unknown id). */
void cap_flow_release(struct ww_capture *c, uint32_t id);
/* Packets the kernel dropped (ring full) since the handle opened. */
unsigned cap_kernel_drops(struct ww_capture *c);

/*
 * Bind fd (a fresh socket of remote's family, type SOCK_STREAM or
 * SOCK_DGRAM) to port 0 of the wildcard address, read the port back and
 * register the flow: what tcp.c, http.c and dns.c do before connect()
 * when capture is on. Returns the flow id, or 0 (c NULL, or the bind
 * failed: the socket is then left unbound, connect() still works).
 */
uint32_t cap_bind_register(struct ww_capture *c, int fd, int proto,
			   const struct sockaddr *remote);

/* For the unit tests: a capture without a libpcap handle (linktype: the
 * DLT of the frames to come), and one frame handed to it as if libpcap
 * had read it (ts on the wall clock, as libpcap's). */
struct ww_capture *cap_new_detached(int linktype);
void cap_feed(struct ww_capture *c, const struct timeval *ts,
	      const uint8_t *frame, size_t caplen, size_t len);

#endif
