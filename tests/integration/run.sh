#!/bin/sh
# run.sh PROBE FAKENET - integration tests: the real probe against servers
# on loopback (tests/fake/fakenet): a DNS server that answers, NXDOMAINs,
# refuses and stays silent; TLS servers with a good, wrong-name, self-signed
# and expired certificate, one that resets after the ClientHello, one that
# never answers, an SNI filter; an HTTP server. Asserts the exact
# observations and failure strings. Nothing leaves 127.0.0.1.
set -u
PROBE=$1
FAKENET=$2
. tests/integration/lib.sh
lab_start "$FAKENET"

OUT=$LAB/out.jsonl
H=good.lab.test
G=https://$H:$TLS_GOOD_PORT
P=http://$H:$HTTP_PORT

# m INPUT JQ: evaluate JQ on the measurement of INPUT (raw output).
m() {
	jq -r --arg in "$1" "select(.input == \$in) | $2" "$OUT"
}

probe() {
	"$PROBE" run --resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" \
		--timeout 2 "$@"
}

# --- one run over every scenario -------------------------------------------
set -- \
	"$P/" "$G/" "https://$H:$TLS_WRONG_PORT/" \
	"https://$H:$TLS_SELFSIGNED_PORT/" "https://$H:$TLS_EXPIRED_PORT/" \
	"https://$H:$TLS_RESET_PORT/" "https://$H:$TLS_SILENT_PORT/" \
	"https://blocked.lab.test:$TLS_SNI_PORT/" \
	"https://dropped.lab.test:$TLS_SNI_PORT/" \
	"https://allowed.lab.test:$TLS_SNI_PORT/" \
	"http://nx.lab.test/" "http://refused.lab.test/" \
	"http://servfail.lab.test/" "http://silent.lab.test/" \
	"http://noaddr.lab.test/" "http://cname.lab.test:$HTTP_PORT/" \
	"http://v6.lab.test:$HTTP_PORT/" "http://multi.lab.test:$HTTP_PORT/" \
	"$P/redirect" "$P/redirect-abs" "$P/loop" "$P/big" "$P/reset" \
	"http://other.lab.test:$HTTP_PORT/redirect-abs" "$P/redirect-nx" \
	"$P/binary" "$P/blockpage" "$G/redirect" \
	"tcp://$H:$TCP_OPEN_PORT" "tcp://$H:$TCP_CLOSED_PORT" \
	"tls://$H:$TLS_GOOD_PORT" "tls://$H:$TLS_RESET_PORT" \
	"http://127.0.0.1:$HTTP_PORT/"
n_inputs=$#
args=
for u in "$@"; do
	args="$args --input $u"
done
start=$(date +%s%N)
# shellcheck disable=SC2086
probe $args --output "$OUT" --concurrency 64 2>"$LAB/probe.err"
check "probe exits 0 when every target was measured" 0 $?
elapsed=$((($(date +%s%N) - start) / 1000000))
# (and, run without root or CAP_NET_RAW, the one line saying that packet
# capture is off: tests/integration/capture.sh checks it)
check "probe is silent on stderr without a terminal (bar its last line)" 1 \
	"$(grep -vc 'packet capture is off' "$LAB/probe.err")"
check "one line per target" "$n_inputs" "$(wc -l <"$OUT")"
check "every line is a JSON object" "$n_inputs" \
	"$(jq -c 'select(type == "object")' "$OUT" | wc -l)"
# In parallel, the measurements' own runtimes add up to more than the run
# took; one after another, never (whatever the machine's speed).
busy=$(jq -s 'map(.test_runtime) | add * 1000 | floor' "$OUT")
[ "$busy" -gt "$elapsed" ] 2>/dev/null &&
	ok "the run took ${elapsed} ms for ${busy} ms of measuring (targets in parallel)" ||
	not_ok "the run took ${elapsed} ms for ${busy} ms of measuring: not in parallel"

# --- envelope ----------------------------------------------------------------
check "probe_ip is never the volunteer's" "127.0.0.1" "$(m "$P/" .probe_ip)"
check "test_name of a URL" wallwatch_web "$(m "$P/" .test_name)"
check "test_name of an endpoint" wallwatch_endpoint \
	"$(m "tcp://$H:$TCP_OPEN_PORT" .test_name)"
