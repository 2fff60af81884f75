/*
 * store_pg_schema.c - the schema of the PostgreSQL store: its migrations,
 * the monthly partitions of the measurements, and the statements every
 * connection prepares.
 *
 * The tables are those of the SQLite store (store_sqlite.c, schema
 * version 7), with these differences:
 *
 * - measurements is partitioned by month of start_time (declarative RANGE
 *   partitioning on unix seconds). A month's partition is made the first
 *   time a measurement of that month arrives (store_pg_partitions(), in a
 *   short transaction of its own before the batch's). Months before 2000
 *   and from 2100 on share two catch-all partitions, so that forged dates
 *   cannot make thousands of tables.
 * - A unique index of a partitioned table must hold the partition key, so
 *   "uid unique" cannot be an index of measurements: the small table
 *   measurement_uids (uid primary key, id, start_time) holds every uid
 *   once, and a measurement is stored only when its uid went in there
 *   (INSERT ... ON CONFLICT DO NOTHING, in the batch's transaction: a
 *   second collector's insert of the same uid waits for the first to
 *   commit, then is a duplicate). It also finds a row by uid or by id
 *   (whose start_time names the partition).
 * - ids come from sequences: measurements' in received order (a gap
 *   where a transaction rolled back), target_state's and events' in the
 *   order made. Events a recomputation replaces get new numbers, where
 *   SQLite may give them those of the deleted ones; every other id is as
 *   SQLite's (tests/unit/test_timeline.c, test_backends_agree).
 * - days are dates, flags smallints, and every text column is COLLATE "C"
 *   so that order and ranges (the reversed hosts of the roll-ups) are
 *   byte order, as in SQLite, whatever the database's locale.
 * - raw (zlib already, store_pack.c) is STORAGE EXTERNAL: PostgreSQL does
 *   not try to compress it again.
 * - data_version is a counter that a trigger on submitters moves (the
 *   registry's "has a key changed?"); store_submitters_guard() is done
 *   by store_pg_put_batch() itself, not a trigger.
 *
 * Migrations are versioned and append-only as SQLite's: migration i
 * brings the schema from version i to i + 1, all of them in one
 * transaction under an advisory lock (two collectors starting on one new
 * database do not both migrate it). Never edit one that has shipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_pg_int.h"
#include "timeline.h"
#include "verdict.h"

/* The advisory lock of the migrations and of making partitions (the
 * target locks are hashes: a collision would only make them wait). */
#define LOCK_SCHEMA "7752616c6c776174" /* "Wallwat" */

/* Partitions per month from 2000-01 to 2099-12. */
#define PART_FIRST_YEAR 2000
#define PART_END_YEAR 2100

#define T "text COLLATE \"C\""

