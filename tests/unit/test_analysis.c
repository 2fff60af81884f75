/*
 * test_analysis.c - the verdict analysis, one test per row of the table in
 * docs/verdicts.md, plus the robustness rules: odd input never crashes and
 * never turns into "blocked", the analysis can be re-run in place, and
 * only its own keys change.
 *
 * Cases are data (tests/data/analysis/): base_*.json are whole, realistic
 * measurements (the shapes of docs/measurement-format.md, with a control
 * answer as in docs/control-protocol.md); each case file names a base, a
 * JSON merge patch (RFC 7386: objects merge, null deletes, arrays are
 * replaced) and the expected keys. "reason", "fingerprints", "hop" and
 * "hop_url" are checked in test_keys.analysis, every other key in
 * test_keys. Tests run from the
 * top of the tree and use the shipped testlists/fingerprints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "analysis.h"
#include "fingerprint.h"
#include "util.h"

#define DATA "tests/data/analysis/"

static struct ww_fingerprints *fps;

/* --- helpers -------------------------------------------------------------- */

static json_t *
load_json(const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);

	if (j == NULL)
		fail_msg("%s:%d: %s", path, e.line, e.text);
	return j;
}

/* RFC 7386 JSON merge patch of target (an object) with patch. */
static void
merge_patch(json_t *target, json_t *patch)
{
	const char *key;
	json_t *v;

	json_object_foreach(patch, key, v)
	{
		json_t *cur = json_object_get(target, key);

		if (json_is_null(v)) {
			json_object_del(target, key);
		} else if (json_is_object(v)) {
			if (!json_is_object(cur)) {
				cur = json_object();
				json_object_set_new(target, key, cur);
			}
			merge_patch(cur, v);
		} else {
			json_object_set_new(target, key, json_deep_copy(v));
		}
	}
}

/* The measurement of case name (caller json_decref()s), and its "expect"
 * object in *expect (also the caller's). */
static json_t *
build_case(const char *name, json_t **expect)
{
	char *path = xasprintf(DATA "%s.json", name);
	json_t *c = load_json(path), *m;
	char *base;

	assert_true(json_is_string(json_object_get(c, "base")));
	base = xasprintf(DATA "%s",
			 json_string_value(json_object_get(c, "base")));
	m = load_json(base);
	merge_patch(m, json_object_get(c, "patch"));
	if (expect != NULL)
		*expect = json_incref(json_object_get(c, "expect"));
	json_decref(c);
	free(base);
	free(path);
	return m;
}

static void
analyze_ok(json_t *m, const struct ww_fingerprints *fp)
{
	char err[256] = "";

	if (ww_analyze(m, fp, err, sizeof(err)) != 0)
		fail_msg("ww_analyze failed: %s", err);
}

/* The value an expected key is compared with. */
static json_t *
actual(json_t *m, const char *key)
{
	json_t *tk = json_object_get(m, "test_keys");

	static const char *const in_analysis[] = {
		"reason",  "fingerprints", "hop",
		"hop_url", "evidence",	   "evidence_detail"};

	for (size_t i = 0; i < WW_ARRAY_LEN(in_analysis); i++)
		if (strcmp(key, in_analysis[i]) == 0)
			return json_object_get(json_object_get(tk, "analysis"),
					       key);
	return json_object_get(tk, key);
}

static void
check_expect(const char *name, json_t *m, json_t *expect)
{
	const char *key;
	json_t *want;
	int bad = 0;

	json_object_foreach(expect, key, want)
	{
		json_t *got = actual(m, key);

		if (got != NULL && json_equal(got, want))
			continue;
		char *w = json_dumps(want, JSON_ENCODE_ANY);
		char *g = got ? json_dumps(got, JSON_ENCODE_ANY) : NULL;

		print_error("%s: %s: expected %s, got %s\n", name, key, w,
			    g ? g : "(absent)");
		free(w);
		free(g);
		bad++;
	}
	assert_int_equal(bad, 0);
}

static void
check_version(json_t *m)
{
	json_t *a = actual(m, "reason");

	assert_true(json_is_string(a));
	a = json_object_get(json_object_get(m, "test_keys"), "analysis");
	assert_string_equal(json_string_value(json_object_get(a, "version")),
			    WW_ANALYSIS_VERSION);
}

static void
run_case(const char *name)
{
	json_t *expect = NULL;
	json_t *m = build_case(name, &expect);

	analyze_ok(m, fps);
	check_version(m);
	check_expect(name, m, expect);
	json_decref(expect);
	json_decref(m);
}

/* --- one test per row of docs/verdicts.md --------------------------------- */

