/*
 * engine.h - the measurement engine: measures one target (DNS, TCP, TLS with
 * the target's and a neutral SNI, HTTP(S)) on a caller-supplied libevent
 * base, never blocking, many targets at once. No CLI concerns: the probe and
 * the collector's control service both drive it.
 *
 * Lifetime: ww_engine_new() before any measurement; every job finishes
 * (its callback runs exactly once) before ww_engine_free().
 */
#ifndef WW_ENGINE_H
#define WW_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "model.h"
#include "target.h"

#define WW_DEFAULT_TIMEOUT 10.0
#define WW_DEFAULT_MAX_ADDRS 4
#define WW_DEFAULT_CONTROL_SNI "example.com"
#define WW_MAX_REDIRECTS 10
/* Bytes downloaded per HTTP response before we stop (OONI's TH caps at
 * 16 MiB; volunteers pay for bandwidth, and a blockpage is small). */
#define WW_BODY_DOWNLOAD_CAP (8u * 1024 * 1024)
#define WW_USER_AGENT                                                          \
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "        \
	"(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

/* Packet capture (capture.h): off, on when allowed, or required. */
enum ww_capture_mode { WW_CAPTURE_OFF = 0, WW_CAPTURE_AUTO, WW_CAPTURE_ON };

/* Seconds a DNS query's socket keeps listening after its first answer
 * (a forged answer races the real one; the late one is kept too). */
#define WW_DNS_LATE_WINDOW 1.0

/* Payload masking for the pcapng file (see capture.h, cap_scrub_fn). */
typedef void (*ww_payload_scrub_fn)(void *arg, uint8_t *payload, size_t len);

struct ww_config {
	const char *resolver;	 /* "IP[:PORT]" or NULL for /etc/resolv.conf */
	const char *ca_file;	 /* PEM bundle, NULL for the system store */
	const char *control_sni; /* neutral SNI, default example.com */
	double timeout;		 /* seconds, per step */
	int max_addrs;		 /* addresses measured per target */
	const char *user_agent;	 /* NULL for WW_USER_AGENT */
	/* Probe side: control services to ask, in order (base URLs, see
	 * docs/control-protocol.md); none when n_controls is 0. */
	const char *const *controls;
	size_t n_controls;
	double control_timeout; /* seconds per control request; 0: default */
	/* Bytes downloaded per HTTP response before we stop; 0: the default
	 * WW_BODY_DOWNLOAD_CAP. */
	size_t body_cap;
	/* Control side: the engine serves controls. Each target gets one TLS
	 * handshake per address (with the requested SNI; the neutral-SNI
	 * handshake is the probe's business), and bogon addresses are never
	 * connected unless allow_private. */
	bool control_service;
	bool allow_private;
	/* Probe side: packet evidence (test_keys.packets). Zero: off (the
	 * control service, tests). ON makes ww_engine_new() fail when the
	 * capture cannot open; AUTO goes on without it
	 * (ww_engine_capture_status() says why). */
	enum ww_capture_mode capture;
	const char *pcap_file; /* NULL: none; the probe's --pcap */
	/* Masks the volunteer's addresses in the pcapng file's payloads
	 * (NULL: none); called with pcap_scrub_arg. */
	ww_payload_scrub_fn pcap_scrub;
	void *pcap_scrub_arg;
	double dns_late_window; /* seconds; 0: WW_DNS_LATE_WINDOW; <0: none */
	size_t max_memory;	/* bytes; 0: no budget (memacct.h) */
	/* max_memory is a default, not the user's: lifted when the process
	 * alone is already over it (a memory checker, a huge trust store),
	 * where it would only make the run one target at a time. */
	bool max_memory_default;
	/* VPN endpoints' keys when their input names none (NULL: none): an
	 * OpenVPN static key file (tls-auth / tls-crypt) and our WireGuard
	 * private key (a registered test peer's), vpnplan.h. */
	const char *openvpn_key;
	const char *wireguard_key;
	/* Probe side: every https target gets the QUIC step too (--quic):
	 * the exchanges of a quic:// target of its host and port. */
	bool quic_step;
};

/* The probe waits this long for one control by default: the control runs
 * every step itself, each with the step timeout. */
#define WW_CONTROL_TIMEOUT(step) (4.0 * (step) + 5.0)

/* OONI-style test names for what we measure (the version is model.h's
 * WW_TEST_VERSION). A URL target is "wallwatch_web"; a tcp:// or tls://
 * endpoint "wallwatch_endpoint". */
const char *ww_test_name(enum ww_target_kind kind);

struct ww_engine;
struct ww_job;

/* Check a resolver address as ww_config.resolver takes it ("IP",
 * "IP:PORT", "[IPv6]:PORT"). Returns 0, or -1 with a message. */
int ww_resolver_check(const char *s, char *err, size_t errlen);

/*
 * Create the engine on base: a c-ares channel, a curl multi handle and one
 * trust store shared by the TLS step and libcurl (loaded once). Returns
 * NULL with a message in err when a resolver or CA file is unusable.
 */
struct ww_engine *ww_engine_new(struct event_base *base,
				const struct ww_config *cfg, char *err,
				size_t errlen);
void ww_engine_free(struct ww_engine *e);

/* May the engine connect to ip? False only for an address the control
 * service refuses (ww_ip_is_refused: bogons, IPv6 forms of private IPv4
 * addresses) when the engine serves controls without allow_private. */
bool ww_engine_allows(const struct ww_engine *e, const char *ip);

/* Bytes the engine has sent and received so far: DNS messages, TLS
 * handshakes, HTTP requests and responses, control requests and answers
 * (payloads, not TCP/IP headers). For the probe's --max-bytes. */
uint64_t ww_engine_bytes(const struct ww_engine *e);

/* May this process capture packets (root or CAP_NET_RAW, a libpcap "any"
 * device)? 0, or -1 with the reason in err: the probe's daemon refuses to
 * start with --capture on before its first run, rather than fail each. */
int ww_capture_check(char *err, size_t errlen);

/* NULL when packet capture is on; else why it is off (a sentence). */
const char *ww_engine_capture_status(const struct ww_engine *e);

/* The memory budget's figures (the probe's --max-memory). */
struct ww_engine_memory {
	size_t budget;	       /* 0: none */
	size_t baseline;       /* RSS after start-up minus accounted then */
	size_t accounted;      /* bytes live through the hooks now */
	size_t peak_accounted; /* the most so far */
	size_t max_active;     /* handshakes and transfers at once, at most */
	uint64_t waited;       /* of them, how many waited for memory */
	size_t lifted;	       /* the default budget, when it was lifted
				  (ww_config.max_memory_default); else 0 */
};
void ww_engine_memory(const struct ww_engine *e, struct ww_engine_memory *out);
/* May a new job start under the memory budget? Always without one; the
 * caller keeps at least one job running whatever this says. */
bool ww_engine_memory_room(struct ww_engine *e);

/* The resolver queries go to, "ip:port" (first one for the system list). */
const char *ww_engine_resolver(const struct ww_engine *e);

/*
 * Called once when a job ends. The callback owns m from then on. The job
 * handle is invalid once the callback has started.
 */
typedef void (*ww_job_cb)(struct ww_measurement *m, void *arg);

/*
 * Measure target t, filling m (whose envelope the caller has set: uid,
 * report, times...). Copies t. The engine sets m->test_runtime and the
 * test_keys parts. Never fails: network trouble is a result. cb never runs
 * before this returns (every step reports from the event loop).
 */
struct ww_job *ww_job_start(struct ww_engine *e, const struct ww_target *t,
			    struct ww_measurement *m, ww_job_cb cb, void *arg);

/* Per-job options. */
struct ww_job_opts {
	/* Addresses the probe resolved: connected (and handshaken) too, so
	 * the answer says whether each works from here; never used for
	 * HTTP, which goes to the control's own addresses only. */
	const char *const *addrs;
	size_t n_addrs;
	const char *sni; /* SNI for the handshakes; NULL: the target's host */
	bool no_control; /* probe side: do not ask the controls (a
			    reference target needs no second opinion) */
	bool quic;	 /* control side: the request asked an https target's
			    QUIC step ("quic": true) */
};

/* ww_job_start with options (opts may be NULL). */
struct ww_job *ww_job_start_opts(struct ww_engine *e, const struct ww_target *t,
				 const struct ww_job_opts *opts,
				 struct ww_measurement *m, ww_job_cb cb,
				 void *arg);

/*
 * Abandon a job (shutdown): pending steps are recorded with failure
 * "interrupted" and the callback runs before this returns.
 */
void ww_job_cancel(struct ww_job *j);

#endif
