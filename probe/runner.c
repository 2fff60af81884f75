/*
 * runner.c - one run of the probe: keep --concurrency targets in flight on
 * one event base (in a random order for the daemon, each address:port
 * spaced by --cooldown, until --max-bytes), spool each finished
 * measurement for upload (spool.h) and write it as one JSON line (flushed
 * at once, so an interrupted run keeps what it measured), show progress
 * and a summary on a terminal.
 *
 * Before the targets, the run measures its domestic reference targets
 * (--reference): when every step of every reference fails, the network is
 * down, and each measurement carries that (test_keys.network_check) so the
 * analysis gives null verdicts instead of "blocked". Each measurement is
 * analysed (analysis.h), then scrubbed of the volunteer's own addresses,
 * before it is written.
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
#include "state.h"
#include "upload.h"
#include "util.h"

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

struct slot_arg {
	struct runner *r;
	size_t slot;
	size_t index; /* target index, for the summary */
};

char *
probe_data_dir(void)
{
	const char *env = getenv("WALLWATCH_DATA_DIR");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");

	if (env != NULL && env[0] != '\0')
		return xstrdup(env);
	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/wallwatch", xdg);
	if (home != NULL && home[0] == '/')
		return xasprintf("%s/.local/share/wallwatch", home);
	return xstrdup("/var/lib/wallwatch");
}

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

/* --- summary ------------------------------------------------------------- */

static char *
failure_text(const char *failure, const char *detail)
{
	if (failure == failure_unknown)
		return xasprintf("unknown_failure: %s", detail ? detail : "");
	return xstrdup(failure);
}

static void
summarise(struct runner *r, size_t index, const struct ww_measurement *m)
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

static void
print_summary(struct runner *r)
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

static void
free_rows(struct runner *r)
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

static void
progress_cb(evutil_socket_t fd, short what, void *arg)
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

static void start_more(struct runner *r);

/* --- cooldown: tests of one address:port spaced by --cooldown ----------- */

/*
 * A censor that has just seen a forbidden request often keeps blocking the
 * client's traffic to that address and port for minutes (the GFW does this
 * for 90 s and more): a test right after would measure the punishment, not
 * the target. So a target starts only when every endpoint it will use has
 * been left alone for --cooldown seconds. Its endpoints are its host:port
 * and the address:ports its host resolved to before (learned as tests
 * finish). While a test runs, its endpoints are busy.
 */
#define COOL_BUSY 1e300

static json_t *
cool_obj(struct runner *r, const char *name)
{
	json_t *o = json_object_get(r->cool, name);

	if (o == NULL) {
		o = json_object();
		json_object_set_new(r->cool, name, o);
	}
	return o;
}

/* Every key target t uses, as a JSON array (new reference). */
static json_t *
cool_keys(struct runner *r, const struct ww_target *t)
{
	json_t *keys = json_array();
	json_t *known = json_object_get(cool_obj(r, "addrs"), t->host);
	json_t *v;
	size_t i;

	json_array_append_new(keys, json_sprintf("%s:%d", t->host, t->port));
	json_array_foreach(known, i, v) json_array_append(keys, v);
	return keys;
}

/* Seconds until t may start (<= 0: now). */
static double
cool_wait(struct runner *r, const struct ww_target *t, double now)
{
	json_t *keys = cool_keys(r, t), *free_at = cool_obj(r, "free"), *k;
	double wait = 0;
	size_t i;

	json_array_foreach(keys, i, k)
	{
		double at = json_real_value(
			json_object_get(free_at, json_string_value(k)));

		if (at - now > wait)
			wait = at - now;
	}
	json_decref(keys);
	return wait;
}

static void
cool_set(struct runner *r, json_t *keys, double at)
{
	json_t *free_at = cool_obj(r, "free"), *k;
	size_t i;

	json_array_foreach(keys, i, k) json_object_set_new(
		free_at, json_string_value(k), json_real(at));
}

