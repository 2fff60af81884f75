#!/bin/sh
# run-fuzz.sh SECONDS LIBDIR NAME... - libFuzzer run of each target for
# SECONDS, starting from tests/fuzz/corpus/NAME; new inputs go to
# build/fuzz-work/NAME (libFuzzer writes into its first directory). Merge a
# new input into the kept corpus only if `-merge=1` says it adds coverage.
# LIBDIR holds the collector's, the probe's and the engine's libraries built
# with clang -fsanitize=fuzzer-no-link,address,undefined (`make fuzz` does).
set -eu
secs=$1
libs=$2
shift 2
PKGS="libevent libevent_openssl libevent_pthreads libcares libcurl openssl \
jansson zlib libidn2 sqlite3 libzstd libpq"
mkdir -p build/fuzz-work
for name in "$@"; do
	bin=build/fuzz-work/fuzz_$name
	# shellcheck disable=SC2046
	clang -std=c11 -D_DEFAULT_SOURCE -DWW_VERSION='"fuzz"' \
		-DWW_DATADIR='"/nonexistent"' -g -O1 -Iengine/core -Iengine/loop \
		-fsanitize=fuzzer,address,undefined \
		$(pkg-config --cflags $PKGS) -o "$bin" tests/fuzz/fuzz_$name.c \
		"$libs/libcollector.a" "$libs/libprobe.a" \
		"$libs/libwallwatch.a" $(pkg-config --libs $PKGS) -lpcap -lm \
		-pthread
	mkdir -p "build/fuzz-work/$name"
	"$bin" -max_total_time="$secs" -max_len=65536 \
		"build/fuzz-work/$name" "tests/fuzz/corpus/$name"
done
