/*
 * page_country.js - one country: /country?cc=CN (issue 16;
 * docs/web-view.md, "Network pages"). Its networks side by side (per
 * network: its AS name, targets blocked, disrupted, accessible, down and
 * unknown, the blocked ones by method, since when), then a matrix of the
 * targets blocked or disrupted on any of its networks against those
 * networks, a cell per target and network in its state's colour (a
 * blocked cell in its method's). ?category keeps one category;
 * ?source=ooni|wallwatch ("Measured by") the targets OONI's probes (or
 * ours) measured (docs/ooni-data.md, "Source"), both kept in the URL and
 * in the links to the networks' pages and to "What changed". Drawn with
 * app.js's helpers (window.Wallwatch), data set as text only.
 */
(function () {
	"use strict";

	window.WallwatchPages = window.WallwatchPages || {};

	var MATRIX_PAGE = 200; /* targets per page of the matrix */

	function num(o, k) {
		return o && typeof o[k] === "number" ? o[k] : 0;
	}

	/* A network's page, the source kept. */
	function netUrl(W, cc, asn, source) {
		return W.url("/network", { cc: cc, asn: asn, source: source });
	}

	function netCell(W, cc, asn, name, source) {
		return W.el("td", { class: "network" },
			W.el("a", { href: netUrl(W, cc, asn, source), class: "net-link" }, asn),
			W.el("div", { class: "sub netname" }, typeof name === "string" ? name : "—"));
	}

	function methodsCell(W, methods) {
		var keys = Object.keys(methods || {}).filter(function (m) {
			return typeof methods[m] === "number" && methods[m] > 0;
		}).sort(function (a, b) { return methods[b] - methods[a] || W.cmp(a, b); });

		return W.el("td", { class: "methods" }, keys.length ? keys.map(function (m) {
			return W.el("span", { class: "method-count", "data-method": m, title: W.methodName(m) },
				W.el("span", { class: "swatch o-" + m }), W.methodName(m) + " " + methods[m]);
		}) : "—");
	}

	function networksTable(W, cc, nets, source) {
		var states = ["blocked", "disrupted", "accessible", "down", "unknown"];

		return W.el("table", { class: "targets networks", id: "networks-table" },
			W.el("thead", null, W.el("tr", null,
				["Network", "Targets"].concat(states.map(function (s) {
					return s.charAt(0).toUpperCase() + s.slice(1);
				}), ["Blocked by method", "Blocked since", "Last tested"]).map(function (h) {
					return W.el("th", { scope: "col" }, h);
				}))),
			W.el("tbody", null, nets.map(function (n) {
				var total = num(n, "targets");

				return W.el("tr", { class: "row", "data-asn": n.probe_asn },
					netCell(W, cc, n.probe_asn, n.network_name, source),
					W.el("td", { class: "n-targets" }, String(total), W.el("div", null, W.rollupBar(n, total))),
					states.map(function (s) {
						return W.el("td", { class: "n-" + s, "data-state": s },
							num(n, s) ? W.el("span", { class: "badge state-" + s }, String(num(n, s))) : "0");
					}),
					methodsCell(W, n.methods),
					W.el("td", { class: "since" }, W.timeNode(n.blocked_since, true)),
					W.el("td", { class: "last" }, W.timeNode(n.last_tested, true)));
			})));
	}

	/* One cell of the matrix: the state's colour (a blocked one its
	 * method's), its words in the title and for screen readers. */
	function matrixCell(W, c) {
		var s, m, cls, words;

		if (!c)
			return W.el("td", { class: "mx", "data-state": "none", title: "not tested on this network" },
				W.el("span", { class: "mx-box o-none" }, ""));
		s = W.STATES.indexOf(c.state) >= 0 ? c.state : "unknown";
		m = typeof c.method === "string" ? c.method : "";
		if (s === "blocked" && W.METHODS.indexOf(m) >= 0)
			cls = "o-" + m;
		else
			cls = "mx-" + s;
		words = s + (m && (s === "blocked" || s === "disrupted") ? " " + W.methodPhrase(m) : "") +
			(c.since ? " since " + W.fmtTime(c.since) : "");
		return W.el("td", { class: "mx", "data-state": s, "data-method": m || null, title: words },
			W.el("span", { class: "mx-box " + cls, "aria-label": words }, s === "blocked" ? "✕" : s === "disrupted" ? "~" : ""));
	}

	function matrixTable(W, cc, nets, names, targets, source) {
		return W.el("table", { class: "matrix", id: "matrix" },
			W.el("thead", null, W.el("tr", null,
				W.el("th", { scope: "col" }, "Target"),
				nets.map(function (asn) {
					return W.el("th", { scope: "col", class: "mx-head", "data-asn": asn, title: names[asn] || asn },
						W.el("a", { href: netUrl(W, cc, asn, source) }, asn),
						W.el("div", { class: "sub netname" }, names[asn] || ""));
				}))),
			W.el("tbody", null, targets.map(function (t) {
				var cells = t && t.cells && typeof t.cells === "object" ? t.cells : {};

				return W.el("tr", { "data-input": t.input },
					W.el("th", { scope: "row", class: "target" },
						W.el("a", { href: W.targetUrl(t.input, { cc: cc }), class: "target-link" }, t.input || "(no input)"),
						t.category_code ? W.el("span", { class: "sub" }, " " + t.category_code) : null),
					nets.map(function (asn) {
						return matrixCell(W, Object.prototype.hasOwnProperty.call(cells, asn) ? cells[asn] : null);
					}));
			})));
	}

	function matrixLegend(W) {
		return W.el("ul", { class: "legend" },
			W.METHODS.map(function (m) {
				return W.el("li", null, W.el("span", { class: "swatch o-" + m }), W.methodName(m));
			}),
			["disrupted", "accessible", "down", "unknown"].map(function (s) {
				return W.el("li", null, W.el("span", { class: "swatch mx-" + s }), s);
			}),
			W.el("li", null, W.el("span", { class: "swatch o-none" }), "not tested there"));
	}

	/* The category and whose measurements (OONI's, ours or both): a
	 * change is a new page (back and bookmarks work). */
	function filterForm(W, cc, category, source) {
		var f = W.el("form", { class: "filters", id: "filters", method: "get", action: "/country" },
			W.el("input", { type: "hidden", name: "cc", value: cc }),
			W.select("category", "Category", category, Object.keys(W.CATEGORIES).sort().map(function (c) {
				return [c, c + " — " + W.CATEGORIES[c]];
			})),
			W.select("source", "Measured by", source, [["ooni", "OONI"], ["wallwatch", "Wallwatch"]]),
			W.el("button", { type: "submit" }, "Show"));

		Array.prototype.forEach.call(f.querySelectorAll("select"), function (s) {
			s.addEventListener("change", function () {
				location.assign(W.url("/country", {
					cc: cc, category: f.elements.category.value, source: f.elements.source.value
				}));
			});
		});
		return f;
	}

	window.WallwatchPages.country = function (W) {
		var cc = W.param("cc").toUpperCase(), category = W.param("category"), source = W.param("source");
		var netsBox, mxBox, netsP;

		if (!cc) {
			W.title("Country");
			W.app.appendChild(W.el("p", { class: "lead" },
				"Pick a country from the ", W.el("a", { href: "/" }, "overview"), " (its country codes lead here)."));
			document.documentElement.setAttribute("data-ready", "true");
			return;
		}
		W.title("Country " + cc, W.el("p", { class: "lead" },
			"Its networks side by side: what each blocks, by which method, since when. ",
			W.el("a", { href: W.url("/changes", { cc: cc, category: category, source: source }), id: "changes-link" },
				"What changed in " + cc),
			" · ",
			W.el("a", { href: W.url("/", { cc: cc, category: category, source: source }), id: "overview-link" },
				"its targets in the overview")));
		W.app.appendChild(filterForm(W, cc, category, source));
		netsBox = W.section("Networks", "networks");
		mxBox = W.section("Targets blocked somewhere, network by network", "matrix-box");
		netsP = W.getJSON(W.apiUrl("networks", { cc: cc, category: category, source: source }));
		W.part(netsBox, netsP, function (r) {
			var nets = Array.isArray(r.networks) ? r.networks : [];

			if (!nets.length) {
				W.add(netsBox, W.el("p", { class: "empty" }, "Nothing has been measured in " + cc +
					(category ? " in category " + category : "") +
					(source ? " by " + (source === "ooni" ? "OONI's probes" : "Wallwatch's probes") : "") + "."));
				return;
			}
			W.add(netsBox, W.el("p", { class: "summary", id: "country-summary" },
				W.plural(nets.length, "network") + "; " +
				nets.filter(function (n) { return num(n, "blocked") > 0; }).length + " block something."));
			netsBox.appendChild(networksTable(W, cc, nets, source));
		});

		/* The matrix: its columns are every network of the country (from
		 * the counts), its rows a page of targets at a time. */
		function loadMatrix(cursor, into) {
			W.part(into, Promise.all([netsP, W.getJSON(W.apiUrl("networks/matrix",
				{ cc: cc, category: category, source: source, limit: MATRIX_PAGE, cursor: cursor }))]),
			function (both) {
				var nets = Array.isArray(both[0].networks) ? both[0].networks : [];
				var m = both[1], names = {}, cols = [];
				var targets = Array.isArray(m.targets) ? m.targets : [];

				nets.forEach(function (n) {
					names[n.probe_asn] = typeof n.network_name === "string" ? n.network_name : "";
					cols.push(n.probe_asn);
				});
				(Array.isArray(m.networks) ? m.networks : []).forEach(function (n) {
					if (cols.indexOf(n.probe_asn) < 0) {
						cols.push(n.probe_asn);
						names[n.probe_asn] = typeof n.network_name === "string" ? n.network_name : "";
					}
				});
				if (!targets.length && !cursor) {
					W.add(into, W.el("p", { class: "empty" }, "No target is blocked or disrupted on any network of " + cc + "."));
					return;
				}
				if (!cursor)
					into.appendChild(matrixLegend(W));
				into.appendChild(matrixTable(W, cc, cols, names, targets, source));
				if (m.next_cursor) {
					var next = W.el("div", { class: "mx-more" });
					var b = W.el("button", { type: "button", id: "matrix-more" }, "More targets");

					b.addEventListener("click", function () {
						next.removeChild(b);
						loadMatrix(m.next_cursor, next);
					});
					next.appendChild(b);
					into.appendChild(next);
				}
			});
		}
		loadMatrix("", mxBox);
	};
})();