static const char *const migrations[] = {
	/* 1: everything of SQLite's version 7 (docs/timelines.md). */
	"CREATE SEQUENCE measurements_id_seq;"
	"CREATE TABLE measurement_uids ("
	" uid " T " PRIMARY KEY,"
	" id bigint NOT NULL UNIQUE,"
	" start_time bigint NOT NULL);"
	"CREATE TABLE measurements ("
	" id bigint NOT NULL,"
	" uid " T " NOT NULL,"
	" raw bytea NOT NULL,"
	" raw_len integer NOT NULL CHECK (raw_len > 0),"
	" input " T ","
	" test_name " T ","
	" category_code " T ","
	" probe_cc " T " NOT NULL,"
	" probe_asn " T " NOT NULL,"
	" observed_cc " T ","
	" observed_asn " T ","
	" geo_mismatch smallint NOT NULL CHECK (geo_mismatch IN (0, 1)),"
	" start_time bigint NOT NULL,"
	" received_time bigint NOT NULL,"
	" blocking " T ","
	" accessible smallint CHECK (accessible IN (0, 1)),"
	" blocking_detail " T ","
	" confirmed smallint NOT NULL CHECK (confirmed IN (0, 1)),"
	" analysis_version " T ","
	" analysis_reason " T ","
	" submitter " T ","
	" revoked smallint NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),"
	" evidence " T ","
	" evidence_detail " T ","
	" packets integer NOT NULL DEFAULT 0 CHECK (packets >= 0),"
	" PRIMARY KEY (id, start_time)"
	") PARTITION BY RANGE (start_time);"
	"ALTER TABLE measurements ALTER COLUMN raw SET STORAGE EXTERNAL;"
	/* the timelines' index covers what a recomputation reads of each
	 * row (index-only scans); the others serve the queries' orders */
	"CREATE INDEX measurements_target_time ON measurements"
	" (input, probe_cc, probe_asn, start_time, id) INCLUDE (blocking,"
	" accessible, category_code, blocking_detail, submitter,"
	" observed_asn, geo_mismatch, revoked, received_time);"
	"CREATE INDEX measurements_time ON measurements (start_time, id);"
	"CREATE INDEX measurements_cc_time ON measurements"
	" (probe_cc, start_time, id);"
	"CREATE INDEX measurements_cc ON measurements (probe_cc, id);"
	"CREATE INDEX measurements_submitter ON measurements (submitter);"
	"CREATE TABLE measurements_before PARTITION OF measurements"
	" FOR VALUES FROM (MINVALUE) TO (946684800);"
	"CREATE TABLE measurements_after PARTITION OF measurements"
	" FOR VALUES FROM (4102444800) TO (MAXVALUE);"
	"CREATE TABLE daily_counts ("
	" input " T " NOT NULL,"
	" probe_cc " T " NOT NULL,"
	" probe_asn " T " NOT NULL,"
	" day date NOT NULL,"
	" n_ok integer NOT NULL, n_dns integer NOT NULL,"
	" n_tcp_ip integer NOT NULL, n_tls integer NOT NULL,"
	" n_http_failure integer NOT NULL, n_http_diff integer NOT NULL,"
	" n_server_side integer NOT NULL, n_down integer NOT NULL,"
	" n_failed integer NOT NULL, n_geo_mismatch integer NOT NULL,"
	" n_capped integer NOT NULL,"
	" PRIMARY KEY (input, probe_cc, probe_asn, day));"
	"CREATE TABLE target_state ("
	" id bigserial PRIMARY KEY,"
	" input " T " NOT NULL,"
	" probe_cc " T " NOT NULL,"
	" probe_asn " T " NOT NULL,"
	" host " T ","
	" rhost " T ","
	" category_code " T ","
	" category_time bigint,"
	" state " T " NOT NULL CHECK (state IN ('unknown', 'accessible',"
	"  'blocked', 'disrupted', 'down')),"
	" method " T ","
	" since bigint NOT NULL,"
	" last_tested bigint NOT NULL,"
	" n_conclusive bigint NOT NULL,"
	" last_time bigint,"
	" last_id bigint,"
	" win text NOT NULL,"
	" fresh integer NOT NULL,"
	/* the network first: the same index serves a network's targets,
	 * and no other index tempts the planner away from it for a
	 * target's key (an index on the network alone did, before the
	 * table had statistics: a scan of the network's every target) */
	" UNIQUE (probe_cc, probe_asn, input));"
	"CREATE INDEX target_state_rhost ON target_state (rhost);"
	"CREATE INDEX target_state_last_tested ON target_state (last_tested);"
	"CREATE TABLE events ("
	" id bigserial PRIMARY KEY,"
	" input " T " NOT NULL,"
	" probe_cc " T " NOT NULL,"
	" probe_asn " T " NOT NULL,"
	" time bigint NOT NULL,"
	" from_state " T " NOT NULL,"
	" to_state " T " NOT NULL,"
	" method " T ","
	" uids text NOT NULL);"
	"CREATE INDEX events_target ON events (input, probe_cc, probe_asn, id);"
	"CREATE INDEX events_time ON events (time);"
	"CREATE TABLE stale_targets ("
	" input " T " NOT NULL,"
	" probe_cc " T " NOT NULL,"
	" probe_asn " T " NOT NULL,"
	" PRIMARY KEY (input, probe_cc, probe_asn));"
	"CREATE TABLE submitter_days ("
	" input " T " NOT NULL,"
	" probe_cc " T " NOT NULL,"
	" probe_asn " T " NOT NULL,"
	" day date NOT NULL,"
	" submitter " T " NOT NULL,"
	" n integer NOT NULL,"
	" PRIMARY KEY (input, probe_cc, probe_asn, day, submitter));"
	"CREATE TABLE settings ("
	" name " T " PRIMARY KEY,"
	" value bigint NOT NULL);"
	"CREATE TABLE submitters ("
	" key_id " T " PRIMARY KEY,"
	" public_key bytea NOT NULL CHECK (length(public_key) = 32),"
	" registered bigint NOT NULL,"
	" revoked bigint,"
	" revoke_reason text);"
	/* store_data_version(): moved by every change of the keys */
	"CREATE TABLE data_version ("
	" id integer PRIMARY KEY CHECK (id = 1),"
	" v bigint NOT NULL);"
	"INSERT INTO data_version VALUES (1, 1);"
	"CREATE FUNCTION data_version_bump() RETURNS trigger"
	" LANGUAGE plpgsql AS $$ BEGIN"
	" UPDATE data_version SET v = v + 1 WHERE id = 1;"
	" RETURN NULL; END $$;"
	"CREATE TRIGGER submitters_changed AFTER INSERT OR UPDATE OR DELETE"
	" ON submitters FOR EACH STATEMENT"
	" EXECUTE FUNCTION data_version_bump();",
	/* 2: SQLite's version 8: VPN and QUIC endpoints' class "protocol"
	 * gets its daily count (no stored row is of the class). */
	"ALTER TABLE daily_counts ADD COLUMN n_protocol integer NOT NULL"
	" DEFAULT 0;",
	/* 3: SQLite's version 9: the source of each measurement (issue 16,
	 * docs/ooni-data.md); rows stored before stay NULL. */
	"ALTER TABLE measurements ADD COLUMN software_name " T ";"
	"ALTER TABLE measurements ADD COLUMN software_version " T ";"
	"ALTER TABLE measurements ADD COLUMN test_version " T ";",
	/* 4: SQLite's version 10: the class "endpoint" gets its daily
	 * count. */
	"ALTER TABLE daily_counts ADD COLUMN n_endpoint integer NOT NULL"
	" DEFAULT 0;",
	/* 5 (issue 16): SQLite's version 11, the
	 * claims of alerts (docs/alerts.md): the collector whose insert of
	 * an alert's key goes in sends it. */
	"CREATE TABLE alert_claims ("
	" key " T " PRIMARY KEY,"
	" claimed bigint NOT NULL,"
	" collector text);",
	/* 6: SQLite's version 12: the changes of a country or a network,
	 * newest first (store_network.c), and of all, by (time, id); a
	 * target's rows by input (SQLite's unique key leads with it): the
	 * cells of a country's matrix, and a target's page. */
	"CREATE INDEX events_cc_time ON events (probe_cc, time, id);"
	"CREATE INDEX events_net_time ON events"
	" (probe_cc, probe_asn, time, id);"
	"CREATE INDEX events_time_id ON events (time, id);"
	"CREATE INDEX target_state_input ON target_state (input, probe_cc);",
	/* 7 (issue 14): the fold's queue (store_pg_fold.c). A batch appends its
	 * new rows' ids here in its own transaction; the serialised updater
	 * takes them (DELETE ... RETURNING) and folds them into the daily
	 * counts and the states. No index: only whole-table deletes read it.
	 * guard: the writer asked for the revoked keys' check
	 * (store_submitters_guard()), done by the fold; batch: the transaction
	 * that stored the row (a batch's end is where the fold recomputes a
	 * target that went late in it, as the batch's own transaction did). */
	"CREATE TABLE fold_queue ("
	" id bigint NOT NULL,"
	" start_time bigint NOT NULL,"
	" guard boolean NOT NULL,"
	" batch bigint NOT NULL DEFAULT txid_current());",
};
#define SCHEMA_VERSION ((int)WW_ARRAY_LEN(migrations))

