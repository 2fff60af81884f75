/*
 * test_alerts.c - alerts (collector/alerts*.c, docs/alerts.md): events
 * grouped into one alert per network, direction and window; a target
 * flapping within a window is no alert; a country's burst is one alert per
 * network, naming ALERT_NAMED targets and "and N more"; the identity and
 * the tag URI; HMAC-SHA256 against published and independently computed
 * vectors; XML escaping of hostile and malformed input, in the Atom
 * document too; the URL shown without credentials; the options; and the
 * claim in the database (SQLite, and PostgreSQL under `make unit-pg`).
 *
 * Linked from build/libcollector.a.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "../../collector/alerts.h"
#include "../../collector/store.h"
#include "store_fixture.h"

/* 2026-12-06 14:00:00 UTC: a window's start for every length used here */
#define T14 ((int64_t)1796565600)
#define W 3600

static int64_t next_id;

static void
ev(struct alert_grouper *g, const char *cc, const char *asn, const char *input,
   int64_t t, const char *from, const char *to, const char *method)
{
	struct store_event e = {
		.id = ++next_id,
		.time = t,
		.input = input,
		.cc = cc,
		.asn = asn,
		.from_state = from,
		.to_state = to,
		.method = method,
		.uids_json = "[]",
	};

	alert_grouper_add(g, &e);
}

static void
group(struct alert_grouper *g, const char *state, struct alert_list *l)
{
	memset(l, 0, sizeof(*l));
	alert_grouper_finish(g, state, l);
	alert_grouper_free(g);
}

/* Several targets of one network blocked within a window: one alert, by
 * input; the same window on another network, another alert; the next
 * window, another; the end of it, an end alert. */
static void
test_grouping(void **state)
{
	struct alert_grouper *g = alert_grouper_new(W);
	struct alert_list l;
	char key[256], tag[320];

	(void)state;
	ev(g, "CN", "AS4134", "https://b.example/", T14 + 600, "accessible",
	   "blocked", "tls");
	ev(g, "CN", "AS4134", "https://a.example/", T14 + 60, "accessible",
	   "blocked", "dns");
	ev(g, "CN", "AS4134", "https://c.example/", T14 + 3599, "unknown",
	   "disrupted", NULL);
	ev(g, "CN", "AS4837", "https://a.example/", T14 + 100, "accessible",
	   "blocked", "dns");
	ev(g, "CN", "AS4134", "https://d.example/", T14 + 3600, "accessible",
	   "blocked", "tls"); /* the next window */
	ev(g, "CN", "AS4134", "https://a.example/", T14 + 7300, "blocked",
	   "accessible", NULL);
	/* no alert: a change of method, to down, unknown to accessible */
	ev(g, "CN", "AS4134", "https://e.example/", T14 + 10, "blocked",
	   "blocked", "tls");
	ev(g, "CN", "AS4134", "https://f.example/", T14 + 20, "accessible",
	   "down", NULL);
	ev(g, "CN", "AS4134", "https://h.example/", T14 + 30, "unknown",
	   "accessible", NULL);
	group(g, NULL, &l);
	assert_int_equal(l.n, 4);
	/* newest window first */
	assert_int_equal(l.v[0].window_start, T14 + 7200);
	assert_int_equal(l.v[0].dir, ALERT_END);
	assert_int_equal(l.v[0].n, 1);
	assert_string_equal(l.v[0].tg[0].state, "accessible");
	assert_int_equal(l.v[1].window_start, T14 + 3600);
	assert_int_equal(l.v[1].n, 1);
	assert_string_equal(l.v[1].tg[0].input, "https://d.example/");
	assert_string_equal(l.v[2].asn, "AS4134");
	assert_int_equal(l.v[2].dir, ALERT_ONSET);
	assert_int_equal(l.v[2].n, 3);
	assert_string_equal(l.v[2].tg[0].input, "https://a.example/");
	assert_string_equal(l.v[2].tg[0].method, "dns");
	assert_string_equal(l.v[2].tg[2].state, "disrupted");
	assert_null(l.v[2].tg[2].method);
	assert_int_equal(l.v[2].first, T14 + 60);
	assert_int_equal(l.v[2].last, T14 + 3599);
	assert_string_equal(l.v[3].asn, "AS4837");
	alert_key(&l.v[2], key, sizeof(key));
	assert_string_equal(key, "CN/AS4134/onset/1796565600/3600");
	alert_tag(&l.v[2], tag, sizeof(tag));
	assert_string_equal(
		tag,
		"tag:wallwatch,2026:alert/CN/AS4134/onset/1796565600/3600");
	{
		char *t = alert_title(&l.v[2]);

		assert_string_equal(t, "3 targets blocked or disrupted in CN "
				       "\xc2\xb7 AS4134 since 2026-12-06 14:01 "
				       "UTC");
		free(t);
	}
	alert_list_clear(&l);
}

