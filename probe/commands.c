/*
 * commands.c - the probe's commands around the spool: `run` (the loop of
 * one run, with its upload), `upload`, `status` and `export`. The daemon
 * is daemon.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "probe.h"
#include "scrubmeas.h"
#include "state.h"
#include "upload.h"
#include "util.h"

/* How long `run` waits, once measured, for its upload to finish. */
#define RUN_UPLOAD_WAIT 60

struct upload_opts
probe_upload_opts(const struct probe_opts *o)
{
	struct upload_opts u;

	memset(&u, 0, sizeof(u));
	u.collectors = o->collectors;
	u.n_collectors = o->n_collectors;
	u.retry_quick = o->retry_quick;
	u.retry_slow = o->retry_slow;
	u.timeout = o->upload_timeout;
	u.ca_file = o->cfg.ca_file;
	u.exclude = o->exclude;
	return u;
}

/* The pid of a daemon holding the state directory's lock, or 0. */
pid_t
probe_daemon_pid(const struct probe_env *env)
{
	char *path = xasprintf("%s/daemon.pid", env->state_dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[32];
	ssize_t n;
	long pid = 0;

	free(path);
	if (fd < 0)
		return 0;
	/* The daemon holds an exclusive lock: if we can take a shared
	 * one, the pid in the file is stale. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);
		return 0;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (ww_parse_long(buf, 1, 1L << 30, &pid) != 0)
		return 0;
	return (pid_t)pid;
}

static size_t
queued(struct probe_env *env, uint64_t *bytes)
{
	struct spool_entry *e;
	size_t n;
	char err[256];

	if (spool_list(&env->spool, &e, &n, bytes, err, sizeof(err)) != 0)
		return 0;
	spool_entries_free(e, n);
	return n;
}

/* --- run ------------------------------------------------------------------ */

struct run_ctx {
	struct event_base *base;
	struct probe_opts *o;
	struct runner *r;
	struct uploader *up;
	struct event *sigint, *sigterm, *deadline;
	bool begun, run_done, begin_failed;
};

static void
run_round_cb(void *arg, bool empty)
{
	struct run_ctx *c = arg;

	(void)empty;
	if (c->run_done)
		event_base_loopbreak(c->base);
}

static void
run_done_cb(void *arg)
{
	struct run_ctx *c = arg;
	struct timeval tv = {RUN_UPLOAD_WAIT, 0};

	c->run_done = true;
	if (c->up == NULL || runner_stopped(c->r)) {
		event_base_loopbreak(c->base);
		return;
	}
	/* What the run spooled goes now; a round in flight ends with it. */
	uploader_kick(c->up, true);
	if (!uploader_busy(c->up)) {
		event_base_loopbreak(c->base);
		return;
	}
	event_add(c->deadline, &tv);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run_ctx *c = arg;

	(void)fd;
	(void)what;
	log_warn("upload",
		 "still uploading after %d s: the rest stays "
		 "queued for `wallwatch-probe upload` or the daemon",
		 RUN_UPLOAD_WAIT);
	event_base_loopbreak(c->base);
}

static void
run_begin(void *arg, bool whoami_ok)
{
	struct run_ctx *c = arg;

	if (!whoami_ok && c->up != NULL)
		log_warn("run", "no collector told this probe its address "
				"and network: measurements are scrubbed of the "
				"addresses known so far, and scrubbed again "
				"before upload");
	if (runner_begin(c->r, run_done_cb, c) != 0) {
		c->begin_failed = true;
		event_base_loopbreak(c->base);
		return;
	}
	c->begun = true;
}

static void
run_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct run_ctx *c = arg;

	(void)what;
	if (c->run_done || !c->begun) {
		event_base_loopbreak(c->base);
		return;
	}
	if (runner_stopped(c->r))
		return;
	log_warn("run",
		 "%s: stopping; in-flight targets are recorded as "
		 "interrupted",
		 sig == SIGINT ? "SIGINT" : "SIGTERM");
	runner_cancel(c->r);
}

int
runner_run(struct probe_opts *o, struct probe_env *env)
{
	struct run_ctx c;
	struct upload_opts uo = probe_upload_opts(o);
	int rc = EXIT_RUNFAIL;
	uint64_t bytes;

	/* OpenSSL writes to peers that may have hung up. */
	signal(SIGPIPE, SIG_IGN);
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.base = event_base_new();
	if (c.base == NULL) {
		log_error("run", "cannot create the event loop");
		return EXIT_RUNFAIL;
	}
	if (env != NULL && o->n_collectors > 0) {
		c.up = uploader_new(c.base, env, &uo);
		uploader_on_round(c.up, run_round_cb, &c);
	}
	c.r = runner_new(c.base, o, env, c.up, NULL);
	c.sigint = evsignal_new(c.base, SIGINT, run_signal_cb, &c);
	c.sigterm = evsignal_new(c.base, SIGTERM, run_signal_cb, &c);
	c.deadline = evtimer_new(c.base, deadline_cb, &c);
	event_add(c.sigint, NULL);
	event_add(c.sigterm, NULL);
	if (c.up != NULL)
		uploader_whoami(c.up, run_begin, &c);
	else
		run_begin(&c, true);
	if (!c.begin_failed)
		event_base_dispatch(c.base);
	rc = runner_end(c.r);
	if (c.begin_failed)
		rc = EXIT_RUNFAIL;
	if (c.up != NULL) {
		size_t n = queued(env, &bytes) + env->n_pending;

		if (n > 0 && !o->quiet)
			fprintf(stderr,
				"wallwatch-probe: %zu measurement(s) "
				"queued for upload (see "
				"`wallwatch-probe status`)\n",
				n);
		uploader_free(c.up);
	}
	event_free(c.sigint);
	event_free(c.sigterm);
	event_free(c.deadline);
	event_base_free(c.base);
	return rc;
}

/* --- upload --------------------------------------------------------------- */

struct up_ctx {
	struct event_base *base;
	bool empty;
};

static void
up_round_cb(void *arg, bool empty)
{
	struct up_ctx *c = arg;

	c->empty = empty;
	event_base_loopbreak(c->base);
}

static void
up_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(((struct up_ctx *)arg)->base);
}