#define CASE(n)                                                                \
	static void test_##n(void **state)                                     \
	{                                                                      \
		(void)state;                                                   \
		run_case(#n);                                                  \
	}

CASE(clean_https)
CASE(clean_http)
CASE(cdn_consistent_by_tls)
CASE(dns_nxdomain)
CASE(dns_timeout)
CASE(down_nxdomain_both)
CASE(dns_bogon)
CASE(dns_injected)
CASE(dns_injected_no_control)
CASE(dns_injected_other_country)
CASE(dns_inconsistent_tls)
CASE(dns_inconsistent_http_lab)
CASE(tcp_syn_timeout)
CASE(tcp_syn_rst)
CASE(down_tcp_both)
CASE(tls_sni_reset)
CASE(tls_sni_timeout)
CASE(tls_sni_eof)
CASE(tls_address_reset)
CASE(tls_reset_no_neutral)
CASE(down_tls_both)
CASE(tls_mitm)
CASE(tls_trust_store)
CASE(http_blockpage)
CASE(http_blockpage_redirect)
CASE(http_diff)
CASE(http_reset)
CASE(http_redirect_timeout)
CASE(down_http_both)
CASE(dynamic_body_http)
CASE(dynamic_body_https)
CASE(https_451)
CASE(https_server_side_body)
CASE(https_control_http_failed)
CASE(http_control_http_failed)
CASE(no_control)
CASE(no_control_success)
CASE(control_incomplete)
CASE(probe_offline)
CASE(probe_offline_partial)
CASE(network_check_ok)
CASE(interrupted)
CASE(endpoint_tls_ok)
CASE(endpoint_tls_sni_reset)
CASE(endpoint_tcp_ok)
CASE(endpoint_tcp_refused)
CASE(garbage_fields)
CASE(missing_input)
CASE(dns_failure_control_no_dns)
CASE(tls_reset_control_no_entry)
CASE(http_reset_control_no_http)
CASE(hop_clean)
CASE(hop_dns_nxdomain)
CASE(hop_dns_down)
CASE(hop_tcp_timeout)
CASE(hop_tcp_down)
CASE(hop_tls_sni_reset)
CASE(hop_tls_eof_address)
CASE(hop_no_control)
CASE(hop_unknown_blockpage)
CASE(hop_http_reset)
CASE(cut_reset)
CASE(cut_eof)
CASE(cut_stall)
CASE(throttled)
CASE(throttled_nearly_done)
CASE(throttled_control_slow)
CASE(cut_reset_down)
CASE(http_proxy_blockpage_headers)
CASE(http_title_changes)
CASE(http_empty_body)
CASE(https_captcha_503)
CASE(https_redirect_nowhere)
CASE(https_both_404)
CASE(https_403_control_500)
CASE(dns_hijack_proxy_https)
CASE(dns_hijack_proxy_http)
CASE(dns_hijack_bogon_http)
CASE(dns_hijack_other_page_http)
CASE(dns_hijack_mitm_https)
CASE(dns_hijack_redirect_elsewhere)
CASE(redirect_loop_both)
CASE(redirect_loop_probe_only)
CASE(probe_offline_netunreach)
CASE(probe_offline_no_resolver)
CASE(probe_offline_no_control)
CASE(tcp_host_unreachable)
CASE(tcp_v4_timeout_no_v6)
CASE(hop_tcp_timeout_ooni_control)
CASE(hop_dns_nxdomain_ooni_control)
CASE(http_netunreach)
CASE(http_control_no_final)
CASE(dns_bogon_unroutable)
CASE(offline_cached_answer)
CASE(redirect_broken_both)
CASE(redirect_unfollowable_both)
CASE(https_451_control_failed)
CASE(ooni_redirect_tls_reset)
CASE(hop_url_spelling)
CASE(hop_url_other_path)
CASE(localhost_both)
CASE(redteam_redirect_token_query_blocked)
CASE(redteam_control_refused_503_http)
CASE(redteam_blockpage_same_title)
CASE(redteam_blockpage_shared_title_word)
CASE(redteam_blockpage_no_titles)
CASE(redteam_throttle_bursty_shaper)
CASE(https_throttled_wire)
CASE(https_stall_wire)
CASE(https_throttled_no_wire)
CASE(redteam_blockpage_same_length)
CASE(redteam_close_delimited_cut)
CASE(redteam_geodns_georedirect)
CASE(https_tiny_same_title)
CASE(http_no_titles_near)
CASE(http_no_titles_far)
CASE(https_control_refused_429)
CASE(pk_dns_injected_other_page_http)
CASE(pk_dns_injected_page_intact_http)
CASE(pk_dns_injected_page_intact_https)
CASE(pk_dns_race_no_control)
CASE(pk_dns_race_nxdomain_no_capture)
CASE(pk_dns_race_same_answer)
CASE(pk_dns_retransmission_differs)
CASE(pk_http_diff_injected)
CASE(pk_http_diff_server_ttl)
CASE(pk_http_reset_burst)
CASE(pk_ipv6_tls_reset_no_control)
CASE(pk_malformed)
CASE(pk_tcp_refused_other_flow)
CASE(pk_tls_reset_same_ttl)
CASE(pk_tls_reset_same_ttl_no_control)
CASE(pk_tls_reset_ttl)
CASE(pk_tls_reset_ttl_one_hop)
CASE(pk_tls_server_after_rst)
CASE(pk_http_injected_no_control)
CASE(pk_tls_reset_forged_address)
CASE(pk_tls_reset_ttl_by_tid)
CASE(pk_tls_reset_tid_ambiguous)
CASE(pk_tls_reset_other_initial_ttl)
CASE(pk_tls_reset_syn_proxy)
CASE(pk_http_abort_acks_in_flight)
CASE(pk_dns_overlap_round_robin)

static const char *const all_cases[] = {
	"clean_https",
	"clean_http",
	"cdn_consistent_by_tls",
	"dns_nxdomain",
	"dns_timeout",
	"down_nxdomain_both",
	"dns_bogon",
	"dns_injected",
	"dns_injected_no_control",
	"dns_injected_other_country",
	"dns_inconsistent_tls",
	"dns_inconsistent_http_lab",
	"tcp_syn_timeout",
	"tcp_syn_rst",
	"down_tcp_both",
	"tls_sni_reset",
	"tls_sni_timeout",
	"tls_sni_eof",
	"tls_address_reset",
	"tls_reset_no_neutral",
	"down_tls_both",
	"tls_mitm",
	"tls_trust_store",
	"http_blockpage",
	"http_blockpage_redirect",
	"http_diff",
	"http_reset",
	"http_redirect_timeout",
	"down_http_both",
	"dynamic_body_http",
	"dynamic_body_https",
	"https_451",
	"https_server_side_body",
	"https_control_http_failed",
	"http_control_http_failed",
	"no_control",
	"no_control_success",
	"control_incomplete",
	"probe_offline",
	"probe_offline_partial",
	"network_check_ok",
	"interrupted",
	"endpoint_tls_ok",
	"endpoint_tls_sni_reset",
	"endpoint_tcp_ok",
	"endpoint_tcp_refused",
	"garbage_fields",
	"missing_input",
	"dns_failure_control_no_dns",
	"tls_reset_control_no_entry",
	"http_reset_control_no_http",
	"hop_clean",
	"hop_dns_nxdomain",
	"hop_dns_down",
	"hop_tcp_timeout",
	"hop_tcp_down",
	"hop_tls_sni_reset",
	"hop_tls_eof_address",
	"hop_no_control",
	"hop_unknown_blockpage",
	"hop_http_reset",
	"cut_reset",
	"cut_eof",
	"cut_stall",
	"throttled",
	"throttled_nearly_done",
	"throttled_control_slow",
	"cut_reset_down",
	"http_proxy_blockpage_headers",
	"http_title_changes",
	"http_empty_body",
	"https_captcha_503",
	"https_redirect_nowhere",
	"https_both_404",
	"https_403_control_500",
	"dns_hijack_proxy_https",
	"dns_hijack_proxy_http",
	"dns_hijack_bogon_http",
	"dns_hijack_other_page_http",
	"dns_hijack_mitm_https",
	"dns_hijack_redirect_elsewhere",
	"redirect_loop_both",
	"redirect_loop_probe_only",
	"probe_offline_netunreach",
	"probe_offline_no_resolver",
	"probe_offline_no_control",
	"tcp_host_unreachable",
	"tcp_v4_timeout_no_v6",
	"hop_tcp_timeout_ooni_control",
	"hop_dns_nxdomain_ooni_control",
	"http_netunreach",
	"http_control_no_final",
	"dns_bogon_unroutable",
	"offline_cached_answer",
	"redirect_broken_both",
	"redirect_unfollowable_both",
	"https_451_control_failed",
	"ooni_redirect_tls_reset",
	"hop_url_spelling",
	"hop_url_other_path",
	"localhost_both",
	"redteam_redirect_token_query_blocked",
	"redteam_control_refused_503_http",
	"redteam_blockpage_same_title",
	"redteam_blockpage_shared_title_word",
	"redteam_blockpage_no_titles",
	"redteam_throttle_bursty_shaper",
	"https_throttled_wire",
	"https_stall_wire",
	"https_throttled_no_wire",
	"redteam_blockpage_same_length",
	"redteam_close_delimited_cut",
	"redteam_geodns_georedirect",
	"https_tiny_same_title",
	"http_no_titles_near",
	"http_no_titles_far",
	"https_control_refused_429",
	"pk_dns_injected_other_page_http",
	"pk_dns_injected_page_intact_http",
	"pk_dns_injected_page_intact_https",
	"pk_dns_race_no_control",
	"pk_dns_race_nxdomain_no_capture",
	"pk_dns_race_same_answer",
	"pk_dns_retransmission_differs",
	"pk_http_diff_injected",
	"pk_http_diff_server_ttl",
	"pk_http_reset_burst",
	"pk_ipv6_tls_reset_no_control",
	"pk_malformed",
	"pk_tcp_refused_other_flow",
	"pk_tls_reset_same_ttl",
	"pk_tls_reset_same_ttl_no_control",
	"pk_tls_reset_ttl",
	"pk_tls_reset_ttl_one_hop",
	"pk_tls_server_after_rst",
	"pk_http_injected_no_control",
	"pk_tls_reset_forged_address",
	"pk_tls_reset_ttl_by_tid",
	"pk_tls_reset_tid_ambiguous",
	"pk_tls_reset_other_initial_ttl",
	"pk_tls_reset_syn_proxy",
	"pk_http_abort_acks_in_flight",
	"pk_dns_overlap_round_robin",
};

/* --- contract ------------------------------------------------------------- */

static void
test_not_a_measurement(void **state)
{
	const char *bad[] = {"[]", "{}", "{\"test_keys\": []}",
			     "{\"test_keys\": null}", "\"x\""};
	char err[128];

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(bad); i++) {
		json_t *m = json_loads(bad[i], JSON_DECODE_ANY, NULL);
		json_t *copy = json_deep_copy(m);

		err[0] = '\0';
		assert_int_equal(ww_analyze(m, fps, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "not a measurement"));
		assert_true(json_equal(m, copy)); /* untouched */
		json_decref(copy);
		json_decref(m);
	}
	assert_int_equal(ww_analyze(NULL, fps, NULL, 0), -1);
}

