#!/bin/sh
# import.sh COLLECTOR - `wallwatch-collector import --db DB FILE...`
# (collector/import_cmd.c, docs/ooni-import.md) on files made here from
# tests/data: our measurements (tests/data/reanalyze/m, 21 of them) plain,
# gzip'd, zstd'd, with CRLF and from standard input; OONI's
# (tests/data/ooni/qa, 52), counted stored or refused by reason; importing
# again stores nothing twice; a truncated and a corrupt .gz name the file
# and line, keep what came before and let the next file be read; a name
# that promises gzip for plain text is refused; an over-long line is
# refused alone; a progress bar on a terminal only; and a file of ~100 MB
# streams with a bounded peak RSS.
#
# import.sh COLLECTOR pg: the same into PostgreSQL (a throwaway cluster,
# tests/pg/pgtmp.sh; batches of 64 and more go by COPY there). Under ASan
# (ASAN_OPTIONS set) the bounds on RSS are not checked.
set -u
COLLECTOR=$1
MODE=${2:-sqlite}
. tests/integration/lib.sh
LAB=$(mktemp -d "${TMPDIR:-/tmp}/wallwatch-import.XXXXXX")
CI=
cleanup() {
	[ -n "$CI" ] && sh tests/pg/pgtmp.sh stop "$CI" >/dev/null 2>&1
	rm -rf "$LAB"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ "$MODE" = pg ]; then
	CI=$(sh tests/pg/pgtmp.sh start) ||
		{ echo "import.sh: no PostgreSQL cluster" >&2; exit 1; }
	DB=$CI
	count() {
		psql -X -q -At -d "$DB" -c "SELECT count(*) FROM measurements"
	}
	sql() { psql -X -q -At -F ' ' -d "$DB" -c "$1"; }
else
	DB=$LAB/c.db
	count() {
		sqlite3 -batch -noheader "$DB" "SELECT count(*) FROM measurements"
	}
	sql() { sqlite3 -batch -noheader -separator ' ' "$DB" "$1"; }
fi
echo "# store: $MODE"

# imp OUT FILE...: import into DB, the summary into OUT, stderr into
# OUT.err; the exit status.
imp() {
	_out=$1
	shift
	timeout 300 "$COLLECTOR" import --db "$DB" "$@" >"$_out" \
		2>"$_out.err" </dev/null
}
# field OUT FILE WORD: the count before WORD on FILE's summary line
field() {
	grep -F "$2 (" "$1" | head -1 | sed -n "s/.* \([0-9][0-9]*\) $3.*/\1/p"
}

