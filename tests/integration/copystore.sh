#!/bin/sh
# copystore.sh PROBE COLLECTOR FAKENET - `wallwatch-collector copy-store`
# from a SQLite store to PostgreSQL (a throwaway cluster: tests/pg/pgtmp.sh):
# a SQLite collector is filled with the lab's measurements (real probe
# measurements made into a few thousand: tests/integration/gendata.sh),
# POSTed out of time order so that it recomputed targets, with keys (one
# revoked) and agreement settings; copied; then a collector on each store
# must answer the read API (targets, timelines, events, measurements,
# domains, settings) and the exports with the same bytes. Also: usage
# errors and an unreachable destination named; an interrupted copy (a
# prefix stored, and a copy killed with SIGKILL at any point) goes on
# where it stopped and stores nothing twice; a destination holding other
# bytes under a source uid, or uids the source lacks, is said and exits 2.
set -u
PROBE=$1
COLLECTOR=$2
FAKENET=$3
. tests/pg/pglib.sh
pg_lab copystore cs "A_PID B_PID CP_PID COL_PID"
DIFFER="SQLite and PostgreSQL"

# db NAME: a new database of the cluster, its conninfo
db() {
	pg "$CI" "CREATE DATABASE $1" >/dev/null || exit 1
	printf '%s\n' "$CI" | sed "s|///ww?|///$1?|"
}
A_DB=$D/a.db
# Every collector here: the lab's networks, a single-probe deployment
# (one anonymous submitter: states change on its word), no rate limits
# (one client sends everything).
col() {
	_db=$1
	shift
	collector_up "$D/$1.err" "$COLLECTOR" --db "$_db" \
		--asn-db tests/data/asndb/tiny.tsv --allow-private \
		--resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" \
		--timeout 2 --min-submitters 1 --allow-geo-mismatch yes \
		--daily-cap 40 --rate-batches 0 --rate-target 0 \
		--rate-network-batches 0 --rate-network-target 0
}
stop_col() { # PID
	kill -TERM "$1"
	wait "$1"
}
# post FILE: POST it to $PORT; CODE, OUT
post() { submit "$1" -H 'Content-Type: application/x-ndjson'; }
copy() { timeout 300 "$COLLECTOR" copy-store "$@" 2>"$D/copy.err"; }

# --- the SQLite deployment -----------------------------------------------------
col "$A_DB" a
A_PORT=$PORT
A_PID=$COL_PID
gd_templates "$PROBE" "$A_PORT" "$D"
post "$D/real.jsonl"
check "the probe's own measurements stored" "200 26" \
	"$CODE $(printf '%s' "$OUT" | jq '.stored | length')"
T1=$(($(date +%s) - 3600))
T0=$((T1 - 200 * 86400))
NGEN=6000
# six batches, newest first: most measurements arrive late, so that the
# store recomputes their targets from their history
for first in 5000 4000 3000 2000 1000 0; do
	gd_gen "$D/templates" 1000 $first $NGEN cs "$T0" "$T1" >"$D/b.jsonl"
	post "$D/b.jsonl"
	[ "$CODE" = 200 ] || break
done
check "generated batches stored" "200 1000" \
	"$CODE $(printf '%s' "$OUT" | jq '.stored | length')"
for i in 1 2; do
	head -c 32 /dev/urandom | base64 >"$D/key$i"
	"$COLLECTOR" keys add --db "$A_DB" "$(cat "$D/key$i")" \
		>"$D/keyadd$i" 2>>"$D/keys.err"
done
"$COLLECTOR" keys revoke --db "$A_DB" "$(cut -d' ' -f1 "$D/keyadd2")" \
	--reason "lost laptop" >/dev/null 2>>"$D/keys.err"
check "two keys, one revoked" "2 1" \
	"$(sqlite3 "$A_DB" 'SELECT count(*), count(revoked) FROM submitters' | tr '|' ' ')"
stop_col "$A_PID"
A_PID=
N=$(sqlite3 "$A_DB" 'SELECT count(*) FROM measurements')
check "the source holds every measurement" $((NGEN + 26)) "$N"
check_match "the source has events" '^[1-9]' \
	"$(sqlite3 "$A_DB" 'SELECT count(*) FROM events')"

# --- usage and errors ----------------------------------------------------------
"$COLLECTOR" copy-store --from "$A_DB" 2>"$D/err"
check "no --to: exit 1" 1 $?
check_match "no --to: said" "needs --from SQLITE_PATH and --to CONNINFO" \
	"$(cat "$D/err")"
