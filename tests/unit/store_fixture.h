/*
 * store_fixture.h - a cmocka fixture for the store's tests, for both
 * backends: a fresh temporary directory (removed afterwards with whatever
 * SQLite left there: -wal, -shm) and a fresh database in f->db.
 *
 * SQLite (the default): f->db is a file in that directory. PostgreSQL:
 * when WW_TEST_PG_CONNINFO is set (a libpq URI, as tests/pg/pgtmp.sh
 * prints; `make unit-pg`), f->db is that database with a schema of its
 * own for each test (search_path), dropped at the end: the tests run on
 * a fresh, empty database each without a CREATE DATABASE each.
 *
 * fx_pg says which; fx_rows(), fx_int() and fx_exec() run SQL on a
 * PostgreSQL store's own connection (the tests' q_int() and friends call
 * them when fx_pg). Include after cmocka.h.
 */
#ifndef WW_STORE_FIXTURE_H
#define WW_STORE_FIXTURE_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

struct fixture {
	char dir[64];
	char db[512];
	char schema[64]; /* PostgreSQL: this test's */
};

/* Whether the tests run against PostgreSQL (WW_TEST_PG_CONNINFO). */
static bool fx_pg;

/* collector/store_pg.c, store_pg_schema.c, store_pg_timeline.c */
struct store_pg;
PGconn *store_pg_conn(struct store *s);
int store_pg_schema_version(void);
int store_pg_tl_rebuild_all(struct store_pg *p, char *err, size_t errlen);
/* collector/store_pg_batch.c: batches of this many or more go by COPY */
extern size_t store_pg_bulk_min;
/* collector/store_pg_fold.c: the fold thread (off in the tests: a fold
 * runs at a read, or here before the tests look at the tables) */
extern bool store_pg_fold_async;
int store_pg_fold_pending(struct store_pg *p, char *err, size_t errlen);

/* The store at db (a path or a conninfo), or the test fails saying why. */
static inline struct store *
fx_open(const char *db)
{
	char err[512] = "";
	struct store *s = store_open(db, err, sizeof(err));

	if (s == NULL)
		fail_msg("store_open: %s", err);
	return s;
}

/* store_put_batch() of v[0..n-1] (res may be NULL), or the test fails
 * saying why. */
static inline void
fx_put(struct store *s, const struct store_meas *v, size_t n,
       enum store_result *res)
{
	char err[512] = "";

	if (store_put_batch(s, v, n, res, err, sizeof(err)) != 0)
		fail_msg("store_put_batch: %s", err);
}

/* Fold what s's batches queued (reads do so themselves), as a collector
 * would have by now: the tables are then what the tests look at. */
static inline void
fx_fold(struct store *s)
{
	char err[512] = "";

	if (store_pg_fold_pending((struct store_pg *)s, err, sizeof(err)) != 0)
		fail_msg("folding: %s", err);
}

/* Recompute every target of a PostgreSQL store (a struct store_pg begins
 * with its struct store). */
static inline int
fx_rebuild_all(struct store *s)
{
	return store_pg_tl_rebuild_all((struct store_pg *)s, NULL, 0);
}

/* Run sql on a connection of our own to db (a store's path:
 * "postgresql:..."); fails the test unless it succeeds. */
