#!/bin/sh
# volunteer.sh PROBE COLLECTOR FAKENET FAKECOL - the probe run by a
# volunteer (docs/volunteer.md), on loopback: `run` uploading to the real
# collector (stored, spool emptied, network learned, a loopback address not
# taken as the volunteer's); the volunteer's address scrubbed from the
# output, the spool, the export (text, headers, base64 bodies), with the
# network from whoami and the command line's --probe-cc/--probe-asn
# winning; collectors that fail (500, 503, silence, a dropped connection,
# refusal) with a good one behind, alone, and `upload` to finish the job;
# the configuration file and its errors; consent (no terminal, --yes, a
# terminal through script(1), a new category, --exclude-category);
# --cooldown, --max-bytes, --max-body; the spool cap dropping the oldest
# bodies; `export`; and the daemon (runs, SIGUSR1, SIGHUP with a bad and a
# good file, one daemon per state directory, `upload` asking it, SIGTERM
# with a measurement in flight).
#
# Everything is on 127.0.0.1: the targets are fakenet's, the resolver is
# fakenet's, the default test lists (WALLWATCH_TESTLISTS) are a CSV of
# loopback URLs written here, and no configuration file is read unless a
# test names one (WALLWATCH_PROBE_CONF=/dev/null).
# $L, $C5, $C6 are option lists, split on purpose; jq's $u is jq's.
# shellcheck disable=SC2086,SC2016
set -u
PROBE=$1
COLLECTOR=$2
FAKENET=$3
FAKECOL=$4
. tests/integration/lib.sh
lab_start "$FAKENET"
COL_PID=
PIDS=

cleanup_all() {
	for p in $PIDS $COL_PID; do kill "$p" 2>/dev/null; done
	for p in $PIDS $COL_PID; do wait "$p" 2>/dev/null; done
	lab_cleanup
}
trap cleanup_all EXIT

export WALLWATCH_PROBE_CONF=/dev/null
TL=$LAB/tl
mkdir -p "$TL"
export WALLWATCH_TESTLISTS=$TL
H=http://127.0.0.1:$HTTP_PORT
# (--timeout 10: every target here answers; a loaded machine must not turn
# a 200 kB /big into a timeout. Nothing below waits one out.)
L="--resolver 127.0.0.1:$DNS_PORT --ca-file $LAB/ca.pem --timeout 10"
CSV_HEAD=url,category_code,category_description,date_added,source,notes
{
	echo "$CSV_HEAD"
	echo "$H/ok,NEWS,News Media,2026-01-01,wallwatch-test,"
	echo "$H/,HUMR,Human Rights Issues,2026-01-01,wallwatch-test,"
} >"$TL/a.csv"

# probe ARGS...: the probe, no terminal, at most 90 s; sets RC, OUT, ERR
# (every stderr is also kept in $LAB/all.err for the sanitizer check).
probe() {
	timeout 90 "$PROBE" "$@" >"$LAB/stdout" 2>"$LAB/stderr" </dev/null
	RC=$?
	OUT=$(cat "$LAB/stdout")
	ERR=$(cat "$LAB/stderr")
	cat "$LAB/stderr" >>"$LAB/all.err"
}

# fc_start NAME [ARGS...]: a fakecollector, its uids in $LAB/NAME.log;
# sets FC to its base URL (a mode goes after it: $FC/ok).
fc_start() {
	_n=$1
	shift
	"$FAKECOL" --port-file "$LAB/$_n.port" --log "$LAB/$_n.log" \
		--lifetime 3600 "$@" >"$LAB/$_n.out" 2>"$LAB/$_n.err" &
	_p=$!
	PIDS="$PIDS $_p"
	# (the port file is written whole, with rename(), after the bind)
	if ! wait_until 120 alive_and_not "$_p" test -s "$LAB/$_n.port" ||
		[ ! -s "$LAB/$_n.port" ]; then
		echo "fakecollector did not start:" >&2
		cat "$LAB/$_n.err" >&2
		exit 1
	fi
	touch "$LAB/$_n.log"
	FC=http://127.0.0.1:$(cat "$LAB/$_n.port")
}

