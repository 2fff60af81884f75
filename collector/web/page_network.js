/*
 * page_network.js - one network: /network?cc=CN&asn=AS4134 (issue 16;
 * docs/web-view.md, "Network pages"). What is blocked on it, by method
 * and since when, its targets grouped by state (and the blocked ones by
 * method) with links to each target's page, and its latest changes.
 * ?source=ooni|wallwatch keeps the targets OONI's probes (or ours)
 * measured ("Measured by"; docs/ooni-data.md, "Source"), kept in the URL
 * and in the links to the country's page and to "What changed". Drawn
 * with app.js's helpers (window.Wallwatch): everything from the data, the
 * network's name included, is set as text only.
 */
(function () {
	"use strict";

	window.WallwatchPages = window.WallwatchPages || {};

	/* A network's summary: {targets, blocked, ..., methods, network_name}
	 * from /api/v1/networks?cc=&asn=; null when it has no target. */
	function summaryOf(r, asn) {
		var nets = r && Array.isArray(r.networks) ? r.networks : [];

		return nets.filter(function (n) { return n && n.probe_asn === asn; })[0] || null;
	}

	function num(o, k) {
		return o && typeof o[k] === "number" ? o[k] : 0;
	}

	/* "2 blocked, 1 disrupted, ..." with the states' badges. */
	function stateCounts(W, n) {
		var parts = [];

		W.STATES.forEach(function (s) {
			if (num(n, s) > 0)
				parts.push([parts.length ? ", " : "",
					W.el("span", { class: "badge state-" + s, "data-state": s, title: W.STATE_HELP[s] }, String(num(n, s))),
					" " + s]);
		});
		return parts;
	}

	/* The blocked targets by method, each in its outcome's colour. */
	function methodList(W, methods) {
		var keys = Object.keys(methods || {}).filter(function (m) {
			return typeof methods[m] === "number" && methods[m] > 0;
		}).sort(function (a, b) { return methods[b] - methods[a] || W.cmp(a, b); });

		if (!keys.length)
			return null;
		return W.el("ul", { class: "methods", "aria-label": "Blocked targets by method" },
			keys.map(function (m) {
				return W.el("li", { "data-method": m },
					W.el("span", { class: "swatch o-" + m }),
					W.methodName(m) + ": ", W.el("strong", null, String(methods[m])));
			}));
	}

	/* whose measurements: OONI's, ours, or both (docs/ooni-data.md) */
	function sourceSelect(W, current) {
		return W.select("source", "Measured by", current, [["ooni", "OONI"], ["wallwatch", "Wallwatch"]]);
	}

	function targetLink(W, t, cc, asn) {
		return W.el("a", { href: W.targetUrl(t.input, { cc: cc, asn: asn }), class: "target-link" },
			t.input || "(no input)");
	}

	/* A table of targets in one state (or one method of blocked). */
	function group(W, heading, rows, cc, asn, attrs) {
		var tbl = W.el("table", { class: "targets net-group" },
			W.el("thead", null, W.el("tr", null,
				["Target", "Category", "Since", "Blocked, 30 days", "Last tested"].map(function (h) {
					return W.el("th", { scope: "col" }, h);
				}))),
			W.el("tbody", null, rows.map(function (t) {
				var p = t.pct_blocked_30;

				return W.el("tr", { class: "row", "data-input": t.input, "data-state": t.state },
					W.el("td", { class: "target" }, targetLink(W, t, cc, asn)),
					W.el("td", { class: "category", title: W.CATEGORIES[t.category_code] || null },
						t.category_code || "—"),
					W.el("td", { class: "since" }, W.timeNode(t.since, true)),
					W.el("td", { class: "pct" }, typeof p === "number" ? Math.round(p * 100) + "%" : "—"),
					W.el("td", { class: "last" }, W.timeNode(t.last_tested)));
			})));

		return W.el("div", Object.assign({ class: "net-state" }, attrs || {}),
			W.el("h3", null, heading, " ", W.el("span", { class: "count" }, "(" + rows.length + ")")), tbl);
	}

	function byInput(W) {
		return function (a, b) { return W.cmp(a.input || "", b.input || ""); };
	}

	/* Blocked first, one group per method (the most targets first), then
	 * the other states, the accessible ones folded. */
	function drawTargets(W, box, rows, cc, asn) {
		var by = {}, methods = {};

		if (!rows.length) {
			W.add(box, W.el("p", { class: "empty" }, "No target has been measured on this network."));
			return;
		}
		rows.forEach(function (t) {
			var s = W.STATES.indexOf(t.state) >= 0 ? t.state : "unknown";

			(by[s] = by[s] || []).push(t);
			if (s === "blocked")
				(methods[t.method || ""] = methods[t.method || ""] || []).push(t);
		});
		Object.keys(methods).sort(function (a, b) {
			return methods[b].length - methods[a].length || W.cmp(a, b);
		}).forEach(function (m) {
			box.appendChild(group(W, m ? "Blocked " + W.methodPhrase(m) : "Blocked",
				methods[m].sort(byInput(W)), cc, asn, { "data-state": "blocked", "data-method": m }));
		});
		W.STATES.forEach(function (s) {
			var g;

			if (s === "blocked" || !by[s])
				return;
			g = group(W, s.charAt(0).toUpperCase() + s.slice(1), by[s].sort(byInput(W)), cc, asn,
				{ "data-state": s });
			if (s === "accessible" && by[s].length > 20) {
				box.appendChild(W.el("details", { class: "net-fold" },
					W.el("summary", null, "Accessible (" + by[s].length + ")"), g));
				return;
			}
			box.appendChild(g);
		});
	}

	function changeItem(W, e) {
		return W.el("li", { "data-to": e.to },
			W.el("a", { href: W.targetUrl(e.input, { cc: e.probe_cc, asn: e.probe_asn }), class: "target-link" },
				e.input || "(no input)"),
			" — ", W.stateBadge(e.to, e.method), " ",
			W.el("span", { class: "ev-when" }, "since " + W.fmtTime(e.time) +
				(e.from ? " (was " + e.from + ")" : "")));
	}

	function askForm(W) {
		var f = W.el("form", { class: "filters", method: "get", action: "/network" },
			W.el("label", { class: "filter" }, "Country ",
				W.el("input", { name: "cc", value: W.param("cc"), placeholder: "CN", size: 3, maxlength: 2 })),
			W.el("label", { class: "filter" }, "Network ",
				W.el("input", { name: "asn", value: W.param("asn"), placeholder: "AS4134", size: 10 })),
			sourceSelect(W, W.param("source")),
			W.el("button", { type: "submit" }, "Show"));

		W.title("Network");
		W.app.appendChild(W.el("p", { class: "lead" },
			"A network is a country and an AS number (e.g. CN and AS4134); every network cell of the ",
			W.el("a", { href: "/" }, "overview"), " leads here."));
		W.app.appendChild(f);
		document.documentElement.setAttribute("data-ready", "true");
	}

	/* The source chosen, a new page (back and bookmarks work). */
	function sourceForm(W, cc, asn, source) {
		var f = W.el("form", { class: "filters", id: "filters", method: "get", action: "/network" },
			W.el("input", { type: "hidden", name: "cc", value: cc }),
			W.el("input", { type: "hidden", name: "asn", value: asn }),
			sourceSelect(W, source),
			W.el("button", { type: "submit" }, "Show"));

		f.querySelector("select").addEventListener("change", function () {
			location.assign(W.url("/network", { cc: cc, asn: asn, source: f.elements.source.value }));
		});
		return f;
	}

	window.WallwatchPages.network = function (W) {
		var cc = W.param("cc").toUpperCase(), asn = W.param("asn").toUpperCase();
		var source = W.param("source");
		var head, name, summary, targets, changes;

		if (!cc || !asn) {
			askForm(W);
			return;
		}
		name = W.el("span", { class: "netname", id: "network-name" });
		W.title(asn + " · " + cc, W.el("p", { class: "lead" },
			name, " ",
			W.el("a", { href: W.url("/country", { cc: cc, source: source }), id: "country-link" },
				"all networks of " + cc + " side by side"),
			" · ",
			W.el("a", { href: W.url("/changes", { cc: cc, asn: asn, source: source }), id: "changes-link" },
				"what changed here")));
		W.app.appendChild(sourceForm(W, cc, asn, source));
		head = W.el("div", { class: "net-summary", id: "net-summary" });
		W.app.appendChild(head);
		summary = head;
		targets = W.section("Targets by state", "net-targets");
		changes = W.section("Latest changes on this network", "net-changes");

		W.part(summary, W.getJSON(W.apiUrl("networks", { cc: cc, asn: asn, source: source })), function (r) {
			var n = summaryOf(r, asn);

			if (n && typeof n.network_name === "string") {
				W.add(name, n.network_name);
				document.title = asn + " " + n.network_name + " (" + cc + ") — Wallwatch";
			} else {
				W.add(name, "(no AS name: the collector has no --asn-db entry for it)");
				name.classList.add("none");
			}
			if (!n) {
				W.add(summary, W.el("p", { class: "empty" }, "Nothing has been measured on this network" +
					(source ? " by " + (source === "ooni" ? "OONI's probes" : "Wallwatch's probes") : "") + "."));
				return;
			}
			W.add(summary, [
				W.el("p", { class: "summary", id: "net-counts" },
					W.plural(num(n, "targets"), "target") + ": ", stateCounts(W, n),
					n.blocked_since ? [". Blocked since ", W.timeNode(n.blocked_since), " (the earliest)"] : null,
					n.last_tested ? ["; last tested ", W.timeNode(n.last_tested)] : null, "."),
				methodList(W, n.methods)
			]);
		});
		W.part(targets, W.allPages("targets", "targets", { cc: cc, asn: asn, source: source }, 20000), function (rows) {
			drawTargets(W, targets, rows, cc, asn);
		});
		W.part(changes, W.getJSON(W.apiUrl("changes", { cc: cc, asn: asn, source: source, limit: 20 })), function (r) {
			var evs = Array.isArray(r.events) ? r.events : [];

			if (!evs.length) {
				W.add(changes, W.el("p", { class: "empty" }, "No change of state yet."));
				return;
			}
			changes.appendChild(W.el("ul", { class: "events" }, evs.map(function (e) { return changeItem(W, e); })));
			if (r.next_cursor)
				changes.appendChild(W.el("p", null,
					W.el("a", { href: W.url("/changes", { cc: cc, asn: asn, source: source }) }, "All changes on this network")));
		});
	};
})();
