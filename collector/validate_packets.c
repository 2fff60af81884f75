/*
 * validate_packets.c - the collector's check of test_keys.packets, the
 * probe's packet evidence (docs/measurement-format.md, "packets"; rules in
 * docs/ingest-validation.md).
 *
 * The analysis reads these packets to confirm injection, the web view
 * shows them and exports carry them, so their types and ranges are
 * checked here and every array is held to the caps the probe writes at
 * most: 16 DNS entries of 8 replies, 24 flows of 32 packets. The key is
 * optional (older probes, the control side); an unknown key inside is
 * allowed, as everywhere.
 */
#include "validate_int.h"

#include <arpa/inet.h>
#include <math.h>
#include <string.h>

#include "dnsmsg.h"
#include "model.h"
#include "util.h"

#define MAX_DNS_ENTRIES 16
#define MAX_REPLIES WW_DNS_MAX_REPLIES
#define MAX_FLOWS 24
#define MAX_FLOW_PACKETS 32
/* raw_response: base64 of at most WW_DNS_REPLY_KEEP bytes */
#define MAX_RAW_B64 ((WW_DNS_REPLY_KEEP + 2) / 3 * 4)
/* the records one flow served (a connect, its handshakes, requests) */
#define MAX_FLOW_TIDS 64
/* packet and reply times: seconds since the measurement's start, on the
 * capture's clock (a packet stamped by the kernel may come out a little
 * before the start by the engine's): within a day either side */
#define MAX_SECONDS 86400.0

static const struct keyspec packets_keys[] = {
	{"capture", T_STR, true},
	{"capture_failure", T_STR | T_NULL, false},
	{"snaplen", T_INT, false},
	{"dns", T_ARR, false},
	{"tcp", T_ARR, false},
	{"truncated", T_BOOL, false},
	{"ring_drops", T_INT | T_NULL, false},
};

static const struct keyspec dns_entry_keys[] = {
	{"hostname", T_STR, true},
	{"replies", T_ARR, true},
	{"query_type", T_STR, false},
	{"transaction_id", T_INT, false},
	{"resolver_address", T_STR | T_NULL, false},
	{"n_sent", T_INT, false},
	{"n_replies", T_INT, false},
	{"truncated", T_BOOL, false},
};

static const struct keyspec reply_keys[] = {
	{"dns_id", T_INT, true},
	{"t", T_NUM, false},
	{"rcode", T_STR | T_NULL, false},
	{"question_ok", T_BOOL, false},
	{"addrs", T_ARR, false},
	{"ip_ttl", T_INT | T_NULL, false},
	{"ip_id", T_INT | T_NULL, false},
	{"raw_response", T_STR | T_NULL, false},
};

static const struct keyspec flow_keys[] = {
	{"flow", T_INT, true},
	{"ip", T_STR, true},
	{"port", T_INT, true},
	{"packets", T_ARR, true},
	{"transaction_ids", T_ARR, false},
	{"n_packets", T_INT, false},
	{"truncated", T_BOOL, false},
};

static const struct keyspec pkt_keys[] = {
	{"t", T_NUM, true},
	{"dir", T_STR, true},
	{"flags", T_STR, true},
	{"ttl", T_INT | T_NULL, false},
	{"ip_id", T_INT | T_NULL, false},
	{"win", T_INT, false},
	{"seq", T_INT, false},
	{"ack", T_INT, false},
	{"len", T_INT, false},
};

/* An integer key of obj (type-checked, maybe absent or null) in
 * min..max. */
static int
int_range(struct vctx *c, const json_t *obj, const char *key, long long min,
	  long long max)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) ||
	    (json_integer_value(v) >= min && json_integer_value(v) <= max))
		return 0;
	vd_push_key(c, key);
	return vd_fail(c, "must be %lld..%lld", min, max);
}

/* A number key (type-checked, maybe absent) that is a time in seconds. */
static int
seconds(struct vctx *c, const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	double d = json_number_value(v);

	if (v == NULL || (fabs(d) <= MAX_SECONDS && isfinite(d)))
		return 0;
	vd_push_key(c, key);
	return vd_fail(c, "must be seconds -%.0f..%.0f", MAX_SECONDS,
		       MAX_SECONDS);
}

static bool
is_address(const char *s)
{
	unsigned char buf[16];

	return s != NULL && (inet_pton(AF_INET, s, buf) == 1 ||
			     inet_pton(AF_INET6, s, buf) == 1);
}

/* The string key (type-checked) is one of the letters F S R P A U E C,
 * each at most once, in that order (docs/measurement-format.md). */
static int
check_flags(struct vctx *c, const json_t *p)
{
	static const char order[] = "FSRPAUEC";
	const char *s = json_string_value(json_object_get(p, "flags"));
	const char *at = order;

	for (; *s != '\0'; s++) {
		const char *q = strchr(at, *s);

		if (q == NULL)
			break;
		at = q + 1;
	}
	if (*s == '\0' && json_string_length(json_object_get(p, "flags")) <= 8)
		return 0;
	vd_push_key(c, "flags");
	return vd_fail(c, "must be TCP flag letters in the order FSRPAUEC");
}

