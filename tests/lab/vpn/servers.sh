# servers.sh - the lab's VPN and QUIC servers (issue 15), sourced by
# lab.sh: OpenVPN 2.6 (UDP, TCP, and UDP with tls-auth), strongSwan's
# charon (IKEv2), wireguard-go and ngtcp2's gtlsserver (QUIC), all real
# Debian servers in the server namespace, their throwaway keys made here
# at each start. See tests/lab/README.md, "VPN and QUIC".
#
# Addresses (zone.txt agrees): the servers live on LAB_VPN; the scenario
# addresses lead there (server nft DNAT for the servers bound to LAB_VPN;
# charon and wireguard-go listen on every address) so that what the censor
# does to one address touches no other scenario.

LAB_VPN=30.2.0.90	 # vpn.lab.test: the servers, nobody interferes
LAB_VPN_TA=30.2.0.91	 # vpn-ta, ta-nokey: OpenVPN with tls-auth
LAB_VPN_PROTO=30.2.0.92	 # vpn-proto: the censor's protocol rules
LAB_VPN_ADDR=30.2.0.93	 # vpn-addr: the censor drops everything to it
LAB_VPN_DOWN=30.2.0.94	 # vpn-down: nothing listens (the host refuses)
LAB_VPN_CUT=30.2.0.95	 # vpn-cut: UDP flows cut after 1 packet
LAB_VPN_FET=30.2.0.96	 # vpn-fet: the fully-encrypted-traffic rule
LAB_VPN_SNI=30.2.0.97	 # quic-blocked: the QUIC SNI rule
LAB_VPN_ICMP=30.2.0.98	 # vpn-icmp: its ICMP errors dropped, and DPI
LAB_VPN_PORT=30.2.0.99	 # vpn-port: the VPN ports alone blackholed
LAB_VPN_TC=30.2.0.100	 # vpn-tc, tc-nokey: OpenVPN with tls-crypt
LAB_VPN_TC_PROTO=30.2.0.101 # vpn-tc-proto: the same, and DPI
LAB_VPN6=2a30:2::71	 # vpn6: charon and wireguard-go over IPv6
LAB_VPN6_ADDR=2a30:2::72 # vpn6-addr: the censor drops everything to it
LAB_VPN_FIRST=90
LAB_VPN_LAST=101
LAB_OVPN_PORT=1194
# The closed port the probe asks at every UDP endpoint's address
# (engine/core/vpnplan.h, WW_VPN_CLOSED_PORT): nothing listens there.
LAB_CLOSED_PORT=33434
# WireGuard: one wireguard-go per scenario port (vpn and vpn-down,
# vpn-proto, vpn-addr, wg-nokey, vpn6, vpn-icmp, vpn-port, vpn6-addr),
# each listening on every address. One
# server would see the control's initiations for several targets at once,
# and wireguard-go drops an initiation that comes within 20 ms of the
# last one from the same key (a flood) or is not newer (a replay).
LAB_WG_PORTS="51820 51821 51822 51823 51824 51825 51826 51827"
LAB_WG_PORT_PORT=51826
# The client's UDP to these ports, and TCP to OpenVPN's, goes through
# wallwatch-censor (the router's nft holds it back, the censor forwards):
# the closed port's too, so that the censor's protocol rules see the
# handshake packet sent there, as a real DPI box sees every port.
LAB_VPN_UDP_PORTS="1194,500,4500,$(echo "$LAB_WG_PORTS" | tr ' ' ','),443,$LAB_CLOSED_PORT"
LAB_VPN_TCP_PORTS="1194"
# The addresses that lead to LAB_VPN's servers bound to it.
LAB_VPN_NAT="$LAB_VPN_PROTO $LAB_VPN_ADDR $LAB_VPN_CUT $LAB_VPN_FET $LAB_VPN_SNI $LAB_VPN_ICMP $LAB_VPN_PORT"

# lab_vpn_keys: the throwaway keys, in $LAB_DIR/vpn: OpenVPN's tls-auth
# key; WireGuard's server key, the probe's and the control's (a server
# drops an initiation not newer than the last from the same key, so the
# two measurers get one each). LAB_WG_PUB: the server's public key.
lab_vpn_keys() {
	mkdir -p "$LAB_DIR/vpn" || return 1
	openvpn --genkey secret "$LAB_DIR/vpn/ta.key" >/dev/null 2>&1 ||
		return 1
	for _k_n in server probe control; do
		(umask 077 && wg genkey >"$LAB_DIR/vpn/wg-$_k_n.key") &&
			wg pubkey <"$LAB_DIR/vpn/wg-$_k_n.key" \
				>"$LAB_DIR/vpn/wg-$_k_n.pub" || return 1
	done
	# shellcheck disable=SC2034 # check.sh fills the lists with it
	LAB_WG_PUB=$(cat "$LAB_DIR/vpn/wg-server.pub")
}

