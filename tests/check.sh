#!/bin/sh
# check.sh MAKE BUILD - the tests of `make check`, the binaries built. Two
# groups run beside the rest, since they mostly wait: the censor lab (its
# censor's drops and timeouts, in network namespaces of its own: ~85 s of
# wall time for ~20 s of CPU) and the PostgreSQL tests (unit-pg, then
# integration-pg: throwaway clusters of their own). Everything else runs one
# after the other. Their output is printed when all are done; the first
# failure stops the rest, and the exit status is non-zero when anything
# failed. The last line says where the time went.
set -u
MAKE=$1
BUILD=$2
mkdir -p "$BUILD"
lablog=$BUILD/lab.log
pglog=$BUILD/pg.log
start=$(date +%s)
$MAKE --no-print-directory lab >"$lablog" 2>&1 &
lab=$!
(
	t0=$(date +%s)
	$MAKE --no-print-directory unit-pg &&
		$MAKE --no-print-directory integration-pg
	rc=$?
	echo "check: PostgreSQL tests took $(($(date +%s) - t0))s"
	exit $rc
) >"$pglog" 2>&1 &
pg=$!
# Stopped from outside: stop both groups too (their own traps remove their
# namespaces and clusters).
trap 'kill -TERM $lab $pg 2>/dev/null; wait $lab $pg; exit 130' INT TERM
rc=0
times=
for t in format-check layers-check unit fuzz-replay unit-asan integration \
	integration-asan web offline; do
	t0=$(date +%s)
	$MAKE --no-print-directory $t || {
		rc=1
		echo "check: $t failed" >&2
		break
	}
	times="$times $t $(($(date +%s) - t0))s"
done
wait $pg
pg_rc=$?
cat "$pglog"
[ $pg_rc -eq 0 ] || echo "check: PostgreSQL tests failed" >&2
wait $lab
lab_rc=$?
cat "$lablog"
[ $lab_rc -eq 0 ] || echo "check: lab failed" >&2
echo "check: wall time $(($(date +%s) - start))s; each:$times" \
	"(the lab and the PostgreSQL tests beside them)"
[ $rc -eq 0 ] && [ $pg_rc -eq 0 ] && [ $lab_rc -eq 0 ]
