/*
 * http.c - the HTTP step: one GET through libcurl's multi interface, its
 * host pinned to the addresses our own DNS step found (CURLOPT_RESOLVE), so
 * curl never resolves anything itself and the request goes where we measured.
 * Redirects are followed by the caller (measure.c), one request per hop, so
 * that every hop is recorded.
 *
 * Trust store: Debian's libcurl sets a default CA path, which disables
 * curl's CA-store cache, so each new HTTPS connection would re-parse the
 * whole system bundle (~40 ms of CPU per fetch). We unset CAINFO/CAPATH and
 * install the engine's one shared X509_STORE from CURLOPT_SSL_CTX_FUNCTION.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The kernel's struct tcp_info: glibc's copy stops before
 * tcpi_bytes_received (Linux 4.1). */
#include <linux/tcp.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "failure.h"
#include "htmltitle.h"
#include "internal.h"
#include "util.h"

#define HTTP_MAX_HEADERS 128
/* Sockets of one request whose flows we follow (curl opens one per
 * connect attempt: an address that fails, then the next). */
#define HTTP_MAX_FLOWS 8
#define HTTP_MAX_HEADER_BYTES (64 * 1024) /* all headers of one response */

static const char accept_hdr[] =
	"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
static const char accept_lang_hdr[] = "en-US,en;q=0.9";

struct http_op {
	struct ww_engine *e;
	CURL *easy;
	struct curl_slist *req_headers;
	struct ww_http *out;
	EVP_MD_CTX *sha;
	size_t header_bytes;
	size_t body_cap_alloc;
	bool capped;
	struct ma_wait wait;	 /* for memory (memacct.h) before it starts */
	struct curl_slist *pins; /* the caller's, until the transfer starts */
	CURLSH *cookies;
	double t_base;
	char errbuf[CURL_ERROR_SIZE];
	/* The capture's flows of curl's sockets, in opening order; id 0
	 * until curl has connected the socket (on_socket). */
	struct {
		int fd;
		int port;
		uint32_t id;
		double since; /* cap_clock() before curl's connect() */
		struct sockaddr_storage remote;
	} flows[HTTP_MAX_FLOWS];
	size_t n_flows;
	http_cb cb;
	void *arg;
};

static CURLcode
http_ssl_ctx_cb(CURL *curl, void *sslctx, void *parm)
{
	(void)curl;
	SSL_CTX_set1_cert_store(sslctx, parm);
	/* As in tls.c: free idle record buffers while waiting on the peer. */
	SSL_CTX_set_mode(sslctx, SSL_MODE_RELEASE_BUFFERS);
	return CURLE_OK;
}

void
http_use_engine_tls(CURL *c, struct ww_engine *e)
{
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
	curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, http_ssl_ctx_cb);
	curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, e->store);
}

/* A response byte came now: the transfer's first and last byte times. */
static void
note_byte(struct http_op *op)
{
	struct ww_transfer *t = &op->out->transfer;
	double now = ww_mono() - op->t_base - op->out->t0;

	if (!t->got_byte) {
		t->got_byte = true;
		t->t_first_byte = now;
	}
	t->t_last_byte = now;
}

/*
 * curl is closing one of the request's sockets (with FORBID_REUSE, always
 * before the transfer's end is reported, and for every connect attempt):
 * keep what the kernel counted on it. Over TLS curl's counts only move
 * when a whole record has come and decrypted; a shaper that lets 1 KB/s
 * through holds a 16 KB record for 16 s, so curl shows 0 bytes where the
 * wire shows a trickle. tcpi_bytes_received counts TCP payload (TLS
 * records whole or partial, the handshake included); tcpi_last_data_recv
 * is milliseconds since the last data segment (jiffy resolution).
 */
