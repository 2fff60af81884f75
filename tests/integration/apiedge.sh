#!/bin/sh
# apiedge.sh COLLECTOR FAKENET [PROBE] - the collector's edges that an attacker
# pokes at (issue 12), on loopback: bad, over-long, repeated and unknown
# filters are a 400 naming the parameter on every read endpoint (never a
# 500 or a dropped connection); /export and the export command honour
# every filter; CSV cells a spreadsheet would run are neutralised, JSON
# Lines keep the raw values; every answer says nosniff; no client text
# forges a log line; a reused measurement_uid with other content is a
# conflict (and the probe, given, sets such a measurement aside); and the
# control service refuses IPv6 forms of private IPv4 addresses (nobody
# connects), while IPv6-literal targets work.
set -u
COLLECTOR=$1
FAKENET=$2
PROBE=${3:-}
. tests/integration/lib.sh
lab_start "$FAKENET"
DB=$LAB/collector.db
COL_PID=
LAB_COL_PID=
EXTRA_PIDS=

cleanup_all() {
	for p in $COL_PID $LAB_COL_PID $EXTRA_PIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	lab_cleanup
}
trap cleanup_all EXIT

# get URL [CURL ARGS...]: sets CODE, OUT (body) and HDR (headers file).
HDR=$LAB/hdr
get() {
	_g_url=$1
	shift
	CODE=$(curl -s -g -D "$HDR" -o "$LAB/body" -w '%{http_code}' \
		--max-time 20 "$@" "$_g_url")
	OUT=$(cat "$LAB/body")
}
q() { printf '%s' "$OUT" | jq -r "$1" 2>/dev/null; }
nosniff() { tr -d '\r' <"$HDR" | grep -ci '^X-Content-Type-Options: nosniff$'; }

