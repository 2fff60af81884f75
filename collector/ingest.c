/*
 * ingest.c - POST /api/v1/measurements: one measurement (a JSON object) or
 * a batch (JSON Lines), optionally gzip-encoded. Every line is validated
 * and analysed again with the collector's rules (ingest_prep.c); the good
 * ones are stored, and the answer, sent only after their transaction is on
 * disk, lists what was stored, what was already there (a retry), and what
 * was refused and why.
 *
 * Three kinds of thread, so that the event loop only speaks HTTP:
 *
 *   loop     takes the body, answers; never parses or writes to disk
 *   workers  (--ingest-threads) decode bodies and make rows, a chunk of
 *            lines at a time, so that one large batch uses every core
 *   writer   one, with its own database handle: it stores every body that
 *            is ready in ONE transaction (group commit), so that many
 *            single-measurement POSTs share one fsync; each is still
 *            answered only once that commit is on disk
 *
 * A job (one POST) moves loop -> prep queue -> write queue -> done queue ->
 * loop, under one mutex. A client that hangs up does not stop its job: what
 * it sent is stored all the same (it will retry, and hear "duplicate").
 *
 * The submitter's address is looked up in the operator's IP-to-ASN table
 * (--asn-db) on the loop, and only the network and country it gives are
 * kept; the address itself is never stored.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "asndb.h"
#include "collector.h"
#include "drain.h"
#include "ingest_prep.h"
#include "ratelimit.h"
#include "store.h"
#include "submitters.h"
#include "util.h"

/* Lines a worker takes at a time: small enough that two workers share a
 * 1,000-line batch evenly, large enough that the mutex is cold. */
#define INGEST_CHUNK 16
/* Measurements in one shared commit at most (the store's limit is
 * STORE_MAX_BATCH): bounds the writer's memory and a commit's time. */
#define INGEST_GROUP_MAX 20000

struct job {
	struct ingest *in;
	struct job *next; /* in the queue it is in */
	/* loop only */
	struct evhttp_request *req; /* NULL once the client has gone */
	size_t body_len;
	/* set on the loop before the job is queued, then read-only */
	struct evbuffer *body;
	bool gzip;
	char cc[3], asn[16];
	struct prep_peer peer;
	struct sub_hdrs hdrs; /* the signature headers (submitters.c) */
	/* set by the worker that decodes it: who submitted it */
	char submitter[SUB_ID_MAX];
	/* set by the writer: rows over a rate limit, not stored now */
	bool *deferred;
	long retry_after; /* seconds, for a 429 */
	/* the workers' (under in->mu: decoded, next_line, busy) */
	bool decoded;
	struct prep_body pb;
	struct prep_row *rows; /* pb.n of them */
	size_t next_line;      /* the first line no worker has taken */
	size_t busy;	       /* chunks being made now */
	/* the outcome, for the loop: status and JSON body */
	int code;
	const char *reason;
	char *reply;
	size_t n_stored, n_dups, n_conflicts, n_rejected;
};

struct jqueue {
	struct job *head, *tail;
};

struct ingest {
	const struct ww_fingerprints *fp;
	const struct ww_asndb *asn;
	struct store *st; /* the writer's */
	int n_workers;
	/* Bodies held at once, in bytes as received (--ingest-queue): past
	 * it a POST gets 503 and Retry-After, rather than memory without
	 * bound. One body is always taken, however large. */
	size_t max_queued;
	struct event_base *base;
	struct event *done_ev;
	pthread_t *workers, writer;
	bool started, writer_runs;

	pthread_mutex_t mu;
	pthread_cond_t work_cv;	 /* prep has jobs, or stopping */
	pthread_cond_t write_cv; /* write has jobs, or stopping */
	struct jqueue prep, write, done;
	bool stopping;
	unsigned long long commits, committed; /* the writer's, under mu */

