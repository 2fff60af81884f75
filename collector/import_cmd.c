/*
 * import_cmd.c - `wallwatch-collector import --db DB [options] FILE...`
 * (import_cmd.h; docs/ooni-import.md).
 *
 * Each file is read a line at a time (import_read.c: plain, gzip or zstd,
 * told by its first bytes), each line made into a row by prep_row_make(),
 * the very function POST /api/v1/measurements uses (so the import never
 * accepts what the ingest would refuse, nor refuses what it accepts), and
 * the rows stored by store_put_batch() in batches that each commit whole:
 * what was stored before a corrupt or truncated stretch stays, and the
 * next file is read all the same. A measurement already stored (the same
 * uid and bytes) is a duplicate, so importing a file again stores nothing
 * twice.
 *
 * Memory is bounded by two batches (import_batch.c: one filled and made
 * into rows on --threads threads while the other is stored; --batch lines
 * each, at most IMPORT_BATCH_BYTES of raw text, each row's raw also
 * compressed) and one line (--max-line), never by a file's size.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "dbredact.h"
#include "fingerprint.h"
#include "import_batch.h"
#include "import_cmd.h"
#include "import_read.h"
#include "ingest_prep.h"
#include "store.h"
#include "util.h"

#define IMPORT_REASONS 16     /* distinct reasons of refusal kept per file */
#define IMPORT_REASON_LINES 3 /* line numbers kept per reason */
#define IMPORT_REASONS_SHOWN 5
#define IMPORT_REASON_LEN 200

static const char import_usage[] =
	"usage: wallwatch-collector import --db DB [--fingerprints DIR]\n"
	"                           [--batch N] [--max-line BYTES]\n"
	"                           [--threads N] FILE...\n"
	"\n"
	"Store the measurements of JSON Lines files: OONI's (its archive's\n"
	"plain, .gz and .zst files) or our probe's. The format is told by a\n"
	"file's first bytes; `-` reads standard input. Each line is checked,\n"
	"analysed and stored exactly as POST /api/v1/measurements would do\n"
	"it; a measurement already stored is counted as a duplicate, never\n"
	"stored twice. Blank lines are skipped; CRLF is accepted.\n"
	"  --db DB            SQLite file or postgresql://... (as the service)\n"
	"  --fingerprints DIR blockpage and forged-DNS fingerprints for the\n"
	"                     analysis (default: the bundled set)\n"
	"  --batch N          measurements per transaction (default 1000,\n"
	"                     1 to 10000)\n"
	"  --threads N        threads that check and analyse lines (default:\n"
	"                     one per CPU, 1 to 64); one more stores them\n"
	"  --max-line BYTES   longest line taken (default and most: 16 MiB,\n"
	"                     the store's bound); a longer one is refused\n"
	"On a terminal a progress bar is drawn on standard error. At the end a\n"
	"summary per file goes to standard output: lines read, stored,\n"
	"duplicates, conflicts, refused (the first reasons with their line\n"
	"numbers), the time taken and the rate; a file that cannot be read to\n"
	"its end (corrupt or truncated data) is named with the line, and what\n"
	"was read before it stays stored.\n"
	"Exit status: 0 every line stored or a duplicate, 1 usage error, 2 a\n"
	"file could not be read whole or the store failed, 3 every file read\n"
	"but some lines refused or conflicting.\n";

/* Reasons are counted together when they differ only in numbers ("too
 * old: 31997193 s before ..."): key is the text with every run of digits
 * as one '#'; text is the first one met. */
struct reason {
	char key[IMPORT_REASON_LEN], text[IMPORT_REASON_LEN];
	uint64_t count, lines[IMPORT_REASON_LINES];
};

struct file_stats {
	const char *name;
	enum import_format fmt;
	uint64_t lines, stored, dup, conflicts, refused, bytes, size;
	struct reason reasons[IMPORT_REASONS];
	size_t nreasons;
	uint64_t other_refused; /* refusals of reasons beyond IMPORT_REASONS */
	char error[512];	/* "" or why the file could not be read whole */
	double secs;
};

struct importer {
	struct store *st;
	struct import_pipe *pipe;
	size_t max_line;
	bool tty;      /* draw the progress bar */
	double t_draw; /* when it was last drawn */
};

/* --- refusals ------------------------------------------------------------ */