js() { printf '%s' "$OUT" | jq -r "$@"; }
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
queued() { find "$1/spool/queue" -name '*.json' | wc -l | tr -d ' '; }
# uids of a JSON Lines file missing from a fakecollector's log
missing() {
	jq -r .measurement_uid "$1" | while read -r u; do
		grep -qxF "$u" "$2" || echo "$u"
	done
}
# seconds since the epoch of each measurement_start_time, sorted
starts() {
	jq -r '.measurement_start_time | strptime("%Y-%m-%d %H:%M:%S") | mktime' \
		"$1" | sort -n
}
# wait_for FILE REGEX: until FILE matches (0), or 120 s have passed (1:
# the bound of a broken test, not of a slow machine)
wait_for() { wait_until 120 grep -Eq -- "$2" "$1"; }
ADDR_RE='203\.0\.113\.7|7\.113\.0\.203|203-0-113-7'
# leak_bin FILES...: the /leak-binary body of those measurements, decoded,
# in hex
leak_bin() {
	cat "$@" | jq -r 'select(.input | endswith("/leak-binary")) |
		.test_keys.requests[0].response.body.data' | base64 -d |
		od -An -v -tx1 | tr -d ' \n'
}

# --- 1. run with the real collector -----------------------------------------
DB=$LAB/col.db
lab_collector "$LAB/col.err" "$COLLECTOR" "$DB"
REAL=http://127.0.0.1:$PORT
ST=$LAB/s1
probe run $L --state-dir "$ST" --collector "$REAL" --input "$H/" \
	--input "$H/ok" --output "$LAB/r1.jsonl"
check "real collector: run exits 0" 0 "$RC"
check "real collector: two measured" 2 "$(lines "$LAB/r1.jsonl")"
check "real collector: both stored in its database" \
	"$(jq -r .measurement_uid "$LAB/r1.jsonl" | sort | tr '\n' ' ')" \
	"$(sqlite3 "$DB" 'SELECT uid FROM measurements ORDER BY uid' | tr '\n' ' ')"
check "real collector: spool empty afterwards" 0 "$(queued "$ST")"
check "real collector: measurements carry the learned network" \
	"AS64500 DE" \
	"$(jq -r '"\(.probe_asn) \(.probe_cc)"' "$LAB/r1.jsonl" | sort -u)"
# (no --collector: status lists the collectors seen in state.json)
probe status --state-dir "$ST" --json
check "status --json: exit 0" 0 "$RC"
check_match "status: the collector's last success" '^[0-9]{4}-[0-9]{2}-[0-9]{2} ' \
	"$(js --arg u "$REAL" '.collectors[] | select(.url == $u) | .last_success')"
check "status: counters.sent" 2 "$(js .counters.sent)"
check "status: network AS64500/DE learned" "AS64500 DE $REAL" \
	"$(js '"\(.network.asn) \(.network.cc) \(.network.from)"')"
check "status: a loopback whoami address is not the volunteer's" 0 \
	"$(js .own_addresses_known)"
check "status: nothing queued" 0 "$(js .queue.measurements)"
probe status --state-dir "$ST"
check_match "status (text): the collector and its success" \
	"last success +[0-9]{4}-" "$OUT"

# --- 2. scrubbing -------------------------------------------------------------
fc_start leak --whoami-ip 203.0.113.7 --whoami-asn AS64511 --whoami-cc NL
LFC=$FC
ST=$LAB/s2
probe run $L --state-dir "$ST" --collector "$LFC/500" --retry-quick 60 \
	--input "$H/leak" --input "$H/leak-binary" --output "$LAB/r2.jsonl"
check "scrub: run exits 0 (the collector's failure aside)" 0 "$RC"
check "scrub: two measured" 2 "$(lines "$LAB/r2.jsonl")"
check "scrub: the address nowhere in --output" 0 \
	"$(grep -Ec "$ADDR_RE" "$LAB/r2.jsonl")"
LEAK=$(jq -c 'select(.input | endswith("/leak")) | .test_keys.requests[0].response' \
	"$LAB/r2.jsonl")
check_match "scrub: [scrubbed] in the /leak body" \
	'Your address is \[scrubbed\] \(reverse \[scrubbed\]\.in-addr\.arpa, ip-\[scrubbed\]\.example\)' \
	"$(printf '%s' "$LEAK" | jq -r .body)"
check "scrub: [scrubbed] in the /leak header" "[scrubbed]" \
	"$(printf '%s' "$LEAK" | jq -r '.headers["X-Client-Address"]')"
check "scrub: ... and in headers_list" "[scrubbed]" \
	"$(printf '%s' "$LEAK" | jq -r '.headers_list[] | select(.[0] == "X-Client-Address") | .[1]')"
# The original body's hash would confirm a guessed address: it goes.
check "scrub: a scrubbed body loses its SHA-256" "null null" \
	"$(jq -r 'select(.input | endswith("/leak") or endswith("/leak-binary")) | .test_keys.requests[0].response.body_sha256' "$LAB/r2.jsonl" | paste -sd' ' -)"
jq -r 'select(.input | endswith("/leak-binary")) | .test_keys.requests[0].response.body.data' \
	"$LAB/r2.jsonl" | base64 -d >"$LAB/bin" 2>/dev/null
