/*
 * validate_exchanges.c - test_keys.exchanges of a VPN or QUIC endpoint's
 * measurement (docs/measurement-format.md, "exchanges"), and the control
 * answer's "exchanges" (docs/control-protocol.md): the documented keys
 * with their types, the names from their fixed sets, and bounds on every
 * count and string, so that what is stored and shown is what the probe
 * could have written.
 */
#include "validate.h"
#include "validate_int.h"

#include <string.h>

#include "util.h"

/* A probe keeps at most 8 replies (model.h); an address gets at most 8
 * exchanges and a target 64 addresses: bounds with room. */
#define MAX_REPLIES 8
#define MAX_CONTROL_ENDPOINTS 64
#define MAX_CONTROL_PER_ENDPOINT 16
/* raw: base64 of at most 512 bytes */
#define MAX_RAW 684
#define MAX_NOTE 512
#define MAX_NAME 64
#define MAX_SERVER_NAME 253
/* a count no exchange reaches (a few retransmissions, 64 KiB streamed) */
#define MAX_COUNT 1000000

static const char *const protocols[] = {"openvpn", "ikev2", "wireguard",
					"quic"};
static const char *const payloads[] = {
	"handshake",	"no_key",	    "unregistered", "neutral_sni",
	"version_ping", "random",	    "ascii",	    "closed_udp",
	"closed_tcp",	"closed_handshake",
};
static const char *const transports[] = {"udp", "tcp"};

static const struct keyspec xchg_keys[] = {
	{"ip", T_STR, true},
	{"port", T_INT, true},
	{"endpoint", T_STR, false},
	{"transport", T_STR, true},
	{"protocol", T_STR, true},
	{"payload", T_STR, true},
	{"server_name", T_STR | T_NULL, false},
	{"sent", T_INT, true},
	{"bytes_sent", T_INT, false},
	{"first_length", T_INT, false},
	{"connected", T_BOOL, false},
	{"replies", T_ARR, true},
	{"replies_seen", T_INT, false},
	{"stage", T_STR | T_NULL, true},
	{"answered", T_BOOL, true},
	{"failure", T_STR | T_NULL, true},
	{"failure_detail", T_STR | T_NULL, false},
	{"t0", T_NUM, false},
	{"t", T_NUM, false},
	{"transaction_id", T_INT, false},
	{"flow", T_INT, false},
};

static const struct keyspec reply_keys[] = {
	{"t", T_NUM, true},
	{"length", T_INT, true},
	{"kind", T_STR | T_NULL, true},
	{"ours", T_BOOL, true},
	{"note", T_STR, false},
	{"raw", T_STR, true},
};

static const struct keyspec control_xchg_keys[] = {
	{"protocol", T_STR, true},	 {"payload", T_STR, true},
	{"transport", T_STR, true},	 {"answered", T_BOOL, true},
	{"stage", T_STR | T_NULL, true}, {"failure", T_STR | T_NULL, true},
	{"connected", T_BOOL, false},	 {"sent", T_INT, false},
	{"replies", T_INT, false},
};

/* key of obj (type-checked; absent or null fine) is one of set. */
static int
one_of(struct vctx *c, const json_t *obj, const char *key,
       const char *const *set, size_t n)
{
	const char *v = json_string_value(vd_get(obj, key));

	if (v == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v, set[i]) == 0)
			return 0;
	vd_push_key(c, key);
	return vd_fail(c, "unknown value");
}

/* key of obj (type-checked; absent or null fine) is at most max bytes. */
static int
short_str(struct vctx *c, const json_t *obj, const char *key, size_t max)
{
	const json_t *v = vd_get(obj, key);

	if (!json_is_string(v) || json_string_length(v) <= max)
		return 0;
	vd_push_key(c, key);
	return vd_fail(c, "longer than %zu bytes", max);
}

/* key of obj (type-checked; absent fine) is 0..max. */
static int
count(struct vctx *c, const json_t *obj, const char *key, long long max)
{
	const json_t *v = vd_get(obj, key);

	if (!json_is_integer(v) ||
	    (json_integer_value(v) >= 0 && json_integer_value(v) <= max))
		return 0;
	vd_push_key(c, key);
	return vd_fail(c, "must be 0..%lld", max);
}

