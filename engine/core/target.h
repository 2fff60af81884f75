/*
 * target.h - what to measure: one input (a URL, or tcp://host:port and
 * tls://host:port for service endpoints), parsed defensively.
 */
#ifndef WW_TARGET_H
#define WW_TARGET_H

#include <stdbool.h>
#include <stddef.h>

enum ww_target_kind {
	WW_TARGET_HTTP,	 /* http://  : DNS, TCP, HTTP */
	WW_TARGET_HTTPS, /* https:// : DNS, TCP, TLS (target + control SNI),
			    HTTP */
	WW_TARGET_TCP,	 /* tcp://host:port : DNS, TCP */
	WW_TARGET_TLS,	 /* tls://host:port : DNS, TCP, TLS */
};

/* Longest input accepted, in bytes (longer is an error, never truncated). */
#define WW_TARGET_MAX_INPUT 2048

struct ww_target {
	char *input; /* the input exactly as given (trimmed of nothing) */
	/* The URL to fetch: input itself, unless its host is spelt other
	 * than host (an IDN's U-labels, a trailing dot): then input with
	 * host in its place, as libcurl writes it. curl cannot fetch a
	 * U-label host, and one name must have one spelling in DNS, SNI,
	 * Host and the records. */
	char *url;
	enum ww_target_kind kind;
	char *host;	 /* lower-cased; IPv6 without brackets; IDN as A-labels;
			    one trailing dot dropped */
	int port;	 /* explicit or the scheme's default (80/443) */
	bool host_is_ip; /* host is an IPv4/IPv6 literal: no DNS step */
	/* From a test list; NULL/0 for --input targets. */
	char *category_code;
	char *source; /* "file.csv:LINE" or "--input" */
};

/*
 * Parse input into *t (zeroed first). Accepts http, https, tcp and tls
 * schemes (case-insensitive); tcp/tls need an explicit port and no path.
 * Rejects: empty, over WW_TARGET_MAX_INPUT, control characters or spaces,
 * other schemes, user:password@, an empty or invalid host, ports outside
 * 1..65535. Returns 0, or -1 with a message in err (no file:line prefix).
 */
int ww_target_parse(const char *input, struct ww_target *t, char *err,
		    size_t errlen);

/* Deep copy (all strings duplicated). */
void ww_target_copy(struct ww_target *dst, const struct ww_target *src);

/* Free what *t owns and zero it; t may be already cleared. */
void ww_target_clear(struct ww_target *t);

/* "http", "https", "tcp", "tls" */
const char *ww_target_kind_name(enum ww_target_kind k);

#endif