/* A target flapping within one window is no alert at all (it came back);
 * flapping and staying blocked is one onset, the target named once. */
static void
test_flapping(void **state)
{
	struct alert_grouper *g = alert_grouper_new(W);
	struct alert_list l;

	(void)state;
	ev(g, "IR", "AS197207", "https://flap.example/", T14 + 100,
	   "accessible", "blocked", "tls");
	ev(g, "IR", "AS197207", "https://flap.example/", T14 + 200, "blocked",
	   "accessible", NULL);
	ev(g, "IR", "AS197207", "https://stay.example/", T14 + 100,
	   "accessible", "blocked", "dns");
	ev(g, "IR", "AS197207", "https://stay.example/", T14 + 200, "blocked",
	   "accessible", NULL);
	ev(g, "IR", "AS197207", "https://stay.example/", T14 + 300,
	   "accessible", "blocked", "dns");
	ev(g, "IR", "AS197207", "https://stay.example/", T14 + 400, "blocked",
	   "disrupted", NULL);
	group(g, NULL, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].dir, ALERT_ONSET);
	assert_int_equal(l.v[0].n, 1);
	assert_string_equal(l.v[0].tg[0].input, "https://stay.example/");
	assert_string_equal(l.v[0].tg[0].state, "disrupted");
	assert_int_equal(l.v[0].tg[0].time, T14 + 400);
	alert_list_clear(&l);

	/* the events' order of arrival does not matter */
	g = alert_grouper_new(W);
	ev(g, "IR", "AS197207", "https://flap.example/", T14 + 200, "blocked",
	   "accessible", NULL);
	ev(g, "IR", "AS197207", "https://flap.example/", T14 + 100,
	   "accessible", "blocked", "tls");
	group(g, NULL, &l);
	assert_int_equal(l.n, 0);
	alert_list_clear(&l);

	/* across windows it is two alerts: an onset, then an end */
	g = alert_grouper_new(W);
	ev(g, "IR", "AS197207", "https://flap.example/", T14 + 3500,
	   "accessible", "blocked", "tls");
	ev(g, "IR", "AS197207", "https://flap.example/", T14 + 3700, "blocked",
	   "accessible", NULL);
	group(g, NULL, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].dir, ALERT_END);
	assert_int_equal(l.v[1].dir, ALERT_ONSET);
	alert_list_clear(&l);
}

/* A whole country's probes report at once: 37 targets on AS4134 and 5 on
 * AS4837 within the hour are two alerts, not 42; the text names ten and
 * says "and 27 more"; the JSON lists all 37. */
