#!/bin/sh
# alerts.sh COLLECTOR - alerts (docs/alerts.md) end to end: measurements
# built from the analysis fixtures (real measurements' test_keys in a real
# envelope) are POSTed so that three targets of one network become blocked
# and later accessible again, and a fourth flaps within one window. A
# webhook receiver on loopback (python3 http.server) answers the first POST
# 500 and every later one 200: exactly one onset alert (naming the three,
# not the flapping one) arrives, retried once, and one end alert; each
# signed as documented (checked here with openssl dgst -hmac). A restart
# sends nothing again (the claims). The Atom feed parses as XML
# (python3 xml.etree), its filters select, its ids are stable, an ETag gives
# 304, and a hostile input comes out as text. Nothing leaves 127.0.0.1.
set -u
COLLECTOR=$1
. tests/integration/lib.sh
. tests/integration/alerts_lib.sh
COL_PID=
RCV_PID=
LAB=$(mktemp -d "${TMPDIR:-/tmp}/wallwatch-alerts.XXXXXX")
cleanup() {
	for p in $COL_PID $RCV_PID; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$LAB"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
DB=$LAB/c.db
R=$LAB/rcv
mkdir -p "$R"

# --- usage: a webhook is always signed ---------------------------------------
"$COLLECTOR" --db "$DB" --listen 127.0.0.1:0 \
	--webhook http://127.0.0.1:9/x 2>"$LAB/usage.err"
check "--webhook without --webhook-secret: usage error" 1 $?
check_match "... which says so" "needs --webhook-secret" "$(cat "$LAB/usage.err")"
printf 'short\n' >"$LAB/short"
"$COLLECTOR" --db "$DB" --listen 127.0.0.1:0 --webhook http://127.0.0.1:9/x \
	--webhook-secret "$LAB/short" 2>"$LAB/short.err"
check "a secret of 5 bytes: refused at start" 2 $?
"$COLLECTOR" --db "$DB" --listen 127.0.0.1:0 --alert-window 7 \
	2>"$LAB/win.err"
check "--alert-window 7 (does not divide a day): usage error" 1 $?

# --- the receiver: 500 first, then 200; each request kept --------------------
rcv_start "$R" 1
SECRET=$(openssl rand -hex 32)
printf '%s\n' "$SECRET" >"$LAB/secret"

start() {
	collector_up "$LAB/col.err" "$COLLECTOR" --db "$DB" \
		--resolver 127.0.0.1:9 --min-submitters 1 \
		--allow-geo-mismatch yes --alert-window 60 --alert-settle 0 \
		--webhook "http://user:pw@127.0.0.1:$RPORT/hook?token=t0ps3cret" \
		--webhook-secret "$LAB/secret" --webhook-backoff 0.2 \
		--webhook-retries 3
	B=http://127.0.0.1:$PORT
}
start
api() { curl -s --max-time 20 "$B$1"; }
metric() { api /metrics | awk -v k="$1" '$1 == k { print $2 }'; }
received() { cat "$R/count" 2>/dev/null || echo 0; }
delivered_is() { [ "$(metric 'wallwatch_webhook_deliveries_total{result="delivered"}')" = "$1" ]; }

# --- measurements ----------------------------------------------------------
HOSTILE='https://www.example.org/"><script>alert(1)</script>&amp;]]>'
T1=https://one.example.org/
T2=https://two.example.org/
FLAP=https://flap.example.org/
# three hours ago, on a minute: windows of 60 s start on minutes
T0=$(( ($(date +%s) - 3 * 3600) / 60 * 60 ))
: >"$LAB/p1.jsonl"
for t in "$HOSTILE" "$T1" "$T2" "$FLAP"; do
	tag=$(printf '%s' "$t" | md5sum | cut -c1-8)
	for k in 0 1 2; do
		synth "${tag}_ok$k" clean_https "$t" $((T0 + k * 10)) >>"$LAB/p1.jsonl"
	done
done
# the three: blocked in the window starting at T0 + 3720 (their third
# blocked measurement, which makes the state, is in it)
for t in "$HOSTILE" "$T1" "$T2"; do
	tag=$(printf '%s' "$t" | md5sum | cut -c1-8)
	for k in 0 1 2; do
		synth "${tag}_bl$k" tls_sni_reset "$t" $((T0 + 3700 + k * 10)) >>"$LAB/p1.jsonl"
	done
done
# the flapping one: blocked, then accessible again, within the window
# starting at T0 + 3600
for k in 0 1 2; do
	synth "flap_bl$k" tls_sni_reset "$FLAP" $((T0 + 3600 + k * 5)) >>"$LAB/p1.jsonl"
	synth "flap_ok$k" clean_https "$FLAP" $((T0 + 3630 + k * 5)) >>"$LAB/p1.jsonl"
done

submit "$LAB/p1.jsonl"
check "phase 1: 27 measurements stored" "200 27" \
	"$CODE $(printf '%s' "$OUT" | jq '.stored|length')"
check "the three are blocked" "blocked blocked blocked" \
	"$(api '/api/v1/targets?state=blocked' | jq -r '[.targets[].state] | join(" ")')"
check "the flapping one had an onset and an end event" "blocked accessible" \
	"$(api '/api/v1/events?limit=1000' | jq -r --arg f "$FLAP" \
		'[.events[] | select(.input == $f) | .to] | .[1:] | join(" ")')"

wait_until 60 delivered_is 1
check "the onset alert delivered (after one 500)" 1 \
	"$(metric 'wallwatch_webhook_deliveries_total{result="delivered"}')"
check "two POSTs: the 500, then the retry" 2 "$(received)"
check "attempts: one failed, one ok" "1 1" \
	"$(metric 'wallwatch_webhook_attempts_total{result="failed"}') $(metric 'wallwatch_webhook_attempts_total{result="ok"}')"

# verify N: the signature of request N is HMAC-SHA256(secret, body), and
# the header's timestamp is the body's sent_at
verify() {
	want=$(openssl dgst -sha256 -hmac "$SECRET" -r "$R/req$1.body" | cut -d' ' -f1)
	got=$(sed -n 1p "$R/req$1.hdr")
	check "request $1: signature is HMAC-SHA256 of the body" "sha256=$want" "$got"
	check "request $1: timestamp header is the body's sent_at" \
		"$(jq -r .sent_at "$R/req$1.body")" "$(sed -n 2p "$R/req$1.hdr")"
	check "request $1: JSON" "application/json" "$(sed -n 3p "$R/req$1.hdr")"
}
verify 1
verify 2
check "both attempts carry the same alert" "$(jq -r .key "$R/req1.body")" \
	"$(jq -r .key "$R/req2.body")"
check "attempts 1 and 2" "1 2" \
	"$(jq -r .attempt "$R/req1.body") $(jq -r .attempt "$R/req2.body")"
check "the onset alert: CN AS4134, three targets, their methods" \
	"onset CN AS4134 3 3 tls" \
	"$(jq -r '"\(.direction) \(.cc) \(.asn) \(.n_targets) \(.methods | add) \(.targets[] | select(.input | test("script")) | .method)"' "$R/req2.body")"
check "it names the three, not the flapping one" \
	"$T1 $T2 $HOSTILE" "$(jq -r '[.targets[].input] | join(" ")' "$R/req2.body")"
check_match "its title" "^3 targets blocked in CN . AS4134 since " \
	"$(jq -r .title "$R/req2.body")"
check "a tampered body fails the check" "no" \
	"$(sed 's/AS4134/AS4135/' "$R/req2.body" | openssl dgst -sha256 -hmac "$SECRET" -r |
		cut -d' ' -f1 | grep -qx "$(sed -n 1p "$R/req2.hdr" | cut -d= -f2)" && echo yes || echo no)"