"$COLLECTOR" copy-store --from "$D/nope.db" --to "$CI" 2>"$D/err"
check "missing source: exit 1" 1 $?
check_match "missing source: named, not created" "nope.db: no such readable file" \
	"$(cat "$D/err")"
check "missing source: not created" no "$([ -e "$D/nope.db" ] && echo yes || echo no)"
"$COLLECTOR" copy-store --from "$A_DB" --to "$A_DB" 2>"$D/err"
check "same store twice: exit 1" 1 $?
copy --from "$A_DB" --to "postgresql:///ww?host=$D/nosocket&user=wallwatch"
check "unreachable destination: exit 2" 2 $?
check_match "unreachable destination: named" "--to: .*(connect|socket|No such file)" \
	"$(cat "$D/copy.err")"
"$COLLECTOR" copy-store --help >"$D/help"
check_match "--help says what it does" "Resumable" "$(cat "$D/help")"

# --- an interrupted copy goes on where it stopped -----------------------------------
# What an interrupted run leaves is a prefix of the source in id order:
# make one (the first 2,000 measurements), copy it, then copy everything.
cp "$A_DB" "$D/p.db"
sqlite3 "$D/p.db" 'DELETE FROM measurements WHERE id > 2000'
R=$(db resume)
copy --from "$D/p.db" --to "$R"
check "a prefix copied" 0 $?
check_match "a prefix copied: verified" "verified: 2000 measurements" "$(cat "$D/copy.err")"
copy --from "$A_DB" --to "$R"
check "the rest copied" 0 $?
check_match "the rest: goes on after the prefix" "going on after source measurement id 2000" \
	"$(cat "$D/copy.err")"
check_match "the rest: nothing offered twice" \
	"$((N - 2000)) measurements read, $((N - 2000)) stored, 0 already there, 0 conflicting" \
	"$(cat "$D/copy.err")"
check_match "the rest: verified" "verified: $N measurements" "$(cat "$D/copy.err")"
# the settings were copied by the first run: the second changes none (a
# change would have the destination recompute every timeline)
check "the rest: the settings left as they were" 0 \
	"$(grep -c 'agreement settings copied' "$D/copy.err")"

# A copy killed with SIGKILL once it has stored something (wherever it is
# then), and run again.
K=$(db killed)
timeout 300 "$COLLECTOR" copy-store --from "$A_DB" --to "$K" 2>"$D/kill.err" &
CP_PID=$!
copied_some() { [ "$(pg "$K" 'SELECT count(*) FROM measurements' 2>/dev/null || echo 0)" -gt 0 ]; }
wait_until 120 alive_and_not "$CP_PID" copied_some
kill -9 "$CP_PID" 2>/dev/null
wait "$CP_PID" 2>/dev/null
CP_PID=
before=$(pg "$K" 'SELECT count(*) FROM measurements')
copy --from "$A_DB" --to "$K"
check "after SIGKILL (at $before of $N): run again, exit 0" 0 $?
check_match "after SIGKILL: verified" "verified: $N measurements" "$(cat "$D/copy.err")"
check "after SIGKILL: every measurement once" "$N $N" \
	"$(pg "$K" 'SELECT count(*), count(DISTINCT uid) FROM measurements' | tr '|' ' ')"

# --- what differs is said ----------------------------------------------------------
# A destination that holds one source uid with other bytes, and one uid
# the source lacks, both stored there by a collector before the copy.
X=$(db differs)
"$COLLECTOR" export --db "$A_DB" --format jsonl 2>/dev/null | head -n 1 >"$D/first.json"
U1=$(jq -r .measurement_uid "$D/first.json")
{
	jq -c '.test_runtime = 9.5' "$D/first.json"
	jq -c '.measurement_uid = "20260101000000.000000_ZZ_extra_1"' "$D/first.json"
} >"$D/x.jsonl"
col "$X" x
post "$D/x.jsonl"
check "the other bytes and the extra stored" "200 2" \
	"$CODE $(printf '%s' "$OUT" | jq '.stored | length')"
stop_col "$COL_PID"
COL_PID=
copy --from "$A_DB" --to "$X"
check "a difference left: exit 2" 2 $?
check_match "the conflicting uid named" "measurement $U1: the destination holds another" \
	"$(cat "$D/copy.err")"
