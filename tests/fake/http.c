/*
 * http.c - a small HTTP/1.1 responder, over plain TCP or TLS.
 *
 * Not evhttp: /reset and /cut-reset must abort the very socket the request
 * came on, /slow and /cut-stall must hold it, /throttle must pace its
 * writes, and TLS connections arrive as raw sockets from the SNI filter;
 * owning the bufferevent makes all of them simple.
 * Requests are GET-like (the method is ignored except HEAD); bodies are
 * skipped by Content-Length; anything chunked gets its answer and a close.
 * Message syntax per RFC 9112.
 */
#include "fakenet.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "util.h"

/* Caps on what a client can make us hold (STYLE.md 5). */
#define HDR_MAX 16384
#define IN_HIGH 65536
#define OUT_HIGH (1024 * 1024)
/* After our last byte, how long we read (and discard) before closing. */
#define LINGER_SECS 5
#define PATH_MAX_LEN 256
/* The query string kept for /to, /throttle and /status. */
#define QUERY_MAX_LEN 2048

#define BIG_LEN 200000
#define BIN_LEN 4096
/* Bodies below this are copied next to the headers: one TLS record. */
#define COPY_MAX 8192
/* /changing: random filler between these many bytes, plus the markup. */
#define CHANGING_MIN 600
#define CHANGING_MAX 1800
/* /cut-*: the length announced, and the bytes sent before the cut. */
#define CUT_ANNOUNCED 20000
#define CUT_SENT 1000
/* /throttle: the body length, the default and the range of its rate. */
#define THROTTLE_LEN 100000
#define THROTTLE_BPS 200
#define THROTTLE_BPS_MAX 1000000
/* How often a throttled body gets its next bytes. */
#define THROTTLE_TICK_MS 50
/* Before a RST, how often we look whether the peer has acked everything. */
#define ACK_POLL_MS 5
/* /chain/N: the longest chain. */
#define CHAIN_MAX 50

enum http_state {
	ST_READING,  /* waiting for, or answering, requests */
	ST_SLOW,     /* /slow: never answer, wait for the peer to go */
	ST_CLOSING,  /* last response queued, waiting for it to drain */
	ST_DRAINING, /* our side shut, discarding until the peer closes */
	ST_CUT,	     /* /cut-*: partial body queued, cut once it has gone */
	ST_THROTTLE, /* /throttle: body trickling out on a timer */
};

/* What /cut-* does once its first CUT_SENT body bytes are out. */
enum cut_kind {
	CUT_RESET, /* RST */
	CUT_EOF,   /* clean close: close_notify over TLS, then FIN */
	CUT_STALL, /* silence until the client leaves */
};

struct http_conn {
	struct fake_conn c; /* first */
	struct fakenet *fn;
	const struct fake_site *site;
	struct bufferevent *bev;
	enum http_state state;
	uint64_t body_left; /* request body bytes still to skip */
	bool peer_eof;
	enum cut_kind cut;
	struct event *timer; /* /throttle ticks, /cut-reset ack polls */
	double t_start;	     /* /throttle: when the headers went out */
	long bps;	     /* /throttle: the rate asked for */
	size_t sent;	     /* /throttle: body bytes queued so far */
};

struct http_req {
	char path[PATH_MAX_LEN];   /* without query or fragment */
	char query[QUERY_MAX_LEN]; /* after '?', without the fragment */
	bool query_long;	   /* query cut to fit: routes refuse it */
	bool head;
	bool keep_alive;
	bool bad;
	bool chunked;
	uint64_t content_length;
};

static char big_body[BIG_LEN];
/* The first CUT_SENT bytes of the /cut-* page (built in fake_http_init). */
static char cut_body[CUT_SENT];
static unsigned char bin_body[BIN_LEN];

static const char lab_page[] = "<!DOCTYPE html>\n"
			       "<html><head><meta charset=\"utf-8\">"
			       "<title>Wallwatch lab page</title></head>\n"
			       "<body><h1>Wallwatch lab page</h1>\n"
			       "<p>Hello from the lab.</p></body></html>\n";

static const char block_page[] = "<!DOCTYPE html>\n"
				 "<html><head><meta charset=\"utf-8\">"
				 "<title>Access denied</title></head>\n"
				 "<body><h1>Access denied</h1>\n"
				 "<p>This site is blocked.</p></body></html>\n";

static const char notfound_page[] = "<!DOCTYPE html>\n"
				    "<html><head><meta charset=\"utf-8\">"
				    "<title>Not found</title></head>\n"
				    "<body><h1>Not found</h1></body></html>\n";

static const char legal_page[] =
	"<!DOCTYPE html>\n"
	"<html><head><meta charset=\"utf-8\">"
	"<title>Unavailable For Legal Reasons</title></head>\n"
	"<body><h1>Unavailable For Legal Reasons</h1>\n"
	"<p>This page is not available in your country.</p></body></html>\n";

/* /captcha: what a CDN's bot check answers (Cloudflare's title). */
static const char captcha_page[] =
	"<!DOCTYPE html>\n"
	"<html><head><meta charset=\"utf-8\">"
	"<title>Attention Required</title></head>\n"
	"<body><h1>Please complete the security check</h1>\n"
	"<form action=\"/captcha\" method=\"post\">"
	"<input type=\"text\" name=\"answer\">"
	"<input type=\"submit\" value=\"Continue\"></form>"
	"</body></html>\n";

