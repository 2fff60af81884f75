/*
 * api_network.h - the read API of the network pages (api_network.c):
 * a country's networks, its matrix of targets by network, and the changes
 * of state across all targets. GET and HEAD (routes.c has the paths);
 * db (--asn-db, may be NULL) names the networks.
 */
#ifndef WW_API_NETWORK_H
#define WW_API_NETWORK_H

#include <stdint.h>

struct evhttp_request;
struct store;
struct ww_asndb;

/* GET /api/v1/networks?cc=CC[&asn=][&category=] */
#define API_NETWORKS_PATH "/api/v1/networks"
void api_networks(struct evhttp_request *req, struct store *st,
		  const struct ww_asndb *db);

/* GET /api/v1/networks/matrix?cc=CC[&category=][&limit=][&cursor=] */
#define API_MATRIX_PATH "/api/v1/networks/matrix"
void api_network_matrix(struct evhttp_request *req, struct store *st,
			const struct ww_asndb *db);

/* GET /api/v1/changes?[filters][&limit=][&cursor=] */
#define API_CHANGES_PATH "/api/v1/changes"
void api_changes(struct evhttp_request *req, struct store *st,
		 const struct ww_asndb *db);
/* A cursor of /api/v1/changes, "TIME-ID" (unix seconds 0..32503680000,
 * an id 1..2^53-1, both plain decimal), into *t and *id: 0, or -1 when s
 * is not that (then *t and *id are untouched). */
int api_changes_cursor(const char *s, int64_t *t, int64_t *id);

#endif
