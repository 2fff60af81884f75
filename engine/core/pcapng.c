/*
 * pcapng.c - write the probe's own flows as pcapng (draft-ietf-opsawg-
 * pcapng: SHB, IDB, EPB), every frame rewritten first so that the
 * volunteer's address is nowhere in the file (see pcapng.h).
 */
#include "pcapng.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "util.h"

#ifndef WW_VERSION
#define WW_VERSION "unknown"
#endif

#define BT_SHB 0x0a0d0d0au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1a2b3c4du
#define OPT_END 0
#define OPT_COMMENT 1
#define OPT_SHB_USERAPPL 4
#define MAX_IFACES 16 /* link types in one file; we use one or two */

struct ww_pcapng {
	FILE *f;
	char *path;
	unsigned snaplen;
	ww_pcapng_scrub_fn scrub;
	void *scrub_arg;
	int ifaces[MAX_IFACES]; /* link type of each IDB written */
	size_t n_ifaces;
	uint8_t *buf; /* the rewritten copy */
	size_t bufsize;
	uint64_t count;
	bool failed; /* a write failed: every later one fails */
	char error[256];
};

/* --- checksums ------------------------------------------------------------ */

static uint16_t
fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* The 16-bit word at i of a region of n bytes; an odd last byte is the
 * high half of a word, as in the checksum of the whole segment (the
 * regions we adjust start at an even offset of it). */
static unsigned
word_at(const uint8_t *p, size_t i, size_t n)
{
	return (unsigned)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
}

/*
 * RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), over every word of a region
 * that changed from old to new: only the checksum field and the changed
 * bytes are needed, never the rest of the segment.
 */
static uint16_t
csum_adjust(uint16_t hc, const uint8_t *old, const uint8_t *new, size_t n)
{
	uint32_t acc = (uint16_t)~hc;

	for (size_t i = 0; i < n; i += 2) {
		acc += (~word_at(old, i, n) & 0xffff) + word_at(new, i, n);
		acc = fold(acc);
	}
	return (uint16_t)~fold(acc);
}

/* The transport checksum field, or NULL when this frame has none to
 * keep right (not TCP/UDP, a later fragment, UDP without checksum). */
static uint8_t *
l4_csum_field(uint8_t *frame, const struct ww_pkt *p)
{
	uint8_t *c;

	if (!p->have_ports)
		return NULL;
	/* packet.c checked 20 (TCP) or 8 (UDP) bytes captured. */
	c = frame + p->l4_off + (p->proto == 6 ? 16 : 6);
	if (p->proto == 17 && ww_be16(c) == 0)
		return NULL; /* RFC 768: no checksum; stays none */
	return c;
}

static void
l4_csum_update(uint8_t *field, int proto, const uint8_t *old,
	       const uint8_t *new, size_t n)
{
	uint16_t c;

	if (field == NULL || memcmp(old, new, n) == 0)
		return;
	c = csum_adjust(ww_be16(field), old, new, n);
	if (proto == 17 && c == 0)
		c = 0xffff; /* RFC 768: a computed 0 is sent as all ones */
	ww_put_be16(field, c);
}

static void
ip4_csum_recompute(uint8_t *h, size_t hlen)
{
	uint32_t acc = 0;

	ww_put_be16(h + 10, 0);
	for (size_t i = 0; i + 1 < hlen; i += 2)
		acc += ww_be16(h + i);
	ww_put_be16(h + 10, (uint16_t)~fold(acc));
}

/* --- the rewrite -----------------------------------------------------------
 */

struct addr_swap {
	const uint8_t *old, *repl;
	size_t alen;
};

/* Every copy of the old address in frame[from..to) becomes repl. Only
 * called on option data, so that no type or length byte can change. */
static void
replace_all(uint8_t *frame, size_t from, size_t to, const struct addr_swap *s)
{
	for (size_t i = from; i + s->alen <= to; i++)
		if (memcmp(frame + i, s->old, s->alen) == 0) {
			memcpy(frame + i, s->repl, s->alen);
			i += s->alen - 1;
		}
}

/* IPv4 options (RFC 791 3.1): record-route, timestamps and source routes
 * carry addresses in their data. */
