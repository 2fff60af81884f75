#!/bin/sh
# tests/web/network.sh COLLECTOR PROBE FAKENET - the network pages (issue
# 16; docs/web-view.md, "Network pages") in headless Chromium: /network,
# /country and /changes, and the API behind them (/api/v1/networks,
# /api/v1/networks/matrix, /api/v1/changes), against a collector on
# loopback with an ASN table of its own (AS names, one of them markup).
# The data: synthetic measurements from the analysis fixtures
# (tests/web/lib.sh's synth, on an envelope the probe wrote against
# fakenet) that make targets blocked on one network and accessible on
# another; and OONI's measurements (tests/data/ooni/qa, moved to CN's
# networks) of a target of their own, so that the source filter
# (source=ooni|wallwatch, "Measured by") gives different counts. Asserts
# on the DOM Chromium built (names, counts, methods,
# links; markup in a target's input and in an AS name stays text) and
# keeps screenshots and DOMs in build/test-artifacts/ (WW_ARTIFACTS).
# Run from the top of the tree. Ends with "N passed, N failed".
set -u
COLLECTOR=$1
PROBE=$2
FAKENET=$3
ART=${WW_ARTIFACTS:-build/test-artifacts}

. tests/web/lib.sh
. tests/integration/lib.sh
web_start "$FAKENET"

# The ASN table: loopback (the submitter: this script) and the networks
# the measurements claim, named; AS9808's name is markup.
EVIL_NAME='<img src=x onerror=alert(7)><b>CMNET</b>'
printf '%s\t%s\t%s\t%s\t%s\n' \
	127.0.0.0 127.255.255.255 64500 DE WALLWATCH-LOOPBACK \
	1.0.0.0 1.0.0.255 4134 CN "CHINANET-BACKBONE No.31,Jin-rong Street" \
	1.0.1.0 1.0.1.255 4837 CN "CHINA169-BACKBONE CHINA UNICOM" \
	1.0.2.0 1.0.2.255 9808 CN "$EVIL_NAME" \
	1.0.3.0 1.0.3.255 197207 IR "MCCI-AS" >"$LAB/asn.tsv"

# One submitter (unsigned, from loopback, which the table maps to DE
# while the measurements claim CN and IR): a single-probe deployment.
collector_up "$LAB/col.err" "$COLLECTOR" --db "$DB" --asn-db "$LAB/asn.tsv" \
	--allow-private --resolver "127.0.0.1:$DNS_PORT" \
	--ca-file "$LAB/ca.pem" --timeout 2 --min-submitters 1 \
	--allow-geo-mismatch yes
B=http://127.0.0.1:$PORT
SUBMIT_MAX_TIME=30
api() { curl -s --max-time 20 "$B$1"; }
# from REGEX FILE: the DOM, on one line, from (the last) REGEX on
from() { tr -d '\n' <"$2" | sed -E "s|^.*($1)|\1|"; }
hdr() { curl -s -D - -o /dev/null --max-time 10 "$@" | tr -d '\r'; }
SHOTS=
NSCRIPT=$(grep -c '<script' collector/web/index.html)

# --- data ---------------------------------------------------------------------
# An envelope written by the probe (the synthetic ones copy it).
timeout 120 "$PROBE" run --input "https://good.lab.test:$TLS_GOOD_PORT/" \
	--resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" --timeout 2 \
	--control "$B" --probe-cc DE --probe-asn AS64500 \
	--quiet --output "$LAB/real.jsonl"
check "probe: one real measurement" 1 "$(wc -l <"$LAB/real.jsonl" | tr -d ' ')"
head -n 1 "$LAB/real.jsonl" >"$LAB/envelope.json"

