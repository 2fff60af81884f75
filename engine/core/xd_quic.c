/*
 * xd_quic.c - the QUIC drivers (xdriver.h): a version-negotiation ping (no
 * SNI: any QUIC server answers it, so it proves the UDP path and the
 * server without naming the target) and a v1 Initial carrying a TLS
 * ClientHello with a given SNI (the target's, or the neutral one). Any
 * answer of ours proves up (quic.h); one answer ends the exchange.
 */
#include "xdrivers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quic.h"
#include "util.h"

struct quic {
	struct ww_quic_params p;
	bool ping;
};

static ssize_t
quic_first(void *st, unsigned char *out, size_t cap)
{
	struct quic *q = st;

	return q->ping ? ww_quic_build_vn_ping(&q->p, out, cap)
		       : ww_quic_build_initial(&q->p, out, cap);
}

static enum ww_xnext
quic_reply(void *st, const unsigned char *buf, size_t len,
	   struct ww_xseen *seen, unsigned char *out, size_t cap,
	   size_t *out_len)
{
	struct quic *q = st;
	struct ww_quic_reply *r = xcalloc(1, sizeof(*r));
	enum ww_xnext next = WW_XNEXT_WAIT;

	(void)out;
	(void)cap;
	*out_len = 0;
	if (ww_quic_parse_reply(buf, len, &q->p, r, seen->note,
				sizeof(seen->note)) == 0) {
		seen->kind = r->kind;
		seen->ours = r->ours;
		seen->proves_up = ww_quic_reply_proves_up(r);
		if (r->connection_close && seen->note[0] == '\0') {
			const char *name =
				r->tls_alert >= 0
					? ww_quic_tls_alert_name(r->tls_alert)
					: ww_quic_error_name(r->error_code);

			snprintf(seen->note, sizeof(seen->note),
				 "CONNECTION_CLOSE %s%s",
				 r->tls_alert >= 0 ? "TLS alert " : "",
				 name != NULL ? name : "(unnamed)");
		}
		if (r->ours)
			next = WW_XNEXT_DONE;
	}
	free(r);
	return next;
}

struct ww_xdriver *
ww_xd_quic(const char *sni, const char *payload, bool ping)
{
	struct ww_xdriver *d = xcalloc(1, sizeof(*d));
	struct quic *q = xcalloc(1, sizeof(*q));

	if (ww_quic_params_random(&q->p, ping ? "" : sni, "") != 0)
		abort(); /* the CSPRNG failed, or sni is no name */
	q->ping = ping;
	d->protocol = "quic";
	d->payload = payload;
	d->server_name = !ping && sni[0] != '\0' ? xstrdup(sni) : NULL;
	d->udp = true;
	d->st = q;
	d->first = quic_first;
	d->reply = quic_reply;
	d->free_st = free;
	return d;
}
