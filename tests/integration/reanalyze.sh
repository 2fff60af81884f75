#!/bin/sh
# reanalyze.sh COLLECTOR - `wallwatch-collector reanalyze` on a database made
# by the collector of analysis version 1 (tests/data/reanalyze/v1.db, see its
# README): every measurement gets the current rules' verdict and version,
# and the daily counts, the states and the events of every target are
# derived again from them, as the API then serves them.
set -u
COLLECTOR=$1
. tests/integration/lib.sh
COL_PID=
LAB=$(mktemp -d "${TMPDIR:-/tmp}/wallwatch-reanalyze.XXXXXX")
cleanup() {
	if [ -n "$COL_PID" ]; then
		kill "$COL_PID" 2>/dev/null
		wait "$COL_PID" 2>/dev/null
	fi
	rm -rf "$LAB"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
DB=$LAB/v1.db
cp tests/data/reanalyze/v1.db "$DB"
q() { sqlite3 -batch -noheader -separator ' ' "$DB" "$1"; }

# What the fixture holds before: version 1 everywhere, and its v1 verdicts.
check "fixture: 21 measurements of analysis version 1" "21 1" \
	"$(q "SELECT count(*), group_concat(DISTINCT analysis_version) FROM measurements")"
check "fixture: v1 took the unknown blockpage for the site" "accessible" \
	"$(q "SELECT state FROM target_state WHERE input = 'http://proxy.example.org/'")"

timeout 120 "$COLLECTOR" reanalyze --db "$DB" 2>"$LAB/reanalyze.err"
check "reanalyze exits 0" 0 $?
check_match "reanalyze says how many" "21 measurements analysed again \\(analysis version 4\\)" \
	"$(cat "$LAB/reanalyze.err")"
check "every measurement now has analysis version 4" "21 4" \
	"$(q "SELECT count(*), group_concat(DISTINCT analysis_version) FROM measurements")"
check "no target left to recompute" 0 "$(q "SELECT count(*) FROM stale_targets")"

# verdict INPUT: "blocking|accessible|blocking_detail", the same for all
# three measurements of the target (else several lines).
verdict() {
	q "SELECT DISTINCT coalesce(blocking, 'null') || '|' ||
	   coalesce(accessible, 'null') || '|' || coalesce(blocking_detail, '')
	   FROM measurements WHERE input = '$1'"
}
# state INPUT: "state|method" of the target
state() {
	q "SELECT state || '|' || coalesce(method, '') FROM target_state
	   WHERE input = '$1'"
}

# Class 1: the redirect's second hop does not resolve for the probe (the
# control resolves it): DNS blocking, not an HTTP failure.
check "redirect, later hop NXDOMAIN: dns" "dns|0|dns.nxdomain" \
	"$(verdict http://redirect.example.org/)"
check "redirect, later hop NXDOMAIN: blocked by dns" "blocked|dns" \
	"$(state http://redirect.example.org/)"
# Class 2: reset after the headers of a 200, the control got it all.
check "cut after the headers: http-failure, http.reset" \
	"http-failure|0|http.reset" "$(verdict http://cut.example.org/)"
check "cut after the headers: blocked by http-failure (v1: accessible)" \
	"blocked|http-failure" "$(state http://cut.example.org/)"
# Class 3: an unknown blockpage through the same server software.
check "unknown blockpage, same headers: http-diff" "http-diff|0|http.diff" \
	"$(verdict http://proxy.example.org/)"
check "unknown blockpage: blocked by http-diff (v1: accessible)" \
	"blocked|http-diff" "$(state http://proxy.example.org/)"
# Class 4: a CAPTCHA's 503 over HTTPS; class 9: shown as withheld by the
# site, as the publisher's 451 that v1 already called server-side.
check "503 CAPTCHA over HTTPS: http-diff, http.server_side" \
	"http-diff|0|http.server_side" "$(verdict https://www.example.org/)"
check "503 CAPTCHA: withheld by the site (v1: accessible)" \
	"blocked|server-side" "$(state https://www.example.org/)"
check "451 over HTTPS: verdict unchanged" "http-diff|0|http.server_side" \
	"$(verdict https://journal.example.org/)"
check "451 over HTTPS: withheld by the site (v1: http-diff)" \
	"blocked|server-side" "$(state https://journal.example.org/)"
# Class 6: a redirect loop for the control too is down, not blocked.
check "redirect loop for both: down" "false|0|" \
	"$(verdict http://loop.example.org/0)"
check "redirect loop for both: down (v1: unknown)" "down|" \
	"$(state http://loop.example.org/0)"
check "clean page: still accessible" "accessible|" \
	"$(state http://clean.example.org/)"

# Daily counts and events follow the new verdicts.
check "daily counts of the day, per class" \
	"n_ok=3 n_dns=3 n_http_failure=3 n_http_diff=3 n_server_side=6 n_down=3 n_failed=0" \
	"$(q "SELECT 'n_ok=' || sum(n_ok) || ' n_dns=' || sum(n_dns) ||
	   ' n_http_failure=' || sum(n_http_failure) || ' n_http_diff=' ||
	   sum(n_http_diff) || ' n_server_side=' || sum(n_server_side) ||
	   ' n_down=' || sum(n_down) || ' n_failed=' || sum(n_failed)
	   FROM daily_counts WHERE day = '2026-11-20'")"
check "events: one per target, from unknown, as the states" \
	"http://clean.example.org/|accessible|
http://cut.example.org/|blocked|http-failure
http://loop.example.org/0|down|
http://proxy.example.org/|blocked|http-diff
http://redirect.example.org/|blocked|dns
https://journal.example.org/|blocked|server-side
https://www.example.org/|blocked|server-side" \
	"$(q "SELECT input || '|' || to_state || '|' || coalesce(method, '')
	   FROM events WHERE from_state = 'unknown' ORDER BY input")"
check "no other events" 7 "$(q "SELECT count(*) FROM events")"

# The read API serves the re-derived data.
collector_up "$LAB/col.err" "$COLLECTOR" --db "$DB"
API=http://127.0.0.1:$PORT/api/v1
check "API: targets and their states" \
	"http://clean.example.org/ accessible null
http://cut.example.org/ blocked http-failure
http://loop.example.org/0 down null
http://proxy.example.org/ blocked http-diff
http://redirect.example.org/ blocked dns
https://journal.example.org/ blocked server-side
https://www.example.org/ blocked server-side" \
	"$(curl -s --max-time 20 "$API/targets?cc=CN" |
		jq -r '.targets[] | "\(.input) \(.state) \(.method)"' | sort)"
