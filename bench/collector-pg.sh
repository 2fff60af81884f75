#!/bin/sh
# collector-pg.sh BUILD - the collector on PostgreSQL (issue 14), on loopback,
# in one run. A throwaway PostgreSQL 15 cluster (tests/pg/pgtmp.sh, then
# restarted durable: fsync, synchronous_commit and full_page_writes on, as
# a deployment runs it) on the same machine as the collectors and the load.
#
#   batch    BENCH_PG_N measurements (default 50,000; real probe
#            measurements of the lab made unique: tests/integration/
#            gendata.sh) POSTed as JSON Lines, 1,000 per POST, one POST
#            after the other, to one collector on an empty database
#   COPY     the same rows, as the collector stored them, COPY'd (binary)
#            into the same table, emptied, with its indexes, by psql in
#            one transaction: the limit (goal: batch >= half of COPY)
#   store    the same measurements without HTTP: $BUILD/store-bench
#            (bench/store_bench.c) makes them ready for the store as the
#            collector does, untimed, then times store_put_batch(), 1,000
#            per batch, into an empty database against COPY of the rows it
#            stored into the same emptied table: medians of
#            BENCH_STORE_RUNS (3) runs. Both ratios are printed: HTTP
#            (the collector's parsing, analysis and compression included)
#            and store level (the database's share alone); and the fold
#            (the timelines, store_pg_fold.c): its rate alone, and the
#            sustained rate, store_put_batch() with the collector's fold
#            thread beside it until everything is folded
#   single   one measurement per POST for BENCH_SINGLE_SECONDS (default
#            10) with wrk (bench/collector-post.lua: every body a new
#            measurement), BENCH_CONNS keep-alive connections (default 16)
#            to one collector; then two collectors on one database, a wrk
#            of BENCH_CONNS connections on each at once (goal: two >= 1.6 x
#            one)
#   reads    the database filled in SQL (generate_series: no HTTP) with
#            BENCH_PG_BIG measurements (default 10,000,000) of
#            BENCH_PG_INPUTS inputs (default 200) on 25 networks, spread
#            over 300 days, a third of the networks blocking each input by
#            DNS for 60 days; every target marked stale, so that the
#            collector's start computes the timelines (timed); then
#            BENCH_READS (default 200) GETs each of /api/v1/timeline (a
#            random target), /api/v1/targets and /api/v1/targets?cc=
#            (a random country) over one keep-alive connection: p50 and
#            p99 (goal: p99 < 50 ms). The same for SQLite at
#            BENCH_SQLITE_BIG (default 1,000,000), for comparison.
# The fill's rows carry a 20-byte raw (zlib of a tiny JSON object): the
# timeline and targets queries never read raw, and 10 million real ones
# would be 20 GB. A quick run: BENCH_PG_BIG=1000000 BENCH_SQLITE_BIG=200000
# BENCH_PG_N=20000 BENCH_SINGLE_SECONDS=5.
set -u
BUILD=${1:-build}
PROBE=$BUILD/wallwatch-probe
COLLECTOR=$BUILD/wallwatch-collector
FAKENET=$BUILD/fakenet
STORE_BENCH=$BUILD/store-bench
STORE_RUNS=${BENCH_STORE_RUNS:-3}
N=${BENCH_PG_N:-50000}
SINGLE_S=${BENCH_SINGLE_SECONDS:-10}
CONNS=${BENCH_CONNS:-16}
BIG=${BENCH_PG_BIG:-10000000}
SQBIG=${BENCH_SQLITE_BIG:-1000000}
NI=${BENCH_PG_INPUTS:-200}
READS=${BENCH_READS:-200}
FILL_CHUNK=1000000 # rows per INSERT of the fill
PGTMP=tests/pg/pgtmp.sh
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

for f in "$PROBE" "$COLLECTOR" "$FAKENET" "$STORE_BENCH"; do
	[ -x "$f" ] || { echo "bench: $f is missing (make all $FAKENET $STORE_BENCH)" >&2; exit 1; }
done
for c in wrk sqlite3 psql jq curl python3; do
	command -v $c >/dev/null 2>&1 ||
		{ echo "bench: $c is missing (make bench-deps)" >&2; exit 1; }
done
[ -f "$PGTMP" ] || { echo "bench: $PGTMP is missing" >&2; exit 1; }

