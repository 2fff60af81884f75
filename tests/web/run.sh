#!/bin/sh
# tests/web/run.sh COLLECTOR PROBE FAKENET - the web view in headless
# Chromium (Debian's `chromium`), against a collector on loopback filled
# with test data: real measurements from the probe (against fakenet, with
# the collector as their control) and synthetic ones built from the
# analysis fixtures (tests/data/analysis/: a real envelope, their
# observations, spread over the last three weeks and several networks) so
# that the timelines hold accessible, blocked (TLS, DNS, HTTP, TCP), down
# and no-verdict days and a change of state. It loads the overview, a
# target's page and a domain's page, asserts on the DOM Chromium built,
# checks how the pages and files are served, and keeps screenshots (and the
# DOMs) in build/test-artifacts/ (WW_ARTIFACTS to change). Run from the top
# of the tree. Ends with "N passed, N failed".
set -u
COLLECTOR=$1
PROBE=$2
FAKENET=$3
ART=${WW_ARTIFACTS:-build/test-artifacts}

. tests/web/lib.sh
. tests/integration/lib.sh
web_start "$FAKENET"

# start_collector: the full service on a free loopback port; sets PORT, B.
# Everything here comes from one submitter (this script, unsigned): a
# single-probe deployment, where one submitter may change a state; and
# from loopback, which the tiny ASN table maps to DE AS64500, while the
# measurements claim CN, IR...: allowed to count (docs/timelines.md,
# "Agreement").
start_collector() {
	lab_collector "$LAB/col.err" "$COLLECTOR" "$DB" --min-submitters 1 \
		--allow-geo-mismatch yes
	B=http://127.0.0.1:$PORT
}
SUBMIT_MAX_TIME=30 # submit (lib.sh): the synthetic batch is the largest
api() { curl -s --max-time 20 "$B$1"; }
# scripts F: <script> elements in F but the shell's own (/static/...):
# any other came from the data
scripts() { grep -oE '<script[^>]*>' "$1" | grep -vc 'src="/static/'; }
day() { date -u -d "@$((MID - $1 * 86400))" +%Y-%m-%d; }

SHOTS=
start_collector

# --- data: real measurements ----------------------------------------------
timeout 120 "$PROBE" run --input "https://good.lab.test:$TLS_GOOD_PORT/" \
	--input "http://good.lab.test:$HTTP_PORT/" \
	--input "http://nx.lab.test:$HTTP_PORT/" \
	--resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" --timeout 2 \
	--control "$B" --probe-cc DE --probe-asn AS64500 \
	--quiet --output "$LAB/real.jsonl"
check "probe: three real measurements" 3 \
	"$(wc -l <"$LAB/real.jsonl" | tr -d ' ')"
submit "$LAB/real.jsonl"
check "real measurements stored" "200 3" \
	"$CODE $(printf '%s' "$OUT" | jq '.stored|length')"
head -n 1 "$LAB/real.jsonl" >"$LAB/envelope.json"