static inline void
fx_sql(const char *db, const char *sql)
{
	/* "postgresql:KEY=VALUE ..." is libpq's keywords after the prefix */
	PGconn *c = PQconnectdb(strncmp(db, "postgresql:", 11) == 0 &&
						strncmp(db + 11, "//", 2) != 0
					? db + 11
					: db);
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("%s: %s", db, PQerrorMessage(c));
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/* Whether sql succeeds on the cluster's database (WW_TEST_PG_CONNINFO). */
static inline bool
fx_try(const char *sql)
{
	PGconn *c = PQconnectdb(getenv("WW_TEST_PG_CONNINFO"));
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK ||
		  PQresultStatus(r) == PGRES_COMMAND_OK;

	PQclear(r);
	PQfinish(c);
	return ok;
}

/* sql on the cluster's database itself (WW_TEST_PG_CONNINFO). */
static inline void
fx_admin(const char *sql)
{
	fx_sql(getenv("WW_TEST_PG_CONNINFO"), sql);
}

/* A database of its own named name: for SQLite a file in f->dir; for
 * PostgreSQL a schema (made here) in out. */
static inline void
fx_db(const struct fixture *f, const char *name, char *out, size_t outlen)
{
	const char *ci = getenv("WW_TEST_PG_CONNINFO");
	char sql[160];

	if (!fx_pg) {
		snprintf(out, outlen, "%s/%s", f->dir, name);
		return;
	}
	char id[64];

	/* a schema's name: what name has of letters and digits */
	snprintf(id, sizeof(id), "%s", name);
	for (char *c = id; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
			*c = '_';
	name = id;
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s%s", f->schema, name);
	fx_admin(sql);
	/* a URI takes options=-csearch_path%3DX, keywords options='-c...' */
	if (strncmp(ci, "postgresql://", 13) == 0 ||
	    strncmp(ci, "postgres://", 11) == 0)
		snprintf(out, outlen, "%s%coptions=-csearch_path%%3D%s%s", ci,
			 strchr(ci, '?') != NULL ? '&' : '?', f->schema, name);
	else
		snprintf(out, outlen,
			 "postgresql:%s options='-csearch_path=%s%s'", ci,
			 f->schema, name);
}

static int
setup(void **state)
{
	static int serial;
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fx_pg = getenv("WW_TEST_PG_CONNINFO") != NULL &&
		*getenv("WW_TEST_PG_CONNINFO") != '\0';
	/* WW_TEST_PG_BULK_MIN=1: every batch by COPY (`make unit-pg` runs
	 * the suite so as well), not only the large ones */
	if (fx_pg && getenv("WW_TEST_PG_BULK_MIN") != NULL)
		store_pg_bulk_min = (size_t)atol(getenv("WW_TEST_PG_BULK_MIN"));
	store_pg_fold_async = false;
	snprintf(f->dir, sizeof(f->dir), "/tmp/ww_test_store_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->schema, sizeof(f->schema), "wwt_%d_%d_", (int)getpid(),
		 ++serial);
	fx_db(f, fx_pg ? "main" : "ww.db", f->db, sizeof(f->db));
	*state = f;
	return 0;
}

/* The directory holds only files (the database, its -wal and -shm). */
static int
teardown(void **state)
{
	struct fixture *f = *state;
	DIR *d = opendir(f->dir);
	struct dirent *e;
	char path[384];

	if (fx_pg) {
		/* every schema this test made */
		char sql[512];

		snprintf(sql, sizeof(sql),
			 "DO $$ DECLARE n text; BEGIN FOR n IN SELECT"
			 " nspname FROM pg_namespace WHERE left(nspname, %zu)"
			 " = '%s' LOOP EXECUTE 'DROP SCHEMA ' || n ||"
			 " ' CASCADE'; END LOOP; END $$",
			 strlen(f->schema), f->schema);
		fx_admin(sql);
	}
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", f->dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	assert_int_equal(rmdir(f->dir), 0);
	free(f);
	return 0;
}

/* The rows of sql on s's PostgreSQL connection: columns joined by '|',
 * rows ended by '\n', NULL as "N"; the caller frees it. */
static inline char *
fx_rows(struct store *s, const char *sql)
{
	PGresult *r;
	size_t len = 1, n = 0;
	char *out;

	fx_fold(s);
	r = PQexec(store_pg_conn(s), sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	for (int i = 0; i < PQntuples(r); i++)
		for (int j = 0; j < PQnfields(r); j++)
			len += (size_t)PQgetlength(r, i, j) + 2;
	out = malloc(len);
	assert_non_null(out);
	out[0] = '\0';
	for (int i = 0; i < PQntuples(r); i++)
		for (int j = 0; j < PQnfields(r); j++) {
			const char *v = PQgetisnull(r, i, j)
						? "N"
						: PQgetvalue(r, i, j);

			n += (size_t)snprintf(out + n, len - n, "%s%s", v,
					      j + 1 < PQnfields(r) ? "|"
								   : "\n");
		}
	PQclear(r);
	return out;
}

/* The one integer sql returns (its first row, first column). */
static inline int64_t
fx_int(struct store *s, const char *sql)
{
	PGresult *r;
	int64_t v;

	fx_fold(s);
	r = PQexec(store_pg_conn(s), sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

static inline void
fx_exec(struct store *s, const char *sql)
{
	PGresult *r;

	fx_fold(s);
	r = PQexec(store_pg_conn(s), sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
}

/* Skip a test that is about SQLite itself (its files, pragmas, query
 * plans, its old schema versions). */
#define FX_SQLITE_ONLY()                                                       \
	do {                                                                   \
		if (fx_pg)                                                     \
			skip();                                                \
	} while (0)

#endif