. tests/integration/lib.sh
. tests/integration/gendata.sh
lab_start "$FAKENET"
B=$LAB/benchpg
mkdir -p "$B"
CI=
PIDS=
cleanup_all() {
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	[ -n "$CI" ] && sh "$PGTMP" stop "$CI"
	lab_cleanup
}
trap cleanup_all EXIT

die() {
	echo "bench: $*" >&2
	exit 1
}
now() { date +%s.%N; }
secs() { echo "$2 $1" | awk '{printf "%.3f", $1 - $2}'; }

# --- the cluster, durable ---------------------------------------------------------
CI=$(sh "$PGTMP" start) || die "no PostgreSQL cluster"
PGDIR=$(printf '%s\n' "$CI" | sed -n 's/.*[?&]host=\([^&]*\).*/\1/p')
as_owner() { # as tests/pg/pgtmp.sh runs the server's programs
	if [ "$(id -u)" -ne 0 ]; then
		(cd "$PGDIR" && "$@")
	else
		(cd "$PGDIR" && runuser -u nobody -- "$@")
	fi
}
as_owner "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w -t 120 \
	-o "-c listen_addresses='' -c unix_socket_directories='$PGDIR' \
	-c fsync=on -c synchronous_commit=on -c full_page_writes=on \
	-c max_connections=100 -c shared_buffers=1GB -c max_wal_size=8GB \
	-c checkpoint_timeout=30min" restart >/dev/null ||
	die "the cluster did not restart durable: $(tail -n 5 "$PGDIR/log")"
pg() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
# db NAME: a new database, its conninfo
db() {
	pg "$CI" "CREATE DATABASE $1" >/dev/null || die "CREATE DATABASE $1"
	printf '%s\n' "$CI" | sed "s|///ww?|///$1?|"
}
echo "bench: PostgreSQL $(pg "$CI" 'SHOW server_version'), fsync" \
	"$(pg "$CI" 'SHOW fsync'), synchronous_commit" \
	"$(pg "$CI" 'SHOW synchronous_commit'), $(nproc) cores"

# col NAME DB [ARGS]: a collector on a free port; PORT, COL_PID (and in
# PIDS). Loopback is one submitter: a single-probe deployment, no limits.
col() {
	_name=$1
	_db=$2
	shift 2
	COLLECTOR_WAIT_TENTHS=${WAIT_TENTHS:-1200} collector_up "$B/$_name.err" \
		"$COLLECTOR" --db "$_db" --asn-db tests/data/asndb/tiny.tsv \
		--min-submitters 1 --allow-geo-mismatch yes \
		--rate-batches 0 --rate-target 0 --rate-network-batches 0 \
		--rate-network-target 0 --max-per-source 1000000 "$@"
	PIDS="$PIDS $COL_PID"
}
stop_col() { # PID
	kill -TERM "$1"
	wait "$1" || die "a collector exited with $?"
}

# CPU seconds used so far by a process (cpu PID), by the cluster's
# processes (pg_cpu: the postmaster's children, the backends included)
TCK=$(getconf CLK_TCK)
cpu() { awk -v t="$TCK" '{print ($14 + $15) / t}' "/proc/$1/stat"; }
pg_cpu() {
	_pm=$(head -n 1 "$PGDIR/data/postmaster.pid")
	for _p in $_pm $(cat "/proc/$_pm/task/$_pm/children" 2>/dev/null); do
		cat "/proc/$_p/stat" 2>/dev/null
	done | awk -v t="$TCK" '{s += $14 + $15} END {print s / t}'
}

# The machine's CPU (/proc/stat, every process, other jobs included):
# sys_cpu prints busy and total ticks; busy_since THEN the busy share
# since then, in % of all the cores
sys_cpu() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
busy_since() {
	echo "$1 $(sys_cpu)" | awk '{printf "%.0f", ($3 - $1) / ($4 - $2) * 100}'
}

# --- real measurements, made unique -------------------------------------------------
echo "bench: measuring 13 targets twice with the probe (fakenet)"
col control "$B/control.db" --allow-private --resolver "127.0.0.1:$DNS_PORT" \
	--ca-file "$LAB/ca.pem" --timeout 2
gd_templates "$PROBE" "$PORT" "$B"
stop_col "$COL_PID"
TPL=$B/templates
T1=$(($(date +%s) - 3600))
T0=$((T1 - 300 * 86400))

