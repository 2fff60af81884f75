/*
 * validate.c - the collector's check of a submitted measurement against
 * docs/measurement-format.md (rules: docs/ingest-validation.md).
 *
 * What is checked is what storage, timelines and exports rely on: the
 * envelope in full (types, shapes, plausible times, probe_ip), and for each
 * element of the observation arrays its documented key types, with bounds
 * on every array and on nesting. Keys we do not know are allowed, so a
 * newer probe's measurements still go in; the verdict keys are not checked
 * (the collector recomputes the analysis).
 *
 * Every failure names the offending field as a JSON path. The path and the
 * message are always valid UTF-8, so they can go into a JSON error answer
 * as they are: key names from the submission are reduced to printable
 * ASCII, and a byte of a message that starts no valid UTF-8 sequence
 * (cut short, or quoted from the input) becomes '?'.
 */
#include "validate.h"
#include "validate_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dnsmsg.h"
#include "engine.h"
#include "target.h"
#include "util.h"

/* Shorter bounds than WW_VALIDATE_MAX_ARRAY where the format documents one
 * (what the probe writes at most: dnsmsg.h, tls.c, http.c). */
#define MAX_ANSWERS WW_DNS_MAX_ANSWERS
#define MAX_CERTS 10
#define MAX_HEADERS 128
/* Envelope strings other than input and measurement_uid. */
#define MAX_SHORT_STR 256
/* annotations: keys and value length. */
#define MAX_ANNOTATIONS 256
#define MAX_ANNOTATION_LEN 4096
/* A key from the submission, as shown in a path. */
#define MAX_PATH_KEY 64
/* hop: 0 (the input) to WW_MAX_REDIRECTS; a control answer's hops. */
#define MAX_HOP WW_MAX_REDIRECTS
#define MAX_HOPS (WW_MAX_REDIRECTS + 1)
/* Endpoints in one of a control hop's tcp_connect/tls_handshake. */
#define MAX_HOP_ENDPOINTS 256
/* transfer.wire_bytes and t_last_wire_byte: far above one request's
 * (the 8 MiB body cap, a timeout of minutes), far below nonsense. */
#define MAX_WIRE_BYTES (1LL << 40)
#define MAX_WIRE_SECONDS 86400.0

/* --- context and errors ------------------------------------------------- */

/* Make s valid UTF-8 in place: each byte that starts no valid sequence
 * becomes '?' (a sequence cut short by snprintf, or a target parser's
 * message that quotes part of the input and cut it mid-character). */
static void
utf8_fix(char *s)
{
	size_t len = strlen(s), i = 0, n;

	while (i < len) {
		n = ww_utf8_seq_len((const unsigned char *)s + i, len - i);
		if (n == 0) {
			s[i] = '?';
			n = 1;
		}
		i += n;
	}
}

static void
path_append(struct vctx *c, const char *s, size_t n)
{
	if (n > sizeof(c->path) - 1 - c->plen)
		n = sizeof(c->path) - 1 - c->plen;
	memcpy(c->path + c->plen, s, n);
	c->plen += n;
	c->path[c->plen] = '\0';
}

/* Append ".key" (or "key" at the root); returns the length to pop to. Bytes
 * outside printable ASCII show as '?', and a long key is cut. */
size_t
vd_push_key(struct vctx *c, const char *key)
{
	size_t old = c->plen;
	char buf[MAX_PATH_KEY + 1];
	size_t i;

	for (i = 0; key[i] != '\0' && i < MAX_PATH_KEY; i++)
		buf[i] = key[i] >= 0x20 && key[i] < 0x7f ? key[i] : '?';
	if (old > 0)
		path_append(c, ".", 1);
	path_append(c, buf, i);
	return old;
}

size_t
vd_push_index(struct vctx *c, size_t idx)
{
	size_t old = c->plen;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "[%zu]", idx);

	path_append(c, buf, (size_t)n);
	return old;
}

void
vd_pop(struct vctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

int
vd_fail(struct vctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->fieldlen > 0) {
		snprintf(c->field, c->fieldlen, "%s", c->path);
		utf8_fix(c->field);
	}
	if (c->msglen > 0) {
		va_start(ap, fmt);
		vsnprintf(c->msg, c->msglen, fmt, ap);
		va_end(ap);
		utf8_fix(c->msg);
	}
	return -1;
}

/* --- types ---------------------------------------------------------------- */

