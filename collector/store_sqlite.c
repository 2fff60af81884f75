/*
 * store_sqlite.c - the SQLite backend of store.h, the embedded default.
 *
 * Durability: WAL with synchronous=FULL, so every COMMIT is fsync'ed to the
 * WAL before store_put_batch() returns; a kill -9 or a power cut after the
 * ingest's acknowledgement loses nothing. Raw measurements are kept
 * verbatim, zlib-compressed, with their length so that reading them back
 * can check they came out whole.
 *
 * The schema is brought up to date by the migrations below, one
 * transaction for all of them; the schema_version table says how far a
 * database is. A database from newer code is refused rather than guessed
 * at.
 *
 * Hot statements are prepared once, at open, and reused.
 *
 * This file opens, writes and reanalyses; the read-side queries are in
 * store_query.c, the timelines in store_timeline.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#define ZLIB_CONST /* next_in is const */
#include <zlib.h>

#include "store.h"
#include "store_sqlite_int.h"
#include "target.h"
#include "util.h"

/* How long a write waits for another process's write lock (a reanalysis
 * or an export of the same database, a backup, a checkpoint): long enough
 * to ride out such a transaction on a busy machine, where 5 s was not
 * (the ingest writer gave up and the probes had to send again), short
 * enough that a stuck one shows up as an error. Only the ingest writer and
 * the offline commands write; WAL readers never wait for it. Meanwhile the
 * ingest queue's bound answers new POSTs 503 with Retry-After. */
#define BUSY_TIMEOUT_MS 60000
/* Measurements read and rewritten per reanalysis transaction. */
#define REANALYZE_PAGE 256

/*
 * Migration i (from 0) brings the schema from version i to i + 1; the
 * schema version is the number of migrations. Never edit one that has
 * shipped: add another.
 *
 * There is no column for the submitter's IP address, and there must never
 * be one: only the country and network the collector mapped it to.
 */
