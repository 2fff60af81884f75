/*
 * store_pack.c - the form raw measurements are kept in, for every backend:
 * the bytes exactly as submitted, zlib-compressed (RFC 1950), beside their
 * length. A packer can run outside the store, one per thread, so that the
 * ingest compresses on its worker threads while the database's thread only
 * writes (store_meas.zraw).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST /* next_in is const */
#include <zlib.h>

#include "store.h"
#include "util.h"

/* Level 1: on the benchmark's 4 KB measurements it took 30% less time
 * than zlib's default (6) for 7% more bytes, and compression was a
 * quarter of the ingest's CPU. The window stays at 32 KiB, for the large
 * ones. */
#define ZLEVEL 1

struct store_packer {
	z_stream zs; /* made once, reset for each measurement */
	bool ready;
	unsigned char *buf; /* the last output, reused */
	size_t cap;
};

struct store_packer *
store_packer_new(void)
{
	return xcalloc(1, sizeof(struct store_packer));
}

void
store_packer_free(struct store_packer *p)
{
	if (p == NULL)
		return;
	if (p->ready)
		deflateEnd(&p->zs);
	free(p->buf);
	free(p);
}

int
store_pack(struct store_packer *p, const char *raw, size_t len, const void **z,
	   size_t *zlen, char *err, size_t errlen)
{
	z_stream *zs = &p->zs;
	uLong bound;
	int zrc;

	if (len == 0 || len > STORE_MAX_RAW) {
		snprintf(err, errlen, "raw of %zu bytes is not 1 to %zu", len,
			 STORE_MAX_RAW);
		return -1;
	}
	if (p->ready) {
		zrc = deflateReset(zs);
	} else {
		zrc = deflateInit(zs, ZLEVEL);
		p->ready = zrc == Z_OK;
	}
	if (zrc == Z_OK) {
		/* deflateBound: enough for one deflate(Z_FINISH) call */
		bound = deflateBound(zs, (uLong)len);
		if (bound > p->cap) {
			p->buf = xrealloc(p->buf, bound);
			p->cap = bound;
		}
		zs->next_in = (const Bytef *)raw;
		zs->avail_in = (uInt)len; /* <= STORE_MAX_RAW */
		zs->next_out = p->buf;
		zs->avail_out = (uInt)bound;
		zrc = deflate(zs, Z_FINISH);
		if (zrc == Z_STREAM_END) {
			*z = p->buf;
			*zlen = (size_t)(bound - zs->avail_out);
			return 0;
		}
	}
	snprintf(err, errlen, "compressing: zlib error %d", zrc);
	return -1;
}