static void
print_collector_errors(struct probe_env *env, const struct probe_opts *o)
{
	for (size_t i = 0; i < o->n_collectors; i++) {
		json_t *c = state_collector(env, o->collectors[i]);
		const char *e =
			json_string_value(json_object_get(c, "last_error"));
		const char *d = json_string_value(
			json_object_get(c, "last_error_detail"));

		if (e != NULL && json_integer_value(json_object_get(
					 c, "consecutive_failures")) > 0)
			fprintf(stderr, "  %s: %s%s%s%s\n", o->collectors[i], e,
				d ? " (" : "", d ? d : "", d ? ")" : "");
	}
}

int
cmd_upload(struct probe_opts *o, struct probe_env *env)
{
	struct upload_opts uo = probe_upload_opts(o);
	struct up_ctx c;
	struct uploader *up;
	struct event *si, *st;
	pid_t pid;
	size_t before, after;
	uint64_t bytes;

	if (o->n_collectors == 0) {
		ww_usage_error("%s", "no collector: give --collector URL (or "
				     "\"collector =\" in the configuration)");
		return EXIT_USAGE;
	}
	pid = probe_daemon_pid(env);
	if (pid > 0) {
		/* One uploader per spool: the daemon's. */
		if (kill(pid, SIGUSR1) == 0) {
			printf("asked the daemon (pid %ld) to upload now; "
			       "`wallwatch-probe status` shows how it went\n",
			       (long)pid);
			return EXIT_MEASURED;
		}
		log_warn("upload",
			 "cannot signal the daemon (pid %ld): %s; "
			 "uploading from here",
			 (long)pid, strerror(errno));
	}
	signal(SIGPIPE, SIG_IGN);
	before = queued(env, &bytes);
	if (before == 0) {
		if (!o->quiet)
			printf("nothing queued\n");
		return EXIT_MEASURED;
	}
	memset(&c, 0, sizeof(c));
	c.base = event_base_new();
	if (c.base == NULL)
		return EXIT_RUNFAIL;
	up = uploader_new(c.base, env, &uo);
	uploader_on_round(up, up_round_cb, &c);
	si = evsignal_new(c.base, SIGINT, up_signal_cb, &c);
	st = evsignal_new(c.base, SIGTERM, up_signal_cb, &c);
	event_add(si, NULL);
	event_add(st, NULL);
	uploader_kick(up, true);
	event_base_dispatch(c.base);
	uploader_free(up);
	event_free(si);
	event_free(st);
	event_base_free(c.base);
	after = queued(env, &bytes);
	if (!o->quiet)
		printf("%zu of %zu queued measurement(s) delivered; %zu still "
		       "queued\n",
		       before > after ? before - after : 0, before, after);
	if (after > 0) {
		fprintf(stderr,
			"wallwatch-probe: %zu measurement(s) still "
			"queued; last errors:\n",
			after);
		print_collector_errors(env, o);
		return EXIT_RUNFAIL;
	}
	return EXIT_MEASURED;
}

