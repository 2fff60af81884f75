#!/bin/sh
# poison.sh PROBE COLLECTOR FAKENET - the attack test of agreement
# (docs/timelines.md, "Agreement"; docs/submitters.md), end to end on
# loopback against a collector with its default agreement settings
# (2 submitters, or one alone for 6 hours; never against as many keyed
# submitters): two honest probes, each with its own key, make two targets
# `accessible`; then the combined attack of a censor sitting in the
# targets' network: 10,000 forged "blocked" measurements of T1 signed by
# one other key AND 10,000 unsigned ones of T1 (on loopback the unsigned
# submitter is anon:AS64500, the targets' own network: two independent
# submitters) are stored (evidence, kept) but change no state and make no
# event, because the two honest keys still say otherwise; the honest
# probes seeing the targets blocked make them `blocked` (T2 with an event
# citing both of their keys and only them); revoking the forger's key
# flags its rows, keeps them, and takes away the weight it had: T1's
# event, which came with the first honest probe (the forger's key and it
# against the other), comes back with the second. Nothing leaves
# 127.0.0.1.
# shellcheck disable=SC2086
set -u
PROBE=$1
COLLECTOR=$2
FAKENET=$3
. tests/integration/lib.sh
lab_start "$FAKENET"
COL_PID=

cleanup_all() {
	[ -n "$COL_PID" ] && kill "$COL_PID" 2>/dev/null
	[ -n "$COL_PID" ] && wait "$COL_PID" 2>/dev/null
	lab_cleanup
}
trap cleanup_all EXIT

N=10000      # forged measurements per flood
BATCH=1000   # per POST
# (a bound on each POST of 1,000 for a broken collector, not a slow one)
SUBMIT_MAX_TIME=120
T1=http://good.lab.test:$HTTP_PORT/x
T2=http://good.lab.test:$HTTP_PORT/y
# The lab's resolver, or a dead one (nothing listens on UDP port 1): the
# probe's DNS fails while the control (the collector, on the lab's
# resolver) resolves the name, which the analysis calls DNS blocking.
GOODDNS="--resolver 127.0.0.1:$DNS_PORT"
DEADDNS="--resolver 127.0.0.1:1"
NET="--probe-cc DE --probe-asn AS64500"

probe() {
	timeout 90 "$PROBE" "$@" >"$LAB/stdout" 2>"$LAB/stderr" </dev/null
	RC=$?
	cat "$LAB/stderr" >>"$LAB/all.err"
}
sql() { sqlite3 "$DB" "$1"; }
state() { sql "SELECT state FROM target_state WHERE input = '$1' AND probe_cc = 'DE' AND probe_asn = 'AS64500'"; }
bad_events() { sql "SELECT count(*) FROM events WHERE to_state IN ('blocked', 'disrupted')"; }
counts() { sql "SELECT n_ok || ' ok, ' || n_dns || ' dns, ' || n_capped || ' capped' FROM daily_counts WHERE input = '$1'"; }
# cited TARGET: the distinct submitters (anonymous ones without the hour)
# of the measurements that the target's latest event to blocked cites
cited() {
	sql "SELECT uids FROM events WHERE input = '$1' AND to_state = 'blocked' ORDER BY id DESC LIMIT 1" |
		jq -r '.[]' | while read -r u; do
			sql "SELECT submitter FROM measurements WHERE uid = '$u'"
		done | sed 's/^\(anon:[^:]*\):.*/\1/' | sort -u | tr '\n' ' '
}
# who TEXT: TEXT with the keys named (A and B honest, X the forger)
who() { printf '%s' "$1" | sed "s/$KA/A/; s/$KB/B/; s/${KX:-none}/X/"; }
pub_raw() { openssl pkey -in "$1" -pubout -outform DER | tail -c 32; }
key_id() { pub_raw "$1" | sha256sum | cut -c1-32; }
ed_sign() {
	printf '%s' "$2" >"$LAB/tosign"
	openssl pkeyutl -sign -inkey "$1" -rawin -in "$LAB/tosign" | base64 -w0
}
signed_post() {
	_sp_id=$(key_id "$1")
	_sp_date=$(date +%s)
	_sp_hash=$(sha256sum "$2" | cut -c1-64)
	_sp_sig=$(ed_sign "$1" "$(printf 'wallwatch-upload-v1\n%s\n%s\n%s' \
		"$_sp_id" "$_sp_date" "$_sp_hash")")
	submit "$2" -H "X-Wallwatch-Key: $_sp_id" \
		-H "X-Wallwatch-Date: $_sp_date" \
		-H "X-Wallwatch-Signature: $_sp_sig"
}
register() {
	_rg_pub=$(pub_raw "$1" | base64 -w0)
	_rg_proof=$(ed_sign "$1" "$(printf 'wallwatch-register-v1\n%s' "$_rg_pub")")
	CODE=$(curl -s -o "$LAB/resp" -w '%{http_code}' --max-time 20 \
		-H 'Content-Type: application/json' --data-binary \
		"{\"public_key\":\"$_rg_pub\",\"proof\":\"$_rg_proof\"}" \
		"http://127.0.0.1:$PORT/api/v1/submitters")
}

