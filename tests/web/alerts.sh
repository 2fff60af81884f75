#!/bin/sh
# tests/web/alerts.sh COLLECTOR - the alerts' status page (/alerts,
# collector/web/page_alerts.js) in headless Chromium (Debian's `chromium`):
# a collector on loopback whose webhook always answers 500, fed
# measurements (built from the analysis fixtures, tests/integration/
# alerts_lib.sh) that make three targets of CN AS4134 blocked, one of them
# an input full of markup. Once the delivery is given up, the page must
# list the one alert with its three targets (the hostile input as text,
# never markup), the feed's link with the page's filters, the webhook by its
# origin only, and the delivery log (retrying, then given up). The DOM and
# a screenshot are kept in build/test-artifacts/ (WW_ARTIFACTS to change).
set -u
COLLECTOR=$1
ART=${WW_ARTIFACTS:-build/test-artifacts}


. tests/integration/lib.sh
. tests/web/lib.sh # find_chromium, chrome
# (after tests/web/lib.sh: its synth is the alerts' own)
. tests/integration/alerts_lib.sh
find_chromium
COL_PID=
RCV_PID=
LAB=$(mktemp -d "${TMPDIR:-/tmp}/wallwatch-webalerts.XXXXXX")
cleanup() {
	for p in $COL_PID $RCV_PID; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$LAB"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$ART" "$LAB/home" "$LAB/rcv"
ART=$(cd "$ART" && pwd)

rcv_start "$LAB/rcv" 1000
openssl rand -hex 32 >"$LAB/secret"
collector_up "$LAB/col.err" "$COLLECTOR" --db "$LAB/c.db" \
	--resolver 127.0.0.1:9 --min-submitters 1 --allow-geo-mismatch yes \
	--alert-window 60 --alert-settle 0 \
	--webhook "http://hook:pw@127.0.0.1:$RPORT/in?key=s3cr3t" \
	--webhook-secret "$LAB/secret" --webhook-backoff 0.1 \
	--webhook-retries 2
B=http://127.0.0.1:$PORT
metric() {
	curl -s --max-time 20 "$B/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}
given_up() {
	[ "$(metric 'wallwatch_webhook_deliveries_total{result="given_up"}')" = 1 ]
}

HOSTILE='https://www.example.org/"><img/src=x/onerror=alert(1)><script>alert(2)</script>'
T0=$(( ($(date +%s) - 3 * 3600) / 60 * 60 ))
: >"$LAB/m.jsonl"
for t in "$HOSTILE" https://one.example.org/ https://two.example.org/; do
	tag=$(printf '%s' "$t" | md5sum | cut -c1-8)
	for k in 0 1 2; do
		synth "${tag}_ok$k" clean_https "$t" $((T0 + k * 10)) >>"$LAB/m.jsonl"
		synth "${tag}_bl$k" tls_sni_reset "$t" $((T0 + 3700 + k * 10)) >>"$LAB/m.jsonl"
	done
done
submit "$LAB/m.jsonl"
check "18 measurements stored" "200 18" \
	"$CODE $(printf '%s' "$OUT" | jq '.stored|length')"
wait_until 60 given_up
check "the delivery given up after 3 attempts" "1 3" \
	"$(metric 'wallwatch_webhook_deliveries_total{result="given_up"}') $(cat "$LAB/rcv/count")"

# countf TEXT FILE: how many times TEXT (fixed) occurs in FILE
countf() { grep -oF -- "$1" "$2" | wc -l | tr -d ' '; }

PAGE="/alerts?cc=CN&state=blocked"
chrome --dump-dom "$B$PAGE" >"$LAB/alerts.html"
check "chromium loaded $PAGE" 0 $?
cp "$LAB/alerts.html" "$ART/web-alerts.html"
D=$LAB/alerts.html
check "the page finished loading" 1 "$(countf 'data-ready="true"' "$D")"
check "no part of it failed" 0 "$(grep -c 'data-error=\|class="error"' "$D")"
check "one alert listed" 1 "$(countf '<li class="alert alert-onset">' "$D")"
check "its title" 1 "$(countf '3 targets blocked in CN · AS4134 since' "$D")"
check "its three targets" 3 "$(countf '<li><code>https://' "$D")"
check "the hostile input is text: escaped in the DOM" 1 \
	"$(countf '&lt;img/src=x/onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;' "$D")"
check "... and no element made of it" 0 "$(grep -c '<img\|<script>alert' "$D")"
check "the feed's link keeps the filters" 1 \
	"$(countf 'href="/feed.atom?cc=CN&amp;state=blocked"' "$D")"
check "the webhook by its origin" 1 \
	"$(countf "#1 http://127.0.0.1:$RPORT." "$D")"
check "never its credentials, path or query" 0 "$(grep -c 's3cr3t\|hook:pw\|/in?' "$D")"
check "the delivery log: three attempts" 3 "$(countf '<tr class="delivery' "$D")"
check "... the last given up" 1 "$(countf '<tr class="delivery delivery-given-up">' "$D")"
check "... two retrying" 2 "$(countf '<tr class="delivery delivery-retrying">' "$D")"

rm -f "$ART/web-alerts.png"
chrome --screenshot="$ART/web-alerts.png" --window-size=1280,900 "$B$PAGE" >/dev/null
check "screenshot" "89 50 4e 47" \
	"$(od -An -N4 -tx1 "$ART/web-alerts.png" 2>/dev/null | sed 's/^ //')"

chrome --dump-dom "$B/alerts?cc=IR" >"$LAB/empty.html"
check "another country: no alert, said so" 1 \
	"$(countf 'No blocking began or ended in the last 30 days for these filters.' "$LAB/empty.html")"

finish