# --- our measurements -------------------------------------------------------
for f in tests/data/reanalyze/m/*.json; do
	jq -c . "$f"
done >"$LAB/ours.jsonl"
N=$(wc -l <"$LAB/ours.jsonl")
check "fixture: 21 of our measurements" 21 "$N"
gzip -c "$LAB/ours.jsonl" >"$LAB/ours.jsonl.gz"
zstd -q -c "$LAB/ours.jsonl" >"$LAB/ours.jsonl.zst"
# CRLF, blank lines: the same measurements once the line ends are gone
awk '{ printf "%s\r\n\r\n", $0 }' "$LAB/ours.jsonl" >"$LAB/ours-crlf.jsonl"

imp "$LAB/s1" "$LAB/ours.jsonl"
check "import of 21 exits 0" 0 $?
check "21 stored" 21 "$(field "$LAB/s1" "$LAB/ours.jsonl" stored)"
check "the store holds 21" 21 "$(count)"
check_match "the summary has a total with the rate" \
	"^total: 1 files \\(0 failed, 0 not read\\), 21 lines: 21 stored.* lines/s; peak RSS [0-9]+ kB" \
	"$(cat "$LAB/s1")"
check "no progress bar when stderr is not a terminal" "" \
	"$(cat "$LAB/s1.err")"

imp "$LAB/s2" "$LAB/ours.jsonl.gz" "$LAB/ours.jsonl.zst" "$LAB/ours-crlf.jsonl"
check "again as .gz, .zst and CRLF: exits 0" 0 $?
check_match ".gz read as gzip: 21 duplicates" \
	"ours.jsonl.gz \\(gzip, .*21 lines: 0 stored, 21 duplicates" "$(cat "$LAB/s2")"
check_match ".zst read as zstd: 21 duplicates" \
	"ours.jsonl.zst \\(zstd, .*21 lines: 0 stored, 21 duplicates" "$(cat "$LAB/s2")"
check_match "CRLF and blank lines: 21 duplicates (the same bytes)" \
	"ours-crlf.jsonl \\(plain, .*21 lines: 0 stored, 21 duplicates, 0 conflicts, 0 refused" \
	"$(cat "$LAB/s2")"
check "nothing stored twice" 21 "$(count)"

# on a terminal (script(1) gives it one): the bar, then the summary
if command -v script >/dev/null 2>&1; then
	timeout 60 script -qec "'$COLLECTOR' import --db '$DB' '$LAB/ours.jsonl.gz'" \
		/dev/null </dev/null >"$LAB/tty" 2>&1
	check "on a terminal: exits 0" 0 $?
	check_match "on a terminal: the progress bar (file, bar, %, lines/s)" \
		"ours\.jsonl\.gz \[#+\.*\] +[0-9]+% .* of .*, [0-9]+ lines, [0-9]+ lines/s" \
		"$(tr '\r' '\n' <"$LAB/tty")"
	check_match "on a terminal: the bar erased, the summary after it" \
		"$(printf '\033')\\[K.*ours\.jsonl\.gz \(gzip" \
		"$(tr '\r' '\n' <"$LAB/tty")"
fi

timeout 60 "$COLLECTOR" import --db "$DB" - <"$LAB/ours.jsonl" >"$LAB/s3" 2>&1
check "standard input (-): exits 0" 0 $?
check_match "standard input: 21 duplicates" \
	"^\\(standard input\\) \\(plain, .*21 lines: 0 stored, 21 duplicates" \
	"$(cat "$LAB/s3")"

imp "$LAB/s4" --max-line 1000 "$LAB/ours.jsonl"
check "lines over --max-line: exit 3 (refused)" 3 $?
check_match "each refused as too long, with its line numbers" \
	"refused 21: the line is longer than 1000 bytes \\(lines 1, 2, 3, \\.\\.\\.\\)" \
	"$(cat "$LAB/s4")"

# --- OONI's measurements -----------------------------------------------------
# OONI's own (web_connectivity 0.5.x, docs/ooni-data.md): every one stored,
# with our verdict (tests/data/ooni/expected.tsv), and the second import
# stores nothing.
cat tests/data/ooni/qa/*.json | gzip -c >"$LAB/ooni.jsonl.gz"
imp "$LAB/o1" "$LAB/ooni.jsonl.gz"
rc=$?
stored=$(field "$LAB/o1" "$LAB/ooni.jsonl.gz" stored)
refused=$(field "$LAB/o1" "$LAB/ooni.jsonl.gz" refused)
check "OONI: 52 lines read" 52 "$(field "$LAB/o1" "$LAB/ooni.jsonl.gz" lines:)"
check "OONI: all 52 stored" "52 0" "$stored $refused"
check "OONI: exit status 0" 0 $rc
# our analysis ran on each: the verdicts, counted by (blocking,
# accessible), are those of tests/data/ooni/expected.tsv's qa rows
check "OONI: our verdicts are expected.tsv's" \
	"$(awk -F '\t' '$1 ~ /^qa\// {
		a = $5 == "true" ? 1 : $5 == "false" ? 0 : "-"
		print ($4 == "null" ? "-" : $4) " " a }' \
		tests/data/ooni/expected.tsv | sort | uniq -c)" \
	"$(sql "SELECT coalesce(blocking, '-'), coalesce(CAST(accessible AS
		text), '-') FROM measurements WHERE test_name =
		'web_connectivity'" | sort | uniq -c)"
check "OONI: the source is kept" "miniooni 2
ooniprobe 50" \
	"$(sql "SELECT software_name, count(*) FROM measurements
		WHERE test_name = 'web_connectivity' GROUP BY software_name
		ORDER BY software_name")"
echo "# OONI's 52 QA measurements: $stored stored, $refused refused"
imp "$LAB/o2" "$LAB/ooni.jsonl.gz"
check "OONI again: nothing stored" 0 "$(field "$LAB/o2" "$LAB/ooni.jsonl.gz" stored)"
check "OONI again: the stored ones are duplicates" "$stored" \
	"$(field "$LAB/o2" "$LAB/ooni.jsonl.gz" duplicates)"
check "the store holds ours and OONI's stored ones" $((21 + stored)) "$(count)"

# --- broken files ------------------------------------------------------------
# 3,000 new measurements (unique uids), gzip'd and cut at 60%; then a file
# of 21 more new ones in the same run.
awk -v n=3000 '{ t[NR] = $0 } END {
	for (i = 0; i < n; i++) {
		l = t[i % NR + 1]
		sub(/"measurement_uid":"[^"]*"/, "\"measurement_uid\":\"cut" i "\"", l)
		print l
	} }' "$LAB/ours.jsonl" >"$LAB/cut.jsonl"
sed 's/"measurement_uid":"/"measurement_uid":"next/' "$LAB/ours.jsonl" \
	>"$LAB/next.jsonl"
gzip -c "$LAB/cut.jsonl" >"$LAB/full.gz"
size=$(wc -c <"$LAB/full.gz")
head -c $((size * 6 / 10)) "$LAB/full.gz" >"$LAB/cut.jsonl.gz"
before=$(count)
imp "$LAB/t1" "$LAB/cut.jsonl.gz" "$LAB/next.jsonl"
check "truncated .gz: exit status 2" 2 $?
line=$(sed -n 's/.*cut\.jsonl\.gz:\([0-9][0-9]*\): the gzip data is truncated.*/\1/p' \
	"$LAB/t1.err")
