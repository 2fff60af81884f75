/*
 * main.c - wallwatch-collector's command line: the service (ingest into
 * SQLite or PostgreSQL, and the control API), the control API alone
 * (--control-only, for controls deployed in several regions), the reads
 * of a database others write (--read-only, e.g. on a streaming replica),
 * and the dispatch of the commands (`reanalyze`, `import`, `export`...).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/thread.h>

#include "alerts.h"
#include "analysis.h"
#include "api_query.h"
#include "asndb.h"
#include "collector.h"
#include "control.h"
#include "copystore.h"
#include "dbredact.h"
#include "drain.h"
#include "edge.h"
#include "export_cmd.h"
#include "fingerprint.h"
#include "httpserver.h"
#include "import_cmd.h"
#include "ingest_prep.h"
#include "keys.h"
#include "pktview.h"
#include "ratelimit.h"
#include "reanalyze_cmd.h"
#include "router.h"
#include "store.h"
#include "submitters.h"
#include "util.h"
#include "verdict_json.h"

static const char usage_text[] =
	"usage: wallwatch-collector --listen IP:PORT --db PATH [options]\n"
	"       wallwatch-collector --control-only --listen IP:PORT [options]\n"
	"       wallwatch-collector --read-only --listen IP:PORT --db PATH "
	"[options]\n"
	"       wallwatch-collector reanalyze --db PATH [--fingerprints DIR]\n"
	"       wallwatch-collector export --db PATH [--since T] [--until T]\n"
	"                           [--input URL] [--cc CC] [--asn ASN]\n"
	"                           [--category CODE] [--state STATE]\n"
	"                           [--source ooni|wallwatch|all]\n"
	"                           [--format jsonl|csv] [--output F]\n"
	"       wallwatch-collector keys list|add|revoke --db PATH ...\n"
	"       wallwatch-collector copy-store --from SQLITE_PATH --to "
	"CONNINFO\n"
	"       wallwatch-collector import --db PATH [--fingerprints DIR]\n"
	"                           [--batch N] [--max-line BYTES]\n"
	"                           [--threads N] FILE...\n"
	"       wallwatch-collector --help | --version\n"
	"\n"
	"Take measurements from probes (POST /api/v1/measurements: one JSON\n"
	"measurement or JSON Lines, gzip allowed), store them in SQLite or\n"
	"PostgreSQL, and serve the control API (docs/control-protocol.md):\n"
	"POST /api/v1/control (ours), POST /api/v1/oonith and / (OONI's\n"
	"test-helper protocol).\n"
	"GET /healthz; GET /api/v1/whoami (the caller's address and network,\n"
	"in both modes). `reanalyze` re-runs the verdict analysis over every\n"
	"stored measurement with the current rules and fingerprints;\n"
	"`import` stores JSON Lines files (plain, .gz, .zst: OONI's archive\n"
	"or our probe's output) as the ingest would (`import --help`).\n"
	"\n"
	"  --db PATH              SQLite database, created and migrated on start;\n"
	"                         or postgresql://... (any libpq connection\n"
	"                         string; postgresql:KEY=VALUE... for libpq's\n"
	"                         keywords): PostgreSQL, which several\n"
	"                         collectors may share\n"
	"  --asn-db FILE          IP-to-ASN table (iptoasn.com TSV) to record the\n"
	"                         submitter's network and country (never its\n"
	"                         address) and name networks (AS descriptions);\n"
	"                         with --control-only, only for\n"
	"                         GET /api/v1/whoami\n"
	"  --fingerprints DIR     blockpage and forged-DNS fingerprints for the\n"
	"                         analysis (default: the bundled set)\n"
	"  --control-only         run only the control API (no --db)\n"
	"  --read-only            serve the web view, the read API and the\n"
	"                         exports of --db without writing to it (a\n"
	"                         PostgreSQL hot standby, or a SQLite file\n"
	"                         another collector writes): nothing created,\n"
	"                         migrated or recomputed, the schema must be\n"
	"                         this version's; ingest, control and key\n"
	"                         registration answer 503 (and the control\n"
	"                         service's options are refused)\n"
	"  --listen IP:PORT       address to serve on ([IPv6]:PORT for IPv6;\n"
	"                         port 0: a free one, named in the log)\n"
	"  --resolver IP[:PORT]   DNS resolver (default: /etc/resolv.conf)\n"
	"  --ca-file FILE         trusted CAs, PEM (default: system store)\n"
	"  --allow-private        measure private and reserved addresses too\n"
	"                         (labs only: otherwise refused, so that the\n"
	"                         service is no door into its own network)\n"
	"  --openvpn-key FILE     OpenVPN static key (tls-auth, tls-crypt) for\n"
	"                         the controls of openvpn:// targets with wrap=\n"
	"  --wireguard-key FILE   WireGuard private key registered with the\n"
	"                         wireguard:// targets (not the probes' own)\n"
	"  --timeout SECONDS      timeout of each step (default 10)\n"
	"  --max-addrs N          own addresses measured per target (default 4)\n"
	"  --max-inflight N       controls measured at once (default 256)\n"
	"  --max-connections N    client connections open at once; beyond it\n"
	"                         new ones wait in the kernel's backlog\n"
	"                         (default 1024; lowered, with a notice, to\n"
	"                         the open-file limit less a reserve)\n"
	"  --max-per-source N     connections one address (IPv6: one /64) may\n"
	"                         hold; more are closed at once (default 64)\n"
	"  --header-timeout SECONDS  time to send a request's line and\n"
	"                         headers, from accept or from the previous\n"
	"                         answer (default 10); 408 and closed after\n"
	"  --min-body-rate BYTES  bytes per second a request body must average\n"
	"                         once it has taken --header-timeout (default\n"
	"                         1024; 0: no minimum)\n"
	"  --ingest-threads N     threads that parse, check and compress\n"
	"                         submissions (default: one per CPU, 1 to 64)\n"
	"  --ingest-queue MIB     submissions held while they are checked and\n"
	"                         stored, in MiB received; past it POSTs get\n"
	"                         503 and Retry-After (default 256)\n"
	"  --submission MODE      open (default): signed batches count under\n"
	"                         their key, unsigned ones as one anonymous\n"
	"                         submitter per network and hour; signed: only\n"
	"                         batches signed by a registered key; registered:\n"
	"                         as signed, keys added only with `keys add`\n"
	"                         (docs/submitters.md)\n"
	"  --rate-batches N[/S]   batches per submitter per S seconds (default\n"
	"                         60/60; 0: no limit); beyond, 429 Retry-After\n"
	"  --rate-target N[/S]    measurements per submitter per target per S\n"
	"                         seconds (default 60/3600); the rest of a batch\n"
	"                         is stored, the excess deferred with 429\n"
	"  --rate-network-batches N[/S]  the same per observed network, for\n"
	"                         unsigned batches and registrations (needs\n"
	"                         --asn-db; default 600/60)\n"
	"  --rate-network-target N[/S]   the same per observed network and\n"
	"                         target, for unsigned batches (default\n"
	"                         600/3600)\n"
	"  --verbose              log each control\n"
	"\n"
	"Agreement (docs/timelines.md), kept in the database once given (a\n"
	"change recomputes every timeline; `reanalyze` uses them too):\n"
	"  --min-submitters N     distinct submitters whose measurements a\n"
	"                         change into or out of blocked or disrupted\n"
	"                         needs, 1 to 3 (default 2; 1: a single-probe\n"
	"                         deployment)\n"
	"  --single-submitter-hours H  or one submitter, uncontradicted, over\n"
	"                         H hours (default 6; 0: never)\n"
	"  --daily-cap N          measurements of one submitter counted per\n"
	"                         target and day (default 48; 0: no cap)\n"
	"  --allow-geo-mismatch yes|no  let measurements whose claimed network\n"
	"                         is not the observed one move states\n"
	"                         (default no)\n"
	"\n"
	"Alerts (docs/alerts.md): GET /feed.atom, /api/v1/alerts, /alerts;\n"
	"one alert per network, direction and window, never one per\n"
	"measurement:\n"
	"  --alert-window SECONDS  event time grouped into one alert, dividing\n"
	"                         a day (default 3600)\n"
	"  --alert-settle SECONDS  wait after a window ends before sending its\n"
	"                         alerts, for late measurements (default 300)\n"
	"  --webhook URL          POST each alert as signed JSON to URL\n"
	"                         (repeatable, at most 16)\n"
	"  --webhook-secret FILE  the HMAC-SHA256 key (16 to 4096 bytes);\n"
	"                         required with --webhook\n"
	"  --webhook-backoff SECONDS  first retry after a failed POST,\n"
	"                         doubling up to an hour (default 10)\n"
	"  --webhook-retries N    retries before giving up (default 8)\n"
	"\n"
	"Exit status: 0 after SIGTERM/SIGINT, 1 usage error, 2 could not "
	"start.\n";

enum {
	OPT_CONTROL_ONLY = 256,
	OPT_LISTEN,
	OPT_RESOLVER,
	OPT_CA_FILE,
	OPT_ALLOW_PRIVATE,
	OPT_OPENVPN_KEY,
	OPT_WIREGUARD_KEY,
	OPT_TIMEOUT,
	OPT_MAX_ADDRS,
	OPT_MAX_INFLIGHT,
	OPT_MAX_CONNS,
	OPT_MAX_PER_SOURCE,
	OPT_HEADER_TIMEOUT,
	OPT_MIN_BODY_RATE,
	OPT_INGEST_THREADS,
	OPT_INGEST_QUEUE,
	OPT_VERBOSE,
	OPT_SUBMISSION,
	OPT_RATE_BATCHES,
	OPT_RATE_TARGET,
	OPT_RATE_NET_BATCHES,
	OPT_RATE_NET_TARGET,
	OPT_DB,
	OPT_ASN_DB,
	OPT_FINGERPRINTS,
	OPT_HELP,
	OPT_VERSION,
	OPT_MIN_SUBMITTERS,
	OPT_SINGLE_HOURS,
	OPT_DAILY_CAP,
	OPT_ALLOW_GEO,
	OPT_READ_ONLY,
	OPT_ALERTS, /* every alerts option: alerts_opt() by its name */
};

