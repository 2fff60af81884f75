/*
 * runner_report.c - what a run shows: the progress line and the summary
 * table on a terminal, a verdict in words, and the line on memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failure.h"
#include "memacct.h"
#include "runner_int.h"
#include "util.h"

/* --- summary ------------------------------------------------------------- */

static char *
failure_text(const char *failure, const char *detail)
{
	if (failure == failure_unknown)
		return xasprintf("unknown_failure: %s", detail ? detail : "");
	return xstrdup(failure);
}

void
runner_summarise(struct runner *r, size_t index, const struct ww_measurement *m)
{
	struct summary_row *row = &r->rows[index];
	size_t ok = 0, nq = 0, naddr = 0;
	const char *qfail = NULL, *qdetail = NULL;

	row->input = xstrdup(m->input);
	for (size_t i = 0; i < m->n_queries; i++) {
		const struct ww_query *q = &m->queries[i];

		if (strcmp(q->hostname, m->queries[0].hostname) != 0)
			break; /* later queries belong to redirects */
		nq++;
		for (size_t k = 0; k < q->n_answers; k++)
			naddr += q->answers[k].type != WW_RR_CNAME;
		if (q->failure != NULL && qfail == NULL &&
		    q->failure != failure_dns_no_answer) {
			qfail = q->failure;
			qdetail = q->failure_detail;
		}
	}
	if (nq == 0)
		row->dns = xstrdup("-");
	else if (naddr > 0)
		row->dns = xasprintf("%zu addr", naddr);
	else
		row->dns = failure_text(qfail ? qfail : failure_dns_no_answer,
					qdetail);
	for (size_t i = 0; i < m->n_tcp; i++)
		ok += m->tcp[i].failure == NULL;
	if (m->n_tcp == 0)
		row->tcp = xstrdup("-");
	else if (ok == 0)
		row->tcp = failure_text(m->tcp[0].failure,
					m->tcp[0].failure_detail);
	else
		row->tcp = xasprintf("%zu/%zu ok", ok, m->n_tcp);
	for (size_t i = 0; i < m->n_tls; i++) {
		const struct ww_tls *t = &m->tls[i];
		char **slot = strcmp(t->sni_role, "target") == 0
				      ? &row->tls
				      : &row->control;

		if (*slot != NULL)
			continue;
		/* A neutral SNI gets the server's own certificate: a completed
		 * handshake is the expected, unfiltered outcome. */
		if (t->failure == NULL ||
		    (slot == &row->control && t->handshake_done))
			*slot = xstrdup("ok");
		else
			*slot = failure_text(t->failure, t->failure_detail);
	}
	if (m->n_http > 0) {
		const struct ww_http *h = &m->http[m->n_http - 1];

		if (h->failure != NULL)
			row->http = failure_text(h->failure, h->failure_detail);
		else if (m->n_http > 1)
			row->http = xasprintf("%d (%zu hops)", h->status,
					      m->n_http);
		else
			row->http = xasprintf("%d", h->status);
	}
}

static void
print_col(const char *s, int width)
{
	int len = s ? (int)strlen(s) : 1;

	if (len > width)
		fprintf(stderr, "%.*s~ ", width - 1, s);
	else
		fprintf(stderr, "%s%*s ", s ? s : "-", width - len, "");
}

void
runner_print_summary(struct runner *r)
{
	struct ww_testlist *l = &r->o->targets;

	fprintf(stderr, "\n");
	print_col("TARGET", 44);
	print_col("DNS", 20);
	print_col("TCP", 20);
	print_col("TLS (SNI)", 22);
	print_col("TLS (CONTROL)", 22);
	print_col("HTTP", 16);
	fprintf(stderr, "VERDICT\n");
	for (size_t i = 0; i < l->n; i++) {
		struct summary_row *row = &r->rows[i];

		if (row->input == NULL)
			continue;
		print_col(row->input, 44);
		print_col(row->dns, 20);
		print_col(row->tcp, 20);
		print_col(row->tls, 22);
		print_col(row->control, 22);
		print_col(row->http, 16);
		fprintf(stderr, "%s\n", row->verdict ? row->verdict : "-");
	}
}

