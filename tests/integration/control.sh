#!/bin/sh
# control.sh PROBE COLLECTOR FAKENET - the control service
# (wallwatch-collector --control-only) and the probe's use of it, on
# loopback: both protocols, every refusal with its status and message,
# bogons refused without --allow-private, a client that hangs up, the
# probe's fallback between controls, and a clean SIGTERM.
set -u
PROBE=$1
COLLECTOR=$2
FAKENET=$3
. tests/integration/lib.sh
lab_start "$FAKENET"
GOOD=https://good.lab.test:$TLS_GOOD_PORT/
COL_PIDS=

cleanup_all() {
	for p in $COL_PIDS; do kill "$p" 2>/dev/null; done
	lab_cleanup
}
trap cleanup_all EXIT

# start_collector NAME ARGS...: a collector on a free loopback port; sets
# PORT and PID (and NAME's log in $LAB/NAME.err).
start_collector() {
	name=$1
	shift
	collector_up "$LAB/$name.err" "$COLLECTOR" --control-only \
		--resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" \
		--timeout 2 "$@"
	PID=$COL_PID
	COL_PIDS="$COL_PIDS $PID"
}

# post PATH BODY: sets CODE and BODY_OUT.
post() {
	CODE=$(curl -s -o "$LAB/resp" -w '%{http_code}' --max-time 20 \
		-H 'Content-Type: application/json' --data-binary "$2" \
		"http://127.0.0.1:$PORT$1")
	BODY_OUT=$(cat "$LAB/resp")
}
jqr() { printf '%s' "$BODY_OUT" | jq -r "$1"; }

# --- command line --------------------------------------------------------
"$COLLECTOR" --help >"$LAB/out" 2>&1
check "--help exits 0" 0 $?
check_match "--help names --allow-private" "--allow-private" "$(cat "$LAB/out")"
check_match "--version" '^wallwatch-collector [0-9.]+$' \
	"$("$COLLECTOR" --version)"
"$COLLECTOR" --listen 127.0.0.1:1 2>"$LAB/err"
check "without --control-only: exit 1" 1 $?
check_match "says what exists" "control-only" "$(cat "$LAB/err")"
"$COLLECTOR" --control-only 2>"$LAB/err"
check "without --listen: exit 1" 1 $?
"$COLLECTOR" --control-only --listen nowhere:80 2>"$LAB/err"
check "bad --listen: exit 1" 1 $?
check_match "bad --listen named" 'bad listen address "nowhere:80"' \
	"$(cat "$LAB/err")"
"$COLLECTOR" --control-only --listen 127.0.0.1:80 --timeout 0 2>"$LAB/err"
check_match "bad --timeout named" 'bad --timeout "0"' "$(cat "$LAB/err")"

# --- our protocol, --allow-private ------------------------------------------
start_collector priv --allow-private
PRIV=$PORT
"$COLLECTOR" --control-only --listen "127.0.0.1:$PRIV" 2>"$LAB/err"
check "port in use: exit 2" 2 $?
check_match "port in use named" "cannot listen on 127.0.0.1:$PRIV" \
	"$(cat "$LAB/err")"

post /api/v1/control "{\"input\":\"$GOOD\",\"addrs\":[\"127.0.0.1\"]}"
check "control: 200" 200 "$CODE"
check "control: DNS addrs" '["127.0.0.1"]' "$(jqr '.dns.addrs|tojson')"
check "control: tcp" true "$(jqr ".tcp_connect[\"127.0.0.1:$TLS_GOOD_PORT\"].status")"
check "control: tls verified" true \
	"$(jqr ".tls_handshake[\"127.0.0.1:$TLS_GOOD_PORT\"].verified")"
check "control: tls SNI" good.lab.test \
	"$(jqr ".tls_handshake[\"127.0.0.1:$TLS_GOOD_PORT\"].server_name")"
check "control: http status" 200 "$(jqr .http_request.status_code)"
check "control: title" "Wallwatch lab page" "$(jqr .http_request.title)"
check_match "control: body sha256" '^[0-9a-f]{64}$' "$(jqr .http_request.body_sha256)"
check "control: ip_info probe+control+bogon+valid" 15 "$(jqr '.ip_info["127.0.0.1"].flags')"

post /api/v1/control "{\"input\":\"$GOOD\",\"sni\":\"wrong-name.example\"}"
check "control: sni honoured" wrong-name.example \
	"$(jqr ".tls_handshake[\"127.0.0.1:$TLS_GOOD_PORT\"].server_name")"
