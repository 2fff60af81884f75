/*
 * tls.c - the TLS step: a non-blocking OpenSSL client handshake on a
 * connected socket, with an explicit SNI.
 *
 * We handshake with SSL_VERIFY_NONE and read the verification result
 * afterwards: the handshake then completes even with a forged certificate,
 * so the measurement keeps the chain a man-in-the-middle presented (the
 * evidence), while "verified" and the failure string still say it did not
 * verify. The trust store is the engine's one shared X509_STORE.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "certinfo.h"
#include "failure.h"
#include "internal.h"
#include "util.h"

/* At most this many peer certificates are recorded (a chain is 2-4). */
#define TLS_MAX_CHAIN 10

struct tls_op {
	struct ww_engine *e;
	struct event *ev;
	SSL *ssl;
	int fd;
	struct ww_tls *out;
	double t_base, deadline;
	tls_cb cb;
	void *arg;
};

/* Does dir hold certificates under their subject hashes ("1a2b3c4d.0",
 * what `openssl rehash` and Debian's ca-certificates make)? */
static bool
hashed_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	if (d == NULL)
		return false;
	while (!found && (de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		size_t i = 0;

		while (i < 8 && isxdigit((unsigned char)n[i]))
			i++;
		found = i == 8 && n[8] == '.' && isdigit((unsigned char)n[9]);
	}
	closedir(d);
	return found;
}

/*
 * The trust store. A directory of hashed certificates is read as needed:
 * a handshake looks up its issuer by hash, and only the CAs the targets
 * use are ever parsed and kept. A PEM bundle is parsed whole (~1 MiB of
 * heap for a system's 140 roots, a tenth of a small router's budget).
 * So the default is the system's directory when it is hashed, and
 * OpenSSL's default paths (its bundle too) otherwise, or when
 * SSL_CERT_FILE names a bundle on purpose.
 */
X509_STORE *
tls_store_load(const char *ca_file, char *err, size_t errlen)
{
	X509_STORE *store = X509_STORE_new();
	const char *dir_env = getenv(X509_get_default_cert_dir_env());
	const char *dir =
		dir_env != NULL ? dir_env : X509_get_default_cert_dir();
	int ok;

	if (store == NULL)
		abort();
	if (ca_file != NULL && ww_is_dir(ca_file))
		ok = X509_STORE_load_path(store, ca_file);
	else if (ca_file != NULL)
		ok = X509_STORE_load_file(store, ca_file);
	else if (getenv(X509_get_default_cert_file_env()) == NULL &&
		 hashed_dir(dir))
		ok = X509_STORE_load_path(store, dir);
	else
		ok = X509_STORE_set_default_paths(store);
	if (ok != 1) {
		char buf[256];

		ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
		snprintf(err, errlen, "cannot load CA %s%s: %s",
			 ca_file ? "file " : "store", ca_file ? ca_file : "",
			 buf);
		ERR_clear_error();
		X509_STORE_free(store);
		return NULL;
	}
	return store;
}

SSL_CTX *
tls_ctx_new(X509_STORE *store, char *err, size_t errlen)
{
	static const unsigned char alpn[] = "\x02h2\x08http/1.1";
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		snprintf(err, errlen, "cannot create TLS context");
		return NULL;
	}
	SSL_CTX_set1_cert_store(ctx, store);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* Every handshake is a full one: a resumed session would skip the
	 * certificate, which is what we are here to see. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	/* Idle buffers are freed: many handshakes wait on the network. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
	return ctx;
}

const char *
tls_failure_from_verify(long v)
{
	switch (v) {
	case X509_V_OK:
		return NULL;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return failure_ssl_invalid_hostname;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return failure_ssl_unknown_authority;
	default:
		return failure_ssl_invalid_certificate;
	}
}

static void
finish(struct tls_op *op)
{
	tls_cb cb = op->cb;
	void *arg = op->arg;

	op->out->t = ww_mono() - op->t_base;
	if (SSL_get_rbio(op->ssl) != NULL)
		op->e->bytes += BIO_number_read(SSL_get_rbio(op->ssl)) +
				BIO_number_written(SSL_get_wbio(op->ssl));
	event_free(op->ev);
	SSL_free(op->ssl);
	close(op->fd);
	free(op);
	cb(arg);
}

static void
record_success(struct tls_op *op)
{
	struct ww_tls *out = op->out;
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(op->ssl);
	const unsigned char *alpn = NULL;
	unsigned alpn_len = 0;
	const SSL_CIPHER *c = SSL_get_current_cipher(op->ssl);
	long v;

	out->handshake_done = true;
	out->tls_version = xstrdup(SSL_get_version(op->ssl));
	if (c != NULL)
		out->cipher_suite = xstrdup(SSL_CIPHER_standard_name(c));
	SSL_get0_alpn_selected(op->ssl, &alpn, &alpn_len);
	if (alpn_len > 0 && ww_utf8_valid(alpn, alpn_len))
		out->negotiated_protocol =
			xstrndup((const char *)alpn, alpn_len);
	if (chain != NULL) {
		int n = sk_X509_num(chain);

		if (n > TLS_MAX_CHAIN)
			n = TLS_MAX_CHAIN;
		out->certs = xcalloc((size_t)n, sizeof(*out->certs));
		for (int i = 0; i < n; i++)
			ww_cert_from_x509(sk_X509_value(chain, i),
					  &out->certs[i]);
		out->n_certs = (size_t)n;
	}
	v = SSL_get_verify_result(op->ssl);
	if (chain == NULL && v == X509_V_OK)
		v = X509_V_ERR_UNSPECIFIED; /* no certificate at all */
	out->verified = v == X509_V_OK;
	if (!out->verified) {
		out->verify_error = xstrdup(X509_verify_cert_error_string(v));
		ww_set_failure(&out->failure, &out->failure_detail,
			       tls_failure_from_verify(v), out->verify_error);
	}
}