check_match "measurement_start_time format" \
	'^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$' \
	"$(m "$P/" .measurement_start_time)"
check "measurement_uid is unique" "$n_inputs" \
	"$(jq -r .measurement_uid "$OUT" | sort -u | wc -l)"
check "one report_id per test name" 2 \
	"$(jq -r .report_id "$OUT" | sort -u | wc -l)"
check "defaults when unknown" "AS0 ZZ" \
	"$(m "$P/" '"\(.probe_asn) \(.probe_cc)"')"
check "resolver recorded" "127.0.0.1:$DNS_PORT" \
	"$(m "$P/" '.test_keys.queries[0].resolver_address')"

# --- DNS ----------------------------------------------------------------------
check "A answer with TTL" "A 127.0.0.1 300 0 null" \
	"$(m "$P/" '.test_keys.queries[] | select(.query_type=="A") |
	  "\(.answers[0].answer_type) \(.answers[0].ipv4) \(.answers[0].ttl) \(.rcode) \(.failure)"')"
check "AAAA without answer" "dns_no_answer 0" \
	"$(m "$P/" '.test_keys.queries[] | select(.query_type=="AAAA") | "\(.failure) \(.rcode)"')"
check "raw reply kept" true \
	"$(m "$P/" '.test_keys.queries[0].raw_response | length > 20')"
check "NXDOMAIN" "dns_nxdomain_error 3 dns_nxdomain_error 3" \
	"$(m http://nx.lab.test/ '[.test_keys.queries[] | "\(.failure) \(.rcode)"] | join(" ")')"
check "NXDOMAIN: nothing else measured" "0 0" \
	"$(m http://nx.lab.test/ '"\(.test_keys.tcp_connect | length) \(.test_keys.requests | length)"')"
check "REFUSED" "dns_refused_error 5" \
	"$(m http://refused.lab.test/ '.test_keys.queries[0] | "\(.failure) \(.rcode)"')"
check "SERVFAIL" "dns_servfail_error 2" \
	"$(m http://servfail.lab.test/ '.test_keys.queries[0] | "\(.failure) \(.rcode)"')"
check "silent resolver" "generic_timeout_error null" \
	"$(m http://silent.lab.test/ '.test_keys.queries[0] | "\(.failure) \(.rcode)"')"
# (1 to 4 s for --timeout 2: a late timer under load is not a failure;
# c-ares's own schedule, 5 s and more, would be)
check_match "silent resolver: step bounded by --timeout" '^[123]\.' \
	"$(m http://silent.lab.test/ '.test_keys.queries[0] | .t - .t0')"
check "NOERROR without addresses" "dns_no_answer dns_no_answer" \
	"$(m http://noaddr.lab.test/ '[.test_keys.queries[].failure] | join(" ")')"
check "CNAME chain with its own TTL" "CNAME good.lab.test 60,A 127.0.0.1 300" \
	"$(m "http://cname.lab.test:$HTTP_PORT/" '[.test_keys.queries[] | select(.query_type=="A") | .answers[] | "\(.answer_type) \(.hostname // .ipv4) \(.ttl)"] | join(",")')"
check "AAAA answer" "::1" \
	"$(m "http://v6.lab.test:$HTTP_PORT/" '.test_keys.queries[] | select(.query_type=="AAAA") | .answers[0].ipv6')"

# --- TCP ----------------------------------------------------------------------
check "both families measured" "127.0.0.1 true,::1 connection_refused" \
	"$(m "http://v6.lab.test:$HTTP_PORT/" '[.test_keys.tcp_connect[] | "\(.ip) \(.status.failure // .status.success)"] | join(",")')"
check "every address measured" "127.0.0.1,127.0.0.2" \
	"$(m "http://multi.lab.test:$HTTP_PORT/" '[.test_keys.tcp_connect[].ip] | join(",")')"
check "tcp:// open port" "true 0 0" \
	"$(m "tcp://$H:$TCP_OPEN_PORT" '"\(.test_keys.tcp_connect[0].status.success) \(.test_keys.tls_handshakes | length) \(.test_keys.requests | length)"')"