check "control: wrong sni fails" ssl_invalid_hostname \
	"$(jqr ".tls_handshake[\"127.0.0.1:$TLS_GOOD_PORT\"].failure")"

post /api/v1/control "{\"input\":\"http://nx.lab.test:$HTTP_PORT/\"}"
check "control: NXDOMAIN" dns_nxdomain_error "$(jqr .dns.failure)"
check "control: no HTTP after NXDOMAIN" -1 "$(jqr .http_request.status_code)"

post /api/v1/control "{\"input\":\"tls://good.lab.test:$TLS_GOOD_PORT\"}"
check "control: tls:// endpoint, no http" null "$(jqr .http_request)"
check "control: tls:// endpoint handshake" true \
	"$(jqr ".tls_handshake[\"127.0.0.1:$TLS_GOOD_PORT\"].status")"

# --- OONI's protocol ----------------------------------------------------------
post / "{\"http_request\":\"http://nx.lab.test:$HTTP_PORT/\",\"http_request_headers\":{},\"tcp_connect\":[\"127.0.0.1:$HTTP_PORT\"]}"
check "ooni: 200" 200 "$CODE"
check "ooni: legacy NXDOMAIN string" dns_name_error "$(jqr .dns.failure)"
check "ooni: the probe's endpoint" true \
	"$(jqr ".tcp_connect[\"127.0.0.1:$HTTP_PORT\"].status")"
check "ooni: keys" '["dns","http3_request","http_request","ip_info","quic_handshake","tcp_connect","tls_handshake"]' \
	"$(jqr 'keys|tojson')"
post /api/v1/oonith "{\"http_request\":\"http://good.lab.test:$HTTP_PORT/\",\"tcp_connect\":[]}"
check "ooni path: http 200" 200 "$(jqr .http_request.status_code)"

# --- refusals ----------------------------------------------------------------
post /api/v1/control '{"input":'
check "bad JSON: 400" 400 "$CODE"
check_match "bad JSON named" "not JSON" "$(jqr .error)"
post /api/v1/control '{"input":"ftp://x/"}'
check_match "bad scheme named" '^input: unsupported scheme' "$(jqr .error)"
post /api/v1/control '{"addrs":[]}'
check_match "missing input named" '^input: required' "$(jqr .error)"
post /api/v1/control "{\"input\":\"$GOOD\",\"addrs\":[\"1.2.3.4\",\"x\"]}"
check_match "bad address named" 'addrs\[1\]: "x" is not an IP address' "$(jqr .error)"
post /api/v1/control "{\"input\":\"$GOOD\",\"sni\":\"a b\"}"
check_match "bad sni named" '^sni:' "$(jqr .error)"
many=$(i=0; while [ $i -lt 17 ]; do printf '"10.0.0.%d",' $i; i=$((i+1)); done)
post /api/v1/control "{\"input\":\"$GOOD\",\"addrs\":[${many%,}]}"
check_match "too many addresses named" 'more than 16' "$(jqr .error)"
big=$(head -c 70000 /dev/zero | tr '\0' a)
post /api/v1/control "{\"input\":\"$GOOD\",\"pad\":\"$big\"}"
check "body over 64 KiB: 413" 413 "$CODE"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/control")
check "GET: 405" 405 "$CODE"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -d '{}' "http://127.0.0.1:$PORT/nope")
check "unknown path: 404" 404 "$CODE"
check "healthz" ok "$(curl -s "http://127.0.0.1:$PORT/healthz")"

# A client that gives up while the control waits on a silent server: the
# service must go on serving (and, under ASan, not touch freed memory).
# It gives up once the control is connected to the silent server.
curl -s -o /dev/null --max-time 120 -d "{\"input\":\"https://good.lab.test:$TLS_SILENT_PORT/\"}" \
	"http://127.0.0.1:$PORT/api/v1/control" &
GIVEUP=$!
wait_until 60 alive_and_not "$GIVEUP" tcp_established_to "$TLS_SILENT_PORT"
kill "$GIVEUP" 2>/dev/null
wait "$GIVEUP" 2>/dev/null
post /api/v1/control "{\"input\":\"$GOOD\"}"
check "serves after a client hung up" 200 "$CODE"

# --- without --allow-private ----------------------------------------------------
start_collector pub
post /api/v1/control "{\"input\":\"https://127.0.0.1:$TLS_GOOD_PORT/\"}"
check "private literal: 403" 403 "$CODE"
check_match "private literal named" "private or reserved" "$(jqr .error)"
post /api/v1/control "{\"input\":\"$GOOD\",\"addrs\":[\"127.0.0.1\"]}"
check "private answer: 200" 200 "$CODE"
check "private answer: nothing connected" '{}' "$(jqr '.tcp_connect|tojson')"
check "private answer: http says bogon" dns_bogon_error "$(jqr .http_request.failure)"
check "private answer: flagged bogon" 7 "$(jqr '.ip_info["127.0.0.1"].flags')"

