/*
 * control.h - the control protocol (docs/control-protocol.md): requests
 * parsed and checked, answers built from a measurement the control service
 * made, and answers checked on the probe's side. Both our protocol and
 * OONI's test-helper protocol (probe-cli's oohelperd, Measurement Kit).
 */
#ifndef WW_CONTROL_H
#define WW_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "model.h"

#define WW_CONTROL_PATH "/api/v1/control"
#define WW_OONI_TH_PATH "/api/v1/oonith"
/* Request bodies above this are refused before parsing. */
#define WW_CONTROL_MAX_REQUEST (64 * 1024)
#define WW_CONTROL_MAX_INPUT 2048
/* Entries of an answer's "hops": the input and WW_MAX_REDIRECTS more. */
#define WW_CONTROL_MAX_HOPS 11
/* At most this many probe addresses in a control request. */
#define WW_CONTROL_MAX_ADDRS 16

struct ww_control_req {
	char *input;  /* the target: URL, tcp://, tls:// or a VPN kind's */
	char **addrs; /* the probe's addresses (literals, deduplicated) */
	size_t n_addrs;
	char *sni; /* NULL: the input's host */
	bool ooni; /* asked in OONI's protocol: answer in it */
	bool quic; /* an https input's QUIC step too (probe --quic) */
};

/*
 * Parse a request body. ooni selects OONI's format ({"http_request",
 * "http_request_headers", "tcp_connect": ["ip:port"]}). Returns 0, or -1
 * with a message naming the field.
 */
int ww_control_req_parse(const char *body, size_t len, bool ooni,
			 struct ww_control_req *r, char *err, size_t errlen);
void ww_control_req_clear(struct ww_control_req *r);

/*
 * The answer for r from m, the measurement the control service made of
 * r->input (with r's addresses and SNI). Caller json_decref()s.
 */
json_t *ww_control_answer(const struct ww_measurement *m,
			  const struct ww_control_req *r);

/*
 * Probe side: is a the shape of a control answer (either protocol)?
 * Returns 0, or -1 with the reason. Values are still read defensively by
 * the analysis; this refuses what is clearly not an answer.
 */
int ww_control_answer_check(const json_t *a, char *err, size_t errlen);

/* control_xchg.c: a VPN or QUIC endpoint's exchanges as the answer's
 * "exchanges" (by "ip:port", in order); and its check (NULL or null is
 * fine: other targets have none). */
json_t *ww_control_exchanges(const struct ww_measurement *m);
int ww_control_exchanges_check(const json_t *o, char *err, size_t errlen);

#endif
