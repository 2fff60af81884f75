#!/bin/sh
# collector.sh BUILD - the collector's benchmark (issue #4), on loopback.
#
# BUILD holds wallwatch-probe, wallwatch-collector and fakenet. Real
# measurements come first: the probe measures 41 targets served by fakenet
# twice, through fakenet's resolver and through a dead one (which the
# collector's analysis makes DNS blocking), with a collector as control.
# bench/collector-gen.awk turns them into as many unique measurements as
# needed: a new uid each, start times over the last 300 days (each target's
# in time order), 25 networks in 5 countries, 41 x 25 = 1,025 targets.
#
# Each of REPS runs (default 3) measures, side by side, on fresh databases:
#   batch    N measurements (BENCH_N, default 50,000) POSTed as JSON Lines,
#            1,000 per POST, by one curl over one keep-alive connection,
#            one POST after the other (the collector's workers share each
#            batch; nothing overlaps between POSTs)
#   limit    the same rows, as the collector stored them (raw compressed),
#            inserted by the sqlite3 shell in ONE transaction into a database
#            with the collector's schema and PRAGMAs (WAL, synchronous=FULL)
#   single   one measurement per POST for BENCH_SINGLE_SECONDS (default 10)
#            with wrk (BENCH_CONNS keep-alive connections, default 16, on
#            BENCH_WRK_THREADS threads, default 1; bench/collector-post.lua
#            makes every body a new measurement); then again with
#            BENCH_CONNS2 connections (default 64): many probes at once
#            make larger groups per commit
# Then one collector is filled with BENCH_BIG measurements through the
# batch API (default 500,000, as 1,000,000 take ~8 minutes on 2 cores; the
# timeline goal is stated at BENCH_BIG=1000000), and the read API is timed
# over it: BENCH_READS (default 200) GETs each of /api/v1/timeline for
# random (input, cc, asn), /api/v1/targets and /api/v1/targets?cc=random, one
# after the other with one curl, once over one keep-alive connection and
# once with a new connection each. Peak RSS is the collector's VmHWM. Rates
# are medians of the runs; the table says which goals were met.
# Goals: batch ingest within 3x of the sqlite3 limit, >= 5,000 single
# POSTs/s, timeline p99 < 50 ms at 1,000,000 measurements.
set -u
BUILD=${1:-build}
PROBE=$BUILD/wallwatch-probe
COLLECTOR=$BUILD/wallwatch-collector
FAKENET=$BUILD/fakenet
N=${BENCH_N:-50000}
BIG=${BENCH_BIG:-500000}
REPS=${BENCH_REPS:-3}
SINGLE_S=${BENCH_SINGLE_SECONDS:-10}
CONNS=${BENCH_CONNS:-16}
CONNS2=${BENCH_CONNS2:-64}
WRK_T=${BENCH_WRK_THREADS:-1}
READS=${BENCH_READS:-200}
CHUNK=100000 # measurements generated at a time for the big fill

for f in "$PROBE" "$COLLECTOR" "$FAKENET"; do
	[ -x "$f" ] || { echo "bench: $f is missing (make all $FAKENET)" >&2; exit 1; }
done
for c in wrk sqlite3 jq curl; do
	command -v $c >/dev/null 2>&1 ||
		{ echo "bench: $c is missing (apt-get install $c)" >&2; exit 1; }
done

. tests/integration/lib.sh
lab_start "$FAKENET"
B=$LAB/bench
mkdir -p "$B"
COL_PID=
cleanup_all() {
	[ -n "$COL_PID" ] && kill -9 "$COL_PID" 2>/dev/null
	lab_cleanup
}
trap cleanup_all EXIT

die() {
	echo "bench: $*" >&2
	exit 1
}
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# start_collector DB [ARGS...]: a collector on a free loopback port, on a
# new or existing database; sets PORT and COL_PID.
start_collector() {
	db=$1
	shift
	# A big database takes a while to open: wait up to 10 s.
	# Everything comes from this script on loopback (one submitter,
	# which tiny.tsv maps elsewhere than the networks the measurements
	# claim): a single-probe deployment, so that states change and events
	# are written as the probes' would be (docs/timelines.md, "Agreement").
	# The rate limits and the per-source cap are off: this measures the
	# ingest and the store, and its one client is every probe at once.
	COLLECTOR_WAIT_TENTHS=100 collector_up "$B/col.err" "$COLLECTOR" \
		--db "$db" --asn-db tests/data/asndb/tiny.tsv \
		--min-submitters 1 --allow-geo-mismatch yes \
		--rate-batches 0 --rate-target 0 --rate-network-batches 0 \
		--rate-network-target 0 --max-per-source 1000000 "$@"
}

