#!/bin/sh
# pgreplica.sh PROBE COLLECTOR FAKENET - `wallwatch-collector --read-only`
# (docs/deployment.md: the API read from a streaming replica). A primary
# and a hot standby (tests/pg/pgtmp.sh: pg_basebackup -R, each on a Unix
# socket of its own, both removed even on failure); a collector on the
# primary, given its conninfo with a password (which no log line may
# show), stores the lab's measurements (tests/integration/gendata.sh);
# once the standby has replayed the primary's WAL up to the position
# after the last batch (pg_last_wal_replay_lsn(), no sleep), a read-only
# collector on the standby answers the targets, timelines, events,
# measurements, raw, domain, settings and exports with the same bytes as
# the primary's, and POSTs of measurements, controls and keys with 503
# and a JSON error naming the mode; more measurements on the primary reach
# it the same way. Refused with a message: a standby without the schema
# yet, a schema of another version, options that would write. Then SQLite:
# --read-only on the file a collector writes, the same answers, 503 too.
set -u
PROBE=$1
COLLECTOR=$2
FAKENET=$3
. tests/pg/pglib.sh
pg_lab pgreplica pr "W_PID R_PID COL_PID"
SB=$(sh "$PGTMP" standby "$CI") || { echo "pgreplica: no standby" >&2; exit 1; }
check "the standby is in recovery" t "$(pg "$SB" 'SELECT pg_is_in_recovery()')"

# The primary's collector: a single-probe deployment, no rate limits.
writer() {
	collector_up "$D/$2.err" "$COLLECTOR" --db "$1" \
		--asn-db tests/data/asndb/tiny.tsv --allow-private \
		--resolver "127.0.0.1:$DNS_PORT" --ca-file "$LAB/ca.pem" \
		--timeout 2 --min-submitters 1 --allow-geo-mismatch yes \
		--rate-batches 0 --rate-target 0 --rate-network-batches 0 \
		--rate-network-target 0
}
# ro DB NAME [ARGS]: a --read-only collector on DB (PORT, COL_PID)
ro() {
	_db=$1
	_name=$2
	shift 2
	collector_up "$D/$_name.err" "$COLLECTOR" --read-only --db "$_db" "$@"
}
# refused NAME WANT_RC REGEX ARGS...: the collector exits WANT_RC at
# once, its message matching REGEX
refused() {
	_name=$1
	_rc=$2
	_re=$3
	shift 3
	timeout 60 "$COLLECTOR" "$@" --listen 127.0.0.1:0 >/dev/null 2>"$D/refused.err"
	check "$_name: exit $_rc" "$_rc" $?
	check_match "$_name: said" "$_re" "$(cat "$D/refused.err")"
}
post() { # PORT FILE: CODE, OUT
	PORT=$1
	submit "$2" -H 'Content-Type: application/x-ndjson'
}

# --- what a read-only collector refuses ---------------------------------------------
refused "a standby without the schema yet" 2 \
	"no wallwatch schema there .*read-only collector creates nothing" \
	--read-only --db "$SB"
refused "--read-only with an agreement option" 1 "--read-only stores nothing" \
	--read-only --db "$SB" --min-submitters 1
refused "--read-only with --control-only" 1 "one or the other" \
	--read-only --control-only
refused "--read-only with a control option" 1 "--read-only runs no controls" \
	--read-only --db "$SB" --resolver 127.0.0.1:53
pg "$CI" "CREATE DATABASE other" >/dev/null
OTHER=$(printf '%s\n' "$CI" | sed 's|///ww?|///other?|')
pg "$OTHER" "CREATE TABLE schema_version (id int PRIMARY KEY, version int);
	INSERT INTO schema_version VALUES (1, 999)"
refused "a schema of another version" 2 \
	"schema is version 999, this wallwatch-collector reads version [0-9]+ only" \
	--read-only --db "$OTHER"
check "nothing created by the refused one" 1 \
	"$(pg "$OTHER" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")"

