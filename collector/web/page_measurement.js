/*
 * page_measurement.js - /measurement?uid=UID: one measurement's evidence
 * in words and tables instead of raw JSON (docs/web-view.md, "A
 * measurement"): a summary with the collector's verdict, its rule and
 * reason; DNS answers per resolver beside the control's; each TCP
 * connect; each TLS handshake, the neutral SNI beside the target's and the
 * control's; each HTTP hop beside the control's fetch of it; VPN and QUIC
 * exchanges; the packet evidence; and the raw JSON, one click away.
 *
 * Everything comes from a volunteer's probe (ours or OONI's) and is
 * untrusted: it is only set as text or as URL-encoded query values (the
 * helpers of app.js, Wallwatch.*), never parsed as HTML. Any field may be
 * missing, null or of another type (OONI writes "answers": null,
 * "peer_certificates": null, no "sni_role", no "hop"): every read goes
 * through arr()/obj()/str()/num(), a section that still fails says so
 * alone, and long values (bodies, certificates, the raw JSON) are cut
 * with a way to see the rest.
 *
 * Query: ?uid=UID (required), &raw=1 opens the raw JSON at once.
 */
(function () {
	"use strict";

	var W = window.Wallwatch;

	if (!W)
		return;
	var el = W.el, add = W.add, clear = W.clear, num = W.num, str = W.str;

	var SHOW_CHARS = 400; /* of a long value, before "show all" */
	var RAW_CHARS = 262144; /* of the pretty-printed raw JSON, before "show all" */
	var MAX_ROWS = 256; /* per table, as the analysis reads at most 256 */
	/* Response headers worth a look beside the status: who answered and
	 * how (a censor's proxy shows in Server, Via, X-Cache), where to. */
	var NOTE_HEADERS = ["location", "server", "via", "x-cache", "content-type",
		"content-length", "content-encoding", "set-cookie", "cf-ray", "x-powered-by"];

	/* Failure strings (docs/measurement-format.md, OONI's df-007) in
	 * words; an unknown one is shown as it is. */
	var FAILURES = {
		dns_nxdomain_error: "the name does not exist (NXDOMAIN)",
		dns_servfail_error: "the resolver failed (SERVFAIL)",
		dns_refused_error: "the resolver refused (REFUSED)",
		dns_no_answer: "no address of this type (NOERROR, empty)",
		dns_server_misbehaving: "a reply that could not be used",
		dns_bogus_answer: "a bogus answer",
		connection_refused: "refused (RST to the SYN)",
		connection_reset: "reset (RST)",
		generic_timeout_error: "timed out (nothing came)",
		eof_error: "closed by the peer (EOF) mid-way",
		host_unreachable: "host unreachable (ICMP)",
		network_unreachable: "network unreachable (no route on the probe)",
		network_down: "the probe's network is down",
		permission_denied: "permission denied",
		ssl_invalid_hostname: "certificate not valid for this name",
		ssl_unknown_authority: "certificate from an unknown authority",
		ssl_invalid_certificate: "certificate invalid (expired, bad signature…)",
		ssl_failed_handshake: "TLS handshake failed",
		http_too_many_redirects: "more than 10 redirects",
		http_invalid_redirect_location_host: "a redirect that cannot be followed",
		interrupted: "interrupted (the run was stopped)",
		unknown_failure: "an unknown failure"
	};

	/* analysis.reason, the rule that decided (docs/verdicts.md, the
	 * decision procedure's last column): its rows and what it says. A
	 * reason not listed here is shown as its name. */
	var REASONS = {
		dns_injected: ["1", "an answer matched the fingerprint of a known forged DNS answer"],
		http_blockpage: ["2", "a response matched the fingerprint of a known block page"],
		bad_input: ["3", "the input is not a target that can be measured"],
		interrupted: ["4", "the measurement was interrupted"],
		control_unavailable: ["5", "no control answered, so nothing can be compared"],
		probe_offline: ["6, 10, 21, B", "the probe's own network was unusable"],
		control_incomplete: ["7, 13, 20, 24, 29", "the control has no entry for the step that failed"],
		down: ["8, 12, 19, 23, 26, 32", "the control failed the same way: the site is down for everyone"],
		dns_failure: ["9", "the probe's lookup gave no address while the control resolved the name"],
		tcp_failure: ["11", "no connect worked while the control connected to the same addresses"],
		tls_sni_filtered: ["14", "the handshake with the target's name failed while the neutral SNI's completed on the same address, and the control's completed"],
		tls_address_filtered: ["15", "the handshake failed with the neutral SNI as well: the address is filtered"],
		tls_mitm: ["16", "a certificate that does not verify, where the control verified another one"],
		tls_unexpected_failure: ["17", "the target's handshake failed (no neutral handshake to compare with)"],
		tls_trust_mismatch: ["18", "the probe's trust store rejects the site's real certificate"],
		http_failure: ["22", "the request failed where the control's fetch of the same URL worked"],
		unexpected_success: ["27", "a verified page, though the control got none"],
		control_http_failed: ["28", "a page, but the control's fetch failed: nothing to compare it with"],
		http_server_side: ["30, 31", "over verified HTTPS, another answer than the control's: the site withholds it"],
		http_diff: ["34, 35", "the page differs from the control's"],
		expected_success: ["33, 36, 37", "the page (or endpoint) answered as it does for the control"],
		no_observations: ["38", "no observation decides"],
		dns_injected_replies: ["P1", "two different answers came to one DNS query: one of them was forged"],
		rst_injected: ["P2", "the packets prove the reset was injected"],
		http_injected: ["P3", "the packets prove the page was injected"],
		dns_bogon: ["A", "a forged private address in the DNS answer takes the blame"],
		dns_inconsistent: ["A", "a DNS answer unlike the control's takes the blame"],
		handshake_completed: ["V1", "the protocol's handshake completed"],
		same_as_control: ["V7", "the handshake got as far as the control's"],
		silent_without_key: ["V8", "no answer, as expected without a key"],
		protocol_cut: ["V6", "the handshake answered, then died where the control's went on"],
		sni_blocked: ["V10", "the QUIC Initial with the target's name went unanswered, the neutral one was answered"],
		protocol_blocked: ["V11", "no answer to the handshake, though the address answered otherwise and the control's was answered"],
		address_blocked: ["V12", "the address is unreachable from the probe, not from the control"],
		handshake_failed: ["V13", "no answer to the handshake where the control's was answered"]
	};

	/* --- reading untrusted values ------------------------------------- */

	function isObj(v) {
		return v !== null && typeof v === "object" && !Array.isArray(v);
	}

	function obj(v) {
		return isObj(v) ? v : {};
	}

	/* the objects of an array (capped() cuts what is drawn) */
	function arr(v) {
		return Array.isArray(v) ? v.filter(isObj) : [];
	}

	function has(o, k) {
		return isObj(o) && Object.prototype.hasOwnProperty.call(o, k);
	}

	function strs(v) {
		return Array.isArray(v) ? v.filter(function (x) { return typeof x === "string"; }) : [];
	}

	function endpoint(ip, port) {
		ip = str(ip);
		if (!ip)
			return "";
		return (ip.indexOf(":") >= 0 ? "[" + ip + "]" : ip) + (num(port) !== null ? ":" + port : "");
	}

	function failureWords(f) {
		var base;

		if (typeof f !== "string" || !f)
			return "";
		base = f.replace(/:.*$/, "");
		return FAILURES[base] ? FAILURES[base] + (base !== f ? " — " + f.slice(base.length + 1).trim() : "") : f;
	}

	/* a failure in words, with its string in a tooltip */
	function failureNode(f, detail) {
		if (typeof f !== "string" || !f)
			return null;
		return el("span", { class: "m-fail", title: f + (str(detail) ? " (" + str(detail) + ")" : "") },
			failureWords(f));
	}

	function okNode(text) {
		return el("span", { class: "m-ok" }, text);
	}

	function dur(o) {
		var t0 = num(o.t0), t = num(o.t);

		if (t === null || t < 0)
			return "—";
		/* OONI's records have no t0: t is when the step ended */
		return t0 !== null && t >= t0 ? ((t - t0) * 1000).toFixed(1) + " ms" : "ended at " + (t * 1000).toFixed(1) + " ms";
	}

	function bytesText(n) {
		if (num(n) === null || n < 0)
			return "—";
		if (n < 10240)
			return W.plural(n, "byte");
		if (n < 10485760)
			return (n / 1024).toFixed(1) + " KiB";
		return (n / 1048576).toFixed(1) + " MiB";
	}

	/* A long value, cut at `max` characters with a button that shows the
	 * rest (as text, like the start). */
	function longText(s, max, cls) {
		var box = el("span", { class: "m-long" + (cls ? " " + cls : "") });
		var b;

		s = String(s);
		max = max || SHOW_CHARS;
		if (s.length <= max) {
			add(box, s);
			return box;
		}
		add(box, [s.slice(0, max), el("span", { class: "m-cut" }, "…")]);
		b = el("button", { type: "button", class: "m-more" }, "show all (" + W.plural(s.length, "character") + ")");
		b.addEventListener("click", function () {
			clear(box);
			add(box, s);
		});
		add(box, [" ", b]);
		return box;
	}

	/* rows beyond MAX_ROWS are left out, and said so */
	function capped(list, what) {
		return {
			rows: list.slice(0, MAX_ROWS),
			note: list.length > MAX_ROWS ? el("p", { class: "note" },
				(list.length - MAX_ROWS) + " more " + what + " not shown: see the raw JSON.") : null
		};
	}

	function table(cls, heads, rows) {
		return el("table", { class: "m-table " + cls },
			el("thead", null, el("tr", null, heads.map(function (h) {
				return el("th", { scope: "col" }, h);
			}))),
			el("tbody", null, rows));
	}

	/* key-value rows of a summary */
	function kv(rows) {
		return el("table", { class: "m-kv" }, el("tbody", null, rows.filter(Boolean).map(function (r) {
			return el("tr", { class: r[2] || null }, el("th", { scope: "row" }, r[0]), el("td", null, r[1]));
		})));
	}

	/* --- the control's entries (docs/control-protocol.md) ---------------- */

	/* hops[] of our control, [] for OONI's test helper */
	function ctlHops(ctl) {
		return arr(ctl.hops);
	}

	/* the control's map entry (tcp_connect, tls_handshake) for an
	 * "ip:port": hop 0's first, then each hop's */
	function ctlEntry(ctl, key, ep) {
		var e = obj(ctl[key])[ep], hops = ctlHops(ctl);

		for (var i = 0; !isObj(e) && i < hops.length; i++)
			e = obj(hops[i][key])[ep];
		return isObj(e) ? e : null;
	}

	/* the control's lookup of a name: a hop's dns with that host, else
	 * the top-level one when the name is the input's host */
	function ctlDns(ctl, host, inputHost) {
		var hops = ctlHops(ctl);

		for (var i = 0; i < hops.length; i++) {
			var d = obj(hops[i].dns);

			if (str(d.host).toLowerCase() === host.toLowerCase())
				return d;
		}
		return host.toLowerCase() === inputHost && isObj(ctl.dns) ? ctl.dns : null;
	}

	/* the control's fetch of the probe's hop k (URL u): the hop with the
	 * same URL, else hops[k]; without hops (OONI's test helper) its
	 * final fetch stands for the last hop's */
	function ctlFetch(ctl, u, k, last) {
		var hops = ctlHops(ctl);

		for (var i = 0; i < hops.length; i++)
			if (str(hops[i].url) === u && isObj(hops[i].http_request))
				return { r: hops[i].http_request, how: "its fetch of the same URL" };
		if (hops[k] && isObj(hops[k].http_request))
			return { r: hops[k].http_request, how: "its hop " + k + " (" + str(hops[k].url) + ")" };
		if (last && isObj(ctl.http_request))
			return { r: ctl.http_request, how: "its final page" };
		return null;
	}

	/* what the control says of an address (ip_info flags, OONI's bits) */
	function ipInfo(ctl, ip) {
		var f = num(obj(obj(ctl.ip_info)[ip]).flags);

		return f === null ? "" : f & 4 ? "bogon" : "";
	}

	/* --- summary and verdict ------------------------------------------- */

	function isOoni(m) {
		return typeof m.software_name === "string" && !/^wallwatch/.test(m.software_name);
	}

	/* The collector's stored verdict row of this measurement (its class,
	 * reason, evidence): the read API lists rows by target, network and
	 * start time, the uid picks it out. null when not found. */
	function findRow(m, uid) {
		var t = Date.parse(str(m.measurement_start_time).replace(" ", "T") + "Z");

		if (!str(m.input) || isNaN(t))
			return Promise.resolve(null);
		t = Math.floor(t / 1000);
		return W.getJSON(W.apiUrl("measurements", {
			input: m.input, cc: str(m.probe_cc), asn: str(m.probe_asn),
			since: t, until: t + 1, limit: 1000
		})).then(function (r) {
			return arr(r.measurements).filter(function (x) {
				return x.measurement_uid === uid;
			})[0] || null;
		}, function () { return null; });
	}

	function verdictValue(v) {
		if (v === null || v === undefined)
			return "null";
		return typeof v === "string" ? "\"" + v + "\"" : typeof v === "boolean" ? String(v) : "(not a verdict)";
	}

	function verdictWords(row) {
		var c = str(row["class"]), label = W.OUTCOME_NAMES[c] || c || "unknown";

		if (W.METHODS.indexOf(c) >= 0)
			return "blocked " + W.methodPhrase(c);
		if (W.NO_VERDICT[c])
			return "no verdict: the evidence decides neither way";
		return label;
	}

	function reasonNode(reason) {
		var r = REASONS[reason];

		if (!reason)
			return el("span", { class: "none" }, "— (stored before the collector kept it)");
		return el("span", { class: "m-reason" }, el("code", { class: "rule" }, reason),
			r ? [" — ", r[1], el("span", { class: "rule-rows" }, " (docs/verdicts.md, rule " + r[0] + ")")] : null);
	}

	function drawSummary(box, m, row, uid) {
		var tk = obj(m.test_keys), an = obj(tk.analysis), input = str(m.input);
		var host = input ? W.hostOf(input) : "", own, ooni = isOoni(m), c;

		box.appendChild(kv([
			["Target", input ? [el("code", { class: "m-input" }, input), " ",
				el("a", { href: W.targetUrl(input) }, "its page"),
				host ? [" · ", el("a", { href: W.domainUrl(host) }, "its domain")] : null]
				: el("span", { class: "none" }, "(no input)")],
			["Network", [W.netLabel(str(m.probe_cc), str(m.probe_asn)),
				str(m.probe_network_name) ? " (" + m.probe_network_name + ")" : "",
				input ? [" · ", el("a", { href: W.targetUrl(input, { cc: str(m.probe_cc), asn: str(m.probe_asn) }) },
					"this target on this network")] : null]],
			["Started", [W.timeNode(str(m.measurement_start_time) ? str(m.measurement_start_time).replace(" ", "T") + "Z" : ""),
				num(m.test_runtime) !== null ? ", took " + m.test_runtime.toFixed(2) + " s" : ""]],
			["Measured by", [str(m.software_name) || "?", " ", str(m.software_version),
				", test ", el("code", null, str(m.test_name) || "?"), " ", str(m.test_version),
				ooni ? el("span", { class: "m-source" }, " — OONI Probe's measurement") : null]],
			str(tk.resolver) || str(tk.client_resolver) ? ["Resolver", el("code", null, str(tk.resolver) || str(tk.client_resolver))] : null,
			["Measurement", el("code", { class: "m-uid" }, uid)]
		]));

		add(box, el("h3", null, "Verdict"));
		if (row) {
			c = str(row["class"]);
			box.appendChild(kv([
				["Outcome", [el("span", { class: "badge o-" + c, id: "verdict-badge", "data-class": c },
					W.OUTCOME_NAMES[c] || c || "?"), " ",
				el("span", { class: "m-verdict-words" }, verdictWords(row)),
				str(row.blocking_detail) ? [" (", el("code", null, row.blocking_detail), ")"] : null], "m-row-verdict"],
				["Rule", reasonNode(str(row.analysis_reason)), "m-row-rule"],
				["Confirmed", [W.confirmedCell(row),
					typeof row.evidence_detail === "string" && row.evidence_detail
						? el("div", { class: "ev-detail" }, row.evidence_detail) : null], "m-row-confirmed"],
				W.evidenceNames(row).length ? ["Packet evidence", el("code", { class: "ev-names" }, W.evidenceNames(row).join(", "))] : null,
				["Analysis", "rules version " + (str(row.analysis_version) || "?") + ", as the collector stored it" +
					(row.geo_mismatch ? "; ⚠ the submitter's address maps to " + W.netLabel(str(row.observed_cc), str(row.observed_asn)) : "")]
			]));
			/* where the walk decided: the measurement's own analysis,
			 * when it gave the same reason */
			if (str(an.reason) && an.reason === row.analysis_reason && num(an.hop) !== null)
				add(box, el("p", { class: "note m-hop" }, "Decided at hop " + an.hop +
					(str(an.hop_url) ? " (" : ""), str(an.hop_url) ? el("code", null, an.hop_url) : null,
					str(an.hop_url) ? ")." : "."));
		} else {
			add(box, el("p", { class: "note", id: "no-row" },
				"The collector has no verdict row for this measurement (the read API did not list it)."));
		}
		/* what the measurement itself says: the probe's analysis, or
		 * OONI's own verdict */
		if (has(tk, "blocking") || has(tk, "accessible")) {
			own = (ooni ? "OONI's own verdict" : "The probe's own verdict") + ": blocking " +
				verdictValue(tk.blocking) + ", accessible " + verdictValue(tk.accessible) +
				(str(an.reason) ? ", reason " + an.reason : "") +
				(str(an.version) ? " (rules version " + an.version + ")" : "") + ".";
			add(box, el("p", { class: "note m-own" }, own));
		}
	}

	/* --- DNS ------------------------------------------------------------ */

	function answerNodes(q, ctlAddrs, ctl) {
		var ans = arr(q.answers);

		if (!ans.length)
			return null;
		return ans.map(function (a, i) {
			var v = str(a.ipv4) || str(a.ipv6), t = str(a.answer_type);
			var note = [];

			if (!v && t === "CNAME")
				return [i ? ", " : "", el("span", { class: "cname" }, "CNAME " + str(a.hostname))];
			if (!v)
				return [i ? ", " : "", t || "?"];
			if (ctlAddrs && ctlAddrs.indexOf(v) < 0)
				note.push("not in the control's answer");
			if (ctl && ipInfo(ctl, v))
				note.push(ipInfo(ctl, v));
			if (num(a.asn) !== null && a.asn > 0)
				note.push("AS" + a.asn + (str(a.as_org_name) ? " " + a.as_org_name : ""));
			return [i ? ", " : "", el("span", {
				class: "addr" + (ctlAddrs && ctlAddrs.indexOf(v) < 0 ? " not-ctl" : ctlAddrs ? " ctl-too" : "")
			}, v), note.length ? el("span", { class: "addr-note" }, " (" + note.join("; ") + ")") : null];
		});
	}

	function resolverText(q) {
		var e = str(q.engine), a = str(q.resolver_address);

		if (e === "getaddrinfo" || e === "system")
			return "system (" + e + ")";
		return (a || "?") + (e ? " (" + e + ")" : "");
	}

	function ctlDnsNode(d) {
		var addrs;

		if (!d)
			return el("span", { class: "none" }, "no lookup of this name");
		addrs = strs(d.addrs);
		return [addrs.length ? el("span", { class: "ctl-addrs" }, addrs.join(", "))
			: el("span", { class: "none" }, "no address"),
		failureNode(d.failure) ? [" ", failureNode(d.failure)] : null];
	}

	function drawDns(box, m) {
		var tk = obj(m.test_keys), ctl = obj(tk.control), hasCtl = isObj(tk.control);
		var qs = arr(tk.queries), hosts = [], by = {}, inputHost = W.hostOf(str(m.input));

		if (!qs.length) {
			add(box, el("p", { class: "empty" }, Array.isArray(tk.queries)
				? "No DNS lookup (an IP address, or none was needed)." : "No DNS record in this measurement."));
			return;
		}
		qs.forEach(function (q) {
			var h = str(q.hostname) || "?";

			if (!by[h]) {
				by[h] = [];
				hosts.push(h);
			}
			by[h].push(q);
		});
		if (!hasCtl)
			add(box, el("p", { class: "note" }, "No control answer: there is nothing to compare these answers with" +
				(str(tk.control_failure) ? " (" + failureWords(tk.control_failure) + ")" : "") + "."));
		hosts.forEach(function (h) {
			var d = hasCtl ? ctlDns(ctl, h, inputHost) : null;
			var ctlAddrs = d ? strs(d.addrs) : null, cap = capped(by[h], "lookups");

			box.appendChild(el("div", { class: "m-dns-host", "data-host": h },
				el("h3", null, el("code", null, h)),
				table("dns-answers", ["Resolver", "Type", "This probe's answer", "Failure", "Time", "Hop",
					"The control's answer (from outside)"],
				cap.rows.map(function (q, i) {
					var a = answerNodes(q, ctlAddrs, hasCtl ? ctl : null);

					return el("tr", { class: "dns-q" + (q.failure ? " failed" : "") },
						el("td", { class: "resolver" }, resolverText(q)),
						el("td", null, str(q.query_type) || "?"),
						el("td", { class: "answer" }, a || el("span", { class: "none" },
							Array.isArray(q.answers) ? "no address" : "—")),
						el("td", null, failureNode(q.failure, q.failure_detail) ||
							(str(q.rcode_name) && q.rcode_name !== "NOERROR" ? q.rcode_name : "—")),
						el("td", null, dur(q)),
						el("td", null, W.numText(q.hop)),
						i === 0 ? el("td", { class: "ctl", rowspan: cap.rows.length },
							hasCtl ? ctlDnsNode(d) : el("span", { class: "none" }, "no control")) : null);
				})), cap.note));
		});
		/* OONI: answers that came after the first to the same query */
		if (arr(tk.x_dns_duplicate_responses).length)
			box.appendChild(el("div", { class: "m-dns-dups" },
				el("h3", null, "Later answers to the same queries (OONI's x_dns_duplicate_responses)"),
				table("dns-dups", ["Name", "Resolver", "Type", "Answer", "Failure"],
					capped(arr(tk.x_dns_duplicate_responses), "answers").rows.map(function (q) {
						return el("tr", null, el("td", null, el("code", null, str(q.hostname) || "?")),
							el("td", null, resolverText(q)), el("td", null, str(q.query_type) || "?"),
							el("td", null, answerNodes(q, null, null) || "—"),
							el("td", null, failureNode(q.failure) || "—"));
					}))));
	}

	/* --- TCP -------------------------------------------------------------- */

	function ctlStatusNode(e) {
		if (!e)
			return el("span", { class: "none" }, "not tried");
		if (e.status === true)
			return okNode("connected");
		return failureNode(e.failure) || el("span", { class: "m-fail" }, "failed");
	}

	function drawTcp(box, m) {
		var tk = obj(m.test_keys), ctl = obj(tk.control), hasCtl = isObj(tk.control);
		var cs = arr(tk.tcp_connect), cap = capped(cs, "connects");

		if (!cs.length) {
			add(box, el("p", { class: "empty" }, "No TCP connect recorded."));
			return;
		}
		box.appendChild(table("tcp", ["Address", "Hop", "Result", "Time", "Flow", "The control (from outside)"],
			cap.rows.map(function (c) {
				var st = obj(c.status), ep = endpoint(c.ip, c.port);

				return el("tr", { class: "tcp-c" + (st.success === true ? " ok" : " failed") },
					el("td", null, el("code", null, ep || "?")),
					el("td", null, W.numText(c.hop)),
					el("td", { class: "result" }, st.success === true ? okNode("connected")
						: failureNode(st.failure, st.failure_detail) || el("span", { class: "none" }, "—")),
					el("td", null, dur(c)),
					el("td", null, W.numText(c.flow)),
					el("td", { class: "ctl" }, hasCtl ? ctlStatusNode(ctlEntry(ctl, "tcp_connect", ep))
						: el("span", { class: "none" }, "no control")));
			})));
		add(box, cap.note);
	}

	/* --- TLS -------------------------------------------------------------- */

	function certList(certs) {
		var cs = Array.isArray(certs) ? certs.filter(isObj) : [];

		if (!cs.length)
			return el("span", { class: "none" }, certs === null || certs === undefined ? "none recorded" : "no certificate");
		return el("ol", { class: "chain" }, cs.slice(0, 10).map(function (c) {
			var d = el("details", { class: "cert" },
				el("summary", null, str(c.subject) || "certificate",
					str(c.issuer) ? el("span", { class: "issuer" }, " — issued by " + c.issuer) : null),
				kv([
					strs(c.sans).length ? ["Names", longText(strs(c.sans).join(", "))] : null,
					str(c.not_before) || str(c.not_after) ? ["Valid", str(c.not_before) + " to " + str(c.not_after)] : null,
					str(c.sha256) ? ["SHA-256", el("code", null, c.sha256)] : null,
					str(c.data) ? ["DER (base64)", longText(c.data, 120, "b64")] : null
				]));

			return el("li", null, d);
		}));
	}

	/* the handshake's result in words; the neutral SNI's certificate is
	 * the site's, not the neutral name's: that it does not verify for
	 * the name is expected */
	function tlsResult(h, role) {
		if (h.handshake_done === true && h.verified === true)
			return okNode("completed, verified");
		if (h.handshake_done === true && role === "control")
			return [okNode("completed"), el("span", {
				class: "none", title: str(h.failure) + (str(h.verify_error) ? " (" + h.verify_error + ")" : "")
			}, " (the certificate is not for the neutral name, as expected)")];
		if (h.handshake_done === true)
			return [okNode("completed"), ", ", failureNode(h.failure, h.failure_detail) ||
				el("span", { class: "m-fail" }, "not verified" + (str(h.verify_error) ? ": " + h.verify_error : ""))];
		if (typeof h.failure === "string" && h.failure)
			return failureNode(h.failure, h.failure_detail);
		/* OONI: no handshake_done; a null failure is a success */
		return has(h, "failure") ? okNode("completed") : el("span", { class: "none" }, "—");
	}

	function ctlTlsNode(e) {
		if (!e)
			return el("span", { class: "none" }, "no handshake there");
		return [str(e.server_name) ? el("div", null, "SNI ", el("code", null, e.server_name)) : null,
			e.status === true ? okNode(e.verified === false ? "completed, not verified" : e.verified === true ? "completed, verified" : "completed")
				: failureNode(e.failure) || el("span", { class: "m-fail" }, "failed"),
			str(e.verify_error) ? el("div", { class: "sub" }, e.verify_error) : null,
			str(e.leaf_sha256) ? el("div", { class: "sub" }, "leaf ", el("code", null, e.leaf_sha256.slice(0, 16) + "…")) : null];
	}

	function roleOf(h, hostOfHop) {
		if (h.sni_role === "control" || h.sni_role === "target")
			return h.sni_role;
		/* no sni_role (OONI): the hop's host is the target's */
		return str(h.server_name) && str(h.server_name).toLowerCase() === hostOfHop ? "target" : "other";
	}

	function drawTls(box, m) {
		var tk = obj(m.test_keys), ctl = obj(tk.control), hasCtl = isObj(tk.control);
		var hs = capped(arr(tk.tls_handshakes), "handshakes"), groups = [], by = {};
		var inputHost = W.hostOf(str(m.input));
		var ROWS = [
			["SNI sent", function (h) { return str(h.server_name) ? el("code", { class: "sni" }, h.server_name) : el("span", { class: "none" }, "none"); }],
			["Result", function (h) { return tlsResult(h, roleOf(h, inputHost)); }],
			["Version", function (h) { return str(h.tls_version) || "—"; }],
			["Cipher", function (h) { return str(h.cipher_suite) || "—"; }],
			["ALPN", function (h) { return str(h.negotiated_protocol) || "—"; }],
			["Chain (leaf first)", function (h) { return certList(h.peer_certificates); }],
			["Time", dur]
		];

		if (!hs.rows.length) {
			add(box, el("p", { class: "empty" }, "No TLS handshake (not an https or tls target, or no address connected)."));
			return;
		}
		if (str(tk.control_sni))
			add(box, el("p", { class: "note" }, "On each address, a handshake with the neutral SNI ",
				el("code", null, tk.control_sni), " first, then one with the target's name: a filter that looks at the SNI lets the first through."));
		if (!hs.rows.some(function (h) { return roleOf(h, inputHost) === "control"; }))
			add(box, el("p", { class: "note", id: "no-neutral" }, "No handshake with a neutral SNI" +
				(isOoni(m) ? " (OONI's probes make none)" : "") +
				": whether a failure was caused by the name or by the address cannot be told from the probe's side alone."));
		hs.rows.forEach(function (h) {
			var ep = str(h.address) || endpoint(h.ip, h.port), k = ep + " " + W.numText(h.hop);

			if (!by[k]) {
				by[k] = { ep: ep, hop: h.hop, hs: [] };
				groups.push(by[k]);
			}
			by[k].hs.push(h);
		});
		groups.forEach(function (g) {
			var cols = g.hs.slice().sort(function (a, b) {
				var o = { control: 0, target: 1, other: 2 };

				return o[roleOf(a, inputHost)] - o[roleOf(b, inputHost)];
			});
			var ce = hasCtl ? ctlEntry(ctl, "tls_handshake", g.ep) : null;
			var heads = [""].concat(cols.map(function (h) {
				var r = roleOf(h, inputHost);

				return r === "control" ? "Neutral SNI" : r === "target" ? "Target SNI" : "Handshake";
			}), [hasCtl ? "The control (from outside)" : ""]);

			box.appendChild(el("div", { class: "m-tls-addr", "data-address": g.ep },
				el("h3", null, "Address ", el("code", null, g.ep || "?"), num(g.hop) !== null ? " · hop " + g.hop : ""),
				table("tls", heads, ROWS.map(function (row, i) {
					return el("tr", { class: "tls-" + row[0].split(" ")[0].toLowerCase() },
						el("th", { scope: "row" }, row[0]),
						cols.map(function (h) {
							var failed = i === 1 && typeof h.failure === "string" && h.failure && h.handshake_done !== true;

							return el("td", { class: "role-" + roleOf(h, inputHost) + (failed ? " failed" : "") }, row[1](h));
						}),
						i === 0 ? el("td", { class: "ctl", rowspan: ROWS.length },
							hasCtl ? ctlTlsNode(ce) : "") : null);
				}))));
		});
		add(box, hs.note);
	}

	/* --- HTTP ------------------------------------------------------------- */

	function headerPairs(resp) {
		var out = [];

		if (Array.isArray(resp.headers_list))
			resp.headers_list.forEach(function (p) {
				if (Array.isArray(p) && typeof p[0] === "string")
					out.push([p[0], typeof p[1] === "string" ? p[1] : p.length < 2 ? "" : JSON.stringify(p[1])]);
			});
		else
			Object.keys(obj(resp.headers)).forEach(function (k) {
				var v = resp.headers[k];

				out.push([k, typeof v === "string" ? v : Array.isArray(v) ? strs(v).join(", ") : String(JSON.stringify(v))]);
			});
		return out;
	}

	function notedHeaders(pairs) {
		var n = pairs.filter(function (p) {
			return NOTE_HEADERS.indexOf(p[0].toLowerCase()) >= 0;
		});

		if (!n.length)
			return el("span", { class: "none" }, "—");
		return el("ul", { class: "hdrs" }, n.slice(0, 16).map(function (p) {
			return el("li", null, el("code", null, p[0]), ": ", longText(p[1], 160));
		}));
	}

	/* the page's title: ours records it; OONI's is read from the body */
	function titleOf(resp) {
		var t, b = resp.body;

		if (typeof resp.title === "string")
			return resp.title;
		if (typeof b !== "string")
			return null;
		t = /<title[^>]*>([\s\S]{0,1024}?)<\/title>/i.exec(b);
		return t ? t[1].replace(/\s+/g, " ").trim() : null;
	}

	function bodySize(resp) {
		if (num(resp.body_length) !== null)
			return bytesText(resp.body_length) + (resp.body_download_capped ? " (download capped)" : "");
		if (typeof resp.body === "string")
			return "at least " + W.plural(resp.body.length, "character") + " (as recorded)" +
				(resp.body_is_truncated ? ", cut" : "");
		return "—";
	}

	function bodyNode(resp) {
		var b = resp.body;

		if (isObj(b) && str(b.data))
			return el("pre", { class: "body" }, longText("(base64) " + b.data, SHOW_CHARS));
		if (typeof b !== "string" || !b)
			return el("span", { class: "none" }, "empty");
		return el("details", { class: "body" },
			el("summary", null, "the body as recorded (" + W.plural(b.length, "character") + ")"),
			el("pre", null, longText(b, 4096)));
	}

	function statusNode(code) {
		if (num(code) === null || code <= 0)
			return el("span", { class: "none" }, "no response");
		return el("span", { class: "status s" + String(code).charAt(0) + "xx" }, String(code));
	}

	function drawHttp(box, m) {
		var tk = obj(m.test_keys), ctl = obj(tk.control), hasCtl = isObj(tk.control);
		var rs = arr(tk.requests), anyHop, hops;

		if (!rs.length) {
			add(box, el("p", { class: "empty" }, "No HTTP request (an endpoint, or the steps before it failed)."));
			if (isObj(ctl.http_request))
				box.appendChild(el("div", { class: "m-hop m-ctl-only" }, el("h3", null, "The control's final page (from outside)"),
					table("http", ["", "The control"], [
						el("tr", { class: "http-status" }, el("th", { scope: "row" }, "Status"),
							el("td", { class: "ctl" }, statusNode(ctl.http_request.status_code),
								ctl.http_request.failure ? [" ", failureNode(ctl.http_request.failure)] : null)),
						el("tr", { class: "http-title" }, el("th", { scope: "row" }, "Title"),
							el("td", { class: "ctl" }, str(ctl.http_request.title) ? longText(ctl.http_request.title, 200) : "—")),
						el("tr", { class: "http-size" }, el("th", { scope: "row" }, "Body"),
							el("td", { class: "ctl" }, bytesText(ctl.http_request.body_length)))
					])));
			return;
		}
		/* requests are newest first; a hop's number from its record, else
		 * its position from the end */
		anyHop = rs.some(function (r) { return num(r.hop) !== null; });
		hops = rs.map(function (r, i) {
			return { r: r, k: anyHop ? (num(r.hop) !== null ? r.hop : -1) : rs.length - 1 - i };
		}).sort(function (a, b) { return a.k - b.k; });
		hops = capped(hops, "requests");
		if (hops.rows.length > 1)
			add(box, el("p", { class: "note" }, W.plural(hops.rows.length, "hop") + ", the input first."));
		hops.rows.forEach(function (h, i) {
			var r = h.r, rq = obj(r.request), resp = obj(r.response), got = isObj(r.response);
			var u = str(rq.url), last = i === hops.rows.length - 1;
			var cf = hasCtl ? ctlFetch(ctl, u, h.k, last) : null, c = cf ? obj(cf.r) : null;
			var pairs = headerPairs(resp), tr = obj(r.transfer);
			var ctlTd = function (f) {
				return el("td", { class: "ctl" }, c ? f(c) : "");
			};

			box.appendChild(el("div", { class: "m-hop", "data-hop": String(h.k) },
				el("h3", null, "Hop " + (h.k >= 0 ? h.k : "?") + " ", el("code", { class: "hop-url" }, longText(u || "?", 200)),
					last ? el("span", { class: "sub" }, " (the final one)") : null),
				table("http", ["", "This probe", hasCtl ? "The control (from outside)" + (cf ? ": " + cf.how : ": no fetch to compare") : ""], [
					el("tr", { class: "http-status" }, el("th", { scope: "row" }, "Status"),
						el("td", { class: "probe" }, got ? statusNode(resp.code) : el("span", { class: "none" }, "no response"),
							str(resp.http_version) ? " HTTP/" + resp.http_version : "",
							r.failure ? [" ", failureNode(r.failure, r.failure_detail)] : null),
						ctlTd(function (c) {
							return [statusNode(c.status_code), c.failure ? [" ", failureNode(c.failure)] : null];
						})),
					el("tr", { class: "http-title" }, el("th", { scope: "row" }, "Title"),
						el("td", { class: "probe" }, got && titleOf(resp) !== null ? longText(titleOf(resp), 200) : el("span", { class: "none" }, "—")),
						ctlTd(function (c) {
							return str(c.title) ? longText(c.title, 200) : el("span", { class: "none" }, "—");
						})),
					el("tr", { class: "http-size" }, el("th", { scope: "row" }, "Body"),
						el("td", { class: "probe" }, got ? bodySize(resp) : "—"),
						ctlTd(function (c) { return bytesText(c.body_length); })),
					got && str(resp.location) ? el("tr", { class: "http-location" }, el("th", { scope: "row" }, "Redirects to"),
						el("td", { class: "probe" }, el("code", null, longText(resp.location, 200))),
						ctlTd(function (c) { return str(c.location) ? el("code", null, longText(c.location, 200)) : "—"; })) : null,
					el("tr", { class: "http-headers" }, el("th", { scope: "row" }, "Headers of note"),
						el("td", { class: "probe" }, got ? notedHeaders(pairs) : "—"),
						ctlTd(function (c) { return notedHeaders(headerPairs({ headers: c.headers })); })),
					el("tr", { class: "http-via" }, el("th", { scope: "row" }, "Went to"),
						el("td", { class: "probe" }, str(r.address) ? el("code", null, r.address) : "—", ", ", dur(r),
							num(tr.bytes) !== null ? ", " + bytesText(tr.bytes) + " received" : "",
							num(tr.rate) !== null ? " at " + bytesText(tr.rate) + "/s" : "",
							num(tr.wire_bytes) !== null ? " (" + bytesText(tr.wire_bytes) + " on the wire)" : ""),
						ctlTd(function () { return ""; })),
					got ? el("tr", { class: "http-body" }, el("th", { scope: "row" }, "Page"),
						el("td", { class: "probe", colspan: 2 }, bodyNode(resp))) : null
				])));
		});
		add(box, hops.note);
		if (hasCtl && !ctlHops(ctl).length && isObj(ctl.http_request))
			add(box, el("p", { class: "note" }, "The control gave its final page only (no hops): it is shown beside the probe's final hop."));
	}

	/* --- VPN and QUIC exchanges ------------------------------------------------------ */

	function drawExchanges(box, m) {
		var tk = obj(m.test_keys), ctl = obj(tk.control), xs = capped(arr(tk.exchanges), "exchanges");
		var seen = {};

		box.appendChild(table("exchanges", ["Endpoint", "Protocol", "Sent", "Answer", "Stage", "Failure", "Time", "The control (from outside)"],
			xs.rows.map(function (x) {
				var ep = str(x.endpoint) || endpoint(x.ip, x.port);
				var n = seen[ep] = (seen[ep] || 0) + 1;
				var cx = arr(obj(ctl.exchanges)[ep]).filter(function (e) {
					return e.payload === x.payload;
				})[0] || arr(obj(ctl.exchanges)[ep])[n - 1];
				var reps = arr(x.replies);

				return el("tr", { class: "xchg" + (x.answered === true ? " answered" : " silent") },
					el("td", null, el("code", null, ep || "?"), " ", str(x.transport)),
					el("td", null, str(x.protocol), " ", el("code", null, str(x.payload) || "?"),
						str(x.server_name) ? [" SNI ", el("code", null, x.server_name)] : null),
					el("td", null, (num(x.sent) !== null ? W.plural(x.sent, "packet") : "—") +
						(num(x.bytes_sent) !== null ? ", " + bytesText(x.bytes_sent) : "") +
						(x.connected === true ? ", connected" : x.connected === false ? ", not connected" : "")),
					el("td", null, x.answered === true ? okNode("answered") : el("span", { class: "m-fail" }, "no answer"),
						reps.length ? el("ul", { class: "replies" }, reps.slice(0, 8).map(function (p) {
							return el("li", null, (str(p.kind) || "not of the protocol") +
								(num(p.length) !== null ? ", " + bytesText(p.length) : "") +
								(p.ours === true ? ", ours" : ""), str(p.note) ? [" — ", longText(p.note, 160)] : null);
						})) : null),
					el("td", null, str(x.stage) || "—"),
					el("td", null, failureNode(x.failure, x.failure_detail) || "—"),
					el("td", null, dur(x)),
					el("td", { class: "ctl" }, cx ? [cx.answered === true ? okNode("answered") : el("span", { class: "m-fail" }, "no answer"),
						str(cx.stage) ? " (" + cx.stage + ")" : "", cx.failure ? [" ", failureNode(cx.failure)] : null]
						: el("span", { class: "none" }, isObj(tk.control) ? "not made there" : "no control")));
			})));
		add(box, xs.note);
	}

	/* --- packets ---------------------------------------------------------------------- */

	function drawPacketsPart(box, m, row, uid) {
		var tk = obj(m.test_keys);

		if (!has(tk, "packets")) {
			add(box, el("p", { class: "empty" }, isOoni(m)
				? "No packet record: OONI's probes do not record packets (later DNS answers, if any, are under DNS)."
				: "No packet record: the probe did not record packets (an older probe)."));
			return;
		}
		W.part(box, W.getJSON(W.rawUrl(uid) + "/packets"), function (r) {
			W.drawPackets(box, row || {}, r);
		});
	}

	/* --- raw JSON ---------------------------------------------------------------------- */

	function drawRaw(box, m, uid) {
		var d = el("details", { class: "m-raw", id: "raw-json" },
			el("summary", null, "Show the raw JSON here (pretty-printed)"));
		var done = false;

		add(box, el("p", null, el("a", { href: W.rawUrl(uid), class: "raw-link", id: "raw-link" }, "The raw measurement (JSON)"),
			", exactly as the probe sent it · ",
			el("a", { href: W.rawUrl(uid), download: uid + ".json" }, "download it")));
		function fill() {
			var text;

			if (done)
				return;
			done = true;
			/* a measurement's probe_ip is never shown (OONI's
			 * probes write 127.0.0.1 there, ours too); the raw link
			 * above serves the bytes unchanged */
			text = JSON.stringify(m, function (k, v) {
				return this === m && k === "probe_ip" ? undefined : v;
			}, 2);
			d.appendChild(el("p", { class: "note" }, "As stored, keys in their order, probe_ip left out."));
			d.appendChild(el("pre", { class: "raw-json" }, longText(text, RAW_CHARS)));
		}
		d.addEventListener("toggle", function () {
			if (d.open)
				fill();
		});
		if (W.param("raw") === "1") {
			d.setAttribute("open", "");
			fill();
		}
		box.appendChild(d);
	}

	/* --- the page ---------------------------------------------------------------------- */

	/* Each section drawn on its own: a field that still throws spoils
	 * only its section, which says so. */
	function sectionOf(titleText, id, draw) {
		var body = W.section(titleText, id);

		clear(body);
		try {
			draw(body);
		} catch (e) {
			W.failed(body, e);
			document.documentElement.setAttribute("data-error", "true");
			if (window.console)
				console.error(e);
		}
	}

	function render() {
		var uid = W.param("uid"), head = el("p", { class: "meta" }), rawP, body;

		document.body.setAttribute("data-page", "measurement");
		if (!uid) {
			W.title("Measurement");
			document.getElementById("app").appendChild(el("form", { action: "/measurement", method: "get", class: "filters" },
				el("label", { class: "filter" }, "Measurement uid ",
					el("input", { name: "uid", type: "text", size: 60, spellcheck: "false" })),
				el("button", { type: "submit" }, "Show")));
			document.documentElement.setAttribute("data-ready", "true");
			return;
		}
		W.title("Measurement", head);
		add(head, ["The evidence of one measurement, in words. ",
			el("a", { href: W.rawUrl(uid), class: "raw-link" }, "Raw JSON")]);
		body = W.section("Summary", "summary");
		/* the raw measurement, then the collector's verdict row */
		rawP = W.getJSON(W.rawUrl(uid)).then(function (m) {
			if (!isObj(m))
				throw new Error("the stored measurement is not a JSON object");
			return findRow(m, uid).then(function (row) { return [m, row]; });
		});
		W.part(body, rawP, function (both) {
			var m = both[0], row = both[1], tk = obj(m.test_keys);

			document.title = "Measurement of " + (str(m.input) || uid) + " — Wallwatch";
			drawSummary(body, m, row, uid);
			sectionOf("DNS", "dns", function (b) { drawDns(b, m); });
			if (Array.isArray(tk.exchanges))
				sectionOf("VPN and QUIC exchanges", "exchanges", function (b) { drawExchanges(b, m); });
			else
				sectionOf("TCP connections", "tcp", function (b) { drawTcp(b, m); });
			if (Array.isArray(tk.exchanges) && arr(tk.tcp_connect).length)
				sectionOf("TCP connections", "tcp", function (b) { drawTcp(b, m); });
			sectionOf("TLS handshakes", "tls", function (b) { drawTls(b, m); });
			sectionOf("HTTP", "http", function (b) { drawHttp(b, m); });
			sectionOf("Packet evidence", "packets", function (b) { drawPacketsPart(b, m, row, uid); });
			sectionOf("Raw JSON", "raw", function (b) { drawRaw(b, m, uid); });
		});
	}

	window.WallwatchPages = window.WallwatchPages || {};
	window.WallwatchPages.measurement = function () { render(); };
})();
