/*
 * tkeyset.c - a small hash set of timeline targets (tkeyset.h): open
 * addressing with linear probing, at most half full.
 */
#include "tkeyset.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

uint64_t
tkey_hash(const char *input, const char *cc, const char *asn)
{
	const char *parts[3] = {input, cc, asn};
	uint64_t h = 14695981039346656037ULL;

	for (int i = 0; i < 3; i++) {
		for (const unsigned char *c = (const unsigned char *)parts[i];
		     *c; c++)
			h = (h ^ *c) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	return h;
}

/* The slot holding the key, or the empty slot where it would go; NULL for
 * a set that never had a key. */
static size_t *
find(const struct tkeyset *ks, const char *input, const char *cc,
     const char *asn)
{
	size_t i;

	if (ks->nslot == 0)
		return NULL;
	i = (size_t)tkey_hash(input, cc, asn) & (ks->nslot - 1);
	for (;; i = (i + 1) & (ks->nslot - 1)) {
		const struct tkey *k;

		if (ks->slot[i] == 0)
			return &ks->slot[i];
		k = &ks->v[ks->slot[i] - 1];
		if (strcmp(k->input, input) == 0 && strcmp(k->cc, cc) == 0 &&
		    strcmp(k->asn, asn) == 0)
			return &ks->slot[i];
	}
}

bool
tks_has(const struct tkeyset *ks, const char *input, const char *cc,
	const char *asn)
{
	size_t *p = find(ks, input, cc, asn);

	return p != NULL && *p != 0;
}

size_t
tks_index(const struct tkeyset *ks, const char *input, const char *cc,
	  const char *asn)
{
	size_t *p = find(ks, input, cc, asn);

	return p != NULL && *p != 0 ? *p - 1 : SIZE_MAX;
}

void
tks_add(struct tkeyset *ks, const char *input, const char *cc, const char *asn)
{
	struct tkey *k;

	if (tks_has(ks, input, cc, asn))
		return;
	if (2 * (ks->n + 1) > ks->nslot) {
		size_t nslot = ks->nslot > 0 ? 2 * ks->nslot : 64;

		free(ks->slot);
		ks->slot = xcalloc(nslot, sizeof(*ks->slot));
		ks->nslot = nslot;
		for (size_t i = 0; i < ks->n; i++)
			*find(ks, ks->v[i].input, ks->v[i].cc, ks->v[i].asn) =
				i + 1;
	}
	k = WW_PUSH(ks->v, ks->n, ks->cap);
	k->input = input;
	k->cc = cc;
	k->asn = asn;
	*find(ks, input, cc, asn) = ks->n;
}

void
tks_clear(struct tkeyset *ks)
{
	free(ks->v);
	free(ks->slot);
	memset(ks, 0, sizeof(*ks));
}
