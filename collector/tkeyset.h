/*
 * tkeyset.h - a small hash set of timeline targets, the key (input,
 * probe_cc, probe_asn), for both store backends: the targets a batch
 * touches or must recompute. The strings are not copied: they point into
 * the batch, which outlives the set.
 *
 * tkey_hash() is also the PostgreSQL backend's advisory-lock key of a
 * target, so every collector must compute it alike: FNV-1a over the three
 * parts, each followed by 0xff. Do not change it.
 */
#ifndef WW_TKEYSET_H
#define WW_TKEYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tkey {
	const char *input, *cc, *asn;
};

struct tkeyset {
	struct tkey *v; /* in order of first addition */
	size_t n, cap;
	size_t *slot; /* 0 empty, else index + 1 */
	size_t nslot; /* a power of two */
};

uint64_t tkey_hash(const char *input, const char *cc, const char *asn);
bool tks_has(const struct tkeyset *ks, const char *input, const char *cc,
	     const char *asn);
/* The key's index in v; SIZE_MAX when it is not there. */
size_t tks_index(const struct tkeyset *ks, const char *input, const char *cc,
		 const char *asn);
/* Add the key unless it is there. */
void tks_add(struct tkeyset *ks, const char *input, const char *cc,
	     const char *asn);
/* Free the set's arrays and empty it (the set itself is the caller's). */
void tks_clear(struct tkeyset *ks);

#endif
