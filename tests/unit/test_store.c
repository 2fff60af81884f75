/*
 * test_store.c - the store (collector/store_sqlite.c, and with
 * WW_TEST_PG_CONNINFO set the PostgreSQL backend, collector/store_pg*.c:
 * `make unit-pg`): schema and migrations, batches and duplicates, raw round
 * trips, reanalysis, refusals and durability across a kill -9.
 *
 * store_sqlite.c is built into this test (its schema version and
 * internals), the rest linked from build/libcollector.a; the tests look
 * at its database with plain SQL. Each test gets a fresh directory under /tmp.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "util.h"
/* The schema's internals (SCHEMA_VERSION, struct store); the rest of the
 * store is linked from libcollector.a. */
#include "../../collector/store_schema.c"
#include "../../collector/store_sqlite.c"

#include "store_fixture.h"

static struct store *
open_ok(const struct fixture *f)
{
	return fx_open(f->db);
}

/* A valid measurement with a NUL-terminated raw. */
static struct store_meas
meas(const char *uid, const char *raw)
{
	struct store_meas m;

	memset(&m, 0, sizeof(m));
	m.uid = uid;
	m.raw = raw;
	m.raw_len = strlen(raw);
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
put_ok(struct store *s, const struct store_meas *v, size_t n,
       enum store_result *res)
{
	fx_put(s, v, n, res);
}

/* The one integer a query on the store's own connection returns. */
static int64_t
q_int(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v;

	if (fx_pg)
		return fx_int(s, sql);
	assert_int_equal(
		sqlite3_prepare_v2(store_sqlite_db(s), sql, -1, &st, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The one text a query returns, copied into out; "(null)" for NULL. */
static const char *
q_text(struct store *s, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *st;
	const unsigned char *t;

	if (fx_pg) {
		char *rows = fx_rows(s, sql);

		rows[strcspn(rows, "\n")] = '\0';
		snprintf(out, outlen, "%s",
			 strcmp(rows, "N") == 0 ? "(null)" : rows);
		free(rows);
		return out;
	}
	assert_int_equal(
		sqlite3_prepare_v2(store_sqlite_db(s), sql, -1, &st, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	t = sqlite3_column_text(st, 0);
	snprintf(out, outlen, "%s", t != NULL ? (const char *)t : "(null)");
	sqlite3_finalize(st);
	return out;
}

/* Run SQL on the database with a connection of our own. */
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

/* Run SQL on the store's own connection. */
static void
exec_sql(struct store *s, const char *sql)
{
	if (fx_pg)
		fx_exec(s, sql);
	else
		assert_int_equal(
			sqlite3_exec(store_sqlite_db(s), sql, NULL, NULL, NULL),
			SQLITE_OK);
}

static void
assert_raw(struct store *s, const char *uid, const char *want, size_t want_len)
{
	char err[512] = "", *raw = NULL;
	size_t len = 0;

	assert_int_equal(store_get_raw(s, uid, &raw, &len, err, sizeof(err)),
			 0);
	assert_int_equal(len, want_len);
	assert_memory_equal(raw, want, want_len);
	assert_int_equal(raw[len], '\0');
	free(raw);
}

/* --- schema -------------------------------------------------------------- */

/* The version the backend under test migrates to. */
static int
schema_version(void)
{
	return fx_pg ? store_pg_schema_version() : SCHEMA_VERSION;
}

/* PostgreSQL: what store.h and store_pg_schema.c promise of the schema
 * and the connection. */
static void
check_pg_schema(struct store *s)
{
	char buf[256];

	/* an acknowledgement waits for the commit on disk, although the
	 * test cluster's default is off */
	assert_string_equal(
		q_text(s, "SELECT current_setting('synchronous_commit')", buf,
		       sizeof(buf)),
		"on");
	assert_int_equal(q_int(s, "SELECT count(*) FROM"
				  " information_schema.columns WHERE"
				  " table_schema = current_schema() AND"
				  " table_name = 'measurements'"),
			 28);
	assert_int_equal(q_int(s,
			       "SELECT count(*) FROM"
			       " information_schema.columns WHERE"
			       " table_schema = current_schema() AND"
			       " table_name = 'measurements' AND"
			       " (column_name LIKE '%ip%' OR column_name LIKE"
			       " '%addr%')"),
			 0);
	/* partitioned by start_time; uid unique through measurement_uids */
	assert_string_equal(
		q_text(s, "SELECT pg_get_partkeydef('measurements'::regclass)",
		       buf, sizeof(buf)),
		"RANGE (start_time)");
	assert_int_equal(q_int(s, "SELECT count(*) FROM pg_indexes WHERE"
				  " schemaname = current_schema() AND"
				  " tablename = 'measurement_uids' AND indexdef"
				  " LIKE 'CREATE UNIQUE INDEX % (uid)'"),
			 1);
	assert_int_equal(
		q_int(s, "SELECT count(*) FROM pg_indexes WHERE"
			 " schemaname = current_schema() AND tablename ="
			 " 'measurements' AND indexname IN"
			 " ('measurements_target_time', 'measurements_time',"
			 " 'measurements_cc_time', 'measurements_cc')"),
		4);
	assert_string_equal(
		q_text(s,
		       "SELECT attstorage FROM pg_attribute WHERE attrelid ="
		       " 'measurements'::regclass AND attname = 'raw'",
		       buf, sizeof(buf)),
		"e");
	assert_int_equal(q_int(s,
			       "SELECT count(*) FROM"
			       " information_schema.tables WHERE"
			       " table_schema = current_schema() AND"
			       " table_name IN ('daily_counts',"
			       " 'target_state', 'events', 'stale_targets')"),
			 4);
}

static void
assert_index(struct store *s, const char *name, const char *cols)
{
	char sql[256], got[256];

	snprintf(sql, sizeof(sql),
		 "SELECT group_concat(name, ',') FROM (SELECT name FROM"
		 " pragma_index_info('%s') ORDER BY seqno)",
		 name);
	assert_string_equal(q_text(s, sql, got, sizeof(got)), cols);
}

static void
test_open_create_reopen(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_meas m = meas("uid-1", "{\"a\":1}");
	char buf[64];

	if (fx_pg) {
		check_pg_schema(s);
		goto stored;
	}
	/* the connection is set up as store.h promises */
	assert_string_equal(q_text(s, "PRAGMA journal_mode", buf, sizeof(buf)),
			    "wal");
	assert_int_equal(q_int(s, "PRAGMA synchronous"), 2); /* FULL */
	assert_int_equal(q_int(s, "PRAGMA foreign_keys"), 1);
	assert_true(q_int(s, "PRAGMA busy_timeout") > 0);

	/* the columns, uid unique, the timeline indexes, and no address */
	assert_int_equal(
		q_int(s,
		      "SELECT count(*) FROM pragma_table_info('measurements')"),
		28);
	assert_int_equal(q_int(s, "SELECT count(*) FROM"
				  " pragma_table_info('measurements')"
				  " WHERE name LIKE '%ip%'"
				  " OR name LIKE '%addr%'"),
			 0);
	assert_int_equal(q_int(s, "SELECT count(*) FROM"
				  " pragma_index_list('measurements') l,"
				  " pragma_index_info(l.name) i"
				  " WHERE l.\"unique\" = 1 AND i.name = 'uid'"),
			 1);
	assert_index(s, "measurements_target_time",
		     "input,probe_cc,probe_asn,start_time,blocking,accessible,"
		     "category_code,blocking_detail,submitter,observed_asn,"
		     "geo_mismatch,revoked,received_time");
	assert_index(s, "measurements_time", "start_time");
	assert_index(s, "measurements_cc_time", "probe_cc,start_time");
	assert_index(s, "measurements_cc", "probe_cc");
	/* the timeline tables (test_timeline.c tests what is in them) */
	assert_int_equal(q_int(s, "SELECT count(*) FROM sqlite_schema WHERE"
				  " type = 'table' AND name IN"
				  " ('daily_counts', 'target_state', 'events',"
				  " 'stale_targets')"),
			 4);
stored:
	assert_int_equal(q_int(s, "SELECT version FROM schema_version"),
			 schema_version());
	assert_int_equal(q_int(s, "SELECT count(*) FROM schema_version"), 1);
	assert_int_equal(store_count(s), 0);
	put_ok(s, &m, 1, NULL);
	/* PostgreSQL: its month's partition was made for it */
	if (fx_pg)
		assert_int_equal(q_int(s, "SELECT count(*) FROM"
					  " measurements_y2023m11"),
				 1);
	store_close(s);

	/* re-opened: nothing migrated twice, nothing lost */
	s = open_ok(f);
	assert_int_equal(q_int(s, "SELECT version FROM schema_version"),
			 schema_version());
	assert_int_equal(store_count(s), 1);
	assert_raw(s, "uid-1", "{\"a\":1}", 7);
	store_close(s);
}

static void
test_newer_schema_refused(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_meas m = meas("uid-1", "{}");
	char err[512] = "", sql[128];

	put_ok(s, &m, 1, NULL);
	store_close(s);
	snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d",
		 schema_version() + 1);
	raw_sql(f->db, sql);

	assert_null(store_open(f->db, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));
	assert_non_null(strstr(err, f->db));
	snprintf(sql, sizeof(sql), "version %d", schema_version() + 1);
	assert_non_null(strstr(err, sql));

	/* refused, and left as it was: back to our version it opens */
	snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d",
		 schema_version());
	raw_sql(f->db, sql);
	s = open_ok(f);
	assert_int_equal(store_count(s), 1);
	store_close(s);
}

static void
test_open_errors(void **state)
{
	const struct fixture *f = *state;
	char err[512] = "", path[160];
	FILE *fp;

	if (fx_pg) {
		/* no server there: a socket directory without one */
		snprintf(path, sizeof(path), "postgresql:///ww?host=%s",
			 f->dir);
		assert_null(store_open(path, err, sizeof(err)));
		assert_non_null(strstr(err, path));
		assert_non_null(strstr(err, "cannot connect"));
		/* a password is never repeated */
		snprintf(path, sizeof(path),
			 "postgresql://ww:secret@/ww?host=%s", f->dir);
		assert_null(store_open(path, err, sizeof(err)));
		assert_null(strstr(err, "secret"));
		assert_non_null(strstr(err, "postgresql://ww:***@/ww?host="));
		assert_null(store_open(path, NULL, 0));
		return;
	}
	/* a file that is not a database */
	fp = fopen(f->db, "w");
	assert_non_null(fp);
	fputs("this is not SQLite, but it is long enough to look at it.\n"
	      "this is not SQLite, but it is long enough to look at it.\n",
	      fp);
	fclose(fp);
	assert_null(store_open(f->db, err, sizeof(err)));
	assert_non_null(strstr(err, f->db));
	assert_non_null(strstr(err, "not a database"));

	/* a directory that does not exist */
	snprintf(path, sizeof(path), "%s/missing/ww.db", f->dir);
	err[0] = '\0';
	assert_null(store_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, path));

	err[0] = '\0';
	assert_null(store_open("", err, sizeof(err)));
	assert_true(err[0] != '\0');
	/* err may be NULL */
	assert_null(store_open(path, NULL, 0));
}

/* Which backend a --db names (store.c). */
static void
test_backend_choice(void **state)
{
	(void)state;
	assert_true(store_path_is_pg("postgresql://ww@db/ww"));
	assert_true(store_path_is_pg("postgres://ww@db/ww"));
	assert_true(store_path_is_pg("postgresql:dbname=ww host=/tmp"));
	assert_false(store_path_is_pg("postgres:ww"));
	assert_false(store_path_is_pg("/var/lib/wallwatch/ww.db"));
	assert_false(store_path_is_pg("ww.db"));
	assert_false(store_path_is_pg(""));
	assert_false(store_path_is_pg(NULL));
}

/* --- storing ------------------------------------------------------------- */

/* The first row's evidence and packets (store_measurements' cb). */
static int
copy_row(const struct store_row *r, void *arg)
{
	struct store_row *out = arg;

	out->evidence = r->evidence != NULL ? strdup(r->evidence) : NULL;
	out->submitter = r->submitter != NULL ? strdup(r->submitter) : NULL;
	out->packets = r->packets;
	return 1;
}

static void
test_columns(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_meas m = meas("uid-c", "{\"x\":true}");
	char buf[256];

	m.observed_cc = "HK";
	m.observed_asn = "AS9304";
	m.geo_mismatch = true;
	m.blocking = "tls";
	m.accessible = 0;
	m.blocking_detail = "tls.reset";
	m.confirmed = true;
	m.analysis_version = "1";
	m.analysis_reason = "tls_sni_filtered";
	m.evidence = "rst_injected;rst_ttl_mismatch";
	m.evidence_detail = "RST ttl 51 vs server ttl 63 on flow 3";
	m.packets = 2;
	m.submitter = "anon:AS9304:2026112301";
	m.start_time = -5; /* times are kept as given */
	m.received_time = INT64_MAX;
	put_ok(s, &m, 1, NULL);
	assert_string_equal(
		q_text(s,
		       "SELECT uid || '|' || raw_len || '|' || input || '|' ||"
		       " test_name || '|' || category_code || '|' || probe_cc ||"
		       " '|' || probe_asn || '|' || observed_cc || '|' ||"
		       " observed_asn || '|' || geo_mismatch || '|' ||"
		       " start_time || '|' || received_time || '|' || blocking"
		       " || '|' || accessible || '|' || blocking_detail || '|'"
		       " || confirmed || '|' || analysis_version || '|' ||"
		       " analysis_reason FROM measurements",
		       buf, sizeof(buf)),
		"uid-c|10|https://example.org/|wallwatch_web|NEWS|CN|AS4134|HK|"
		"AS9304|1|-5|9223372036854775807|tls|0|tls.reset|1|1|"
		"tls_sni_filtered");
	assert_string_equal(
		q_text(s,
		       "SELECT evidence || '|' || evidence_detail || '|' ||"
		       " packets FROM measurements WHERE uid = 'uid-c'",
		       buf, sizeof(buf)),
		"rst_injected;rst_ttl_mismatch|RST ttl 51 vs server ttl 63 on "
		"flow 3|2");
	/* and read back by the queries (the API's rows) */
	{
		struct store_row r;

		memset(&r, 0, sizeof(r));
		assert_int_equal(store_measurements(s, NULL, copy_row, &r, buf,
						    sizeof(buf)),
				 0);
		assert_string_equal(r.evidence,
				    "rst_injected;rst_ttl_mismatch");
		assert_int_equal(r.packets, 2);
		/* copy-store carries the submitter over */
		assert_string_equal(r.submitter, "anon:AS9304:2026112301");
		free((char *)r.evidence);
		free((char *)r.submitter);
	}
	m = meas("uid-p", "{}");
	m.packets = -1;
	{
		char err[256] = "";

		assert_int_equal(
			store_put_batch(s, &m, 1, NULL, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "packets is -1"));
	}

	/* NULLs stay NULL: accessible -1, unknown observation, no verdict */
	m = meas("uid-n", "{}");
	m.input = NULL;
	m.category_code = NULL;
	put_ok(s, &m, 1, NULL);
	assert_int_equal(
		q_int(s, "SELECT count(*) FROM measurements WHERE uid = 'uid-n'"
			 " AND input IS NULL AND category_code IS NULL"
			 " AND observed_cc IS NULL AND observed_asn IS NULL"
			 " AND blocking IS NULL AND accessible IS NULL"
			 " AND blocking_detail IS NULL AND confirmed = 0"
			 " AND geo_mismatch = 0 AND analysis_version IS NULL"
			 " AND analysis_reason IS NULL"),
		1);
	m = meas("uid-f", "{}");
	m.blocking = "false";
	m.accessible = 1;
	put_ok(s, &m, 1, NULL);
	assert_string_equal(q_text(s,
				   "SELECT blocking || accessible FROM"
				   " measurements WHERE uid = 'uid-f'",
				   buf, sizeof(buf)),
			    "false1");
	store_close(s);
}

static void
test_batch_new_and_duplicate(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_meas v[3];
	enum store_result res[3];

	v[0] = meas("uid-a", "{\"first\":\"a\"}");
	v[1] = meas("uid-b", "{\"first\":\"b\"}");
	memset(res, 0x55, sizeof(res));
	put_ok(s, v, 2, res);
	assert_int_equal(res[0], STORE_NEW);
	assert_int_equal(res[1], STORE_NEW);
	assert_int_equal(store_count(s), 2);

	/* a retry, with a new one among the old ones */
	v[0] = meas("uid-b", "{\"first\":\"b\"}");
	v[1] = meas("uid-c", "{\"first\":\"c\"}");
	v[2] = meas("uid-a", "{\"first\":\"a\"}");
	memset(res, 0x55, sizeof(res));
	put_ok(s, v, 3, res);
	assert_int_equal(res[0], STORE_DUPLICATE);
	assert_int_equal(res[1], STORE_NEW);
	assert_int_equal(res[2], STORE_DUPLICATE);
	assert_int_equal(store_count(s), 3);

	/* a uid reused with other content: a conflict, nothing changes */
	v[0] = meas("uid-b", "{\"second\":\"b\"}");
	v[1] = meas("uid-a", "{\"first\":\"a\"} ");
	v[2] = meas("uid-c", "{\"first\":\"c\"}");
	memset(res, 0x55, sizeof(res));
	put_ok(s, v, 3, res);
	assert_int_equal(res[0], STORE_CONFLICT);
	assert_int_equal(res[1], STORE_CONFLICT); /* one byte more */
	assert_int_equal(res[2], STORE_DUPLICATE);
	assert_int_equal(store_count(s), 3);
	/* neither is stored again: the first submission stays */
	assert_raw(s, "uid-a", "{\"first\":\"a\"}", 13);
	assert_raw(s, "uid-b", "{\"first\":\"b\"}", 13);

	/* an empty batch is nothing to do */
	put_ok(s, NULL, 0, NULL);
	assert_int_equal(store_count(s), 3);
	store_close(s);
}

static void
test_duplicate_within_batch(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_meas v[5];
	enum store_result res[5];

	v[0] = meas("uid-x", "{\"n\":1}");
	v[1] = meas("uid-y", "{\"n\":2}");
	v[2] = meas("uid-x", "{\"n\":1}");
	v[3] = meas("uid-x", "{\"n\":4}");
	v[4] = meas("uid-z", "{\"n\":5}");
	memset(res, 0x55, sizeof(res));
	put_ok(s, v, 5, res);
	assert_int_equal(res[0], STORE_NEW);
	assert_int_equal(res[1], STORE_NEW);
	assert_int_equal(res[2], STORE_DUPLICATE);
	assert_int_equal(res[3], STORE_CONFLICT); /* earlier in this batch */
	assert_int_equal(res[4], STORE_NEW);
	assert_int_equal(store_count(s), 3);
	assert_raw(s, "uid-x", "{\"n\":1}", 7);
	store_close(s);
}

/* Bytes that zlib cannot shrink (an LCG), with NULs among them. */
static char *
noise(size_t n)
{
	char *b = malloc(n);
	uint32_t x = 12345;

	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (char)(x >> 24);
	}
	b[n / 2] = '\0';
	return b;
}

static void
test_raw_round_trip(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	const size_t mib = 1024 * 1024;
	char *rnd = noise(mib), *text = malloc(mib),
	     *max = malloc(STORE_MAX_RAW);
	const char utf8[] = "{\"title\":\"\xe4\xb8\xad\xe6\x96\x87\"}\n";
	struct store_meas v[4];

	assert_non_null(text);
	assert_non_null(max);
	for (size_t i = 0; i < mib; i++)
		text[i] = "{\"k\": [1, 2, 3]}\n"[i % 17];
	memset(max, ' ', STORE_MAX_RAW);
	max[0] = '{';
	max[STORE_MAX_RAW - 1] = '}';
	v[0] = meas("uid-rnd", "");
	v[0].raw = rnd;
	v[0].raw_len = mib;
	v[1] = meas("uid-text", "");
	v[1].raw = text;
	v[1].raw_len = mib;
	v[2] = meas("uid-utf8", utf8);
	v[3] = meas("uid-max", "");
	v[3].raw = max;
	v[3].raw_len = STORE_MAX_RAW; /* the limit itself is allowed */
	put_ok(s, v, 4, NULL);

	assert_raw(s, "uid-rnd", rnd, mib);
	assert_raw(s, "uid-text", text, mib);
	assert_raw(s, "uid-utf8", utf8, sizeof(utf8) - 1);
	assert_raw(s, "uid-max", max, STORE_MAX_RAW);
	/* kept compressed, with the length it had */
	assert_true(q_int(s, "SELECT length(raw) FROM measurements"
			     " WHERE uid = 'uid-text'") < (int64_t)mib / 10);
	assert_int_equal(q_int(s, "SELECT raw_len FROM measurements"
				  " WHERE uid = 'uid-rnd'"),
			 mib);
	free(rnd);
	free(text);
	free(max);
	store_close(s);
}

/* Raw compressed beforehand by store_pack() (as the ingest's workers do)
 * is kept as given and reads back as the original. */
static void
test_packed_elsewhere(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_packer *p = store_packer_new();
	const char raw[] =
		"{\"measurement_uid\":\"x\",\"input\":\"a b c a b c\"}";
	struct store_meas v = meas("uid-packed", raw);
	const void *z;
	size_t zlen;
	char err[256];

	assert_int_equal(store_pack(p, raw, sizeof(raw) - 1, &z, &zlen, err,
				    sizeof(err)),
			 0);
	v.zraw = z;
	v.zraw_len = zlen;
	put_ok(s, &v, 1, NULL);
	assert_raw(s, "uid-packed", raw, sizeof(raw) - 1);
	assert_int_equal(q_int(s, "SELECT length(raw) FROM measurements"
				  " WHERE uid = 'uid-packed'"),
			 (int64_t)zlen);
	/* the packer's own limits */
	assert_int_equal(store_pack(p, raw, 0, &z, &zlen, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "not 1 to"));
	store_packer_free(p);
	store_close(s);
}

static void
test_not_found(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_meas m = meas("uid-1", "{}");
	char err[512] = "", *raw = (char *)"junk", *long_uid;
	size_t len = 99;

	put_ok(s, &m, 1, NULL);
	assert_int_equal(
		store_get_raw(s, "uid-2", &raw, &len, err, sizeof(err)), 1);
	assert_null(raw);
	assert_int_equal(len, 0);

	long_uid = malloc(STORE_MAX_FIELD + 2);
	assert_non_null(long_uid);
	memset(long_uid, 'u', STORE_MAX_FIELD + 1);
	long_uid[STORE_MAX_FIELD + 1] = '\0';
	assert_int_equal(
		store_get_raw(s, long_uid, &raw, &len, err, sizeof(err)), 1);
	assert_null(raw);
	free(long_uid);
	store_close(s);
}

static void
test_damaged_raw(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_meas m = meas("uid-1", "{\"a\":\"bcdefgh\"}");
	char err[512] = "", *raw = NULL;
	size_t len = 0;

	put_ok(s, &m, 1, NULL);
	/* a length that does not match what the blob inflates to */
	exec_sql(s, "UPDATE measurements SET raw_len = 14");
	assert_int_equal(
		store_get_raw(s, "uid-1", &raw, &len, err, sizeof(err)), -1);
	assert_null(raw);
	assert_non_null(strstr(err, "uid-1"));
	assert_non_null(strstr(err, "damaged"));
	/* longer than it inflates to */
	exec_sql(s, "UPDATE measurements SET raw_len = 16");
	err[0] = '\0';
	assert_int_equal(
		store_get_raw(s, "uid-1", &raw, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "damaged"));
	/* a blob that is not zlib at all */
	exec_sql(s, fx_pg ? "UPDATE measurements SET raw_len = 15,"
			    " raw = '\\x00112233'::bytea"
			  : "UPDATE measurements SET raw_len = 15,"
			    " raw = x'00112233'");
	err[0] = '\0';
	assert_int_equal(
		store_get_raw(s, "uid-1", &raw, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "damaged"));
	store_close(s);
}

/* --- refusals ------------------------------------------------------------ */

static char long_str[STORE_MAX_FIELD + 2];

/* A batch of a good measurement and one with field name set to too long a
 * string: refused, naming the field and the second measurement, and
 * nothing of it stored. */
static void
refuse_long(struct store *s, const char *name)
{
	struct store_meas v[2];
	const char **slot[] = {
		&v[1].uid,
		&v[1].input,
		&v[1].test_name,
		&v[1].category_code,
		&v[1].probe_cc,
		&v[1].probe_asn,
		&v[1].observed_cc,
		&v[1].observed_asn,
		&v[1].blocking,
		&v[1].blocking_detail,
		&v[1].analysis_version,
		&v[1].analysis_reason,
	};
	const char *names[] = {
		"uid",
		"input",
		"test_name",
		"category_code",
		"probe_cc",
		"probe_asn",
		"observed_cc",
		"observed_asn",
		"blocking",
		"blocking_detail",
		"analysis_version",
		"analysis_reason",
	};
	char err[512] = "", want[64];
	size_t i;

	v[0] = meas("uid-good", "{}");
	v[1] = meas("uid-bad", "{}");
	for (i = 0; i < WW_ARRAY_LEN(names); i++)
		if (strcmp(names[i], name) == 0)
			break;
	assert_true(i < WW_ARRAY_LEN(names));
	*slot[i] = long_str;
	assert_int_equal(store_put_batch(s, v, 2, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "measurement 2 of the batch: %s is ",
		 name);
	if (strstr(err, want) == NULL)
		fail_msg("%s: got \"%s\"", name, err);
	assert_int_equal(store_count(s), 0);
}

static void
refuse(struct store *s, const struct store_meas *bad, const char *want)
{
	struct store_meas v[2];
	char err[512] = "";

	v[0] = meas("uid-good", "{}");
	v[1] = *bad;
	assert_int_equal(store_put_batch(s, v, 2, NULL, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("want \"%s\", got \"%s\"", want, err);
	assert_int_equal(store_count(s), 0);
}

static void
test_refusals(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	const char *fields[] = {
		"uid",
		"input",
		"test_name",
		"category_code",
		"probe_cc",
		"probe_asn",
		"observed_cc",
		"observed_asn",
		"blocking",
		"blocking_detail",
		"analysis_version",
		"analysis_reason",
	};
	struct store_meas m;
	char *big;

	memset(long_str, 'a', STORE_MAX_FIELD + 1);
	for (size_t i = 0; i < WW_ARRAY_LEN(fields); i++)
		refuse_long(s, fields[i]);

	big = malloc(STORE_MAX_RAW + 1);
	assert_non_null(big);
	memset(big, ' ', STORE_MAX_RAW + 1);
	m = meas("uid-bad", "");
	m.raw = big;
	m.raw_len = STORE_MAX_RAW + 1;
	refuse(s, &m, "measurement 2 of the batch: raw is 16777217 bytes");
	free(big);
	m = meas("uid-bad", "");
	refuse(s, &m, "raw is missing");
	m = meas("uid-bad", "{}");
	m.probe_cc = NULL;
	refuse(s, &m, "probe_cc is missing");
	m = meas("uid-bad", "{}");
	m.probe_asn = "";
	refuse(s, &m, "probe_asn is empty");
	m = meas("", "{}");
	refuse(s, &m, "uid is empty");
	m = meas("uid-bad", "{}");
	m.blocking = "censored";
	refuse(s, &m, "blocking \"censored\" is not one of");
	m = meas("uid-bad", "{}");
	m.accessible = 2;
	refuse(s, &m, "accessible is 2");
	/* timelines need a calendar day: years 1 to 9999 */
	m = meas("uid-bad", "{}");
	m.start_time = STORE_MAX_TIME + 1;
	refuse(s, &m, "start_time 253402300800 is outside the years 1 to 9999");
	m = meas("uid-bad", "{}");
	m.start_time = STORE_MIN_TIME - 1;
	refuse(s, &m, "start_time -62135596801 is outside");

	/* at the limit is fine */
	long_str[STORE_MAX_FIELD] = '\0';
	m = meas("uid-limit", "{}");
	m.input = long_str;
	put_ok(s, &m, 1, NULL);
	m = meas("uid-first-day", "{}");
	m.start_time = STORE_MIN_TIME;
	put_ok(s, &m, 1, NULL);
	m = meas("uid-last-day", "{}");
	m.start_time = STORE_MAX_TIME;
	put_ok(s, &m, 1, NULL);
	assert_int_equal(store_count(s), 3);
	assert_int_equal(q_int(s, "SELECT count(*) FROM daily_counts WHERE"
				  " day IN ('0001-01-01', '9999-12-31')"),
			 2);
	store_close(s);
}

/* A failure inside the transaction (here a trigger, standing for a full
 * disk) undoes the whole batch, and the store keeps working. */
static void
test_failure_rolls_back(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_meas v[3];
	char err[512] = "";

	if (fx_pg)
		exec_sql(s, "CREATE FUNCTION boom() RETURNS trigger"
			    " LANGUAGE plpgsql AS $$ BEGIN IF NEW.uid ="
			    " 'uid-boom' THEN RAISE 'disk on fire'; END IF;"
			    " RETURN NEW; END $$; CREATE TRIGGER boom BEFORE"
			    " INSERT ON measurements FOR EACH ROW EXECUTE"
			    " FUNCTION boom()");
	else
		exec_sql(s, "CREATE TEMP TRIGGER boom BEFORE INSERT ON"
			    " measurements WHEN NEW.uid = 'uid-boom'"
			    " BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
	v[0] = meas("uid-1", "{}");
	v[1] = meas("uid-2", "{}");
	v[2] = meas("uid-boom", "{}");
	assert_int_equal(store_put_batch(s, v, 3, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "uid-boom"));
	assert_non_null(strstr(err, "disk on fire"));
	assert_int_equal(store_count(s), 0);
	/* no transaction left */
	if (fx_pg)
		assert_int_equal(PQtransactionStatus(store_pg_conn(s)),
				 PQTRANS_IDLE);
	else
		assert_true(sqlite3_get_autocommit(store_sqlite_db(s)));

	put_ok(s, v, 2, NULL);
	assert_int_equal(store_count(s), 2);
	store_close(s);
}

/* --- reanalysis ---------------------------------------------------------- */

struct seen {
	char uids[1024][16];
	size_t n;
	const char *version;
	bool bad;
};

/* uid-<n>: n % 3 == 1 is left alone, the others get a verdict. */
static int
reanalyze_cb(const char *uid, const char *raw, size_t len,
	     struct store_derived *out, void *arg)
{
	struct seen *sn = arg;
	static char reason[32]; /* reused: the store must copy it */
	char want[64];
	long n = strtol(uid + 4, NULL, 10);

	assert_true(sn->n < 1024);
	snprintf(sn->uids[sn->n++], sizeof(sn->uids[0]), "%s", uid);
	/* the raw comes whole, and out comes null */
	snprintf(want, sizeof(want), "{\"uid\":\"%s\"}", uid);
	assert_int_equal(len, strlen(want));
	assert_string_equal(raw, want);
	assert_null(out->blocking);
	assert_int_equal(out->accessible, -1);
	assert_false(out->confirmed);
	if (n % 3 == 1)
		return -1;
	snprintf(reason, sizeof(reason), "reason-%ld", n);
	out->blocking = sn->bad ? "maybe" : n % 3 == 0 ? "dns" : "false";
	out->accessible = n % 3 == 0 ? 0 : 1;
	out->blocking_detail = n % 3 == 0 ? "dns.injected" : NULL;
	out->confirmed = n % 3 == 0;
	out->analysis_version = sn->version;
	out->analysis_reason = reason;
	/* packet evidence: copied like the rest (reason's buffer is reused) */
	out->evidence = n % 3 == 0 ? "dns_injected;dns_ttl_mismatch" : NULL;
	out->evidence_detail = n % 3 == 0 ? reason : NULL;
	out->packets = (int)(n % 3);
	return 0;
}

/* Store uid-<k> in an order that is neither sorted by uid nor by number,
 * in batches of 100, so that received order is what the test checks. */
static void
fill(struct store *s, size_t count, long *order)
{
	struct store_meas v[100];
	static char uid[1024][16], raw[1024][48];
	size_t k = 0;

	assert_true(count <= 1024);
	for (size_t i = 0; i < count; i++) {
		order[i] = (long)((i * 389) % count);
		snprintf(uid[i], sizeof(uid[i]), "uid-%ld", order[i]);
		snprintf(raw[i], sizeof(raw[i]), "{\"uid\":\"%s\"}", uid[i]);
		v[k++] = meas(uid[i], raw[i]);
		if (k == 100 || i + 1 == count) {
			put_ok(s, v, k, NULL);
			k = 0;
		}
	}
}

static void
test_reanalyze(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	/* more than two pages, and not a multiple of one */
	const size_t count = 2 * STORE_REDO_PAGE + 7;
	static struct seen sn;
	long order[1024], updated = 0;
	char err[512] = "", sql[512], buf[256];

	fill(s, count, order);
	sn.version = "2";
	assert_int_equal(
		store_reanalyze(s, reanalyze_cb, &sn, err, sizeof(err)),
		(long)(count - (count + 1) / 3));
	/* every measurement once, in the order received */
	assert_int_equal(sn.n, count);
	for (size_t i = 0; i < count; i++) {
		snprintf(buf, sizeof(buf), "uid-%ld", order[i]);
		assert_string_equal(sn.uids[i], buf);
	}
	for (size_t i = 0; i < count; i++) {
		long n = order[i];

		snprintf(sql, sizeof(sql),
			 "SELECT coalesce(blocking, 'N') || '|' ||"
			 " coalesce(CAST(accessible AS TEXT), 'N') || '|' ||"
			 " coalesce(blocking_detail, 'N') || '|' || confirmed"
			 " || '|' || coalesce(analysis_version, 'N') || '|' ||"
			 " coalesce(analysis_reason, 'N') || '|' ||"
			 " coalesce(evidence, 'N') || '|' ||"
			 " coalesce(evidence_detail, 'N') || '|' || packets"
			 " FROM measurements WHERE uid = 'uid-%ld'",
			 n);
		q_text(s, sql, buf, sizeof(buf));
		if (n % 3 == 1) {
			assert_string_equal(buf, "N|N|N|0|N|N|N|N|0");
			continue;
		}
		updated++;
		if (n % 3 == 0)
			snprintf(sql, sizeof(sql),
				 "dns|0|dns.injected|1|2|reason-%ld|"
				 "dns_injected;dns_ttl_mismatch|reason-%ld|0",
				 n, n);
		else
			snprintf(sql, sizeof(sql),
				 "false|1|N|0|2|reason-%ld|N|N|2", n);
		assert_string_equal(buf, sql);
	}
	assert_int_equal(updated, count - (count + 1) / 3);
	/* the raw is untouched */
	assert_raw(s, "uid-5", "{\"uid\":\"uid-5\"}", 15);

	store_close(s);
}

static void
test_reanalyze_empty(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	static struct seen sn;
	char err[512] = "";

	assert_int_equal(
		store_reanalyze(s, reanalyze_cb, &sn, err, sizeof(err)), 0);
	assert_int_equal(sn.n, 0);
	store_close(s);
}

/* A value outside the verdict's vocabulary stops the reanalysis, naming
 * the measurement, and the page it was in is not written. */
static void
test_reanalyze_refuses_bad_values(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	static struct seen sn;
	long order[16];
	char err[512] = "";

	fill(s, 3, order);
	sn.version = "2";
	sn.bad = true;
	assert_int_equal(
		store_reanalyze(s, reanalyze_cb, &sn, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "blocking \"maybe\""));
	assert_non_null(strstr(err, "uid-"));
	assert_int_equal(q_int(s, "SELECT count(*) FROM measurements"
				  " WHERE analysis_version IS NOT NULL"),
			 0);
	assert_int_equal(store_reanalyze(s, NULL, NULL, err, sizeof(err)), -1);
	store_close(s);
}

/* --- durability ---------------------------------------------------------- */

/* A child stores a batch and is killed (SIGKILL) the moment
 * store_put_batch() returns, without closing; all of it must be there. */
static void
test_survives_kill(void **state)
{
	const struct fixture *f = *state;
	struct store *s;
	struct stat st;
	char wal[128];
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store_meas v[5];
		char err[512];
		static char uid[5][16];

		s = store_open(f->db, err, sizeof(err));
		if (s == NULL)
			_exit(2);
		for (int i = 0; i < 5; i++) {
			snprintf(uid[i], sizeof(uid[i]), "uid-%d", i);
			v[i] = meas(uid[i], "{\"kept\":true}");
		}
		if (store_put_batch(s, v, 5, NULL, err, sizeof(err)) != 0)
			_exit(3);
		kill(getpid(), SIGKILL);
		_exit(4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	/* the commit is in the WAL, not yet in the database file: the
	 * re-open below has to recover it from there */
	if (!fx_pg) {
		snprintf(wal, sizeof(wal), "%.100s-wal", f->db);
		assert_int_equal(stat(wal, &st), 0);
		assert_true(st.st_size > 0);
	}

	s = open_ok(f);
	assert_int_equal(store_count(s), 5);
	assert_raw(s, "uid-4", "{\"kept\":true}", 13);
	store_close(s);
}

/* Export and measurement queries honour category and state (issue 12:
 * /export ignored them). */
struct count_ctx {
	int n;
};

static int
count_row(const struct store_row *r, const char *raw, size_t len, void *arg)
{
	(void)r;
	(void)raw;
	(void)len;
	((struct count_ctx *)arg)->n++;
	return 0;
}

static int
count_meas(const struct store_row *r, void *arg)
{
	(void)r;
	((struct count_ctx *)arg)->n++;
	return 0;
}

static int
exported(struct store *s, const char *category, const char *state, int *meas_n)
{
	struct store_filter f;
	struct count_ctx c = {0}, m = {0};
	char err[512] = "";

	memset(&f, 0, sizeof(f));
	f.category = category;
	f.state = state;
	if (store_export(s, &f, count_row, &c, err, sizeof(err)) != 0 ||
	    store_measurements(s, &f, count_meas, &m, err, sizeof(err)) != 0)
		fail_msg("export: %s", err);
	*meas_n = m.n;
	return c.n;
}

static void
test_export_filters(void **state)
{
	const struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_meas v[3];
	char err[512] = "";
	int n;

	v[0] = meas("uid-news-1", "{\"n\":1}");
	v[1] = meas("uid-news-2", "{\"n\":2}");
	v[2] = meas("uid-humr", "{\"n\":3}");
	v[2].category_code = "HUMR";
	v[2].probe_asn = "AS1";
	put_ok(s, v, 3, NULL);
	assert_int_equal(exported(s, "NEWS", NULL, &n), 2);
	assert_int_equal(n, 2);
	assert_int_equal(exported(s, "HUMR", NULL, &n), 1);
	assert_int_equal(n, 1);
	assert_int_equal(exported(s, "GAME", NULL, &n), 0);
	assert_int_equal(n, 0);
	/* no verdict yet: every target is unknown */
	assert_int_equal(exported(s, NULL, STORE_STATE_UNKNOWN, &n), 3);
	assert_int_equal(n, 3);
	assert_int_equal(exported(s, NULL, STORE_STATE_BLOCKED, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(exported(s, "HUMR", STORE_STATE_UNKNOWN, &n), 1);
	assert_int_equal(n, 1);
	/* the store's own last check: a state that is none */
	{
		struct store_filter bad;
		struct count_ctx c = {0};

		memset(&bad, 0, sizeof(bad));
		bad.state = "gone";
		assert_int_equal(
			store_export(s, &bad, count_row, &c, err, sizeof(err)),
			-1);
		assert_non_null(strstr(err, "state"));
	}
	store_close(s);
}

/* PostgreSQL: a connection the server broke (a restart, a failover) is
 * made again by the next call; the one that met the break failed. */
static void
test_pg_reconnect(void **state)
{
	const struct fixture *f = *state;
	struct store *s;
	struct store_meas m = meas("uid-1", "{}");
	char sql[128];
	int pid;

	if (!fx_pg)
		skip();
	s = open_ok(f);
	put_ok(s, &m, 1, NULL);
	pid = PQbackendPID(store_pg_conn(s));
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", pid);
	fx_admin(sql);
	/* until the server has ended it (a bound only a broken test hits) */
	snprintf(sql, sizeof(sql),
		 "SELECT 1 / (count(*) = 0)::int FROM pg_stat_activity"
		 " WHERE pid = %d",
		 pid);
	for (int i = 0; i < 3000 && !fx_try(sql); i++)
		usleep(10000);
	assert_int_equal(store_count(s), -1);
	m = meas("uid-2", "{}");
	put_ok(s, &m, 1, NULL);
	assert_int_equal(store_count(s), 2);
	assert_raw(s, "uid-1", "{}", 2);
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_create_reopen, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused,
						setup, teardown),
		cmocka_unit_test(test_backend_choice),
		cmocka_unit_test_setup_teardown(test_open_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_columns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_new_and_duplicate,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_filters, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_within_batch,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_packed_elsewhere, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_damaged_raw, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_rolls_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reanalyze, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reanalyze_empty, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_reanalyze_refuses_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_survives_kill, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pg_reconnect, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