/* Only our keys change, and a second run gives the same result: the
 * collector re-runs the analysis on stored, already analysed data. */
static void
test_rerun_in_place(void **state)
{
	static const char *const ours[] = {"blocking",
					   "accessible",
					   "blocking_detail",
					   "confirmed",
					   "dns_consistency",
					   "body_length_match",
					   "status_code_match",
					   "headers_match",
					   "title_match",
					   "body_proportion",
					   "dns_experiment_failure",
					   "http_experiment_failure",
					   "analysis"};

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(all_cases); i++) {
		json_t *m = build_case(all_cases[i], NULL);
		json_t *orig = json_deep_copy(m), *once, *stripped;

		analyze_ok(m, fps);
		once = json_deep_copy(m);
		analyze_ok(m, fps);
		assert_true(json_equal(m, once));
		stripped = json_deep_copy(m);
		for (size_t k = 0; k < WW_ARRAY_LEN(ours); k++)
			json_object_del(json_object_get(stripped, "test_keys"),
					ours[k]);
		if (!json_equal(stripped, orig))
			fail_msg("%s: analysis changed other keys",
				 all_cases[i]);
		json_decref(stripped);
		json_decref(once);
		json_decref(orig);
		json_decref(m);
	}
}

/* Stale verdict keys from an earlier version are replaced, whatever
 * their type. */
static void
test_replaces_old_keys(void **state)
{
	json_t *m = build_case("clean_https", NULL);
	json_t *tk = json_object_get(m, "test_keys");

	(void)state;
	json_object_set_new(tk, "blocking", json_string("dns"));
	json_object_set_new(tk, "analysis", json_integer(3));
	json_object_set_new(tk, "confirmed", json_string("yes"));
	analyze_ok(m, fps);
	assert_true(json_is_false(json_object_get(tk, "blocking")));
	assert_true(json_is_false(json_object_get(tk, "confirmed")));
	assert_true(json_is_object(json_object_get(tk, "analysis")));
	json_decref(m);
}

