#!/bin/sh
# edge.sh COLLECTOR SLOWHTTP - the collector's HTTP edge (collector/edge.c,
# issue 12) on loopback, with tests/slowhttp's raw and slow clients:
# - strict framing: two Content-Length values (equal or not), a non-numeric
#   one, a space before the colon, Content-Length with Transfer-Encoding, a
#   coding other than chunked: 400 naming the problem, then the connection
#   closed (the rest of the bytes never read as a request);
# - gzip: a body of two members stored whole; bytes after the gzip data 400;
# - deadlines: a head that never ends, a body that trickles, an idle
#   kept-alive connection: closed by the server (waited for as an event);
# - the cap per source address (an attacker on 127.0.0.5, the normal
#   client on 127.0.0.1 still served);
# - slowloris: slow heads and slow bodies from eight addresses, more than
#   --max-connections, while a normal client posts and reads: every one of
#   its requests answered; its p50/p99 latency printed (not asserted);
# - descriptors: a collector whose open-file limit is lowered under it
#   (prlimit) and flooded: accept() fails with EMFILE, the listener pauses
#   and logs it a bounded number of times, and serves again after.
set -u
COLLECTOR=$1
SLOW=$2
. tests/integration/lib.sh
LAB=$(mktemp -d "${TMPDIR:-/tmp}/wallwatch-edge.XXXXXX")
COL_PID=
HOLDERS=

stop_holders() {
	for p in $HOLDERS; do kill "$p" 2>/dev/null; done
	for p in $HOLDERS; do wait "$p" 2>/dev/null; done
	HOLDERS=
}
stop_collector() {
	if [ -n "$COL_PID" ]; then
		kill "$COL_PID" 2>/dev/null
		wait "$COL_PID" 2>/dev/null
	fi
	COL_PID=
}
cleanup_all() {
	stop_holders
	[ -n "$COL_PID" ] && kill -9 "$COL_PID" 2>/dev/null
	rm -rf "$LAB"
}
trap cleanup_all EXIT
trap 'exit 130' INT TERM

DB=$LAB/x.db
LOG=$LAB/col.err
sql() { sqlite3 "$DB" "$1"; }
metric() {
	curl -s --max-time 30 "http://127.0.0.1:$PORT/metrics" |
		awk -v k="$1" '$1 == k {print $2}'
}
metric_at_least() { [ "$(metric "$1")" -ge "$2" ] 2>/dev/null; }

# lines FILE N TAG: N measurements (good.json, started now), uids TAG_i.
lines() {
	jq -c --arg t "$3" --argjson n "$2" \
		--arg now "$(date -u '+%Y-%m-%d %H:%M:%S')" \
		'. as $m | range(0; $n) as $i | $m |
		.measurement_start_time = $now |
		.measurement_uid = "20261122T000000.000000_ZZ_\($t)_\($i)"' \
		tests/data/validate/good.json >"$1"
}

# raw NAME BYTES: send BYTES (printf escapes) on one connection; the
# answer in $LAB/NAME.out; RAW_RC 0 when the server closed the connection
# (within 60 s).
raw() {
	printf "$2" >"$LAB/$1.in"
	"$SLOW" raw --port "$PORT" --wait 60 <"$LAB/$1.in" >"$LAB/$1.out" \
		2>"$LAB/$1.err"
	RAW_RC=$?
}

collector_up "$LOG" "$COLLECTOR" --db "$DB" --header-timeout 2 \
	--min-body-rate 1000 --max-per-source 8 --max-connections 32

# --- strict framing ---------------------------------------------------------
REQ='POST /api/v1/measurements HTTP/1.1\r\nHost: lab\r\n'
# framing NAME HEADERS EXPECTED: HEADERS after the request line and Host,
# then a blank line and a body that is itself a request (smuggled).
framing() {
	raw "$1" "$REQ$2\r\nGET /healthz HTTP/1.1\r\nHost: lab\r\n\r\n"
	check "framing $1: connection closed" 0 "$RAW_RC"
	check "framing $1: 400" "HTTP/1.1 400 Bad Request" \
		"$(head -n 1 "$LAB/$1.out" | tr -d '\r')"
	check_match "framing $1: the error names it" "\"error\":\".*$3" \
		"$(tail -n 1 "$LAB/$1.out")"
	check "framing $1: one answer (nothing smuggled)" 1 \
		"$(grep -c '^HTTP/1.1' "$LAB/$1.out")"
}
framing two_lengths 'Content-Length: 5\r\nContent-Length: 6\r\n' \
	'two Content-Length'
framing equal_lengths 'Content-Length: 5\r\nContent-Length: 5\r\n' \
	'two Content-Length'
