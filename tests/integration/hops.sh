#!/bin/sh
# hops.sh PROBE COLLECTOR FAKENET - every redirect hop measured like the
# first URL, by the real probe and by a real control (wallwatch-collector
# --control-only) against fakenet on loopback: a redirect to another host
# gets its own DNS, TCP and TLS records with its hop; a redirect to a name
# that does not resolve, to a closed port, to a TLS server that resets; a
# response cut after its headers (RST, EOF, silence) keeps the response and
# the failure; a throttled body shows its low rate; a redirect loop stops
# at the 11th request with http_too_many_redirects; the control's "hops"
# match the probe's. Then the engine's handling of hosts: IPv6 literals
# (a second fakenet on ::1; no SNI), IDN input and U-label redirects
# (fetched as A-labels), a trailing dot (dropped), a Location we cannot
# follow (a record that says why); and the wire figures (TCP_INFO), also
# behind fakenet's shaper. Nothing leaves the loopback.
set -u
PROBE=$1
COLLECTOR=$2
FAKENET=$3
. tests/integration/lib.sh
lab_start "$FAKENET"
COL_PID=

V6_PID=

cleanup_all() {
	if [ -n "$COL_PID" ]; then
		kill "$COL_PID" 2>/dev/null
		wait "$COL_PID" 2>/dev/null
	fi
	if [ -n "$V6_PID" ]; then
		kill "$V6_PID" 2>/dev/null
		wait "$V6_PID" 2>/dev/null
	fi
	lab_cleanup
}
trap cleanup_all EXIT