/* --- status --------------------------------------------------------------- */

static json_t *
status_json(struct probe_opts *o, struct probe_env *env)
{
	struct spool_entry *e;
	size_t n = 0;
	uint64_t bytes = 0;
	char err[256], oldest[20] = "";
	json_t *s = json_object(), *cols = json_array();
	json_t *st = env->state;
	json_t *consent, *seen;
	const char *url;
	char *cpath = xasprintf("%s/consent.json", env->state_dir);
	pid_t pid = probe_daemon_pid(env);

	if (spool_list(&env->spool, &e, &n, &bytes, err, sizeof(err)) == 0) {
		if (n > 0)
			ww_fmt_utc(e[0].mtime, oldest);
		spool_entries_free(e, n);
	}
	json_object_set_new(s, "state_dir", json_string(env->state_dir));
	/* The key id a volunteer gives the operator (docs/volunteer.md). */
	json_object_set_new(s, "submitter_key",
			    env->id ? json_string(identity_key_id(env->id))
				    : json_null());
	if (env->id != NULL) {
		char *pub = identity_public_b64(env->id);

		json_object_set_new(s, "submitter_public_key",
				    pub ? json_string(pub) : json_null());
		free(pub);
	}
	if (env->id_error != NULL)
		json_object_set_new(s, "submitter_key_error",
				    json_string(env->id_error));
	json_object_set_new(s, "daemon_pid",
			    pid > 0 ? json_integer(pid) : json_null());
	json_object_set_new(
		s, "queue",
		json_pack("{s:I, s:I, s:s?, s:I, s:I}", "measurements",
			  (json_int_t)n, "bytes", (json_int_t)bytes, "oldest",
			  n > 0 ? oldest : NULL, "cap_bytes",
			  (json_int_t)o->spool_max, "rejected",
			  (json_int_t)spool_rejected_count(&env->spool)));
	json_object_set_new(
		s, "counters",
		json_is_object(json_object_get(st, "counters"))
			? json_deep_copy(json_object_get(st, "counters"))
			: json_object());
	/* Configured collectors first, in order, then any others seen. */
	for (size_t i = 0; i < o->n_collectors; i++) {
		json_t *c =
			json_deep_copy(state_collector(env, o->collectors[i]));

		json_object_set_new(c, "url", json_string(o->collectors[i]));
		json_array_append_new(cols, c);
	}
	json_object_foreach(json_object_get(st, "collectors"), url, seen)
	{
		bool configured = false;
		json_t *c;

		for (size_t i = 0; i < o->n_collectors; i++)
			configured |= strcmp(o->collectors[i], url) == 0;
		if (configured || !json_is_object(seen))
			continue;
		c = json_deep_copy(seen);
		json_object_set_new(c, "url", json_string(url));
		json_array_append_new(cols, c);
	}
	json_object_set_new(s, "collectors", cols);
	json_object_set_new(s, "upload",
			    json_deep_copy(json_object_get(st, "upload")));
	json_object_set_new(s, "network",
			    json_deep_copy(json_object_get(st, "network")));
	json_object_set_new(s, "own_addresses_known",
			    json_integer((json_int_t)json_array_size(
				    json_object_get(st, "addresses"))));
	json_object_set_new(s, "last_run",
			    json_deep_copy(json_object_get(st, "last_run")));
	consent = json_load_file(cpath, 0, NULL);
	json_object_set_new(s, "consent", consent ? consent : json_null());
	free(cpath);
	return s;
}

