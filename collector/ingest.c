/*
 * ingest.c - POST /api/v1/measurements: one measurement (a JSON object) or
 * a batch (JSON Lines), optionally gzip-encoded. Every line is validated
 * (engine/validate.c) and analysed again with the collector's rules and
 * fingerprints; the good ones are stored in one transaction, and the
 * answer, sent only after that transaction is on disk, lists what was
 * stored, what was already there (a retry), and what was refused and why.
 *
 * The submitter's address is looked up in the operator's IP-to-ASN table
 * (--asn-db) and only the network and country it gives are kept, beside
 * what the probe claimed; the address itself is never stored.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <zlib.h>

#include "analysis.h"
#include "asndb.h"
#include "collector.h"
#include "store.h"
#include "util.h"
#include "validate.h"

#define INGEST_PATH "/api/v1/measurements"
/* Bytes of a decompressed body: a 1,000-measurement batch is a few MiB. */
#define INGEST_MAX_INFLATED (64u * 1024 * 1024)
#define INGEST_MAX_LINES 10000

struct ingest {
	struct store *st;
	const struct ww_fingerprints *fp;
	const struct ww_asndb *asn;
	/* counters for /metrics */
	unsigned long long stored, duplicates, rejected, requests;
};

/* One line of the batch, and what became of it. */
struct item {
	const char *text; /* into the body; not NUL-terminated */
	size_t len;
	size_t line;
	json_t *m;
};

struct ingest *
ingest_new(struct store *st, const struct ww_fingerprints *fp,
	   const struct ww_asndb *asn)
{
	struct ingest *in = xcalloc(1, sizeof(*in));

	in->st = st;
	in->fp = fp;
	in->asn = asn;
	return in;
}

void
ingest_free(struct ingest *in)
{
	free(in);
}

/* gunzip src into a new buffer of at most INGEST_MAX_INFLATED bytes.
 * Returns NULL with a message. */
static unsigned char *
gunzip(const unsigned char *src, size_t len, size_t *out_len, char *err,
       size_t errlen)
{
	z_stream z;
	size_t cap = len * 4 + 1024, n = 0;
	unsigned char *out;
	int rc;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		snprintf(err, errlen, "cannot start gzip decoding");
		return NULL;
	}
	if (cap > INGEST_MAX_INFLATED)
		cap = INGEST_MAX_INFLATED;
	out = xmalloc(cap);
	z.next_in = (unsigned char *)(uintptr_t)src;
	z.avail_in = (uInt)len;
	do {
		if (n == cap) {
			if (cap >= INGEST_MAX_INFLATED) {
				snprintf(err, errlen,
					 "body: more than 64 MiB once "
					 "decompressed");
				goto fail;
			}
			cap = cap * 2 > INGEST_MAX_INFLATED
				      ? INGEST_MAX_INFLATED
				      : cap * 2;
			out = xrealloc(out, cap);
		}
		z.next_out = out + n;
		z.avail_out = (uInt)(cap - n);
		rc = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
		if (rc != Z_OK && rc != Z_STREAM_END) {
			snprintf(err, errlen, "body: not valid gzip (%s)",
				 z.msg ? z.msg : "truncated");
			goto fail;
		}
		if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
			snprintf(err, errlen, "body: gzip stream is truncated");
			goto fail;
		}
	} while (rc != Z_STREAM_END);
	inflateEnd(&z);
	*out_len = n;
	return out;
fail:
	inflateEnd(&z);
	free(out);
	return NULL;
}

static bool
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* The body as items: a single JSON document (which may span lines), or
 * JSON Lines. Returns the count, or -1 when there are too many lines. */
static long
split(const char *body, size_t len, struct item **out)
{
	struct item *v = NULL;
	size_t n = 0, cap = 0, line = 0;
	json_t *whole = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);

	if (whole != NULL && json_is_object(whole)) {
		/* The document without the white space around it: what is
		 * kept is the measurement, as one line, exactly as sent. */
		while (len > 0 && strchr(" \t\r\n", body[len - 1]) != NULL)
			len--;
		while (len > 0 && strchr(" \t\r\n", body[0]) != NULL) {
			body++;
			len--;
		}
		v = xcalloc(1, sizeof(*v));
		v->text = body;
		v->len = len;
		v->line = 1;
		v->m = whole;
		*out = v;
		return 1;
	}
	json_decref(whole);
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(body + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - body) : len;

		line++;
		if (!blank(body + pos, end - pos)) {
			struct item *it;

			if (n >= INGEST_MAX_LINES) {
				for (size_t i = 0; i < n; i++)
					json_decref(v[i].m);
				free(v);
				return -1;
			}
			it = WW_PUSH(v, n, cap);
			memset(it, 0, sizeof(*it));
			it->text = body + pos;
			it->len = end - pos;
			it->line = line;
		}
		pos = end + 1;
	}
	*out = v;
	return (long)n;
}

