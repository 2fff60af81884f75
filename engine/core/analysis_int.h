/*
 * analysis_int.h - what the analysis files share; not installed, included
 * only by engine/analysis*.c (the interface is analysis.h).
 *
 * analysis_hops.c reads the measurement and the control per hop,
 * analysis_pages.c compares pages (the comparison keys, "far" pages,
 * throttling, fingerprints), analysis.c decides (docs/verdicts.md) and
 * writes the keys, analysis_packets.c reads test_keys.packets for proof of
 * injection and applies its rules to the verdict; analysis_ooni.c turns
 * OONI's web_connectivity into a view in our shape first. All of them work on
 * one struct ctx, filled in that order: hops, then pages, then the verdict,
 * then the packet rules.
 */
#ifndef WW_ANALYSIS_INT_H
#define WW_ANALYSIS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <jansson.h>

#include "analysis.h"
#include "target.h"
#include "verdict.h"

#define MAX_ITEMS WW_ANALYSIS_MAX_ITEMS
#define MAX_ADDRS 64   /* addresses kept per side */
#define MAX_MATCHES 16 /* fingerprint matches taken per value */
#define TITLE_WORDS 64 /* long words compared per title */
#define MIN_WORD 5     /* "longer than 4" (ts-017 title_match) */

/*
 * Fingerprint scans cost (values x fingerprints), so they look at less
 * than the rest, still more than the probe records: 2 lookups per host of
 * at most 64 answers, at most 11 requests (10 redirects), 64 KiB of body.
 */
#define FP_MAX_LOOKUPS 64
#define FP_MAX_ANSWERS 64
#define MAX_BODY (256u << 10)
#define MAX_B64 (MAX_BODY / 3 * 4) /* base64 of MAX_BODY bytes */

/* Hops read per side: the probe follows 10 redirects (11 requests). */
#define MAX_HOPS 16

enum tri { TRI_NULL, TRI_FALSE, TRI_TRUE };

/* The step of a hop that stopped the walk (for the packet rules). */
enum pk_step { PK_STEP_NONE, PK_STEP_TCP, PK_STEP_TLS, PK_STEP_HTTP };

/* test_keys.analysis.evidence_detail: at most this many bytes. */
#define PK_DETAIL_MAX 640

/* What one observation says. */
enum outcome { OC_UNKNOWN, OC_OK, OC_FAILED };

struct ip {
	int family;
	unsigned char a[16];
};

struct verdict {
	enum ww_blocking blocking;
	enum tri accessible;
	const char *detail;  /* static string or NULL */
	const char *reason;  /* static string */
	const char *failure; /* http_experiment_failure, borrowed from m */
	int hop;	     /* the hop whose step decided, -1: none */
};

/* One hop of the probe's chain: hop 0 is the input, hop k the k-th
 * redirect's URL. */
struct hop {
	const json_t *req; /* its request (NULL: none recorded) */
	const char *url;   /* its URL (hop 0: the input when no request) */
	struct ww_target t;
	bool have_t; /* url parsed: scheme, host and port known */
	bool https;
	/* the probe's lookups of t.host, at whichever hop they were made */
	bool dns_observed;
	struct ip addrs[MAX_ADDRS];
	size_t n_addrs;
	const char *dns_failure; /* when no address came */
	/* the control's lookup of the same name */
	enum outcome ctl_dns;
	struct ip ctl_addrs[MAX_ADDRS];
	size_t n_ctl_addrs;
	const char *consistency; /* OONI's dns_consistency for this name */
	bool bogon; /* a probe-only bogon while the control resolved it */
	const json_t *ctl_hop; /* the control's hop with the same URL */
};

/* One element of the control's "hops" (docs/control-protocol.md). */
struct ctl_hop {
	const json_t *o;
	struct ww_target t;
	bool have_t;
};

struct ctx {
	json_t *tk;
	const struct ww_fingerprints *fp;
	const char *cc;
	struct ww_target t;
	bool have_target;
	/* the probe's chain */
	struct hop hops[MAX_HOPS];
	size_t n_hops;
	bool req_hop_keys; /* some request has "hop"; else position counts */
	/* the control (NULL: none answered) and its chain */
	json_t *control;
	struct ctl_hop ctl_hops[MAX_HOPS];
	size_t n_ctl_hops;
	/* comparison keys of the final response */
	bool have_keys;
	enum tri body_length_match, status_code_match, headers_match,
		title_match;
	bool have_proportion;
	double proportion;
	bool empty_body; /* the probe's body is empty, the control's not */
	bool tiny_body;	 /* under WW_BODY_TINY of the control's */
	const char *title, *ctl_title;
	/* fingerprints */
	json_t *fp_names;
	bool fp_dns, fp_http; /* a match that confirms */
	int fp_dns_hop, fp_http_hop;
	bool confirmed;
	int cur_hop; /* the hop being decided, for set_verdict() */
	struct verdict v;
	/* the step that stopped the walk, and its hop (-1: none) */
	enum pk_step stop_step;
	int stop_hop;
	/* packet evidence (analysis_packets.c): names and one sentence */
	json_t *evidence;
	char evidence_detail[PK_DETAIL_MAX];
};

