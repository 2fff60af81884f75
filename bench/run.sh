#!/bin/sh
# run.sh PROBE FAKENET - the probe's throughput benchmark (issue #2).
#
# N HTTPS targets (bench-I.lab.test, all served by fakenet's good TLS port on
# loopback, resolved by fakenet's DNS) are measured side by side in one run:
#   shell    a loop of `dig` + `curl`, what a volunteer would write by hand
#   curl-par `curl --parallel` doing the HTTP step alone, 32 at a time
#   s_time   the machine's TLS handshake limit: `openssl s_time -new`
#   probe    wallwatch-probe at concurrency 1, 32 and 256
# Every figure is the median of REPS runs (default 3). The trust store is the
# system bundle plus the lab CA, as large as a real one, so a per-connection
# re-parse of it (Debian libcurl's CA-path trap) would show in CPU/measurement.
# Goals: probe >= 20x the shell loop; peak RSS < 16 MiB at concurrency 256;
# measurement rate within 2x of the handshake limit.
set -u
PROBE=$1
FAKENET=$2
N=${BENCH_N:-1000}
N_SHELL=${BENCH_N_SHELL:-100}
REPS=${BENCH_REPS:-3}
. tests/integration/lib.sh
lab_start "$FAKENET"
B=$LAB/bench
mkdir -p "$B"

bundle=$B/ca-bundle.pem
cat /etc/ssl/certs/ca-certificates.crt "$LAB/ca.pem" >"$bundle" 2>/dev/null ||
	cp "$LAB/ca.pem" "$bundle"
echo "url,category_code,category_description,date_added,source,notes" \
	>"$B/list.csv"
: >"$B/curl.cfg"
i=0
while [ $i -lt "$N" ]; do
	u="https://bench-$i.lab.test:$TLS_GOOD_PORT/"
	echo "$u,CTRL,Control content,2026-11-22,bench," >>"$B/list.csv"
	printf 'url = "%s"\noutput = "/dev/null"\nresolve = "bench-%d.lab.test:%s:127.0.0.1"\n' \
		"$u" $i "$TLS_GOOD_PORT" >>"$B/curl.cfg"
	i=$((i + 1))
done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

ok_count() {
	jq -r 'select(.test_keys.requests[0].response.code == 200) | 1' \
		"$B/out.jsonl" | wc -l
}

# timed OUT CMD...: run under GNU time; appends "wall user sys maxrss_kb".
timed() {
	out=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$B/time" "$@" >/dev/null 2>"$B/err" ||
		{ echo "bench: command failed: $*" >&2; cat "$B/err" >&2; }
	cat "$B/time" >>"$out"
}

# Figures from a file of "wall user sys rss" lines and a count of work items:
# median rate (items/s), median CPU s per item, median peak RSS (MiB).
figures() { # FILE COUNT
	rate=$(awk -v n="$2" '{print n / $1}' "$1" | median)
	cpu=$(awk -v n="$2" '{print ($2 + $3) / n}' "$1" | median)
	rss=$(awk '{print $4 / 1024}' "$1" | median)
}

echo "bench: $N HTTPS targets on loopback ($N_SHELL for the shell loop);" \
	"medians of $REPS runs; $(nproc) cores"
rm -f "$B"/*.t
r=0
while [ $r -lt "$REPS" ]; do
	timed "$B/shell.t" sh bench/shell-loop.sh "$N_SHELL" "$DNS_PORT" \
		"$TLS_GOOD_PORT" "$bundle"
	timed "$B/curlpar.t" curl -s --noproxy '*' --cacert "$bundle" \
		--parallel --parallel-max 32 -K "$B/curl.cfg"
	for c in 1 32 256; do
		rm -f "$B/out.jsonl"
		# The engine's own speed: no DNS late window (a second of
		# listening per target, not work) and no capture; what
		# those cost is bench/probe-capture.sh's.
		timed "$B/probe$c.t" "$PROBE" run --resolver "127.0.0.1:$DNS_PORT" \
			--ca-file "$bundle" --list "$B/list.csv" \
			--dns-late-window 0 --capture off \
			--concurrency "$c" --timeout 10 --quiet \
			--output "$B/out.jsonl"
		got=$(ok_count)
		[ "$got" -eq "$N" ] || echo "bench: warning: concurrency $c:" \
			"$got of $N targets got HTTP 200" >&2
	done
	# Handshake limit: full handshakes for 3 s, one client, as fast as
	# the machine (client and the same server) allows.
	openssl s_time -connect "127.0.0.1:$TLS_GOOD_PORT" -new -time 3 \
		2>/dev/null | awk '/connections in [0-9.]+s/ {
			for (i = 1; i <= NF; i++)
				if ($i == "connections") n = $(i - 1);
			print n / 3 }' >>"$B/stime.rate"
	r=$((r + 1))
done

printf '\n%-34s %12s %14s %10s\n' "what" "per second" "CPU s/target" \
	"peak RSS"
figures "$B/shell.t" "$N_SHELL"
shell_rate=$rate
printf '%-34s %12.1f %14.5f %8.1f Mi\n' "shell loop (dig + curl)" "$rate" \
	"$cpu" "$rss"
figures "$B/curlpar.t" "$N"
printf '%-34s %12.1f %14.5f %8.1f Mi\n' "curl --parallel (HTTP only, 32)" \
	"$rate" "$cpu" "$rss"
hs=$(median <"$B/stime.rate")
printf '%-34s %12.1f %14s %10s\n' "openssl s_time -new (handshakes)" "$hs" \
	"-" "-"
for c in 1 32 256; do
	figures "$B/probe$c.t" "$N"
	eval "rate$c=$rate rss$c=$rss"
	printf '%-34s %12.1f %14.5f %8.1f Mi\n' \
		"wallwatch-probe, concurrency $c" "$rate" "$cpu" "$rss"
done

echo
echo "Each probe measurement makes 3 TLS handshakes (control SNI, target SNI,"
echo "HTTPS fetch), 2 DNS queries and 3 TCP connects."
awk -v p="$rate32" -v s="$shell_rate" 'BEGIN {
	printf "probe (32) vs shell loop:        %6.1fx   (goal >= 20x)\n", p / s }'
awk -v p="$rate256" -v s="$shell_rate" 'BEGIN {
	printf "probe (256) vs shell loop:       %6.1fx   (goal >= 20x)\n", p / s }'
awk -v r="$rss256" 'BEGIN {
	printf "peak RSS at concurrency 256:     %6.1f MiB (goal < 16 MiB)\n", r }'
awk -v p="$rate32" -v h="$hs" 'BEGIN {
	printf "handshake limit / probe rate:    %6.2f    (goal <= 2)\n", h / p
	printf "probe handshakes/s vs limit:     %6.2f    (3 per measurement)\n", 3 * p / h }'
sh bench/vpn.sh "$PROBE" "$FAKENET" # VPN and QUIC kinds (issue 15): own servers, own namespace