# A second fakenet on ::1 (same certificates; good.pem names IP ::1 too),
# for IPv6 literals; --verbose logs the SNI of each HTTPS request.
V6=$LAB/v6
mkdir "$V6" && cp "$LAB"/*.pem "$LAB"/*.key "$V6"/
"$FAKENET" --dir "$V6" --bind ::1 --lifetime 3600 --verbose \
	>"$V6/out" 2>"$V6/err" &
V6_PID=$!
if ! wait_until 120 alive_and_not "$V6_PID" grep -q ready "$V6/out" ||
	! grep -q ready "$V6/out"; then
	echo "fakenet on ::1 did not start:" >&2
	cat "$V6/err" >&2
	exit 1
fi
V6_HTTP=$(sed -n 's/^HTTP_PORT=//p' "$V6/ports.env")
V6_TLS=$(sed -n 's/^TLS_GOOD_PORT=//p' "$V6/ports.env")

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
V6H="http://[::1]:$V6_HTTP/"
V6S="https://[::1]:$V6_TLS/"
V4S="https://127.0.0.1:$TLS_GOOD_PORT/"
# BÜCHER / bücher in UTF-8: xn--bcher-kva
IDN=$(printf 'http://B\303\234CHER.lab.test:%s/' "$HTTP_PORT")
IDNS=$(printf 'https://b\303\274cher.lab.test:%s/' "$TLS_GOOD_PORT")
ULABEL=$(printf 'http://b\303\274cher.lab.test:%s/' "$HTTP_PORT")
ALABEL_P=http://xn--bcher-kva.lab.test:$HTTP_PORT/
DOT=http://OTHER.lab.test.:$HTTP_PORT/
set -- "$(to "$OTHER")" "$(to "$NX")" "$(to "$CLOSED")" "$(to "$RESET")" \
	"$P/cut-reset" "$P/cut-eof" "$P/cut-stall" "$G/cut-reset" \
	"$P/throttle?bps=100" "$G/throttle?bps=100" "$P/loop" "$P/chain/3" \
	"$(to "$V6H")" "$(to "$V6S")" "$V6S" "$V4S" "$IDN" "$IDNS" \
	"$(to "$ULABEL")" "$(to "$DOT")" "$(to ftp://ftp.lab.test/)" \
	"$(to http://a..b.lab.test/)" "$P/to?u=http://b%FCcher.lab.test/" \
	"https://good.lab.test:$TLS_SHAPED_PORT/big"
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

# --- IPv6 literals: no RESOLVE pin (curl cannot parse one), no SNI -------------------
I=$(to "$V6H")
check "v6 redirect: hop 1 fetched from [::1]" \
	"1 $V6H 200 null [::1]:$V6_HTTP" \
	"$(m "$I" '.requests[0] |
		"\(.hop) \(.request.url) \(.response.code) \(.failure) \(.address)"')"
check "v6 redirect: hop 1 connect to ::1, no DNS" "::1 true 0" \
	"$(m "$I" '"\(.tcp_connect[] | select(.hop == 1) | "\(.ip) \(.status.success)") \([.queries[] | select(.hop == 1)] | length)"')"
check "v6 redirect: control hop 1" "$V6H null 200" \
	"$(m "$I" '.control.hops[1] | "\(.url) \(.dns) \(.http_request.status_code)"')"
I=$(to "$V6S")
check "v6 https redirect: hop 1 fetched" "1 200 null" \
	"$(m "$I" '.requests[0] | "\(.hop) \(.response.code) \(.failure)"')"
check "v6 https redirect: target handshake verified for the address" \
	"::1 true" \
	"$(m "$I" '.tls_handshakes[] | select(.hop == 1 and .sni_role == "target") |
		"\(.server_name) \(.verified)"')"
check "v6 https redirect: control hop 1" "200 true" \
	"$(m "$I" ".control.hops[1] | \"\(.http_request.status_code) \(.tls_handshake[\"[::1]:$V6_TLS\"].verified)\"")"
for I in "$V6S" "$V4S"; do
	check "$I input: the control answered" null "$(m "$I" '.control_failure')"
	check "$I input: fetched, target handshake verified" "0 200 null true" \
		"$(m "$I" '"\(.requests[0] | "\(.hop) \(.response.code) \(.failure)") \(.tls_handshakes[] | select(.sni_role == "target") | .verified)"')"
	check "$I input: the neutral-SNI handshake stays" "example.com" \
		"$(m "$I" '.tls_handshakes[] | select(.sni_role == "control") | .server_name')"
	check "$I input: control fetched and verified" "200 true" \
		"$(m "$I" '.control | "\(.http_request.status_code) \([.tls_handshake[].verified] | all)"')"
done
# fakenet on ::1 saw the probe's and the control's fetches of $V6S, and of the
# redirect to it: four, none with SNI.
check "v6: no SNI in any HTTPS request to an IP literal" "4 0" \
	"$(grep -c ': sni (none)$' "$V6/err") $(grep ': sni ' "$V6/err" | grep -vc ': sni (none)$')"

# --- internationalised names: curl fetches the A-label URL ----------------------------
I=$IDN
check "idn input: input kept as given" "$IDN" \
	"$(jq -r --arg in "$I" 'select(.input == $in) | .input' "$OUT")"
check "idn input: DNS of the A-label" "xn--bcher-kva.lab.test" \
	"$(m "$I" '[.queries[].hostname] | unique | join(",")')"
check "idn input: fetched the A-label URL" "$ALABEL_P 200 null" \
	"$(m "$I" '.requests[0] | "\(.request.url) \(.response.code) \(.failure)"')"
check "idn input: control the same" "$ALABEL_P 200" \
	"$(m "$I" '.control.hops[0] | "\(.url) \(.http_request.status_code)"')"
I=$IDNS
check "idn https input: fetched, handshake for the A-label verified" \
	"200 null xn--bcher-kva.lab.test true" \
	"$(m "$I" '"\(.requests[0] | "\(.response.code) \(.failure)") \(.tls_handshakes[] | select(.sni_role == "target") | "\(.server_name) \(.verified)")"')"
check "idn https input: control fetched" "null 200" \
	"$(m "$I" '"\(.control_failure) \(.control.http_request.status_code)"')"
I=$(to "$ULABEL")
check "u-label redirect: hop 1 fetched the A-label URL" "1 $ALABEL_P 200 null" \
	"$(m "$I" '.requests[0] | "\(.hop) \(.request.url) \(.response.code) \(.failure)"')"
check "u-label redirect: hop 0's location as the server wrote it" "$ULABEL" \
	"$(m "$I" '.requests[1].response.location')"
check "u-label redirect: DNS of hop 1" "xn--bcher-kva.lab.test" \
	"$(m "$I" '[.queries[] | select(.hop == 1) | .hostname] | unique | join(",")')"
check "u-label redirect: control hop 1" "$ALABEL_P 200" \
	"$(m "$I" '.control.hops[1] | "\(.url) \(.http_request.status_code)"')"

# --- a trailing dot: one is dropped, the hop followed ---------------------------------
I=$(to "$DOT")
check "trailing dot: DNS of hop 1 without the dot" "other.lab.test A,other.lab.test AAAA" \
	"$(m "$I" '[.queries[] | select(.hop == 1) | "\(.hostname) \(.query_type)"] | join(",")')"
check "trailing dot: hop 1 fetched" "1 http://other.lab.test:$HTTP_PORT/ 200 null" \
	"$(m "$I" '.requests[0] | "\(.hop) \(.request.url) \(.response.code) \(.failure)"')"
check "trailing dot: control hop 1" "other.lab.test 200" \
	"$(m "$I" '.control.hops[1] | "\(.dns.host) \(.http_request.status_code)"')"

# --- a Location we cannot follow: a record that says why, never silence -------------
for c in "ftp://ftp.lab.test/|not a URL we can fetch: unsupported scheme \"ftp\" (want http, https, tcp, tls, openvpn, ikev2, wireguard or quic)" \
	"http://a..b.lab.test/|not a URL we can fetch: empty label in host name"; do
	U=${c%%|*}
	I=$(to "$U")
	check "$U: hop 1's request says why" \
		"1 $U http_invalid_redirect_location_host ${c#*|} null" \
		"$(m "$I" '.requests[0] | "\(.hop) \(.request.url) \(.failure) \(.failure_detail) \(.response)"')"
	check "$U: control hop 1 the same" "$U http_invalid_redirect_location_host" \
		"$(m "$I" '.control.hops[1] | "\(.url) \(.http_request.failure)"')"
	check "$U: broken for both, down at hop 1" "false false down 1" \
		"$(m "$I" '"\(.blocking) \(.accessible) \(.analysis.reason) \(.analysis.hop)"')"
done
# A Location that is not UTF-8 (a Latin-1 u-umlaut): curl makes no URL we
# keep; the hop's record shows the header's value, percent-encoded.
I="$P/to?u=http://b%FCcher.lab.test/"
check "Latin-1 Location: hop 1's request says why" \
	"1 http_invalid_redirect_location_host Location is not a valid URL" \
	"$(m "$I" '.requests[0] | "\(.hop) \(.failure) \(.failure_detail)"')"
check "Latin-1 Location: control hop 1 the same" \
	"http_invalid_redirect_location_host" \
	"$(m "$I" '.control.hops[1].http_request.failure')"

# --- wire figures: what the TCP connection received, TLS records whole or not --------
check "every request that connected has wire figures" 0 \
	"$(jq '[.test_keys.requests[] | select(.address != null) |
		select(.transfer.wire_bytes == null)] | length' "$OUT" | sort -u)"
check "wire bytes never below curl's count (plain http)" 0 \
	"$(jq '[.test_keys.requests[] | select(.address != null) |
		select(.request.url | startswith("http:")) |
		select(.transfer.wire_bytes < .transfer.bytes)] | length' "$OUT" |
		sort -u)"
check "wire bytes above curl's count over TLS (handshake, records)" 0 \
	"$(jq '[.test_keys.requests[] | select(.address != null) |
		select(.request.url | startswith("https:")) |
		select(.response != null) |
		select(.transfer.wire_bytes <= .transfer.bytes)] | length' "$OUT" |
		sort -u)"
# The kernel's last-data time has a tick's resolution (1 to 10 ms), and
# is taken when curl closes the socket, before the request ends. Nothing
# relates it to curl's own last byte but the machine's speed: curl reads
# what the kernel received earlier, later the busier the machine is.
check "last wire byte within the request" 0 \
	"$(jq '[.test_keys.requests[] | .t as $t | .t0 as $t0 | .transfer |
		select(.wire_bytes != null and .wire_bytes > 0) |
		select(.t_last_wire_byte < 0 or
			.t_last_wire_byte > ($t - $t0) + 0.02)] | length' "$OUT" |
		sort -u)"
for I in "$P/throttle?bps=100" "$G/throttle?bps=100"; do
	check "${I%%:*} throttle: wire bytes kept coming" true \
		"$(m "$I" '.requests[0].transfer | .wire_bytes > 0 and
			.t_last_wire_byte != null')"
	check "${I%%:*} throttle: control hop 0 has wire figures too" true \
		"$(m "$I" '.control.hops[0].http_request.transfer |
			.wire_bytes >= .bytes')"
done

# HTTPS behind a 4000 B/s shaper: the 16 KB records of /big never come whole
# within the 2 s timeout, so curl's counts stop at the headers while the
# wire keeps receiving (the red team's throttled nginx).
I="https://good.lab.test:$TLS_SHAPED_PORT/big"
check "shaped https: timed out, no body record decrypted" \
	"generic_timeout_error true" \
	"$(m "$I" '.requests[0] | "\(.failure) \(.transfer.body_bytes < 16384)"')"
check "shaped https: the wire kept receiving after curl's last byte" true \
	"$(m "$I" '.requests[0].transfer | .wire_bytes > .bytes and
		.t_last_wire_byte > (.t_last_byte // 0)')"
check "shaped https: the control saw the same" true \
	"$(m "$I" '.control.hops[0].http_request.transfer |
		.body_bytes < 16384 and .t_last_wire_byte > (.t_last_byte // 0)')"

# --- clean ends (under ASan: no report, no leak) ---------------------------------------
check "probe: nothing on stderr" "" "$(cat "$LAB/probe.err")"
kill "$COL_PID"
wait "$COL_PID"
check "control: SIGTERM exits 0" 0 $?
COL_PID=
check "control: no sanitizer report" 0 \
	"$(grep -c 'Sanitizer\|runtime error' "$LAB/control.err")"

finish
