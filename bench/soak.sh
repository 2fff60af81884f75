#!/bin/sh
# soak.sh BUILD [SECONDS] - the collector under attack for a while
# (issue #12), on loopback. `make soak` runs it for 10 minutes.
#
# At once, for SECONDS (default SOAK_SECONDS, else 600):
#   probes     SOAK_PROBES real wallwatch-probe daemons (default 3), each
#              with a state directory (and key) of its own, measuring
#              fakenet targets every few seconds with the collector as
#              control, uploading signed batches
#   reader     GETs of the read API and the export, one after the other
#   slowloris  slow-header and slow-body connections from other loopback
#              addresses, more than --max-connections
#   poisoner   unsigned POSTs of forged "blocked" measurements of the
#              probes' targets (copies of a real measurement made through
#              a dead resolver, each with a new uid), as fast as answered
# Then everything stops and the soak checks:
#   - nothing acknowledged is lost: every uid the poisoner's answers say
#     was stored is in the database; each probe's key has at least as many
#     rows as its log says were stored, and its spool is empty after a
#     last upload;
#   - the honest probes' targets are still "accessible": the forgeries
#     of one submitter did not move them;
#   - every request of the reader was answered (no 5xx, no dropped
#     connection);
#   - RSS stays flat: the collector's resident memory, sampled every 10 s,
#     is no higher in the second half than 1.25 x the first half's peak
#     (after a minute of warm-up) + 4 MiB.
# The figures (RSS samples, counts, the reader's latencies) are printed.
set -u
BUILD=${1:-build}
SECS=${2:-${SOAK_SECONDS:-600}}
NPROBES=${SOAK_PROBES:-3}
PROBE=$BUILD/wallwatch-probe
COLLECTOR=$BUILD/wallwatch-collector
FAKENET=$BUILD/fakenet
SLOW=$BUILD/slowhttp
MAXCONN=64

for f in "$PROBE" "$COLLECTOR" "$FAKENET" "$SLOW"; do
	[ -x "$f" ] || { echo "soak: $f is missing (make all)" >&2; exit 1; }
done
for c in sqlite3 jq curl; do
	command -v $c >/dev/null 2>&1 ||
		{ echo "soak: $c is missing (apt-get install $c)" >&2; exit 1; }
done

. tests/integration/lib.sh
lab_start "$FAKENET"
S=$LAB/soak
mkdir -p "$S"
COL_PID=
BG=
cleanup_all() {
	for p in $BG; do kill "$p" 2>/dev/null; done
	for p in $BG; do wait "$p" 2>/dev/null; done
	[ -n "$COL_PID" ] && kill -9 "$COL_PID" 2>/dev/null
	lab_cleanup
}
trap cleanup_all EXIT
die() {
	echo "soak: FAIL: $*" >&2
	exit 1
}

# (--rate-target: the probes measure every 20 s, 180 an hour per target,
# more than a real probe would; the poisoner is held to the same.)
lab_collector "$S/col.err" "$COLLECTOR" "$S/col.db" \
	--max-connections "$MAXCONN" --rate-target 200/3600
URL=http://127.0.0.1:$PORT
echo "soak: collector on port $PORT (pid $COL_PID), $SECS s, $NPROBES probes"

T1=http://good.lab.test:$HTTP_PORT/soak
T2=https://good.lab.test:$TLS_GOOD_PORT/soak

# The poisoner's template: a real measurement of T1 through a resolver
# that answers nothing (the analysis makes it DNS blocking), claimed from
# the probes' network.
"$PROBE" run --input "$T1" --resolver 127.0.0.1:1 --timeout 1 \
	--control "$URL" --ca-file "$LAB/ca.pem" --probe-cc DE \
	--probe-asn AS64500 --state-dir "$S/forger" --output "$S/forged.json" \
	--quiet </dev/null 2>"$S/forger.err" ||
	die "the forger's run failed: $(cat "$S/forger.err")"
[ "$(jq -r .test_keys.blocking "$S/forged.json")" = dns ] ||
	die "the template is not DNS blocking: $(jq -c .test_keys "$S/forged.json")"