# stop_collector: SIGTERM (it finishes what is in flight); sets HWM (KiB),
# the peak RSS, and METRICS, its /metrics just before.
stop_collector() {
	METRICS=$(curl -s --max-time 30 "http://127.0.0.1:$PORT/metrics")
	HWM=$(awk '/^VmHWM:/ {print $2}' "/proc/$COL_PID/status")
	kill -TERM "$COL_PID"
	wait "$COL_PID"
	rc=$?
	COL_PID=
	[ $rc -eq 0 ] || die "collector exited with $rc"
}
# CPU seconds the collector has used so far
TCK=$(getconf CLK_TCK)
cpu() { awk -v t="$TCK" '{print ($14 + $15) / t}' "/proc/$COL_PID/stat"; }
metric() { printf '%s\n' "$METRICS" | awk -v k="$1" '$1 == k {print $2}'; }

# check_stored DB WANT WHAT: the store holds WANT measurements, none came
# twice and none was refused.
check_stored() {
	got=$(sqlite3 "$1" 'SELECT count(*) FROM measurements')
	dup=$(metric 'wallwatch_ingest_measurements_total{outcome="duplicate"}')
	rej=$(metric 'wallwatch_ingest_measurements_total{outcome="rejected"}')
	[ "$got" = "$2" ] && [ "$dup" = 0 ] && [ "$rej" = 0 ] ||
		die "$3: stored $got of $2 ($dup duplicates, $rej refused)"
}

# --- real measurements -------------------------------------------------------
echo "bench: measuring 41 targets with the probe (fakenet, collector as control)"
start_collector "$B/control.db" --allow-private --resolver "127.0.0.1:$DNS_PORT" \
	--ca-file "$LAB/ca.pem" --timeout 2
set --
for i in 0 1 2 3 4 5 6 7 8 9; do
	set -- "$@" --input "https://good.lab.test:$TLS_GOOD_PORT/p$i" \
		--input "http://good.lab.test:$HTTP_PORT/p$i" \
		--input "http://nx.lab.test:$HTTP_PORT/p$i" \
		--input "https://blocked.lab.test:$TLS_SNI_PORT/p$i"
done
set -- "$@" --input "tcp://good.lab.test:$TCP_OPEN_PORT"
# variant 0 through fakenet's resolver, 1 through a dead one (UDP port 9)
v=0
for res in "127.0.0.1:$DNS_PORT" 127.0.0.1:9; do
	"$PROBE" run "$@" --resolver "$res" --ca-file "$LAB/ca.pem" \
		--timeout 2 --quiet --output "$B/m$v.jsonl" \
		--control "http://127.0.0.1:$PORT" || die "probe failed"
	[ "$(wc -l <"$B/m$v.jsonl")" -eq 41 ] || die "probe: not 41 measurements"
	v=$((v + 1))
done
stop_collector
# TEMPLATES: "input index TAB variant TAB json", the envelope as @@NAME@@.
jq -r .input "$B/m0.jsonl" | sort >"$B/inputs"
for v in 0 1; do
	jq -r .input "$B/m$v.jsonl" >"$B/in$v"
	jq -c '.measurement_uid = "@@UID@@" | .measurement_start_time = "@@TIME@@"
		| .test_start_time = "@@TIME@@" | .probe_cc = "@@CC@@"
		| .probe_asn = "@@ASN@@"' "$B/m$v.jsonl" >"$B/j$v"
	paste "$B/in$v" "$B/j$v" | awk -F '\t' -v v=$v '
		NR == FNR { idx[$0] = NR - 1; next }
		{ print idx[$1] "\t" v "\t" $2 }' "$B/inputs" - 
done >"$B/templates"
[ "$(awk -F '@@' 'NF != 11' "$B/templates" | wc -l)" -eq 0 ] ||
	die "a template has @@ of its own"
TPL=$B/templates
awk -F '\t' '{n++; s += length($3)} END {
	printf "bench: %d templates, %.0f bytes each on average\n", n, s / n }' "$TPL"

