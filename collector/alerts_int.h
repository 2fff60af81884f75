/*
 * alerts_int.h - what alerts_hook.c (the service, the webhooks) and
 * alerts_feed.c (the feed and the JSON answers) share.
 */
#ifndef WW_ALERTS_INT_H
#define WW_ALERTS_INT_H

#include <stdint.h>

#include "alerts.h"

/* Events one answer or one scan may group (a day of a busy collector is
 * a few thousand); more is refused, naming the filters to narrow. */
#define ALERTS_MAX_EVENTS 200000L
/* The feed's default reach back, and its default and largest length. */
#define ALERTS_FEED_DAYS 30
#define ALERTS_FEED_LIMIT 50
/* Attempts the delivery log keeps (the newest). */
#define ALERTS_LOG_N 100

struct alerts;

/* The delivery log and counters as JSON (a new reference), for
 * GET /api/v1/alerts/deliveries (alerts_hook.c). */
json_t *alerts_deliveries_json(struct alerts *a);
/* The store and the window length the answers group with. */
struct store *alerts_store(struct alerts *a);
int64_t alerts_window(struct alerts *a);

/* GET /feed.atom and GET /api/v1/alerts (alerts_feed.c). */
void alerts_feed_serve(struct alerts *a, struct evhttp_request *req, bool atom);

#endif
