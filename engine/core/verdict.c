/*
 * verdict.c - the verdict's vocabulary (verdict.h): the names of the
 * blocking values and of the classes (and the words the web view shows for
 * them: the collector serves them at GET /api/v1/vocabulary), and the class
 * of a stored verdict, in C and in SQL from the same tables.
 */
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "verdict.h"

static const char *const blocking_names[WW_BLOCKING_N] = {
	[WW_BLOCKING_NULL] = NULL,
	[WW_BLOCKING_FALSE] = "false",
	[WW_BLOCKING_DNS] = "dns",
	[WW_BLOCKING_TCP_IP] = "tcp_ip",
	[WW_BLOCKING_TLS] = "tls",
	[WW_BLOCKING_HTTP_FAILURE] = "http-failure",
	[WW_BLOCKING_HTTP_DIFF] = "http-diff",
	[WW_BLOCKING_PROTOCOL] = "protocol",
	[WW_BLOCKING_ENDPOINT] = "endpoint",
};

static const char *const class_names[WW_CLASS_N] = {
	[WW_CLASS_OK] = "ok",
	[WW_CLASS_DNS] = "dns",
	[WW_CLASS_TCP_IP] = "tcp_ip",
	[WW_CLASS_TLS] = "tls",
	[WW_CLASS_HTTP_FAILURE] = "http-failure",
	[WW_CLASS_HTTP_DIFF] = "http-diff",
	[WW_CLASS_SERVER_SIDE] = "server-side",
	[WW_CLASS_DOWN] = "down",
	[WW_CLASS_FAILED] = "failed",
	[WW_CLASS_PROTOCOL] = "protocol",
	[WW_CLASS_ENDPOINT] = "endpoint",
};

static const char *const class_labels[WW_CLASS_N] = {
	[WW_CLASS_OK] = "accessible",
	[WW_CLASS_DNS] = "DNS tampering",
	[WW_CLASS_TCP_IP] = "TCP/IP blocking",
	[WW_CLASS_TLS] = "TLS/SNI filtering",
	[WW_CLASS_HTTP_FAILURE] = "HTTP failure",
	[WW_CLASS_HTTP_DIFF] = "HTTP blockpage/different page",
	/* the site itself refuses this network (a publisher's 451, a
	 * CAPTCHA's 503 over verified HTTPS): not the network's doing */
	[WW_CLASS_SERVER_SIDE] = "withheld by the site",
	[WW_CLASS_DOWN] = "down for everyone",
	[WW_CLASS_FAILED] = "no verdict",
	/* a VPN or QUIC endpoint's handshake (docs/verdicts.md) */
	[WW_CLASS_PROTOCOL] = "protocol blocked",
	/* a VPN or QUIC endpoint, the method not told (the reason says
	 * whether the address answered: then its port or its protocol) */
	[WW_CLASS_ENDPOINT] = "endpoint blocked",
};

/* The class of each blocking value that is a method of blocking (the
 * classes WW_CLASS_DNS .. WW_CLASS_HTTP_DIFF have the blocking values'
 * names). */
static const int blocked_class[WW_BLOCKING_N] = {
	[WW_BLOCKING_NULL] = WW_CLASS_FAILED,
	[WW_BLOCKING_FALSE] = WW_CLASS_FAILED, /* by accessible, not here */
	[WW_BLOCKING_DNS] = WW_CLASS_DNS,
	[WW_BLOCKING_TCP_IP] = WW_CLASS_TCP_IP,
	[WW_BLOCKING_TLS] = WW_CLASS_TLS,
	[WW_BLOCKING_HTTP_FAILURE] = WW_CLASS_HTTP_FAILURE,
	[WW_BLOCKING_HTTP_DIFF] = WW_CLASS_HTTP_DIFF,
	[WW_BLOCKING_PROTOCOL] = WW_CLASS_PROTOCOL,
	[WW_BLOCKING_ENDPOINT] = WW_CLASS_ENDPOINT,
};

