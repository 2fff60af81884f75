# lab.sh - the censor lab's network, sourced by run.sh (see README.md):
# three network namespaces, the links and routes between them, the
# censor's nftables rules, and the servers. lab_down undoes all of it and
# is safe to call at any point, twice included.
#
#   client ns  ww-cli 30.1.0.2/24 ── ww-in 30.1.0.1/24  censor ns
#                                   ww-out 30.2.0.1/24 ── ww-srv 30.2.0.2/24
#                                                          + 30.2.0.9-85
#                                                          + 30.2.0.90-97
#                                                          (vpn/servers.sh)
#                                                          server ns
#
# Interfaces are created inside their namespaces (never in the host's), so
# their names are fixed; namespace names carry the shell's PID and a random
# tag, so that two runs never collide.

# sh has no local variables: each function's own names start with a
# prefix of its own (_bg_, _w_, ...), so that calls cannot clobber them.

# Set by lab_up; lab_down reads them.
LAB_NS_C=
LAB_NS_X=
LAB_NS_S=
LAB_PIDS=
LAB_WG_IFS=

# The VPN and QUIC servers and their addresses (issue 15).
. tests/lab/vpn/servers.sh

# Addresses (zone.txt must agree).
LAB_CLIENT=30.1.0.2
LAB_CLIENT_NET=30.1.0.0/24
LAB_ROUTER_IN=30.1.0.1
LAB_ROUTER_OUT=30.2.0.1
LAB_SERVER=30.2.0.2 # DNS and control
LAB_SYN_DROP=30.2.0.19
LAB_SYN_RESET=30.2.0.20
LAB_MITM=30.2.0.21
LAB_DOWN=30.2.0.22
LAB_SITES_FIRST=9
LAB_SITES_LAST=85
# IPv6 (2a30::/16 looks public: engine/core/ipaddr.c's bogons include the
# documentation prefix 2001:db8::/32, so the lab cannot use it).
LAB_CLIENT6=2a30:1::2
LAB_ROUTER_IN6=2a30:1::1
LAB_ROUTER_OUT6=2a30:2::1
LAB_SERVER6=2a30:2::2
LAB_SITES6="66 67 68 69 70"
# Special addresses (zone.txt, rules.txt and scenarios.tsv agree).
LAB_V6_DROP=2a30:2::68
LAB_PUBLIC_BLOCKPAGE=30.2.0.37
LAB_GHOST=30.2.0.38
LAB_HOP_REFUSED=30.2.0.52
LAB_HOP_DROPPED=30.2.0.53
LAB_PROXIED=30.2.0.74
# The sinkhole the censor's DNS sends bogon.lab.test to: a private address
# its router blackholes (as OONI's dnsBlockingBOGON has it: a timeout).
LAB_SINKHOLE=10.10.34.34
LAB_THROTTLE=30.2.0.64
LAB_THROTTLE_TLS=30.2.0.65
# The odd TLS servers: fakenet's listeners with a bad certificate, pinned
# to these ports and reached on 443 of their site's address (server nft).
LAB_SELFSIGNED=30.2.0.40
LAB_EXPIRED=30.2.0.41
LAB_WRONG=30.2.0.42
LAB_PORT_SELFSIGNED=8443
LAB_PORT_EXPIRED=8444
LAB_PORT_WRONG=8445
# A site whose certificate comes from a CA the control trusts and the
# probe does not (a stale trust store): its own fakenet on this port.
LAB_OTHER_CA=30.2.0.75
LAB_PORT_OTHER_CA=8446
# Servers that reset the TLS handshake by themselves (their own TTL, so
# that packets can tell them from the censor): fakenet's reset listener
# for everyone, its SNI filter (it resets blocked.lab.test) for the
# client's network only. Server nft sends port 443 of their sites there.
LAB_SRV_RESET=30.2.0.84
LAB_GEO_SNI_RESET=30.2.0.85
LAB_PORT_RESET=8447
LAB_PORT_SNI=8448
# The on-path injections whose real answer still comes back: the censor's
# forward chain counts the sites' packets with data to the client.
LAB_SNI_INJECT=30.2.0.81
LAB_INJECT_PAGE=30.2.0.82
LAB_KW_INJECT=30.2.0.83
# The censor's policer: server-to-client bytes per second it lets through
# for the throttled sites. Over TLS a little more, so that some 16 kB
# records complete within the probe's timeout (a TLS body only shows up
# record by record).
LAB_THROTTLE_RATE="4 kbytes/second burst 4 kbytes"
LAB_THROTTLE_RATE_TLS="16 kbytes/second burst 16 kbytes"
LAB_CONTROL_PORT=8080
# The resolver's delay: the censor's forged answer must arrive first even on
# a loaded machine (it is sent microseconds after the query is seen).
LAB_DNS_DELAY_MS=200
# Servers outlive a run killed with SIGKILL by at most this long (fakenet
# --lifetime, timeout(1) for the others).
LAB_LIFETIME=900

