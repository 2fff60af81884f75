#!/usr/bin/env python3
"""make-measurements.py - write the measurements of the reanalysis fixture.

Run once, from the repository's root, to (re)make tests/data/reanalyze/m/*.json
(see README.md); the tests read the JSON files and v1.db, never this script.
Each case is a patch (RFC 7386 merge, as tests/unit/test_analysis.c) on
tests/data/analysis/base_http.json or base_https.json, with the envelope of
tests/data/validate/good.json, measured three times an hour apart (three
conclusive measurements give a target its state, docs/timelines.md).
"""
import copy
import hashlib
import json
import os

ROOT = "tests/data"
OUT = os.path.join(ROOT, "reanalyze", "m")


def load(p):
    with open(os.path.join(ROOT, p)) as f:
        return json.load(f)


def merge(t, p):
    if not isinstance(p, dict):
        return copy.deepcopy(p)
    t = copy.deepcopy(t) if isinstance(t, dict) else {}
    for k, v in p.items():
        if v is None:
            t[k] = None  # unlike RFC 7386: keep explicit nulls
        else:
            t[k] = merge(t.get(k), v)
    return t


def page(title, filler):
    return ("<!doctype html><html><head><title>%s</title></head><body>"
            "<p>%s</p></body></html>\n" % (title, filler))


def response(code, body, headers, location=None, title=None):
    b = body.encode()
    return {
        "code": code, "http_version": "1.1", "headers": headers,
        "headers_list": [[k, v] for k, v in headers.items()],
        "body": body, "body_is_truncated": False, "body_length": len(b),
        "body_download_capped": False,
        "body_sha256": hashlib.sha256(b).hexdigest(),
        "title": title, "location": location,
    }


def request(url, addr, hop, failure=None, resp=None, tid=5):
    r = {"request": {"method": "GET", "url": url, "headers": {},
                     "headers_list": []},
         "address": addr, "failure": failure, "t0": 0.1, "t": 0.2,
         "transaction_id": tid, "response": resp, "hop": hop}
    return r


SRV = {"Content-Type": "text/html; charset=UTF-8",
       "Server": "ECAcc (nyd/D13E)", "X-Cache": "HIT"}
CTL_PAGE = page("Example Domain", "Illustrative examples. " * 40)


def ctl_http(url, code=200, body=CTL_PAGE, title="Example Domain",
             failure=None):
    return {"body_length": len(body.encode()),
            "body_sha256": hashlib.sha256(body.encode()).hexdigest(),
            "failure": failure, "final_url": url,
            "headers": dict(SRV, **{"Content-Length":
                                    str(len(body.encode()))}),
            "status_code": code, "title": title}


cases = {}

# 1. A redirect whose later hop's name does not resolve for the probe, while
#    the control resolves and fetches it. v1: http-failure; v2: dns, hop 1.
cases["redirect_dns"] = ("base_http.json", {
    "input": "http://redirect.example.org/",
    "test_keys": {
        "requests": [
            request("http://news.example.net/", "", 1,
                    failure="dns_nxdomain_error"),
            request("http://redirect.example.org/", "93.184.215.14:80", 0,
                    resp=response(302, "", {"Location":
                                            "http://news.example.net/"},
                                  location="http://news.example.net/")),
        ],
        "queries": [
            {"answers": [{"answer_type": "A", "ipv4": "93.184.215.14",
                          "ttl": 300}],
             "engine": "udp", "failure": None,
             "hostname": "redirect.example.org", "query_type": "A",
             "rcode": 0, "rcode_name": "NOERROR",
             "resolver_address": "192.0.2.53:53", "t": 0.02, "t0": 0.0001,
             "hop": 0},
            {"answers": [], "engine": "udp",
             "failure": "dns_nxdomain_error",
             "hostname": "news.example.net", "query_type": "A",
             "rcode": 3, "rcode_name": "NXDOMAIN",
             "resolver_address": "192.0.2.53:53", "t": 0.32, "t0": 0.3,
             "hop": 1},
        ],
        "control": {
            "http_request": ctl_http("http://news.example.net/"),
            "hops": [
                {"url": "http://redirect.example.org/",
                 "dns": {"host": "redirect.example.org", "failure": None,
                         "addrs": ["93.184.215.14"]},
                 "tcp_connect": {"93.184.215.14:80": {"status": True,
                                                      "failure": None}},
                 "tls_handshake": {},
                 "http_request": {"failure": None, "status_code": 302,
                                  "body_length": 0, "title": "",
                                  "headers": {"Location":
                                              "http://news.example.net/"},
                                  "location": "http://news.example.net/"}},
                {"url": "http://news.example.net/",
                 "dns": {"host": "news.example.net", "failure": None,
                         "addrs": ["198.51.100.20"]},
                 "tcp_connect": {"198.51.100.20:80": {"status": True,
                                                      "failure": None}},
                 "tls_handshake": {},
                 "http_request": dict(ctl_http("http://news.example.net/"),
                                      location=None)},
            ],
        },
    },
})

# 2. Status 200 and its headers, then a reset 1000 bytes into a 20000-byte
#    body; the control got it whole. v2: http-failure, http.reset.
BIG = page("Example Domain", "Illustrative examples. " * 860)
CUT = BIG[:1000]
cut_resp = response(200, CUT, dict(SRV, **{"Content-Length":
                                           str(len(BIG.encode()))}),
                    title="Example Domain")
