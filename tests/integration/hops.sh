#!/bin/sh
# hops.sh PROBE COLLECTOR FAKENET - every redirect hop measured like the
# first URL, by the real probe and by a real control (wallwatch-collector
# --control-only) against fakenet on loopback: a redirect to another host
# gets its own DNS, TCP and TLS records with its hop; a redirect to a name
# that does not resolve, to a closed port, to a TLS server that resets; a
# response cut after its headers (RST, EOF, silence) keeps the response and
# the failure; a throttled body shows its low rate; a redirect loop stops
# at the 11th request with http_too_many_redirects; the control's "hops"
# match the probe's. Nothing leaves 127.0.0.1.
set -u
PROBE=$1
COLLECTOR=$2
FAKENET=$3
. tests/integration/lib.sh
lab_start "$FAKENET"
COL_PID=

cleanup_all() {
	if [ -n "$COL_PID" ]; then
		kill "$COL_PID" 2>/dev/null
		wait "$COL_PID" 2>/dev/null
	fi
	lab_cleanup
}
trap cleanup_all EXIT

collector_up "$LAB/control.err" "$COLLECTOR" --control-only --allow-private \
	--resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" --timeout 2

P=http://good.lab.test:$HTTP_PORT
G=https://good.lab.test:$TLS_GOOD_PORT
OUT=$LAB/out.jsonl

# to URL: a fakenet URL that redirects (302) to URL, percent-encoded.
to() {
	printf '%s/to?u=%s' "$P" "$(printf '%s' "$1" | jq -sRr @uri)"
}

OTHER=https://other.lab.test:$TLS_GOOD_PORT/
NX=http://nx.lab.test:$HTTP_PORT/
CLOSED=http://good.lab.test:$TCP_CLOSED_PORT/
RESET=https://reset.lab.test:$TLS_RESET_PORT/
set -- "$(to "$OTHER")" "$(to "$NX")" "$(to "$CLOSED")" "$(to "$RESET")" \
	"$P/cut-reset" "$P/cut-eof" "$P/cut-stall" "$G/cut-reset" \
	"$P/throttle?bps=100" "$P/loop" "$P/chain/3"
n_inputs=$#
args=
for u in "$@"; do
	args="$args --input $u"
done
# shellcheck disable=SC2086
"$PROBE" run $args --resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" \
	--timeout 2 --quiet --output "$OUT" --control "http://127.0.0.1:$PORT" \
	2>"$LAB/probe.err"
check "probe exits 0" 0 $?
check "one line per target" "$n_inputs" "$(wc -l <"$OUT")"

# m INPUT JQ: JQ on the measurement of INPUT (raw output).
m() {
	jq -r --arg in "$1" "select(.input == \$in) | .test_keys | $2" "$OUT"
}

check "every record has a hop" 0 "$(jq '[.test_keys |
	(.queries[], .tcp_connect[], .tls_handshakes[], .requests[]) |
	select(has("hop") | not)] | length' "$OUT" | sort -u)"
check "every request has its transfer" 0 "$(jq '[.test_keys.requests[] |
	select(.transfer | type != "object")] | length' "$OUT" | sort -u)"
check "every control answered" 0 "$(jq -r '.test_keys.control_failure' "$OUT" |
	grep -vc '^null$')"

# --- a redirect to another host: its own DNS, TCP and TLS ----------------------
I=$(to "$OTHER")
check "other host: DNS of hop 1" "other.lab.test A 1,other.lab.test AAAA 1" \
	"$(m "$I" '[.queries[] | select(.hop == 1) |
		"\(.hostname) \(.query_type) \(.hop)"] | join(",")')"
check "other host: hop 0 resolved good.lab.test" "good.lab.test,good.lab.test" \
	"$(m "$I" '[.queries[] | select(.hop == 0) | .hostname] | join(",")')"
check "other host: TCP of hop 1 to the https port" "127.0.0.1:$TLS_GOOD_PORT true" \
	"$(m "$I" '.tcp_connect[] | select(.hop == 1) |
		"\(.ip):\(.port) \(.status.success)"')"
