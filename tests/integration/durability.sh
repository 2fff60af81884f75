#!/bin/sh
# durability.sh PROBE COLLECTOR FAKENET - the promise of the spool (issue 5):
# every measurement reaches the collector exactly once, across a collector
# stopped in the middle of a run and restarted, the probe killed with
# SIGKILL at random points many times, and a full disk.
set -u
PROBE=$1
COLLECTOR=$2
FAKENET=$3
. tests/integration/lib.sh
lab_start "$FAKENET"
export WALLWATCH_PROBE_CONF=/dev/null
DISK=
PIDS=

cleanup() {
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	[ -n "$COL_PID" ] && kill "$COL_PID" 2>/dev/null
	[ -n "$DISK" ] && umount "$DISK" 2>/dev/null
	lab_cleanup
}
COL_PID=
trap cleanup EXIT

H=http://127.0.0.1:$HTTP_PORT
NET="--resolver 127.0.0.1:$DNS_PORT --ca-file $LAB/ca.pem"
COMMON="$NET --quiet"

# inputs PATH TAG N: N distinct targets on PATH.
inputs() {
	_i=1
	while [ $_i -le "$3" ]; do
		printf -- '--input %s/%s?n=%s-%d ' "$H" "$1" "$2" "$_i"
		_i=$((_i + 1))
	done
}

db_count() {
	sqlite3 "$1" 'SELECT count(*) FROM measurements' 2>/dev/null || echo 0
}