int
store_pg_schema_version(void)
{
	return SCHEMA_VERSION;
}

/* --- migrations ---------------------------------------------------------- */

static int
read_version(struct store_pg *p, int64_t *v, char *err, size_t errlen)
{
	PGresult *r =
		pg_query(p, "SELECT version FROM schema_version WHERE id = 1",
			 NULL, false, PGRES_TUPLES_OK,
			 "reading the schema version", err, errlen);

	if (r == NULL)
		return -1;
	*v = PQntuples(r) > 0 ? pg_int(r, 0, 0) : 0;
	PQclear(r);
	if (*v < 0) {
		ww_set_err(err, errlen,
			   "%s: the schema version is %lld, which no "
			   "wallwatch-collector wrote",
			   p->name, (long long)*v);
		return -1;
	}
	return 0;
}

int
store_pg_migrate(struct store_pg *p, char *err, size_t errlen)
{
	char what[64], sql[160];
	int64_t v;

	if (pg_exec(p, "BEGIN", "starting the schema check", err, errlen) !=
		    0 ||
	    pg_exec(p, "SELECT pg_advisory_xact_lock(x'" LOCK_SCHEMA "'::int8)",
		    "locking the schema", err, errlen) != 0 ||
	    pg_exec(p,
		    "CREATE TABLE IF NOT EXISTS schema_version ("
		    " id integer PRIMARY KEY CHECK (id = 1),"
		    " version integer NOT NULL)",
		    "creating schema_version", err, errlen) != 0 ||
	    read_version(p, &v, err, errlen) != 0)
		goto fail;
	if (v > SCHEMA_VERSION) {
		ww_set_err(err, errlen,
			   "%s: the database's schema is version %lld, newer "
			   "than this wallwatch-collector's (%d): use a newer "
			   "wallwatch-collector with it",
			   p->name, (long long)v, SCHEMA_VERSION);
		goto fail;
	}
	for (int i = (int)v; i < SCHEMA_VERSION; i++) {
		snprintf(what, sizeof(what),
			 "migrating the schema to version %d", i + 1);
		if (pg_exec(p, migrations[i], what, err, errlen) != 0)
			goto fail;
	}
	snprintf(sql, sizeof(sql),
		 "INSERT INTO schema_version (id, version) VALUES (1, %d)"
		 " ON CONFLICT (id) DO UPDATE SET version = excluded.version",
		 SCHEMA_VERSION);
	if (v < SCHEMA_VERSION &&
	    pg_exec(p, sql, "recording the schema version", err, errlen) != 0)
		goto fail;
	return pg_exec(p, "COMMIT", "committing the schema", err, errlen);
fail:
	pg_rollback(p);
	return -1;
}