	/* the loop's */
	size_t inflight, queued;
	struct drain *drain; /* each job taken and answer holds it */
	int64_t count;	     /* measurements in the store */
	unsigned long long stored, duplicates, conflicts, rejected, requests,
		busy;
	/* submitters.c and ratelimit.c (NULL: all anonymous, no limits) */
	struct sub_registry *reg;
	struct rate_limiter *rl;
	unsigned long long limited, refused_sig;
};

static void
jq_push(struct jqueue *q, struct job *j)
{
	j->next = NULL;
	if (q->tail != NULL)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
}

static void
jq_push_front(struct jqueue *q, struct job *j)
{
	j->next = q->head;
	q->head = j;
	if (q->tail == NULL)
		q->tail = j;
}

static struct job *
jq_pop(struct jqueue *q)
{
	struct job *j = q->head;

	if (j != NULL) {
		q->head = j->next;
		if (q->head == NULL)
			q->tail = NULL;
		j->next = NULL;
	}
	return j;
}

static void
job_free(struct job *j)
{
	if (j->rows != NULL)
		for (size_t i = 0; i < j->pb.n; i++)
			prep_row_clear(&j->rows[i]);
	free(j->rows);
	prep_body_free(&j->pb);
	sub_hdrs_clear(&j->hdrs);
	free(j->deferred);
	if (j->body != NULL)
		evbuffer_free(j->body);
	free(j->reply);
	free(j);
}

/* --- the outcome (any thread) ------------------------------------------- */

static char *
dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	if (s == NULL)
		abort();
	json_decref(o);
	return s;
}

static void
fail_job(struct job *j, int code, const char *reason, const char *msg)
{
	j->code = code;
	j->reason = reason;
	free(j->reply);
	j->reply = dump(json_pack("{s:s}", "error", msg));
}

/* Is row i of j to be stored now (good, and not over a rate limit)? */
static bool
row_goes(const struct job *j, size_t i)
{
	return j->rows[i].ok && (j->deferred == NULL || !j->deferred[i]);
}

/* The answer to a job whose rows were stored (res[k] for its k-th good
 * row): what was stored, what was there already (duplicates: the same
 * bytes; conflicts: its uid with other content, not stored), what was
 * refused. Any refusal makes it a 400; what was good is stored all the
 * same. A conflict alone leaves it a 200, as a duplicate does: the probe
 * must not send it again, the uid is taken. */
static void
answer_job(struct job *j, const enum store_result *res)
{
	json_t *stored = json_array(), *dups = json_array();
	json_t *conflicts = json_array(), *rejected = json_array();
	json_t *deferred = json_array(), *o;
	size_t k = 0;

	for (size_t i = 0; i < j->pb.n; i++) {
		const struct prep_row *r = &j->rows[i];

		if (r->ok && !row_goes(j, i)) {
			json_array_append_new(deferred, json_string(r->sm.uid));
		} else if (r->ok) {
			enum store_result sr = res[k++];

			json_array_append_new(sr == STORE_NEW	     ? stored
					      : sr == STORE_CONFLICT ? conflicts
								     : dups,
					      json_string(r->sm.uid));
		} else {
			json_array_append_new(rejected,
					      json_pack("{s:I,s:s,s:s}", "line",
							(json_int_t)r->line,
							"field", r->field,
							"error", r->error));
		}
	}
	j->n_stored = json_array_size(stored);
	j->n_dups = json_array_size(dups);
	j->n_conflicts = json_array_size(conflicts);
	j->n_rejected = json_array_size(rejected);
	if (json_array_size(deferred) > 0) {
		/* Over a rate limit part way: the rest is stored and listed,
		 * the deferred are to be sent again after Retry-After. */
		j->code = 429;
		j->reason = "Too Many Requests";
	} else if (j->n_rejected > 0) {
		j->code = 400;
		j->reason = "Bad Request";
	} else {
		j->code = 200;
		j->reason = "OK";
	}
	free(j->reply);
	o = json_pack("{s:o,s:o,s:o,s:o}", "stored", stored, "duplicates", dups,
		      "conflicts", conflicts, "rejected", rejected);
	if (json_array_size(deferred) > 0)
		json_object_set_new(o, "deferred", deferred);
	else
		json_decref(deferred);
	j->reply = dump(o);
}