# --- batch ingest against COPY ----------------------------------------------------------
gd_gen "$TPL" "$N" 0 "$N" pgb "$T0" "$T1" >"$B/batch.jsonl"
rm -rf "$B/batches"
mkdir "$B/batches"
split -l 1000 -a 5 "$B/batch.jsonl" "$B/batches/b"
DBI=$(db ingest)
col ingest "$DBI"
sep=
for f in "$B"/batches/b*; do
	printf '%s' "$sep"
	sep='next
'
	printf 'url = "http://127.0.0.1:%s/api/v1/measurements"\n' "$PORT"
	printf 'data-binary = "@%s"\nheader = "Expect:"\n' "$f"
	printf 'header = "Content-Type: application/x-ndjson"\n'
	printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nsilent\n'
done >"$B/post.cfg"
nb=$(ls "$B/batches" | wc -l)
c0=$(cpu "$COL_PID")
p0=$(pg_cpu)
s0=$(now)
curl -s --max-time 3600 -K "$B/post.cfg" >"$B/post.codes"
s1=$(now)
# the timelines too: the collector's fold thread empties the fold queue
# (store_pg_fold.c); a bench may poll
while [ "$(pg "$DBI" 'SELECT count(*) FROM fold_queue')" != 0 ]; do
	sleep 0.02
done
s2=$(now)
c1=$(cpu "$COL_PID")
p1=$(pg_cpu)
stop_col "$COL_PID"
bcpu=$(echo "$c1 $c0 $N" | awk '{printf "%.3f", ($1 - $2) / $3 * 1000}')
bpgcpu=$(echo "$p1 $p0 $N" | awk '{printf "%.3f", ($1 - $2) / $3 * 1000}')
[ "$(grep -c '^200$' "$B/post.codes")" -eq "$nb" ] ||
	die "batch POSTs: $(sort "$B/post.codes" | uniq -c | tr '\n' ' ')"
got=$(pg "$DBI" 'SELECT count(*) FROM measurements')
[ "$got" = "$N" ] || die "batch: $got of $N stored"
batch_s=$(secs "$s0" "$s1")
batch=$(echo "$N $batch_s" | awk '{printf "%.0f", $1 / $2}')
folded_s=$(secs "$s0" "$s2")
folded=$(echo "$N $folded_s" | awk '{printf "%.0f", $1 / $2}')
echo "bench: batch ingest: $N in $batch_s s, $batch/s; folded too in $folded_s s, $folded/s"
rm -rf "$B/batches"

# the same measurements straight into the store, against COPY (medians)
DBS=$(db storelevel)
"$STORE_BENCH" "$DBS" "$B/batch.jsonl" "$STORE_RUNS" >"$B/store.out" ||
	die "store-bench failed"
sed 's/^/bench: store level: /' "$B/store.out"
sl() { awk -v k="$1" '$1 == "median" && $2 == k {print $3}' "$B/store.out"; }
sput=$(sl put_rate)
scopy=$(sl copy_rate)
sratio=$(sl ratio)
sfold=$(sl fold_rate)
ssus=$(sl sustained_rate)
ssratio=$(sl sustained_ratio)
sdrain=$(sl drain_s)
sprep=$(sed -n 's/^prepare .*: \([0-9.]*\) ms of CPU each$/\1/p' "$B/store.out")
pg "$CI" 'DROP DATABASE storelevel'
rm -f "$B/batch.jsonl"

