/*
 * io_ares.c - c-ares on our libevent base (c-ares 1.18: sock_state_cb +
 * ares_process_fd + ares_timeout). c-ares has no per-socket user pointer in
 * this version, so we keep a small fd -> event table.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util.h"

struct watch {
	ares_socket_t fd;
	struct event *ev;
};

struct io_ares {
	struct event_base *base;
	ares_channel ch;
	struct event *timer;
	struct watch *watches;
	size_t n_watches, cap_watches;
	char server[64]; /* "ip:port" of the first server */
};

struct query_ctx {
	io_ares_cb cb;
	void *arg;
};

static void arm_timer(struct io_ares *io);

static void
unwatch(struct io_ares *io, ares_socket_t fd)
{
	for (size_t i = 0; i < io->n_watches; i++) {
		if (io->watches[i].fd != fd)
			continue;
		event_free(io->watches[i].ev);
		io->watches[i] = io->watches[--io->n_watches];
		return;
	}
}

static void
io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct io_ares *io = arg;

	ares_process_fd(io->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
			(what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	arm_timer(io);
}

static void
sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct io_ares *io = data;
	short what = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);
	struct watch *w;

	unwatch(io, fd);
	if (what == 0) /* c-ares is closing the socket */
		return;
	w = WW_PUSH(io->watches, io->n_watches, io->cap_watches);
	w->fd = fd;
	w->ev = event_new(io->base, fd, what | EV_PERSIST, io_cb, io);
	if (w->ev == NULL)
		abort();
	event_add(w->ev, NULL);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct io_ares *io = arg;

	(void)fd;
	(void)what;
	ares_process_fd(io->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	arm_timer(io);
}

/* Re-arm the one timer from c-ares' own idea of its next timeout. */
static void
arm_timer(struct io_ares *io)
{
	struct timeval tv, *tvp;

	tvp = ares_timeout(io->ch, NULL, &tv);
	if (tvp == NULL) {
		evtimer_del(io->timer);
		return;
	}
	evtimer_add(io->timer, tvp);
}

/*
 * Accept "IPv4", "IPv4:port", "IPv6", "[IPv6]" or "[IPv6]:port" and produce
 * c-ares' CSV form. Returns 0 or -1 with a message.
 */
static int
parse_resolver(const char *s, char *csv, size_t csvlen, char *err,
	       size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL;
	unsigned char buf[16];
	long p = 53;
	size_t hl;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL)
			goto bad;
		hl = (size_t)(end - s - 1);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			goto bad;
		if (inet_pton(AF_INET6, host, buf) != 1)
			goto bad;
	} else if (inet_pton(AF_INET6, s, buf) == 1) {
		snprintf(host, sizeof(host), "%s", s);
	} else {
		const char *colon = strchr(s, ':');

		hl = colon ? (size_t)(colon - s) : strlen(s);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (colon)
			port = colon + 1;
		if (inet_pton(AF_INET, host, buf) != 1)
			goto bad;
	}
	if (port != NULL && ww_parse_long(port, 1, 65535, &p) != 0) {
		snprintf(err, errlen, "bad port in resolver \"%s\"", s);
		return -1;
	}
	if (strchr(host, ':'))
		snprintf(csv, csvlen, "[%s]:%ld", host, p);
	else
		snprintf(csv, csvlen, "%s:%ld", host, p);
	return 0;
bad:
	snprintf(err, errlen,
		 "bad resolver \"%s\": want an IP address, IP:PORT or "
		 "[IPv6]:PORT",
		 s);
	return -1;
}

int
ww_resolver_check(const char *s, char *err, size_t errlen)
{
	char csv[80];

	return parse_resolver(s, csv, sizeof(csv), err, errlen);
}