static const struct option long_opts[] = {
	{"control-only", no_argument, NULL, OPT_CONTROL_ONLY},
	{"read-only", no_argument, NULL, OPT_READ_ONLY},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"resolver", required_argument, NULL, OPT_RESOLVER},
	{"ca-file", required_argument, NULL, OPT_CA_FILE},
	{"allow-private", no_argument, NULL, OPT_ALLOW_PRIVATE},
	{"openvpn-key", required_argument, NULL, OPT_OPENVPN_KEY},
	{"wireguard-key", required_argument, NULL, OPT_WIREGUARD_KEY},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"max-addrs", required_argument, NULL, OPT_MAX_ADDRS},
	{"max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT},
	{"max-connections", required_argument, NULL, OPT_MAX_CONNS},
	{"max-per-source", required_argument, NULL, OPT_MAX_PER_SOURCE},
	{"header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT},
	{"min-body-rate", required_argument, NULL, OPT_MIN_BODY_RATE},
	{"ingest-threads", required_argument, NULL, OPT_INGEST_THREADS},
	{"ingest-queue", required_argument, NULL, OPT_INGEST_QUEUE},
	{"verbose", no_argument, NULL, OPT_VERBOSE},
	{"submission", required_argument, NULL, OPT_SUBMISSION},
	{"rate-batches", required_argument, NULL, OPT_RATE_BATCHES},
	{"rate-target", required_argument, NULL, OPT_RATE_TARGET},
	{"rate-network-batches", required_argument, NULL, OPT_RATE_NET_BATCHES},
	{"rate-network-target", required_argument, NULL, OPT_RATE_NET_TARGET},
	{"db", required_argument, NULL, OPT_DB},
	{"asn-db", required_argument, NULL, OPT_ASN_DB},
	{"fingerprints", required_argument, NULL, OPT_FINGERPRINTS},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{"min-submitters", required_argument, NULL, OPT_MIN_SUBMITTERS},
	{"single-submitter-hours", required_argument, NULL, OPT_SINGLE_HOURS},
	{"daily-cap", required_argument, NULL, OPT_DAILY_CAP},
	{"allow-geo-mismatch", required_argument, NULL, OPT_ALLOW_GEO},
	{"alert-window", required_argument, NULL, OPT_ALERTS},
	{"alert-settle", required_argument, NULL, OPT_ALERTS},
	{"webhook", required_argument, NULL, OPT_ALERTS},
	{"webhook-secret", required_argument, NULL, OPT_ALERTS},
	{"webhook-backoff", required_argument, NULL, OPT_ALERTS},
	{"webhook-retries", required_argument, NULL, OPT_ALERTS},
	{NULL, 0, NULL, 0},
};

/* Ingest bodies: a 1,000-measurement batch, compressed or not. */
#define INGEST_MAX_BODY (32u * 1024 * 1024)

struct svc_opts {
	const char *listen;
	bool control_only;
	bool read_only;
	const char *db;
	const char *asn_db;
	const char *fingerprints;
	int ingest_threads; /* 0: one per CPU */
	long ingest_queue;  /* MiB */
	bool ingest_opts;   /* either was given */
	bool control_opts;  /* an option of the control service was given */
	enum sub_mode submission;
	struct rate_opts rate;
	/* the agreement options given, -1 where not (store_agreement's) */
	int agree[4];
	struct alerts_opts alerts;
};

struct run {
	struct event_base *base;
	struct http_server *srv;
	struct ctl_service *ctl;
	struct drain drain; /* what the server owes, for a clean stop */
	struct router router;
	struct service svc; /* what the routes reach */
	int signals;
	struct store *st;  /* the loop's: the read API */
	struct store *wst; /* the ingest writer's */
	struct ww_asndb *asn;
	struct ww_fingerprints *fp;
	struct ingest *in;
	struct api *api;
	struct store *kst; /* the loop's, for the key registry */
	struct rate_limiter *rl;
	struct sub_registry *reg;
	struct alerts *alerts; /* on st: the feed, webhooks */
};

/* One agreement option into o->agree; -1 after a usage error. */
static int
agree_opt(struct svc_opts *o, int c, const char *arg)
{
	long v;

	switch (c) {
	case OPT_MIN_SUBMITTERS:
		if (ww_opt_long("min-submitters", arg, 1,
				STORE_MAX_MIN_SUBMITTERS, &v) != 0)
			return -1;
		o->agree[0] = (int)v;
		return 0;
	case OPT_SINGLE_HOURS:
		if (ww_opt_long("single-submitter-hours", arg, 0,
				STORE_MAX_SINGLE_HOURS, &v) != 0)
			return -1;
		o->agree[1] = (int)v;
		return 0;
	case OPT_DAILY_CAP:
		if (ww_opt_long("daily-cap", arg, 0, STORE_MAX_DAILY_CAP, &v) !=
		    0)
			return -1;
		o->agree[2] = (int)v;
		return 0;
	default:
		if (strcmp(arg, "yes") != 0 && strcmp(arg, "no") != 0) {
			ww_usage_error("bad --allow-geo-mismatch \"%s\": want "
				       "yes or no",
				       arg);
			return -1;
		}
		o->agree[3] = strcmp(arg, "yes") == 0;
		return 0;
	}
}

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
	log_info("collector",
		 "signal %d: finishing controls and submissions in flight",
		 (int)sig);
	http_server_drain(r->srv, drained, r);
}

