/*
 * dns.c - an authoritative-looking server for lab.test over UDP and TCP.
 *
 * Wire format per RFC 1035 4.1; TCP framing per RFC 1035 4.2.2 (two-byte
 * length prefix), which c-ares falls back to on truncation. The zone is a
 * fixed table (README.md), or a zone file loaded once at start-up (the
 * censor lab's); the answers are built by fake_dns_answer(), a pure function
 * of the query and that zone, so it can be fuzzed on its own. UDP answers
 * may be held back for a while (--dns-delay): a distant resolver, whose
 * answer loses the race against one injected on the path. twice.lab.test
 * plays that race on its own: over UDP its A query is answered twice, at
 * once with a forged address, then with the real one.
 */
#include "fakenet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "util.h"

#define DNS_HDR_LEN 12
#define DNS_NAME_MAX 255 /* wire octets, RFC 1035 2.3.4 */

#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080

#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN 1

enum dns_rcode {
	RCODE_NOERROR = 0,
	RCODE_FORMERR = 1,
	RCODE_SERVFAIL = 2,
	RCODE_NXDOMAIN = 3,
	RCODE_NOTIMP = 4,
	RCODE_REFUSED = 5,
};

/* A TCP client that sends queries but never reads stops being read. */
#define DNS_TCP_OUT_MAX 65536
/* How many times to look for a port free for both UDP and TCP. */
#define DNS_BIND_TRIES 32
/* Delayed UDP answers held at once; beyond this they are sent at once. */
#define DNS_DELAY_MAX 4096
/* twice.lab.test: the forged address, and how long after it the real
 * answer follows when --dns-delay does not say. */
#define DNS_FORGED_ADDR                                                        \
	{                                                                      \
		127, 0, 0, 66                                                  \
	}
#define DNS_TWICE_DELAY_MS 100

/* Zone files: at most this many names, addresses per name, line bytes. */
#define ZONE_NAMES_MAX 1024
#define ZONE_ADDRS_MAX 16
#define ZONE_LINE_MAX 1024

/* A UDP answer waiting for its --dns-delay to pass. */
struct dns_delayed {
	struct dns_delayed *prev, *next;
	struct fake_dns *d;
	struct event *ev;
	struct sockaddr_storage to;
	socklen_t tolen;
	size_t len;
	uint8_t r[]; /* the answer, len bytes */
};

struct fake_dns {
	struct fakenet *fn;
	int udp_fd;
	struct event *udp_ev;
	struct fake_listener *tcp; /* NULL when the port was taken */
	struct timeval delay;
	bool delayed;		    /* delay is not zero */
	struct dns_delayed pending; /* list head, circular */
	size_t npending;
};

/* One name of a zone file and its A and AAAA records, in file order. */
struct zone_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t a[16];
};

struct zone_name {
	char name[DNS_NAME_MAX + 1];
	struct zone_addr addrs[ZONE_ADDRS_MAX];
	size_t naddrs;
};

struct zone {
	char origin[DNS_NAME_MAX + 1];
	struct zone_name *names;
	size_t n, cap;
};

/* NULL: the built-in lab.test table. */
static struct zone *zone;

/* --- the answer builder ----------------------------------------------------*/

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool overflow;
};

static void
put_bytes(struct wbuf *w, const void *src, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void
put16(struct wbuf *w, unsigned v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	put_bytes(w, b, sizeof(b));
}

static void
put32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
			(uint8_t)(v >> 8), (uint8_t)v};

	put_bytes(w, b, sizeof(b));
}

/* A dotted name, uncompressed. */
static void
put_name(struct wbuf *w, const char *name)
{
	const char *dot;
	size_t n;
	uint8_t len;

	while (*name != '\0') {
		dot = strchr(name, '.');
		n = dot ? (size_t)(dot - name) : strlen(name);
		len = (uint8_t)n;
		put_bytes(w, &len, 1);
		put_bytes(w, name, n);
		name += n + (dot ? 1 : 0);
	}
	put_bytes(w, "", 1);
}