check "tcp:// closed port" connection_refused \
	"$(m "tcp://$H:$TCP_CLOSED_PORT" '.test_keys.tcp_connect[0].status.failure')"
check "IP literal: no DNS" "0 true" \
	"$(m "http://127.0.0.1:$HTTP_PORT/" '"\(.test_keys.queries | length) \(.test_keys.tcp_connect[0].status.success)"')"

# --- TLS ----------------------------------------------------------------------
tls() { # INPUT ROLE FIELDS
	m "$1" ".test_keys.tls_handshakes[] | select(.sni_role==\"$2\") | $3"
}
check "valid certificate" "good.lab.test true true null" \
	"$(tls "$G/" target '"\(.server_name) \(.handshake_done) \(.verified) \(.failure)"')"
check "neutral SNI handshake on the same address" \
	"example.com true ssl_invalid_hostname" \
	"$(tls "$G/" control '"\(.server_name) \(.handshake_done) \(.failure)"')"
check "peer chain recorded" "CN=good.lab.test true" \
	"$(tls "$G/" target '"\(.peer_certificates[0].subject) \(.peer_certificates[0].sans | index("DNS:good.lab.test") != null)"')"
check_match "issuer is the test CA" "Wallwatch Test CA" \
	"$(tls "$G/" target '.peer_certificates[0].issuer')"
check "certificate SHA-256 is of its DER" \
	"$(tls "$G/" target '.peer_certificates[0].data' | base64 -d | sha256sum | cut -d' ' -f1)" \
	"$(tls "$G/" target '.peer_certificates[0].sha256')"
check_match "TLS version and cipher" '^TLSv1\.[23] TLS_' \
	"$(tls "$G/" target '"\(.tls_version) \(.cipher_suite)"')"
check "wrong name" "ssl_invalid_hostname false true" \
	"$(tls "https://$H:$TLS_WRONG_PORT/" target '"\(.failure) \(.verified) \(.handshake_done)"')"
check "self-signed" "ssl_unknown_authority" \
	"$(tls "https://$H:$TLS_SELFSIGNED_PORT/" target .failure)"
check "expired" "ssl_invalid_certificate certificate has expired" \
	"$(tls "https://$H:$TLS_EXPIRED_PORT/" target '"\(.failure) \(.verify_error)"')"
check "reset after ClientHello" "connection_reset connection_reset" \
	"$(m "https://$H:$TLS_RESET_PORT/" '[.test_keys.tls_handshakes[].failure] | join(" ")')"
check "reset: the TCP connect itself worked" true \
	"$(m "https://$H:$TLS_RESET_PORT/" '.test_keys.tcp_connect[0].status.success')"
check "silent TLS server" "generic_timeout_error" \
	"$(tls "https://$H:$TLS_SILENT_PORT/" target .failure)"
check "SNI filter: target SNI reset" connection_reset \
	"$(tls "https://blocked.lab.test:$TLS_SNI_PORT/" target .failure)"
check "SNI filter: control SNI passes on the same address" true \
	"$(tls "https://blocked.lab.test:$TLS_SNI_PORT/" control .handshake_done)"
check "SNI filter: dropped SNI times out" generic_timeout_error \
	"$(tls "https://dropped.lab.test:$TLS_SNI_PORT/" target .failure)"
check "SNI filter: other names pass" "null 200" \
	"$(m "https://allowed.lab.test:$TLS_SNI_PORT/" '"\(.test_keys.tls_handshakes[] | select(.sni_role=="target") | .failure) \(.test_keys.requests[0].response.code)"')"
check "tls:// endpoint: handshakes, no HTTP" "2 0" \
	"$(m "tls://$H:$TLS_GOOD_PORT" '"\(.test_keys.tls_handshakes | length) \(.test_keys.requests | length)"')"
check "tls:// endpoint reset" connection_reset \
	"$(tls "tls://$H:$TLS_RESET_PORT" target .failure)"

