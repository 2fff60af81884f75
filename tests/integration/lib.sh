# lib.sh - shared by the shell tests: a lab of loopback servers (fakenet),
# assertions, and cleanup that runs even when a test fails.
# Every test ends with a plain "N passed, N failed" line.

PASS=0
FAIL=0
# A configuration installed on this machine must not steer the tests.
WALLWATCH_PROBE_CONF=/dev/null
export WALLWATCH_PROBE_CONF
LAB_PID=
LAB=

lab_cleanup() {
	if [ -n "$LAB_PID" ]; then
		kill "$LAB_PID" 2>/dev/null
		wait "$LAB_PID" 2>/dev/null
	fi
	[ -n "$LAB" ] && rm -rf "$LAB"
}

# wait_until SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds
# (0), or until SECONDS of wall time have passed (1). Tests wait for an
# event this way, never for a guess of how long something takes: SECONDS
# is a generous bound that only a broken test reaches, never a slow one.
wait_until() {
	_wu_end=$(($(date +%s) + $1))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -ge "$_wu_end" ] && return 1
		sleep 0.1
	done
	return 0
}

# alive_and_not PID COMMAND...: 0 once COMMAND succeeds; 0 too when PID
# has exited (the caller looks at why); 1 while PID runs and COMMAND fails.
alive_and_not() {
	_an_pid=$1
	shift
	"$@" && return 0
	kill -0 "$_an_pid" 2>/dev/null || return 0
	return 1
}

# tcp_established_to PORT [N]: 0 when at least N (default 1) TCP
# connections to 127.0.0.1:PORT (or [::1]:PORT) are established, seen from
# their clients' side (/proc/net: no tool needed). "A client is in the
# middle of talking to that server."
tcp_established_to() {
	awk -v p="$(printf '%04X' "$1")" -v want="${2:-1}" '
		$4 == "01" && substr($3, index($3, ":") + 1) == p { n++ }
		END { exit n >= want ? 0 : 1 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# lab_start FAKENET: certificates, servers on ephemeral loopback ports, and
# their ports in the environment (DNS_PORT, HTTP_PORT, TLS_*_PORT...).
lab_start() {
	LAB=$(mktemp -d "${TMPDIR:-/tmp}/wallwatch-lab.XXXXXX")
	trap lab_cleanup EXIT
	trap 'exit 130' INT TERM
	sh tests/fake/mkcerts.sh "$LAB" || { echo "mkcerts failed" >&2; exit 1; }
	# (--lifetime: only for a test killed before its cleanup; an hour, so
	# that no slow run outlives its servers)
	"$1" --dir "$LAB" --lifetime 3600 >"$LAB/fakenet.out" 2>"$LAB/fakenet.err" &
	LAB_PID=$!
	# "fakenet ready" comes after ports.env is complete.
	if ! wait_until 120 alive_and_not "$LAB_PID" \
		grep -q ready "$LAB/fakenet.out" ||
		! grep -q ready "$LAB/fakenet.out"; then
		echo "fakenet did not start:" >&2
		cat "$LAB/fakenet.err" >&2
		exit 1
	fi
	set -a
	. "$LAB/ports.env"
	set +a
}

# listening_port LOG: the port in the collector's last "listening on
# IP:PORT" line (IPv6 as [IP]:PORT), or nothing before there is one.
listening_port() {
	sed -n 's/.*listening on \(\[[^]]*\]\|[0-9.]*\):\([0-9][0-9]*\).*/\2/p' \
		"$1" 2>/dev/null | tail -n 1
}

# collector_up LOG COLLECTOR ARGS...: COLLECTOR --listen on port 0 of
# 127.0.0.1 (the kernel picks a free port: no race with anyone for it)
# with ARGS, its stderr in LOG; waits until it says where it listens.
# Sets PORT and COL_PID; exits the test when it cannot start.
# COLLECTOR_WAIT_TENTHS: the bound on that wait, in 0.1 s (at least and
# by default 1200: only a collector that cannot start reaches it).
collector_up() {
	_cu_log=$1
	shift
	_cu_tenths=${COLLECTOR_WAIT_TENTHS:-1200}
	[ "$_cu_tenths" -lt 1200 ] && _cu_tenths=1200
	: >"$_cu_log"
	"$@" --listen 127.0.0.1:0 2>"$_cu_log" &
	COL_PID=$!
	wait_until $((_cu_tenths / 10)) alive_and_not \
		"$COL_PID" grep -q 'listening on' "$_cu_log"
	PORT=$(listening_port "$_cu_log")
	[ -n "$PORT" ] && return 0
	kill "$COL_PID" 2>/dev/null
	wait "$COL_PID" 2>/dev/null
	COL_PID=
	echo "collector did not start:" >&2
	cat "$_cu_log" >&2
	exit 1
}

# lab_collector LOG COLLECTOR DB [ARGS...]: the full service (ingest, read
# API, control) on a loopback port of its own, on DB, with the tiny ASN table and
# the lab's resolver and CA; see collector_up.
lab_collector() {
	_lc_log=$1
	_lc_bin=$2
	_lc_db=$3
	shift 3
	collector_up "$_lc_log" "$_lc_bin" --db "$_lc_db" \
		--asn-db tests/data/asndb/tiny.tsv --allow-private \
		--resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" \
		--timeout 2 "$@"
}

# submit FILE [CURL ARGS...]: POST FILE to the collector on $PORT within
# SUBMIT_MAX_TIME seconds (default 20); sets CODE and OUT (the body).
submit() {
	_sb_f=$1
	shift
	CODE=$(curl -s -o "$LAB/resp" -w '%{http_code}' \
		--max-time "${SUBMIT_MAX_TIME:-20}" "$@" --data-binary "@$_sb_f" \
		"http://127.0.0.1:$PORT/api/v1/measurements")
	OUT=$(cat "$LAB/resp")
}

ok() {
	PASS=$((PASS + 1))
	echo "ok - $1"
}

not_ok() {
	FAIL=$((FAIL + 1))
	echo "not ok - $1"
	[ $# -gt 1 ] && printf '#   %s\n' "$2"
}

# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected [$2], got [$3]"
	fi
}

# check_match NAME REGEX ACTUAL
check_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		not_ok "$1" "expected match /$2/, got [$3]"
	fi
}

finish() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}
