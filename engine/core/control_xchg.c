/*
 * control_xchg.c - the "exchanges" of a control answer (docs/
 * control-protocol.md): for a VPN or QUIC endpoint, what each exchange the
 * control service made from outside came to, by "ip:port", in the order
 * made; and its check on the probe's side.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "failure.h"
#include "util.h"

/* Bounds on what the probe accepts: endpoints, and exchanges each. */
#define XCHG_MAX_ENDPOINTS 64
#define XCHG_MAX_PER_ENDPOINT 16

static json_t *
jstr_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
one(const struct ww_exchange *x)
{
	json_t *e = json_object();

	json_object_set_new(e, "protocol", jstr_or_null(x->protocol));
	json_object_set_new(e, "payload", jstr_or_null(x->payload));
	json_object_set_new(e, "transport",
			    json_string(x->udp ? "udp" : "tcp"));
	json_object_set_new(e, "answered", json_boolean(x->answered));
	json_object_set_new(e, "stage", jstr_or_null(x->stage));
	if (!x->udp)
		json_object_set_new(e, "connected", json_boolean(x->connected));
	json_object_set_new(e, "sent", json_integer(x->n_sent));
	json_object_set_new(e, "replies",
			    json_integer((json_int_t)x->n_replies_seen));
	json_object_set_new(e, "failure",
			    x->failure == NULL ? json_null()
			    : x->failure == failure_unknown
				    ? json_sprintf("unknown_failure: %s",
						   x->failure_detail
							   ? x->failure_detail
							   : "?")
				    : json_string(x->failure));
	return e;
}

json_t *
ww_control_exchanges(const struct ww_measurement *m)
{
	json_t *o = json_object();

	for (size_t i = 0; i < m->n_xchg; i++) {
		const struct ww_exchange *x = &m->xchg[i];
		char *key = strchr(x->ip, ':') != NULL
				    ? xasprintf("[%s]:%d", x->ip, x->port)
				    : xasprintf("%s:%d", x->ip, x->port);
		json_t *arr = json_object_get(o, key);

		if (arr == NULL) {
			arr = json_array();
			json_object_set_new(o, key, arr);
		}
		json_array_append_new(arr, one(x));
		free(key);
	}
	return o;
}

static int
fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "exchanges: %s", msg);
	return -1;
}

static bool
str_or_null(const json_t *v)
{
	return v == NULL || json_is_null(v) || json_is_string(v);
}

static int
check_one(const json_t *e, char *err, size_t errlen)
{
	const json_t *c = json_object_get(e, "connected");

	if (!json_is_object(e))
		return fail(err, errlen, "each exchange must be an object");
	if (!json_is_string(json_object_get(e, "protocol")) ||
	    !json_is_string(json_object_get(e, "payload")) ||
	    !json_is_string(json_object_get(e, "transport")))
		return fail(err, errlen,
			    "protocol, payload and transport must be strings");
	if (!json_is_boolean(json_object_get(e, "answered")))
		return fail(err, errlen, "answered must be a boolean");
	if (!str_or_null(json_object_get(e, "stage")) ||
	    !str_or_null(json_object_get(e, "failure")))
		return fail(err, errlen,
			    "stage and failure must be strings or null");
	if (c != NULL && !json_is_boolean(c))
		return fail(err, errlen, "connected must be a boolean");
	return 0;
}

int
ww_control_exchanges_check(const json_t *o, char *err, size_t errlen)
{
	const char *k;
	json_t *arr;

	if (o == NULL || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return fail(err, errlen, "must be an object");
	if (json_object_size(o) > XCHG_MAX_ENDPOINTS)
		return fail(err, errlen, "too many endpoints");
	json_object_foreach((json_t *)o, k, arr)
	{
		size_t i;
		json_t *e;

		if (!json_is_array(arr) ||
		    json_array_size(arr) > XCHG_MAX_PER_ENDPOINT)
			return fail(err, errlen,
				    "each endpoint needs an array of at most "
				    "16 exchanges");
		json_array_foreach(arr, i, e)
		{
			if (check_one(e, err, errlen) != 0)
				return -1;
		}
	}
	return 0;
}
