/*
 * main.c - wallwatch-probe's command line. Everything here is about
 * options and input files; the measurement itself is the engine's, and the
 * run loop runner.c's.
 */
#include <ctype.h>
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"
#include "util.h"

static const char usage_text[] =
	"usage: wallwatch-probe run [options]\n"
	"       wallwatch-probe --help | --version\n"
	"\n"
	"Measure whether the network blocks each target: DNS (c-ares), TCP\n"
	"connect, TLS with the target's SNI and a neutral one, and HTTP(S).\n"
	"Writes one JSON object per target (JSON Lines).\n"
	"\n"
	"Targets:\n"
	"  --list FILE            Citizen Lab CSV test list (repeatable)\n"
	"  --input URL            one target: http(s)://..., tcp://host:port,\n"
	"                         tls://host:port (repeatable)\n"
	"  --category CODES       only list rows with these categories (A,B)\n"
	"  --exclude-category CODES  never list rows with these categories\n"
	"  (with neither --list nor --input: the bundled default lists)\n"
	"\n"
	"Measurement:\n"
	"  --resolver IP[:PORT]   DNS resolver (default: /etc/resolv.conf)\n"
	"  --ca-file FILE         trusted CAs, PEM (default: system store)\n"
	"  --control-sni NAME     neutral SNI for the control handshake\n"
	"                         (default example.com)\n"
	"  --concurrency N        targets in flight at once (default 32)\n"
	"  --timeout SECONDS      timeout of each step (default 10)\n"
	"  --max-addrs N          addresses measured per target (default 4)\n"
	"\n"
	"Verdicts (docs/verdicts.md):\n"
	"  --control URL          control service to compare with, e.g.\n"
	"                         https://control.example.net:8080 (repeatable:\n"
	"                         the first that answers is used). Without one,\n"
	"                         verdicts are null: never \"accessible\"\n"
	"  --reference URL        a domestic site that should always work\n"
	"                         (repeatable); measured first: if every step\n"
	"                         of it fails, the network is down and verdicts\n"
	"                         are null rather than \"blocked\"\n"
	"  --fingerprints DIR     known blockpages and forged DNS answers\n"
	"                         (default: the bundled testlists/fingerprints)\n"
	"  --control-timeout S    seconds to wait for one control (default\n"
	"                         4 x --timeout + 5)\n"
	"\n"
	"Identity:\n"
	"  --probe-cc CC          country code to record (default ZZ)\n"
	"  --probe-asn ASN        network to record, e.g. AS4134 (default AS0)\n"
	"\n"
	"Output:\n"
	"  --output FILE|-        JSON Lines file, - for stdout (default: a\n"
	"                         dated file in the data directory)\n"
	"  --quiet                no progress line, summary or notices\n"
	"\n"
	"Exit status: 0 every target measured (whatever it found), 1 usage\n"
	"error, 2 the run could not happen or was interrupted.\n";

/* Rows repeating an earlier row's URL (common across a global and a country
 * list): counted, and reported once with the first example. */
static size_t dup_count;
static char *dup_first;

static void
list_notice(const char *msg)
{
	if (dup_count++ == 0)
		dup_first = xstrdup(msg);
}

static void
report_duplicates(bool quiet)
{
	if (dup_count > 0 && !quiet)
		log_info("testlist",
			 "%zu row(s) repeat an earlier row and are measured "
			 "once (first: %s)",
			 dup_count, dup_first);
	free(dup_first);
	dup_first = NULL;
	dup_count = 0;
}

static bool
valid_cc(const char *s)
{
	return strlen(s) == 2 && isupper((unsigned char)s[0]) &&
	       isupper((unsigned char)s[1]);
}

static bool
valid_asn(const char *s)
{
	long v;

	/* Digits only, no leading zero: one spelling per network, as the
	 * collector's ingest requires (engine/validate.c). */
	if (strncmp(s, "AS", 2) != 0 || s[2] < '0' || s[2] > '9' ||
	    (s[2] == '0' && s[3] != '\0'))
		return false;
	for (const char *p = s + 2; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return ww_parse_long(s + 2, 0, 4294967295L, &v) == 0;
}

static bool
valid_control_url(const char *s)
{
	return (strncmp(s, "http://", 7) == 0 && s[7] != '\0') ||
	       (strncmp(s, "https://", 8) == 0 && s[8] != '\0');
}

static int
csv_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 && strcmp(d->d_name + n - 4, ".csv") == 0;
}