/* Owner "the question name": a pointer to offset 12 (RFC 1035 4.1.4). */
static void
put_rr_head(struct wbuf *w, const char *owner, unsigned type, uint32_t ttl)
{
	if (owner == NULL)
		put16(w, 0xc000 | DNS_HDR_LEN);
	else
		put_name(w, owner);
	put16(w, type);
	put16(w, DNS_CLASS_IN);
	put32(w, ttl);
}

static void
put_a(struct wbuf *w, const char *owner, uint8_t last_octet)
{
	uint8_t a[4] = {127, 0, 0, last_octet};

	put_rr_head(w, owner, DNS_TYPE_A, 300);
	put16(w, sizeof(a));
	put_bytes(w, a, sizeof(a));
}

static void
put_zone_addr(struct wbuf *w, const struct zone_addr *za)
{
	size_t len = za->family == AF_INET ? 4 : 16;

	put_rr_head(w, NULL, za->family == AF_INET ? DNS_TYPE_A : DNS_TYPE_AAAA,
		    300);
	put16(w, (unsigned)len);
	put_bytes(w, za->a, len);
}

static void
put_aaaa_loopback(struct wbuf *w)
{
	uint8_t a[16] = {0};

	a[15] = 1;
	put_rr_head(w, NULL, DNS_TYPE_AAAA, 300);
	put16(w, sizeof(a));
	put_bytes(w, a, sizeof(a));
}

static void
put_cname(struct wbuf *w, const char *target)
{
	size_t at;

	put_rr_head(w, NULL, DNS_TYPE_CNAME, 60);
	at = w->len;
	put16(w, 0); /* RDLENGTH, patched below */
	put_name(w, target);
	if (!w->overflow) {
		w->p[at] = (uint8_t)((w->len - at - 2) >> 8);
		w->p[at + 1] = (uint8_t)(w->len - at - 2);
	}
}

static bool
name_is(const char *name, const char *want)
{
	return strcmp(name, want) == 0;
}

/* name is suffix itself or a name below it. */
static bool
name_under(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	if (n == s)
		return strcmp(name, suffix) == 0;
	return n > s && name[n - s - 1] == '.' &&
	       strcmp(name + n - s, suffix) == 0;
}

/*
 * Read the question name at q[*off] into name (lower case, dotted, no
 * trailing dot). Returns 0, or -1 if malformed. *odd is set for labels that
 * hold '.' or NUL: those cannot be spelled as a dotted name, so they match
 * no zone entry.
 */
static int
parse_qname(const uint8_t *q, size_t qlen, size_t *off, char *name, bool *odd)
{
	size_t pos = *off, out = 0, wire = 0;
	uint8_t len;
	size_t i;

	*odd = false;
	for (;;) {
		if (pos >= qlen)
			return -1;
		len = q[pos++];
		wire += 1u + len;
		if (wire > DNS_NAME_MAX)
			return -1;
		if (len == 0)
			break;
		/* Queries carry one name, so no compression (4.1.4). */
		if ((len & 0xc0) != 0 || len > qlen - pos)
			return -1;
		if (out > 0)
			name[out++] = '.';
		for (i = 0; i < len; i++) {
			uint8_t ch = q[pos + i];

			if (ch == '.' || ch == '\0')
				*odd = true;
			if (ch >= 'A' && ch <= 'Z')
				ch = (uint8_t)(ch - 'A' + 'a');
			name[out++] = (char)ch;
		}
		pos += len;
	}
	name[out] = '\0';
	*off = pos;
	return 0;
}

/* --- zone files ------------------------------------------------------------*/

static const struct zone_name *
zone_find(const char *name)
{
	size_t i;

	for (i = 0; i < zone->n; i++)
		if (strcmp(zone->names[i].name, name) == 0)
			return &zone->names[i];
	return NULL;
}

/*
 * A zone-file name into out: lower case, no trailing dot, 1..63-byte labels
 * of letters, digits, '-' and '_'. Returns 0, or -1 if it is not one.
 */
