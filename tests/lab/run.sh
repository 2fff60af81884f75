#!/bin/sh
# run.sh [BUILD] - the censor lab (tests/lab/README.md): a client, a censor
# and a server in network namespaces; the real probe measures every target
# of targets.csv through the censor, with the control service on the far
# side, and each verdict is compared with scenarios.tsv. Each scenario's
# self-test (scenarios.tsv) proves the simulated censor or site really did
# what the scenario stands for. Then two whole runs where no verdict may be
# given: the control cut off, and no network at all. Prints a confusion
# table (expected vs obtained test_keys.blocking), a PASS/FAIL line per
# scenario with its self-test, and "lab: N scenarios, N matched"; exits 1
# on any mismatch or failed self-test, keeping its files (path printed).
# Without root or network namespaces it says the lab was skipped and exits
# 0. LAB_RULES replaces the censor's rules file (LAB_RULES=/dev/null: a
# censor that does nothing, whose scenarios must fail their self-tests).
#
# BUILD holds wallwatch-probe, wallwatch-collector, fakenet and
# wallwatch-censor (`make lab` builds them). LAB_KEEP=1 keeps the files of a
# run that passed too. LAB_ONLY=vpn runs the VPN and QUIC scenarios alone
# (tests/lab/vpn: their two probe runs and checks, none of the others').
set -u
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
cd "$(dirname "$0")/../.." || exit 1

# The whole run, set-up to teardown, stays under this many seconds.
LAB_DEADLINE=${LAB_DEADLINE:-420}
# --timeout of the probe and the control: every step.
STEP_TIMEOUT=3

skip() {
	echo "lab: SKIPPED — needs root and network namespaces ($1)"
	exit 0
}

[ "$(id -u)" -eq 0 ] || skip "not root"
for tool in ip nft; do
	command -v "$tool" >/dev/null 2>&1 || skip "no $tool command"
done
. tests/lab/lab.sh
why=$(lab_netns_ok) || skip "$why"
for tool in jq od openvpn swanctl wg wireguard-go gtlsserver \
	/usr/lib/ipsec/charon; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "lab: $tool is missing (make check-deps installs it)" >&2
		exit 1
	fi
done
for bin in wallwatch-probe wallwatch-collector fakenet wallwatch-censor; do
	if [ ! -x "$BUILD/$bin" ]; then
		echo "lab: $BUILD/$bin is missing (make lab builds it)" >&2
		exit 1
	fi
done

# Every target has an expected verdict, and every expectation a target.
targets=$(sed 1d tests/lab/targets.csv | cut -d, -f1 | sort)
expected=$(grep -v '^#' tests/lab/scenarios.tsv | cut -f1 | sort)
if [ "$targets" != "$expected" ]; then
	echo "lab: targets.csv and scenarios.tsv list different targets" >&2
	exit 1
fi
# Nine columns, and the evidence and nocontrol ones as described.
bad=$(awk -F'\t' '!/^#/ && NF > 0 && (NF != 9 ||
	$6 !~ /^(-|none|[a-z_]+(,[a-z_]+)*)$/ ||
	$7 !~ /^(keep|null|[^,]+,[^,]+,[^,]+,[^,]+)$/) { print NR ": " $1 }' \
	tests/lab/scenarios.tsv)
if [ -n "$bad" ]; then
	echo "lab: scenarios.tsv, malformed rows (columns: its header):" >&2
	echo "$bad" >&2
	exit 1
fi
# The VPN lists and vpn.tsv (tests/lab/vpn): the same targets, each in the
# run its row names; seven columns.
. tests/lab/vpn/check.sh
vpn_targets=$( (sed 1d tests/lab/vpn/targets.csv | sed 's/^/keys /'
	sed 1d tests/lab/vpn/nokey.csv | sed 's/^/nokey /') |
	cut -d, -f1 | sort)
vpn_expected=$(awk -F'\t' '!/^#/ && NF > 0 { print $2 " " $1 }' "$VPN_TSV" |
	sort)
if [ "$vpn_targets" != "$vpn_expected" ]; then
	echo "lab: tests/lab/vpn: the lists and vpn.tsv differ" >&2
	exit 1