MID=$(($(date +%s) / 86400 * 86400))
T1=https://www.example.org/
T2=http://www.example.org/
HOSTILE='https://evil.example/"><img/src=x/onerror=alert(1)><script>alert(2)</script>'
# T1: accessible on every network, then blocked by SNI filtering on CN
# AS4134 and by DNS tampering on CN AS9808, accessible on CN AS4837 all
# along; also blocked by DNS on IR AS197207.
synth a1 clean_https CN AS4134 2 "14 13 12 11 10 9"
synth a2 tls_sni_reset CN AS4134 3 "8 7 6 5 4 3 2 1"
synth b1 clean_https CN AS4837 2 "12 9 6 3 1"
synth c1 clean_https CN AS9808 2 "13 12 11"
synth c2 dns_injected CN AS9808 2 "6 5 4 3 2"
synth i1 dns_injected IR AS197207 2 "5 4 3 2 1"
# T2: a blockpage on CN AS4134, accessible on CN AS4837.
synth d1 clean_http CN AS4134 2 "12 11 10 9"
synth d2 http_blockpage CN AS4134 2 "6 5 4 3 2 1"
synth e1 clean_http CN AS4837 2 "10 5 1"
# A target whose input is markup, blocked on CN AS4837 only (category
# HUMR; the others NEWS).
synth h1 tls_sni_reset CN AS4837 2 "4 3 2" "$HOSTILE"
jq -c 'if (.report_id == "webtest_h1") then .test_keys.category_code = "HUMR"
	else .test_keys.category_code = "NEWS" end' "$LAB/syn.jsonl" >"$LAB/syn2.jsonl"
NSYN=$(wc -l <"$LAB/syn2.jsonl" | tr -d ' ')
submit "$LAB/syn2.jsonl"
check "synthetic measurements stored" "200 $NSYN 0" \
	"$CODE $(printf '%s' "$OUT" | jq '"\(.stored|length) \(.rejected|length)"' -r)"

# T3: OONI's (web_connectivity, ooniprobe: OONI's QA measurements, their
# network and times changed, each day another report): blocked by DNS on
# CN AS4134, accessible on CN AS4837, where ours measured it too (NEWS,
# as the others but one). So
# T3 on AS4134 is OONI's alone, T3 on AS4837 both's, the rest ours.
T3=https://www.example.com/
ooni() { # TAG FIXTURE CC ASN DAYS
	jq -c --arg tag "$1" --arg cc "$3" --arg asn "$4" --arg days "$5" \
		--argjson mid "$MID" '. as $m
| ($days | split(" ") | map(select(. != "") | tonumber))[] as $d
| (($mid - $d * 86400 + 7200) | strftime("%Y-%m-%d %H:%M:%S")) as $t
| $m | .report_id = "webtest_ooni_\($tag)_\($d)"
| .measurement_start_time = $t | .test_start_time = $t
| .probe_cc = $cc | .probe_asn = $asn
| .test_keys.category_code = "NEWS"' "tests/data/ooni/qa/$2.json" >>"$LAB/ooni.jsonl"
}
: >"$LAB/ooni.jsonl"
ooni o1 dnsBlockingNXDOMAIN CN AS4134 "6 5 4 3 2"
ooni o2 successWithHTTPS CN AS4837 "5 3 1"
check "OONI's: T3 is their input" "$T3" "$(jq -r .input "$LAB/ooni.jsonl" | sort -u)"
submit "$LAB/ooni.jsonl" -H 'Content-Type: application/x-ndjson'
check "OONI's measurements stored" "200 8 0" \
	"$CODE $(printf '%s' "$OUT" | jq '"\(.stored|length) \(.rejected|length)"' -r)"
: >"$LAB/syn.jsonl"
synth t3 clean_https CN AS4837 2 "4 2" "$T3"
jq -c '.test_keys.category_code = "NEWS"' "$LAB/syn.jsonl" >"$LAB/syn3.jsonl"
submit "$LAB/syn3.jsonl"
check "ours of T3 on AS4837 stored" "200 4" \
	"$CODE $(printf '%s' "$OUT" | jq '.stored|length')"
check "measurements by source: OONI's 8, ours the others" \
	"8 $((NSYN + 4))" \
	"$(api '/api/v1/measurements?source=ooni&limit=1000' | jq '.measurements|length') $(api '/api/v1/measurements?source=wallwatch&limit=1000' | jq '.measurements|length')"

# --- the API --------------------------------------------------------------------
check "whoami: the network's name from --asn-db" "AS64500 WALLWATCH-LOOPBACK" \
	"$(api /api/v1/whoami | jq -r '"\(.asn) \(.network_name)"')"
