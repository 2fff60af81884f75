# alerts_lib.sh - what the alerts' tests share (tests/integration/alerts.sh,
# tests/web/alerts.sh): measurements built from the analysis fixtures, and
# a webhook receiver on loopback. Needs lib.sh and $LAB.

# rcv_start DIR FAILS: a webhook receiver (python3 http.server) on a port
# of 127.0.0.1 the kernel picks, written to DIR/port; it answers the first
# FAILS POSTs 500 and the others 200, and keeps each request's body and
# signature headers in DIR/reqN.body and DIR/reqN.hdr, their count in
# DIR/count (written before it answers). Sets RCV_PID and RPORT.
rcv_start() {
	cat >"$LAB/rcv.py" <<'EOF'
import http.server, os, sys
d = sys.argv[1]
fails = int(sys.argv[2])
n = 0
def put(name, data):
    with open(os.path.join(d, name + ".tmp"), "wb") as f:
        f.write(data)
    os.replace(os.path.join(d, name + ".tmp"), os.path.join(d, name))
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global n
        n += 1
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        put("req%d.body" % n, body)
        put("req%d.hdr" % n, ("%s\n%s\n%s\n" % (
            self.headers.get("X-Wallwatch-Signature", ""),
            self.headers.get("X-Wallwatch-Timestamp", ""),
            self.headers.get("Content-Type", ""))).encode())
        put("count", str(n).encode())
        self.send_response(500 if n <= fails else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
put("port", str(s.server_address[1]).encode())
s.serve_forever()
EOF
	python3 "$LAB/rcv.py" "$1" "$2" 2>"$LAB/rcv.err" &
	RCV_PID=$!
	if ! wait_until 30 test -s "$1/port"; then
		echo "receiver did not start" >&2
		cat "$LAB/rcv.err" >&2
		exit 1
	fi
	RPORT=$(cat "$1/port")
}

# synth TAG FIXTURE INPUT T: one measurement on CN AS4134 at unix time T,
# the fixture's test_keys (tests/data/analysis: its base with its patch)
# in the envelope of a real one (tests/data/validate/good.json).
A=tests/data/analysis
synth() {
	jq -c -n --slurpfile env tests/data/validate/good.json \
		--slurpfile c "$A/$2.json" \
		--slurpfile b "$A/$(jq -r .base "$A/$2.json")" \
		--arg tag "$1" --arg inp "$3" --argjson t "$4" '
def mp($p): if ($p | type) == "object" then
    reduce ($p | to_entries[]) as $e ((if type == "object" then . else {} end);
      if $e.value == null then del(.[$e.key])
      else .[$e.key] |= mp($e.value) end)
  else $p end;
($b[0] | mp($c[0].patch)) as $m
| ($t | strftime("%Y-%m-%d %H:%M:%S")) as $ts
| $env[0]
| .input = $inp
| .test_keys = ($m.test_keys | if has("control") then . else .control = null end)
| .measurement_uid = "alerts_\($tag)"
| .report_id = "alerts_test"
| .measurement_start_time = $ts | .test_start_time = $ts
| .probe_cc = "CN" | .probe_asn = "AS4134"'
}
