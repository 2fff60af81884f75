/*
 * store_schema.c - the SQLite store's SQL: the migrations that make its
 * schema, and the statements prepared at open. Those that count
 * measurements by class in daily_counts are written here from the
 * verdict's vocabulary (engine/core/verdict.h), so that the class numbers, the
 * columns and ww_classify() cannot drift apart.
 */
#include <stdio.h>
#include <string.h>

#include "store_sqlite_int.h"
#include "timeline.h"
#include "util.h"
#include "verdict.h"

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
	/* 8: VPN and QUIC endpoints (issue 15): their verdict's class,
	 * "protocol" (a handshake blocked), gets its daily count. No row
	 * stored before is of the class: nothing to recompute. */
	"ALTER TABLE daily_counts ADD COLUMN n_protocol INTEGER NOT NULL"
	" DEFAULT 0;",
	/* 9: the source of each measurement (issue 16, docs/ooni-data.md):
	 * the software and test versions it names, beside test_name (which
	 * tells OONI's web_connectivity from ours). The raw is compressed, so
	 * rows stored before stay NULL; nothing derived changes. */
	"ALTER TABLE measurements ADD COLUMN software_name TEXT;"
	"ALTER TABLE measurements ADD COLUMN software_version TEXT;"
	"ALTER TABLE measurements ADD COLUMN test_version TEXT;",
	/* 10: a VPN or QUIC endpoint blocked by its port or its protocol,
	 * nothing seen telling which (class "endpoint", docs/verdicts.md
	 * V13 and V14), gets its daily count. Rows stored before with
	 * blocking null are not of it until a reanalysis (which marks
	 * their targets stale). */
	"ALTER TABLE daily_counts ADD COLUMN n_endpoint INTEGER NOT NULL"
	" DEFAULT 0;",
	/* 11 (issue 16): alerts (docs/alerts.md).
	 * An alert's webhooks are sent by the collector whose claim of its
	 * key went in: one row per alert, never removed (a few a day), so
	 * that it is sent once however many collectors share the database
	 * and however often they restart. */
	"CREATE TABLE alert_claims ("
	" key TEXT PRIMARY KEY,"
	" claimed INTEGER NOT NULL,"
	" collector TEXT"
	") STRICT;",
	/* 12: the changes of a country or a network, newest first (issue 16,
	 * the "What changed" page, store_network.c): without these, a
	 * filtered page walks every event newer than its own. An index's
	 * rowid comes last, so (time, id) order within a country is the
	 * index's order. Events are few beside measurements. */
	"CREATE INDEX events_cc_time ON events (probe_cc, time);"
	"CREATE INDEX events_net_time ON events (probe_cc, probe_asn, time);",
};
#define SCHEMA_VERSION ((int)WW_ARRAY_LEN(migrations))

/* The submitter a row counts as for agreement and the daily cap, in SQL:
 * NULL for a row without one (each its own submitter, never capped); the
 * unsigned of one observed network ("anon:<asn>:<hour>") are one,
 * whatever the hour. Kept in step with timeline.c's tl_submitter_id(). */
#define INDEP_SQL                                                              \
	"(CASE WHEN submitter LIKE 'anon:%' THEN 'anon:' ||"                   \
	" substr(submitter, 6, instr(substr(submitter, 6) || ':', ':') - 1)"   \
	" ELSE submitter END)"

/* One target's key: ?1, ?2, ?3. */
#define KEY_IS "input = ?1 AND probe_cc = ?2 AND probe_asn = ?3"

/* The statements prepared at open; NULL: built by class_stmt(). */
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
		" packets, submitter, software_name, software_version,"
		" test_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
		" ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,"
		" ?21, ?22, ?23, ?24, ?25, ?26) ON CONFLICT (uid) DO NOTHING",
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
	[ST_DAILY_ADD] = NULL, /* class_stmt() */
	/* first try ST_DAILY_INC: an upsert costs more */
	[ST_DAILY_INC] = NULL,
	/* the day's total so far (for the daily cap: a lookup costs less
	 * than RETURNING) */
	[ST_DAILY_TOTAL] = NULL,
	/* a measurement counted as ?5 goes to n_capped */
	[ST_DAILY_CAP] = NULL,
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
	[ST_DAILY_KEY] = NULL,
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
	[ST_PCT] = NULL,
	[ST_NEWEST] = "SELECT max(start_time) FROM measurements",
};

int
store_sqlite_schema_version(void)
{
	return (int)WW_ARRAY_LEN(migrations);
}

const char *
store_sqlite_migration(int i)
{
	return i >= 0 && i < store_sqlite_schema_version() ? migrations[i]
							   : NULL;
}

void
store_sqlite_count_column(int i, char *out, size_t outlen)
{
	const char *name = i == TL_COUNT_GEO_MISMATCH ? "geo-mismatch"
			   : i == TL_COUNT_CAPPED     ? "capped"
						      : ww_class_name(i);
	size_t n = 0;

	if (outlen == 0)
		return;
	if (name == NULL)
		name = "";
	for (const char *c = "n_"; *c && n + 1 < outlen; c++)
		out[n++] = *c;
	for (const char *c = name; *c && n + 1 < outlen; c++)
		out[n++] = *c == '-' ? '_' : *c;
	out[n] = '\0';
}