# --- data: synthetic measurements -------------------------------------------
MID=$(($(date +%s) / 86400 * 86400))
HOSTILE='https://www.example.org/"><img/src=x/onerror=alert(1)><script>alert(2)</script>'
# https://www.example.org/ on CN AS4134: accessible for two weeks (a down
# day, a day without verdict), then blocked by SNI filtering; day 4 mixed.
synth a1 clean_https CN AS4134 2 "21 20 19 18 17 16 15 13 12 10 9"
synth a2 down_tls_both CN AS4134 2 "14"
synth a3 no_control CN AS4134 1 "11"
synth a4 tls_sni_reset CN AS4134 3 "8 7 6 5 4 3 2 1"
synth a5 clean_https CN AS4134 1 "4"
# ... accessible on CN AS4837, DNS tampering on IR AS197207.
synth b1 clean_https CN AS4837 1 "20 17 14 11 8 5 2"
synth c1 dns_injected IR AS197207 2 "9 8 7 6 5 4 3 2 1"
# http://www.example.org/: accessible, then a blockpage (CN AS4134).
synth d1 clean_http CN AS4134 2 "20 19 18 17 16 15 14 13 12 11"
synth d2 http_blockpage CN AS4134 2 "10 9 8 7 6 5 4 3 2 1"
# endpoints on IR AS197207: tls:// reset on its SNI, tcp:// refused.
synth e1 endpoint_tls_sni_reset IR AS197207 2 "6 5 4 3 2 1"
synth f1 endpoint_tcp_refused IR AS197207 2 "5 4 3 2 1"
# a publisher's 451 over HTTPS (the China Quarterly case) on CN AS4134:
# withheld by the site, not blocked by the network.
CQ=https://www.cambridge.org/core/journals/china-quarterly
synth g1 https_451 CN AS4134 1 "5 4 3 2 1" "$CQ"
# an input full of markup: the page must show it as text.
synth x1 tls_sni_reset CN AS4134 1 "3" "$HOSTILE"
NSYN=$(wc -l <"$LAB/syn.jsonl" | tr -d ' ')
submit "$LAB/syn.jsonl"
check "synthetic measurements stored" "200 $NSYN 0" \
	"$CODE $(printf '%s' "$OUT" | jq '"\(.stored|length) \(.rejected|length)"' -r)"

# What the API says (if these fail, the store is at fault, not the view).
api /api/v1/targets?limit=1000 >"$LAB/targets.json"
NROWS=$(jq '.targets|length' "$LAB/targets.json")
check "api: eleven (target, network) rows" 11 "$NROWS"
check "api: www.example.org on CN AS4134 blocked by tls" "blocked tls" \
	"$(jq -r '.targets[] | select(.input == "https://www.example.org/" and
		.probe_asn == "AS4134") | "\(.state) \(.method)"' "$LAB/targets.json")"
# pct_blocked_30 is a fraction (0..1) of tests_30: 24 of the tests were
# blocked (TLS) in the last 30 days.
check "api: pct_blocked_30 is the blocked fraction (24 of tests_30)" 24 \
	"$(jq -r '.targets[] | select(.input == "https://www.example.org/" and
		.probe_asn == "AS4134") | .pct_blocked_30 * .tests_30 | round' "$LAB/targets.json")"
PCT=$(jq -r '.targets[] | select(.input == "https://www.example.org/" and
	.probe_asn == "AS4134") | 2400 / .tests_30 | round' "$LAB/targets.json")
check "api: the publisher's 451 is its own method" "blocked server-side" \
	"$(jq -r --arg i "$CQ" '.targets[] | select(.input == $i) |
		"\(.state) \(.method)"' "$LAB/targets.json")"
check "api: the censor's blockpage stays http-diff" "blocked http-diff" \
	"$(jq -r '.targets[] | select(.input == "http://www.example.org/" and
		.probe_asn == "AS4134") | "\(.state) \(.method)"' "$LAB/targets.json")"
check "api: days count withheld ones apart" "5 0" \
	"$(api "/api/v1/timeline?input=$(jq -rn --arg i "$CQ" '$i|@uri')" |
		jq -r '[.buckets[]] | "\(map(.["server-side"]) | add) \(map(.["http-diff"]) | add)"')"
check "api: an event to blocked by tls" "blocked tls" \
	"$(api '/api/v1/events?input=https%3A%2F%2Fwww.example.org%2F&asn=AS4134' |
		jq -r '[.events[] | select(.to == "blocked")][-1] | "\(.to) \(.method)"')"

check "api: the settings say one submitter is enough here" "1 6 48 true" \
	"$(api /api/v1/settings | jq -r '.agreement |
		"\(.min_submitters) \(.single_submitter_hours) \(.daily_cap) \(.allow_geo_mismatch)"')"

# --- how pages and files are served ---------------------------------------------
hdr() { curl -s -D - -o /dev/null --max-time 10 "$@" | tr -d '\r'; }
H=$(hdr "$B/")
check_match "/: 200 html" "^HTTP/1.1 200" "$H"
check_match "/: text/html" "Content-Type: text/html; charset=utf-8" "$H"
check_match "/: Cache-Control" "Cache-Control: no-cache" "$H"
check_match "/: a Content-Security-Policy" "Content-Security-Policy: default-src 'none'; script-src 'self'" "$H"
for p in /index.html "/target?input=x" "/domain?host=x"; do
	check_match "$p: 200" "^HTTP/1.1 200" "$(hdr "$B$p")"
