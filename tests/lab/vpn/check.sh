# check.sh - the VPN and QUIC scenarios of the censor lab (issue 15),
# sourced by run.sh: two probe runs of their own in the same lab, at once
# (tests/lab/vpn/targets.csv with the probe's keys, nokey.csv without),
# then each target of vpn.tsv checked on the probe's exchanges, the
# control's and its self-test. Uses run.sh's proof() and lab.sh's helpers.

VPN_TSV=tests/lab/vpn/vpn.tsv

# vpn_list FILE: the list with the run's WireGuard key filled in.
vpn_list() {
	sed "s|@WG_PUB@|$LAB_WG_PUB|g" "tests/lab/vpn/$1"
}

# vpn_runs: both runs, in parallel (each is bounded by the probe's steps:
# --timeout 3, three exchanges per address). Returns 1 when a run failed
# or measured fewer targets than its list has.
vpn_runs() {
	vpn_list targets.csv >"$LAB_DIR/vpn-keys.csv" &&
		vpn_list nokey.csv >"$LAB_DIR/vpn-nokey.csv" || return 1
	_vr_t0=$(date +%s)
	for _vr in keys nokey; do
		_vr_opt=
		# keys: the https targets get the QUIC step too (--quic)
		[ "$_vr" = keys ] && _vr_opt="--openvpn-key $LAB_DIR/vpn/ta.key
			--wireguard-key $LAB_DIR/vpn/wg-probe.key --quic"
		# shellcheck disable=SC2086 # options and their files
		lab_bg "probe_vpn_$_vr" "$LAB_NS_C" timeout 120 \
			"$BUILD/wallwatch-probe" run --list "$LAB_DIR/vpn-$_vr.csv" \
			--resolver "$LAB_SERVER:53" --control "$CONTROL" \
			--ca-file "$LAB_DIR/certs/ca.pem" \
			--timeout "$STEP_TIMEOUT" --concurrency 32 --quiet \
			--output "$LAB_DIR/vpn-$_vr.jsonl" $_vr_opt
	done
	_vr_bad=0
	for _vr in keys nokey; do
		_vr_pid=$(eval "echo \$LAB_PID_probe_vpn_$_vr")
		wait "$_vr_pid"
		_vr_rc=$?
		lab_forget "$_vr_pid"
		_vr_want=$(grep -c '^[a-z0-9]*://' "$LAB_DIR/vpn-$_vr.csv")
		_vr_got=$(jq -c 'select(type == "object")' \
			"$LAB_DIR/vpn-$_vr.jsonl" 2>/dev/null | wc -l)
		if [ $_vr_rc -ne 0 ] || [ "$_vr_got" -ne "$_vr_want" ]; then
			lab_log "probe (vpn $_vr) exited $_vr_rc, $_vr_got" \
				"measurements for $_vr_want targets:"
			sed 's/^/  /' "$LAB_DIR/probe_vpn_$_vr.err" >&2
			_vr_bad=1
		fi
	done
	# shellcheck disable=SC2034 # run.sh prints it
	VPN_SECONDS=$(($(date +%s) - _vr_t0))
	return $_vr_bad
}

# vpn_exchanges JSONL INPUT: the probe's exchanges, one
# "PAYLOAD=ANSWERED,STAGE,FAILURE,CONNECTED" a line, in order.
vpn_exchanges() {
	jq -r --arg in "$2" 'select(.input == $in) |
		(.test_keys.exchanges // [])[] |
		"\(.payload)=\([.answered, .stage, .failure, .connected] |
			map(tostring) | join(","))"' "$1"
}