framing plus 'Content-Length: +5\r\n' 'Content-Length \\"\+5\\" is not a number'
framing minus 'Content-Length: -1\r\n' 'Content-Length \\"-1\\" is not a number'
framing two_numbers 'Content-Length: 5 5\r\n' 'Content-Length \\"5 5\\" is not'
framing empty 'Content-Length:\r\n' 'Content-Length \\"\\" is empty'
framing overflow 'Content-Length: 99999999999999999999\r\n' 'is too large'
framing space_colon 'Content-Length : 5\r\n' \
	'header name \\"Content-Length \\" has a character'
framing length_and_chunked \
	'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n' \
	'both Content-Length and Transfer-Encoding'
framing gzip_coding 'Transfer-Encoding: gzip\r\n' \
	'Transfer-Encoding \\"gzip\\" is not supported'
framing folded 'X-A: 1\r\n  Content-Length: 5\r\n' 'line folding'
check "framing: nothing stored" 0 "$(sql 'SELECT count(*) FROM measurements')"
check_match "framing: refusals counted" '^1[1-9]$' \
	"$(metric 'wallwatch_http_cut_total{reason="framing"}')"
# A sound request on the same path is not refused.
raw sound 'GET /healthz HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n'
check "sound request: 200" "HTTP/1.1 200 OK" \
	"$(head -n 1 "$LAB/sound.out" | tr -d '\r')"

# --- gzip ------------------------------------------------------------------
lines "$LAB/a.jsonl" 3 gza
lines "$LAB/b.jsonl" 2 gzb
gzip -c "$LAB/a.jsonl" >"$LAB/two.gz"
gzip -c "$LAB/b.jsonl" >>"$LAB/two.gz"
submit "$LAB/two.gz" -H 'Content-Encoding: gzip'
check "gzip two members: 200" 200 "$CODE"
check "gzip two members: five stored" 5 "$(printf '%s' "$OUT" | jq '.stored | length')"
check "gzip two members: both members' in the store" 5 \
	"$(sql "SELECT count(*) FROM measurements WHERE uid LIKE '%_gza_%' OR uid LIKE '%_gzb_%'")"
lines "$LAB/c.jsonl" 2 gzc
{ gzip -c "$LAB/c.jsonl"; printf 'trailing garbage'; } >"$LAB/trail.gz"
submit "$LAB/trail.gz" -H 'Content-Encoding: gzip'
check "gzip trailing bytes: 400" 400 "$CODE"
check_match "gzip trailing bytes: named" \
	'16 bytes after the end of the gzip data' "$OUT"
check "gzip trailing bytes: nothing stored" 0 \
	"$(sql "SELECT count(*) FROM measurements WHERE uid LIKE '%_gzc_%'")"

# --- deadlines ---------------------------------------------------------------
raw slow_head 'GET /healthz HTTP/1.1\r\nHost: lab\r\nX-Slow: '
check "slow head: closed by the server" 0 "$RAW_RC"
check_match "slow head: 408 naming the deadline" \
	'^HTTP/1.1 408 .*--header-timeout' "$(tr -d '\r\n' <"$LAB/slow_head.out")"
raw slow_body "${REQ}Content-Length: 100000\r\n\r\n{\"a\":"
check "slow body: closed by the server" 0 "$RAW_RC"
check_match "slow body: 408 naming the rate" \
	'^HTTP/1.1 408 .*--min-body-rate' "$(tr -d '\r\n' <"$LAB/slow_body.out")"
raw kept_alive 'GET /healthz HTTP/1.1\r\nHost: lab\r\n\r\n'
check "kept-alive and idle: answered, then closed" "0 HTTP/1.1 200 OK" \
	"$RAW_RC $(head -n 1 "$LAB/kept_alive.out" | tr -d '\r')"
check "kept-alive and idle: one answer, no 408" 1 \
	"$(grep -c '^HTTP/1.1' "$LAB/kept_alive.out")"

# --- the cap per source address ----------------------------------------------
"$SLOW" hold --port "$PORT" --bind 127.0.0.5 --conns 20 --mode head \
	--every 0.5 >"$LAB/cap.out" 2>&1 &
HOLDERS=$!
if wait_until 60 metric_at_least \
	'wallwatch_http_cut_total{reason="per_source"}' 1; then
	ok "per source: connections over 8 from one address closed"
else
	not_ok "per source: connections over 8 from one address closed"
fi
check "per source: another address is served" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 \
		"http://127.0.0.1:$PORT/healthz")"
# (slowhttp says "closed" as it sees each one closed)
seen_closed() { grep -q '^closed$' "$1"; }
if wait_until 60 seen_closed "$LAB/cap.out"; then
	ok "per source: the attacker saw its connections closed"
else
	not_ok "per source: the attacker saw its connections closed"
fi
stop_holders

# --- slowloris ---------------------------------------------------------------
# Eight addresses, each at its cap of 8: 64 slow connections against 32
# slots, reopened as soon as the server closes them.
for a in 2 3 4 5; do
	"$SLOW" hold --port "$PORT" --bind "127.0.1.$a" --conns 10 \
		--mode head --every 0.5 >"$LAB/loris_h$a.out" 2>&1 &
	HOLDERS="$HOLDERS $!"
	"$SLOW" hold --port "$PORT" --bind "127.0.2.$a" --conns 10 \
		--mode body --every 0.5 >"$LAB/loris_b$a.out" 2>&1 &
	HOLDERS="$HOLDERS $!"