static int
zone_name_parse(const char *tok, size_t n, char *out)
{
	size_t i, label = 0;

	if (n > 0 && tok[n - 1] == '.')
		n--;
	if (n == 0 || n > DNS_NAME_MAX - 2)
		return -1;
	for (i = 0; i < n; i++) {
		char ch = tok[i];

		if (ch == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') ||
			   (ch >= '0' && ch <= '9') || ch == '-' || ch == '_') {
			label++;
		} else if (ch >= 'A' && ch <= 'Z') {
			ch = (char)(ch - 'A' + 'a');
			label++;
		} else {
			return -1;
		}
		if (label > 63)
			return -1;
		out[i] = ch;
	}
	if (label == 0)
		return -1;
	out[n] = '\0';
	return 0;
}

/* Split line into white-space separated words, at most max. */
static size_t
zone_words(char *line, char **words, size_t *lens, size_t max)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0' || *p == '#')
			return n;
		if (n == max)
			return max + 1;
		words[n] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' &&
		       *p != '\n' && *p != '#')
			p++;
		lens[n] = (size_t)(p - words[n]);
		n++;
	}
}

static int
zone_line(struct zone *z, char *line, const char **why)
{
	char *words[1 + ZONE_ADDRS_MAX], buf[64]; /* a name, its addresses */
	size_t lens[1 + ZONE_ADDRS_MAX], n, i;
	struct zone_name *zn;

	n = zone_words(line, words, lens, WW_ARRAY_LEN(words));
	if (n == 0)
		return 0;
	if (n > WW_ARRAY_LEN(words)) {
		*why = "too many addresses";
		return -1;
	}
	if (lens[0] == 7 && memcmp(words[0], "$ORIGIN", 7) == 0) {
		if (n != 2 || z->origin[0] != '\0' ||
		    zone_name_parse(words[1], lens[1], z->origin) < 0) {
			*why = "$ORIGIN needs one name, once, first";
			return -1;
		}
		return 0;
	}
	if (z->origin[0] == '\0') {
		*why = "$ORIGIN must come first";
		return -1;
	}
	/* A name alone exists with no address (NOERROR, empty, for every
	 * type): the lab's site whose DNS has no answer for anyone. */
	if (z->n == ZONE_NAMES_MAX) {
		*why = "too many names";
		return -1;
	}
	/* On error the whole zone is thrown away: no need to pop zn. */
	zn = WW_PUSH(z->names, z->n, z->cap);
	memset(zn, 0, sizeof(*zn));
	if (zone_name_parse(words[0], lens[0], zn->name) < 0 ||
	    !name_under(zn->name, z->origin)) {
		*why = "not a name under $ORIGIN";
		return -1;
	}
	for (i = 0; i + 1 < z->n; i++) {
		if (strcmp(z->names[i].name, zn->name) == 0) {
			*why = "name listed twice (one line per name)";
			return -1;
		}
	}
	for (i = 1; i < n; i++) {
		struct zone_addr *za = &zn->addrs[zn->naddrs];

		*why = "not an IPv4 or IPv6 address";
		if (lens[i] >= sizeof(buf))
			return -1;
		memcpy(buf, words[i], lens[i]);
		buf[lens[i]] = '\0';
		if (inet_pton(AF_INET, buf, za->a) == 1)
			za->family = AF_INET;
		else if (inet_pton(AF_INET6, buf, za->a) == 1)
			za->family = AF_INET6;
		else
			return -1;
		*why = NULL;
		zn->naddrs++;
	}
	return 0;
}

int
fake_dns_load_zone(const char *path)
{
	struct zone *z = xcalloc(1, sizeof(*z));
	char line[ZONE_LINE_MAX];
	const char *why = NULL;
	unsigned long lineno = 0;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		log_error("dns", "%s: %s", path, strerror(errno));
		free(z);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			why = "line too long";
			break;
		}
		if (zone_line(z, line, &why) < 0)
			break;
	}
	if (why == NULL && ferror(f))
		why = strerror(errno);
	if (why == NULL && z->origin[0] == '\0')
		why = "no $ORIGIN";
	fclose(f);
	if (why != NULL) {
		log_error("dns", "%s:%lu: %s", path, lineno, why);
		free(z->names);
		free(z);
		return -1;
	}
	fake_dns_free_zone();
	zone = z;
	return 0;
}

