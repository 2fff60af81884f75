/*
 * xd_openvpn.c - the OpenVPN driver (xdriver.h): a client hard reset, and
 * when the server's reset answers ours, our ACK with a TLS ClientHello in a
 * P_CONTROL_V1, as a real client goes on, until the server's first
 * P_CONTROL_V1 (its TLS records) comes back. A censor that lets the resets
 * through and kills the flow at the TLS exchange (OpenVPN/openvpn PR #151)
 * leaves the stage at "server_reset" where the control's reached "control".
 * Over TCP each packet has its 2-byte length, and a packet may span reads.
 */
#include "xdrivers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openvpn.h"
#include "quic.h"
#include "quic_hello.h"
#include "util.h"

struct ovpn {
	struct ww_openvpn_params p;
	struct ww_openvpn_key key;
	size_t parsed;	     /* TCP: stream bytes parsed already */
	bool hello_sent;     /* our P_CONTROL_V1 went */
	uint32_t replay_pid; /* the wrap's next replay packet id */
};

static ssize_t
ovpn_first(void *st, unsigned char *out, size_t cap)
{
	struct ovpn *o = st;

	return ww_openvpn_build_reset(&o->p, out, cap);
}

/* A TLS ClientHello in one TLS record, as OpenVPN's control channel
 * carries it (the QUIC builder's handshake message: the server ignores
 * the QUIC extension it does not know). */
static ssize_t
client_hello_record(const struct ovpn *o, unsigned char *out, size_t cap)
{
	struct ww_quic_params qp;
	ssize_t n;

	(void)o;
	/* OpenVPN clients send no SNI; ALPN none of QUIC's */
	if (ww_quic_params_random(&qp, "", "openvpn") != 0 || cap < 5)
		return -1;
	n = ww_quic_hello_build(&qp, out + 5, cap - 5);
	if (n < 0 || n > 0xffff)
		return -1;
	out[0] = 0x16; /* handshake */
	out[1] = 0x03;
	out[2] = 0x01;
	out[3] = (unsigned char)(n >> 8);
	out[4] = (unsigned char)n;
	return n + 5;
}

/* After the server's reset: our ACK of it with the ClientHello. */
static ssize_t
build_hello(struct ovpn *o, const struct ww_openvpn_reply *r,
	    unsigned char *out, size_t cap)
{
	unsigned char rec[1600];
	ssize_t n = client_hello_record(o, rec, sizeof(rec));
	uint32_t ack = r->msg_pid;
	struct ww_openvpn_msg m;

	if (n < 0)
		return -1;
	memset(&m, 0, sizeof(m));
	m.opcode = WW_OPENVPN_CONTROL_V1;
	m.acks = &ack;
	m.n_acks = 1;
	m.peer_session_id = r->session_id;
	m.msg_pid = 1; /* the reset was 0 */
	m.payload = rec;
	m.payload_len = (size_t)n;
	m.replay_pid = o->replay_pid++;
	return ww_openvpn_build(&o->p, &m, out, cap);
}

/* One whole packet of the server's. */
static enum ww_xnext
one_packet(struct ovpn *o, const unsigned char *pkt, size_t len,
	   struct ww_xseen *seen, unsigned char *out, size_t cap,
	   size_t *out_len)
{
	struct ww_openvpn_reply *r = xcalloc(1, sizeof(*r));
	enum ww_xnext next = WW_XNEXT_WAIT;
	ssize_t n;

	if (ww_openvpn_parse_reply(pkt, len, &o->p, r, seen->note,
				   sizeof(seen->note)) != 0) {
		free(r);
		return WW_XNEXT_WAIT;
	}
	seen->kind = r->kind;
	seen->ours = r->answers_us;
	seen->proves_up = ww_openvpn_reply_proves_up(r);
	if (!r->answers_us) {
		free(r);
		return WW_XNEXT_WAIT;
	}
	if (!o->hello_sent && seen->proves_up &&
	    strncmp(r->kind, "server_reset", 12) == 0) {
		n = build_hello(o, r, out, cap);
		if (n > 0) {
			o->hello_sent = true;
			*out_len = (size_t)n;
			next = WW_XNEXT_SEND;
		} else {
			snprintf(seen->note, sizeof(seen->note),
				 "our ClientHello could not be built");
			next = WW_XNEXT_DONE;
		}
	} else if (o->hello_sent && strcmp(r->kind, "control") == 0) {
		next = WW_XNEXT_DONE; /* the TLS exchange goes through */
	}
	free(r);
	return next;
}

