/*
 * verdict.h - the verdict's vocabulary, defined once (docs/verdicts.md,
 * docs/timelines.md): the values of test_keys.blocking, the one
 * blocking_detail the timelines look at, and the classes a stored verdict
 * falls in. The analysis writes these names, the collector stores, checks,
 * counts and serves them; nobody else spells them out.
 *
 * Pure code: no I/O, no event loop, no database.
 */
#ifndef WW_VERDICT_H
#define WW_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

/* test_keys.blocking. In the JSON, null is null and false is false; every
 * other value is its name (a string). Stored, false is the string
 * "false" and null is NULL. */
enum ww_blocking {
	WW_BLOCKING_NULL,
	WW_BLOCKING_FALSE,
	WW_BLOCKING_DNS,
	WW_BLOCKING_TCP_IP,
	WW_BLOCKING_TLS,
	WW_BLOCKING_HTTP_FAILURE,
	WW_BLOCKING_HTTP_DIFF,
	/* a VPN or QUIC endpoint's handshake fails where the control's
	 * works (docs/verdicts.md, "VPN and QUIC endpoints") */
	WW_BLOCKING_PROTOCOL,
	/* a VPN or QUIC endpoint blocked for the probe (the control's
	 * handshake works) where nothing seen tells the method: its port or
	 * its protocol (the address answered), or even its address
	 * (docs/verdicts.md, rules V13 and V14) */
	WW_BLOCKING_ENDPOINT,
	WW_BLOCKING_N
};

/* The stored name of b ("false", "dns", ...); NULL for WW_BLOCKING_NULL
 * and anything out of range. */
const char *ww_blocking_name(int b);
/* The value whose stored name is v; WW_BLOCKING_NULL for NULL; -1 for
 * anything else. */
int ww_blocking_by_name(const char *v);
/* The stored names, for messages: "false, dns, tcp_ip, tls, http-failure,
 * http-diff, protocol, endpoint". */
const char *ww_blocking_list(void);

/* blocking_detail of an http-diff that is the site's own refusal (a
 * publisher's 451, a CAPTCHA's 503 over verified HTTPS): its class is
 * server-side, not blocked by the network. */
#define WW_DETAIL_SERVER_SIDE "http.server_side"

/* A stored measurement's class (docs/timelines.md). The order is part of
 * stored data (SQLite's daily-count statements use the numbers): append
 * only. */
enum ww_class {
	WW_CLASS_OK,
	/* WW_CLASS_DNS .. WW_CLASS_SERVER_SIDE: blocked; the method is the
	 * class's name */
	WW_CLASS_DNS,
	WW_CLASS_TCP_IP,
	WW_CLASS_TLS,
	WW_CLASS_HTTP_FAILURE,
	WW_CLASS_HTTP_DIFF,
	/* http-diff with blocking_detail WW_DETAIL_SERVER_SIDE: shown as
	 * "withheld by the site" */
	WW_CLASS_SERVER_SIDE,
	WW_CLASS_DOWN,
	WW_CLASS_FAILED, /* no verdict: not conclusive */
	/* blocked: a VPN or QUIC endpoint's handshake (appended: the
	 * numbers are stored) */
	WW_CLASS_PROTOCOL,
	/* blocked: a VPN or QUIC endpoint, the method not told */
	WW_CLASS_ENDPOINT,
	WW_CLASS_N
};

/* "ok", "dns", "tcp_ip", "tls", "http-failure", "http-diff",
 * "server-side", "down", "failed", "protocol", "endpoint"; NULL out of
 * range. */
const char *ww_class_name(int c);
/* The class named v; -1 for NULL or anything else. */
int ww_class_by_name(const char *v);
/* What a person reads for class c (the web view's legend and badges):
 * "accessible", "DNS tampering", ..., "withheld by the site", "down for
 * everyone", "no verdict", "protocol blocked", "endpoint blocked";
 * NULL out of range. */
const char *ww_class_label(int c);
/* The blocked classes (WW_CLASS_DNS .. WW_CLASS_SERVER_SIDE,
 * WW_CLASS_PROTOCOL and WW_CLASS_ENDPOINT). */
bool ww_class_is_blocked(int c);
/* The classes that are evidence either way (all but WW_CLASS_FAILED;
 * docs/timelines.md, "conclusive"). */
bool ww_class_is_conclusive(int c);

/* The class of a stored verdict: blocking its stored name (NULL: null),
 * accessible -1 null, 0 false, 1 true. A verdict of "false" without
 * accessible is no verdict (failed); so is an unknown blocking. */
int ww_classify(const char *blocking, const char *detail, int accessible);

/* The same as an SQL expression over the columns blocking,
 * blocking_detail and accessible, giving the class's number; written from
 * the tables of verdict.c into out (outlen bytes; 512 are enough). Returns
 * its length, or 0 when out is too small. */
size_t ww_classify_sql(char *out, size_t outlen);

#endif