void
runner_free_rows(struct runner *r)
{
	for (size_t i = 0; i < r->o->targets.n; i++) {
		struct summary_row *row = &r->rows[i];

		free(row->input);
		free(row->dns);
		free(row->tcp);
		free(row->tls);
		free(row->control);
		free(row->http);
		free(row->verdict);
	}
	free(r->rows);
}

/* --- progress ------------------------------------------------------------ */

void
runner_progress_cb(evutil_socket_t fd, short what, void *arg)
{
	struct runner *r = arg;
	size_t total = r->o->targets.n;
	double el = ww_mono() - r->t_start;

	(void)fd;
	(void)what;
	fprintf(stderr, "\r\033[K[%zu/%zu] in flight %zu, elapsed %.0fs",
		r->done, total, r->in_flight, el);
	if (r->done > 0 && r->done < total)
		fprintf(stderr, ", ETA %.0fs",
			el / (double)r->done * (double)(total - r->done));
	fflush(stderr);
}

/* "blocked: tls (tls.reset)", "ok", "down", "unknown (control_unavailable)" */
char *
runner_verdict_text(const json_t *tk)
{
	const json_t *b = json_object_get(tk, "blocking");
	const json_t *a = json_object_get(tk, "accessible");
	const char *detail =
		json_string_value(json_object_get(tk, "blocking_detail"));
	const char *reason = json_string_value(
		json_object_get(json_object_get(tk, "analysis"), "reason"));

	if (json_is_string(b))
		return xasprintf("%s%s%s%s", json_string_value(b),
				 detail ? " (" : "", detail ? detail : "",
				 detail ? ")" : "");
	if (json_is_false(b))
		return xstrdup(json_is_true(a) ? "ok" : "down");
	return xasprintf("unknown (%s)", reason ? reason : "?");
}

/* A budget below what the process costs before it measures cannot be
 * kept: one target at a time then (warn rather than refuse: the baseline
 * moves with library and trust store updates, and a daemon that stops
 * measuring after an upgrade is worse than a slow one). */
void
runner_check_memory(struct runner *r)
{
	struct ww_engine_memory mem;

	ww_engine_memory(r->engine, &mem);
	if (mem.budget > 0 && mem.baseline + MA_OP_RESERVE > mem.budget)
		log_warn("memory",
			 "--max-memory %.1f MiB is below this process's "
			 "baseline of %.1f MiB (libraries, trust store): "
			 "one target at a time",
			 (double)mem.budget / 1048576.0,
			 (double)mem.baseline / 1048576.0);
}

/* One line on memory at the end of a run: what the budget did. */
void
runner_print_memory(const struct runner *r)
{
	struct ww_engine_memory mem;
	char budget[96];

	ww_engine_memory(r->engine, &mem);
	if (mem.budget > 0)
		snprintf(budget, sizeof(budget), "%.1f MiB",
			 (double)mem.budget / 1048576.0);
	else if (mem.lifted > 0)
		snprintf(budget, sizeof(budget),
			 "none (the default %.1f MiB lifted: the process "
			 "alone is over it)",
			 (double)mem.lifted / 1048576.0);
	else
		snprintf(budget, sizeof(budget), "none");
	fprintf(stderr,
		"wallwatch-probe: memory: peak RSS %.1f MiB, budget %s, "
		"baseline %.1f MiB, accounted peak %.1f MiB; %zu handshakes "
		"and transfers at once at most, %llu waited for memory\n",
		(double)memacct_peak_rss() / 1048576.0, budget,
		(double)mem.baseline / 1048576.0,
		(double)mem.peak_accounted / 1048576.0, mem.max_active,
		(unsigned long long)mem.waited);
}
