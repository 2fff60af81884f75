#!/bin/sh
# ooni-import.sh BUILD - the import's benchmark (issue 16): measurements/s
# of `wallwatch-collector import` on a file of OONI's measurements, against
# the same collector's native ingest of ours, into SQLite and into
# PostgreSQL (a throwaway cluster: tests/pg/pgtmp.sh), in one run.
#
# Files (BENCH_IMPORT_N lines each, default 100,000), zstd-compressed as
# OONI's archive keeps them, made here:
#   ooni   tests/data/ooni/qa's 52 web_connectivity 0.5.x measurements in
#          turn, each with a report_id and a measurement_start_time of its
#          own (the identity OONI's measurements get without a
#          measurement_uid, docs/ooni-data.md), ~8 kB a line
#   ours   tests/data/reanalyze/m's 21 measurements of our probe in turn,
#          each with a measurement_uid and start time of its own, ~4.3 kB
# Runs, each on a fresh database:
#   import ooni, import ours     `import --db DB FILE.zst`, its own
#                                summary's time (decompression, parse,
#                                validation, analysis, store)
#   POST ours                    the service's POST /api/v1/measurements,
#                                1,000 lines a POST, one after the other
#                                over one connection (curl), as
#                                bench/collector.sh's batch ingest
# The rate is of lines handled; what was stored and refused is printed
# next to it. If this build refuses OONI's measurements, the table says so
# plainly: their rate is then that of reading, parsing and refusing them.
set -u
BUILD=${1:-build}
COLLECTOR=$BUILD/wallwatch-collector
N=${BENCH_IMPORT_N:-100000}
PGTMP=tests/pg/pgtmp.sh

[ -x "$COLLECTOR" ] || { echo "bench: $COLLECTOR is missing (make all)" >&2; exit 1; }
for c in python3 zstd curl sqlite3 split; do
	command -v $c >/dev/null 2>&1 ||
		{ echo "bench: $c is missing (make bench-deps)" >&2; exit 1; }
done
. tests/integration/lib.sh
B=$(mktemp -d "${TMPDIR:-/tmp}/wallwatch-bench-import.XXXXXX")
COL_PID=
CONNINFO=
cleanup() {
	[ -n "$COL_PID" ] && kill -9 "$COL_PID" 2>/dev/null
	[ -n "$CONNINFO" ] && sh "$PGTMP" stop "$CONNINFO" >/dev/null 2>&1
	rm -rf "$B"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() {
	echo "bench: $*" >&2
	exit 1
}
now() { date +%s.%N; }

# gen KIND N: KIND's lines, N of them, each made unique (see above).
gen() {
	python3 - "$1" "$2" <<'EOF'
import glob, json, sys, time
kind, n = sys.argv[1], int(sys.argv[2])
src = "tests/data/ooni/qa/*.json" if kind == "ooni" else "tests/data/reanalyze/m/*.json"
tpl = [json.loads(open(f).read()) for f in sorted(glob.glob(src))]
# one measurement every 30 s up to an hour ago (the ingest refuses what is
# more than a year old)
t0 = int(time.time()) - 3600 - 30 * n
out = sys.stdout
for i in range(n):
    m = dict(tpl[i % len(tpl)])
    t = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t0 + 30 * i))
    m["measurement_start_time"] = t
    m["test_start_time"] = t
    if kind == "ooni":
        # OONI's report_id: its last part is 16 random characters; ours
        # says which line
        m["report_id"] = m["report_id"].rsplit("_", 1)[0] + "_b%015d" % i
    else:
        m["measurement_uid"] = "bench-import-%d" % i
    out.write(json.dumps(m, separators=(",", ":")) + "\n")
EOF
}

echo "bench: making $N lines of OONI's measurements and $N of ours"
gen ooni "$N" | zstd -q -o "$B/ooni.jsonl.zst" || die "cannot make the OONI file"
gen ours "$N" >"$B/ours.jsonl" || die "cannot make our file"
zstd -q -o "$B/ours.jsonl.zst" "$B/ours.jsonl"
for k in ooni ours; do
	printf 'bench: %s: %s bytes as zstd, %s bytes plain\n' "$k" \
		"$(wc -c <"$B/$k.jsonl.zst")" "$(zstd -dc "$B/$k.jsonl.zst" | wc -c)"
done
split -l 1000 -a 5 "$B/ours.jsonl" "$B/batch."
rm "$B/ours.jsonl"

ROWS=
# row WHAT LINES STORED REFUSED SECS [NOTE]
row() {
	ROWS="$ROWS$(printf '%-38s %8s %8s %8s %8.2f %8.0f  %s' "$1" "$2" "$3" \
		"$4" "$5" "$(echo "$2 $5" | awk '{print $1 / $2}')" "${6:-}")
"
}

