#!/bin/sh
# run-fuzz.sh SECONDS NAME... - libFuzzer run of each target for SECONDS,
# starting from tests/fuzz/corpus/NAME; new inputs go to build/fuzz-work/NAME
# (libFuzzer writes into its first directory). Merge a new input into the
# kept corpus only if `-merge=1` says it adds coverage.
set -eu
secs=$1
shift
PKGS="libevent libevent_openssl libcares libcurl openssl jansson zlib libidn2"
mkdir -p build/fuzz-work
for name in "$@"; do
	bin=build/fuzz-work/fuzz_$name
	clang -std=c11 -D_DEFAULT_SOURCE -DWW_VERSION='"fuzz"' \
		-DWW_DATADIR='"/nonexistent"' -g -O1 -Iengine \
		-fsanitize=fuzzer,address,undefined \
		$(pkg-config --cflags $PKGS) -o "$bin" tests/fuzz/fuzz_$name.c \
		engine/*.c $(pkg-config --libs $PKGS)
	mkdir -p "build/fuzz-work/$name"
	"$bin" -max_total_time="$secs" -max_len=65536 \
		"build/fuzz-work/$name" "tests/fuzz/corpus/$name"
done
