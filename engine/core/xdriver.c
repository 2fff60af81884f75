/*
 * xdriver.c - what every protocol driver shares, and the neutral driver
 * (see xdriver.h).
 */
#include "xdriver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void
ww_xdriver_free(struct ww_xdriver *d)
{
	if (d == NULL)
		return;
	if (d->free_st != NULL)
		d->free_st(d->st);
	free(d->error);
	free(d->server_name);
	free(d->pkt);
	free(d);
}

ssize_t
ww_xdriver_first(struct ww_xdriver *d, unsigned char *out, size_t cap)
{
	if (d->pkt == NULL) {
		unsigned char buf[WW_XDRIVER_MAX_PACKET];
		ssize_t n = d->first(d->st, buf, sizeof(buf));

		if (n <= 0)
			return -1;
		d->pkt = xmalloc((size_t)n);
		memcpy(d->pkt, buf, (size_t)n);
		d->pkt_len = (size_t)n;
	}
	if (d->pkt_len > cap)
		return -1;
	memcpy(out, d->pkt, d->pkt_len);
	return (ssize_t)d->pkt_len;
}

static ssize_t
failed_first(void *st, unsigned char *out, size_t cap)
{
	(void)st;
	(void)out;
	(void)cap;
	return -1;
}

struct ww_xdriver *
ww_xdriver_failed(const char *protocol, const char *payload, bool udp,
		  const char *error)
{
	struct ww_xdriver *d = xcalloc(1, sizeof(*d));

	d->protocol = protocol;
	d->payload = payload;
	d->udp = udp;
	d->first = failed_first;
	d->error = xstrdup(error);
	return d;
}

struct neutral {
	unsigned char *bytes;
	size_t len;
};

static ssize_t
neutral_first(void *st, unsigned char *out, size_t cap)
{
	struct neutral *n = st;

	if (n->len > cap)
		return -1;
	memcpy(out, n->bytes, n->len);
	return (ssize_t)n->len;
}

/* Any byte back answers: the path to the port and back is open, and
 * something there listens (whatever it makes of our bytes). */
static enum ww_xnext
neutral_reply(void *st, const unsigned char *buf, size_t len,
	      struct ww_xseen *seen, unsigned char *out, size_t cap,
	      size_t *out_len)
{
	(void)st;
	(void)buf;
	(void)out;
	(void)cap;
	*out_len = 0;
	seen->kind = "data";
	seen->ours = true;
	seen->proves_up = len > 0;
	return WW_XNEXT_DONE;
}

static void
neutral_free(void *st)
{
	struct neutral *n = st;

	free(n->bytes);
	free(n);
}

struct ww_xdriver *
ww_xdriver_neutral(const char *protocol, const char *payload_name, bool udp,
		   const unsigned char *payload, size_t len)
{
	struct ww_xdriver *d = xcalloc(1, sizeof(*d));
	struct neutral *n = xcalloc(1, sizeof(*n));

	n->bytes = xmalloc(len > 0 ? len : 1);
	memcpy(n->bytes, payload, len);
	n->len = len;
	d->protocol = protocol;
	d->payload = payload_name;
	d->udp = udp;
	d->st = n;
	d->first = neutral_first;
	d->reply = neutral_reply;
	d->free_st = neutral_free;
	return d;
}
