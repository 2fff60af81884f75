/*
 * import_batch.c - lines into rows on several threads, rows into the store
 * on a writer thread (import_batch.h).
 *
 * Two batches: while the writer stores one, the reader fills the other and
 * the threads make its rows; a batch is handed to the writer only once the
 * previous one is stored and told. The threads of a batch are started for
 * it and joined after it (a thread's start costs tens of microseconds, a
 * batch of 1,000 rows hundreds of milliseconds): no queue, no condition
 * variable. Each thread has its own prep_ctx (a compressor and jansson's
 * arena); the store is touched by one thread at a time (store.h), the
 * writer's while it runs.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "import_batch.h"
#include "ingest_prep.h"
#include "store.h"
#include "util.h"

#define IMPORT_MAX_THREADS 64

struct import_pipe;

struct ibatch {
	char *text; /* the lines' raw text, one after the other */
	size_t len, cap;
	struct prep_line *lines; /* text set when the batch is made */
	size_t *off;		 /* lines[i]'s text at text + off[i] */
	struct prep_row *rows;
	size_t n;
	void *owner;
	/* the rows made, for the store */
	struct store_meas *sm;
	size_t *row_of; /* sm[j] is rows[row_of[j]] */
	enum store_result *res;
	char **ferr; /* the database's refusal of sm[j] alone, or NULL */
	size_t nsm;
	int rc; /* the writer's: -1 the store failed */
	char err[512];
	atomic_size_t next; /* the next line a thread takes */
	struct import_pipe *p;
};

struct import_pipe {
	struct store *st;
	struct prep_ctx *pc[IMPORT_MAX_THREADS];
	int threads;
	size_t max;
	import_row_fn cb;
	struct prep_peer peer;
	struct ibatch b[2];
	int cur;     /* b[cur] is being filled */
	int writing; /* b[writing] is with the writer; -1 none */
	pthread_t writer;
	bool joinable; /* writer runs b[writing] (else it was stored here) */
	bool failed;
	char err[512];
};

static void
ibatch_init(struct ibatch *b, struct import_pipe *p)
{
	size_t max = p->max;

	memset(b, 0, sizeof(*b));
	b->p = p;
	b->lines = xcalloc(max, sizeof(*b->lines));
	b->off = xcalloc(max, sizeof(*b->off));
	b->rows = xcalloc(max, sizeof(*b->rows));
	b->sm = xcalloc(max, sizeof(*b->sm));
	b->row_of = xcalloc(max, sizeof(*b->row_of));
	b->res = xcalloc(max, sizeof(*b->res));
	b->ferr = xcalloc(max, sizeof(*b->ferr));
}

static void
ibatch_clear(struct ibatch *b)
{
	for (size_t i = 0; i < b->n; i++)
		prep_row_clear(&b->rows[i]);
	for (size_t j = 0; j < b->nsm; j++) {
		free(b->ferr[j]);
		b->ferr[j] = NULL;
	}
	b->n = b->nsm = b->len = 0;
	b->rc = 0;
	b->owner = NULL;
}

static void
ibatch_free(struct ibatch *b)
{
	ibatch_clear(b);
	free(b->text);
	free(b->lines);
	free(b->off);
	free(b->rows);
	free(b->sm);
	free(b->row_of);
	free(b->res);
	free(b->ferr);
}

struct import_pipe *
import_pipe_new(struct store *st, const struct ww_fingerprints *fp, int threads,
		size_t batch, import_row_fn cb)
{
	struct import_pipe *p = xcalloc(1, sizeof(*p));

	p->st = st;
	p->threads = threads < 1		    ? 1
		     : threads > IMPORT_MAX_THREADS ? IMPORT_MAX_THREADS
						    : threads;
	p->max = batch < 1 ? 1 : batch;
	p->cb = cb;
	p->writing = -1;
	for (int i = 0; i < p->threads; i++)
		p->pc[i] = prep_ctx_new(fp);
	ibatch_init(&p->b[0], p);
	ibatch_init(&p->b[1], p);
	return p;
}

void
import_pipe_free(struct import_pipe *p)
{
	if (p == NULL)
		return;
	import_pipe_flush(p);
	ibatch_free(&p->b[0]);
	ibatch_free(&p->b[1]);
	for (int i = 0; i < p->threads; i++)
		prep_ctx_free(p->pc[i]);
	free(p);
}

bool
import_pipe_failed(const struct import_pipe *p, const char **err)
{
	if (err != NULL)
		*err = p->err;
	return p->failed;
}

/* --- making rows ---------------------------------------------------------- */

struct maker {
	struct ibatch *b;
	struct prep_ctx *pc;
	const struct prep_peer *peer;
};

static void *
make_rows(void *arg)
{
	struct maker *m = arg;
	struct ibatch *b = m->b;
	size_t i;

	while ((i = atomic_fetch_add(&b->next, 1)) < b->n)
		prep_row_make(m->pc, &b->lines[i], m->peer, &b->rows[i]);
	return NULL;
}