static const char *const migrations[] = {
	/* 1: measurements, with the indexes of the timeline queries:
	 * per target and network over time, all over time, per country. */
	"CREATE TABLE measurements ("
	" id INTEGER PRIMARY KEY,"
	" uid TEXT NOT NULL UNIQUE,"
	" raw BLOB NOT NULL,"
	" raw_len INTEGER NOT NULL CHECK (raw_len > 0),"
	" input TEXT,"
	" test_name TEXT,"
	" category_code TEXT,"
	" probe_cc TEXT NOT NULL,"
	" probe_asn TEXT NOT NULL,"
	" observed_cc TEXT,"
	" observed_asn TEXT,"
	" geo_mismatch INTEGER NOT NULL CHECK (geo_mismatch IN (0, 1)),"
	" start_time INTEGER NOT NULL,"
	" received_time INTEGER NOT NULL,"
	" blocking TEXT,"
	" accessible INTEGER CHECK (accessible IN (0, 1)),"
	" blocking_detail TEXT,"
	" confirmed INTEGER NOT NULL CHECK (confirmed IN (0, 1)),"
	" analysis_version TEXT,"
	" analysis_reason TEXT"
	") STRICT;"
	"CREATE INDEX measurements_target_time ON measurements"
	" (input, probe_cc, probe_asn, start_time);"
	"CREATE INDEX measurements_time ON measurements (start_time);"
	"CREATE INDEX measurements_cc_time ON measurements"
	" (probe_cc, start_time);",
	/* 2: timelines (docs/timelines.md). The target index also covers
	 * the verdict and the category, so that hourly timelines and
	 * recomputations never read the rows (whose raw comes first: reading
	 * a later column walks its pages); measurements_cc lists a country's
	 * by id. Daily counts; one state per target, with the host of its
	 * input (and the host reversed, indexed: a domain and its
	 * subdomains are one range of it); the events; every target is
	 * marked stale, which store_open() then recomputes from its
	 * measurements. The host is kept per target, not per measurement:
	 * adding it to the rows of a version 1 database would rewrite all of
	 * them, raw included. */
	"CREATE INDEX measurements_cc ON measurements (probe_cc);"
	"DROP INDEX measurements_target_time;"
	"CREATE INDEX measurements_target_time ON measurements"
	" (input, probe_cc, probe_asn, start_time, blocking, accessible,"
	" category_code);"
	"CREATE TABLE daily_counts ("
	" input TEXT NOT NULL,"
	" probe_cc TEXT NOT NULL,"
	" probe_asn TEXT NOT NULL,"
	" day TEXT NOT NULL,"
	" n_ok INTEGER NOT NULL,"
	" n_dns INTEGER NOT NULL,"
	" n_tcp_ip INTEGER NOT NULL,"
	" n_tls INTEGER NOT NULL,"
	" n_http_failure INTEGER NOT NULL,"
	" n_http_diff INTEGER NOT NULL,"
	" n_down INTEGER NOT NULL,"
	" n_failed INTEGER NOT NULL,"
	" PRIMARY KEY (input, probe_cc, probe_asn, day)"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE target_state ("
	" id INTEGER PRIMARY KEY,"
	" input TEXT NOT NULL,"
	" probe_cc TEXT NOT NULL,"
	" probe_asn TEXT NOT NULL,"
	" host TEXT,"
	" rhost TEXT,"
	" category_code TEXT,"
	" category_time INTEGER,"
	" state TEXT NOT NULL CHECK (state IN ('unknown', 'accessible',"
	"  'blocked', 'disrupted', 'down')),"
	" method TEXT,"
	" since INTEGER NOT NULL,"
	" last_tested INTEGER NOT NULL,"
	" n_conclusive INTEGER NOT NULL,"
	" last_time INTEGER,"
	" last_id INTEGER,"
	" win TEXT NOT NULL,"
	" fresh INTEGER NOT NULL,"
	" UNIQUE (input, probe_cc, probe_asn)"
	") STRICT;"
	"CREATE INDEX target_state_rhost ON target_state (rhost);"
	"CREATE INDEX target_state_cc ON target_state (probe_cc, probe_asn);"
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY,"
	" input TEXT NOT NULL,"
	" probe_cc TEXT NOT NULL,"
	" probe_asn TEXT NOT NULL,"
	" time INTEGER NOT NULL,"
	" from_state TEXT NOT NULL,"
	" to_state TEXT NOT NULL,"
	" method TEXT,"
	" uids TEXT NOT NULL"
	") STRICT;"
	"CREATE INDEX events_target ON events (input, probe_cc, probe_asn);"
	"CREATE INDEX events_time ON events (time);"
	"CREATE TABLE stale_targets ("
	" input TEXT NOT NULL,"
	" probe_cc TEXT NOT NULL,"
	" probe_asn TEXT NOT NULL,"
	" PRIMARY KEY (input, probe_cc, probe_asn)"
	") STRICT, WITHOUT ROWID;"
	"INSERT INTO stale_targets SELECT DISTINCT input, probe_cc, probe_asn"
	" FROM measurements WHERE input IS NOT NULL;",
	/* 3: withholding by the site (http-diff with http.server_side) is
	 * its own class, "server-side" (docs/timelines.md). The class needs
	 * blocking_detail, so the target index covers it too; the daily
	 * counts get n_server_side; every target is marked stale, so that
	 * store_open() derives the counts, states and events of stored data
	 * again with the new class (the verdicts themselves do not change). */
	"DROP INDEX measurements_target_time;"
	"CREATE INDEX measurements_target_time ON measurements"
	" (input, probe_cc, probe_asn, start_time, blocking, accessible,"
	" category_code, blocking_detail);"
	"ALTER TABLE daily_counts ADD COLUMN n_server_side INTEGER NOT NULL"
	" DEFAULT 0;"
	"INSERT OR IGNORE INTO stale_targets SELECT DISTINCT input, probe_cc,"
	" probe_asn FROM measurements WHERE input IS NOT NULL;",
	/* 4: who submitted (docs/timelines.md, "Agreement"). submitter is
	 * the id the ingest gave the batch: "key:<key id>" for a batch signed
	 * by a registered key, "anon:<observed network>:<UTC hour received>"
	 * for an unsigned one; NULL for rows stored before this version
	 * (counted as one anonymous submitter each, by uid). revoked: the
	 * submitting key was revoked; the row is kept, flagged, and left out
	 * of the timelines. submitters: the registered public keys (raw
	 * Ed25519, 32 bytes); a key is never deleted, only revoked. The target
	 * index covers what the timelines now need of each row, and every
	 * target is marked stale so that store_open() recomputes it. */
	"ALTER TABLE measurements ADD COLUMN submitter TEXT;"
	"ALTER TABLE measurements ADD COLUMN revoked INTEGER NOT NULL"
	" DEFAULT 0 CHECK (revoked IN (0, 1));"
	"CREATE INDEX measurements_submitter ON measurements (submitter);"
	"DROP INDEX measurements_target_time;"
	"CREATE INDEX measurements_target_time ON measurements"
	" (input, probe_cc, probe_asn, start_time, blocking, accessible,"
	" category_code, blocking_detail, submitter, observed_asn,"
	" geo_mismatch, revoked);"
	"CREATE TABLE submitters ("
	" key_id TEXT PRIMARY KEY,"
	" public_key BLOB NOT NULL CHECK (length(public_key) = 32),"
	" registered INTEGER NOT NULL,"
	" revoked INTEGER,"
	" revoke_reason TEXT"
	") STRICT;"
	"INSERT OR IGNORE INTO stale_targets SELECT DISTINCT input, probe_cc,"
	" probe_asn FROM measurements WHERE input IS NOT NULL;",
	/* 5: agreement (docs/timelines.md, "Agreement"). The target index
	 * also covers received_time: how long one submitter has reported
	 * something is measured on the collector's clock, which a submitter
	 * cannot set. The daily counts count apart the measurements of a
	 * submitter beyond its daily cap (n_capped) and those whose claimed
	 * network is not the observed one (n_geo_mismatch); submitter_days
	 * holds how many each submitter sent per target and day, for the cap.
	 * settings: the agreement settings of this database (absent: the
	 * defaults). The window kept in target_state.win changes form, so
	 * every target is marked stale and recomputed. */
	"DROP INDEX measurements_target_time;"
	"CREATE INDEX measurements_target_time ON measurements"
	" (input, probe_cc, probe_asn, start_time, blocking, accessible,"
	" category_code, blocking_detail, submitter, observed_asn,"
	" geo_mismatch, revoked, received_time);"
	"ALTER TABLE daily_counts ADD COLUMN n_geo_mismatch INTEGER NOT NULL"
	" DEFAULT 0;"
	"ALTER TABLE daily_counts ADD COLUMN n_capped INTEGER NOT NULL"
	" DEFAULT 0;"
	"CREATE TABLE submitter_days ("
	" input TEXT NOT NULL,"
	" probe_cc TEXT NOT NULL,"
	" probe_asn TEXT NOT NULL,"
	" day TEXT NOT NULL,"
	" submitter TEXT NOT NULL,"
	" n INTEGER NOT NULL,"
	" PRIMARY KEY (input, probe_cc, probe_asn, day, submitter)"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE settings ("
	" name TEXT PRIMARY KEY,"
	" value INTEGER NOT NULL"
	") STRICT;"
	"INSERT OR IGNORE INTO stale_targets SELECT DISTINCT input, probe_cc,"
	" probe_asn FROM measurements WHERE input IS NOT NULL;",
	/* 6: agreement by a majority of keyed submitters (docs/timelines.md,
	 * "Agreement"): target_state.win also keeps the latest word of the
	 * keyed submitters heard last, so every target is marked stale and
	 * recomputed (a window of the old form reads as damaged). */
	"INSERT OR IGNORE INTO stale_targets SELECT DISTINCT input, probe_cc,"
	" probe_asn FROM measurements WHERE input IS NOT NULL;",
	/* 7: packet evidence (issue 13): the analysis's evidence names
	 * (joined by ';') and sentence, and how many DNS entries and TCP
	 * flows test_keys.packets holds, for the web view and the CSV
	 * export. Derived: rows stored before are NULL and 0 until a
	 * reanalysis; the timelines do not use them. */
	"ALTER TABLE measurements ADD COLUMN evidence TEXT;"
	"ALTER TABLE measurements ADD COLUMN evidence_detail TEXT;"
	"ALTER TABLE measurements ADD COLUMN packets INTEGER NOT NULL"
	" DEFAULT 0 CHECK (packets >= 0);",
};
#define SCHEMA_VERSION ((int)WW_ARRAY_LEN(migrations))

/* The submitter a row counts as for agreement and the daily cap, in SQL:
 * NULL for a row without one (each its own submitter, never capped); the
 * unsigned of one observed network ("anon:<asn>:<hour>") are one,
 * whatever the hour. Kept in step with store_timeline.c's indep_id(). */
#define INDEP_SQL                                                              \
	"(CASE WHEN submitter LIKE 'anon:%' THEN 'anon:' ||"                   \
	" substr(submitter, 6, instr(substr(submitter, 6) || ':', ':') - 1)"   \
	" ELSE submitter END)"

/* A measurement counted in its day (?4 start_time) as class ?5. */
#define DAILY_ADD_SQL                                                          \
	"INSERT INTO daily_counts (input, probe_cc, probe_asn, day,"           \
	" n_ok, n_dns, n_tcp_ip, n_tls, n_http_failure, n_http_diff,"          \
	" n_server_side, n_down, n_failed, n_geo_mismatch, n_capped)"          \
	" VALUES (?1, ?2, ?3, date(?4, 'unixepoch'), ?5 = 0, ?5 = 1,"          \
	" ?5 = 2, ?5 = 3, ?5 = 4, ?5 = 5, ?5 = 6, ?5 = 7, ?5 = 8,"             \
	" ?5 = 9, ?5 = 10)"                                                    \
	" ON CONFLICT (input, probe_cc, probe_asn, day) DO UPDATE SET"         \
	" n_ok = n_ok + excluded.n_ok, n_dns = n_dns + excluded.n_dns,"        \
	" n_tcp_ip = n_tcp_ip + excluded.n_tcp_ip,"                            \
	" n_tls = n_tls + excluded.n_tls,"                                     \
	" n_http_failure = n_http_failure + excluded.n_http_failure,"          \
	" n_http_diff = n_http_diff + excluded.n_http_diff,"                   \
	" n_server_side = n_server_side + excluded.n_server_side,"             \
	" n_down = n_down + excluded.n_down,"                                  \
	" n_failed = n_failed + excluded.n_failed,"                            \
	" n_geo_mismatch = n_geo_mismatch + excluded.n_geo_mismatch,"          \
	" n_capped = n_capped + excluded.n_capped"
#define DAILY_INC_SQL                                                          \
	"UPDATE daily_counts SET n_ok = n_ok + (?5 = 0),"                      \
	" n_dns = n_dns + (?5 = 1), n_tcp_ip = n_tcp_ip + (?5 = 2),"           \
	" n_tls = n_tls + (?5 = 3),"                                           \
	" n_http_failure = n_http_failure + (?5 = 4),"                         \
	" n_http_diff = n_http_diff + (?5 = 5),"                               \
	" n_server_side = n_server_side + (?5 = 6),"                           \
	" n_down = n_down + (?5 = 7), n_failed = n_failed + (?5 = 8),"         \
	" n_geo_mismatch = n_geo_mismatch + (?5 = 9),"                         \
	" n_capped = n_capped + (?5 = 10)"                                     \
	" WHERE " KEY_IS " AND day = date(?4, 'unixepoch')"
/* One target's key: ?1, ?2, ?3. */
#define KEY_IS "input = ?1 AND probe_cc = ?2 AND probe_asn = ?3"

static const char *const stmt_sql[ST_N] = {
	/* IMMEDIATE: take the write lock now, where the busy timeout
	 * applies, rather than fail on upgrading a read lock later. */
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_INSERT] =
		"INSERT INTO measurements (uid, raw, raw_len, input,"
		" test_name, category_code, probe_cc, probe_asn, observed_cc,"
		" observed_asn, geo_mismatch, start_time, received_time,"
		" blocking, accessible, blocking_detail, confirmed,"
		" analysis_version, analysis_reason, evidence, evidence_detail,"
		" packets, submitter) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
		" ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,"
		" ?21, ?22, ?23) ON CONFLICT (uid) DO NOTHING",
	[ST_GET_RAW] = "SELECT raw, raw_len FROM measurements WHERE uid = ?1",
	[ST_PAGE] = "SELECT id, uid, raw, raw_len FROM measurements"
		    " WHERE id > ?1 ORDER BY id LIMIT ?2",
	[ST_UPDATE] = "UPDATE measurements SET blocking = ?2, accessible = ?3,"
		      " blocking_detail = ?4, confirmed = ?5,"
		      " analysis_version = ?6, analysis_reason = ?7,"
		      " evidence = ?8, evidence_detail = ?9, packets = ?10"
		      " WHERE id = ?1",
	[ST_COUNT] = "SELECT count(*) FROM measurements",
	/* ?4 start_time, ?5 the class: one count goes up by one; returns
	 * the day's total */
	[ST_DAILY_ADD] = DAILY_ADD_SQL,
	/* first try ST_DAILY_INC: an upsert costs more */
	[ST_DAILY_INC] = DAILY_INC_SQL,
	/* the day's total so far (for the daily cap: a lookup costs less
	 * than RETURNING) */
	[ST_DAILY_TOTAL] = "SELECT n_ok + n_dns + n_tcp_ip + n_tls +"
			   " n_http_failure + n_http_diff + n_server_side +"
			   " n_down + n_failed + n_geo_mismatch + n_capped FROM"
			   " daily_counts WHERE " KEY_IS
			   " AND day = date(?4, 'unixepoch')",
	/* a measurement counted as ?5 goes to n_capped */
	[ST_DAILY_CAP] =
		"UPDATE daily_counts SET n_ok = n_ok - (?5 = 0),"
		" n_dns = n_dns - (?5 = 1), n_tcp_ip = n_tcp_ip - (?5 = 2),"
		" n_tls = n_tls - (?5 = 3),"
		" n_http_failure = n_http_failure - (?5 = 4),"
		" n_http_diff = n_http_diff - (?5 = 5),"
		" n_server_side = n_server_side - (?5 = 6),"
		" n_down = n_down - (?5 = 7), n_failed = n_failed - (?5 = 8),"
		" n_geo_mismatch = n_geo_mismatch - (?5 = 9),"
		" n_capped = n_capped + 1"
		" WHERE " KEY_IS " AND day = date(?4, 'unixepoch')",
	/* ?4 start_time, ?5 the submitter (INDEP_SQL's form): its count
	 * for the day, this measurement included */
	[ST_SUBDAY_ADD] =
		"INSERT INTO submitter_days (input, probe_cc, probe_asn, day,"
		" submitter, n) VALUES (?1, ?2, ?3, date(?4, 'unixepoch'), ?5,"
		" 1) ON CONFLICT (input, probe_cc, probe_asn, day, submitter)"
		" DO UPDATE SET n = n + 1 RETURNING n",
	[ST_SUBDAY_DEL_KEY] = "DELETE FROM submitter_days WHERE " KEY_IS,
	/* ?4 the day's first second: the day counted again, by submitter */
	[ST_SUBDAY_DEL_DAY] = "DELETE FROM submitter_days WHERE " KEY_IS
			      " AND day = date(?4, 'unixepoch')",
	[ST_SUBDAY_DAY] = "INSERT INTO submitter_days (input, probe_cc,"
			  " probe_asn, day, submitter, n) SELECT ?1, ?2, ?3,"
			  " date(?4, 'unixepoch'), " INDEP_SQL " AS k, count(*)"
			  " FROM measurements INDEXED BY"
			  " measurements_target_time WHERE " KEY_IS
			  " AND start_time >= ?4 AND start_time < ?4 + 86400"
			  " AND revoked = 0 AND k IS NOT NULL GROUP BY k",
	[ST_SUBDAY_GET] = "SELECT n FROM submitter_days WHERE " KEY_IS
			  " AND day = date(?4, 'unixepoch') AND submitter = ?5",
	[ST_SUBDAY_KEY] = "INSERT INTO submitter_days (input, probe_cc,"
			  " probe_asn, day, submitter, n) SELECT ?1, ?2, ?3,"
			  " date(start_time, 'unixepoch') AS d, " INDEP_SQL
			  " AS k, count(*) FROM measurements INDEXED BY"
			  " measurements_target_time WHERE " KEY_IS
			  " AND revoked = 0 AND k IS NOT NULL GROUP BY d, k",
	[ST_STATE_GET] = "SELECT state, method, since, last_tested,"
			 " n_conclusive, last_time, last_id, win,"
			 " category_code, category_time, id, fresh"
			 " FROM target_state WHERE " KEY_IS,
	[ST_STATE_PUT] =
		"INSERT INTO target_state (input, probe_cc, probe_asn, host,"
		" rhost, category_code, category_time, state, method, since,"
		" last_tested, n_conclusive, last_time, last_id, win, fresh)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
		" ?14, ?15, ?16) ON CONFLICT (input, probe_cc, probe_asn) DO"
		" UPDATE SET"
		" host = excluded.host, rhost = excluded.rhost,"
		" category_code = excluded.category_code,"
		" category_time = excluded.category_time,"
		" state = excluded.state, method = excluded.method,"
		" since = excluded.since, last_tested = excluded.last_tested,"
		" n_conclusive = excluded.n_conclusive,"
		" last_time = excluded.last_time, last_id = excluded.last_id,"
		" win = excluded.win, fresh = excluded.fresh",
	/* a known target, by id: no indexed column changes */
	[ST_STATE_UPD] =
		"UPDATE target_state SET category_code = ?6,"
		" category_time = ?7, state = ?8, method = ?9, since = ?10,"
		" last_tested = ?11, n_conclusive = ?12, last_time = ?13,"
		" last_id = ?14, win = ?15, fresh = ?16 WHERE id = ?1",
	[ST_STATE_DEL] = "DELETE FROM target_state WHERE " KEY_IS,
	[ST_EVENT_ADD] = "INSERT INTO events (input, probe_cc, probe_asn,"
			 " time, from_state, to_state, method, uids) VALUES"
			 " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_UID_OF] = "SELECT uid FROM measurements WHERE id = ?1",
	/* Covered by measurements_target_time, in (start_time, id) order.
	 * Named, as SQLite would rather walk a whole country's rows in
	 * measurements_cc_time than sort the ties of start_time. */
	[ST_KEY_ROWS] =
		"SELECT id, start_time, blocking, accessible,"
		" category_code, blocking_detail, submitter,"
		" received_time, geo_mismatch, revoked FROM measurements"
		" INDEXED BY"
		" measurements_target_time WHERE " KEY_IS
		" ORDER BY start_time, id",
	[ST_KEY_EVENTS] = "SELECT id, time, from_state, to_state, method,"
			  " uids FROM events WHERE " KEY_IS " ORDER BY id",
	[ST_EVENTS_CUT] = "DELETE FROM events WHERE " KEY_IS " AND id >= ?4",
	[ST_DAILY_DEL_KEY] = "DELETE FROM daily_counts WHERE " KEY_IS,
	[ST_DAILY_KEY] =
		"INSERT INTO daily_counts (input, probe_cc, probe_asn, day,"
		" n_ok, n_dns, n_tcp_ip, n_tls, n_http_failure, n_http_diff,"
		" n_server_side, n_down, n_failed, n_geo_mismatch, n_capped)"
		" SELECT ?1, ?2, ?3, d, sum(c = 0), sum(c = 1), sum(c = 2),"
		" sum(c = 3), sum(c = 4), sum(c = 5), sum(c = 6), sum(c = 7),"
		" sum(c = 8), sum(c = 9), sum(c = 10) FROM (SELECT d,"
		" CASE WHEN ?4 > 0 AND k IS NOT NULL AND rn > ?4 THEN 10"
		" WHEN geo_mismatch = 1 AND ?5 = 0 THEN 9 ELSE c END AS c FROM"
		" (SELECT date(start_time, 'unixepoch') AS d, " CLASS_SQL
		" AS c, " INDEP_SQL " AS k, geo_mismatch, row_number() OVER"
		" (PARTITION BY date(start_time, 'unixepoch'), " INDEP_SQL
		" ORDER BY id) AS rn FROM measurements INDEXED BY"
		" measurements_target_time WHERE " KEY_IS " AND revoked = 0))"
		" GROUP BY d",
	[ST_SETTINGS_GET] = "SELECT name, value FROM settings",
	[ST_SETTINGS_PUT] = "INSERT INTO settings (name, value) VALUES (?1, ?2)"
			    " ON CONFLICT (name) DO UPDATE SET"
			    " value = excluded.value",
	[ST_STALE_ALL] = "INSERT OR IGNORE INTO stale_targets SELECT DISTINCT"
			 " input, probe_cc, probe_asn FROM measurements"
			 " WHERE input IS NOT NULL",
	[ST_STALE_MARK] = "INSERT OR IGNORE INTO stale_targets"
			  " SELECT input, probe_cc, probe_asn FROM"
			  " measurements WHERE id = ?1 AND input IS NOT NULL",
	[ST_STALE_NEXT] = "SELECT input, probe_cc, probe_asn FROM"
			  " stale_targets LIMIT ?1",
	[ST_STALE_DEL] = "DELETE FROM stale_targets WHERE " KEY_IS,
	[ST_KEYS_NEXT] = "SELECT DISTINCT input, probe_cc, probe_asn FROM"
			 " measurements WHERE input IS NOT NULL AND"
			 " (input, probe_cc, probe_asn) > (?1, ?2, ?3)"
			 " ORDER BY input, probe_cc, probe_asn LIMIT ?4",
	/* ?4, ?5: the first and last day */
	[ST_PCT] = "SELECT day, n_dns + n_tcp_ip + n_tls + n_http_failure +"
		   " n_http_diff + n_server_side, n_ok + n_dns + n_tcp_ip +"
		   " n_tls + n_http_failure + n_http_diff + n_server_side +"
		   " n_down FROM daily_counts"
		   " WHERE " KEY_IS " AND day >= ?4 AND day <= ?5",
	[ST_NEWEST] = "SELECT max(start_time) FROM measurements",
};

/* The bind index of the first derived value in ST_INSERT and ST_UPDATE,
 * and how many there are (bind_derived). */
#define INSERT_DERIVED 14
#define UPDATE_DERIVED 2
#define N_DERIVED 9

/* --- opening and the schema ---------------------------------------------- */

static int
open_db(struct sqlite_store *s, char *err, size_t errlen)
{
	int rc = sqlite3_open_v2(s->path, &s->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
					 SQLITE_OPEN_NOMUTEX,
				 NULL);

	if (rc != SQLITE_OK) {
		ww_set_err(err, errlen, "%s: %s", s->path,
			   s->db != NULL ? sqlite3_errmsg(s->db)
					 : sqlite3_errstr(rc));
		return -1;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	return 0;
}

/* WAL lets readers (the API, exports) go on while ingest writes. It is
 * the first statement that reads the file, so a file that is not a
 * database is reported here. */
static int
set_wal(struct sqlite_store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	bool wal = false;

	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st,
			       NULL) != SQLITE_OK)
		return db_fail(s, "setting WAL mode", err, errlen);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *mode = sqlite3_column_text(st, 0);

		wal = mode != NULL && strcmp((const char *)mode, "wal") == 0;
	} else {
		db_fail(s, "setting WAL mode", err, errlen);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	if (!wal) {
		ww_set_err(err, errlen, "%s: cannot use WAL mode there",
			   s->path);
		return -1;
	}
	return 0;
}