/* Without fingerprints the forged GFW answer is only inconsistent DNS. */
static void
test_no_fingerprints(void **state)
{
	json_t *m = build_case("dns_injected", NULL);
	json_t *tk = json_object_get(m, "test_keys");

	(void)state;
	analyze_ok(m, NULL);
	assert_string_equal(json_string_value(json_object_get(tk, "blocking")),
			    "dns");
	assert_string_equal(
		json_string_value(json_object_get(tk, "blocking_detail")),
		"dns.inconsistent");
	assert_true(json_is_false(json_object_get(tk, "confirmed")));
	assert_int_equal(
		json_array_size(json_object_get(json_object_get(tk, "analysis"),
						"fingerprints")),
		0);
	json_decref(m);
}

/* Set the probe's A answer (and its TCP/TLS/HTTP address) to ip. */
static json_t *
with_answer(const char *ip)
{
	json_t *m = build_case("dns_bogon", NULL);
	json_t *tk = json_object_get(m, "test_keys");
	json_t *q = json_array_get(json_object_get(tk, "queries"), 0);
	json_t *a = json_array_get(json_object_get(q, "answers"), 0);
	json_t *t = json_array_get(json_object_get(tk, "tcp_connect"), 0);
	bool v6 = strchr(ip, ':') != NULL;

	json_object_del(a, "ipv4");
	json_object_set_new(a, v6 ? "ipv6" : "ipv4", json_string(ip));
	json_object_set_new(a, "answer_type", json_string(v6 ? "AAAA" : "A"));
	json_object_set_new(t, "ip", json_string(ip));
	return m;
}

static const char *
detail_of(json_t *m)
{
	return json_string_value(json_object_get(
		json_object_get(m, "test_keys"), "blocking_detail"));
}

static void
test_bogon_ranges(void **state)
{
	static const char *const bogons[] = {
		"10.1.2.3",   "172.16.0.1",	"192.168.1.1",
		"100.64.0.1", "127.0.0.1",	"169.254.1.1",
		"0.1.2.3",    "224.0.0.1",	"240.0.0.1",
		"192.0.2.1",  "198.51.100.1",	"203.0.113.1",
		"::1",	      "fc00::1",	"fd12::1",
		"fe80::1",    "::ffff:10.0.0.1"};
	/* the censor lab's forged answers are public-looking 30/8 */
	static const char *const public[] = {"30.0.0.1", "30.255.1.2",
					     "8.8.8.8", "2606:4700::1111"};

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(bogons); i++) {
		json_t *m = with_answer(bogons[i]);

		analyze_ok(m, fps);
		if (detail_of(m) == NULL ||
		    strcmp(detail_of(m), "dns.bogon") != 0)
			fail_msg("%s: expected dns.bogon, got %s", bogons[i],
				 detail_of(m) ? detail_of(m) : "null");
		json_decref(m);
	}
	for (size_t i = 0; i < WW_ARRAY_LEN(public); i++) {
		json_t *m = with_answer(public[i]);

		analyze_ok(m, fps);
		if (detail_of(m) != NULL &&
		    strcmp(detail_of(m), "dns.bogon") == 0)
			fail_msg("%s: not a bogon", public[i]);
		json_decref(m);
	}
}

/* A bogon the control resolved too (a split-horizon name, or the lab on
 * 127.0.0.1) is not tampering. */
static void
test_bogon_also_at_control(void **state)
{
	json_t *m = build_case("dns_bogon", NULL);
	json_t *ctl =
		json_object_get(json_object_get(m, "test_keys"), "control");

	(void)state;
	json_array_append_new(
		json_object_get(json_object_get(ctl, "dns"), "addrs"),
		json_string("127.0.0.1"));
	analyze_ok(m, fps);
	assert_true(detail_of(m) == NULL ||
		    strcmp(detail_of(m), "dns.bogon") != 0);
	json_decref(m);
}

/* --- robustness: every value replaced by every other type ----------------- */

static const char *const valid_blocking[] = {"dns", "tcp_ip", "tls",
					     "http-failure", "http-diff"};

static void
check_output_shape(json_t *m)
{
	json_t *tk = json_object_get(m, "test_keys");
	json_t *b = json_object_get(tk, "blocking");
	json_t *a = json_object_get(tk, "accessible");
	bool ok = json_is_null(b) || json_is_false(b);

	for (size_t i = 0; !ok && i < WW_ARRAY_LEN(valid_blocking); i++)
		ok = json_is_string(b) &&
		     strcmp(json_string_value(b), valid_blocking[i]) == 0;
	assert_true(ok);
	assert_true(json_is_null(a) || json_is_boolean(a));
	assert_true(json_is_boolean(json_object_get(tk, "confirmed")));
	assert_true(json_is_string(
		json_object_get(json_object_get(tk, "analysis"), "reason")));
}

static size_t n_mutations;

static void mutate_walk(json_t *root, json_t *node);

/* Analyse a copy of root: a refusal only when test_keys is gone. */
static void
analyze_copy(json_t *root)
{
	json_t *copy = json_deep_copy(root);
	char err[256];

	if (ww_analyze(copy, fps, err, sizeof(err)) == 0)
		check_output_shape(copy);
	else
		assert_false(
			json_is_object(json_object_get(copy, "test_keys")));
	json_decref(copy);
	n_mutations++;
}

static void
try_value(json_t *root, json_t *parent, const char *key, size_t index,
	  json_t *v)
{
	if (key != NULL)
		json_object_set_new(parent, key, v);
	else
		json_array_set_new(parent, index, v);
	analyze_copy(root);
}

/* Replace the child (key or index) of parent by each odd value in turn,
 * then put the original back and descend into it. */
static void
mutate_child(json_t *root, json_t *parent, const char *key, size_t index)
{
	json_t *orig = key ? json_object_get(parent, key)
			   : json_array_get(parent, index);
	json_t *odd[] = {json_null(),  json_string("x"), json_integer(-1),
			 json_array(), json_object(),	 json_true()};

	json_incref(orig);
	for (size_t i = 0; i < WW_ARRAY_LEN(odd); i++)
		try_value(root, parent, key, index, odd[i]);
	if (key != NULL) {
		json_object_del(parent, key);
		analyze_copy(root);
		json_object_set(parent, key, orig);
	} else {
		json_array_set(parent, index, orig);
	}
	mutate_walk(root, orig);
	json_decref(orig);
}