/* The ASN table, when given (both modes: whoami); -1 after logging. */
static int
open_asn(struct run *r, const struct svc_opts *o)
{
	char err[512];

	if (o->asn_db == NULL)
		return 0;
	r->asn = ww_asndb_load(o->asn_db, err, sizeof(err));
	if (r->asn == NULL) {
		log_error("collector", "%s", err);
		return -1;
	}
	return 0;
}

/* Submitter keys and rate limits (docs/submitters.md); -1 after logging. */
static int
open_identity(struct run *r, const struct svc_opts *o)
{
	char err[512];

	r->kst = store_open(o->db, err, sizeof(err));
	if (r->kst == NULL ||
	    store_submitters_guard(r->wst, err, sizeof(err)) != 0) {
		log_error("collector", "%s", err);
		return -1;
	}
	r->rl = rate_new(&o->rate);
	r->reg = sub_registry_new(r->kst, o->submission, r->asn, r->rl, err,
				  sizeof(err));
	if (r->reg == NULL) {
		log_error("collector", "%s", err);
		return -1;
	}
	ingest_set_identity(r->in, r->reg, r->rl);
	return 0;
}

/* The agreement options given become the database's settings (a change
 * recomputes every timeline); the ones in use are logged. */
static int
set_agreement(struct store *st, const struct svc_opts *o)
{
	struct store_agreement a;
	char err[512];
	int rc;

	store_agreement_get(st, &a);
	if (o->agree[0] >= 0)
		a.min_submitters = o->agree[0];
	if (o->agree[1] >= 0)
		a.single_submitter_hours = o->agree[1];
	if (o->agree[2] >= 0)
		a.daily_cap = o->agree[2];
	if (o->agree[3] >= 0)
		a.allow_geo_mismatch = o->agree[3] == 1;
	rc = store_agreement_set(st, &a, err, sizeof(err));
	if (rc < 0) {
		log_error("collector", "%s", err);
		return -1;
	}
	log_info("collector",
		 "agreement%s: a state changes when %d independent submitters "
		 "agree, or one over %d hours, and as many keyed submitters do "
		 "not say otherwise; %d a day counted per submitter "
		 "and target; geo-mismatched measurements %s",
		 rc == 1 ? " (changed: every timeline recomputed)" : "",
		 a.min_submitters, a.single_submitter_hours, a.daily_cap,
		 a.allow_geo_mismatch ? "allowed" : "left out");
	return 0;
}