static void
count_refusal(struct file_stats *fs, const char *field, const char *why,
	      uint64_t line)
{
	char text[IMPORT_REASON_LEN], key[IMPORT_REASON_LEN];
	struct reason *r = NULL;
	size_t k = 0;

	fs->refused++;
	snprintf(text, sizeof(text), "%s%s%s", field, *field ? ": " : "", why);
	for (size_t i = 0; text[i] != '\0'; i++)
		if (text[i] < '0' || text[i] > '9')
			key[k++] = text[i];
		else if (k == 0 || key[k - 1] != '#')
			key[k++] = '#';
	key[k] = '\0';
	for (size_t i = 0; i < fs->nreasons && r == NULL; i++)
		if (strcmp(fs->reasons[i].key, key) == 0)
			r = &fs->reasons[i];
	if (r == NULL) {
		if (fs->nreasons == IMPORT_REASONS) {
			fs->other_refused++;
			return;
		}
		r = &fs->reasons[fs->nreasons++];
		memcpy(r->key, key, sizeof(key));
		memcpy(r->text, text, sizeof(text));
	}
	if (r->count < IMPORT_REASON_LINES)
		r->lines[r->count] = line;
	r->count++;
}

/* What became of a line (import_batch.h's callback). */
static void
told(void *owner, uint64_t line, enum import_outcome what, const char *field,
     const char *why)
{
	struct file_stats *fs = owner;

	switch (what) {
	case IMPORT_STORED:
		fs->stored++;
		break;
	case IMPORT_DUPLICATE:
		fs->dup++;
		break;
	case IMPORT_CONFLICT:
		fs->conflicts++;
		break;
	case IMPORT_REFUSED:
		count_refusal(fs, field, why, line);
		break;
	}
}

/* --- progress ------------------------------------------------------------ */

static void
human_bytes(char *out, size_t n, uint64_t v)
{
	if (v >= 1000000000)
		snprintf(out, n, "%.2f GB", (double)v / 1e9);
	else if (v >= 1000000)
		snprintf(out, n, "%.1f MB", (double)v / 1e6);
	else
		snprintf(out, n, "%.1f kB", (double)v / 1e3);
}

/* The bar, redrawn at most 5 times a second (force: now). */
static void
progress(struct importer *im, const struct file_stats *fs, uint64_t bytes,
	 double t0, bool force)
{
	double t = ww_mono();
	char got[32], all[32], bar[21];
	int pct = -1;

	/* a long path by its end: the file's name */
	size_t nl = strlen(fs->name);
	const char *name = nl > 40 ? fs->name + nl - 37 : fs->name;
	const char *dots = nl > 40 ? "..." : "";

	if (!im->tty || (!force && t - im->t_draw < 0.2))
		return;
	im->t_draw = t;
	human_bytes(got, sizeof(got), bytes);
	if (fs->size > 0) {
		pct = (int)(100.0 * (double)bytes / (double)fs->size);
		pct = pct > 100 ? 100 : pct;
		human_bytes(all, sizeof(all), fs->size);
	}
	for (int i = 0; i < 20; i++)
		bar[i] = pct >= 0 && i < pct / 5 ? '#' : '.';
	bar[20] = '\0';
	if (pct >= 0)
		fprintf(stderr,
			"\r\033[K%s%s [%s] %3d%% %s of %s, %llu lines, "
			"%.0f lines/s",
			dots, name, bar, pct, got, all,
			(unsigned long long)fs->lines,
			(double)fs->lines / (t - t0 > 1e-3 ? t - t0 : 1e-3));
	else
		fprintf(stderr, "\r\033[K%s%s %s, %llu lines, %.0f lines/s",
			dots, name, got, (unsigned long long)fs->lines,
			(double)fs->lines / (t - t0 > 1e-3 ? t - t0 : 1e-3));
	fflush(stderr);
}

static void
progress_clear(const struct importer *im)
{
	if (im->tty) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}

/* --- one file ------------------------------------------------------------ */

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A name that promises a compression the bytes do not have: refused
 * before anything is stored (an empty or damaged .gz is not JSON Lines). */
static int
check_name(struct file_stats *fs, enum import_format f)
{
	const char *want = ends_with(fs->name, ".gz")	 ? "gzip"
			   : ends_with(fs->name, ".zst") ? "zstd"
							 : NULL;

	if (want == NULL || strcmp(want, import_format_name(f)) == 0)
		return 0;
	snprintf(fs->error, sizeof(fs->error),
		 "%s: named like %s data, but its first bytes are not %s's",
		 fs->name, want, want);
	return -1;
}