static void
note_wire(struct http_op *op, int fd)
{
	struct ww_transfer *t = &op->out->transfer;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	double now, last;

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_received) +
			    sizeof(ti.tcpi_bytes_received))
		return; /* not TCP, or a kernel before 4.1: unknown */
	t->wire_known = true;
	if (ti.tcpi_bytes_received == 0)
		return; /* a connect attempt that carried nothing */
	now = ww_mono() - op->t_base - op->out->t0;
	last = now - ti.tcpi_last_data_recv / 1000.0;
	if (last < 0)
		last = 0; /* jiffy rounding */
	if (t->wire_bytes == 0 || last > t->t_last_wire)
		t->t_last_wire = last;
	t->wire_bytes += ti.tcpi_bytes_received;
}

static int
close_cb(void *arg, curl_socket_t fd)
{
	struct http_op *op = arg;
	int rc;

	note_wire(op, fd);
	rc = close(fd);
	for (size_t i = 0; i < op->n_flows; i++)
		if (op->flows[i].fd == fd) {
			cap_flow_close(op->e->cap, op->flows[i].id);
			op->flows[i].fd = -1;
		}
	return rc;
}

/* With capture on: note curl's new socket, with the time before curl
 * connects it; on_socket() registers it once connected (capture.h). */
static void
note_socket(struct http_op *op, int fd, const struct sockaddr *remote,
	    socklen_t len)
{
	size_t n = op->n_flows;

	if (op->e->cap == NULL || n >= HTTP_MAX_FLOWS ||
	    len > sizeof(op->flows[n].remote))
		return;
	memset(&op->flows[n], 0, sizeof(op->flows[n]));
	op->flows[n].fd = fd;
	op->flows[n].since = cap_clock();
	memcpy(&op->flows[n].remote, remote, len);
	op->n_flows++;
}

/*
 * curl hands us a socket to watch for the first time: it has called
 * connect() on it, and the loop has not run since, so the capture has not
 * read its first packets yet. Register it now.
 */
static void
on_socket(CURL *easy, curl_socket_t s, void *arg)
{
	struct http_op *op = arg;
	const struct cap_flow *f;

	(void)easy;
	for (size_t i = 0; i < op->n_flows; i++) {
		if (op->flows[i].fd != s || op->flows[i].id != 0)
			continue;
		op->flows[i].id = cap_register_socket(
			op->e->cap, s, IPPROTO_TCP,
			(struct sockaddr *)&op->flows[i].remote,
			op->flows[i].since);
		f = cap_flow_get(op->e->cap, op->flows[i].id);
		if (f != NULL)
			op->flows[i].port = f->local_port;
	}
}

/*
 * The request's flow: the one of the connection curl used (its local
 * port), else the last one registered (a connect that failed); the others,
 * attempts that led nowhere, are forgotten.
 */
static void
pick_flow(struct http_op *op)
{
	long port = 0;
	size_t pick = op->n_flows;

	if (op->n_flows == 0)
		return;
	curl_easy_getinfo(op->easy, CURLINFO_LOCAL_PORT, &port);
	for (size_t i = 0; i < op->n_flows; i++)
		if (op->flows[i].id != 0 &&
		    (pick == op->n_flows || op->flows[pick].port != port))
			pick = i; /* the last registered, unless curl's own */
	if (pick == op->n_flows) {
		op->n_flows = 0; /* none was ever connected */
		return;
	}
	op->out->flow = op->flows[pick].id;
	for (size_t i = 0; i < op->n_flows; i++) {
		if (op->flows[i].fd >= 0) /* curl still holds it */
			cap_flow_close(op->e->cap, op->flows[i].id);
		if (i != pick)
			cap_flow_release(op->e->cap, op->flows[i].id);
	}
	op->n_flows = 0;
}

/*
 * Every socket curl opens, for every connect attempt of every address: the
 * control service refuses a private or reserved address here too, whatever
 * way curl came by it (our pins, an IP literal in the URL). Refused: curl
 * gets no socket and reports a failed connect.
 */
static curl_socket_t
open_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct http_op *op = arg;
	int fd;

	if (purpose != CURLSOCKTYPE_IPCXN ||
	    !ww_engine_allows_sa(op->e, &a->addr))
		return CURL_SOCKET_BAD;
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd >= 0 && a->socktype == SOCK_STREAM)
		note_socket(op, fd, &a->addr, a->addrlen);
	return fd;
}

