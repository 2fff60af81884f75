/*
 * copystore.c - `wallwatch-collector copy-store --from SQLITE_PATH --to
 * CONNINFO`: every measurement of one store (the SQLite file of a
 * one-machine deployment) into another (PostgreSQL), through store.h
 * only: any two backends work, and the destination's timelines are made
 * by its own store_put_batch() exactly as its collectors would make them.
 *
 * Order: the agreement settings and the submitter keys first (the
 * timelines depend on both); then the measurements in the source's id
 * order, its order of arrival (the destination meets each target's
 * measurements in the order the source did), in batches of up to 1,000
 * that each commit whole; then the revocations (they flag the key's rows
 * and mark their targets stale) and a reopening of the destination,
 * which recomputes those targets.
 *
 * Resumable: batches commit whole and in id order, so what an
 * interrupted run stored is a prefix of the source. The next run finds
 * its end by a binary search over the source's ids (a few dozen look-ups)
 * and goes on from there. A measurement offered twice is a duplicate
 * (measurement_uid is unique), never a second row.
 *
 * Verified: at the end both stores are walked and their counts and sets
 * of uids compared (a sum of 64-bit hashes of the uids: independent of
 * order, one pass each). When they differ, every source measurement is
 * offered to the destination again (what was missing is stored now, a uid
 * stored there with other bytes is named), and uids the destination holds
 * beyond the source are counted and a few named.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "copystore.h"
#include "dbredact.h"
#include "store.h"
#include "store_backend.h"
#include "util.h"

#define CS_PAGE 1000 /* measurements per batch: STORE_LIMIT_MAX */
/* raw bytes held per batch (one raw may be STORE_MAX_RAW) */
#define CS_BATCH_BYTES ((size_t)64 * 1024 * 1024)
#define CS_NAMED 5	   /* uids named per kind of difference */
#define CS_PROGRESS 100000 /* a progress line every so many */

static const char copystore_usage[] =
	"usage: wallwatch-collector copy-store --from SQLITE_PATH --to "
	"CONNINFO\n"
	"\n"
	"Copy a deployment's store into another: every measurement (raw\n"
	"bytes, verdicts, submitter, times), the submitter keys and their\n"
	"revocations, and the agreement settings; the destination computes\n"
	"its timelines as they arrive (docs/deployment.md).\n"
	"  --from SQLITE_PATH  the store to copy (an existing SQLite file;\n"
	"                      any --db a collector takes works)\n"
	"  --to CONNINFO       where to (postgresql://... or any --db)\n"
	"Resumable: run it again after an interruption, or after new\n"
	"measurements reached the source; it goes on where the destination\n"
	"ends, and never stores a measurement twice. At the end the counts and\n"
	"the sets of measurement_uid of both are compared and what differs is\n"
	"said. Exit status: 0 copied and verified, 1 usage error, 2 failure or\n"
	"a difference left.\n";

/* One measurement of a batch, its strings owned. */
struct cs_row {
	int64_t id, start_time, received_time;
	char *uid, *input, *test_name, *category_code, *probe_cc, *probe_asn,
		*observed_cc, *observed_asn, *submitter, *blocking,
		*blocking_detail, *analysis_version, *analysis_reason,
		*evidence, *evidence_detail, *software_name, *software_version,
		*test_version;
	bool geo_mismatch, confirmed;
	int accessible, packets;
	char *raw;
	size_t raw_len;
};

struct cs_page {
	struct cs_row v[CS_PAGE];
	size_t n;
	bool oom;
};

struct cs_stats {
	int64_t seen, added, dup, conflicts;
	int64_t last; /* the last source id offered */
};

/* --- a page of the source ------------------------------------------------ */

static char *
dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*oom = true;
	return d;
}

