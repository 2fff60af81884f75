#!/bin/sh
# check.sh MAKE BUILD - the tests of `make check`, the binaries built: the
# censor lab runs beside the rest (it mostly waits on its censor's drops
# and timeouts, in network namespaces of its own: ~85 s of wall time for
# ~20 s of CPU), everything else one after the other. (The PostgreSQL
# tests were tried beside the rest as well: no gain could be shown on this
# 2-core machine, whose CPU time for the same check varied by nearly 2x
# between runs.)
# The lab's output is printed when both are done; the first failure stops
# the rest, and the exit status is non-zero when anything failed. The last
# line says where the time went.
set -u
MAKE=$1
BUILD=$2
log=$BUILD/lab.log
mkdir -p "$BUILD"
start=$(date +%s)
$MAKE --no-print-directory lab >"$log" 2>&1 &
lab=$!
# Stopped from outside: stop the lab too (its own trap removes its
# namespaces).
trap 'kill -TERM $lab 2>/dev/null; wait $lab; exit 130' INT TERM
rc=0
times=
for t in format-check layers-check unit unit-pg fuzz-replay unit-asan \
	integration integration-pg integration-asan web offline; do
	t0=$(date +%s)
	$MAKE --no-print-directory $t || {
		rc=1
		echo "check: $t failed" >&2
		break
	}
	times="$times $t $(($(date +%s) - t0))s"
done
wait $lab
lab_rc=$?
cat "$log"
[ $lab_rc -eq 0 ] || echo "check: lab failed" >&2
echo "check: wall time $(($(date +%s) - start))s; each:$times (the lab" \
	"beside them)"
[ $rc -eq 0 ] && [ $lab_rc -eq 0 ]