T1=$(date +%s)
T0=$((T1 - 300 * 86400))
T1=$((T1 - 3600))
# gen N FIRST TOTAL TAG >FILE
gen() {
	awk -v n="$1" -v first="$2" -v total="$3" -v tag="$4" -v t0=$T0 \
		-v t1=$T1 -f bench/collector-gen.awk "$TPL"
}

# post_batches FILE: POST FILE, 1,000 lines at a time, one POST after the
# other over one connection; sets SECS (wall time of the POSTs only).
post_batches() {
	rm -rf "$B/batches"
	mkdir "$B/batches"
	split -l 1000 -a 5 "$1" "$B/batches/b"
	sep=
	for f in "$B"/batches/b*; do
		printf '%s' "$sep"
		sep='next
'
		printf 'url = "http://127.0.0.1:%s/api/v1/measurements"\n' "$PORT"
		printf 'data-binary = "@%s"\nheader = "Expect:"\n' "$f"
		printf 'header = "Content-Type: application/x-ndjson"\n'
		printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n'
		printf 'silent\n'
	done >"$B/post.cfg"
	nb=$(ls "$B/batches" | wc -l)
	sync
	s0=$(now)
	curl -s --max-time 3600 -K "$B/post.cfg" >"$B/post.codes"
	s1=$(now)
	SECS=$(echo "$s1 $s0" | awk '{print $1 - $2}')
	[ "$(grep -c '^200$' "$B/post.codes")" -eq "$nb" ] ||
		die "batch POSTs: $(sort "$B/post.codes" | uniq -c | tr '\n' ' ')"
	rm -rf "$B/batches"
}

COLS="uid, raw, raw_len, input, test_name, category_code, probe_cc, probe_asn,
 observed_cc, observed_asn, geo_mismatch, start_time, received_time, blocking,
 accessible, blocking_detail, confirmed, analysis_version, analysis_reason"
QCOLS=$(echo "$COLS" | tr -d '\n ' | awk -F, -v q="'" '{
	for (i = 1; i <= NF; i++)
		printf "%squote(%s)", (i > 1 ? " || " q "," q " || " : ""), $i }')

# single_run CONNS NAME TAG: one measurement per POST with wrk over CONNS
# keep-alive connections, on a fresh database; appends the rate, CPU per
# POST, p50/p99 and peak RSS to $B/NAME.*; sets got and sent.
single_run() {
	rm -f "$B"/run.db*
	start_collector "$B/run.db"
	c0=$(cpu)
	WRK_THREADS=$WRK_T wrk -t "$WRK_T" -c "$1" -d "${SINGLE_S}s" \
		--latency -s bench/collector-post.lua \
		"http://127.0.0.1:$PORT/api/v1/measurements" -- "$TPL" "$3" \
		"$T0" >"$B/wrk.out" 2>&1 || { cat "$B/wrk.out" >&2; die "wrk failed"; }
	c1=$(cpu)
	stop_collector
	done_n=$(awk '/requests in/ {print $1}' "$B/wrk.out")
	sent=$(awk '/^sent / {print $2}' "$B/wrk.out")
	got=$(sqlite3 "$B/run.db" 'SELECT count(*) FROM measurements')
	if grep -q 'Non-2xx' "$B/wrk.out" || [ "$got" -lt "$done_n" ] ||
		[ "$got" -gt "$sent" ] ||
		[ "$got" != "$(metric 'wallwatch_ingest_measurements_total{outcome="stored"}')" ] ||
		[ "$(metric 'wallwatch_ingest_measurements_total{outcome="duplicate"}')" != 0 ]; then
		cat "$B/wrk.out" >&2
		die "$2 run $r: $done_n answered, $got stored, $sent sent"
	fi
	grep -q 'Socket errors' "$B/wrk.out" &&
		echo "bench: warning: wrk: $(grep 'Socket errors' "$B/wrk.out")" >&2
	awk '/^Requests\/sec:/ {print $2}' "$B/wrk.out" >>"$B/$2.rate"
	echo "$c1 $c0 $got" | awk '{print ($1 - $2) / $3 * 1000}' >>"$B/$2.cpu"
	# wrk prints latencies as 1.23ms, 456.78us or 1.02s
	awk '$1 == "50%" || $1 == "99%" {
		v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		f = (u == "us") ? 0.001 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1
		printf "%s ", v * f }
		END { print "" }' "$B/wrk.out" >>"$B/$2.lat"
	echo "$HWM" >>"$B/$2.hwm"
	echo "$(metric wallwatch_ingest_committed_lines_total) $(metric wallwatch_ingest_commits_total)" |
		awk '{print $1 / $2}' >>"$B/$2.group"
}

