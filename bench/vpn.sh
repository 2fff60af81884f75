#!/bin/sh
# vpn.sh PROBE FAKENET - what the VPN and QUIC endpoints (issue 15) cost
# the probe: per kind, CPU per target and packets sent per target, at
# --concurrency 32, against real servers.
#
# Kinds: openvpn:// over UDP and over TCP, ikev2://, wireguard:// (with
# registered keys), quic://, and as a baseline tcp:// and tls://. The
# servers are the censor lab's (tests/lab/vpn/servers.sh, sourced through
# tests/lab/lab.sh: OpenVPN 2.6, strongSwan's charon, wireguard-go, ngtcp2's
# gtlsserver), plus fakenet for DNS and the baselines, all in one network
# namespace of their own, where the probe runs too, on its loopback: no
# censor, no control. Each kind gets BENCH_VPN_N targets per run (default
# 256), distinct names (vpnK-I.lab.test: fakenet's built-in table answers
# 127.0.0.1 to any name in lab.test, and nothing to AAAA, so one address
# each), all given with --input. The kinds alternate within each of
# BENCH_REPS runs (default 3); figures are medians. BENCH_VPN_KEEP=1 keeps
# the files (each kind's last measurements in bench/KIND.jsonl).
#
# Per kind and run:
#   CPU       user + sys of the probe process (wait4's rusage, in
#             microseconds: bench/vpn/rusage.py), per target
#   sent      sum of test_keys.exchanges[].sent (datagrams, or TCP writes),
#             per target; n/a for tcp:// and tls://, which have no exchanges
#   IP out    IP packets the probe sent to the servers' ports and to the
#             closed port 33434 of the UDP kinds (an nft
#             counter on the namespace's output hook: every SYN, ACK, FIN,
#             resend included), per target; DNS queries counted apart
#   wall      seconds per run (mostly waiting: a neutral payload that no
#             server answers waits for --timeout)
# and the count of handshakes answered (a check that the servers kept up:
# charon's cookie thresholds and wireguard-go's 20 ms rule below).
#
# BENCH_VPN_KINDS: a subset of the kinds (default all seven, in the order
# of the table). Sizes: BENCH_VPN_N targets per kind (256), BENCH_VPN_TIMEOUT the probe's
# --timeout (3, as the lab's runs: loopback answers come in milliseconds;
# the timeout sets how long unanswered payloads wait and so how many
# resends they make: sent at 0 s, 1 s and 3 s while nothing came back).
# The probe runs with --dns-late-window 0 and --capture off, as bench/run.sh
# does: the late window is a second of listening per target, and what the
# capture costs is bench/probe-capture.sh's.
#
# Needs root (namespaces, the servers' tun devices) and the servers
# (make check-deps); skips with a message otherwise.
set -u
PROBE=$1
FAKENET=$2
N=${BENCH_VPN_N:-256}
REPS=${BENCH_REPS:-3}
TMO=${BENCH_VPN_TIMEOUT:-3}
CONC=32
# wireguard-go drops an initiation that comes within 20 ms of the last
# one from the same key (and one not newer than it): WG_PORTS servers with
# WG_KEYS probe keys registered on each make WG_PORTS * WG_KEYS (server,
# key) pairs, and consecutive targets go to different pairs, so that the
# 32 handshakes in flight at once never share one.
WG_PORTS="51820 51821 51822 51823"
WG_KEYS=8
KINDS=${BENCH_VPN_KINDS:-openvpn_udp openvpn_tcp ikev2 wireguard quic tcp tls}
for kind in $KINDS; do
	case $kind in
	openvpn_udp | openvpn_tcp | ikev2 | wireguard | quic | tcp | tls) ;;
	*)
		echo "bench: unknown kind \"$kind\" in BENCH_VPN_KINDS" >&2
		exit 2
		;;
	esac
done

skip() {
	echo "bench: vpn skipped: $*"
	exit 0
}
[ "$(id -u)" -eq 0 ] ||
	skip "needs root (network namespaces, the VPN servers' tun devices)"
for c in ip nft openvpn swanctl wireguard-go wg gtlsserver jq; do
	command -v "$c" >/dev/null 2>&1 ||
		skip "no $c here (make check-deps installs the lab's servers)"