check "scrub: /leak-binary body is base64" base64 \
	"$(jq -r 'select(.input | endswith("/leak-binary")) | .test_keys.requests[0].response.body.format' "$LAB/r2.jsonl")"
check "scrub: the decoded body has no 203.0.113.7" 0 \
	"$(grep -ac '203\.0\.113\.7' "$LAB/bin")"
check "scrub: the decoded body has no raw cb 00 71 07" "" \
	"$(leak_bin "$LAB/r2.jsonl" | grep -o 'cb007107')"
# 00 ff "addr=[scrubbed];" ...
check_match "scrub: the decoded body was scrubbed, not dropped" \
	'^00ff616464723d5b73637275626265645d3b' "$(leak_bin "$LAB/r2.jsonl")"
check "scrub: probe_asn/probe_cc from whoami" "AS64511 NL" \
	"$(jq -r '"\(.probe_asn) \(.probe_cc)"' "$LAB/r2.jsonl" | sort -u)"
check "scrub: both queued (/500)" 2 "$(queued "$ST")"
check "scrub: the address nowhere in the spool" "" \
	"$(grep -Erl "$ADDR_RE" "$ST/spool" 2>/dev/null)"
check "scrub: [scrubbed] in the spool (the /leak text)" 1 \
	"$(grep -l '\[scrubbed\]' "$ST"/spool/queue/*.json | wc -l | tr -d ' ')"
probe status --state-dir "$ST" --json
check_match "scrub: the spool's /leak-binary decodes, scrubbed" \
	'^00ff616464723d5b73637275626265645d3b' "$(leak_bin "$ST"/spool/queue/*.json)"
check "scrub: ... without the raw bytes" "" \
	"$(leak_bin "$ST"/spool/queue/*.json | grep -o 'cb007107')"
check "scrub: one own address known" 1 "$(js .own_addresses_known)"
check "scrub: network AS64511/NL" "AS64511 NL" \
	"$(js '"\(.network.asn) \(.network.cc)"')"
check "scrub: the address not in status" 0 \
	"$(printf '%s' "$OUT" | grep -Ec "$ADDR_RE")"
probe export --state-dir "$ST" --output "$LAB/e2.jsonl"
check "scrub: export exits 0" 0 "$RC"
check "scrub: export has both" 2 "$(lines "$LAB/e2.jsonl")"
check "scrub: the address nowhere in the export" 0 \
	"$(grep -Ec "$ADDR_RE" "$LAB/e2.jsonl")"
check "scrub: export keeps [scrubbed] (the /leak text)" 1 \
	"$(grep -c '\[scrubbed\]' "$LAB/e2.jsonl")"
check_match "scrub: the export's /leak-binary decodes, scrubbed" \
	'^00ff616464723d5b73637275626265645d3b' "$(leak_bin "$LAB/e2.jsonl")"
check "scrub: ... without the raw bytes" "" \
	"$(leak_bin "$LAB/e2.jsonl" | grep -o 'cb007107')"
probe upload --state-dir "$ST" --collector "$LFC/ok"
check "scrub: upload to /ok exits 0" 0 "$RC"
check "scrub: /ok got both" "" "$(missing "$LAB/r2.jsonl" "$LAB/leak.log")"
check "scrub: spool empty" 0 "$(queued "$ST")"
probe run $L --state-dir "$ST" --collector "$LFC/ok" --probe-cc FR \
	--probe-asn AS3215 --input "$H/leak" --output "$LAB/r2b.jsonl"
check "--probe-cc/--probe-asn win over whoami" "AS3215 FR" \
	"$(jq -r '"\(.probe_asn) \(.probe_cc)"' "$LAB/r2b.jsonl")"
check "... and the address is still scrubbed" 0 \
	"$(grep -Ec "$ADDR_RE" "$LAB/r2b.jsonl")"
check "... and uploaded" "" "$(missing "$LAB/r2b.jsonl" "$LAB/leak.log")"

# --- 3. collectors that fail ---------------------------------------------------
fc_start modes
MFC=$FC
for mode in 500 hang close 503; do
	ST=$LAB/s3-$mode
	probe run $L --state-dir "$ST" --collector "$MFC/$mode" \
		--collector "$MFC/ok" --upload-timeout 2 --retry-quick 60 \
		--input "$H/" --input "$H/ok" --output "$LAB/r3-$mode.jsonl"
	check "/$mode then /ok: run exits 0" 0 "$RC"
	check "/$mode then /ok: two measured" 2 "$(lines "$LAB/r3-$mode.jsonl")"
	check "/$mode then /ok: every measurement reached /ok" "" \
		"$(missing "$LAB/r3-$mode.jsonl" "$LAB/modes.log")"
	check "/$mode then /ok: spool empty" 0 "$(queued "$ST")"
	probe status --state-dir "$ST" --json
	case $mode in
	500 | 503) want='^http_request_failed$' ;;
	hang) want='^generic_timeout_error$' ;;
	close) want='^(eof_error|connection_reset)$' ;;
	esac
	check_match "/$mode: status names its failure" "$want" \
		"$(js --arg u "$MFC/$mode" '.collectors[] | select(.url == $u) | .last_error')"
	check_match "/$mode: and /ok's success" '^[0-9]{4}-' \
		"$(js --arg u "$MFC/ok" '.collectors[] | select(.url == $u) | .last_success')"