echo "bench: $REPS runs of $N batch measurements, $N sqlite3 rows and" \
	"${SINGLE_S}s of single POSTs; then $BIG for the read API"
r=1
while [ $r -le "$REPS" ]; do
	# batch ingest
	gen "$N" 0 "$N" "b$r" >"$B/batch.jsonl"
	rm -f "$B"/run.db*
	start_collector "$B/run.db"
	c0=$(cpu)
	post_batches "$B/batch.jsonl"
	c1=$(cpu)
	stop_collector
	echo "$c1 $c0 $N" | awk '{print ($1 - $2) / $3 * 1000}' >>"$B/batch.cpu"
	check_stored "$B/run.db" "$N" "batch run $r"
	echo "$N $SECS" | awk '{print $1 / $2}' >>"$B/batch.rate"
	echo "$HWM" >>"$B/batch.hwm"
	rm -f "$B/batch.jsonl"

	# the limit: the same rows, as stored, in one sqlite3 transaction
	[ -f "$B/schema.sql" ] || sqlite3 "$B/run.db" .schema >"$B/schema.sql"
	{
		echo "PRAGMA journal_mode = WAL;"
		echo "PRAGMA synchronous = FULL;"
		echo "PRAGMA cache_size = -65536;"
		echo "PRAGMA foreign_keys = ON;"
		echo "BEGIN;"
		sqlite3 "$B/run.db" "SELECT 'INSERT INTO measurements ($(echo "$COLS" | tr -d '\n')) VALUES (' || $QCOLS || ');' FROM measurements ORDER BY id"
		echo "COMMIT;"
	} >"$B/limit.sql"
	rm -f "$B"/run.db* "$B"/limit.db*
	sqlite3 "$B/limit.db" 'PRAGMA journal_mode = WAL' >/dev/null
	sqlite3 "$B/limit.db" <"$B/schema.sql"
	sync
	s0=$(now)
	sqlite3 "$B/limit.db" <"$B/limit.sql" >/dev/null || die "sqlite3 failed"
	s1=$(now)
	got=$(sqlite3 "$B/limit.db" 'SELECT count(*) FROM measurements')
	[ "$got" = "$N" ] || die "limit: $got rows of $N"
	echo "$N $s1 $s0" | awk '{print $1 / ($2 - $3)}' >>"$B/limit.rate"
	rm -f "$B"/limit.db* "$B/limit.sql"

	# single POSTs over keep-alive, with CONNS and with CONNS2 connections
	single_run "$CONNS" single "s$r"
	single_run "$CONNS2" single2 "t$r"
	rm -f "$B"/run.db*
	printf 'run %d: batch %.0f/s, sqlite3 %.0f rows/s, single %.0f/s (%d conns), %.0f/s (%d conns)\n' \
		$r "$(tail -n 1 "$B/batch.rate")" "$(tail -n 1 "$B/limit.rate")" \
		"$(tail -n 1 "$B/single.rate")" "$CONNS" \
		"$(tail -n 1 "$B/single2.rate")" "$CONNS2"
	r=$((r + 1))
done

# The disk's synchronous write rate in the same file system: a ceiling for
# one commit (one WAL fdatasync at least) per POST.
dd if=/dev/zero of="$B/dsync" bs=4k count=1000 oflag=dsync 2>"$B/dd.err" ||
	die "dd: $(cat "$B/dd.err")"
dsync=$(awk '/copied/ {for (i = 1; i <= NF; i++) if ($i == "s,") print 1000 / $(i - 1)}' "$B/dd.err")
rm -f "$B/dsync"

# --- the big store and the read API ------------------------------------------
rm -f "$B"/big.db*
start_collector "$B/big.db"
done_big=0
fill=0
while [ $done_big -lt "$BIG" ]; do
	c=$CHUNK
	[ $((BIG - done_big)) -lt $c ] && c=$((BIG - done_big))
	gen "$c" "$done_big" "$BIG" big >"$B/chunk.jsonl"
	post_batches "$B/chunk.jsonl"
	fill=$(echo "$fill $SECS" | awk '{print $1 + $2}')
	done_big=$((done_big + c))
	printf 'fill: %d stored, %.0f/s for these %d, %.0f/s so far\n' \
		$done_big "$(echo "$c $SECS" | awk '{print $1 / $2}')" $c \
		"$(echo "$done_big $fill" | awk '{print $1 / $2}')"
