#!/bin/sh
# pgmulti.sh PROBE COLLECTOR FAKENET - two collectors on one PostgreSQL
# database (a throwaway cluster: tests/pg/pgtmp.sh). Both start at once on
# the empty database (one migrates it); rounds of overlapping batches are
# POSTed to both in parallel (half of each batch is also in the other's,
# and every batch holds measurements of every target); then one collector
# is killed with SIGKILL while it stores a large batch, which is sent again
# to the other, as a probe would. Every acknowledged measurement must be
# stored exactly once (and acknowledged as stored by one answer only), and
# the timelines, targets and events must equal those of one SQLite
# collector fed the same measurements one batch after the other.
set -u
PROBE=$1
COLLECTOR=$2
FAKENET=$3
. tests/pg/pglib.sh
pg_lab pgmulti pm "P1 P2 PS BG"
mkdir -p "$D/ans"

# The same options for every collector: a single-probe deployment (one
# anonymous submitter from loopback), no rate limits, no per-source cap.
OPTS="--asn-db tests/data/asndb/tiny.tsv --allow-private
 --resolver 127.0.0.1:$DNS_PORT --ca-file $LAB/ca.pem --timeout 2
 --min-submitters 1 --allow-geo-mismatch yes --rate-batches 0
 --rate-target 0 --rate-network-batches 0 --rate-network-target 0
 --max-per-source 100000"

# launch NAME DB: a collector on port 0 in the background; its pid
# in $LAUNCHED (the port comes from its log: port_of NAME)
# (PGAPPNAME: libpq names its connections NAME, so that the test finds
# them in pg_stat_activity)
launch() {
	: >"$D/$1.err"
	# shellcheck disable=SC2086
	PGAPPNAME=$1 "$COLLECTOR" --db "$2" $OPTS --listen 127.0.0.1:0 \
		2>"$D/$1.err" &
	LAUNCHED=$!
}
port_of() { listening_port "$D/$1.err"; }
up() { [ -n "$(port_of "$1")" ]; }
# both_up: both collectors listen (or one of them died: the caller sees)
both_up() {
	{ up c1 || ! kill -0 "$P1" 2>/dev/null; } &&
		{ up c2 || ! kill -0 "$P2" 2>/dev/null; }
}

# --- two collectors start at once on an empty database ------------------------
launch c1 "$CI"
P1=$LAUNCHED
launch c2 "$CI"
P2=$LAUNCHED
wait_until 120 both_up
PORT1=$(port_of c1)
PORT2=$(port_of c2)
if [ -z "$PORT1" ] || [ -z "$PORT2" ]; then
	cat "$D/c1.err" "$D/c2.err" >&2
	echo "pgmulti: the collectors did not start" >&2
	exit 1
fi
ok "two collectors started at once on one new database"

gd_templates "$PROBE" "$PORT1" "$D"
T1=$(($(date +%s) - 3600))
T0=$((T1 - 200 * 86400))
NGEN=4000
BIGN=3000
gd_gen "$D/templates" $NGEN 0 $((NGEN + BIGN)) pm "$T0" "$T1" >"$D/all.jsonl"
gd_gen "$D/templates" $BIGN $NGEN $((NGEN + BIGN)) pm "$T0" "$T1" >"$D/big.jsonl"

# post_bg PORT FILE NAME: POST FILE in the background; the answer in
# ans/NAME, its status in ans/NAME.code (000: no answer); sets BG
post_bg() {
	curl -s --max-time 120 -o "$D/ans/$3" -w '%{http_code}' \
		-H 'Content-Type: application/x-ndjson' --data-binary "@$2" \
		"http://127.0.0.1:$1/api/v1/measurements" >"$D/ans/$3.code" &
	BG=$!
}

# --- rounds of overlapping batches, to both at once --------------------------------
# Round r: collector 1 gets lines 500r+1..500r+500, collector 2 lines
# 500r+251..500r+750, at the same moment; a batch holds every target.
r=0
bad=0
while [ $r -lt 8 ]; do
	sed -n "$((500 * r + 1)),$((500 * r + 500))p" "$D/all.jsonl" >"$D/ra$r"
	sed -n "$((500 * r + 251)),$((500 * r + 750))p" "$D/all.jsonl" >"$D/rb$r"
	post_bg "$PORT1" "$D/ra$r" "r${r}c1"
	b1=$BG
	post_bg "$PORT2" "$D/rb$r" "r${r}c2"
	b2=$BG
	wait "$b1"
	wait "$b2"
	BG=
	for c in c1 c2; do
		[ "$(cat "$D/ans/r$r$c.code")" = 200 ] || bad=$((bad + 1))
	done
	r=$((r + 1))
done
check "16 overlapping batches, 8 pairs at once: all 200" 0 "$bad"
check "overlaps answered as duplicates, never stored twice" \
	"$(cat "$D"/ra? "$D"/rb? | jq -r .measurement_uid | sort -u | wc -l | tr -d ' ')" \
	"$(cat "$D"/ans/r?c? | jq -r '.stored[]' | sort | uniq | wc -l | tr -d ' ')"
check "no uid acknowledged as stored by two answers" "" \
	"$(cat "$D"/ans/r?c? | jq -r '.stored[]' | sort | uniq -d | head -n 3)"