void
fake_dns_free_zone(void)
{
	if (zone == NULL)
		return;
	free(zone->names);
	free(zone);
	zone = NULL;
}

/* --- the answers ----------------------------------------------------------*/

size_t
fake_dns_answer(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap)
{
	struct wbuf w = {.p = out, .cap = cap};
	char name[DNS_NAME_MAX + 1];
	unsigned flags, opcode, rcode = RCODE_NOERROR, qtype, qclass;
	unsigned ancount = 0, rflags;
	size_t off = DNS_HDR_LEN;
	bool odd, in_zone = false;
	size_t qd_end = 0, i;
	const struct zone_name *zn = NULL;

	if (qlen < DNS_HDR_LEN || cap < 512)
		return 0;
	flags = (unsigned)q[2] << 8 | q[3];
	if (flags & DNS_FLAG_QR)
		return 0; /* never answer a response: no reflection loops */
	opcode = (flags >> 11) & 0xf;
	rflags = DNS_FLAG_QR | (opcode << 11) | (flags & DNS_FLAG_RD) |
		 DNS_FLAG_RA;

	if (opcode != 0) {
		rcode = RCODE_NOTIMP;
		goto header_only;
	}
	if (((unsigned)q[4] << 8 | q[5]) != 1 ||
	    parse_qname(q, qlen, &off, name, &odd) < 0 || qlen - off < 4) {
		rcode = RCODE_FORMERR;
		goto header_only;
	}
	qtype = (unsigned)q[off] << 8 | q[off + 1];
	qclass = (unsigned)q[off + 2] << 8 | q[off + 3];
	qd_end = off + 4;
	/* Additional records (an EDNS OPT, RFC 6891) are ignored: we do not
	 * speak EDNS, which a responder may do by omitting OPT. */

	if (zone != NULL) {
		in_zone = !odd && qclass == DNS_CLASS_IN &&
			  name_under(name, zone->origin);
		zn = in_zone ? zone_find(name) : NULL;
		if (!in_zone)
			rcode = RCODE_REFUSED;
		else if (zn == NULL)
			rcode = RCODE_NXDOMAIN;
		goto header;
	}
	in_zone =
		!odd && qclass == DNS_CLASS_IN && name_under(name, "lab.test");
	if (!in_zone)
		rcode = RCODE_REFUSED;
	else if (name_under(name, "nx.lab.test"))
		rcode = RCODE_NXDOMAIN;
	else if (name_is(name, "refused.lab.test"))
		rcode = RCODE_REFUSED;
	else if (name_is(name, "servfail.lab.test"))
		rcode = RCODE_SERVFAIL;
	else if (name_is(name, "silent.lab.test"))
		return 0;

header:
	/* Header now, counts patched once the answers are written. */
	put16(&w, (unsigned)q[0] << 8 | q[1]);
	/* Authoritative for what the zone says, not for refusals. */
	if (rcode == RCODE_NOERROR || rcode == RCODE_NXDOMAIN)
		rflags |= DNS_FLAG_AA;
	put16(&w, rflags | rcode);
	put16(&w, 1);
	put16(&w, 0);
	put16(&w, 0);
	put16(&w, 0);
	put_bytes(&w, q + DNS_HDR_LEN, qd_end - DNS_HDR_LEN);
	if (rcode != RCODE_NOERROR)
		goto done;

	if (zn != NULL) {
		/* Records of the asked type, NOERROR and none for others. */
		for (i = 0; i < zn->naddrs; i++) {
			if ((qtype == DNS_TYPE_A &&
			     zn->addrs[i].family == AF_INET) ||
			    (qtype == DNS_TYPE_AAAA &&
			     zn->addrs[i].family == AF_INET6)) {
				put_zone_addr(&w, &zn->addrs[i]);
				ancount++;
			}
		}
	} else if (name_is(name, "cname.lab.test")) {
		/* A CNAME owns the name for every type (RFC 1034 3.6.2). */
		put_cname(&w, "good.lab.test");
		ancount++;
		if (qtype == DNS_TYPE_A) {
			put_a(&w, "good.lab.test", 1);
			ancount++;
		}
	} else if (name_is(name, "noaddr.lab.test")) {
		/* NOERROR, no data. */
	} else if (name_is(name, "v6.lab.test")) {
		if (qtype == DNS_TYPE_A) {
			put_a(&w, NULL, 1);
			ancount++;
		} else if (qtype == DNS_TYPE_AAAA) {
			put_aaaa_loopback(&w);
			ancount++;
		}
	} else if (name_is(name, "multi.lab.test")) {
		if (qtype == DNS_TYPE_A) {
			put_a(&w, NULL, 1);
			put_a(&w, NULL, 2);
			ancount += 2;
		}
	} else if (qtype == DNS_TYPE_A) {
		put_a(&w, NULL, 1);
		ancount++;
	}
done:
	if (w.overflow)
		return 0;
	out[6] = (uint8_t)(ancount >> 8);
	out[7] = (uint8_t)ancount;
	return w.len;

header_only:
	put16(&w, (unsigned)q[0] << 8 | q[1]);
	put16(&w, rflags | rcode);
	put16(&w, 0);
	put16(&w, 0);
	put16(&w, 0);
	put16(&w, 0);
	return w.overflow ? 0 : w.len;
}

