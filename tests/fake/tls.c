/*
 * tls.c - server SSL_CTXs, and the SNI filter that looks at a ClientHello
 * without consuming it, the way a middlebox does.
 */
#include "fakenet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "util.h"

/* A TLSPlaintext record carries at most 2^14 bytes (RFC 8446 5.1). */
#define TLS_RECORD_HDR 5
#define TLS_RECORD_MAX 16384
/* Without EV_ET support, how often to peek at a partial ClientHello. */
#define SNI_POLL_MS 10

/* --- contexts --------------------------------------------------------------*/

static void
log_ssl_errors(const char *what, const char *path)
{
	unsigned long e;
	char buf[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_error("tls", "%s %s: %s", what, path, buf);
	}
}

/* Offer only HTTP/1.1: our responder speaks nothing else. */
static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
	    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char ours[] = "\x08http/1.1";
	unsigned char *sel;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, ours, sizeof(ours) - 1, in,
				  inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

SSL_CTX *
fake_tls_ctx_new(const char *dir, const char *name)
{
	SSL_CTX *ctx;
	char *pem = xasprintf("%s/%s.pem", dir, name);
	char *key = xasprintf("%s/%s.key", dir, name);

	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		log_ssl_errors("SSL_CTX_new", name);
		goto done;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, pem) != 1) {
		log_ssl_errors("certificate", pem);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_ssl_errors("private key", key);
		goto fail;
	}
	/* Client-initiated renegotiation is a CPU sink we do not need. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)name,
				       (unsigned int)strlen(name));
	goto done;
fail:
	SSL_CTX_free(ctx);
	ctx = NULL;
done:
	free(pem);
	free(key);
	return ctx;
}

/* --- ClientHello parsing ---------------------------------------------------*/

struct cur {
	const uint8_t *p;
	size_t len;
};

static bool
take(struct cur *c, size_t n, struct cur *sub)
{
	if (n > c->len)
		return false;
	if (sub != NULL) {
		sub->p = c->p;
		sub->len = n;
	}
	c->p += n;
	c->len -= n;
	return true;
}

static bool
take_u8(struct cur *c, size_t *v)
{
	if (c->len < 1)
		return false;
	*v = c->p[0];
	return take(c, 1, NULL);
}

static bool
take_u16(struct cur *c, size_t *v)
{
	if (c->len < 2)
		return false;
	*v = (size_t)c->p[0] << 8 | c->p[1];
	return take(c, 2, NULL);
}

/* A length-prefixed vector: u8 or u16 length, then that many bytes. */
static bool
take_vec(struct cur *c, int lenbytes, struct cur *sub)
{
	size_t n;

	if (!(lenbytes == 1 ? take_u8(c, &n) : take_u16(c, &n)))
		return false;
	return take(c, n, sub);
}

/* server_name extension body (RFC 6066 3): first host_name wins. */
static int
sni_from_ext(struct cur ext, char *out, size_t cap)
{
	struct cur list, name;
	size_t type, i;

	if (!take_vec(&ext, 2, &list))
		return 0;
	while (list.len > 0) {
		if (!take_u8(&list, &type) || !take_vec(&list, 2, &name))
			return 0;
		if (type != 0)
			continue;
		if (name.len == 0 || name.len >= cap)
			return 0;
		for (i = 0; i < name.len; i++) {
			uint8_t ch = name.p[i];

			if (ch == '\0')
				return 0;
			if (ch >= 'A' && ch <= 'Z')
				ch = (uint8_t)(ch - 'A' + 'a');
			out[i] = (char)ch;
		}
		out[name.len] = '\0';
		return 1;
	}
	return 0;
}

int
fake_tls_sni(const uint8_t *buf, size_t len, char *out, size_t cap)
{
	struct cur rec, hs, exts, ext;
	size_t reclen, hslen, type;

	if (len >= 1 && buf[0] != 22)
		return 0; /* not a handshake record: not TLS, no SNI */
	if (len >= 2 && buf[1] != 3)
		return 0;
	if (len < TLS_RECORD_HDR)
		return -1;
	reclen = (size_t)buf[3] << 8 | buf[4];
	if (reclen == 0 || reclen > TLS_RECORD_MAX)
		return 0;
	if (len < TLS_RECORD_HDR + reclen)
		return -1;
	rec.p = buf + TLS_RECORD_HDR;
	rec.len = reclen;

	/* Handshake header: msg_type client_hello(1), uint24 length. */
	if (!take_u8(&rec, &type) || type != 1 || rec.len < 3)
		return 0;
	hslen = (size_t)rec.p[0] << 16 | (size_t)rec.p[1] << 8 | rec.p[2];
	take(&rec, 3, NULL);
	/* A hello split over several records is parsed as far as this one
	 * goes: the server_name extension usually comes early. */
	hs = rec;
	if (hslen < hs.len)
		hs.len = hslen;

	/* legacy_version, random, session_id, cipher_suites, compression. */
	if (!take(&hs, 2 + 32, NULL) || !take_vec(&hs, 1, NULL) ||
	    !take_vec(&hs, 2, NULL) || !take_vec(&hs, 1, NULL))
		return 0;
	if (!take_vec(&hs, 2, &exts)) {
		/* Truncated extensions block: use what this record has. */
		if (hs.len < 2)
			return 0;
		exts.p = hs.p + 2;
		exts.len = hs.len - 2;
	}
	while (exts.len >= 4) {
		if (!take_u16(&exts, &type) || !take_vec(&exts, 2, &ext))
			return 0;
		if (type == 0)
			return sni_from_ext(ext, out, cap);
	}
	return 0;
}