api "/api/v1/networks?cc=CN" >"$LAB/nets.json"
check "networks: CN's three, by AS" "AS4134 AS4837 AS9808" \
	"$(jq -r '[.networks[].probe_asn] | join(" ")' "$LAB/nets.json")"
net() { jq -r --arg a "$1" ".networks[] | select(.probe_asn == \$a) | $2" "$LAB/nets.json"; }
check "networks: AS4134's name" "CHINANET-BACKBONE No.31,Jin-rong Street" \
	"$(net AS4134 .network_name)"
check "networks: AS4134 blocks three targets, by tls, http-diff and dns" \
	"3 3 0 1 1 1" \
	"$(net AS4134 '"\(.targets) \(.blocked) \(.accessible) \(.methods.tls) \(.methods["http-diff"]) \(.methods.dns)"')"
check "networks: AS4837 blocks one, three accessible; methods add up" "4 1 3 1" \
	"$(net AS4837 '"\(.targets) \(.blocked) \(.accessible) \([.methods[]] | add)"')"
check "networks: AS9808 blocks by dns, its name as the table has it" \
	"1 1 $EVIL_NAME" "$(net AS9808 '"\(.blocked) \(.methods.dns) \(.network_name)"')"
check "networks: blocked since the earliest onset" "true" \
	"$(net AS4134 '.blocked_since | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")')"
check "networks: one network by asn" "AS4837" \
	"$(api "/api/v1/networks?cc=CN&asn=AS4837" | jq -r '[.networks[].probe_asn] | join(" ")')"
check "networks: by category" "AS4837 1" \
	"$(api "/api/v1/networks?cc=CN&category=HUMR" | jq -r '.networks[] | "\(.probe_asn) \(.blocked)"')"
check "networks: a country is required (400 naming cc)" "cc" \
	"$(api "/api/v1/networks" | jq -r .parameter)"
check "networks: state is no parameter of it" "state" \
	"$(api "/api/v1/networks?cc=CN&state=blocked" | jq -r .parameter)"
api "/api/v1/networks/matrix?cc=CN" >"$LAB/matrix.json"
check "matrix: the targets blocked somewhere in CN, by input" \
	"$T2 $HOSTILE $T3 $T1" "$(jq -r '[.targets[].input] | join(" ")' "$LAB/matrix.json")"
check "matrix: T1 on each network" "blocked tls accessible null blocked dns" \
	"$(jq -r --arg i "$T1" '.targets[] | select(.input == $i) | .cells |
		"\(.AS4134.state) \(.AS4134.method) \(.AS4837.state) \(.AS4837.method) \(.AS9808.state) \(.AS9808.method)"' "$LAB/matrix.json")"
check "matrix: T2 not tested on AS9808" "null" \
	"$(jq -r --arg i "$T2" '.targets[] | select(.input == $i) | .cells.AS9808' "$LAB/matrix.json")"
check "matrix: a page of one, with a cursor" "$T2 $T2" \
	"$(api "/api/v1/networks/matrix?cc=CN&limit=1" | jq -r '"\(.targets[0].input) \(.next_cursor)"')"
check "matrix: the next page after it" "$HOSTILE" \
	"$(api "/api/v1/networks/matrix?cc=CN&limit=1&cursor=$(jq -rn --arg c "$T2" '$c|@uri')" |
		jq -r '.targets[0].input')"
api "/api/v1/changes?limit=1000" >"$LAB/changes.json"
NEV=$(jq '.events|length' "$LAB/changes.json")
check "changes: all of them (as /api/v1/events)" \
	"$(api '/api/v1/events?limit=1000' | jq '.events|length')" "$NEV"
check "changes: newest first" "true" \
	"$(jq '[.events[].time] as $t | $t == ($t | sort | reverse)' "$LAB/changes.json")"
check "changes: with the target's category and the AS name" \
	"NEWS CHINANET-BACKBONE No.31,Jin-rong Street" \
	"$(jq -r '[.events[] | select(.probe_asn == "AS4134")][0] | "\(.category_code) \(.network_name)"' "$LAB/changes.json")"
