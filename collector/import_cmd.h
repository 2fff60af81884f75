/*
 * import_cmd.h - `wallwatch-collector import --db DB FILE...`: measurements
 * from JSON Lines files (plain, gzip or zstd, OONI's archive or our
 * probe's output) into the store, each line made into a row exactly as
 * POST /api/v1/measurements makes it (ingest_prep.h), docs/ooni-import.md.
 */
#ifndef WW_IMPORT_CMD_H
#define WW_IMPORT_CMD_H

/* Exit status beyond collector.h's: every file was read to its end, but
 * some lines were refused (or conflicted with a stored measurement). */
#define IMPORT_EXIT_REFUSED 3

int import_main(int argc, char **argv);

#endif
