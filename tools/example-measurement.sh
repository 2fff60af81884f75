#!/bin/sh
# example-measurement.sh - print a real measurement of the lab's HTTPS site
# (tests/fake), pretty-printed: the example in docs/measurement-format.md.
# Usage: sh tools/example-measurement.sh [URL-PATH]   (after `make check`)
set -u
. tests/integration/lib.sh
lab_start build/fakenet
build/wallwatch-probe run --resolver "127.0.0.1:$DNS_PORT" \
	--ca-file "$LAB/ca.pem" --timeout 5 --quiet --output - \
	--input "https://good.lab.test:$TLS_GOOD_PORT${1:-/redirect}" | jq -S .