DB=$LAB/poison.db
# Default agreement settings. Relaxed: the per-target rate limits, per
# submitter (--rate-target, 60/3600) and per observed network for unsigned
# batches (--rate-network-target, 600/3600): a flood of 10,000
# measurements of one target from one key and from one network is what
# this test sends. The limits are tested in identity.sh; here every forged
# measurement must reach the timelines.
lab_collector "$LAB/col.err" "$COLLECTOR" "$DB" \
	--rate-target 0 --rate-network-target 0
C=http://127.0.0.1:$PORT
# honest NAME RESOLVER: one run of honest probe NAME (its own state dir,
# so its own key), the collector as its control and its collector.
honest() {
	probe run --state-dir "$LAB/$1" $2 --ca-file "$LAB/ca.pem" --timeout 2 \
		--yes $NET --control "$C" --collector "$C" --input "$T1" --input "$T2" \
		--output "$LAB/$1.jsonl"
	[ "$RC" = 0 ] || not_ok "honest probe $1 run exits 0" "rc $RC: $(cat "$LAB/stderr")"
}

# flood signed|unsigned FILE PREFIX: N copies of FILE's measurement, each
# a new uid (PREFIX-batch-i), started now, POSTed BATCH at a time, signed
# by the forger's key or not; POSTED: how many batches were answered 200.
flood() {
	POSTED=0
	_fl_b=0
	while [ $_fl_b -lt $((N / BATCH)) ]; do
		jq -c --arg p "$3-$_fl_b" --arg t "$(date -u '+%Y-%m-%d %H:%M:%S')" \
			--argjson n "$BATCH" 'range(0; $n) as $i | .measurement_uid =
			"\($p)-\($i)" | .measurement_start_time = $t' "$2" >"$LAB/batch.jsonl"
		if [ "$1" = signed ]; then
			signed_post "$XK" "$LAB/batch.jsonl"
		else
			submit "$LAB/batch.jsonl"
		fi
		[ "$CODE" = 200 ] && POSTED=$((POSTED + 1)) ||
			echo "# $1 batch $_fl_b: $CODE $OUT"
		_fl_b=$((_fl_b + 1))
	done
}

# --- 1. honest state: two probes, two keys, two targets accessible ------------
honest A "$GOODDNS"
honest B "$GOODDNS"
honest A "$GOODDNS"
honest B "$GOODDNS"
KA=key:$(key_id "$LAB/A/submitter.key")
KB=key:$(key_id "$LAB/B/submitter.key")
if [ "$KA" != "$KB" ]; then
	ok "two honest probes, two keys"
else
	not_ok "two honest probes, two keys" "$KA $KB"
fi
check "honest: 8 measurements, 4 of each key, all accessible" "4|4|8" \
	"$(sql "SELECT sum(submitter = '$KA'), sum(submitter = '$KB'), sum(accessible = 1) FROM measurements")"
check "honest: both targets accessible" "accessible accessible" \
	"$(state "$T1") $(state "$T2")"
check "... as GET /api/v1/targets says" accessible "$(curl -s --max-time 20 \
	"$C/api/v1/targets?limit=100" | jq -r --arg t "$T1" \
	'.targets[] | select(.input == $t) | .state')"

# --- 2. a flood from one key, on T1 ----------------------------------------------
probe run --state-dir "$LAB/X" $DEADDNS --ca-file "$LAB/ca.pem" --timeout 2 \
	--yes $NET --control "$C" --input "$T1" --output "$LAB/x1.jsonl"
check "the forger's real measurement through a dead resolver: blocking dns" \
	dns "$(jq -r .test_keys.blocking "$LAB/x1.jsonl")"
XK=$LAB/X/submitter.key
KX=key:$(key_id "$XK")
echo "# keys: A $KA, B $KB, X $KX"
register "$XK"
check "the forger's key registers" 201 "$CODE"
flood signed "$LAB/x1.jsonl" poison-key
check "every signed batch answered 200" $((N / BATCH)) "$POSTED"
check "the signed flood is stored and kept, under the forger's key, as DNS blocking" \
	"$N" "$(sql "SELECT count(*) FROM measurements WHERE submitter = '$KX' AND revoked = 0 AND blocking = 'dns' AND input = '$T1'")"
check "after the signed flood: T1 still accessible" accessible "$(state "$T1")"
check "... and no event to blocked or disrupted" 0 "$(bad_events)"
echo "# after the signed flood: $(sql "SELECT count(*) FROM measurements") measurements; T1 $(state "$T1"), today $(counts "$T1")"

