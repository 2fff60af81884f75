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

#include "conf.h"
#include "memacct.h"
#include "probe.h"
#include "state.h"
#include "util.h"

static const char usage_text[] =
	"usage: wallwatch-probe run [options]       measure every target once\n"
	"       wallwatch-probe daemon [options]    measure every --interval,\n"
	"                                           upload all the time\n"
	"       wallwatch-probe upload [options]    send the spool now\n"
	"       wallwatch-probe status [--json] [options]\n"
	"                                           the queue, the collectors,\n"
	"                                           the submitter key's id\n"
	"       wallwatch-probe export --output FILE|- [options]\n"
	"       wallwatch-probe --help | --version\n"
	"\n"
	"Measure whether the network blocks each target: DNS (c-ares), TCP\n"
	"connect, TLS with the target's SNI and a neutral one, and HTTP(S).\n"
	"Writes one JSON object per target (JSON Lines). With a collector,\n"
	"every measurement is spooled on disk and uploaded (docs/volunteer.md).\n"
	"Every option is also a key of the configuration file, without \"--\".\n"
	"\n"
	"Targets:\n"
	"  --list FILE            Citizen Lab CSV test list (repeatable)\n"
	"  --input URL            one target: http(s)://..., tcp://host:port,\n"
	"                         tls://host:port (repeatable)\n"
	"  --category CODES       only list rows with these categories (A,B)\n"
	"  --exclude-category CODES  never list rows with these categories,\n"
	"                         and never upload measurements of them\n"
	"  (with neither --list nor --input: the bundled default lists)\n"
	"\n"
	"Measurement:\n"
	"  --resolver IP[:PORT]   DNS resolver (default: /etc/resolv.conf)\n"
	"  --ca-file PATH         trusted CAs: PEM file or hashed directory\n"
	"                         (default: the system store)\n"
	"  --control-sni NAME     neutral SNI for the control handshake\n"
	"                         (default example.com)\n"
	"  --concurrency N        targets in flight at once (default 32)\n"
	"  --timeout SECONDS      timeout of each step (default 10)\n"
	"  --max-addrs N          addresses measured per target (default 4)\n"
	"  --max-body SIZE        bytes downloaded per HTTP response (default\n"
	"                         8M; K, M, G suffixes)\n"
	"  --max-bytes SIZE       traffic per run; the rest waits for the next\n"
	"                         run (default 0: no cap)\n"
	"  --capture auto|on|off  packet capture of the probe's own flows, for\n"
	"                         proof of injection (needs root or\n"
	"                         CAP_NET_RAW; default auto: on when allowed,\n"
	"                         else said once; on: refuse to run without)\n"
	"  --pcap FILE            also write those packets to FILE (pcapng,\n"
	"                         your addresses replaced by placeholders)\n"
	"  --dns-late-window SECONDS  keep listening for DNS answers this long\n"
	"                         after the first (default 1; 0: not at all)\n"
	"  --max-memory SIZE      memory budget: new targets, TLS handshakes\n"
	"                         and HTTP transfers wait while the process\n"
	"                         would pass it (default 24M, for small\n"
	"                         routers; 0 or none: no budget)\n"
	"  --cooldown DURATION    least time between two tests of one\n"
	"                         address:port (default: 180s for daemon, 0 for\n"
	"                         run)\n"
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
	"Identity (default: what the collector's /api/v1/whoami says, else\n"
	"ZZ and AS0):\n"
	"  --probe-cc CC          country code to record\n"
	"  --probe-asn ASN        network to record, e.g. AS4134\n"
	"\n"
	"Submission and state:\n"
	"  --collector URL        collector to upload to (repeatable, tried in\n"
	"                         order), e.g. https://collector.example.org\n"
	"  --state-dir DIR        spool, state, consent and the submitter key\n"
	"                         (docs/volunteer.md; default\n"
	"                         $STATE_DIRECTORY, else the data directory)\n"
	"  --spool-max MIB        spool size cap; past it the oldest bodies are\n"
	"                         dropped (default 256)\n"
	"  --retry-quick DURATION first retry after a failed upload; 3 quick\n"
	"                         retries, doubling (default 5s)\n"
	"  --retry-slow DURATION  then this, doubling up to 6h (default 15m)\n"
	"  --upload-timeout DURATION  give a silent collector up (default 60s)\n"
	"  --interval DURATION    daemon: time between runs (default 1h)\n"
	"  --config FILE          configuration file (default\n"
	"                         /etc/wallwatch/probe.conf, if it exists)\n"
	"  --yes                  consent to the test lists' categories\n"
	"                         (unattended installs); remembered\n"
	"\n"
	"Output:\n"
	"  --output FILE|-        JSON Lines file, - for stdout (run: default a\n"
	"                         dated file in the data directory, or only the\n"
	"                         spool with a collector; export: required)\n"
	"  --json                 status: machine-readable\n"
	"  --quiet                no progress line, summary or notices\n"
	"  --verbose              end a run with a line on memory (peak RSS,\n"
	"                         the budget, handshakes that waited)\n"
	"\n"
	"DURATION: seconds, or with s, m, h or d (90, 15m, 1h). SIZE: bytes,\n"
	"or with K, M or G (1024-based).\n"
	"\n"
	"Exit status: 0 every target measured (whatever it found; or the rest\n"
	"left for the next run by --max-bytes) / spool sent, 1 usage error,\n"
	"2 the run could not happen or was interrupted / measurements still\n"
	"queued.\n";

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
	/* No blanks or control characters: "URL # note" in the
	 * configuration file is a bad value, not a comment. */
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
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
	OPT_COLLECTOR,
	OPT_STATE_DIR,
	OPT_SPOOL_MAX,
	OPT_INTERVAL,
	OPT_COOLDOWN,
	OPT_MAX_BYTES,
	OPT_MAX_BODY,
	OPT_CAPTURE,
	OPT_PCAP,
	OPT_DNS_LATE_WINDOW,
	OPT_MAX_MEMORY,
	OPT_VERBOSE,
	OPT_RETRY_QUICK,
	OPT_RETRY_SLOW,
	OPT_UPLOAD_TIMEOUT,
	OPT_YES,
	OPT_CONFIG,
	OPT_JSON,
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
	{"collector", required_argument, NULL, OPT_COLLECTOR},
	{"state-dir", required_argument, NULL, OPT_STATE_DIR},
	{"spool-max", required_argument, NULL, OPT_SPOOL_MAX},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"cooldown", required_argument, NULL, OPT_COOLDOWN},
	{"max-bytes", required_argument, NULL, OPT_MAX_BYTES},
	{"max-body", required_argument, NULL, OPT_MAX_BODY},
	{"capture", required_argument, NULL, OPT_CAPTURE},
	{"pcap", required_argument, NULL, OPT_PCAP},
	{"dns-late-window", required_argument, NULL, OPT_DNS_LATE_WINDOW},
	{"max-memory", required_argument, NULL, OPT_MAX_MEMORY},
	{"verbose", no_argument, NULL, OPT_VERBOSE},
	{"retry-quick", required_argument, NULL, OPT_RETRY_QUICK},
	{"retry-slow", required_argument, NULL, OPT_RETRY_SLOW},
	{"upload-timeout", required_argument, NULL, OPT_UPLOAD_TIMEOUT},
	{"yes", no_argument, NULL, OPT_YES},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