static void
mutate_walk(json_t *root, json_t *node)
{
	if (json_is_object(node)) {
		const char **keys = NULL;
		size_t n = 0, cap = 0;
		const char *key;
		json_t *v;

		/* keys first: mutating while iterating would re-order */
		json_object_foreach(node, key, v)
		{
			(void)v;
			*WW_PUSH(keys, n, cap) = key;
		}
		for (size_t i = 0; i < n; i++) {
			char *k = xstrdup(keys[i]);

			mutate_child(root, node, k, 0);
			free(k);
		}
		free(keys);
	} else if (json_is_array(node)) {
		for (size_t i = 0; i < json_array_size(node); i++)
			mutate_child(root, node, NULL, i);
	}
}

static void
test_mutations(void **state)
{
	static const char *const which[] = {"clean_https",
					    "tls_sni_reset",
					    "http_blockpage",
					    "http_redirect_timeout",
					    "dns_inconsistent_tls",
					    "endpoint_tcp_refused",
					    "hop_tls_sni_reset",
					    "throttled",
					    "dns_hijack_redirect_elsewhere",
					    "pk_dns_race_no_control",
					    "pk_tls_reset_ttl",
					    "pk_tcp_refused_other_flow",
					    "pk_http_diff_injected"};

	(void)state;
	n_mutations = 0;
	for (size_t i = 0; i < WW_ARRAY_LEN(which); i++) {
		json_t *m = build_case(which[i], NULL);

		mutate_walk(m, m);
		json_decref(m);
	}
	print_message("%zu mutated measurements analysed\n", n_mutations);
	assert_true(n_mutations > 1000);
}

/* Garbage where a control should be never yields "blocked" or
 * "accessible": each odd control gives a null verdict. */
static void
test_odd_control_is_null(void **state)
{
	const char *odd[] = {"null", "3", "\"x\"", "[]", "true"};

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(odd); i++) {
		json_t *m = build_case("tls_sni_reset", NULL);
		json_t *tk = json_object_get(m, "test_keys");

		json_object_set_new(tk, "control",
				    json_loads(odd[i], JSON_DECODE_ANY, NULL));
		analyze_ok(m, fps);
		assert_true(json_is_null(json_object_get(tk, "blocking")));
		assert_true(json_is_null(json_object_get(tk, "accessible")));
		assert_string_equal(json_string_value(actual(m, "reason")),
				    "control_unavailable");
		json_decref(m);
	}
}

/* A body stored as base64 (not UTF-8) is decoded for fingerprints. */
static void
test_base64_body(void **state)
{
	json_t *m = build_case("http_blockpage", NULL);
	json_t *tk = json_object_get(m, "test_keys");
	json_t *resp = json_object_get(
		json_array_get(json_object_get(tk, "requests"), 0), "response");
	const char *body = json_string_value(json_object_get(resp, "body"));
	char *b64 = ww_base64((const unsigned char *)body, strlen(body));

	(void)state;
	json_object_set_new(
		resp, "body",
		json_pack("{s:s, s:s}", "format", "base64", "data", b64));
	analyze_ok(m, fps);
	assert_true(json_is_true(json_object_get(tk, "confirmed")));
	/* broken base64 is no body, not a crash */
	json_object_set_new(
		resp, "body",
		json_pack("{s:s, s:s}", "format", "base64", "data", "!!!="));
	json_object_del(resp, "headers_list");
	analyze_ok(m, fps);
	assert_true(json_is_false(json_object_get(tk, "confirmed")));
	free(b64);
	json_decref(m);
}

/* --- packet evidence: odd packets change nothing ---------------------------
 */

static json_t *
verdict_of(json_t *m)
{
	json_t *tk = json_object_get(m, "test_keys");

	return json_pack("{s:O, s:O, s:O, s:O, s:O}", "blocking",
			 json_object_get(tk, "blocking"), "accessible",
			 json_object_get(tk, "accessible"), "detail",
			 json_object_get(tk, "blocking_detail"), "confirmed",
			 json_object_get(tk, "confirmed"), "reason",
			 actual(m, "reason"));
}

/* Each packet-proven case with test_keys.packets replaced by an odd value
 * gives the verdict of the same case without packets, and no evidence. */
static void
test_packets_odd_values(void **state)
{
	static const char *const which[] = {
		"pk_dns_race_no_control", "pk_tls_reset_ttl",
		"pk_tcp_refused_other_flow", "pk_http_diff_injected",
		"pk_http_reset_burst"};
	static const char *const odd[] = {"null",
					  "3",
					  "\"x\"",
					  "[]",
					  "true",
					  "{}",
					  "{\"dns\": {}, \"tcp\": 1}"};

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(which); i++) {
		json_t *m = build_case(which[i], NULL), *want, *got;

		json_object_del(json_object_get(m, "test_keys"), "packets");
		analyze_ok(m, fps);
		want = verdict_of(m);
		assert_true(json_is_false(json_object_get(
			json_object_get(m, "test_keys"), "confirmed")));
		json_decref(m);
		for (size_t k = 0; k < WW_ARRAY_LEN(odd); k++) {
			m = build_case(which[i], NULL);
			json_object_set_new(
				json_object_get(m, "test_keys"), "packets",
				json_loads(odd[k], JSON_DECODE_ANY, NULL));
			analyze_ok(m, fps);
			got = verdict_of(m);
			if (!json_equal(got, want))
				fail_msg("%s with packets %s: verdict changed",
					 which[i], odd[k]);
			assert_int_equal(json_array_size(actual(m, "evidence")),
					 0);
			assert_true(json_is_null(actual(m, "evidence_detail")));
			json_decref(got);
			json_decref(m);
		}
		json_decref(want);
	}
}