/*
 * /leak and /leak-binary: pages that echo the client's address back, in
 * the forms a scrubber must catch (dotted, reversed, dashed, raw bytes).
 * 203.0.113.7 (TEST-NET-3, RFC 5737) stands for the probe's own address.
 */
static const char leak_page[] =
	"<!DOCTYPE html>\n"
	"<html><head><meta charset=\"utf-8\">"
	"<title>Your address</title></head>\n"
	"<body><p>Your address is 203.0.113.7 (reverse "
	"7.113.0.203.in-addr.arpa, ip-203-0-113-7.example)</p>"
	"</body></html>\n";

/* NUL and 0xff make it binary; then the text, and the 4 raw bytes. */
static const char leak_bin[] = "\x00\xff"
			       "addr=203.0.113.7;"
			       "\xcb\x00\x71\x07"
			       "\x00";

static const char html_type[] = "text/html; charset=utf-8";

/* /geo451: the IPv4 network (host order) that gets the 451; none at first. */
static uint32_t geo_net, geo_mask;
static bool geo_set;

int
fake_http_geo_block(const char *cidr)
{
	char buf[INET_ADDRSTRLEN];
	const char *slash = strchr(cidr, '/');
	struct in_addr a;
	long bits;
	size_t n;

	if (slash == NULL || (n = (size_t)(slash - cidr)) >= sizeof(buf) ||
	    ww_parse_long(slash + 1, 0, 32, &bits) < 0)
		return -1;
	memcpy(buf, cidr, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	geo_mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
	geo_net = ntohl(a.s_addr) & geo_mask;
	geo_set = true;
	return 0;
}

/*
 * A page with a title whose first CUT_SENT bytes are all a client ever gets
 * of /cut-*: the markup, then filler words.
 */
static void
fill_cut_body(void)
{
	static const char head[] = "<!DOCTYPE html>\n"
				   "<html><head><meta charset=\"utf-8\">"
				   "<title>Wallwatch cut page</title></head>\n"
				   "<body><h1>Wallwatch cut page</h1>\n<p>";
	static const char word[] = "lorem ipsum ";
	size_t i;

	memcpy(cut_body, head, sizeof(head) - 1);
	for (i = sizeof(head) - 1; i < CUT_SENT; i++)
		cut_body[i] = word[i % (sizeof(word) - 1)];
}

void
fake_http_init(void)
{
	/* 3125 lines of 64 bytes: easy to eyeball, exactly BIG_LEN. */
	static const char line[] = "0123456789abcdef0123456789abcdef"
				   "0123456789abcdef0123456789abcde\n";
	size_t i;

	for (i = 0; i < BIG_LEN; i++)
		big_body[i] = line[i % (sizeof(line) - 1)];
	/* i*7 mod 256 walks every byte value, 0x80-0xff included. */
	for (i = 0; i < BIN_LEN; i++)
		bin_body[i] = (unsigned char)(i * 7);
	fill_cut_body();
}

/* --- connection lifetime ---------------------------------------------------*/

static void
http_close(struct fake_conn *c)
{
	struct http_conn *h = WW_CONTAINER_OF(c, struct http_conn, c);

	fake_conn_unlink(h->fn, &h->c);
	if (h->timer != NULL)
		event_free(h->timer);
	bufferevent_free(h->bev); /* closes fd, frees SSL */
	free(h);
}

static void
http_reset(struct http_conn *h)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	int fd = (int)bufferevent_getfd(h->bev);

	/* bufferevent_free() closes fd with this linger: RST. Nothing sends a
	 * close_notify first (libevent's be_openssl_destruct only frees). */
	if (fd >= 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	http_close(&h->c);
}

/* Timeouts: idle while waiting for a request; progress while writing. */
static void
http_set_idle(struct http_conn *h, bool reading)
{
	struct timeval idle = {FAKE_IDLE_SECS, 0};

	bufferevent_set_timeouts(h->bev, reading ? &idle : NULL, &idle);
}

/*
 * Our last response has gone out. Closing now could RST it away if the
 * client's next bytes arrive unread (RFC 9112 9.6), so shut our side and
 * read until the peer closes, for a while at most.
 */
static void
http_linger(struct http_conn *h)
{
	struct timeval tv = {LINGER_SECS, 0};
	int fd = (int)bufferevent_getfd(h->bev);

	if (h->peer_eof || fd < 0) {
		http_close(&h->c);
		return;
	}
	if (h->site->ctx != NULL)
		(void)SSL_shutdown(bufferevent_openssl_get_ssl(h->bev));
	(void)shutdown(fd, SHUT_WR);
	h->state = ST_DRAINING;
	evbuffer_drain(bufferevent_get_input(h->bev),
		       evbuffer_get_length(bufferevent_get_input(h->bev)));
	bufferevent_set_timeouts(h->bev, &tv, &tv);
	bufferevent_enable(h->bev, EV_READ);
}

/* --- responses -------------------------------------------------------------*/

/* --- lab only: a transparent proxy's headers (--add-header) ------------*/

static const char *added_headers[FAKE_ADD_HEADERS_MAX];
static size_t n_added_headers;

int
fake_http_add_header(const char *line)
{
	const char *colon = strchr(line, ':');

	if (n_added_headers == FAKE_ADD_HEADERS_MAX || colon == NULL ||
	    colon == line)
		return -1;
	for (const char *p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return -1;
	for (const char *p = line; p < colon; p++)
		if (*p == ' ')
			return -1;
	added_headers[n_added_headers++] = line;
	return 0;
}

static void
lab_write_added_headers(struct evbuffer *out)
{
	for (size_t i = 0; i < n_added_headers; i++)
		evbuffer_add_printf(out, "%s\r\n", added_headers[i]);
}

/*
 * The status line and headers. extra: one more header line ("Name: value")
 * or NULL; length: the Content-Length, or -1 for none (a 204).
 */
static void
write_head(struct http_conn *h, int status, const char *reason,
	   const char *ctype, const char *location, const char *extra,
	   long long length, bool keep)
{
	struct evbuffer *out = bufferevent_get_output(h->bev);

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nServer: fakenet\r\n",
			    status, reason);
	if (ctype != NULL)
		evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
	if (location != NULL)
		evbuffer_add_printf(out, "Location: %s\r\n", location);
	if (extra != NULL)
		evbuffer_add_printf(out, "%s\r\n", extra);
	lab_write_added_headers(out);
	if (length >= 0)
		evbuffer_add_printf(out, "Content-Length: %lld\r\n", length);
	evbuffer_add_printf(out, "Connection: %s\r\n\r\n",
			    keep ? "keep-alive" : "close");
}

/* A whole response; a close after it unless the request kept alive. */
static void
respond_full(struct http_conn *h, const struct http_req *r, int status,
	     const char *reason, const char *ctype, const char *location,
	     const char *extra, const void *body, long long len)
{
	struct evbuffer *out = bufferevent_get_output(h->bev);
	bool keep = r->keep_alive;

	write_head(h, status, reason, ctype, location, extra, len, keep);
	if (!r->head && len > 0) {
		if (len < COPY_MAX)
			evbuffer_add(out, body, (size_t)len);
		else /* static data: no copy */
			evbuffer_add_reference(out, body, (size_t)len, NULL,
					       NULL);
	}
	http_set_idle(h, false);
	if (!keep) {
		h->state = ST_CLOSING;
		bufferevent_disable(h->bev, EV_READ);
	}
}

/* extra: one more header line ("Name: value"), or NULL. */
static void
respond_extra(struct http_conn *h, const struct http_req *r, int status,
	      const char *reason, const char *ctype, const char *location,
	      const char *extra, const void *body, size_t len)
{
	if (body == lab_page && extra == NULL)
		extra = "X-Wallwatch-Lab: 1";
	respond_full(h, r, status, reason, ctype, location, extra, body,
		     (long long)len);
}

static void
respond(struct http_conn *h, const struct http_req *r, int status,
	const char *reason, const char *ctype, const char *location,
	const void *body, size_t len)
{
	respond_extra(h, r, status, reason, ctype, location, NULL, body, len);
}

/*
 * /changing: the same title every time, around it random words of a random
 * length, as a page full of ads and timestamps is. Any page comparison that
 * looks at the bytes alone calls it different on every fetch.
 */
static void
respond_changing(struct http_conn *h, const struct http_req *r)
{
	static const char head[] =
		"<!DOCTYPE html>\n"
		"<html><head><meta charset=\"utf-8\">"
		"<title>Wallwatch changing page</title></head>\n"
		"<body><h1>Wallwatch changing page</h1>\n<p>";
	static const char tail[] = "</p></body></html>\n";
	static const char hex[] = "0123456789abcdef";
	char body[sizeof(head) + CHANGING_MAX + sizeof(tail)];
	unsigned char rnd[CHANGING_MAX / 2 + 2];
	size_t len = 0, fill, i;

	/* A test server: should the CSPRNG fail, any bytes will do. */
	if (RAND_bytes(rnd, (int)sizeof(rnd)) != 1)
		memset(rnd, 0x5a, sizeof(rnd));
	fill = CHANGING_MIN + ((size_t)rnd[0] << 8 | rnd[1]) %
				      (CHANGING_MAX - CHANGING_MIN + 1);
	memcpy(body, head, sizeof(head) - 1);
	len = sizeof(head) - 1;
	/* Hex digits of the random bytes, a space after every 15. */
	for (i = 0; i < fill; i++) {
		unsigned char b = rnd[2 + i / 2];

		if (i % 16 == 15)
			body[len++] = ' ';
		else
			body[len++] = hex[(i & 1) ? b & 15 : b >> 4];
	}
	memcpy(body + len, tail, sizeof(tail) - 1);
	len += sizeof(tail) - 1;
	respond(h, r, 200, "OK", html_type, NULL, body, len);
}

/* True when the peer is an IPv4 address inside the --geo-block network. */
static bool
peer_geo_blocked(struct http_conn *h)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = (int)bufferevent_getfd(h->bev);

	if (!geo_set || fd < 0 ||
	    getpeername(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    ss.ss_family != AF_INET)
		return false;
	return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) &
		geo_mask) == geo_net;
}

