/*
 * import_batch.h - the import's lines on their way to the store
 * (`wallwatch-collector import`, import_cmd.c): gathered into a batch,
 * made rows by prep_row_make() on several threads at once (as the
 * ingest's workers do), and stored by store_put_batch() on a writer thread
 * while the next batch is read and made. Two batches at most are held.
 *
 * What became of each line is told through a callback, always on the
 * thread that calls import_pipe_add() and import_pipe_flush(), in the
 * order of the lines within a batch (refusals of a batch before its
 * stored ones).
 */
#ifndef WW_IMPORT_BATCH_H
#define WW_IMPORT_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "import_read.h"

/* Raw text held per batch at most (a line may be up to STORE_MAX_RAW). */
#define IMPORT_BATCH_BYTES ((size_t)16 * 1024 * 1024)

enum import_outcome {
	IMPORT_STORED,
	IMPORT_DUPLICATE,
	IMPORT_CONFLICT,
	IMPORT_REFUSED, /* field ("" for the whole line, "store" when the
			   database refused it alone) and why */
};

/* owner: as given to import_pipe_add() with the line. */
typedef void (*import_row_fn)(void *owner, uint64_t line,
			      enum import_outcome what, const char *field,
			      const char *why);

struct store;
struct ww_fingerprints;
struct import_pipe;

/* Rows into st (used by the writer thread only while the pipe lives),
 * threads (>= 1) making rows, batches of at most batch lines (1 to
 * PREP_MAX_LINES). fp may be NULL and is only read. */
struct import_pipe *import_pipe_new(struct store *st,
				    const struct ww_fingerprints *fp,
				    int threads, size_t batch,
				    import_row_fn cb);
/* Flushes first. */
void import_pipe_free(struct import_pipe *p);

/* l (copied) into the batch, for owner; a full batch is made into rows
 * and handed to the writer (once the previous one is stored). Nothing is
 * taken once the store failed. */
void import_pipe_add(struct import_pipe *p, const struct import_line *l,
		     void *owner);

/* Everything added is made, stored and told before it returns. */
void import_pipe_flush(struct import_pipe *p);

/* True once the store refused a whole batch and each of its rows alone
 * (the database is failing): *err (may be NULL) says why. */
bool import_pipe_failed(const struct import_pipe *p, const char **err);

#endif