lab_log() {
	echo "lab: $*" >&2
}

# lab_in NS CMD...: run CMD in namespace NS.
lab_in() {
	_in_ns=$1
	shift
	ip netns exec "$_in_ns" "$@"
}

# lab_bg NAME NS CMD...: start CMD in NS in the background, output in
# $LAB_DIR/NAME.out and NAME.err; its PID joins LAB_PIDS. `ip netns exec`
# execs CMD, so the PID is CMD's own.
lab_bg() {
	_bg_name=$1
	_bg_ns=$2
	shift 2
	ip netns exec "$_bg_ns" "$@" >"$LAB_DIR/$_bg_name.out" \
		2>"$LAB_DIR/$_bg_name.err" </dev/null &
	LAB_PIDS="$LAB_PIDS $!"
	eval "LAB_PID_$_bg_name=\$!"
}

# lab_forget PID: a process we reaped with `wait` (its PID may be reused).
lab_forget() {
	_f_keep=
	for _f_p in $LAB_PIDS; do
		[ "$_f_p" = "$1" ] || _f_keep="$_f_keep $_f_p"
	done
	LAB_PIDS=$_f_keep
}

# lab_wait NAME FILE PATTERN: wait up to 10 s for PATTERN in FILE while
# NAME's process lives. Returns 1 with its stderr shown otherwise.
lab_wait() {
	_w_pid=$(eval "echo \$LAB_PID_$1")
	_w_i=0
	while ! grep -q "$3" "$2" 2>/dev/null; do
		_w_i=$((_w_i + 1))
		if [ $_w_i -gt 100 ] || ! kill -0 "$_w_pid" 2>/dev/null; then
			lab_log "$1 did not start (waited for \"$3\" in $2):"
			sed 's/^/  /' "$LAB_DIR/$1.err" >&2
			return 1
		fi
		sleep 0.1
	done
}

# lab_netns_ok: can this machine make network namespaces? Prints why not.
lab_netns_ok() {
	_ok_ns="ww$$p$(lab_tag)"
	if ! _ok_err=$(ip netns add "$_ok_ns" 2>&1); then
		echo "ip netns add: $_ok_err"
		return 1
	fi
	ip netns del "$_ok_ns" 2>/dev/null
	return 0
}

# Four random hex digits.
lab_tag() {
	od -An -N2 -tx1 /dev/urandom | tr -d ' \n'
}