static void
row_free(struct cs_row *r)
{
	char **strs[] = {&r->uid,
			 &r->input,
			 &r->test_name,
			 &r->category_code,
			 &r->probe_cc,
			 &r->probe_asn,
			 &r->observed_cc,
			 &r->observed_asn,
			 &r->submitter,
			 &r->blocking,
			 &r->blocking_detail,
			 &r->analysis_version,
			 &r->analysis_reason,
			 &r->evidence,
			 &r->evidence_detail,
			 &r->software_name,
			 &r->software_version,
			 &r->test_version,
			 &r->raw};

	for (size_t i = 0; i < WW_ARRAY_LEN(strs); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
}

/* Drop rows [from, n). */
static void
page_cut(struct cs_page *p, size_t from)
{
	while (p->n > from)
		row_free(&p->v[--p->n]);
}

static int
page_add(const struct store_row *r, void *arg)
{
	struct cs_page *p = arg;
	struct cs_row *c;
	bool *oom = &p->oom;

	if (p->n == CS_PAGE)
		return 1;
	c = &p->v[p->n++];
	memset(c, 0, sizeof(*c));
	c->id = r->id;
	c->start_time = r->start_time;
	c->received_time = r->received_time;
	c->geo_mismatch = r->geo_mismatch;
	c->confirmed = r->confirmed;
	c->accessible = r->accessible;
	c->packets = r->packets;
	c->uid = dup_or_null(r->uid, oom);
	c->input = dup_or_null(r->input, oom);
	c->test_name = dup_or_null(r->test_name, oom);
	c->category_code = dup_or_null(r->category_code, oom);
	c->probe_cc = dup_or_null(r->probe_cc, oom);
	c->probe_asn = dup_or_null(r->probe_asn, oom);
	c->observed_cc = dup_or_null(r->observed_cc, oom);
	c->observed_asn = dup_or_null(r->observed_asn, oom);
	c->submitter = dup_or_null(r->submitter, oom);
	c->blocking = dup_or_null(r->blocking, oom);
	c->blocking_detail = dup_or_null(r->blocking_detail, oom);
	c->analysis_version = dup_or_null(r->analysis_version, oom);
	c->analysis_reason = dup_or_null(r->analysis_reason, oom);
	c->evidence = dup_or_null(r->evidence, oom);
	c->evidence_detail = dup_or_null(r->evidence_detail, oom);
	c->software_name = dup_or_null(r->software_name, oom);
	c->software_version = dup_or_null(r->software_version, oom);
	c->test_version = dup_or_null(r->test_version, oom);
	if (c->uid == NULL)
		*oom = true; /* a stored row always has one */
	return *oom ? 1 : 0;
}

/* The next (at most limit) measurements of st after id `after`, by id. */
static int
page_read(struct store *st, int64_t after, int limit, struct cs_page *p,
	  char *err, size_t errlen)
{
	struct store_filter f = {.after_id = after, .limit = limit};

	page_cut(p, 0);
	p->oom = false;
	if (store_measurements(st, &f, page_add, p, err, errlen) != 0)
		return -1;
	if (p->oom)
		return ww_fail(err, errlen, "out of memory");
	return 0;
}

/* The raw bytes of the page's rows; rows past CS_BATCH_BYTES are dropped
 * (the next page starts with them). */
static int
page_raws(struct store *src, struct cs_page *p, char *err, size_t errlen)
{
	size_t total = 0;

	for (size_t i = 0; i < p->n; i++) {
		struct cs_row *r = &p->v[i];
		int rc = store_get_raw(src, r->uid, &r->raw, &r->raw_len, err,
				       errlen);

		if (rc < 0)
			return -1;
		if (rc == 1)
			return ww_fail(err, errlen,
				       "measurement %s left the source while "
				       "it was copied",
				       r->uid);
		total += r->raw_len;
		if (total > CS_BATCH_BYTES && i > 0) {
			page_cut(p, i);
			break;
		}
	}
	return 0;
}

/* --- into the destination ------------------------------------------------ */

static void
meas_of(const struct cs_row *r, struct store_meas *m)
{
	memset(m, 0, sizeof(*m));
	m->uid = r->uid;
	m->raw = r->raw;
	m->raw_len = r->raw_len;
	m->input = r->input;
	m->test_name = r->test_name;
	m->software_name = r->software_name;
	m->software_version = r->software_version;
	m->test_version = r->test_version;
	m->category_code = r->category_code;
	m->probe_cc = r->probe_cc;
	m->probe_asn = r->probe_asn;
	m->observed_cc = r->observed_cc;
	m->observed_asn = r->observed_asn;
	m->geo_mismatch = r->geo_mismatch;
	m->submitter = r->submitter;
	m->start_time = r->start_time;
	m->received_time = r->received_time;
	m->blocking = r->blocking;
	m->accessible = r->accessible;
	m->blocking_detail = r->blocking_detail;
	m->confirmed = r->confirmed;
	m->analysis_version = r->analysis_version;
	m->analysis_reason = r->analysis_reason;
	m->evidence = r->evidence;
	m->evidence_detail = r->evidence_detail;
	m->packets = r->packets;
}

/* Store the page in dst in one transaction; counts into s. */
static int
page_put(struct store *dst, const struct cs_page *p, struct cs_stats *s,
	 char *err, size_t errlen)
{
	struct store_meas *v = calloc(p->n, sizeof(*v));
	enum store_result *res = calloc(p->n, sizeof(*res));
	int rc = -1;

	if (v == NULL || res == NULL) {
		ww_set_err(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p->n; i++)
		meas_of(&p->v[i], &v[i]);
	if (store_put_batch(dst, v, p->n, res, err, errlen) != 0)
		goto out;
	for (size_t i = 0; i < p->n; i++) {
		if (res[i] == STORE_NEW) {
			s->added++;
		} else if (res[i] == STORE_DUPLICATE) {
			s->dup++;
		} else if (s->conflicts++ < CS_NAMED) {
			log_error("copy-store",
				  "measurement %s: the destination holds "
				  "another measurement under this uid (kept; "
				  "the source's is not copied)",
				  p->v[i].uid);
		}
	}
	s->seen += (int64_t)p->n;
	rc = 0;
out:
	free(v);
	free(res);
	return rc;
}

/* Every source measurement after id `after` into dst, page by page. */
static int
copy_from(struct store *src, struct store *dst, int64_t after,
	  struct cs_stats *s, char *err, size_t errlen)
{
	struct cs_page *p = calloc(1, sizeof(*p));
	int64_t next = CS_PROGRESS;
	int rc = -1;

	if (p == NULL)
		return ww_fail(err, errlen, "out of memory");
	for (;;) {
		if (page_read(src, after, CS_PAGE, p, err, errlen) != 0 ||
		    page_raws(src, p, err, errlen) != 0)
			goto out;
		if (p->n == 0)
			break;
		if (page_put(dst, p, s, err, errlen) != 0)
			goto out;
		after = p->v[p->n - 1].id;
		s->last = after;
		if (s->seen >= next) {
			log_info("copy-store",
				 "%lld measurements so far (%lld new, %lld "
				 "already there)",
				 (long long)s->seen, (long long)s->added,
				 (long long)s->dup);
			next += CS_PROGRESS;
		}
	}
	rc = 0;
out:
	page_cut(p, 0);
	free(p);
	return rc;
}

/* --- where a previous run stopped ----------------------------------------- */

/* 0 uid is in st, 1 it is not, -1 error. */
static int
has_uid(struct store *st, const char *uid, char *err, size_t errlen)
{
	char *raw = NULL;
	size_t len = 0;
	int rc = store_get_raw(st, uid, &raw, &len, err, errlen);

	free(raw);
	return rc;
}

/* *q: the first source measurement after id a is in dst already (false
 * when there is none). */
static int
copied_after(struct store *src, struct store *dst, int64_t a, struct cs_page *p,
	     bool *q, char *err, size_t errlen)
{
	int rc;

	if (page_read(src, a, 1, p, err, errlen) != 0)
		return -1;
	if (p->n == 0) {
		*q = false;
		return 0;
	}
	rc = has_uid(dst, p->v[0].uid, err, errlen);
	page_cut(p, 0);
	if (rc < 0)
		return -1;
	*q = rc == 0;
	return 0;
}

/*
 * The id after which the copy goes on. What earlier runs stored is a prefix
 * r_1..r_k of the source in id order, so "the first row after id a is
 * copied" holds for a < id(r_k) and fails from id(r_k) on: the smallest
 * a where it fails, found by doubling then bisecting, is id(r_k) (0 when
 * nothing was copied). Were the destination not such a prefix (a probe's
 * retry stored one of these uids there), the verification at the end
 * finds and copies what this skipped.
 */
static int
resume_point(struct store *src, struct store *dst, int64_t *after, char *err,
	     size_t errlen)
{
	struct cs_page *p = calloc(1, sizeof(*p));
	int64_t lo = 0, hi = 1, mid;
	bool q;
	int rc = -1;

	if (p == NULL)
		return ww_fail(err, errlen, "out of memory");
	*after = 0;
	if (copied_after(src, dst, 0, p, &q, err, errlen) != 0)
		goto out;
	if (!q) {
		rc = 0;
		goto out;
	}
	for (;;) { /* q(lo) holds; find hi where it fails */
		if (copied_after(src, dst, hi, p, &q, err, errlen) != 0)
			goto out;
		if (!q)
			break;
		lo = hi;
		if (hi > INT64_MAX / 2) {
			ww_set_err(err, errlen, "source ids out of range");
			goto out;
		}
		hi *= 2;
	}
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (copied_after(src, dst, mid, p, &q, err, errlen) != 0)
			goto out;
		if (q)
			lo = mid;
		else
			hi = mid;
	}
	*after = hi;
	rc = 0;
out:
	free(p);
	return rc;
}

/* --- keys and settings ---------------------------------------------------- */

struct cs_key {
	char key_id[33];
	unsigned char pub[32];
	int64_t registered, revoked;
	char *reason;
};

struct cs_keys {
	struct cs_key *v;
	size_t n, cap;
	bool oom;
};

static int
key_add(const struct store_submitter *k, void *arg)
{
	struct cs_keys *ks = arg;
	struct cs_key *c;

	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 16;
		struct cs_key *v = realloc(ks->v, cap * sizeof(*v));

		if (v == NULL) {
			ks->oom = true;
			return 1;
		}
		ks->v = v;
		ks->cap = cap;
	}
	c = &ks->v[ks->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->key_id, sizeof(c->key_id), "%s", k->key_id);
	memcpy(c->pub, k->public_key, sizeof(c->pub));
	c->registered = k->registered;
	c->revoked = k->revoked;
	c->reason = dup_or_null(k->revoke_reason, &ks->oom);
	return ks->oom ? 1 : 0;
}

