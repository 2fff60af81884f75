/*
 * reanalyze_cmd.c - `wallwatch-collector reanalyze`: the verdict analysis
 * run again over every stored measurement, with the current rules and
 * fingerprints (store_reanalyze() pages through the rows and marks the
 * targets whose verdicts moved for recomputation).
 */
#include "reanalyze_cmd.h"

#include <getopt.h>
#include <stdio.h>

#include <jansson.h>

#include "analysis.h"
#include "collector.h"
#include "fingerprint.h"
#include "store.h"
#include "util.h"
#include "verdict_json.h"

enum { OPT_DB = 1, OPT_FINGERPRINTS };

struct reanalysis {
	const struct ww_fingerprints *fp;
	json_t *last; /* the values handed to the store point into it */
	long bad;
	struct verdict_bufs bufs; /* and into these */
};

static int
reanalyze_one(const char *uid, const char *raw, size_t len,
	      struct store_derived *out, void *arg)
{
	struct reanalysis *ra = arg;
	json_t *m;
	char err[256];

	json_decref(ra->last);
	ra->last = NULL;
	m = json_loadb(raw, len, 0, NULL);
	if (m == NULL || ww_analyze(m, ra->fp, err, sizeof(err)) != 0) {
		log_warn("reanalyze", "%s: stored raw is not a measurement",
			 uid);
		json_decref(m);
		ra->bad++;
		return -1; /* keep what is stored */
	}
	ra->last = m;
	verdict_from_json(m, out, &ra->bufs);
	return 0;
}

int
reanalyze_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, OPT_DB},
		{"fingerprints", required_argument, NULL, OPT_FINGERPRINTS},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *fpdir = NULL;
	struct reanalysis ra = {.fp = NULL};
	struct ww_fingerprints *fp;
	struct store *st;
	char err[512];
	long n;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == OPT_DB)
			db = optarg;
		else if (c == OPT_FINGERPRINTS)
			fpdir = optarg;
		else
			return EXIT_USAGE;
	}
	if (db == NULL || optind < argc) {
		ww_usage_error("%s", "reanalyze needs --db PATH (and nothing "
				     "else but --fingerprints DIR)");
		return EXIT_USAGE;
	}
	fp = ww_fingerprints_load_default(fpdir, err, sizeof(err));
	if (fp == NULL) {
		ww_usage_error("%s", err);
		return EXIT_USAGE;
	}
	st = store_open(db, err, sizeof(err));
	if (st == NULL) {
		log_error("reanalyze", "%s", err);
		ww_fingerprints_free(fp);
		return EXIT_FAIL;
	}
	ra.fp = fp;
	n = store_reanalyze(st, reanalyze_one, &ra, err, sizeof(err));
	json_decref(ra.last);
	store_close(st);
	ww_fingerprints_free(fp);
	if (n < 0) {
		log_error("reanalyze", "%s", err);
		return EXIT_FAIL;
	}
	log_info("reanalyze",
		 "%ld measurements analysed again (analysis version %s)%s", n,
		 WW_ANALYSIS_VERSION, ra.bad ? "; some could not be read" : "");
	return ra.bad ? EXIT_FAIL : EXIT_OK;
}
