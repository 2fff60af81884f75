#!/bin/sh
# parallel.sh JOBS LABEL COMMAND [LABEL COMMAND...] - run the integration
# scripts (each COMMAND, a shell command line) up to JOBS at a time.
#
# Why: they mostly wait (on timeouts the tests provoke, on servers and
# collectors of their own), so one after the other leaves the CPU idle.
# Each script is independent: its own temporary directory, its own servers
# on ports the kernel picks (lib.sh); none knows the others run.
#
# Output: each script's output is kept in a file of its own and printed
# whole, in the order given here (not the order they end in), as soon as
# it and every one before it are done, under a "== LABEL" line; the last
# line of each block says its exit status and wall time. Once one fails,
# no new one starts (the running ones end as they would); the end names
# every one that failed or never ran, and the exit status is 1.
# An interrupt (INT, TERM) stops every running script: each one's own
# trap removes its files.
#
# Scheduling is event-driven: a script that ends writes one line into a
# FIFO; the loop blocks reading it (no polling, no guessed delays).
set -u
if [ $# -lt 3 ] || [ $(($# % 2)) -ne 1 ]; then
	echo "usage: parallel.sh JOBS LABEL COMMAND [LABEL COMMAND...]" >&2
	exit 2
fi
JOBS=$1
shift
case $JOBS in
'' | *[!0-9]* | 0) echo "parallel.sh: bad JOBS \"$JOBS\" (want a count >= 1)" >&2 && exit 2 ;;
esac

D=$(mktemp -d "${TMPDIR:-/tmp}/wallwatch-parallel.XXXXXX") || exit 1
# (a script's process: its own traps clean up after it)
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	for f in "$D"/*.pid; do
		[ -f "$f" ] && [ ! -f "${f%.pid}.rc" ] &&
			kill -TERM "$(cat "$f")" 2>/dev/null
	done
	wait
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkfifo "$D/done" || exit 1
# Read and write: the FIFO never sees end-of-file while we hold it, and no
# writer blocks for want of a reader.
exec 3<>"$D/done"

# Jobs are numbered from 1 in the order given; job N's label, command,
# output, status and time live in $D/N.*.
n=0
while [ $# -gt 0 ]; do
	n=$((n + 1))
	printf '%s\n' "$1" >"$D/$n.label"
	printf '%s\n' "$2" >"$D/$n.cmd"
	shift 2
done
total=$n

# start N: job N in the background; its end is one line "N STATUS" in the
# FIFO (PIPE_BUF-atomic, so lines of jobs ending together never mix).
start() {
	(
		t0=$(date +%s)
		# stdin from /dev/null: no script reads the terminal; the FIFO
		# stays ours (a server a script leaves behind must not hold it).
		# exec: the process whose pid is kept is the script itself.
		sh -c "exec $(cat "$D/$1.cmd")" >"$D/$1.out" 2>&1 </dev/null 3>&- &
		echo $! >"$D/$1.pid"
		wait $!
		rc=$?
		echo "$(($(date +%s) - t0))" >"$D/$1.secs"
		echo "$rc" >"$D/$1.rc"
		echo "$1 $rc" >&3
	) &
}

# flush [final]: print every finished job whose predecessors were all
# printed; at the end (final), those never started too.
printed=0
flush() {
	while [ $printed -lt $total ]; do
		i=$((printed + 1))
		if [ -f "$D/$i.rc" ]; then
			echo "== $(cat "$D/$i.label")"
			cat "$D/$i.out"
			echo "== $(cat "$D/$i.label"): exit $(cat "$D/$i.rc")," \
				"$(cat "$D/$i.secs") s"
		elif [ $# -gt 0 ] && [ $i -gt "$started" ]; then
			echo "== $(cat "$D/$i.label"): not run (an earlier one failed)"
		else
			return
		fi
		printed=$i
	done
}

echo "parallel: $total scripts, up to $JOBS at a time; each one's output" \
	"comes whole, in order, once it and those before it are done"
started=0
running=0
failed=0
while :; do
	while [ $failed -eq 0 ] && [ $running -lt "$JOBS" ] &&
		[ $started -lt $total ]; do
		started=$((started + 1))
		running=$((running + 1))
		start $started
	done
	[ $running -eq 0 ] && break
	read -r _job rc <&3
	running=$((running - 1))
	[ "$rc" -eq 0 ] || failed=1
	flush
done
flush final

bad=
i=0
while [ $i -lt $total ]; do
	i=$((i + 1))
	if [ ! -f "$D/$i.rc" ]; then
		bad="$bad $(cat "$D/$i.label") (not run),"
	elif [ "$(cat "$D/$i.rc")" -ne 0 ]; then
		bad="$bad $(cat "$D/$i.label") (exit $(cat "$D/$i.rc")),"
	fi
done
if [ -n "$bad" ]; then
	echo "parallel: failed:${bad%,}" >&2
	exit 1
fi
exit 0
