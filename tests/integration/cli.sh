#!/bin/sh
# cli.sh PROBE FAKENET - the command line: help, version, usage errors that
# name the problem (exit 1), runs that cannot happen (exit 2), test lists,
# category filters, interruption, and the terminal's progress and summary.
set -u
PROBE=$1
FAKENET=$2
. tests/integration/lib.sh
lab_start "$FAKENET"
P=http://good.lab.test:$HTTP_PORT

# run_probe ARGS...: sets RC, OUT (stdout) and ERR (stderr).
run_probe() {
	"$PROBE" "$@" >"$LAB/stdout" 2>"$LAB/stderr"
	RC=$?
	OUT=$(cat "$LAB/stdout")
	ERR=$(cat "$LAB/stderr")
}
lab() {
	run_probe run --resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" \
		--timeout 2 "$@"
}

run_probe --help
check "--help exits 0" 0 $RC
check_match "--help lists the options" "--exclude-category" "$OUT"
run_probe --version
check_match "--version" '^wallwatch-probe [0-9]+\.[0-9]+\.[0-9]+$' "$OUT"
run_probe
check "no command: exit 1" 1 $RC
run_probe frobnicate
check_match "unknown command named" 'unknown command "frobnicate"' "$ERR"
run_probe run --bogus
check "unknown option: exit 1" 1 $RC
check_match "unknown option named" "bogus" "$ERR"
for bad in "--concurrency 0" "--concurrency x" "--timeout 0" \
	"--timeout 1e9" "--max-addrs 65" "--resolver 1.2.3" \
	"--resolver 1.2.3.4:99999" "--control-sni bad_name!" \
	"--probe-cc zz" "--probe-asn 4134" "--probe-asn AS+5" \
	"--probe-asn AS007" "--category news!"; do
	# shellcheck disable=SC2086
	run_probe run $bad --input "$P/"
	opt=${bad%% *}
	check "$bad: exit 1" 1 $RC
	check_match "$bad: message names $opt" "\\$opt|categor" "$ERR"
done
run_probe run --input ftp://x.example/
check_match "bad --input named" 'bad --input: .*scheme' "$ERR"
run_probe run --ca-file /nonexistent --input "$P/"
check_match "unreadable CA file named" '/nonexistent' "$ERR"

# Without --ca-file the system trust store is used (OpenSSL's default
# paths, which SSL_CERT_FILE redirects here to the lab CA), by the TLS step
# and by libcurl alike.
SSL_CERT_FILE=$LAB/ca.pem "$PROBE" run --resolver "127.0.0.1:$DNS_PORT" \
	--timeout 2 --input "https://good.lab.test:$TLS_GOOD_PORT/" --output - \
	--quiet >"$LAB/sys.jsonl"
check "system store: TLS step verifies, HTTPS fetch works" "true 200 system" \
	"$(jq -r '"\(.test_keys.tls_handshakes[] | select(.sni_role=="target") | .verified) \(.test_keys.requests[0].response.code) \(.options.trust_store)"' "$LAB/sys.jsonl")"
SSL_CERT_FILE=/dev/null SSL_CERT_DIR=/nonexistent "$PROBE" run \
	--resolver "127.0.0.1:$DNS_PORT" --timeout 2 --output - --quiet \
	--input "https://good.lab.test:$TLS_GOOD_PORT/" >"$LAB/sys2.jsonl"
check "system store without the lab CA: unknown authority" \
	"ssl_unknown_authority ssl_unknown_authority" \
	"$(jq -r '"\(.test_keys.tls_handshakes[] | select(.sni_role=="target") | .failure) \(.test_keys.requests[0].failure)"' "$LAB/sys2.jsonl")"

# A hashed directory (--ca-file DIR, or the system's SSL_CERT_DIR without
# SSL_CERT_FILE) is read as handshakes need it, by the TLS step and by
# libcurl alike.
mkdir -p "$LAB/cadir"
cp "$LAB/ca.pem" "$LAB/cadir/lab.pem"
ln -s lab.pem "$LAB/cadir/$(openssl x509 -hash -noout -in "$LAB/ca.pem").0"
env -u SSL_CERT_FILE -u SSL_CERT_DIR "$PROBE" run --ca-file "$LAB/cadir" \
	--resolver "127.0.0.1:$DNS_PORT" --timeout 2 --output - --quiet \
	--input "https://good.lab.test:$TLS_GOOD_PORT/" >"$LAB/dir.jsonl"
check "--ca-file DIR: TLS step verifies, HTTPS fetch works" "true 200" \
	"$(jq -r '"\(.test_keys.tls_handshakes[] | select(.sni_role=="target") | .verified) \(.test_keys.requests[0].response.code)"' "$LAB/dir.jsonl")"
env -u SSL_CERT_FILE SSL_CERT_DIR="$LAB/cadir" "$PROBE" run \
	--resolver "127.0.0.1:$DNS_PORT" --timeout 2 --output - --quiet \
	--input "https://good.lab.test:$TLS_GOOD_PORT/" >"$LAB/sysdir.jsonl"
check "system store, hashed directory alone: verifies" "true 200 system" \
	"$(jq -r '"\(.test_keys.tls_handshakes[] | select(.sni_role=="target") | .verified) \(.test_keys.requests[0].response.code) \(.options.trust_store)"' "$LAB/sysdir.jsonl")"
