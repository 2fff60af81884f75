/*
 * main.c - fakecollector: a collector for the probe's upload tests, which
 * stores nothing but the uids it took and misbehaves on request.
 *
 *   fakecollector --port-file FILE [--listen 127.0.0.1:0] [--log FILE]
 *                 [--whoami-ip IP] [--whoami-asn ASN] [--whoami-cc CC]
 *                 [--lifetime SECONDS] [--verbose]
 *
 * The first path segment picks the behaviour (/ok/api/v1/measurements,
 * /503/api/v1/whoami...; tests/fakecollector/README.md has the table).
 *
 * Not evhttp: /close must drop the connection half-way through a body, and
 * /hang must hold one without an answer; evhttp only hands a request over
 * once its body is complete. So HTTP/1.1 is parsed here (RFC 9112), with
 * Content-Length or chunked bodies, Expect: 100-continue and keep-alive.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>
#include <zlib.h>

#include "util.h"

/* Caps on what a client can make us hold (STYLE.md 5). */
#define HDR_MAX (16 * 1024)
#define BODY_MAX (64u * 1024 * 1024) /* as sent, and inflated */
#define CHUNK_LINE_MAX 1024
/* Input held while an answer waits (/slow) or is being written. */
#define IN_HIGH (1024 * 1024)
/* A client silent this long, mid-request or between requests, is gone. */
#define IDLE_SECS 120
/* After our last byte, how long we read (and discard) before closing. */
#define LINGER_SECS 5
#define SLOW_SECS 3
#define RETRY_AFTER "2"
#define DEFAULT_LIFETIME 600
#define MAX_LIFETIME (7L * 24 * 3600)

enum mode {
	MODE_NONE, /* no mode prefix: /stats, or nothing we know */
	MODE_OK,
	MODE_REJECT,
	MODE_500,
	MODE_503,
	MODE_404,
	MODE_HANG,
	MODE_CLOSE,
	MODE_SLOW,
};

static const struct {
	const char *name;
	enum mode mode;
} modes[] = {
	{"ok", MODE_OK},       {"reject", MODE_REJECT}, {"500", MODE_500},
	{"503", MODE_503},     {"404", MODE_404},	{"hang", MODE_HANG},
	{"close", MODE_CLOSE}, {"slow", MODE_SLOW},
};

enum route {
	ROUTE_OTHER,
	ROUTE_WHOAMI,	    /* /<mode>/api/v1/whoami */
	ROUTE_MEASUREMENTS, /* /<mode>/api/v1/measurements */
	ROUTE_STATS,	    /* /stats */
};

enum conn_state {
	CS_HEAD,     /* waiting for a request's header section */
	CS_BODY,     /* reading its body */
	CS_WAIT,     /* /slow: the answer waits on a timer */
	CS_HANG,     /* /hang: never answer; discard until the peer goes */
	CS_CLOSING,  /* last answer queued: shut once it is written */
	CS_DRAINING, /* our side shut: discard until the peer closes */
};

/* Where a chunked body is (RFC 9112 7.1). */
enum chunk_state {
	CH_SIZE,    /* a chunk-size line */
	CH_DATA,    /* chunk_left bytes of data */
	CH_CRLF,    /* the line end after the data */
	CH_TRAILER, /* trailer lines up to an empty one */
};

struct req {
	bool head; /* HEAD: the answer without its body */
	bool post;
	bool keep_alive;
	bool chunked;
	bool expect_100;
	bool bad;	   /* malformed: 400 and close */
	char encoding[32]; /* Content-Encoding, "" for none */
	uint64_t content_length;
	enum mode mode;
	enum route route;
	char path[256]; /* without the query; for the log */
};

struct fakecol;

struct conn {
	struct fakecol *fc;
	struct bufferevent *bev;
	enum conn_state state;
	struct req req;
	struct evbuffer *body; /* the request body so far */
	uint64_t body_left;    /* Content-Length bytes still to come */
	enum chunk_state ch;
	uint64_t chunk_left;
	struct event *slow; /* /slow: the delayed answer */
	char peer[INET6_ADDRSTRLEN];
	struct conn *prev, *next;
};

struct options {
	const char *port_file;
	const char *listen;
	const char *log;
	const char *whoami_ip;
	const char *whoami_asn;
	char asn_buf[24]; /* "AS" + a bare --whoami-asn number */
	const char *whoami_cc;
	long lifetime;
	bool verbose;
};

struct fakecol {
	struct event_base *base;
	struct options opt;
	FILE *log;
	json_t *seen; /* uids stored: an object used as a set */
	unsigned long long requests, posts, stored, duplicates, rejected;
	struct conn *conns; /* every open connection, freed at exit */
};

static void conn_process(struct conn *c);

/* --- connections ----------------------------------------------------------*/

static void
conn_free(struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->fc->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->slow != NULL)
		event_free(c->slow);
	if (c->body != NULL)
		evbuffer_free(c->body);
	bufferevent_free(c->bev); /* closes the socket */
	free(c);
}