static size_t
good_rows(const struct job *j)
{
	size_t n = 0;

	for (size_t i = 0; i < j->pb.n; i++)
		n += row_goes(j, i);
	return n;
}

/* --- workers ------------------------------------------------------------- */

/* Hand j to the loop (with in->mu held). */
static void
to_done(struct ingest *in, struct job *j)
{
	jq_push(&in->done, j);
	event_active(in->done_ev, EV_READ, 0);
}

/* Who sent j (body: len bytes as received) and whether its batch is over a
 * rate limit (without in->mu). 0, or -1 when it is refused (answered). */
static int
identify(struct job *j, const unsigned char *body, size_t len)
{
	struct ingest *in = j->in;
	char err[512];
	int code;

	code = sub_check_upload(in->reg, &j->hdrs, body, len, j->peer.asn,
				j->peer.received, j->submitter, err,
				sizeof(err));
	if (code != 0) {
		fail_job(j, code, code == 403 ? "Forbidden" : "Unauthorized",
			 err);
		return -1;
	}
	j->peer.submitter = j->submitter;
	if (in->rl != NULL &&
	    (j->retry_after = rate_batch(in->rl, j->submitter, j->peer.asn,
					 j->peer.received)) > 0) {
		fail_job(j, 429, "Too Many Requests",
			 "too many batches from this submitter or network: "
			 "retry after Retry-After seconds");
		return -1;
	}
	return 0;
}

/* The rows of j over a rate limit (measurements per target), marked
 * deferred: not stored now, answered 429 (any thread, without in->mu). */
static void
limit_rows(struct ingest *in, struct job *j)
{
	const char **targets;

	if (in->rl == NULL || j->pb.n == 0)
		return;
	targets = xcalloc(j->pb.n, sizeof(*targets));
	j->deferred = xcalloc(j->pb.n, sizeof(*j->deferred));
	for (size_t i = 0; i < j->pb.n; i++) {
		const struct store_meas *m = &j->rows[i].sm;

		if (j->rows[i].ok && m->input != NULL)
			targets[i] = xasprintf("%s\x1f%s\x1f%s", m->input,
					       m->probe_cc, m->probe_asn);
	}
	j->retry_after = rate_rows(in->rl, j->submitter, j->peer.asn, targets,
				   j->pb.n, j->deferred, j->peer.received);
	for (size_t i = 0; i < j->pb.n; i++)
		free((char *)targets[i]);
	free(targets);
}

/* The body as lines, and room for their rows (without in->mu). 0, or -1
 * when the whole body is refused (the job is then answered). */
static int
decode(struct job *j)
{
	size_t len = evbuffer_get_length(j->body);
	const unsigned char *b = evbuffer_pullup(j->body, -1);
	char err[512];
	int code;

	if (identify(j, b, len) != 0)
		return -1;
	code = prep_body_decode(b, len, j->gzip, &j->pb, err, sizeof(err));
	if (code != 0) {
		fail_job(j, code,
			 code == 413 ? "Payload Too Large" : "Bad Request",
			 err);
		return -1;
	}
	j->rows = xcalloc(j->pb.n, sizeof(*j->rows));
	return 0;
}

/* Make rows [first, first + n) of j (without in->mu), then count the chunk
 * done; the last chunk of a job sends it to the writer. */
static void
make_rows(struct ingest *in, struct prep_ctx *ctx, struct job *j, size_t first,
	  size_t n)
{
	pthread_mutex_unlock(&in->mu);
	for (size_t i = first; i < first + n; i++)
		prep_row_make(ctx, &j->pb.lines[i], &j->peer, &j->rows[i]);
	pthread_mutex_lock(&in->mu);
	if (--j->busy == 0 && j->next_line == j->pb.n) {
		jq_push(&in->write, j);
		pthread_cond_signal(&in->write_cv);
	}
}

