/*
 * test_import_batch.c - the import's lines into the store
 * (collector/import_batch.c): every line is told exactly once, to the
 * owner it was added for, as stored, duplicate or refused (with the
 * ingest's reason), whatever the threads and the batch size; what was
 * stored is in the store; the same lines again are all duplicates; a
 * batch never mixes two owners (files).
 *
 * The measurements are tests/data/reanalyze/m's (our probe's); run from
 * the repository's root. Linked from build/libcollector.a.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../collector/import_batch.h"
#include "../../collector/ingest_prep.h"
#include "../../collector/store.h"

#define NM 21 /* measurements in tests/data/reanalyze/m */
#define NL (NM + 3)

static const char *const names[NM] = {
	"captcha_503_1",       "captcha_503_2",	      "captcha_503_3",
	"clean_http_1",	       "clean_http_2",	      "clean_http_3",
	"cut_reset_1",	       "cut_reset_2",	      "cut_reset_3",
	"https_451_1",	       "https_451_2",	      "https_451_3",
	"redirect_dns_1",      "redirect_dns_2",      "redirect_dns_3",
	"redirect_loop_1",     "redirect_loop_2",     "redirect_loop_3",
	"unknown_blockpage_1", "unknown_blockpage_2", "unknown_blockpage_3",
};

/* What each owner was told, per line. */
struct told {
	int what[NL + 1]; /* 1 + enum import_outcome; 0 never told */
	int times[NL + 1];
	char why[NL + 1][128];
};

static void
on_row(void *owner, uint64_t line, enum import_outcome what, const char *field,
       const char *why)
{
	struct told *t = owner;

	assert_true(line >= 1 && line <= NL);
	t->what[line] = 1 + (int)what;
	t->times[line]++;
	snprintf(t->why[line], sizeof(t->why[line]), "%s: %s", field, why);
}

static char *texts[NL + 1];
static size_t lens[NL + 1];

/* Lines 1..NL: the measurements, and three bad lines among them (4, 11
 * and the last). */
static void
load(void)
{
	int m = 0;

	for (int line = 1; line <= NL; line++) {
		char path[128];
		FILE *f;
		long n;

		if (line == 4 || line == 11 || line == NL) {
			texts[line] = strdup(line == 4	  ? "not json"
					     : line == 11 ? "{}"
							  : "[1]");
			lens[line] = strlen(texts[line]);
			continue;
		}
		snprintf(path, sizeof(path), "tests/data/reanalyze/m/%s.json",
			 names[m++]);
		f = fopen(path, "rb");
		assert_non_null(f);
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		texts[line] = malloc((size_t)n);
		assert_int_equal(fread(texts[line], 1, (size_t)n, f), n);
		fclose(f);
		/* a measurement as a line holds no line feed; JSON's white
		 * space may be any of them */
		for (long i = 0; i < n; i++)
			if (texts[line][i] == '\n')
				texts[line][i] = ' ';
		while (n > 0 && texts[line][n - 1] == ' ')
			n--;
		lens[line] = (size_t)n;
	}
}

static struct store *
fresh_store(char *dir, size_t dirlen)
{
	char db[128], err[256];
	struct store *st;

	snprintf(dir, dirlen, "/tmp/ww-test-import.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/c.db", dir);
	st = store_open(db, err, sizeof(err));
	if (st == NULL)
		fail_msg("%s", err);
	return st;
}

static void
drop_store(struct store *st, const char *dir)
{
	char cmd[256];

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Lines 1..split to a, the rest to b; then flushed. */
static void
run(struct import_pipe *p, struct told *a, struct told *b, int split)
{
	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	for (int line = 1; line <= NL; line++) {
		struct import_line l = {texts[line], lens[line],
					(uint64_t)line};

		import_pipe_add(p, &l, line <= split ? a : b);
	}
	import_pipe_flush(p);
}

/* "field: error" as the ingest refuses text with. */
static const char *
ingest_says(const char *text)
{
	static char why[256];
	struct prep_ctx *c = prep_ctx_new(NULL);
	struct prep_line l = {text, strlen(text), 1};
	struct prep_peer peer = {NULL, NULL, 0, NULL};
	struct prep_row r;

	prep_row_make(c, &l, &peer, &r);
	assert_false(r.ok);
	snprintf(why, sizeof(why), "%s: %s", r.field, r.error);
	prep_row_clear(&r);
	prep_ctx_free(c);
	return why;
}

static void
expect(const struct told *a, const struct told *b, int split,
       enum import_outcome good)
{
	for (int line = 1; line <= NL; line++) {
		const struct told *t = line <= split ? a : b,
				  *other = line <= split ? b : a;
		bool bad = line == 4 || line == 11 || line == NL;

		assert_int_equal(t->times[line], 1);
		assert_int_equal(other->times[line], 0);
		assert_int_equal(t->what[line],
				 1 + (int)(bad ? IMPORT_REFUSED : good));
	}
	assert_non_null(strstr(a->why[4], "not JSON"));
	assert_string_equal((11 <= split ? a : b)->why[11], ingest_says("{}"));
}

static void
check_with(int threads, size_t batch)
{
	static struct told a, b;
	char dir[64], err[256], *raw;
	struct store *st = fresh_store(dir, sizeof(dir));
	struct import_pipe *p =
		import_pipe_new(st, NULL, threads, batch, on_row);
	size_t len;

	run(p, &a, &b, 9);
	expect(&a, &b, 9, IMPORT_STORED);
	assert_false(import_pipe_failed(p, NULL));
	run(p, &a, &b, 15);
	expect(&a, &b, 15, IMPORT_DUPLICATE);
	import_pipe_free(p);
	/* stored with the bytes it was given */
	assert_int_equal(store_get_raw(st,
				       "20261120010000.000000_CN_wallwatch_"
				       "web_bcc77568e1121a46c4eecc0a9861ada3",
				       &raw, &len, err, sizeof(err)),
			 0);
	free(raw);
	drop_store(st, dir);
}

static void
test_one_thread_batches_of_one(void **state)
{
	(void)state;
	check_with(1, 1);
}

static void
test_threads_small_batches(void **state)
{
	(void)state;
	check_with(3, 4);
}

static void
test_threads_one_batch(void **state)
{
	(void)state;
	check_with(2, 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_thread_batches_of_one),
		cmocka_unit_test(test_threads_small_batches),
		cmocka_unit_test(test_threads_one_batch),
	};
	int rc;

	prep_install_json_arena();
	load();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	for (int line = 1; line <= NL; line++)
		free(texts[line]);
	return rc;
}