static void
conn_set_idle(struct conn *c, bool on)
{
	struct timeval idle = {IDLE_SECS, 0};

	bufferevent_set_timeouts(c->bev, on ? &idle : NULL, on ? &idle : NULL);
}

/*
 * Our last answer has gone out. Closing now could RST it away if the
 * client's next bytes arrive unread (RFC 9112 9.6): shut our side and read
 * until the peer closes, for a while at most.
 */
static void
conn_linger(struct conn *c)
{
	struct timeval tv = {LINGER_SECS, 0};
	struct evbuffer *in = bufferevent_get_input(c->bev);

	(void)shutdown((int)bufferevent_getfd(c->bev), SHUT_WR);
	c->state = CS_DRAINING;
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ);
}

/* --- answers --------------------------------------------------------------*/

static const char *
reason_of(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

/*
 * Answer the current request with body (compact JSON; taken, may be NULL)
 * and extra ("Name: value", or NULL). close: end the connection after it,
 * whatever the client asked for.
 */
static void
respond(struct conn *c, int status, const char *extra, json_t *body, bool close)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	size_t len = text != NULL ? strlen(text) + 1 : 0;
	bool keep = c->req.keep_alive && !close;

	if (body != NULL && text == NULL)
		abort();
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nServer: fakecollector\r\n",
			    status, reason_of(status));
	if (text != NULL)
		evbuffer_add_printf(out, "Content-Type: application/json\r\n");
	if (extra != NULL)
		evbuffer_add_printf(out, "%s\r\n", extra);
	evbuffer_add_printf(out,
			    "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
			    len, keep ? "keep-alive" : "close");
	if (text != NULL && !c->req.head) {
		evbuffer_add(out, text, len - 1);
		evbuffer_add(out, "\n", 1);
	}
	log_debug("http", "%s -> %d", c->req.path, status);
	free(text);
	json_decref(body);
	if (c->body != NULL) {
		evbuffer_free(c->body);
		c->body = NULL;
	}
	conn_set_idle(c, true);
	c->state = keep ? CS_HEAD : CS_CLOSING;
	if (!keep)
		bufferevent_disable(c->bev, EV_READ);
}

static void
respond_error(struct conn *c, int status, const char *msg, bool close)
{
	respond(c, status, NULL, json_pack("{s:s}", "error", msg), close);
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static void
answer_whoami(struct conn *c)
{
	const struct options *o = &c->fc->opt;

	respond(c, 200, "Cache-Control: no-store",
		json_pack("{s:o,s:o,s:o,s:n}", "ip",
			  json_string(o->whoami_ip ? o->whoami_ip : c->peer),
			  "asn", str_or_null(o->whoami_asn), "cc",
			  str_or_null(o->whoami_cc), "network_name"),
		false);
}

static void
answer_stats(struct conn *c)
{
	struct fakecol *fc = c->fc;

	respond(c, 200, "Cache-Control: no-store",
		json_pack("{s:I,s:I,s:I,s:I,s:I}", "requests",
			  (json_int_t)fc->requests, "posts",
			  (json_int_t)fc->posts, "stored",
			  (json_int_t)fc->stored, "duplicates",
			  (json_int_t)fc->duplicates, "rejected",
			  (json_int_t)fc->rejected),
		false);
}

/* --- bodies ---------------------------------------------------------------*/

/*
 * Inflate a gzip body (one member or several, RFC 1952 2.2) into a new
 * buffer of at most BODY_MAX bytes. NULL with the status to answer and a
 * message.
 */
static unsigned char *
gunzip(const unsigned char *in, size_t len, size_t *out_len, int *status,
       const char **msg)
{
	z_stream z;
	unsigned char *out = NULL;
	size_t cap = 0, n = 0;
	int rc = Z_OK;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		abort();
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	while (z.avail_in > 0 || rc != Z_STREAM_END) {
		if (n == cap) {
			if (cap >= BODY_MAX) {
				*status = 413;
				*msg = "over 64 MiB inflated";
				goto fail;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			out = xrealloc(out, cap);
		}
		z.next_out = out + n;
		z.avail_out = (uInt)(cap - n);
		rc = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
		if (rc == Z_STREAM_END && z.avail_in > 0)
			inflateReset(&z); /* the next member */
		else if (rc == Z_BUF_ERROR && z.avail_in == 0)
			break; /* the data ends inside a member */
		else if (rc != Z_OK && rc != Z_STREAM_END)
			break;
	}
	if (rc != Z_STREAM_END) {
		*status = 400;
		*msg = "Content-Encoding: gzip, but the body is not gzip";
		goto fail;
	}
	inflateEnd(&z);
	*out_len = n;
	return out;
fail:
	inflateEnd(&z);
	free(out);
	return NULL;
}

struct line {
	const char *text;
	size_t len;
	size_t no; /* 1-based */
};

static bool
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static bool
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_space(s[i]))
			return false;
	return true;
}