static void
redirect(struct http_conn *h, const struct http_req *r, int status,
	 const char *location)
{
	respond(h, r, status, status == 301 ? "Moved Permanently" : "Found",
		NULL, location, NULL, 0);
}

/* --- routes with a query, chains, cut and paced bodies ---------------------*/

/*
 * The raw value of parameter name in a query ("a=1&u=x"), or NULL; *n gets
 * its length. The first occurrence wins.
 */
static const char *
query_param(const char *q, const char *name, size_t *n)
{
	size_t len = strlen(name);
	const char *amp;

	while (*q != '\0') {
		amp = strchr(q, '&');
		if (strncmp(q, name, len) == 0 && q[len] == '=') {
			q += len + 1;
			*n = amp ? (size_t)(amp - q) : strlen(q);
			return q;
		}
		if (amp == NULL)
			break;
		q = amp + 1;
	}
	return NULL;
}

static int
hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode in[0..n) into out (NUL-terminated). Refuses a bad escape,
 * an overflow and any control byte: the result goes into a header line, and
 * a CR or LF there would let the query write headers of its own.
 */
static int
percent_decode(const char *in, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	int hi, lo;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)in[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			if ((hi = hex_val(in[i + 1])) < 0 ||
			    (lo = hex_val(in[i + 2])) < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* A numeric parameter in [min, max], def when absent; -1 if malformed. */
static int
query_long(const struct http_req *r, const char *name, long min, long max,
	   long def, long *out)
{
	char buf[16];
	const char *v;
	size_t n;

	if (r->query_long)
		return -1;
	if ((v = query_param(r->query, name, &n)) == NULL) {
		*out = def;
		return def < 0 ? -1 : 0;
	}
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return ww_parse_long(buf, min, max, out);
}

static void
bad_request(struct http_conn *h, const struct http_req *r)
{
	respond(h, r, 400, "Bad Request", NULL, NULL, NULL, 0);
}

/* /to?u=URL: a redirect to anywhere, the way a test needs it. */
static void
respond_to(struct http_conn *h, const struct http_req *r)
{
	char loc[QUERY_MAX_LEN];
	const char *v;
	size_t n;

	if (r->query_long || (v = query_param(r->query, "u", &n)) == NULL ||
	    n == 0 || percent_decode(v, n, loc, sizeof(loc)) < 0) {
		bad_request(h, r);
		return;
	}
	redirect(h, r, 302, loc);
}

/* /chain/N: N more redirects to go; /chain/0 is the lab page. */
static void
respond_chain(struct http_conn *h, const struct http_req *r, const char *n)
{
	char loc[32];
	long left;

	/* Digits only: "/chain/+1" or "/chain/01x" are other pages. */
	if (n[0] == '\0' || strspn(n, "0123456789") != strlen(n) ||
	    ww_parse_long(n, 0, CHAIN_MAX, &left) < 0) {
		respond(h, r, 404, "Not Found", html_type, NULL, notfound_page,
			sizeof(notfound_page) - 1);
		return;
	}
	if (left == 0) {
		respond(h, r, 200, "OK", html_type, NULL, lab_page,
			sizeof(lab_page) - 1);
		return;
	}
	snprintf(loc, sizeof(loc), "/chain/%ld", left - 1);
	redirect(h, r, 302, loc);
}

static const char *
status_reason(long code)
{
	static const struct {
		int code;
		const char *reason;
	} reasons[] = {
		{200, "OK"},
		{201, "Created"},
		{202, "Accepted"},
		{204, "No Content"},
		{301, "Moved Permanently"},
		{302, "Found"},
		{303, "See Other"},
		{304, "Not Modified"},
		{307, "Temporary Redirect"},
		{308, "Permanent Redirect"},
		{400, "Bad Request"},
		{401, "Unauthorized"},
		{403, "Forbidden"},
		{404, "Not Found"},
		{410, "Gone"},
		{429, "Too Many Requests"},
		{451, "Unavailable For Legal Reasons"},
		{500, "Internal Server Error"},
		{502, "Bad Gateway"},
		{503, "Service Unavailable"},
		{504, "Gateway Timeout"},
	};
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].reason;
	return "Status"; /* the reason phrase is free text (9112 4) */
}

/* /status?code=N: any final status with a small page titled "Status N". */
static void
respond_status(struct http_conn *h, const struct http_req *r)
{
	char body[256];
	long code;
	int len;

	if (query_long(r, "code", 200, 599, -1, &code) < 0) {
		bad_request(h, r);
		return;
	}
	/* 204 and 304 never have a body (RFC 9110 15.3.5, 15.4.5); a 204
	 * has no Content-Length either. */
	if (code == 204 || code == 304) {
		respond_full(h, r, (int)code, status_reason(code), NULL, NULL,
			     NULL, NULL, code == 204 ? -1 : 0);
		return;
	}
	len = snprintf(body, sizeof(body),
		       "<!DOCTYPE html>\n"
		       "<html><head><meta charset=\"utf-8\">"
		       "<title>Status %ld</title></head>\n"
		       "<body><h1>Status %ld</h1></body></html>\n",
		       code, code);
	respond(h, r, (int)code, status_reason(code), html_type, NULL, body,
		(size_t)len);
}

static void
arm_timer(struct http_conn *h, event_callback_fn cb, int ms)
{
	struct timeval tv = {0, ms * 1000};

	if (h->timer == NULL)
		h->timer = evtimer_new(h->fn->base, cb, h);
	evtimer_add(h->timer, &tv);
}

/*
 * /cut-reset: RST only once the peer has acked every byte. Closing with a
 * zero linger drops whatever the kernel has not sent yet, and the client
 * must get all CUT_SENT bytes on a slow machine too.
 */
static void
cut_reset_when_acked(evutil_socket_t fd_unused, short what, void *arg)
{
	struct http_conn *h = arg;
	int fd = (int)bufferevent_getfd(h->bev);
	int unacked = 0;

	(void)fd_unused;
	(void)what;
	if (fd >= 0 && ioctl(fd, SIOCOUTQ, &unacked) == 0 && unacked > 0) {
		arm_timer(h, cut_reset_when_acked, ACK_POLL_MS);
		return;
	}
	http_reset(h);
}

/* The partial body of /cut-* has drained to the kernel: cut. */
static void
cut_now(struct http_conn *h)
{
	switch (h->cut) {
	case CUT_RESET:
		cut_reset_when_acked(-1, 0, h);
		break;
	case CUT_EOF:
		http_linger(h); /* close_notify, FIN, then discard input */
		break;
	case CUT_STALL:
		h->state = ST_SLOW;
		bufferevent_set_timeouts(h->bev, NULL, NULL);
		break;
	}
}

/*
 * /cut-*: the headers promise CUT_ANNOUNCED bytes, CUT_SENT come. Reading
 * stays on, so that a client leaving is noticed at once.
 */
static void
respond_cut(struct http_conn *h, const struct http_req *r, enum cut_kind k)
{
	write_head(h, 200, "OK", html_type, NULL, NULL, CUT_ANNOUNCED, false);
	if (r->head) { /* nothing to cut */
		h->state = ST_CLOSING;
		return;
	}
	evbuffer_add(bufferevent_get_output(h->bev), cut_body, CUT_SENT);
	http_set_idle(h, false);
	h->cut = k;
	h->state = ST_CUT;
}

/* Queue what is due at h->bps since h->t_start; close after the last. */
static void
throttle_tick(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *h = arg;
	struct evbuffer *out = bufferevent_get_output(h->bev);
	double due = (ww_mono() - h->t_start) * (double)h->bps;
	size_t upto = due >= THROTTLE_LEN ? THROTTLE_LEN : (size_t)due;

	(void)fd;
	(void)what;
	/* A client that does not read falls behind; we do not pile up. */
	if (upto > h->sent && evbuffer_get_length(out) < IN_HIGH) {
		evbuffer_add(out, big_body + h->sent, upto - h->sent);
		h->sent = upto;
	}
	if (h->sent == THROTTLE_LEN) {
		h->state = ST_CLOSING; /* http_write lingers once drained */
		return;
	}
	arm_timer(h, throttle_tick, THROTTLE_TICK_MS);
}

/*
 * /throttle?bps=N: THROTTLE_LEN bytes at N bytes per second, paced by a
 * timer of fakenet's loop. The client's own timeout ends it, or the last
 * byte. No idle timeouts: a slow trickle is the point.
 */
static void
respond_throttle(struct http_conn *h, const struct http_req *r)
{
	long bps;

	if (query_long(r, "bps", 1, THROTTLE_BPS_MAX, THROTTLE_BPS, &bps) < 0) {
		bad_request(h, r);
		return;
	}
	write_head(h, 200, "OK", "text/plain", NULL, NULL, THROTTLE_LEN, false);
	if (r->head) {
		h->state = ST_CLOSING;
		return;
	}
	bufferevent_set_timeouts(h->bev, NULL, NULL);
	h->bps = bps;
	h->sent = 0;
	h->t_start = ww_mono();
	h->state = ST_THROTTLE;
	arm_timer(h, throttle_tick, THROTTLE_TICK_MS);
}

/* --- lab only: what the censor lab's publisher does by network ----------
 * /geo/ROUTE answers as ROUTE (query included) to a client inside
 * --geo-block, and with the lab page to anyone else (the control): a CDN's
 * CAPTCHA, a 403 or a redirect to nowhere that only the client's network
 * gets (tests/lab, issue 11 class 4). /ungeo/ROUTE is the other way round,
 * ROUTE to everyone outside --geo-block (the control) and the lab page to
 * the client: a site that refuses data-centre addresses with a challenge
 * while it serves the client's network. */

static bool dispatch(struct http_conn *h, const struct http_req *r);

/* prefix: the length of "/geo" or "/ungeo"; inside: whether ROUTE is for
 * the clients inside --geo-block. */
static bool
lab_geo(struct http_conn *h, const struct http_req *r, size_t prefix,
	bool inside)
{
	struct http_req inner = *r;

	if (peer_geo_blocked(h) != inside) {
		respond(h, r, 200, "OK", html_type, NULL, lab_page,
			sizeof(lab_page) - 1);
		return h->state == ST_READING;
	}
	/* "/geo/captcha" -> "/captcha"; the path is NUL-terminated */
	memmove(inner.path, r->path + prefix, strlen(r->path + prefix) + 1);
	return dispatch(h, &inner);
}

/* Returns false when h is gone or must not read further requests. */
static bool
dispatch(struct http_conn *h, const struct http_req *r)
{
	const char *p = r->path;
	char abs[128];

	log_debug("http", "port %d: %s", h->site->port, p);
	if (h->site->ctx != NULL) {
		/* What the client sent in SNI (tests check that none goes
		 * out for an IP-literal host, RFC 6066 section 3). */
		SSL *ssl = bufferevent_openssl_get_ssl(h->bev);
		const char *sni =
			ssl != NULL ? SSL_get_servername(
					      ssl, TLSEXT_NAMETYPE_host_name)
				    : NULL;

		log_debug("http", "port %d: sni %s", h->site->port,
			  sni != NULL ? sni : "(none)");
	}
	if (r->bad) {
		respond(h, r, 400, "Bad Request", NULL, NULL, NULL, 0);
	} else if (strcmp(p, "/") == 0 || strcmp(p, "/ok") == 0 ||
		   strcmp(p, "/keyword-path") == 0) {
		respond(h, r, 200, "OK", html_type, NULL, lab_page,
			sizeof(lab_page) - 1);
	} else if (strncmp(p, "/geo/", 5) == 0 && strlen(p) > 5) {
		return lab_geo(h, r, 4, true); /* lab only, above */
	} else if (strncmp(p, "/ungeo/", 7) == 0 && strlen(p) > 7) {
		return lab_geo(h, r, 6, false); /* lab only, above */
	} else if (strcmp(p, "/changing") == 0) {
		respond_changing(h, r);
	} else if (strcmp(p, "/geo451") == 0) {
		if (peer_geo_blocked(h))
			/* RFC 7725: 451, and who demanded it. */
			respond_extra(h, r, 451,
				      "Unavailable For Legal Reasons",
				      html_type, NULL,
				      "Link: <https://authority.lab.test/>; "
				      "rel=\"blocked-by\"",
				      legal_page, sizeof(legal_page) - 1);
		else
			respond(h, r, 200, "OK", html_type, NULL, lab_page,
				sizeof(lab_page) - 1);
	} else if (strcmp(p, "/redirect") == 0) {
		redirect(h, r, 302, "/");
	} else if (strcmp(p, "/redirect-abs") == 0) {
		snprintf(abs, sizeof(abs), "%s://good.lab.test:%d/",
			 h->site->scheme, h->site->port);
		redirect(h, r, 301, abs);
	} else if (strcmp(p, "/redirect-nx") == 0) {
		/* to a name the lab's DNS answers NXDOMAIN for */
		snprintf(abs, sizeof(abs), "%s://nx.lab.test:%d/",
			 h->site->scheme, h->site->port);
		redirect(h, r, 302, abs);
	} else if (strcmp(p, "/loop") == 0) {
		redirect(h, r, 302, "/loop");
	} else if (strcmp(p, "/to") == 0) {
		respond_to(h, r);
	} else if (strncmp(p, "/chain/", 7) == 0) {
		respond_chain(h, r, p + 7);
	} else if (strcmp(p, "/cut-reset") == 0) {
		respond_cut(h, r, CUT_RESET);
	} else if (strcmp(p, "/cut-eof") == 0) {
		respond_cut(h, r, CUT_EOF);
	} else if (strcmp(p, "/cut-stall") == 0) {
		respond_cut(h, r, CUT_STALL);
	} else if (strcmp(p, "/throttle") == 0) {
		respond_throttle(h, r);
	} else if (strcmp(p, "/status") == 0) {
		respond_status(h, r);
	} else if (strcmp(p, "/captcha") == 0) {
		respond(h, r, 503, "Service Unavailable", html_type, NULL,
			captcha_page, sizeof(captcha_page) - 1);
	} else if (strcmp(p, "/blockpage") == 0) {
		respond(h, r, 403, "Forbidden", html_type, NULL, block_page,
			sizeof(block_page) - 1);
	} else if (strcmp(p, "/big") == 0) {
		respond(h, r, 200, "OK", "text/plain", NULL, big_body, BIG_LEN);
	} else if (strcmp(p, "/binary") == 0) {
		respond(h, r, 200, "OK", "application/octet-stream", NULL,
			bin_body, BIN_LEN);
	} else if (strcmp(p, "/leak") == 0) {
		respond_extra(h, r, 200, "OK", html_type, NULL,
			      "X-Client-Address: 203.0.113.7", leak_page,
			      sizeof(leak_page) - 1);
	} else if (strcmp(p, "/leak-binary") == 0) {
		respond(h, r, 200, "OK", "application/octet-stream", NULL,
			leak_bin, sizeof(leak_bin) - 1);
	} else if (strcmp(p, "/reset") == 0) {
		http_reset(h);
		return false;
	} else if (strcmp(p, "/slow") == 0) {
		h->state = ST_SLOW;
		bufferevent_set_timeouts(h->bev, NULL, NULL);
		return false;
	} else {
		respond(h, r, 404, "Not Found", html_type, NULL, notfound_page,
			sizeof(notfound_page) - 1);
	}
	return h->state == ST_READING;
}

/* --- request parsing -------------------------------------------------------*/

static bool
token_eq(const char *s, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(s, want, n) == 0;
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' ||
			  (*s)[*n - 1] == '\r'))
		(*n)--;
}