static int
configure(struct sqlite_store *s, char *err, size_t errlen)
{
	if (set_wal(s, err, errlen) != 0)
		return -1;
	/* FULL: in WAL mode NORMAL may lose the last commits on power loss,
	 * and an acknowledgement promises they are kept. */
	if (exec(s, "PRAGMA synchronous = FULL", "setting synchronous", err,
		 errlen) != 0)
		return -1;
	/* 64 MiB of page cache rather than 2: the timelines' tables and
	 * the indexes are updated at random places; ingest ran 1.5x faster
	 * (measured with 100,000 measurements over 10,000 targets). */
	if (exec(s, "PRAGMA cache_size = -65536", "setting the cache size", err,
		 errlen) != 0)
		return -1;
	return exec(s, "PRAGMA foreign_keys = ON", "enabling foreign keys", err,
		    errlen);
}

/* The schema version in *v: 0 for a new database. */
static int
read_version(struct sqlite_store *s, sqlite3_int64 *v, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*v = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT version FROM schema_version"
			       " WHERE id = 1",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, "reading the schema version", err, errlen);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		db_fail(s, "reading the schema version", err, errlen);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (*v < 0) {
		ww_set_err(err, errlen,
			   "%s: the schema version is %lld, which no "
			   "wallwatch-collector wrote",
			   s->path, (long long)*v);
		return -1;
	}
	return 0;
}

