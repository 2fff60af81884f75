#!/bin/sh
# memory.sh PROBE FAKENET - the probe's memory budget (--max-memory, issue
# 13) on loopback: a budget below the process's own baseline runs one
# target (so one handshake or transfer) at a time, yet measures every
# target, and what waited for memory starts its clock when it starts (the
# targets queued behind handshakes to a silent server do not time out);
# the option's default, "none" in the configuration file, and a bad value.
set -u
PROBE=$1
FAKENET=$2
. tests/integration/lib.sh
lab_start "$FAKENET"

OUT=$LAB/out.jsonl
N=40
set --
i=0
while [ $i -lt $N ]; do
	set -- "$@" --input "https://bench-$i.lab.test:$TLS_GOOD_PORT/"
	i=$((i + 1))
done
# Two targets whose handshakes hang until the step timeout (2 s): the
# others wait behind them for the one slot.
set -- "$@" --input "https://good.lab.test:$TLS_SILENT_PORT/a" \
	--input "https://good.lab.test:$TLS_SILENT_PORT/b"

# (no DNS late window: with one target at a time, its second per target
# would be most of this test's time, and dnslate.sh tests it)
probe() {
	"$PROBE" run --resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" \
		--timeout 2 --dns-late-window 0 "$@"
}

probe "$@" --max-memory 1M --concurrency 32 --verbose --output "$OUT" \
	2>"$LAB/tiny.err"
check "tiny budget: exit 0" 0 $?
check "tiny budget: every target measured" $((N + 2)) \
	"$(jq -s length "$OUT")"
check "tiny budget: every good target got HTTP 200" $N \
	"$(jq -r 'select(.input | test("bench-")) |
		select(.test_keys.requests[0].response.code == 200) | 1' \
		"$OUT" | wc -l)"
# (the control-SNI handshakes fail on the name, as they should)
check "tiny budget: no good step timed out (clocks start on admission)" \
	"" "$(jq -r 'select(.input | test("bench-")) | .test_keys |
		(.tls_handshakes[], .tcp_connect[], .requests[]) |
		select((.failure // "") | test("timeout")) | .failure' "$OUT")"
check "tiny budget: every good target-SNI handshake verified" $N \
	"$(jq -r 'select(.input | test("bench-")) | .test_keys.tls_handshakes[] |
		select(.sni_role == "target" and .verified) | 1' "$OUT" | wc -l)"
check "tiny budget: the silent server's handshakes still time out" \
	"generic_timeout_error" \
	"$(jq -r 'select(.input | test("/a$")) |
		.test_keys.tls_handshakes[] | select(.sni_role == "target") |
		.failure' "$OUT")"
check_match "tiny budget: warned that it is below the baseline" \
	"below this process's baseline of [0-9.]+ MiB" "$(cat "$LAB/tiny.err")"
check_match "tiny budget: one handshake or transfer at a time" \
	"budget 1.0 MiB, .* 1 handshakes and transfers at once at most" \
	"$(grep 'memory:' "$LAB/tiny.err")"

# A budget a little over the baseline the first run reported: targets
# run side by side and handshakes and transfers take turns (how many wait
# depends on the machine's speed: not asserted); every target still ends.
base_kib=$(sed -n 's/.*baseline \([0-9.]*\) MiB.*/\1/p' "$LAB/tiny.err" |
	tail -n 1 | awk '{printf "%d", $1 * 1024 + 1024}')
probe "$@" --max-memory "${base_kib}K" --concurrency 32 --verbose \
	--output "$LAB/mid.jsonl" 2>"$LAB/mid.err"
check "budget over the baseline: exit 0" 0 $?
check "budget over the baseline: every good target got HTTP 200" $N \
	"$(jq -r 'select(.input | test("bench-")) |
		select(.test_keys.requests[0].response.code == 200) | 1' \
		"$LAB/mid.jsonl" | wc -l)"
check "budget over the baseline: every target measured" $((N + 2)) \
	"$(jq -s length "$LAB/mid.jsonl")"
check "budget over the baseline: no warning" "" \
	"$(grep 'below this process' "$LAB/mid.err")"

# The default budget, and "none" from the configuration file.
probe --input "https://bench-0.lab.test:$TLS_GOOD_PORT/" --verbose \
	--output "$LAB/one.jsonl" 2>"$LAB/default.err"
# (under ASan the process alone is over 24M: the default is then lifted,
# and the line says so)
check_match "default budget is 24M" "budget 24.0 MiB|default 24.0 MiB lifted" \
	"$(grep 'memory:' "$LAB/default.err")"
printf 'max-memory = none\nverbose = true\n' >"$LAB/probe.conf"
probe --config "$LAB/probe.conf" \
	--input "https://bench-0.lab.test:$TLS_GOOD_PORT/" \
	--output "$LAB/one.jsonl" 2>"$LAB/none.err"
check "config max-memory none: exit 0" 0 $?
check_match "config max-memory none: no budget" "budget none" \
	"$(grep 'memory:' "$LAB/none.err")"

probe --input "https://bench-0.lab.test:$TLS_GOOD_PORT/" --max-memory 12X \
	--output "$LAB/one.jsonl" 2>"$LAB/bad.err"
check "bad --max-memory: usage error" 1 $?
check_match "bad --max-memory: named" 'bad --max-memory "12X"' \
	"$(cat "$LAB/bad.err")"

finish
