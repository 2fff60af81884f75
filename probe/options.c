/*
 * options.c - the probe's option table, and what is made from it:
 * getopt_long's table and --help (see options.h). What each option does
 * with its value is cmdline.c's apply().
 */
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "engine.h"
#include "options.h"
#include "probe.h"
#include "util.h"

/* clang-format off */
const struct probe_option probe_options[] = {
	/* --- targets --- */
	{.name = "list", .code = OPT_LIST, .arg = "FILE",
	 .heading = "Targets",
	 .help = "Citizen Lab CSV test list (repeatable)",
	 .flags = OPTF_REPEAT},
	{.name = "input", .code = OPT_INPUT, .arg = "URL",
	 .help = "one target: http(s)://..., tcp://host:port, "
		 "tls://host:port, openvpn://, ikev2://, wireguard://, "
		 "quic:// (repeatable)",
	 .flags = OPTF_REPEAT},
	{.name = "category", .code = OPT_CATEGORY, .arg = "CODES",
	 .help = "only list rows with these categories (A,B)",
	 .shown = "all"},
	{.name = "exclude-category", .code = OPT_EXCLUDE, .arg = "CODES",
	 .help = "never list rows with these categories, and never upload "
		 "measurements of them",
	 .note = "(with neither --list nor --input: the bundled default "
		 "lists)"},
	/* --- measurement --- */
	{.name = "resolver", .code = OPT_RESOLVER, .arg = "IP[:PORT]",
	 .heading = "Measurement",
	 .help = "DNS resolver", .shown = "/etc/resolv.conf"},
	{.name = "ca-file", .code = OPT_CA_FILE, .arg = "PATH",
	 .help = "trusted CAs: PEM file or hashed directory",
	 .shown = "the system store"},
	/* Already normalised (lower case, no final dot): apply() normalises
	 * the value in place. */
	{.name = "control-sni", .code = OPT_CONTROL_SNI, .arg = "NAME",
	 .def = WW_DEFAULT_CONTROL_SNI,
	 .help = "neutral SNI for the control handshake"},
	{.name = "concurrency", .code = OPT_CONCURRENCY, .arg = "N",
	 .def = "32", .help = "targets in flight at once",
	 .kind = OPTK_INT, .off = OPT_FIELD(int, concurrency),
	 .min = 1, .max = 4096},
	{.name = "timeout", .code = OPT_TIMEOUT, .arg = "SECONDS",
	 .def = "10", .help = "timeout of each step",
	 .kind = OPTK_SECONDS, .off = OPT_FIELD(double, cfg.timeout),
	 .min = 0.1, .max = 300},
	{.name = "max-addrs", .code = OPT_MAX_ADDRS, .arg = "N",
	 .def = "4", .help = "addresses measured per target",
	 .kind = OPTK_INT, .off = OPT_FIELD(int, cfg.max_addrs),
	 .min = 1, .max = 64},
	{.name = "max-body", .code = OPT_MAX_BODY, .arg = "SIZE",
	 .def = "8M",
	 .help = "bytes downloaded per HTTP response, from 1K to 64M"},
	{.name = "max-bytes", .code = OPT_MAX_BYTES, .arg = "SIZE",
	 .def = "0",
	 .help = "traffic per run, 0 for no cap; the rest waits for the "
		 "next run"},
	{.name = "capture", .code = OPT_CAPTURE, .arg = "auto|on|off",
	 .def = "auto",
	 .help = "packet capture of the probe's own flows, for proof of "
		 "injection (needs root or CAP_NET_RAW; auto: on when "
		 "allowed, else said once; on: refuse to run without)"},
	{.name = "pcap", .code = OPT_PCAP, .arg = "FILE",
	 .help = "also write those packets to FILE (pcapng, your addresses "
		 "replaced by placeholders)",
	 .kind = OPTK_STRING, .off = OPT_FIELD(const char *, cfg.pcap_file)},
	{.name = "openvpn-key", .code = OPT_OPENVPN_KEY, .arg = "FILE",
	 .help = "OpenVPN static key (tls-auth or tls-crypt) for openvpn:// "
		 "targets with wrap= and no key=",
	 .kind = OPTK_STRING, .off = OPT_FIELD(const char *, cfg.openvpn_key)},
	{.name = "wireguard-key", .code = OPT_WIREGUARD_KEY, .arg = "FILE",
	 .help = "our WireGuard private key (a registered test peer's) for "
		 "wireguard:// targets with no key=",
	 .kind = OPTK_STRING,
	 .off = OPT_FIELD(const char *, cfg.wireguard_key)},
	{.name = "quic", .code = OPT_QUIC, .def = "false",
	 .help = "https targets get a QUIC step too: the exchanges of a "
		 "quic:// target of the URL's host, UDP on the URL's port, "
		 "at the first address of each family (test_keys.analysis."
		 "quic; the web verdict is not changed by it)",
	 .kind = OPTK_FLAG, .off = OPT_FIELD(bool, cfg.quic_step)},
	{.name = "dns-late-window", .code = OPT_DNS_LATE_WINDOW,
	 .arg = "SECONDS", .def = "1",
	 .help = "keep listening for DNS answers this long after the first "
		 "(0: not at all)"},
	{.name = "max-memory", .code = OPT_MAX_MEMORY, .arg = "SIZE",
	 .def = "24M",
	 .help = "memory budget: new targets, TLS handshakes and HTTP "
		 "transfers wait while the process would pass it (0 or "
		 "none: no budget)"},
	{.name = "cooldown", .code = OPT_COOLDOWN, .arg = "DURATION",
	 .def = "180", .def_not_daemon = "0",
	 .shown = "180 for daemon, 0 for run",
	 .help = "least time between two tests of one address:port",
	 .kind = OPTK_DURATION, .off = OPT_FIELD(double, cooldown),
	 .min = 0, .max = 7 * 86400},
	/* --- verdicts --- */
	{.name = "control", .code = OPT_CONTROL, .arg = "URL",
	 .heading = "Verdicts (docs/verdicts.md)",
	 .help = "control service to compare with, e.g. "
		 "https://control.example.net:8080 (repeatable: the first "
		 "that answers is used). Without one, verdicts are null: "
		 "never \"accessible\"",
	 .flags = OPTF_REPEAT},
	{.name = "reference", .code = OPT_REFERENCE, .arg = "URL",
	 .help = "a domestic site that should always work (repeatable); "
		 "measured first: if every step of it fails, the network "
		 "is down and verdicts are null rather than \"blocked\"",
	 .flags = OPTF_REPEAT},
	{.name = "fingerprints", .code = OPT_FINGERPRINTS, .arg = "DIR",
	 .help = "known blockpages and forged DNS answers",
	 .shown = "the bundled testlists/fingerprints"},
	{.name = "control-timeout", .code = OPT_CONTROL_TIMEOUT, .arg = "S",
	 .help = "seconds to wait for one control",
	 .shown = "4 x --timeout + 5",
	 .kind = OPTK_SECONDS,
	 .off = OPT_FIELD(double, cfg.control_timeout), .min = 0.1, .max = 300},
	/* --- identity --- */
	{.name = "probe-cc", .code = OPT_CC, .arg = "CC",
	 .heading = "Identity (default: what the collector's /api/v1/whoami "
		    "says, else\nZZ and AS0)",
	 .help = "country code to record"},
	{.name = "probe-asn", .code = OPT_ASN, .arg = "ASN",
	 .help = "network to record, e.g. AS4134"},
	/* --- submission and state --- */
	{.name = "collector", .code = OPT_COLLECTOR, .arg = "URL",
	 .heading = "Submission and state",
	 .help = "collector to upload to (repeatable, tried in order), e.g. "
		 "https://collector.example.org",
	 .flags = OPTF_REPEAT},
	{.name = "state-dir", .code = OPT_STATE_DIR, .arg = "DIR",
	 .help = "spool, state, consent and the submitter key "
		 "(docs/volunteer.md)",
	 .shown = "$STATE_DIRECTORY, else the data directory"},
	{.name = "spool-max", .code = OPT_SPOOL_MAX, .arg = "MIB",
	 .def = "256",
	 .help = "spool size cap; past it the oldest bodies are dropped"},
	{.name = "retry-quick", .code = OPT_RETRY_QUICK, .arg = "DURATION",
	 .def = "5s",
	 .help = "first retry after a failed upload; 3 quick retries, "
		 "doubling",
	 .kind = OPTK_DURATION, .off = OPT_FIELD(double, retry_quick),
	 .min = 0.1, .max = 7 * 86400},
	{.name = "retry-slow", .code = OPT_RETRY_SLOW, .arg = "DURATION",
	 .def = "15m", .help = "then this, doubling up to 6h",
	 .kind = OPTK_DURATION, .off = OPT_FIELD(double, retry_slow),
	 .min = 0.1, .max = 7 * 86400},
	{.name = "upload-timeout", .code = OPT_UPLOAD_TIMEOUT,
	 .arg = "DURATION", .def = "60s",
	 .help = "give a silent collector up",
	 .kind = OPTK_DURATION,
	 .off = OPT_FIELD(double, upload_timeout), .min = 0.1, .max = 3600},
	{.name = "interval", .code = OPT_INTERVAL, .arg = "DURATION",
	 .def = "1h", .help = "daemon: time between runs",
	 .kind = OPTK_DURATION, .off = OPT_FIELD(double, interval),
	 .min = 0.1, .max = 7 * 86400},
	{.name = "config", .code = OPT_CONFIG, .arg = "FILE",
	 .help = "configuration file",
	 .shown = "/etc/wallwatch/probe.conf, if it exists",
	 .flags = OPTF_CLI},
	{.name = "yes", .code = OPT_YES, .def = "false",
	 .help = "consent to the test lists' categories (unattended "
		 "installs); remembered",
	 .kind = OPTK_FLAG, .off = OPT_FIELD(bool, yes)},
	/* --- output --- */
	{.name = "output", .code = OPT_OUTPUT, .arg = "FILE|-",
	 .heading = "Output",
	 .help = "JSON Lines file, - for stdout (run: default a dated file "
		 "in the data directory, or only the spool with a "
		 "collector; export: required)",
	 .kind = OPTK_STRING, .off = OPT_FIELD(const char *, output)},
	{.name = "json", .code = OPT_JSON,
	 .help = "status: machine-readable", .flags = OPTF_CLI},
	{.name = "quiet", .code = OPT_QUIET, .def = "false",
	 .help = "no progress line, summary or notices",
	 .kind = OPTK_FLAG, .off = OPT_FIELD(bool, quiet)},
	{.name = "verbose", .code = OPT_VERBOSE, .def = "false",
	 .help = "end a run with a line on memory (peak RSS, the budget, "
		 "handshakes that waited)",
	 .kind = OPTK_FLAG, .off = OPT_FIELD(bool, verbose)},
	{.name = "help", .code = OPT_HELP, .help = "this text",
	 .flags = OPTF_CLI},
	{.name = "version", .code = OPT_VERSION,
	 .help = "the probe's version", .flags = OPTF_CLI},
};
/* clang-format on */