done
check_match "/503: the failure's detail" 'HTTP 503' \
	"$(js --arg u "$MFC/503" '.collectors[] | select(.url == $u) | .last_error_detail')"

# Only a failing collector: the spool keeps everything until `upload`
# reaches a good one.
ST=$LAB/s3-only
probe run $L --state-dir "$ST" --collector "$MFC/500" --retry-quick 60 \
	--input "$H/" --input "$H/ok" --output "$LAB/r3-only.jsonl"
check "only /500: run exits 0" 0 "$RC"
check "only /500: both queued" 2 "$(queued "$ST")"
check_match "only /500: run says they are queued" \
	"2 measurement\(s\) queued for upload" "$ERR"
probe upload --state-dir "$ST" --collector "$MFC/500"
check "only /500: upload exits 2" 2 "$RC"
check_match "only /500: upload names the failure" \
	"still queued.*http_request_failed" "$(printf '%s' "$ERR" | tr '\n' ' ')"
check "only /500: the spool keeps both" 2 "$(queued "$ST")"
probe status --state-dir "$ST" --json
check_match "only /500: status shows the next attempt" \
	'^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}$' "$(js .upload.next_attempt)"
check_match "only /500: and failed rounds" '^[1-9]' "$(js .upload.failed_rounds)"
probe status --state-dir "$ST"
check_match "only /500: status (text) shows the next upload" "next upload" "$OUT"
T0=$(date +%s)
probe upload --state-dir "$ST" --collector "$MFC/hang" --upload-timeout 2
check "only /hang: upload exits 2" 2 "$RC"
# (under 30 s for --upload-timeout 2, two measurements: the default, 60 s,
# or no timeout at all would fail; a slow start of the probe would not)
check_match "only /hang: given up within --upload-timeout" '^([0-9]|[12][0-9])$' \
	"$(($(date +%s) - T0))"
probe upload --state-dir "$ST" --collector "$MFC/ok"
check "then upload to /ok: exit 0 (back-off ignored)" 0 "$RC"
check "then upload to /ok: spool empty" 0 "$(queued "$ST")"
check "then upload to /ok: both arrived" "" \
	"$(missing "$LAB/r3-only.jsonl" "$LAB/modes.log")"
probe upload --state-dir "$ST" --collector "$MFC/ok"
check "an empty spool: upload exits 0" "0 nothing queued" "$RC $OUT"

# Refused: kept in spool/rejected with the reason, never sent again.
ST=$LAB/s3-reject
probe run $L --state-dir "$ST" --collector "$MFC/reject" \
	--input "$H/" --input "$H/ok" --output "$LAB/r3-rej.jsonl"
check "/reject: run exits 0" 0 "$RC"
check "/reject: both in spool/rejected" 2 \
	"$(find "$ST/spool/rejected" -name '*.json' | wc -l | tr -d ' ')"
check "/reject: each with a .why" 2 \
	"$(grep -l "$MFC/reject refused it: test_keys: refused by fakecollector" \
		"$ST"/spool/rejected/*.json.why | wc -l | tr -d ' ')"
check "/reject: nothing left in the queue" 0 "$(queued "$ST")"
probe status --state-dir "$ST" --json
check "/reject: status counts them" "2 2" \
	"$(js '"\(.queue.rejected) \(.counters.rejected)"')"
probe upload --state-dir "$ST" --collector "$MFC/ok"
check "/reject: upload has nothing to send" "0 nothing queued" "$RC $OUT"
check "/reject: never sent to /ok" "$(jq -r .measurement_uid "$LAB/r3-rej.jsonl" | sort | tr '\n' ' ')" \
	"$(missing "$LAB/r3-rej.jsonl" "$LAB/modes.log" | sort | tr '\n' ' ')"

# --- 4. the configuration file ------------------------------------------------
fc_start conf
CFC=$FC
CONF=$LAB/probe.conf
cat >"$CONF" <<EOF
# a volunteer's configuration
collector = $CFC/ok
exclude-category = HUMR

timeout = 2
resolver = "127.0.0.1:$DNS_PORT"
  ca-file   =   $LAB/ca.pem
