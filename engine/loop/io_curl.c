/*
 * io_curl.c - libcurl's multi socket API on our libevent base: one event per
 * socket (kept with curl_multi_assign), one timer, and a drain of
 * curl_multi_info_read() after every curl_multi_socket_action().
 */
#include <stdlib.h>

#include "internal.h"
#include "util.h"

struct io_curl {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
};

struct xfer {
	io_curl_cb cb;
	void *arg;
	io_curl_sock_cb on_socket; /* NULL: none */
};

static void
drain(struct io_curl *io)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(io->multi, &left)) != NULL) {
		CURL *easy = msg->easy_handle;
		CURLcode res = msg->data.result;
		struct xfer *x = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(io->multi, easy);
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		if (x != NULL) {
			struct xfer done = *x;

			free(x);
			done.cb(easy, res, done.arg);
		}
	}
}

static void
sock_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct io_curl *io = arg;
	int flags = ((what & EV_READ) ? CURL_CSELECT_IN : 0) |
		    ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	int running;

	curl_multi_socket_action(io->multi, fd, flags, &running);
	drain(io);
}

static int
socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct io_curl *io = userp;
	struct event *ev = socketp;
	struct xfer *x = NULL;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (ev != NULL)
			event_free(ev);
		curl_multi_assign(io->multi, s, NULL);
		return 0;
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	       ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (ev == NULL) {
		ev = event_new(io->base, s, kind, sock_event_cb, io);
		if (ev == NULL)
			abort();
		curl_multi_assign(io->multi, s, ev);
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		if (x != NULL && x->on_socket != NULL)
			x->on_socket(easy, s, x->arg);
	} else {
		/* Re-arm in place: no free/alloc while curl is mid-action. */
		event_del(ev);
		event_assign(ev, io->base, s, kind, sock_event_cb, io);
	}
	event_add(ev, NULL);
	return 0;
}

static void
timer_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct io_curl *io = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(io->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	drain(io);
}

/* curl asks for a timeout; 0 means "soon", which we honour from the loop
 * (curl must not be re-entered from inside this callback). */
static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct io_curl *io = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(io->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(io->timer, &tv);
	return 0;
}

struct io_curl *
io_curl_new(struct event_base *base)
{
	struct io_curl *io = xcalloc(1, sizeof(*io));

	io->base = base;
	io->multi = curl_multi_init();
	io->timer = evtimer_new(base, timer_event_cb, io);
	if (io->multi == NULL || io->timer == NULL)
		abort();
	curl_multi_setopt(io->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(io->multi, CURLMOPT_SOCKETDATA, io);
	curl_multi_setopt(io->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(io->multi, CURLMOPT_TIMERDATA, io);
	/* We never reuse connections (see http.c), so keep none idle. */
	curl_multi_setopt(io->multi, CURLMOPT_MAXCONNECTS, 1L);
	return io;
}

void
io_curl_free(struct io_curl *io)
{
	if (io == NULL)
		return;
	curl_multi_cleanup(io->multi);
	event_free(io->timer);
	free(io);
}

void
io_curl_add(struct io_curl *io, CURL *easy, io_curl_cb cb, void *arg)
{
	struct xfer *x = xmalloc(sizeof(*x));

	x->cb = cb;
	x->arg = arg;
	x->on_socket = NULL;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(io->multi, easy) != CURLM_OK)
		abort(); /* only on misuse or OOM */
}

void
io_curl_on_socket(struct io_curl *io, CURL *easy, io_curl_sock_cb fn)
{
	struct xfer *x = NULL;

	(void)io;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
	if (x != NULL)
		x->on_socket = fn;
}

void
io_curl_remove(struct io_curl *io, CURL *easy)
{
	struct xfer *x = NULL;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
	curl_multi_remove_handle(io->multi, easy);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	free(x);
}