# --- HTTP ---------------------------------------------------------------------
req() { m "$1" ".test_keys.requests[0] | $2"; } # the final hop (OONI order)
check "HTTP 200 with title" "200 Wallwatch lab page null" \
	"$(req "$P/" '"\(.response.code) \(.response.title) \(.failure)"')"
check_match "body kept" "Hello from the lab" "$(req "$P/" .response.body)"
check "body SHA-256 and length" \
	"$(req "$P/" .response.body | head -c "$(req "$P/" .response.body_length)" | sha256sum | cut -d' ' -f1)" \
	"$(req "$P/" .response.body_sha256)"
check "response headers" 1 "$(req "$P/" '.response.headers["X-Wallwatch-Lab"]')"
check_match "browser-like User-Agent" '^Mozilla/5\.0 .*Chrome/' \
	"$(req "$P/" '.request.headers["User-Agent"]')"
check "pinned to the measured address" "127.0.0.1:$HTTP_PORT" \
	"$(req "$P/" .address)"
check "HTTPS 200" "200 Wallwatch lab page" \
	"$(req "$G/" '"\(.response.code) \(.response.title)"')"
check "HTTPS wrong name" ssl_invalid_hostname \
	"$(req "https://$H:$TLS_WRONG_PORT/" .failure)"
check "HTTPS self-signed" ssl_unknown_authority \
	"$(req "https://$H:$TLS_SELFSIGNED_PORT/" .failure)"
check "HTTPS expired" ssl_invalid_certificate \
	"$(req "https://$H:$TLS_EXPIRED_PORT/" .failure)"
check "HTTPS reset" connection_reset \
	"$(req "https://$H:$TLS_RESET_PORT/" .failure)"
check "HTTPS silent" generic_timeout_error \
	"$(req "https://$H:$TLS_SILENT_PORT/" .failure)"
check "redirect: every hop, newest first" "200 $P/,302 $P/redirect" \
	"$(m "$P/redirect" '[.test_keys.requests[] | "\(.response.code) \(.request.url)"] | join(",")')"
check "absolute redirect" "200 2" \
	"$(m "$P/redirect-abs" '"\(.test_keys.requests[0].response.code) \(.test_keys.requests | length)"')"
check "redirect to another host: resolved by our DNS step, then pinned" \
	"other.lab.test other.lab.test good.lab.test good.lab.test|200 127.0.0.1:$HTTP_PORT http://good.lab.test:$HTTP_PORT/" \
	"$(m "http://other.lab.test:$HTTP_PORT/redirect-abs" '"\([.test_keys.queries[].hostname] | join(" "))|\(.test_keys.requests[0].response.code) \(.test_keys.requests[0].address) \(.test_keys.requests[0].request.url)"')"
check "redirect to a host that does not resolve" \
	"dns_nxdomain_error null http://nx.lab.test:$HTTP_PORT/ 302" \
	"$(m "$P/redirect-nx" '"\(.test_keys.requests[0].failure) \(.test_keys.requests[0].response) \(.test_keys.requests[0].request.url) \(.test_keys.requests[1].response.code)"')"
check "HTTPS redirect" "200 2" \
	"$(m "$G/redirect" '"\(.test_keys.requests[0].response.code) \(.test_keys.requests | length)"')"
check "redirect loop stops after 10 redirects" "11 302" \
	"$(m "$P/loop" '"\(.test_keys.requests | length) \(.test_keys.requests[0].response.code)"')"
check "big body: length, kept prefix" "200000 65536 true" \
	"$(req "$P/big" '"\(.response.body_length) \(.response.body | length) \(.response.body_is_truncated)"')"
check "big body: SHA-256 of all of it" \
	"$(curl -s --noproxy "*" --resolve "$H:$HTTP_PORT:127.0.0.1" "$P/big" | sha256sum | cut -d' ' -f1)" \
	"$(req "$P/big" .response.body_sha256)"
check "HTTP reset mid-request" connection_reset "$(req "$P/reset" .failure)"
check "binary body as base64" "base64 4096" \
	"$(req "$P/binary" .response.body.format) $(req "$P/binary" .response.body.data | base64 -d | wc -c)"
check "blockpage status and title" "403 Access denied" \
	"$(req "$P/blockpage" '"\(.response.code) \(.response.title)"')"

finish