# lab_vpn_counters PREFIX, lab_vpn_count PREFIX TCP_VERDICT UDP_VERDICT:
# a counter per kind of the VPN scenarios (PREFIX_openvpn_udp, _tcp,
# _ikev2, _wireguard, _quic) and the rules that count and judge each, so
# that a scenario's self-test proves its own packets met the rule.
lab_vpn_counters() {
	for _vc_k in openvpn_udp openvpn_tcp ikev2 wireguard quic; do
		printf '\tcounter %s_%s { }\n' "$1" "$_vc_k"
	done
}
lab_vpn_count() {
	printf '\t\tudp dport %s counter name %s_openvpn_udp %s\n' \
		"$LAB_OVPN_PORT" "$1" "$3"
	printf '\t\ttcp dport %s counter name %s_openvpn_tcp %s\n' \
		"$LAB_OVPN_PORT" "$1" "$2"
	printf '\t\tudp dport { 500, 4500 } counter name %s_ikev2 %s\n' \
		"$1" "$3"
	printf '\t\tudp dport { %s } counter name %s_wireguard %s\n' \
		"$(echo "$LAB_WG_PORTS" | tr ' ' ',')" "$1" "$3"
	printf '\t\tudp dport 443 counter name %s_quic %s\n' "$1" "$3"
}

# lab_vpn_nft_server: the DNAT of the scenario addresses to LAB_VPN's
# servers (prerouting for the probe, output for the control, which runs
# here), and the refusal of everything to the "down" address, as a host
# with nothing listening refuses: ICMP port unreachable, TCP RST.
lab_vpn_nft_server() {
	_v_set=$(echo "$LAB_VPN_NAT" | tr ' ' ',')
	lab_in "$LAB_NS_S" nft -f - <<EOF
table ip wwvpn {
$(lab_vpn_counters vpn_down)
	counter vpn_nat { }
	chain input {
		type filter hook input priority filter; policy accept;
		ip daddr $LAB_VPN_DOWN jump down
	}
	chain down {
$(lab_vpn_count vpn_down "reject with tcp reset" reject)
		meta l4proto tcp reject with tcp reset
		meta l4proto udp reject
	}
	chain pre {
		type nat hook prerouting priority dstnat;
		jump to_vpn
	}
	chain out {
		type nat hook output priority -100;
		jump to_vpn
	}
	chain to_vpn {
		ip daddr { $_v_set } udp dport { $LAB_OVPN_PORT, 443 } \
			counter name vpn_nat dnat to $LAB_VPN
		ip daddr { $_v_set } tcp dport $LAB_OVPN_PORT \
			counter name vpn_nat dnat to $LAB_VPN
		ip daddr $LAB_VPN_TC_PROTO udp dport $LAB_OVPN_PORT \
			counter name vpn_nat dnat to $LAB_VPN_TC
	}
}
EOF
}

# lab_vpn_nft_censor: the censor's own nft for the VPN scenarios: the
# address block (IPv4 and IPv6), the port block, the ICMP filter, and the
# client's VPN traffic held back for the censor. The blocks sit in a chain
# that both forward (the kernel's) and output (what the censor forwards
# through its raw socket) jump to: the censor sees every packet by pcap.
lab_vpn_nft_censor() {
	lab_in "$LAB_NS_X" nft -f - <<EOF
table ip wwvpn {
$(lab_vpn_counters vpn_addr)
	counter vpn_addr { }
	counter vpn_addr_closed_udp { }
	counter vpn_addr_closed_tcp { }
	counter vpn_port_openvpn { }
	counter vpn_port_wireguard { }
	counter vpn_port_quic { }
	counter vpn_icmp { }
	chain block {
		ip daddr $LAB_VPN_ADDR jump blackhole
		ip daddr $LAB_VPN_PORT udp dport $LAB_OVPN_PORT \
			counter name vpn_port_openvpn drop
		ip daddr $LAB_VPN_PORT udp dport $LAB_WG_PORT_PORT \
			counter name vpn_port_wireguard drop
		ip daddr $LAB_VPN_PORT udp dport 443 \
			counter name vpn_port_quic drop
	}
	chain blackhole {
		udp dport $LAB_CLOSED_PORT counter name vpn_addr_closed_udp drop
		tcp dport $LAB_CLOSED_PORT counter name vpn_addr_closed_tcp drop
$(lab_vpn_count vpn_addr drop drop)
		counter name vpn_addr drop
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "ww-out" ip saddr $LAB_VPN_ICMP ip protocol icmp \
			counter name vpn_icmp drop
		iifname "ww-in" jump block
		iifname "ww-in" udp dport { $LAB_VPN_UDP_PORTS } drop
		iifname "ww-in" tcp dport { $LAB_VPN_TCP_PORTS } drop
	}
	chain output {
		type filter hook output priority filter; policy accept;
		oifname "ww-out" jump block
	}
}
table ip6 wwvpn6 {
	counter vpn6_addr { }
	counter vpn6_addr_closed { }
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "ww-in" ip6 daddr $LAB_VPN6_ADDR th dport \
			$LAB_CLOSED_PORT counter name vpn6_addr_closed drop
		iifname "ww-in" ip6 daddr $LAB_VPN6_ADDR \
			counter name vpn6_addr drop
	}
}
EOF
}