lab_nft_censor() {
	# The censor's router. wallwatch-censor forwards the client's web
	# traffic itself (tests/lab/censor.c): the kernel must drop its own
	# copy. TCP/IP blocks apply both to forwarded packets and to the
	# censor's re-sent ones, which leave through the output hook. Each
	# block counts what it did (named counters: the self-tests read them).
	lab_in "$LAB_NS_X" nft -f - <<EOF
table ip wwlab {
	counter syn_drop { }
	counter syn_reset { }
	counter hop_refused { }
	counter hop_dropped { }
	counter public_blockpage { }
	counter sinkhole { }
	counter mitm { }
	counter proxy { }
	counter throttle { }
	counter throttle_tls { }
	counter real_sni_inject { }
	counter real_inject_page { }
	counter real_kw_inject { }
	chain block {
		ip daddr $LAB_SYN_DROP meta l4proto tcp counter name syn_drop drop
		ip daddr $LAB_SYN_RESET meta l4proto tcp counter name syn_reset \
			reject with tcp reset
		ip daddr $LAB_HOP_REFUSED meta l4proto tcp \
			counter name hop_refused reject with tcp reset
		ip daddr $LAB_HOP_DROPPED meta l4proto tcp \
			counter name hop_dropped drop
		ip daddr $LAB_PUBLIC_BLOCKPAGE meta l4proto tcp \
			counter name public_blockpage reject with tcp reset
		ip daddr $LAB_SINKHOLE counter name sinkhole drop
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "ww-in" jump block
		iifname "ww-in" tcp dport { 80, 443 } drop
		# the client's DNS too (wallwatch-censor --dns-forward): the
		# censor forwards the queries no resolver-* rule answered
		iifname "ww-in" udp dport 53 drop
		# The servers' real answers that still arrive after an
		# on-path injection: segments with data (over 100 bytes).
		ip saddr $LAB_SNI_INJECT tcp sport 443 ip length > 100 \
			counter name real_sni_inject
		ip saddr $LAB_INJECT_PAGE tcp sport 80 ip length > 100 \
			counter name real_inject_page
		ip saddr $LAB_KW_INJECT tcp sport 80 ip length > 100 \
			counter name real_kw_inject
		# Throttling: a policer on what the throttled sites send back.
		ip saddr $LAB_THROTTLE tcp sport 80 \
			limit rate over $LAB_THROTTLE_RATE \
			counter name throttle drop
		ip saddr $LAB_THROTTLE_TLS tcp sport 443 \
			limit rate over $LAB_THROTTLE_RATE_TLS \
			counter name throttle_tls drop
	}
	chain output {
		type filter hook output priority filter; policy accept;
		oifname "ww-out" jump block
	}
	# The man in the middle: the client's HTTPS to the MITM address goes
	# to a server here with a certificate from the censor's own CA. The
	# censor must not forward its copy of those packets (before NAT,
	# which would deliver it here a second time).
	chain mitm {
		type nat hook prerouting priority dstnat;
		iifname "ww-in" ip daddr $LAB_MITM tcp dport 443 \
			counter name mitm dnat to $LAB_ROUTER_IN:443
		# The ISP's transparent proxy: the same server answers port 80
		# of the proxied site, with the page and headers of its own.
		iifname "ww-in" ip daddr $LAB_PROXIED tcp dport 80 \
			counter name proxy dnat to $LAB_ROUTER_IN:80
	}
	chain mitm_out {
		type filter hook output priority -160; policy accept;
		ip daddr $LAB_MITM tcp dport 443 drop
		ip daddr $LAB_PROXIED tcp dport 80 drop
	}
}
table ip6 wwlab6 {
	counter v6_drop { }
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "ww-in" ip6 daddr $LAB_V6_DROP meta l4proto tcp \
			counter name v6_drop drop
	}
}
EOF
}

lab_nft_server() {
	# The site that is down everywhere: refused, for the probe (through
	# the censor) and for the control (here, over lo) alike. The ghost
	# server refuses HTTPS. 127.0.0.1 refuses web ports, as on the client
	# (the control must not find fakenet there). The odd TLS servers'
	# port 443 leads to fakenet's listeners with bad certificates, the
	# resetting server's to its reset listener (for everyone), and the
	# geo-resetting one's, for the client's network only, to its SNI
	# filter (which resets blocked.lab.test).
	lab_in "$LAB_NS_S" nft -f - <<EOF
table ip wwlab {
	counter down { }
	counter ghost_443 { }
	counter localhost { }
	counter odd_selfsigned { }
	counter odd_expired { }
	counter odd_wrong { }
	counter odd_other_ca { }
	counter srv_reset { }
	counter geo_sni_reset { }
	chain input {
		type filter hook input priority filter; policy accept;
		ip daddr $LAB_DOWN meta l4proto tcp counter name down \
			reject with tcp reset
		ip daddr $LAB_GHOST tcp dport 443 counter name ghost_443 \
			reject with tcp reset
	}
	chain output {
		type filter hook output priority filter; policy accept;
		ip daddr 127.0.0.1 tcp dport { 80, 443 } counter name localhost \
			reject with tcp reset
	}
	chain odd_pre {
		type nat hook prerouting priority dstnat;
		jump odd
	}
	chain odd_out {
		type nat hook output priority -100;
		jump odd
	}
	chain odd {
		ip daddr $LAB_SELFSIGNED tcp dport 443 counter \
			name odd_selfsigned dnat to $LAB_SELFSIGNED:$LAB_PORT_SELFSIGNED
		ip daddr $LAB_EXPIRED tcp dport 443 counter \
			name odd_expired dnat to $LAB_EXPIRED:$LAB_PORT_EXPIRED
		ip daddr $LAB_WRONG tcp dport 443 counter \
			name odd_wrong dnat to $LAB_WRONG:$LAB_PORT_WRONG
		ip daddr $LAB_OTHER_CA tcp dport 443 counter \
			name odd_other_ca dnat to $LAB_OTHER_CA:$LAB_PORT_OTHER_CA
		ip daddr $LAB_SRV_RESET tcp dport 443 counter \
			name srv_reset dnat to $LAB_SRV_RESET:$LAB_PORT_RESET
		ip saddr $LAB_CLIENT_NET ip daddr $LAB_GEO_SNI_RESET \
			tcp dport 443 counter name geo_sni_reset \
			dnat to $LAB_GEO_SNI_RESET:$LAB_PORT_SNI
	}
}
EOF
}