static size_t
header_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct http_op *op = arg;
	struct ww_http *out = op->out;
	size_t len = size * n, end = len;
	const char *colon;

	note_byte(op);
	op->header_bytes += len;
	if (op->header_bytes > HTTP_MAX_HEADER_BYTES)
		return len; /* keep reading; stop recording */
	while (end > 0 && (buf[end - 1] == '\r' || buf[end - 1] == '\n'))
		end--;
	if (end >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		/* A new status line (after 1xx): start over. */
		for (size_t i = 0; i < out->n_headers; i++) {
			free(out->headers[i].name);
			free(out->headers[i].value);
		}
		out->n_headers = 0;
		return len;
	}
	colon = memchr(buf, ':', end);
	if (colon == NULL || colon == buf || out->n_headers >= HTTP_MAX_HEADERS)
		return len;
	{
		const char *v = colon + 1;

		while (v < buf + end && (*v == ' ' || *v == '\t'))
			v++;
		ww_add_header(&out->headers, &out->n_headers, &out->cap_headers,
			      buf, (size_t)(colon - buf), v,
			      (size_t)(buf + end - v));
	}
	return len;
}

static size_t
write_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct http_op *op = arg;
	struct ww_http *out = op->out;
	size_t len = size * n;

	note_byte(op);
	out->transfer.body_bytes += len;
	out->transfer.body_calls++;
	if (out->body_length + len > op->e->body_cap) {
		len = op->e->body_cap - (size_t)out->body_length;
		op->capped = true;
	}
	EVP_DigestUpdate(op->sha, buf, len);
	if (out->body_kept < WW_BODY_KEEP) {
		size_t take = WW_BODY_KEEP - out->body_kept;

		if (take > len)
			take = len;
		/* Grow as data comes: most bodies are far below the cap, and
		 * hundreds of requests may be in flight. */
		if (out->body_kept + take > op->body_cap_alloc) {
			size_t ncap =
				op->body_cap_alloc ? op->body_cap_alloc : 4096;

			while (ncap < out->body_kept + take)
				ncap *= 2;
			if (ncap > WW_BODY_KEEP)
				ncap = WW_BODY_KEEP;
			out->body = xrealloc(out->body, ncap);
			op->body_cap_alloc = ncap;
		}
		memcpy(out->body + out->body_kept, buf, take);
		out->body_kept += take;
	}
	out->body_length += len;
	return op->capped ? 0 : size * n; /* 0 stops the transfer */
}

const char *
http_failure_from_curl(CURL *easy, CURLcode res, const char *errbuf,
		       bool capped)
{
	long os_errno = 0, verify = 0;
	const char *f;

	curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
	switch (res) {
	case CURLE_OK:
		return NULL;
	case CURLE_WRITE_ERROR:
		return capped ? NULL : failure_unknown;
	case CURLE_OPERATION_TIMEDOUT:
		return failure_generic_timeout;
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return failure_eof;
	case CURLE_PEER_FAILED_VERIFICATION:
		curl_easy_getinfo(easy, CURLINFO_SSL_VERIFYRESULT, &verify);
		/* curl checks the name itself, before it stores OpenSSL's
		 * result (the placeholder is then !X509_V_OK, i.e. 1): with
		 * no real chain error, the name is what failed. */
		if (verify == X509_V_OK || verify == X509_V_ERR_UNSPECIFIED)
			return failure_ssl_invalid_hostname;
		return tls_failure_from_verify(verify);
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		if (os_errno != 0) {
			f = failure_from_errno((int)os_errno);
			if (f != failure_unknown)
				return f;
		}
		/* curl keeps the socket error only in its message here. */
		if (strstr(errbuf, "reset by peer") != NULL)
			return failure_connection_reset;
		if (strstr(errbuf, "nexpected eof") != NULL ||
		    strstr(errbuf, "SSL_ERROR_SYSCALL") != NULL)
			return failure_eof;
		if (res == CURLE_SSL_CONNECT_ERROR)
			return failure_ssl_failed_handshake;
		if (res == CURLE_RECV_ERROR)
			return failure_eof;
		return failure_unknown;
	default:
		return failure_unknown;
	}
}