/* --- the SNI filter --------------------------------------------------------*/

struct sni_conn {
	struct fake_conn c; /* first */
	struct fakenet *fn;
	const struct fake_site *site;
	struct event *ev;
	struct event *poll; /* only without EV_ET */
	double deadline;
	int fd;
};

static void
sni_free(struct sni_conn *s)
{
	fake_conn_unlink(s->fn, &s->c);
	event_free(s->ev);
	if (s->poll != NULL)
		event_free(s->poll);
	free(s);
}

static void
sni_close(struct fake_conn *c)
{
	struct sni_conn *s = WW_CONTAINER_OF(c, struct sni_conn, c);

	close(s->fd);
	sni_free(s);
}

/* Peek; returns true when s is done with (closed or handed on). */
static bool
sni_try(struct sni_conn *s)
{
	static uint8_t peek[TLS_RECORD_HDR + TLS_RECORD_MAX];
	struct fakenet *fn = s->fn;
	const struct fake_site *site = s->site;
	char host[256];
	ssize_t n;
	int r, fd = s->fd;

	n = recv(fd, peek, sizeof(peek), MSG_PEEK);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		sni_close(&s->c);
		return true;
	}
	if (n < 0)
		return false;
	r = fake_tls_sni(peek, (size_t)n, host, sizeof(host));
	if (r < 0)
		return false;
	sni_free(s); /* the socket lives on */
	if (r == 1 && strcmp(host, "blocked.lab.test") == 0) {
		log_debug("sni", "blocked.lab.test: reset");
		fake_close_rst(fd);
	} else if (r == 1 && strcmp(host, "dropped.lab.test") == 0) {
		log_debug("sni", "dropped.lab.test: silence");
		fake_hold_new(fn, fd);
	} else {
		fake_http_conn_new(fn, site, fd);
	}
	return true;
}

static void
sni_ready(evutil_socket_t fd, short what, void *arg)
{
	struct sni_conn *s = arg;
	struct timeval tv = {0, SNI_POLL_MS * 1000};

	(void)fd;
	if (what & EV_TIMEOUT) {
		sni_close(&s->c); /* idle: no full ClientHello in time */
		return;
	}
	/* Level-triggered, a partial hello would wake us again at once. */
	if (!sni_try(s) && s->poll != NULL)
		evtimer_add(s->poll, &tv);
}

/* Without EV_ET: look again a little later, within the same deadline. */
static void
sni_poll(evutil_socket_t fd, short what, void *arg)
{
	struct sni_conn *s = arg;
	double left = s->deadline - ww_mono();
	struct timeval tv;

	(void)fd;
	(void)what;
	if (left <= 0) {
		sni_close(&s->c);
		return;
	}
	tv.tv_sec = (time_t)left;
	tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
	event_add(s->ev, &tv);
}

void
fake_sni_conn_new(struct fakenet *fn, const struct fake_site *site, int fd)
{
	struct sni_conn *s = xcalloc(1, sizeof(*s));
	struct timeval idle = {FAKE_IDLE_SECS, 0};
	bool et = (event_base_get_features(fn->base) & EV_FEATURE_ET) != 0;

	s->fn = fn;
	s->site = site;
	s->fd = fd;
	s->deadline = ww_mono() + FAKE_IDLE_SECS;
	fake_conn_link(fn, &s->c, sni_close);
	/*
	 * MSG_PEEK leaves the bytes queued, so a level-triggered event would
	 * fire again at once for a partial hello; edge-triggered waits for
	 * more to arrive.
	 */
	if (et) {
		s->ev = event_new(fn->base, fd, EV_READ | EV_PERSIST | EV_ET,
				  sni_ready, s);
		event_add(s->ev, &idle);
	} else {
		s->ev = event_new(fn->base, fd, EV_READ, sni_ready, s);
		s->poll = evtimer_new(fn->base, sni_poll, s);
		event_add(s->ev, &idle);
	}
}
