#!/bin/sh
# tests/offline/run.sh BUILD FAKENET - `make run` (tools/run-local.sh) on a
# machine without network: in a network namespace of its own with only
# loopback, run-local.sh must say that the machine seems offline and that
# no verdict of the run is evidence, instead of counting stored verdicts;
# with a reachable server (fakenet, on that loopback) it says what it says
# on a working machine. Needs root (unshare -n); without it, it says it was
# skipped and exits 0. Run from the top of the tree; ends with
# "N passed, N failed".
set -u
BUILD=$1
FAKENET=$2
skip() {
	echo "offline: SKIPPED — needs root and network namespaces ($1)"
	echo "0 passed, 0 failed"
	exit 0
}
if [ -z "${WW_OFFLINE_NETNS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || skip "not root"
	for tool in unshare ip jq; do
		command -v "$tool" >/dev/null 2>&1 || skip "no $tool command"
	done
	unshare -n true 2>/dev/null || skip "unshare -n fails here"
	# Again inside a new network namespace: it has only loopback (down
	# until set up) and disappears with this process.
	WW_OFFLINE_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up || { echo "offline: cannot set up loopback" >&2; exit 1; }
. tests/integration/lib.sh
lab_start "$FAKENET" # loopback servers, for the run that reaches something
RL_PID=

stop_run_local() {
	if [ -n "$RL_PID" ]; then
		kill "$RL_PID" 2>/dev/null
		wait "$RL_PID" 2>/dev/null
		RL_PID=
	fi
}
trap 'stop_run_local; lab_cleanup' EXIT

# run_local NAME ARGS...: tools/run-local.sh with ARGS for the probe, its
# data in $LAB/NAME, until it has printed its last line (it then keeps the
# collector running for the web view: stopped here). Sets OUT (stdout).
# No other process can hold a port in this namespace: a fixed one is free.
run_local() {
	_n=$1
	shift
	WALLWATCH_DATA_DIR=$LAB/$_n WALLWATCH_PORT=18080 \
		timeout -k 5 300 sh tools/run-local.sh "$BUILD" --timeout 2 "$@" \
		</dev/null >"$LAB/$_n.out" 2>"$LAB/$_n.err" &
	RL_PID=$!
	# (timeout 300 above bounds run-local.sh itself)
	wait_until 310 alive_and_not "$RL_PID" \
		grep -q 'for the web view' "$LAB/$_n.out"
	if ! grep -q 'for the web view' "$LAB/$_n.out"; then
		echo "# run-local ended early:" >&2
		tail -n 20 "$LAB/$_n.err" >&2
	fi
	stop_run_local
	OUT=$(cat "$LAB/$_n.out")
	MEAS=$(ls "$LAB/$_n"/measurements/*.jsonl 2>/dev/null | head -n 1)
}

# 1. The bundled test lists, as `make run`, with no network at all: the
#    machine's resolver is unreachable, and so is every target.
run_local offline
check "offline: every target measured" \
	"$(grep -c '' "$MEAS" 2>/dev/null) measured" \
	"$(grep -Eo '[0-9]+ of [0-9]+ targets measured' "$LAB/offline.err" |
		sed 's/ of [0-9]* targets//')"
check_match "offline: says the machine seems offline" \
	'^run-local: this machine seems to be offline: ' "$OUT"
check_match "offline: says no verdict is evidence" \
	'no verdict (was stored as evidence about any target|is evidence when the machine is offline)' \
	"$OUT"
check "offline: no count of stored verdicts" 0 \
	"$(printf '%s\n' "$OUT" | grep -c 'measurements stored in')"
check_match "offline: still shows where the web view is" \
	'open http://127.0.0.1:18080/ for the web view' "$OUT"
# What the new analysis must make of it (issue 11, class 8): no verdict,
# reason probe_offline. Counted, so that the report says which rule fired.
echo "# offline run: $(jq -r '"\(.test_keys.blocking) \(.test_keys.analysis.reason)"' "$MEAS" |
	sort | uniq -c | tr '\n' ';')"

# 2. A target that answers (fakenet on loopback): not offline, the usual
#    count of what was stored.
P=http://good.lab.test:$HTTP_PORT
run_local online --input "$P/" --resolver "127.0.0.1:$DNS_PORT"
check "online: one measurement" 1 "$(grep -c '' "$MEAS" 2>/dev/null)"
check "online: nothing about being offline" 0 \
	"$(printf '%s\n' "$OUT" | grep -c 'offline')"
check_match "online: the usual count of stored measurements" \
	'^run-local: 1 measurements stored in .*collector\.db, 0 still queued' \
	"$OUT"

# 3. The target answers but the --reference sites fail (the network
#    check): the probe's network cannot be trusted, so offline again.
run_local reference --input "$P/" --resolver "127.0.0.1:$DNS_PORT" \
	--reference "http://192.0.2.1/"
check "reference: the network check failed" false \
	"$(jq -r '.test_keys.network_check.ok' "$MEAS" 2>/dev/null)"
check_match "reference: says the machine seems offline" \
	'^run-local: this machine seems to be offline: ' "$OUT"
check "reference: no count of stored verdicts" 0 \
	"$(printf '%s\n' "$OUT" | grep -c 'measurements stored in')"
finish