rm "$LAB/cadir/lab.pem"
env -u SSL_CERT_FILE -u SSL_CERT_DIR "$PROBE" run --ca-file "$LAB/cadir" \
	--resolver "127.0.0.1:$DNS_PORT" --timeout 2 --output - --quiet \
	--input "https://good.lab.test:$TLS_GOOD_PORT/" >"$LAB/dir2.jsonl"
check "--ca-file DIR without the lab CA: unknown authority" \
	"ssl_unknown_authority" \
	"$(jq -r '.test_keys.tls_handshakes[] | select(.sni_role=="target") | .failure' "$LAB/dir2.jsonl")"

# Test lists: a bad row is reported with file:line and nothing runs.
printf 'url,category_code,category_description,date_added,source,notes\n%s,NEWS,News,2026-11-22,t,\nnot a url,NEWS,News,2026-11-22,t,\n' \
	"$P/" >"$LAB/bad.csv"
lab --list "$LAB/bad.csv" --output "$LAB/bad.jsonl"
check "malformed list: exit 1" 1 $RC
check_match "malformed list: file:line" "bad.csv:3:" "$ERR"
check "malformed list: nothing measured" no \
	"$([ -s "$LAB/bad.jsonl" ] && echo yes || echo no)"

cat >"$LAB/good.csv" <<CSV
url,category_code,category_description,date_added,source,notes
$P/,NEWS,News Media,2026-11-22,test,
$P/blockpage,HUMR,Human Rights Issues,2026-11-22,test,"a note, with a comma"
$P/redirect,ANON,Anonymization and circumvention tools,2026-11-22,test,
CSV
lab --list "$LAB/good.csv" --exclude-category anon --output -
check "list run: exit 0" 0 $RC
# Lines come in the order targets finish: compare them sorted.
check "--exclude-category drops those rows" "HUMR,NEWS" \
	"$(printf '%s\n' "$OUT" | jq -r .test_keys.category_code | sort | paste -sd, -)"
check "input source annotated" "$LAB/good.csv:3" \
	"$(printf '%s\n' "$OUT" | jq -r 'select(.test_keys.category_code=="HUMR") | .annotations.input_source')"
lab --list "$LAB/good.csv" --category HUMR --output - --quiet
check "--category keeps only those rows" "HUMR" \
	"$(printf '%s\n' "$OUT" | jq -r .test_keys.category_code | paste -sd, -)"
check "--quiet prints nothing on stderr" "" "$ERR"

# The bundled lists load (nothing is measured: the category matches none).
run_probe run --list testlists/global.csv --list testlists/cn.csv \
	--list testlists/services.csv --category ZZZZ --quiet
check_match "bundled lists load, filter leaves none" "no targets left" "$ERR"

# Output: appends to an existing file; an unwritable one stops the run.
echo '{"earlier":true}' >"$LAB/append.jsonl"
lab --input "$P/" --output "$LAB/append.jsonl" --quiet
check "output appends, never clobbers" 2 "$(wc -l <"$LAB/append.jsonl")"
lab --input "$P/" --output /nonexistent-dir/x.jsonl
check "unwritable output: exit 2" 2 $RC
check_match "unwritable output named" "/nonexistent-dir/x.jsonl" "$ERR"

lab --input "$P/" --output /dev/null --quiet
check "output to a device: exit 0" 0 $RC

# Default output: a dated file in the data directory.
WALLWATCH_DATA_DIR=$LAB/data lab --input "$P/" --quiet
check "default output in the data directory" 1 \
	"$(cat "$LAB"/data/measurements/*.jsonl 2>/dev/null | wc -l)"

# SIGTERM mid-run: in-flight targets are recorded as interrupted, exit 2.
"$PROBE" run --resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" \
	--timeout 20 --input "https://good.lab.test:$TLS_SILENT_PORT/" \
	--input http://silent.lab.test/ --output "$LAB/int.jsonl" --quiet &
pid=$!
# Both in flight: the silent TLS server holds a connection (by then the
# other's DNS query, sent alongside, waits on the silent resolver).
wait_until 60 alive_and_not $pid tcp_established_to "$TLS_SILENT_PORT"
kill -TERM $pid
wait $pid
check "SIGTERM: exit 2" 2 $?
check "SIGTERM: both targets written" 2 "$(wc -l <"$LAB/int.jsonl")"
check "SIGTERM: pending steps say interrupted" "interrupted interrupted" \
	"$(jq -r '[.. | objects | .failure? // empty | select(. == "interrupted")] | first' "$LAB/int.jsonl" | paste -sd' ' -)"

# On a terminal: a progress line and a summary table on stderr.
if command -v script >/dev/null 2>&1; then
	script -qec "$PROBE run --resolver 127.0.0.1:$DNS_PORT --ca-file $LAB/ca.pem --timeout 2 --input $P/ --input http://nx.lab.test/ --output $LAB/tty.jsonl" \
		/dev/null >"$LAB/tty.out" 2>&1
	check_match "terminal: progress line" '\[2/2\] in flight 0' \
		"$(cat "$LAB/tty.out")"
	check_match "terminal: summary row" 'nx\.lab\.test.*dns_nxdomain_error' \
		"$(cat "$LAB/tty.out")"
	check_match "terminal: summary of a good target" \
		"good\.lab\.test.*1 addr.*1/1 ok.*200" "$(cat "$LAB/tty.out")"
else
	not_ok "script(1) missing: cannot test terminal output"
fi

finish
