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

# lab_start FAKENET: certificates, servers on ephemeral loopback ports, and
# their ports in the environment (DNS_PORT, HTTP_PORT, TLS_*_PORT...).
lab_start() {
	LAB=$(mktemp -d "${TMPDIR:-/tmp}/wallwatch-lab.XXXXXX")
	trap lab_cleanup EXIT
	trap 'exit 130' INT TERM
	sh tests/fake/mkcerts.sh "$LAB" || { echo "mkcerts failed" >&2; exit 1; }
	"$1" --dir "$LAB" --lifetime 600 >"$LAB/fakenet.out" 2>"$LAB/fakenet.err" &
	LAB_PID=$!
	i=0
	while ! grep -q ready "$LAB/fakenet.out" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$LAB_PID" 2>/dev/null; then
			echo "fakenet did not start:" >&2
			cat "$LAB/fakenet.err" >&2
			exit 1
		fi
		sleep 0.1
	done
	set -a
	. "$LAB/ports.env"
	set +a
}

# collector_up LOG COLLECTOR ARGS...: COLLECTOR --listen on a free loopback
# port with ARGS, its stderr in LOG; waits until it says it is listening.
# Sets PORT and COL_PID; exits the test when it cannot start.
# COLLECTOR_WAIT_TENTHS: how long to wait for it, in 0.1 s (default 50).
collector_up() {
	_cu_log=$1
	shift
	_cu_tries=0
	while [ $_cu_tries -lt 20 ]; do
		_cu_tries=$((_cu_tries + 1))
		PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		: >"$_cu_log"
		"$@" --listen "127.0.0.1:$PORT" 2>"$_cu_log" &
		COL_PID=$!
		_cu_i=0
		while [ $_cu_i -lt "${COLLECTOR_WAIT_TENTHS:-50}" ]; do
			grep -q listening "$_cu_log" 2>/dev/null && return 0
			kill -0 "$COL_PID" 2>/dev/null || break
			sleep 0.1
			_cu_i=$((_cu_i + 1))
		done
		kill "$COL_PID" 2>/dev/null
		wait "$COL_PID" 2>/dev/null
		COL_PID=
	done
	echo "collector did not start:" >&2
	cat "$_cu_log" >&2
	exit 1
}

# lab_collector LOG COLLECTOR DB [ARGS...]: the full service (ingest, read
# API, control) on a free loopback port, on DB, with the tiny ASN table and
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
