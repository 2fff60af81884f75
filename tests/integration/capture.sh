#!/bin/sh
# capture.sh PROBE FAKENET - packet capture (issue 13): test_keys.packets
# with --capture on, the summaries of failing flows, the promise (another
# process's traffic to the very same servers during the run is in neither
# the measurements nor the --pcap file), the pcapng's placeholder address,
# and the probe without CAP_NET_RAW (auto measures everything and says
# capture is off; on refuses to start).
#
# The lab's servers listen on 127.0.0.2 and its names resolve there, so
# that the probe's own side (127.0.0.1, the source the kernel picks) is
# told apart from the servers' in the pcapng file. The other process
# connects from 127.0.0.9. Needs root (packet capture); without it, only
# the usage checks run and the rest says SKIPPED.
set -u
PROBE=$1
FAKENET=$2
. tests/integration/lib.sh

run_probe() {
	"$@" >"$T/stdout" 2>"$T/stderr"
	RC=$?
	OUT=$(cat "$T/stdout")
	ERR=$(cat "$T/stderr")
}

T=$(mktemp -d "${TMPDIR:-/tmp}/wallwatch-capture.XXXXXX")
LOOP_PID=
cleanup() {
	if [ -n "$LOOP_PID" ]; then
		kill "$LOOP_PID" 2>/dev/null
		wait "$LOOP_PID" 2>/dev/null
	fi
	rm -rf "$T"
	lab_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- usage (no root needed) ------------------------------------------------
run_probe "$PROBE" run --capture sometimes --input http://x.lab.test/
check "--capture bad value: exit 1" 1 $RC
check_match "--capture bad value named" 'capture.*auto, on or off' "$ERR"
run_probe "$PROBE" run --capture off --pcap "$T/x.pcapng" \
	--input http://x.lab.test/
check "--pcap with --capture off: exit 1" 1 $RC
check_match "--pcap with --capture off named" '--pcap needs packet capture' \
	"$ERR"
run_probe "$PROBE" run --dns-late-window 31 --input http://x.lab.test/
check "--dns-late-window out of range: exit 1" 1 $RC
run_probe "$PROBE" --help
check_match "--help lists --capture" '--capture auto\|on\|off' "$OUT"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIPPED: the capture tests need root (packet capture)"
	finish
	exit $?
fi

# --- the lab on 127.0.0.2 ----------------------------------------------------
LAB=$T/lab
mkdir "$LAB"
sh tests/fake/mkcerts.sh "$LAB" || { echo "mkcerts failed" >&2; exit 1; }
printf '$ORIGIN lab.test\ngood.lab.test 127.0.0.2\n' >"$LAB/zone.txt"
"$FAKENET" --dir "$LAB" --lifetime 3600 --bind 127.0.0.2 \
	--zone "$LAB/zone.txt" >"$LAB/fakenet.out" 2>"$LAB/fakenet.err" &
LAB_PID=$!
if ! wait_until 120 alive_and_not "$LAB_PID" grep -q ready "$LAB/fakenet.out" ||
	! grep -q ready "$LAB/fakenet.out"; then
	echo "fakenet did not start:" >&2
	cat "$LAB/fakenet.err" >&2
	exit 1
fi
. "$LAB/ports.env"
H=good.lab.test
# lab ARGS...: the probe's run against the lab ($WRAP: a command to run
# it through, e.g. setpriv).
WRAP=
lab() {
	# shellcheck disable=SC2086
	run_probe $WRAP "$PROBE" run --resolver "127.0.0.2:$DNS_PORT" \
		--ca-file "$LAB/ca.pem" --timeout 2 "$@"
}

# --- another process's traffic, to the same servers, all along --------------
# From 127.0.0.9, one connection after another to the very servers the
# probe talks to: the HTTP server, and the silent TLS server where the
# probe's own connections stay open for the whole 2 s timeout. Each line
# of other.ports is one of its local ports. Stopped after the run.
# Its ports come from below the kernel's ephemeral range, where the
# probe's (picked by connect()) never are: a connection's port number may
# be shared by sockets of other local addresses, and the pcapng file
# shows every local side as the placeholder, so only the port can tell
# the other process's packets from the probe's there.
low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
ports=10000-$((low - 1))
(
	while :; do
		curl -s -o /dev/null --max-time 5 --interface 127.0.0.9 \
			--local-port "$ports" \
			-w '%{local_port}\n' "http://127.0.0.2:$HTTP_PORT/ok" \
			>>"$T/other.ports"
		curl -s -k -o /dev/null --max-time 0.3 --interface 127.0.0.9 \
			--local-port "$ports" \
			-w '%{local_port}\n' "https://127.0.0.2:$TLS_SILENT_PORT/" \
			>>"$T/other.ports"
		curl -s -o /dev/null --max-time 5 --interface 127.0.0.9 \
			--local-port "$ports" \
			"http://127.0.0.2:$TCP_CLOSED_PORT/"
	done
) &
LOOP_PID=$!
other_count() { wc -l <"$T/other.ports" 2>/dev/null || echo 0; }
other_started() { [ "$(other_count)" -ge 1 ]; }
wait_until 60 other_started || { echo "the other process never ran" >&2; exit 1; }

# --- capture on ------------------------------------------------------------------
# The silent TLS server holds the run for the 2 s timeout: other traffic
# certainly flows meanwhile (counted below, not assumed).
before=$(other_count)
lab --capture on --pcap "$T/run.pcapng" --output "$T/on.jsonl" \
	--input "tcp://$H:$TCP_CLOSED_PORT" --input "tls://$H:$TLS_RESET_PORT" \
	--input "http://$H:$HTTP_PORT/ok" --input "https://$H:$TLS_SILENT_PORT/"
rc_on=$RC
after=$(other_count)
kill "$LOOP_PID" 2>/dev/null
wait "$LOOP_PID" 2>/dev/null
LOOP_PID=
check "capture on: exit 0" 0 $rc_on
[ $((after - before)) -ge 2 ] &&
	ok "the other process made $((after - before)) requests during the run" ||
	not_ok "the other process made $((after - before)) requests during the run (want >= 2)"

m() { jq -r --arg in "$1" "select(.input == \$in) | $2" "$T/on.jsonl"; }
check "every measurement has packets, capture on" "4" \
	"$(jq -r 'select(.test_keys.packets.capture == "on" and .test_keys.packets.capture_failure == null and .test_keys.packets.snaplen == 256 and (.test_keys.packets.ring_drops | type) == "number") | .input' "$T/on.jsonl" | wc -l)"
C=tcp://$H:$TCP_CLOSED_PORT
check "refused connect: its flow has our SYN and the RST" "S RA" \
	"$(m "$C" '[.test_keys.packets.tcp[0].packets[] | "\(.dir):\(.flags)"] | join(" ")' |
		sed 's/out:S/S/; s/in:RA/RA/')"