done
[ -x /usr/lib/ipsec/charon ] || skip "no /usr/lib/ipsec/charon"
command -v python3 >/dev/null 2>&1 || skip "no python3 (bench/vpn/rusage.py)"

# lab.sh gives lab_in, lab_bg, lab_wait, lab_down, lab_netns_ok and, from
# vpn/servers.sh, lab_openvpn and lab_charon, used as the lab uses them.
# shellcheck source=tests/lab/lab.sh
. tests/lab/lab.sh
LAB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/wallwatch-vpnbench.XXXXXX")
B=$LAB_DIR/bench
mkdir -p "$B"
cleanup() {
	lab_down
	if [ -n "${BENCH_VPN_KEEP:-}" ]; then
		echo "bench: kept $LAB_DIR (each kind's last run: bench/KIND.jsonl)"
	else
		rm -rf "$LAB_DIR"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
why=$(lab_netns_ok) || skip "cannot make a network namespace ($why)"

LAB_NS_S="ww$$b$(lab_tag)"
ip netns add "$LAB_NS_S" || skip "ip netns add failed"
lab_in "$LAB_NS_S" ip link set lo up || exit 1
sh tests/fake/mkcerts.sh "$LAB_DIR/certs" || exit 1

# --- servers -------------------------------------------------------------
lab_bg fakenet "$LAB_NS_S" "$FAKENET" --dir "$LAB_DIR/certs" \
	--lifetime "$LAB_LIFETIME"
# OpenVPN 2.6 answers 100 initial packets per 10 s by default
# (--connect-freq-initial) and serves 1024 clients: a run is more.
lab_openvpn openvpn_udp udp4 127.0.0.1 10.90.1 --max-clients 65535 \
	--connect-freq-initial 1000000 10 || exit 1
lab_openvpn openvpn_tcp tcp4-server 127.0.0.1 10.90.2 \
	--max-clients 65535 || exit 1
# charon's COOKIE and blocking thresholds are raised by lab_charon (10000
# half-open IKE_SAs per source; a run makes BENCH_VPN_N, which time out
# after 30 s).
[ "$N" -le 5000 ] ||
	echo "bench: warning: BENCH_VPN_N $N passes charon's thresholds" >&2
lab_charon || exit 1
mkdir -p "$LAB_DIR/vpn/www"
lab_bg quic "$LAB_NS_S" timeout "$LAB_LIFETIME" gtlsserver \
	-d "$LAB_DIR/vpn/www" 127.0.0.1 443 "$LAB_DIR/certs/good.key" \
	"$LAB_DIR/certs/good.pem"
(umask 077 && wg genkey >"$LAB_DIR/vpn/wg-server.key") || exit 1
WG_PUB=$(wg pubkey <"$LAB_DIR/vpn/wg-server.key") || exit 1
peers=
k=0
while [ $k -lt $WG_KEYS ]; do
	(umask 077 && wg genkey >"$LAB_DIR/vpn/wg-probe$k.key") || exit 1
	peers="$peers peer $(wg pubkey <"$LAB_DIR/vpn/wg-probe$k.key")"
	peers="$peers allowed-ips 10.91.$k.2/32"
	k=$((k + 1))
done
tag=$(lab_tag)
for p in $WG_PORTS; do
	LAB_WG_IFS="$LAB_WG_IFS wg$tag$p"
	lab_bg "wireguard$p" "$LAB_NS_S" env WG_PROCESS_FOREGROUND=1 \
		LOG_LEVEL=verbose timeout "$LAB_LIFETIME" wireguard-go \
		"wg$tag$p"
done

lab_wait fakenet "$LAB_DIR/fakenet.out" "fakenet ready" || exit 1
set -a
# shellcheck disable=SC1091 # written by fakenet
. "$LAB_DIR/certs/ports.env"
set +a
for s in openvpn_udp openvpn_tcp; do
	lab_wait "$s" "$LAB_DIR/$s.out" "Initialization Sequence Completed" ||
		exit 1
done
lab_wait charon "$LAB_DIR/charon.log" "spawning .* worker threads" || exit 1
lab_in "$LAB_NS_S" timeout 10 swanctl --load-all --noprompt \
	--file "$LAB_DIR/vpn/charon/swanctl.conf" \
	--uri "unix://$LAB_DIR/vpn/charon/vici" >"$LAB_DIR/swanctl.out" 2>&1 || {
	echo "bench: swanctl could not load charon's connection:" >&2
	cat "$LAB_DIR/swanctl.out" >&2
	exit 1
}
for p in $WG_PORTS; do
	lab_wait "wireguard$p" "$LAB_DIR/wireguard$p.out" \
		"UAPI listener started" || exit 1
	# shellcheck disable=SC2086 # peers is a word list
	lab_in "$LAB_NS_S" timeout 10 wg set "wg$tag$p" \
		private-key "$LAB_DIR/vpn/wg-server.key" listen-port "$p" \
		$peers || exit 1
	lab_in "$LAB_NS_S" ip link set "wg$tag$p" up || exit 1
done
lab_wait quic "$LAB_DIR/quic.err" "Using document root" || exit 1

# The probe's packets to the servers' ports and to the closed port that
# every UDP kind asks (33434: engine/core/vpnplan.c), and its DNS queries.
udp_ports="1194, 500, 4500, 443, 33434, $(echo "$WG_PORTS" | sed 's/ /, /g')"
lab_in "$LAB_NS_S" nft -f - <<EOF || exit 1
table inet wwbench {
	counter to_servers { }
	counter dns { }
	chain out {
		type filter hook output priority filter; policy accept;
		meta l4proto { tcp, udp } th dport $DNS_PORT counter name dns
		udp dport { $udp_ports } counter name to_servers
		tcp dport { 1194, 33434, $HTTP_PORT, $TLS_GOOD_PORT } \
			counter name to_servers
	}
}
EOF
counter() { # NAME: packets so far
	lab_in "$LAB_NS_S" nft list counter inet wwbench "$1" |
		sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# --- targets -------------------------------------------------------------
pub=$(printf '%s' "$WG_PUB" | sed 's/+/%2B/g; s|/|%2F|g; s/=/%3D/g')
nports=$(echo "$WG_PORTS" | wc -w)
target() { # KIND I: the input of target I
	case $1 in
	openvpn_udp) echo "openvpn://vpn1-$2.lab.test:1194?transport=udp" ;;
	openvpn_tcp) echo "openvpn://vpn2-$2.lab.test:1194?transport=tcp" ;;
	ikev2) echo "ikev2://vpn3-$2.lab.test" ;;
	wireguard)
		# consecutive targets: the next server, then the next key
		_p=$(echo "$WG_PORTS" | cut -d' ' -f$(($2 % nports + 1)))
		_k=$(($2 / nports % WG_KEYS))
		echo "wireguard://vpn4-$2.lab.test:$_p?pubkey=$pub&key=$LAB_DIR/vpn/wg-probe$_k.key"
		;;
	quic) echo "quic://vpn5-$2.lab.test" ;;
	tcp) echo "tcp://vpn6-$2.lab.test:$HTTP_PORT" ;;
	tls) echo "tls://vpn7-$2.lab.test:$TLS_GOOD_PORT" ;;
	esac
}
for kind in $KINDS; do
	i=0
	while [ $i -lt "$N" ]; do
		printf -- '--input\n%s\n' "$(target "$kind" $i)"
		i=$((i + 1))
	done >"$B/$kind.args"
