#!/bin/sh
# identity.sh PROBE COLLECTOR FAKENET - submitter identity on loopback
# (docs/submitters.md): a probe makes its key, registers it and signs its
# batches, stored as "key:<id>"; an unsigned POST is "anon:<network>:<hour>";
# uploads signed here with openssl(1) from the probe's own key file: a
# tampered body, a stale date, an unknown key (401, each named); the
# registration endpoint; revocation through `keys revoke` while the
# collector runs (403 within a bounded wait, rows flagged, the probe falls
# back to unsigned); --submission signed and registered (`keys add`); rate
# limits: 429 with Retry-After for batches; the per-network limit holds
# back the unsigned of a network, never a key of that network; a daemon
# whose batch is over the per-target limit keeps the rest and sends it
# after Retry-After.
# Nothing leaves 127.0.0.1.
# shellcheck disable=SC2086
set -u
PROBE=$1
COLLECTOR=$2
FAKENET=$3
. tests/integration/lib.sh
lab_start "$FAKENET"
COL_PID=
PIDS=

cleanup_all() {
	for p in $PIDS $COL_PID; do kill "$p" 2>/dev/null; done
	for p in $PIDS $COL_PID; do wait "$p" 2>/dev/null; done
	lab_cleanup
}
trap cleanup_all EXIT

H=http://127.0.0.1:$HTTP_PORT
L="--resolver 127.0.0.1:$DNS_PORT --ca-file $LAB/ca.pem --timeout 10 --yes"

# probe ARGS...: the probe, no terminal, at most 90 s; sets RC, OUT, ERR
# (every stderr is also kept in $LAB/all.err for the sanitizer check).
probe() {
	timeout 90 "$PROBE" "$@" >"$LAB/stdout" 2>"$LAB/stderr" </dev/null
	RC=$?
	cat "$LAB/stderr" >>"$LAB/all.err"
	OUT=$(cat "$LAB/stdout")
	ERR=$(cat "$LAB/stderr")
}
stop_collector() {
	kill "$COL_PID" 2>/dev/null
	wait "$COL_PID" 2>/dev/null
	COL_PID=
}
sql() { sqlite3 "$1" "$2"; }

# A measurement to POST (good.json, a fresh uid, started now) into FILE.
meas() {
	jq -c --arg u "$2" --arg t "$(date -u '+%Y-%m-%d %H:%M:%S')" \
		'.measurement_uid = $u | .measurement_start_time = $t' \
		tests/data/validate/good.json >"$1"
}

# key_id KEYFILE / pub_b64 KEYFILE: the key's id and raw public key, by
# openssl(1) (the raw key is the last 32 bytes of its DER SubjectPublicKeyInfo)
pub_raw() { openssl pkey -in "$1" -pubout -outform DER | tail -c 32; }
key_id() { pub_raw "$1" | sha256sum | cut -c1-32; }
pub_b64() { pub_raw "$1" | base64 -w0; }
# ed_sign KEYFILE TEXT: base64 Ed25519 signature of TEXT (no newline added)
ed_sign() {
	printf '%s' "$2" >"$LAB/tosign"
	openssl pkeyutl -sign -inkey "$1" -rawin -in "$LAB/tosign" | base64 -w0
}
# signed_post KEYFILE FILE [DATE [SIGNED_FILE]]: POST FILE with the headers
# of a signature by KEYFILE at DATE (default now) over SIGNED_FILE
# (default FILE); sets CODE and OUT, and RA (the Retry-After header).
signed_post() {
	_sp_id=$(key_id "$1")
	_sp_date=${3:-$(date +%s)}
	_sp_hash=$(sha256sum "${4:-$2}" | cut -c1-64)
	_sp_sig=$(ed_sign "$1" "$(printf 'wallwatch-upload-v1\n%s\n%s\n%s' \
		"$_sp_id" "$_sp_date" "$_sp_hash")")
	submit "$2" -D "$LAB/hdrs" -H "X-Wallwatch-Key: $_sp_id" \
		-H "X-Wallwatch-Date: $_sp_date" \
		-H "X-Wallwatch-Signature: $_sp_sig"
	RA=$(sed -n 's/^Retry-After: *\([0-9]*\).*/\1/ip' "$LAB/hdrs")
}
# register KEYFILE [PROOF_KEYFILE]: POST /api/v1/submitters with the
# key's public key and a proof by PROOF_KEYFILE (default the same); sets
# CODE and OUT.
register() {
	_rg_pub=$(pub_b64 "$1")
	_rg_proof=$(ed_sign "${2:-$1}" "$(printf 'wallwatch-register-v1\n%s' "$_rg_pub")")
	CODE=$(curl -s -o "$LAB/resp" -w '%{http_code}' --max-time 20 \
		-H 'Content-Type: application/json' --data-binary \
		"{\"public_key\":\"$_rg_pub\",\"proof\":\"$_rg_proof\"}" \
		"http://127.0.0.1:$PORT/api/v1/submitters")
	OUT=$(cat "$LAB/resp")
}
js() { printf '%s' "$OUT" | jq -r "$1"; }