const char *
ww_blocking_name(int b)
{
	return b >= 0 && b < WW_BLOCKING_N ? blocking_names[b] : NULL;
}

int
ww_blocking_by_name(const char *v)
{
	if (v == NULL)
		return WW_BLOCKING_NULL;
	for (int b = WW_BLOCKING_FALSE; b < WW_BLOCKING_N; b++)
		if (strcmp(v, blocking_names[b]) == 0)
			return b;
	return -1;
}

const char *
ww_blocking_list(void)
{
	return "false, dns, tcp_ip, tls, http-failure, http-diff, protocol, "
	       "endpoint";
}

const char *
ww_class_name(int c)
{
	return c >= 0 && c < WW_CLASS_N ? class_names[c] : NULL;
}

int
ww_class_by_name(const char *v)
{
	for (int c = 0; v != NULL && c < WW_CLASS_N; c++)
		if (strcmp(v, class_names[c]) == 0)
			return c;
	return -1;
}

bool
ww_class_is_blocked(int c)
{
	return (c >= WW_CLASS_DNS && c <= WW_CLASS_SERVER_SIDE) ||
	       c == WW_CLASS_PROTOCOL || c == WW_CLASS_ENDPOINT;
}

const char *
ww_class_label(int c)
{
	return c >= 0 && c < WW_CLASS_N ? class_labels[c] : NULL;
}

bool
ww_class_is_conclusive(int c)
{
	return c >= 0 && c < WW_CLASS_N && c != WW_CLASS_FAILED;
}

int
ww_classify(const char *blocking, const char *detail, int accessible)
{
	int b = ww_blocking_by_name(blocking);

	if (b == WW_BLOCKING_FALSE)
		return accessible == 1	 ? WW_CLASS_OK
		       : accessible == 0 ? WW_CLASS_DOWN
					 : WW_CLASS_FAILED;
	if (b == WW_BLOCKING_HTTP_DIFF && detail != NULL &&
	    strcmp(detail, WW_DETAIL_SERVER_SIDE) == 0)
		return WW_CLASS_SERVER_SIDE;
	return b < 0 ? WW_CLASS_FAILED : blocked_class[b];
}

/* Add what snprintf(out + *n, ...) wrote (w) to *n; false once it no
 * longer fits. */
static bool
grew(size_t outlen, size_t *n, int w)
{
	if (w < 0 || (size_t)w >= outlen - *n) {
		*n = outlen;
		return false;
	}
	*n += (size_t)w;
	return true;
}

#define ADD(...)                                                               \
	(n < outlen &&                                                         \
	 grew(outlen, &n, snprintf(out + n, outlen - n, __VA_ARGS__)))

size_t
ww_classify_sql(char *out, size_t outlen)
{
	size_t n = 0;
	bool ok;

	if (out == NULL || outlen == 0)
		return 0;
	ok = ADD("(CASE blocking WHEN '%s' THEN (CASE accessible WHEN 1 THEN %d"
		 " WHEN 0 THEN %d ELSE %d END)",
		 blocking_names[WW_BLOCKING_FALSE], WW_CLASS_OK, WW_CLASS_DOWN,
		 WW_CLASS_FAILED);
	for (int b = WW_BLOCKING_DNS; ok && b < WW_BLOCKING_N; b++)
		ok = b == WW_BLOCKING_HTTP_DIFF
			     ? ADD(" WHEN '%s' THEN (CASE blocking_detail WHEN"
				   " '%s' THEN %d ELSE %d END)",
				   blocking_names[b], WW_DETAIL_SERVER_SIDE,
				   WW_CLASS_SERVER_SIDE, blocked_class[b])
			     : ADD(" WHEN '%s' THEN %d", blocking_names[b],
				   blocked_class[b]);
	ok = ok && ADD(" ELSE %d END)", WW_CLASS_FAILED);
	if (!ok) {
		out[0] = '\0';
		return 0;
	}
	return n;
}