bool
vd_type_ok(const json_t *v, unsigned types)
{
	return ((types & T_STR) && json_is_string(v)) ||
	       ((types & T_NULL) && json_is_null(v)) ||
	       ((types & T_INT) && json_is_integer(v)) ||
	       ((types & T_NUM) && json_is_number(v)) ||
	       ((types & T_BOOL) && json_is_boolean(v)) ||
	       ((types & T_OBJ) && json_is_object(v)) ||
	       ((types & T_ARR) && json_is_array(v));
}

/* "a string or null" */
static void
type_desc(unsigned types, char *out, size_t outlen)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{T_STR, "a string"},  {T_INT, "an integer"},
		{T_NUM, "a number"},  {T_BOOL, "a boolean"},
		{T_OBJ, "an object"}, {T_ARR, "an array"},
		{T_NULL, "null"},
	};
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < WW_ARRAY_LEN(names); i++) {
		if (!(types & names[i].bit))
			continue;
		len += (size_t)snprintf(out + len, outlen - len, "%s%s",
					len > 0 ? " or " : "", names[i].name);
		if (len >= outlen)
			break;
	}
}

/* Check one key of obj against its spec (on failure the path names it). */
static int
check_key(struct vctx *c, const json_t *obj, const struct keyspec *k)
{
	const json_t *v = json_object_get(obj, k->key);
	char desc[96];

	if (v == NULL && !k->required)
		return 0;
	if (v != NULL && vd_type_ok(v, k->types))
		return 0;
	type_desc(k->types, desc, sizeof(desc));
	vd_push_key(c, k->key);
	return vd_fail(c, v == NULL ? "missing (must be %s)" : "must be %s",
		       desc);
}

int
vd_check_keys(struct vctx *c, const json_t *obj, const struct keyspec *specs,
	      size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (check_key(c, obj, &specs[i]) != 0)
			return -1;
	return 0;
}

/* Value of a key known (by an earlier check_keys) to have the right type. */
static const json_t *
get(const json_t *obj, const char *key)
{
	return json_object_get(obj, key);
}

/* An array of at most max elements; the path stays at the array. */
int
vd_check_array_size(struct vctx *c, const json_t *arr, size_t max)
{
	if (json_array_size(arr) > max)
		return vd_fail(c, "has %zu elements, more than %zu",
			       json_array_size(arr), max);
	return 0;
}

/* --- nesting ------------------------------------------------------------ */

static int
check_depth(struct vctx *c, const json_t *v, int depth)
{
	const char *key;
	const json_t *e;
	size_t i, old;

	if (!json_is_object(v) && !json_is_array(v))
		return 0;
	if (depth > WW_VALIDATE_MAX_DEPTH)
		return vd_fail(c, "nested deeper than %d levels",
			       WW_VALIDATE_MAX_DEPTH);
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, e)
		{
			old = vd_push_key(c, key);
			if (check_depth(c, e, depth + 1) != 0)
				return -1;
			vd_pop(c, old);
		}
	} else {
		json_array_foreach(v, i, e)
		{
			old = vd_push_index(c, i);
			if (check_depth(c, e, depth + 1) != 0)
				return -1;
			vd_pop(c, old);
		}
	}
	return 0;
}

/* --- time ----------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool
digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int
ww_parse_utc(const char *s, int64_t *out)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, dim;

	if (s == NULL || strlen(s) != 19 || s[4] != '-' || s[7] != '-' ||
	    s[10] != ' ' || s[13] != ':' || s[16] != ':')
		return -1;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
	    !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
	    !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
		return -1;
	if (y < 1 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59)
		return -1;
	dim = mdays[mo - 1];
	if (mo == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		dim = 29;
	if (d < 1 || d > dim)
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

static int
check_time(struct vctx *c, const json_t *m, const char *key)
{
	const char *s = json_string_value(get(m, key));
	size_t old = vd_push_key(c, key);
	int64_t t;

	if (ww_parse_utc(s, &t) != 0)
		return vd_fail(c, "must be a UTC time \"YYYY-MM-DD HH:MM:SS\"");
	if (t - c->now > WW_VALIDATE_MAX_FUTURE)
		return vd_fail(
			c,
			"from the future: %lld s ahead of the collector's "
			"clock (at most %d)",
			(long long)(t - c->now), WW_VALIDATE_MAX_FUTURE);
	if (c->now - t > WW_VALIDATE_MAX_AGE)
		return vd_fail(c,
			       "too old: %lld s before the collector's clock "
			       "(at most %d, one year)",
			       (long long)(c->now - t), WW_VALIDATE_MAX_AGE);
	vd_pop(c, old);
	return 0;
}

/* --- envelope ------------------------------------------------------------- */