quiet = true
EOF
ST=$LAB/s4
probe run --config "$CONF" --state-dir "$ST" --list "$TL/a.csv" \
	--output "$LAB/r4.jsonl"
check "config: run exits 0" 0 "$RC"
check "config: quiet = true" "" "$ERR"
check "config: exclude-category = HUMR leaves NEWS" NEWS \
	"$(jq -r .test_keys.category_code "$LAB/r4.jsonl" | sort -u | tr '\n' ' ' | sed 's/ $//')"
check "config: timeout = 2" 2 "$(jq -r .options.timeout "$LAB/r4.jsonl" | sort -u)"
check "config: uploaded to the file's collector" "" \
	"$(missing "$LAB/r4.jsonl" "$LAB/conf.log")"
printf 'timeout = 2\ncolector = %s/ok\n' "$CFC" >"$LAB/bad1.conf"
probe run --config "$LAB/bad1.conf" --state-dir "$ST" --input "$H/"
check "config: unknown key: exit 1" 1 "$RC"
check_match "config: unknown key named with FILE:LINE" \
	"bad1\\.conf:2: unknown key \"colector\"" "$ERR"
printf '# timeouts\n\ntimeout = x\n' >"$LAB/bad2.conf"
probe run --config "$LAB/bad2.conf" --state-dir "$ST" --input "$H/"
check "config: timeout = x: exit 1" 1 "$RC"
check_match "config: bad value named with FILE:LINE" \
	"bad2\\.conf:3: bad timeout \"x\"" "$ERR"
printf 'collector = %s/ok # the backup\n' "$CFC" >"$LAB/bad3.conf"
probe upload --config "$LAB/bad3.conf" --state-dir "$ST"
check "config: '# ...' after a value is not a comment: exit 1" 1 "$RC"
check_match "config: ... a bad collector URL at FILE:LINE" \
	"bad3\\.conf:1: bad collector" "$ERR"
probe run --config "$LAB/nope.conf" --state-dir "$ST" --input "$H/"
check "config: a missing --config: exit 1" 1 "$RC"
check_match "config: the missing file named" "nope\\.conf" "$ERR"
printf 'collector = http://127.0.0.1:%s/dead\n' "$TCP_CLOSED_PORT" \
	>"$LAB/dead.conf"
ST=$LAB/s4b
probe run $L --config "$LAB/dead.conf" --state-dir "$ST" \
	--collector "$CFC/ok" --input "$H/" --output "$LAB/r4b.jsonl"
check "config: --collector replaces the file's: run exits 0" 0 "$RC"
check "config: only the command line's collector was tried" "$CFC/ok" \
	"$(jq -r '.collectors | keys | join(" ")' "$ST/state.json")"
check "config: ... and got it" "" "$(missing "$LAB/r4b.jsonl" "$LAB/conf.log")"
probe upload --state-dir "$ST"
check "config: WALLWATCH_PROBE_CONF=/dev/null: no collector, exit 1" 1 "$RC"
WALLWATCH_PROBE_CONF=$CONF probe upload --state-dir "$ST"
check "config: WALLWATCH_PROBE_CONF read (its collector, quiet)" \
	"0 " "$RC $OUT$ERR"
WALLWATCH_PROBE_CONF=$LAB/bad1.conf probe status --state-dir "$ST"
check "config: WALLWATCH_PROBE_CONF with a bad key: exit 1" 1 "$RC"
check_match "config: ... named" "bad1\\.conf:2: unknown key" "$ERR"
WALLWATCH_PROBE_CONF=$LAB/bad1.conf probe upload --config "$CONF" \
	--state-dir "$ST"
check "config: --config wins over WALLWATCH_PROBE_CONF" 0 "$RC"

# --- 5. consent -----------------------------------------------------------------
# No --list, no --input: the "bundled" lists, here $TL (NEWS and HUMR).
ST=$LAB/s5
C5="$L --state-dir $ST --output $LAB/r5.jsonl"
probe run $C5
check "consent: no terminal, no --yes: exit 1" 1 "$RC"
check_match "consent: the categories named" "HUMR,NEWS" "$ERR"
check_match "consent: --yes named" "--yes" "$ERR"
check "consent: nothing measured" 0 "$(lines "$LAB/r5.jsonl")"
probe run $C5 --yes
check "consent: --yes: exit 0" 0 "$RC"
check "consent: --yes: both measured" 2 "$(lines "$LAB/r5.jsonl")"
check "consent: consent.json records the categories" "HUMR,NEWS --yes" \
	"$(jq -r '"\(.categories | sort | join(",")) \(.how)"' "$ST/consent.json")"