done
H=$(hdr "$B/static/app.js")
check_match "app.js: javascript" "Content-Type: text/javascript" "$H"
check_match "app.js: cacheable" "Cache-Control: public, max-age=" "$H"
ETAG=$(printf '%s\n' "$H" | sed -n 's/^ETag: //p')
check_match "app.js: 304 for its ETag" "^HTTP/1.1 304" \
	"$(hdr -H "If-None-Match: $ETAG" "$B/static/app.js")"
check "app.js: served byte for byte" "$(sha256sum <collector/web/app.js)" \
	"$(curl -s --max-time 10 "$B/static/app.js" | sha256sum)"
H=$(curl -s -I --max-time 10 "$B/static/style.css" | tr -d '\r')
check_match "HEAD style.css: 200" "^HTTP/1.1 200" "$H"
check_match "HEAD style.css: its length" \
	"Content-Length: $(wc -c <collector/web/style.css | tr -d ' ')" "$H"
# HEAD: the headers alone; pipelined, the next answer follows at once.
RAW=$(timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"
printf "HEAD /static/app.js HTTP/1.1\r\nHost: t\r\n\r\nGET /static/favicon.svg HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" >&3
cat <&3' sh "$PORT" | tr -d '\r')
check "HEAD app.js then GET favicon.svg: no body after HEAD" "2 0 1" \
	"$(printf '%s\n' "$RAW" | grep -c '^HTTP/1.1 200 OK$') $(printf '%s\n' "$RAW" |
		grep -c 'use strict') $(printf '%s\n' "$RAW" | grep -c '^<svg')"
check_match "/static/nothing.js: 404" "^HTTP/1.1 404" \
	"$(hdr "$B/static/nothing.js")"
check_match "/nowhere: 404" "^HTTP/1.1 404" "$(hdr "$B/nowhere")"

# --- the overview ---------------------------------------------------------------
dom overview /
F=$LAB/overview.html
check "overview: one row per (target, network)" "$NROWS" \
	"$(rows "$F" | grep -c 'class="row ')"
ROW=$(rows "$F" | grep 'class="target-link">https://www.example.org/</a>' |
	grep 'CN · AS4134')
check_match "overview: states the single-probe deployment" \
	'<p class="note agreement" id="agreement" data-min-submitters="1">Single-probe deployment: a state changes on the measurements of one submitter alone' \
	"$(cat "$F")"
check_match "overview: the blocked row's badge" \
	'<span class="badge state-blocked"[^>]*>blocked</span>' "$ROW"
check_match "overview: its method" "by TLS/SNI filtering" "$ROW"
check_match "overview: its % blocked over 30 days (24 of the tests)" \
	"> $PCT%</td>" "$ROW"
check_match "overview: it links to the target's page" \
	'href="/target\?input=https%3A%2F%2Fwww.example.org%2F"' "$ROW"
check_match "overview: and to its domain" 'href="/domain\?host=www.example.org"' "$ROW"
check_match "overview: the accessible row" \
	'badge state-accessible[^>]*>accessible<' \
	"$(rows "$F" | grep 'target-link">https://www.example.org/</a>' |
		grep 'CN · AS4837')"
check_match "overview: the endpoint row" 'by TCP/IP blocking' \
	"$(rows "$F" | grep 'target-link">tcp://vpn.example.net:1194<')"
ROW=$(rows "$F" | grep "class=\"target-link\">$CQ</a>")
check_match "overview: the publisher's 451 is withheld by the site" \
	'<span class="badge state-blocked withheld"[^>]*>blocked</span> <span class="method">withheld by the site</span>' \
	"$ROW"
check "overview: and not blocked by a blockpage" 0 \
	"$(printf '%s' "$ROW" | grep -c 'blockpage')"
ROW=$(rows "$F" | grep 'class="target-link">http://www.example.org/</a>' |
	grep 'CN · AS4134')
