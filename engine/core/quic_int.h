/*
 * quic_int.h - what quic.c (building, protecting) shares with
 * quic_reply.c (opening, parsing): the AEAD and header protection
 * primitives of RFC 9001 5.3 and 5.4 over libcrypto.
 */
#ifndef WW_QUIC_INT_H
#define WW_QUIC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WW_QUIC_TAG_LEN 16

/* One piece of additional data, so a header can go in without a copy. */
struct ww_quic_aad {
	const unsigned char *p;
	size_t n;
};

/* AES-128-GCM: the aad parts, then in -> out (in place allowed). Sealing
 * writes the tag, opening checks it. 0, or -1 (libcrypto, bad tag). */
int ww_quic_gcm(bool seal, const unsigned char key[16],
		const unsigned char nonce[12], const struct ww_quic_aad *aad,
		size_t n_aad, const unsigned char *in, size_t len,
		unsigned char *out, unsigned char tag[WW_QUIC_TAG_LEN]);

/* The header protection mask: AES-128-ECB of a 16-byte sample. */
int ww_quic_hp_mask(const unsigned char hp[16], const unsigned char *sample,
		    unsigned char mask[16]);

/* The AEAD nonce of packet number pn (RFC 9001 5.3). */
void ww_quic_nonce(const unsigned char iv[12], uint64_t pn,
		   unsigned char nonce[12]);

uint32_t ww_quic_get32(const unsigned char *b);

/* snprintf into err (when errlen > 0); returns -1. */
int ww_quic_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
