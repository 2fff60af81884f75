/*
 * main.c - fakenet: options, listeners, ports.env, signals, lifetime.
 *
 *   fakenet --dir DIR [--lifetime SECONDS] [--bind ADDRESS] [--verbose]
 *           [--port KEY=[ADDRESS:]PORT]... [--zone FILE] [--dns-delay MS]
 *           [--geo-block CIDR] [--add-header "NAME: VALUE"]...
 *
 * Every listener takes an ephemeral port unless --port pins it (the censor
 * lab serves DNS on 53, HTTP on 80, HTTPS on 443); DIR/ports.env tells the
 * tests which, and "fakenet ready" on stdout says the file is complete.
 */
#include "fakenet.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/resource.h>

#include "util.h"

#define DEFAULT_LIFETIME 600
#define MAX_LIFETIME (7L * 24 * 3600)
#define MAX_DNS_DELAY_MS 10000
#define MAX_PINS 16

enum server_kind {
	SRV_HTTP,   /* HTTP/1.1, plain or TLS with site.ctx */
	SRV_SNI,    /* SNI filter in front of the good certificate */
	SRV_RESET,  /* RST after the first byte */
	SRV_SILENT, /* read, never answer */
};

struct server {
	const char *env; /* the ports.env key */
	enum server_kind kind;
	const char *cert; /* DIR/<cert>.pem and .key; NULL for plain */
	struct fake_site site;
	struct fake_listener *lst;
	struct fakenet *fn;
	const char *pin; /* --port value, or NULL: ephemeral on --bind */
};

#define SERVER(env_, kind_, cert_, scheme_)                                    \
	{                                                                      \
		.env = (env_), .kind = (kind_), .cert = (cert_),               \
		.site = {.scheme = (scheme_)},                                 \
	}

static struct server servers[] = {
	SERVER("HTTP_PORT", SRV_HTTP, NULL, "http"),
	SERVER("TLS_GOOD_PORT", SRV_HTTP, "good", "https"),
	SERVER("TLS_WRONG_PORT", SRV_HTTP, "wrong", "https"),
	SERVER("TLS_SELFSIGNED_PORT", SRV_HTTP, "selfsigned", "https"),
	SERVER("TLS_EXPIRED_PORT", SRV_HTTP, "expired", "https"),
	SERVER("TLS_RESET_PORT", SRV_RESET, NULL, "https"),
	SERVER("TLS_SILENT_PORT", SRV_SILENT, NULL, "https"),
	SERVER("TLS_SNI_PORT", SRV_SNI, "good", "https"),
	/* the good site behind a 4000 B/s shaper (tests/fake/README.md) */
	{.env = "TLS_SHAPED_PORT",
	 .kind = SRV_HTTP,
	 .cert = "good",
	 .site = {.scheme = "https", .shape_bps = 4000}},
	SERVER("TCP_OPEN_PORT", SRV_SILENT, NULL, "tcp"),
};

/* One SSL_CTX per certificate, shared by the listeners that serve it. */
static const char *const cert_names[] = {"good", "wrong", "selfsigned",
					 "expired"};
static SSL_CTX *cert_ctx[WW_ARRAY_LEN(cert_names)];

struct options {
	const char *dir;
	const char *bind;
	long lifetime;
	bool verbose;
	const char *zone;
	long dns_delay_ms;
	const char *geo_block;
	const char *dns_pin; /* --port DNS_PORT=..., or NULL */
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: fakenet --dir DIR [--lifetime SECONDS] "
		   "[--bind ADDRESS] [--verbose]\n"
		   "               [--port KEY=[ADDRESS:]PORT]... "
		   "[--zone FILE] [--dns-delay MS]\n"
		   "               [--geo-block CIDR] "
		   "[--add-header \"NAME: VALUE\"]...\n");
}

/* --port KEY=VALUE: remember VALUE for the listener whose ports.env key is
 * KEY; it is parsed once --bind is known. */