static void
ip4_options_swap(uint8_t *f, size_t i, size_t end, const struct addr_swap *s)
{
	while (i < end) {
		size_t len;

		if (f[i] == 0) /* end of options */
			return;
		if (f[i] == 1) { /* no-op */
			i++;
			continue;
		}
		if (end - i < 2 || (len = f[i + 1]) < 2 || len > end - i)
			return;
		replace_all(f, i + 2, i + len, s);
		i += len;
	}
}

/* The TLVs of a hop-by-hop or destination options header (RFC 8200
 * 4.2; the home address option of RFC 6275 6.3 carries one). */
static void
ip6_tlvs_swap(uint8_t *f, size_t i, size_t end, const struct addr_swap *s)
{
	while (i < end) {
		size_t dlen;

		if (f[i] == 0) { /* Pad1 */
			i++;
			continue;
		}
		if (end - i < 2 || (dlen = f[i + 1]) > end - i - 2)
			return;
		replace_all(f, i + 2, i + 2 + dlen, s);
		i += 2 + dlen;
	}
}

/* packet.c walked this chain already: it fills [ip_off + 40, ip_off +
 * ip_hlen) exactly. Routing headers carry addresses from byte 8. */
static void
ip6_ext_swap(uint8_t *f, const struct ww_pkt *p, const struct addr_swap *s)
{
	size_t i = p->ip_off + 40, end = p->ip_off + p->ip_hlen;
	int nh = f[p->ip_off + 6];

	while (end - i >= 8) {
		size_t len = nh == 44 ? 8 : ((size_t)f[i + 1] + 1) * 8;

		if (len > end - i)
			return;
		if (nh == 43)
			replace_all(f, i + 8, i + len, s);
		else if (nh == 0 || nh == 60)
			ip6_tlvs_swap(f, i + 2, i + len, s);
		nh = f[i];
		i += len;
	}
}

static void
zero_link_addresses(int linktype, uint8_t *frame)
{
	/* packet.c checked that the whole link header was captured. */
	switch (linktype) {
	case WW_DLT_EN10MB:
		memset(frame, 0, 12); /* destination and source MAC */
		break;
	case WW_DLT_LINUX_SLL:
		memset(frame + 6, 0, 8);
		break;
	case WW_DLT_LINUX_SLL2:
		memset(frame + 12, 0, 8);
		break;
	default:
		break;
	}
}

static void
run_scrub(uint8_t *frame, const struct ww_pkt *orig, uint8_t *csum,
	  ww_pcapng_scrub_fn scrub, void *arg)
{
	size_t off = (size_t)(orig->payload - frame), n = orig->payload_caplen;
	uint8_t *before;

	if (scrub == NULL || n == 0)
		return;
	before = xmalloc(n);
	memcpy(before, frame + off, n);
	scrub(arg, orig, frame + off, n);
	/* The payload starts at an even offset of the segment (TCP header
	 * lengths are multiples of 4, UDP's is 8). A later fragment's
	 * checksum is in the first one: it cannot be kept right. */
	l4_csum_update(csum, orig->proto, before, frame + off, n);
	free(before);
}

int
ww_pcapng_rewrite(int linktype, uint8_t *frame, size_t caplen,
		  bool local_is_src, ww_pcapng_scrub_fn scrub, void *scrub_arg,
		  char *err, size_t errlen)
{
	struct ww_pkt p;
	uint8_t place[16], old[16], *addr, *csum;
	struct addr_swap swap;
	size_t alen;

	if (ww_pkt_parse(linktype, frame, caplen, &p, err, errlen) < 0)
		return -1;
	if (p.family == AF_INET) {
		alen = 4;
		inet_pton(AF_INET, WW_PCAPNG_LOCAL_V4, place);
		addr = frame + p.ip_off + (local_is_src ? 12 : 16);
	} else {
		alen = 16;
		inet_pton(AF_INET6, WW_PCAPNG_LOCAL_V6, place);
		addr = frame + p.ip_off + (local_is_src ? 8 : 24);
	}
	memcpy(old, addr, alen);
	memcpy(addr, place, alen);
	/* The address is in the pseudo-header of the TCP/UDP checksum. */
	csum = l4_csum_field(frame, &p);
	l4_csum_update(csum, p.proto, old, place, alen);
	swap.old = old;
	swap.repl = place;
	swap.alen = alen;
	if (p.family == AF_INET) {
		ip4_options_swap(frame, p.ip_off + 20, p.ip_off + p.ip_hlen,
				 &swap);
		ip4_csum_recompute(frame + p.ip_off, p.ip_hlen);
	} else {
		ip6_ext_swap(frame, &p, &swap);
	}
	zero_link_addresses(linktype, frame);
	run_scrub(frame, &p, csum, scrub, scrub_arg);
	return 0;
}