/* Connection: a comma list of tokens (RFC 9110 7.6.1). */
static void
parse_connection(const char *v, size_t n, bool *close_tok, bool *keep_tok)
{
	const char *comma, *tok;
	size_t tn;

	while (n > 0) {
		comma = memchr(v, ',', n);
		tok = v;
		tn = comma ? (size_t)(comma - v) : n;
		v += tn + (comma ? 1 : 0);
		n -= tn + (comma ? 1 : 0);
		trim(&tok, &tn);
		if (token_eq(tok, tn, "close"))
			*close_tok = true;
		else if (token_eq(tok, tn, "keep-alive"))
			*keep_tok = true;
	}
}

static int
parse_content_length(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

/* The request-target's path: origin-form, or absolute-form (9112 3.2). */
static void
parse_target(const char *t, size_t n, struct http_req *r)
{
	const char *scheme_end = NULL, *slash;
	size_t i;

	if (n >= 3) {
		for (i = 0; i + 3 <= n; i++) {
			if (t[i] == '/' || t[i] == '?')
				break;
			if (memcmp(t + i, "://", 3) == 0) {
				scheme_end = t + i + 3;
				break;
			}
		}
	}
	if (scheme_end != NULL) {
		n -= (size_t)(scheme_end - t);
		t = scheme_end;
		slash = memchr(t, '/', n);
		if (slash == NULL) {
			snprintf(r->path, sizeof(r->path), "/");
			return;
		}
		n -= (size_t)(slash - t);
		t = slash;
	}
	for (i = 0; i < n && t[i] != '?' && t[i] != '#'; i++)
		;
	if (i >= sizeof(r->path))
		i = sizeof(r->path) - 1; /* too long for any route: a 404 */
	memcpy(r->path, t, i);
	r->path[i] = '\0';
	for (i = 0; i < n && t[i] != '?' && t[i] != '#'; i++)
		;
	if (i == n || t[i] != '?')
		return;
	t += i + 1;
	n -= i + 1;
	for (i = 0; i < n && t[i] != '#'; i++)
		;
	if (i >= sizeof(r->query)) {
		i = sizeof(r->query) - 1;
		r->query_long = true;
	}
	memcpy(r->query, t, i);
	r->query[i] = '\0';
}

/* block: request line and header lines, without the empty line. */
static void
parse_request(const char *block, size_t len, struct http_req *r)
{
	const char *line = block, *end = block + len, *nl, *sp1, *sp2, *colon;
	const char *name, *val;
	size_t n, nn, vn;
	bool http11 = false, close_tok = false, keep_tok = false, cl = false;
	uint64_t v = 0;

	memset(r, 0, sizeof(*r));
	nl = memchr(line, '\n', len);
	n = nl ? (size_t)(nl - line) : len;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	/* method SP request-target SP HTTP-version */
	sp1 = memchr(line, ' ', n);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line)) : NULL;
	if (sp1 == NULL || sp2 == NULL || sp2 == sp1 + 1 ||
	    (size_t)(line + n - (sp2 + 1)) != 8 ||
	    strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		r->bad = true;
		snprintf(r->path, sizeof(r->path), "/");
		return;
	}
	http11 = sp2[8] != '0';
	r->head = token_eq(line, (size_t)(sp1 - line), "HEAD");
	parse_target(sp1 + 1, (size_t)(sp2 - sp1 - 1), r);

	line = nl ? nl + 1 : end;
	while (line < end) {
		nl = memchr(line, '\n', (size_t)(end - line));
		n = nl ? (size_t)(nl - line) : (size_t)(end - line);
		colon = memchr(line, ':', n);
		if (colon != NULL && colon != line && line[0] != ' ' &&
		    line[0] != '\t') {
			name = line;
			nn = (size_t)(colon - line);
			val = colon + 1;
			vn = n - nn - 1;
			trim(&val, &vn);
			if (token_eq(name, nn, "connection")) {
				parse_connection(val, vn, &close_tok,
						 &keep_tok);
			} else if (token_eq(name, nn, "content-length")) {
				/* Differing lengths are an attack (9112
				 * 6.3); so is a malformed one. */
				if (parse_content_length(val, vn, &v) < 0 ||
				    (cl && v != r->content_length))
					r->bad = true;
				r->content_length = v;
				cl = true;
			} else if (token_eq(name, nn, "transfer-encoding")) {
				r->chunked = true;
			}
		}
		line = nl ? nl + 1 : end;
	}
	r->keep_alive =
		!close_tok && (http11 || keep_tok) && !r->bad && !r->chunked;
}