# --- 3. an unsigned flood, on the same T1: the combined attack ---------------------
# The forger's key and its network's unsigned are two submitters that
# agree; the two honest keys' latest words (accessible) outvote them.
flood unsigned "$LAB/x1.jsonl" poison-anon
check "every unsigned batch answered 200" $((N / BATCH)) "$POSTED"
check "the unsigned flood is stored and kept, as anonymous, as DNS blocking" "$N" \
	"$(sql "SELECT count(*) FROM measurements WHERE submitter LIKE 'anon:AS64500:%' AND revoked = 0 AND blocking = 'dns' AND input = '$T1'")"
check "after both floods on T1: T1 and T2 still accessible" \
	"accessible accessible" "$(state "$T1") $(state "$T2")"
check "... and no event to blocked or disrupted" 0 "$(bad_events)"
echo "# after the unsigned flood: $(sql "SELECT count(*) FROM measurements") measurements; T1 $(state "$T1"), today $(counts "$T1")"

# --- 4. honest agreement: both honest probes see both targets blocked ----------------
# One honest probe alone moves nothing that nobody forges (T2). On T1 its
# run and the forger's key are two keys against one (printed, not
# asserted): the forger is one voice, however much it sent.
honest A "$DEADDNS"
echo "# after one honest blocked run (A): T1 $(state "$T1"), T2 $(state "$T2")"
check "one honest probe alone: T2 still accessible" accessible "$(state "$T2")"
honest B "$DEADDNS"
# T2 had 4 ok: its run of 3 blocked needs a third
honest A "$DEADDNS"
check "the honest probes now see DNS blocking" 6 \
	"$(sql "SELECT count(*) FROM measurements WHERE submitter IN ('$KA', '$KB') AND blocking = 'dns'")"
check "with the honest probes agreeing: both targets blocked" "blocked blocked" \
	"$(state "$T1") $(state "$T2")"
for t in "$T1" "$T2"; do
	S=$(cited "$t")
	echo "# ${t##*/}: its event to blocked cites measurements of: $(who "$S")"
	check_match "... the event of $t cites an honest key" "$KA|$KB" "$S"
done
S=$(cited "$T2")
check "... T2's event cites both honest keys, and only them" \
	"$(printf '%s\n%s\n' "$KA" "$KB" | sort | tr '\n' ' ')" "$S"
E1=$(sql "SELECT uids FROM events WHERE input = '$T1' AND to_state = 'blocked'")

# --- 5. revoking the forger's key ---------------------------------------------------
"$COLLECTOR" keys revoke --db "$DB" "${KX#key:}" --reason poison >"$LAB/rev.out" 2>&1
check "keys revoke exits 0" 0 $?
check "the forger's rows: all kept, all flagged" "$N|$N" \
	"$(sql "SELECT count(*), sum(revoked) FROM measurements WHERE submitter = '$KX'")"
check "no other row flagged" 0 \
	"$(sql "SELECT count(*) FROM measurements WHERE submitter <> '$KX' AND revoked = 1")"
# Recomputed without them, T1 has 4 honest ok, the unsigned flood, then
# one dns of A (A and the unsigned against B: one key against one, no
# change) and one of B (two keys): blocked, at B's run. (The event's id
# and second may be the same: compare what it cites.)
E2=$(sql "SELECT uids FROM events WHERE input = '$T1' AND to_state = 'blocked'")
echo "# T1's event to blocked: before the revocation $E1, after $E2"
echo "# T1 recomputed without the revoked rows: $(state "$T1"), events: $(sql "SELECT group_concat(from_state || '->' || to_state, ' ') FROM events WHERE input = '$T1'")"
check "T1 recomputed without them: blocked, one event to blocked" \
	"blocked 1" "$(state "$T1") $(sql "SELECT count(*) FROM events WHERE input = '$T1' AND to_state = 'blocked'")"
check "... a new one (the forger's weight taken away): not the event before" \
	new "$([ -n "$E1" ] && [ "$E1" != "$E2" ] && echo new || echo "same: $E1")"
S=$(cited "$T1")
echo "# ${T1##*/}: its event to blocked now cites measurements of: $(who "$S")"
check_match "... citing both honest keys" "$KA.*$KB|$KB.*$KA" "$S"
check "... and no revoked measurement" 0 "$(sql "SELECT count(*) FROM events, json_each(events.uids) j, measurements m WHERE events.input = '$T1' AND m.uid = j.value AND m.revoked = 1")"
echo "# at the end: $(sql "SELECT count(*) FROM measurements") measurements ($(sql "SELECT sum(revoked) FROM measurements") revoked); events: $(sql "SELECT group_concat(substr(input, -1) || ':' || from_state || '->' || to_state, ' ') FROM events")"

check "no sanitizer report" "" \
	"$(grep -Ei 'sanitizer|runtime error' "$LAB"/*.err)"
finish