# the same rows, as stored, into the same (emptied) table by COPY
COLS=$(pg "$DBI" "SELECT string_agg(attname, ', ' ORDER BY attnum) FROM
	pg_attribute WHERE attrelid = 'measurements'::regclass AND attnum > 0
	AND NOT attisdropped")
pg "$DBI" "\\copy (SELECT $COLS FROM measurements ORDER BY id) TO '$B/rows.bin' WITH (FORMAT binary)"
pg "$DBI" "\\copy measurement_uids TO '$B/uids.bin' WITH (FORMAT binary)"
pg "$DBI" 'TRUNCATE measurements, measurement_uids'
pg "$DBI" CHECKPOINT
s0=$(now)
pg "$DBI" "\\copy measurements ($COLS) FROM '$B/rows.bin' WITH (FORMAT binary)"
s1=$(now)
copy_s=$(secs "$s0" "$s1")
s0=$(now)
pg "$DBI" "\\copy measurement_uids FROM '$B/uids.bin' WITH (FORMAT binary)"
s1=$(now)
copyu_s=$(secs "$s0" "$s1")
got=$(pg "$DBI" 'SELECT count(*) FROM measurements')
[ "$got" = "$N" ] || die "COPY: $got of $N rows"
copy=$(echo "$N $copy_s" | awk '{printf "%.0f", $1 / $2}')
copy2=$(echo "$N $copy_s $copyu_s" | awk '{printf "%.0f", $1 / ($2 + $3)}')
echo "bench: COPY: $N rows in $copy_s s ($copy/s); with measurement_uids" \
	"$copy2/s"
rm -f "$B/rows.bin" "$B/uids.bin"

# --- single POSTs, one collector and two ------------------------------------------------
# wrk_run PORT TAG OUT: one wrk of CONNS connections for SINGLE_S seconds
wrk_run() {
	WRK_THREADS=1 wrk -t 1 -c "$CONNS" -d "${SINGLE_S}s" --latency \
		-s bench/collector-post.lua \
		"http://127.0.0.1:$1/api/v1/measurements" -- "$TPL" "$2" "$T0" \
		>"$3" 2>&1
}
# wrk_sum OUT...: every answer 2xx; sets RATE (the sum of their rates),
# DONE (answered) and SENT (bodies made)
wrk_sum() {
	DONE=0
	SENT=0
	for o in "$@"; do
		grep -q 'Non-2xx' "$o" && { cat "$o" >&2; die "wrk: errors"; }
		DONE=$((DONE + $(awk '/requests in/ {print $1}' "$o")))
		SENT=$((SENT + $(awk '/^sent / {print $2}' "$o")))
	done
	RATE=$(awk '/^Requests\/sec:/ {s += $2} END {printf "%.0f", s}' "$@")
}
p99_of() { # wrk's 99% latency in ms
	awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		printf "%.1f", v * ((u == "us") ? 0.001 : (u == "s") ? 1000 : 1) }' "$1"
}
D1=$(db single1)
col s1 "$D1"
sys0=$(sys_cpu)
c0=$(cpu "$COL_PID")
p0=$(pg_cpu)
wrk_run "$PORT" s1 "$B/wrk1.out" || die "wrk failed: $(cat "$B/wrk1.out")"
c1=$(cpu "$COL_PID")
p1=$(pg_cpu)
busy1=$(busy_since "$sys0")
stop_col "$COL_PID"
wrk_sum "$B/wrk1.out"
single1=$RATE
cpu1=$(echo "$c1 $c0 $p1 $p0 $DONE" | awk '{printf "%.3f / %.3f", ($1 - $2) / $5 * 1000, ($3 - $4) / $5 * 1000}')
got=$(pg "$D1" 'SELECT count(*) FROM measurements')
[ "$got" -ge "$DONE" ] && [ "$got" -le "$SENT" ] ||
	die "single, one collector: $DONE answered, $got stored, $SENT sent"
echo "bench: single POSTs, one collector: $single1/s ($got stored)"

D2=$(db single2)
col s2a "$D2"
PA=$PORT
CA=$COL_PID
col s2b "$D2"
PB=$PORT
CB=$COL_PID
sys0=$(sys_cpu)
c0=$(echo "$(cpu "$CA") $(cpu "$CB")" | awk '{print $1 + $2}')
p0=$(pg_cpu)
wrk_run "$PA" s2a "$B/wrk2a.out" &
wa=$!
wrk_run "$PB" s2b "$B/wrk2b.out" &
wb=$!
wait $wa || die "wrk failed: $(cat "$B/wrk2a.out")"
wait $wb || die "wrk failed: $(cat "$B/wrk2b.out")"
c1=$(echo "$(cpu "$CA") $(cpu "$CB")" | awk '{print $1 + $2}')
p1=$(pg_cpu)
busy2=$(busy_since "$sys0")
stop_col "$CA"
stop_col "$CB"
wrk_sum "$B/wrk2a.out" "$B/wrk2b.out"
single2=$RATE
cpu2=$(echo "$c1 $c0 $p1 $p0 $DONE" | awk '{printf "%.3f / %.3f", ($1 - $2) / $5 * 1000, ($3 - $4) / $5 * 1000}')
got=$(pg "$D2" 'SELECT count(*) FROM measurements')
[ "$got" -ge "$DONE" ] && [ "$got" -le "$SENT" ] ||
	die "single, two collectors: $DONE answered, $got stored, $SENT sent"
echo "bench: single POSTs, two collectors: $single2/s ($got stored)"