/*
 * Bytes received: curl's header bytes (every response's, 1xx included) and
 * its body count, which is taken before content decoding (curl counts
 * what it reads off the connection, then decodes).
 */
static void
record_bytes(struct http_op *op)
{
	curl_off_t body = 0;
	long hdr = 0;

	curl_easy_getinfo(op->easy, CURLINFO_HEADER_SIZE, &hdr);
	curl_easy_getinfo(op->easy, CURLINFO_SIZE_DOWNLOAD_T, &body);
	op->out->transfer.bytes =
		(uint64_t)(hdr > 0 ? hdr : 0) + (uint64_t)(body > 0 ? body : 0);
}

static void
record_done(struct http_op *op, CURLcode res)
{
	struct ww_http *out = op->out;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned md_len = 0;
	long code = 0, ver = 0, port = 0;
	char *ip = NULL, *loc = NULL;
	const char *f;

	curl_easy_getinfo(op->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(op->easy, CURLINFO_HTTP_VERSION, &ver);
	curl_easy_getinfo(op->easy, CURLINFO_PRIMARY_IP, &ip);
	curl_easy_getinfo(op->easy, CURLINFO_PRIMARY_PORT, &port);
	curl_easy_getinfo(op->easy, CURLINFO_REDIRECT_URL, &loc);
	pick_flow(op);
	record_bytes(op);
	ww_engine_count_curl(op->e, op->easy);
	out->status = (int)code;
	if (ip != NULL && ip[0] != '\0') {
		out->ip = xstrdup(ip);
		out->port = (int)port;
	}
	if (code > 0) {
		out->http_version =
			xstrdup(ver == CURL_HTTP_VERSION_2_0   ? "2"
				: ver == CURL_HTTP_VERSION_1_0 ? "1.0"
							       : "1.1");
		EVP_DigestFinal_ex(op->sha, md, &md_len);
		ww_hex(md, md_len, out->body_sha256);
		out->title = ww_html_title(out->body, out->body_kept);
		if (loc != NULL &&
		    ww_utf8_valid((const unsigned char *)loc, strlen(loc)))
			out->location = xstrdup(loc);
	}
	out->body_truncated = op->capped;
	f = http_failure_from_curl(op->easy, res, op->errbuf, op->capped);
	if (f == failure_unknown) {
		char *d = xasprintf("%s%s%s", curl_easy_strerror(res),
				    op->errbuf[0] ? ": " : "", op->errbuf);

		ww_set_failure(&out->failure, &out->failure_detail, f, d);
		free(d);
	} else if (f != NULL) {
		ww_set_failure(&out->failure, &out->failure_detail, f,
			       op->errbuf[0] ? op->errbuf : NULL);
	}
}

static void
op_free(struct http_op *op)
{
	curl_easy_cleanup(op->easy);
	curl_slist_free_all(op->req_headers);
	EVP_MD_CTX_free(op->sha);
	free(op);
}

static void
done_cb(CURL *easy, CURLcode res, void *arg)
{
	struct http_op *op = arg;
	http_cb cb = op->cb;
	void *cb_arg = op->arg;
	struct ma_gate *gate = op->e->gate;

	(void)easy;
	record_done(op, res);
	op->out->t = ww_mono() - op->t_base;
	/* The record may wait a while (its job's DNS late window): keep
	 * the body's bytes, not the room grown for them. */
	if (op->out->body != NULL && op->out->body_kept > 0 &&
	    op->out->body_kept < op->body_cap_alloc)
		op->out->body = xrealloc(op->out->body, op->out->body_kept);
	op_free(op);
	ma_gate_leave(gate);
	cb(cb_arg);
}

static void
add_req_header(struct http_op *op, const char *name, const char *value)
{
	struct ww_http *out = op->out;
	char *line;

	ww_add_header(&out->request_headers, &out->n_request_headers,
		      &out->cap_request_headers, name, strlen(name), value,
		      strlen(value));
	if (strcmp(name, "User-Agent") == 0)
		return; /* set with CURLOPT_USERAGENT */
	line = xasprintf("%s: %s", name, value);
	op->req_headers = curl_slist_append(op->req_headers, line);
	free(line);
	if (op->req_headers == NULL)
		abort();
}

/* The curl handle, made when the transfer may start: hundreds of
 * transfers may wait for memory, and a handle is several KiB. */
static void
setup_easy(struct http_op *op)
{
	struct ww_engine *e = op->e;
	long ms = (long)(e->timeout * 1000.0);
	CURL *c;

	op->easy = c = curl_easy_init();
	if (c == NULL)
		abort();
	curl_easy_setopt(c, CURLOPT_URL, op->out->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_RESOLVE, op->pins);
	/* Never a proxy from the environment: we measure this network. */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	/* Each hop on its own connection, so every TLS handshake and every
	 * reset is the hop's own, never inherited from another target. */
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms);
	curl_easy_setopt(c, CURLOPT_USERAGENT, e->user_agent);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, op->req_headers);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	/* Cookies carry across a target's redirects, as in a browser (some
	 * sites loop without them); never across targets. */
	curl_easy_setopt(c, CURLOPT_SHARE, op->cookies);
	curl_easy_setopt(c, CURLOPT_COOKIEFILE, "");
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, op);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, op);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, op->errbuf);
	/* op outlives every socket of the transfer: FORBID_REUSE closes them
	 * in curl's multi_done(), before done_cb or inside http_cancel(). */
	curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
	curl_easy_setopt(c, CURLOPT_CLOSESOCKETDATA, op);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_cb);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, op);
	http_use_engine_tls(c, e);
	curl_easy_setopt(c, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	/* A smaller receive buffer than curl's 16 KiB: hundreds of requests
	 * may be in flight, and pages are small; big bodies just take more
	 * reads. */
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 8192L);
}