/*
 * End of the header section in p[0..n): the offset just past the empty
 * line, 0 if not there yet. Bare LF line ends are accepted (9112 2.2).
 */
static size_t
header_end(const char *p, size_t n, size_t *block_len)
{
	const char *nl = p;
	size_t i;

	while ((nl = memchr(nl, '\n', n - (size_t)(nl - p))) != NULL) {
		i = (size_t)(nl - p);
		if (i + 1 < n && p[i + 1] == '\n') {
			*block_len = i;
			return i + 2;
		}
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') {
			*block_len = i;
			return i + 3;
		}
		nl++;
	}
	return 0;
}

/* Answer every complete request in the input, as far as output allows. */
static void
http_process(struct http_conn *h)
{
	struct evbuffer *in = bufferevent_get_input(h->bev);
	struct evbuffer *out = bufferevent_get_output(h->bev);
	struct http_req req;
	size_t len, n, skip, used, block_len = 0;
	const char *p;

	while (h->state == ST_READING && evbuffer_get_length(out) < OUT_HIGH) {
		len = evbuffer_get_length(in);
		if (h->body_left > 0) {
			n = h->body_left < len ? (size_t)h->body_left : len;
			evbuffer_drain(in, n);
			h->body_left -= n;
			if (h->body_left > 0)
				return;
			continue;
		}
		if (len == 0)
			return;
		n = len < HDR_MAX ? len : HDR_MAX;
		p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
		/* Empty lines before a request are allowed (9112 2.2). */
		for (skip = 0; skip < n && (p[skip] == '\r' || p[skip] == '\n');
		     skip++)
			;
		if (skip > 0) {
			evbuffer_drain(in, skip);
			continue;
		}
		used = header_end(p, n, &block_len);
		if (used == 0) {
			if (len >= HDR_MAX) {
				memset(&req, 0, sizeof(req));
				respond(h, &req, 431,
					"Request Header Fields Too Large", NULL,
					NULL, NULL, 0);
			}
			return;
		}
		parse_request(p, block_len, &req);
		evbuffer_drain(in, used);
		h->body_left = req.content_length;
		if (!dispatch(h, &req))
			return;
	}
}