static int
apply_migrations(struct sqlite_store *s, sqlite3_int64 from, char *err,
		 size_t errlen)
{
	char what[64], sql[128];

	for (int i = (int)from; i < SCHEMA_VERSION; i++) {
		snprintf(what, sizeof(what),
			 "migrating the schema to version %d", i + 1);
		if (exec(s, migrations[i], what, err, errlen) != 0)
			return -1;
	}
	snprintf(sql, sizeof(sql),
		 "INSERT INTO schema_version (id, version) VALUES (1, %d)"
		 " ON CONFLICT (id) DO UPDATE SET version = excluded.version",
		 SCHEMA_VERSION);
	return exec(s, sql, "recording the schema version", err, errlen);
}

/* One IMMEDIATE transaction: two collectors starting on one new database
 * cannot both migrate it. */
static int
migrate(struct sqlite_store *s, char *err, size_t errlen)
{
	sqlite3_int64 v;

	if (exec(s, "BEGIN IMMEDIATE", "starting the schema check", err,
		 errlen) != 0)
		return -1;
	if (exec(s,
		 "CREATE TABLE IF NOT EXISTS schema_version ("
		 " id INTEGER PRIMARY KEY CHECK (id = 1),"
		 " version INTEGER NOT NULL)",
		 "creating schema_version", err, errlen) != 0 ||
	    read_version(s, &v, err, errlen) != 0)
		goto fail;
	if (v > SCHEMA_VERSION) {
		ww_set_err(err, errlen,
			   "%s: the database's schema is version %lld, newer "
			   "than this wallwatch-collector's (%d): use a newer "
			   "wallwatch-collector with it",
			   s->path, (long long)v, SCHEMA_VERSION);
		goto fail;
	}
	if (v < SCHEMA_VERSION && apply_migrations(s, v, err, errlen) != 0)
		goto fail;
	if (exec(s, "COMMIT", "committing the schema", err, errlen) != 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int
prepare_all(struct sqlite_store *s, char *err, size_t errlen)
{
	for (int i = 0; i < ST_N; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK)
			return db_fail(s, "preparing statements", err, errlen);
	return 0;
}

static const struct store_ops sqlite_ops = {
	.close = sqlite_close,
	.put_batch = sqlite_put_batch,
	.get_raw = sqlite_get_raw,
	.reanalyze = sqlite_reanalyze,
	.count = sqlite_count,
	.agreement_get = sqlite_agreement_get,
	.agreement_set = sqlite_agreement_set,
	.targets = sqlite_targets,
	.timeline = sqlite_timeline,
	.events = sqlite_events,
	.measurements = sqlite_measurements,
	.export = sqlite_export,
	.domain_rollup = sqlite_domain_rollup,
	.submitter_add = sqlite_submitter_add,
	.submitters = sqlite_submitters,
	.submitter_revoke = sqlite_submitter_revoke,
	.submitters_guard = sqlite_submitters_guard,
	.data_version = sqlite_data_version,
};

struct store *
store_sqlite_open(const char *path, char *err, size_t errlen)
{
	struct sqlite_store *s;

	if (path == NULL || *path == '\0') {
		ww_set_err(err, errlen, "no database path given");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &sqlite_ops;
	s->path = xstrdup(path);
	if (open_db(s, err, errlen) != 0 || configure(s, err, errlen) != 0 ||
	    migrate(s, err, errlen) != 0 || prepare_all(s, err, errlen) != 0 ||
	    store_tl_settings_load(s, err, errlen) != 0 ||
	    store_tl_rebuild_stale(s, err, errlen) != 0) {
		sqlite_close(&s->base);
		return NULL;
	}
	return &s->base;
}

void
sqlite_close(struct store *base)
{
	struct sqlite_store *s = sq(base);
	if (s == NULL)
		return;
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	store_packer_free(s->pk);
	free(s->rbuf);
	free(s->hc_input);
	free(s->hc_host);
	free(s->path);
	free(s);
}

/* --- raw: compression ---------------------------------------------------- */

/* raw compressed, by the caller (m->zraw) or now; in *z, *zlen. */
static int
pack(struct sqlite_store *s, const struct store_meas *m, const void **z,
     size_t *zlen, char *err, size_t errlen)
{
	char msg[128];

	if (m->zraw != NULL) {
		*z = m->zraw;
		*zlen = m->zraw_len;
		return 0;
	}
	if (s->pk == NULL)
		s->pk = store_packer_new();
	if (store_pack(s->pk, m->raw, m->raw_len, z, zlen, msg, sizeof(msg)) !=
	    0) {
		ww_set_err(err, errlen, "measurement %.200s: %s", m->uid, msg);
		return -1;
	}
	return 0;
}

/*
 * The raw of the row st is on (its blob at column col, its length at
 * col + 1) into *buf (grown as needed, *cap bytes), NUL-terminated. It must
 * come out exactly as long as recorded: anything else is a damaged row.
 */
int
store_unpack(struct sqlite_store *s, sqlite3_stmt *st, int col, const char *uid,
	     char **buf, size_t *cap, size_t *len, char *err, size_t errlen)
{
	const void *z = sqlite3_column_blob(st, col);
	size_t zlen = (size_t)sqlite3_column_bytes(st, col);
	sqlite3_int64 want = sqlite3_column_int64(st, col + 1);
	uLongf out;

	if (want <= 0 || (sqlite3_uint64)want > STORE_MAX_RAW) {
		ww_set_err(err, errlen,
			   "%s: measurement %.200s: damaged row (raw_len %lld)",
			   s->path, uid, (long long)want);
		return -1;
	}
	*buf = reserve(*buf, cap, (size_t)want + 1);
	out = (uLongf)want;
	if (z == NULL ||
	    uncompress((Bytef *)*buf, &out, z, (uLong)zlen) != Z_OK ||
	    out != (uLongf)want) {
		ww_set_err(err, errlen,
			   "%s: measurement %.200s: damaged raw "
			   "(it does not decompress to %lld bytes)",
			   s->path, uid, (long long)want);
		return -1;
	}
	(*buf)[want] = '\0';
	*len = (size_t)want;
	return 0;
}

/* --- storing ------------------------------------------------------------- */

/* Non-zero when a bind failed. */
static int
bind_derived(sqlite3_stmt *st, int first, const struct store_derived *d)
{
	int rc = SQLITE_OK;

	rc |= bind_text(st, first, d->blocking);
	rc |= d->accessible < 0
		      ? sqlite3_bind_null(st, first + 1)
		      : sqlite3_bind_int(st, first + 1, d->accessible);
	rc |= bind_text(st, first + 2, d->blocking_detail);
	rc |= sqlite3_bind_int(st, first + 3, d->confirmed ? 1 : 0);
	rc |= bind_text(st, first + 4, d->analysis_version);
	rc |= bind_text(st, first + 5, d->analysis_reason);
	rc |= bind_text(st, first + 6, d->evidence);
	rc |= bind_text(st, first + 7, d->evidence_detail);
	rc |= sqlite3_bind_int(st, first + 8, d->packets);
	return rc;
}

/* Non-zero when a bind failed. */
static int
bind_meas(sqlite3_stmt *st, const struct store_meas *m, const void *z,
	  size_t zlen)
{
	struct store_derived d = store_derived_of(m);
	int rc = SQLITE_OK;

	rc |= bind_text(st, 1, m->uid);
	rc |= sqlite3_bind_blob64(st, 2, z, (sqlite3_uint64)zlen,
				  SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 3, (sqlite3_int64)m->raw_len);
	rc |= bind_text(st, 4, m->input);
	rc |= bind_text(st, 5, m->test_name);
	rc |= bind_text(st, 6, m->category_code);
	rc |= bind_text(st, 7, m->probe_cc);
	rc |= bind_text(st, 8, m->probe_asn);
	rc |= bind_text(st, 9, m->observed_cc);
	rc |= bind_text(st, 10, m->observed_asn);
	rc |= sqlite3_bind_int(st, 11, m->geo_mismatch ? 1 : 0);
	rc |= sqlite3_bind_int64(st, 12, m->start_time);
	rc |= sqlite3_bind_int64(st, 13, m->received_time);
	rc |= bind_derived(st, INSERT_DERIVED, &d);
	rc |= bind_text(st, INSERT_DERIVED + N_DERIVED, m->submitter);
	return rc;
}

/*
 * A uid already stored (insert_one inserted nothing): a duplicate when the
 * stored raw is m's raw byte for byte, else a conflict (a reused uid with
 * other content; issue 12). Duplicates are rare (retries), so reading the
 * stored raw back is cheap enough.
 */
static int
dup_or_conflict(struct sqlite_store *s, const struct store_meas *m,
		enum store_result *res, char *err, size_t errlen)
{
	char *raw = NULL;
	size_t len = 0;
	int rc = sqlite_get_raw(&s->base, m->uid, &raw, &len, err, errlen);

	if (rc < 0)
		return -1;
	*res = rc == 0 && len == m->raw_len && memcmp(raw, m->raw, len) == 0
		       ? STORE_DUPLICATE
		       : STORE_CONFLICT;
	free(raw);
	return 0;
}

/* Insert one measurement; a uid already there inserts nothing, which
 * sqlite3_changes() tells apart, within the batch too. */
static int
insert_one(struct sqlite_store *s, const struct store_meas *m,
	   enum store_result *res, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_INSERT];
	const void *z;
	size_t zlen;
	int ok;

	if (pack(s, m, &z, &zlen, err, errlen) != 0)
		return -1;
	ok = bind_meas(st, m, z, zlen) == SQLITE_OK &&
	     sqlite3_step(st) == SQLITE_DONE;
	if (!ok)
		ww_set_err(err, errlen, "%s: storing measurement %.200s: %s",
			   s->path, m->uid, sqlite3_errmsg(s->db));
	else
		*res = sqlite3_changes(s->db) > 0 ? STORE_NEW : STORE_DUPLICATE;
	sqlite3_reset(st);
	/* The bindings point into the caller's memory and the packer's. */
	sqlite3_clear_bindings(st);
	if (ok && *res == STORE_DUPLICATE &&
	    dup_or_conflict(s, m, res, err, errlen) != 0)
		return -1;
	return ok ? 0 : -1;
}

int
sqlite_put_batch(struct store *base, const struct store_meas *v, size_t n,
		 enum store_result *res, char *err, size_t errlen)
{
	struct sqlite_store *s = sq(base);
	struct keyset redo = {NULL, 0, 0, NULL, 0};

	if (store_check_batch(v, n, err, errlen) != 0)
		return -1;
	if (n == 0)
		return 0;
	if (run(s, ST_BEGIN, "starting a transaction", err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		enum store_result r;

		if (insert_one(s, &v[i], &r, err, errlen) != 0 ||
		    (r == STORE_NEW &&
		     store_tl_add(s, &v[i], sqlite3_last_insert_rowid(s->db),
				  &redo, err, errlen) != 0))
			goto fail;
		if (res != NULL)
			res[i] = r;
	}
	if (store_tl_redo(s, &redo, err, errlen) != 0 ||
	    run(s, ST_COMMIT, "committing", err, errlen) != 0)
		goto fail;
	store_ks_free(&redo);
	return 0;
fail:
	rollback(s);
	store_ks_free(&redo);
	return -1;
}

/* --- reading ------------------------------------------------------------- */

int
sqlite_get_raw(struct store *base, const char *uid, char **raw, size_t *len,
	       char *err, size_t errlen)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = s->st[ST_GET_RAW];
	size_t cap = 0;
	int rc, ret;

	*raw = NULL;
	*len = 0;
	if (uid == NULL) {
		ww_set_err(err, errlen, "no uid given");
		return -1;
	}
	/* One that long was never stored: no need to look it up. */
	if (strnlen(uid, STORE_MAX_FIELD + 1) > STORE_MAX_FIELD)
		return 1;
	rc = bind_text(st, 1, uid);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		ret = 1;
	else if (rc == SQLITE_ROW)
		ret = store_unpack(s, st, 0, uid, raw, &cap, len, err, errlen);
	else
		ret = db_fail(s, "reading a measurement", err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (ret != 0) {
		free(*raw);
		*raw = NULL;
		*len = 0;
	}
	return ret;
}

int64_t
sqlite_count(struct store *base)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *st = s->st[ST_COUNT];
	int64_t n = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

/* --- reanalysis ---------------------------------------------------------- */

/*
 * Each page is read first, with fn run on every row, outside any write
 * transaction, and its results then written in one short transaction: the
 * write lock is held for the updates only, never while fn analyses, so the
 * ingest is not kept waiting. Pages follow the id (received order), which
 * the updates do not change.
 */

struct redo {
	sqlite3_int64 id;
	int accessible, packets;
	bool confirmed;
	char *blocking, *detail, *version, *reason, *evidence, *ev_detail;
};

struct pass {
	struct sqlite_store *s;
	store_reanalyze_fn fn;
	void *arg;
	sqlite3_int64 last; /* id of the last measurement read */
	struct redo page[REANALYZE_PAGE];
	size_t n; /* entries of page to write */
	long updated;
};

static void
keep(struct redo *r, sqlite3_int64 id, const struct store_derived *d)
{
	r->id = id;
	r->accessible = d->accessible;
	r->confirmed = d->confirmed;
	r->blocking = xstrdup(d->blocking);
	r->detail = xstrdup(d->blocking_detail);
	r->version = xstrdup(d->analysis_version);
	r->reason = xstrdup(d->analysis_reason);
	r->evidence = xstrdup(d->evidence);
	r->ev_detail = xstrdup(d->evidence_detail);
	r->packets = d->packets;
}

static void
forget_page(struct pass *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct redo *r = &p->page[i];

		free(r->blocking);
		free(r->detail);
		free(r->version);
		free(r->reason);
		free(r->evidence);
		free(r->ev_detail);
	}
	p->n = 0;
}

/* Run fn on the row st is on; keep what it gives for writing. */
static int
redo_row(struct pass *p, sqlite3_stmt *st, char *err, size_t errlen)
{
	struct sqlite_store *s = p->s;
	const char *uid = (const char *)sqlite3_column_text(st, 1);
	struct store_derived out = {NULL, -1,	NULL, false, NULL,
				    NULL, NULL, NULL, 0};
	size_t len;
	char ctx[256];

	p->last = sqlite3_column_int64(st, 0);
	if (uid == NULL)
		return db_fail(s, "reading a measurement", err, errlen);
	if (store_unpack(s, st, 2, uid, &s->rbuf, &s->rcap, &len, err,
			 errlen) != 0)
		return -1;
	if (p->fn(uid, s->rbuf, len, &out, p->arg) != 0)
		return 0; /* fn keeps what is stored */
	snprintf(ctx, sizeof(ctx), "reanalysis of measurement %.200s", uid);
	if (store_check_derived(ctx, &out, err, errlen) != 0)
		return -1;
	keep(&p->page[p->n++], p->last, &out);
	return 0;
}

/* Read the next page; *seen says how many rows it had (0: the end). */
static int
read_page(struct pass *p, size_t *seen, char *err, size_t errlen)
{
	sqlite3_stmt *st = p->s->st[ST_PAGE];
	int rc = SQLITE_OK;

	*seen = 0;
	if (sqlite3_bind_int64(st, 1, p->last) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, REANALYZE_PAGE) != SQLITE_OK)
		return db_fail(p->s, "reading measurements", err, errlen);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		(*seen)++;
		if (redo_row(p, st, err, errlen) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_fail(p->s, "reading measurements", err, errlen);
	sqlite3_reset(st); /* ends the read transaction */
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Mark the target of measurement id for recomputation. */
static int
mark_stale(struct sqlite_store *s, sqlite3_int64 id, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_STALE_MARK];

	return step_done(s, st, sqlite3_bind_int64(st, 1, id),
			 "marking a target stale", err, errlen);
}

static int
write_page(struct pass *p, char *err, size_t errlen)
{
	struct sqlite_store *s = p->s;
	sqlite3_stmt *st = s->st[ST_UPDATE];

	if (p->n == 0)
		return 0;
	if (run(s, ST_BEGIN, "starting a transaction", err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < p->n; i++) {
		const struct redo *r = &p->page[i];
		struct store_derived d = {
			r->blocking,  r->accessible, r->detail,
			r->confirmed, r->version,    r->reason,
			r->evidence,  r->ev_detail,  r->packets};
		bool ok = sqlite3_bind_int64(st, 1, r->id) == SQLITE_OK &&
			  bind_derived(st, UPDATE_DERIVED, &d) == SQLITE_OK &&
			  sqlite3_step(st) == SQLITE_DONE;

		if (ok)
			p->updated += sqlite3_changes(s->db);
		else
			db_fail(s, "updating derived values", err, errlen);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		/* its target is recomputed at the end (or at the next
		 * open, should this process not get there) */
		if (!ok || mark_stale(s, r->id, err, errlen) != 0) {
			rollback(s);
			return -1;
		}
	}
	if (run(s, ST_COMMIT, "committing", err, errlen) != 0) {
		rollback(s);
		return -1;
	}
	return 0;
}

long
sqlite_reanalyze(struct store *base, store_reanalyze_fn fn, void *arg,
		 char *err, size_t errlen)
{
	struct sqlite_store *s = sq(base);
	struct pass *p;
	size_t seen;
	long ret;

	if (fn == NULL) {
		ww_set_err(err, errlen, "no reanalysis function given");
		return -1;
	}
	p = xcalloc(1, sizeof(*p));
	p->s = s;
	p->fn = fn;
	p->arg = arg;
	for (;;) {
		if (read_page(p, &seen, err, errlen) != 0 ||
		    write_page(p, err, errlen) != 0) {
			ret = -1;
			break;
		}
		forget_page(p);
		if (seen == 0) {
			ret = p->updated;
			break;
		}
	}
	/* the timelines of the new verdicts: every target recomputed */
	if (ret >= 0 && store_tl_rebuild_all(s, err, errlen) != 0)
		ret = -1;
	forget_page(p);
	free(p);
	return ret;
}

/* --- for tests (store_sqlite_int.h) ------------------------------------- */

sqlite3 *
store_sqlite_db(struct store *s)
{
	return sq(s)->db;
}