static const char *
str(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "-";
}

static void
print_status(json_t *s)
{
	json_t *q = json_object_get(s, "queue");
	json_t *net = json_object_get(s, "network");
	json_t *run = json_object_get(s, "last_run");
	json_t *up = json_object_get(s, "upload");
	json_t *cnt = json_object_get(s, "counters");
	json_t *consent = json_object_get(s, "consent");
	json_t *c, *v;
	size_t i;

	printf("state directory  %s\n", str(s, "state_dir"));
	if (json_is_string(json_object_get(s, "submitter_key_error")))
		printf("submitter key    %s\n", str(s, "submitter_key_error"));
	else
		printf("submitter key    %s\n",
		       json_is_string(json_object_get(s, "submitter_key"))
			       ? str(s, "submitter_key")
			       : "none yet (made on the first run or upload)");
	if (json_is_string(json_object_get(s, "submitter_public_key")))
		printf("public key       %s\n", str(s, "submitter_public_key"));
	if (json_is_integer(json_object_get(s, "daemon_pid")))
		printf("daemon           running (pid %lld)\n",
		       (long long)json_integer_value(
			       json_object_get(s, "daemon_pid")));
	else
		printf("daemon           not running\n");
	printf("queued           %lld measurement(s), %.1f MiB of %.0f MiB "
	       "cap%s%s\n",
	       (long long)json_integer_value(
		       json_object_get(q, "measurements")),
	       (double)json_integer_value(json_object_get(q, "bytes")) /
		       1048576.0,
	       (double)json_integer_value(json_object_get(q, "cap_bytes")) /
		       1048576.0,
	       json_is_string(json_object_get(q, "oldest")) ? "; oldest from "
							    : "",
	       json_is_string(json_object_get(q, "oldest"))
		       ? json_string_value(json_object_get(q, "oldest"))
		       : "");
	printf("sent             %lld stored, %lld already there\n",
	       (long long)json_integer_value(json_object_get(cnt, "sent")),
	       (long long)json_integer_value(
		       json_object_get(cnt, "duplicates")));
	if (json_integer_value(json_object_get(q, "rejected")) > 0)
		printf("rejected         %lld (kept in spool/rejected/ with the "
		       "reason)\n",
		       (long long)json_integer_value(
			       json_object_get(q, "rejected")));
	if (json_integer_value(json_object_get(cnt, "trimmed")) > 0)
		printf("trimmed          %lld measurement(s) lost their HTTP "
		       "bodies to the spool cap or a full disk\n",
		       (long long)json_integer_value(
			       json_object_get(cnt, "trimmed")));
	if (json_integer_value(json_object_get(cnt, "withheld")) > 0)
		printf("withheld         %lld of excluded categories, deleted "
		       "unsent\n",
		       (long long)json_integer_value(
			       json_object_get(cnt, "withheld")));
	if (json_integer_value(json_object_get(cnt, "lost")) > 0)
		printf("LOST             %lld measurement(s) could not be "
		       "written anywhere (disk full)\n",
		       (long long)json_integer_value(
			       json_object_get(cnt, "lost")));
	if (json_is_string(json_object_get(up, "next_attempt")))
		printf("next upload      %s UTC (after %lld failed round(s))\n",
		       str(up, "next_attempt"),
		       (long long)json_integer_value(
			       json_object_get(up, "failed_rounds")));
	json_array_foreach(json_object_get(s, "collectors"), i, c)
	{
		printf("collector        %s\n", str(c, "url"));
		printf("  last attempt   %s\n", str(c, "last_attempt"));
		printf("  last success   %s\n", str(c, "last_success"));
		if (json_is_string(json_object_get(c, "last_error")))
			printf("  last error     %s (%s) at %s\n",
			       str(c, "last_error"),
			       str(c, "last_error_detail"),
			       str(c, "last_error_at"));
		printf("  stored         %lld\n",
		       (long long)json_integer_value(
			       json_object_get(c, "stored")));
	}
	if (net != NULL)
		printf("network          %s %s%s%s (from %s at %s)\n",
		       str(net, "asn"), str(net, "cc"),
		       json_is_string(json_object_get(net, "network_name"))
			       ? ", "
			       : "",
		       json_is_string(json_object_get(net, "network_name"))
			       ? str(net, "network_name")
			       : "",
		       str(net, "from"), str(net, "learned"));
	else
		printf("network          not learned yet\n");
	printf("own addresses    %lld known, scrubbed from every "
	       "measurement\n",
	       (long long)json_integer_value(
		       json_object_get(s, "own_addresses_known")));
	if (run != NULL)
		printf("last run         %s to %s: %lld of %lld targets, %lld "
		       "bytes%s%s\n",
		       str(run, "start"), str(run, "end"),
		       (long long)json_integer_value(
			       json_object_get(run, "measured")),
		       (long long)json_integer_value(
			       json_object_get(run, "targets")),
		       (long long)json_integer_value(
			       json_object_get(run, "bytes")),
		       json_is_string(json_object_get(run, "stopped"))
			       ? "; stopped by "
			       : "",
		       json_is_string(json_object_get(run, "stopped"))
			       ? str(run, "stopped")
			       : "");
	if (json_is_object(consent)) {
		printf("consent          given %s (%s) for",
		       str(consent, "given"), str(consent, "how"));
		json_array_foreach(json_object_get(consent, "categories"), i, v)
			printf("%s%s", i ? "," : " ", json_string_value(v));
		printf("\n");
	} else {
		printf("consent          not given yet\n");
	}
}