/* The database and the fingerprints; -1 after logging. */
static int
open_ingest(struct run *r, const struct svc_opts *o,
	    struct http_server_opts *so)
{
	char err[512];
	int threads;

	r->st = store_open(o->db, err, sizeof(err));
	if (r->st != NULL && set_agreement(r->st, o) != 0)
		return -1;
	if (r->st != NULL)
		r->wst = store_open(o->db, err, sizeof(err));
	if (r->st == NULL || r->wst == NULL) {
		log_error("collector", "%s", err);
		return -1;
	}
	r->fp = ww_fingerprints_load_default(o->fingerprints, err, sizeof(err));
	if (r->fp == NULL) {
		log_error("collector", "%s", err);
		return -1;
	}
	threads = o->ingest_threads;
	if (threads <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		threads = cpus < 1 ? 1 : cpus > 64 ? 64 : (int)cpus;
	}
	r->in = ingest_new(r->wst, r->fp, r->asn, threads,
			   (size_t)o->ingest_queue * 1024 * 1024);
	r->api = api_new(r->st);
	if (open_identity(r, o) != 0)
		return -1;
	so->max_body = INGEST_MAX_BODY;
	return 0;
}

/* --read-only: the database opened read-only (store_open_ro()) and the
 * read API on it; no ingest, no keys, no agreement written. -1 after
 * logging. */