static void
keys_free(struct cs_keys *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->v[i].reason);
	free(ks->v);
	memset(ks, 0, sizeof(*ks));
}

/* The agreement settings and the keys (not yet their revocations: those
 * come after the measurements, so that they flag them). */
static int
copy_settings(struct store *src, struct store *dst, struct cs_keys *ks,
	      char *err, size_t errlen)
{
	struct store_agreement a;
	int added = 0, rc;

	store_agreement_get(src, &a);
	rc = store_agreement_set(dst, &a, err, errlen);
	if (rc < 0)
		return -1;
	if (rc == 1)
		log_info("copy-store", "agreement settings copied");
	if (store_submitters(src, key_add, ks, err, errlen) != 0)
		return -1;
	if (ks->oom)
		return ww_fail(err, errlen, "out of memory");
	for (size_t i = 0; i < ks->n; i++) {
		rc = store_submitter_add(dst, ks->v[i].key_id, ks->v[i].pub,
					 ks->v[i].registered, err, errlen);
		if (rc < 0)
			return -1;
		added += rc;
	}
	log_info("copy-store", "%zu submitter keys (%d new in the destination)",
		 ks->n, added);
	return 0;
}

/* The revocations, after the measurements; then dst is opened again, which
 * recomputes the targets they marked stale (store_open()). */
