/*
 * submitters.c - the key registry, self-registration and the check of an
 * upload's signature; see submitters.h and docs/submitters.md.
 *
 * The registry is a sorted array of keys behind a read-write lock: the
 * ingest's workers look keys up (read), the loop replaces the array when
 * the table changed (write). "Changed" is SQLite's data_version, asked
 * every SUB_REFRESH_SECONDS: it moves when any other connection commits (a
 * `keys revoke` or `keys add` from the command line, and every ingest
 * commit), so under load the table, a few rows per key, is read about
 * once a second; idle, not at all.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "asndb.h"
#include "collector.h"
#include "ratelimit.h"
#include "store.h"
#include "submitters.h"
#include "util.h"

struct sub_key {
	char key_id[33];
	unsigned char pub[WW_SUB_PUB_LEN];
	bool revoked;
};

struct sub_registry {
	struct store *st; /* the loop's */
	enum sub_mode mode;
	const struct ww_asndb *asn;
	struct rate_limiter *rl;
	struct event *timer;
	int64_t data_version;
	pthread_rwlock_t lock;
	struct sub_key *keys; /* by key_id; under lock */
	size_t n;
};

int
sub_mode_parse(const char *s, enum sub_mode *out)
{
	static const char *const names[] = {"open", "signed", "registered"};

	for (int i = 0; i < 3; i++)
		if (s != NULL && strcmp(s, names[i]) == 0) {
			*out = (enum sub_mode)i;
			return 0;
		}
	return -1;
}

const char *
sub_mode_name(enum sub_mode m)
{
	return m == SUB_OPEN	 ? "open"
	       : m == SUB_SIGNED ? "signed"
				 : "registered";
}

/* --- the registry --------------------------------------------------------- */

struct load {
	struct sub_key *keys;
	size_t n, cap;
};

static int
load_one(const struct store_submitter *k, void *arg)
{
	struct load *l = arg;
	struct sub_key *e;

	if (!ww_sub_key_id_valid(k->key_id))
		return 0;
	e = WW_PUSH(l->keys, l->n, l->cap);
	memcpy(e->key_id, k->key_id, 33);
	memcpy(e->pub, k->public_key, WW_SUB_PUB_LEN);
	e->revoked = k->revoked != 0;
	return 0;
}

/* Was key_id revoked in keys[0..n) (sorted)? -1: not there. */
static int
was_revoked(const struct sub_key *keys, size_t n, const char *key_id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(keys[mid].key_id, key_id);

		if (c == 0)
			return keys[mid].revoked;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int
sub_registry_reload(struct sub_registry *r, char *err, size_t errlen)
{
	struct load l = {NULL, 0, 0};
	struct sub_key *old;
	size_t n_old;

	r->data_version = store_data_version(r->st);
	if (store_submitters(r->st, load_one, &l, err, errlen) != 0) {
		free(l.keys);
		return -1;
	}
	pthread_rwlock_wrlock(&r->lock);
	old = r->keys;
	n_old = r->n;
	r->keys = l.keys;
	r->n = l.n;
	pthread_rwlock_unlock(&r->lock);
	/* Say when a revocation is seen: the operator waits for this. */
	for (size_t i = 0; old != NULL && i < l.n; i++)
		if (l.keys[i].revoked &&
		    was_revoked(old, n_old, l.keys[i].key_id) == 0)
			log_info("submitters",
				 "key %s is revoked: its uploads are refused "
				 "from now on",
				 l.keys[i].key_id);
	free(old);
	return 0;
}

static void
refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sub_registry *r = arg;
	char err[512];
	int64_t v;

	(void)fd;
	(void)what;
	v = store_data_version(r->st);
	if (v == r->data_version && v >= 0)
		return;
	if (sub_registry_reload(r, err, sizeof(err)) != 0)
		log_warn("submitters", "re-reading the keys: %s", err);
}

struct sub_registry *
sub_registry_new(struct store *st, enum sub_mode mode,
		 const struct ww_asndb *asn, struct rate_limiter *rl, char *err,
		 size_t errlen)
{
	struct sub_registry *r = xcalloc(1, sizeof(*r));

	r->st = st;
	r->mode = mode;
	r->asn = asn;
	r->rl = rl;
	pthread_rwlock_init(&r->lock, NULL);
	if (sub_registry_reload(r, err, errlen) != 0) {
		sub_registry_free(r);
		return NULL;
	}
	return r;
}

int
sub_registry_start(struct sub_registry *r, struct event_base *base)
{
	struct timeval tv = {SUB_REFRESH_SECONDS, 0};

	r->timer = event_new(base, -1, EV_PERSIST, refresh_cb, r);
	if (r->timer == NULL || event_add(r->timer, &tv) != 0)
		return -1;
	return 0;
}

void
sub_registry_free(struct sub_registry *r)
{
	if (r == NULL)
		return;
	if (r->timer != NULL)
		event_free(r->timer);
	pthread_rwlock_destroy(&r->lock);
	free(r->keys);
	free(r);
}