# --- probes ------------------------------------------------------------------
i=0
while [ $i -lt "$NPROBES" ]; do
	"$PROBE" daemon --state-dir "$S/p$i" --collector "$URL" \
		--control "$URL" --interval 20 --cooldown 0 --retry-quick 1 \
		--resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" \
		--timeout 2 --probe-cc DE --probe-asn AS64500 --yes \
		--input "$T1" --input "$T2" >/dev/null 2>"$S/p$i.err" </dev/null &
	BG="$BG $!"
	i=$((i + 1))
done

# --- reader --------------------------------------------------------------------
reader() {
	while :; do
		for q in "/api/v1/targets" \
			"/api/v1/timeline?input=$(jq -rn --arg u "$T1" '$u|@uri')" \
			"/api/v1/events" "/api/v1/export?format=csv&since=2000-01-01" \
			"/healthz"; do
			curl -s -o /dev/null --max-time 30 \
				-w '%{http_code} %{time_total}\n' "$URL$q" ||
				echo "000 -"
		done
	done
}
reader >"$S/reader.log" 2>/dev/null &
BG="$BG $!"

# --- slowloris ------------------------------------------------------------------
# Each address at the per-source cap (64 by default): 2 x 3 x 40 = 240
# slow connections against MAXCONN slots, reopened as the server closes
# them.
for a in 2 3 4; do
	"$SLOW" hold --port "$PORT" --bind "127.0.1.$a" --conns 40 \
		--mode head --every 1 >"$S/slow-h$a.log" 2>&1 &
	BG="$BG $!"
	"$SLOW" hold --port "$PORT" --bind "127.0.2.$a" --conns 40 \
		--mode body --every 1 >"$S/slow-b$a.log" 2>&1 &
	BG="$BG $!"
done

# --- poisoner --------------------------------------------------------------------
poisoner() {
	n=0
	while :; do
		n=$((n + 1))
		now=$(date -u '+%Y-%m-%d %H:%M:%S')
		jq -c --arg u "forged-$n-$$" --arg t "$now" \
			'.measurement_uid = $u | .measurement_start_time = $t' \
			"$S/forged.json" >"$S/forged.$n.json"
		curl -s --max-time 30 -w '\n%{http_code}\n' \
			--data-binary "@$S/forged.$n.json" \
			"$URL/api/v1/measurements" || echo "000"
		rm -f "$S/forged.$n.json"
	done
}
poisoner >"$S/poison.log" 2>/dev/null &
POISON=$!
BG="$BG $POISON"

# --- RSS samples ------------------------------------------------------------------
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$COL_PID/status"; }
: >"$S/rss"
t=0
while [ $t -lt "$SECS" ]; do
	sleep 10
	t=$((t + 10))
	kill -0 "$COL_PID" 2>/dev/null || die "the collector died: $(tail -5 "$S/col.err")"
	echo "$t $(rss)" >>"$S/rss"
done

# --- stop: the attackers and the reader at once, the probes by SIGTERM
# (a daemon finishes its upload round first) ---------------------------------------
for p in $BG; do kill "$p" 2>/dev/null; done
for p in $BG; do wait "$p" 2>/dev/null; done
BG=
# Whatever a probe still holds is uploaded now, so that its log is final.
i=0
while [ $i -lt "$NPROBES" ]; do
	"$PROBE" upload --state-dir "$S/p$i" --collector "$URL" \
		--quiet </dev/null 2>>"$S/p$i.err"
	i=$((i + 1))
done

# --- checks -----------------------------------------------------------------------
fails=0
bad() {
	echo "soak: FAIL: $*"
	fails=$((fails + 1))
}

# Nothing acknowledged is lost. The poisoner's acknowledged uids are each
# looked up; a probe logs only counts, so its key must have at least as
# many rows as its log says were stored, and its spool must be empty
# after the last upload. (The database may hold more than was
# acknowledged: a POST whose answer was cut off by the end of the soak.)
grep '^{' "$S/poison.log" | jq -r '.stored[]?' >"$S/poison.acked"
poison_stored=$(wc -l <"$S/poison.acked")
poison_answers=$(grep -c '^[0-9][0-9][0-9]$' "$S/poison.log")
poison_in_db=$(sed "s/.*/'&'/" "$S/poison.acked" | paste -sd, - |
	sed 's/^/SELECT count(*) FROM measurements WHERE uid IN (/; s/$/);/' |
	sqlite3 "$S/col.db")