/* Only WW_ANALYSIS_MAX_ITEMS entries of packets.dns are read: the proof
 * at index MAX_ITEMS is not seen, the same one at MAX_ITEMS - 1 is. */
static void
test_packets_bounded(void **state)
{
	size_t at[] = {WW_ANALYSIS_MAX_ITEMS - 1, WW_ANALYSIS_MAX_ITEMS};

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(at); i++) {
		json_t *m = build_case("pk_dns_race_no_control", NULL);
		json_t *dns = json_object_get(
			json_object_get(json_object_get(m, "test_keys"),
					"packets"),
			"dns");
		json_t *proof = json_incref(json_array_get(dns, 0));
		json_t *other = json_pack("{s:s, s:[]}", "hostname",
					  "www.example.org", "replies");

		json_array_clear(dns);
		for (size_t k = 0; k < at[i]; k++)
			json_array_append(dns, other);
		json_array_append_new(dns, proof);
		json_decref(other);
		analyze_ok(m, fps);
		assert_int_equal(
			json_is_true(json_object_get(
				json_object_get(m, "test_keys"), "confirmed")),
			at[i] < WW_ANALYSIS_MAX_ITEMS);
		json_decref(m);
	}
}

/* --- an https target's QUIC step (--quic): analysis.quic ---------------- */

/* One QUIC exchange at the case's address, UDP 443. */
static json_t *
qx(const char *payload, bool answered)
{
	return json_pack(
		"{s:s, s:i, s:s, s:s, s:s, s:s, s:b, s:o, s:o}", "ip",
		"93.184.215.14", "port", 443, "endpoint", "93.184.215.14:443",
		"transport", "udp", "protocol", "quic", "payload", payload,
		"answered", answered, "stage",
		answered ? json_string("server_hello") : json_null(), "failure",
		answered ? json_null() : json_string("generic_timeout_error"));
}

/* The QUIC step's three at the target's port: the version ping and the
 * neutral SNI answered or not as given, the target's SNI as hs. */
static json_t *
quic_step(bool nsni, bool hs)
{
	return json_pack("[o, o, o]", qx("version_ping", true),
			 qx("neutral_sni", nsni), qx("handshake", hs));
}

/* Case name with the probe's QUIC exchanges px and the control's cx
 * (both stolen). */
static json_t *
with_quic(const char *name, json_t *px, json_t *cx)
{
	json_t *m = build_case(name, NULL);
	json_t *tk = json_object_get(m, "test_keys");

	json_object_set_new(tk, "exchanges", px);
	json_object_set_new(json_object_get(tk, "control"), "exchanges",
			    json_pack("{s:o}", "93.184.215.14:443", cx));
	return m;
}

/* The web verdict's keys of m, to compare with and without the step. */
static json_t *
web_keys(json_t *m)
{
	json_t *tk = json_object_get(m, "test_keys");
	json_t *a = json_object_get(tk, "analysis");

	return json_pack("{s:O, s:O, s:O, s:O, s:O}", "blocking",
			 json_object_get(tk, "blocking"), "accessible",
			 json_object_get(tk, "accessible"), "blocking_detail",
			 json_object_get(tk, "blocking_detail"), "reason",
			 json_object_get(a, "reason"), "hop",
			 json_object_get(a, "hop"));
}

static void
expect_quic(json_t *m, const char *blocking, const char *detail,
	    const char *reason)
{
	json_t *q = json_object_get(
		json_object_get(json_object_get(m, "test_keys"), "analysis"),
		"quic");

	assert_true(json_is_object(q));
	if (blocking == NULL)
		assert_true(json_is_false(json_object_get(q, "blocking")));
	else
		assert_string_equal(
			json_string_value(json_object_get(q, "blocking")),
			blocking);
	if (detail == NULL)
		assert_true(json_is_null(json_object_get(q, "detail")));
	else
		assert_string_equal(
			json_string_value(json_object_get(q, "detail")),
			detail);
	assert_string_equal(json_string_value(json_object_get(q, "reason")),
			    reason);
}

/* Without the step's exchanges (no --quic), no analysis.quic. */
static void
test_quic_step_absent(void **state)
{
	json_t *m = build_case("clean_https", NULL);

	(void)state;
	analyze_ok(m, fps);
	assert_null(json_object_get(
		json_object_get(json_object_get(m, "test_keys"), "analysis"),
		"quic"));
	json_decref(m);
}

/* QUIC with the target's SNI blocked, the neutral SNI answered: the page
 * still reads accessible, analysis.quic says quic.sni_blocked; and a
 * QUIC step that completes leaves a blocked page blocked. */
static void
test_quic_step_verdicts(void **state)
{
	static const char *const cases[] = {"clean_https", "tls_sni_reset"};

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(cases); i++) {
		json_t *plain = build_case(cases[i], NULL);
		json_t *m = with_quic(cases[i], quic_step(true, false),
				      quic_step(true, true));
		json_t *ok = with_quic(cases[i], quic_step(true, true),
				       quic_step(true, true));
		json_t *want, *got;

		analyze_ok(plain, fps);
		analyze_ok(m, fps);
		analyze_ok(ok, fps);
		want = web_keys(plain);
		got = web_keys(m);
		assert_true(json_equal(want, got));
		json_decref(got);
		got = web_keys(ok);
		assert_true(json_equal(want, got));
		json_decref(got);
		json_decref(want);
		expect_quic(m, "protocol", "quic.sni_blocked", "sni_blocked");
		expect_quic(ok, NULL, NULL, "handshake_completed");
		json_decref(plain);
		json_decref(m);
		json_decref(ok);
	}
}

/* The QUIC step stopped by SIGINT/SIGTERM: its verdict null
 * ("interrupted"), the web verdict what it was. */