# three at a time by next_cursor: the same events in the same order
CUR=
: >"$LAB/paged"
while :; do
	api "/api/v1/changes?limit=3${CUR:+&cursor=$CUR}" >"$LAB/page.json"
	jq -r '.events[].id' "$LAB/page.json" >>"$LAB/paged"
	CUR=$(jq -r '.next_cursor // empty' "$LAB/page.json")
	[ -n "$CUR" ] || break
done
check "changes: paged by next_cursor, the same" \
	"$(jq -r '.events[].id' "$LAB/changes.json" | tr '\n' ' ')" \
	"$(tr '\n' ' ' <"$LAB/paged")"
check "changes: filtered by network" "AS9808" \
	"$(api '/api/v1/changes?cc=CN&asn=AS9808' | jq -r '[.events[].probe_asn] | unique | join(" ")')"
check "changes: a bad cursor is a 400 naming it" "cursor" \
	"$(api '/api/v1/changes?cursor=yesterday' | jq -r .parameter)"

# --- the source: OONI's, ours, or both -----------------------------------------------
nets_by() { # SOURCE: each network "asn targets blocked accessible"
	api "/api/v1/networks?cc=CN&source=$1" |
		jq -r '[.networks[] | "\(.probe_asn) \(.targets) \(.blocked) \(.accessible)"] | join("|")'
}
check "networks ?source=ooni: T3, on the two networks OONI measured" \
	"AS4134 1 1 0|AS4837 1 0 1" "$(nets_by ooni)"
check "networks ?source=wallwatch: ours (T3 on AS4837 too, ours as well)" \
	"AS4134 2 2 0|AS4837 4 1 3|AS9808 1 1 0" "$(nets_by wallwatch)"
check "networks ?source=all: as without it" \
	"$(jq -c . "$LAB/nets.json")" "$(api "/api/v1/networks?cc=CN&source=all" | jq -c .)"
check "networks ?source=OONI: a 400 naming source" "source" \
	"$(api "/api/v1/networks?cc=CN&source=OONI" | jq -r .parameter)"
check "matrix ?source=ooni: T3 alone, by dns on AS4134, accessible on AS4837" \
	"$T3 blocked dns accessible AS4134 AS4837" \
	"$(api "/api/v1/networks/matrix?cc=CN&source=ooni" | jq -r '"\([.targets[].input] | join(" ")) \(.targets[0].cells.AS4134.state) \(.targets[0].cells.AS4134.method) \(.targets[0].cells.AS4837.state) \([.networks[].probe_asn] | join(" "))"')"
check "matrix ?source=wallwatch: ours (T3 blocked only where OONI measured it)" \
	"$T2 $HOSTILE $T1" \
	"$(api "/api/v1/networks/matrix?cc=CN&source=wallwatch" | jq -r '[.targets[].input] | join(" ")')"
check "matrix ?source=bogus: a 400 naming source" "source" \
	"$(api "/api/v1/networks/matrix?cc=CN&source=bogus" | jq -r .parameter)"
api "/api/v1/changes?limit=1000&source=ooni" >"$LAB/changes-ooni.json"
api "/api/v1/changes?limit=1000&source=wallwatch" >"$LAB/changes-ours.json"
NEV_OONI=$(jq '.events|length' "$LAB/changes-ooni.json")
NEV_OURS=$(jq '.events|length' "$LAB/changes-ours.json")
T3_EV() { jq --arg i "$T3" --arg a "$1" '[.events[] | select(.input == $i and (.probe_asn == $a or $a == ""))] | length' "$LAB/changes.json"; }
check "changes ?source=ooni: T3's (on AS4134 and AS4837), as /events" \
	"$(T3_EV "") $(api '/api/v1/events?limit=1000&source=ooni' | jq '.events|length') $T3" \
	"$NEV_OONI $NEV_OONI $(jq -r '[.events[].input] | unique | join(" ")' "$LAB/changes-ooni.json")"
check "changes ?source=wallwatch: all but T3's on AS4134, as /events" \
	"$((NEV - $(T3_EV AS4134))) $(api '/api/v1/events?limit=1000&source=wallwatch' | jq '.events|length')" \
	"$NEV_OURS $NEV_OURS"