# --- the reads over a big store -----------------------------------------------------------
# A tiny raw, zlib (RFC 1950) as store_pack.c keeps them, in hex.
RAWHEX=$(python3 -c 'import zlib; print(zlib.compress(b"{\"fill\":1}").hex())')
RAWLEN=10
K=$((NI * 25))
SPAN=$((T1 - T0))
FILLCOLS="id, uid, raw, raw_len, input, test_name, category_code, probe_cc,
 probe_asn, observed_cc, observed_asn, geo_mismatch, start_time,
 received_time, blocking, accessible, blocking_detail, confirmed,
 analysis_version, analysis_reason, submitter, revoked, evidence,
 evidence_detail, packets"
# fill_select TOTAL RAW: the rows, as a SELECT over g (SQL both databases
# read): row g is target key g % K (input key % NI on network key / NI)
# at T0 + g * SPAN / TOTAL, so each target's rows are in time order; on a
# third of the networks, each input is blocked by DNS for 60 days from a
# day of its own (as bench/collector-gen.awk)
fill_select() {
	_key="(g % $K)"
	_net="CAST($_key / $NI AS integer)"
	_t="($T0 + g * $SPAN / $1)"
	_b0="(20 + (($_key % $NI) * 37 + $_net * 11) % 200)"
	_day="(($_t - $T0) / 86400)"
	_blk="($_net % 3 = 0 AND $_day >= $_b0 AND $_day < $_b0 + 60)"
	cat <<EOF
SELECT g, 'fill_' || g, $2, $RAWLEN,
 'https://site' || ($_key % $NI) || '.example.org/', 'wallwatch_web', 'NEWS',
 substr('CNCNCNCNCNIRIRIRIRIRRURURURURUTRTRTRTRTRMMMMMMMMMM', $_net * 2 + 1, 2),
 'AS' || (64500 + $_net),
 substr('CNCNCNCNCNIRIRIRIRIRRURURURURUTRTRTRTRTRMMMMMMMMMM', $_net * 2 + 1, 2),
 'AS' || (64500 + $_net), 0, $_t, $_t + 60,
 CASE WHEN $_blk THEN 'dns' ELSE 'false' END,
 CASE WHEN $_blk THEN 0 ELSE 1 END,
 CASE WHEN $_blk THEN 'dns.nxdomain' END,
 0, '3', NULL, 'anon:AS' || (64500 + $_net) || ':fill', 0, NULL, NULL,
 0
EOF
}
read_bench() { # NAME PORT DBKIND: the reads; p50/p99 in $B/NAME.*
	API="http://127.0.0.1:$2/api/v1"
	if [ "$3" = pg ]; then
		pg "$DBBIG" "SELECT input || ' ' || probe_cc || ' ' || probe_asn
			FROM target_state ORDER BY random() LIMIT $READS"
	else
		sqlite3 -separator ' ' "$B/big.db" "SELECT input, probe_cc,
			probe_asn FROM target_state ORDER BY random() LIMIT $READS"
	fi | jq -R -r --arg api "$API" 'split(" ") |
		"\($api)/timeline?input=\(.[0] | @uri)&cc=\(.[1])&asn=\(.[2])"' \
		>"$B/timeline.urls"
	[ "$(wc -l <"$B/timeline.urls")" -eq "$READS" ] || die "not $READS targets"
	awk -v n="$READS" -v u="$API/targets" 'BEGIN { for (i = 0; i < n; i++) print u }' \
		>"$B/targets.urls"
	awk -v n="$READS" -v api="$API" 'BEGIN { srand(); split("CN IR RU TR MM", c, " ")
		for (i = 0; i < n; i++) print api "/targets?cc=" c[int(rand() * 5) + 1] }' \
		>"$B/targets_cc.urls"
	for q in timeline targets targets_cc; do
		awk '{printf "url = \"%s\"\noutput = \"/dev/null\"\n", $0}' \
			"$B/$q.urls" >"$B/$q.cfg"
		curl -s --max-time 600 -K "$B/$q.cfg" \
			-w '%{http_code} %{time_total}\n' >"$B/$q.t"
		[ "$(grep -c '^200 ' "$B/$q.t")" -eq "$READS" ] ||
			die "$1 $q: $(cut -d' ' -f1 "$B/$q.t" | sort | uniq -c | tr '\n' ' ')"
		awk '{print $2 * 1000}' "$B/$q.t" | sort -g | awk -v n="$READS" '
			{a[NR] = $1} END { i99 = int(n * 0.99 + 0.999); if (i99 > n) i99 = n
			printf "%.2f %.2f\n", a[int((n + 1) / 2)], a[i99] }' >"$B/$1.$q"
	done
	curl -s "$(head -n 1 "$B/timeline.urls")" | jq '.buckets | length' >"$B/$1.buckets"
}

