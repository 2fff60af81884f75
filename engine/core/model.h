/*
 * model.h - the measurement model: typed observations that the steps fill
 * and that model.c serialises to the JSON documented in
 * docs/measurement-format.md.
 *
 * Ownership: a struct ww_measurement owns every string and array hanging off
 * it; ww_measurement_free() releases all of it. Failure fields point into the
 * failure.h table and are never freed; failure_detail strings are owned.
 *
 * Times: t0/t are seconds since the measurement's start (monotonic clock),
 * as in OONI's df-002/005/006.
 */
#ifndef WW_MODEL_H
#define WW_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

/* The version of the tests we run (test_version): the measurement format
 * docs/measurement-format.md describes. */
#define WW_TEST_VERSION "0.2.0"

/* Cap on the body prefix kept per HTTP response (issue #2: 64 KiB). */
#define WW_BODY_KEEP (64 * 1024)

enum ww_rr_type { WW_RR_A = 1, WW_RR_CNAME = 5, WW_RR_AAAA = 28 };

struct ww_answer {
	enum ww_rr_type type;
	char *value; /* dotted quad, RFC 5952 IPv6 text, or a host name */
	uint32_t ttl;
};

/*
 * One DNS message that came back to a query's socket (docs/
 * measurement-format.md, "packets"). dns.c keeps every one that arrives
 * until the late window closes, not only the first: a second answer to the
 * same id with other addresses is proof of injection. ip_ttl and ip_id come
 * from the capture (-1: unknown; ip_id is -1 for IPv6 too).
 */
struct ww_dns_msg {
	double t;	  /* seconds since the measurement's start */
	int dns_id;	  /* the message's id */
	int rcode;	  /* -1: the message could not be parsed */
	bool question_ok; /* its question is our name, type and class */
	char **addrs;	  /* A/AAAA values of its answer section, as text */
	size_t n_addrs;
	unsigned char *raw; /* the message, at most WW_DNS_REPLY_KEEP bytes */
	size_t raw_len;
	size_t wire_len; /* its length on the wire */
	int ip_ttl;	 /* IPv4 TTL or IPv6 hop limit; -1 unknown */
	int ip_id;	 /* IPv4 identification; -1 unknown */
};
#define WW_DNS_REPLY_KEEP 512
/* Replies kept per query (the rest are counted in n_replies_seen). */
#define WW_DNS_MAX_REPLIES 8

struct ww_query {
	char *hostname;
	const char *query_type; /* "A" or "AAAA" (static strings) */
	char *resolver_address; /* "ip:port" the query was sent to */
	const char *engine;	/* "udp" (c-ares over UDP, TCP on TC) */
	int rcode;		/* DNS rcode of the reply, -1 if no reply */
	struct ww_answer *answers;
	size_t n_answers, cap_answers;
	unsigned char *raw; /* the reply as received, NULL if none */
	size_t raw_len;
	const char *failure;
	char *failure_detail;
	double t0, t;
	int transaction_id;
	int hop; /* 0: the input's host; k: the k-th redirect's */
	/* Every message that came back to the query's socket, first one
	 * included, in arrival order (dns.c); at most WW_DNS_MAX_REPLIES. */
	struct ww_dns_msg *replies;
	size_t n_replies;
	size_t n_replies_seen;
	unsigned n_sent; /* transmissions (each with its own id) */
	uint32_t flow;	 /* the capture's flow id of its socket; 0: none */
};

struct ww_tcp {
	char *ip;
	int port;
	const char *failure;
	char *failure_detail;
	double t0, t;
	int transaction_id;
	int hop;
	uint32_t flow; /* the capture's flow id of the connection; 0: none */
};

struct ww_cert {
	char *subject; /* RFC 2253 one-line form */
	char *issuer;
	char **sans; /* "DNS:name" / "IP:addr" entries */
	size_t n_sans;
	char not_before[21]; /* "YYYY-MM-DDTHH:MM:SSZ" */
	char not_after[21];
	char sha256[65]; /* of the DER encoding */
	unsigned char *der;
	size_t der_len;
};

struct ww_tls {
	char *ip;
	int port;
	char *server_name;
	const char *sni_role; /* "target" or "control" (static strings) */
	char *tls_version;    /* e.g. "TLSv1.3" */
	char *cipher_suite;   /* IANA name, e.g. "TLS_AES_128_GCM_SHA256" */
	char *negotiated_protocol; /* ALPN, e.g. "h2" */
	struct ww_cert *certs;	   /* peer chain, leaf first */
	size_t n_certs;
	bool handshake_done; /* the TLS handshake completed */
	bool verified;	     /* chain and name verified for server_name */
	char *verify_error;  /* OpenSSL's text when !verified */
	const char *failure;
	char *failure_detail;
	double t0, t;
	int transaction_id;
	int hop;
	uint32_t flow; /* the capture's flow id of the connection; 0: none */
};