# vpn_fields_match WANT GOT: comma-separated, "-" in WANT matches any.
vpn_fields_match() {
	[ "${1%%=*}" = "${2%%=*}" ] || return 1
	_fm_w=${1#*=},
	_fm_g=${2#*=},
	while [ -n "$_fm_w" ]; do
		_fm_a=${_fm_w%%,*}
		_fm_b=${_fm_g%%,*}
		[ "$_fm_a" = - ] || [ "$_fm_a" = "$_fm_b" ] || return 1
		_fm_w=${_fm_w#*,}
		_fm_g=${_fm_g#*,}
	done
	[ -z "$_fm_g" ]
}

# vpn_exchanges_ok WANT GOT_LINES: every expected exchange, in order, and
# no other.
vpn_exchanges_ok() {
	_eo_n=0
	for _eo_w in $1; do
		_eo_n=$((_eo_n + 1))
		_eo_g=$(echo "$2" | sed -n "${_eo_n}p")
		vpn_fields_match "$_eo_w" "$_eo_g" || return 1
	done
	[ "$(echo "$2" | grep -c .)" -eq "$_eo_n" ]
}

# vpn_control_ok JSONL INPUT WANT: each PAYLOAD answered at some endpoint
# of the control's exchanges, each !PAYLOAD at none, each PAYLOAD~FAILURE
# ended with that failure at some (connection_refused: the closed port's
# ICMP error or RST came to the control).
vpn_control_ok() {
	[ "$3" = - ] && return 0
	for _co_w in $3; do
		case $_co_w in
		*~*)
			_co_got=$(jq -r --arg in "$2" --arg p "${_co_w%%~*}" \
				--arg f "${_co_w#*~}" 'select(.input == $in) |
				[(.test_keys.control.exchanges // {})[][] |
				select(.payload == $p) | .failure == $f] | any' \
				"$1")
			[ "$_co_got" = true ] || return 1
			continue
			;;
		esac
		_co_p=${_co_w#!}
		_co_got=$(jq -r --arg in "$2" --arg p "$_co_p" \
			'select(.input == $in) |
			[(.test_keys.control.exchanges // {})[][] |
			select(.payload == $p) | .answered] | any' "$1")
		case $_co_w in
		!*) [ "$_co_got" = false ] || return 1 ;;
		*) [ "$_co_got" = true ] || return 1 ;;
		esac
	done
}

# vpn_control JSONL INPUT: the control's exchanges, for a FAIL line.
vpn_control() {
	jq -r --arg in "$2" 'select(.input == $in) |
		.test_keys.control_failure // ((.test_keys.control.exchanges //
		{}) | to_entries | map("\(.key): \([.value[] |
		"\(.payload)=\(.answered)/\(.stage)/\(.failure)"] |
		join(" "))") | join("; "))' "$1"
}

# vpn_obtained JSONL INPUT: run.sh's obtained, the analysis's reason and
# the QUIC step's verdict (an https target with --quic:
# quic=BLOCKING/DETAIL/REASON of test_keys.analysis.quic; quic=none
# without one).
vpn_obtained() {
	jq -r --arg in "$2" 'select(.input == $in) | .test_keys |
		[.blocking, .blocking_detail, .accessible, .confirmed,
		.analysis.reason, (.analysis.quic | if . == null then "quic=none"
		else "quic=" + ([.blocking, .detail, .reason] | map(tostring) |
		join("/")) end)] | map(tostring) | join(" ")' "$1"
}

# vpn_selftest SPEC: "ok: ..." or "FAILED: ..." (proofs joined by " | ").
vpn_selftest() {
	_vs_all=ok
	_vs_out=
	_vs_rest=$1
	while [ -n "$_vs_rest" ]; do
		_vs_one=${_vs_rest%%;*}
		case $_vs_rest in *';'*) _vs_rest=${_vs_rest#*;} ;;
		*) _vs_rest= ;; esac
		_vs_r=$(proof "$_vs_one")
		case $_vs_r in ok:*) ;; *) _vs_all=FAILED ;; esac
		_vs_out="${_vs_out:+$_vs_out | }${_vs_r#*: }"
	done
	[ -n "$1" ] || { _vs_all=FAILED; _vs_out="no proof given"; }
	echo "$_vs_all: $_vs_out"
}

# vpn_check: a PASS or FAIL line per row of vpn.tsv, with its self-test;
# each checked verdict's expected and obtained blocking go to run.sh's
# TALLY (the confusion table).
vpn_check() {
	tab=$(printf '\t')
	while IFS=$tab read -r input run exch ctl verdict spec what; do
		case $input in '#'* | '') continue ;; esac
		input=$(echo "$input" | sed "s|@WG_PUB@|$LAB_WG_PUB|g")
		_vc_f=$LAB_DIR/vpn-$run.jsonl
		_vc_got=$(vpn_exchanges "$_vc_f" "$input")
		_vc_ok=1
		vpn_exchanges_ok "$exch" "$_vc_got" || _vc_ok=0
		vpn_control_ok "$_vc_f" "$input" "$ctl" || _vc_ok=0
		_vc_v=$(vpn_obtained "$_vc_f" "$input")
		[ "$verdict" = - ] ||
			echo "${verdict%%,*} ${_vc_v%% *}" >>"$TALLY"
		if [ "$verdict" != - ] &&
			! matches "$(echo "$verdict" | tr ',' ' ')" "$_vc_v"; then
			_vc_ok=0
		fi
		_vc_st=$(vpn_selftest "$spec")
		[ "${_vc_st%%:*}" = ok ] || _vc_ok=0
		if [ $_vc_ok = 1 ]; then
			echo "PASS $input ($run): $(echo "$_vc_got" |
				tr '\n' ' ')verdict $_vc_v ($what)"
		else
			echo "FAIL $input ($run): expected $exch," \
				"control $ctl, verdict $verdict ($what)"
			echo "    obtained: $(echo "$_vc_got" | tr '\n' ' ')"
			echo "    control: $(vpn_control "$_vc_f" "$input")"
			echo "    verdict: $_vc_v"
		fi
		echo "    self-test: $spec => $_vc_st"
	done <"$VPN_TSV"
}
