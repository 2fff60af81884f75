/*
 * app.js - Wallwatch's web view: the overview table, a target's page and a
 * domain's page, drawn from the collector's read API (/api/v1/...) with
 * DOM calls only. Everything from the data (inputs, categories, networks,
 * uids) is untrusted: it is only ever set as text (textContent, text
 * nodes, attribute values, URL-encoded query values), never parsed as
 * HTML. No library, no build step, no network beyond this origin.
 *
 * Pages, by location.pathname (the collector serves one shell for all):
 *   /         overview   ?cc ?asn ?category ?state ?source ?q ?sort ?dir
 *   /target   a target   ?input (required) ?cc ?asn ?days ?open (a uid:
 *             its packet evidence shown opened)
 *   /domain   a domain   ?host (required)
 *   /network, /country, /changes, /alerts: drawn by page_network.js,
 *             page_country.js, page_changes.js, page_alerts.js (their own files, given
 *             the helpers here as window.Wallwatch; docs/web-view.md)
 *   /measurement  one measurement's evidence (page_measurement.js) ?uid
 * When a page has finished loading (or failed), <html> gets
 * data-ready="true" (the browser test waits on it).
 */
(function () {
	"use strict";

	/* --- vocabulary ------------------------------------------------------ */

	/* The classes of one measurement's verdict (docs/timelines.md), as
	 * the collector serves them from engine/core/verdict.c, the one
	 * definition (GET /api/v1/vocabulary, read once by loadVocabulary()
	 * before a page is drawn): OUTCOMES their names in class order, which
	 * is the stacking order of the chart (bottom to top) and the
	 * legend's; OUTCOME_NAMES what a person reads for each; METHODS the
	 * blocked ones (a method of blocking); NO_VERDICT those that are no
	 * evidence either way (hatched). A measurement row and a day's counts
	 * come from the API already classified. */
	var OUTCOMES = [], OUTCOME_NAMES = {}, METHODS = [], NO_VERDICT = {};
	/* The blocked class that is the site's own refusal (a publisher's
	 * 451, a CAPTCHA's 503 over verified HTTPS), not the network's doing:
	 * its badge and phrase say so. */
	var SITE_REFUSAL = "server-side";
	/* States of a (target, network), most severe first. */
	var STATES = ["blocked", "disrupted", "down", "unknown", "accessible"];
	var STATE_HELP = {
		blocked: "blocked: conclusive tests keep failing here while the control reaches it",
		disrupted: "disrupted: blocked some of the time",
		down: "down: unreachable for the control as well",
		unknown: "unknown: not enough conclusive tests",
		accessible: "accessible: reachable in the recent tests"
	};
	/* Citizen Lab test-list categories (testlists/README.md). */
	var CATEGORIES = {
		ALDR: "Alcohol & Drugs", REL: "Religion", PORN: "Pornography",
		PROV: "Provocative Attire", POLR: "Political Criticism",
		HUMR: "Human Rights Issues", ENV: "Environment",
		MILX: "Terrorism and Militants", HATE: "Hate Speech",
		NEWS: "News Media", XED: "Sex Education", PUBH: "Public Health",
		GMB: "Gambling", ANON: "Anonymization and circumvention tools",
		DATE: "Online Dating", GRP: "Social Networking", LGBT: "LGBTQ+",
		FILE: "File-sharing", HACK: "Hacking Tools",
		COMT: "Communication Tools", MMED: "Media sharing",
		HOST: "Hosting and Blogging Platforms", SRCH: "Search Engines",
		GAME: "Gaming", CULTR: "Culture", ECON: "Economics",
		GOVT: "Government", COMM: "E-commerce", CTRL: "Control content",
		IGO: "Intergovernmental Organizations",
		MISC: "Miscellaneous content"
	};
	var DAY_MS = 86400000;
	var PAGE = 1000; /* the API's largest page */
	var MAX_TARGETS = 20000; /* rows the overview fetches, page by page */
	var SVGNS = "http://www.w3.org/2000/svg";

	/* --- DOM: text only ---------------------------------------------------- */

	function add(parent, c) {
		if (c === null || c === undefined || c === false)
			return;
		if (Array.isArray(c)) {
			c.forEach(function (x) { add(parent, x); });
			return;
		}
		if (typeof c === "string" || typeof c === "number")
			c = document.createTextNode(String(c));
		parent.appendChild(c);
	}

	function setAttrs(n, attrs) {
		Object.keys(attrs || {}).forEach(function (k) {
			var v = attrs[k];

			if (v === null || v === undefined || v === false)
				return;
			n.setAttribute(k, v === true ? "" : String(v));
		});
	}

	/* el("a", {href: ...}, "text", child...): children are nodes or
	 * text (made into text nodes, never markup). */
	function el(tag, attrs) {
		var n = document.createElement(tag);

		setAttrs(n, attrs);
		add(n, Array.prototype.slice.call(arguments, 2));
		return n;
	}

	function svg(tag, attrs) {
		var n = document.createElementNS(SVGNS, tag);

		setAttrs(n, attrs);
		add(n, Array.prototype.slice.call(arguments, 2));
		return n;
	}

	function clear(n) {
		while (n.firstChild)
			n.removeChild(n.firstChild);
	}

	/* --- URLs ------------------------------------------------------------------ */

	function params() {
		return new URLSearchParams(location.search);
	}

	function param(name) {
		var v = params().get(name);

		return v === null ? "" : v.trim();
	}

	/* path?k=v&... with the empty values left out. */
	function url(path, q) {
		var u = new URLSearchParams();

		Object.keys(q || {}).forEach(function (k) {
			if (q[k] !== "" && q[k] !== null && q[k] !== undefined)
				u.set(k, String(q[k]));
		});
		u = u.toString();
		return u ? path + "?" + u : path;
	}

	function apiUrl(what, q) {
		return url("/api/v1/" + what, q);
	}

	function targetUrl(input, q) {
		return url("/target", Object.assign({ input: input }, q || {}));
	}

	function domainUrl(host) {
		return url("/domain", { host: host });
	}

	/* The network and country pages keep the page's "Measured by"
	 * (?source) of the page linking to them. */
	function networkUrl(cc, asn) {
		return url("/network", { cc: cc, asn: asn, source: param("source") });
	}

	function countryUrl(cc) {
		return url("/country", { cc: cc, source: param("source") });
	}

	function rawUrl(uid) {
		return "/api/v1/measurements/" + encodeURIComponent(uid);
	}

	/* A measurement's page: its evidence in words (page_measurement.js). */
	function measurementUrl(uid) {
		return url("/measurement", { uid: uid });
	}

	function getJSON(u) {
		return fetch(u, {
			headers: { Accept: "application/json" },
			credentials: "same-origin"
		}).then(function (r) {
			if (r.ok)
				return r.json();
			return r.json().catch(function () { return {}; })
				.then(function (b) {
					throw new Error(u + ": " + r.status + " " +
						(b && typeof b.error === "string" ? b.error : r.statusText));
				});
		});
	}

	/* --- formatting ---------------------------------------------------------------- */

	function isoOk(s) {
		return typeof s === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(s);
	}

	/* "2026-11-20T14:03:05Z" -> "2026-11-20 14:03 UTC" */
	function fmtTime(s) {
		if (!s)
			return "—";
		return isoOk(s) ? s.slice(0, 10) + " " + s.slice(11, 16) + " UTC" : String(s);
	}

	function fmtDate(s) {
		if (!s)
			return "—";
		return isoOk(s) ? s.slice(0, 10) : String(s);
	}

	function ago(s) {
		var t = Date.parse(s), d, n;

		if (!s || isNaN(t))
			return "";
		d = (Date.now() - t) / 1000;
		if (d < 0)
			return "in the future";
		if (d < 90)
			return "just now";
		if (d < 5400)
			return Math.round(d / 60) + " minutes ago";
		if (d < 129600)
			return Math.round(d / 3600) + " hours ago";
		n = Math.round(d / 86400);
		return n + (n === 1 ? " day ago" : " days ago");
	}

	function timeNode(s, withDate) {
		if (!s)
			return el("span", { class: "none" }, "—");
		return el("time", { datetime: s, title: fmtTime(s) + (ago(s) ? " (" + ago(s) + ")" : "") },
			withDate ? fmtDate(s) : fmtTime(s));
	}

	function pctText(v) {
		if (typeof v !== "number" || isNaN(v))
			return "—";
		if (v > 0 && v < 0.01)
			return "<1%";
		return Math.round(v * 100) + "%";
	}

	function plural(n, one, many) {
		return n + " " + (n === 1 ? one : (many || one + "s"));
	}

	function dayKey(d) {
		return d.toISOString().slice(0, 10);
	}

	function netKey(cc, asn) {
		return (cc || "??") + " " + (asn || "AS?");
	}

	function netLabel(cc, asn) {
		return (cc || "??") + " · " + (asn || "AS?");
	}

	function hostOf(input) {
		var m;

		try {
			m = new URL(input).hostname;
			if (m)
				return m.replace(/^\[|\]$/g, "").toLowerCase();
		} catch (e) {
			/* not a URL the browser knows; below */
		}
		m = /^[a-z][a-z0-9+.-]*:\/\/(?:\[([^\]]+)\]|([^\/:?#]+))/i.exec(String(input));
		return m ? (m[1] || m[2]).toLowerCase() : "";
	}

	function methodName(m) {
		return METHODS.indexOf(m) >= 0 ? OUTCOME_NAMES[m] : (m ? String(m) : "");
	}

	/* How a method follows a state: "by DNS tampering", but "withheld by
	 * the site" (the site, not the network, refuses). */
	function methodPhrase(m) {
		return m === SITE_REFUSAL ? methodName(m) : "by " + methodName(m);
	}

	/* A state badge: "blocked" in a coloured box, then the method. A
	 * site's own refusal gets a badge of its own colour too, so that it
	 * does not read as a censor's blocking at a glance. */
	function stateBadge(state, method) {
		var s = STATES.indexOf(state) >= 0 ? state : "unknown";
		var withheld = method === SITE_REFUSAL && (s === "blocked" || s === "disrupted");
		var b = el("span", {
			class: "badge state-" + s + (withheld ? " withheld" : ""),
			title: withheld ? s + ": the site itself refuses this network (e.g. HTTP 451 from the publisher), not the network" : STATE_HELP[s]
		}, state ? String(state) : "unknown");

		if (method && (s === "blocked" || s === "disrupted"))
			return el("span", { class: "state" }, b, " ",
				el("span", { class: "method" }, methodPhrase(method)));
		return el("span", { class: "state" }, b);
	}

	/* What one measurement row says: its class, as the collector
	 * classified its verdict (docs/timelines.md). */
	function rowOutcome(m) {
		return String(m["class"]);
	}

	function outcomeBadge(o) {
		return el("span", { class: "badge o-" + o }, OUTCOME_NAMES[o]);
	}

	function count(b, k) {
		var v = b ? b[k] : 0;

		return typeof v === "number" && v > 0 ? v : 0;
	}

	/* A day's colour: the largest of blocked (all methods together) and
	 * each other class; ties go to the more severe: blocked, then the
	 * other conclusive classes, the less accessible first (down, then ok:
	 * the reverse of class order), then no verdict. Blocked days take the
	 * colour of their most frequent method. */
	function dominant(b) {
		var blocked = 0, best = "none", bestN = 0, m = null, mN = 0;
		var rest = OUTCOMES.filter(function (k) { return METHODS.indexOf(k) < 0; });

		METHODS.forEach(function (k) {
			blocked += count(b, k);
			if (count(b, k) > mN) {
				mN = count(b, k);
				m = k;
			}
		});
		[["blocked", blocked]]
			.concat(rest.filter(function (k) { return !NO_VERDICT[k]; }).reverse()
				.concat(rest.filter(function (k) { return NO_VERDICT[k]; }))
				.map(function (k) { return [k, count(b, k)]; }))
			.forEach(function (g) {
				if (g[1] > bestN) {
					bestN = g[1];
					best = g[0];
				}
			});
		return best === "blocked" ? m : best;
	}

	function countsText(b) {
		var parts = [];

		OUTCOMES.forEach(function (k) {
			if (count(b, k) > 0)
				parts.push(count(b, k) + " " + OUTCOME_NAMES[k]);
		});
		return parts.length ? parts.join(", ") : "no measurements";
	}

	function total(b) {
		var n = 0;

		OUTCOMES.forEach(function (k) { n += count(b, k); });
		return n;
	}

	function legend() {
		return el("ul", { class: "legend", "aria-label": "Legend" },
			OUTCOMES.map(function (k) {
				return el("li", null, el("span", { class: "swatch o-" + k }), OUTCOME_NAMES[k]);
			}),
			el("li", null, el("span", { class: "swatch o-none" }), "no data"));
	}

	/* --- page frame ------------------------------------------------------------------ */

	var app = document.getElementById("app");
	var pending = 0;

	function section(title, id) {
		var s = el("section", { id: id, class: "block" }, el("h2", null, title));
		var body = el("div", { class: "body" }, el("p", { class: "loading" }, "Loading…"));

		s.appendChild(body);
		app.appendChild(s);
		return body;
	}

	function failed(where, e) {
		clear(where);
		add(where, el("p", { class: "error", role: "alert" },
			"Could not load this part: " + (e && e.message ? e.message : String(e))));
	}

	/* Run p (a promise), draw its result into where; the page is ready
	 * when every such part has settled. */
	function part(where, p, draw) {
		pending++;
		p.then(function (v) {
			clear(where);
			draw(v, where);
		}).catch(function (e) {
			failed(where, e);
			document.documentElement.setAttribute("data-error", "true");
			if (window.console)
				console.error(e);
		}).then(function () {
			if (--pending === 0)
				document.documentElement.setAttribute("data-ready", "true");
		});
	}

	/* What a change of state needs here (GET /api/v1/settings): how many
	 * independent submitters must agree, and not be outvoted by the keyed
	 * ones, or that this is a single-probe deployment, where one is
	 * enough (docs/timelines.md, "Agreement"). */
	function agreementNote() {
		var p = el("p", { class: "note agreement", id: "agreement" });

		part(p, getJSON(apiUrl("settings")), function (s) {
			var a = s.agreement || {};
			var n = a.min_submitters;

			p.setAttribute("data-min-submitters", String(n));
			if (n <= 1) {
				add(p, "Single-probe deployment: a state changes on the measurements of " +
					"one submitter alone; nothing here is confirmed by a second one.");
				return;
			}
			add(p, "A state changes when " + n + " independent submitters agree" +
				" (unsigned ones only beside a signed one)" +
				(a.single_submitter_hours > 0 ? ", or one alone reports the same, " +
					"uncontradicted, for " + plural(a.single_submitter_hours, "hour") : "") +
				", and never while as many signed submitters say otherwise " +
				"(each counted once, by its latest word of the last day)" +
				". One submitter counts at most " +
				(a.daily_cap > 0 ? plural(a.daily_cap, "measurement") + " a day per target"
					: "all its measurements") +
				(a.allow_geo_mismatch ? "." : "; measurements from a network other than " +
					"the one they claim change nothing."));
		});
		return p;
	}

	function title(text, sub) {
		document.title = text + " — Wallwatch";
		clear(app);
		app.appendChild(el("h1", null, text));
		if (sub)
			app.appendChild(sub);
	}

	/* --- overview --------------------------------------------------------------------- */

	var SORTS = {
		input: function (r) { return r.input || ""; },
		category: function (r) { return r.category_code || ""; },
		network: function (r) { return netKey(r.probe_cc, r.probe_asn); },
		state: function (r) {
			var i = STATES.indexOf(r.state);

			return i < 0 ? 3 : i;
		},
		since: function (r) { return r.since || ""; },
		pct: function (r) {
			return typeof r.pct_blocked_30 === "number" ? r.pct_blocked_30 : -1;
		},
		last: function (r) { return r.last_tested || ""; }
	};

	function cmp(a, b) {
		return a < b ? -1 : a > b ? 1 : 0;
	}

	/* The default order: most severe first, then the most blocked. */
	function defaultOrder(a, b) {
		return cmp(SORTS.state(a), SORTS.state(b)) ||
			cmp(SORTS.pct(b), SORTS.pct(a)) ||
			cmp(a.input || "", b.input || "") ||
			cmp(SORTS.network(a), SORTS.network(b));
	}

	function sortRows(rows, key, dir) {
		var f = SORTS[key];

		rows = rows.slice();
		if (!f)
			return rows.sort(defaultOrder);
		return rows.sort(function (a, b) {
			var c = cmp(f(a), f(b));

			return (dir === "desc" ? -c : c) || defaultOrder(a, b);
		});
	}

	function pctCell(r) {
		var p = r.pct_blocked_30, w = typeof p === "number" ? Math.max(0, Math.min(1, p)) : 0;
		var t = typeof p === "number"
			? pctText(p) + " of " + plural(r.tests_30 || 0, "test") + " in the last 30 days blocked"
			: "no conclusive test in the last 30 days";

		if (typeof r.pct_blocked_90 === "number")
			t += "; 90 days: " + pctText(r.pct_blocked_90) + " of " + plural(r.tests_90 || 0, "test");
		return el("td", { class: "pct", title: t, "data-value": typeof p === "number" ? p : "" },
			svg("svg", { class: "meter", viewBox: "0 0 50 8", width: 50, height: 8, "aria-hidden": "true" },
				svg("rect", { class: "meter-bg", x: 0, y: 0, width: 50, height: 8 }),
				svg("rect", { class: "meter-fg", x: 0, y: 0, width: (50 * w).toFixed(1), height: 8 })),
			" ", pctText(p));
	}

	function targetCell(r, withDomain) {
		var host = withDomain ? hostOf(r.input) : "";

		return el("td", { class: "target" },
			el("a", { href: targetUrl(r.input), class: "target-link" }, r.input || "(no input)"),
			host ? el("div", { class: "sub" }, "domain ",
				el("a", { href: domainUrl(host) }, host)) : null);
	}

	var CELLS = {
		input: function (r) { return targetCell(r, true); },
		target: function (r) { return targetCell(r, false); },
		category: function (r) {
			return el("td", { class: "category", title: CATEGORIES[r.category_code] || null },
				r.category_code || "—");
		},
		network: function (r) {
			return el("td", { class: "network" },
				el("a", { href: networkUrl(r.probe_cc, r.probe_asn), class: "net-link", title: "what is blocked on this network" },
					netLabel(r.probe_cc, r.probe_asn)));
		},
		state: function (r) { return el("td", { class: "current" }, stateBadge(r.state, r.method)); },
		since: function (r) { return el("td", { class: "since" }, timeNode(r.since, true)); },
		pct: pctCell,
		last: function (r) { return el("td", { class: "last" }, timeNode(r.last_tested)); }
	};

	function targetRow(r, cols) {
		return el("tr", { class: "row state-row-" + (r.state || "unknown"), "data-state": r.state || "unknown" },
			cols.map(function (c) { return CELLS[c[0]](r); }));
	}

	/* The overview's columns; a target's page leaves the target out, a
	 * domain's the domain. */
	var COLUMNS = [
		["input", "Target"], ["category", "Category"], ["network", "Network"],
		["state", "Current state"], ["since", "Since"],
		["pct", "Blocked, 30 days"], ["last", "Last tested"]
	];
	var TARGET_COLUMNS = COLUMNS.slice(2);
	var DOMAIN_COLUMNS = [["target", "Target"]].concat(COLUMNS.slice(1));

	function targetTable(rows, cols, sortKey, dir, onSort) {
		var sortable = !!onSort;
		var head = el("tr", null, cols.map(function (c) {
			var th = el("th", { scope: "col", "data-key": c[0] });

			if (!sortable) {
				add(th, c[1]);
				return th;
			}
			th.setAttribute("aria-sort", sortKey === c[0]
				? (dir === "desc" ? "descending" : "ascending") : "none");
			var b = el("button", { type: "button", class: "sort" }, c[1],
				sortKey === c[0] ? (dir === "desc" ? " ▼" : " ▲") : "");

			b.addEventListener("click", function () {
				onSort(c[0], sortKey === c[0] && dir !== "desc" ? "desc" : "asc");
			});
			th.appendChild(b);
			return th;
		}));

		return el("table", { class: "targets" },
			el("thead", null, head),
			el("tbody", null, rows.map(function (r) { return targetRow(r, cols); })));
	}

	function uniq(a) {
		return a.filter(function (v, i) { return v && a.indexOf(v) === i; }).sort();
	}

	function select(name, label, current, options) {
		var s = el("select", { name: name, id: "f-" + name });

		s.appendChild(el("option", { value: "" }, "all"));
		if (current && options.every(function (o) { return o[0] !== current; }))
			options = options.concat([[current, current]]);
		options.forEach(function (o) {
			s.appendChild(el("option", { value: o[0], selected: o[0] === current }, o[1]));
		});
		return el("label", { class: "filter" }, label + " ", s);
	}

	function renderOverview() {
		var f = {
			cc: param("cc"), asn: param("asn"), category: param("category"),
			state: param("state"), source: param("source")
		};
		var q = param("q"), sortKey = param("sort"), dir = param("dir");
		var any = f.cc || f.asn || f.category || f.state || f.source;
		var form = el("form", { id: "filters", class: "filters", method: "get", action: "/" });
		var summary = el("p", { class: "summary" });
		var downloads = el("p", { class: "downloads" });
		var listing;

		document.body.setAttribute("data-page", "overview");
		title("What is blocked, where, and since when",
			el("p", { class: "lead" },
				"One row per target and network: its current state (with hysteresis over " +
				"conclusive tests, so one odd result does not flip it), since when, and the " +
				"share of blocked tests over the last 30 days. Open a target for its daily timeline."));
		app.appendChild(agreementNote());
		app.appendChild(form);
		app.appendChild(summary);
		app.appendChild(downloads);
		listing = section("Targets", "targets");

		/* The CSV of every measurement, for the country chosen. */
		add(downloads, [
			el("a", { href: apiUrl("export", { format: "csv", cc: f.cc, asn: f.asn, source: f.source }), download: "", id: "csv-link" },
				"Download the measurements as CSV" + (f.cc ? " (" + f.cc + (f.asn ? " " + f.asn : "") + ")" : "")),
			" · ",
			el("a", { href: apiUrl("export", { format: "jsonl", cc: f.cc, asn: f.asn, source: f.source }), download: "" },
				"as JSON Lines (raw)")
		]);

		part(listing, Promise.all([
			allPages("targets", "targets", f, MAX_TARGETS),
			any ? allPages("targets", "targets", {}, MAX_TARGETS) : null
		]), function (res) {
			var rows = res[0];
			var all = res[1] || rows;
			var shown, counts = {}, box = listing;

			drawFilters(form, f, q, all);
			shown = q ? rows.filter(function (r) {
				return String(r.input || "").toLowerCase().indexOf(q.toLowerCase()) >= 0;
			}) : rows;
			shown.forEach(function (r) {
				counts[r.state || "unknown"] = (counts[r.state || "unknown"] || 0) + 1;
			});
			clear(summary);
			add(summary, [
				plural(uniq(shown.map(function (r) { return r.input; })).length, "target") + " on " +
				plural(uniq(shown.map(function (r) { return netKey(r.probe_cc, r.probe_asn); })).length, "network") +
				(shown.length ? ": " : ""),
				STATES.filter(function (s) { return counts[s]; }).map(function (s, i) {
					return [i ? ", " : "", el("span", { class: "badge state-" + s }, String(counts[s])), " " + s];
				})
			]);
			/* each country's page: its networks side by side */
			countryLinks(downloads, uniq(shown.map(function (r) { return r.probe_cc; })));
			if (rows.length >= MAX_TARGETS)
				add(summary, el("span", { class: "warn" }, " (the first " + MAX_TARGETS +
					" rows; narrow the filters to see the others)"));
			if (!shown.length) {
				add(box, el("p", { class: "empty" }, any || q
					? "No target matches these filters."
					: "No measurement has been received yet."));
				return;
			}
			(function draw(key, d) {
				clear(box);
				box.appendChild(targetTable(sortRows(shown, key, d), COLUMNS, key, d, function (k, nd) {
					var u = params();

					u.set("sort", k);
					u.set("dir", nd);
					history.replaceState(null, "", "/?" + u.toString());
					draw(k, nd);
				}));
			})(sortKey, dir);
		});
	}

	function countryLinks(where, ccs) {
		if (!ccs.length)
			return;
		add(where, el("span", { class: "country-links", id: "country-links" }, " · Networks side by side: ",
			ccs.map(function (cc, i) {
				return [i ? ", " : "", el("a", { href: countryUrl(cc), class: "cc-link" }, cc)];
			})));
	}

	function drawFilters(form, f, q, all) {
		var ccs = uniq(all.map(function (r) { return r.probe_cc; }));
		var nets = {}, asns, cats;

		all.forEach(function (r) {
			if (r.probe_asn && (!f.cc || r.probe_cc === f.cc))
				nets[r.probe_asn] = (nets[r.probe_asn] ? nets[r.probe_asn] + ", " : "") + (r.probe_cc || "??");
		});
		Object.keys(nets).forEach(function (k) {
			nets[k] = uniq(nets[k].split(", ")).join(", ");
		});
		asns = Object.keys(nets).sort();
		cats = uniq(all.map(function (r) { return r.category_code; }));
		clear(form);
		add(form, [
			select("cc", "Country", f.cc, ccs.map(function (c) { return [c, c]; })),
			select("asn", "Network", f.asn, asns.map(function (a) { return [a, a + " (" + nets[a] + ")"]; })),
			select("category", "Category", f.category, cats.map(function (c) {
				return [c, CATEGORIES[c] ? c + " — " + CATEGORIES[c] : c];
			})),
			select("state", "State", f.state, STATES.map(function (s) { return [s, s]; })),
			/* whose measurements: OONI's, ours, or both (docs/ooni-data.md) */
			select("source", "Measured by", f.source, [["ooni", "OONI"], ["wallwatch", "Wallwatch"]]),
			el("label", { class: "filter" }, "Target contains ",
				el("input", { type: "search", name: "q", value: q, id: "f-q", spellcheck: "false" })),
			el("button", { type: "submit" }, "Filter"),
			" ",
			el("a", { href: "/", class: "reset" }, "reset")
		]);
		/* The filters live in the URL: a change is a new page (back and
		 * bookmarks work), without the empty ones. */
		function go() {
			var v = {};

			["cc", "asn", "category", "state", "source", "q"].forEach(function (k) {
				v[k] = form.elements[k].value.trim();
			});
			if (param("sort")) {
				v.sort = param("sort");
				v.dir = param("dir");
			}
			location.assign(url("/", v));
		}
		form.onsubmit = function (e) {
			e.preventDefault();
			go();
		};
		Array.prototype.forEach.call(form.querySelectorAll("select"), function (s) {
			s.addEventListener("change", go);
		});
	}

	/* --- a target ---------------------------------------------------------------------- */

	var RANGES = [7, 30, 90, 180, 365];

	function dayList(days) {
		var end = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
		var out = [];

		for (var i = days - 1; i >= 0; i--)
			out.push(dayKey(new Date(end - i * DAY_MS)));
		return out;
	}

	/* Every row of a paged list (ids ascending, `after` the last id
	 * seen), at most `max`: targets and measurements say where the next
	 * page starts (next_after), events do not (a full page means there may
	 * be more). */
	function allPages(what, key, q, max) {
		var rows = [];

		function page(after) {
			return getJSON(apiUrl(what, Object.assign({}, q, { limit: PAGE, after: after })))
				.then(function (r) {
					var got = Array.isArray(r[key]) ? r[key] : [], next = null;

					rows = rows.concat(got);
					if (r.next_after !== undefined)
						next = r.next_after;
					else if (got.length === PAGE && typeof got[got.length - 1].id === "number")
						next = got[got.length - 1].id;
					if (next !== null && got.length && rows.length < max)
						return page(next);
					return rows;
				});
		}
		return page("");
	}

	function strip(label, net, days, byDay) {
		/* more than 100 days: cells without gaps, so a year still fits */
		var cells = el("div", { class: days.length > 100 ? "cells dense" : "cells", role: "list" });

		days.forEach(function (d) {
			var b = byDay[d], o = b ? dominant(b) : "none";

			cells.appendChild(el("span", {
				class: "cell o-" + o, role: "listitem", "data-day": d, "data-outcome": o,
				title: d + " · " + label + ": " + countsText(b)
			}));
		});
		return el("div", { class: "strip", "data-network": net },
			el("div", { class: "strip-label" }, label), cells);
	}

	function axis(days) {
		var step = Math.max(1, Math.ceil(days.length / 6));
		var ax = el("div", { class: "axis" }, el("div", { class: "strip-label" }));
		var row = el("div", { class: days.length > 100 ? "ticks dense" : "ticks" });

		days.forEach(function (d, i) {
			row.appendChild(el("span", { class: "tick" },
				(days.length - 1 - i) % step === 0 ? d.slice(5) : ""));
		});
		ax.appendChild(row);
		return ax;
	}

	function niceMax(v) {
		var p, m;

		if (v <= 5)
			return Math.max(1, v);
		p = Math.pow(10, Math.floor(Math.log10(v)));
		m = [1, 2, 2.5, 5, 10].find(function (x) { return x * p >= v; });
		return m * p;
	}

	var chartId = 0;

	/* The daily stacked bar chart of outcomes (like OONI's MAT). */
	function chart(label, days, byDay) {
		var W = 900, H = 220, L = 40, R = 8, T = 10, B = 26;
		var pw = W - L - R, ph = H - T - B, slot = pw / days.length;
		var bw = Math.max(1, slot * 0.8);
		var max = 0, ymax, ticks, hatch = "hatch-" + (++chartId);
		var g = svg("g", { class: "bars" });
		var s = svg("svg", {
			class: "chart", viewBox: "0 0 " + W + " " + H, role: "img",
			preserveAspectRatio: "xMidYMid meet",
			"aria-label": "Outcomes per day, " + label
		});

		days.forEach(function (d) { max = Math.max(max, total(byDay[d])); });
		ymax = niceMax(max);
		ticks = ymax <= 5 ? ymax : 4;
		s.appendChild(svg("defs", null,
			svg("pattern", { id: hatch, width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
				svg("rect", { width: 6, height: 6, class: "hatch-bg" }),
				svg("line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch-line" }))));
		for (var i = 0; i <= ticks; i++) {
			var v = ymax * i / ticks, y = T + ph - ph * v / ymax;

			s.appendChild(svg("line", { class: "grid", x1: L, x2: W - R, y1: y.toFixed(1), y2: y.toFixed(1) }));
			s.appendChild(svg("text", { class: "ylab", x: L - 6, y: (y + 4).toFixed(1), "text-anchor": "end" },
				Number.isInteger(v) ? String(v) : v.toFixed(1)));
		}
		days.forEach(function (d, i) {
			var b = byDay[d], y = T + ph, x = L + i * slot + (slot - bw) / 2;
			var bar = svg("g", { class: "bar", "data-day": d }, svg("title", null, d + ": " + countsText(b)));

			OUTCOMES.forEach(function (k) {
				var n = count(b, k), h = ph * n / ymax;

				if (!n)
					return;
				y -= h;
				bar.appendChild(svg("rect", {
					class: "seg o-" + k, x: x.toFixed(2), y: y.toFixed(2),
					width: bw.toFixed(2), height: h.toFixed(2),
					fill: NO_VERDICT[k] ? "url(#" + hatch + ")" : null
				}));
			});
			/* a transparent column, so the title shows over empty days */
			bar.insertBefore(svg("rect", { class: "hit", x: (L + i * slot).toFixed(2), y: T, width: slot.toFixed(2), height: ph }),
				bar.childNodes[1] || null);
			g.appendChild(bar);
		});
		s.appendChild(g);
		s.appendChild(svg("line", { class: "axis-line", x1: L, x2: W - R, y1: T + ph, y2: T + ph }));
		var step = Math.max(1, Math.ceil(days.length / 8));

		days.forEach(function (d, i) {
			if ((days.length - 1 - i) % step !== 0)
				return;
			s.appendChild(svg("text", { class: "xlab", x: (L + i * slot + slot / 2).toFixed(1), y: H - 8, "text-anchor": "middle" },
				d.slice(5)));
		});
		return el("figure", { class: "chart-box", "data-network": label },
			el("figcaption", null, label + " — measurements per day by outcome"), s);
	}

	function eventText(e) {
		var to = e.to || "unknown", m = e.method ? methodName(e.method) : "";
		var t = to + " since " + fmtTime(e.time);

		if (m && (to === "blocked" || to === "disrupted"))
			t += " " + methodPhrase(e.method);
		if (e.from)
			t += " (was " + e.from + ")";
		return t;
	}

	/* --- packet evidence (issue 13; docs/web-view.md) ------------------------ */

	/* An RST whose IP TTL differs from the server's own packets on its
	 * flow by this much or more is highlighted (the analysis's
	 * WW_RST_TTL_DELTA, docs/verdicts.md; the verdict is the analysis's,
	 * the highlight only points at the packet). */
	var RST_TTL_DELTA = 2;

	function num(v) {
		return typeof v === "number" && isFinite(v) ? v : null;
	}

	function numText(v) {
		return num(v) === null ? "—" : String(v);
	}

	/* seconds since the measurement's start -> "3.1 ms" */
	function msText(t) {
		return num(t) === null ? "—" : (t * 1000).toFixed(1) + " ms";
	}

	function str(v) {
		return typeof v === "string" ? v : "";
	}

	function evidenceNames(m) {
		return Array.isArray(m.evidence) ? m.evidence.filter(function (x) {
			return typeof x === "string";
		}) : [];
	}

	/* The verdict line's confirmation: "confirmed by packets" (the
	 * analysis named packet proof), "confirmed" (a known blockpage or
	 * forged answer matched), or nothing. */
	function confirmedCell(m) {
		if (m.confirmed_by_packets)
			return el("span", {
				class: "confirmed by-packets",
				title: "packets prove it: " + evidenceNames(m).join(", ")
			}, "confirmed by packets");
		if (m.confirmed)
			return el("span", { class: "confirmed", title: "a known blockpage or forged DNS answer matched" }, "confirmed");
		return "—";
	}

	function detailCell(m) {
		return el("td", { class: "detail" },
			m.blocking_detail ? el("code", null, String(m.blocking_detail)) : "—",
			typeof m.evidence_detail === "string" && m.evidence_detail
				? el("div", { class: "ev-detail" }, m.evidence_detail) : null);
	}

	function smallTable(cls, heads, rows) {
		return el("table", { class: "pkt " + cls },
			el("thead", null, el("tr", null, heads.map(function (h) {
				return el("th", { scope: "col" }, h);
			}))),
			el("tbody", null, rows));
	}

	/* One query's replies; the first to arrive is marked (it is the one
	 * the probe's resolver step took; the later one is often the real
	 * answer, but that is not assumed here). */
	function dnsBlock(d) {
		var replies = Array.isArray(d.replies) ? d.replies : [], first = -1;

		replies.forEach(function (r, i) {
			if (num(r.t) !== null && (first < 0 || r.t < replies[first].t))
				first = i;
		});
		if (first < 0 && replies.length)
			first = 0;
		return el("div", { class: "pkt-dns" },
			el("p", { class: "pkt-head" }, "DNS ", str(d.query_type) || "?", " ",
				el("code", null, str(d.hostname) || "?"),
				str(d.resolver_address) ? [" via ", el("code", null, str(d.resolver_address))] : null,
				": " + plural(num(d.n_replies) !== null ? d.n_replies : replies.length, "reply", "replies") +
				(num(d.n_sent) !== null ? " to " + plural(d.n_sent, "query", "queries") + " sent" : "") +
				(d.truncated ? " (more than kept)" : "")),
			smallTable("dns-replies", ["t", "DNS id", "rcode", "addresses", "IP TTL", "IP ID", ""],
				replies.map(function (r, i) {
					var addrs = Array.isArray(r.addrs) ? r.addrs.filter(function (a) { return typeof a === "string"; }) : [];

					return el("tr", { class: i === first ? "reply first" : "reply" },
						el("td", null, msText(r.t)),
						el("td", null, numText(r.dns_id)),
						el("td", null, str(r.rcode) || "—"),
						el("td", { class: "addrs" }, addrs.length ? addrs.join(", ") : "(none)"),
						el("td", null, numText(r.ip_ttl)),
						el("td", null, numText(r.ip_id)),
						el("td", null, i === first ? el("span", { class: "first-badge" }, "first") : "",
							r.question_ok === false ? " question differs" : ""));
				})));
	}

	/* The server's own TTL on a flow: the SYN-ACK's, else the most
	 * frequent TTL of its packets in that are not resets; null if none. */
	function serverTtl(pkts) {
		var counts = {}, best = null;

		for (var i = 0; i < pkts.length; i++) {
			var p = pkts[i], f = str(p.flags);

			if (p.dir === "in" && f.indexOf("S") >= 0 && f.indexOf("A") >= 0 && num(p.ttl) !== null)
				return p.ttl;
		}
		pkts.forEach(function (p) {
			if (p.dir !== "in" || str(p.flags).indexOf("R") >= 0 || num(p.ttl) === null)
				return;
			counts[p.ttl] = (counts[p.ttl] || 0) + 1;
			if (best === null || counts[p.ttl] > counts[best])
				best = p.ttl;
		});
		return best;
	}

	function flowBlock(f) {
		var pkts = Array.isArray(f.packets) ? f.packets.filter(function (p) {
			return p && typeof p === "object";
		}) : [];
		var sttl = serverTtl(pkts), ids = Array.isArray(f.transaction_ids) ? f.transaction_ids.filter(function (x) { return num(x) !== null; }) : [];

		return el("div", { class: "pkt-flow", "data-flow": numText(f.flow) },
			el("p", { class: "pkt-head" }, "TCP flow " + numText(f.flow) + " to ",
				el("code", null, (str(f.ip).indexOf(":") >= 0 ? "[" + str(f.ip) + "]" : str(f.ip) || "?") +
					":" + numText(f.port)),
				": " + plural(num(f.n_packets) !== null ? f.n_packets : pkts.length, "packet") +
				(f.handshake_only === true ? " (nothing unusual: listed up to the SYN-ACK)" :
					pkts.length < (num(f.n_packets) || 0) ? " (" + pkts.length + " kept: the first and the last)" : "") +
				(ids.length ? ", steps " + ids.join(", ") : "") +
				(sttl !== null ? "; the server's TTL " + sttl : "")),
			smallTable("flow", ["t", "dir", "flags", "ttl", "ip_id", "seq", "ack", "len"],
				pkts.map(function (p) {
					var rst = p.dir === "in" && str(p.flags).indexOf("R") >= 0;
					var odd = rst && sttl !== null && num(p.ttl) !== null &&
						Math.abs(p.ttl - sttl) >= RST_TTL_DELTA;

					return el("tr", {
						class: "pkt-row dir-" + (p.dir === "in" ? "in" : "out") + (rst ? " rst" : "") + (odd ? " injected" : ""),
						title: odd ? "reset with TTL " + p.ttl + ", the server's packets have " + sttl + ": injected" : null
					},
					el("td", null, msText(p.t)),
					el("td", null, p.dir === "in" ? "in ←" : p.dir === "out" ? "out →" : str(p.dir) || "—"),
					el("td", { class: "flags" }, str(p.flags) || "—"),
					el("td", null, numText(p.ttl)),
					el("td", null, numText(p.ip_id)),
					el("td", null, numText(p.seq)),
					el("td", null, numText(p.ack)),
					el("td", null, numText(p.len)));
				})));
	}

	function drawPackets(box, m, r) {
		var p = r && r.packets, dns, tcp;

		clear(box);
		if (!p || typeof p !== "object") {
			add(box, el("p", { class: "empty" }, "This measurement carries no packet record (an older probe)."));
			return;
		}
		dns = Array.isArray(p.dns) ? p.dns.filter(function (d) { return d && typeof d === "object"; }) : [];
		tcp = Array.isArray(p.tcp) ? p.tcp.filter(function (f) { return f && typeof f === "object"; }) : [];
		add(box, el("p", { class: "note" },
			p.capture === "on" ? "Packet capture was on" + (num(p.snaplen) !== null ? " (snaplen " + p.snaplen + ")" : "") + "."
				: "Packet capture was off" + (str(p.capture_failure) ? ": " + str(p.capture_failure) : "") +
				" — DNS replies were seen on the socket, without IP TTL or ID.",
			num(p.ring_drops) ? " The kernel dropped " + p.ring_drops + " captured packet(s) while it ran (its ring was full): missing packets can hide evidence, never make it." : "",
			p.truncated ? " The probe left some entries out (its caps)." : "",
			p.trimmed ? " The collector left some out of this view: the raw JSON has them all." : "",
			evidenceNames(m).length ? [" Evidence: ", el("code", null, evidenceNames(m).join(", ")), "."] : ""));
		dns.forEach(function (d) { box.appendChild(dnsBlock(d)); });
		tcp.forEach(function (f) { box.appendChild(flowBlock(f)); });
		if (box.querySelector("tr.injected"))
			add(box, el("p", { class: "note legend-inline" },
				el("span", { class: "swatch-injected" }), " a reset whose TTL differs from the server's by " +
				RST_TTL_DELTA + " or more (injected by something on the path)"));
		if (!dns.length && !tcp.length)
			add(box, el("p", { class: "empty" }, "No DNS reply or TCP flow was recorded."));
	}

	/* The expander under a measurement's row: the packets are asked for
	 * (GET /api/v1/measurements/UID/packets, bounded) when it opens, or
	 * at once for the measurement named by ?open=UID. */
	function evidenceRow(m, ncols, openUid) {
		var names = evidenceNames(m), box = el("div", { class: "pkt-body" }, el("p", { class: "loading" }, "Loading…"));
		var d = el("details", { class: "evidence", "data-uid": String(m.measurement_uid), id: "ev-" + String(m.measurement_uid) },
			el("summary", null, "Packet evidence",
				names.length ? [": ", el("span", { class: "ev-names" }, names.join(", "))] : "",
				m.packets > 0 ? " (" + plural(m.packets, "DNS query or TCP flow", "DNS queries and TCP flows") + ")" : ""),
			box);
		var loaded = false;

		function load(where) {
			if (loaded)
				return;
			loaded = true;
			if (where)
				part(box, getJSON(rawUrl(m.measurement_uid) + "/packets"), function (r) { drawPackets(box, m, r); });
			else
				getJSON(rawUrl(m.measurement_uid) + "/packets").then(function (r) { drawPackets(box, m, r); })
					.catch(function (e) { failed(box, e); });
		}
		d.addEventListener("toggle", function () {
			if (d.open)
				load(false);
		});
		if (openUid && openUid === m.measurement_uid) {
			d.setAttribute("open", "");
			load(true);
		}
		return el("tr", { class: "evidence-row" }, el("td", { colspan: ncols }, d));
	}

	function renderTarget() {
		var input = param("input"), cc = param("cc"), asn = param("asn");
		var days = parseInt(param("days"), 10), list, since, host, nav;
		var now, tl, states, events, recent, charts;

		document.body.setAttribute("data-page", "target");
		if (RANGES.indexOf(days) < 0)
			days = 30;
		if (!input) {
			title("Target");
			app.appendChild(el("form", { action: "/target", method: "get", class: "filters" },
				el("label", { class: "filter" }, "Target URL ",
					el("input", { name: "input", type: "text", size: 50, spellcheck: "false" })),
				el("button", { type: "submit" }, "Show")));
			document.documentElement.setAttribute("data-ready", "true");
			return;
		}
		list = dayList(days);
		since = list[0];
		host = hostOf(input);
		nav = el("p", { class: "meta" });
		title("Target", nav);
		app.insertBefore(el("p", { class: "target-input" }, el("code", null, input)), nav);
		add(nav, [
			host ? ["Domain ", el("a", { href: domainUrl(host) }, host), " · "] : null,
			cc || asn ? ["Only ", netLabel(cc, asn), " (", el("a", { href: targetUrl(input, { days: days }) }, "every network"), ") · "] : null,
			"Range: ",
			RANGES.map(function (r, i) {
				return [i ? " " : "", r === days
					? el("strong", null, r + " days")
					: el("a", { href: targetUrl(input, { cc: cc, asn: asn, days: r }) }, r + " days")];
			}),
			" · ",
			el("a", { href: apiUrl("export", { format: "csv", input: input, cc: cc, asn: asn }), download: "" },
				"CSV of its measurements")
		]);
		states = section("Current state", "state");
		tl = section("Timeline, one strip per network (UTC days)", "timeline");
		charts = section("Outcomes per day", "charts");
		events = section("Changes of state", "events");
		recent = section("Recent measurements", "measurements");
		now = { input: input, cc: cc, asn: asn };

		part(states, getJSON(apiUrl("targets", Object.assign({ limit: PAGE }, now))), function (r) {
			var rows = (Array.isArray(r.targets) ? r.targets : []).filter(function (t) {
				return t.input === input;
			});

			if (!rows.length) {
				add(states, el("p", { class: "empty" }, "No state yet for this target."));
				return;
			}
			if (rows[0].category_code)
				add(nav, [" · Category ", el("span", { title: CATEGORIES[rows[0].category_code] || null }, rows[0].category_code)]);
			states.appendChild(targetTable(rows.sort(defaultOrder), TARGET_COLUMNS));
		});

		var timeline = getJSON(apiUrl("timeline", Object.assign({ since: since, granularity: "day" }, now)));

		part(tl, timeline, function (r) {
			var nets = byNetwork(r.buckets);

			tl.appendChild(legend());
			if (!nets.order.length) {
				add(tl, el("p", { class: "empty" }, "No measurement of this target in the last " + days + " days."));
				return;
			}
			var box = el("div", { class: "timeline", role: "group", "aria-label": "Timeline" });

			nets.order.forEach(function (k) {
				box.appendChild(strip(nets.label[k], k, list, nets.days[k]));
			});
			box.appendChild(axis(list));
			tl.appendChild(box);
		});
		part(charts, timeline, function (r) {
			var nets = byNetwork(r.buckets);

			if (!nets.order.length) {
				add(charts, el("p", { class: "empty" }, "Nothing to chart."));
				return;
			}
			charts.appendChild(legend());
			nets.order.forEach(function (k) {
				charts.appendChild(chart(nets.label[k], list, nets.days[k]));
			});
		});
		/* the measurements of the range: the recent list, and which of
		 * an event's measurements are confirmed by packets */
		var measP = allPages("measurements", "measurements", Object.assign({ since: since }, now), 5000);

		part(events, Promise.all([allPages("events", "events", now, 5000),
			measP.catch(function () { return []; })]), function (both) {
			var r = both[0], byUid = {};

			both[1].forEach(function (m) { byUid[m.measurement_uid] = m; });
			var evs = r.slice().sort(function (a, b) {
				return cmp(b.time || "", a.time || "") || cmp(b.id || 0, a.id || 0);
			});

			if (!evs.length) {
				add(events, el("p", { class: "empty" }, "No change of state recorded."));
				return;
			}
			events.appendChild(el("ul", { class: "events" }, evs.map(function (e) {
				var uids = Array.isArray(e.measurements) ? e.measurements : [];
				var proven = uids.filter(function (u) {
					return byUid[u] && byUid[u].confirmed_by_packets;
				});

				return el("li", { class: "event to-" + (STATES.indexOf(e.to) >= 0 ? e.to : "unknown") },
					el("span", { class: "net" }, netLabel(e.probe_cc, e.probe_asn)), " ",
					stateBadge(e.to, null), " ",
					el("span", { class: "event-text" }, eventText(e)),
					uids.length ? el("span", { class: "uids" }, " — " + plural(uids.length, "measurement") + ": ",
						uids.slice(0, 10).map(function (u, i) {
							return [i ? " " : "", el("a", { href: measurementUrl(u), title: String(u) }, String(i + 1))];
						}), uids.length > 10 ? " …" : "") : null,
					/* packet proof among them (those of the page's range) */
					proven.length ? el("span", { class: "ev-packets" }, " — ",
						el("a", {
							href: targetUrl(input, { cc: cc, asn: asn, days: days, open: proven[0] }) +
								"#ev-" + encodeURIComponent(proven[0])
						}, "confirmed by packets"),
						" in " + proven.length + " of them") : null);
			})));
		});
		part(recent, measP, function (ms) {
			var shown, byPackets, openUid = param("open");

			ms = ms.filter(function (m) { return m.input === input; }).sort(function (a, b) {
				return cmp(b.measurement_start_time || "", a.measurement_start_time || "") ||
					cmp(b.id || 0, a.id || 0);
			});
			if (!ms.length) {
				add(recent, el("p", { class: "empty" }, "No measurement in the last " + days + " days."));
				return;
			}
			shown = ms.slice(0, 50);
			/* ?open=UID: that one's evidence opened, even if older */
			if (openUid && !shown.some(function (m) { return m.measurement_uid === openUid; }))
				shown = shown.concat(ms.filter(function (m) { return m.measurement_uid === openUid; }));
			byPackets = shown.filter(function (m) { return m.confirmed_by_packets; }).length;
			add(recent, el("p", { class: "note" }, "The " + plural(Math.min(shown.length, 50), "most recent measurement") +
				" of " + ms.length + " in the last " + days + " days; each links to its evidence in words and to the raw measurement (JSON)." +
				(byPackets ? " " + byPackets + " of them " + (byPackets === 1 ? "is" : "are") +
					" confirmed by packets: open its packet evidence under it." : "")));
			recent.appendChild(el("table", { class: "measurements" },
				el("thead", null, el("tr", null, ["Started", "Network", "Outcome", "Detail", "Confirmed", "Evidence"]
					.map(function (h) { return el("th", { scope: "col" }, h); }))),
				el("tbody", null, shown.map(function (m) {
					var o = rowOutcome(m);
					var tr = el("tr", { class: "meas o-row-" + o + (m.confirmed_by_packets ? " by-packets" : "") },
						el("td", null, timeNode(m.measurement_start_time)),
						el("td", null, netLabel(m.probe_cc, m.probe_asn),
							m.geo_mismatch ? el("span", {
								class: "warn", title: "the submitter's address maps to " +
									netLabel(m.observed_cc, m.observed_asn)
							}, " ⚠") : null),
						el("td", null, outcomeBadge(o)),
						detailCell(m),
						el("td", null, confirmedCell(m)),
						el("td", null, el("a", { href: measurementUrl(m.measurement_uid), class: "meas-link", title: String(m.measurement_uid) }, "in words"),
							" · ", el("a", { href: rawUrl(m.measurement_uid), class: "raw", title: String(m.measurement_uid) }, "JSON")));

					/* the evidence, folded, under its row */
					if (m.packets > 0 || evidenceNames(m).length)
						return [tr, evidenceRow(m, 6, openUid)];
					return tr;
				}))));
		});
	}

	function byNetwork(buckets) {
		var out = { order: [], label: {}, days: {} };

		(Array.isArray(buckets) ? buckets : []).forEach(function (b) {
			var k = netKey(b.probe_cc, b.probe_asn), d;

			if (!out.days[k]) {
				out.days[k] = {};
				out.label[k] = netLabel(b.probe_cc, b.probe_asn);
				out.order.push(k);
			}
			if (!isoOk(b.start))
				return;
			d = b.start.slice(0, 10);
			/* hours would add up into their day */
			if (out.days[k][d]) {
				OUTCOMES.forEach(function (o) { out.days[k][d][o] = count(out.days[k][d], o) + count(b, o); });
			} else {
				out.days[k][d] = {};
				OUTCOMES.forEach(function (o) { out.days[k][d][o] = count(b, o); });
			}
		});
		out.order.sort();
		return out;
	}

	/* --- a domain ------------------------------------------------------------------------ */

	function rollupBar(r, n) {
		var x = 0, parts = [["blocked", r.blocked], ["disrupted", r.disrupted], ["down", r.down],
			["unknown", r.unknown], ["accessible", r.accessible]];
		var s = svg("svg", { class: "rollup-bar", viewBox: "0 0 200 10", width: 200, height: 10, "aria-hidden": "true" });

		parts.forEach(function (p) {
			var w = n ? 200 * (p[1] || 0) / n : 0;

			if (w > 0)
				s.appendChild(svg("rect", { class: "state-fill-" + p[0], x: x.toFixed(2), y: 0, width: w.toFixed(2), height: 10 }));
			x += w;
		});
		return s;
	}

	function renderDomain() {
		var host = param("host").toLowerCase().replace(/\.$/, ""), roll, list;

		document.body.setAttribute("data-page", "domain");
		if (!host) {
			title("Domain");
			app.appendChild(el("p", null, "Type a domain in the box at the top, e.g. example.org."));
			document.documentElement.setAttribute("data-ready", "true");
			return;
		}
		title("Domain " + host, el("p", { class: "lead" },
			"What became of the URLs on ", el("strong", null, host), " that were tested, per network."));
		roll = section("Roll-up per network", "rollup");
		list = section("Its targets", "domain-targets");
		part(roll, getJSON("/api/v1/domains/" + encodeURIComponent(host)), function (r) {
			var nets = (Array.isArray(r.networks) ? r.networks : []).slice().sort(function (a, b) {
				return cmp(netKey(a.probe_cc, a.probe_asn), netKey(b.probe_cc, b.probe_asn));
			});

			if (!nets.length) {
				add(roll, el("p", { class: "empty" }, "No URL on " + host + " has been tested."));
				return;
			}
			roll.appendChild(el("ul", { class: "rollups" }, nets.map(function (n) {
				var c = function (k) { return typeof n[k] === "number" ? n[k] : 0; };
				var N = c("blocked") + c("disrupted") + c("accessible") + c("down") + c("unknown");
				var rest = [];

				if (c("down"))
					rest.push(c("down") + " down");
				if (c("unknown"))
					rest.push(c("unknown") + " unknown");
				return el("li", { class: "rollup", "data-network": netKey(n.probe_cc, n.probe_asn) },
					el("span", { class: "net" }, netLabel(n.probe_cc, n.probe_asn)), " ",
					rollupBar(n, N), " ",
					el("span", { class: "rollup-text" },
						"Of " + plural(N, "URL") + " on this domain, " + c("blocked") + " blocked, " +
						c("disrupted") + " disrupted, " + c("accessible") + " accessible" +
						(rest.length ? " (and " + rest.join(", ") + ")" : "") + "."));
			})));
		});
		part(list, allPages("targets", "targets", {}, MAX_TARGETS), function (all) {
			/* as the roll-up counts them: the host or a subdomain */
			var rows = all.filter(function (t) {
				var h = hostOf(t.input).replace(/\.$/, "");

				return h === host || h.slice(-host.length - 1) === "." + host;
			});

			if (!rows.length) {
				add(list, el("p", { class: "empty" }, "No target on " + host + "."));
				return;
			}
			list.appendChild(targetTable(rows.sort(function (a, b) {
				return cmp(a.input || "", b.input || "") || defaultOrder(a, b);
			}), DOMAIN_COLUMNS));
		});
	}

	/* --- route ----------------------------------------------------------------------------------- */

	/* The classes (see "vocabulary" above), before anything is drawn. */
	function loadVocabulary() {
		return getJSON("/api/v1/vocabulary").then(function (v) {
			(v && Array.isArray(v.classes) ? v.classes : []).forEach(function (c) {
				if (!c || typeof c.name !== "string" || OUTCOME_NAMES[c.name])
					return;
				OUTCOMES.push(c.name);
				OUTCOME_NAMES[c.name] = typeof c.label === "string" ? c.label : c.name;
				if (c.blocked === true)
					METHODS.push(c.name);
				if (c.conclusive === false)
					NO_VERDICT[c.name] = true;
			});
			if (!OUTCOMES.length)
				throw new Error("/api/v1/vocabulary: no verdict classes");
		});
	}

	/* The pages in files of their own (page_NAME.js, each loaded by a
	 * deferred script tag of index.html after this one): each registers
	 * window.WallwatchPages[NAME], a function drawing its page with the
	 * helpers below. Deferred scripts have all run once the document is
	 * parsed (DOMContentLoaded). */
	var PAGE_FILES = {
		"/network": "network", "/country": "country", "/changes": "changes",
		"/alerts": "alerts", "/measurement": "measurement"
	};
	var parsed = false, onParsed = [];

	document.addEventListener("DOMContentLoaded", function () {
		parsed = true;
		onParsed.splice(0).forEach(function (f) { f(); });
	});

	function renderPageFile(name) {
		var pages = window.WallwatchPages || {};

		if (!parsed) {
			onParsed.push(function () { renderPageFile(name); });
			return;
		}
		document.body.setAttribute("data-page", name);
		if (typeof pages[name] !== "function") {
			failed(section("Page", "page"), new Error("page_" + name + ".js did not load"));
			document.documentElement.setAttribute("data-error", "true");
			document.documentElement.setAttribute("data-ready", "true");
			return;
		}
		pages[name](window.Wallwatch);
	}

	/* What the page files use (text-only DOM, the API, the vocabulary,
	 * the page frame), read-only. */
	window.Wallwatch = Object.freeze({
		el: el, svg: svg, add: add, clear: clear, app: app,
		section: section, part: part, failed: failed, title: title,
		getJSON: getJSON, allPages: allPages, apiUrl: apiUrl, url: url,
		param: param, params: params, targetUrl: targetUrl,
		domainUrl: domainUrl, networkUrl: networkUrl, countryUrl: countryUrl,
		stateBadge: stateBadge, methodName: methodName,
		methodPhrase: methodPhrase, eventText: eventText, fmtTime: fmtTime,
		fmtDate: fmtDate, timeNode: timeNode, plural: plural, cmp: cmp,
		netLabel: netLabel, netKey: netKey, select: select,
		rollupBar: rollupBar, legend: legend, hostOf: hostOf,
		STATES: STATES, STATE_HELP: STATE_HELP, METHODS: METHODS,
		OUTCOMES: OUTCOMES, OUTCOME_NAMES: OUTCOME_NAMES,
		NO_VERDICT: NO_VERDICT, CATEGORIES: CATEGORIES,
		SITE_REFUSAL: SITE_REFUSAL, PAGE: PAGE,
		rawUrl: rawUrl, measurementUrl: measurementUrl, num: num,
		numText: numText, msText: msText, str: str,
		outcomeBadge: outcomeBadge, confirmedCell: confirmedCell,
		evidenceNames: evidenceNames, drawPackets: drawPackets
	});

	function route() {
		var goto = document.getElementById("goto-host");

		if (!parsed) {
			document.addEventListener("DOMContentLoaded", route);
			return;
		}
		if (goto && location.pathname === "/domain")
			goto.value = param("host");
		if (location.pathname === "/target")
			renderTarget();
		else if (location.pathname === "/domain")
			renderDomain();
		else if (PAGE_FILES[location.pathname])
			renderPageFile(PAGE_FILES[location.pathname]);
		else
			renderOverview();
	}

	loadVocabulary().then(route, function (e) {
		failed(section("Verdicts", "vocabulary"), e);
		document.documentElement.setAttribute("data-error", "true");
		document.documentElement.setAttribute("data-ready", "true");
		if (window.console)
			console.error(e);
	});
})();