check "changes: some of each source" "true true" \
	"$([ "$NEV_OONI" -gt 0 ] && echo true) $([ "$NEV_OURS" -gt "$NEV_OONI" ] && echo true)"

# --- pages served ------------------------------------------------------------------
for p in "/network?cc=CN&asn=AS4134" "/country?cc=CN" /changes \
	/static/page_network.js /static/page_country.js /static/page_changes.js; do
	check_match "$p: 200" "^HTTP/1.1 200" "$(hdr "$B$p")"
done

# --- the overview links ------------------------------------------------------------
dom net-overview "/?cc=CN"
F=$LAB/net-overview.html
check_match "overview: a network cell links to its page" \
	'<td class="network"><a href="/network\?cc=CN&amp;asn=AS4134" class="net-link"[^>]*>CN · AS4134</a></td>' \
	"$(rows "$F" | grep "target-link\">$T1</a>" | grep AS4134)"
check_match "overview: the country's page" \
	'<a href="/country\?cc=CN" class="cc-link">CN</a>' "$(cat "$F")"
check_match "the header: What changed" '<a href="/changes">What changed</a>' "$(cat "$F")"
# the overview's "Measured by" goes with its links to these pages
dom net-overview-ooni "/?cc=CN&source=ooni"
F=$LAB/net-overview-ooni.html
check_match "overview (OONI's): a network cell's link keeps source" \
	'<a href="/network\?cc=CN&amp;asn=AS4134&amp;source=ooni" class="net-link"' "$(cat "$F")"
check_match "overview (OONI's): the country's link keeps source" \
	'<a href="/country\?cc=CN&amp;source=ooni" class="cc-link">CN</a>' "$(cat "$F")"

# --- a network ------------------------------------------------------------------------
dom network "/network?cc=CN&asn=AS4134"
F=$LAB/network.html
check_match "network: its AS name" \
	'<span class="netname" id="network-name">CHINANET-BACKBONE No.31,Jin-rong Street</span>' "$(cat "$F")"
check_match "network: its counts" \
	'3 targets: <span class="badge state-blocked" data-state="blocked"[^>]*>3</span> blocked' "$(cat "$F")"
check "network: blocked by method, one each" "1 1" \
	"$(count '<li data-method="tls"><span class="swatch o-tls"></span>TLS/SNI filtering: <strong>1</strong></li>' "$F") $(count '<li data-method="http-diff"><span class="swatch o-http-diff"></span>HTTP blockpage/different page: <strong>1</strong></li>' "$F")"
check "network: a group per method" "1 1" \
	"$(count '<div class="net-state" data-state="blocked" data-method="tls"><h3>Blocked by TLS/SNI filtering ' "$F") $(count '<div class="net-state" data-state="blocked" data-method="http-diff"><h3>Blocked by HTTP blockpage/different page ' "$F")"
GROUP=$(sed 's/<div class="net-state"/\n&/g' "$F" | grep 'data-method="tls"' | sed 's/<\/table>.*//')
check_match "network: the TLS group links to its target's page on this network" \
	"<a href=\"/target\\?input=https%3A%2F%2Fwww.example.org%2F&amp;cc=CN&amp;asn=AS4134\" class=\"target-link\">$T1</a>" "$GROUP"
check_match "network: since when" '<td class="since"><time datetime="[0-9T:Z-]+"' "$GROUP"
check "network: its latest changes" \
	"$(api '/api/v1/changes?cc=CN&asn=AS4134&limit=20' | jq '.events|length')" \
	"$(from '<section id="net-changes"' "$F" | grep -oE '<li data-to=' | wc -l | tr -d ' ')"
check_match "network: to the country's page" '<a href="/country\?cc=CN" id="country-link">' "$(cat "$F")"
shot network "/network?cc=CN&asn=AS4134" 1100

# "Measured by": OONI's (T3 by DNS), ours (T1 and T2), kept in the links
dom network-ooni "/network?cc=CN&asn=AS4134&source=ooni"
F=$LAB/network-ooni.html
check_match "network ?source=ooni: OONI's target" \
	'1 target: <span class="badge state-blocked" data-state="blocked"[^>]*>1</span> blocked' "$(cat "$F")"