check "API: measurements carry version 4 and the new verdicts" \
	"4 false false
4 http-diff false" \
	"$(curl -s --max-time 20 "$API/measurements?input=http%3A%2F%2Floop.example.org%2F0" |
		jq -r '.measurements[] | "\(.analysis_version) \(.blocking) \(.accessible)"' | sort -u
	   curl -s --max-time 20 "$API/measurements?input=http%3A%2F%2Fproxy.example.org%2F" |
		jq -r '.measurements[] | "\(.analysis_version) \(.blocking) \(.accessible)"' | sort -u)"

# A second reanalysis changes nothing: same verdicts, same events (ids).
before=$(q "SELECT group_concat(id || to_state || coalesce(method, ''), ',') FROM events")
kill "$COL_PID"
wait "$COL_PID" 2>/dev/null
COL_PID=
timeout 120 "$COLLECTOR" reanalyze --db "$DB" 2>>"$LAB/reanalyze.err"
check "second reanalyze exits 0" 0 $?
check "second reanalyze keeps the events and their ids" "$before" \
	"$(q "SELECT group_concat(id || to_state || coalesce(method, ''), ',') FROM events")"

# The agreement settings belong to the database: given once, kept, and a
# change recomputes every timeline. The fixture's rows have no submitter
# (each is its own): 3 of them agree as well as 2, so nothing changes.
collector_up "$LAB/col.err" "$COLLECTOR" --db "$DB" --min-submitters 3
check_match "settings: a change recomputes every timeline" \
	"agreement \\(changed: every timeline recomputed\\): a state changes when 3 independent submitters agree" \
	"$(cat "$LAB/col.err")"
kill "$COL_PID"
wait "$COL_PID" 2>/dev/null
COL_PID=
collector_up "$LAB/col.err" "$COLLECTOR" --db "$DB"
check "settings: kept in the database, served" "3 6 48 false" \
	"$(curl -s --max-time 20 "http://127.0.0.1:$PORT/api/v1/settings" | jq -r '.agreement |
		"\(.min_submitters) \(.single_submitter_hours) \(.daily_cap) \(.allow_geo_mismatch)"')"
check_match "settings: unchanged at this start" "agreement: a state changes when 3" \
	"$(cat "$LAB/col.err")"
check "settings: rows without a submitter agree: the same events (ids)" \
	"$before" \
	"$(q "SELECT group_concat(id || to_state || coalesce(method, ''), ',') FROM events")"
finish