/* A read-only collector (a replica's) can neither create nor migrate the
 * schema: it reads one that the primary's collectors made, of this very
 * version, or none. */
int
store_pg_schema_check(struct store_pg *p, char *err, size_t errlen)
{
	PGresult *r = pg_query(
		p, "SELECT to_regclass('schema_version') IS NULL", NULL, false,
		PGRES_TUPLES_OK, "looking for the schema", err, errlen);
	bool none;
	int64_t v;

	if (r == NULL)
		return -1;
	none = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (none)
		return ww_fail(err, errlen,
			       "%s: no wallwatch schema there (no "
			       "schema_version table): a read-only collector "
			       "creates nothing; start a collector on the "
			       "primary first, and let the replica catch up",
			       p->name);
	if (read_version(p, &v, err, errlen) != 0)
		return -1;
	if (v != SCHEMA_VERSION)
		return ww_fail(
			err, errlen,
			"%s: the database's schema is version %lld, "
			"this wallwatch-collector reads version %d only: "
			"a read-only collector migrates nothing; run the "
			"version of wallwatch-collector that the "
			"primary's collectors run",
			p->name, (long long)v, SCHEMA_VERSION);
	return 0;
}

/* --- partitions ---------------------------------------------------------- */

/* The month of t as year * 12 + month - 1 (UTC). */
static int64_t
month_of(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	return (int64_t)(tm.tm_year + 1900) * 12 + tm.tm_mon;
}

static int64_t
month_start(int64_t month)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)(month / 12) - 1900;
	tm.tm_mon = (int)(month % 12);
	tm.tm_mday = 1;
	return (int64_t)timegm(&tm);
}

static bool
month_known(const struct store_pg *p, int64_t month)
{
	for (size_t i = 0; i < p->nmonths; i++)
		if (p->months[i] == month)
			return true;
	return false;
}