/* As the collector: several lines that make one JSON object are one
 * (pretty-printed) document, not JSON Lines. */
static bool
one_document(const char *s, size_t len)
{
	json_error_t jerr;
	json_t *v;

	if (len == 0 || s[0] != '{')
		return false;
	v = json_loadb(s, len, JSON_DISABLE_EOF_CHECK, &jerr);
	if (v == NULL)
		return false;
	json_decref(v);
	return (size_t)jerr.position <= len &&
	       blank(s + jerr.position, len - (size_t)jerr.position);
}

/* The body's non-blank lines, trimmed, numbered as the collector does;
 * *n is 0 for an empty body. The caller frees the array. */
static struct line *
split_lines(const char *text, size_t len, size_t *n)
{
	struct line *v = NULL;
	size_t cap = 0, no = 0, pos = 0;

	*n = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		no++;
		if (!blank(text + pos, end - pos)) {
			struct line *l = WW_PUSH(v, *n, cap);

			l->text = text + pos;
			l->len = end - pos;
			l->no = no;
			while (is_space(l->text[0])) {
				l->text++;
				l->len--;
			}
			while (is_space(l->text[l->len - 1]))
				l->len--;
		}
		pos = end + 1;
	}
	if (*n > 1 &&
	    one_document(v[0].text, (size_t)(text + len - v[0].text))) {
		v[0].len = (size_t)(text + len - v[0].text);
		while (is_space(v[0].text[v[0].len - 1]))
			v[0].len--;
		*n = 1;
	}
	return v;
}

/*
 * The body as text (inflated when gzip): a pointer into the body buffer or
 * into *owned (to free). NULL after answering the error.
 */
static const char *
body_text(struct conn *c, size_t *len, unsigned char **owned)
{
	size_t n = evbuffer_get_length(c->body);
	const unsigned char *raw = n > 0 ? evbuffer_pullup(c->body, -1)
					 : (const unsigned char *)"";
	const char *msg = NULL;
	int status = 0;

	*owned = NULL;
	if (c->req.encoding[0] == '\0' ||
	    strcasecmp(c->req.encoding, "identity") == 0) {
		*len = n;
		return (const char *)raw;
	}
	if (strcasecmp(c->req.encoding, "gzip") != 0) {
		respond_error(c, 415, "Content-Encoding: only gzip", false);
		return NULL;
	}
	*owned = gunzip(raw, n, len, &status, &msg);
	if (*owned == NULL) {
		respond_error(c, status, msg, false);
		return NULL;
	}
	return (const char *)*owned;
}

static json_t *
rejection(size_t no, const char *field, const char *error)
{
	return json_pack("{s:I,s:s,s:s}", "line", (json_int_t)no, "field",
			 field, "error", error);
}

/* A uid we can keep one per line: non-empty, no control characters. */
static bool
uid_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* The uid of one line, or NULL with why in *why. */
static const char *
line_uid(json_t *m, const char **why)
{
	const char *uid =
		json_string_value(json_object_get(m, "measurement_uid"));

	if (!json_is_object(m))
		*why = "not a JSON object";
	else if (uid == NULL)
		*why = "missing, or not a string";
	else if (!uid_ok(uid))
		*why = "empty, or has control characters";
	else
		return uid;
	return NULL;
}

/* Append the new uids to --log and make them durable: an acknowledgement
 * means "on disk" here too. 0, or -1 after logging. */
static int
log_uids(struct fakecol *fc, json_t *uids)
{
	size_t i;
	json_t *u;

	if (fc->log == NULL || json_array_size(uids) == 0)
		return 0;
	json_array_foreach(uids, i, u)
		fprintf(fc->log, "%s\n", json_string_value(u));
	if (fflush(fc->log) != 0 || fsync(fileno(fc->log)) != 0) {
		log_error("log", "%s: %s", fc->opt.log, strerror(errno));
		clearerr(fc->log);
		return -1;
	}
	return 0;
}

struct batch {
	json_t *stored, *dups, *rejected;
	json_t *taken; /* uids of this batch so far, as a set */
};

static void
take_line(struct fakecol *fc, struct batch *b, const struct line *l)
{
	json_error_t jerr;
	json_t *m = json_loadb(l->text, l->len, 0, &jerr);
	const char *why = NULL, *uid;
	char msg[200];

	if (m == NULL) {
		snprintf(msg, sizeof(msg), "not JSON: %s", jerr.text);
		json_array_append_new(b->rejected,
				      rejection(l->no, "measurement_uid", msg));
		return;
	}
	uid = line_uid(m, &why);
	if (uid == NULL)
		json_array_append_new(b->rejected,
				      rejection(l->no, "measurement_uid", why));
	else if (json_object_get(fc->seen, uid) != NULL ||
		 json_object_get(b->taken, uid) != NULL)
		json_array_append_new(b->dups, json_string(uid));
	else {
		json_object_set_new(b->taken, uid, json_true());
		json_array_append_new(b->stored, json_string(uid));
	}
	json_decref(m);
}