probe run $C5
check "consent: remembered (no --yes the second time)" "0 4" \
	"$RC $(lines "$LAB/r5.jsonl")"
printf '%s\n%s\n' "$CSV_HEAD" \
	"$H/keyword-path,LGBT,LGBT,2026-01-01,wallwatch-test," >"$TL/b.csv"
probe run $C5
check "consent: a new category asks again: exit 1" 1 "$RC"
check_match "consent: ... naming it" "HUMR,LGBT,NEWS" "$ERR"
probe run $C5 --exclude-category LGBT
check "consent: the new category excluded: no question" "0 6" \
	"$RC $(lines "$LAB/r5.jsonl")"
rm -f "$TL/b.csv"
probe status --state-dir "$ST" --json
check "consent: status shows it" "HUMR,NEWS" \
	"$(js '.consent.categories | sort | join(",")')"

if command -v script >/dev/null 2>&1; then
	ST=$LAB/s5t
	CMD="$PROBE run $L --state-dir $ST --output $LAB/r5t.jsonl --exclude-category HUMR"
	printf 'n\n' | timeout 120 script -qec "$CMD" /dev/null >"$LAB/tty.out" 2>&1
	check "terminal: 'n': exit 1" 1 $?
	cat "$LAB/tty.out" >>"$LAB/all.err"
	check_match "terminal: the question" "Measure these categories\\? \\[y/N\\]" \
		"$(cat "$LAB/tty.out")"
	check_match "terminal: NEWS listed" "NEWS +1 target" "$(cat "$LAB/tty.out")"
	check "terminal: the excluded HUMR not asked about" 0 \
		"$(grep -c HUMR "$LAB/tty.out")"
	check_match "terminal: 'n': nothing measured" "nothing measured" \
		"$(cat "$LAB/tty.out")"
	check "terminal: 'n': no measurement, no consent" "0 no" \
		"$(lines "$LAB/r5t.jsonl") $([ -e "$ST/consent.json" ] && echo yes || echo no)"
	printf 'y\n' | timeout 120 script -qec "$CMD" /dev/null >"$LAB/tty.out" 2>&1
	check "terminal: 'y': exit 0" 0 $?
	cat "$LAB/tty.out" >>"$LAB/all.err"
	check "terminal: consent recorded" "NEWS terminal" \
		"$(jq -r '"\(.categories | join(",")) \(.how)"' "$ST/consent.json" 2>&1)"
	check "terminal: only NEWS measured" "1 NEWS" \
		"$(lines "$LAB/r5t.jsonl") $(jq -r .test_keys.category_code "$LAB/r5t.jsonl" 2>&1)"
	# a VPN server in the lists: the question says what a handshake shows
	printf '%s\n%s\n' "$CSV_HEAD" \
		"openvpn://127.0.0.1:9,ANON,ANON,2026-01-01,wallwatch-test," \
		>"$TL/v.csv"
	CMD="$PROBE run $L --state-dir $LAB/s5v --output $LAB/r5v.jsonl"
	printf 'n\n' | timeout 120 script -qec "$CMD" /dev/null >"$LAB/tty.out" 2>&1
	cat "$LAB/tty.out" >>"$LAB/all.err"
	check_match "terminal: a VPN server named as such" \
		"1 of them are VPN or QUIC servers" "$(cat "$LAB/tty.out")"
	rm -f "$TL/v.csv"
else
	echo "# skipped the terminal consent checks: no script(1)"
fi

# --- 6. cooldown ------------------------------------------------------------------
C6="$L --state-dir $LAB/s6 --concurrency 4 --input $H/ --input $H/ok --input $H/keyword-path"
probe run $C6 --cooldown 2 --output "$LAB/r6a.jsonl"
check "cooldown 2: exit 0, three measured" "0 3" "$RC $(lines "$LAB/r6a.jsonl")"
# gaps FILE: the seconds between consecutive starts, and the whole spread
gaps() {
	starts "$1" | awk 'NR > 1 { printf "%d ", $1 - p } NR == 1 { f = $1 }
		{ p = $1 } END { printf "spread %d", p - f }'
}
check_match "cooldown 2: starts at least 2 s apart" \
	'^([2-9]|[1-9][0-9]+) ([2-9]|[1-9][0-9]+) spread' "$(gaps "$LAB/r6a.jsonl")"
probe run $C6 --cooldown 0 --output "$LAB/r6b.jsonl"
check "cooldown 0: exit 0, three measured" "0 3" "$RC $(lines "$LAB/r6b.jsonl")"
check_match "cooldown 0: they start together" '^[01] [01] spread [01]$' \
	"$(gaps "$LAB/r6b.jsonl")"