static void
cool_hold(struct runner *r, const struct ww_target *t)
{
	json_t *keys;

	if (r->o->cooldown <= 0)
		return;
	keys = cool_keys(r, t);
	cool_set(r, keys, COOL_BUSY);
	json_decref(keys);
}

static void
add_key(json_t *arr, const char *ip, int port)
{
	json_t *k;
	json_t *v;
	size_t i;

	if (ip == NULL || port <= 0)
		return;
	k = json_sprintf("%s:%d", ip, port);
	json_array_foreach(arr, i, v) if (json_equal(v, k))
	{
		json_decref(k);
		return;
	}
	json_array_append_new(arr, k);
}

/* t finished: learn the endpoints it used, and start their cooldown. */
static void
cool_release(struct runner *r, const struct ww_target *t,
	     const struct ww_measurement *m)
{
	json_t *addrs = cool_obj(r, "addrs"), *known, *keys;

	if (r->o->cooldown <= 0)
		return;
	known = json_object_get(addrs, t->host);
	if (known == NULL) {
		known = json_array();
		json_object_set_new(addrs, t->host, known);
	}
	for (size_t i = 0; i < m->n_tcp; i++)
		add_key(known, m->tcp[i].ip, m->tcp[i].port);
	/* A bounded memory of one host's addresses (CDNs rotate). */
	while (json_array_size(known) > 32)
		json_array_remove(known, 0);
	keys = cool_keys(r, t);
	/* Redirects and HTTP hops may reach other endpoints. */
	for (size_t i = 0; i < m->n_http; i++)
		add_key(keys, m->http[i].ip, m->http[i].port);
	cool_set(r, keys, ww_mono() + r->o->cooldown);
	json_decref(keys);
}

static void
cool_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	start_more(arg);
}

/* Position in r->order of the next target to start, or -1; *wait is then
 * the least time until one may start (HUGE_VAL: when a test ends). */
static ssize_t
pick(struct runner *r, double *wait)
{
	struct ww_testlist *l = &r->o->targets;
	double now = ww_mono();

	*wait = HUGE_VAL;
	if (r->o->cooldown <= 0)
		return r->n_order > 0 ? 0 : -1;
	for (size_t k = 0; k < r->n_order; k++) {
		double w = cool_wait(r, &l->targets[r->order[k]], now);

		if (w <= 0)
			return (ssize_t)k;
		/* A busy endpoint frees when its test ends, not on a
		 * clock. */
		if (w < COOL_BUSY / 2 && w < *wait)
			*wait = w;
	}
	return -1;
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

/* "blocked: tls (tls.reset)", "ok", "down", "unknown (control_unavailable)" */
static char *
verdict_text(const json_t *tk)
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
	*verdict = verdict_text(json_object_get(j, "test_keys"));
	if (r->env != NULL)
		scrub_measurement(r->env->scrub, j);
	line = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
				     JSON_REAL_PRECISION(9));
	json_decref(j);
	if (line == NULL)
		abort(); /* only on OOM inside jansson */
	return line;
}

static void
maybe_finish(struct runner *r)
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
	cool_release(r, &r->o->targets.targets[sa->index], m);
	summarise(r, sa->index, m);
	r->rows[sa->index].verdict = verdict;
	ww_measurement_free(m);
	r->jobs[sa->slot] = NULL;
	r->in_flight--;
	r->done++;
	free(sa);
	if (!r->stopping)
		start_more(r);
	maybe_finish(r);
}

static void
start_more(struct runner *r)
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
		 * (engine/memacct.h); one always runs. Looked at again when a
		 * target ends, and soon: memory also frees mid-target. */
		if (r->in_flight > 0 && !ww_engine_memory_room(r->engine)) {
			struct timeval tv = ww_timeval(MA_RECHECK_MS / 1000.0);

			evtimer_add(r->cool_timer, &tv);
			break;
		}
		k = pick(r, &wait);
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
		cool_hold(r, &l->targets[sa->index]);
		/* The callback never runs inside ww_job_start() (engine.h),
		 * so the slot is filled before job_done() can empty it. */
		r->jobs[s] =
			ww_job_start(r->engine, &l->targets[sa->index],
				     new_measurement(r, &l->targets[sa->index]),
				     job_done, sa);
	}
	maybe_finish(r);
}