const size_t probe_n_options = WW_ARRAY_LEN(probe_options);

const struct probe_option *
probe_option_by_name(const char *name)
{
	for (size_t i = 0; i < probe_n_options; i++)
		if (strcmp(probe_options[i].name, name) == 0)
			return &probe_options[i];
	return NULL;
}

const struct probe_option *
probe_option_by_code(int code)
{
	for (size_t i = 0; i < probe_n_options; i++)
		if ((int)probe_options[i].code == code)
			return &probe_options[i];
	return NULL;
}

const struct option *
probe_long_options(void)
{
	static struct option lo[WW_ARRAY_LEN(probe_options) + 1];

	if (lo[0].name == NULL)
		for (size_t i = 0; i < probe_n_options; i++) {
			const struct probe_option *p = &probe_options[i];

			lo[i].name = p->name;
			lo[i].has_arg =
				p->arg ? required_argument : no_argument;
			lo[i].flag = NULL;
			lo[i].val = (int)p->code;
		}
	return lo;
}

static const char usage_head[] =
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
	"Every option is also a key of the configuration file, without \"--\"\n"
	"(but --config, --json, --help and --version).\n";

static const char usage_tail[] =
	"\n"
	"DURATION: seconds, or with s, m, h or d (90, 15m, 1h). SIZE: bytes,\n"
	"or with K, M or G (1024-based).\n"
	"\n"
	"Exit status: 0 every target measured (whatever it found; or the rest\n"
	"left for the next run by --max-bytes) / spool sent, 1 usage error,\n"
	"2 the run could not happen or was interrupted / measurements still\n"
	"queued.\n";

