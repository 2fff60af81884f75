/*
 * runner_int.h - the run's state (struct runner), shared by the files of
 * the run: runner.c (the loop: targets in flight, output, spool),
 * runner_cool.c (--cooldown), runner_refs.c (the --reference check) and
 * runner_report.c (progress, summary, the memory line). Not for use
 * outside them: the interface is probe.h's runner_*().
 */
#ifndef WW_PROBE_RUNNER_INT_H
#define WW_PROBE_RUNNER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "probe.h"

struct summary_row {
	char *input;
	char *dns, *tcp, *tls, *control, *http, *verdict;
};

struct runner {
	struct probe_opts *o;
	struct event_base *base;
	struct ww_engine *engine;
	struct probe_env *env;	   /* NULL: no state directory */
	struct uploader *uploader; /* NULL: nothing is uploaded */
	struct ww_job **jobs;	   /* in-flight jobs by slot; NULL when free */
	size_t *order; /* target indices not started yet, in order */
	size_t n_order;
	size_t done, in_flight, started;
	bool stopping;
	bool budget_hit; /* --max-bytes reached: start no more */
	bool finished;
	runner_done_cb done_cb;
	void *done_arg;
	int out_fd;
	char *out_path;
	bool write_failed;
	size_t spool_failed; /* measurements neither spooled nor held */
	time_t test_start;
	double t_start;
	char *cc, *asn; /* what measurements record */
	char *report_web, *report_endpoint;
	struct event *progress, *cool_timer;
	bool tty;
	struct summary_row *rows;
	char arch[65];
	json_t *cool; /* "addr:port" / "host:port" -> monotonic time free */
	bool own_cool;
	struct ww_job **ref_jobs; /* reference targets in flight */
	size_t ref_pending;
	bool net_ok;
	json_t *network_check; /* NULL: no reference was measured */
};

/* --- runner.c ------------------------------------------------------------ */

/* Start targets while there is room (concurrency, --max-bytes,
 * --max-memory, --cooldown); then runner_maybe_finish(). */
void runner_start_more(struct runner *r);
/* Call the done callback once nothing is in flight and nothing more will
 * start (every target done, cancelled, or the budget hit). */
void runner_maybe_finish(struct runner *r);

/* --- runner_cool.c: tests of one address:port spaced by --cooldown ------- */

/* t starts: its endpoints are busy until runner_cool_release(). */
void runner_cool_hold(struct runner *r, const struct ww_target *t);
/* t finished as m: learn the endpoints it used, start their cooldown. */
void runner_cool_release(struct runner *r, const struct ww_target *t,
			 const struct ww_measurement *m);
/* Position in r->order of the next target to start, or -1; *wait is then
 * the least time until one may start (HUGE_VAL: when a test ends). */
ssize_t runner_pick(struct runner *r, double *wait);

/* --- runner_refs.c: the domestic reference targets, measured first ------- */

/* Measure o->references (at least one); when the last ends, set
 * r->network_check and start the targets. */
void runner_start_references(struct runner *r);

/* --- runner_report.c: what a terminal and the log see -------------------- */

/* The summary row of target index, from its measurement. */
void runner_summarise(struct runner *r, size_t index,
		      const struct ww_measurement *m);
void runner_print_summary(struct runner *r);
void runner_free_rows(struct runner *r);
/* The progress line (an event callback: arg is the runner). */
void runner_progress_cb(evutil_socket_t fd, short what, void *arg);
/* A verdict in words from test_keys: "blocked: tls (tls.reset)", "ok",
 * "down", "unknown (control_unavailable)"; caller frees. */
char *runner_verdict_text(const json_t *tk);
/* Warn when --max-memory is below the process's baseline. */
void runner_check_memory(struct runner *r);
/* --verbose: one line on memory at the end of a run. */
void runner_print_memory(const struct runner *r);

#endif