[ "$poison_stored" -eq 0 ] && poison_in_db=0
echo "soak: poisoner: $poison_answers answers, $poison_stored acknowledged," \
	"$poison_in_db of them in the database"
[ "$poison_in_db" -eq "$poison_stored" ] ||
	bad "the poisoner's acknowledged: $poison_stored, in the database: $poison_in_db"
i=0
while [ $i -lt "$NPROBES" ]; do
	"$PROBE" status --json --state-dir "$S/p$i" >"$S/p$i.status" 2>/dev/null
	key=$(jq -r .submitter_key "$S/p$i.status")
	left=$(jq -r .queue.measurements "$S/p$i.status")
	acked=$(sed -n 's/.*: \([0-9][0-9]*\) stored, .*/\1/p' "$S/p$i.err" |
		awk '{s += $1} END {print s + 0}')
	rows=$(sqlite3 "$S/col.db" "SELECT count(*) FROM measurements WHERE submitter = 'key:$key'")
	echo "soak: probe $i (key $key): $acked acknowledged, $rows in the database, $left left in its spool"
	[ "$rows" -ge "$acked" ] || bad "probe $i: $acked acknowledged, $rows stored"
	[ "$left" = 0 ] || bad "probe $i: $left measurements left in its spool"
	[ "$acked" -gt 0 ] || bad "probe $i: nothing stored"
	i=$((i + 1))
done
echo "soak: database: $(sqlite3 "$S/col.db" 'SELECT count(*) FROM measurements') measurements"

for t in "$T1" "$T2"; do
	st=$(sqlite3 "$S/col.db" "SELECT state FROM target_state WHERE input = '$t'")
	echo "soak: $t: $st"
	[ "$st" = accessible ] || bad "$t is '$st', not accessible"
done
echo "soak: submitters: $(sqlite3 "$S/col.db" "SELECT count(DISTINCT submitter) FROM measurements WHERE submitter LIKE 'key:%'") keys," \
	"$(sqlite3 "$S/col.db" "SELECT count(DISTINCT submitter) FROM measurements WHERE submitter LIKE 'anon:%'") anonymous"

reads=$(wc -l <"$S/reader.log")
rfail=$(awk '$1 !~ /^[23]/' "$S/reader.log" | wc -l)
echo "soak: reader: $reads requests, $rfail not answered 2xx/3xx;" \
	"latency p50 $(awk '$2 != "-" {print $2}' "$S/reader.log" | sort -g |
		awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') s," \
	"p99 $(awk '$2 != "-" {print $2}' "$S/reader.log" | sort -g |
		awk '{a[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; print a[i]}') s"
[ "$reads" -gt 0 ] || bad "the reader made no request"
# The last line may be cut by the reader's kill: not counted.
[ "$(head -n $((reads - 1)) "$S/reader.log" | awk '$1 !~ /^[23]/' | wc -l)" -eq 0 ] ||
	bad "the reader was refused or dropped: $(awk '$1 !~ /^[23]/' "$S/reader.log" | sort | uniq -c | head -5)"

echo "soak: RSS (s KiB): $(tr '\n' ' ' <"$S/rss")"
half=$((SECS / 2))
awk -v h="$half" '
	$1 > 60 && $1 <= h && $2 > p1 { p1 = $2 }
	$1 > h && $2 > p2 { p2 = $2 }
	END {
		printf "soak: RSS peak first half %d KiB, second half %d KiB\n", p1, p2
		exit (p1 > 0 && p2 > p1 * 1.25 + 4096) ? 1 : 0
	}' "$S/rss" || bad "RSS grew"

echo "soak: slowloris: $(grep -h '^hold:' "$S"/slow-*.log | tr '\n' ' ')"
grep -c 'EMFILE\|ENFILE' "$S/col.err" | sed 's/^/soak: descriptor-exhaustion log lines: /'

[ $fails -eq 0 ] || exit 1
echo "soak: passed"