# --- the primary: a collector whose conninfo holds a password ----------------------
# (the cluster trusts local connections: libpq sends no password, and the
# collector must still never print it)
writer "$CI&password=hunter2" w
A_PORT=$PORT
W_PID=$COL_PID
check "the password in no log line" 0 "$(grep -c hunter2 "$D/w.err")"
check_match "the database named, its password replaced" \
	"ingest into postgresql:///ww\\?host=[^ ]*&password=\\*\\*\\* " \
	"$(cat "$D/w.err")"
gd_templates "$PROBE" "$A_PORT" "$D"
post "$A_PORT" "$D/real.jsonl"
check "the probe's own measurements stored" "200 26" \
	"$CODE $(printf '%s' "$OUT" | jq '.stored | length')"
T1=$(($(date +%s) - 3600))
T0=$((T1 - 200 * 86400))
NGEN=1000
# newest first: the primary recomputes targets from their history
for first in 500 0; do
	gd_gen "$D/templates" 500 $first $NGEN pr "$T0" "$T1" >"$D/b.jsonl"
	post "$A_PORT" "$D/b.jsonl"
	[ "$CODE" = 200 ] || break
done
check "generated batches stored" "200 500" \
	"$CODE $(printf '%s' "$OUT" | jq '.stored | length')"
N=$((NGEN + 26))

# replayed: the standby has replayed the primary's WAL up to where it was
# when this was called (every batch acknowledged before is in it), once
# the primary's collector folded them into the timelines (its fold thread,
# woken by the batch's commit and every second: a replica's timelines lag
# the primary's by that, docs/deployment.md)
replayed_to() {
	[ "$(pg "$SB" "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '$1') >= 0")" = t ]
}
folded() {
	[ "$(pg "$CI" 'SELECT count(*) FROM fold_queue')" = 0 ]
}
wait_replay() {
	wait_until 120 folded
	check "the primary folded what it stored" 0 $?
	_lsn=$(pg "$CI" 'SELECT pg_current_wal_lsn()')
	wait_until 120 replayed_to "$_lsn"
	check "the standby replayed the primary up to $_lsn" 0 $?
}
wait_replay

# --- a read-only collector on the standby ----------------------------------------------
ro "$SB&password=hunter2" r
B_PORT=$PORT
R_PID=$COL_PID
check_match "read-only: said at start" \
	"read-only on postgresql:///ww\\?host=[^ ]*&password=\\*\\*\\* \\($N measurements\\)" \
	"$(cat "$D/r.err")"
check "read-only: the password in no log line" 0 "$(grep -c hunter2 "$D/r.err")"

# the collectors compared: the primary's (A) and the replica's (B)
DIFFER="the primary's and the replica's"
same targets "$API/targets?limit=1000"
check_match "targets: many" '^[1-9][0-9]+$' "$(jq '.targets | length' "$D/ans.a")"
same "targets of CN, blocked" "$API/targets?cc=CN&state=blocked"
same events "$API/events?limit=1000"
check_match "events: some" '^[1-9]' "$(jq '.events | length' "$D/ans.a")"
same measurements "$API/measurements?limit=1000"
same "measurements, the next page" \
	"$API/measurements?limit=1000&after=$(jq -r .next_after "$D/ans.a")"
# timelines of every input on a network that blocks for a while and one
# that does not
TL_NETS="CN&asn=AS4134 RU&asn=AS8359"
timelines "timelines" ""
U1=$(jq -r .measurement_uid "$D/m0.jsonl" | head -n 1)
same "raw of a measurement" "$API/measurements/$U1"
same "domain roll-up" "$API/domains/good.lab.test"
same settings "$API/settings"
same "export, JSON Lines" "$API/export?format=jsonl"
check "export: every measurement" "$N" "$(wc -l <"$D/ans.a" | tr -d ' ')"
same "export, CSV" "$API/export?format=csv"
same "the web view" "/"
"$COLLECTOR" export --db "$CI" --format csv >"$D/exp.a" 2>/dev/null
"$COLLECTOR" export --db "$SB" --format csv >"$D/exp.b" 2>"$D/exp.err"
check "export command on the standby: the primary's bytes" \
	"$(sha256sum <"$D/exp.a")" "$(sha256sum <"$D/exp.b")"