/* Options that may be given more than once: on the command line they
 * replace the configuration file's values instead of adding to them. */
static bool
repeatable(int code)
{
	return code == OPT_LIST || code == OPT_INPUT || code == OPT_CONTROL ||
	       code == OPT_REFERENCE || code == OPT_COLLECTOR;
}

#define DEFAULT_CONFIG "/etc/wallwatch/probe.conf"

/* Everything one command line plus configuration file says. */
struct bundle {
	const char *cmd; /* "run", "daemon", ... */
	struct probe_opts o;
	struct ww_conf conf;
	const char **lists, **inputs, **controls;
	size_t n_lists, n_inputs, n_controls;
	const char *include, *fp_dir;
	bool lists_from_cli; /* the volunteer named the targets */
	bool json;
};

struct opt_arg {
	int code;
	const char *arg;
	const char *where; /* NULL: the command line; else "PATH:LINE" */
	const char *name;  /* "--timeout" or "timeout" */
};

static void
bundle_free(struct bundle *b)
{
	if (b == NULL)
		return;
	report_duplicates(true);
	ww_testlist_free(&b->o.targets);
	ww_fingerprints_free(b->o.fp);
	free(b->lists);
	free(b->inputs);
	free(b->controls);
	free(b->o.collectors);
	free(b->o.references);
	ww_conf_free(&b->conf);
	free(b);
}