static int
names(struct vctx *c, const json_t *x)
{
	return one_of(c, x, "protocol", protocols, WW_ARRAY_LEN(protocols)) ||
			       one_of(c, x, "payload", payloads,
				      WW_ARRAY_LEN(payloads)) ||
			       one_of(c, x, "transport", transports,
				      WW_ARRAY_LEN(transports)) ||
			       short_str(c, x, "stage", MAX_NAME) ||
			       short_str(c, x, "failure", MAX_NOTE)
		       ? -1
		       : 0;
}

static int
check_reply(struct vctx *c, const json_t *r)
{
	if (CHECK_KEYS(c, r, reply_keys) != 0 ||
	    count(c, r, "length", 65535 + 64 * 1024) != 0 ||
	    short_str(c, r, "kind", MAX_NAME) != 0 ||
	    short_str(c, r, "note", MAX_NOTE) != 0 ||
	    short_str(c, r, "raw", MAX_RAW) != 0)
		return -1;
	return 0;
}

static int
check_exchange(struct vctx *c, const json_t *x)
{
	const json_t *port;

	if (CHECK_KEYS(c, x, xchg_keys) != 0 || names(c, x) != 0 ||
	    short_str(c, x, "ip", 64) != 0 ||
	    short_str(c, x, "endpoint", 72) != 0 ||
	    short_str(c, x, "server_name", MAX_SERVER_NAME) != 0 ||
	    short_str(c, x, "failure_detail", MAX_NOTE) != 0 ||
	    count(c, x, "sent", MAX_COUNT) != 0 ||
	    count(c, x, "bytes_sent", 64LL * MAX_COUNT) != 0 ||
	    count(c, x, "first_length", 65535) != 0 ||
	    count(c, x, "replies_seen", MAX_COUNT) != 0 ||
	    count(c, x, "flow", 4294967295LL) != 0)
		return -1;
	port = vd_get(x, "port");
	if (json_integer_value(port) < 1 || json_integer_value(port) > 65535) {
		vd_push_key(c, "port");
		return vd_fail(c, "must be 1..65535");
	}
	return vd_check_elements(c, x, "replies", MAX_REPLIES, check_reply);
}

static int
check_control_one(struct vctx *c, const json_t *x)
{
	if (CHECK_KEYS(c, x, control_xchg_keys) != 0 || names(c, x) != 0 ||
	    count(c, x, "sent", MAX_COUNT) != 0 ||
	    count(c, x, "replies", MAX_COUNT) != 0)
		return -1;
	return 0;
}

/* control.exchanges: "ip:port" -> [exchange...]. */
static int
check_control_exchanges(struct vctx *c, const json_t *ctl)
{
	const json_t *o = vd_get(ctl, "exchanges"), *arr;
	const char *key;
	size_t old;

	if (o == NULL || json_is_null(o))
		return 0;
	old = vd_push_key(c, "control");
	vd_push_key(c, "exchanges");
	if (!json_is_object(o))
		return vd_fail(c, "must be an object");
	if (json_object_size(o) > MAX_CONTROL_ENDPOINTS)
		return vd_fail(c, "has %zu endpoints, more than %d",
			       json_object_size(o), MAX_CONTROL_ENDPOINTS);
	json_object_foreach((json_t *)o, key, arr)
	{
		size_t at = vd_push_key(c, key);
		size_t i;
		json_t *e;

		if (strlen(key) > 72)
			return vd_fail(c, "not an \"ip:port\" endpoint");
		if (!json_is_array(arr))
			return vd_fail(c, "must be an array");
		if (vd_check_array_size(c, arr, MAX_CONTROL_PER_ENDPOINT) != 0)
			return -1;
		json_array_foreach(arr, i, e)
		{
			size_t el = vd_push_index(c, i);

			if (!json_is_object(e))
				return vd_fail(c, "must be an object");
			if (check_control_one(c, e) != 0)
				return -1;
			vd_pop(c, el);
		}
		vd_pop(c, at);
	}
	vd_pop(c, old);
	return 0;
}

int
vd_check_exchanges(struct vctx *c, const json_t *tk)
{
	const json_t *x = vd_get(tk, "exchanges"), *ctl = vd_get(tk, "control");

	if (x != NULL) {
		size_t old = vd_push_key(c, "exchanges");

		if (!json_is_array(x))
			return vd_fail(c, "must be an array");
		vd_pop(c, old);
		if (vd_check_elements(c, tk, "exchanges", WW_VALIDATE_MAX_ARRAY,
				      check_exchange) != 0)
			return -1;
	}
	return json_is_object(ctl) ? check_control_exchanges(c, ctl) : 0;
}