static int
parse_pin(struct options *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t n, i;

	if (eq == NULL || eq[1] == '\0')
		return -1;
	n = (size_t)(eq - arg);
	if (strlen("DNS_PORT") == n && strncmp(arg, "DNS_PORT", n) == 0) {
		o->dns_pin = eq + 1;
		return 0;
	}
	for (i = 0; i < WW_ARRAY_LEN(servers); i++) {
		if (strlen(servers[i].env) == n &&
		    strncmp(arg, servers[i].env, n) == 0) {
			servers[i].pin = eq + 1;
			return 0;
		}
	}
	return -1;
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"lifetime", required_argument, NULL, 'l'},
		{"bind", required_argument, NULL, 'b'},
		{"verbose", no_argument, NULL, 'v'},
		{"port", required_argument, NULL, 'p'},
		{"zone", required_argument, NULL, 'z'},
		{"dns-delay", required_argument, NULL, 'D'},
		{"geo-block", required_argument, NULL, 'g'},
		{"add-header", required_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	o->dir = NULL;
	o->bind = "127.0.0.1";
	o->lifetime = DEFAULT_LIFETIME;
	o->verbose = false;
	o->zone = NULL;
	o->dns_delay_ms = 0;
	o->geo_block = NULL;
	o->dns_pin = NULL;
	while ((c = getopt_long(argc, argv, "d:l:b:vp:z:D:g:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dir = optarg;
			break;
		case 'l':
			if (ww_parse_long(optarg, 1, MAX_LIFETIME,
					  &o->lifetime) < 0) {
				fprintf(stderr, "fakenet: bad --lifetime %s\n",
					optarg);
				return -1;
			}
			break;
		case 'b':
			o->bind = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'p':
			if (parse_pin(o, optarg) < 0) {
				fprintf(stderr,
					"fakenet: bad --port %s (KEY=PORT or "
					"KEY=ADDRESS:PORT, KEY from "
					"ports.env)\n",
					optarg);
				return -1;
			}
			break;
		case 'z':
			o->zone = optarg;
			break;
		case 'D':
			if (ww_parse_long(optarg, 0, MAX_DNS_DELAY_MS,
					  &o->dns_delay_ms) < 0) {
				fprintf(stderr, "fakenet: bad --dns-delay %s\n",
					optarg);
				return -1;
			}
			break;
		case 'g':
			o->geo_block = optarg;
			break;
		case 'H': /* lab only: a transparent proxy's headers */
			if (fake_http_add_header(optarg) < 0) {
				fprintf(stderr,
					"fakenet: bad --add-header \"%s\" "
					"(NAME: VALUE, printable, at most %d)\n",
					optarg, FAKE_ADD_HEADERS_MAX);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (o->dir == NULL || optind != argc)
		return -1;
	return 0;
}

/* An address, no port: listeners add their own (0, ephemeral). */
static int
parse_bind(struct fakenet *fn, const char *addr)
{
	int len = (int)sizeof(fn->bind_addr);

	memset(&fn->bind_addr, 0, sizeof(fn->bind_addr));
	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&fn->bind_addr,
				       &len) < 0)
		return -1;
	if (fn->bind_addr.ss_family == AF_INET) {
		if (((struct sockaddr_in *)&fn->bind_addr)->sin_port != 0)
			return -1;
	} else if (fn->bind_addr.ss_family == AF_INET6) {
		if (((struct sockaddr_in6 *)&fn->bind_addr)->sin6_port != 0)
			return -1;
	} else {
		return -1;
	}
	fn->bind_len = (socklen_t)len;
	return 0;
}

/*
 * A --port value: "PORT" (on the --bind address) or "ADDRESS:PORT" (IPv6
 * in brackets). Fills ss and len; -1 if malformed.
 */
static int
parse_pin_addr(const struct fakenet *fn, const char *v,
	       struct sockaddr_storage *ss, socklen_t *len)
{
	int n = (int)sizeof(*ss);
	long port;

	if (strchr(v, ':') == NULL) {
		if (ww_parse_long(v, 0, 65535, &port) < 0)
			return -1;
		*ss = fn->bind_addr;
		*len = fn->bind_len;
		if (ss->ss_family == AF_INET)
			((struct sockaddr_in *)ss)->sin_port =
				htons((uint16_t)port);
		else
			((struct sockaddr_in6 *)ss)->sin6_port =
				htons((uint16_t)port);
		return 0;
	}
	memset(ss, 0, sizeof(*ss));
	if (evutil_parse_sockaddr_port(v, (struct sockaddr *)ss, &n) < 0)
		return -1;
	*len = (socklen_t)n;
	return 0;
}

static SSL_CTX *
ctx_for(const char *cert)
{
	size_t i;

	for (i = 0; i < WW_ARRAY_LEN(cert_names); i++)
		if (strcmp(cert_names[i], cert) == 0)
			return cert_ctx[i];
	return NULL;
}

static void
server_accept(struct fake_listener *l, int fd, void *arg)
{
	struct server *s = arg;

	(void)l;
	switch (s->kind) {
	case SRV_HTTP:
		fake_http_conn_new(s->fn, &s->site, fd);
		break;
	case SRV_SNI:
		fake_sni_conn_new(s->fn, &s->site, fd);
		break;
	case SRV_RESET:
		fake_rst_after_read_new(s->fn, fd);
		break;
	case SRV_SILENT:
		fake_hold_new(s->fn, fd);
		break;
	}
}

/*
 * A port nobody listens on: bound but never listen()ed, so connects get a
 * RST (ECONNREFUSED) while no other process can take the number meanwhile.
 */
static int
closed_port_new(struct fakenet *fn, int *port)
{
	int fd;

	fd = socket(fn->bind_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&fn->bind_addr, fn->bind_len) < 0 ||
	    (*port = fake_sock_port(fd)) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Write DIR/ports.env via a temporary file and rename(): never half-read. */
static int
write_ports(const char *dir, const struct fake_dns *dns, int closed_port)
{
	char *path = xasprintf("%s/ports.env", dir);
	char *tmp = xasprintf("%s/.ports.env.%ld", dir, (long)getpid());
	FILE *f;
	size_t i;
	int rc = -1;

	f = fopen(tmp, "w");
	if (f == NULL) {
		log_error("main", "%s: %s", tmp, strerror(errno));
		goto done;
	}
	fprintf(f, "DNS_PORT=%d\n", fake_dns_port(dns));
	for (i = 0; i < WW_ARRAY_LEN(servers); i++)
		fprintf(f, "%s=%d\n", servers[i].env, servers[i].site.port);
	fprintf(f, "TCP_CLOSED_PORT=%d\n", closed_port);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		log_error("main", "%s: %s", tmp, strerror(errno));
		fclose(f);
		goto unlink;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		log_error("main", "%s: %s", path, strerror(errno));
		goto unlink;
	}
	rc = 0;
	goto done;
unlink:
	unlink(tmp);
done:
	free(path);
	free(tmp);
	return rc;
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("main", "signal %d: exiting", (int)sig);
	event_base_loopexit(arg, NULL);
}

static void
on_lifetime(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	log_info("main", "lifetime over: exiting");
	event_base_loopexit(arg, NULL);
}

/* Hundreds of benchmark clients plus held sockets: use the hard limit. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_debug("main", "setrlimit: %s", strerror(errno));
	}
}

int
main(int argc, char **argv)
{
	struct options opt;
	struct fakenet fn;
	struct fake_dns *dns = NULL;
	struct event *ev_term = NULL, *ev_int = NULL, *ev_life = NULL;
	struct timeval life;
	struct sockaddr_storage pin;
	socklen_t pinlen;
	int closed_fd = -1, closed_port = 0, rc = 1;
	size_t i;

	/* Peers hang up while we write (STYLE.md 6). */
	signal(SIGPIPE, SIG_IGN);
	ww_log_set_prog("fakenet");
	if (parse_options(argc, argv, &opt) < 0) {
		usage(stderr);
		return 2;
	}
	ww_log_set_level(opt.verbose ? WW_LOG_DEBUG : WW_LOG_WARN);
	raise_nofile();

	memset(&fn, 0, sizeof(fn));
	fn.conns.next = fn.conns.prev = &fn.conns;
	if (parse_bind(&fn, opt.bind) < 0) {
		log_error("main", "bad --bind address %s", opt.bind);
		return 2;
	}
	fn.base = event_base_new();
	if (fn.base == NULL) {
		log_error("main", "event_base_new failed");
		return 1;
	}
	fake_http_init();
	if (opt.geo_block != NULL && fake_http_geo_block(opt.geo_block) < 0) {
		log_error("main", "bad --geo-block %s (a.b.c.d/n)",
			  opt.geo_block);
		goto out;
	}
	if (opt.zone != NULL && fake_dns_load_zone(opt.zone) < 0)
		goto out; /* logged with file:line */

	for (i = 0; i < WW_ARRAY_LEN(cert_names); i++) {
		cert_ctx[i] = fake_tls_ctx_new(opt.dir, cert_names[i]);
		if (cert_ctx[i] == NULL)
			goto out; /* logged; did mkcerts.sh run? */
	}

	if (opt.dns_pin != NULL) {
		if (parse_pin_addr(&fn, opt.dns_pin, &pin, &pinlen) < 0) {
			log_error("main", "bad --port DNS_PORT=%s",
				  opt.dns_pin);
			goto out;
		}
		dns = fake_dns_new(&fn, (struct sockaddr *)&pin, pinlen,
				   (int)opt.dns_delay_ms);
	} else {
		dns = fake_dns_new(&fn, NULL, 0, (int)opt.dns_delay_ms);
	}
	if (dns == NULL)
		goto out;
	for (i = 0; i < WW_ARRAY_LEN(servers); i++) {
		struct server *s = &servers[i];

		s->fn = &fn;
		if (s->cert != NULL)
			s->site.ctx = ctx_for(s->cert);
		if (s->pin == NULL) {
			s->lst = fake_listener_new(&fn, 0, server_accept, s);
		} else if (parse_pin_addr(&fn, s->pin, &pin, &pinlen) < 0) {
			log_error("main", "bad --port %s=%s", s->env, s->pin);
			goto out;
		} else {
			s->lst = fake_listener_new_at(&fn,
						      (struct sockaddr *)&pin,
						      pinlen, server_accept, s);
		}
		if (s->lst == NULL) {
			log_error("main", "%s: listen on %s: %s", s->env,
				  s->pin != NULL ? s->pin : opt.bind,
				  strerror(errno));
			goto out;
		}
		s->site.port = fake_listener_port(s->lst);
	}
	closed_fd = closed_port_new(&fn, &closed_port);
	if (closed_fd < 0) {
		log_error("main", "TCP_CLOSED_PORT: %s", strerror(errno));
		goto out;
	}

	ev_term = evsignal_new(fn.base, SIGTERM, on_signal, fn.base);
	ev_int = evsignal_new(fn.base, SIGINT, on_signal, fn.base);
	ev_life = evtimer_new(fn.base, on_lifetime, fn.base);
	life.tv_sec = (time_t)opt.lifetime;
	life.tv_usec = 0;
	if (ev_term == NULL || ev_int == NULL || ev_life == NULL ||
	    event_add(ev_term, NULL) < 0 || event_add(ev_int, NULL) < 0 ||
	    event_add(ev_life, &life) < 0) {
		log_error("main", "cannot set up signals and timers");
		goto out;
	}

	if (write_ports(opt.dir, dns, closed_port) < 0)
		goto out;
	printf("fakenet ready\n");
	fflush(stdout);

	if (event_base_dispatch(fn.base) < 0) {
		log_error("main", "event loop failed");
		goto out;
	}
	rc = 0;
out:
	/* Reverse order of set-up (STYLE.md 6). */
	fake_conn_close_all(&fn);
	if (closed_fd >= 0)
		close(closed_fd);
	for (i = 0; i < WW_ARRAY_LEN(servers); i++) {
		fake_listener_free(servers[i].lst);
		servers[i].lst = NULL;
	}
	fake_dns_free(dns);
	fake_dns_free_zone();
	if (ev_life != NULL)
		event_free(ev_life);
	if (ev_int != NULL)
		event_free(ev_int);
	if (ev_term != NULL)
		event_free(ev_term);
	for (i = 0; i < WW_ARRAY_LEN(cert_names); i++)
		SSL_CTX_free(cert_ctx[i]);
	event_base_free(fn.base);
	libevent_global_shutdown();
	return rc;
}