/*
 * The forged twin of answer r (rlen bytes) to query q, into out: the same
 * message with DNS_FORGED_ADDR as its address, as an on-path injector
 * would send it. Only for an A query of twice.lab.test answered with one
 * address (the built-in table); returns 0 otherwise.
 */
static size_t
forged_answer(const uint8_t *q, size_t qlen, const uint8_t *r, size_t rlen,
	      uint8_t *out, size_t cap)
{
	static const uint8_t forged[4] = DNS_FORGED_ADDR;
	char name[DNS_NAME_MAX + 1];
	size_t off = DNS_HDR_LEN;
	bool odd;

	if (zone != NULL || qlen < DNS_HDR_LEN ||
	    parse_qname(q, qlen, &off, name, &odd) < 0 || odd ||
	    !name_is(name, "twice.lab.test") || qlen - off < 2 ||
	    ((unsigned)q[off] << 8 | q[off + 1]) != DNS_TYPE_A)
		return 0;
	/* One answer, an A record: its RDATA is the last 4 bytes. */
	if (rlen < DNS_HDR_LEN + 4 || rlen > cap || (r[3] & 0x0f) != 0 ||
	    r[6] != 0 || r[7] != 1)
		return 0;
	memcpy(out, r, rlen);
	memcpy(out + rlen - 4, forged, sizeof(forged));
	return rlen;
}

/* --- UDP -------------------------------------------------------------------*/

static void
udp_send(struct fake_dns *d, const uint8_t *r, size_t rlen,
	 const struct sockaddr *to, socklen_t tolen)
{
	/* A full socket buffer drops the reply, as the network may. */
	if (sendto(d->udp_fd, r, rlen, 0, to, tolen) < 0)
		log_debug("dns", "sendto: %s", strerror(errno));
}

static void
delayed_free(struct dns_delayed *dl)
{
	dl->prev->next = dl->next;
	dl->next->prev = dl->prev;
	dl->d->npending--;
	event_free(dl->ev);
	free(dl);
}

static void
delayed_fire(evutil_socket_t fd, short what, void *arg)
{
	struct dns_delayed *dl = arg;

	(void)fd;
	(void)what;
	udp_send(dl->d, dl->r, dl->len, (struct sockaddr *)&dl->to, dl->tolen);
	delayed_free(dl);
}

/* Send r after delay (NULL: none); at once when too many answers are
 * waiting. */