static int
check_pkt(struct vctx *c, const json_t *p)
{
	const char *dir;

	if (CHECK_KEYS(c, p, pkt_keys) != 0 || seconds(c, p, "t") != 0 ||
	    check_flags(c, p) != 0 || int_range(c, p, "ttl", 0, 255) != 0 ||
	    int_range(c, p, "ip_id", 0, UINT32_MAX) != 0 ||
	    int_range(c, p, "win", 0, 65535) != 0 ||
	    int_range(c, p, "seq", 0, UINT32_MAX) != 0 ||
	    int_range(c, p, "ack", 0, UINT32_MAX) != 0 ||
	    int_range(c, p, "len", 0, 65535) != 0)
		return -1;
	dir = json_string_value(json_object_get(p, "dir"));
	if (strcmp(dir, "in") == 0 || strcmp(dir, "out") == 0)
		return 0;
	vd_push_key(c, "dir");
	return vd_fail(c, "must be \"in\" or \"out\"");
}

/* An array key (type-checked, maybe absent) of at most max elements that
 * all pass ok(); what names the element's kind in the message. */
static int
check_values(struct vctx *c, const json_t *obj, const char *key, size_t max,
	     bool (*ok)(const json_t *v), const char *what)
{
	const json_t *a = json_object_get(obj, key), *v;
	size_t old, i;

	if (a == NULL)
		return 0;
	old = vd_push_key(c, key);
	if (vd_check_array_size(c, a, max) != 0)
		return -1;
	json_array_foreach(a, i, v)
	{
		if (!ok(v)) {
			vd_push_index(c, i);
			return vd_fail(c, "must be %s", what);
		}
	}
	vd_pop(c, old);
	return 0;
}

static bool
address_value(const json_t *v)
{
	return is_address(json_string_value(v));
}

static bool
tid_value(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0;
}

static int
check_flow(struct vctx *c, const json_t *f)
{
	if (CHECK_KEYS(c, f, flow_keys) != 0 ||
	    int_range(c, f, "flow", 1, UINT32_MAX) != 0 ||
	    int_range(c, f, "port", 1, 65535) != 0 ||
	    int_range(c, f, "n_packets", 0, INT64_MAX) != 0 ||
	    check_values(c, f, "transaction_ids", MAX_FLOW_TIDS, tid_value,
			 "an integer >= 0") != 0)
		return -1;
	if (!is_address(json_string_value(json_object_get(f, "ip")))) {
		vd_push_key(c, "ip");
		return vd_fail(c, "must be an IPv4 or IPv6 address");
	}
	return vd_check_elements(c, f, "packets", MAX_FLOW_PACKETS, check_pkt);
}

static int
check_reply(struct vctx *c, const json_t *r)
{
	const json_t *raw = json_object_get(r, "raw_response");

	if (CHECK_KEYS(c, r, reply_keys) != 0 || seconds(c, r, "t") != 0 ||
	    int_range(c, r, "dns_id", 0, 65535) != 0 ||
	    int_range(c, r, "ip_ttl", 0, 255) != 0 ||
	    int_range(c, r, "ip_id", 0, UINT32_MAX) != 0 ||
	    check_values(c, r, "addrs", WW_DNS_MAX_ANSWERS, address_value,
			 "an IPv4 or IPv6 address") != 0)
		return -1;
	if (json_string_length(raw) > MAX_RAW_B64) {
		vd_push_key(c, "raw_response");
		return vd_fail(c, "is %zu bytes, longer than %d (base64 of %d)",
			       json_string_length(raw), MAX_RAW_B64,
			       WW_DNS_REPLY_KEEP);
	}
	return 0;
}

static int
check_dns_entry(struct vctx *c, const json_t *e)
{
	if (CHECK_KEYS(c, e, dns_entry_keys) != 0 ||
	    int_range(c, e, "n_sent", 0, INT64_MAX) != 0 ||
	    int_range(c, e, "n_replies", 0, INT64_MAX) != 0)
		return -1;
	return vd_check_elements(c, e, "replies", MAX_REPLIES, check_reply);
}

/* test_keys.packets, when present. */
int
vd_check_packets(struct vctx *c, const json_t *tk)
{
	const json_t *p = json_object_get(tk, "packets");
	const char *cap;
	size_t old;

	if (p == NULL)
		return 0;
	old = vd_push_key(c, "packets");
	if (!json_is_object(p))
		return vd_fail(c, "must be an object");
	if (CHECK_KEYS(c, p, packets_keys) != 0 ||
	    int_range(c, p, "snaplen", 0, 262144) != 0 ||
	    int_range(c, p, "ring_drops", 0, UINT32_MAX) != 0)
		return -1;
	cap = json_string_value(json_object_get(p, "capture"));
	if (strcmp(cap, "on") != 0 && strcmp(cap, "off") != 0) {
		vd_push_key(c, "capture");
		return vd_fail(c, "must be \"on\" or \"off\"");
	}
	if ((json_object_get(p, "dns") != NULL &&
	     vd_check_elements(c, p, "dns", MAX_DNS_ENTRIES, check_dns_entry) !=
		     0) ||
	    (json_object_get(p, "tcp") != NULL &&
	     vd_check_elements(c, p, "tcp", MAX_FLOWS, check_flow) != 0))
		return -1;
	vd_pop(c, old);
	return 0;
}
