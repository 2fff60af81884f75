#!/bin/sh
# dnslate.sh PROBE FAKENET - the DNS step's late window against fakenet's
# twice.lab.test, which answers each UDP A query twice: a forged address
# (127.0.0.66) at once, the real one (127.0.0.1) 100 ms later, as an
# on-path injector racing the resolver does. The first answer is the
# step's result (the probe goes on to the forged address); the job ends
# only after the late window (default 1 s) has closed; with packet evidence
# in the output (test_keys.packets), both answers are in it. Loopback only.
set -u
PROBE=$1
FAKENET=$2
. tests/integration/lib.sh
lab_start "$FAKENET"

OUT=$LAB/out.jsonl
T=http://twice.lab.test:$HTTP_PORT/
G=http://good.lab.test:$HTTP_PORT/

m() {
	jq -r --arg in "$1" "select(.input == \$in) | $2" "$OUT"
}

"$PROBE" run --resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" \
	--timeout 5 --input "$T" --input "$G" --output "$OUT" --quiet \
	2>"$LAB/probe.err"
check "probe exits 0" 0 $?
check "two measurements" 2 "$(wc -l <"$OUT")"

# The first answer is the result: the forged address is the one measured.
check "A result is the first answer" "127.0.0.66 null 0" \
	"$(m "$T" '.test_keys.queries[] | select(.query_type=="A") |
	  "\([.answers[].ipv4] | join(",")) \(.failure) \(.rcode)"')"
check "the forged address is measured (nothing listens there)" \
	"127.0.0.66 connection_refused" \
	"$(m "$T" '.test_keys.tcp_connect[0] | "\(.ip) \(.status.failure)"')"
check "the raw reply kept is the first one's" \
	"$(printf '\177\000\000\102' | base64)" \
	"$(m "$T" '.test_keys.queries[] | select(.query_type=="A") | .raw_response' |
		base64 -d | tail -c 4 | base64)"

# Without the window the job would end in milliseconds (everything it
# connects to refuses); the window keeps it open at least 1 s after the
# first answer.
late=$(m "$T" '.test_runtime >= 1.0')
check "the job waits for the late window (test_runtime >= 1 s)" true "$late"
check "a name answered once is unaffected" "127.0.0.1 true" \
	"$(m "$G" '"\(.test_keys.queries[] | select(.query_type=="A") | .answers[0].ipv4) \(.test_keys.tcp_connect[0].status.success)"')"

# Packet evidence (test_keys.packets, issue 13): both answers of the A
# query, the forged one first, same id. Older builds do not emit it.
if [ "$(m "$T" '.test_keys.packets != null')" = true ]; then
	check "both answers kept as evidence" "2 127.0.0.66|127.0.0.1 true" \
		"$(m "$T" '.test_keys.packets.dns[] | select(.hostname=="twice.lab.test" and .query_type=="A") |
		  "\(.n_replies) \([.replies[].addrs[0]] | join("|")) \(.replies[0].dns_id == .replies[1].dns_id)"')"
else
	echo "# test_keys.packets not emitted by this build: evidence checked by tests/unit/test_dns.c"
fi

finish