static void
add_column(struct sbuf *b, int i)
{
	char col[32];

	store_sqlite_count_column(i, col, sizeof(col));
	sb_add(b, col, strlen(col));
}

static void
add_int(struct sbuf *b, int v)
{
	char n[16];

	snprintf(n, sizeof(n), "%d", v);
	sb_add(b, n, strlen(n));
}

static void
add(struct sbuf *b, const char *v)
{
	sb_add(b, v, strlen(v));
}

/* fmt for every count class below end, separated by sep: '@' in fmt is
 * the class's column, '#' its number, anything else itself. */
static void
each_count(struct sbuf *b, int end, const char *fmt, const char *sep)
{
	for (int i = 0; i < end; i++) {
		if (i > 0)
			add(b, sep);
		for (const char *f = fmt; *f; f++)
			if (*f == '@')
				add_column(b, i);
			else if (*f == '#')
				add_int(b, i);
			else
				sb_add(b, f, 1);
	}
}

#define N_COUNTS (TL_COUNT_CAPPED + 1)
#define DAY_IS " WHERE " KEY_IS " AND day = date(?4, 'unixepoch')"

/* A daily_counts statement of id, with the class numbers of verdict.h. */
static void
class_stmt(int id, struct sbuf *b)
{
	char cls[512];

	switch (id) {
	case ST_DAILY_TOTAL: /* the day's total so far (for the daily cap: a
			      * lookup costs less than RETURNING) */
		add(b, "SELECT ");
		each_count(b, N_COUNTS, "@", " + ");
		add(b, " FROM daily_counts" DAY_IS);
		break;
	case ST_PCT: /* blocked and conclusive per day, ?4 to ?5 */
		add(b, "SELECT day");
		for (int k = 0; k < 2; k++)
			for (int i = 0, n = 0; i < WW_CLASS_N; i++) {
				if (k == 0 ? !ww_class_is_blocked(i)
					   : i == WW_CLASS_FAILED)
					continue;
				add(b, n++ == 0 ? ", " : " + ");
				add_column(b, i);
			}
		add(b, " FROM daily_counts WHERE " KEY_IS
		       " AND day >= ?4 AND day <= ?5");
		break;
	case ST_DAILY_ADD: /* a measurement counted in its day as class ?5 */
		add(b, "INSERT INTO daily_counts (input, probe_cc, probe_asn,"
		       " day, ");
		each_count(b, N_COUNTS, "@", ", ");
		add(b, ") VALUES (?1, ?2, ?3, date(?4, 'unixepoch'), ");
		each_count(b, N_COUNTS, "?5 = #", ", ");
		add(b, ") ON CONFLICT (input, probe_cc, probe_asn, day) DO"
		       " UPDATE SET ");
		each_count(b, N_COUNTS, "@ = @ + excluded.@", ", ");
		break;
	case ST_DAILY_INC: /* the same, when the day is there */
		add(b, "UPDATE daily_counts SET ");
		each_count(b, N_COUNTS, "@ = @ + (?5 = #)", ", ");
		add(b, DAY_IS);
		break;
	case ST_DAILY_CAP: /* a measurement counted as ?5 goes to n_capped */
		add(b, "UPDATE daily_counts SET ");
		each_count(b, TL_COUNT_CAPPED, "@ = @ - (?5 = #)", ", ");
		add(b, ", n_capped = n_capped + 1" DAY_IS);
		break;
	case ST_DAILY_KEY: /* one target's days, counted again (?4 the
			    * daily cap, ?5 allow_geo_mismatch) */
		ww_classify_sql(cls, sizeof(cls));
		add(b, "INSERT INTO daily_counts (input, probe_cc, probe_asn,"
		       " day, ");
		each_count(b, N_COUNTS, "@", ", ");
		add(b, ") SELECT ?1, ?2, ?3, d, ");
		each_count(b, N_COUNTS, "sum(c = #)", ", ");
		add(b, " FROM (SELECT d, CASE WHEN ?4 > 0 AND k IS NOT NULL"
		       " AND rn > ?4 THEN ");
		add_int(b, TL_COUNT_CAPPED);
		add(b, " WHEN geo_mismatch = 1 AND ?5 = 0 THEN ");
		add_int(b, TL_COUNT_GEO_MISMATCH);
		add(b, " ELSE c END AS c FROM (SELECT date(start_time,"
		       " 'unixepoch') AS d, ");
		add(b, cls);
		add(b,
		    " AS c, " INDEP_SQL " AS k, geo_mismatch, row_number()"
		    " OVER (PARTITION BY date(start_time, 'unixepoch'), " INDEP_SQL
		    " ORDER BY id) AS rn FROM measurements"
		    " INDEXED BY measurements_target_time WHERE " KEY_IS
		    " AND revoked = 0)) GROUP BY d");
		break;
	}
}

const char *
store_sqlite_stmt(int id, struct sbuf *b)
{
	if (id < 0 || id >= ST_N)
		return NULL;
	if (stmt_sql[id] != NULL)
		return stmt_sql[id];
	b->len = 0;
	class_stmt(id, b);
	return b->p;
}