check "network ?source=ooni: its dns group only, T3 in it (and in its changes)" "1 0 1 1" \
	"$(count 'data-method="dns"><h3>Blocked by DNS tampering ' "$F") $(count 'data-method="tls"><h3>' "$F") $(count "class=\"target-link\">$T3</a></td>" "$F") $(count "class=\"target-link\">$T3</a> — " "$F")"
check_match "network ?source=ooni: chosen in the form" '<option value="ooni" selected="">OONI</option>' "$(cat "$F")"
check_match "network ?source=ooni: kept in the country's link" \
	'<a href="/country\?cc=CN&amp;source=ooni" id="country-link">' "$(cat "$F")"
check_match "network ?source=ooni: and in What changed" \
	'<a href="/changes\?cc=CN&amp;asn=AS4134&amp;source=ooni" id="changes-link">' "$(cat "$F")"
check "network ?source=ooni: its changes" \
	"$(api '/api/v1/changes?cc=CN&asn=AS4134&source=ooni&limit=20' | jq '.events|length')" \
	"$(from '<section id="net-changes"' "$F" | grep -oE '<li data-to=' | wc -l | tr -d ' ')"
dom network-ours "/network?cc=CN&asn=AS4134&source=wallwatch"
F=$LAB/network-ours.html
check_match "network ?source=wallwatch: ours" \
	'2 targets: <span class="badge state-blocked" data-state="blocked"[^>]*>2</span> blocked' "$(cat "$F")"
check "network ?source=wallwatch: no T3" 0 "$(count "class=\"target-link\">$T3</a>" "$F")"

dom network-evil "/network?cc=CN&asn=AS9808"
F=$LAB/network-evil.html
check "network: a name of markup shown as text" 1 \
	"$(count 'id="network-name">&lt;img src=x onerror=alert\(7\)&gt;&lt;b&gt;CMNET&lt;/b&gt;</span>' "$F")"
check "network: and not as markup (no img, no b, only the shell's scripts)" "0 0 $NSCRIPT" \
	"$(count '<img' "$F") $(count '<b>' "$F") $(count '<script' "$F")"
check_match "network: blocked by DNS there" 'Blocked by DNS tampering' "$(cat "$F")"

dom network-ask "/network"
check_match "network: without cc and asn, a form" '<form class="filters" method="get" action="/network">' \
	"$(cat "$LAB/network-ask.html")"

# --- a country --------------------------------------------------------------------------
dom country "/country?cc=CN"
F=$LAB/country.html
check "country: a row per network" 3 "$(rows "$F" | grep -c '<tr class="row" data-asn=')"
ROW=$(rows "$F" | grep '<tr class="row" data-asn="AS4837"')
check_match "country: AS4837 with its name and link" \
	'<a href="/network\?cc=CN&amp;asn=AS4837" class="net-link">AS4837</a><div class="sub netname">CHINA169-BACKBONE CHINA UNICOM</div>' "$ROW"
check_match "country: AS4837: 1 blocked, 3 accessible" \
	'<td class="n-blocked" data-state="blocked"><span class="badge state-blocked">1</span></td><td class="n-disrupted" data-state="disrupted">0</td><td class="n-accessible" data-state="accessible"><span class="badge state-accessible">3</span></td>' "$ROW"
check_match "country: AS4134's methods" \
	'data-method="http-diff"[^>]*><span class="swatch o-http-diff"></span>HTTP blockpage/different page 1</span><span class="method-count" data-method="tls"' \
	"$(rows "$F" | grep '<tr class="row" data-asn="AS4134"')"
check "country: the matrix, a row per target blocked somewhere" 4 \
	"$(from '<table class="matrix"' "$F" | sed 's/<\/table>.*//' |
		sed 's/<tr/\n<tr/g' | grep -c '^<tr data-input=')"
MROW=$(from '<table class="matrix"' "$F" | sed 's/<tr/\n<tr/g' |
	grep "^<tr data-input=\"$T1\"")
check "country: T1 blocked on two networks, accessible on one" \
	"blocked tls|accessible|blocked dns" \
	"$(printf '%s' "$MROW" | grep -oE 'data-state="[a-z]+"( data-method="[a-z-]+")?' |
		sed 's/data-state="//; s/" data-method="/ /; s/"$//' | paste -sd'|')"