static int
copy_revocations(struct store **dst, const char *to, const struct cs_keys *ks,
		 char *err, size_t errlen)
{
	int64_t flagged = 0, n;

	for (size_t i = 0; i < ks->n; i++) {
		const struct cs_key *k = &ks->v[i];

		if (k->revoked == 0)
			continue;
		n = 0;
		if (store_submitter_revoke(*dst, k->key_id, k->reason,
					   k->revoked, &n, err, errlen) != 0)
			return -1;
		flagged += n;
	}
	if (flagged > 0)
		log_info("copy-store",
			 "%lld measurements of revoked keys flagged",
			 (long long)flagged);
	store_close(*dst);
	*dst = store_open(to, err, errlen);
	return *dst != NULL ? 0 : -1;
}

/* --- verification ----------------------------------------------------------
 */

/* A 64-bit hash of a uid (FNV-1a, then a finaliser so that the sum of
 * many mixes every bit). */
static uint64_t
uid_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

struct cs_sum {
	int64_t n, last;
	uint64_t sum;
	/* when set: count (and name a few of) the uids other lacks */
	struct store *other;
	int64_t extra;
	int rc;
	char *err;
	size_t errlen;
};

static int
sum_row(const struct store_row *r, void *arg)
{
	struct cs_sum *s = arg;

	s->n++;
	s->last = r->id;
	s->sum += uid_hash(r->uid);
	if (s->other == NULL)
		return 0;
	s->rc = has_uid(s->other, r->uid, s->err, s->errlen);
	if (s->rc < 0)
		return 1;
	if (s->rc == 1 && s->extra++ < CS_NAMED)
		log_error("copy-store",
			  "measurement %s is in the destination, not in "
			  "the source",
			  r->uid);
	s->rc = 0;
	return 0;
}