int
cmd_status(struct probe_opts *o, struct probe_env *env, bool json)
{
	json_t *s = status_json(o, env);

	if (json) {
		json_dumpf(s, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("\n");
	} else {
		print_status(s);
	}
	json_decref(s);
	return EXIT_MEASURED;
}

/* --- export --------------------------------------------------------------- */

int
cmd_export(struct probe_opts *o, struct probe_env *env)
{
	struct spool_entry *e;
	size_t n, done = 0, skipped = 0;
	char err[512];
	char *buf = NULL;
	size_t blen = 0, bcap = 0;
	bool to_stdout = strcmp(o->output, "-") == 0;
	int rc = EXIT_MEASURED;

	if (spool_list(&env->spool, &e, &n, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "wallwatch-probe: %s\n", err);
		return EXIT_RUNFAIL;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len, sc = 0;
		char *data = spool_read(&env->spool, e[i].name, &len, err,
					sizeof(err));
		char *cat = NULL;
		char *line = data ? env_scrub_line(env, data, len, NULL, &cat,
						   &sc, err, sizeof(err))
				  : NULL;

		free(data);
		if (line == NULL) {
			log_warn("export", "skipping %s: %s", e[i].name, err);
			skipped++;
			continue;
		}
		if (upload_excluded(o->exclude, cat)) {
			free(cat);
			free(line);
			continue;
		}
		free(cat);
		jsonl_append(&buf, &blen, &bcap, line);
		free(line);
		done++;
	}
	spool_entries_free(e, n);
	if (to_stdout) {
		if (blen > 0 && fwrite(buf, 1, blen, stdout) != blen)
			rc = EXIT_RUNFAIL;
		if (fflush(stdout) != 0)
			rc = EXIT_RUNFAIL;
	} else {
		/* Whole or not at all: a half export handed to someone
		 * would look complete. */
		char *dir = xstrdup(o->output), *slash = strrchr(dir, '/');
		const char *name = o->output;

		if (slash != NULL) {
			*slash = '\0';
			name = slash + 1;
		} else {
			free(dir);
			dir = xstrdup(".");
		}
		if (spool_write_atomic(slash == dir ? "/" : dir, name,
				       buf ? buf : "", blen, err,
				       sizeof(err)) != 0) {
			fprintf(stderr, "wallwatch-probe: export: %s\n", err);
			rc = EXIT_RUNFAIL;
		}
		free(dir);
	}
	free(buf);
	if (rc == EXIT_MEASURED && !o->quiet)
		fprintf(stderr,
			"wallwatch-probe: exported %zu measurement(s)%s%s"
			"; they stay queued until a collector "
			"acknowledges them%s\n",
			done, to_stdout ? "" : " to ",
			to_stdout ? "" : o->output,
			skipped ? " (some were skipped: see above)" : "");
	return rc;
}
