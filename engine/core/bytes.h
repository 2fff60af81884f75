/*
 * bytes.h - network byte order, hex digits and a bounded writer, for the
 * packet builders and parsers (header only: each is a line or two, used in
 * loops).
 */
#ifndef WW_BYTES_H
#define WW_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t
ww_be16(const unsigned char *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t
ww_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void
ww_put_be16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static inline void
ww_put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* The value of hex digit c (either case), or -1. */
static inline int
ww_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A bounded writer for packet builders: a write that does not fit is
 * refused and remembered (bad), so that a builder checks once, at the end,
 * and never writes past cap.
 */
struct ww_wbuf {
	unsigned char *p;
	size_t cap, n;
	bool bad;
};

static inline void
ww_wb_bytes(struct ww_wbuf *w, const void *src, size_t n)
{
	if (w->bad || n > w->cap - w->n) {
		w->bad = true;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->n, src, n);
	w->n += n;
}

static inline void
ww_wb_u8(struct ww_wbuf *w, unsigned v)
{
	unsigned char b = (unsigned char)v;

	ww_wb_bytes(w, &b, 1);
}

static inline void
ww_wb_u16(struct ww_wbuf *w, unsigned v)
{
	unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};

	ww_wb_bytes(w, b, 2);
}

static inline void
ww_wb_u32(struct ww_wbuf *w, uint32_t v)
{
	unsigned char b[4];

	ww_put_be32(b, v);
	ww_wb_bytes(w, b, 4);
}

#endif
