/*
 * export_cmd.c - `wallwatch-collector export --db PATH [filters]
 * [--format jsonl|csv] [--output F]` (export_cmd.h): what GET
 * /api/v1/export answers, a page at a time, to a file or stdout. The
 * database is opened read-only (store_open_ro()).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "api_query.h"
#include "collector.h"
#include "export_cmd.h"
#include "store.h"
#include "util.h"

int
export_main(int argc, char **argv)
{
	/* The filters: the same names and checks as GET /api/v1/export
	 * (api_query.h); the value 'f' marks them. */
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"since", required_argument, NULL, 'f'},
		{"until", required_argument, NULL, 'f'},
		{"input", required_argument, NULL, 'f'},
		{"cc", required_argument, NULL, 'f'},
		{"asn", required_argument, NULL, 'f'},
		{"category", required_argument, NULL, 'f'},
		{"state", required_argument, NULL, 'f'},
		{"source", required_argument, NULL, 'f'},
		{"format", required_argument, NULL, 'F'},
		{"output", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *out_path = NULL, *fmt = "jsonl";
	struct api_query q;
	struct store_filter f;
	struct evbuffer *buf;
	struct store *st;
	char err[512];
	long n, total = 0;
	FILE *out = stdout;
	int c, li, rc = EXIT_OK;

	api_query_init(&q);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, &li)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'f':
			if (api_query_set(&q, AQ_FILTERS, opts[li].name, optarg,
					  err, sizeof(err)) != 0) {
				ww_usage_error("bad --%s", err);
				api_query_clear(&q);
				return EXIT_USAGE;
			}
			break;
		case 'F':
			fmt = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		default:
			api_query_clear(&q);
			return EXIT_USAGE;
		}
	}
	if (api_query_finish(&q, err, sizeof(err)) != 0) {
		ww_usage_error("bad --%s", err);
		api_query_clear(&q);
		return EXIT_USAGE;
	}
	f = q.f;
	if (db == NULL || optind < argc ||
	    (strcmp(fmt, "jsonl") != 0 && strcmp(fmt, "csv") != 0)) {
		ww_usage_error("%s", "export needs --db PATH, and --format is "
				     "jsonl or csv");
		api_query_clear(&q);
		return EXIT_USAGE;
	}
	/* read-only: an export writes nothing, so it runs on a replica too
	 * and never creates a database from a mistyped path */
	st = store_open_ro(db, err, sizeof(err));
	if (st == NULL) {
		log_error("export", "%s", err);
		api_query_clear(&q);
		return EXIT_FAIL;
	}
	if (out_path != NULL && (out = fopen(out_path, "wx")) == NULL) {
		log_error("export", "cannot create %s (it must not exist): %s",
			  out_path, strerror(errno));
		store_close(st);
		api_query_clear(&q);
		return EXIT_FAIL;
	}
	if (strcmp(fmt, "csv") == 0) {
		fputs(export_csv_header(), out);
		fflush(out); /* the rows go to the descriptor directly */
	}
	buf = evbuffer_new();
	while ((n = export_page(st, &f, strcmp(fmt, "csv") == 0, buf)) > 0) {
		total += n;
		if (evbuffer_write(buf, fileno(out)) < 0 &&
		    evbuffer_get_length(buf) > 0)
			break;
		while (evbuffer_get_length(buf) > 0)
			if (evbuffer_write(buf, fileno(out)) < 0)
				break;
	}
	fflush(out);
	if (n < 0 || evbuffer_get_length(buf) > 0 ||
	    (out != stdout && fsync(fileno(out)) != 0)) {
		log_error("export", "export failed after %ld measurements",
			  total);
		rc = EXIT_FAIL;
	}
	if (out != stdout)
		fclose(out);
	evbuffer_free(buf);
	store_close(st);
	api_query_clear(&q);
	if (rc == EXIT_OK)
		log_info("export", "%ld measurements", total);
	return rc;
}