/* --- the file --------------------------------------------------------------
 */

static size_t
pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static void
put_u16(FILE *f, uint16_t v)
{
	fwrite(&v, sizeof(v), 1, f);
}

static void
put_u32(FILE *f, uint32_t v)
{
	fwrite(&v, sizeof(v), 1, f);
}

static void
put_padded(FILE *f, const void *p, size_t n)
{
	static const uint8_t zeros[4];

	if (n > 0)
		fwrite(p, 1, n, f);
	fwrite(zeros, 1, pad4(n) - n, f);
}

static size_t
opt_size(size_t vlen)
{
	return 4 + pad4(vlen);
}

static void
put_opt(FILE *f, uint16_t code, const char *value)
{
	size_t n = strlen(value);

	put_u16(f, code);
	put_u16(f, (uint16_t)n);
	put_padded(f, value, n);
}

static void
write_shb(FILE *f)
{
	static const char comment[] =
		"The capturing host's address is replaced by "
		"" WW_PCAPNG_LOCAL_V4 " (IPv4) or " WW_PCAPNG_LOCAL_V6
		" (IPv6), link-layer addresses by zeros; checksums adjusted.";
	static const char appl[] = "wallwatch-probe " WW_VERSION;
	uint32_t len = (uint32_t)(28 + opt_size(sizeof(comment) - 1) +
				  opt_size(sizeof(appl) - 1) + 4);

	put_u32(f, BT_SHB);
	put_u32(f, len);
	put_u32(f, BYTE_ORDER_MAGIC);
	put_u16(f, 1); /* major */
	put_u16(f, 0); /* minor */
	put_u32(f, 0xffffffffu);
	put_u32(f, 0xffffffffu); /* section length: not given */
	put_opt(f, OPT_COMMENT, comment);
	put_opt(f, OPT_SHB_USERAPPL, appl);
	put_u16(f, OPT_END);
	put_u16(f, 0);
	put_u32(f, len);
}

static void
write_idb(FILE *f, int linktype, unsigned snaplen)
{
	/* No options: if_tsresol's default is microseconds, our unit. */
	put_u32(f, BT_IDB);
	put_u32(f, 20);
	put_u16(f, (uint16_t)linktype);
	put_u16(f, 0);
	put_u32(f, snaplen);
	put_u32(f, 20);
}

static void
write_epb(FILE *f, uint32_t iface, const struct timeval *ts,
	  const uint8_t *data, size_t caplen, size_t origlen)
{
	uint64_t us = (uint64_t)ts->tv_sec * 1000000u + (uint64_t)ts->tv_usec;
	uint32_t len = (uint32_t)(32 + pad4(caplen));

	put_u32(f, BT_EPB);
	put_u32(f, len);
	put_u32(f, iface);
	put_u32(f, (uint32_t)(us >> 32));
	put_u32(f, (uint32_t)us);
	put_u32(f, (uint32_t)caplen);
	put_u32(f, (uint32_t)origlen);
	put_padded(f, data, caplen);
	put_u32(f, len);
}

