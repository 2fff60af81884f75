/*
 * main.c - wallwatch-collector's command line. Today it serves the control
 * API (issue #3); ingest, storage and timelines come with issue #4, and
 * until then the program says so rather than pretending.
 */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "util.h"

static const char usage_text[] =
	"usage: wallwatch-collector --control-only --listen IP:PORT [options]\n"
	"       wallwatch-collector --help | --version\n"
	"\n"
	"Serve the control API (docs/control-protocol.md): measure a target\n"
	"from here, where it is not censored, for probes that compare it with\n"
	"what they saw. POST /api/v1/control (ours), POST /api/v1/oonith and /\n"
	"(OONI's test-helper protocol), GET /healthz.\n"
	"\n"
	"  --control-only         run only the control API (required until the\n"
	"                         collector's ingest service exists)\n"
	"  --listen IP:PORT       address to serve on ([IPv6]:PORT for IPv6)\n"
	"  --resolver IP[:PORT]   DNS resolver (default: /etc/resolv.conf)\n"
	"  --ca-file FILE         trusted CAs, PEM (default: system store)\n"
	"  --allow-private        measure private and reserved addresses too\n"
	"                         (labs only: otherwise refused, so that the\n"
	"                         service is no door into its own network)\n"
	"  --timeout SECONDS      timeout of each step (default 10)\n"
	"  --max-addrs N          own addresses measured per target (default 4)\n"
	"  --max-inflight N       controls measured at once (default 256)\n"
	"  --verbose              log each control\n"
	"\n"
	"Exit status: 0 after SIGTERM/SIGINT, 1 usage error, 2 could not "
	"start.\n";

enum {
	OPT_CONTROL_ONLY = 256,
	OPT_LISTEN,
	OPT_RESOLVER,
	OPT_CA_FILE,
	OPT_ALLOW_PRIVATE,
	OPT_TIMEOUT,
	OPT_MAX_ADDRS,
	OPT_MAX_INFLIGHT,
	OPT_VERBOSE,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option long_opts[] = {
	{"control-only", no_argument, NULL, OPT_CONTROL_ONLY},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"resolver", required_argument, NULL, OPT_RESOLVER},
	{"ca-file", required_argument, NULL, OPT_CA_FILE},
	{"allow-private", no_argument, NULL, OPT_ALLOW_PRIVATE},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"max-addrs", required_argument, NULL, OPT_MAX_ADDRS},
	{"max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT},
	{"verbose", no_argument, NULL, OPT_VERBOSE},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

struct run {
	struct event_base *base;
	struct ctl_server *srv;
	int signals;
};

static void
drained(void *arg)
{
	struct run *r = arg;

	event_base_loopexit(r->base, NULL);
}

/* First signal: stop accepting, finish what is in flight. Second: now. */
static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct run *r = arg;

	(void)what;
	if (r->signals++ > 0) {
		log_warn("collector", "signal %d again: stopping now",
			 (int)sig);
		event_base_loopexit(r->base, NULL);
		return;
	}
	log_info("collector", "signal %d: finishing controls in flight",
		 (int)sig);
	ctl_server_drain(r->srv, drained, r);
}