/*
 * One datagram (UDP) or read (TCP) that came back in an exchange, as the
 * protocol's parser saw it (docs/measurement-format.md, "exchanges").
 */
struct ww_xreply {
	double t;	    /* seconds since the measurement's start */
	size_t length;	    /* its bytes */
	const char *kind;   /* the parser's kind (static); NULL: not a message
			       of the protocol (then note says why) */
	bool ours;	    /* it answers what we sent (our session id, SPI,
			       connection id, sender index) */
	char *note;	    /* the parser's words, owned; NULL: none */
	unsigned char *raw; /* its first WW_XREPLY_KEEP bytes */
	size_t raw_len;
};
#define WW_XREPLY_KEEP 512
/* Replies kept per exchange (the rest are counted in n_replies_seen). */
#define WW_XCHG_MAX_REPLIES 8

/*
 * One exchange: what we sent to one address and port over UDP or TCP (a
 * protocol's handshake, or a neutral payload of its size) and what came
 * back (engine/loop/exchange.c).
 */
struct ww_exchange {
	char *ip;
	int port;
	bool udp;	      /* the transport (false: TCP) */
	const char *protocol; /* "openvpn", "ikev2", "wireguard", "quic"
				 (static) */
	const char *payload;  /* "handshake", "neutral_sni", "version_ping",
				 "random", "ascii" (static) */
	char *server_name;    /* the SNI a QUIC Initial carried; NULL none */
	unsigned n_sent;      /* datagrams or writes (retransmissions too) */
	uint64_t bytes_sent;
	size_t first_length; /* the first packet's bytes */
	bool connected;	     /* TCP: the connect succeeded */
	struct ww_xreply *replies;
	size_t n_replies, n_replies_seen;
	/* The last step of the protocol reached (the kind of the last
	 * reply of ours; static); NULL: none. */
	const char *stage;
	bool answered; /* a reply proves the server speaks the protocol
			  (neutral payloads: anything came back) */
	/* failure: how the exchange ended before its driver was done
	 * (NULL: it was), answered or not */
	const char *failure;
	char *failure_detail;
	double t0, t;
	int transaction_id;
	uint32_t flow; /* the capture's flow id; 0: none */
};

struct ww_header {
	char *name;
	char *value;
};

/*
 * How a response came in (docs/measurement-format.md, "transfer"): enough
 * to tell a transfer cut short or crawling (throttling) from a whole one.
 * Times are seconds since the request's t0, set only when got_byte (a
 * zeroed struct is "nothing came").
 */
struct ww_transfer {
	uint64_t bytes;	     /* header bytes + body bytes off the wire */
	uint64_t body_bytes; /* body bytes after content decoding */
	bool got_byte;	     /* at least one response byte came */
	double t_first_byte; /* first response byte */
	double t_last_byte;  /* last header or body byte */
	unsigned body_calls; /* body deliveries (a rate needs 2) */
	/* What the kernel saw on the request's TCP connection(s), read with
	 * TCP_INFO as curl closes each socket: payload bytes received (TLS
	 * records whole or not, so bytes that curl could not yet decrypt
	 * count), and when the last of them came (seconds since t0). */
	bool wire_known;     /* TCP_INFO was read */
	uint64_t wire_bytes; /* tcpi_bytes_received, summed */
	double t_last_wire;  /* valid when wire_bytes > 0 */
};

struct ww_http {
	char *url;
	char *method;
	struct ww_header *request_headers;
	size_t n_request_headers, cap_request_headers;
	char *ip; /* the address curl was pinned to and used */
	int port;
	int status; /* 0 when no response */
	char *http_version;
	struct ww_header *headers;
	size_t n_headers, cap_headers;
	uint64_t body_length; /* bytes received (up to the download cap) */
	bool body_truncated;  /* the download cap stopped the transfer */
	char body_sha256[65]; /* of the body_length bytes; "" if none */
	unsigned char *body;  /* first WW_BODY_KEEP bytes */
	size_t body_kept;
	char *title;	/* <title> text, NULL if none */
	char *location; /* redirect target as given by the server */
	struct ww_transfer transfer;
	const char *failure;
	char *failure_detail;
	double t0, t;
	int transaction_id;
	int hop;       /* 0: the input; k: the k-th redirect's URL */
	uint32_t flow; /* the capture's flow id of the connection curl used;
			  0: none */
};