# --- the probe's side ------------------------------------------------------------
# A control that refuses: fakenet's port bound without listening (no one
# else can listen there meanwhile, unlike a port guessed to be free).
DEAD="http://127.0.0.1:$TCP_CLOSED_PORT"
"$PROBE" run --input "$GOOD" --resolver "127.0.0.1:$DNS_PORT" \
	--ca-file "$LAB/ca.pem" --timeout 2 --quiet --output "$LAB/m.jsonl" \
	--control "$DEAD" --control "http://127.0.0.1:$PRIV"
check "probe: exit 0" 0 $?
M=$(cat "$LAB/m.jsonl")
check "probe: two attempts" 2 "$(printf '%s' "$M" | jq '.test_keys.control_attempts|length')"
check "probe: first failed" connection_refused \
	"$(printf '%s' "$M" | jq -r '.test_keys.control_attempts[0].failure')"
check "probe: second used" "http://127.0.0.1:$PRIV/api/v1/control" \
	"$(printf '%s' "$M" | jq -r '.test_keys.control_attempts[1].url')"
check "probe: control stored" 200 \
	"$(printf '%s' "$M" | jq -r '.test_keys.control.http_request.status_code')"
check "probe: no control failure" null \
	"$(printf '%s' "$M" | jq -r '.test_keys.control_failure')"

"$PROBE" run --input "$GOOD" --resolver "127.0.0.1:$DNS_PORT" \
	--ca-file "$LAB/ca.pem" --timeout 2 --quiet --output "$LAB/n.jsonl" \
	--control "$DEAD"
M=$(cat "$LAB/n.jsonl")
check "probe, no control: control null" null \
	"$(printf '%s' "$M" | jq -r '.test_keys.control')"
check "probe, no control: failure recorded" connection_refused \
	"$(printf '%s' "$M" | jq -r '.test_keys.control_failure')"
check "probe, no control: verdict null, never accessible" "null null" \
	"$(printf '%s' "$M" | jq -r '"\(.test_keys.blocking) \(.test_keys.accessible)"')"

"$PROBE" run --input "$GOOD" --resolver "127.0.0.1:$DNS_PORT" \
	--ca-file "$LAB/ca.pem" --timeout 2 --quiet --output - \
	--control "http://127.0.0.1:$PRIV" --control "$DEAD" \
	--reference "http://good.lab.test:$HTTP_PORT/" >"$LAB/r.jsonl"
M=$(cat "$LAB/r.jsonl")
check "probe: one attempt when the first answers" 1 \
	"$(printf '%s' "$M" | jq '.test_keys.control_attempts|length')"
check "probe: network check ok" true \
	"$(printf '%s' "$M" | jq -r '.test_keys.network_check.ok')"
check "probe: verdict accessible" "false true" \
	"$(printf '%s' "$M" | jq -r '"\(.test_keys.blocking) \(.test_keys.accessible)"')"
# On loopback the control sees the same servers: what fails fails for both,
# and the verdict must say "down", never "blocked".
"$PROBE" run --input "http://nx.lab.test:$HTTP_PORT/" \
	--input "https://blocked.lab.test:$TLS_SNI_PORT/" \
	--resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" --timeout 2 \
	--quiet --output - --control "http://127.0.0.1:$PRIV" >"$LAB/d.jsonl"
check "down for both: never blocked" "false false
false false" "$(jq -r '"\(.test_keys.blocking) \(.test_keys.accessible)"' "$LAB/d.jsonl")"
"$PROBE" run --input "$GOOD" --control "ftp://x" 2>"$LAB/err"
check "probe: bad --control: exit 1" 1 $?
"$PROBE" run --input "$GOOD" --reference "nota url" 2>"$LAB/err"
check_match "probe: bad --reference named" "bad --reference" "$(cat "$LAB/err")"
"$PROBE" run --input "$GOOD" --fingerprints /nonexistent 2>"$LAB/err"
check "probe: bad --fingerprints: exit 1" 1 $?

# --- shutdown ---------------------------------------------------------------------
for p in $COL_PIDS; do
	kill -TERM "$p"
	wait "$p"
	check "SIGTERM: exit 0" 0 $?
done
COL_PIDS=
finish