static int
serve(const struct ww_config *cfg, const char *listen,
      const struct ctl_server_opts *so)
{
	struct run r;
	struct ww_engine *e;
	struct event *sigterm, *sigint;
	char err[512];
	int rc = EXIT_FAIL;

	memset(&r, 0, sizeof(r));
	signal(SIGPIPE, SIG_IGN);
	r.base = event_base_new();
	if (r.base == NULL)
		abort();
	e = ww_engine_new(r.base, cfg, err, sizeof(err));
	if (e == NULL) {
		log_error("collector", "%s", err);
		event_base_free(r.base);
		return EXIT_FAIL;
	}
	r.srv = ctl_server_new(r.base, e, so, listen, err, sizeof(err));
	if (r.srv == NULL) {
		log_error("collector", "%s", err);
		goto out;
	}
	sigterm = evsignal_new(r.base, SIGTERM, on_signal, &r);
	sigint = evsignal_new(r.base, SIGINT, on_signal, &r);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	log_info("collector", "control service listening on %s (resolver %s%s)",
		 listen, ww_engine_resolver(e),
		 cfg->allow_private ? ", private targets allowed" : "");
	event_base_dispatch(r.base);
	event_free(sigterm);
	event_free(sigint);
	ctl_server_free(r.srv);
	rc = EXIT_OK;
out:
	ww_engine_free(e);
	event_base_free(r.base);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ww_config cfg;
	struct ctl_server_opts so = {256, 0};
	const char *listen = NULL;
	bool control_only = false;
	char err[512];
	long v;
	int c;

	ww_log_set_prog("wallwatch-collector");
	memset(&cfg, 0, sizeof(cfg));
	cfg.timeout = WW_DEFAULT_TIMEOUT;
	cfg.max_addrs = WW_DEFAULT_MAX_ADDRS;
	cfg.control_service = true;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_CONTROL_ONLY:
			control_only = true;
			break;
		case OPT_LISTEN:
			listen = optarg;
			break;
		case OPT_RESOLVER:
			if (ww_resolver_check(optarg, err, sizeof(err)) != 0) {
				ww_usage_error("--resolver: %s", err);
				return EXIT_USAGE;
			}
			cfg.resolver = optarg;
			break;
		case OPT_CA_FILE:
			if (access(optarg, R_OK) != 0) {
				ww_usage_error("cannot read --ca-file \"%s\"",
					    optarg);
				return EXIT_USAGE;
			}
			cfg.ca_file = optarg;
			break;
		case OPT_ALLOW_PRIVATE:
			cfg.allow_private = true;
			break;
		case OPT_TIMEOUT:
			if (ww_parse_seconds(optarg, 0.1, 300, &cfg.timeout) != 0) {
				ww_usage_error("bad --timeout \"%s\": want seconds "
					    "from 0.1 to 300",
					    optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_MAX_ADDRS:
			if (ww_parse_long(optarg, 1, 64, &v) != 0) {
				ww_usage_error("bad --max-addrs \"%s\": want a "
					    "whole number from 1 to 64",
					    optarg);
				return EXIT_USAGE;
			}
			cfg.max_addrs = (int)v;
			break;
		case OPT_MAX_INFLIGHT:
			if (ww_parse_long(optarg, 1, 100000, &v) != 0) {
				ww_usage_error("bad --max-inflight \"%s\": want a "
					    "whole number from 1 to 100000",
					    optarg);
				return EXIT_USAGE;
			}
			so.max_inflight = (int)v;
			break;
		case OPT_VERBOSE:
			ww_log_set_level(WW_LOG_DEBUG);
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			return EXIT_OK;
		case OPT_VERSION:
			printf("wallwatch-collector %s\n", WW_VERSION);
			return EXIT_OK;
		default: /* getopt printed the problem */
			fprintf(stderr, "Try 'wallwatch-collector --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		ww_usage_error("unexpected argument \"%s\"", argv[optind]);
		return EXIT_USAGE;
	}
	if (!control_only) {
		ww_usage_error("%s", "only the control service exists so far: "
				  "run with --control-only (ingest and "
				  "timelines are issue #4)");
		return EXIT_USAGE;
	}
	if (listen == NULL) {
		ww_usage_error("%s", "--listen IP:PORT is required");
		return EXIT_USAGE;
	}
	{
		char ip[64];
		unsigned short port;

		if (ctl_listen_parse(listen, ip, sizeof(ip), &port) != 0) {
			ww_usage_error("bad listen address \"%s\": want IP:PORT "
				    "or [IPv6]:PORT",
				    listen);
			return EXIT_USAGE;
		}
	}
	/* Answer before the probe stops waiting (WW_CONTROL_TIMEOUT). */
	so.deadline = 4.0 * cfg.timeout;
	return serve(&cfg, listen, &so);
}