/* /ok and /slow: store the new uids, answer as the collector does. */
static void
answer_ingest(struct conn *c, const struct line *lines, size_t n)
{
	struct fakecol *fc = c->fc;
	struct batch b = {json_array(), json_array(), json_array(),
			  json_object()};
	size_t i, n_rej;

	for (i = 0; i < n; i++)
		take_line(fc, &b, &lines[i]);
	if (log_uids(fc, b.stored) != 0) {
		respond_error(c, 500, "cannot write --log", false);
		json_decref(b.stored);
		json_decref(b.dups);
		json_decref(b.rejected);
		json_decref(b.taken);
		return;
	}
	json_object_update(fc->seen, b.taken);
	json_decref(b.taken);
	fc->stored += json_array_size(b.stored);
	fc->duplicates += json_array_size(b.dups);
	n_rej = json_array_size(b.rejected);
	fc->rejected += n_rej;
	respond(c, n_rej > 0 ? 400 : 200, NULL,
		json_pack("{s:o,s:o,s:o}", "stored", b.stored, "duplicates",
			  b.dups, "rejected", b.rejected),
		false);
}

/* /reject: every line refused, as the collector refuses a bad one. */
static void
answer_reject(struct conn *c, const struct line *lines, size_t n)
{
	json_t *rej = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(rej,
				      rejection(lines[i].no, "test_keys",
						"refused by fakecollector"));
	c->fc->rejected += n;
	respond(c, 400, NULL,
		json_pack("{s:[],s:[],s:o}", "stored", "duplicates", "rejected",
			  rej),
		false);
}

static void
answer_post(struct conn *c)
{
	unsigned char *owned;
	struct line *lines;
	const char *text;
	size_t len, n;

	text = body_text(c, &len, &owned);
	if (text == NULL)
		return;
	lines = split_lines(text, len, &n);
	if (n == 0)
		respond_error(c, 400,
			      "empty body: send a measurement or JSON Lines",
			      false);
	else if (c->req.mode == MODE_REJECT)
		answer_reject(c, lines, n);
	else
		answer_ingest(c, lines, n);
	free(lines);
	free(owned);
}

/* Route a complete request. Whoami works in every mode that answers at
 * all, so that a probe can learn its address from a failing collector. */
static void
answer(struct conn *c)
{
	const struct req *r = &c->req;

	if (r->route == ROUTE_STATS) {
		if (r->post)
			respond_error(c, 405, "GET /stats", false);
		else
			answer_stats(c);
	} else if (r->mode == MODE_NONE) {
		respond_error(c, 404, "no such mode (/ok/, /reject/, ...)",
			      false);
	} else if (r->route == ROUTE_WHOAMI) {
		if (r->post)
			respond_error(c, 405, "GET your address", false);
		else
			answer_whoami(c);
	} else if (r->mode == MODE_500) {
		respond_error(c, 500, "fakecollector: /500", false);
	} else if (r->mode == MODE_503) {
		respond(c, 503, "Retry-After: " RETRY_AFTER,
			json_pack("{s:s}", "error", "fakecollector: /503"),
			false);
	} else if (r->mode == MODE_404 || r->route != ROUTE_MEASUREMENTS) {
		respond_error(c, 404, "no such path", false);
	} else if (!r->post) {
		respond(c, 405, "Allow: POST",
			json_pack("{s:s}", "error", "POST measurements"),
			false);
	} else {
		answer_post(c);
	}
}

static void
slow_done(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	answer(c);
	conn_process(c); /* requests that came meanwhile */
}

/* The request, body included, is in: answer now or later. */
static void
request_done(struct conn *c)
{
	struct timeval tv = {SLOW_SECS, 0};

	if (c->req.mode != MODE_SLOW) {
		answer(c);
		return;
	}
	if (c->slow == NULL)
		c->slow = evtimer_new(c->fc->base, slow_done, c);
	if (c->slow == NULL)
		abort();
	c->state = CS_WAIT;
	/* No idle timeout while we are the one who is late. */
	conn_set_idle(c, false);
	evtimer_add(c->slow, &tv);
}

/* --- request parsing ------------------------------------------------------*/

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

/* Does the comma list v[0..n) hold token (RFC 9110 5.6.1)? */
static bool
list_has(const char *v, size_t n, const char *token)
{
	while (n > 0) {
		const char *comma = memchr(v, ',', n);
		const char *tok = v;
		size_t tn = comma ? (size_t)(comma - v) : n;

		v += tn + (comma ? 1 : 0);
		n -= tn + (comma ? 1 : 0);
		trim(&tok, &tn);
		if (token_eq(tok, tn, token))
			return true;
	}
	return false;
}