static void
test_burst(void **state)
{
	struct alert_grouper *g = alert_grouper_new(W);
	struct alert_list l;
	char input[64];
	json_t *o;
	const char *text;

	(void)state;
	for (int i = 0; i < 37; i++) {
		snprintf(input, sizeof(input), "https://site%02d.example/", i);
		ev(g, "CN", "AS4134", input, T14 + 30 * i, "accessible",
		   "blocked", i % 2 ? "tls" : "dns");
	}
	for (int i = 0; i < 5; i++) {
		snprintf(input, sizeof(input), "https://site%02d.example/", i);
		ev(g, "CN", "AS4837", input, T14 + 60 * i, "accessible",
		   "blocked", "http-diff");
	}
	group(g, NULL, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].n, 37);
	assert_int_equal(l.v[1].n, 5);
	o = alert_json(&l.v[0]);
	assert_string_equal(json_string_value(json_object_get(o, "title")),
			    "37 targets blocked in CN \xc2\xb7 AS4134 since "
			    "2026-12-06 14:00 UTC");
	text = json_string_value(json_object_get(o, "text"));
	assert_non_null(strstr(text, "https://site09.example/ (tls)"));
	assert_null(strstr(text, "https://site10.example/"));
	assert_non_null(strstr(text, " and 27 more"));
	assert_int_equal(json_array_size(json_object_get(o, "targets")), 37);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(o, "methods"), "dns")),
			 19);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(o, "methods"), "tls")),
			 18);
	assert_string_equal(json_string_value(json_object_get(o, "direction")),
			    "onset");
	json_decref(o);
	alert_list_clear(&l);
}

/* A burst past ALERT_LISTED: all counted, the first listed; an input
 * that is not UTF-8 (never stored: JSON is parsed first) is replaced, not
 * a crash. */
static void
test_listed(void **state)
{
	struct alert_grouper *g = alert_grouper_new(W);
	struct alert_list l;
	char input[64];
	json_t *o;

	(void)state;
	for (int i = 0; i < ALERT_LISTED + 5; i++) {
		snprintf(input, sizeof(input), "https://s%04d.example/", i);
		ev(g, "CN", "AS4134", input, T14 + i, "accessible", "blocked",
		   "dns");
	}
	ev(g, "CN", "AS4134", "https://\xff.example/", T14, "accessible",
	   "disrupted", NULL);
	group(g, NULL, &l);
	assert_int_equal(l.n, 1);
	o = alert_json(&l.v[0]);
	assert_int_equal(json_integer_value(json_object_get(o, "n_targets")),
			 ALERT_LISTED + 6);
	assert_int_equal(json_array_size(json_object_get(o, "targets")),
			 ALERT_LISTED);
	assert_int_equal(
		json_integer_value(json_object_get(o, "targets_not_listed")),
		6);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(o, "methods"), "dns")),
			 ALERT_LISTED + 5);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(o, "methods"), "disrupted")),
			 1);
	json_decref(o);
	alert_list_clear(&l);

	g = alert_grouper_new(W);
	ev(g, "CN", "AS4134", "https://\xff.example/", T14, "accessible",
	   "disrupted", NULL);
	group(g, NULL, &l);
	o = alert_json(&l.v[0]);
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(o, "targets"), 0),
			"input")),
		"(not UTF-8)");
	assert_true(json_is_null(json_object_get(
		json_array_get(json_object_get(o, "targets"), 0), "method")));
	json_decref(o);
	alert_list_clear(&l);
}

/* state=: only the targets whose new state it is. */
static void
test_state_filter(void **state)
{
	struct alert_grouper *g = alert_grouper_new(W);
	struct alert_list l;

	(void)state;
	ev(g, "CN", "AS4134", "https://a.example/", T14, "accessible",
	   "blocked", "tls");
	ev(g, "CN", "AS4134", "https://b.example/", T14, "accessible",
	   "disrupted", NULL);
	ev(g, "CN", "AS4134", "https://c.example/", T14, "blocked",
	   "accessible", NULL);
	group(g, "disrupted", &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].n, 1);
	assert_string_equal(l.v[0].tg[0].input, "https://b.example/");
	alert_list_clear(&l);
	g = alert_grouper_new(W);
	ev(g, "CN", "AS4134", "https://c.example/", T14, "blocked",
	   "accessible", NULL);
	group(g, "down", &l);
	assert_int_equal(l.n, 0);
	alert_list_clear(&l);
}

static void
test_window_before_1970(void **state)
{
	struct alert_grouper *g = alert_grouper_new(60);
	struct alert_list l;

	(void)state;
	ev(g, "CN", "AS1", "https://a.example/", -30, "accessible", "blocked",
	   "dns");
	group(g, NULL, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].window_start, -60);
	alert_list_clear(&l);
}