# import_run WHAT KIND DB: `import`; adds a row, sets RATE and REFUSED.
import_run() {
	"$COLLECTOR" import --db "$3" "$B/$2.jsonl.zst" >"$B/sum" 2>"$B/err"
	rc=$?
	case $rc in
	0 | 3) ;; # 3: some refused (said below)
	*) die "$1: import exited $rc: $(cat "$B/sum" "$B/err")" ;;
	esac
	line=$(grep '^total:' "$B/sum")
	lines=$(echo "$line" | sed -n 's/.*), \([0-9]*\) lines:.*/\1/p')
	stored=$(echo "$line" | sed -n 's/.* \([0-9]*\) stored.*/\1/p')
	REFUSED=$(echo "$line" | sed -n 's/.* \([0-9]*\) refused.*/\1/p')
	secs=$(echo "$line" | sed -n 's/.*; \([0-9.]*\) s,.*/\1/p')
	rss=$(echo "$line" | sed -n 's/.*peak RSS \([0-9]*\) kB.*/\1/p')
	[ "$lines" = "$N" ] || die "$1: $lines lines read of $N"
	note="peak RSS $((rss / 1024)) MiB"
	if [ "$REFUSED" -gt 0 ]; then
		note="$note; REFUSED: $(grep -m1 '^  refused' "$B/sum" |
			sed 's/^  refused [0-9]*: //; s/ (lines.*//')"
	fi
	row "$1" "$lines" "$stored" "$REFUSED" "$secs" "$note"
	RATE=$(echo "$lines $secs" | awk '{print $1 / $2}')
}

# post_run WHAT DB: the service on DB, every batch POSTed; adds a row,
# sets RATE.
post_run() {
	COLLECTOR_WAIT_TENTHS=300 collector_up "$B/col.err" "$COLLECTOR" \
		--db "$2" --min-submitters 1 --rate-batches 0 \
		--rate-target 0 --rate-network-batches 0 \
		--rate-network-target 0 --max-per-source 1000000
	sep=
	for f in "$B"/batch.*; do
		printf '%s' "$sep"
		sep='next
'
		printf 'url = "http://127.0.0.1:%s/api/v1/measurements"\n' "$PORT"
		printf 'data-binary = "@%s"\nheader = "Expect:"\n' "$f"
		printf 'header = "Content-Type: application/x-ndjson"\n'
		printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n'
		printf 'silent\n'
	done >"$B/post.cfg"
	s0=$(now)
	curl -s --max-time 3600 -K "$B/post.cfg" >"$B/post.codes"
	s1=$(now)
	METRICS=$(curl -s --max-time 30 "http://127.0.0.1:$PORT/metrics")
	kill -TERM "$COL_PID"
	wait "$COL_PID"
	COL_PID=
	nb=$(ls "$B"/batch.* | wc -l)
	[ "$(grep -c '^200$' "$B/post.codes")" -eq "$nb" ] ||
		die "$1: $(sort "$B/post.codes" | uniq -c | tr '\n' ' ')"
	stored=$(printf '%s\n' "$METRICS" |
		awk '$1 == "wallwatch_ingest_measurements_total{outcome=\"stored\"}" {print $2}')
	secs=$(echo "$s1 $s0" | awk '{print $1 - $2}')
	row "$1" "$N" "$stored" 0 "$secs"
	RATE=$(echo "$N $secs" | awk '{print $1 / $2}')
}

ratio() { echo "$1 $2" | awk '{printf "%.2f", $1 / $2}'; }

echo "bench: SQLite"
import_run "import OONI's -> SQLite" ooni "$B/s1.db"
R_OS=$RATE
OONI_REFUSED=$REFUSED
import_run "import ours -> SQLite" ours "$B/s2.db"
R_IS=$RATE
post_run "POST ours (1,000/POST) -> SQLite" "$B/s3.db"
R_PS=$RATE

echo "bench: PostgreSQL (a throwaway cluster, fsync off)"
CONNINFO=$(sh "$PGTMP" start) || die "no PostgreSQL cluster"
# an empty database for each run, in the same cluster
fresh() {
	/usr/lib/postgresql/15/bin/psql -q "$CONNINFO" \
		-c "CREATE DATABASE $1" >/dev/null || die "cannot make database $1"
	printf '%s\n' "$CONNINFO" | sed "s|///ww?|///$1?|"
}
import_run "import OONI's -> PostgreSQL" ooni "$(fresh b1)"
R_OP=$RATE
import_run "import ours -> PostgreSQL" ours "$(fresh b2)"
R_IP=$RATE
post_run "POST ours (1,000/POST) -> PostgreSQL" "$(fresh b3)"
R_PP=$RATE

echo
printf '%-38s %8s %8s %8s %8s %8s\n' what lines stored refused secs "lines/s"
printf '%s' "$ROWS"
echo
echo "import OONI's / POST ours: SQLite $(ratio "$R_OS" "$R_PS")," \
	"PostgreSQL $(ratio "$R_OP" "$R_PP")"
echo "import ours / POST ours:   SQLite $(ratio "$R_IS" "$R_PS")," \
	"PostgreSQL $(ratio "$R_IP" "$R_PP")"
echo "import OONI's / import ours: SQLite $(ratio "$R_OS" "$R_IS")," \
	"PostgreSQL $(ratio "$R_OP" "$R_IP")"
if [ "$OONI_REFUSED" -gt 0 ]; then
	echo "NOTE: this build REFUSES OONI's measurements ($OONI_REFUSED of $N" \
		"refused): their figures are the rate of reading, parsing and" \
		"refusing them, not of storing them."
fi
