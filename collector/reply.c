/*
 * reply.c - the answers every handler of the collector sends (collector.h):
 * a buffer (with HEAD handled), JSON, {"error": ...}, and 405 with Allow.
 * Apart from the server (httpserver.c) so that a handler, the router and
 * their tests need no listener to answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "collector.h"

void
reply_buffer(struct evhttp_request *req, int code, const char *reason,
	     struct evbuffer *buf)
{
	char len[24];

	/* evhttp would send a HEAD the body it is handed: give it the
	 * length GET would have, and no body. */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(buf));
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Content-Length", len);
		evhttp_send_reply(req, code, reason, NULL);
		return;
	}
	evhttp_send_reply(req, code, reason, buf);
}

void
reply_json(struct evhttp_request *req, int code, const char *reason,
	   json_t *body)
{
	struct evbuffer *buf = evbuffer_new();
	char *s = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS |
					   JSON_REAL_PRECISION(9));

	if (buf == NULL || s == NULL)
		abort();
	evbuffer_add(buf, s, strlen(s));
	evbuffer_add(buf, "\n", 1);
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type", "application/json");
	reply_buffer(req, code, reason, buf);
	evbuffer_free(buf);
	free(s);
}

void
reply_error(struct evhttp_request *req, int code, const char *reason,
	    const char *msg)
{
	json_t *o = json_pack("{s:s}", "error", msg);

	reply_json(req, code, reason, o);
	json_decref(o);
}

void
reply_not_allowed(struct evhttp_request *req, const char *allow,
		  const char *msg)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
			  allow);
	reply_error(req, 405, "Method Not Allowed", msg);
}