static int
load_default_lists(struct ww_testlist *l, char *err, size_t errlen)
{
	char *dir = ww_testlist_default_dir();
	struct dirent **names;
	int n, rc = 0;

	if (dir == NULL) {
		snprintf(err, errlen,
			 "no targets: give --list or --input (no bundled "
			 "test lists found; set WALLWATCH_TESTLISTS)");
		return -1;
	}
	n = scandir(dir, &names, csv_filter, alphasort);
	if (n <= 0) {
		snprintf(err, errlen, "no .csv test lists in %s", dir);
		free(dir);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]->d_name);

		if (rc == 0 &&
		    ww_testlist_load(l, path, err, errlen, list_notice) != 0)
			rc = -1;
		free(path);
		free(names[i]);
	}
	free(names);
	free(dir);
	return rc;
}

enum {
	OPT_LIST = 256,
	OPT_INPUT,
	OPT_CATEGORY,
	OPT_EXCLUDE,
	OPT_RESOLVER,
	OPT_CA_FILE,
	OPT_CONTROL_SNI,
	OPT_CONCURRENCY,
	OPT_TIMEOUT,
	OPT_MAX_ADDRS,
	OPT_OUTPUT,
	OPT_QUIET,
	OPT_CC,
	OPT_ASN,
	OPT_CONTROL,
	OPT_REFERENCE,
	OPT_FINGERPRINTS,
	OPT_CONTROL_TIMEOUT,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option long_opts[] = {
	{"list", required_argument, NULL, OPT_LIST},
	{"input", required_argument, NULL, OPT_INPUT},
	{"category", required_argument, NULL, OPT_CATEGORY},
	{"exclude-category", required_argument, NULL, OPT_EXCLUDE},
	{"resolver", required_argument, NULL, OPT_RESOLVER},
	{"ca-file", required_argument, NULL, OPT_CA_FILE},
	{"control-sni", required_argument, NULL, OPT_CONTROL_SNI},
	{"concurrency", required_argument, NULL, OPT_CONCURRENCY},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"max-addrs", required_argument, NULL, OPT_MAX_ADDRS},
	{"output", required_argument, NULL, OPT_OUTPUT},
	{"quiet", no_argument, NULL, OPT_QUIET},
	{"control", required_argument, NULL, OPT_CONTROL},
	{"reference", required_argument, NULL, OPT_REFERENCE},
	{"fingerprints", required_argument, NULL, OPT_FINGERPRINTS},
	{"control-timeout", required_argument, NULL, OPT_CONTROL_TIMEOUT},
	{"probe-cc", required_argument, NULL, OPT_CC},
	{"probe-asn", required_argument, NULL, OPT_ASN},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

static int
cmd_run(int argc, char **argv)
{
	struct probe_opts o;
	const char *include = NULL, *exclude = NULL;
	const char **lists = NULL, **inputs = NULL, **controls = NULL;
	const char *fp_dir = NULL;
	size_t n_lists = 0, n_inputs = 0, n_controls = 0;
	struct ww_target t;
	char err[512];
	long v;
	int c, rc = EXIT_USAGE;

	memset(&o, 0, sizeof(o));
	o.cfg.timeout = WW_DEFAULT_TIMEOUT;
	o.cfg.max_addrs = WW_DEFAULT_MAX_ADDRS;
	o.cfg.control_sni = WW_DEFAULT_CONTROL_SNI;
	o.concurrency = 32;
	lists = xcalloc((size_t)argc, sizeof(*lists));
	inputs = xcalloc((size_t)argc, sizeof(*inputs));
	controls = xcalloc((size_t)argc, sizeof(*controls));
	o.references = xcalloc((size_t)argc, sizeof(*o.references));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_LIST:
			lists[n_lists++] = optarg;
			break;
		case OPT_INPUT:
			inputs[n_inputs++] = optarg;
			break;
		case OPT_CATEGORY:
		case OPT_EXCLUDE:
			if (ww_testlist_check_categories(optarg, err,
							 sizeof(err)) != 0) {
				ww_usage_error("%s", err);
				goto out;
			}
			*(c == OPT_CATEGORY ? &include : &exclude) = optarg;
			break;
		case OPT_RESOLVER:
			if (ww_resolver_check(optarg, err, sizeof(err)) != 0) {
				ww_usage_error("--resolver: %s", err);
				goto out;
			}
			o.cfg.resolver = optarg;
			break;
		case OPT_CA_FILE:
			if (access(optarg, R_OK) != 0) {
				ww_usage_error("cannot read --ca-file \"%s\"",
					    optarg);
				goto out;
			}
			o.cfg.ca_file = optarg;
			break;
		case OPT_CONTROL_SNI:
			if (!ww_hostname_normalize(optarg)) {
				ww_usage_error("bad --control-sni \"%s\": want a "
					    "DNS name",
					    optarg);
				goto out;
			}
			o.cfg.control_sni = optarg;
			break;
		case OPT_CONCURRENCY:
			if (ww_opt_long("concurrency", optarg, 1, 4096,
					&v) != 0)
				goto out;
			o.concurrency = (int)v;
			break;
		case OPT_TIMEOUT:
			if (ww_parse_seconds(optarg, 0.1, 300, &o.cfg.timeout) != 0) {
				ww_usage_error("bad --timeout \"%s\": want seconds "
					    "from 0.1 to 300",
					    optarg);
				goto out;
			}
			break;
		case OPT_MAX_ADDRS:
			if (ww_opt_long("max-addrs", optarg, 1, 64, &v) != 0)
				goto out;
			o.cfg.max_addrs = (int)v;
			break;
		case OPT_OUTPUT:
			o.output = optarg;
			break;
		case OPT_QUIET:
			o.quiet = true;
			break;
		case OPT_CONTROL:
			if (!valid_control_url(optarg)) {
				ww_usage_error("bad --control \"%s\": want an "
					    "http:// or https:// URL",
					    optarg);
				goto out;
			}
			controls[n_controls++] = optarg;
			break;
		case OPT_REFERENCE:
			if (ww_target_parse(optarg, &t, err, sizeof(err)) != 0) {
				ww_usage_error("bad --reference: %s", err);
				goto out;
			}
			ww_target_clear(&t);
			o.references[o.n_references++] = optarg;
			break;
		case OPT_FINGERPRINTS:
			fp_dir = optarg;
			break;
		case OPT_CONTROL_TIMEOUT:
			if (ww_parse_seconds(optarg, 0.1, 300,
					     &o.cfg.control_timeout) != 0) {
				ww_usage_error("bad --control-timeout \"%s\": want "
					    "seconds from 0.1 to 300",
					    optarg);
				goto out;
			}
			break;
		case OPT_CC:
			if (!valid_cc(optarg)) {
				ww_usage_error("bad --probe-cc \"%s\": want two "
					    "upper-case letters",
					    optarg);
				goto out;
			}
			o.probe_cc = optarg;
			break;
		case OPT_ASN:
			if (!valid_asn(optarg)) {
				ww_usage_error("bad --probe-asn \"%s\": want "
					    "AS<number>",
					    optarg);
				goto out;
			}
			o.probe_asn = optarg;
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			rc = EXIT_MEASURED;
			goto out;
		case OPT_VERSION:
			printf("wallwatch-probe %s\n", WW_VERSION);
			rc = EXIT_MEASURED;
			goto out;
		default: /* getopt printed the problem */
			fprintf(stderr, "Try 'wallwatch-probe --help'.\n");
			goto out;
		}
	}
	if (optind < argc) {
		ww_usage_error("unexpected argument \"%s\"", argv[optind]);
		goto out;
	}
	for (size_t i = 0; i < n_lists; i++)
		if (ww_testlist_load(&o.targets, lists[i], err, sizeof(err),
				     list_notice) != 0) {
			ww_usage_error("%s", err);
			goto out;
		}
	for (size_t i = 0; i < n_inputs; i++)
		if (ww_testlist_add_input(&o.targets, inputs[i], err,
					  sizeof(err)) != 0) {
			ww_usage_error("bad --input: %s", err);
			goto out;
		}
	if (n_lists == 0 && n_inputs == 0 &&
	    load_default_lists(&o.targets, err, sizeof(err)) != 0) {
		ww_usage_error("%s", err);
		goto out;
	}
	report_duplicates(o.quiet);
	o.fp = ww_fingerprints_load_default(fp_dir, err, sizeof(err));
	if (o.fp == NULL) {
		ww_usage_error("%s", err);
		goto out;
	}
	o.cfg.controls = controls;
	o.cfg.n_controls = n_controls;
	ww_testlist_filter(&o.targets, include, exclude);
	if (o.targets.n == 0) {
		ww_usage_error("%s", "no targets left to measure (check "
				  "--category/--exclude-category)");
		goto out;
	}
	rc = runner_run(&o);
out:
	report_duplicates(true);
	ww_testlist_free(&o.targets);
	ww_fingerprints_free(o.fp);
	free(lists);
	free(inputs);
	free(controls);
	free(o.references);
	return rc;
}

int
main(int argc, char **argv)
{
	ww_log_set_prog("wallwatch-probe");
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
			  strcmp(argv[1], "-h") == 0 ||
			  strcmp(argv[1], "help") == 0)) {
		fputs(usage_text, stdout);
		return EXIT_MEASURED;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("wallwatch-probe %s\n", WW_VERSION);
		return EXIT_MEASURED;
	}
	if (argc < 2)
		ww_usage_error("%s", "missing command (try: run)");
	else
		ww_usage_error("unknown command \"%s\" (try: run)", argv[1]);
	return EXIT_USAGE;
}
