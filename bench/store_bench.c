/*
 * store_bench.c - the store's batch ingest without HTTP (issue 14): how
 * fast store_put_batch() stores a file of measurements, 1,000 per batch,
 * against COPY of the very rows it stored into the same (emptied) table.
 *
 *   store-bench DB JSONL [RUNS [BATCH]]
 *
 * The rows are JSONL's measurements made ready as the collector makes them
 * (collector/ingest_prep.c: parsed, validated, analysed, compressed) once,
 * before any timing. Each run then starts from empty tables, stores every
 * row with store_put_batch() (timed; BATCH, default 1,000, a call), and on
 * PostgreSQL reads the rows back (COPY TO, binary), empties the tables and
 * COPYs the rows into measurements in one transaction (timed), then
 * measurement_uids (timed apart). A CHECKPOINT before each timed step, so that
 * neither pays for the other's dirty pages. RUNS (default 3) runs; the medians
 * are printed last, as "median KEY VALUE" lines (bench/collector-pg.sh reads
 * them). DB: a PostgreSQL conninfo (postgresql:...), or a SQLite path (no COPY
 * there: the file is removed before each run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "ingest_prep.h"
#include "store.h"
#include "util.h"

/* collector/store_pg_fold.c: the fold (the serialised timeline updater),
 * its thread, and what it folded */
struct store_pg;
extern bool store_pg_fold_async;
int store_pg_fold(struct store_pg *p, char *err, size_t errlen);
void store_pg_folder_stats(struct store_pg *p, int64_t *rows, int64_t *txns,
			   double *secs);

#define BATCH_MAX 100000
#define MAX_RUNS 15

static double
cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "store-bench: %s: %s\n", what, why);
	exit(1);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		die(path, "cannot open");
	do {
		if (cap - n < 65536) {
			cap = cap * 2 + 65536;
			buf = xrealloc(buf, cap);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	*len = n;
	return buf;
}

/* --- PostgreSQL on a connection of our own ------------------------------- */

static PGconn *
pg_connect(const char *db)
{
	/* "postgresql:KEY=VALUE ..." is libpq's keywords after the prefix */
	PGconn *c = PQconnectdb(strncmp(db, "postgresql:", 11) == 0 &&
						strncmp(db + 11, "//", 2) != 0
					? db + 11
					: db);

	if (PQstatus(c) != CONNECTION_OK)
		die(db, PQerrorMessage(c));
	return c;
}

static void
pg_sql(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		die(sql, PQerrorMessage(c));
	PQclear(r);
}

static long long
pg_count(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	long long v;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		die(sql, PQerrorMessage(c));
	v = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

/* The server's CPU seconds so far: the postmaster's and its children's,
 * those that ended (reaped: the postmaster's cutime and cstime) and those
 * that run (every backend, the checkpointer, the WAL writer), from
 * /proc. On a machine shared with other jobs, CPU moves far less than
 * wall time. -1 when it cannot be read (another host). */
static double
stat_cpu(long pid, long *ppid, bool children)
{
	char path[64], buf[1024], *e;
	FILE *f;
	size_t n;
	long long v[17];

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((e = strrchr(buf, ')')) == NULL)
		return -1;
	/* after ") ": state ppid ... utime (14) stime cutime cstime */
	e += 2;
	for (int i = 3; i <= 17; i++) {
		while (*e == ' ')
			e++;
		v[i - 1] = i == 3 ? 0 : strtoll(e, &e, 10);
		if (i == 3)
			e++;
	}
	*ppid = (long)v[3];
	return (double)(v[13] + v[14] + (children ? v[15] + v[16] : 0)) /
	       (double)sysconf(_SC_CLK_TCK);
}

static double
server_cpu(PGconn *c)
{
	static long pm = -1;
	double sum;
	long ppid;
	DIR *d;
	struct dirent *de;

	if (pm < 0) {
		PGresult *r =
			PQexec(c, "SELECT current_setting('data_directory')"
				  " || '/postmaster.pid'");
		FILE *f;

		pm = 0;
		if (PQresultStatus(r) == PGRES_TUPLES_OK &&
		    (f = fopen(PQgetvalue(r, 0, 0), "r")) != NULL) {
			if (fscanf(f, "%ld", &pm) != 1)
				pm = 0;
			fclose(f);
		}
		PQclear(r);
	}
	if (pm <= 0 || (sum = stat_cpu(pm, &ppid, true)) < 0)
		return -1;
	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		long pid = strtol(de->d_name, NULL, 10);
		double t;

		if (pid > 0 && (t = stat_cpu(pid, &ppid, false)) >= 0 &&
		    ppid == pm)
			sum += t;
	}
	closedir(d);
	return sum;
}

struct blob {
	char *p;
	size_t n, cap;
};

/* COPY ... TO STDOUT into b. */
static void
copy_out(PGconn *c, const char *sql, struct blob *b)
{
	PGresult *r = PQexec(c, sql);
	char *buf;
	int n;

	if (PQresultStatus(r) != PGRES_COPY_OUT)
		die(sql, PQerrorMessage(c));
	PQclear(r);
	b->n = 0;
	while ((n = PQgetCopyData(c, &buf, 0)) > 0) {
		if (b->cap - b->n < (size_t)n) {
			b->cap = (b->cap + (size_t)n) * 2;
			b->p = xrealloc(b->p, b->cap);
		}
		memcpy(b->p + b->n, buf, (size_t)n);
		b->n += (size_t)n;
		PQfreemem(buf);
	}
	if (n == -2)
		die(sql, PQerrorMessage(c));
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			die(sql, PQerrorMessage(c));
		PQclear(r);
	}
}

