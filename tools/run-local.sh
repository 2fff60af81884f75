#!/bin/sh
# run-local.sh BUILD [PROBE ARGS...] - `make run`: the whole system on one
# machine. Starts a collector (SQLite in the data directory, also serving
# the control API) on loopback, runs the probe once over the bundled test
# lists with that control and that collector, and keeps the collector
# running so that its web view can be opened; Ctrl-C stops it. The probe
# uploads through its spool, as a volunteer's does (docs/volunteer.md).
# When the run's measurements show that this machine has no usable network
# (offline_reason below), it says so instead of counting stored verdicts
# (tests/offline/run.sh).
#
# A control on the same machine sees the same network as the probe: inside
# a censored network it is censored too, and verdicts then say "not
# blocked". For real verdicts, run the control outside (README.md).
set -eu
BUILD=$1
shift
DATA=${WALLWATCH_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/wallwatch}
PORT=${WALLWATCH_PORT:-8080}
mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
DB=$DATA/collector.db
OUT=$DATA/measurements/run-$(date -u +%Y%m%dT%H%M%SZ).jsonl
mkdir -p "$DATA/measurements"

# One probe and its own collector: a single-probe deployment, whose one
# submitter may move states (docs/timelines.md, "Agreement"; the web view
# says so).
"$BUILD/wallwatch-collector" --listen "127.0.0.1:$PORT" --db "$DB" \
	--min-submitters 1 2>"$DATA/collector.log" &
COL=$!
trap 'kill "$COL" 2>/dev/null; wait "$COL" 2>/dev/null' EXIT
trap 'exit 130' INT TERM
i=0
until grep -q listening "$DATA/collector.log" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$COL" 2>/dev/null; then
		echo "run-local: the collector did not start:" >&2
		cat "$DATA/collector.log" >&2
		echo "(another one on port $PORT? set WALLWATCH_PORT)" >&2
		exit 2
	fi
	sleep 0.1
done

# The bundled lists need the volunteer's consent: asked on a terminal;
# `make run` without one (CI, a pipe) is itself the consent.
[ -t 0 ] || set -- --yes "$@"
# The probe uploads to the collector as it measures (a spool in $DATA).
"$BUILD/wallwatch-probe" run --control "http://127.0.0.1:$PORT" \
	--collector "http://127.0.0.1:$PORT" --state-dir "$DATA" \
	--output "$OUT" "$@" || echo "run-local: the probe exited with $?" >&2

# offline_reason FILE: why the run's measurements (JSON Lines) say that
# this machine had no usable network, or nothing when they do not: every
# verdict null because of the probe's own network (analysis reason
# probe_offline), a failed network check of --reference sites, or not one
# measurement that reached anything (a resolver's answer, a TCP connect, a
# TLS handshake, an HTTP response). Without network the local control
# fails too, and a run that says "down" 74 times is no news about the
# targets (issue 11, class 8).
offline_reason() {
	[ -s "$1" ] || return 0
	jq -rs '
def reached: .test_keys as $k
  | ([$k.queries[]? | select(.failure == null or
        (.failure | tostring | startswith("dns_")))] | length) > 0
    or ([$k.tcp_connect[]? | select(.status.success == true)] | length) > 0
    or ([$k.tls_handshakes[]? | select(.failure == null)] | length) > 0
    or ([$k.requests[]? | select(.response != null)] | length) > 0;
if all(.[]; .test_keys.blocking == null and
         .test_keys.analysis.reason? == "probe_offline")
then "every verdict says the probe'"'"'s own network was unusable"
elif any(.[]; .test_keys.network_check.ok? == false)
then "the reference sites (--reference) failed too"
elif all(.[]; reached | not)
then "not one of the \(length) measurements reached a resolver or a server"
else empty end' "$1" 2>/dev/null
}

WHY=$(offline_reason "$OUT")
if [ -n "$WHY" ]; then
	N=$(jq -s '[.[] | select(.test_keys.blocking != null)] | length' "$OUT")
	echo "run-local: this machine seems to be offline: $WHY."
	if [ "$N" -eq 0 ]; then
		echo "run-local: no verdict was stored as evidence about any target;" \
			"connect to a network and run again"
	else
		echo "run-local: the $N verdicts of this run say nothing about the" \
			"targets (no verdict is evidence when the machine is" \
			"offline); connect to a network and run again"
	fi
else
	"$BUILD/wallwatch-probe" status --state-dir "$DATA" --json >"$DATA/status.json" &&
		echo "run-local: $(jq '.counters.sent // 0' "$DATA/status.json") measurements stored in $DB, $(jq '.queue.measurements' "$DATA/status.json") still queued"
fi
echo "run-local: open http://127.0.0.1:$PORT/ for the web view (Ctrl-C stops the collector)"
wait "$COL"
