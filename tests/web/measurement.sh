#!/bin/sh
# tests/web/measurement.sh COLLECTOR PROBE FAKENET - a measurement's page
# (/measurement?uid=UID, collector/web/page_measurement.js) in headless
# Chromium (Debian's `chromium`), against a collector on loopback filled
# with real measurements of the lab (tests/fake: an accessible HTTPS site,
# a name whose DNS answer is raced by a forged one, an SNI filter) made by
# the probe with the collector as their control, and synthetic ones built
# like tests/web/run.sh's (a real envelope, the observations of
# tests/data/analysis/, the packets of tests/data/web/): a TLS handshake
# reset on its SNI with an injected RST, a DNS answer raced by a forged
# one, and a measurement full of markup. Asserts on the DOM Chromium built
# (answers beside the control's, handshakes side by side, hop statuses,
# the rule, packet evidence, markup kept as text, the raw JSON one click
# away) and keeps screenshots and DOMs in build/test-artifacts/
# measurement-*.png/.html (WW_ARTIFACTS to change). OONI's own
# measurements (tests/data/ooni/qa/) are shown too once the collector takes
# them. Run from the top of the tree. Ends with "N passed, N failed".
set -u
COLLECTOR=$1
PROBE=$2
FAKENET=$3
ART=${WW_ARTIFACTS:-build/test-artifacts}

# Chromium and the helpers the browser tests share (tests/web/lib.sh);
# dom and shot are this test's own below (its artifacts' names, the
# failed parts a hostile measurement is expected to show).
. tests/integration/lib.sh
. tests/web/lib.sh
web_start "$FAKENET"

# One submitter, from loopback: a single-probe deployment (run.sh says why).
lab_collector "$LAB/col.err" "$COLLECTOR" "$DB" --min-submitters 1 \
	--allow-geo-mismatch yes
B=http://127.0.0.1:$PORT
api() { curl -s --max-time 20 "$B$1"; }
# block FILE CLASS: from each element of CLASS on, one per line (the DOM
# is one line; this cuts it where each such block starts)
block() { sed "s/<div class=\"$2\"/\n&/g" "$1" | grep "^<div class=\"$2\""; }

# dom NAME PATH [ERRORS]: Chromium's DOM of the page, in $LAB/NAME.html
# (and kept); ERRORS: how many failed parts are expected (default 0).
dom() {
	chrome --dump-dom "$B$2" >"$LAB/$1.html"
	rc=$?
	check "$1: chromium loaded $2" 0 "$rc"
	[ "$rc" -eq 0 ] || tail -n 20 "$LAB/chromium.log"
	cp "$LAB/$1.html" "$ART/measurement-$1.html"
	check "$1: the page finished loading" 1 \
		"$(count 'data-ready="true"' "$LAB/$1.html")"
	check "$1: failed parts" "${3:-0}" \
		"$(count 'class="error"' "$LAB/$1.html")"
}

# shot NAME PATH HEIGHT: a screenshot, kept as a test artifact.
shot() {
	rm -f "$ART/measurement-$1.png"
	chrome --screenshot="$ART/measurement-$1.png" --window-size="1280,$3" \
		"$B$2" >/dev/null
	check "$1: screenshot" "89 50 4e 47" \
		"$(od -An -N4 -tx1 "$ART/measurement-$1.png" 2>/dev/null | sed 's/^ //')"
	SHOTS="$SHOTS $ART/measurement-$1.png"
}
SHOTS=
# the shell's own script tags (app.js and the page files): any more in a
# DOM came from the data
NSCRIPT=$(count '<script' collector/web/index.html)
page() { echo "/measurement?uid=$1"; }

# --- data: real measurements of the lab -------------------------------------
GOOD="https://good.lab.test:$TLS_GOOD_PORT/"
TWICE="http://twice.lab.test:$HTTP_PORT/"
SNI="https://blocked.lab.test:$TLS_SNI_PORT/"
timeout 120 "$PROBE" run --input "$GOOD" --input "$TWICE" --input "$SNI" \
	--resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" --timeout 2 \
	--control "$B" --probe-cc DE --probe-asn AS64500 \
	--quiet --output "$LAB/real.jsonl"
check "probe: three real measurements" 3 \
	"$(wc -l <"$LAB/real.jsonl" | tr -d ' ')"
submit "$LAB/real.jsonl"
check "real measurements stored" "200 3" \
	"$CODE $(printf '%s' "$OUT" | jq '.stored|length')"
uid_of() { jq -r --arg i "$1" 'select(.input == $i) | .measurement_uid' "$LAB/real.jsonl"; }
U_GOOD=$(uid_of "$GOOD")
U_TWICE=$(uid_of "$TWICE")
U_SNI=$(uid_of "$SNI")
jq -c --arg i "$GOOD" 'select(.input == $i)' "$LAB/real.jsonl" >"$LAB/envelope.json"