static void *
worker_main(void *arg)
{
	struct ingest *in = arg;
	struct prep_ctx *ctx = prep_ctx_new(in->fp);

	pthread_mutex_lock(&in->mu);
	for (;;) {
		struct job *j;
		size_t first, n;

		while (!in->stopping && in->prep.head == NULL)
			pthread_cond_wait(&in->work_cv, &in->mu);
		if (in->stopping)
			break;
		j = in->prep.head;
		if (!j->decoded) {
			/* One worker decodes; the others take other jobs. */
			jq_pop(&in->prep);
			pthread_mutex_unlock(&in->mu);
			if (decode(j) != 0) {
				pthread_mutex_lock(&in->mu);
				to_done(in, j);
				continue;
			}
			pthread_mutex_lock(&in->mu);
			j->decoded = true;
			if (j->pb.n > INGEST_CHUNK) {
				/* Large: every worker helps, a chunk each. */
				jq_push_front(&in->prep, j);
				pthread_cond_broadcast(&in->work_cv);
				continue;
			}
			/* Small (a single measurement, most often): all of
			 * it now, without waking anyone. */
			j->next_line = j->pb.n;
			j->busy++;
			make_rows(in, ctx, j, 0, j->pb.n);
			continue;
		}
		first = j->next_line;
		n = j->pb.n - first < INGEST_CHUNK ? j->pb.n - first
						   : INGEST_CHUNK;
		j->next_line += n;
		j->busy++;
		if (j->next_line == j->pb.n)
			jq_pop(&in->prep); /* every line is taken */
		make_rows(in, ctx, j, first, n);
	}
	pthread_mutex_unlock(&in->mu);
	prep_ctx_free(ctx);
	return NULL;
}

/* --- the writer ---------------------------------------------------------- */

/* Store the good rows of jobs[0..n-1] in one transaction; 0, or -1 with
 * a message (nothing of them stored). res gets one result per good row,
 * in order. */
static int
put_jobs(struct ingest *in, struct job **jobs, size_t n, enum store_result *res,
	 char *err, size_t errlen)
{
	struct store_meas *v;
	size_t k = 0, total = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		total += good_rows(jobs[i]);
	if (total == 0)
		return 0;
	v = xmalloc(total * sizeof(*v));
	for (size_t i = 0; i < n; i++)
		for (size_t r = 0; r < jobs[i]->pb.n; r++)
			if (row_goes(jobs[i], r))
				v[k++] = jobs[i]->rows[r].sm;
	rc = store_put_batch(in->st, v, total, res, err, errlen);
	free(v);
	return rc;
}

/* Commit a group of jobs, and give each its answer. One that the store
 * refuses (a disk error, say) must not take the others down: then each is
 * tried alone. */
static void
commit_group(struct ingest *in, struct job **jobs, size_t n)
{
	size_t total = 0, at = 0;
	enum store_result *res;
	char err[512];

	for (size_t i = 0; i < n; i++)
		total += good_rows(jobs[i]);
	res = xcalloc(total + 1, sizeof(*res));
	if (put_jobs(in, jobs, n, res, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < n; i++) {
			answer_job(jobs[i], res + at);
			at += good_rows(jobs[i]);
		}
	} else {
		for (size_t i = 0; i < n; i++) {
			if (n > 1 && put_jobs(in, &jobs[i], 1, res, err,
					      sizeof(err)) == 0) {
				answer_job(jobs[i], res);
				continue;
			}
			/* Nothing of it is stored: the probe must retry. */
			log_error("ingest", "storing a batch: %s", err);
			fail_job(jobs[i], 503, "Service Unavailable", err);
		}
	}
	free(res);
}