check "refused connect: the flow names the connect's transaction" \
	"$(m "$C" '.test_keys.tcp_connect[0].transaction_id')" \
	"$(m "$C" '.test_keys.packets.tcp[0].transaction_ids[0]')"
check "refused connect: the remote endpoint only" "127.0.0.2 $TCP_CLOSED_PORT" \
	"$(m "$C" '.test_keys.packets.tcp[0] | "\(.ip) \(.port)"')"
check "refused connect: relative seq/ack (SYN 0, RST acks 1)" "0 1" \
	"$(m "$C" '.test_keys.packets.tcp[0].packets | "\(.[0].seq) \(.[1].ack)"')"
R=tls://$H:$TLS_RESET_PORT
check_match "reset handshake: handshake, ClientHello out, RST in" \
	'^out:S in:SA out:A out:PA .*in:R' \
	"$(m "$R" '[.test_keys.packets.tcp[0].packets[] | "\(.dir):\(.flags)"] | join(" ")')"
check "reset handshake: IPv4 TTL and IP ID of every packet" "true" \
	"$(m "$R" '[.test_keys.packets.tcp[0].packets[] | (.ttl == 64) and (.ip_id | type == "number")] | all')"
P=http://$H:$HTTP_PORT/ok
tid=$(m "$P" '.test_keys.requests[0].transaction_id')
# A request that worked, nothing unusual on its flow: listed up to the
# SYN-ACK, every packet counted.
check "HTTP request: its uneventful flow is listed up to the SYN-ACK" \
	"true S,SA true" \
	"$(m "$P" "[.test_keys.packets.tcp[] | select(.transaction_ids | index($tid))][0] | \"\(.handshake_only) \([.packets[].flags] | join(\",\")) \(.n_packets > 4)\"")"
# The promise, in the measurements: the other process connected to the
# same server dozens of times; the probe's flows each hold one connection.
check "every flow holds one connection (one SYN out, at most one SYN-ACK in)" \
	"true" \
	"$(jq -s '[.[].test_keys.packets.tcp[] | ([.packets[] | select(.flags == "S")] | length) == 1 and ([.packets[] | select(.flags == "SA")] | length) <= 1] | all' "$T/on.jsonl")"
check "no local address or port in packets" "" \
	"$(jq -r '.test_keys.packets | .. | strings | select(test("127\\.0\\.0\\.1|127\\.0\\.0\\.9"))' "$T/on.jsonl")"

# --- the pcapng file -------------------------------------------------------------
# One line per packet: "SRC DST SPORT DPORT" (pcapng, SLL2 or SLL, IPv4).
if command -v python3 >/dev/null 2>&1; then
	python3 - "$T/run.pcapng" >"$T/pcap.txt" <<'EOF'
import socket, struct, sys
d = open(sys.argv[1], "rb").read()
bo = "<" if d[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
links, off = [], 0
while off + 12 <= len(d):
    btype, blen = struct.unpack(bo + "II", d[off:off + 8])
    body = d[off + 8:off + blen - 4]
    if btype == 1:
        links.append(struct.unpack(bo + "H", body[:2])[0])
    elif btype == 6:
        iface, _, _, cap, _ = struct.unpack(bo + "IIIII", body[:20])
        f = body[20:20 + cap]
        ip = f[20:] if links[iface] == 276 else f[16:]
        if ip[0] >> 4 == 4:
            hl = (ip[0] & 15) * 4
            sp, dp = struct.unpack(">HH", ip[hl:hl + 4])
            print(socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]),
                  sp, dp)
    off += blen
