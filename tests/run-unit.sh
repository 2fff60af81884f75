#!/bin/sh
# run-unit.sh BIN... - run each cmocka unit-test binary; fail if any fails.
# cmocka prints its own "[  PASSED  ] N test(s)." summary per binary.
status=0
for t in "$@"; do
	echo "== $t"
	if ! "$t"; then
		echo "FAILED: $t" >&2
		status=1
	fi
done
exit $status