static int
open_file(struct file_stats *fs, int *fd)
{
	struct stat sb;

	if (strcmp(fs->name, "-") == 0) {
		*fd = STDIN_FILENO;
	} else if ((*fd = open(fs->name, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(fs->error, sizeof(fs->error), "%s: cannot open: %s",
			 fs->name, strerror(errno));
		return -1;
	}
	if (fstat(*fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		snprintf(fs->error, sizeof(fs->error), "%s: is a directory",
			 fs->name);
		close(*fd);
		return -1;
	}
	if (fstat(*fd, &sb) == 0 && S_ISREG(sb.st_mode))
		fs->size = (uint64_t)sb.st_size;
	return 0;
}

static void
import_file(struct importer *im, struct file_stats *fs)
{
	struct import_reader *r;
	struct import_line l;
	enum import_status st;
	double t0 = ww_mono();
	bool first = true;
	char err[256];
	int fd;

	if (open_file(fs, &fd) != 0)
		goto done;
	r = import_reader_new(import_read_fd, &fd, im->max_line);
	while (!import_pipe_failed(im->pipe, NULL)) {
		st = import_reader_next(r, &l, err, sizeof(err));
		if (first && st != IMPORT_ERROR &&
		    check_name(fs, import_reader_format(r)) != 0)
			break;
		first = false;
		if (st == IMPORT_EOF)
			break;
		if (st == IMPORT_ERROR) {
			snprintf(fs->error, sizeof(fs->error), "%s:%llu: %s",
				 fs->name,
				 (unsigned long long)import_reader_line(r),
				 err);
			break;
		}
		if (st == IMPORT_TOO_LONG) {
			fs->lines++;
			snprintf(err, sizeof(err),
				 "the line is longer than %zu bytes",
				 im->max_line);
			count_refusal(fs, "", err, l.line);
		} else {
			fs->lines++;
			import_pipe_add(im->pipe, &l, fs);
		}
		progress(im, fs, import_reader_bytes_in(r), t0, false);
	}
	/* What was read before an error is stored all the same, and every
	 * line of the file told before its summary. */
	import_pipe_flush(im->pipe);
	fs->fmt = import_reader_format(r);
	fs->bytes = import_reader_bytes_in(r);
	progress_clear(im);
	import_reader_free(r);
	if (fd != STDIN_FILENO)
		close(fd);
done:
	fs->secs = ww_mono() - t0;
	if (fs->error[0] != '\0')
		log_error("import", "%s", fs->error);
}

/* --- the summary --------------------------------------------------------- */

/* The most frequent reasons first (the first seen first among equals),
 * each with its first line numbers. */
static void
print_reasons(const struct file_stats *fs)
{
	size_t order[IMPORT_REASONS], n = fs->nreasons;
	uint64_t rest = fs->other_refused;

	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		while (j > 0 &&
		       fs->reasons[order[j - 1]].count < fs->reasons[i].count) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (size_t k = 0; k < n; k++) {
		const struct reason *r = &fs->reasons[order[k]];

		if (k >= IMPORT_REASONS_SHOWN) {
			rest += r->count;
			continue;
		}
		printf("  refused %llu: %s (line%s",
		       (unsigned long long)r->count, r->text,
		       r->count > 1 ? "s" : "");
		for (uint64_t j = 0; j < r->count && j < IMPORT_REASON_LINES;
		     j++)
			printf("%s %llu", j > 0 ? "," : "",
			       (unsigned long long)r->lines[j]);
		printf("%s)\n", r->count > IMPORT_REASON_LINES ? ", ..." : "");
	}
	if (rest > 0)
		printf("  refused %llu more, for other reasons\n",
		       (unsigned long long)rest);
}

static void
print_file(const struct file_stats *fs)
{
	char size[32];

	human_bytes(size, sizeof(size), fs->bytes);
	printf("%s (%s, %s): %llu lines: %llu stored, %llu duplicates, "
	       "%llu conflicts, %llu refused; %.2f s, %.0f lines/s\n",
	       strcmp(fs->name, "-") == 0 ? "(standard input)" : fs->name,
	       import_format_name(fs->fmt), size, (unsigned long long)fs->lines,
	       (unsigned long long)fs->stored, (unsigned long long)fs->dup,
	       (unsigned long long)fs->conflicts,
	       (unsigned long long)fs->refused, fs->secs,
	       (double)fs->lines / (fs->secs > 1e-3 ? fs->secs : 1e-3));
	print_reasons(fs);
	if (fs->error[0] != '\0')
		printf("  error: %s; the %llu lines before it were taken\n",
		       fs->error, (unsigned long long)fs->lines);
}

/* The whole run: 0, 2 or 3 (import_usage's "Exit status"). */
static int
print_total(const struct file_stats *v, size_t n, size_t done, double secs,
	    const struct importer *im)
{
	uint64_t lines = 0, stored = 0, dup = 0, conf = 0, ref = 0;
	size_t failed = 0;
	struct rusage ru;
	const char *err;
	bool store_failed = import_pipe_failed(im->pipe, &err);

	for (size_t i = 0; i < done; i++) {
		lines += v[i].lines;
		stored += v[i].stored;
		dup += v[i].dup;
		conf += v[i].conflicts;
		ref += v[i].refused;
		failed += v[i].error[0] != '\0';
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("total: %zu files (%zu failed, %zu not read), %llu lines: %llu "
	       "stored, %llu duplicates, %llu conflicts, %llu refused; %.2f s, "
	       "%.0f lines/s; peak RSS %ld kB\n",
	       n, failed, n - done, (unsigned long long)lines,
	       (unsigned long long)stored, (unsigned long long)dup,
	       (unsigned long long)conf, (unsigned long long)ref, secs,
	       (double)lines / (secs > 1e-3 ? secs : 1e-3), ru.ru_maxrss);
	if (store_failed)
		printf("stopped: the store failed (%s)\n", err);
	fflush(stdout);
	if (failed > 0 || done < n || store_failed)
		return EXIT_FAIL;
	return ref > 0 || conf > 0 ? IMPORT_EXIT_REFUSED : EXIT_OK;
}

/* --- the command --------------------------------------------------------- */

enum { OPT_DB = 1, OPT_FP, OPT_BATCH, OPT_MAX_LINE, OPT_THREADS, OPT_HELP };

struct import_opts {
	const char *db, *fpdir;
	long batch, max_line, threads;
};

/* 0, -1 after --help, or EXIT_USAGE. */
static int
parse_args(int argc, char **argv, struct import_opts *o)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, OPT_DB},
		{"fingerprints", required_argument, NULL, OPT_FP},
		{"batch", required_argument, NULL, OPT_BATCH},
		{"max-line", required_argument, NULL, OPT_MAX_LINE},
		{"threads", required_argument, NULL, OPT_THREADS},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	int c, bad = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_DB:
			o->db = optarg;
			break;
		case OPT_FP:
			o->fpdir = optarg;
			break;
		case OPT_BATCH:
			bad |= ww_opt_long("batch", optarg, 1, PREP_MAX_LINES,
					   &o->batch);
			break;
		case OPT_MAX_LINE:
			bad |= ww_opt_long("max-line", optarg, 1,
					   (long)STORE_MAX_RAW, &o->max_line);
			break;
		case OPT_THREADS:
			bad |= ww_opt_long("threads", optarg, 1, 64,
					   &o->threads);
			break;
		case OPT_HELP:
			fputs(import_usage, stdout);
			return -1;
		default:
			return EXIT_USAGE;
		}
		if (bad)
			return EXIT_USAGE;
	}
	if (o->db == NULL || optind >= argc) {
		ww_usage_error("%s", "import needs --db DB and at least one "
				     "FILE (- for standard input)");
		return EXIT_USAGE;
	}
	return 0;
}