check_match "overview: a censor's blockpage reads blocked" \
	'<span class="badge state-blocked"[^>]*>blocked</span> <span class="method">by HTTP blockpage/different page</span>' \
	"$ROW"
check "overview: and not withheld" 0 "$(printf '%s' "$ROW" | grep -c 'withheld')"
check_match "overview: blocked rows first" 'state-blocked' \
	"$(rows "$F" | grep 'class="row ' | head -n 1)"
check_match "overview: the CSV link" \
	'href="/api/v1/export\?format=csv"' "$(cat "$F")"
check "overview: untrusted input shown as text" 1 \
	"$(count '&lt;img/src=x/onerror=alert\(1\)&gt;&lt;script&gt;alert\(2\)&lt;/script&gt;</a>' "$F")"
check "overview: and not as markup (no img, no script but the shell's)" "0 0" \
	"$(count '<img' "$F") $(scripts "$F")"
shot overview / 900

dom overview-cn "/?cc=IR"
F=$LAB/overview-cn.html
check "filter cc=IR: only IR rows" \
	"$(jq '[.targets[] | select(.probe_cc == "IR")] | length' "$LAB/targets.json") 0" \
	"$(rows "$F" | grep -c 'class="row ') $(rows "$F" | grep 'class="row ' | grep -vc 'IR · ')"
check_match "filter cc=IR: kept in the form" '<option value="IR" selected="">' "$(cat "$F")"
check_match "filter cc=IR: the CSV link has it" \
	'id="csv-link"' "$(grep -o '<a href="/api/v1/export?format=csv&amp;cc=IR"[^>]*>' "$F")"
check "filter cc=IR: the CSV holds IR's measurements" \
	"measurement_uid $(grep -c '"probe_cc":"IR"' "$LAB/syn.jsonl")" \
	"$(curl -s --max-time 30 "$B/api/v1/export?format=csv&cc=IR" |
		awk -F, 'NR == 1 { h = $1 } NR > 1 && $6 == "IR" { n++ }
			END { print h, n + 0 }')"
dom overview-state "/?state=blocked&category=NEWS"
check "filter state=blocked&category=NEWS" \
	"$(jq '[.targets[] | select(.state == "blocked" and .category_code == "NEWS")] | length' "$LAB/targets.json")" \
	"$(rows "$LAB/overview-state.html" | grep -c 'class="row ')"

# --- a target -------------------------------------------------------------------------
dom target "/target?input=https%3A%2F%2Fwww.example.org%2F"
F=$LAB/target.html
check "target: one strip per network" 3 "$(count '<div class="strip"' "$F")"
check "target: 30 days each" 90 "$(count '<span class="cell ' "$F")"
STRIP=$(sed 's/<div class="strip"/\n&/g' "$F" | grep 'data-network="CN AS4134"' |
	sed 's/<div class="axis".*//')
check "target: CN AS4134 days by outcome (tls ok down failed none)" \
	"8 11 1 1 9" \
	"$(for o in tls ok down failed none; do
		printf '%s\n' "$STRIP" | grep -o "data-outcome=\"$o\"" | wc -l
	done | tr '\n' ' ' | sed 's/ $//')"
check "target: a day's counts in its title" 1 \
	"$(count "title=\"$(day 4) · CN · AS4134: 1 accessible, 3 TLS/SNI filtering\"" "$F")"
check_match "target: the TLS days are coloured by method" \
	"data-day=\"$(day 1)\" data-outcome=\"tls\"" "$STRIP"
check "target: IR's DNS tampering days" 9 \
	"$(sed 's/<div class="strip"/\n&/g' "$F" | grep 'data-network="IR AS197207"' |
		sed 's/<div class="axis".*//' | grep -o 'data-outcome="dns"' | wc -l)"
check "target: a stacked chart per network" 3 "$(count '<svg class="chart"' "$F")"
check "target: a bar per day" 90 "$(count '<g class="bar"' "$F")"
check "target: TLS segments on 8 days" 8 "$(count 'class="seg o-tls"' "$F")"
check "target: DNS segments on 9 days" 9 "$(count 'class="seg o-dns"' "$F")"
check_match "target: the event" \
	'blocked since [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC by TLS/SNI filtering' \
	"$(cat "$F")"