# what would write: 503, the mode named
ro_refuses() { # NAME PATH BODY
	c=$(curl -s --max-time 20 -o "$D/post" -w '%{http_code}' \
		--data-binary "$3" "http://127.0.0.1:$B_PORT$2")
	check_match "$1: 503, read-only named" \
		'^503 this collector is read-only \(--read-only' \
		"$c $(jq -r .error "$D/post" 2>/dev/null)"
}
ro_refuses "POST measurements" "$API/measurements" "@$D/real.jsonl"
ro_refuses "POST a control" "$API/control" '{"input":"http://example.org/"}'
ro_refuses "POST a control, OONI's path" / '{"http_request":"http://example.org/"}'
ro_refuses "POST a key" "$API/submitters" '{"public_key":"x","proof":"y"}'
c=$(curl -s --max-time 20 -o /dev/null -w '%{http_code}' -X PUT \
	"http://127.0.0.1:$B_PORT$API/measurements")
check "PUT measurements: 405 (a known path)" 405 "$c"
check "nothing stored by the POSTs" "$N" "$(pg "$CI" 'SELECT count(*) FROM measurements')"

# more on the primary reaches the replica's answers once replayed
gd_gen "$D/templates" 300 $NGEN $((NGEN + 300)) pr "$T0" "$T1" >"$D/b.jsonl"
post "$A_PORT" "$D/b.jsonl"
check "a later batch stored on the primary" "200 300" \
	"$CODE $(printf '%s' "$OUT" | jq '.stored | length')"
wait_replay
same "targets, after more" "$API/targets?limit=1000"
same "events, after more" "$API/events?limit=1000"
same "export, after more" "$API/export?format=jsonl"
check "export, after more: every measurement" $((N + 300)) \
	"$(wc -l <"$D/ans.b" | tr -d ' ')"
kill -TERM "$R_PID"
wait "$R_PID"
check "the read-only collector stops cleanly" 0 $?
R_PID=
kill -TERM "$W_PID"
wait "$W_PID"
W_PID=

# --- SQLite: --read-only on the file a collector writes ----------------------------
S_DB=$D/s.db
refused "a missing SQLite file" 2 "s.db: .*read-only collector creates nothing" \
	--read-only --db "$S_DB"
check "a missing SQLite file: not created" no "$([ -e "$S_DB" ] && echo yes || echo no)"
writer "$S_DB" s
A_PORT=$PORT
W_PID=$COL_PID
post "$A_PORT" "$D/real.jsonl"
check "SQLite: the probe's measurements stored" "200 26" \
	"$CODE $(printf '%s' "$OUT" | jq '.stored | length')"
ro "$S_DB" sr
B_PORT=$PORT
R_PID=$COL_PID
same "SQLite: targets" "$API/targets"
same "SQLite: measurements" "$API/measurements"
same "SQLite: events" "$API/events"
same "SQLite: export" "$API/export?format=csv"
ro_refuses "SQLite: POST measurements" "$API/measurements" "@$D/real.jsonl"
ro_refuses "SQLite: POST a key" "$API/submitters" '{"public_key":"x","proof":"y"}'
# what the writer stores next, the reader serves (no restart)
gd_gen "$D/templates" 100 0 100 sq "$T0" "$T1" >"$D/b.jsonl"
post "$A_PORT" "$D/b.jsonl"
same "SQLite: measurements after more" "$API/measurements?limit=1000"
check "SQLite: the reader sees the writer's new ones" 126 \
	"$(jq '.measurements | length' "$D/ans.b")"
kill -TERM "$R_PID"
wait "$R_PID"
R_PID=
kill -TERM "$W_PID"
wait "$W_PID"
W_PID=
sqlite3 "$S_DB" 'UPDATE schema_version SET version = version + 1'
refused "SQLite: a schema of another version" 2 \
	"schema is version [0-9]+, this wallwatch-collector reads version [0-9]+ only" \
	--read-only --db "$S_DB"
finish
