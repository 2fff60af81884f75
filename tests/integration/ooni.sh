#!/bin/sh
# ooni.sh COLLECTOR [sqlite|pg] - OONI's own measurements through POST
# /api/v1/measurements (docs/ooni-data.md): the 52 web_connectivity 0.5.x
# measurements of OONI's QA suite and the seven 0.4.x ones
# (tests/data/ooni/qa, legacy) in one batch beside one of ours, and 100
# more OONI ones made from a real one (other report_ids: a batch past 64,
# which PostgreSQL stores by COPY). All are stored, each OONI one under an
# ooni: uid; the same POST again stores nothing (duplicates), the same
# measurement written otherwise is a conflict, not a second row; broken
# ones are refused with their field named. The source filter on the read
# API (measurements, targets, timeline, events) and on the exports (CSV,
# JSON Lines with the raw bytes as sent); the source columns kept across a
# restart; probe_ip never shown. On "pg", the collector runs on a
# throwaway PostgreSQL cluster (tests/pg/pgtmp.sh). Loopback only.
set -u
COLLECTOR=$1
BACKEND=${2:-sqlite}
. tests/integration/lib.sh
PGTMP=tests/pg/pgtmp.sh
D=$(mktemp -d "${TMPDIR:-/tmp}/wallwatch-ooni.XXXXXX")
COL_PID=
CI=
cleanup() {
	if [ -n "$COL_PID" ]; then
		kill -9 "$COL_PID" 2>/dev/null
		wait "$COL_PID" 2>/dev/null
	fi
	[ -n "$CI" ] && sh "$PGTMP" stop "$CI"
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
LAB=$D # lib.sh's submit() keeps its answer there

case $BACKEND in
sqlite) DB=$D/col.db ;;
pg)
	CI=$(sh "$PGTMP" start) || {
		echo "ooni.sh: no PostgreSQL cluster" >&2
		exit 1
	}
	DB=$CI
	;;
*)
	echo "usage: ooni.sh COLLECTOR [sqlite|pg]" >&2
	exit 1
	;;
esac

# One client sends everything: no rate limits. Loopback is DE AS64500 in
# tiny.tsv: a relay, not the probes' network, so every OONI row is
# geo-mismatched (docs/ooni-data.md, "Who submitted it"); counted here all
# the same, so that the timelines have something to show.
start() {
	collector_up "$D/col.err" "$COLLECTOR" --db "$DB" \
		--asn-db tests/data/asndb/tiny.tsv --allow-geo-mismatch yes \
		--rate-batches 0 --rate-target 0 --rate-network-batches 0 \
		--rate-network-target 0
}
stop() {
	kill -TERM "$COL_PID"
	wait "$COL_PID"
	COL_PID=
}
post() { submit "$1" -H 'Content-Type: application/x-ndjson'; }
q() { printf '%s' "$OUT" | jq -r "$1"; }
# get PATH: the answer's body in $D/get, its status printed
get() {
	curl -s --max-time 60 -o "$D/get" -w '%{http_code}' \
		"http://127.0.0.1:$PORT/api/v1/$1"
}