/* --help's columns: the option, then its text from HELP_COL on, lines
 * up to HELP_WIDTH. */
#define HELP_COL 25
#define HELP_WIDTH 77

/* Print text after column col (the cursor is there), a space before each
 * word, wrapped at spaces; continuation lines start at HELP_COL. */
static void
wrap(FILE *f, const char *text, int col)
{
	const char *p = text;

	while (*p != '\0') {
		size_t word = strcspn(p, " ");

		if (col >= HELP_COL && col + 1 + (int)word > HELP_WIDTH) {
			fprintf(f, "\n%*s", HELP_COL - 1, "");
			col = HELP_COL - 1;
		}
		fputc(' ', f);
		fwrite(p, 1, word, f);
		col += 1 + (int)word;
		p += word;
		p += strspn(p, " ");
	}
	fputc('\n', f);
}

static void
usage_option(FILE *f, const struct probe_option *p)
{
	/* A flag's default (false) goes without saying. */
	const char *def = p->arg ? p->def : NULL;
	char text[512];
	int col;

	if (p->heading != NULL)
		fprintf(f, "\n%s:\n", p->heading);
	col = fprintf(f, "  --%s%s%s", p->name, p->arg ? " " : "",
		      p->arg ? p->arg : "");
	/* The text from HELP_COL on, or after one more space. */
	if (col < HELP_COL - 1) {
		fprintf(f, "%*s", HELP_COL - 1 - col, "");
		col = HELP_COL - 1;
	} else {
		fputc(' ', f);
		col++;
	}
	if (p->shown != NULL)
		snprintf(text, sizeof(text), "%s (default: %s)", p->help,
			 p->shown);
	else if (def != NULL)
		snprintf(text, sizeof(text), "%s (default %s)", p->help, def);
	else
		snprintf(text, sizeof(text), "%s", p->help);
	wrap(f, text, col);
	if (p->note != NULL)
		fprintf(f, "  %s\n", p->note);
}

void
probe_usage(FILE *f)
{
	fputs(usage_head, f);
	for (size_t i = 0; i < probe_n_options; i++)
		usage_option(f, &probe_options[i]);
	fputs(usage_tail, f);
}
