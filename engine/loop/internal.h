/*
 * internal.h - pieces of the engine shared between its files, not part of
 * the library's interface. Each step (dns.c, tcp.c, tls.c, http.c) runs one
 * operation on the event base and reports through a callback exactly once,
 * unless cancelled first (then never). A step records into a struct the
 * caller owns, which the caller moves into the measurement afterwards
 * (array elements move when the arrays grow, so steps never hold pointers
 * into them).
 */
#ifndef WW_INTERNAL_H
#define WW_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ares.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "capture.h"
#include "engine.h"
#include "memacct.h"
#include "model.h"
#include "vpnplan.h"
#include "xdriver.h"

/* --- io_ares.c: c-ares driven by libevent -------------------------------- */
struct io_ares;
typedef void (*io_ares_cb)(void *arg, int status, const unsigned char *abuf,
			   int alen);
struct io_ares *io_ares_new(struct event_base *base, const char *resolver,
			    double timeout, char *err, size_t errlen);
void io_ares_free(struct io_ares *io);
/* Send one query (class IN). cb may run before this returns. */
void io_ares_query(struct io_ares *io, const char *name, int type,
		   io_ares_cb cb, void *arg);
const char *io_ares_server(const struct io_ares *io);

/* --- io_curl.c: see io_curl.h ------------------------------------------- */
#include "io_curl.h"

/* --- the engine ---------------------------------------------------------- */
struct ww_engine {
	struct event_base *base;
	struct io_ares *ares;
	struct io_curl *curl;
	X509_STORE *store; /* loaded once, shared by tls.c and libcurl */
	SSL_CTX *ssl_ctx;  /* for the TLS step */
	char *control_sni;
	char *user_agent;
	struct timeval step_tv;
	double timeout;
	int max_addrs;
	char *resolver_desc; /* "system" or the --resolver value */
	char **controls;     /* control base URLs, probe side */
	size_t n_controls;
	double control_timeout;
	size_t body_cap;      /* bytes downloaded per HTTP response */
	uint64_t bytes;	      /* traffic so far (ww_engine_bytes) */
	bool control_service; /* see ww_config */
	bool allow_private;
	/* capture.c: the probe's own packets; NULL when off (then
	 * cap_status says why, NULL for the control service) */
	struct ww_capture *cap;
	char *cap_status;
	bool packets;		/* build test_keys.packets (probe side) */
	struct ww_vpn_conf vpn; /* what VPN endpoints' plans need (owned) */
	bool quic_step;		/* ww_config.quic_step (--quic) */
	/* dns.c: seconds a query's socket listens after its first answer
	 * (ww_config.dns_late_window resolved; <= 0: not at all) */
	double dns_late_window;
	/* dns.c: queries in flight, and those waiting for a slot */
	int dns_inflight;
	struct dns_op *dns_queue_head, *dns_queue_tail;
	struct event *dns_pump;
	unsigned char *dns_rbuf; /* one datagram being read (64 KiB) */
	/* memacct.c: new handshakes and transfers wait for memory (NULL: no
	 * budget) */
	struct ma_gate *gate;
	size_t mem_lifted; /* the default budget, lifted (engine.h) */
};

/*
 * At most this many DNS queries are in flight at once, engine-wide. A burst
 * of hundreds overflows UDP receive buffers (ours, or a home router's
 * forwarder; dnsmasq serves 150 at once by default), and every drop costs a
 * c-ares retry a third of the step timeout later. Queued queries start their
 * clock when they are sent.
 */
#define WW_DNS_MAX_INFLIGHT 64

/* Add a finished curl transfer's bytes (request, upload, headers and
 * body as received) to e->bytes. */
void ww_engine_count_curl(struct ww_engine *e, CURL *easy);
/* ww_engine_allows() for the address a socket is about to connect to
 * (AF_INET or AF_INET6; anything else is refused): checked again right
 * before every connect, so that no path to connect() skips the check. */
bool ww_engine_allows_sa(const struct ww_engine *e, const struct sockaddr *sa);

