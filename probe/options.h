/*
 * options.h - the probe's options, one table: each option's name (the
 * long option, and the configuration file's key), its argument, its
 * default, its --help text and whether the configuration file may set it.
 * getopt_long's table, --help and the configuration keys are all made
 * from it; the defaults are applied from it too (cmdline.c parses them as
 * if given), so the default --help shows is the one in force.
 * tests/unit/test_options.c checks that the man page
 * (docs/man/wallwatch-probe.1) and dist/probe.conf list every option with
 * its default.
 */
#ifndef WW_PROBE_OPTIONS_H
#define WW_PROBE_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

struct option;

/* getopt_long's values: above any character. */
enum probe_opt_code {
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
	OPT_OPENVPN_KEY,
	OPT_WIREGUARD_KEY,
	OPT_QUIC,
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
	OPT_END /* one past the last */
};

/*
 * How apply() (cmdline.c) treats a value: OPTK_OTHER has its own code
 * there; the others are checked against min..max and stored at off in
 * struct probe_opts (OPT_FIELD checks the field's type).
 */
enum probe_opt_kind {
	OPTK_OTHER = 0,
	OPTK_FLAG,     /* bool; the file says true/false/yes/no/1/0 */
	OPTK_STRING,   /* const char *, as given */
	OPTK_INT,      /* int, a whole number from min to max */
	OPTK_SECONDS,  /* double, seconds from min to max */
	OPTK_DURATION, /* double, a DURATION (90, 15m, 1h) from min to max s */
};

/* The offset of member in struct probe_opts, a compile error unless the
 * member has type t. */
#define OPT_FIELD(t, member)                                                   \
	(0 * sizeof(_Generic(((struct probe_opts *)0)->member, t : 1)) +       \
	 offsetof(struct probe_opts, member))

/* Given more than once, the values add up; on the command line they
 * replace the configuration file's values instead of adding to them. */
#define OPTF_REPEAT 0x1u
/* The command line only: not a key of the configuration file. */
#define OPTF_CLI 0x2u

struct probe_option {
	const char *name; /* "max-body": --max-body, and the key max-body */
	enum probe_opt_code code;
	const char *arg; /* its argument in --help ("SIZE"); NULL: a flag */
	/* The default, spelled as a value of the option ("8M", "1h";
	 * "false" for a flag): applied before the configuration file and
	 * the command line, and what the man page and probe.conf must show.
	 * NULL: no fixed default (learned, computed or none). */
	const char *def;
	/* The default of every command but daemon, when it differs. */
	const char *def_not_daemon;
	/* --help's "(default ...)" when def alone does not say it (or there
	 * is no def); NULL: def, if any. */
	const char *shown;
	const char *help; /* --help's text, wrapped there */
	/* Starts a group of --help: its heading (may be several lines). */
	const char *heading;
	/* A line --help prints after the option (indented). */
	const char *note;
	unsigned flags; /* OPTF_* */
	enum probe_opt_kind kind;
	size_t off; /* OPT_FIELD() */
	double min, max;
};

/* The table, in --help's order, and its length. */
extern const struct probe_option probe_options[];
extern const size_t probe_n_options;

/* The option named name (without "--"), or NULL. */
const struct probe_option *probe_option_by_name(const char *name);
/* The option whose getopt value is code, or NULL. */
const struct probe_option *probe_option_by_code(int code);

/* getopt_long's table, made from probe_options once (static storage,
 * ended by a zero entry). */
const struct option *probe_long_options(void);

/* The --help text. */
void probe_usage(FILE *f);

#endif
