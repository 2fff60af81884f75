/*
 * test_store_ro.c - store_open_ro() (`wallwatch-collector --read-only`),
 * against both backends (`make unit` SQLite, `make unit-pg` PostgreSQL):
 * it reads what a writer stored, and what the writer stores and changes
 * (the agreement settings) next; every write through it fails, leaving the
 * store as it was; it creates nothing (a missing SQLite file stays
 * missing, an empty database is refused saying so) and migrates nothing
 * (a schema of another version, older or newer, is refused naming it);
 * PostgreSQL: its sessions are read-only.
 *
 * Linked from build/libcollector.a.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "../../collector/store.h"
#include "store_fixture.h"

int store_sqlite_schema_version(void);

static int
schema_version(void)
{
	return fx_pg ? store_pg_schema_version()
		     : store_sqlite_schema_version();
}

static struct store *
open_rw(const struct fixture *f)
{
	char err[512] = "";
	struct store *s = store_open(f->db, err, sizeof(err));

	if (s == NULL)
		fail_msg("store_open: %s", err);
	return s;
}

static struct store *
open_ro(const struct fixture *f)
{
	char err[512] = "";
	struct store *s = store_open_ro(f->db, err, sizeof(err));

	if (s == NULL)
		fail_msg("store_open_ro: %s", err);
	return s;
}

static struct store_meas
meas(const char *uid)
{
	struct store_meas m;

	memset(&m, 0, sizeof(m));
	m.uid = uid;
	m.raw = "{}";
	m.raw_len = 2;
	m.input = "https://example.org/";
	m.test_name = "wallwatch_web";
	m.category_code = "NEWS";
	m.probe_cc = "CN";
	m.probe_asn = "AS4134";
	m.start_time = 1700000000;
	m.received_time = 1700000100;
	m.accessible = -1;
	return m;
}

static void
put(struct store *s, const char *uid)
{
	struct store_meas m = meas(uid);
	char err[512] = "";

	if (store_put_batch(s, &m, 1, NULL, err, sizeof(err)) != 0)
		fail_msg("store_put_batch: %s", err);
}

static void
raw_sql(const char *db, const char *sql)
{
	sqlite3 *h;

	if (fx_pg) {
		fx_sql(db, sql);
		return;
	}
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
}

static int
count_row(const struct store_row *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

static int
rows(struct store *s)
{
	struct store_filter f = {.limit = 1000};
	char err[512] = "";
	int n = 0;

	if (store_measurements(s, &f, count_row, &n, err, sizeof(err)) != 0)
		fail_msg("store_measurements: %s", err);
	return n;
}

/* It reads what the writer stored and changes, live; it writes nothing. */
static void
test_reads_writes_nothing(void **state)
{
	const struct fixture *f = *state;
	struct store *w = open_rw(f), *r;
	struct store_meas m = meas("uid-ro-3");
	struct store_agreement a;
	char err[512] = "";

	put(w, "uid-ro-1");
	put(w, "uid-ro-2");
	r = open_ro(f);
	assert_int_equal(store_count(r), 2);
	assert_int_equal(rows(r), 2);
	/* the writer goes on: the reader sees it without reopening */
	put(w, "uid-ro-3");
	assert_int_equal(store_count(r), 3);
	assert_int_equal(rows(r), 3);
	store_agreement_get(w, &a);
	a.min_submitters = a.min_submitters == 1 ? 2 : 1;
	assert_int_equal(store_agreement_set(w, &a, err, sizeof(err)) < 0, 0);
	store_agreement_get(r, &a);
	{
		struct store_agreement b;

		store_agreement_get(w, &b);
		assert_int_equal(a.min_submitters, b.min_submitters);
	}

	/* every write fails with the database's read-only error */
	m.uid = "uid-ro-4";
	assert_int_equal(store_put_batch(r, &m, 1, NULL, err, sizeof(err)), -1);
	if (strstr(err, "read-only") == NULL && strstr(err, "readonly") == NULL)
		fail_msg("put_batch on a read-only store: \"%s\"", err);
	a.daily_cap = a.daily_cap + 1;
	assert_int_equal(store_agreement_set(r, &a, err, sizeof(err)), -1);
	store_close(r);
	assert_int_equal(store_count(w), 3);
	store_close(w);

	if (fx_pg) {
		char *v;

		r = open_ro(f);
		v = fx_rows(r, "SHOW default_transaction_read_only");
		assert_string_equal(v, "on\n");
		free(v);
		store_close(r);
	}
}

/* Nothing is created: a missing SQLite file, an empty database. */
static void
test_creates_nothing(void **state)
{
	const struct fixture *f = *state;
	char err[512] = "";

	assert_null(store_open_ro(f->db, err, sizeof(err)));
	if (fx_pg) {
		assert_non_null(strstr(err, "no wallwatch schema there"));
	} else {
		assert_non_null(strstr(err, "creates nothing"));
		assert_int_equal(access(f->db, F_OK), -1);
		/* an empty SQLite file: the same refusal as PostgreSQL's */
		raw_sql(f->db, "CREATE TABLE other (a)");
		assert_null(store_open_ro(f->db, err, sizeof(err)));
		assert_non_null(strstr(err, "no wallwatch schema there"));
	}
	assert_null(store_open_ro(f->db, NULL, 0));
	/* and left so: a writer then makes the schema from scratch */
	store_close(open_rw(f));
	store_close(open_ro(f));
}

/* Nothing is migrated: another version, newer or older, is refused. */
static void
test_other_version_refused(void **state)
{
	const struct fixture *f = *state;
	char err[512] = "", sql[96], want[64];
	int v = schema_version();

	store_close(open_rw(f));
	for (int d = -1; d <= 1; d += 2) {
		snprintf(sql, sizeof(sql),
			 "UPDATE schema_version SET version = %d", v + d);
		raw_sql(f->db, sql);
		assert_null(store_open_ro(f->db, err, sizeof(err)));
		snprintf(want, sizeof(want), "schema is version %d", v + d);
		assert_non_null(strstr(err, want));
		snprintf(want, sizeof(want), "reads version %d only", v);
		assert_non_null(strstr(err, want));
	}
	snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d", v);
	raw_sql(f->db, sql);
	store_close(open_ro(f));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reads_writes_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_creates_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_version_refused,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