# --- the data ------------------------------------------------------------------
OONI=$D/ooni.jsonl
cat tests/data/ooni/qa/*.json tests/data/ooni/legacy/*.json >"$OONI"
N_OONI=$(wc -l <"$OONI")
check "59 OONI measurements (52 QA, 7 legacy)" 59 "$N_OONI"
# One of ours, its times made now (ours are refused after a year).
NOW=$(date -u '+%Y-%m-%d %H:%M:%S')
OURS=$D/ours.json
jq -c --arg t "$NOW" '.measurement_start_time = $t | .test_start_time = $t' \
	tests/data/validate/good.json >"$OURS"
# 100 more of one real 0.4.x measurement, each another report
MORE=$D/more.jsonl
jq -c '. as $m | range(100) | . as $i |
	$m | .report_id = (.report_id + "_copy" + ($i | tostring))' \
	tests/data/ooni/legacy/us_theguardian_041.json >"$MORE"
BATCH=$D/batch.jsonl
cat "$OONI" "$OURS" "$MORE" >"$BATCH"

start

# --- every one stored, once ------------------------------------------------------
post "$BATCH"
check "the batch: 200" 200 "$CODE"
check "the batch: 160 stored" 160 "$(q '.stored | length')"
check "the batch: none refused" 0 "$(q '.rejected | length')"
check "OONI's under an ooni: uid (159, all distinct)" 159 \
	"$(q '[.stored[] | select(startswith("ooni:") and length == 37)] |
		unique | length')"
post "$BATCH"
check "the same batch again: nothing stored" 0 "$(q '.stored | length')"
check "the same batch again: 160 duplicates" 160 \
	"$(q '.duplicates | length')"
for f in tests/data/ooni/qa/dnsBlockingBOGON.json \
	tests/data/ooni/legacy/ir_facebook_041.json; do
	post "$f"
	check "$(basename "$f") alone again: a duplicate" 1 \
		"$(q '.duplicates | length')"
	# the same measurement written otherwise (indented): its identity
	# is the same, so it is not a second row
	jq . "$f" >"$D/pretty.json"
	post "$D/pretty.json"
	check "$(basename "$f") indented: a conflict, nothing stored" \
		"0 1" "$(q '"\(.stored | length) \(.conflicts | length)"')"
done

# --- refused, the field named --------------------------------------------------
L=tests/data/ooni/legacy/spec_example_com_040.json
{
	jq -c '.probe_ip = "192.0.2.7"' "$L"
	jq -c '.test_version = "0.3.4"' "$L"
	jq -c '.test_keys.queries = "x"' "$L"
	jq -c 'del(.input)' "$L"
	jq -c '.measurement_start_time = "2011-06-01 00:00:00"' "$L"
	jq -c '.report_id = "new" | .test_keys.tcp_connect[0].port = -1' "$L"
	jq -c '.report_id = "fresh"' "$L"
} >"$D/bad.jsonl"
post "$D/bad.jsonl"
check "broken ones: the good line among them stored" 1 \
	"$(q '.stored | length')"
check "broken ones: each refused, its field named" \
	"1 probe_ip|2 test_version|3 test_keys.queries|4 input|5 measurement_start_time|6 test_keys.tcp_connect[0].port" \
	"$(q '[.rejected[] | "\(.line) \(.field)"] | join("|")')"
check "probe_ip: the address is not echoed" 0 \
	"$(printf '%s' "$OUT" | grep -c 192.0.2.7)"

# --- the read API's source filter --------------------------------------------------
# count SOURCE: the measurements of SOURCE ("" for none given)
count() {
	_s=
	[ -n "$1" ] && _s="&source=$1"
	get "measurements?limit=1000$_s" >/dev/null
	jq '.measurements | length' "$D/get"
}
# 159 OONI ones of the batch and the good line among the broken ones
check "measurements?source=ooni: 160" 160 "$(count ooni)"
check "measurements?source=wallwatch: 1" 1 "$(count wallwatch)"
check "measurements?source=all: 161" 161 "$(count all)"
check "measurements (no source): 161" 161 "$(count "")"
check "source=bogus: 400" 400 "$(get 'measurements?source=bogus')"
check "source=bogus: the parameter named" source "$(jq -r .parameter "$D/get")"
get "measurements?limit=1000&source=ooni" >/dev/null
check "OONI's rows say where they come from" "ooni web_connectivity" \
	"$(jq -r '[.measurements[] | "\(.source) \(.test_name)"] | unique |
		join(",")' "$D/get")"
check "OONI's rows keep software_name" \
	"miniooni,ooniprobe,ooniprobe-android,ooniprobe-desktop-unattended" \
	"$(jq -r '[.measurements[].software_name] | unique | join(",")' \
		"$D/get")"
check "OONI's rows keep test_version" "0.4.0,0.4.1,0.4.3,0.5.26,0.5.28" \
	"$(jq -r '[.measurements[].test_version] | unique | join(",")' \
		"$D/get")"
check "OONI's rows: geo-mismatched (a relay, not the probe's network)" \
	"true DE AS64500" \
	"$(jq -r '[.measurements[] | "\(.geo_mismatch) \(.observed_cc) \(.observed_asn)"] |
		unique | join(",")' "$D/get")"
check "probe_ip is never shown" 0 \
	"$(jq '[.measurements[] | select(has("probe_ip"))] | length' "$D/get")"
get "measurements?limit=1000&source=wallwatch" >/dev/null
check "ours: source wallwatch, software_name kept" \
	"wallwatch wallwatch_web wallwatch-probe" \
	"$(jq -r '.measurements[0] | "\(.source) \(.test_name) \(.software_name)"' \
		"$D/get")"

# targets: one per (input, cc, asn)
TG_OONI=$(jq -r '"\(.input) \(.probe_cc) \(.probe_asn)"' "$OONI" "$MORE" |
	sort -u | wc -l)
ntargets() {
	get "targets?limit=1000&source=$1" >/dev/null
	jq '.targets | length' "$D/get"
}
check "targets?source=ooni: OONI's targets" "$TG_OONI" "$(ntargets ooni)"
check "targets?source=wallwatch: ours" 1 "$(ntargets wallwatch)"
check "targets?source=all: both" $((TG_OONI + 1)) "$(ntargets all)"

# timelines (of one input): the buckets counted from the measurements of
# one source, and the daily counts of both
enc() { jq -rn --arg v "$1" '$v | @uri'; }
tsum() { # INPUT GRANULARITY SOURCE
	get "timeline?input=$(enc "$1")&granularity=$2&source=$3" >/dev/null
	jq '[.buckets[] | to_entries[] | select(.value | type == "number") |
		.value] | add // 0' "$D/get"
}
EX=https://www.example.com/
N_EX=$(jq -r .input "$OONI" | grep -cx "$EX")
IN_OURS=$(jq -r .input "$OURS")
check "timeline of $EX, source=ooni (days)" "$N_EX" "$(tsum "$EX" day ooni)"
check "timeline of $EX, source=ooni (hours)" "$N_EX" \
	"$(tsum "$EX" hour ooni)"
check "timeline of $EX, source=wallwatch: nothing" 0 \
	"$(tsum "$EX" day wallwatch)"
check "timeline of $EX (the daily counts)" "$N_EX" "$(tsum "$EX" day all)"
check "timeline of ours, source=wallwatch" 1 "$(tsum "$IN_OURS" day wallwatch)"
check "timeline of ours, source=ooni: nothing" 0 "$(tsum "$IN_OURS" day ooni)"

nevents() {
	get "events?limit=1000&source=$1" >/dev/null
	jq '.events | length' "$D/get"
}
E_ALL=$(nevents all)
E_OONI=$(nevents ooni)
E_OURS=$(nevents wallwatch)
check "events: OONI's and ours make all (no target shared)" "$E_ALL" \
	$((E_OONI + E_OURS))

# --- exports -----------------------------------------------------------------------
get "export?source=ooni&format=csv" >/dev/null
cp "$D/get" "$D/ooni.csv"
check "CSV export, source=ooni: a header and 160 rows" 161 \
	"$(tr -d '\r' <"$D/ooni.csv" | wc -l)"
check_match "CSV header: the source columns at its end" \
	'confirmed_by_packets,source,software_name,software_version,test_version' \
	"$(head -n 1 "$D/ooni.csv")"
check "CSV rows of source=ooni say ooni" 160 \
	"$(tr -d '\r' <"$D/ooni.csv" | grep -c ',ooni,[^,]*,[^,]*,0\.[45]\.[0-9]*$')"
get "export?source=wallwatch&format=csv" >/dev/null
check "CSV export, source=wallwatch: a header and 1 row" 2 \
	"$(tr -d '\r' <"$D/get" | wc -l)"
get "export?source=ooni" >/dev/null
sort "$D/get" >"$D/exported"
sed -n 7p "$D/bad.jsonl" | sort - "$OONI" "$MORE" >"$D/sent"
if cmp -s "$D/exported" "$D/sent"; then
	ok "JSON Lines export, source=ooni: the bytes as sent"
else
	not_ok "JSON Lines export, source=ooni: the bytes as sent"
fi

# --- after a restart -----------------------------------------------------------------
stop
start
post "$OONI"
check "after a restart: the OONI ones are duplicates" 59 \
	"$(q '.duplicates | length')"
check "after a restart: nothing stored" 0 "$(q '.stored | length')"
check "after a restart: the source filter" 160 "$(count ooni)"
stop

finish