# --- 7. --max-bytes, --max-body -------------------------------------------------------
ST=$LAB/s7
probe run $L --state-dir "$ST" --max-bytes 1 --concurrency 1 --input "$H/" \
	--input "$H/ok" --input "$H/keyword-path" --output "$LAB/r7.jsonl"
check_match "--max-bytes 1: fewer than 3 measured" '^[12]$' "$(lines "$LAB/r7.jsonl")"
check "--max-bytes 1: last_run.stopped" max-bytes \
	"$(jq -r .last_run.stopped "$ST/state.json")"
check_match "--max-bytes 1: said" "max-bytes reached" "$ERR"
probe run $L --state-dir "$ST" --max-body 1K --input "$H/big" \
	--output "$LAB/r7b.jsonl"
check "--max-body 1K: exit 0" 0 "$RC"
check "--max-body 1K: body cut at 1024, marked" "1024 true true 1024" \
	"$(jq -r '.test_keys.requests[0].response | "\(.body_length) \(.body_is_truncated) \(.body_download_capped) \(.body | length)"' "$LAB/r7b.jsonl")"

# --- 8. the spool cap ----------------------------------------------------------------
ST=$LAB/s8
set --
i=0
while [ $i -lt 20 ]; do
	i=$((i + 1))
	set -- "$@" --input "$H/big?n=$i"
done
probe run $L --state-dir "$ST" --collector "$MFC/500" --retry-quick 60 \
	--spool-max 1 --concurrency 1 --output /dev/null "$@"
check "spool cap: run exits 0" 0 "$RC"
check_match "spool cap: a warning about dropped bodies" \
	"dropped the HTTP bodies" "$ERR"
check "spool cap: all 20 still queued" 20 "$(queued "$ST")"
probe status --state-dir "$ST" --json
check_match "spool cap: counters.trimmed > 0" '^[1-9]' "$(js .counters.trimmed)"
check "spool cap: the queue within the cap" yes \
	"$([ "$(js .queue.bytes)" -le 1048576 ] && echo yes || echo no)"
TRIMMED=$(js .counters.trimmed)
# One line per file, oldest first: "true null" (trimmed) or "null body".
for f in $(find "$ST/spool/queue" -name '*.json' | sort); do
	jq -r '"\(.annotations.spool_trimmed) \(if .test_keys.requests[0].response.body == null then "null" else "body" end)"' "$f"
done >"$LAB/trim"
check "spool cap: the oldest trimmed (spool_trimmed, body null)" "true null" \
	"$(head -n 1 "$LAB/trim")"
check "spool cap: the newest untouched" "null body" "$(tail -n 1 "$LAB/trim")"
check "spool cap: exactly the oldest $TRIMMED trimmed" \
	"$(printf 'true null\n%.0s' $(seq "$TRIMMED"))" \
	"$(head -n "$TRIMMED" "$LAB/trim")"
check "spool cap: none of the others" 0 \
	"$(tail -n +"$((TRIMMED + 1))" "$LAB/trim" | grep -vc '^null body$')"