# lab_counter NS NAME: the packets an nft named counter of NS has counted.
lab_counter() {
	lab_in "$1" nft list counters 2>/dev/null | awk -v n="$2" '
		$1 == "counter" && $2 == n { want = 1; next }
		want && $1 == "packets" { print $2; exit }'
}

# lab_cut_control: the censor drops everything to the control service.
lab_cut_control() {
	lab_in "$LAB_NS_X" nft -f - <<EOF
table ip wwcut {
	counter cut_control { }
	chain forward {
		type filter hook forward priority -10; policy accept;
		ip daddr $LAB_SERVER tcp dport $LAB_CONTROL_PORT \
			counter name cut_control drop
	}
}
EOF
}

# lab_cut_all: the client's link is dead: nothing it sends goes anywhere,
# and nothing (the censor's forgeries included) comes back.
lab_cut_all() {
	lab_in "$LAB_NS_X" nft -f - <<EOF
table inet wwcut {
	counter cut_all { }
	chain forward {
		type filter hook forward priority -10; policy accept;
		iifname "ww-in" counter name cut_all drop
		oifname "ww-in" counter name cut_all drop
	}
	chain input {
		type filter hook input priority -10; policy accept;
		iifname "ww-in" counter name cut_all drop
	}
	chain output {
		type filter hook output priority -250; policy accept;
		oifname "ww-in" counter name cut_all drop
	}
}
EOF
}

lab_uncut() {
	lab_in "$LAB_NS_X" nft delete table ip wwcut 2>/dev/null
	lab_in "$LAB_NS_X" nft delete table inet wwcut 2>/dev/null
	return 0
}

