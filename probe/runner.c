/*
 * runner.c - one run of the probe: keep --concurrency targets in flight on
 * one event base (in a random order for the daemon, each address:port
 * spaced by --cooldown, until --max-bytes), spool each finished
 * measurement for upload (spool.h) and write it as one JSON line (flushed
 * at once, so an interrupted run keeps what it measured), show progress
 * and a summary on a terminal.
 *
 * Before the targets, the run measures its domestic reference targets
 * (--reference, runner_refs.c). Each measurement is analysed (analysis.h),
 * then scrubbed of the volunteer's own addresses, before it is written.
 * The cooldowns are runner_cool.c's, what a terminal sees
 * runner_report.c's; the state they share is runner_int.h's.
 */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "analysis.h"
#include "failure.h"
#include "memacct.h"
#include "probe.h"
#include "runner_int.h"
#include "scrubmeas.h"
#include "spoolhold.h"
#include "state.h"
#include "upload.h"
#include "util.h"

struct slot_arg {
	struct runner *r;
	size_t slot;
	size_t index; /* target index, for the summary */
};

static int
open_output(struct runner *r)
{
	const char *path = r->o->output;
	char ts[17], rnd[9];

	if (path != NULL && strcmp(path, "-") == 0) {
		r->out_fd = STDOUT_FILENO;
		r->out_path = xstrdup("standard output");
		return 0;
	}
	if (path == NULL) {
		char *dir = probe_data_dir();
		char *mdir = xasprintf("%s/measurements", dir);

		free(dir);
		if (spool_mkdirs(mdir) != 0) {
			log_error("output", "cannot create %s: %s", mdir,
				  strerror(errno));
			free(mdir);
			return -1;
		}
		ww_fmt_utc_compact(r->test_start, ts);
		ww_random_hex(rnd, 4);
		r->out_path = xasprintf("%s/%s-%s.jsonl", mdir, ts, rnd);
		free(mdir);
	} else {
		r->out_path = xstrdup(path);
	}
	/* Append: never clobber measurements already in a named file. */
	r->out_fd = open(r->out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			 0644);
	if (r->out_fd < 0) {
		log_error("output", "cannot open %s: %s", r->out_path,
			  strerror(errno));
		return -1;
	}
	return 0;
}

static void
write_line(struct runner *r, const char *line)
{
	size_t len = strlen(line), off = 0;
	char *buf = xmalloc(len + 1);

	memcpy(buf, line, len);
	buf[len++] = '\n';
	/* One write per line (O_APPEND): a crash leaves whole lines only,
	 * except for a short write, which we retry and report. */
	while (off < len) {
		ssize_t n = write(r->out_fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!r->write_failed)
				log_error("output", "writing %s: %s",
					  r->out_path, strerror(errno));
			r->write_failed = true;
			break;
		}
		off += (size_t)n;
	}
	free(buf);
}

static void
cool_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	runner_start_more(arg);
}

/* --- the run ------------------------------------------------------------- */

static struct ww_measurement *
new_measurement(struct runner *r, const struct ww_target *t)
{
	struct ww_measurement *m = ww_measurement_new();
	struct timeval now;
	struct tm tm;
	char rnd[33], ts[32];

	gettimeofday(&now, NULL);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y%m%d%H%M%S", &tm);
	ww_random_hex(rnd, 16);
	m->input = xstrdup(t->input);
	m->test_name = xstrdup(ww_test_name(t->kind));
	m->test_version = xstrdup(WW_TEST_VERSION);
	m->measurement_start_time = now.tv_sec;
	m->test_start_time = r->test_start;
	m->probe_cc = xstrdup(r->cc);
	m->probe_asn = xstrdup(r->asn);
	m->report_id = xstrdup(strcmp(m->test_name, "wallwatch_web") == 0
				       ? r->report_web
				       : r->report_endpoint);
	m->measurement_uid =
		xasprintf("%s.%06ld_%s_%s_%s", ts, (long)now.tv_usec,
			  m->probe_cc, m->test_name, rnd);
	m->software_name = xstrdup("wallwatch-probe");
	m->software_version = xstrdup(WW_VERSION);
	return m;
}

/* Its annotations and options, added as it ends: a target can wait a
 * second for its DNS late window, and hundreds waiting should not each
 * hold these JSON objects meanwhile. */