static const char *
tk_str(const json_t *m, const char *k)
{
	return json_string_value(json_object_get(json_object_get(m, "test_keys"), k));
}

/* The submitter's network, from the connection's peer address. */
static void
observe_peer(struct ingest *in, struct evhttp_request *req, char cc[3],
	     char asn[16], bool *known)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	const struct sockaddr *sa = conn ? evhttp_connection_get_addr(conn)
					 : NULL;
	char ip[INET6_ADDRSTRLEN] = "";
	uint32_t as;

	*known = false;
	if (in->asn == NULL || sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  ip, sizeof(ip));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, ip,
			  sizeof(ip));
	if (ip[0] != '\0' && ww_asndb_lookup(in->asn, ip, &as, cc) == 0) {
		snprintf(asn, 16, "AS%u", as);
		*known = true;
	}
	/* ip goes out of scope here: it is never stored or logged. */
}

/* Fill sm from the analysed measurement m. */
static void
to_store(const struct item *it, const json_t *m, const char *cc,
	 const char *asn, bool known, struct store_meas *sm)
{
	const json_t *tk = json_object_get(m, "test_keys");
	const json_t *b = json_object_get(tk, "blocking");
	const json_t *a = json_object_get(tk, "accessible");
	int64_t t = 0;

	memset(sm, 0, sizeof(*sm));
	sm->uid = json_string_value(json_object_get(m, "measurement_uid"));
	sm->raw = it->text;
	sm->raw_len = it->len;
	sm->input = json_string_value(json_object_get(m, "input"));
	sm->test_name = json_string_value(json_object_get(m, "test_name"));
	sm->category_code = tk_str(m, "category_code");
	sm->probe_cc = json_string_value(json_object_get(m, "probe_cc"));
	sm->probe_asn = json_string_value(json_object_get(m, "probe_asn"));
	if (known) {
		sm->observed_cc = cc;
		sm->observed_asn = asn;
		sm->geo_mismatch = strcmp(cc, sm->probe_cc) != 0 ||
				   strcmp(asn, sm->probe_asn) != 0;
	}
	ww_parse_utc(json_string_value(json_object_get(
			     m, "measurement_start_time")),
		     &t);
	sm->start_time = t;
	sm->received_time = (int64_t)time(NULL);
	sm->blocking = json_is_string(b) ? json_string_value(b)
		       : json_is_false(b) ? "false"
					  : NULL;
	sm->accessible = json_is_boolean(a) ? json_is_true(a) : -1;
	sm->blocking_detail = tk_str(m, "blocking_detail");
	sm->confirmed = json_is_true(json_object_get(tk, "confirmed"));
	sm->analysis_version = json_string_value(
		json_object_get(json_object_get(tk, "analysis"), "version"));
	sm->analysis_reason = json_string_value(
		json_object_get(json_object_get(tk, "analysis"), "reason"));
}

static void
reject(json_t *rejected, size_t line, const char *field, const char *msg)
{
	json_array_append_new(rejected,
			      json_pack("{s:I,s:s,s:s}", "line",
					(json_int_t)line, "field", field,
					"error", msg));
}

/* Parse, validate and analyse each item; the good ones go to sm[], which
 * point into v, the items' JSON, and cc/asn (the caller's, as they must
 * outlive the store call). */
static size_t
prepare(struct ingest *in, struct item *v, size_t n, struct evhttp_request *req,
	struct store_meas *sm, char cc[3], char asn[16], json_t *rejected)
{
	char field[256], msg[512];
	size_t k = 0;
	bool known;

	observe_peer(in, req, cc, asn, &known);
	for (size_t i = 0; i < n; i++) {
		struct item *it = &v[i];
		json_error_t jerr;

		if (it->m == NULL)
			it->m = json_loadb(it->text, it->len,
					   JSON_REJECT_DUPLICATES, &jerr);
		if (it->m == NULL) {
			snprintf(msg, sizeof(msg), "not JSON: %s", jerr.text);
			reject(rejected, it->line, "", msg);
			continue;
		}
		if (ww_validate_measurement(it->m, field, sizeof(field), msg,
					    sizeof(msg)) != 0) {
			reject(rejected, it->line, field, msg);
			continue;
		}
		/* Derived data is ours to compute: the probe's verdict is
		 * replaced by the collector's current rules (raw stays). */
		if (ww_analyze(it->m, in->fp, msg, sizeof(msg)) != 0) {
			reject(rejected, it->line, "test_keys", msg);
			continue;
		}
		to_store(it, it->m, cc, asn, known, &sm[k++]);
	}
	return k;
}