# --- SIGKILL while a batch is being stored -----------------------------------------
# Collector 2 gets the large batch while collector 1 gets its first half
# (overlapping); collector 2 is killed once its transaction is open in the
# database (or, on a machine fast enough to commit first, once it answered).
head -n $((BIGN / 2)) "$D/big.jsonl" >"$D/bighalf"
post_bg "$PORT2" "$D/big.jsonl" big_c2
BIGPID=$BG
post_bg "$PORT1" "$D/bighalf" bighalf_c1
HALFPID=$BG
BG=
# collector 2 holds a transaction that has written (the batch's: a
# partition's own short one comes before the first batch only)
in_txn() {
	[ "$(pg "$CI" "SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 'c2' AND backend_xid IS NOT NULL")" -gt 0 ]
}
wait_until 120 alive_and_not "$BIGPID" in_txn
if kill -0 "$BIGPID" 2>/dev/null; then
	where="with a transaction open"
else
	where="after it answered"
fi
kill -9 "$P2"
wait "$P2" 2>/dev/null
P2=
wait "$BIGPID"
wait "$HALFPID"
ok "collector 2 killed with SIGKILL $where"
big_code=$(cat "$D/ans/big_c2.code")
check "collector 1 went on meanwhile" 200 "$(cat "$D/ans/bighalf_c1.code")"
# The probe's retry: the large batch again, to collector 1, unless it
# was acknowledged.
if [ "$big_code" != 200 ]; then
	post_bg "$PORT1" "$D/big.jsonl" big_retry_c1
	wait "$BG"
	BG=
	check "the unanswered batch sent again to collector 1: 200" 200 \
		"$(cat "$D/ans/big_retry_c1.code")"
fi
# collector 2 again, on the same database, and one more round to both
launch c2 "$CI"
P2=$LAUNCHED
wait_until 120 alive_and_not "$P2" up c2
PORT2=$(port_of c2)
check_match "collector 2 back after SIGKILL" '^[0-9]+$' "$PORT2"
post_bg "$PORT1" "$D/rb7" again_c1
b1=$BG
post_bg "$PORT2" "$D/ra7" again_c2
wait "$b1"
wait "$BG"
BG=
check "a round to both after the restart: 200 200, nothing new" "200 200 0" \
	"$(cat "$D/ans/again_c1.code") $(cat "$D/ans/again_c2.code") $(cat "$D/ans/again_c1" "$D/ans/again_c2" | jq -s 'map(.stored | length) | add')"

# --- exactly once ------------------------------------------------------------------
cat "$D/all.jsonl" "$D/big.jsonl" | jq -r .measurement_uid | sort -u >"$D/sent"
NSENT=$(wc -l <"$D/sent" | tr -d ' ')
for f in "$D"/ans/*; do
	case $f in *.code) continue ;; esac
	[ "$(cat "$f.code")" = 200 ] || continue
	jq -r '.stored[], .duplicates[]' "$f"
done | sort -u >"$D/acked"
pg "$CI" "SELECT uid FROM measurements" | sort >"$D/stored"
check "every measurement sent is stored" "$NSENT" "$(wc -l <"$D/stored" | tr -d ' ')"
check "each once (no uid twice)" "" "$(uniq -d "$D/stored" | head -n 3)"
check "every acknowledged one is stored" "" \
	"$(comm -23 "$D/acked" "$D/stored" | head -n 3)"
check "the uid table and the rows agree" "$NSENT $NSENT" \
	"$(pg "$CI" 'SELECT (SELECT count(*) FROM measurement_uids), (SELECT count(*) FROM measurements)' | tr '|' ' ')"
check "no answer listed a conflict" 0 \
	"$(for f in "$D"/ans/*; do case $f in *.code) ;; *) [ -s "$f" ] && jq '.conflicts | length' "$f" ;; esac; done | awk '{s += $1} END {print s + 0}')"

# --- the timelines of one collector fed the same ------------------------------------
launch single "$D/single.db"
PS=$LAUNCHED
wait_until 120 alive_and_not "$PS" up single
PORTS=$(port_of single)
check_match "the single SQLite collector started" '^[0-9]+$' "$PORTS"
split -l 1000 -a 3 "$D/all.jsonl" "$D/s_"
for f in "$D"/s_* "$D/big.jsonl"; do
	post_bg "$PORTS" "$f" "single_$(basename "$f")"
	wait "$BG"
	BG=
done
check "the single collector stored them all" "$NSENT" \
	"$(sqlite3 "$D/single.db" 'SELECT count(*) FROM measurements')"

# the collectors compared: 1 (PostgreSQL: both collectors' data) and the
# single one (ids are the order in which rows were made, which differs:
# rows are compared without them)
A_PORT=$PORT1
B_PORT=$PORTS
DIFFER="two collectors on PostgreSQL and one on SQLite"
timelines "timelines, daily" ""
timelines "timelines, hourly" "&granularity=hour"
same "targets (states, since, shares), by target" "$API/targets" targets \
	'map(del(.id)) | sort_by(.input, .probe_cc, .probe_asn)'
check_match "targets: all of them" '^[1-9][0-9][0-9]$' "$(jq length "$D/rows.b")"
same "events, by target and time" "$API/events" events \
	'map(del(.id)) | sort_by(.input, .probe_cc, .probe_asn, .time)'
check_match "events: some" '^[1-9]' "$(jq length "$D/rows.b")"
same "domain roll-up" "$API/domains/good.lab.test"
# an export comes in received order, which two collectors make their own:
# the same lines
c1=$(get "$PORT1" "$API/export?format=csv" "$D/x.pg")
c2=$(get "$PORTS" "$API/export?format=csv" "$D/x.sq")
check "export, CSV: the same rows (in received order each)" \
	"200 200 $(sort "$D/x.sq" | sha256sum)" "$c1 $c2 $(sort "$D/x.pg" | sha256sum)"
check "export, CSV: every measurement" $((NSENT + 1)) "$(wc -l <"$D/x.pg" | tr -d ' ')"

for p in $P1 $P2 $PS; do
	kill -TERM "$p"
	wait "$p"
done
P1=
P2=
PS=
finish