cases["cut_reset"] = ("base_http.json", {
    "input": "http://cut.example.org/",
    "test_keys": {
        "queries": None,
        "requests": [dict(request("http://cut.example.org/",
                                  "93.184.215.14:80", 0,
                                  failure="connection_reset",
                                  resp=cut_resp),
                          transfer={"bytes": 1200, "body_bytes": 1000,
                                    "t_first_byte": 0.05,
                                    "t_last_byte": 0.06, "rate": None})],
        "control": {"http_request": ctl_http("http://cut.example.org/",
                                             body=BIG)},
    },
})

# 3. A transparent proxy's unknown blockpage, served by the same web server
#    software (same header names as the control): a short page whose title
#    shares no word with the control's. v1: accessible (headers match);
#    v2: http-diff.
BLOCK = page("Access Denied", "The page you requested is not available.")
cases["unknown_blockpage"] = ("base_http.json", {
    "input": "http://proxy.example.org/",
    "test_keys": {
        "queries": None,
        "requests": [request("http://proxy.example.org/",
                             "93.184.215.14:80", 0,
                             resp=response(200, BLOCK, dict(SRV, **{
                                 "Content-Length":
                                 str(len(BLOCK.encode()))}),
                                 title="Access Denied"))],
        "control": {"http_request": ctl_http("http://proxy.example.org/")},
    },
})

# 4. Over verified HTTPS the site answers a CAPTCHA's 503 to this network;
#    the control gets the page. v2: http-diff, http.server_side.
CAPTCHA = page("Attention Required", "Please complete the security check.")
cases["captcha_503"] = ("base_https.json", {
    "input": "https://www.example.org/",
    "test_keys": {
        "queries": None,
        "requests": [request("https://www.example.org/",
                             "93.184.215.14:443", 0,
                             resp=response(503, CAPTCHA, {
                                 "Content-Type": "text/html",
                                 "Server": "cloudflare"},
                                 title="Attention Required"))],
        "control": {"http_request": ctl_http("https://www.example.org/")},
    },
})

# 5. A redirect loop, for the probe and for the control: the 11th request
#    is still a redirect. v2: down (blocking false, accessible false).
loop = []
for hop in range(10, -1, -1):
    url = "http://loop.example.org/%d" % hop
    nxt = "http://loop.example.org/%d" % (hop + 1)
    r = request(url, "93.184.215.14:80", hop, tid=5 + hop,
                failure="http_too_many_redirects" if hop == 10 else None,
                resp=response(302, "", {"Location": nxt}, location=nxt))
    loop.append(r)
cases["redirect_loop"] = ("base_http.json", {
    "input": "http://loop.example.org/0",
    "test_keys": {
        "queries": None,
        "requests": loop,
        "control": {"http_request": {
            "body_length": 0, "body_sha256": None,
            "failure": "http_too_many_redirects",
            "final_url": "http://loop.example.org/10",
            "headers": {"Location": "http://loop.example.org/11"},
            "status_code": 302, "title": ""}},
    },
})

# 6. Unchanged by the new rules: a publisher's 451 over HTTPS (v1 and v2:
#    http-diff, http.server_side; shown as withheld by the site), and a
#    clean page (accessible).
cases["https_451"] = ("base_https.json", {
    "input": "https://journal.example.org/",
    "test_keys": {
        "queries": None,
        "requests": [request("https://journal.example.org/",
                             "93.184.215.14:443", 0,
                             resp=response(451, page(
                                 "Unavailable For Legal Reasons",
                                 "Not available in your country."),
                                 {"Content-Type": "text/html"},
                                 title="Unavailable For Legal Reasons"))],
        "control": {"http_request":
                    ctl_http("https://journal.example.org/")},
    },
})
cases["clean_http"] = ("base_http.json", {
    "input": "http://clean.example.org/",
    "test_keys": {
        "queries": None,
        "requests": [request("http://clean.example.org/",
                             "93.184.215.14:80", 0,
                             resp=response(200, CTL_PAGE, dict(SRV, **{
                                 "Content-Length":
                                 str(len(CTL_PAGE.encode()))}),
                                 title="Example Domain"))],
        "control": {"http_request": ctl_http("http://clean.example.org/")},
    },
})

good = load("validate/good.json")
ENVELOPE = {k: good[k] for k in ("annotations", "options", "report_id",
                                 "test_start_time", "probe_network_name")
            if k in good}
os.makedirs(OUT, exist_ok=True)
for name, (base, patch) in sorted(cases.items()):
    m = merge(load("analysis/" + base), patch)
    host = m["input"].split("/")[2]
    if m["test_keys"].get("queries") is None:
        q = load("analysis/" + base)["test_keys"]["queries"]
        for x in q:
            x["hostname"] = host
        m["test_keys"]["queries"] = q
    for k, v in ENVELOPE.items():
        m[k] = copy.deepcopy(v)
    m["probe_cc"], m["probe_asn"] = "CN", "AS4134"
    for i in range(3):
        one = copy.deepcopy(m)
        t = "2026-11-20 0%d:00:00" % (i + 1)
        one["measurement_start_time"] = t
        one["test_start_time"] = t
        digest = hashlib.md5(("%s/%d" % (name, i)).encode()).hexdigest()
        one["measurement_uid"] = ("202611200%d0000.000000_CN_wallwatch_web_%s"
                                  % (i + 1, digest))
        with open(os.path.join(OUT, "%s_%d.json" % (name, i + 1)), "w") as f:
            json.dump(one, f, indent=1, sort_keys=True)
            f.write("\n")