/* A DURATION: seconds, or a number with s, m, h or d. */
static int
parse_duration(const char *s, double min, double max, double *out)
{
	size_t n = strlen(s);
	double mult = 1, v;
	char buf[32];

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	switch (buf[n - 1]) {
	case 's':
		mult = 1;
		buf[--n] = '\0';
		break;
	case 'm':
		mult = 60;
		buf[--n] = '\0';
		break;
	case 'h':
		mult = 3600;
		buf[--n] = '\0';
		break;
	case 'd':
		mult = 86400;
		buf[--n] = '\0';
		break;
	default:
		break;
	}
	if (ww_parse_seconds(buf, 0, 1e9, &v) != 0)
		return -1;
	v *= mult;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A SIZE: bytes, or a whole number with K, M or G (1024-based). */
static int
parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	size_t n = strlen(s);
	uint64_t mult = 1;
	long v;
	char buf[32];

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	switch (buf[n - 1]) {
	case 'K':
	case 'k':
		mult = 1024;
		buf[--n] = '\0';
		break;
	case 'M':
	case 'm':
		mult = 1024 * 1024;
		buf[--n] = '\0';
		break;
	case 'G':
	case 'g':
		mult = 1024 * 1024 * 1024;
		buf[--n] = '\0';
		break;
	default:
		break;
	}
	if (ww_parse_long(buf, 0, 1L << 40, &v) != 0)
		return -1;
	if ((uint64_t)v * mult < min || (uint64_t)v * mult > max)
		return -1;
	*out = (uint64_t)v * mult;
	return 0;
}