/* --- JSON access that never trusts the type ------------------------------- */

static inline json_t *
jget(const json_t *o, const char *k)
{
	return json_is_object(o) ? json_object_get(o, k) : NULL;
}

static inline json_t *
jobj(const json_t *o, const char *k)
{
	json_t *v = jget(o, k);

	return json_is_object(v) ? v : NULL;
}

static inline json_t *
jarr(const json_t *o, const char *k)
{
	json_t *v = jget(o, k);

	return json_is_array(v) ? v : NULL;
}

static inline const char *
jstr(const json_t *o, const char *k)
{
	return json_string_value(jget(o, k));
}

static inline bool
jtrue(const json_t *o, const char *k)
{
	return json_is_true(jget(o, k));
}

static inline bool
jint(const json_t *o, const char *k, long long *out)
{
	json_t *v = jget(o, k);

	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

/* Elements of a to look at (0 when a is not an array). */
static inline size_t
jlen(const json_t *a)
{
	size_t n = json_array_size(a);

	return n < MAX_ITEMS ? n : MAX_ITEMS;
}

/* The "failure" key: a non-empty string, else NULL (null or odd). */
static inline const char *
jfailure(const json_t *o)
{
	const char *s = jstr(o, "failure");

	return s != NULL && *s != '\0' ? s : NULL;
}

static inline bool
is(const char *s, const char *want)
{
	return s != NULL && strcmp(s, want) == 0;
}

static inline bool
jnum(const json_t *o, const char *k, double *out)
{
	json_t *v = jget(o, k);

	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

enum tls_state { TS_UNKNOWN, TS_VERIFIED, TS_UNVERIFIED, TS_FAILED };

/* --- analysis_hops.c: the measurement and the control per hop ------------ */
bool ip_parse(const char *s, struct ip *ip);
bool ip_eq(const struct ip *x, const struct ip *y);
bool ip_in(const struct ip *ip, const struct ip *set, size_t n);
bool host_eq(const char *s, const char *host);
bool entry_endpoint(const json_t *e, struct ip *ip, long *port);
long long rec_hop(const json_t *e);
enum tls_state tls_state(const json_t *hs);
enum tls_state ctl_tls_state(const json_t *e);
long long req_hop(const struct ctx *c, size_t i, size_t n);
const char *req_url(const json_t *r);
void collect_control_hops(struct ctx *c);
void collect_hops(struct ctx *c);
const json_t *final_request(const struct ctx *c);
enum outcome ctl_tcp(const struct ctx *c, const struct ip *ip, long port);
const json_t *ctl_hs(const struct ctx *c, const struct ip *ip, long port,
		     const char *host, bool want_verified);
enum outcome ctl_http_at(const struct ctx *c, const struct hop *h,
			 const json_t **out);
enum outcome ctl_final(const struct ctx *c, const json_t **out,
		       long long *code);
enum outcome ctl_stand_in(const struct ctx *c, size_t k);
enum outcome tcp_outcome(const json_t *e, const char **failure);
bool tcp_connected(const struct ctx *c, const struct hop *h, size_t k);
bool in_hop(const struct hop *h, size_t k, const json_t *e, struct ip *ip,
	    long *port);
bool is_target_hs(const json_t *hs, const char *host);
const json_t *neutral_hs(const struct ctx *c, const struct ip *ip, long port,
			 const char *host);
bool shared_bogon(const struct hop *h, const struct ip *ip);

/* --- analysis_pages.c: comparing pages ----------------------------------- */
const json_t *response_of(const json_t *req, long long *code);
bool chain_failure(const char *f);
void compute_http_diff(struct ctx *c);
bool page_far(const struct ctx *c);
bool ooni_http_differs(const struct ctx *c);
bool same_page_strict(const struct ctx *c);
void match_dns_fingerprints(struct ctx *c);
void match_http_fingerprints(struct ctx *c);
bool throttled(const json_t *req, const char *f, const json_t *ctl);

/* --- analysis.c: setting the verdict ------------------------------------- */
bool set_verdict(struct ctx *c, enum ww_blocking b, enum tri accessible,
		 const char *detail, const char *reason, const char *failure);
bool set_blocked(struct ctx *c, enum ww_blocking b, const char *detail,
		 const char *reason, const char *failure);
const char *tcp_detail(const char *f);
const char *tls_detail(const char *f);
const char *http_detail(const char *f);

/* --- analysis_vpn.c: VPN and QUIC endpoints ---------------------------------
 */
/* The verdict from test_keys.exchanges and the control's; false when the
 * probe made no handshake. */
bool decide_vpn(struct ctx *c);

/* --- analysis_ooni.c: OONI's web_connectivity in our shape -----------------
 */
/* m is OONI's web_connectivity (test_name), of any version. */
bool ooni_shape(const json_t *m);
/* A new measurement (the caller's reference) that shares m's values: the
 * classic algorithm's records in our shape (docs/verdicts.md, "OONI's
 * measurements"). m must have a test_keys object. */
json_t *ooni_view(const json_t *m);

/* --- analysis_packets.c: proof from test_keys.packets --------------------- */
void pk_apply_dns(struct ctx *c);
void pk_apply_flows(struct ctx *c);

#endif
