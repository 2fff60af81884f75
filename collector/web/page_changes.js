/*
 * page_changes.js - "What changed": /changes (issue 16; docs/web-view.md,
 * "Network pages"). The latest changes of state across all targets,
 * newest first, from GET /api/v1/changes: filters by country, network,
 * category, the state entered and whose measurements ("Measured by":
 * OONI's, ours or both; docs/ooni-data.md, "Source"), kept in the URL and
 * in the links to the networks' and countries' pages; older pages through
 * the answer's next_cursor (?cursor=, so that back and bookmarks work);
 * each change links to its target's page (that network kept), its
 * network's and its country's. Drawn with app.js's helpers
 * (window.Wallwatch), data set as text only.
 */
(function () {
	"use strict";

	window.WallwatchPages = window.WallwatchPages || {};

	var LIMIT = 50;

	function filters(W, f) {
		var form = W.el("form", { id: "filters", class: "filters", method: "get", action: "/changes" },
			W.el("label", { class: "filter" }, "Country ",
				W.el("input", { name: "cc", id: "f-cc", value: f.cc, placeholder: "CN", size: 3, maxlength: 2, spellcheck: "false" })),
			W.el("label", { class: "filter" }, "Network ",
				W.el("input", { name: "asn", id: "f-asn", value: f.asn, placeholder: "AS4134", size: 10, spellcheck: "false" })),
			W.select("category", "Category", f.category, Object.keys(W.CATEGORIES).sort().map(function (c) {
				return [c, c + " — " + W.CATEGORIES[c]];
			})),
			W.select("state", "Became", f.state, W.STATES.map(function (s) { return [s, s]; })),
			W.select("source", "Measured by", f.source, [["ooni", "OONI"], ["wallwatch", "Wallwatch"]]),
			W.el("button", { type: "submit" }, "Filter"), " ",
			W.el("a", { href: "/changes", class: "reset" }, "reset"));

		/* a new filter starts from the newest again (no cursor) */
		function go(e) {
			var v = {};

			if (e)
				e.preventDefault();
			["cc", "asn", "category", "state", "source"].forEach(function (k) {
				v[k] = form.elements[k].value.trim();
			});
			v.cc = v.cc.toUpperCase();
			v.asn = v.asn.toUpperCase();
			if (/^\d+$/.test(v.asn))
				v.asn = "AS" + v.asn;
			location.assign(W.url("/changes", v));
		}
		form.addEventListener("submit", go);
		Array.prototype.forEach.call(form.querySelectorAll("select"), function (s) {
			s.addEventListener("change", function () { go(null); });
		});
		return form;
	}

	function changeRow(W, e, source) {
		var uids = Array.isArray(e.measurements) ? e.measurements.filter(function (u) {
			return typeof u === "string";
		}) : [];
		var name = typeof e.network_name === "string" ? e.network_name : "";

		return W.el("tr", { class: "row change", "data-id": e.id, "data-to": e.to || "unknown", "data-input": e.input },
			W.el("td", { class: "when" }, W.timeNode(e.time)),
			W.el("td", { class: "target" },
				W.el("a", { href: W.targetUrl(e.input, { cc: e.probe_cc, asn: e.probe_asn }), class: "target-link" },
					e.input || "(no input)"),
				e.category_code ? W.el("div", { class: "sub", title: W.CATEGORIES[e.category_code] || null },
					e.category_code) : null),
			W.el("td", { class: "network" },
				W.el("a", { href: W.url("/country", { cc: e.probe_cc, source: source }), class: "cc-link" },
					e.probe_cc || "??"), " · ",
				W.el("a", { href: W.url("/network", { cc: e.probe_cc, asn: e.probe_asn, source: source }), class: "net-link" },
					e.probe_asn || "AS?"),
				name ? W.el("div", { class: "sub netname" }, name) : null),
			W.el("td", { class: "change-to" },
				W.el("span", { class: "from" }, e.from ? String(e.from) + " → " : ""),
				W.stateBadge(e.to, e.method)),
			W.el("td", { class: "uids" }, W.plural(uids.length, "measurement")));
	}

	window.WallwatchPages.changes = function (W) {
		var f = {
			cc: W.param("cc"), asn: W.param("asn"), category: W.param("category"),
			state: W.param("state"), source: W.param("source")
		};
		var cursor = W.param("cursor"), list, any = f.cc || f.asn || f.category || f.state || f.source;

		W.title("What changed", W.el("p", { class: "lead" },
			"The latest changes of state across all targets, newest first: a target that became blocked on a " +
			"network, or accessible again. The overview shows states; this shows when they changed."));
		W.app.appendChild(filters(W, f));
		list = W.section(cursor ? "Older changes" : "Latest changes", "changes");
		W.part(list, W.getJSON(W.apiUrl("changes", Object.assign({ limit: LIMIT, cursor: cursor }, f))), function (r) {
			var evs = Array.isArray(r.events) ? r.events : [];
			var nav = W.el("p", { class: "pager" });

			if (!evs.length) {
				W.add(list, W.el("p", { class: "empty" }, cursor ? "No older change." : any
					? "No change of state matches these filters." : "No change of state yet."));
			} else {
				list.appendChild(W.el("table", { class: "targets changes", id: "changes-table" },
					W.el("thead", null, W.el("tr", null, ["When", "Target", "Network", "Change", "Evidence"].map(function (h) {
						return W.el("th", { scope: "col" }, h);
					}))),
					W.el("tbody", null, evs.map(function (e) { return changeRow(W, e, f.source); }))));
			}
			if (cursor)
				W.add(nav, [W.el("a", { href: W.url("/changes", f), id: "newest-link" }, "Newest"), " "]);
			if (r.next_cursor)
				W.add(nav, W.el("a", { href: W.url("/changes", Object.assign({ cursor: r.next_cursor }, f)), id: "older-link" },
					"Older changes →"));
			if (nav.firstChild)
				list.appendChild(nav);
		});
	};
})();