# PostgreSQL: partitions for the months of the range (named as the
# collector names them), then the rows in chunks, then every target stale
echo "bench: filling PostgreSQL with $BIG measurements ($K targets) in SQL"
DBBIG=$(db big)
col bigmigrate "$DBBIG"
stop_col "$COL_PID"
pg "$DBBIG" "DO \$\$ DECLARE m date; BEGIN
	FOR m IN SELECT generate_series(date_trunc('month', to_timestamp($T0) AT TIME ZONE 'UTC'),
		date_trunc('month', to_timestamp($T1) AT TIME ZONE 'UTC'), interval '1 month')::date LOOP
	EXECUTE format('CREATE TABLE IF NOT EXISTS measurements_y%sm%s PARTITION OF measurements FOR VALUES FROM (%s) TO (%s)',
		to_char(m, 'YYYY'), to_char(m, 'MM'),
		extract(epoch FROM m::timestamp)::bigint,
		extract(epoch FROM (m + interval '1 month')::timestamp)::bigint);
	END LOOP; END \$\$" || die "partitions"
s0=$(now)
first=1
while [ $first -le "$BIG" ]; do
	last=$((first + FILL_CHUNK - 1))
	[ $last -gt "$BIG" ] && last=$BIG
	pg "$DBBIG" "BEGIN;
		INSERT INTO measurements ($FILLCOLS)
		$(fill_select "$BIG" "'\\x$RAWHEX'::bytea")
		FROM (SELECT generate_series($first::bigint, $last::bigint) AS g) s;
		INSERT INTO measurement_uids (uid, id, start_time)
		SELECT 'fill_' || g, g, $T0 + g * $SPAN / $BIG
		FROM (SELECT generate_series($first::bigint, $last::bigint) AS g) s;
		COMMIT" || die "fill"
	echo "bench: fill: $last of $BIG"
	first=$((last + 1))
done
# every target stale, from the key set (not a scan of the rows)
pg "$DBBIG" "SELECT setval('measurements_id_seq', $BIG)" >/dev/null
pg "$DBBIG" "INSERT INTO stale_targets SELECT DISTINCT
	'https://site' || (k % $NI) || '.example.org/',
	substr('CNCNCNCNCNIRIRIRIRIRRURURURURUTRTRTRTRTRMMMMMMMMMM',
		CAST(k / $NI AS integer) * 2 + 1, 2),
	'AS' || (64500 + k / $NI) FROM generate_series(0, $((K - 1))) k
	ON CONFLICT DO NOTHING"
pg "$DBBIG" "VACUUM ANALYZE"
fill_pg=$(secs "$s0" "$(now)")
dbsize=$(pg "$DBBIG" "SELECT pg_size_pretty(pg_database_size(current_database()))")
echo "bench: filled in $fill_pg s ($dbsize); the collector computes the timelines at start"
s0=$(now)
WAIT_TENTHS=72000 col bigpg "$DBBIG"
recompute_pg=$(secs "$s0" "$(now)")
ntargets=$(pg "$DBBIG" 'SELECT count(*) FROM target_state')
nevents=$(pg "$DBBIG" 'SELECT count(*) FROM events')
echo "bench: timelines computed in $recompute_pg s ($ntargets targets, $nevents events)"
read_bench pg "$PORT" pg
stop_col "$COL_PID"

# SQLite at SQBIG, the same way
echo "bench: filling SQLite with $SQBIG measurements in SQL"
rm -f "$B"/big.db*
col bigmigrate "$B/big.db"
stop_col "$COL_PID"
s0=$(now)
first=1
while [ $first -le "$SQBIG" ]; do
	last=$((first + FILL_CHUNK - 1))
	[ $last -gt "$SQBIG" ] && last=$SQBIG
	sqlite3 "$B/big.db" "BEGIN;
		INSERT INTO measurements ($FILLCOLS)
		$(fill_select "$SQBIG" "X'$RAWHEX'")
		FROM (SELECT value AS g FROM generate_series($first, $last));
		COMMIT" || die "SQLite fill"
	first=$((last + 1))
