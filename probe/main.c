/*
 * main.c - wallwatch-probe's commands: which one, its options (cmdline.c,
 * from the table of options.c), the state directory and consent, then the
 * command (runner.c, daemon.c, commands.c); SIGHUP's reload. The
 * measurement itself is the engine's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdline.h"
#include "consent.h"
#include "memacct.h"
#include "options.h"
#include "probe.h"
#include "state.h"
#include "util.h"

/* --- commands ------------------------------------------------------------- */

/* Targets the volunteer named on the command line of `run` need no
 * consent question: naming them was the choice. */
static bool
named_targets(const struct bundle *b)
{
	return strcmp(b->cmd, "run") == 0 && b->lists_from_cli;
}

static char *
state_dir_of(const struct probe_opts *o)
{
	return o->state_dir ? xstrdup(o->state_dir) : state_default_dir();
}

struct reload_arg {
	char **argv;
	struct probe_env *env;
};

/* SIGHUP: the command line and the file again. A list that brings a
 * category nobody consented to is refused like at start. */
static struct probe_opts *
reload_cb(void *arg, const char *cmd)
{
	struct reload_arg *ra = arg;
	int argc = 0, rc;
	struct bundle *b;

	while (ra->argv[argc] != NULL)
		argc++;
	b = bundle_load(cmd, argc, ra->argv, &rc);
	if (b != NULL && consent_check(&b->o, named_targets(b), ra->env) != 0) {
		bundle_free(b);
		b = NULL;
	}
	return b ? &b->o : NULL;
}

static void
release_cb(struct probe_opts *o)
{
	if (o != NULL)
		bundle_free(WW_CONTAINER_OF(o, struct bundle, o));
}

static int
dispatch(const char *cmd, int argc, char **argv)
{
	struct bundle *b;
	struct probe_env env;
	struct reload_arg ra = {argv, &env};
	char *dir, err[600];
	int rc;
	bool need_env;

	b = bundle_load(cmd, argc, argv, &rc);
	if (b == NULL)
		return rc;
	if (b->o.quiet)
		ww_log_set_level(WW_LOG_WARN);
	dir = state_dir_of(&b->o);
	/* A run without a collector keeps working where no state
	 * directory can be made (its output is its result); everything
	 * else needs one. */
	need_env = strcmp(cmd, "run") != 0 || b->o.n_collectors > 0;
	if (env_open(&env, dir, b->o.spool_max,
		     strcmp(cmd, "status") == 0 || strcmp(cmd, "export") == 0,
		     err, sizeof(err)) != 0) {
		if (need_env || !b->lists_from_cli) {
			fprintf(stderr, "wallwatch-probe: %s\n", err);
			free(dir);
			bundle_free(b);
			return EXIT_RUNFAIL;
		}
		log_warn("state", "%s: measuring without it", err);
		memset(&env, 0, sizeof(env));
	}
	free(dir);
	if ((strcmp(cmd, "run") == 0 || strcmp(cmd, "daemon") == 0) &&
	    env.state_dir != NULL &&
	    consent_check(&b->o, named_targets(b), &env) != 0) {
		env_close(&env);
		bundle_free(b);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "run") == 0)
		rc = runner_run(&b->o, env.state_dir ? &env : NULL);
	else if (strcmp(cmd, "daemon") == 0)
		rc = daemon_run(&b->o, &env, reload_cb, release_cb, &ra);
	else if (strcmp(cmd, "upload") == 0)
		rc = cmd_upload(&b->o, &env);
	else if (strcmp(cmd, "status") == 0)
		rc = cmd_status(&b->o, &env, b->json);
	else
		rc = cmd_export(&b->o, &env);
	if (env.state_dir != NULL)
		env_close(&env);
	bundle_free(b);
	return rc;
}

/*
 * The end of a command: its files are written, synced and closed, its
 * memory freed. Then the process leaves without the libraries'
 * destructors: those of libraries libcurl and libpcap pull in and the
 * probe never calls (GnuTLS, p11-kit, libgcrypt...) would fault in
 * pages of their code only to free what the kernel takes back anyway
 * (+0.3-0.45 MiB of peak RSS at the very end of a run, over
 * --max-memory; bench/README.md). A sanitizer build exits normally, so
 * that the leak checker runs.
 */
static int
leave(int rc)
{
#if defined(__SANITIZE_ADDRESS__)
	return rc;
#else
	fflush(NULL);
	_exit(rc);
#endif
}

/*
 * GnuTLS, which Debian's libcurl pulls in (through librtmp) and the probe
 * never calls, initialises itself as it is loaded unless
 * GNUTLS_NO_IMPLICIT_INIT is set: 0.6 MiB of resident memory (its global
 * state, the pages of code that build it), a sixth of what --max-memory
 * 16M leaves for measuring (bench/README.md). The variable must be set
 * before the libraries load, so the probe sets it and executes itself
 * once more. Without /proc (or with the variable already set, as the
 * systemd unit does) it goes on as it is.
 */
static void
without_gnutls_init(char **argv)
{
	if (getenv("GNUTLS_NO_IMPLICIT_INIT") != NULL ||
	    setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 1) != 0)
		return;
	execv("/proc/self/exe", argv);
}

int
main(int argc, char **argv)
{
	static const char *const cmds[] = {"run", "daemon", "upload", "status",
					   "export"};

	char err[200];

	without_gnutls_init(argv);
	/* Before anything allocates through OpenSSL, libcurl, c-ares,
	 * libevent or jansson: --max-memory counts what they hold. */
	if (memacct_install(err, sizeof(err)) != 0)
		fprintf(stderr,
			"wallwatch-probe: %s: --max-memory sees only the "
			"baseline\n",
			err);
	ww_log_set_prog("wallwatch-probe");
	for (size_t i = 0; argc >= 2 && i < WW_ARRAY_LEN(cmds); i++)
		if (strcmp(argv[1], cmds[i]) == 0)
			return leave(dispatch(cmds[i], argc - 1, argv + 1));
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	     strcmp(argv[1], "help") == 0)) {
		probe_usage(stdout);
		return EXIT_MEASURED;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("wallwatch-probe %s\n", WW_VERSION);
		return EXIT_MEASURED;
	}
	if (argc < 2)
		ww_usage_error("%s", "missing command (try: run, daemon, "
				     "upload, status, export)");
	else
		ww_usage_error("unknown command \"%s\" (try: run, daemon, "
			       "upload, status, export)",
			       argv[1]);
	return EXIT_USAGE;
}