done
# The attack is on once the limit was reached.
if wait_until 60 metric_at_least \
	wallwatch_http_connection_limit_reached_total 1; then
	ok "slowloris: the connection limit is reached"
else
	not_ok "slowloris: the connection limit is reached"
fi
# 20 rounds (40 requests): each waits ~1 s for a slot while the attack
# holds them all, and make check runs this twice (also under ASan); the
# soak (make soak) gives the latencies of a longer run.
NLOAD=20
lines "$LAB/load.jsonl" "$NLOAD" load
"$SLOW" load --port "$PORT" --bind 127.0.0.1 --lines "$LAB/load.jsonl" \
	--count "$NLOAD" --get /api/v1/targets >"$LAB/load.out" 2>&1
LOAD_RC=$?
cat "$LAB/load.out"
check "slowloris: every request of the normal client answered" 0 "$LOAD_RC"
for r in header_timeout body_rate shed; do
	echo "# slowloris: cut for $r: $(metric "wallwatch_http_cut_total{reason=\"$r\"}")"
done
stop_holders
# (by their deadline, or to make room: either way closed by the server)
check_match "slowloris: slow heads closed by the server" \
	'closed by the server [1-9]' "$(cat "$LAB"/loris_h*.out)"
check_match "slowloris: slow bodies closed by the server" \
	'closed by the server [1-9]' "$(cat "$LAB"/loris_b*.out)"
check "slowloris: the normal client's measurements stored" "$NLOAD" \
	"$(sql "SELECT count(*) FROM measurements WHERE uid LIKE '%_load_%'")"
stop_collector
check "no sanitizer report" "" "$(grep -iE 'sanitizer|runtime error' "$LOG")"

# --- the open-file limit -------------------------------------------------------
# A soft limit under the hard one is raised to it at start.
DB=$LAB/rl.db
LOG=$LAB/rl.err
HARD=$(ulimit -H -n)
collector_up "$LOG" sh -c 'ulimit -S -n 128 && exec "$0" "$@"' \
	"$COLLECTOR" --db "$DB"
check "open files: the soft limit raised to the hard one" "$HARD $HARD" \
	"$(awk '/^Max open files/ {print $4, $5}' "/proc/$COL_PID/limits")"
stop_collector

# --- out of descriptors --------------------------------------------------------
# The limit is 128 at start (--max-connections is lowered to fit, with a
# notice), then lowered under the running collector to 40: a flood of
# idle connections makes accept() fail with EMFILE.
DB=$LAB/fd.db
LOG=$LAB/fd.err
COLLECTOR_FD="ulimit -n 128 && exec \"\$0\" \"\$@\""
collector_up "$LOG" sh -c "$COLLECTOR_FD" "$COLLECTOR" --db "$DB" \
	--header-timeout 2 --max-per-source 1000
check_match "descriptors: --max-connections lowered, said" \
	'--max-connections 1024 lowered to 64' "$(cat "$LOG")"
prlimit --pid "$COL_PID" --nofile=40:40
"$SLOW" hold --port "$PORT" --bind 127.0.0.7 --conns 60 --mode idle \
	--every 0.5 >"$LAB/flood.out" 2>&1 &
HOLDERS=$!
emfile_logged() { grep -q 'cannot accept a connection' "$LOG"; }
if wait_until 60 emfile_logged; then
	ok "descriptors: accept() failing is logged"
else
	not_ok "descriptors: accept() failing is logged"
fi
# The flood goes on while idle connections are cut and come back.
wait_until 60 metric_at_least wallwatch_http_accept_no_descriptor_total 3
stop_holders
check "descriptors: served again after the flood" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 \
		"http://127.0.0.1:$PORT/healthz")"
N_LINES=$(grep -c 'cannot accept a connection' "$LOG")
N_PAUSES=$(metric wallwatch_http_accept_no_descriptor_total)
echo "# EMFILE: $N_PAUSES pauses, $N_LINES log lines"
if [ "$N_LINES" -ge 1 ] && [ "$N_LINES" -lt 10 ]; then
	ok "descriptors: logged a bounded number of times ($N_LINES)"
else
	not_ok "descriptors: logged a bounded number of times" "$N_LINES lines"
fi
# A spinning listener fails accept() thousands of times a second.
if [ "$N_PAUSES" -ge 3 ] && [ "$N_PAUSES" -lt 1000 ]; then
	ok "descriptors: paused, not spinning ($N_PAUSES pauses)"
else
	not_ok "descriptors: paused, not spinning" "$N_PAUSES pauses"
fi
stop_collector
check "descriptors: no sanitizer report" "" \
	"$(grep -iE 'sanitizer|runtime error' "$LOG")"

finish
