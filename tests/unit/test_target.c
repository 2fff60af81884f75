/*
 * test_target.c - ww_target_parse() and friends: what is accepted, what the
 * parsed target holds, and the exact message for each rejection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "target.h"
#include "util.h"

/* Parse input, which must succeed; the caller clears *t. */
#define NO_SCHEME                                                                   \
	"no scheme (want http://, https://, tcp://, tls://, openvpn://, ikev2://, " \
	"wireguard:// or quic://)"

static void
parse_ok(const char *input, struct ww_target *t)
{
	char err[256] = "";
	int rc = ww_target_parse(input, t, err, sizeof(err));

	if (rc != 0)
		print_error("unexpected error for \"%s\": %s\n", input, err);
	assert_int_equal(rc, 0);
	assert_string_equal(t->input, input);
}

/* Parse input, which must fail with exactly want; *t must be left zeroed. */
static void
parse_bad(const char *input, const char *want)
{
	static const struct ww_target zero;
	struct ww_target t;
	char err[256] = "";

	memset(&t, 0xa5, sizeof(t));
	assert_int_equal(ww_target_parse(input, &t, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_memory_equal(&t, &zero, sizeof(t));
}

static void
test_http_default_port(void **state)
{
	struct ww_target t;

	(void)state;
	parse_ok("http://example.com/", &t);
	assert_int_equal(t.kind, WW_TARGET_HTTP);
	assert_string_equal(t.host, "example.com");
	assert_int_equal(t.port, 80);
	assert_false(t.host_is_ip);
	assert_null(t.category_code);
	assert_null(t.source);
	ww_target_clear(&t);

	parse_ok("http://example.com", &t);
	assert_int_equal(t.port, 80);
	ww_target_clear(&t);

	/* an empty port is the default one (RFC 3986 section 3.2.3) */
	parse_ok("http://example.com:/", &t);
	assert_int_equal(t.port, 80);
	ww_target_clear(&t);
}

static void
test_https_keeps_input(void **state)
{
	struct ww_target t;

	(void)state;
	parse_ok("https://www.bbc.com/news?a=1&b=%20#top", &t);
	assert_int_equal(t.kind, WW_TARGET_HTTPS);
	assert_string_equal(t.host, "www.bbc.com");
	assert_int_equal(t.port, 443);
	ww_target_clear(&t);
}

static void
test_case_folding(void **state)
{
	struct ww_target t;

	(void)state;
	parse_ok("HTTPS://WWW.Example.COM:8443/Path/To", &t);
	assert_int_equal(t.kind, WW_TARGET_HTTPS);
	assert_string_equal(t.host, "www.example.com");
	assert_int_equal(t.port, 8443);
	ww_target_clear(&t);

	parse_ok("Tls://Mullvad.NET:443", &t);
	assert_int_equal(t.kind, WW_TARGET_TLS);
	assert_string_equal(t.host, "mullvad.net");
	ww_target_clear(&t);
}

static void
test_tcp_tls(void **state)
{
	struct ww_target t;

	(void)state;
	parse_ok("tcp://mullvad.net:443", &t);
	assert_int_equal(t.kind, WW_TARGET_TCP);
	assert_string_equal(t.host, "mullvad.net");
	assert_int_equal(t.port, 443);
	ww_target_clear(&t);

	parse_ok("tls://api.protonvpn.ch:443", &t);
	assert_int_equal(t.kind, WW_TARGET_TLS);
	assert_int_equal(t.port, 443);
	ww_target_clear(&t);

	parse_ok("tcp://192.0.2.7:1194", &t);
	assert_true(t.host_is_ip);
	assert_int_equal(t.port, 1194);
	ww_target_clear(&t);

	parse_ok("tls://[2001:db8::53]:853", &t);
	assert_string_equal(t.host, "2001:db8::53");
	assert_true(t.host_is_ip);
	assert_int_equal(t.port, 853);
	ww_target_clear(&t);
}

static void
test_tcp_tls_rules(void **state)
{
	(void)state;
	parse_bad("tcp://mullvad.net", "tcp:// target needs a port");
	parse_bad("tls://mullvad.net", "tls:// target needs a port");
	parse_bad("tls://mullvad.net:", "tls:// target needs a port");
	parse_bad("tcp://mullvad.net:443/",
		  "tcp:// target takes no path, query or fragment");
	parse_bad("tls://mullvad.net:443/api",
		  "tls:// target takes no path, query or fragment");
	parse_bad("tls://mullvad.net:443?x",
		  "tls:// target takes no path, query or fragment");
	parse_bad("tcp://mullvad.net:443#x",
		  "tcp:// target takes no path, query or fragment");
}

#define WGKEY "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="

static void
test_vpn_targets(void **state)
{
	struct ww_target t;

	(void)state;
	parse_ok("openvpn://vpn.example.com:1194", &t);
	assert_int_equal(t.kind, WW_TARGET_OPENVPN);
	assert_true(ww_target_is_vpn(t.kind));
	assert_true(t.udp);
	assert_int_equal(t.port, 1194);
	assert_int_equal(t.wrap, WW_OVPN_WRAP_NONE);
	assert_int_equal(t.key_direction, -1);
	ww_target_clear(&t);

	parse_ok("OpenVPN://vpn.example.com:443?transport=tcp", &t);
	assert_false(t.udp);
	ww_target_clear(&t);

	parse_ok("openvpn://192.0.2.1:1194?wrap=tls-auth&key-direction=1"
		 "&key=/etc/ta.key",
		 &t);
	assert_int_equal(t.wrap, WW_OVPN_WRAP_TLS_AUTH);
	assert_string_equal(t.auth, "sha1"); /* OpenVPN's default */
	assert_int_equal(t.key_direction, 1);
	assert_string_equal(t.key_file, "/etc/ta.key");
	ww_target_clear(&t);

	parse_ok("openvpn://[2001:db8::1]:1194?wrap=tls-crypt&key=k%20x", &t);
	assert_int_equal(t.wrap, WW_OVPN_WRAP_TLS_CRYPT);
	assert_string_equal(t.key_file, "k x");
	assert_null(t.auth);
	ww_target_clear(&t);

	parse_ok("ikev2://vpn.example.com", &t);
	assert_int_equal(t.kind, WW_TARGET_IKEV2);
	assert_int_equal(t.port, 500);
	assert_true(t.udp);
	ww_target_clear(&t);
	parse_ok("ikev2://vpn.example.com:4500", &t);
	assert_int_equal(t.port, 4500);
	ww_target_clear(&t);

	parse_ok("quic://www.example.com", &t);
	assert_int_equal(t.kind, WW_TARGET_QUIC);
	assert_int_equal(t.port, 443);
	ww_target_clear(&t);

	/* base64's "+", "/" and "=" written as they are or %-encoded */
	parse_ok("wireguard://wg.example.com:51820?pubkey=" WGKEY, &t);
	assert_int_equal(t.kind, WW_TARGET_WIREGUARD);
	assert_string_equal(t.pubkey, WGKEY);
	assert_null(t.key_file);
	ww_target_clear(&t);
	parse_ok("wireguard://wg.example.com:51820?pubkey="
		 "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg%3D&key=my.key",
		 &t);
	assert_string_equal(t.pubkey, WGKEY);
	assert_string_equal(t.key_file, "my.key");
	ww_target_clear(&t);

	/* a copy owns its own strings */
	parse_ok("wireguard://wg.example.com:51820?pubkey=" WGKEY "&key=k", &t);
	{
		struct ww_target c;

		ww_target_copy(&c, &t);
		ww_target_clear(&t);
		assert_string_equal(c.pubkey, WGKEY);
		assert_string_equal(c.key_file, "k");
		ww_target_clear(&c);
	}
	assert_string_equal(ww_target_kind_name(WW_TARGET_OPENVPN), "openvpn");
	assert_string_equal(ww_target_kind_name(WW_TARGET_WIREGUARD),
			    "wireguard");
	assert_false(ww_target_is_vpn(WW_TARGET_TLS));
}

static void
test_vpn_target_rules(void **state)
{
	(void)state;
	parse_bad("openvpn://vpn.example.com",
		  "openvpn:// target needs a port");
	parse_bad("wireguard://wg.example.com?pubkey=" WGKEY,
		  "wireguard:// target needs a port");
	parse_bad("openvpn://vpn.example.com:1194/x",
		  "openvpn:// target takes no path or fragment");
	parse_bad("quic://www.example.com/index.html",
		  "quic:// target takes no path or fragment");
	parse_bad("ikev2://vpn.example.com#x",
		  "ikev2:// target takes no path or fragment");
	parse_bad("openvpn://vpn.example.com:1194?transport=sctp",
		  "transport must be udp or tcp");
	parse_bad("openvpn://vpn.example.com:1194?transprot=tcp",
		  "openvpn:// target: unknown parameter \"transprot\" (it "
		  "takes transport, wrap, auth, key-direction, key)");
	parse_bad("openvpn://vpn.example.com:1194?transport=tcp&transport=udp",
		  "openvpn:// target: transport given twice");
	parse_bad("openvpn://vpn.example.com:1194?transport",
		  "openvpn:// target: transport needs a value");
	parse_bad("openvpn://vpn.example.com:1194?transport=tcp&",
		  "openvpn:// target: empty parameter");
	parse_bad("openvpn://vpn.example.com:1194?key=ta.key",
		  "openvpn:// target: key= needs wrap=tls-auth or "
		  "wrap=tls-crypt");
	parse_bad("openvpn://vpn.example.com:1194?auth=sha256",
		  "openvpn:// target: auth and key-direction go with "
		  "wrap=tls-auth");
	parse_bad("openvpn://vpn.example.com:1194?wrap=tls-crypt&"
		  "key-direction=1",
		  "openvpn:// target: auth and key-direction go with "
		  "wrap=tls-auth");
	parse_bad("openvpn://vpn.example.com:1194?wrap=tls-auth&auth=md5",
		  "auth must be sha1, sha256 or sha512");
	parse_bad("openvpn://vpn.example.com:1194?wrap=tls-auth&"
		  "key-direction=2",
		  "key-direction must be 0 or 1");
	parse_bad("openvpn://vpn.example.com:1194?wrap=tls-auth&key=a%0ab",
		  "openvpn:// target: key has a bad %-escape or a control "
		  "character");
	parse_bad("openvpn://vpn.example.com:1194?wrap=tls-auth&key=a%4",
		  "openvpn:// target: key has a bad %-escape or a control "
		  "character");
	parse_bad("wireguard://wg.example.com:51820",
		  "wireguard:// target needs pubkey= (the server's public "
		  "key)");
	parse_bad("wireguard://wg.example.com:51820?pubkey=AAAA",
		  "pubkey is not a WireGuard key (base64 of 32 bytes, as "
		  "wg(8) prints it)");
	parse_bad("wireguard://wg.example.com:51820?pubkey=" WGKEY
		  "&transport=tcp",
		  "wireguard:// target: unknown parameter \"transport\" (it "
		  "takes pubkey, key)");
	parse_bad("quic://www.example.com?sni=x",
		  "quic:// target: unknown parameter \"sni\" (it takes "
		  "none)");
	parse_bad("ikev2://vpn.example.com:0", "port 0 out of range 1..65535");
}

static void
test_ports(void **state)
{
	struct ww_target t;

	(void)state;
	parse_ok("http://example.com:1/", &t);
	assert_int_equal(t.port, 1);
	ww_target_clear(&t);
	parse_ok("tcp://example.com:65535", &t);
	assert_int_equal(t.port, 65535);
	ww_target_clear(&t);

	parse_bad("tls://example.com:0", "port 0 out of range 1..65535");
	parse_bad("http://example.com:0/", "port 0 out of range 1..65535");
	parse_bad("tls://example.com:65536", "bad port number (want 1..65535)");
	parse_bad("http://example.com:99999999999999999999/",
		  "bad port number (want 1..65535)");
	parse_bad("http://example.com:-1/", "bad port number (want 1..65535)");
	parse_bad("http://example.com:8o/", "bad port number (want 1..65535)");
	parse_bad("https://example.com:443:443/",
		  "bad port number (want 1..65535)");
}

static void
test_schemes(void **state)
{
	(void)state;
	parse_bad(
		"ftp://example.com/",
		"unsupported scheme \"ftp\" (want http, https, tcp, tls, openvpn, ikev2, wireguard or quic)");
	parse_bad(
		"udp://example.com:53",
		"unsupported scheme \"udp\" (want http, https, tcp, tls, openvpn, ikev2, wireguard or quic)");
	parse_bad("mailto:someone@example.com",
		  "unsupported scheme \"mailto\" (want http, https, tcp, tls, "
		  "openvpn, ikev2, wireguard or quic)");
	parse_bad("example.com", NO_SCHEME);
	parse_bad("//example.com/", NO_SCHEME);
	parse_bad("1http://example.com/", NO_SCHEME);
	/* curl itself would take these three */
	parse_bad("http:/example.com/",
		  "\"http:\" must be followed by exactly two slashes");
	parse_bad("https:///example.com/",
		  "\"https:\" must be followed by exactly two slashes");
	parse_bad("http:example.com",
		  "\"http:\" must be followed by exactly two slashes");
}

static void
test_credentials(void **state)
{
	(void)state;
	parse_bad("http://user:secret@example.com/",
		  "URL has user credentials");
	parse_bad("https://user@example.com/", "URL has user credentials");
	parse_bad("https://:secret@example.com/", "URL has user credentials");
	parse_bad("https://@example.com/", "URL has user credentials");
	parse_bad("tls://user@example.com:443", "URL has user credentials");
}

static void
test_empty_and_long(void **state)
{
	struct ww_target t;
	char *s;
	size_t n;

	(void)state;
	parse_bad("", "empty input");
	parse_bad(NULL, "empty input");

	/* exactly the limit is accepted, one more byte is not */
	n = WW_TARGET_MAX_INPUT;
	s = xmalloc(3001);
	memcpy(s, "http://example.com/", 19);
	memset(s + 19, 'a', 3000 - 19);
	s[n] = '\0';
	parse_ok(s, &t);
	ww_target_clear(&t);
	s[n] = 'a';
	s[n + 1] = '\0';
	parse_bad(s, "input is 2049 bytes, longer than 2048");
	s[n + 1] = 'a';
	s[3000] = '\0';
	parse_bad(s, "input is 3000 bytes, longer than 2048");
	free(s);
}

static void
test_bad_bytes(void **state)
{
	(void)state;
	parse_bad("http://example.com/\t", "control character in URL");
	parse_bad("http://exa\nmple.com/", "control character in URL");
	parse_bad("http://example.com/\r", "control character in URL");
	parse_bad("http://example.com/\x7f", "control character in URL");
	parse_bad("http://example.com/\x1b[31m", "control character in URL");
	/* U+0085 NEXT LINE, a C1 control */
	parse_bad("http://example.com/\xc2\x85", "control character in URL");
	parse_bad("http://example.com/a b", "space in URL");
	parse_bad(" http://example.com/", "space in URL");
	parse_bad("http://example.com/ ", "space in URL");
	parse_bad("http://example.com/\xff", "URL is not valid UTF-8");
	parse_bad("http://ex\xc3.com/", "URL is not valid UTF-8");
	/* overlong "/" */
	parse_bad("http://example.com\xc0\xaf", "URL is not valid UTF-8");
}

static void
test_ipv4(void **state)
{
	struct ww_target t;

	(void)state;
	parse_ok("http://192.0.2.1/", &t);
	assert_string_equal(t.host, "192.0.2.1");
	assert_true(t.host_is_ip);
	ww_target_clear(&t);

	/* curl normalises the old inet_aton forms, and fetches likewise */
	parse_ok("http://0x7f.1/", &t);
	assert_string_equal(t.host, "127.0.0.1");
	assert_true(t.host_is_ip);
	ww_target_clear(&t);

	parse_bad("http://999.1.1.1/",
		  "host is neither a valid name nor an IPv4 address");
	parse_bad("http://1.2.3.4.5/",
		  "host is neither a valid name nor an IPv4 address");
}

static void
test_ipv6(void **state)
{
	struct ww_target t;

	(void)state;
	parse_ok("https://[2001:DB8::1]:8443/x", &t);
	assert_string_equal(t.host, "2001:db8::1");
	assert_true(t.host_is_ip);
	assert_int_equal(t.port, 8443);
	ww_target_clear(&t);

	parse_ok("http://[::1]/", &t);
	assert_string_equal(t.host, "::1");
	assert_int_equal(t.port, 80);
	ww_target_clear(&t);

	parse_ok("http://[::ffff:192.0.2.1]/", &t);
	assert_string_equal(t.host, "::ffff:192.0.2.1");
	assert_true(t.host_is_ip);
	ww_target_clear(&t);

	parse_bad("http://[::1/", "invalid IPv6 address");
	parse_bad("http://[192.0.2.1]/", "invalid IPv6 address");
	parse_bad("http://[fe80::1%25eth0]/", "IPv6 zone ID in URL");
}

/* Parse input, which must succeed with host want; clears what it made. */
static void
host_is(const char *input, const char *want)
{
	struct ww_target t;

	parse_ok(input, &t);
	assert_string_equal(t.host, want);
	assert_false(t.host_is_ip);
	ww_target_clear(&t);
}

static void
test_idn(void **state)
{
	(void)state;
	/* IDNA2008 with UTS #46 mapping; input stays as given (parse_ok) */
	host_is("http://B\xc3\xbc"
		"cher.example/",
		"xn--bcher-kva.example");
	/* upper case is mapped before punycode, non-ASCII included */
	host_is("http://B\xc3\x9c"
		"CHER.EXAMPLE/",
		"xn--bcher-kva.example");
	/* 例え.テスト, the IANA IDN test name */
	host_is("https://\xe4\xbe\x8b\xe3\x81\x88."
		"\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88/",
		"xn--r8jz45g.xn--zckzah");
	/* Cyrillic пример.испытание */
	host_is("https://\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80."
		"\xd0\xb8\xd1\x81\xd0\xbf\xd1\x8b\xd1\x82\xd0\xb0\xd0\xbd\xd0"
		"\xb8\xd0\xb5/",
		"xn--e1afmkfd.xn--80akhbyknj4f");
	/* mixed scripts: a Cyrillic "а" among Latin letters is a different
	 * name (a homograph), resolved as such, as a browser would */
	host_is("https://\xd0\xb0pple.com/", "xn--pple-43d.com");
	host_is("https://b\xc3\xbc"
		"cher.ex\xd0\xb0mple/",
		"xn--bcher-kva.xn--exmple-4nf");
	/* non-transitional: ß keeps its own A-label (not "fass") */
	host_is("http://fa\xc3\x9f.de/", "xn--fa-hia.de");
	/* IDNA2008 disallows ☃, UTS #46 accepts it: transitional fallback */
	host_is("http://\xe2\x98\x83.net/", "xn--n3h.net");
	/* a full-width dot (U+3002) separates labels */
	host_is("http://b\xc3\xbc"
		"cher\xe3\x80\x82"
		"example/",
		"xn--bcher-kva.example");
	/* already ASCII: unchanged but lower-cased; punycode is checked and
	 * kept, lower-cased */
	host_is("http://Example.COM/", "example.com");
	host_is("http://xn--bcher-kva.example/", "xn--bcher-kva.example");
	host_is("http://XN--Bcher-KVA.example/", "xn--bcher-kva.example");
	/* ASCII names are not held to IDNA's hyphen rules */
	host_is("https://r3---sn-x.googlevideo.com/",
		"r3---sn-x.googlevideo.com");
	/* an IDN in an absolute URL such as a redirect's Location: only the
	 * host changes, the path, query and fragment are not touched */
	host_is("https://www.B\xc3\xbc"
		"cher.example:8443/s\xc3\xbc"
		"d?q=\xc3\xa4#top",
		"www.xn--bcher-kva.example");

	parse_bad("http://xn--zz.example/",
		  "host label \"xn--zz\" is not a valid A-label: an xn-- label "
		  "that is not valid punycode");
	parse_bad("http://\xc3\xbc.-x.com/",
		  "host is not a valid internationalized domain name: a label "
		  "starts or ends with a hyphen");
	/* a zero-width joiner between Latin letters (CONTEXTJ) */
	parse_bad("http://a\xe2\x80\x8d"
		  "b\xc3\xbc.example/",
		  "host is not a valid internationalized domain name: a joiner "
		  "or other context-bound character out of place");
	/* U+0080..U+009F never get this far; U+FFFF is a non-character */
	parse_bad("http://\xef\xbf\xbf"
		  "b\xc3\xbc.example/",
		  "host is not a valid internationalized domain name: a "
		  "character not allowed in domain names");
	/* 70 "ü" make a label of more than 63 bytes once encoded */
	{
		char url[200] = "http://";

		for (int i = 0; i < 70; i++)
			strcat(url, "\xc3\xbc");
		strcat(url, ".example/");
		parse_bad(url, "host is not a valid internationalized domain "
			       "name: a label longer than 63 bytes as an "
			       "A-label");
	}
	/* percent-encoded bytes that are not UTF-8 */
	parse_bad("http://b%FCcher.example/",
		  "host is not a valid internationalized domain name: bytes "
		  "that are not UTF-8");
	/* two trailing dots are refused for an IDN as for any name */
	parse_bad("http://b\xc3\xbc"
		  "cher.example../",
		  "host name ends with a dot");
}

/* n copies of c; four buffers in turn, so one call may use several */
static const char *
label(size_t n, char c)
{
	static char bufs[4][70];
	static int next;
	char *b = bufs[next++ % 4];

	memset(b, c, n);
	b[n] = '\0';
	return b;
}

static void
test_host_names(void **state)
{
	struct ww_target t;
	char url[400];

	(void)state;
	parse_ok("http://_dmarc.example.com/", &t);
	assert_string_equal(t.host, "_dmarc.example.com");
	ww_target_clear(&t);

	/* a percent-encoded host is decoded (curl fetches the same host) */
	parse_ok("http://%41.example.com/", &t);
	assert_string_equal(t.host, "a.example.com");
	ww_target_clear(&t);

	parse_bad("http:///", "\"http:\" must be followed by exactly two "
			      "slashes");
	parse_bad("http://", "empty host");
	parse_bad("http:///?", "\"http:\" must be followed by exactly two "
			       "slashes");
	parse_bad("http://?q", "empty host");
	parse_bad("http://#f", "empty host");
	parse_bad("http://:80/", "empty host");
	parse_bad("http://a..b/", "empty label in host name");
	parse_bad("http://.example.com/", "empty label in host name");
	parse_bad("http://example.com../", "host name ends with a dot");
	parse_bad("http://./", "empty host");
	parse_bad("http://exa!mple.com/", "invalid host name");
	parse_bad("http://exa%20mple.com/", "invalid host name");
	parse_bad("http://exa%2fmple.com/", "invalid host name");
	parse_bad("http://exa%00mple.com/", "invalid host name");

	/* 63-byte labels are fine, 64 is one too many */
	snprintf(url, sizeof(url), "http://%s.example/", label(63, 'a'));
	parse_ok(url, &t);
	ww_target_clear(&t);
	snprintf(url, sizeof(url), "http://%s.example/", label(64, 'a'));
	parse_bad(url, "label in host name is 64 bytes, longer than 63");

	/* 4 * 63 + 3 dots = 255 bytes of host */
	snprintf(url, sizeof(url), "http://%s.%s.%s.%s/", label(63, 'a'),
		 label(63, 'b'), label(63, 'c'), label(63, 'd'));
	parse_bad(url, "host name is 255 bytes, longer than 253");
	snprintf(url, sizeof(url), "http://%s.%s.%s.%s/", label(63, 'a'),
		 label(63, 'b'), label(63, 'c'), label(61, 'd'));
	parse_ok(url, &t);
	assert_int_equal(strlen(t.host), 253);
	ww_target_clear(&t);

	/* all digits: curl reads these as (octal) IPv4 numbers, and so do
	 * we, since curl is what fetches the input later */
	parse_ok("http://0300.0250.0.1/", &t);
	assert_string_equal(t.host, "192.168.0.1");
	assert_true(t.host_is_ip);
	ww_target_clear(&t);
}

/* url_is INPUT HOST URL: what is fetched for input, and its host. */
static void
url_is(const char *input, const char *host, const char *url)
{
	struct ww_target t;

	parse_ok(input, &t);
	assert_string_equal(t.host, host);
	assert_string_equal(t.url, url);
	ww_target_clear(&t);
}

/* The URL curl fetches carries the host we resolved: A-labels, no
 * trailing dot; an input whose host is spelt that way is fetched as
 * given (upper case included: curl and servers ignore it). */
static void
test_fetch_url(void **state)
{
	(void)state;
	url_is("http://example.com", "example.com", "http://example.com");
	url_is("HTTP://Example.COM/a?b#c", "example.com",
	       "HTTP://Example.COM/a?b#c");
	url_is("http://[2001:DB8::1]:8080/x", "2001:db8::1",
	       "http://[2001:DB8::1]:8080/x");
	url_is("http://192.0.2.1/", "192.0.2.1", "http://192.0.2.1/");
	/* the red team's inputs and redirects */
	url_is("http://B\xc3\x9c"
	       "CHER.rt.test/page/",
	       "xn--bcher-kva.rt.test", "http://xn--bcher-kva.rt.test/page/");
	url_is("http://b\xc3\xbc"
	       "cher.rt.test/page/?q=\xc3\xbc",
	       "xn--bcher-kva.rt.test",
	       "http://xn--bcher-kva.rt.test/page/?q=\xc3\xbc");
	url_is("http://target.example./page/", "target.example",
	       "http://target.example/page/");
	url_is("http://TARGET.rt.test./page/", "target.rt.test",
	       "http://target.rt.test/page/");
	url_is("https://b\xc3\xbc"
	       "cher.example.:8443",
	       "xn--bcher-kva.example", "https://xn--bcher-kva.example:8443/");
	url_is("tls://example.com.:853", "example.com",
	       "tls://example.com:853/");
	/* a dotted IPv4 address with the dot is that address */
	url_is("http://192.0.2.1./", "192.0.2.1", "http://192.0.2.1/");
}

static void
test_copy_clear(void **state)
{
	struct ww_target t, c;

	(void)state;
	parse_ok("tls://[2001:db8::1]:443", &t);
	t.category_code = xstrdup("ANON");
	t.source = xstrdup("lists/x.csv:3");
	ww_target_copy(&c, &t);
	assert_ptr_not_equal(c.input, t.input);
	assert_ptr_not_equal(c.host, t.host);
	assert_ptr_not_equal(c.url, t.url);
	assert_string_equal(c.url, t.url);
	assert_ptr_not_equal(c.category_code, t.category_code);
	assert_ptr_not_equal(c.source, t.source);
	assert_string_equal(c.input, t.input);
	assert_string_equal(c.host, "2001:db8::1");
	assert_string_equal(c.category_code, "ANON");
	assert_string_equal(c.source, "lists/x.csv:3");
	assert_int_equal(c.kind, WW_TARGET_TLS);
	assert_int_equal(c.port, 443);
	assert_true(c.host_is_ip);
	ww_target_clear(&t);
	assert_null(t.input);
	assert_null(t.host);
	/* clearing twice is allowed */
	ww_target_clear(&t);
	/* the copy survives the original */
	assert_string_equal(c.host, "2001:db8::1");
	ww_target_clear(&c);

	/* a --input target has no category; the copy keeps the NULLs */
	parse_ok("http://example.com/", &t);
	ww_target_copy(&c, &t);
	assert_null(c.category_code);
	assert_null(c.source);
	ww_target_clear(&c);
	ww_target_clear(&t);
}

static void
test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(ww_target_kind_name(WW_TARGET_HTTP), "http");
	assert_string_equal(ww_target_kind_name(WW_TARGET_HTTPS), "https");
	assert_string_equal(ww_target_kind_name(WW_TARGET_TCP), "tcp");
	assert_string_equal(ww_target_kind_name(WW_TARGET_TLS), "tls");
}

static void
test_small_err_buffer(void **state)
{
	struct ww_target t;
	char err[8];

	(void)state;
	/* messages are cut, never overrun */
	assert_int_equal(ww_target_parse("ftp://x", &t, err, sizeof(err)), -1);
	assert_string_equal(err, "unsuppo");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_default_port),
		cmocka_unit_test(test_https_keeps_input),
		cmocka_unit_test(test_case_folding),
		cmocka_unit_test(test_tcp_tls),
		cmocka_unit_test(test_tcp_tls_rules),
		cmocka_unit_test(test_vpn_targets),
		cmocka_unit_test(test_vpn_target_rules),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_schemes),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_empty_and_long),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_idn),
		cmocka_unit_test(test_host_names),
		cmocka_unit_test(test_fetch_url),
		cmocka_unit_test(test_copy_clear),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_small_err_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