fi
bad=$(awk -F'\t' '!/^#/ && NF > 0 && (NF != 7 || $2 !~ /^(keys|nokey)$/ ||
	$5 !~ /^(-|[^,]+,[^,]+,[^,]+,[^,]+(,[a-z_]+(,quic=[^,]+)?)?)$/) {
	print NR ": " $1 }' \
	"$VPN_TSV")
if [ -n "$bad" ]; then
	echo "lab: vpn.tsv, malformed rows (columns: its header):" >&2
	echo "$bad" >&2
	exit 1
fi

LAB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/wallwatch-censorlab.XXXXXX") || exit 1
KEEP=${LAB_KEEP:-0}
WATCHDOG=

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	trap - EXIT INT TERM
	[ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
	lab_down
	if [ "$KEEP" = 1 ]; then
		echo "lab: files kept in $LAB_DIR"
	else
		rm -rf "$LAB_DIR"
	fi
}
trap cleanup EXIT
trap 'KEEP=1; echo "lab: interrupted" >&2; exit 130' INT
trap 'KEEP=1; echo "lab: stopped (over ${LAB_DEADLINE}s?)" >&2; exit 143' TERM

# The deadline: TERM to this shell, whose trap tears everything down. Long
# commands run in the background under `wait`, which a signal interrupts.
(
	sleep "$LAB_DEADLINE" &
	s=$!
	trap 'kill $s 2>/dev/null; exit 0' TERM
	wait $s && kill -TERM $$
) </dev/null >/dev/null 2>&1 &
WATCHDOG=$!

fail_run() {
	KEEP=1
	echo "lab: FAILED: $1" >&2
	exit 1
}

start=$(date +%s)
lab_up "$BUILD" || fail_run "set-up (see above)"
lab_log "namespaces $LAB_NS_C (client), $LAB_NS_X (censor)," \
	"$LAB_NS_S (server); files in $LAB_DIR"

# probe NAME [OPTIONS...]: measure targets.csv from the client namespace
# into $LAB_DIR/NAME.jsonl; checks that every target was measured.
probe() {
	_pr=$1
	shift
	lab_bg "probe_$_pr" "$LAB_NS_C" timeout 300 \
		"$BUILD/wallwatch-probe" run --list tests/lab/targets.csv \
		--resolver "$LAB_SERVER:53" --ca-file "$LAB_DIR/certs/ca.pem" \
		--reference http://ref.lab.test/ \
		--fingerprints tests/lab/fingerprints \
		--timeout "$STEP_TIMEOUT" --concurrency 32 --quiet \
		--output "$LAB_DIR/$_pr.jsonl" "$@"
	_pr_pid=$(eval "echo \$LAB_PID_probe_$_pr")
	wait "$_pr_pid"
	_pr_rc=$?
	lab_forget "$_pr_pid"
	if [ $_pr_rc -ne 0 ]; then
		lab_log "probe ($_pr) exited $_pr_rc:"
		sed 's/^/  /' "$LAB_DIR/probe_$_pr.err" >&2
		return 1
	fi
	_pr_want=$(grep -c '^[a-z]*://' tests/lab/targets.csv)
	_pr_got=$(jq -c 'select(type == "object")' "$LAB_DIR/$_pr.jsonl" |
		wc -l)
	if [ "$_pr_got" -ne "$_pr_want" ]; then
		lab_log "probe ($_pr): $_pr_got measurements for $_pr_want targets"
		return 1
	fi
}

# --- self-tests ---------------------------------------------------------------
# Each scenario's proof (scenarios.tsv, eighth column) that the simulated
# censor or site really did what the scenario stands for: a scenario that
# matched because nothing happened would prove nothing. Checked after the
# main run, from the censor's log, nft counters and independent curls.

# zone_addr HOST [6]: HOST's first address in zone.txt (its first IPv6
# one, bracketed, with 6).
zone_addr() {
	awk -v h="$1" -v six="${2:-}" '$1 == h || $1 == h "." {
		for (i = 2; i <= NF; i++)
			if (six == "" || $i ~ /:/) {
				print ($i ~ /:/) ? "[" $i "]" : $i
				exit
			} }' tests/lab/zone.txt
}

