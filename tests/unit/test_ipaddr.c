/*
 * test_ipaddr.c - which addresses are bogons, and which the control
 * service refuses: every IPv6 form that carries an IPv4 address is judged
 * by that IPv4 address (issue 12); and the engine's last check right
 * before connect().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "internal.h"
#include "ipaddr.h"
#include "util.h"

struct ip_case {
	const char *ip;
	bool bogon;   /* ww_ip_is_bogon */
	bool refused; /* ww_ip_is_refused */
};

static const struct ip_case cases[] = {
	/* plain IPv4 and IPv6 */
	{"8.8.8.8", false, false},
	{"127.0.0.1", true, true},
	{"10.1.2.3", true, true},
	{"2606:4700::1111", false, false},
	{"::1", true, true},
	{"::", true, true},
	{"fd00::1", true, true},
	/* IPv4-mapped */
	{"::ffff:127.0.0.1", true, true},
	{"::ffff:10.0.0.1", true, true},
	{"::ffff:8.8.8.8", false, false},
	/* IPv4-compatible (deprecated) */
	{"::127.0.0.1", true, true},
	{"::192.168.0.1", true, true},
	{"::8.8.8.8", false, false},
	/* SIIT IPv4-translated */
	{"::ffff:0:127.0.0.1", true, true},
	{"::ffff:0:8.8.8.8", false, false},
	/* NAT64 well-known prefix */
	{"64:ff9b::7f00:1", true, true},
	{"64:ff9b::127.0.0.1", true, true},
	{"64:ff9b::a9fe:a9fe", true, true}, /* 169.254.169.254 */
	{"64:ff9b::808:808", false, false},
	/* NAT64 local-use /48: refused whole by the control; not judged
	 * by its IPv4 address for the analysis (its layout is local) */
	{"64:ff9b:1:7f00:0:100::", false, true},
	{"64:ff9b:1:a00:1:200::", false, true},
	{"64:ff9b:1:808:8:800::", false, true},
	{"64:ff9b:1::808:808", false, true},
	{"64:ff9b:2::7f00:1", false, false}, /* outside both prefixes */
	/* 6to4 */
	{"2002:7f00:1::1", true, true},
	{"2002:c0a8:101::1", true, true}, /* 192.168.1.1 */
	{"2002:808:808::1", false, false},
	/* Teredo: server 65.54.227.120, client 127.0.0.1 inverted */
	{"2001:0:4136:e378:8000:63bf:80ff:fffe", true, true},
	/* server 10.0.0.1 (private), client public 8.8.8.8 */
	{"2001:0:a00:1::f7f7:f7f7", true, true},
	/* both public: server 65.54.227.120, client 8.8.8.8 */
	{"2001:0:4136:e378::f7f7:f7f7", false, false},
	/* ISATAP interface identifiers under a public prefix */
	{"2606:4700::5efe:a00:1", true, true},
	{"2606:4700::200:5efe:c0a8:101", true, true},
	{"2606:4700::200:5efe:808:808", false, false},
	/* not addresses */
	{"example.com", false, true},
	{"[::1]", false, true},
	{"", false, true},
};

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(cases); i++) {
		const struct ip_case *c = &cases[i];

		if (ww_ip_is_bogon(c->ip) != c->bogon)
			fail_msg("%s: bogon should be %d", c->ip, c->bogon);
		if (ww_ip_is_refused(c->ip) != c->refused)
			fail_msg("%s: refused should be %d", c->ip, c->refused);
	}
	assert_false(ww_ip_is_bogon(NULL));
	assert_true(ww_ip_is_refused(NULL));
}

static void
test_embedded(void **state)
{
	unsigned char a[16], v4[2][4];

	(void)state;
	assert_int_equal(inet_pton(AF_INET6,
				   "2001:0:4136:e378:8000:63bf:"
				   "80ff:fffe",
				   a),
			 1);
	assert_int_equal(ww_ip6_embedded_v4(a, v4, 2), 2);
	assert_memory_equal(v4[0], "\x7f\x00\x00\x01", 4); /* client */
	assert_memory_equal(v4[1], "\x41\x36\xe3\x78", 4); /* server */
	/* max bounds what is written */
	assert_int_equal(ww_ip6_embedded_v4(a, v4, 1), 1);
	assert_int_equal(ww_ip6_embedded_v4(a, v4, 0), 0);
	assert_int_equal(inet_pton(AF_INET6, "64:ff9b:1:c0a8:1:200::", a), 1);
	assert_int_equal(ww_ip6_embedded_v4(a, v4, 2), 1);
	assert_memory_equal(v4[0], "\xc0\xa8\x01\x02", 4);
	assert_int_equal(inet_pton(AF_INET6, "2606:4700::1111", a), 1);
	assert_int_equal(ww_ip6_embedded_v4(a, v4, 2), 0);
}

/* --- the last check before connect() ------------------------------------ */

struct connect_result {
	bool done;
	int fd;
	const char *failure;
};

static void
connected(void *arg, int fd, const char *failure, const char *detail)
{
	struct connect_result *r = arg;

	(void)detail;
	r->done = true;
	r->fd = fd;
	r->failure = failure;
}

/* A loopback listener; its port in *port. */
static int
listener(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* tcp_start to ip:port on an engine serving controls (allow_private as
 * given); the listener then says whether anyone connected. */
static void
try_connect(bool allow_private, const char *ip, bool want_connect)
{
	struct event_base *base = event_base_new();
	struct ww_config cfg;
	struct ww_engine *e;
	struct connect_result r = {false, -1, NULL};
	char err[256];
	int port, lfd = listener(&port), afd;

	memset(&cfg, 0, sizeof(cfg));
	cfg.resolver = "127.0.0.1:1";
	cfg.timeout = 5;
	cfg.max_addrs = 4;
	cfg.control_service = true;
	cfg.allow_private = allow_private;
	e = ww_engine_new(base, &cfg, err, sizeof(err));
	assert_non_null(e);
	tcp_start(e, ip, port, connected, &r);
	while (!r.done)
		event_base_loop(base, EVLOOP_ONCE);
	afd = accept(lfd, NULL, NULL);
	if (want_connect) {
		assert_true(r.fd >= 0);
		assert_true(afd >= 0);
	} else {
		if (r.fd >= 0 || afd >= 0)
			fail_msg("%s: connected though refused", ip);
		assert_string_equal(r.failure, "permission_denied");
	}
	if (r.fd >= 0)
		close(r.fd);
	if (afd >= 0)
		close(afd);
	close(lfd);
	ww_engine_free(e);
	event_base_free(base);
}

static void
test_connect_refused(void **state)
{
	(void)state;
	/* ::ffff:127.0.0.1 reaches 127.0.0.1 on Linux: refused before. */
	try_connect(false, "::ffff:127.0.0.1", false);
	try_connect(false, "127.0.0.1", false);
	/* --allow-private: the lab's loopback servers are reachable */
	try_connect(true, "::ffff:127.0.0.1", true);
	try_connect(true, "127.0.0.1", true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_embedded),
		cmocka_unit_test(test_connect_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