enum sub_mode
sub_registry_mode(const struct sub_registry *r)
{
	return r->mode;
}

enum sub_key_state
sub_registry_get(struct sub_registry *r, const char *key_id,
		 unsigned char pub[WW_SUB_PUB_LEN])
{
	enum sub_key_state s = SUB_KEY_UNKNOWN;
	size_t lo = 0, hi;

	pthread_rwlock_rdlock(&r->lock);
	hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->keys[mid].key_id, key_id);

		if (c == 0) {
			memcpy(pub, r->keys[mid].pub, WW_SUB_PUB_LEN);
			s = r->keys[mid].revoked ? SUB_KEY_REVOKED : SUB_KEY_OK;
			break;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	pthread_rwlock_unlock(&r->lock);
	return s;
}

/* --- POST /api/v1/submitters ---------------------------------------------- */

/* The peer's network ("AS64500") into asn, or NULL when unknown; the
 * address goes no further than this function. */
static const char *
peer_network(const struct sub_registry *r, struct evhttp_request *req,
	     char asn[16])
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	const struct sockaddr *sa =
		conn ? evhttp_connection_get_addr(conn) : NULL;
	char ip[INET6_ADDRSTRLEN] = "", cc[3];
	uint32_t as;

	if (r->asn == NULL || sa == NULL)
		return NULL;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  ip, sizeof(ip));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, ip,
			  sizeof(ip));
	if (ip[0] == '\0' || ww_asndb_lookup(r->asn, ip, &as, cc) != 0)
		return NULL;
	snprintf(asn, 16, "AS%u", as);
	return asn;
}

static void
reply_key(struct evhttp_request *req, int code, const char *reason,
	  const char *key_id)
{
	json_t *o = json_pack("{s:s}", "key_id", key_id);

	reply_json(req, code, reason, o);
	json_decref(o);
}

/* --submission registered: only a key the operator added (`keys add`) is
 * known; asking about one is how its probe learns to sign. One added a
 * moment ago may not be in memory yet: the table is read again when the
 * database changed. */
static void
registered_only(struct sub_registry *r, struct evhttp_request *req,
		const char *key_id)
{
	unsigned char known[WW_SUB_PUB_LEN];
	char err[512];
	enum sub_key_state ks = SUB_KEY_UNKNOWN;

	if (store_data_version(r->st) != r->data_version &&
	    sub_registry_reload(r, err, sizeof(err)) != 0)
		log_warn("submitters", "re-reading the keys: %s", err);
	else
		ks = sub_registry_get(r, key_id, known);
	if (ks == SUB_KEY_OK)
		reply_key(req, 200, "OK", key_id);
	else if (ks == SUB_KEY_REVOKED)
		reply_error(req, 403, "Forbidden",
			    "this key is revoked: make a new one "
			    "(docs/volunteer.md)");
	else
		reply_error(req, 403, "Forbidden",
			    "this collector does not take self-registration "
			    "(--submission registered): ask its operator to "
			    "add your key (wallwatch-collector keys add)");
}

static void
register_key(struct sub_registry *r, struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	unsigned char pub[WW_SUB_PUB_LEN], known[WW_SUB_PUB_LEN];
	char key_id[33], err[512], asn[16], ra[24];
	long wait;
	int rc;

	if (len > WW_SUB_MAX_REGISTRATION) {
		reply_error(req, 400, "Bad Request",
			    "registration: body over 4096 bytes");
		return;
	}
	if (ww_sub_registration_check((const char *)evbuffer_pullup(in, -1),
				      len, pub, key_id, err,
				      sizeof(err)) != 0) {
		reply_error(req, 400, "Bad Request", err);
		return;
	}
	switch (sub_registry_get(r, key_id, known)) {
	case SUB_KEY_REVOKED:
		reply_error(req, 403, "Forbidden",
			    "this key is revoked: make a new one "
			    "(docs/volunteer.md)");
		return;
	case SUB_KEY_OK:
		reply_key(req, 200, "OK", key_id);
		return;
	case SUB_KEY_UNKNOWN:
		break;
	}
	/* A new key is work for the store (a row) or the registry (a read):
	 * limited like batches, so that a flood of made-up keys can grow
	 * neither without bound. */
	wait = r->rl ? rate_batch(r->rl, "registration",
				  peer_network(r, req, asn),
				  (int64_t)time(NULL))
		     : 0;
	if (wait > 0) {
		snprintf(ra, sizeof(ra), "%ld", wait);
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Retry-After", ra);
		reply_error(req, 429, "Too Many Requests",
			    "too many registrations: retry later");
		return;
	}
	if (r->mode == SUB_REGISTERED) {
		registered_only(r, req, key_id);
		return;
	}
	rc = store_submitter_add(r->st, key_id, pub, (int64_t)time(NULL), err,
				 sizeof(err));
	/* Read the table back either way: a key added or revoked by the
	 * command line a moment ago is seen now, not in a second. */
	if (rc >= 0 && sub_registry_reload(r, err, sizeof(err)) != 0)
		rc = -1;
	if (rc < 0) {
		log_error("submitters", "registering a key: %s", err);
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Retry-After", "5");
		reply_error(req, 503, "Service Unavailable",
			    "cannot store the key now; retry later");
		return;
	}
	if (sub_registry_get(r, key_id, known) == SUB_KEY_REVOKED) {
		reply_error(req, 403, "Forbidden",
			    "this key is revoked: make a new one "
			    "(docs/volunteer.md)");
		return;
	}
	if (rc == 1)
		log_info("submitters", "key %s registered", key_id);
	reply_key(req, rc == 1 ? 201 : 200, rc == 1 ? "Created" : "OK", key_id);
}