# curl_code NS URL [6]: the HTTP status NS gets for URL (000: none), the
# name pinned to its real (IPv6 with 6) address so that DNS plays no part.
curl_code() {
	_cc_hp=${2#*://}
	_cc_hp=${_cc_hp%%/*}
	_cc_host=${_cc_hp%%:*}
	case $_cc_hp in
	*:*) _cc_port=${_cc_hp##*:} ;;
	*) case $2 in https:*) _cc_port=443 ;; *) _cc_port=80 ;; esac ;;
	esac
	# each side trusts what its measurer trusts (the probe, the control)
	_cc_ca=$LAB_DIR/certs/ca.pem
	[ "$1" = "$LAB_NS_S" ] && _cc_ca=$LAB_DIR/control-ca.pem
	lab_in "$1" curl -s -o /dev/null -w '%{http_code}' -m "$STEP_TIMEOUT" \
		--cacert "$_cc_ca" \
		--resolve "$_cc_host:$_cc_port:$(zone_addr "$_cc_host" "${3:-}")" \
		"$2" \
		2>/dev/null
	return 0
}

# curl_headers NS URL: the response headers NS gets for URL.
curl_headers() {
	_ch_hp=${2#*://}
	_ch_host=${_ch_hp%%/*}
	lab_in "$1" curl -s -o /dev/null -D - -m "$STEP_TIMEOUT" \
		--resolve "$_ch_host:80:$(zone_addr "$_ch_host")" "$2" 2>/dev/null
	return 0
}

# proof SPEC: "ok: ..." or "FAILED: ..." for one proof (see scenarios.tsv).
proof() {
	_p_arg=${1#*=}
	case $1 in
	censor=* | mitm=*)
		_p_f=$LAB_DIR/${1%%=*}.err
		if grep -E -q -e "$_p_arg" "$_p_f"; then
			echo "ok: $(grep -E -e "$_p_arg" "$_p_f" | head -1 |
				sed 's/^[^ ]* //' | cut -c1-110)"
		else
			echo "FAILED: no line /$_p_arg/ in ${1%%=*}.err"
		fi
		;;
	'!censor='*)
		if grep -E -q -e "$_p_arg" "$LAB_DIR/censor.err"; then
			echo "FAILED: the censor acted: $(grep -E -e "$_p_arg" \
				"$LAB_DIR/censor.err" | head -1)"
		else
			echo "ok: the censor did nothing to it"
		fi
		;;
	log=* | '!log='*)
		_p_name=${_p_arg%%:*}
		_p_ere=${_p_arg#*:}
		_p_hit=$(cat "$LAB_DIR/$_p_name.out" "$LAB_DIR/$_p_name.err" \
			"$LAB_DIR/$_p_name.log" 2>/dev/null |
			grep -E -e "$_p_ere" | head -1 | cut -c1-110)
		case $1 in
		log=*)
			if [ -n "$_p_hit" ]; then
				echo "ok: $_p_hit"
			else
				echo "FAILED: no line /$_p_ere/ in $_p_name's output"
			fi
			;;
		*)
			if [ -n "$_p_hit" ]; then
				echo "FAILED: $_p_name logged: $_p_hit"
			else
				echo "ok: nothing /$_p_ere/ in $_p_name's output"
			fi
			;;
		esac
		;;
	nft=* | srvnft=*)
		case $1 in nft=*) _p_ns=$LAB_NS_X ;; *) _p_ns=$LAB_NS_S ;; esac
		_p_n=$(lab_counter "$_p_ns" "$_p_arg")
		if [ "${_p_n:-0}" -gt 0 ]; then
			echo "ok: counter $_p_arg $_p_n packets"
		else
			echo "FAILED: counter $_p_arg ${_p_n:-missing}"
		fi
		;;
	curl=* | curl6=*)
		_p_want=${_p_arg%%@*}
		_p_url=${_p_arg#*@}
		_p_6=
		case $1 in curl6=*) _p_6=6 ;; esac
		_p_got="$(curl_code "$LAB_NS_C" "$_p_url" $_p_6)/$(curl_code \
			"$LAB_NS_S" "$_p_url" $_p_6)"
		if [ "$_p_got" = "$_p_want" ]; then
			echo "ok: client/server $_p_got"
		else
			echo "FAILED: client/server $_p_got, want $_p_want"
		fi
		;;
	hdr=*)
		_p_h=${_p_arg%%@*}
		_p_url=${_p_arg#*@}
		curl_headers "$LAB_NS_C" "$_p_url" >"$LAB_DIR/hdr.c"
		curl_headers "$LAB_NS_S" "$_p_url" >"$LAB_DIR/hdr.s"
		_p_c=$(grep -i -c "^$_p_h:" "$LAB_DIR/hdr.c")
		_p_s=$(grep -i -c "^$_p_h:" "$LAB_DIR/hdr.s")
		# both sides must have got a response for the comparison to mean
		# anything
		if ! grep -q '^HTTP/' "$LAB_DIR/hdr.s"; then
			echo "FAILED: no response from the server's side"
		elif [ "$_p_c" -gt 0 ] && [ "$_p_s" -eq 0 ]; then
			echo "ok: $_p_h added on the client's path only"
		else
			echo "FAILED: $_p_h: $_p_c on the client's path," \
				"$_p_s on the server's"
		fi
		;;
	*) echo "FAILED: unknown proof \"$1\"" ;;
	esac
}

# selftests: for each scenario, its input, then "ok: ..." when every proof
# holds, else "FAILED: ..." (the proofs' results joined with " | ").
selftests() {
	tab=$(printf '\t')
	while IFS=$tab read -r input _b _d _a _c _e _n spec _w; do
		case $input in '#'* | '') continue ;; esac
		_st_all=ok
		_st_out=
		_st_rest=$spec
		while [ -n "$_st_rest" ]; do
			_st_one=${_st_rest%%;*}
			case $_st_rest in *';'*) _st_rest=${_st_rest#*;} ;;
			*) _st_rest= ;; esac
			_st_r=$(proof "$_st_one")
			case $_st_r in ok:*) ;; *) _st_all=FAILED ;; esac
			_st_out="${_st_out:+$_st_out | }${_st_r#*: }"
		done
		[ -n "$spec" ] || { _st_all=FAILED; _st_out="no proof given"; }
		echo "$input"
		echo "$_st_all: $_st_out"
	done <tests/lab/scenarios.tsv
}

# cut_proof RUN COUNTER: the whole run's own proof, its cut's counter.
cut_proof() {
	proof "nft=$2" >"$LAB_DIR/selftest.$1"
}

CONTROL="http://$LAB_SERVER:$LAB_CONTROL_PORT"
if [ "${LAB_ONLY:-}" = vpn ]; then
	vpn_runs || fail_run "the VPN and QUIC runs"
else
	probe main --control "$CONTROL" || fail_run "the main run"
	selftests >"$LAB_DIR/selftest"
	vpn_runs || fail_run "the VPN and QUIC runs"
	lab_cut_control || fail_run "nft (control cut)"
	probe nocontrol --control "$CONTROL" ||
		fail_run "the run without control"
	cut_proof nocontrol cut_control
	lab_uncut
	lab_cut_all || fail_run "nft (no network)"
	probe nonet --control "$CONTROL" || fail_run "the run without network"
	cut_proof nonet cut_all
	lab_uncut
fi

# --- verdicts ---------------------------------------------------------------
# obtained JSONL INPUT: blocking, blocking_detail, accessible, confirmed.
obtained() {
	jq -r --arg in "$2" 'select(.input == $in) | .test_keys |
		[.blocking, .blocking_detail, .accessible, .confirmed] |
		map(tostring) | join(" ")' "$1"
}

# obtained_evidence JSONL INPUT: test_keys.analysis.evidence, the names
# joined with ",", "none" when there are none.
obtained_evidence() {
	jq -r --arg in "$2" 'select(.input == $in) |
		[(.test_keys.analysis.evidence // [])[] | tostring] |
		if length == 0 then "none" else join(",") end' "$1"
}

# evidence_ok WANT GOT: WANT "-" (not checked), "none" (GOT none), or
# names that GOT must each hold.
evidence_ok() {
	case $1 in
	-) return 0 ;;
	none) [ "$2" = none ] ;;
	*)
		for _e_n in $(echo "$1" | tr ',' ' '); do
			case ",$2," in *",$_e_n,"*) ;; *) return 1 ;; esac
		done
		;;
	esac
}

# Why a verdict is what it is: each step's failure, and the control's.
explain() {
	jq -r --arg in "$2" 'select(.input == $in) | .test_keys |
		"    dns: \([(.queries // [])[] | "\(.query_type)=\(.failure // ([(.answers // [])[] | .ipv4 // .ipv6 // .hostname] | join(",")))"] | join(" "))",
		"    tcp: \([(.tcp_connect // [])[] | "\(.ip):\(.port)=\(.status.failure // "ok")"] | join(" "))",
		"    tls: \([(.tls_handshakes // [])[] | "\(.sni_role)=\(.failure // "ok")"] | join(" "))",
		"    http: \([(.requests // [])[] | "\(.response.code // "-") \(.failure // "ok")"] | join(" <- "))",
		"    control: \(.control_failure // (.control | if . == null then "null" else "dns=\(.dns.failure // .dns.addrs) http=\(.http_request.status_code) \(.http_request.failure // "")" end))",
		"    evidence: \(.analysis.evidence // [] | map(tostring) | join(",")) \(.analysis.evidence_detail // "" | tostring)",
		"    analysis: \(.analysis.reason // "-") dns_consistency=\(.dns_consistency) status_code_match=\(.status_code_match) title_match=\(.title_match) body_proportion=\(.body_proportion)"' \
		"$1"
}

TALLY=$LAB_DIR/tally # one "expected obtained" blocking pair per verdict
: >"$TALLY"

# Field N (1-based) of a space-separated string.
field() {
	echo "$1" | cut -d' ' -f"$2"
}

# matches WANT GOT: each word of WANT ("-": any) equals GOT's.
matches() {
	_m_i=1
	for _m_w in $1; do
		[ "$_m_w" = - ] || [ "$_m_w" = "$(field "$2" $_m_i)" ] || return 1
		_m_i=$((_m_i + 1))
	done
}

# check RUN: a PASS or FAIL line per scenario of RUN.jsonl (FAIL followed
# by the evidence), and its verdicts in the tally. What RUN should give:
# main, scenarios.tsv; nocontrol, its seventh column: no verdict without a
# control ("null"), except where a fingerprint or the packets are proof on
# their own ("keep": docs/verdicts.md), or a verdict of its own; nonet, no
# verdict at all and no evidence (the censor's forgeries do not get
# through either). The evidence (sixth column) is checked in the main run
# and wherever nocontrol keeps the verdict.
check() {
	tab=$(printf '\t')
	while IFS=$tab read -r input blocking detail accessible confirmed \
		evidence nocontrol proof what; do
		case $input in '#'* | '') continue ;; esac
		if [ "$1" = nonet ] ||
			{ [ "$1" = nocontrol ] && [ "$nocontrol" = null ]; }; then
			blocking=null detail=null accessible=null confirmed=false
			evidence=-
			[ "$1" = nonet ] && evidence=none
		elif [ "$1" = nocontrol ] && [ "$nocontrol" != keep ]; then
			blocking=$(echo "$nocontrol" | cut -d, -f1)
			detail=$(echo "$nocontrol" | cut -d, -f2)
			accessible=$(echo "$nocontrol" | cut -d, -f3)
			confirmed=$(echo "$nocontrol" | cut -d, -f4)
			evidence=-
		fi
		want="$blocking $detail $accessible $confirmed"
		got=$(obtained "$LAB_DIR/$1.jsonl" "$input")
		got_ev=$(obtained_evidence "$LAB_DIR/$1.jsonl" "$input")
		echo "$blocking ${got%% *}" >>"$TALLY"
		# The self-test is the main run's (the censor acts the same in
		# the others, and there it is proven by the cut's counter).
		st=ok
		if [ "$1" = main ]; then
			st=$(grep -F -x -A1 "$input" "$LAB_DIR/selftest" |
				sed -n 2p)
		fi
		if [ -n "$got" ] && matches "$want" "$got" &&
			evidence_ok "$evidence" "$got_ev" &&
			[ "${st%%:*}" = ok ]; then
			echo "PASS $input: expected $want [$evidence]," \
				"obtained $got [$got_ev] ($what)"
		else
			echo "FAIL $input: expected $want [$evidence], obtained" \
				"${got:-nothing} [$got_ev] ($what)"
			explain "$LAB_DIR/$1.jsonl" "$input"
		fi
		[ "$1" = main ] && echo "    self-test: $proof => $st"
	done <tests/lab/scenarios.tsv
}

if [ "${LAB_ONLY:-}" = vpn ]; then
	vpn_check >"$LAB_DIR/check.vpn"
	cat "$LAB_DIR/check.vpn"
	vpn_n=$(grep -c '^PASS\|^FAIL' "$LAB_DIR/check.vpn")
	vpn_matched=$(grep -c '^PASS' "$LAB_DIR/check.vpn")
	echo "lab: VPN and QUIC only (LAB_ONLY=vpn): $vpn_n scenarios," \
		"$vpn_matched matched (their two probe runs: ${VPN_SECONDS}s;" \
		"$(($(date +%s) - start))s in all)"
	[ "$vpn_matched" -eq "$vpn_n" ] || KEEP=1
	[ "$vpn_matched" -eq "$vpn_n" ]
	exit
fi
check main >"$LAB_DIR/check.main"
check nocontrol >"$LAB_DIR/check.nocontrol"
check nonet >"$LAB_DIR/check.nonet"
vpn_check >"$LAB_DIR/check.vpn"
n=$(grep -c '^PASS\|^FAIL' "$LAB_DIR/check.main")
matched=$(grep -c '^PASS' "$LAB_DIR/check.main")
results=$(cat "$LAB_DIR/check.main")
vpn_n=$(grep -c '^PASS\|^FAIL' "$LAB_DIR/check.vpn")
vpn_matched=$(grep -c '^PASS' "$LAB_DIR/check.vpn")
n=$((n + vpn_n))
matched=$((matched + vpn_matched))

# A whole run is one scenario: a line, and the targets that failed.
whole() {
	n=$((n + 1))
	if grep -q '^FAIL' "$LAB_DIR/check.$1" ||
		! grep -q '^ok' "$LAB_DIR/selftest.$1"; then
		results="$results
FAIL $2:
$(sed -n '/^FAIL/,/^PASS/{/^PASS/d;s/^/  /;p}' "$LAB_DIR/check.$1")"
	else
		matched=$((matched + 1))
		results="$results
PASS $2: $3"
	fi
	results="$results
    self-test: $(cat "$LAB_DIR/selftest.$1")"
}
whole nocontrol "control unreachable (the censor drops it)" \
	"no verdict but those proven by a fingerprint or by packets"
whole nonet "no network at all (the censor drops everything)" \
	"no verdict"

# --- report -----------------------------------------------------------------
echo "lab: expected (rows) vs obtained (columns) test_keys.blocking"
awk '
BEGIN {
	nv = split("false dns tcp_ip tls http-failure http-diff protocol null",
	    v, " ")
	for (i = 1; i <= nv; i++)
		known[v[i]] = 1
}
{
	o = ($2 in known) ? $2 : "other"
	count[$1, o]++
	rows[$1] = 1
	if (o == "other")
		other = 1
}
END {
	if (other)
		v[++nv] = "other"
	printf "  %-13s", "expected"
	for (i = 1; i <= nv; i++)
		printf " %*s", length(v[i]) < 5 ? 5 : length(v[i]), v[i]
	printf "\n"
	for (i = 1; i <= nv; i++) {
		if (!(v[i] in rows))
			continue
		printf "  %-13s", v[i]
		for (j = 1; j <= nv; j++)
			printf " %*s", length(v[j]) < 5 ? 5 : length(v[j]),
			    (v[i], v[j]) in count ? count[v[i], v[j]] : "."
		printf "\n"
	}
}' "$TALLY"
echo "$results"
cat "$LAB_DIR/check.vpn"
echo "lab: VPN and QUIC: $vpn_n scenarios, $vpn_matched matched" \
	"(their two probe runs: ${VPN_SECONDS}s)"
echo "lab: $n scenarios, $matched matched ($(($(date +%s) - start))s)"
if [ "$matched" -ne "$n" ]; then
	KEEP=1
	exit 1
fi
exit 0
