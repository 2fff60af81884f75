/*
 * test_xdrivers.c - the protocol drivers (engine/core/xd_*.c) on what a
 * real network hands them that is not their protocol: over TCP, an HTTP
 * error from a transparent proxy (seen on a real network: it crashed the
 * OpenVPN driver once, which read a frame longer than the bytes it had),
 * a frame cut across reads; over UDP, garbage of every short length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "target.h"
#include "util.h"
#include "xdrivers.h"

static struct ww_xdriver *
driver(const char *input)
{
	struct ww_target t;
	char err[256];
	struct ww_xdriver *d;

	if (ww_target_parse(input, &t, err, sizeof(err)) != 0)
		fail_msg("%s: %s", input, err);
	switch (t.kind) {
	case WW_TARGET_OPENVPN:
		d = ww_xd_openvpn(&t, NULL);
		break;
	case WW_TARGET_IKEV2:
		d = ww_xd_ikev2(&t);
		break;
	case WW_TARGET_WIREGUARD:
		d = ww_xd_wireguard(&t, NULL);
		break;
	default:
		d = ww_xd_quic(t.host, "handshake", false);
		break;
	}
	ww_target_clear(&t);
	return d;
}

static enum ww_xnext
feed(struct ww_xdriver *d, const void *buf, size_t len, struct ww_xseen *s)
{
	unsigned char out[WW_XDRIVER_MAX_PACKET];
	size_t out_len = 99;

	memset(s, 0, sizeof(*s));
	return d->reply(d->st, buf, len, s, out, sizeof(out), &out_len);
}

static void
test_openvpn_tcp_proxy(void **state)
{
	static const char http[] = "HTTP/1.1 400 Bad Request\r\nconnection: "
				   "close\r\ncontent-length: 0\r\n\r\n";
	struct ww_xdriver *d = driver("openvpn://vpn.example:443?"
				      "transport=tcp");
	struct ww_xseen s;

	(void)state;
	assert_int_equal(feed(d, http, sizeof(http) - 1, &s), WW_XNEXT_WAIT);
	assert_null(s.kind);
	assert_false(s.ours);
	assert_false(s.proves_up);
	assert_string_equal(s.note,
			    "not an OpenVPN frame: a length of 18516 bytes");
	ww_xdriver_free(d);
}

/* A frame's bytes as they come, one read more each time: never a read
 * past them, and no answer from a packet not yet whole. */
static void
test_openvpn_tcp_partial(void **state)
{
	/* a server's reset frame header: length 26, opcode 8 << 3 */
	unsigned char frame[28] = {0x00, 0x1a, 0x40};
	struct ww_xdriver *d = driver("openvpn://vpn.example:443?"
				      "transport=tcp");
	struct ww_xseen s;

	(void)state;
	for (size_t n = 0; n < sizeof(frame); n++) {
		unsigned char *copy = xmalloc(n > 0 ? n : 1);

		memcpy(copy, frame, n);
		assert_int_equal(feed(d, copy, n, &s), WW_XNEXT_WAIT);
		assert_null(s.kind);
		assert_false(s.proves_up);
		free(copy);
	}
	ww_xdriver_free(d);
}

/* UDP: every short prefix of garbage is no answer, and no crash. */
static void
test_udp_garbage(void **state)
{
	static const char *const inputs[] = {
		"openvpn://vpn.example:1194",
		"ikev2://vpn.example",
		"wireguard://vpn.example:51820?pubkey="
		"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
		"quic://www.example.org",
	};
	unsigned char junk[1300];

	(void)state;
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 37 + 11);
	for (size_t k = 0; k < WW_ARRAY_LEN(inputs); k++) {
		struct ww_xdriver *d = driver(inputs[k]);

		for (size_t n = 0; n <= sizeof(junk); n += 7) {
			unsigned char *copy = xmalloc(n > 0 ? n : 1);
			struct ww_xseen s;

			memcpy(copy, junk, n);
			(void)feed(d, copy, n, &s);
			assert_false(s.proves_up);
			assert_false(s.ours);
			free(copy);
		}
		ww_xdriver_free(d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openvpn_tcp_proxy),
		cmocka_unit_test(test_openvpn_tcp_partial),
		cmocka_unit_test(test_udp_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