static int
parse_u64(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;

	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

/* /<mode>/api/v1/<what>, or /stats. */
static void
parse_path(const char *t, size_t n, struct req *r)
{
	const char *slash;
	size_t i, mn;

	for (i = 0; i < n && t[i] != '?' && t[i] != '#'; i++)
		;
	n = i < sizeof(r->path) ? i : sizeof(r->path) - 1;
	memcpy(r->path, t, n);
	r->path[n] = '\0';
	if (strcmp(r->path, "/stats") == 0) {
		r->route = ROUTE_STATS;
		return;
	}
	if (r->path[0] != '/' || (slash = strchr(r->path + 1, '/')) == NULL)
		return;
	mn = (size_t)(slash - r->path - 1);
	for (i = 0; i < WW_ARRAY_LEN(modes); i++)
		if (strlen(modes[i].name) == mn &&
		    strncmp(r->path + 1, modes[i].name, mn) == 0)
			r->mode = modes[i].mode;
	if (strcmp(slash, "/api/v1/whoami") == 0)
		r->route = ROUTE_WHOAMI;
	else if (strcmp(slash, "/api/v1/measurements") == 0)
		r->route = ROUTE_MEASUREMENTS;
}

static void
parse_header(const char *name, size_t nn, const char *val, size_t vn,
	     struct req *r, bool *close_tok, bool *keep_tok, bool *has_len)
{
	uint64_t v = 0;

	if (token_eq(name, nn, "connection")) {
		*close_tok |= list_has(val, vn, "close");
		*keep_tok |= list_has(val, vn, "keep-alive");
	} else if (token_eq(name, nn, "content-length")) {
		/* Differing lengths are an attack (9112 6.3). */
		if (parse_u64(val, vn, &v) < 0 ||
		    (*has_len && v != r->content_length))
			r->bad = true;
		r->content_length = v;
		*has_len = true;
	} else if (token_eq(name, nn, "transfer-encoding")) {
		/* Only chunked is understood (9112 6.1). */
		if (list_has(val, vn, "chunked"))
			r->chunked = true;
		else
			r->bad = true;
	} else if (token_eq(name, nn, "content-encoding")) {
		if (vn >= sizeof(r->encoding))
			vn = sizeof(r->encoding) - 1; /* unknown: a 415 */
		memcpy(r->encoding, val, vn);
		r->encoding[vn] = '\0';
	} else if (token_eq(name, nn, "expect")) {
		r->expect_100 = token_eq(val, vn, "100-continue");
	}
}

/* block: request line and header lines, without the empty line. */
static void
parse_request(const char *block, size_t len, struct req *r)
{
	const char *line = block, *end = block + len, *nl, *sp1, *sp2, *colon;
	bool http11, close_tok = false, keep_tok = false, has_len = false;
	size_t n;

	memset(r, 0, sizeof(*r));
	nl = memchr(line, '\n', len);
	n = nl ? (size_t)(nl - line) : len;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	sp1 = memchr(line, ' ', n);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line)) : NULL;
	if (sp1 == NULL || sp2 == NULL || sp2 == sp1 + 1 ||
	    (size_t)(line + n - (sp2 + 1)) != 8 ||
	    strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		r->bad = true;
		snprintf(r->path, sizeof(r->path), "?");
		return;
	}
	http11 = sp2[8] != '0';
	r->head = token_eq(line, (size_t)(sp1 - line), "HEAD");
	/* Any method with a body is a POST here (PUT: a 405 all the same). */
	r->post = !r->head && !token_eq(line, (size_t)(sp1 - line), "GET");
	parse_path(sp1 + 1, (size_t)(sp2 - sp1 - 1), r);
	for (line = nl ? nl + 1 : end; line < end; line = nl ? nl + 1 : end) {
		nl = memchr(line, '\n', (size_t)(end - line));
		n = nl ? (size_t)(nl - line) : (size_t)(end - line);
		colon = memchr(line, ':', n);
		if (colon != NULL && colon != line && line[0] != ' ' &&
		    line[0] != '\t') {
			const char *val = colon + 1;
			size_t vn = n - (size_t)(colon - line) - 1;

			trim(&val, &vn);
			parse_header(line, (size_t)(colon - line), val, vn, r,
				     &close_tok, &keep_tok, &has_len);
		}
	}
	/* Both lengths: chunked wins, and the connection ends (9112 6.3). */
	r->keep_alive = !close_tok && (http11 || keep_tok) && !r->bad &&
			!(r->chunked && has_len);
	if (r->chunked)
		r->content_length = 0;
}

/* Offset just past the empty line ending the header section in p[0..n),
 * 0 when not there yet; bare LF line ends accepted (9112 2.2). */
static size_t
header_end(const char *p, size_t n, size_t *block_len)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n')
			continue;
		if (i + 1 < n && p[i + 1] == '\n') {
			*block_len = i;
			return i + 2;
		}
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') {
			*block_len = i;
			return i + 3;
		}
	}
	return 0;
}

