/*
 * upload_int.h - what the uploader's files share (upload.c: the round and
 * the interface; upload_xfer.c: one HTTP transfer and its outcome in
 * state.json; upload_batch.c: the batch from the spool and the collector's
 * answer to it; upload_register.c: whoami and the submitter key's
 * registration); not installed. The interface is upload.h.
 */
#ifndef WW_UPLOAD_INT_H
#define WW_UPLOAD_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "upload.h"

/* A batch: at most this many measurements, and about this many bytes of
 * JSON before compression (the collector takes 10,000 lines and 64 MiB). */
#define BATCH_MAX_LINES 200
#define BATCH_MAX_BYTES (4u * 1024 * 1024)
/* Answers read at most (a stored/duplicates list of 200 uids is 15 KiB). */
#define ANSWER_MAX (1024u * 1024)
/* The pause that lets a burst of finished measurements share a batch. */
#define KICK_DELAY 1.0

enum xfer_kind { X_NONE, X_WHOAMI, X_REGISTER, X_POST };

struct uploader {
	struct event_base *base;
	struct probe_env *env;
	struct upload_opts o;
	struct upload_opts next_o; /* set while a round runs */
	bool has_next_o;
	struct io_curl *io;
	struct event *timer; /* the next round (kick or backoff) */
	double timer_at;     /* ww_mono() when it fires; 0: not armed */
	bool backing_off;
	bool busy;
	unsigned failed_rounds;
	size_t col;	    /* collector being tried in this round */
	bool whoami_done;   /* for col, in this round */
	bool sign;	    /* sign the batches to col (registered there) */
	bool reregistered;  /* col refused a signed batch this round */
	size_t batch_max;   /* lines; halved on 413 */
	double retry_after; /* largest Retry-After seen this round */
	/* The collector's clock minus ours, from its Date header: a batch is
	 * signed with the collector's time, which it checks to +-15 min, so
	 * that a volunteer's wrong clock does not stop the uploads. */
	long clock_offset;
	/* the transfer in flight */
	enum xfer_kind kind;
	CURL *easy;
	struct curl_slist *hdrs;
	char *url;
	char *body; /* request body (gzip) */
	char *ans;
	size_t ans_len;
	bool ans_too_big;
	char errbuf[CURL_ERROR_SIZE];
	/* the batch in flight */
	char **names; /* spool file names */
	char **uids;
	size_t n_batch;
	uploader_round_cb round_cb;
	void *round_arg;
	/* a whoami request of its own (uploader_whoami) */
	uploader_whoami_cb who_cb;
	void *who_arg;
	size_t who_col;
	bool who_standalone;
};

/* --- upload.c: the round ------------------------------------------------ */

/* The transfer in flight is over (io_curl's callback): to the result
 * handler of its kind. */
void upl_xfer_done(CURL *easy, CURLcode res, void *arg);
/* The collector in hand failed: on to the next, or end the round. */
void upl_next_collector(struct uploader *u);
/* The next batch to the collector in hand; the round ends when the spool
 * has nothing left. */
void upl_post_batch(struct uploader *u);
/* A reload that came in while a transfer ran takes effect now. */
void upl_apply_next_opts(struct uploader *u);

/* --- upload_xfer.c: one transfer ---------------------------------------- */

/* Start a transfer of kind to the collector at base (its API path added);
 * the caller sets a POST's body on u->easy. */
void upl_start_xfer(struct uploader *u, enum xfer_kind kind, const char *base);
/* Free what the transfer held (its answer too); u->kind becomes X_NONE. */
void upl_end_xfer(struct uploader *u);
/* Record a collector's failure / success in state.json (collectors[url]). */
void upl_note_failure(struct uploader *u, const char *url, const char *failure,
		      const char *detail);
void upl_note_success(struct uploader *u, const char *url, size_t stored,
		      size_t dups);
/* A transfer that failed below HTTP, as a failure of the vocabulary with
 * curl's words as the detail. Before upl_end_xfer(). */
void upl_note_transport_failure(struct uploader *u, const char *from,
				CURLcode res);
/* The collector's error text, one line, at most 200 bytes (caller frees). */
char *upl_answer_error(const struct uploader *u);

/* --- upload_batch.c: the batch ------------------------------------------ */

/* Fill the next batch (u->names, u->uids) from the spool; its JSON Lines
 * (len bytes), or NULL when nothing is queued. */
char *upl_build_batch(struct uploader *u, size_t *len);
/* The collector's answer to the batch: delete what it stored or had, move
 * what it rejected. 0, or -1 when the answer is not the collector's. */
int upl_apply_answer(struct uploader *u, const char *from, size_t *n_stored,
		     size_t *n_dups);
void upl_free_batch(struct uploader *u);

/* --- upload_register.c: whoami and the key ------------------------------ */

/* Whoami is done: register the key unless the collector knows it, then
 * the batches. */
void upl_after_whoami(struct uploader *u);
/* The answers of a round's whoami and registration transfers. */
void upl_whoami_result(struct uploader *u, CURLcode res, long code);
void upl_register_result(struct uploader *u, CURLcode res, long code);
/* The answer of uploader_whoami()'s transfer. */
void upl_who_standalone_result(struct uploader *u, CURLcode res, long code);

#endif
