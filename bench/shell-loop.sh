#!/bin/sh
# shell-loop.sh N DNS_PORT TLS_PORT CA_BUNDLE - what a volunteer would write
# by hand: for each target, dig A and AAAA, then curl the page.
n=$1 dns=$2 port=$3 ca=$4
k=0
while [ "$k" -lt "$n" ]; do
	h=bench-$k.lab.test
	ip=$(dig +short +tries=1 +time=5 @127.0.0.1 -p "$dns" "$h" A | head -1)
	dig +short +tries=1 +time=5 @127.0.0.1 -p "$dns" "$h" AAAA >/dev/null
	curl -s --noproxy '*' --cacert "$ca" -o /dev/null \
		--resolve "$h:$port:$ip" "https://$h:$port/" || exit 1
	k=$((k + 1))
done