EOF
	check "pcapng parses, packets in it" 0 $?
	n=$(wc -l <"$T/pcap.txt")
	[ "$n" -gt 10 ] && ok "pcapng holds $n packets" ||
		not_ok "pcapng holds $n packets (want > 10)"
	check "pcapng: every packet between the placeholder and the lab" "$n" \
		"$(awk '($1 == "192.0.2.1" && $2 == "127.0.0.2") ||
			($1 == "127.0.0.2" && $2 == "192.0.2.1")' "$T/pcap.txt" | wc -l)"
	check "pcapng: the real local address is nowhere" "0" \
		"$(grep -c '127\.0\.0\.1\|127\.0\.0\.9' "$T/pcap.txt")"
	# The other process's ports (on its side) never appear.
	leaked=$(awk 'NR == FNR { other[$1] = 1; next }
		($1 == "192.0.2.1" && ($3 in other)) ||
		($2 == "192.0.2.1" && ($4 in other)) { n++ }
		END { print n + 0 }' "$T/other.ports" "$T/pcap.txt")
	check "pcapng: none of the other process's $(wc -l <"$T/other.ports") connections" \
		0 "$leaked"
else
	echo "SKIPPED: pcapng checks (no python3 to read the file)"
fi
[ "$(stat -c %a "$T/run.pcapng")" = 600 ] && ok "pcapng file mode 0600" ||
	not_ok "pcapng file mode $(stat -c %a "$T/run.pcapng")"

# --- capture off ------------------------------------------------------------------
lab --capture off --output - --input "tcp://$H:$TCP_CLOSED_PORT"
check "capture off: exit 0" 0 $RC
check "capture off: packets say so, no flows" \
	'off|packet capture is turned off|0' \
	"$(printf '%s\n' "$OUT" | jq -r '.test_keys.packets | "\(.capture)|\(.capture_failure)|\(.tcp | length)"')"

# --- without CAP_NET_RAW -----------------------------------------------------------
# Root without the capability: the bounding set keeps it from the probe.
if ! setpriv --bounding-set=-net_raw true 2>/dev/null; then
	echo "SKIPPED: without CAP_NET_RAW (no setpriv)"
	finish
	exit $?
fi
WRAP="setpriv --bounding-set=-net_raw --inh-caps=-net_raw --"
lab --capture auto --output "$T/auto.jsonl" \
	--input "tcp://$H:$TCP_CLOSED_PORT" --input "tls://$H:$TLS_RESET_PORT" \
	--input "http://$H:$HTTP_PORT/ok"
check "no CAP_NET_RAW, auto: exit 0" 0 $RC
check "no CAP_NET_RAW, auto: every target measured" 3 \
	"$(wc -l <"$T/auto.jsonl")"
check "no CAP_NET_RAW, auto: said once on stderr" 1 \
	"$(printf '%s\n' "$ERR" | grep -c 'packet capture is off.*CAP_NET_RAW')"
check "no CAP_NET_RAW, auto: packets say off and why" 3 \
	"$(jq -r 'select(.test_keys.packets.capture == "off" and (.test_keys.packets.capture_failure | test("CAP_NET_RAW")) and .test_keys.packets.tcp == []) | .input' "$T/auto.jsonl" | wc -l)"
check "no CAP_NET_RAW, auto: the same observations as with capture" \
	"200|connection_refused|connection_reset" \
	"$(jq -r '[.test_keys.tcp_connect[0].status.failure // empty, (.test_keys.tls_handshakes[0].failure // empty), (.test_keys.requests[0].response.code // empty)] | .[]' "$T/auto.jsonl" | sort | paste -sd'|' -)"
lab --capture on --output "$T/on2.jsonl" \
	--input "tcp://$H:$TCP_CLOSED_PORT"
check "no CAP_NET_RAW, on: exit 2" 2 $RC
check_match "no CAP_NET_RAW, on: says why" \
	'packet capture \(--capture on\): no permission .*CAP_NET_RAW' "$ERR"
check "no CAP_NET_RAW, on: nothing measured" 0 \
	"$(cat "$T/on2.jsonl" 2>/dev/null | wc -l)"
# The daemon refuses at once, not once per run (timeout: a daemon that
# did not would run until killed).
mkdir -m 0700 "$T/state"
run_probe timeout 60 setpriv --bounding-set=-net_raw --inh-caps=-net_raw -- \
	"$PROBE" daemon --capture on --state-dir "$T/state" --yes \
	--collector http://127.0.0.2:9/ --input "tcp://$H:$TCP_CLOSED_PORT"
check "no CAP_NET_RAW, daemon --capture on: exit 2" 2 $RC
check_match "no CAP_NET_RAW, daemon --capture on: says why" \
	'packet capture \(--capture on\): no permission' "$ERR"

finish
