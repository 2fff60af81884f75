/*
 * keys.c - the `keys` command: list the submitter keys, add one (for
 * --submission registered, where probes cannot register themselves), and
 * revoke one. A revocation flags the key and its measurements in one
 * transaction and marks their targets stale; the store is then opened
 * again, which recomputes those targets (store_open()), and a running
 * collector refuses the key within a second or two (its registry re-reads
 * the table when the database changes: submitters.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector.h"
#include "keys.h"
#include "store.h"
#include "subsig.h"
#include "util.h"

static const char keys_usage[] =
	"usage: wallwatch-collector keys list --db PATH\n"
	"       wallwatch-collector keys add --db PATH PUBLIC_KEY\n"
	"       wallwatch-collector keys revoke --db PATH KEY_ID "
	"[--reason TEXT]\n"
	"\n"
	"The submitter keys probes sign their uploads with "
	"(docs/submitters.md).\n"
	"A volunteer finds the key id and public key with `wallwatch-probe "
	"status`.\n"
	"  list    every key: id, registered, revoked (and why)\n"
	"  add     register PUBLIC_KEY (base64 of the 32-byte Ed25519 key),\n"
	"          as --submission registered requires\n"
	"  revoke  refuse KEY_ID from now on (a running collector within\n"
	"          seconds), flag its measurements and recompute the\n"
	"          timelines they were in, without them\n";

static void
fmt_time(int64_t t, char out[20])
{
	ww_fmt_utc((time_t)t, out);
}

static int
list_one(const struct store_submitter *k, void *arg)
{
	char reg[20], rev[20];

	(void)arg;
	fmt_time(k->registered, reg);
	if (k->revoked == 0) {
		printf("%s  registered %s  active\n", k->key_id, reg);
		return 0;
	}
	fmt_time(k->revoked, rev);
	printf("%s  registered %s  revoked %s%s%s\n", k->key_id, reg, rev,
	       k->revoke_reason ? ": " : "",
	       k->revoke_reason ? k->revoke_reason : "");
	return 0;
}

static int
keys_add(struct store *st, const char *b64)
{
	unsigned char *pub;
	size_t n = 0;
	char id[33], err[512];
	int rc;

	pub = ww_base64_decode(b64, strlen(b64), 64, &n);
	if (pub == NULL || n != WW_SUB_PUB_LEN) {
		free(pub);
		ww_usage_error("PUBLIC_KEY: not base64 of a 32-byte Ed25519 "
			       "public key (`wallwatch-probe status` shows "
			       "it)");
		return EXIT_USAGE;
	}
	ww_sub_key_id(pub, id);
	rc = store_submitter_add(st, id, pub, (int64_t)time(NULL), err,
				 sizeof(err));
	free(pub);
	if (rc < 0) {
		log_error("keys", "%s", err);
		return EXIT_FAIL;
	}
	printf("%s %s\n", id, rc == 1 ? "added" : "was already there");
	return EXIT_OK;
}

static int
keys_revoke(struct store **st, const char *db, const char *id,
	    const char *reason)
{
	char err[512];
	int64_t n = 0;
	int rc;

	if (!ww_sub_key_id_valid(id)) {
		ww_usage_error("KEY_ID \"%s\": want 32 lowercase hex "
			       "characters (`keys list` shows them)",
			       id);
		return EXIT_USAGE;
	}
	if (reason != NULL && strlen(reason) > 1000) {
		ww_usage_error("%s", "--reason: at most 1000 bytes");
		return EXIT_USAGE;
	}
	rc = store_submitter_revoke(*st, id, reason, (int64_t)time(NULL), &n,
				    err, sizeof(err));
	if (rc != 0) {
		log_error("keys", "%s", err);
		return rc == 1 ? EXIT_USAGE : EXIT_FAIL;
	}
	printf("%s revoked: %lld measurement(s) flagged\n", id, (long long)n);
	/* Opening the store again recomputes the targets just marked
	 * stale (store_open()): the timelines lose the key's evidence
	 * now, not at the collector's next start. */
	store_close(*st);
	*st = store_open(db, err, sizeof(err));
	if (*st == NULL) {
		log_error("keys",
			  "%s (the timelines are recomputed at the next "
			  "start or `reanalyze`)",
			  err);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int
keys_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"reason", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *reason = NULL, *cmd;
	struct store *st;
	char err[512];
	int c, rc = EXIT_USAGE;
	int want;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			db = optarg;
		else if (c == 'r')
			reason = optarg;
		else if (c == 'h') {
			fputs(keys_usage, stdout);
			return EXIT_OK;
		} else {
			fputs(keys_usage, stderr);
			return EXIT_USAGE;
		}
	}
	cmd = optind < argc ? argv[optind] : "";
	want = strcmp(cmd, "list") == 0 ? 0 : 1;
	if ((strcmp(cmd, "list") != 0 && strcmp(cmd, "add") != 0 &&
	     strcmp(cmd, "revoke") != 0) ||
	    db == NULL || argc - optind - 1 != want ||
	    (reason != NULL && strcmp(cmd, "revoke") != 0)) {
		ww_usage_error("%s", "keys list|add|revoke --db PATH: see "
				     "`wallwatch-collector keys --help`");
		return EXIT_USAGE;
	}
	st = store_open(db, err, sizeof(err));
	if (st == NULL) {
		log_error("keys", "%s", err);
		return EXIT_FAIL;
	}
	if (strcmp(cmd, "list") == 0) {
		rc = store_submitters(st, list_one, NULL, err, sizeof(err)) == 0
			     ? EXIT_OK
			     : EXIT_FAIL;
		if (rc != EXIT_OK)
			log_error("keys", "%s", err);
	} else if (strcmp(cmd, "add") == 0) {
		rc = keys_add(st, argv[optind + 1]);
	} else {
		rc = keys_revoke(&st, db, argv[optind + 1], reason);
	}
	store_close(st);
	return rc;
}