struct ww_measurement {
	/* Envelope (OONI df-000). */
	char *input;
	char *test_name;
	char *test_version;
	time_t measurement_start_time;
	time_t test_start_time;
	char *probe_asn; /* "AS0" when unknown */
	char *probe_cc;	 /* "ZZ" when unknown */
	char *probe_network_name;
	char *report_id;
	char *measurement_uid;
	char *software_name;
	char *software_version;
	double test_runtime;
	json_t *annotations; /* object of strings; owned */
	json_t *options;     /* object describing the run's options; owned */
	/* Target description kept in test_keys. */
	char *category_code;
	char *resolver; /* "system" or "ip:port" */
	char *control_sni;
	/* Observations. */
	struct ww_query *queries;
	size_t n_queries, cap_queries;
	struct ww_tcp *tcp;
	size_t n_tcp, cap_tcp;
	struct ww_tls *tls;
	size_t n_tls, cap_tls;
	struct ww_http *http; /* in request order: [0] is the first hop */
	size_t n_http, cap_http;
	struct ww_exchange *xchg; /* VPN and QUIC endpoints */
	size_t n_xchg, cap_xchg;
	int next_transaction_id;
	/* The control's answer (docs/control-protocol.md), owned; NULL when
	 * none came. control_failure says why not (NULL: no control was
	 * asked, or one answered). control_attempts: one object per control
	 * asked, owned, NULL for none. */
	json_t *control;
	const char *control_failure;
	char *control_failure_detail;
	json_t *control_attempts;
	/* The run's check of a domestic reference target, owned; NULL when
	 * the run made none. */
	json_t *network_check;
	/* test_keys.packets (docs/measurement-format.md), owned; NULL: the
	 * key is left out. Built when the job ends (evidence.c). */
	json_t *packets;
};

struct ww_measurement *ww_measurement_new(void);
void ww_measurement_free(struct ww_measurement *m);

/* Append a zeroed element; the returned pointer is valid until the next
 * append to the same array. */
struct ww_query *ww_add_query(struct ww_measurement *m);
struct ww_tcp *ww_add_tcp(struct ww_measurement *m);
struct ww_tls *ww_add_tls(struct ww_measurement *m);
struct ww_http *ww_add_http(struct ww_measurement *m);
struct ww_exchange *ww_add_exchange(struct ww_measurement *m);
struct ww_answer *ww_add_answer(struct ww_query *q);
/* Append a header; name and value are copied as valid UTF-8 (each byte
 * that starts no valid sequence, and NUL, becomes U+FFFD). */
void ww_add_header(struct ww_header **arr, size_t *n, size_t *cap,
		   const char *name, size_t name_len, const char *value,
		   size_t value_len);

/* Release the contents of one element (not the element itself). */
void ww_query_clear(struct ww_query *q);
void ww_dns_msg_clear(struct ww_dns_msg *r);
void ww_cert_clear(struct ww_cert *c);
void ww_tls_clear(struct ww_tls *t);
void ww_http_clear(struct ww_http *h);
void ww_exchange_clear(struct ww_exchange *x);
/* Append a reply to x (its first WW_XREPLY_KEEP bytes kept); past
 * WW_XCHG_MAX_REPLIES only counted. Returns it, or NULL when counted. */
struct ww_xreply *ww_exchange_add_reply(struct ww_exchange *x, double t,
					const unsigned char *buf, size_t len);

/*
 * Set a failure on an observation: code from failure.h, detail copied
 * (may be NULL). For failure_unknown a detail should always be given.
 */
void ww_set_failure(const char **failure, char **detail, const char *code,
		    const char *detail_text);

/* The JSON for one measurement, as documented; caller json_decref()s. */
json_t *ww_measurement_to_json(const struct ww_measurement *m);
/* The same for a measurement about to be freed: its JSON parts
 * (annotations, options, control_attempts, packets) move into the result
 * instead of being copied (a measurement's packets are most of its
 * JSON); m then holds NULL for them. */
json_t *ww_measurement_take_json(struct ww_measurement *m);
/* One compact line (no trailing newline); caller frees. */
char *ww_measurement_to_line(const struct ww_measurement *m);

/* The transfer rate in bytes/s, or a negative value when there is none
 * (fewer than 2 body deliveries, or no time between first and last). */
double ww_transfer_rate(const struct ww_transfer *t);
/* The "transfer" object of a request (and of a control answer's hop). */
json_t *ww_transfer_json(const struct ww_transfer *t);

/* "A"/"AAAA"/"CNAME" */
const char *ww_rr_type_name(enum ww_rr_type t);
/* "NOERROR", "NXDOMAIN", ...; NULL for rcode < 0 */
const char *ww_rcode_name(int rcode);

#endif
