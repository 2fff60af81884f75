/*
 * submitters.h - who submitted a batch (docs/submitters.md): the registry
 * of submitter keys (in memory, loaded from the store's submitters table
 * and re-read when the database changes, so that `wallwatch-collector keys
 * revoke` takes effect within SUB_REFRESH_SECONDS), POST
 * /api/v1/submitters (self-registration), the --submission policy, and the
 * check of an upload's signature headers that names its submitter id.
 * Addresses are looked up for their network and forgotten, never kept or
 * logged.
 */
#ifndef WW_SUBMITTERS_H
#define WW_SUBMITTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "subsig.h"

#define SUB_PATH "/api/v1/submitters"
/* How often the registry asks the database whether it changed. */
#define SUB_REFRESH_SECONDS 1
/* Room for a submitter id: "key:" + 32, or "anon:" + network + hour. */
#define SUB_ID_MAX 64

enum sub_mode {
	SUB_OPEN,	/* signed count under their key, unsigned as anon */
	SUB_SIGNED,	/* only signed batches of registered keys */
	SUB_REGISTERED, /* as SIGNED; keys added by the operator only */
};

/* "open", "signed", "registered": 0, or -1. */
int sub_mode_parse(const char *s, enum sub_mode *out);
const char *sub_mode_name(enum sub_mode m);

struct store;
struct ww_asndb;
struct rate_limiter;
struct evhttp_request;
struct sub_registry;

/*
 * The registry over st, a store handle of its own that only the loop uses
 * (registrations are written through it, and it reads the table back);
 * asn (may be NULL) names a registering peer's network for rl (may be
 * NULL: no limit on registrations). Loads the keys now: NULL with a
 * message on failure.
 */
struct sub_registry *sub_registry_new(struct store *st, enum sub_mode mode,
				      const struct ww_asndb *asn,
				      struct rate_limiter *rl, char *err,
				      size_t errlen);
/* Re-read the table every SUB_REFRESH_SECONDS on base (when it changed):
 * 0, or -1. */
int sub_registry_start(struct sub_registry *r, struct event_base *base);
void sub_registry_free(struct sub_registry *r);
enum sub_mode sub_registry_mode(const struct sub_registry *r);
/* Re-read the table now (the loop's thread): 0, or -1 with a message. */
int sub_registry_reload(struct sub_registry *r, char *err, size_t errlen);

enum sub_key_state { SUB_KEY_UNKNOWN, SUB_KEY_OK, SUB_KEY_REVOKED };
/* Key key_id's state, and its public key into pub when known. Any
 * thread. */
enum sub_key_state sub_registry_get(struct sub_registry *r, const char *key_id,
				    unsigned char pub[WW_SUB_PUB_LEN]);

/* evhttp handler for SUB_PATH (arg: the registry). */
void sub_handle(struct evhttp_request *req, void *arg);

/* An upload's signature headers, copied off the request (values longer
 * than any valid one are cut to one byte over, so that they still fail). */
struct sub_hdrs {
	char *key, *date, *sig; /* NULL when absent */
};
void sub_hdrs_take(struct evhttp_request *req, struct sub_hdrs *out);
void sub_hdrs_clear(struct sub_hdrs *h);

/* The anonymous submitter id of a batch from network asn (NULL: unknown)
 * received at received: "anon:<asn|unknown>:<YYYY-MM-DDTHH>". */
void sub_anon_id(const char *asn, int64_t received, char out[SUB_ID_MAX]);

/*
 * Who submitted body (len bytes, exactly as received) with headers h,
 * from network asn (NULL: unknown), received at received (unix seconds).
 * r NULL: everything is anonymous. 0 with the submitter id in out; or the
 * HTTP status to refuse the batch with (401 unsigned where that is not
 * taken, a malformed header, an unknown key, a stale date, a signature
 * that does not verify; 403 a revoked key) and a message naming the
 * problem in err. Any thread.
 */
int sub_check_upload(struct sub_registry *r, const struct sub_hdrs *h,
		     const void *body, size_t len, const char *asn,
		     int64_t received, char out[SUB_ID_MAX], char *err,
		     size_t errlen);

#endif
