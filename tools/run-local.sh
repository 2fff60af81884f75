#!/bin/sh
# run-local.sh BUILD [PROBE ARGS...] - `make run`: the whole system on one
# machine. Starts a collector (SQLite in the data directory, also serving
# the control API) on loopback, runs the probe once over the bundled test
# lists with that control and that collector, and keeps the collector
# running so that its web view can be opened; Ctrl-C stops it. The probe
# uploads through its spool, as a volunteer's does (docs/volunteer.md).
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

"$BUILD/wallwatch-collector" --listen "127.0.0.1:$PORT" --db "$DB" \
	2>"$DATA/collector.log" &
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
"$BUILD/wallwatch-probe" status --state-dir "$DATA" --json >"$DATA/status.json" &&
	echo "run-local: $(jq '.counters.sent // 0' "$DATA/status.json") measurements stored in $DB, $(jq '.queue.measurements' "$DATA/status.json") still queued"
echo "run-local: open http://127.0.0.1:$PORT/ for the web view (Ctrl-C stops the collector)"
wait "$COL"