done
# The process's own start-up and exit (trust store, libraries), measured
# with one tcp:// target and taken off each kind's CPU before dividing.
printf -- '--input\n%s\n' "$(target tcp start)" >"$B/start.args"

# run KIND: one probe run of KIND's targets; appends to $B/KIND.t
# "wall user sys maxrss_kb sent ip_out dns answered load1" (CPU in s).
run() {
	count=$N
	[ "$1" = start ] && count=1
	rm -f "$B/out.jsonl"
	load=$(cut -d' ' -f1 /proc/loadavg)
	lab_in "$LAB_NS_S" nft reset counters table inet wwbench >/dev/null
	# One argument per line (the inputs hold no newline): xargs hands
	# them all to one probe (a few hundred kB at most).
	if ! tr '\n' '\0' <"$B/$1.args" | lab_in "$LAB_NS_S" xargs -0 -x \
		-s 2000000 python3 "$PWD/bench/vpn/rusage.py" "$B/time" \
		"$PROBE" run --resolver "127.0.0.1:$DNS_PORT" \
		--ca-file "$LAB_DIR/certs/ca.pem" --concurrency $CONC \
		--timeout "$TMO" --dns-late-window 0 --capture off \
		--max-memory none --quiet --output "$B/out.jsonl" \
		>/dev/null 2>"$B/err"; then
		echo "bench: $1 failed:" >&2
		cat "$B/err" >&2
		return
	fi
	cp "$B/out.jsonl" "$B/$1.jsonl"
	got=$(wc -l <"$B/out.jsonl")
	[ "$got" -eq "$count" ] ||
		echo "bench: warning: $1: $got of $count targets measured" >&2
	ex=$(jq -s '[.[].test_keys.exchanges // [] | .[].sent] | add // 0' \
		"$B/out.jsonl")
	case $1 in
	tcp | tls | start)
		sent=n/a
		# targets whose connect succeeded (tcp), whose target-SNI
		# handshake did (tls; the first is the neutral example.com's)
		ok=$(jq -r 'select(.test_keys.tcp_connect // [] |
			any(.status.success)) | 1' "$B/out.jsonl" | wc -l)
		[ "$1" = tls ] && ok=$(jq -r 'select(.test_keys.tls_handshakes
			// [] | any(.server_name != "example.com" and
			.failure == null)) | 1' "$B/out.jsonl" | wc -l)
		;;
	*)
		sent=$ex
		ok=$(jq -r '.test_keys.exchanges // [] | .[] |
			select(.answered and (.payload == "handshake")) | 1' \
			"$B/out.jsonl" | wc -l)
		;;
	esac
	echo "$(cat "$B/time") $sent $(counter to_servers) $(counter dns) $ok $load" \
		>>"$B/$1.t"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# shellcheck disable=SC2016 # col's expressions are awk's
col() { # KIND EXPR: the median over runs of an awk expression of $1..$9
	awk -v n="$N" "{print $2}" "$B/$1.t" | median
}

echo "bench: vpn, $N targets per kind at --concurrency $CONC on loopback" \
	"(real servers in a namespace), --timeout $TMO; medians of $REPS" \
	"runs; $(nproc) cores; load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
r=0
while [ $r -lt "$REPS" ]; do
	for kind in start $KINDS; do
		run "$kind"
	done
	r=$((r + 1))
done

start=$(awk '{print $2 + $3}' "$B/start.t" 2>/dev/null | median)
start=${start:-0}
printf '\nstart-up and exit of the probe (one tcp:// target): %.1f ms of CPU,' \
	"$(echo "$start" | awk '{print $1 * 1000}')"
echo " taken off each run's CPU before dividing by $N"
printf '\n%-12s %11s %9s %10s %8s %10s %10s %12s\n' "kind" "CPU ms/tgt" \
	"sent/tgt" "IP out/tgt" "DNS/tgt" "wall s/run" "targets/s" \
	"handshakes"
# shellcheck disable=SC2016 # col's expressions are awk's
for kind in $KINDS; do
	[ -s "$B/$kind.t" ] || {
		printf '%-12s (no run succeeded)\n' "$kind"
		continue
	}
	cpu=$(col "$kind" "(\$2 + \$3 - $start) * 1000 / n")
	case $kind in
	tcp | tls) sent=n/a ;;
	*) sent=$(printf '%.2f' "$(col "$kind" '$5 / n')") ;;
	esac
	ipo=$(col "$kind" '$6 / n')
	dns=$(col "$kind" '$7 / n')
	wall=$(col "$kind" '$1')
	rate=$(col "$kind" 'n / $1')
	ok=$(col "$kind" '$8')
	printf '%-12s %11.3f %9s %10.2f %8.2f %10.1f %10.1f %8d/%-3d\n' \
		"$kind" "$cpu" "$sent" "$ipo" "$dns" "$wall" "$rate" "$ok" "$N"
done
echo
echo "load average (1 min) at the runs' starts: $(cut -d' ' -f9 "$B"/*.t |
	sort -g | awk '{a[NR]=$1} END {printf "min %s, median %s, max %s", a[1], a[int((NR+1)/2)], a[NR]}');" \
	"at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "CPU per run (user+sys s), each kind: $(for kind in start $KINDS; do
	printf '%s %s; ' "$kind" "$(awk '{printf "%s%.3f", (NR > 1 ? " " : ""), $2 + $3}' "$B/$kind.t" 2>/dev/null)"
done)"
