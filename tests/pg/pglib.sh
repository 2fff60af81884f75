# pglib.sh - what the collector's PostgreSQL integration scripts share
# (tests/integration/copystore.sh, pgmulti.sh, pgreplica.sh): the lab and a
# throwaway cluster (pgtmp.sh) removed at exit, psql, and comparing the
# answers of two collectors. Sourced by them (FAKENET set: the script's);
# it sources tests/integration/lib.sh and gendata.sh.

. tests/integration/lib.sh
. tests/integration/gendata.sh
PGTMP=tests/pg/pgtmp.sh
API=/api/v1

# pg_lab NAME DIR PIDVARS: the lab (lab_start), D=$LAB/DIR, and a cluster
# (CI: its conninfo); the variables PIDVARS names are emptied for the
# script's pids: at exit, every pid they hold is killed, the standby SB (if the script made one) and the cluster
# are stopped, the lab is removed. Exits 1 without a cluster.
pg_lab() {
	PG_PIDVARS=$3
	for _v in $PG_PIDVARS; do
		eval "$_v="
	done
	lab_start "$FAKENET"
	D=$LAB/$2
	mkdir -p "$D"
	CI=
	SB=
	trap pg_cleanup EXIT
	CI=$(sh "$PGTMP" start) || {
		echo "$1: no PostgreSQL cluster" >&2
		exit 1
	}
}
pg_cleanup() {
	for _v in $PG_PIDVARS; do
		_pids=
		eval "_pids=\${$_v:-}"
		for _p in $_pids; do
			kill -9 "$_p" 2>/dev/null
		done
	done
	[ -n "$SB" ] && sh "$PGTMP" stop "$SB"
	[ -n "$CI" ] && sh "$PGTMP" stop "$CI"
	lab_cleanup
}

# pg CONNINFO SQL: its result (psql, unaligned, one row a line)
pg() { psql -X -q -At -d "$1" -c "$2"; }

# get PORT PATH OUT: the answer to GET PATH: its status printed, its body
# in OUT
get() {
	curl -s --max-time 60 -o "$3" -w '%{http_code}' "http://127.0.0.1:$1$2"
}
# rows PORT PATH KEY OUT: the rows (.KEY) of every page of PATH (limit
# 1000, after=next_after; at most 50), one JSON array in OUT; prints the
# status of the last page fetched
rows() {
	_after=
	_n=0
	: >"$4.rows"
	while [ $_n -lt 50 ]; do
		_sep='?'
		case $2 in *\?*) _sep='&' ;; esac
		_c=$(get "$1" "$2${_sep}limit=1000$_after" "$4.p")
		[ "$_c" = 200 ] || break
		jq -c ".$3[]" "$4.p" >>"$4.rows"
		_next=$(jq -r .next_after "$4.p")
		[ "$_next" = null ] && break
		_after="&after=$_next"
		_n=$((_n + 1))
	done
	jq -s . "$4.rows" >"$4"
	printf '%s' "$_c"
}

# same NAME PATH [KEY JQ]: the collectors on A_PORT and B_PORT answer PATH
# with 200 and the same bytes (in $D/ans.a and $D/ans.b); with KEY, the
# rows of every page (rows: $D/rows.a, $D/rows.b), the same after JQ (in
# $D/ans.a and $D/ans.b). DIFFER names the two in a failure.
same() {
	if [ $# -gt 2 ]; then
		ca=$(rows "$A_PORT" "$2" "$3" "$D/rows.a")
		cb=$(rows "$B_PORT" "$2" "$3" "$D/rows.b")
		jq -S "$4" "$D/rows.a" >"$D/ans.a"
		jq -S "$4" "$D/rows.b" >"$D/ans.b"
	else
		ca=$(get "$A_PORT" "$2" "$D/ans.a")
		cb=$(get "$B_PORT" "$2" "$D/ans.b")
	fi
	if [ "$ca $cb" != "200 200" ] || ! cmp -s "$D/ans.a" "$D/ans.b"; then
		# (JSON: its members one per line, so that the diff shows which)
		jq -S . "$D/ans.a" >"$D/ans.ja" 2>/dev/null || cp "$D/ans.a" "$D/ans.ja"
		jq -S . "$D/ans.b" >"$D/ans.jb" 2>/dev/null || cp "$D/ans.b" "$D/ans.jb"
		not_ok "$1: $DIFFER differ ($ca, $cb)" \
			"$(diff "$D/ans.ja" "$D/ans.jb" | head -c 600)"
	elif [ $# -gt 2 ]; then
		ok "$1: the same ($(jq length "$D/rows.a") rows)"
	else
		ok "$1: the same bytes ($(wc -c <"$D/ans.a") bytes)"
	fi
}

# timelines NAME QUERY: the timelines of every input of $D/inputs on each
# network of TL_NETS (by default three: one blocking for a while, two
# not), each answer of A_PORT and B_PORT compared
TL_NETS="CN&asn=AS4134 CN&asn=AS56046 RU&asn=AS8359"
timelines() {
	_bad=0
	_n=0
	while read -r _in; do
		_q=$(printf '%s' "$_in" | jq -sRr @uri)
		for _net in $TL_NETS; do
			ca=$(get "$A_PORT" "$API/timeline?input=$_q&cc=$_net$2" "$D/tl.a")
			cb=$(get "$B_PORT" "$API/timeline?input=$_q&cc=$_net$2" "$D/tl.b")
			_n=$((_n + 1))
			if [ "$ca $cb" != "200 200" ] || ! cmp -s "$D/tl.a" "$D/tl.b"; then
				_bad=$((_bad + 1))
				[ $_bad -eq 1 ] && diff "$D/tl.a" "$D/tl.b" | head -c 400 >"$D/tl.diff"
			fi
		done
	done <"$D/inputs"
	if [ $_bad -eq 0 ]; then
		ok "$1: $_n timelines, the same bytes"
	else
		not_ok "$1: $_bad of $_n timelines differ" "$(cat "$D/tl.diff")"
	fi
}