struct ww_pcapng *
ww_pcapng_open(const char *path, char *err, size_t errlen)
{
	struct ww_pcapng *w;
	struct stat st;
	FILE *f;
	int fd;

	if (path == NULL || *path == '\0') {
		ww_fail(err, errlen, "pcapng: no file name");
		return NULL;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ww_fail(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		ww_fail(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		ww_fail(err, errlen, "%s: is a directory", path);
		close(fd);
		return NULL;
	}
	/* The file holds the volunteer's traffic: 0600 even when it was
	 * there before (best effort: it may be someone else's, or a FIFO). */
	if (S_ISREG(st.st_mode))
		(void)fchmod(fd, 0600);
	f = fdopen(fd, "wb");
	if (f == NULL) {
		ww_fail(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	w = xcalloc(1, sizeof(*w));
	w->f = f;
	w->path = xstrdup(path);
	w->snaplen = WW_PCAPNG_SNAPLEN;
	write_shb(f);
	if (ferror(f)) {
		ww_fail(err, errlen, "%s: write failed", path);
		ww_pcapng_close(w, NULL, 0);
		return NULL;
	}
	return w;
}

void
ww_pcapng_set_snaplen(struct ww_pcapng *w, unsigned snaplen)
{
	w->snaplen = snaplen;
}

void
ww_pcapng_set_scrub(struct ww_pcapng *w, ww_pcapng_scrub_fn scrub, void *arg)
{
	w->scrub = scrub;
	w->scrub_arg = arg;
}

/* The interface id of linktype, writing its IDB the first time; -1 when
 * the table is full. */
static int
iface_of(struct ww_pcapng *w, int linktype)
{
	for (size_t i = 0; i < w->n_ifaces; i++)
		if (w->ifaces[i] == linktype)
			return (int)i;
	if (w->n_ifaces == MAX_IFACES)
		return -1;
	write_idb(w->f, linktype, w->snaplen);
	w->ifaces[w->n_ifaces] = linktype;
	return (int)w->n_ifaces++;
}

static int
io_failed(struct ww_pcapng *w)
{
	w->failed = true;
	snprintf(w->error, sizeof(w->error), "%s: write failed: %s", w->path,
		 errno != 0 ? strerror(errno) : "I/O error");
	return -1;
}

int
ww_pcapng_write(struct ww_pcapng *w, int linktype, const struct timeval *ts,
		const uint8_t *frame, size_t caplen, size_t origlen,
		bool local_is_src)
{
	struct timeval now;
	char perr[160];
	int iface;

	if (w->failed)
		return -1;
	w->error[0] = '\0';
	if (caplen > UINT32_MAX - 64 || frame == NULL) {
		snprintf(w->error, sizeof(w->error),
			 "frame not written: no frame or too long");
		return 1;
	}
	if (caplen > w->bufsize) {
		w->buf = xrealloc(w->buf, caplen);
		w->bufsize = caplen;
	}
	memcpy(w->buf, frame, caplen);
	if (ww_pcapng_rewrite(linktype, w->buf, caplen, local_is_src, w->scrub,
			      w->scrub_arg, perr, sizeof(perr)) < 0) {
		snprintf(w->error, sizeof(w->error), "frame not written: %s",
			 perr);
		return 1;
	}
	iface = iface_of(w, linktype);
	if (iface < 0) {
		snprintf(w->error, sizeof(w->error),
			 "frame not written: more than %d link types",
			 MAX_IFACES);
		return 1;
	}
	if (ts == NULL) {
		gettimeofday(&now, NULL);
		ts = &now;
	}
	if (origlen < caplen)
		origlen = caplen;
	if (origlen > UINT32_MAX)
		origlen = UINT32_MAX;
	if (w->snaplen > 0 && caplen > w->snaplen)
		caplen = w->snaplen;
	errno = 0;
	write_epb(w->f, (uint32_t)iface, ts, w->buf, caplen, origlen);
	if (ferror(w->f))
		return io_failed(w);
	w->count++;
	return 0;
}

const char *
ww_pcapng_error(const struct ww_pcapng *w)
{
	return w->error;
}

uint64_t
ww_pcapng_count(const struct ww_pcapng *w)
{
	return w->count;
}

int
ww_pcapng_close(struct ww_pcapng *w, char *err, size_t errlen)
{
	int rc = 0;

	if (w == NULL)
		return 0;
	errno = 0;
	if (fflush(w->f) != 0 || ferror(w->f))
		rc = ww_fail(err, errlen, "%s: write failed: %s", w->path,
			     errno != 0 ? strerror(errno) : "I/O error");
	if (fclose(w->f) != 0 && rc == 0)
		rc = ww_fail(err, errlen, "%s: close failed: %s", w->path,
			     strerror(errno));
	if (rc == 0 && w->failed)
		rc = ww_fail(err, errlen, "%s", w->error);
	free(w->path);
	free(w->buf);
	free(w);
	return rc;
}