/* Every line of b a row, on the pipe's threads (this one included). */
static void
make_all(struct import_pipe *p, struct ibatch *b)
{
	struct maker m[IMPORT_MAX_THREADS];
	pthread_t t[IMPORT_MAX_THREADS];
	int started = 0;

	for (size_t i = 0; i < b->n; i++)
		b->lines[i].text = b->text + b->off[i];
	p->peer.received = (int64_t)time(NULL);
	atomic_store(&b->next, 0);
	for (int k = 0; k < p->threads; k++)
		m[k] = (struct maker){b, p->pc[k], &p->peer};
	/* no more threads than a batch keeps busy: 16 lines each at least */
	for (int k = 1; k < p->threads && (size_t)k * 16 < b->n; k++) {
		if (pthread_create(&t[k], NULL, make_rows, &m[k]) != 0)
			break; /* the others, this one included, do it */
		started = k;
	}
	make_rows(&m[0]);
	for (int k = 1; k <= started; k++)
		pthread_join(t[k], NULL);
}

/* --- storing them ----------------------------------------------------------
 */

/* The batch refused whole: each row alone, so that one row the database
 * refuses does not take the others with it. None taken: the store is
 * failing. */
static void
store_one_by_one(struct ibatch *b)
{
	struct import_pipe *p = b->p;
	size_t ok = 0;
	char err[512];

	for (size_t j = 0; j < b->nsm; j++) {
		if (store_put_batch(p->st, &b->sm[j], 1, &b->res[j], err,
				    sizeof(err)) == 0) {
			ok++;
			continue;
		}
		b->ferr[j] = xstrdup(err);
		snprintf(b->err, sizeof(b->err), "%s", err);
	}
	if (ok == 0)
		b->rc = -1;
}

static void *
write_rows(void *arg)
{
	struct ibatch *b = arg;

	if (store_put_batch(b->p->st, b->sm, b->nsm, b->res, b->err,
			    sizeof(b->err)) != 0) {
		log_warn("import",
			 "a batch of %zu was refused (%s); its measurements "
			 "are tried one at a time",
			 b->nsm, b->err);
		store_one_by_one(b);
	}
	return NULL;
}

/* The writer's batch stored: told, and emptied. */
static void
wait_writer(struct import_pipe *p)
{
	struct ibatch *b;

	if (p->writing < 0)
		return;
	b = &p->b[p->writing];
	if (p->joinable)
		pthread_join(p->writer, NULL);
	p->writing = -1;
	if (b->rc != 0) {
		p->failed = true;
		snprintf(p->err, sizeof(p->err), "%s", b->err);
	} else {
		for (size_t j = 0; j < b->nsm; j++) {
			uint64_t line = b->rows[b->row_of[j]].line;

			if (b->ferr[j] != NULL)
				p->cb(b->owner, line, IMPORT_REFUSED, "store",
				      b->ferr[j]);
			else
				p->cb(b->owner, line,
				      b->res[j] == STORE_NEW ? IMPORT_STORED
				      : b->res[j] == STORE_DUPLICATE
					      ? IMPORT_DUPLICATE
					      : IMPORT_CONFLICT,
				      "", "");
		}
	}
	ibatch_clear(b);
}

/* b[cur] made into rows, its refusals told, and handed to the writer. */
static void
submit(struct import_pipe *p)
{
	struct ibatch *b = &p->b[p->cur];

	if (b->n == 0)
		return;
	make_all(p, b);
	for (size_t i = 0; i < b->n; i++) {
		struct prep_row *r = &b->rows[i];

		if (!r->ok) {
			p->cb(b->owner, r->line, IMPORT_REFUSED, r->field,
			      r->error);
			continue;
		}
		b->sm[b->nsm] = r->sm;
		b->row_of[b->nsm++] = i;
	}
	wait_writer(p);
	if (p->failed || b->nsm == 0) {
		ibatch_clear(b);
		return;
	}
	p->writing = p->cur;
	p->joinable = pthread_create(&p->writer, NULL, write_rows, b) == 0;
	if (!p->joinable)
		write_rows(b); /* no thread to be had: here, then */
	p->cur = 1 - p->cur;
}

void
import_pipe_add(struct import_pipe *p, const struct import_line *l, void *owner)
{
	struct ibatch *b = &p->b[p->cur];

	if (p->failed)
		return;
	if (b->n > 0 && (b->n == p->max || b->owner != owner ||
			 b->len + l->len > IMPORT_BATCH_BYTES)) {
		submit(p);
		b = &p->b[p->cur];
	}
	if (b->len + l->len > b->cap) {
		b->cap = b->len + l->len > 2 * b->cap ? b->len + l->len
						      : 2 * b->cap;
		b->text = xrealloc(b->text, b->cap);
	}
	memcpy(b->text + b->len, l->text, l->len);
	b->off[b->n] = b->len;
	b->lines[b->n].len = l->len;
	b->lines[b->n].line = (size_t)l->line;
	b->n++;
	b->len += l->len;
	b->owner = owner;
}

void
import_pipe_flush(struct import_pipe *p)
{
	submit(p);
	wait_writer(p);
}
