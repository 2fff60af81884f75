#!/bin/sh
# pgalerts.sh COLLECTOR - two collectors on one PostgreSQL database (a
# throwaway cluster: tests/pg/pgtmp.sh), both with the same webhook: a
# blocking event's onset, POSTed to one, and its end, POSTed to the other,
# reach the receiver once each (docs/alerts.md, "the claim"): each alert is
# claimed by one collector, sent by it, and found claimed by the other.
set -u
COLLECTOR=$1
. tests/integration/lib.sh
. tests/integration/alerts_lib.sh
C1=
C2=
RCV_PID=
CI=
LAB=$(mktemp -d "${TMPDIR:-/tmp}/wallwatch-pgalerts.XXXXXX")
cleanup() {
	for p in $C1 $C2 $RCV_PID; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -n "$CI" ] && sh tests/pg/pgtmp.sh stop "$CI"
	rm -rf "$LAB"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
CI=$(sh tests/pg/pgtmp.sh start) || {
	echo "pgalerts: no PostgreSQL cluster" >&2
	exit 1
}
mkdir -p "$LAB/rcv"
rcv_start "$LAB/rcv" 0
openssl rand -hex 32 >"$LAB/secret"

# up NAME: a collector on the cluster, its pid in C<n>'s place (COL_PID)
up() {
	collector_up "$LAB/$1.err" "$COLLECTOR" --db "$CI" \
		--resolver 127.0.0.1:9 --min-submitters 1 \
		--allow-geo-mismatch yes --alert-window 60 --alert-settle 0 \
		--webhook "http://127.0.0.1:$RPORT/hook" \
		--webhook-secret "$LAB/secret" --webhook-backoff 0.2
}
up c1
C1=$COL_PID
P1=$PORT
up c2
C2=$COL_PID
P2=$PORT

metric() {
	curl -s --max-time 20 "http://127.0.0.1:$1/metrics" |
		awk -v k="$2" '$1 == k { print $2 }'
}
# sum METRIC: its value on both collectors, added
sum() { echo $(($(metric "$P1" "$1") + $(metric "$P2" "$1"))); }
DELIVERED='wallwatch_webhook_deliveries_total{result="delivered"}'
ELSEWHERE=wallwatch_alerts_claimed_elsewhere_total
settled() { [ "$(sum "$DELIVERED")" = "$1" ] && [ "$(sum $ELSEWHERE)" = "$1" ]; }

T0=$(( ($(date +%s) - 3 * 3600) / 60 * 60 ))
: >"$LAB/p1.jsonl"
: >"$LAB/p2.jsonl"
for t in https://one.example.org/ https://two.example.org/ https://three.example.org/; do
	tag=$(printf '%s' "$t" | md5sum | cut -c1-8)
	for k in 0 1 2; do
		synth "${tag}_ok$k" clean_https "$t" $((T0 + k * 10)) >>"$LAB/p1.jsonl"
		synth "${tag}_bl$k" tls_sni_reset "$t" $((T0 + 3700 + k * 10)) >>"$LAB/p1.jsonl"
		synth "${tag}_ok2$k" clean_https "$t" $((T0 + 7300 + k * 10)) >>"$LAB/p2.jsonl"
	done
done

PORT=$P1
submit "$LAB/p1.jsonl"
check "onset's measurements stored by c1" "200 18" \
	"$CODE $(printf '%s' "$OUT" | jq '.stored|length')"
wait_until 60 settled 1
check "the onset: delivered by one collector, found claimed by the other" \
	"1 1" "$(sum "$DELIVERED") $(sum $ELSEWHERE)"
check "the receiver got it once" 1 "$(cat "$LAB/rcv/count")"
check "an onset of three targets" "onset 3" \
	"$(jq -r '"\(.direction) \(.n_targets)"' "$LAB/rcv/req1.body")"

PORT=$P2
submit "$LAB/p2.jsonl"
check "end's measurements stored by c2" "200 9" \
	"$CODE $(printf '%s' "$OUT" | jq '.stored|length')"
wait_until 60 settled 2
check "the end: delivered by one, found claimed by the other" "2 2" \
	"$(sum "$DELIVERED") $(sum $ELSEWHERE)"
check "the receiver got two in all" 2 "$(cat "$LAB/rcv/count")"
check "the second is the end" end "$(jq -r .direction "$LAB/rcv/req2.body")"
check "claims: both alerts and the first scan's mark" 3 \
	"$(psql -X -q -At -d "$CI" -c 'SELECT count(*) FROM alert_claims')"
check "one onset and one end alert sent in all" "1 1" \
	"$(($(metric "$P1" 'wallwatch_alerts_total{direction="onset"}') + $(metric "$P2" 'wallwatch_alerts_total{direction="onset"}'))) $(($(metric "$P1" 'wallwatch_alerts_total{direction="end"}') + $(metric "$P2" 'wallwatch_alerts_total{direction="end"}')))"

finish