static void *
writer_main(void *arg)
{
	struct ingest *in = arg;
	struct job **group = NULL;
	size_t cap = 0;

	pthread_mutex_lock(&in->mu);
	for (;;) {
		size_t n = 0, rows = 0;

		while (!in->stopping && in->write.head == NULL)
			pthread_cond_wait(&in->write_cv, &in->mu);
		if (in->write.head == NULL)
			break; /* stopping, and nothing left to write */
		/* Everything that is ready, up to INGEST_GROUP_MAX rows; a
		 * larger job goes alone. */
		while (in->write.head != NULL &&
		       (n == 0 ||
			rows + in->write.head->pb.n <= INGEST_GROUP_MAX)) {
			struct job *j = jq_pop(&in->write);

			rows += j->pb.n;
			*WW_PUSH(group, n, cap) = j;
		}
		pthread_mutex_unlock(&in->mu);
		for (size_t i = 0; i < n; i++)
			limit_rows(in, group[i]);
		commit_group(in, group, n);
		pthread_mutex_lock(&in->mu);
		in->commits++;
		in->committed += rows;
		for (size_t i = 0; i < n; i++)
			to_done(in, group[i]);
	}
	pthread_mutex_unlock(&in->mu);
	free(group);
	return NULL;
}

/* --- the loop ------------------------------------------------------------ */

/* The client closed the connection before its answer. */
static void
conn_closed(struct evhttp_connection *conn, void *arg)
{
	struct job *j = arg;

	(void)conn;
	j->req = NULL;
}

static void
send_answer(struct job *j)
{
	struct evbuffer *buf;

	if (j->req == NULL)
		return;
	/* Owed until written out (or the client is gone). */
	drain_hold(j->in->drain);
	reply_track(j->req, drain_release_cb, j->in->drain);
	if (j->code == 503)
		evhttp_add_header(evhttp_request_get_output_headers(j->req),
				  "Retry-After", "5");
	if (j->code == 429) {
		char ra[24];

		snprintf(ra, sizeof(ra), "%ld",
			 j->retry_after > 0 ? j->retry_after : 1);
		evhttp_add_header(evhttp_request_get_output_headers(j->req),
				  "Retry-After", ra);
	}
	buf = evbuffer_new();
	if (buf == NULL)
		abort();
	evbuffer_add(buf, j->reply, strlen(j->reply));
	evbuffer_add(buf, "\n", 1);
	evhttp_add_header(evhttp_request_get_output_headers(j->req),
			  "Content-Type", "application/json");
	reply_buffer(j->req, j->code, j->reason, buf);
	evbuffer_free(buf);
	j->req = NULL;
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ingest *in = arg;
	struct job *j, *list;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&in->mu);
	list = in->done.head;
	in->done.head = in->done.tail = NULL;
	pthread_mutex_unlock(&in->mu);
	while ((j = list) != NULL) {
		list = j->next;
		send_answer(j);
		in->stored += j->n_stored;
		in->count += (int64_t)j->n_stored;
		in->duplicates += j->n_dups;
		in->conflicts += j->n_conflicts;
		in->rejected += j->n_rejected;
		in->limited += j->code == 429;
		in->refused_sig += j->code == 401 || j->code == 403;
		in->inflight--;
		in->queued -= j->body_len;
		job_free(j);
		drain_release(in->drain); /* the job's hold */
	}
}

/* The submitter's network, from the connection's peer address. */
static void
observe_peer(struct ingest *in, struct evhttp_request *req, struct job *j)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	const struct sockaddr *sa =
		conn ? evhttp_connection_get_addr(conn) : NULL;
	char ip[INET6_ADDRSTRLEN] = "";
	uint32_t as;

	if (in->asn == NULL || sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  ip, sizeof(ip));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, ip,
			  sizeof(ip));
	if (ip[0] != '\0' && ww_asndb_lookup(in->asn, ip, &as, j->cc) == 0) {
		snprintf(j->asn, sizeof(j->asn), "AS%u", as);
		j->peer.cc = j->cc;
		j->peer.asn = j->asn;
	}
	/* ip goes out of scope here: it is never stored or logged. */
}

