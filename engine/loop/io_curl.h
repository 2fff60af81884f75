/*
 * io_curl.h - libcurl's multi socket API driven by libevent. The engine's
 * HTTP and control steps use it, and so does the probe's uploader, which
 * runs transfers of its own on the same event loop.
 */
#ifndef WW_IO_CURL_H
#define WW_IO_CURL_H

#include <stdbool.h>

#include <curl/curl.h>
#include <event2/event.h>

struct io_curl;
typedef void (*io_curl_cb)(CURL *easy, CURLcode result, void *arg);
struct io_curl *io_curl_new(struct event_base *base);
void io_curl_free(struct io_curl *io);
/* Start a transfer; cb runs once when it ends (never before this returns). */
void io_curl_add(struct io_curl *io, CURL *easy, io_curl_cb cb, void *arg);
/* Call fn(easy, s, arg) (arg: io_curl_add's) when curl first asks to
 * watch a socket of this transfer: curl has just connected it (http.c
 * registers it with the capture then). */
typedef void (*io_curl_sock_cb)(CURL *easy, curl_socket_t s, void *arg);
void io_curl_on_socket(struct io_curl *io, CURL *easy, io_curl_sock_cb fn);
/* Abort a transfer without calling its callback. */
void io_curl_remove(struct io_curl *io, CURL *easy);

/* A failed transfer's failure string from the shared vocabulary (NULL for
 * success; failure_unknown when nothing fits: the caller then records
 * curl's message). capped: the transfer was stopped by our body cap. */
const char *http_failure_from_curl(CURL *easy, CURLcode res, const char *errbuf,
				   bool capped);

#endif