done
rm -f "$B/chunk.jsonl"
got=$(sqlite3 "$B/big.db" 'SELECT count(*) FROM measurements')
[ "$got" = "$BIG" ] || die "big fill: $got of $BIG stored"
ntargets=$(sqlite3 "$B/big.db" 'SELECT count(*) FROM target_state')
nevents=$(sqlite3 "$B/big.db" 'SELECT count(*) FROM events')
dbsize=$(du -k "$B/big.db" | awk '{printf "%.0f", $1 / 1024}')

API="http://127.0.0.1:$PORT/api/v1"
# reads NAME MODE: GET every url of $B/NAME.urls in turn with one curl, over
# one keep-alive connection (MODE ka) or a new connection each (MODE new:
# "Connection: close"); writes "p50 p99 max" (ms) to $B/NAME.MODE.
reads() {
	hdr=
	[ "$2" = new ] && hdr='header = "Connection: close"'
	awk -v h="$hdr" '{printf "url = \"%s\"\noutput = \"/dev/null\"\n%s\n", $0, h}' \
		"$B/$1.urls" >"$B/$1.cfg"
	curl -s --max-time 600 -K "$B/$1.cfg" \
		-w '%{http_code} %{time_total} %{num_connects}\n' >"$B/$1.t"
	[ "$(grep -c '^200 ' "$B/$1.t")" -eq "$READS" ] ||
		die "$1: $(cut -d' ' -f1 "$B/$1.t" | sort | uniq -c | tr '\n' ' ')"
	conns=$(awk '{n += $3} END {print n}' "$B/$1.t")
	want=1
	[ "$2" = new ] && want=$READS
	[ "$conns" -eq "$want" ] ||
		die "$1 $2: $conns connections for $READS requests"
	awk '{print $2 * 1000}' "$B/$1.t" | sort -g | awk -v n="$READS" '
		{a[NR] = $1} END {
		p50 = a[int((n + 1) / 2)]; i99 = int(n * 0.99 + 0.999)
		if (i99 > n) i99 = n
		printf "%.2f %.2f %.2f\n", p50, a[i99], a[n] }' >"$B/$1.$2"
}
sqlite3 -separator ' ' "$B/big.db" "SELECT input, probe_cc, probe_asn FROM
	target_state ORDER BY random() LIMIT $READS" |
	jq -R -r --arg api "$API" 'split(" ") |
		"\($api)/timeline?input=\(.[0] | @uri)&cc=\(.[1])&asn=\(.[2])"' \
	>"$B/timeline.urls"
[ "$(wc -l <"$B/timeline.urls")" -eq "$READS" ] || die "not $READS targets"
awk -v n="$READS" -v u="$API/targets" 'BEGIN {
	for (i = 0; i < n; i++) print u }' >"$B/targets.urls"
awk -v n="$READS" -v api="$API" 'BEGIN { srand(); split("CN IR RU TR MM", c, " ")
	for (i = 0; i < n; i++) print api "/targets?cc=" c[int(rand() * 5) + 1] }' \
	>"$B/targets_cc.urls"
# what the answers hold
curl -s "$(head -n 1 "$B/timeline.urls")" >"$B/a.json"
buckets=$(jq '.buckets | length' "$B/a.json")
tlsize=$(wc -c <"$B/a.json")
curl -s "$API/targets" >"$B/a.json"
ntl=$(jq '.targets | length' "$B/a.json")
tgsize=$(wc -c <"$B/a.json")
for q in timeline targets targets_cc; do
	reads $q ka
	reads $q new
done
stop_collector
big_hwm=$HWM
check_stored "$B/big.db" "$BIG" "big fill"