static void
test_quic_step_interrupted(void **state)
{
	json_t *plain = build_case("clean_https", NULL);
	json_t *m = with_quic("clean_https", quic_step(true, false),
			      quic_step(true, true));
	json_t *x = json_array_get(
		json_object_get(json_object_get(m, "test_keys"), "exchanges"),
		2);
	json_t *q, *want, *got;

	(void)state;
	json_object_set_new(x, "failure", json_string("interrupted"));
	analyze_ok(plain, fps);
	analyze_ok(m, fps);
	want = web_keys(plain);
	got = web_keys(m);
	assert_true(json_equal(want, got));
	q = json_object_get(
		json_object_get(json_object_get(m, "test_keys"), "analysis"),
		"quic");
	assert_true(json_is_null(json_object_get(q, "blocking")));
	assert_string_equal(json_string_value(json_object_get(q, "reason")),
			    "interrupted");
	json_decref(want);
	json_decref(got);
	json_decref(plain);
	json_decref(m);
}

/* The control's QUIC step cut by its deadline before its target-SNI
 * Initial was answered: not "down", a control that did not finish. */
static void
test_quic_step_control_cut(void **state)
{
	json_t *cx = quic_step(true, false), *m, *q;

	(void)state;
	json_object_set_new(json_array_get(cx, 2), "failure",
			    json_string("interrupted"));
	m = with_quic("clean_https", quic_step(true, false), cx);
	analyze_ok(m, fps);
	q = json_object_get(
		json_object_get(json_object_get(m, "test_keys"), "analysis"),
		"quic");
	assert_true(json_is_null(json_object_get(q, "blocking")));
	assert_string_equal(json_string_value(json_object_get(q, "reason")),
			    "control_incomplete");
	assert_true(json_is_true(json_object_get(
		json_object_get(m, "test_keys"), "accessible")));
	json_decref(m);
}

/* A control that ran no QUIC step (an older one): no verdict for it. */
static void
test_quic_step_old_control(void **state)
{
	json_t *m = with_quic("clean_https", quic_step(true, false),
			      quic_step(true, true));
	json_t *q;

	(void)state;
	json_object_del(
		json_object_get(json_object_get(m, "test_keys"), "control"),
		"exchanges");
	analyze_ok(m, fps);
	q = json_object_get(
		json_object_get(json_object_get(m, "test_keys"), "analysis"),
		"quic");
	assert_true(json_is_null(json_object_get(q, "blocking")));
	assert_string_equal(json_string_value(json_object_get(q, "reason")),
			    "control_incomplete");
	json_decref(m);
}