/* COPY ... FROM STDIN of b, in a transaction of its own; seconds. */
static double
copy_in(PGconn *c, const char *sql, const struct blob *b)
{
	double t0 = ww_mono();
	PGresult *r;

	pg_sql(c, "BEGIN");
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN)
		die(sql, PQerrorMessage(c));
	PQclear(r);
	for (size_t off = 0; off < b->n; off += 65536) {
		size_t k = b->n - off < 65536 ? b->n - off : 65536;

		if (PQputCopyData(c, b->p + off, (int)k) != 1)
			die(sql, PQerrorMessage(c));
	}
	if (PQputCopyEnd(c, NULL) != 1)
		die(sql, PQerrorMessage(c));
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			die(sql, PQerrorMessage(c));
		PQclear(r);
	}
	pg_sql(c, "COMMIT");
	return ww_mono() - t0;
}

#define TABLES                                                                 \
	"measurements, measurement_uids, daily_counts, target_state, events,"  \
	" stale_targets, submitter_days, fold_queue"

/* The columns of measurements, in order, for COPY. */
static char *
columns(PGconn *c)
{
	PGresult *r = PQexec(c, "SELECT string_agg(quote_ident(attname), ', '"
				" ORDER BY attnum) FROM pg_attribute WHERE"
				" attrelid = 'measurements'::regclass AND"
				" attnum > 0 AND NOT attisdropped");
	char *s;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		die("columns", PQerrorMessage(c));
	s = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return s;
}

/* --- the runs ------------------------------------------------------------ */

/* Store rows [0, n) in batches of BATCH; seconds (*cpu: this process's
 * CPU seconds meanwhile: libpq and the store's own work, the rest is the
 * server's and waiting). Every one must be new. */
/* (depth, when given: the fold queue's greatest depth seen after each
 * batch, on c) */