check "other host: control then target TLS in hop 1" \
	"control example.com 1,target other.lab.test 1" \
	"$(m "$I" '[.tls_handshakes[] |
		"\(.sni_role) \(.server_name) \(.hop)"] | join(",")')"
check "other host: target handshake verified" true \
	"$(m "$I" '.tls_handshakes[] | select(.sni_role == "target") | .verified')"
check "other host: requests by hop" "1 200 null,0 302 null" \
	"$(m "$I" '[.requests[] | "\(.hop) \(.response.code) \(.failure)"] |
		join(",")')"
check "other host: hop 1's URL" "$OTHER" "$(m "$I" '.requests[0].request.url')"
check "other host: control has 2 hops" 2 "$(m "$I" '.control.hops | length')"
check "other host: control hop URLs match the probe's" \
	"$(m "$I" '[.requests | reverse[] | .request.url] | tojson')" \
	"$(m "$I" '[.control.hops[].url] | tojson')"
check "other host: control hop 1 DNS" "other.lab.test [\"127.0.0.1\"]" \
	"$(m "$I" '.control.hops[1].dns | "\(.host) \(.addrs | tojson)"')"
check "other host: control hop 1 TLS with the hop's name" "other.lab.test true" \
	"$(m "$I" ".control.hops[1].tls_handshake[\"127.0.0.1:$TLS_GOOD_PORT\"] |
		\"\(.server_name) \(.verified)\"")"
check "other host: control hop 0 location" "$OTHER" \
	"$(m "$I" '.control.hops[0].http_request.location')"
check "other host: control hop 1 status" 200 \
	"$(m "$I" '.control.hops[1].http_request.status_code')"
check "other host: control top level stays hop 0's" "[\"127.0.0.1:$HTTP_PORT\"]" \
	"$(m "$I" '.control.tcp_connect | keys | tojson')"
check "other host: control final response" 200 \
	"$(m "$I" '.control.http_request.status_code')"

# --- a redirect to a name that does not resolve ---------------------------------
I=$(to "$NX")
check "nx: DNS of hop 1 fails" "dns_nxdomain_error dns_nxdomain_error" \
	"$(m "$I" '[.queries[] | select(.hop == 1) | .failure] | join(" ")')"
check "nx: hop 1's request written with the DNS failure" \
	"1 $NX dns_nxdomain_error null" \
	"$(m "$I" '.requests[0] |
		"\(.hop) \(.request.url) \(.failure) \(.response)"')"
check "nx: no connect in hop 1" 0 \
	"$(m "$I" '[.tcp_connect[] | select(.hop == 1)] | length')"
check "nx: control hop 1 the same" "nx.lab.test dns_nxdomain_error dns_nxdomain_error" \
	"$(m "$I" '.control.hops[1] |
		"\(.dns.host) \(.dns.failure) \(.http_request.failure)"')"

# --- a redirect to a closed port of a host resolved in hop 0 ----------------------
I=$(to "$CLOSED")
check "closed: no new DNS for a known host" 0 \
	"$(m "$I" '[.queries[] | select(.hop == 1)] | length')"
check "closed: hop 1's connect refused" \
	"127.0.0.1:$TCP_CLOSED_PORT connection_refused" \
	"$(m "$I" '.tcp_connect[] | select(.hop == 1) |
		"\(.ip):\(.port) \(.status.failure)"')"
check "closed: hop 1's request refused" "1 connection_refused" \
	"$(m "$I" '.requests[0] | "\(.hop) \(.failure)"')"
check "closed: control hop 1" "null connection_refused connection_refused" \
	"$(m "$I" ".control.hops[1] | \"\(.dns) \(.tcp_connect[\"127.0.0.1:$TCP_CLOSED_PORT\"].failure) \(.http_request.failure)\"")"

# --- an https hop whose TLS is reset ----------------------------------------------
I=$(to "$RESET")
check "reset: both handshakes of hop 1 reset" \
	"control connection_reset 1,target connection_reset 1" \
	"$(m "$I" '[.tls_handshakes[] |
		"\(.sni_role) \(.failure) \(.hop)"] | join(",")')"