static int
setup(void **state)
{
	char err[512] = "";

	(void)state;
	fps = ww_fingerprints_new();
	if (ww_fingerprints_load_dir(fps, "testlists/fingerprints", err,
				     sizeof(err)) != 0) {
		print_error("fingerprints: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ww_fingerprints_free(fps);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_https),
		cmocka_unit_test(test_quic_step_absent),
		cmocka_unit_test(test_quic_step_verdicts),
		cmocka_unit_test(test_quic_step_old_control),
		cmocka_unit_test(test_quic_step_interrupted),
		cmocka_unit_test(test_quic_step_control_cut),
		cmocka_unit_test(test_clean_http),
		cmocka_unit_test(test_cdn_consistent_by_tls),
		cmocka_unit_test(test_dns_nxdomain),
		cmocka_unit_test(test_dns_timeout),
		cmocka_unit_test(test_down_nxdomain_both),
		cmocka_unit_test(test_dns_bogon),
		cmocka_unit_test(test_dns_injected),
		cmocka_unit_test(test_dns_injected_no_control),
		cmocka_unit_test(test_dns_injected_other_country),
		cmocka_unit_test(test_dns_inconsistent_tls),
		cmocka_unit_test(test_dns_inconsistent_http_lab),
		cmocka_unit_test(test_tcp_syn_timeout),
		cmocka_unit_test(test_tcp_syn_rst),
		cmocka_unit_test(test_down_tcp_both),
		cmocka_unit_test(test_tls_sni_reset),
		cmocka_unit_test(test_tls_sni_timeout),
		cmocka_unit_test(test_tls_sni_eof),
		cmocka_unit_test(test_tls_address_reset),
		cmocka_unit_test(test_tls_reset_no_neutral),
		cmocka_unit_test(test_down_tls_both),
		cmocka_unit_test(test_tls_mitm),
		cmocka_unit_test(test_tls_trust_store),
		cmocka_unit_test(test_http_blockpage),
		cmocka_unit_test(test_http_blockpage_redirect),
		cmocka_unit_test(test_http_diff),
		cmocka_unit_test(test_http_reset),
		cmocka_unit_test(test_http_redirect_timeout),
		cmocka_unit_test(test_down_http_both),
		cmocka_unit_test(test_dynamic_body_http),
		cmocka_unit_test(test_dynamic_body_https),
		cmocka_unit_test(test_https_451),
		cmocka_unit_test(test_https_server_side_body),
		cmocka_unit_test(test_https_control_http_failed),
		cmocka_unit_test(test_http_control_http_failed),
		cmocka_unit_test(test_no_control),
		cmocka_unit_test(test_no_control_success),
		cmocka_unit_test(test_control_incomplete),
		cmocka_unit_test(test_probe_offline),
		cmocka_unit_test(test_probe_offline_partial),
		cmocka_unit_test(test_network_check_ok),
		cmocka_unit_test(test_interrupted),
		cmocka_unit_test(test_endpoint_tls_ok),
		cmocka_unit_test(test_endpoint_tls_sni_reset),
		cmocka_unit_test(test_endpoint_tcp_ok),
		cmocka_unit_test(test_endpoint_tcp_refused),
		cmocka_unit_test(test_garbage_fields),
		cmocka_unit_test(test_missing_input),
		cmocka_unit_test(test_dns_failure_control_no_dns),
		cmocka_unit_test(test_tls_reset_control_no_entry),
		cmocka_unit_test(test_http_reset_control_no_http),
		cmocka_unit_test(test_hop_clean),
		cmocka_unit_test(test_hop_dns_nxdomain),
		cmocka_unit_test(test_hop_dns_down),
		cmocka_unit_test(test_hop_tcp_timeout),
		cmocka_unit_test(test_hop_tcp_down),
		cmocka_unit_test(test_hop_tls_sni_reset),
		cmocka_unit_test(test_hop_tls_eof_address),
		cmocka_unit_test(test_hop_no_control),
		cmocka_unit_test(test_hop_unknown_blockpage),
		cmocka_unit_test(test_hop_http_reset),
		cmocka_unit_test(test_cut_reset),
		cmocka_unit_test(test_cut_eof),
		cmocka_unit_test(test_cut_stall),
		cmocka_unit_test(test_throttled),
		cmocka_unit_test(test_throttled_nearly_done),
		cmocka_unit_test(test_throttled_control_slow),
		cmocka_unit_test(test_cut_reset_down),
		cmocka_unit_test(test_http_proxy_blockpage_headers),
		cmocka_unit_test(test_http_title_changes),
		cmocka_unit_test(test_http_empty_body),
		cmocka_unit_test(test_https_captcha_503),
		cmocka_unit_test(test_https_redirect_nowhere),
		cmocka_unit_test(test_https_both_404),
		cmocka_unit_test(test_https_403_control_500),
		cmocka_unit_test(test_dns_hijack_proxy_https),
		cmocka_unit_test(test_dns_hijack_proxy_http),
		cmocka_unit_test(test_dns_hijack_bogon_http),
		cmocka_unit_test(test_dns_hijack_other_page_http),
		cmocka_unit_test(test_dns_hijack_mitm_https),
		cmocka_unit_test(test_dns_hijack_redirect_elsewhere),
		cmocka_unit_test(test_redirect_loop_both),
		cmocka_unit_test(test_redirect_loop_probe_only),
		cmocka_unit_test(test_probe_offline_netunreach),
		cmocka_unit_test(test_probe_offline_no_resolver),
		cmocka_unit_test(test_probe_offline_no_control),
		cmocka_unit_test(test_tcp_host_unreachable),
		cmocka_unit_test(test_tcp_v4_timeout_no_v6),
		cmocka_unit_test(test_hop_tcp_timeout_ooni_control),
		cmocka_unit_test(test_hop_dns_nxdomain_ooni_control),
		cmocka_unit_test(test_http_netunreach),
		cmocka_unit_test(test_http_control_no_final),
		cmocka_unit_test(test_dns_bogon_unroutable),
		cmocka_unit_test(test_offline_cached_answer),
		cmocka_unit_test(test_redirect_broken_both),
		cmocka_unit_test(test_redirect_unfollowable_both),
		cmocka_unit_test(test_https_451_control_failed),
		cmocka_unit_test(test_ooni_redirect_tls_reset),
		cmocka_unit_test(test_hop_url_spelling),
		cmocka_unit_test(test_hop_url_other_path),
		cmocka_unit_test(test_localhost_both),
		cmocka_unit_test(test_redteam_redirect_token_query_blocked),
		cmocka_unit_test(test_redteam_control_refused_503_http),
		cmocka_unit_test(test_redteam_blockpage_same_title),
		cmocka_unit_test(test_redteam_blockpage_shared_title_word),
		cmocka_unit_test(test_redteam_blockpage_no_titles),
		cmocka_unit_test(test_redteam_throttle_bursty_shaper),
		cmocka_unit_test(test_https_throttled_wire),
		cmocka_unit_test(test_https_stall_wire),
		cmocka_unit_test(test_https_throttled_no_wire),
		cmocka_unit_test(test_redteam_blockpage_same_length),
		cmocka_unit_test(test_redteam_close_delimited_cut),
		cmocka_unit_test(test_redteam_geodns_georedirect),
		cmocka_unit_test(test_https_tiny_same_title),
		cmocka_unit_test(test_http_no_titles_near),
		cmocka_unit_test(test_http_no_titles_far),
		cmocka_unit_test(test_https_control_refused_429),
		cmocka_unit_test(test_pk_dns_injected_other_page_http),
		cmocka_unit_test(test_pk_dns_injected_page_intact_http),
		cmocka_unit_test(test_pk_dns_injected_page_intact_https),
		cmocka_unit_test(test_pk_dns_race_no_control),
		cmocka_unit_test(test_pk_dns_race_nxdomain_no_capture),
		cmocka_unit_test(test_pk_dns_race_same_answer),
		cmocka_unit_test(test_pk_dns_retransmission_differs),
		cmocka_unit_test(test_pk_http_diff_injected),
		cmocka_unit_test(test_pk_http_diff_server_ttl),
		cmocka_unit_test(test_pk_http_reset_burst),
		cmocka_unit_test(test_pk_ipv6_tls_reset_no_control),
		cmocka_unit_test(test_pk_malformed),
		cmocka_unit_test(test_pk_tcp_refused_other_flow),
		cmocka_unit_test(test_pk_tls_reset_same_ttl),
		cmocka_unit_test(test_pk_tls_reset_same_ttl_no_control),
		cmocka_unit_test(test_pk_tls_reset_ttl),
		cmocka_unit_test(test_pk_tls_reset_ttl_one_hop),
		cmocka_unit_test(test_pk_tls_server_after_rst),
		cmocka_unit_test(test_pk_http_injected_no_control),
		cmocka_unit_test(test_pk_tls_reset_forged_address),
		cmocka_unit_test(test_pk_tls_reset_ttl_by_tid),
		cmocka_unit_test(test_pk_tls_reset_tid_ambiguous),
		cmocka_unit_test(test_pk_tls_reset_other_initial_ttl),
		cmocka_unit_test(test_pk_tls_reset_syn_proxy),
		cmocka_unit_test(test_pk_http_abort_acks_in_flight),
		cmocka_unit_test(test_pk_dns_overlap_round_robin),
		cmocka_unit_test(test_not_a_measurement),
		cmocka_unit_test(test_rerun_in_place),
		cmocka_unit_test(test_replaces_old_keys),
		cmocka_unit_test(test_no_fingerprints),
		cmocka_unit_test(test_bogon_ranges),
		cmocka_unit_test(test_bogon_also_at_control),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_odd_control_is_null),
		cmocka_unit_test(test_base64_body),
		cmocka_unit_test(test_packets_odd_values),
		cmocka_unit_test(test_packets_bounded),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