static int
open_readonly(struct run *r, const struct svc_opts *o,
	      struct http_server_opts *so)
{
	char err[512];

	r->st = store_open_ro(o->db, err, sizeof(err));
	if (r->st == NULL) {
		log_error("collector", "%s", err);
		return -1;
	}
	r->api = api_new(r->st);
	/* a probe's batch is read and answered 503 ("try elsewhere"), not
	 * 413 (which would have it cut its batches) */
	so->max_body = INGEST_MAX_BODY;
	return 0;
}

static void
close_ingest(struct run *r)
{
	api_free(r->api);
	ingest_free(r->in);
	sub_registry_free(r->reg); /* after the ingest's threads */
	r->reg = NULL;
	rate_free(r->rl);
	store_close(r->kst);
	ww_fingerprints_free(r->fp);
	ww_asndb_free(r->asn);
	store_close(r->wst);
	store_close(r->st);
}

/* Descriptors kept for everything but client connections: the database
 * handles, the ingest's threads, the controls' sockets (each control
 * measures a few addresses), the log: an eighth of the limit, at least
 * FD_RESERVE_MIN. */
#define FD_RESERVE_MIN 64

/* Raise the open-file limit's soft value to its hard one (systemd's
 * default soft limit is 1024), then keep max_conns below it: a client
 * connection is a descriptor, and accept() failing for lack of one must
 * stay the exception (httpserver.c then pauses). */