void
sub_handle(struct evhttp_request *req, void *arg)
{
	struct sub_registry *r = arg;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reply_not_allowed(req, "POST",
				  "POST {\"public_key\": ..., \"proof\": ...}");
		return;
	}
	register_key(r, req);
}

/* --- uploads -------------------------------------------------------------- */

static char *
hdr_copy(struct evhttp_request *req, const char *name, size_t max)
{
	const char *v =
		evhttp_find_header(evhttp_request_get_input_headers(req), name);

	/* xstrndup() copies n bytes: bound n by the string first. */
	return v ? xstrndup(v, strnlen(v, max + 1)) : NULL;
}

void
sub_hdrs_take(struct evhttp_request *req, struct sub_hdrs *out)
{
	out->key = hdr_copy(req, WW_SUB_HDR_KEY, WW_SUB_KEY_ID_LEN);
	out->date = hdr_copy(req, WW_SUB_HDR_DATE, WW_SUB_MAX_DATE_TEXT);
	out->sig = hdr_copy(req, WW_SUB_HDR_SIG, WW_SUB_MAX_SIG_TEXT);
}

void
sub_hdrs_clear(struct sub_hdrs *h)
{
	free(h->key);
	free(h->date);
	free(h->sig);
	memset(h, 0, sizeof(*h));
}

void
sub_anon_id(const char *asn, int64_t received, char out[SUB_ID_MAX])
{
	time_t t = (time_t)received;
	struct tm tm;
	char hour[16] = "unknown-hour";

	if (gmtime_r(&t, &tm) != NULL)
		strftime(hour, sizeof(hour), "%Y-%m-%dT%H", &tm);
	snprintf(out, SUB_ID_MAX, "anon:%.20s:%s", asn ? asn : "unknown", hour);
}

int
sub_check_upload(struct sub_registry *r, const struct sub_hdrs *h,
		 const void *body, size_t len, const char *asn,
		 int64_t received, char out[SUB_ID_MAX], char *err,
		 size_t errlen)
{
	struct ww_sub_hdrs hd;
	unsigned char pub[WW_SUB_PUB_LEN];
	enum sub_key_state ks;
	char e[256], *text;
	bool ok;
	int rc;

	rc = ww_sub_parse_headers(h->key, h->date, h->sig, &hd, e, sizeof(e));
	if (rc < 0) {
		ww_set_err(err, errlen, "%s", e);
		return 401;
	}
	if (rc == 0 || r == NULL) {
		if (r != NULL && r->mode != SUB_OPEN) {
			ww_set_err(err, errlen,
				   "unsigned upload: this collector takes "
				   "only batches signed by a registered key "
				   "(--submission %s)",
				   sub_mode_name(r->mode));
			return 401;
		}
		sub_anon_id(asn, received, out);
		return 0;
	}
	ks = sub_registry_get(r, hd.key_id, pub);
	if (ks == SUB_KEY_UNKNOWN) {
		ww_set_err(err, errlen,
			   "%s: unknown key %s (register it first: POST %s)",
			   WW_SUB_HDR_KEY, hd.key_id, SUB_PATH);
		return 401;
	}
	if (hd.date < received - WW_SUB_MAX_SKEW ||
	    hd.date > received + WW_SUB_MAX_SKEW) {
		ww_set_err(err, errlen,
			   "%s: stale date, %lld s from the collector's clock "
			   "(at most %d)",
			   WW_SUB_HDR_DATE, (long long)(hd.date - received),
			   WW_SUB_MAX_SKEW);
		return 401;
	}
	text = ww_sub_upload_text(hd.key_id, hd.date, body, len);
	ok = ww_sub_verify(pub, text, strlen(text), hd.sig);
	free(text);
	if (!ok) {
		ww_set_err(err, errlen,
			   "%s: bad signature (not this key's over this body "
			   "and these headers)",
			   WW_SUB_HDR_SIG);
		return 401;
	}
	if (ks == SUB_KEY_REVOKED) {
		ww_set_err(err, errlen, "key %s is revoked", hd.key_id);
		return 403;
	}
	snprintf(out, SUB_ID_MAX, "key:%s", hd.key_id);
	return 0;
}
