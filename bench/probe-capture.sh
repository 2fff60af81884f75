#!/bin/sh
# probe-capture.sh PROBE FAKENET - what packet capture and the memory
# budget cost the probe (issue 13), side by side in one run on the same
# loopback targets (served by tests/fake/fakenet; half HTTPS, half HTTP):
#
#   capture  CPU per target and peak RSS with --capture on and off, at
#            --concurrency 32 and 256 (--max-memory none, so that the
#            budget does not blur the difference). Capture needs root
#            (CAP_NET_RAW) and a probe that knows --capture: otherwise
#            these rows are skipped with a message.
#   memory   peak RSS and rate (targets/s) at --concurrency 256 with
#            --max-memory 16M and with none (--capture off when the probe
#            knows it).
#
# The configurations alternate within each of BENCH_REPS runs (default 3),
# so that a machine that gets slower or faster meanwhile shifts them all;
# figures are medians. BENCH_CAP_N targets (default 600) per run, with the
# probe's defaults (the 1 s DNS late window included); BENCH_PROBE_ARGS
# are added to every probe run (e.g. "--dns-late-window 0", to see what
# the window costs). The capture's CPU per target comes from runs of its
# own: BENCH_CAP_CPU_N targets (default 3000) with --dns-late-window 0.
# The window adds a second of waiting to every target and no work, and at
# concurrency 32 it leaves a 600-target run 0.7 s of CPU in 20 s: too
# little to see 10 % through this machine's noise (+-15 % run to run). Peak RSS is GNU
# time's maxrss (shared library pages included), CPU is user + sys.
# Goals: capture adds at most 10 % CPU per target and 2 MiB RSS; with
# --max-memory 16M peak RSS is at most 16 MiB at no less than 80 % of the
# unbounded rate.
set -u
PROBE=$1
FAKENET=$2
N=${BENCH_CAP_N:-600}
NCPU=${BENCH_CAP_CPU_N:-3000}
REPS=${BENCH_REPS:-3}
. tests/integration/lib.sh
lab_start "$FAKENET"
B=$LAB/bench-cap
mkdir -p "$B"

