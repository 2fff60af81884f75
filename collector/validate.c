/*
 * validate.c - the collector's check of a submitted measurement against
 * docs/measurement-format.md (rules: docs/ingest-validation.md): the
 * envelope in full (types, shapes, plausible times, probe_ip), then its
 * test_keys (validate_test_keys.c, validate_packets.c). How the check
 * walks the JSON and names a failure is validate_walk.c's; the time
 * format validate_time.c's.
 *
 * What is checked is what storage, timelines and exports rely on, with
 * bounds on every array and on nesting. Keys we do not know are allowed,
 * so a newer probe's measurements still go in. Every failure names the
 * offending field as a JSON path.
 */
#include "validate.h"
#include "validate_int.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "engine.h"
#include "target.h"
#include "util.h"

/* Envelope strings other than input and measurement_uid. */
#define MAX_SHORT_STR 256
/* annotations: keys and value length. */
#define MAX_ANNOTATIONS 256
#define MAX_ANNOTATION_LEN 4096

/* --- times ---------------------------------------------------------------- */

static int
check_time(struct vctx *c, const json_t *m, const char *key)
{
	const char *s = json_string_value(vd_get(m, key));
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
	size_t n = json_string_length(vd_get(obj, key));

	if (n >= min && n <= max)
		return 0;
	vd_push_key(c, key);
	if (n < min)
		return vd_fail(c, "must not be empty");
	return vd_fail(c, "is %zu bytes, longer than %zu", n, max);
}

int
vd_check_uid(struct vctx *c, const json_t *m)
{
	const char *s = json_string_value(vd_get(m, "measurement_uid"));

	if (check_len(c, m, "measurement_uid", 1, WW_VALIDATE_MAX_UID) != 0)
		return -1;
	for (size_t i = 0; s[i] != '\0'; i++)
		if (!uid_char(s[i])) {
			vd_push_key(c, "measurement_uid");
			return vd_fail(c, "may hold only letters, digits, '.', "
					  "'_' and '-'");
		}
	if (json_string_length(vd_get(m, "measurement_uid")) != strlen(s)) {
		vd_push_key(c, "measurement_uid");
		return vd_fail(c, "holds a NUL byte");
	}
	return 0;
}

int
vd_check_probe_net(struct vctx *c, const json_t *m)
{
	const char *s = json_string_value(vd_get(m, "probe_cc"));

	if (strlen(s) != 2 || json_string_length(vd_get(m, "probe_cc")) != 2 ||
	    s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z') {
		vd_push_key(c, "probe_cc");
		return vd_fail(c, "must be two upper-case letters (\"ZZ\" when "
				  "unknown)");
	}
	s = json_string_value(vd_get(m, "probe_asn"));
	if (strlen(s) != json_string_length(vd_get(m, "probe_asn")) ||
	    !asn_ok(s)) {
		vd_push_key(c, "probe_asn");
		return vd_fail(c, "must be \"AS\" and a number 0..4294967295 "
				  "(\"AS0\" when unknown)");
	}
	return 0;
}

static int
check_input_and_test_name(struct vctx *c, const json_t *m)
{
	const json_t *input = vd_get(m, "input");
	const char *test_name = json_string_value(vd_get(m, "test_name"));
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
	double runtime;

	if (!json_is_object(m))
		return vd_fail(c, "a measurement must be a JSON object");
	/* OONI's own measurements follow OONI's format, not ours
	 * (validate_ooni.c): told apart by their shape, never by a flag. */
	if (ww_validate_is_ooni(m))
		return vd_check_ooni(c, m);
	if (vd_check_depth(c, m, 1) != 0 ||
	    CHECK_KEYS(c, m, envelope_keys) != 0)
		return -1;
	if (vd_check_uid(c, m) != 0 || check_input_and_test_name(c, m) != 0)
		return -1;
	for (size_t i = 0; i < WW_ARRAY_LEN(short_strings); i++)
		if (check_len(c, m, short_strings[i], 1, MAX_SHORT_STR) != 0)
			return -1;
	if (check_time(c, m, "measurement_start_time") != 0 ||
	    check_time(c, m, "test_start_time") != 0)
		return -1;
	if (vd_check_probe_net(c, m) != 0)
		return -1;
	if (strcmp(json_string_value(vd_get(m, "probe_ip")), "127.0.0.1") !=
		    0 ||
	    json_string_length(vd_get(m, "probe_ip")) != 9) {
		/* Never echo it: it may be the volunteer's address. */
		vd_push_key(c, "probe_ip");
		return vd_fail(c, "must be \"127.0.0.1\": the collector never "
				  "accepts a volunteer's address");
	}
	runtime = json_number_value(vd_get(m, "test_runtime"));
	if (!(runtime >= 0) || !isfinite(runtime)) {
		vd_push_key(c, "test_runtime");
		return vd_fail(c, "must be a number of seconds >= 0");
	}
	if (check_annotations(c, vd_get(m, "annotations")) != 0)
		return -1;
	return vd_check_test_keys(c, vd_get(m, "test_keys"));
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