static void
handle_post(struct ingest *in, struct evhttp_request *req)
{
	struct evbuffer *buf = evhttp_request_get_input_buffer(req);
	const char *enc = evhttp_find_header(
		evhttp_request_get_input_headers(req), "Content-Encoding");
	size_t len = evbuffer_get_length(buf), n_ok;
	unsigned char *body = evbuffer_pullup(buf, -1), *plain = NULL;
	struct item *v = NULL;
	struct store_meas *sm;
	enum store_result *res;
	json_t *reply, *stored, *dups, *rejected;
	char err[512], cc[3] = "", asn[16] = "";
	long n;

	if (enc != NULL && strcasecmp(enc, "gzip") == 0) {
		plain = gunzip(body ? body : (unsigned char *)"", len, &len,
			       err, sizeof(err));
		if (plain == NULL) {
			reply_error(req, 400, "Bad Request", err);
			return;
		}
		body = plain;
	} else if (enc != NULL && strcasecmp(enc, "identity") != 0) {
		reply_error(req, 415, "Unsupported Media Type",
			    "Content-Encoding: only gzip is accepted");
		return;
	}
	n = split(body ? (const char *)body : "", len, &v);
	if (n < 0) {
		reply_error(req, 413, "Payload Too Large",
			    "more than 10000 measurements in one batch");
		free(plain);
		return;
	}
	if (n == 0) {
		reply_error(req, 400, "Bad Request",
			    "empty body: send a measurement or JSON Lines");
		free(plain);
		return;
	}
	sm = xcalloc((size_t)n, sizeof(*sm));
	res = xcalloc((size_t)n, sizeof(*res));
	rejected = json_array();
	n_ok = prepare(in, v, (size_t)n, req, sm, cc, asn, rejected);
	if (n_ok > 0 &&
	    store_put_batch(in->st, sm, n_ok, res, err, sizeof(err)) != 0) {
		/* Nothing of the batch is stored: the probe must retry. */
		log_error("ingest", "storing a batch: %s", err);
		reply_error(req, 503, "Service Unavailable", err);
		goto out;
	}
	stored = json_array();
	dups = json_array();
	for (size_t i = 0; i < n_ok; i++)
		json_array_append_new(res[i] == STORE_NEW ? stored : dups,
				      json_string(sm[i].uid));
	in->stored += json_array_size(stored);
	in->duplicates += json_array_size(dups);
	in->rejected += json_array_size(rejected);
	reply = json_pack("{s:o,s:o,s:O}", "stored", stored, "duplicates",
			  dups, "rejected", rejected);
	/* Any refusal makes the answer a 4xx; what was good is stored all
	 * the same, and the body says which is which. */
	if (json_array_size(rejected) > 0)
		reply_json(req, 400, "Bad Request", reply);
	else
		reply_json(req, 200, "OK", reply);
	json_decref(reply);
out:
	for (long i = 0; i < n; i++)
		json_decref(v[i].m);
	free(v);
	free(sm);
	free(res);
	json_decref(rejected);
	free(plain);
}

void
ingest_handle(struct evhttp_request *req, void *arg)
{
	struct ingest *in = arg;
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u ? evhttp_uri_get_path(u) : NULL;

	if (path == NULL || strcmp(path, INGEST_PATH) != 0) {
		reply_error(req, 404, "Not Found", "no such path");
		return;
	}
	/* GET on this path is the read API's (api.c), routed before us. */
	in->requests++;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Allow", "POST");
		reply_error(req, 405, "Method Not Allowed",
			    "POST measurements (JSON or JSON Lines)");
		return;
	}
	handle_post(in, req);
}

void
ingest_metrics(const struct ingest *in, struct evbuffer *out)
{
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
		"wallwatch_ingest_measurements_total{outcome=\"rejected\"} "
		"%llu\n"
		"# HELP wallwatch_store_measurements Measurements stored.\n"
		"# TYPE wallwatch_store_measurements gauge\n"
		"wallwatch_store_measurements %lld\n",
		in->requests, in->stored, in->duplicates, in->rejected,
		(long long)store_count(in->st));
}