# lab_net: namespaces, links, addresses, routes, nftables.
lab_net() {
	_n_tag=$(lab_tag)
	LAB_NS_C="ww$$c$_n_tag"
	LAB_NS_X="ww$$x$_n_tag"
	LAB_NS_S="ww$$s$_n_tag"
	for _n_ns in "$LAB_NS_C" "$LAB_NS_X" "$LAB_NS_S"; do
		ip netns add "$_n_ns" || return 1
		lab_in "$_n_ns" ip link set lo up || return 1
	done
	ip link add ww-cli netns "$LAB_NS_C" type veth \
		peer name ww-in netns "$LAB_NS_X" || return 1
	ip link add ww-out netns "$LAB_NS_X" type veth \
		peer name ww-srv netns "$LAB_NS_S" || return 1

	lab_in "$LAB_NS_C" ip addr add "$LAB_CLIENT/24" dev ww-cli &&
		lab_in "$LAB_NS_C" ip link set ww-cli up &&
		lab_in "$LAB_NS_C" ip route add default via "$LAB_ROUTER_IN" ||
		return 1

	lab_in "$LAB_NS_X" ip addr add "$LAB_ROUTER_IN/24" dev ww-in &&
		lab_in "$LAB_NS_X" ip addr add "$LAB_ROUTER_OUT/24" dev ww-out &&
		lab_in "$LAB_NS_X" ip link set ww-in up &&
		lab_in "$LAB_NS_X" ip link set ww-out up &&
		lab_in "$LAB_NS_X" sh -c \
			'echo 1 >/proc/sys/net/ipv4/ip_forward' || return 1
	lab_in "$LAB_NS_X" sh -c \
		'echo 1 >/proc/sys/net/ipv6/conf/all/forwarding' || return 1
	# A route for the sinkhole, so that its packets reach the forward
	# chain (and its drop rule) instead of an ICMP "no route" here.
	lab_in "$LAB_NS_X" ip route add "$LAB_SINKHOLE/32" dev ww-out ||
		return 1
	lab_in "$LAB_NS_C" ip -6 addr add "$LAB_CLIENT6/64" dev ww-cli nodad &&
		lab_in "$LAB_NS_C" ip -6 route add default via "$LAB_ROUTER_IN6" &&
		lab_in "$LAB_NS_X" ip -6 addr add "$LAB_ROUTER_IN6/64" dev ww-in \
			nodad &&
		lab_in "$LAB_NS_X" ip -6 addr add "$LAB_ROUTER_OUT6/64" \
			dev ww-out nodad || return 1

	lab_in "$LAB_NS_S" ip addr add "$LAB_SERVER/24" dev ww-srv || return 1
	_n_i=$LAB_SITES_FIRST
	while [ $_n_i -le $LAB_SITES_LAST ]; do
		lab_in "$LAB_NS_S" ip addr add "30.2.0.$_n_i/24" dev ww-srv ||
			return 1
		_n_i=$((_n_i + 1))
	done
	lab_in "$LAB_NS_S" ip -6 addr add "$LAB_SERVER6/64" dev ww-srv nodad ||
		return 1
	for _n_i in $LAB_SITES6; do
		lab_in "$LAB_NS_S" ip -6 addr add "2a30:2::$_n_i/64" dev ww-srv \
			nodad || return 1
	done
	lab_in "$LAB_NS_S" ip link set ww-srv up &&
		lab_in "$LAB_NS_S" ip route add default via "$LAB_ROUTER_OUT" &&
		lab_in "$LAB_NS_S" ip -6 route add default via "$LAB_ROUTER_OUT6" ||
		return 1

	lab_vpn_addrs || return 1
	lab_nft_censor || return 1
	lab_vpn_nft_censor || return 1
	lab_nft_server || return 1
	lab_vpn_nft_server || return 1
}