static long
cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : n;
}

int
import_main(int argc, char **argv)
{
	struct import_opts o = {
		.batch = 1000, .max_line = (long)STORE_MAX_RAW, .threads = 0};
	struct ww_fingerprints *fp;
	struct importer im;
	struct file_stats *fs;
	size_t n, done = 0;
	double t0 = ww_mono();
	char err[512], *shown;
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? EXIT_OK : rc;
	fp = ww_fingerprints_load_default(o.fpdir, err, sizeof(err));
	if (fp == NULL) {
		ww_usage_error("%s", err);
		return EXIT_USAGE;
	}
	memset(&im, 0, sizeof(im));
	im.st = store_open(o.db, err, sizeof(err));
	if (im.st == NULL) {
		shown = db_redact(o.db);
		log_error("import", "%s: %s", shown, err);
		free(shown);
		ww_fingerprints_free(fp);
		return EXIT_FAIL;
	}
	im.pipe = import_pipe_new(im.st, fp,
				  (int)(o.threads ? o.threads : cpus()),
				  (size_t)o.batch, told);
	im.max_line = (size_t)o.max_line;
	im.tty = isatty(STDERR_FILENO) == 1;
	n = (size_t)(argc - optind);
	fs = xcalloc(n, sizeof(*fs));
	for (; done < n && !import_pipe_failed(im.pipe, NULL); done++) {
		fs[done].name = argv[optind + (int)done];
		import_file(&im, &fs[done]);
		print_file(&fs[done]);
	}
	rc = print_total(fs, n, done, ww_mono() - t0, &im);
	free(fs);
	import_pipe_free(im.pipe);
	store_close(im.st);
	ww_fingerprints_free(fp);
	return rc;
}
