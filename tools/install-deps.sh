#!/bin/sh
# install-deps.sh - install the Debian packages a make target needs, and only
# the missing ones. Used by `make deps`, `make check-deps`, `make bench-deps`.
# Runs apt-get directly as root, through sudo otherwise (sudo may ask for
# a password on a terminal); apt-get itself never prompts.
set -eu

# libpcap-dev: the engine's packet capture (engine/loop/capture.c) links libpcap.
# libpq-dev: the collector's PostgreSQL backend (collector/store_pg*.c).
# libzstd-dev: the collector's `import` reads OONI's .zst files
# (collector/import_read.c).
build_pkgs="gcc make pkg-config libevent-dev libc-ares-dev libcurl4-openssl-dev
 libssl-dev libjansson-dev libidn2-dev ca-certificates libsqlite3-dev zlib1g-dev curl jq
 libpcap-dev libpq-dev libzstd-dev"
# python3: tests/integration/capture.sh reads the --pcap file with it.
# clang-format: make check runs make format-check.
# postgresql-15: the throwaway clusters of the PostgreSQL tests
# (tests/pg/pgtmp.sh); util-linux: runuser, to run them as nobody.
# zstd: tests/integration/import.sh and bench/ooni-import.sh compress
# their files with it.
# openvpn, strongswan-charon, strongswan-swanctl, wireguard-go,
# wireguard-tools, ngtcp2-server: the censor lab's VPN and QUIC servers
# (tests/lab/vpn/servers.sh).
check_pkgs="$build_pkgs libcmocka-dev jq openssl curl procps bsdutils
 nftables iproute2 sqlite3 chromium man-db python3 clang-format postgresql-15
 util-linux openvpn strongswan-charon strongswan-swanctl wireguard-go
 wireguard-tools ngtcp2-server zstd"
bench_pkgs="$check_pkgs dnsutils time wrk"

case "${1:-build}" in
build) want=$build_pkgs ;;
check) want=$check_pkgs ;;
bench) want=$bench_pkgs ;;
*) echo "usage: $0 build|check|bench" >&2; exit 1 ;;
esac

missing=
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: missing packages:$missing, and no apt-get here;" \
	     "install them by hand" >&2
	exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo -n"
	if ! $sudo true 2>/dev/null; then
		sudo=sudo   # let sudo ask for a password on a terminal
	fi
else
	echo "install-deps: missing packages:$missing; run as root or" \
	     "install sudo" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	--no-install-recommends $missing >/dev/null