queue_count() {
	find "$1/spool/queue" -name '*.json' 2>/dev/null | wc -l | tr -d ' '
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds; 1 after SECONDS
# (lib.sh's wait_until: the bounds below are generous, for a broken test).
wait_for() { wait_until "$@"; }

# Every queued file is one whole JSON object with a measurement_uid.
queue_readable() {
	for f in "$1"/spool/queue/*.json; do
		[ -e "$f" ] || continue
		jq -e 'type == "object" and (.measurement_uid | type) == "string"' \
			"$f" >/dev/null 2>&1 || return 1
	done
	return 0
}

# collector_at PORT DB LOG: the real collector on PORT, 0 for one the
# kernel picks (no guess of a free port); a restart gives the port it had
# (it must come back where the probe looks for it). Sets PORT. LOG is
# appended to: only a "listening" line this start adds counts.
listened() { [ "$(grep -c 'listening on' "$1")" -gt "$2" ]; }
collector_at() {
	_ca_n=$(grep -c 'listening on' "$3" 2>/dev/null)
	"$COLLECTOR" --listen "127.0.0.1:$1" --db "$2" \
		--asn-db tests/data/asndb/tiny.tsv 2>>"$3" &
	COL_PID=$!
	wait_for 120 alive_and_not "$COL_PID" listened "$3" "${_ca_n:-0}"
	listened "$3" "${_ca_n:-0}" || return 1
	PORT=$(listening_port "$3")
}

collector_stop() {
	kill "$COL_PID" 2>/dev/null
	wait "$COL_PID" 2>/dev/null
	COL_PID=
}

# --- 1. the collector stops in the middle of a run, and comes back ------------
: >"$LAB/a.log"
collector_at 0 "$LAB/a.db" "$LAB/a.log" || not_ok "collector A started"
# 16 targets one at a time, each waiting out a 0.4 s timeout: a run of
# several seconds, with an upload after every measurement.
# shellcheck disable=SC2046
"$PROBE" daemon --collector "http://127.0.0.1:$PORT" --state-dir "$LAB/stA" \
	--interval 1h --cooldown 0 --concurrency 1 --timeout 0.4 \
	--retry-quick 0.3 --retry-slow 1 --upload-timeout 2 \
	--output "$LAB/a.jsonl" $COMMON $(inputs slow a 16) 2>"$LAB/daemonA.log" &
DPID=$!
PIDS="$DPID"
wait_for 120 sh -c "[ \$(sqlite3 '$LAB/a.db' 'SELECT count(*) FROM measurements' 2>/dev/null || echo 0) -ge 2 ]"
check "outage: measurements arrive before the collector stops" 0 $?
collector_stop
STOPPED_AT=$(db_count "$LAB/a.db")
LINES_AT_STOP=$(wc -l <"$LAB/a.jsonl")
# The events the outage is for: a measurement made after the stop (each
# target waits out its 0.4 s timeout: the run cannot be over yet), and an
# upload that failed (the probe uploads after every measurement).
measured_more() { [ "$(wc -l <"$LAB/a.jsonl")" -gt "$LINES_AT_STOP" ]; }
upload_failed() {
	"$PROBE" status --state-dir "$LAB/stA" --json 2>/dev/null |
		jq -e '[.collectors[]?.last_error // empty] | length > 0' >/dev/null
}
wait_for 120 measured_more
wait_for 120 upload_failed
check "outage: the probe keeps measuring while the collector is down" yes \
	"$([ "$(wc -l <"$LAB/a.jsonl")" -gt "$STOPPED_AT" ] && echo yes || echo no)"
collector_at "$PORT" "$LAB/a.db" "$LAB/a.log" || not_ok "collector A restarted"
wait_for 120 sh -c "[ \$(wc -l <'$LAB/a.jsonl') -ge 16 ] && [ \$(find '$LAB/stA/spool/queue' -name '*.json' | wc -l) -eq 0 ]"
check "outage: the run ends and the spool empties" 0 $?
kill -TERM "$DPID"
wait "$DPID"
check "outage: daemon exits 0 on SIGTERM" 0 $?
PIDS=
check "outage: every measurement stored once" 16 "$(db_count "$LAB/a.db")"
jq -r .measurement_uid "$LAB/a.jsonl" | sort >"$LAB/a.want"
sqlite3 "$LAB/a.db" 'SELECT uid FROM measurements' | sort >"$LAB/a.got"
check "outage: exactly the measurements the probe made" "" \
	"$(diff "$LAB/a.want" "$LAB/a.got")"
check_match "outage: the failed upload was recorded" \
	'connection_refused|eof|connection_reset|generic_timeout' \
	"$("$PROBE" status --state-dir "$LAB/stA" --collector "http://127.0.0.1:$PORT" --json | jq -r '.collectors[0].last_error')"
collector_stop

# --- 2. SIGKILL at random points, many times ---------------------------------
: >"$LAB/b.log"
collector_at 0 "$LAB/b.db" "$LAB/b.log" || not_ok "collector B started"
# One run to its end first: the kill points are spread over the time a run
# takes on this machine (not a fixed 400 ms: a slow machine would only
# ever be killed before measuring anything). It makes the state directory,
# too: `status` on one that a kill in a run's first milliseconds left
# without its spool exits 2 ("no spool in"), which is not what this checks.
T0=$(date +%s%N)
# shellcheck disable=SC2046
"$PROBE" run --collector "http://127.0.0.1:$PORT" --state-dir "$LAB/stB" \
	--concurrency 3 --timeout 2 --output "$LAB/b0.jsonl" $COMMON \
	$(inputs ok 0 6) 2>>"$LAB/b.err"
RUN_MS=$((($(date +%s%N) - T0) / 1000000))
echo "# SIGKILL: a whole run takes ${RUN_MS} ms here"
lines_over() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -gt "$2" ]; }
KILLS=25
bad_queue=0
bad_status=0
i=0
while [ $i -lt $KILLS ]; do
	i=$((i + 1))
	# shellcheck disable=SC2046
	"$PROBE" run --collector "http://127.0.0.1:$PORT" --state-dir "$LAB/stB" \
		--concurrency 3 --timeout 2 --output "$LAB/b.jsonl" $COMMON \
		$(inputs ok "$i" 6) 2>>"$LAB/b.err" &
	p=$!
	# 0 to 120 % of a run: whoami, measuring, spooling, uploading, or
	# done. The last is killed only once it has written a measurement.
	if [ $i -lt $KILLS ]; then
		sleep "$(od -An -N2 -tu2 /dev/urandom | awk -v r="$RUN_MS" \
			'{printf "%.3f", ($1 % (r * 1.2 + 1)) / 1000}')"
	else
		n=$(wc -l <"$LAB/b.jsonl" 2>/dev/null || echo 0)
		wait_for 120 alive_and_not "$p" lines_over "$LAB/b.jsonl" "$n"
	fi
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	queue_readable "$LAB/stB" || bad_queue=$((bad_queue + 1))
	"$PROBE" status --state-dir "$LAB/stB" --json >/dev/null 2>&1 ||
		bad_status=$((bad_status + 1))
done
check "SIGKILL x$KILLS: every queued file stays a whole measurement" 0 $bad_queue
check "SIGKILL x$KILLS: status reads the state every time" 0 $bad_status
"$PROBE" upload --collector "http://127.0.0.1:$PORT" --state-dir "$LAB/stB" \
	--quiet 2>>"$LAB/b.err"
check "SIGKILL: a final upload delivers the rest" 0 $?
check "SIGKILL: spool empty afterwards" 0 "$(queue_count "$LAB/stB")"
# What the probe wrote to --output (after spooling it) must be stored; a
# line cut by the kill is not a measurement.
jq -R -r 'fromjson? | .measurement_uid' "$LAB/b.jsonl" 2>/dev/null | sort -u >"$LAB/b.want"
sqlite3 "$LAB/b.db" 'SELECT uid FROM measurements' | sort >"$LAB/b.got"
check "SIGKILL: some runs measured something" yes \
	"$([ -s "$LAB/b.want" ] && echo yes || echo no)"
check "SIGKILL: nothing spooled was lost" "" \
	"$(comm -23 "$LAB/b.want" "$LAB/b.got")"
check "SIGKILL: each measurement stored once" \
	"$(sort -u "$LAB/b.got" | wc -l)" "$(wc -l <"$LAB/b.got")"
echo "# SIGKILL: $(wc -l <"$LAB/b.want") written to --output, $(wc -l <"$LAB/b.got") stored"
collector_stop

# --- 3. a full disk ---------------------------------------------------------
DISK=$LAB/disk
mkdir -p "$DISK"
if mount -t tmpfs -o size=256k tmpfs "$DISK" 2>"$LAB/mount.err"; then
	ST=$DISK/st
	# A port no collector listens on now, and C can take later: the one
	# the kernel gave a collector started and stopped here.
	: >"$LAB/c.log"
	collector_at 0 "$LAB/c.db" "$LAB/c.log" || not_ok "a port for collector C"
	collector_stop
	# Three measurements spooled while no collector listens.
	# shellcheck disable=SC2046
	"$PROBE" run --collector "http://127.0.0.1:$PORT" --state-dir "$ST" \
		--timeout 2 --upload-timeout 2 $COMMON $(inputs ok before 3) \
		2>"$LAB/c-run.log"
	check "full disk: three queued before" 3 "$(queue_count "$ST")"
	dd if=/dev/zero of="$DISK/filler" bs=4k 2>/dev/null
	# shellcheck disable=SC2046
	"$PROBE" daemon --collector "http://127.0.0.1:$PORT" --state-dir "$ST" \
		--interval 1h --cooldown 0 --timeout 2 --retry-quick 0.3 \
		--retry-slow 1 --upload-timeout 2 $NET \
		$(inputs ok during 3) 2>"$LAB/c-daemon.log" &
	DPID=$!
	PIDS="$DPID"
	wait_for 120 grep -q "run 1 ended" "$LAB/c-daemon.log"
	check "full disk: the run ends" 0 $?
	check_match "full disk: the problem is named" \
		"No space left on device" "$(cat "$LAB/c-daemon.log")"
	check "full disk: what was queued is intact" 0 \
		"$(queue_readable "$ST" && echo 0 || echo 1)"
	rm -f "$DISK/filler"
	collector_at "$PORT" "$LAB/c.db" "$LAB/c.log" || not_ok "collector C started"
	kill -USR1 "$DPID"
	wait_for 120 sh -c "[ \$(sqlite3 '$LAB/c.db' 'SELECT count(*) FROM measurements' 2>/dev/null || echo 0) -ge 6 ] && [ \$(find '$ST/spool/queue' -name '*.json' | wc -l) -eq 0 ]"
	check "full disk: once there is room, all six arrive" 0 $?
	check "full disk: stored once each" 6 "$(db_count "$LAB/c.db")"
	check "full disk: nothing reported lost" 0 \
		"$("$PROBE" status --state-dir "$ST" --json | jq '.counters.lost // 0')"
	kill -TERM "$DPID"
	wait "$DPID"
	check "full disk: daemon exits 0" 0 $?
	PIDS=
	collector_stop
	umount "$DISK"
	DISK=
elif [ "$(id -u)" -eq 0 ]; then
	not_ok "full disk: mount a tmpfs" "$(cat "$LAB/mount.err")"
else
	echo "# full disk: skipped (mounting a tmpfs needs root)"
fi

# Under ASan the probes' reports land in these logs.
check "no sanitizer reports" "" \
	"$(cat "$LAB"/*.log "$LAB"/*.err 2>/dev/null | grep -E 'Sanitizer|runtime error' | head -3)"
finish