static void
udp_answer(struct fake_dns *d, const uint8_t *r, size_t rlen,
	   const struct sockaddr_storage *to, socklen_t tolen,
	   const struct timeval *delay)
{
	struct dns_delayed *dl;

	if (delay == NULL || d->npending >= DNS_DELAY_MAX) {
		udp_send(d, r, rlen, (const struct sockaddr *)to, tolen);
		return;
	}
	dl = xcalloc(1, sizeof(*dl) + rlen);
	dl->d = d;
	dl->to = *to;
	dl->tolen = tolen;
	dl->len = rlen;
	memcpy(dl->r, r, rlen);
	dl->ev = evtimer_new(d->fn->base, delayed_fire, dl);
	dl->next = d->pending.next;
	dl->prev = &d->pending;
	d->pending.next->prev = dl;
	d->pending.next = dl;
	d->npending++;
	evtimer_add(dl->ev, delay);
}

static void
udp_read(evutil_socket_t fd, short what, void *arg)
{
	struct fake_dns *d = arg;
	uint8_t q[4096], r[4096], f[4096];
	struct sockaddr_storage from;
	socklen_t fromlen;
	ssize_t n;
	size_t rlen, flen;
	int i;
	const struct timeval twice = {0, DNS_TWICE_DELAY_MS * 1000};

	(void)what;
	/* Bounded per wake-up so that TCP clients get their turn. */
	for (i = 0; i < 64; i++) {
		fromlen = sizeof(from);
		n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from,
			     &fromlen);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_debug("dns", "recvfrom: %s",
					  strerror(errno));
			return;
		}
		rlen = fake_dns_answer(q, (size_t)n, r, sizeof(r));
		if (rlen == 0)
			continue;
		flen = forged_answer(q, (size_t)n, r, rlen, f, sizeof(f));
		if (flen > 0) {
			/* The injector's answer first, the real one after. */
			udp_send(d, f, flen, (struct sockaddr *)&from, fromlen);
			udp_answer(d, r, rlen, &from, fromlen,
				   d->delayed ? &d->delay : &twice);
			continue;
		}
		udp_answer(d, r, rlen, &from, fromlen,
			   d->delayed ? &d->delay : NULL);
	}
}

/* --- TCP -------------------------------------------------------------------*/

struct dns_tcp {
	struct fake_conn c; /* first */
	struct fakenet *fn;
	struct bufferevent *bev;
	bool closing; /* peer is gone: flush the answers, then close */
};

static void
dns_tcp_close(struct fake_conn *c)
{
	struct dns_tcp *t = WW_CONTAINER_OF(c, struct dns_tcp, c);

	fake_conn_unlink(t->fn, &t->c);
	bufferevent_free(t->bev);
	free(t);
}

static void
dns_tcp_read(struct bufferevent *bev, void *arg)
{
	struct dns_tcp *t = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);
	uint8_t hdr[2], r[4096];
	const uint8_t *q;
	size_t mlen, rlen;

	while (evbuffer_get_length(out) < DNS_TCP_OUT_MAX) {
		if (evbuffer_copyout(in, hdr, 2) < 2)
			return;
		mlen = (size_t)hdr[0] << 8 | hdr[1];
		if (mlen == 0) {
			dns_tcp_close(&t->c);
			return;
		}
		if (evbuffer_get_length(in) < 2 + mlen)
			return;
		q = evbuffer_pullup(in, (ev_ssize_t)(2 + mlen));
		rlen = fake_dns_answer(q + 2, mlen, r + 2, sizeof(r) - 2);
		evbuffer_drain(in, 2 + mlen);
		if (rlen == 0)
			continue;
		r[0] = (uint8_t)(rlen >> 8);
		r[1] = (uint8_t)rlen;
		evbuffer_add(out, r, rlen + 2);
	}
}

static void
dns_tcp_write(struct bufferevent *bev, void *arg)
{
	struct dns_tcp *t = arg;

	if (t->closing) {
		dns_tcp_close(&t->c);
		return;
	}
	/* Output drained: answer what queued up while we waited. */
	dns_tcp_read(bev, arg);
}