# lab_servers BUILD: certificates, fakenet (DNS, HTTP, HTTPS), the control
# service, the MITM's server, the censor. Each must say it is ready.
lab_servers() {
	_s_build=$1
	sh tests/fake/mkcerts.sh "$LAB_DIR/certs" || return 1
	sh tests/fake/mkcerts.sh "$LAB_DIR/mitm" "Lab Censor CA" || return 1
	sh tests/fake/mkcerts.sh "$LAB_DIR/other" "Lab Other CA" || return 1
	# The control trusts both CAs, the probe only the first.
	cat "$LAB_DIR/certs/ca.pem" "$LAB_DIR/other/ca.pem" \
		>"$LAB_DIR/control-ca.pem" || return 1
	# the VPN servers' keys (the control reads its own at start)
	lab_vpn_keys || {
		lab_log "vpn: cannot make the keys (openvpn, wg)"
		return 1
	}

	# The IPv6 fakenet's directory: the same certificates, copied before
	# the first fakenet starts writing its ports.env there (a copy made
	# after could meet the temporary file it renames into place: seen once
	# under load, "cp: cannot stat '.ports.env.PID'").
	cp -R "$LAB_DIR/certs" "$LAB_DIR/certs6" || return 1

	lab_bg fakenet "$LAB_NS_S" "$_s_build/fakenet" --dir "$LAB_DIR/certs" \
		--bind 0.0.0.0 --port "DNS_PORT=$LAB_SERVER:53" \
		--port HTTP_PORT=80 --port TLS_GOOD_PORT=443 \
		--port "TLS_SELFSIGNED_PORT=$LAB_PORT_SELFSIGNED" \
		--port "TLS_EXPIRED_PORT=$LAB_PORT_EXPIRED" \
		--port "TLS_WRONG_PORT=$LAB_PORT_WRONG" \
		--port "TLS_RESET_PORT=$LAB_PORT_RESET" \
		--port "TLS_SNI_PORT=$LAB_PORT_SNI" \
		--zone tests/lab/zone.txt --dns-delay "$LAB_DNS_DELAY_MS" \
		--geo-block "$LAB_CLIENT_NET" --lifetime "$LAB_LIFETIME" \
		--verbose
	# The IPv6 sites: a second fakenet on [::] (IPv6 only in this
	# namespace, so the two do not collide), the same routes and
	# certificate, its own directory for its ports.env.
	lab_in "$LAB_NS_S" sh -c \
		'echo 1 >/proc/sys/net/ipv6/bindv6only' || return 1
	lab_bg fakenet6 "$LAB_NS_S" "$_s_build/fakenet" \
		--dir "$LAB_DIR/certs6" --bind :: \
		--port HTTP_PORT=80 --port TLS_GOOD_PORT=443 \
		--lifetime "$LAB_LIFETIME" --verbose
	lab_bg control "$LAB_NS_S" timeout "$LAB_LIFETIME" \
		"$_s_build/wallwatch-collector" --control-only \
		--listen "$LAB_SERVER:$LAB_CONTROL_PORT" \
		--resolver "$LAB_SERVER:53" --ca-file "$LAB_DIR/control-ca.pem" \
		--openvpn-key "$LAB_DIR/vpn/ta.key" \
		--wireguard-key "$LAB_DIR/vpn/wg-control.key" \
		--timeout 3 --verbose
	lab_bg fakenet_other "$LAB_NS_S" "$_s_build/fakenet" \
		--dir "$LAB_DIR/other" --bind 0.0.0.0 \
		--port "TLS_GOOD_PORT=$LAB_PORT_OTHER_CA" \
		--lifetime "$LAB_LIFETIME" --verbose
	lab_bg mitm "$LAB_NS_X" "$_s_build/fakenet" --dir "$LAB_DIR/mitm" \
		--bind "$LAB_ROUTER_IN" --port TLS_GOOD_PORT=443 \
		--port HTTP_PORT=80 \
		--add-header "Via: 1.1 lab-isp-proxy (squid/5.7)" \
		--add-header "X-Cache: MISS from lab-isp-proxy" \
		--lifetime "$LAB_LIFETIME" --verbose
	lab_bg censor "$LAB_NS_X" timeout "$LAB_LIFETIME" \
		"$_s_build/wallwatch-censor" --iface ww-in \
		--rules "${LAB_RULES:-tests/lab/rules.txt}" \
		--ports "80,443,$LAB_VPN_TCP_PORTS" \
		--udp-ports "$LAB_VPN_UDP_PORTS" --dns-forward --verbose
	_s_t0=$(date +%s)
	lab_vpn_servers || return 1
	lab_log "VPN and QUIC servers ready ($(($(date +%s) - _s_t0))s)"

	lab_wait fakenet "$LAB_DIR/fakenet.out" "fakenet ready" || return 1
	lab_wait fakenet6 "$LAB_DIR/fakenet6.out" "fakenet ready" || return 1
	lab_wait fakenet_other "$LAB_DIR/fakenet_other.out" "fakenet ready" ||
		return 1
	lab_wait mitm "$LAB_DIR/mitm.out" "fakenet ready" || return 1
	lab_wait censor "$LAB_DIR/censor.out" "censor ready" || return 1
	lab_wait control "$LAB_DIR/control.err" "listening" || return 1
}

# lab_up BUILD
lab_up() {
	lab_net || {
		lab_log "could not build the network"
		return 1
	}
	lab_servers "$1"
}

# lab_down: stop what we started (by PID), delete the namespaces (and
# with them the links and nftables rules).
lab_down() {
	for _d_p in $LAB_PIDS; do
		kill "$_d_p" 2>/dev/null
	done
	_d_i=0
	for _d_p in $LAB_PIDS; do
		while kill -0 "$_d_p" 2>/dev/null && [ $_d_i -lt 30 ]; do
			sleep 0.1
			_d_i=$((_d_i + 1))
		done
		kill -9 "$_d_p" 2>/dev/null
		wait "$_d_p" 2>/dev/null
	done
	LAB_PIDS=
	# wireguard-go removes its socket when it ends on TERM; not on KILL
	for _d_w in $LAB_WG_IFS; do
		rm -f "/var/run/wireguard/$_d_w.sock"
	done
	LAB_WG_IFS=
	for _d_ns in "$LAB_NS_C" "$LAB_NS_X" "$LAB_NS_S"; do
		[ -n "$_d_ns" ] && ip netns del "$_d_ns" 2>/dev/null
	done
	LAB_NS_C=
	LAB_NS_X=
	LAB_NS_S=
}