/* --- bufferevent callbacks -------------------------------------------------*/

static void
http_read(struct bufferevent *bev, void *arg)
{
	struct http_conn *h = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (h->state == ST_READING)
		http_process(h);
	else /* nothing more will be answered */
		evbuffer_drain(in, evbuffer_get_length(in));
}

/* Called when the output has drained completely. */
static void
http_write(struct bufferevent *bev, void *arg)
{
	struct http_conn *h = arg;

	(void)bev;
	if (h->state == ST_CLOSING) {
		http_linger(h);
		return;
	}
	if (h->state == ST_CUT) {
		cut_now(h);
		return;
	}
	if (h->state != ST_READING)
		return;
	http_set_idle(h, true);
	/* Requests may have piled up while the output was full. */
	http_process(h);
}

static void
http_event(struct bufferevent *bev, short what, void *arg)
{
	struct http_conn *h = arg;
	unsigned long e;
	char buf[256];

	if (what & BEV_EVENT_CONNECTED)
		return; /* TLS handshake done */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
		h->peer_eof = true;
		/* A half-closed client still gets what it asked for. */
		if ((h->state == ST_READING || h->state == ST_CLOSING) &&
		    evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
			h->state = ST_CLOSING;
			return;
		}
	}
	if (what & BEV_EVENT_ERROR) {
		if (h->site->ctx != NULL &&
		    (e = bufferevent_get_openssl_error(bev)) != 0) {
			ERR_error_string_n(e, buf, sizeof(buf));
			log_debug("http", "port %d: %s", h->site->port, buf);
		} else if (errno != 0) {
			log_debug("http", "port %d: %s", h->site->port,
				  strerror(errno));
		}
	}
	http_close(&h->c);
}