static void
record_error(struct tls_op *op, int ssl_err, int saved_errno)
{
	struct ww_tls *out = op->out;
	unsigned long e = ERR_peek_error();
	char buf[256];

	if (ssl_err == SSL_ERROR_SYSCALL && saved_errno != 0) {
		const char *f = failure_from_errno(saved_errno);

		ww_set_failure(&out->failure, &out->failure_detail, f,
			       strerror(saved_errno));
	} else if (ssl_err == SSL_ERROR_SYSCALL ||
		   ssl_err == SSL_ERROR_ZERO_RETURN ||
		   (ssl_err == SSL_ERROR_SSL &&
		    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
		/* The peer closed mid-handshake: what a silent filter that
		 * FINs the connection looks like. */
		ww_set_failure(&out->failure, &out->failure_detail, failure_eof,
			       "unexpected EOF during handshake");
	} else {
		ERR_error_string_n(e, buf, sizeof(buf));
		ww_set_failure(&out->failure, &out->failure_detail,
			       failure_ssl_failed_handshake, buf);
	}
	ERR_clear_error();
}

static void io_cb(evutil_socket_t fd, short what, void *arg);

static void
run(struct tls_op *op)
{
	struct timeval tv;
	double left;
	int rc, err, saved;

	ERR_clear_error();
	errno = 0;
	rc = SSL_connect(op->ssl);
	saved = errno;
	if (rc == 1) {
		record_success(op);
		finish(op);
		return;
	}
	err = SSL_get_error(op->ssl, rc);
	if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
		record_error(op, err, saved);
		finish(op);
		return;
	}
	left = op->deadline - ww_mono();
	if (left <= 0) {
		ww_set_failure(&op->out->failure, &op->out->failure_detail,
			       failure_generic_timeout, NULL);
		finish(op);
		return;
	}
	tv.tv_sec = (time_t)left;
	tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
	event_del(op->ev);
	event_assign(op->ev, op->e->base, op->fd,
		     err == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE, io_cb,
		     op);
	event_add(op->ev, &tv);
}

static void
io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tls_op *op = arg;

	(void)fd;
	if (what & EV_TIMEOUT) {
		ww_set_failure(&op->out->failure, &op->out->failure_detail,
			       failure_generic_timeout, NULL);
		finish(op);
		return;
	}
	run(op);
}

struct tls_op *
tls_start(struct ww_engine *e, int fd, struct ww_tls *out, double t_base,
	  tls_cb cb, void *arg)
{
	struct tls_op *op = xcalloc(1, sizeof(*op));
	unsigned char ipbuf[16];
	const char *name = out->server_name;
	bool is_ip = inet_pton(AF_INET, name, ipbuf) == 1 ||
		     inet_pton(AF_INET6, name, ipbuf) == 1;

	op->e = e;
	op->fd = fd;
	op->out = out;
	op->t_base = t_base;
	op->deadline = ww_mono() + e->timeout;
	op->cb = cb;
	op->arg = arg;
	op->ssl = SSL_new(e->ssl_ctx);
	if (op->ssl == NULL)
		abort();
	SSL_set_fd(op->ssl, fd);
	SSL_set_connect_state(op->ssl);
	/* RFC 6066 section 3: no IP literals in SNI; verify the IP instead. */
	if (is_ip) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(op->ssl), name);
	} else {
		SSL_set_tlsext_host_name(op->ssl, name);
		SSL_set1_host(op->ssl, name);
	}
	op->ev = event_new(e->base, fd, EV_WRITE, io_cb, op);
	if (op->ev == NULL)
		abort();
	/* First flight from the loop, so cb never runs inside tls_start. */
	event_active(op->ev, EV_WRITE, 0);
	return op;
}

void
tls_cancel(struct tls_op *op)
{
	if (op == NULL)
		return;
	event_free(op->ev);
	SSL_free(op->ssl);
	close(op->fd);
	free(op);
}