/* Walk st by id, a page at a time: the count and the hash sum of its
 * uids. */
static int
walk_sum(struct store *st, struct cs_sum *s, char *err, size_t errlen)
{
	struct store_filter f = {.limit = CS_PAGE};
	int64_t before;

	s->err = err;
	s->errlen = errlen;
	s->rc = 0;
	do {
		before = s->n;
		f.after_id = s->last;
		if (store_measurements(st, &f, sum_row, s, err, errlen) != 0 ||
		    s->rc < 0)
			return -1;
	} while (s->n - before == CS_PAGE);
	return 0;
}

/*
 * Compare src and dst; 0 when they hold the same uids (after storing what
 * was missing), 1 when a difference is left (said in the log), -1 error.
 * s->conflicts accumulates the uids dst holds with other bytes; first,
 * what reached the source after s->last is copied.
 */
static int
verify(struct store *src, struct store *dst, struct cs_stats *s, char *err,
       size_t errlen)
{
	struct cs_sum a = {0}, b = {0};
	struct cs_stats again = {0}, tail = {0};
	int64_t *conflicts = &s->conflicts;

	/* what reached the source since (a collector still writing it) */
	if (copy_from(src, dst, s->last, &tail, err, errlen) != 0)
		return -1;
	if (tail.added > 0)
		log_info("copy-store",
			 "%lld measurements reached the source meanwhile: "
			 "copied",
			 (long long)tail.added);
	*conflicts += tail.conflicts;
	if (walk_sum(src, &a, err, errlen) != 0 ||
	    walk_sum(dst, &b, err, errlen) != 0)
		return -1;
	if (a.n == b.n && a.sum == b.sum && *conflicts == 0) {
		log_info("copy-store",
			 "verified: %lld measurements in each, the same "
			 "measurement_uid set",
			 (long long)a.n);
		return 0;
	}
	log_info("copy-store",
		 "source %lld measurements, destination %lld, the uid sets "
		 "differ: offering every source measurement again",
		 (long long)a.n, (long long)b.n);
	if (copy_from(src, dst, 0, &again, err, errlen) != 0)
		return -1;
	if (again.added > 0)
		log_info("copy-store",
			 "%lld measurements were missing from the "
			 "destination: stored now",
			 (long long)again.added);
	*conflicts = again.conflicts;
	memset(&b, 0, sizeof(b));
	b.other = src;
	if (walk_sum(dst, &b, err, errlen) != 0)
		return -1;
	if (b.extra > 0)
		log_error("copy-store",
			  "%lld measurements are in the destination and not "
			  "in the source (stored there by a collector?)",
			  (long long)b.extra);
	if (*conflicts > 0)
		log_error("copy-store",
			  "%lld measurement_uid(s) are stored in the "
			  "destination with other bytes than in the source "
			  "(the first named above)",
			  (long long)*conflicts);
	if (b.extra > 0 || *conflicts > 0)
		return 1;
	if (a.n != b.n || a.sum != b.sum) {
		/* the source changed meanwhile: a collector still writes it */
		log_error("copy-store",
			  "the source changed during the check (%lld "
			  "measurements, destination %lld): run copy-store "
			  "again once no collector writes to it",
			  (long long)a.n, (long long)b.n);
		return 1;
	}
	log_info("copy-store",
		 "verified: %lld measurements in each, the same "
		 "measurement_uid set",
		 (long long)b.n);
	return 0;
}