/* --- the request cycle ----------------------------------------------------*/

/* A header section is in: start on the request. false when c must wait or
 * is gone. */
static bool
start_request(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in), n, used, block = 0;
	const char *p;

	n = len < HDR_MAX ? len : HDR_MAX;
	p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
	/* Empty lines before a request are allowed (9112 2.2). */
	if (n > 0 && (p[0] == '\r' || p[0] == '\n')) {
		evbuffer_drain(in, 1);
		return true;
	}
	used = header_end(p, n, &block);
	if (used == 0) {
		if (len >= HDR_MAX) {
			memset(&c->req, 0, sizeof(c->req));
			respond_error(c, 431, "headers over 16 KiB", true);
		}
		return false;
	}
	parse_request(p, block, &c->req);
	evbuffer_drain(in, used);
	c->fc->requests++;
	c->fc->posts += c->req.post;
	if (c->req.bad) {
		respond_error(c, 400, "malformed request", true);
		return false;
	}
	if (c->req.content_length > BODY_MAX) {
		respond_error(c, 413, "a body is at most 64 MiB", true);
		return false;
	}
	if (c->req.mode == MODE_CLOSE && c->req.route != ROUTE_WHOAMI &&
	    !c->req.chunked && c->req.content_length == 0) {
		conn_free(c); /* half of nothing: at once */
		return false;
	}
	/* The client waits for this before sending a large body (RFC 9110
	 * 10.1.1); /hang and /close want the body to come. */
	if (c->req.expect_100 && (c->req.chunked || c->req.content_length > 0))
		evbuffer_add_printf(bufferevent_get_output(c->bev),
				    "HTTP/1.1 100 Continue\r\n\r\n");
	/* whoami answers in every mode: the POST is what misbehaves. */
	if (c->req.mode == MODE_HANG && c->req.route != ROUTE_WHOAMI) {
		c->state = CS_HANG;
		conn_set_idle(c, false);
		evbuffer_drain(in, evbuffer_get_length(in));
		return false;
	}
	c->body = evbuffer_new();
	if (c->body == NULL)
		abort();
	c->body_left = c->req.content_length;
	c->ch = CH_SIZE;
	c->state = CS_BODY;
	return true;
}

/* One line of a chunked body's framing into line (NUL-terminated). 1 when
 * read, 0 when not all in yet, -1 when too long. */
static int
chunk_line(struct evbuffer *in, char *line, size_t cap)
{
	size_t n;
	char *s = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);

	if (s == NULL)
		return evbuffer_get_length(in) > cap ? -1 : 0;
	if (n >= cap) {
		free(s);
		return -1;
	}
	memcpy(line, s, n + 1);
	free(s);
	return 1;
}

/* Move chunked body bytes from in; 1 when the body is complete, 0 for
 * more, -1 when malformed or too large. */
static int
read_chunked(struct conn *c, struct evbuffer *in)
{
	char line[CHUNK_LINE_MAX];
	unsigned long long size;
	char *end;
	int rc;

	for (;;) {
		if (c->ch == CH_DATA) {
			size_t avail = evbuffer_get_length(in);
			size_t n = c->chunk_left < avail ? (size_t)c->chunk_left
							 : avail;

			evbuffer_remove_buffer(in, c->body, n);
			c->chunk_left -= n;
			if (c->chunk_left > 0)
				return 0;
			c->ch = CH_CRLF;
			continue;
		}
		if ((rc = chunk_line(in, line, sizeof(line))) <= 0)
			return rc;
		if (c->ch == CH_CRLF) {
			if (line[0] != '\0')
				return -1;
			c->ch = CH_SIZE;
		} else if (c->ch == CH_TRAILER) {
			if (line[0] == '\0')
				return 1;
		} else {
			errno = 0;
			size = strtoull(line, &end, 16);
			if (end == line || errno != 0 ||
			    (*end != '\0' && *end != ';' && *end != ' ') ||
			    size > BODY_MAX - evbuffer_get_length(c->body))
				return -1;
			c->chunk_left = size;
			c->ch = size == 0 ? CH_TRAILER : CH_DATA;
		}
	}
}

/* /close: the body is about half in; drop the connection unanswered. */
static bool
half_in(const struct conn *c)
{
	size_t got = evbuffer_get_length(c->body);

	if (c->req.chunked)
		return got > 0;
	return got >= c->req.content_length / 2;
}

/* Take body bytes; false when c must wait or is gone. */
static bool
read_body(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	int done;

	if (c->req.chunked) {
		done = read_chunked(c, in);
		if (done < 0) {
			respond_error(c, 400, "bad chunked body", true);
			return false;
		}
	} else {
		size_t avail = evbuffer_get_length(in);
		size_t n = c->body_left < avail ? (size_t)c->body_left : avail;

		evbuffer_remove_buffer(in, c->body, n);
		c->body_left -= n;
		done = c->body_left == 0;
	}
	if (c->req.mode == MODE_CLOSE && c->req.route != ROUTE_WHOAMI &&
	    half_in(c)) {
		log_debug("http", "%s: closing mid-body", c->req.path);
		conn_free(c);
		return false;
	}
	if (!done)
		return false;
	request_done(c);
	return c->state == CS_HEAD;
}