static double
put_all(struct store *s, const struct store_meas *v, size_t n, size_t batch,
	double *cpu, PGconn *c, long long *depth)
{
	enum store_result *res = xcalloc(batch, sizeof(*res));
	char err[512];
	double t0 = ww_mono(), c0 = cpu_s(), t;

	for (size_t i = 0; i < n; i += batch) {
		size_t k = n - i < batch ? n - i : batch;

		if (store_put_batch(s, v + i, k, res, err, sizeof(err)) != 0)
			die("store_put_batch", err);
		for (size_t j = 0; j < k; j++)
			if (res[j] != STORE_NEW)
				die(v[i + j].uid, "not stored as new");
		if (depth != NULL) {
			long long d =
				pg_count(c, "SELECT count(*) FROM fold_queue");

			if (d > *depth)
				*depth = d;
		}
	}
	t = ww_mono() - t0;
	*cpu = cpu_s() - c0;
	free(res);
	return t;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The lines of text (JSON Lines; no limit on how many: prep_body_decode()
 * takes a POST's worth). */
static struct prep_line *
lines_of(const char *text, size_t len, size_t *n_out)
{
	struct prep_line *l = NULL;
	size_t n = 0, cap = 0, no = 0;

	for (size_t i = 0; i < len;) {
		const char *e = memchr(text + i, '\n', len - i);
		size_t k = e != NULL ? (size_t)(e - (text + i)) : len - i;

		no++;
		if (k > 0) {
			if (n == cap) {
				cap = cap * 2 + 1024;
				l = xrealloc(l, cap * sizeof(*l));
			}
			l[n++] = (struct prep_line){text + i, k, no};
		}
		i += k + 1;
	}
	*n_out = n;
	return l;
}

/* The measurements of the file, ready for the store; prints the CPU time
 * that took per measurement. */
static struct store_meas *
prepare(const char *path, size_t *n_out, struct prep_row **rows_out)
{
	size_t len, n;
	char *text = slurp(path, &len);
	struct prep_line *lines = lines_of(text, len, &n);
	struct prep_ctx *ctx;
	struct prep_row *rows;
	struct store_meas *v;
	struct prep_peer peer = {NULL, NULL, (int64_t)time(NULL),
				 "anon:AS0:bench"};
	double c0;

	if (n == 0)
		die(path, "no measurements");
	prep_install_json_arena();
	ctx = prep_ctx_new(NULL);
	rows = xcalloc(n, sizeof(*rows));
	v = xcalloc(n, sizeof(*v));
	c0 = cpu_s();
	for (size_t i = 0; i < n; i++) {
		prep_row_make(ctx, &lines[i], &peer, &rows[i]);
		if (!rows[i].ok)
			die(rows[i].field, rows[i].error);
		v[i] = rows[i].sm;
	}
	printf("prepare %zu measurements: %.3f ms of CPU each\n", n,
	       (cpu_s() - c0) / (double)n * 1000);
	prep_ctx_free(ctx);
	free(lines);
	*n_out = n;
	*rows_out = rows;
	/* the rows point into text: kept until exit */
	return v;
}

/* The sustained rate: every row stored as the collector stores them, its
 * fold thread (own connection) folding beside, until the queue is empty;
 * seconds to that (*ingest: to the last commit; *depth: the queue's
 * greatest depth after a batch; the fold thread's rows, transactions and
 * busy seconds). */
static double
sustained(const char *db, PGconn *c, const struct store_meas *v, size_t n,
	  size_t batch, double *ingest, long long *depth, int64_t fs[2],
	  double *fsecs)
{
	char err[512];
	struct store *s;
	double t0, cpu;

	store_pg_fold_async = true;
	if ((s = store_open(db, err, sizeof(err))) == NULL)
		die(db, err);
	*depth = 0;
	t0 = ww_mono();
	*ingest = put_all(s, v, n, batch, &cpu, c, depth);
	while (pg_count(c, "SELECT count(*) FROM fold_queue") > 0)
		usleep(2000);
	t0 = ww_mono() - t0;
	store_pg_folder_stats((struct store_pg *)s, &fs[0], &fs[1], fsecs);
	store_close(s);
	store_pg_fold_async = false;
	return t0;
}

int
main(int argc, char **argv)
{
	const char *db, *path;
	int runs = argc > 3 ? atoi(argv[3]) : 3;
	long batch = argc > 4 ? atol(argv[4]) : 1000;
	bool pg;
	struct store_meas *v;
	struct prep_row *rows;
	size_t n;
	double t_put[MAX_RUNS], t_copy[MAX_RUNS], t_uids[MAX_RUNS], cpu = 0;
	double t_fold[MAX_RUNS], t_sus[MAX_RUNS], t_drain[MAX_RUNS];
	double q_max[MAX_RUNS];
	/* CPU per measurement, ms: the server's for the ingest, the fold
	 * (and this process's for it), COPY; the sustained run's, both */
	double u_put[MAX_RUNS], u_fold[MAX_RUNS], u_foldc[MAX_RUNS];
	double u_copy[MAX_RUNS], u_sus[MAX_RUNS], u_susc[MAX_RUNS];
	double u0 = 0, uc0 = 0;
	struct blob mrows = {0}, uids = {0};
	PGconn *c = NULL;
	char *cols = NULL;
	char sql[4096], err[512];

	if (argc < 3 || runs < 1 || runs > MAX_RUNS || batch < 1 ||
	    batch > BATCH_MAX) {
		fprintf(stderr,
			"usage: store-bench DB JSONL [RUNS (1..%d) [BATCH"
			" (1..%d)]]\n",
			MAX_RUNS, BATCH_MAX);
		return 2;
	}
	db = argv[1];
	path = argv[2];
	pg = strncmp(db, "postgresql:", 11) == 0 ||
	     strncmp(db, "postgres:", 9) == 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* the ingest alone first: no fold thread */
	store_pg_fold_async = false;
	v = prepare(path, &n, &rows);
	for (int r = 0; r < runs; r++) {
		struct store *s;

		if (!pg) {
			char wal[1100];

			unlink(db);
			snprintf(wal, sizeof(wal), "%s-wal", db);
			unlink(wal);
			snprintf(wal, sizeof(wal), "%s-shm", db);
			unlink(wal);
		}
		if ((s = store_open(db, err, sizeof(err))) == NULL)
			die(db, err);
		if (pg) {
			if (c == NULL) {
				c = pg_connect(db);
				cols = columns(c);
			}
			pg_sql(c, "TRUNCATE " TABLES);
			pg_sql(c, "CHECKPOINT");
			u0 = server_cpu(c);
		}
		t_put[r] = put_all(s, v, n, (size_t)batch, &cpu, NULL, NULL);
		if (pg)
			u_put[r] = (server_cpu(c) - u0) / (double)n * 1000;
		printf("run %d: store_put_batch %zu, %ld a call, in %.3f s,"
		       " %.0f/s (%.3f s of it this process's CPU)\n",
		       r + 1, n, batch, t_put[r], (double)n / t_put[r], cpu);
		if (!pg) {
			store_close(s);
			continue;
		}
		/* then the fold of all of it, alone */
		u0 = server_cpu(c);
		uc0 = cpu_s();
		t_fold[r] = ww_mono();
		if (store_pg_fold((struct store_pg *)s, err, sizeof(err)) != 0)
			die("fold", err);
		t_fold[r] = ww_mono() - t_fold[r];
		u_fold[r] = (server_cpu(c) - u0) / (double)n * 1000;
		u_foldc[r] = (cpu_s() - uc0) / (double)n * 1000;
		store_close(s);
		printf("run %d: fold of the %zu queued, alone, in %.3f s,"
		       " %.0f/s\n",
		       r + 1, n, t_fold[r], (double)n / t_fold[r]);
		if (pg_count(c, "SELECT count(*) FROM fold_queue") != 0)
			die("fold", "the queue is not empty");
		if (pg_count(c, "SELECT count(*) FROM measurements") !=
		    (long long)n)
			die("store_put_batch", "not every row is stored");
		snprintf(sql, sizeof(sql),
			 "COPY (SELECT %s FROM measurements ORDER BY id)"
			 " TO STDOUT (FORMAT binary)",
			 cols);
		copy_out(c, sql, &mrows);
		copy_out(c, "COPY measurement_uids TO STDOUT (FORMAT binary)",
			 &uids);
		pg_sql(c, "TRUNCATE " TABLES);
		pg_sql(c, "CHECKPOINT");
		snprintf(sql, sizeof(sql),
			 "COPY measurements (%s) FROM STDIN (FORMAT binary)",
			 cols);
		u0 = server_cpu(c);
		t_copy[r] = copy_in(c, sql, &mrows);
		u_copy[r] = (server_cpu(c) - u0) / (double)n * 1000;
		t_uids[r] = copy_in(
			c, "COPY measurement_uids FROM STDIN (FORMAT binary)",
			&uids);
		printf("run %d: COPY %zu rows in %.3f s, %.0f/s;"
		       " measurement_uids %.3f s more\n",
		       r + 1, n, t_copy[r], (double)n / t_copy[r], t_uids[r]);
		/* sustained: the ingest with the fold thread beside it */
		{
			int64_t fs[2];
			double fsecs, ing;
			long long depth;

			pg_sql(c, "TRUNCATE " TABLES);
			pg_sql(c, "CHECKPOINT");
			u0 = server_cpu(c);
			uc0 = cpu_s();
			t_sus[r] = sustained(db, c, v, n, (size_t)batch, &ing,
					     &depth, fs, &fsecs);
			u_sus[r] = (server_cpu(c) - u0) / (double)n * 1000;
			u_susc[r] = (cpu_s() - uc0) / (double)n * 1000;
			t_drain[r] = t_sus[r] - ing;
			q_max[r] = (double)depth;
			printf("run %d: sustained (ingest + fold thread) %zu in"
			       " %.3f s, %.0f/s; ingest %.3f s; folded %.3f s"
			       " after the last commit; the fold thread: %lld"
			       " rows in %lld transactions, %.3f s busy; queue"
			       " at most %lld\n",
			       r + 1, n, t_sus[r], (double)n / t_sus[r], ing,
			       t_drain[r], (long long)fs[0], (long long)fs[1],
			       fsecs, depth);
			printf("run %d: CPU per measurement, ms: the server's:"
			       " ingest %.3f, fold %.3f (this process's %.3f),"
			       " COPY %.3f; sustained: the server's %.3f, this"
			       " process's %.3f\n",
			       r + 1, u_put[r], u_fold[r], u_foldc[r],
			       u_copy[r], u_sus[r], u_susc[r]);
		}
	}
	{
		double mp = median(t_put, runs);

		printf("median put_rate %.0f\n", (double)n / mp);
		if (pg) {
			double mc = median(t_copy, runs);
			double mu = median(t_uids, runs);

			double ms = median(t_sus, runs);

			printf("median copy_rate %.0f\n", (double)n / mc);
			printf("median copy_uids_rate %.0f\n",
			       (double)n / (mc + mu));
			printf("median ratio %.2f\n", mc / mp);
			printf("median fold_rate %.0f\n",
			       (double)n / median(t_fold, runs));
			printf("median sustained_rate %.0f\n", (double)n / ms);
			printf("median sustained_ratio %.2f\n", mc / ms);
			printf("median drain_s %.3f\n", median(t_drain, runs));
			printf("median queue_max %.0f\n", median(q_max, runs));
			printf("median cpu_put_ms %.3f\n", median(u_put, runs));
			printf("median cpu_fold_ms %.3f\n",
			       median(u_fold, runs));
			printf("median cpu_fold_client_ms %.3f\n",
			       median(u_foldc, runs));
			printf("median cpu_copy_ms %.3f\n",
			       median(u_copy, runs));
			printf("median cpu_sustained_ms %.3f\n",
			       median(u_sus, runs));
			printf("median cpu_sustained_client_ms %.3f\n",
			       median(u_susc, runs));
		}
	}
	if (c != NULL) {
		pg_sql(c, "TRUNCATE " TABLES);
		PQfinish(c);
	}
	for (size_t i = 0; i < n; i++)
		prep_row_clear(&rows[i]);
	free(rows);
	free(v);
	free(cols);
	free(mrows.p);
	free(uids.p);
	return 0;
}