# --- data: synthetic measurements (as run.sh builds them) ----------------------
# synth TAG CASE CC ASN [PACKETS]: the real envelope with the observations
# of tests/data/analysis/CASE.json (its base merged with its patch, RFC
# 7386), an hour ago; PACKETS: a file of tests/data/web/ as its
# test_keys.packets, each record of a flow naming it.
NOW=$(($(date +%s) - 3600))
synth() {
	d=tests/data/analysis
	jq -c -n --arg tag "$1" --slurpfile c "$d/$2.json" \
		--slurpfile b "$d/$(jq -r .base "$d/$2.json")" \
		--arg cc "$3" --arg asn "$4" --argjson t "$NOW" \
		--argjson pk "$(if [ -n "${5:-}" ]; then cat "$5"; else echo null; fi)" \
		--slurpfile env "$LAB/envelope.json" '
def mp($p): if ($p | type) == "object" then
    reduce ($p | to_entries[]) as $e ((if type == "object" then . else {} end);
      if $e.value == null then del(.[$e.key])
      else .[$e.key] |= mp($e.value) end)
  else $p end;
($b[0] | mp($c[0].patch)) as $m
| ($t | strftime("%Y-%m-%d %H:%M:%S")) as $ts
| $env[0]
| .input = $m.input
| .test_keys = ($m.test_keys | if has("control") then . else .control = null end)
| if $pk == null then . else
    .test_keys.packets = $pk
    | ($pk.tcp // []) as $fl
    | .test_keys |= reduce ("tcp_connect", "tls_handshakes", "requests") as $k (.;
        if .[$k] then .[$k] |= map(. as $r
          | ([$fl[] | select((.transaction_ids // []) | index($r.transaction_id)) | .flow][0]) as $f
          | if $f then .flow = $f else . end) else . end)
  end
| .measurement_uid = "mtest_\($tag)"
| .report_id = "mtest_\($tag)"
| .measurement_start_time = $ts | .test_start_time = $ts
| .probe_cc = $cc | .probe_asn = $asn' >>"$LAB/syn.jsonl"
}
PK=tests/data/web
synth sni tls_sni_reset CN AS4134 "$PK/packets_rst.json"
# two more, so that the target's state changes (3 blocked in a row) and
# its event lists them
synth sni_b tls_sni_reset CN AS4134
synth sni_c tls_sni_reset CN AS4134
synth dns dns_injected IR AS197207 "$PK/packets_dns.json"
# Markup wherever a probe writes free text: the page keeps it as text.
IMG='<img src=x onerror=alert(1)>'
jq -c --arg img "$IMG" '
	.measurement_uid = "mtest_hostile" | .report_id = "mtest_hostile"
	| .test_keys.requests[0].response.title = "\($img)<b>bold</b>"
	| .test_keys.requests[0].response.body = ("<script>alert(2)</script>" + ("x" * 5000) + "THE-END")
	| .test_keys.requests[0].response.headers.Server = "<b>srv</b>"
	| .test_keys.requests[0].response.headers_list += [["Server", "<b>srv</b>"]]
	| .test_keys.tls_handshakes[1].peer_certificates[0].subject = "CN=\($img)"
	| .test_keys.queries[1].failure_detail = "<script>alert(3)</script>"' \
	"$LAB/envelope.json" >>"$LAB/syn.jsonl"
# A VPN endpoint: the exchanges of a real probe run against Debian's
# OpenVPN and the control's (tests/data/validate/exchanges.json).
jq -c --slurpfile x tests/data/validate/exchanges.json '
	.measurement_uid = "mtest_vpn" | .report_id = "mtest_vpn"
	| .input = "openvpn://127.0.0.1:11940" | .test_name = "wallwatch_endpoint"
	| .test_keys |= (.queries = [] | .tcp_connect = [] | .tls_handshakes = []
		| .requests = [] | del(.packets, .analysis, .blocking, .accessible)
		| .exchanges = $x[0].exchanges
		| .control = {dns: {addrs: [], failure: null}, tcp_connect: {},
			tls_handshake: {}, http_request: null,
			exchanges: $x[0].control_exchanges})' \
	"$LAB/envelope.json" >>"$LAB/syn.jsonl"
submit "$LAB/syn.jsonl"
check "synthetic measurements stored" "200 6 0" \
	"$CODE $(printf '%s' "$OUT" | jq -r '"\(.stored|length) \(.rejected|length)"')"
[ "$CODE $(printf '%s' "$OUT" | jq '.rejected|length')" = "200 0" ] ||
	printf '%s\n' "$OUT" | jq -c '.rejected' | head -c 2000

# The API's side of it (if these fail, the store is at fault, not the page).
verdict() {
	api "/api/v1/measurements?limit=1000" | jq -r --arg u "$1" \
		'.measurements[] | select(.measurement_uid == $u) | "\(.class) \(.analysis_reason)"'
}
check "api: the lab's good site is accessible" "ok expected_success" "$(verdict "$U_GOOD")"
check "api: the raced DNS answer is DNS tampering, proven by packets" "dns true" \
	"$(api "/api/v1/measurements?limit=1000" | jq -r --arg u "$U_TWICE" \
		'.measurements[] | select(.measurement_uid == $u) | "\(.class) \(.confirmed_by_packets)"')"
check "api: the SNI reset" "tls tls_sni_filtered" "$(verdict mtest_sni)"

# --- an accessible one -----------------------------------------------------------
dom good "$(page "$U_GOOD")"
F=$LAB/good.html
check_match "good: the verdict's badge, its class colour" \
	'<span class="badge o-ok" id="verdict-badge" data-class="ok">accessible</span>' "$(cat "$F")"
check_match "good: the rule and its words" \
	'<code class="rule">expected_success</code> — the page \(or endpoint\) answered as it does for the control' "$(cat "$F")"
check_match "good: the target and network" \
	"<code class=\"m-input\">$GOOD</code>.*DE · AS64500" "$(cat "$F")"
ROW=$(rows "$F" | grep 'class="dns-q' | grep '<td>A</td>')
check_match "good: the A answer beside the control's" \
	'<span class="addr ctl-too">127.0.0.1</span>.*<td class="ctl" rowspan="2"><span class="ctl-addrs">127.0.0.1</span>' "$ROW"
check_match "good: the AAAA lookup's failure in words" \
	'no address of this type \(NOERROR, empty\)' "$(rows "$F" | grep 'class="dns-q' | grep '<td>AAAA</td>')"
check_match "good: the connect, and the control's" \
	"<code>127.0.0.1:$TLS_GOOD_PORT</code>.*<span class=\"m-ok\">connected</span>.*<td class=\"ctl\"><span class=\"m-ok\">connected</span>" \
	"$(rows "$F" | grep 'class="tcp-c ok"')"
TLS=$(block "$F" m-tls-addr)
check_match "good: the neutral SNI beside the target SNI and the control" \
	'<th scope="col">Neutral SNI</th><th scope="col">Target SNI</th><th scope="col">The control \(from outside\)</th>' "$TLS"
check_match "good: the SNIs sent" \
	'<code class="sni">example.com</code></td><td class="role-target"><code class="sni">good.lab.test</code>' "$TLS"
check_match "good: the target handshake verified, the neutral one completed" \
	'<td class="role-control"><span class="m-ok">completed</span><span class="none" title="ssl_invalid_hostname \(hostname mismatch\)"> \(the certificate is not for the neutral name, as expected\)</span></td><td class="role-target"><span class="m-ok">completed, verified</span>' "$TLS"
check_match "good: the chain" '<summary>CN=good.lab.test<span class="issuer"> — issued by CN=Wallwatch Test CA</span>' "$TLS"
check "good: TLS version on both" 2 "$(count '<td class="role-(control|target)">TLSv1.3</td>' "$F")"
HOP=$(block "$F" m-hop)
check_match "good: hop 0's status beside the control's" \
	'<tr class="http-status"><th scope="row">Status</th><td class="probe"><span class="status s2xx">200</span> HTTP/1.1</td><td class="ctl"><span class="status s2xx">200</span>' "$HOP"
check_match "good: titles side by side" \
	'<td class="probe"><span class="m-long">Wallwatch lab page</span></td><td class="ctl"><span class="m-long">Wallwatch lab page</span>' "$HOP"
check_match "good: body sizes side by side" \
	'<th scope="row">Body</th><td class="probe">166 bytes</td><td class="ctl">166 bytes</td>' "$HOP"
check_match "good: headers of note" '<li><code>Server</code>: <span class="m-long">fakenet</span></li>' "$HOP"
check_match "good: no packets from this probe run said so, or the record shown" \
	'id="packets"' "$(cat "$F")"
check_match "good: decided at hop 0, its URL" \
	"Decided at hop 0 \\(<code>$GOOD</code>\\)" "$(cat "$F")"
check_match "good: the raw link" \
	"<a href=\"/api/v1/measurements/$U_GOOD\" class=\"raw-link\" id=\"raw-link\">" "$(cat "$F")"
check "good: the raw link gives the measurement" "$U_GOOD" \
	"$(api "/api/v1/measurements/$U_GOOD" | jq -r .measurement_uid)"
check "good: the raw JSON folded until asked" 0 "$(count '<pre class="raw-json">' "$F")"
shot good "$(page "$U_GOOD")" 2600

dom good-raw "$(page "$U_GOOD")&raw=1"
check "good (&raw=1): the raw JSON pretty-printed, opened" 1 \
	"$(count '<details class="m-raw" id="raw-json" open="">' "$LAB/good-raw.html")"
check "good (&raw=1): pretty-printed (an object, its keys on lines of their own)" "1 1" \
	"$(count '<pre class="raw-json"><span class="m-long">\{$' "$LAB/good-raw.html") $(count '^  "test_keys": \{$' "$LAB/good-raw.html")"
check "good (&raw=1): its uid in it, not probe_ip" "1 0" \
	"$(count "\"measurement_uid\": \"$U_GOOD\"" "$LAB/good-raw.html") $(count 'probe_ip"' "$LAB/good-raw.html")"

# --- a DNS-blocked one (real: an answer raced by a forged one) ------------------------
dom dns "$(page "$U_TWICE")"
F=$LAB/dns.html
check_match "dns: its badge" '<span class="badge o-dns" id="verdict-badge" data-class="dns">DNS tampering</span>' "$(cat "$F")"
check_match "dns: in words, with its detail" \
	'<span class="m-verdict-words">blocked by DNS tampering</span> \(<code>dns.injected</code>\)' "$(cat "$F")"
check_match "dns: confirmed by packets, with the analysis's sentence" \
	'<span class="confirmed by-packets"[^>]*>confirmed by packets</span><div class="ev-detail">two answers to DNS id' "$(cat "$F")"
# (the lab's forger answers the control too: the collector asks the same
# resolver)
check_match "dns: the rule (P1) in words" \
	'<code class="rule">dns_injected_replies</code> — two different answers came to one DNS query: one of them was forged<span class="rule-rows"> \(docs/verdicts.md, rule P1\)' "$(cat "$F")"
ROW=$(rows "$F" | grep 'class="dns-q' | grep '<td>A</td>')
check_match "dns: the probe's first answer, the forged address, beside the control's" \
	'<span class="addr ctl-too">127.0.0.66</span>.*<td class="ctl" rowspan="2"><span class="ctl-addrs">127.0.0.66</span>' "$ROW"
PA=$(sed 's/<div class="pkt-/\n&/g' "$F" | grep '^<div class="pkt-dns"><p class="pkt-head">DNS A ')
check "dns: the packet evidence, two replies to the A query, the first marked" "1 1" \
	"$(printf '%s' "$PA" | grep -o '<tr class="reply first">' | wc -l | tr -d ' ') $(printf '%s' "$PA" | grep -o '<tr class="reply">' | wc -l | tr -d ' ')"
check_match "dns: the forged reply first, the real one after it" \
	'<tr class="reply first"><td>[0-9.]+ ms</td><td>[0-9]+</td><td>NOERROR</td><td class="addrs">127.0.0.66</td>.*<tr class="reply"><td>[0-9.]+ ms</td><td>[0-9]+</td><td>NOERROR</td><td class="addrs">127.0.0.1</td>' "$PA"
HOP=$(block "$F" m-hop)
check_match "dns: the request went to the forged address and was refused" \
	'refused \(RST to the SYN\)' "$HOP"
shot dns "$(page "$U_TWICE")" 2000

# --- TLS/SNI: a real SNI filter (for the control too: down), and a censor's --------
dom sni-lab "$(page "$U_SNI")"
F=$LAB/sni-lab.html
TLS=$(block "$F" m-tls-addr)
check_match "sni (lab): the neutral SNI completes where the target's is reset" \
	'<td class="role-control"><span class="m-ok">completed</span>.*<td class="role-target failed"><span class="m-fail" title="connection_reset[^"]*">reset \(RST\)</span>' "$TLS"
check_match "sni (lab): the control was reset too" \
	'<td class="ctl" rowspan="7"><div>SNI <code>blocked.lab.test</code></div><span class="m-fail" title="connection_reset">reset \(RST\)</span>' "$TLS"
check_match "sni (lab): so the site is down for everyone" \
	'<span class="badge o-down" id="verdict-badge" data-class="down">' "$(cat "$F")"
check_match "sni (lab): by its rule" '<code class="rule">down</code>' "$(cat "$F")"

dom sni "$(page mtest_sni)"
F=$LAB/sni.html
check_match "sni: its badge" '<span class="badge o-tls" id="verdict-badge" data-class="tls">TLS/SNI filtering</span>' "$(cat "$F")"
check_match "sni: the rule, its words and row" \
	'<code class="rule">tls_sni_filtered</code> — the handshake with the target.s name failed while the neutral SNI.s completed on the same address, and the control.s completed<span class="rule-rows"> \(docs/verdicts.md, rule 14\)</span>' "$(cat "$F")"
TLS=$(block "$F" m-tls-addr)
check_match "sni: neutral completed, target reset, side by side" \
	'<tr class="tls-result"><th scope="row">Result</th><td class="role-control"><span class="m-ok">completed</span>.*<td class="role-target failed"><span class="m-fail" title="connection_reset">reset \(RST\)</span>' "$TLS"
check_match "sni: the control verified the target's name there" \
	'<td class="ctl" rowspan="7"><div>SNI <code>www.example.org</code></div><span class="m-ok">completed, verified</span>' "$TLS"
check_match "sni: the request failed beside the control's page" \
	'<td class="probe"><span class="none">no response</span> <span class="m-fail" title="connection_reset">reset \(RST\)</span></td><td class="ctl"><span class="status s2xx">200</span>' \
	"$(block "$F" m-hop)"
check_match "sni: the one with packets: confirmed by them" \
	'<span class="confirmed by-packets"[^>]*>confirmed by packets</span><div class="ev-detail">[^<]*RST' "$(cat "$F")"
INJ=$(rows "$F" | grep 'class="pkt-row dir-in rst injected"')
check "sni: the forged RST highlighted with its TTL 49" "1 1" \
	"$(printf '%s\n' "$INJ" | grep -c .) $(printf '%s' "$INJ" | grep -c '<td>49</td>')"
check_match "sni: the flow beside the server's TTL" \
	"TCP flow 3 to <code>93.184.215.14:443</code>: 7 packets, steps 4, 5; the server's TTL 63" "$(cat "$F")"
shot sni "$(page mtest_sni)" 2400

dom dns-syn "$(page mtest_dns)"
F=$LAB/dns-syn.html
ROW=$(rows "$F" | grep 'class="dns-q' | grep '<td>A</td>')
check_match "dns (synthetic): the forged address, not in the control's answer" \
	'<span class="addr not-ctl">8.7.198.45</span><span class="addr-note"> \(not in the control.s answer\)</span>' "$ROW"
check_match "dns (synthetic): the control's answer beside it" \
	'<td class="ctl" rowspan="[0-9]+"><span class="ctl-addrs">93.184.215.14</span>' "$ROW"
check_match "dns (synthetic): the forged reply (TTL 51) first" \
	'<tr class="reply first"><td>10.1 ms</td><td>4242</td><td>NOERROR</td><td class="addrs">8.7.198.45</td><td>51</td>' \
	"$(rows "$F" | grep 'class="reply first"')"

# --- a VPN endpoint's exchanges -------------------------------------------------------
dom vpn "$(page mtest_vpn)"
F=$LAB/vpn.html
check_match "vpn: the handshake completed" \
	'<code class="rule">handshake_completed</code> — the protocol.s handshake completed' "$(cat "$F")"
check "vpn: the exchanges in place of TCP, HTTP and TLS saying there is none" "1 0" \
	"$(count '<section id="exchanges"' "$F") $(count '<section id="tcp"' "$F")"
check_match "vpn: the handshake answered (server reset, control), beside the control's" \
	'<tr class="xchg answered"><td><code>127.0.0.1:11940</code> udp</td><td>openvpn <code>handshake</code></td><td>2 packets, 257 bytes</td><td><span class="m-ok">answered</span><ul class="replies"><li>server_reset, 26 bytes, ours</li><li>control, 863 bytes, ours</li></ul></td><td>control</td><td>—</td><td>0.9 ms</td><td class="ctl"><span class="m-ok">answered</span> \(control\)</td>' \
	"$(rows "$F")"
check_match "vpn: the control made no third exchange: said so" \
	'<td>openvpn <code>random</code></td>.*<td class="ctl"><span class="none">not made there</span>' "$(rows "$F")"
check "vpn: no own verdict in the measurement, none shown" 0 "$(count 'own verdict' "$F")"
check_match "vpn: nothing confirmed, in plain colour" \
	'<tr class="m-row-confirmed"><th scope="row">Confirmed</th><td>—</td>' "$(cat "$F")"
check_match "vpn: the neutral payloads unanswered, for the control too" \
	'<tr class="xchg silent"><td><code>127.0.0.1:11940</code> udp</td><td>openvpn <code>ascii</code></td>.*<span class="m-fail" title="generic_timeout_error">timed out \(nothing came\)</span></td><td>[0-9.]+ ms</td><td class="ctl"><span class="m-fail">no answer</span> <span class="m-fail" title="generic_timeout_error">' \
	"$(rows "$F")"
shot vpn "$(page mtest_vpn)" 1200

# --- markup in the data stays text ---------------------------------------------------
dom hostile "$(page mtest_hostile)"
F=$LAB/hostile.html
check "hostile: no element from the data (no img, no b, only the shell's scripts)" "0 0 $NSCRIPT" \
	"$(count '<img' "$F") $(count '<b>' "$F") $(count '<script' "$F")"
check "hostile: the title as text" 1 \
	"$(count '&lt;img src=x onerror=alert\(1\)&gt;&lt;b&gt;bold&lt;/b&gt;' "$F")"
check "hostile: the header and the certificate as text" "1 1" \
	"$(count '&lt;b&gt;srv&lt;/b&gt;' "$F") $(count 'CN=&lt;img src=x onerror=alert\(1\)&gt;' "$F")"
check "hostile: a failure detail as text (a tooltip)" 1 \
	"$(count '\(&lt;script&gt;alert\(3\)&lt;/script&gt;\)' "$F")"
check_match "hostile: the long body cut, with a way to see all of it" \
	'&lt;script&gt;alert\(2\)&lt;/script&gt;x+<span class="m-cut">…</span> <button type="button" class="m-more">show all \(5032 characters\)</button>' \
	"$(cat "$F")"
check "hostile: its end not shown until asked" 0 "$(count 'THE-END' "$F")"
shot hostile "$(page mtest_hostile)" 2400

# --- an unknown uid, none, and the links to the page ------------------------------------
dom unknown "$(page nothing-here)" 1
check_match "unknown uid: says so" 'no measurement with that uid' "$(cat "$LAB/unknown.html")"
dom none /measurement
check_match "no uid: a form to type one" '<form action="/measurement" method="get"' "$(cat "$LAB/none.html")"
check_match "/measurement: the shell" "^HTTP/1.1 200" \
	"$(curl -s -D - -o /dev/null --max-time 10 "$B/measurement?uid=x" | tr -d '\r')"
check_match "page_measurement.js: served" "Content-Type: text/javascript" \
	"$(curl -s -D - -o /dev/null --max-time 10 "$B/static/page_measurement.js" | tr -d '\r')"

dom target "/target?input=$(jq -rn --arg i "$GOOD" '$i|@uri')"
check_match "target page: its measurements link to their page" \
	"<a href=\"/measurement\\?uid=$U_GOOD\" class=\"meas-link\"[^>]*>in words</a>" "$(cat "$LAB/target.html")"
dom target-sni "/target?input=https%3A%2F%2Fwww.example.org%2F&asn=AS4134"
check_match "target page: a change of state's measurements link to their pages" \
	'<span class="uids"> — 3 measurements: <a href="/measurement\?uid=mtest_sni[_bc]*" title="mtest_sni[_bc]*">1</a>' \
	"$(cat "$LAB/target-sni.html")"

# --- OONI's own measurements -----------------------------------------------------------
# Real ones written by OONI Probe (answers null, peer_certificates null, no
# sni_role, no hop, OONI's test helper as control). Shown once the
# collector takes them (issue 16's ooni-accept); a collector that refuses
# them leaves nothing to show, and this part says so.
for f in tlsBlockingConnectionResetWithConsistentDNS dnsBlockingNXDOMAIN; do
	submit "tests/data/ooni/qa/$f.json" -H 'Content-Type: application/json'
	U=$(printf '%s' "$OUT" | jq -r '.stored[0] | if type == "object" then .measurement_uid // .uid else . end // empty' 2>/dev/null)
	if [ "$CODE" != 200 ] || [ -z "$U" ] || [ "$U" = null ]; then
		echo "# OONI's $f: not taken by this collector ($CODE); its page is not tested"
		continue
	fi
	dom "ooni-$f" "$(page "$U")"
	F=$LAB/ooni-$f.html
	check_match "ooni $f: OONI's own verdict beside ours" \
		"OONI's own verdict: blocking \"$(jq -r .test_keys.blocking "tests/data/ooni/qa/$f.json")\"" "$(cat "$F")"
	check_match "ooni $f: the measurement's source" "OONI Probe's measurement" "$(cat "$F")"
	check "ooni $f: the collector's verdict row found, its rule named" "1 0 1" \
		"$(count 'id="verdict-badge"' "$F") $(count 'id="no-row"' "$F") $(count '<code class="rule">[a-z_]+</code>' "$F")"
	shot "ooni-$f" "$(page "$U")" 2000
done

# --- OONI's shapes, whatever the collector takes ----------------------------------
# Every one of OONI's QA measurements drawn by the page, its read API
# played by a stand-in on loopback (python3's http.server: the shell and
# the page's files from collector/web/, the vocabulary as this collector
# serves it, each measurement as the raw one, no verdict row, no packets),
# so that the page is known to read OONI's shapes (answers null,
# peer_certificates null, no sni_role, no hop, OONI's test helper as the
# control) before the collector takes them.
api /api/v1/vocabulary >"$LAB/vocabulary.json"
python3 - "$LAB/vocabulary.json" >"$LAB/stand-in.out" 2>"$LAB/stand-in.err" <<'PYEOF' &
import http.server, json, os, re, sys, urllib.parse
vocab = open(sys.argv[1], "rb").read()
web, dirs = "collector/web", ["tests/data/ooni/qa", "tests/data/web"]
types = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}
class H(http.server.BaseHTTPRequestHandler):
    def send(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        p = u.path
        m = re.fullmatch(r"/api/v1/measurements/([A-Za-z0-9_]+)(/packets)?", p)
        f = re.fullmatch(r"/static/([a-z_]+)\.(js|css|svg)", p)
        if p == "/measurement":
            self.send(200, open(web + "/index.html", "rb").read(), "text/html; charset=utf-8")
        elif f:
            self.send(200, open("%s/%s.%s" % (web, f[1], f[2]), "rb").read(), types[f[2]])
        elif p == "/api/v1/vocabulary":
            self.send(200, vocab)
        elif p == "/api/v1/measurements":
            self.send(200, b'{"measurements": []}')
        elif m and any(os.path.exists("%s/%s.json" % (d, m[1])) for d in dirs):
            f = [d for d in dirs if os.path.exists("%s/%s.json" % (d, m[1]))][0]
            if m[2]:
                self.send(200, json.dumps({"measurement_uid": m[1], "packets": None}).encode())
            else:
                self.send(200, open("%s/%s.json" % (f, m[1]), "rb").read())
        else:
            self.send(404, b'{"error": "no such path"}')
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print("listening on 127.0.0.1:%d" % s.server_address[1], flush=True)
s.serve_forever()
PYEOF
SI_PID=$!
si_up() { grep -q 'listening on' "$LAB/stand-in.out"; }
if ! command -v python3 >/dev/null 2>&1 || ! wait_until 30 alive_and_not "$SI_PID" si_up ||
	! si_up; then
	not_ok "the stand-in read API (python3) did not start" "$(cat "$LAB/stand-in.err")"
else
	B0=$B
	B=http://127.0.0.1:$(listening_port "$LAB/stand-in.out")
	N=0
	for f in tests/data/ooni/qa/*.json; do
		n=$(basename "$f" .json)
		dom "ooni-qa-$n" "$(page "$n")" >"$LAB/ooni-dom.out"
		F=$LAB/ooni-qa-$n.html
		if grep -q '^not ok' "$LAB/ooni-dom.out" ||
			[ "$(count 'class="block"' "$F")" -lt 6 ] ||
			! grep -q "OONI's own verdict: blocking" "$F"; then
			cat "$LAB/ooni-dom.out"
			not_ok "ooni qa $n: drawn whole"
		else
			N=$((N + 1))
		fi
	done
	check "ooni qa: every measurement drawn, every section, OONI's verdict named" \
		"$(ls tests/data/ooni/qa/*.json | wc -l | tr -d ' ')" "$N"
	F=$LAB/ooni-qa-tlsBlockingConnectionResetWithConsistentDNS.html
	TLS=$(block "$F" m-tls-addr)
	check_match "ooni tls reset: the target handshake (no sni_role: by its name) reset, beside the control's" \
		'<th scope="col">Target SNI</th><th scope="col">The control \(from outside\)</th>.*<td class="role-target"><code class="sni">www.example.com</code></td><td class="ctl" rowspan="7"><div>SNI <code>www.example.com</code></div><span class="m-ok">completed</span>.*<td class="role-target failed"><span class="m-fail" title="connection_reset">reset \(RST\)</span>' "$TLS"
	check_match "ooni tls reset: peer_certificates null" '<span class="none">none recorded</span>' "$TLS"
	check_match "ooni tls reset: OONI's verdict" \
		"OONI's own verdict: blocking \"http-failure\", accessible false" "$(cat "$F")"
	check_match "ooni tls reset: no verdict row said so" 'id="no-row"' "$(cat "$F")"
	check_match "ooni tls reset: the DoH lookup, its answer's AS" \
		'<td class="resolver">https://dns.google/dns-query \(doh\)</td><td>A</td><td class="answer"><span class="addr ctl-too">93.184.216.34</span><span class="addr-note"> \(AS15133 Edgecast Inc.\)</span>' \
		"$(rows "$F")"
	check_match "ooni tls reset: getaddrinfo's lookup" \
		'<td class="resolver">system \(getaddrinfo\)</td><td>ANY</td>' "$(rows "$F")"
	check_match "ooni tls reset: answers null is no address" \
		'<td>AAAA</td><td class="answer"><span class="none">—</span></td><td><span class="m-fail" title="dns_no_answer">' "$(rows "$F")"
	check_match "ooni tls reset: no packets, said why" "OONI's probes do not record packets" "$(cat "$F")"
	F=$LAB/ooni-qa-dnsBlockingNXDOMAIN.html
	check_match "ooni nxdomain: the probe's NXDOMAIN beside the control's addresses" \
		'<td class="ctl" rowspan="5"><span class="ctl-addrs">93.184.216.34</span>.*<td class="resolver">system \(getaddrinfo\)</td><td>ANY</td><td class="answer"><span class="none">—</span></td><td><span class="m-fail" title="dns_nxdomain_error">the name does not exist \(NXDOMAIN\)</span>' \
		"$(block "$F" m-dns-host)"
	F=$LAB/ooni-qa-successWithHTTPS.html
	HOP=$(block "$F" m-hop)
	check_match "ooni success: hop 0's status beside the control's final page" \
		'<th scope="col">The control \(from outside\): its final page</th>.*<td class="probe"><span class="status s2xx">200</span></td><td class="ctl"><span class="status s2xx">200</span>' "$HOP"
	check_match "ooni success: the title read from the body, beside the control's" \
		'<tr class="http-title"><th scope="row">Title</th><td class="probe"><span class="m-long">Default Web Page</span></td><td class="ctl"><span class="m-long">Default Web Page</span>' "$HOP"
	F=$LAB/ooni-qa-tlsBlockingConnectionResetWithConsistentDNS.html
	check_match "ooni tls reset: no neutral SNI, and what that means" \
		'<p class="note" id="no-neutral">No handshake with a neutral SNI \(OONI.s probes make none\)' "$(cat "$F")"
	check_match "ooni tls reset: no request, the control's page shown" \
		'<div class="m-hop m-ctl-only"><h3>The control.s final page \(from outside\)</h3>.*<span class="status s2xx">200</span>.*Default Web Page' "$(cat "$F")"
	shot ooni-qa-tls "$(page tlsBlockingConnectionResetWithConsistentDNS)" 2200

	# every field of the wrong type, markup wherever text goes
	dom types "$(page measurement_types)"
	F=$LAB/types.html
	check "types: every section drawn (exchanges in place of TCP)" "7 0" \
		"$(count '<section id="[a-z]+" class="block">' "$F") $(count 'Could not load' "$F")"
	check "types: no element from the data (no img, b, i; only the shell's scripts)" "0 0 0 $NSCRIPT" \
		"$(count '<img' "$F") $(count '<b>' "$F") $(count '<i>' "$F") $(count '<script' "$F")"
	check "types: markup shown as text (input, network, CNAME, certificate, title, reply note)" "1 1 1 1 1 1" \
		"$(count '&lt;img src=x onerror=alert\(20\)&gt;</code>' "$F") $(count '\(&lt;script&gt;alert\(21\)&lt;/script&gt;\)' "$F") $(count 'CNAME &lt;img src=x onerror=alert\(22\)&gt;' "$F") $(count 'CN=&lt;img src=x onerror=alert\(24\)&gt;' "$F") $(count '&lt;img src=x onerror=alert\(25\)&gt;' "$F") $(count '&lt;script&gt;alert\(26\)&lt;/script&gt;' "$F")"
	check_match "types: a verdict of the wrong type, a time that is none" \
		'<th scope="row">Started</th><td><span class="none">—</span></td>.*own verdict: blocking \(not a verdict\), accessible "maybe"' "$(cat "$F")"
	check_match "types: the one well-formed answer kept" '<span class="addr">192.0.2.1</span>' "$(cat "$F")"
	check_match "types: the exchanges drawn" '<tr class="xchg answered"><td><code>192.0.2.1:1194</code> udp</td>' "$(cat "$F")"
	check_match "types: no hop numbers: counted from the end (the last request is the input's)" \
		'<div class="m-hop" data-hop="0"><h3>Hop 0 <code class="hop-url"><span class="m-long">https://types.example/&lt;b&gt;u&lt;/b&gt;</span>.*<div class="m-hop" data-hop="1">.*<div class="m-hop" data-hop="2">' "$(cat "$F")"
	shot types "$(page measurement_types)" 2400
	kill "$SI_PID" 2>/dev/null
	wait "$SI_PID" 2>/dev/null
	B=$B0
fi

for s in $SHOTS; do
	echo "# screenshot: $s"
done
check "no script error or CSP violation in the console" "" \
	"$(grep -E 'CONSOLE|Content Security Policy|Uncaught' "$LAB/chromium.log" |
		grep -Ei 'error|refused|violat|uncaught' | grep -v 'nothing-here' | head -n 5)"
finish