# --- 1. open (the default): a probe registers and signs -----------------------
DB=$LAB/open.db
lab_collector "$LAB/col.err" "$COLLECTOR" "$DB"
ST=$LAB/s1
probe run $L --state-dir "$ST" --collector "http://127.0.0.1:$PORT" \
	--input "$H/" --output "$LAB/r1.jsonl"
check "open: the probe's run exits 0" 0 "$RC"
check "the key file is made, mode 600" 600 "$(stat -c %a "$ST/submitter.key")"
KEY=$ST/submitter.key
ID=$(key_id "$KEY")
probe status --state-dir "$ST" --json
check "status shows the key id" "$ID" "$(js .submitter_key)"
check "status shows the public key" "$(pub_b64 "$KEY")" \
	"$(js .submitter_public_key)"
check "open: the key is registered" "$ID" \
	"$(sql "$DB" 'SELECT key_id FROM submitters')"
check "open: its measurement is stored as key:<id>" "key:$ID" \
	"$(sql "$DB" 'SELECT submitter FROM measurements')"
check "open: the probe remembers the registration" "$ID" \
	"$(jq -r '.collectors[].registered_key' "$ST/state.json")"
probe run $L --state-dir "$ST" --collector "http://127.0.0.1:$PORT" \
	--input "$H/ok" --output "$LAB/r1b.jsonl"
check "open: a second run signs without registering again" \
	"1 2" "$(grep -c 'registered' "$LAB/col.err") $(sql "$DB" \
	"SELECT count(*) FROM measurements WHERE submitter = 'key:$ID'")"

meas "$LAB/m1.json" idtest-anon-1
submit "$LAB/m1.json"
check "open: an unsigned POST is stored" 200 "$CODE"
check_match "open: ... as anon:<network>:<UTC hour>" \
	'^anon:AS64500:[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}$' \
	"$(sql "$DB" "SELECT submitter FROM measurements WHERE uid = 'idtest-anon-1'")"

meas "$LAB/m2.json" idtest-signed-1
signed_post "$KEY" "$LAB/m2.json"
check "signed by openssl with the probe's key: 200" 200 "$CODE"
check "... stored as key:<id>" "key:$ID" \
	"$(sql "$DB" "SELECT submitter FROM measurements WHERE uid = 'idtest-signed-1'")"
meas "$LAB/m3.json" idtest-tampered
meas "$LAB/m3b.json" idtest-tampered-other
signed_post "$KEY" "$LAB/m3.json" "" "$LAB/m3b.json"
check "a tampered body: 401" 401 "$CODE"
check_match "... naming the signature" "X-Wallwatch-Signature: bad signature" "$OUT"
signed_post "$KEY" "$LAB/m3.json" $(($(date +%s) - 2000))
check "a stale date: 401" 401 "$CODE"
check_match "... naming the date" "X-Wallwatch-Date: stale date" "$OUT"
openssl genpkey -algorithm ed25519 -out "$LAB/stranger.key" 2>/dev/null
signed_post "$LAB/stranger.key" "$LAB/m3.json"
check "an unknown key: 401" 401 "$CODE"
check_match "... naming it" "unknown key $(key_id "$LAB/stranger.key")" "$OUT"
submit "$LAB/m3.json" -H "X-Wallwatch-Key: $ID"
check "only some signature headers: 401" 401 "$CODE"
check "none of those stored (no fallback to anonymous)" 0 \
	"$(sql "$DB" "SELECT count(*) FROM measurements WHERE uid = 'idtest-tampered'")"

register "$LAB/stranger.key" "$KEY"
check "registration with another key's proof: 400" 400 "$CODE"
check_match "... naming the proof" "proof" "$(js .error)"
register "$LAB/stranger.key"
check "registration: 201 with the key id" "201 $(key_id "$LAB/stranger.key")" \
	"$CODE $(js .key_id)"
register "$LAB/stranger.key"
check "registration again: 200" 200 "$CODE"
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 \
	"http://127.0.0.1:$PORT/api/v1/submitters")
check "GET /api/v1/submitters: 405" 405 "$CODE"

