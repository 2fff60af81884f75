/*
 * daemon.c - `wallwatch-probe daemon`: the test lists every --interval
 * (with jitter, in a random order, tests of one address:port spaced by
 * --cooldown), the spool uploaded all the time, on one event loop.
 *
 * Signals: SIGTERM/SIGINT end the run in hand (its in-flight measurements
 * are recorded as interrupted and spooled) and exit 0; SIGHUP re-reads the
 * configuration, applied from the next run; SIGUSR1 uploads now.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "probe.h"
#include "spoolhold.h"
#include "state.h"
#include "upload.h"
#include "util.h"

/* Runs are spread by up to this fraction of --interval either way, so
 * that probes started together (a reboot, an outage) do not stay in step
 * and no run starts at a predictable minute. */
#define INTERVAL_JITTER 0.1
/* How often measurements held in memory (full disk) are retried. */
#define PENDING_RETRY 10

struct daemon {
	struct event_base *base;
	struct probe_env *env;
	struct probe_opts *o;	   /* in force */
	struct probe_opts *next;   /* reloaded, for the next run */
	struct probe_opts **owned; /* reloaded ones, released at exit */
	size_t n_owned, cap_owned;
	probe_reload_fn reload;
	void (*release)(struct probe_opts *);
	void *arg;
	struct upload_opts uo;
	struct uploader *up;
	struct runner *r;
	json_t *cool; /* cooldowns carry over from one run to the next */
	struct event *sig[4], *run_timer, *pending_timer;
	double last_start;
	bool stopping, whoami_wait;
	int pid_fd;
	unsigned runs;
};

static void
arm_secs(struct event *ev, double secs)
{
	struct timeval tv = ww_timeval(secs);

	evtimer_add(ev, &tv);
}

static void
schedule_next(struct daemon *d)
{
	double iv = d->o->interval;
	double next =
		d->last_start + iv * (1 - INTERVAL_JITTER +
				      2 * INTERVAL_JITTER * ww_random_unit());
	double wait = next - ww_mono();
	char when[20];

	/* A run longer than the interval (cooldowns on a long list) is
	 * followed by the next at once. */
	if (wait < 1)
		wait = 1;
	arm_secs(d->run_timer, wait);
	ww_fmt_utc(time(NULL) + (time_t)wait, when);
	if (!d->o->quiet)
		log_info("daemon", "next run at %s UTC", when);
}

static void
apply_reload(struct daemon *d)
{
	if (d->next == NULL)
		return;
	d->o = d->next;
	d->next = NULL;
	d->uo = probe_upload_opts(d->o);
	uploader_set_opts(d->up, &d->uo);
	d->env->spool.max_bytes = d->o->spool_max;
	log_info("daemon", "the new configuration is in force (%zu targets)",
		 d->o->targets.n);
}

static void
run_ended(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	int rc = runner_end(d->r);

	(void)fd;
	(void)what;
	d->r = NULL;
	if (!d->o->quiet)
		log_info("daemon", "run %u ended (%s)", d->runs,
			 rc == EXIT_MEASURED ? "complete" : "cut short");
	if (d->stopping) {
		event_base_loopbreak(d->base);
		return;
	}
	apply_reload(d);
	schedule_next(d);
}

/* The runner is still on the stack when it reports: end it from the
 * loop. */
static void
run_done(void *arg)
{
	struct daemon *d = arg;
	struct timeval zero = {0, 0};

	if (event_base_once(d->base, -1, EV_TIMEOUT, run_ended, d, &zero) != 0)
		abort();
}

static void
begin_run(void *arg, bool whoami_ok)
{
	struct daemon *d = arg;

	d->whoami_wait = false;
	if (d->stopping) {
		event_base_loopbreak(d->base);
		return;
	}
	if (!whoami_ok)
		log_warn("daemon",
			 "no collector answered /api/v1/whoami: "
			 "measuring with the network learned before "
			 "(%s %s)",
			 state_asn(d->env) ? state_asn(d->env) : "AS0",
			 state_cc(d->env) ? state_cc(d->env) : "ZZ");
	d->runs++;
	d->last_start = ww_mono();
	d->r = runner_new(d->base, d->o, d->env, d->up, d->cool);
	if (!d->o->quiet)
		log_info("daemon", "run %u: %zu targets", d->runs,
			 d->o->targets.n);
	if (runner_begin(d->r, run_done, d) != 0) {
		log_error("daemon", "run %u could not start", d->runs);
		runner_end(d->r);
		d->r = NULL;
		schedule_next(d);
	}
}

static void
run_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	uint64_t total;

	(void)fd;
	(void)what;
	if (d->stopping || d->r != NULL || d->whoami_wait)
		return;
	apply_reload(d);
	/* No new measurements while old ones have nowhere to go: they would
	 * only push older ones out. */
	if (d->env->n_pending > 0 && env_flush_pending(d->env) > 0) {
		log_warn("daemon",
			 "skipping this run: %zu measurement(s) "
			 "still wait for room on disk",
			 d->env->n_pending);
		d->last_start = ww_mono();
		schedule_next(d);
		return;
	}
	if (env_spool_full(d->env, &total)) {
		log_warn("daemon",
			 "skipping this run: the spool holds %.1f MiB, "
			 "over --spool-max; waiting for a collector",
			 (double)total / 1048576.0);
		d->last_start = ww_mono();
		schedule_next(d);
		uploader_kick(d->up, false);
		return;
	}
	d->whoami_wait = true;
	uploader_whoami(d->up, begin_run, d);
}