static void
handle_post(struct ingest *in, struct evhttp_request *req)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	const char *enc = evhttp_find_header(
		evhttp_request_get_input_headers(req), "Content-Encoding");
	size_t len = evbuffer_get_length(body);
	struct job *j;

	if (enc != NULL && strcasecmp(enc, "gzip") != 0 &&
	    strcasecmp(enc, "identity") != 0) {
		reply_error(req, 415, "Unsupported Media Type",
			    "Content-Encoding: only gzip is accepted");
		return;
	}
	if (drain_closing(in->drain) ||
	    (in->queued > 0 && in->queued + len > in->max_queued)) {
		in->busy++;
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Retry-After", "5");
		reply_error(req, 503, "Service Unavailable",
			    drain_closing(in->drain)
				    ? "shutting down"
				    : "too much waiting to be stored; "
				      "retry later");
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->in = in;
	j->req = req;
	j->gzip = enc != NULL && strcasecmp(enc, "gzip") == 0;
	j->body = evbuffer_new();
	if (j->body == NULL)
		abort();
	/* Moves the body's chains; no copy on the loop. */
	evbuffer_add_buffer(j->body, body);
	j->body_len = len;
	j->peer.received = (int64_t)time(NULL);
	observe_peer(in, req, j);
	sub_hdrs_take(req, &j->hdrs);
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
				      conn_closed, j);
	in->inflight++;
	drain_hold(in->drain); /* released in done_cb */
	in->queued += len;
	pthread_mutex_lock(&in->mu);
	jq_push(&in->prep, j);
	pthread_cond_signal(&in->work_cv);
	pthread_mutex_unlock(&in->mu);
}

void
ingest_handle(struct ingest *in, struct evhttp_request *req)
{
	/* POST only: the router (routes.c) answers other methods, and GET
	 * of this path is the read API's. */
	in->requests++;
	handle_post(in, req);
}

/* --- life ----------------------------------------------------------------- */

struct ingest *
ingest_new(struct store *writer, const struct ww_fingerprints *fp,
	   const struct ww_asndb *asn, int threads, size_t max_queued)
{
	struct ingest *in = xcalloc(1, sizeof(*in));

	in->st = writer;
	in->fp = fp;
	in->asn = asn;
	in->n_workers = threads > 0 ? threads : 1;
	in->max_queued = max_queued;
	in->count = store_count(writer);
	pthread_mutex_init(&in->mu, NULL);
	pthread_cond_init(&in->work_cv, NULL);
	pthread_cond_init(&in->write_cv, NULL);
	return in;
}

void
ingest_set_identity(struct ingest *in, struct sub_registry *reg,
		    struct rate_limiter *rl)
{
	in->reg = reg;
	in->rl = rl;
}

int
ingest_start(struct ingest *in, struct event_base *base, struct drain *d,
	     char *err, size_t errlen)
{
	int rc;

	in->base = base;
	in->drain = d;
	in->done_ev = event_new(base, -1, 0, done_cb, in);
	if (in->done_ev == NULL) {
		snprintf(err, errlen, "cannot make the ingest's event");
		return -1;
	}
	in->workers = xcalloc((size_t)in->n_workers, sizeof(*in->workers));
	in->started = true; /* ingest_stop() joins those that run */
	rc = pthread_create(&in->writer, NULL, writer_main, in);
	in->writer_runs = rc == 0;
	if (rc != 0)
		in->n_workers = 0;
	for (int i = 0; rc == 0 && i < in->n_workers; i++) {
		rc = pthread_create(&in->workers[i], NULL, worker_main, in);
		if (rc != 0)
			in->n_workers = i;
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the ingest's threads: %s",
			 strerror(rc));
		return -1;
	}
	return 0;
}

void
ingest_stop(struct ingest *in)
{
	struct job *j;

	if (in == NULL || !in->started)
		return;
	pthread_mutex_lock(&in->mu);
	in->stopping = true;
	pthread_cond_broadcast(&in->work_cv);
	pthread_cond_broadcast(&in->write_cv);
	pthread_mutex_unlock(&in->mu);
	/* The writer finishes what is ready to write; a job that no worker
	 * finished is dropped unanswered (the probe keeps it and retries). */
	for (int i = 0; i < in->n_workers; i++)
		pthread_join(in->workers[i], NULL);
	if (in->writer_runs)
		pthread_join(in->writer, NULL);
	in->started = false;
	/* Left over when stopped before drained: no answer goes out (the
	 * connections are gone: http_server_free() ran first). */
	while ((j = jq_pop(&in->prep)) != NULL)
		job_free(j);
	while ((j = jq_pop(&in->write)) != NULL)
		job_free(j);
	while ((j = jq_pop(&in->done)) != NULL)
		job_free(j);
	event_free(in->done_ev);
	in->done_ev = NULL;
}