# --- figures -------------------------------------------------------------------
batch=$(median <"$B/batch.rate")
limit=$(median <"$B/limit.rate")
single=$(median <"$B/single.rate")
single2=$(median <"$B/single2.rate")
s2_50=$(awk '{print $1}' "$B/single2.lat" | median)
s2_99=$(awk '{print $2}' "$B/single2.lat" | median)
scpu2=$(median <"$B/single2.cpu")
sgroup=$(median <"$B/single.group")
sgroup2=$(median <"$B/single2.group")
s50=$(awk '{print $1}' "$B/single.lat" | median)
s99=$(awk '{print $2}' "$B/single.lat" | median)
bcpu=$(median <"$B/batch.cpu")
scpu=$(median <"$B/single.cpu")
bhwm=$(median <"$B/batch.hwm")
shwm=$(median <"$B/single.hwm")
filled=$(echo "$BIG $fill" | awk '{print $1 / $2}')
ratio=$(echo "$limit $batch" | awk '{print $1 / $2}')
verdict() { awk "BEGIN { print (($1) ? \"met\" : \"missed\") }"; }
row() { printf '%-46s %12s  %-12s %s\n' "$@"; }
f() { awk -v v="$2" "BEGIN { printf \"$1\", v }"; }
lat() { # NAME MODE LABEL [GOAL]
	read -r p50 p99 _ <"$B/$1.$2"
	row "$3 p50" "$(f %.2f "$p50") ms"
	if [ $# -gt 3 ]; then
		row "$3 p99" "$(f %.2f "$p99") ms" "< 50 ms" \
			"$(verdict "$p99 < 50")"
	else
		row "$3 p99" "$(f %.2f "$p99") ms"
	fi
}

echo
echo "collector on loopback, $(nproc) cores; rates: medians of $REPS runs" \
	"(side by side in each run)"
row "what" "figure" "goal" ""
row "single POSTs, keep-alive (wrk, $CONNS conns)" "$(f %.0f "$single") /s" \
	">= 5000 /s" "$(verdict "$single >= 5000")"
row "  latency p50 / p99" "$(f %.1f "$s50") / $(f %.1f "$s99") ms"
row "  collector CPU per POST" "$(f %.3f "$scpu") ms"
row "  POSTs per commit (group commit)" "$(f %.1f "$sgroup")"
row "single POSTs, keep-alive (wrk, $CONNS2 conns)" "$(f %.0f "$single2") /s" \
	">= 5000 /s" "$(verdict "$single2 >= 5000")"
row "  latency p50 / p99" "$(f %.1f "$s2_50") / $(f %.1f "$s2_99") ms"
row "  collector CPU per POST" "$(f %.3f "$scpu2") ms"
row "  POSTs per commit (group commit)" "$(f %.1f "$sgroup2")"
row "  disk: 4 KiB O_DSYNC writes (dd), ceiling" "$(f %.0f "$dsync") /s"
row "batch ingest, 1,000 per POST ($N)" "$(f %.0f "$batch") /s"
row "  collector CPU per measurement" "$(f %.3f "$bcpu") ms"
row "sqlite3 shell, same rows, 1 transaction" "$(f %.0f "$limit") /s"
row "sqlite3 limit / batch ingest" "$(f %.2f "$ratio") x" "<= 3 x" \
	"$(verdict "$ratio <= 3")"
row "batch ingest, filling to $BIG (1 run)" "$(f %.0f "$filled") /s"
lat timeline ka "timeline, keep-alive," goal
lat timeline new "timeline, new connection each," goal
lat targets ka "targets ($ntl rows), keep-alive,"
lat targets new "targets, new connection each,"
lat targets_cc ka "targets?cc=, keep-alive,"
lat targets_cc new "targets?cc=, new connection each,"
row "peak RSS (VmHWM), batch run" "$(echo "$bhwm" | awk '{printf "%.1f", $1 / 1024}') MiB"
row "peak RSS, single POST run" "$(echo "$shwm" | awk '{printf "%.1f", $1 / 1024}') MiB"
row "peak RSS, $BIG fill + reads" "$(echo "$big_hwm" | awk '{printf "%.1f", $1 / 1024}') MiB"
echo
echo "reads over $BIG stored measurements ($ntargets targets, $nevents events," \
	"$dbsize MiB): $READS GETs each, one after the other; a timeline answer" \
	"has ~$buckets daily buckets ($tlsize bytes), targets $tgsize bytes;" \
	"slowest: timeline $(cut -d' ' -f3 "$B/timeline.ka")/$(cut -d' ' -f3 "$B/timeline.new") ms" \
	"(keep-alive/new)"
echo "per run: single $(awk '{printf "%.0f ", $1}' "$B/single.rate")/s;" \
	"single ($CONNS2 conns) $(awk '{printf "%.0f ", $1}' "$B/single2.rate")/s;" \
	"batch $(awk '{printf "%.0f ", $1}' "$B/batch.rate")/s;" \
	"sqlite3 $(awk '{printf "%.0f ", $1}' "$B/limit.rate")/s"