check "reset: hop 1's request reset" "1 connection_reset" \
	"$(m "$I" '.requests[0] | "\(.hop) \(.failure)"')"
check "reset: control hop 1 handshake reset" "reset.lab.test connection_reset" \
	"$(m "$I" ".control.hops[1].tls_handshake[\"127.0.0.1:$TLS_RESET_PORT\"] |
		\"\(.server_name) \(.failure)\"")"

# --- cut after the headers: the response stays, and the failure ------------------
for c in "$P/cut-reset connection_reset" "$P/cut-eof eof_error" \
	"$P/cut-stall generic_timeout_error" "$G/cut-reset connection_reset"; do
	I=${c% *}
	want=${c#* }
	check "${I##*/} (${I%%:*}): response kept, failure $want" \
		"200 Wallwatch cut page 1000 false $want" \
		"$(m "$I" '.requests[0] | "\(.response.code) \(.response.title) \(.response.body_length) \(.response.body_is_truncated) \(.failure)"')"
	check "${I##*/} (${I%%:*}): transfer counts the 1000 body bytes" \
		"1000 true true" \
		"$(m "$I" '.requests[0].transfer |
			"\(.body_bytes) \(.bytes > 1000) \(.t_first_byte != null)"')"
	check "${I##*/} (${I%%:*}): control saw the same" "200 $want" \
		"$(m "$I" '.control.hops[0].http_request |
			"\(.status_code) \(.failure)"')"
done

# --- throttled: bytes keep coming, far too slowly ------------------------------------
I="$P/throttle?bps=100"
check "throttle: timed out with the response" "200 generic_timeout_error" \
	"$(m "$I" '.requests[0] | "\(.response.code) \(.failure)"')"
check "throttle: some body, far from the 100000" true \
	"$(m "$I" '.requests[0].transfer | .body_bytes > 0 and .body_bytes < 100000')"
# fakenet sends 100 bytes/s at most: the rate is that, whatever the load
# (10x leaves room for headers that came late).
check "throttle: a low rate" true \
	"$(m "$I" '.requests[0].transfer.rate | . != null and . > 0 and . < 1000')"
check "throttle: control hop 0 has a transfer" true \
	"$(m "$I" '.control.hops[0].http_request.transfer.body_bytes < 100000')"

# --- a redirect loop: the 11th request fails --------------------------------------
I="$P/loop"
check "loop: 11 requests" 11 "$(m "$I" '.requests | length')"
check "loop: hops 10..0, newest first" "[10,9,8,7,6,5,4,3,2,1,0]" \
	"$(m "$I" '[.requests[].hop] | tojson')"
check "loop: the 11th keeps its 302 and fails" "302 http_too_many_redirects" \
	"$(m "$I" '.requests[0] | "\(.response.code) \(.failure)"')"
check "loop: the others did not fail" "[null]" \
	"$(m "$I" '[.requests[1:][].failure] | unique | tojson')"
check "loop: nothing measured twice (one connect, one DNS)" "1 2" \
	"$(m "$I" '"\(.tcp_connect | length) \(.queries | length)"')"
check "loop: control has 11 hops" 11 "$(m "$I" '.control.hops | length')"
check "loop: control's last hop fails the same" http_too_many_redirects \
	"$(m "$I" '.control.hops[10].http_request.failure')"

# --- a chain on one host ----------------------------------------------------------------
I="$P/chain/3"
check "chain: 4 requests, the last the page" "0 302,1 302,2 302,3 200" \
	"$(m "$I" '[.requests | reverse[] | "\(.hop) \(.response.code)"] | join(",")')"
check "chain: control hops match" 4 "$(m "$I" '.control.hops | length')"

# --- clean ends (under ASan: no report, no leak) ---------------------------------------
check "probe: nothing on stderr" "" "$(cat "$LAB/probe.err")"
kill "$COL_PID"
wait "$COL_PID"
check "control: SIGTERM exits 0" 0 $?
COL_PID=
check "control: no sanitizer report" 0 \
	"$(grep -c 'Sanitizer\|runtime error' "$LAB/control.err")"

finish
