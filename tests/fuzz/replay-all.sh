#!/bin/sh
# replay-all.sh DIR NAME... - replay tests/fuzz/corpus/NAME/* through
# DIR/replay_NAME for each fuzz target. A crash or sanitizer report fails.
dir=$1
shift
status=0
for name in "$@"; do
	corpus=tests/fuzz/corpus/$name
	if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
		echo "fuzz-replay: $name has no corpus in $corpus" >&2
		status=1
		continue
	fi
	printf 'fuzz-replay %s: ' "$name"
	if ! "$dir/replay_$name" "$corpus"/*; then
		echo "FAILED: fuzz replay of $name" >&2
		status=1
	fi
done
exit $status