static void
fit_open_files(struct http_server_opts *so)
{
	struct rlimit rl;
	rlim_t want, reserve;
	long room;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	want = rl.rlim_max;
	if (rl.rlim_cur < want) {
		struct rlimit nl = {want, rl.rlim_max};

		if (setrlimit(RLIMIT_NOFILE, &nl) == 0)
			rl.rlim_cur = want;
		else
			log_warn("collector",
				 "cannot raise the open-file limit from %llu "
				 "to %llu: %s",
				 (unsigned long long)rl.rlim_cur,
				 (unsigned long long)want, strerror(errno));
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return;
	reserve = rl.rlim_cur / 8;
	if (reserve < FD_RESERVE_MIN)
		reserve = FD_RESERVE_MIN;
	room = rl.rlim_cur > reserve + 1 ? (long)(rl.rlim_cur - reserve) : 1;
	if (so->max_conns > room) {
		log_warn("collector",
			 "--max-connections %d lowered to %ld: the open-file "
			 "limit is %llu (LimitNOFILE= in a systemd unit, "
			 "ulimit -n), %llu kept for the rest",
			 so->max_conns, room, (unsigned long long)rl.rlim_cur,
			 (unsigned long long)reserve);
		so->max_conns = (int)room;
	}
}

/* Where the service listens and what it serves; the database named
 * without its password (dbredact.h). */
static void
log_listening(struct run *r, const struct svc_opts *o, const char *bound,
	      struct ww_engine *e, const struct ww_config *cfg)
{
	char *db = db_redact(o->db);

	if (o->read_only)
		log_info("collector",
			 "listening on %s: read-only on %s (%lld measurements):"
			 " the web view, the read API and the exports; "
			 "ingest, control and key registration answer 503",
			 bound, db, (long long)store_count(r->st));
	else
		log_info("collector",
			 "listening on %s: ingest into %s (%lld measurements), "
			 "control API (resolver %s%s)",
			 bound, db, (long long)store_count(r->st),
			 ww_engine_resolver(e),
			 cfg->allow_private ? ", private targets allowed" : "");
	free(db);
}

static int
serve(const struct ww_config *cfg, const struct svc_opts *o,
      struct http_server_opts *so, const struct ctl_opts *co)
{
	struct run r;
	struct ww_engine *e;
	struct event *sigterm, *sigint;
	char err[512], bound[80]; /* "[IPv6]:PORT" */
	int rc = EXIT_FAIL;

	memset(&r, 0, sizeof(r));
	signal(SIGPIPE, SIG_IGN);
	fit_open_files(so);
	/* The ingest's threads hand answers to the loop (event_active). */
	if (evthread_use_pthreads() != 0) {
		log_error("collector", "libevent has no thread support");
		return EXIT_FAIL;
	}
	if (open_asn(&r, o) != 0 ||
	    (o->read_only && open_readonly(&r, o, so) != 0) ||
	    (!o->control_only && !o->read_only &&
	     open_ingest(&r, o, so) != 0)) {
		close_ingest(&r);
		return EXIT_FAIL;
	}
	r.base = event_base_new();
	if (r.base == NULL)
		abort();
	if (r.in != NULL &&
	    ingest_start(r.in, r.base, &r.drain, err, sizeof(err)) != 0) {
		log_error("collector", "%s", err);
		ingest_stop(r.in);
		event_base_free(r.base);
		close_ingest(&r);
		return EXIT_FAIL;
	}
	/* --read-only runs no controls (routes.c answers them 503): no
	 * engine (resolver, trust store, libcurl) and no control service. */
	e = NULL;
	if (!o->read_only) {
		e = ww_engine_new(r.base, cfg, err, sizeof(err));
		if (e == NULL) {
			log_error("collector", "%s", err);
			event_base_free(r.base);
			close_ingest(&r);
			return EXIT_FAIL;
		}
		r.ctl = ctl_service_new(r.base, e, co, &r.drain);
	}
	if (r.st != NULL && (r.alerts = alerts_new(r.st, &o->alerts, err,
						   sizeof(err))) == NULL) {
		log_error("collector", "%s", err);
		goto out;
	}
	r.svc.alerts = r.alerts;
	r.svc.ctl = r.ctl;
	r.svc.in = r.in;
	r.svc.api = r.api;
	r.svc.reg = r.reg;
	r.svc.asn = r.asn;
	routes_init(&r.router,
		    o->control_only ? ROUTE_CONTROL
		    : o->read_only  ? ROUTE_READONLY
				    : ROUTE_COLLECTOR,
		    &r.svc);
	r.srv = http_server_new(r.base, so, &r.router, &r.drain, o->listen, err,
				sizeof(err));
	if (r.srv == NULL) {
		log_error("collector", "%s", err);
		goto out;
	}
	r.svc.srv = r.srv;
	/* The address bound, not the one asked for: with port 0 this line
	 * is how a test (or an operator) learns the port. */
	if (http_server_address(r.srv, bound, sizeof(bound)) != 0)
		snprintf(bound, sizeof(bound), "%s", o->listen);
	if (r.reg != NULL && sub_registry_start(r.reg, r.base) != 0) {
		log_error("collector", "cannot watch the submitter keys");
		goto out;
	}
	if (r.alerts != NULL &&
	    alerts_start(r.alerts, r.base, err, sizeof(err)) != 0) {
		log_error("collector", "%s", err);
		goto out;
	}
	sigterm = evsignal_new(r.base, SIGTERM, on_signal, &r);
	sigint = evsignal_new(r.base, SIGINT, on_signal, &r);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	if (o->control_only)
		log_info("collector",
			 "control service listening on %s (resolver %s%s)",
			 bound, ww_engine_resolver(e),
			 cfg->allow_private ? ", private targets allowed" : "");
	else
		log_listening(&r, o, bound, e, cfg);
	event_base_dispatch(r.base);
	event_free(sigterm);
	event_free(sigint);
	ctl_service_free(r.ctl); /* before its connections go */
	r.ctl = NULL;
	http_server_free(r.srv);
	rc = EXIT_OK;
out:
	ctl_service_free(r.ctl);
	ingest_stop(r.in);	  /* after the server: no connection waits */
	sub_registry_free(r.reg); /* its timer, before the loop goes */
	r.reg = NULL;
	alerts_free(r.alerts); /* its timers and transfers, before the loop */
	ww_engine_free(e);
	event_base_free(r.base);
	close_ingest(&r);
	return rc;
}

/* The options that only the control service reads (--read-only runs
 * none). */
static bool
control_opt(int c)
{
	switch (c) {
	case OPT_RESOLVER:
	case OPT_CA_FILE:
	case OPT_ALLOW_PRIVATE:
	case OPT_OPENVPN_KEY:
	case OPT_WIREGUARD_KEY:
	case OPT_TIMEOUT:
	case OPT_MAX_ADDRS:
	case OPT_MAX_INFLIGHT:
		return true;
	default:
		return false;
	}
}

/* --read-only writes nothing and runs no controls: what would is a usage
 * error, not ignored (the operator meant something). */
static int
readonly_usage(const struct svc_opts *o)
{
	bool agree = false;

	for (size_t i = 0; i < sizeof(o->agree) / sizeof(o->agree[0]); i++)
		agree |= o->agree[i] >= 0;
	if (o->control_only) {
		ww_usage_error("%s", "--read-only and --control-only: one or "
				     "the other");
		return -1;
	}
	if (o->fingerprints || o->ingest_opts || agree) {
		ww_usage_error(
			"%s", "--read-only stores nothing: no --fingerprints, "
			      "--ingest-threads, --ingest-queue, --submission, "
			      "--rate-* or agreement options (the database's, "
			      "set by the collectors that write it)");
		return -1;
	}
	if (o->control_opts) {
		ww_usage_error("%s",
			       "--read-only runs no controls: no --resolver, "
			       "--ca-file, --allow-private, --openvpn-key, "
			       "--wireguard-key, --timeout, --max-addrs or "
			       "--max-inflight");
		return -1;
	}
	return 0;
}

/* --rate-*: "N" or "N/SECONDS" into the limit option c names. */
static int
parse_rate(int c, const char *arg, struct rate_opts *r)
{
	struct rate_limit *l = c == OPT_RATE_BATCHES	   ? &r->batches
			       : c == OPT_RATE_TARGET	   ? &r->target
			       : c == OPT_RATE_NET_BATCHES ? &r->net_batches
							   : &r->net_target;
	long window =
		c == OPT_RATE_BATCHES || c == OPT_RATE_NET_BATCHES ? 60 : 3600;

	if (rate_limit_parse(arg, window, l) != 0) {
		ww_usage_error("bad rate limit \"%s\": want N or N/SECONDS "
			       "(N from 0, no limit, to 10^9; SECONDS from 1 "
			       "to 86400)",
			       arg);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct ww_config cfg;
	struct http_server_opts so = {
		/* the control API's; open_ingest() raises it */
		.max_body = WW_CONTROL_MAX_REQUEST,
		.max_conns = 1024,
		.header_timeout = EDGE_HEADER_TIMEOUT,
		.min_body_rate = EDGE_MIN_BODY_RATE,
		.per_source = EDGE_PER_SOURCE,
	};
	struct ctl_opts co = {.max_inflight = 256};
	struct svc_opts o;
	char err[512];
	long v;
	int c, li;

	ww_log_set_prog("wallwatch-collector");
	prep_install_json_arena(); /* before any other use of jansson */
	if (argc >= 2 && strcmp(argv[1], "reanalyze") == 0)
		return reanalyze_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return export_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "keys") == 0)
		return keys_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "copy-store") == 0)
		return copystore_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return import_main(argc - 1, argv + 1);
	memset(&o, 0, sizeof(o));
	o.ingest_queue = 256;
	o.rate.batches = (struct rate_limit){60, 60};
	o.rate.target = (struct rate_limit){60, 3600};
	o.rate.net_batches = (struct rate_limit){600, 60};
	o.rate.net_target = (struct rate_limit){600, 3600};
	memset(o.agree, -1, sizeof(o.agree));
	alerts_opts_init(&o.alerts);
	memset(&cfg, 0, sizeof(cfg));
	cfg.timeout = WW_DEFAULT_TIMEOUT;
	cfg.max_addrs = WW_DEFAULT_MAX_ADDRS;
	cfg.control_service = true;
	while ((c = getopt_long(argc, argv, "", long_opts, &li)) != -1) {
		o.control_opts |= control_opt(c);
		switch (c) {
		case OPT_ALERTS:
			if (alerts_opt(&o.alerts, long_opts[li].name, optarg) !=
			    0)
				return EXIT_USAGE;
			break;
		case OPT_CONTROL_ONLY:
			o.control_only = true;
			break;
		case OPT_READ_ONLY:
			o.read_only = true;
			break;
		case OPT_LISTEN:
			o.listen = optarg;
			break;
		case OPT_DB:
			o.db = optarg;
			break;
		case OPT_ASN_DB:
			o.asn_db = optarg;
			break;
		case OPT_FINGERPRINTS:
			o.fingerprints = optarg;
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
		case OPT_OPENVPN_KEY: /* read and checked with the engine */
			cfg.openvpn_key = optarg;
			break;
		case OPT_WIREGUARD_KEY:
			cfg.wireguard_key = optarg;
			break;
		case OPT_TIMEOUT:
			if (ww_parse_seconds(optarg, 0.1, 300, &cfg.timeout) !=
			    0) {
				ww_usage_error(
					"bad --timeout \"%s\": want seconds "
					"from 0.1 to 300",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_MAX_ADDRS:
			if (ww_opt_long("max-addrs", optarg, 1, 64, &v) != 0)
				return EXIT_USAGE;
			cfg.max_addrs = (int)v;
			break;
		case OPT_MAX_INFLIGHT:
			if (ww_opt_long("max-inflight", optarg, 1, 100000,
					&v) != 0)
				return EXIT_USAGE;
			co.max_inflight = (int)v;
			break;
		case OPT_MAX_CONNS:
			if (ww_opt_long("max-connections", optarg, 1, 1000000,
					&v) != 0)
				return EXIT_USAGE;
			so.max_conns = (int)v;
			break;
		case OPT_MAX_PER_SOURCE:
			if (ww_opt_long("max-per-source", optarg, 1, 1000000,
					&v) != 0)
				return EXIT_USAGE;
			so.per_source = (int)v;
			break;
		case OPT_HEADER_TIMEOUT:
			if (ww_parse_seconds(optarg, 0.1, 3600,
					     &so.header_timeout) != 0) {
				ww_usage_error("bad --header-timeout \"%s\": "
					       "want seconds from 0.1 to 3600",
					       optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_MIN_BODY_RATE:
			if (ww_opt_long("min-body-rate", optarg, 0, 1000000000,
					&v) != 0)
				return EXIT_USAGE;
			so.min_body_rate = (double)v;
			break;
		case OPT_INGEST_THREADS:
			if (ww_opt_long("ingest-threads", optarg, 1, 64, &v) !=
			    0)
				return EXIT_USAGE;
			o.ingest_threads = (int)v;
			o.ingest_opts = true;
			break;
		case OPT_INGEST_QUEUE:
			if (ww_parse_long(optarg, 1, 65536, &v) != 0) {
				ww_usage_error(
					"bad --ingest-queue \"%s\": want "
					"MiB, a whole number from 1 to 65536",
					optarg);
				return EXIT_USAGE;
			}
			o.ingest_queue = v;
			o.ingest_opts = true;
			break;
		case OPT_VERBOSE:
			ww_log_set_level(WW_LOG_DEBUG);
			break;
		case OPT_SUBMISSION:
			if (sub_mode_parse(optarg, &o.submission) != 0) {
				ww_usage_error("bad --submission \"%s\": want "
					       "open, signed or registered",
					       optarg);
				return EXIT_USAGE;
			}
			o.ingest_opts = true;
			break;
		case OPT_RATE_BATCHES:
		case OPT_RATE_TARGET:
		case OPT_RATE_NET_BATCHES:
		case OPT_RATE_NET_TARGET:
			if (parse_rate(c, optarg, &o.rate) != 0)
				return EXIT_USAGE;
			o.ingest_opts = true;
			break;
		case OPT_MIN_SUBMITTERS:
		case OPT_SINGLE_HOURS:
		case OPT_DAILY_CAP:
		case OPT_ALLOW_GEO:
			if (agree_opt(&o, c, optarg) != 0)
				return EXIT_USAGE;
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
	if (!o.control_only && o.db == NULL) {
		ww_usage_error("%s", "--db PATH is required (or --control-only "
				     "for the control API alone)");
		return EXIT_USAGE;
	}
	/* --asn-db is allowed: whoami answers with it. */
	if (o.control_only && (o.db || o.fingerprints || o.ingest_opts)) {
		ww_usage_error("%s",
			       "--control-only stores nothing: no --db, "
			       "--fingerprints, --ingest-threads, "
			       "--ingest-queue, --submission or --rate-*");
		return EXIT_USAGE;
	}
	if (o.read_only && readonly_usage(&o) != 0)
		return EXIT_USAGE;
	if (alerts_opts_check(&o.alerts) != 0)
		return EXIT_USAGE;
	if ((o.control_only && o.alerts.given) ||
	    (o.read_only && o.alerts.n_webhooks > 0)) {
		ww_usage_error("%s", "--webhook needs a collector that writes "
				     "its database (not --read-only: the "
				     "claims of alerts are writes; not "
				     "--control-only: no alerts there)");
		return EXIT_USAGE;
	}
	if (o.listen == NULL) {
		ww_usage_error("%s", "--listen IP:PORT is required");
		return EXIT_USAGE;
	}
	{
		char ip[64];
		unsigned short port;

		if (http_listen_parse(o.listen, ip, sizeof(ip), &port) != 0) {
			ww_usage_error(
				"bad listen address \"%s\": want IP:PORT "
				"or [IPv6]:PORT",
				o.listen);
			return EXIT_USAGE;
		}
	}
	/* Answer before the probe stops waiting (WW_CONTROL_TIMEOUT). */
	co.deadline = 4.0 * cfg.timeout;
	/* Idle connections go after this; longer than any control. */
	so.idle_timeout = (int)co.deadline + 15;
	return serve(&cfg, &o, &so, &co);
}