/* One month's partition, made unless it is there, in a transaction of
 * its own (it locks the parent table, briefly). */
static int
make_partition(struct store_pg *p, int64_t month, char *err, size_t errlen)
{
	char name[64], sql[320];
	int64_t a = month_start(month), b = month_start(month + 1);
	struct pg_params pp = {0};
	PGresult *r;
	bool there;

	snprintf(name, sizeof(name), "measurements_y%04lldm%02lld",
		 (long long)(month / 12), (long long)(month % 12 + 1));
	if (pg_exec(p, "BEGIN", "making a partition", err, errlen) != 0 ||
	    pg_exec(p, "SELECT pg_advisory_xact_lock(x'" LOCK_SCHEMA "'::int8)",
		    "making a partition", err, errlen) != 0)
		goto fail;
	pp_text(&pp, name);
	r = pg_query(p, "SELECT to_regclass($1) IS NOT NULL", &pp, false,
		     PGRES_TUPLES_OK, "making a partition", err, errlen);
	if (r == NULL)
		goto fail;
	there = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE %s PARTITION OF measurements"
		 " FOR VALUES FROM (%lld) TO (%lld)",
		 name, (long long)a, (long long)b);
	if ((!there &&
	     pg_exec(p, sql, "making a partition", err, errlen) != 0) ||
	    pg_exec(p, "COMMIT", "making a partition", err, errlen) != 0)
		goto fail;
	*WW_PUSH(p->months, p->nmonths, p->capmonths) = month;
	return 0;
fail:
	pg_rollback(p);
	return -1;
}