/*
 * HMAC-SHA256: RFC 4231's test cases 1 and 2, and one computed with
 *   printf '%s' 'wallwatch alert body {"a":1}' |
 *     openssl dgst -sha256 -hmac 'a shared secret of 32 bytes!!!!!'
 */
static void
test_hmac(void **state)
{
	unsigned char k1[20];
	char hex[65];
	const char *body = "wallwatch alert body {\"a\":1}";
	const char *key = "a shared secret of 32 bytes!!!!!";

	(void)state;
	memset(k1, 0x0b, sizeof(k1));
	alerts_hmac_hex(k1, sizeof(k1), "Hi There", 8, hex);
	assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833"
				 "da726e9376c2e32cff7");
	alerts_hmac_hex("Jefe", 4, "what do ya want for nothing?", 28, hex);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d273"
				 "9839dec58b964ec3843");
	alerts_hmac_hex(key, strlen(key), body, strlen(body), hex);
	assert_string_equal(hex, "36382ab5c554c1140a28f4f895aabee25e98efbcc31ee"
				 "7cca2f75e1856153699");
}

static char *
escaped(const char *s)
{
	struct evbuffer *b = evbuffer_new();
	size_t n;
	char *out;

	alerts_xml_escape(b, s);
	n = evbuffer_get_length(b);
	out = malloc(n + 1);
	evbuffer_remove(b, out, n);
	out[n] = '\0';
	evbuffer_free(b);
	return out;
}

static void
check_escape(const char *in, const char *want)
{
	char *got = escaped(in);

	assert_string_equal(got, want);
	free(got);
}

/* Markup becomes entities; what XML 1.0 cannot hold (control characters,
 * bytes that are not UTF-8: overlong, surrogates, cut short) U+FFFD,
 * one per byte of a sequence that is not valid;
 * valid UTF-8 stays as it is. */