/* Apply one option; 0, or -1 with the problem in err (without where). */
static int
apply(struct bundle *b, const struct opt_arg *a, char *err, size_t errlen)
{
	struct probe_opts *o = &b->o;
	const char *arg = a->arg, *nm = a->name;
	char why[400];
	struct ww_target t;
	long v;
	bool flag;

	switch (a->code) {
	case OPT_LIST:
		b->lists[b->n_lists++] = arg;
		break;
	case OPT_INPUT:
		b->inputs[b->n_inputs++] = arg;
		break;
	case OPT_CATEGORY:
	case OPT_EXCLUDE:
		if (ww_testlist_check_categories(arg, why, sizeof(why)) != 0) {
			ww_set_err(err, errlen, "%s: %s", nm, why);
			return -1;
		}
		if (a->code == OPT_CATEGORY)
			b->include = arg;
		else
			o->exclude = arg;
		break;
	case OPT_RESOLVER:
		if (ww_resolver_check(arg, why, sizeof(why)) != 0) {
			ww_set_err(err, errlen, "%s: %s", nm, why);
			return -1;
		}
		o->cfg.resolver = arg;
		break;
	case OPT_CA_FILE:
		if (access(arg, R_OK) != 0) {
			ww_set_err(err, errlen, "cannot read %s \"%s\"", nm,
				   arg);
			return -1;
		}
		o->cfg.ca_file = arg;
		break;
	case OPT_CONTROL_SNI:
		/* Normalised in place: a copy, since arg may be argv. */
		if (!ww_hostname_normalize((char *)arg)) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want a DNS name", nm, arg);
			return -1;
		}
		o->cfg.control_sni = arg;
		break;
	case OPT_CONCURRENCY:
	case OPT_MAX_ADDRS: {
		long max = a->code == OPT_CONCURRENCY ? 4096 : 64;

		if (ww_parse_long(arg, 1, max, &v) != 0) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want a whole "
				   "number from 1 to %ld",
				   nm, arg, max);
			return -1;
		}
		if (a->code == OPT_CONCURRENCY)
			o->concurrency = (int)v;
		else
			o->cfg.max_addrs = (int)v;
		break;
	}
	case OPT_TIMEOUT:
	case OPT_CONTROL_TIMEOUT:
		if (ww_parse_seconds(arg, 0.1, 300,
				     a->code == OPT_TIMEOUT
					     ? &o->cfg.timeout
					     : &o->cfg.control_timeout) != 0) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want seconds "
				   "from 0.1 to 300",
				   nm, arg);
			return -1;
		}
		break;
	case OPT_OUTPUT:
		o->output = arg;
		break;
	case OPT_QUIET:
	case OPT_VERBOSE:
	case OPT_YES:
		flag = true;
		if (a->where != NULL && ww_conf_bool(arg, &flag) != 0) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want true or "
				   "false",
				   nm, arg);
			return -1;
		}
		*(a->code == OPT_QUIET	   ? &o->quiet
		  : a->code == OPT_VERBOSE ? &o->verbose
					   : &o->yes) = flag;
		break;
	case OPT_CONTROL:
	case OPT_COLLECTOR:
		if (!valid_control_url(arg)) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want an http:// "
				   "or https:// URL",
				   nm, arg);
			return -1;
		}
		if (a->code == OPT_CONTROL)
			b->controls[b->n_controls++] = arg;
		else if (o->n_collectors >= UPLOAD_MAX_COLLECTORS) {
			ww_set_err(err, errlen, "more than %d %s",
				   UPLOAD_MAX_COLLECTORS, nm);
			return -1;
		} else
			o->collectors[o->n_collectors++] = arg;
		break;
	case OPT_REFERENCE:
		if (ww_target_parse(arg, &t, why, sizeof(why)) != 0) {
			ww_set_err(err, errlen, "bad %s: %s", nm, why);
			return -1;
		}
		ww_target_clear(&t);
		o->references[o->n_references++] = arg;
		break;
	case OPT_FINGERPRINTS:
		b->fp_dir = arg;
		break;
	case OPT_CC:
		if (!valid_cc(arg)) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want two "
				   "upper-case letters",
				   nm, arg);
			return -1;
		}
		o->probe_cc = arg;
		break;
	case OPT_ASN:
		if (!valid_asn(arg)) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want AS<number>", nm, arg);
			return -1;
		}
		o->probe_asn = arg;
		break;
	case OPT_STATE_DIR:
		if (arg[0] != '/') {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want an absolute "
				   "path",
				   nm, arg);
			return -1;
		}
		o->state_dir = arg;
		break;
	case OPT_SPOOL_MAX:
		if (ww_parse_long(arg, 1, 1024 * 1024, &v) != 0) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want MiB from 1 "
				   "to 1048576",
				   nm, arg);
			return -1;
		}
		o->spool_max = (uint64_t)v * 1024 * 1024;
		break;
	case OPT_MAX_BYTES:
		if (parse_size(arg, 0, (uint64_t)1 << 50, &o->max_bytes) != 0) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want bytes, or "
				   "a number with K, M or G",
				   nm, arg);
			return -1;
		}
		break;
	case OPT_MAX_BODY: {
		uint64_t sz;

		if (parse_size(arg, 1024, 64u * 1024 * 1024, &sz) != 0) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want a size "
				   "from 1K to 64M",
				   nm, arg);
			return -1;
		}
		o->cfg.body_cap = (size_t)sz;
		break;
	}
	case OPT_CAPTURE:
		if (strcmp(arg, "auto") == 0)
			o->cfg.capture = WW_CAPTURE_AUTO;
		else if (strcmp(arg, "on") == 0)
			o->cfg.capture = WW_CAPTURE_ON;
		else if (strcmp(arg, "off") == 0)
			o->cfg.capture = WW_CAPTURE_OFF;
		else {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want auto, on or off", nm,
				   arg);
			return -1;
		}
		break;
	case OPT_PCAP:
		o->cfg.pcap_file = arg;
		break;
	case OPT_DNS_LATE_WINDOW: {
		double w;

		if (ww_parse_seconds(arg, 0, 30, &w) != 0) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want seconds from 0 to 30",
				   nm, arg);
			return -1;
		}
		o->cfg.dns_late_window = w > 0 ? w : -1; /* 0: none */
		break;
	}
	case OPT_MAX_MEMORY:
		o->cfg.max_memory_default = false;
		if (memacct_parse_size(arg, &o->cfg.max_memory) != 0) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want bytes, a number "
				   "with K, M or G, or 0 or none (no budget)",
				   nm, arg);
			return -1;
		}
		break;
	case OPT_INTERVAL:
	case OPT_COOLDOWN:
	case OPT_RETRY_QUICK:
	case OPT_RETRY_SLOW:
	case OPT_UPLOAD_TIMEOUT: {
		double *dst = a->code == OPT_INTERVAL	   ? &o->interval
			      : a->code == OPT_COOLDOWN	   ? &o->cooldown
			      : a->code == OPT_RETRY_QUICK ? &o->retry_quick
			      : a->code == OPT_RETRY_SLOW  ? &o->retry_slow
							   : &o->upload_timeout;
		double min = a->code == OPT_COOLDOWN ? 0 : 0.1;
		double max = a->code == OPT_UPLOAD_TIMEOUT ? 3600 : 7 * 86400;

		if (parse_duration(arg, min, max, dst) != 0) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want a duration "
				   "from %g s to %g s (90, 15m, "
				   "1h)",
				   nm, arg, min, max);
			return -1;
		}
		break;
	}
	case OPT_JSON:
		b->json = true;
		break;
	default:
		ww_set_err(err, errlen, "%s is not allowed here", nm);
		return -1;
	}
	return 0;
}