static bool
uid_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

/* "AS" and a decimal number 0..4294967295, without leading zeros (so that
 * one network has one spelling). */
static bool
asn_ok(const char *s)
{
	size_t n;
	uint64_t v = 0;

	if (strncmp(s, "AS", 2) != 0)
		return false;
	s += 2;
	n = strlen(s);
	if (n == 0 || n > 10 || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	return v <= UINT32_MAX;
}

/* A string key (already type-checked) of at most max bytes. */
static int
check_len(struct vctx *c, const json_t *obj, const char *key, size_t min,
	  size_t max)
{
	size_t n = json_string_length(get(obj, key));

	if (n >= min && n <= max)
		return 0;
	vd_push_key(c, key);
	if (n < min)
		return vd_fail(c, "must not be empty");
	return vd_fail(c, "is %zu bytes, longer than %zu", n, max);
}

static int
check_uid(struct vctx *c, const json_t *m)
{
	const char *s = json_string_value(get(m, "measurement_uid"));

	if (check_len(c, m, "measurement_uid", 1, WW_VALIDATE_MAX_UID) != 0)
		return -1;
	for (size_t i = 0; s[i] != '\0'; i++)
		if (!uid_char(s[i])) {
			vd_push_key(c, "measurement_uid");
			return vd_fail(c, "may hold only letters, digits, '.', "
					  "'_' and '-'");
		}
	if (json_string_length(get(m, "measurement_uid")) != strlen(s)) {
		vd_push_key(c, "measurement_uid");
		return vd_fail(c, "holds a NUL byte");
	}
	return 0;
}

static int
check_input_and_test_name(struct vctx *c, const json_t *m)
{
	const json_t *input = get(m, "input");
	const char *test_name = json_string_value(get(m, "test_name"));
	const char *want;
	struct ww_target t;
	char err[256];

	if (check_len(c, m, "input", 1, WW_TARGET_MAX_INPUT) != 0)
		return -1;
	if (json_string_length(input) != strlen(json_string_value(input))) {
		vd_push_key(c, "input");
		return vd_fail(c, "holds a NUL byte");
	}
	if (ww_target_parse(json_string_value(input), &t, err, sizeof(err)) !=
	    0) {
		vd_push_key(c, "input");
		return vd_fail(c, "not a target we measure: %s", err);
	}
	want = ww_test_name(t.kind);
	if (strcmp(test_name, "wallwatch_web") != 0 &&
	    strcmp(test_name, "wallwatch_endpoint") != 0) {
		ww_target_clear(&t);
		vd_push_key(c, "test_name");
		return vd_fail(c, "must be \"wallwatch_web\" or "
				  "\"wallwatch_endpoint\"");
	}
	if (strcmp(test_name, want) != 0) {
		int rc;

		vd_push_key(c, "test_name");
		rc = vd_fail(c, "must be \"%s\" for a %s:// input", want,
			     ww_target_kind_name(t.kind));
		ww_target_clear(&t);
		return rc;
	}
	ww_target_clear(&t);
	return 0;
}

static int
check_annotations(struct vctx *c, const json_t *a)
{
	const char *key;
	const json_t *v;
	size_t old;

	old = vd_push_key(c, "annotations");
	if (json_object_size(a) > MAX_ANNOTATIONS)
		return vd_fail(c, "has %zu keys, more than %d",
			       json_object_size(a), MAX_ANNOTATIONS);
	json_object_foreach((json_t *)a, key, v)
	{
		size_t kold = vd_push_key(c, key);

		if (!json_is_string(v))
			return vd_fail(c, "must be a string");
		if (json_string_length(v) > MAX_ANNOTATION_LEN)
			return vd_fail(c, "is %zu bytes, longer than %d",
				       json_string_length(v),
				       MAX_ANNOTATION_LEN);
		vd_pop(c, kold);
	}
	vd_pop(c, old);
	return 0;
}

/* --- test_keys elements --------------------------------------------------- */

static const struct keyspec answer_keys[] = {
	{"answer_type", T_STR, true},	{"ipv4", T_STR, false},
	{"ipv6", T_STR, false},		{"hostname", T_STR, false},
	{"ttl", T_INT | T_NULL, false},
};

static const struct keyspec query_keys[] = {
	{"hostname", T_STR, true},
	{"query_type", T_STR, true},
	{"answers", T_ARR, true},
	{"failure", T_STR | T_NULL, true},
	{"failure_detail", T_STR | T_NULL, false},
	{"engine", T_STR | T_NULL, false},
	{"resolver_address", T_STR | T_NULL, false},
	{"rcode", T_INT | T_NULL, false},
	{"rcode_name", T_STR | T_NULL, false},
	{"raw_response", T_STR | T_NULL, false},
	{"t0", T_NUM, false},
	{"t", T_NUM, false},
	{"transaction_id", T_INT, false},
	{"hop", T_INT, false},
	{"flow", T_INT, false},
};

static const struct keyspec tcp_keys[] = {
	{"ip", T_STR, true},	 {"port", T_INT, true},
	{"status", T_OBJ, true}, {"t0", T_NUM, false},
	{"t", T_NUM, false},	 {"transaction_id", T_INT, false},
	{"hop", T_INT, false},	 {"flow", T_INT, false},
};

static const struct keyspec tcp_status_keys[] = {
	{"success", T_BOOL, true},
	{"failure", T_STR | T_NULL, true},
	{"failure_detail", T_STR | T_NULL, false},
};

static const struct keyspec tls_keys[] = {
	{"server_name", T_STR | T_NULL, true},
	{"peer_certificates", T_ARR, true},
	{"failure", T_STR | T_NULL, true},
	{"failure_detail", T_STR | T_NULL, false},
	{"network", T_STR, false},
	{"address", T_STR | T_NULL, false},
	{"ip", T_STR | T_NULL, false},
	{"port", T_INT, false},
	{"sni_role", T_STR | T_NULL, false},
	{"tls_version", T_STR | T_NULL, false},
	{"cipher_suite", T_STR | T_NULL, false},
	{"negotiated_protocol", T_STR | T_NULL, false},
	{"no_tls_verify", T_BOOL, false},
	{"handshake_done", T_BOOL, false},
	{"verified", T_BOOL, false},
	{"verify_error", T_STR | T_NULL, false},
	{"t0", T_NUM, false},
	{"t", T_NUM, false},
	{"transaction_id", T_INT, false},
	{"hop", T_INT, false},
	{"flow", T_INT, false},
};

static const struct keyspec cert_keys[] = {
	{"format", T_STR, true},
	{"data", T_STR, true},
};

static const struct keyspec request_keys[] = {
	{"request", T_OBJ, true},
	{"response", T_OBJ | T_NULL, true},
	{"failure", T_STR | T_NULL, true},
	{"failure_detail", T_STR | T_NULL, false},
	{"address", T_STR | T_NULL, false},
	{"t0", T_NUM, false},
	{"t", T_NUM, false},
	{"transaction_id", T_INT, false},
	{"hop", T_INT, false},
	{"transfer", T_OBJ, false},
	{"flow", T_INT, false},
};

/* requests[].transfer and a control hop's http_request.transfer. */
static const struct keyspec transfer_keys[] = {
	{"bytes", T_INT, true},
	{"body_bytes", T_INT, true},
	{"t_first_byte", T_NUM | T_NULL, true},
	{"t_last_byte", T_NUM | T_NULL, true},
	{"rate", T_NUM | T_NULL, true},
	{"wire_bytes", T_INT, false},
	{"t_last_wire_byte", T_NUM | T_NULL, false},
};

/* An element of control.hops (our control protocol). */
static const struct keyspec control_hop_keys[] = {
	{"url", T_STR | T_NULL, false},
	{"dns", T_OBJ | T_NULL, false},
	{"tcp_connect", T_OBJ, false},
	{"tls_handshake", T_OBJ, false},
	{"http_request", T_OBJ | T_NULL, false},
};

static const struct keyspec control_hop_dns_keys[] = {
	{"host", T_STR, false},
	{"failure", T_STR | T_NULL, false},
	{"addrs", T_ARR, false},
};

static const struct keyspec control_hop_http_keys[] = {
	{"status_code", T_INT, true},
	{"failure", T_STR | T_NULL, false},
	{"location", T_STR | T_NULL, false},
	{"transfer", T_OBJ | T_NULL, false},
};

static const struct keyspec http_req_keys[] = {
	{"method", T_STR, true},
	{"url", T_STR, true},
	{"headers", T_OBJ, false},
	{"headers_list", T_ARR, false},
};

static const struct keyspec http_resp_keys[] = {
	{"code", T_INT, true},
	{"http_version", T_STR | T_NULL, false},
	{"headers", T_OBJ, false},
	{"headers_list", T_ARR, false},
	{"body", T_STR | T_OBJ | T_NULL, false},
	{"body_is_truncated", T_BOOL, false},
	{"body_length", T_INT, false},
	{"body_download_capped", T_BOOL, false},
	{"body_sha256", T_STR | T_NULL, false},
	{"title", T_STR | T_NULL, false},
	{"location", T_STR | T_NULL, false},
};

static const struct keyspec body_keys[] = {
	{"format", T_STR, true},
	{"data", T_STR, true},
};

static const struct keyspec attempt_keys[] = {
	{"url", T_STR, true},
	{"failure", T_STR | T_NULL, true},
	{"failure_detail", T_STR | T_NULL, false},
	{"status_code", T_INT | T_NULL, false},
	{"t0", T_NUM, false},
	{"t", T_NUM, false},
};

static const struct keyspec network_check_keys[] = {
	{"references", T_ARR, true},
	{"ok", T_BOOL, true},
};

/* A port key (already type-checked as an integer, maybe absent). */
static int
check_port(struct vctx *c, const json_t *obj)
{
	const json_t *p = get(obj, "port");

	if (p == NULL ||
	    (json_integer_value(p) >= 1 && json_integer_value(p) <= 65535))
		return 0;
	vd_push_key(c, "port");
	return vd_fail(c, "must be 1..65535");
}

/* A hop key (already type-checked as an integer, maybe absent), and the
 * record's flow: the capture's id of its socket (0: none), a uint32_t. */
static int
check_hop(struct vctx *c, const json_t *obj)
{
	const json_t *h = get(obj, "hop"), *f = get(obj, "flow");

	if (f != NULL &&
	    (json_integer_value(f) < 0 || json_integer_value(f) > UINT32_MAX)) {
		vd_push_key(c, "flow");
		return vd_fail(c, "must be 0..%lu", (unsigned long)UINT32_MAX);
	}
	if (h == NULL ||
	    (json_integer_value(h) >= 0 && json_integer_value(h) <= MAX_HOP))
		return 0;
	vd_push_key(c, "hop");
	return vd_fail(c, "must be 0..%d", MAX_HOP);
}

/* A number key of obj (type-checked, maybe null) is finite and >= 0. */
static int
check_nonneg(struct vctx *c, const json_t *obj, const char *key)
{
	const json_t *v = get(obj, key);
	double d;

	if (v == NULL || json_is_null(v))
		return 0;
	d = json_number_value(v);
	if (d >= 0 && isfinite(d))
		return 0;
	vd_push_key(c, key);
	return vd_fail(c, "must be >= 0");
}

/* A transfer object at key of obj (type-checked; absent or null: fine). */
static int
check_transfer(struct vctx *c, const json_t *obj)
{
	static const char *const keys[] = {
		"bytes", "body_bytes", "t_first_byte",	  "t_last_byte",
		"rate",	 "wire_bytes", "t_last_wire_byte"};
	const json_t *t = get(obj, "transfer"), *v;
	size_t old;

	if (t == NULL || json_is_null(t))
		return 0;
	old = vd_push_key(c, "transfer");
	if (CHECK_KEYS(c, t, transfer_keys) != 0)
		return -1;
	for (size_t i = 0; i < WW_ARRAY_LEN(keys); i++)
		if (check_nonneg(c, t, keys[i]) != 0)
			return -1;
	v = get(t, "wire_bytes");
	if (v != NULL && json_integer_value(v) > MAX_WIRE_BYTES) {
		vd_push_key(c, "wire_bytes");
		return vd_fail(c, "must be at most %lld", MAX_WIRE_BYTES);
	}
	v = get(t, "t_last_wire_byte");
	if (v != NULL && json_is_number(v) &&
	    json_number_value(v) > MAX_WIRE_SECONDS) {
		vd_push_key(c, "t_last_wire_byte");
		return vd_fail(c, "must be at most %.0f", MAX_WIRE_SECONDS);
	}
	vd_pop(c, old);
	return 0;
}

/* The array at key (already type-checked) has at most max elements, each
 * an object passing check(). */
int
vd_check_elements(struct vctx *c, const json_t *obj, const char *key,
		  size_t max, int (*check)(struct vctx *c, const json_t *elem))
{
	const json_t *arr = get(obj, key), *e;
	size_t old = vd_push_key(c, key), i;

	if (vd_check_array_size(c, arr, max) != 0)
		return -1;
	json_array_foreach(arr, i, e)
	{
		size_t eold = vd_push_index(c, i);

		if (!json_is_object(e))
			return vd_fail(c, "must be an object");
		if (check(c, e) != 0)
			return -1;
		vd_pop(c, eold);
	}
	vd_pop(c, old);
	return 0;
}

static int
check_answer(struct vctx *c, const json_t *a)
{
	return CHECK_KEYS(c, a, answer_keys);
}

static int
check_query(struct vctx *c, const json_t *q)
{
	if (CHECK_KEYS(c, q, query_keys) != 0 || check_hop(c, q) != 0)
		return -1;
	return vd_check_elements(c, q, "answers", MAX_ANSWERS, check_answer);
}

static int
check_tcp(struct vctx *c, const json_t *t)
{
	size_t old;

	if (CHECK_KEYS(c, t, tcp_keys) != 0 || check_port(c, t) != 0 ||
	    check_hop(c, t) != 0)
		return -1;
	old = vd_push_key(c, "status");
	if (CHECK_KEYS(c, get(t, "status"), tcp_status_keys) != 0)
		return -1;
	vd_pop(c, old);
	return 0;
}

static int
check_cert(struct vctx *c, const json_t *cert)
{
	return CHECK_KEYS(c, cert, cert_keys);
}

static int
check_tls(struct vctx *c, const json_t *t)
{
	if (CHECK_KEYS(c, t, tls_keys) != 0 || check_port(c, t) != 0 ||
	    check_hop(c, t) != 0)
		return -1;
	return vd_check_elements(c, t, "peer_certificates", MAX_CERTS,
				 check_cert);
}

/* headers (name -> string) and headers_list ([name, value] pairs) of a
 * request or response, both optional and already type-checked. */
static int
check_headers(struct vctx *c, const json_t *obj)
{
	const json_t *map = get(obj, "headers"), *list, *v;
	const char *key;
	size_t old, i;

	if (map != NULL) {
		old = vd_push_key(c, "headers");
		json_object_foreach((json_t *)map, key, v)
		{
			size_t kold = vd_push_key(c, key);

			if (!json_is_string(v))
				return vd_fail(c, "must be a string");
			vd_pop(c, kold);
		}
		vd_pop(c, old);
	}
	list = get(obj, "headers_list");
	if (list != NULL) {
		old = vd_push_key(c, "headers_list");
		if (vd_check_array_size(c, list, MAX_HEADERS) != 0)
			return -1;
		json_array_foreach(list, i, v)
		{
			size_t eold = vd_push_index(c, i);

			if (!json_is_array(v) || json_array_size(v) != 2 ||
			    !json_is_string(json_array_get(v, 0)) ||
			    !json_is_string(json_array_get(v, 1)))
				return vd_fail(c,
					       "must be a [name, value] pair "
					       "of strings");
			vd_pop(c, eold);
		}
		vd_pop(c, old);
	}
	return 0;
}

static int
check_request(struct vctx *c, const json_t *r)
{
	const json_t *req, *resp, *body;
	size_t old;

	if (CHECK_KEYS(c, r, request_keys) != 0 || check_hop(c, r) != 0 ||
	    check_transfer(c, r) != 0)
		return -1;
	req = get(r, "request");
	old = vd_push_key(c, "request");
	if (CHECK_KEYS(c, req, http_req_keys) != 0 ||
	    check_headers(c, req) != 0)
		return -1;
	vd_pop(c, old);
	resp = get(r, "response");
	if (json_is_null(resp))
		return 0;
	old = vd_push_key(c, "response");
	if (CHECK_KEYS(c, resp, http_resp_keys) != 0 ||
	    check_headers(c, resp) != 0)
		return -1;
	body = get(resp, "body");
	if (json_is_object(body)) {
		size_t bold = vd_push_key(c, "body");

		if (CHECK_KEYS(c, body, body_keys) != 0)
			return -1;
		vd_pop(c, bold);
	}
	vd_pop(c, old);
	return 0;
}

static int
check_attempt(struct vctx *c, const json_t *a)
{
	return CHECK_KEYS(c, a, attempt_keys);
}

/* --- test_keys ------------------------------------------------------------ */

static const struct keyspec test_keys_keys[] = {
	{"queries", T_ARR, true},
	{"tcp_connect", T_ARR, true},
	{"tls_handshakes", T_ARR, true},
	{"requests", T_ARR, true},
	{"control", T_OBJ | T_NULL, true},
	{"control_failure", T_STR | T_NULL, true},
	{"control_attempts", T_ARR, false},
	{"network_check", T_OBJ, false},
	{"category_code", T_STR | T_NULL, false},
	{"resolver", T_STR, false},
	{"control_sni", T_STR | T_NULL, false},
};

static int
check_network_check(struct vctx *c, const json_t *nc)
{
	const json_t *refs, *v;
	size_t old, i;

	old = vd_push_key(c, "network_check");
	if (CHECK_KEYS(c, nc, network_check_keys) != 0)
		return -1;
	refs = get(nc, "references");
	vd_push_key(c, "references");
	if (vd_check_array_size(c, refs, WW_VALIDATE_MAX_ARRAY) != 0)
		return -1;
	json_array_foreach(refs, i, v)
	{
		if (!json_is_string(v)) {
			vd_push_index(c, i);
			return vd_fail(c, "must be a string");
		}
	}
	vd_pop(c, old);
	return 0;
}

/* An object of "ip:port" -> object, at most MAX_HOP_ENDPOINTS entries. */
static int
check_hop_endpoints(struct vctx *c, const json_t *h, const char *key)
{
	const json_t *o = get(h, key), *e;
	const char *k;
	size_t old;

	if (o == NULL)
		return 0;
	old = vd_push_key(c, key);
	if (json_object_size(o) > MAX_HOP_ENDPOINTS)
		return vd_fail(c, "has %zu entries, more than %d",
			       json_object_size(o), MAX_HOP_ENDPOINTS);
	json_object_foreach((json_t *)o, k, e)
	{
		size_t kold = vd_push_key(c, k);

		if (!json_is_object(e) ||
		    !json_is_boolean(json_object_get(e, "status")))
			return vd_fail(c, "must be an object with a boolean "
					  "status");
		vd_pop(c, kold);
	}
	vd_pop(c, old);
	return 0;
}

/* One element of control.hops. */
static int
check_control_hop(struct vctx *c, const json_t *h)
{
	const json_t *dns, *http;
	size_t old;

	if (CHECK_KEYS(c, h, control_hop_keys) != 0 ||
	    check_hop_endpoints(c, h, "tcp_connect") != 0 ||
	    check_hop_endpoints(c, h, "tls_handshake") != 0)
		return -1;
	dns = get(h, "dns");
	if (dns != NULL && json_is_object(dns)) {
		old = vd_push_key(c, "dns");
		if (CHECK_KEYS(c, dns, control_hop_dns_keys) != 0)
			return -1;
		if (get(dns, "addrs") != NULL) {
			size_t aold = vd_push_key(c, "addrs");
			const json_t *v;
			size_t i;

			if (vd_check_array_size(c, get(dns, "addrs"),
						MAX_HOP_ENDPOINTS) != 0)
				return -1;
			json_array_foreach(get(dns, "addrs"), i, v)
			{
				if (!json_is_string(v)) {
					vd_push_index(c, i);
					return vd_fail(c, "must be a string");
				}
			}
			vd_pop(c, aold);
		}
		vd_pop(c, old);
	}
	http = get(h, "http_request");
	if (http != NULL && json_is_object(http)) {
		old = vd_push_key(c, "http_request");
		if (CHECK_KEYS(c, http, control_hop_http_keys) != 0 ||
		    check_transfer(c, http) != 0)
			return -1;
		vd_pop(c, old);
	}
	return 0;
}

/* control.hops, when the answer has them (our protocol since 0.2.0). The
 * rest of the control answer is the analysis's to read defensively. */
static int
check_control(struct vctx *c, const json_t *tk)
{
	const json_t *ctl = get(tk, "control"), *hops;
	size_t old;
	int rc;

	if (!json_is_object(ctl) || (hops = get(ctl, "hops")) == NULL)
		return 0;
	old = vd_push_key(c, "control");
	if (!json_is_array(hops)) {
		vd_push_key(c, "hops");
		return vd_fail(c, "must be an array");
	}
	rc = vd_check_elements(c, ctl, "hops", MAX_HOPS, check_control_hop);
	if (rc == 0)
		vd_pop(c, old);
	return rc;
}

static int
check_test_keys(struct vctx *c, const json_t *tk)
{
	size_t old = vd_push_key(c, "test_keys");

	if (CHECK_KEYS(c, tk, test_keys_keys) != 0 ||
	    vd_check_elements(c, tk, "queries", WW_VALIDATE_MAX_ARRAY,
			      check_query) != 0 ||
	    vd_check_elements(c, tk, "tcp_connect", WW_VALIDATE_MAX_ARRAY,
			      check_tcp) != 0 ||
	    vd_check_elements(c, tk, "tls_handshakes", WW_VALIDATE_MAX_ARRAY,
			      check_tls) != 0 ||
	    vd_check_elements(c, tk, "requests", WW_VALIDATE_MAX_ARRAY,
			      check_request) != 0)
		return -1;
	if (get(tk, "control_attempts") != NULL &&
	    vd_check_elements(c, tk, "control_attempts", WW_VALIDATE_MAX_ARRAY,
			      check_attempt) != 0)
		return -1;
	if (get(tk, "network_check") != NULL &&
	    check_network_check(c, get(tk, "network_check")) != 0)
		return -1;
	if (check_control(c, tk) != 0 || vd_check_packets(c, tk) != 0)
		return -1;
	vd_pop(c, old);
	return 0;
}

/* --- the measurement ------------------------------------------------------ */

static const struct keyspec envelope_keys[] = {
	{"measurement_uid", T_STR, true},
	{"input", T_STR, true},
	{"test_name", T_STR, true},
	{"test_version", T_STR, true},
	{"software_name", T_STR, true},
	{"software_version", T_STR, true},
	{"measurement_start_time", T_STR, true},
	{"test_start_time", T_STR, true},
	{"probe_cc", T_STR, true},
	{"probe_asn", T_STR, true},
	{"probe_ip", T_STR, true},
	{"report_id", T_STR, true},
	{"test_runtime", T_NUM, true},
	{"annotations", T_OBJ, true},
	{"options", T_OBJ, true},
	{"data_format_version", T_STR, true},
	{"test_keys", T_OBJ, true},
	{"probe_network_name", T_STR | T_NULL, false},
};

/* Envelope strings that only need a sane length. */
static const char *const short_strings[] = {
	"test_version", "software_name",       "software_version",
	"report_id",	"data_format_version",
};

static int
check_measurement(struct vctx *c, const json_t *m)
{
	const char *s;
	double runtime;

	if (!json_is_object(m))
		return vd_fail(c, "a measurement must be a JSON object");
	if (check_depth(c, m, 1) != 0 || CHECK_KEYS(c, m, envelope_keys) != 0)
		return -1;
	if (check_uid(c, m) != 0 || check_input_and_test_name(c, m) != 0)
		return -1;
	for (size_t i = 0; i < WW_ARRAY_LEN(short_strings); i++)
		if (check_len(c, m, short_strings[i], 1, MAX_SHORT_STR) != 0)
			return -1;
	if (check_time(c, m, "measurement_start_time") != 0 ||
	    check_time(c, m, "test_start_time") != 0)
		return -1;
	s = json_string_value(get(m, "probe_cc"));
	if (strlen(s) != 2 || json_string_length(get(m, "probe_cc")) != 2 ||
	    s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z') {
		vd_push_key(c, "probe_cc");
		return vd_fail(c, "must be two upper-case letters (\"ZZ\" when "
				  "unknown)");
	}
	s = json_string_value(get(m, "probe_asn"));
	if (strlen(s) != json_string_length(get(m, "probe_asn")) ||
	    !asn_ok(s)) {
		vd_push_key(c, "probe_asn");
		return vd_fail(c, "must be \"AS\" and a number 0..4294967295 "
				  "(\"AS0\" when unknown)");
	}
	if (strcmp(json_string_value(get(m, "probe_ip")), "127.0.0.1") != 0 ||
	    json_string_length(get(m, "probe_ip")) != 9) {
		/* Never echo it: it may be the volunteer's address. */
		vd_push_key(c, "probe_ip");
		return vd_fail(c, "must be \"127.0.0.1\": the collector never "
				  "accepts a volunteer's address");
	}
	runtime = json_number_value(get(m, "test_runtime"));
	if (!(runtime >= 0) || !isfinite(runtime)) {
		vd_push_key(c, "test_runtime");
		return vd_fail(c, "must be a number of seconds >= 0");
	}
	if (check_annotations(c, get(m, "annotations")) != 0)
		return -1;
	return check_test_keys(c, get(m, "test_keys"));
}

int
ww_validate_measurement_at(const json_t *m, int64_t now, char *field,
			   size_t fieldlen, char *msg, size_t msglen)
{
	struct vctx c;

	memset(&c, 0, sizeof(c));
	c.now = now;
	c.field = field;
	c.fieldlen = field != NULL ? fieldlen : 0;
	c.msg = msg;
	c.msglen = msg != NULL ? msglen : 0;
	if (check_measurement(&c, m) != 0)
		return -1;
	if (c.fieldlen > 0)
		c.field[0] = '\0';
	if (c.msglen > 0)
		c.msg[0] = '\0';
	return 0;
}

int
ww_validate_measurement(const json_t *m, char *field, size_t fieldlen,
			char *msg, size_t msglen)
{
	return ww_validate_measurement_at(m, (int64_t)time(NULL), field,
					  fieldlen, msg, msglen);
}