/* --- the reference check ------------------------------------------------- */

struct ref_arg {
	struct runner *r;
	size_t i;
};

/* Did any step reach the network: an address from DNS, or a connect? */
static bool
reached_network(const struct ww_measurement *m)
{
	for (size_t i = 0; i < m->n_queries; i++)
		for (size_t k = 0; k < m->queries[i].n_answers; k++)
			if (m->queries[i].answers[k].type != WW_RR_CNAME)
				return true;
	for (size_t i = 0; i < m->n_tcp; i++)
		if (m->tcp[i].failure == NULL)
			return true;
	return false;
}

static void
ref_done(struct ww_measurement *m, void *arg)
{
	struct ref_arg *ra = arg;
	struct runner *r = ra->r;
	bool ok = reached_network(m);

	r->ref_jobs[ra->i] = NULL;
	if (ok)
		r->net_ok = true;
	else if (!r->o->quiet)
		log_warn("reference", "%s: every step failed", m->input);
	ww_measurement_free(m);
	free(ra);
	if (--r->ref_pending > 0)
		return;
	if (r->stopping) {
		maybe_finish(r);
		return;
	}
	json_object_set_new(r->network_check, "ok", json_boolean(r->net_ok));
	if (!r->net_ok)
		log_warn("run", "no working network: every reference target "
				"failed at every step; verdicts will be null, "
				"not \"blocked\"");
	start_more(r);
}

static void
start_references(struct runner *r)
{
	struct probe_opts *o = r->o;
	json_t *refs = json_array();
	struct ww_job_opts jo;

	memset(&jo, 0, sizeof(jo));
	jo.no_control = true;
	r->network_check = json_object();
	r->ref_jobs = xcalloc(o->n_references, sizeof(*r->ref_jobs));
	r->ref_pending = o->n_references;
	for (size_t i = 0; i < o->n_references; i++)
		json_array_append_new(refs, json_string(o->references[i]));
	json_object_set_new(r->network_check, "references", refs);
	for (size_t i = 0; i < o->n_references; i++) {
		struct ref_arg *ra = xmalloc(sizeof(*ra));
		struct ww_target t;
		char err[256];

		if (ww_target_parse(o->references[i], &t, err, sizeof(err)) !=
		    0)
			abort(); /* checked with the options */
		ra->r = r;
		ra->i = i;
		r->ref_jobs[i] = ww_job_start_opts(
			r->engine, &t, &jo, ww_measurement_new(), ref_done, ra);
		ww_target_clear(&t);
	}
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

static void check_memory(struct runner *r);

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
	check_memory(r);
	if ((o->output != NULL || r->uploader == NULL) && open_output(r) != 0)
		return -1;
	r->cool_timer = evtimer_new(r->base, cool_timer_cb, r);
	if (r->tty) {
		r->progress =
			event_new(r->base, -1, EV_PERSIST, progress_cb, r);
		event_add(r->progress, &tick);
	}
	if (o->n_references > 0)
		start_references(r);
	else
		start_more(r);
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
	maybe_finish(r);
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

/* A budget below what the process costs before it measures cannot be
 * kept: one target at a time then (warn rather than refuse: the baseline
 * moves with library and trust store updates, and a daemon that stops
 * measuring after an upgrade is worse than a slow one). */
static void
check_memory(struct runner *r)
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
static void
print_memory(const struct runner *r)
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

int
runner_end(struct runner *r)
{
	struct stat st;
	int rc;

	if (r->tty) {
		progress_cb(-1, 0, r);
		fprintf(stderr, "\n");
		print_summary(r);
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
		print_memory(r);
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
	free_rows(r);
	free(r);
	return rc;
}
