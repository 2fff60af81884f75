#!/bin/sh
# check.sh MAKE BUILD - the tests of `make check`, the binaries built (the
# plain and the ASan ones): the censor lab runs beside the rest (it mostly
# waits on its censor's drops and timeouts, in network namespaces of its
# own: ~85 s of wall time for ~20 s of CPU), everything else one part after
# the other, but for the integration scripts: the plain, the ASan and the
# PostgreSQL ones run in one pool, INTEGRATION_JOBS at a time
# (tests/integration/parallel.sh; they mostly wait too, each on servers
# and in a directory of its own, so one's waits overlap another's work).
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

# part LABEL MAKE-ARGUMENTS...: one part, timed; none after a failure.
part() {
	[ $rc -eq 0 ] || return 0
	_label=$1
	shift
	_t0=$(date +%s)
	if $MAKE --no-print-directory "$@"; then
		times="$times $_label $(($(date +%s) - _t0))s"
	else
		rc=1
		echo "check: $_label failed" >&2
	fi
}
part format-check format-check
part layers-check layers-check
part unit unit
part unit-pg unit-pg
part fuzz-replay fuzz-replay
part unit-asan unit-asan
part integration+asan+pg integration "INTEGRATION_WITH=asan pg"
part web web
part offline offline

wait $lab
lab_rc=$?
cat "$log"
[ $lab_rc -eq 0 ] || echo "check: lab failed" >&2
echo "check: wall time $(($(date +%s) - start))s; each:$times (the lab" \
	"beside them)"
[ $rc -eq 0 ] && [ $lab_rc -eq 0 ]