check_match "the extra uid named" \
	"measurement 20260101000000.000000_ZZ_extra_1 is in the destination, not in the source" \
	"$(cat "$D/copy.err")"
check_match "the counts said" "1 measurements are in the destination and not in the source" \
	"$(cat "$D/copy.err")"
check_match "the conflicts counted" "1 measurement_uid\\(s\\) are stored in the destination with other bytes" \
	"$(cat "$D/copy.err")"

# --- the copy: the same answers from both -----------------------------------------
copy --from "$A_DB" --to "$CI"
check "copy-store: exit 0" 0 $?
check_match "copy-store: verified" "verified: $N measurements in each, the same measurement_uid set" \
	"$(cat "$D/copy.err")"
check_match "copy-store: the keys" "2 submitter keys \\(2 new" "$(cat "$D/copy.err")"
"$COLLECTOR" keys list --db "$A_DB" >"$D/keys.a" 2>/dev/null
"$COLLECTOR" keys list --db "$CI" >"$D/keys.b" 2>/dev/null
check "keys list: the same, revocation included" "$(cat "$D/keys.a")" "$(cat "$D/keys.b")"

col "$A_DB" a
A_PORT=$PORT
A_PID=$COL_PID
col "$CI" b
B_PORT=$PORT
B_PID=$COL_PID

# pages NAME PATH KEY: every page of PATH (limit 1000, after=next_after),
# compared page by page; PAGES: how many, ROWS: how many rows
pages() {
	_after=
	PAGES=0
	ROWS=0
	while :; do
		_sep='?'
		case $2 in *\?*) _sep='&' ;; esac
		same "$1, page $((PAGES + 1))" "$2${_sep}limit=1000$_after"
		PAGES=$((PAGES + 1))
		ROWS=$((ROWS + $(jq ".$3 | length" "$D/ans.a")))
		_next=$(jq -r .next_after "$D/ans.a")
		[ "$_next" = null ] && break
		_after="&after=$_next"
		[ $PAGES -ge 20 ] && break
	done
}
pages targets "$API/targets" targets
check_match "targets: all of them" '^[1-9][0-9][0-9]$' "$ROWS"
pages "targets of CN, blocked" "$API/targets?cc=CN&state=blocked" targets
# Event ids are numbered as a store finds events; the source found some
# of these again when it recomputed targets (late measurements), the
# destination once each: the events themselves must be the same.
same "events (but their ids)" "$API/events" events \
	'map(del(.id)) | sort_by(.input, .probe_cc, .probe_asn, .time)'
check_match "events: some" '^[1-9]' "$(jq length "$D/rows.a")"
same "events into blocked (but their ids)" "$API/events?state=blocked" events \
	'map(del(.id)) | sort_by(.input, .probe_cc, .probe_asn, .time)'
pages measurements "$API/measurements" measurements
check "measurements: all of them" "$N" "$ROWS"
pages "measurements of one network" "$API/measurements?cc=IR&asn=AS197207" measurements
timelines "timelines, daily" ""
timelines "timelines, hourly" "&granularity=hour"
timelines "timelines, daily, since a day" \
	"&since=$(date -u -d @$((T0 + 50 * 86400)) +%Y-%m-%d)"
same "domain roll-up" "$API/domains/good.lab.test"
same "settings" "$API/settings"
same "raw of a measurement" "$API/measurements/$U1"
same "export, JSON Lines" "$API/export?format=jsonl"
check "export: every measurement" "$N" "$(wc -l <"$D/ans.a" | tr -d ' ')"
same "export, CSV" "$API/export?format=csv"
same "export, CSV, one country and range" \
	"$API/export?format=csv&cc=TR&since=$(date -u -d @$((T0 + 30 * 86400)) +%Y-%m-%d)&until=$(date -u -d @$((T0 + 90 * 86400)) +%Y-%m-%d)"
same "export, of blocked targets" "$API/export?format=jsonl&state=blocked"
"$COLLECTOR" export --db "$A_DB" --format csv >"$D/exp.a" 2>/dev/null
"$COLLECTOR" export --db "$CI" --format csv >"$D/exp.b" 2>/dev/null
check "export command: the same bytes" "$(sha256sum <"$D/exp.a")" \
	"$(sha256sum <"$D/exp.b")"

stop_col "$A_PID"
A_PID=
stop_col "$B_PID"
B_PID=
finish