static void
first_server(struct io_ares *io)
{
	struct ares_addr_port_node *servers = NULL;
	char ip[INET6_ADDRSTRLEN];

	snprintf(io->server, sizeof(io->server), "unknown");
	if (ares_get_servers_ports(io->ch, &servers) != ARES_SUCCESS ||
	    servers == NULL)
		return;
	if (servers->family == AF_INET) {
		inet_ntop(AF_INET, &servers->addr.addr4, ip, sizeof(ip));
		snprintf(io->server, sizeof(io->server), "%s:%d", ip,
			 servers->udp_port ? servers->udp_port : 53);
	} else if (servers->family == AF_INET6) {
		inet_ntop(AF_INET6, &servers->addr.addr6, ip, sizeof(ip));
		snprintf(io->server, sizeof(io->server), "[%s]:%d", ip,
			 servers->udp_port ? servers->udp_port : 53);
	}
	ares_free_data(servers);
}

struct io_ares *
io_ares_new(struct event_base *base, const char *resolver, double timeout,
	    char *err, size_t errlen)
{
	struct io_ares *io = xcalloc(1, sizeof(*io));
	struct ares_options opts;
	char csv[80];
	int rc, mask;

	if (resolver != NULL &&
	    parse_resolver(resolver, csv, sizeof(csv), err, errlen) != 0)
		goto fail;
	rc = ares_library_init(ARES_LIB_INIT_ALL);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		goto fail;
	}
	memset(&opts, 0, sizeof(opts));
	/*
	 * NOCHECKRESP: hand us SERVFAIL/REFUSED replies instead of silently
	 * trying the next server; a censor's REFUSED is an observation.
	 * Two tries whose timeouts (T, then 2T in c-ares 1.18) add up to the
	 * step timeout; dns.c also enforces the step deadline itself.
	 */
	opts.flags = ARES_FLAG_NOCHECKRESP;
	opts.tries = 2;
	opts.timeout = (int)(timeout * 1000.0 / 3.0);
	if (opts.timeout < 100)
		opts.timeout = 100;
	opts.sock_state_cb = sock_state_cb;
	opts.sock_state_cb_data = io;
	mask = ARES_OPT_FLAGS | ARES_OPT_TRIES | ARES_OPT_TIMEOUTMS |
	       ARES_OPT_SOCK_STATE_CB;
	io->base = base;
	rc = ares_init_options(&io->ch, &opts, mask);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: cannot initialise: %s",
			 ares_strerror(rc));
		io->ch = NULL;
		goto fail;
	}
	if (resolver != NULL) {
		rc = ares_set_servers_ports_csv(io->ch, csv);
		if (rc != ARES_SUCCESS) {
			snprintf(err, errlen, "c-ares: bad resolver %s: %s",
				 resolver, ares_strerror(rc));
			goto fail;
		}
	}
	first_server(io);
	io->timer = evtimer_new(base, timer_cb, io);
	if (io->timer == NULL)
		abort();
	return io;
fail:
	io_ares_free(io);
	return NULL;
}

void
io_ares_free(struct io_ares *io)
{
	if (io == NULL)
		return;
	if (io->ch != NULL)
		ares_destroy(io->ch); /* runs pending callbacks first */
	while (io->n_watches > 0)
		unwatch(io, io->watches[0].fd);
	free(io->watches);
	if (io->timer != NULL)
		event_free(io->timer);
	free(io);
	ares_library_cleanup();
}

static void
query_done(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query_ctx *q = arg;

	(void)timeouts;
	q->cb(q->arg, status, abuf, abuf != NULL ? alen : 0);
	free(q);
}

void
io_ares_query(struct io_ares *io, const char *name, int type, io_ares_cb cb,
	      void *arg)
{
	struct query_ctx *q = xmalloc(sizeof(*q));

	q->cb = cb;
	q->arg = arg;
	ares_query(io->ch, name, 1 /* C_IN */, type, query_done, q);
	arm_timer(io);
}

const char *
io_ares_server(const struct io_ares *io)
{
	return io->server;
}