check_match "country: the cell's words in its title" \
	'title="blocked by TLS/SNI filtering since [0-9-]+ [0-9:]+ UTC"' "$MROW"
check_match "country: T2 not tested on AS9808" \
	'<td class="mx" data-state="none" title="not tested on this network">' \
	"$(from '<table class="matrix"' "$F" | sed 's/<tr/\n<tr/g' |
		grep "^<tr data-input=\"$T2\"")"
check_match "country: column heads link to the networks" \
	'<th scope="col" class="mx-head" data-asn="AS9808" title="&lt;img src=x onerror=alert\(7\)&gt;&lt;b&gt;CMNET&lt;/b&gt;"><a href="/network\?cc=CN&amp;asn=AS9808">AS9808</a>' "$(cat "$F")"
check "country: the hostile input as text, its name too" "1 0 0 $NSCRIPT" \
	"$(count '&lt;img/src=x/onerror=alert\(1\)&gt;&lt;script&gt;alert\(2\)&lt;/script&gt;</a>' "$F") $(count '<img' "$F") $(count '<b>' "$F") $(count '<script' "$F")"
shot country "/country?cc=CN" 1000
dom country-humr "/country?cc=CN&category=HUMR"
check "country ?category=HUMR: one target in the matrix" 1 \
	"$(from '<table class="matrix"' "$LAB/country-humr.html" |
		sed 's/<tr/\n<tr/g' | grep -c '^<tr data-input=')"
check_match "country ?category=HUMR: kept in the form" '<option value="HUMR" selected="">' \
	"$(cat "$LAB/country-humr.html")"

mx_rows() { from '<table class="matrix"' "$1" | sed 's/<\/table>.*//' | sed 's/<tr/\n<tr/g' | grep -c '^<tr data-input='; }
dom country-ooni "/country?cc=CN&source=ooni"
F=$LAB/country-ooni.html
check "country ?source=ooni: the networks OONI measured, T3 alone in the matrix" "2 1 1" \
	"$(rows "$F" | grep -c '<tr class="row" data-asn=') $(mx_rows "$F") $(count "<tr data-input=\"$T3\">" "$F")"
check_match "country ?source=ooni: chosen in the form" '<option value="ooni" selected="">OONI</option>' "$(cat "$F")"
check_match "country ?source=ooni: kept in the networks' links" \
	'<a href="/network\?cc=CN&amp;asn=AS4134&amp;source=ooni" class="net-link">AS4134</a>' "$(cat "$F")"
check_match "country ?source=ooni: and in What changed" \
	'<a href="/changes\?cc=CN&amp;source=ooni" id="changes-link">' "$(cat "$F")"
dom country-ours "/country?cc=CN&source=wallwatch"
F=$LAB/country-ours.html
check "country ?source=wallwatch: three networks, three targets in the matrix, not T3" "3 3 0" \
	"$(rows "$F" | grep -c '<tr class="row" data-asn=') $(mx_rows "$F") $(count "<tr data-input=\"$T3\">" "$F")"

# --- what changed ---------------------------------------------------------------------
dom changes "/changes"
F=$LAB/changes.html
check "changes: a row per change (at most 50)" \
	"$([ "$NEV" -gt 50 ] && echo 50 || echo "$NEV")" "$(rows "$F" | grep -c '<tr class="row change"')"
check "changes: the newest first, as the API orders them" \
	"$(jq -r '[.events[:50][].id] | join(" ")' "$LAB/changes.json")" \
	"$(rows "$F" | grep -o '<tr class="row change" data-id="[0-9]*"' | grep -o '[0-9]*' | paste -sd' ')"
ROW=$(rows "$F" | grep '<tr class="row change" data-id="[0-9]*" data-to="blocked"' | grep 'AS4134' | grep "target-link\">$T1</a>")
check_match "changes: links to the target's page on that network" \
	'<a href="/target\?input=https%3A%2F%2Fwww.example.org%2F&amp;cc=CN&amp;asn=AS4134" class="target-link">' "$ROW"