/* Add the transfer to curl: it starts now (its timeouts too). */
static void
http_go(void *arg)
{
	struct http_op *op = arg;

	op->out->t0 = ww_mono() - op->t_base;
	setup_easy(op);
	io_curl_add(op->e->curl, op->easy, done_cb, op);
	if (op->e->cap != NULL)
		io_curl_on_socket(op->e->curl, op->easy, on_socket);
}

struct http_op *
http_start(struct ww_engine *e, const char *url, struct curl_slist *pins,
	   CURLSH *cookies, struct ww_http *out, double t_base, http_cb cb,
	   void *arg)
{
	struct http_op *op = xcalloc(1, sizeof(*op));

	op->e = e;
	op->out = out;
	op->t_base = t_base;
	op->pins = pins;
	op->cookies = cookies;
	op->cb = cb;
	op->arg = arg;
	op->sha = EVP_MD_CTX_new();
	if (op->sha == NULL || !EVP_DigestInit_ex(op->sha, EVP_sha256(), NULL))
		abort();
	out->url = xstrdup(url);
	out->method = xstrdup("GET");
	out->t0 = ww_mono() - t_base;
	add_req_header(op, "Accept", accept_hdr);
	add_req_header(op, "Accept-Language", accept_lang_hdr);
	add_req_header(op, "User-Agent", e->user_agent);
	/* A new transfer waits for memory; its clock starts when it starts. */
	if (ma_gate_enter(e->gate, &op->wait, http_go, op))
		http_go(op);
	return op;
}

void
http_cancel(struct http_op *op)
{
	if (op == NULL)
		return;
	if (op->wait.queued) {
		ma_gate_cancel(op->e->gate, &op->wait);
	} else {
		io_curl_remove(op->e->curl, op->easy);
		pick_flow(op);
		ma_gate_leave(op->e->gate);
	}
	record_bytes(op);
	ww_set_failure(&op->out->failure, &op->out->failure_detail,
		       failure_interrupted, NULL);
	op->out->t = ww_mono() - op->t_base;
	op_free(op);
}