done
sqlite3 "$B/big.db" "INSERT OR IGNORE INTO stale_targets SELECT DISTINCT
	input, probe_cc, probe_asn FROM measurements; ANALYZE"
fill_sq=$(secs "$s0" "$(now)")
sqsize=$(du -k "$B/big.db" | awk '{printf "%.0f MiB", $1 / 1024}')
s0=$(now)
WAIT_TENTHS=72000 col bigsq "$B/big.db"
recompute_sq=$(secs "$s0" "$(now)")
sqtargets=$(sqlite3 "$B/big.db" 'SELECT count(*) FROM target_state')
sqevents=$(sqlite3 "$B/big.db" 'SELECT count(*) FROM events')
read_bench sq "$PORT" sq
stop_col "$COL_PID"

# --- figures ------------------------------------------------------------------------------
verdict() { awk "BEGIN { print (($1) ? \"met\" : \"missed\") }"; }
row() { printf '%-50s %14s  %-12s %s\n' "$@"; }
ratio=$(echo "$batch $copy" | awk '{printf "%.2f", $1 / $2}')
scale=$(echo "$single2 $single1" | awk '{printf "%.2f", $1 / $2}')
lat() { # NAME QUERY LABEL GOAL
	read -r p50 p99 <"$B/$1.$2"
	row "$3 p50 / p99" "$p50 / $p99 ms" "${4:+< 50 ms}" \
		"${4:+$(verdict "$p99 < 50")}"
}
echo
echo "collector on PostgreSQL 15 (durable), loopback, $(nproc) cores, one run"
row "what" "figure" "goal" ""
row "HTTP: batch ingest, 1,000 per POST ($N)" "$batch /s"
row "  CPU per measurement: collector / PostgreSQL" "$bcpu / $bpgcpu ms"
row "COPY of the same rows (binary, 1 transaction)" "$copy /s"
row "HTTP: batch ingest / COPY" "$ratio" ">= 0.5" "$(verdict "$ratio >= 0.5")"
row "  until folded too (timelines)" "$folded /s"
row "  COPY with measurement_uids too" "$copy2 /s"
row "store level: store_put_batch, 1,000 a batch" "$sput /s" "" \
	"median of $STORE_RUNS"
row "  made ready first (parse, analyse, compress)" "$sprep ms CPU" "" \
	"per measurement, untimed"
row "  COPY of the same rows, same emptied table" "$scopy /s" "" \
	"median of $STORE_RUNS"
row "store level: store_put_batch / COPY" "$sratio" ">= 0.5" \
	"$(verdict "$sratio >= 0.5")"
row "  the fold alone, after it (timelines)" "$sfold /s" "" \
	"median of $STORE_RUNS"
row "store level, sustained: with the fold thread" "$ssus /s" "" \
	"until the queue is empty"
row "store level, sustained / COPY" "$ssratio" "" \
	"folded $sdrain s after the last commit"
row "single POSTs, 1 collector ($CONNS conns)" "$single1 /s"
row "  latency p99" "$(p99_of "$B/wrk1.out") ms"
row "  CPU per POST: collector / PostgreSQL" "$cpu1 ms"
row "  the machine's cores busy (every process)" "$busy1 %"
row "single POSTs, 2 collectors ($CONNS conns each)" "$single2 /s"
row "  CPU per POST: collectors / PostgreSQL" "$cpu2 ms"
row "  the machine's cores busy (every process)" "$busy2 %"
row "2 collectors / 1" "$scale x" ">= 1.6 x" "$(verdict "$scale >= 1.6")"
row "PostgreSQL: $BIG measurements, SQL fill" "$fill_pg s" "" "$dbsize"
row "  timelines computed at start ($ntargets targets)" "$recompute_pg s" "" \
	"$nevents events"
lat pg timeline "  timeline (~$(cat "$B/pg.buckets") days)," goal
lat pg targets "  targets (first 100),"  goal
lat pg targets_cc "  targets?cc=," goal
row "SQLite: $SQBIG measurements, SQL fill" "$fill_sq s" "" "$sqsize"
row "  timelines computed at start ($sqtargets targets)" "$recompute_sq s" "" \
	"$sqevents events"
lat sq timeline "  timeline (~$(cat "$B/sq.buckets") days)," goal
lat sq targets "  targets (first 100)," goal
lat sq targets_cc "  targets?cc=," goal
echo
echo "reads: $READS GETs each over one keep-alive connection, one after the other"