# Revocation by the command line while the collector runs: refused (403)
# within a bounded wait, the key's rows flagged, their targets stale.
"$COLLECTOR" keys revoke --db "$DB" "$ID" --reason "test" >"$LAB/rev.out" 2>&1
check "keys revoke exits 0" 0 $?
check_match "... and counts the rows it flagged" "3 measurement" "$(cat "$LAB/rev.out")"
check "the key's rows are flagged revoked, no other" "3 0" \
	"$(sql "$DB" "SELECT sum(revoked = 1), sum(revoked = 1 AND submitter <> 'key:$ID') FROM measurements" | tr '|' ' ')"
check_match "keys list shows it revoked, with the reason" \
	"$ID .*revoked .*: test" "$("$COLLECTOR" keys list --db "$DB")"
meas "$LAB/m4.json" idtest-after-revoke
refused() { signed_post "$KEY" "$LAB/m4.json"; [ "$CODE" = 403 ]; }
wait_until 30 refused
check "a revoked key: 403 within seconds" 403 "$CODE"
check_match "... naming it" "key $ID is revoked" "$OUT"
check_match "the collector logged the revocation" "key $ID is revoked" \
	"$(cat "$LAB/col.err")"
probe run $L --state-dir "$ST" --collector "http://127.0.0.1:$PORT" \
	--input "$H/" --output "$LAB/r1c.jsonl"
check "the revoked probe's run still uploads (unsigned: open)" 0 "$RC"
check_match "... after saying the collector refused its key" \
	"refused this probe's key $ID" "$ERR"
check_match "... stored as anonymous" '^anon:AS64500:' \
	"$(sql "$DB" "SELECT submitter FROM measurements WHERE uid = '$(jq -r .measurement_uid "$LAB/r1c.jsonl")'")"
stop_collector
# (3 flagged by `keys revoke`; a batch the collector took in the second
# before it saw the revocation is stored flagged too)
check "every row of the revoked key is kept, flagged" 0 \
	"$(sql "$DB" "SELECT count(*) FROM measurements WHERE submitter = 'key:$ID' AND revoked = 0")"
check "no other row is flagged" 0 \
	"$(sql "$DB" "SELECT count(*) FROM measurements WHERE submitter <> 'key:$ID' AND revoked = 1")"

# --- 2. --submission signed -----------------------------------------------------
DB=$LAB/signed.db
lab_collector "$LAB/col2.err" "$COLLECTOR" "$DB" --submission signed
meas "$LAB/m5.json" idtest-unsigned-signed
submit "$LAB/m5.json"
check "signed: an unsigned POST is 401" 401 "$CODE"
check_match "... naming the mode" "--submission signed" "$OUT"
ST2=$LAB/s2
probe run $L --state-dir "$ST2" --collector "http://127.0.0.1:$PORT" \
	--input "$H/" --output "$LAB/r2.jsonl"
check "signed: a new probe registers itself and uploads" "0 key:$(key_id "$ST2/submitter.key")" \
	"$RC $(sql "$DB" 'SELECT submitter FROM measurements')"
stop_collector

# --- 3. --submission registered: keys added by the operator ---------------------
DB=$LAB/registered.db
lab_collector "$LAB/col3.err" "$COLLECTOR" "$DB" --submission registered
register "$LAB/stranger.key"
check "registered: self-registration is 403" 403 "$CODE"
check_match "... saying how to get in" "keys add" "$(js .error)"
ST3=$LAB/s3
probe run $L --state-dir "$ST3" --collector "http://127.0.0.1:$PORT" \
	--input "$H/" --output "$LAB/r3.jsonl" --retry-quick 60
check_match "registered: the probe says its key was refused" \
	"refused this probe's key" "$ERR"
probe status --state-dir "$ST3" --json
check "... its unsigned upload too: nothing stored, the measurement kept" \
	"0 1" "$(sql "$DB" 'SELECT count(*) FROM measurements') $(js .queue.measurements)"
"$COLLECTOR" keys add --db "$DB" "$(js .submitter_public_key)" >"$LAB/add.out" 2>&1
check "keys add (the public key from status) exits 0" 0 $?
check "... and prints the key id" "$(key_id "$ST3/submitter.key") added" \
	"$(cat "$LAB/add.out")"
probe upload --state-dir "$ST3" --collector "http://127.0.0.1:$PORT"
check "registered: once added, the kept measurement is uploaded signed" \
	"0 key:$(key_id "$ST3/submitter.key")" \
	"$RC $(sql "$DB" 'SELECT submitter FROM measurements')"
stop_collector

# --- 4. rate limits ---------------------------------------------------------------
DB=$LAB/batches.db
lab_collector "$LAB/col4.err" "$COLLECTOR" "$DB" --rate-batches 2/600
for i in 1 2 3; do
	meas "$LAB/b$i.json" "idtest-batch-$i"
	submit "$LAB/b$i.json" -D "$LAB/hdrs"