DL=$(api /api/v1/alerts/deliveries)
check "delivery log: delivered, then retrying (newest first)" "delivered retrying" \
	"$(printf '%s' "$DL" | jq -r '[.log[].result] | join(" ")')"
check "delivery log: HTTP statuses" "200 500" \
	"$(printf '%s' "$DL" | jq -r '[.log[].status] | join(" ")')"
check "delivery log: the URL without credentials, path or query" \
	"http://127.0.0.1:$RPORT" "$(printf '%s' "$DL" | jq -r '.webhooks[0].origin')"
check "the log never shows the secret parts" 0 \
	"$(printf '%s' "$DL" | grep -c 't0ps3cret\|user:pw')"
check "the collector's log never shows them either" 0 \
	"$(grep -c 't0ps3cret\|user:pw' "$LAB/col.err")"

# --- phase 2: the three accessible again -----------------------------------
: >"$LAB/p2.jsonl"
for t in "$HOSTILE" "$T1" "$T2"; do
	tag=$(printf '%s' "$t" | md5sum | cut -c1-8)
	for k in 0 1 2; do
		synth "${tag}_ok2$k" clean_https "$t" $((T0 + 7300 + k * 10)) >>"$LAB/p2.jsonl"
	done
done
submit "$LAB/p2.jsonl"
check "phase 2: 9 measurements stored" "200 9" \
	"$CODE $(printf '%s' "$OUT" | jq '.stored|length')"
wait_until 60 delivered_is 2
check "the end alert delivered at once" 3 "$(received)"
verify 3
check "the end alert: three targets accessible again" "end 3 accessible" \
	"$(jq -r '"\(.direction) \(.n_targets) \([.targets[].state] | unique | join(","))"' "$R/req3.body")"
check "alerts sent: one onset, one end" "1 1" \
	"$(metric 'wallwatch_alerts_total{direction="onset"}') $(metric 'wallwatch_alerts_total{direction="end"}')"
check "claims: the two alerts and the first scan's mark" 3 \
	"$(sqlite3 "$DB" 'SELECT count(*) FROM alert_claims')"

# --- the feed ----------------------------------------------------------------
cat >"$LAB/atom.py" <<'EOF'
import sys, xml.etree.ElementTree as ET
A = "{http://www.w3.org/2005/Atom}"
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == A + "feed", root.tag
for k in ("id", "title", "updated"):
    assert root.find(A + k) is not None, k
