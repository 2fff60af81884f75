/*
 * cmdline.c - one command's options into a bundle (see cmdline.h): each
 * option's checks and effect (apply()), the order of the sources, the
 * targets. The option table itself is options.c's.
 */
#include <ctype.h>
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdline.h"
#include "memacct.h"
#include "options.h"
#include "util.h"

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
	 * collector's ingest requires (collector/validate.c). */
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

struct opt_arg {
	int code;
	const char *arg;
	/* NULL: the command line; else "PATH:LINE", or "default" for the
	 * table's default */
	const char *where;
	const char *name; /* "--timeout" or "timeout" */
	bool is_default;  /* the table's default, not the volunteer's */
};

void
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

/* An option of a kind the table describes (options.h): checked against
 * its range, stored in its field of o. */
static int
apply_kind(const struct probe_option *p, struct probe_opts *o,
	   const struct opt_arg *a, char *err, size_t errlen)
{
	void *dst = (char *)o + p->off;
	const char *arg = a->arg, *nm = a->name;
	bool flag = true;
	long v;

	switch (p->kind) {
	case OPTK_FLAG:
		/* On the command line a flag has no value. */
		if (a->where != NULL && ww_conf_bool(arg, &flag) != 0) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want true or false", nm,
				   arg);
			return -1;
		}
		*(bool *)dst = flag;
		return 0;
	case OPTK_STRING:
		*(const char **)dst = arg;
		return 0;
	case OPTK_INT:
		if (ww_parse_long(arg, (long)p->min, (long)p->max, &v) != 0) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want a whole number from "
				   "%ld to %ld",
				   nm, arg, (long)p->min, (long)p->max);
			return -1;
		}
		*(int *)dst = (int)v;
		return 0;
	case OPTK_SECONDS:
		if (ww_parse_seconds(arg, p->min, p->max, dst) != 0) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want seconds from %g to %g",
				   nm, arg, p->min, p->max);
			return -1;
		}
		return 0;
	case OPTK_DURATION:
		if (parse_duration(arg, p->min, p->max, dst) != 0) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want a duration from %g s "
				   "to %g s (90, 15m, 1h)",
				   nm, arg, p->min, p->max);
			return -1;
		}
		return 0;
	case OPTK_OTHER:
		break;
	}
	abort(); /* apply() has the others */
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

	if (probe_option_by_code(a->code)->kind != OPTK_OTHER)
		return apply_kind(probe_option_by_code(a->code), o, a, err,
				  errlen);
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
		/* The engine lifts a default budget the process alone is
		 * over, never one the volunteer chose. */
		o->cfg.max_memory_default = a->is_default;
		if (memacct_parse_size(arg, &o->cfg.max_memory) != 0) {
			ww_set_err(err, errlen,
				   "bad %s \"%s\": want bytes, a number "
				   "with K, M or G, or 0 or none (no budget)",
				   nm, arg);
			return -1;
		}
		break;
	case OPT_JSON:
		b->json = true;
		break;
	default:
		ww_set_err(err, errlen, "%s is not allowed here", nm);
		return -1;
	}
	return 0;
}

/* The configuration file's entries as options (cli_has: repeatable codes
 * the command line gives, whose file values are dropped). */
static int
conf_args(struct bundle *b, const bool *cli_has, struct opt_arg *out, size_t *n,
	  char **wheres)
{
	for (size_t i = 0; i < b->conf.n; i++) {
		const struct ww_conf_entry *e = &b->conf.e[i];
		const struct probe_option *p = probe_option_by_name(e->key);

		wheres[i] = xasprintf("%s:%d", b->conf.path, e->line);
		if (p == NULL || (p->flags & OPTF_CLI)) {
			fprintf(stderr,
				"wallwatch-probe: %s: unknown key \"%s\"\n",
				wheres[i], e->key);
			return -1;
		}
		if ((p->flags & OPTF_REPEAT) && cli_has[p->code - OPT_LIST])
			continue;
		out[*n].code = (int)p->code;
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
 * The table's defaults (options.h), parsed like any value: what --help,
 * the man page and probe.conf say is what applies.
 */
static int
apply_defaults(struct bundle *b)
{
	bool daemon = strcmp(b->cmd, "daemon") == 0;
	char err[600];

	for (size_t i = 0; i < probe_n_options; i++) {
		const struct probe_option *p = &probe_options[i];
		struct opt_arg a = {(int)p->code, p->def, "default", p->name,
				    true};

		if (!daemon && p->def_not_daemon != NULL)
			a.arg = p->def_not_daemon;
		if (a.arg == NULL)
			continue;
		if (apply(b, &a, err, sizeof(err)) != 0) {
			fprintf(stderr, "wallwatch-probe: default of %s: %s\n",
				p->name, err);
			return -1;
		}
	}
	return 0;
}

/*
 * Parse the command line (argv[0] is the command) and the configuration
 * file into a bundle. NULL after a message; *rc is then the exit code
 * (0 for --help/--version).
 */
struct bundle *
bundle_load(const char *cmd, int argc, char **argv, int *rc)
{
	struct bundle *b = xcalloc(1, sizeof(*b));
	struct probe_opts *o = &b->o;
	struct opt_arg *cli = xcalloc((size_t)argc + 1, sizeof(*cli));
	struct opt_arg *all = NULL;
	char **wheres = NULL;
	bool cli_has[OPT_END - OPT_LIST] = {false};
	const char *cfg_cli = NULL, *cfg;
	size_t n_cli = 0, n_all = 0, slots;
	bool required;
	char err[600];
	int c;

	*rc = EXIT_USAGE;
	b->cmd = cmd;
	o->shuffle = strcmp(cmd, "daemon") == 0;
	o->progress = strcmp(cmd, "run") == 0;
	if (apply_defaults(b) != 0)
		goto fail;
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "", probe_long_options(), NULL)) !=
	       -1) {
		if (c == OPT_HELP) {
			probe_usage(stdout);
			*rc = EXIT_MEASURED;
			goto fail;
		}
		if (c == OPT_VERSION) {
			printf("wallwatch-probe %s\n", WW_VERSION);
			*rc = EXIT_MEASURED;
			goto fail;
		}
		if (c < OPT_LIST || c >= OPT_END) {
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
			 probe_option_by_code(cli[i].code)->name);
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