check_match "target: the recent measurements" \
	'The 50 most recent measurements of 75 in the last 30 days' "$(cat "$F")"
check "target: 50 links to raw measurements" 50 \
	"$(count 'href="/api/v1/measurements/[^"]+" class="raw"' "$F")"
RAW=$(grep -oE 'href="/api/v1/measurements/[^"]+" class="raw"' "$F" |
	head -n 1 | sed 's/^href="//; s/" class="raw"$//')
check "target: the first raw link is the newest measurement" \
	"webtest_a4_1_2" "$(api "$RAW" | jq -r .measurement_uid)"
shot target "/target?input=https%3A%2F%2Fwww.example.org%2F" 2300

dom target-cq "/target?input=$(jq -rn --arg i "$CQ" '$i|@uri')"
F=$LAB/target-cq.html
check_match "target (451): the event says withheld by the site" \
	'blocked since [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC withheld by the site \(was unknown\)' \
	"$(cat "$F")"
check "target (451): its state, withheld by the site" 1 \
	"$(count '<span class="badge state-blocked withheld"[^>]*>blocked</span> <span class="method">withheld by the site</span>' "$F")"
check "target (451): days coloured as withheld" 5 \
	"$(count 'data-outcome="server-side"' "$F")"
check "target (451): chart segments of their own colour" 5 \
	"$(count 'class="seg o-server-side"' "$F")"
check "target (451): in the legends (timeline and chart)" \
	"$(count '<ul class="legend"' "$F")" \
	"$(count '<li><span class="swatch o-server-side"></span>withheld by the site</li>' "$F")"
check "target (451): its measurements read withheld by the site" 5 \
	"$(count '<span class="badge o-server-side">withheld by the site</span>' "$F")"
check "target (451): nothing reads as a blockpage" 0 \
	"$(count 'by HTTP blockpage|data-outcome="http-diff"|badge o-http-diff|seg o-http-diff' "$F")"
shot target-cq "/target?input=$(jq -rn --arg i "$CQ" '$i|@uri')" 1400
dom target-bp "/target?input=http%3A%2F%2Fwww.example.org%2F&asn=AS4134"
check_match "target (blockpage): the event says blocked by a blockpage" \
	'blocked since [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC by HTTP blockpage/different page' \
	"$(cat "$LAB/target-bp.html")"
check "target (blockpage): nothing withheld" 0 \
	"$(count 'withheld by the site</span>|data-outcome="server-side"' "$LAB/target-bp.html")"

# --- a domain ---------------------------------------------------------------------------
dom domain "/domain?host=www.example.org"
F=$LAB/domain.html
api /api/v1/domains/www.example.org >"$LAB/domain.json"
check "domain: one roll-up per network" \
	"$(jq '.networks|length' "$LAB/domain.json")" "$(count '<li class="rollup"' "$F")"
EXP=$(jq -r '.networks[] | select(.probe_asn == "AS4134") |
	"Of \(.blocked + .disrupted + .accessible + .down + .unknown) URLs on this domain, \(.blocked) blocked, \(.disrupted) disrupted, \(.accessible) accessible"' \
	"$LAB/domain.json")
check_match "domain: CN AS4134's roll-up" "$EXP" "$(cat "$F")"
check_match "domain: two of them blocked there" "^Of 3 URLs on this domain, [23] blocked" "$EXP"
check "domain: links to its targets" \
	"$(jq '[.targets[] | select(.input | test("^https?://www\\.example\\.org[/:]"))] | length' "$LAB/targets.json")" \
	"$(count 'class="target-link"' "$F")"
check_match "domain: the http target" \
	'href="/target\?input=http%3A%2F%2Fwww.example.org%2F" class="target-link"' "$(cat "$F")"
check "domain: no markup from the data" "0 0" \
	"$(count '<img' "$F") $(scripts "$F")"
shot domain "/domain?host=www.example.org" 900

# --- packet evidence (issue 13) ---------------------------------------------------
# Measurements carrying test_keys.packets (tests/data/web/, in the form of
# docs/measurement-format.md) on a network of their own, CN AS9808, sent
# after every check above (they would change its counts): a TLS handshake
# reset by an injected RST while the server's answer still came, a DNS
# answer raced by a forged one, and one whose packets hold markup wherever
# the validation allows free text (values of the wrong type are refused at
# the ingest; tests/unit/test_pktview.c feeds them to the view).
rm -f "$LAB/syn.jsonl"
PK=tests/data/web
synth p1 tls_sni_reset CN AS9808 1 "1" "" "$PK/packets_rst.json"
synth p2 dns_injected CN AS9808 1 "2" "" "$PK/packets_dns.json"
synth p3 tls_sni_reset CN AS9808 1 "3" "" "$PK/packets_hostile.json"
submit "$LAB/syn.jsonl"
check "packet measurements stored (validation takes test_keys.packets)" \
	"200 3 0" \
	"$CODE $(printf '%s' "$OUT" | jq '"\(.stored|length) \(.rejected|length)"' -r)"
P1=webtest_p1_1_0
P2=webtest_p2_2_0
P3=webtest_p3_3_0
pm() { api '/api/v1/measurements?asn=AS9808' | jq -r --arg u "$1" ".measurements[] | select(.measurement_uid == \$u) | $2"; }
check "api: DNS entries and TCP flows counted per measurement" "1 2 2" \
	"$(pm $P1 .packets) $(pm $P2 .packets) $(pm $P3 .packets)"
# The evidence is the collector's analysis's (docs/verdicts.md, version 3
# of the rules); with rules of a version before it names none, the test
# stores what version 3 would, so that the page is tested either way.
AV=$(pm $P1 .analysis_version)
if [ "${AV:-0}" -ge 3 ] 2>/dev/null; then
	check "api: the injected RST is confirmed by packets" "true true" \
		"$(pm $P1 '"\(.confirmed_by_packets) \(.evidence | any(. == "rst_injected"))"')"
	check "api: the raced DNS answer is confirmed by packets" "true true" \
		"$(pm $P2 '"\(.confirmed_by_packets) \(.evidence | any(. == "dns_injected"))"')"
else
	echo "# analysis version $AV names no packet evidence: stored as version 3 would"
	sqlite3 -cmd '.timeout 20000' "$DB" "UPDATE measurements SET
		evidence = 'rst_injected;rst_ttl_mismatch;server_after_rst',
		evidence_detail = 'RST ttl 49 vs server ttl 63 on flow 3',
		confirmed = 1 WHERE uid = '$P1';
		UPDATE measurements SET evidence = 'dns_injected;dns_ttl_mismatch',
		evidence_detail = 'two answers to DNS id 4242: 8.7.198.45 (ttl 51) first, then 93.184.215.14 (ttl 63)',
		confirmed = 1 WHERE uid = '$P2';"
fi
# A sentence full of markup (the analysis may quote a hostname in it).
sqlite3 -cmd '.timeout 20000' "$DB" "UPDATE measurements SET
	evidence = 'rst_injected', confirmed = 1,
	evidence_detail = '<img src=x onerror=alert(10)><script>alert(11)</script> on flow 9'
	WHERE uid = '$P3'"
check "api: evidence and its sentence, per measurement" "true true true" \
	"$(pm $P1 '.evidence_detail != null') $(pm $P2 '.evidence_detail != null') $(pm $P3 .confirmed_by_packets)"
api "/api/v1/measurements/$P2/packets" >"$LAB/p2.json"
check "api: packets of one measurement, trimmed (no raw_response)" "$P2 2 false 1" \
	"$(jq -r '"\(.measurement_uid) \(.packets.dns[0].replies | length) \([.. | objects | has("raw_response")] | any) \(.packets.tcp | length)"' "$LAB/p2.json")"
api "/api/v1/measurements/$P3/packets" >"$LAB/p3.json"
check "api: a flow on IPv6, a reply with no address" "2001:db8::1 0 null" \
	"$(jq -r '"\(.packets.tcp[0].ip) \(.packets.dns[0].replies[1].addrs | length) \(.packets.dns[0].replies[1].rcode)"' "$LAB/p3.json")"
check_match "api: packets of an unknown uid: 404" "^HTTP/1.1 404" \
	"$(hdr "$B/api/v1/measurements/nothing-here/packets")"
check "api: a measurement without packets: null" "null" \
	"$(api "/api/v1/measurements/webtest_a4_1_2/packets" | jq -c .packets)"

PKURL="/target?input=https%3A%2F%2Fwww.example.org%2F&asn=AS9808"
dom target-pkt "$PKURL&open=$P1"
F=$LAB/target-pkt.html
ROW=$(rows "$F" | grep "class=\"raw\" title=\"$P1\"")
check_match "target (packets): the verdict line says confirmed by packets" \
	'<span class="confirmed by-packets"[^>]*>confirmed by packets</span>' "$ROW"
check_match "target (packets): with the analysis's sentence" \
	'<code>tls.reset</code><div class="ev-detail">[^<]+</div>' "$ROW"
check "target (packets): each is folded under its row" 3 \
	"$(count '<details class="evidence"' "$F")"
check "target (packets): ?open= opens that one only" 1 \
	"$(count '<details class="evidence" data-uid="[^"]*" id="[^"]*" open=""' "$F")"
check "target (packets): the flow's packets" 7 "$(count 'class="pkt-row ' "$F")"
INJ=$(rows "$F" | grep 'class="pkt-row dir-in rst injected"')
check "target (packets): one injected RST highlighted, TTL 49, IP ID 31337" \
	"1 1 1" \
	"$(printf '%s\n' "$INJ" | grep -c .) $(printf '%s' "$INJ" | grep -c '<td>49</td>') $(printf '%s' "$INJ" | grep -c '<td>31337</td>')"
check_match "target (packets): the server's TTL named" \
	"TCP flow 3 to <code>93.184.215.14:443</code>: 7 packets, steps 4, 5; the server's TTL 63" "$(cat "$F")"
check_match "target (packets): the change of state says packets confirm it" \
	'<span class="ev-packets"> — <a href="/target[?][^"]*open=webtest_p[123]_[123]_0#ev-webtest_p[123]_[123]_0">confirmed by packets</a> in 3 of them</span>' \
	"$(cat "$F")"
check "target (packets): the folded ones are not loaded" 0 \
	"$(count 'class="reply' "$F")"
shot target-packets "$PKURL&open=$P1" 2000

dom target-dns "$PKURL&open=$P2"
F=$LAB/target-dns.html
check "target (DNS): two replies, the first marked" "1 1" \
	"$(count '<tr class="reply first">' "$F") $(count '<tr class="reply">' "$F")"
check_match "target (DNS): the first is the forged one (TTL 51)" \
	'<tr class="reply first"><td>10.1 ms</td><td>4242</td><td>NOERROR</td><td class="addrs">8.7.198.45</td><td>51</td><td>12345</td>' \
	"$(rows "$F" | grep 'class="reply first"')"
check_match "target (DNS): the later one" \
	'<td class="addrs">93.184.215.14</td><td>63</td><td>51234</td>' \
	"$(rows "$F" | grep '<tr class="reply">')"
shot target-dns "$PKURL&open=$P2" 2000

dom target-hostile "$PKURL&open=$P3"
F=$LAB/target-hostile.html
check "target (markup in packets): shown as text" "1 1 1 1 1" \
	"$(count '&lt;img src=x onerror=alert\(10\)&gt;&lt;script&gt;alert\(11\)&lt;/script&gt; on flow 9' "$F") $(count '&lt;img src=x onerror=alert\(3\)&gt;.example.org' "$F") $(count '&lt;script&gt;alert\(4\)&lt;/script&gt;' "$F") $(count '&lt;script&gt;alert\(6\)&lt;/script&gt;' "$F") $(count 'DNS A&lt;b&gt;' "$F")"
check "target (markup in packets): and not as markup (no img, no b, no script but the shell's)" "0 0 0" \
	"$(count '<img' "$F") $(count '<b>' "$F") $(scripts "$F")"
check_match "target (IPv6 flow): its address in brackets" \
	'TCP flow 9 to <code>\[2001:db8::1\]:443</code>' "$(cat "$F")"
check "target (markup in packets): capture off, its reason as text" 1 \
	"$(count 'Packet capture was off: &lt;img src=x onerror=alert\(5\)&gt; no CAP_NET_RAW' "$F")"

# Exports: JSON Lines carry test_keys.packets as sent; CSV its two columns.
api '/api/v1/export?format=jsonl&asn=AS9808' >"$LAB/pk.jsonl"
check "export jsonl: the measurements byte for byte as submitted" \
	"$(sha256sum <"$LAB/syn.jsonl")" "$(sha256sum <"$LAB/pk.jsonl")"
check "export jsonl: with their test_keys.packets" 3 \
	"$(jq -c 'select(.test_keys.packets.snaplen == 256)' "$LAB/pk.jsonl" | wc -l | tr -d ' ')"
api '/api/v1/export?format=csv&asn=AS9808' | tr -d '\r' >"$LAB/pk.csv"
check "export csv: the columns evidence, confirmed_by_packets (then the source's)" \
	"analysis_version,evidence,confirmed_by_packets" \
	"$(head -n 1 "$LAB/pk.csv" | cut -d, -f15-17)"
check "export csv: the injected RST's row" "$P1 rst_injected true" \
	"$(awk -F, -v u="$P1" '$1 == u { print $1, ($16 ~ /(^|;)rst_injected(;|$)/ ? "rst_injected" : $16), $17 }' "$LAB/pk.csv")"
check "export csv: every row has 21 cells" "4 4" \
	"$(wc -l <"$LAB/pk.csv" | tr -d ' ') $(awk -F, 'NF == 21' "$LAB/pk.csv" | wc -l | tr -d ' ')"
check "export command: the same CSV" "$(sha256sum <"$LAB/pk.csv")" \
	"$("$COLLECTOR" export --db "$DB" --asn AS9808 --format csv | tr -d '\r' | sha256sum)"

# OONI's measurements beside ours (docs/ooni-data.md): the overview's
# "Measured by" control. Last, so that the counts above hold.
NOURS=$(api '/api/v1/targets?limit=1000' | jq '.targets|length')
cat tests/data/ooni/legacy/ir_facebook_041.json \
	tests/data/ooni/legacy/us_instagram_041.json >"$LAB/ooni.jsonl"
submit "$LAB/ooni.jsonl"
check "OONI's measurements stored" "200 2" \
	"$CODE $(printf '%s' "$OUT" | jq '.stored|length')"
dom overview-ooni "/?source=ooni"
F=$LAB/overview-ooni.html
check "overview, measured by OONI: its two targets" 2 \
	"$(rows "$F" | grep -c 'class="row ')"
check_match "overview, measured by OONI: the control says so" \
	'<option value="ooni" selected' "$(cat "$F")"
check_match "overview, measured by OONI: the CSV of OONI's" \
	'href="/api/v1/export\?format=csv&amp;source=ooni"' "$(cat "$F")"
dom overview-ours "/?source=wallwatch"
check "overview, measured by Wallwatch: the rows of before" "$NOURS" \
	"$(rows "$LAB/overview-ours.html" | grep -c 'class="row ')"
shot overview-ooni "/?source=ooni" 900

for s in $SHOTS; do
	echo "# screenshot: $s"
done
# The pages' console: no script error, nothing the CSP had to refuse.
check "no script error or CSP violation in the console" "" \
	"$(grep -E 'CONSOLE|Content Security Policy|Uncaught' "$LAB/chromium.log" |
		grep -Ei 'error|refused|violat|uncaught' | head -n 5)"

# SIGTERM: the collector finishes and exits 0 (within 60 s, else killed:
# a bound for a hung collector, not for a slow machine).
kill -TERM "$COL_PID"
col_gone() { ! kill -0 "$COL_PID" 2>/dev/null; }
wait_until 60 col_gone
kill -9 "$COL_PID" 2>/dev/null
wait "$COL_PID"
check "collector: clean exit on SIGTERM" 0 $?
COL_PID=
finish
