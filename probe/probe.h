/*
 * probe.h - the probe program: options (main.c) and the run (runner.c).
 */
#ifndef WW_PROBE_H
#define WW_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/types.h>

#include <jansson.h>

#include "engine.h"
#include "fingerprint.h"
#include "testlist.h"
#include "upload.h"

/* Exit codes (issue #2). */
#define EXIT_MEASURED 0 /* every target measured, whatever it found */
#define EXIT_USAGE 1	/* bad command line or input files */
#define EXIT_RUNFAIL 2	/* the run could not happen or was cut short */

/* --max-memory's default: room for ~150 handshakes in flight over a
 * ~13 MiB baseline (docs/volunteer.md, "Memory"), within a 64 MiB
 * router's means. */
#define WW_DEFAULT_MAX_MEMORY (24u * 1024 * 1024)

struct probe_opts {
	struct ww_config cfg;
	struct ww_testlist targets;
	int concurrency;
	const char *output; /* NULL: a dated file in the data directory */
	const char *probe_cc;
	const char *probe_asn;
	bool quiet;
	bool verbose;		 /* a line on memory at the end of a run */
	const char **references; /* domestic reference targets (URLs) */
	size_t n_references;
	struct ww_fingerprints *fp; /* NULL: none */
	/* Volunteer operation (docs/volunteer.md). */
	const char *state_dir; /* NULL: state_default_dir() */
	const char **collectors;
	size_t n_collectors;
	uint64_t spool_max; /* bytes; 0: no cap */
	double interval;    /* daemon: seconds between runs */
	double cooldown;    /* seconds between tests of one addr:port */
	uint64_t max_bytes; /* traffic per run; 0: no cap */
	double retry_quick, retry_slow, upload_timeout; /* seconds */
	const char *exclude; /* --exclude-category, for the uploader */
	bool yes;	     /* consent given on the command line */
	bool shuffle;	     /* targets in random order */
	bool progress;	     /* progress line and summary on a terminal */
};

struct probe_env;
struct uploader;
struct runner;

/* The `run` command: every target once (env NULL: no state directory);
 * returns one of the exit codes. */
int runner_run(struct probe_opts *o, struct probe_env *env);

/* The daemon (daemon.c). reload re-reads the configuration on SIGHUP
 * (NULL: it is bad, keep the old one; the problem is logged); release
 * frees what reload returned. */
typedef struct probe_opts *(*probe_reload_fn)(void *arg, const char *cmd);
int daemon_run(struct probe_opts *o, struct probe_env *env,
	       probe_reload_fn reload, void (*release)(struct probe_opts *),
	       void *arg);

/* The uploader's options from the probe's (commands.c). */
struct upload_opts probe_upload_opts(const struct probe_opts *o);
/* The pid of a daemon running on env's state directory, or 0. */
pid_t probe_daemon_pid(const struct probe_env *env);

/* upload, status and export (commands.c). */
int cmd_upload(struct probe_opts *o, struct probe_env *env);
int cmd_status(struct probe_opts *o, struct probe_env *env, bool json);
int cmd_export(struct probe_opts *o, struct probe_env *env);

/*
 * A run on an existing event loop (the daemon's). runner_begin() starts it
 * (-1: it could not; logged); cb runs once when every target is measured,
 * the run was cancelled, or --max-bytes stopped it; runner_end() then
 * writes the summary and frees the runner, returning the exit code.
 * env and up may be NULL (no spool, no upload); cool carries the cooldown
 * table across runs (NULL: this run's own).
 */
typedef void (*runner_done_cb)(void *arg);
struct runner *runner_new(struct event_base *base, struct probe_opts *o,
			  struct probe_env *env, struct uploader *up,
			  json_t *cool);
int runner_begin(struct runner *r, runner_done_cb cb, void *arg);
void runner_cancel(struct runner *r);
bool runner_stopped(const struct runner *r);
int runner_end(struct runner *r);

#endif