# lab_vpn_addrs: the VPN addresses on the server's link. And no rate limit
# on the ICMP errors the server namespace sends (net.ipv4.icmp_ratelimit,
# one a second per destination by default): the "down" scenarios' port
# unreachables to the client, several at once, must all leave.
lab_vpn_addrs() {
	lab_in "$LAB_NS_S" sh -c \
		'echo 0 >/proc/sys/net/ipv4/icmp_ratelimit' || return 1
	lab_in "$LAB_NS_S" sh -c \
		'echo 0 >/proc/sys/net/ipv6/icmp/ratelimit' || return 1
	_a_i=$LAB_VPN_FIRST
	while [ $_a_i -le $LAB_VPN_LAST ]; do
		lab_in "$LAB_NS_S" ip addr add "30.2.0.$_a_i/24" dev ww-srv ||
			return 1
		_a_i=$((_a_i + 1))
	done
	lab_in "$LAB_NS_S" ip -6 addr add "$LAB_VPN6/64" dev ww-srv nodad &&
		lab_in "$LAB_NS_S" ip -6 addr add "$LAB_VPN6_ADDR/64" \
			dev ww-srv nodad || return 1
}

# lab_openvpn NAME PROTO ADDR NET [OPTIONS...]: an OpenVPN 2.6 server in
# server mode (a tun device of its own, made by openvpn in the server
# namespace; --dev null would serve one client at a time), the lab's
# certificate, no DH (ECDHE), verb 3: it logs each client's first packet
# with its address ("TLS: Initial packet from").
lab_openvpn() {
	_o_name=$1
	_o_proto=$2
	_o_addr=$3
	_o_net=$4
	shift 4
	lab_bg "$_o_name" "$LAB_NS_S" timeout "$LAB_LIFETIME" openvpn \
		--mode server --tls-server --proto "$_o_proto" \
		--local "$_o_addr" --port "$LAB_OVPN_PORT" \
		--dev "ww$_o_name" --dev-type tun --topology subnet \
		--ifconfig "$_o_net.1" 255.255.255.0 \
		--ifconfig-pool "$_o_net.2" "$_o_net.200" \
		--ca "$LAB_DIR/certs/ca.pem" --cert "$LAB_DIR/certs/good.pem" \
		--key "$LAB_DIR/certs/good.key" --dh none --verb 3 "$@"
}

# lab_charon: strongSwan's charon with a configuration of its own
# (STRONGSWAN_CONF): its cookie and block thresholds raised, since it
# would answer COOKIE once 3 IKE_SAs from one source are half open and
# drop the requests past 5 (the probe, the control and their resends are
# more), and a /run of its own (charon writes /run/charon.pid: a tmpfs
# mounted in the mount namespace `ip netns exec` makes keeps it off the
# host's). A PSK connection whose proposals include the probe's.
lab_charon() {
	_c_dir=$LAB_DIR/vpn/charon
	mkdir -p "$_c_dir" || return 1
	cat >"$_c_dir/strongswan.conf" <<EOF
charon {
	load = random nonce openssl kernel-netlink socket-default vici
	cookie_threshold = 10000
	cookie_threshold_ip = 10000
	block_threshold = 10000
	init_limit_half_open = 0
	install_routes = no
	install_virtual_ip = no
	plugins {
		vici {
			socket = unix://$_c_dir/vici
		}
	}
	filelog {
		log {
			path = $LAB_DIR/charon.log
			default = 1
			ike = 1
			net = 1
			flush_line = yes
			time_format = %H:%M:%S
		}
	}
}
EOF
	cat >"$_c_dir/swanctl.conf" <<EOF
connections {
	lab {
		version = 2
		proposals = aes256-sha256-ecp256,aes256gcm16-prfsha256-ecp256,default
		local {
			auth = psk
			id = vpn.lab.test
		}
		remote {
			auth = psk
		}
	}
}
secrets {
	ike-lab {
		secret = "lab-only-psk"
	}
}
EOF
	# shellcheck disable=SC2016 # $0 is the inner shell's
	lab_bg charon "$LAB_NS_S" env STRONGSWAN_CONF="$_c_dir/strongswan.conf" \
		sh -c 'mount -t tmpfs wwlab /run && exec timeout "$0" \
			/usr/lib/ipsec/charon' "$LAB_LIFETIME"
}