static const struct option *
opt_by_code(int code)
{
	for (const struct option *p = long_opts; p->name != NULL; p++)
		if (p->val == code)
			return p;
	return NULL;
}

static const struct option *
opt_by_name(const char *name)
{
	for (const struct option *p = long_opts; p->name != NULL; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

/* The configuration file's entries as options (cli_has: repeatable codes
 * the command line gives, whose file values are dropped). */
static int
conf_args(struct bundle *b, const bool *cli_has, struct opt_arg *out, size_t *n,
	  char **wheres)
{
	for (size_t i = 0; i < b->conf.n; i++) {
		const struct ww_conf_entry *e = &b->conf.e[i];
		const struct option *p = opt_by_name(e->key);

		wheres[i] = xasprintf("%s:%d", b->conf.path, e->line);
		if (p == NULL || p->val == OPT_CONFIG || p->val == OPT_HELP ||
		    p->val == OPT_VERSION || p->val == OPT_JSON) {
			fprintf(stderr,
				"wallwatch-probe: %s: unknown key \"%s\"\n",
				wheres[i], e->key);
			return -1;
		}
		if (repeatable(p->val) && cli_has[p->val - OPT_LIST])
			continue;
		out[*n].code = p->val;
		out[*n].arg = e->value;
		out[*n].where = wheres[i];
		out[*n].name = p->name;
		(*n)++;
	}
	return 0;
}

static const char *
config_path(const char *cli, bool *required)
{
	const char *env = getenv("WALLWATCH_PROBE_CONF");

	*required = true;
	if (cli != NULL)
		return cli;
	if (env != NULL && env[0] != '\0')
		return env;
	*required = false;
	return DEFAULT_CONFIG;
}

/* Targets, fingerprints and filters, for run and daemon. */
static int
load_targets(struct bundle *b)
{
	struct probe_opts *o = &b->o;
	char err[512];

	if (o->cfg.pcap_file != NULL && o->cfg.capture == WW_CAPTURE_OFF) {
		ww_usage_error("%s", "--pcap needs packet capture, and "
				     "--capture is off");
		return -1;
	}
	if (o->cfg.pcap_file != NULL && strcmp(b->cmd, "run") != 0) {
		ww_usage_error("%s", "--pcap is for `run` (each daemon run "
				     "would overwrite the file)");
		return -1;
	}
	for (size_t i = 0; i < b->n_lists; i++)
		if (ww_testlist_load(&o->targets, b->lists[i], err, sizeof(err),
				     list_notice) != 0) {
			ww_usage_error("%s", err);
			return -1;
		}
	for (size_t i = 0; i < b->n_inputs; i++)
		if (ww_testlist_add_input(&o->targets, b->inputs[i], err,
					  sizeof(err)) != 0) {
			ww_usage_error("bad --input: %s", err);
			return -1;
		}
	if (b->n_lists == 0 && b->n_inputs == 0 &&
	    load_default_lists(&o->targets, err, sizeof(err)) != 0) {
		ww_usage_error("%s", err);
		return -1;
	}
	report_duplicates(o->quiet);
	o->fp = ww_fingerprints_load_default(b->fp_dir, err, sizeof(err));
	if (o->fp == NULL) {
		ww_usage_error("%s", err);
		return -1;
	}
	o->cfg.controls = b->controls;
	o->cfg.n_controls = b->n_controls;
	ww_testlist_filter(&o->targets, b->include, o->exclude);
	if (o->targets.n == 0) {
		ww_usage_error("%s", "no targets left to measure (check "
				     "--category/--exclude-category)");
		return -1;
	}
	return 0;
}

/*
 * Parse the command line (argv[0] is the command) and the configuration
 * file into a bundle. NULL after a message; *rc is then the exit code
 * (0 for --help/--version).
 */
static struct bundle *
bundle_load(const char *cmd, int argc, char **argv, int *rc)
{
	struct bundle *b = xcalloc(1, sizeof(*b));
	struct probe_opts *o = &b->o;
	struct opt_arg *cli = xcalloc((size_t)argc + 1, sizeof(*cli));
	struct opt_arg *all = NULL;
	char **wheres = NULL;
	bool cli_has[OPT_VERSION - OPT_LIST + 1] = {false};
	const char *cfg_cli = NULL, *cfg;
	size_t n_cli = 0, n_all = 0, slots;
	bool required;
	char err[600];
	int c;

	*rc = EXIT_USAGE;
	b->cmd = cmd;
	o->cfg.timeout = WW_DEFAULT_TIMEOUT;
	o->cfg.max_addrs = WW_DEFAULT_MAX_ADDRS;
	o->cfg.control_sni = WW_DEFAULT_CONTROL_SNI;
	o->cfg.capture = WW_CAPTURE_AUTO;
	o->concurrency = 32;
	o->cfg.max_memory = WW_DEFAULT_MAX_MEMORY;
	o->cfg.max_memory_default = true;
	o->spool_max = 256u * 1024 * 1024;
	o->interval = 3600;
	o->cooldown = strcmp(cmd, "daemon") == 0 ? 180 : 0;
	o->retry_quick = 5;
	o->retry_slow = 900;
	o->upload_timeout = 60;
	o->shuffle = strcmp(cmd, "daemon") == 0;
	o->progress = strcmp(cmd, "run") == 0;
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(usage_text, stdout);
			*rc = EXIT_MEASURED;
			goto fail;
		}
		if (c == OPT_VERSION) {
			printf("wallwatch-probe %s\n", WW_VERSION);
			*rc = EXIT_MEASURED;
			goto fail;
		}
		if (c < OPT_LIST || c > OPT_VERSION) {
			/* getopt printed the problem */
			fprintf(stderr, "Try 'wallwatch-probe --help'.\n");
			goto fail;
		}
		if (c == OPT_CONFIG) {
			cfg_cli = optarg;
			continue;
		}
		cli_has[c - OPT_LIST] = true;
		cli[n_cli].code = c;
		cli[n_cli].arg = optarg;
		cli[n_cli].name = NULL;
		n_cli++;
	}
	if (optind < argc) {
		ww_usage_error("unexpected argument \"%s\"", argv[optind]);
		goto fail;
	}
	cfg = config_path(cfg_cli, &required);
	if (required || access(cfg, F_OK) == 0) {
		if (ww_conf_load(&b->conf, cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "wallwatch-probe: %s\n", err);
			goto fail;
		}
	}
	slots = (size_t)argc + b->conf.n + 1;
	b->lists = xcalloc(slots, sizeof(*b->lists));
	b->inputs = xcalloc(slots, sizeof(*b->inputs));
	b->controls = xcalloc(slots, sizeof(*b->controls));
	o->collectors = xcalloc(slots, sizeof(*o->collectors));
	o->references = xcalloc(slots, sizeof(*o->references));
	all = xcalloc(slots, sizeof(*all));
	wheres = xcalloc(b->conf.n + 1, sizeof(*wheres));
	/* The file first, then the command line, which wins. */
	if (conf_args(b, cli_has, all, &n_all, wheres) != 0)
		goto fail;
	for (size_t i = 0; i < n_all; i++)
		if (apply(b, &all[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "wallwatch-probe: %s: %s\n",
				all[i].where, err);
			goto fail;
		}
	for (size_t i = 0; i < n_cli; i++) {
		char name[40];

		snprintf(name, sizeof(name), "--%s",
			 opt_by_code(cli[i].code)->name);
		cli[i].name = name;
		if (apply(b, &cli[i], err, sizeof(err)) != 0) {
			ww_usage_error("%s", err);
			goto fail;
		}
		cli[i].name = NULL;
	}
	b->lists_from_cli =
		cli_has[OPT_LIST - OPT_LIST] || cli_has[OPT_INPUT - OPT_LIST];
	if (strcmp(cmd, "export") == 0 && o->output == NULL) {
		ww_usage_error("%s", "export needs --output FILE (or - for "
				     "standard output)");
		goto fail;
	}
	if (b->json && strcmp(cmd, "status") != 0) {
		ww_usage_error("%s", "--json is for status only");
		goto fail;
	}
	if (strcmp(cmd, "daemon") == 0 && o->n_collectors == 0) {
		ww_usage_error("%s", "the daemon needs a --collector (or "
				     "\"collector =\" in the configuration)");
		goto fail;
	}
	if ((strcmp(cmd, "run") == 0 || strcmp(cmd, "daemon") == 0) &&
	    load_targets(b) != 0)
		goto fail;
	for (size_t i = 0; i < b->conf.n; i++)
		free(wheres[i]);
	free(wheres);
	free(all);
	free(cli);
	*rc = EXIT_MEASURED;
	return b;
fail:
	for (size_t i = 0; wheres != NULL && i < b->conf.n; i++)
		free(wheres[i]);
	free(wheres);
	free(all);
	free(cli);
	bundle_free(b);
	return NULL;
}

/* --- consent -------------------------------------------------------------- */

static int
cat_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct categories of the targets (borrowed strings). */
static const char **
target_categories(const struct ww_testlist *l, size_t *n, size_t **counts)
{
	const char **v = xcalloc(l->n + 1, sizeof(*v));
	size_t k = 0;

	for (size_t i = 0; i < l->n; i++)
		if (l->targets[i].category_code != NULL)
			v[k++] = l->targets[i].category_code;
	qsort(v, k, sizeof(*v), cat_cmp);
	*counts = xcalloc(k + 1, sizeof(**counts));
	*n = 0;
	for (size_t i = 0; i < k; i++) {
		if (*n > 0 && strcmp(v[*n - 1], v[i]) == 0) {
			(*counts)[*n - 1]++;
			continue;
		}
		v[*n] = v[i];
		(*counts)[(*n)++] = 1;
	}
	return v;
}

/*
 * Measuring a test list means the network sees the volunteer reach every
 * site on it, which in some places is dangerous. So the first run (and any
 * run that adds a category) shows what will be tested and asks; the answer
 * is remembered. Targets the volunteer named on the command line of `run`
 * need no question: naming them was the choice.
 */
static int
check_consent(struct bundle *b, struct probe_env *env)
{
	size_t n, *counts;
	const char **cats;
	char line[16];
	int rc = 0;

	if (strcmp(b->cmd, "run") == 0 && b->lists_from_cli)
		return 0;
	cats = target_categories(&b->o.targets, &n, &counts);
	if (n == 0 || consent_covers(env, cats, n))
		goto out;
	if (b->o.yes) {
		rc = consent_record(env, cats, n, "--yes") == 0 ? 0 : -1;
		goto out;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
		fprintf(stderr,
			"wallwatch-probe: no consent recorded in %s for the "
			"categories to be tested (",
			env->state_dir);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "%s%s", i ? "," : "", cats[i]);
		fprintf(stderr, "). Run it once on a terminal to review and "
				"agree, or pass --yes (\"yes = true\" in the "
				"configuration) for an unattended install.\n");
		rc = -1;
		goto out;
	}
	fprintf(stderr,
		"wallwatch-probe will measure %zu targets from these test-list "
		"categories:\n",
		b->o.targets.n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  %-6s %zu target(s)\n", cats[i], counts[i]);
	fprintf(stderr,
		"\nAnyone watching this network (your ISP, your employer, the "
		"state) can see\nthat this machine contacted these sites. In some "
		"countries that is risky.\nLeave categories out with "
		"--exclude-category (e.g. exclude-category = LGBT,REL\nin the "
		"configuration). Your own address is removed from every "
		"measurement.\n\nMeasure these categories? [y/N] ");
	if (fgets(line, sizeof(line), stdin) != NULL &&
	    (line[0] == 'y' || line[0] == 'Y'))
		rc = consent_record(env, cats, n, "terminal") == 0 ? 0 : -1;
	else {
		fprintf(stderr, "wallwatch-probe: no consent; nothing "
				"measured\n");
		rc = -1;
	}
out:
	free(cats);
	free(counts);
	return rc;
}

/* --- commands ------------------------------------------------------------- */

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
	if (b != NULL && check_consent(b, ra->env) != 0) {
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
	    env.state_dir != NULL && check_consent(b, &env) != 0) {
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
		fputs(usage_text, stdout);
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