static void
describe_measurement(struct runner *r, struct ww_measurement *m,
		     const struct ww_target *t)
{
	json_object_set_new(m->annotations, "engine_name",
			    json_string("wallwatch"));
	json_object_set_new(m->annotations, "engine_version",
			    json_string(WW_VERSION));
	json_object_set_new(m->annotations, "platform", json_string("linux"));
	json_object_set_new(m->annotations, "architecture",
			    json_string(r->arch));
	if (t->source != NULL)
		json_object_set_new(m->annotations, "input_source",
				    json_string(t->source));
	json_object_set_new(m->options, "timeout",
			    json_real(r->o->cfg.timeout));
	json_object_set_new(m->options, "max_addrs",
			    json_integer(r->o->cfg.max_addrs));
	json_object_set_new(m->options, "concurrency",
			    json_integer(r->o->concurrency));
	json_object_set_new(
		m->options, "trust_store",
		json_string(r->o->cfg.ca_file ? "ca_file" : "system"));
}

/* The measurement's JSON line, with its verdict, scrubbed of the
 * volunteer's own addresses (after the analysis, which compares real
 * addresses). */
static char *
analysed_line(struct runner *r, struct ww_measurement *m, char **verdict)
{
	json_t *j;
	char *line, err[256];

	if (r->network_check != NULL)
		m->network_check = json_incref(r->network_check);
	j = ww_measurement_take_json(m); /* m is freed next */
	if (ww_analyze(j, r->o->fp, err, sizeof(err)) != 0)
		log_warn("analysis", "%s: %s", m->input, err);
	*verdict = runner_verdict_text(json_object_get(j, "test_keys"));
	if (r->env != NULL)
		scrub_measurement(r->env->scrub, j);
	line = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
				     JSON_REAL_PRECISION(9));
	json_decref(j);
	if (line == NULL)
		abort(); /* only on OOM inside jansson */
	return line;
}

void
runner_maybe_finish(struct runner *r)
{
	if (r->finished || r->in_flight > 0 || r->ref_pending > 0)
		return;
	if (!r->stopping && !r->budget_hit && r->n_order > 0)
		return;
	r->finished = true;
	if (r->cool_timer != NULL)
		evtimer_del(r->cool_timer);
	if (r->done_cb != NULL)
		r->done_cb(r->done_arg);
}

static void
job_done(struct ww_measurement *m, void *arg)
{
	struct slot_arg *sa = arg;
	struct runner *r = sa->r;
	char *verdict, *line;

	describe_measurement(r, m, &r->o->targets.targets[sa->index]);
	line = analysed_line(r, m, &verdict);

	/* The spool first: it is what reaches the collector. */
	if (r->uploader != NULL) {
		if (env_spool(r->env, m->measurement_uid, line, strlen(line)) <
		    0)
			r->spool_failed++;
		uploader_kick(r->uploader, false);
	}
	if (r->out_fd >= 0)
		write_line(r, line);
	free(line);
	runner_cool_release(r, &r->o->targets.targets[sa->index], m);
	runner_summarise(r, sa->index, m);
	r->rows[sa->index].verdict = verdict;
	ww_measurement_free(m);
	r->jobs[sa->slot] = NULL;
	r->in_flight--;
	r->done++;
	free(sa);
	if (!r->stopping)
		runner_start_more(r);
	runner_maybe_finish(r);
}

void
runner_start_more(struct runner *r)
{
	struct ww_testlist *l = &r->o->targets;
	size_t s = 0;

	if (r->ref_pending > 0 || r->finished)
		return;
	while (!r->stopping && !r->budget_hit && r->n_order > 0 &&
	       r->in_flight < (size_t)r->o->concurrency) {
		struct slot_arg *sa;
		double wait;
		ssize_t k;

		if (r->o->max_bytes > 0 &&
		    ww_engine_bytes(r->engine) >= r->o->max_bytes) {
			r->budget_hit = true;
			log_warn("run",
				 "--max-bytes reached (%llu bytes): %zu "
				 "target(s) left for the next run",
				 (unsigned long long)ww_engine_bytes(r->engine),
				 r->n_order);
			break;
		}
		/* --max-memory: a new target waits while memory is short
		 * (engine/loop/memacct.h); one always runs. Looked at again
		 * when a target ends, and soon: memory also frees mid-target.
		 */
		if (r->in_flight > 0 && !ww_engine_memory_room(r->engine)) {
			struct timeval tv = ww_timeval(MA_RECHECK_MS / 1000.0);

			evtimer_add(r->cool_timer, &tv);
			break;
		}
		k = runner_pick(r, &wait);
		if (k < 0) {
			if (wait != HUGE_VAL) {
				/* A millisecond late: never early. */
				struct timeval tv = ww_timeval(wait + 0.001);

				evtimer_add(r->cool_timer, &tv);
			}
			break;
		}
		while (r->jobs[s] != NULL)
			s++;
		sa = xmalloc(sizeof(*sa));
		sa->r = r;
		sa->slot = s;
		sa->index = r->order[k];
		memmove(r->order + k, r->order + k + 1,
			(r->n_order - (size_t)k - 1) * sizeof(*r->order));
		r->n_order--;
		r->in_flight++;
		r->started++;
		runner_cool_hold(r, &l->targets[sa->index]);
		/* The callback never runs inside ww_job_start() (engine.h),
		 * so the slot is filled before job_done() can empty it. */
		r->jobs[s] =
			ww_job_start(r->engine, &l->targets[sa->index],
				     new_measurement(r, &l->targets[sa->index]),
				     job_done, sa);
	}
	runner_maybe_finish(r);
}

