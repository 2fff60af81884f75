/*
 * fakenet.h - the loopback servers the integration tests and the benchmark
 * measure against (see tests/fake/README.md).
 *
 * One thread, one event_base. main.c owns the process (options, ports.env,
 * signals, lifetime); net.c the shared listener and raw-socket helpers;
 * dns.c the DNS server; http.c the HTTP/1.1 responder over plain TCP or
 * TLS; tls.c the SSL_CTXs and the raw TLS misbehaviours (reset, silence,
 * SNI filter).
 */
#ifndef WW_FAKENET_H
#define WW_FAKENET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

/* Connections waiting for a request or a handshake are closed after this. */
#define FAKE_IDLE_SECS 30
#define FAKE_BACKLOG 1024

/*
 * Every live connection embeds one of these first, so that shutdown can
 * close whatever is still open (valgrind stays quiet) without each module
 * keeping its own list.
 */
struct fake_conn {
	struct fake_conn *prev, *next;
	/* Closes the connection, unlinks it and frees it. */
	void (*close)(struct fake_conn *c);
};

/* A TCP listener plus the timer that re-enables it after EMFILE. */
struct fake_listener;
typedef void (*fake_accept_fn)(struct fake_listener *l, int fd, void *arg);

struct fakenet {
	struct event_base *base;
	struct sockaddr_storage bind_addr; /* port 0 */
	socklen_t bind_len;
	struct fake_conn conns; /* list head, circular */
	size_t nconns;
};

/* net.c -------------------------------------------------------------------*/

void fake_conn_link(struct fakenet *fn, struct fake_conn *c,
		    void (*close_fn)(struct fake_conn *c));
void fake_conn_unlink(struct fakenet *fn, struct fake_conn *c);
/* Close every linked connection (at shutdown). */
void fake_conn_close_all(struct fakenet *fn);

/*
 * Listen on fn->bind_addr with the given port (0: ephemeral). accept_fn gets
 * each new non-blocking socket and owns it. Returns NULL with errno set.
 */
struct fake_listener *fake_listener_new(struct fakenet *fn, int port,
					fake_accept_fn accept_fn, void *arg);
/* The same on another address (its port included, 0: ephemeral). */
struct fake_listener *fake_listener_new_at(struct fakenet *fn,
					   const struct sockaddr *sa,
					   socklen_t salen,
					   fake_accept_fn accept_fn, void *arg);
/* The port actually bound. */
int fake_listener_port(const struct fake_listener *l);
void fake_listener_free(struct fake_listener *l);

/* The local port of a bound socket, or -1. */
int fake_sock_port(int fd);
/* Close fd so that the peer sees a TCP RST (SO_LINGER {1, 0}). */
void fake_close_rst(int fd);
/* TCP_NODELAY: responses go out in one or two writes, never wait on ACKs. */
void fake_sock_nodelay(int fd);

/* Read and discard until the peer closes; takes fd. */
void fake_hold_new(struct fakenet *fn, int fd);
/* Wait for at least one byte (or FAKE_IDLE_SECS), then RST; takes fd. */
void fake_rst_after_read_new(struct fakenet *fn, int fd);

/* dns.c -------------------------------------------------------------------*/

struct fake_dns;

/*
 * The answer to one DNS query in wire format (RFC 1035 4.1). Returns the
 * length written to out (at most cap), or 0 when no reply must be sent
 * (unreadable header, a response, or silent.lab.test). Answers from the
 * zone loaded by fake_dns_load_zone() if any, else from the built-in
 * lab.test table.
 */
size_t fake_dns_answer(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap);
/*
 * Replace the built-in table with a zone file (README.md, "Zone files"):
 * "$ORIGIN name" once, then "name address..." lines. Returns 0, or -1 after
 * logging file:line and what is wrong. Call before serving.
 */
int fake_dns_load_zone(const char *path);
/* Free the loaded zone (back to the built-in table). */
void fake_dns_free_zone(void);
/*
 * UDP server plus, when the same port is free, TCP. at: the address and
 * port to bind (NULL: fn->bind_addr, ephemeral; a fixed port must then be
 * free for both). delay_ms: how long each UDP answer waits before it is
 * sent. NULL on error.
 */
struct fake_dns *fake_dns_new(struct fakenet *fn, const struct sockaddr *at,
			      socklen_t atlen, int delay_ms);
int fake_dns_port(const struct fake_dns *d);
void fake_dns_free(struct fake_dns *d);

/* http.c ------------------------------------------------------------------*/

/* How a listener answers: scheme and port for /redirect-abs, TLS or not. */
struct fake_site {
	const char *scheme; /* "http" or "https" */
	int port;
	SSL_CTX *ctx; /* NULL for plain HTTP; not owned */
	/* TLS only: bytes per second the socket lets out, under whole TLS
	 * records (a shaper on the path, not a slow server); 0: no limit */
	size_t shape_bps;
};

/* Build the canned bodies; call once before serving. */
void fake_http_init(void);
/*
 * /geo451 answers 451 to IPv4 peers inside cidr ("a.b.c.d/n"), the lab page
 * to everyone else (with no call: to everyone). Returns 0, -1 if malformed.
 */
int fake_http_geo_block(const char *cidr);
/*
 * Lab only: one more header line ("Name: value", visible ASCII and spaces,
 * a colon after a non-empty name) in every response, as a transparent
 * proxy adds its Via or X-Cache. At most FAKE_ADD_HEADERS_MAX; the string
 * must outlive the server. Returns 0, or -1 when malformed or too many.
 */
#define FAKE_ADD_HEADERS_MAX 4
int fake_http_add_header(const char *line);
/*
 * Serve HTTP/1.1 on an accepted socket, behind TLS when site->ctx is set.
 * Takes fd, also on error. site must outlive the connection.
 */
void fake_http_conn_new(struct fakenet *fn, const struct fake_site *site,
			int fd);

/* tls.c -------------------------------------------------------------------*/

/* Server context for DIR/NAME.pem and DIR/NAME.key; NULL on error. */
SSL_CTX *fake_tls_ctx_new(const char *dir, const char *name);

/*
 * Find the server_name (RFC 6066 3) in the first TLS record of buf.
 * Returns 1 and a NUL-terminated lower-case host in out when found, 0 when
 * the record is complete (or garbage) and has none, -1 when more bytes are
 * needed to decide.
 */
int fake_tls_sni(const uint8_t *buf, size_t len, char *out, size_t cap);

/*
 * SNI filter: peek the ClientHello, RST for blocked.lab.test, hold for
 * dropped.lab.test, otherwise pass the untouched socket to site. Takes fd.
 */
void fake_sni_conn_new(struct fakenet *fn, const struct fake_site *site,
		       int fd);

#endif