# lab_wireguard_up PORT IFACE: once wireguard-go is ready, its key, port
# and the two registered peers, and the interface up.
lab_wireguard_up() {
	lab_wait "wireguard$1" "$LAB_DIR/wireguard$1.out" \
		"UAPI listener started" || return 1
	lab_in "$LAB_NS_S" timeout 10 wg set "$2" \
		private-key "$LAB_DIR/vpn/wg-server.key" listen-port "$1" \
		peer "$(cat "$LAB_DIR/vpn/wg-probe.pub")" \
		allowed-ips 10.90.4.2/32 \
		peer "$(cat "$LAB_DIR/vpn/wg-control.pub")" \
		allowed-ips 10.90.4.3/32 &&
		lab_in "$LAB_NS_S" ip link set "$2" up || {
		lab_log "vpn: wg set $2 failed"
		return 1
	}
}

# lab_vpn_servers (after lab_vpn_keys): start them all, wait until each is ready, register the
# WireGuard peers and load charon's connection.
lab_vpn_servers() {
	lab_openvpn openvpn_udp udp4 "$LAB_VPN" 10.90.1 || return 1
	lab_openvpn openvpn_tcp tcp4-server "$LAB_VPN" 10.90.2 || return 1
	lab_openvpn openvpn_ta udp4 "$LAB_VPN_TA" 10.90.3 \
		--tls-auth "$LAB_DIR/vpn/ta.key" 0 || return 1
	# tls-crypt with the same static key (the probe's --openvpn-key and
	# the control's serve both wraps)
	lab_openvpn openvpn_tc udp4 "$LAB_VPN_TC" 10.90.5 \
		--tls-crypt "$LAB_DIR/vpn/ta.key" || return 1
	lab_charon || return 1
	# wireguard-go's control socket is /var/run/wireguard/NAME.sock, on
	# the host's file system: names of this run's own.
	_v_tag=$(lab_tag)
	for _v_p in $LAB_WG_PORTS; do
		LAB_WG_IFS="$LAB_WG_IFS wg$_v_tag$_v_p"
		lab_bg "wireguard$_v_p" "$LAB_NS_S" env WG_PROCESS_FOREGROUND=1 \
			LOG_LEVEL=verbose timeout "$LAB_LIFETIME" wireguard-go \
			"wg$_v_tag$_v_p"
	done
	lab_bg quic "$LAB_NS_S" timeout "$LAB_LIFETIME" gtlsserver \
		-d "$LAB_DIR/vpn" "$LAB_VPN" 443 "$LAB_DIR/certs/good.key" \
		"$LAB_DIR/certs/good.pem"

	for _v_s in openvpn_udp openvpn_tcp openvpn_ta openvpn_tc; do
		lab_wait "$_v_s" "$LAB_DIR/$_v_s.out" \
			"Initialization Sequence Completed" || return 1
	done
	lab_wait charon "$LAB_DIR/charon.log" "spawning .* worker threads" ||
		return 1
	lab_in "$LAB_NS_S" timeout 10 swanctl --load-all --noprompt \
		--file "$LAB_DIR/vpn/charon/swanctl.conf" \
		--uri "unix://$LAB_DIR/vpn/charon/vici" \
		>"$LAB_DIR/swanctl.out" 2>&1 ||
		{
			lab_log "vpn: swanctl could not load charon's connection:"
			sed 's/^/  /' "$LAB_DIR/swanctl.out" >&2
			return 1
		}
	for _v_p in $LAB_WG_PORTS; do
		lab_wireguard_up "$_v_p" "wg$_v_tag$_v_p" || return 1
	done
	lab_wait quic "$LAB_DIR/quic.err" "Using document root" || return 1
}
