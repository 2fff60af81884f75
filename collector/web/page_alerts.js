/*
 * page_alerts.js - the alerts' status page (/alerts; docs/alerts.md): the
 * recent alerts (GET /api/v1/alerts, filtered by ?cc ?asn ?category
 * ?state as the overview), the feed's address with the same filters, and
 * the webhooks' delivery log (GET /api/v1/alerts/deliveries).
 *
 * Everything from the data (inputs from volunteers, the networks, the
 * webhooks' origins) is set as text only, never as HTML. app.js calls
 * window.WallwatchPages.alerts() for the path /alerts (app.js's
 * PAGE_FILES); <html> gets
 * data-ready="true" when the page has loaded (or failed).
 */
(function () {
	"use strict";

	var FILTERS = ["cc", "asn", "category", "state"];

	function el(tag, attrs, children) {
		var n = document.createElement(tag);

		Object.keys(attrs || {}).forEach(function (k) {
			n.setAttribute(k, String(attrs[k]));
		});
		[].concat(children === undefined ? [] : children).forEach(function (c) {
			if (c === null || c === undefined)
				return;
			n.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
		});
		return n;
	}

	function query() {
		var p = new URLSearchParams(location.search), q = new URLSearchParams();

		FILTERS.forEach(function (k) {
			var v = p.get(k);

			if (v)
				q.set(k, v);
		});
		return q;
	}

	function getJSON(u) {
		return fetch(u, { headers: { Accept: "application/json" } }).then(function (r) {
			return r.json().catch(function () { return {}; }).then(function (b) {
				if (!r.ok)
					throw new Error(u + ": " + r.status + " " + (b.error || ""));
				return b;
			});
		});
	}

	function fmt(s) {
		return typeof s === "string" ? s.replace("T", " ").replace("Z", " UTC") : "";
	}

	function failed(where, e) {
		where.appendChild(el("p", { class: "error" }, String(e && e.message || e)));
		document.documentElement.setAttribute("data-error", "true");
	}

	function alertItem(a) {
		var targets = el("ul", { class: "alert-targets" });

		(Array.isArray(a.targets) ? a.targets : []).forEach(function (t) {
			targets.appendChild(el("li", {}, [
				el("code", {}, t.input),
				" " + t.state + (t.method ? " by " + t.method : "") + ", " + fmt(t.time)
			]));
		});
		return el("li", { class: "alert alert-" + (a.direction === "end" ? "end" : "onset") }, [
			el("strong", {}, a.title),
			el("details", {}, [el("summary", {}, (a.n_targets || 0) + " target" +
				(a.n_targets === 1 ? "" : "s") + " (" + a.key + ")"), targets])
		]);
	}

	function drawAlerts(sec, r) {
		var list = Array.isArray(r.alerts) ? r.alerts : [];

		if (!list.length) {
			sec.appendChild(el("p", { class: "empty" },
				"No blocking began or ended in the last 30 days" +
				(query().toString() ? " for these filters." : ".")));
			return;
		}
		sec.appendChild(el("ul", { class: "alerts" }, list.map(alertItem)));
	}

	function drawDeliveries(sec, d) {
		var hooks = Array.isArray(d.webhooks) ? d.webhooks : [];
		var log = Array.isArray(d.log) ? d.log : [];
		var c = d.counters || {};
		var body;

		if (!hooks.length) {
			sec.appendChild(el("p", { class: "note" },
				"No webhook is configured on this collector (--webhook URL, " +
				"--webhook-secret FILE); the feed above is served either way."));
			return;
		}
		sec.appendChild(el("p", { class: "meta" },
			"Webhooks: " + hooks.map(function (h) {
				return "#" + h.webhook + " " + h.origin;
			}).join(", ") + ". Windows of " + d.window_seconds + " s, sent " +
			d.settle_seconds + " s after their end; " + d.retries +
			" retries from " + d.backoff_seconds + " s, doubling."));
		sec.appendChild(el("p", { class: "meta" },
			"Sent: " + (c.onset_alerts || 0) + " onset, " + (c.end_alerts || 0) +
			" end alerts; delivered " + (c.delivered || 0) + ", given up " +
			(c.given_up || 0) + ", pending " + (d.pending || 0) +
			"; attempts failed " + (c.attempts_failed || 0) + "."));
		if (!log.length) {
			sec.appendChild(el("p", { class: "empty" }, "No delivery attempted yet."));
			return;
		}
		body = el("tbody", {}, log.map(function (r) {
			return el("tr", { class: "delivery delivery-" + String(r.result).replace(/ /g, "-") }, [
				el("td", {}, fmt(r.time)),
				el("td", {}, "#" + r.webhook + " " + r.origin),
				el("td", {}, el("code", {}, r.alert)),
				el("td", {}, String(r.attempt)),
				el("td", {}, r.status ? String(r.status) : "—"),
				el("td", {}, r.result + (r.error ? " (" + r.error + ")" : ""))
			]);
		}));
		sec.appendChild(el("table", { class: "deliveries" }, [
			el("thead", {}, el("tr", {}, ["time", "webhook", "alert", "attempt",
				"status", "result"].map(function (h) { return el("th", {}, h); }))),
			body
		]));
	}

	function render() {
		var main = document.getElementById("app");
		var q = query().toString();
		var feed = "/feed.atom" + (q ? "?" + q : "");
		var list = el("section", { id: "alerts" }, el("h2", {}, "Recent alerts"));
		var dl = el("section", { id: "deliveries" }, el("h2", {}, "Webhook deliveries"));

		while (main.firstChild)
			main.removeChild(main.firstChild);
		main.appendChild(el("h1", {}, "Alerts"));
		main.appendChild(el("p", { class: "lead" }, [
			"One alert when blocking begins on a network and one when it ends, " +
			"its targets grouped per window. Subscribe: ",
			el("a", { href: feed, class: "feed" }, feed)
		]));
		main.appendChild(list);
		main.appendChild(dl);
		return Promise.all([
			getJSON("/api/v1/alerts" + (q ? "?" + q : "")).then(function (r) {
				drawAlerts(list, r);
			}).catch(function (e) { failed(list, e); }),
			getJSON("/api/v1/alerts/deliveries").then(function (d) {
				drawDeliveries(dl, d);
			}).catch(function (e) { failed(dl, e); })
		]).then(function () {
			document.documentElement.setAttribute("data-ready", "true");
		});
	}

	window.WallwatchPages = window.WallwatchPages || {};
	window.WallwatchPages.alerts = function () { render(); };
})();