static enum ww_xnext
ovpn_reply(void *st, const unsigned char *buf, size_t len,
	   struct ww_xseen *seen, unsigned char *out, size_t cap,
	   size_t *out_len)
{
	struct ovpn *o = st;
	enum ww_xnext next = WW_XNEXT_WAIT;

	*out_len = 0;
	if (!o->p.tcp)
		return one_packet(o, buf, len, seen, out, cap, out_len);
	/* TCP: every whole frame not parsed yet; the last one's kind and
	 * note stand for the read, an answer of ours in any counts */
	bool ours = false, up = false;

	for (;;) {
		size_t f = ww_openvpn_tcp_frame_len(buf + o->parsed,
						    len - o->parsed);
		enum ww_xnext n;

		if (f == 0 || f > len - o->parsed) {
			/* a length no OpenVPN packet has: someone else
			 * answers (a proxy's HTTP error, say) */
			if (f > 2 + WW_OPENVPN_MAX_PACKET)
				snprintf(seen->note, sizeof(seen->note),
					 "not an OpenVPN frame: a length of "
					 "%zu bytes",
					 f - 2);
			break;
		}
		memset(seen, 0, sizeof(*seen));
		n = one_packet(o, buf + o->parsed, f, seen, out, cap, out_len);
		o->parsed += f;
		ours = ours || seen->ours;
		up = up || seen->proves_up;
		if (n != WW_XNEXT_WAIT)
			next = n;
		if (n == WW_XNEXT_DONE)
			break;
	}
	seen->ours = seen->ours || ours;
	seen->proves_up = seen->proves_up || up;
	if (seen->kind == NULL && seen->note[0] == '\0')
		snprintf(seen->note, sizeof(seen->note),
			 "part of a packet (%zu bytes so far)",
			 len - o->parsed);
	return next;
}

struct ww_xdriver *
ww_xd_openvpn(const struct ww_target *t, const char *key_file)
{
	struct ww_xdriver *d;
	struct ovpn *o = xcalloc(1, sizeof(*o));
	char err[200];
	/* a wrapped server without its key: the plain reset, whose silence
	 * tells nothing (the analysis reads the payload's name) */
	bool wrapped = t->wrap != WW_OVPN_WRAP_NONE && key_file != NULL;

	if (ww_openvpn_params_random(&o->p) != 0)
		abort(); /* the CSPRNG failed */
	o->p.tcp = !t->udp;
	o->replay_pid = 2; /* 1 went with the reset */
	if (wrapped) {
		char *text;
		size_t n;

		text = ww_read_file(key_file, WW_OPENVPN_KEY_TEXT_MAX, &n, err,
				    sizeof(err));
		if (text == NULL || ww_openvpn_key_parse(text, n, &o->key, err,
							 sizeof(err)) != 0) {
			char *why =
				xasprintf("OpenVPN key %s: %s", key_file, err);

			free(text);
			free(o);
			d = ww_xdriver_failed("openvpn", "handshake", t->udp,
					      why);
			free(why);
			return d;
		}
		free(text);
		o->p.wrap = t->wrap == WW_OVPN_WRAP_TLS_AUTH
				    ? WW_OPENVPN_WRAP_AUTH
				    : WW_OPENVPN_WRAP_CRYPT;
		o->p.key = &o->key;
		o->p.key_direction = t->key_direction;
		o->p.digest = t->auth == NULL || strcmp(t->auth, "sha1") == 0
				      ? WW_OPENVPN_SHA1
			      : strcmp(t->auth, "sha256") == 0
				      ? WW_OPENVPN_SHA256
				      : WW_OPENVPN_SHA512;
	}
	d = xcalloc(1, sizeof(*d));
	d->protocol = "openvpn";
	d->payload = t->wrap != WW_OVPN_WRAP_NONE && !wrapped ? "no_key"
							      : "handshake";
	d->udp = t->udp;
	d->st = o;
	d->first = ovpn_first;
	d->reply = ovpn_reply;
	d->free_st = free;
	return d;
}