check_match "truncated .gz: the error names file:line" "^[0-9]+$" "$line"
check_match "truncated .gz: in the summary too" \
	"error: .*cut\\.jsonl\\.gz:$line: the gzip data is truncated \\(it ends inside a member\\); the $((line - 1)) lines before it were taken" \
	"$(cat "$LAB/t1")"
taken=$(field "$LAB/t1" "$LAB/cut.jsonl.gz" stored)
check "truncated .gz: every line before it stored" $((line - 1)) "$taken"
check "truncated .gz: and kept (committed), the next file read too" \
	$((before + line - 1 + 21)) "$(count)"
check "truncated .gz: most of the file came before the cut" 1 \
	"$([ "$line" -gt 1000 ] && [ "$line" -lt 3000 ] && echo 1)"
check "the next file was read: 21 stored" 21 \
	"$(field "$LAB/t1" "$LAB/next.jsonl" stored)"
check_match "the total names the failed file" "^total: 2 files \\(1 failed" \
	"$(cat "$LAB/t1")"

# a byte of the deflate data changed: corrupt, or caught by the CRC-32
cp "$LAB/full.gz" "$LAB/corrupt.jsonl.gz"
printf '\377\377\377\377' | dd of="$LAB/corrupt.jsonl.gz" bs=1 \
	seek=$((size / 2)) conv=notrunc 2>/dev/null
imp "$LAB/c1" "$LAB/corrupt.jsonl.gz"
check "corrupt .gz: exit status 2" 2 $?
check_match "corrupt .gz: file:line and why" \
	"corrupt\\.jsonl\\.gz:[0-9]+: the gzip data is corrupt \\(" \
	"$(cat "$LAB/c1.err")"