# The trust store as a volunteer's probe has it by default: the system's
# hashed directory, read as handshakes need it; plus the lab's CA.
cadir=$B/ca
mkdir -p "$cadir"
for f in /etc/ssl/certs/*; do
	ln -s "$f" "$cadir/" 2>/dev/null
done
cp "$LAB/ca.pem" "$cadir/wallwatch-lab.pem"
h=$(openssl x509 -hash -noout -in "$LAB/ca.pem")
k=0
while [ -e "$cadir/$h.$k" ]; do k=$((k + 1)); done
ln -s wallwatch-lab.pem "$cadir/$h.$k"
# make_list FILE COUNT: half https://bench-I.lab.test, half http://.
make_list() {
	echo "url,category_code,category_description,date_added,source,notes" \
		>"$1"
	i=0
	while [ $i -lt "$2" ]; do
		if [ $((i % 2)) -eq 0 ]; then
			u="https://bench-$i.lab.test:$TLS_GOOD_PORT/"
		else
			u="http://bench-$i.lab.test:$HTTP_PORT/"
		fi
		echo "$u,CTRL,Control content,2026-12-05,bench," >>"$1"
		i=$((i + 1))
	done
}
make_list "$B/list.csv" "$N"
make_list "$B/list-cpu.csv" "$NCPU"

# Can this probe capture here? Say why not, once.
cap_off=
capture=yes
if "$PROBE" --help 2>/dev/null | grep -q -- '--capture'; then
	cap_off="--capture off"
	[ "$(id -u)" -eq 0 ] ||
		capture="no: capture needs root or CAP_NET_RAW (run the bench as root)"
else
	capture="no: this probe has no --capture option yet"
fi

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# run NAME COUNT ARGS...: one probe run over the list of COUNT targets
# under GNU time; appends "wall user sys maxrss_kb" to $B/NAME.t and
# checks every target came out.
run() {
	name=$1
	count=$2
	list=$B/list.csv
	[ "$count" -eq "$N" ] || list=$B/list-cpu.csv
	shift 2
	rm -f "$B/out.jsonl"
	# shellcheck disable=SC2086
	/usr/bin/time -f '%e %U %S %M' -o "$B/time" "$PROBE" run \
		--resolver "127.0.0.1:$DNS_PORT" --ca-file "$cadir" \
		--list "$list" --timeout 10 --quiet \
		--output "$B/out.jsonl" ${BENCH_PROBE_ARGS:-} "$@" \
		>/dev/null 2>"$B/err" || {
		echo "bench: $name failed:" >&2
		cat "$B/err" >&2
		return
	}
	cat "$B/time" >>"$B/$name.t"
	got=$(wc -l <"$B/out.jsonl" 2>/dev/null || echo 0)
	[ "$got" -eq "$count" ] ||
		echo "bench: warning: $name: $got of $count targets measured" >&2
	echo "$count" >"$B/$name.n"
	# Measurements whose capture lost packets to a full ring: a drop
	# counts in every measurement in flight at the time.
	jq -r 'select((.test_keys.packets.ring_drops // 0) > 0) | 1' \
		"$B/out.jsonl" | wc -l >>"$B/ringdrops"
}

# figures NAME: medians of rate (targets/s), CPU ms per target, peak RSS
# (MiB) into rate, cpu, rss; each run's in runs.
figures() {
	n=$(cat "$B/$1.n")
	rate=$(awk -v n="$n" '{print n / $1}' "$B/$1.t" | median)
	cpu=$(awk -v n="$n" '{print ($2 + $3) * 1000 / n}' "$B/$1.t" | median)
	rss=$(awk '{print $4 / 1024}' "$B/$1.t" | median)
	rssmax=$(awk '{print $4 / 1024}' "$B/$1.t" | sort -g | tail -1)
	runs=$(awk '{printf "%s%.1f", (NR > 1 ? " " : ""), $4 / 1024}' "$B/$1.t")
}

echo "bench: probe-capture, $N targets on loopback (half HTTPS, half" \
	"HTTP; $NCPU for the capture's CPU); medians of $REPS runs;" \
	"$(nproc) cores"
[ "$capture" = yes ] || echo "bench: capture rows skipped ($capture)"
rm -f "$B"/*.t "$B/ringdrops"
r=0
while [ $r -lt "$REPS" ]; do
	for c in 32 256; do
		if [ "$capture" = yes ]; then
			run "off$c" "$N" --concurrency $c --max-memory none \
				--capture off
			run "on$c" "$N" --concurrency $c --max-memory none \
				--capture on
			run "cpuoff$c" "$NCPU" --concurrency $c \
				--max-memory none --capture off \
				--dns-late-window 0
			run "cpuon$c" "$NCPU" --concurrency $c \
				--max-memory none --capture on \
				--dns-late-window 0
		fi
	done
	# shellcheck disable=SC2086
	run mem16 "$N" --concurrency 256 --max-memory 16M $cap_off
	# shellcheck disable=SC2086
	run memnone "$N" --concurrency 256 --max-memory none $cap_off
	r=$((r + 1))
done

row() { # LABEL NAME
	figures "$2"
	printf '%-38s %9.1f %12.3f %9.1f   (RSS per run: %s)\n' "$1" "$rate" \
		"$cpu" "$rss" "$runs"
}

printf '\n%-38s %9s %12s %9s\n' "what" "targets/s" "CPU ms/tgt" "RSS MiB"
if [ "$capture" = yes ]; then
	for c in 32 256; do
		row "capture off, concurrency $c" "off$c"
		eval "rss_off$c=\$rss rmax_off$c=\$rssmax"
		row "capture on,  concurrency $c" "on$c"
		eval "rss_on$c=\$rss rmax_on$c=\$rssmax"
	done
	for c in 32 256; do
		row "capture off, $c, no window ($NCPU)" "cpuoff$c"
		eval "cpu_off$c=\$cpu"
		row "capture on,  $c, no window ($NCPU)" "cpuon$c"
		eval "cpu_on$c=\$cpu"
	done
fi
row "--max-memory 16M, concurrency 256" mem16
rate16=$rate rss16=$rssmax
row "--max-memory none, concurrency 256" memnone
ratenone=$rate

echo
if [ "$capture" = yes ]; then
	for c in 32 256; do
		eval "a=\$cpu_on$c b=\$cpu_off$c x=\$rss_on$c y=\$rss_off$c"
		eval "xm=\$rmax_on$c ym=\$rmax_off$c"
		# The peak at 256 unbounded depends on how many handshakes
		# happen to coincide (bimodal: 20-22 or 27-30 MiB): the
		# goal holds for the medians and for the highest of each.
		# shellcheck disable=SC2154
		awk -v a="$a" -v b="$b" -v x="$x" -v y="$y" -v xm="$xm" \
			-v ym="$ym" -v c="$c" 'BEGIN {
			q = a / b
			d = (q - 1) * 100
			m = x - y
			mm = xm - ym
			ok = m <= 2 && mm <= 2
			printf "capture CPU per target at %3d:   %+6.1f %%   (goal <= +10 %%)   %s\n", c, d, (d <= 10 ? "met" : "missed")
			printf "capture peak RSS at %3d:         %+6.2f MiB (goal <= +2 MiB)   %s  (highest runs: %+.2f)\n", c, m, (ok ? "met" : "missed"), mm }'
	done
else
	echo "capture: skipped ($capture)"
fi
awk -v r="$rss16" 'BEGIN {
	printf "--max-memory 16M peak RSS:       %6.2f MiB (goal <= 16 MiB)    %s  (the highest run)\n", r, (r <= 16 ? "met" : "missed") }'
awk -v a="$rate16" -v b="$ratenone" 'BEGIN {
	q = a / b
	printf "--max-memory 16M rate / none:    %6.2f     (goal >= 0.80)      %s\n", q, (q >= 0.8 ? "met" : "missed") }'
# Capture-on runs whose measurements saw the ring drop packets (the rest
# count 0): the ring's size is right when this stays 0.
[ -f "$B/ringdrops" ] &&
	echo "measurements with ring drops, all runs:  $(awk '{s += $1} END {print s + 0}' "$B/ringdrops")"
