# gendata.sh - measurements for the PostgreSQL tests (copystore.sh,
# pgmulti.sh), sourced after lib.sh and lab_start: real probe measurements
# of the lab turned into as many unique ones as a test needs, as
# bench/collector.sh makes its (bench/collector-gen.awk: a new uid each,
# start times spread over a range, 25 networks in 5 countries, a third of
# the networks blocking each input for 60 days, so that targets change
# state and events are written).

# gd_templates PROBE CONTROL_PORT DIR: the probe measures 13 lab targets
# twice, through the lab's resolver and through a dead one (the analysis
# makes that DNS blocking), the collector on CONTROL_PORT its control;
# writes DIR/templates (collector-gen.awk's input) and DIR/real.jsonl (the
# 26 measurements as the probe made them). Exits the test on failure.
gd_templates() {
	_gd_probe=$1
	_gd_port=$2
	_gd_dir=$3
	set --
	for _gd_i in 0 1 2; do
		set -- "$@" --input "https://good.lab.test:$TLS_GOOD_PORT/p$_gd_i" \
			--input "http://good.lab.test:$HTTP_PORT/p$_gd_i" \
			--input "http://nx.lab.test:$HTTP_PORT/p$_gd_i" \
			--input "https://blocked.lab.test:$TLS_SNI_PORT/p$_gd_i"
	done
	set -- "$@" --input "tcp://good.lab.test:$TCP_OPEN_PORT"
	_gd_v=0
	for _gd_res in "127.0.0.1:$DNS_PORT" 127.0.0.1:9; do
		"$_gd_probe" run "$@" --resolver "$_gd_res" \
			--ca-file "$LAB/ca.pem" --timeout 2 --quiet \
			--output "$_gd_dir/m$_gd_v.jsonl" \
			--control "http://127.0.0.1:$_gd_port" ||
			{ echo "gendata: the probe failed" >&2; exit 1; }
		[ "$(wc -l <"$_gd_dir/m$_gd_v.jsonl")" -eq 13 ] ||
			{ echo "gendata: not 13 measurements" >&2; exit 1; }
		_gd_v=$((_gd_v + 1))
	done
	cat "$_gd_dir/m0.jsonl" "$_gd_dir/m1.jsonl" >"$_gd_dir/real.jsonl"
	jq -r .input "$_gd_dir/m0.jsonl" | sort >"$_gd_dir/inputs"
	for _gd_v in 0 1; do
		jq -r .input "$_gd_dir/m$_gd_v.jsonl" >"$_gd_dir/in$_gd_v"
		jq -c '.measurement_uid = "@@UID@@"
			| .measurement_start_time = "@@TIME@@"
			| .test_start_time = "@@TIME@@" | .probe_cc = "@@CC@@"
			| .probe_asn = "@@ASN@@"' "$_gd_dir/m$_gd_v.jsonl" \
			>"$_gd_dir/j$_gd_v"
		paste "$_gd_dir/in$_gd_v" "$_gd_dir/j$_gd_v" |
			awk -F '\t' -v v=$_gd_v '
			NR == FNR { idx[$0] = NR - 1; next }
			{ print idx[$1] "\t" v "\t" $2 }' "$_gd_dir/inputs" -
	done >"$_gd_dir/templates"
	[ "$(awk -F '@@' 'NF != 11' "$_gd_dir/templates" | wc -l)" -eq 0 ] ||
		{ echo "gendata: a template has @@ of its own" >&2; exit 1; }
}

# gd_gen TEMPLATES N FIRST TOTAL TAG T0 T1 >FILE: measurements FIRST to
# FIRST+N-1 of a set of TOTAL spread over [T0, T1] (unix seconds).
gd_gen() {
	awk -v n="$2" -v first="$3" -v total="$4" -v tag="$5" -v t0="$6" \
		-v t1="$7" -f bench/collector-gen.awk "$1"
}