/*
 * TLS over a rate-limited socket: OpenSSL writes whole records (16 KB for
 * a big body) into the socket bufferevent, which lets bps bytes a second
 * out, in ticks of 50 ms. That is a shaper on the path (the GFW's, a tc
 * qdisc): the client sees bytes arrive, but a record decrypts only once
 * it has come whole. Each socket has its own bucket; the configuration
 * is made once and never freed (it lives as long as fakenet).
 */
static struct bufferevent *
shaped_tls_new(struct fakenet *fn, int fd, SSL *ssl, size_t bps)
{
	static struct ev_token_bucket_cfg *cfg; /* one rate for all */
	static const struct timeval tick = {0, 50 * 1000};
	struct bufferevent *under, *bev;

	if (cfg == NULL)
		cfg = ev_token_bucket_cfg_new(EV_RATE_LIMIT_MAX,
					      EV_RATE_LIMIT_MAX, bps / 20,
					      bps / 20, &tick);
	/* On failure, as bufferevent_openssl_socket_new(): ssl is freed, fd
	 * left to the caller. */
	under = cfg != NULL ? bufferevent_socket_new(fn->base, fd,
						     BEV_OPT_CLOSE_ON_FREE)
			    : NULL;
	if (under == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_set_rate_limit(under, cfg);
	bev = bufferevent_openssl_filter_new(fn->base, under, ssl,
					     BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		bufferevent_setfd(under, -1); /* the caller closes fd */
		bufferevent_free(under);
	}
	return bev;
}

void
fake_http_conn_new(struct fakenet *fn, const struct fake_site *site, int fd)
{
	struct http_conn *h;
	struct bufferevent *bev;
	SSL *ssl;

	fake_sock_nodelay(fd);
	if (site->ctx != NULL) {
		ssl = SSL_new(site->ctx);
		if (ssl == NULL) {
			log_warn("http", "SSL_new failed");
			ERR_clear_error();
			close(fd);
			return;
		}
		/* Frees ssl on failure (CLOSE_ON_FREE). */
		bev = site->shape_bps > 0
			      ? shaped_tls_new(fn, fd, ssl, site->shape_bps)
			      : bufferevent_openssl_socket_new(
					fn->base, fd, ssl,
					BUFFEREVENT_SSL_ACCEPTING,
					BEV_OPT_CLOSE_ON_FREE);
		if (bev != NULL)
			/* A FIN without close_notify is an EOF, not an
			 * error: curl often skips the alert. */
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	} else {
		bev = bufferevent_socket_new(fn->base, fd,
					     BEV_OPT_CLOSE_ON_FREE);
	}
	if (bev == NULL) {
		log_warn("http", "no bufferevent for a new connection");
		close(fd);
		return;
	}
	h = xcalloc(1, sizeof(*h));
	h->fn = fn;
	h->site = site;
	h->bev = bev;
	h->state = ST_READING;
	bufferevent_setcb(bev, http_read, http_write, http_event, h);
	bufferevent_setwatermark(bev, EV_READ, 0, IN_HIGH);
	http_set_idle(h, true);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	fake_conn_link(fn, &h->c, http_close);
}