/* Handle what the input holds, as far as the state allows. */
static void
conn_process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	for (;;) {
		switch (c->state) {
		case CS_HEAD:
			if (evbuffer_get_length(in) == 0 || !start_request(c))
				return;
			break;
		case CS_BODY:
			if (!read_body(c))
				return;
			break;
		case CS_HANG:
		case CS_DRAINING:
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		case CS_WAIT:
		case CS_CLOSING:
			return;
		}
	}
}

/* --- bufferevent callbacks ------------------------------------------------*/

static void
conn_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_process(arg);
}

/* The output has drained completely. */
static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->state == CS_CLOSING)
		conn_linger(c);
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	/* A half-closed client still gets the answer it is owed. */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    (c->state == CS_HEAD || c->state == CS_CLOSING) &&
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		c->state = CS_CLOSING;
		return;
	}
	if ((what & BEV_EVENT_ERROR) && errno != 0)
		log_debug("http", "connection: %s", strerror(errno));
	conn_free(c);
}

/* The peer's address as the probe would know itself: IPv4-mapped IPv6 as
 * plain IPv4. */
static void
peer_text(const struct sockaddr *sa, char *out, size_t len)
{
	const struct in6_addr *a6;

	snprintf(out, len, "unknown");
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  out, (socklen_t)len);
	} else if (sa->sa_family == AF_INET6) {
		a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6))
			inet_ntop(AF_INET, &a6->s6_addr[12], out,
				  (socklen_t)len);
		else
			inet_ntop(AF_INET6, a6, out, (socklen_t)len);
	}
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
	  int salen, void *arg)
{
	struct fakecol *fc = arg;
	struct conn *c;
	int one = 1;

	(void)l;
	(void)salen;
	/* Answers go out at once, not after the client's delayed ACK. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = xcalloc(1, sizeof(*c));
	c->fc = fc;
	c->bev = bufferevent_socket_new(fc->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warn("http", "no bufferevent for a new connection");
		evutil_closesocket(fd);
		free(c);
		return;
	}
	peer_text(sa, c->peer, sizeof(c->peer));
	c->state = CS_HEAD;
	c->next = fc->conns;
	if (fc->conns != NULL)
		fc->conns->prev = c;
	fc->conns = c;
	bufferevent_setcb(c->bev, conn_read, conn_write, conn_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, IN_HIGH);
	conn_set_idle(c, true);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* --- set-up ---------------------------------------------------------------*/

static void
usage(FILE *f)
{
	fprintf(f, "usage: fakecollector --port-file FILE [--listen IP:PORT] "
		   "[--log FILE]\n"
		   "                     [--whoami-ip IP] [--whoami-asn ASN] "
		   "[--whoami-cc CC]\n"
		   "                     [--lifetime SECONDS] [--verbose]\n"
		   "Paths: /{ok,reject,500,503,404,hang,close,slow}/api/v1/"
		   "{measurements,whoami}, /stats\n"
		   "(tests/fakecollector/README.md)\n");
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{"port-file", required_argument, NULL, 'p'},
		{"listen", required_argument, NULL, 'l'},
		{"log", required_argument, NULL, 'L'},
		{"whoami-ip", required_argument, NULL, 'i'},
		{"whoami-asn", required_argument, NULL, 'a'},
		{"whoami-cc", required_argument, NULL, 'c'},
		{"lifetime", required_argument, NULL, 't'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->listen = "127.0.0.1:0";
	o->lifetime = DEFAULT_LIFETIME;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			o->port_file = optarg;
			break;
		case 'l':
			o->listen = optarg;
			break;
		case 'L':
			o->log = optarg;
			break;
		case 'i':
			o->whoami_ip = optarg;
			break;
		case 'a':
			/* The collector says "AS64500": so do we, given 64500
			 * or AS64500. */
			o->whoami_asn = optarg;
			if (optarg[0] >= '0' && optarg[0] <= '9') {
				snprintf(o->asn_buf, sizeof(o->asn_buf), "AS%s",
					 optarg);
				o->whoami_asn = o->asn_buf;
			}
			break;
		case 'c':
			o->whoami_cc = optarg;
			break;
		case 't':
			if (ww_parse_long(optarg, 1, MAX_LIFETIME,
					  &o->lifetime) < 0) {
				log_error("main", "bad --lifetime %s", optarg);
				return -1;
			}
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind < argc || o->port_file == NULL) {
		log_error("main", "--port-file FILE is required");
		return -1;
	}
	return 0;
}

/* "IP:PORT" or "[IPv6]:PORT", port 0 for any. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	const char *colon = strrchr(s, ':');
	char ip[INET6_ADDRSTRLEN + 2];
	size_t n;
	long port;

	if (colon == NULL || (n = (size_t)(colon - s)) >= sizeof(ip) ||
	    ww_parse_long(colon + 1, 0, 65535, &port) < 0)
		return -1;
	memcpy(ip, s, n);
	ip[n] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (n > 2 && ip[0] == '[' && ip[n - 1] == ']') {
		ip[n - 1] = '\0';
		if (inet_pton(AF_INET6, ip + 1, &s6->sin6_addr) != 1)
			return -1;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	}
	if (inet_pton(AF_INET, ip, &s4->sin_addr) != 1)
		return -1;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	*len = sizeof(*s4);
	return 0;
}

static int
bound_port(struct evconnlistener *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss,
			&len) < 0)
		return -1;
	return ntohs(ss.ss_family == AF_INET6
			     ? ((struct sockaddr_in6 *)&ss)->sin6_port
			     : ((struct sockaddr_in *)&ss)->sin_port);
}

/* "PORT\n" into path via a temporary file and rename(): never half-read. */
static int
write_port(const char *path, int port)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	int rc = -1;

	if (f == NULL) {
		log_error("main", "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	fprintf(f, "%d\n", port);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		log_error("main", "%s: %s", tmp, strerror(errno));
		fclose(f);
	} else if (fclose(f) != 0 || rename(tmp, path) != 0) {
		log_error("main", "%s: %s", path, strerror(errno));
	} else {
		rc = 0;
	}
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	if (fd >= 0)
		log_info("main", "signal %d: exiting", (int)fd);
	else
		log_info("main", "lifetime over: exiting");
	event_base_loopexit(arg, NULL);
}

int
main(int argc, char **argv)
{
	struct fakecol fc;
	struct evconnlistener *lst = NULL;
	struct event *ev_term = NULL, *ev_int = NULL, *ev_life = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	struct timeval life;
	int port, rc = 1;

	/* Clients hang up while we write (STYLE.md 6). */
	signal(SIGPIPE, SIG_IGN);
	ww_log_set_prog("fakecollector");
	memset(&fc, 0, sizeof(fc));
	if (parse_options(argc, argv, &fc.opt) < 0) {
		usage(stderr);
		return 2;
	}
	ww_log_set_level(fc.opt.verbose ? WW_LOG_DEBUG : WW_LOG_WARN);
	if (parse_listen(fc.opt.listen, &ss, &sslen) < 0) {
		log_error("main", "bad --listen %s (IP:PORT or [IPv6]:PORT)",
			  fc.opt.listen);
		return 2;
	}
	if (fc.opt.log != NULL && (fc.log = fopen(fc.opt.log, "a")) == NULL) {
		log_error("main", "%s: %s", fc.opt.log, strerror(errno));
		return 1;
	}
	fc.seen = json_object();
	fc.base = event_base_new();
	if (fc.base == NULL || fc.seen == NULL)
		abort();
	lst = evconnlistener_new_bind(fc.base, on_accept, &fc,
				      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
				      128, (struct sockaddr *)&ss, (int)sslen);
	if (lst == NULL || (port = bound_port(lst)) < 0) {
		log_error("main", "listen on %s: %s", fc.opt.listen,
			  strerror(errno));
		goto out;
	}
	ev_term = evsignal_new(fc.base, SIGTERM, on_stop, fc.base);
	ev_int = evsignal_new(fc.base, SIGINT, on_stop, fc.base);
	ev_life = evtimer_new(fc.base, on_stop, fc.base);
	life.tv_sec = (time_t)fc.opt.lifetime;
	life.tv_usec = 0;
	if (ev_term == NULL || ev_int == NULL || ev_life == NULL ||
	    event_add(ev_term, NULL) < 0 || event_add(ev_int, NULL) < 0 ||
	    event_add(ev_life, &life) < 0) {
		log_error("main", "cannot set up signals and timers");
		goto out;
	}
	if (write_port(fc.opt.port_file, port) < 0)
		goto out;
	printf("fakecollector ready\n");
	fflush(stdout);
	if (event_base_dispatch(fc.base) < 0) {
		log_error("main", "event loop failed");
		goto out;
	}
	rc = 0;
out:
	/* Reverse order of set-up (STYLE.md 6). */
	while (fc.conns != NULL)
		conn_free(fc.conns);
	if (ev_life != NULL)
		event_free(ev_life);
	if (ev_int != NULL)
		event_free(ev_int);
	if (ev_term != NULL)
		event_free(ev_term);
	if (lst != NULL)
		evconnlistener_free(lst);
	event_base_free(fc.base);
	json_decref(fc.seen);
	if (fc.log != NULL)
		fclose(fc.log);
	libevent_global_shutdown();
	return rc;
}
