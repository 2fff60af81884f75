# tests/web/lib.sh - what the browser tests of the web view share
# (tests/web/run.sh, network.sh, measurement.sh, alerts.sh): finding Chromium, loading a
# page and keeping its DOM and a screenshot, counting in a DOM, and
# synthetic measurements from the analysis fixtures. Sourced after
# tests/integration/lib.sh (check, LAB); the callers set B (the
# collector's base URL), ART (where artifacts go), MID (the start of
# today, UTC, in unix seconds) and, for synth, $LAB/envelope.json.

# find_chromium: CHROMIUM set to Debian's chromium, or the test ends as
# failed, saying what to install.
find_chromium() {
	CHROMIUM=
	for c in chromium chromium-browser; do
		if command -v "$c" >/dev/null 2>&1; then
			CHROMIUM=$(command -v "$c")
			break
		fi
	done
	if [ -z "$CHROMIUM" ]; then
		echo "web test: chromium is not installed; it needs Debian's" \
			"chromium package (make check-deps installs it:" \
			"apt-get install chromium)" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
}

# web_start FAKENET (after tests/integration/lib.sh; ART set): Chromium
# found, the lab started (LAB), DB the collector's database in it, ART
# made absolute; at exit the collector (COL_PID, once started) is stopped
# and the lab removed.
web_start() {
	find_chromium
	lab_start "$1"
	DB=$LAB/collector.db
	COL_PID=
	mkdir -p "$ART" "$LAB/home"
	ART=$(cd "$ART" && pwd)
	trap web_cleanup EXIT
}

web_cleanup() {
	if [ -n "$COL_PID" ]; then
		kill "$COL_PID" 2>/dev/null
		wait "$COL_PID" 2>/dev/null
	fi
	lab_cleanup
}

# count REGEX FILE: how many times REGEX (ERE) occurs in FILE
count() { grep -oE -- "$1" "$2" | wc -l | tr -d ' '; }
# rows FILE: the DOM with each table row on a line of its own
rows() { sed 's/<tr/\n<tr/g; s/<\/tr>/<\/tr>\n/g' "$1" | grep '^<tr'; }

chrome() {
	HOME=$LAB/home timeout -k 5 90 "$CHROMIUM" --headless --no-sandbox \
		--disable-gpu --disable-quic --no-first-run \
		--no-default-browser-check --disable-background-networking \
		--disable-component-update --disable-sync --disable-extensions \
		--disable-default-apps --disable-domain-reliability --no-pings \
		--no-proxy-server --disable-dev-shm-usage --hide-scrollbars \
		--force-device-scale-factor=1 --enable-logging=stderr --v=0 \
		--user-data-dir="$(mktemp -d "$LAB/chrome.XXXXXX")" \
		--virtual-time-budget=5000 "$@" 2>>"$LAB/chromium.log"
}

# dom NAME PATH: Chromium's DOM of the page, in $LAB/NAME.html (and kept).
dom() {
	chrome --dump-dom "$B$2" >"$LAB/$1.html"
	rc=$?
	check "$1: chromium loaded $2" 0 "$rc"
	[ "$rc" -eq 0 ] || tail -n 20 "$LAB/chromium.log"
	cp "$LAB/$1.html" "$ART/web-$1.html"
	check "$1: the page finished loading" 1 \
		"$(count 'data-ready="true"' "$LAB/$1.html")"
	check "$1: no part of it failed" 0 \
		"$(count 'data-error=|class="error"' "$LAB/$1.html")"
}

# shot NAME PATH HEIGHT: a screenshot, kept as a test artifact.
shot() {
	rm -f "$ART/web-$1.png"
	chrome --screenshot="$ART/web-$1.png" --window-size="1280,$3" \
		"$B$2" >/dev/null
	check "$1: screenshot" "89 50 4e 47" \
		"$(od -An -N4 -tx1 "$ART/web-$1.png" 2>/dev/null | sed 's/^ //')"
	SHOTS="$SHOTS $ART/web-$1.png"
}

# synth TAG CASE CC ASN PER-DAY "DAYS AGO..." [INPUT] [PACKETS]: PER-DAY copies of a
# real envelope with the observations of tests/data/analysis/CASE.json (its
# base merged with its patch, RFC 7386) on each of those UTC days (01:00,
# 01:10, ...: never in the future, within the ingest's bounds). The
# collector analyses them again, so their verdict is the case's. PACKETS:
# a file whose JSON becomes their test_keys.packets (tests/data/web/).
synth() {
	d=tests/data/analysis
	jq -c -n --arg tag "$1" --slurpfile c "$d/$2.json" \
		--slurpfile b "$d/$(jq -r .base "$d/$2.json")" \
		--arg cc "$3" --arg asn "$4" --argjson per "$5" --arg days "$6" \
		--arg inp "${7:-}" --argjson mid "$MID" \
		--argjson pk "$(if [ -n "${8:-}" ]; then cat "$8"; else echo null; fi)" \
		--slurpfile env "$LAB/envelope.json" '
def mp($p): if ($p | type) == "object" then
    reduce ($p | to_entries[]) as $e ((if type == "object" then . else {} end);
      if $e.value == null then del(.[$e.key])
      else .[$e.key] |= mp($e.value) end)
  else $p end;
($b[0] | mp($c[0].patch)) as $m
| ($days | split(" ") | map(select(. != "") | tonumber))[] as $d
| range($per) as $k
| (($mid - $d * 86400 + 3600 + $k * 600) | strftime("%Y-%m-%d %H:%M:%S")) as $t
| $env[0]
| .input = (if $inp == "" then $m.input else $inp end)
| .test_name = (if (.input | test("^(tcp|tls)://")) then "wallwatch_endpoint"
               else "wallwatch_web" end)
| .test_keys = ($m.test_keys | if has("control") then . else .control = null end)
| if $pk == null then . else
    .test_keys.packets = $pk
    # each record of a flow names it ("flow"), as the probe writes it
    | ($pk.tcp // []) as $fl
    | .test_keys |= reduce ("tcp_connect", "tls_handshakes", "requests") as $k (.;
        if .[$k] then .[$k] |= map(. as $r
          | ([$fl[] | select((.transaction_ids // []) | index($r.transaction_id)) | .flow][0]) as $f
          | if $f then .flow = $f else . end) else . end)
  end
| .measurement_uid = "webtest_\($tag)_\($d)_\($k)"
| .report_id = "webtest_\($tag)"
| .measurement_start_time = $t | .test_start_time = $t
| .probe_cc = $cc | .probe_asn = $asn' >>"$LAB/syn.jsonl"
}