/* tls.c: map an X509_V_ERR_* to the failure vocabulary. */
const char *tls_failure_from_verify(long verify_result);
/* tls.c: the SSL_CTX for our own handshakes, verifying against store. */
SSL_CTX *tls_ctx_new(X509_STORE *store, char *err, size_t errlen);
/* tls.c: load the trust store (ca_file, or the system default paths). */
X509_STORE *tls_store_load(const char *ca_file, char *err, size_t errlen);
/* http.c: verify peers against the engine's one shared trust store (never
 * curl's default CA path, which would re-parse the bundle per handshake). */
void http_use_engine_tls(CURL *c, struct ww_engine *e);

/* --- dns.c --------------------------------------------------------------- */
/*
 * One query on a UDP socket of its own. The step reports its result
 * through cb (once, never before dns_start returns); the socket keeps
 * listening for the engine's late window after the first reply, and only
 * then does closed run (once, always after cb, or inside dns_cancel). The
 * step's record may have moved by then (internal.h's rule above), so the
 * datagrams that came are handed over in closed: the caller finds where the
 * query's record lives now and calls dns_take_evidence(). The op is gone
 * once closed returns.
 */
struct dns_op;
typedef void (*dns_cb)(void *arg);
typedef void (*dns_closed_cb)(void *arg, struct dns_op *op);
/* Query name for type (ns_t_a / ns_t_aaaa) into *out (caller-owned,
 * zeroed, valid until cb runs or dns_cancel); t_base is the measurement's
 * start on the monotonic clock. */
struct dns_op *dns_start(struct ww_engine *e, const char *name, int type,
			 struct ww_query *out, double t_base, dns_cb cb,
			 dns_closed_cb closed, void *arg);
/* Inside closed: move every datagram that came to the query's socket (its
 * replies, n_replies_seen) into q, the query's record wherever it is now. */
void dns_take_evidence(struct dns_op *op, struct ww_query *q);
/* Stop now. Before cb: out gets "interrupted" (unless its result was in
 * already) and cb will not run. In any case the socket closes and closed
 * runs before this returns. */
void dns_cancel(struct dns_op *op);

/* --- tcp.c --------------------------------------------------------------- */
struct tcp_op;
/* fd >= 0 on success (the callee owns it from then on), -1 on failure. */
typedef void (*tcp_cb)(void *arg, int fd, const char *failure,
		       const char *detail);
struct tcp_op *tcp_start(struct ww_engine *e, const char *ip, int port,
			 tcp_cb cb, void *arg);
void tcp_cancel(struct tcp_op *op);
/* The capture's flow id of the op's connection (0: none); valid from
 * tcp_start() until the callback runs. */
uint32_t tcp_op_flow(const struct tcp_op *op);
/* Fill a sockaddr from an IP literal and port. Returns 0 or -1. */
int tcp_sockaddr(const char *ip, int port, struct sockaddr_storage *ss,
		 socklen_t *len);

/* --- tls.c --------------------------------------------------------------- */
struct tls_op;
typedef void (*tls_cb)(void *arg);
/*
 * Handshake on connected socket fd (the op takes it and closes it) with
 * server name sni, recording into *out (caller-owned; ip/port/server_name/
 * sni_role/t0 already set by the caller).
 */
struct tls_op *tls_start(struct ww_engine *e, int fd, struct ww_tls *out,
			 double t_base, tls_cb cb, void *arg);
void tls_cancel(struct tls_op *op);

/* --- endpoint.c: one hop's TCP connects and TLS handshakes ----------- */
/* What to do at one address. */
struct ep_want {
	const char *ip;
	bool tcp; /* record a TCP connect (false: it was, in an earlier hop) */
	/* Handshakes in order, NULL-ended: [0] on the first connection, [1]
	 * on a second one. Strings must outlive the batch. */
	const char *sni[2];
	const char *role[2]; /* "control" or "target" */
};
struct ep_batch;
typedef void (*ep_batch_cb)(void *arg);
/*
 * Measure n > 0 endpoints on port, in parallel. Transaction ids come from
 * m now; the records go into m (with hop) before cb runs, once, never
 * before this returns. Free the batch with ep_batch_free() after cb.
 */
struct ep_batch *ep_batch_start(struct ww_engine *e, struct ww_measurement *m,
				const struct ep_want *w, size_t n, int port,
				int hop, double t_base, ep_batch_cb cb,
				void *arg);