static void
test_xml_escape(void **state)
{
	(void)state;
	check_escape("https://x/\"><script>alert('1')</script>&amp;]]>",
		     "https://x/&quot;&gt;&lt;script&gt;alert(&apos;1&apos;)"
		     "&lt;/script&gt;&amp;amp;]]&gt;");
	check_escape("a\x01"
		     "b\x7f",
		     "a\xef\xbf\xbd"
		     "b\x7f");
	check_escape("tab\tnl\n", "tab\tnl\n");
	check_escape("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80",
		     "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80");
	check_escape("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"); /* overlong */
	check_escape("\xed\xa0\x80x",
		     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx"); /* surrogate */
	check_escape("end\xe4\xb8", "end\xef\xbf\xbd\xef\xbf\xbd");
	check_escape("\xef\xbf\xbe", "\xef\xbf\xbd"); /* U+FFFE: no Char */
	check_escape("\xff", "\xef\xbf\xbd");
	check_escape(NULL, "");
}

/* The whole document: a hostile input and query are text, nowhere
 * markup; the ids and order as the list's. */
static void
test_atom(void **state)
{
	struct alert_grouper *g = alert_grouper_new(W);
	struct alert_list l;
	struct evbuffer *b = evbuffer_new();
	char *doc;
	size_t n;

	(void)state;
	ev(g, "CN", "AS4134", "https://x/\"><script>alert(1)</script>", T14,
	   "accessible", "blocked", "tls");
	ev(g, "CN", "AS4134", "https://y/", T14 + 7200, "blocked", "accessible",
	   NULL);
	group(g, NULL, &l);
	alerts_atom(b, &l, 50, "/feed.atom?cc=CN&x=<b>");
	n = evbuffer_get_length(b);
	doc = malloc(n + 1);
	evbuffer_remove(b, doc, n);
	doc[n] = '\0';
	assert_null(strstr(doc, "<script"));
	assert_null(strstr(doc, "<b>"));
	assert_non_null(strstr(doc, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(
		strstr(doc, "href=\"/feed.atom?cc=CN&amp;x=&lt;b&gt;\""));
	assert_non_null(
		strstr(doc, "<feed xmlns=\"http://www.w3.org/2005/Atom\">"));
	/* newest first: the end's entry before the onset's */
	assert_true(strstr(doc, "/end/1796572800/3600") <
		    strstr(doc, "/onset/1796565600/3600"));
	assert_non_null(strstr(doc, "<updated>2026-12-06T16:00:00Z</updated>"));
	free(doc);
	evbuffer_free(b);
	alert_list_clear(&l);
}

static void
check_origin(const char *url, const char *want)
{
	char buf[160];

	alerts_url_origin(url, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void
test_url_origin(void **state)
{
	(void)state;
	check_origin("https://hooks.example.net/services/T0/B0/SECRET",
		     "https://hooks.example.net");
	check_origin("http://user:p@ss@127.0.0.1:8080/x?token=1",
		     "http://127.0.0.1:8080");
	check_origin("https://h.example?k=v", "https://h.example");
	check_origin("https://[::1]:9/x", "https://[::1]:9");
	check_origin("nonsense", "(not a URL)");
}

static void
test_options(void **state)
{
	struct alerts_opts o;

	(void)state;
	alerts_opts_init(&o);
	assert_int_equal(o.window, ALERT_WINDOW_DEFAULT);
	assert_int_equal(alerts_opt(&o, "alert-window", "900"), 0);
	assert_int_equal(o.window, 900);
	assert_int_equal(alerts_opt(&o, "alert-window", "7"), -1);
	assert_int_equal(alerts_opt(&o, "alert-window", "7000"), -1);
	assert_int_equal(alerts_opt(&o, "webhook", "ftp://x/"), -1);
	assert_int_equal(alerts_opt(&o, "webhook", "https://x/"), 0);
	assert_int_equal(alerts_opts_check(&o), -1); /* no secret */
	assert_int_equal(alerts_opt(&o, "webhook-secret", "/dev/null"), 0);
	assert_int_equal(alerts_opts_check(&o), 0);
	assert_int_equal(alerts_opt(&o, "webhook-backoff", "0.2"), 0);
	assert_int_equal(alerts_opt(&o, "webhook-backoff", "0"), -1);
	assert_int_equal(alerts_opt(&o, "webhook-retries", "31"), -1);
	assert_int_equal(alerts_opt(&o, "alert-settle", "0"), 0);
	for (int i = 1; i < ALERT_MAX_WEBHOOKS; i++)
		assert_int_equal(alerts_opt(&o, "webhook", "http://y/"), 0);
	assert_int_equal(alerts_opt(&o, "webhook", "http://z/"), -1);
}

/* A claim goes in once: the second, from this handle or another on the
 * same database (another collector), finds it taken. */
static void
test_claim(void **state)
{
	struct fixture *f = *state;
	char err[512];
	struct store *a = store_open(f->db, err, sizeof(err));
	struct store *b;

	assert_non_null(a);
	b = store_open(f->db, err, sizeof(err));
	assert_non_null(b);
	assert_int_equal(store_alert_claim(a, "CN/AS4134/onset/1/3600", "a:1",
					   T14, err, sizeof(err)),
			 1);
	assert_int_equal(store_alert_claim(b, "CN/AS4134/onset/1/3600", "b:2",
					   T14, err, sizeof(err)),
			 0);
	assert_int_equal(store_alert_claim(a, "CN/AS4134/onset/1/3600", "a:1",
					   T14, err, sizeof(err)),
			 0);
	assert_int_equal(store_alert_claim(b, "CN/AS4134/end/1/3600", "b:2",
					   T14, err, sizeof(err)),
			 1);
	assert_int_equal(store_alert_claim(b, "", "b:2", T14, err, sizeof(err)),
			 -1);
	store_close(a);
	store_close(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_flapping),
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_listed),
		cmocka_unit_test(test_state_filter),
		cmocka_unit_test(test_window_before_1970),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_xml_escape),
		cmocka_unit_test(test_atom),
		cmocka_unit_test(test_url_origin),
		cmocka_unit_test(test_options),
		cmocka_unit_test_setup_teardown(test_claim, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