static void
pending_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	if (d->env->n_pending > 0 && env_flush_pending(d->env) == 0)
		uploader_kick(d->up, false);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct probe_opts *n;

	(void)what;
	if (sig == SIGHUP) {
		log_info("daemon", "SIGHUP: reloading the configuration");
		n = d->reload(d->arg, "daemon");
		if (n == NULL) {
			log_error("daemon", "the configuration was not "
					    "reloaded (see above); the old one "
					    "stays in force");
			return;
		}
		*WW_PUSH(d->owned, d->n_owned, d->cap_owned) = n;
		if (n->state_dir != d->o->state_dir &&
		    (n->state_dir == NULL || d->o->state_dir == NULL ||
		     strcmp(n->state_dir, d->o->state_dir) != 0))
			log_warn("daemon", "a new state-dir takes a restart");
		d->next = n;
		if (d->r == NULL && !d->whoami_wait)
			apply_reload(d);
		return;
	}
	if (sig == SIGUSR1) {
		log_info("daemon", "SIGUSR1: uploading now");
		uploader_kick(d->up, true);
		return;
	}
	if (d->stopping)
		return;
	d->stopping = true;
	log_info("daemon", "%s: stopping%s",
		 sig == SIGINT ? "SIGINT" : "SIGTERM",
		 d->r ? "; in-flight targets are recorded as interrupted" : "");
	if (d->r != NULL)
		runner_cancel(d->r); /* run_done breaks the loop */
	else
		event_base_loopbreak(d->base); /* a whoami is just dropped */
}

/* One daemon per state directory: two would send the spool twice and race
 * on its files. The lock lives as long as the process. */
static int
take_pid_lock(struct daemon *d)
{
	char *path = xasprintf("%s/daemon.pid", d->env->state_dir);
	char buf[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		log_error("daemon", "cannot open %s: %s", path,
			  strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		log_error("daemon", "another daemon (pid %s) runs on %s",
			  buf[0] ? buf : "?", d->env->state_dir);
		close(fd);
		free(path);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || write(fd, buf, strlen(buf)) < 0)
		log_warn("daemon", "cannot write %s: %s", path,
			 strerror(errno));
	free(path);
	d->pid_fd = fd;
	return 0;
}

int
daemon_run(struct probe_opts *o, struct probe_env *env, probe_reload_fn reload,
	   void (*release)(struct probe_opts *), void *arg)
{
	static const int sigs[4] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	struct daemon d;
	struct timeval every = {PENDING_RETRY, 0};

	signal(SIGPIPE, SIG_IGN);
	if (o->cfg.capture == WW_CAPTURE_ON) {
		char why[512];

		/* Refused now, not once per run for months. */
		if (ww_capture_check(why, sizeof(why)) != 0) {
			log_error("daemon", "packet capture (--capture on): %s",
				  why);
			return EXIT_RUNFAIL;
		}
	}
	memset(&d, 0, sizeof(d));
	d.env = env;
	d.o = o;
	d.reload = reload;
	d.release = release;
	d.arg = arg;
	d.pid_fd = -1;
	d.cool = json_object();
	if (take_pid_lock(&d) != 0) {
		json_decref(d.cool);
		return EXIT_RUNFAIL;
	}
	d.base = event_base_new();
	if (d.base == NULL) {
		close(d.pid_fd);
		json_decref(d.cool);
		return EXIT_RUNFAIL;
	}
	d.uo = probe_upload_opts(o);
	d.up = uploader_new(d.base, env, &d.uo);
	for (int i = 0; i < 4; i++) {
		d.sig[i] = evsignal_new(d.base, sigs[i], signal_cb, &d);
		event_add(d.sig[i], NULL);
	}
	d.run_timer = evtimer_new(d.base, run_timer_cb, &d);
	d.pending_timer = event_new(d.base, -1, EV_PERSIST, pending_cb, &d);
	event_add(d.pending_timer, &every);
	log_info("daemon",
		 "started: %zu targets every %.0f s, cooldown %.0f s, "
		 "state in %s",
		 o->targets.n, o->interval, o->cooldown, env->state_dir);
	/* Leftovers from before go first; the first run starts now. */
	uploader_kick(d.up, false);
	arm_secs(d.run_timer, 0);
	event_base_dispatch(d.base);
	uploader_free(d.up);
	for (int i = 0; i < 4; i++)
		event_free(d.sig[i]);
	event_free(d.run_timer);
	event_free(d.pending_timer);
	event_base_free(d.base);
	state_save(env);
	for (size_t i = 0; i < d.n_owned; i++)
		release(d.owned[i]);
	free(d.owned);
	json_decref(d.cool);
	close(d.pid_fd);
	log_info("daemon", "stopped");
	return EXIT_MEASURED;
}