check_match "changes: and to its network and country" \
	'<a href="/country\?cc=CN" class="cc-link">CN</a> · <a href="/network\?cc=CN&amp;asn=AS4134" class="net-link">AS4134</a><div class="sub netname">CHINANET-BACKBONE No.31,Jin-rong Street</div>' "$ROW"
check_match "changes: the change, in words" \
	'<span class="from">accessible → </span><span class="state"><span class="badge state-blocked"[^>]*>blocked</span> <span class="method">by TLS/SNI filtering</span>' "$ROW"
check "changes: markup stays text" "0 0 $NSCRIPT" \
	"$(count '<img' "$F") $(count '<b>' "$F") $(count '<script' "$F")"
shot changes "/changes" 1000
dom changes-ir "/changes?cc=IR"
check "changes ?cc=IR: only IR's" \
	"$(jq '[.events[] | select(.probe_cc == "IR")] | length' "$LAB/changes.json") 0" \
	"$(rows "$LAB/changes-ir.html" | grep -c '<tr class="row change"') $(rows "$LAB/changes-ir.html" | grep '<tr class="row change"' | grep -vc 'cc-link">IR<')"
check_match "changes ?cc=IR: kept in the form" 'id="f-cc" value="IR"' "$(cat "$LAB/changes-ir.html")"
dom changes-blocked "/changes?cc=CN&state=blocked&category=HUMR"
F=$LAB/changes-blocked.html
check "changes ?state=blocked&category=HUMR: the hostile target's block only" "1 1" \
	"$(rows "$F" | grep -c '<tr class="row change" data-id="[0-9]*" data-to="blocked"') $(count '&lt;img/src=x/onerror=alert\(1\)&gt;&lt;script&gt;alert\(2\)&lt;/script&gt;</a>' "$F")"
dom changes-ooni "/changes?source=ooni"
F=$LAB/changes-ooni.html
check "changes ?source=ooni: OONI's, as the API gives them" \
	"$(jq -r '[.events[:50][].id] | join(" ")' "$LAB/changes-ooni.json")" \
	"$(rows "$F" | grep -o '<tr class="row change" data-id="[0-9]*"' | grep -o '[0-9]*' | paste -sd' ')"
check_match "changes ?source=ooni: chosen in the form" '<option value="ooni" selected="">OONI</option>' "$(cat "$F")"
check_match "changes ?source=ooni: kept in the network's and country's links" \
	'<a href="/country\?cc=CN&amp;source=ooni" class="cc-link">CN</a> · <a href="/network\?cc=CN&amp;asn=AS4134&amp;source=ooni" class="net-link">' \
	"$(cat "$F")"
dom changes-ours "/changes?source=wallwatch"
check "changes ?source=wallwatch: ours (at most 50)" \
	"$([ "$NEV_OURS" -gt 50 ] && echo 50 || echo "$NEV_OURS")" \
	"$(rows "$LAB/changes-ours.html" | grep -c '<tr class="row change"')"
# older pages: the cursor in the URL (a page of 50; here, a cursor from
# the API's third event shows the events after it)
CUR3=$(api "/api/v1/changes?limit=3" | jq -r .next_cursor)
dom changes-older "/changes?cursor=$CUR3"
check "changes ?cursor=: the older ones" "$((NEV - 3))" \
	"$(rows "$LAB/changes-older.html" | grep -c '<tr class="row change"')"
check_match "changes ?cursor=: a link back to the newest" 'id="newest-link"' \
	"$(cat "$LAB/changes-older.html")"

for s in $SHOTS; do
	echo "# screenshot: $s"
done
check "no script error or CSP violation in the console" "" \
	"$(grep -E 'CONSOLE|Content Security Policy|Uncaught' "$LAB/chromium.log" |
		grep -Ei 'error|refused|violat|uncaught' | head -n 5)"
kill -TERM "$COL_PID"
col_gone() { ! kill -0 "$COL_PID" 2>/dev/null; }
wait_until 60 col_gone
kill -9 "$COL_PID" 2>/dev/null
wait "$COL_PID"
check "collector: clean exit on SIGTERM" 0 $?
COL_PID=
finish