done
RA=$(sed -n 's/^Retry-After: *\([0-9]*\).*/\1/ip' "$LAB/hdrs")
check "over --rate-batches: 429" 429 "$CODE"
check_match "... with Retry-After in seconds (at most the window)" \
	'^([1-9][0-9]{0,2})$' "$RA"
[ "${RA:-999}" -le 600 ] && ok "... Retry-After within the window" ||
	not_ok "... Retry-After within the window" "got [$RA]"
check "... nothing of the refused batch stored" 0 \
	"$(sql "$DB" "SELECT count(*) FROM measurements WHERE uid = 'idtest-batch-3'")"
stop_collector

# The per-network limit is for the unsigned: 2 batches (a registration
# counts as one) per observed network per 600 s. Once the unsigned of
# AS64500 have used it up, a key seen from AS64500 still gets in: a forger
# in a network cannot defer the keyed probes there.
DB=$LAB/netlimit.db
lab_collector "$LAB/col4n.err" "$COLLECTOR" "$DB" --rate-network-batches 2/600
register "$KEY"
check "network limit: the key registers (1 of the network's 2)" 201 "$CODE"
meas "$LAB/n1.json" idtest-net-1
submit "$LAB/n1.json"
check "... an unsigned batch (2 of 2): 200" 200 "$CODE"
meas "$LAB/n2.json" idtest-net-2
submit "$LAB/n2.json" -D "$LAB/hdrs"
check "... the next unsigned batch of that network: 429" 429 "$CODE"
for i in 3 4 5; do
	meas "$LAB/n$i.json" "idtest-net-$i"
	signed_post "$KEY" "$LAB/n$i.json"
	[ "$CODE" = 200 ] || break
done
check "... while signed batches from the same network: 200, all three" \
	"200 3" "$CODE $(sql "$DB" "SELECT count(*) FROM measurements WHERE submitter = 'key:$ID'")"
stop_collector

# A daemon over the per-target limit: 3 measurements of one target queued
# (two runs to a collector that is not there, then the daemon's own), at
# most 2 per target per 3 s. The first batch stores 2 and defers 1 (429,
# Retry-After <= 3); the daemon keeps it and sends it once the window has
# passed, on its own.
DB=$LAB/target.db
ST4=$LAB/s4
# (one target: the same claimed network for all three)
NET="--probe-cc DE --probe-asn AS64500"
for i in 1 2; do
	probe run $L $NET --state-dir "$ST4" --collector "http://127.0.0.1:1" \
		--input "$H/" --output "$LAB/r4$i.jsonl" --retry-quick 60
done
probe status --state-dir "$ST4" --json
check "two measurements of one target queued" 2 "$(js .queue.measurements)"
lab_collector "$LAB/col5.err" "$COLLECTOR" "$DB" --rate-target 2/3
timeout 120 "$PROBE" daemon $L $NET --state-dir "$ST4" \
	--collector "http://127.0.0.1:$PORT" --input "$H/" --interval 1h \
	--retry-quick 1 >"$LAB/daemon.out" 2>"$LAB/daemon.err" &
DPID=$!
PIDS="$PIDS $DPID"
deferred() { grep -q 'the rest after its rate limit' "$LAB/daemon.err"; }
wait_until 60 deferred
check_match "the daemon's batch: part stored, the rest deferred (429)" \
	"2 stored, 0 already there, the rest after its rate limit" \
	"$(cat "$LAB/daemon.err")"
three() { [ "$(sql "$DB" 'SELECT count(*) FROM measurements')" = 3 ]; }
wait_until 60 three
check "... and sent after Retry-After by the daemon itself: all 3 stored" 3 \
	"$(sql "$DB" 'SELECT count(*) FROM measurements')"
check "... once each, all signed" "3 key:$(key_id "$ST4/submitter.key")" \
	"$(sql "$DB" "SELECT count(DISTINCT uid) || ' ' || group_concat(DISTINCT submitter) FROM measurements")"
empty() { "$PROBE" status --state-dir "$ST4" --json 2>/dev/null |
	jq -e '.queue.measurements == 0' >/dev/null; }
wait_until 30 empty
check "... and its spool is empty" 0 \
	"$("$PROBE" status --state-dir "$ST4" --json | jq .queue.measurements)"
check_match "the collector counted the 429" 'wallwatch_ingest_limited_total [1-9]' \
	"$(curl -s --max-time 20 "http://127.0.0.1:$PORT/metrics")"
kill "$DPID" 2>/dev/null
wait "$DPID" 2>/dev/null
stop_collector

check "no sanitizer report" "" \
	"$(grep -Ei 'sanitizer|runtime error' "$LAB"/*.err "$LAB"/*.out)"
finish