void
ingest_free(struct ingest *in)
{
	if (in == NULL)
		return;
	ingest_stop(in);
	pthread_cond_destroy(&in->work_cv);
	pthread_cond_destroy(&in->write_cv);
	pthread_mutex_destroy(&in->mu);
	free(in->workers);
	free(in);
}

void
ingest_metrics(struct ingest *in, struct evbuffer *out)
{
	unsigned long long commits, committed;

	pthread_mutex_lock(&in->mu);
	commits = in->commits;
	committed = in->committed;
	pthread_mutex_unlock(&in->mu);
	evbuffer_add_printf(
		out,
		"# HELP wallwatch_ingest_requests_total POSTs to the ingest.\n"
		"# TYPE wallwatch_ingest_requests_total counter\n"
		"wallwatch_ingest_requests_total %llu\n"
		"# HELP wallwatch_ingest_measurements_total Submitted "
		"measurements by outcome.\n"
		"# TYPE wallwatch_ingest_measurements_total counter\n"
		"wallwatch_ingest_measurements_total{outcome=\"stored\"} %llu\n"
		"wallwatch_ingest_measurements_total{outcome=\"duplicate\"} "
		"%llu\n"
		"wallwatch_ingest_measurements_total{outcome=\"conflict\"} "
		"%llu\n"
		"wallwatch_ingest_measurements_total{outcome=\"rejected\"} "
		"%llu\n"
		"# HELP wallwatch_ingest_busy_total POSTs refused with 503 "
		"(queue full or shutting down).\n"
		"# TYPE wallwatch_ingest_busy_total counter\n"
		"wallwatch_ingest_busy_total %llu\n"
		"# HELP wallwatch_ingest_inflight POSTs taken and not yet "
		"answered.\n"
		"# TYPE wallwatch_ingest_inflight gauge\n"
		"wallwatch_ingest_inflight %zu\n"
		"# HELP wallwatch_ingest_queued_bytes Their bodies' bytes.\n"
		"# TYPE wallwatch_ingest_queued_bytes gauge\n"
		"wallwatch_ingest_queued_bytes %zu\n"
		"# HELP wallwatch_ingest_commits_total Transactions of the "
		"writer (one per group of POSTs).\n"
		"# TYPE wallwatch_ingest_commits_total counter\n"
		"wallwatch_ingest_commits_total %llu\n"
		"# HELP wallwatch_ingest_committed_lines_total Lines in those "
		"groups.\n"
		"# TYPE wallwatch_ingest_committed_lines_total counter\n"
		"wallwatch_ingest_committed_lines_total %llu\n"
		"# HELP wallwatch_store_measurements Measurements stored.\n"
		"# TYPE wallwatch_store_measurements gauge\n"
		"wallwatch_store_measurements %lld\n",
		in->requests, in->stored, in->duplicates, in->conflicts,
		in->rejected, in->busy, in->inflight, in->queued, commits,
		committed, (long long)in->count);
	evbuffer_add_printf(
		out,
		"# HELP wallwatch_ingest_limited_total POSTs answered 429 "
		"(a rate limit; docs/submitters.md).\n"
		"# TYPE wallwatch_ingest_limited_total counter\n"
		"wallwatch_ingest_limited_total %llu\n"
		"# HELP wallwatch_ingest_unauthorized_total POSTs refused "
		"401 or 403 (signature, key, --submission).\n"
		"# TYPE wallwatch_ingest_unauthorized_total counter\n"
		"wallwatch_ingest_unauthorized_total %llu\n",
		in->limited, in->refused_sig);
}