check "corrupt .gz: what came before it was stored (duplicates now)" 1 \
	"$([ "$(field "$LAB/c1" "$LAB/corrupt.jsonl.gz" duplicates)" -gt 0 ] &&
		echo 1)"

cp "$LAB/ours.jsonl" "$LAB/plain.jsonl.gz"
imp "$LAB/n1" "$LAB/plain.jsonl.gz"
check "plain text named .gz: exit status 2" 2 $?
check_match "plain text named .gz: said so" \
	"plain\\.jsonl\\.gz: named like gzip data, but its first bytes are not gzip's" \
	"$(cat "$LAB/n1.err")"
check "plain text named .gz: nothing taken" 0 \
	"$(field "$LAB/n1" "$LAB/plain.jsonl.gz" duplicates)"
imp "$LAB/n2" "$LAB/missing.jsonl"
check "a missing file: exit status 2" 2 $?
check_match "a missing file: named" "missing\\.jsonl: cannot open" \
	"$(cat "$LAB/n2.err")"

# --- ~100 MB in bounded memory ---------------------------------------------
# 24,000 new measurements of ~4.3 kB; RSS from the command's own summary
# (getrusage) and from /usr/bin/time -v when installed.
awk -v n=24000 '{ t[NR] = $0 } END {
	for (i = 0; i < n; i++) {
		l = t[i % NR + 1]
		sub(/"measurement_uid":"[^"]*"/, "\"measurement_uid\":\"big" i "\"", l)
		print l
	} }' "$LAB/ours.jsonl" >"$LAB/big.jsonl"
bytes=$(wc -c <"$LAB/big.jsonl")
check "the big file is over 100 MB" 1 "$([ "$bytes" -gt 100000000 ] && echo 1)"
if [ -x /usr/bin/time ]; then
	/usr/bin/time -v -o "$LAB/time" timeout 600 "$COLLECTOR" import \
		--db "$DB" "$LAB/big.jsonl" >"$LAB/b1" 2>"$LAB/b1.err"
	rc=$?
	tv=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$LAB/time")
else
	imp "$LAB/b1" "$LAB/big.jsonl"
	rc=$?
	tv=
fi
check "big file: exit status 0" 0 $rc
check "big file: 24000 stored" 24000 "$(field "$LAB/b1" "$LAB/big.jsonl" stored)"
rss=$(sed -n 's/.*peak RSS \([0-9]*\) kB.*/\1/p' "$LAB/b1")
echo "# ${bytes} bytes imported with a peak RSS of ${rss} kB" \
	"(/usr/bin/time: ${tv:-not installed} kB)"
# Reading the file whole would need its 100 MB at least. What the import
# holds: SQLite's page cache (the store sets 64 MiB: PRAGMA cache_size,
# filled as the database grows), a batch (1,000 lines of ~4.3 kB and their
# compressed copies) and a line.
if [ -z "${ASAN_OPTIONS:-}" ]; then
	check "big file: peak RSS under 96 MiB (the summary's)" 1 \
		"$([ "$rss" -lt 98304 ] && echo 1)"
	[ -n "$tv" ] && check "big file: peak RSS under 96 MiB (/usr/bin/time)" 1 \
		"$([ "$tv" -lt 98304 ] && echo 1)"
fi
# The reader alone (every line refused as too long: nothing parsed or
# stored): a line's buffer and a chunk.
imp "$LAB/b2" --max-line 100 "$LAB/big.jsonl"
check "big file, reader alone: exit 3, 24000 refused" "3 24000" \
	"$? $(field "$LAB/b2" "$LAB/big.jsonl" refused)"
rss=$(sed -n 's/.*peak RSS \([0-9]*\) kB.*/\1/p' "$LAB/b2")
echo "# the reader alone: peak RSS ${rss} kB"
[ -z "${ASAN_OPTIONS:-}" ] &&
	check "big file, reader alone: peak RSS under 32 MiB" 1 \
		"$([ "$rss" -lt 32768 ] && echo 1)"

finish