static void
dns_tcp_event(struct bufferevent *bev, short what, void *arg)
{
	struct dns_tcp *t = arg;

	if ((what & BEV_EVENT_EOF) &&
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		t->closing = true; /* half-closed: the answers still go out */
		return;
	}
	dns_tcp_close(&t->c);
}

static void
dns_tcp_accept(struct fake_listener *l, int fd, void *arg)
{
	struct fake_dns *d = arg;
	struct dns_tcp *t = xcalloc(1, sizeof(*t));
	struct timeval idle = {FAKE_IDLE_SECS, 0};

	(void)l;
	t->fn = d->fn;
	t->bev = bufferevent_socket_new(d->fn->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (t->bev == NULL) {
		close(fd);
		free(t);
		return;
	}
	fake_sock_nodelay(fd);
	bufferevent_setcb(t->bev, dns_tcp_read, dns_tcp_write, dns_tcp_event,
			  t);
	/* One maximal message plus its prefix (RFC 1035 4.2.2). */
	bufferevent_setwatermark(t->bev, EV_READ, 0, 2 + 65535);
	bufferevent_set_timeouts(t->bev, &idle, &idle);
	bufferevent_enable(t->bev, EV_READ | EV_WRITE);
	fake_conn_link(d->fn, &t->c, dns_tcp_close);
}

/* --- set-up ----------------------------------------------------------------*/

static int
udp_bind(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd;

	fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -1;
	if (bind(fd, (const struct sockaddr *)ss, len) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static void
set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

static int
get_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

struct fake_dns *
fake_dns_new(struct fakenet *fn, const struct sockaddr *at, socklen_t atlen,
	     int delay_ms)
{
	struct fake_dns *d = xcalloc(1, sizeof(*d));
	struct sockaddr_storage ss;
	socklen_t sslen;
	int i, port, fixed;

	d->fn = fn;
	d->udp_fd = -1;
	d->pending.next = d->pending.prev = &d->pending;
	d->delayed = delay_ms > 0;
	d->delay.tv_sec = delay_ms / 1000;
	d->delay.tv_usec = (delay_ms % 1000) * 1000;
	memset(&ss, 0, sizeof(ss));
	if (at != NULL) {
		memcpy(&ss, at, atlen);
		sslen = atlen;
	} else {
		ss = fn->bind_addr;
		sslen = fn->bind_len;
	}
	fixed = get_port(&ss);
	/* UDP first, then TCP on the same number if it is free; with an
	 * ephemeral port, try a few numbers. */
	for (i = 0; i < DNS_BIND_TRIES; i++) {
		set_port(&ss, fixed);
		d->udp_fd = udp_bind(&ss, sslen);
		if (d->udp_fd < 0) {
			log_error("dns", "udp bind: %s", strerror(errno));
			free(d);
			return NULL;
		}
		port = fake_sock_port(d->udp_fd);
		set_port(&ss, port);
		d->tcp = fake_listener_new_at(fn, (struct sockaddr *)&ss, sslen,
					      dns_tcp_accept, d);
		if (d->tcp != NULL)
			break;
		if (fixed != 0 || i + 1 == DNS_BIND_TRIES) {
			log_warn("dns", "no tcp on port %d: %s; udp only", port,
				 strerror(errno));
			break;
		}
		close(d->udp_fd);
	}
	d->udp_ev = event_new(fn->base, d->udp_fd, EV_READ | EV_PERSIST,
			      udp_read, d);
	event_add(d->udp_ev, NULL);
	return d;
}

int
fake_dns_port(const struct fake_dns *d)
{
	return fake_sock_port(d->udp_fd);
}

void
fake_dns_free(struct fake_dns *d)
{
	if (d == NULL)
		return;
	/* Answers still waiting are dropped, as a server going away does. */
	while (d->pending.next != &d->pending)
		delayed_free(d->pending.next);
	event_free(d->udp_ev);
	close(d->udp_fd);
	fake_listener_free(d->tcp);
	free(d);
}