int
store_pg_partitions(struct store_pg *p, const struct store_meas *v, size_t n,
		    char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		int64_t m = month_of(v[i].start_time);

		if (m < (int64_t)PART_FIRST_YEAR * 12 ||
		    m >= (int64_t)PART_END_YEAR * 12 || month_known(p, m))
			continue;
		if (make_partition(p, m, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* --- prepared statements ------------------------------------------------- */

/* One target's key: $1, $2, $3. */
#define KEY_IS "input = $1 AND probe_cc = $2 AND probe_asn = $3"

/* A measurement's class (docs/timelines.md) in SQL: written at prepare
 * time from verdict.h's tables (ww_classify_sql()), the one definition
 * of the classes. */
#define CLASS_SQL "@CLASS@"

/* The submitter a row counts as for agreement and the daily cap: the
 * unsigned of one network ("anon:<asn>:<hour>") are one. */
#define INDEP_SQL                                                              \
	"(CASE WHEN submitter LIKE 'anon:%' THEN 'anon:' ||"                   \
	" split_part(substr(submitter, 6), ':', 1) ELSE submitter END)"

static const char *const stmt_sql[PS_N] = {
	/* a measurement: its uid and its row at once (nothing when the
	 * uid is taken); returns the row's id, or NULL. A taken uid takes
	 * no id (as in SQLite: ids follow arrival without gaps), unless it
	 * was taken by another collector that very moment. */
	[PS_PUT] =
		"WITH u AS (INSERT INTO measurement_uids (uid, id, start_time)"
		" SELECT $1, nextval('measurements_id_seq'), $12::bigint"
		" WHERE NOT EXISTS (SELECT 1 FROM measurement_uids WHERE"
		" uid = $1) ON CONFLICT (uid) DO NOTHING RETURNING id),"
		" m AS (INSERT INTO measurements (id, uid, raw, raw_len, input,"
		" test_name, category_code, probe_cc, probe_asn, observed_cc,"
		" observed_asn, geo_mismatch, start_time, received_time,"
		" blocking, accessible, blocking_detail, confirmed,"
		" analysis_version, analysis_reason, evidence, evidence_detail,"
		" packets, submitter, software_name, software_version,"
		" test_version) SELECT id, $1::text, $2::bytea, $3::int,"
		" $4::text, $5::text, $6::text, $7::text, $8::text, $9::text,"
		" $10::text, $11::smallint, $12::bigint, $13::bigint, $14::text,"
		" $15::smallint, $16::text, $17::smallint, $18::text, $19::text,"
		" $20::text, $21::text, $22::int, $23::text, $24::text,"
		" $25::text, $26::text FROM u RETURNING id),"
		/* the fold's queue, in the same transaction */
		" q AS (INSERT INTO fold_queue (id, start_time, guard) SELECT id,"
		" $12::bigint, $27::boolean FROM u)"
		" SELECT id FROM m",
	[PS_GET_RAW] = "SELECT m.raw, m.raw_len FROM measurement_uids u"
		       " JOIN measurements m ON m.id = u.id AND"
		       " m.start_time = u.start_time WHERE u.uid = $1",
	[PS_COUNT] = "SELECT count(*) FROM measurement_uids",
	[PS_PAGE] = "SELECT id, uid, raw, raw_len, start_time FROM"
		    " measurements WHERE id > $1 ORDER BY id LIMIT $2",
	/* a reanalysed measurement's verdict, its target marked stale in
	 * the same statement; returns how many rows it updated */
	[PS_UPDATE] = "WITH u AS (UPDATE measurements SET blocking = $3,"
		      " accessible = $4::smallint, blocking_detail = $5,"
		      " confirmed = $6::smallint, analysis_version = $7,"
		      " analysis_reason = $8, evidence = $9,"
		      " evidence_detail = $10, packets = $11::int"
		      " WHERE id = $1::bigint AND start_time = $2::bigint"
		      " RETURNING input, probe_cc, probe_asn),"
		      " s AS (INSERT INTO stale_targets SELECT * FROM u"
		      " WHERE input IS NOT NULL ON CONFLICT DO NOTHING)"
		      " SELECT count(*) FROM u",
	/* a day's total so far ($4 the day) */
	[PS_DAY_GET] = "SELECT " N_SUM " FROM daily_counts d WHERE " KEY_IS
		       " AND day = $4::date",
	/* a batch's counts of a day added ($5.. $17: n_ok .. n_capped) */
	[PS_DAY_ADD] =
		"INSERT INTO daily_counts AS d (input, probe_cc,"
		" probe_asn, day, " N_COLS ") VALUES ($1, $2, $3,"
		" $4::date, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
		" $15, $16, $17) ON CONFLICT (input, probe_cc, probe_asn, day) DO"
		" UPDATE SET " N_ADD,
	/* a day's count of each submitter, up to measurement $5 ($4 the
	 * day's first second) */
	[PS_SUBDAY_ROWS] =
		"SELECT k, count(*) FROM (SELECT " INDEP_SQL
		" AS k FROM measurements WHERE " KEY_IS
		" AND start_time >= $4::bigint AND start_time <"
		" $4::bigint + 86400 AND revoked = 0 AND"
		" id <= $5::bigint" PG_NOT_QUEUED ") x WHERE k IS NOT NULL"
		" GROUP BY k",
	/* one submitter's count of a day ($5) */
	[PS_SUBDAY_ONE] = "SELECT n FROM submitter_days WHERE " KEY_IS
			  " AND day = $4::date AND submitter = $5",
	[PS_SUBDAY_SET] = "INSERT INTO submitter_days (input, probe_cc,"
			  " probe_asn, day, submitter, n) VALUES ($1, $2, $3,"
			  " $4::date, $5, $6) ON CONFLICT (input, probe_cc,"
			  " probe_asn, day, submitter) DO UPDATE SET"
			  " n = excluded.n",
	[PS_STATE_GET] = "SELECT state, method, since, last_tested,"
			 " n_conclusive, last_time, last_id, win,"
			 " category_code, category_time, id, fresh"
			 " FROM target_state WHERE " KEY_IS,
	[PS_STATE_PUT] =
		"INSERT INTO target_state (input, probe_cc, probe_asn, host,"
		" rhost, category_code, category_time, state, method, since,"
		" last_tested, n_conclusive, last_time, last_id, win, fresh)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
		" $13, $14, $15, $16) ON CONFLICT (input, probe_cc, probe_asn)"
		" DO UPDATE SET category_code = excluded.category_code,"
		" category_time = excluded.category_time,"
		" state = excluded.state, method = excluded.method,"
		" since = excluded.since, last_tested = excluded.last_tested,"
		" n_conclusive = excluded.n_conclusive,"
		" last_time = excluded.last_time, last_id = excluded.last_id,"
		" win = excluded.win, fresh = excluded.fresh",
	/* a known target, by id: its id stays (an upsert would take a new
	 * number from the sequence each time) */
	[PS_STATE_UPD] = "UPDATE target_state SET host = $4, rhost = $5,"
			 " category_code = $6, category_time = $7, state = $8,"
			 " method = $9, since = $10, last_tested = $11,"
			 " n_conclusive = $12, last_time = $13, last_id = $14,"
			 " win = $15, fresh = $16 WHERE id = $17 AND " KEY_IS,
	[PS_EVENT_ADD] = "INSERT INTO events (input, probe_cc, probe_asn,"
			 " time, from_state, to_state, method, uids) VALUES"
			 " ($1, $2, $3, $4, $5, $6, $7, $8)",
	[PS_KEY_ROWS] = "SELECT id, start_time, blocking, accessible,"
			" category_code, blocking_detail, submitter,"
			" received_time, geo_mismatch, revoked FROM"
			" measurements WHERE " KEY_IS PG_NOT_QUEUED
			/* $4: rows of a fold that it has not reached yet */
			" AND id <> ALL ($4::bigint[]) ORDER BY start_time, id",
	[PS_KEY_EVENTS] = "SELECT id, time, from_state, to_state, method,"
			  " uids FROM events WHERE " KEY_IS " ORDER BY id",
	[PS_EVENTS_CUT] = "DELETE FROM events WHERE " KEY_IS " AND id >= $4",
	[PS_STALE_NEXT] = "SELECT input, probe_cc, probe_asn FROM"
			  " stale_targets ORDER BY 1, 2, 3 LIMIT $1",
	[PS_STALE_DEL] = "DELETE FROM stale_targets WHERE " KEY_IS,
	[PS_KEYS_NEXT] = "SELECT DISTINCT input, probe_cc, probe_asn FROM"
			 " measurements WHERE input IS NOT NULL AND"
			 " (input, probe_cc, probe_asn) > ($1, $2, $3)"
			 " ORDER BY 1, 2, 3 LIMIT $4",
	/* $4, $5: the first and last day */
	[PS_PCT] =
		"SELECT day::text, n_dns + n_tcp_ip + n_tls +"
		" n_http_failure + n_http_diff + n_server_side + n_protocol +"
		" n_endpoint, n_ok + n_dns + n_tcp_ip + n_tls +"
		" n_http_failure + n_http_diff + n_server_side + n_protocol +"
		" n_endpoint + n_down FROM"
		" daily_counts WHERE " KEY_IS
		" AND day >= $4::date AND day <= $5::date",
	[PS_NEWEST] = "SELECT max(start_time) FROM measurements",
	[PS_SUBDAY_DEL_DAY] = "DELETE FROM submitter_days WHERE " KEY_IS
			      " AND day = $4::date",
	[PS_SUBDAY_DEL_KEY] = "DELETE FROM submitter_days WHERE " KEY_IS,
	[PS_SUBDAY_KEY] =
		"INSERT INTO submitter_days (input, probe_cc,"
		" probe_asn, day, submitter, n) SELECT $1, $2, $3,"
		" d, k, count(*) FROM (SELECT " PG_DAY(
			"start_time") " AS d, " INDEP_SQL
				      " AS k FROM measurements WHERE " KEY_IS
				      " AND revoked = 0" PG_NOT_QUEUED
				      ") x WHERE k IS NOT NULL"
				      " GROUP BY d, k",
	[PS_DAILY_DEL_KEY] = "DELETE FROM daily_counts WHERE " KEY_IS,
	/* $4 the daily cap, $5 whether geo-mismatched rows count */
	[PS_DAILY_KEY] =
		"INSERT INTO daily_counts (input, probe_cc, probe_asn, day,"
		" " N_COLS ") SELECT $1, $2, $3, d,"
		" count(*) FILTER (WHERE c = 0), count(*) FILTER (WHERE c = 1),"
		" count(*) FILTER (WHERE c = 2), count(*) FILTER (WHERE c = 3),"
		" count(*) FILTER (WHERE c = 4), count(*) FILTER (WHERE c = 5),"
		" count(*) FILTER (WHERE c = 6), count(*) FILTER (WHERE c = 7),"
		" count(*) FILTER (WHERE c = 8), count(*) FILTER (WHERE c = 9),"
		" count(*) FILTER (WHERE c = 10), count(*) FILTER (WHERE c = 11),"
		" count(*) FILTER (WHERE c = 12) FROM (SELECT d, CASE WHEN"
		" $4::int > 0 AND k IS NOT NULL AND rn > $4::int THEN 12"
		" WHEN geo_mismatch = 1 AND $5::int = 0 THEN 11 ELSE c END AS c"
		" FROM (SELECT " PG_DAY(
			"start_time") " AS d, " CLASS_SQL " AS c, " INDEP_SQL
				      " AS k, geo_mismatch, row_number() OVER"
				      " (PARTITION BY " PG_DAY(
					      "start_time") ", " INDEP_SQL
							    " ORDER BY id) AS rn FROM measurements WHERE " KEY_IS
							    " AND revoked = 0" PG_NOT_QUEUED
							    ") x) y GROUP BY d",
	[PS_STATE_DEL] = "DELETE FROM target_state WHERE " KEY_IS,
};
/* PS_DAILY_KEY spells the counts' numbers out: N_COLS's order */
_Static_assert(TL_COUNT_GEO_MISMATCH == 11 && TL_COUNT_CAPPED == 12,
	       "PS_DAILY_KEY counts classes 0-10, then 11 and 12");

static const char *const stmt_names[PS_N] = {
	[PS_PUT] = "put",
	[PS_GET_RAW] = "get_raw",
	[PS_COUNT] = "count",
	[PS_PAGE] = "page",
	[PS_UPDATE] = "update",
	[PS_DAY_GET] = "day_get",
	[PS_DAY_ADD] = "day_add",
	[PS_SUBDAY_ROWS] = "subday_rows",
	[PS_SUBDAY_ONE] = "subday_one",
	[PS_SUBDAY_SET] = "subday_set",
	[PS_STATE_GET] = "state_get",
	[PS_STATE_PUT] = "state_put",
	[PS_STATE_UPD] = "state_upd",
	[PS_EVENT_ADD] = "event_add",
	[PS_KEY_ROWS] = "key_rows",
	[PS_KEY_EVENTS] = "key_events",
	[PS_EVENTS_CUT] = "events_cut",
	[PS_STALE_NEXT] = "stale_next",
	[PS_STALE_DEL] = "stale_del",
	[PS_KEYS_NEXT] = "keys_next",
	[PS_PCT] = "pct",
	[PS_NEWEST] = "newest",
	[PS_SUBDAY_DEL_DAY] = "subday_del_day",
	[PS_SUBDAY_DEL_KEY] = "subday_del_key",
	[PS_SUBDAY_KEY] = "subday_key",
	[PS_DAILY_DEL_KEY] = "daily_del_key",
	[PS_DAILY_KEY] = "daily_key",
	[PS_STATE_DEL] = "state_del",
};

const char *store_pg_stmt_name(enum pg_stmt_id id);

const char *
store_pg_stmt_name(enum pg_stmt_id id)
{
	return stmt_names[id];
}

/* sql with @CLASS@ replaced by the classes' SQL; the caller frees it. */
static char *
with_classes(const char *sql)
{
	const char *at = strstr(sql, CLASS_SQL);
	char cls[512];

	if (at == NULL)
		return xstrdup(sql);
	if (ww_classify_sql(cls, sizeof(cls)) == 0)
		abort(); /* a bug: 512 bytes hold it */
	return xasprintf("%.*s%s%s", (int)(at - sql), sql, cls,
			 at + strlen(CLASS_SQL));
}

int
store_pg_prepare(struct store_pg *p, char *err, size_t errlen)
{
	for (int i = 0; i < PS_N; i++) {
		char *sql = with_classes(stmt_sql[i]);
		PGresult *r = PQprepare(p->conn, stmt_names[i], sql, 0, NULL);
		char what[64];

		free(sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			snprintf(what, sizeof(what), "preparing %s",
				 stmt_names[i]);
			pg_fail(p, r, what, err, errlen);
			PQclear(r);
			return -1;
		}
		PQclear(r);
	}
	return 0;
}