/* --- the command ------------------------------------------------------------
 */

static int
copy_all(struct store *src, struct store **dst, const char *to, char *err,
	 size_t errlen)
{
	struct cs_keys ks = {0};
	struct cs_stats s = {0};
	int64_t after = 0, total = store_count(src);
	int rc = -1;

	if (total < 0)
		return ww_fail(err, errlen, "cannot count the source");
	if (copy_settings(src, *dst, &ks, err, errlen) != 0 ||
	    resume_point(src, *dst, &after, err, errlen) != 0)
		goto out;
	if (after > 0)
		log_info("copy-store",
			 "going on after source measurement id %lld (copied "
			 "before)",
			 (long long)after);
	log_info("copy-store", "the source holds %lld measurements",
		 (long long)total);
	if (copy_from(src, *dst, after, &s, err, errlen) != 0 ||
	    copy_revocations(dst, to, &ks, err, errlen) != 0)
		goto out;
	log_info("copy-store",
		 "copied: %lld measurements read, %lld stored, %lld already "
		 "there, %lld conflicting",
		 (long long)s.seen, (long long)s.added, (long long)s.dup,
		 (long long)s.conflicts);
	s.last = after > s.last ? after : s.last;
	rc = verify(src, *dst, &s, err, errlen);
out:
	keys_free(&ks);
	return rc;
}

int
copystore_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *from = NULL, *to = NULL;
	struct store *src, *dst;
	char err[512];
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f') {
			from = optarg;
		} else if (c == 't') {
			to = optarg;
		} else if (c == 'h') {
			fputs(copystore_usage, stdout);
			return EXIT_OK;
		} else {
			fputs(copystore_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (from == NULL || to == NULL || optind < argc) {
		ww_usage_error("%s", "copy-store needs --from SQLITE_PATH and "
				     "--to CONNINFO (and nothing else)");
		return EXIT_USAGE;
	}
	if (strcmp(from, to) == 0) {
		ww_usage_error("%s", "--from and --to name the same store");
		return EXIT_USAGE;
	}
	/* store_open() creates a missing SQLite file: the source must be
	 * there already, or a typo copies an empty store. */
	if (!store_path_is_pg(from) && access(from, R_OK) != 0) {
		char *name = db_redact(from);

		ww_usage_error("--from %s: no such readable file (copy-store "
			       "never creates its source)",
			       name);
		free(name);
		return EXIT_USAGE;
	}
	src = store_open(from, err, sizeof(err));
	if (src == NULL) {
		log_error("copy-store", "--from: %s", err);
		return EXIT_FAIL;
	}
	dst = store_open(to, err, sizeof(err));
	if (dst == NULL) {
		log_error("copy-store", "--to: %s", err);
		store_close(src);
		return EXIT_FAIL;
	}
	rc = copy_all(src, &dst, to, err, sizeof(err));
	if (rc < 0)
		log_error("copy-store",
			  "%s (what was stored stays: run copy-store again "
			  "to go on)",
			  err);
	store_close(dst);
	store_close(src);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}