/* --- the runner's interface ---------------------------------------------- */

/* Fisher-Yates with the CSPRNG: a censor watching many probes should not
 * be able to predict which target comes next. */
static void
shuffle(size_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		char hex[17];
		unsigned long long x;
		size_t j, t;

		ww_random_hex(hex, 8);
		x = strtoull(hex, NULL, 16);
		j = (size_t)(x % i);
		t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

struct runner *
runner_new(struct event_base *base, struct probe_opts *o, struct probe_env *env,
	   struct uploader *up, json_t *cool)
{
	struct runner *r = xcalloc(1, sizeof(*r));
	struct utsname un;

	r->o = o;
	r->base = base;
	r->env = env;
	r->uploader = up;
	r->out_fd = -1;
	r->cool = cool ? json_incref(cool) : json_object();
	snprintf(r->arch, sizeof(r->arch), "%s",
		 uname(&un) == 0 ? un.machine : "unknown");
	r->rows = xcalloc(o->targets.n ? o->targets.n : 1, sizeof(*r->rows));
	r->jobs = xcalloc((size_t)o->concurrency, sizeof(*r->jobs));
	r->order = xcalloc(o->targets.n ? o->targets.n : 1, sizeof(*r->order));
	for (size_t i = 0; i < o->targets.n; i++)
		r->order[i] = i;
	r->n_order = o->targets.n;
	if (o->shuffle)
		shuffle(r->order, r->n_order);
	return r;
}

/* The pcapng file's payloads: the volunteer's addresses masked, as in the
 * measurements (ww_config.pcap_scrub). */
static void
pcap_scrub_cb(void *arg, uint8_t *payload, size_t len)
{
	struct probe_env *env = arg;

	ww_scrub_mask_inplace(env->scrub, payload, len);
}

/* Capture off in auto mode: said once per process, not once per daemon
 * run (--quiet silences it, as other notices). */
static void
capture_notice(const struct runner *r)
{
	static bool said;
	const char *why = ww_engine_capture_status(r->engine);

	if (why == NULL || said || r->o->cfg.capture != WW_CAPTURE_AUTO)
		return;
	said = true;
	log_info("capture",
		 "packet capture is off (%s); measuring without packet "
		 "evidence",
		 why);
}

int
runner_begin(struct runner *r, runner_done_cb cb, void *arg)
{
	struct probe_opts *o = r->o;
	char err[512], ts[17], rnd[17];
	struct timeval tick = {0, 250000};
	const char *cc = o->probe_cc, *asn = o->probe_asn;

	if (cc == NULL && r->env != NULL)
		cc = state_cc(r->env);
	if (asn == NULL && r->env != NULL)
		asn = state_asn(r->env);
	r->cc = xstrdup(cc ? cc : "ZZ");
	r->asn = xstrdup(asn ? asn : "AS0");
	r->done_cb = cb;
	r->done_arg = arg;
	r->test_start = time(NULL);
	r->t_start = ww_mono();
	r->tty = o->progress && isatty(STDERR_FILENO) && !o->quiet;
	ww_fmt_utc_compact(r->test_start, ts);
	ww_random_hex(rnd, 8);
	r->report_web = xasprintf("%s_wallwatch_web_%s_%s_%s", ts, r->cc,
				  r->asn + 2, rnd);
	r->report_endpoint = xasprintf("%s_wallwatch_endpoint_%s_%s_%s", ts,
				       r->cc, r->asn + 2, rnd);
	if (r->env != NULL) {
		o->cfg.pcap_scrub = pcap_scrub_cb;
		o->cfg.pcap_scrub_arg = r->env;
	}
	r->engine = ww_engine_new(r->base, &o->cfg, err, sizeof(err));
	if (r->engine == NULL) {
		log_error("run", "%s", err);
		return -1;
	}
	capture_notice(r);
	runner_check_memory(r);
	if ((o->output != NULL || r->uploader == NULL) && open_output(r) != 0)
		return -1;
	r->cool_timer = evtimer_new(r->base, cool_timer_cb, r);
	if (r->tty) {
		r->progress = event_new(r->base, -1, EV_PERSIST,
					runner_progress_cb, r);
		event_add(r->progress, &tick);
	}
	if (o->n_references > 0)
		runner_start_references(r);
	else
		runner_start_more(r);
	return 0;
}

void
runner_cancel(struct runner *r)
{
	if (r->stopping || r->finished)
		return;
	r->stopping = true;
	if (r->tty)
		fprintf(stderr, "\n");
	for (size_t s = 0; s < (size_t)r->o->concurrency; s++)
		if (r->jobs[s] != NULL)
			ww_job_cancel(r->jobs[s]);
	for (size_t i = 0; i < r->o->n_references; i++)
		if (r->ref_jobs != NULL && r->ref_jobs[i] != NULL)
			ww_job_cancel(r->ref_jobs[i]);
	runner_maybe_finish(r);
}

bool
runner_stopped(const struct runner *r)
{
	return r->stopping;
}

/* The run in state.json, for `status`. */
static void
record_run(struct runner *r)
{
	char a[20], b[20];
	json_t *run;

	if (r->env == NULL)
		return;
	ww_fmt_utc(r->test_start, a);
	ww_fmt_utc(time(NULL), b);
	run = json_pack(
		"{s:s, s:s, s:I, s:I, s:I, s:I, s:s?}", "start", a, "end", b,
		"targets", (json_int_t)r->o->targets.n, "measured",
		(json_int_t)r->done, "bytes",
		(json_int_t)(r->engine ? ww_engine_bytes(r->engine) : 0),
		"spool_failures", (json_int_t)r->spool_failed, "stopped",
		r->stopping	? "signal"
		: r->budget_hit ? "max-bytes"
				: NULL);
	json_object_set_new(r->env->state, "last_run", run);
	state_save(r->env);
}

int
runner_end(struct runner *r)
{
	struct stat st;
	int rc;

	if (r->tty) {
		runner_progress_cb(-1, 0, r);
		fprintf(stderr, "\n");
		runner_print_summary(r);
	}
	/* Measurements on disk before we say so; pipes and devices (a
	 * --output of /dev/stdout or /dev/null) have nothing to sync. */
	if (r->out_fd >= 0 && r->out_fd != STDOUT_FILENO &&
	    fstat(r->out_fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    fsync(r->out_fd) != 0 && !r->write_failed) {
		log_error("output", "fsync %s: %s", r->out_path,
			  strerror(errno));
		r->write_failed = true;
	}
	if (!r->o->quiet)
		fprintf(stderr,
			"wallwatch-probe: %zu of %zu targets measured "
			"in %.1fs; results in %s\n",
			r->done, r->o->targets.n, ww_mono() - r->t_start,
			r->out_path ? r->out_path : "the spool");
	if ((r->o->verbose || r->tty) && r->engine != NULL)
		runner_print_memory(r);
	record_run(r);
	if (r->write_failed || r->stopping || r->spool_failed > 0)
		rc = EXIT_RUNFAIL;
	else
		rc = EXIT_MEASURED;
	if (r->progress)
		event_free(r->progress);
	if (r->cool_timer)
		event_free(r->cool_timer);
	ww_engine_free(r->engine);
	if (r->out_fd >= 0 && r->out_fd != STDOUT_FILENO)
		close(r->out_fd);
	free(r->out_path);
	free(r->report_web);
	free(r->report_endpoint);
	free(r->cc);
	free(r->asn);
	free(r->jobs);
	free(r->order);
	free(r->ref_jobs);
	json_decref(r->network_check);
	json_decref(r->cool);
	runner_free_rows(r);
	free(r);
	return rc;
}