# --- 9. export --------------------------------------------------------------------------
snap() { (cd "$1/spool/queue" && ls && cat ./*.json) | cksum; }
BEFORE=$(snap "$ST")
probe export --state-dir "$ST" --output "$LAB/e9.jsonl"
check "export: exit 0" 0 "$RC"
check "export: one line per queued measurement" 20 "$(lines "$LAB/e9.jsonl")"
check "export: each line one JSON object" 20 \
	"$(jq -c 'select(type == "object")' "$LAB/e9.jsonl" | wc -l | tr -d ' ')"
check "export: exactly the queued ones" \
	"$(find "$ST/spool/queue" -name '*.json' -exec basename {} .json \; | sort | tr '\n' ' ')" \
	"$(jq -r .measurement_uid "$LAB/e9.jsonl" | sort | tr '\n' ' ')"
check "export: the spool unchanged" "$BEFORE" "$(snap "$ST")"
probe export --state-dir "$ST" --output -
check "export --output -: to standard output" 20 \
	"$(printf '%s\n' "$OUT" | grep -c measurement_uid)"
probe export --state-dir "$ST"
check "export without --output: exit 1" 1 "$RC"
check_match "export without --output: said" "--output" "$ERR"

# --- 10. the daemon -----------------------------------------------------------------------
fc_start dmn
DFC=$FC
ST=$LAB/s10
printf 'timeout = 2\n' >"$LAB/d.conf"
"$PROBE" daemon --config "$LAB/d.conf" --state-dir "$ST" \
	--collector "$DFC/ok" --interval 3 --cooldown 0 --retry-quick 0.5 \
	--resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" \
	--input "$H/" --input "$H/ok" >"$LAB/d.out" 2>"$LAB/d.err" </dev/null &
DPID=$!
PIDS="$PIDS $DPID"
uploaded_4() { [ "$(lines "$LAB/dmn.log")" -ge 4 ]; }
wait_until 120 uploaded_4
check_match "daemon: two runs uploaded (--interval 3)" '^([4-9]|[1-9][0-9]+)$' \
	"$(lines "$LAB/dmn.log")"
check "daemon: run 2 logged" 0 "$(wait_for "$LAB/d.err" 'run 2 ended'; echo $?)"
kill -USR1 "$DPID"
check "daemon: SIGUSR1 accepted" 0 \
	"$(wait_for "$LAB/d.err" 'SIGUSR1: uploading now'; echo $?)"
printf 'colector = x\n' >>"$LAB/d.conf"
kill -HUP "$DPID"
check "daemon: SIGHUP with a bad file: refused" 0 \
	"$(wait_for "$LAB/d.err" 'not reloaded'; echo $?)"
check_match "daemon: ... naming the line" 'd\.conf:2: unknown key "colector"' \
	"$(cat "$LAB/d.err")"
kill -0 "$DPID" 2>/dev/null
check "daemon: ... and still running" 0 $?
printf 'timeout = 3\n' >"$LAB/d.conf"
kill -HUP "$DPID"
check "daemon: SIGHUP with a good file: reloaded" 0 \
	"$(wait_for "$LAB/d.err" 'new configuration is in force'; echo $?)"
probe daemon $L --state-dir "$ST" --collector "$DFC/ok" --input "$H/"
check "daemon: a second on the same state directory: exit 2" 2 "$RC"
check_match "daemon: ... naming the other's pid" "another daemon \\(pid $DPID\\)" "$ERR"
probe upload --state-dir "$ST" --collector "$DFC/ok"
check "daemon: upload asks the daemon: exit 0" 0 "$RC"
check_match "daemon: ... and says so" "asked the daemon \\(pid $DPID\\)" "$OUT"
usr1_twice() { [ "$(grep -c 'SIGUSR1: uploading now' "$LAB/d.err")" -ge 2 ]; }
wait_until 120 usr1_twice
check "daemon: ... which gets SIGUSR1" 2 \
	"$(grep -c 'SIGUSR1: uploading now' "$LAB/d.err")"
probe status --state-dir "$ST"
check_match "daemon: status shows it running" "running \\(pid $DPID\\)" "$OUT"
kill -TERM "$DPID"
dpid_gone() { ! kill -0 "$DPID" 2>/dev/null; }
wait_until 60 dpid_gone
if kill -0 "$DPID" 2>/dev/null; then
	not_ok "daemon: SIGTERM: exits within 60 s" "still running"
	kill -9 "$DPID"
	wait "$DPID"
else
	wait "$DPID"
	check "daemon: SIGTERM: exit 0 within 60 s" 0 $?
fi
cat "$LAB/d.err" >>"$LAB/all.err"
if command -v flock >/dev/null 2>&1; then
	flock -n "$ST/daemon.pid" true
	check "daemon: daemon.pid unlocked" 0 $?
fi
probe status --state-dir "$ST"
check_match "daemon: status after: not running" "daemon +not running" "$OUT"

# SIGTERM with a measurement in flight (/slow never answers): recorded as
# interrupted, spooled, exit 0.
ST=$LAB/s10b
"$PROBE" daemon --state-dir "$ST" --collector "$DFC/500" --retry-quick 60 \
	--resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" --timeout 30 \
	--input "$H/slow" >"$LAB/d2.out" 2>"$LAB/d2.err" </dev/null &
DPID=$!
PIDS="$PIDS $DPID"
# Mid-measurement: its connection to /slow is open (/slow never answers).
wait_until 120 alive_and_not "$DPID" tcp_established_to "$HTTP_PORT"
kill -TERM "$DPID"
wait_until 60 dpid_gone
if kill -0 "$DPID" 2>/dev/null; then
	not_ok "daemon: SIGTERM mid-measurement: exits within 60 s" "still running"
	kill -9 "$DPID"
	wait "$DPID"
else
	wait "$DPID"
	check "daemon: SIGTERM mid-measurement: exit 0 within 60 s" 0 $?
fi
cat "$LAB/d2.err" >>"$LAB/all.err"
check "daemon: the interrupted measurement spooled" 1 "$(queued "$ST")"
check_match "daemon: ... recorded as interrupted" "interrupted" \
	"$(cat "$ST"/spool/queue/*.json 2>/dev/null | jq -c '[.. | .failure? // empty]')"

check "no sanitizer report" "" \
	"$(grep -Ei 'sanitizer|runtime error' "$LAB/all.err" "$LAB"/*.err)"
finish