what = sys.argv[2]
es = root.findall(A + "entry")
for e in es:
    for k in ("id", "title", "updated"):
        assert e.find(A + k) is not None and e.find(A + k).text, k
if what == "count":
    print(len(es))
elif what == "ids":
    print(" ".join(e.find(A + "id").text for e in es))
elif what == "terms":
    print(" ".join(e.find(A + "category").get("term") for e in es))
elif what == "content":
    print("\n".join(e.find(A + "content").text for e in es))
EOF
atom() {
	curl -s --max-time 20 -o "$LAB/feed.xml" "$B/feed.atom$1" &&
		python3 "$LAB/atom.py" "$LAB/feed.xml" "$2" 2>&1
}
check "feed: two entries, newest first (end, then onset)" "end onset" "$(atom '' terms)"
check "feed: ids are tag URIs of the alert's identity" \
	"tag:wallwatch,2026:alert/CN/AS4134/end/$((T0 + 7320))/60 tag:wallwatch,2026:alert/CN/AS4134/onset/$((T0 + 3720))/60" \
	"$(atom '' ids)"
check "feed: the same ids again" "$(atom '' ids)" "$(atom '' ids)"
check "feed: the onset entry's id is the webhook's" \
	"$(jq -r .id "$R/req2.body")" "$(atom '?state=blocked' ids)"
check_match "feed: the hostile input, escaped, reads back as text" \
	"^- https://www.example.org/\"><script>alert\\(1\\)</script>&amp;]]> blocked by tls" \
	"$(atom '?state=blocked' content | grep -F 'script')"
check "feed: the raw document holds no unescaped markup" 0 \
	"$(grep -c '<script>' "$LAB/feed.xml")"
check "feed: state=blocked, the onset" onset "$(atom '?state=blocked' terms)"
check "feed: state=accessible, the end" end "$(atom '?state=accessible' terms)"
check "feed: state=down, nothing" 0 "$(atom '?state=down' count)"
check "feed: cc=CN" 2 "$(atom '?cc=CN' count)"
check "feed: cc=IR" 0 "$(atom '?cc=IR' count)"
check "feed: asn=AS4134" 2 "$(atom '?asn=AS4134' count)"
check "feed: asn=AS4837" 0 "$(atom '?asn=AS4837' count)"
check "feed: category=NEWS" 2 "$(atom '?category=NEWS' count)"
check "feed: category=GMB" 0 "$(atom '?category=GMB' count)"
check "feed: limit=1" 1 "$(atom '?limit=1' count)"
check "feed: until before the end: the onset alone" onset \
	"$(atom "?until=$((T0 + 7200))" terms)"
check "feed: since after the onset: the end alone" end \
	"$(atom "?since=$((T0 + 7200))" terms)"
check "feed: a bad state is a 400" 400 \
	"$(curl -s -o /dev/null -w '%{http_code}' "$B/feed.atom?state=gone")"
check_match "feed: served as Atom" "application/atom\\+xml" \
	"$(curl -s -o /dev/null -w '%{content_type}' "$B/feed.atom")"
ETAG=$(curl -s -D - -o /dev/null "$B/feed.atom" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
check "feed: If-None-Match with its ETag: 304" 304 \
	"$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ETAG" "$B/feed.atom")"
check "feed: another filter, another ETag: 200" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ETAG" "$B/feed.atom?cc=CN")"
check "JSON: the same two alerts" "end onset" \
	"$(api /api/v1/alerts | jq -r '[.alerts[].direction] | join(" ")')"
check "the status page is served" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' "$B/alerts")"

# --- a restart sends nothing again -------------------------------------------
kill "$COL_PID"
wait "$COL_PID" 2>/dev/null
check "the collector stops cleanly on SIGTERM (exit 0)" 0 $?
COL_PID=
check "no sanitizer report (under ASan)" 0 "$(grep -c 'Sanitizer' "$LAB/col.err")"
start
wait_until 60 sh -c "curl -s '$B/metrics' | grep -qx 'wallwatch_alerts_claimed_elsewhere_total 2'"
check "after a restart: both alerts found claimed" 2 \
	"$(metric wallwatch_alerts_claimed_elsewhere_total)"
check "... and nothing sent again" 3 "$(received)"

# --- webhooks new to a database with history: its past is not sent ----------
kill "$COL_PID"
wait "$COL_PID" 2>/dev/null
COL_PID=
sqlite3 "$DB" 'DELETE FROM alert_claims'
start
wait_until 60 grep -q 'first scan of this database' "$LAB/col.err"
check_match "the first scan claims the two due alerts as history" \
	"first scan of this database: 2 alerts of the last [0-9]+ s claimed as history, not sent" \
	"$(cat "$LAB/col.err")"
check "... sends none of them" "3 0 0" \
	"$(received) $(metric 'wallwatch_alerts_total{direction="onset"}') $(metric 'wallwatch_alerts_total{direction="end"}')"
check "... and claims them (and its mark)" 3 \
	"$(sqlite3 "$DB" 'SELECT count(*) FROM alert_claims')"

finish