/* Did the first connection to ip succeed? */
bool ep_batch_connected(const struct ep_batch *b, const char *ip);
/* Stop: unfinished steps are recorded "interrupted" and flushed into m;
 * cb will not run. Free it afterwards. */
void ep_batch_cancel(struct ep_batch *b);
void ep_batch_free(struct ep_batch *b);

/* --- exchange.c: a protocol driver against one address and port ------ */
struct xchg_op;
typedef void (*xchg_cb)(void *arg);
/*
 * Run driver d (the op takes it and frees it) against ip:port over its
 * transport, recording into *out (caller-owned, zeroed; the op sets ip,
 * port, transport, protocol, payload and the times). cb runs once, never
 * before this returns.
 */
struct xchg_op *xchg_start(struct ww_engine *e, struct ww_xdriver *d,
			   const char *ip, int port, struct ww_exchange *out,
			   double t_base, xchg_cb cb, void *arg);
/* Stop: the exchange is recorded "interrupted"; cb will not run. */
void xchg_cancel(struct xchg_op *op);

/* --- xbatch.c: a VPN or QUIC endpoint's exchanges ------------------------ */
/* The most exchanges one address gets. */
#define WW_XPLAN_MAX 8
/* Fill d[0..max) with the drivers to run at ip, in order; their count. */
typedef size_t (*xbatch_plan_fn)(void *arg, const char *ip,
				 struct ww_xdriver **d, size_t max);
struct xbatch;
typedef void (*xbatch_cb)(void *arg);
/*
 * For each of the n addresses, in parallel, run the exchanges plan lists,
 * one after the other. The records go into m (address by address, in
 * plan order) before cb runs, once, never before this returns. Free the
 * batch with xbatch_free() after cb.
 */
struct xbatch *xbatch_start(struct ww_engine *e, struct ww_measurement *m,
			    char *const *ips, size_t n, int port,
			    xbatch_plan_fn plan, void *plan_arg, double t_base,
			    xbatch_cb cb, void *arg);
/* Stop: the exchanges running are recorded "interrupted" and every record
 * goes into m; cb will not run. Free it afterwards. */
void xbatch_cancel(struct xbatch *b);
void xbatch_free(struct xbatch *b);

/* --- http.c -------------------------------------------------------------- */
struct http_op;
typedef void (*http_cb)(void *arg);
/*
 * One request (no redirect following) for url with Host resolution pinned
 * to pins ("host:port:addr[,addr...]" entries, curl's CURLOPT_RESOLVE form);
 * cookies is the job's cookie share (CURL_LOCK_DATA_COOKIE).
 * Records into *out (caller-owned, zeroed). The caller reads out->location
 * (absolute, as curl computed it) to decide on the next hop.
 */
struct http_op *http_start(struct ww_engine *e, const char *url,
			   struct curl_slist *pins, CURLSH *cookies,
			   struct ww_http *out, double t_base, http_cb cb,
			   void *arg);
void http_cancel(struct http_op *op);
/* http_failure_from_curl(): see io_curl.h */

/* --- evidence.c: test_keys.packets ---------------------------------------- */
/*
 * At the job's end (measure.c, after every DNS late window): read what the
 * kernel has queued, build m->packets from the capture's flows and the
 * queries' replies (docs/measurement-format.md, "packets"), then release
 * every flow the measurement names. Nothing on the control side.
 * cap_drops0: cap_kernel_drops() when the measurement began.
 */
void ww_evidence_build(struct ww_engine *e, struct ww_measurement *m,
		       double t_base, unsigned cap_drops0);

/* --- ctlclient.c: asking the control services ------------------------ */
struct ctl_op;
typedef void (*ctl_cb)(void *arg);
/*
 * POST body (a control request, JSON) to the engine's controls in order
 * until one gives a valid answer; records m->control, m->control_failure
 * and m->control_attempts. cb runs once, never before this returns.
 */
struct ctl_op *ctl_start(struct ww_engine *e, const char *body,
			 struct ww_measurement *m, double t_base, ctl_cb cb,
			 void *arg);
/* Stop waiting: the attempt in flight is recorded "interrupted"; cb will
 * not run. */
void ctl_cancel(struct ctl_op *op);

#endif