# fakenet_on ADDRESS DIR: a second fakenet that logs every HTTP request
# (--verbose): a recorder of who connected. Sets its HTTP port in RPORT.
fakenet_on() {
	mkdir "$2" && cp "$LAB"/*.pem "$LAB"/*.key "$2"/
	"$FAKENET" --dir "$2" --bind "$1" --lifetime 3600 --verbose \
		>"$2/out" 2>"$2/err" &
	_fo_pid=$!
	EXTRA_PIDS="$EXTRA_PIDS $_fo_pid"
	if ! wait_until 120 alive_and_not "$_fo_pid" grep -q ready "$2/out" ||
		! grep -q ready "$2/out"; then
		echo "fakenet on $1 did not start:" >&2
		cat "$2/err" >&2
		exit 1
	fi
	RPORT=$(sed -n 's/^HTTP_PORT=//p' "$2/ports.env")
}

# --- measurements to read -----------------------------------------------------
lab_collector "$LAB/col.err" "$COLLECTOR" "$DB"
LAB_COL_PID=$COL_PID
B="http://127.0.0.1:$PORT/api/v1"
NOW=$(date -u '+%Y-%m-%d %H:%M:%S')
IN=$(jq -r .input tests/data/validate/good.json)
# meas UID CATEGORY [ASN]: good.json as one line with these.
meas() {
	jq -c --arg u "$1" --arg c "$2" --arg a "${3:-AS0}" --arg t "$NOW" \
		'.measurement_uid = $u | .test_keys.category_code = $c
		 | .probe_asn = $a
		 | .measurement_start_time = $t' tests/data/validate/good.json
}
{
	meas edge-news-1 NEWS
	meas edge-news-2 NEWS
	meas edge-humr-1 HUMR AS7
	meas edge-formula '=HYPERLINK("http://x.example/?"&A1,"y")' AS8
	meas edge-minus '-2+3' AS8
	meas edge-quote "'=1" AS8
} >"$LAB/batch.jsonl"
submit "$LAB/batch.jsonl"
check "six measurements stored" "200 6" "$CODE $(printf '%s' "$OUT" | jq '.stored|length')"

# --- filters: 400 naming the parameter, on every endpoint --------------------------
LONG=$(head -c 3000 /dev/zero | tr '\0' a)
set -- \
	"cc=CHN cc" "cc=cn cc" "asn=4134 asn" "asn=AS99999999999 asn" \
	"state=gone state" "category=news category" "since=yesterday since" \
	"until=2026-13-01 until" "input=$LONG input" "cc=C%0A cc" \
	"input=a%0Ab input" "input=a%00b input" "cc=CN&cc=US cc" \
	"nope=1 nope" "since=2026-12-02&until=2026-12-01 until"
for ep in targets "timeline?input=x&" events measurements export; do
	case $ep in *\?*) base="$B/$ep" ;; *) base="$B/$ep?" ;; esac
	for c in "$@"; do
		query=${c% *}
		want=${c##* }
		get "$base$query"
		check "${ep%%\?*} ${query%%=*}=...: 400 naming $want" "400 $want" \
			"$CODE $(q .parameter)"
	done
done
get "$B/targets?granularity=day"
check "targets: granularity is not its parameter" "400 granularity" \
	"$CODE $(q .parameter)"
get "$B/timeline?input=x&after=3"
check "timeline: after is not its parameter" "400 after" "$CODE $(q .parameter)"
get "$B/export?limit=5"
check "export: limit is not its parameter" "400 limit" "$CODE $(q .parameter)"
get "$B/export?format=xml"
check "export: bad format" "400 format" "$CODE $(q .parameter)"
get "$B/domains/good.lab.test?cc=CN"
check "domains: takes no parameter" "400 cc" "$CODE $(q .parameter)"
get "$B/domains/$LONG"
check "domains: an over-long host is 400" "400 domain" "$CODE $(q .parameter)"
get "$B/domains/a%0Ab"
check "domains: a newline in the host is 400" "400 domain" "$CODE $(q .parameter)"
get "$B/measurements/edge-news-1?x=1"
check "raw: takes no parameter" "400 x" "$CODE $(q .parameter)"
get "$B/measurements/edge%0Anews"
check "raw: a newline in the uid is 404" 404 "$CODE"
get "$B/timeline?input=$LONG"
check "timeline: over-long input is 400, not 500" "400 input" \
	"$CODE $(q .parameter)"
check_match "the error says what is wrong" "^input: longer than 2048 bytes" \
	"$(q .error)"
get "$B/targets?cc=ZZ&state=unknown&category=NEWS&limit=5"
check "good filters still answered" 200 "$CODE"

# --- export: every filter honoured ---------------------------------------------------
n_rows() { grep -c . "$1"; }
get "$B/export?category=NEWS"
printf '%s\n' "$OUT" >"$LAB/x.jsonl"
check "export category=NEWS: only those" "200 2 edge-news-1,edge-news-2" \
	"$CODE $(n_rows "$LAB/x.jsonl") $(jq -rs 'map(.measurement_uid) | join(",")' "$LAB/x.jsonl")"
get "$B/export?category=HUMR&format=csv"
check "export csv category=HUMR: header and one row" "200 2" \
	"$CODE $(printf '%s\n' "$OUT" | n_rows /dev/stdin)"
get "$B/export?asn=AS7"
check "export asn=AS7" "edge-humr-1" "$(q .measurement_uid)"
get "$B/targets?asn=AS7"
ST=$(q '.targets[0].state')
OTHER=blocked
[ "$ST" = blocked ] && OTHER=accessible
get "$B/export?asn=AS7&state=$ST"
check "export state=$ST (its target's): the row" "edge-humr-1" \
	"$(q .measurement_uid)"
get "$B/export?state=$OTHER&asn=AS7"
check "export state=$OTHER: nothing" "200 0" "$CODE $(printf '%s' "$OUT" | grep -c .)"
get "$B/export?state=$OTHER&category=NEWS"
check "export state and category together: nothing" "200 0" \
	"$CODE $(printf '%s' "$OUT" | grep -c .)"

"$COLLECTOR" export --db "$DB" --category NEWS >"$LAB/c.jsonl" 2>"$LAB/c.err"
check "export command --category NEWS" "0 2" "$? $(n_rows "$LAB/c.jsonl")"
"$COLLECTOR" export --db "$DB" --asn AS7 --state "$OTHER" >"$LAB/c.jsonl" 2>"$LAB/c.err"
check "export command --state $OTHER --asn AS7: nothing" "0 0" \
	"$? $(grep -c . "$LAB/c.jsonl")"
"$COLLECTOR" export --db "$DB" --cc CHN >"$LAB/c.jsonl" 2>"$LAB/c.err"
check "export command --cc CHN: exit 1" 1 $?
check_match "export command --cc CHN: named" "bad --cc: want two capital" \
	"$(cat "$LAB/c.err")"
"$COLLECTOR" export --db "$DB" --state gone >"$LAB/c.jsonl" 2>"$LAB/c.err"
check_match "export command --state gone: named" "bad --state" "$(cat "$LAB/c.err")"

# --- CSV: formulas neutralised, JSON Lines raw ---------------------------------------
get "$B/export?asn=AS8&format=csv"
printf '%s' "$OUT" >"$LAB/f.csv"
check "csv: a formula gets a quote and quotes" 1 \
	"$(grep -c ',"'"'"'=HYPERLINK(""http://x.example/?""&A1,""y"")",' "$LAB/f.csv")"
check "csv: a leading minus too" 1 "$(grep -c ",\"'-2+3\"," "$LAB/f.csv")"
check "csv: a leading quote gets one more (reversible)" 1 \
	"$(grep -c ",\"''=1\"," "$LAB/f.csv")"
check "csv: no cell starts with = + - @ unquoted" 0 \
	"$(tr -d '\r' <"$LAB/f.csv" | tr ',' '\n' | grep -c '^[=+@-]')"
get "$B/export?asn=AS8"
check "jsonl: the raw value kept" '=HYPERLINK("http://x.example/?"&A1,"y")' \
	"$(printf '%s\n' "$OUT" | jq -r 'select(.measurement_uid == "edge-formula") | .test_keys.category_code')"

# --- nosniff on every answer -----------------------------------------------------------
for u in "$B/targets" "$B/targets?cc=x" "$B/export?format=csv" "$B/export" \
	"$B/measurements/edge-news-1" "$B/nope" "http://127.0.0.1:$PORT/" \
	"http://127.0.0.1:$PORT/metrics" "$B/whoami"; do
	get "$u"
	check "nosniff: $u ($CODE)" 1 "$(nosniff)"
done
get "$B/measurements" -X POST --data-binary @"$LAB/batch.jsonl"
check "nosniff: the ingest's answer ($CODE)" 1 "$(nosniff)"
get "http://127.0.0.1:$PORT/api/v1/control" -H 'Content-Type: application/json' \
	--data-binary '{"input":"nope"}'
check "nosniff: the control's answer ($CODE)" 1 "$(nosniff)"

# --- conflicts ----------------------------------------------------------------------------
meas edge-news-1 NEWS >"$LAB/same.json"
submit "$LAB/same.json"
check "the same bytes again: a duplicate" "200 1 0 0" \
	"$CODE $(q '"\(.duplicates|length) \(.conflicts|length) \(.stored|length)"')"
meas edge-news-1 HUMR >"$LAB/other.json"
submit "$LAB/other.json"
check "the uid with other content: a conflict, 200" "200 edge-news-1 0 0" \
	"$CODE $(q '"\(.conflicts|join(",")) \(.duplicates|length) \(.stored|length)"')"
get "$B/measurements/edge-news-1"
check "the first content stays" NEWS "$(q .test_keys.category_code)"
get "http://127.0.0.1:$PORT/metrics"
check "metrics count the conflict" 1 \
	"$(printf '%s\n' "$OUT" | sed -n 's/^wallwatch_ingest_measurements_total{outcome="conflict"} //p')"

# The probe's side: a measurement whose uid the collector holds with other
# content is set aside with the rejected, not sent again and again.
if [ -n "$PROBE" ]; then
	ST=$LAB/probe-state
	"$PROBE" run --state-dir "$ST" --resolver "127.0.0.1:$DNS_PORT" \
		--ca-file "$LAB/ca.pem" --timeout 2 --quiet \
		--collector "http://127.0.0.1:$TCP_CLOSED_PORT" \
		--input "http://good.lab.test:$HTTP_PORT/" >/dev/null 2>"$LAB/p.err"
	check "probe: one measurement queued (no collector)" 1 \
		"$(find "$ST/spool/queue" -name '*.json' | wc -l | tr -d ' ')"
	PUID=$(jq -r .measurement_uid "$ST"/spool/queue/*.json)
	meas "$PUID" NEWS >"$LAB/taken.json"
	submit "$LAB/taken.json"
	check "its uid taken by other content" "200 1" \
		"$CODE $(q '.stored|length')"
	"$PROBE" upload --state-dir "$ST" \
		--collector "http://127.0.0.1:$PORT" >/dev/null 2>"$LAB/p.err"
	check "probe upload: the conflict set aside" "0 1" \
		"$(find "$ST/spool/queue" -name '*.json' | wc -l | tr -d ' ') $(find "$ST/spool/rejected" -name '*.json' | wc -l | tr -d ' ')"
	check_match "probe upload: says why" "another measurement with this" \
		"$(cat "$LAB/p.err") $(cat "$ST"/spool/rejected/*.why 2>/dev/null)"
fi

# --- logs: one line per message, whatever a client sent ---------------------------------
# (before issue 12 a bad state went to the store, whose message, the
# value in it, was logged: this one forged a line)
get "$B/events?state=x%0Aforged:%20error:%20x"
get "$B/targets?cc=%0Awallwatch-collector:%20error:%20forged"
get "$B/domains/x%0Aforged"
check "every log line is the collector's" 0 \
	"$(grep -vc '^wallwatch-collector: ' "$LAB/col.err")"

# --- control: IPv6 forms of private IPv4 addresses ----------------------------------------
fakenet_on 127.0.0.1 "$LAB/rec"
REC=$RPORT
requests() { grep -c "http: port $REC:" "$LAB/rec/err"; }
# post BODY: a control request to the collector on $CPORT.
post() {
	CODE=$(curl -s -o "$LAB/body" -w '%{http_code}' --max-time 30 \
		-H 'Content-Type: application/json' --data-binary "$1" \
		"http://127.0.0.1:$CPORT/api/v1/control")
	OUT=$(cat "$LAB/body")
}
# The recorder records: the lab's collector (--allow-private) reaches it.
CPORT=$PORT
post "{\"input\":\"http://127.0.0.1:$REC/\"}"
check "allow-private: the loopback server answered the control" "200 200" \
	"$CODE $(q .http_request.status_code)"
check "the recorder saw that request" 1 "$(requests)"
check "allow-private: ::ffff:127.0.0.1 is reached too" 200 \
	"$(post "{\"input\":\"http://[::ffff:127.0.0.1]:$REC/\"}"; q .http_request.status_code)"
before=$(requests)

collector_up "$LAB/pub.err" "$COLLECTOR" --control-only \
	--resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" --timeout 2
CPORT=$PORT
for a in ::127.0.0.1 ::ffff:127.0.0.1 ::ffff:0:127.0.0.1 64:ff9b::7f00:1 \
	64:ff9b:1:7f00:0:100:: 64:ff9b:1:808:8:800:: 2002:7f00:1::1 \
	2001:0:4136:e378:8000:63bf:80ff:fffe fe80::5efe:7f00:1; do
	post "{\"input\":\"http://[$a]:$REC/\"}"
	check "refused: http://[$a]:PORT/" "403 private or reserved" \
		"$CODE $(q .error | grep -o 'private or reserved')"
done
post "{\"input\":\"http://good.lab.test:$REC/\",\"addrs\":[\"::127.0.0.1\",\"64:ff9b::7f00:1\",\"::ffff:127.0.0.1\",\"2002:7f00:1::1\"]}"
check "addresses from the probe: none connected" "200 {}" \
	"$CODE $(q '.tcp_connect|tojson')"
check "nobody connected to the loopback server" "$before" "$(requests)"

# --- control: IPv6-literal targets work ------------------------------------------------------
fakenet_on ::1 "$LAB/v6"
V6=$RPORT
CPORT=$(listening_port "$LAB/col.err")
post "{\"input\":\"http://[::1]:$V6/\"}"
check "an IPv6-literal target: fetched" "200 200 true" \
	"$CODE $(q '"\(.http_request.status_code) \(.tcp_connect["[::1]:'"$V6"'"].status)"')"
check "the ::1 server saw it" 1 "$(grep -c "http: port $V6: /\$" "$LAB/v6/err")"

finish
